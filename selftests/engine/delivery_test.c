// SPDX-License-Identifier: GPL-2.0
/*
 * Frame delivery: TX chain -> RX chain with the 12-byte header,
 * header splits, truncation and the MAX_FRAME_SIZE boundary.
 */
#include "engine_test.h"

VQ_FIXTURE(delivery)

/* Plain loopback: header all zero but num_buffers = 1, payload exact. */
TEST_F(delivery, basic_loopback)
{
	struct vqt *t = &self->t;
	u64 rx, tx;
	u16 rh, th;
	struct vqt_range w[3];

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	rh = vqt_rx_buf(t, 1500, &rx);
	th = vqt_tx_frame(t, 100, 1, &tx);
	ASSERT_EQ(0, vqt_snapshot(t));
	EXPECT_FRAME(t, VIRTIO_MMIO_INT_VRING, th, 0, rh, 0, rx, 100, 1);
	/* Written: the two used rings and the RX bytes, nothing else. */
	w[0] = vqt_used_range(t, VQT_TX);
	w[1] = vqt_used_range(t, VQT_RX);
	w[2] = (struct vqt_range){ rx, rx + 112 };
	EXPECT_EQ(0ul, vqt_changed_outside(t, w, 3));
	EXPECT_EQ(1ul, t->commits);
	EXPECT_FILL(t, rx + 112, 1500 - 112, VQT_RX_FILL);
	/* The TX buffer is only read. */
	EXPECT_FILL(t, tx, 12, VQT_TX_HDR_FILL);
	EXPECT_PATTERN(t, tx + 12, 100, 1);
	EXPECT_FALSE(vqt_needs_reset(t));
}

/* The guest's TX header never reaches the RX side, whatever it holds. */
TEST_F(delivery, tx_header_not_copied)
{
	struct vqt *t = &self->t;
	u64 rx, tx;
	u16 rh, th;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	rh = vqt_rx_buf(t, 256, &rx);
	th = vqt_tx_frame(t, 20, 9, &tx);
	memset(vqt_ptr(t, tx), 0xff, 12);
	EXPECT_FRAME(t, VIRTIO_MMIO_INT_VRING, th, 0, rh, 0, rx, 20, 9);
}

