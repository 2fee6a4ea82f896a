// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink side of stats.h: CMD_GET as a doit (one device, its
 * totals and optionally one nest per CPU) and as a dumpit (every device).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "stats.h"

/* A libnl error as an errno (the kernel's own errors arrive as errnos). */
static int vnl_nle_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_PERM:
		return -EPERM;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

struct vnl_nl_req {
	int err;		/* 1 while waiting, then 0 or -errno */
	int malformed;		/* replies that did not parse */
	struct vnl_nl_dev *dev;	/* doit */
	uint32_t *ids;		/* dumpit */
	size_t max, n;
};

static int vnl_nl_open(struct nl_sock **skp, int *family)
{
	struct nl_sock *sk = nl_socket_alloc();
	int ret;

	if (!sk)
		return -ENOMEM;
	ret = genl_connect(sk);
	if (ret < 0) {
		nl_socket_free(sk);
		return vnl_nle_errno(ret);
	}
	ret = genl_ctrl_resolve(sk, VNETLOOP_GENL_NAME);
	if (ret < 0) {
		nl_socket_free(sk);
		return ret == -NLE_OBJ_NOTFOUND ? -ENOENT : vnl_nle_errno(ret);
	}
	*skp = sk;
	*family = ret;
	return 0;
}

int vnl_nl_present(void)
{
	struct nl_sock *sk;
	int family, ret;

	ret = vnl_nl_open(&sk, &family);
	if (!ret)
		nl_socket_free(sk);
	return ret;
}

/*
 * One stats nest: counter attributes, and the CPU number in a per-CPU nest.
 * Returns the number of counters found; *cpu is -1 when absent.
 */
static int vnl_parse_stats(struct nlattr *nest, uint64_t *c, bool *seen,
			   long *cpu)
{
	struct nlattr *a;
	int rem, found = 0;

	*cpu = -1;
	nla_for_each_nested(a, nest, rem) {
		int type = nla_type(a);
		int id = type - VNETLOOP_STATS_A_COUNTER_BASE;

		if (type == VNETLOOP_STATS_A_CPU && nla_len(a) == 4) {
			*cpu = nla_get_u32(a);
		} else if (id >= 0 && id < VNETLOOP_NUM_COUNTERS) {
			if (nla_len(a) != 8)
				return -EINVAL;
			c[id] = nla_get_u64(a);
			if (seen)
				seen[id] = true;
			found++;
		}
	}
	return found;
}

/* Parse one device message into d. */
static int vnl_parse_dev(struct nl_msg *msg, struct vnl_nl_dev *d,
			 unsigned char *cpu_seen)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *a;
	int rem, i;
	long cpu;

	if (!genlmsg_valid_hdr(nlh, 0))
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		switch (nla_type(a)) {
		case VNETLOOP_A_DEV_ID:
			d->dev_id = nla_get_u32(a);
			break;
		case VNETLOOP_A_OWNER_PID:
			d->has_owner_pid = true;
			d->owner_pid = nla_get_u32(a);
			break;
		case VNETLOOP_A_NUM_COUNTERS:
			d->has_num_counters = true;
			d->num_counters = nla_get_u32(a);
			break;
		case VNETLOOP_A_STATS:
			if (vnl_parse_stats(a, d->total, d->total_seen,
					    &cpu) < 0)
				return -EINVAL;
			break;
		case VNETLOOP_A_CPU_STATS: {
			uint64_t c[VNETLOOP_NUM_COUNTERS] = { 0 };
			int found = vnl_parse_stats(a, c, NULL, &cpu);

			if (found < 0)
				return -EINVAL;
			d->ncpu++;
			if (found != VNETLOOP_NUM_COUNTERS || cpu < 0)
				d->cpu_incomplete++;
			if (cpu >= 0 && cpu < VNL_MAX_CPUS) {
				if (cpu_seen[cpu])
					d->cpu_dup++;
				cpu_seen[cpu] = 1;
			}
			for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
				d->cpu_sum[i] += c[i];
			break;
		}
		default:
			break;
		}
	}
	return 0;
}

