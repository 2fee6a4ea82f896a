/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The driver side of a split virtqueue (virtio 1.2, 2.7), written once for
 * every program here that plays the guest: the built-in guest
 * (freestanding), the module selftests, the stats traffic tool, the engine
 * unit tests and the benchmark. The layout and its constants are the
 * kernel's, <linux/virtio_ring.h>; core/ is the device side.
 *
 * The rings are memory of this address space, placed by the caller, which
 * also tells the device where they are. A chain goes into descriptors the
 * caller picks (virtq_write_chain()) or into free ones (virtq_add(), and
 * virtq_free_chain() once the device returned it). virtq_avail_add() offers
 * a head; virtq_publish() makes what was offered visible, after the ring
 * entries. Every field the device reads is stored, and every field it
 * writes is loaded, exactly once (atomic accesses), so a device running
 * alongside never sees or gives a torn or repeated access.
 *
 * Rings are little-endian (VERSION_1); so is every home of this driver.
 * Freestanding headers only: the built-in guest builds it with -ffreestanding.
 */
#ifndef VIRTQ_H
#define VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_ring.h>

#include "../include/uapi/vnetloop.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "virtio rings are little-endian: add conversions");

/* The largest queue virtq_add() keeps free descriptors for. */
#define VIRTQ_NUM_MAX		VNETLOOP_QUEUE_SIZE_MAX

/*
 * The placement the programs here use: the descriptor table, the avail ring
 * and the used ring each in its own page, in that order, which holds queues
 * of up to VIRTQ_NUM_MAX entries (virtq_init_pages()).
 */
#define VIRTQ_PAGE		4096u
#define VIRTQ_RING_BYTES	(3 * VIRTQ_PAGE)

/* One buffer of a chain: NEXT and next are filled in. */
struct virtq_buf {
	uint64_t gpa;
	uint32_t len;
	uint16_t flags;		/* VRING_DESC_F_WRITE or 0, and any extra */
};

struct virtq {
	uint16_t num;			/* a power of two; 0: not set up */
	struct vring_desc *desc;
	struct vring_avail *avail;	/* ends in used_event */
	struct vring_used *used;	/* ends in avail_event */
	uint16_t avail_idx;		/* the next avail->idx to publish */
	uint16_t last_used;		/* the next used entry to consume */
	uint16_t kicked_idx;		/* avail_idx at the last kick decision */
	bool event_idx;			/* VIRTIO_RING_F_EVENT_IDX negotiated */
	uint16_t nfree;			/* free descriptors, a stack */
	uint16_t free[VIRTQ_NUM_MAX];
};

/* Bytes of each ring part, the event fields included (as vring_size()). */
static inline size_t virtq_desc_size(unsigned int num)
{
	return sizeof(struct vring_desc) * num;
}

static inline size_t virtq_avail_size(unsigned int num)
{
	return sizeof(struct vring_avail) + sizeof(__virtio16) * (num + 1);
}

static inline size_t virtq_used_size(unsigned int num)
{
	return sizeof(struct vring_used) +
	       sizeof(struct vring_used_elem) * num + sizeof(__virtio16);
}

/*
 * A fresh queue of num entries on these ring parts: the parts given are
 * zeroed (a NULL one is left alone: rings the device cannot reach, for
 * tests), positions start at 0 and every descriptor is free.
 */
void virtq_init(struct virtq *vq, unsigned int num, void *desc, void *avail,
		void *used);
/* The same on VIRTQ_RING_BYTES at base, one page per part, all zeroed. */
void virtq_init_pages(struct virtq *vq, unsigned int num, void *base);

/* Write descriptor i as it is given (any flags, any next). */
void virtq_set_desc(struct virtq *vq, uint16_t i, uint64_t gpa, uint32_t len,
		    uint16_t flags, uint16_t next);
/*
 * Write n buffers as a chain into descriptors head, head + 1, ... (modulo
 * num). Returns the descriptor after the last one.
 */
uint16_t virtq_write_chain(struct virtq *vq, uint16_t head,
			   const struct virtq_buf *b, unsigned int n);
/* Offer head in the next avail slot; virtq_publish() makes it visible. */
void virtq_avail_add(struct virtq *vq, uint16_t head);
/*
 * Write n buffers as a chain into free descriptors and offer it. Returns
 * its head, or -1 with fewer than n (or no buffers).
 */
int virtq_add(struct virtq *vq, const struct virtq_buf *b, unsigned int n);
/* The descriptor virtq_add() takes next; there must be one. */
static inline uint16_t virtq_next_free(const struct virtq *vq)
{
	return vq->free[vq->nfree - 1];
}

/* The chain at head is back from the device: its descriptors are free. */
void virtq_free_chain(struct virtq *vq, uint16_t head);

/* Store avail->idx = avail_idx, after the entries it covers. */
void virtq_publish(struct virtq *vq);
/*
 * After virtq_publish(): does the device want a notification for what was
 * published since the last decision? With EVENT_IDX its avail_event says
 * (vring_need_event()), without it VRING_USED_F_NO_NOTIFY. Nothing new
 * published: no.
 */
bool virtq_kick_prepare(struct virtq *vq);

/* Raw stores, as a hostile or testing driver makes them. */
void virtq_set_avail_idx(struct virtq *vq, uint16_t idx);	/* and avail_idx */
void virtq_set_avail_flags(struct virtq *vq, uint16_t flags);
void virtq_set_used_event(struct virtq *vq, uint16_t v);
/* What the device wrote: avail_event, used->idx, used entry idx. */
uint16_t virtq_avail_event(const struct virtq *vq);
uint16_t virtq_used_idx(const struct virtq *vq);
struct vring_used_elem virtq_used_elem(const struct virtq *vq, uint16_t idx);

/* Used entries published but not consumed yet (0 when not set up). */
uint16_t virtq_used_pending(const struct virtq *vq);
/* Consume the next used entry; false when there is none. */
bool virtq_get_used(struct virtq *vq, uint32_t *id, uint32_t *len);
/*
 * Ask for an interrupt at the next used entry (used_event = last_used,
 * written whether or not EVENT_IDX is negotiated, as Linux does); true if
 * entries arrived meanwhile, which the caller must then consume.
 */
bool virtq_enable_cb(struct virtq *vq);

#endif /* VIRTQ_H */
