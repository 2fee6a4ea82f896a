/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The built-in guest's machine as `vnetloop run` builds it: the fixed
 * guest-physical layout, the GDT selectors, and the header of the guest
 * image (Documentation/vmm.rst).
 * Compiled both by the VMM and by the freestanding guest: fixed-width types.
 */
#ifndef VNL_ABI_LAYOUT_H
#define VNL_ABI_LAYOUT_H

#include <stdint.h>

/* Fixed guest-physical layout set up by the VMM (see Documentation/vmm.rst). */
#define VNL_GPA_GDT		0x1000ULL
#define VNL_GPA_IDT		0x2000ULL
#define VNL_GPA_TSS		0x3000ULL
#define VNL_GPA_PARAMS		0x4000ULL
#define VNL_GPA_PML4		0x8000ULL	/* + PDPT + 4 PDs: 0x8000..0xdfff */
#define VNL_GPA_STACKS		0x20000ULL	/* one stack per vCPU */
#define VNL_STACK_SIZE		0x4000ULL
#define VNL_MAX_VCPUS		32
#define VNL_GPA_IMAGE		0x100000ULL	/* the guest binary is linked here */

/* The virtio-mmio device and its interrupt (with --transport mmio). */
#define VNL_GPA_MMIO		0xd0000000ULL
#define VNL_MMIO_SIZE		0x200
#define VNL_MMIO_GSI		5
/*
 * The PCI transport: the window firmware (the VMM) and the built-in guest
 * place BARs in, inside the 32-bit MMIO hole above RAM, and the IOAPIC pin
 * of the NIC's INTx (a PCI pin: none of the ISA IRQs).
 */
#define VNL_GPA_PCI_MMIO	0xe0000000ULL
#define VNL_PCI_MMIO_SIZE	0x10000000ULL
#define VNL_PCI_INTX_GSI	16
#define VNL_GPA_IOAPIC		0xfec00000ULL
#define VNL_GPA_LAPIC		0xfee00000ULL

/* Its identity: virtio-mmio version 2, a VIRTIO_ID_NET device. */
#define VNL_MMIO_MAGIC		0x74726976	/* "virt" */
#define VNL_MMIO_VERSION	2
#define VNL_MMIO_VENDOR		0x4c4e5456	/* "VTNL" */

/* GDT selectors (the Linux boot protocol's __BOOT_CS / __BOOT_DS). */
#define VNL_SEL_CODE		0x10
#define VNL_SEL_DATA		0x18
#define VNL_SEL_TSS		0x20	/* 16-byte descriptor: 0x20 and 0x28 */
#define VNL_SEL_USER_CODE	0x30	/* DPL 3, for the guest's CPL-3 code */
#define VNL_SEL_USER_DATA	0x38

/* The header at the start of the guest image. */
#define VNL_IMAGE_MAGIC		0x474c4e56	/* "VNLG" */
struct vnl_image_head {
	uint32_t magic;
	uint32_t version;
	uint64_t entry;		/* bootstrap vCPU: rdi = &params */
	uint64_t ap_entry;	/* other vCPUs: rdi = &params, rsi = vCPU index */
	uint64_t end;		/* end of .bss: the guest's heap starts after it */
};

#endif /* VNL_ABI_LAYOUT_H */
