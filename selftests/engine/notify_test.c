// SPDX-License-Identifier: GPL-2.0
/*
 * When the engine runs and when it asks for an interrupt:
 * nothing before DRIVER_OK, feature and ring validation, EVENT_IDX
 * (used_event, avail_event) and VRING_AVAIL_F_NO_INTERRUPT.
 */
#include "engine_test.h"

VQ_FIXTURE(notify)

#define VRING	VIRTIO_MMIO_INT_VRING

/* One frame of len bytes through a fresh RX buffer: the delta and entries. */
#define EXPECT_ONE_FRAME(t, len, seed, bits) do {			\
	u16 uidx_ = vqt_used_idx(t, VQT_TX);				\
	u16 ridx_ = vqt_used_idx(t, VQT_RX);				\
	u64 rx_;							\
	u16 rh_ = vqt_rx_buf(t, 128, &rx_);				\
	u16 th_ = vqt_tx_frame(t, len, seed, NULL);			\
									\
	EXPECT_FRAME(t, bits, th_, uidx_, rh_, ridx_, rx_, len, seed);	\
} while (0)

/* Configured but DRIVER_OK not seen: no memory access, nothing counted. */
TEST_F(notify, nothing_before_start)
{
	struct vqt *t = &self->t;
	u64 rx;
	u16 th, rh;

	ASSERT_EQ(0, vnl_engine_set_features(&t->eng, VNETLOOP_FEATURES));
	ASSERT_EQ(0, vqt_config(t, VQT_RX, 8));
	ASSERT_EQ(0, vqt_config(t, VQT_TX, 8));
	rh = vqt_rx_buf(t, 128, &rx);
	th = vqt_tx_frame(t, 50, 1, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, 0);
	EXPECT_DRAIN(t, 0);
	EXPECT_DELTA(t);
	EXPECT_EQ(0ul, t->commits);
	EXPECT_EQ(0ul, t->reads);
	EXPECT_EQ(0ul, t->writes);
	EXPECT_EQ(0, vqt_used_idx(t, VQT_TX));
	EXPECT_EQ(0, vqt_used_idx(t, VQT_RX));
	EXPECT_FILL(t, rx, 128, VQT_RX_FILL);

	/* Chains already in the ring run on the first drain after it. */
	vnl_engine_start(&t->eng);
	EXPECT_DRAIN(t, VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 50,
		     D(RX_PACKETS) = 1, D(RX_BYTES) = 50);
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_USED(t, VQT_RX, 0, rh, 62);
	EXPECT_PATTERN(t, rx + 12, 50, 1);
}

/* Started with no TX queue configured: nothing to drain. */
TEST_F(notify, no_tx_queue)
{
	struct vqt *t = &self->t;

	ASSERT_EQ(0, vqt_setup(t, 8, 0, false));
	vqt_mark(t);
	EXPECT_DRAIN(t, 0);
	EXPECT_DELTA(t);
	EXPECT_EQ(0ul, t->reads);
	EXPECT_EQ(0ul, t->writes);
}

/* An empty TX ring: no counter, no used entry, no interrupt. */
TEST_F(notify, empty_drain)
{
	struct vqt *t = &self->t;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	vqt_rx_buf(t, 128, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, 0);
	EXPECT_DELTA(t);
	EXPECT_EQ(0, vqt_used_idx(t, VQT_TX));
	EXPECT_EQ(0, vqt_used_idx(t, VQT_RX));
}

/* Only offered bits are accepted. */
TEST_F(notify, features_validated)
{
	struct vqt *t = &self->t;

	EXPECT_EQ(-EINVAL, vnl_engine_set_features(&t->eng,
			VNETLOOP_FEATURES | (1ULL << 0)));
	EXPECT_EQ(-EINVAL, vnl_engine_set_features(&t->eng,
			1ULL << VIRTIO_RING_F_INDIRECT_DESC));
	EXPECT_EQ(-EINVAL, vnl_engine_set_features(&t->eng, 1ULL << 63));
	EXPECT_EQ(-EINVAL, vnl_engine_set_features(&t->eng,
			(1ULL << VIRTIO_F_VERSION_1) | (1ULL << 15)));
	EXPECT_EQ(0, vnl_engine_set_features(&t->eng, VNETLOOP_FEATURES));
	EXPECT_EQ(VNETLOOP_FEATURES, vnl_engine_features(&t->eng));
	EXPECT_EQ(0, vnl_engine_set_features(&t->eng,
			(1ULL << VIRTIO_F_VERSION_1) |
			(1ULL << VIRTIO_NET_F_MAC)));
	EXPECT_EQ(0ULL, vnl_engine_features(&t->eng) &
			(1ULL << VIRTIO_RING_F_EVENT_IDX));
}

