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

int vnl_mem_find_slow(struct vnl_mem *m, u64 gpa, u64 *hva, u64 *room)
{
	unsigned int i;

	for (i = 0; i < m->n; i++) {
		const struct vnl_region *r = &m->r[i];

		if (gpa < r->gpa || gpa - r->gpa >= r->size)
			continue;
		m->hint = i;
		*hva = r->hva + (gpa - r->gpa);
		*room = r->size - (gpa - r->gpa);
		return 0;
	}
	return -EFAULT;
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

/*
 * Frames up to this size are copied user to user through registers in one
 * user access section: no bounce, no rep movs (which some CPUs and the
 * emulators run slowly for short copies), no hardened-usercopy lookups.
 */
#define VNL_COPY_INLINE_MAX	256

int vnl_mem_copy(struct vnl_mem *m, u64 dst, u64 src, u32 n)
{
	u8 __user *d = u64_to_user_ptr(dst);
	u8 __user *s = u64_to_user_ptr(src);
	u32 chunk;

	if (n <= VNL_COPY_INLINE_MAX) {
		if (!access_ok(d, n))
			return VNL_FAULT_DST;
		if (!user_access_begin(s, n))
			return VNL_FAULT_SRC;
		for (; n >= 8; n -= 8, s += 8, d += 8) {
			u64 v;

			unsafe_get_user(v, (u64 __user *)s, src_fault);
			unsafe_put_user(v, (u64 __user *)d, dst_fault);
		}
		for (; n; n--, s++, d++) {
			u8 v;

			unsafe_get_user(v, s, src_fault);
			unsafe_put_user(v, d, dst_fault);
		}
		user_access_end();
		return 0;
	}
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

#endif
