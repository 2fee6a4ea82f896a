// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-mmio transport of the guest's driver: identity checks, the
 * 4-byte register file at params->mmio_base, and InterruptStatus read and
 * acknowledged after each interrupt.
 */
#include "virtio.h"

static u32 rd(struct vdev *d, u32 reg)
{
	vdev_count();
	return mmio_read32(d->base + reg);
}

static void wr(struct vdev *d, u32 reg, u32 v)
{
	vdev_count();
	mmio_write32(d->base + reg, v);
}

static u8 rd8(struct vdev *d, u32 reg)
{
	vdev_count();
	return mmio_read8(d->base + reg);
}

static bool mmio_probe(struct vdev *d)
{
	bool ok = true;

	d->base = params->mmio_base;
	ok &= CHECK(rd(d, VIRTIO_MMIO_MAGIC_VALUE) == VNL_MMIO_MAGIC,
		    "bad magic");
	ok &= CHECK(rd(d, VIRTIO_MMIO_VERSION) == VNL_MMIO_VERSION,
		    "not virtio-mmio v2");
	ok &= CHECK(rd(d, VIRTIO_MMIO_DEVICE_ID) == VIRTIO_ID_NET,
		    "not a network device");
	ok &= CHECK(rd(d, VIRTIO_MMIO_VENDOR_ID) != 0, "no vendor id");
	/* Registers are 4 bytes wide: narrower accesses read all ones. */
	ok &= CHECK(rd8(d, VIRTIO_MMIO_MAGIC_VALUE) == 0xff,
		    "1-byte register read");
	vdev_count();
	ok &= CHECK(mmio_read16(d->base + VIRTIO_MMIO_VERSION) == 0xffff,
		    "2-byte register read");
	return ok;
}

static u32 mmio_status(struct vdev *d)
{
	return rd(d, VIRTIO_MMIO_STATUS);
}

static void mmio_set_status(struct vdev *d, u32 st)
{
	wr(d, VIRTIO_MMIO_STATUS, st);
}

static bool mmio_features(struct vdev *d, u64 *offered)
{
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	*offered = rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	*offered |= (u64)rd(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	return CHECK(rd(d, VIRTIO_MMIO_DEVICE_FEATURES) == 0,
		     "feature window 2 not 0");
}

static void mmio_set_features(struct vdev *d, u64 f)
{
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (u32)f);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, f >> 32);
}

/* A ring's address into its register pair. */
static void wr_addr(struct vdev *d, u32 lo, u32 hi, const void *p)
{
	u64 v = (uintptr_t)p;

	wr(d, lo, (u32)v);
	wr(d, hi, v >> 32);
}

static bool mmio_queue(struct vdev *d, unsigned int index, struct virtq *q)
{
	wr(d, VIRTIO_MMIO_QUEUE_SEL, index);
	if (!CHECK(rd(d, VIRTIO_MMIO_QUEUE_READY) == 0,
		   "queue %u already ready", index) ||
	    !CHECK(rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX) >= QSIZE,
		   "queue %u too small", index))
		return false;
	wr(d, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr_addr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, VIRTIO_MMIO_QUEUE_DESC_HIGH,
		q->desc);
	wr_addr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, VIRTIO_MMIO_QUEUE_AVAIL_HIGH,
		q->avail);
	wr_addr(d, VIRTIO_MMIO_QUEUE_USED_LOW, VIRTIO_MMIO_QUEUE_USED_HIGH,
		q->used);
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	return CHECK(rd(d, VIRTIO_MMIO_QUEUE_READY) == 1,
		     "queue %u not ready", index);
}

static u8 mmio_config8(struct vdev *d, u32 off)
{
	return rd8(d, VIRTIO_MMIO_CONFIG + off);
}

static void mmio_notify(struct vdev *d, unsigned int index)
{
	wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, index);
}

static u32 mmio_isr_read(struct vdev *d)
{
	result.isr_reads++;
	return rd(d, VIRTIO_MMIO_INTERRUPT_STATUS);
}

/* Read InterruptStatus once and acknowledge exactly what it showed. */
static u32 mmio_isr(struct vdev *d)
{
	u32 isr = mmio_isr_read(d);

	if (isr) {
		wr(d, VIRTIO_MMIO_INTERRUPT_ACK, isr);
		result.isr_acks++;
	}
	return isr;
}

const struct vdev_transport vdev_mmio = {
	.name = "mmio",
	.probe = mmio_probe,
	.status = mmio_status,
	.set_status = mmio_set_status,
	.features = mmio_features,
	.set_features = mmio_set_features,
	.queue = mmio_queue,
	.config8 = mmio_config8,
	.notify = mmio_notify,
	.isr = mmio_isr,
	.isr_read = mmio_isr_read,
};
