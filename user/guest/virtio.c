// SPDX-License-Identifier: GPL-2.0
/*
 * A virtio-mmio driver for the loopback NIC, as the virtio 1.2 spec tells a
 * driver to behave: identity checks, one-bit-at-a-time status, feature
 * negotiation (VERSION_1 and MAC, EVENT_IDX when asked), split rings with
 * notification suppression both ways, and an interrupt handler that reads
 * InterruptStatus and acknowledges exactly what it read.
 */
#include "virtio.h"

u32 isr_seen;

u32 vdev_read(struct vdev *d, u32 reg)
{
	result.mmio_accesses++;
	return mmio_read32(d->base + reg);
}

void vdev_write(struct vdev *d, u32 reg, u32 v)
{
	result.mmio_accesses++;
	mmio_write32(d->base + reg, v);
}

static u8 vdev_read8(struct vdev *d, u32 reg)
{
	result.mmio_accesses++;
	return *(volatile u8 *)(d->base + reg);
}

static u16 vdev_read16(struct vdev *d, u32 reg)
{
	result.mmio_accesses++;
	return *(volatile u16 *)(d->base + reg);
}

/*
 * After a device interrupt (the ring-0 entry only counts it and sets
 * irq_pending): read InterruptStatus and acknowledge exactly what was read,
 * so bits raised after the read survive for the next interrupt.
 */
void vdev_isr(struct vdev *d)
{
	u32 isr;

	irq_pending = 0;
	result.irqs = irq_count;
	isr = vdev_read(d, VIRTIO_MMIO_INTERRUPT_STATUS);
	result.isr_reads++;
	if (isr) {
		vdev_write(d, VIRTIO_MMIO_INTERRUPT_ACK, isr);
		result.isr_acks++;
	} else {
		result.irqs_empty++;
	}
	if (isr & VIRTIO_MMIO_INT_VRING)
		result.irqs_vring++;
	if (isr & VIRTIO_MMIO_INT_CONFIG)
		result.irqs_config++;
	isr_seen |= isr;
}

static bool vdev_set_status(struct vdev *d, u32 bit)
{
	u32 st = vdev_read(d, VIRTIO_MMIO_STATUS);

	vdev_write(d, VIRTIO_MMIO_STATUS, st | bit);
	st = vdev_read(d, VIRTIO_MMIO_STATUS);
	return CHECK(st & bit, "status bit 0x%x not taken (status 0x%x)",
		     bit, st);
}

static bool vdev_identity(struct vdev *d)
{
	bool ok = true;

	ok &= CHECK(vdev_read(d, VIRTIO_MMIO_MAGIC_VALUE) == VNL_MMIO_MAGIC,
		    "bad magic");
	ok &= CHECK(vdev_read(d, VIRTIO_MMIO_VERSION) == VNL_MMIO_VERSION,
		    "not virtio-mmio v2");
	ok &= CHECK(vdev_read(d, VIRTIO_MMIO_DEVICE_ID) == VIRTIO_ID_NET,
		    "not a network device");
	ok &= CHECK(vdev_read(d, VIRTIO_MMIO_VENDOR_ID) != 0, "no vendor id");
	/* Registers are 4 bytes wide: narrower accesses read all ones. */
	ok &= CHECK(vdev_read8(d, VIRTIO_MMIO_MAGIC_VALUE) == 0xff,
		    "1-byte register read");
	ok &= CHECK(vdev_read16(d, VIRTIO_MMIO_VERSION) == 0xffff,
		    "2-byte register read");
	return ok;
}

