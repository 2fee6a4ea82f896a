// SPDX-License-Identifier: GPL-2.0
/*
 * The loopback ring engine: pop TX chains, copy each frame into the next RX
 * chain, complete both, publish the used rings and decide on one interrupt
 * per drain.
 *
 * Everything the guest wrote is untrusted: indices are checked against the
 * queue size, every walk is bounded by it, and every address goes through
 * the region table. Rings are translated once per configuration and then
 * accessed directly, a few fixed-size loads and stores per access section
 * (core/vnl_compat.h); frame bytes are copied once, from the TX buffer
 * straight into the RX buffer.
 */
#include "vnl_engine_int.h"

#define VNL_RX	VNETLOOP_QUEUE_RX
#define VNL_TX	VNETLOOP_QUEUE_TX

enum vnl_tx_verdict { VNL_TX_OK, VNL_TX_INVALID, VNL_TX_OVERSIZE };

/* A position in a walked chain, for copies that cross descriptors. */
struct vnl_cursor {
	const struct vnl_chain *c;
	u32 i;		/* descriptor */
	u32 off;	/* bytes into it */
};

#define VNL_HDR_OFF(field)	offsetof(struct virtio_net_hdr_v1, field)

/*
 * Inside an access section, write the RX header at h (u8 __user *, any
 * alignment): all zero but num_buffers = 1, in three stores, the first
 * eight bytes, csum_offset and num_buffers.
 */
#define vnl_put_rx_header(h, label)					\
	do {								\
		vnl_put_unaligned(0, (u64 __user *)(h), label);		\
		vnl_put_unaligned(0, (__virtio16 __user *)		\
				  ((h) + VNL_HDR_OFF(csum_offset)), label); \
		vnl_put_unaligned(cpu_to_vnl16(1), (__virtio16 __user *) \
				  ((h) + VNL_HDR_OFF(num_buffers)), label); \
	} while (0)

static bool vnl_is_pow2(u32 n)
{
	return n && !(n & (n - 1));
}

static bool vnl_range_ok(u64 base, u64 len)
{
	return base + len - 1 >= base;
}

/*
 * The bytes of each part of a split ring, the event fields included whether
 * or not EVENT_IDX is negotiated, as vring_size() counts them.
 */
static u64 vnl_desc_size(u32 num)
{
	return (u64)num * sizeof(struct vring_desc);
}

static u64 vnl_avail_size(u32 num)
{
	return sizeof(struct vring_avail) + ((u64)num + 1) * sizeof(__virtio16);
}

static u64 vnl_used_size(u32 num)
{
	return sizeof(struct vring_used) +
	       (u64)num * sizeof(struct vring_used_elem) + sizeof(__virtio16);
}

void vnl_engine_init(struct vnl_engine *e, const struct vnl_engine_ops *ops,
		     void *ctx, u8 *bounce)
{
	memset(e, 0, sizeof(*e));
	e->ops = ops;
	e->ctx = ctx;
	e->mem.bounce = bounce;
	vnl_atomic_set(&e->isr, 0);
	vnl_atomic_set(&e->status, 0);
	e->budget_packets = VNL_BUDGET_PACKETS;
	e->budget_bytes = VNL_BUDGET_BYTES;
}

void vnl_engine_set_budget(struct vnl_engine *e, u32 packets, u32 bytes)
{
	e->budget_packets = packets;
	e->budget_bytes = bytes;
}

/*
 * The host address of a ring part: inside one region and, as the guest
 * address is aligned, aligned too unless the region table is odd.
 */
static void __user *vnl_ring_map(struct vnl_engine *e, u64 gpa, u64 len,
				 u64 align, u32 acc)
{
	u64 h;

	if (vnl_mem_xlate(&e->mem, gpa, len, acc, &h) || (h & (align - 1)))
		return NULL;
	return vnl_guest_ptr(h);
}

/*
 * Translate the rings of vq. A ring that is not inside one region stays
 * NULL: its accesses then fail as unbacked ones (a poisoned queue, an invalid
 * chain or an add_used failure, as for any unbacked address).
 */
