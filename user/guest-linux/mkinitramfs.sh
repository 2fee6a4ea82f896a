#!/bin/sh
# Build the Linux-guest initramfs: static busybox with its applets in /bin,
# /init and the traffic tool, plus /dev/console so that init has a console
# before it mounts devtmpfs. Root owns everything and all times are zero, so
# the same inputs give the same archive.
#
# With -k MODDIR (a kernel's lib/modules/KVER), for a distribution kernel
# whose virtio drivers are modules: virtio_pci and virtio_net and the
# modules they depend on (modinfo's "depends") go to /lib/modules, and
# /etc/modules lists them in an order that loads each after its
# dependencies (/init loads them with insmod).
#
# usage: mkinitramfs.sh [-k MODDIR] OUT.cpio.gz INIT TOOL [BUSYBOX]
set -eu

die() {
	echo "mkinitramfs: $*" >&2
	exit 1
}

usage="usage: mkinitramfs.sh [-k MODDIR] OUT.cpio.gz INIT TOOL [BUSYBOX]"
moddir=''
while getopts k: o; do
	case $o in
	k) moddir=$OPTARG ;;
	*) die "$usage" ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -lt 3 ] || [ $# -gt 4 ]; then
	die "$usage"
fi
out=$1 init=$2 tool=$3 busybox=${4:-/bin/busybox}

# Nothing in the guest can load a shared library: insist on static binaries.
static_elf() {
	[ -f "$1" ] || die "$1 does not exist${2:+ ($2)}"
	hdr=$(LC_ALL=C readelf -lW "$1" 2>/dev/null) || die "$1 is not an ELF file"
	case $hdr in
	*"program interpreter"*) die "$1 is dynamically linked${2:+ ($2)}" ;;
	esac
}
static_elf "$busybox" "install busybox-static"
static_elf "$tool" ""
[ -f "$init" ] || die "$init does not exist"

root=$(mktemp -d "${TMPDIR:-/tmp}/vnl-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir "$root/bin" "$root/dev" "$root/proc" "$root/sys"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
cp "$tool" "$root/bin/vnetloop-traffic"
cp "$init" "$root/init"
chmod 0755 "$root/init" "$root/bin/busybox" "$root/bin/vnetloop-traffic"

# module NAME: copy NAME.ko after its dependencies, once, and list it.
# (sh has no local variables: nothing set before the recursion is used
# after it.)
module_ko() {
	ko=$(find "$moddir/kernel" -name "$1.ko" | head -n 1)
	[ -n "$ko" ] || die "no $1.ko under $moddir/kernel"
	echo "$ko"
}
module() {
	grep -qx "$1" "$root/etc/modules" && return 0
	deps=$(modinfo -F depends "$(module_ko "$1")") ||
		die "modinfo of $1.ko failed"
	for dep in $(echo "$deps" | tr ',' ' '); do
		module "$dep"
	done
	cp "$(module_ko "$1")" "$root/lib/modules/$1.ko"
	echo "$1" >>"$root/etc/modules"
}
if [ -n "$moddir" ]; then
	[ -d "$moddir/kernel" ] || die "$moddir has no kernel/ (a lib/modules/KVER?)"
	command -v modinfo >/dev/null || die "modinfo missing (install kmod)"
	mkdir -p "$root/lib/modules" "$root/etc"
	: >"$root/etc/modules"
	module virtio_pci
	module virtio_net
fi
find "$root" -exec touch -h -d @0 {} +

# One newc header; fields are 8 hex digits, the name is NUL-terminated and
# the header plus name padded to a multiple of 4 bytes.
newc_entry() { # name mode rdevmajor rdevminor
	namesize=$((${#1} + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\000' \
		1 "$2" 0 0 1 0 0 0 0 "$3" "$4" "$namesize" 0 "$1"
	pad=$(((4 - (110 + namesize) % 4) % 4))
	while [ "$pad" -gt 0 ]; do
		printf '\000'
		pad=$((pad - 1))
	done
}

tmp=$out.tmp
{
	(cd "$root" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --reproducible --quiet)
	# A second archive with the console device node, which needs no
	# privileges to describe (the kernel unpacks archives in sequence).
	newc_entry dev/console $((0020600)) 5 1
	newc_entry TRAILER!!! 0 0 0
} | gzip -9n >"$tmp"
mv "$tmp" "$out"
