#!/bin/sh
# Build the small x86-64 guest kernel (bzImage) for the Linux-guest scenario
# from Debian's linux-source-6.1 and scripts/guest-kernel.config, once.
#
#   guest-kernel.sh          build unless cached; print the bzImage path
#   guest-kernel.sh --path   print the path; exit 1 if it is not built yet
#
# The source is the tree scripts/kernel-src.sh extracts once into the cache;
# objects go to $CACHE/guest-kernel/<key>.build (O=), which is removed after
# a successful build. The result lives in $CACHE/guest-kernel/<key>/
# (bzImage, config, System.map), where <key> hashes the source package
# version, the fragment and this script, so any change to one of them builds
# a new kernel and old ones stay valid. Progress goes to stderr, the build
# log to $CACHE/guest-kernel/<key>.log.
set -eu

CACHE=${CACHE:-$HOME/.cache/vnetloop}
JOBS=${GUEST_KERNEL_JOBS:-2}
here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/guest-kernel.config
tarball=/usr/src/linux-source-6.1.tar.xz

die() {
	echo "guest-kernel: $*" >&2
	exit 1
}

[ -f "$tarball" ] ||
	die "$tarball missing (apt-get install linux-source-6.1)"
[ -f "$fragment" ] || die "$fragment missing"

# The package version names the exact source (upstream + Debian patches); the
# tarball's size and mtime stand in when it was not installed by dpkg.
version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) ||
	version=$(stat -c 'size %s mtime %Y' "$tarball")
key=$({
	echo "linux-source-6.1 $version"
	cat "$fragment" "$0" "$here/kernel-config.sh"
} | sha256sum | cut -c1-16)

top=$CACHE/guest-kernel
out=$top/$key
if [ "${1:-}" = "--path" ]; then
	echo "$out/bzImage"
	[ -f "$out/bzImage" ]
	exit
fi
[ $# -eq 0 ] || die "usage: guest-kernel.sh [--path]"

if [ -f "$out/bzImage" ]; then
	echo "$out/bzImage"
	exit 0
fi

mkdir -p "$top"
# One build at a time per cache; a second caller waits, then finds the result.
exec 9>"$top/.lock"
flock 9
if [ -f "$out/bzImage" ]; then
	echo "$out/bzImage"
	exit 0
fi

build=$top/$key.build
log=$top/$key.log
rm -rf "$build" "$out.tmp"
mkdir -p "$build"
: >"$log"
start=$(date +%s)

fail() {
	echo "guest-kernel: $* (last lines of $log follow; objects kept in $build)" >&2
	tail -n 30 "$log" >&2
	exit 1
}

# The source tree is shared and read-only here: objects go to $build (O=).
src=$("$here/kernel-src.sh" full) || die "cannot extract $tarball"
tree=$(sed -n 's/^VERSION = //p;s/^PATCHLEVEL = //p;s/^SUBLEVEL = //p' \
	"$src/Makefile" | paste -sd.)
case "$version" in
"$tree"-* | "$tree" | size*) ;;
*) die "$src holds $tree but linux-source-6.1 is $version: remove $src" ;;
esac

kmake() {
	make -C "$src" O="$build" ARCH=x86_64 KBUILD_BUILD_USER=vnetloop \
		KBUILD_BUILD_HOST=vnetloop \
		KBUILD_BUILD_TIMESTAMP="linux-source-6.1 $version" "$@" \
		>>"$log" 2>&1
}

echo "guest-kernel: configuring (tinyconfig + $fragment)" >&2
"$here/kernel-config.sh" "$src" "$build" "$fragment" >>"$log" 2>&1 ||
	fail "configuring failed"

configured=$(date +%s)
echo "guest-kernel: building bzImage with -j$JOBS (log: $log)" >&2
kmake -j"$JOBS" bzImage || fail "kernel build failed"
built=$(date +%s)

mkdir -p "$out.tmp"
cp "$build/arch/x86/boot/bzImage" "$build/.config" "$build/System.map" \
	"$out.tmp/"
mv "$out.tmp/.config" "$out.tmp/config"
mv "$out.tmp" "$out"
rm -rf "$build"
echo "guest-kernel: configured in $((configured - start)) s, built in $((built - configured)) s, $(stat -c %s "$out/bzImage") bytes: $out/bzImage" >&2
echo "$out/bzImage"
