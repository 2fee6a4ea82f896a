// SPDX-License-Identifier: GPL-2.0
/*
 * Traffic over every queue pair of a multiqueue device (SPEC 4a). The
 * control queue takes VQ_PAIRS_SET: out of range it must ack ERR, to every
 * pair OK. Then each round sends a batch of frames on each pair's TX queue
 * (one kick a pair), with as many RX buffers posted on each pair's RX
 * queue, and waits for all of them: a frame must come back on its own
 * pair's RX queue, whole, in the order it was sent (the device keeps a
 * queue's order). Each pair has its own QSIZE / pairs of the buffers.
 * Completions are polled; the interrupts that come (pairs past 0 share
 * pair 0's MSI-X vectors) are taken as they come.
 */
#include "mq.h"

/* A command and its ack, in the buffers of pair 0's TX slot. */
struct mq_cmd {
	struct virtio_net_ctrl_hdr hdr;
	__le16 pairs;
	u8 ack;
};

static void mq_expect(enum vnl_expect c, u64 v)
{
	result.expect[c] += v;
}

static void mq_irqs(struct vdev *d)
{
	if (irq_pending)
		vdev_isr(d);
}

/* Spin until virtqueue index has a used entry; false after a stall. */
static bool mq_used(struct vdev *d, unsigned int index, u32 *id, u32 *len)
{
	u64 start = ticks;

	while (!vdev_get_used(d, vdev_vq(d, index), id, len)) {
		mq_irqs(d);
		if (ticks - start > STALL_TICKS) {
			fail("queue %u: no used entry for %u s", index,
			     STALL_TICKS * TICK_MS / 1000);
			return false;
		}
		asm volatile("pause");
	}
	return true;
}

/* VQ_PAIRS_SET n: the ack, or 0xff on a failure. */
static u8 mq_pairs_set(const struct mq_ctx *c, u16 n)
{
	struct vdev *d = c->dev;
	unsigned int ctrl = 2 * d->pairs;
	struct mq_cmd *cmd = (struct mq_cmd *)c->tx_bufs;
	struct virtq_buf b[2] = {
		{ (uintptr_t)cmd, sizeof(cmd->hdr) + sizeof(cmd->pairs), 0 },
		{ (uintptr_t)&cmd->ack, 1, VRING_DESC_F_WRITE },
	};
	u32 id, len;

	cmd->hdr.class = VIRTIO_NET_CTRL_MQ;
	cmd->hdr.cmd = VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET;
	cmd->pairs = n;
	cmd->ack = 0xee;
	if (!CHECK(virtq_add(vdev_vq(d, ctrl), b, 2) >= 0,
		   "control queue full"))
		return 0xff;
	vdev_publish_index(d, ctrl);
	if (!mq_used(d, ctrl, &id, &len))
		return 0xff;
	CHECK(len == 1, "control queue: used length %u, want 1", len);
	return cmd->ack;
}

/* Pair p's k-th buffer of a round: slot p * per + k of rx_bufs, tx_bufs. */
static u64 mq_slot(const struct mq_ctx *c, unsigned int p, u32 k)
{
	return ((u64)p * (QSIZE / c->dev->pairs) + k) * c->stride;
}

static bool mq_check(const struct mq_ctx *c, unsigned int pair, u32 k,
		     u32 frame, u32 len)
{
	static const struct virtio_net_hdr_v1 hdr = { .num_buffers = 1 };
	const u8 *buf = c->rx_bufs + mq_slot(c, pair, k);

	result.frames_received++;
	if (len != VNL_NET_HDR_LEN + c->frame_size ||
	    memcmp(buf, &hdr, sizeof(hdr))) {
		result.mismatches++;
		fail("pair %u, frame %u: used length %u or header wrong",
		     pair, frame, len);
		return false;
	}
	for (u32 j = 0; j < c->frame_size; j++) {
		if (buf[VNL_NET_HDR_LEN + j] != scenario_pattern(frame, j)) {
			result.mismatches++;
			fail("pair %u, frame %u: byte %u is 0x%x, want 0x%x (another pair's frame?)",
			     pair, frame, j, buf[VNL_NET_HDR_LEN + j],
			     scenario_pattern(frame, j));
			return false;
		}
	}
	result.frames_verified++;
	result.bytes_verified += c->frame_size;
	return true;
}

