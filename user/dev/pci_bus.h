/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PCI bus 0 behind configuration mechanism #1: the address register at
 * port 0xCF8 and the data window at 0xCFC..0xCFF, a host bridge at 00:00.0
 * and the virtio-pci NIC at 00:01.0. No KVM in here: the VMM hands it the
 * port accesses.
 */
#ifndef VNL_PCI_BUS_H
#define VNL_PCI_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "user/dev/pci.h"

#define VNL_PCI_CONFIG_ADDRESS	0xcf8
#define VNL_PCI_CONFIG_DATA	0xcfc
#define VNL_PCI_NIC_SLOT	1	/* 00:01.0 */
#define VNL_PCI_CFG_ENABLE	0x80000000u

struct vnl_pci_bus {
	pthread_mutex_t lock;	/* the address register */
	uint32_t addr;
	struct vnl_pci *nic;
	uint8_t bridge[64];	/* the host bridge's header, read-only */
};

void vnl_pci_bus_init(struct vnl_pci_bus *bus, struct vnl_pci *nic);
void vnl_pci_bus_destroy(struct vnl_pci_bus *bus);
/* True when port is one of the bus's (0xCF8..0xCFF). */
bool vnl_pci_bus_port(uint16_t port);
/* One port access of size 1, 2 or 4 bytes. */
void vnl_pci_bus_io(struct vnl_pci_bus *bus, uint16_t port, bool out,
		    void *data, uint32_t size);

#endif /* VNL_PCI_BUS_H */
