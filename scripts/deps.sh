#!/bin/sh
# Install the Debian packages the build and the tests need; quiet and quick
# when nothing is missing. Run as root (CI) or with sudo available.
set -e
pkgs="build-essential clang llvm lld pkg-config libnl-3-dev libnl-genl-3-dev
linux-headers-amd64 linux-source-6.1 qemu-system-x86 busybox-static cpio
xz-utils zstd lz4 kmod flex bison bc libelf-dev libssl-dev python3 jq valgrind
libclang-rt-14-dev mmdebstrap dkms dh-dkms debhelper lintian fakeroot
dpkg-dev patch meson ninja-build libglib2.0-dev libpixman-1-dev libfdt-dev
iproute2 gnuplot-nox"
missing=
for p in $pkgs; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$s" = "install ok installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing >/dev/null
