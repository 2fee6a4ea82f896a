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
	isr = vdev_read(d, R_ISR);
	result.isr_reads++;
	if (isr) {
		vdev_write(d, R_ISR_ACK, isr);
		result.isr_acks++;
	} else {
		result.irqs_empty++;
	}
	if (isr & ISR_VRING)
		result.irqs_vring++;
	if (isr & ISR_CONFIG)
		result.irqs_config++;
	isr_seen |= isr;
}

static bool vdev_set_status(struct vdev *d, u32 bit)
{
	u32 st = vdev_read(d, R_STATUS);

	vdev_write(d, R_STATUS, st | bit);
	st = vdev_read(d, R_STATUS);
	return CHECK(st & bit, "status bit 0x%x not taken (status 0x%x)",
		     bit, st);
}

static bool vdev_identity(struct vdev *d)
{
	bool ok = true;

	ok &= CHECK(vdev_read(d, R_MAGIC) == 0x74726976, "bad magic");
	ok &= CHECK(vdev_read(d, R_VERSION) == 2, "not virtio-mmio v2");
	ok &= CHECK(vdev_read(d, R_DEVICE_ID) == 1, "not a network device");
	ok &= CHECK(vdev_read(d, R_VENDOR_ID) != 0, "no vendor id");
	/* Registers are 4 bytes wide: narrower accesses read all ones. */
	ok &= CHECK(vdev_read8(d, R_MAGIC) == 0xff, "1-byte register read");
	ok &= CHECK(vdev_read16(d, R_VERSION) == 0xffff,
		    "2-byte register read");
	return ok;
}

static bool vdev_features(struct vdev *d)
{
	u64 offered, want;

	vdev_write(d, R_DEV_FEAT_SEL, 0);
	offered = vdev_read(d, R_DEV_FEAT);
	vdev_write(d, R_DEV_FEAT_SEL, 1);
	offered |= (u64)vdev_read(d, R_DEV_FEAT) << 32;
	vdev_write(d, R_DEV_FEAT_SEL, 2);
	if (!CHECK(vdev_read(d, R_DEV_FEAT) == 0, "feature window 2 not 0"))
		return false;
	if (!CHECK(offered & (1ULL << F_VERSION_1), "no VERSION_1") ||
	    !CHECK(offered & (1ULL << F_MAC), "no MAC"))
		return false;
	want = (1ULL << F_VERSION_1) | (1ULL << F_MAC);
	if (params->event_idx)
		want |= 1ULL << F_EVENT_IDX;
	d->features = offered & want;
	d->event_idx = d->features & (1ULL << F_EVENT_IDX);
	vdev_write(d, R_DRV_FEAT_SEL, 0);
	vdev_write(d, R_DRV_FEAT, (u32)d->features);
	vdev_write(d, R_DRV_FEAT_SEL, 1);
	vdev_write(d, R_DRV_FEAT, d->features >> 32);
	return vdev_set_status(d, ST_FEATURES_OK);
}

static void vq_init(struct vq *q, unsigned int index, u8 *mem)
{
	q->index = index;
	q->desc = (volatile struct vdesc *)mem;
	q->avail = (volatile struct vavail *)(mem + 4096);
	q->used = (volatile struct vused *)(mem + 8192);
	memset(mem, 0, 3 * 4096);
	q->avail_idx = q->kicked_idx = q->last_used = 0;
	q->nfree = QSIZE;
	for (int i = 0; i < QSIZE; i++)
		q->free[i] = QSIZE - 1 - i;
}

static bool vdev_queue(struct vdev *d, struct vq *q, unsigned int index,
		       u8 *mem)
{
	u64 desc, avail, used;

	vq_init(q, index, mem);
	desc = (uintptr_t)q->desc;
	avail = (uintptr_t)q->avail;
	used = (uintptr_t)q->used;
	vdev_write(d, R_QUEUE_SEL, index);
	if (!CHECK(vdev_read(d, R_QUEUE_READY) == 0, "queue %u already ready",
		   index) ||
	    !CHECK(vdev_read(d, R_QUEUE_NUM_MAX) >= QSIZE,
		   "queue %u too small", index))
		return false;
	vdev_write(d, R_QUEUE_NUM, QSIZE);
	vdev_write(d, R_DESC_LO, (u32)desc);
	vdev_write(d, R_DESC_HI, desc >> 32);
	vdev_write(d, R_AVAIL_LO, (u32)avail);
	vdev_write(d, R_AVAIL_HI, avail >> 32);
	vdev_write(d, R_USED_LO, (u32)used);
	vdev_write(d, R_USED_HI, used >> 32);
	vdev_write(d, R_QUEUE_READY, 1);
	return CHECK(vdev_read(d, R_QUEUE_READY) == 1, "queue %u not ready",
		     index);
}

