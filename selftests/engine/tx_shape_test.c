// SPDX-License-Identifier: GPL-2.0
/*
 * Malformed TX chains: each is counted as tx_chain_invalid
 * or tx_oversize_dropped, still completed on TX with length 0, and never
 * touches the RX queue.
 */
#include "engine_test.h"

VQ_FIXTURE(tx_shape)

/* The counter a rejected chain moves, as expected deltas. */
static const u64 chain_invalid[VNETLOOP_NUM_SPEC_COUNTERS] = {
	D(TX_CHAIN_INVALID) = 1,
};
static const u64 oversize_dropped[VNETLOOP_NUM_SPEC_COUNTERS] = {
	D(TX_OVERSIZE_DROPPED) = 1,
};

/*
 * Then the RX buffer is still the next one: a good frame lands in it
 * (rx head 0, the only one posted).
 */
#define EXPECT_RX_STILL_POSTED(t, rx) do {				\
	u16 th_ = vqt_tx_frame(t, 40, 99, NULL);			\
									\
	EXPECT_FRAME(t, VIRTIO_MMIO_INT_VRING, th_, 1, 0, 0, rx, 40, 99); \
} while (0)

/* Queues of 8, no EVENT_IDX, one 256-byte RX buffer (head 0) posted. */
static int setup_rx(struct vqt *t, u64 *rx)
{
	int ret = vqt_setup(t, 8, 8, false);

	if (!ret)
		vqt_rx_buf(t, 256, rx);
	return ret;
}

/*
 * Malformed TX chains, written by the driver's chain writer: a piece with
 * gpa 0 is allocated and holds its part of the frame (vqt_tx_chain()),
 * which must stay as it is. The RX buffer is rx_len bytes (0: 256).
 */
VQ_FIXTURE(tx_chain)

FIXTURE_VARIANT(tx_chain) {
	struct virtq_buf s[4];
	unsigned int n;
	u32 seed;
	u32 rx_len;
	const u64 *delta;
};

FIXTURE_VARIANT_ADD(tx_chain, shorter_than_header) {
	.s = { { .len = 11 } }, .n = 1, .seed = 1,
	.delta = chain_invalid,
};

FIXTURE_VARIANT_ADD(tx_chain, split_shorter_than_header) {
	.s = { { .len = 5 }, { .len = 6 } }, .n = 2, .seed = 1,
	.delta = chain_invalid,
};

FIXTURE_VARIANT_ADD(tx_chain, zero_length) {
	.s = { { .len = 0 } }, .n = 1, .seed = 1,
	.delta = chain_invalid,
};

/* A device-writable descriptor in a TX chain, first or later. */
FIXTURE_VARIANT_ADD(tx_chain, write_only_header) {
	.s = { { .len = 12 + 64, .flags = VRING_DESC_F_WRITE } },
	.n = 1, .seed = 2,
	.delta = chain_invalid,
};

FIXTURE_VARIANT_ADD(tx_chain, write_only_payload) {
	.s = { { .len = 12 }, { .len = 64, .flags = VRING_DESC_F_WRITE } },
	.n = 2, .seed = 3,
	.delta = chain_invalid,
};

/* addr + len wraps the 64-bit address space. */
FIXTURE_VARIANT_ADD(tx_chain, address_overflow) {
	.s = { { .gpa = 0xfffffffffffffff8ULL, .len = 64 } }, .n = 1,
	.delta = chain_invalid,
};

FIXTURE_VARIANT_ADD(tx_chain, address_overflow_payload) {
	.s = { { .len = 12 }, { .gpa = ~0ULL, .len = 2 } }, .n = 2,
	.delta = chain_invalid,
};

/* The header must be readable even though it is not interpreted. */
FIXTURE_VARIANT_ADD(tx_chain, header_unmapped) {
	.s = { { .gpa = VQT_GPA_BELOW, .len = 12 }, { .len = 64 } }, .n = 2,
	.delta = chain_invalid,
};

/* Header-only frame whose header sits past the end of guest memory. */
FIXTURE_VARIANT_ADD(tx_chain, header_only_unmapped) {
	.s = { { .gpa = VQT_GPA_ABOVE, .len = 12 } }, .n = 1,
	.delta = chain_invalid,
};

FIXTURE_VARIANT_ADD(tx_chain, payload_unmapped) {
	.s = { { .len = 12 }, { .gpa = VQT_GPA_ABOVE, .len = 64 } }, .n = 2,
	.delta = chain_invalid,
};

/* One descriptor that starts in guest memory and runs past its end. */
FIXTURE_VARIANT_ADD(tx_chain, straddles_memory_end) {
	.s = { { .gpa = VQT_GPA_END - 20, .len = 40 } }, .n = 1,
	.delta = chain_invalid,
};

