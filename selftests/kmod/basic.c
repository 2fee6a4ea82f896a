// SPDX-License-Identifier: GPL-2.0
/*
 * The device and the frame path through vnetloop.ko: identity and config
 * space, DRIVER_OK and stop/cont, loopback with exact bytes and counters,
 * an empty RX queue, invalid and oversize TX chains, bad RX chains, and one
 * interrupt for a drain of several chains.
 */
#include <endian.h>
#include <linux/virtio_ids.h>

#include "tests.h"

#define RX	VNETLOOP_QUEUE_RX
#define TX	VNETLOOP_QUEUE_TX

/* An address the IOTLB does not cover. */
static uint64_t unmapped_gpa(struct vg *g)
{
	return vg_gpa(g->mem) + g->mem_size + (1u << 20);
}

/* One TX frame in a single descriptor: 12 junk header bytes, then data. */
static uint8_t *tx_frame(struct vg *g, uint16_t head, uint32_t len,
			 uint32_t seed)
{
	uint8_t *buf = vg_alloc(g, VNL_NET_HDR_LEN + len);

	if (!buf)
		return NULL;
	/* Not interpreted by the device. */
	memset(buf, 0x5a, VNL_NET_HDR_LEN);
	vg_fill(buf + VNL_NET_HDR_LEN, len, seed);
	vg_post(g, TX, head, buf, VNL_NET_HDR_LEN + len, 0);
	return buf;
}

static uint8_t *rx_buffer(struct vg *g, uint16_t head, uint32_t len)
{
	uint8_t *buf = vg_alloc(g, len);

	if (!buf)
		return NULL;
	memset(buf, 0xee, len);
	vg_post(g, RX, head, buf, len, VRING_DESC_F_WRITE);
	return buf;
}

/* The header a delivery writes: zero except le16 num_buffers = 1. */
static int rx_hdr_ok(const uint8_t *hdr)
{
	static const uint8_t want[VNL_NET_HDR_LEN] = { [10] = 1 };

	return !memcmp(hdr, want, VNL_NET_HDR_LEN);
}

static int all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

/* What n delivered frames of bytes in all add to the counters. */
static void want_delivered(uint64_t *want, uint64_t n, uint64_t bytes)
{
	want[VNETLOOP_C_TX_PACKETS] = n;
	want[VNETLOOP_C_TX_BYTES] = bytes;
	want[VNETLOOP_C_RX_PACKETS] = n;
	want[VNETLOOP_C_RX_BYTES] = bytes;
}

/*
 * Kick (if asked) a len-byte frame posted at TX head tx_head into the RX
 * buffer at rx_head: one interrupt, both used entries, the counters of one
 * delivery.
 */
static void expect_delivered(struct __test_metadata *_metadata, struct vg *g,
			     const uint64_t *before, uint16_t tx_head,
			     uint16_t rx_head, uint32_t len, bool kick)
{
	vnl_cnt_t after, want = { 0 };

	if (kick)
		ASSERT_EQ(0, vg_kick(g));
	vnl_expect_irq(_metadata, g);
	vnl_expect_used(_metadata, g, TX, tx_head, 0);
	vnl_expect_used(_metadata, g, RX, rx_head, VNL_NET_HDR_LEN + len);
	want_delivered(want, 1, len);
	vnl_expect_deltas(_metadata, g, before, want, after);
}

/*
 * Send a len-byte frame from TX head 0 that no RX chain can take: TX
 * completes and counts it, and counter says why it was not delivered.
 * before moves on to the counters after it.
 */
static void expect_dropped(struct __test_metadata *_metadata, struct vg *g,
			   uint64_t *before, uint32_t len, unsigned int counter)
{
	vnl_cnt_t after, want = { 0 };

	ASSERT_NE(NULL, tx_frame(g, 0, len, 1));
	ASSERT_EQ(0, vg_kick(g));
	vnl_expect_irq(_metadata, g);
	vnl_expect_used(_metadata, g, TX, 0, 0);
	want[VNETLOOP_C_TX_PACKETS] = 1;
	want[VNETLOOP_C_TX_BYTES] = len;
	want[counter] = 1;
	vnl_expect_deltas(_metadata, g, before, want, after);
	memcpy(before, after, sizeof(after));
}

