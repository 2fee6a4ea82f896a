// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile avail rings and used-ring faults: a
 * poisoned queue stays poisoned until reset, an RX poison still lets TX
 * complete, a failed used write never poisons. Counters live in the test's
 * ops, so "kept across reset" means no delta is lost or replayed.
 */
#include "engine_test.h"

VQ_FIXTURE(poison)

#define POISONED_RX	(VQT_DRAIN_POISONED_RX | VIRTIO_MMIO_INT_CONFIG)

/*
 * One drain poisons RX on the 10-byte frame th, the first TX chain: TX
 * still completes it, as tx_dropped_rx_poisoned; nothing is received.
 */
#define EXPECT_RX_POISONED(t, th) do {					\
	vqt_mark(t);							\
	EXPECT_DRAIN(t, POISONED_RX | VIRTIO_MMIO_INT_VRING);		\
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 10,		\
		     D(TX_DROPPED_RX_POISONED) = 1,			\
		     D(INVALID_AVAIL_IDX_COUNT) = 1);			\
	EXPECT_EQ(1, vqt_used_idx(t, VQT_TX));				\
	EXPECT_USED(t, VQT_TX, 0, th, 0);				\
	EXPECT_EQ(0, vqt_used_idx(t, VQT_RX));				\
	EXPECT_TRUE(vqt_needs_reset(t));				\
} while (0)

/*
 * Queues of 4, one 256-byte RX buffer at *rx and one 10-byte frame posted,
 * then the guest sets the TX avail idx to idx, which poisons TX.
 */
static void poison_tx(struct __test_metadata *_metadata, struct vqt *t,
		      u16 idx, u64 *rx)
{
	ASSERT_EQ(0, vqt_setup(t, 4, 4, false));
	vqt_rx_buf(t, 256, rx);
	vqt_tx_frame(t, 10, 1, NULL);
	vqt_avail_set_idx(t, VQT_TX, idx);
	EXPECT_TX_POISONED(t);
}

/*
 * Queues of 4 (with one 256-byte RX buffer at *rx, if rx), then the guest
 * sets the RX avail idx to idx and one 10-byte frame poisons RX.
 */
static void poison_rx(struct __test_metadata *_metadata, struct vqt *t,
		      u16 idx, u64 *rx)
{
	u16 th;

	ASSERT_EQ(0, vqt_setup(t, 4, 4, false));
	if (rx)
		vqt_rx_buf(t, 256, rx);
	vqt_avail_set_idx(t, VQT_RX, idx);
	th = vqt_tx_frame(t, 10, 1, NULL);
	EXPECT_RX_POISONED(t, th);
}

/*
 * After vnl_engine_reset(): the driver clears its rings and sets the device
 * up again, and a frame goes through as on a new device.
 */
static void expect_fresh_start(struct __test_metadata *_metadata,
			       struct vqt *t)
{
	u16 th, rh;
	u64 rx;

	memset(vqt_ptr(t, VQT_GPA_BASE), 0, 0x6000);
	vqt_alloc_reset(t);
	ASSERT_EQ(0, vqt_setup(t, 4, 4, false));
	rh = vqt_rx_buf(t, 256, &rx);
	th = vqt_tx_frame(t, 20, 2, NULL);
	EXPECT_FRAME(t, VIRTIO_MMIO_INT_VRING, th, 0, rh, 0, rx, 20, 2);
}

/* The guest claims num + 1 new TX entries. */
TEST_F(poison, tx_idx_too_far_ahead)
{
	struct vqt *t = &self->t;
	u64 rx;

	poison_tx(_metadata, t, 5, &rx);
	EXPECT_NONE_USED(t, rx, 256);
}

/* Exactly num entries ahead is a full ring, not a violation. */
TEST_F(poison, tx_full_ring_is_legal)
{
	struct vqt *t = &self->t;
	u16 i;

	ASSERT_EQ(0, vqt_setup(t, 4, 4, false));
	for (i = 0; i < 4; i++) {
		vqt_rx_buf(t, 64, NULL);
		vqt_tx_frame(t, 8, i, NULL);
	}
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 4, D(TX_BYTES) = 32,
		     D(RX_PACKETS) = 4, D(RX_BYTES) = 32);
	EXPECT_FALSE(vqt_needs_reset(t));
	EXPECT_EQ(4, vqt_used_idx(t, VQT_TX));
	EXPECT_EQ(4, vqt_used_idx(t, VQT_RX));
	for (i = 0; i < 4; i++) {
		EXPECT_USED(t, VQT_TX, i, i, 0);
		EXPECT_USED(t, VQT_RX, i, i, 20);
	}
}