/* One byte over MAX_FRAME_SIZE in one descriptor: dropped whole. */
FIXTURE_VARIANT_ADD(tx_chain, oversize_single) {
	.s = { { .len = 12 + VNL_MAX_FRAME_SIZE + 1 } }, .n = 1, .seed = 5,
	.rx_len = 12 + VNL_MAX_FRAME_SIZE + 1,
	.delta = oversize_dropped,
};

/* One byte over MAX_FRAME_SIZE over header + 30000 + 30000 + 5558. */
FIXTURE_VARIANT_ADD(tx_chain, oversize_multi) {
	.s = { { .len = 12 }, { .len = 30000 }, { .len = 30000 },
	       { .len = 5558 } },
	.n = 4, .seed = 6, .rx_len = 70000,
	.delta = oversize_dropped,
};

/*
 * A chain that is both invalid and oversize is invalid: a huge frame whose
 * bytes are not backed by guest RAM counts as tx_chain_invalid. (Oversize
 * alone is decided before any copy: oversize_single, oversize_multi.)
 */
FIXTURE_VARIANT_ADD(tx_chain, invalid_wins_over_oversize) {
	.s = { { .len = 12 }, { .gpa = VQT_GPA_ABOVE, .len = 0x10000000 } },
	.n = 2,
	.delta = chain_invalid,
};

TEST_F(tx_chain, rejected)
{
	const u32 rx_len = variant->rx_len ? variant->rx_len : 256;
	const struct virtq_buf *s = variant->s;
	struct vqt *t = &self->t;
	unsigned int k;
	u64 rx, g[4];
	u32 off = 0;
	u16 th;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	vqt_rx_buf(t, rx_len, &rx);
	th = vqt_tx_chain(t, s, variant->n, variant->seed, g);
	EXPECT_TX_REJECTED(t, th, variant->delta, rx, rx_len);
	/* Not written to either: each piece still holds its bytes. */
	for (k = 0; k < variant->n; off += s[k].len, k++) {
		if (!s[k].gpa)
			EXPECT_EQ(-1, vqt_tx_bytes_check(vqt_ptr(t, g[k]), off,
							 s[k].len,
							 variant->seed));
	}
	EXPECT_RX_STILL_POSTED(t, rx);
}

/*
 * Descriptors written one by one, each with NEXT: chains no chain writer
 * makes. d[k] is descriptor i over a fresh buffer of alloc bytes.
 */
VQ_FIXTURE(tx_desc)

FIXTURE_VARIANT(tx_desc) {
	struct {
		u16 i, next;
		u32 alloc, len;
	} d[2];
	unsigned int n;
	u16 head;
};

FIXTURE_VARIANT_ADD(tx_desc, next_out_of_range) {
	.d = { { .i = 0, .alloc = 12, .len = 12, .next = 8 } }, .n = 1,
	.head = 0,
};

/* 0 -> 1 -> 0 -> ...: the walk is bounded by the queue size. */
FIXTURE_VARIANT_ADD(tx_desc, descriptor_loop) {
	.d = { { .i = 0, .alloc = 12, .len = 12, .next = 1 },
	       { .i = 1, .alloc = 64, .len = 64, .next = 0 } }, .n = 2,
	.head = 0,
};

FIXTURE_VARIANT_ADD(tx_desc, descriptor_self_loop) {
	.d = { { .i = 3, .alloc = 64, .len = 0, .next = 3 } }, .n = 1,
	.head = 3,
};

TEST_F(tx_desc, rejected)
{
	struct vqt *t = &self->t;
	unsigned int k;
	u64 rx;

	ASSERT_EQ(0, setup_rx(t, &rx));
	for (k = 0; k < variant->n; k++)
		vqt_desc_set(t, VQT_TX, variant->d[k].i,
			     vqt_alloc(t, variant->d[k].alloc),
			     variant->d[k].len, VRING_DESC_F_NEXT,
			     variant->d[k].next);
	vqt_avail_put(t, VQT_TX, variant->head);
	EXPECT_TX_REJECTED(t, variant->head, chain_invalid, rx, 256);
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
	EXPECT_TX_REJECTED(t, 17, chain_invalid, rx, 256);
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
	EXPECT_TX_REJECTED(t, 0, chain_invalid, rx, 256);
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
	EXPECT_DELTA(t, ONE_FRAME(30), D(TX_CHAIN_INVALID) = 1,
		     D(TX_ADD_USED_FAILURES) = 1);
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
	EXPECT_NONE_USED(t, rx, 256);
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