/* What a device is before anyone owns it, the same for every open. */
TEST(info)
{
	union vg_config cfg = {
		.c = { .off = 0, .len = sizeof(struct virtio_net_config) },
	};
	struct virtio_net_config net;
	struct vhost_vdpa_iova_range range;
	uint32_t u32;
	uint64_t f;
	uint16_t n;
	uint8_t s;
	struct vg a, b;

	ASSERT_EQ(0, vg_open(&a));
	ASSERT_EQ(0, vg_open(&b));
	ASSERT_EQ(0, vg_ioctl(&a, VHOST_GET_FEATURES, &f));
	EXPECT_EQ(VNETLOOP_FEATURES, f);
	ASSERT_EQ(0, vg_ioctl(&a, VHOST_GET_BACKEND_FEATURES, &f));
	EXPECT_EQ(VG_BACKEND_FEATURES, f);
	ASSERT_EQ(0, vg_ioctl(&a, VHOST_VDPA_GET_DEVICE_ID, &u32));
	EXPECT_EQ(VIRTIO_ID_NET, u32);
	ASSERT_EQ(0, vg_ioctl(&a, VHOST_VDPA_GET_VRING_NUM, &n));
	EXPECT_EQ(VNETLOOP_QUEUE_SIZE_MAX, n);
	ASSERT_EQ(0, vg_ioctl(&a, VHOST_VDPA_GET_VQS_COUNT, &u32));
	EXPECT_EQ(VNETLOOP_NUM_QUEUES, u32);
	ASSERT_EQ(0, vg_ioctl(&a, VHOST_VDPA_GET_CONFIG_SIZE, &u32));
	EXPECT_EQ(sizeof(struct virtio_net_config), u32);
	ASSERT_EQ(0, vg_ioctl(&a, VHOST_VDPA_GET_GROUP_NUM, &u32));
	EXPECT_EQ(1, u32);
	ASSERT_EQ(0, vg_ioctl(&a, VHOST_VDPA_GET_AS_NUM, &u32));
	EXPECT_EQ(1, u32);
	/* QEMU skips sections outside [first, last]: all of it. */
	ASSERT_EQ(0, vg_ioctl(&a, VHOST_VDPA_GET_IOVA_RANGE, &range));
	EXPECT_EQ(0, range.first);
	EXPECT_EQ(UINT64_MAX, range.last);
	ASSERT_EQ(0, vg_get_status(&a, &s));
	EXPECT_EQ(0, s);
	/* The config space: the MAC, one queue pair. */
	ASSERT_EQ(0, vg_ioctl(&a, VHOST_VDPA_GET_CONFIG, &cfg.c));
	memcpy(&net, cfg.c.buf, sizeof(net));
	EXPECT_EQ(0, memcmp(net.mac, a.mac, sizeof(a.mac)));
	EXPECT_EQ(1, le16toh(net.max_virtqueue_pairs));
	/* Each open is its own device, with its own id and MAC. */
	EXPECT_NE(a.dev_id, b.dev_id);
	EXPECT_NE(0, memcmp(a.mac, b.mac, sizeof(a.mac)));
	vg_close(&b);
	vg_close(&a);
}

/*
 * The config space takes a MAC (QEMU writes the -device mac=) and reads it
 * back; writes past the MAC are ignored; ranges outside it are -EINVAL.
 */
