#!/bin/sh
# Build the Linux-guest initramfs: static busybox with its applets in /bin,
# /init and the traffic tool, plus /dev/console so that init has a console
# before it mounts devtmpfs. Root owns everything and all times are zero, so
# the same inputs give the same archive.
#
# usage: mkinitramfs.sh OUT.cpio.gz INIT TOOL [BUSYBOX]
set -eu

die() {
	echo "mkinitramfs: $*" >&2
	exit 1
}

if [ $# -lt 3 ] || [ $# -gt 4 ]; then
	die "usage: mkinitramfs.sh OUT.cpio.gz INIT TOOL [BUSYBOX]"
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
