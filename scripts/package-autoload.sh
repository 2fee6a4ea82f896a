#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Inside the rig (scripts/check.d/70-packages): the module's aliases load it
# on demand. /init has loaded vnetloop.ko (in /lib/modules/KVER/extra, in
# modules.dep and modules.alias); each case unloads it, then does what a
# user does and expects the kernel to load it again through /sbin/modprobe:
#
#   - resolving the generic netlink family (`vnetloop stats`):
#     MODULE_ALIAS_GENL_FAMILY, "net-pf-16-proto-16-family-vnetloop"
#   - opening /dev/vnetloop made from modules.devname, as kmod static-nodes
#     does at boot: MODULE_ALIAS("devname:vnetloop") with the fixed minor's
#     MODULE_ALIAS_MISCDEV, "char-major-10-MINOR"
#
# It leaves the module loaded, for the tests after it. TAP on stdout.
. "${0%/*}/../selftests/tap.sh"
loaded() {
	[ -d /sys/module/vnetloop ]
}
unload() {
	loaded || return 0
	rmmod vnetloop 2>&1 | sed 's/^/# /'
	! loaded
}

echo "TAP version 13"
echo "1..3"
kver=$(uname -r)

# depmod's view of the aliases: "vnetloop vnetloop c10:MINOR".
line=$(grep '^vnetloop ' "/lib/modules/$kver/modules.devname" 2>/dev/null)
echo "# modules.devname: ${line:-nothing for vnetloop}"
minor=
case $line in
"vnetloop vnetloop c10:"*) minor=${line##*:} ;;
esac
[ -n "$minor" ]
result $? "modules.devname names /dev/vnetloop with a fixed misc minor"

if unload; then
	vnetloop stats >/tmp/stats.out 2>&1
	rc=$?
	sed 's/^/# stats: /' /tmp/stats.out
	echo "# vnetloop stats: exit status $rc (5: no devices, 3: module not loaded)"
	loaded
	result $? "resolving the netlink family loads the module"
else
	result 1 "resolving the netlink family loads the module: rmmod vnetloop failed"
fi

if [ -z "$minor" ]; then
	result 1 "opening /dev/vnetloop loads the module: no minor in modules.devname"
elif unload; then
	rm -f /dev/vnetloop
	mknod -m 0600 /dev/vnetloop c 10 "$minor"
	if (exec 3</dev/vnetloop) 2>/tmp/open.err; then
		loaded
		result $? "opening /dev/vnetloop (c 10:$minor) loads the module"
	else
		sed 's/^/# open: /' /tmp/open.err
		result 1 "opening /dev/vnetloop (c 10:$minor) loads the module"
	fi
else
	result 1 "opening /dev/vnetloop loads the module: rmmod vnetloop failed"
fi
loaded || insmod "/lib/modules/$kver/extra/vnetloop.ko"
[ "$fails" -eq 0 ]
