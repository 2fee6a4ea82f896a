// SPDX-License-Identifier: GPL-2.0
/* The NIC's eventfds in KVM: kicks as ioeventfds, a pin as an irqfd. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "user/vmm/wire.h"

int wire_line(struct vm *vm, uint32_t gsi, int *fd)
{
	int ret;

	*fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (*fd < 0) {
		ret = -errno;
		fprintf(stderr, "vnetloop: interrupt eventfd of GSI %u: %s\n",
			gsi, strerror(-ret));
		return ret;
	}
	ret = vm_irqfd(vm, *fd, gsi, true);
	if (ret) {
		fprintf(stderr, "vnetloop: no irqfd on GSI %u\n", gsi);
		close(*fd);
		*fd = -1;
	}
	return ret;
}

void wire_line_free(struct vm *vm, uint32_t gsi, int fd)
{
	if (fd < 0)
		return;
	vm_irqfd(vm, fd, gsi, false);
	close(fd);
}

int wire_kicks(struct vm *vm, const struct vnl_backend *b, uint64_t base,
	       uint64_t stride, uint32_t len, bool assign)
{
	const int *fd = b->kick_fd;
	int ret = 0;

	for (unsigned int q = 0; q < vnl_backend_nqueues(b); q++) {
		if (fd[q] < 0)
			continue;
		if (!vm_ioeventfd(vm, base + q * stride, len, q, fd[q], assign))
			continue;
		fprintf(stderr, "vnetloop: %s the kick ioeventfd of queue %u at 0x%llx\n",
			assign ? "cannot register" : "cannot remove", q,
			(unsigned long long)(base + q * stride));
		ret = -EIO;
		if (!assign)
			continue;
		/* Leave none behind. */
		while (q--)
			if (fd[q] >= 0)
				vm_ioeventfd(vm, base + q * stride, len, q,
					     fd[q], false);
		break;
	}
	return ret;
}