/* Queue index, power-of-two size in 1..256, addresses that do not wrap. */
TEST_F(notify, vring_validated)
{
	struct vqt *t = &self->t;
	u64 d = VQT_RING_DESC(VQT_TX), a = VQT_RING_AVAIL(VQT_TX);
	u64 u = VQT_RING_USED(VQT_TX);

	EXPECT_EQ(-EINVAL, vnl_engine_set_vring(&t->eng, 2, 8, d, a, u));
	EXPECT_EQ(-EINVAL, vnl_engine_set_vring(&t->eng, VQT_TX, 0, d, a, u));
	EXPECT_EQ(-EINVAL, vnl_engine_set_vring(&t->eng, VQT_TX, 3, d, a, u));
	EXPECT_EQ(-EINVAL, vnl_engine_set_vring(&t->eng, VQT_TX, 512, d, a, u));
	EXPECT_EQ(-EINVAL, vnl_engine_set_vring(&t->eng, VQT_TX, 8,
					     ~0ULL - 16, a, u));
	EXPECT_EQ(-EINVAL, vnl_engine_set_vring(&t->eng, VQT_TX, 8, d,
					     ~0ULL - 8, u));
	EXPECT_EQ(-EINVAL, vnl_engine_set_vring(&t->eng, VQT_TX, 8, d, a,
					     ~0ULL - 8));
	EXPECT_FALSE(vnl_engine_queue_ready(&t->eng, VQT_TX));
	EXPECT_EQ(0, vnl_engine_set_vring(&t->eng, VQT_TX, 1, d, a, u));
	EXPECT_EQ(0, vnl_engine_set_vring(&t->eng, VQT_TX, 256, d, a, u));
	EXPECT_TRUE(vnl_engine_queue_ready(&t->eng, VQT_TX));
}

/* EVENT_IDX: the first decision after start fires whatever used_event says. */
TEST_F(notify, event_idx_first_fires)
{
	struct vqt *t = &self->t;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, true));
	vqt_set_used_event(t, VQT_TX, 0x8000);
	vqt_set_used_event(t, VQT_RX, 0x8000);
	EXPECT_ONE_FRAME(t, 20, 1, VRING);
	/* The second one honours it. */
	EXPECT_ONE_FRAME(t, 20, 2, 0);
}

/*
 * EVENT_IDX: an interrupt only when a used ring crosses its used_event
 * (vring_need_event over the entries added since the last decision).
 */
TEST_F(notify, event_idx_used_event)
{
	struct vqt *t = &self->t;
	u16 i;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, true));
	EXPECT_ONE_FRAME(t, 10, 1, VRING);	/* used idx 1 / 1 */
	/* used_event 0 was crossed long ago. */
	EXPECT_ONE_FRAME(t, 10, 2, 0);		/* 2 / 2 */
	/* RX asks for entry 2 (idx moves past 2). */
	vqt_set_used_event(t, VQT_RX, 2);
	EXPECT_ONE_FRAME(t, 10, 3, VRING);	/* 3 / 3 */
	/* TX asks for entry 3, RX for an old one. */
	vqt_set_used_event(t, VQT_TX, 3);
	vqt_set_used_event(t, VQT_RX, 0);
	EXPECT_ONE_FRAME(t, 10, 4, VRING);	/* 4 / 4 */
	/* Both stale now. */
	EXPECT_ONE_FRAME(t, 10, 5, 0);		/* 5 / 5 */
	/* Ahead of the next entry: not yet. */
	vqt_set_used_event(t, VQT_RX, 6);
	vqt_set_used_event(t, VQT_TX, 6);
	EXPECT_ONE_FRAME(t, 10, 6, 0);		/* 6 / 6 */
	/* Entry 6 is inside a batch of three: one interrupt. */
	for (i = 0; i < 3; i++) {
		vqt_rx_buf(t, 64, NULL);
		vqt_tx_frame(t, 4, 10 + i, NULL);
	}
	vqt_mark(t);
	EXPECT_DRAIN(t, VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 3, D(TX_BYTES) = 12,
		     D(RX_PACKETS) = 3, D(RX_BYTES) = 12);
	EXPECT_EQ(9, vqt_used_idx(t, VQT_TX));
	EXPECT_EQ(9, vqt_used_idx(t, VQT_RX));
}

