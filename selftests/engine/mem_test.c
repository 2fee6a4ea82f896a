// SPDX-License-Identifier: GPL-2.0
/*
 * The memory model (core/vnl_mem.h) and what the engine builds on it: region
 * tables, the one-region rule for rings, buffers that cross from one region
 * into the next, ring alignment, one used->idx store per drain, and the
 * counters the engine keeps itself, drain_ns (its time) among them.
 */
#include <time.h>

#include "engine_test.h"

VQ_FIXTURE(mem)

#define VRING	VIRTIO_MMIO_INT_VRING
#define R(g, s, h)	{ .gpa = (g), .size = (s), .hva = (h) }

TEST_F(mem, table_rules)
{
	struct vnl_region r[VNL_MEM_MAX_REGIONS + 1];
	struct vnl_mem m = { 0 };
	u64 hva = 0, room = 0;
	unsigned int i;

	/* Empty, wrapping (either side) and overlapping tables. */
	r[0] = (struct vnl_region)R(0x1000, 0, 0x10000);
	EXPECT_EQ(-EINVAL, vnl_mem_set(&m, r, 1));
	r[0] = (struct vnl_region)R(~0ULL - 0xfff, 0x2000, 0x10000);
	EXPECT_EQ(-EINVAL, vnl_mem_set(&m, r, 1));
	r[0] = (struct vnl_region)R(0x1000, 0x2000, ~0ULL - 0xfff);
	EXPECT_EQ(-EINVAL, vnl_mem_set(&m, r, 1));
	r[0] = (struct vnl_region)R(0x1000, 0x2000, 0x10000);
	r[1] = (struct vnl_region)R(0x2fff, 0x1000, 0x40000);
	EXPECT_EQ(-EINVAL, vnl_mem_set(&m, r, 2));
	for (i = 0; i <= VNL_MEM_MAX_REGIONS; i++)
		r[i] = (struct vnl_region)R(0x10000ULL * i, 0x1000,
					    0x100000ULL + 0x10000 * i);
	EXPECT_EQ(-E2BIG, vnl_mem_set(&m, r, VNL_MEM_MAX_REGIONS + 1));
	EXPECT_EQ(0u, m.n);	/* a refused table leaves the old one */

	/* Sorted by guest address whatever the order given. */
	r[0] = (struct vnl_region)R(0x30000, 0x1000, 0x900000);
	r[1] = (struct vnl_region)R(0x10000, 0x1000, 0x700000);
	r[2] = (struct vnl_region)R(0x20000, 0x1000, 0x500000);
	ASSERT_EQ(0, vnl_mem_set(&m, r, 3));
	ASSERT_EQ(3u, m.n);
	EXPECT_EQ(0x10000ULL, m.r[0].gpa);
	EXPECT_EQ(0x20000ULL, m.r[1].gpa);
	EXPECT_EQ(0x30000ULL, m.r[2].gpa);
	ASSERT_EQ(0, vnl_mem_find(&m, 0x20010, VNL_READ, &hva, &room));
	EXPECT_EQ(0x500010ULL, hva);
	EXPECT_EQ(0xff0ULL, room);
	EXPECT_EQ(-EFAULT, vnl_mem_find(&m, 0x21000, VNL_READ, &hva, &room));
	EXPECT_EQ(-EFAULT, vnl_mem_find(&m, 0xffff, VNL_READ, &hva, &room));
}

