// SPDX-License-Identifier: GPL-2.0
/*
 * RX-side failures: the TX chain still completes and counts
 * as sent; the frame is dropped; a bad RX chain is returned with length 0 and
 * any header bytes already written are zeroed again.
 */
#include "engine_test.h"

VQ_FIXTURE(rx_errors)

#define FRAME_LEN	100

/*
 * Drain one FRAME_LEN-byte TX frame (head th) whose delivery fails with
 * counter c; the RX chain rh comes back as {rh, 0}. Nothing but the used
 * rings and the guest range [z0, z1) (header bytes written and zeroed again,
 * checked by the test) changes in guest memory.
 */
#define EXPECT_RX_REJECTED_Z(t, th, rh, c, z0, z1) do {			\
	struct vqt_range w_[3] = { [2] = { (z0), (z1) } };		\
									\
	ASSERT_EQ(0, vqt_snapshot(t));					\
	vqt_mark(t);							\
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);				\
	w_[0] = vqt_used_range(t, VQT_TX);				\
	w_[1] = vqt_used_range(t, VQT_RX);				\
	EXPECT_EQ(0ul, vqt_changed_outside(t, w_, 3));			\
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = FRAME_LEN,	\
		     D(c) = 1);						\
	EXPECT_EQ(1, vqt_used_idx(t, VQT_TX));				\
	EXPECT_USED(t, VQT_TX, 0, th, 0);				\
	EXPECT_EQ(1, vqt_used_idx(t, VQT_RX));				\
	EXPECT_USED(t, VQT_RX, 0, rh, 0);				\
	EXPECT_FALSE(vqt_needs_reset(t));			\
} while (0)

#define EXPECT_RX_REJECTED(t, th, rh, c)				\
	EXPECT_RX_REJECTED_Z(t, th, rh, c, 0, 0)

/* RX configured but nothing posted. */
TEST_F(rx_errors, empty_rx)
{
	struct vqt *t = &self->t;
	u16 th;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	th = vqt_tx_frame(t, FRAME_LEN, 1, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = FRAME_LEN,
		     D(TX_DROPPED_NO_RX_BUFFER) = 1);
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_EQ(0, vqt_used_idx(t, VQT_RX));
	EXPECT_FALSE(vqt_needs_reset(t));
}

/* A buffer posted after the drop is used by the next frame. */
TEST_F(rx_errors, empty_rx_then_posted)
{
	struct vqt *t = &self->t;
	u64 rx;
	u16 th, rh;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	vqt_tx_frame(t, FRAME_LEN, 1, NULL);
	vqt_drain(t);
	rh = vqt_rx_buf(t, 256, &rx);
	th = vqt_tx_frame(t, 30, 2, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 30,
		     D(RX_PACKETS) = 1, D(RX_BYTES) = 30);
	EXPECT_USED(t, VQT_TX, 1, th, 0);
	EXPECT_EQ(1, vqt_used_idx(t, VQT_RX));
	EXPECT_USED(t, VQT_RX, 0, rh, 42);
	EXPECT_PATTERN(t, rx + 12, 30, 2);
}

/* RX queue never configured (QueueReady = 0). */
TEST_F(rx_errors, rx_not_ready)
{
	struct vqt *t = &self->t;
	u16 th0, th1;

	ASSERT_EQ(0, vqt_setup(t, 0, 8, false));
	th0 = vqt_tx_frame(t, FRAME_LEN, 1, NULL);
	th1 = vqt_tx_frame(t, 7, 2, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 2, D(TX_BYTES) = FRAME_LEN + 7,
		     D(TX_DROPPED_NO_RX_BUFFER) = 2);
	EXPECT_EQ(2, vqt_used_idx(t, VQT_TX));
	EXPECT_USED(t, VQT_TX, 0, th0, 0);
	EXPECT_USED(t, VQT_TX, 1, th1, 0);
	/* The RX rings were never handed over: nothing written there. */
	EXPECT_FILL(t, VQT_RING_DESC(VQT_RX), 0x3000, 0);
}

/* A device-readable RX descriptor: nothing is written into it. */
TEST_F(rx_errors, read_only)
{
	struct vqt *t = &self->t;
	struct virtq_buf s = { .len = 256 };
	u16 th, rh;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	s.gpa = vqt_alloc(t, 256);
	memset(vqt_ptr(t, s.gpa), VQT_RX_FILL, 256);
	rh = vqt_chain(t, VQT_RX, &s, 1);
	th = vqt_tx_frame(t, FRAME_LEN, 1, NULL);
	EXPECT_RX_REJECTED(t, th, rh, RX_CHAIN_INVALID);
	EXPECT_FILL(t, s.gpa, 256, VQT_RX_FILL);
}

