# Microbenchmark of the ring engine against plain memcpy (not a test).
# `make bench` builds and runs it; `make` only builds it. `make bench-instr`
# counts the engine's instructions per frame under callgrind.

BENCH_BIN := $(B)/bench/vnl_bench

$(BENCH_BIN): bench/vnl_bench.c $(B)/libvnlengine.a $(VIRTQ_OBJ) \
		$(ENGINE_HDRS) $(VIRTQ_HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -o $@ bench/vnl_bench.c $(VIRTQ_OBJ) \
		$(B)/libvnlengine.a

all: $(BENCH_BIN)

.PHONY: bench-instr
bench: $(BENCH_BIN)
	$(BENCH_BIN)

bench-instr: $(BENCH_BIN)
	@scripts/bench-instr.sh $(BENCH_BIN)

# The guest-less device benchmark (bench/devbench.c): this process plays
# the guest against one of vnetloop run's backends. The rig runs it for
# kmod and vhost-net (scripts/perf.sh), the host for thread.
DEVBENCH_BIN := $(B)/bench/vnl_devbench
DEVBENCH_UOBJS := $(patsubst %,$(B)/user/dev/%.o,backend backend_kmod \
		  backend_thread backend_inline backend_vhostnet) \
		  $(NL_CLIENT_OBJS)

$(DEVBENCH_BIN): bench/devbench.c $(DEVBENCH_UOBJS) $(B)/libvnlengine.a \
		$(VIRTQ_OBJ) $(USER_HDRS) $(ENGINE_HDRS) $(VIRTQ_HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(NL_CFLAGS) -o $@ bench/devbench.c \
		$(DEVBENCH_UOBJS) $(VIRTQ_OBJ) $(B)/libvnlengine.a $(NL_LIBS) \
		-lpthread

all: $(DEVBENCH_BIN)
