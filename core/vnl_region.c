// SPDX-License-Identifier: GPL-2.0
/*
 * Guest-physical to host address translation over a small region table,
 * shared by the module (host address = owner's userspace address) and by the
 * userspace backends (host address = the VMM's mapping).
 */
#include "vnl_engine.h"

int vnl_region_find(const struct vnl_region *r, unsigned int n, u64 gpa,
		    u64 *hva, u64 *room)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (gpa < r[i].gpa || gpa - r[i].gpa >= r[i].size)
			continue;
		*hva = r[i].hva + (gpa - r[i].gpa);
		*room = r[i].size - (gpa - r[i].gpa);
		return 0;
	}
	return -EFAULT;
}

int vnl_regions_check(const struct vnl_region *r, unsigned int n)
{
	unsigned int i, j;

	for (i = 0; i < n; i++) {
		if (!r[i].size)
			return -EINVAL;
		if (r[i].gpa + r[i].size - 1 < r[i].gpa ||
		    r[i].hva + r[i].size - 1 < r[i].hva)
			return -EINVAL;
		for (j = 0; j < i; j++) {
			if (r[i].gpa <= r[j].gpa + r[j].size - 1 &&
			    r[j].gpa <= r[i].gpa + r[i].size - 1)
				return -EINVAL;
		}
	}
	return 0;
}
