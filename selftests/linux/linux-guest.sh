#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# A real Linux guest drives the loopback NIC (TAP): `vnetloop run --kernel`
# boots build/guest-linux/bzImage with build/guest-linux/initramfs.cpio.gz,
# whose /init runs vnetloop-traffic over the guest's own virtio_net driver
# (Documentation/linux-guest.rst). First the setup errors (exit status and
# message for a bad command line, a missing or unbootable kernel, too little
# memory). Then for each transport (pci, the default for Linux guests, and
# mmio) and backend (kmod, thread, inline):
#  - vnetloop exits 0 and the guest printed VNETLOOP-GUEST-RESULT: PASS;
#  - its JSON has "phase": null (a Linux guest sends no marks);
#  - the guest found the device (virtio-pci at 00:01.0, or virtio-mmio from
#    the command line) and virtio_net bound to it;
#  - N frames went out and came back, every one verified, once, in order;
#  - the device's tx_packets/tx_bytes and rx_packets/rx_bytes (the VMM's
#    counters, `--json`) equal the guest interface's statistics and N;
#  - pci: the NIC's interrupts are its three MSI-X vectors (config,
#    input.0, output.0), the device raised at most one interrupt per drain
#    and the guest's counts rose (guest_msix_ok, guest-log.sh);
#  - mmio: the NIC's line in the guest's /proc/interrupts is "IO-APIC
#    5-edge virtio0" (the MP table routes ISA IRQ 5 through the I/O APIC),
#    and what follows;
#  - interrupts, per drain: a drain that completes buffers the driver asked
#    to hear about raises one interrupt, and no drain raises more,
#    so the device's `interrupts` counter is at least 1 and at most its
#    drains (`worker_runs`). The guest's line rises with them: by at least
#    one during the run, by no more than the device raised (nothing else
#    drives GSI 5), and each interrupt it counts ran virtio-mmio's handler
#    (one InterruptStatus read and one InterruptACK each, as the VMM counted
#    them). An interrupt whose InterruptStatus read found nothing brought
#    no work of the device's (the rig's nested KVM was once seen to run the
#    handler 257 times for 256 raises); the VMM counts such reads
#    (isr_empty_reads), and the check shows them without counting them
#    against the device. It may count fewer than the device raised, because edges
#    merge on the way: KVM injects an irqfd signal for an I/O APIC pin from
#    a work item, and a signal that arrives while that work is still
#    pending adds nothing (likewise an edge raised while the previous one
#    still waits in the local APIC's IRR). The one handler run then finds
#    the work of both drains. The TAP line shows how many merged. With
#    kmod the module's interrupts bypass the VMM (irqfd) and the module
#    keeps no interrupt status, so the VMM makes InterruptStatus up: VRING
#    when a used ring moved since the last read that showed VRING
#    (Documentation/vmm.rst). A read that finds nothing is then, as on the
#    other backends, one whose work an earlier handler took or one that is
#    not the device's, so the same checks hold for all three;
#  - the guest log has no "nobody cared", no spurious or unexpected
#    interrupt, no virtio error, warning, oops or panic.
# Then a run without EVENT_IDX (kmod), one on pci without MSI-X (the INTx,
# I/O APIC pin 16, with the pin checks above), one whose tool must fail (an
# interface that does not exist) and one whose kernel panics (no init): both
# must make vnetloop exit 1.
#
#   linux-guest.sh [-b "kmod thread inline"] [-t "pci mmio"] [-c VCPUS]
#                  [-q CPU] [-n FRAMES] [-s SIZE] [-v] [-x]
#
# -x runs the traffic runs only (for another guest kernel: see
# distro-guest.sh); -c boots the guest with that many vCPUs; -q has the
# guest steer the NIC's queue interrupts to that CPU, and checks that they
# all landed there. GUEST_MEM (MiB, default 64) sizes the guest.
#
# Needs root, /dev/kvm, jq, build/vnetloop, the guest kernel (`make
# guest-kernel`) and initramfs (`make`). Runs in the rig (busybox sh): the
# development hosts' own KVM cannot run a Linux guest.

