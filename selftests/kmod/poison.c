// SPDX-License-Identifier: GPL-2.0
/*
 * Poisoning: an avail->idx more than the queue size ahead, or an avail
 * ring outside the IOTLB, poisons the queue: counted once, NEEDS_RESET in
 * the status and one configuration interrupt (the config eventfd). A
 * poisoned TX queue does nothing more; a poisoned RX queue lets TX complete
 * as tx_dropped_rx_poisoned. Status 0 clears it and keeps the counters.
 */
#include "tests.h"

#define RX	VNETLOOP_QUEUE_RX
#define TX	VNETLOOP_QUEUE_TX
#define QNUM	64
#define FRAME	300

FIXTURE(poison) {
	struct vg g;
	uint8_t *tx;
	uint8_t *rx;
	uint16_t next;
	vnl_cnt_t c;		/* counters before the poisoning */
};

FIXTURE_VARIANT(poison) {
	unsigned int q;
	bool unmapped_avail;	/* else: avail->idx jumps */
};

FIXTURE_VARIANT_ADD(poison, tx_idx_jump) { .q = TX };
FIXTURE_VARIANT_ADD(poison, rx_idx_jump) { .q = RX };
FIXTURE_VARIANT_ADD(poison, tx_avail_unmapped) {
	.q = TX, .unmapped_avail = true,
};
FIXTURE_VARIANT_ADD(poison, rx_avail_unmapped) {
	.q = RX, .unmapped_avail = true,
};

/* Queue q's avail ring moved past the end of guest RAM. */
static int set_vring_unmapped_avail(struct vg *g, unsigned int q)
{
	return vg_set_vring_addr(g, q, vg_gpa(g->q[q].desc),
				 vg_gpa(g->mem) + g->mem_size + 4096,
				 vg_gpa(g->q[q].used));
}

FIXTURE_SETUP(poison)
{
	struct vg *g = &self->g;

	ASSERT_EQ(0, vg_open(g));
	ASSERT_EQ(0, vg_negotiate(g, VG_FEATURES_EVENT_IDX));
	ASSERT_EQ(0, vg_set_vring(g, RX, QNUM));
	ASSERT_EQ(0, vg_set_vring(g, TX, QNUM));
	if (variant->unmapped_avail) {
		ASSERT_EQ(0, set_vring_unmapped_avail(g, variant->q));
	}
	ASSERT_EQ(0, vg_set_mem(g));
	vg_arm(g);
	/* An unmapped TX avail ring is found by the drain this queues. */
	vnl_read(_metadata, g, self->c);
	ASSERT_EQ(0, vg_start(g));
	self->tx = vg_alloc(g, VNL_NET_HDR_LEN + FRAME);
	self->rx = vg_alloc(g, QNUM * 512);
	ASSERT_NE(NULL, self->tx);
	ASSERT_NE(NULL, self->rx);
	vg_fill(self->tx, VNL_NET_HDR_LEN + FRAME, 3);
}

FIXTURE_TEARDOWN(poison)
{
	vg_close(&self->g);
}

static uint16_t post_frame(FIXTURE_DATA(poison) *self, bool with_rx)
{
	uint16_t h = self->next++ & (QNUM - 1);

	if (with_rx)
		vg_post(&self->g, RX, h, self->rx + h * 512, 512,
			VRING_DESC_F_WRITE);
	vg_post(&self->g, TX, h, self->tx, VNL_NET_HDR_LEN + FRAME, 0);
	return h;
}

/*
 * Bring the fixture's queue into the poisoned state and check the
 * transition: one configuration interrupt, NEEDS_RESET, the counter, and
 * for RX the frames that found the queue poisoned (with their TX
 * interrupt). An unmapped TX avail ring was poisoned by DRIVER_OK already.
 */
