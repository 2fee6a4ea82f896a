#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# QEMU drives the loopback NIC over vhost-vdpa (TAP): Debian's own
# qemu-system-x86_64, under KVM, boots the project's Linux guest
# (build/guest-linux/: bzImage, initramfs) with
#   -netdev vhost-vdpa,vhostdev=/dev/vnetloop,id=n0
#   -device virtio-net-pci,netdev=n0,romfile=
# and the guest's /init runs vnetloop-traffic over its virtio_net interface
# (Documentation/qemu.rst). With vnl.hold=1 the guest waits after its result,
# so the device still exists when its counters are read. A full run checks:
#  - the guest printed VNETLOOP-GUEST-RESULT: PASS;
#  - virtio_net bound to the device through virtio-pci, and negotiated
#    exactly VERSION_1, MAC and EVENT_IDX (no offloads, no control queue, no
#    multiqueue);
#  - N frames went out and came back, every one verified, once, in order;
#  - the device's tx/rx packets and bytes (netlink, `vnetloop stats
#    --json`, the device QEMU owns) equal the guest interface's and N;
#  - interrupts: the NIC's lines in the guest's /proc/interrupts are PCI-MSI
#    (MSI-X) vectors (config, input.0, output.0) and rose; the device raised
#    at least one interrupt and at most one per drain;
#  - `quit` on QEMU's monitor ends it with exit status 0 and nothing on its
#    stdout or stderr; the device is gone from netlink, and the module's
#    dev_destroyed event names QEMU's pid;
#  - the guest log has no warning, oops, virtio error or panic.
# Then QEMU is SIGKILLed while the guest sends (once the device counted
# frames): the device must go, and a following full run must pass. Last,
# HMP stop while the guest sends must freeze the device's counters, cont
# must let the run finish with every frame verified in order, and after
# system_reset the rebooted guest's run must pass on the same device, whose
# counters add both runs. Then multiqueue: with vnetloop.ko's
# max_queue_pairs at 4, QEMU's virtio-net-pci with mq=on gives the guest 4
# queue pairs and the control queue; virtio_net negotiates MQ and CTRL_VQ,
# sets its pairs over the control queue (one: the guest has one CPU;
# ctrl_mq_set 1), its traffic passes, the device's counters equal the
# guest's, pair 0's counters (`vnetloop stats --per-queue`) hold them all,
# and each of its 9 queues and the config has an MSI-X vector. The rig
# checks rmmod, the debugfs entries and the kernel log after the test.
#
# A guest that has not reached /init after BOOT_TIMEOUT seconds (4 s is
# usual) stalled while booting: a rare hang of KVM on the rig's emulated SVM,
# the vCPU spinning in ktime_get_update_offsets_now(), seen with the
# project's VMM too (selftests/linux/linux-guest.sh). It is shown, with
# where the vCPU was, and the boot is retried once (a new QEMU, or another
# system_reset); a second stall in a row fails. A scenario the same fault
# spoiled later (guest-log.sh) is run again once.
#
#   qemu-vdpa.sh [-n FRAMES] [-s SIZE] [-v] [-o "run1 kill run2 pause mq"]
#
# -o runs only the scenarios named (for experiments; the results of a run
# depend on the scenarios before it only through the module). Needs root,
# /dev/kvm, /dev/vnetloop, jq, qemu-system-x86_64 with SeaBIOS and its option
# ROMs, build/vnetloop and the guest kernel and initramfs. Runs in the rig
# (busybox sh).

top=$(cd "$(dirname "$0")/../.." && pwd)
VNETLOOP=${VNETLOOP:-$top/build/vnetloop}
KERNEL=${KERNEL:-$top/build/guest-linux/bzImage}
INITRD=${INITRD:-$top/build/guest-linux/initramfs.cpio.gz}
MAP=${MAP:-$top/build/guest-linux/System.map}
QEMU=${QEMU:-qemu-system-x86_64}
frames=256 size=1514 verbose='' scenarios='run1 kill run2 pause mq'
while getopts "n:s:vo:" o; do
	case $o in
	n) frames=$OPTARG ;;
	s) size=$OPTARG ;;
	v) verbose=1 ;;
	o) scenarios=$OPTARG ;;
	*) echo "usage: $0 [-n FRAMES] [-s SIZE] [-v] [-o SCENARIOS]" >&2
	   exit 2 ;;
	esac
