// SPDX-License-Identifier: GPL-2.0
/*
 * RX-side failures: the TX chain still completes and counts
 * as sent; the frame is dropped; a bad RX chain is returned with length 0 and
 * any header bytes already written are zeroed again.
 */
#include "engine_test.h"

VQ_FIXTURE(rx_errors)

#define FRAME_LEN	100

/* The deltas of a FRAME_LEN frame sent that a rejected RX chain refuses. */
static const u64 rx_invalid[VNETLOOP_NUM_SPEC_COUNTERS] = {
	D(TX_PACKETS) = 1, D(TX_BYTES) = FRAME_LEN, D(RX_CHAIN_INVALID) = 1,
};
static const u64 rx_write_failed[VNETLOOP_NUM_SPEC_COUNTERS] = {
	D(TX_PACKETS) = 1, D(TX_BYTES) = FRAME_LEN, D(RX_WRITE_FAILED) = 1,
};

/*
 * Drain one FRAME_LEN-byte TX frame (head th) whose delivery fails with
 * the deltas want; the RX chain rh comes back as {rh, 0}. Nothing but the
 * used rings and the guest range [z0, z1) (header bytes written and zeroed
 * again, checked by the test) changes in guest memory.
 */
#define EXPECT_RX_REJECTED_Z(t, th, rh, want, z0, z1) do {		\
	struct vqt_range w_[3] = { [2] = { (z0), (z1) } };		\
									\
	ASSERT_EQ(0, vqt_snapshot(t));					\
	vqt_mark(t);							\
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);				\
	w_[0] = vqt_used_range(t, VQT_TX);				\
	w_[1] = vqt_used_range(t, VQT_RX);				\
	EXPECT_EQ(0ul, vqt_changed_outside(t, w_, 3));			\
	EXPECT_DELTAS(t, want);						\
	EXPECT_EQ(1, vqt_used_idx(t, VQT_TX));				\
	EXPECT_USED(t, VQT_TX, 0, th, 0);				\
	EXPECT_EQ(1, vqt_used_idx(t, VQT_RX));				\
	EXPECT_USED(t, VQT_RX, 0, rh, 0);				\
	EXPECT_FALSE(vqt_needs_reset(t));			\
} while (0)

/*
 * Drain one FRAME_LEN-byte TX frame (head th, the first) that finds no RX
 * chain to use: it counts as sent, and as the further deltas listed.
 */
#define EXPECT_RX_DROPPED(t, th, ...) do {				\
	vqt_mark(t);							\
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);				\
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = FRAME_LEN,	\
		     __VA_ARGS__);					\
	EXPECT_USED(t, VQT_TX, 0, th, 0);				\
	EXPECT_EQ(0, vqt_used_idx(t, VQT_RX));				\
	EXPECT_FALSE(vqt_needs_reset(t));				\
} while (0)

/*
 * The frame meets a malformed RX chain at head, written descriptor by
 * descriptor over the one buffer [buf, buf + len), which stays all fill.
 */
static void expect_bad_head(struct __test_metadata *_metadata,
			    struct vqt *t, u16 head, u64 buf, u32 len)
{
	u16 th;

	vqt_avail_put(t, VQT_RX, head);
	memset(vqt_ptr(t, buf), VQT_RX_FILL, len);
	th = vqt_tx_frame(t, FRAME_LEN, 1, NULL);
	EXPECT_RX_REJECTED_Z(t, th, head, rx_invalid, 0, 0);
	EXPECT_FILL(t, buf, len, VQT_RX_FILL);
}

