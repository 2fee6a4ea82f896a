// SPDX-License-Identifier: GPL-2.0
/*
 * The memory model through vnetloop.ko (Documentation/engine.rst, "Guest
 * memory"): guest RAM as three IOTLB entries adjacent in I/O virtual
 * (guest-physical) space whose host mappings are a page apart each. A frame
 * and an RX buffer that each cross an entry boundary are copied piece by
 * piece, for short frames (copied through registers) and long ones (through
 * the bounce buffer); a frame that runs past the last entry is invalid;
 * misaligned rings are refused.
 */
#include "tests.h"

#define RX	VNETLOOP_QUEUE_RX
#define TX	VNETLOOP_QUEUE_TX
#define PAGE	4096u
#define B1	(2u << 20)	/* guest offsets of the two boundaries */
#define B2	(4u << 20)
#define TOP	(VG_MEM_SIZE - 2 * PAGE)	/* end of the table */

/*
 * Rings and the heap stay below B1, where gpa == host address; above B1 the
 * host address is one page higher, above B2 two pages. Three UPDATEs (the
 * owner's): the entries touch in I/O virtual space only.
 */
static int set_split_table(struct vg *g)
{
	uint64_t base = vg_gpa(g->mem);
	int ret;

	ret = vg_set_owner(g);
	if (!ret)
		ret = vg_map(g, base, B1, g->mem, VHOST_ACCESS_RW);
	if (!ret)
		ret = vg_map(g, base + B1, B2 - B1, g->mem + B1 + PAGE,
			     VHOST_ACCESS_RW);
	if (!ret)
		ret = vg_map(g, base + B2, TOP - B2, g->mem + B2 + 2 * PAGE,
			     VHOST_ACCESS_RW);
	return ret;
}

/* The host byte behind guest address gpa under the split table. */
static uint8_t *host(struct vg *g, uint64_t gpa)
{
	uint64_t off = gpa - vg_gpa(g->mem);

	off += off < B1 ? 0 : off < B2 ? PAGE : 2 * PAGE;
	return g->mem + off;
}

static void guest_write(struct vg *g, uint64_t gpa, const uint8_t *p,
			size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		*host(g, gpa + i) = p[i];
}

static void guest_read(struct vg *g, uint64_t gpa, uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = *host(g, gpa + i);
}

static int all_zero(const uint8_t *p, size_t len)
{
	while (len--)
		if (*p++)
			return 0;
	return 1;
}

FIXTURE(regions) {
	struct vg g;
	vnl_cnt_t before;
};

FIXTURE_VARIANT(regions) {
	uint32_t frame_len;
};

FIXTURE_VARIANT_ADD(regions, short_frame) {
	.frame_len = 100,
};

FIXTURE_VARIANT_ADD(regions, long_frame) {
	.frame_len = 9000,
};

FIXTURE_VARIANT_ADD(regions, max_frame) {
	.frame_len = VNL_MAX_FRAME_SIZE,
};

FIXTURE_SETUP(regions)
{
	struct vg *g = &self->g;

	ASSERT_EQ(0, vg_open(g)) TH_LOG("open %s: %s", VG_DEV_PATH,
					strerror(errno));
	ASSERT_EQ(0, set_split_table(g));
	ASSERT_EQ(0, vg_setup_queues(g, VG_FEATURES_EVENT_IDX, 64, 64));
	vnl_read(_metadata, g, self->before);
}

FIXTURE_TEARDOWN(regions)
{
	vg_close(&self->g);
}

