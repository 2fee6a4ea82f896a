// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the stats client without the module: replies and events are
 * built with libnl as the kernel would send them, then parsed and printed
 * by the very code of `vnetloop stats` and `vnetloop monitor` (user/nl,
 * user/cmd). TAP output.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/genetlink.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "selftests/stats/unit.h"
#include "user/cmd/print.h"
#include "user/cmd/stats.h"
#include "user/nl/nl.h"

#define FAM 0x1d

/* A fresh parser whose warnings are captured in *buf. */
struct cap {
	struct vnl_nl_parser p;
	char *buf;
	size_t len;
	FILE *f;
};

static void cap_init(struct cap *c)
{
	c->buf = NULL;
	c->f = open_memstream(&c->buf, &c->len);
	c->p = (struct vnl_nl_parser) { .family_id = FAM, .warn = c->f };
}

static const char *cap_text(struct cap *c)
{
	fflush(c->f);
	return c->buf ? c->buf : "";
}

static void cap_free(struct cap *c)
{
	fclose(c->f);
	free(c->buf);
}

static struct nl_msg *msg_new(int type, uint8_t cmd)
{
	struct nl_msg *m = nlmsg_alloc();

	if (!m || !genlmsg_put(m, 0, 0, type, 0, 0, cmd, 1)) {
		fprintf(stderr, "nl_unit: out of memory\n");
		exit(1);
	}
	return m;
}

/*
 * Counters c0 .. c0+n-1 with values base*(i+1), optionally a CPU or (in a
 * QUEUE_STATS nest) a queue pair.
 */
static void put_counters(struct nl_msg *m, int attr, int cpu, unsigned int n,
			 uint64_t base)
{
	struct nlattr *nest = nla_nest_start(m, attr);

	if (cpu >= 0)
		nla_put_u32(m, attr == VNETLOOP_A_QUEUE_STATS ?
			    VNETLOOP_STATS_A_PAIR : VNETLOOP_STATS_A_CPU, cpu);
	for (unsigned int i = 0; i < n; i++)
		nla_put_u64(m, VNETLOOP_STATS_A_COUNTER(i), base * (i + 1));
	nla_nest_end(m, nest);
}

/* A GET reply for device 7: two CPUs (1 listed first), totals = sum. */
static struct nl_msg *dev_reply(unsigned int ncounters, bool per_cpu)
{
	struct nl_msg *m = msg_new(FAM, VNETLOOP_CMD_GET);

	nla_put_u32(m, VNETLOOP_A_DEV_ID, 7);
	nla_put_u32(m, VNETLOOP_A_OWNER_PID, 1234);
	nla_put_u32(m, VNETLOOP_A_NUM_COUNTERS, ncounters);
	if (per_cpu) {
		put_counters(m, VNETLOOP_A_CPU_STATS, 1, ncounters, 10);
		put_counters(m, VNETLOOP_A_CPU_STATS, 0, ncounters, 1);
	}
	put_counters(m, VNETLOOP_A_STATS, -1, ncounters, 11);
	if (per_cpu) {
		nla_put_u32(m, VNETLOOP_A_QUEUE_PAIRS, 2);
		put_counters(m, VNETLOOP_A_QUEUE_STATS, 1, ncounters, 3);
		put_counters(m, VNETLOOP_A_QUEUE_STATS, 0, ncounters, 8);
	}
	return m;
}