top=$(cd "$(dirname "$0")/../.." && pwd)
VNETLOOP=${VNETLOOP:-$top/build/vnetloop}
KERNEL=${KERNEL:-$top/build/guest-linux/bzImage}
INITRD=${INITRD:-$top/build/guest-linux/initramfs.cpio.gz}
MAP=${MAP:-$top/build/guest-linux/System.map}
backends="kmod thread inline"
transports="pci mmio"
frames=256 size=1514 verbose='' all=1 vcpus=1 irqcpu=''
while getopts "b:t:n:s:c:q:vx" o; do
	case $o in
	q) irqcpu=$OPTARG ;;
	b) backends=$OPTARG ;;
	t) transports=$OPTARG ;;
	c) vcpus=$OPTARG ;;
	x) all='' ;;
	n) frames=$OPTARG ;;
	s) size=$OPTARG ;;
	v) verbose=1 ;;
	*) echo "usage: $0 [-b BACKENDS] [-t TRANSPORTS] [-c VCPUS] [-q CPU] [-n FRAMES] [-s SIZE] [-v] [-x]" >&2
	   exit 2 ;;
	esac
done
# The rig runs this guest under KVM on qemu's emulated SVM, which does not
# keep KVM's view of the guest's XCR0 in step: with XSAVE the guest's FPU
# set-up warns ("XSAVE consistency problem"). noxsave falls back to FXSAVE.
GUEST_ARGS=${GUEST_ARGS:-noxsave}
# A guest boots and sends in seconds; a hung one is stopped (SIGTERM: the
# VMM still prints its summary, exit status 143).
RUN_TIMEOUT=${RUN_TIMEOUT:-60}

echo "TAP version 13"
. "${0%/*}/../tap.sh"
. "${0%/*}/guest-log.sh"
guest_require "make guest-kernel" make
case " $backends " in
*" kmod "*) [ -c /dev/vnetloop ] ||
	skip_all "no /dev/vnetloop (vnetloop.ko not loaded)" ;;
esac

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

counter() {
	jq -r ".counters.$2 // empty" "$1"
}

# A spoiled run, shown and retried once (a second one in a row fails):
#  - the nested KVM's fault (guest-log.sh): the timeout stopped the VM with
#    the vCPU in ktime_get_update_offsets_now(), or the guest kernel
#    panicked on a double fault at entry_SYSCALL_64; before /init or
#    mid-traffic;
#  - a boot stall: the timeout stopped the VM before the guest started
#    /init, and the device had not moved a frame.
# spoiled NAME: 0, with why in $spoiled_why, for such a run.
spoiled() {
	rc=$(cat "$tmp/$1.rc")
	rip=$(jq -r '.vcpu_stopped[0].rip' "$tmp/$1.json" 2>/dev/null)
	spoiled_why="the nested KVM's fault: the timeout stopped the guest, vCPU 0 in ktime_get_update_offsets_now"
	[ "$rc" -eq 143 ] && hung_in_timekeeping "$rip" && return 0
	spoiled_why="the nested KVM's fault: a double fault at entry_SYSCALL_64"
	[ "$rc" -eq 1 ] && syscall_double_fault "$tmp/$1.log" && return 0
	spoiled_why="boot stall: the timeout stopped the guest before /init, vCPU 0 at $rip ($(symbol "$rip"))"
	[ "$rc" -eq 143 ] && ! grep -q '^vnl-init:' "$tmp/$1.log" &&
		[ "$(jq -r '.counters.tx_packets + .counters.rx_packets' \
			"$tmp/$1.json" 2>/dev/null)" = 0 ]
}
spoiled_runs=0 spoiled_twice=0

