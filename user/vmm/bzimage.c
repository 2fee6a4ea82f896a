// SPDX-License-Identifier: GPL-2.0
/*
 * The Linux x86 boot protocol, 64-bit entry. A bzImage is a real-mode setup
 * part (setup_sects + 1 sectors; its header at 0x1f1 is "the setup header")
 * followed by the protected-mode kernel. A 64-bit loader runs none of the
 * setup code: it copies the setup header into a zeroed struct boot_params
 * (the zero page), fills in what a BIOS-based setup would have found (the
 * e820 memory map), points it at the command line and the initrd, loads the
 * protected-mode part at 1 MiB and jumps to startup_64, 0x200 bytes in,
 * with paging on, a flat __BOOT_CS/__BOOT_DS GDT, interrupts off and RSI =
 * the zero page. The zero page and the setup header are the kernel's
 * struct boot_params and struct setup_header (<asm/bootparam.h>), the e820
 * types <asm/e820.h>'s; the setup header lies at the same offset in the
 * file as in the zero page.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <asm/bootparam.h>
#include <asm/e820.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "user/vmm/bzimage.h"

/* Where the setup header starts, in the file and in the zero page. */
#define HDR_START		offsetof(struct boot_params, hdr)
/*
 * It ends where its first field's short jump lands: past the jump (0x202)
 * plus the jump's displacement, its second byte.
 */
#define HDR_JUMP_END		offsetof(struct boot_params, hdr.header)

/* Values the boot protocol gives and the kernel's headers do not name. */
#define HDR_MAGIC_VALUE		0x53726448	/* "HdrS" */
#define BOOT_FLAG_VALUE		0xaa55
#define LOADER_UNDEFINED	0xff	/* no assigned boot loader id */
#define PROTOCOL_MIN		0x20c	/* 2.12: xloadflags, 64-bit entry */

#define SECTOR			512
#define PAGE			0x1000ULL

/* Open the file what ("kernel", "initrd") for reading: fd or -errno. */
static int bz_open(const char *what, const char *path, struct stat *st)
{
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, st)) {
		err = errno;
		fprintf(stderr, "vnetloop: cannot read the %s %s: %s\n", what,
			path, strerror(err));
		if (fd >= 0)
			close(fd);
		return -err;
	}
	return fd;
}

/* Read its first size bytes into dst, then close it. */
static int bz_read_close(int fd, const char *what, const char *path,
			 uint8_t *dst, uint64_t size)
{
	uint64_t got = 0;
	int err;

	while (got < size) {
		ssize_t n = pread(fd, dst + got, size - got, got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : EIO;
			fprintf(stderr, "vnetloop: reading the %s %s: %s\n",
				what, path, n < 0 ? strerror(err) : "short read");
			close(fd);
			return -err;
		}
		got += n;
	}
	close(fd);
	return 0;
}

/* Read a whole file; *buf is malloc()ed. */
static int bz_read_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	uint8_t *b;
	int fd, ret;

	fd = bz_open("kernel", path, &st);
	if (fd < 0)
		return fd;
	b = malloc(st.st_size ? st.st_size : 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	ret = bz_read_close(fd, "kernel", path, b, st.st_size);
	if (ret) {
		free(b);
		return ret;
	}
	*buf = b;
	*len = st.st_size;
	return 0;
}

static int bz_bad(const char *path, const char *why)
{
	fprintf(stderr, "vnetloop: %s is not a bootable x86-64 bzImage: %s\n",
		path, why);
	return -ENOEXEC;
}

/* The parts of the setup header we rely on; the file is at least one
 * setup sector plus the header long. */
struct bz_hdr {
	size_t setup_len;	/* real-mode part, in bytes */
	size_t hdr_end;		/* end of the setup header */
	uint16_t version;
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;
	uint64_t pref_address;
	uint32_t init_size;
};

static int bz_parse(const char *path, const uint8_t *k, size_t len,
		    struct bz_hdr *h)
{
	struct setup_header sh;
	unsigned int sects;

