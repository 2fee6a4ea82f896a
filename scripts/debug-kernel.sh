#!/bin/bash
# Build the debug rig's kernel once: Debian's linux-source-6.1 (the rig's
# release) from `tinyconfig` plus scripts/debug-kernel.config (KASAN,
# lockdep, kmemleak, debugobjects...), kvm and kvm-amd built in.
#
#   debug-kernel.sh          build unless cached; print the kernel's directory
#   debug-kernel.sh --path   print the directory; exit 1 if it is not built yet
#
# The directory, $CACHE/debug-kernel/<key>/, where <key> hashes the source
# package's version, the fragment and this script (a change to one of them
# builds a new kernel; old ones stay valid), holds:
#   boot/vmlinuz-REL    the kernel (bzImage; PVH cannot boot a KASAN kernel,
#                       see the fragment)
#   config, System.map  its configuration and symbols
#   release             its release REL (uname -r)
#   build/              the O= build tree without its objects, to build
#                       out-of-tree modules: make -C DIR/build M=... modules
#                       (it refers to the source, scripts/kernel-src.sh full)
#   lib/modules/REL/    modules.builtin, modules.order... (modules_install;
#                       no modules: kvm and kvm-amd are built in), and
#                       build -> DIR/build
# which is the layout scripts/rig/fetch-kernel.sh gives a stock kernel, so
# the rig boots either (mkinitramfs.sh -K, rig.sh --kernel-root).
#
# Progress goes to stderr, the build log to $CACHE/debug-kernel/<key>.log
# (kept). One build at a time per cache (flock); the result appears
# atomically (built in <key>.tmp, renamed), and a failed or interrupted
# build leaves only its log behind. DEBUG_KERNEL_JOBS sets make's -j
# (default: the number of CPUs).
set -euo pipefail

JOBS=${DEBUG_KERNEL_JOBS:-$(nproc)}
KB_NAME=debug-kernel
KB_FRAGMENT=$(cd "$(dirname "$0")" && pwd)/debug-kernel.config
# shellcheck source=scripts/kernel-build.sh
. "$(dirname "$0")/kernel-build.sh"

mode=build
case ${1:-} in
"") ;;
--path) mode=path ;;
*) die "usage: debug-kernel.sh [--path]" ;;
esac
[ $# -le 1 ] || die "usage: debug-kernel.sh [--path]"
kb_key

built() {
	[ -f "$out/.done" ] && [ -f "$out/release" ] &&
		[ -f "$out/boot/vmlinuz-$(cat "$out/release")" ]
}
if [ "$mode" = path ]; then
	echo "$out"
	built
	exit
fi
if built; then
	echo "$out"
	exit 0
fi
kb_lock
if built; then
	echo "$out"
	exit 0
fi

tmp=$out.tmp
rm -rf "$tmp" "$out"
# Nothing half-built stays behind, whatever stops the build.
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
kb_configure "$tmp/build" "$top/$key.log"
echo "debug-kernel: building bzImage with -j$JOBS (log: $log)" >&2
kmake -j"$JOBS" bzImage modules || kb_fail "kernel build failed"
built_at=$(date +%s)
release=$(cat "$build/include/config/kernel.release") ||
	kb_fail "no include/config/kernel.release after the build"
[ -f "$build/Module.symvers" ] || kb_fail "the build left no Module.symvers"

# modules.builtin and friends, where the rig looks for a kernel's modules.
kmake INSTALL_MOD_PATH="$tmp" modules_install ||
	kb_fail "make modules_install failed"
mods=$tmp/lib/modules/$release
[ -f "$mods/modules.builtin" ] || kb_fail "modules_install left no $mods/modules.builtin"
rm -f "$mods/build" "$mods/source"
ln -s ../../../build "$mods/build"

mkdir -p "$tmp/boot"
mv "$build/arch/x86/boot/bzImage" "$tmp/boot/vmlinuz-$release"
cp "$build/.config" "$tmp/config"
cp "$build/System.map" "$tmp/System.map"
echo "$release" >"$tmp/release"
# What an out-of-tree module build does not need: the kernel's own objects
# and archives (the host tools under scripts/ and tools/ stay).
find "$build" \( -path "$build/scripts" -o -path "$build/tools" \) -prune -o \
	-type f \( -name '*.o' -o -name '*.a' -o -name '.tmp_*' \
	-o -name 'vmlinux*' -o -name '*.bin' -o -name '*.elf' \) -print0 |
	xargs -0r rm -f

# The pruned tree must still build a module: a cached kernel that cannot is
# useless. A module of a few lines, built in a scratch directory.
probe=$tmp/probe
mkdir -p "$probe"
printf 'obj-m += vnl_probe.o\n' >"$probe/Kbuild"
cat >"$probe/vnl_probe.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
static int __init vnl_probe_init(void) { return 0; }
static void __exit vnl_probe_exit(void) { }
module_init(vnl_probe_init);
module_exit(vnl_probe_exit);
MODULE_LICENSE("GPL");
EOF
make -C "$build" M="$probe" modules >>"$log" 2>&1 ||
	kb_fail "the pruned build tree cannot build a module (make -C $build M=...)"
mv_probe=$(modinfo -F vermagic "$probe/vnl_probe.ko")
case $mv_probe in
"$release "*) ;;
*) kb_fail "a module built against the tree says vermagic '$mv_probe', the kernel is $release" ;;
esac
rm -rf "$probe"

: >"$tmp/.done"
mv "$tmp" "$out"
trap - EXIT
echo "debug-kernel: $release configured in $((configured - start)) s, built in $((built_at - configured)) s: $out" >&2
echo "$out"