/* Neighbours on both sides merge; neighbours in guest space only do not. */
TEST_F(mem, merge_and_span)
{
	struct vnl_region r[3] = {
		R(0x10000, 0x1000, 0x500000),
		R(0x11000, 0x1000, 0x501000),	/* host-contiguous: merged */
		R(0x12000, 0x1000, 0x800000),	/* guest-contiguous only */
	};
	struct vnl_mem m = { 0 };
	u64 hva = 0;

	ASSERT_EQ(0, vnl_mem_set(&m, r, 3));
	ASSERT_EQ(2u, m.n);
	EXPECT_EQ(0x2000ULL, m.r[0].size);
	/* One region: a ring may lie across the merged boundary. */
	EXPECT_EQ(0, vnl_mem_xlate(&m, 0x10ff0, 0x20, VNL_READ, &hva));
	EXPECT_EQ(0x500ff0ULL, hva);
	/* Two regions: no single translation, but every byte is backed. */
	EXPECT_EQ(-EFAULT, vnl_mem_xlate(&m, 0x11ff0, 0x20, VNL_READ, &hva));
	EXPECT_TRUE(vnl_mem_backed(&m, 0x11ff0, 0x20, VNL_READ));
	EXPECT_TRUE(vnl_mem_backed(&m, 0x10000, 0x3000, VNL_READ));
	EXPECT_FALSE(vnl_mem_backed(&m, 0x10000, 0x3001, VNL_READ));
	EXPECT_FALSE(vnl_mem_backed(&m, 0xfff0, 0x20, VNL_READ));
	EXPECT_EQ(-EFAULT, vnl_mem_xlate(&m, 0x10000, 0, VNL_READ, &hva));
}

/*
 * Guest memory as two regions adjacent in guest space but not in host space
 * (the upper one sits a page higher in the host buffer): a frame and an RX
 * buffer that both cross the boundary are delivered byte for byte, each
 * piece through its own region.
 */
TEST_F(mem, frame_spans_two_regions)
{
	struct vqt *t = &self->t;
	const u64 half = VQT_MEM_SIZE / 2, mid = VQT_GPA_BASE + half;
	const u64 page = 4096, tx = mid - 300, rx = mid - 700;
	struct vnl_region r[2] = {
		R(VQT_GPA_BASE, half, (u64)(uintptr_t)t->mem),
		R(mid, half - page, (u64)(uintptr_t)t->mem + half + page),
	};
	u8 frame[VNL_NET_HDR_LEN + 1000], got[VNL_NET_HDR_LEN + 1000];
	u8 hdr[VNL_NET_HDR_LEN] = { 0 };
	u8 *below = vqt_ptr(t, mid - 1) + 1;	/* host end of the lower */
	u8 *above = below + page;		/* host start of the upper */
	struct virtq_buf s;
	u16 th, rh;

	ASSERT_EQ(0, vnl_engine_set_mem(&t->eng, r, 2));
	ASSERT_EQ(2u, vnl_engine_nregions(&t->eng));
	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	memset(frame, VQT_TX_HDR_FILL, VNL_NET_HDR_LEN);
	vqt_pattern(frame + VNL_NET_HDR_LEN, 1000, 7);
	memcpy(below - 300, frame, 300);
	memcpy(above, frame + 300, sizeof(frame) - 300);
	s = (struct virtq_buf){ .gpa = tx, .len = sizeof(frame) };
	th = vqt_chain(t, VQT_TX, &s, 1);
	s = (struct virtq_buf){ .gpa = rx, .len = 2000,
				.flags = VRING_DESC_F_WRITE };
	rh = vqt_chain(t, VQT_RX, &s, 1);
	vqt_mark(t);
	EXPECT_DRAIN(t, VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 1000,
		     D(RX_PACKETS) = 1, D(RX_BYTES) = 1000);
	EXPECT_USED(t, VQT_TX, 0, th, 0);
	EXPECT_USED(t, VQT_RX, 0, rh, VNL_NET_HDR_LEN + 1000);
	memcpy(got, below - 700, 700);
	memcpy(got + 700, above, sizeof(got) - 700);
	hdr[offsetof(struct virtio_net_hdr_v1, num_buffers)] = 1;
	EXPECT_EQ(0, memcmp(got, hdr, sizeof(hdr)));
	EXPECT_EQ(-1, vqt_pattern_check(got + VNL_NET_HDR_LEN, 1000, 7));
	/* The page between the two host halves was never touched. */
	EXPECT_EQ(-1, vqt_fill_check(below, page, 0));
}

