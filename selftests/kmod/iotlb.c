// SPDX-License-Identifier: GPL-2.0
/*
 * The IOTLB (Documentation/kmod-abi.rst): vhost IOTLB messages written to
 * the device by its owner. Each write takes one message and returns its
 * size; V1 messages are taken too; short writes and other processes are
 * refused. UPDATE never overlaps an entry (-EEXIST) and there are at most 64
 * entries (-ENOSPC); INVALIDATE removes every entry its range touches,
 * whole. Access rights are honoured for buffers and rings. Between
 * BATCH_BEGIN and BATCH_END changes are invisible, so remapping the rings
 * while traffic runs poisons nothing; remapping the buffers' entry under
 * traffic only makes chains invalid while it is gone. The IOTLB outlives a
 * reset.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests.h"

#define RX	VNETLOOP_QUEUE_RX
#define TX	VNETLOOP_QUEUE_TX
#define QNUM	64
#define PAGE	4096u
#define MiB	(1u << 20)
#define FRAME	300u
#define BUFLEN	(VNL_NET_HDR_LEN + FRAME)
#define MSG_LEN	((ssize_t)sizeof(struct vhost_msg_v2))
/* The most entries the device keeps. */
#define MAX_ENTRIES	64

static struct vhost_msg_v2 msg2(uint8_t type, uint64_t iova, uint64_t size,
				uint64_t uaddr, uint8_t perm)
{
	return (struct vhost_msg_v2){
		.type = VHOST_IOTLB_MSG_V2,
		.iotlb = { .iova = iova, .size = size, .uaddr = uaddr,
			   .perm = perm, .type = type },
	};
}

/* n bytes at buf written to the device: the count taken, or -errno. */
static ssize_t raw_write(struct vg *g, const void *buf, size_t n)
{
	ssize_t r = write(g->fd, buf, n);

	return r < 0 ? -errno : r;
}

/* Is [iova, iova + size) free of entries? An UPDATE of it tells. */
static bool is_free(struct vg *g, uint64_t iova, uint64_t size)
{
	if (vg_map(g, iova, size, g->mem, VHOST_ACCESS_RO))
		return false;
	return !vg_unmap(g, iova, size);
}

/*
 * Offer one frame of FRAME bytes, read by the device at I/O virtual
 * address tx, and (if rx) an RX buffer at rx; both in ring slot head.
 */
static void post_frame(struct vg *g, uint16_t head, uint64_t tx, uint64_t rx)
{
	struct vg_seg s;

	if (rx) {
		s = (struct vg_seg){ .gpa = rx, .len = BUFLEN,
				     .flags = VRING_DESC_F_WRITE };
		vg_chain(g, RX, head, &s, 1);
		vg_avail_push(g, RX, head);
	}
	s = (struct vg_seg){ .gpa = tx, .len = BUFLEN };
	vg_chain(g, TX, head, &s, 1);
	vg_avail_push(g, TX, head);
}

/*
 * Kick the frame at head: delivered (RX bytes at rxh equal the TX bytes at
 * txh, host addresses) or, with txh NULL, an invalid TX chain that leaves
 * RX alone. *c moves on.
 */
static void expect_frame(struct __test_metadata *_metadata, struct vg *g,
			 uint64_t *c, uint16_t head, const uint8_t *txh,
			 const uint8_t *rxh)
{
	vnl_cnt_t want = { 0 }, after;

	vg_arm(g);
	ASSERT_EQ(0, vg_kick(g));
	vnl_expect_irq(_metadata, g);
	vnl_expect_used(_metadata, g, TX, head, 0);
	if (txh) {
		vnl_expect_used(_metadata, g, RX, head, BUFLEN);
		EXPECT_EQ(0, memcmp(txh + VNL_NET_HDR_LEN,
				    rxh + VNL_NET_HDR_LEN, FRAME))
			TH_LOG("the frame bytes differ");
		want[VNETLOOP_C_TX_PACKETS] = 1;
		want[VNETLOOP_C_TX_BYTES] = FRAME;
		want[VNETLOOP_C_RX_PACKETS] = 1;
		want[VNETLOOP_C_RX_BYTES] = FRAME;
	} else {
		EXPECT_EQ(0, vg_used_pending(g, RX));
		want[VNETLOOP_C_TX_CHAIN_INVALID] = 1;
	}
	vnl_expect_deltas(_metadata, g, c, want, after);
	memcpy(c, after, sizeof(after));
}

/* A fresh TX and RX buffer, one frame (seed) at head, delivered. */
static void send_fresh(struct __test_metadata *_metadata, struct vg *g,
		       uint64_t *c, uint16_t head, uint8_t seed)
{
	uint8_t *tx = vg_alloc(g, BUFLEN), *rx = vg_alloc(g, BUFLEN);

	ASSERT_NE(NULL, tx);
	ASSERT_NE(NULL, rx);
	vg_fill(tx, BUFLEN, seed);
	post_frame(g, head, vg_gpa(tx), vg_gpa(rx));
	expect_frame(_metadata, g, c, head, tx, rx);
}

