#!/bin/bash
# Copy the tree's files to DEST (a new or empty directory), for builds and
# tests that must not touch the tree: the files git knows, uncommitted
# changes and new files included, ignored ones (objects, build/) not. A tree
# without git (an unpacked source package) is copied whole, minus build/
# and what the builds leave.
#
#   package-tree.sh DEST
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:?usage: package-tree.sh DEST}
mkdir -p "$dest" || exit 1
cd "$top" || exit 1
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			# Deleted but not yet committed: gone.
			if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
		done | tar --null -T - -cf - | tar -xf - -C "$dest"
else
	tar --exclude=./build --exclude=./.git --exclude='*.o' --exclude='*.ko' \
		--exclude='.*.cmd' --exclude='*.mod' --exclude='*.mod.c' \
		-cf - . | tar -xf - -C "$dest"
fi
