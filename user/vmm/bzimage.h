/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Booting a Linux bzImage with the x86 boot protocol (Documentation/x86/
 * boot.rst in the kernel): the protected-mode kernel at 1 MiB, the zero page
 * (struct boot_params) with an e820 map, the command line and an initrd, and
 * the 64-bit entry point, entered in long mode with RSI = the zero page.
 */
#ifndef VNL_BZIMAGE_H
#define VNL_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "user/vmm/vm.h"

/* Guest-physical placement (below the 640 KiB mark, clear of the page
 * tables and stacks vm_setup_long_mode() builds). */
#define BZ_GPA_ZERO_PAGE	0x10000ULL
#define BZ_GPA_CMDLINE		0x11000ULL
#define BZ_CMDLINE_MAX		0xf000U		/* up to 0x20000 */
#define BZ_GPA_KERNEL		0x100000ULL	/* protected-mode code */
#define BZ_ENTRY_64		0x200		/* startup_64, from the start */

/* Conventional memory ends at 639 KiB; the last KiB is reserved for the MP
 * table (user/vmm/mptable.c), as a BIOS would keep its EBDA there. */
#define BZ_LOW_RAM_END		0x9fc00ULL
#define BZ_GPA_BIOS		0xf0000ULL	/* reserved up to 1 MiB */

struct bzimage_info {
	uint16_t version;	/* boot protocol, 0x20f = 2.15 */
	uint64_t entry;		/* the 64-bit entry point */
	uint64_t kernel_end;	/* end of the loaded protected-mode code */
	uint64_t reserve_end;	/* end of the decompression area (init_size) */
	uint64_t initrd_gpa;
	uint64_t initrd_size;
	size_t cmdline_len;
};

/*
 * Load kernel (a bzImage file) and initrd (NULL for none) into vm's RAM,
 * write the zero page and the command line, and put vCPU 0 at the 64-bit
 * entry point in long mode (the others wait for INIT/SIPI). Returns 0 or a
 * negative errno, after printing what is wrong with which file.
 */
int bzimage_boot(struct vm *vm, const char *kernel, const char *initrd,
		 const char *cmdline, struct bzimage_info *info);

#endif /* VNL_BZIMAGE_H */