/* Every message type: one write, one whole message taken, 72 bytes. */
TEST(write_returns_72)
{
	struct vhost_msg_v2 m;
	uint8_t big[100];
	struct vg g;

	ASSERT_EQ(72, MSG_LEN);
	ASSERT_EQ(0, vg_open(&g));
	ASSERT_EQ(0, vg_set_owner(&g));
	m = msg2(VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0, 0);
	EXPECT_EQ(MSG_LEN, raw_write(&g, &m, sizeof(m)));
	m = msg2(VHOST_IOTLB_UPDATE, vg_gpa(g.mem), g.mem_size, vg_gpa(g.mem),
		 VHOST_ACCESS_RW);
	EXPECT_EQ(MSG_LEN, raw_write(&g, &m, sizeof(m)));
	m = msg2(VHOST_IOTLB_BATCH_END, 0, 0, 0, 0);
	EXPECT_EQ(MSG_LEN, raw_write(&g, &m, sizeof(m)));
	m = msg2(VHOST_IOTLB_INVALIDATE, vg_gpa(g.mem), g.mem_size, 0, 0);
	EXPECT_EQ(MSG_LEN, raw_write(&g, &m, sizeof(m)));
	/* A longer write still takes one message, and says so. */
	memset(big, 0, sizeof(big));
	m = msg2(VHOST_IOTLB_UPDATE, vg_gpa(g.mem), PAGE, vg_gpa(g.mem),
		 VHOST_ACCESS_RW);
	memcpy(big, &m, sizeof(m));
	EXPECT_EQ(MSG_LEN, raw_write(&g, big, sizeof(big)));
	EXPECT_FALSE(is_free(&g, vg_gpa(g.mem), PAGE));
	vg_close(&g);
}

/*
 * Writes too short for a message are -EINVAL and change nothing; one that
 * holds the message up to its last field is enough.
 */
TEST(short_write)
{
	struct vhost_msg_v2 m = msg2(VHOST_IOTLB_UPDATE, 0x10000, PAGE, 0,
				     VHOST_ACCESS_RW);
	const size_t body = offsetof(struct vhost_msg_v2, iotlb) +
			    sizeof(struct vhost_iotlb_msg);
	const size_t counts[] = { 0, 1, 3, 4, 8, 39, body - 1 };
	struct vg g;
	unsigned int i;

	ASSERT_EQ(40, body);
	ASSERT_EQ(0, vg_open(&g));
	ASSERT_EQ(0, vg_set_owner(&g));
	m.iotlb.uaddr = vg_gpa(g.mem);
	for (i = 0; i < ARRAY_SIZE(counts); i++) {
		EXPECT_EQ(-EINVAL, raw_write(&g, &m, counts[i]))
			TH_LOG("a write of %zu bytes", counts[i]);
	}
	EXPECT_TRUE(is_free(&g, 0x10000, PAGE));
	EXPECT_EQ((ssize_t)body, raw_write(&g, &m, body));
	EXPECT_FALSE(is_free(&g, 0x10000, PAGE));
	vg_close(&g);
}

/* The older struct vhost_msg (VHOST_IOTLB_MSG) does everything V2 does. */
TEST(v1_messages)
{
	struct vhost_msg m = { .type = VHOST_IOTLB_MSG };
	vnl_cnt_t c;
	uint8_t *tx, *rx;
	struct vg g;

	ASSERT_EQ(0, vg_open(&g));
	ASSERT_EQ(0, vg_set_owner(&g));
	m.iotlb = (struct vhost_iotlb_msg){ .type = VHOST_IOTLB_BATCH_BEGIN };
	EXPECT_EQ((ssize_t)sizeof(m), raw_write(&g, &m, sizeof(m)));
	m.iotlb = (struct vhost_iotlb_msg){
		.iova = vg_gpa(g.mem), .size = g.mem_size,
		.uaddr = vg_gpa(g.mem), .perm = VHOST_ACCESS_RW,
		.type = VHOST_IOTLB_UPDATE,
	};
	EXPECT_EQ((ssize_t)sizeof(m), raw_write(&g, &m, sizeof(m)));
	EXPECT_EQ(-EEXIST, raw_write(&g, &m, sizeof(m)));
	m.iotlb = (struct vhost_iotlb_msg){ .type = VHOST_IOTLB_BATCH_END };
	EXPECT_EQ((ssize_t)sizeof(m), raw_write(&g, &m, sizeof(m)));

	ASSERT_EQ(0, vg_setup_queues(&g, VG_FEATURES_EVENT_IDX, QNUM, QNUM));
	vnl_read(_metadata, &g, c);
	tx = vg_alloc(&g, BUFLEN);
	rx = vg_alloc(&g, BUFLEN);
	ASSERT_NE(NULL, tx);
	ASSERT_NE(NULL, rx);
	vg_fill(tx, BUFLEN, 1);
	post_frame(&g, 0, vg_gpa(tx), vg_gpa(rx));
	expect_frame(_metadata, &g, c, 0, tx, rx);

	/* A V1 INVALIDATE takes the entry away, whole: rings and all. */
	m.iotlb = (struct vhost_iotlb_msg){
		.iova = vg_gpa(tx), .size = 1, .type = VHOST_IOTLB_INVALIDATE,
	};
	EXPECT_EQ((ssize_t)sizeof(m), raw_write(&g, &m, sizeof(m)));
	post_frame(&g, 1, vg_gpa(tx), 0);
	vg_arm(&g);
	ASSERT_EQ(0, vg_kick(&g));
	/* TX cannot read its avail ring any more: poisoned. */
	vnl_expect_config_irq(_metadata, &g);
	EXPECT_EQ(1, vg_needs_reset(&g));
	vg_close(&g);
}

