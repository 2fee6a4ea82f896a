// SPDX-License-Identifier: GPL-2.0
/*
 * Malformed TX chains: each is counted as tx_chain_invalid
 * or tx_oversize_dropped, still completed on TX with length 0, and never
 * touches the RX queue.
 */
#include "engine_test.h"

VQ_FIXTURE(tx_shape)

/*
 * One TX chain at head that must be rejected with counter c: TX completion
 * {head, 0}, an interrupt, an RX buffer left posted and untouched, and no
 * guest byte written outside the TX used ring.
 */
#define EXPECT_TX_REJECTED(t, head, c, rx, rx_len) do {			\
	struct vqt_range used_;						\
									\
	ASSERT_EQ(0, vqt_snapshot(t));					\
	vqt_mark(t);							\
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);				\
	used_ = vqt_used_range(t, VQT_TX);				\
	EXPECT_EQ(0ul, vqt_changed_outside(t, &used_, 1));		\
	EXPECT_DELTA(t, D(c) = 1);					\
	EXPECT_EQ(1, vqt_used_idx(t, VQT_TX));				\
	EXPECT_USED(t, VQT_TX, 0, head, 0);				\
	EXPECT_EQ(0, vqt_used_idx(t, VQT_RX));				\
	EXPECT_FILL(t, rx, rx_len, VQT_RX_FILL);			\
	EXPECT_FALSE(vqt_needs_reset(t));			\
} while (0)

/*
 * Then the RX buffer is still the next one: a good frame lands in it
 * (rx head 0, the only one posted).
 */
#define EXPECT_RX_STILL_POSTED(t, rx) do {				\
	u16 th_ = vqt_tx_frame(t, 40, 99, NULL);			\
									\
	vqt_mark(t);							\
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);				\
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 40,		\
		     D(RX_PACKETS) = 1, D(RX_BYTES) = 40);		\
	EXPECT_USED(t, VQT_TX, 1, th_, 0);				\
	EXPECT_USED(t, VQT_RX, 0, 0, 52);				\
	EXPECT_TRUE(vqt_rx_hdr_ok(t, rx));				\
	EXPECT_PATTERN(t, rx + 12, 40, 99);				\
} while (0)

/* Queues of 8, no EVENT_IDX, one 256-byte RX buffer (head 0) posted. */
static int setup_rx(struct vqt *t, u64 *rx)
{
	int ret = vqt_setup(t, 8, 8, false);

	if (!ret)
		vqt_rx_buf(t, 256, rx);
	return ret;
}

TEST_F(tx_shape, shorter_than_header)
{
	struct vqt *t = &self->t;
	u64 rx;
	u16 th;

	ASSERT_EQ(0, setup_rx(t, &rx));
	th = vqt_tx_split(t, (const u32[]){ 11 }, 1, 1, NULL);
	EXPECT_TX_REJECTED(t, th, TX_CHAIN_INVALID, rx, 256);
	EXPECT_RX_STILL_POSTED(t, rx);
}

TEST_F(tx_shape, split_shorter_than_header)
{
	struct vqt *t = &self->t;
	u64 rx;
	u16 th;

	ASSERT_EQ(0, setup_rx(t, &rx));
	th = vqt_tx_split(t, (const u32[]){ 5, 6 }, 2, 1, NULL);
	EXPECT_TX_REJECTED(t, th, TX_CHAIN_INVALID, rx, 256);
}

TEST_F(tx_shape, zero_length)
{
	struct vqt *t = &self->t;
	u64 rx;
	u16 th;

	ASSERT_EQ(0, setup_rx(t, &rx));
	th = vqt_tx_split(t, (const u32[]){ 0 }, 1, 1, NULL);
	EXPECT_TX_REJECTED(t, th, TX_CHAIN_INVALID, rx, 256);
}

/* A device-writable descriptor in a TX chain, first or later. */
TEST_F(tx_shape, write_only_header)
{
	struct vqt *t = &self->t;
	u64 rx, tx = 0;
	u16 th;

	ASSERT_EQ(0, setup_rx(t, &rx));
	th = vqt_tx_frame(t, 64, 2, &tx);
	vqt_desc_set(t, VQT_TX, th, tx, 12 + 64, VRING_DESC_F_WRITE, 0);
	EXPECT_TX_REJECTED(t, th, TX_CHAIN_INVALID, rx, 256);
	/* Not written to either. */
	EXPECT_FILL(t, tx, 12, VQT_TX_HDR_FILL);
	EXPECT_PATTERN(t, tx + 12, 64, 2);
	EXPECT_RX_STILL_POSTED(t, rx);
}