static void vnl_vq_map(struct vnl_engine *e, struct vnl_vq *vq)
{
	vq->desc_p = NULL;
	vq->avail_p = NULL;
	vq->used_p = NULL;
	vq->avail_event_p = NULL;
	if (!vq->num)
		return;
	/* The device reads the first two and writes the used ring. */
	vq->desc_p = vnl_ring_map(e, vq->desc, vnl_desc_size(vq->num),
				  VRING_DESC_ALIGN_SIZE, VNL_READ);
	vq->avail_p = vnl_ring_map(e, vq->avail, vnl_avail_size(vq->num),
				   VRING_AVAIL_ALIGN_SIZE, VNL_READ);
	vq->used_p = vnl_ring_map(e, vq->used, vnl_used_size(vq->num),
				  VRING_USED_ALIGN_SIZE, VNL_WRITE);
	if (vq->used_p)
		vq->avail_event_p =
			(__virtio16 __user *)&vq->used_p->ring[vq->num];
}

int vnl_engine_set_mem(struct vnl_engine *e, const struct vnl_region *r,
		       unsigned int n)
{
	unsigned int q;
	int ret;

	ret = vnl_mem_set(&e->mem, r, n);
	if (ret)
		return ret;
	for (q = 0; q < VNETLOOP_ENGINE_QUEUES; q++)
		vnl_vq_map(e, &e->vq[q]);
	return 0;
}

int vnl_engine_set_vring(struct vnl_engine *e, unsigned int q, u32 num,
			 u64 desc, u64 avail, u64 used)
{
	struct vnl_vq *vq;

	if (q >= VNETLOOP_ENGINE_QUEUES || !vnl_is_pow2(num) ||
	    num > VNETLOOP_QUEUE_SIZE_MAX)
		return -EINVAL;
	/* The control queue exists once the home set its pairs. */
	if (q == VNETLOOP_QUEUE_CTRL && !e->max_pairs)
		return -EINVAL;
	/* virtio 1.2, 2.7: the alignment each ring part requires. */
	if ((desc & (VRING_DESC_ALIGN_SIZE - 1)) ||
	    (avail & (VRING_AVAIL_ALIGN_SIZE - 1)) ||
	    (used & (VRING_USED_ALIGN_SIZE - 1)))
		return -EINVAL;
	if (!vnl_range_ok(desc, vnl_desc_size(num)) ||
	    !vnl_range_ok(avail, vnl_avail_size(num)) ||
	    !vnl_range_ok(used, vnl_used_size(num)))
		return -EINVAL;
	vq = &e->vq[q];
	memset(vq, 0, sizeof(*vq));
	vq->num = num;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->ready = true;
	vnl_vq_map(e, vq);
	return 0;
}

void vnl_engine_set_base(struct vnl_engine *e, unsigned int q, u16 base)
{
	struct vnl_vq *vq = &e->vq[q];

	/* Every chain popped before the base was used: both indices agree. */
	vq->last_avail = base;
	vq->avail_idx = base;
	vq->used_idx = base;
	vq->published = base;
	vq->signalled_valid = false;
}

void vnl_engine_set_max_pairs(struct vnl_engine *e, u16 max)
{
	e->max_pairs = max;
}

int vnl_engine_set_features(struct vnl_engine *e, u64 features)
{
	u64 ok = VNETLOOP_FEATURES;

	if (e->max_pairs)
		ok |= VNETLOOP_FEATURES_MQ;
	if (features & ~ok)
		return -EINVAL;
	/* virtio 1.2, 5.1.3.1: MQ requires CTRL_VQ. */
	if ((features & (1ULL << VIRTIO_NET_F_MQ)) &&
	    !(features & (1ULL << VIRTIO_NET_F_CTRL_VQ)))
		return -EINVAL;
	e->features = features;
	return 0;
}

void vnl_engine_start(struct vnl_engine *e)
{
	e->live = true;
}

void vnl_engine_reset(struct vnl_engine *e)
{
	memset(e->vq, 0, sizeof(e->vq));
	e->features = 0;
	e->live = false;
	vnl_atomic_set(&e->isr, 0);
	vnl_atomic_set(&e->status, 0);
}

