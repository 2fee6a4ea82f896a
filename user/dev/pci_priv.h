/* SPDX-License-Identifier: GPL-2.0 */
/* What the parts of the virtio-pci function share (user/dev/pci*.c). */
#ifndef VNL_PCI_PRIV_H
#define VNL_PCI_PRIV_H

#include "user/dev/pci.h"

/* Exit accounting slots: common config fields, then the other regions. */
enum {
	VNL_PCI_SLOT_ISR = 16,
	VNL_PCI_SLOT_NOTIFY,
	VNL_PCI_SLOT_DEVCFG,
	VNL_PCI_SLOT_MSIX_TABLE,
	VNL_PCI_SLOT_MSIX_PBA,
	VNL_PCI_SLOT_OTHER,	/* inside a BAR, outside every register */
};

static inline uint16_t cfg16(const struct vnl_pci *p, uint32_t off)
{
	return p->cfg[off] | p->cfg[off + 1] << 8;
}

static inline uint32_t cfg32(const struct vnl_pci *p, uint32_t off)
{
	return cfg16(p, off) | (uint32_t)cfg16(p, off + 2) << 16;
}

/* pci_virtio.c: BAR0, lock held. */
void vnl_pci_virtio_read(struct vnl_pci *p, uint64_t off, uint8_t *d,
			 uint32_t len, unsigned int *slot);
void vnl_pci_virtio_write(struct vnl_pci *p, uint64_t off, const uint8_t *d,
			  uint32_t len, unsigned int *slot);
/* Status = 0: the transport's registers back to their reset values. */
void vnl_pci_virtio_clear(struct vnl_pci *p);

/* pci_msix.c: BAR1 and the interrupt routes, lock held. */
void vnl_pci_msix_init(struct vnl_pci *p);
void vnl_pci_msix_read(struct vnl_pci *p, uint64_t off, uint8_t *d,
		       uint32_t len, unsigned int *slot);
void vnl_pci_msix_write(struct vnl_pci *p, uint64_t off, const uint8_t *d,
			uint32_t len, unsigned int *slot);
/*
 * The routes may have changed (message control, command, a vector):
 * tell the VMM, and send what was pending and is unmasked now.
 */
void vnl_pci_irqs_changed(struct vnl_pci *p);
void vnl_pci_signal_locked(struct vnl_pci *p, unsigned int src);

#endif /* VNL_PCI_PRIV_H */