/* "Ahead" is measured from the device position, modulo 2^16. */
TEST_F(poison, tx_idx_behind_device)
{
	struct vqt *t = &self->t;

	ASSERT_EQ(0, vqt_setup(t, 4, 4, false));
	vqt_rx_buf(t, 64, NULL);
	vqt_rx_buf(t, 64, NULL);
	vqt_tx_frame(t, 8, 1, NULL);
	vqt_tx_frame(t, 8, 2, NULL);
	vqt_drain(t);
	/* Device at 2; idx 1 is 65535 entries ahead. */
	vqt_avail_set_idx(t, VQT_TX, 1);
	EXPECT_TX_POISONED(t);
	EXPECT_EQ(2, vqt_used_idx(t, VQT_TX));
}

/* After progress, idx = position + num + 1 poisons; + num does not. */
TEST_F(poison, tx_limit_after_progress)
{
	struct vqt *t = &self->t;
	u16 i;

	ASSERT_EQ(0, vqt_setup(t, 4, 4, false));
	for (i = 0; i < 3; i++)
		vqt_tx_frame(t, 8, i, NULL);
	vqt_drain(t);
	vqt_avail_set_idx(t, VQT_TX, 3 + 5);
	EXPECT_TX_POISONED(t);
	EXPECT_EQ(3, vqt_used_idx(t, VQT_TX));
}

/* The TX avail ring itself is not backed by guest RAM. */
TEST_F(poison, tx_avail_unmapped)
{
	const struct vqt_moved m = { .avail[VQT_TX] = VQT_GPA_ABOVE };
	struct vqt *t = &self->t;
	u64 rx;

	ASSERT_EQ(0, vqt_setup_moved(t, &m));
	vqt_rx_buf(t, 256, &rx);
	EXPECT_TX_POISONED(t);
	EXPECT_NONE_USED(t, rx, 256);
}

/*
 * A poisoned TX queue does nothing more, even once the guest repairs the
 * index: no counter, no used entry, no interrupt, no memory access.
 */
TEST_F(poison, tx_poison_persists)
{
	struct vqt *t = &self->t;
	unsigned int k;
	u64 rx;

	poison_tx(_metadata, t, 9, &rx);
	vqt_avail_set_idx(t, VQT_TX, 1);
	for (k = 0; k < 3; k++) {
		unsigned long r = t->reads, w = t->writes;

		vqt_mark(t);
		EXPECT_DRAIN(t, 0);
		EXPECT_DELTA(t);
		EXPECT_EQ(r, t->reads);
		EXPECT_EQ(w, t->writes);
		EXPECT_TRUE(vqt_needs_reset(t));
	}
	EXPECT_NONE_USED(t, rx, 256);
}

/*
 * Only a reset clears poisoning. The device then starts over at ring
 * position 0 with fresh rings; the cumulative counters carry on.
 */
TEST_F(poison, reset_clears_tx_poison)
{
	struct vqt *t = &self->t;

	ASSERT_EQ(0, vqt_setup(t, 4, 4, false));
	vqt_rx_buf(t, 256, NULL);
	vqt_tx_frame(t, 10, 1, NULL);
	vqt_drain(t);
	vqt_avail_set_idx(t, VQT_TX, 100);
	EXPECT_TX_POISONED(t);
	ASSERT_TRUE(vqt_needs_reset(t));
	EXPECT_EQ(1ull, t->c[VNETLOOP_C_TX_PACKETS]);
	EXPECT_EQ(1ull, t->c[VNETLOOP_C_INVALID_AVAIL_IDX_COUNT]);

	vqt_mark(t);
	vnl_engine_reset(&t->eng);
	EXPECT_FALSE(vqt_needs_reset(t));
	EXPECT_DELTA(t);
	/* Reset: nothing runs until the driver sets the device up again. */
	EXPECT_DRAIN(t, 0);
	EXPECT_DELTA(t);

	expect_fresh_start(_metadata, t);
	EXPECT_EQ(2ull, t->c[VNETLOOP_C_TX_PACKETS]);
	EXPECT_EQ(1ull, t->c[VNETLOOP_C_INVALID_AVAIL_IDX_COUNT]);
	EXPECT_FALSE(vqt_needs_reset(t));
}

/* A new violation after reset is a new transition: counted again. */
TEST_F(poison, poison_again_after_reset)
{
	struct vqt *t = &self->t;

	ASSERT_EQ(0, vqt_setup(t, 4, 4, false));
	vqt_avail_set_idx(t, VQT_TX, 5);
	EXPECT_TX_POISONED(t);
	vnl_engine_reset(&t->eng);
	memset(vqt_ptr(t, VQT_GPA_BASE), 0, 0x6000);
	ASSERT_EQ(0, vqt_setup(t, 4, 4, false));
	vqt_avail_set_idx(t, VQT_TX, 6);
	EXPECT_TX_POISONED(t);
	EXPECT_EQ(2ull, t->c[VNETLOOP_C_INVALID_AVAIL_IDX_COUNT]);
}

/*
 * RX avail idx more than num ahead: RX poisoned on the first frame that
 * needs it; that frame still completes on TX as tx_dropped_rx_poisoned.
 */
