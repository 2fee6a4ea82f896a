// SPDX-License-Identifier: GPL-2.0
/*
 * vnl_traffic: drive one /dev/vnetloop device from userspace, so the stats
 * tests have counters to read. It plays the VMM and the guest driver: the
 * vhost-vdpa sequence QEMU uses, one IOTLB entry where I/O virtual
 * (guest-physical) == our address, split rings driven by the shared driver
 * (virtq/), kick = write the kick eventfd, interrupt = poll the call
 * eventfd both queues share (and the config eventfd for NEEDS_RESET).
 *
 * Prints "dev ID" once the device runs and "done" after the traffic, both on
 * stdout. With -g it waits for SIGUSR1 before sending; with -H it keeps the
 * device open afterwards until SIGTERM, SIGINT or SIGUSR1.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/vhost.h>
#include <linux/vhost_types.h>

#include "include/uapi/vnetloop.h"
#include "include/vnetloop/devid.h"
#include "include/vnetloop/frame.h"
#include "virtq/virtq.h"

#define QSZ		VNETLOOP_QUEUE_SIZE_MAX
#define HDR		VNL_NET_HDR_LEN
/* One byte over the frame cap. */
#define OVERSIZE	(VNL_MAX_FRAME_SIZE + 1u)

/* Descriptor i carries buffer i, offered in avail slot i. */
struct ring {
	struct virtq vq;
	uint8_t *buf;		/* QSZ buffers of bufsz bytes */
};

static struct {
	int fd, kick, rx_kick, call, config;
	uint32_t id;
	size_t bufsz;
	struct ring rx, tx;
	uint8_t *big;		/* the oversize frame */
} g;

