#!/bin/bash
# The README's two commands on a fresh machine: a new Debian 12 chroot with
# only the toolchain such a machine ships, an empty cache, this tree copied
# in, then `make demo` and `make check` in the given order. Prints TAP.
#
#   fresh-machine.sh [ORDER...]    ORDER: demo-check (default) or check-demo
#
# The base chroot is cached (scripts/chroot.sh); each order runs in a
# throwaway copy of it, removed afterwards. Inside, make check leaves out
# the steps that make chroots of their own (they would nest; the outer run
# does them), this one, and the debug rig (with an empty cache each order
# would build the debug kernel again, the longest part of a cold check;
# the packages a kernel build needs are in scripts/deps.sh, and the inner
# check's guest kernel uses most of them). Logs: build/fresh-machine/ORDER.log.
# Needs root (chroot, mounts), network to the Debian archive, /dev/kvm.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
CACHE=${CACHE:-$HOME/.cache/vnetloop}
export CACHE
out=$top/build/fresh-machine
orders=("$@")
[ ${#orders[@]} -gt 0 ] || orders=(demo-check)
# What this kind of machine ships (not what the project installs).
base_pkgs=(build-essential git python3 valgrind gdb strace ca-certificates)
nested="55-debug-rig 60-matrix 70-packages 80-fresh-machine"
# shellcheck source=selftests/tap.sh
. selftests/tap.sh

echo "TAP version 13"
mkdir -p "$out"
base=$(scripts/chroot.sh make bookworm "${base_pkgs[@]}" 2>"$out/base.log")
rc=$?
if [ $rc -eq 3 ]; then
	echo "ok 1 fresh machine # SKIP $(tail -1 "$out/base.log")"
	echo "1..1"
	exit 0
elif [ $rc -ne 0 ]; then
	tail -5 "$out/base.log" | sed 's/^/# /'
	echo "not ok 1 fresh machine: making the bookworm chroot failed"
	echo "1..1"
	exit 1
fi

# The tree as git sees it (tracked and new files, not ignored ones).
tree=$(mktemp -d) || exit 1
git ls-files -z -co --exclude-standard | xargs -0 -I{} sh -c \
	'[ -e "$1" ] && mkdir -p "$2/$(dirname "$1")" && cp -a "$1" "$2/$1"' \
	_ {} "$tree"
cp -a .git "$tree/.git"

for order in "${orders[@]}"; do
	case $order in
	demo-check) cmds=(demo check) ;;
	check-demo) cmds=(check demo) ;;
	*) echo "fresh-machine: unknown order '$order'" >&2; exit 2 ;;
	esac
	root=$CACHE/chroot/fresh-$order
	log=$out/$order.log
	scripts/chroot.sh remove "$root" || exit 1
	cp -a "$base" "$root" || { not_ok "$order: copying the chroot"; continue; }
	mkdir -p "$root/root/vnetloop"
	cp -a "$tree/." "$root/root/vnetloop/"
	: >"$log"
	for c in "${cmds[@]}"; do
		start=$(date +%s)
		scripts/chroot.sh run "$root" -- env \
			VNL_CHECK_EXCLUDE="$nested" \
			VNL_CHECK_EXCLUDE_WHY="makes chroots or builds the debug kernel cold; the outer make check runs it" \
			sh -c "cd /root/vnetloop && make $c" >>"$log" 2>&1
		rc=$?
		secs=$(($(date +%s) - start))
		summary=
		[ "$c" = check ] && summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -1)
		[ "$c" = demo ] && summary=$(grep -E '^demo: ' "$log" | tail -1)
		if [ $rc -eq 0 ]; then
			ok "$order: make $c in a new bookworm chroot, empty cache (${secs}s${summary:+: $summary})"
		else
			tail -15 "$log" | sed 's/^/# /'
			not_ok "$order: make $c failed (exit $rc after ${secs}s; $log)"
			break
		fi
	done
	scripts/chroot.sh remove "$root"
done
rm -rf "$tree"
echo "1..$n"
[ "$fails" -eq 0 ]
