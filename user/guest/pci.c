// SPDX-License-Identifier: GPL-2.0
/*
 * PCI for the built-in guest, as firmware and an OS would do it on a
 * machine with nothing but configuration mechanism #1: find the device on
 * bus 0, size its BARs by writing all ones, place them in the window the
 * VMM names (params->pci_mmio_base; not where the VMM left them, so that
 * moving a BAR is exercised), walk the capability list and set up MSI-X.
 * Configuration space is accessed in dwords only.
 */
#include "pci.h"

#define PCI_ADDR	0xcf8
#define PCI_DATA	0xcfc
#define PCI_ENABLE	0x80000000u
#define MSI_ADDR	0xfee00000u	/* + destination APIC ID << 12 */

static void pci_select(u32 slot, u32 reg)
{
	outl(PCI_ADDR, PCI_ENABLE | slot << 11 | (reg & 0xfc));
}

u32 pci_cfg_read(u32 slot, u32 reg)
{
	pci_select(slot, reg);
	return inl(PCI_DATA);
}

void pci_cfg_write(u32 slot, u32 reg, u32 v)
{
	pci_select(slot, reg);
	outl(PCI_DATA, v);
}

int pci_find(u16 vendor, u16 device)
{
	u32 want = (u32)device << 16 | vendor;

	for (u32 slot = 0; slot < PCI_SLOTS; slot++)
		if (pci_cfg_read(slot, PCI_VENDOR_ID) == want)
			return slot;
	return -1;
}

/* BAR i's size, or 0 when it is none or not a 32-bit memory BAR. */
static u32 pci_bar_size(u32 slot, unsigned int i)
{
	u32 reg = PCI_BASE_ADDRESS_0 + 4 * i, old, v;

	old = pci_cfg_read(slot, reg);
	pci_cfg_write(slot, reg, 0xffffffff);
	v = pci_cfg_read(slot, reg);
	pci_cfg_write(slot, reg, old);
	if (!v || (v & PCI_BASE_ADDRESS_SPACE_IO) ||
	    (v & PCI_BASE_ADDRESS_MEM_TYPE_MASK) !=
	    PCI_BASE_ADDRESS_MEM_TYPE_32)
		return 0;
	return ~(v & PCI_BASE_ADDRESS_MEM_MASK) + 1;
}

bool pci_place_bars(u32 slot, u64 *next, u64 end, u64 bar[PCI_BARS])
{
	u32 cmd = pci_cfg_read(slot, PCI_COMMAND) & 0xffff;
	bool ok = true;

	pci_cfg_write(slot, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	for (unsigned int i = 0; i < PCI_BARS; i++) {
		u32 reg = PCI_BASE_ADDRESS_0 + 4 * i;
		u32 size = pci_bar_size(slot, i);
		u64 at;

		bar[i] = 0;
		if (!size)
			continue;
		if (!CHECK(!(size & (size - 1)), "BAR %u: size 0x%x", i, size))
			return false;
		at = ALIGN_UP(*next, size);
		if (!CHECK(at + size <= end && at + size <= 0x100000000ULL,
			   "BAR %u: no room for 0x%x bytes", i, size))
			return false;
		pci_cfg_write(slot, reg, at);
		ok &= CHECK(pci_cfg_read(slot, reg) == at,
			    "BAR %u reads 0x%x, placed at 0x%llx", i,
			    pci_cfg_read(slot, reg), (unsigned long long)at);
		bar[i] = at;
		*next = at + size;
	}
	pci_cfg_write(slot, PCI_COMMAND,
		      cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	return ok && CHECK((pci_cfg_read(slot, PCI_COMMAND) &
			    PCI_COMMAND_MEMORY), "memory decoding stays off");
}

u32 pci_next_cap(u32 slot, u8 id, u32 after)
{
	u32 at, n = 0;

	if (!(pci_cfg_read(slot, PCI_COMMAND) >> 16 & PCI_STATUS_CAP_LIST))
		return 0;
	at = after ? pci_cfg_read(slot, after) >> 8 & 0xfc :
		     pci_cfg_read(slot, PCI_CAPABILITY_LIST) & 0xfc;
	/* A list is at most 48 entries long: a loop cannot hang us. */
	while (at >= 0x40 && n++ < 48) {
		u32 head = pci_cfg_read(slot, at);

		if ((head & 0xff) == id)
			return at;
		at = head >> 8 & 0xfc;
	}
	return 0;
}

static u64 pci_bar_addr(const u64 bar[PCI_BARS], u32 v)
{
	unsigned int bir = v & PCI_MSIX_TABLE_BIR;

	if (bir >= PCI_BARS || !bar[bir])
		return 0;
	return bar[bir] + (v & PCI_MSIX_TABLE_OFFSET);
}

/*
 * One table entry: fixed delivery, edge, the vector alone, unmasked. Not
 * inlined: gcc 12 at -O2 stored the last entry of the loop twice (a
 * volatile store repeated after the loop).
 */
static __attribute__((noinline)) void pci_msix_entry(u64 e, u32 vector)
{
	result.mmio_accesses += 4;
	mmio_write32(e + PCI_MSIX_ENTRY_LOWER_ADDR,
		     MSI_ADDR | boot_apic_id << 12);
	mmio_write32(e + PCI_MSIX_ENTRY_UPPER_ADDR, 0);
	mmio_write32(e + PCI_MSIX_ENTRY_DATA, vector);
	mmio_write32(e + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
}

bool pci_msix_on(u32 slot, u32 cap, const u64 bar[PCI_BARS], unsigned int n,
		 u64 *table_at, u64 *pba_at)
{
	u32 head = pci_cfg_read(slot, cap), flags = head >> 16;
	u64 table = pci_bar_addr(bar, pci_cfg_read(slot, cap + PCI_MSIX_TABLE));
	u64 pba = pci_bar_addr(bar, pci_cfg_read(slot, cap + PCI_MSIX_PBA));

	*table_at = table;
	*pba_at = pba;
	if (!CHECK((flags & PCI_MSIX_FLAGS_QSIZE) + 1 >= n,
		   "MSI-X: %u vectors, %u wanted",
		   (flags & PCI_MSIX_FLAGS_QSIZE) + 1, n) ||
	    !CHECK(table && pba, "MSI-X: table or PBA in no BAR"))
		return false;
	/* On but masked while the table is written. */
	pci_cfg_write(slot, cap, head | (u32)(PCI_MSIX_FLAGS_ENABLE |
					      PCI_MSIX_FLAGS_MASKALL) << 16);
	for (unsigned int v = 0; v < n; v++)
		pci_msix_entry(table + v * PCI_MSIX_ENTRY_SIZE, VEC_MSIX + v);
	result.mmio_accesses++;
	if (!CHECK(mmio_read32(pba) == 0, "MSI-X: pending bits before use"))
		return false;
	pci_cfg_write(slot, cap, head | (u32)PCI_MSIX_FLAGS_ENABLE << 16);
	flags = pci_cfg_read(slot, cap) >> 16;
	return CHECK((flags & PCI_MSIX_FLAGS_ENABLE) &&
		     !(flags & PCI_MSIX_FLAGS_MASKALL),
		     "MSI-X: control reads 0x%x", flags);
}
