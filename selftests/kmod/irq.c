// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupts: each queue's call eventfd (VHOST_SET_VRING_CALL) is
 * signalled when its driver asked to hear of new used entries, the config
 * eventfd when a queue is poisoned (with NEEDS_RESET in the status); call
 * eventfds swapped while running, and notification suppression with and
 * without VIRTIO_RING_F_EVENT_IDX.
 *
 * An eventfd adds up every signal, so "no interrupt" is proven by the next
 * interrupt reading exactly 1.
 */
#include <sys/eventfd.h>
#include <unistd.h>

#include "tests.h"

#define RX	VNETLOOP_QUEUE_RX
#define TX	VNETLOOP_QUEUE_TX

FIXTURE(irq) {
	struct vg g;
	int call[VNETLOOP_NUM_QUEUES];	/* each queue's own call eventfd */
	uint8_t *tx;
	uint8_t *rx;
	uint16_t next;		/* next TX/RX head */
};

VNL_FEATURE_VARIANTS(irq);

/* Running, with an eventfd per queue instead of the shared one. */
FIXTURE_SETUP(irq)
{
	unsigned int q;

	self->call[RX] = -1;
	self->call[TX] = -1;
	vnl_up(_metadata, &self->g, variant->features, 64, 64);
	for (q = 0; q < VNETLOOP_NUM_QUEUES; q++) {
		self->call[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ASSERT_LE(0, self->call[q]);
		ASSERT_EQ(0, vg_set_call(&self->g, q, self->call[q]));
	}
	self->tx = vg_alloc(&self->g, VNL_NET_HDR_LEN + 256);
	self->rx = vg_alloc(&self->g, 64 * 512);
	ASSERT_NE(NULL, self->tx);
	ASSERT_NE(NULL, self->rx);
	vg_fill(self->tx, VNL_NET_HDR_LEN + 256, 1);
}

FIXTURE_TEARDOWN(irq)
{
	vg_close(&self->g);
	if (self->call[RX] >= 0)
		close(self->call[RX]);
	if (self->call[TX] >= 0)
		close(self->call[TX]);
}

/*
 * Exactly rx and tx signals on the queues' eventfds, waited for; a queue
 * expecting none must have none pending, nor may the eventfds no queue
 * uses now.
 */
static void expect_calls(struct __test_metadata *_metadata,
			 FIXTURE_DATA(irq) *self, int64_t rx, int64_t tx)
{
	const int64_t want[VNETLOOP_NUM_QUEUES] = { [RX] = rx, [TX] = tx };
	int64_t got;
	unsigned int q, pass;

	/* The expected signals first: the device makes them together. */
	for (pass = 0; pass < 2; pass++)
		for (q = 0; q < VNETLOOP_NUM_QUEUES; q++) {
			if ((!want[q]) != pass)
				continue;
			got = want[q] ? vg_efd_wait(self->call[q],
						    VNL_TIMEOUT_MS) :
					vg_efd_count(self->call[q]);
			EXPECT_EQ(want[q], got)
				TH_LOG("queue %u: %" PRId64 " signals, expected %" PRId64,
				       q, got, want[q]);
		}
	EXPECT_EQ(0, vg_irq_count(&self->g))
		TH_LOG("the eventfd the queues had before was signalled");
	EXPECT_EQ(0, vg_config_count(&self->g));
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

/*
 * One frame that must bring exactly rx and tx interrupts on the queues'
 * eventfds, through to its counters.
 */
static void frame_calls(struct __test_metadata *_metadata,
			FIXTURE_DATA(irq) *self, uint64_t *c, int64_t rx,
			int64_t tx)
{
	ASSERT_EQ(0, send_frame(self));
	expect_calls(_metadata, self, rx, tx);
	frames_done(_metadata, &self->g, c, 1);
}

/* The same when both queues must interrupt once each. */
static void frame_irq(struct __test_metadata *_metadata,
		      FIXTURE_DATA(irq) *self, uint64_t *c)
{
	frame_calls(_metadata, self, c, 1, 1);
}

/*
 * A frame interrupts each queue's eventfd once; reading them clears them,
 * so the next frame brings exactly one each again. The eventfds may change
 * while the device runs: TX unbound (-1) gets nothing, and both queues on
 * one eventfd (one line, INTx) get one signal per drain.
 */
TEST_F(irq, call_per_queue)
{
	vnl_cnt_t c;

	vnl_expect_status(_metadata, &self->g, VG_S_RUNNING);
	expect_calls(_metadata, self, 0, 0);
	vnl_read(_metadata, &self->g, c);
	frame_irq(_metadata, self, c);
	vnl_expect_status(_metadata, &self->g, VG_S_RUNNING);
	vg_arm(&self->g);
	frame_irq(_metadata, self, c);

	ASSERT_EQ(0, vg_set_call(&self->g, TX, VHOST_FILE_UNBIND));
	vg_arm(&self->g);
	frame_calls(_metadata, self, c, 1, 0);
	vg_sleep_ms(vg_settle_ms());
	expect_calls(_metadata, self, 0, 0);

	ASSERT_EQ(0, vg_set_call(&self->g, RX, self->g.call));
	ASSERT_EQ(0, vg_set_call(&self->g, TX, self->g.call));
	vg_arm(&self->g);
	ASSERT_EQ(0, send_frame(self));
	vnl_expect_irq(_metadata, &self->g);
	frames_done(_metadata, &self->g, c, 1);
	expect_calls(_metadata, self, 0, 0);
}

/*
 * A poisoned queue: the config eventfd, once, and NEEDS_RESET in the
 * status, which reading the eventfd does not clear (only a reset does);
 * no used-buffer interrupt for it, and no second config one for more kicks.
 */
TEST_F(irq, vring_and_config)
{
	vnl_cnt_t c, want = { 0 }, after;

	vnl_read(_metadata, &self->g, c);
	frame_irq(_metadata, self, c);

	/* Poison TX: avail->idx jumps more than the queue size ahead. */
	vg_arm(&self->g);
	vg_avail_set_idx(&self->g, TX, self->g.q[TX].avail_idx + 65);
	ASSERT_EQ(0, vg_kick(&self->g));
	vnl_expect_config_irq(_metadata, &self->g);
	want[VNETLOOP_C_INVALID_AVAIL_IDX_COUNT] = 1;
	vnl_expect_deltas(_metadata, &self->g, c, want, after);
	vnl_expect_status(_metadata, &self->g,
			  VG_S_RUNNING | VIRTIO_CONFIG_S_NEEDS_RESET);
	expect_calls(_metadata, self, 0, 0);

	ASSERT_EQ(0, vg_kick(&self->g));
	vg_sleep_ms(vg_settle_ms());
	expect_calls(_metadata, self, 0, 0);
	vnl_expect_status(_metadata, &self->g,
			  VG_S_RUNNING | VIRTIO_CONFIG_S_NEEDS_RESET);
}

/*
 * Suppression: with EVENT_IDX a used_event far ahead; without it
 * VRING_AVAIL_F_NO_INTERRUPT. Frames still complete, silently.
 */
TEST_F(irq, suppressed)
{
	vnl_cnt_t c;
	unsigned int q;

	vnl_read(_metadata, &self->g, c);
	/* The first frame interrupts (with EVENT_IDX: always, once). */
	frame_irq(_metadata, self, c);

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
	expect_calls(_metadata, self, 0, 0);

	/* Asking again brings exactly one interrupt each for the next frame. */
	for (q = 0; q < VNETLOOP_NUM_QUEUES; q++)
		vg_avail_set_flags(&self->g, q, 0);
	vg_arm(&self->g);
	frame_irq(_metadata, self, c);
}

/*
 * Suppressing one queue silences its eventfd only: the other queue's
 * completions still interrupt.
 */
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
	frame_calls(_metadata, self, c, 1, 0);
	vg_sleep_ms(vg_settle_ms());
	expect_calls(_metadata, self, 0, 0);
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
	expect_calls(_metadata, self, 1, 1);
	frames_done(_metadata, &self->g, c, 4);

	/* used_event asks for the 5th entry from here: 4 frames are silent. */
	vg_set_used_event(&self->g, RX, self->g.q[RX].last_used + 4);
	vg_set_used_event(&self->g, TX, self->g.q[TX].last_used + 4);
	post_frames(self, 4);
	ASSERT_EQ(0, vg_kick(&self->g));
	frames_done(_metadata, &self->g, c, 4);
	/* The 5th entry crosses used_event: exactly one interrupt each. */
	frame_irq(_metadata, self, c);
}

VNL_TEST_MAIN
