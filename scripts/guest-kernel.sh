#!/bin/bash
# Build the small x86-64 guest kernel (bzImage) for the Linux-guest scenario
# from Debian's linux-source-6.1 and scripts/guest-kernel.config, once.
#
#   guest-kernel.sh          build unless cached; print the bzImage path
#   guest-kernel.sh --path   print the path; exit 1 if it is not built yet
#
# The source is the tree scripts/kernel-src.sh extracts once into the cache;
# objects go to $CACHE/guest-kernel/<key>.build (O=), which is removed after
# a successful build. The result lives in $CACHE/guest-kernel/<key>/
# (bzImage, config, System.map); scripts/kernel-build.sh says what the key
# hashes. Progress goes to stderr, the build log to
# $CACHE/guest-kernel/<key>.log.
set -euo pipefail

JOBS=${GUEST_KERNEL_JOBS:-2}
KB_NAME=guest-kernel
KB_FRAGMENT=$(cd "$(dirname "$0")" && pwd)/guest-kernel.config
KB_KEEP_NOTE="; objects kept in the .build folder"
# shellcheck source=scripts/kernel-build.sh
. "$(dirname "$0")/kernel-build.sh"

kb_key
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
kb_lock
if [ -f "$out/bzImage" ]; then
	echo "$out/bzImage"
	exit 0
fi

rm -rf "$top/$key.build" "$out.tmp"
kb_configure "$top/$key.build" "$top/$key.log"
echo "guest-kernel: building bzImage with -j$JOBS (log: $log)" >&2
kmake -j"$JOBS" bzImage || kb_fail "kernel build failed"
built=$(date +%s)

mkdir -p "$out.tmp"
cp "$build/arch/x86/boot/bzImage" "$build/.config" "$build/System.map" \
	"$out.tmp/"
mv "$out.tmp/.config" "$out.tmp/config"
mv "$out.tmp" "$out"
rm -rf "$build"
echo "guest-kernel: configured in $((configured - start)) s, built in $((built - configured)) s, $(stat -c %s "$out/bzImage") bytes: $out/bzImage" >&2
echo "$out/bzImage"
