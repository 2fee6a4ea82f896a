#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# `vnetloop run` in the rig (TAP): the built-in guest under nested KVM on all
# three backends, with vnetloop.ko loaded.
#  - the backends behind the transport without KVM, kmod's against the
#    module (backend_kmod_test: selftests/vmm/backend_test.c's kmod variant);
#  - every scenario on kmod, thread and inline, over virtio-mmio and
#    virtio-pci with MSI-X, the same 16 contract counters across them,
#    exits where they belong (selftests/vmm/scenarios.sh; INTx runs on the
#    host only);
#  - a VMM killed with SIGKILL during kmod traffic leaves the module clean:
#    its device disappears and the next run works (the rig then checks that
#    rmmod succeeds and debugfs is empty).
# The devices and their counters come from netlink (`vnetloop stats --json`),
# as for any program; debugfs is for people.
# The emulated CPU is slow: few, small frames.
top=$(cd "$(dirname "$0")/../.." && pwd)
VNETLOOP=${VNETLOOP:-$top/build/vnetloop}
export VNETLOOP

echo "TAP version 13"
. "$top/selftests/tap.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
[ -c /dev/kvm ] || skip_all "no /dev/kvm (kvm-amd did not load)"
[ -c /dev/vnetloop ] || skip_all "no /dev/vnetloop (vnetloop.ko not loaded)"
command -v jq >/dev/null || skip_all "needs jq"

# jq FILTER over the array of `vnetloop stats --json` ([] without devices).
devices() {
	"$VNETLOOP" stats --json 2>/dev/null | jq -s "(.[0] // []) | $1"
}

out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
BACKEND_TEST=${BACKEND_TEST:-$top/build/selftests/vmm/backend_kmod_test}
if [ -x "$BACKEND_TEST" ]; then
	"$BACKEND_TEST" >"$out" 2>&1
	tap_sub backend_kmod_test $? <"$out"
else
	not_ok "backend_kmod_test: $BACKEND_TEST is missing"
fi

# The scenarios, as a TAP stream folded into ours.
"$top/selftests/vmm/scenarios.sh" -b "kmod thread inline" -t "mmio pci" \
	-n 64 -s 512 -B 8 >"$out" 2>&1
tap_sub scenarios $? <"$out"

# SIGKILL during kmod traffic.
before=$(devices length)
"$VNETLOOP" run --backend kmod --frames 100000000 --frame-size 64 \
	>/tmp/vnl-kill.out 2>&1 &
pid=$!
flowing=
for _ in $(seq 1 300); do
	tx=$(devices 'map(.tx_packets) | max // 0')
	[ "${tx:-0}" -gt 0 ] && flowing=$tx && break
	sleep 0.2
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null
if [ -n "$flowing" ]; then
	ok "kmod: traffic flowing ($flowing frames) when the VMM is killed"
else
	not_ok "kmod: traffic flowing before the kill"
	sed 's/^/# /' /tmp/vnl-kill.out
fi
gone=
for _ in $(seq 1 50); do
	[ "$(devices length)" -eq "$before" ] && gone=1 && break
	sleep 0.2
done
if [ -n "$gone" ]; then
	ok "kmod: the killed VMM's device is gone"
else
	not_ok "kmod: the killed VMM's device is gone: devices $(devices 'map(.dev_id) | join(" ")')"
fi
if "$VNETLOOP" run --backend kmod --frames 32 --frame-size 256 \
	>/tmp/vnl-after.out 2>&1; then
	ok "kmod: the next run works"
else
	not_ok "kmod: the next run works"
	sed 's/^/# /' /tmp/vnl-after.out
fi
rm -f /tmp/vnl-kill.out /tmp/vnl-after.out
echo "1..$n"
[ "$fails" -eq 0 ]
