/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The NIC's eventfds in KVM: a backend's kick eventfds as ioeventfds on
 * the transport's notify addresses, and a pin's interrupt eventfd as an
 * irqfd. The backends never touch KVM; the VMM wires what they hand out.
 */
#ifndef VNL_WIRE_H
#define VNL_WIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "user/dev/backend.h"
#include "user/vmm/vm.h"

/* An eventfd whose write pulses gsi (irqfd, edge, no resample). */
int wire_line(struct vm *vm, uint32_t gsi, int *fd);
void wire_line_free(struct vm *vm, uint32_t gsi, int fd);

/*
 * The backend's kick eventfds (if it has them) as ioeventfds of len bytes
 * at base + q * stride with datamatch q, or, with assign false, no longer.
 */
int wire_kicks(struct vm *vm, const struct vnl_backend *b, uint64_t base,
	       uint64_t stride, uint32_t len, bool assign);

#endif /* VNL_WIRE_H */
