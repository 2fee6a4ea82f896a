// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the stats client without the module: replies and events are
 * built with libnl as the kernel would send them, then parsed and printed
 * by the very code of `vnetloop stats` and `vnetloop monitor`. TAP output.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/genetlink.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "user/cmd/stats.h"
#include "user/nl/nl.h"

#define FAM 0x1d

static int test_no, failures;

static void ok(int cond, const char *name)
{
	test_no++;
	if (!cond)
		failures++;
	printf("%sok %d %s\n", cond ? "" : "not ", test_no, name);
}

/* A fresh client whose warnings are captured in *buf. */
struct cap {
	struct vnl_nl nl;
	char *buf;
	size_t len;
	FILE *f;
};

static void cap_init(struct cap *c)
{
	c->buf = NULL;
	c->f = open_memstream(&c->buf, &c->len);
	vnl_nl_init(&c->nl, c->f);
	c->nl.family_id = FAM;
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

/* Counters c0 .. c0+n-1 with values base*(i+1), optionally a CPU. */
static void put_counters(struct nl_msg *m, int attr, int cpu, unsigned int n,
			 uint64_t base)
{
	struct nlattr *nest = nla_nest_start(m, attr);

	if (cpu >= 0)
		nla_put_u32(m, VNETLOOP_STATS_A_CPU, cpu);
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
	return m;
}

static void test_parse_full(void)
{
	struct nl_msg *m = dev_reply(VNETLOOP_NUM_COUNTERS, true);
	struct vnl_dev_stats d;
	struct cap c;
	int err, good = 1;

	cap_init(&c);
	err = vnl_nl_parse_dev(&c.nl, nlmsg_hdr(m), &d);
	ok(!err, "parse: a full per-CPU reply parses");
	ok(d.dev_id == 7 && d.owner_pid == 1234 &&
	   d.num_counters == VNETLOOP_NUM_COUNTERS,
	   "parse: device id, owner pid and counter count");
	for (unsigned int i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
		good &= d.c[i] == 11 * (i + 1);
	ok(good && d.present == (1ULL << VNETLOOP_NUM_COUNTERS) - 1,
	   "parse: every known counter present with its value");
	ok(d.ncpus == 2 && d.cpus[0].cpu == 0 && d.cpus[1].cpu == 1 &&
	   d.cpus[0].c[3] == 4 && d.cpus[1].c[3] == 40,
	   "parse: per-CPU sets sorted by CPU with their values");
	ok(c.nl.warnings == 0 && !*cap_text(&c),
	   "parse: no warning for a reply this tool knows");
	vnl_dev_stats_free(&d);
	nlmsg_free(m);
	cap_free(&c);
}

static void test_parse_unknown(void)
{
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

	err = vnl_nl_parse_dev(&c.nl, nlmsg_hdr(m), &d);
	ok(!err && d.dev_id == 3 && d.c[0] == 5 && d.present == 1,
	   "unknown: unknown attribute and counters are skipped");
	ok(c.nl.warnings == 2 &&
	   strstr(cap_text(&c), "unknown attribute 15") &&
	   strstr(cap_text(&c), "the module has 18 counters"),
	   "unknown: one warning for the attribute, one for the counters");
	vnl_dev_stats_free(&d);
	err = vnl_nl_parse_dev(&c.nl, nlmsg_hdr(m), &d);
	ok(!err && c.nl.warnings == 2, "unknown: each warning is printed once");
	vnl_dev_stats_free(&d);
	nlmsg_free(m);
	cap_free(&c);

	cap_init(&c);
	m = dev_reply(VNETLOOP_NUM_COUNTERS, false);
	nla_put_u32(m, VNETLOOP_A_NUM_COUNTERS, VNETLOOP_NUM_COUNTERS + 3);
	err = vnl_nl_parse_dev(&c.nl, nlmsg_hdr(m), &d);
	ok(!err && c.nl.warnings == 1 &&
	   strstr(cap_text(&c), "has 20 counters, this tool knows 17"),
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
	ok(vnl_nl_parse_dev(&c.nl, nlmsg_hdr(m), &d) == -EBADMSG &&
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
	cap_init(&c);
	ok(vnl_nl_parse_dev(&c.nl, &h, &d) == -EBADMSG,
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
	   !vnl_counter_name(VNETLOOP_NUM_COUNTERS),
	   "names: counter names follow the uAPI table");
}

/* Run fn's output into a string and compare with want. */
static char *out_of(void (*fn)(FILE *f, void *arg), void *arg)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	fn(f, arg);
	fclose(f);
	return buf;
}

static void table_plain(FILE *f, void *arg)
{
	vnl_stats_table(f, arg, false);
}

static void table_cpu(FILE *f, void *arg)
{
	vnl_stats_table(f, arg, true);
}

static void json_cpu(FILE *f, void *arg)
{
	struct vnl_dev_list l = { .devs = arg, .n = 1 };

	vnl_stats_json(f, &l, true);
}

static void json_plain(FILE *f, void *arg)
{
	struct vnl_dev_list l = { .devs = arg, .n = 1 };

	vnl_stats_json(f, &l, false);
}

static void test_output(void)
{
	struct nl_msg *m = dev_reply(2, true);	/* an older module: 2 counters */
	struct vnl_dev_stats d;
	struct cap c;
	char *s;

	cap_init(&c);
	ok(!vnl_nl_parse_dev(&c.nl, nlmsg_hdr(m), &d) && d.present == 3,
	   "older module: only the counters sent are present");
	s = out_of(table_plain, &d);
	ok(!strcmp(s, "device 7  owner pid 1234\n"
		      "    tx_packets                11\n"
		      "    tx_bytes                  22\n"),
	   "table: aligned name and value columns, present counters only");
	free(s);
	s = out_of(table_cpu, &d);
	ok(!strcmp(s, "device 7  owner pid 1234\n"
		      "    counter                   cpu0  cpu1  total\n"
		      "    tx_packets                   1    10     11\n"
		      "    tx_bytes                     2    20     22\n"),
	   "table: per-CPU columns and the total");
	free(s);
	s = out_of(json_plain, &d);
	ok(!strcmp(s, "[{\"dev_id\":7,\"owner_pid\":1234,\"tx_packets\":11,\"tx_bytes\":22}]\n"),
	   "json: dev_id, owner_pid and counter names as keys");
	free(s);
	s = out_of(json_cpu, &d);
	ok(!strcmp(s, "[{\"dev_id\":7,\"owner_pid\":1234,\"tx_packets\":11,\"tx_bytes\":22,"
		      "\"per_cpu\":[{\"cpu\":0,\"tx_packets\":1,\"tx_bytes\":2},"
		      "{\"cpu\":1,\"tx_packets\":10,\"tx_bytes\":20}],"
		      "\"total\":{\"tx_packets\":11,\"tx_bytes\":22}}]\n"),
	   "json: per_cpu array with cpu keys, and total");
	free(s);
	vnl_dev_stats_free(&d);
	nlmsg_free(m);
	cap_free(&c);
}

static void test_watch(void)
{
	struct vnl_dev_stats a = { .dev_id = 2 }, b;
	uint64_t delta[VNETLOOP_NUM_COUNTERS];
	char *buf = NULL;
	size_t len;
	FILE *f;

	a.present = 0xf;
	a.c[VNETLOOP_C_TX_PACKETS] = 100;
	a.c[VNETLOOP_C_TX_BYTES] = 6400;
	a.c[VNETLOOP_C_RX_PACKETS] = 90;
	a.c[VNETLOOP_C_RX_BYTES] = 5760;
	b = a;
	b.c[VNETLOOP_C_TX_PACKETS] += 50;
	b.c[VNETLOOP_C_TX_BYTES] += 3200;
	b.c[VNETLOOP_C_RX_PACKETS] += 40;
	b.c[VNETLOOP_C_RX_BYTES] += 2560;
	ok(vnl_stats_delta(&a, &b, delta) && delta[0] == 50 &&
	   delta[1] == 3200 && delta[2] == 40 && delta[3] == 2560 &&
	   delta[4] == 0, "watch: delta is the difference of two reads");
	ok(!vnl_stats_delta(&b, &a, delta),
	   "watch: a counter going backwards means another device");

	vnl_stats_delta(&a, &b, delta);
	f = open_memstream(&buf, &len);
	vnl_stats_interval(f, &b, delta, 0.5, "T", true);
	fclose(f);
	ok(!strcmp(buf, "{\"time\":\"T\",\"dev_id\":2,\"interval_s\":0.500000000,"
		      "\"counters\":{\"tx_packets\":150,\"tx_bytes\":9600,\"rx_packets\":130,\"rx_bytes\":8320},"
		      "\"delta\":{\"tx_packets\":50,\"tx_bytes\":3200,\"rx_packets\":40,\"rx_bytes\":2560},"
		      "\"rate\":{\"tx_frames_per_s\":100.000,\"tx_bytes_per_s\":6400.000,"
		      "\"rx_frames_per_s\":80.000,\"rx_bytes_per_s\":5120.000}}\n"),
	   "watch: JSON line with counters, deltas and rates");
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	vnl_stats_interval(f, &b, delta, 0.5, "T", false);
	fclose(f);
	ok(!strcmp(buf, "T  device 2  interval 0.500 s\n"
		      "    tx                                 100 frames/s            6400 bytes/s\n"
		      "    rx                                  80 frames/s            5120 bytes/s\n"
		      "    tx_packets                         +50\n"
		      "    tx_bytes                         +3200\n"
		      "    rx_packets                         +40\n"
		      "    rx_bytes                         +2560\n"),
	   "watch: text block with rates and signed deltas");
	free(buf);
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

static char *print_event(const struct vnl_event *ev, bool json)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	vnl_monitor_print(f, ev, "T", json);
	fclose(f);
	return buf;
}

static void test_events(void)
{
	struct vnl_event ev;
	struct nl_msg *m;
	struct cap c;
	char *s;

	cap_init(&c);
	m = event(VNETLOOP_CMD_DEV_CREATED, -1);
	ok(!vnl_nl_parse_event(&c.nl, nlmsg_hdr(m), &ev) &&
	   ev.type == VNL_EV_DEV_CREATED && ev.dev_id == 4 &&
	   ev.has_owner_pid && ev.owner_pid == 321 && !ev.has_queue,
	   "event: dev_created with id and owner pid");
	s = print_event(&ev, false);
	ok(!strcmp(s, "T  dev_created     device 4  owner pid 321\n"),
	   "event: text line");
	free(s);
	s = print_event(&ev, true);
	ok(!strcmp(s, "{\"time\":\"T\",\"event\":\"dev_created\",\"dev_id\":4,\"owner_pid\":321}\n"),
	   "event: JSON line");
	free(s);
	nlmsg_free(m);

	m = event(VNETLOOP_CMD_QUEUE_POISONED, VNETLOOP_QUEUE_TX);
	ok(!vnl_nl_parse_event(&c.nl, nlmsg_hdr(m), &ev) &&
	   ev.type == VNL_EV_QUEUE_POISONED && ev.has_queue && ev.queue == 1,
	   "event: queue_poisoned with the queue");
	s = print_event(&ev, true);
	ok(!strcmp(s, "{\"time\":\"T\",\"event\":\"queue_poisoned\",\"dev_id\":4,\"queue\":1,\"queue_name\":\"tx\"}\n"),
	   "event: poisoned JSON names the queue");
	free(s);
	nlmsg_free(m);

	m = event(VNETLOOP_CMD_DEV_DESTROYED, -1);
	ok(!vnl_nl_parse_event(&c.nl, nlmsg_hdr(m), &ev) &&
	   ev.type == VNL_EV_DEV_DESTROYED, "event: dev_destroyed");
	nlmsg_free(m);

	m = event(VNETLOOP_CMD_MAX + 1, -1);
	ok(!vnl_nl_parse_event(&c.nl, nlmsg_hdr(m), &ev) &&
	   ev.type == VNL_EV_OTHER && ev.cmd == VNETLOOP_CMD_MAX + 1,
	   "event: an unknown command is reported as other");
	nlmsg_free(m);

	m = msg_new(FAM, VNETLOOP_CMD_DEV_CREATED);
	nla_put_u32(m, VNETLOOP_A_OWNER_PID, 1);
	ok(vnl_nl_parse_event(&c.nl, nlmsg_hdr(m), &ev) == -EBADMSG,
	   "event: no device id is malformed");
	nlmsg_free(m);

	m = msg_new(GENL_ID_CTRL, CTRL_CMD_DELFAMILY);
	nla_put_string(m, CTRL_ATTR_FAMILY_NAME, "vnetloop");
	ok(!vnl_nl_parse_event(&c.nl, nlmsg_hdr(m), &ev) &&
	   ev.type == VNL_EV_FAMILY_GONE,
	   "event: the controller's DELFAMILY of vnetloop");
	nlmsg_free(m);
	m = msg_new(GENL_ID_CTRL, CTRL_CMD_DELFAMILY);
	nla_put_string(m, CTRL_ATTR_FAMILY_NAME, "vnetloopx");
	ok(!vnl_nl_parse_event(&c.nl, nlmsg_hdr(m), &ev) &&
	   ev.type == VNL_EV_OTHER, "event: another family's DELFAMILY");
	nlmsg_free(m);
	m = msg_new(FAM + 1, VNETLOOP_CMD_DEV_CREATED);
	ok(!vnl_nl_parse_event(&c.nl, nlmsg_hdr(m), &ev) &&
	   ev.type == VNL_EV_OTHER, "event: another family's message");
	nlmsg_free(m);
	ok(c.nl.warnings == 0, "event: no warnings on known events");
	cap_free(&c);
}

int main(void)
{
	printf("TAP version 13\n1..39\n");
	test_parse_full();
	test_parse_unknown();
	test_malformed();
	test_version_and_exit();
	test_output();
	test_watch();
	test_events();
	printf("# %d tests, %d failed\n", test_no, failures);
	return failures ? 1 : 0;
}
