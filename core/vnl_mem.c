// SPDX-License-Identifier: GPL-2.0
/*
 * The guest memory model (core/vnl_mem.h): region translation, shared by the
 * module and every userspace home, and the one copy primitive whose body
 * depends on the home.
 */
#include "vnl_mem.h"

static bool vnl_wraps(u64 base, u64 len)
{
	return base + len - 1 < base;
}

int vnl_mem_set(struct vnl_mem *m, const struct vnl_region *r,
		unsigned int n)
{
	struct vnl_region t[VNL_MEM_MAX_REGIONS], x;
	unsigned int i, j, k;

	if (n > VNL_MEM_MAX_REGIONS)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		if (!r[i].size || vnl_wraps(r[i].gpa, r[i].size) ||
		    vnl_wraps(r[i].hva, r[i].size))
			return -EINVAL;
		/* Insertion sort by gpa; n is tiny. */
		x = r[i];
		for (j = i; j > 0 && t[j - 1].gpa > x.gpa; j--)
			t[j] = t[j - 1];
		t[j] = x;
	}
	for (i = 1; i < n; i++)
		if (t[i].gpa <= t[i - 1].gpa + t[i - 1].size - 1)
			return -EINVAL;
	/* Merge neighbours that are contiguous on both sides. */
	for (i = 0, k = 0; i < n; i++) {
		if (k && t[k - 1].gpa + t[k - 1].size == t[i].gpa &&
		    t[k - 1].hva + t[k - 1].size == t[i].hva &&
		    !vnl_wraps(t[k - 1].hva, t[k - 1].size + t[i].size)) {
			t[k - 1].size += t[i].size;
			continue;
		}
		t[k++] = t[i];
	}
	memcpy(m->r, t, k * sizeof(t[0]));
	m->n = k;
	m->hint = 0;
	return 0;
}

bool vnl_mem_backed(struct vnl_mem *m, u64 gpa, u64 len)
{
	u64 hva, room;

	while (len) {
		if (vnl_mem_find(m, gpa, &hva, &room))
			return false;
		if (room >= len)
			return true;
		/* The next piece starts where this region ends. */
		gpa += room;
		len -= room;
	}
	return true;
}

#ifdef __KERNEL__

int vnl_mem_copy(struct vnl_mem *m, u64 dst, u64 src, u32 n)
{
	u8 __user *d = u64_to_user_ptr(dst);
	u8 __user *s = u64_to_user_ptr(src);
	u32 chunk;

	if (n <= VNL_SECTION_COPY_MAX) {
		if (!access_ok(d, n))
			return VNL_FAULT_DST;
		if (!user_access_begin(s, n))
			return VNL_FAULT_SRC;
		vnl_copy_in_section(d, s, n, src_fault, dst_fault);
		user_access_end();
		return 0;
	}
	/*
	 * Long frames: a cache-hot bounce buffer and the kernel's own copy
	 * routines, which move long runs fastest.
	 */
	for (; n; n -= chunk, s += chunk, d += chunk) {
		chunk = min_t(u32, n, VNL_BOUNCE_SIZE);
		if (copy_from_user(m->bounce, s, chunk))
			return VNL_FAULT_SRC;
		if (copy_to_user(d, m->bounce, chunk))
			return VNL_FAULT_DST;
	}
	return 0;

src_fault:
	user_access_end();
	return VNL_FAULT_SRC;
dst_fault:
	user_access_end();
	return VNL_FAULT_DST;
}

int vnl_mem_write(u64 dst, const void *src, u32 n)
{
	return copy_to_user(u64_to_user_ptr(dst), src, n) ? -EFAULT : 0;
}

#elif defined(VNL_ENGINE_TEST_HOOKS)

void (*vnl_test_access)(void *p, size_t len, bool write);
bool vnl_test_stop;

#endif
