#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The vhost-net peer in the rig (TAP): `vnetloop run --backend vhost-net`,
# the kernel's vhost-net on a tap that tc loops back (Documentation/
# vmm.rst), carries the built-in guest's traffic over virtio-mmio and
# virtio-pci: every frame back intact, the tap's tx and rx counters equal
# to the guest's count. Each line shows the CPU time per frame of vhost's
# kthread. Then a smoke run of the guest-less benchmark (bench/devbench.c)
# on kmod, vhost-net and thread. Needs root, /dev/kvm, /dev/vhost-net,
# /dev/net/tun, /dev/vnetloop, tc and jq;
# the stock rig kernel has them (the debug rig's kernel has no vhost-net,
# so it leaves this test out).
top=$(cd "$(dirname "$0")/../.." && pwd)
VNETLOOP=${VNETLOOP:-$top/build/vnetloop}

echo "TAP version 13"
. "$top/selftests/tap.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
[ -c /dev/kvm ] || skip_all "no /dev/kvm (kvm-amd did not load)"
[ -c /dev/vhost-net ] || skip_all "no /dev/vhost-net (vhost_net not loaded)"
[ -c /dev/vnetloop ] || skip_all "no /dev/vnetloop (vnetloop.ko not loaded)"
command -v tc >/dev/null || skip_all "needs tc (iproute2)"
command -v jq >/dev/null || skip_all "needs jq"

out=$(mktemp) || exit 1
err=$(mktemp) || exit 1
trap 'rm -f "$out" "$err"' EXIT
for tr in mmio pci; do
	t="vhost-net over $tr"
	"$VNETLOOP" run --backend vhost-net --transport "$tr" --frames 2000 \
		--frame-size 1500 --json >"$out" 2>"$err"
	rc=$?
	if [ "$rc" -eq 0 ] && jq -e '.counters_match and
	    .guest.frames_verified == 2000 and .counters.tx_packets == 2000 and
	    .counters.rx_packets == 2000 and (.counters | length) == 4' \
	    "$out" >/dev/null; then
		ok "$t: 2000 frames back intact, the tap's counters equal the guest's ($(jq -r '.cpu.device | "device \(.us_per_frame) us/frame, \(.name)"' "$out"))"
	else
		not_ok "$t: vnetloop run exited $rc"
		sed 's/^/# /' "$err"
		jq -c '{result, guest, counters}' "$out" 2>/dev/null | sed 's/^/# /'
	fi
done
# A smoke run of the guest-less benchmark (make perf) on each device:
# it completes and finds the device's thread and its CPU time.
DEVBENCH=${DEVBENCH:-$top/build/bench/vnl_devbench}
for b in kmod vhost-net thread; do
	line=$("$DEVBENCH" --backend "$b" --frames 2000 --warmup 200 2>"$err")
	rc=$?
	dev=$(echo "$line" | sed -n 's/.* device_us_per_frame=\([0-9.]*\) .*/\1/p')
	[ "$rc" -eq 0 ] && [ -n "$dev" ] && awk -v d="$dev" 'BEGIN { exit !(d > 0) }'
	result $? "vnl_devbench --backend $b: 2000 frames, the device's CPU measured ($line)" \
		"exit status $rc: $(tr '\n' '|' <"$err")"
done

# Nothing left behind: the tap went with the VMM.
left=$(ls /sys/class/net | grep '^vnl' | tr '\n' ' ')
[ -z "$left" ]
result $? "no tap left after the runs" "$left"
echo "1..$n"
[ "$fails" -eq 0 ]
