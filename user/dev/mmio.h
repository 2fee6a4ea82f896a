/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtio-mmio (version 2) transport of the loopback NIC: the
 * register file, the status state machine, feature and queue windows, and
 * the window on the device's config space (the MAC), over the device side
 * every transport shares (virtio_dev.h). Registers and bits are the kernel's
 * (<linux/virtio_mmio.h>, <linux/virtio_config.h>); the identity values
 * are shared with the built-in guest (user/abi/layout.h). The data plane
 * sits behind a struct vnl_backend; this file never touches the rings. No
 * KVM in here, so it is unit-tested on its own.
 */
#ifndef VNL_MMIO_H
#define VNL_MMIO_H

#include <pthread.h>
#include <stdint.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>

#include "user/abi/layout.h"
#include "user/dev/backend.h"
#include "user/dev/virtio_dev.h"

struct vnl_mmio {
	pthread_mutex_t lock;
	struct vnl_vdev dev;	/* status, features, queues, ISR */
	uint32_t dev_features_sel;
	uint32_t drv_features_sel;
	uint32_t queue_sel;
};

/*
 * The transport offers the guest the bits of features that the backend's
 * device offers, less VIRTIO_F_ACCESS_PLATFORM.
 */
void vnl_mmio_init(struct vnl_mmio *m, struct vnl_backend *be,
		   uint64_t features);
void vnl_mmio_destroy(struct vnl_mmio *m);
/* Accesses at offset off of the window; len 1..8. */
void vnl_mmio_read(void *m, uint64_t off, void *data, uint32_t len);
void vnl_mmio_write(void *m, uint64_t off, const void *data, uint32_t len);
/* "QueueNotify" etc. for a register offset / 4; NULL for reserved ones. */
const char *vnl_mmio_reg_name(unsigned int slot);

#endif /* VNL_MMIO_H */
