// SPDX-License-Identifier: GPL-2.0
/*
 * The control queue (SPEC 4a, core/vnl_ctrl.c): VQ_PAIRS_SET in and out of
 * range, the filter classes, unknown commands, every malformed chain, a
 * failed used write, a hostile avail index, interrupts, reset, and the
 * features it takes.
 */
#include "engine_test.h"

VQ_FIXTURE(ctrl)

#define MAX_PAIRS	4
#define CTRL_NUM	8
#define ACK_FILL	VQT_RX_FILL	/* the ack byte before the device acks */

#define F_BASE	((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MAC))
#define F_CTRL	(1ULL << VIRTIO_NET_F_CTRL_VQ)
#define F_MQ	(1ULL << VIRTIO_NET_F_MQ)
#define F_EIDX	(1ULL << VIRTIO_RING_F_EVENT_IDX)

/* A device-readable and a device-writable descriptor. */
#define RD(gpa, len)	((struct virtq_buf){ (gpa), (len), 0 })
#define WR(gpa, len)	((struct virtq_buf){ (gpa), (len), VRING_DESC_F_WRITE })

#define CTRL_VRING	VIRTIO_MMIO_INT_VRING
#define CTRL_POISONED	(VQT_DRAIN_POISONED_CTRL | VIRTIO_MMIO_INT_CONFIG)

/* Maximum pairs MAX_PAIRS, features f, RX and TX of 4, control of 8. */
static int setup_ctrl(struct vqt *t, u64 f)
{
	int ret;

	vnl_engine_set_max_pairs(&t->eng, MAX_PAIRS);
	ret = vnl_engine_set_features(&t->eng, f);
	if (!ret)
		ret = vqt_config(t, VQT_RX, 4);
	if (!ret)
		ret = vqt_config(t, VQT_TX, 4);
	if (!ret)
		ret = vqt_config(t, VQT_CTRL, CTRL_NUM);
	if (!ret)
		vnl_engine_start(&t->eng);
	return ret;
}

/* len guest bytes holding p; the address. */
static u64 put_bytes(struct vqt *t, const void *p, u32 len)
{
	u64 gpa = vqt_alloc(t, len);

	memcpy(vqt_ptr(t, gpa), p, len);
	return gpa;
}

/* A one-byte ack buffer holding ACK_FILL. */
static u64 ack_buf(struct vqt *t)
{
	const u8 fill = ACK_FILL;

	return put_bytes(t, &fill, 1);
}

/*
 * The usual command: the header, the data (if dlen) and the ack, one
 * descriptor each. *ack gets the ack's address.
 */
static u16 command(struct vqt *t, u8 class, u8 cmd, const void *data,
		   u32 dlen, u64 *ack)
{
	struct virtio_net_ctrl_hdr h = { .class = class, .cmd = cmd };
	struct virtq_buf s[3];
	unsigned int n = 0;

	s[n++] = RD(put_bytes(t, &h, sizeof(h)), sizeof(h));
	if (dlen)
		s[n++] = RD(put_bytes(t, data, dlen), dlen);
	*ack = ack_buf(t);
	s[n++] = WR(*ack, 1);
	return vqt_chain(t, VQT_CTRL, s, n);
}

static u16 pairs_set(struct vqt *t, u16 pairs, u64 *ack)
{
	__le16 v = cpu_to_le16(pairs);

	return command(t, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
		       &v, sizeof(v), ack);
}

static u8 ack_byte(struct vqt *t, u64 ack)
{
	return *(u8 *)vqt_ptr(t, ack);
}

/*
 * One drain acks the command at head (the idx-th on the ring) with
 * status, used length 1, and raises the control queue's interrupt.
 */
#define EXPECT_ACKED(t, head, idx, ack, status) do {			\
	EXPECT_DRAIN_CTRL(t, CTRL_VRING);				\
	EXPECT_EQ((u16)((idx) + 1), vqt_used_idx(t, VQT_CTRL));		\
	EXPECT_USED(t, VQT_CTRL, idx, head, 1);				\
	EXPECT_EQ((u8)(status), ack_byte(t, ack));			\
	EXPECT_EQ(1U << VQT_CTRL, (t)->irq_vqs);			\
} while (0)

