// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupts: InterruptStatus and its acknowledgement, and
 * notification suppression with and without VIRTIO_RING_F_EVENT_IDX.
 *
 * The call eventfd adds up every signal, so "no interrupt" is proven by the
 * next interrupt reading exactly 1.
 */
#include "tests.h"

#define RX	VNETLOOP_QUEUE_RX
#define TX	VNETLOOP_QUEUE_TX

FIXTURE(irq) {
	struct vg g;
	uint8_t *tx;
	uint8_t *rx;
	uint16_t next;		/* next TX/RX head */
};

VNL_FEATURE_VARIANTS(irq);

FIXTURE_SETUP(irq)
{
	vnl_up(_metadata, &self->g, variant->features, 64, 64);
	self->tx = vg_alloc(&self->g, VNL_NET_HDR_LEN + 256);
	self->rx = vg_alloc(&self->g, 64 * 512);
	ASSERT_NE(NULL, self->tx);
	ASSERT_NE(NULL, self->rx);
	vg_fill(self->tx, VNL_NET_HDR_LEN + 256, 1);
}

FIXTURE_TEARDOWN(irq)
{
	vg_close(&self->g);
}

/* Offer n RX buffers and n 256-byte frames, without a kick. */
static void post_frames(FIXTURE_DATA(irq) *self, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint16_t h = self->next++ & 63;

		vg_post(&self->g, RX, h, self->rx + h * 512, 512,
			VRING_DESC_F_WRITE);
		vg_post(&self->g, TX, h, self->tx, VNL_NET_HDR_LEN + 256, 0);
	}
}

/* Offer one RX buffer and one 256-byte frame, and kick. */
static int send_frame(FIXTURE_DATA(irq) *self)
{
	post_frames(self, 1);
	return vg_kick(&self->g);
}

/*
 * Wait until n frames are fully done: their used entries on both queues,
 * and the counters (c is moved on). Then consume the entries.
 */
static void frames_done(struct __test_metadata *_metadata, struct vg *g,
			uint64_t *c, uint16_t n)
{
	vnl_cnt_t want = { 0 }, after;
	uint16_t i;

	ASSERT_EQ(0, vg_wait_used(g, TX, n, VNL_TIMEOUT_MS));
	ASSERT_EQ(0, vg_wait_used(g, RX, n, VNL_TIMEOUT_MS));
	want[VNETLOOP_C_TX_PACKETS] = n;
	want[VNETLOOP_C_TX_BYTES] = n * 256;
	want[VNETLOOP_C_RX_PACKETS] = n;
	want[VNETLOOP_C_RX_BYTES] = n * 256;
	vnl_expect_deltas(_metadata, g, c, want, after);
	memcpy(c, after, sizeof(after));
	for (i = 0; i < n; i++) {
		vg_used_pop(g, TX, &(struct vg_used_elem){ 0 });
		vg_used_pop(g, RX, &(struct vg_used_elem){ 0 });
	}
}

/* One frame that must bring exactly one interrupt, through to its counters. */
static void frame_irq(struct __test_metadata *_metadata,
		      FIXTURE_DATA(irq) *self, uint64_t *c)
{
	ASSERT_EQ(0, send_frame(self));
	vnl_expect_irq(_metadata, &self->g);
	frames_done(_metadata, &self->g, c, 1);
}

TEST_F(irq, isr_vring_and_ack)
{
	struct vnetloop_irq_state st;
	vnl_cnt_t c;

	ASSERT_EQ(0, vg_get_irq(&self->g, &st));
	EXPECT_EQ(0, st.isr);
	EXPECT_EQ(0, st.status);
	EXPECT_EQ(1, st.running);

	vnl_read(_metadata, &self->g, c);
	ASSERT_EQ(0, send_frame(self));
	vnl_expect_irq(_metadata, &self->g);
	/* VRING is set before the eventfd is signalled. */
	ASSERT_EQ(0, vg_get_irq(&self->g, &st));
	EXPECT_EQ(VIRTIO_MMIO_INT_VRING, st.isr);
	EXPECT_EQ(0, st.status);
	frames_done(_metadata, &self->g, c, 1);

	/* Acking nothing changes nothing; acking VRING clears it. */
	ASSERT_EQ(0, vg_ack_irq(&self->g, 0));
	ASSERT_EQ(0, vg_get_irq(&self->g, &st));
	EXPECT_EQ(VIRTIO_MMIO_INT_VRING, st.isr);
	ASSERT_EQ(0, vg_ack_irq(&self->g, VIRTIO_MMIO_INT_VRING));
	ASSERT_EQ(0, vg_get_irq(&self->g, &st));
	EXPECT_EQ(0, st.isr);
	/* Unknown bits are refused and clear nothing. */
	EXPECT_EQ(-EINVAL, vg_ack_irq(&self->g, 0x4));
}