/*
 * Frames first + p * b + k (k < b) on pair p, for the first n pairs: sent,
 * all back.
 */
static bool mq_round(const struct mq_ctx *c, u32 first, unsigned int n,
		     u32 b)
{
	struct vdev *d = c->dev;
	u32 id, len;

	for (unsigned int p = 0; p < n; p++) {
		for (u32 k = 0; k < b; k++) {
			u8 *tx = c->tx_bufs + mq_slot(c, p, k);
			struct virtq_buf rb = {
				(uintptr_t)c->rx_bufs + mq_slot(c, p, k),
				VNL_NET_HDR_LEN + c->frame_size,
				VRING_DESC_F_WRITE,
			};
			struct virtq_buf tb = {
				(uintptr_t)tx, VNL_NET_HDR_LEN + c->frame_size,
				0,
			};

			/* Another pair's frame would not match this pattern. */
			memset((void *)(uintptr_t)rb.gpa, 0, rb.len);
			scenario_fill(tx, first + p * b + k, c->frame_size);
			if (!CHECK(virtq_add(vdev_vq(d, 2 * p), &rb, 1) >= 0 &&
				   virtq_add(vdev_vq(d, 2 * p + 1), &tb, 1) >= 0,
				   "pair %u: ring full", p))
				return false;
		}
		vdev_publish_index(d, 2 * p);
		vdev_publish_index(d, 2 * p + 1);
		result.frames_sent += b;
		mq_expect(VNL_X_TX_PACKETS, b);
		mq_expect(VNL_X_TX_BYTES, (u64)b * c->frame_size);
		mq_expect(VNL_X_RX_PACKETS, b);
		mq_expect(VNL_X_RX_BYTES, (u64)b * c->frame_size);
	}
	for (unsigned int p = 0; p < n; p++) {
		for (u32 k = 0; k < b; k++) {
			if (!mq_used(d, 2 * p + 1, &id, &len) ||
			    !CHECK(len == 0, "pair %u: TX used length %u", p,
				   len) ||
			    !mq_used(d, 2 * p, &id, &len) ||
			    !mq_check(c, p, k, first + p * b + k, len))
				return false;
		}
	}
	/* What came while the used entries were already there. */
	mq_irqs(d);
	return true;
}

bool mq_traffic(const struct mq_ctx *c)
{
	struct vdev *d = c->dev;
	u64 sent = 0;

	if (!CHECK(mq_pairs_set(c, d->pairs + 1) == VIRTIO_NET_ERR,
		   "VQ_PAIRS_SET %u (over the maximum) not refused",
		   d->pairs + 1) ||
	    !CHECK(mq_pairs_set(c, 0) == VIRTIO_NET_ERR,
		   "VQ_PAIRS_SET 0 not refused") ||
	    !CHECK(mq_pairs_set(c, d->pairs) == VIRTIO_NET_OK,
		   "VQ_PAIRS_SET %u refused", d->pairs))
		return false;
	mq_expect(VNL_X_CTRL_MQ_SET, 1);
	while (sent < params->frames) {
		u64 left = params->frames - sent;
		/* A batch on every pair while there are enough frames. */
		u32 b = MIN(c->batch, QSIZE / d->pairs);
		unsigned int n = d->pairs;

		if (left < (u64)n * b) {
			b = 1;
			n = MIN(d->pairs, left);
		}
		if (!mq_round(c, sent, n, b))
			return false;
		sent += (u64)n * b;
	}
	return true;
}
