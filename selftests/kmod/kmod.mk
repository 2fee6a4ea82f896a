# The vnetloop.ko selftests: kselftest-harness programs that play the guest
# driver against /dev/vnetloop (selftests/kmod/). The harness headers come
# from linux-source-6.1, extracted into $(CACHE) at build time. Their netlink
# side is the tool's client, user/nl (NL_CLIENT_OBJS); the programs link
# libnl dynamically (the rig copies their libraries into its initramfs).
#
#   make selftests-kmod        build them into $(B)/selftests/kmod/
#   make selftests-kmod-run    run them here (root, vnetloop.ko loaded)

KST_DIR    := $(B)/selftests/kmod
KST_KSFT   := $(CACHE)/linux-6.1-tools/tools/testing/selftests
# Run order: lifecycle last, it checks that nothing was left behind.
KST_PROGS  := basic regions irq poison export badinput stress stop cgroup kfuzz mq \
	      iotlb lifecycle
KST_BINS   := $(KST_PROGS:%=$(KST_DIR)/%)
KST_LIB    := $(patsubst selftests/kmod/%.c,$(KST_DIR)/%.o,\
		selftests/kmod/guest.c selftests/kmod/stats_nl.c \
		selftests/kmod/stats_debugfs.c)
KST_HDRS   := $(wildcard selftests/kmod/*.h user/nl/*.h include/vnetloop/*.h) \
	      $(VIRTQ_HDRS) selftests/kmod/kmod.mk
KST_CFLAGS := $(USER_CFLAGS) $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null)
KST_LIBS   := $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null)
# Code the harness macros expand into our files: FIXTURE_SETUP/TEARDOWN
# are non-static functions, TEST() wrappers ignore their variant argument,
# and each ASSERT/EXPECT ends in a for loop clang sees as an empty body.
KST_TCFLAGS := -isystem $(KST_KSFT) -Wno-missing-prototypes \
	       -Wno-unused-parameter -Wno-empty-body

.PHONY: selftests-kmod selftests-kmod-run kst-ksft

# Extracts once; afterwards a quick check that the headers are still there.
kst-ksft:
	@scripts/kernel-src.sh tools >/dev/null

$(KST_LIB): $(KST_DIR)/%.o: selftests/kmod/%.c $(KST_HDRS)
	@mkdir -p $(@D)
	$(CC) $(KST_CFLAGS) -c -o $@ $<

$(KST_PROGS:%=$(KST_DIR)/%.o): $(KST_DIR)/%.o: selftests/kmod/%.c $(KST_HDRS) \
		| kst-ksft
	@mkdir -p $(@D)
	$(CC) $(KST_CFLAGS) $(KST_TCFLAGS) -c -o $@ $<

$(KST_BINS): %: %.o $(KST_LIB) $(VIRTQ_OBJ) $(NL_CLIENT_OBJS)
	$(CC) -o $@ $< $(KST_LIB) $(VIRTQ_OBJ) $(NL_CLIENT_OBJS) $(KST_LIBS)

selftests-kmod: $(KST_BINS)

selftests-kmod-run: $(KST_BINS)
	@selftests/kmod/run.sh $(KST_BINS)

all: $(KST_BINS)
RIG_TESTS += $(KST_BINS)
