/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What `vnetloop stats` and `vnetloop monitor` share: exit codes, error
 * reports, timestamps, and their output (through print.h, in the mode
 * chosen with out_begin()).
 */
#ifndef VNETLOOP_STATS_H
#define VNETLOOP_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "user/nl/nl.h"

/* Exit codes of `stats` and `monitor` (documented in vnetloop(8)). */
enum vnl_exit {
	VNL_EXIT_OK = 0,
	VNL_EXIT_FAIL = 1,		/* anything not listed below */
	VNL_EXIT_USAGE = 2,
	VNL_EXIT_NO_MODULE = 3,		/* family "vnetloop" not found */
	VNL_EXIT_NO_DEVICE = 4,		/* no device with the given id */
	VNL_EXIT_NO_DEVICES = 5,	/* no device exists at all */
	VNL_EXIT_PERM = 6,		/* permission denied */
	VNL_EXIT_VERSION = 7,		/* unknown family version */
};

/* The exit code for a negative errno of the netlink client. */
int vnl_exit_code(int err);
/* Print "vnetloop: " + nl->err and a hint for err's class; the exit code. */
int vnl_nl_report(const struct vnl_nl *nl, int err);
/* Now as RFC 3339 UTC with digits (3 or 6) of fractional seconds. */
void vnl_timestamp(char *buf, size_t size, int digits);

/*
 * Every device: text, a block each (want VNL_NL_PER_CPU: a column per CPU
 * and the total; VNL_NL_PER_QUEUE: the same per queue pair); JSON, an
 * array of objects (with "per_cpu", "per_queue" and "total" as asked).
 */
void vnl_stats_print(const struct vnl_dev_list *l, unsigned int want);

/*
 * delta = cur - prev over the counters both have. False when a counter went
 * backwards: the id now names another device.
 */
bool vnl_stats_delta(const struct vnl_dev_stats *prev,
		     const struct vnl_dev_stats *cur, uint64_t *delta);
/* One device's interval in watch mode: deltas and tx/rx rates over secs. */
void vnl_stats_interval(const struct vnl_dev_stats *cur,
			const uint64_t *delta, double secs, const char *ts);

/* One event as `vnetloop monitor` prints it. */
void vnl_monitor_print(const struct vnl_nl_event *ev, const char *ts);

#endif /* VNETLOOP_STATS_H */
