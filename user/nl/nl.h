/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The generic netlink client of the "vnetloop" family, used by the tool
 * (`vnetloop stats`, `monitor`, the kmod backend of `run`) and by the
 * module selftests (selftests/kmod/stats_nl.c). Two halves:
 *
 *   transport.c  the socket, the family and group ids (libnl's
 *                genl_ctrl_resolve() and genl_ctrl_resolve_grp()), requests
 *                and their ack, error or dump end, the kernel's extended
 *                ack message, and the one mapping of libnl's NLE_* codes
 *                to errnos (vnl_nl_errno())
 *   parse.c      replies and events into plain structs (parse.h)
 *
 * Functions return 0 or a negative errno and leave a sentence in nl->err
 * naming the step that failed and why. The errno classes callers act on:
 *   -ENOENT           family absent: the module is not loaded
 *   -ENODEV           no device with that id (or not one the caller sees)
 *   -EPERM / -EACCES  the kernel or a security policy refused
 *   -EPROTONOSUPPORT  the family's version is not one this client knows
 */
#ifndef VNETLOOP_NL_H
#define VNETLOOP_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "user/nl/parse.h"

struct nl_sock;

struct vnl_nl {
	struct nl_sock *sk;
	uint32_t version;		/* the family's, after vnl_nl_open() */
	struct vnl_nl_parser parse;	/* holds the family id */
	char err[256];
};

/* Set up nl without a socket; the parser's warnings go to warn. */
void vnl_nl_init(struct vnl_nl *nl, FILE *warn);
/*
 * Connect and resolve the family, checking its version. On failure the
 * socket is already closed; vnl_nl_close() may still be called.
 */
int vnl_nl_open(struct vnl_nl *nl);
void vnl_nl_close(struct vnl_nl *nl);

/*
 * What a CMD_GET asks for besides the totals (the want arguments): the
 * counters per CPU, per queue pair. 0 (or false) for neither.
 */
#define VNL_NL_PER_CPU		1u
#define VNL_NL_PER_QUEUE	2u

/* CMD_GET doit: one device; out is overwritten, free it afterwards. */
int vnl_nl_get_dev(struct vnl_nl *nl, uint32_t dev_id, unsigned int want,
		   struct vnl_dev_stats *out);
/* vnl_nl_open(), vnl_nl_get_dev() and vnl_nl_close() in one. */
int vnl_nl_get_dev_once(struct vnl_nl *nl, uint32_t dev_id,
			unsigned int want, struct vnl_dev_stats *out);
/* CMD_GET dump: every device the caller sees; none is not an error. */
int vnl_nl_dump_devs(struct vnl_nl *nl, unsigned int want,
		     struct vnl_dev_list *out);
/* CMD_SET_BUDGET (CAP_NET_ADMIN); 0 leaves that budget as it is. */
int vnl_nl_set_dev_budget(struct vnl_nl *nl, uint32_t dev_id,
			  uint32_t packets, uint32_t bytes);

/*
 * Join the "events" group (CAP_NET_ADMIN) and the controller's "notify"
 * group (for the family's removal); the socket becomes non-blocking.
 */
int vnl_nl_subscribe(struct vnl_nl *nl);
/* The socket's descriptor, to poll() for events. */
int vnl_nl_fd(const struct vnl_nl *nl);

/* Called for each event of ours; non-zero stops the reading. */
typedef int (*vnl_nl_event_fn)(const struct vnl_nl_event *ev, void *arg);
/*
 * Hand every event waiting on the socket to fn, skipping others' messages
 * and malformed events (with a warning). Returns 0 once none is left, fn's
 * non-zero value if it stopped, -ENOBUFS if the kernel dropped events (the
 * receive buffer overran; reading may go on), or another -errno.
 */
int vnl_nl_read_events(struct vnl_nl *nl, vnl_nl_event_fn fn, void *arg);

/* A libnl error code (NLE_*, either sign) as a negative errno. */
int vnl_nl_errno(int nle);

#endif /* VNETLOOP_NL_H */
