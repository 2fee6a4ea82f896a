/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtio-pci (modern, non-transitional) function of the loopback NIC:
 * its configuration space with the virtio capabilities and MSI-X, its two
 * memory BARs, and the registers behind them, over the device side every
 * transport shares (virtio_dev.h). Structures and constants are the
 * kernel's (<linux/virtio_pci.h>, <linux/pci_regs.h>). No KVM in here: the
 * VMM learns through struct vnl_pci_ops where the BARs are and where each
 * interrupt goes, so the function is unit-tested on its own.
 *
 *   BAR0 (32-bit memory, 16 KiB)  common config 0x0000, ISR 0x1000,
 *                                 device config 0x2000, notify 0x3000
 *                                 (queue q at 0x3000 + 4 q)
 *   BAR1 (32-bit memory, 4 KiB)   MSI-X table 0x000 (a vector per queue
 *                                 and one for configuration), PBA 0x800
 *
 * Interrupt sources: each queue (RX 2i, TX 2i+1, the control queue 2N on
 * a multiqueue device) and configuration changes. With MSI-X enabled each
 * goes to the vector the driver gave it (queue_msix_vector, msix_config);
 * a masked vector's interrupt sets its pending bit and is sent when the
 * vector is unmasked. Without MSI-X all of them share INTx (pin A), which
 * the ISR's read-to-clear explains.
 */
#ifndef VNL_PCI_H
#define VNL_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/pci_regs.h>
#include <linux/virtio_pci.h>

#include "user/dev/virtio_dev.h"

#define VNL_PCI_VENDOR		0x1af4	/* virtio */
#define VNL_PCI_DEVICE		(0x1040 + VIRTIO_ID_NET) /* modern */
#define VNL_PCI_REVISION	1	/* modern only */
#define VNL_PCI_CLASS		0x020000	/* Ethernet controller */

#define VNL_PCI_NR_BARS		2
#define VNL_PCI_BAR_VIRTIO	0
#define VNL_PCI_BAR_MSIX	1
#define VNL_PCI_VIRTIO_SIZE	0x4000
#define VNL_PCI_COMMON_OFF	0x0000
#define VNL_PCI_ISR_OFF		0x1000
#define VNL_PCI_DEVCFG_OFF	0x2000
#define VNL_PCI_NOTIFY_OFF	0x3000
#define VNL_PCI_NOTIFY_MULT	4
#define VNL_PCI_MSIX_SIZE	0x1000
#define VNL_PCI_MSIX_TABLE_OFF	0x000
#define VNL_PCI_MSIX_PBA_OFF	0x800

/*
 * Interrupt sources: queue q is source q (those of the device's queues
 * exist), configuration changes VNL_PCI_SRC_CONFIG. The MSI-X table has a
 * vector per source of the device (Linux asks for one each): nvectors.
 */
enum { VNL_PCI_SRC_RX = VNETLOOP_QUEUE_RX, VNL_PCI_SRC_TX = VNETLOOP_QUEUE_TX,
       VNL_PCI_SRC_CONFIG = VNL_MAX_QUEUES, VNL_PCI_NR_SRCS };
#define VNL_PCI_MAX_VECTORS	VNL_PCI_NR_SRCS
/* The vectors of a device with nqueues queues. */
#define VNL_PCI_VECTORS_OF(nqueues)	((nqueues) + 1)

/* Configuration space: the capabilities' places. */
#define VNL_PCI_CAP_MSIX	0x40
#define VNL_PCI_CAP_COMMON	0x4c
#define VNL_PCI_CAP_NOTIFY	0x5c
#define VNL_PCI_CAP_ISR		0x70
#define VNL_PCI_CAP_DEVCFG	0x80
#define VNL_PCI_CAP_PCICFG	0x90
#define VNL_PCI_CFG_SIZE	256

/* Where an interrupt source goes now. */
enum vnl_pci_route_kind {
	VNL_PCI_ROUTE_NONE,	/* nowhere: no vector, or INTx disabled */
	VNL_PCI_ROUTE_INTX,	/* the INTx pin */
	VNL_PCI_ROUTE_MSI,	/* MSI-X vector: addr, data */
	VNL_PCI_ROUTE_MASKED,	/* a masked vector: it becomes pending */
};

struct vnl_pci_route {
	enum vnl_pci_route_kind kind;
	unsigned int vector;
	uint64_t addr;
	uint32_t data;
};