#define EXPECT_DRAIN_CTRL(t, bits)					\
	EXPECT_EQ((unsigned int)(bits), vqt_ctrl_drain(t))

/*
 * One drain rejects the chain at head: ctrl_chain_invalid alone, used
 * {head, 0}, the op not called, no guest byte written but the used ring
 * (the ack keeps its fill).
 */
static void expect_invalid(struct __test_metadata *_metadata, struct vqt *t,
			   u16 head)
{
	struct vqt_range used;

	ASSERT_EQ(0, vqt_snapshot(t));
	vqt_mark(t);
	EXPECT_DRAIN_CTRL(t, CTRL_VRING);
	EXPECT_DELTA(t, D(CTRL_CHAIN_INVALID) = 1);
	EXPECT_EQ(1, vqt_used_idx(t, VQT_CTRL));
	EXPECT_USED(t, VQT_CTRL, 0, head, 0);
	EXPECT_EQ(0u, t->set_pairs_calls);
	used = vqt_used_range(t, VQT_CTRL);
	EXPECT_EQ(0ul, vqt_changed_outside(t, &used, 1));
	EXPECT_FALSE(vqt_needs_reset(t));
}

/* A well-formed PAIRS_SET(2) header and data, for the malformed chains. */
static void pairs2(struct vqt *t, struct virtq_buf *h, struct virtq_buf *d)
{
	struct virtio_net_ctrl_hdr hdr = {
		.class = VIRTIO_NET_CTRL_MQ,
		.cmd = VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
	};
	__le16 v = cpu_to_le16(2);

	*h = RD(put_bytes(t, &hdr, sizeof(hdr)), sizeof(hdr));
	*d = RD(put_bytes(t, &v, sizeof(v)), sizeof(v));
}

TEST_F(ctrl, pairs_set_in_range)
{
	static const u16 n[] = { 1, 3, MAX_PAIRS };
	struct vqt *t = &self->t;
	unsigned int i;
	u16 head;
	u64 ack;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	for (i = 0; i < ARRAY_SIZE(n); i++) {
		head = pairs_set(t, n[i], &ack);
		vqt_mark(t);
		EXPECT_ACKED(t, head, i, ack, VIRTIO_NET_OK);
		EXPECT_DELTA(t, D(CTRL_MQ_SET) = 1);
		EXPECT_EQ(i + 1, t->set_pairs_calls);
		EXPECT_EQ(n[i], t->set_pairs_arg);
	}
	EXPECT_EQ(1u, vqt_delta(t, VNETLOOP_C_INTERRUPTS));
	EXPECT_FALSE(vqt_needs_reset(t));
}

/*
 * The control queue's drain keeps no time: drain_ns is vnl_drain()'s,
 * as worker_runs is (the home's run counts once).
 */
TEST_F(ctrl, no_time_counted)
{
	struct vqt *t = &self->t;
	u16 head;
	u64 ack;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	vqt_fake_clock(t, 1000);
	head = pairs_set(t, 2, &ack);
	vqt_mark(t);
	EXPECT_ACKED(t, head, 0, ack, VIRTIO_NET_OK);
	EXPECT_EQ(1u, vqt_delta(t, VNETLOOP_C_CTRL_MQ_SET));
	EXPECT_EQ(0ul, t->clock_reads);
	EXPECT_EQ(0u, vqt_delta(t, VNETLOOP_C_WORKER_RUNS));
	EXPECT_EQ(0u, vqt_delta(t, VNETLOOP_C_DRAIN_NS));
}

