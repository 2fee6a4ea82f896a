#!/bin/bash
# The debug rig: scripts/rig/rig.sh on the debug kernel (scripts/debug-kernel.sh:
# KASAN, lockdep, kmemleak, debugobjects...) with the initramfs `make
# debug-rig-initramfs` builds (build/debug-rig/initramfs.cpio.gz), logs in
# build/debug-rig/. The kernel must have every option in RIG_REQUIRE_DEBUG
# (below), and kmemleak's scan after rmmod must come back clean.
#
#   debug-rig.sh                  run the tests; print TAP
#   debug-rig.sh --run 'CMDS'     any rig.sh options, e.g. commands or --shell
#
# The kernel is not built here: `make debug-kernel` (or the check step)
# does, once. The timeouts are the debug kernel's (Documentation/testing.rst,
# "The debug rig"). RIG_TIMEOUT, RIG_TEST_TIMEOUT, RIG_OUT and the other
# RIG_* settings of rig.sh apply.
set -u
cd "$(dirname "$0")/../.." || exit 1

kroot=$(scripts/debug-kernel.sh --path) || {
	echo "debug-rig: the debug kernel is not built yet ($kroot): run 'make debug-kernel'" >&2
	exit 1
}
export RIG_OUT=${RIG_OUT:-build/debug-rig}
# Twice the stock rig's: a whole run takes 2 to 3.5 minutes, the tests
# about twice as long as on Debian's kernel, and a loaded host stretches
# that further.
export RIG_TIMEOUT=${RIG_TIMEOUT:-1800}
export RIG_TEST_TIMEOUT=${RIG_TEST_TIMEOUT:-600}
export RIG_REQUIRE_DEBUG=${RIG_REQUIRE_DEBUG-KASAN PROVE_LOCKING PROVE_RCU DEBUG_ATOMIC_SLEEP DEBUG_KMEMLEAK DEBUG_OBJECTS}
exec scripts/rig/rig.sh --kernel-root "$kroot" \
	--initrd build/debug-rig/initramfs.cpio.gz "$@"
