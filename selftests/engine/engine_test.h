/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the engine test programs: the kselftest harness, a fixture that
 * owns one struct vqt, and assertions over counters and used entries.
 * Include it from exactly one file per program (the harness defines globals).
 */
#ifndef ENGINE_TEST_H
#define ENGINE_TEST_H

/*
 * The 6.1 harness defines non-static functions, and its fixture macros
 * define setup/teardown functions without prototypes; it also leaves a
 * signal handler parameter unused. Everything else stays -Werror.
 */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "vqt.h"

/* A fixture named fx whose tests reach the guest as struct vqt *t. */
#define VQ_FIXTURE(fx)							\
	FIXTURE(fx) {							\
		struct vqt t;						\
	};								\
	FIXTURE_SETUP(fx)						\
	{								\
		ASSERT_EQ(0, vqt_open(&self->t));			\
	}								\
	FIXTURE_TEARDOWN(fx)						\
	{								\
		vqt_close(&self->t);					\
	}

/* Designated initialiser for one expected counter delta. */
#define D(id)	[VNETLOOP_C_##id]

/*
 * All sixteen contract counters moved by exactly want[id] since
 * vqt_mark(), want an array of VNETLOOP_NUM_SPEC_COUNTERS (a variant table
 * can hold one).
 */
#define EXPECT_DELTAS(t, want) do {					\
	unsigned int i_;						\
									\
	for (i_ = 0; i_ < VNETLOOP_NUM_SPEC_COUNTERS; i_++) {		\
		EXPECT_EQ((want)[i_], vqt_delta((t), i_))		\
			TH_LOG("counter %s", vqt_counter_name(i_));	\
	}								\
} while (0)

/* The same, listed: an unlisted counter must not have moved. */
#define EXPECT_DELTA(t, ...) do {					\
	const u64 want_[VNETLOOP_NUM_SPEC_COUNTERS] = { __VA_ARGS__ };	\
									\
	EXPECT_DELTAS(t, want_);					\
} while (0)

/* The deltas of one len-byte frame sent and received whole. */
#define ONE_FRAME(len)							\
	D(TX_PACKETS) = 1, D(TX_BYTES) = (len),				\
	D(RX_PACKETS) = 1, D(RX_BYTES) = (len)

/* The used entry written at free-running used index idx of queue q. */
#define EXPECT_USED(t, q, idx, id, len) do {				\
	EXPECT_EQ((u32)(id), vqt_used_id((t), (q), (idx)))		\
		TH_LOG("queue %d used[%u].id", (q), (unsigned int)(idx)); \
	EXPECT_EQ((u32)(len), vqt_used_len((t), (q), (idx)))		\
		TH_LOG("queue %d used[%u].len", (q), (unsigned int)(idx)); \
} while (0)

/* One drain returns exactly these vnl_drain() bits. */
#define EXPECT_DRAIN(t, bits)						\
	EXPECT_EQ((unsigned int)(bits), vqt_drain(t))

/* Bytes at gpa equal vqt_pattern(seed). */
#define EXPECT_PATTERN(t, gpa, len, seed)				\
	EXPECT_EQ(-1, vqt_pattern_check(vqt_ptr((t), (gpa)), (len), (seed)))

/* Bytes at gpa all equal c. */
#define EXPECT_FILL(t, gpa, len, c)					\
	EXPECT_EQ(-1, vqt_fill_check(vqt_ptr((t), (gpa)), (len), (c)))

/*
 * One drain returns bits and delivers one len-byte frame of
 * vqt_pattern(seed), and nothing else: TX chain th is used entry tx_idx and
 * RX chain rh (its buffer at rx) used entry rx_idx, each the newest entry
 * of its ring.
 */
#define EXPECT_FRAME(t, bits, th, tx_idx, rh, rx_idx, rx, len, seed) do { \
	vqt_mark(t);							\
	EXPECT_DRAIN(t, bits);						\
	EXPECT_DELTA(t, ONE_FRAME(len));				\
	EXPECT_EQ((u16)((tx_idx) + 1), vqt_used_idx(t, VQT_TX));	\
	EXPECT_USED(t, VQT_TX, tx_idx, th, 0);				\
	EXPECT_EQ((u16)((rx_idx) + 1), vqt_used_idx(t, VQT_RX));	\
	EXPECT_USED(t, VQT_RX, rx_idx, rh, VNL_NET_HDR_LEN + (len));	\
	EXPECT_TRUE(vqt_rx_hdr_ok(t, rx));				\
	EXPECT_PATTERN(t, (rx) + VNL_NET_HDR_LEN, len, seed);		\
} while (0)

/* Nothing used on either ring; the RX buffer at rx is still all fill. */
#define EXPECT_NONE_USED(t, rx, rx_len) do {				\
	EXPECT_EQ(0, vqt_used_idx(t, VQT_TX));				\
	EXPECT_EQ(0, vqt_used_idx(t, VQT_RX));				\
	EXPECT_FILL(t, rx, rx_len, VQT_RX_FILL);			\
} while (0)

/* One drain poisons TX over its avail ring: counted once, reset needed. */
#define EXPECT_TX_POISONED(t) do {					\
	vqt_mark(t);							\
	EXPECT_DRAIN(t, VQT_DRAIN_POISONED_TX | VIRTIO_MMIO_INT_CONFIG); \
	EXPECT_DELTA(t, D(INVALID_AVAIL_IDX_COUNT) = 1);		\
	EXPECT_TRUE(vqt_needs_reset(t));				\
} while (0)

/*
 * One TX chain at head that must be rejected with the deltas want: TX
 * completion {head, 0}, an interrupt, an RX buffer left posted and
 * untouched, and no guest byte written outside the TX used ring.
 */
#define EXPECT_TX_REJECTED(t, head, want, rx, rx_len) do {		\
	struct vqt_range used_;						\
									\
	ASSERT_EQ(0, vqt_snapshot(t));					\
	vqt_mark(t);							\
	EXPECT_DRAIN(t, VIRTIO_MMIO_INT_VRING);				\
	used_ = vqt_used_range(t, VQT_TX);				\
	EXPECT_EQ(0ul, vqt_changed_outside(t, &used_, 1));		\
	EXPECT_DELTAS(t, want);						\
	EXPECT_EQ(1, vqt_used_idx(t, VQT_TX));				\
	EXPECT_USED(t, VQT_TX, 0, head, 0);				\
	EXPECT_EQ(0, vqt_used_idx(t, VQT_RX));				\
	EXPECT_FILL(t, rx, rx_len, VQT_RX_FILL);			\
	EXPECT_FALSE(vqt_needs_reset(t));			\
} while (0)

#endif /* ENGINE_TEST_H */
