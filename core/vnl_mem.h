/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The memory model every home of the engine shares (Documentation/engine.rst,
 * "Guest memory"): a table of regions maps guest-physical addresses to host
 * addresses (the owner's userspace addresses in the module, the VMM's own
 * mapping in userspace).
 *
 * - A ring (descriptor table, avail, used) must lie inside one region: it is
 *   translated once when the queue or the table is set, then accessed
 *   directly. Regions adjacent in both guest and host space are merged.
 * - A buffer may cross from one region into the next when they are adjacent
 *   in guest-physical space; each piece is translated on its own (as vhost
 *   does with IOTLB entries).
 * - A region may refuse reads or writes (an IOTLB entry's permission): an
 *   access it refuses fails as an unbacked one.
 */
#ifndef VNL_MEM_H
#define VNL_MEM_H

#include "vnl_compat.h"

/* The module's IOTLB bound; QEMU maps a PC guest in about ten entries. */
#define VNL_MEM_MAX_REGIONS	64

/* Kernel: long frames go through a cache-hot bounce buffer of this size. */
#define VNL_BOUNCE_SIZE		4096

/* Access kinds, and the ones a region refuses (vnl_region.deny). */
#define VNL_READ		1
#define VNL_WRITE		2

struct vnl_region {
	u64 gpa;
	u64 size;
	u64 hva;
	u32 deny;		/* VNL_READ and/or VNL_WRITE; 0: both allowed */
};

struct vnl_mem {
	struct vnl_region r[VNL_MEM_MAX_REGIONS];	/* sorted by gpa */
	unsigned int n;
	unsigned int hint;	/* the region of the last hit */
	u8 *bounce;		/* kernel: VNL_BOUNCE_SIZE bytes, caller-owned */
};

/* vnl_mem_copy() results besides 0 */
#define VNL_FAULT_SRC	1
#define VNL_FAULT_DST	2

/*
 * Validate and install a table: sizes > 0, no wrap in either space, no
 * overlapping guest ranges, at most VNL_MEM_MAX_REGIONS. 0, -EINVAL or
 * -E2BIG; on error the old table stays. Neighbours contiguous in both
 * spaces with the same permissions are merged.
 */
int vnl_mem_set(struct vnl_mem *m, const struct vnl_region *r,
		unsigned int n);

/*
 * The host address of gpa and the bytes from there to the end of its
 * region (never 0). 0, or -EFAULT when gpa is not backed or its region
 * refuses acc (VNL_READ or VNL_WRITE).
 */
static __always_inline int vnl_mem_find(struct vnl_mem *m, u64 gpa, u32 acc,
					u64 *hva, u64 *room)
{
	/* hint < VNL_MEM_MAX_REGIONS always, even when >= n. */
	const struct vnl_region *r = m->r + m->hint;
	unsigned int i;

	/*
	 * The region of the last hit first; the table is tiny. Inline and
	 * call-free: the engine translates inside user access sections.
	 * (Hence pointers, not m->r[m->hint]: a bounds sanitizer, on in
	 * sid's kernels, would check that index with a call.)
	 */
	if (unlikely(m->hint >= m->n || gpa < r->gpa ||
		     gpa - r->gpa >= r->size)) {
		for (i = 0, r = m->r; i < m->n; i++, r++)
			if (gpa >= r->gpa && gpa - r->gpa < r->size)
				break;
		if (i == m->n)
			return -EFAULT;
		m->hint = i;
	}
	if (unlikely(r->deny & acc))
		return -EFAULT;
	*hva = r->hva + (gpa - r->gpa);
	*room = r->size - (gpa - r->gpa);
	return 0;
}

/* [gpa, gpa + len) inside one region (len > 0): its host address. */
static __always_inline int vnl_mem_xlate(struct vnl_mem *m, u64 gpa, u64 len,
					 u32 acc, u64 *hva)
{
	u64 room;

	if (!len || vnl_mem_find(m, gpa, acc, hva, &room) || room < len)
		return -EFAULT;
	return 0;
}

/*
 * Every byte of [gpa, gpa + len) is backed, across adjacent regions, by
 * regions that allow acc.
 */
bool vnl_mem_backed(struct vnl_mem *m, u64 gpa, u64 len, u32 acc);

/*
 * n bytes between host addresses from translations: 0 or VNL_FAULT_*;
 * n bytes from a local buffer to the host address dst: 0 or -EFAULT.
 */
#ifdef __KERNEL__
int vnl_mem_copy(struct vnl_mem *m, u64 dst, u64 src, u32 n);
int vnl_mem_write(u64 dst, const void *src, u32 n);
#else
/* Userspace: the translated memory is mapped, so nothing faults. */
static inline int vnl_mem_copy(struct vnl_mem *m, u64 dst, u64 src, u32 n)
{
	(void)m;
	vnl_test_hook(vnl_guest_ptr(src), n, false);
	/* A hostile guest may make the two buffers overlap. */
	memmove(vnl_guest_ptr(dst), vnl_guest_ptr(src), n);
	vnl_test_hook(vnl_guest_ptr(dst), n, true);
	return 0;
}

static inline int vnl_mem_write(u64 dst, const void *src, u32 n)
{
	memcpy(vnl_guest_ptr(dst), src, n);
	vnl_test_hook(vnl_guest_ptr(dst), n, true);
	return 0;
}
#endif

#endif /* VNL_MEM_H */
