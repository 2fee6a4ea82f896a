// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-pci (modern) transport of the guest's driver: the NIC found
 * on bus 0 (pci.c), its BARs placed, its virtio capabilities walked to the
 * common config, notify, ISR and device config structures, and MSI-X set
 * up (vector 0 for configuration changes, 1 for RX, 2 for TX) unless
 * params->msix is off, when the device's INTx comes through the IOAPIC pin
 * params->gsi and the ISR says why (read-to-clear).
 */
#include <stddef.h>
#include <linux/virtio_pci.h>

#include "pci.h"
#include "virtio.h"

#define CC(field)	offsetof(struct virtio_pci_common_cfg, field)

static u8 rd8(u64 a)
{
	vdev_count();
	return mmio_read8(a);
}

static u16 rd16(u64 a)
{
	vdev_count();
	return mmio_read16(a);
}

static u32 rd32(u64 a)
{
	vdev_count();
	return mmio_read32(a);
}

static void wr8(u64 a, u8 v)
{
	vdev_count();
	mmio_write8(a, v);
}

static void wr16(u64 a, u16 v)
{
	vdev_count();
	mmio_write16(a, v);
}

static void wr32(u64 a, u32 v)
{
	vdev_count();
	mmio_write32(a, v);
}

static bool vpci_len_ok(u32 len, u32 need, const char *what)
{
	return CHECK(len >= need, "%s config of %u bytes", what, len);
}

/* Each virtio structure's address, from its capability. */
static bool vpci_caps(struct vdev *d, const u64 bar[PCI_BARS])
{
	u32 at = 0;

	while ((at = pci_next_cap(d->slot, PCI_CAP_ID_VNDR, at))) {
		u32 head = pci_cfg_read(d->slot, at);
		u32 b = pci_cfg_read(d->slot, at + VIRTIO_PCI_CAP_BAR) & 0xff;
		u32 off = pci_cfg_read(d->slot, at + VIRTIO_PCI_CAP_OFFSET);
		u32 len = pci_cfg_read(d->slot, at + VIRTIO_PCI_CAP_LENGTH);
		u64 a;

		/* Unknown BARs are to be ignored; so is a second one. */
		if (b >= PCI_BARS || !bar[b])
			continue;
		a = bar[b] + off;
		switch (head >> 24) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			if (!d->common && vpci_len_ok(len, sizeof(struct
						virtio_pci_common_cfg), "common"))
				d->common = a;
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			if (d->notify)
				break;
			d->notify = a;
			d->notify_mult = pci_cfg_read(d->slot, at +
				sizeof(struct virtio_pci_cap));
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			if (!d->isr_addr)
				d->isr_addr = a;
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			if (!d->devcfg && vpci_len_ok(len, 6, "device"))
				d->devcfg = a;
			break;
		}
	}
	return CHECK(d->common, "no common config capability") &&
	       CHECK(d->notify, "no notify capability") &&
	       CHECK(d->isr_addr, "no ISR capability") &&
	       CHECK(d->devcfg, "no device config capability");
}

static bool vpci_probe(struct vdev *d)
{
	u64 bar[PCI_BARS], next, end;
	u32 v, cap;
	int slot;

	if (!CHECK(pci_cfg_read(0, PCI_CLASS_REVISION) >> 16 == 0x0600,
		   "00:00.0 is not a host bridge"))
		return false;
	slot = pci_find(0x1af4, 0x1040 + VIRTIO_ID_NET);
	if (!CHECK(slot >= 0, "no modern virtio-net (1af4:1041) on bus 0"))
		return false;
	d->slot = slot;
	v = pci_cfg_read(slot, PCI_CLASS_REVISION);
	if (!CHECK(v >> 8 == 0x020000, "class 0x%06x, not Ethernet", v >> 8) ||
	    !CHECK((v & 0xff) >= 1, "revision 0: a transitional device"))
		return false;
	/* Away from where the VMM left the BARs: they must follow. */
	next = params->pci_mmio_base + params->pci_mmio_size / 2;
	end = params->pci_mmio_base + params->pci_mmio_size;
	if (!pci_place_bars(slot, &next, end, bar) || !vpci_caps(d, bar))
		return false;
	/* Fields have their own width: a wider read is all ones. */
	if (!CHECK(rd32(d->common + CC(device_status)) == 0xffffffff,
		   "a 4-byte read of the 1-byte device_status"))
		return false;
	d->msix = params->msix;
	if (!d->msix)
		return true;
	cap = pci_next_cap(slot, PCI_CAP_ID_MSIX, 0);
	return CHECK(cap, "no MSI-X capability") &&
	       pci_msix_on(slot, cap, bar, MSIX_VECTORS, &d->msix_table,
			   &d->msix_pba);
}

static u32 vpci_status(struct vdev *d)
{
	return rd8(d->common + CC(device_status));
}

