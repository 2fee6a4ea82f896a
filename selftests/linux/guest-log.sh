# SPDX-License-Identifier: GPL-2.0
# Reading the Linux guest's console, for the tests that boot it
# (selftests/linux/linux-guest.sh under vnetloop's VMM,
# selftests/qemu/qemu-vdpa.sh under QEMU). POSIX sh: the rig runs busybox.
# Needs MAP, the guest kernel's System.map.

# Lines of a guest console that must not be there: interrupts nobody
# handled, virtio errors, warnings, oopses, panics.
guest_bad='nobody cared|[Ss]purious|unexpected IRQ|No irq handler|virtio.*([Ee]rror|[Ff]ail|[Bb]ad|[Bb]roken)|WARNING:|BUG:|Oops|Call Trace|Kernel panic'

# guest_log_clean NAME LOG: a TAP result, "NAME: guest log clean"; when it
# is not, the bad lines and every oops or warning in full, as comments.
guest_log_clean() {
	_bad=$(grep -nE "$guest_bad" "$2")
	[ -z "$_bad" ]
	result $? "$1: guest log clean" "$(echo "$_bad" | head -n 5 | tr '\n' '|')" &&
		return 0
	guest_oops "$2"
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

# The nested KVM's hang (KVM inside qemu's emulated SVM, about 2 % of
# boots in the rig): the guest's vCPU spins with interrupts off in
# ktime_get_update_offsets_now(), in the timer interrupt, on a timekeeping
# sequence count left odd: an interrupt delivered while the guest had them
# off, it seems (Documentation/linux-guest.rst). It strikes while booting
# and mid-traffic, under vnetloop's VMM and under QEMU alike, never with
# the device at fault. hung_in_timekeeping RIP: 0 when RIP is there.
hung_in_timekeeping() {
	[ "$(symbol "$1")" = ktime_get_update_offsets_now ]
}