# run NAME CMDLINE [VNETLOOP OPTIONS]: boot the guest; console in
# $tmp/NAME.log, summary in $tmp/NAME.json, exit status in $tmp/NAME.rc.
run() {
	name=$1 args=$2
	shift 2
	for try in 1 2; do
		timeout -s TERM "$RUN_TIMEOUT" "$VNETLOOP" run "$@" --json \
			--mem "${GUEST_MEM:-64}" --vcpus "$vcpus" \
			--kernel "$KERNEL" --initrd "$INITRD" \
			--cmdline "$GUEST_ARGS $args" \
			>"$tmp/$name.json" 2>"$tmp/$name.raw"
		echo $? >"$tmp/$name.rc"
		# The guest's tty ends its lines with CR LF.
		console_log "$tmp/$name.raw" "$tmp/$name.log"
		if [ -n "$verbose" ]; then
			sed 's/^/# /' "$tmp/$name.log"
			sed 's/^/# /' "$tmp/$name.json"
		fi
		spoiled "$name" || return
		echo "# $name: spoiled (try $try), $spoiled_why; the console ended:"
		tail -n 3 "$tmp/$name.log" | sed 's/^/#   | /'
		guest_oops "$tmp/$name.log"
		spoiled_runs=$((spoiled_runs + 1))
		[ "$try" -eq 1 ] || spoiled_twice=$((spoiled_twice + 1))
	done
}

# Console lines worth seeing in the TAP stream.
show() {
	grep -E 'virtio-mmio: Registering|vnetloop-traffic: (interface|irq |frames|.* counters|PASS|FAIL)|VNETLOOP-GUEST-RESULT|Kernel panic|reboot:' \
		"$1" | sed 's/^/# /'
}

# Where a run that went wrong stopped: the console's end (a kernel oops in
# full), and each vCPU's RIP with its symbol from the guest's System.map.
where() {
	[ -z "$verbose" ] || return 0
	tail -n 40 "$tmp/$1.log" | sed 's/^/#   | /'
	jq -r '.vcpu_stopped[]? | "\(.vcpu) \(.rip) \(.halted)"' \
		"$tmp/$1.json" 2>/dev/null | while read -r v rip h; do
		echo "#   vCPU $v: RIP $rip ($(symbol "$rip")), halted $h"
	done
}

# traffic_checks NAME TRANSPORT [IRQ LINE]: the checks of a run that sent
# traffic (see the top); with pci and an IRQ LINE, the guest took INTx.
traffic_checks() {
	t=$1 tr=$2 intx=${3:-} log=$tmp/$1.log json=$tmp/$1.json
	rc=$(cat "$tmp/$1.rc")
	show "$log"
	res=$(jq -r '.linux.result // empty' "$json" 2>/dev/null)
	[ "$rc" -eq 0 ] && [ "$res" = PASS ]
	result $? "$t: vnetloop exits 0 and the guest printed PASS" \
		"exit status $rc, result '${res:-?}': $(jq -r .result "$json" 2>/dev/null)"
	[ "$rc" -eq 0 ] || where "$t"
	# A Linux guest sends no marks: no measured phase.
	jq -e 'has("phase") and .phase == null' "$json" >/dev/null 2>&1
	result $? "$t: \"phase\" is null (a Linux guest has no measured phase)"

	drv=$(grep -cE 'vnetloop-traffic: interface [a-z0-9]+ device virtio0 driver virtio_net ' "$log")
	if [ "$tr" = mmio ]; then
		where_dev="virtio-mmio.0 at 0xd0000000, IRQ 5"
		reg=$(grep -c 'virtio-mmio: Registering device virtio-mmio.0 at 0xd0000000-0xd00001ff, IRQ 5\.' "$log")
	else
		where_dev="virtio-pci at 0000:00:01.0"
		reg=$(grep -c '^vnl-init: virtio0 at pci0000:00/0000:00:01.0 transport virtio-pci ' "$log")
	fi
	[ "$reg" -eq 1 ] && [ "$drv" -eq 1 ]
	result $? "$t: virtio_net probed the device ($where_dev)" \
		"found $reg, bound $drv"

	guest_frames_ok "$t" "$log" "$frames" "$size"
	guest_counters_ok "$t" "$log" "$frames" "$size" \
		"$(counter "$json" tx_packets)" "$(counter "$json" tx_bytes)" \
		"$(counter "$json" rx_packets)" "$(counter "$json" rx_bytes)"

	# What each frame cost in exits (the whole run, boot included): the
	# interrupt's register exits are what MSI-X saves over a pin.
	jq -r --arg t "$t" --argjson n "$frames" '"# \($t): vCPU exits \(.exits_total), \(.exits_total / $n * 100 | floor / 100) per frame; InterruptStatus reads \(.mmio.InterruptStatus.read // 0), InterruptACK writes \(.mmio.InterruptACK.write // 0), QueueNotify writes \(.mmio.QueueNotify.write // 0)"' \
		"$json" 2>/dev/null
	irqs=$(counter "$json" interrupts)
	runs=$(counter "$json" worker_runs)
	kicks=$(counter "$json" kicks)
	if [ "$tr" = pci ] && [ -z "$intx" ]; then
		guest_msix_ok "$t" "$log" "$irqs" "$runs" "$kicks"
	else
		pin_checks "$t" "${intx:-5}"
	fi
	if [ "$vcpus" -gt 1 ]; then
		grep -q "smp: Brought up 1 node, $vcpus CPUs" "$log"
		result $? "$t: the guest brought up its $vcpus vCPUs" \
			"$(grep -m1 'smp: Brought up' "$log")"
	fi
	[ -z "$irqcpu" ] || guest_irqs_on_cpu "$t" "$log" "$irqcpu"

	guest_log_clean "$t" "$log"
}

