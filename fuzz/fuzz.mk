# libFuzzer target for the ring engine. Built with clang only: the engine
# sources are compiled straight into the fuzzer with ASan and UBSan (not the
# gcc-built libvnlengine.a), so every access the engine makes is checked.
#
#   make fuzz                 fuzz for FUZZ_TIME seconds (default 60)
#   make fuzz FUZZ_TIME=600   longer; the corpus grows in $(B)/fuzz/corpus
#
# Findings land in $(B)/fuzz/ as crash-*/timeout-* files; replay one with
# $(B)/fuzz/vnl_fuzz FILE. fuzz/corpus/ holds the seed inputs.

FUZZ_BIN	:= $(B)/fuzz/vnl_fuzz
FUZZ_TIME	?= 60
FUZZ_MAX_LEN	?= 512
FUZZ_SAN	:= -fsanitize=address,undefined -fno-sanitize-recover=all
# VNL_ENGINE_TEST_HOOKS: the engine calls vnl_test_access() around every
# guest access it makes; the harness watches and races it from there.
FUZZ_CFLAGS	:= -std=c11 -D_GNU_SOURCE -DVNL_ENGINE_TEST_HOOKS -O1 -g \
		   -fno-omit-frame-pointer -Wall -Wextra -Wshadow \
		   -Wstrict-prototypes -Wmissing-prototypes -I. $(FUZZ_SAN)
FUZZ_ENGINE_OBJS := $(ENGINE_SRCS:%.c=$(B)/fuzz/%.o)
# The harness, one file a purpose (fuzz/main.c lists them).
FUZZ_SRCS	:= main.c input.c memory.c guest.c control.c drain.c \
		   invariants.c model.c
FUZZ_HARNESS_OBJS := $(FUZZ_SRCS:%.c=$(B)/fuzz/harness/%.o)

HAVE_CLANG := $(shell command -v $(CLANG) >/dev/null 2>&1 && echo y)

# Only the engine carries coverage instrumentation: its branches are what
# should steer the fuzzer, and the harness's own loops would just slow it
# down. Edge counters only: the harness maps input bytes through menus and
# modular arithmetic, so comparison tracing (trace-cmp) rarely helps, and it
# cost a third of each run. The engine objects keep their warnings visible
# but do not stop the build over a clang-only one; the harness is -Werror.
FUZZ_COV	:= -fsanitize=fuzzer-no-link -fno-sanitize-coverage=trace-cmp

$(B)/fuzz/core/%.o: core/%.c $(ENGINE_HDRS) fuzz/fuzz.mk
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) $(FUZZ_COV) -c -o $@ $<

$(B)/fuzz/harness/%.o: fuzz/%.c fuzz/vnl_fuzz.h $(ENGINE_HDRS) fuzz/fuzz.mk
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -Werror -c -o $@ $<

$(FUZZ_BIN): $(FUZZ_HARNESS_OBJS) $(FUZZ_ENGINE_OBJS)
	$(CLANG) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^

ifeq ($(HAVE_CLANG),y)
all: $(FUZZ_BIN)
endif

fuzz: $(FUZZ_BIN)
	@mkdir -p $(B)/fuzz/corpus
	$(FUZZ_BIN) -max_total_time=$(FUZZ_TIME) -max_len=$(FUZZ_MAX_LEN) \
		-timeout=10 -print_final_stats=1 \
		-artifact_prefix=$(B)/fuzz/ $(B)/fuzz/corpus fuzz/corpus

# libFuzzer target for the transports' register files (fuzz/transport.c):
# the virtio-pci function behind its bus and the virtio-mmio window, driven
# as a hostile guest would, over a checking backend of the harness's own.
# The transports carry the coverage; no engine, no test hooks.
#
#   make fuzz-transport                 FUZZ_TIME seconds (default 60)
#
# Findings land in $(B)/fuzz/transport/; fuzz/transport-corpus/ holds the
# seeds, fuzz/transport-repro/ inputs that once found a bug.
FUZZT_BIN	:= $(B)/fuzz/vnl_fuzz_transport
FUZZT_SRCS	:= mmio.c virtio_dev.c pci.c pci_virtio.c pci_msix.c pci_bus.c
FUZZT_DEV_OBJS	:= $(FUZZT_SRCS:%.c=$(B)/fuzz/user/dev/%.o)
FUZZT_CFLAGS	:= $(filter-out -DVNL_ENGINE_TEST_HOOKS,$(FUZZ_CFLAGS))

$(B)/fuzz/user/dev/%.o: user/dev/%.c $(USER_HDRS) fuzz/fuzz.mk
	@mkdir -p $(@D)
	$(CLANG) $(FUZZT_CFLAGS) $(FUZZ_COV) -c -o $@ $<

$(B)/fuzz/harness/transport.o: fuzz/transport.c $(USER_HDRS) fuzz/fuzz.mk
	@mkdir -p $(@D)
	$(CLANG) $(FUZZT_CFLAGS) -Werror -c -o $@ $<

$(FUZZT_BIN): $(B)/fuzz/harness/transport.o $(FUZZT_DEV_OBJS)
	$(CLANG) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ -lpthread

ifeq ($(HAVE_CLANG),y)
all: $(FUZZT_BIN)
endif

.PHONY: fuzz-transport
fuzz-transport: $(FUZZT_BIN)
	@mkdir -p $(B)/fuzz/transport/corpus
	$(FUZZT_BIN) -max_total_time=$(FUZZ_TIME) -max_len=$(FUZZ_MAX_LEN) \
		-timeout=10 -print_final_stats=1 \
		-artifact_prefix=$(B)/fuzz/transport/ \
		$(B)/fuzz/transport/corpus fuzz/transport-corpus