void vnl_engine_queue_state(const struct vnl_engine *e, unsigned int q,
			    struct vnl_queue_state *s)
{
	const struct vnl_vq *vq = &e->vq[q];

	s->desc = vq->desc;
	s->avail = vq->avail;
	s->used = vq->used;
	s->num = vq->num;
	s->ready = vq->ready;
	/* The worker may be moving these. */
	s->poisoned = vnl_read_racy(vq->poisoned);
	s->last_avail = vnl_read_racy(vq->last_avail);
	s->used_idx = vnl_read_racy(vq->used_idx);
}

static void vnl_cursor_init(struct vnl_cursor *cur, const struct vnl_chain *c,
			    u64 off)
{
	cur->c = c;
	cur->i = 0;
	while (cur->i < c->nseg && off >= c->seg[cur->i].len)
		off -= c->seg[cur->i++].len;
	cur->off = off;
}

/*
 * The host address at the cursor; *n is cut to what is contiguous there
 * (the rest of the descriptor and of its region). Exhausted and empty
 * descriptors are skipped without being touched.
 */
static int vnl_cursor_map(struct vnl_engine *e, struct vnl_cursor *cur,
			  u64 *hva, u32 *n)
{
	const struct vnl_seg *s;
	u64 room;

	while (cur->i < cur->c->nseg && cur->off == cur->c->seg[cur->i].len) {
		cur->i++;
		cur->off = 0;
	}
	if (cur->i >= cur->c->nseg)
		return -EFAULT;
	s = &cur->c->seg[cur->i];
	/* The device reads the TX chain and writes the RX chain. */
	if (vnl_mem_find(&e->mem, s->addr + cur->off,
			 cur->c == &e->tx ? VNL_READ : VNL_WRITE, hva, &room))
		return -EFAULT;
	if (room > s->len - cur->off)
		room = s->len - cur->off;
	if (*n > room)
		*n = room;
	return 0;
}

/* Write len bytes of buf into chain c from its start. */
static int vnl_chain_write(struct vnl_engine *e, const struct vnl_chain *c,
			   const u8 *buf, u32 len)
{
	struct vnl_cursor cur;
	u64 hva;
	u32 n;

	vnl_cursor_init(&cur, c, 0);
	for (; len; len -= n, buf += n, cur.off += n) {
		n = len;
		if (vnl_cursor_map(e, &cur, &hva, &n) ||
		    vnl_mem_write(hva, buf, n))
			return -EFAULT;
	}
	return 0;
}

/* The RX header at hva, in one piece. */
static int vnl_rx_header_at(u64 hva)
{
	u8 __user *h = vnl_guest_ptr(hva);

	if (!vnl_access_begin(h, VNL_NET_HDR_LEN))
		return -EFAULT;
	vnl_put_rx_header(h, fault);
	vnl_access_end();
	return 0;
fault:
	vnl_access_end();
	return -EFAULT;
}

/* The RX header: all zero but num_buffers = 1. */
static int vnl_rx_header(struct vnl_engine *e)
{
	struct virtio_net_hdr_v1 hdr = { .num_buffers = cpu_to_vnl16(1) };
	u64 hva;

	if (e->rx.seg[0].len >= VNL_NET_HDR_LEN &&
	    !vnl_mem_xlate(&e->mem, e->rx.seg[0].addr, VNL_NET_HDR_LEN,
			   VNL_WRITE, &hva))
		return vnl_rx_header_at(hva);
	return vnl_chain_write(e, &e->rx, (const u8 *)&hdr, sizeof(hdr));
}

