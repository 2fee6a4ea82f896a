// SPDX-License-Identifier: GPL-2.0
/*
 * The worker is charged to its owner: it joins the cgroups of the task that
 * starts the device (cgroup v2 here: cpu, pids, cpuset) and takes its nice
 * value. The owner runs in a child cgroup of its own; the test reads the
 * worker's cgroup, its CPU time against the cgroup's cpu.stat, pids.current
 * and its allowed CPUs.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests.h"

#define RX	VNETLOOP_QUEUE_RX
#define TX	VNETLOOP_QUEUE_TX
#define QNUM	256
#define FRAME	1500u
#define ROUNDS	60u		/* of QNUM frames: worker CPU to measure */
#define NICE	7

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	return 0;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

/* The number after "key " in a flat-keyed file such as cpu.stat; -1. */
static int64_t read_key(const char *path, const char *key)
{
	char buf[4096], *p;
	size_t k = strlen(key);

	if (read_file(path, buf, sizeof(buf)))
		return -1;
	for (p = buf; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, k) && p[k] == ' ')
			return strtoll(p + k + 1, NULL, 10);
	return -1;
}

/* A task's CPU time in ns: the first field of /proc/PID/schedstat. */
static int64_t task_cpu_ns(pid_t pid)
{
	char path[64], buf[128];

	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	if (read_file(path, buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 10);
}

/* The pid of the kthread "vnetloop-ID", or 0. */
static pid_t worker_pid(uint32_t id)
{
	char want[32], path[300], comm[64];
	struct dirent *d;
	pid_t pid = 0;
	DIR *dir;

	snprintf(want, sizeof(want), "vnetloop-%u\n", id);
	dir = opendir("/proc");
	if (!dir)
		return 0;
	while (!pid && (d = readdir(dir))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		if (!read_file(path, comm, sizeof(comm)) && !strcmp(comm, want))
			pid = atoi(d->d_name);
	}
	closedir(dir);
	return pid;
}

FIXTURE(cgroup) {
	char root[64];		/* the cgroup2 mount */
	char cg[128];		/* the owner's cgroup */
	bool mounted;
	pid_t owner;
	int cmd[2], ack[2];	/* test -> owner, owner -> test */
};

/* The owner: its own device, traffic on demand, until killed. */
static void owner_main(int cmd, int ack)
{
	uint8_t *tx[QNUM], *rx[QNUM];
	unsigned int i, r;
	uint32_t msg;
	struct vg g;

	if (vg_open(&g) || vg_setup(&g, VG_FEATURES_EVENT_IDX, QNUM, QNUM))
		_exit(20);
	for (i = 0; i < QNUM; i++) {
		tx[i] = vg_alloc(&g, VNL_NET_HDR_LEN + FRAME);
		rx[i] = vg_alloc(&g, VNL_NET_HDR_LEN + FRAME);
		if (!tx[i] || !rx[i])
			_exit(21);
	}
	msg = g.dev_id;
	if (write(ack, &msg, sizeof(msg)) != sizeof(msg))
		_exit(22);
	while (read(cmd, &msg, sizeof(msg)) == sizeof(msg)) {
		if (msg == 1) {		/* traffic */
			for (r = 0; r < ROUNDS; r++) {
				for (i = 0; i < QNUM; i++) {
					vg_post(&g, RX, i, rx[i],
						VNL_NET_HDR_LEN + FRAME,
						VRING_DESC_F_WRITE);
					vg_post(&g, TX, i, tx[i],
						VNL_NET_HDR_LEN + FRAME, 0);
				}
				vg_arm(&g);
				if (vg_kick(&g) ||
				    vg_wait_used(&g, RX, QNUM, VNL_TIMEOUT_MS))
					_exit(23);
				for (i = 0; i < QNUM; i++) {
					struct vg_used_elem e;

					vg_used_pop(&g, RX, &e);
					vg_used_pop(&g, TX, &e);
				}
			}
			msg = 0;
		} else if (msg == 2) {	/* fork: 0 if it could, else errno */
			pid_t p = fork();

			if (p == 0)
				_exit(0);
			msg = p < 0 ? (uint32_t)errno : 0;
			if (p > 0)
				waitpid(p, NULL, 0);
		}
		if (write(ack, &msg, sizeof(msg)) != sizeof(msg))
			_exit(24);
	}
	_exit(0);
}

/* Ask the owner to do cmd; its answer, or -1. */
static int64_t owner_do(FIXTURE_DATA(cgroup) *self, uint32_t cmd)
{
	uint32_t ans;

	if (write(self->cmd[1], &cmd, sizeof(cmd)) != sizeof(cmd) ||
	    read(self->ack[0], &ans, sizeof(ans)) != sizeof(ans))
		return -1;
	return ans;
}

FIXTURE_SETUP(cgroup)
{
	char path[192], buf[256];
	int ret;

	/* cgroup v2: where it is mounted, else our own mount. */
	strcpy(self->root, "/sys/fs/cgroup");
	snprintf(path, sizeof(path), "%s/cgroup.controllers", self->root);
	if (access(path, F_OK)) {
		strcpy(self->root, "/tmp/vnl-cgroup2");
		mkdir(self->root, 0755);
		ASSERT_EQ(0, mount("cgroup2", self->root, "cgroup2", 0, NULL))
			TH_LOG("mount cgroup2: %s", strerror(errno));
		self->mounted = true;
	}
	snprintf(path, sizeof(path), "%s/cgroup.controllers", self->root);
	ASSERT_EQ(0, read_file(path, buf, sizeof(buf)));
	ASSERT_NE(NULL, strstr(buf, "cpu ")) TH_LOG("controllers: %s", buf);
	ASSERT_NE(NULL, strstr(buf, "pids")) TH_LOG("controllers: %s", buf);
	ASSERT_NE(NULL, strstr(buf, "cpuset")) TH_LOG("controllers: %s", buf);
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", self->root);
	ret = write_file(path, "+cpu +pids +cpuset");
	ASSERT_EQ(0, ret) TH_LOG("enable cpu, pids, cpuset: %s", strerror(-ret));

	snprintf(self->cg, sizeof(self->cg), "%s/vnl-owner-%d", self->root,
		 getpid());
	ASSERT_EQ(0, mkdir(self->cg, 0755)) TH_LOG("mkdir %s: %s", self->cg,
						    strerror(errno));
	snprintf(path, sizeof(path), "%s/cpuset.cpus", self->cg);
	ASSERT_EQ(0, write_file(path, "1"));

	ASSERT_EQ(0, pipe2(self->cmd, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(self->ack, O_CLOEXEC));
	self->owner = fork();
	ASSERT_LE(0, self->owner);
	if (self->owner == 0) {
		char me[16];

		snprintf(path, sizeof(path), "%s/cgroup.procs", self->cg);
		snprintf(me, sizeof(me), "%d", getpid());
		if (write_file(path, me) || setpriority(PRIO_PROCESS, 0, NICE))
			_exit(19);
		owner_main(self->cmd[0], self->ack[1]);
	}
}

FIXTURE_TEARDOWN(cgroup)
{
	int i;

	if (self->owner > 0) {
		kill(self->owner, SIGKILL);
		waitpid(self->owner, NULL, 0);
	}
	close(self->cmd[0]);
	close(self->cmd[1]);
	close(self->ack[0]);
	close(self->ack[1]);
	/* The worker leaves the cgroup as it exits: allow it a moment. */
	for (i = 0; i < 200 && rmdir(self->cg) && errno == EBUSY; i++)
		vg_sleep_ms(5);
	if (self->mounted)
		umount(self->root);
}

TEST_F(cgroup, worker_charged_to_owner)
{
	int64_t cg_before, cg_after, own_before, own_after, wk_before, wk_after;
	int64_t own, wk, cg, nice_v;
	char path[192], buf[1024], want[160], *p;
	uint32_t id;
	pid_t wpid;
	int i;

	ASSERT_EQ(sizeof(id), read(self->ack[0], &id, sizeof(id)))
		TH_LOG("the owner did not start its device");
	wpid = worker_pid(id);
	ASSERT_LT(0, wpid) TH_LOG("no kthread vnetloop-%u", id);

	/* Its cgroup is the owner's. */
	snprintf(path, sizeof(path), "/proc/%d/cgroup", wpid);
	ASSERT_EQ(0, read_file(path, buf, sizeof(buf)));
	snprintf(want, sizeof(want), "0::%s\n", self->cg + strlen(self->root));
	EXPECT_EQ(0, strcmp(buf, want)) TH_LOG("worker cgroup %s, owner's %s",
					       buf, want);

	/* Its nice value is the owner's, its CPUs the cgroup's cpuset. */
	snprintf(path, sizeof(path), "/proc/%d/stat", wpid);
	ASSERT_EQ(0, read_file(path, buf, sizeof(buf)));
	p = strrchr(buf, ')');
	ASSERT_NE(NULL, p);
	/* Fields after comm: state is 3, nice is 19. */
	for (i = 3; i <= 19 && p; i++)
		p = strchr(p + 1, ' ');
	ASSERT_NE(NULL, p);
	nice_v = strtoll(p + 1, NULL, 10);
	EXPECT_EQ(NICE, nice_v);
	snprintf(path, sizeof(path), "/proc/%d/status", wpid);
	ASSERT_EQ(0, read_file(path, buf, sizeof(buf)));
	p = strstr(buf, "Cpus_allowed_list:");
	ASSERT_NE(NULL, p);
	EXPECT_EQ(0, strncmp(p, "Cpus_allowed_list:\t1\n", 21))
		TH_LOG("worker %.40s", p);

	/* pids: the owner and its worker; the worker counts against max. */
	snprintf(path, sizeof(path), "%s/pids.current", self->cg);
	ASSERT_EQ(0, read_file(path, buf, sizeof(buf)));
	EXPECT_EQ(2, atoi(buf)) TH_LOG("pids.current %s", buf);
	snprintf(path, sizeof(path), "%s/pids.max", self->cg);
	ASSERT_EQ(0, write_file(path, "2"));
	EXPECT_EQ(EAGAIN, owner_do(self, 2))
		TH_LOG("with pids.max 2 the owner could still fork");
	ASSERT_EQ(0, write_file(path, "max"));
	EXPECT_EQ(0, owner_do(self, 2));

	/* CPU: what the cgroup gained covers the worker's time. */
	snprintf(path, sizeof(path), "%s/cpu.stat", self->cg);
	cg_before = read_key(path, "usage_usec");
	own_before = task_cpu_ns(self->owner);
	wk_before = task_cpu_ns(wpid);
	ASSERT_LE(0, cg_before);
	ASSERT_EQ(0, owner_do(self, 1)) TH_LOG("the owner's traffic failed");
	cg_after = read_key(path, "usage_usec");
	own_after = task_cpu_ns(self->owner);
	wk_after = task_cpu_ns(wpid);
	own = own_after - own_before;
	wk = wk_after - wk_before;
	cg = (cg_after - cg_before) * 1000;
	TH_LOG("CPU ms: cgroup %.1f, owner %.1f, worker %.1f", cg / 1e6,
	       own / 1e6, wk / 1e6);
	ASSERT_LT(1000000, wk) TH_LOG("the worker ran less than 1 ms");
	/* Slack for the schedstat and cpu.stat reads not being atomic. */
	EXPECT_LE(own + wk * 9 / 10, cg)
		TH_LOG("the cgroup was not charged the worker's CPU time");
}

VNL_TEST_MAIN