static bool vdev_features(struct vdev *d)
{
	u64 offered, want;

	vdev_write(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	offered = vdev_read(d, VIRTIO_MMIO_DEVICE_FEATURES);
	vdev_write(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	offered |= (u64)vdev_read(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	vdev_write(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	if (!CHECK(vdev_read(d, VIRTIO_MMIO_DEVICE_FEATURES) == 0,
		   "feature window 2 not 0"))
		return false;
	if (!CHECK(offered & (1ULL << VIRTIO_F_VERSION_1), "no VERSION_1") ||
	    !CHECK(offered & (1ULL << VIRTIO_NET_F_MAC), "no MAC"))
		return false;
	want = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MAC);
	if (params->event_idx)
		want |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
	d->features = offered & want;
	d->event_idx = d->features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
	vdev_write(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vdev_write(d, VIRTIO_MMIO_DRIVER_FEATURES, (u32)d->features);
	vdev_write(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vdev_write(d, VIRTIO_MMIO_DRIVER_FEATURES, d->features >> 32);
	return vdev_set_status(d, VIRTIO_CONFIG_S_FEATURES_OK);
}

/* The queue's index: RX 0, TX 1. */
static unsigned int vdev_qindex(const struct vdev *d, const struct virtq *q)
{
	return q == &d->tx ? VNETLOOP_QUEUE_TX : VNETLOOP_QUEUE_RX;
}

/* A ring's address into its register pair. */
static void vdev_write_addr(struct vdev *d, u32 lo, u32 hi, const void *p)
{
	u64 v = (uintptr_t)p;

	vdev_write(d, lo, (u32)v);
	vdev_write(d, hi, v >> 32);
}

static bool vdev_queue(struct vdev *d, struct virtq *q, u8 *mem)
{
	unsigned int index = vdev_qindex(d, q);

	virtq_init_pages(q, QSIZE, mem);
	q->event_idx = d->event_idx;
	vdev_write(d, VIRTIO_MMIO_QUEUE_SEL, index);
	if (!CHECK(vdev_read(d, VIRTIO_MMIO_QUEUE_READY) == 0,
		   "queue %u already ready", index) ||
	    !CHECK(vdev_read(d, VIRTIO_MMIO_QUEUE_NUM_MAX) >= QSIZE,
		   "queue %u too small", index))
		return false;
	vdev_write(d, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	vdev_write_addr(d, VIRTIO_MMIO_QUEUE_DESC_LOW,
			VIRTIO_MMIO_QUEUE_DESC_HIGH, q->desc);
	vdev_write_addr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW,
			VIRTIO_MMIO_QUEUE_AVAIL_HIGH, q->avail);
	vdev_write_addr(d, VIRTIO_MMIO_QUEUE_USED_LOW,
			VIRTIO_MMIO_QUEUE_USED_HIGH, q->used);
	vdev_write(d, VIRTIO_MMIO_QUEUE_READY, 1);
	return CHECK(vdev_read(d, VIRTIO_MMIO_QUEUE_READY) == 1,
		     "queue %u not ready", index);
}

static bool vdev_mac(struct vdev *d)
{
	bool ok = true;

	for (int i = 0; i < 6; i++)
		ok &= CHECK(vdev_read8(d, VIRTIO_MMIO_CONFIG + i) ==
			    params->mac[i], "MAC byte %d", i);
	ok &= CHECK(vdev_read8(d, VIRTIO_MMIO_CONFIG + 6) == 0,
		    "config past the MAC not 0");
	return ok;
}

bool vdev_init(struct vdev *d, void *rings)
{
	u8 *mem = rings;

	d->base = params->mmio_base;
	vdev_write(d, VIRTIO_MMIO_STATUS, 0);
	if (!vdev_identity(d))
		return false;
	if (!vdev_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE) ||
	    !vdev_set_status(d, VIRTIO_CONFIG_S_DRIVER) || !vdev_features(d))
		return false;
	if (!vdev_queue(d, &d->rx, mem) ||
	    !vdev_queue(d, &d->tx, mem + VIRTQ_RING_BYTES) || !vdev_mac(d))
		return false;
	if (!vdev_set_status(d, VIRTIO_CONFIG_S_DRIVER_OK))
		return false;
	return CHECK(vdev_read(d, VIRTIO_MMIO_STATUS) ==
		     (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		      VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK),
		     "status after DRIVER_OK");
}

void vdev_reset(struct vdev *d)
{
	vdev_write(d, VIRTIO_MMIO_STATUS, 0);
	result.resets++;
	CHECK(vdev_read(d, VIRTIO_MMIO_STATUS) == 0,
	      "status not 0 after reset");
	CHECK(vdev_read(d, VIRTIO_MMIO_INTERRUPT_STATUS) == 0,
	      "InterruptStatus not 0 after reset");
	result.isr_reads++;
	isr_seen = 0;
}

void vdev_publish(struct vdev *d, struct virtq *q)
{
	unsigned int index = vdev_qindex(d, q);

	virtq_publish(q);
	if (!virtq_kick_prepare(q))
		return;
	vdev_write(d, VIRTIO_MMIO_QUEUE_NOTIFY, index);
	if (index == VNETLOOP_QUEUE_TX)
		result.tx_kicks++;
	else
		result.rx_kicks++;
}

bool vdev_get_used(struct vdev *d, struct virtq *q, u32 *id, u32 *len)
{
	if (!virtq_get_used(q, id, len))
		return false;
	if (*id >= QSIZE)
		fail("queue %u: used id %u out of range", vdev_qindex(d, q),
		     *id);
	else
		virtq_free_chain(q, *id);
	return true;
}
