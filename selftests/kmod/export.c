// SPDX-License-Identifier: GPL-2.0
/*
 * The counters as exported: generic netlink and debugfs show the
 * same numbers, per-CPU values add up to the totals, the dump lists every
 * device, an unprivileged reader sees only its own devices, OWNER_PID is 0
 * once the owner is gone, and the events group reports device creation,
 * destruction and poisoning.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests.h"

#define RX	VNETLOOP_QUEUE_RX
#define TX	VNETLOOP_QUEUE_TX

FIXTURE(export) {
	struct vg g;
	vnl_cnt_t before;
	vnl_cnt_t want;		/* what the traffic adds */
	uint64_t irqs;		/* interrupts read from the call eventfd */
};

FIXTURE_SETUP(export)
{
	vnl_up(_metadata, &self->g, VG_FEATURES_EVENT_IDX, 64, 64);
	vnl_read(_metadata, &self->g, self->before);
}

FIXTURE_TEARDOWN(export)
{
	vg_close(&self->g);
}

/*
 * A mix in one kick: five frames delivered, two with no RX buffer left,
 * one invalid chain and one oversize frame. Sets self->want.
 */
static void traffic(struct __test_metadata *_metadata,
		    FIXTURE_DATA(export) *self)
{
	struct vg *g = &self->g;
	vnl_cnt_t after;
	uint8_t *tx, *rx;
	uint16_t i;

	tx = vg_alloc(g, VNL_NET_HDR_LEN + VNL_MAX_FRAME_SIZE + 1);
	rx = vg_alloc(g, 5 * 1024);
	ASSERT_NE(NULL, tx);
	ASSERT_NE(NULL, rx);
	for (i = 0; i < 5; i++)
		vg_post(g, RX, i, rx + i * 1024, 1024, VRING_DESC_F_WRITE);
	for (i = 0; i < 7; i++)
		vg_post(g, TX, i, tx, VNL_NET_HDR_LEN + 100 * (i + 1), 0);
	vg_post(g, TX, 7, tx, VNL_NET_HDR_LEN, VRING_DESC_F_WRITE);
	vg_post(g, TX, 8, tx, VNL_NET_HDR_LEN + VNL_MAX_FRAME_SIZE + 1, 0);
	ASSERT_EQ(0, vg_kick(g));
	vnl_expect_irq(_metadata, g);
	self->irqs = 1;

	memset(self->want, 0, sizeof(self->want));
	self->want[VNETLOOP_C_TX_PACKETS] = 7;
	self->want[VNETLOOP_C_TX_BYTES] = 100 * (1 + 2 + 3 + 4 + 5 + 6 + 7);
	self->want[VNETLOOP_C_RX_PACKETS] = 5;
	self->want[VNETLOOP_C_RX_BYTES] = 100 * (1 + 2 + 3 + 4 + 5);
	self->want[VNETLOOP_C_TX_DROPPED_NO_RX_BUFFER] = 2;
	self->want[VNETLOOP_C_TX_CHAIN_INVALID] = 1;
	self->want[VNETLOOP_C_TX_OVERSIZE_DROPPED] = 1;
	vnl_expect_deltas(_metadata, g, self->before, self->want, after);
	ASSERT_EQ(0, vg_wait_used(g, TX, 9, VNL_TIMEOUT_MS));
	/* The extra counter follows the signal we already saw. */
	for (i = 0; i < 1000; i++) {
		vnl_read(_metadata, g, after);
		if (after[VNETLOOP_C_INTERRUPTS] -
		    self->before[VNETLOOP_C_INTERRUPTS] >= self->irqs)
			break;
		vg_sleep_ms(5);
	}
}

