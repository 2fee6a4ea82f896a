// SPDX-License-Identifier: GPL-2.0
/*
 * Volume: 100,000 frames of varying length through one device, in batches
 * with RX buffers recycled, every byte checked, and the counters exact to
 * the frame at the end. Also the drain budget: a run cut into many drains
 * still delivers everything, and the requeues are counted.
 */
#include "tests.h"

#define RX	VNETLOOP_QUEUE_RX
#define TX	VNETLOOP_QUEUE_TX
#define QNUM	256
#define FRAMES	100000u
#define MAXLEN	4000u	/* batches of 256 cross the 512 KiB budget */

/* Frame n's length: 60 .. MAXLEN - 1, spread. */
static uint32_t frame_len(uint32_t n)
{
	return 60 + (n * 7919u) % (MAXLEN - 60);
}

FIXTURE(stress) {
	struct vg g;
	uint8_t *tx[QNUM];
	uint8_t *rx[QNUM];
};

FIXTURE_VARIANT(stress) {
	uint64_t features;
	unsigned int batch;
};

FIXTURE_VARIANT_ADD(stress, event_idx) {
	.features = VG_FEATURES_EVENT_IDX, .batch = QNUM,
};

FIXTURE_VARIANT_ADD(stress, no_event_idx) {
	.features = VG_FEATURES_BASE, .batch = 100,
};

FIXTURE_SETUP(stress)
{
	unsigned int i;

	vnl_up(_metadata, &self->g, variant->features, QNUM, QNUM);
	for (i = 0; i < QNUM; i++) {
		self->tx[i] = vg_alloc(&self->g, VNL_NET_HDR_LEN + MAXLEN);
		self->rx[i] = vg_alloc(&self->g, VNL_NET_HDR_LEN + MAXLEN);
		ASSERT_NE(NULL, self->tx[i]);
		ASSERT_NE(NULL, self->rx[i]);
	}
}

FIXTURE_TEARDOWN(stress)
{
	vg_close(&self->g);
}

TEST_F_TIMEOUT(stress, frames_100k, 280)
{
	static const uint8_t hdr_want[VNL_NET_HDR_LEN] = { [10] = 1 };
	vnl_cnt_t before, after, want = { 0 };
	uint64_t bytes = 0, irqs = 0;
	struct vg *g = &self->g;
	uint32_t sent = 0, bad = 0;
	struct vg_used_elem e;
	uint8_t ref[MAXLEN];
	unsigned int i, n;
	int64_t r;
	int waited;

	vnl_read(_metadata, g, before);
	while (sent < FRAMES) {
		n = FRAMES - sent < variant->batch ? FRAMES - sent :
						      variant->batch;
		/* Ask for an interrupt at the first completion, then post. */
		vg_arm(g);
		for (i = 0; i < n; i++) {
			uint32_t len = frame_len(sent + i);

			memset(self->tx[i], 0x5a, VNL_NET_HDR_LEN);
			vg_fill(self->tx[i] + VNL_NET_HDR_LEN, len, sent + i);
			vg_post(g, RX, i, self->rx[i], VNL_NET_HDR_LEN + MAXLEN,
				VRING_DESC_F_WRITE);
			vg_post(g, TX, i, self->tx[i],
				VNL_NET_HDR_LEN + len, 0);
		}
		ASSERT_EQ(0, vg_kick(g));

		/* Several drains may serve one batch; wait for all of it. */
		for (waited = 0; vg_used_pending(g, TX) < n ||
				 vg_used_pending(g, RX) < n; waited += 20) {
			ASSERT_GT(VNL_TIMEOUT_MS, waited)
				TH_LOG("batch at frame %u: %u/%u TX, %u/%u RX done",
				       sent, vg_used_pending(g, TX), n,
				       vg_used_pending(g, RX), n);
			r = vg_wait_irq(g, 20);
			ASSERT_LE(0, r);
			irqs += r;
		}
		for (i = 0; i < n; i++) {
			uint32_t len = frame_len(sent + i);

			ASSERT_EQ(1, vg_used_pop(g, TX, &e));
			if (e.id != i || e.len)
				bad++;
			ASSERT_EQ(1, vg_used_pop(g, RX, &e));
			if (e.id != i || e.len != VNL_NET_HDR_LEN + len) {
				bad++;
				continue;
			}
			vg_fill(ref, len, sent + i);
			if (memcmp(self->rx[i], hdr_want, VNL_NET_HDR_LEN) ||
			    memcmp(self->rx[i] + VNL_NET_HDR_LEN, ref, len))
				bad++;
			bytes += len;
		}
		ASSERT_EQ(0, bad) TH_LOG("batch at frame %u: %u bad entries",
					 sent, bad);
		sent += n;
	}
	TH_LOG("%u frames, %" PRIu64 " bytes, %" PRIu64 " interrupts", sent,
	       bytes, irqs);
	EXPECT_LT(0, irqs);

	want[VNETLOOP_C_TX_PACKETS] = FRAMES;
	want[VNETLOOP_C_TX_BYTES] = bytes;
	want[VNETLOOP_C_RX_PACKETS] = FRAMES;
	want[VNETLOOP_C_RX_BYTES] = bytes;
	vnl_expect_deltas(_metadata, g, before, want, after);
	/* One kick per batch; the call eventfd saw every interrupt raised. */
	EXPECT_EQ((FRAMES + variant->batch - 1) / variant->batch,
		  after[VNETLOOP_C_KICKS] - before[VNETLOOP_C_KICKS]);
	irqs += vg_irq_count(g);
	vg_sleep_ms(50);
	irqs += vg_irq_count(g);
	vnl_read(_metadata, g, after);
	EXPECT_EQ(irqs, after[VNETLOOP_C_INTERRUPTS] -
			before[VNETLOOP_C_INTERRUPTS]);
}