static void vpci_set_status(struct vdev *d, u32 st)
{
	wr8(d->common + CC(device_status), st);
}

static bool vpci_features(struct vdev *d, u64 *offered)
{
	u64 c = d->common;

	if (!CHECK(rd16(c + CC(num_queues)) >= 2, "fewer than 2 queues"))
		return false;
	wr32(c + CC(device_feature_select), 0);
	*offered = rd32(c + CC(device_feature));
	wr32(c + CC(device_feature_select), 1);
	*offered |= (u64)rd32(c + CC(device_feature)) << 32;
	wr32(c + CC(device_feature_select), 2);
	return CHECK(rd32(c + CC(device_feature)) == 0,
		     "feature window 2 not 0");
}

static void vpci_set_features(struct vdev *d, u64 f)
{
	u64 c = d->common;

	wr32(c + CC(guest_feature_select), 0);
	wr32(c + CC(guest_feature), (u32)f);
	wr32(c + CC(guest_feature_select), 1);
	wr32(c + CC(guest_feature), f >> 32);
}

/* A vector for the source at field, read back as the device took it. */
static bool vpci_vector(struct vdev *d, u32 field, u16 v)
{
	wr16(d->common + field, v);
	return CHECK(rd16(d->common + field) == v, "MSI-X vector %u refused",
		     v);
}

static void vpci_addr(struct vdev *d, u32 field, const void *p)
{
	u64 v = (uintptr_t)p;

	wr32(d->common + field, (u32)v);
	wr32(d->common + field + 4, v >> 32);
}

static bool vpci_queue(struct vdev *d, unsigned int index, struct virtq *q)
{
	u64 c = d->common;
	u16 off;

	/* As Linux: the config vector just before the queues' own. */
	if (d->msix && index == VNETLOOP_QUEUE_RX &&
	    !vpci_vector(d, CC(msix_config), MSIX_VEC_CONFIG))
		return false;
	wr16(c + CC(queue_select), index);
	if (!CHECK(rd16(c + CC(queue_enable)) == 0,
		   "queue %u already enabled", index) ||
	    !CHECK(rd16(c + CC(queue_size)) >= QSIZE,
		   "queue %u too small", index))
		return false;
	wr16(c + CC(queue_size), QSIZE);
	vpci_addr(d, CC(queue_desc_lo), q->desc);
	vpci_addr(d, CC(queue_avail_lo), q->avail);
	vpci_addr(d, CC(queue_used_lo), q->used);
	/*
	 * Three vectors: the other pairs' queues share pair 0's RX or TX
	 * vector (the control queue TX's), as Linux shares them when it
	 * gets too few.
	 */
	if (d->msix && !vpci_vector(d, CC(queue_msix_vector),
				    MSIX_VEC_RX + (index <= VNETLOOP_QUEUE_TX ?
						   index : index % 2 ||
						   index == 2 * d->pairs)))
		return false;
	off = rd16(c + CC(queue_notify_off));
	d->notify_at[index] = d->notify + (u64)off * d->notify_mult;
	wr16(c + CC(queue_enable), 1);
	return CHECK(rd16(c + CC(queue_enable)) == 1,
		     "queue %u not enabled", index);
}

static u8 vpci_config8(struct vdev *d, u32 off)
{
	return rd8(d->devcfg + off);
}

static void vpci_notify(struct vdev *d, unsigned int index)
{
	wr16(d->notify_at[index], index);
}

static u32 vpci_isr_read(struct vdev *d)
{
	result.isr_reads++;
	return rd8(d->isr_addr);
}

/* MSI-X: the vectors say why, no register needed; INTx: the ISR. */
static u32 vpci_isr(struct vdev *d)
{
	u32 seen;

	if (!d->msix)
		return vpci_isr_read(d);
	seen = __atomic_exchange_n(&irq_msix, 0, __ATOMIC_ACQ_REL);
	return (seen & (1U << MSIX_VEC_CONFIG) ? ISR_CONFIG : 0) |
	       (seen & ~(1U << MSIX_VEC_CONFIG) ? ISR_VRING : 0);
}

void vdev_msix_mask(struct vdev *d, unsigned int v, bool masked)
{
	wr32(d->msix_table + v * PCI_MSIX_ENTRY_SIZE +
	     PCI_MSIX_ENTRY_VECTOR_CTRL, masked);
}

bool vdev_msix_pending(struct vdev *d, unsigned int v)
{
	return rd32(d->msix_pba) & (1U << v);
}

const struct vdev_transport vdev_pci = {
	.name = "pci",
	.probe = vpci_probe,
	.status = vpci_status,
	.set_status = vpci_set_status,
	.features = vpci_features,
	.set_features = vpci_set_features,
	.queue = vpci_queue,
	.config8 = vpci_config8,
	.notify = vpci_notify,
	.isr = vpci_isr,
	.isr_read = vpci_isr_read,
};