/*
 * Header piece writable, frame piece read-only: the chain is rejected as a
 * whole before anything is written, so the header piece stays untouched.
 */
TEST_F(rx_errors, read_only_frame_piece)
{
	struct vqt *t = &self->t;
	struct virtq_buf s[2] = {
		{ .len = 12, .flags = VRING_DESC_F_WRITE },
		{ .len = 200 },
	};
	u16 th, rh;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	s[0].gpa = vqt_alloc(t, 12);
	s[1].gpa = vqt_alloc(t, 200);
	memset(vqt_ptr(t, s[0].gpa), VQT_RX_FILL, 12);
	memset(vqt_ptr(t, s[1].gpa), VQT_RX_FILL, 200);
	rh = vqt_chain(t, VQT_RX, s, 2);
	th = vqt_tx_frame(t, FRAME_LEN, 1, NULL);
	EXPECT_RX_REJECTED(t, th, rh, RX_CHAIN_INVALID);
	EXPECT_FILL(t, s[0].gpa, 12, VQT_RX_FILL);
	EXPECT_FILL(t, s[1].gpa, 200, VQT_RX_FILL);
}

TEST_F(rx_errors, shorter_than_header)
{
	struct vqt *t = &self->t;
	u64 rx;
	u16 th, rh;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	rh = vqt_rx_buf(t, 11, &rx);
	th = vqt_tx_frame(t, FRAME_LEN, 1, NULL);
	EXPECT_RX_REJECTED(t, th, rh, RX_CHAIN_INVALID);
	EXPECT_FILL(t, rx, 11, VQT_RX_FILL);
}

TEST_F(rx_errors, split_shorter_than_header)
{
	struct vqt *t = &self->t;
	u64 g[2];
	u16 th, rh;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	rh = vqt_rx_split(t, (const u32[]){ 5, 6 }, 2, g);
	th = vqt_tx_frame(t, FRAME_LEN, 1, NULL);
	EXPECT_RX_REJECTED(t, th, rh, RX_CHAIN_INVALID);
	EXPECT_FILL(t, g[0], 5, VQT_RX_FILL);
	EXPECT_FILL(t, g[1], 6, VQT_RX_FILL);
}

TEST_F(rx_errors, address_overflow)
{
	struct vqt *t = &self->t;
	struct virtq_buf s = {
		.gpa = 0xffffffffffffff00ULL, .len = 0x200,
		.flags = VRING_DESC_F_WRITE,
	};
	u16 th, rh;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	rh = vqt_chain(t, VQT_RX, &s, 1);
	th = vqt_tx_frame(t, FRAME_LEN, 1, NULL);
	EXPECT_RX_REJECTED(t, th, rh, RX_CHAIN_INVALID);
}

TEST_F(rx_errors, next_out_of_range)
{
	struct vqt *t = &self->t;
	u16 th;
	u64 a;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	a = vqt_alloc(t, 256);
	vqt_desc_set(t, VQT_RX, 0, a, 256,
		     VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 8);
	vqt_avail_put(t, VQT_RX, 0);
	memset(vqt_ptr(t, a), VQT_RX_FILL, 256);
	th = vqt_tx_frame(t, FRAME_LEN, 1, NULL);
	EXPECT_RX_REJECTED(t, th, 0, RX_CHAIN_INVALID);
	EXPECT_FILL(t, a, 256, VQT_RX_FILL);
}

/* Zero-length writable descriptors chained in a loop: the walk ends. */
TEST_F(rx_errors, descriptor_loop)
{
	struct vqt *t = &self->t;
	u16 th, i;
	u64 a;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	a = vqt_alloc(t, 64);
	for (i = 0; i < 8; i++)
		vqt_desc_set(t, VQT_RX, i, a, i == 7 ? 64 : 0,
			     VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
			     (i + 1) % 8);
	vqt_avail_put(t, VQT_RX, 2);
	memset(vqt_ptr(t, a), VQT_RX_FILL, 64);
	th = vqt_tx_frame(t, FRAME_LEN, 1, NULL);
	EXPECT_RX_REJECTED(t, th, 2, RX_CHAIN_INVALID);
	EXPECT_FILL(t, a, 64, VQT_RX_FILL);
}

