// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the backends behind the real transport, with no KVM: a
 * test buffer plays guest RAM (guest-physical 0 = its start), the test
 * plays the driver through vnl_mmio_read/write, and the call eventfd
 * stands for the irqfd. The thread and kmod backends are also kicked the
 * way KVM's ioeventfd would, by writing their kick eventfd directly. The
 * kmod variants need /dev/vnetloop (root, vnetloop.ko loaded: the rig runs
 * them, selftests/vmm/rig-vmm.sh) and skip without it.
 */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "kselftest_harness.h"
#include "user/dev/mmio.h"

#define MEM_SIZE	(4u << 20)
#define QNUM		16
/* Where the rings start: the multiqueue tests move them past the buffers. */
static uint32_t ring_base = 0x1000u;
#define RING(q)		(ring_base + 0x3000u * (q))	/* desc, +avail, +used */
#define BUF(i)		(0x10000u + 0x1000u * (i))
#define HDR		12

static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 1 };

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static uint32_t rd(struct vnl_mmio *m, uint64_t off)
{
	uint32_t v = 0;

	vnl_mmio_read(m, off, &v, 4);
	return v;
}

static void wr(struct vnl_mmio *m, uint64_t off, uint32_t v)
{
	vnl_mmio_write(m, off, &v, 4);
}

static uint16_t *avail_idx(uint8_t *mem, int q)
{
	return (uint16_t *)(mem + RING(q) + 0x1000 + 2);
}

static uint16_t *avail_ring(uint8_t *mem, int q)
{
	return (uint16_t *)(mem + RING(q) + 0x1000 + 4);
}

static uint16_t used_idx(uint8_t *mem, int q)
{
	return __atomic_load_n((uint16_t *)(mem + RING(q) + 0x2000 + 2),
			       __ATOMIC_ACQUIRE);
}

static uint32_t used_len(uint8_t *mem, int q, int i)
{
	return *(uint32_t *)(mem + RING(q) + 0x2000 + 4 + 8 * i + 4);
}

/* One-descriptor chain in slot i of queue q, made available. */
static void add_buf(uint8_t *mem, int q, int i, uint32_t len, bool write)
{
	struct desc *d = (struct desc *)(mem + RING(q)) + i;
	uint16_t idx = *avail_idx(mem, q);

	*d = (struct desc) { .addr = BUF(i + 32 * q), .len = len,
			     .flags = write ? 2 : 0 };
	avail_ring(mem, q)[idx % QNUM] = i;
	__atomic_store_n(avail_idx(mem, q), idx + 1, __ATOMIC_RELEASE);
}

/*
 * The driver's way to DRIVER_OK: VERSION_1 and the low feature bits lo,
 * then queues 0 .. nq - 1 at their rings.
 */
