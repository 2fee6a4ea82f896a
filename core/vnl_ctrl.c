// SPDX-License-Identifier: GPL-2.0
/*
 * The control queue (SPEC 4a): one command per chain, a device-readable
 * struct virtio_net_ctrl_hdr and its data, then one device-writable ack
 * byte as the last descriptor. VQ_PAIRS_SET goes to the home
 * (ops->set_pairs); the RX-mode, MAC and VLAN classes ack OK, as a loopback
 * has nothing to filter; anything else acks VIRTIO_NET_ERR. A malformed
 * chain changes nothing and comes back used with length 0.
 *
 * The same primitives as the data path (vnl_engine_int.h): the bounded walk,
 * poisoning, one used->idx store per drain and the interrupt decision.
 */
#include "vnl_engine_int.h"

#define VNL_CTRL	VNETLOOP_QUEUE_CTRL

/* The command bytes read: class, cmd, and the first two of the data. */
#define VNL_CTRL_PEEK	(sizeof(struct virtio_net_ctrl_hdr) + sizeof(__le16))

/* Byte off of chain c's readable part; -EFAULT if it cannot be read. */
static int vnl_ctrl_byte(struct vnl_engine *e, const struct vnl_chain *c,
			 u64 off, u8 *v)
{
	u8 __user *p;
	u64 hva;
	u32 i;

	for (i = 0; i < c->nread && off >= c->seg[i].len; i++)
		off -= c->seg[i].len;
	if (i >= c->nread ||
	    vnl_mem_xlate(&e->mem, c->seg[i].addr + off, 1, VNL_READ, &hva))
		return -EFAULT;
	p = vnl_guest_ptr(hva);
	if (!vnl_access_begin(p, 1))
		return -EFAULT;
	vnl_get(*v, p, fault);
	vnl_access_end();
	return 0;
fault:
	vnl_access_end();
	return -EFAULT;
}

/*
 * Carry out one well-formed command: data holds the first bytes of its dlen
 * bytes of data (as many as VNL_CTRL_PEEK allows). Returns the ack.
 */
static u8 vnl_ctrl_exec(struct vnl_engine *e, u8 class, u8 cmd,
			const u8 *data, u64 dlen)
{
	u16 pairs;

	switch (class) {
	case VIRTIO_NET_CTRL_MQ:
		if (cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET ||
		    dlen < sizeof(__le16) || !vnl_has(e, VIRTIO_NET_F_MQ))
			return VIRTIO_NET_ERR;
		pairs = data[0] | (u16)data[1] << 8;	/* le16 */
		if (pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN ||
		    pairs > e->max_pairs)
			return VIRTIO_NET_ERR;
		if (!e->ops->set_pairs || e->ops->set_pairs(e->ctx, pairs))
			return VIRTIO_NET_ERR;
		vnl_count(e, VNETLOOP_C_CTRL_MQ_SET, 1);
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_RX:
		/* PROMISC to NOBCAST: one byte, on or off. */
		if (cmd <= VIRTIO_NET_CTRL_RX_NOBCAST && dlen >= 1)
			return VIRTIO_NET_OK;
		return VIRTIO_NET_ERR;
	case VIRTIO_NET_CTRL_MAC:
		/* Two tables, each a le32 count then the addresses. */
		if (cmd == VIRTIO_NET_CTRL_MAC_TABLE_SET &&
		    dlen >= 2 * sizeof(__le32))
			return VIRTIO_NET_OK;
		if (cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET && dlen >= ETH_ALEN)
			return VIRTIO_NET_OK;
		return VIRTIO_NET_ERR;
	case VIRTIO_NET_CTRL_VLAN:
		if ((cmd == VIRTIO_NET_CTRL_VLAN_ADD ||
		     cmd == VIRTIO_NET_CTRL_VLAN_DEL) && dlen >= sizeof(__le16))
			return VIRTIO_NET_OK;
		return VIRTIO_NET_ERR;
	}
	return VIRTIO_NET_ERR;
}

/*
 * One popped chain: check its shape and that every byte the device reads
 * or writes is backed before acting on it, then act, ack and complete it.
 * The walk uses the TX scratch chain: vnl_drain() is not running (the home
 * serialises calls on one engine).
 */
