// SPDX-License-Identifier: GPL-2.0
/*
 * What the engine does for a vhost-vdpa home: IOTLB entries with access
 * rights (an access an entry refuses fails as one to unmapped memory), the
 * mask of queues an interrupt is for (one call eventfd each), and a queue
 * that starts where an earlier run stopped (the ring base).
 */
#include "engine_test.h"

VQ_FIXTURE(rights)

#define VRING	VIRTIO_MMIO_INT_VRING

static const u64 chain_invalid[VNETLOOP_NUM_SPEC_COUNTERS] = {
	D(TX_CHAIN_INVALID) = 1,
};

/* Guest RAM as three entries, [lo, hi) refusing deny, contiguous in both. */
static int vqt_deny(struct vqt *t, u64 lo, u64 hi, u32 deny)
{
	u64 h = (u64)(uintptr_t)t->mem - VQT_GPA_BASE;
	struct vnl_region r[3] = {
		{ .gpa = VQT_GPA_BASE, .size = lo - VQT_GPA_BASE,
		  .hva = h + VQT_GPA_BASE },
		{ .gpa = lo, .size = hi - lo, .hva = h + lo, .deny = deny },
		{ .gpa = hi, .size = VQT_GPA_END - hi, .hva = h + hi },
	};

	return vnl_engine_set_mem(&t->eng, r, 3);
}

/* The table keeps rights apart: merged only when they agree. */
TEST_F(rights, table)
{
	struct vnl_region r[2] = {
		{ .gpa = 0x10000, .size = 0x1000, .hva = 0x700000 },
		{ .gpa = 0x11000, .size = 0x1000, .hva = 0x701000 },
	};
	struct vnl_mem m = { 0 };
	u64 hva = 0, room = 0;

	ASSERT_EQ(0, vnl_mem_set(&m, r, 2));
	EXPECT_EQ(1u, m.n);
	r[1].deny = VNL_WRITE;
	ASSERT_EQ(0, vnl_mem_set(&m, r, 2));
	EXPECT_EQ(2u, m.n);
	EXPECT_EQ(0, vnl_mem_find(&m, 0x11010, VNL_READ, &hva, &room));
	EXPECT_EQ(0x701010u, hva);
	EXPECT_EQ(-EFAULT, vnl_mem_find(&m, 0x11010, VNL_WRITE, &hva, &room));
	EXPECT_TRUE(vnl_mem_backed(&m, 0x10ff0, 0x20, VNL_READ));
	EXPECT_FALSE(vnl_mem_backed(&m, 0x10ff0, 0x20, VNL_WRITE));
	EXPECT_EQ(-EFAULT, vnl_mem_xlate(&m, 0x11000, 0x10, VNL_WRITE, &hva));
	/* No bits beyond the two rights. */
	r[1].deny = 4;
	EXPECT_EQ(-EINVAL, vnl_mem_set(&m, r, 2));
	EXPECT_EQ(2u, m.n);
}

/* A TX buffer the device may not read is an invalid chain, as unmapped. */
TEST_F(rights, tx_buffer_write_only)
{
	struct vqt *t = &self->t;
	u64 rx, tx;
	u16 th;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	vqt_rx_buf(t, 256, &rx);
	th = vqt_tx_frame(t, 100, 1, &tx);
	ASSERT_EQ(0, vqt_deny(t, tx, tx + 0x1000, VNL_READ));
	EXPECT_TX_REJECTED(t, th, chain_invalid, rx, 256);
}

/* An RX buffer the device may not write: rx_write_failed, nothing written. */
TEST_F(rights, rx_buffer_read_only)
{
	struct vqt *t = &self->t;
	u64 rx;
	u16 th;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	vqt_rx_buf(t, 256, &rx);
	th = vqt_tx_frame(t, 100, 1, NULL);
	ASSERT_EQ(0, vqt_deny(t, rx, rx + 256, VNL_WRITE));
	vqt_mark(t);
	EXPECT_DRAIN(t, VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 100,
		     D(RX_WRITE_FAILED) = 1);
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_FILL(t, rx, 256, VQT_RX_FILL);
}

/* The rights the device needs are enough: RO for TX, WO for RX. */
TEST_F(rights, one_right_each)
{
	struct vqt *t = &self->t;
	u64 h = (u64)(uintptr_t)t->mem - VQT_GPA_BASE;
	u64 rx, tx, lo;
	u16 th, rh;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	rh = vqt_rx_buf(t, 256, &rx);
	th = vqt_tx_frame(t, 100, 3, &tx);
	lo = rx < tx ? rx : tx;
	{
		/* Rings RW; the RX buffer write-only, the TX buffer read-only. */
		struct vnl_region r[3] = {
			{ .gpa = VQT_GPA_BASE, .size = lo - VQT_GPA_BASE,
			  .hva = h + VQT_GPA_BASE },
			{ .gpa = rx, .size = 256, .hva = h + rx,
			  .deny = VNL_READ },
			{ .gpa = tx, .size = 0x1000, .hva = h + tx,
			  .deny = VNL_WRITE },
		};

		ASSERT_GT(tx, rx);
		ASSERT_GE(tx, rx + 256);
		ASSERT_EQ(0, vnl_engine_set_mem(&t->eng, r, 3));
	}
	EXPECT_FRAME(t, VRING, th, 0, rh, 0, rx, 100, 3);
}

