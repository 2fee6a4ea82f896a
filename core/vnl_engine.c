// SPDX-License-Identifier: GPL-2.0
/*
 * The loopback ring engine: pop TX chains, copy each frame into the next RX
 * chain, complete both, decide on one interrupt per drain (SPEC 2-4).
 *
 * Everything the guest wrote is untrusted: indices are checked against the
 * queue size, every walk is bounded by it, and guest memory is only reached
 * through d->ops, which report unbacked ranges instead of faulting.
 */
#include "vnl_engine.h"

#define VNL_RX	VNETLOOP_QUEUE_RX
#define VNL_TX	VNETLOOP_QUEUE_TX

struct vnl_desc {
	__le64 addr;
	__le32 len;
	__le16 flags;
	__le16 next;
};

enum vnl_tx_verdict { VNL_TX_OK, VNL_TX_INVALID, VNL_TX_OVERSIZE };

static inline void vnl_count(struct vnl_dev *d, enum vnetloop_counter c,
			     u64 v)
{
	d->delta[c] += v;
}

static inline bool vnl_has(const struct vnl_dev *d, unsigned int bit)
{
	return d->features & (1ULL << bit);
}

static int vnl_read16(struct vnl_dev *d, u64 gpa, u16 *v)
{
	__le16 raw;
	int ret = d->ops->read(d->ctx, gpa, &raw, sizeof(raw));

	if (!ret)
		*v = le16_to_cpu(raw);
	return ret;
}

static int vnl_write16(struct vnl_dev *d, u64 gpa, u16 v)
{
	__le16 raw = cpu_to_le16(v);

	return d->ops->write(d->ctx, gpa, &raw, sizeof(raw));
}

/* The guest asked for an interrupt between old and new (virtio 2.7.10). */
static inline bool vnl_need_event(u16 event, u16 new, u16 old)
{
	return (u16)(new - event - 1) < (u16)(new - old);
}

static bool vnl_is_pow2(u32 n)
{
	return n && !(n & (n - 1));
}

void vnl_dev_init(struct vnl_dev *d, const struct vnl_ops *ops, void *ctx,
		  u8 *scratch)
{
	memset(d, 0, sizeof(*d));
	d->ops = ops;
	d->ctx = ctx;
	d->scratch = scratch;
	d->budget_packets = VNL_BUDGET_PACKETS;
	d->budget_bytes = VNL_BUDGET_BYTES;
}

static bool vnl_range_ok(u64 base, u64 len)
{
	return base + len - 1 >= base;
}

int vnl_dev_set_vring(struct vnl_dev *d, unsigned int q, u32 num, u64 desc,
		      u64 avail, u64 used)
{
	struct vnl_vq *vq;

	if (q >= VNETLOOP_NUM_QUEUES || !vnl_is_pow2(num) ||
	    num > VNETLOOP_QUEUE_SIZE_MAX)
		return -EINVAL;
	if (!vnl_range_ok(desc, (u64)num * VNL_DESC_SIZE) ||
	    !vnl_range_ok(avail, VNL_AVAIL_USED_EVENT(num) + 2) ||
	    !vnl_range_ok(used, VNL_USED_AVAIL_EVENT(num) + 2))
		return -EINVAL;
	vq = &d->vq[q];
	memset(vq, 0, sizeof(*vq));
	vq->num = num;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->ready = true;
	return 0;
}

int vnl_dev_set_features(struct vnl_dev *d, u64 features)
{
	if (features & ~(u64)VNETLOOP_FEATURES)
		return -EINVAL;
	d->features = features;
	return 0;
}

void vnl_dev_start(struct vnl_dev *d)
{
	d->live = true;
}

void vnl_dev_reset(struct vnl_dev *d)
{
	memset(d->vq, 0, sizeof(d->vq));
	d->features = 0;
	d->live = false;
}

bool vnl_dev_needs_reset(const struct vnl_dev *d)
{
	return d->vq[VNL_RX].poisoned || d->vq[VNL_TX].poisoned;
}

/* SPEC 3: poisoning is counted and signalled once per transition. */
static unsigned int vnl_poison(struct vnl_dev *d, unsigned int q)
{
	struct vnl_vq *vq = &d->vq[q];

	if (vq->poisoned)
		return 0;
	vq->poisoned = true;
	vnl_count(d, VNETLOOP_C_INVALID_AVAIL_IDX_COUNT, 1);
	return VNETLOOP_ISR_CONFIG |
	       (q == VNL_TX ? VNL_DRAIN_POISONED_TX : VNL_DRAIN_POISONED_RX);
}

