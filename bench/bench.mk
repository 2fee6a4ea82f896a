# Microbenchmark of the ring engine against plain memcpy (not a test).
# `make bench` builds and runs it; `make` only builds it.

BENCH_BIN := $(B)/bench/vnl_bench

$(BENCH_BIN): bench/vnl_bench.c $(B)/libvnlengine.a $(ENGINE_HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -o $@ bench/vnl_bench.c $(B)/libvnlengine.a

all: $(BENCH_BIN)

bench: $(BENCH_BIN)
	$(BENCH_BIN)
