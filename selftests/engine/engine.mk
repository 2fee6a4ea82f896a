# Host unit tests of the ring engine: one program per area, each built on
# the kernel's kselftest harness, which scripts/kernel-src.sh extracts from
# linux-source-6.1 into $(CACHE) (it is never copied into the tree).
# scripts/check.d/10-engine runs them all as one TAP stream.
ENGINE_TEST_KSFT := $(CACHE)/linux-6.1-tools/tools/testing/selftests
ENGINE_TEST_DIR := $(B)/selftests/engine
ENGINE_TEST_PROGS := delivery tx_shape rx_errors notify poison limits mem rights \
		     ctrl
ENGINE_TEST_BINS := $(ENGINE_TEST_PROGS:%=$(ENGINE_TEST_DIR)/%_test)
ENGINE_TEST_OBJS := $(ENGINE_TEST_BINS:%=%.o) $(ENGINE_TEST_DIR)/vqt.o
ENGINE_TEST_HDRS := $(wildcard selftests/engine/*.h) $(ENGINE_HDRS) \
		    $(VIRTQ_HDRS)

$(ENGINE_TEST_KSFT)/kselftest_harness.h:
	scripts/kernel-src.sh tools >/dev/null

$(ENGINE_TEST_OBJS): $(ENGINE_TEST_DIR)/%.o: selftests/engine/%.c \
		$(ENGINE_TEST_HDRS) $(ENGINE_TEST_KSFT)/kselftest_harness.h
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -DVNL_ENGINE_TEST_HOOKS -I$(ENGINE_TEST_KSFT) \
		-c -o $@ $<

# The engine again, with the access hook the fixture counts and races with.
ENGINE_TEST_ENGINE := $(ENGINE_SRCS:core/%.c=$(ENGINE_TEST_DIR)/core/%.o)

$(ENGINE_TEST_ENGINE): $(ENGINE_TEST_DIR)/core/%.o: core/%.c $(ENGINE_HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -DVNL_ENGINE_TEST_HOOKS -c -o $@ $<

$(ENGINE_TEST_BINS): %: %.o $(ENGINE_TEST_DIR)/vqt.o $(ENGINE_TEST_ENGINE) \
		$(VIRTQ_OBJ)
	$(CC) -o $@ $^

all: $(ENGINE_TEST_BINS)

.PHONY: engine-tests
engine-tests: $(ENGINE_TEST_BINS)