static int vnl_valid_cb(struct nl_msg *msg, void *arg)
{
	struct vnl_nl_req *r = arg;
	static unsigned char cpu_seen[VNL_MAX_CPUS];
	struct vnl_nl_dev d;

	memset(cpu_seen, 0, sizeof(cpu_seen));
	if (vnl_parse_dev(msg, &d, cpu_seen)) {
		r->malformed++;
		return NL_SKIP;
	}
	if (r->dev) {
		*r->dev = d;
	} else {
		if (r->n < r->max)
			r->ids[r->n] = d.dev_id;
		r->n++;
	}
	return NL_OK;
}

static int vnl_finish_cb(struct nl_msg *msg, void *arg)
{
	struct vnl_nl_req *r = arg;

	(void)msg;
	r->err = 0;
	return NL_SKIP;
}

static int vnl_ack_cb(struct nl_msg *msg, void *arg)
{
	struct vnl_nl_req *r = arg;

	(void)msg;
	r->err = 0;
	return NL_STOP;
}

static int vnl_error_cb(struct sockaddr_nl *nla, struct nlmsgerr *e,
			void *arg)
{
	struct vnl_nl_req *r = arg;

	(void)nla;
	r->err = e->error ? e->error : 0;
	return NL_STOP;
}

/* Send a request and run the callbacks until it is answered. */
static int vnl_nl_request(uint8_t cmd, bool dump, uint32_t dev_id,
			  bool per_cpu, uint32_t packets, uint32_t bytes,
			  struct vnl_nl_req *r)
{
	struct nl_sock *sk;
	struct nl_msg *msg = NULL;
	struct nl_cb *cb = NULL;
	int family, ret;

	ret = vnl_nl_open(&sk, &family);
	if (ret)
		return ret;
	ret = -ENOMEM;
	msg = nlmsg_alloc();
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!msg || !cb)
		goto out;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
			 dump ? NLM_F_DUMP : 0, cmd, VNETLOOP_GENL_VERSION))
		goto out;
	if (!dump && nla_put_u32(msg, VNETLOOP_A_DEV_ID, dev_id))
		goto out;
	if (per_cpu && nla_put_flag(msg, VNETLOOP_A_PER_CPU))
		goto out;
	if (packets && nla_put_u32(msg, VNETLOOP_A_BUDGET_PACKETS, packets))
		goto out;
	if (bytes && nla_put_u32(msg, VNETLOOP_A_BUDGET_BYTES, bytes))
		goto out;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, vnl_valid_cb, r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, vnl_finish_cb, r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, vnl_ack_cb, r);
	nl_cb_err(cb, NL_CB_CUSTOM, vnl_error_cb, r);
	r->err = 1;
	ret = nl_send_auto(sk, msg);
	if (ret < 0) {
		ret = vnl_nle_errno(ret);
		goto out;
	}
	while (r->err > 0) {
		ret = nl_recvmsgs(sk, cb);
		if (ret < 0 && r->err > 0)
			r->err = vnl_nle_errno(ret);
	}
	ret = r->err;
	if (!ret && r->malformed)
		ret = -EBADMSG;
out:
	nl_cb_put(cb);
	nlmsg_free(msg);
	nl_socket_free(sk);
	return ret;
}

int vnl_nl_get(uint32_t dev_id, bool per_cpu, struct vnl_nl_dev *out)
{
	struct vnl_nl_req r = { .dev = out };

	memset(out, 0, sizeof(*out));
	out->dev_id = UINT32_MAX;
	return vnl_nl_request(VNETLOOP_CMD_GET, false, dev_id, per_cpu, 0, 0,
			      &r);
}

int vnl_nl_dump_ids(uint32_t *ids, size_t max, size_t *n)
{
	struct vnl_nl_req r = { .ids = ids, .max = max };
	int ret = vnl_nl_request(VNETLOOP_CMD_GET, true, 0, false, 0, 0, &r);

	*n = r.n;
	if (!ret && r.n > max)
		ret = -E2BIG;
	return ret;
}