/* A used ring the device may not write cannot publish: add_used fails. */
TEST_F(rights, used_ring_read_only)
{
	struct vqt *t = &self->t;
	u64 used = VQT_RING_USED(VQT_RX), rx;
	u16 th;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	ASSERT_EQ(0, vqt_deny(t, used, used + VIRTQ_PAGE, VNL_WRITE));
	vqt_rx_buf(t, 256, &rx);
	th = vqt_tx_frame(t, 100, 1, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 100,
		     D(RX_ADD_USED_FAILURES) = 1);
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_FALSE(vqt_needs_reset(t));
}

/* An avail ring the device may not read poisons its queue, as unmapped. */
TEST_F(rights, avail_ring_write_only)
{
	struct vqt *t = &self->t;
	u64 avail = VQT_RING_AVAIL(VQT_TX), rx;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	ASSERT_EQ(0, vqt_deny(t, avail, avail + VIRTQ_PAGE, VNL_READ));
	vqt_rx_buf(t, 256, &rx);
	vqt_tx_frame(t, 100, 1, NULL);
	EXPECT_TX_POISONED(t);
	EXPECT_NONE_USED(t, rx, 256);
}

/* An interrupt names the queues whose drivers asked for it. */
TEST_F(rights, interrupt_names_queues)
{
	static const struct {
		u16 rx_flags, tx_flags;
		unsigned int vqs;
	} c[] = {
		{ 0, 0, 1U << VQT_RX | 1U << VQT_TX },
		{ VRING_AVAIL_F_NO_INTERRUPT, 0, 1U << VQT_TX },
		{ 0, VRING_AVAIL_F_NO_INTERRUPT, 1U << VQT_RX },
	};
	struct vqt *t = &self->t;
	unsigned int i;
	u64 rx;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		vqt_avail_set_flags(t, VQT_RX, c[i].rx_flags);
		vqt_avail_set_flags(t, VQT_TX, c[i].tx_flags);
		vqt_rx_buf(t, 256, &rx);
		vqt_tx_frame(t, 60, i, NULL);
		t->irq_vqs = 0;
		EXPECT_DRAIN(t, VRING);
		EXPECT_EQ(c[i].vqs, t->irq_vqs) TH_LOG("case %u", i);
	}
	/* Neither asked: no interrupt at all. */
	vqt_avail_set_flags(t, VQT_RX, VRING_AVAIL_F_NO_INTERRUPT);
	vqt_avail_set_flags(t, VQT_TX, VRING_AVAIL_F_NO_INTERRUPT);
	vqt_rx_buf(t, 256, &rx);
	vqt_tx_frame(t, 60, 9, NULL);
	EXPECT_DRAIN(t, 0);
}

/*
 * Stop and go on, as QEMU's stop/cont does: the engine says where each
 * queue stands, is reset, and is set up again from there without the
 * driver noticing: the next frame takes the next slots.
 */
TEST_F(rights, ring_base)
{
	struct vqt *t = &self->t;
	unsigned int q, i;
	u64 rx;
	u16 th, rh, base[2];

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	for (i = 0; i < 5; i++) {
		vqt_rx_buf(t, 256, &rx);
		vqt_tx_frame(t, 60, i, NULL);
		EXPECT_DRAIN(t, VRING);
	}
	for (q = 0; q < 2; q++) {
		base[q] = vnl_engine_base(&t->eng, q);
		EXPECT_EQ(5, base[q]);
	}

	vnl_engine_reset(&t->eng);
	ASSERT_EQ(0, vnl_engine_set_features(&t->eng,
					     1ULL << VIRTIO_F_VERSION_1));
	for (q = 0; q < 2; q++) {
		ASSERT_EQ(0, vnl_engine_set_vring(&t->eng, q, 8, t->q[q].desc,
						  t->q[q].avail,
						  t->q[q].used));
		vnl_engine_set_base(&t->eng, q, base[q]);
		EXPECT_EQ(base[q], vnl_engine_base(&t->eng, q));
	}
	vnl_engine_start(&t->eng);

	rh = vqt_rx_buf(t, 256, &rx);
	th = vqt_tx_frame(t, 70, 7, NULL);
	EXPECT_FRAME(t, VRING, th, 5, rh, 5, rx, 70, 7);
}

TEST_HARNESS_MAIN
