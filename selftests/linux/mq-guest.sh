#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The scheduler-test shape (TAP): Debian's stock kernel (`make
# guest-distro`) under vnetloop's VMM with 4 vCPUs and a NIC of 4 queue
# pairs on virtio-pci with MSI-X, on kmod (vnetloop.ko's max_queue_pairs at
# 4 for the run), thread and inline. The guest's traffic tool sends from 4
# threads, thread i pinned to CPU i (vnl.senders=4), and virtio_net's XPS
# maps CPU i to transmit queue i; the frames of queue i come back on
# receive queue i, whose interrupt virtio_net steers to CPU i. Each run
# checks:
#  - the guest passed: every frame back intact, in order per sender;
#  - virtio_net negotiated MQ and CTRL_VQ and the guest brought up 4 CPUs;
#  - the device's counters equal the guest interface's;
#  - per queue: the guest's (ethtool -S: tx_queue_i_packets,
#    rx_queue_i_packets) equal the device's pair i (`vnetloop run --json`,
#    "per_queue"), and each queue carried its sender's share;
#  - each virtio0-input.i interrupt counted on CPU i (the per-CPU columns
#    of the guest's /proc/interrupts), at most one per line elsewhere
#    (x86 moves an interrupt when it next fires);
#  - a clean guest log.
#
#   mq-guest.sh [-b "kmod thread inline"] [-n FRAMES] [-v]
#
# Needs root, /dev/kvm, jq, build/vnetloop and build/guest-distro. Runs in
# the rig (busybox sh).

top=$(cd "$(dirname "$0")/../.." && pwd)
VNETLOOP=${VNETLOOP:-$top/build/vnetloop}
KERNEL=${KERNEL:-$top/build/guest-distro/vmlinuz}
INITRD=${INITRD:-$top/build/guest-distro/initramfs.cpio.gz}
# Debian ships System.map as a stub (the real one is in the -dbg package).
MAP=${MAP:-/nonexistent}
PAIRS=4
backends="kmod thread inline" frames=1024 size=1514 verbose=''
while getopts "b:n:v" o; do
	case $o in
	b) backends=$OPTARG ;;
	n) frames=$OPTARG ;;
	v) verbose=1 ;;
	*) echo "usage: $0 [-b BACKENDS] [-n FRAMES] [-v]" >&2
	   exit 2 ;;
	esac
done
# As linux-guest.sh: the rig's nested KVM and XSAVE.
GUEST_ARGS=${GUEST_ARGS:-noxsave}
RUN_TIMEOUT=${RUN_TIMEOUT:-120}

echo "TAP version 13"
. "${0%/*}/../tap.sh"
. "${0%/*}/guest-log.sh"
guest_require "make guest-distro" "make guest-distro"

tmp=$(mktemp -d) || exit 1
param=/sys/module/vnetloop/parameters/max_queue_pairs
was=$(cat "$param" 2>/dev/null)
trap '[ -n "$was" ] && echo "$was" >"$param"; rm -rf "$tmp"' EXIT

# queue_lines LOG: "I TX RX" per queue, from the tool's "queue" lines.
queue_lines() {
	sed -n 's/^vnetloop-traffic: queue \([0-9]*\) tx_packets=\([0-9]*\) rx_packets=\([0-9]*\)$/\1 \2 \3/p' "$1"
}

# irqs_on_own_cpus LOG: "on off" over every virtio0-input.i line, its
# interrupts during the run on CPU i and on the others.
irqs_on_own_cpus() {
	awk '/vnetloop-traffic: irq (before|after): / &&
		$NF ~ /^virtio0-input\.[0-9]+$/ {
		q = $NF; sub(/.*\./, "", q)
		for (i = 5; i <= NF && $i ~ /^[0-9]+$/; i++)
			v[$3, q, i - 5] = $i
		ncpu = i - 5
		seen[q] = 1
	}
	END {
		for (q in seen)
			for (c = 0; c < ncpu; c++) {
				d = v["after:", q, c] - v["before:", q, c]
				if (c == q)
					on += d
				else
					off += d
				if (c == q && d < 1)
					missing++
			}
		printf "%d %d %d %d", on, off, length(seen), missing
	}' "$1"
}

