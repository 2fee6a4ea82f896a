// SPDX-License-Identifier: GPL-2.0
/*
 * Bounds: the per-drain work budget (packets, bytes, "more" flag), the
 * smallest and largest queues, and free-running 16-bit ring indices that
 * wrap after 65,536 frames.
 */
#include "engine_test.h"

VQ_FIXTURE(limits)

#define VRING	VIRTIO_MMIO_INT_VRING
#define MORE	VQT_DRAIN_MORE

/* n frames of len bytes, each with its own RX buffer (seeds from 0). */
static void queue_frames(struct vqt *t, unsigned int n, u32 len, u32 rx_len)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		vqt_rx_buf(t, rx_len, NULL);
		vqt_tx_frame(t, len, i, NULL);
	}
}

/*
 * Drain k moves per[k] frames of len bytes, with MORE but on the last
 * drain (per ends at n or at a 0); the used indices count all moved so far.
 */
static void expect_drains(struct __test_metadata *_metadata, struct vqt *t,
			  const unsigned int *per, unsigned int n, u32 len)
{
	unsigned int k, done = 0;
	bool last;

	for (k = 0; k < n && per[k]; k++) {
		last = k + 1 == n || !per[k + 1];
		vqt_mark(t);
		EXPECT_DRAIN(t, last ? VRING : VRING | MORE);
		EXPECT_DELTA(t, D(TX_PACKETS) = per[k],
			     D(TX_BYTES) = (u64)len * per[k],
			     D(RX_PACKETS) = per[k],
			     D(RX_BYTES) = (u64)len * per[k]);
		done += per[k];
		EXPECT_EQ((u16)done, vqt_used_idx(t, VQT_TX));
		EXPECT_EQ((u16)done, vqt_used_idx(t, VQT_RX));
	}
}

TEST_F(limits, budget_defaults)
{
	EXPECT_EQ(256u, self->t.eng.budget_packets);
	EXPECT_EQ(512u * 1024, self->t.eng.budget_bytes);
}

/* Malformed chains are work too: they count against the packet budget. */
TEST_F(limits, budget_counts_invalid_chains)
{
	struct vqt *t = &self->t;
	unsigned int i;

	ASSERT_EQ(0, vqt_setup(t, 16, 16, false));
	vnl_engine_set_budget(&t->eng, 4, VNL_BUDGET_BYTES);
	for (i = 0; i < 6; i++)
		vqt_tx_split(t, (const u32[]){ 3 }, 1, i, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VRING | MORE);
	EXPECT_DELTA(t, D(TX_CHAIN_INVALID) = 4);
	vqt_mark(t);
	EXPECT_DRAIN(t, VRING);
	EXPECT_DELTA(t, D(TX_CHAIN_INVALID) = 2);
	EXPECT_EQ(6, vqt_used_idx(t, VQT_TX));
}

/* Queue size 1: every entry lands in slot 0, indices still advance. */
TEST_F(limits, queue_size_1)
{
	struct vqt *t = &self->t;
	u16 i, th, rh;
	u64 rx;

	ASSERT_EQ(0, vqt_setup(t, 1, 1, false));
	for (i = 0; i < 5; i++) {
		vqt_alloc_reset(t);
		rh = vqt_rx_buf(t, 128, &rx);
		th = vqt_tx_frame(t, 20 + i, i, NULL);
		EXPECT_EQ(0, th);
		EXPECT_EQ(0, rh);
		EXPECT_FRAME(t, VRING, 0, i, 0, i, rx, 20 + i, i);
	}
}

/* Queue size 1: two entries pending is more than the ring can hold. */
TEST_F(limits, queue_size_1_overfull)
{
	struct vqt *t = &self->t;

	ASSERT_EQ(0, vqt_setup(t, 1, 1, false));
	vqt_tx_frame(t, 10, 1, NULL);
	vqt_avail_set_idx(t, VQT_TX, 2);
	EXPECT_TX_POISONED(t);
	EXPECT_EQ(0, vqt_used_idx(t, VQT_TX));
}