/* Netlink totals, per-CPU nests, and the module's extra counters. */
TEST_F(export, netlink)
{
	struct vnl_nl_dev d;
	vnl_cnt_t total;
	int cpus, i, ret;

	traffic(_metadata, self);
	cpus = vnl_possible_cpus();
	ASSERT_LT(0, cpus);

	ret = vnl_nl_get(self->g.dev_id, true, &d);
	ASSERT_EQ(0, ret) TH_LOG("netlink GET: %s", strerror(-ret));
	EXPECT_EQ(self->g.dev_id, d.dev_id);
	EXPECT_TRUE(d.has_owner_pid);
	EXPECT_EQ((uint32_t)getpid(), d.owner_pid);
	EXPECT_TRUE(d.has_num_counters);
	EXPECT_EQ(VNETLOOP_NUM_COUNTERS, d.num_counters);
	EXPECT_EQ((unsigned int)cpus, d.ncpu) TH_LOG("one CPU_STATS nest per possible CPU");
	EXPECT_EQ(0, d.cpu_incomplete);
	EXPECT_EQ(0, d.cpu_dup);
	for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++) {
		EXPECT_TRUE(d.total_seen[i]) TH_LOG("%s missing",
						    vnl_counter_names[i]);
		EXPECT_EQ(d.total[i], d.cpu_sum[i])
			TH_LOG("%s: total %" PRIu64 ", CPUs add up to %"
			       PRIu64, vnl_counter_names[i], d.total[i],
			       d.cpu_sum[i]);
	}
	for (i = 0; i < VNETLOOP_NUM_SPEC_COUNTERS; i++) {
		EXPECT_EQ(self->want[i], d.total[i] - self->before[i])
			TH_LOG("%s", vnl_counter_names[i]);
	}

	/* One kick written, one interrupt read (the worker is idle now). */
	EXPECT_EQ(1, d.total[VNETLOOP_C_KICKS] -
		     self->before[VNETLOOP_C_KICKS]);
	EXPECT_EQ(self->irqs, d.total[VNETLOOP_C_INTERRUPTS] -
			      self->before[VNETLOOP_C_INTERRUPTS]);
	EXPECT_LE(1, d.total[VNETLOOP_C_WORKER_RUNS] -
		     self->before[VNETLOOP_C_WORKER_RUNS]);
	/* Those drains moved frames: they took time (ns, not a count). */
	EXPECT_LT(0, d.total[VNETLOOP_C_DRAIN_NS] -
		     self->before[VNETLOOP_C_DRAIN_NS]);

	/* A GET without PER_CPU has the same totals and no nests. */
	vnl_read(_metadata, &self->g, total);
	for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++) {
		EXPECT_EQ(d.total[i], total[i])
			TH_LOG("%s", vnl_counter_names[i]);
	}
	ASSERT_EQ(0, vnl_nl_get(self->g.dev_id, false, &d));
	EXPECT_EQ(0, d.ncpu);
}

/* debugfs counters: header, one line per possible CPU, sums, = netlink. */
TEST_F(export, debugfs_agrees)
{
	const char *why = vnl_debugfs_missing();
	struct vnl_dbg_dev dbg;
	struct vnl_nl_dev nl;
	int cpus, i, ret;

	if (why)
		SKIP(return, "%s", why);
	traffic(_metadata, self);
	cpus = vnl_possible_cpus();
	ASSERT_LT(0, cpus);

	ret = vnl_dbg_read(self->g.dev_id, &dbg);
	ASSERT_EQ(0, ret) TH_LOG("reading debugfs counters of device %u: %s",
				 self->g.dev_id, strerror(-ret));
	ASSERT_EQ(0, vnl_nl_get(self->g.dev_id, true, &nl));
	EXPECT_TRUE(dbg.header_ok)
		TH_LOG("header is not \"cpu\" and the counter names in order");
	EXPECT_EQ(0, dbg.bad_lines);
	EXPECT_TRUE(dbg.has_total);
	EXPECT_EQ((unsigned int)cpus, dbg.ncpu);
	EXPECT_EQ(0, dbg.cpu_dup);
	for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++) {
		EXPECT_EQ(dbg.total[i], dbg.cpu_sum[i])
			TH_LOG("debugfs %s: total != sum of CPU lines",
			       vnl_counter_names[i]);
		EXPECT_EQ(nl.total[i], dbg.total[i])
			TH_LOG("%s: netlink %" PRIu64 ", debugfs %" PRIu64,
			       vnl_counter_names[i], nl.total[i],
			       dbg.total[i]);
		EXPECT_EQ(nl.cpu_sum[i], dbg.cpu_sum[i]);
	}
	for (i = 0; i < VNETLOOP_NUM_SPEC_COUNTERS; i++) {
		EXPECT_EQ(self->want[i], dbg.total[i] - self->before[i])
			TH_LOG("%s", vnl_counter_names[i]);
	}
}

