/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtio-pci NIC in KVM: its interrupt eventfds (one per queue, one
 * for configuration) as irqfds on the GSI of wherever the function routes
 * them (an MSI route per MSI-X vector, set with KVM_SET_GSI_ROUTING, or
 * the INTx pin), and the backend's kick eventfds as ioeventfds on the
 * notify addresses of wherever the guest put BAR0. Both follow the
 * function's callbacks (struct vnl_pci_ops). An eventfd with nowhere to
 * go (a masked vector, no vector) is read by a thread of its own, which
 * hands its interrupts to the function: pending bits, or nothing.
 */
#ifndef VNL_PCI_WIRE_H
#define VNL_PCI_WIRE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "user/dev/pci.h"
#include "user/vmm/vm.h"

/* MSI-X vector v's route is GSI VNL_PCI_MSI_GSI + v, above the IOAPIC's. */
#define VNL_PCI_MSI_GSI		24

struct pci_wire {
	struct vm *vm;
	struct vnl_pci *pci;
	const struct vnl_backend *be;
	uint32_t intx_gsi;
	unsigned int nqueues;		/* the device's */
	int fd[VNL_PCI_NR_SRCS];	/* the interrupt eventfds, or -1 */
	int gsi[VNL_PCI_NR_SRCS];	/* each one's irqfd now, or -1 */
	/* The MSI routes KVM has: per vector, in use, address and data. */
	bool msi_set[VNL_PCI_MAX_VECTORS];
	uint64_t msi_addr[VNL_PCI_MAX_VECTORS];
	uint32_t msi_data[VNL_PCI_MAX_VECTORS];
	bool routing_set;
	uint64_t notify_base;		/* where the kicks are, or 0 */
	/* The eventfds the poller reads: those with no irqfd. */
	pthread_mutex_t lock;
	uint64_t unrouted;		/* bit s: source s */
	int wake_fd;
	bool stop;
	pthread_t poller;
	bool polling;
	int err;			/* the first KVM error, -errno */
};

extern const struct vnl_pci_ops pci_wire_ops;

/*
 * Check KVM's capabilities and create the eventfds of a device with
 * nqueues queues.
 */
int pci_wire_init(struct pci_wire *w, struct vm *vm, uint32_t intx_gsi,
		  unsigned int nqueues);
/*
 * With the function and the backend made: wire what the function says
 * now and start the poller. 0 or -errno.
 */
int pci_wire_start(struct pci_wire *w, struct vnl_pci *pci,
		   const struct vnl_backend *be);
/* Stop the poller, take the irqfds and ioeventfds out of KVM. */
void pci_wire_stop(struct pci_wire *w);
/* Close the eventfds (after the backend is gone). */
void pci_wire_fini(struct pci_wire *w);

#endif /* VNL_PCI_WIRE_H */