/* EVENT_IDX: progress on TX alone (no RX buffer) uses TX's used_event. */
TEST_F(notify, event_idx_tx_only)
{
	struct vqt *t = &self->t;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, true));
	vqt_tx_frame(t, 10, 1, NULL);
	EXPECT_DRAIN(t, VRING);
	vqt_set_used_event(t, VQT_RX, 1);	/* RX does not move */
	vqt_tx_frame(t, 10, 2, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, 0);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 10,
		     D(TX_DROPPED_NO_RX_BUFFER) = 1);
	vqt_set_used_event(t, VQT_TX, 2);
	vqt_tx_frame(t, 10, 3, NULL);
	EXPECT_DRAIN(t, VRING);
	EXPECT_EQ(3, vqt_used_idx(t, VQT_TX));
	EXPECT_EQ(0, vqt_used_idx(t, VQT_RX));
}

/* With EVENT_IDX negotiated the NO_INTERRUPT flag is not consulted. */
TEST_F(notify, event_idx_ignores_no_interrupt)
{
	struct vqt *t = &self->t;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, true));
	vqt_avail_set_flags(t, VQT_TX, VRING_AVAIL_F_NO_INTERRUPT);
	vqt_avail_set_flags(t, VQT_RX, VRING_AVAIL_F_NO_INTERRUPT);
	EXPECT_ONE_FRAME(t, 10, 1, VRING);
	vqt_set_used_event(t, VQT_RX, 1);
	EXPECT_ONE_FRAME(t, 10, 2, VRING);
	vqt_avail_set_flags(t, VQT_TX, 0);
	vqt_avail_set_flags(t, VQT_RX, 0);
	EXPECT_ONE_FRAME(t, 10, 3, 0);
}

/* EVENT_IDX: after draining, avail_event = the next TX entry wanted. */
TEST_F(notify, event_idx_avail_event)
{
	struct vqt *t = &self->t;
	u16 i;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, true));
	vqt_set_avail_event(t, VQT_TX, 0xbeef);
	vqt_set_avail_event(t, VQT_RX, 0xbeef);
	for (i = 0; i < 3; i++)
		vqt_tx_frame(t, 10, i, NULL);
	vqt_drain(t);
	EXPECT_EQ(3, vqt_avail_event(t, VQT_TX));
	/* RX: the device never wants RX kicks. */
	EXPECT_EQ(0xbeef, vqt_avail_event(t, VQT_RX));
	for (i = 0; i < 6; i++)
		vqt_tx_frame(t, 10, i, NULL);
	vqt_drain(t);
	EXPECT_EQ(9, vqt_avail_event(t, VQT_TX));
	EXPECT_EQ(9, vqt_used_idx(t, VQT_TX));
}

static unsigned int race_left;

/* The guest posts one more frame right after the device writes avail_event. */
static void race_hook(struct vqt *t, u64 gpa, u32 len)
{
	(void)len;
	/* avail_event: the last two bytes of the used ring. */
	if (!race_left || gpa != vqt_used_range(t, VQT_TX).end - 2)
		return;
	race_left--;
	vqt_rx_buf(t, 128, NULL);
	vqt_tx_frame(t, 40, 50 + race_left, NULL);
}

/*
 * EVENT_IDX: a chain made available just as the device publishes
 * avail_event (the guest saw the old value and does not kick) must be
 * picked up by the same drain, not left waiting for a kick.
 */
TEST_F(notify, event_idx_rearm_race)
{
	struct vqt *t = &self->t;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, true));
	vqt_rx_buf(t, 128, NULL);
	vqt_tx_frame(t, 40, 1, NULL);
	race_left = 2;
	t->write_hook = race_hook;
	vqt_mark(t);
	EXPECT_DRAIN(t, VRING);
	EXPECT_EQ(0u, race_left);
	EXPECT_DELTA(t, D(TX_PACKETS) = 3, D(TX_BYTES) = 120,
		     D(RX_PACKETS) = 3, D(RX_BYTES) = 120);
	EXPECT_EQ(3, vqt_used_idx(t, VQT_TX));
	EXPECT_EQ(3, vqt_used_idx(t, VQT_RX));
	EXPECT_EQ(3, vqt_avail_event(t, VQT_TX));
}