# pin_checks NAME LINE: the interrupt checks of a NIC on a pin interrupt
# (virtio-mmio on IRQ 5, or virtio-pci's INTx), after traffic_checks set
# the run's variables.
pin_checks() {
	grep -qE "irq after: +$2: +[0-9]+ +IO-APIC +$2-edge +virtio0\$" "$log"
	result $? \
		"$t: the NIC's line is IO-APIC $2-edge virtio0" \
		"$(grep -m1 'irq after' "$log")"

	line='irq virtio0 count'
	before=$(field "$log" "$line" before)
	after=$(field "$log" "$line" after)
	delta=$(field "$log" "$line" delta)
	[ "${irqs:-0}" -ge 1 ] && [ "$irqs" -le "${runs:-0}" ]
	result $? \
		"$t: device interrupts $irqs: at most one per drain ($runs drains, $kicks kicks)"
	if [ "$tr" = mmio ]; then
		isr=$(jq -r '.mmio.InterruptStatus.read // 0' "$json")
		ack=$(jq -r '.mmio.InterruptACK.write // 0' "$json")
	else
		# virtio-pci's ISR is read to clear: no acknowledgement.
		isr=$(jq -r '.mmio.InterruptStatus.read // 0' "$json")
		ack=$after
	fi
	empty=$(jq -r '.isr_empty_reads // 0' "$json")
	[ "${delta:-0}" -ge 1 ] && is "$after" "$isr" && is "$after" "$ack" &&
		[ $((after - empty)) -le "${irqs:-0}" ]
	result $? \
		"$t: guest irqs +$delta to $after, each one InterruptStatus read and ACK ($isr, $ack), $((after - empty)) with work of the device's $irqs ($((${irqs:-0} - after + empty)) merged, $empty found nothing)" \
		"before=$before after=$after delta=$delta interrupts=$irqs isr_reads=$isr acks=$ack empty=$empty"
}

# Setup errors, before any guest runs: exit status 2 for the command line,
# 3 for what cannot be booted, and a message that names the problem.
# expect_err NAME STATUS PATTERN VNETLOOP-OPTIONS...
expect_err() {
	name=$1 want=$2 pat=$3
	shift 3
	timeout -s TERM "$RUN_TIMEOUT" "$VNETLOOP" run "$@" \
		>"$tmp/err.out" 2>&1
	got=$?
	[ "$got" -eq "$want" ] && grep -q "$pat" "$tmp/err.out"
	result $? "setup error, $name: exit status $got (want $want)" \
		"$(head -n 3 "$tmp/err.out" | tr '\n' '|')"
}
if [ -n "$all" ]; then
	expect_err "--initrd without --kernel" 2 'needs --kernel' --initrd "$INITRD"
	expect_err "--kernel of a missing file" 3 'cannot read the kernel' \
		--kernel "$tmp/none"
	expect_err "--kernel of a file that is no bzImage" 3 \
		'not a bootable x86-64 bzImage' --kernel "$INITRD"
	expect_err "--mem too small for the kernel to unpack itself" 3 \
		'needs RAM up to' --kernel "$KERNEL" --mem 16
	# Just the RAM the kernel needs (the message above says how much):
	# less than a MiB is left, and the initramfs is larger.
	need=$(sed -n 's/.*needs RAM up to \(0x[0-9a-f]*\).*/\1/p' "$tmp/err.out")
	expect_err "--initrd that does not fit above the kernel" 3 \
		'does not fit between the kernel' --kernel "$KERNEL" --initrd "$INITRD" \
		--mem $(((${need:-0} + 0xfffff) >> 20))