static void poison_it(struct __test_metadata *_metadata,
		      FIXTURE_DATA(poison) *self,
		      const FIXTURE_VARIANT(poison) *variant)
{
	vnl_cnt_t want = { 0 }, after;
	struct vg *g = &self->g;
	uint16_t h1, h2;

	want[VNETLOOP_C_INVALID_AVAIL_IDX_COUNT] = 1;
	if (variant->unmapped_avail && variant->q == TX) {
		vnl_expect_config_irq(_metadata, g);
		vnl_expect_deltas(_metadata, g, self->c, want, after);
		goto poisoned;
	}
	if (!variant->unmapped_avail) {
		/* A healthy queue first. */
		vnl_read(_metadata, g, self->c);
		post_frame(self, true);
		ASSERT_EQ(0, vg_kick(g));
		vnl_expect_irq(_metadata, g);
		vnl_expect_used(_metadata, g, TX, 0, 0);
		vnl_expect_used(_metadata, g, RX, 0, VNL_NET_HDR_LEN + FRAME);
		vg_avail_set_idx(g, variant->q,
				 g->q[variant->q].avail_idx + QNUM + 1);
	}
	vg_arm(g);
	vnl_read(_metadata, g, self->c);

	if (variant->q == TX) {
		ASSERT_EQ(0, vg_kick(g));
		vnl_expect_config_irq(_metadata, g);
		vnl_expect_deltas(_metadata, g, self->c, want, after);
		/* No used entry: no used-buffer interrupt. */
		EXPECT_EQ(0, vg_irq_count(g));
	} else {
		/* Both frames complete on TX, neither reaches RX. */
		h1 = post_frame(self, false);
		h2 = post_frame(self, false);
		ASSERT_EQ(0, vg_kick(g));
		vnl_expect_config_irq(_metadata, g);
		vnl_expect_irq(_metadata, g);
		vnl_expect_used(_metadata, g, TX, h1, 0);
		vnl_expect_used(_metadata, g, TX, h2, 0);
		want[VNETLOOP_C_TX_PACKETS] = 2;
		want[VNETLOOP_C_TX_BYTES] = 2 * FRAME;
		want[VNETLOOP_C_TX_DROPPED_RX_POISONED] = 2;
		vnl_expect_deltas(_metadata, g, self->c, want, after);
	}
poisoned:
	vnl_expect_status(_metadata, g,
			  VG_S_RUNNING | VIRTIO_CONFIG_S_NEEDS_RESET);
	memcpy(self->c, after, sizeof(after));
}

TEST_F(poison, poisoned)
{
	vnl_cnt_t want = { 0 }, after;
	struct vg *g = &self->g;
	uint16_t h;

	poison_it(_metadata, self, variant);

	if (variant->q == TX) {
		/* A valid frame behind a sane index: nothing moves anymore. */
		if (!variant->unmapped_avail)
			vg_avail_set_idx(g, TX, 1);
		post_frame(self, true);
		ASSERT_EQ(0, vg_kick(g));
		ASSERT_EQ(0, vg_kick(g));
		vnl_expect_still(_metadata, g, self->c);
		EXPECT_EQ(0, vg_used_pending(g, TX));
		EXPECT_EQ(0, vg_used_pending(g, RX));
		EXPECT_EQ(0, vg_irq_count(g));
		EXPECT_EQ(0, vg_config_count(g));
		return;
	}

	/* RX stays poisoned: the next frame is dropped the same way. */
	vg_arm(g);
	h = post_frame(self, false);
	ASSERT_EQ(0, vg_kick(g));
	vnl_expect_irq(_metadata, g);
	vnl_expect_used(_metadata, g, TX, h, 0);
	want[VNETLOOP_C_TX_PACKETS] = 1;
	want[VNETLOOP_C_TX_BYTES] = FRAME;
	want[VNETLOOP_C_TX_DROPPED_RX_POISONED] = 1;
	vnl_expect_deltas(_metadata, g, self->c, want, after);
	EXPECT_EQ(0, vg_used_pending(g, RX));
	/* Poisoned already: no second configuration interrupt. */
	EXPECT_EQ(0, vg_config_count(g));
}

