// SPDX-License-Identifier: GPL-2.0
/*
 * The transport half of the netlink client (nl.h): the socket, the family,
 * requests and their answers, and the one mapping of libnl's errors.
 *
 * The family and its groups are resolved with libnl's genl_ctrl_resolve()
 * and genl_ctrl_resolve_grp(): a CTRL_CMD_GETFAMILY by name, which also
 * makes the kernel load the module (its family alias). libnl reports every
 * failure of that lookup as NLE_OBJ_NOTFOUND, so "not found" here covers
 * the rare denial of the lookup itself; a denied socket fails earlier, at
 * genl_connect(), with its own errno. The family's version is not in that
 * answer: it comes from libnl's controller cache.
 *
 * Interrupted dumps: the module never marks a dump interrupted
 * (NLM_F_DUMP_INTR) and this client does not retry one; the choice is made
 * on both sides at once. The dump walks the devices in id order from a
 * cursor, so it never shows a device twice and always shows every device
 * that exists from its start to its end, and each message is one device's
 * own consistent snapshot. A device created or destroyed meanwhile may or
 * may not be in it, as it would be in a dump taken a moment earlier or
 * later: that is all a counter reader needs. A generation count checked
 * with genl_dump_check_consistent() would only turn those cases into
 * retries, which under steady device churn (VMs starting, a fuzzer) need
 * not end. Documentation/netlink.rst, "Dumps". Should a kernel set the
 * flag anyway, libnl's NLE_DUMP_INTR fails the request (-EIO, libnl's
 * text), never silently.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/family.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "user/nl/nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define FAMILY VNETLOOP_GENL_NAME

/* Room for bursts of events, such as many devices closing at once. */
#define EVENT_RCVBUF	(1 << 20)

