// SPDX-License-Identifier: GPL-2.0
/*
 * The driver side of a split virtqueue (see virtq.h). Memory ordering, as
 * virtio 1.2, 2.7.13 asks of a driver:
 *  - descriptors and avail entries before the avail->idx that publishes
 *    them (a release store);
 *  - avail->idx before reading the device's notification hint, and
 *    used_event before looking at used->idx again (full barriers);
 *  - used->idx before the used entries it covers (an acquire load).
 */
#include "virtq.h"

static uint16_t virtq_load16(const __virtio16 *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void virtq_store16(__virtio16 *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static void virtq_mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void virtq_init(struct virtq *vq, unsigned int num, void *desc, void *avail,
		void *used)
{
	unsigned int i;

	vq->num = num;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	if (desc)
		__builtin_memset(desc, 0, virtq_desc_size(num));
	if (avail)
		__builtin_memset(avail, 0, virtq_avail_size(num));
	if (used)
		__builtin_memset(used, 0, virtq_used_size(num));
	vq->avail_idx = 0;
	vq->last_used = 0;
	vq->kicked_idx = 0;
	vq->event_idx = false;
	/* Popped in order 0, 1, 2, ... */
	vq->nfree = num < VIRTQ_NUM_MAX ? num : VIRTQ_NUM_MAX;
	for (i = 0; i < vq->nfree; i++)
		vq->free[i] = vq->nfree - 1 - i;
}

void virtq_init_pages(struct virtq *vq, unsigned int num, void *base)
{
	uint8_t *p = base;

	__builtin_memset(p, 0, VIRTQ_RING_BYTES);
	virtq_init(vq, num, p, p + VIRTQ_PAGE, p + 2 * VIRTQ_PAGE);
}

void virtq_set_desc(struct virtq *vq, uint16_t i, uint64_t gpa, uint32_t len,
		    uint16_t flags, uint16_t next)
{
	struct vring_desc *d = &vq->desc[i];

	__atomic_store_n(&d->addr, gpa, __ATOMIC_RELAXED);
	__atomic_store_n(&d->len, len, __ATOMIC_RELAXED);
	__atomic_store_n(&d->flags, flags, __ATOMIC_RELAXED);
	__atomic_store_n(&d->next, next, __ATOMIC_RELAXED);
}

/* Buffer k of n: its flags, NEXT on all but the last. */
static uint16_t virtq_chain_flags(const struct virtq_buf *b, unsigned int k,
				  unsigned int n)
{
	return b[k].flags | (k + 1 < n ? VRING_DESC_F_NEXT : 0);
}

uint16_t virtq_write_chain(struct virtq *vq, uint16_t head,
			   const struct virtq_buf *b, unsigned int n)
{
	uint16_t mask = vq->num - 1, i = head & mask, next;
	unsigned int k;

	for (k = 0; k < n; k++) {
		next = (i + 1) & mask;
		virtq_set_desc(vq, i, b[k].gpa, b[k].len,
			       virtq_chain_flags(b, k, n), k + 1 < n ? next : 0);
		i = next;
	}
	return i;
}

void virtq_avail_add(struct virtq *vq, uint16_t head)
{
	__atomic_store_n(&vq->avail->ring[vq->avail_idx & (vq->num - 1)],
			 head, __ATOMIC_RELAXED);
	vq->avail_idx++;
}

int virtq_add(struct virtq *vq, const struct virtq_buf *b, unsigned int n)
{
	uint16_t head, i, next = 0;
	unsigned int k;

	if (!n || n > vq->nfree)
		return -1;
	head = i = vq->free[--vq->nfree];
	for (k = 0; k < n; k++) {
		if (k + 1 < n)
			next = vq->free[--vq->nfree];
		virtq_set_desc(vq, i, b[k].gpa, b[k].len,
			       virtq_chain_flags(b, k, n), k + 1 < n ? next : 0);
		i = next;
	}
	virtq_avail_add(vq, head);
	return head;
}

void virtq_free_chain(struct virtq *vq, uint16_t head)
{
	uint16_t i = head, flags;
	unsigned int k;

	/* A chain has at most num descriptors; a bad one stops early. */
	for (k = 0; k < vq->num && i < vq->num && vq->nfree < vq->num; k++) {
		flags = virtq_load16(&vq->desc[i].flags);
		vq->free[vq->nfree++] = i;
		if (!(flags & VRING_DESC_F_NEXT))
			break;
		i = virtq_load16(&vq->desc[i].next);
	}
}

void virtq_publish(struct virtq *vq)
{
	virtq_store16(&vq->avail->idx, vq->avail_idx);
}

bool virtq_kick_prepare(struct virtq *vq)
{
	uint16_t old = vq->kicked_idx, new = vq->avail_idx;
	bool kick;

	if (old == new)
		return false;
	virtq_mb();
	if (vq->event_idx)
		kick = vring_need_event(virtq_avail_event(vq), new, old);
	else
		kick = !(virtq_load16(&vq->used->flags) &
			 VRING_USED_F_NO_NOTIFY);
	vq->kicked_idx = new;
	return kick;
}

void virtq_set_avail_idx(struct virtq *vq, uint16_t idx)
{
	vq->avail_idx = idx;
	virtq_publish(vq);
}

void virtq_set_avail_flags(struct virtq *vq, uint16_t flags)
{
	virtq_store16(&vq->avail->flags, flags);
}

void virtq_set_used_event(struct virtq *vq, uint16_t v)
{
	virtq_store16(&vq->avail->ring[vq->num], v);
}

uint16_t virtq_avail_event(const struct virtq *vq)
{
	return virtq_load16((const __virtio16 *)&vq->used->ring[vq->num]);
}

uint16_t virtq_used_idx(const struct virtq *vq)
{
	return __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
}

struct vring_used_elem virtq_used_elem(const struct virtq *vq, uint16_t idx)
{
	const struct vring_used_elem *e = &vq->used->ring[idx & (vq->num - 1)];

	return (struct vring_used_elem){
		.id = __atomic_load_n(&e->id, __ATOMIC_RELAXED),
		.len = __atomic_load_n(&e->len, __ATOMIC_RELAXED),
	};
}

uint16_t virtq_used_pending(const struct virtq *vq)
{
	if (!vq->num)
		return 0;
	return (uint16_t)(virtq_used_idx(vq) - vq->last_used);
}

bool virtq_get_used(struct virtq *vq, uint32_t *id, uint32_t *len)
{
	struct vring_used_elem e;

	if (!virtq_used_pending(vq))
		return false;
	e = virtq_used_elem(vq, vq->last_used++);
	*id = e.id;
	*len = e.len;
	return true;
}

bool virtq_enable_cb(struct virtq *vq)
{
	virtq_set_used_event(vq, vq->last_used);
	virtq_mb();
	return virtq_used_pending(vq) != 0;
}
