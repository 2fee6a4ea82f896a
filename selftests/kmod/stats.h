/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading a device's counters the two ways the module exports them: the
 * generic netlink family "vnetloop" and debugfs vnetloop/<id>/counters.
 * Functions return 0 or a negative errno.
 */
#ifndef VNL_ST_STATS_H
#define VNL_ST_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/uapi/vnetloop.h"

#define VNL_MAX_CPUS		4096
#define VNL_DEBUGFS_ROOT	"/sys/kernel/debug"
#define VNL_DEBUGFS_DIR		VNL_DEBUGFS_ROOT "/vnetloop"

/* The counter names by id: the tool's table (user/nl/parse.c). */
extern const char *const vnl_counter_names[VNETLOOP_NUM_COUNTERS];

/* One device as netlink reports it. */
struct vnl_nl_dev {
	uint32_t dev_id;
	bool has_owner_pid;
	uint32_t owner_pid;
	bool has_num_counters;
	uint32_t num_counters;
	uint64_t total[VNETLOOP_NUM_COUNTERS];
	bool total_seen[VNETLOOP_NUM_COUNTERS];
	/* VNETLOOP_A_CPU_STATS nests: how many, their sum, repeats. */
	unsigned int ncpu;
	uint64_t cpu_sum[VNETLOOP_NUM_COUNTERS];
	unsigned int cpu_incomplete;	/* nests lacking a counter or CPU */
	unsigned int cpu_dup;		/* nests repeating a CPU number */
};

/* The family is registered (0) or not (-ENOENT). */
int vnl_nl_present(void);
/* CMD_GET doit for dev_id; -ENODEV etc. as the kernel answers. */
int vnl_nl_get(uint32_t dev_id, bool per_cpu, struct vnl_nl_dev *out);
/* CMD_GET dumpit: the ids of all devices, at most max of them. */
int vnl_nl_dump_ids(uint32_t *ids, size_t max, size_t *n);
/* Netlink totals of one device (the common read in the tests). */
int vnl_counters(uint32_t dev_id, uint64_t c[VNETLOOP_NUM_COUNTERS]);

/* CMD_SET_BUDGET (CAP_NET_ADMIN); 0 leaves that budget unchanged. */
int vnl_nl_set_budget(uint32_t dev_id, uint32_t packets, uint32_t bytes);

/* The "events" multicast group. */
struct vnl_event {
	uint8_t cmd;		/* VNETLOOP_CMD_DEV_CREATED, ... */
	uint32_t dev_id;
	bool has_pid;
	uint32_t pid;
	bool has_queue;
	uint32_t queue;
};

struct vnl_events;
int vnl_events_open(struct vnl_events **ev);
/* The next event, waiting up to timeout_ms; -ETIMEDOUT if none came. */
int vnl_events_next(struct vnl_events *ev, int timeout_ms,
		    struct vnl_event *out);
void vnl_events_close(struct vnl_events *ev);

/* debugfs vnetloop/<id>/counters, parsed. */
struct vnl_dbg_dev {
	bool header_ok;		/* "cpu" + every counter name, in order */
	unsigned int ncpu;	/* "cpuN" lines */
	unsigned int cpu_dup;	/* repeated "cpuN" */
	bool has_total;
	uint64_t total[VNETLOOP_NUM_COUNTERS];
	uint64_t cpu_sum[VNETLOOP_NUM_COUNTERS];
	unsigned int bad_lines;	/* lines that do not parse */
};

/* NULL when debugfs and our directory are usable, else why not. */
const char *vnl_debugfs_missing(void);
int vnl_dbg_read(uint32_t dev_id, struct vnl_dbg_dev *out);
/* 1 if vnetloop/<id> exists, 0 if not, negative errno on error. */
int vnl_dbg_dev_exists(uint32_t dev_id);
/* Device directories under vnetloop/ (numeric names), at most max. */
int vnl_dbg_list(uint32_t *ids, size_t max, size_t *n);

/* Possible CPUs (/sys/devices/system/cpu/possible). */
int vnl_possible_cpus(void);

#endif /* VNL_ST_STATS_H */