void vnl_nl_init(struct vnl_nl *nl, FILE *warn)
{
	memset(nl, 0, sizeof(*nl));
	nl->parse.warn = warn;
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

/*
 * libnl's codes and the errnos they stand for (libnl maps the other way
 * in nl_syserr2nlerr(); ENOBUFS arrives as NLE_NOMEM). Codes without an
 * errno of their own are -EIO; their text is libnl's.
 */
static const unsigned char nle_errnos[NLE_MAX + 1] = {
	[NLE_INTR]		= EINTR,
	[NLE_BAD_SOCK]		= EBADF,
	[NLE_AGAIN]		= EAGAIN,
	[NLE_NOMEM]		= ENOMEM,
	[NLE_EXIST]		= EEXIST,
	[NLE_INVAL]		= EINVAL,
	[NLE_RANGE]		= ERANGE,
	[NLE_MSGSIZE]		= EMSGSIZE,
	[NLE_OPNOTSUPP]		= EOPNOTSUPP,
	[NLE_AF_NOSUPPORT]	= EAFNOSUPPORT,
	[NLE_OBJ_NOTFOUND]	= ENOENT,
	[NLE_MSG_TRUNC]		= EMSGSIZE,
	[NLE_NOADDR]		= EADDRNOTAVAIL,
	[NLE_MSG_TOOSHORT]	= EBADMSG,
	[NLE_BUSY]		= EBUSY,
	[NLE_NOACCESS]		= EACCES,
	[NLE_PERM]		= EPERM,
	[NLE_NODEV]		= ENODEV,
};

int vnl_nl_errno(int nle)
{
	if (nle < 0)
		nle = -nle;
	if (nle > NLE_MAX || !nle_errnos[nle])
		return -EIO;
	return -nle_errnos[nle];
}

/* What to say about a libnl error: the errno's text, or libnl's own. */
static const char *nle_text(int nle)
{
	int e = vnl_nl_errno(nle);

	return e == -EIO ? nl_geterror(nle) : strerror(-e);
}

/* Fail with a libnl error: "what: why", and its errno. */
static int nle_fail(struct vnl_nl *nl, int nle, const char *what)
{
	set_err(nl, "%s: %s", what, nle_text(nle));
	return vnl_nl_errno(nle);
}

/* ---- a request and its answer ---- */

typedef int (*parse_fn)(struct vnl_nl *nl, const struct nlmsghdr *nlh,
			void *arg);

struct req {
	struct vnl_nl *nl;
	parse_fn parse;		/* NULL: no reply expected, only the ack */
	void *arg;
	bool pending;		/* no ack, error or done seen yet */
	int err;		/* the kernel's error, or the parser's first */
	char kmsg[128];		/* the kernel's extended ack message */
};

static int valid_cb(struct nl_msg *msg, void *arg)
{
	struct req *r = arg;
	int err;

	err = r->parse ? r->parse(r->nl, nlmsg_hdr(msg), r->arg) : -EBADMSG;
	/* Read on to the end, so the socket is clean for the next request. */
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

/* NLMSGERR_ATTR_MSG of an extended ack into buf, if there is one. */
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
			snprintf(buf, size, "%.*s",
				 (int)strnlen(nla_data(a), nla_len(a)),
				 (const char *)nla_data(a));
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
 * Send msg (consumed) and receive until the ack, the error or the end of
 * the dump. Returns 0, the kernel's errno or the parser's first error.
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
	while (err >= 0 && r.pending) {
		err = nl_recvmsgs(nl->sk, cb);
		if (!r.pending)
			err = 0;	/* a kernel error is in r.err */
	}
	nl_cb_put(cb);
	if (err < 0)
		return nle_fail(nl, err, what);
	if (r.err == -EBADMSG)
		set_err(nl, "%s: malformed reply from the kernel", what);
	else if (r.err)
		set_err(nl, "%s: %s%s%s", what, strerror(-r.err),
			r.kmsg[0] ? ": " : "", r.kmsg);
	return r.err;
}

/* A request of ours; NULL when out of memory. */
static struct nl_msg *new_msg(const struct vnl_nl *nl, int flags, uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ,
				nl->parse.family_id, 0, flags, cmd,
				VNETLOOP_GENL_VERSION)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

/* ---- the family ---- */

/* The family's version, from libnl's controller cache. */
static int family_version(struct vnl_nl *nl, int id)
{
	struct genl_family *fam;
	struct nl_cache *cache;
	int err;

	err = genl_ctrl_alloc_cache(nl->sk, &cache);
	if (err < 0)
		return nle_fail(nl, err, "reading the generic netlink families");
	fam = genl_ctrl_search(cache, id);
	if (fam) {
		nl->version = (uint32_t)genl_family_get_version(fam);
		genl_family_put(fam);
	}
	nl_cache_free(cache);
	if (!fam) {
		set_err(nl, "generic netlink family '%s' went away while it was looked up (module unloaded)",
			FAMILY);
		return -ENOENT;
	}
	return 0;
}

static int open_family(struct vnl_nl *nl)
{
	int one = 1, id, err;

	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		set_err(nl, "cannot allocate a netlink socket: out of memory");
		return -ENOMEM;
	}
	err = genl_connect(nl->sk);
	if (err < 0)
		return nle_fail(nl, err, "cannot open a generic netlink socket");
	/* Best effort: the kernel's reason text for errors, without the echo. */
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));
	/* A per-CPU reply on a big machine exceeds one page. */
	nl_socket_enable_msg_peek(nl->sk);

	id = genl_ctrl_resolve(nl->sk, FAMILY);
	if (id == -NLE_OBJ_NOTFOUND) {
		set_err(nl, "generic netlink family '%s' not found: the vnetloop module is not loaded (or not visible in this network namespace)",
			FAMILY);
		return -ENOENT;
	}
	if (id < 0)
		return nle_fail(nl, id, "looking up generic netlink family '" FAMILY "'");
	nl->parse.family_id = id;
	err = family_version(nl, id);
	if (err)
		return err;
	if (vnl_nl_check_version(nl->version)) {
		set_err(nl, "the module's netlink family '%s' has version %u, this tool knows version %u: refusing to guess its layout; use the vnetloop tool built with the module",
			FAMILY, nl->version, VNETLOOP_GENL_VERSION);
		return -EPROTONOSUPPORT;
	}
	return 0;
}