/*
 * Budget of 4 packets per drain (set over netlink, CAP_NET_ADMIN): 64 frames
 * behind one kick take exactly 16 drains and 15 requeues.
 */
TEST_F(stress, budget)
{
	vnl_cnt_t before, after, want = { 0 };
	struct vg *g = &self->g;
	uint16_t i;
	int ret;

	ret = vnl_nl_set_budget(g->dev_id, 4, 0);
	if (ret == -EPERM)
		SKIP(return, "changing the budget needs CAP_NET_ADMIN");
	ASSERT_EQ(0, ret) TH_LOG("SET_BUDGET: %s", strerror(-ret));
	vnl_read(_metadata, g, before);
	for (i = 0; i < 64; i++) {
		vg_post(g, RX, i, self->rx[i], VNL_NET_HDR_LEN + MAXLEN,
			VRING_DESC_F_WRITE);
		vg_post(g, TX, i, self->tx[i], VNL_NET_HDR_LEN + 100, 0);
	}
	ASSERT_EQ(0, vg_kick(g));
	ASSERT_EQ(0, vg_wait_used(g, RX, 64, VNL_TIMEOUT_MS));
	want[VNETLOOP_C_TX_PACKETS] = 64;
	want[VNETLOOP_C_TX_BYTES] = 64 * 100;
	want[VNETLOOP_C_RX_PACKETS] = 64;
	want[VNETLOOP_C_RX_BYTES] = 64 * 100;
	vnl_expect_deltas(_metadata, g, before, want, after);
	/* worker_runs is counted after the drain's commit: let it land. */
	vg_sleep_ms(vg_settle_ms());
	vnl_read(_metadata, g, after);
	EXPECT_EQ(1, after[VNETLOOP_C_KICKS] - before[VNETLOOP_C_KICKS]);
	EXPECT_EQ(16, after[VNETLOOP_C_WORKER_RUNS] -
		      before[VNETLOOP_C_WORKER_RUNS]);
	EXPECT_EQ(15, after[VNETLOOP_C_BUDGET_REQUEUES] -
		      before[VNETLOOP_C_BUDGET_REQUEUES]);
	EXPECT_LT(0, vg_irq_count(g));
}