	/* Two sectors hold the whole header: it ends before 0x302. */
	if (len < 2 * SECTOR)
		return bz_bad(path, "shorter than two sectors");
	memcpy(&sh, k + HDR_START, sizeof(sh));
	if (sh.boot_flag != BOOT_FLAG_VALUE || sh.header != HDR_MAGIC_VALUE)
		return bz_bad(path, "no \"HdrS\" setup header");
	h->version = sh.version;
	if (h->version < PROTOCOL_MIN) {
		fprintf(stderr, "vnetloop: %s: boot protocol %u.%02u, need 2.12 or later (64-bit entry)\n",
			path, h->version >> 8, h->version & 0xff);
		return -ENOEXEC;
	}
	if (!(sh.xloadflags & XLF_KERNEL_64))
		return bz_bad(path, "no 64-bit entry point (XLF_KERNEL_64)");
	if (!(sh.loadflags & LOADED_HIGH))
		return bz_bad(path, "a zImage (loaded low), not a bzImage");
	sects = sh.setup_sects ? sh.setup_sects : 4;
	h->setup_len = (sects + 1) * SECTOR;
	h->hdr_end = HDR_JUMP_END + (sh.jump >> 8);
	if (h->setup_len >= len)
		return bz_bad(path, "no protected-mode kernel after the setup sectors");
	if (h->hdr_end > h->setup_len ||
	    h->hdr_end < HDR_START + offsetof(struct setup_header, init_size) +
			 sizeof(sh.init_size))
		return bz_bad(path, "setup header of an unexpected length");
	h->initrd_addr_max = sh.initrd_addr_max;
	h->cmdline_size = sh.cmdline_size;
	h->pref_address = sh.pref_address;
	h->init_size = sh.init_size;
	return 0;
}

static void bz_e820_add(struct boot_params *bp, uint64_t addr,
			uint64_t size, uint32_t type)
{
	uint8_t n = bp->e820_entries;

	if (!size || n == E820_MAX_ENTRIES_ZEROPAGE)
		return;
	bp->e820_table[n].addr = addr;
	bp->e820_table[n].size = size;
	bp->e820_table[n].type = type;
	bp->e820_entries = n + 1;
}

/* RAM but for the MP table's kilobyte and the BIOS area; memory stays
 * below the 32-bit MMIO windows, so there is no other hole. */
static void bz_e820(struct vm *vm, struct boot_params *bp)
{
	bz_e820_add(bp, 0, BZ_LOW_RAM_END, E820_RAM);
	bz_e820_add(bp, BZ_LOW_RAM_END, 0xa0000 - BZ_LOW_RAM_END,
		    E820_RESERVED);
	bz_e820_add(bp, BZ_GPA_BIOS, BZ_GPA_KERNEL - BZ_GPA_BIOS,
		    E820_RESERVED);
	bz_e820_add(bp, BZ_GPA_KERNEL, vm->mem_size - BZ_GPA_KERNEL, E820_RAM);
}

/* Read the initrd straight into guest RAM at the top, below the kernel's
 * limit and above everything the kernel unpacks itself into. */
static int bz_load_initrd(struct vm *vm, const char *path,
			  const struct bz_hdr *h, struct bzimage_info *info)
{
	uint64_t top = vm->mem_size, size, gpa;
	struct stat st;
	int fd, ret;

	if ((uint64_t)h->initrd_addr_max + 1 < top)
		top = (uint64_t)h->initrd_addr_max + 1;
	fd = bz_open("initrd", path, &st);
	if (fd < 0)
		return fd;
	size = st.st_size;
	gpa = size <= top ? (top - size) & ~(PAGE - 1) : 0;
	if (!size || size > top || gpa < info->reserve_end) {
		fprintf(stderr,
			"vnetloop: the initrd %s (%llu bytes) does not fit between the kernel (up to 0x%llx) and 0x%llx: give the guest more memory (--mem)\n",
			path, (unsigned long long)size,
			(unsigned long long)info->reserve_end,
			(unsigned long long)top);
		close(fd);
		return size ? -ENOMEM : -EINVAL;
	}
	ret = bz_read_close(fd, "initrd", path, vm_gpa(vm, gpa, size), size);
	if (ret)
		return ret;
	info->initrd_gpa = gpa;
	info->initrd_size = size;
	return 0;
}

