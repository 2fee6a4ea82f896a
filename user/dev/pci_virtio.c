// SPDX-License-Identifier: GPL-2.0
/*
 * BAR0 of the virtio-pci function: common config, ISR, device config and
 * the notify addresses. Decisions (also in Documentation/vmm.rst):
 * - each common config field is accessed at its own width (64-bit fields
 *   as two 32-bit halves or whole); other accesses read as all 0xff bytes
 *   and are ignored on write, as on virtio-mmio; past the structure, up to
 *   the ISR, everything reads 0;
 * - queue_size reads the largest size until the driver writes a valid one
 *   (a power of two up to 256); queue_enable = 1, between FEATURES_OK and
 *   DRIVER_OK, makes the queue ready at that size; 0 is ignored;
 * - queue_msix_vector and msix_config read back VIRTIO_MSI_NO_VECTOR for
 *   a vector the table does not have; they are writable at any time;
 * - the ISR is read-to-clear at any width; the device's bits go with the
 *   read;
 * - a notify is a write of the queue's index at its address (2 or 4 bytes,
 *   as KVM's datamatch sees it); the TX one reaches the backend after
 *   DRIVER_OK.
 */
#include <stddef.h>
#include <string.h>

#include "user/dev/pci_priv.h"

#define CC(field)	offsetof(struct virtio_pci_common_cfg, field)

/* The common config fields: where, how wide, which exit slot. */
static const struct { uint8_t off, len; } vnl_fields[] = {
	{ CC(device_feature_select), 4 }, { CC(device_feature), 4 },
	{ CC(guest_feature_select), 4 }, { CC(guest_feature), 4 },
	{ CC(msix_config), 2 }, { CC(num_queues), 2 },
	{ CC(device_status), 1 }, { CC(config_generation), 1 },
	{ CC(queue_select), 2 }, { CC(queue_size), 2 },
	{ CC(queue_msix_vector), 2 }, { CC(queue_enable), 2 },
	{ CC(queue_notify_off), 2 }, { CC(queue_desc_lo), 8 },
	{ CC(queue_avail_lo), 8 }, { CC(queue_used_lo), 8 },
};

void vnl_pci_virtio_clear(struct vnl_pci *p)
{
	p->dev_features_sel = 0;
	p->drv_features_sel = 0;
	p->queue_sel = 0;
	p->msix_config = VIRTIO_MSI_NO_VECTOR;
	for (unsigned int q = 0; q < VNL_MAX_QUEUES; q++)
		p->queue_vector[q] = VIRTIO_MSI_NO_VECTOR;
	/*
	 * No vector is in use any more: what the old driver left pending
	 * must not reach the next one when it unmasks.
	 */
	p->pba = 0;
}

/* The field (slot) an access hits at its width, or -1. */
static int vnl_field(uint64_t off, uint32_t len, uint32_t *half)
{
	for (unsigned int i = 0; i < sizeof(vnl_fields) / sizeof(vnl_fields[0]);
	     i++) {
		uint32_t at = vnl_fields[i].off, w = vnl_fields[i].len;

		*half = 0;
		if (off == at && len == w)
			return i;
		if (w == 8 && len == 4 && (off == at || off == at + 4)) {
			*half = off == at ? 1 : 2;
			return i;
		}
	}
	return -1;
}

static uint16_t vnl_vector_ok(const struct vnl_pci *p, uint16_t v)
{
	return v < p->nvectors ? v : VIRTIO_MSI_NO_VECTOR;
}

static uint64_t vnl_common_read(struct vnl_pci *p, uint64_t off)
{
	struct vnl_queue_cfg *q = vnl_vdev_queue(&p->dev, p->queue_sel);

	switch (off) {
	case CC(device_feature):
		return vnl_vdev_features(&p->dev, p->dev_features_sel);
	case CC(device_feature_select):
		return p->dev_features_sel;
	case CC(guest_feature_select):
		return p->drv_features_sel;
	case CC(guest_feature):
		return p->drv_features_sel > 1 ? 0 :
		       (uint32_t)(p->dev.drv_features >>
				  (32 * p->drv_features_sel));
	case CC(msix_config):
		return p->msix_config;
	case CC(num_queues):
		return p->dev.nqueues;
	case CC(device_status):
		return vnl_vdev_status(&p->dev);
	case CC(queue_select):
		return p->queue_sel;
	}
	if (!q)		/* no such queue: size 0 says so */
		return off == CC(queue_msix_vector) ? VIRTIO_MSI_NO_VECTOR : 0;
	switch (off) {
	case CC(queue_size):
		return q->num ? q->num : VNETLOOP_QUEUE_SIZE_MAX;
	case CC(queue_msix_vector):
		return p->queue_vector[p->queue_sel];
	case CC(queue_enable):
		return q->ready;
	case CC(queue_notify_off):
		return p->queue_sel;
	case CC(queue_desc_lo):
		return q->desc;
	case CC(queue_avail_lo):
		return q->avail;
	case CC(queue_used_lo):
		return q->used;
	}
	return 0;	/* config_generation */
}