int vnl_nl_open(struct vnl_nl *nl)
{
	int err = open_family(nl);

	if (err)
		vnl_nl_close(nl);
	return err;
}

void vnl_nl_close(struct vnl_nl *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);	/* closes the fd */
	nl->sk = NULL;
}

int vnl_nl_fd(const struct vnl_nl *nl)
{
	return nl_socket_get_fd(nl->sk);
}

/* ---- CMD_GET and CMD_SET_BUDGET ---- */

struct get_state {
	struct vnl_dev_stats *out;
	bool got;
};

static int parse_one(struct vnl_nl *nl, const struct nlmsghdr *nlh, void *arg)
{
	struct get_state *g = arg;
	struct vnl_dev_stats d;
	int err;

	err = vnl_nl_parse_dev(&nl->parse, nlh, &d);
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
	err = vnl_nl_parse_dev(&nl->parse, nlh, &devs[l->n]);
	if (err)
		return err;
	l->n++;
	return 0;
}

/* A CMD_GET request; for one device unless dump. */
static struct nl_msg *get_msg(struct vnl_nl *nl, bool dump, uint32_t dev_id,
			      unsigned int want)
{
	struct nl_msg *msg = new_msg(nl, dump ? NLM_F_DUMP : 0,
				     VNETLOOP_CMD_GET);

	if (msg && ((!dump && nla_put_u32(msg, VNETLOOP_A_DEV_ID, dev_id)) ||
		    ((want & VNL_NL_PER_CPU) &&
		     nla_put_flag(msg, VNETLOOP_A_PER_CPU)) ||
		    ((want & VNL_NL_PER_QUEUE) &&
		     nla_put_flag(msg, VNETLOOP_A_PER_QUEUE)))) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

int vnl_nl_get_dev(struct vnl_nl *nl, uint32_t dev_id, unsigned int want,
		   struct vnl_dev_stats *out)
{
	struct get_state g = { .out = out };
	struct nl_msg *msg;
	char what[64];
	int err;

	memset(out, 0, sizeof(*out));
	snprintf(what, sizeof(what), "reading device %u", dev_id);
	msg = get_msg(nl, false, dev_id, want);
	if (!msg) {
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

int vnl_nl_get_dev_once(struct vnl_nl *nl, uint32_t dev_id,
			unsigned int want, struct vnl_dev_stats *out)
{
	int err = vnl_nl_open(nl);

	if (!err)
		err = vnl_nl_get_dev(nl, dev_id, want, out);
	else
		memset(out, 0, sizeof(*out));
	vnl_nl_close(nl);
	return err;
}

static int cmp_dev(const void *a, const void *b)
{
	const struct vnl_dev_stats *x = a, *y = b;

	return (x->dev_id > y->dev_id) - (x->dev_id < y->dev_id);
}

int vnl_nl_dump_devs(struct vnl_nl *nl, unsigned int want,
		     struct vnl_dev_list *out)
{
	static const char what[] = "listing devices";
	struct nl_msg *msg;
	int err;

	memset(out, 0, sizeof(*out));
	msg = get_msg(nl, true, 0, want);
	if (!msg) {
		set_err(nl, "%s: out of memory", what);
		return -ENOMEM;
	}
	err = request(nl, msg, parse_append, out, what);
	if (err)
		vnl_dev_list_free(out);
	else
		qsort(out->devs, out->n, sizeof(*out->devs), cmp_dev);
	return err;
}

int vnl_nl_set_dev_budget(struct vnl_nl *nl, uint32_t dev_id,
			  uint32_t packets, uint32_t bytes)
{
	struct nl_msg *msg = new_msg(nl, 0, VNETLOOP_CMD_SET_BUDGET);
	char what[64];

	snprintf(what, sizeof(what), "setting the budget of device %u",
		 dev_id);
	if (!msg || nla_put_u32(msg, VNETLOOP_A_DEV_ID, dev_id) ||
	    (packets && nla_put_u32(msg, VNETLOOP_A_BUDGET_PACKETS, packets)) ||
	    (bytes && nla_put_u32(msg, VNETLOOP_A_BUDGET_BYTES, bytes))) {
		nlmsg_free(msg);
		set_err(nl, "%s: out of memory", what);
		return -ENOMEM;
	}
	return request(nl, msg, NULL, NULL, what);
}

/* ---- events ---- */

int vnl_nl_subscribe(struct vnl_nl *nl)
{
	int grp, notify, err;

	grp = genl_ctrl_resolve_grp(nl->sk, FAMILY, VNETLOOP_GENL_MCGRP_EVENTS);
	if (grp == -NLE_OBJ_NOTFOUND) {
		set_err(nl, "the module's netlink family '%s' has no '%s' multicast group",
			FAMILY, VNETLOOP_GENL_MCGRP_EVENTS);
		return -EPROTONOSUPPORT;
	}
	if (grp < 0)
		return nle_fail(nl, grp, "looking up the '" VNETLOOP_GENL_MCGRP_EVENTS "' multicast group");
	/* The controller tells us when the family goes away (rmmod). */
	notify = genl_ctrl_resolve_grp(nl->sk, "nlctrl", "notify");

	err = nl_socket_add_membership(nl->sk, grp);
	if (err < 0)
		return nle_fail(nl, err, "joining the '" VNETLOOP_GENL_MCGRP_EVENTS "' multicast group failed");
	if (notify > 0) {
		err = nl_socket_add_membership(nl->sk, notify);
		if (err < 0)
			return nle_fail(nl, err, "joining the controller's 'notify' multicast group failed");
	}
	/* Events carry sequence number 0. */
	nl_socket_disable_seq_check(nl->sk);
	err = nl_socket_set_nonblocking(nl->sk);
	if (!err)
		err = nl_socket_set_buffer_size(nl->sk, EVENT_RCVBUF, 0);
	if (err < 0)
		return nle_fail(nl, err, "setting up the event socket");
	return 0;
}

struct ev_read {
	struct vnl_nl *nl;
	vnl_nl_event_fn fn;
	void *arg;
	int stop;		/* fn's non-zero return */
};

static int event_cb(struct nl_msg *msg, void *arg)
{
	struct ev_read *x = arg;
	struct vnl_nl_event ev;

	if (vnl_nl_parse_event(&x->nl->parse, nlmsg_hdr(msg), &ev)) {
		if (x->nl->parse.warn)
			fprintf(x->nl->parse.warn,
				"vnetloop: warning: ignoring a malformed event\n");
		return NL_SKIP;
	}
	if (ev.type == VNL_EV_OTHER)
		return NL_SKIP;
	x->stop = x->fn(&ev, x->arg);
	return x->stop ? NL_STOP : NL_OK;
}

int vnl_nl_read_events(struct vnl_nl *nl, vnl_nl_event_fn fn, void *arg)
{
	struct ev_read x = { .nl = nl, .fn = fn, .arg = arg };
	struct nl_cb *cb, *sock_cb;
	int err;

	/* The socket's callbacks, whose sequence check is off. */
	sock_cb = nl_socket_get_cb(nl->sk);
	cb = nl_cb_clone(sock_cb);
	nl_cb_put(sock_cb);
	if (!cb) {
		set_err(nl, "reading events: out of memory");
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, event_cb, &x);
	do
		err = nl_recvmsgs(nl->sk, cb);
	while (err >= 0 && !x.stop);
	nl_cb_put(cb);
	if (x.stop)
		return x.stop;
	if (err == -NLE_AGAIN)
		return 0;
	if (err == -NLE_NOMEM) {
		/* recvmsg()'s ENOBUFS: the kernel dropped events for us. */
		set_err(nl, "events were lost (socket receive buffer overrun)");
		return -ENOBUFS;
	}
	return nle_fail(nl, err, "receiving events failed");
}