fi

args="vnl.frames=$frames vnl.size=$size${irqcpu:+ vnl.irqcpu=$irqcpu}"
for tr in $transports; do
	for b in $backends; do
		run "$b-$tr" "$args" --backend "$b" --transport "$tr"
		traffic_checks "$b-$tr" "$tr"
	done
done

if [ -n "$all" ]; then
	# Without EVENT_IDX the driver suppresses interrupts with the avail ring's
	# NO_INTERRUPT flag instead; the same checks hold.
	b=${backends%% *}
	tr=${transports%% *}
	run "$b-$tr-no-event-idx" "$args" --backend "$b" --transport "$tr" \
		--no-event-idx
	traffic_checks "$b-$tr-no-event-idx" "$tr"

	# virtio-pci without MSI-X (pci=nomsi): the guest takes the NIC's INTx,
	# which the MP table routes to I/O APIC pin 16.
	case " $transports " in
	*" pci "*)
		run "$b-pci-intx" "$args" --backend "$b" --transport pci --no-msix
		traffic_checks "$b-pci-intx" pci 16 ;;
	esac

	# The tool cannot find its interface: it must fail, the guest says FAIL and
	# vnetloop exits 1 with that reason.
	run fail "vnl.ifname=vnlnone vnl.frames=4" --backend "$b"
	grep -E 'vnetloop-traffic:|VNETLOOP-GUEST-RESULT' "$tmp/fail.log" | sed 's/^/# /'
	rc=$(cat "$tmp/fail.rc")
	res=$(jq -r '.linux.result // empty' "$tmp/fail.json" 2>/dev/null)
	grc=$(jq -r '.linux.rc // empty' "$tmp/fail.json" 2>/dev/null)
	[ "$rc" -eq 1 ] && [ "$res" = FAIL ] && [ "${grc:-0}" -ne 0 ]
	result $? "a failing guest tool makes vnetloop exit 1 (exit $rc, guest $res rc=$grc)" \
		"$(jq -r .result "$tmp/fail.json" 2>/dev/null)" || where fail

	# A guest kernel that panics (no init to run): panic=-1 resets the guest at
	# once, and vnetloop exits 1, quoting the panic.
	run panic "rdinit=/vnl-none init=/vnl-none" --backend "$b"
	grep -E 'Kernel panic|reboot:' "$tmp/panic.log" | sed 's/^/# /'
	rc=$(cat "$tmp/panic.rc")
	why=$(jq -r '.result // empty' "$tmp/panic.json" 2>/dev/null)
	msg=$(jq -r '.linux.panic // empty' "$tmp/panic.json" 2>/dev/null)
	[ "$rc" -eq 1 ] && [ -n "$msg" ] &&
		[ "$why" = "the guest kernel panicked: $msg" ]
	result $? "a guest kernel panic makes vnetloop exit 1 (exit $rc: $why)" ||
		where panic

	# A guest that prints its result and then never resets (here: init waits in
	# a shell): the VM ends after the grace time with the guest's verdict.
	run noreset "vnl.frames=4 vnl.shell=1" --backend "$b"
	rc=$(cat "$tmp/noreset.rc")
	why=$(jq -r '.result // empty' "$tmp/noreset.json" 2>/dev/null)
	res=$(jq -r '.linux.result // empty' "$tmp/noreset.json" 2>/dev/null)
	[ "$rc" -eq 0 ] && [ "$res" = PASS ] &&
		echo "$why" | grep -q 'did not reset within the grace time'
	result $? "a guest that does not reset after its result ends after the grace time (exit $rc: $why)" ||
		where noreset
fi

[ "$spoiled_twice" -eq 0 ]
result $? "no run spoiled twice in a row by the nested KVM or a boot stall ($spoiled_runs spoiled, each retried once)"

echo "1..$n"
[ "$fails" -eq 0 ]