/* Copy len frame bytes from the TX chain to the RX chain, past headers. */
static int vnl_copy_frame(struct vnl_engine *e, u32 len)
{
	struct vnl_cursor s, d;
	u64 sh, dh;
	u32 n;
	int ret;

	vnl_cursor_init(&s, &e->tx, VNL_NET_HDR_LEN);
	vnl_cursor_init(&d, &e->rx, VNL_NET_HDR_LEN);
	for (; len; len -= n, s.off += n, d.off += n) {
		n = len;
		if (vnl_cursor_map(e, &s, &sh, &n))
			return VNL_FAULT_SRC;
		if (vnl_cursor_map(e, &d, &dh, &n))
			return VNL_FAULT_DST;
		ret = vnl_mem_copy(&e->mem, dh, sh, n);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Zero every byte of the RX header that can be written, one at a time: a
 * byte that is not backed or faults is skipped, not the end, so no frame
 * byte that a failed copy landed in the header area outlives the failure.
 * An error path only; twelve one-byte writes at most.
 */
static void vnl_rx_zero_header(struct vnl_engine *e)
{
	static const u8 zero;
	struct vnl_cursor cur;
	u64 hva;
	u32 k, n;

	vnl_cursor_init(&cur, &e->rx, 0);
	for (k = 0; k < VNL_NET_HDR_LEN; k++, cur.off++) {
		n = 1;
		if (!vnl_cursor_map(e, &cur, &hva, &n))
			vnl_mem_write(hva, &zero, 1);
		else if (cur.i >= e->rx.nseg)
			return;
	}
}

/*
 * A write into the RX chain failed: count it, zero the header again (a
 * failed copy may have landed in part) and return the chain unused.
 */
static void vnl_rx_discard(struct vnl_engine *e, struct vnl_vq *rx, u16 head)
{
	vnl_count(e, VNETLOOP_C_RX_WRITE_FAILED, 1);
	vnl_rx_zero_header(e);
	if (vnl_add_used(rx, head, 0))
		vnl_count(e, VNETLOOP_C_RX_ADD_USED_FAILURES, 1);
}

/*
 * Deliver the TX frame of len bytes into the next RX chain.
 * Returns VNL_FAULT_SRC if the TX buffer faulted (the module only: the
 * owner unmapped it); the RX chain is then left available, untouched as far
 * as the guest can tell, since nothing of it was used.
 */
static int vnl_rx_deliver(struct vnl_engine *e, u32 len,
			  unsigned int *poisoned)
{
	struct vnl_vq *rx = &e->vq[VNL_RX];
	u32 room;
	u16 head;
	int ret;

	if (!rx->ready) {
		vnl_count(e, VNETLOOP_C_TX_DROPPED_NO_RX_BUFFER, 1);
		return 0;
	}
	if (!rx->poisoned && rx->last_avail == rx->avail_idx &&
	    !vnl_avail_refresh(e, VNL_RX, poisoned)) {
		vnl_count(e, VNETLOOP_C_TX_DROPPED_NO_RX_BUFFER, 1);
		return 0;
	}
	if (rx->poisoned || vnl_pop(e, VNL_RX, &head, poisoned)) {
		vnl_count(e, VNETLOOP_C_TX_DROPPED_RX_POISONED, 1);
		return 0;
	}
	ret = vnl_walk(rx, head, VNL_WALK_WRITE, &e->rx);
	e->descs += e->rx.nseg;
	if (ret || e->rx.total < VNL_NET_HDR_LEN) {
		vnl_count(e, VNETLOOP_C_RX_CHAIN_INVALID, 1);
		if (vnl_add_used(rx, head, 0))
			vnl_count(e, VNETLOOP_C_RX_ADD_USED_FAILURES, 1);
		return 0;
	}
	room = e->rx.total - VNL_NET_HDR_LEN < len ?
	       e->rx.total - VNL_NET_HDR_LEN : len;
	ret = vnl_rx_header(e) ? VNL_FAULT_DST : vnl_copy_frame(e, room);
	if (ret == VNL_FAULT_SRC) {
		rx->last_avail--;
		return ret;
	}
	if (ret) {
		vnl_rx_discard(e, rx, head);
		return 0;
	}
	if (vnl_add_used(rx, head, VNL_NET_HDR_LEN + room)) {
		vnl_count(e, VNETLOOP_C_RX_ADD_USED_FAILURES, 1);
		return 0;
	}
	rx->pend_packets++;
	rx->pend_bytes += room;
	return 0;
}

/*
 * Validate the TX chain at head: its shape, that every byte is backed by
 * guest RAM (header included, which is not interpreted), then its size.
 * A chain that is both invalid and oversize is invalid; oversize is decided
 * before anything is copied.
 */
static enum vnl_tx_verdict vnl_tx_check(struct vnl_engine *e, u16 head,
					u32 *len)
{
	struct vnl_chain *c = &e->tx;
	u32 i;
	int ret;

	ret = vnl_walk(&e->vq[VNL_TX], head, VNL_WALK_READ, c);
	e->descs += c->nseg;
	if (ret || c->total < VNL_NET_HDR_LEN)
		return VNL_TX_INVALID;
	for (i = 0; i < c->nseg; i++)
		if (c->seg[i].len &&
		    !vnl_mem_backed(&e->mem, c->seg[i].addr, c->seg[i].len,
				    VNL_READ))
			return VNL_TX_INVALID;
	if (c->total - VNL_NET_HDR_LEN > VNL_MAX_FRAME_SIZE)
		return VNL_TX_OVERSIZE;
	*len = c->total - VNL_NET_HDR_LEN;
	return VNL_TX_OK;
}

/*
 * Inside vnl_tx_batch()'s access section: the head in vq's next avail slot,
 * and the address, length and flags of descriptor head (in range); a fault
 * goes to label.
 */
#define vnl_get_avail_head(vq, head, label)				\
	do {								\
		__virtio16 h_;						\
									\
		vnl_get(h_, &(vq)->avail_p->ring[(vq)->last_avail &	\
						 ((vq)->num - 1)], label); \
		(head) = vnl16_to_cpu(h_);				\
	} while (0)

#define vnl_get_desc(vq, head, gpa, size, fl, label)			\
	do {								\
		struct vring_desc __user *d_ =				\
			(vq)->desc_p + vnl_index_nospec(head, (vq)->num); \
		__virtio64 a_;						\
		__virtio32 l_;						\
		__virtio16 f_;						\
									\
		vnl_get(a_, &d_->addr, label);				\
		vnl_get(l_, &d_->len, label);				\
		vnl_get(f_, &d_->flags, label);				\
		(gpa) = vnl64_to_cpu(a_);				\
		(size) = vnl32_to_cpu(l_);				\
		(fl) = vnl16_to_cpu(f_);				\
	} while (0)

/*
 * The common case, many frames in one access section: one-descriptor TX
 * chains into one-descriptor RX buffers that hold the whole frame, each
 * buffer inside one region. Stops at the first frame that is anything else
 * (or at the budget, or when either avail ring looks empty) and leaves it to
 * the general path. Nothing of a frame is committed (positions, used
 * entries, counts) until all of it is done, so a fault anywhere hands the
 * whole frame over too: what was written so far is in buffers and used
 * slots the guest does not own yet. Returns the frames done.
 */
static u32 vnl_tx_batch(struct vnl_engine *e, u32 *packets, u64 *bytes)
{
	struct vnl_vq *tx = &e->vq[VNL_TX], *rx = &e->vq[VNL_RX];
	struct vring_used_elem __user *u;
	u64 taddr, raddr, thva, rhva;
	u32 tlen, rlen, n, done = 0;
	u16 thead, rhead, flags;

	if (!rx->ready || rx->poisoned || !tx->avail_p || !rx->avail_p ||
	    !tx->desc_p || !rx->desc_p || !tx->used_p || !rx->used_p)
		return 0;
	/*
	 * The section is opened on the TX avail ring; every other address
	 * used inside comes from the region table, whose ranges passed the
	 * home's access check when the table was set (vnl_mem_set()).
	 */
	if (!vnl_access_begin(tx->avail_p, vnl_avail_size(tx->num)))
		return 0;
	while (tx->last_avail != tx->avail_idx &&
	       rx->last_avail != rx->avail_idx &&
	       *packets < e->budget_packets && *bytes < e->budget_bytes &&
	       e->descs < VNL_DRAIN_DESCS_MAX) {
		vnl_get_avail_head(tx, thead, out);
		if (thead >= tx->num)
			break;
		vnl_get_desc(tx, thead, taddr, tlen, flags, out);
		if (flags || tlen < VNL_NET_HDR_LEN ||
		    tlen - VNL_NET_HDR_LEN > VNL_SECTION_COPY_MAX ||
		    vnl_mem_xlate(&e->mem, taddr, tlen, VNL_READ, &thva))
			break;
		n = tlen - VNL_NET_HDR_LEN;

		vnl_get_avail_head(rx, rhead, out);
		if (rhead >= rx->num)
			break;
		vnl_get_desc(rx, rhead, raddr, rlen, flags, out);
		/* As vnl_walk(): the whole descriptor must not wrap. */
		if (flags != VRING_DESC_F_WRITE || rlen < tlen ||
		    raddr + rlen - 1 < raddr ||
		    vnl_mem_xlate(&e->mem, raddr, tlen, VNL_WRITE, &rhva))
			break;

		vnl_put_rx_header((u8 __user *)vnl_guest_ptr(rhva), out);
		vnl_copy_in_section(vnl_guest_ptr(rhva + VNL_NET_HDR_LEN),
				    vnl_guest_ptr(thva + VNL_NET_HDR_LEN), n,
				    out, out);
		u = &rx->used_p->ring[rx->used_idx & (rx->num - 1)];
		vnl_put(cpu_to_vnl32(rhead), &u->id, out);
		vnl_put(cpu_to_vnl32(tlen), &u->len, out);
		u = &tx->used_p->ring[tx->used_idx & (tx->num - 1)];
		vnl_put(cpu_to_vnl32(thead), &u->id, out);
		vnl_put(0, &u->len, out);

		/* All done: the frame counts (once used->idx publishes it). */
		tx->last_avail++;
		rx->last_avail++;
		tx->used_idx++;
		rx->used_idx++;
		tx->added++;
		rx->added++;
		tx->pend_packets++;
		rx->pend_packets++;
		tx->pend_bytes += n;
		rx->pend_bytes += n;
		(*packets)++;
		*bytes += n;
		e->descs += 2;
		done++;
	}
out:
	vnl_access_end();
	return done;
}

/* One popped TX chain: deliver it, then complete it. Returns frame bytes. */
static u32 vnl_tx_one(struct vnl_engine *e, u16 head, unsigned int *poisoned)
{
	struct vnl_vq *tx = &e->vq[VNL_TX];
	enum vnl_tx_verdict v;
	u32 len = 0;

	v = vnl_tx_check(e, head, &len);
	if (v == VNL_TX_OK && vnl_rx_deliver(e, len, poisoned))
		v = VNL_TX_INVALID;
	if (v == VNL_TX_INVALID)
		vnl_count(e, VNETLOOP_C_TX_CHAIN_INVALID, 1);
	else if (v == VNL_TX_OVERSIZE)
		vnl_count(e, VNETLOOP_C_TX_OVERSIZE_DROPPED, 1);

	if (vnl_add_used(tx, head, 0)) {
		vnl_count(e, VNETLOOP_C_TX_ADD_USED_FAILURES, 1);
	} else if (v == VNL_TX_OK) {
		tx->pend_packets++;
		tx->pend_bytes += len;
	}
	return v == VNL_TX_OK ? len : 0;
}

/*
 * Make this drain's used entries of queue q visible: one used->idx store.
 * Packets count only now; if the store fails, every entry of the drain
 * is an add_used failure instead and the slots are reused.
 */
static void vnl_publish(struct vnl_engine *e, unsigned int q)
{
	static const enum vnetloop_counter c[VNETLOOP_NUM_QUEUES][3] = {
		[VNL_RX] = { VNETLOOP_C_RX_PACKETS, VNETLOOP_C_RX_BYTES,
			     VNETLOOP_C_RX_ADD_USED_FAILURES },
		[VNL_TX] = { VNETLOOP_C_TX_PACKETS, VNETLOOP_C_TX_BYTES,
			     VNETLOOP_C_TX_ADD_USED_FAILURES },
	};
	struct vnl_vq *vq = &e->vq[q];

	if (!vq->added)
		return;
	if (!vnl_used_publish(vq)) {
		vnl_count(e, c[q][0], vq->pend_packets);
		vnl_count(e, c[q][1], vq->pend_bytes);
		return;
	}
	/* Unpublished either way; only the guest's faults are counted. */
	if (!vnl_stop_pending())
		vnl_count(e, c[q][2], vq->added);
	vq->added = 0;
}

/*
 * With EVENT_IDX, ask for a kick at the next entry, then look again: an entry
 * published before the guest could see avail_event would otherwise wait.
 */
static int vnl_tx_rearm(struct vnl_engine *e, unsigned int *poisoned)
{
	struct vnl_vq *tx = &e->vq[VNL_TX];

	if (!vnl_has(e, VIRTIO_RING_F_EVENT_IDX))
		return 0;
	vnl_set_avail_event(tx, tx->last_avail);
	vnl_mb();
	return vnl_avail_refresh(e, VNL_TX, poisoned);
}

bool vnl_drain(struct vnl_engine *e)
{
	struct vnl_vq *tx = &e->vq[VNL_TX], *rx = &e->vq[VNL_RX];
	unsigned int poisoned = 0, vqs = 0, q;
	u32 packets = 0, isr = 0;
	bool more = false;
	u64 bytes = 0, start;
	u16 head, tx_start, rx_start;
	int pending;

	if (!e->live)
		return false;
	start = vnl_now_ns();
	memset(e->delta, 0, sizeof(e->delta));
	e->descs = 0;
	vnl_count(e, VNETLOOP_C_WORKER_RUNS, 1);
	if (!tx->ready || tx->poisoned)
		goto out;
	for (q = 0; q < VNETLOOP_NUM_QUEUES; q++) {
		e->vq[q].added = 0;
		e->vq[q].pend_packets = 0;
		e->vq[q].pend_bytes = 0;
	}
	tx_start = tx->last_avail;
	rx_start = rx->last_avail;

	for (;;) {
		if (unlikely(vnl_stop_pending()))
			goto stopped;
		if (tx->last_avail == tx->avail_idx) {
			pending = vnl_avail_refresh(e, VNL_TX, &poisoned);
			if (!pending)
				pending = vnl_tx_rearm(e, &poisoned);
			if (pending <= 0)
				break;
		}
		if (packets >= e->budget_packets || bytes >= e->budget_bytes ||
		    e->descs >= VNL_DRAIN_DESCS_MAX) {
			more = true;
			break;
		}
		if (vnl_tx_batch(e, &packets, &bytes))
			continue;
		if (vnl_pop(e, VNL_TX, &head, &poisoned))
			break;
		bytes += vnl_tx_one(e, head, &poisoned);
		packets++;
	}
	/* A fault that ended the loop may be the stop's (see the header). */
	if (unlikely(vnl_stop_pending()))
		goto stopped;

	vnl_publish(e, VNL_RX);
	vnl_publish(e, VNL_TX);
	if (rx->added || tx->added) {
		/* Our used->idx stores are visible before we read the hints. */
		vnl_mb();
		for (q = 0; q < VNETLOOP_NUM_QUEUES; q++)
			if (vnl_want_interrupt(e, &e->vq[q])) {
				isr |= VIRTIO_MMIO_INT_VRING;
				vqs |= 1U << q;
			}
	}
out:
	/*
	 * The one exit that commits, so every drain counted in worker_runs
	 * adds its time here: the second of its two clock reads.
	 */
	vnl_count(e, VNETLOOP_C_DRAIN_NS, vnl_now_ns() - start);
	vnl_drain_finish(e, isr, vqs, poisoned, more);
	return more;
stopped:
	/*
	 * Nothing published: every chain this drain took is the driver's.
	 * Nothing committed either, worker_runs and drain_ns included.
	 */
	tx->last_avail = tx_start;
	rx->last_avail = rx_start;
	tx->used_idx = tx->published;
	rx->used_idx = rx->published;
	return false;
}