static void driver_up_with(struct vnl_mmio *m, uint32_t lo, int nq)
{
	wr(m, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr(m, VIRTIO_MMIO_STATUS, 3);
	wr(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(m, VIRTIO_MMIO_DRIVER_FEATURES, lo);
	wr(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(m, VIRTIO_MMIO_DRIVER_FEATURES, 1);	/* VERSION_1 */
	wr(m, VIRTIO_MMIO_STATUS, 0xb);
	for (int q = 0; q < nq; q++) {
		wr(m, VIRTIO_MMIO_QUEUE_SEL, q);
		wr(m, VIRTIO_MMIO_QUEUE_NUM, QNUM);
		wr(m, VIRTIO_MMIO_QUEUE_DESC_LOW, RING(q));
		wr(m, VIRTIO_MMIO_QUEUE_AVAIL_LOW, RING(q) + 0x1000);
		wr(m, VIRTIO_MMIO_QUEUE_USED_LOW, RING(q) + 0x2000);
		wr(m, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr(m, VIRTIO_MMIO_STATUS, 0xf);
}

/* VERSION_1 only; both queues. */
static void driver_up(struct vnl_mmio *m)
{
	driver_up_with(m, 0, 2);
}

/* Wait for an interrupt eventfd; returns its count (0 on timeout). */
static uint64_t wait_fd(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t v = 0;

	if (poll(&p, 1, ms) == 1 && read(fd, &v, sizeof(v)) != 8)
		v = 0;
	return v;
}

/* The one line of virtio-mmio: every interrupt's eventfd. */
static uint64_t wait_call(struct vnl_backend *b, int ms)
{
	return wait_fd(b->config_fd, ms);
}

FIXTURE(be) {
	uint8_t *mem;
	int line;
	struct vnl_backend *b;
	struct vnl_mmio m;
};

FIXTURE_VARIANT(be) {
	enum vnl_backend_kind kind;
};

/*
 * Built twice: backend_test for the userspace backends (the host runs it)
 * and backend_kmod_test for the module's (the rig runs it).
 */
#ifdef BACKEND_TEST_KMOD
FIXTURE_VARIANT_ADD(be, kmod) { .kind = VNL_BACKEND_KMOD };
#else
FIXTURE_VARIANT_ADD(be, inline) { .kind = VNL_BACKEND_INLINE };
FIXTURE_VARIANT_ADD(be, thread) { .kind = VNL_BACKEND_THREAD };
#endif

#define NO_KMOD		"no /dev/vnetloop (vnetloop.ko, root)"

/* What the transport offers (run.c's): never ACCESS_PLATFORM. */
#define FEATURES	(VNETLOOP_FEATURES & \
			 ~(1ULL << VIRTIO_F_ACCESS_PLATFORM))

/* A backend over mem with these interrupt eventfds (rx, tx, config). */
static int make_backend(enum vnl_backend_kind kind, uint8_t *mem,
			const int fd[3], struct vnl_backend **b)
{
	struct vnl_backend_env env = {
		.mem = { .gpa = 0, .size = MEM_SIZE, .hva = (uintptr_t)mem },
		.call_fd = { fd[0], fd[1] },
		.config_fd = fd[2],
		.features = FEATURES,
	};

	memcpy(env.mac, mac, sizeof(mac));
	return vnl_backend_create(kind, &env, b);
}

FIXTURE_SETUP(be)
{
	self->line = -1;
	self->mem = calloc(1, MEM_SIZE);
	ASSERT_NE(NULL, self->mem);
	if (variant->kind == VNL_BACKEND_KMOD &&
	    access("/dev/vnetloop", R_OK | W_OK))
		SKIP(return, NO_KMOD);
	self->line = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, self->line);
	ASSERT_EQ(0, make_backend(variant->kind, self->mem,
				  (int[3]){ self->line, self->line,
					    self->line }, &self->b));
	vnl_mmio_init(&self->m, self->b, FEATURES);
}

FIXTURE_TEARDOWN(be)
{
	if (self->b) {
		vnl_backend_destroy(self->b);
		vnl_mmio_destroy(&self->m);
	}
	if (self->line >= 0)
		close(self->line);
	free(self->mem);
}

/*
 * A skipped setup runs the test all the same (kselftest_harness.h): each
 * test without a backend skips itself too.
 */

static void counters(struct vnl_backend *b, uint64_t *c)
{
	unsigned int n;

	b->ops->counters(b, c, &n);
}

TEST_F(be, config_space_holds_the_mac_and_no_access_platform)
{
	if (!self->b)
		SKIP(return, NO_KMOD);
	for (int i = 0; i < 6; i++) {
		uint8_t v = 0;

		vnl_mmio_read(&self->m, VIRTIO_MMIO_CONFIG + i, &v, 1);
		EXPECT_EQ(mac[i], v);
	}
	wr(&self->m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	EXPECT_EQ(1, rd(&self->m, VIRTIO_MMIO_DEVICE_FEATURES));
	EXPECT_EQ(VNETLOOP_FEATURES & ~FEATURES,
		  self->b->features & ~FEATURES);
}

TEST_F(be, frames_loop_back_with_one_interrupt_per_drain)
{
	uint64_t c[VNETLOOP_NUM_COUNTERS];

	if (!self->b)
		SKIP(return, NO_KMOD);
	/*
	 * Posted before DRIVER_OK: kmod's device looks at its rings then
	 * (vhost-vdpa's rule), the others at the kick; one drain either way.
	 */
	for (int i = 0; i < 8; i++)
		add_buf(self->mem, 0, i, HDR + 100, true);
	for (int i = 0; i < 4; i++) {
		memset(self->mem + BUF(32 + i), 0, HDR);
		memset(self->mem + BUF(32 + i) + HDR, 0x40 + i, 60);
		add_buf(self->mem, 1, i, HDR + 60, false);
	}
	driver_up(&self->m);
	wr(&self->m, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	ASSERT_EQ(1, wait_call(self->b, 2000));
	ASSERT_EQ(4, used_idx(self->mem, 1));
	ASSERT_EQ(4, used_idx(self->mem, 0));
	for (int i = 0; i < 4; i++) {
		EXPECT_EQ(0, used_len(self->mem, 1, i));
		EXPECT_EQ(HDR + 60, used_len(self->mem, 0, i));
		EXPECT_EQ(1, self->mem[BUF(i) + 10]);	/* num_buffers */
		EXPECT_EQ(0x40 + i, self->mem[BUF(i) + HDR + 59]);
	}
	EXPECT_EQ(VIRTIO_MMIO_INT_VRING,
		  rd(&self->m, VIRTIO_MMIO_INTERRUPT_STATUS));
	wr(&self->m, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	EXPECT_EQ(0, rd(&self->m, VIRTIO_MMIO_INTERRUPT_STATUS));
	counters(self->b, c);
	EXPECT_EQ(4, c[VNETLOOP_C_TX_PACKETS]);
	EXPECT_EQ(240, c[VNETLOOP_C_TX_BYTES]);
	EXPECT_EQ(4, c[VNETLOOP_C_RX_PACKETS]);
	EXPECT_EQ(240, c[VNETLOOP_C_RX_BYTES]);
	EXPECT_EQ(1, c[VNETLOOP_C_INTERRUPTS]);
	EXPECT_LE(1, c[VNETLOOP_C_KICKS]);
	/* The engine timed the drain that moved them, whatever its home. */
	EXPECT_LT(0, c[VNETLOOP_C_DRAIN_NS]);
}

TEST_F(be, no_traffic_before_driver_ok)
{
	uint64_t c[VNETLOOP_NUM_COUNTERS];

	if (!self->b)
		SKIP(return, NO_KMOD);
	add_buf(self->mem, 1, 0, HDR + 10, false);
	/* Rings are still zero for the device: set them up, then kick
	 * before DRIVER_OK, through the transport and as KVM would. */
	wr(&self->m, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	if (self->b->kick_fd[VNETLOOP_QUEUE_TX] >= 0) {
		uint64_t one = 1;

		ASSERT_EQ(8, write(self->b->kick_fd[VNETLOOP_QUEUE_TX], &one, 8));
	}
	counters(self->b, c);
	EXPECT_EQ(0, c[VNETLOOP_C_TX_PACKETS]);
	driver_up(&self->m);
	if (variant->kind == VNL_BACKEND_KMOD) {
		/*
		 * vhost-vdpa: the device takes what is in its rings at
		 * DRIVER_OK, for a guest resumed without a kick (QEMU's
		 * stop/cont).
		 */
		EXPECT_EQ(1, wait_call(self->b, 2000));
	} else {
		EXPECT_EQ(0, wait_call(self->b, 200));
		EXPECT_EQ(0, used_idx(self->mem, 1));
		counters(self->b, c);
		EXPECT_EQ(0, c[VNETLOOP_C_TX_PACKETS]);
		/* The first notify after DRIVER_OK takes what is there. */
		wr(&self->m, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
		EXPECT_EQ(1, wait_call(self->b, 2000));
	}
	EXPECT_EQ(1, used_idx(self->mem, 1));
	counters(self->b, c);
	EXPECT_EQ(1, c[VNETLOOP_C_TX_PACKETS]);
	EXPECT_EQ(1, c[VNETLOOP_C_TX_DROPPED_NO_RX_BUFFER]);
}

TEST_F(be, ioeventfd_kick_runs_the_worker)
{
	uint64_t one = 1;

	if (!self->b)
		SKIP(return, NO_KMOD);
	if (variant->kind == VNL_BACKEND_INLINE) {
		/* No ioeventfd: every kick is an MMIO exit. */
		EXPECT_EQ(-1, self->b->kick_fd[VNETLOOP_QUEUE_TX]);
		EXPECT_EQ(-1, self->b->kick_fd[VNETLOOP_QUEUE_RX]);
		return;
	}
	driver_up(&self->m);
	add_buf(self->mem, 0, 0, HDR + 100, true);
	add_buf(self->mem, 1, 0, HDR + 10, false);
	ASSERT_EQ(8, write(self->b->kick_fd[VNETLOOP_QUEUE_TX], &one, 8));
	ASSERT_EQ(1, wait_call(self->b, 2000));
	EXPECT_EQ(1, used_idx(self->mem, 0));
}

TEST_F(be, poisoned_tx_needs_reset_until_reset)
{
	uint64_t c[VNETLOOP_NUM_COUNTERS];

	if (!self->b)
		SKIP(return, NO_KMOD);
	driver_up(&self->m);
	*avail_idx(self->mem, 1) = QNUM + 1;
	wr(&self->m, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	ASSERT_EQ(1, wait_call(self->b, 2000));
	EXPECT_EQ(0xf | VIRTIO_CONFIG_S_NEEDS_RESET,
		  rd(&self->m, VIRTIO_MMIO_STATUS));
	EXPECT_EQ(VIRTIO_MMIO_INT_CONFIG,
		  rd(&self->m, VIRTIO_MMIO_INTERRUPT_STATUS));
	/* Further kicks: no interrupt, no count. */
	wr(&self->m, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	EXPECT_EQ(0, wait_call(self->b, 200));
	counters(self->b, c);
	EXPECT_EQ(1, c[VNETLOOP_C_INVALID_AVAIL_IDX_COUNT]);
	wr(&self->m, VIRTIO_MMIO_STATUS, 0);
	EXPECT_EQ(0, rd(&self->m, VIRTIO_MMIO_STATUS));
	EXPECT_EQ(0, rd(&self->m, VIRTIO_MMIO_INTERRUPT_STATUS));
	/* Counters survive the reset. */
	counters(self->b, c);
	EXPECT_EQ(1, c[VNETLOOP_C_INVALID_AVAIL_IDX_COUNT]);
}

/*
 * One eventfd per queue and one for configuration changes (PCI with
 * MSI-X): a drain raises each queue's once, poisoning the config one.
 */
FIXTURE(vec) {
	uint8_t *mem;
	int fd[3];		/* RX, TX, config */
	struct vnl_backend *b;
	struct vnl_mmio m;
};

FIXTURE_VARIANT(vec) {
	enum vnl_backend_kind kind;
};

#ifdef BACKEND_TEST_KMOD
FIXTURE_VARIANT_ADD(vec, kmod) { .kind = VNL_BACKEND_KMOD };
#else
FIXTURE_VARIANT_ADD(vec, inline) { .kind = VNL_BACKEND_INLINE };
FIXTURE_VARIANT_ADD(vec, thread) { .kind = VNL_BACKEND_THREAD };
#endif

FIXTURE_SETUP(vec)
{
	self->fd[0] = self->fd[1] = self->fd[2] = -1;
	self->mem = calloc(1, MEM_SIZE);
	ASSERT_NE(NULL, self->mem);
	if (variant->kind == VNL_BACKEND_KMOD &&
	    access("/dev/vnetloop", R_OK | W_OK))
		SKIP(return, NO_KMOD);
	for (int i = 0; i < 3; i++) {
		self->fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ASSERT_LE(0, self->fd[i]);
	}
	ASSERT_EQ(0, make_backend(variant->kind, self->mem, self->fd,
				  &self->b));
	vnl_mmio_init(&self->m, self->b, FEATURES);
}

FIXTURE_TEARDOWN(vec)
{
	if (self->b) {
		vnl_backend_destroy(self->b);
		vnl_mmio_destroy(&self->m);
	}
	for (int i = 0; i < 3; i++)
		if (self->fd[i] >= 0)
			close(self->fd[i]);
	free(self->mem);
}

TEST_F(vec, each_queue_raises_its_own_eventfd_once_per_drain)
{
	if (!self->b)
		SKIP(return, NO_KMOD);
	driver_up(&self->m);
	for (int i = 0; i < 4; i++)
		add_buf(self->mem, 0, i, HDR + 100, true);
	for (int i = 0; i < 3; i++)
		add_buf(self->mem, 1, i, HDR + 50, false);
	wr(&self->m, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	EXPECT_EQ(1, wait_fd(self->fd[0], 2000));
	EXPECT_EQ(1, wait_fd(self->fd[1], 2000));
	EXPECT_EQ(3, used_idx(self->mem, 0));
	EXPECT_EQ(3, used_idx(self->mem, 1));
	/* Nothing for configuration, nothing more for the queues. */
	EXPECT_EQ(0, wait_fd(self->fd[2], 200));
	EXPECT_EQ(0, wait_fd(self->fd[0], 0));
	EXPECT_EQ(0, wait_fd(self->fd[1], 0));
}

TEST_F(vec, no_rx_buffer_raises_only_the_tx_eventfd)
{
	if (!self->b)
		SKIP(return, NO_KMOD);
	driver_up(&self->m);
	add_buf(self->mem, 1, 0, HDR + 50, false);
	wr(&self->m, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	EXPECT_EQ(1, wait_fd(self->fd[1], 2000));
	EXPECT_EQ(0, wait_fd(self->fd[0], 200));
	EXPECT_EQ(0, wait_fd(self->fd[2], 0));
}

TEST_F(vec, poison_raises_the_config_eventfd)
{
	if (!self->b)
		SKIP(return, NO_KMOD);
	driver_up(&self->m);
	*avail_idx(self->mem, 1) = QNUM + 1;
	wr(&self->m, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	EXPECT_EQ(1, wait_fd(self->fd[2], 2000));
	EXPECT_EQ(0, wait_fd(self->fd[0], 200));
	EXPECT_EQ(0, wait_fd(self->fd[1], 0));
	EXPECT_EQ(0xf | VIRTIO_CONFIG_S_NEEDS_RESET,
		  rd(&self->m, VIRTIO_MMIO_STATUS));
}

/*
 * ---- multiqueue: four pairs, a call eventfd per queue ----
 *
 * The userspace backends only: the kmod backend's multiqueue needs a
 * device opened with max_queue_pairs set, which scenarios.sh and the
 * module's own test (selftests/kmod/mq.c) do in the rig.
 */
#ifndef BACKEND_TEST_KMOD

#define MQ_PAIRS	4
#define MQ_QUEUES	(2 * MQ_PAIRS + 1)
#define MQ_CTRL		(2 * MQ_PAIRS)
#define MQ_RINGS	0x200000u

/* A command chain in slot i of queue q: data readable, then a 1-byte ack. */
static uint8_t *add_cmd(uint8_t *mem, int q, int i, const uint8_t *cmd,
			uint32_t len)
{
	struct desc *d = (struct desc *)(mem + RING(q)) + i;
	uint16_t idx = *avail_idx(mem, q);
	uint8_t *ack = mem + BUF(i + 32 * q) + 0x800;

	memcpy(mem + BUF(i + 32 * q), cmd, len);
	*ack = 0xee;
	d[0] = (struct desc) { .addr = BUF(i + 32 * q), .len = len,
			       .flags = 1, .next = i + 1 };
	d[1] = (struct desc) { .addr = BUF(i + 32 * q) + 0x800, .len = 1,
			       .flags = 2 };
	avail_ring(mem, q)[idx % QNUM] = i;
	__atomic_store_n(avail_idx(mem, q), idx + 1, __ATOMIC_RELEASE);
	return ack;
}

FIXTURE(mq) {
	uint8_t *mem;
	int fd[MQ_QUEUES + 1];	/* the queues', then config */
	struct vnl_backend *b;
	struct vnl_mmio m;
};

FIXTURE_VARIANT(mq) {
	enum vnl_backend_kind kind;
};

FIXTURE_VARIANT_ADD(mq, inline) { .kind = VNL_BACKEND_INLINE };
FIXTURE_VARIANT_ADD(mq, thread) { .kind = VNL_BACKEND_THREAD };

#define NO_MQ		"the backend was not created (the setup failed above)"

FIXTURE_SETUP(mq)
{
	struct vnl_backend_env env = {
		.max_pairs = MQ_PAIRS,
		.features = FEATURES | VNETLOOP_FEATURES_MQ,
	};

	for (int i = 0; i <= MQ_QUEUES; i++)
		self->fd[i] = -1;
	ring_base = MQ_RINGS;
	self->mem = calloc(1, MEM_SIZE);
	ASSERT_NE(NULL, self->mem);
	env.mem = (struct vnl_region) { .gpa = 0, .size = MEM_SIZE,
					.hva = (uintptr_t)self->mem };
	for (int i = 0; i <= MQ_QUEUES; i++) {
		self->fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ASSERT_LE(0, self->fd[i]);
		if (i < MQ_QUEUES)
			env.call_fd[i] = self->fd[i];
	}
	env.config_fd = self->fd[MQ_QUEUES];
	memcpy(env.mac, mac, sizeof(mac));
	ASSERT_EQ(0, vnl_backend_create(variant->kind, &env, &self->b));
	ASSERT_EQ(MQ_PAIRS, self->b->max_pairs);
	vnl_mmio_init(&self->m, self->b, env.features);
}

FIXTURE_TEARDOWN(mq)
{
	if (self->b) {
		vnl_backend_destroy(self->b);
		vnl_mmio_destroy(&self->m);
	}
	for (int i = 0; i <= MQ_QUEUES; i++)
		if (self->fd[i] >= 0)
			close(self->fd[i]);
	free(self->mem);
	ring_base = 0x1000u;
}

/* VERSION_1, MQ and CTRL_VQ; every queue. */
static void mq_driver_up(struct vnl_mmio *m)
{
	driver_up_with(m, (uint32_t)VNETLOOP_FEATURES_MQ, MQ_QUEUES);
}

/*
 * VQ_PAIRS_SET n in slot i of the control queue, notified: the ack byte
 * once the control queue's interrupt came (0xee without one).
 */
static uint8_t pairs_set(uint8_t *mem, struct vnl_mmio *m, int call_fd,
			 int i, uint16_t n)
{
	const uint8_t cmd[4] = { VIRTIO_NET_CTRL_MQ,
				 VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, n, n >> 8 };
	uint8_t *ack = add_cmd(mem, MQ_CTRL, i, cmd, sizeof(cmd));

	wr(m, VIRTIO_MMIO_QUEUE_NOTIFY, MQ_CTRL);
	if (wait_fd(call_fd, 2000) != 1)
		return 0xee;
	return __atomic_load_n(ack, __ATOMIC_ACQUIRE);
}

/* Pair p sends one 60-byte frame of pattern 0x40 + p, into RX slot 0. */
static void pair_send(uint8_t *mem, struct vnl_mmio *m, int p)
{
	add_buf(mem, 2 * p, 0, HDR + 100, true);
	memset(mem + BUF(32 * (2 * p + 1)), 0, HDR);
	memset(mem + BUF(32 * (2 * p + 1)) + HDR, 0x40 + p, 60);
	add_buf(mem, 2 * p + 1, 0, HDR + 60, false);
	wr(m, VIRTIO_MMIO_QUEUE_NOTIFY, 2 * p + 1);
}

TEST_F(mq, config_offers_mq_and_max_pairs)
{
	uint16_t pairs = 0;

	if (!self->b)
		SKIP(return, NO_MQ);
	EXPECT_EQ(VNETLOOP_FEATURES_MQ,
		  self->b->features & VNETLOOP_FEATURES_MQ);
	vnl_mmio_read(&self->m, VIRTIO_MMIO_CONFIG + 8, &pairs, 2);
	EXPECT_EQ(MQ_PAIRS, pairs);
	/* The kick eventfds: one per queue, the control queue's too. */
	for (int q = 0; q < MQ_QUEUES; q++)
		EXPECT_EQ(variant->kind == VNL_BACKEND_THREAD,
			  self->b->kick_fd[q] >= 0);
	EXPECT_EQ(-1, self->b->kick_fd[MQ_QUEUES]);
}

TEST_F(mq, each_pair_loops_back_on_itself)
{
	uint64_t c[VNETLOOP_NUM_COUNTERS];

	if (!self->b)
		SKIP(return, NO_MQ);
	mq_driver_up(&self->m);
	ASSERT_EQ(VIRTIO_NET_OK, pairs_set(self->mem, &self->m,
					   self->fd[MQ_CTRL], 0, MQ_PAIRS));
	EXPECT_EQ(1, used_idx(self->mem, MQ_CTRL));
	EXPECT_EQ(1, used_len(self->mem, MQ_CTRL, 0));
	for (int p = 0; p < MQ_PAIRS; p++) {
		pair_send(self->mem, &self->m, p);
		EXPECT_EQ(1, wait_fd(self->fd[2 * p + 1], 2000));
		EXPECT_EQ(1, wait_fd(self->fd[2 * p], 2000));
	}
	for (int p = 0; p < MQ_PAIRS; p++) {
		uint8_t *rx = self->mem + BUF(32 * 2 * p);

		EXPECT_EQ(1, used_idx(self->mem, 2 * p));
		EXPECT_EQ(1, used_idx(self->mem, 2 * p + 1));
		EXPECT_EQ(HDR + 60, used_len(self->mem, 2 * p, 0));
		/* Its own pair's frame, no other. */
		EXPECT_EQ(0x40 + p, rx[HDR]);
		EXPECT_EQ(0x40 + p, rx[HDR + 59]);
	}
	/* No stray interrupts: each queue raised once, config never. */
	for (int q = 0; q <= MQ_QUEUES; q++)
		EXPECT_EQ(0, wait_fd(self->fd[q], 0));
	counters(self->b, c);
	EXPECT_EQ(MQ_PAIRS, c[VNETLOOP_C_TX_PACKETS]);
	EXPECT_EQ(MQ_PAIRS, c[VNETLOOP_C_RX_PACKETS]);
	EXPECT_EQ(60 * MQ_PAIRS, c[VNETLOOP_C_RX_BYTES]);
	EXPECT_EQ(1, c[VNETLOOP_C_CTRL_MQ_SET]);
	EXPECT_EQ(0, c[VNETLOOP_C_CTRL_CHAIN_INVALID]);
	EXPECT_EQ(1 + MQ_PAIRS, c[VNETLOOP_C_KICKS]);
}

TEST_F(mq, pairs_above_the_active_count_do_nothing)
{
	uint64_t c[VNETLOOP_NUM_COUNTERS];

	if (!self->b)
		SKIP(return, NO_MQ);
	mq_driver_up(&self->m);
	/* Before VQ_PAIRS_SET only pair 0 works. */
	pair_send(self->mem, &self->m, 2);
	EXPECT_EQ(0, wait_fd(self->fd[5], 200));
	EXPECT_EQ(0, used_idx(self->mem, 5));
	pair_send(self->mem, &self->m, 0);
	EXPECT_EQ(1, wait_fd(self->fd[1], 2000));
	/* Out of range: ERR, and nothing changes. */
	EXPECT_EQ(VIRTIO_NET_ERR, pairs_set(self->mem, &self->m,
					    self->fd[MQ_CTRL], 0,
					    MQ_PAIRS + 1));
	EXPECT_EQ(VIRTIO_NET_ERR, pairs_set(self->mem, &self->m,
					    self->fd[MQ_CTRL], 2, 0));
	wr(&self->m, VIRTIO_MMIO_QUEUE_NOTIFY, 5);
	EXPECT_EQ(0, wait_fd(self->fd[5], 200));
	EXPECT_EQ(0, used_idx(self->mem, 5));
	/* Three pairs: pair 2's next kick takes the frame waiting there. */
	EXPECT_EQ(VIRTIO_NET_OK, pairs_set(self->mem, &self->m,
					   self->fd[MQ_CTRL], 4, 3));
	wr(&self->m, VIRTIO_MMIO_QUEUE_NOTIFY, 5);
	EXPECT_EQ(1, wait_fd(self->fd[5], 2000));
	EXPECT_EQ(1, used_idx(self->mem, 4));
	EXPECT_EQ(0x42, self->mem[BUF(32 * 4) + HDR]);
	/* Pair 3 is still above the count. */
	pair_send(self->mem, &self->m, 3);
	EXPECT_EQ(0, wait_fd(self->fd[7], 200));
	counters(self->b, c);
	EXPECT_EQ(2, c[VNETLOOP_C_TX_PACKETS]);
	EXPECT_EQ(1, c[VNETLOOP_C_CTRL_MQ_SET]);
	/* A reset: one pair again. */
	wr(&self->m, VIRTIO_MMIO_STATUS, 0);
	EXPECT_FALSE(vnl_ueng_active((struct vnl_ueng *)self->b, 1));
}

/*
 * VQ_PAIRS_SET between 1 and 4 while every pair sends: no frame is lost
 * or lands on another pair; a pair kicked while out of use keeps its
 * frame until a kick after it is in use again.
 */
TEST_F(mq, pairs_change_under_traffic)
{
	const int rounds = 6;
	uint64_t c[VNETLOOP_NUM_COUNTERS];
	int round, p, waited;

	if (!self->b)
		SKIP(return, NO_MQ);
	mq_driver_up(&self->m);
	ASSERT_EQ(VIRTIO_NET_OK, pairs_set(self->mem, &self->m,
					   self->fd[MQ_CTRL], 0, MQ_PAIRS));
	for (round = 0; round < rounds; round++) {
		for (p = 0; p < MQ_PAIRS; p++) {
			uint8_t *tx = self->mem + BUF(round + 32 * (2 * p + 1));

			add_buf(self->mem, 2 * p, round, HDR + 100, true);
			memset(tx, 0, HDR);
			memset(tx + HDR, 0x40 + p, 60);
			add_buf(self->mem, 2 * p + 1, round, HDR + 60, false);
			wr(&self->m, VIRTIO_MMIO_QUEUE_NOTIFY, 2 * p + 1);
		}
		/* Rounds 0, 2, 4 leave one pair in use; the last all four. */
		ASSERT_EQ(VIRTIO_NET_OK,
			  pairs_set(self->mem, &self->m, self->fd[MQ_CTRL],
				    2 + 2 * round,
				    round % 2 ? MQ_PAIRS : 1));
	}
	for (p = 0; p < MQ_PAIRS; p++)
		wr(&self->m, VIRTIO_MMIO_QUEUE_NOTIFY, 2 * p + 1);
	for (p = 0; p < MQ_PAIRS; p++) {
		for (waited = 0; waited < 2000 &&
		     used_idx(self->mem, 2 * p) < rounds; waited++)
			usleep(1000);
		EXPECT_EQ(rounds, used_idx(self->mem, 2 * p)) TH_LOG("pair %d", p);
		for (round = 0; round < rounds; round++)
			EXPECT_EQ(0x40 + p, self->mem[BUF(round + 32 * 2 * p) + HDR])
				TH_LOG("pair %d, frame %d", p, round);
	}
	counters(self->b, c);
	EXPECT_EQ(rounds * MQ_PAIRS, c[VNETLOOP_C_TX_PACKETS]);
	EXPECT_EQ(rounds * MQ_PAIRS, c[VNETLOOP_C_RX_PACKETS]);
	EXPECT_EQ(1 + rounds, c[VNETLOOP_C_CTRL_MQ_SET]);
	EXPECT_EQ(0, c[VNETLOOP_C_TX_DROPPED_NO_RX_BUFFER]);
}

#endif /* !BACKEND_TEST_KMOD */

TEST(userspace_backends_refuse_too_many_pairs)
{
	uint8_t mem[64];
	struct vnl_backend_env env = {
		.mem = { .size = sizeof(mem), .hva = (uintptr_t)mem },
		.max_pairs = VNL_MAX_PAIRS + 1,
	};
	struct vnl_backend *b = NULL;

	EXPECT_EQ(-EINVAL, vnl_backend_create(VNL_BACKEND_INLINE, &env, &b));
	EXPECT_EQ(-EINVAL, vnl_backend_create(VNL_BACKEND_THREAD, &env, &b));
	EXPECT_EQ(NULL, b);
}

TEST_HARNESS_MAIN