TEST(config_mac)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
	union vg_config cfg;
	struct vg g;

	ASSERT_EQ(0, vg_open(&g));
	cfg.c = (struct vhost_vdpa_config){ .off = 0, .len = 6 };
	memcpy(cfg.c.buf, mac, 6);
	ASSERT_EQ(0, vg_ioctl(&g, VHOST_VDPA_SET_CONFIG, &cfg.c));
	/* max_virtqueue_pairs is not the driver's to change. */
	cfg.c = (struct vhost_vdpa_config){ .off = 8, .len = 2 };
	cfg.c.buf[0] = 7;
	cfg.c.buf[1] = 0;
	ASSERT_EQ(0, vg_ioctl(&g, VHOST_VDPA_SET_CONFIG, &cfg.c));
	memset(cfg.c.buf, 0xee, sizeof(struct virtio_net_config));
	cfg.c = (struct vhost_vdpa_config){ .off = 0, .len = 10 };
	ASSERT_EQ(0, vg_ioctl(&g, VHOST_VDPA_GET_CONFIG, &cfg.c));
	EXPECT_EQ(0, memcmp(cfg.c.buf, mac, 6));
	EXPECT_EQ(1, cfg.c.buf[8]);
	EXPECT_EQ(0, cfg.c.buf[9]);
	/* A part of it, at an offset. */
	memset(cfg.c.buf, 0xee, sizeof(struct virtio_net_config));
	cfg.c = (struct vhost_vdpa_config){ .off = 4, .len = 2 };
	ASSERT_EQ(0, vg_ioctl(&g, VHOST_VDPA_GET_CONFIG, &cfg.c));
	EXPECT_EQ(0x34, cfg.c.buf[0]);
	EXPECT_EQ(0x56, cfg.c.buf[1]);
	EXPECT_EQ(0xee, cfg.c.buf[2]);

	cfg.c = (struct vhost_vdpa_config){ .off = 0, .len = 0 };
	EXPECT_EQ(-EINVAL, vg_ioctl(&g, VHOST_VDPA_GET_CONFIG, &cfg.c));
	cfg.c = (struct vhost_vdpa_config){
		.off = 0, .len = sizeof(struct virtio_net_config) + 1 };
	EXPECT_EQ(-EINVAL, vg_ioctl(&g, VHOST_VDPA_GET_CONFIG, &cfg.c));
	EXPECT_EQ(-EINVAL, vg_ioctl(&g, VHOST_VDPA_SET_CONFIG, &cfg.c));
	cfg.c = (struct vhost_vdpa_config){ .off = 6, .len = UINT32_MAX - 2 };
	EXPECT_EQ(-EINVAL, vg_ioctl(&g, VHOST_VDPA_GET_CONFIG, &cfg.c));
	cfg.c = (struct vhost_vdpa_config){
		.off = sizeof(struct virtio_net_config) + 1, .len = 1 };
	EXPECT_EQ(-EINVAL, vg_ioctl(&g, VHOST_VDPA_SET_CONFIG, &cfg.c));
	vg_close(&g);
}

/*
 * Chains offered and kicked before DRIVER_OK wait for it, and DRIVER_OK
 * runs them with no further kick: a guest resumed by QEMU's "cont" may
 * never kick again.
 */
TEST(kick_before_start)
{
	vnl_cnt_t before, after;
	uint8_t *rx;
	struct vg g;

	ASSERT_EQ(0, vg_open(&g));
	ASSERT_EQ(0, vg_negotiate(&g, VG_FEATURES_BASE));
	ASSERT_EQ(0, vg_set_vring(&g, RX, 64));
	ASSERT_EQ(0, vg_set_vring(&g, TX, 64));
	ASSERT_EQ(0, vg_set_mem(&g));
	vnl_read(_metadata, &g, before);
	rx = rx_buffer(&g, 0, 2048);
	ASSERT_NE(NULL, tx_frame(&g, 0, 100, 1));
	ASSERT_EQ(0, vg_kick(&g));
	vnl_expect_still(_metadata, &g, before);
	EXPECT_EQ(0, vg_used_pending(&g, TX));
	EXPECT_EQ(0, vg_irq_count(&g));

	ASSERT_EQ(0, vg_start(&g));
	expect_delivered(_metadata, &g, before, 0, 0, 100, false);
	EXPECT_TRUE(rx_hdr_ok(rx));
	/* The kick before DRIVER_OK reached nobody; none came after it. */
	vnl_read(_metadata, &g, after);
	EXPECT_EQ(0, after[VNETLOOP_C_KICKS] - before[VNETLOOP_C_KICKS]);
	vg_close(&g);
}

/*
 * QEMU's stop and cont: SET_STATUS 0 stops the device, each queue's
 * position stays readable (VHOST_GET_VRING_BASE), and a new start at that
 * base (VHOST_SET_VRING_BASE) goes on where the rings are, with chains
 * the driver offered in between, and no kick.
 */