/*
 * Re-read avail->idx. Returns the number of pending entries, or -1 after
 * poisoning the queue (idx unreadable or more than num ahead of us).
 */
static int vnl_avail_refresh(struct vnl_dev *d, unsigned int q,
			     unsigned int *ret)
{
	struct vnl_vq *vq = &d->vq[q];
	u16 idx;

	if (vnl_read16(d, vq->avail + VNL_AVAIL_IDX, &idx) ||
	    (u16)(idx - vq->last_avail) > vq->num) {
		*ret |= vnl_poison(d, q);
		return -1;
	}
	vq->avail_idx = idx;
	/* Ring entries are read only after the index that covers them. */
	vnl_rmb();
	return (u16)(idx - vq->last_avail);
}

static int vnl_pop(struct vnl_dev *d, unsigned int q, u16 *head,
		   unsigned int *ret)
{
	struct vnl_vq *vq = &d->vq[q];
	u64 slot = vq->avail + VNL_AVAIL_RING(vq->last_avail & (vq->num - 1));

	if (vnl_read16(d, slot, head)) {
		*ret |= vnl_poison(d, q);
		return -1;
	}
	vq->last_avail++;
	return 0;
}

/*
 * Walk the chain at head into d->seg. Every descriptor must have the
 * direction the queue expects; at most num descriptors, so loops end.
 */
static int vnl_walk(struct vnl_dev *d, struct vnl_vq *vq, u16 head,
		    bool writable, u32 *nseg, u64 *total)
{
	struct vnl_desc desc;
	u64 sum = 0, addr;
	u32 n = 0, len;
	u16 i = head, flags;

	for (;;) {
		if (i >= vq->num || n >= vq->num)
			return -EINVAL;
		if (d->ops->read(d->ctx, vq->desc + (u64)i * VNL_DESC_SIZE,
				 &desc, sizeof(desc)))
			return -EFAULT;
		addr = le64_to_cpu(desc.addr);
		len = le32_to_cpu(desc.len);
		flags = le16_to_cpu(desc.flags);
		/* INDIRECT_DESC is never offered, so never negotiated. */
		if (flags & VNL_DESC_F_INDIRECT)
			return -EINVAL;
		if (!!(flags & VNL_DESC_F_WRITE) != writable)
			return -EINVAL;
		if (len && !vnl_range_ok(addr, len))
			return -EINVAL;
		d->seg[n].addr = addr;
		d->seg[n].len = len;
		n++;
		sum += len;
		if (!(flags & VNL_DESC_F_NEXT))
			break;
		i = le16_to_cpu(desc.next);
	}
	*nseg = n;
	*total = sum;
	return 0;
}

/*
 * Move len bytes between buf and the chain in d->seg, starting at byte off
 * of the chain.
 */
static int vnl_xfer(struct vnl_dev *d, u32 nseg, u64 off, void *buf, u32 len,
		    bool to_guest)
{
	u8 *p = buf;
	u32 i, n, moved = 0;
	int ret = 0;

	for (i = 0; i < nseg && moved < len; i++) {
		u64 addr = d->seg[i].addr;
		u32 slen = d->seg[i].len;

		if (off >= slen) {
			off -= slen;
			continue;
		}
		n = slen - off;
		if (n > len - moved)
			n = len - moved;
		if (to_guest)
			ret = d->ops->write(d->ctx, addr + off, p + moved, n);
		else
			ret = d->ops->read(d->ctx, addr + off, p + moved, n);
		if (ret)
			break;
		moved += n;
		off = 0;
	}
	return ret;
}

static int vnl_add_used(struct vnl_dev *d, struct vnl_vq *vq, u32 id, u32 len)
{
	__le32 elem[2] = { cpu_to_le32(id), cpu_to_le32(len) };
	u64 slot = vq->used + VNL_USED_RING(vq->used_idx & (vq->num - 1));

	if (id >= vq->num)
		return -EINVAL;
	if (d->ops->write(d->ctx, slot, elem, sizeof(elem)))
		return -EFAULT;
	/* The entry is visible before the index that publishes it. */
	vnl_wmb();
	if (vnl_write16(d, vq->used + VNL_USED_IDX, (u16)(vq->used_idx + 1)))
		return -EFAULT;
	vq->used_idx++;
	vq->added++;
	return 0;
}

