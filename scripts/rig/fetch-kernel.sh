#!/bin/sh
# Fetch and unpack Debian's stock kernel for the rig: the exact release the
# module is built against (scripts/kver.sh). The package is downloaded, never
# installed: installing would run the host's initramfs and bootloader hooks.
# Prints the unpacked root (holding boot/vmlinuz-KVER and lib/modules/KVER).
# Cached under $CACHE and reused; silent when already present.
#
# It also leaves the uncompressed kernel as vmlinux next to boot/: qemu boots
# that ELF directly through its PVH entry point, which saves the several
# seconds the emulated CPU needs to decompress a bzImage.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
CACHE=${CACHE:-$HOME/.cache/vnetloop}
KVER=${KVER:-$("$here/../kver.sh")}
pkg=linux-image-$KVER
dir=$CACHE/kernel/$KVER
stamp=$dir/.unpacked

if [ -f "$stamp" ] && [ -f "$dir/boot/vmlinuz-$KVER" ]; then
	echo "$dir"
	exit 0
fi

dl=$CACHE/kernel/download
mkdir -p "$dl"
# One fetch at a time: concurrent runs wait here, then find the result.
exec 9>"$CACHE/kernel/.lock"
flock 9
if [ -f "$stamp" ] && [ -f "$dir/boot/vmlinuz-$KVER" ]; then
	echo "$dir"
	exit 0
fi
deb=$(find "$dl" -name "${pkg}_*.deb" | head -n1)
if [ -z "$deb" ]; then
	echo "fetch-kernel: downloading $pkg" >&2
	# apt-get download writes into the current directory.
	if ! (cd "$dl" && apt-get download -q "$pkg" >/dev/null 2>&1); then
		# The package lists may predate the release: refresh once.
		sudo=
		[ "$(id -u)" -eq 0 ] || sudo=sudo
		$sudo apt-get update -q >/dev/null
		(cd "$dl" && apt-get download -q "$pkg" >/dev/null) || {
			echo "fetch-kernel: cannot download $pkg" >&2
			exit 1
		}
	fi
	deb=$(find "$dl" -name "${pkg}_*.deb" | head -n1)
fi

rm -rf "$dir.tmp"
mkdir -p "$dir.tmp"
dpkg-deb -x "$deb" "$dir.tmp"
bz=$dir.tmp/boot/vmlinuz-$KVER
if [ ! -f "$bz" ]; then
	echo "fetch-kernel: $deb has no boot/vmlinuz-$KVER" >&2
	exit 1
fi

# The bzImage's payload starts at the first valid compressed stream.
# XEN_ELFNOTE_PHYS32_ENTRY (note type 0x12) marks a PVH-bootable vmlinux.
extract() {
	magic=$1
	shift
	LC_ALL=C grep -abo "$magic" "$bz" | cut -d: -f1 | {
		while read -r off; do
			tail -c +$((off + 1)) "$bz" | "$@" >"$dir.tmp/vmlinux" 2>/dev/null
			if readelf -n "$dir.tmp/vmlinux" 2>/dev/null |
				grep -q 'type: (0x00000012)'; then
				exit 0
			fi
		done
		rm -f "$dir.tmp/vmlinux"
		exit 1
	}
}
extract "$(printf '\3757zXZ')" xz -dcq --single-stream ||
	extract "$(printf '\050\265\057\375')" zstd -dcq ||
	extract "$(printf '\037\213\010')" gzip -dcq ||
	echo "fetch-kernel: no PVH vmlinux in $bz; booting the bzImage (slower)" >&2
: >"$dir.tmp/.unpacked"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
echo "$dir"
