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
