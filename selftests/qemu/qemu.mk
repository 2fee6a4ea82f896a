# The QEMU test (selftests/qemu/qemu-vdpa.sh): Debian's qemu-system-x86_64
# boots the Linux guest of user/guest-linux/ in the rig, under nested KVM,
# with its NIC on /dev/vnetloop over vhost-vdpa (Documentation/qemu.rst).
# QEMU comes from the host (scripts/deps.sh installs qemu-system-x86) and
# lands at its own path in the rig's initramfs, with its libraries; so do
# the firmware files `-M pc -nodefaults` loads: SeaBIOS, the option ROM that
# boots -kernel over fw_cfg DMA, and the kvmvapic ROM. virtio-net-pci runs
# with romfile= (no iPXE ROM).
QEMU_RIG_BIN   := /usr/bin/qemu-system-x86_64
QEMU_RIG_DATA  := /usr/share/seabios/bios-256k.bin \
		  /usr/share/qemu/linuxboot_dma.bin /usr/share/qemu/kvmvapic.bin

RIG_TESTS += selftests/qemu/qemu-vdpa.sh
RIG_FILES += selftests/tap.sh selftests/linux/guest-log.sh $(B)/vnetloop $(B)/guest-linux/bzImage \
	     $(B)/guest-linux/System.map $(B)/guest-linux/initramfs.cpio.gz \
	     $(QEMU_RIG_BIN) $(QEMU_RIG_DATA)

# The debug rig leaves the Linux guest out (scripts/rig/rig.mk): leave out
# this test, and QEMU with it, too. The lists keep rig.mk's definitions
# (recursive, read when the debug initramfs is made) and filter them again.
$(eval QEMU_DEBUG_RIG_TESTS = $(value DEBUG_RIG_TESTS))
$(eval QEMU_DEBUG_RIG_FILES = $(value DEBUG_RIG_FILES))
DEBUG_RIG_TESTS = $(filter-out selftests/qemu/%,$(QEMU_DEBUG_RIG_TESTS))
DEBUG_RIG_FILES = $(filter-out $(QEMU_RIG_BIN) $(QEMU_RIG_DATA),$(QEMU_DEBUG_RIG_FILES))