done
# KVM on qemu's emulated SVM does not keep the guest's XCR0 in step (see
# selftests/linux/linux-guest.sh): the guest uses FXSAVE.
GUEST_ARGS=${GUEST_ARGS:-noxsave}
# Seconds for the guest to reach /init, then to print its result; for QEMU
# to end after `quit` or SIGKILL; for the device to go after that.
BOOT_TIMEOUT=${BOOT_TIMEOUT:-30}
RUN_TIMEOUT=${RUN_TIMEOUT:-60}
QUIT_TIMEOUT=${QUIT_TIMEOUT:-20}
GONE_TIMEOUT=${GONE_TIMEOUT:-10}
# The SIGKILL run: frames enough to be still sending when QEMU dies. The
# stop/cont run: enough to be still sending when `stop` comes (seconds).
KILL_FRAMES=${KILL_FRAMES:-1000000}
PAUSE_FRAMES=${PAUSE_FRAMES:-50000}

echo "TAP version 13"
. "${0%/*}/../tap.sh"
. "${0%/*}/../linux/guest-log.sh"
guest_require "make guest-kernel" make
[ -c /dev/vnetloop ] || skip_all "no /dev/vnetloop (vnetloop.ko not loaded)"
command -v "$QEMU" >/dev/null || skip_all "$QEMU missing (qemu-system-x86)"

tmp=$(mktemp -d) || exit 1
qpid='' mpid=''
cleanup() {
	[ -n "$qpid" ] && kill -9 "$qpid" 2>/dev/null
	[ -n "$mpid" ] && kill "$mpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# fieldn LOG PATTERN KEY N: as field (guest-log.sh), on the Nth such line.
fieldn() {
	grep "$2" "$1" | sed -n "$4{s/.*[ :]$3=\([0-9][0-9]*\).*/\1/p;q;}"
}

# Hundredths of a second since boot.
now_cs() {
	awk '{ split($1, t, "."); print t[1] * 100 + t[2] }' /proc/uptime
}
secs() {
	printf '%d.%02d' $(($1 / 100)) $(($1 % 100))
}

# The command line as one line, the -append argument quoted.
show_cmd() {
	out=''
	for a in "$@"; do
		case $a in
		*" "*) a="\"$a\"" ;;
		esac
		out="$out${out:+ }$a"
	done
	echo "$out"
}

# The module's events, all along: dev_created and dev_destroyed name pids.
"$VNETLOOP" monitor --json >"$tmp/events" 2>"$tmp/events.err" &
mpid=$!
# Subscribed before the first device opens.
sleep 1

# devices: every device's counters (a JSON array, [] when there is none).
devices() {
	"$VNETLOOP" stats --json 2>"$tmp/stats.err"
	rc=$?
	[ "$rc" -eq 5 ] && echo '[]' && return 0
	return $rc
}
# The counters of the device PID owns, or nothing.
device_of() {
	devices | jq -c --argjson p "$1" '[.[] | select(.owner_pid == $p)][0] // empty'
}
counter() {
	echo "$1" | jq -r ".$2 // empty"
}
# The counters worth showing, from device_of's JSON.
dev_line() {
	echo "$1" | jq -r '"dev_id \(.dev_id) owner_pid \(.owner_pid) tx_packets=\(.tx_packets) tx_bytes=\(.tx_bytes) rx_packets=\(.rx_packets) rx_bytes=\(.rx_bytes) kicks=\(.kicks) interrupts=\(.interrupts) worker_runs=\(.worker_runs)"' 2>/dev/null
}

# The NIC's further properties (the mq scenario's), after romfile=.
NIC_OPTS=''