/* A frame that runs past the end of the upper region is invalid. */
TEST_F(mem, frame_runs_off_the_table)
{
	struct vqt *t = &self->t;
	const u64 half = VQT_MEM_SIZE / 2, mid = VQT_GPA_BASE + half;
	struct vnl_region r[2] = {
		R(VQT_GPA_BASE, half, (u64)(uintptr_t)t->mem),
		R(mid, 0x1000, (u64)(uintptr_t)t->mem + half + 0x2000),
	};
	struct virtq_buf s = { .gpa = mid - 100, .len = 100 + 0x1000 + 1 };

	ASSERT_EQ(0, vnl_engine_set_mem(&t->eng, r, 2));
	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	vqt_rx_buf(t, 128, NULL);
	vqt_chain(t, VQT_TX, &s, 1);
	vqt_mark(t);
	EXPECT_DRAIN(t, VRING);
	EXPECT_DELTA(t, D(TX_CHAIN_INVALID) = 1);
	EXPECT_EQ(0, vqt_used_idx(t, VQT_RX));
}

/* Each ring part must lie inside one region, or it is not backed at all. */
TEST_F(mem, ring_across_regions_is_unbacked)
{
	struct vqt *t = &self->t;
	const u64 mid = VQT_RING_AVAIL(VQT_TX) + 8;	/* inside the ring */
	struct vnl_region r[2] = {
		R(VQT_GPA_BASE, mid - VQT_GPA_BASE, (u64)(uintptr_t)t->mem),
		R(mid, VQT_GPA_END - mid,
		  (u64)(uintptr_t)t->mem + (mid - VQT_GPA_BASE)),
	};
	struct vnl_region split[2] = { r[0], r[1] };

	/* Host-contiguous halves merge: the TX avail ring works. */
	ASSERT_EQ(0, vnl_engine_set_mem(&t->eng, r, 2));
	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	vqt_rx_buf(t, 128, NULL);
	vqt_tx_frame(t, 20, 1, NULL);
	vqt_mark(t);
	EXPECT_DRAIN(t, VRING);
	EXPECT_DELTA(t, D(TX_PACKETS) = 1, D(TX_BYTES) = 20,
		     D(RX_PACKETS) = 1, D(RX_BYTES) = 20);

	/* Not host-contiguous: the avail ring is unbacked, TX poisons. */
	split[1].size -= 0x100;
	split[1].hva += 0x100;
	vnl_engine_reset(&t->eng);
	ASSERT_EQ(0, vnl_engine_set_mem(&t->eng, split, 2));
	ASSERT_EQ(0, vqt_setup(t, 8, 8, false));
	vqt_tx_frame(t, 20, 2, NULL);
	EXPECT_TX_POISONED(t);
}

/* virtio 1.2, 2.7: desc 16, avail 2, used 4 bytes, as vhost checks too. */
TEST_F(mem, misaligned_rings_refused)
{
	struct vqt *t = &self->t;
	u64 d = VQT_RING_DESC(VQT_TX), a = VQT_RING_AVAIL(VQT_TX);
	u64 u = VQT_RING_USED(VQT_TX);

	EXPECT_EQ(-EINVAL, vnl_engine_set_vring(&t->eng, VQT_TX, 8, d + 8,
						a, u));
	EXPECT_EQ(-EINVAL, vnl_engine_set_vring(&t->eng, VQT_TX, 8, d,
						a + 1, u));
	EXPECT_EQ(-EINVAL, vnl_engine_set_vring(&t->eng, VQT_TX, 8, d, a,
						u + 2));
	EXPECT_FALSE(vnl_engine_queue_ready(&t->eng, VQT_TX));
	EXPECT_EQ(0, vnl_engine_set_vring(&t->eng, VQT_TX, 8, d, a + 2,
					  u + 4));
}

static unsigned int idx_writes;
static u64 idx_gpa;

static void count_idx_writes(struct vqt *t, u64 gpa, u32 len)
{
	(void)t;
	if (gpa == idx_gpa && len == 2)
		idx_writes++;
}