TEST(stop_and_cont)
{
	vnl_cnt_t before, after, want = { 0 };
	uint8_t *rx[8], *tx;
	struct vg g;
	uint16_t i;

	vnl_up(_metadata, &g, VG_FEATURES_EVENT_IDX, 8, 8);
	tx = vg_alloc(&g, VNL_NET_HDR_LEN + 200);
	ASSERT_NE(NULL, tx);
	vg_fill(tx, VNL_NET_HDR_LEN + 200, 5);
	for (i = 0; i < 8; i++) {
		rx[i] = vg_alloc(&g, 512);
		ASSERT_NE(NULL, rx[i]);
	}
	vnl_read(_metadata, &g, before);
	/* Five frames, two laps of the ring in all with what follows. */
	for (i = 0; i < 5; i++) {
		vg_post(&g, RX, i, rx[i], 512, VRING_DESC_F_WRITE);
		vg_post(&g, TX, i, tx, VNL_NET_HDR_LEN + 200, 0);
	}
	ASSERT_EQ(0, vg_kick(&g));
	ASSERT_EQ(0, vg_wait_used(&g, RX, 5, VNL_TIMEOUT_MS));
	ASSERT_EQ(0, vg_wait_used(&g, TX, 5, VNL_TIMEOUT_MS));

	ASSERT_EQ(0, vg_set_status(&g, 0));
	vnl_expect_status(_metadata, &g, 0);
	EXPECT_EQ(5, vg_get_vring_base(&g, RX));
	EXPECT_EQ(5, vg_get_vring_base(&g, TX));
	/* The driver goes on offering while the device is stopped. */
	for (i = 5; i < 12; i++) {
		vg_post(&g, RX, i & 7, rx[i & 7], 512, VRING_DESC_F_WRITE);
		vg_post(&g, TX, i & 7, tx, VNL_NET_HDR_LEN + 200, 0);
		if (i == 7) {
			/* Room again: consume the first five entries. */
			while (vg_used_pop(&g, RX, &(struct vg_used_elem){ 0 }))
				;
			while (vg_used_pop(&g, TX, &(struct vg_used_elem){ 0 }))
				;
		}
	}
	ASSERT_EQ(0, vg_kick(&g));
	vg_sleep_ms(vg_settle_ms());
	EXPECT_EQ(5, vg_used_idx(&g, TX));

	/* Cont: same rings, base 5; no kick. */
	ASSERT_EQ(0, vg_negotiate(&g, VG_FEATURES_EVENT_IDX));
	ASSERT_EQ(0, vg_restore_vring(&g, RX, 5));
	ASSERT_EQ(0, vg_restore_vring(&g, TX, 5));
	vg_arm(&g);
	ASSERT_EQ(0, vg_start(&g));
	ASSERT_EQ(0, vg_wait_used(&g, TX, 7, VNL_TIMEOUT_MS));
	ASSERT_EQ(0, vg_wait_used(&g, RX, 7, VNL_TIMEOUT_MS));
	for (i = 5; i < 12; i++) {
		vnl_expect_used(_metadata, &g, TX, i & 7, 0);
		vnl_expect_used(_metadata, &g, RX, i & 7,
				VNL_NET_HDR_LEN + 200);
	}
	EXPECT_EQ(12, vg_used_idx(&g, TX));
	EXPECT_EQ(12, vg_used_idx(&g, RX));
	EXPECT_EQ(12, vg_get_vring_base(&g, TX));
	want_delivered(want, 12, 12 * 200);
	vnl_expect_deltas(_metadata, &g, before, want, after);
	vg_close(&g);
}

/*
 * Loopback of one frame, with the TX chain and the RX chain cut into
 * descriptors in various ways (header split across descriptors, several
 * data descriptors, an RX buffer too small for the frame).
 */
FIXTURE(loop) {
	struct vg g;
};

/* One chain's descriptor lengths; n is counted from the list. */
struct chain {
	uint32_t lens[4];
	unsigned int n;
};

#define CHAIN(...)	{ .lens = { __VA_ARGS__ },			\
			  .n = ARRAY_SIZE(((uint32_t[]){ __VA_ARGS__ })) }

FIXTURE_VARIANT(loop) {
	uint32_t frame_len;
	struct chain tx;	/* sums to 12 + frame_len */
	struct chain rx;
	bool no_event_idx;	/* negotiate VG_FEATURES_BASE instead */
};

FIXTURE_VARIANT_ADD(loop, one_desc) {
	.frame_len = 1000, .tx = CHAIN(1012), .rx = CHAIN(1526),
};

FIXTURE_VARIANT_ADD(loop, one_desc_no_event_idx) {
	.frame_len = 1000, .tx = CHAIN(1012), .rx = CHAIN(1526),
	.no_event_idx = true,
};

FIXTURE_VARIANT_ADD(loop, header_desc) {
	.frame_len = 1514, .tx = CHAIN(12, 1514), .rx = CHAIN(12, 1514),
};

FIXTURE_VARIANT_ADD(loop, scattered) {
	.frame_len = 3000, .tx = CHAIN(5, 7, 1000, 2000),
	.rx = CHAIN(3, 9, 100, 4000),
};

