// SPDX-License-Identifier: GPL-2.0
/*
 * A virtio driver for the loopback NIC, as the virtio 1.2 spec tells a
 * driver to behave, over either transport: one-bit-at-a-time status,
 * feature negotiation (VERSION_1 and MAC, EVENT_IDX when asked), split
 * rings with notification suppression both ways, and an interrupt handler
 * that asks the transport why the device interrupted and acknowledges
 * exactly that.
 */
#include "virtio.h"

u32 isr_seen;

/*
 * After a device interrupt (the ring-0 entry only counts it and sets
 * irq_pending): ask why and acknowledge exactly that, so what the device
 * raises after the question survives for the next interrupt.
 */
void vdev_isr(struct vdev *d)
{
	u32 isr;

	irq_pending = 0;
	result.irqs = irq_count;
	isr = d->t->isr(d);
	if (!isr)
		result.irqs_empty++;
	if (isr & ISR_VRING)
		result.irqs_vring++;
	if (isr & ISR_CONFIG)
		result.irqs_config++;
	isr_seen |= isr;
}

u32 vdev_status(struct vdev *d)
{
	return d->t->status(d);
}

static bool vdev_set_status(struct vdev *d, u32 bit)
{
	u32 st = d->t->status(d);

	d->t->set_status(d, st | bit);
	st = d->t->status(d);
	return CHECK(st & bit, "status bit 0x%x not taken (status 0x%x)",
		     bit, st);
}

static bool vdev_features(struct vdev *d)
{
	u64 offered, want;

	if (!d->t->features(d, &offered))
		return false;
	if (!CHECK(offered & (1ULL << VIRTIO_F_VERSION_1), "no VERSION_1") ||
	    !CHECK(offered & (1ULL << VIRTIO_NET_F_MAC), "no MAC"))
		return false;
	want = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MAC);
	if (params->event_idx)
		want |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
	/* Multiqueue only as a whole: MQ needs the control queue. */
	if (params->queue_pairs > 1 &&
	    (offered & VNETLOOP_FEATURES_MQ) == VNETLOOP_FEATURES_MQ)
		want |= VNETLOOP_FEATURES_MQ;
	d->features = offered & want;
	d->event_idx = d->features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
	d->t->set_features(d, d->features);
	return vdev_set_status(d, VIRTIO_CONFIG_S_FEATURES_OK);
}

/* The queue's index: RX 0, TX 1 (pair 0's; the scenarios' queues). */
static unsigned int vdev_qindex(const struct vdev *d, const struct virtq *q)
{
	return q == &d->tx ? VNETLOOP_QUEUE_TX : VNETLOOP_QUEUE_RX;
}

u32 vdev_rings(void)
{
	return params->queue_pairs > 1 ? 2 * params->queue_pairs + 1 : 2;
}

struct virtq *vdev_vq(struct vdev *d, unsigned int index)
{
	if (index == VNETLOOP_QUEUE_RX)
		return &d->rx;
	if (index == VNETLOOP_QUEUE_TX)
		return &d->tx;
	if (d->pairs > 1 && index == 2 * d->pairs)
		return &d->ctrl;
	return &d->mq[index - 2];
}

static bool vdev_queue(struct vdev *d, unsigned int index, u8 *rings)
{
	struct virtq *q = vdev_vq(d, index);

	virtq_init_pages(q, QSIZE, rings + (u64)index * VIRTQ_RING_BYTES);
	q->event_idx = d->event_idx;
	return d->t->queue(d, index, q);
}

static bool vdev_mac(struct vdev *d)
{
	bool ok = true;

	for (int i = 0; i < 6; i++)
		ok &= CHECK(d->t->config8(d, i) == params->mac[i],
			    "MAC byte %d", i);
	ok &= CHECK(d->t->config8(d, 6) == 0, "config past the MAC not 0");
	return ok;
}

/*
 * With MQ: max_virtqueue_pairs must be what the VMM was asked for; the
 * other pairs' queues and the control queue, after pair 0's.
 */
static bool vdev_mq(struct vdev *d, u8 *rings)
{
	u32 max;

	d->pairs = 1;
	if (!(d->features & (1ULL << VIRTIO_NET_F_MQ)))
		return CHECK(params->queue_pairs <= 1,
			     "%u queue pairs asked for, but no MQ offered",
			     params->queue_pairs);
	max = d->t->config8(d, 8) | (u32)d->t->config8(d, 9) << 8;
	if (!CHECK(max == params->queue_pairs && max <= VDEV_MAX_PAIRS,
		   "max_virtqueue_pairs %u, want %u", max,
		   params->queue_pairs))
		return false;
	d->pairs = max;
	for (unsigned int q = 2; q <= 2 * max; q++)
		if (!vdev_queue(d, q, rings))
			return false;
	return true;
}

bool vdev_init(struct vdev *d, void *rings)
{
	u8 *mem = rings;

	if (!d->probed) {
		d->t = params->transport == VNL_TRANSPORT_PCI ? &vdev_pci :
								&vdev_mmio;
		if (!d->t->probe(d))
			return false;
		d->probed = true;
	}
	d->t->set_status(d, 0);
	if (!vdev_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE) ||
	    !vdev_set_status(d, VIRTIO_CONFIG_S_DRIVER) || !vdev_features(d))
		return false;
	if (!vdev_queue(d, VNETLOOP_QUEUE_RX, mem) ||
	    !vdev_queue(d, VNETLOOP_QUEUE_TX, mem) || !vdev_mq(d, mem) ||
	    !vdev_mac(d))
		return false;
	if (!vdev_set_status(d, VIRTIO_CONFIG_S_DRIVER_OK))
		return false;
	return CHECK(d->t->status(d) ==
		     (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		      VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK),
		     "status after DRIVER_OK");
}

void vdev_reset(struct vdev *d)
{
	d->t->set_status(d, 0);
	result.resets++;
	CHECK(d->t->status(d) == 0, "status not 0 after reset");
	CHECK(d->t->isr_read(d) == 0, "InterruptStatus not 0 after reset");
	/* MSI-X sources seen before the reset are news no more. */
	__atomic_exchange_n(&irq_msix, 0, __ATOMIC_ACQ_REL);
	isr_seen = 0;
}

void vdev_kick(struct vdev *d, unsigned int index)
{
	d->t->notify(d, index);
	/* The control queue's count as TX: the device drains at them. */
	if (index % 2 == VNETLOOP_QUEUE_TX || index == 2 * d->pairs)
		result.tx_kicks++;
	else
		result.rx_kicks++;
}

void vdev_publish_index(struct vdev *d, unsigned int index)
{
	struct virtq *q = vdev_vq(d, index);

	virtq_publish(q);
	if (virtq_kick_prepare(q))
		vdev_kick(d, index);
}

void vdev_publish(struct vdev *d, struct virtq *q)
{
	virtq_publish(q);
	if (virtq_kick_prepare(q))
		vdev_kick(d, vdev_qindex(d, q));
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