/* Queue size 256, full on both sides, drained at once (= packet budget). */
TEST_F(limits, queue_size_256)
{
	struct vqt *t = &self->t;
	u64 rx[256], total = 0;
	u16 th[256], rh[256];
	unsigned int i;

	ASSERT_EQ(0, vqt_setup(t, 256, 256, false));
	for (i = 0; i < 256; i++) {
		rh[i] = vqt_rx_buf(t, 128, &rx[i]);
		th[i] = vqt_tx_frame(t, i % 100, i, NULL);
		total += i % 100;
	}
	vqt_mark(t);
	EXPECT_DRAIN(t, VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 256, D(TX_BYTES) = total,
		     D(RX_PACKETS) = 256, D(RX_BYTES) = total);
	EXPECT_EQ(256, vqt_used_idx(t, VQT_TX));
	EXPECT_EQ(256, vqt_used_idx(t, VQT_RX));
	for (i = 0; i < 256; i++) {
		EXPECT_USED(t, VQT_TX, i, th[i], 0);
		EXPECT_USED(t, VQT_RX, i, rh[i], 12 + i % 100);
		EXPECT_TRUE(vqt_rx_hdr_ok(t, rx[i]));
		EXPECT_PATTERN(t, rx[i] + 12, i % 100, i);
	}
}

/* A 256-entry chain in a 256-entry queue is the longest legal chain. */
TEST_F(limits, queue_size_256_longest_chain)
{
	struct vqt *t = &self->t;
	u32 lens[256];
	unsigned int i;
	u64 rx;
	u16 rh, th;

	ASSERT_EQ(0, vqt_setup(t, 256, 256, false));
	for (i = 0; i < 256; i++)
		lens[i] = i < 12 ? 1 : 3;
	rh = vqt_rx_buf(t, 1024, &rx);
	th = vqt_tx_split(t, lens, 256, 77, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 244 * 3,
		     D(RX_PACKETS) = 1, D(RX_BYTES) = 244 * 3);
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_USED(t, VQT_RX, 0, rh, 12 + 244 * 3);
	EXPECT_PATTERN(t, rx + 12, 244 * 3, 77);
}

#define WRAP_FRAMES	70000u
#define WRAP_NUM	256u
#define WRAP_LEN	16u

/*
 * More than 65,536 frames through 256-entry rings: every avail/used index
 * wraps. EVENT_IDX is on and each batch asks (RX used_event) for its last
 * entry, so every drain must interrupt, also across the wrap.
 */