FIXTURE_VARIANT_ADD(loop, zero_len_descs) {
	.frame_len = 200, .tx = CHAIN(0, 12, 0, 200),
	.rx = CHAIN(0, 12, 0, 300),
};

FIXTURE_VARIANT_ADD(loop, truncated) {
	.frame_len = 1500, .tx = CHAIN(1512), .rx = CHAIN(112),
};

FIXTURE_VARIANT_ADD(loop, header_only_rx) {
	.frame_len = 64, .tx = CHAIN(76), .rx = CHAIN(12),
};

FIXTURE_VARIANT_ADD(loop, empty_frame) {
	.frame_len = 0, .tx = CHAIN(12), .rx = CHAIN(100),
};

FIXTURE_VARIANT_ADD(loop, max_frame) {
	.frame_len = VNL_MAX_FRAME_SIZE, .tx = CHAIN(12, VNL_MAX_FRAME_SIZE),
	.rx = CHAIN(12 + VNL_MAX_FRAME_SIZE),
};

FIXTURE_SETUP(loop)
{
	vnl_up(_metadata, &self->g, variant->no_event_idx ?
	       VG_FEATURES_BASE : VG_FEATURES_EVENT_IDX, 64, 64);
}

FIXTURE_TEARDOWN(loop)
{
	vg_close(&self->g);
}

TEST_F(loop, frame)
{
	uint32_t tx_total = 0, rx_total = 0, room, i;
	vnl_cnt_t before, after, want = { 0 };
	uint8_t *tx, *rx;

	for (i = 0; i < variant->tx.n; i++)
		tx_total += variant->tx.lens[i];
	for (i = 0; i < variant->rx.n; i++)
		rx_total += variant->rx.lens[i];
	ASSERT_EQ(VNL_NET_HDR_LEN + variant->frame_len, tx_total);
	room = rx_total - VNL_NET_HDR_LEN;
	if (room > variant->frame_len)
		room = variant->frame_len;

	tx = vg_alloc(&self->g, tx_total);
	rx = vg_alloc(&self->g, rx_total + 64);
	ASSERT_NE(NULL, tx);
	ASSERT_NE(NULL, rx);
	memset(tx, 0x5a, VNL_NET_HDR_LEN);
	vg_fill(tx + VNL_NET_HDR_LEN, variant->frame_len, 7);
	memset(rx, 0xee, rx_total + 64);

	vnl_read(_metadata, &self->g, before);
	/* Heads 3 and 9: used ids must name the chain heads. */
	vg_post_split(&self->g, RX, 9, rx, variant->rx.lens, variant->rx.n,
		      VRING_DESC_F_WRITE);
	vg_post_split(&self->g, TX, 3, tx, variant->tx.lens, variant->tx.n, 0);
	ASSERT_EQ(0, vg_kick(&self->g));

	vnl_expect_irq(_metadata, &self->g);
	vnl_expect_used(_metadata, &self->g, TX, 3, 0);
	vnl_expect_used(_metadata, &self->g, RX, 9, VNL_NET_HDR_LEN + room);
	EXPECT_TRUE(rx_hdr_ok(rx));
	EXPECT_EQ(0, memcmp(tx + VNL_NET_HDR_LEN, rx + VNL_NET_HDR_LEN, room))
		TH_LOG("frame bytes differ");
	/* Nothing past what the used length says. */
	EXPECT_TRUE(all_bytes(rx + VNL_NET_HDR_LEN + room,
			      rx_total - VNL_NET_HDR_LEN - room + 64, 0xee));

	want[VNETLOOP_C_TX_PACKETS] = 1;
	want[VNETLOOP_C_TX_BYTES] = variant->frame_len;
	want[VNETLOOP_C_RX_PACKETS] = 1;
	want[VNETLOOP_C_RX_BYTES] = room;
	vnl_expect_deltas(_metadata, &self->g, before, want, after);

	/* Running, no NEEDS_RESET, no configuration interrupt. */
	vnl_expect_status(_metadata, &self->g, VG_S_RUNNING);
	EXPECT_EQ(0, vg_config_count(&self->g));
}

/* Device up, both queues 64 entries; variants for the feature sets. */
FIXTURE(basic) {
	struct vg g;
	vnl_cnt_t before;
};

VNL_FEATURE_VARIANTS(basic);

FIXTURE_SETUP(basic)
{
	vnl_up(_metadata, &self->g, variant->features, 64, 64);
	vnl_read(_metadata, &self->g, self->before);
}