TEST_F(ctrl, pairs_set_out_of_range)
{
	static const u16 n[] = { 0, MAX_PAIRS + 1, 0xffff };
	struct vqt *t = &self->t;
	unsigned int i;
	u16 head;
	u64 ack;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	for (i = 0; i < ARRAY_SIZE(n); i++) {
		head = pairs_set(t, n[i], &ack);
		vqt_mark(t);
		EXPECT_ACKED(t, head, i, ack, VIRTIO_NET_ERR);
		EXPECT_DELTA(t, 0);
	}
	EXPECT_EQ(0u, t->set_pairs_calls);
}

TEST_F(ctrl, pairs_set_op_fails)
{
	struct vqt *t = &self->t;
	u16 head;
	u64 ack;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	t->set_pairs_ret = -ENOMEM;
	head = pairs_set(t, 2, &ack);
	vqt_mark(t);
	EXPECT_ACKED(t, head, 0, ack, VIRTIO_NET_ERR);
	EXPECT_DELTA(t, 0);
	EXPECT_EQ(1u, t->set_pairs_calls);
	EXPECT_EQ(2, t->set_pairs_arg);
}

/* A le16 cut to one byte, or MQ not negotiated: ERR, nothing called. */
TEST_F(ctrl, pairs_set_refused)
{
	struct vqt *t = &self->t;
	u8 one = 2;
	u16 head;
	u64 ack;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL));
	head = pairs_set(t, 2, &ack);
	vqt_mark(t);
	EXPECT_ACKED(t, head, 0, ack, VIRTIO_NET_ERR);
	head = command(t, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
		       &one, 1, &ack);
	EXPECT_ACKED(t, head, 1, ack, VIRTIO_NET_ERR);
	EXPECT_DELTA(t, 0);
	EXPECT_EQ(0u, t->set_pairs_calls);
}

/* The header and the le16 split across four one-byte descriptors. */
TEST_F(ctrl, pairs_set_scattered)
{
	const u8 b[4] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
			  3, 0 };
	struct virtq_buf s[5];
	struct vqt *t = &self->t;
	unsigned int i;
	u16 head;
	u64 ack;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	for (i = 0; i < 4; i++)
		s[3 - i] = RD(put_bytes(t, &b[3 - i], 1), 1);
	ack = ack_buf(t);
	s[4] = WR(ack, 1);
	head = vqt_chain(t, VQT_CTRL, s, 5);
	vqt_mark(t);
	EXPECT_ACKED(t, head, 0, ack, VIRTIO_NET_OK);
	EXPECT_DELTA(t, D(CTRL_MQ_SET) = 1);
	EXPECT_EQ(3, t->set_pairs_arg);
}

TEST_F(ctrl, filter_classes_ok)
{
	static const u8 mac[ETH_ALEN] = { 2, 0, 0, 0, 0, 1 };
	static const u8 tables[8];	/* two empty MAC tables */
	const __le16 vid = cpu_to_le16(5);
	const u8 on = 1;
	struct vqt *t = &self->t;
	u16 head;
	u64 ack;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	vqt_mark(t);
	head = command(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC,
		       &on, 1, &ack);
	EXPECT_ACKED(t, head, 0, ack, VIRTIO_NET_OK);
	head = command(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOBCAST,
		       &on, 1, &ack);
	EXPECT_ACKED(t, head, 1, ack, VIRTIO_NET_OK);
	head = command(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET,
		       mac, sizeof(mac), &ack);
	EXPECT_ACKED(t, head, 2, ack, VIRTIO_NET_OK);
	head = command(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET,
		       tables, sizeof(tables), &ack);
	EXPECT_ACKED(t, head, 3, ack, VIRTIO_NET_OK);
	head = command(t, VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD,
		       &vid, sizeof(vid), &ack);
	EXPECT_ACKED(t, head, 4, ack, VIRTIO_NET_OK);
	head = command(t, VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_DEL,
		       &vid, sizeof(vid), &ack);
	EXPECT_ACKED(t, head, 5, ack, VIRTIO_NET_OK);
	EXPECT_DELTA(t, 0);
	EXPECT_EQ(0u, t->set_pairs_calls);
}

