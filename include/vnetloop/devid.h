/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace: which vnetloop device an open /dev/vnetloop fd is. vhost-vdpa
 * has no request for it; the module prints it in the fd's fdinfo.
 */
#ifndef VNETLOOP_DEVID_H
#define VNETLOOP_DEVID_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>

/* 0 and *id, or -errno (-ENODEV: not a vnetloop fd). */
static inline int vnl_fd_dev_id(int fd, uint32_t *id)
{
	char path[64], line[128];
	int ret = -ENODEV;
	unsigned int v;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "vnetloop-id: %u", &v) == 1) {
			*id = v;
			ret = 0;
			break;
		}
	fclose(f);
	return ret;
}

#endif /* VNETLOOP_DEVID_H */