int vnl_counters(uint32_t dev_id, uint64_t c[VNETLOOP_NUM_COUNTERS])
{
	struct vnl_nl_dev d;
	int i, ret;

	ret = vnl_nl_get(dev_id, false, &d);
	if (ret)
		return ret;
	if (d.dev_id != dev_id)
		return -EBADMSG;
	for (i = 0; i < VNETLOOP_NUM_SPEC_COUNTERS; i++)
		if (!d.total_seen[i])
			return -EBADMSG;
	memcpy(c, d.total, sizeof(d.total));
	return 0;
}

int vnl_nl_set_budget(uint32_t dev_id, uint32_t packets, uint32_t bytes)
{
	struct vnl_nl_req r = { 0 };

	return vnl_nl_request(VNETLOOP_CMD_SET_BUDGET, false, dev_id, false,
			      packets, bytes, &r);
}

#define VNL_EV_MAX	64

struct vnl_events {
	struct nl_sock *sk;
	struct vnl_event q[VNL_EV_MAX];
	unsigned int head, n;
};

static int vnl_event_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct vnl_events *ev = arg;
	struct vnl_event *e;
	struct nlattr *a;
	int rem;

	if (!genlmsg_valid_hdr(nlh, 0) || ev->n == VNL_EV_MAX)
		return NL_SKIP;
	e = &ev->q[(ev->head + ev->n) % VNL_EV_MAX];
	memset(e, 0, sizeof(*e));
	e->cmd = ((struct genlmsghdr *)nlmsg_data(nlh))->cmd;
	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		if (nla_len(a) != 4)
			continue;
		switch (nla_type(a)) {
		case VNETLOOP_A_DEV_ID:
			e->dev_id = nla_get_u32(a);
			break;
		case VNETLOOP_A_OWNER_PID:
			e->has_pid = true;
			e->pid = nla_get_u32(a);
			break;
		case VNETLOOP_A_QUEUE:
			e->has_queue = true;
			e->queue = nla_get_u32(a);
			break;
		}
	}
	ev->n++;
	return NL_OK;
}

int vnl_events_open(struct vnl_events **evp)
{
	struct vnl_events *ev = calloc(1, sizeof(*ev));
	int family, grp, ret;

	if (!ev)
		return -ENOMEM;
	ret = vnl_nl_open(&ev->sk, &family);
	if (ret) {
		free(ev);
		return ret;
	}
	grp = genl_ctrl_resolve_grp(ev->sk, VNETLOOP_GENL_NAME,
				    VNETLOOP_GENL_MCGRP_EVENTS);
	if (grp < 0) {
		ret = grp == -NLE_OBJ_NOTFOUND ? -ENOENT : vnl_nle_errno(grp);
		goto fail;
	}
	ret = nl_socket_add_membership(ev->sk, grp);
	if (ret < 0) {
		ret = vnl_nle_errno(ret);
		goto fail;
	}
	/* Events carry sequence number 0. */
	nl_socket_disable_seq_check(ev->sk);
	nl_socket_modify_cb(ev->sk, NL_CB_VALID, NL_CB_CUSTOM, vnl_event_cb,
			    ev);
	*evp = ev;
	return 0;
fail:
	nl_socket_free(ev->sk);
	free(ev);
	return ret;
}

static int64_t vnl_ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vnl_events_next(struct vnl_events *ev, int timeout_ms,
		    struct vnl_event *out)
{
	struct pollfd p = { .fd = nl_socket_get_fd(ev->sk), .events = POLLIN };
	int64_t end = vnl_ms_now() + timeout_ms;
	int ret;

	while (!ev->n) {
		int64_t left = end - vnl_ms_now();

		if (left <= 0)
			return -ETIMEDOUT;
		ret = poll(&p, 1, (int)left);
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (ret > 0) {
			ret = nl_recvmsgs_default(ev->sk);
			if (ret < 0)
				return vnl_nle_errno(ret);
		}
	}
	*out = ev->q[ev->head];
	ev->head = (ev->head + 1) % VNL_EV_MAX;
	ev->n--;
	return 0;
}

void vnl_events_close(struct vnl_events *ev)
{
	if (!ev)
		return;
	nl_socket_free(ev->sk);
	free(ev);
}