/* Known classes with too little data, or commands they do not have. */
TEST_F(ctrl, filter_classes_short_data_err)
{
	const u8 five[5] = { 0 };
	struct vqt *t = &self->t;
	u16 head;
	u64 ack;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	vqt_mark(t);
	head = command(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC,
		       NULL, 0, &ack);
	EXPECT_ACKED(t, head, 0, ack, VIRTIO_NET_ERR);
	head = command(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET,
		       five, sizeof(five), &ack);
	EXPECT_ACKED(t, head, 1, ack, VIRTIO_NET_ERR);
	head = command(t, VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD,
		       five, 1, &ack);
	EXPECT_ACKED(t, head, 2, ack, VIRTIO_NET_ERR);
	head = command(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOBCAST + 1,
		       five, 1, &ack);
	EXPECT_ACKED(t, head, 3, ack, VIRTIO_NET_ERR);
	EXPECT_DELTA(t, 0);
}

TEST_F(ctrl, unknown_commands_err)
{
	const u8 data[4] = { 1, 0, 0, 0 };
	struct vqt *t = &self->t;
	u16 head;
	u64 ack;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	vqt_mark(t);
	head = command(t, VIRTIO_NET_CTRL_ANNOUNCE,
		       VIRTIO_NET_CTRL_ANNOUNCE_ACK, NULL, 0, &ack);
	EXPECT_ACKED(t, head, 0, ack, VIRTIO_NET_ERR);
	head = command(t, 0xff, 0, data, sizeof(data), &ack);
	EXPECT_ACKED(t, head, 1, ack, VIRTIO_NET_ERR);
	head = command(t, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_RSS_CONFIG,
		       data, sizeof(data), &ack);
	EXPECT_ACKED(t, head, 2, ack, VIRTIO_NET_ERR);
	head = command(t, VIRTIO_NET_CTRL_GUEST_OFFLOADS,
		       VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET, data, sizeof(data),
		       &ack);
	EXPECT_ACKED(t, head, 3, ack, VIRTIO_NET_ERR);
	EXPECT_DELTA(t, 0);
	EXPECT_EQ(0u, t->set_pairs_calls);
}

TEST_F(ctrl, invalid_no_ack)
{
	struct virtq_buf s[2];
	struct vqt *t = &self->t;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	pairs2(t, &s[0], &s[1]);
	expect_invalid(_metadata, t, vqt_chain(t, VQT_CTRL, s, 2));
}

TEST_F(ctrl, invalid_ack_zero_length)
{
	struct virtq_buf s[3];
	struct vqt *t = &self->t;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	pairs2(t, &s[0], &s[1]);
	s[2] = WR(ack_buf(t), 0);
	expect_invalid(_metadata, t, vqt_chain(t, VQT_CTRL, s, 3));
}

/* Two writable descriptors: the ack is not the one and last. */
TEST_F(ctrl, invalid_ack_not_last)
{
	struct virtq_buf s[4];
	struct vqt *t = &self->t;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	pairs2(t, &s[0], &s[1]);
	s[2] = WR(ack_buf(t), 1);
	s[3] = WR(ack_buf(t), 1);
	expect_invalid(_metadata, t, vqt_chain(t, VQT_CTRL, s, 4));
}

TEST_F(ctrl, invalid_short_header)
{
	const u8 class = VIRTIO_NET_CTRL_RX;
	struct virtq_buf s[2];
	struct vqt *t = &self->t;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	s[0] = RD(put_bytes(t, &class, 1), 1);
	s[1] = WR(ack_buf(t), 1);
	expect_invalid(_metadata, t, vqt_chain(t, VQT_CTRL, s, 2));
}

/* No header at all: the ack alone. */
TEST_F(ctrl, invalid_ack_only)
{
	struct virtq_buf s[1];
	struct vqt *t = &self->t;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	s[0] = WR(ack_buf(t), 1);
	expect_invalid(_metadata, t, vqt_chain(t, VQT_CTRL, s, 1));
}