struct vnl_msix_entry {
	uint64_t addr;
	uint32_t data;
	uint32_t ctrl;		/* PCI_MSIX_ENTRY_CTRL_MASKBIT */
};

/* Called with the function's lock held: they must not call back in. */
struct vnl_pci_ops {
	/* BARs moved, or memory decoding changed: see vnl_pci_bar(). */
	void (*bars)(void *ctx);
	/* Interrupt routes or MSI-X messages changed: vnl_pci_route(). */
	void (*irqs)(void *ctx);
	/* Send this MSI now (a pending vector was unmasked). */
	void (*msi)(void *ctx, uint64_t addr, uint32_t data);
	/* Pulse the INTx pin (an interrupt KVM did not take). */
	void (*intx)(void *ctx);
};

struct vnl_pci {
	pthread_mutex_t lock;
	struct vnl_vdev dev;
	const struct vnl_pci_ops *ops;
	void *ctx;
	uint8_t cfg[VNL_PCI_CFG_SIZE];	/* configuration space image */
	uint8_t wmask[VNL_PCI_CFG_SIZE];	/* bits the driver may write */
	/* virtio common config */
	uint32_t dev_features_sel;
	uint32_t drv_features_sel;
	uint16_t queue_sel;
	uint16_t msix_config;
	uint16_t queue_vector[VNL_MAX_QUEUES];
	/* MSI-X */
	unsigned int nvectors;	/* VNL_PCI_VECTORS_OF(dev.nqueues) */
	struct vnl_msix_entry msix[VNL_PCI_MAX_VECTORS];
	uint64_t pba;
};

/*
 * The function as firmware leaves it: BAR0 at bar_base, BAR1 after it,
 * memory decoding off, the interrupt line register intx_line. The device
 * offers the bits of features that the backend's device offers, less
 * VIRTIO_F_ACCESS_PLATFORM.
 */
void vnl_pci_init(struct vnl_pci *p, struct vnl_backend *be,
		  uint64_t features, const struct vnl_pci_ops *ops, void *ctx,
		  uint32_t bar_base, uint8_t intx_line);
void vnl_pci_destroy(struct vnl_pci *p);

/* Configuration space accesses of len 1, 2 or 4 inside one dword. */
void vnl_pci_cfg_read(struct vnl_pci *p, uint32_t off, void *data,
		      uint32_t len);
void vnl_pci_cfg_write(struct vnl_pci *p, uint32_t off, const void *data,
		       uint32_t len);

/* Accesses at offset off of BAR bar, decoded or not; len 1..8. */
void vnl_pci_bar_read(struct vnl_pci *p, unsigned int bar, uint64_t off,
		      void *data, uint32_t len);
void vnl_pci_bar_write(struct vnl_pci *p, unsigned int bar, uint64_t off,
		       const void *data, uint32_t len);

/*
 * A guest-physical access: false when no decoded BAR holds addr. *slot
 * is where vnl_pci_slot_name() files it (exit accounting).
 */
bool vnl_pci_mmio(struct vnl_pci *p, uint64_t addr, void *data, uint32_t len,
		  bool write, unsigned int *slot);
/* Exit accounting slots of the BAR registers, and their names. */
#define VNL_PCI_NR_SLOTS	24
const char *vnl_pci_slot_name(unsigned int slot);

/*
 * BAR bar's address and size; false when memory decoding is off or the
 * BAR is unplaced (0, or being sized). Lock held (in a callback), or
 * before the guest runs.
 */
bool vnl_pci_bar(const struct vnl_pci *p, unsigned int bar, uint64_t *addr,
		 uint64_t *size);
/* Source src is one of the device's: a queue it has, or configuration. */
static inline bool vnl_pci_src_exists(const struct vnl_pci *p,
				      unsigned int src)
{
	return src == VNL_PCI_SRC_CONFIG || src < p->dev.nqueues;
}

/* Where source src's interrupts go. Lock held, as vnl_pci_bar(). */
void vnl_pci_route(const struct vnl_pci *p, unsigned int src,
		   struct vnl_pci_route *r);
/*
 * An interrupt of src that KVM did not take (its eventfd was not routed):
 * sent, made pending, or dropped, as vnl_pci_route() says. Takes the lock.
 */
void vnl_pci_signal(struct vnl_pci *p, unsigned int src);

#endif /* VNL_PCI_H */