static void *map_from_thread(void *arg)
{
	struct vg *g = arg;

	return (void *)(intptr_t)vg_map(g, 0x20000, PAGE, g->mem,
					VHOST_ACCESS_RW);
}

/*
 * Only the owner's address space writes the IOTLB: -EPERM before
 * SET_OWNER and from a forked child; the owner's threads may.
 */
TEST(non_owner_write)
{
	pthread_t t;
	void *ret;
	int status;
	struct vg g;
	pid_t pid;

	ASSERT_EQ(0, vg_open(&g));
	EXPECT_EQ(-EPERM, vg_map(&g, 0x10000, PAGE, g.mem, VHOST_ACCESS_RW));
	EXPECT_EQ(-EPERM, vg_batch_begin(&g));
	ASSERT_EQ(0, vg_set_owner(&g));
	EXPECT_EQ(0, vg_map(&g, 0x10000, PAGE, g.mem, VHOST_ACCESS_RW));
	ASSERT_EQ(0, pthread_create(&t, NULL, map_from_thread, &g));
	ASSERT_EQ(0, pthread_join(t, &ret));
	EXPECT_EQ(0, (intptr_t)ret);
	EXPECT_FALSE(is_free(&g, 0x20000, PAGE));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int bad = 0;

		bad |= (vg_map(&g, 0x30000, PAGE, g.mem, VHOST_ACCESS_RW) !=
			-EPERM) << 0;
		bad |= (vg_unmap(&g, 0x10000, PAGE) != -EPERM) << 1;
		bad |= (vg_batch_begin(&g) != -EPERM) << 2;
		bad |= (vg_batch_end(&g) != -EPERM) << 2;
		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("failed checks (bits): 0 UPDATE 1 INVALIDATE 2 BATCH");
	/* Nothing the child tried happened. */
	EXPECT_FALSE(is_free(&g, 0x10000, PAGE));
	EXPECT_TRUE(is_free(&g, 0x30000, PAGE));
	vg_close(&g);
}

/*
 * 64 entries, then -ENOSPC, even where the entries are contiguous on both
 * sides (the limit counts entries, not ranges); an overlap is -EEXIST
 * first. Freeing one makes room for one, in a batch as well.
 */
TEST(enospc)
{
	uint64_t base;
	struct vg g;
	int i;

	ASSERT_EQ(0, vg_open(&g));
	ASSERT_EQ(0, vg_set_owner(&g));
	base = vg_gpa(g.mem);
	for (i = 0; i < MAX_ENTRIES; i++) {
		ASSERT_EQ(0, vg_map(&g, base + i * PAGE, PAGE, g.mem + i * PAGE,
				    VHOST_ACCESS_RW)) TH_LOG("entry %d", i);
	}
	EXPECT_EQ(-ENOSPC, vg_map(&g, base + MAX_ENTRIES * PAGE, PAGE,
				  g.mem + MAX_ENTRIES * PAGE, VHOST_ACCESS_RW));
	EXPECT_EQ(-ENOSPC, vg_map(&g, 1ULL << 40, PAGE, g.mem,
				  VHOST_ACCESS_RO));
	EXPECT_EQ(-EEXIST, vg_map(&g, base, PAGE, g.mem, VHOST_ACCESS_RW));

	ASSERT_EQ(0, vg_unmap(&g, base + 10 * PAGE, 1));
	EXPECT_EQ(0, vg_map(&g, 1ULL << 40, PAGE, g.mem, VHOST_ACCESS_RO));
	EXPECT_EQ(-ENOSPC, vg_map(&g, base + 10 * PAGE, PAGE,
				  g.mem + 10 * PAGE, VHOST_ACCESS_RW));

	/* The batch's copy has the same bound. */
	ASSERT_EQ(0, vg_batch_begin(&g));
	ASSERT_EQ(0, vg_unmap(&g, base, 2 * PAGE));
	EXPECT_EQ(0, vg_map(&g, base, PAGE, g.mem, VHOST_ACCESS_RW));
	EXPECT_EQ(0, vg_map(&g, base + PAGE, PAGE, g.mem + PAGE,
			    VHOST_ACCESS_RW));
	EXPECT_EQ(-ENOSPC, vg_map(&g, base + 10 * PAGE, PAGE,
				  g.mem + 10 * PAGE, VHOST_ACCESS_RW));
	ASSERT_EQ(0, vg_batch_end(&g));
	EXPECT_EQ(-ENOSPC, vg_map(&g, base + 10 * PAGE, PAGE,
				  g.mem + 10 * PAGE, VHOST_ACCESS_RW));
	vg_close(&g);
}

/*
 * An UPDATE that overlaps an entry by as little as a byte is -EEXIST and
 * changes nothing: the entry still maps where it did (a frame read through
 * it has its bytes, not those the refused UPDATE named). Ranges that only
 * touch it are fine.
 */