TEST_F(ctrl, invalid_readable_after_writable)
{
	struct virtq_buf s[3], d;
	struct vqt *t = &self->t;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	pairs2(t, &s[0], &d);
	s[1] = WR(ack_buf(t), 1);
	s[2] = d;
	expect_invalid(_metadata, t, vqt_chain(t, VQT_CTRL, s, 3));
}

/* Data outside guest RAM, even past the bytes a command looks at. */
TEST_F(ctrl, invalid_data_unreadable)
{
	struct virtq_buf s[4];
	struct vqt *t = &self->t;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	pairs2(t, &s[0], &s[1]);
	s[2] = RD(VQT_GPA_ABOVE, 16);
	s[3] = WR(ack_buf(t), 1);
	expect_invalid(_metadata, t, vqt_chain(t, VQT_CTRL, s, 4));
}

TEST_F(ctrl, invalid_ack_unbacked)
{
	struct virtq_buf s[3];
	struct vqt *t = &self->t;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	pairs2(t, &s[0], &s[1]);
	s[2] = WR(VQT_GPA_BELOW, 1);
	expect_invalid(_metadata, t, vqt_chain(t, VQT_CTRL, s, 3));
}

/* The ack in guest RAM the device may only read. */
TEST_F(ctrl, invalid_ack_read_only)
{
	struct virtq_buf s[3];
	struct vqt *t = &self->t;
	struct vnl_region r[2];
	u64 ack;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	pairs2(t, &s[0], &s[1]);
	ack = ack_buf(t);
	s[2] = WR(ack, 1);
	/* The region split at the ack's page; the upper half read-only. */
	r[0] = t->region;
	r[0].size = (ack & ~0xfffULL) - VQT_GPA_BASE;
	r[1] = t->region;
	r[1].gpa += r[0].size;
	r[1].hva += r[0].size;
	r[1].size -= r[0].size;
	r[1].deny = VNL_WRITE;
	ASSERT_EQ(0, vnl_engine_set_mem(&t->eng, r, 2));
	expect_invalid(_metadata, t, vqt_chain(t, VQT_CTRL, s, 3));
}

/* A descriptor that chains to itself: the walk ends at num. */
TEST_F(ctrl, invalid_loop)
{
	struct virtq_buf s[3];
	struct vqt *t = &self->t;
	u16 head;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	pairs2(t, &s[0], &s[1]);
	s[2] = WR(ack_buf(t), 1);
	head = vqt_chain(t, VQT_CTRL, s, 3);
	vqt_desc_set(t, VQT_CTRL, head + 1, s[1].gpa, s[1].len,
		     VRING_DESC_F_NEXT, head + 1);
	expect_invalid(_metadata, t, head);
}

TEST_F(ctrl, invalid_next_out_of_range)
{
	struct virtq_buf s[3];
	struct vqt *t = &self->t;
	u16 head;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	pairs2(t, &s[0], &s[1]);
	s[2] = WR(ack_buf(t), 1);
	head = vqt_chain(t, VQT_CTRL, s, 3);
	vqt_desc_set(t, VQT_CTRL, head, s[0].gpa, s[0].len,
		     VRING_DESC_F_NEXT, CTRL_NUM);
	expect_invalid(_metadata, t, head);
}

TEST_F(ctrl, invalid_indirect)
{
	struct virtq_buf s[3];
	struct vqt *t = &self->t;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	pairs2(t, &s[0], &s[1]);
	s[0].flags = VRING_DESC_F_INDIRECT;
	s[2] = WR(ack_buf(t), 1);
	expect_invalid(_metadata, t, vqt_chain(t, VQT_CTRL, s, 3));
}

/*
 * An avail entry naming a head past the table: invalid, and no used entry
 * can name it, so that is an add_used failure too.
 */
TEST_F(ctrl, invalid_head_out_of_range)
{
	struct vqt *t = &self->t;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	vqt_avail_put(t, VQT_CTRL, CTRL_NUM);
	vqt_mark(t);
	EXPECT_DRAIN_CTRL(t, 0);
	EXPECT_DELTA(t, D(CTRL_CHAIN_INVALID) = 1,
		     D(CTRL_ADD_USED_FAILURES) = 1);
	EXPECT_EQ(0, vqt_used_idx(t, VQT_CTRL));
	EXPECT_FALSE(vqt_needs_reset(t));
}

