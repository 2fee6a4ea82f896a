#!/bin/sh
# Print the kernel release to build the module against: the running kernel
# when its build tree is installed (a real test host), otherwise the release
# that Debian's linux-headers-amd64 points at (the rig's kernel).
#
#   kver.sh              for this machine
#   kver.sh --root DIR   the release linux-headers-amd64 points at in the
#                        Debian root DIR (a chroot of another release)
root=
case ${1:-} in
--root) root=${2:?kver.sh --root DIR}
	[ -d "$root/var/lib/dpkg" ] || {
		echo "kver.sh: $root is not a Debian root" >&2
		exit 1
	} ;;
"") r=$(uname -r)
	if [ -d "/lib/modules/$r/build" ]; then
		echo "$r"
		exit 0
	fi ;;
*) echo "usage: kver.sh [--root DIR]" >&2; exit 2 ;;
esac
# The metapackage's Depends name the versioned headers package, not always
# first (sid's start with linux-base-amd64).
dep=$(dpkg-query ${root:+--admindir="$root/var/lib/dpkg"} -W \
	-f='${Depends}' linux-headers-amd64 2>/dev/null |
	tr ',|' '\n' | sed -n 's/^ *\(linux-headers-[^ ]*\).*/\1/p' | head -n1)
case "$dep" in
linux-headers-?*) echo "${dep#linux-headers-}" ;;
*) echo "kver.sh: no kernel build tree for ${root:-$(uname -r)} and linux-headers-amd64 is not installed${root:+ there}" >&2
   exit 1 ;;
esac