TEST(overlap_eexist)
{
	struct {
		uint64_t iova, size;
	} const bad[] = {
		{ 0, MiB },			/* the same */
		{ 4096, 4096 },			/* inside */
		{ MiB - 1, 2 },			/* across the end */
		{ (uint64_t)-1, 2 },		/* across the start */
		{ -(uint64_t)MiB, 3 * MiB },	/* around it */
		{ MiB - 1, 1 },			/* its last byte */
	};
	uint8_t *e, *other, *rx;
	uint64_t base, eiova;
	vnl_cnt_t c;
	struct vg g;
	unsigned int i;

	ASSERT_EQ(0, vg_open(&g));
	ASSERT_EQ(0, vg_set_owner(&g));
	base = vg_gpa(g.mem);
	/* Rings and heap in [0, 2 MiB); the entry E at [2, 3) MiB. */
	eiova = base + 2 * MiB;
	e = g.mem + 2 * MiB;
	other = g.mem + 5 * MiB;
	ASSERT_EQ(0, vg_map(&g, base, 2 * MiB, g.mem, VHOST_ACCESS_RW));
	ASSERT_EQ(0, vg_map(&g, eiova, MiB, e, VHOST_ACCESS_RW));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EEXIST, vg_map(&g, eiova + bad[i].iova, bad[i].size,
					  other, VHOST_ACCESS_RW))
			TH_LOG("UPDATE %u", i);
	}
	/* Inside a batch too, and END keeps the entry. */
	ASSERT_EQ(0, vg_batch_begin(&g));
	EXPECT_EQ(-EEXIST, vg_map(&g, eiova + 8192, 1, other, VHOST_ACCESS_RO));
	ASSERT_EQ(0, vg_batch_end(&g));
	/* Touching it is no overlap: [3, 4) MiB. */
	EXPECT_EQ(0, vg_map(&g, eiova + MiB, MiB, e + MiB, VHOST_ACCESS_RW));

	ASSERT_EQ(0, vg_setup_queues(&g, VG_FEATURES_EVENT_IDX, QNUM, QNUM));
	vnl_read(_metadata, &g, c);
	rx = vg_alloc(&g, BUFLEN);
	ASSERT_NE(NULL, rx);
	vg_fill(e, BUFLEN, 1);
	vg_fill(other, BUFLEN, 2);
	post_frame(&g, 0, eiova, vg_gpa(rx));
	expect_frame(_metadata, &g, c, 0, e, rx);
	vg_close(&g);
}

/* Buffers in an entry with fewer rights than the device needs. */
FIXTURE(buf_perm) {
	struct vg g;
	vnl_cnt_t c;
	uint8_t *buf;		/* the entry: [4, 5) MiB */
	uint8_t *heap;		/* a buffer in the read-write rest */
};

FIXTURE_VARIANT(buf_perm) {
	uint8_t perm;		/* of the entry */
	bool rx_in_it;		/* the RX buffer there, else the TX one */
};

/* The device only reads TX buffers: read-only is enough, write-only not. */
FIXTURE_VARIANT_ADD(buf_perm, tx_ro) { .perm = VHOST_ACCESS_RO };
FIXTURE_VARIANT_ADD(buf_perm, tx_wo) { .perm = VHOST_ACCESS_WO };
/* It only writes RX buffers: write-only is enough, read-only not. */
FIXTURE_VARIANT_ADD(buf_perm, rx_wo) {
	.perm = VHOST_ACCESS_WO, .rx_in_it = true,
};
FIXTURE_VARIANT_ADD(buf_perm, rx_ro) {
	.perm = VHOST_ACCESS_RO, .rx_in_it = true,
};

FIXTURE_SETUP(buf_perm)
{
	struct vg *g = &self->g;

	ASSERT_EQ(0, vg_open(g));
	ASSERT_EQ(0, vg_set_owner(g));
	self->buf = g->mem + 4 * MiB;
	ASSERT_EQ(0, vg_map(g, vg_gpa(g->mem), 4 * MiB, g->mem,
			    VHOST_ACCESS_RW));
	ASSERT_EQ(0, vg_map(g, vg_gpa(self->buf), MiB, self->buf,
			    variant->perm));
	ASSERT_EQ(0, vg_setup_queues(g, VG_FEATURES_EVENT_IDX, QNUM, QNUM));
	self->heap = vg_alloc(g, BUFLEN);
	ASSERT_NE(NULL, self->heap);
	vnl_read(_metadata, g, self->c);
}

FIXTURE_TEARDOWN(buf_perm)
{
	vg_close(&self->g);
}