/* A loop through all 256 descriptors of the largest RX queue. */
TEST_F(rx_errors, descriptor_loop_full_queue)
{
	struct vqt *t = &self->t;
	u16 th, i;
	u64 a;

	ASSERT_EQ(0, vqt_setup(t, 256, 8, false));
	a = vqt_alloc(t, 256);
	memset(vqt_ptr(t, a), VQT_RX_FILL, 256);
	for (i = 0; i < 256; i++)
		vqt_desc_set(t, VQT_RX, i, a + i, 1,
			     VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
			     (i + 1) % 256);
	vqt_avail_put(t, VQT_RX, 200);
	th = vqt_tx_frame(t, FRAME_LEN, 1, NULL);
	EXPECT_RX_REJECTED(t, th, 200, RX_CHAIN_INVALID);
	EXPECT_FILL(t, a, 256, VQT_RX_FILL);
}

TEST_F(rx_errors, indirect)
{
	struct vqt *t = &self->t;
	u64 table, buf;
	u16 th;
	u8 *p;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	buf = vqt_alloc(t, 256);
	memset(vqt_ptr(t, buf), VQT_RX_FILL, 256);
	table = vqt_alloc(t, 16);
	p = vqt_ptr(t, table);
	memset(p, 0, 16);
	memcpy(p, &(u64){ cpu_to_le64(buf) }, 8);
	memcpy(p + 8, &(u32){ cpu_to_le32(256) }, 4);
	memcpy(p + 12, &(u16){ cpu_to_le16(VRING_DESC_F_WRITE) }, 2);
	vqt_desc_set(t, VQT_RX, 0, table, 16,
		     VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0);
	vqt_avail_put(t, VQT_RX, 0);
	th = vqt_tx_frame(t, FRAME_LEN, 1, NULL);
	EXPECT_RX_REJECTED(t, th, 0, RX_CHAIN_INVALID);
	EXPECT_FILL(t, buf, 256, VQT_RX_FILL);
}

/* The RX avail ring names a head past the table: it cannot be returned. */
TEST_F(rx_errors, head_out_of_range)
{
	struct vqt *t = &self->t;
	u16 th;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	vqt_avail_put(t, VQT_RX, 8);
	th = vqt_tx_frame(t, FRAME_LEN, 1, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = FRAME_LEN,
		     D(RX_CHAIN_INVALID) = 1, D(RX_ADD_USED_FAILURES) = 1);
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_EQ(0, vqt_used_idx(t, VQT_RX));
	EXPECT_FALSE(vqt_needs_reset(t));
}

/* Header descriptor not backed by guest RAM: nothing written anywhere. */
TEST_F(rx_errors, unmapped_header)
{
	struct vqt *t = &self->t;
	struct virtq_buf s[2] = {
		{ .gpa = VQT_GPA_BELOW, .len = 12,
		  .flags = VRING_DESC_F_WRITE },
		{ .len = 200, .flags = VRING_DESC_F_WRITE },
	};
	u16 th, rh;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	s[1].gpa = vqt_alloc(t, 200);
	memset(vqt_ptr(t, s[1].gpa), VQT_RX_FILL, 200);
	rh = vqt_chain(t, VQT_RX, s, 2);
	th = vqt_tx_frame(t, FRAME_LEN, 1, NULL);
	EXPECT_RX_REJECTED(t, th, rh, RX_WRITE_FAILED);
	EXPECT_FILL(t, s[1].gpa, 200, VQT_RX_FILL);
}

/*
 * Header split 5 (backed) + 7 (not backed): the 5 bytes written are zeroed
 * again.
 */
TEST_F(rx_errors, unmapped_header_split)
{
	struct vqt *t = &self->t;
	struct virtq_buf s[3] = {
		{ .len = 5, .flags = VRING_DESC_F_WRITE },
		{ .gpa = VQT_GPA_ABOVE, .len = 7, .flags = VRING_DESC_F_WRITE },
		{ .len = 200, .flags = VRING_DESC_F_WRITE },
	};
	u16 th, rh;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	s[0].gpa = vqt_alloc(t, 5);
	s[2].gpa = vqt_alloc(t, 200);
	memset(vqt_ptr(t, s[0].gpa), VQT_RX_FILL, 5);
	memset(vqt_ptr(t, s[2].gpa), VQT_RX_FILL, 200);
	rh = vqt_chain(t, VQT_RX, s, 3);
	th = vqt_tx_frame(t, FRAME_LEN, 1, NULL);
	EXPECT_RX_REJECTED_Z(t, th, rh, RX_WRITE_FAILED, s[0].gpa,
			     s[0].gpa + 5);
	EXPECT_FILL(t, s[0].gpa, 5, 0);
	EXPECT_FILL(t, s[2].gpa, 200, VQT_RX_FILL);
}

