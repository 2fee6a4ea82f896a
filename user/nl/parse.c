// SPDX-License-Identifier: GPL-2.0
/*
 * The parsing half of the netlink client (parse.h): genlmsg_parse() and
 * nla_parse_nested() with policies, into the structs of parse.h.
 *
 * nla_parse() keeps the last of repeated attributes and passes over types
 * above the policy's maximum and bytes after the last attribute. So the
 * repeated VNETLOOP_A_CPU_STATS nests are walked on their own, and scan()
 * finds what the policy cannot know (a newer module's attributes, for a
 * warning) and what is broken (trailing bytes).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <linux/genetlink.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "include/vnetloop/counters.h"
#include "user/nl/parse.h"

_Static_assert(VNETLOOP_NUM_COUNTERS <= 64, "present masks are 64 bits wide");

const char *const vnl_counter_names[VNETLOOP_NUM_COUNTERS] =
	VNETLOOP_COUNTER_NAMES;

const char *vnl_counter_name(unsigned int id)
{
	return id < VNETLOOP_NUM_COUNTERS ? vnl_counter_names[id] : NULL;
}

int vnl_nl_check_version(uint32_t version)
{
	/*
	 * Growth is additive (new attributes, counters and commands under the
	 * same version), so a different version means an incompatible layout.
	 */
	return version == VNETLOOP_GENL_VERSION ? 0 : -EPROTONOSUPPORT;
}

static void warn_once(struct vnl_nl_parser *p, bool *given, const char *fmt,
		      ...) __attribute__((format(printf, 3, 4)));

static void warn_once(struct vnl_nl_parser *p, bool *given, const char *fmt,
		      ...)
{
	va_list ap;

	if (*given)
		return;
	*given = true;
	p->warnings++;
	if (!p->warn)
		return;
	fputs("vnetloop: warning: ", p->warn);
	va_start(ap, fmt);
	vfprintf(p->warn, fmt, ap);
	va_end(ap);
	fputc('\n', p->warn);
}

static void warn_counters(struct vnl_nl_parser *p, unsigned int n)
{
	warn_once(p, &p->warned_counter,
		  "the module has %u counters, this tool knows %u; the others are not shown",
		  n, (unsigned int)VNETLOOP_NUM_COUNTERS);
}

/*
 * What nla_parse() passes over: *unknown gets the first type above
 * maxtype (-1 if none). Bytes after the last attribute are -EBADMSG.
 */
static int scan(const struct nlattr *head, int len, int maxtype, int *unknown)
{
	const struct nlattr *a;
	int rem;

	*unknown = -1;
	nla_for_each_attr(a, head, len, rem)
		if (nla_type(a) > maxtype && *unknown < 0)
			*unknown = nla_type(a);
	return rem ? -EBADMSG : 0;
}

/* The family's top-level attributes, in replies and events alike. */
static const struct nla_policy top_policy[VNETLOOP_A_MAX + 1] = {
	[VNETLOOP_A_DEV_ID]	  = { .type = NLA_U32 },
	[VNETLOOP_A_OWNER_PID]	  = { .type = NLA_U32 },
	[VNETLOOP_A_STATS]	  = { .type = NLA_NESTED },
	[VNETLOOP_A_CPU_STATS]	  = { .type = NLA_NESTED },
	[VNETLOOP_A_QUEUE]	  = { .type = NLA_U32 },
	[VNETLOOP_A_NUM_COUNTERS] = { .type = NLA_U32 },
	[VNETLOOP_A_QUEUE_STATS]  = { .type = NLA_NESTED },
	[VNETLOOP_A_QUEUE_PAIRS]  = { .type = NLA_U32 },
};

/* Inside VNETLOOP_A_STATS, VNETLOOP_A_CPU_STATS, VNETLOOP_A_QUEUE_STATS. */
typedef struct nla_policy stats_policy_t[VNETLOOP_STATS_A_MAX + 1];