/* The used ring outside guest RAM: the command acts and acks, uncompleted. */
TEST_F(ctrl, used_write_fails)
{
	struct vqt *t = &self->t;
	u64 ack;

	vnl_engine_set_max_pairs(&t->eng, MAX_PAIRS);
	ASSERT_EQ(0, vnl_engine_set_features(&t->eng, F_BASE | F_CTRL | F_MQ));
	ASSERT_EQ(0, vqt_config_at(t, VQT_CTRL, CTRL_NUM,
				   VQT_RING_DESC(VQT_CTRL),
				   VQT_RING_AVAIL(VQT_CTRL), VQT_GPA_ABOVE));
	vnl_engine_start(&t->eng);
	pairs_set(t, 2, &ack);
	vqt_mark(t);
	EXPECT_DRAIN_CTRL(t, 0);
	EXPECT_DELTA(t, D(CTRL_MQ_SET) = 1, D(CTRL_ADD_USED_FAILURES) = 1);
	EXPECT_EQ(VIRTIO_NET_OK, ack_byte(t, ack));
	EXPECT_EQ(1u, t->set_pairs_calls);
	EXPECT_FALSE(vqt_needs_reset(t));
}

/*
 * A hostile avail index poisons the control queue: counted once, CONFIG,
 * NEEDS_RESET; nothing more until reset, and the data queues go on.
 */
TEST_F(ctrl, hostile_avail_idx_poisons)
{
	struct vqt *t = &self->t;
	u16 th, rh;
	u64 ack, rx;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	pairs_set(t, 2, &ack);
	vqt_avail_set_idx(t, VQT_CTRL, CTRL_NUM + 1);
	vqt_mark(t);
	EXPECT_DRAIN_CTRL(t, CTRL_POISONED);
	EXPECT_DELTA(t, D(INVALID_AVAIL_IDX_COUNT) = 1);
	EXPECT_TRUE(vqt_needs_reset(t));
	EXPECT_EQ(0u, t->irq_vqs);
	EXPECT_EQ(0u, t->set_pairs_calls);
	EXPECT_EQ(ACK_FILL, ack_byte(t, ack));

	/* A sane index again changes nothing: poisoned until reset. */
	vqt_avail_set_idx(t, VQT_CTRL, 1);
	vqt_mark(t);
	EXPECT_DRAIN_CTRL(t, 0);
	EXPECT_DELTA(t, 0);
	EXPECT_EQ(0, vqt_used_idx(t, VQT_CTRL));
	EXPECT_EQ(0u, t->set_pairs_calls);

	rh = vqt_rx_buf(t, 256, &rx);
	th = vqt_tx_frame(t, 30, 3, NULL);
	EXPECT_FRAME(t, VIRTIO_MMIO_INT_VRING, th, 0, rh, 0, rx, 30, 3);
}

/*
 * EVENT_IDX: the first entry always interrupts, then used_event decides;
 * avail_event asks for the next kick.
 */
TEST_F(ctrl, event_idx)
{
	struct vqt *t = &self->t;
	u16 head;
	u64 ack;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ | F_EIDX));
	head = pairs_set(t, 2, &ack);
	EXPECT_ACKED(t, head, 0, ack, VIRTIO_NET_OK);
	EXPECT_EQ(1, vqt_avail_event(t, VQT_CTRL));

	/* used_event 5: used 1 -> 2 does not cross it. */
	vqt_set_used_event(t, VQT_CTRL, 5);
	t->irq_vqs = 0;
	head = pairs_set(t, 3, &ack);
	vqt_mark(t);
	EXPECT_DRAIN_CTRL(t, 0);
	EXPECT_DELTA(t, D(CTRL_MQ_SET) = 1);
	EXPECT_EQ(2, vqt_used_idx(t, VQT_CTRL));
	EXPECT_USED(t, VQT_CTRL, 1, head, 1);
	EXPECT_EQ(VIRTIO_NET_OK, ack_byte(t, ack));
	EXPECT_EQ(0u, t->irq_vqs);
	EXPECT_EQ(2, vqt_avail_event(t, VQT_CTRL));

	/* used_event 2: used 2 -> 3 crosses it. */
	vqt_set_used_event(t, VQT_CTRL, 2);
	head = pairs_set(t, 4, &ack);
	EXPECT_ACKED(t, head, 2, ack, VIRTIO_NET_OK);
}

