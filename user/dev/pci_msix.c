// SPDX-License-Identifier: GPL-2.0
/*
 * MSI-X of the virtio-pci function: the table and the pending bits in
 * BAR1, and where each interrupt source goes. Decisions (also in
 * Documentation/vmm.rst):
 * - the table takes 4-byte accesses (8-byte ones for the address) at their
 *   own offsets; only the mask bit of Vector Control is writable; other
 *   accesses read as all 0xff bytes and are ignored on write; the PBA is
 *   read-only;
 * - every vector starts masked, as the PCI specification says;
 * - an interrupt for a masked vector (its mask bit, or the function mask)
 *   sets its pending bit; unmasking a pending vector sends its message
 *   once and clears the bit; a device reset clears every pending bit
 *   (the table and the masks stay);
 * - without MSI-X every source is INTx, unless PCI_COMMAND_INTX_DISABLE;
 *   a source with VIRTIO_MSI_NO_VECTOR raises nothing.
 */
#include <string.h>

#include "user/dev/pci_priv.h"

void vnl_pci_msix_init(struct vnl_pci *p)
{
	for (unsigned int v = 0; v < VNL_PCI_MAX_VECTORS; v++)
		p->msix[v].ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT;
	p->pba = 0;
}

static uint16_t vnl_msix_flags(const struct vnl_pci *p)
{
	return cfg16(p, VNL_PCI_CAP_MSIX + PCI_MSIX_FLAGS);
}

static bool vnl_msix_masked(const struct vnl_pci *p, unsigned int v)
{
	return (vnl_msix_flags(p) & PCI_MSIX_FLAGS_MASKALL) ||
	       (p->msix[v].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

void vnl_pci_route(const struct vnl_pci *p, unsigned int src,
		   struct vnl_pci_route *r)
{
	unsigned int v;

	memset(r, 0, sizeof(*r));
	if (src >= VNL_PCI_NR_SRCS || !vnl_pci_src_exists(p, src))
		return;
	if (!(vnl_msix_flags(p) & PCI_MSIX_FLAGS_ENABLE)) {
		if (!(cfg16(p, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE))
			r->kind = VNL_PCI_ROUTE_INTX;
		return;
	}
	v = src == VNL_PCI_SRC_CONFIG ? p->msix_config : p->queue_vector[src];
	if (v >= p->nvectors)
		return;
	r->vector = v;
	r->addr = p->msix[v].addr;
	r->data = p->msix[v].data;
	r->kind = vnl_msix_masked(p, v) ? VNL_PCI_ROUTE_MASKED :
					  VNL_PCI_ROUTE_MSI;
}

void vnl_pci_signal_locked(struct vnl_pci *p, unsigned int src)
{
	struct vnl_pci_route r;

	vnl_pci_route(p, src, &r);
	switch (r.kind) {
	case VNL_PCI_ROUTE_MSI:
		p->ops->msi(p->ctx, r.addr, r.data);
		break;
	case VNL_PCI_ROUTE_INTX:
		p->ops->intx(p->ctx);
		break;
	case VNL_PCI_ROUTE_MASKED:
		p->pba |= 1ULL << r.vector;
		break;
	case VNL_PCI_ROUTE_NONE:
		break;
	}
}

void vnl_pci_signal(struct vnl_pci *p, unsigned int src)
{
	pthread_mutex_lock(&p->lock);
	vnl_pci_signal_locked(p, src);
	pthread_mutex_unlock(&p->lock);
}

void vnl_pci_irqs_changed(struct vnl_pci *p)
{
	p->ops->irqs(p->ctx);
	if (!(vnl_msix_flags(p) & PCI_MSIX_FLAGS_ENABLE))
		return;
	for (unsigned int v = 0; v < p->nvectors; v++) {
		if (!(p->pba & (1ULL << v)) || vnl_msix_masked(p, v))
			continue;
		p->pba &= ~(1ULL << v);
		p->ops->msi(p->ctx, p->msix[v].addr, p->msix[v].data);
	}
}

/* The table field an access hits, as a pointer and a width; NULL if none. */
static void *vnl_msix_field(struct vnl_pci *p, uint64_t off, uint32_t len,
			    bool *ctrl)
{
	struct vnl_msix_entry *e;
	uint64_t in = off % PCI_MSIX_ENTRY_SIZE;

	*ctrl = false;
	if (off >= p->nvectors * PCI_MSIX_ENTRY_SIZE)
		return NULL;
	e = &p->msix[off / PCI_MSIX_ENTRY_SIZE];
	if (len == 8)
		return in == PCI_MSIX_ENTRY_LOWER_ADDR ? &e->addr : NULL;
	/* Between two fields is no field (not Vector Control either). */
	if (len != 4 || in % 4)
		return NULL;
	switch (in) {
	case PCI_MSIX_ENTRY_LOWER_ADDR:
		return &e->addr;
	case PCI_MSIX_ENTRY_UPPER_ADDR:
		return (uint8_t *)&e->addr + 4;
	case PCI_MSIX_ENTRY_DATA:
		return &e->data;
	}
	*ctrl = true;
	return &e->ctrl;
}

void vnl_pci_msix_read(struct vnl_pci *p, uint64_t off, uint8_t *d,
		       uint32_t len, unsigned int *slot)
{
	uint64_t in = off - VNL_PCI_MSIX_PBA_OFF;
	bool ctrl;
	void *f;

	if (off >= VNL_PCI_MSIX_PBA_OFF) {
		*slot = VNL_PCI_SLOT_MSIX_PBA;
		memset(d, 0, len);
		if (in < sizeof(p->pba) && (len == 4 || len == 8) &&
		    !(in % len))
			memcpy(d, (uint8_t *)&p->pba + in, len);
		return;
	}
	*slot = VNL_PCI_SLOT_MSIX_TABLE;
	f = vnl_msix_field(p, off, len, &ctrl);
	if (f)
		memcpy(d, f, len);
	else
		memset(d, off < p->nvectors * PCI_MSIX_ENTRY_SIZE ?
		       0xff : 0, len);
}

void vnl_pci_msix_write(struct vnl_pci *p, uint64_t off, const uint8_t *d,
			uint32_t len, unsigned int *slot)
{
	uint32_t v;
	bool ctrl;
	void *f;

	if (off >= VNL_PCI_MSIX_PBA_OFF) {
		*slot = VNL_PCI_SLOT_MSIX_PBA;
		return;
	}
	*slot = VNL_PCI_SLOT_MSIX_TABLE;
	f = vnl_msix_field(p, off, len, &ctrl);
	if (!f)
		return;
	if (ctrl) {
		memcpy(&v, d, 4);
		*(uint32_t *)f = v & PCI_MSIX_ENTRY_CTRL_MASKBIT;
	} else {
		memcpy(f, d, len);
	}
	vnl_pci_irqs_changed(p);
}