static void stats_policy_init(stats_policy_t pol)
{
	memset(pol, 0, sizeof(stats_policy_t));
	pol[VNETLOOP_STATS_A_CPU].type = NLA_U32;
	pol[VNETLOOP_STATS_A_PAIR].type = NLA_U32;
	for (unsigned int i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
		pol[VNETLOOP_STATS_A_COUNTER(i)].type = NLA_U64;
}

/* A u32 attribute's value into *v, if there is one; whether there was. */
static bool get_u32(const struct nlattr *a, uint32_t *v)
{
	if (a)
		*v = nla_get_u32(a);
	return a;
}

/* genlmsg_parse() with the family's policy, and a warning for news. */
static int parse_top(struct vnl_nl_parser *p, const struct nlmsghdr *nlh,
		     struct nlattr **tb, const char *where)
{
	const struct genlmsghdr *gh = nlmsg_data(nlh);
	int unknown;

	/* libnl takes the header without const; it only reads it. */
	if (genlmsg_parse((struct nlmsghdr *)nlh, 0, tb, VNETLOOP_A_MAX,
			  top_policy) < 0 ||
	    scan(genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0),
		 VNETLOOP_A_MAX, &unknown))
		return -EBADMSG;
	if (unknown >= 0)
		warn_once(p, &p->warned_attr,
			  "ignoring unknown attribute %d in %s (the module is newer than this tool)",
			  unknown, where);
	return 0;
}

/*
 * One counter nest; *keyattr gets its attribute key (VNETLOOP_STATS_A_CPU or
 * VNETLOOP_STATS_A_PAIR), if it has one.
 */
static int parse_counters(struct vnl_nl_parser *p, struct nlattr *nest,
			  const stats_policy_t pol, uint64_t *c,
			  uint64_t *present, int key, struct nlattr **keyattr)
{
	struct nlattr *tb[VNETLOOP_STATS_A_MAX + 1];
	int unknown;

	if (nla_parse_nested(tb, VNETLOOP_STATS_A_MAX, nest, pol) < 0 ||
	    scan(nla_data(nest), nla_len(nest), VNETLOOP_STATS_A_MAX,
		 &unknown))
		return -EBADMSG;
	/* Every type above the known counters is a counter (uapi). */
	if (unknown >= 0)
		warn_counters(p, unknown - VNETLOOP_STATS_A_COUNTER_BASE + 1);
	for (unsigned int i = 0; i < VNETLOOP_NUM_COUNTERS; i++) {
		struct nlattr *a = tb[VNETLOOP_STATS_A_COUNTER(i)];

		if (a) {
			c[i] = nla_get_u64(a);
			*present |= 1ULL << i;
		}
	}
	*keyattr = tb[key];
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	const struct vnl_part_counters *x = a, *y = b;

	return (x->key > y->key) - (x->key < y->key);
}

/*
 * Every nest of type attr (VNETLOOP_A_CPU_STATS or VNETLOOP_A_QUEUE_STATS)
 * of the message into *parts, sorted by its key attribute, which each must
 * have.
 */
static int parse_parts(struct vnl_nl_parser *p, const struct nlmsghdr *nlh,
		       const stats_policy_t pol, int attr, int key,
		       struct vnl_part_counters **parts, unsigned int *nparts)
{
	const struct genlmsghdr *gh = nlmsg_data(nlh);
	struct nlattr *a, *k;
	unsigned int n = 0;
	int rem, err;

	nla_for_each_attr(a, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0),
			  rem)
		n += nla_type(a) == attr;
	if (!n)
		return 0;
	*parts = calloc(n, sizeof(**parts));
	if (!*parts)
		return -ENOMEM;
	nla_for_each_attr(a, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0),
			  rem) {
		struct vnl_part_counters *pc = &(*parts)[*nparts];

		if (nla_type(a) != attr)
			continue;
		err = parse_counters(p, a, pol, pc->c, &pc->present, key, &k);
		if (err)
			return err;
		if (!k)
			return -EBADMSG;
		pc->key = nla_get_u32(k);
		(*nparts)++;
	}
	qsort(*parts, *nparts, sizeof(**parts), cmp_key);
	return 0;
}

int vnl_nl_parse_dev(struct vnl_nl_parser *p, const struct nlmsghdr *nlh,
		     struct vnl_dev_stats *d)
{
	struct nlattr *tb[VNETLOOP_A_MAX + 1], *key;
	stats_policy_t pol;
	int err;

	memset(d, 0, sizeof(*d));
	err = parse_top(p, nlh, tb, "a device reply");
	if (err)
		return err;
	if (!tb[VNETLOOP_A_DEV_ID] || !tb[VNETLOOP_A_STATS])
		return -EBADMSG;
	get_u32(tb[VNETLOOP_A_DEV_ID], &d->dev_id);
	d->has_owner_pid = get_u32(tb[VNETLOOP_A_OWNER_PID], &d->owner_pid);
	d->has_num_counters = get_u32(tb[VNETLOOP_A_NUM_COUNTERS],
				      &d->num_counters);
	d->has_queue_pairs = get_u32(tb[VNETLOOP_A_QUEUE_PAIRS],
				     &d->queue_pairs);
	if (d->num_counters > VNETLOOP_NUM_COUNTERS)
		warn_counters(p, d->num_counters);
	stats_policy_init(pol);
	err = parse_counters(p, tb[VNETLOOP_A_STATS], pol, d->c, &d->present,
			     VNETLOOP_STATS_A_CPU, &key);
	if (!err)
		err = parse_parts(p, nlh, pol, VNETLOOP_A_CPU_STATS,
				  VNETLOOP_STATS_A_CPU, &d->cpus, &d->ncpus);
	if (!err)
		err = parse_parts(p, nlh, pol, VNETLOOP_A_QUEUE_STATS,
				  VNETLOOP_STATS_A_PAIR, &d->queues,
				  &d->nqueues);
	if (err)
		vnl_dev_stats_free(d);
	return err;
}

