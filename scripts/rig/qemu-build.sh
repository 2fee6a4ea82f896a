#!/bin/bash
# The rig's QEMU: Debian's own qemu source package, of the version of
# qemu-system-x86 installed here, with the project's patches
# (scripts/rig/qemu/*.patch), built once for x86-64 TCG with the pc machine
# only (scripts/rig/qemu/rig.mak). Why: the stock build delivers a nested
# guest's interrupt a second time, with interrupts off
# (Documentation/linux-guest.rst, "The rig's nested KVM").
#
#   qemu-build.sh          build unless cached; print the binary's path
#   qemu-build.sh --path   print the path; exit 1 if it is not built yet
#
# The key hashes the package version, the patches, the device list and this
# script. The source comes from the Debian archive (deb-src of the release
# this machine runs, QEMU_SRC_MIRROR, default http://deb.debian.org/debian)
# through an apt state of its own, so the machine's apt lists are left as
# they are. Objects go to $CACHE/rig-qemu/<key>.build, removed after a
# successful build; the result is $CACHE/rig-qemu/<key>/qemu-system-x86_64.
# Progress goes to stderr, the build log to $CACHE/rig-qemu/<key>.log.
set -euo pipefail

CACHE=${CACHE:-$HOME/.cache/vnetloop}
JOBS=${QEMU_BUILD_JOBS:-2}
MIRROR=${QEMU_SRC_MIRROR:-http://deb.debian.org/debian}
here=$(cd "$(dirname "$0")" && pwd)

die() {
	echo "qemu-build: $*" >&2
	exit 1
}

# The source version: the binary's may carry a rebuild suffix (+b3).
version=$(dpkg-query -W -f='${source:Version}' qemu-system-x86 2>/dev/null) ||
	version=
[ -n "$version" ] ||
	die "qemu-system-x86 is not installed (scripts/deps.sh installs it)"
key=$({
	echo "qemu $version"
	cat "$here"/qemu/*.patch "$here/qemu/rig.mak" "$0"
} | sha256sum | cut -c1-16)
top=$CACHE/rig-qemu
out=$top/$key
bin=$out/qemu-system-x86_64

if [ "${1:-}" = "--path" ]; then
	echo "$bin"
	[ -x "$bin" ]
	exit
fi
[ $# -eq 0 ] || die "usage: qemu-build.sh [--path]"
if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi

mkdir -p "$top"
exec 9>"$top/.lock"
flock 9
if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi

build=$top/$key.build
log=$top/$key.log
rm -rf "$build" "$out.tmp"
mkdir -p "$build/apt/lists/partial" "$build/apt/archives/partial"
: >"$log"
fail() {
	tail -n 20 "$log" >&2
	die "$* (log: $log)"
}

start=$(date +%s)
echo "qemu-build: fetching the source of qemu $version (log: $log)" >&2
# shellcheck disable=SC1091
. /etc/os-release
suites="$VERSION_CODENAME $VERSION_CODENAME-updates"
cat >"$build/apt/sources" <<EOS
deb-src $MIRROR $suites main
deb-src ${MIRROR%/debian}/debian-security $VERSION_CODENAME-security main
EOS
apt_opts=(-q -o "Dir::Etc::SourceList=$build/apt/sources"
	-o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$build/apt/lists"
	-o "Dir::Cache=$build/apt" -o "Dir::Cache::archives=$build/apt/archives"
	-o APT::Sandbox::User=root)
apt-get "${apt_opts[@]}" update >>"$log" 2>&1 ||
	fail "apt-get update of the deb-src lists failed"
(cd "$build" && apt-get "${apt_opts[@]}" source --download-only \
	"qemu=$version") >>"$log" 2>&1 ||
	fail "apt-get source qemu=$version failed"
dsc=$(ls "$build"/qemu_*.dsc)
dpkg-source -x "$dsc" "$build/src" >>"$log" 2>&1 ||
	fail "dpkg-source -x $dsc failed"
for p in "$here"/qemu/*.patch; do
	patch -d "$build/src" -p1 --batch <"$p" >>"$log" 2>&1 ||
		fail "$p does not apply to qemu $version"
done
cp "$here/qemu/rig.mak" "$build/src/configs/devices/x86_64-softmmu/rig.mak"
fetched=$(date +%s)

echo "qemu-build: building qemu-system-x86_64 with -j$JOBS" >&2
mkdir -p "$build/obj"
# The firmware path is the stock package's, so the BIOS and option ROMs
# are Debian's own.
(cd "$build/obj" && "$build/src/configure" --target-list=x86_64-softmmu \
	--without-default-features --without-default-devices \
	--with-devices-x86_64=rig --enable-kvm --enable-tcg --enable-fdt=system \
	--disable-docs --disable-user --disable-werror \
	--firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu) \
	>>"$log" 2>&1 || fail "configure failed"
nice ninja -C "$build/obj" -j"$JOBS" qemu-system-x86_64 >>"$log" 2>&1 ||
	fail "build failed"
built=$(date +%s)

mkdir -p "$out.tmp"
cp "$build/obj/qemu-system-x86_64" "$out.tmp/"
echo "qemu $version with $(cd "$here/qemu" && echo *.patch)" >"$out.tmp/VERSION"
mv "$out.tmp" "$out"
rm -rf "$build"
echo "qemu-build: source in $((fetched - start)) s, built in $((built - fetched)) s: $bin" >&2
echo "$bin"
