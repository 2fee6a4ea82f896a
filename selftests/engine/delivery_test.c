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
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	/* Written: the two used rings and the RX bytes, nothing else. */
	w[0] = vqt_used_range(t, VQT_TX);
	w[1] = vqt_used_range(t, VQT_RX);
	w[2] = (struct vqt_range){ rx, rx + 112 };
	EXPECT_EQ(0ul, vqt_changed_outside(t, w, 3));
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 100,
		     D(RX_PACKETS) = 1, D(RX_BYTES) = 100);
	EXPECT_EQ(1ul, t->commits);
	EXPECT_EQ(1, vqt_used_idx(t, VQT_TX));
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_EQ(1, vqt_used_idx(t, VQT_RX));
	EXPECT_USED(t, VQT_RX, 0, rh, 112);
	EXPECT_TRUE(vqt_rx_hdr_ok(t, rx));
	EXPECT_PATTERN(t, rx + 12, 100, 1);
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
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 20,
		     D(RX_PACKETS) = 1, D(RX_BYTES) = 20);
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_USED(t, VQT_RX, 0, rh, 32);
	EXPECT_TRUE(vqt_rx_hdr_ok(t, rx));
	EXPECT_PATTERN(t, rx + 12, 20, 9);
}

/* A 12-byte TX chain is an empty frame: delivered as a bare header. */
TEST_F(delivery, header_only_tx)
{
	struct vqt *t = &self->t;
	u64 rx;
	u16 rh, th;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	rh = vqt_rx_buf(t, 64, &rx);
	th = vqt_tx_frame(t, 0, 2, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(RX_PACKETS) = 1);
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_USED(t, VQT_RX, 0, rh, 12);
	EXPECT_TRUE(vqt_rx_hdr_ok(t, rx));
	EXPECT_FILL(t, rx + 12, 64 - 12, VQT_RX_FILL);
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

/* TX header split over descriptors of 5 and 7 bytes, payload in a third. */
TEST_F(delivery, tx_header_split_5_7)
{
	static const u32 lens[] = { 5, 7, 300 };
	struct vqt *t = &self->t;
	u64 rx;
	u16 rh, th;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	rh = vqt_rx_buf(t, 1024, &rx);
	th = vqt_tx_split(t, lens, 3, 5, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 300,
		     D(RX_PACKETS) = 1, D(RX_BYTES) = 300);
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_USED(t, VQT_RX, 0, rh, 312);
	EXPECT_TRUE(vqt_rx_hdr_ok(t, rx));
	EXPECT_PATTERN(t, rx + 12, 300, 5);
	EXPECT_FILL(t, rx + 312, 1024 - 312, VQT_RX_FILL);
}

/* Header and payload share descriptors: 5 | 7 + 40 | 60 | 1. */
TEST_F(delivery, tx_header_split_mixed)
{
	static const u32 lens[] = { 5, 47, 60, 1 };
	struct vqt *t = &self->t;
	u64 rx;
	u16 rh, th;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	rh = vqt_rx_buf(t, 1024, &rx);
	th = vqt_tx_split(t, lens, 4, 6, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 101,
		     D(RX_PACKETS) = 1, D(RX_BYTES) = 101);
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_USED(t, VQT_RX, 0, rh, 113);
	EXPECT_TRUE(vqt_rx_hdr_ok(t, rx));
	EXPECT_PATTERN(t, rx + 12, 101, 6);
}

/* Zero-length descriptors inside a chain carry nothing and are legal. */
TEST_F(delivery, tx_zero_length_pieces)
{
	static const u32 lens[] = { 0, 12, 0, 30, 0 };
	struct vqt *t = &self->t;
	u64 rx;
	u16 rh, th;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	rh = vqt_rx_buf(t, 128, &rx);
	th = vqt_tx_split(t, lens, 5, 7, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 30,
		     D(RX_PACKETS) = 1, D(RX_BYTES) = 30);
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_USED(t, VQT_RX, 0, rh, 42);
	EXPECT_TRUE(vqt_rx_hdr_ok(t, rx));
	EXPECT_PATTERN(t, rx + 12, 30, 7);
}

/* RX header split over 5 and 7 bytes, frame in a third descriptor. */
TEST_F(delivery, rx_header_split_5_7)
{
	static const u32 lens[] = { 5, 7, 200 };
	u8 got[212], want[212];
	struct vqt *t = &self->t;
	u64 g[3];
	u16 rh, th;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	rh = vqt_rx_split(t, lens, 3, g);
	th = vqt_tx_frame(t, 150, 8, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 150,
		     D(RX_PACKETS) = 1, D(RX_BYTES) = 150);
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_USED(t, VQT_RX, 0, rh, 162);
	vqt_gather(t, g, lens, 3, got);
	vqt_rx_expect(want, sizeof(want), 150, 8);
	EXPECT_EQ(0, memcmp(want, got, sizeof(want)));
}

/* RX pieces 5 | 20 | 100: the header ends inside the second piece. */
TEST_F(delivery, rx_header_split_mixed)
{
	static const u32 lens[] = { 5, 20, 100 };
	u8 got[125], want[125];
	struct vqt *t = &self->t;
	u64 g[3];
	u16 rh, th;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	rh = vqt_rx_split(t, lens, 3, g);
	th = vqt_tx_frame(t, 80, 10, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 80,
		     D(RX_PACKETS) = 1, D(RX_BYTES) = 80);
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_USED(t, VQT_RX, 0, rh, 92);
	vqt_gather(t, g, lens, 3, got);
	vqt_rx_expect(want, sizeof(want), 80, 10);
	EXPECT_EQ(0, memcmp(want, got, sizeof(want)));
}

/* RX buffer smaller than the frame: truncated, rx_bytes = bytes written. */
TEST_F(delivery, rx_too_small_truncates)
{
	struct vqt *t = &self->t;
	u64 rx;
	u16 rh, th;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	rh = vqt_rx_buf(t, 22, &rx);
	th = vqt_tx_frame(t, 100, 11, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 100,
		     D(RX_PACKETS) = 1, D(RX_BYTES) = 10);
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_USED(t, VQT_RX, 0, rh, 22);
	EXPECT_TRUE(vqt_rx_hdr_ok(t, rx));
	EXPECT_PATTERN(t, rx + 12, 10, 11);
	/* Nothing past the descriptor (the allocator leaves zeros there). */
	EXPECT_FILL(t, rx + 22, 42, 0);
}

/* Truncation across a multi-descriptor RX chain. */
TEST_F(delivery, rx_too_small_multi)
{
	static const u32 lens[] = { 12, 8, 8 };
	u8 got[28], want[28];
	struct vqt *t = &self->t;
	u64 g[3];
	u16 rh, th;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	rh = vqt_rx_split(t, lens, 3, g);
	th = vqt_tx_frame(t, 100, 12, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 100,
		     D(RX_PACKETS) = 1, D(RX_BYTES) = 16);
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_USED(t, VQT_RX, 0, rh, 28);
	vqt_gather(t, g, lens, 3, got);
	vqt_rx_expect(want, sizeof(want), 100, 12);
	EXPECT_EQ(0, memcmp(want, got, sizeof(want)));
}

/* An RX buffer of exactly the header gets the header and nothing else. */
TEST_F(delivery, rx_header_only_buffer)
{
	struct vqt *t = &self->t;
	u64 rx;
	u16 rh, th;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	rh = vqt_rx_buf(t, 12, &rx);
	th = vqt_tx_frame(t, 50, 13, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 50,
		     D(RX_PACKETS) = 1);
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_USED(t, VQT_RX, 0, rh, 12);
	EXPECT_TRUE(vqt_rx_hdr_ok(t, rx));
	EXPECT_FILL(t, rx + 12, 52, 0);
}

/* A chain of exactly queue-size descriptors is legal, on both sides. */
TEST_F(delivery, chain_of_queue_size)
{
	static const u32 tx_lens[] = { 2, 2, 2, 2, 2, 2, 30, 40 };
	static const u32 rx_lens[] = { 1, 1, 1, 1, 1, 7, 30, 50 };
	u8 got[92], want[92];
	struct vqt *t = &self->t;
	u64 g[8];
	u16 rh, th;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	rh = vqt_rx_split(t, rx_lens, 8, g);
	th = vqt_tx_split(t, tx_lens, 8, 14, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 70,
		     D(RX_PACKETS) = 1, D(RX_BYTES) = 70);
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_USED(t, VQT_RX, 0, rh, 82);
	vqt_gather(t, g, rx_lens, 8, got);
	vqt_rx_expect(want, sizeof(want), 70, 14);
	EXPECT_EQ(0, memcmp(want, got, sizeof(want)));
}

/* Exactly MAX_FRAME_SIZE in one descriptor: delivered whole. */
TEST_F(delivery, max_frame_single)
{
	struct vqt *t = &self->t;
	u64 rx;
	u16 rh, th;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	rh = vqt_rx_buf(t, 12 + VNL_MAX_FRAME_SIZE, &rx);
	th = vqt_tx_frame(t, VNL_MAX_FRAME_SIZE, 15, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 65557,
		     D(RX_PACKETS) = 1, D(RX_BYTES) = 65557);
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_USED(t, VQT_RX, 0, rh, 12 + 65557);
	EXPECT_TRUE(vqt_rx_hdr_ok(t, rx));
	EXPECT_PATTERN(t, rx + 12, VNL_MAX_FRAME_SIZE, 15);
}

/* Exactly MAX_FRAME_SIZE over header + 30000 + 30000 + 5557. */
TEST_F(delivery, max_frame_multi)
{
	static const u32 lens[] = { 12, 30000, 30000, 5557 };
	struct vqt *t = &self->t;
	u64 rx;
	u16 rh, th;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	rh = vqt_rx_buf(t, 70000, &rx);
	th = vqt_tx_split(t, lens, 4, 16, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 65557,
		     D(RX_PACKETS) = 1, D(RX_BYTES) = 65557);
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_USED(t, VQT_RX, 0, rh, 12 + 65557);
	EXPECT_TRUE(vqt_rx_hdr_ok(t, rx));
	EXPECT_PATTERN(t, rx + 12, VNL_MAX_FRAME_SIZE, 16);
	EXPECT_FILL(t, rx + 12 + 65557, 70000 - 12 - 65557, VQT_RX_FILL);
}

TEST_HARNESS_MAIN