static void vnl_ctrl_one(struct vnl_engine *e, u16 head)
{
	struct vnl_vq *vq = &e->vq[VNL_CTRL];
	struct vnl_chain *c = &e->tx;
	const struct vnl_seg *ack;
	u8 b[VNL_CTRL_PEEK], status;
	u64 rlen = 0, hva;
	u32 i, n;
	int ret;

	ret = vnl_walk(vq, head, VNL_WALK_CTRL, c);
	e->descs += c->nseg;
	/* The ack is the one writable descriptor, and the last. */
	if (ret || c->nseg - c->nread != 1)
		goto invalid;
	ack = &c->seg[c->nseg - 1];
	if (!ack->len ||
	    vnl_mem_xlate(&e->mem, ack->addr, 1, VNL_WRITE, &hva))
		goto invalid;
	for (i = 0; i < c->nread; i++) {
		if (c->seg[i].len &&
		    !vnl_mem_backed(&e->mem, c->seg[i].addr, c->seg[i].len,
				    VNL_READ))
			goto invalid;
		rlen += c->seg[i].len;
	}
	if (rlen < sizeof(struct virtio_net_ctrl_hdr))
		goto invalid;
	n = rlen < sizeof(b) ? rlen : sizeof(b);
	for (i = 0; i < n; i++)
		if (vnl_ctrl_byte(e, c, i, &b[i]))
			goto invalid;
	status = vnl_ctrl_exec(e, b[0], b[1],
			       b + sizeof(struct virtio_net_ctrl_hdr),
			       rlen - sizeof(struct virtio_net_ctrl_hdr));
	/* Backed a moment ago: only the module's owner can make this fail. */
	if (vnl_mem_write(hva, &status, 1))
		goto invalid;
	if (vnl_add_used(vq, head, 1))
		vnl_count(e, VNETLOOP_C_CTRL_ADD_USED_FAILURES, 1);
	return;
invalid:
	vnl_count(e, VNETLOOP_C_CTRL_CHAIN_INVALID, 1);
	if (vnl_add_used(vq, head, 0))
		vnl_count(e, VNETLOOP_C_CTRL_ADD_USED_FAILURES, 1);
}

/* As the TX queue's: with EVENT_IDX, ask for the next kick, look again. */
static int vnl_ctrl_rearm(struct vnl_engine *e, unsigned int *poisoned)
{
	struct vnl_vq *vq = &e->vq[VNL_CTRL];

	if (!vnl_has(e, VIRTIO_RING_F_EVENT_IDX))
		return 0;
	vnl_set_avail_event(vq, vq->last_avail);
	vnl_mb();
	return vnl_avail_refresh(e, VNL_CTRL, poisoned);
}

bool vnl_ctrl_drain(struct vnl_engine *e)
{
	struct vnl_vq *vq = &e->vq[VNL_CTRL];
	unsigned int poisoned = 0, vqs = 0;
	bool more = false;
	u32 isr = 0;
	u16 head, start;
	int pending;

	if (!e->live || !vq->ready || vq->poisoned ||
	    !vnl_has(e, VIRTIO_NET_F_CTRL_VQ))
		return false;
	memset(e->delta, 0, sizeof(e->delta));
	e->descs = 0;
	vq->added = 0;
	start = vq->last_avail;

	for (;;) {
		if (unlikely(vnl_stop_pending()))
			goto stopped;
		if (vq->last_avail == vq->avail_idx) {
			pending = vnl_avail_refresh(e, VNL_CTRL, &poisoned);
			if (!pending)
				pending = vnl_ctrl_rearm(e, &poisoned);
			if (pending <= 0)
				break;
		}
		if (e->descs >= VNL_DRAIN_DESCS_MAX) {
			more = true;
			break;
		}
		if (vnl_pop(e, VNL_CTRL, &head, &poisoned))
			break;
		vnl_ctrl_one(e, head);
	}
	if (unlikely(vnl_stop_pending()))
		goto stopped;

	if (vq->added && vnl_used_publish(vq)) {
		/* Only the guest's faults are counted. */
		if (!vnl_stop_pending())
			vnl_count(e, VNETLOOP_C_CTRL_ADD_USED_FAILURES,
				  vq->added);
		vq->added = 0;
	}
	if (vq->added) {
		/* Our used->idx store is visible before we read the hint. */
		vnl_mb();
		if (vnl_want_interrupt(e, vq)) {
			isr |= VIRTIO_MMIO_INT_VRING;
			vqs |= 1U << VNL_CTRL;
		}
	}
	vnl_drain_finish(e, isr, vqs, poisoned, more);
	return more;
stopped:
	/* Nothing published: every chain this drain took is the driver's. */
	vq->last_avail = start;
	vq->used_idx = vq->published;
	return false;
}