/* Two chains in one drain: both delivered in order, one interrupt. */
TEST_F(delivery, two_chains_one_drain)
{
	struct vqt *t = &self->t;
	u64 rx0, rx1;
	u16 rh0, rh1, th0, th1;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	rh0 = vqt_rx_buf(t, 512, &rx0);
	rh1 = vqt_rx_buf(t, 512, &rx1);
	th0 = vqt_tx_frame(t, 60, 3, NULL);
	th1 = vqt_tx_frame(t, 200, 4, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_EQ(1ul, t->commits);
	EXPECT_DELTA(t, D(TX_PACKETS) = 2, D(TX_BYTES) = 260,
		     D(RX_PACKETS) = 2, D(RX_BYTES) = 260);
	EXPECT_EQ(2, vqt_used_idx(t, VQT_TX));
	EXPECT_USED(t, VQT_TX, 0, th0, 0);
	EXPECT_USED(t, VQT_TX, 1, th1, 0);
	EXPECT_EQ(2, vqt_used_idx(t, VQT_RX));
	EXPECT_USED(t, VQT_RX, 0, rh0, 72);
	EXPECT_USED(t, VQT_RX, 1, rh1, 212);
	EXPECT_TRUE(vqt_rx_hdr_ok(t, rx0));
	EXPECT_PATTERN(t, rx0 + 12, 60, 3);
	EXPECT_FILL(t, rx0 + 72, 512 - 72, VQT_RX_FILL);
	EXPECT_TRUE(vqt_rx_hdr_ok(t, rx1));
	EXPECT_PATTERN(t, rx1 + 12, 200, 4);
	/* Nothing left: the next drain is empty and silent. */
	vqt_mark(t);
	EXPECT_DRAIN(t, 0);
	EXPECT_DELTA(t);
}

/*
 * One TX chain meets one RX chain in one drain: the frame lands behind the
 * header, cut to the RX pieces. tx and rx are piece lengths (tx with the
 * 12-byte header), seed the frame's pattern, delta the counters the drain
 * moves and used the RX chain's used length.
 */
VQ_FIXTURE(frame)

FIXTURE_VARIANT(frame) {
	u32 tx[8], rx[8];
	unsigned int ntx, nrx;
	u32 seed;
	u64 delta[VNETLOOP_NUM_SPEC_COUNTERS];
	u32 used;
};

/* A 12-byte TX chain is an empty frame: delivered as a bare header. */
FIXTURE_VARIANT_ADD(frame, header_only_tx) {
	.tx = { 12 }, .ntx = 1, .seed = 2,
	.rx = { 64 }, .nrx = 1,
	.delta = { ONE_FRAME(0) }, .used = 12,
};

/* TX header split over descriptors of 5 and 7 bytes, payload in a third. */
FIXTURE_VARIANT_ADD(frame, tx_header_split_5_7) {
	.tx = { 5, 7, 300 }, .ntx = 3, .seed = 5,
	.rx = { 1024 }, .nrx = 1,
	.delta = { ONE_FRAME(300) }, .used = 312,
};

/* Header and payload share descriptors: 5 | 7 + 40 | 60 | 1. */
FIXTURE_VARIANT_ADD(frame, tx_header_split_mixed) {
	.tx = { 5, 47, 60, 1 }, .ntx = 4, .seed = 6,
	.rx = { 1024 }, .nrx = 1,
	.delta = { ONE_FRAME(101) }, .used = 113,
};

/* Zero-length descriptors inside a chain carry nothing and are legal. */
FIXTURE_VARIANT_ADD(frame, tx_zero_length_pieces) {
	.tx = { 0, 12, 0, 30, 0 }, .ntx = 5, .seed = 7,
	.rx = { 128 }, .nrx = 1,
	.delta = { ONE_FRAME(30) }, .used = 42,
};

/* RX header split over 5 and 7 bytes, frame in a third descriptor. */
FIXTURE_VARIANT_ADD(frame, rx_header_split_5_7) {
	.tx = { 12 + 150 }, .ntx = 1, .seed = 8,
	.rx = { 5, 7, 200 }, .nrx = 3,
	.delta = { ONE_FRAME(150) }, .used = 162,
};

/* RX pieces 5 | 20 | 100: the header ends inside the second piece. */
FIXTURE_VARIANT_ADD(frame, rx_header_split_mixed) {
	.tx = { 12 + 80 }, .ntx = 1, .seed = 10,
	.rx = { 5, 20, 100 }, .nrx = 3,
	.delta = { ONE_FRAME(80) }, .used = 92,
};

/* RX buffer smaller than the frame: truncated, rx_bytes = bytes written. */
FIXTURE_VARIANT_ADD(frame, rx_too_small_truncates) {
	.tx = { 12 + 100 }, .ntx = 1, .seed = 11,
	.rx = { 22 }, .nrx = 1,
	.delta = { D(TX_PACKETS) = 1, D(TX_BYTES) = 100,
		   D(RX_PACKETS) = 1, D(RX_BYTES) = 10 },
	.used = 22,
};

/* Truncation across a multi-descriptor RX chain. */
FIXTURE_VARIANT_ADD(frame, rx_too_small_multi) {
	.tx = { 12 + 100 }, .ntx = 1, .seed = 12,
	.rx = { 12, 8, 8 }, .nrx = 3,
	.delta = { D(TX_PACKETS) = 1, D(TX_BYTES) = 100,
		   D(RX_PACKETS) = 1, D(RX_BYTES) = 16 },
	.used = 28,
};

/* An RX buffer of exactly the header gets the header and nothing else. */
FIXTURE_VARIANT_ADD(frame, rx_header_only_buffer) {
	.tx = { 12 + 50 }, .ntx = 1, .seed = 13,
	.rx = { 12 }, .nrx = 1,
	.delta = { D(TX_PACKETS) = 1, D(TX_BYTES) = 50, D(RX_PACKETS) = 1 },
	.used = 12,
};

/* A chain of exactly queue-size descriptors is legal, on both sides. */
FIXTURE_VARIANT_ADD(frame, chain_of_queue_size) {
	.tx = { 2, 2, 2, 2, 2, 2, 30, 40 }, .ntx = 8, .seed = 14,
	.rx = { 1, 1, 1, 1, 1, 7, 30, 50 }, .nrx = 8,
	.delta = { ONE_FRAME(70) }, .used = 82,
};

/* Exactly MAX_FRAME_SIZE in one descriptor: delivered whole. */
FIXTURE_VARIANT_ADD(frame, max_frame_single) {
	.tx = { 12 + VNL_MAX_FRAME_SIZE }, .ntx = 1, .seed = 15,
	.rx = { 12 + VNL_MAX_FRAME_SIZE }, .nrx = 1,
	.delta = { ONE_FRAME(65557) }, .used = 12 + 65557,
};

/* Exactly MAX_FRAME_SIZE over header + 30000 + 30000 + 5557. */
FIXTURE_VARIANT_ADD(frame, max_frame_multi) {
	.tx = { 12, 30000, 30000, 5557 }, .ntx = 4, .seed = 16,
	.rx = { 70000 }, .nrx = 1,
	.delta = { ONE_FRAME(65557) }, .used = 12 + 65557,
};

TEST_F(frame, delivered)
{
	struct vqt *t = &self->t;
	u32 sent = 0, room = 0, pad;
	unsigned int k;
	u8 *got, *want;
	u64 g[8];
	u16 rh, th;

	for (k = 0; k < variant->ntx; k++)
		sent += variant->tx[k];
	for (k = 0; k < variant->nrx; k++)
		room += variant->rx[k];
	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	rh = vqt_rx_split(t, variant->rx, variant->nrx, g);
	th = vqt_tx_split(t, variant->tx, variant->ntx, variant->seed, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTAS(t, variant->delta);
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_USED(t, VQT_RX, 0, rh, variant->used);
	/* The RX pieces: header, frame cut to them, then untouched fill. */
	got = malloc(room);
	want = malloc(room);
	ASSERT_TRUE(got && want);
	vqt_gather(t, g, variant->rx, variant->nrx, got);
	vqt_rx_expect(want, room, sent - 12, variant->seed);
	EXPECT_EQ(0, memcmp(want, got, room));
	free(got);
	free(want);
	/* Nothing past a piece (the allocator leaves zeros up to VQT_ALIGN). */
	for (k = 0; k < variant->nrx; k++) {
		pad = -variant->rx[k] & (VQT_ALIGN - 1);
		EXPECT_FILL(t, g[k] + variant->rx[k], pad, 0);
	}
}

TEST_HARNESS_MAIN
