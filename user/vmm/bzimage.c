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
 * the zero page. Offsets are written out rather than taken from a C struct
 * so that they can be checked against the protocol document one by one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "user/vmm/bzimage.h"

/* The setup header, at these offsets in both the file and the zero page. */
#define HDR_START		0x1f1	/* setup_sects, the first field */
#define HDR_SETUP_SECTS		0x1f1	/* u8; 0 means 4 */
#define HDR_BOOT_FLAG		0x1fe	/* u16, 0xaa55 */
#define HDR_JUMP		0x200	/* u16; its second byte + 0x202 ends
					 * the header */
#define HDR_MAGIC		0x202	/* "HdrS" */
#define HDR_VERSION		0x206	/* u16 */
#define HDR_TYPE_OF_LOADER	0x210	/* u8 */
#define HDR_LOADFLAGS		0x211	/* u8 */
#define HDR_CODE32_START	0x214	/* u32 */
#define HDR_RAMDISK_IMAGE	0x218	/* u32 */
#define HDR_RAMDISK_SIZE	0x21c	/* u32 */
#define HDR_CMD_LINE_PTR	0x228	/* u32, 2.02+ */
#define HDR_INITRD_ADDR_MAX	0x22c	/* u32, 2.03+ */
#define HDR_XLOADFLAGS		0x236	/* u16, 2.12+ */
#define HDR_CMDLINE_SIZE	0x238	/* u32, 2.06+ */
#define HDR_PREF_ADDRESS	0x258	/* u64, 2.10+ */
#define HDR_INIT_SIZE		0x260	/* u32, 2.10+ */

#define HDR_MAGIC_VALUE		0x53726448	/* "HdrS" */
#define BOOT_FLAG_VALUE		0xaa55
#define LOADFLAGS_LOADED_HIGH	0x01
#define XLF_KERNEL_64		0x01
#define LOADER_UNDEFINED	0xff	/* no assigned boot loader id */
#define PROTOCOL_MIN		0x20c	/* 2.12: xloadflags, 64-bit entry */

/* Zero page fields outside the setup header. */
#define BP_EXT_RAMDISK_IMAGE	0x0c0	/* u32: bits 63..32 */
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8	/* u8 */
#define BP_SENTINEL		0x1ef	/* u8, must stay 0 */
#define BP_E820_TABLE		0x2d0	/* 128 x {u64 addr, size; u32 type} */
#define BP_E820_MAX		128
#define BP_SIZE			0x1000

#define E820_RAM		1
#define E820_RESERVED		2

#define SECTOR			512
#define PAGE			0x1000ULL

static uint16_t get16(const uint8_t *p, size_t off)
{
	return p[off] | p[off + 1] << 8;
}

static uint32_t get32(const uint8_t *p, size_t off)
{
	return get16(p, off) | (uint32_t)get16(p, off + 2) << 16;
}

static uint64_t get64(const uint8_t *p, size_t off)
{
	return get32(p, off) | (uint64_t)get32(p, off + 4) << 32;
}

static void put32(uint8_t *p, size_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[off + i] = v >> (8 * i);
}

static void put64(uint8_t *p, size_t off, uint64_t v)
{
	put32(p, off, v);
	put32(p, off + 4, v >> 32);
}

