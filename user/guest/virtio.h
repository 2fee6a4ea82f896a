/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's virtio driver for the loopback NIC, over virtio-mmio or
 * virtio-pci (params->transport). The registers, bits and layouts are the
 * kernel's (<linux/virtio_*.h>, <linux/pci_regs.h>); the rings are driven
 * by the shared split-virtqueue driver, virtq/. The device side of the
 * driver (status, features, queues, interrupts) is written once here; a
 * transport (virtio_mmio.c, virtio_pci.c) says how each step reaches the
 * device.
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

/* Every queue has the device's largest size. */
#define QSIZE		VNETLOOP_QUEUE_SIZE_MAX
/* Queue pairs the guest drives at most, and so its virtqueues. */
#define VDEV_MAX_PAIRS	16
#define VDEV_MAX_QUEUES	(2 * VDEV_MAX_PAIRS + 1)

/* InterruptStatus bits: virtio-mmio's, which virtio-pci's ISR shares. */
#define ISR_VRING	VIRTIO_MMIO_INT_VRING
#define ISR_CONFIG	VIRTIO_MMIO_INT_CONFIG

struct vdev;

struct vdev_transport {
	const char *name;
	/* Find the device and check who it is; once. */
	bool (*probe)(struct vdev *d);
	u32 (*status)(struct vdev *d);
	void (*set_status)(struct vdev *d, u32 st);
	/* What the device offers; false on a failed check. */
	bool (*features)(struct vdev *d, u64 *offered);
	void (*set_features)(struct vdev *d, u64 f);
	/* Set up and enable queue index on q's rings; false on a check. */
	bool (*queue)(struct vdev *d, unsigned int index, struct virtq *q);
	u8 (*config8)(struct vdev *d, u32 off);
	void (*notify)(struct vdev *d, unsigned int index);
	/* After a device interrupt: why (ISR_*), acknowledged. */
	u32 (*isr)(struct vdev *d);
	/* The InterruptStatus register, read (and acknowledged) once. */
	u32 (*isr_read)(struct vdev *d);
};

struct vdev {
	const struct vdev_transport *t;
	bool probed;
	u64 features;
	bool event_idx;
	struct virtq rx, tx;		/* pair 0 */
	/*
	 * Multiqueue (MQ and CTRL_VQ negotiated): pairs > 1, the other
	 * pairs' queues (virtqueue 2 on) and the control queue (2 pairs).
	 */
	u32 pairs;
	struct virtq mq[2 * VDEV_MAX_PAIRS - 2];
	struct virtq ctrl;
	/* virtio-mmio */
	u64 base;
	/* virtio-pci: where the structures are, once the BARs are placed */
	u32 slot;
	u64 common, isr_addr, devcfg, notify;
	u32 notify_mult;
	u64 notify_at[VDEV_MAX_QUEUES];	/* each queue's notify address */
	bool msix;
	u64 msix_table, msix_pba;
};

extern const struct vdev_transport vdev_mmio, vdev_pci;

/* InterruptStatus bits seen by vdev_isr(); scenarios clear it. */
extern u32 isr_seen;

/* Count one register access of the device (result.mmio_accesses). */
static inline void vdev_count(void)
{
	result.mmio_accesses++;
}

/*
 * Probe (the first time), status, features, queues (on vdev_rings() x
 * VIRTQ_RING_BYTES at rings, queue q at q x VIRTQ_RING_BYTES), MAC,
 * DRIVER_OK; false on a failed check. MQ and CTRL_VQ are accepted when
 * params->queue_pairs > 1 and the device offers them.
 */
bool vdev_init(struct vdev *d, void *rings);
/* The rings vdev_init() may need: 2, or 2 queue_pairs + 1. */
u32 vdev_rings(void);
/* Virtqueue index: pair 0's, another pair's, or the control queue. */
struct virtq *vdev_vq(struct vdev *d, unsigned int index);
/* Publish added entries of virtqueue index; notify it if asked to. */
void vdev_publish_index(struct vdev *d, unsigned int index);
void vdev_reset(struct vdev *d);
/* Device status, with NEEDS_RESET. */
u32 vdev_status(struct vdev *d);
/* Notify queue index, counting the kick. */
void vdev_kick(struct vdev *d, unsigned int index);
/* Publish added entries; notify the queue if the device asked for it. */
void vdev_publish(struct vdev *d, struct virtq *q);
/* Pop one used entry and free its chain; false when none. */
bool vdev_get_used(struct vdev *d, struct virtq *q, u32 *id, u32 *len);
/* Take a device interrupt: why, and acknowledge it. */
void vdev_isr(struct vdev *d);

/* virtio-pci with MSI-X: the vectors, configuration changes first. */
enum { MSIX_VEC_CONFIG, MSIX_VEC_RX, MSIX_VEC_TX, MSIX_VECTORS };
/* Mask or unmask vector v; its pending bit. */
void vdev_msix_mask(struct vdev *d, unsigned int v, bool masked);
bool vdev_msix_pending(struct vdev *d, unsigned int v);

#endif /* VNL_GUEST_VIRTIO_H */
