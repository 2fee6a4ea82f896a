/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ring engine's primitives, shared by the data path (vnl_engine.c) and
 * the control queue (vnl_ctrl.c): counting, poisoning, popping, walking,
 * adding and publishing used entries, and the interrupt decision. Static
 * inline, so each caller gets them as the data path always had them.
 * Internal to core/: homes use vnl_engine.h.
 */
#ifndef VNL_ENGINE_INT_H
#define VNL_ENGINE_INT_H

#include "vnl_engine.h"

static inline void vnl_count(struct vnl_engine *e, enum vnetloop_counter c,
			     u64 v)
{
	e->delta[c] += v;
}

static inline bool vnl_has(const struct vnl_engine *e, unsigned int bit)
{
	return e->features & (1ULL << bit);
}

/* Poisoning is counted and signalled once per transition. */
static inline void vnl_poison(struct vnl_engine *e, unsigned int q,
			      unsigned int *poisoned)
{
	struct vnl_vq *vq = &e->vq[q];

	if (vq->poisoned)
		return;
	vq->poisoned = true;
	vnl_count(e, VNETLOOP_C_INVALID_AVAIL_IDX_COUNT, 1);
	*poisoned |= 1U << q;
}

/* Read a 16-bit field of a ring; false if it faulted. */
static inline bool vnl_read16(__virtio16 __user *p, u16 *v)
{
	__virtio16 raw;

	if (!vnl_access_begin(p, sizeof(*p)))
		return false;
	vnl_get(raw, p, fault);
	vnl_access_end();
	*v = vnl16_to_cpu(raw);
	return true;
fault:
	vnl_access_end();
	return false;
}

/*
 * Re-read avail->idx. Returns the number of pending entries, or -1 after
 * poisoning the queue (idx unreadable or more than num ahead of us).
 */
static inline int vnl_avail_refresh(struct vnl_engine *e, unsigned int q,
				    unsigned int *poisoned)
{
	struct vnl_vq *vq = &e->vq[q];
	u16 idx;

	if (!vq->avail_p || !vnl_read16(&vq->avail_p->idx, &idx) ||
	    (u16)(idx - vq->last_avail) > vq->num) {
		vnl_poison(e, q, poisoned);
		return -1;
	}
	vq->avail_idx = idx;
	/* Ring entries are read only after the index that covers them. */
	vnl_rmb();
	return (u16)(idx - vq->last_avail);
}

/* The next available head; the caller knows one is pending. */
static inline int vnl_pop(struct vnl_engine *e, unsigned int q, u16 *head,
			  unsigned int *poisoned)
{
	struct vnl_vq *vq = &e->vq[q];

	/* A new region table may have left the ring unbacked since. */
	if (!vq->avail_p ||
	    !vnl_read16(&vq->avail_p->ring[vq->last_avail & (vq->num - 1)],
			head)) {
		vnl_poison(e, q, poisoned);
		return -1;
	}
	vq->last_avail++;
	return 0;
}

/*
 * Walk the chain at head into c. Every descriptor must have the direction
 * the queue expects (dir, a constant): all device-readable (TX), all
 * device-writable (RX), or readable ones then writable ones (the control
 * queue; c->nread counts the readable ones). At most num descriptors, so
 * loops end. One access section covers the whole table.
 */
#define VNL_WALK_READ	0
#define VNL_WALK_WRITE	1
#define VNL_WALK_CTRL	2

static __always_inline int vnl_walk(struct vnl_vq *vq, u16 head,
				    unsigned int dir, struct vnl_chain *c)
{
	struct vring_desc __user *t = vq->desc_p;
	/*
	 * Through a pointer: n < num <= the array's size, but a bounds
	 * sanitizer (sid's kernels) would check c->seg[n] by calling out of
	 * the user access section.
	 */
	struct vnl_seg *seg = c->seg;
	__virtio64 raddr;
	__virtio32 rlen;
	__virtio16 rflags, rnext;
	u64 sum = 0, addr;
	u32 n = 0, nread = 0, len;
	u16 i = head, flags;

	c->nseg = 0;
	if (!t || !vnl_access_begin(t, (u64)vq->num * sizeof(*t)))
		return -EFAULT;
	for (;;) {
		if (i >= vq->num || n >= vq->num)
			goto bad;
		i = vnl_index_nospec(i, vq->num);
		vnl_get(raddr, &t[i].addr, fault);
		vnl_get(rlen, &t[i].len, fault);
		vnl_get(rflags, &t[i].flags, fault);
		vnl_get(rnext, &t[i].next, fault);
		addr = vnl64_to_cpu(raddr);
		len = vnl32_to_cpu(rlen);
		flags = vnl16_to_cpu(rflags);
		/* INDIRECT_DESC is never offered, so never negotiated. */
		if (flags & VRING_DESC_F_INDIRECT)
			goto bad;
		if (dir == VNL_WALK_CTRL) {
			/* Nothing readable after the first writable one. */
			if (!(flags & VRING_DESC_F_WRITE) && nread++ != n)
				goto bad;
		} else if (!!(flags & VRING_DESC_F_WRITE) !=
			   (dir == VNL_WALK_WRITE)) {
			goto bad;
		}
		if (len && addr + len - 1 < addr)
			goto bad;
		seg[n].addr = addr;
		seg[n].len = len;
		n++;
		sum += len;
		if (!(flags & VRING_DESC_F_NEXT))
			break;
		i = vnl16_to_cpu(rnext);
	}
	vnl_access_end();
	c->nseg = n;
	c->total = sum;
	if (dir == VNL_WALK_CTRL)
		c->nread = nread;
	return 0;
fault:
	vnl_access_end();
	c->nseg = n;
	return -EFAULT;
bad:
	vnl_access_end();
	c->nseg = n;
	return -EINVAL;
}

