// SPDX-License-Identifier: GPL-2.0
/*
 * vnl_devbench: the device's CPU per frame with no VM at all, as the
 * kernel's tools/virtio does for vhost. This process plays the guest: its
 * own memory is guest RAM (guest-physical 0 at its mapping), it posts
 * every RX buffer, keeps the TX ring fed BATCH frames per kick (an eventfd
 * write), and reaps what comes back on the call eventfd. The device is one
 * of vnetloop run's backends, so the same code drives them all:
 *
 *   kmod       vnetloop.ko through /dev/vnetloop (its kthread vnetloop-ID)
 *   thread     the userspace engine on a worker thread (vnl-worker)
 *   vhost-net  the kernel's vhost-net on a tap that tc loops back
 *              (its kthread vhost-PID)
 *
 * Frames are filled once and not checked: the numbers are the device's.
 * The measured phase follows a warm-up; over it the device thread's CPU
 * time (schedstat) and this process's own (the driver's, which includes
 * the softirq the tap's loop costs when it runs on this CPU) per frame.
 * One run prints one line of key=value pairs; scripts/perf.sh
 * alternates backends and prints ratios.
 *
 *   vnl_devbench --backend B [--frames N] [--size S] [--batch B]
 *                [--warmup N] [--no-event-idx]
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "include/vnetloop/frame.h"
#include "user/dev/backend.h"
#include "virtq/virtq.h"

#define QNUM		256
#define MEM_SIZE	(64u << 20)
#define RINGS		0x10000u	/* RX rings, then TX rings */
#define BUFS		0x100000u	/* RX buffers, then TX buffers */

struct bench {
	enum vnl_backend_kind kind;
	uint64_t frames, warmup;
	uint32_t size, batch;
	bool event_idx;
	uint8_t *mem;
	uint32_t stride;
	struct virtq rx, tx;
	int call, config;
	struct vnl_backend *b;
	uint64_t sent, received;
	uint64_t kicks, irqs;	/* notifies written, call signals read */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ns on CPU of this process (user and system), from getrusage(). */
static uint64_t self_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) *
	       1000000000u +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) *
	       1000u;
}

/*
 * The device's thread: a kthread named name (/proc/PID) or a thread of
 * ours (/proc/self/task/TID); its schedstat path into path.
 */
static int find_thread(const char *dir, const char *name, char *path,
		       size_t len)
{
	char p[300], comm[32];
	struct dirent *d;
	DIR *dh = opendir(dir);
	int found = -ENOENT;

	if (!dh)
		return -errno;
	while (found && (d = readdir(dh))) {
		FILE *f;

		snprintf(p, sizeof(p), "%s/%s/comm", dir, d->d_name);
		f = fopen(p, "re");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = 0;
			if (!strcmp(comm, name)) {
				snprintf(path, len, "%s/%s/schedstat", dir,
					 d->d_name);
				found = 0;
			}
		}
		fclose(f);
	}
	closedir(dh);
	return found;
}

static uint64_t thread_ns(const char *path)
{
	unsigned long long ns = 0;
	FILE *f = fopen(path, "re");

	if (f) {
		if (fscanf(f, "%llu", &ns) != 1)
			ns = 0;
		fclose(f);
	}
	return ns;
}

/* RX buffer i; TX buffer i. */
static uint64_t rx_gpa(const struct bench *x, unsigned int i)
{
	return BUFS + (uint64_t)i * x->stride;
}

static uint64_t tx_gpa(const struct bench *x, unsigned int i)
{
	return BUFS + (uint64_t)(QNUM + i) * x->stride;
}

static void post_rx(struct bench *x, uint16_t i)
{
	virtq_set_desc(&x->rx, i, rx_gpa(x, i), VNL_NET_HDR_LEN + x->size,
		       VRING_DESC_F_WRITE, 0);
	virtq_avail_add(&x->rx, i);
}

/* One step: reap, refill, send up to a batch, kick; false when idle. */
static bool step(struct bench *x, uint64_t until)
{
	uint32_t id, len;
	bool moved = false;
	unsigned int n;

	while (virtq_get_used(&x->tx, &id, &len)) {
		virtq_free_chain(&x->tx, (uint16_t)id);
		moved = true;
	}
	while (virtq_get_used(&x->rx, &id, &len)) {
		x->received++;
		post_rx(x, (uint16_t)id);
		moved = true;
	}
	if (moved)
		virtq_publish(&x->rx);
	/* In flight at most what RX can take: the loopback must not drop. */
	for (n = 0; n < x->batch && x->sent < until && x->tx.nfree &&
	     x->sent - x->received < QNUM; n++) {
		uint16_t d = virtq_next_free(&x->tx);
		struct virtq_buf b = { .gpa = tx_gpa(x, d),
				       .len = VNL_NET_HDR_LEN + x->size };

		virtq_add(&x->tx, &b, 1);
		x->sent++;
	}
	if (n) {
		virtq_publish(&x->tx);
		if (virtq_kick_prepare(&x->tx)) {
			x->b->ops->notify(x->b, VNETLOOP_QUEUE_TX);
			x->kicks++;
		}
		moved = true;
	}
	return moved;
}

