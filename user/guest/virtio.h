/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's virtio-mmio driver for the loopback NIC. The registers, bits
 * and layouts are the kernel's (<linux/virtio_*.h>); the rings are driven by
 * the shared split-virtqueue driver, virtq/.
 */
#ifndef VNL_GUEST_VIRTIO_H
#define VNL_GUEST_VIRTIO_H

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_net.h>

#include "guest.h"
#include "include/vnetloop/frame.h"
#include "virtq/virtq.h"

/* Both queues have the device's largest size. */
#define QSIZE		VNETLOOP_QUEUE_SIZE_MAX

struct vdev {
	u64 base;
	u64 features;
	bool event_idx;
	struct virtq rx, tx;
};

/* InterruptStatus bits seen by vdev_isr(); scenarios clear it. */
extern u32 isr_seen;

u32 vdev_read(struct vdev *d, u32 reg);
void vdev_write(struct vdev *d, u32 reg, u32 v);
/*
 * Identity, features, queues (on 2 x VIRTQ_RING_BYTES at rings), MAC,
 * DRIVER_OK; false on a failed check.
 */
bool vdev_init(struct vdev *d, void *rings);
void vdev_reset(struct vdev *d);
/* Publish added entries; notify the queue if the device asked for it. */
void vdev_publish(struct vdev *d, struct virtq *q);
/* Pop one used entry and free its chain; false when none. */
bool vdev_get_used(struct vdev *d, struct virtq *q, u32 *id, u32 *len);
/* Read and acknowledge InterruptStatus after a device interrupt. */
void vdev_isr(struct vdev *d);

#endif /* VNL_GUEST_VIRTIO_H */