TEST_F(ctrl, no_interrupt_flag)
{
	struct vqt *t = &self->t;
	u16 head;
	u64 ack;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	vqt_avail_set_flags(t, VQT_CTRL, VRING_AVAIL_F_NO_INTERRUPT);
	head = pairs_set(t, 2, &ack);
	EXPECT_DRAIN_CTRL(t, 0);
	EXPECT_EQ(1, vqt_used_idx(t, VQT_CTRL));
	EXPECT_USED(t, VQT_CTRL, 0, head, 1);
	EXPECT_EQ(0ul, t->interrupts);

	vqt_avail_set_flags(t, VQT_CTRL, 0);
	head = pairs_set(t, 3, &ack);
	EXPECT_ACKED(t, head, 1, ack, VIRTIO_NET_OK);
}

/* The data drain leaves the control queue alone, and the reverse. */
TEST_F(ctrl, drains_separate)
{
	struct vqt *t = &self->t;
	u16 th, rh, head;
	u64 ack, rx;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	head = pairs_set(t, 2, &ack);
	rh = vqt_rx_buf(t, 256, &rx);
	th = vqt_tx_frame(t, 40, 4, NULL);
	EXPECT_FRAME(t, VIRTIO_MMIO_INT_VRING, th, 0, rh, 0, rx, 40, 4);
	EXPECT_EQ(1U << VQT_TX | 1U << VQT_RX, t->irq_vqs);
	EXPECT_EQ(0, vqt_used_idx(t, VQT_CTRL));
	EXPECT_EQ(0u, t->set_pairs_calls);
	vqt_mark(t);
	EXPECT_ACKED(t, head, 0, ack, VIRTIO_NET_OK);
	EXPECT_DELTA(t, D(CTRL_MQ_SET) = 1);
	EXPECT_EQ(1, vqt_used_idx(t, VQT_TX));
}

/*
 * Reset clears the control queue like the others and keeps the maximum:
 * set up again, it starts from index 0.
 */
TEST_F(ctrl, reset)
{
	struct vnl_queue_state s;
	struct vqt *t = &self->t;
	u16 head;
	u64 ack;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	pairs_set(t, 2, &ack);
	vqt_avail_set_idx(t, VQT_CTRL, 100);
	EXPECT_DRAIN_CTRL(t, CTRL_POISONED);
	vnl_engine_reset(&t->eng);
	vnl_engine_queue_state(&t->eng, VQT_CTRL, &s);
	EXPECT_EQ(0, s.num);
	EXPECT_FALSE(s.ready);
	EXPECT_FALSE(s.poisoned);
	EXPECT_EQ(0, s.last_avail);
	EXPECT_FALSE(vnl_engine_queue_ready(&t->eng, VQT_CTRL));
	EXPECT_FALSE(vqt_needs_reset(t));
	EXPECT_EQ(0u, vnl_engine_isr(&t->eng));
	EXPECT_EQ(0ull, vnl_engine_features(&t->eng));
	vqt_mark(t);
	EXPECT_DRAIN_CTRL(t, 0);
	EXPECT_DELTA(t, 0);

	memset(vqt_ptr(t, VQT_GPA_BASE), 0, VQT_DATA_BASE - VQT_GPA_BASE);
	vqt_alloc_reset(t);
	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	EXPECT_TRUE(vnl_engine_queue_ready(&t->eng, VQT_CTRL));
	head = pairs_set(t, 3, &ack);
	vqt_mark(t);
	EXPECT_ACKED(t, head, 0, ack, VIRTIO_NET_OK);
	EXPECT_DELTA(t, D(CTRL_MQ_SET) = 1);
	EXPECT_EQ(3, t->set_pairs_arg);
}