/* Each buffer crosses a boundary: its bytes land on both sides of a gap. */
TEST_F(regions, frame_spans_two_regions)
{
	struct vg *g = &self->g;
	uint32_t len = variant->frame_len, total = VNL_NET_HDR_LEN + len;
	uint64_t tx = vg_gpa(g->mem) + B1 - 300;
	uint64_t rx = vg_gpa(g->mem) + B2 - 700;
	static uint8_t frame[VNL_NET_HDR_LEN + VNL_MAX_FRAME_SIZE];
	static uint8_t got[VNL_NET_HDR_LEN + VNL_MAX_FRAME_SIZE];
	static const uint8_t hdr[VNL_NET_HDR_LEN] = { [10] = 1 };
	vnl_cnt_t want = { 0 }, after;
	struct vg_seg s;

	memset(frame, 0x5a, VNL_NET_HDR_LEN);
	vg_fill(frame + VNL_NET_HDR_LEN, len, 11);
	guest_write(g, tx, frame, total);
	memset(got, 0xee, total);
	guest_write(g, rx, got, total);

	s = (struct vg_seg){ .gpa = rx, .len = total,
			     .flags = VRING_DESC_F_WRITE };
	vg_chain(g, RX, 5, &s, 1);
	vg_avail_push(g, RX, 5);
	s = (struct vg_seg){ .gpa = tx, .len = total };
	vg_chain(g, TX, 7, &s, 1);
	vg_avail_push(g, TX, 7);
	ASSERT_EQ(0, vg_kick(g));

	vnl_expect_irq(_metadata, g);
	vnl_expect_used(_metadata, g, TX, 7, 0);
	vnl_expect_used(_metadata, g, RX, 5, total);
	guest_read(g, rx, got, total);
	EXPECT_EQ(0, memcmp(got, hdr, VNL_NET_HDR_LEN));
	EXPECT_EQ(0, memcmp(got + VNL_NET_HDR_LEN, frame + VNL_NET_HDR_LEN,
			    len))
		TH_LOG("frame bytes differ");
	/* The pages between the host ranges belong to no entry. */
	EXPECT_TRUE(all_zero(g->mem + B1, PAGE));
	EXPECT_TRUE(all_zero(g->mem + B2 + PAGE, PAGE));
	want[VNETLOOP_C_TX_PACKETS] = 1;
	want[VNETLOOP_C_TX_BYTES] = len;
	want[VNETLOOP_C_RX_PACKETS] = 1;
	want[VNETLOOP_C_RX_BYTES] = len;
	vnl_expect_deltas(_metadata, g, self->before, want, after);
}

/* A TX buffer that runs past the last entry is invalid, whole. */
TEST_F(regions, frame_runs_off_the_table)
{
	struct vg *g = &self->g;
	uint64_t end = vg_gpa(g->mem) + TOP;
	uint8_t *rx = vg_alloc(g, 2048);
	vnl_cnt_t want = { 0 }, after;
	struct vg_seg s = { .gpa = end - 100, .len = 100 + 1 };

	ASSERT_NE(NULL, rx);
	vg_post(g, RX, 1, rx, 2048, VRING_DESC_F_WRITE);
	vg_chain(g, TX, 2, &s, 1);
	vg_avail_push(g, TX, 2);
	ASSERT_EQ(0, vg_kick(g));
	vnl_expect_used(_metadata, g, TX, 2, 0);
	EXPECT_EQ(0, vg_used_pending(g, RX));
	want[VNETLOOP_C_TX_CHAIN_INVALID] = 1;
	vnl_expect_deltas(_metadata, g, self->before, want, after);
}

/* virtio 1.2, 2.7: desc 16, avail 2, used 4 bytes; as vhost, -EINVAL. */
TEST(misaligned_rings)
{
	uint64_t base;
	struct vg g;
	int i;

	ASSERT_EQ(0, vg_open(&g));
	ASSERT_EQ(0, vg_set_owner(&g));
	ASSERT_EQ(0, vg_set_mem(&g));
	base = vg_gpa(g.mem);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(-EINVAL, vg_set_vring_addr(&g, TX,
			base + (i == 0 ? 8 : 0),
			base + PAGE + (i == 1 ? 1 : 0),
			base + 2 * PAGE + (i == 2 ? 2 : 0)));
	}
	EXPECT_EQ(0, vg_set_vring_addr(&g, TX, base, base + PAGE,
				       base + 2 * PAGE + 4));
	vg_close(&g);
}

/*
 * A ring across IOTLB entries: guest RAM as three entries, the middle one
 * 32 bytes inside a TX ring part. Where they are contiguous on both sides
 * (and alike in rights) the device sees one range and the ring works; with
 * the middle one's host side elsewhere the part cannot be mapped whole: an
 * avail ring poisons the queue at once (the drain DRIVER_OK queues), a
 * descriptor table makes every chain invalid.
 */
