/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The loopback NIC in the VM, on either transport: virtio-mmio at
 * VNL_GPA_MMIO with one pin, or virtio-pci at 00:01.0 with MSI-X and INTx.
 * It makes the interrupt eventfds a backend gets, then puts the transport
 * over the backend and wires both into KVM and the vCPUs' exits.
 */
#ifndef VNL_NIC_H
#define VNL_NIC_H

#include "user/abi/params.h"
#include "user/dev/mmio.h"
#include "user/dev/pci_bus.h"
#include "user/vmm/pci_wire.h"
#include "user/vmm/vm.h"

struct nic {
	enum vnl_transport transport;
	struct vm *vm;
	struct vnl_backend *be;
	int line;			/* virtio-mmio: the pin's eventfd */
	bool kicks;			/* virtio-mmio: ioeventfds placed */
	struct vnl_mmio mmio;
	struct vnl_pci pci;
	struct vnl_pci_bus bus;
	struct pci_wire wire;
};

/* The interrupt eventfds, into env. 0 or -errno (printed). */
int nic_init(struct nic *n, struct vm *vm, enum vnl_transport t,
	     struct vnl_backend_env *env);
/* The transport over be, offering features; wired into the VM. */
int nic_attach(struct nic *n, struct vnl_backend *be, uint64_t features);
/* Out of KVM: before the backend is destroyed. */
void nic_detach(struct nic *n);
/* The rest, after the backend is destroyed. */
void nic_fini(struct nic *n);
/* InterruptStatus reads that found no bit set. */
uint64_t nic_isr_empty_reads(const struct nic *n);
/* The name of an exit slot (vm.h) of transport t, or NULL. */
const char *nic_slot_name(enum vnl_transport t, unsigned int slot);

#endif /* VNL_NIC_H */