/* Read a whole file; *buf is malloc()ed. */
static int bz_read_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	uint8_t *b;
	size_t got = 0;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		err = errno;
		fprintf(stderr, "vnetloop: cannot read the kernel %s: %s\n",
			path, strerror(err));
		if (fd >= 0)
			close(fd);
		return -err;
	}
	b = malloc(st.st_size ? st.st_size : 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : EIO;
			fprintf(stderr, "vnetloop: reading the kernel %s: %s\n",
				path, n < 0 ? strerror(err) : "short read");
			free(b);
			close(fd);
			return -err;
		}
		got += n;
	}
	close(fd);
	*buf = b;
	*len = got;
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
	unsigned int sects;

	if (len < 2 * SECTOR)
		return bz_bad(path, "shorter than two sectors");
	if (get16(k, HDR_BOOT_FLAG) != BOOT_FLAG_VALUE ||
	    get32(k, HDR_MAGIC) != HDR_MAGIC_VALUE)
		return bz_bad(path, "no \"HdrS\" setup header");
	h->version = get16(k, HDR_VERSION);
	if (h->version < PROTOCOL_MIN) {
		fprintf(stderr, "vnetloop: %s: boot protocol %u.%02u, need 2.12 or later (64-bit entry)\n",
			path, h->version >> 8, h->version & 0xff);
		return -ENOEXEC;
	}
	if (!(get16(k, HDR_XLOADFLAGS) & XLF_KERNEL_64))
		return bz_bad(path, "no 64-bit entry point (XLF_KERNEL_64)");
	if (!(k[HDR_LOADFLAGS] & LOADFLAGS_LOADED_HIGH))
		return bz_bad(path, "a zImage (loaded low), not a bzImage");
	sects = k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4;
	h->setup_len = (sects + 1) * SECTOR;
	h->hdr_end = 0x202 + k[HDR_JUMP + 1];
	if (h->setup_len >= len)
		return bz_bad(path, "no protected-mode kernel after the setup sectors");
	if (h->hdr_end > h->setup_len || h->hdr_end < HDR_INIT_SIZE + 4)
		return bz_bad(path, "setup header of an unexpected length");
	h->initrd_addr_max = get32(k, HDR_INITRD_ADDR_MAX);
	h->cmdline_size = get32(k, HDR_CMDLINE_SIZE);
	h->pref_address = get64(k, HDR_PREF_ADDRESS);
	h->init_size = get32(k, HDR_INIT_SIZE);
	return 0;
}

static void bz_e820_add(uint8_t *bp, uint64_t addr, uint64_t size,
			uint32_t type)
{
	uint8_t n = bp[BP_E820_ENTRIES];
	size_t off = BP_E820_TABLE + 20 * n;

	if (!size || n == BP_E820_MAX)
		return;
	put64(bp, off, addr);
	put64(bp, off + 8, size);
	put32(bp, off + 16, type);
	bp[BP_E820_ENTRIES] = n + 1;
}

/* RAM but for the MP table's kilobyte and the BIOS area; memory stays
 * below the 32-bit MMIO windows, so there is no other hole. */
static void bz_e820(struct vm *vm, uint8_t *bp)
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
	uint64_t top = vm->mem_size, size, gpa, got = 0;
	struct stat st;
	int fd, err;

	if ((uint64_t)h->initrd_addr_max + 1 < top)
		top = (uint64_t)h->initrd_addr_max + 1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		err = errno;
		fprintf(stderr, "vnetloop: cannot read the initrd %s: %s\n",
			path, strerror(err));
		if (fd >= 0)
			close(fd);
		return -err;
	}
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
	while (got < size) {
		ssize_t n = pread(fd, vm_gpa(vm, gpa + got, size - got),
				  size - got, got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : EIO;
			fprintf(stderr, "vnetloop: reading the initrd %s: %s\n",
				path, n < 0 ? strerror(err) : "short read");
			close(fd);
			return -err;
		}
		got += n;
	}
	close(fd);
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
	uint8_t *k = NULL, *bp;
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

	bp = vm_gpa(vm, BZ_GPA_ZERO_PAGE, BP_SIZE);
	memset(bp, 0, BP_SIZE);
	memcpy(bp + HDR_START, k + HDR_START, h.hdr_end - HDR_START);
	bp[HDR_TYPE_OF_LOADER] = LOADER_UNDEFINED;
	put32(bp, HDR_CODE32_START, BZ_GPA_KERNEL);
	put32(bp, HDR_CMD_LINE_PTR, BZ_GPA_CMDLINE);
	put32(bp, BP_EXT_CMD_LINE_PTR, BZ_GPA_CMDLINE >> 32);
	bz_e820(vm, bp);
	if (initrd) {
		ret = bz_load_initrd(vm, initrd, &h, info);
		if (ret)
			goto out;
		put32(bp, HDR_RAMDISK_IMAGE, info->initrd_gpa);
		put32(bp, HDR_RAMDISK_SIZE, info->initrd_size);
		put32(bp, BP_EXT_RAMDISK_IMAGE, info->initrd_gpa >> 32);
		put32(bp, BP_EXT_RAMDISK_SIZE, info->initrd_size >> 32);
	}
	/* Only the header was copied, so the sentinel is still 0 and the
	 * kernel trusts the fields outside the header. */
	ret = bz_enter(vm, info->entry);
out:
	free(k);
	return ret;
}
