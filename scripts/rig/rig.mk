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

# The debug rig (check step 55-debug-rig; Documentation/testing.rst, "The
# debug rig"): the same tests, but the Linux guest's, on a kernel of the
# rig's release built with KASAN, lockdep, kmemleak and debugobjects
# (scripts/debug-kernel.sh, cached), with vnetloop.ko built for it in a copy
# of the module's sources ($(DEBUG_RIG)/src; the tree's own vnetloop.ko is
# left alone).
#
#   make debug-rig              build what is missing and run the tests
#   make debug-rig-initramfs    only build $(DEBUG_RIG)/initramfs.cpio.gz
#   make debug-kernel           only build the kernel
#   scripts/rig/debug-rig.sh --run 'CMDS' | --shell   as rig.sh's
DEBUG_RIG := $(B)/debug-rig
DEBUG_RIG_INITRAMFS := $(DEBUG_RIG)/initramfs.cpio.gz
DEBUG_RIG_MODULE := $(CURDIR)/$(DEBUG_RIG)/src/vnetloop.ko
# The Linux guest boots a whole kernel under nested KVM: too slow on a
# debug kernel under TCG. Its test and its files (which would build the
# guest kernel) stay out, and so does the vhost-net peer: the debug kernel
# has no vhost-net.
DEBUG_RIG_TESTS = $(filter-out selftests/linux/% selftests/vmm/vhost-net.sh,$(RIG_TESTS))
DEBUG_RIG_FILES = $(filter-out $(B)/guest-linux/% $(B)/guest-distro/%,$(RIG_FILES))

.PHONY: debug-rig debug-rig-initramfs debug-rig-module debug-kernel

debug-kernel:
	@scripts/debug-kernel.sh >/dev/null

debug-rig-module: debug-kernel
	@echo "  MODULE    $(DEBUG_RIG_MODULE) (debug kernel)"
	+@scripts/rig/build-module.sh "$$(scripts/debug-kernel.sh --path)/build" \
		$(DEBUG_RIG)/src

debug-rig-initramfs: $(DEBUG_RIG_INITRAMFS)

$(DEBUG_RIG_INITRAMFS): debug-rig-module $$(DEBUG_RIG_TESTS) $$(DEBUG_RIG_FILES) \
		scripts/rig/init scripts/rig/mkinitramfs.sh
	@mkdir -p $(@D)
	@echo "  INITRAMFS $@"
	@scripts/rig/mkinitramfs.sh -K "$$(scripts/debug-kernel.sh --path)" \
		-o $@ -m $(DEBUG_RIG_MODULE) \
		-t "$(DEBUG_RIG_TESTS)" -f "$(DEBUG_RIG_FILES)"

debug-rig: debug-rig-initramfs
	@scripts/rig/debug-rig.sh

# `make perf`: the performance suite (scripts/perf.sh, Documentation/
# performance.rst): every data plane in one rig boot and on the host, into
# build/perf/results.csv and plots. Not part of `make check` (its smoke run
# is). PERF_ARGS passes options, e.g. PERF_ARGS="--rounds 3 --erms".
.PHONY: perf
perf: $(B)/vnetloop $(B)/bench/vnl_devbench $(B)/bench/vnl_bench modules
	@scripts/perf.sh $(PERF_ARGS)
