/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every virtio transport of the loopback NIC shares (virtio-mmio,
 * virtio-pci): the status state machine, feature negotiation, the queue
 * configuration the driver writes, interrupt status merged with the
 * backend's, config space reads, and what goes to the backend (the status
 * steps, the rings at DRIVER_OK, the reset, TX notifies). The transports
 * keep their registers, selectors and locking; they call these with their
 * lock held. Bits are the kernel's (<linux/virtio_config.h>); interrupt
 * status bits are virtio-mmio's, which virtio-pci's ISR shares.
 */
#ifndef VNL_VIRTIO_DEV_H
#define VNL_VIRTIO_DEV_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "user/dev/backend.h"

struct vnl_vdev {
	struct vnl_backend *be;
	uint64_t offered;	/* to the guest: never ACCESS_PLATFORM */
	uint32_t status;	/* driver-set bits, FAILED, local NEEDS_RESET */
	uint32_t isr;		/* CONFIG raised by the transport itself */
	uint64_t drv_features;
	unsigned int max_pairs;	/* the backend's */
	unsigned int nqueues;	/* 2, or 2 max_pairs + 1 with the control */
	struct vnl_queue_cfg q[VNL_MAX_QUEUES];
	/* InterruptStatus reads that found nothing: interrupts not ours. */
	uint64_t isr_empty_reads;
};

/*
 * The device offers the guest the bits of features that the backend's
 * device offers, less VIRTIO_F_ACCESS_PLATFORM; it has the backend's
 * queue pairs.
 */
void vnl_vdev_init(struct vnl_vdev *d, struct vnl_backend *be,
		   uint64_t features);

static inline bool vnl_vdev_started(const struct vnl_vdev *d)
{
	return d->status & VIRTIO_CONFIG_S_DRIVER_OK;
}

/* Device features window sel (0: low 32 bits, 1: high, others 0). */
uint32_t vnl_vdev_features(const struct vnl_vdev *d, uint32_t sel);
/* Driver features window sel: only between DRIVER and FEATURES_OK. */
void vnl_vdev_set_features(struct vnl_vdev *d, uint32_t sel, uint32_t v);
/* Status with the backend's NEEDS_RESET once DRIVER_OK is set. */
uint32_t vnl_vdev_status(struct vnl_vdev *d);
/*
 * A Status write: 0 resets (the backend too; the transport clears its own
 * registers when this returns true), else one bit at a time, in order.
 */
bool vnl_vdev_set_status(struct vnl_vdev *d, uint32_t v);
/* Queue q's configuration, writable between FEATURES_OK and DRIVER_OK. */
struct vnl_queue_cfg *vnl_vdev_queue(struct vnl_vdev *d, uint32_t q);
bool vnl_vdev_queue_writable(const struct vnl_vdev *d);
/* A queue size: a power of two, 1..VNETLOOP_QUEUE_SIZE_MAX. */
bool vnl_vdev_queue_num_ok(uint32_t num);
/* Set the low or high half of a 64-bit register. */
void vnl_set_lo(uint64_t *r, uint32_t v);
void vnl_set_hi(uint64_t *r, uint32_t v);
/*
 * A notify of queue q: a TX queue's or the control queue's goes to the
 * backend after DRIVER_OK.
 */
void vnl_vdev_notify(struct vnl_vdev *d, uint32_t q);
/* InterruptStatus: the transport's and the backend's bits (a read). */
uint32_t vnl_vdev_isr(struct vnl_vdev *d);
/* Acknowledge those bits. */
void vnl_vdev_isr_ack(struct vnl_vdev *d, uint32_t bits);
/* Config space at any width: the backend's bytes, zeros past its size. */
void vnl_vdev_config(struct vnl_vdev *d, uint64_t off, uint8_t *buf,
		     uint32_t len);

#endif /* VNL_VIRTIO_DEV_H */