/*
 * Long chains: every TX and RX entry is the same chain of QNUM descriptors,
 * so one kick offers QNUM chains of 2 * QNUM descriptors in all. A drain
 * walks at most VNL_DRAIN_DESCS_MAX (4096) descriptors plus the chains that
 * cross it, whatever the budget: with the largest budget as with the
 * default, the QNUM frames take at least QNUM * 2 * QNUM / (4096 + 2 *
 * QNUM) drains, not one. Run for both budgets.
 */
#define DRAIN_DESCS_MAX	4096u

static void long_chains(struct __test_metadata *_metadata, uint32_t packets,
			uint32_t bytes)
{
	uint32_t txlen[QNUM], rxlen[QNUM], min_drains, drains;
	vnl_cnt_t before, after, want = { 0 };
	uint8_t *txbuf, *rxbuf;
	struct vg g;
	unsigned int i;
	int ret;

	vnl_up(_metadata, &g, VG_FEATURES_EVENT_IDX, QNUM, QNUM);
	ret = vnl_nl_set_budget(g.dev_id, packets, bytes);
	if (ret == -EPERM)
		SKIP(goto out, "changing the budget needs CAP_NET_ADMIN");
	ASSERT_EQ(0, ret) TH_LOG("SET_BUDGET: %s", strerror(-ret));
	/* TX: the header, then QNUM - 1 one-byte pieces; RX: two bytes each. */
	txbuf = vg_alloc(&g, VNL_NET_HDR_LEN + QNUM);
	rxbuf = vg_alloc(&g, 2 * QNUM);
	ASSERT_NE(NULL, txbuf);
	ASSERT_NE(NULL, rxbuf);
	for (i = 0; i < QNUM; i++) {
		txlen[i] = i ? 1 : VNL_NET_HDR_LEN;
		rxlen[i] = 2;
	}
	vg_post_split(&g, TX, 0, txbuf, txlen, QNUM, 0);
	vg_post_split(&g, RX, 0, rxbuf, rxlen, QNUM, VRING_DESC_F_WRITE);
	/* The same head in every other slot too: QNUM offers each. */
	for (i = 1; i < QNUM; i++) {
		vg_avail_push(&g, TX, 0);
		vg_avail_push(&g, RX, 0);
	}

	vnl_read(_metadata, &g, before);
	ASSERT_EQ(0, vg_kick(&g));
	ASSERT_EQ(0, vg_wait_used(&g, TX, QNUM, VNL_TIMEOUT_MS * 3));
	want[VNETLOOP_C_TX_PACKETS] = QNUM;
	want[VNETLOOP_C_TX_BYTES] = QNUM * (QNUM - 1);
	want[VNETLOOP_C_RX_PACKETS] = QNUM;
	want[VNETLOOP_C_RX_BYTES] = QNUM * (QNUM - 1);
	vnl_expect_deltas(_metadata, &g, before, want, after);
	vg_sleep_ms(vg_settle_ms());
	vnl_read(_metadata, &g, after);
	drains = after[VNETLOOP_C_WORKER_RUNS] - before[VNETLOOP_C_WORKER_RUNS];
	min_drains = QNUM * 2 * QNUM / (DRAIN_DESCS_MAX + 2 * QNUM);
	TH_LOG("budget %u packets, %u bytes: %u drains, %" PRIu64 " requeues",
	       packets, bytes, drains,
	       after[VNETLOOP_C_BUDGET_REQUEUES] -
	       before[VNETLOOP_C_BUDGET_REQUEUES]);
	EXPECT_LE(min_drains, drains);
	EXPECT_LE(min_drains - 1, after[VNETLOOP_C_BUDGET_REQUEUES] -
				  before[VNETLOOP_C_BUDGET_REQUEUES]);
out:
	vg_close(&g);
}

TEST(long_chains_default_budget)
{
	long_chains(_metadata, 256, 512 * 1024);
}

TEST(long_chains_largest_budget)
{
	long_chains(_metadata, 65536, 16 << 20);
}

VNL_TEST_MAIN
