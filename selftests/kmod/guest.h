/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A userspace "guest driver" for /dev/vnetloop: one memory region whose
 * guest-physical addresses equal this process's addresses, split rings
 * driven by the shared driver (virtq/), kick = write(kick eventfd),
 * interrupt = poll(call eventfd). Ring flags and layout are the kernel's
 * (<linux/virtio_ring.h>), frame sizes include/vnetloop/frame.h's.
 *
 * Everything returns 0 (or a count) on success and a negative errno on
 * failure, so tests can assert on the exact error.
 */
#ifndef VNL_ST_GUEST_H
#define VNL_ST_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_mmio.h>	/* InterruptStatus bits: vg_ack_irq() */

#include "include/uapi/vnetloop.h"
#include "include/vnetloop/frame.h"
#include "virtq/virtq.h"

#define VG_DEV_PATH	"/dev/vnetloop"
#define VG_MEM_SIZE	(8u << 20)	/* the guest's RAM */

/* The feature sets the tests negotiate. */
#define VG_FEATURES_BASE	((1ULL << VIRTIO_F_VERSION_1) | \
				 (1ULL << VIRTIO_NET_F_MAC))
#define VG_FEATURES_EVENT_IDX	(VG_FEATURES_BASE | \
				 (1ULL << VIRTIO_RING_F_EVENT_IDX))

/* A used entry as vg_used_pop() returns it. */
struct vg_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vg {
	int fd;			/* /dev/vnetloop */
	int kick;		/* eventfd: TX notify */
	int call;		/* eventfd: interrupt */
	struct vnetloop_info info;
	uint8_t *mem;
	size_t mem_size;
	size_t heap;		/* bump allocator offset into mem */
	/* The driver side of each queue; num 0: not set up. */
	struct virtq q[VNETLOOP_NUM_QUEUES];
};

/*
 * One descriptor of a chain, the shared driver's struct virtq_buf: gpa,
 * len, flags (0 or VRING_DESC_F_WRITE, plus extras).
 */
#define vg_seg virtq_buf

/* Device and memory. vg_open leaves the device unconfigured. */
int vg_open(struct vg *g);
void vg_close(struct vg *g);
int vg_check_device(char *why, size_t len);

static inline uint64_t vg_gpa(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* Room in guest RAM, 64-byte aligned, zeroed; NULL when full. */
void *vg_alloc(struct vg *g, size_t size);

/* Configuration ioctls; vg_setup does all of them, then START. */
int vg_set_mem(struct vg *g);
int vg_set_vring(struct vg *g, unsigned int q, uint16_t num);
int vg_set_features(struct vg *g, uint64_t features);
int vg_set_eventfds(struct vg *g);
int vg_start(struct vg *g);
int vg_setup(struct vg *g, uint64_t features, uint16_t rx_num,
	     uint16_t tx_num);
/* The same after a memory table of the caller's own. */
int vg_setup_queues(struct vg *g, uint64_t features, uint16_t rx_num,
		    uint16_t tx_num);
/* RESET, then forget ring state and pending interrupts. */
int vg_reset(struct vg *g);
int vg_get_irq(struct vg *g, struct vnetloop_irq_state *st);
int vg_ack_irq(struct vg *g, uint32_t bits);

/* Rings. */
void vg_desc_write(struct vg *g, unsigned int q, uint16_t i, uint64_t gpa,
		   uint32_t len, uint16_t flags, uint16_t next);
/* Write segs as a chain in descriptors head, head+1, ... (mod num). */
void vg_chain(struct vg *g, unsigned int q, uint16_t head,
	      const struct vg_seg *segs, unsigned int n);
/* Offer head in the avail ring and publish the new index. */
void vg_avail_push(struct vg *g, unsigned int q, uint16_t head);
/*
 * Offer the contiguous buffer buf as a chain at head, cut into n
 * descriptors of lens[i] bytes, each with flags (0 or VRING_DESC_F_WRITE).
 */
void vg_post_split(struct vg *g, unsigned int q, uint16_t head, void *buf,
		   const uint32_t *lens, unsigned int n, uint16_t flags);
/* The same with one descriptor. */
void vg_post(struct vg *g, unsigned int q, uint16_t head, void *buf,
	     uint32_t len, uint16_t flags);
/* A byte pattern that differs per seed and position. */
void vg_fill(void *buf, size_t len, uint32_t seed);
/* Store a raw avail->idx (hostile drivers); also our own notion. */
void vg_avail_set_idx(struct vg *g, unsigned int q, uint16_t idx);
void vg_avail_set_flags(struct vg *g, unsigned int q, uint16_t flags);
void vg_set_used_event(struct vg *g, unsigned int q, uint16_t v);
/* used_event = next used entry: interrupt on the next completion. */
void vg_arm(struct vg *g);
uint16_t vg_used_idx(struct vg *g, unsigned int q);
/* Entries published but not yet consumed. */
uint16_t vg_used_pending(struct vg *g, unsigned int q);
/* Consume one used entry; returns 1, or 0 when there is none. */
int vg_used_pop(struct vg *g, unsigned int q, struct vg_used_elem *e);

/* Notifications. */
int vg_kick(struct vg *g);
/* Wait for the interrupt; returns its eventfd count, 0 on timeout. */
int64_t vg_wait_irq(struct vg *g, int timeout_ms);
/* Read a pending interrupt count without waiting (0 if none). */
int64_t vg_irq_count(struct vg *g);
/* Sleep-poll until count used entries are pending; -ETIMEDOUT otherwise. */
int vg_wait_used(struct vg *g, unsigned int q, uint16_t count,
		 int timeout_ms);

/* Milliseconds to wait when checking that nothing happens. */
int vg_settle_ms(void);
void vg_sleep_ms(int ms);

#endif /* VNL_ST_GUEST_H */
