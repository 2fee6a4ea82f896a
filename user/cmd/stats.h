/* SPDX-License-Identifier: GPL-2.0 */
/* Output formats of `vnetloop stats` and `vnetloop monitor`. */
#ifndef VNETLOOP_STATS_H
#define VNETLOOP_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "user/nl/nl.h"

/* One device as an aligned table; with per_cpu a column per CPU + total. */
void vnl_stats_table(FILE *f, const struct vnl_dev_stats *d, bool per_cpu);
/* Every device as one JSON array on one line. */
void vnl_stats_json(FILE *f, const struct vnl_dev_list *l, bool per_cpu);

/*
 * delta = cur - prev over the counters both have. False when a counter went
 * backwards: the id now names another device.
 */
bool vnl_stats_delta(const struct vnl_dev_stats *prev,
		     const struct vnl_dev_stats *cur, uint64_t *delta);
/* One device's interval in watch mode: deltas and tx/rx rates over secs. */
void vnl_stats_interval(FILE *f, const struct vnl_dev_stats *cur,
			const uint64_t *delta, double secs, const char *ts,
			bool json);

/* One event as `vnetloop monitor` prints it. */
void vnl_monitor_print(FILE *f, const struct vnl_event *ev, const char *ts,
		       bool json);

#endif /* VNETLOOP_STATS_H */
