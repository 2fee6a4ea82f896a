// SPDX-License-Identifier: GPL-2.0
/* The NIC on its transport, in the VM (nic.h). */
#include <string.h>
#include <unistd.h>

#include "user/abi/layout.h"
#include "user/vmm/nic.h"
#include "user/vmm/wire.h"

/* Every queue's notify is one register: KVM tells them apart by value. */
#define NIC_MMIO_NOTIFY		(VNL_GPA_MMIO + VIRTIO_MMIO_QUEUE_NOTIFY)

int nic_init(struct nic *n, struct vm *vm, enum vnl_transport t,
	     struct vnl_backend_env *env)
{
	unsigned int nq = vnl_queues_of(env->max_pairs);
	int ret;

	memset(n, 0, sizeof(*n));
	n->transport = t;
	n->vm = vm;
	n->line = -1;
	if (t == VNL_TRANSPORT_MMIO) {
		/* One line: every interrupt is the pin's. */
		ret = wire_line(vm, VNL_MMIO_GSI, &n->line);
		for (unsigned int q = 0; q < nq; q++)
			env->call_fd[q] = n->line;
		env->config_fd = n->line;
		return ret;
	}
	ret = pci_wire_init(&n->wire, vm, VNL_PCI_INTX_GSI, nq);
	for (unsigned int q = 0; q < nq; q++)
		env->call_fd[q] = n->wire.fd[q];
	env->config_fd = n->wire.fd[VNL_PCI_SRC_CONFIG];
	return ret;
}

static void nic_pci_io(void *opaque, uint16_t port, bool out, void *data,
		       uint32_t size)
{
	vnl_pci_bus_io(opaque, port, out, data, size);
}

static bool nic_pci_mmio(void *opaque, uint64_t addr, void *data,
			 uint32_t len, bool write, unsigned int *slot)
{
	return vnl_pci_mmio(opaque, addr, data, len, write, slot);
}

int nic_attach(struct nic *n, struct vnl_backend *be, uint64_t features)
{
	struct vm *vm = n->vm;
	int ret;

	n->be = be;
	if (n->transport == VNL_TRANSPORT_MMIO) {
		vnl_mmio_init(&n->mmio, be, features);
		ret = wire_kicks(vm, be, NIC_MMIO_NOTIFY, 0, 4, true);
		n->kicks = !ret;
		vm->mmio = (struct vm_mmio_dev) {
			.base	= VNL_GPA_MMIO,
			.size	= VNL_MMIO_SIZE,
			.read	= vnl_mmio_read,
			.write	= vnl_mmio_write,
			.opaque	= &n->mmio,
		};
		return ret;
	}
	vnl_pci_init(&n->pci, be, features, &pci_wire_ops, &n->wire,
		     VNL_GPA_PCI_MMIO, VNL_PCI_INTX_GSI);
	vnl_pci_bus_init(&n->bus, &n->pci);
	vm->pci_pio = (struct vm_pio_dev) {
		.base	= VNL_PCI_CONFIG_ADDRESS,
		.size	= 8,
		.io	= nic_pci_io,
		.opaque	= &n->bus,
	};
	vm->pci_mmio = (struct vm_mmio_claim) {
		.access	= nic_pci_mmio,
		.opaque	= &n->pci,
	};
	return pci_wire_start(&n->wire, &n->pci, be);
}

void nic_detach(struct nic *n)
{
	if (n->transport == VNL_TRANSPORT_MMIO) {
		if (n->kicks)
			wire_kicks(n->vm, n->be, NIC_MMIO_NOTIFY, 0, 4,
				   false);
		n->kicks = false;
		return;
	}
	if (n->be)
		pci_wire_stop(&n->wire);
}

void nic_fini(struct nic *n)
{
	if (n->transport == VNL_TRANSPORT_MMIO) {
		if (n->be)
			vnl_mmio_destroy(&n->mmio);
		wire_line_free(n->vm, VNL_MMIO_GSI, n->line);
		return;
	}
	if (n->be) {
		vnl_pci_bus_destroy(&n->bus);
		vnl_pci_destroy(&n->pci);
	}
	pci_wire_fini(&n->wire);
}

uint64_t nic_isr_empty_reads(const struct nic *n)
{
	if (!n->be)
		return 0;
	return n->transport == VNL_TRANSPORT_MMIO ?
	       n->mmio.dev.isr_empty_reads : n->pci.dev.isr_empty_reads;
}

const char *nic_slot_name(enum vnl_transport t, unsigned int slot)
{
	if (slot == VM_MMIO_SLOT_CONFIG)
		return "config";
	if (slot == VM_MMIO_SLOT_OTHER)
		return "other";
	return t == VNL_TRANSPORT_MMIO ? vnl_mmio_reg_name(slot) :
	       vnl_pci_slot_name(slot);
}
