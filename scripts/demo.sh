#!/bin/bash
# `make demo`: the loopback NIC end to end, from a fresh machine.
#
# Installs what is missing (scripts/deps.sh), builds the tree and
# vnetloop.ko, then boots the rig (Debian's 6.1 kernel under qemu, see
# Documentation/testing.rst): its /init loads vnetloop.ko and kvm-amd, and
# `vnetloop run --backend kmod` runs the built-in guest, whose frames go
# through the module's worker. While the traffic flows the demo shows the
# device's counters (`vnetloop stats`, over netlink); at the end, the VMM's
# summary with the counters it read the same way just before closing the
# device (closing destroys it). The demo ends by checking
#     tx_packets == rx_packets == frames sent.
#
# Environment: GUEST (builtin, or linux), DEMO_FRAMES (default 20000; 2000
# with GUEST=linux), DEMO_FRAME_SIZE (1024), DEMO_BATCH (16; not for linux);
# RIG_* as for scripts/rig/rig.sh. The rig is the way
# wherever the host cannot load modules; on a host that can, see
# Documentation/vmm.rst ("Without the rig").
set -euo pipefail
cd "$(dirname "$0")/.."
frames=${DEMO_FRAMES:-20000}
size=${DEMO_FRAME_SIZE:-1024}
batch=${DEMO_BATCH:-16}
out=build/demo
say() { printf '\n== %s\n' "$*"; }

# GUEST=linux boots the guest kernel of user/guest-linux/ instead: its own
# virtio_net driver sends the frames (Documentation/linux-guest.rst).
guest=${GUEST:-builtin} files=
case $guest in
builtin) ;;
linux)
	frames=${DEMO_FRAMES:-2000}
	files=" build/guest-linux/bzImage build/guest-linux/initramfs.cpio.gz" ;;
*)
	echo "demo: GUEST=${GUEST} is not available: builtin or linux" >&2
	exit 2 ;;
esac

say "installing what is missing (scripts/deps.sh)"
scripts/deps.sh
say "building (make all, make modules)"
make --no-print-directory -j2 all >/dev/null
make --no-print-directory modules >/dev/null
[ "$guest" = builtin ] || make --no-print-directory guest-kernel
mkdir -p "$out"
say "packing the rig's initramfs: vnetloop.ko, kvm, kvm-amd, vnetloop"
scripts/rig/mkinitramfs.sh -o "$out/initramfs.cpio.gz" -m "$PWD/vnetloop.ko" \
	-f "build/vnetloop$files"

# What runs inside the rig (busybox sh, cwd /rig, vnetloop.ko loaded).
run="vnetloop run --backend kmod --frames $frames --frame-size $size --batch $batch"
# The Linux guest's tool reads its settings from the kernel command line;
# noxsave: see selftests/linux/linux-guest.sh.
[ "$guest" = builtin ] ||
	run="vnetloop run --backend kmod --kernel build/guest-linux/bzImage --initrd build/guest-linux/initramfs.cpio.gz --cmdline 'noxsave vnl.frames=$frames vnl.size=$size'"
read -r -d '' cmds <<INSIDE || true
echo "rig: kernel \$(uname -r), modules: \$(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
$run >/tmp/run.txt 2>&1 &
pid=\$!
shown=
while kill -0 \$pid 2>/dev/null; do
	if [ -z "\$shown" ] && vnetloop stats >/tmp/stats.txt 2>/dev/null; then
		tx=\$(awk '\$1 == "tx_packets" { print \$2; exit }' /tmp/stats.txt)
		if [ "\${tx:-0}" -gt 0 ]; then
			echo "== vnetloop stats while the guest sends:"
			cat /tmp/stats.txt
			shown=1
		fi
	fi
	sleep 0.1
done
wait \$pid
rc=\$?
echo "== $run (exit status \$rc):"
cat /tmp/run.txt
exit \$rc
INSIDE

say "booting the rig and running the guest on the kmod backend"
RIG_OUT=$out scripts/rig/rig.sh --initrd "$out/initramfs.cpio.gz" \
	--run "$cmds" | tee "$out/output.txt"

# The VMM's counters are the module's, read over netlink before close; its
# summary comes last, so its tx_packets and rx_packets lines are the last.
sent=$(sed -n -e 's/^frames: sent \([0-9]*\),.*/\1/p' \
	-e 's/.*vnetloop-traffic: frames sent=\([0-9]*\) .*/\1/p' "$out/output.txt")
tx=$(awk '$1 == "tx_packets" { print $2 }' "$out/output.txt" | tail -n 1)
rx=$(awk '$1 == "rx_packets" { print $2 }' "$out/output.txt" | tail -n 1)
say "result"
if [ -n "$sent" ] && [ "$sent" = "$frames" ] && [ "$tx" = "$sent" ] &&
	[ "$rx" = "$sent" ]; then
	echo "demo: OK: tx_packets $tx == rx_packets $rx == frames sent $sent"
else
	echo "demo: FAILED: tx_packets ${tx:-?}, rx_packets ${rx:-?}, frames sent ${sent:-?} (want $frames)"
	exit 1
fi