/* Until `until` frames are back; -ETIMEDOUT when none came for 5 s. */
static int run(struct bench *x, uint64_t until)
{
	uint64_t last = now_ns();
	uint64_t v;

	while (x->received < until) {
		if (step(x, until)) {
			last = now_ns();
			continue;
		}
		virtq_enable_cb(&x->rx);
		virtq_enable_cb(&x->tx);
		struct pollfd p = { .fd = x->call, .events = POLLIN };

		if (poll(&p, 1, 100) == 1) {
			if (read(x->call, &v, sizeof(v)) < 0)
				return -errno;
			x->irqs += v;
		}
		if (now_ns() - last > 5000000000ull)
			return -ETIMEDOUT;
	}
	return 0;
}

static int setup(struct bench *x)
{
	static const uint8_t mac[6] = { 0x02, 'v', 'n', 'l', 0, 0xbe };
	uint64_t features = (1ULL << VIRTIO_F_VERSION_1) |
			    (1ULL << VIRTIO_NET_F_MAC);
	struct vnl_queue_cfg q[VNL_MAX_QUEUES] = { 0 };
	struct vnl_backend_env env = { 0 };
	unsigned int i;
	int ret;

	if (x->event_idx)
		features |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
	x->stride = (VNL_NET_HDR_LEN + x->size + 63) & ~63u;
	if (BUFS + 2ull * QNUM * x->stride > MEM_SIZE)
		return -E2BIG;
	x->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (x->mem == MAP_FAILED)
		return -errno;
	x->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	x->config = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (x->call < 0 || x->config < 0)
		return -errno;
	env.mem = (struct vnl_region){ .gpa = 0, .size = MEM_SIZE,
				       .hva = (uintptr_t)x->mem };
	env.call_fd[0] = env.call_fd[1] = x->call;
	env.config_fd = x->config;
	env.features = features;
	env.max_pairs = 1;
	memcpy(env.mac, mac, sizeof(mac));
	ret = vnl_backend_create(x->kind, &env, &x->b);
	if (ret)
		return ret;

	/* The frames, once: a zero header and a pattern. */
	for (i = 0; i < QNUM; i++) {
		uint8_t *p = x->mem + tx_gpa(x, i);

		memset(p, 0, VNL_NET_HDR_LEN);
		for (uint32_t j = 0; j < x->size; j++)
			p[VNL_NET_HDR_LEN + j] = (uint8_t)(i + j);
	}
	virtq_init_pages(&x->rx, QNUM, x->mem + RINGS);
	virtq_init_pages(&x->tx, QNUM, x->mem + RINGS + VIRTQ_RING_BYTES);
	x->rx.event_idx = x->tx.event_idx = x->event_idx;
	for (i = 0; i < 2; i++) {
		uint64_t base = RINGS + i * VIRTQ_RING_BYTES;

		q[i] = (struct vnl_queue_cfg){ .num = QNUM, .ready = true,
					       .desc = base,
					       .avail = base + VIRTQ_PAGE,
					       .used = base + 2 * VIRTQ_PAGE };
	}
	for (i = 0; i < QNUM; i++)
		post_rx(x, (uint16_t)i);
	virtq_publish(&x->rx);
	/* The driver's status steps, as a transport would forward them. */
	if (x->b->ops->set_status) {
		static const uint32_t steps[] = { 1, 3, 0xb };

		for (i = 0; i < 3 && !ret; i++)
			ret = x->b->ops->set_status(x->b, steps[i], features);
		if (ret)
			return ret;
	}
	return x->b->ops->start(x->b, features, q);
}

static const char *const names[] = {
	[VNL_BACKEND_KMOD] = "kmod",
	[VNL_BACKEND_THREAD] = "thread",
	[VNL_BACKEND_INLINE] = "inline",
	[VNL_BACKEND_VHOST_NET] = "vhost-net",
};

/* Where the device's thread is: its schedstat path. */
static int device_thread(const struct bench *x, char *path, size_t len)
{
	char name[32];

	switch (x->kind) {
	case VNL_BACKEND_KMOD:
		snprintf(name, sizeof(name), "vnetloop-%d", x->b->dev_id);
		return find_thread("/proc", name, path, len);
	case VNL_BACKEND_VHOST_NET:
		snprintf(name, sizeof(name), "vhost-%d", (int)getpid());
		return find_thread("/proc", name, path, len);
	case VNL_BACKEND_THREAD:
		return find_thread("/proc/self/task", "vnl-worker", path, len);
	default:
		return -EINVAL;
	}
}

/* Call signals not read yet: counted, so a phase has them all. */
static void take_irqs(struct bench *x)
{
	uint64_t v;

	if (read(x->call, &v, sizeof(v)) == sizeof(v))
		x->irqs += v;
}

/* The device's counters, where it has them; n = 0 when it does not. */
static void counters(struct bench *x, uint64_t *c, unsigned int *n)
{
	*n = 0;
	if (x->b->ops->counters(x->b, c, n))
		*n = 0;
}

