/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The counters' names, for the module (debugfs) and for userspace (the
 * tools' output, the tests): not ABI, the netlink family carries ids
 * (include/uapi/vnetloop.h), and Documentation/counters.rst says what each
 * one counts.
 */
#ifndef _VNETLOOP_COUNTERS_H
#define _VNETLOOP_COUNTERS_H

#include "../uapi/vnetloop.h"

/* Indexed by VNETLOOP_C_* id: a brace initializer for a table. */
#define VNETLOOP_COUNTER_NAMES {					\
	"tx_packets",							\
	"tx_bytes",							\
	"rx_packets",							\
	"rx_bytes",							\
	"tx_dropped_no_rx_buffer",					\
	"tx_dropped_rx_poisoned",					\
	"tx_chain_invalid",						\
	"tx_oversize_dropped",						\
	"rx_chain_invalid",						\
	"rx_write_failed",						\
	"tx_add_used_failures",						\
	"rx_add_used_failures",						\
	"invalid_avail_idx_count",					\
	"ctrl_mq_set",							\
	"ctrl_chain_invalid",						\
	"ctrl_add_used_failures",					\
	"kicks",							\
	"interrupts",							\
	"worker_runs",							\
	"budget_requeues",						\
	"drain_ns",							\
}

#endif /* _VNETLOOP_COUNTERS_H */
