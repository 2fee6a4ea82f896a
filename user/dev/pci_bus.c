// SPDX-License-Identifier: GPL-2.0
/*
 * Configuration mechanism #1. Decisions (also in Documentation/vmm.rst):
 * - the address register takes and returns 32-bit accesses only (a
 *   narrower one at 0xCF8..0xCFB reads all ones and is ignored, which is
 *   what Linux's type-1 probe expects of a machine without mechanism #2);
 *   its reserved bits 30..24 and 1..0 read as written but are ignored;
 * - the data window takes 1, 2 and 4-byte accesses inside its dword;
 * - with the enable bit clear, or for any bus but 0, function but 0, or
 *   slot without a device, reads are all ones and writes vanish;
 * - the host bridge's header is read-only (class 0x0600: Linux's type-1
 *   sanity check looks for a host bridge on bus 0).
 */
#include <string.h>

#include "user/dev/pci_bus.h"

/* The host bridge: Red Hat's generic PCIe host bridge id. */
#define VNL_BRIDGE_VENDOR	0x1b36
#define VNL_BRIDGE_DEVICE	0x0008
/* <linux/pci_ids.h>'s PCI_CLASS_BRIDGE_HOST; that header is not uapi. */
#define VNL_CLASS_BRIDGE_HOST	0x0600

void vnl_pci_bus_init(struct vnl_pci_bus *bus, struct vnl_pci *nic)
{
	uint8_t *h = bus->bridge;

	memset(bus, 0, sizeof(*bus));
	pthread_mutex_init(&bus->lock, NULL);
	bus->nic = nic;
	h[PCI_VENDOR_ID] = VNL_BRIDGE_VENDOR & 0xff;
	h[PCI_VENDOR_ID + 1] = VNL_BRIDGE_VENDOR >> 8;
	h[PCI_DEVICE_ID] = VNL_BRIDGE_DEVICE & 0xff;
	h[PCI_DEVICE_ID + 1] = VNL_BRIDGE_DEVICE >> 8;
	h[PCI_CLASS_DEVICE] = VNL_CLASS_BRIDGE_HOST & 0xff;
	h[PCI_CLASS_DEVICE + 1] = VNL_CLASS_BRIDGE_HOST >> 8;
	h[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
}

void vnl_pci_bus_destroy(struct vnl_pci_bus *bus)
{
	pthread_mutex_destroy(&bus->lock);
}

bool vnl_pci_bus_port(uint16_t port)
{
	return port >= VNL_PCI_CONFIG_ADDRESS && port < VNL_PCI_CONFIG_DATA + 4;
}

/* A data window access at register reg of the addressed function. */
static void vnl_pci_bus_cfg(struct vnl_pci_bus *bus, uint32_t addr,
			    uint32_t reg, bool out, void *data, uint32_t size)
{
	unsigned int busnr = addr >> 16 & 0xff, slot = addr >> 11 & 0x1f;
	unsigned int fn = addr >> 8 & 7;

	if (!(addr & VNL_PCI_CFG_ENABLE) || busnr || fn) {
		if (!out)
			memset(data, 0xff, size);
		return;
	}
	if (slot == VNL_PCI_NIC_SLOT && bus->nic) {
		if (out)
			vnl_pci_cfg_write(bus->nic, reg, data, size);
		else
			vnl_pci_cfg_read(bus->nic, reg, data, size);
		return;
	}
	if (out)
		return;
	if (slot == 0) {
		memset(data, 0, size);
		if (reg < sizeof(bus->bridge))
			memcpy(data, bus->bridge + reg, size);
		return;
	}
	memset(data, 0xff, size);
}

void vnl_pci_bus_io(struct vnl_pci_bus *bus, uint16_t port, bool out,
		    void *data, uint32_t size)
{
	uint32_t addr;

	if (port < VNL_PCI_CONFIG_DATA) {
		if (size != 4 || port != VNL_PCI_CONFIG_ADDRESS) {
			if (!out)
				memset(data, 0xff, size);
			return;
		}
		pthread_mutex_lock(&bus->lock);
		if (out)
			memcpy(&bus->addr, data, 4);
		else
			memcpy(data, &bus->addr, 4);
		pthread_mutex_unlock(&bus->lock);
		return;
	}
	if ((size != 1 && size != 2 && size != 4) ||
	    (port - VNL_PCI_CONFIG_DATA) + size > 4) {
		if (!out)
			memset(data, 0xff, size);
		return;
	}
	pthread_mutex_lock(&bus->lock);
	addr = bus->addr;
	pthread_mutex_unlock(&bus->lock);
	vnl_pci_bus_cfg(bus, addr, (addr & 0xfc) + (port - VNL_PCI_CONFIG_DATA),
			out, data, size);
}