/*
 * A write into the RX chain failed: count it, zero the header again (a
 * failed copy may have landed in part) and return the chain unused.
 */
static void vnl_rx_discard(struct vnl_dev *d, struct vnl_vq *rx, u16 head,
			   u32 nseg)
{
	u8 zero[VNL_NET_HDR_LEN] = { 0 };

	vnl_count(d, VNETLOOP_C_RX_WRITE_FAILED, 1);
	vnl_xfer(d, nseg, 0, zero, sizeof(zero), true);
	if (vnl_add_used(d, rx, head, 0))
		vnl_count(d, VNETLOOP_C_RX_ADD_USED_FAILURES, 1);
}

/* SPEC 2.2: deliver the frame in d->scratch into the next RX chain. */
static void vnl_rx_deliver(struct vnl_dev *d, u32 len, unsigned int *ret)
{
	struct vnl_vq *rx = &d->vq[VNL_RX];
	u8 hdr[VNL_NET_HDR_LEN] = { 0 };
	u32 nseg, room;
	u64 total;
	u16 head;
	int pending;

	if (!rx->ready) {
		vnl_count(d, VNETLOOP_C_TX_DROPPED_NO_RX_BUFFER, 1);
		return;
	}
	if (!rx->poisoned && rx->last_avail == rx->avail_idx) {
		pending = vnl_avail_refresh(d, VNL_RX, ret);
		if (!pending) {
			vnl_count(d, VNETLOOP_C_TX_DROPPED_NO_RX_BUFFER, 1);
			return;
		}
	}
	if (rx->poisoned || vnl_pop(d, VNL_RX, &head, ret)) {
		vnl_count(d, VNETLOOP_C_TX_DROPPED_RX_POISONED, 1);
		return;
	}
	if (vnl_walk(d, rx, head, true, &nseg, &total) ||
	    total < VNL_NET_HDR_LEN) {
		vnl_count(d, VNETLOOP_C_RX_CHAIN_INVALID, 1);
		if (vnl_add_used(d, rx, head, 0))
			vnl_count(d, VNETLOOP_C_RX_ADD_USED_FAILURES, 1);
		return;
	}
	hdr[VNL_NET_HDR_NUM_BUFFERS] = 1;	/* le16 num_buffers = 1 */
	room = total - VNL_NET_HDR_LEN < len ? total - VNL_NET_HDR_LEN : len;
	if (vnl_xfer(d, nseg, 0, hdr, sizeof(hdr), true) ||
	    vnl_xfer(d, nseg, VNL_NET_HDR_LEN, d->scratch, room, true)) {
		vnl_rx_discard(d, rx, head, nseg);
		return;
	}
	if (vnl_add_used(d, rx, head, VNL_NET_HDR_LEN + room)) {
		vnl_count(d, VNETLOOP_C_RX_ADD_USED_FAILURES, 1);
		return;
	}
	vnl_count(d, VNETLOOP_C_RX_PACKETS, 1);
	vnl_count(d, VNETLOOP_C_RX_BYTES, room);
}

/* Validate the TX chain at head and copy its frame into d->scratch. */
static enum vnl_tx_verdict vnl_tx_fetch(struct vnl_dev *d, u16 head, u32 *len)
{
	u8 hdr[VNL_NET_HDR_LEN];
	u32 nseg;
	u64 total;

	if (vnl_walk(d, &d->vq[VNL_TX], head, false, &nseg, &total) ||
	    total < VNL_NET_HDR_LEN)
		return VNL_TX_INVALID;
	/* Oversize is decided before anything is copied. */
	if (total - VNL_NET_HDR_LEN > VNL_MAX_FRAME_SIZE)
		return VNL_TX_OVERSIZE;
	*len = total - VNL_NET_HDR_LEN;
	/* The header is not interpreted, but it must be readable. */
	if (vnl_xfer(d, nseg, 0, hdr, sizeof(hdr), false) ||
	    vnl_xfer(d, nseg, VNL_NET_HDR_LEN, d->scratch, *len, false))
		return VNL_TX_INVALID;
	return VNL_TX_OK;
}