TEST_F(tx_shape, write_only_payload)
{
	struct vqt *t = &self->t;
	struct virtq_buf s[2];
	u64 rx;
	u16 th;

	ASSERT_EQ(0, setup_rx(t, &rx));
	s[0].gpa = vqt_alloc(t, 12);
	s[0].len = 12;
	s[0].flags = 0;
	s[1].gpa = vqt_alloc(t, 64);
	s[1].len = 64;
	s[1].flags = VRING_DESC_F_WRITE;
	vqt_pattern(vqt_ptr(t, s[1].gpa), 64, 3);
	th = vqt_chain(t, VQT_TX, s, 2);
	EXPECT_TX_REJECTED(t, th, TX_CHAIN_INVALID, rx, 256);
	EXPECT_PATTERN(t, s[1].gpa, 64, 3);
}

/* addr + len wraps the 64-bit address space. */
TEST_F(tx_shape, address_overflow)
{
	struct vqt *t = &self->t;
	struct virtq_buf s = { .gpa = 0xfffffffffffffff8ULL, .len = 64 };
	u64 rx;
	u16 th;

	ASSERT_EQ(0, setup_rx(t, &rx));
	th = vqt_chain(t, VQT_TX, &s, 1);
	EXPECT_TX_REJECTED(t, th, TX_CHAIN_INVALID, rx, 256);
}

TEST_F(tx_shape, address_overflow_payload)
{
	struct vqt *t = &self->t;
	struct virtq_buf s[2] = {
		{ .len = 12 },
		{ .gpa = ~0ULL, .len = 2 },
	};
	u64 rx;
	u16 th;

	ASSERT_EQ(0, setup_rx(t, &rx));
	s[0].gpa = vqt_alloc(t, 12);
	th = vqt_chain(t, VQT_TX, s, 2);
	EXPECT_TX_REJECTED(t, th, TX_CHAIN_INVALID, rx, 256);
}

/* The header must be readable even though it is not interpreted. */
TEST_F(tx_shape, header_unmapped)
{
	struct vqt *t = &self->t;
	struct virtq_buf s[2] = {
		{ .gpa = VQT_GPA_BELOW, .len = 12 },
		{ .len = 64 },
	};
	u64 rx;
	u16 th;

	ASSERT_EQ(0, setup_rx(t, &rx));
	s[1].gpa = vqt_alloc(t, 64);
	th = vqt_chain(t, VQT_TX, s, 2);
	EXPECT_TX_REJECTED(t, th, TX_CHAIN_INVALID, rx, 256);
	EXPECT_RX_STILL_POSTED(t, rx);
}

/* Header-only frame whose header sits past the end of guest memory. */
TEST_F(tx_shape, header_only_unmapped)
{
	struct vqt *t = &self->t;
	struct virtq_buf s = { .gpa = VQT_GPA_ABOVE, .len = 12 };
	u64 rx;
	u16 th;

	ASSERT_EQ(0, setup_rx(t, &rx));
	th = vqt_chain(t, VQT_TX, &s, 1);
	EXPECT_TX_REJECTED(t, th, TX_CHAIN_INVALID, rx, 256);
}

TEST_F(tx_shape, payload_unmapped)
{
	struct vqt *t = &self->t;
	struct virtq_buf s[2] = {
		{ .len = 12 },
		{ .gpa = VQT_GPA_ABOVE, .len = 64 },
	};
	u64 rx;
	u16 th;

	ASSERT_EQ(0, setup_rx(t, &rx));
	s[0].gpa = vqt_alloc(t, 12);
	th = vqt_chain(t, VQT_TX, s, 2);
	EXPECT_TX_REJECTED(t, th, TX_CHAIN_INVALID, rx, 256);
	EXPECT_RX_STILL_POSTED(t, rx);
}

/* One descriptor that starts in guest memory and runs past its end. */
TEST_F(tx_shape, straddles_memory_end)
{
	struct vqt *t = &self->t;
	struct virtq_buf s = { .gpa = VQT_GPA_END - 20, .len = 40 };
	u64 rx;
	u16 th;

	ASSERT_EQ(0, setup_rx(t, &rx));
	th = vqt_chain(t, VQT_TX, &s, 1);
	EXPECT_TX_REJECTED(t, th, TX_CHAIN_INVALID, rx, 256);
}

