#!/bin/bash
# Fetch and unpack Debian's stock kernel for the rig: the exact release the
# module is built against (scripts/kver.sh). The packages are downloaded,
# never installed: installing would run the initramfs and bootloader hooks.
# Prints the unpacked root, which always holds boot/vmlinuz-KVER and
# lib/modules/KVER (links where the packages put them elsewhere).
# Cached under $CACHE/kernel/KVER and reused; silent when already present.
#
#   fetch-kernel.sh                 the host's release, with the host's apt
#   fetch-kernel.sh --chroot DIR    the release of a Debian chroot of another
#                                   suite (scripts/chroot.sh), with its apt;
#                                   KVER defaults to its linux-headers-amd64's
#
# linux-image-KVER holds the kernel and its modules up to trixie; sid splits
# them into linux-binary-KVER (usr/lib/modules/KVER/vmlinuz),
# linux-modules-KVER and linux-base-KVER, on which linux-image-KVER, then
# empty, depends. Every dependency of linux-image-KVER whose name ends in
# KVER is fetched and unpacked with it.
#
# It also leaves the uncompressed kernel as vmlinux next to boot/: qemu boots
# that ELF directly through its PVH entry point, which saves the several
# seconds the emulated CPU needs to decompress a bzImage.
#
# Exit status: 0; 1 on a local failure; 3 when the archive is the problem
# (unreachable, no such package): the cause is the last line on stderr.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
CACHE=${CACHE:-$HOME/.cache/vnetloop}
chroot_dir=
while [ $# -gt 0 ]; do
	case $1 in
	--chroot) chroot_dir=${2:?--chroot needs a directory}; shift ;;
	*) echo "usage: fetch-kernel.sh [--chroot DIR]" >&2; exit 2 ;;
	esac
	shift
done
if [ -z "${KVER:-}" ]; then
	KVER=$("$here/../kver.sh" ${chroot_dir:+--root "$chroot_dir"})
fi
pkg=linux-image-$KVER
dir=$CACHE/kernel/$KVER
stamp=$dir/.unpacked

done_already() {
	[ -f "$stamp" ] && [ -e "$dir/boot/vmlinuz-$KVER" ] &&
		[ -d "$dir/lib/modules/$KVER/kernel" ]
}
if done_already; then
	echo "$dir"
	exit 0
fi

# archive_fail MESSAGE: the archive let us down (exit 3).
archive_fail() {
	echo "fetch-kernel: $*" >&2
	exit 3
}
die() {
	echo "fetch-kernel: $*" >&2
	exit 1
}

dl=$CACHE/kernel/download
mkdir -p "$dl"
# One fetch of a release at a time: concurrent runs wait here, then find
# the result.
exec 9>"$CACHE/kernel/.lock-$KVER"
flock 9
if done_already; then
	echo "$dir"
	exit 0
fi

# apt_cmd runs a command with the host's apt, or the chroot's, in $dl
# (apt-get download writes into the current directory).
if [ -n "$chroot_dir" ]; then
	apt_cmd() {
		"$here/../chroot.sh" run "$chroot_dir" \
			--bind "$dl:/var/cache/vnl-download" -- \
			sh -c 'cd /var/cache/vnl-download && "$@"' sh "$@"
	}
else
	apt_cmd() {
		(cd "$dl" && "$@")
	}
fi

# get PKG: the downloaded .deb of PKG, fetched unless already there.
get() {
	local p=$1 deb
	deb=$(find "$dl" -maxdepth 1 -name "${p}_*.deb" | head -n1)
	if [ -z "$deb" ]; then
		echo "fetch-kernel: downloading $p" >&2
		if ! apt_cmd apt-get download -q "$p" >"$dl/download-$KVER.log" 2>&1; then
			# The package lists may predate the release (the host's)
			# or be missing (mmdebstrap removes a chroot's): refresh
			# them once.
			if [ -n "$chroot_dir" ]; then
				apt_cmd apt-get update -q >"$dl/update-$KVER.log" 2>&1
			else
				${sudo:+"$sudo"} apt-get update -q >"$dl/update-$KVER.log" 2>&1
			fi || archive_fail "apt-get update failed: $(grep -E '^(E|W):' "$dl/update-$KVER.log" | tail -n1)"
			apt_cmd apt-get download -q "$p" >"$dl/download-$KVER.log" 2>&1 ||
				archive_fail "cannot download $p: $(grep -E '^(E|W):' "$dl/download-$KVER.log" | tail -n1)"
		fi
		deb=$(find "$dl" -maxdepth 1 -name "${p}_*.deb" | head -n1)
		[ -n "$deb" ] || die "apt-get download $p left no .deb in $dl"
	fi
	echo "$deb"
}
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo

deb=$(get "$pkg") || exit
debs=("$deb")
for p in $(dpkg-deb -f "$deb" Depends | tr ',|' '\n' |
	awk -v k="-$KVER" 'length($1) > length(k) &&
		substr($1, length($1) - length(k) + 1) == k { print $1 }' | sort -u); do
	deb=$(get "$p") || exit
	debs+=("$deb")
done

rm -rf "$dir.tmp"
mkdir -p "$dir.tmp"
for deb in "${debs[@]}"; do
	dpkg-deb -x "$deb" "$dir.tmp"
done
printf '%s\n' "${debs[@]##*/}" >"$dir.tmp/.packages"

# The bookworm layout, whatever the packages did: modules under
# lib/modules/KVER, the kernel at boot/vmlinuz-KVER.
mods=$dir.tmp/lib/modules/$KVER
if [ ! -d "$mods" ] && [ -d "$dir.tmp/usr/lib/modules/$KVER" ]; then
	mkdir -p "$dir.tmp/lib/modules"
	ln -s "../../usr/lib/modules/$KVER" "$mods"
fi
[ -d "$mods/kernel" ] || die "no modules in ${debs[*]##*/}"
bz=$dir.tmp/boot/vmlinuz-$KVER
if [ ! -f "$bz" ] && [ -f "$mods/vmlinuz" ]; then
	mkdir -p "$dir.tmp/boot"
	ln -s "../lib/modules/$KVER/vmlinuz" "$bz"
fi
[ -f "$bz" ] || die "no kernel (boot/vmlinuz-$KVER or lib/modules/$KVER/vmlinuz) in ${debs[*]##*/}"

# The bzImage's payload starts at the first valid compressed stream.
# XEN_ELFNOTE_PHYS32_ENTRY (note type 0x12) marks a PVH-bootable vmlinux.
extract() {
	magic=$1
	shift
	LC_ALL=C grep -abo "$magic" "$bz" | cut -d: -f1 | {
		while read -r off; do
			tail -c +$((off + 1)) "$bz" | "$@" >"$dir.tmp/vmlinux" 2>/dev/null || true
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