/* Without EVENT_IDX: avail_event is never written, used_event ignored. */
TEST_F(notify, no_event_idx)
{
	struct vqt *t = &self->t;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	vqt_set_avail_event(t, VQT_TX, 0xbeef);
	vqt_set_used_event(t, VQT_TX, 0x8000);
	vqt_set_used_event(t, VQT_RX, 0x8000);
	EXPECT_ONE_FRAME(t, 10, 1, VRING);
	EXPECT_ONE_FRAME(t, 10, 2, VRING);
	EXPECT_ONE_FRAME(t, 10, 3, VRING);
	EXPECT_EQ(0xbeef, vqt_avail_event(t, VQT_TX));
}

/* Without EVENT_IDX: an interrupt unless every ring that moved says no. */
TEST_F(notify, no_interrupt_flag)
{
	struct vqt *t = &self->t;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	EXPECT_ONE_FRAME(t, 10, 1, VRING);
	vqt_avail_set_flags(t, VQT_TX, VRING_AVAIL_F_NO_INTERRUPT);
	vqt_avail_set_flags(t, VQT_RX, VRING_AVAIL_F_NO_INTERRUPT);
	EXPECT_ONE_FRAME(t, 10, 2, 0);
	EXPECT_ONE_FRAME(t, 10, 3, 0);
	vqt_avail_set_flags(t, VQT_RX, 0);
	EXPECT_ONE_FRAME(t, 10, 4, VRING);
	vqt_avail_set_flags(t, VQT_RX, VRING_AVAIL_F_NO_INTERRUPT);
	vqt_avail_set_flags(t, VQT_TX, 0);
	EXPECT_ONE_FRAME(t, 10, 5, VRING);
}

/* Without EVENT_IDX: the flag is honoured from the very first drain. */
TEST_F(notify, no_interrupt_from_start)
{
	struct vqt *t = &self->t;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	vqt_avail_set_flags(t, VQT_TX, VRING_AVAIL_F_NO_INTERRUPT);
	vqt_avail_set_flags(t, VQT_RX, VRING_AVAIL_F_NO_INTERRUPT);
	EXPECT_ONE_FRAME(t, 10, 1, 0);
}

/* Only TX moved (RX empty): RX's flag is irrelevant. */
TEST_F(notify, no_interrupt_tx_only)
{
	struct vqt *t = &self->t;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	vqt_avail_set_flags(t, VQT_RX, 0);
	vqt_avail_set_flags(t, VQT_TX, VRING_AVAIL_F_NO_INTERRUPT);
	vqt_tx_frame(t, 10, 1, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, 0);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 10,
		     D(TX_DROPPED_NO_RX_BUFFER) = 1);
	vqt_avail_set_flags(t, VQT_RX, VRING_AVAIL_F_NO_INTERRUPT);
	vqt_avail_set_flags(t, VQT_TX, 0);
	vqt_tx_frame(t, 10, 2, NULL);
	EXPECT_DRAIN(t, VRING);
	EXPECT_EQ(2, vqt_used_idx(t, VQT_TX));
}

/* After a reset the first EVENT_IDX decision fires again. */
TEST_F(notify, event_idx_after_reset)
{
	struct vqt *t = &self->t;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, true));
	EXPECT_ONE_FRAME(t, 10, 1, VRING);
	vnl_engine_reset(&t->eng);
	memset(vqt_ptr(t, VQT_GPA_BASE), 0, 0x6000);
	vqt_alloc_reset(t);
	ASSERT_EQ(0, vqt_setup(t, 8, 8, true));
	vqt_set_used_event(t, VQT_TX, 0x8000);
	vqt_set_used_event(t, VQT_RX, 0x8000);
	EXPECT_ONE_FRAME(t, 10, 2, VRING);
	EXPECT_ONE_FRAME(t, 10, 3, 0);
}

TEST_HARNESS_MAIN
