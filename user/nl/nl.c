// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink client of the vnetloop family (see nl.h).
 *
 * The family is resolved with our own CTRL_CMD_GETFAMILY request rather than
 * genl_ctrl_resolve(), because one reply gives the id, the version and the
 * multicast groups, and it goes through the same receive loop as the rest.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "user/nl/nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

_Static_assert(VNETLOOP_NUM_COUNTERS <= 64, "present masks are 64 bits wide");

#define FAMILY VNETLOOP_GENL_NAME

static const char *const counter_names[VNETLOOP_NUM_COUNTERS] =
	VNETLOOP_COUNTER_NAMES;

const char *vnl_counter_name(unsigned int id)
{
	return id < VNETLOOP_NUM_COUNTERS ? counter_names[id] : NULL;
}

void vnl_nl_init(struct vnl_nl *nl, FILE *warn)
{
	memset(nl, 0, sizeof(*nl));
	nl->warn = warn;
}

static void set_err(struct vnl_nl *nl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(struct vnl_nl *nl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(nl->err, sizeof(nl->err), fmt, ap);
	va_end(ap);
}

static void warn_attr(struct vnl_nl *nl, const char *where, int type)
{
	if (nl->warned_attr)
		return;
	nl->warned_attr = true;
	nl->warnings++;
	fprintf(nl->warn,
		"vnetloop: warning: ignoring unknown attribute %d in %s (the module is newer than this tool)\n",
		type, where);
}

static void warn_counter(struct vnl_nl *nl, unsigned int n)
{
	if (nl->warned_counter)
		return;
	nl->warned_counter = true;
	nl->warnings++;
	fprintf(nl->warn,
		"vnetloop: warning: the module has %u counters, this tool knows %u; the others are not shown\n",
		n, (unsigned int)VNETLOOP_NUM_COUNTERS);
}

/*
 * libnl reports its own failures as NLE_* codes. Keep the errno classes the
 * commands act on; everything else is a plain I/O failure with libnl's text.
 */
static int nle_to_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_INTR:
		return -EINTR;
	case NLE_MSGSIZE:
	case NLE_MSG_TRUNC:
		return -EMSGSIZE;
	default:
		return -EIO;
	}
}

/* The errno text where nle_to_errno() keeps a class, libnl's otherwise. */
static const char *nle_text(int nle)
{
	int e = nle_to_errno(nle);

	return e == -EIO ? nl_geterror(nle) : strerror(-e);
}

/* ---- the request / receive loop ---- */

typedef int (*parse_fn)(struct vnl_nl *nl, const struct nlmsghdr *nlh,
			void *arg);

struct req {
	struct vnl_nl *nl;
	parse_fn parse;
	void *arg;
	bool pending;		/* no ack, error or done seen yet */
	int err;		/* kernel error, or the first parse error */
	char kmsg[128];		/* extended ack text from the kernel */
};

static int valid_cb(struct nl_msg *msg, void *arg)
{
	struct req *r = arg;
	int err;

	err = r->parse(r->nl, nlmsg_hdr(msg), r->arg);
	/* Keep reading to the end so the socket is clean for the next request. */
	if (err && !r->err)
		r->err = err;
	return NL_OK;
}

static int finish_cb(struct nl_msg *msg, void *arg)
{
	struct req *r = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	int derr;

	/* A dump that failed part-way puts its error in NLMSG_DONE. */
	if (nlmsg_datalen(nlh) >= (int)sizeof(int)) {
		memcpy(&derr, nlmsg_data(nlh), sizeof(derr));
		if (derr < 0 && !r->err)
			r->err = derr;
	}
	r->pending = false;
	return NL_STOP;
}

static int ack_cb(struct nl_msg *msg, void *arg)
{
	struct req *r = arg;

	(void)msg;
	r->pending = false;
	return NL_STOP;
}

/* Copy NLMSGERR_ATTR_MSG out of an extended ack, if there is one. */
static void ext_ack_msg(const struct nlmsgerr *e, char *buf, size_t size)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)e - 1;
	size_t off = sizeof(*e), total = nlh->nlmsg_len - NLMSG_HDRLEN;
	const struct nlattr *a;
	int rem;

	buf[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	if (off >= total)
		return;
	rem = (int)(total - off);
	for (a = (const struct nlattr *)((const char *)e + NLMSG_ALIGN(off));
	     nla_ok(a, rem); a = nla_next(a, &rem)) {
		if (nla_type(a) == NLMSGERR_ATTR_MSG && nla_len(a) > 0) {
			snprintf(buf, size, "%.*s", (int)strnlen(nla_data(a),
					 nla_len(a)), (const char *)nla_data(a));
			return;
		}
	}
}

