# The Linux-guest test (selftests/linux/linux-guest.sh): `vnetloop run
# --kernel` boots the guest kernel and initramfs of user/guest-linux/ in the
# rig, under nested KVM, on every backend. The kernel takes minutes to build
# cold (scripts/guest-kernel.sh caches it), so it is built here only when the
# rig's initramfs needs it.
RIG_TESTS += selftests/linux/linux-guest.sh
RIG_FILES += selftests/tap.sh selftests/linux/guest-log.sh
RIG_FILES += $(B)/vnetloop $(B)/guest-linux/bzImage $(B)/guest-linux/System.map \
	     $(B)/guest-linux/initramfs.cpio.gz
# Then the same traffic with Debian's stock kernel as the guest, SMP, on
# virtio-pci with MSI-X (selftests/linux/distro-guest.sh).
RIG_TESTS += selftests/linux/distro-guest.sh
# And the scheduler-test shape: 4 vCPUs, 4 queue pairs, a sender per CPU
# (selftests/linux/mq-guest.sh).
RIG_TESTS += selftests/linux/mq-guest.sh
RIG_FILES += selftests/linux/linux-guest.sh selftests/linux/distro-guest.sh \
	     selftests/linux/mq-guest.sh \
	     $(B)/guest-distro/vmlinuz $(B)/guest-distro/initramfs.cpio.gz

# `make guest-kernel` links the cached kernel here; a changed fragment or
# script means a new cache key, hence a new build.
$(B)/guest-linux/bzImage $(B)/guest-linux/System.map: scripts/guest-kernel.sh \
		scripts/kernel-build.sh \
		scripts/guest-kernel.config
	@$(MAKE) --no-print-directory guest-kernel