/* Both debugfs files exist, are read-only for everyone, and read. */
TEST_F(export, debugfs_files)
{
	static const char *const files[] = { "counters", "state" };
	const char *why = vnl_debugfs_missing();
	char path[128], buf[4096];
	struct stat st;
	unsigned int i;
	ssize_t n;
	int fd;

	if (why)
		SKIP(return, "%s", why);
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), VNL_DEBUGFS_DIR "/%u/%s",
			 self->g.dev_id, files[i]);
		ASSERT_EQ(0, stat(path, &st)) TH_LOG("%s: %s", path,
						     strerror(errno));
		EXPECT_TRUE(S_ISREG(st.st_mode));
		EXPECT_EQ(0444, st.st_mode & 07777) TH_LOG("%s mode %o", path,
							   st.st_mode & 07777);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, fd);
		n = read(fd, buf, sizeof(buf));
		EXPECT_LT(0, n) TH_LOG("%s is empty", path);
		close(fd);
	}
}

/* The dump lists every open device, and only those. */
TEST_F(export, dump)
{
	uint32_t ids[256], second;
	struct vnl_nl_dev d;
	struct vg other;
	size_t n;

	ASSERT_EQ(0, vg_open(&other));
	second = other.dev_id;
	ASSERT_EQ(0, vnl_nl_dump_ids(ids, ARRAY_SIZE(ids), &n));
	EXPECT_TRUE(vnl_id_listed(ids, n, self->g.dev_id));
	EXPECT_TRUE(vnl_id_listed(ids, n, second));

	/* Unconfigured: no owner yet, every counter zero. */
	ASSERT_EQ(0, vnl_nl_get(second, false, &d));
	EXPECT_EQ(0, d.owner_pid);
	EXPECT_EQ(0, d.total[VNETLOOP_C_TX_PACKETS]);

	vg_close(&other);
	ASSERT_EQ(0, vnl_nl_dump_ids(ids, ARRAY_SIZE(ids), &n));
	EXPECT_TRUE(vnl_id_listed(ids, n, self->g.dev_id));
	EXPECT_FALSE(vnl_id_listed(ids, n, second));
	EXPECT_EQ(-ENODEV, vnl_nl_get(second, false, &d));
}

/*
 * Who sees what: a process without CAP_NET_ADMIN sees only the devices
 * opened under its own uid (another user's is "no such device" and absent
 * from dumps), may not join the events group and may not change a budget.
 * /dev/vnetloop is opened up to the test user for the while.
 */
TEST_F(export, unprivileged)
{
	uint32_t id = self->g.dev_id;
	uint32_t ids[64];
	struct stat st;
	int status;
	pid_t pid;

	traffic(_metadata, self);
	if (geteuid() != 0)
		SKIP(return, "needs root, to become an unprivileged user");
	ASSERT_EQ(0, stat(VG_DEV_PATH, &st));
	ASSERT_EQ(0, chmod(VG_DEV_PATH, 0666));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct vnl_events *ev;
		struct vnl_nl_dev d;
		vnl_cnt_t c;
		struct vg g;
		size_t n;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		if (vnl_counters(id, c) != -ENODEV)
			_exit(11);
		if (vnl_nl_dump_ids(ids, 64, &n) || vnl_id_listed(ids, n, id))
			_exit(12);
		if (vnl_events_open(&ev) != -EPERM)
			_exit(13);
		if (vnl_nl_set_budget(id, 64, 0) != -EPERM)
			_exit(14);
		/* Its own device it sees. */
		if (vg_open(&g))
			_exit(15);
		if (vnl_nl_get(g.dev_id, false, &d) || !d.has_owner_pid ||
		    d.owner_pid)
			_exit(16);
		if (vnl_nl_dump_ids(ids, 64, &n) ||
		    !vnl_id_listed(ids, n, g.dev_id))
			_exit(17);
		vg_close(&g);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, chmod(VG_DEV_PATH, st.st_mode & 07777));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("10 setuid, 11 GET of root's device not ENODEV, 12 the dump listed it, 13 joined events, 14 SET_BUDGET not refused, 15 open, 16 GET of its own, 17 its own not in the dump");
	/* As root it works, for existing devices and sane values. */
	EXPECT_EQ(0, vnl_nl_set_budget(id, 64, 0));
	EXPECT_EQ(-ENODEV, vnl_nl_set_budget(UINT32_MAX - 1, 64, 0));
	EXPECT_NE(0, vnl_nl_set_budget(id, UINT32_MAX, 0));
}