static int error_cb(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct req *r = arg;

	(void)who;
	if (e->error < 0)
		r->err = e->error;	/* the kernel's word wins */
	ext_ack_msg(e, r->kmsg, sizeof(r->kmsg));
	r->pending = false;
	return NL_STOP;
}

/*
 * Send msg (consumed) and receive until the ack, the error or the end of the
 * dump. Returns 0, a kernel errno, or the parser's first error.
 */
static int request(struct vnl_nl *nl, struct nl_msg *msg, parse_fn parse,
		   void *arg, const char *what)
{
	struct req r = { .nl = nl, .parse = parse, .arg = arg, .pending = true };
	struct nl_cb *cb;
	int err;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		set_err(nl, "%s: out of memory", what);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid_cb, &r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, finish_cb, &r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, ack_cb, &r);
	nl_cb_err(cb, NL_CB_CUSTOM, error_cb, &r);

	err = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (err < 0) {
		set_err(nl, "%s: sending the request failed: %s", what,
			nle_text(err));
		nl_cb_put(cb);
		return nle_to_errno(err);
	}
	while (r.pending) {
		err = nl_recvmsgs(nl->sk, cb);
		if (err == -NLE_DUMP_INTR) {
			/* The device list changed under the dump: retry it. */
			if (!r.err)
				r.err = -EINTR;
			break;
		}
		if (err < 0 && r.pending) {
			nl_cb_put(cb);
			set_err(nl, "%s: receiving the reply failed: %s", what,
				nle_text(err));
			return nle_to_errno(err);
		}
	}
	nl_cb_put(cb);
	if (r.err == -EBADMSG)
		set_err(nl, "%s: malformed reply from the kernel", what);
	else if (r.err == -ENOENT && nl->family_id)
		set_err(nl, "%s: the module's netlink family is gone (module unloaded)",
			what);
	else if (r.err)
		set_err(nl, "%s: %s%s%s", what, strerror(-r.err),
			r.kmsg[0] ? ": " : "", r.kmsg);
	return r.err;
}

static struct nl_msg *new_msg(int family, int flags, uint8_t cmd,
			      uint8_t version)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, flags,
			 cmd, version)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* The attributes after the generic netlink header, or NULL if too short. */
