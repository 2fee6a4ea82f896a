// SPDX-License-Identifier: GPL-2.0
/*
 * Multiqueue: a device opened with max_queue_pairs = 4 offers MQ and
 * CTRL_VQ and 9 virtqueues (RX 2i, TX 2i + 1, the control queue 8); each
 * pair has its own worker, kick and call eventfds; a frame sent on TX i
 * comes back on RX i only; the control queue's VQ_PAIRS_SET sets the pairs
 * in use, and the kicks of the others wait for it (SPEC 4a).
 *
 * The test plays the driver with its own rings (the vg helpers have one
 * pair), in the vg guest's memory.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests.h"
#include "user/nl/nl.h"

#define PARAM		"/sys/module/vnetloop/parameters/max_queue_pairs"
#define PAIRS		4
#define NVQS		(2 * PAIRS + 1)
#define CVQ		(2 * PAIRS)	/* the control queue */
#define RING		64
#define FRAME_LEN	200
#define MQ_FEATURES	(VG_FEATURES_EVENT_IDX | \
			 (1ULL << VIRTIO_NET_F_CTRL_VQ) | \
			 (1ULL << VIRTIO_NET_F_MQ))

/* Write s to path; 0 or -errno. */
static int mq_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int param_write(const char *v)
{
	return mq_write(PARAM, v);
}