# start NAME "KERNEL PARAMETERS" [reboot]: QEMU in the background, its pid
# in qpid; console in $tmp/NAME.log (after the run), monitor on
# $tmp/NAME.mon.in. A guest reset ends QEMU (-no-reboot: a panicking guest
# ends the run at once) unless "reboot" is given.
start() {
	name=$1 noreboot=-no-reboot
	[ "${3:-}" = reboot ] && noreboot=''
	rm -f "$tmp/$name".*
	mkfifo "$tmp/$name.mon.in" "$tmp/$name.mon.out" || return 1
	# shellcheck disable=SC2086 # $noreboot: one word or none
	set -- "$QEMU" -accel kvm -M pc -m 256 -smp 1 \
		-nodefaults -no-user-config -display none $noreboot \
		-serial "file:$tmp/$name.raw" -monitor "pipe:$tmp/$name.mon" \
		-kernel "$KERNEL" -initrd "$INITRD" \
		-append "console=ttyS0 reboot=k panic=-1 $GUEST_ARGS $2" \
		-netdev vhost-vdpa,vhostdev=/dev/vnetloop,id=n0 \
		-device "virtio-net-pci,netdev=n0,romfile=$NIC_OPTS"
	show_cmd "$@" >"$tmp/$name.cmd"
	: >"$tmp/$name.raw"
	t_start=$(now_cs)
	"$@" </dev/null >"$tmp/$name.out" 2>&1 &
	qpid=$!
	# Drain the monitor's replies (QEMU opens both fifos read-write).
	cat "$tmp/$name.mon.out" >"$tmp/$name.mon.log" 2>/dev/null &
	catpid=$!
}

# hmp NAME COMMAND: a command on QEMU's monitor, while QEMU runs. The fifo
# is opened read-write, which never blocks, should QEMU have just ended.
# (busybox's `kill -0 ""` signals its own process group: test qpid first.)
hmp() {
	[ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null &&
		echo "$2" 1<>"$tmp/$1.mon.in"
}

# quote PREFIX [FILE]: each line with PREFIX in front, the last one with its
# newline even if the file lacks it (a console cut mid-line).
quote() {
	awk -v p="$1" '{ print p $0 }' ${2:+"$2"}
}

# console NAME: the guest's console so far, without the tty's CRs.
console() {
	console_log "$tmp/$1.raw" "$tmp/$1.log"
}

# where NAME: the vCPU's RIP and its symbol, from the monitor.
where() {
	hmp "$1" "info registers" || { echo "QEMU has ended"; return; }
	sleep 1
	rip=$(tr -d '\r' <"$tmp/$1.mon.log" | sed -n 's/^RIP=\([0-9a-fA-F]*\) .*/\1/p' | tail -n 1)
	echo "RIP ${rip:-?} ($(symbol "${rip:-0}"))"
}

# diag NAME WHAT: what went wrong, as TAP comments: the console's end, the
# device, where the vCPU was, what QEMU printed.
diag() {
	console "$1"
	at=$(where "$1")
	echo "# $1: $2; the vCPU at $at; the console ended:"
	case $at in
	*"(ktime_get_update_offsets_now)")
		nested_fault_note "$1" "the vCPU spins in ktime_get_update_offsets_now" ;;
	esac
	tail -n 8 "$tmp/$1.log" | quote '#   | '
	echo "# $1: the device: $(dev_line "$(device_of "${qpid:-0}")")"
	quote '# qemu: ' "$tmp/$1.out"
}