static const struct nlattr *genl_attrs(const struct nlmsghdr *nlh, int *len,
				       uint8_t *cmd)
{
	const struct genlmsghdr *gh;

	if (nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return NULL;
	gh = nlmsg_data(nlh);
	*cmd = gh->cmd;
	*len = (int)(nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN);
	return (const struct nlattr *)((const char *)gh + GENL_HDRLEN);
}

/* ---- family resolution ---- */

struct family_info {
	const char *group;	/* the multicast group wanted */
	bool found;
	uint16_t id;
	uint32_t version;
	uint32_t maxattr;
	uint32_t grp_id;
};

static void parse_groups(const struct nlattr *nest, struct family_info *fi)
{
	const struct nlattr *g, *a;
	int rem, rem2;

	for (g = nla_data(nest), rem = nla_len(nest); nla_ok(g, rem);
	     g = nla_next(g, &rem)) {
		const char *name = NULL;
		uint32_t id = 0;

		for (a = nla_data(g), rem2 = nla_len(g); nla_ok(a, rem2);
		     a = nla_next(a, &rem2)) {
			if (nla_type(a) == CTRL_ATTR_MCAST_GRP_NAME &&
			    nla_len(a) > 0 &&
			    memchr(nla_data(a), '\0', nla_len(a)))
				name = nla_data(a);
			else if (nla_type(a) == CTRL_ATTR_MCAST_GRP_ID &&
				 nla_len(a) >= 4)
				id = nla_get_u32(a);
		}
		if (name && fi->group && !strcmp(name, fi->group))
			fi->grp_id = id;
	}
}

static int parse_family(struct vnl_nl *nl, const struct nlmsghdr *nlh,
			void *arg)
{
	struct family_info *fi = arg;
	const struct nlattr *a;
	uint8_t cmd;
	int rem;

	(void)nl;
	a = genl_attrs(nlh, &rem, &cmd);
	if (!a)
		return -EBADMSG;
	/* The controller is not ours: its unknown attributes are no news. */
	for (; nla_ok(a, rem); a = nla_next(a, &rem)) {
		switch (nla_type(a)) {
		case CTRL_ATTR_FAMILY_ID:
			if (nla_len(a) < 2)
				return -EBADMSG;
			fi->id = nla_get_u16(a);
			fi->found = true;
			break;
		case CTRL_ATTR_VERSION:
			if (nla_len(a) >= 4)
				fi->version = nla_get_u32(a);
			break;
		case CTRL_ATTR_MAXATTR:
			if (nla_len(a) >= 4)
				fi->maxattr = nla_get_u32(a);
			break;
		case CTRL_ATTR_MCAST_GROUPS:
			parse_groups(a, fi);
			break;
		}
	}
	return 0;
}

static int resolve(struct vnl_nl *nl, const char *name, struct family_info *fi)
{
	struct nl_msg *msg;
	char what[64];
	int err;

	snprintf(what, sizeof(what), "looking up generic netlink family '%s'",
		 name);
	msg = new_msg(GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY, 1);
	if (!msg || nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, name) < 0) {
		nlmsg_free(msg);
		set_err(nl, "%s: out of memory", what);
		return -ENOMEM;
	}
	err = request(nl, msg, parse_family, fi, what);
	if (!err && !fi->found) {
		set_err(nl, "%s: the controller's reply has no family id", what);
		err = -EBADMSG;
	}
	return err;
}

int vnl_nl_check_version(uint32_t version)
{
	/*
	 * Growth is additive (new attributes, counters and commands under the
	 * same version), so a different version means an incompatible layout.
	 */
	return version == VNETLOOP_GENL_VERSION ? 0 : -EPROTONOSUPPORT;
}

int vnl_nl_open(struct vnl_nl *nl)
{
	struct family_info fi = { .group = VNETLOOP_GENL_MCGRP_EVENTS };
	int one = 1, err;

	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		set_err(nl, "cannot allocate a netlink socket: out of memory");
		return -ENOMEM;
	}
	err = nl_connect(nl->sk, NETLINK_GENERIC);
	if (err < 0) {
		set_err(nl, "cannot open a generic netlink socket: %s",
			nle_text(err));
		return nle_to_errno(err);
	}
	/* Best effort: the kernel's reason text for errors, without the echo. */
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));
	/* A per-CPU reply on a big machine exceeds one page. */
	nl_socket_enable_msg_peek(nl->sk);

	err = resolve(nl, FAMILY, &fi);
	if (err == -ENOENT) {
		set_err(nl, "generic netlink family '%s' not found: the vnetloop module is not loaded (or not visible in this network namespace)",
			FAMILY);
		return err;
	}
	if (err)
		return err;
	nl->family_id = fi.id;
	nl->version = fi.version;
	nl->maxattr = fi.maxattr;
	nl->events_grp = fi.grp_id;
	if (vnl_nl_check_version(fi.version)) {
		set_err(nl, "the module's netlink family '%s' has version %u, this tool knows version %u: refusing to guess its layout; use the vnetloop tool built with the module",
			FAMILY, fi.version, VNETLOOP_GENL_VERSION);
		return -EPROTONOSUPPORT;
	}
	return 0;
}

void vnl_nl_close(struct vnl_nl *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);	/* closes the fd */
	nl->sk = NULL;
}

/* ---- CMD_GET replies ---- */

static int get_u32(const struct nlattr *a, uint32_t *v)
{
	if (nla_len(a) < 4)
		return -EBADMSG;
	*v = nla_get_u32(a);
	return 0;
}

