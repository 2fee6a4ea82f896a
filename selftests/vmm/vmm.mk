# Tests of `vnetloop run` (selftests/vmm/):
#   mmio_test, pci_test,      host unit tests of the virtio-mmio and
#   backend_test              virtio-pci transports and the userspace
#                             backends, no KVM (kselftest
#                             harness from linux-source-6.1, via $(CACHE))
#   scenarios.sh              the built-in guest's scenarios under real KVM on
#                             each backend, counters compared across backends
#   rig-vmm.sh                the rig's run: backend_test with the module,
#                             all three backends, a SIGKILLed VMM during
#                             kmod traffic
#   pci_wire_test             the virtio-pci NIC's KVM wiring on a real VM
#                             (/dev/kvm), no vCPU running
#   kvm_stats_test            the KVM statistics reader (user/vmm/
#                             kvm_stats.c) on stats files made by the
#                             test, then on a real VM's vCPUs (/dev/kvm)
# scripts/check.d/30-vmm-host runs all but rig-vmm.sh on the host.
VMM_T_DIR   := $(B)/selftests/vmm
VMM_T_KSFT  := $(CACHE)/linux-6.1-tools/tools/testing/selftests
VMM_T_PROGS := mmio_test pci_test pci_wire_test backend_test kvm_stats_test
VMM_T_BINS  := $(VMM_T_PROGS:%=$(VMM_T_DIR)/%)
VMM_T_UOBJS := $(patsubst %,$(B)/user/dev/%.o,mmio virtio_dev pci pci_virtio \
		pci_msix pci_bus backend backend_kmod \
		backend_thread backend_inline backend_vhostnet) $(NL_CLIENT_OBJS)

# What the harness macros expand into: non-static fixture functions, unused
# variant arguments.
VMM_T_CFLAGS := $(USER_CFLAGS) -isystem $(VMM_T_KSFT) \
		-Wno-missing-prototypes -Wno-unused-parameter

$(VMM_T_DIR)/.ksft:
	@mkdir -p $(@D)
	scripts/kernel-src.sh tools >/dev/null
	@test -f $(VMM_T_KSFT)/kselftest_harness.h
	@touch $@

$(VMM_T_DIR)/%.o: selftests/vmm/%.c $(USER_HDRS) $(ENGINE_HDRS) \
		selftests/vmm/fake_be.h $(VMM_T_DIR)/.ksft
	$(CC) $(VMM_T_CFLAGS) -c -o $@ $<

$(VMM_T_BINS): %: %.o $(VMM_T_UOBJS) $(B)/libvnlengine.a
	$(CC) -o $@ $^ $(NL_LIBS) -lpthread

# The transport tests share a recording fake backend.
$(VMM_T_DIR)/mmio_test $(VMM_T_DIR)/pci_test $(VMM_T_DIR)/pci_wire_test: \
		$(VMM_T_DIR)/fake_be.o
# The PCI wiring test runs a real VM.
$(VMM_T_DIR)/pci_wire_test: $(patsubst %,$(B)/user/vmm/%.o,vm vcpu serial \
		wire pci_wire)

# The KVM statistics reader.
$(VMM_T_DIR)/kvm_stats_test: $(B)/user/vmm/kvm_stats.o

# The kmod variant of backend_test, for the rig (rig-vmm.sh).
$(VMM_T_DIR)/backend_kmod_test.o: selftests/vmm/backend_test.c $(USER_HDRS) \
		$(ENGINE_HDRS) $(VMM_T_DIR)/.ksft
	$(CC) $(VMM_T_CFLAGS) -DBACKEND_TEST_KMOD -c -o $@ $<

$(VMM_T_DIR)/backend_kmod_test: $(VMM_T_DIR)/backend_kmod_test.o \
		$(VMM_T_UOBJS) $(B)/libvnlengine.a
	$(CC) -o $@ $^ $(NL_LIBS) -lpthread

.PHONY: vmm-tests
vmm-tests: $(VMM_T_BINS) $(B)/vnetloop

all: $(VMM_T_BINS) $(VMM_T_DIR)/backend_kmod_test
RIG_TESTS += selftests/vmm/rig-vmm.sh
# The vhost-net peer (selftests/vmm/vhost-net.sh).
RIG_TESTS += selftests/vmm/vhost-net.sh
RIG_FILES += $(B)/bench/vnl_devbench
RIG_FILES += $(B)/vnetloop $(VMM_T_DIR)/backend_kmod_test selftests/vmm/scenarios.sh \
	     selftests/tap.sh