TEST_F_TIMEOUT(limits, index_wrap, 300)
{
	struct vqt *t = &self->t;
	u64 txb[WRAP_NUM], rxb[WRAP_NUM];
	unsigned int sent = 0, i, n, bad = 0;
	u16 slot;

	ASSERT_EQ(0, vqt_setup(t, WRAP_NUM, WRAP_NUM, true));
	for (i = 0; i < WRAP_NUM; i++) {
		txb[i] = vqt_alloc(t, 12 + WRAP_LEN);
		rxb[i] = vqt_alloc(t, 64);
		vqt_desc_set(t, VQT_TX, i, txb[i], 12 + WRAP_LEN, 0, 0);
		vqt_desc_set(t, VQT_RX, i, rxb[i], 64, VRING_DESC_F_WRITE, 0);
	}
	while (sent < WRAP_FRAMES) {
		n = WRAP_FRAMES - sent < WRAP_NUM ? WRAP_FRAMES - sent
						   : WRAP_NUM;
		for (i = 0; i < n; i++) {
			memset(vqt_ptr(t, rxb[i]), VQT_RX_FILL, 64);
			vqt_pattern(vqt_ptr(t, txb[i] + 12), WRAP_LEN,
				    sent + i);
			vqt_avail_put(t, VQT_RX, i);
			vqt_avail_put(t, VQT_TX, i);
		}
		vqt_set_used_event(t, VQT_RX, (u16)(sent + n - 1));
		vqt_mark(t);
		EXPECT_DRAIN(t, VRING);
		EXPECT_DELTA(t, D(TX_PACKETS) = n, D(TX_BYTES) = n * WRAP_LEN,
			     D(RX_PACKETS) = n, D(RX_BYTES) = n * WRAP_LEN);
		EXPECT_EQ((u16)(sent + n), vqt_used_idx(t, VQT_TX));
		EXPECT_EQ((u16)(sent + n), vqt_used_idx(t, VQT_RX));
		EXPECT_EQ((u16)(sent + n), vqt_avail_event(t, VQT_TX));
		for (i = 0; i < n; i++) {
			slot = (u16)(sent + i);
			if (vqt_used_id(t, VQT_TX, slot) != i ||
			    vqt_used_len(t, VQT_TX, slot) != 0 ||
			    vqt_used_id(t, VQT_RX, slot) != i ||
			    vqt_used_len(t, VQT_RX, slot) != 12 + WRAP_LEN ||
			    !vqt_rx_hdr_ok(t, rxb[i]) ||
			    vqt_pattern_check(vqt_ptr(t, rxb[i] + 12),
					      WRAP_LEN, sent + i) != -1)
				bad++;
		}
		if (!_metadata->passed || bad)
			break;
		sent += n;
	}
	EXPECT_EQ(0u, bad);
	EXPECT_EQ(WRAP_FRAMES, sent);
	EXPECT_EQ((unsigned long long)WRAP_FRAMES,
		  t->c[VNETLOOP_C_RX_PACKETS]);
	EXPECT_EQ((unsigned long long)WRAP_FRAMES * WRAP_LEN,
		  t->c[VNETLOOP_C_RX_BYTES]);
	EXPECT_FALSE(vqt_needs_reset(t));
}

/*
 * Descriptors bound a drain whatever the budget: the same 16-descriptor
 * TX and RX chains offered 256 times each are 8192 descriptors; with the
 * largest budget a drain stops once it has walked VNL_DRAIN_DESCS_MAX
 * (4096), at a chain boundary: 128 frames in each of two drains.
 */
TEST_F(limits, budget_descriptors)
{
	static const unsigned int per[] = { 128, 128 };
	struct vqt *t = &self->t;
	u32 tl[16], rl[16];
	unsigned int i;
	u16 th, rh;

	ASSERT_EQ(0, vqt_setup(t, 256, 256, false));
	vnl_engine_set_budget(&t->eng, 65536, 16 << 20);
	for (i = 0; i < 16; i++) {
		tl[i] = i ? 4 : 12;
		rl[i] = 8;
	}
	th = vqt_tx_split(t, tl, 16, 1, NULL);
	rh = vqt_rx_split(t, rl, 16, NULL);
	for (i = 1; i < 256; i++) {
		vqt_avail_put(t, VQT_TX, th);
		vqt_avail_put(t, VQT_RX, rh);
	}
	expect_drains(_metadata, t, per, 2, 60);
}

/* The home stops the drain after its first guest write. */
static void stop_on_write(struct vqt *t, u64 gpa, u32 len)
{
	(void)t;
	(void)gpa;
	(void)len;
	vnl_test_stop = true;
}

/*
 * A drain the home stops leaves no trace: nothing published, committed,
 * signalled or poisoned, though a frame was under way. After a reset the
 * engine works again.
 */