TEST_F(buf_perm, frame)
{
	struct vg *g = &self->g;
	uint8_t *tx = variant->rx_in_it ? self->heap : self->buf;
	uint8_t *rx = variant->rx_in_it ? self->buf : self->heap;
	vnl_cnt_t want = { 0 }, after;

	vg_fill(tx, BUFLEN, 7);
	memset(rx, 0xee, BUFLEN);
	post_frame(g, 0, vg_gpa(tx), vg_gpa(rx));
	if (variant->perm == VHOST_ACCESS_RW ||
	    (variant->perm == VHOST_ACCESS_RO) == !variant->rx_in_it) {
		expect_frame(_metadata, g, self->c, 0, tx, rx);
		return;
	}
	if (!variant->rx_in_it) {
		/* Not readable: an invalid TX chain; RX keeps its buffer. */
		expect_frame(_metadata, g, self->c, 0, NULL, NULL);
		return;
	}
	/* Not writable: the RX write fails, the chain comes back empty. */
	ASSERT_EQ(0, vg_kick(g));
	vnl_expect_irq(_metadata, g);
	vnl_expect_used(_metadata, g, TX, 0, 0);
	vnl_expect_used(_metadata, g, RX, 0, 0);
	want[VNETLOOP_C_TX_PACKETS] = 1;
	want[VNETLOOP_C_TX_BYTES] = FRAME;
	want[VNETLOOP_C_RX_WRITE_FAILED] = 1;
	vnl_expect_deltas(_metadata, g, self->c, want, after);
	for (unsigned int i = 0; i < BUFLEN; i++) {
		ASSERT_EQ(0xee, rx[i]) TH_LOG("RX byte %u written", i);
	}
}

/*
 * Rings in an entry without the right the device needs (it reads the
 * descriptor table and avail ring, writes the used ring), one ring part at
 * a time; and all of them with just the rights needed.
 */
enum ring_part { DESC, AVAIL, USED };

FIXTURE(ring_perm) {
	struct vg g;
};

FIXTURE_VARIANT(ring_perm) {
	unsigned int q;
	enum ring_part part;	/* gets the wrong right; the rest RW */
	bool minimal;		/* every part just what the device needs */
};

FIXTURE_VARIANT_ADD(ring_perm, tx_desc_wo) { .q = TX, .part = DESC };
FIXTURE_VARIANT_ADD(ring_perm, tx_avail_wo) { .q = TX, .part = AVAIL };
FIXTURE_VARIANT_ADD(ring_perm, tx_used_ro) { .q = TX, .part = USED };
FIXTURE_VARIANT_ADD(ring_perm, rx_desc_wo) { .q = RX, .part = DESC };
FIXTURE_VARIANT_ADD(ring_perm, rx_avail_wo) { .q = RX, .part = AVAIL };
FIXTURE_VARIANT_ADD(ring_perm, rx_used_ro) { .q = RX, .part = USED };
FIXTURE_VARIANT_ADD(ring_perm, minimal) { .minimal = true };

FIXTURE_SETUP(ring_perm)
{
	ASSERT_EQ(0, vg_open(&self->g));
}

FIXTURE_TEARDOWN(ring_perm)
{
	vg_close(&self->g);
}

TEST_F(ring_perm, frame)
{
	static const uint8_t needs[] = {
		[DESC] = VHOST_ACCESS_RO, [AVAIL] = VHOST_ACCESS_RO,
		[USED] = VHOST_ACCESS_WO,
	};
	struct vg *g = &self->g;
	unsigned int q, p, pages = VNETLOOP_NUM_QUEUES * 3;
	vnl_cnt_t before, after, want = { 0 };
	uint8_t *tx, *rx;

	/* Each ring part (one page each, virtq_init_pages()) its entry. */
	ASSERT_EQ(0, vg_set_owner(g));
	for (q = 0; q < VNETLOOP_NUM_QUEUES; q++)
		for (p = DESC; p <= USED; p++) {
			uint8_t *part = g->mem + (q * 3 + p) * PAGE;
			uint8_t perm = VHOST_ACCESS_RW;

			if (variant->minimal)
				perm = needs[p];
			else if (q == variant->q && p == variant->part)
				perm = VHOST_ACCESS_RW & ~needs[p];
			ASSERT_EQ(0, vg_map(g, vg_gpa(part), PAGE, part, perm));
		}
	ASSERT_EQ(0, vg_map(g, vg_gpa(g->mem + pages * PAGE),
			    g->mem_size - pages * PAGE, g->mem + pages * PAGE,
			    VHOST_ACCESS_RW));
	vnl_read(_metadata, g, before);
	ASSERT_EQ(0, vg_setup_queues(g, VG_FEATURES_EVENT_IDX, QNUM, QNUM));
	if (!variant->minimal && variant->q == TX &&
	    variant->part == AVAIL) {
		/* The drain DRIVER_OK queues cannot read it: poisoned. */
		vnl_expect_config_irq(_metadata, g);
		want[VNETLOOP_C_INVALID_AVAIL_IDX_COUNT] = 1;
		vnl_expect_deltas(_metadata, g, before, want, after);
		EXPECT_EQ(1, vg_needs_reset(g));
		return;
	}

	tx = vg_alloc(g, BUFLEN);
	rx = vg_alloc(g, BUFLEN);
	ASSERT_NE(NULL, tx);
	ASSERT_NE(NULL, rx);
	vg_fill(tx, BUFLEN, 9);
	post_frame(g, 0, vg_gpa(tx), vg_gpa(rx));
	if (variant->minimal) {
		expect_frame(_metadata, g, before, 0, tx, rx);
		EXPECT_EQ(0, vg_needs_reset(g));
		return;
	}
	ASSERT_EQ(0, vg_kick(g));
	/* Something was used on some queue: the interrupt comes. */
	vnl_expect_irq(_metadata, g);
	want[VNETLOOP_C_TX_PACKETS] = 1;
	want[VNETLOOP_C_TX_BYTES] = FRAME;
	switch (variant->q * 3 + variant->part) {
	case TX * 3 + DESC:
		/* No descriptor readable: an invalid chain, RX left alone. */
		memset(want, 0, sizeof(want));
		want[VNETLOOP_C_TX_CHAIN_INVALID] = 1;
		vnl_expect_used(_metadata, g, TX, 0, 0);
		break;
	case TX * 3 + USED:
		/* Delivered, but TX cannot say so. */
		want[VNETLOOP_C_TX_PACKETS] = 0;
		want[VNETLOOP_C_TX_BYTES] = 0;
		want[VNETLOOP_C_TX_ADD_USED_FAILURES] = 1;
		want[VNETLOOP_C_RX_PACKETS] = 1;
		want[VNETLOOP_C_RX_BYTES] = FRAME;
		vnl_expect_used(_metadata, g, RX, 0, BUFLEN);
		break;
	case RX * 3 + DESC:
		want[VNETLOOP_C_RX_CHAIN_INVALID] = 1;
		vnl_expect_used(_metadata, g, TX, 0, 0);
		vnl_expect_used(_metadata, g, RX, 0, 0);
		break;
	case RX * 3 + AVAIL:
		want[VNETLOOP_C_TX_DROPPED_RX_POISONED] = 1;
		want[VNETLOOP_C_INVALID_AVAIL_IDX_COUNT] = 1;
		vnl_expect_config_irq(_metadata, g);
		vnl_expect_used(_metadata, g, TX, 0, 0);
		break;
	case RX * 3 + USED:
		want[VNETLOOP_C_RX_ADD_USED_FAILURES] = 1;
		vnl_expect_used(_metadata, g, TX, 0, 0);
		break;
	}
	vnl_expect_deltas(_metadata, g, before, want, after);
	EXPECT_EQ(0, vg_used_pending(g, TX));
	EXPECT_EQ(0, vg_used_pending(g, RX));
	EXPECT_EQ(variant->q == RX && variant->part == AVAIL,
		  vg_needs_reset(g));
}