FIXTURE(ring_split) {
	struct vg g;
};

FIXTURE_VARIANT(ring_split) {
	bool host_gap;
	bool desc;		/* split the TX descriptor table, else avail */
};

FIXTURE_VARIANT_ADD(ring_split, avail_contiguous) { };
FIXTURE_VARIANT_ADD(ring_split, avail_host_gap) { .host_gap = true };
FIXTURE_VARIANT_ADD(ring_split, desc_contiguous) { .desc = true };
FIXTURE_VARIANT_ADD(ring_split, desc_host_gap) {
	.host_gap = true, .desc = true,
};

FIXTURE_SETUP(ring_split)
{
	ASSERT_EQ(0, vg_open(&self->g));
}

FIXTURE_TEARDOWN(ring_split)
{
	vg_close(&self->g);
}

TEST_F(ring_split, tx_ring)
{
	struct vg *g = &self->g;
	uint64_t base = vg_gpa(g->mem), end = base + TOP;
	/* 32 bytes into the TX descriptor table or avail ring. */
	uint64_t cut = base + VIRTQ_RING_BYTES + (variant->desc ? 0 : PAGE) +
		       32;
	uint8_t *mid = variant->host_gap ? g->mem + TOP + PAGE :
					   g->mem + (cut - base);
	vnl_cnt_t before, after, want = { 0 };
	uint8_t *tx, *rx;

	ASSERT_EQ(0, vg_set_owner(g));
	ASSERT_EQ(0, vg_map(g, base, cut - base, g->mem, VHOST_ACCESS_RW));
	ASSERT_EQ(0, vg_map(g, cut, 32, mid, VHOST_ACCESS_RW));
	ASSERT_EQ(0, vg_map(g, cut + 32, end - cut - 32,
			    g->mem + (cut + 32 - base), VHOST_ACCESS_RW));
	vnl_read(_metadata, g, before);
	ASSERT_EQ(0, vg_setup_queues(g, VG_FEATURES_EVENT_IDX, 64, 64));
	if (variant->host_gap && !variant->desc) {
		vnl_expect_config_irq(_metadata, g);
		EXPECT_EQ(1, vg_needs_reset(g));
		want[VNETLOOP_C_INVALID_AVAIL_IDX_COUNT] = 1;
		vnl_expect_deltas(_metadata, g, before, want, after);
		return;
	}

	tx = vg_alloc(g, VNL_NET_HDR_LEN + 100);
	rx = vg_alloc(g, 512);
	ASSERT_NE(NULL, tx);
	ASSERT_NE(NULL, rx);
	vg_fill(tx, VNL_NET_HDR_LEN + 100, 3);
	vg_post(g, RX, 0, rx, 512, VRING_DESC_F_WRITE);
	vg_post(g, TX, 0, tx, VNL_NET_HDR_LEN + 100, 0);
	ASSERT_EQ(0, vg_kick(g));
	vnl_expect_irq(_metadata, g);
	vnl_expect_used(_metadata, g, TX, 0, 0);
	if (variant->host_gap) {
		/* No descriptor readable: an invalid chain, RX untouched. */
		want[VNETLOOP_C_TX_CHAIN_INVALID] = 1;
		EXPECT_EQ(0, vg_used_pending(g, RX));
	} else {
		vnl_expect_used(_metadata, g, RX, 0, VNL_NET_HDR_LEN + 100);
		EXPECT_EQ(0, memcmp(tx + VNL_NET_HDR_LEN, rx + VNL_NET_HDR_LEN,
				    100));
		want[VNETLOOP_C_TX_PACKETS] = 1;
		want[VNETLOOP_C_TX_BYTES] = 100;
		want[VNETLOOP_C_RX_PACKETS] = 1;
		want[VNETLOOP_C_RX_BYTES] = 100;
	}
	vnl_expect_deltas(_metadata, g, before, want, after);
	EXPECT_EQ(0, vg_needs_reset(g));
}

VNL_TEST_MAIN