/* VRING and CONFIG together; acking one leaves the other. */
TEST_F(irq, ack_only_acked_bits)
{
	struct vnetloop_irq_state st;
	vnl_cnt_t c, want = { 0 }, after;

	vnl_read(_metadata, &self->g, c);
	frame_irq(_metadata, self, c);

	/* Poison TX: avail->idx jumps more than the queue size ahead. */
	vg_avail_set_idx(&self->g, TX, self->g.q[TX].avail_idx + 65);
	ASSERT_EQ(0, vg_kick(&self->g));
	vnl_expect_irq(_metadata, &self->g);
	want[VNETLOOP_C_INVALID_AVAIL_IDX_COUNT] = 1;
	vnl_expect_deltas(_metadata, &self->g, c, want, after);

	ASSERT_EQ(0, vg_get_irq(&self->g, &st));
	EXPECT_EQ(VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG, st.isr);
	EXPECT_EQ(VIRTIO_CONFIG_S_NEEDS_RESET, st.status);

	ASSERT_EQ(0, vg_ack_irq(&self->g, VIRTIO_MMIO_INT_CONFIG));
	ASSERT_EQ(0, vg_get_irq(&self->g, &st));
	EXPECT_EQ(VIRTIO_MMIO_INT_VRING, st.isr);
	/* NEEDS_RESET is Status, not InterruptStatus: only reset clears it. */
	EXPECT_EQ(VIRTIO_CONFIG_S_NEEDS_RESET, st.status);

	ASSERT_EQ(0, vg_ack_irq(&self->g, VIRTIO_MMIO_INT_VRING));
	ASSERT_EQ(0, vg_get_irq(&self->g, &st));
	EXPECT_EQ(0, st.isr);
	EXPECT_EQ(VIRTIO_CONFIG_S_NEEDS_RESET, st.status);
	EXPECT_EQ(1, st.running);
}

/*
 * Suppression: with EVENT_IDX a used_event far ahead; without it
 * VRING_AVAIL_F_NO_INTERRUPT. Frames still complete, silently.
 */
TEST_F(irq, suppressed)
{
	struct vnetloop_irq_state st;
	vnl_cnt_t c;
	unsigned int q;

	vnl_read(_metadata, &self->g, c);
	/* The first frame interrupts (with EVENT_IDX: always, once). */
	frame_irq(_metadata, self, c);
	ASSERT_EQ(0, vg_ack_irq(&self->g, VIRTIO_MMIO_INT_VRING));

	for (q = 0; q < VNETLOOP_NUM_QUEUES; q++) {
		if (variant->features & (1ULL << VIRTIO_RING_F_EVENT_IDX))
			vg_set_used_event(&self->g, q,
					  self->g.q[q].last_used + 0x4000);
		else
			vg_avail_set_flags(&self->g, q,
					   VRING_AVAIL_F_NO_INTERRUPT);
	}
	ASSERT_EQ(0, send_frame(self));
	frames_done(_metadata, &self->g, c, 1);
	ASSERT_EQ(0, send_frame(self));
	frames_done(_metadata, &self->g, c, 1);
	vg_sleep_ms(vg_settle_ms());
	EXPECT_EQ(0, vg_irq_count(&self->g));
	/* No interrupt, so no VRING either. */
	ASSERT_EQ(0, vg_get_irq(&self->g, &st));
	EXPECT_EQ(0, st.isr);

	/* Asking again brings exactly one interrupt for the next frame. */
	for (q = 0; q < VNETLOOP_NUM_QUEUES; q++)
		vg_avail_set_flags(&self->g, q, 0);
	vg_arm(&self->g);
	frame_irq(_metadata, self, c);
	ASSERT_EQ(0, vg_get_irq(&self->g, &st));
	EXPECT_EQ(VIRTIO_MMIO_INT_VRING, st.isr);
}

/* Suppressing one queue does not hide the other queue's completions. */
TEST_F(irq, one_queue_suppressed)
{
	vnl_cnt_t c;

	vnl_read(_metadata, &self->g, c);
	frame_irq(_metadata, self, c);

	if (variant->features & (1ULL << VIRTIO_RING_F_EVENT_IDX)) {
		vg_arm(&self->g);
		vg_set_used_event(&self->g, TX,
				  self->g.q[TX].last_used + 0x4000);
	} else {
		vg_avail_set_flags(&self->g, TX, VRING_AVAIL_F_NO_INTERRUPT);
	}
	frame_irq(_metadata, self, c);
}

/*
 * With EVENT_IDX: the interrupt fires when the used index passes
 * used_event, not before; NO_INTERRUPT is then ignored (virtio 2.7.10).
 * Without it, used_event means nothing.
 */
TEST_F(irq, used_event)
{
	vnl_cnt_t c;

	vnl_read(_metadata, &self->g, c);
	frame_irq(_metadata, self, c);

	if (!(variant->features & (1ULL << VIRTIO_RING_F_EVENT_IDX))) {
		vg_set_used_event(&self->g, RX,
				  self->g.q[RX].last_used + 0x4000);
		vg_set_used_event(&self->g, TX,
				  self->g.q[TX].last_used + 0x4000);
		frame_irq(_metadata, self, c);
		return;
	}

	/* Four frames, one kick; interrupt wanted after the 4th entry. */
	vg_set_used_event(&self->g, RX, self->g.q[RX].last_used + 3);
	vg_set_used_event(&self->g, TX, self->g.q[TX].last_used + 3);
	/* Ignored with EVENT_IDX. */
	vg_avail_set_flags(&self->g, RX, VRING_AVAIL_F_NO_INTERRUPT);
	vg_avail_set_flags(&self->g, TX, VRING_AVAIL_F_NO_INTERRUPT);
	post_frames(self, 4);
	ASSERT_EQ(0, vg_kick(&self->g));
	vnl_expect_irq(_metadata, &self->g);
	frames_done(_metadata, &self->g, c, 4);

	/* used_event asks for the 5th entry from here: 4 frames are silent. */
	vg_set_used_event(&self->g, RX, self->g.q[RX].last_used + 4);
	vg_set_used_event(&self->g, TX, self->g.q[TX].last_used + 4);
	post_frames(self, 4);
	ASSERT_EQ(0, vg_kick(&self->g));
	frames_done(_metadata, &self->g, c, 4);
	/* The 5th entry crosses used_event: exactly one interrupt in all. */
	frame_irq(_metadata, self, c);
}

VNL_TEST_MAIN