/*
 * INVALIDATE removes every entry its range touches, whole, and only
 * those: a buffer in the untouched part of an entry it touched is gone too.
 */
TEST(invalidate_whole_entries)
{
	uint64_t base, e[5];
	uint8_t *tx, *rx;
	vnl_cnt_t c;
	struct vg g;
	int i;

	ASSERT_EQ(0, vg_open(&g));
	ASSERT_EQ(0, vg_set_owner(&g));
	base = vg_gpa(g.mem);
	/* E0..E4, 1 MiB each from guest RAM's start, identity. */
	for (i = 0; i < 5; i++) {
		e[i] = base + i * MiB;
		ASSERT_EQ(0, vg_map(&g, e[i], MiB, g.mem + i * MiB,
				    VHOST_ACCESS_RW));
	}
	ASSERT_EQ(0, vg_setup_queues(&g, VG_FEATURES_EVENT_IDX, QNUM, QNUM));
	vnl_read(_metadata, &g, c);
	rx = vg_alloc(&g, BUFLEN);
	ASSERT_NE(NULL, rx);
	/* A frame from E2's start: fine. */
	tx = g.mem + 2 * MiB;
	vg_fill(tx, BUFLEN, 3);
	post_frame(&g, 0, e[2], vg_gpa(rx));
	expect_frame(_metadata, &g, c, 0, tx, rx);

	/* Nothing there: nothing goes. */
	EXPECT_EQ(0, vg_unmap(&g, base + 6 * MiB, MiB));
	for (i = 0; i < 5; i++) {
		EXPECT_FALSE(is_free(&g, e[i], 1)) TH_LOG("E%d", i);
	}
	/* From E2's second page into E3's first: both go, whole. */
	ASSERT_EQ(0, vg_unmap(&g, e[2] + PAGE, MiB));
	post_frame(&g, 1, e[2], 0);
	expect_frame(_metadata, &g, c, 1, NULL, NULL);
	post_frame(&g, 2, e[3] + MiB - BUFLEN, 0);
	expect_frame(_metadata, &g, c, 2, NULL, NULL);
	EXPECT_TRUE(is_free(&g, e[2], 2 * MiB));
	EXPECT_FALSE(is_free(&g, e[1] + MiB - 1, 1));
	EXPECT_FALSE(is_free(&g, e[4], 1));
	/* A byte at E4's end takes E4. */
	ASSERT_EQ(0, vg_unmap(&g, e[4] + MiB - 1, 1));
	EXPECT_TRUE(is_free(&g, e[4], MiB));

	/* Mapped again, E2 works again. */
	ASSERT_EQ(0, vg_map(&g, e[2], MiB, g.mem + 2 * MiB, VHOST_ACCESS_RW));
	post_frame(&g, 3, e[2], vg_gpa(rx));
	expect_frame(_metadata, &g, c, 3, tx, rx);
	vg_close(&g);
}

/*
 * Changes between BATCH_BEGIN and BATCH_END are invisible to the device
 * until END, which makes them all visible at once. BEGIN inside a batch
 * and END outside one change nothing.
 */