TEST_F(limits, stopped_drain_leaves_no_trace)
{
	struct vqt *t = &self->t;
	unsigned long commits;
	unsigned int i;
	u16 th, rh;
	u64 rx;

	ASSERT_EQ(0, vqt_setup(t, 8, 8, true));
	for (i = 0; i < 4; i++) {
		vqt_rx_buf(t, 256, NULL);
		vqt_tx_frame(t, 100, i, NULL);
	}
	/* The guest then claims far too much: poisons, if it were reached. */
	vqt_avail_set_idx(t, VQT_RX, 100);
	vqt_mark(t);
	commits = t->commits;
	t->write_hook = stop_on_write;
	EXPECT_DRAIN(t, 0);
	t->write_hook = NULL;
	vnl_test_stop = false;
	EXPECT_EQ(commits, t->commits);
	EXPECT_DELTA(t, 0);
	/* Nor the engine's own books: no run, no time. */
	EXPECT_EQ(0u, vqt_delta(t, VNETLOOP_C_WORKER_RUNS));
	EXPECT_EQ(0u, vqt_delta(t, VNETLOOP_C_DRAIN_NS));
	EXPECT_EQ(0, vqt_used_idx(t, VQT_TX));
	EXPECT_EQ(0, vqt_used_idx(t, VQT_RX));
	EXPECT_FALSE(vqt_needs_reset(t));
	/* The chains it took are the driver's again: a resume starts at 0. */
	EXPECT_EQ(0, vnl_engine_base(&t->eng, VQT_TX));
	EXPECT_EQ(0, vnl_engine_base(&t->eng, VQT_RX));

	vnl_engine_reset(&t->eng);
	vqt_alloc_reset(t);
	ASSERT_EQ(0, vqt_setup(t, 8, 8, true));
	rh = vqt_rx_buf(t, 256, &rx);
	th = vqt_tx_frame(t, 100, 9, NULL);
	EXPECT_FRAME(t, VRING, th, 0, rh, 0, rx, 100, 9);
}

/*
 * frames frames of len bytes, each with its own rx_len-byte RX buffer (seeds
 * from 0), under a budget of packets and bytes (0: the engine's defaults):
 * drain k moves per[k] of them, in order, and a last drain finds nothing.
 */
VQ_FIXTURE(budget)

FIXTURE_VARIANT(budget) {
	u32 packets, bytes;
	unsigned int frames;
	u32 len, rx_len;
	unsigned int per[4];
};

/* 10 chains, 4 per drain: 4 + 4 (MORE) then 2, in order. */
FIXTURE_VARIANT_ADD(budget, budget_packets) {
	.packets = 4, .bytes = VNL_BUDGET_BYTES,
	.frames = 10, .len = 30, .rx_len = 64,
	.per = { 4, 4, 2 },
};

/* The budget runs out exactly as the ring empties: no MORE. */
FIXTURE_VARIANT_ADD(budget, budget_packets_exact) {
	.packets = 4, .bytes = VNL_BUDGET_BYTES,
	.frames = 8, .len = 30, .rx_len = 64,
	.per = { 4, 4 },
};

/*
 * The byte budget is checked before each chain: with 1000 bytes and
 * 400-byte frames a drain moves 3 frames (1200 bytes), then stops.
 */
FIXTURE_VARIANT_ADD(budget, budget_bytes) {
	.packets = VNL_BUDGET_PACKETS, .bytes = 1000,
	.frames = 7, .len = 400, .rx_len = 512,
	.per = { 3, 3, 1 },
};

/* Default byte budget (512 KiB): 8 maximum frames per drain. */
FIXTURE_VARIANT_ADD(budget, budget_bytes_default) {
	.frames = 9, .len = VNL_MAX_FRAME_SIZE,
	.rx_len = 12 + VNL_MAX_FRAME_SIZE,
	.per = { 8, 1 },
};

TEST_F(budget, drains)
{
	struct vqt *t = &self->t;
	unsigned int i;

	ASSERT_EQ(0, vqt_setup(t, 16, 16, false));
	if (variant->packets)
		vnl_engine_set_budget(&t->eng, variant->packets,
				      variant->bytes);
	queue_frames(t, variant->frames, variant->len, variant->rx_len);
	expect_drains(_metadata, t, variant->per, 4, variant->len);
	for (i = 0; i < variant->frames; i++) {
		EXPECT_USED(t, VQT_TX, i, i, 0);
		EXPECT_USED(t, VQT_RX, i, i, 12 + variant->len);
	}
	vqt_mark(t);
	EXPECT_DRAIN(t, 0);
	EXPECT_DELTA(t);
}

TEST_HARNESS_MAIN