static void test_parse_full(void)
{
	struct nl_msg *m = dev_reply(VNETLOOP_NUM_COUNTERS, true);
	struct vnl_dev_stats d;
	struct cap c;
	int err, good = 1;

	cap_init(&c);
	err = vnl_nl_parse_dev(&c.p, nlmsg_hdr(m), &d);
	ok(!err, "parse: a full per-CPU reply parses");
	ok(d.dev_id == 7 && d.owner_pid == 1234 &&
	   d.num_counters == VNETLOOP_NUM_COUNTERS,
	   "parse: device id, owner pid and counter count");
	for (unsigned int i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
		good &= d.c[i] == 11 * (i + 1);
	ok(good && d.present == (1ULL << VNETLOOP_NUM_COUNTERS) - 1,
	   "parse: every known counter present with its value");
	ok(d.ncpus == 2 && d.cpus[0].key == 0 && d.cpus[1].key == 1 &&
	   d.cpus[0].c[3] == 4 && d.cpus[1].c[3] == 40,
	   "parse: per-CPU sets sorted by CPU with their values");
	ok(d.has_queue_pairs && d.queue_pairs == 2 && d.nqueues == 2 &&
	   d.queues[0].key == 0 && d.queues[1].key == 1 &&
	   d.queues[0].c[3] == 32 && d.queues[1].c[3] == 12,
	   "parse: per-queue sets sorted by pair with their values");
	ok(c.p.warnings == 0 && !*cap_text(&c),
	   "parse: no warning for a reply this tool knows");
	vnl_dev_stats_free(&d);
	nlmsg_free(m);
	cap_free(&c);
}

static void test_parse_unknown(void)
{
	char want[64], want2[64];
	struct vnl_dev_stats d;
	struct nl_msg *m;
	struct nlattr *nest;
	struct cap c;
	int err;

	cap_init(&c);
	m = msg_new(FAM, VNETLOOP_CMD_GET);
	nla_put_u32(m, VNETLOOP_A_DEV_ID, 3);
	nla_put_u32(m, VNETLOOP_A_MAX + 5, 99);		/* newer attribute */
	nest = nla_nest_start(m, VNETLOOP_A_STATS);
	nla_put_u64(m, VNETLOOP_STATS_A_COUNTER(0), 5);
	nla_put_u64(m, VNETLOOP_STATS_A_COUNTER(VNETLOOP_NUM_COUNTERS), 6);
	nla_put_u64(m, VNETLOOP_STATS_A_COUNTER(VNETLOOP_NUM_COUNTERS + 1), 7);
	nla_nest_end(m, nest);

	err = vnl_nl_parse_dev(&c.p, nlmsg_hdr(m), &d);
	ok(!err && d.dev_id == 3 && d.c[0] == 5 && d.present == 1,
	   "unknown: unknown attribute and counters are skipped");
	snprintf(want, sizeof(want), "unknown attribute %d",
		 VNETLOOP_A_MAX + 5);
	/* The first unknown id says how many the module has at least. */
	snprintf(want2, sizeof(want2), "the module has %d counters",
		 VNETLOOP_NUM_COUNTERS + 1);
	ok(c.p.warnings == 2 && strstr(cap_text(&c), want) &&
	   strstr(cap_text(&c), want2),
	   "unknown: one warning for the attribute, one for the counters");
	vnl_dev_stats_free(&d);
	err = vnl_nl_parse_dev(&c.p, nlmsg_hdr(m), &d);
	ok(!err && c.p.warnings == 2, "unknown: each warning is printed once");
	vnl_dev_stats_free(&d);
	nlmsg_free(m);
	cap_free(&c);

	cap_init(&c);
	m = dev_reply(VNETLOOP_NUM_COUNTERS, false);
	nla_put_u32(m, VNETLOOP_A_NUM_COUNTERS, VNETLOOP_NUM_COUNTERS + 3);
	err = vnl_nl_parse_dev(&c.p, nlmsg_hdr(m), &d);
	snprintf(want2, sizeof(want2), "has %d counters, this tool knows %d",
		 VNETLOOP_NUM_COUNTERS + 3, VNETLOOP_NUM_COUNTERS);
	ok(!err && c.p.warnings == 1 && strstr(cap_text(&c), want2),
	   "unknown: a larger NUM_COUNTERS warns");
	vnl_dev_stats_free(&d);
	nlmsg_free(m);
	cap_free(&c);
}

/* Build a reply with one defect and expect -EBADMSG. */
static void bad(const char *name, void (*build)(struct nl_msg *m))
{
	struct nl_msg *m = msg_new(FAM, VNETLOOP_CMD_GET);
	struct vnl_dev_stats d;
	struct cap c;
	char title[96];

	cap_init(&c);
	build(m);
	snprintf(title, sizeof(title), "malformed: %s", name);
	ok(vnl_nl_parse_dev(&c.p, nlmsg_hdr(m), &d) == -EBADMSG &&
	   !d.cpus, title);
	nlmsg_free(m);
	cap_free(&c);
}

static void b_short_id(struct nl_msg *m)
{
	nla_put_u16(m, VNETLOOP_A_DEV_ID, 1);
	put_counters(m, VNETLOOP_A_STATS, -1, 2, 1);
}

static void b_no_id(struct nl_msg *m)
{
	put_counters(m, VNETLOOP_A_STATS, -1, 2, 1);
}

static void b_no_stats(struct nl_msg *m)
{
	nla_put_u32(m, VNETLOOP_A_DEV_ID, 1);
}

static void b_cpu_without_id(struct nl_msg *m)
{
	nla_put_u32(m, VNETLOOP_A_DEV_ID, 1);
	put_counters(m, VNETLOOP_A_CPU_STATS, 0, 2, 1);
	put_counters(m, VNETLOOP_A_CPU_STATS, -1, 2, 1);
	put_counters(m, VNETLOOP_A_STATS, -1, 2, 1);
}

static void b_short_counter(struct nl_msg *m)
{
	struct nlattr *nest;

	nla_put_u32(m, VNETLOOP_A_DEV_ID, 1);
	nest = nla_nest_start(m, VNETLOOP_A_STATS);
	nla_put_u32(m, VNETLOOP_STATS_A_COUNTER(0), 1);
	nla_nest_end(m, nest);
}

static void b_trailing(struct nl_msg *m)
{
	static const uint32_t zero;

	nla_put_u32(m, VNETLOOP_A_DEV_ID, 1);
	put_counters(m, VNETLOOP_A_STATS, -1, 2, 1);
	/* Four bytes that are no attribute (a length below its header). */
	nlmsg_append(m, (void *)&zero, sizeof(zero), NLMSG_ALIGNTO);
}

static void test_malformed(void)
{
	struct nlmsghdr h = { .nlmsg_len = NLMSG_HDRLEN, .nlmsg_type = FAM };
	struct vnl_dev_stats d;
	struct cap c;

	bad("a 2-byte device id", b_short_id);
	bad("no device id", b_no_id);
	bad("no counter set", b_no_stats);
	bad("a per-CPU set without its CPU", b_cpu_without_id);
	bad("a 4-byte counter", b_short_counter);
	bad("bytes after the last attribute", b_trailing);
	cap_init(&c);
	ok(vnl_nl_parse_dev(&c.p, &h, &d) == -EBADMSG,
	   "malformed: no generic netlink header");
	cap_free(&c);
}

static void test_version_and_exit(void)
{
	ok(!vnl_nl_check_version(VNETLOOP_GENL_VERSION) &&
	   vnl_nl_check_version(0) == -EPROTONOSUPPORT &&
	   vnl_nl_check_version(VNETLOOP_GENL_VERSION + 1) == -EPROTONOSUPPORT,
	   "version: only the known family version is accepted");
	ok(vnl_exit_code(0) == 0 && vnl_exit_code(-ENOENT) == 3 &&
	   vnl_exit_code(-ENODEV) == 4 && vnl_exit_code(-EPERM) == 6 &&
	   vnl_exit_code(-EACCES) == 6 &&
	   vnl_exit_code(-EPROTONOSUPPORT) == 7 &&
	   vnl_exit_code(-EIO) == 1 && vnl_exit_code(-EBADMSG) == 1,
	   "exit: each error class has its exit code");
	ok(!strcmp(vnl_counter_name(0), "tx_packets") &&
	   !strcmp(vnl_counter_name(12), "invalid_avail_idx_count") &&
	   !strcmp(vnl_counter_name(13), "ctrl_mq_set") &&
	   !strcmp(vnl_counter_name(15), "ctrl_add_used_failures") &&
	   !strcmp(vnl_counter_name(16), "kicks") &&
	   !strcmp(vnl_counter_name(19), "budget_requeues") &&
	   !strcmp(vnl_counter_name(20), "drain_ns") &&
	   VNETLOOP_C_DRAIN_NS == 20 && VNETLOOP_NUM_COUNTERS == 21 &&
	   !vnl_counter_name(VNETLOOP_NUM_COUNTERS),
	   "names: counter names follow the uAPI table");
	ok(vnl_nl_errno(-NLE_OBJ_NOTFOUND) == -ENOENT &&
	   vnl_nl_errno(NLE_OBJ_NOTFOUND) == -ENOENT &&
	   vnl_nl_errno(-NLE_PERM) == -EPERM &&
	   vnl_nl_errno(-NLE_NOACCESS) == -EACCES &&
	   vnl_nl_errno(-NLE_NOMEM) == -ENOMEM &&
	   vnl_nl_errno(-NLE_NODEV) == -ENODEV &&
	   vnl_nl_errno(-NLE_AGAIN) == -EAGAIN &&
	   vnl_nl_errno(-NLE_DUMP_INTR) == -EIO &&
	   vnl_nl_errno(-NLE_FAILURE) == -EIO &&
	   vnl_nl_errno(-(NLE_MAX + 1)) == -EIO,
	   "errno: libnl's codes map to errnos, the rest to EIO");
}

/* `vnetloop stats` of one device d, with or without --per-cpu. */
static void stats_plain(const void *d)
{
	vnl_stats_print(&(struct vnl_dev_list) { .devs = (void *)d, .n = 1 },
			false);
}

static void stats_cpu(const void *d)
{
	vnl_stats_print(&(struct vnl_dev_list) { .devs = (void *)d, .n = 1 },
			true);
}

static void stats_queue(const void *d)
{
	vnl_stats_print(&(struct vnl_dev_list) { .devs = (void *)d, .n = 1 },
			VNL_NL_PER_QUEUE);
}

static void test_output(void)
{
	struct nl_msg *m = dev_reply(2, true);	/* an older module: 2 counters */
	struct vnl_dev_stats d;
	struct cap c;
	char *s;

	cap_init(&c);
	ok(!vnl_nl_parse_dev(&c.p, nlmsg_hdr(m), &d) && d.present == 3,
	   "older module: only the counters sent are present");
	ok_printed(stats_plain, &d, false, false,
		   "device 7  owner pid 1234\n"
		   "    tx_packets                11\n"
		   "    tx_bytes                  22\n",
		   "table: aligned name and value columns, present counters only");
	ok_printed(stats_cpu, &d, false, false,
		   "device 7  owner pid 1234\n"
		   "    counter                   cpu0  cpu1  total\n"
		   "    tx_packets                   1    10     11\n"
		   "    tx_bytes                     2    20     22\n",
		   "table: per-CPU columns and the total");
	ok_printed(stats_plain, &d, true, false,
		   "[{\"dev_id\":7,\"owner_pid\":1234,\"tx_packets\":11,\"tx_bytes\":22}]\n",
		   "json: dev_id, owner_pid and counter names as keys");
	ok_printed(stats_cpu, &d, true, false,
		   "[{\"dev_id\":7,\"owner_pid\":1234,\"tx_packets\":11,\"tx_bytes\":22,"
		   "\"per_cpu\":[{\"cpu\":0,\"tx_packets\":1,\"tx_bytes\":2},"
		   "{\"cpu\":1,\"tx_packets\":10,\"tx_bytes\":20}],"
		   "\"total\":{\"tx_packets\":11,\"tx_bytes\":22}}]\n",
		   "json: per_cpu array with cpu keys, and total");
	ok_printed(stats_queue, &d, false, false,
		   "device 7  owner pid 1234\n"
		   "    counter                   pair0  pair1  total\n"
		   "    tx_packets                    8      3     11\n"
		   "    tx_bytes                     16      6     22\n",
		   "table: per-queue-pair columns and the total");
	ok_printed(stats_queue, &d, true, false,
		   "[{\"dev_id\":7,\"owner_pid\":1234,\"tx_packets\":11,\"tx_bytes\":22,"
		   "\"per_queue\":[{\"pair\":0,\"tx_packets\":8,\"tx_bytes\":16},"
		   "{\"pair\":1,\"tx_packets\":3,\"tx_bytes\":6}],"
		   "\"total\":{\"tx_packets\":11,\"tx_bytes\":22}}]\n",
		   "json: per_queue array with pair keys, and total");
	ok_printed(stats_plain, &d, true, true,
		   "[\n"
		   "  {\n"
		   "    \"dev_id\": 7,\n"
		   "    \"owner_pid\": 1234,\n"
		   "    \"tx_packets\": 11,\n"
		   "    \"tx_bytes\": 22\n"
		   "  }\n"
		   "]\n",
		   "json --pretty: the same keys, indented");
	d.owner_pid = 0;
	s = printed(stats_plain, &d, false, false, NULL);
	ok(starts(s, "device 7  unowned\n"), "table: an unowned device");
	free(s);
	s = printed(stats_plain, &d, true, false, NULL);
	ok(starts(s, "[{\"dev_id\":7,\"owner_pid\":0,\"tx_packets\""),
	   "json: an unowned device has owner_pid 0");
	free(s);
	vnl_dev_stats_free(&d);
	nlmsg_free(m);
	cap_free(&c);
}

static struct {
	struct vnl_dev_stats cur;
	uint64_t delta[VNETLOOP_NUM_COUNTERS];
} watch;

static void interval(const void *arg)
{
	(void)arg;
	vnl_stats_interval(&watch.cur, watch.delta, 0.5, "T");
}

static void test_watch(void)
{
	struct vnl_dev_stats a = { .dev_id = 2 }, *b = &watch.cur;
	uint64_t *delta = watch.delta;

	a.present = 0xf;
	a.c[VNETLOOP_C_TX_PACKETS] = 100;
	a.c[VNETLOOP_C_TX_BYTES] = 6400;
	a.c[VNETLOOP_C_RX_PACKETS] = 90;
	a.c[VNETLOOP_C_RX_BYTES] = 5760;
	*b = a;
	b->c[VNETLOOP_C_TX_PACKETS] += 50;
	b->c[VNETLOOP_C_TX_BYTES] += 3200;
	b->c[VNETLOOP_C_RX_PACKETS] += 40;
	b->c[VNETLOOP_C_RX_BYTES] += 2560;
	ok(vnl_stats_delta(&a, b, delta) && delta[0] == 50 &&
	   delta[1] == 3200 && delta[2] == 40 && delta[3] == 2560 &&
	   delta[4] == 0, "watch: delta is the difference of two reads");
	ok(!vnl_stats_delta(b, &a, delta),
	   "watch: a counter going backwards means another device");

	vnl_stats_delta(&a, b, delta);
	ok_printed(interval, NULL, true, false,
		   "{\"time\":\"T\",\"dev_id\":2,\"interval_s\":0.500000000,"
		   "\"counters\":{\"tx_packets\":150,\"tx_bytes\":9600,\"rx_packets\":130,\"rx_bytes\":8320},"
		   "\"delta\":{\"tx_packets\":50,\"tx_bytes\":3200,\"rx_packets\":40,\"rx_bytes\":2560},"
		   "\"rate\":{\"tx_frames_per_s\":100.000,\"tx_bytes_per_s\":6400.000,"
		   "\"rx_frames_per_s\":80.000,\"rx_bytes_per_s\":5120.000}}\n",
		   "watch: JSON line with counters, deltas and rates");
	ok_printed(interval, NULL, false, false,
		   "T  device 2  interval 0.500 s\n"
		   "    tx                                 100 frames/s            6400 bytes/s\n"
		   "    rx                                  80 frames/s            5120 bytes/s\n"
		   "    tx_packets                         +50\n"
		   "    tx_bytes                         +3200\n"
		   "    rx_packets                         +40\n"
		   "    rx_bytes                         +2560\n",
		   "watch: text block with rates and signed deltas");
}

static struct nl_msg *event(uint8_t cmd, int queue)
{
	struct nl_msg *m = msg_new(FAM, cmd);

	nla_put_u32(m, VNETLOOP_A_DEV_ID, 4);
	if (queue < 0)
		nla_put_u32(m, VNETLOOP_A_OWNER_PID, 321);
	else
		nla_put_u32(m, VNETLOOP_A_QUEUE, queue);
	return m;
}

static void monitor_line(const void *ev)
{
	vnl_monitor_print(ev, "T");
}

/* The text line and the JSON line `vnetloop monitor` prints for ev. */
static void ok_event_lines(const struct vnl_nl_event *ev, const char *text,
			   const char *json, const char *what)
{
	char name[96];

	snprintf(name, sizeof(name), "event: %s, text line", what);
	ok_printed(monitor_line, ev, false, false, text, name);
	snprintf(name, sizeof(name), "event: %s, JSON line", what);
	ok_printed(monitor_line, ev, true, false, json, name);
}


static void test_events(void)
{
	struct vnl_nl_event ev;
	struct nl_msg *m;
	struct cap c;

	cap_init(&c);
	m = event(VNETLOOP_CMD_DEV_CREATED, -1);
	ok(!vnl_nl_parse_event(&c.p, nlmsg_hdr(m), &ev) &&
	   ev.type == VNL_EV_DEV_CREATED && ev.dev_id == 4 &&
	   ev.has_owner_pid && ev.owner_pid == 321 && !ev.has_queue,
	   "event: dev_created with id and owner pid");
	ok_event_lines(&ev, "T  dev_created     device 4  owner pid 321\n",
		       "{\"time\":\"T\",\"event\":\"dev_created\",\"dev_id\":4,\"owner_pid\":321}\n",
		       "created, with the owner");
	nlmsg_free(m);

	m = event(VNETLOOP_CMD_QUEUE_POISONED, VNETLOOP_QUEUE_TX);
	ok(!vnl_nl_parse_event(&c.p, nlmsg_hdr(m), &ev) &&
	   ev.type == VNL_EV_QUEUE_POISONED && ev.has_queue && ev.queue == 1,
	   "event: queue_poisoned with the queue");
	ok_event_lines(&ev, "T  queue_poisoned  device 4  queue 1 (tx)\n",
		       "{\"time\":\"T\",\"event\":\"queue_poisoned\",\"dev_id\":4,\"queue\":1,\"queue_name\":\"tx\"}\n",
		       "poisoned, with the queue named");
	nlmsg_free(m);

	m = event(VNETLOOP_CMD_DEV_DESTROYED, -1);
	ok(!vnl_nl_parse_event(&c.p, nlmsg_hdr(m), &ev) &&
	   ev.type == VNL_EV_DEV_DESTROYED, "event: dev_destroyed");
	nlmsg_free(m);

	m = event(VNETLOOP_CMD_MAX + 1, -1);
	ok(!vnl_nl_parse_event(&c.p, nlmsg_hdr(m), &ev) &&
	   ev.type == VNL_EV_OTHER && ev.cmd == VNETLOOP_CMD_MAX + 1,
	   "event: an unknown command is reported as other");
	nlmsg_free(m);

	m = msg_new(FAM, VNETLOOP_CMD_DEV_CREATED);
	nla_put_u32(m, VNETLOOP_A_OWNER_PID, 1);
	ok(vnl_nl_parse_event(&c.p, nlmsg_hdr(m), &ev) == -EBADMSG,
	   "event: no device id is malformed");
	nlmsg_free(m);

	m = msg_new(GENL_ID_CTRL, CTRL_CMD_DELFAMILY);
	nla_put_string(m, CTRL_ATTR_FAMILY_NAME, "vnetloop");
	ok(!vnl_nl_parse_event(&c.p, nlmsg_hdr(m), &ev) &&
	   ev.type == VNL_EV_FAMILY_GONE,
	   "event: the controller's DELFAMILY of vnetloop");
	nlmsg_free(m);
	m = msg_new(GENL_ID_CTRL, CTRL_CMD_DELFAMILY);
	nla_put_string(m, CTRL_ATTR_FAMILY_NAME, "vnetloopx");
	ok(!vnl_nl_parse_event(&c.p, nlmsg_hdr(m), &ev) &&
	   ev.type == VNL_EV_OTHER, "event: another family's DELFAMILY");
	nlmsg_free(m);
	m = msg_new(FAM + 1, VNETLOOP_CMD_DEV_CREATED);
	ok(!vnl_nl_parse_event(&c.p, nlmsg_hdr(m), &ev) &&
	   ev.type == VNL_EV_OTHER, "event: another family's message");
	nlmsg_free(m);
	ok(c.p.warnings == 1 &&
	   strstr(cap_text(&c), "unknown event command 6 (the module is newer"),
	   "event: one warning, for the newer command only");
	cap_free(&c);
}

int main(void)
{
	printf("TAP version 13\n");
	test_parse_full();
	test_parse_unknown();
	test_malformed();
	test_version_and_exit();
	test_output();
	test_watch();
	test_events();
	return done();
}