TEST(batch_invisible_until_end)
{
	const uint64_t biova = 1ULL << 40;	/* the buffers' entry B */
	uint8_t *bufs, *rx;
	vnl_cnt_t c;
	struct vg g;

	vnl_up(_metadata, &g, VG_FEATURES_EVENT_IDX, QNUM, QNUM);
	bufs = g.mem + 6 * MiB;
	vg_fill(bufs, BUFLEN, 5);
	rx = bufs + PAGE;
	ASSERT_EQ(0, vg_map(&g, biova, MiB, bufs, VHOST_ACCESS_RW));
	vnl_read(_metadata, &g, c);
	post_frame(&g, 0, biova, biova + PAGE);
	expect_frame(_metadata, &g, c, 0, bufs, rx);

	ASSERT_EQ(0, vg_batch_begin(&g));
	ASSERT_EQ(0, vg_unmap(&g, biova, MiB));
	EXPECT_TRUE(is_free(&g, biova, MiB));
	ASSERT_EQ(0, vg_batch_begin(&g));
	/* Not yet. */
	post_frame(&g, 1, biova, biova + PAGE);
	expect_frame(_metadata, &g, c, 1, bufs, rx);
	ASSERT_EQ(0, vg_batch_end(&g));
	/* Now. */
	post_frame(&g, 2, biova, 0);
	expect_frame(_metadata, &g, c, 2, NULL, NULL);
	EXPECT_EQ(0, vg_batch_end(&g));

	ASSERT_EQ(0, vg_batch_begin(&g));
	ASSERT_EQ(0, vg_map(&g, biova, MiB, bufs, VHOST_ACCESS_RW));
	EXPECT_EQ(-EEXIST, vg_map(&g, biova, 1, bufs, VHOST_ACCESS_RW));
	post_frame(&g, 3, biova, 0);
	expect_frame(_metadata, &g, c, 3, NULL, NULL);
	ASSERT_EQ(0, vg_batch_end(&g));
	post_frame(&g, 4, biova, biova + PAGE);
	expect_frame(_metadata, &g, c, 4, bufs, rx);
	vg_close(&g);
}

/* The IOTLB outlives a reset (status 0); the device runs on it again. */
TEST(survives_reset)
{
	vnl_cnt_t c;
	struct vg g;

	vnl_up(_metadata, &g, VG_FEATURES_EVENT_IDX, QNUM, QNUM);
	ASSERT_EQ(0, vg_reset(&g));
	EXPECT_EQ(-EEXIST, vg_map(&g, vg_gpa(g.mem), g.mem_size, g.mem,
				  VHOST_ACCESS_RW));
	ASSERT_EQ(0, vg_setup_queues(&g, VG_FEATURES_BASE, QNUM, QNUM));
	vnl_read(_metadata, &g, c);
	send_fresh(_metadata, &g, c, 0, 4);
	vg_close(&g);
}

/*
 * Remapping under traffic: one thread sends frames in batches, another
 * remaps an entry meanwhile. Either the buffers' entry, INVALIDATE then
 * UPDATE (while it is gone, chains are invalid), or the rings' entry, the
 * same inside a batch (the device never sees the rings gone: no
 * poisoning, every frame delivered). The device survives, every TX chain
 * comes back once, every delivered frame is exact, the counters add up,
 * and once the entry is back traffic flows.
 */
#define T_FRAMES	3000u
#define T_BATCH		16u
#define T_BUFS		(4 * MiB)	/* the buffers' entry: [4, 5) MiB */

FIXTURE(traffic) {
	struct vg g;
	pthread_t remapper;
	bool started;
	atomic_bool stop;
	atomic_uint cycles;
	atomic_int err;		/* the first failed IOTLB write, -errno */
	bool rings;		/* remap the rings' entry, batched */
};

FIXTURE_VARIANT(traffic) {
	bool rings;
};

FIXTURE_VARIANT_ADD(traffic, remap_buffers) { };
FIXTURE_VARIANT_ADD(traffic, batch_remap_rings) { .rings = true };

static void *remapper(void *arg)
{
	FIXTURE_DATA(traffic) *self = arg;
	struct vg *g = &self->g;
	uint64_t iova = vg_gpa(g->mem) + (self->rings ? 0 : T_BUFS);
	uint64_t size = self->rings ? T_BUFS : MiB;
	int ret;

	while (!atomic_load(&self->stop)) {
		if (self->rings) {
			ret = vg_batch_begin(g);
			if (!ret)
				ret = vg_unmap(g, iova, size);
			if (!ret)
				ret = vg_map(g, iova, size, g->mem + (iova -
					     vg_gpa(g->mem)), VHOST_ACCESS_RW);
			if (!ret)
				ret = vg_batch_end(g);
		} else {
			ret = vg_unmap(g, iova, size);
			if (!ret)
				vg_sleep_ms(1);
			if (!ret)
				ret = vg_map(g, iova, size, g->mem + T_BUFS,
					     VHOST_ACCESS_RW);
		}
		if (ret) {
			atomic_store(&self->err, ret);
			break;
		}
		atomic_fetch_add(&self->cycles, 1);
		vg_sleep_ms(1);
	}
	return NULL;
}

FIXTURE_SETUP(traffic)
{
	struct vg *g = &self->g;

	self->rings = variant->rings;
	ASSERT_EQ(0, vg_open(g));
	ASSERT_EQ(0, vg_set_owner(g));
	ASSERT_EQ(0, vg_map(g, vg_gpa(g->mem), T_BUFS, g->mem,
			    VHOST_ACCESS_RW));
	ASSERT_EQ(0, vg_map(g, vg_gpa(g->mem + T_BUFS), MiB, g->mem + T_BUFS,
			    VHOST_ACCESS_RW));
	ASSERT_EQ(0, vg_setup_queues(g, VG_FEATURES_EVENT_IDX, QNUM, QNUM));
}

