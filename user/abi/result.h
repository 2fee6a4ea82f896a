/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The built-in guest's account of a run (VNL_UCALL_RESULT), with the
 * counter deltas it expects of the device.
 * Compiled both by the VMM and by the freestanding guest: fixed-width types.
 */
#ifndef VNL_ABI_RESULT_H
#define VNL_ABI_RESULT_H

#include <stdint.h>

/*
 * The contract counters (the thirteen, then the control queue's three), in
 * VNETLOOP_C_* id order.
 */
enum vnl_expect {
	VNL_X_TX_PACKETS, VNL_X_TX_BYTES, VNL_X_RX_PACKETS, VNL_X_RX_BYTES,
	VNL_X_TX_DROPPED_NO_RX_BUFFER, VNL_X_TX_DROPPED_RX_POISONED,
	VNL_X_TX_CHAIN_INVALID, VNL_X_TX_OVERSIZE_DROPPED,
	VNL_X_RX_CHAIN_INVALID, VNL_X_RX_WRITE_FAILED,
	VNL_X_TX_ADD_USED_FAILURES, VNL_X_RX_ADD_USED_FAILURES,
	VNL_X_INVALID_AVAIL_IDX_COUNT,
	VNL_X_CTRL_MQ_SET, VNL_X_CTRL_CHAIN_INVALID,
	VNL_X_CTRL_ADD_USED_FAILURES,
	VNL_NUM_SPEC_COUNTERS
};

/*
 * The guest's own view of the run; expect[] is what the device must count.
 * The magic changes with the layout ("VNLR", then "VNR2" when the phase
 * counts came): the VMM also checks the size the guest passes.
 */
#define VNL_RESULT_MAGIC	0x32524e56	/* "VNR2" */
struct vnl_guest_result {
	uint32_t magic;
	uint32_t scenario;
	uint64_t features;	/* negotiated */
	uint64_t frames_sent;
	uint64_t frames_received;
	uint64_t frames_verified;
	uint64_t bytes_verified;
	uint64_t mismatches;	/* frames whose length, header or bytes differ */
	uint64_t failures;	/* failed checks of any kind */
	uint64_t irqs;		/* device interrupts taken */
	uint64_t irqs_vring;	/* ... whose InterruptStatus had VRING */
	uint64_t irqs_config;	/* ... whose InterruptStatus had CONFIG */
	uint64_t irqs_empty;	/* ... whose InterruptStatus read 0 */
	uint64_t isr_reads;	/* InterruptStatus reads by the guest */
	uint64_t isr_acks;	/* InterruptACK writes by the guest */
	uint64_t tx_kicks;	/* QueueNotify(1) writes */
	uint64_t rx_kicks;	/* QueueNotify(0) writes */
	uint64_t timer_ticks;
	uint64_t needs_reset_seen;	/* Status reads showing NEEDS_RESET */
	uint64_t resets;	/* device resets by the guest */
	uint64_t mmio_accesses;	/* device register accesses by the guest */
	uint32_t aps_online;	/* other vCPUs that reached their idle loop */
	uint32_t pad;
	/* Between the measured phase's two marks (VNL_UCALL_MARK): */
	uint64_t phase_irqs;	/* device interrupts taken */
	uint64_t phase_tx_kicks;	/* QueueNotify writes, as tx_kicks */
	uint64_t phase_rx_kicks;	/* ... as rx_kicks */
	uint64_t expect[VNL_NUM_SPEC_COUNTERS];
};

/* The layout both sides agree on: a change here changes the magic too. */
_Static_assert(sizeof(struct vnl_guest_result) ==
	       8 * (24 + VNL_NUM_SPEC_COUNTERS),
	       "struct vnl_guest_result changed: change VNL_RESULT_MAGIC");

#endif /* VNL_ABI_RESULT_H */