FIXTURE_TEARDOWN(basic)
{
	vg_close(&self->g);
}

/* No RX buffer: TX still completes, the frame counts as dropped. */
TEST_F(basic, empty_rx)
{
	uint8_t *rx;

	expect_dropped(_metadata, &self->g, self->before, 300,
		       VNETLOOP_C_TX_DROPPED_NO_RX_BUFFER);

	/* A buffer offered afterwards gets the next frame. */
	vg_arm(&self->g);
	rx = rx_buffer(&self->g, 0, 2048);
	ASSERT_NE(NULL, tx_frame(&self->g, 1, 400, 2));
	expect_delivered(_metadata, &self->g, self->before, 1, 0, 400, true);
	EXPECT_TRUE(rx_hdr_ok(rx));
}

/* Larger than 65557 bytes after the header: dropped whole. */
TEST_F(basic, oversize)
{
	vnl_cnt_t after, want = { 0 };
	uint8_t *rx;

	rx = rx_buffer(&self->g, 0, VNL_NET_HDR_LEN + VNL_MAX_FRAME_SIZE + 16);
	ASSERT_NE(NULL, rx);
	ASSERT_NE(NULL, tx_frame(&self->g, 5, VNL_MAX_FRAME_SIZE + 1, 3));
	ASSERT_EQ(0, vg_kick(&self->g));
	vnl_expect_irq(_metadata, &self->g);
	vnl_expect_used(_metadata, &self->g, TX, 5, 0);
	want[VNETLOOP_C_TX_OVERSIZE_DROPPED] = 1;
	vnl_expect_deltas(_metadata, &self->g, self->before, want, after);
	EXPECT_EQ(0, vg_used_pending(&self->g, RX));
	EXPECT_TRUE(all_bytes(rx, VNL_NET_HDR_LEN + VNL_MAX_FRAME_SIZE + 16,
			      0xee))
		TH_LOG("the RX buffer was written");
}

/* Two chains, one kick: one drain, one interrupt. */
TEST_F(basic, two_chains_one_irq)
{
	vnl_cnt_t after, want = { 0 };

	ASSERT_NE(NULL, rx_buffer(&self->g, 0, 2048));
	ASSERT_NE(NULL, rx_buffer(&self->g, 1, 2048));
	ASSERT_NE(NULL, tx_frame(&self->g, 0, 100, 1));
	ASSERT_NE(NULL, tx_frame(&self->g, 1, 200, 2));
	ASSERT_EQ(0, vg_kick(&self->g));
	vnl_expect_irq(_metadata, &self->g);
	vnl_expect_used(_metadata, &self->g, TX, 0, 0);
	vnl_expect_used(_metadata, &self->g, TX, 1, 0);
	vnl_expect_used(_metadata, &self->g, RX, 0, VNL_NET_HDR_LEN + 100);
	vnl_expect_used(_metadata, &self->g, RX, 1, VNL_NET_HDR_LEN + 200);
	want_delivered(want, 2, 300);
	vnl_expect_deltas(_metadata, &self->g, self->before, want, after);

	/*
	 * The eventfd adds up signals: one more frame must bring exactly one,
	 * so the first drain did not signal twice after we read it.
	 */
	vg_arm(&self->g);
	ASSERT_NE(NULL, rx_buffer(&self->g, 2, 2048));
	ASSERT_NE(NULL, tx_frame(&self->g, 2, 50, 3));
	ASSERT_EQ(0, vg_kick(&self->g));
	vnl_expect_irq(_metadata, &self->g);
	vnl_expect_used(_metadata, &self->g, RX, 2, VNL_NET_HDR_LEN + 50);
}

/* RX chain with a device-readable descriptor: returned with length 0. */
TEST_F(basic, rx_invalid)
{
	uint32_t lens[2] = { VNL_NET_HDR_LEN, 1000 };
	uint8_t *rx = vg_alloc(&self->g, VNL_NET_HDR_LEN + 1000);

	ASSERT_NE(NULL, rx);
	memset(rx, 0xaa, VNL_NET_HDR_LEN + 1000);
	vg_chain(&self->g, RX, 4, (struct vg_seg[]){
		{ vg_gpa(rx), lens[0], VRING_DESC_F_WRITE },
		{ vg_gpa(rx + VNL_NET_HDR_LEN), lens[1], 0 } }, 2);
	vg_avail_push(&self->g, RX, 4);
	expect_dropped(_metadata, &self->g, self->before, 100,
		       VNETLOOP_C_RX_CHAIN_INVALID);
	vnl_expect_used(_metadata, &self->g, RX, 4, 0);
	/* Rejected before anything was written. */
	EXPECT_TRUE(all_bytes(rx, VNL_NET_HDR_LEN + 1000, 0xaa));
}

