// SPDX-License-Identifier: GPL-2.0
/*
 * Microbenchmark of the ring engine (not a test): frames/s and ns/frame for
 * 64, 1500 and 65535-byte frames, with 1, 32 and 256 frames queued per kick,
 * on 256-entry queues. Guest memory is one malloc'd region behind the same
 * memory model (core/vnl_mem.h) as every other home of the engine.
 *
 * Each result stands beside a plain memcpy of the same bytes (header plus
 * payload, one copy per frame, same buffers): the physical bound. Engine and
 * memcpy runs alternate within one process, and the medians are reported, so
 * the ratio holds even on a busy machine.
 *
 * Usage: vnl_bench [--csv] [-r ROUNDS] [-t MS_PER_MEASUREMENT]
 *        vnl_bench -c SIZE,BATCH,KICKS
 *
 * --csv prints, instead of the table, one header line and a row per frame
 * size and batch: frame_size, batch, engine_ns_per_frame,
 * engine_mframes_per_s, memcpy_ns_per_frame, pct_of_memcpy (the engine's
 * throughput as a percentage of memcpy's, the table's last column);
 * scripts/perf/plot.sh draws it. -r 1 -t 1 makes a run of a few ms.
 *
 * -c runs only the engine, KICKS rounds of BATCH frames, and prints the
 * frame count: scripts/bench-instr.sh runs it under callgrind, collecting
 * inside engine_round() only, for instructions per frame.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/vnl_engine.h"
#include "include/vnetloop/counters.h"
#include "virtq/virtq.h"

#define QSIZE		VNETLOOP_QUEUE_SIZE_MAX
#define GPA_BASE	0x100000ULL
/* Both queues' rings (RX = 0, TX = 1), one page per part. */
#define RING_AREA	(2ULL * VIRTQ_RING_BYTES)
#define MAX_STRIDE	(((u64)VNL_NET_HDR_LEN + 65535 + 63) & ~63ULL)
#define MEM_SIZE	(RING_AREA + 2 * QSIZE * MAX_STRIDE)
#define MAX_ROUNDS	31

struct bench {
	struct vnl_region reg;
	u8 *mem;
	struct vnl_engine eng;
	struct virtq q[VNETLOOP_NUM_QUEUES];	/* the guest's side */
	u64 ctr[VNETLOOP_NUM_COUNTERS];
	u64 stride;		/* bytes between two frames' buffers */
	u32 size;		/* frame bytes after the header */
	unsigned int cpy_at;	/* next buffer for the memcpy baseline */
};

struct result {
	double eng_ns, cpy_ns;	/* per frame */
	double ratio;		/* engine throughput / memcpy throughput */
};

static void b_commit(void *ctx, const u64 *delta)
{
	struct bench *b = ctx;
	unsigned int i;

	for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
		b->ctr[i] += delta[i];
}

/* The guest polls the used rings: the interrupt is only counted. */
static void b_interrupt(void *ctx, u32 isr, unsigned int vqs)
{
	(void)ctx;
	(void)isr;
	(void)vqs;
}