/* Eight frames in one drain: one used->idx store per queue, not eight. */
TEST_F(mem, used_idx_published_once_per_drain)
{
	struct vqt *t = &self->t;
	unsigned int i;

	ASSERT_EQ(0, vqt_setup(t, 16, 16, false));
	for (i = 0; i < 8; i++) {
		vqt_rx_buf(t, 128, NULL);
		vqt_tx_frame(t, 30, i, NULL);
	}
	idx_gpa = VQT_RING_USED(VQT_TX) + offsetof(struct vring_used, idx);
	idx_writes = 0;
	t->write_hook = count_idx_writes;
	EXPECT_DRAIN(t, VRING);
	EXPECT_EQ(1u, idx_writes);
	EXPECT_EQ(8, vqt_used_idx(t, VQT_TX));
	idx_gpa = VQT_RING_USED(VQT_RX) + offsetof(struct vring_used, idx);
	idx_writes = 0;
	vqt_rx_buf(t, 128, NULL);
	vqt_tx_frame(t, 30, 9, NULL);
	EXPECT_DRAIN(t, VRING);
	EXPECT_EQ(1u, idx_writes);
	EXPECT_EQ(9, vqt_used_idx(t, VQT_RX));
}

/* worker_runs, interrupts and budget_requeues are the engine's to count. */
TEST_F(mem, engine_keeps_its_books)
{
	struct vqt *t = &self->t;
	unsigned int i;

	/* Before DRIVER_OK a drain is not a run. */
	EXPECT_EQ(0u, vqt_drain(t));
	EXPECT_EQ(0u, t->c[VNETLOOP_C_WORKER_RUNS]);
	ASSERT_EQ(0, vqt_setup(t, 16, 16, false));
	vnl_engine_set_budget(&t->eng, 4, VNL_BUDGET_BYTES);
	for (i = 0; i < 6; i++) {
		vqt_rx_buf(t, 128, NULL);
		vqt_tx_frame(t, 30, i, NULL);
	}
	EXPECT_DRAIN(t, VRING | VQT_DRAIN_MORE);
	EXPECT_DRAIN(t, VRING);
	vqt_avail_set_flags(t, VQT_TX, VRING_AVAIL_F_NO_INTERRUPT);
	vqt_avail_set_flags(t, VQT_RX, VRING_AVAIL_F_NO_INTERRUPT);
	EXPECT_DRAIN(t, 0);	/* nothing to do: a run, no interrupt */
	EXPECT_EQ(3u, t->c[VNETLOOP_C_WORKER_RUNS]);
	EXPECT_EQ(2u, t->c[VNETLOOP_C_INTERRUPTS]);
	EXPECT_EQ(1u, t->c[VNETLOOP_C_BUDGET_REQUEUES]);
	EXPECT_EQ(2ul, t->interrupts);
	EXPECT_EQ(0u, t->c[VNETLOOP_C_KICKS]);	/* the home's to count */
}

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

/*
 * drain_ns on the real clock: 0 until a drain of a live engine, then it
 * grows over a drain that moves frames, by no more than the time the
 * caller saw the drain take.
 */
TEST_F(mem, drain_ns_grows_over_a_drain)
{
	struct vqt *t = &self->t;
	u64 before, after;
	unsigned int i;

	EXPECT_EQ(0u, t->c[VNETLOOP_C_DRAIN_NS]);
	EXPECT_EQ(0u, vqt_drain(t));	/* before DRIVER_OK: not a drain */
	EXPECT_EQ(0ul, t->commits);
	EXPECT_EQ(0u, t->c[VNETLOOP_C_DRAIN_NS]);
	ASSERT_EQ(0, vqt_setup(t, 256, 256, false));
	vnl_engine_set_budget(&t->eng, 65536, 16 << 20);
	for (i = 0; i < 200; i++) {
		vqt_rx_buf(t, 1600, NULL);
		vqt_tx_frame(t, 1500, i, NULL);
	}
	EXPECT_EQ(0u, t->c[VNETLOOP_C_DRAIN_NS]);
	vqt_mark(t);
	before = now_ns();
	EXPECT_DRAIN(t, VRING);
	after = now_ns();
	EXPECT_EQ(200u, vqt_delta(t, VNETLOOP_C_TX_PACKETS));
	EXPECT_LT(0u, vqt_delta(t, VNETLOOP_C_DRAIN_NS));
	EXPECT_GE(after - before, vqt_delta(t, VNETLOOP_C_DRAIN_NS))
		TH_LOG("drain_ns %llu, the caller saw %llu ns",
		       (unsigned long long)vqt_delta(t, VNETLOOP_C_DRAIN_NS),
		       (unsigned long long)(after - before));
}

