/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The port-I/O "ucall" channel the built-in guest answers through. A ucall
 * is one 32-bit OUT to VNL_UCALL_PORT whose value is the guest-physical
 * address of a struct vnl_ucall (guest memory is identity mapped below
 * 4 GiB). The vCPU exits to the VMM, which reads the struct from guest
 * memory, acts on it and resumes the guest.
 * Compiled both by the VMM and by the freestanding guest: fixed-width types.
 */
#ifndef VNL_ABI_UCALL_H
#define VNL_ABI_UCALL_H

#include <stdint.h>

#define VNL_UCALL_PORT		0x0e10

enum vnl_ucall_cmd {
	VNL_UCALL_MARK = 1,	/* arg[0]: enum vnl_mark */
	VNL_UCALL_FAIL,		/* arg[0]: gpa of a message, arg[1]: its length */
	VNL_UCALL_RESULT,	/* arg[0]: gpa of a struct vnl_guest_result */
	VNL_UCALL_DONE,		/* arg[0]: number of failed checks */
};

enum vnl_mark {
	VNL_MARK_TRAFFIC_START,
	VNL_MARK_TRAFFIC_END,
};

struct vnl_ucall {
	uint32_t cmd;
	uint32_t vcpu;
	uint64_t arg[3];
};

#endif /* VNL_ABI_UCALL_H */