/* Counters of one nest (totals or one CPU); *cpu set when the nest names one. */
static int parse_counters(struct vnl_nl *nl, const struct nlattr *nest,
			  const char *where, uint64_t *c, uint64_t *present,
			  uint32_t *cpu, bool *has_cpu)
{
	const struct nlattr *a;
	int rem, t;

	for (a = nla_data(nest), rem = nla_len(nest); nla_ok(a, rem);
	     a = nla_next(a, &rem)) {
		t = nla_type(a);
		if (t == VNETLOOP_STATS_A_PAD)
			continue;
		if (t == VNETLOOP_STATS_A_CPU && cpu) {
			if (get_u32(a, cpu))
				return -EBADMSG;
			*has_cpu = true;
		} else if (t >= VNETLOOP_STATS_A_COUNTER_BASE) {
			unsigned int id = t - VNETLOOP_STATS_A_COUNTER_BASE;

			if (id >= VNETLOOP_NUM_COUNTERS) {
				warn_counter(nl, id + 1);
				continue;
			}
			if (nla_len(a) < 8)
				return -EBADMSG;
			c[id] = nla_get_u64(a);
			*present |= 1ULL << id;
		} else {
			warn_attr(nl, where, t);
		}
	}
	return rem ? -EBADMSG : 0;
}

static int add_cpu(struct vnl_nl *nl, const struct nlattr *nest,
		   struct vnl_dev_stats *d)
{
	struct vnl_cpu_counters *cpus, *cc;
	bool has_cpu = false;
	int err;

	cpus = realloc(d->cpus, (d->ncpus + 1) * sizeof(*cpus));
	if (!cpus)
		return -ENOMEM;
	d->cpus = cpus;
	cc = &cpus[d->ncpus];
	memset(cc, 0, sizeof(*cc));
	err = parse_counters(nl, nest, "a per-CPU counter set", cc->c,
			     &cc->present, &cc->cpu, &has_cpu);
	if (err)
		return err;
	if (!has_cpu)
		return -EBADMSG;
	d->ncpus++;
	return 0;
}

static int cmp_cpu(const void *a, const void *b)
{
	const struct vnl_cpu_counters *x = a, *y = b;

	return (x->cpu > y->cpu) - (x->cpu < y->cpu);
}

int vnl_nl_parse_dev(struct vnl_nl *nl, const struct nlmsghdr *nlh,
		     struct vnl_dev_stats *d)
{
	const struct nlattr *a;
	bool has_id = false, has_stats = false;
	uint8_t cmd;
	int rem, err = 0;

	memset(d, 0, sizeof(*d));
	a = genl_attrs(nlh, &rem, &cmd);
	if (!a)
		return -EBADMSG;
	for (; nla_ok(a, rem) && !err; a = nla_next(a, &rem)) {
		switch (nla_type(a)) {
		case VNETLOOP_A_PAD:
			break;
		case VNETLOOP_A_DEV_ID:
			err = get_u32(a, &d->dev_id);
			has_id = true;
			break;
		case VNETLOOP_A_OWNER_PID:
			err = get_u32(a, &d->owner_pid);
			break;
		case VNETLOOP_A_NUM_COUNTERS:
			err = get_u32(a, &d->num_counters);
			if (!err && d->num_counters > VNETLOOP_NUM_COUNTERS)
				warn_counter(nl, d->num_counters);
			break;
		case VNETLOOP_A_STATS:
			err = parse_counters(nl, a, "the counter set", d->c,
					     &d->present, NULL, NULL);
			has_stats = true;
			break;
		case VNETLOOP_A_CPU_STATS:
			err = add_cpu(nl, a, d);
			break;
		default:
			warn_attr(nl, "a device reply", nla_type(a));
			break;
		}
	}
	if (!err && (rem || !has_id || !has_stats))
		err = -EBADMSG;
	if (err) {
		vnl_dev_stats_free(d);
		return err;
	}
	qsort(d->cpus, d->ncpus, sizeof(*d->cpus), cmp_cpu);
	return 0;
}

void vnl_dev_stats_free(struct vnl_dev_stats *d)
{
	free(d->cpus);
	d->cpus = NULL;
	d->ncpus = 0;
}

void vnl_dev_list_free(struct vnl_dev_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		vnl_dev_stats_free(&l->devs[i]);
	free(l->devs);
	l->devs = NULL;
	l->n = 0;
}

struct get_state {
	struct vnl_dev_stats *out;
	bool got;
};

