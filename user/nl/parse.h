/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The parsing half of the vnetloop netlink client: messages of the family
 * "vnetloop" (and the controller's DELFAMILY) into plain structs. Each
 * message goes through genlmsg_parse() and each nest through
 * nla_parse_nested(), with a policy that checks every attribute's length;
 * a message that breaks it is -EBADMSG. No socket is involved, so the unit
 * tests feed it crafted messages (selftests/stats/nl_unit.c).
 *
 * A newer module may send attributes and counters this parser does not
 * know: they are skipped, with one warning per kind (Documentation/
 * netlink.rst, "append-only").
 */
#ifndef VNETLOOP_NL_PARSE_H
#define VNETLOOP_NL_PARSE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "include/uapi/vnetloop.h"

struct nlmsghdr;

/*
 * The counter names by id, VNETLOOP_NUM_COUNTERS of them: the one table in
 * user/ (the module selftests share it).
 */
extern const char *const vnl_counter_names[VNETLOOP_NUM_COUNTERS];
/* The name of counter id, or NULL past the known ones. */
const char *vnl_counter_name(unsigned int id);

/* 0 if this client reads a family of that version, else -EPROTONOSUPPORT. */
int vnl_nl_check_version(uint32_t version);

/* Where the parser's warnings go, and which it already gave. */
struct vnl_nl_parser {
	int family_id;			/* messages of other types are not ours */
	FILE *warn;			/* NULL: count them, print nothing */
	unsigned int warnings;		/* how many were given */
	bool warned_attr;
	bool warned_counter;
	bool warned_cmd;
};

/* The counters of one CPU, or of one queue pair. */
struct vnl_part_counters {
	uint32_t key;			/* the CPU, or the pair */
	uint64_t present;		/* bit c: counter c was in the reply */
	uint64_t c[VNETLOOP_NUM_COUNTERS];
};

/* One CMD_GET reply. */
struct vnl_dev_stats {
	uint32_t dev_id;
	bool has_owner_pid;
	uint32_t owner_pid;		/* 0 when unowned */
	bool has_num_counters;
	uint32_t num_counters;		/* as the kernel reports it */
	uint64_t present;		/* bit c: counter c was in the reply */
	uint64_t c[VNETLOOP_NUM_COUNTERS];
	unsigned int ncpus;
	struct vnl_part_counters *cpus;	/* malloc'd, ncpus, sorted by cpu */
	bool has_queue_pairs;
	uint32_t queue_pairs;		/* the device's queue pairs */
	unsigned int nqueues;
	struct vnl_part_counters *queues; /* malloc'd, nqueues, by pair */
};

struct vnl_dev_list {
	struct vnl_dev_stats *devs;	/* malloc'd, sorted by dev_id */
	size_t n;
};

/*
 * Parse one CMD_GET reply into d (overwritten). 0, -EBADMSG (d is then
 * empty) or -ENOMEM. Free d with vnl_dev_stats_free().
 */
int vnl_nl_parse_dev(struct vnl_nl_parser *p, const struct nlmsghdr *nlh,
		     struct vnl_dev_stats *d);
void vnl_dev_stats_free(struct vnl_dev_stats *d);
void vnl_dev_list_free(struct vnl_dev_list *l);

enum vnl_event_type {
	VNL_EV_DEV_CREATED,
	VNL_EV_DEV_DESTROYED,
	VNL_EV_QUEUE_POISONED,
	VNL_EV_FAMILY_GONE,		/* the module was unloaded */
	VNL_EV_OTHER,			/* not ours, or a newer event: skip */
};

/* One message of the "events" group (or the controller's). */
struct vnl_nl_event {
	enum vnl_event_type type;
	uint8_t cmd;
	bool has_dev_id, has_owner_pid, has_queue;
	uint32_t dev_id;
	uint32_t owner_pid;
	uint32_t queue;
};

/* 0 (ev->type says what it was) or -EBADMSG. */
int vnl_nl_parse_event(struct vnl_nl_parser *p, const struct nlmsghdr *nlh,
		       struct vnl_nl_event *ev);

#endif /* VNETLOOP_NL_PARSE_H */