static void vnl_queue_write(struct vnl_pci *p, unsigned int field,
			    uint32_t half, uint64_t v)
{
	struct vnl_queue_cfg *q = vnl_vdev_queue(&p->dev, p->queue_sel);
	uint64_t *addr[] = { &q->desc, &q->avail, &q->used };
	uint64_t *r;

	if (!vnl_vdev_queue_writable(&p->dev))
		return;
	switch (vnl_fields[field].off) {
	case CC(queue_size):
		if (vnl_vdev_queue_num_ok(v))
			q->num = v;
		return;
	case CC(queue_enable):
		if (v != 1)
			return;
		if (!q->num)
			q->num = VNETLOOP_QUEUE_SIZE_MAX;
		q->ready = true;
		return;
	}
	if (vnl_fields[field].len != 8)
		return;
	r = addr[(vnl_fields[field].off - CC(queue_desc_lo)) / 8];
	if (half == 1)
		vnl_set_lo(r, v);
	else if (half == 2)
		vnl_set_hi(r, v);
	else
		*r = v;
}

static void vnl_common_write(struct vnl_pci *p, unsigned int field,
			     uint32_t half, uint64_t v)
{
	switch (vnl_fields[field].off) {
	case CC(device_feature_select):
		p->dev_features_sel = v;
		return;
	case CC(guest_feature_select):
		p->drv_features_sel = v;
		return;
	case CC(guest_feature):
		vnl_vdev_set_features(&p->dev, p->drv_features_sel, v);
		return;
	case CC(msix_config):
		p->msix_config = vnl_vector_ok(p, v);
		vnl_pci_irqs_changed(p);
		return;
	case CC(device_status):
		if (vnl_vdev_set_status(&p->dev, v)) {
			vnl_pci_virtio_clear(p);
			vnl_pci_irqs_changed(p);
		}
		return;
	case CC(queue_select):
		p->queue_sel = v;
		return;
	case CC(queue_msix_vector):
		if (p->queue_sel < p->dev.nqueues) {
			p->queue_vector[p->queue_sel] = vnl_vector_ok(p, v);
			vnl_pci_irqs_changed(p);
		}
		return;
	}
	if (vnl_vdev_queue(&p->dev, p->queue_sel))
		vnl_queue_write(p, field, half, v);
}

/*
 * An access that is no field at its width reads all ones inside the
 * structure (a wrong width) and 0 past it (no register); writes vanish.
 */
static int vnl_common_field(uint64_t off, uint32_t len, uint32_t *half,
			    unsigned int *slot)
{
	int field = vnl_field(off, len, half);

	*slot = field < 0 ? VNL_PCI_SLOT_OTHER : (unsigned int)field;
	return field;
}

static void vnl_common_read_io(struct vnl_pci *p, uint64_t off, uint8_t *d,
			       uint32_t len, unsigned int *slot)
{
	uint32_t half;
	int field = vnl_common_field(off, len, &half, slot);
	uint64_t v;

	if (field < 0) {
		memset(d, off >= sizeof(struct virtio_pci_common_cfg) ?
		       0 : 0xff, len);
		return;
	}
	v = vnl_common_read(p, vnl_fields[field].off);
	if (half == 2)
		v >>= 32;
	memcpy(d, &v, len);
}

static void vnl_common_write_io(struct vnl_pci *p, uint64_t off,
				const uint8_t *d, uint32_t len,
				unsigned int *slot)
{
	uint32_t half;
	int field = vnl_common_field(off, len, &half, slot);
	uint64_t v = 0;

	if (field < 0)
		return;
	memcpy(&v, d, len);
	vnl_common_write(p, field, half, v);
}

/* Read-to-clear: what this read shows is acknowledged by it. */
static void vnl_isr_read(struct vnl_pci *p, uint64_t off, uint8_t *d,
			 uint32_t len)
{
	uint32_t isr;

	memset(d, 0, len);
	if (off)
		return;
	isr = vnl_vdev_isr(&p->dev);
	vnl_vdev_isr_ack(&p->dev, isr);
	d[0] = isr;
}

static void vnl_notify(struct vnl_pci *p, uint64_t off, const uint8_t *d,
		       uint32_t len)
{
	uint32_t v = 0;

	if ((len != 2 && len != 4) || off % VNL_PCI_NOTIFY_MULT)
		return;
	memcpy(&v, d, len);
	if (v == off / VNL_PCI_NOTIFY_MULT)
		vnl_vdev_notify(&p->dev, v);
}

void vnl_pci_virtio_read(struct vnl_pci *p, uint64_t off, uint8_t *d,
			 uint32_t len, unsigned int *slot)
{
	if (off < VNL_PCI_ISR_OFF) {
		vnl_common_read_io(p, off, d, len, slot);
	} else if (off < VNL_PCI_DEVCFG_OFF) {
		*slot = VNL_PCI_SLOT_ISR;
		vnl_isr_read(p, off - VNL_PCI_ISR_OFF, d, len);
	} else if (off < VNL_PCI_NOTIFY_OFF) {
		*slot = VNL_PCI_SLOT_DEVCFG;
		vnl_vdev_config(&p->dev, off - VNL_PCI_DEVCFG_OFF, d, len);
	} else {
		*slot = VNL_PCI_SLOT_NOTIFY;
		memset(d, 0, len);	/* write-only */
	}
}

void vnl_pci_virtio_write(struct vnl_pci *p, uint64_t off, const uint8_t *d,
			  uint32_t len, unsigned int *slot)
{
	if (off < VNL_PCI_ISR_OFF) {
		vnl_common_write_io(p, off, d, len, slot);
	} else if (off < VNL_PCI_DEVCFG_OFF) {
		*slot = VNL_PCI_SLOT_ISR;	/* read-only */
	} else if (off < VNL_PCI_NOTIFY_OFF) {
		*slot = VNL_PCI_SLOT_DEVCFG;	/* writes are ignored */
	} else {
		*slot = VNL_PCI_SLOT_NOTIFY;
		vnl_notify(p, off - VNL_PCI_NOTIFY_OFF, d, len);
	}
}