/* set_base and queue_state work on the control queue as on the others. */
TEST_F(ctrl, base)
{
	struct vnl_queue_state s;
	struct vqt *t = &self->t;
	u16 head;
	u64 ack;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE | F_CTRL | F_MQ));
	vnl_engine_set_base(&t->eng, VQT_CTRL, 6);
	t->q[VQT_CTRL].vq.avail_idx = 6;
	t->q[VQT_CTRL].next_desc = 6;
	head = pairs_set(t, 2, &ack);
	EXPECT_ACKED(t, head, 6, ack, VIRTIO_NET_OK);
	vnl_engine_queue_state(&t->eng, VQT_CTRL, &s);
	EXPECT_EQ(7, s.last_avail);
	EXPECT_EQ(7, s.used_idx);
	EXPECT_EQ(CTRL_NUM, s.num);
	EXPECT_EQ(7, vnl_engine_base(&t->eng, VQT_CTRL));
}

/*
 * Without set_max_pairs there is no control queue: CTRL_VQ and MQ are
 * refused, and so is its ring. MQ never goes without CTRL_VQ.
 */
TEST_F(ctrl, features_need_max_pairs)
{
	struct vqt *t = &self->t;

	EXPECT_EQ(0ull, VNETLOOP_FEATURES & VNETLOOP_FEATURES_MQ);
	EXPECT_EQ(-EINVAL, vnl_engine_set_features(&t->eng, F_BASE | F_CTRL));
	EXPECT_EQ(-EINVAL, vnl_engine_set_features(&t->eng, F_BASE | F_MQ));
	EXPECT_EQ(-EINVAL,
		  vnl_engine_set_features(&t->eng, F_BASE | F_CTRL | F_MQ));
	EXPECT_EQ(-EINVAL, vqt_config(t, VQT_CTRL, CTRL_NUM));
	EXPECT_EQ(0, vnl_engine_set_features(&t->eng, F_BASE));

	vnl_engine_set_max_pairs(&t->eng, 1);
	EXPECT_EQ(-EINVAL, vnl_engine_set_features(&t->eng, F_BASE | F_MQ));
	EXPECT_EQ(0, vnl_engine_set_features(&t->eng, F_BASE | F_CTRL));
	EXPECT_EQ(0, vnl_engine_set_features(&t->eng, F_BASE | F_CTRL | F_MQ));
	EXPECT_EQ(0, vqt_config(t, VQT_CTRL, CTRL_NUM));
	EXPECT_EQ(-EINVAL, vnl_engine_set_vring(&t->eng, VNETLOOP_ENGINE_QUEUES,
						CTRL_NUM,
						VQT_RING_DESC(VQT_CTRL),
						VQT_RING_AVAIL(VQT_CTRL),
						VQT_RING_USED(VQT_CTRL)));

	vnl_engine_set_max_pairs(&t->eng, 0);
	EXPECT_EQ(-EINVAL, vnl_engine_set_features(&t->eng, F_BASE | F_CTRL));
}

/* A control queue set up but CTRL_VQ not negotiated: never drained. */
TEST_F(ctrl, not_negotiated)
{
	struct vqt *t = &self->t;
	u64 ack;

	ASSERT_EQ(0, setup_ctrl(t, F_BASE));
	pairs_set(t, 2, &ack);
	vqt_mark(t);
	EXPECT_DRAIN_CTRL(t, 0);
	EXPECT_DELTA(t, 0);
	EXPECT_EQ(0, vqt_used_idx(t, VQT_CTRL));
	EXPECT_EQ(0u, t->set_pairs_calls);
}

TEST_HARNESS_MAIN
