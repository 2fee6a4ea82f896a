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

# `make perf`: the performance suite (scripts/perf.sh, Documentation/
# performance.rst): every data plane in one rig boot and on the host, into
# build/perf/results.csv and plots. Not part of `make check` (its smoke run
# is). PERF_ARGS passes options, e.g. PERF_ARGS="--rounds 3 --erms".
.PHONY: perf
perf: $(B)/vnetloop $(B)/bench/vnl_devbench $(B)/bench/vnl_bench modules
	@scripts/perf.sh $(PERF_ARGS)
