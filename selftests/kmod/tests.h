/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the vnetloop.ko selftest programs; each includes it once (the
 * kselftest harness header defines functions, so one per program).
 */
#ifndef VNL_ST_TESTS_H
#define VNL_ST_TESTS_H

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"

#include "guest.h"
#include "stats.h"

/* Generous: the rig runs under TCG emulation. */
#define VNL_TIMEOUT_MS	10000

typedef uint64_t vnl_cnt_t[VNETLOOP_NUM_COUNTERS];

/*
 * The harness has no way to skip a whole program: it exits 0 when every
 * test skipped. So check for the device first and exit 4 (KSFT_SKIP) with
 * the reason, then run the tests in declaration order.
 */
#define VNL_TEST_MAIN							\
	static void __attribute__((constructor))			\
	__constructor_order_last(void)					\
	{								\
		if (!__constructor_order)				\
			__constructor_order =				\
				_CONSTRUCTOR_ORDER_BACKWARD;		\
	}								\
	int main(int argc, char **argv)					\
	{								\
		char why[256];						\
									\
		if (vg_check_device(why, sizeof(why))) {		\
			ksft_print_header();				\
			ksft_exit_skip("%s\n", why);			\
		}							\
		return test_harness_run(argc, argv);			\
	}

/*
 * The variants of a fixture whose tests must hold with and without
 * VIRTIO_RING_F_EVENT_IDX: variant->features is the set to negotiate.
 */
#define VNL_FEATURE_VARIANTS(fixture)					\
	FIXTURE_VARIANT(fixture) {					\
		uint64_t features;					\
	};								\
	FIXTURE_VARIANT_ADD(fixture, event_idx) {			\
		.features = VG_FEATURES_EVENT_IDX,			\
	};								\
	FIXTURE_VARIANT_ADD(fixture, no_event_idx) {			\
		.features = VG_FEATURES_BASE,				\
	}

/* 1 if id is among the n ids of a netlink dump or debugfs listing. */
static inline int vnl_id_listed(const uint32_t *ids, size_t n, uint32_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

static inline void vnl_read(struct __test_metadata *_metadata, struct vg *g,
			    uint64_t *c)
{
	int ret = vnl_counters(g->dev_id, c);

	ASSERT_EQ(0, ret) TH_LOG("netlink counters of device %u: %s",
				 g->dev_id, strerror(-ret));
}

/*
 * Wait until the device's worker has run runs drains in all: DRIVER_OK
 * queues one (it finds the rings empty), which must not blur the deltas of
 * a test that reads the counters right after it.
 */
static inline void vnl_wait_runs(struct __test_metadata *_metadata,
				 struct vg *g, uint64_t runs)
{
	vnl_cnt_t c;
	int waited;

	for (waited = 0;; waited += 2) {
		vnl_read(_metadata, g, c);
		if (c[VNETLOOP_C_WORKER_RUNS] >= runs)
			break;
		ASSERT_GT(VNL_TIMEOUT_MS, waited)
			TH_LOG("no drain after DRIVER_OK");
		vg_sleep_ms(2);
	}
}

/*
 * Open a device and take it to DRIVER_OK with both queues of these sizes;
 * return once the drain DRIVER_OK queues has run.
 */
static inline void vnl_up(struct __test_metadata *_metadata, struct vg *g,
			  uint64_t features, uint16_t rx_num, uint16_t tx_num)
{
	ASSERT_EQ(0, vg_open(g)) TH_LOG("open %s: %s", VG_DEV_PATH,
					strerror(errno));
	ASSERT_EQ(0, vg_setup(g, features, rx_num, tx_num));
	vnl_wait_runs(_metadata, g, 1);
}

/*
 * Poll the counters until every contract counter moved by at least want[]
 * from before[] (the worker commits them after the rings), then check that
 * each moved by exactly want[]. *after gets the last reading.
 */
static inline void vnl_expect_deltas(struct __test_metadata *_metadata,
				     struct vg *g, const uint64_t *before,
				     const uint64_t *want, uint64_t *after)
{
	int waited = 0, i, short_of;

	for (;;) {
		vnl_read(_metadata, g, after);
		short_of = 0;
		for (i = 0; i < VNETLOOP_NUM_SPEC_COUNTERS; i++)
			if (after[i] - before[i] < want[i])
				short_of++;
		if (!short_of || waited >= VNL_TIMEOUT_MS)
			break;
		vg_sleep_ms(5);
		waited += 5;
	}
	/* Braces: EXPECT_*() expands to two statements. */
	for (i = 0; i < VNETLOOP_NUM_SPEC_COUNTERS; i++) {
		EXPECT_EQ(want[i], after[i] - before[i])
			TH_LOG("counter %s moved by %" PRIu64 ", expected %"
			       PRIu64, vnl_counter_names[i],
			       after[i] - before[i], want[i]);
	}
}

/* The same when nothing may change: wait vg_settle_ms() first. */
static inline void vnl_expect_still(struct __test_metadata *_metadata,
				    struct vg *g, const uint64_t *before)
{
	vnl_cnt_t want = { 0 }, after;

	vg_sleep_ms(vg_settle_ms());
	vnl_expect_deltas(_metadata, g, before, want, after);
}

/* Take the next used entry of queue q, which must be {id, len}. */
static inline void vnl_expect_used(struct __test_metadata *_metadata,
				   struct vg *g, unsigned int q, uint32_t id,
				   uint32_t len)
{
	struct vg_used_elem e;

	ASSERT_EQ(0, vg_wait_used(g, q, 1, VNL_TIMEOUT_MS))
		TH_LOG("no used entry on queue %u", q);
	ASSERT_EQ(1, vg_used_pop(g, q, &e));
	EXPECT_EQ(id, e.id) TH_LOG("queue %u used id", q);
	EXPECT_EQ(len, e.len) TH_LOG("queue %u used len", q);
}

/*
 * Exactly one used-buffer interrupt arrives on the call eventfd the queues
 * share (and nothing else is pending after it).
 */
static inline void vnl_expect_irq(struct __test_metadata *_metadata,
				  struct vg *g)
{
	EXPECT_EQ(1, vg_wait_irq(g, VNL_TIMEOUT_MS))
		TH_LOG("expected exactly one interrupt");
}

/* Exactly one configuration interrupt arrives (a queue was poisoned). */
static inline void vnl_expect_config_irq(struct __test_metadata *_metadata,
					 struct vg *g)
{
	EXPECT_EQ(1, vg_efd_wait(g->config, VNL_TIMEOUT_MS))
		TH_LOG("expected exactly one configuration interrupt");
}

/* VHOST_VDPA_GET_STATUS reads want. */
static inline void vnl_expect_status(struct __test_metadata *_metadata,
				     struct vg *g, uint8_t want)
{
	uint8_t s = 0xff;

	ASSERT_EQ(0, vg_get_status(g, &s));
	EXPECT_EQ(want, s) TH_LOG("status 0x%x, expected 0x%x", s, want);
}

#endif /* VNL_ST_TESTS_H */