void vnl_dev_stats_free(struct vnl_dev_stats *d)
{
	free(d->cpus);
	d->cpus = NULL;
	d->ncpus = 0;
	free(d->queues);
	d->queues = NULL;
	d->nqueues = 0;
}

void vnl_dev_list_free(struct vnl_dev_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		vnl_dev_stats_free(&l->devs[i]);
	free(l->devs);
	l->devs = NULL;
	l->n = 0;
}

/* The controller's message: is it the DELFAMILY of our family? */
static int parse_ctrl_event(const struct nlmsghdr *nlh,
			    struct vnl_nl_event *ev)
{
	static const struct nla_policy pol[CTRL_ATTR_MAX + 1] = {
		[CTRL_ATTR_FAMILY_NAME] = { .type = NLA_STRING },
	};
	struct nlattr *tb[CTRL_ATTR_MAX + 1];
	const struct genlmsghdr *gh;

	if (!genlmsg_valid_hdr((struct nlmsghdr *)nlh, 0))
		return -EBADMSG;
	gh = nlmsg_data(nlh);
	ev->cmd = gh->cmd;
	if (gh->cmd != CTRL_CMD_DELFAMILY)
		return 0;
	if (genlmsg_parse((struct nlmsghdr *)nlh, 0, tb, CTRL_ATTR_MAX,
			  pol) < 0)
		return -EBADMSG;
	if (tb[CTRL_ATTR_FAMILY_NAME] &&
	    !strcmp(nla_get_string(tb[CTRL_ATTR_FAMILY_NAME]),
		    VNETLOOP_GENL_NAME))
		ev->type = VNL_EV_FAMILY_GONE;
	return 0;
}

int vnl_nl_parse_event(struct vnl_nl_parser *p, const struct nlmsghdr *nlh,
		       struct vnl_nl_event *ev)
{
	static const enum vnl_event_type types[] = {
		[VNETLOOP_CMD_DEV_CREATED] = VNL_EV_DEV_CREATED,
		[VNETLOOP_CMD_DEV_DESTROYED] = VNL_EV_DEV_DESTROYED,
		[VNETLOOP_CMD_QUEUE_POISONED] = VNL_EV_QUEUE_POISONED,
	};
	struct nlattr *tb[VNETLOOP_A_MAX + 1];
	int err;

	memset(ev, 0, sizeof(*ev));
	ev->type = VNL_EV_OTHER;
	if (nlh->nlmsg_type == GENL_ID_CTRL)
		return parse_ctrl_event(nlh, ev);
	if (nlh->nlmsg_type != p->family_id)
		return 0;
	if (!genlmsg_valid_hdr((struct nlmsghdr *)nlh, 0))
		return -EBADMSG;
	ev->cmd = ((const struct genlmsghdr *)nlmsg_data(nlh))->cmd;
	/* Only the event commands; others stay VNL_EV_OTHER. */
	if (ev->cmd > VNETLOOP_CMD_MAX)
		warn_once(p, &p->warned_cmd,
			  "ignoring unknown event command %u (the module is newer than this tool)",
			  ev->cmd);
	if (ev->cmd < VNETLOOP_CMD_DEV_CREATED ||
	    ev->cmd >= sizeof(types) / sizeof(types[0]))
		return 0;
	err = parse_top(p, nlh, tb, "an event");
	if (err)
		return err;
	ev->has_dev_id = get_u32(tb[VNETLOOP_A_DEV_ID], &ev->dev_id);
	if (!ev->has_dev_id)
		return -EBADMSG;
	ev->type = types[ev->cmd];
	ev->has_owner_pid = get_u32(tb[VNETLOOP_A_OWNER_PID], &ev->owner_pid);
	ev->has_queue = get_u32(tb[VNETLOOP_A_QUEUE], &ev->queue);
	return 0;
}
