// SPDX-License-Identifier: GPL-2.0
/*
 * The engine's guest memory accessors. They run in the worker, which has
 * borrowed the owner's mm, so a guest-physical address is translated to the
 * owner's address through the region table and copied with
 * copy_{from,to}_user(). A range may span adjacent regions.
 */
#include <linux/kernel.h>
#include <linux/overflow.h>
#include <linux/uaccess.h>

#include "vnetloop.h"

/* Map gpa; returns the user pointer and the bytes usable there (<= len). */
static void __user *vnl_mem_map(struct vnl_device *vd, u64 gpa, u32 len,
				u32 *n)
{
	u64 hva, room;

	if (vnl_region_find(vd->regions, vd->nregions, gpa, &hva, &room) ||
	    !room)
		return NULL;
	*n = min_t(u64, len, room);
	return u64_to_user_ptr(hva);
}

static int vnl_mem_read(void *ctx, u64 gpa, void *dst, u32 len)
{
	struct vnl_device *vd = ctx;
	u8 *p = dst;

	while (len) {
		void __user *src;
		u32 n;

		src = vnl_mem_map(vd, gpa, len, &n);
		if (!src || copy_from_user(p, src, n))
			return -EFAULT;
		p += n;
		len -= n;
		if (len && check_add_overflow(gpa, (u64)n, &gpa))
			return -EFAULT;
	}
	return 0;
}

static int vnl_mem_write(void *ctx, u64 gpa, const void *src, u32 len)
{
	struct vnl_device *vd = ctx;
	const u8 *p = src;

	while (len) {
		void __user *dst;
		u32 n;

		dst = vnl_mem_map(vd, gpa, len, &n);
		if (!dst || copy_to_user(dst, p, n))
			return -EFAULT;
		p += n;
		len -= n;
		if (len && check_add_overflow(gpa, (u64)n, &gpa))
			return -EFAULT;
	}
	return 0;
}

static void vnl_mem_commit(void *ctx, const u64 *delta)
{
	vnl_stats_commit(ctx, delta);
}

const struct vnl_ops vnl_mem_ops = {
	.read = vnl_mem_read,
	.write = vnl_mem_write,
	.commit = vnl_mem_commit,
};
