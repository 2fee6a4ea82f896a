#!/bin/sh
# Extract parts of Debian's linux-source-6.1 tarball into the cache, once.
#   kernel-src.sh tools   -> kselftest headers + checkpatch; prints the dir
#   kernel-src.sh full    -> the whole tree (guest kernel build); prints the dir
# Once extracted, the tarball is no longer needed (a chroot of another
# release builds the selftests with the host's extracted headers).
set -e
CACHE=${CACHE:-$HOME/.cache/vnetloop}
tarball=/usr/src/linux-source-6.1.tar.xz
mode=${1:-tools}
case "$mode" in
tools)
	dir=$CACHE/linux-6.1-tools
	members="linux-source-6.1/tools/testing/selftests/kselftest.h
linux-source-6.1/tools/testing/selftests/kselftest_harness.h
linux-source-6.1/scripts/checkpatch.pl
linux-source-6.1/scripts/spelling.txt
linux-source-6.1/scripts/const_structs.checkpatch"
	;;
full)
	dir=$CACHE/linux-6.1-src
	members=linux-source-6.1
	;;
*)
	echo "usage: kernel-src.sh tools|full" >&2
	exit 2
	;;
esac
if [ -f "$dir/.done" ]; then
	echo "$dir"
	exit 0
fi
[ -f "$tarball" ] || {
	echo "kernel-src.sh: $tarball missing (apt-get install linux-source-6.1)" >&2
	exit 1
}
mkdir -p "$CACHE"
# Parallel make runs this more than once: extract under a lock.
exec 9>"$CACHE/.kernel-src.lock"
flock 9
if [ ! -f "$dir/.done" ]; then
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp"
	# shellcheck disable=SC2086
	tar -xJf "$tarball" -C "$dir.tmp" --strip-components=1 $members
	touch "$dir.tmp/.done"
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
fi
echo "$dir"