/* An RX chain shorter than the header cannot take a frame. */
TEST_F(basic, rx_short)
{
	uint8_t *rx = rx_buffer(&self->g, 0, VNL_NET_HDR_LEN - 1);

	ASSERT_NE(NULL, rx);
	expect_dropped(_metadata, &self->g, self->before, 100,
		       VNETLOOP_C_RX_CHAIN_INVALID);
	vnl_expect_used(_metadata, &self->g, RX, 0, 0);
	EXPECT_TRUE(all_bytes(rx, VNL_NET_HDR_LEN - 1, 0xee));
}

/* RX buffer outside guest RAM: the write fails, the chain comes back. */
TEST_F(basic, rx_unmapped)
{
	vg_desc_write(&self->g, RX, 6, unmapped_gpa(&self->g), 2048,
		      VRING_DESC_F_WRITE, 0);
	vg_avail_push(&self->g, RX, 6);
	expect_dropped(_metadata, &self->g, self->before, 100,
		       VNETLOOP_C_RX_WRITE_FAILED);
	vnl_expect_used(_metadata, &self->g, RX, 6, 0);
}

/* Header lands, data does not: the header bytes are zeroed again. */
TEST_F(basic, rx_data_unmapped)
{
	uint8_t *hdr = vg_alloc(&self->g, VNL_NET_HDR_LEN);

	ASSERT_NE(NULL, hdr);
	memset(hdr, 0xaa, VNL_NET_HDR_LEN);
	vg_chain(&self->g, RX, 0, (struct vg_seg[]){
		{ vg_gpa(hdr), VNL_NET_HDR_LEN, VRING_DESC_F_WRITE },
		{ unmapped_gpa(&self->g), 2048, VRING_DESC_F_WRITE } }, 2);
	vg_avail_push(&self->g, RX, 0);
	expect_dropped(_metadata, &self->g, self->before, 100,
		       VNETLOOP_C_RX_WRITE_FAILED);
	vnl_expect_used(_metadata, &self->g, RX, 0, 0);
	EXPECT_TRUE(all_bytes(hdr, VNL_NET_HDR_LEN, 0));
}

/*
 * Invalid TX chains: each is returned with length 0 and counted
 * as tx_chain_invalid; nothing reaches RX; the device keeps working.
 */
enum bad_tx {
	BAD_WRITE_DESC,		/* device-writable descriptor */
	BAD_SHORT,		/* shorter than the header */
	BAD_HDR_UNMAPPED,	/* header outside guest RAM */
	BAD_DATA_UNMAPPED,	/* frame bytes outside guest RAM */
	BAD_NEXT_RANGE,		/* next index >= queue size */
	BAD_LOOP,		/* descriptor loop */
	BAD_INDIRECT,		/* INDIRECT without INDIRECT_DESC */
	BAD_ADDR_WRAP,		/* address + length overflows */
	BAD_HEAD_RANGE,		/* avail entry >= queue size */
};

FIXTURE(badtx) {
	struct vg g;
};

FIXTURE_VARIANT(badtx) {
	enum bad_tx kind;
};

FIXTURE_VARIANT_ADD(badtx, write_desc) { .kind = BAD_WRITE_DESC };
FIXTURE_VARIANT_ADD(badtx, short_chain) { .kind = BAD_SHORT };
FIXTURE_VARIANT_ADD(badtx, header_unmapped) { .kind = BAD_HDR_UNMAPPED };
FIXTURE_VARIANT_ADD(badtx, data_unmapped) { .kind = BAD_DATA_UNMAPPED };
FIXTURE_VARIANT_ADD(badtx, next_out_of_range) { .kind = BAD_NEXT_RANGE };
FIXTURE_VARIANT_ADD(badtx, desc_loop) { .kind = BAD_LOOP };
FIXTURE_VARIANT_ADD(badtx, indirect) { .kind = BAD_INDIRECT };
FIXTURE_VARIANT_ADD(badtx, addr_wrap) { .kind = BAD_ADDR_WRAP };
FIXTURE_VARIANT_ADD(badtx, head_out_of_range) { .kind = BAD_HEAD_RANGE };

