/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtio-mmio (version 2) transport of the loopback NIC: the
 * register file, the status state machine, feature and queue windows, and
 * the config space (the MAC). The data plane sits behind a struct
 * vnl_backend; this file never touches the rings. No KVM in here, so it is
 * unit-tested on its own.
 */
#ifndef VNL_MMIO_H
#define VNL_MMIO_H

#include <pthread.h>
#include <stdint.h>

#include "user/dev/backend.h"

/* Register offsets. */
#define VIRTIO_MMIO_MAGIC_VALUE		0x000
#define VIRTIO_MMIO_VERSION		0x004
#define VIRTIO_MMIO_DEVICE_ID		0x008
#define VIRTIO_MMIO_VENDOR_ID		0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES	0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL	0x014
#define VIRTIO_MMIO_DRIVER_FEATURES	0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL	0x024
#define VIRTIO_MMIO_QUEUE_SEL		0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX	0x034
#define VIRTIO_MMIO_QUEUE_NUM		0x038
#define VIRTIO_MMIO_QUEUE_READY		0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY	0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS	0x060
#define VIRTIO_MMIO_INTERRUPT_ACK	0x064
#define VIRTIO_MMIO_STATUS		0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW	0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH	0x084
#define VIRTIO_MMIO_QUEUE_AVAIL_LOW	0x090
#define VIRTIO_MMIO_QUEUE_AVAIL_HIGH	0x094
#define VIRTIO_MMIO_QUEUE_USED_LOW	0x0a0
#define VIRTIO_MMIO_QUEUE_USED_HIGH	0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION	0x0fc
#define VIRTIO_MMIO_CONFIG		0x100

#define VIRTIO_MMIO_MAGIC		0x74726976	/* "virt" */
#define VNL_MMIO_VENDOR			0x4c4e5456	/* "VTNL" */
#define VNL_VIRTIO_ID_NET		1

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE	0x01
#define VIRTIO_STATUS_DRIVER		0x02
#define VIRTIO_STATUS_DRIVER_OK		0x04
#define VIRTIO_STATUS_FEATURES_OK	0x08
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

struct vnl_mmio {
	pthread_mutex_t lock;
	struct vnl_backend *be;
	uint64_t offered;
	uint8_t mac[6];
	uint32_t status;	/* driver-set bits, FAILED, local NEEDS_RESET */
	uint32_t isr;		/* CONFIG raised by the transport itself */
	uint32_t dev_features_sel;
	uint32_t drv_features_sel;
	uint64_t drv_features;
	uint32_t queue_sel;
	struct vnl_queue_cfg q[VNETLOOP_NUM_QUEUES];
	/* InterruptStatus reads that found nothing: interrupts not ours. */
	uint64_t isr_empty_reads;
};

void vnl_mmio_init(struct vnl_mmio *m, struct vnl_backend *be,
		   uint64_t offered, const uint8_t mac[6]);
void vnl_mmio_destroy(struct vnl_mmio *m);
/* Accesses at offset off of the window; len 1..8. */
void vnl_mmio_read(void *m, uint64_t off, void *data, uint32_t len);
void vnl_mmio_write(void *m, uint64_t off, const void *data, uint32_t len);
/* "QueueNotify" etc. for a register offset / 4; NULL for reserved ones. */
const char *vnl_mmio_reg_name(unsigned int slot);

#endif /* VNL_MMIO_H */