TEST_F(poison, rx_idx_too_far_ahead)
{
	struct vqt *t = &self->t;
	u64 rx;

	poison_rx(_metadata, t, 5, &rx);
	EXPECT_FILL(t, rx, 256, VQT_RX_FILL);
}

/* The RX avail ring is not backed by guest RAM. */
TEST_F(poison, rx_avail_unmapped)
{
	const struct vqt_moved m = { .avail[VQT_RX] = VQT_GPA_BELOW };
	struct vqt *t = &self->t;
	u16 th;

	ASSERT_EQ(0, vqt_setup_moved(t, &m));
	th = vqt_tx_frame(t, 10, 1, NULL);
	EXPECT_RX_POISONED(t, th);
}

/*
 * Once RX is poisoned, TX goes on: each frame completes and counts as
 * tx_dropped_rx_poisoned; no second poison transition, no CONFIG.
 */
TEST_F(poison, rx_poison_tx_goes_on)
{
	struct vqt *t = &self->t;
	u16 th1, th2;
	u64 rx;

	poison_rx(_metadata, t, 0x8000, &rx);
	/* Repairing the RX index changes nothing either. */
	vqt_avail_set_idx(t, VQT_RX, 1);
	th1 = vqt_tx_frame(t, 11, 2, NULL);
	th2 = vqt_tx_frame(t, 12, 3, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 2, D(TX_BYTES) = 23,
		     D(TX_DROPPED_RX_POISONED) = 2);
	EXPECT_EQ(3, vqt_used_idx(t, VQT_TX));
	EXPECT_USED(t, VQT_TX, 1, th1, 0);
	EXPECT_USED(t, VQT_TX, 2, th2, 0);
	EXPECT_EQ(0, vqt_used_idx(t, VQT_RX));
	EXPECT_FILL(t, rx, 256, VQT_RX_FILL);
	EXPECT_TRUE(vqt_needs_reset(t));
}

/* Malformed TX chains keep their own counter on a poisoned RX queue. */
TEST_F(poison, rx_poison_invalid_tx)
{
	struct vqt *t = &self->t;
	u16 th;

	poison_rx(_metadata, t, 9, NULL);
	th = vqt_tx_split(t, (const u32[]){ 4 }, 1, 1, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
	EXPECT_DELTA(t, D(TX_CHAIN_INVALID) = 1);
	EXPECT_USED(t, VQT_TX, 1, th, 0);
}

TEST_F(poison, reset_clears_rx_poison)
{
	struct vqt *t = &self->t;

	poison_rx(_metadata, t, 9, NULL);
	vnl_engine_reset(&t->eng);
	EXPECT_FALSE(vqt_needs_reset(t));
	expect_fresh_start(_metadata, t);
}

/*
 * TX used ring not backed: every chain is still consumed and delivered,
 * but counts as tx_add_used_failures instead of tx_packets. No poison.
 */
TEST_F(poison, tx_used_unmapped)
{
	const struct vqt_moved m = { .used[VQT_TX] = VQT_GPA_ABOVE };
	struct vqt *t = &self->t;
	unsigned int k;
	u64 rx[2];
	u16 rh[2];

	ASSERT_EQ(0, vqt_setup_moved(t, &m));
	for (k = 0; k < 2; k++) {
		rh[k] = vqt_rx_buf(t, 256, &rx[k]);
		vqt_tx_frame(t, 10 + k, k, NULL);
		vqt_mark(t);
		EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);
		EXPECT_DELTA(t, D(RX_PACKETS) = 1, D(RX_BYTES) = 10 + k,
			     D(TX_ADD_USED_FAILURES) = 1);
		EXPECT_EQ((int)k + 1, vqt_used_idx(t, VQT_RX));
		EXPECT_USED(t, VQT_RX, k, rh[k], 22 + k);
		EXPECT_PATTERN(t, rx[k] + 12, 10 + k, k);
		EXPECT_FALSE(vqt_needs_reset(t));
	}
}

/* Both used rings unbacked: nothing is published, so no interrupt. */
TEST_F(poison, both_used_unmapped)
{
	const struct vqt_moved m = {
		.used[VQT_RX] = VQT_GPA_BELOW, .used[VQT_TX] = VQT_GPA_ABOVE,
	};
	struct vqt *t = &self->t;
	u64 rx;

	ASSERT_EQ(0, vqt_setup_moved(t, &m));
	vqt_rx_buf(t, 256, &rx);
	vqt_tx_frame(t, 10, 1, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, 0);
	EXPECT_DELTA(t, D(TX_ADD_USED_FAILURES) = 1,
		     D(RX_ADD_USED_FAILURES) = 1);
	EXPECT_FALSE(vqt_needs_reset(t));
	/* The chain was consumed: the next drain has nothing to do. */
	vqt_mark(t);
	EXPECT_DRAIN(t, 0);
	EXPECT_DELTA(t);
}

TEST_HARNESS_MAIN