TEST_F(tx_shape, next_out_of_range)
{
	struct vqt *t = &self->t;
	u64 rx, hdr;

	ASSERT_EQ(0, setup_rx(t, &rx));
	hdr = vqt_alloc(t, 12);
	vqt_desc_set(t, VQT_TX, 0, hdr, 12, VRING_DESC_F_NEXT, 8);
	vqt_avail_put(t, VQT_TX, 0);
	EXPECT_TX_REJECTED(t, 0, TX_CHAIN_INVALID, rx, 256);
}

/* 0 -> 1 -> 0 -> ...: the walk is bounded by the queue size. */
TEST_F(tx_shape, descriptor_loop)
{
	struct vqt *t = &self->t;
	u64 rx, a, b;

	ASSERT_EQ(0, setup_rx(t, &rx));
	a = vqt_alloc(t, 12);
	b = vqt_alloc(t, 64);
	vqt_desc_set(t, VQT_TX, 0, a, 12, VRING_DESC_F_NEXT, 1);
	vqt_desc_set(t, VQT_TX, 1, b, 64, VRING_DESC_F_NEXT, 0);
	vqt_avail_put(t, VQT_TX, 0);
	EXPECT_TX_REJECTED(t, 0, TX_CHAIN_INVALID, rx, 256);
}

TEST_F(tx_shape, descriptor_self_loop)
{
	struct vqt *t = &self->t;
	u64 rx, a;

	ASSERT_EQ(0, setup_rx(t, &rx));
	a = vqt_alloc(t, 64);
	vqt_desc_set(t, VQT_TX, 3, a, 0, VRING_DESC_F_NEXT, 3);
	vqt_avail_put(t, VQT_TX, 3);
	EXPECT_TX_REJECTED(t, 3, TX_CHAIN_INVALID, rx, 256);
}

/* A loop through all 256 descriptors of the largest queue. */
TEST_F(tx_shape, descriptor_loop_full_queue)
{
	struct vqt *t = &self->t;
	u64 rx, a;
	u16 i;

	ASSERT_EQ(0, vqt_setup(t, 8, 256, false));
	vqt_rx_buf(t, 256, &rx);
	a = vqt_alloc(t, 64);
	for (i = 0; i < 256; i++)
		vqt_desc_set(t, VQT_TX, i, a + i % 64, 1, VRING_DESC_F_NEXT,
			     (i + 1) % 256);
	vqt_avail_put(t, VQT_TX, 17);
	EXPECT_TX_REJECTED(t, 17, TX_CHAIN_INVALID, rx, 256);
}

/*
 * INDIRECT_DESC is never offered: a well-formed indirect table is still
 * rejected.
 */
TEST_F(tx_shape, indirect)
{
	struct vqt *t = &self->t;
	u64 rx, table, frame;
	u8 *p;

	ASSERT_EQ(0, setup_rx(t, &rx));
	frame = vqt_alloc(t, 12 + 64);
	memset(vqt_ptr(t, frame), VQT_TX_HDR_FILL, 12 + 64);
	table = vqt_alloc(t, 16);
	p = vqt_ptr(t, table);
	memset(p, 0, 16);
	memcpy(p, &(u64){ cpu_to_le64(frame) }, 8);
	memcpy(p + 8, &(u32){ cpu_to_le32(12 + 64) }, 4);
	vqt_desc_set(t, VQT_TX, 0, table, 16, VRING_DESC_F_INDIRECT, 0);
	vqt_avail_put(t, VQT_TX, 0);
	EXPECT_TX_REJECTED(t, 0, TX_CHAIN_INVALID, rx, 256);
}

/* The avail ring names a head past the table: invalid, and not returnable. */
TEST_F(tx_shape, head_out_of_range)
{
	struct vqt *t = &self->t;
	u64 rx;
	u16 th;

	ASSERT_EQ(0, setup_rx(t, &rx));
	vqt_avail_put(t, VQT_TX, 8);
	th = vqt_tx_frame(t, 30, 4, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_CHAIN_INVALID) = 1, D(TX_ADD_USED_FAILURES) = 1,
		     D(TX_PACKETS) = 1, D(TX_BYTES) = 30,
		     D(RX_PACKETS) = 1, D(RX_BYTES) = 30);
	EXPECT_EQ(1, vqt_used_idx(t, VQT_TX));
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_EQ(1, vqt_used_idx(t, VQT_RX));
	EXPECT_USED(t, VQT_RX, 0, 0, 42);
	EXPECT_PATTERN(t, rx + 12, 30, 4);
	EXPECT_FALSE(vqt_needs_reset(t));
}