/* One drain expecting FLAGS; ACC gets the guest accesses it made. */
#define TIMED_DRAIN(t, flags, acc) do {				\
	vqt_mark(t);							\
	(acc) = (t)->reads + (t)->writes;				\
	EXPECT_DRAIN(t, flags);						\
	(acc) = (t)->reads + (t)->writes - (acc);			\
} while (0)

/*
 * drain_ns on a fake clock: each drain of a live engine reads it twice,
 * around every guest access it makes, and adds the difference, whichever
 * way it ends (frames moved, budget spent, TX not ready); a drain before
 * DRIVER_OK reads it never.
 */
TEST_F(mem, drain_ns_spans_every_access)
{
	struct vqt *t = &self->t;
	unsigned long accesses;
	unsigned int i;

	vqt_fake_clock(t, 1000);
	EXPECT_EQ(0u, vqt_drain(t));
	EXPECT_EQ(0ul, t->clock_reads);
	EXPECT_EQ(0u, t->c[VNETLOOP_C_DRAIN_NS]);

	/* TX not ready: a run without an access, one tick long. */
	ASSERT_EQ(0, vqt_setup(t, 16, 0, false));
	vqt_mark(t);
	EXPECT_DRAIN(t, 0);
	EXPECT_EQ(2ul, t->clock_reads);
	EXPECT_EQ(1u, vqt_delta(t, VNETLOOP_C_WORKER_RUNS));
	EXPECT_EQ(1u, vqt_delta(t, VNETLOOP_C_DRAIN_NS));

	vnl_engine_reset(&t->eng);
	ASSERT_EQ(0, vqt_setup(t, 16, 16, false));
	vnl_engine_set_budget(&t->eng, 4, VNL_BUDGET_BYTES);
	for (i = 0; i < 6; i++) {
		vqt_rx_buf(t, 128, NULL);
		vqt_tx_frame(t, 30, i, NULL);
	}
	/* Stopped by the budget, then the rest. */
	t->clock_reads = 0;
	TIMED_DRAIN(t, VRING | VQT_DRAIN_MORE, accesses);
	EXPECT_LT(0ul, accesses);
	EXPECT_EQ(2ul, t->clock_reads);
	EXPECT_EQ(4u, vqt_delta(t, VNETLOOP_C_TX_PACKETS));
	EXPECT_EQ(1 + 1000 * (u64)accesses,
		  vqt_delta(t, VNETLOOP_C_DRAIN_NS));
	TIMED_DRAIN(t, VRING, accesses);
	EXPECT_EQ(4ul, t->clock_reads);
	EXPECT_EQ(2u, vqt_delta(t, VNETLOOP_C_TX_PACKETS));
	EXPECT_EQ(1 + 1000 * (u64)accesses,
		  vqt_delta(t, VNETLOOP_C_DRAIN_NS));
	/* A drain with nothing to do still looks at the ring. */
	TIMED_DRAIN(t, 0, accesses);
	EXPECT_EQ(6ul, t->clock_reads);
	EXPECT_EQ(1 + 1000 * (u64)accesses,
		  vqt_delta(t, VNETLOOP_C_DRAIN_NS));
}

TEST_HARNESS_MAIN
