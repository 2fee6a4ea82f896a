#!/bin/sh
# Print the kernel release to build the module against: the running kernel
# when its build tree is installed (a real test host), otherwise the release
# that Debian's linux-headers-amd64 points at (the rig's kernel).
r=$(uname -r)
if [ -d "/lib/modules/$r/build" ]; then
	echo "$r"
	exit 0
fi
dep=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null)
dep=${dep%% *}
case "$dep" in
linux-headers-*) echo "${dep#linux-headers-}" ;;
*) echo "kver.sh: no kernel build tree for $r and linux-headers-amd64 is not installed" >&2
   exit 1 ;;
esac
