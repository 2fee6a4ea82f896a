# SPDX-License-Identifier: GPL-2.0
# Reading the Linux guest's console, for the tests that boot it
# (selftests/linux/linux-guest.sh under vnetloop's VMM,
# selftests/qemu/qemu-vdpa.sh under QEMU), and what they all need first.
# POSIX sh: the rig runs busybox. Needs MAP, the guest kernel's System.map.

# guest_require KERNEL_HINT INITRD_HINT: skip the whole test (tap.sh's
# skip_all) unless it runs as root with KVM, jq, VNETLOOP, KERNEL and
# INITRD; a missing file's message says how to make it.
guest_require() {
	[ "$(id -u)" -eq 0 ] || skip_all "needs root"
	[ -c /dev/kvm ] || skip_all "no /dev/kvm"
	command -v jq >/dev/null || skip_all "needs jq"
	[ -x "$VNETLOOP" ] || skip_all "$VNETLOOP not built"
	[ -f "$KERNEL" ] || skip_all "$KERNEL missing ($1)"
	[ -f "$INITRD" ] || skip_all "$INITRD missing ($2)"
}

# console_log RAW LOG: the serial console as lines. The kernel's printk
# and a program's write share the port, so a kernel message can land in the
# middle of a program's line ("...virtio0-output.0[    2.16] clocksource:
# ..."); it goes onto a line of its own, so the program's line parses.
console_log() {
	tr -d '\r' <"$1" | awk '{
		while (match($0, /.\[ *[0-9]+\.[0-9]+\] /)) {
			print substr($0, 1, RSTART)
			$0 = substr($0, RSTART + 1)
		}
		print }' >"$2"
}

# Lines of a guest console that must not be there: interrupts nobody
# handled or not routed, virtio errors, warnings, oopses, panics.
guest_bad='nobody cared|[Ss]purious|unexpected IRQ|No irq handler|can.t find IRQ|virtio.*([Ee]rror|[Ff]ail|[Bb]ad|[Bb]roken)|WARNING:|BUG:|Oops|Call Trace|Kernel panic'

# guest_log_clean NAME LOG: a TAP result, "NAME: guest log clean"; when it
# is not, the bad lines and every oops or warning in full, as comments.
guest_log_clean() {
	# (/init's own lines name modules like failover)
	_bad=$(grep -nE "$guest_bad" "$2" | grep -v '^[0-9]*:vnl-init: loaded ')
	[ -z "$_bad" ]
	result $? "$1: guest log clean" "$(echo "$_bad" | head -n 5 | tr '\n' '|')" &&
		return 0
	guest_oops "$2"
	! syscall_double_fault "$2" || nested_fault_note "$1" \
		"a double fault at entry_SYSCALL_64 (an interrupt taken with interrupts off)"
	return 1
}

# guest_oops LOG: each oops, BUG or WARNING of the console in full, from its
# first line to its end marker (or the panic, or 60 lines), as comments.
guest_oops() {
	awk '/BUG:|WARNING:|Oops:/ && !in_oops { in_oops = 1; left = 60 }
		in_oops { print "#   ! " $0
			if (/---\[ end |Kernel panic/ || --left == 0) in_oops = 0 }' "$1"
}

# symbol RIP: the kernel symbol at or below RIP (hex digits, with or
# without 0x), from the System.map: equal-length lowercase hex compares as
# text.
symbol() {
	[ -f "$MAP" ] || { echo "?"; return; }
	_rip=$(echo "${1#0x}" | tr 'A-F' 'a-f')
	awk -v rip="$_rip" '$1 <= rip { s = $3 } $1 > rip { exit }
		END { print s }' "$MAP"
}

# The nested KVM's fault. KVM inside qemu's emulated SVM (the rig) now and
# then delivers an interrupt to the guest while the guest has interrupts
# off, which no real CPU does (Documentation/linux-guest.rst). Two ways it
# shows, neither with the device involved, in about 2 % of short runs and
# 8 % of 50,000-frame runs under vnetloop's VMM, and under QEMU too:
#  - the vCPU spins in ktime_get_update_offsets_now(), in the timer
#    interrupt, on a timekeeping sequence count left odd: the timer
#    interrupt ran inside the writer's section, which runs with interrupts
#    off. hung_in_timekeeping RIP: 0 when RIP is there.
#  - a double fault at the first instruction of entry_SYSCALL_64, with RSP
#    still the user's stack: an interrupt taken right after SYSCALL had
#    cleared IF, pushed onto the user stack. syscall_double_fault LOG: 0
#    when the console shows it.
# The tests run such a run again once (a second one in a row fails) and say
# so in a line nested_fault_note writes, which the retry looks for.
hung_in_timekeeping() {
	[ "$(symbol "$1")" = ktime_get_update_offsets_now ]
}

syscall_double_fault() {
	_rip=$(sed -n '/PANIC: double fault/,${s/.*RIP: 0010:0x\([0-9a-f]*\).*/\1/p;}' "$1" |
		head -n 1)
	[ -n "$_rip" ] && [ -f "$MAP" ] &&
		grep -q "^$_rip T entry_SYSCALL_64\$" "$MAP"
}

# nested_fault_note NAME WHAT: the line that marks a run the nested KVM's
# fault spoiled.
nested_fault_note() {
	echo "# $1: the nested KVM's fault: $2"
}

is() {
	[ -n "$1" ] && [ -n "$2" ] && [ "$1" -eq "$2" ]
}

# field LOG PATTERN KEY: the value of KEY=NUMBER on the first console line
# matching PATTERN.
field() {
	sed -n "/$2/{s/.*[ :]$3=\([0-9][0-9]*\).*/\1/p;q;}" "$1"
}

# guest_frames_ok NAME LOG FRAMES SIZE: a TAP result, the traffic tool's
# FRAMES frames of SIZE bytes went out and came back, every one verified,
# none corrupt, duplicated, out of order, foreign or dropped.
guest_frames_ok() {
	_l=' frames sent='
	_bad=0
	for _k in corrupt duplicate out_of_order foreign socket_drops; do
		_v=$(field "$2" "$_l" $_k)
		[ "${_v:-1}" -eq 0 ] || _bad=1
	done
	is "$(field "$2" "$_l" sent)" "$3" &&
		is "$(field "$2" "$_l" received)" "$3" &&
		is "$(field "$2" "$_l" verified)" "$3" && [ $_bad -eq 0 ]
	result $? "$1: $3 frames of $4 bytes round-trip, all verified" \
		"$(grep -m1 "$_l" "$2")"
}

# guest_counters_ok NAME LOG FRAMES SIZE TX TX_BYTES RX RX_BYTES: two TAP
# results, the device's counters (the last four) equal the guest
# interface's, as the traffic tool printed them, and FRAMES frames of SIZE.
guest_counters_ok() {
	_l=' counters tx_packets='
	_n=$(($3 * $4))
	_tx=$(field "$2" "$_l" tx_packets) _txb=$(field "$2" "$_l" tx_bytes)
	_rx=$(field "$2" "$_l" rx_packets) _rxb=$(field "$2" "$_l" rx_bytes)
	is "$5" "$_tx" && is "$5" "$3" && is "$6" "$_txb" && is "$6" "$_n"
	result $? \
		"$1: device tx_packets $5 == guest TX $_tx == frames $3 (bytes $6 == $_txb)"
	is "$7" "$_rx" && is "$7" "$3" && is "$8" "$_rxb" && is "$8" "$_n"
	result $? \
		"$1: device rx_packets $7 == guest RX $_rx == frames $3 (bytes $8 == $_rxb)"
}

# guest_vectors LOG: each of the NIC's interrupt lines and how much it rose
# during the run (all CPUs' columns), from the traffic tool's "irq before:"
# and "irq after:" lines.
guest_vectors() {
	awk '/vnetloop-traffic: irq (before|after): / {
		c = 0
		for (i = 5; i <= NF && $i ~ /^[0-9]+$/; i++)
			c += $i
		if ($3 == "before:")
			b[$NF] = c
		else {
			a[$NF] = c
			o[++n] = $NF
		}
	}
	END {
		for (i = 1; i <= n; i++)
			printf "%s%s +%d", (i > 1 ? ", " : ""), o[i], a[o[i]] - b[o[i]]
	}' "$1"
}

