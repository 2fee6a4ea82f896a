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
 * All thirteen counters moved by exactly the listed amounts since
 * vqt_mark(); an unlisted counter must not have moved.
 */
#define EXPECT_DELTA(t, ...) do {					\
	const u64 want_[VNETLOOP_NUM_SPEC_COUNTERS] = { __VA_ARGS__ };	\
	unsigned int i_;						\
									\
	for (i_ = 0; i_ < VNETLOOP_NUM_SPEC_COUNTERS; i_++) {		\
		EXPECT_EQ(want_[i_], vqt_delta((t), i_))		\
			TH_LOG("counter %s", vqt_counter_name(i_));	\
	}								\
} while (0)

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

#endif /* ENGINE_TEST_H */
