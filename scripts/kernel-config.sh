#!/bin/sh
# Configure a kernel build directory from tinyconfig plus a fragment, and
# insist that every line of the fragment survived: Kconfig silently drops a
# symbol whose dependencies are unmet. Shared by scripts/guest-kernel.sh and
# scripts/debug-kernel.sh.
#
#   kernel-config.sh SRC BUILD FRAGMENT
#
# make's output goes to stdout; what went wrong to stderr. Exit status 0, or
# 1 with the reason (for a fragment line that did not apply: what it asked
# and what the configuration has instead).
set -eu
[ $# -eq 3 ] || { echo "usage: kernel-config.sh SRC BUILD FRAGMENT" >&2; exit 2; }
src=$1 build=$2 fragment=$3

die() {
	echo "kernel-config: $*" >&2
	exit 1
}

make -C "$src" O="$build" ARCH=x86_64 tinyconfig ||
	die "make tinyconfig failed (is $src clean?)"
"$src/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" \
	"$fragment" || die "merge_config.sh failed"
make -C "$src" O="$build" ARCH=x86_64 olddefconfig ||
	die "make olddefconfig failed"

bad=
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=* | "# CONFIG_"*" is not set") want=$line ;;
	*) continue ;;
	esac
	sym=$(echo "$want" | sed -n 's/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1/p;s/^\(CONFIG_[A-Za-z0-9_]*\)=.*/\1/p')
	grep -qxF "$want" "$build/.config" && continue
	# "not set" is also satisfied by a symbol that is absent.
	case "$want" in
	"# "*) grep -q "^$sym=" "$build/.config" || continue ;;
	esac
	got=$(grep -E "^($sym=|# $sym is not set)" "$build/.config" || echo "absent")
	bad="$bad
  want '$want', got '$got'"
done <"$fragment"
[ -z "$bad" ] || die "$fragment did not apply (unmet dependencies?):$bad"