# guest_msix_ok NAME LOG IRQS DRAINS KICKS: two TAP results for the NIC on
# virtio-pci with MSI-X. Its lines in the guest's /proc/interrupts are the
# three PCI-MSI vectors virtio0-config, -input.0 and -output.0. The device
# (IRQS interrupts, DRAINS drains) raised at least one interrupt and at most
# one per drain, each signalling the vector of every queue that asked, and
# the guest's count rose; it is not held to the device's: the rig's nested
# KVM may inject one more (seen: 23 on input.0 for 22).
guest_msix_ok() {
	_il=$(grep -c 'vnetloop-traffic: irq after: ' "$2")
	_msi=$(grep -cE 'vnetloop-traffic: irq after: +[0-9]+:( +[0-9]+)+ +PCI-MSI .* virtio0-(config|input\.0|output\.0)$' "$2")
	[ "$_il" -eq 3 ] && [ "$_msi" -eq 3 ]
	result $? "$1: the NIC's interrupts are MSI-X vectors ($_msi PCI-MSI lines: config, input.0, output.0)" \
		"$(grep 'irq after' "$2" | tr '\n' '|')"
	_l='irq virtio0 count'
	_delta=$(field "$2" "$_l" delta)
	[ "${3:-0}" -ge 1 ] && [ "$3" -le "${4:-0}" ] && [ "${_delta:-0}" -ge 1 ]
	result $? \
		"$1: interrupts: device $3 (at most one per drain: $4 drains, $5 kicks), guest +$_delta ($(guest_vectors "$2"))" \
		"$(grep -m1 "$_l" "$2")"
}

# guest_irqs_on_cpu NAME LOG CPU: a TAP result, the interrupts the NIC's
# queues (virtio0-input.0 and -output.0, or the one pin line virtio0) took
# during the run landed on CPU (the guest's /init steered them there,
# vnl.irqcpu), and there were some: the per-CPU columns of the traffic
# tool's "irq before:" and "irq after:" lines. x86 moves an interrupt when
# it next fires, so each line may take its first one on its old CPU.
guest_irqs_on_cpu() {
	_d=$(awk -v cpu="$3" '/vnetloop-traffic: irq (before|after): / &&
		$NF ~ /^virtio0(-input|-output|$)/ {
		for (i = 5; i <= NF && $i ~ /^[0-9]+$/; i++)
			v[$3, $NF, i - 5] = $i
		ncpu = i - 5
		q[$NF] = 1
	}
	END {
		for (n in q)
			for (c = 0; c < ncpu; c++) {
				d = v["after:", n, c] - v["before:", n, c]
				if (c == cpu)
					on += d
				else
					off += d
			}
		printf "%d %d %d %d", on, off, ncpu, length(q)
	}' "$2")
	set -- "$1" "$2" "$3" $_d
	[ "$4" -ge 1 ] && [ "$5" -le "$7" ] && [ "$6" -gt "$3" ]
	result $? "$1: the queues' interrupts landed on CPU $3 ($4 there, $5 elsewhere, at most one per line before the move: $7)" \
		"$(grep 'irq after' "$2" | tr '\n' '|')"
}