static void die(const char *what)
{
	fprintf(stderr, "vnl_traffic: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void fail(const char *what)
{
	fprintf(stderr, "vnl_traffic: %s\n", what);
	exit(1);
}

/* Queue one single-descriptor chain; the device sees it at the next kick. */
static void post(struct ring *r, uint64_t addr, uint32_t len, uint16_t flags)
{
	uint16_t slot = r->vq.avail_idx % QSZ;

	virtq_set_desc(&r->vq, slot, addr, len, flags, 0);
	virtq_avail_add(&r->vq, slot);
	virtq_publish(&r->vq);
}

static uint64_t slot_addr(struct ring *r)
{
	return (uint64_t)(uintptr_t)(r->buf + (r->vq.avail_idx % QSZ) *
				     g.bufsz);
}

static void kick(void)
{
	uint64_t one = 1;

	if (write(g.kick, &one, sizeof(one)) != sizeof(one))
		die("kick");
}

/* Wait for interrupts until the TX used ring has caught up with avail. */
static void wait_tx(void)
{
	struct pollfd p = { .fd = g.call, .events = POLLIN };
	uint64_t n;

	while (virtq_used_idx(&g.tx.vq) != g.tx.vq.avail_idx) {
		int r = poll(&p, 1, 10000);

		if (r < 0 && errno != EINTR)
			die("poll call eventfd");
		if (!r)
			fail("no interrupt within 10 s");
		if (read(g.call, &n, sizeof(n)) < 0 && errno != EAGAIN)
			die("read call eventfd");
	}
}

static uint8_t get_status(void)
{
	uint8_t st;

	if (ioctl(g.fd, VHOST_VDPA_GET_STATUS, &st))
		die("VHOST_VDPA_GET_STATUS");
	return st;
}

static bool needs_reset(void)
{
	return get_status() & VIRTIO_CONFIG_S_NEEDS_RESET;
}

/* The config eventfd says a queue was poisoned; the status says which way. */
static void wait_poisoned(void)
{
	struct pollfd p[2] = {
		{ .fd = g.config, .events = POLLIN },
		{ .fd = g.call, .events = POLLIN },
	};
	uint64_t n;

	while (!needs_reset()) {
		if (!poll(p, 2, 10000))
			fail("queue not poisoned within 10 s");
		for (int i = 0; i < 2; i++)
			if (read(p[i].fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
				die("read eventfd");
	}
}

static void pause_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (ms && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void *carve(uint8_t **p, size_t n)
{
	void *r = *p;

	*p += (n + 4095) & ~(size_t)4095;
	return r;
}

static void xioctl(unsigned long req, void *arg, const char *what)
{
	if (ioctl(g.fd, req, arg))
		die(what);
}

/* QEMU's add_status: the bits must read back. */
static void add_status(uint8_t bits)
{
	uint8_t st = get_status() | bits;

	xioctl(VHOST_VDPA_SET_STATUS, &st, "VHOST_VDPA_SET_STATUS");
	if ((get_status() & bits) != bits)
		fail("status bits did not stick");
}

static void iotlb(uint8_t type, uint64_t iova, uint64_t size, uint64_t uaddr)
{
	struct vhost_msg_v2 m = {
		.type = VHOST_IOTLB_MSG_V2,
		.iotlb = {
			.iova = iova, .size = size, .uaddr = uaddr,
			.perm = type == VHOST_IOTLB_UPDATE ? VHOST_ACCESS_RW : 0,
			.type = type,
		},
	};

	if (write(g.fd, &m, sizeof(m)) != sizeof(m))
		die("IOTLB write");
}

static uint32_t dev_id(void)
{
	uint32_t id = 0;

	if (vnl_fd_dev_id(g.fd, &id))
		fail("no vnetloop-id in the fd's fdinfo");
	return id;
}

/* The vhost-vdpa sequence of QEMU 7.2, then DRIVER_OK. */
static void setup(uint32_t size)
{
	struct ring *rings[2] = { &g.rx, &g.tx };
	uint64_t features = (1ULL << VIRTIO_F_VERSION_1) |
			    (1ULL << VIRTIO_F_ACCESS_PLATFORM);
	uint64_t backend = (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) |
			   (1ULL << VHOST_BACKEND_F_IOTLB_BATCH);
	uint64_t offered;
	size_t len;
	uint8_t *mem, *p;

	g.bufsz = HDR + size;
	len = 2 * VIRTQ_RING_BYTES +
	      2 * ((QSZ * g.bufsz + 4095) & ~(size_t)4095) +
	      ((HDR + OVERSIZE + 4095) & ~(size_t)4095);
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	p = mem;
	for (int q = 0; q < 2; q++) {
		virtq_init_pages(&rings[q]->vq, QSZ,
				 carve(&p, VIRTQ_RING_BYTES));
		rings[q]->buf = carve(&p, QSZ * g.bufsz);
	}
	g.big = carve(&p, HDR + OVERSIZE);
	memset(g.tx.buf, 0x5a, QSZ * g.bufsz);

	g.fd = open("/dev/vnetloop", O_RDWR | O_CLOEXEC);
	if (g.fd < 0)
		die("open /dev/vnetloop");
	g.id = dev_id();
	g.kick = eventfd(0, EFD_CLOEXEC);
	g.rx_kick = eventfd(0, EFD_CLOEXEC);
	g.call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	g.config = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (g.kick < 0 || g.rx_kick < 0 || g.call < 0 || g.config < 0)
		die("eventfd");

	xioctl(VHOST_SET_OWNER, NULL, "VHOST_SET_OWNER");
	xioctl(VHOST_GET_FEATURES, &offered, "VHOST_GET_FEATURES");
	if ((offered & features) != features)
		fail("VERSION_1 or ACCESS_PLATFORM not offered");
	xioctl(VHOST_SET_BACKEND_FEATURES, &backend,
	       "VHOST_SET_BACKEND_FEATURES");
	add_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	xioctl(VHOST_SET_FEATURES, &features, "VHOST_SET_FEATURES");
	add_status(VIRTIO_CONFIG_S_FEATURES_OK);
	for (unsigned int q = 0; q < 2; q++) {
		struct vhost_vring_state num = { .index = q, .num = QSZ };
		struct vhost_vring_state base = { .index = q, .num = 0 };
		struct vhost_vring_state en = { .index = q, .num = 1 };
		struct vhost_vring_addr a = {
			.index = q,
			.desc_user_addr = (uintptr_t)rings[q]->vq.desc,
			.avail_user_addr = (uintptr_t)rings[q]->vq.avail,
			.used_user_addr = (uintptr_t)rings[q]->vq.used,
		};
		struct vhost_vring_file kick = {
			.index = q,
			.fd = q == VNETLOOP_QUEUE_TX ? g.kick : g.rx_kick,
		};
		struct vhost_vring_file call = { .index = q, .fd = g.call };

		xioctl(VHOST_SET_VRING_NUM, &num, "VHOST_SET_VRING_NUM");
		xioctl(VHOST_SET_VRING_ADDR, &a, "VHOST_SET_VRING_ADDR");
		xioctl(VHOST_SET_VRING_BASE, &base, "VHOST_SET_VRING_BASE");
		xioctl(VHOST_SET_VRING_KICK, &kick, "VHOST_SET_VRING_KICK");
		xioctl(VHOST_SET_VRING_CALL, &call, "VHOST_SET_VRING_CALL");
		xioctl(VHOST_VDPA_SET_VRING_ENABLE, &en,
		       "VHOST_VDPA_SET_VRING_ENABLE");
	}
	/* All of it, read-write, at iova = our address. */
	iotlb(VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0);
	iotlb(VHOST_IOTLB_UPDATE, (uintptr_t)mem, len, (uintptr_t)mem);
	iotlb(VHOST_IOTLB_BATCH_END, 0, 0, 0);
	xioctl(VHOST_VDPA_SET_CONFIG_CALL, &g.config,
	       "VHOST_VDPA_SET_CONFIG_CALL");
	add_status(VIRTIO_CONFIG_S_DRIVER_OK);
}

struct plan {
	unsigned int frames, batch, pause, nobuf, invalid, oversize, rx_ro;
	uint32_t size;
	int poison;		/* -1 none, else the queue */
	bool go, hold;
};

/* n frames of `size` bytes in batches, each with an RX buffer when rx. */
static void send_frames(const struct plan *pl, unsigned int n, bool rx)
{
	while (n) {
		unsigned int b = n < pl->batch ? n : pl->batch;
		uint16_t rx_before = g.rx.vq.avail_idx;

		for (unsigned int i = 0; i < b; i++) {
			if (rx)
				post(&g.rx, slot_addr(&g.rx), g.bufsz,
				     VRING_DESC_F_WRITE);
			post(&g.tx, slot_addr(&g.tx), g.bufsz, 0);
		}
		kick();
		wait_tx();
		if (rx && virtq_used_idx(&g.rx.vq) != (uint16_t)(rx_before + b))
			fail("RX used ring did not advance with TX");
		n -= b;
		pause_ms(pl->pause);
	}
}

static void run(const struct plan *pl)
{
	send_frames(pl, pl->frames, true);
	/* No RX buffer posted: tx_dropped_no_rx_buffer. */
	send_frames(pl, pl->nobuf, false);
	/* A device-writable TX descriptor: tx_chain_invalid. */
	for (unsigned int i = 0; i < pl->invalid; i++) {
		post(&g.tx, slot_addr(&g.tx), g.bufsz, VRING_DESC_F_WRITE);
		kick();
		wait_tx();
	}
	/* One byte over the cap: tx_oversize_dropped. */
	for (unsigned int i = 0; i < pl->oversize; i++) {
		post(&g.tx, (uintptr_t)g.big, HDR + OVERSIZE, 0);
		kick();
		wait_tx();
	}
	/* A device-readable RX descriptor: rx_chain_invalid. */
	for (unsigned int i = 0; i < pl->rx_ro; i++) {
		post(&g.rx, slot_addr(&g.rx), g.bufsz, 0);
		post(&g.tx, slot_addr(&g.tx), g.bufsz, 0);
		kick();
		wait_tx();
	}
	if (pl->poison < 0)
		return;
	/* An avail index more than the queue size ahead poisons the queue. */
	if (pl->poison == VNETLOOP_QUEUE_RX) {
		virtq_set_avail_idx(&g.rx.vq, g.rx.vq.avail_idx + QSZ + 1);
		post(&g.tx, slot_addr(&g.tx), g.bufsz, 0);
	} else {
		virtq_set_avail_idx(&g.tx.vq, g.tx.vq.avail_idx + QSZ + 1);
	}
	kick();
	wait_poisoned();
	if (pl->poison == VNETLOOP_QUEUE_RX) {
		/* TX goes on; each frame is tx_dropped_rx_poisoned. */
		wait_tx();
		send_frames(pl, 2, false);
	}
}

static unsigned int num(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !*s || v > 1000000000)
		fail("bad number");
	return (unsigned int)v;
}

static void usage(void)
{
	fputs("usage: vnl_traffic [-n FRAMES] [-s SIZE] [-b BATCH] [-p PAUSE_MS]\n"
	      "           [-D NO_RX_BUF] [-I INVALID_TX] [-O OVERSIZE] [-R RX_RO]\n"
	      "           [-P rx|tx] [-g] [-H]\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	struct plan pl = { .batch = 16, .size = 64, .poison = -1 };
	sigset_t sigs;
	int opt, sig;

	while ((opt = getopt(argc, argv, "n:s:b:p:D:I:O:R:P:gH")) != -1) {
		switch (opt) {
		case 'n': pl.frames = num(optarg); break;
		case 's': pl.size = num(optarg); break;
		case 'b': pl.batch = num(optarg); break;
		case 'p': pl.pause = num(optarg); break;
		case 'D': pl.nobuf = num(optarg); break;
		case 'I': pl.invalid = num(optarg); break;
		case 'O': pl.oversize = num(optarg); break;
		case 'R': pl.rx_ro = num(optarg); break;
		case 'P':
			if (!strcmp(optarg, "rx"))
				pl.poison = VNETLOOP_QUEUE_RX;
			else if (!strcmp(optarg, "tx"))
				pl.poison = VNETLOOP_QUEUE_TX;
			else
				usage();
			break;
		case 'g': pl.go = true; break;
		case 'H': pl.hold = true; break;
		default: usage();
		}
	}
	if (optind != argc || !pl.batch || pl.batch > QSZ || pl.size < 1 ||
	    pl.size > 65535)
		usage();

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);

	setup(pl.size);
	printf("dev %u\n", g.id);
	fflush(stdout);
	if (pl.go && (sigwait(&sigs, &sig) || sig != SIGUSR1))
		return 0;
	run(&pl);
	printf("done\n");
	fflush(stdout);
	if (pl.hold)
		sigwait(&sigs, &sig);
	close(g.fd);
	return 0;
}