/*
 * OWNER_PID names the owner while its thread group lives and is 0 once it
 * is gone, before its number can name an unrelated process.
 */
TEST(owner_pid_gone)
{
	int up[2], down[2], status;
	struct vnl_nl_dev d;
	struct vg g;
	char c = 0;
	pid_t pid;

	ASSERT_EQ(0, vg_open(&g));
	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		/* VHOST_SET_OWNER binds this process as owner. */
		if (vg_set_owner(&g) || write(up[1], &c, 1) != 1)
			_exit(1);
		if (read(down[0], &c, 1) < 0)
			_exit(2);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	ASSERT_EQ(1, read(up[0], &c, 1)) TH_LOG("the child could not bind");
	ASSERT_EQ(0, vnl_nl_get(g.dev_id, false, &d));
	EXPECT_EQ((uint32_t)pid, d.owner_pid);
	close(down[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	close(up[0]);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_EQ(0, vnl_nl_get(g.dev_id, false, &d));
	EXPECT_TRUE(d.has_owner_pid);
	EXPECT_EQ(0, d.owner_pid);
	/* Still bound to the dead owner's address space. */
	EXPECT_EQ(-EPERM, vg_set_mem(&g));
	EXPECT_EQ(-EBUSY, vg_set_owner(&g));
	vg_close(&g);
}

/* Creation, poisoning and destruction are announced on "events". */
TEST(events)
{
	struct vnl_events *ev;
	struct vnl_event e;
	uint32_t id;
	struct vg g;
	int ret;

	ret = vnl_events_open(&ev);
	ASSERT_EQ(0, ret) TH_LOG("joining the events group: %s",
				 strerror(-ret));
	ASSERT_EQ(0, vg_open(&g));
	id = g.dev_id;

	ASSERT_EQ(0, vnl_events_next(ev, VNL_TIMEOUT_MS, &e));
	EXPECT_EQ(VNETLOOP_CMD_DEV_CREATED, e.cmd);
	EXPECT_EQ(id, e.dev_id);
	EXPECT_TRUE(e.has_pid);
	EXPECT_EQ((uint32_t)getpid(), e.pid);

	/* Poison TX. */
	ASSERT_EQ(0, vg_setup(&g, VG_FEATURES_EVENT_IDX, 64, 64));
	vg_avail_set_idx(&g, TX, 65);
	ASSERT_EQ(0, vg_kick(&g));
	ASSERT_EQ(0, vnl_events_next(ev, VNL_TIMEOUT_MS, &e));
	EXPECT_EQ(VNETLOOP_CMD_QUEUE_POISONED, e.cmd);
	EXPECT_EQ(id, e.dev_id);
	EXPECT_TRUE(e.has_queue);
	EXPECT_EQ(TX, e.queue);

	vg_close(&g);
	ASSERT_EQ(0, vnl_events_next(ev, VNL_TIMEOUT_MS, &e));
	EXPECT_EQ(VNETLOOP_CMD_DEV_DESTROYED, e.cmd);
	EXPECT_EQ(id, e.dev_id);
	vnl_events_close(ev);
}

VNL_TEST_MAIN
