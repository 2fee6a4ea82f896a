#!/bin/sh
# Boot the guest kernel and initramfs under qemu's microvm machine, whose
# virtio-mmio NIC is announced on the kernel command line just like ours, and
# check the traffic tool's verdict and the guest log. This validates the
# kernel, the initramfs and the tool without the project's VMM.
#
# usage: qemu-check.sh [-k BZIMAGE] [-i INITRAMFS] [-a tcg|kvm] [-n FRAMES]
#                      [-s SIZE] [-b dgram|user] [-x pass|fail] [-m MIB]
#                      [-e "EXTRA KERNEL PARAMETERS"] [-l LOG]
#
#   -b dgram  a UDP socket that sends to itself: every frame the guest
#             transmits comes back to its own NIC (the default)
#   -b user   slirp, which drops these frames: the tool must fail (-x fail)
#
# Exit 0 when the result is the expected one and the log is clean.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
kernel='' initrd=$top/build/guest-linux/initramfs.cpio.gz
accel=tcg frames=64 size=1514 backend=dgram expect=pass mem=256 extra='' log=''
while getopts "k:i:a:n:s:b:x:m:e:l:" opt; do
	case $opt in
	k) kernel=$OPTARG ;;
	i) initrd=$OPTARG ;;
	a) accel=$OPTARG ;;
	n) frames=$OPTARG ;;
	s) size=$OPTARG ;;
	b) backend=$OPTARG ;;
	x) expect=$OPTARG ;;
	m) mem=$OPTARG ;;
	e) extra=$OPTARG ;;
	l) log=$OPTARG ;;
	*) exit 2 ;;
	esac
done

die() {
	echo "qemu-check: $*" >&2
	exit 1
}

if [ -z "$kernel" ]; then
	kernel=$("$top/scripts/guest-kernel.sh" --path) ||
		die "no guest kernel at $kernel (make guest-kernel)"
fi
[ -f "$kernel" ] || die "$kernel does not exist"
[ -f "$initrd" ] || die "$initrd does not exist (make $top/build/guest-linux/initramfs.cpio.gz)"
command -v qemu-system-x86_64 >/dev/null ||
	die "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"

case $backend in
dgram)
	# A port per run, so that parallel runs do not hear each other.
	port=$((20000 + $$ % 20000))
	netdev="dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=$port"
	netdev="$netdev,remote.type=inet,remote.host=127.0.0.1,remote.port=$port"
	;;
user) netdev=user,id=n0 ;;
*) die "unknown backend $backend (dgram or user)" ;;
esac
[ -n "$log" ] || log=$(mktemp "${TMPDIR:-/tmp}/vnl-qemu.XXXXXX")

# microvm has no keyboard controller, so reboot=t (triple fault) stands in
# for reboot=k here; -no-reboot turns the reset into qemu exiting. Under TCG
# the guest sees no KVM signature and would time the I/O APIC timer check
# against an emulated clock on a busy host, which can fail: skip the check,
# as a KVM guest does on its own. pci=off: microvm has no PCI (the kernel,
# which also runs on QEMU's pc machine, has it), as with the project's VMM.
append="console=ttyS0 reboot=t panic=-1 pci=off no_timer_check"
append="$append vnl.frames=$frames vnl.size=$size"
[ "$expect" = fail ] && append="$append vnl.timeout=3"
[ -z "$extra" ] || append="$append $extra"
rc=0
timeout 600 qemu-system-x86_64 -M microvm,acpi=off -accel "$accel" \
	-cpu max -m "$mem" -smp 1 -display none -no-reboot -nodefaults \
	-serial stdio -kernel "$kernel" -initrd "$initrd" -append "$append" \
	-netdev "$netdev" -device virtio-net-device,netdev=n0 \
	</dev/null >"$log" 2>&1 || rc=$?
tr -d '\r' <"$log"
[ "$rc" -eq 0 ] || die "qemu exited with status $rc (log: $log)"

bad=$(grep -E -i 'nobody cared|spurious|virtio.*(error|fail)|Kernel panic|WARNING:|BUG:|Call Trace' "$log" || true)
[ -z "$bad" ] || die "the guest log has errors (log: $log):
$bad"
got=$(sed -n 's/^VNETLOOP-GUEST-RESULT: \([A-Z]*\).*/\1/p' "$log" | tr -d '\r')
case "$expect:$got" in
pass:PASS | fail:FAIL) echo "qemu-check: $got as expected (backend $backend, log: $log)" ;;
*) die "expected $expect, the guest said '${got:-nothing}' (log: $log)" ;;
esac
