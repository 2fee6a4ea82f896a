/* SPDX-License-Identifier: GPL-2.0 */
/* The guest's virtio-mmio driver for the loopback NIC (split rings). */
#ifndef VNL_GUEST_VIRTIO_H
#define VNL_GUEST_VIRTIO_H

#include "guest.h"

#define QSIZE		256
#define NET_HDR_LEN	12
#define MAX_FRAME	65557

#define F_MAC		5
#define F_EVENT_IDX	29
#define F_VERSION_1	32

#define DESC_F_NEXT	1
#define DESC_F_WRITE	2

#define ST_ACK		0x01
#define ST_DRIVER	0x02
#define ST_DRIVER_OK	0x04
#define ST_FEATURES_OK	0x08
#define ST_NEEDS_RESET	0x40
#define ST_FAILED	0x80

#define ISR_VRING	1
#define ISR_CONFIG	2

/* Register offsets. */
#define R_MAGIC		0x000
#define R_VERSION	0x004
#define R_DEVICE_ID	0x008
#define R_VENDOR_ID	0x00c
#define R_DEV_FEAT	0x010
#define R_DEV_FEAT_SEL	0x014
#define R_DRV_FEAT	0x020
#define R_DRV_FEAT_SEL	0x024
#define R_QUEUE_SEL	0x030
#define R_QUEUE_NUM_MAX	0x034
#define R_QUEUE_NUM	0x038
#define R_QUEUE_READY	0x044
#define R_QUEUE_NOTIFY	0x050
#define R_ISR		0x060
#define R_ISR_ACK	0x064
#define R_STATUS	0x070
#define R_DESC_LO	0x080
#define R_DESC_HI	0x084
#define R_AVAIL_LO	0x090
#define R_AVAIL_HI	0x094
#define R_USED_LO	0x0a0
#define R_USED_HI	0x0a4
#define R_CONFIG	0x100

struct vdesc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

struct vavail {
	u16 flags;
	u16 idx;
	u16 ring[QSIZE];
	u16 used_event;
};

struct vused_elem {
	u32 id;
	u32 len;
};

struct vused {
	u16 flags;
	u16 idx;
	struct vused_elem ring[QSIZE];
	u16 avail_event;
};

struct vq {
	unsigned int index;
	volatile struct vdesc *desc;
	volatile struct vavail *avail;
	volatile struct vused *used;
	u16 avail_idx;		/* our next avail->idx */
	u16 kicked_idx;		/* avail->idx at the last kick decision */
	u16 last_used;
	u16 nfree;
	u16 free[QSIZE];	/* stack of free descriptors */
};

struct vdev {
	u64 base;
	u64 features;
	bool event_idx;
	struct vq rx, tx;
};

/* InterruptStatus bits seen by vdev_isr(); scenarios clear it. */
extern u32 isr_seen;

u32 vdev_read(struct vdev *d, u32 reg);
void vdev_write(struct vdev *d, u32 reg, u32 v);
/* Identity, features, queues, MAC, DRIVER_OK; false on a failed check. */
bool vdev_init(struct vdev *d, void *rings);
void vdev_reset(struct vdev *d);
/* Add a chain of n buffers; returns the head or -1 when out of descriptors. */
int vq_add(struct vq *q, const u64 *addr, const u32 *len, const u16 *flags,
	   unsigned int n);
static inline u16 vq_next_free(const struct vq *q)
{
	return q->free[q->nfree - 1];
}

/* Publish added entries; kick if the device asked for it. */
void vq_publish(struct vdev *d, struct vq *q);
/* Pop one used entry; false when none. Frees the chain's descriptors. */
bool vq_get_used(struct vq *q, u32 *id, u32 *len);
/* Re-enable interrupts; true if entries arrived meanwhile (poll again). */
bool vq_enable_cb(struct vdev *d, struct vq *q);
/* Read and acknowledge InterruptStatus after a device interrupt. */
void vdev_isr(struct vdev *d);

#endif /* VNL_GUEST_VIRTIO_H */