# wait_console NAME PATTERN SECONDS [COUNT]: 0 once the console shows
# PATTERN (on COUNT lines), 1 if QEMU ended or the time ran out first. Sets
# t_found (hundredths of a second since the start of QEMU).
wait_console() {
	deadline=$(($(now_cs) + $3 * 100))
	while :; do
		if [ "$(grep -c "$2" "$tmp/$1.raw")" -ge "${4:-1}" ]; then
			t_found=$(($(now_cs) - t_start))
			return 0
		fi
		kill -0 "$qpid" 2>/dev/null || return 1
		[ "$(now_cs)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# reap SECONDS: wait for QEMU to end; its exit status in qrc (none: 255 and
# it is SIGKILLed); its pid in qpid_done. Nothing if it was reaped already.
reap() {
	[ -n "$qpid" ] || return 0
	deadline=$(($(now_cs) + $1 * 100))
	while kill -0 "$qpid" 2>/dev/null && [ "$(now_cs)" -lt "$deadline" ]; do
		sleep 0.1
	done
	if kill -0 "$qpid" 2>/dev/null; then
		kill -9 "$qpid"
		wait "$qpid" 2>/dev/null
		qrc=255
	else
		# (the shell reports a killed job on stderr)
		wait "$qpid" 2>/dev/null
		qrc=$?
	fi
	qpid_done=$qpid
	qpid=''
	wait "$catpid" 2>/dev/null
}

# boot NAME "KERNEL PARAMETERS" [reboot]: start QEMU (as start) and wait
# for the guest's /init (t_init: when, after QEMU's start). A boot stall is
# shown and retried once. 1 if QEMU ended first or the guest stalled twice
# (QEMU reaped).
stalls=0 stall_fails=0
boot() {
	for try in 1 2; do
		start "$1" "$2" "${3:-}"
		echo "# $1: $(cat "$tmp/$1.cmd")"
		if wait_console "$1" '^vnl-init:' "$BOOT_TIMEOUT"; then
			t_init=$t_found
			return 0
		fi
		if ! kill -0 "$qpid" 2>/dev/null; then
			reap 0
			return 1
		fi
		diag "$1" "boot stall (try $try): no /init after ${BOOT_TIMEOUT}s"
		reap 0
		stalls=$((stalls + 1))
		[ "$try" -eq 1 ] || stall_fails=$((stall_fails + 1))
	done
	return 1
}

# ended NAME: after quit or SIGKILL, QEMU reaped (t_reaped), whether its
# device went (gone_rc), and its console read (with -v, shown).
ended() {
	reap "$QUIT_TIMEOUT"
	t_reaped=$(now_cs)
	gone "$qpid_done"
	gone_rc=$?
	console "$1"
	[ -z "$verbose" ] || quote '#   | ' "$tmp/$1.log"
}

# gone PID: 0 when the device PID created (the module's dev_created event
# names it) is no longer listed and the module said it was destroyed, with
# PID as its owner (within GONE_TIMEOUT seconds). Devices other tests may
# have left do not matter. The devices left in $tmp/left; t_gone is when
# (hundredths of a second since boot).
gone() {
	deadline=$(($(now_cs) + GONE_TIMEOUT * 100))
	while :; do
		t_gone=$(now_cs)
		id=$(jq -r --argjson p "$1" \
			'select(.event == "dev_created" and .owner_pid == $p) | .dev_id' \
			"$tmp/events" 2>/dev/null | tail -n 1)
		devices >"$tmp/left" && [ -n "$id" ] &&
			[ "$(jq --argjson i "$id" '[.[] | select(.dev_id == $i)] | length' "$tmp/left")" = 0 ] &&
			jq -e --argjson p "$1" --argjson i "$id" \
				'select(.event == "dev_destroyed" and .dev_id == $i and .owner_pid == $p)' \
				"$tmp/events" >/dev/null 2>&1 && return 0
		[ "$(now_cs)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}


# What must not be in the guest's log.

# Console lines worth seeing in the TAP stream.
show() {
	grep -E 'vnl-init: virtio|virtio-pci|vnetloop-traffic: (interface|irq |frames|.* counters|PASS|FAIL)|VNETLOOP-GUEST-RESULT|Kernel panic|reboot:' \
		"$1" | sed 's/^/# /'
}

# The feature string the guest should show in sysfs: '1' at bits 5 (MAC),
# 29 (EVENT_IDX) and 32 (VERSION_1), virtio's bit 0 first.
want_features=$(awk 'BEGIN { for (i = 0; i < 64; i++)
	printf "%d", (i == 5 || i == 29 || i == 32); print "" }')
bits() {
	echo "$1" | awk '{ s = ""; for (i = 1; i <= length($1); i++)
		if (substr($1, i, 1) == "1") s = s " " i - 1; print s }'
}

# full NAME: boot, traffic, counters, quit; the results.
full() {
	t=$1 log=$tmp/$1.log
	if [ -n "$(devices | jq '.[]')" ]; then
		echo "# $t: devices before the run:"
		devices | sed 's/^/#   /'
	fi
	# The guest's /init starting, then its result: the times show.
	t_init='' t_held='' held='' dev='' qrc=255 booted=''
	if boot "$t" "vnl.frames=$frames vnl.size=$size vnl.hold=1"; then
		booted=1
		if wait_console "$t" '^vnl-init: holding' "$RUN_TIMEOUT"; then
			t_held=$t_found held=1
			# The device QEMU owns, read while the guest holds.
			dev=$(device_of "$qpid")
		else
			diag "$t" "no result ${RUN_TIMEOUT}s after /init"
		fi
	fi
	t_quit=$(now_cs)
	hmp "$t" quit
	ended "$t"
	show "$log"

	res=$(sed -n 's/^VNETLOOP-GUEST-RESULT: \([A-Z]*\) rc=.*/\1/p' "$log")
	echo "# $t: from QEMU's start: /init after $(secs "${t_init:-0}")s, result after $(secs "${t_held:-0}")s"
	[ -n "$held" ] && [ "$res" = PASS ]
	result $? "$t: the guest printed PASS and held" \
		"result '${res:-none}'; console ends: $(tail -n 5 "$log" | tr '\n' '|')"

	line=$(grep -m1 '^vnl-init: virtio0 at ' "$log")
	drv=$(grep -cE 'vnetloop-traffic: interface [a-z0-9]+ device virtio0 driver virtio_net ' "$log")
	echo "$line" | grep -qE '^vnl-init: virtio0 at pci0000:00/0000:00:[0-9a-f]{2}\.0 transport virtio-pci ' &&
		[ "$drv" -eq 1 ]
	result $? "$t: virtio_net bound to virtio0 on virtio-pci" \
		"'$line', virtio_net bound $drv"

	got=${line##* features }
	[ "$got" = "$want_features" ]
	result $? "$t: negotiated features VERSION_1 MAC EVENT_IDX only (bits$(bits "$got"))" \
		"want bits$(bits "$want_features")"

	guest_frames_ok "$t" "$log" "$frames" "$size"

	echo "# $t: guest: $(grep -m1 ' counters tx_packets=' "$log")"
	echo "# $t: device: $(dev_line "$dev")"
	[ -n "$dev" ]
	result $? "$t: netlink lists the device, owned by QEMU (pid $qpid_done)" \
		"no device with owner_pid $qpid_done"
	guest_counters_ok "$t" "$log" "$frames" "$size" \
		"$(counter "$dev" tx_packets)" "$(counter "$dev" tx_bytes)" \
		"$(counter "$dev" rx_packets)" "$(counter "$dev" rx_bytes)"
	errs=0
	for k in tx_dropped_no_rx_buffer tx_dropped_rx_poisoned tx_chain_invalid \
		tx_oversize_dropped rx_chain_invalid rx_write_failed \
		tx_add_used_failures rx_add_used_failures invalid_avail_idx_count \
		ctrl_mq_set ctrl_chain_invalid ctrl_add_used_failures; do
		v=$(counter "$dev" $k)
		[ "${v:-1}" -eq 0 ] || { errs=1; echo "# $t: $k = ${v:-missing}"; }
	done
	[ $errs -eq 0 ]
	result $? "$t: no drops, invalid chains or failed writes on the device"

	guest_msix_ok "$t" "$log" "$(counter "$dev" interrupts)" \
		"$(counter "$dev" worker_runs)" "$(counter "$dev" kicks)"

	guest_log_clean "$t" "$log"

	quote '# qemu: ' "$tmp/$t.out"
	if [ -z "$booted" ]; then
		why="the guest did not boot, QEMU was stopped (exit status $qrc)"
	elif [ "$qrc" -eq 255 ]; then
		why="it did not end within ${QUIT_TIMEOUT}s: SIGKILLed"
	else
		why="exit status $qrc"
	fi
	[ "$qrc" -eq 0 ] && [ ! -s "$tmp/$t.out" ]
	result $? "$t: QEMU quits on the monitor's quit: exit status 0, nothing on stdout or stderr" \
		"$why"

	echo "# $t: QEMU ended $(secs $((t_reaped - t_quit)))s after quit; the device was gone from netlink $(secs $((t_gone - t_quit)))s after quit"
	result $gone_rc "$t: the device is gone from netlink, destroyed with QEMU's pid $qpid_done" \
		"left: $(tr -d '\n' <"$tmp/left"); events: $(tr '\n' '|' <"$tmp/events")"
}

# SIGKILL while the guest sends: once the device counted frames.
kill_run() {
	t=$1 dev='' killed='' qrc=255 t_kill=$(now_cs)
	if boot "$t" "vnl.frames=$KILL_FRAMES vnl.size=$size"; then
		# The guest starts sending; the device counts frames soon after.
		wait_console "$t" '^vnetloop-traffic: sending' "$RUN_TIMEOUT"
		deadline=$(($(now_cs) + 10 * 100))
		while kill -0 "$qpid" 2>/dev/null && [ "$(now_cs)" -lt "$deadline" ]; do
			dev=$(device_of "$qpid")
			[ "$(counter "$dev" tx_packets)" -gt 0 ] 2>/dev/null && break
			dev=''
			sleep 0.1
		done
		t_kill=$(now_cs)
		if [ -n "$dev" ] && kill -9 "$qpid" 2>/dev/null; then
			killed=1
		else
			diag "$t" "the device counted no frame"
		fi
		echo "# $t: SIGKILL $(secs $((t_kill - t_start)))s after QEMU's start; the device then: $(dev_line "$dev")"
	fi
	ended "$t"
	res=$(grep -c 'VNETLOOP-GUEST-RESULT' "$tmp/$t.log")
	[ -n "$killed" ] && [ "$qrc" -eq 137 ] && [ "$res" -eq 0 ]
	result $? "$t: QEMU SIGKILLed mid-traffic (exit status $qrc, the guest had no result yet)" \
		"killed '${killed:-no}', result lines $res; console ends: $(tail -n 5 "$tmp/$t.log" | tr '\n' '|')"
	quote '# qemu: ' "$tmp/$t.out"
	echo "# $t: QEMU reaped $(secs $((t_reaped - t_kill)))s after SIGKILL; the device was gone from netlink $(secs $((t_gone - t_kill)))s after SIGKILL"
	result $gone_rc "$t: the device is gone from netlink, destroyed with QEMU's pid $qpid_done" \
		"left: $(tr -d '\n' <"$tmp/left"); events: $(tr '\n' '|' <"$tmp/events")"
}

# HMP stop while the guest sends, cont, then system_reset: QEMU resets the
# device at stop (status 0) and starts it again at cont where each ring
# stood (GET_VRING_BASE, SET_VRING_BASE); the guest's reboot starts it
# afresh (QEMU runs without -no-reboot here). The counters stay: they are
# the device's, cumulative.
pause_run() {
	t=$1 pf=$PAUSE_FRAMES log=$tmp/$1.log d1='' d2='' d3='' d4='' qrc=255
	if boot "$t" "vnl.frames=$pf vnl.size=$size vnl.hold=1" reboot; then
		wait_console "$t" '^vnetloop-traffic: sending' "$RUN_TIMEOUT"
		sleep 0.2
		hmp "$t" stop
		sleep 1
		d1=$(device_of "$qpid")
		sleep 1
		d2=$(device_of "$qpid")
		hmp "$t" cont
		if wait_console "$t" '^vnl-init: holding' "$RUN_TIMEOUT"; then
			d3=$(device_of "$qpid")
			hmp "$t" system_reset
			# A stall of the second boot is retried by another reset.
			booted=''
			for try in 1 2; do
				if wait_console "$t" '^vnl-init: virtio' "$BOOT_TIMEOUT" 2; then
					booted=1
					break
				fi
				kill -0 "$qpid" 2>/dev/null || break
				diag "$t" "boot stall after system_reset (try $try): no /init after ${BOOT_TIMEOUT}s"
				stalls=$((stalls + 1))
				[ "$try" -eq 1 ] || stall_fails=$((stall_fails + 1))
				hmp "$t" system_reset
			done
			if [ -n "$booted" ] &&
			   wait_console "$t" '^vnl-init: holding' "$RUN_TIMEOUT" 2; then
				d4=$(device_of "$qpid")
			else
				diag "$t" "no second result after system_reset"
			fi
		else
			diag "$t" "no result ${RUN_TIMEOUT}s after cont"
		fi
	fi
	hmp "$t" quit
	ended "$t"
	show "$log"
	for d in d1 d2 d3 d4; do
		eval "v=\$$d"
		echo "# $t: device $d: $(dev_line "$v")"
	done
	a1=$(counter "$d1" tx_packets) a2=$(counter "$d2" tx_packets)
	b1=$(counter "$d1" rx_packets) b2=$(counter "$d2" rx_packets)
	[ "${a1:-0}" -gt 0 ] && [ "$a1" -lt "$pf" ] && is "$a1" "$a2" && is "$b1" "$b2"
	result $? "$t: stop mid-traffic freezes the device (tx_packets $a1 of $pf, 1 s later $a2; rx_packets $b1, then $b2)"

	pass=$(grep -c '^VNETLOOP-GUEST-RESULT: PASS' "$log")
	ver1=$(fieldn "$log" ' frames sent=' verified 1)
	ooo1=$(fieldn "$log" ' frames sent=' out_of_order 1)
	gtx1=$(fieldn "$log" ' counters tx_packets=' tx_packets 1)
	grx1=$(fieldn "$log" ' counters tx_packets=' rx_packets 1)
	dtx3=$(counter "$d3" tx_packets) drx3=$(counter "$d3" rx_packets)
	[ "$pass" -ge 1 ] && is "$ver1" "$pf" && is "$ooo1" 0 &&
		is "$dtx3" "$gtx1" && is "$drx3" "$grx1" && is "$dtx3" "$pf" &&
		is "$drx3" "$pf"
	result $? "$t: after cont the guest's run passed, $ver1 of $pf frames verified in order; device tx/rx $dtx3/$drx3 == guest $gtx1/$grx1"

	ver2=$(fieldn "$log" ' frames sent=' verified 2)
	gtx2=$(fieldn "$log" ' counters tx_packets=' tx_packets 2)
	grx2=$(fieldn "$log" ' counters tx_packets=' rx_packets 2)
	dtx4=$(counter "$d4" tx_packets) drx4=$(counter "$d4" rx_packets)
	[ "$pass" -eq 2 ] && is "$ver2" "$pf" &&
		is "$dtx4" $((gtx1 + gtx2)) && is "$drx4" $((grx1 + grx2)) &&
		is "$dtx4" $((2 * pf))
	result $? "$t: after system_reset the guest's second run passed ($ver2 verified); device tx/rx $dtx4/$drx4 == the two runs' $((gtx1 + gtx2))/$((grx1 + grx2))" \
		"PASS lines $pass"

	guest_log_clean "$t" "$log"

	quote '# qemu: ' "$tmp/$t.out"
	[ "$qrc" -eq 0 ] && [ ! -s "$tmp/$t.out" ] && [ "$gone_rc" -eq 0 ]
	result $? "$t: QEMU quits with exit status 0 and nothing on stdout or stderr; the device is gone" \
		"exit status $qrc, gone $gone_rc: left $(tr -d '\n' <"$tmp/left")"
}

# Multiqueue under QEMU: a device of 4 pairs (max_queue_pairs, as it was
# afterwards), virtio-net-pci with mq=on.
mq_run() {
	t=$1 log=$tmp/$1.log dev='' held='' qrc=255
	param=/sys/module/vnetloop/parameters/max_queue_pairs
	was=$(cat "$param" 2>/dev/null)
	if ! echo 4 >"$param"; then
		not_ok "$t: cannot set $param to 4"
		return
	fi
	NIC_OPTS=,mq=on,vectors=10
	if boot "$t" "vnl.frames=$frames vnl.size=$size vnl.hold=1"; then
		if wait_console "$t" '^vnl-init: holding' "$RUN_TIMEOUT"; then
			held=1
			dev=$(devices | jq -c --argjson p "$qpid" '[.[] | select(.owner_pid == $p)][0] // empty')
			"$VNETLOOP" stats --json --per-queue "$(counter "$dev" dev_id)" \
				>"$tmp/$t.queues" 2>&1
		else
			diag "$t" "no result ${RUN_TIMEOUT}s after /init"
		fi
	fi
	NIC_OPTS=''
	echo "$was" >"$param"
	hmp "$t" quit
	ended "$t"
	show "$log"
	grep -E 'vnetloop-traffic: irq after' "$log" | sed 's/^/# /'

	res=$(sed -n 's/^VNETLOOP-GUEST-RESULT: \([A-Z]*\) rc=.*/\1/p' "$log")
	[ -n "$held" ] && [ "$res" = PASS ]
	result $? "$t: the guest printed PASS and held" \
		"result '${res:-none}'; console ends: $(tail -n 5 "$log" | tr '\n' '|')"

	line=$(grep -m1 '^vnl-init: virtio0 at ' "$log")
	got=${line##* features }
	# MAC 5, CTRL_VQ 17, MQ 22, EVENT_IDX 29, VERSION_1 32.
	want=$(awk 'BEGIN { for (i = 0; i < 64; i++)
		printf "%d", (i == 5 || i == 17 || i == 22 || i == 29 || i == 32)
		print "" }')
	[ "$got" = "$want" ]
	result $? "$t: negotiated MQ and CTRL_VQ with VERSION_1 MAC EVENT_IDX (bits$(bits "$got"))" \
		"want bits$(bits "$want")"

	guest_frames_ok "$t" "$log" "$frames" "$size"
	echo "# $t: guest: $(grep -m1 ' counters tx_packets=' "$log")"
	echo "# $t: device: $(dev_line "$dev") ctrl_mq_set=$(counter "$dev" ctrl_mq_set)"
	guest_counters_ok "$t" "$log" "$frames" "$size" \
		"$(counter "$dev" tx_packets)" "$(counter "$dev" tx_bytes)" \
		"$(counter "$dev" rx_packets)" "$(counter "$dev" rx_bytes)"
	is "$(counter "$dev" ctrl_mq_set)" 1 &&
		is "$(counter "$dev" ctrl_chain_invalid)" 0
	result $? "$t: the guest set its pairs over the control queue (ctrl_mq_set 1, no invalid chain)"

	sed 's/^/# /' "$tmp/$t.queues"
	jq -e --argjson n "$frames" '.[0].per_queue | length == 4 and
		.[0].tx_packets == $n and .[0].rx_packets == $n' \
		"$tmp/$t.queues" >/dev/null 2>&1
	result $? "$t: vnetloop stats --per-queue: 4 pairs, pair 0's $frames frames"

	vec=$(grep -cE 'vnetloop-traffic: irq after: +[0-9]+:( +[0-9]+)+ +PCI-MSI .* virtio0-(config|input\.[0-3]|output\.[0-3])$' "$log")
	[ "$vec" -eq 9 ]
	result $? "$t: 9 MSI-X vectors: config, input.0-3, output.0-3 ($vec)"

	guest_log_clean "$t" "$log"
	quote '# qemu: ' "$tmp/$t.out"
	[ "$qrc" -eq 0 ] && [ ! -s "$tmp/$t.out" ] && [ "$gone_rc" -eq 0 ]
	result $? "$t: QEMU quits with exit status 0 and nothing on stdout or stderr; the device is gone" \
		"exit status $qrc, gone $gone_rc"
}

# A scenario, run again once when the nested KVM's fault spoiled it
# (guest-log.sh; the scenario's diagnostics say so in a line of
# nested_fault_note's): the failed attempt is shown as comments, the second
# one counts.
retried() {
	for try in 1 2; do
		(n=0 fails=0; "$@"; echo "$stalls $stall_fails" >"$tmp/stalls") \
			>"$tmp/scenario.tap"
		read -r stalls stall_fails <"$tmp/stalls"
		[ "$try" -eq 1 ] && grep -q '^not ok' "$tmp/scenario.tap" &&
			grep -q "^# .*: the nested KVM's fault: " "$tmp/scenario.tap" ||
			break
		echo "# $2: spoiled by the nested KVM's fault; the attempt, run again:"
		sed 's/^/#   /' "$tmp/scenario.tap"
		stalls=$((stalls + 1))
	done
	while IFS= read -r l; do
		case $l in
		"not ok "[0-9]*) l=${l#not ok }; not_ok "${l#* }" ;;
		"ok "[0-9]*) l=${l#ok }; ok "${l#* }" ;;
		*) echo "$l" ;;
		esac
	done <"$tmp/scenario.tap"
}

for s in $scenarios; do
	case $s in
	run*) retried full "$s" ;;
	kill*) retried kill_run "$s" ;;
	pause*) retried pause_run "$s" ;;
	mq*) retried mq_run "$s" ;;
	*) echo "$0: unknown scenario $s" >&2; exit 2 ;;
	esac
done

[ "$stall_fails" -eq 0 ]
result $? "no run spoiled twice in a row by the nested KVM or a boot stall ($stalls spoiled, each retried once)"

kill "$mpid" 2>/dev/null
wait "$mpid" 2>/dev/null
mpid=''
echo "# module events:"
sed 's/^/#   /' "$tmp/events"

echo "1..$n"
[ "$fails" -eq 0 ]