static bool vdev_mac(struct vdev *d)
{
	bool ok = true;

	for (int i = 0; i < 6; i++)
		ok &= CHECK(vdev_read8(d, R_CONFIG + i) == params->mac[i],
			    "MAC byte %d", i);
	ok &= CHECK(vdev_read8(d, R_CONFIG + 6) == 0,
		    "config past the MAC not 0");
	return ok;
}

bool vdev_init(struct vdev *d, void *rings)
{
	u8 *mem = rings;

	d->base = params->mmio_base;
	vdev_write(d, R_STATUS, 0);
	if (!vdev_identity(d))
		return false;
	if (!vdev_set_status(d, ST_ACK) || !vdev_set_status(d, ST_DRIVER) ||
	    !vdev_features(d))
		return false;
	if (!vdev_queue(d, &d->rx, 0, mem) ||
	    !vdev_queue(d, &d->tx, 1, mem + 3 * 4096) || !vdev_mac(d))
		return false;
	if (!vdev_set_status(d, ST_DRIVER_OK))
		return false;
	return CHECK(vdev_read(d, R_STATUS) == (ST_ACK | ST_DRIVER |
						 ST_FEATURES_OK | ST_DRIVER_OK),
		     "status after DRIVER_OK");
}

void vdev_reset(struct vdev *d)
{
	vdev_write(d, R_STATUS, 0);
	result.resets++;
	CHECK(vdev_read(d, R_STATUS) == 0, "status not 0 after reset");
	CHECK(vdev_read(d, R_ISR) == 0, "InterruptStatus not 0 after reset");
	result.isr_reads++;
	isr_seen = 0;
}

int vq_add(struct vq *q, const u64 *addr, const u32 *len, const u16 *flags,
	   unsigned int n)
{
	int head = -1, prev = -1;

	if (q->nfree < n || !n)
		return -1;
	for (unsigned int i = 0; i < n; i++) {
		u16 di = q->free[--q->nfree];

		q->desc[di].addr = addr[i];
		q->desc[di].len = len[i];
		q->desc[di].flags = flags[i];
		q->desc[di].next = 0;
		if (prev >= 0) {
			q->desc[prev].flags |= DESC_F_NEXT;
			q->desc[prev].next = di;
		} else {
			head = di;
		}
		prev = di;
	}
	q->avail->ring[q->avail_idx % QSIZE] = head;
	q->avail_idx++;
	return head;
}

/* virtio 1.2 2.7.10: did the other side ask to hear about new..old? */
static bool need_event(u16 event, u16 new, u16 old)
{
	return (u16)(new - event - 1) < (u16)(new - old);
}

void vq_publish(struct vdev *d, struct vq *q)
{
	u16 old = q->kicked_idx, new = q->avail_idx;
	bool kick;

	if (old == new)
		return;
	barrier();		/* ring entries before the index */
	q->avail->idx = new;
	mb();			/* index before reading the device's hint */
	if (d->event_idx)
		kick = need_event(q->used->avail_event, new, old);
	else
		kick = !(q->used->flags & 1);
	q->kicked_idx = new;
	if (!kick)
		return;
	vdev_write(d, R_QUEUE_NOTIFY, q->index);
	if (q->index)
		result.tx_kicks++;
	else
		result.rx_kicks++;
}

bool vq_get_used(struct vq *q, u32 *id, u32 *len)
{
	volatile struct vused_elem *e;
	u16 di;

	if (q->used->idx == q->last_used)
		return false;
	barrier();		/* the index before the entry it covers */
	e = &q->used->ring[q->last_used % QSIZE];
	*id = e->id;
	*len = e->len;
	q->last_used++;
	if (*id >= QSIZE) {
		fail("queue %u: used id %u out of range", q->index, *id);
		return true;
	}
	/* Give the chain's descriptors back. */
	di = *id;
	for (int n = 0; n < QSIZE; n++) {
		u16 fl = q->desc[di].flags;

		q->free[q->nfree++] = di;
		if (!(fl & DESC_F_NEXT))
			break;
		di = q->desc[di].next;
	}
	return true;
}

bool vq_enable_cb(struct vdev *d, struct vq *q)
{
	if (d->event_idx)
		q->avail->used_event = q->last_used;
	mb();			/* the hint before looking again */
	return q->used->idx != q->last_used;
}