/* "key=value" for a per-frame ratio, empty value when unknown. */
static void per_frame(const char *key, bool have, double v, double frames)
{
	if (have)
		printf(" %s=%.4f", key, v / frames);
	else
		printf(" %s=", key);
}

static void usage(FILE *f)
{
	fputs("usage: vnl_devbench --backend kmod|thread|vhost-net [--frames N] [--size S]\n"
	      "                    [--batch B] [--warmup N] [--no-event-idx]\n", f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "frames", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "batch", required_argument, NULL, 'B' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "no-event-idx", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench x = { .kind = VNL_BACKEND_INLINE, .frames = 200000,
			   .warmup = 20000, .size = 64, .batch = 32,
			   .event_idx = true };
	uint64_t t0, t1, d0, d1, s0, s1, k0, i0;
	uint64_t c0[VNETLOOP_NUM_COUNTERS], c1[VNETLOOP_NUM_COUNTERS];
	unsigned int n0, n1;
	double drains = 0;
	char path[320];
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			for (x.kind = 0; x.kind < 4; x.kind++)
				if (!strcmp(optarg, names[x.kind]))
					break;
			if (x.kind == VNL_BACKEND_INLINE || x.kind >= 4) {
				fprintf(stderr, "vnl_devbench: backend '%s': kmod, thread or vhost-net\n",
					optarg);
				return 2;
			}
			break;
		case 'n':
			x.frames = strtoull(optarg, NULL, 0);
			break;
		case 's':
			x.size = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'B':
			x.batch = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'w':
			x.warmup = strtoull(optarg, NULL, 0);
			break;
		case 'e':
			x.event_idx = false;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (x.kind == VNL_BACKEND_INLINE || !x.frames || !x.batch ||
	    x.batch > QNUM || x.size < 14 || x.size > VNL_MAX_FRAME_SIZE) {
		usage(stderr);
		return 2;
	}
	ret = setup(&x);
	if (ret) {
		fprintf(stderr, "vnl_devbench: %s: setting up: %s\n",
			names[x.kind], strerror(-ret));
		return 1;
	}
	ret = run(&x, x.warmup);
	if (!ret)
		ret = device_thread(&x, path, sizeof(path));
	if (ret) {
		fprintf(stderr, "vnl_devbench: %s: %s\n", names[x.kind],
			ret == -ENOENT ? "no device thread found" :
			strerror(-ret));
		return 1;
	}
	take_irqs(&x);
	counters(&x, c0, &n0);
	k0 = x.kicks;
	i0 = x.irqs;
	t0 = now_ns();
	d0 = thread_ns(path);
	s0 = self_ns();
	ret = run(&x, x.warmup + x.frames);
	t1 = now_ns();
	d1 = thread_ns(path);
	s1 = self_ns();
	take_irqs(&x);
	counters(&x, c1, &n1);
	if (ret) {
		fprintf(stderr, "vnl_devbench: %s: %s after %" PRIu64 " of %" PRIu64 " frames\n",
			names[x.kind], strerror(-ret), x.received - x.warmup,
			x.frames);
		return 1;
	}
	/* The thread backend's worker is ours: leave it out of the driver. */
	if (x.kind == VNL_BACKEND_THREAD)
		s1 -= d1 - d0;
	printf("backend=%s size=%u batch=%u event_idx=%d frames=%" PRIu64
	       " device_us_per_frame=%.4f driver_us_per_frame=%.4f frames_per_s=%.0f",
	       names[x.kind], x.size, x.batch, x.event_idx, x.frames,
	       (double)(d1 - d0) / 1000.0 / (double)x.frames,
	       (double)(s1 - s0) / 1000.0 / (double)x.frames,
	       (double)x.frames * 1e9 / (double)(t1 - t0));
	per_frame("kicks_per_frame", true, (double)(x.kicks - k0), x.frames);
	per_frame("irqs_per_frame", true, (double)(x.irqs - i0), x.frames);
	/* vhost-net has only the tap's packet and byte counts. */
	if (n0 > VNETLOOP_C_WORKER_RUNS && n1 > VNETLOOP_C_WORKER_RUNS)
		drains = (double)(c1[VNETLOOP_C_WORKER_RUNS] -
				  c0[VNETLOOP_C_WORKER_RUNS]);
	if (drains > 0)
		printf(" frames_per_drain=%.2f",
		       (double)(c1[VNETLOOP_C_TX_PACKETS] -
				c0[VNETLOOP_C_TX_PACKETS]) / drains);
	else
		printf(" frames_per_drain=");
	per_frame("drain_us_per_frame",
		  n0 > VNETLOOP_C_DRAIN_NS && n1 > VNETLOOP_C_DRAIN_NS,
		  (double)(c1[VNETLOOP_C_DRAIN_NS] - c0[VNETLOOP_C_DRAIN_NS]) /
		  1000.0, x.frames);
	printf("\n");
	x.b->ops->reset(x.b);
	vnl_backend_destroy(x.b);
	return 0;
}
