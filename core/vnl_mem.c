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

static bool vnl_overlap(const struct vnl_region *a, const struct vnl_region *b)
{
	return a->gpa <= b->gpa + b->size - 1 && b->gpa <= a->gpa + a->size - 1;
}

int vnl_mem_set(struct vnl_mem *m, const struct vnl_region *r,
		unsigned int n)
{
	struct vnl_region x;
	unsigned int i, j, k;

	if (n > VNL_MEM_MAX_REGIONS)
		return -E2BIG;
	/* Checked in place: a copy of 64 entries is too big for a stack. */
	for (i = 0; i < n; i++) {
		if (!r[i].size || vnl_wraps(r[i].gpa, r[i].size) ||
		    vnl_wraps(r[i].hva, r[i].size) ||
		    (r[i].deny & ~(VNL_READ | VNL_WRITE)))
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (vnl_overlap(&r[i], &r[j]))
				return -EINVAL;
	}
	/* Insertion sort by gpa into the table; n is small. */
	for (i = 0; i < n; i++) {
		x = r[i];
		for (j = i; j > 0 && m->r[j - 1].gpa > x.gpa; j--)
			m->r[j] = m->r[j - 1];
		m->r[j] = x;
	}
	/* Merge neighbours contiguous on both sides, with the same rights. */
	for (i = 0, k = 0; i < n; i++) {
		if (k && m->r[k - 1].gpa + m->r[k - 1].size == m->r[i].gpa &&
		    m->r[k - 1].hva + m->r[k - 1].size == m->r[i].hva &&
		    m->r[k - 1].deny == m->r[i].deny &&
		    !vnl_wraps(m->r[k - 1].hva,
			       m->r[k - 1].size + m->r[i].size)) {
			m->r[k - 1].size += m->r[i].size;
			continue;
		}
		m->r[k++] = m->r[i];
	}
	m->n = k;
	m->hint = 0;
	return 0;
}

bool vnl_mem_backed(struct vnl_mem *m, u64 gpa, u64 len, u32 acc)
{
	u64 hva, room;

	while (len) {
		if (vnl_mem_find(m, gpa, acc, &hva, &room))
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
u64 (*vnl_test_clock)(void);

#endif