for b in $backends; do
	t="$b-pci-$PAIRS-pairs"
	log=$tmp/$t.log json=$tmp/$t.json
	if [ "$b" = kmod ]; then
		if ! [ -c /dev/vnetloop ] || ! echo "$PAIRS" >"$param"; then
			not_ok "$t: cannot set $param to $PAIRS (vnetloop.ko loaded?)"
			continue
		fi
	fi
	timeout -s TERM "$RUN_TIMEOUT" "$VNETLOOP" run --backend "$b" --json \
		--transport pci --vcpus "$PAIRS" --queue-pairs "$PAIRS" \
		--mem 512 --kernel "$KERNEL" --initrd "$INITRD" \
		--cmdline "$GUEST_ARGS vnl.frames=$frames vnl.size=$size vnl.senders=$PAIRS" \
		>"$json" 2>"$tmp/$t.raw"
	rc=$?
	[ "$b" = kmod ] && echo "$was" >"$param"
	console_log "$tmp/$t.raw" "$log"
	[ -z "$verbose" ] || sed 's/^/# /' "$log"
	grep -E 'smp: Brought up|vnl-init: (virtio|vnetloop)|vnetloop-traffic: (sending|irq after|queue|frames|.* counters|PASS|FAIL)|VNETLOOP-GUEST-RESULT' \
		"$log" | sed 's/^/# /'
	jq -c '.per_queue // [] | map({pair, tx_packets, rx_packets})' "$json" 2>/dev/null |
		sed "s/^/# $t: device per queue: /"

	[ "$rc" -eq 0 ] && grep -q '^VNETLOOP-GUEST-RESULT: PASS' "$log"
	result $? "$t: vnetloop exits 0 and the guest printed PASS" \
		"exit status $rc; $(tail -n 3 "$log" | tr '\n' '|')"

	line=$(grep -m1 '^vnl-init: virtio0 at ' "$log")
	f=${line##* features }
	[ "$(echo "$f" | cut -c18)" = 1 ] && [ "$(echo "$f" | cut -c23)" = 1 ] &&
		grep -q "smp: Brought up 1 node, $PAIRS CPUs" "$log"
	result $? "$t: virtio_net took MQ and CTRL_VQ, the guest brought up $PAIRS CPUs" \
		"features '$f'"

	guest_frames_ok "$t" "$log" "$frames" "$size"
	guest_counters_ok "$t" "$log" "$frames" "$size" \
		"$(jq -r '.counters.tx_packets // empty' "$json")" \
		"$(jq -r '.counters.tx_bytes // empty' "$json")" \
		"$(jq -r '.counters.rx_packets // empty' "$json")" \
		"$(jq -r '.counters.rx_bytes // empty' "$json")"

	# Per queue: the guest's and the device's, and each sender's share.
	queue_lines "$log" >"$tmp/q"
	bad='' nq=0
	while read -r q gtx grx; do
		nq=$((nq + 1))
		dtx=$(jq -r --argjson q "$q" '.per_queue[$q].tx_packets // empty' "$json")
		drx=$(jq -r --argjson q "$q" '.per_queue[$q].rx_packets // empty' "$json")
		is "$gtx" "$dtx" && is "$grx" "$drx" && is "$gtx" $((frames / PAIRS)) ||
			bad="$bad queue $q: guest $gtx/$grx device ${dtx:-?}/${drx:-?};"
	done <"$tmp/q"
	[ "$nq" -eq "$PAIRS" ] && [ -z "$bad" ]
	result $? "$t: each queue's guest counters equal its pair's on the device, $((frames / PAIRS)) frames each ($nq queues)" \
		"$bad"

	set -- $(irqs_on_own_cpus "$log")
	[ "${3:-0}" -eq "$PAIRS" ] && [ "${4:-1}" -eq 0 ] && [ "${2:-99}" -le "$PAIRS" ]
	result $? "$t: each virtio0-input.i counted on CPU i ($1 there, $2 elsewhere, over ${3:-0} queues)" \
		"$(grep 'irq after: .*input' "$log" | tr '\n' '|')"

	guest_log_clean "$t" "$log"
done

echo "1..$n"
[ "$fails" -eq 0 ]