static const struct vnl_engine_ops b_ops = {
	.commit = b_commit,
	.interrupt = b_interrupt,
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static u64 tx_buf(const struct bench *b, unsigned int i)
{
	return RING_AREA + (u64)i * b->stride;
}

static u64 rx_buf(const struct bench *b, unsigned int i)
{
	return RING_AREA + (QSIZE + (u64)i) * b->stride;
}

/* The guest-physical address of a host pointer into guest memory. */
static u64 gpa(const struct bench *b, const void *p)
{
	return GPA_BASE + (u64)((const u8 *)p - b->mem);
}

/*
 * A fresh device for one frame size: descriptor i of each queue owns buffer
 * i for good, and avail slot i always names head i, so queuing a batch is
 * only an index bump (batches divide the queue size).
 */
static int setup(struct bench *b, u32 size)
{
	struct virtq *tx = &b->q[VNETLOOP_QUEUE_TX];
	struct virtq *rx = &b->q[VNETLOOP_QUEUE_RX];
	unsigned int q, i;
	int ret;

	b->size = size;
	b->stride = ((u64)VNL_NET_HDR_LEN + size + 63) & ~63ULL;
	b->cpy_at = 0;
	for (q = 0; q < VNETLOOP_NUM_QUEUES; q++)
		virtq_init_pages(&b->q[q], QSIZE,
				 b->mem + (u64)q * VIRTQ_RING_BYTES);
	for (i = 0; i < QSIZE; i++) {
		virtq_set_desc(tx, i, GPA_BASE + tx_buf(b, i),
			       VNL_NET_HDR_LEN + size, 0, 0);
		virtq_set_desc(rx, i, GPA_BASE + rx_buf(b, i),
			       VNL_NET_HDR_LEN + size, VRING_DESC_F_WRITE, 0);
		virtq_avail_add(tx, i);
		virtq_avail_add(rx, i);
		memset(b->mem + tx_buf(b, i), 0, VNL_NET_HDR_LEN);
		memset(b->mem + tx_buf(b, i) + VNL_NET_HDR_LEN, 0x40 + i % 64,
		       size);
	}
	/* The slots are filled for good: from now on only the index moves. */
	tx->avail_idx = rx->avail_idx = 0;
	vnl_engine_init(&b->eng, &b_ops, b, NULL);
	ret = vnl_engine_set_mem(&b->eng, &b->reg, 1);
	if (!ret)
		ret = vnl_engine_set_features(&b->eng, VNETLOOP_FEATURES);
	for (q = 0; q < VNETLOOP_NUM_QUEUES && !ret; q++)
		ret = vnl_engine_set_vring(&b->eng, q, QSIZE,
					   gpa(b, b->q[q].desc),
					   gpa(b, b->q[q].avail),
					   gpa(b, b->q[q].used));
	if (ret)
		return ret;
	vnl_engine_start(&b->eng);
	return 0;
}

/*
 * Queue batch RX buffers and batch TX frames, kick, drain until done. Not
 * inlined: callgrind collects inside it by name.
 */
static __attribute__((noinline)) void engine_round(struct bench *b,
						   unsigned int batch)
{
	struct virtq *tx = &b->q[VNETLOOP_QUEUE_TX];
	struct virtq *rx = &b->q[VNETLOOP_QUEUE_RX];

	/* RX buffers first, so that every TX frame finds one. */
	rx->avail_idx += batch;
	virtq_publish(rx);
	tx->avail_idx += batch;
	virtq_publish(tx);
	while (vnl_drain(&b->eng))
		;
}

static void memcpy_round(struct bench *b, unsigned int batch)
{
	unsigned int i, at = b->cpy_at;

	for (i = 0; i < batch; i++)
		memcpy(b->mem + rx_buf(b, at + i), b->mem + tx_buf(b, at + i),
		       VNL_NET_HDR_LEN + b->size);
	b->cpy_at = (at + batch) % QSIZE;
	/* The copies are the work: keep the compiler from dropping them. */
	__asm__ __volatile__("" : : "r"(b->mem) : "memory");
}

static double timed(struct bench *b, unsigned int batch, u64 iters,
		    bool engine)
{
	double t0 = now_ns();
	u64 i;

	for (i = 0; i < iters; i++) {
		if (engine)
			engine_round(b, batch);
		else
			memcpy_round(b, batch);
	}
	return now_ns() - t0;
}

/* Iterations that make one measurement last about target_ns. */
static u64 calibrate(struct bench *b, unsigned int batch, bool engine,
		     double target_ns)
{
	u64 iters = 1;
	double t;

	for (;;) {
		t = timed(b, batch, iters, engine);
		if (t >= target_ns / 8 || iters >= (1ULL << 40))
			break;
		iters *= 2;
	}
	iters = (u64)(iters * target_ns / (t > 1 ? t : 1));
	return iters ? iters : 1;
}

/* Right after engine rounds: RX buffer 0 holds the header and frame. */
static int verify_data(struct bench *b)
{
	const struct virtio_net_hdr_v1 hdr = { .num_buffers = 1 };

	if (memcmp(b->mem + rx_buf(b, 0), &hdr, sizeof(hdr)) ||
	    memcmp(b->mem + rx_buf(b, 0) + VNL_NET_HDR_LEN,
		   b->mem + tx_buf(b, 0) + VNL_NET_HDR_LEN, b->size)) {
		fprintf(stderr, "vnl_bench: %u-byte frames: RX buffer 0 does not hold the frame\n",
			b->size);
		return -1;
	}
	return 0;
}

/* The engine must have delivered every frame, whole, and counted it. */
static int verify_counters(struct bench *b, u64 frames)
{
	static const char *const names[] = VNETLOOP_COUNTER_NAMES;
	unsigned int i;

	for (i = 0; i < VNETLOOP_NUM_SPEC_COUNTERS; i++) {
		u64 want = 0;

		if (i == VNETLOOP_C_TX_PACKETS || i == VNETLOOP_C_RX_PACKETS)
			want = frames;
		if (i == VNETLOOP_C_TX_BYTES || i == VNETLOOP_C_RX_BYTES)
			want = frames * b->size;
		if (b->ctr[i] != want) {
			fprintf(stderr, "vnl_bench: %u-byte frames: counter %s is %llu, expected %llu\n",
				b->size, names[i], (unsigned long long)b->ctr[i],
				(unsigned long long)want);
			return -1;
		}
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int measure(struct bench *b, u32 size, unsigned int batch,
		   unsigned int rounds, double target_ns, struct result *res)
{
	double eng[MAX_ROUNDS], cpy[MAX_ROUNDS], ratio[MAX_ROUNDS];
	u64 e_iters, c_iters, frames = 0;
	unsigned int r;

	if (setup(b, size)) {
		fprintf(stderr, "vnl_bench: engine refused the queue setup\n");
		return -1;
	}
	memset(b->ctr, 0, sizeof(b->ctr));
	e_iters = calibrate(b, batch, true, target_ns);
	if (verify_data(b))
		return -1;
	c_iters = calibrate(b, batch, false, target_ns);
	/* The engine's calibration frames count too. */
	frames = b->ctr[VNETLOOP_C_TX_PACKETS];
	for (r = 0; r < rounds; r++) {
		double te, tc;

		/* Alternate the order so neither side always runs warm. */
		if (r & 1) {
			tc = timed(b, batch, c_iters, false);
			te = timed(b, batch, e_iters, true);
		} else {
			te = timed(b, batch, e_iters, true);
			tc = timed(b, batch, c_iters, false);
		}
		frames += e_iters * batch;
		eng[r] = te / (e_iters * batch);
		cpy[r] = tc / (c_iters * batch);
		ratio[r] = cpy[r] / eng[r];
	}
	if (verify_counters(b, frames))
		return -1;
	res->eng_ns = median(eng, rounds);
	res->cpy_ns = median(cpy, rounds);
	res->ratio = median(ratio, rounds);
	return 0;
}

#define CSV_HEADER "frame_size,batch,engine_ns_per_frame,engine_mframes_per_s," \
		   "memcpy_ns_per_frame,pct_of_memcpy"

static void usage(FILE *f)
{
	fprintf(f, "usage: vnl_bench [--csv] [-r ROUNDS (1..%d)] [-t MS_PER_MEASUREMENT]\n"
		"       vnl_bench -c SIZE,BATCH,KICKS\n"
		"  --csv       a CSV instead of the table, with the header\n"
		"              %s\n"
		"  -r ROUNDS   engine and memcpy measurements per point, the median reported (7)\n"
		"  -t MS       milliseconds per measurement (10); -r 1 -t 1 is a quick run\n"
		"  -c S,B,K    only the engine: K kicks of B frames of S bytes, for callgrind\n"
		"  -h, --help  this text\n", MAX_ROUNDS, CSV_HEADER);
}

static void print_header(bool csv, unsigned int rounds, double target_ms)
{
	if (csv) {
		printf("%s\n", CSV_HEADER);
		return;
	}
	printf("vnetloop ring engine vs memcpy: queue size %u, median of %u rounds, ~%.0f ms each\n",
	       QSIZE, rounds, target_ms);
	printf("(memcpy: one copy of header + payload per frame, the physical bound)\n\n");
	printf("%7s %6s | %11s %10s %8s | %11s %10s %8s | %9s\n",
	       "frame", "batch", "engine", "engine", "engine",
	       "memcpy", "memcpy", "memcpy", "engine/");
	printf("%7s %6s | %11s %10s %8s | %11s %10s %8s | %9s\n",
	       "bytes", "frames", "Mframes/s", "ns/frame", "GB/s",
	       "Mframes/s", "ns/frame", "GB/s", "memcpy");
	printf("-------------- + --------------------------------- + "
	       "--------------------------------- + ---------\n");
	fflush(stdout);
}

/* One measured point: a table line, or a CSV row in CSV_HEADER's order. */
static void print_row(bool csv, u32 size, unsigned int batch,
		      const struct result *res)
{
	double bytes = VNL_NET_HDR_LEN + size;

	if (csv)
		printf("%u,%u,%.2f,%.3f,%.2f,%.2f\n", size, batch,
		       res->eng_ns, 1e3 / res->eng_ns, res->cpy_ns,
		       100 * res->ratio);
	else
		printf("%7u %6u | %11.3f %10.1f %8.2f | %11.3f %10.1f %8.2f | %8.1f%%\n",
		       size, batch,
		       1e3 / res->eng_ns, res->eng_ns, bytes / res->eng_ns,
		       1e3 / res->cpy_ns, res->cpy_ns, bytes / res->cpy_ns,
		       100 * res->ratio);
	fflush(stdout);
}

/* -c: a fixed amount of engine work, for instruction counts. */
static int count_run(struct bench *b, const char *spec)
{
	unsigned int size, batch, kicks, i;
	u64 frames;

	if (sscanf(spec, "%u,%u,%u", &size, &batch, &kicks) != 3 ||
	    size > 65535 || !batch || QSIZE % batch || !kicks) {
		fprintf(stderr, "vnl_bench: -c wants SIZE,BATCH,KICKS with SIZE <= 65535 and BATCH dividing %u, not '%s'\n",
			QSIZE, spec);
		return 2;
	}
	if (setup(b, size)) {
		fprintf(stderr, "vnl_bench: engine refused the queue setup\n");
		return 1;
	}
	memset(b->ctr, 0, sizeof(b->ctr));
	for (i = 0; i < kicks; i++)
		engine_round(b, batch);
	frames = (u64)kicks * batch;
	if (verify_data(b) || verify_counters(b, frames))
		return 1;
	printf("frames %llu size %u batch %u\n", (unsigned long long)frames,
	       size, batch);
	return 0;
}

int main(int argc, char **argv)
{
	static const u32 sizes[] = { 64, 1500, 65535 };
	static const unsigned int batches[] = { 1, 32, 256 };
	static const struct option longopts[] = {
		{ "csv", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned int rounds = 7, si, bi;
	double target_ms = 10;
	const char *count = NULL;
	struct bench b = { 0 };
	struct result res;
	bool csv = false;
	int opt, ret = 0;

	while ((opt = getopt_long(argc, argv, "c:r:t:h", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'C':
			csv = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'c':
			count = optarg;
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		case 't':
			target_ms = atof(optarg);
			break;
		default:
			/* getopt_long() has named the option it rejects. */
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vnl_bench: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	if (rounds < 1 || rounds > MAX_ROUNDS || !(target_ms > 0)) {
		usage(stderr);
		return 2;
	}
	if (count && csv) {
		fprintf(stderr, "vnl_bench: -c prints a frame count, not a CSV: use one or the other\n");
		return 2;
	}

	b.mem = malloc(MEM_SIZE);
	if (!b.mem) {
		perror("vnl_bench: allocating guest memory");
		return 1;
	}
	/* Fault every page in now, not inside a measurement. */
	memset(b.mem, 0, MEM_SIZE);
	b.reg.gpa = GPA_BASE;
	b.reg.size = MEM_SIZE;
	b.reg.hva = (u64)(uintptr_t)b.mem;
	if (count) {
		ret = count_run(&b, count);
		free(b.mem);
		return ret;
	}

	print_header(csv, rounds, target_ms);
	for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		for (bi = 0; bi < sizeof(batches) / sizeof(batches[0]); bi++) {
			if (measure(&b, sizes[si], batches[bi], rounds,
				    target_ms * 1e6, &res)) {
				ret = 1;
				goto out;
			}
			print_row(csv, sizes[si], batches[bi], &res);
		}
	}
out:
	free(b.mem);
	return ret;
}