/* One popped TX chain: deliver it, then complete it. Returns frame bytes. */
static u32 vnl_tx_one(struct vnl_dev *d, u16 head, unsigned int *ret)
{
	enum vnl_tx_verdict v;
	u32 len = 0;

	v = vnl_tx_fetch(d, head, &len);
	if (v == VNL_TX_OK)
		vnl_rx_deliver(d, len, ret);
	else if (v == VNL_TX_INVALID)
		vnl_count(d, VNETLOOP_C_TX_CHAIN_INVALID, 1);
	else
		vnl_count(d, VNETLOOP_C_TX_OVERSIZE_DROPPED, 1);

	if (vnl_add_used(d, &d->vq[VNL_TX], head, 0)) {
		vnl_count(d, VNETLOOP_C_TX_ADD_USED_FAILURES, 1);
	} else if (v == VNL_TX_OK) {
		vnl_count(d, VNETLOOP_C_TX_PACKETS, 1);
		vnl_count(d, VNETLOOP_C_TX_BYTES, len);
	}
	return v == VNL_TX_OK ? len : 0;
}

/* Did the guest ask to hear about this queue's new used entries? */
static bool vnl_want_interrupt(struct vnl_dev *d, struct vnl_vq *vq)
{
	u16 old = vq->signalled_used, new = vq->used_idx, v;
	bool valid = vq->signalled_valid;

	if (!vq->ready || !vq->added)
		return false;
	vq->signalled_used = new;
	vq->signalled_valid = true;
	/* Our used->idx stores are visible before we read the guest's hint. */
	vnl_mb();
	if (vnl_has(d, VNL_F_EVENT_IDX)) {
		/* A full 16-bit lap makes old == new: the hint is moot. */
		if (!valid || vq->added > 0xffff ||
		    vnl_read16(d, vq->avail + VNL_AVAIL_USED_EVENT(vq->num), &v))
			return true;
		return vnl_need_event(v, new, old);
	}
	if (vnl_read16(d, vq->avail + VNL_AVAIL_FLAGS, &v))
		return true;
	return !(v & VNL_AVAIL_F_NO_INTERRUPT);
}

/*
 * With EVENT_IDX, ask for a kick at the next entry, then look again: an entry
 * published before the guest could see avail_event would otherwise wait.
 */
static int vnl_tx_rearm(struct vnl_dev *d, unsigned int *ret)
{
	struct vnl_vq *tx = &d->vq[VNL_TX];

	if (!vnl_has(d, VNL_F_EVENT_IDX))
		return 0;
	vnl_write16(d, tx->used + VNL_USED_AVAIL_EVENT(tx->num),
		    tx->last_avail);
	vnl_mb();
	return vnl_avail_refresh(d, VNL_TX, ret);
}

static bool vnl_delta_any(const struct vnl_dev *d)
{
	unsigned int i;

	for (i = 0; i < VNETLOOP_NUM_SPEC_COUNTERS; i++)
		if (d->delta[i])
			return true;
	return false;
}

unsigned int vnl_drain(struct vnl_dev *d)
{
	struct vnl_vq *tx = &d->vq[VNL_TX];
	unsigned int ret = 0, q;
	u32 packets = 0;
	u64 bytes = 0;
	int pending;
	u16 head;

	if (!d->live || !tx->ready || tx->poisoned)
		return 0;
	memset(d->delta, 0, sizeof(d->delta));
	d->vq[VNL_RX].added = 0;
	tx->added = 0;

	for (;;) {
		if (tx->last_avail == tx->avail_idx) {
			pending = vnl_avail_refresh(d, VNL_TX, &ret);
			if (!pending)
				pending = vnl_tx_rearm(d, &ret);
			if (pending <= 0)
				break;
		}
		if (packets >= d->budget_packets || bytes >= d->budget_bytes) {
			ret |= VNL_DRAIN_MORE;
			break;
		}
		if (vnl_pop(d, VNL_TX, &head, &ret))
			break;
		bytes += vnl_tx_one(d, head, &ret);
		packets++;
	}

	for (q = 0; q < VNETLOOP_NUM_QUEUES; q++)
		if (vnl_want_interrupt(d, &d->vq[q]))
			ret |= VNETLOOP_ISR_VRING;
	if (vnl_delta_any(d))
		d->ops->commit(d->ctx, d->delta);
	return ret;
}