static int parse_one(struct vnl_nl *nl, const struct nlmsghdr *nlh, void *arg)
{
	struct get_state *g = arg;
	struct vnl_dev_stats d;
	int err;

	err = vnl_nl_parse_dev(nl, nlh, &d);
	if (err)
		return err;
	if (g->got) {		/* one device asked, one reply expected */
		vnl_dev_stats_free(&d);
		return -EBADMSG;
	}
	*g->out = d;
	g->got = true;
	return 0;
}

static int parse_append(struct vnl_nl *nl, const struct nlmsghdr *nlh,
			void *arg)
{
	struct vnl_dev_list *l = arg;
	struct vnl_dev_stats *devs;
	int err;

	devs = realloc(l->devs, (l->n + 1) * sizeof(*devs));
	if (!devs)
		return -ENOMEM;
	l->devs = devs;
	err = vnl_nl_parse_dev(nl, nlh, &devs[l->n]);
	if (err)
		return err;
	l->n++;
	return 0;
}

static struct nl_msg *get_msg(struct vnl_nl *nl, bool dump, bool per_cpu)
{
	struct nl_msg *msg;

	msg = new_msg(nl->family_id, dump ? NLM_F_DUMP : 0, VNETLOOP_CMD_GET,
		      VNETLOOP_GENL_VERSION);
	if (msg && per_cpu && nla_put_flag(msg, VNETLOOP_A_PER_CPU) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

int vnl_nl_get(struct vnl_nl *nl, uint32_t dev_id, bool per_cpu,
	       struct vnl_dev_stats *out)
{
	struct get_state g = { .out = out };
	struct nl_msg *msg;
	char what[64];
	int err;

	memset(out, 0, sizeof(*out));
	snprintf(what, sizeof(what), "reading device %u", dev_id);
	msg = get_msg(nl, false, per_cpu);
	if (!msg || nla_put_u32(msg, VNETLOOP_A_DEV_ID, dev_id) < 0) {
		nlmsg_free(msg);
		set_err(nl, "%s: out of memory", what);
		return -ENOMEM;
	}
	err = request(nl, msg, parse_one, &g, what);
	if (!err && !g.got) {
		set_err(nl, "%s: the kernel acknowledged without a reply", what);
		err = -EBADMSG;
	}
	if (err == -ENODEV)
		set_err(nl, "no such device: %u", dev_id);
	if (err)
		vnl_dev_stats_free(out);
	return err;
}

static int cmp_dev(const void *a, const void *b)
{
	const struct vnl_dev_stats *x = a, *y = b;

	return (x->dev_id > y->dev_id) - (x->dev_id < y->dev_id);
}

int vnl_nl_dump(struct vnl_nl *nl, bool per_cpu, struct vnl_dev_list *out)
{
	struct nl_msg *msg;
	int err, tries = 0;

	do {
		memset(out, 0, sizeof(*out));
		msg = get_msg(nl, true, per_cpu);
		if (!msg) {
			set_err(nl, "listing devices: out of memory");
			return -ENOMEM;
		}
		err = request(nl, msg, parse_append, out, "listing devices");
		if (err)
			vnl_dev_list_free(out);
	} while (err == -EINTR && ++tries < 5);
	if (!err)
		qsort(out->devs, out->n, sizeof(*out->devs), cmp_dev);
	return err;
}

/* ---- events ---- */

int vnl_nl_subscribe(struct vnl_nl *nl)
{
	struct family_info ctrl = { .group = "notify" };
	int err;

	if (!nl->events_grp) {
		set_err(nl, "the module's netlink family '%s' has no '%s' multicast group",
			FAMILY, VNETLOOP_GENL_MCGRP_EVENTS);
		return -EPROTONOSUPPORT;
	}
	/* The controller tells us when the family goes away (rmmod). */
	err = resolve(nl, "nlctrl", &ctrl);
	if (err)
		return err;
	nl->ctrl_notify_grp = ctrl.grp_id;

	err = nl_socket_add_membership(nl->sk, (int)nl->events_grp);
	if (!err && nl->ctrl_notify_grp)
		err = nl_socket_add_membership(nl->sk,
					       (int)nl->ctrl_notify_grp);
	if (err < 0) {
		set_err(nl, "joining the '%s' multicast group failed: %s",
			VNETLOOP_GENL_MCGRP_EVENTS, nle_text(err));
		return nle_to_errno(err);
	}
	/* Events carry sequence number 0. */
	nl_socket_disable_seq_check(nl->sk);
	return 0;
}

static int parse_ctrl_event(const struct nlmsghdr *nlh, struct vnl_event *ev)
{
	const struct nlattr *a;
	uint8_t cmd;
	int rem;

	a = genl_attrs(nlh, &rem, &cmd);
	if (!a)
		return -EBADMSG;
	if (cmd != CTRL_CMD_DELFAMILY)
		return 0;
	for (; nla_ok(a, rem); a = nla_next(a, &rem))
		if (nla_type(a) == CTRL_ATTR_FAMILY_NAME &&
		    nla_len(a) >= (int)sizeof(FAMILY) &&
		    !strncmp(nla_data(a), FAMILY, sizeof(FAMILY)))
			ev->type = VNL_EV_FAMILY_GONE;
	return 0;
}

int vnl_nl_parse_event(struct vnl_nl *nl, const struct nlmsghdr *nlh,
		       struct vnl_event *ev)
{
	const struct nlattr *a;
	uint8_t cmd;
	int rem, err = 0;

	memset(ev, 0, sizeof(*ev));
	ev->type = VNL_EV_OTHER;
	if (nlh->nlmsg_type == GENL_ID_CTRL)
		return parse_ctrl_event(nlh, ev);
	if (nlh->nlmsg_type != nl->family_id)
		return 0;
	a = genl_attrs(nlh, &rem, &cmd);
	if (!a)
		return -EBADMSG;
	ev->cmd = cmd;
	switch (cmd) {
	case VNETLOOP_CMD_DEV_CREATED:
		ev->type = VNL_EV_DEV_CREATED;
		break;
	case VNETLOOP_CMD_DEV_DESTROYED:
		ev->type = VNL_EV_DEV_DESTROYED;
		break;
	case VNETLOOP_CMD_QUEUE_POISONED:
		ev->type = VNL_EV_QUEUE_POISONED;
		break;
	default:
		return 0;	/* a newer event: the caller says so */
	}
	for (; nla_ok(a, rem) && !err; a = nla_next(a, &rem)) {
		switch (nla_type(a)) {
		case VNETLOOP_A_PAD:
			break;
		case VNETLOOP_A_DEV_ID:
			err = get_u32(a, &ev->dev_id);
			ev->has_dev_id = true;
			break;
		case VNETLOOP_A_OWNER_PID:
			err = get_u32(a, &ev->owner_pid);
			ev->has_owner_pid = true;
			break;
		case VNETLOOP_A_QUEUE:
			err = get_u32(a, &ev->queue);
			ev->has_queue = true;
			break;
		default:
			warn_attr(nl, "an event", nla_type(a));
			break;
		}
	}
	if (!err && (rem || !ev->has_dev_id))
		err = -EBADMSG;
	return err;
}

/* ---- exit codes ---- */

int vnl_exit_code(int err)
{
	switch (err) {
	case 0:
		return VNL_EXIT_OK;
	case -ENOENT:
		return VNL_EXIT_NO_MODULE;
	case -ENODEV:
		return VNL_EXIT_NO_DEVICE;
	case -EPERM:
	case -EACCES:
		return VNL_EXIT_PERM;
	case -EPROTONOSUPPORT:
		return VNL_EXIT_VERSION;
	default:
		return VNL_EXIT_FAIL;
	}
}

int vnl_nl_report(const struct vnl_nl *nl, int err)
{
	int code = vnl_exit_code(err);

	fprintf(stderr, "vnetloop: %s\n", nl->err[0] ? nl->err : strerror(-err));
	if (code == VNL_EXIT_PERM)
		fprintf(stderr, "vnetloop: joining the events group and changing a budget need CAP_NET_ADMIN (reading needs none for the caller's own devices); otherwise a security policy (SELinux, AppArmor, seccomp) denied netlink access\n");
	return code;
}

void vnl_timestamp(char *buf, size_t size, int digits)
{
	struct timespec ts;
	struct tm tm;
	char base[32];
	long frac;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	frac = digits == 3 ? ts.tv_nsec / 1000000 : ts.tv_nsec / 1000;
	snprintf(buf, size, "%s.%0*ldZ", base, digits == 3 ? 3 : 6, frac);
}