TEST_F(poison, reset_recovers)
{
	vnl_cnt_t want = { 0 }, after;
	struct vg *g = &self->g;
	uint8_t *rx;

	poison_it(_metadata, self, variant);
	ASSERT_NE(0, self->c[VNETLOOP_C_INVALID_AVAIL_IDX_COUNT]);

	ASSERT_EQ(0, vg_reset(g));
	vnl_expect_status(_metadata, g, 0);
	/* Counters survive the reset; a kick before DRIVER_OK does nothing. */
	ASSERT_EQ(0, vg_kick(g));
	vnl_expect_still(_metadata, g, self->c);
	EXPECT_EQ(0, vg_irq_count(g));
	EXPECT_EQ(0, vg_config_count(g));

	/* Reconfigure (sane rings; the IOTLB stayed) and loop a frame. */
	ASSERT_EQ(0, vg_setup(g, VG_FEATURES_EVENT_IDX, QNUM, QNUM));
	rx = self->rx + 5 * 512;
	memset(rx, 0xee, 512);
	vg_post(g, RX, 5, rx, 512, VRING_DESC_F_WRITE);
	vg_post(g, TX, 7, self->tx, VNL_NET_HDR_LEN + FRAME, 0);
	ASSERT_EQ(0, vg_kick(g));
	vnl_expect_irq(_metadata, g);
	vnl_expect_used(_metadata, g, TX, 7, 0);
	vnl_expect_used(_metadata, g, RX, 5, VNL_NET_HDR_LEN + FRAME);
	EXPECT_EQ(0, memcmp(self->tx + VNL_NET_HDR_LEN, rx + VNL_NET_HDR_LEN,
			    FRAME));
	want[VNETLOOP_C_TX_PACKETS] = 1;
	want[VNETLOOP_C_TX_BYTES] = FRAME;
	want[VNETLOOP_C_RX_PACKETS] = 1;
	want[VNETLOOP_C_RX_BYTES] = FRAME;
	vnl_expect_deltas(_metadata, g, self->c, want, after);
	vnl_expect_status(_metadata, g, VG_S_RUNNING);
	EXPECT_EQ(0, vg_config_count(g));
}

/*
 * Status 0 in the middle of a long run: 256 frames of 4000 bytes take two
 * drains (512 KiB budget). A drain the stop interrupts leaves no trace, so
 * the counters match exactly what reached the used rings, nothing runs
 * afterwards, and each queue's position (VHOST_GET_VRING_BASE) is where its
 * used ring stopped: every chain the device took was returned.
 */
#define BIG	4000

TEST(reset_in_flight)
{
	vnl_cnt_t before, after, want = { 0 };
	uint16_t tx_used, rx_used, i;
	uint8_t *tx, *rx;
	int round;
	struct vg g;

	ASSERT_EQ(0, vg_open(&g));
	tx = vg_alloc(&g, VNL_NET_HDR_LEN + BIG);
	rx = vg_alloc(&g, VNL_NET_HDR_LEN + BIG);
	ASSERT_NE(NULL, tx);
	ASSERT_NE(NULL, rx);
	for (round = 0; round < 6; round++) {
		ASSERT_EQ(0, vg_setup(&g, VG_FEATURES_EVENT_IDX, 256, 256));
		vnl_read(_metadata, &g, before);
		/* Every chain may share one buffer: only counts matter here. */
		for (i = 0; i < 256; i++) {
			vg_post(&g, RX, i, rx, VNL_NET_HDR_LEN + BIG,
				VRING_DESC_F_WRITE);
			vg_post(&g, TX, i, tx, VNL_NET_HDR_LEN + BIG, 0);
		}
		ASSERT_EQ(0, vg_kick(&g));
		vg_sleep_ms(round * round);
		ASSERT_EQ(0, vg_set_status(&g, 0));
		tx_used = vg_used_idx(&g, TX);
		rx_used = vg_used_idx(&g, RX);
		TH_LOG("round %d: reset after %u of 256 frames", round,
		       tx_used);
		EXPECT_EQ(tx_used, vg_get_vring_base(&g, TX));
		EXPECT_EQ(rx_used, vg_get_vring_base(&g, RX));
		EXPECT_EQ(tx_used, rx_used);
		want[VNETLOOP_C_TX_PACKETS] = tx_used;
		want[VNETLOOP_C_TX_BYTES] = (uint64_t)BIG * tx_used;
		want[VNETLOOP_C_RX_PACKETS] = rx_used;
		want[VNETLOOP_C_RX_BYTES] = (uint64_t)BIG * rx_used;
		vnl_expect_deltas(_metadata, &g, before, want, after);
		vnl_expect_still(_metadata, &g, after);
		EXPECT_EQ(tx_used, vg_used_idx(&g, TX));
		vnl_expect_status(_metadata, &g, 0);
		ASSERT_EQ(0, vg_reset(&g));
	}
	vg_close(&g);
}

VNL_TEST_MAIN
