// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-mmio transport: the register file over the shared device side
 * (virtio_dev.c). Decisions where the device contract is silent (also in
 * Documentation/vmm.rst):
 * - a register access (offset < 0x100) must be 4 bytes wide and aligned:
 *   anything else reads as all 0xff bytes and is ignored on write;
 * - write-only registers read 0, like unknown ones;
 * - QueueReady=1 needs a valid QueueNum first; QueueReady=0 takes it back.
 */
#include <stdio.h>
#include <string.h>

#include "user/dev/mmio.h"

static const char *const vnl_reg_names[VIRTIO_MMIO_CONFIG / 4] = {
	[VIRTIO_MMIO_MAGIC_VALUE / 4]		= "MagicValue",
	[VIRTIO_MMIO_VERSION / 4]		= "Version",
	[VIRTIO_MMIO_DEVICE_ID / 4]		= "DeviceID",
	[VIRTIO_MMIO_VENDOR_ID / 4]		= "VendorID",
	[VIRTIO_MMIO_DEVICE_FEATURES / 4]	= "DeviceFeatures",
	[VIRTIO_MMIO_DEVICE_FEATURES_SEL / 4]	= "DeviceFeaturesSel",
	[VIRTIO_MMIO_DRIVER_FEATURES / 4]	= "DriverFeatures",
	[VIRTIO_MMIO_DRIVER_FEATURES_SEL / 4]	= "DriverFeaturesSel",
	[VIRTIO_MMIO_QUEUE_SEL / 4]		= "QueueSel",
	[VIRTIO_MMIO_QUEUE_NUM_MAX / 4]		= "QueueNumMax",
	[VIRTIO_MMIO_QUEUE_NUM / 4]		= "QueueNum",
	[VIRTIO_MMIO_QUEUE_READY / 4]		= "QueueReady",
	[VIRTIO_MMIO_QUEUE_NOTIFY / 4]		= "QueueNotify",
	[VIRTIO_MMIO_INTERRUPT_STATUS / 4]	= "InterruptStatus",
	[VIRTIO_MMIO_INTERRUPT_ACK / 4]		= "InterruptACK",
	[VIRTIO_MMIO_STATUS / 4]		= "Status",
	[VIRTIO_MMIO_QUEUE_DESC_LOW / 4]	= "QueueDescLow",
	[VIRTIO_MMIO_QUEUE_DESC_HIGH / 4]	= "QueueDescHigh",
	[VIRTIO_MMIO_QUEUE_AVAIL_LOW / 4]	= "QueueAvailLow",
	[VIRTIO_MMIO_QUEUE_AVAIL_HIGH / 4]	= "QueueAvailHigh",
	[VIRTIO_MMIO_QUEUE_USED_LOW / 4]	= "QueueUsedLow",
	[VIRTIO_MMIO_QUEUE_USED_HIGH / 4]	= "QueueUsedHigh",
	[VIRTIO_MMIO_CONFIG_GENERATION / 4]	= "ConfigGeneration",
};

const char *vnl_mmio_reg_name(unsigned int slot)
{
	if (slot < VIRTIO_MMIO_CONFIG / 4)
		return vnl_reg_names[slot];
	return NULL;
}

static void vnl_mmio_clear(struct vnl_mmio *m)
{
	m->dev_features_sel = 0;
	m->drv_features_sel = 0;
	m->queue_sel = 0;
}

void vnl_mmio_init(struct vnl_mmio *m, struct vnl_backend *be,
		   uint64_t features)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	vnl_vdev_init(&m->dev, be, features);
	vnl_mmio_clear(m);
}

void vnl_mmio_destroy(struct vnl_mmio *m)
{
	pthread_mutex_destroy(&m->lock);
}

static uint32_t vnl_mmio_reg_read(struct vnl_mmio *m, uint64_t off)
{
	struct vnl_queue_cfg *q = vnl_vdev_queue(&m->dev, m->queue_sel);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VNL_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return VNL_MMIO_VERSION;
	case VIRTIO_MMIO_DEVICE_ID:
		return VIRTIO_ID_NET;
	case VIRTIO_MMIO_VENDOR_ID:
		return VNL_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return vnl_vdev_features(&m->dev, m->dev_features_sel);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return q ? VNETLOOP_QUEUE_SIZE_MAX : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return q ? q->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return vnl_vdev_isr(&m->dev);
	case VIRTIO_MMIO_STATUS:
		return vnl_vdev_status(&m->dev);
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return 0;
	}
	return 0;
}

static void vnl_mmio_queue_write(struct vnl_mmio *m, uint64_t off, uint32_t v)
{
	struct vnl_queue_cfg *q = vnl_vdev_queue(&m->dev, m->queue_sel);

	if (!q || !vnl_vdev_queue_writable(&m->dev))
		return;
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:
		if (vnl_vdev_queue_num_ok(v))
			q->num = v;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (v == 0)
			q->ready = false;
		else if (v == 1 && q->num)
			q->ready = true;
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		vnl_set_lo(&q->desc, v);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		vnl_set_hi(&q->desc, v);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
		vnl_set_lo(&q->avail, v);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		vnl_set_hi(&q->avail, v);
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
		vnl_set_lo(&q->used, v);
		break;
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		vnl_set_hi(&q->used, v);
		break;
	}
}

static void vnl_mmio_reg_write(struct vnl_mmio *m, uint64_t off, uint32_t v)
{
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		m->dev_features_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		vnl_vdev_set_features(&m->dev, m->drv_features_sel, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		m->drv_features_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		m->queue_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		vnl_vdev_notify(&m->dev, v);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		vnl_vdev_isr_ack(&m->dev, v);
		break;
	case VIRTIO_MMIO_STATUS:
		if (vnl_vdev_set_status(&m->dev, v))
			vnl_mmio_clear(m);
		break;
	default:
		vnl_mmio_queue_write(m, off, v);
		break;
	}
}

static bool vnl_mmio_reg_access(uint64_t off, uint32_t len)
{
	return len == 4 && !(off & 3);
}

void vnl_mmio_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct vnl_mmio *m = opaque;
	uint32_t v;

	if (off >= VIRTIO_MMIO_CONFIG) {
		pthread_mutex_lock(&m->lock);
		vnl_vdev_config(&m->dev, off - VIRTIO_MMIO_CONFIG, data, len);
		pthread_mutex_unlock(&m->lock);
		return;
	}
	if (!vnl_mmio_reg_access(off, len)) {
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&m->lock);
	v = vnl_mmio_reg_read(m, off);
	pthread_mutex_unlock(&m->lock);
	memcpy(data, &v, 4);
}

void vnl_mmio_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct vnl_mmio *m = opaque;
	uint32_t v;

	if (off >= VIRTIO_MMIO_CONFIG || !vnl_mmio_reg_access(off, len))
		return;
	memcpy(&v, data, 4);
	pthread_mutex_lock(&m->lock);
	vnl_mmio_reg_write(m, off, v);
	pthread_mutex_unlock(&m->lock);
}
