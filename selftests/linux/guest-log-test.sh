#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The console readers of guest-log.sh on consoles written here, so a
# reader that misparses fails on the host and not in a long rig run. The
# first one is what the rig once printed: a kernel message that landed in
# the middle of the traffic tool's last "irq after:" line.
. "${0%/*}/../tap.sh"
. "${0%/*}/guest-log.sh"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

echo "TAP version 13"

# msix_console LAST: the traffic tool's lines for a NIC on MSI-X, with LAST
# written after the output vector's "irq after:" line, before its newline.
msix_console() {
	for w in before after; do
		c=0
		[ "$w" = after ] && c=15
		printf 'vnetloop-traffic: irq %s:  24:          0   PCI-MSI 16384-edge      virtio0-config\r\n' "$w"
		printf 'vnetloop-traffic: irq %s:  25:  %9d   PCI-MSI 16385-edge      virtio0-input.0\r\n' "$w" "$c"
		printf 'vnetloop-traffic: irq %s:  26:  %9d   PCI-MSI 16386-edge      virtio0-output.0' "$w" "$c"
		[ "$w" = after ] && printf '%s' "$1"
		printf '\r\n'
	done
	printf 'vnetloop-traffic: irq virtio0 count before=0 after=30 delta=30\r\n'
}

msix_console '[    2.162046] clocksource: Long readout interval, skipping watchdog check: cs_nsec: 1053302826 wd_nsec: 1053310532' >"$tmp/split.raw"
console_log "$tmp/split.raw" "$tmp/split.log"
grep -qx '\[    2.162046\] clocksource: Long readout interval.*' "$tmp/split.log" &&
	! grep -q "$(printf '\r')" "$tmp/split.log"
result $? "console_log: a kernel message inside a program's line goes onto its own line, without CRs" \
	"$(tr '\n' '|' <"$tmp/split.log")"

v=$(guest_vectors "$tmp/split.log")
[ "$v" = "virtio0-config +0, virtio0-input.0 +15, virtio0-output.0 +15" ]
result $? "guest_vectors: each vector and its rise, the split line's too ($v)"

# guest_msix_ok prints TAP of its own: run it in a sub-shell with its own
# counters and judge what it said.
verdicts() {
	(n=0 fails=0; guest_msix_ok t "$1" 15 16 256; echo "fails=$fails") |
		sed -n 's/^\(not ok\|ok\) [0-9]* .*/\1/p; s/^fails=//p' | tr '\n' ' '
}
v=$(verdicts "$tmp/split.log")
[ "$v" = "ok ok 0 " ]
result $? "guest_msix_ok: passes on the split console ($v)"

msix_console '' | sed 's/PCI-MSI 16386-edge      virtio0-output.0/IO-APIC   16-edge      virtio0-output.0/' >"$tmp/pin.raw"
console_log "$tmp/pin.raw" "$tmp/pin.log"
v=$(verdicts "$tmp/pin.log")
[ "$v" = "not ok ok 1 " ]
result $? "guest_msix_ok: fails when one queue's line is not a PCI-MSI vector ($v)"

printf 'vnl-init: up[    3.000000] WARNING: CPU: 0 PID: 1 at x\r\n' >"$tmp/warn.raw"
console_log "$tmp/warn.raw" "$tmp/warn.log"
v=$( (n=0 fails=0; guest_log_clean t "$tmp/warn.log" >/dev/null; echo $?) )
[ "$v" -ne 0 ]
result $? "guest_log_clean: a warning split from /init's line still makes the log unclean"

echo "1..$n"
[ "$fails" -eq 0 ]