static int param_read(void)
{
	char buf[16] = "";
	int fd = open(PARAM, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoi(buf) : -EIO;
}

/* The driver side of every virtqueue, with its own eventfds. */
struct mq {
	struct vg g;
	struct virtq q[NVQS];
	int kick[NVQS];
	int call[NVQS];
	uint8_t *rx[NVQS][RING];	/* receive buffers of the RX queues */
	uint8_t *ctrl_buf;
	uint16_t ctrl_head;
};

static int mq_eventfd(void)
{
	return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

static int mq_vring(struct mq *m, unsigned int i)
{
	struct vg *g = &m->g;
	struct vhost_vring_state s = { .index = i, .num = RING };
	struct vhost_vring_file f = { .index = i };
	uint8_t *p = vg_alloc(g, VIRTQ_RING_BYTES + VIRTQ_PAGE);
	int ret;

	if (!p)
		return -ENOMEM;
	/* virtq_init_pages() wants page-aligned parts. */
	p = (uint8_t *)(((uintptr_t)p + VIRTQ_PAGE - 1) &
			~(uintptr_t)(VIRTQ_PAGE - 1));
	ret = vg_ioctl(g, VHOST_SET_VRING_NUM, &s);
	if (!ret)
		ret = vg_set_vring_addr(g, i, vg_gpa(p), vg_gpa(p + VIRTQ_PAGE),
					vg_gpa(p + 2 * VIRTQ_PAGE));
	f.fd = m->kick[i];
	if (!ret)
		ret = vg_ioctl(g, VHOST_SET_VRING_KICK, &f);
	if (!ret)
		ret = vg_set_call(g, i, m->call[i]);
	s.num = 1;
	if (!ret)
		ret = vg_ioctl(g, VHOST_VDPA_SET_VRING_ENABLE, &s);
	if (!ret)
		virtq_init_pages(&m->q[i], RING, p);
	return ret;
}

/* Every virtqueue set up with features, RX buffers posted, DRIVER_OK. */
static int mq_start(struct mq *m, uint64_t features, unsigned int nvqs)
{
	unsigned int i, b;
	int ret;

	ret = vg_negotiate(&m->g, features);
	for (i = 0; i < nvqs && !ret; i++)
		ret = mq_vring(m, i);
	if (!ret)
		ret = vg_set_mem(&m->g);
	for (i = 0; i < nvqs && !ret; i += 2) {
		if (i == nvqs - 1)	/* the control queue */
			break;
		for (b = 0; b < RING / 2; b++) {
			m->rx[i][b] = vg_alloc(&m->g, 2048);
			if (!m->rx[i][b])
				return -ENOMEM;
			virtq_set_desc(&m->q[i], b, vg_gpa(m->rx[i][b]), 2048,
				       VRING_DESC_F_WRITE, 0);
			virtq_avail_add(&m->q[i], b);
		}
		virtq_publish(&m->q[i]);
		virtq_set_used_event(&m->q[i], 0);
	}
	m->ctrl_buf = vg_alloc(&m->g, 64);
	if (!ret && !m->ctrl_buf)
		ret = -ENOMEM;
	return ret ? ret : vg_start(&m->g);
}

static int mq_open(struct mq *m)
{
	unsigned int i;
	int ret;

	for (i = 0; i < NVQS; i++) {
		m->kick[i] = mq_eventfd();
		m->call[i] = mq_eventfd();
		if (m->kick[i] < 0 || m->call[i] < 0)
			return -errno;
	}
	ret = vg_open(&m->g);
	return ret ? ret : vg_set_owner(&m->g);
}

static void mq_close(struct mq *m)
{
	unsigned int i;

	vg_close(&m->g);
	for (i = 0; i < NVQS; i++) {
		if (m->kick[i] >= 0)
			close(m->kick[i]);
		if (m->call[i] >= 0)
			close(m->call[i]);
	}
}

static void mq_kick(struct mq *m, unsigned int i)
{
	uint64_t one = 1;

	if (write(m->kick[i], &one, sizeof(one)) != sizeof(one))
		abort();
}

/* Send one frame on pair p's TX queue, its payload marked with seed. */
static void mq_send(struct mq *m, unsigned int p, uint32_t seed)
{
	struct virtq *q = &m->q[2 * p + 1];
	uint8_t *buf = vg_alloc(&m->g, VNL_NET_HDR_LEN + FRAME_LEN);
	struct vg_seg seg;

	if (!buf)
		abort();
	vg_fill(buf + VNL_NET_HDR_LEN, FRAME_LEN, seed);
	seg = (struct vg_seg){ vg_gpa(buf), VNL_NET_HDR_LEN + FRAME_LEN, 0 };
	if (virtq_add(q, &seg, 1) < 0)
		abort();
	virtq_publish(q);
	mq_kick(m, 2 * p + 1);
}

/* Wait until queue i has count used entries; 0 or -ETIMEDOUT. */
static int mq_wait_used(struct mq *m, unsigned int i, uint16_t count)
{
	int waited;

	for (waited = 0; waited < VNL_TIMEOUT_MS; waited++) {
		if (virtq_used_idx(&m->q[i]) >= count)
			return 0;
		vg_sleep_ms(1);
	}
	return -ETIMEDOUT;
}

/*
 * One control command of dlen data bytes on virtqueue i; returns the ack
 * byte the device wrote, or -errno. ack_ro makes the ack read-only
 * (malformed).
 */
static int mq_ctrl_at(struct mq *m, unsigned int i, uint8_t class,
		      uint8_t cmd, const void *data, uint32_t dlen, bool ack_ro)
{
	struct virtq *q = &m->q[i];
	uint16_t before = virtq_used_idx(q);
	uint8_t *b = m->ctrl_buf;
	struct vg_seg segs[2];

	b[0] = class;
	b[1] = cmd;
	if (dlen)
		memcpy(b + 2, data, dlen);
	b[40] = 0xee;
	segs[0] = (struct vg_seg){ vg_gpa(b), 2 + dlen, 0 };
	segs[1] = (struct vg_seg){ vg_gpa(b + 40), 1,
				   ack_ro ? 0 : VRING_DESC_F_WRITE };
	if (virtq_add(q, segs, 2) < 0)
		return -ENOSPC;
	virtq_publish(q);
	mq_kick(m, i);
	if (mq_wait_used(m, i, before + 1))
		return -ETIMEDOUT;
	return b[40];
}

static int mq_ctrl(struct mq *m, uint8_t class, uint8_t cmd, const void *data,
		   uint32_t dlen, bool ack_ro)
{
	return mq_ctrl_at(m, CVQ, class, cmd, data, dlen, ack_ro);
}

static int mq_set_pairs(struct mq *m, uint16_t n)
{
	uint8_t le[2] = { n & 0xff, n >> 8 };

	return mq_ctrl(m, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
		       le, sizeof(le), false);
}

/* The first bytes of a small file, NUL-terminated; "" if unreadable. */
static void mq_slurp(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t len = fd < 0 ? -1 : read(fd, buf, size - 1);

	buf[len > 0 ? len : 0] = 0;
	if (fd >= 0)
		close(fd);
}

/*
 * Workers of device id: how many kthreads are named vnetloop-<id>[-q<n>];
 * *foreign: how many of them are not in this process's cgroups (each
 * joins its starter's, as vhost's does).
 */
static int mq_workers(uint32_t id, int *foreign)
{
	char path[300], comm[32], a[24], b[24], cg[512], mine[512];
	struct dirent *d;
	int n = 0, fd;
	DIR *dir = opendir("/proc");
	ssize_t len;

	if (!dir)
		return -errno;
	*foreign = 0;
	mq_slurp("/proc/self/cgroup", mine, sizeof(mine));
	snprintf(a, sizeof(a), "vnetloop-%u\n", id);
	snprintf(b, sizeof(b), "vnetloop-%u-q", id);
	while ((d = readdir(dir))) {
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		if (len <= 0)
			continue;
		comm[len] = 0;
		if (strcmp(comm, a) && strncmp(comm, b, strlen(b)))
			continue;
		n++;
		snprintf(path, sizeof(path), "/proc/%s/cgroup", d->d_name);
		mq_slurp(path, cg, sizeof(cg));
		*foreign += strcmp(cg, mine) != 0;
	}
	closedir(dir);
	return n;
}

/*
 * Each pair's tx_packets over netlink (CMD_GET with PER_QUEUE) into nl[],
 * and from debugfs vnetloop/<id>/queues into fs[]; the pairs netlink
 * reports, or -errno.
 */
static int mq_pair_tx(uint32_t id, uint64_t *nl_tx, uint64_t *fs_tx)
{
	char path[96], line[1024];
	struct vnl_dev_stats d;
	struct vnl_nl nl;
	unsigned int i, pair;
	FILE *f;
	int ret;

	vnl_nl_init(&nl, stderr);
	ret = vnl_nl_get_dev_once(&nl, id, VNL_NL_PER_QUEUE, &d);
	if (ret)
		return ret;
	for (i = 0; i < d.nqueues && i < PAIRS; i++)
		nl_tx[d.queues[i].key % PAIRS] =
			d.queues[i].c[VNETLOOP_C_TX_PACKETS];
	ret = d.has_queue_pairs && d.nqueues == d.queue_pairs ?
	      (int)d.nqueues : -EBADMSG;
	vnl_dev_stats_free(&d);

	snprintf(path, sizeof(path), VNL_DEBUGFS_DIR "/%u/queues", id);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* "pair tx_packets ..." then "<pair> <tx_packets> ..." and "total". */
	while (fgets(line, sizeof(line), f)) {
		unsigned long long tx;

		if (sscanf(line, "%u %llu", &pair, &tx) == 2 && pair < PAIRS)
			fs_tx[pair] = tx;
	}
	fclose(f);
	return ret;
}

FIXTURE(mq) {
	struct mq m;
	int old_param;
};

FIXTURE_SETUP(mq)
{
	char v[8];
	unsigned int i;

	for (i = 0; i < NVQS; i++)
		self->m.kick[i] = self->m.call[i] = -1;
	self->m.g.fd = -1;
	self->old_param = param_read();
	ASSERT_LT(0, self->old_param) TH_LOG("%s: %s", PARAM,
					      strerror(-self->old_param));
	snprintf(v, sizeof(v), "%d", PAIRS);
	ASSERT_EQ(0, param_write(v));
	ASSERT_EQ(0, mq_open(&self->m));
}

FIXTURE_TEARDOWN(mq)
{
	char v[8];

	mq_close(&self->m);
	snprintf(v, sizeof(v), "%d", self->old_param);
	if (self->old_param > 0)
		param_write(v);
}

/* What the device says of itself, and the parameter's range. */
TEST_F(mq, identity)
{
	struct vg *g = &self->m.g;
	union vg_config cfg = { .c = { .off = 0,
		.len = sizeof(struct virtio_net_config) } };
	struct virtio_net_config *nc = (void *)cfg.c.buf;
	uint64_t f = 0;
	uint32_t n = 0;

	ASSERT_EQ(0, vg_ioctl(g, VHOST_GET_FEATURES, &f));
	EXPECT_EQ(MQ_FEATURES & ~VG_FEATURES_EVENT_IDX,
		  f & (MQ_FEATURES & ~VG_FEATURES_EVENT_IDX));
	ASSERT_EQ(0, vg_ioctl(g, VHOST_VDPA_GET_VQS_COUNT, &n));
	EXPECT_EQ(NVQS, n);
	ASSERT_EQ(0, vg_ioctl(g, VHOST_VDPA_GET_CONFIG, &cfg));
	EXPECT_EQ(PAIRS, nc->max_virtqueue_pairs);
	EXPECT_EQ(-EINVAL, param_write("0"));
	EXPECT_EQ(-EINVAL, param_write("17"));
	EXPECT_EQ(PAIRS, param_read());
	/* MQ needs the control queue. */
	ASSERT_EQ(0, vg_add_status(g, VG_S_ACK_DRIVER));
	EXPECT_EQ(-EINVAL, vg_set_features(g, VG_FEATURES_BASE |
					   (1ULL << VIRTIO_NET_F_MQ)));
	/* Past the last virtqueue. */
	EXPECT_EQ(-ENOBUFS, vg_set_call(g, NVQS, -1));
}

/*
 * One worker per pair; pair 2's frame waits until VQ_PAIRS_SET puts it in
 * use; then each pair's frames come back on its own RX queue only, with
 * its own interrupts.
 */
TEST_F(mq, pairs_loop_back_on_their_own)
{
	struct mq *m = &self->m;
	vnl_cnt_t c;
	unsigned int p, i;
	uint16_t rx_before[PAIRS];
	struct vring_used_elem e;
	int foreign = -1;

	ASSERT_EQ(0, mq_start(m, MQ_FEATURES, NVQS));
	EXPECT_EQ(PAIRS, mq_workers(m->g.dev_id, &foreign));
	EXPECT_EQ(0, foreign) TH_LOG("workers outside the owner's cgroups");

	mq_send(m, 2, 1000);
	vg_sleep_ms(vg_settle_ms());
	EXPECT_EQ(0, virtq_used_idx(&m->q[5])) TH_LOG("pair 2 not in use yet");
	EXPECT_EQ(0, virtq_used_idx(&m->q[4]));

	ASSERT_EQ(VIRTIO_NET_OK, mq_set_pairs(m, PAIRS));
	ASSERT_EQ(0, mq_wait_used(m, 4, 1)) TH_LOG("pair 2's waiting frame");
	e = virtq_used_elem(&m->q[4], 0);
	EXPECT_EQ(VNL_NET_HDR_LEN + FRAME_LEN, e.len);
	for (p = 0; p < PAIRS; p++)
		if (p != 2)
			EXPECT_EQ(0, virtq_used_idx(&m->q[2 * p]));

	for (p = 0; p < PAIRS; p++)
		rx_before[p] = virtq_used_idx(&m->q[2 * p]);
	for (i = 0; i < 3; i++)
		for (p = 0; p < PAIRS; p++)
			mq_send(m, p, 100 * p + i);
	for (p = 0; p < PAIRS; p++) {
		uint8_t want[FRAME_LEN];

		ASSERT_EQ(0, mq_wait_used(m, 2 * p, rx_before[p] + 3))
			TH_LOG("pair %u", p);
		for (i = 0; i < 3; i++) {
			e = virtq_used_elem(&m->q[2 * p], rx_before[p] + i);
			ASSERT_LT(e.id, RING / 2);
			vg_fill(want, FRAME_LEN, 100 * p + i);
			EXPECT_EQ(0, memcmp(want, m->rx[2 * p][e.id] +
					    VNL_NET_HDR_LEN, FRAME_LEN))
				TH_LOG("pair %u frame %u came back elsewhere", p, i);
		}
		EXPECT_LT(0, vg_efd_count(m->call[2 * p]))
			TH_LOG("pair %u's RX interrupt", p);
	}
	vg_sleep_ms(vg_settle_ms());
	for (p = 0; p < PAIRS; p++)
		EXPECT_EQ(rx_before[p] + 3, virtq_used_idx(&m->q[2 * p]));
	vnl_read(_metadata, &m->g, c);
	EXPECT_EQ(1 + 3 * PAIRS, c[VNETLOOP_C_TX_PACKETS]);
	EXPECT_EQ(1 + 3 * PAIRS, c[VNETLOOP_C_RX_PACKETS]);
	EXPECT_EQ(1, c[VNETLOOP_C_CTRL_MQ_SET]);
	EXPECT_EQ(0, c[VNETLOOP_C_CTRL_CHAIN_INVALID]);

	/* Per queue pair, netlink and debugfs: 3 frames each, 4 on pair 2. */
	{
		uint64_t nl_tx[PAIRS] = {}, fs_tx[PAIRS] = {};

		ASSERT_EQ(PAIRS, mq_pair_tx(m->g.dev_id, nl_tx, fs_tx));
		for (p = 0; p < PAIRS; p++) {
			EXPECT_EQ(p == 2 ? 4 : 3, nl_tx[p]) TH_LOG("pair %u", p);
			EXPECT_EQ(nl_tx[p], fs_tx[p]) TH_LOG("pair %u", p);
		}
	}
}

/* Out of range, malformed and unknown commands change nothing. */
TEST_F(mq, bad_commands)
{
	struct mq *m = &self->m;
	uint8_t on = 1;
	vnl_cnt_t c;

	ASSERT_EQ(0, mq_start(m, MQ_FEATURES, NVQS));
	EXPECT_EQ(VIRTIO_NET_ERR, mq_set_pairs(m, 0));
	EXPECT_EQ(VIRTIO_NET_ERR, mq_set_pairs(m, PAIRS + 1));
	EXPECT_EQ(VIRTIO_NET_ERR, mq_ctrl(m, 0x7f, 0, NULL, 0, false));
	EXPECT_EQ(VIRTIO_NET_OK, mq_ctrl(m, VIRTIO_NET_CTRL_RX,
					 VIRTIO_NET_CTRL_RX_PROMISC, &on, 1,
					 false));
	/* No writable ack: the byte stays as the driver left it. */
	EXPECT_EQ(0xee, mq_ctrl(m, VIRTIO_NET_CTRL_MQ,
				VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, "\x02\x00", 2,
				true));
	/* Still one pair in use. */
	mq_send(m, 1, 7);
	vg_sleep_ms(vg_settle_ms());
	EXPECT_EQ(0, virtq_used_idx(&m->q[2]));
	vnl_read(_metadata, &m->g, c);
	EXPECT_EQ(0, c[VNETLOOP_C_CTRL_MQ_SET]);
	EXPECT_EQ(1, c[VNETLOOP_C_CTRL_CHAIN_INVALID]);
	EXPECT_EQ(0, c[VNETLOOP_C_CTRL_ADD_USED_FAILURES]);
	EXPECT_EQ(0, vg_needs_reset(&m->g));
}

/* Fewer pairs under traffic: the others' frames wait, then go. */
TEST_F(mq, pairs_change_under_traffic)
{
	struct mq *m = &self->m;
	unsigned int round, p;
	uint16_t used3;

	ASSERT_EQ(0, mq_start(m, MQ_FEATURES, NVQS));
	ASSERT_EQ(VIRTIO_NET_OK, mq_set_pairs(m, PAIRS));
	/* Each round: a frame on every pair, then 1 or all pairs in use. */
	for (round = 0; round < 8; round++) {
		for (p = 0; p < PAIRS; p++)
			mq_send(m, p, round * 10 + p);
		ASSERT_EQ(VIRTIO_NET_OK,
			  mq_set_pairs(m, round % 2 ? PAIRS : 1));
	}
	for (p = 0; p < PAIRS; p++)
		ASSERT_EQ(0, mq_wait_used(m, 2 * p, 8)) TH_LOG("pair %u", p);
	/* One pair in use: pair 3's frame waits, pair 0's goes. */
	ASSERT_EQ(VIRTIO_NET_OK, mq_set_pairs(m, 1));
	mq_send(m, 3, 999);
	mq_send(m, 0, 998);
	ASSERT_EQ(0, mq_wait_used(m, 0, 9));
	vg_sleep_ms(vg_settle_ms());
	used3 = virtq_used_idx(&m->q[6]);
	EXPECT_EQ(8, used3);
	ASSERT_EQ(VIRTIO_NET_OK, mq_set_pairs(m, PAIRS));
	ASSERT_EQ(0, mq_wait_used(m, 6, 9));
}

/*
 * Every pair's worker joins the cgroup of the task that starts the device
 * (cgroup v2; mounted here if it is not): this test moves itself into a
 * cgroup of its own first, so that a worker left in the root shows.
 */
TEST_F(mq, every_worker_joins_the_owners_cgroup)
{
	char root[64] = "/sys/fs/cgroup", cg[128], path[192], me[16];
	struct mq *m = &self->m;
	bool mounted = false;
	int n, foreign = -1, i;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
	if (access(path, F_OK)) {
		strcpy(root, "/tmp/vnl-mq-cgroup2");
		mkdir(root, 0755);
		ASSERT_EQ(0, mount("cgroup2", root, "cgroup2", 0, NULL))
			TH_LOG("mount cgroup2: %s", strerror(errno));
		mounted = true;
	}
	snprintf(cg, sizeof(cg), "%s/vnl-mq-%d", root, getpid());
	ASSERT_EQ(0, mkdir(cg, 0755)) TH_LOG("mkdir %s: %s", cg, strerror(errno));
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	snprintf(me, sizeof(me), "%d", getpid());
	EXPECT_EQ(0, mq_write(path, me));

	EXPECT_EQ(0, mq_start(m, MQ_FEATURES, NVQS));
	n = mq_workers(m->g.dev_id, &foreign);
	EXPECT_EQ(PAIRS, n);
	EXPECT_EQ(0, foreign) TH_LOG("%d of %d workers outside %s", foreign,
				     n, cg);
	/* The workers stop at the reset; then back to the root, and clean. */
	EXPECT_EQ(0, vg_set_status(&m->g, 0));
	snprintf(path, sizeof(path), "%s/cgroup.procs", root);
	EXPECT_EQ(0, mq_write(path, me));
	for (i = 0; i < 200 && rmdir(cg) && errno == EBUSY; i++)
		vg_sleep_ms(5);
	if (mounted)
		umount(root);
}

/*
 * A driver that takes CTRL_VQ but not MQ: one pair, the control queue is
 * virtqueue 2, and VQ_PAIRS_SET is refused.
 */
TEST_F(mq, control_queue_without_mq)
{
	struct mq *m = &self->m;
	uint64_t f = VG_FEATURES_EVENT_IDX | (1ULL << VIRTIO_NET_F_CTRL_VQ);
	uint8_t le[2] = { 1, 0 }, off = 0;
	int foreign;

	ASSERT_EQ(0, mq_start(m, f, 3));
	EXPECT_EQ(1, mq_workers(m->g.dev_id, &foreign));
	EXPECT_EQ(VIRTIO_NET_ERR,
		  mq_ctrl_at(m, 2, VIRTIO_NET_CTRL_MQ,
			     VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, le, 2, false));
	EXPECT_EQ(VIRTIO_NET_OK,
		  mq_ctrl_at(m, 2, VIRTIO_NET_CTRL_RX,
			     VIRTIO_NET_CTRL_RX_ALLMULTI, &off, 1, false));
	EXPECT_LT(0, vg_efd_count(m->call[2]));
}

VNL_TEST_MAIN