/*
 * Header backed, frame descriptor not: rx_write_failed and the header that
 * was already written is zeroed again. The next frame takes the next buffer.
 */
TEST_F(rx_errors, unmapped_frame)
{
	struct vqt *t = &self->t;
	struct virtq_buf s[2] = {
		{ .len = 12, .flags = VRING_DESC_F_WRITE },
		{ .gpa = VQT_GPA_ABOVE, .len = 200,
		  .flags = VRING_DESC_F_WRITE },
	};
	u16 th, rh, rh1, th1;
	u64 rx1;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	s[0].gpa = vqt_alloc(t, 12);
	memset(vqt_ptr(t, s[0].gpa), VQT_RX_FILL, 12);
	rh = vqt_chain(t, VQT_RX, s, 2);
	rh1 = vqt_rx_buf(t, 256, &rx1);
	th = vqt_tx_frame(t, FRAME_LEN, 1, NULL);
	EXPECT_RX_REJECTED_Z(t, th, rh, RX_WRITE_FAILED, s[0].gpa,
			     s[0].gpa + 12);
	EXPECT_FILL(t, s[0].gpa, 12, 0);
	EXPECT_FILL(t, rx1, 256, VQT_RX_FILL);

	th1 = vqt_tx_frame(t, 33, 2, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 33,
		     D(RX_PACKETS) = 1, D(RX_BYTES) = 33);
	EXPECT_USED(t, VQT_TX, 1, th1, 0);
	EXPECT_EQ(2, vqt_used_idx(t, VQT_RX));
	EXPECT_USED(t, VQT_RX, 1, rh1, 45);
	EXPECT_TRUE(vqt_rx_hdr_ok(t, rx1));
	EXPECT_PATTERN(t, rx1 + 12, 33, 2);
}

/*
 * One descriptor whose header fits in guest RAM but whose frame does not:
 * the bytes that are backed are written (as copy_to_user() would), the
 * rest fails, and the header is zeroed again.
 */
TEST_F(rx_errors, unmapped_frame_same_descriptor)
{
	struct vqt *t = &self->t;
	struct virtq_buf s = {
		.gpa = VQT_GPA_END - 20, .len = 200,
		.flags = VRING_DESC_F_WRITE,
	};
	u16 th, rh;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	memset(vqt_ptr(t, s.gpa), VQT_RX_FILL, 20);
	rh = vqt_chain(t, VQT_RX, &s, 1);
	th = vqt_tx_frame(t, FRAME_LEN, 1, NULL);
	EXPECT_RX_REJECTED_Z(t, th, rh, RX_WRITE_FAILED, s.gpa, s.gpa + 20);
	EXPECT_FILL(t, s.gpa, 12, 0);
	EXPECT_PATTERN(t, s.gpa + 12, 8, 1);
}

/*
 * The RX used ring is not backed: the frame is written but cannot be
 * published, so it is rx_add_used_failures, not rx_packets. No poison.
 */
TEST_F(rx_errors, used_ring_unmapped)
{
	struct vqt *t = &self->t;
	u64 rx;
	u16 th;

	ASSERT_EQ(0, vnl_engine_set_features(&t->eng,
					  (1ULL << VIRTIO_F_VERSION_1)));
	ASSERT_EQ(0, vqt_config_at(t, VQT_RX, 8, VQT_RING_DESC(VQT_RX),
				   VQT_RING_AVAIL(VQT_RX), VQT_GPA_ABOVE));
	ASSERT_EQ(0, vqt_config(t, VQT_TX, 8));
	vnl_engine_start(&t->eng);
	vqt_rx_buf(t, 256, &rx);
	th = vqt_tx_frame(t, FRAME_LEN, 1, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = FRAME_LEN,
		     D(RX_ADD_USED_FAILURES) = 1);
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_FALSE(vqt_needs_reset(t));
	/* The bytes were written before the publish failed. */
	EXPECT_TRUE(vqt_rx_hdr_ok(t, rx));
	EXPECT_PATTERN(t, rx + 12, FRAME_LEN, 1);
}

TEST_HARNESS_MAIN
