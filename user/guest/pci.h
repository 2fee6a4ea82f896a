/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's PCI: configuration mechanism #1 on bus 0, BAR sizing and
 * placement, the capability list, MSI-X. Constants are the kernel's
 * (<linux/pci_regs.h>).
 */
#ifndef VNL_GUEST_PCI_H
#define VNL_GUEST_PCI_H

#include <linux/pci_regs.h>

#include "guest.h"

#define PCI_SLOTS	32
#define PCI_BARS	6

/* Dword reg of 00:slot.0 (all ones where nothing answers). */
u32 pci_cfg_read(u32 slot, u32 reg);
void pci_cfg_write(u32 slot, u32 reg, u32 v);

/* The first slot on bus 0 with this vendor and device id, or -1. */
int pci_find(u16 vendor, u16 device);

/*
 * Size every memory BAR of slot (decoding off while sizing), place them
 * naturally aligned from *next upwards, check they read back, and turn
 * memory decoding and bus mastering on. bar[i] gets BAR i's address (0 if
 * none). False on a failed check.
 */
bool pci_place_bars(u32 slot, u64 *next, u64 end, u64 bar[PCI_BARS]);

/*
 * The first capability with id after the one at config offset after (0:
 * from the start of the list), or 0.
 */
u32 pci_next_cap(u32 slot, u8 id, u32 after);

/*
 * MSI-X of slot (capability at cap) on: n vectors, vector v sends
 * VEC_MSIX + v to this CPU, all unmasked; where the table and the PBA are.
 * False on a failed check.
 */
bool pci_msix_on(u32 slot, u32 cap, const u64 bar[PCI_BARS], unsigned int n,
		 u64 *table, u64 *pba);

#endif /* VNL_GUEST_PCI_H */
