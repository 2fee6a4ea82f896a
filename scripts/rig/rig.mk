# The rig: boot the kernel the module is built for under qemu with an
# initramfs holding vnetloop.ko, the kvm modules and the test programs.
#
# Other fragments add to the lists (they are included after this one, so the
# lists are read through secondary expansion):
#   RIG_TESTS += $(B)/path/to/test   kselftest/TAP programs, run in this order
#   RIG_FILES += path                 extra files; tree paths land at
#                                     /rig/<path>, absolute ones at the same
#                                     path; binaries bring their libraries
#
# RIG_NO_MODULE=1 builds an initramfs without vnetloop.ko (rig debugging only).

RIG_INITRAMFS := $(B)/rig/initramfs.cpio.gz
RIG_MODULE := $(if $(RIG_NO_MODULE),,$(CURDIR)/vnetloop.ko)

.PHONY: rig rig-initramfs rig-kernel

rig-kernel:
	@scripts/rig/fetch-kernel.sh >/dev/null

rig-initramfs: $(RIG_INITRAMFS)

.SECONDEXPANSION:
$(RIG_INITRAMFS): $(if $(RIG_NO_MODULE),,modules) $$(RIG_TESTS) $$(RIG_FILES) \
		scripts/rig/init scripts/rig/mkinitramfs.sh scripts/rig/fetch-kernel.sh
	@mkdir -p $(@D)
	@echo "  INITRAMFS $@"
	@scripts/rig/mkinitramfs.sh -o $@ $(if $(RIG_MODULE),-m $(RIG_MODULE)) \
		-t "$(RIG_TESTS)" -f "$(RIG_FILES)"

rig: rig-initramfs
	@RIG_NO_MODULE=$(RIG_NO_MODULE) scripts/rig/rig.sh --initrd $(RIG_INITRAMFS)

# `make bench-rig`: the device's CPU time per frame, kmod against thread, in
# one rig boot (scripts/bench-rig.sh). A benchmark: it prints the numbers and
# their ratio and fails only when a run fails. RIG_ERMS=off boots the rig
# with clearcpuid=erms; BENCH_ROUNDS, BENCH_FRAMES, BENCH_FRAME_SIZE,
# BENCH_BATCH and BENCH_WARMUP change the runs.
.PHONY: bench-rig
bench-rig: $(B)/vnetloop modules
	@scripts/bench-rig.sh
