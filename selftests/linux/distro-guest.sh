#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# A stock distribution kernel drives the loopback NIC under vnetloop's own
# VMM (TAP): linux-guest.sh's traffic runs with Debian's kernel of the rig's
# release as the guest (`make guest-distro`: its virtio_pci and virtio_net
# are modules, loaded by /init from the initramfs), on virtio-pci with
# MSI-X (the stock kernel has no virtio-mmio command-line devices), on
# every backend, with 2 vCPUs and the NIC's queue interrupts steered to CPU
# 1: each run checks that they all landed there. In `make check` (the
# rig's RIG_TESTS); by hand:
#   scripts/rig/rig.sh --run 'sh selftests/linux/distro-guest.sh'
#
#   distro-guest.sh [linux-guest.sh options]
top=$(cd "$(dirname "$0")/../.." && pwd)
KERNEL=${KERNEL:-$top/build/guest-distro/vmlinuz}
INITRD=${INITRD:-$top/build/guest-distro/initramfs.cpio.gz}
# Debian ships System.map as a stub (the real one is in the -dbg package).
MAP=${MAP:-/nonexistent}
# The stock kernel and its initramfs unpack to about 60 MiB.
GUEST_MEM=${GUEST_MEM:-256}
export KERNEL INITRD MAP GUEST_MEM
exec sh "${0%/*}/linux-guest.sh" -x -t pci -c 2 -q 1 "$@"
