/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The generic netlink client behind `vnetloop stats` and `vnetloop monitor`:
 * resolves the "vnetloop" family through the controller (id, version, event
 * group), sends requests and runs the receive loop to its ack, error or
 * dump-done, and parses replies into plain structs.
 *
 * Functions return 0 or a negative errno and leave a sentence in nl->err
 * naming the step that failed. The errno classes the commands act on:
 *   -ENOENT           family absent: the module is not loaded
 *   -ENODEV           no device with that id
 *   -EPERM / -EACCES  the kernel or a security policy refused
 *   -EPROTONOSUPPORT  the family's version is not one this tool knows
 */
#ifndef VNETLOOP_NL_H
#define VNETLOOP_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "include/uapi/vnetloop.h"

struct nl_sock;
struct nlmsghdr;

/* Exit codes shared by `stats` and `monitor` (documented in vnetloop(8)). */
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

struct vnl_cpu_counters {
	uint32_t cpu;
	uint64_t present;		/* bit c: counter c was in the reply */
	uint64_t c[VNETLOOP_NUM_COUNTERS];
};

struct vnl_dev_stats {
	uint32_t dev_id;
	uint32_t owner_pid;		/* 0 when unowned */
	uint32_t num_counters;		/* as the kernel reports it */
	uint64_t present;		/* bit c: counter c was in the reply */
	uint64_t c[VNETLOOP_NUM_COUNTERS];
	unsigned int ncpus;
	struct vnl_cpu_counters *cpus;	/* malloc'd, ncpus entries */
};

struct vnl_dev_list {
	struct vnl_dev_stats *devs;	/* malloc'd, sorted by dev_id */
	size_t n;
};

struct vnl_nl {
	struct nl_sock *sk;
	int family_id;
	uint32_t version;
	uint32_t maxattr;
	uint32_t events_grp;		/* 0: the family has no "events" group */
	uint32_t ctrl_notify_grp;	/* 0: the controller's "notify" group */
	FILE *warn;			/* warnings go here (stderr) */
	unsigned int warnings;		/* how many were printed */
	bool warned_attr;
	bool warned_counter;
	char err[256];
};

/* Set up nl without a socket (for parsing only): warnings go to warn. */
void vnl_nl_init(struct vnl_nl *nl, FILE *warn);
/* Connect and resolve the family; checks its version. */
int vnl_nl_open(struct vnl_nl *nl);
void vnl_nl_close(struct vnl_nl *nl);

/* One device (CMD_GET doit); out is overwritten, free it afterwards. */
int vnl_nl_get(struct vnl_nl *nl, uint32_t dev_id, bool per_cpu,
	       struct vnl_dev_stats *out);
/* Every device (CMD_GET dump); an empty list is not an error here. */
int vnl_nl_dump(struct vnl_nl *nl, bool per_cpu, struct vnl_dev_list *out);

void vnl_dev_stats_free(struct vnl_dev_stats *d);
void vnl_dev_list_free(struct vnl_dev_list *l);

/* Parse one CMD_GET reply message into out (zeroed first). */
int vnl_nl_parse_dev(struct vnl_nl *nl, const struct nlmsghdr *nlh,
		     struct vnl_dev_stats *out);

/* 0 if this tool can read a family of that version, else -EPROTONOSUPPORT. */
int vnl_nl_check_version(uint32_t version);

/* ---- events ---- */

enum vnl_event_type {
	VNL_EV_DEV_CREATED,
	VNL_EV_DEV_DESTROYED,
	VNL_EV_QUEUE_POISONED,
	VNL_EV_FAMILY_GONE,		/* the module was unloaded */
	VNL_EV_OTHER,			/* not ours or unknown: skip */
};

struct vnl_event {
	enum vnl_event_type type;
	uint8_t cmd;
	bool has_dev_id, has_owner_pid, has_queue;
	uint32_t dev_id;
	uint32_t owner_pid;
	uint32_t queue;
};

/* Join the "events" group and the controller's "notify" group. */
int vnl_nl_subscribe(struct vnl_nl *nl);
int vnl_nl_parse_event(struct vnl_nl *nl, const struct nlmsghdr *nlh,
		       struct vnl_event *ev);

/* ---- shared helpers ---- */

const char *vnl_counter_name(unsigned int id);
/* The exit code for a negative errno from the functions above. */
int vnl_exit_code(int err);
/* Now as RFC 3339 UTC with digits (3 or 6) of fractional seconds. */
void vnl_timestamp(char *buf, size_t size, int digits);
/* Print "vnetloop: " + nl->err and a hint for err's class; returns the exit code. */
int vnl_nl_report(const struct vnl_nl *nl, int err);

#endif /* VNETLOOP_NL_H */