/* Fill the next used slot; used->idx is published once per drain. */
static __always_inline int vnl_add_used(struct vnl_vq *vq, u32 id, u32 len)
{
	struct vring_used_elem __user *p;

	if (id >= vq->num || !vq->used_p)
		return -EFAULT;
	p = &vq->used_p->ring[vq->used_idx & (vq->num - 1)];
	if (!vnl_access_begin(p, sizeof(*p)))
		return -EFAULT;
	vnl_put(cpu_to_vnl32(id), &p->id, fault);
	vnl_put(cpu_to_vnl32(len), &p->len, fault);
	vnl_access_end();
	vq->used_idx++;
	vq->added++;
	return 0;
fault:
	vnl_access_end();
	return -EFAULT;
}

/*
 * Did the guest ask to hear about this queue's new used entries? The
 * caller has ordered our used->idx stores before these reads.
 */
static inline bool vnl_want_interrupt(struct vnl_engine *e,
				      struct vnl_vq *vq)
{
	u16 old = vq->signalled_used, new = vq->used_idx, v;
	bool valid = vq->signalled_valid;

	if (!vq->ready || !vq->added)
		return false;
	vq->signalled_used = new;
	vq->signalled_valid = true;
	/* A hint that cannot be read asks for the interrupt. */
	if (!vq->avail_p)
		return true;
	if (vnl_has(e, VIRTIO_RING_F_EVENT_IDX)) {
		/* A full 16-bit lap makes old == new: the hint is moot. */
		if (!valid || vq->added > 0xffff ||
		    !vnl_read16(&vq->avail_p->ring[vq->num], &v))
			return true;
		return vring_need_event(v, new, old);
	}
	if (!vnl_read16(&vq->avail_p->flags, &v))
		return true;
	return !(v & VRING_AVAIL_F_NO_INTERRUPT);
}

/* If avail_event cannot be written the guest kicks as it likes: harmless. */
static inline void vnl_set_avail_event(struct vnl_vq *vq, u16 v)
{
	__virtio16 __user *p = vq->avail_event_p;

	if (!p || !vnl_access_begin(p, sizeof(*p)))
		return;
	vnl_put(cpu_to_vnl16(v), p, out);
out:
	vnl_access_end();
}

/*
 * The drain's consequences, in the order readers rely on: counters first,
 * then NEEDS_RESET and InterruptStatus, then the one interrupt.
 */
static inline void vnl_drain_finish(struct vnl_engine *e, u32 isr,
				    unsigned int vqs, unsigned int poisoned,
				    bool more)
{
	unsigned int q;

	if (poisoned)
		isr |= VIRTIO_MMIO_INT_CONFIG;
	if (isr)
		vnl_count(e, VNETLOOP_C_INTERRUPTS, 1);
	if (more)
		vnl_count(e, VNETLOOP_C_BUDGET_REQUEUES, 1);
	e->ops->commit(e->ctx, e->delta);
	if (poisoned)
		vnl_atomic_or(VIRTIO_CONFIG_S_NEEDS_RESET, &e->status);
	if (isr) {
		vnl_atomic_or(isr, &e->isr);
		e->ops->interrupt(e->ctx, isr, vqs);
	}
	for (q = 0; q < VNETLOOP_ENGINE_QUEUES && e->ops->poisoned; q++)
		if (poisoned & (1U << q))
			e->ops->poisoned(e->ctx, q);
}

/*
 * Store used->idx for this drain's entries of vq. On failure the entries
 * are taken back (the slots are reused) and -EFAULT is returned; the
 * caller counts.
 */
static inline int vnl_used_publish(struct vnl_vq *vq)
{
	__virtio16 __user *p = &vq->used_p->idx;

	/* The entries are visible before the index that publishes them. */
	vnl_wmb();
	if (!vnl_access_begin(p, sizeof(*p)))
		goto fail;
	vnl_put(cpu_to_vnl16(vq->used_idx), p, fault);
	vnl_access_end();
	vq->published = vq->used_idx;
	return 0;
fault:
	vnl_access_end();
fail:
	vq->used_idx = vq->published;
	return -EFAULT;
}

#endif /* VNL_ENGINE_INT_H */