/* vCPU 0 in long mode at the entry, RSI = the zero page. */
static int bz_enter(struct vm *vm, uint64_t entry)
{
	struct kvm_regs regs;
	int ret;

	ret = vm_setup_long_mode(vm, entry, 0, 0);
	if (ret)
		return ret;
	if (ioctl(vm->vcpus[0].fd, KVM_GET_REGS, &regs)) {
		ret = -errno;
		perror("vnetloop: KVM_GET_REGS");
		return ret;
	}
	regs.rsi = BZ_GPA_ZERO_PAGE;
	regs.rdi = 0;
	regs.rflags = 0x2;	/* interrupts off */
	if (ioctl(vm->vcpus[0].fd, KVM_SET_REGS, &regs)) {
		ret = -errno;
		perror("vnetloop: KVM_SET_REGS");
		return ret;
	}
	return 0;
}

int bzimage_boot(struct vm *vm, const char *kernel, const char *initrd,
		 const char *cmdline, struct bzimage_info *info)
{
	size_t len = 0, pm_len, cl_len = strlen(cmdline);
	struct boot_params *bp;
	uint8_t *k = NULL;
	struct bz_hdr h;
	int ret;

	memset(info, 0, sizeof(*info));
	ret = bz_read_file(kernel, &k, &len);
	if (ret)
		return ret;
	ret = bz_parse(kernel, k, len, &h);
	if (ret)
		goto out;
	pm_len = len - h.setup_len;
	info->version = h.version;
	info->entry = BZ_GPA_KERNEL + BZ_ENTRY_64;
	info->kernel_end = BZ_GPA_KERNEL + pm_len;
	/* The kernel unpacks itself at max(load address, pref_address) and
	 * uses init_size bytes from there (and moves its compressed copy
	 * into that range first). */
	info->reserve_end = (h.pref_address > BZ_GPA_KERNEL ? h.pref_address :
			     BZ_GPA_KERNEL) + h.init_size;
	if (info->kernel_end > info->reserve_end)
		info->reserve_end = info->kernel_end;
	info->cmdline_len = cl_len;
	if (info->reserve_end > vm->mem_size) {
		fprintf(stderr, "vnetloop: the kernel %s needs RAM up to 0x%llx to unpack itself, the guest has 0x%llx bytes: use --mem\n",
			kernel, (unsigned long long)info->reserve_end,
			(unsigned long long)vm->mem_size);
		ret = -ENOMEM;
		goto out;
	}
	if (cl_len + 1 > BZ_CMDLINE_MAX ||
	    (h.cmdline_size && cl_len > h.cmdline_size)) {
		fprintf(stderr, "vnetloop: the kernel command line is %zu bytes, %s takes at most %u\n",
			cl_len, kernel, h.cmdline_size);
		ret = -E2BIG;
		goto out;
	}
	memcpy(vm_gpa(vm, BZ_GPA_KERNEL, pm_len), k + h.setup_len, pm_len);
	memcpy(vm_gpa(vm, BZ_GPA_CMDLINE, cl_len + 1), cmdline, cl_len + 1);

	bp = vm_gpa(vm, BZ_GPA_ZERO_PAGE, sizeof(*bp));
	memset(bp, 0, sizeof(*bp));
	/* The header as the file has it, however long its version makes it. */
	memcpy((uint8_t *)bp + HDR_START, k + HDR_START, h.hdr_end - HDR_START);
	bp->hdr.type_of_loader = LOADER_UNDEFINED;
	bp->hdr.code32_start = BZ_GPA_KERNEL;
	bp->hdr.cmd_line_ptr = (uint32_t)BZ_GPA_CMDLINE;
	bp->ext_cmd_line_ptr = BZ_GPA_CMDLINE >> 32;
	bz_e820(vm, bp);
	if (initrd) {
		ret = bz_load_initrd(vm, initrd, &h, info);
		if (ret)
			goto out;
		bp->hdr.ramdisk_image = (uint32_t)info->initrd_gpa;
		bp->hdr.ramdisk_size = (uint32_t)info->initrd_size;
		bp->ext_ramdisk_image = info->initrd_gpa >> 32;
		bp->ext_ramdisk_size = info->initrd_size >> 32;
	}
	/* Only the header was copied, so the sentinel is still 0 and the
	 * kernel trusts the fields outside the header. */
	ret = bz_enter(vm, info->entry);
out:
	free(k);
	return ret;
}