/* RX configured but nothing posted. */
TEST_F(rx_errors, empty_rx)
{
	struct vqt *t = &self->t;
	u16 th;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	th = vqt_tx_frame(t, FRAME_LEN, 1, NULL);
	EXPECT_RX_DROPPED(t, th, D(TX_DROPPED_NO_RX_BUFFER) = 1);
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
	EXPECT_FRAME(t, VIRTIO_MMIO_INT_VRING, th, 1, rh, 0, rx, 30, 2);
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

TEST_F(rx_errors, next_out_of_range)
{
	struct vqt *t = &self->t;
	u64 a;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	a = vqt_alloc(t, 256);
	vqt_desc_set(t, VQT_RX, 0, a, 256,
		     VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 8);
	expect_bad_head(_metadata, t, 0, a, 256);
}

TEST_F(rx_errors, indirect)
{
	struct vqt *t = &self->t;
	u64 table, buf;
	u8 *p;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	buf = vqt_alloc(t, 256);
	table = vqt_alloc(t, 16);
	p = vqt_ptr(t, table);
	memset(p, 0, 16);
	memcpy(p, &(u64){ cpu_to_le64(buf) }, 8);
	memcpy(p + 8, &(u32){ cpu_to_le32(256) }, 4);
	memcpy(p + 12, &(u16){ cpu_to_le16(VRING_DESC_F_WRITE) }, 2);
	vqt_desc_set(t, VQT_RX, 0, table, 16,
		     VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0);
	expect_bad_head(_metadata, t, 0, buf, 256);
}

/* The RX avail ring names a head past the table: it cannot be returned. */
TEST_F(rx_errors, head_out_of_range)
{
	struct vqt *t = &self->t;
	u16 th;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	vqt_avail_put(t, VQT_RX, 8);
	th = vqt_tx_frame(t, FRAME_LEN, 1, NULL);
	EXPECT_RX_DROPPED(t, th, D(RX_CHAIN_INVALID) = 1,
			  D(RX_ADD_USED_FAILURES) = 1);
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
	EXPECT_RX_REJECTED_Z(t, th, rh, rx_write_failed, s[0].gpa,
			     s[0].gpa + 12);
	EXPECT_FILL(t, s[0].gpa, 12, 0);
	EXPECT_FILL(t, rx1, 256, VQT_RX_FILL);

	th1 = vqt_tx_frame(t, 33, 2, NULL);
	EXPECT_FRAME(t, VIRTIO_MMIO_INT_VRING, th1, 1, rh1, 1, rx1, 33, 2);
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
	EXPECT_RX_REJECTED_Z(t, th, rh, rx_write_failed, s.gpa, s.gpa + 20);
	EXPECT_FILL(t, s.gpa, 12, 0);
	EXPECT_PATTERN(t, s.gpa + 12, 8, 1);
}

/*
 * The RX used ring is not backed: the frame is written but cannot be
 * published, so it is rx_add_used_failures, not rx_packets. No poison.
 */
TEST_F(rx_errors, used_ring_unmapped)
{
	const struct vqt_moved m = { .used[VQT_RX] = VQT_GPA_ABOVE };
	struct vqt *t = &self->t;
	u64 rx;
	u16 th;

	ASSERT_EQ(0, vqt_setup_moved(t, &m));
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

/*
 * Writable descriptors chained in a loop through the whole RX queue of num,
 * all over one buffer of buf bytes: descriptor i at buf + i * step, of len
 * bytes but the last of last_len. The walk ends.
 */
VQ_FIXTURE(rx_loop)

FIXTURE_VARIANT(rx_loop) {
	u16 num, head;
	u32 buf, step, len, last_len;
};

/* Zero-length descriptors. */
FIXTURE_VARIANT_ADD(rx_loop, descriptor_loop) {
	.num = 8, .head = 2,
	.buf = 64, .step = 0, .len = 0, .last_len = 64,
};

/* A loop through all 256 descriptors of the largest RX queue. */
FIXTURE_VARIANT_ADD(rx_loop, descriptor_loop_full_queue) {
	.num = 256, .head = 200,
	.buf = 256, .step = 1, .len = 1, .last_len = 1,
};

TEST_F(rx_loop, rejected)
{
	const u16 num = variant->num;
	struct vqt *t = &self->t;
	u16 i;
	u64 a;

	ASSERT_EQ(0, vqt_setup(t, num, 8, false));
	a = vqt_alloc(t, variant->buf);
	for (i = 0; i < num; i++)
		vqt_desc_set(t, VQT_RX, i, a + i * variant->step,
			     i == num - 1 ? variant->last_len : variant->len,
			     VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
			     (i + 1) % num);
	expect_bad_head(_metadata, t, variant->head, a, variant->buf);
}

/*
 * RX chains the driver's chain writer makes but the device must refuse:
 * a piece with gpa 0 is allocated and filled (vqt_rx_chain()). The first
 * zeroed bytes of the first piece are written and zeroed again; every other
 * allocated byte stays fill.
 */
VQ_FIXTURE(rx_chain)

FIXTURE_VARIANT(rx_chain) {
	struct virtq_buf s[3];
	unsigned int n;
	const u64 *delta;
	u32 zeroed;
};

/* A device-readable RX descriptor: nothing is written into it. */
FIXTURE_VARIANT_ADD(rx_chain, read_only) {
	.s = { { .len = 256 } }, .n = 1,
	.delta = rx_invalid,
};

/*
 * Header piece writable, frame piece read-only: the chain is rejected as a
 * whole before anything is written, so the header piece stays untouched.
 */
FIXTURE_VARIANT_ADD(rx_chain, read_only_frame_piece) {
	.s = { { .len = 12, .flags = VRING_DESC_F_WRITE }, { .len = 200 } },
	.n = 2,
	.delta = rx_invalid,
};

FIXTURE_VARIANT_ADD(rx_chain, shorter_than_header) {
	.s = { { .len = 11, .flags = VRING_DESC_F_WRITE } }, .n = 1,
	.delta = rx_invalid,
};

FIXTURE_VARIANT_ADD(rx_chain, split_shorter_than_header) {
	.s = { { .len = 5, .flags = VRING_DESC_F_WRITE },
	       { .len = 6, .flags = VRING_DESC_F_WRITE } }, .n = 2,
	.delta = rx_invalid,
};

FIXTURE_VARIANT_ADD(rx_chain, address_overflow) {
	.s = { { .gpa = 0xffffffffffffff00ULL, .len = 0x200,
		 .flags = VRING_DESC_F_WRITE } }, .n = 1,
	.delta = rx_invalid,
};

/* Header descriptor not backed by guest RAM: nothing written anywhere. */
FIXTURE_VARIANT_ADD(rx_chain, unmapped_header) {
	.s = { { .gpa = VQT_GPA_BELOW, .len = 12,
		 .flags = VRING_DESC_F_WRITE },
	       { .len = 200, .flags = VRING_DESC_F_WRITE } }, .n = 2,
	.delta = rx_write_failed,
};

/*
 * Header split 5 (backed) + 7 (not backed): the 5 bytes written are zeroed
 * again.
 */
FIXTURE_VARIANT_ADD(rx_chain, unmapped_header_split) {
	.s = { { .len = 5, .flags = VRING_DESC_F_WRITE },
	       { .gpa = VQT_GPA_ABOVE, .len = 7, .flags = VRING_DESC_F_WRITE },
	       { .len = 200, .flags = VRING_DESC_F_WRITE } }, .n = 3,
	.delta = rx_write_failed, .zeroed = 5,
};

TEST_F(rx_chain, rejected)
{
	const struct virtq_buf *s = variant->s;
	struct vqt *t = &self->t;
	unsigned int k;
	u64 g[3];
	u16 th, rh;
	u32 z;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	rh = vqt_rx_chain(t, s, variant->n, g);
	th = vqt_tx_frame(t, FRAME_LEN, 1, NULL);
	EXPECT_RX_REJECTED_Z(t, th, rh, variant->delta, g[0],
			     g[0] + variant->zeroed);
	for (k = 0; k < variant->n; k++) {
		if (s[k].gpa)
			continue;
		z = k ? 0 : variant->zeroed;
		EXPECT_FILL(t, g[k], z, 0);
		EXPECT_FILL(t, g[k] + z, s[k].len - z, VQT_RX_FILL);
	}
}

TEST_HARNESS_MAIN