FIXTURE_SETUP(badtx)
{
	vnl_up(_metadata, &self->g, VG_FEATURES_EVENT_IDX, 64, 64);
}

FIXTURE_TEARDOWN(badtx)
{
	vg_close(&self->g);
}

TEST_F(badtx, chain)
{
	struct vg *g = &self->g;
	uint8_t *buf = vg_alloc(g, 4096), *rx;
	vnl_cnt_t before, after, want = { 0 };
	uint16_t head = 0;

	ASSERT_NE(NULL, buf);
	vg_fill(buf, 4096, 9);
	rx = rx_buffer(g, 0, 4096);
	ASSERT_NE(NULL, rx);
	vnl_read(_metadata, g, before);

	switch (variant->kind) {
	case BAD_WRITE_DESC:
		vg_desc_write(g, TX, 0, vg_gpa(buf), 12, VRING_DESC_F_NEXT, 1);
		vg_desc_write(g, TX, 1, vg_gpa(buf + 12), 100,
			      VRING_DESC_F_WRITE, 0);
		break;
	case BAD_SHORT:
		vg_desc_write(g, TX, 0, vg_gpa(buf), 4, VRING_DESC_F_NEXT, 1);
		vg_desc_write(g, TX, 1, vg_gpa(buf + 4), 7, 0, 0);
		break;
	case BAD_HDR_UNMAPPED:
		vg_desc_write(g, TX, 0, unmapped_gpa(g), 12, VRING_DESC_F_NEXT,
			      1);
		vg_desc_write(g, TX, 1, vg_gpa(buf), 100, 0, 0);
		break;
	case BAD_DATA_UNMAPPED:
		vg_desc_write(g, TX, 0, vg_gpa(buf), 12, VRING_DESC_F_NEXT, 1);
		vg_desc_write(g, TX, 1, unmapped_gpa(g), 100, 0, 0);
		break;
	case BAD_NEXT_RANGE:
		vg_desc_write(g, TX, 0, vg_gpa(buf), 12, VRING_DESC_F_NEXT, 64);
		break;
	case BAD_LOOP:
		vg_desc_write(g, TX, 0, vg_gpa(buf), 12, VRING_DESC_F_NEXT, 1);
		vg_desc_write(g, TX, 1, vg_gpa(buf), 10, VRING_DESC_F_NEXT, 0);
		break;
	case BAD_INDIRECT:
		/* A well-formed table, but the feature was not negotiated. */
		vg_desc_write(g, TX, 0, vg_gpa(buf + 1024), 32,
			      VRING_DESC_F_INDIRECT, 0);
		((struct vring_desc *)(buf + 1024))[0] = (struct vring_desc){
			htole64(vg_gpa(buf)), htole32(12),
			htole16(VRING_DESC_F_NEXT), htole16(1) };
		((struct vring_desc *)(buf + 1024))[1] = (struct vring_desc){
			htole64(vg_gpa(buf + 12)), htole32(100), 0, 0 };
		break;
	case BAD_ADDR_WRAP:
		vg_desc_write(g, TX, 0, vg_gpa(buf), 12, VRING_DESC_F_NEXT, 1);
		vg_desc_write(g, TX, 1, UINT64_MAX - 15, 100, 0, 0);
		break;
	case BAD_HEAD_RANGE:
		head = 64;
		break;
	}
	vg_avail_push(g, TX, head);
	ASSERT_EQ(0, vg_kick(g));

	want[VNETLOOP_C_TX_CHAIN_INVALID] = 1;
	if (variant->kind == BAD_HEAD_RANGE) {
		/* No used entry can name it: the used write fails instead. */
		want[VNETLOOP_C_TX_ADD_USED_FAILURES] = 1;
		vnl_expect_deltas(_metadata, g, before, want, after);
		EXPECT_EQ(0, vg_used_pending(g, TX));
	} else {
		vnl_expect_irq(_metadata, g);
		vnl_expect_used(_metadata, g, TX, head, 0);
		vnl_expect_deltas(_metadata, g, before, want, after);
	}
	EXPECT_EQ(0, vg_used_pending(g, RX));
	EXPECT_TRUE(all_bytes(rx, 4096, 0xee));

	/* The next valid frame goes through, with exactly one interrupt. */
	vg_arm(g);
	ASSERT_NE(NULL, tx_frame(g, 10, 500, 4));
	expect_delivered(_metadata, g, after, 10, 0, 500, true);
}

VNL_TEST_MAIN