FIXTURE_TEARDOWN(traffic)
{
	atomic_store(&self->stop, true);
	if (self->started)
		pthread_join(self->remapper, NULL);
	vg_close(&self->g);
}

TEST_F_TIMEOUT(traffic, frames, 120)
{
	struct vg *g = &self->g;
	uint8_t *tx = g->mem + T_BUFS, *rxbase = tx + PAGE;
	uint32_t sent = 0, rx_posted = 0, delivered = 0, rx_empty = 0;
	uint32_t tx_invalid = 0, bad = 0, i, n;
	vnl_cnt_t before, after, want = { 0 };
	struct vg_used_elem e;

	memset(tx, 0x5a, VNL_NET_HDR_LEN);
	vg_fill(tx + VNL_NET_HDR_LEN, FRAME, 11);
	vnl_read(_metadata, g, before);
	ASSERT_EQ(0, pthread_create(&self->remapper, NULL, remapper, self));
	self->started = true;

	while (sent < T_FRAMES) {
		n = T_FRAMES - sent < T_BATCH ? T_FRAMES - sent : T_BATCH;
		/* RX buffers to the ring's size; TX in order, all returned. */
		for (; (uint16_t)(rx_posted - g->q[RX].last_used) < QNUM;
		     rx_posted++) {
			uint16_t h = rx_posted & (QNUM - 1);

			vg_post(g, RX, h, rxbase + h * 512, BUFLEN,
				VRING_DESC_F_WRITE);
		}
		for (i = 0; i < n; i++)
			vg_post(g, TX, (sent + i) & (QNUM - 1), tx, BUFLEN, 0);
		vg_arm(g);
		ASSERT_EQ(0, vg_kick(g));
		ASSERT_EQ(0, vg_wait_used(g, TX, n, VNL_TIMEOUT_MS))
			TH_LOG("frames %u..%u not all back", sent, sent + n);
		for (i = 0; i < n; i++) {
			ASSERT_EQ(1, vg_used_pop(g, TX, &e));
			if (e.id != ((sent + i) & (QNUM - 1)) || e.len)
				bad++;
		}
		while (vg_used_pop(g, RX, &e)) {
			uint8_t *b = rxbase + (e.id & (QNUM - 1)) * 512;

			if (!e.len) {
				rx_empty++;
				continue;
			}
			if (e.len != BUFLEN ||
			    memcmp(b + VNL_NET_HDR_LEN, tx + VNL_NET_HDR_LEN,
				   FRAME))
				bad++;
			delivered++;
		}
		sent += n;
		vg_irq_count(g);
	}
	atomic_store(&self->stop, true);
	pthread_join(self->remapper, NULL);
	self->started = false;
	EXPECT_EQ(0, atomic_load(&self->err))
		TH_LOG("an IOTLB write failed: %s",
		       strerror(-atomic_load(&self->err)));
	TH_LOG("%u frames: %u delivered, %u remap cycles", sent, delivered,
	       atomic_load(&self->cycles));
	EXPECT_EQ(0, bad);
	EXPECT_LT(0, atomic_load(&self->cycles));
	EXPECT_EQ(0, rx_empty);

	/* Each TX chain was delivered or invalid, nothing else happened. */
	tx_invalid = sent - delivered;
	want[VNETLOOP_C_TX_PACKETS] = delivered;
	want[VNETLOOP_C_TX_BYTES] = (uint64_t)delivered * FRAME;
	want[VNETLOOP_C_RX_PACKETS] = delivered;
	want[VNETLOOP_C_RX_BYTES] = (uint64_t)delivered * FRAME;
	want[VNETLOOP_C_TX_CHAIN_INVALID] = tx_invalid;
	vnl_expect_deltas(_metadata, g, before, want, after);
	if (variant->rings) {
		EXPECT_EQ(sent, delivered)
			TH_LOG("the rings were seen unmapped in a batch");
	}
	EXPECT_EQ(0, vg_needs_reset(g));
	EXPECT_EQ(0, vg_config_count(g));

	/* The entry is back: a frame goes through. */
	vg_arm(g);
	if ((uint16_t)(rx_posted - g->q[RX].last_used) == 0) {
		vg_post(g, RX, rx_posted & (QNUM - 1),
			rxbase + (rx_posted & (QNUM - 1)) * 512, BUFLEN,
			VRING_DESC_F_WRITE);
		rx_posted++;
	}
	vg_post(g, TX, sent & (QNUM - 1), tx, BUFLEN, 0);
	ASSERT_EQ(0, vg_kick(g));
	ASSERT_EQ(0, vg_wait_used(g, TX, 1, VNL_TIMEOUT_MS));
	ASSERT_EQ(0, vg_wait_used(g, RX, 1, VNL_TIMEOUT_MS));
	ASSERT_EQ(1, vg_used_pop(g, RX, &e));
	EXPECT_EQ(BUFLEN, e.len);
}

VNL_TEST_MAIN