/* Only the out-of-range head: no used entry at all, so no interrupt. */
TEST_F(tx_shape, head_out_of_range_alone)
{
	struct vqt *t = &self->t;
	u64 rx;

	ASSERT_EQ(0, setup_rx(t, &rx));
	vqt_avail_put(t, VQT_TX, 0xffff);
	vqt_mark(t);
	EXPECT_DRAIN(t, 0);
	EXPECT_DELTA(t, D(TX_CHAIN_INVALID) = 1, D(TX_ADD_USED_FAILURES) = 1);
	EXPECT_EQ(0, vqt_used_idx(t, VQT_TX));
	EXPECT_EQ(0, vqt_used_idx(t, VQT_RX));
	EXPECT_FILL(t, rx, 256, VQT_RX_FILL);
}

/* One byte over MAX_FRAME_SIZE in one descriptor: dropped whole. */
TEST_F(tx_shape, oversize_single)
{
	struct vqt *t = &self->t;
	u64 rx;
	u16 th;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	vqt_rx_buf(t, 12 + VNL_MAX_FRAME_SIZE + 1, &rx);
	th = vqt_tx_frame(t, VNL_MAX_FRAME_SIZE + 1, 5, NULL);
	EXPECT_TX_REJECTED(t, th, TX_OVERSIZE_DROPPED, rx,
			   12 + VNL_MAX_FRAME_SIZE + 1);
	EXPECT_RX_STILL_POSTED(t, rx);
}

/* One byte over MAX_FRAME_SIZE over header + 30000 + 30000 + 5558. */
TEST_F(tx_shape, oversize_multi)
{
	static const u32 lens[] = { 12, 30000, 30000, 5558 };
	struct vqt *t = &self->t;
	u64 rx;
	u16 th;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	vqt_rx_buf(t, 70000, &rx);
	th = vqt_tx_split(t, lens, 4, 6, NULL);
	EXPECT_TX_REJECTED(t, th, TX_OVERSIZE_DROPPED, rx, 70000);
	EXPECT_RX_STILL_POSTED(t, rx);
}

/*
 * A chain that is both invalid and oversize is invalid: a huge frame whose
 * bytes are not backed by guest RAM counts as tx_chain_invalid. (Oversize
 * alone is decided before any copy: oversize_single, oversize_multi.)
 */
TEST_F(tx_shape, invalid_wins_over_oversize)
{
	struct vqt *t = &self->t;
	struct virtq_buf s[2] = {
		{ .len = 12 },
		{ .gpa = VQT_GPA_ABOVE, .len = 0x10000000 },
	};
	u64 rx;
	u16 th;

	ASSERT_EQ(0, setup_rx(t, &rx));
	s[0].gpa = vqt_alloc(t, 12);
	th = vqt_chain(t, VQT_TX, s, 2);
	EXPECT_TX_REJECTED(t, th, TX_CHAIN_INVALID, rx, 256);
}

/* Good and bad chains mixed in one drain complete in order. */
TEST_F(tx_shape, mixed_batch)
{
	struct vqt *t = &self->t;
	u64 rx0, rx1, tx1 = 0;
	u16 r0, r1, t0, t1, t2, t3;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	r0 = vqt_rx_buf(t, 256, &rx0);
	r1 = vqt_rx_buf(t, 256, &rx1);
	t0 = vqt_tx_frame(t, 10, 20, NULL);
	t1 = vqt_tx_frame(t, 10, 21, &tx1);
	vqt_desc_set(t, VQT_TX, t1, tx1, 22, VRING_DESC_F_WRITE, 0);
	t2 = vqt_tx_split(t, (const u32[]){ 12, VNL_MAX_FRAME_SIZE + 1 }, 2,
			  22, NULL);
	t3 = vqt_tx_frame(t, 20, 23, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 2, D(TX_BYTES) = 30,
		     D(RX_PACKETS) = 2, D(RX_BYTES) = 30,
		     D(TX_CHAIN_INVALID) = 1, D(TX_OVERSIZE_DROPPED) = 1);
	EXPECT_EQ(4, vqt_used_idx(t, VQT_TX));
	EXPECT_USED(t, VQT_TX, 0, t0, 0);
	EXPECT_USED(t, VQT_TX, 1, t1, 0);
	EXPECT_USED(t, VQT_TX, 2, t2, 0);
	EXPECT_USED(t, VQT_TX, 3, t3, 0);
	EXPECT_EQ(2, vqt_used_idx(t, VQT_RX));
	EXPECT_USED(t, VQT_RX, 0, r0, 22);
	EXPECT_USED(t, VQT_RX, 1, r1, 32);
	EXPECT_PATTERN(t, rx0 + 12, 10, 20);
	EXPECT_PATTERN(t, rx1 + 12, 20, 23);
}

TEST_HARNESS_MAIN
