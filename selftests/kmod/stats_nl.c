// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink side of stats.h, on the client the tool uses
 * (user/nl): the same socket setup, parsing and errno mapping, so the tests
 * check the module through the code that ships. Each call opens its own
 * socket, as the tests change credentials between calls; what the tests
 * look at (repeated CPUs, missing counters) is counted from the parsed
 * reply here.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats.h"
#include "user/nl/nl.h"

int vnl_nl_present(void)
{
	struct vnl_nl nl;
	int ret;

	vnl_nl_init(&nl, stderr);
	ret = vnl_nl_open(&nl);
	vnl_nl_close(&nl);
	return ret;
}

int vnl_nl_get(uint32_t dev_id, bool per_cpu, struct vnl_nl_dev *out)
{
	const uint64_t all = (1ULL << VNETLOOP_NUM_COUNTERS) - 1;
	struct vnl_dev_stats d;
	struct vnl_nl nl;
	int i, ret;

	memset(out, 0, sizeof(*out));
	out->dev_id = UINT32_MAX;
	vnl_nl_init(&nl, stderr);
	ret = vnl_nl_get_dev_once(&nl, dev_id, per_cpu, &d);
	if (ret)
		return ret;
	out->dev_id = d.dev_id;
	out->has_owner_pid = d.has_owner_pid;
	out->owner_pid = d.owner_pid;
	out->has_num_counters = d.has_num_counters;
	out->num_counters = d.num_counters;
	for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++) {
		out->total[i] = d.c[i];
		out->total_seen[i] = d.present >> i & 1;
	}
	/* The parser sorted the CPUs: a repeat is next to its first. */
	out->ncpu = d.ncpus;
	for (unsigned int k = 0; k < d.ncpus; k++) {
		const struct vnl_part_counters *cc = &d.cpus[k];

		out->cpu_incomplete += cc->present != all;
		out->cpu_dup += k && cc->key == d.cpus[k - 1].key;
		for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
			out->cpu_sum[i] += cc->c[i];
	}
	vnl_dev_stats_free(&d);
	return 0;
}

int vnl_nl_dump_ids(uint32_t *ids, size_t max, size_t *n)
{
	struct vnl_dev_list l;
	struct vnl_nl nl;
	int ret;

	*n = 0;
	vnl_nl_init(&nl, stderr);
	ret = vnl_nl_open(&nl);
	if (!ret)
		ret = vnl_nl_dump_devs(&nl, false, &l);
	vnl_nl_close(&nl);
	if (ret)
		return ret;
	for (size_t i = 0; i < l.n && i < max; i++)
		ids[i] = l.devs[i].dev_id;
	*n = l.n;
	vnl_dev_list_free(&l);
	return *n > max ? -E2BIG : 0;
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
	struct vnl_nl nl;
	int ret;

	vnl_nl_init(&nl, stderr);
	ret = vnl_nl_open(&nl);
	if (!ret)
		ret = vnl_nl_set_dev_budget(&nl, dev_id, packets, bytes);
	vnl_nl_close(&nl);
	return ret;
}

#define VNL_EV_MAX	64

struct vnl_events {
	struct vnl_nl nl;
	struct vnl_event q[VNL_EV_MAX];
	unsigned int head, n;
};

/* Queue one of the family's events (the module's removal is not one). */
static int vnl_event_queue(const struct vnl_nl_event *e, void *arg)
{
	struct vnl_events *ev = arg;

	if (e->type == VNL_EV_FAMILY_GONE || ev->n == VNL_EV_MAX)
		return 0;
	ev->q[(ev->head + ev->n++) % VNL_EV_MAX] = (struct vnl_event) {
		.cmd = e->cmd, .dev_id = e->dev_id,
		.has_pid = e->has_owner_pid, .pid = e->owner_pid,
		.has_queue = e->has_queue, .queue = e->queue,
	};
	return 0;
}

int vnl_events_open(struct vnl_events **evp)
{
	struct vnl_events *ev = calloc(1, sizeof(*ev));
	int ret;

	if (!ev)
		return -ENOMEM;
	vnl_nl_init(&ev->nl, stderr);
	ret = vnl_nl_open(&ev->nl);
	if (!ret)
		ret = vnl_nl_subscribe(&ev->nl);
	if (ret) {
		vnl_events_close(ev);
		return ret;
	}
	*evp = ev;
	return 0;
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
	struct pollfd p = { .fd = vnl_nl_fd(&ev->nl), .events = POLLIN };
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
			ret = vnl_nl_read_events(&ev->nl, vnl_event_queue, ev);
			if (ret)
				return ret;
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
	vnl_nl_close(&ev->nl);
	free(ev);
}
