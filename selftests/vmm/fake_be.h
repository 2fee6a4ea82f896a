/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A recording fake backend for the transport tests (mmio_test, pci_test):
 * it counts and keeps what the transport hands it, and answers with what
 * the test puts in it.
 */
#ifndef VNL_FAKE_BE_H
#define VNL_FAKE_BE_H

#include "user/dev/backend.h"

struct fake_be {
	struct vnl_backend be;
	int starts, resets, notifies, acks, isr_reads, steps;
	int start_ret, step_ret, config_ret;
	uint32_t acked, isr, status;
	uint32_t step_status[4];	/* what set_status got, in order */
	uint64_t step_features;		/* ... with FEATURES_OK */
	uint64_t features;
	struct vnl_queue_cfg q[VNETLOOP_NUM_QUEUES];
	uint8_t config[8];	/* config_size of it is the device's */
};

extern const struct vnl_backend_ops fake_ops;

/* f zeroed, its ops, no kicks, the config space holding mac (8 bytes). */
void fake_be_init(struct fake_be *f, const uint8_t mac[6]);

#endif /* VNL_FAKE_BE_H */
