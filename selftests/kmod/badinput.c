// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile or careless callers: another process touching an owned device,
 * malformed ioctl arguments and IOTLB messages, configuration while
 * running, closing with frames in flight, and an owner killed in the middle
 * of traffic. None may hurt the module (the rig also watches the kernel
 * log).
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests.h"

#define RX	VNETLOOP_QUEUE_RX
#define TX	VNETLOOP_QUEUE_TX

/* Loop one frame through a running device. */
static void one_frame(struct __test_metadata *_metadata, struct vg *g,
		      uint16_t head)
{
	uint8_t *tx = vg_alloc(g, VNL_NET_HDR_LEN + 128);
	uint8_t *rx = vg_alloc(g, 256);

	ASSERT_NE(NULL, tx);
	ASSERT_NE(NULL, rx);
	vg_fill(tx, VNL_NET_HDR_LEN + 128, head);
	vg_arm(g);
	vg_post(g, RX, head, rx, 256, VRING_DESC_F_WRITE);
	vg_post(g, TX, head, tx, VNL_NET_HDR_LEN + 128, 0);
	ASSERT_EQ(0, vg_kick(g));
	ASSERT_LT(0, vg_wait_irq(g, VNL_TIMEOUT_MS));
	vnl_expect_used(_metadata, g, TX, head, 0);
	vnl_expect_used(_metadata, g, RX, head, VNL_NET_HDR_LEN + 128);
	EXPECT_EQ(0, memcmp(tx + VNL_NET_HDR_LEN, rx + VNL_NET_HDR_LEN, 128));
}

/*
 * After VHOST_SET_OWNER the owner's mm owns the device: a forked child has
 * its own mm and gets -EPERM for every vring ioctl, IOTLB write, status,
 * feature and config change, and -EBUSY for SET_OWNER, even with the shared
 * fd; the getters work for anyone.
 */
TEST(owner_other_process)
{
	int status, bad = 0;
	struct vg g;
	pid_t pid;

	ASSERT_EQ(0, vg_open(&g));
	ASSERT_EQ(0, vg_set_owner(&g));
	ASSERT_EQ(0, vg_set_mem(&g));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct vhost_vring_state vs = { .index = TX, .num = 64 };
		struct vhost_vring_file vf = { .index = TX, .fd = g.kick };
		union vg_config cfg = { .c = { .off = 0, .len = 6 } };
		uint64_t f = VG_FEATURES_BASE;
		uint8_t st = VG_S_ACK_DRIVER;
		uint32_t id;

		bad |= (vg_map(&g, 0x1000, 0x1000, g.mem, VHOST_ACCESS_RW) !=
			-EPERM) << 0;
		bad |= (vg_ioctl(&g, VHOST_SET_VRING_NUM, &vs) != -EPERM) << 1;
		bad |= (vg_set_features(&g, f) != -EPERM) << 2;
		bad |= (vg_ioctl(&g, VHOST_SET_VRING_KICK, &vf) != -EPERM) << 3;
		bad |= (vg_set_call(&g, TX, g.call) != -EPERM) << 3;
		bad |= (vg_set_status(&g, st) != -EPERM) << 4;
		bad |= (vg_set_status(&g, 0) != -EPERM) << 5;
		bad |= (vg_get_vring_base(&g, TX) != -EPERM) << 6;
		bad |= (vg_ioctl(&g, VHOST_VDPA_SET_CONFIG, &cfg.c) !=
			-EPERM) << 7;
		bad |= (vg_set_config_call(&g, g.config) != -EPERM) << 7;
		bad |= (vg_ioctl(&g, VHOST_SET_BACKEND_FEATURES, &f) !=
			-EPERM) << 7;
		bad |= (vg_ioctl(&g, VHOST_GET_FEATURES, &f) ||
			f != VNETLOOP_FEATURES) << 8;
		bad |= (vg_get_status(&g, &st) || st) << 8;
		bad |= (vg_ioctl(&g, VHOST_VDPA_GET_CONFIG, &cfg.c) ||
			memcmp(cfg.c.buf, g.mac, 6)) << 8;
		bad |= (vg_ioctl(&g, VHOST_VDPA_GET_DEVICE_ID, &id) ||
			id != 1) << 8;
		bad |= (vg_set_owner(&g) != -EBUSY) << 9;
		bad |= (vg_ioctl(&g, VHOST_RESET_OWNER, NULL) != -EPERM) << 9;
		bad |= (vg_ioctl(&g, VHOST_VDPA_SET_VRING_ENABLE, &vs) !=
			-EPERM) << 10;
		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("failed checks (bits): 0 IOTLB 1 VRING_NUM 2 FEATURES 3 KICK/CALL 4 STATUS 5 STATUS 0 6 GET_VRING_BASE 7 CONFIG/CONFIG_CALL/BACKEND 8 getters 9 SET/RESET_OWNER 10 ENABLE");

	/* The owner is unaffected. */
	ASSERT_EQ(0, vg_setup(&g, VG_FEATURES_EVENT_IDX, 64, 64));
	one_frame(_metadata, &g, 0);
	vg_close(&g);
}

/*
 * Before anyone owns the device, anyone may drive its status, features
 * and config (QEMU sets ACK|DRIVER before SET_OWNER), but not its vrings
 * or IOTLB. SET_OWNER binds the first caller, once; afterwards the others
 * may only read, even once the owner is gone.
 */
TEST(owner_set_once)
{
	uint8_t st = VG_S_ACK_DRIVER;
	struct vhost_vring_state vs = { .index = RX, .num = 64 };
	int status;
	struct vg g;
	pid_t pid;

	ASSERT_EQ(0, vg_open(&g));
	EXPECT_EQ(0, vg_set_status(&g, st));
	EXPECT_EQ(0, vg_set_features(&g, VG_FEATURES_BASE));
	EXPECT_EQ(-EPERM, vg_ioctl(&g, VHOST_SET_VRING_NUM, &vs));
	EXPECT_EQ(-EPERM, vg_set_mem(&g));
	EXPECT_EQ(-EPERM, vg_ioctl(&g, VHOST_RESET_OWNER, NULL));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(vg_set_owner(&g) ? 1 : vg_set_owner(&g) != -EBUSY ? 2 : 0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("1: SET_OWNER failed, 2: a second one did not fail with EBUSY");
	/* The child (now gone) owns it: the parent may only read. */
	EXPECT_EQ(-EBUSY, vg_set_owner(&g));
	EXPECT_EQ(-EPERM, vg_set_mem(&g));
	EXPECT_EQ(-EPERM, vg_set_status(&g, 0));
	EXPECT_EQ(-EPERM, vg_set_features(&g, VG_FEATURES_BASE));
	ASSERT_EQ(0, vg_get_status(&g, &st));
	EXPECT_EQ(VG_S_ACK_DRIVER, st);
	vg_close(&g);
}

/*
 * VHOST_RESET_OWNER: the owner lets go. The device is torn down (reset,
 * IOTLB emptied, eventfds dropped) and another process may own it.
 */
TEST(reset_owner)
{
	int status;
	struct vg g;
	pid_t pid;

	ASSERT_EQ(0, vg_open(&g));
	ASSERT_EQ(0, vg_setup(&g, VG_FEATURES_EVENT_IDX, 64, 64));
	one_frame(_metadata, &g, 0);
	ASSERT_EQ(0, vg_ioctl(&g, VHOST_RESET_OWNER, NULL));
	vnl_expect_status(_metadata, &g, 0);
	EXPECT_EQ(-EPERM, vg_set_mem(&g));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct vg c = g;

		/* The IOTLB is empty: the same entry maps again. */
		c.owner = false;
		c.mapped = false;
		if (vg_set_owner(&c))
			_exit(1);
		if (vg_set_mem(&c))
			_exit(2);
		if (vg_get_vring_base(&c, TX) != 0)
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("1 SET_OWNER, 2 IOTLB UPDATE, 3 the TX base was kept");
	vg_close(&g);
}

FIXTURE(args) {
	struct vg g;
	uint8_t *page;		/* a page followed by an inaccessible one */
};

FIXTURE_SETUP(args)
{
	ASSERT_EQ(0, vg_open(&self->g));
	self->page = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->page);
	ASSERT_EQ(0, mprotect(self->page + 4096, 4096, PROT_NONE));
}

FIXTURE_TEARDOWN(args)
{
	munmap(self->page, 8192);
	vg_close(&self->g);
}

static int set_num(struct vg *g, uint32_t index, uint32_t num)
{
	struct vhost_vring_state s = { .index = index, .num = num };

	return vg_ioctl(g, VHOST_SET_VRING_NUM, &s);
}

static int set_addr_flags(struct vg *g, uint32_t index, uint32_t flags)
{
	struct vhost_vring_addr a = {
		.index = index, .flags = flags,
		.desc_user_addr = vg_gpa(g->mem),
		.avail_user_addr = vg_gpa(g->mem + 4096),
		.used_user_addr = vg_gpa(g->mem + 8192),
	};

	return vg_ioctl(g, VHOST_SET_VRING_ADDR, &a);
}

/*
 * The vring ioctls: a queue index past the two queues is -ENOBUFS (as
 * vhost-vdpa), sizes must be powers of two up to 256, flags only LOG,
 * bases 16 bits; a ring that would wrap the address space fails at
 * DRIVER_OK, where the rings are resolved.
 */
TEST_F(args, vring)
{
	struct vhost_vring_state s = { .index = TX };
	struct vg *g = &self->g;
	uint8_t st;

	ASSERT_EQ(0, vg_set_owner(g));
	EXPECT_EQ(0, set_num(g, RX, 256));
	EXPECT_EQ(0, set_num(g, TX, 1));
	EXPECT_EQ(-ENOBUFS, set_num(g, 2, 64));
	EXPECT_EQ(-ENOBUFS, set_num(g, UINT32_MAX, 64));
	EXPECT_EQ(-EINVAL, set_num(g, TX, 0));
	EXPECT_EQ(-EINVAL, set_num(g, TX, 3));
	EXPECT_EQ(-EINVAL, set_num(g, TX, 100));
	EXPECT_EQ(-EINVAL, set_num(g, TX, 512));
	EXPECT_EQ(-EINVAL, set_num(g, TX, 1u << 31));
	EXPECT_EQ(-ENOBUFS, set_addr_flags(g, 2, 0));
	EXPECT_EQ(0, set_addr_flags(g, TX, 1u << VHOST_VRING_F_LOG));
	EXPECT_EQ(-EOPNOTSUPP, set_addr_flags(g, TX, 2));
	EXPECT_EQ(-EOPNOTSUPP, set_addr_flags(g, TX, UINT32_MAX));
	s.num = 0xffff;
	EXPECT_EQ(0, vg_ioctl(g, VHOST_SET_VRING_BASE, &s));
	EXPECT_EQ(0xffff, vg_get_vring_base(g, TX));
	s.num = 0x10000;
	EXPECT_EQ(-EINVAL, vg_ioctl(g, VHOST_SET_VRING_BASE, &s));
	EXPECT_EQ(0xffff, vg_get_vring_base(g, TX));
	s.index = 2;
	EXPECT_EQ(-ENOBUFS, vg_ioctl(g, VHOST_SET_VRING_BASE, &s));
	EXPECT_EQ(-ENOBUFS, vg_ioctl(g, VHOST_GET_VRING_BASE, &s));
	EXPECT_EQ(-ENOBUFS, vg_ioctl(g, VHOST_VDPA_SET_VRING_ENABLE, &s));
	EXPECT_EQ(-ENOBUFS, vg_set_call(g, 2, g->call));
	/* One group of both queues; none past them (-EINVAL, as vhost). */
	s.index = TX;
	s.num = 7;
	EXPECT_EQ(0, vg_ioctl(g, VHOST_VDPA_GET_VRING_GROUP, &s));
	EXPECT_EQ(0, s.num);
	s.index = 2;
	EXPECT_EQ(-EINVAL, vg_ioctl(g, VHOST_VDPA_GET_VRING_GROUP, &s));

	/* Rings that would wrap the address space: DRIVER_OK refuses. */
	ASSERT_EQ(0, vg_negotiate(g, VG_FEATURES_BASE));
	ASSERT_EQ(0, vg_set_vring(g, TX, 64));
	ASSERT_EQ(0, vg_set_vring_addr(g, TX, UINT64_MAX - 255,
				       vg_gpa(g->mem), vg_gpa(g->mem)));
	ASSERT_EQ(0, vg_set_mem(g));
	EXPECT_EQ(-EINVAL, vg_start(g));
	ASSERT_EQ(0, vg_get_status(g, &st));
	EXPECT_EQ(VG_S_FEATURES_OK, st);
}

/* One IOTLB message of the given fields, as the raw write returns it. */
static int iotlb_msg(struct vg *g, uint32_t msg_type, uint8_t type,
		     uint64_t iova, uint64_t size, uint64_t uaddr, uint8_t perm)
{
	struct vhost_msg_v2 m = {
		.type = msg_type,
		.iotlb = { .iova = iova, .size = size, .uaddr = uaddr,
			   .perm = perm, .type = type },
	};
	ssize_t n = write(g->fd, &m, sizeof(m));

	return n < 0 ? -errno : (int)n;
}

/*
 * IOTLB messages with bad fields: an empty or wrapping range, no or
 * unknown rights, a host range outside the user address space, message
 * types the device never takes.
 */
TEST_F(args, iotlb)
{
	const int whole = sizeof(struct vhost_msg_v2);
	struct vg *g = &self->g;
	uint64_t base = vg_gpa(g->mem), u = base;
	uint8_t type;

	ASSERT_EQ(0, vg_set_owner(g));
#define UPD(iova, size, uaddr, perm) \
	iotlb_msg(g, VHOST_IOTLB_MSG_V2, VHOST_IOTLB_UPDATE, iova, size, \
		  uaddr, perm)
	EXPECT_EQ(-EINVAL, UPD(base, 0, u, VHOST_ACCESS_RW));
	EXPECT_EQ(-EINVAL, UPD(UINT64_MAX - 4095, 8192, u, VHOST_ACCESS_RW));
	EXPECT_EQ(-EINVAL, UPD(base, 4096, u, 0));
	EXPECT_EQ(-EINVAL, UPD(base, 4096, u, 4));
	EXPECT_EQ(-EINVAL, UPD(base, 4096, u, VHOST_ACCESS_RW | 8));
	/* Not user addresses: past the end, or running past it. */
	EXPECT_EQ(-EFAULT, UPD(base, 1u << 20, UINT64_MAX - (1u << 20),
			       VHOST_ACCESS_RW));
	EXPECT_EQ(-EFAULT, UPD(base, 1ULL << 40, 0x7fffffff0000ULL,
			       VHOST_ACCESS_RW));
	EXPECT_EQ(-EFAULT, UPD(base, UINT64_MAX / 2, u, VHOST_ACCESS_RW));
	/* MISS and ACCESS_FAIL come from a device, never to it. */
	for (type = 0; type < 10; type++) {
		if (type == VHOST_IOTLB_UPDATE ||
		    type == VHOST_IOTLB_INVALIDATE ||
		    type == VHOST_IOTLB_BATCH_BEGIN ||
		    type == VHOST_IOTLB_BATCH_END)
			continue;
		EXPECT_EQ(-EINVAL, iotlb_msg(g, VHOST_IOTLB_MSG_V2, type, base,
					     4096, u, VHOST_ACCESS_RW))
			TH_LOG("IOTLB type %u", type);
	}
	EXPECT_EQ(-EINVAL, iotlb_msg(g, 0, VHOST_IOTLB_UPDATE, base, 4096, u,
				     VHOST_ACCESS_RW));
	EXPECT_EQ(-EINVAL, iotlb_msg(g, 3, VHOST_IOTLB_UPDATE, base, 4096, u,
				     VHOST_ACCESS_RW));
	EXPECT_EQ(-EINVAL, iotlb_msg(g, VHOST_IOTLB_MSG_V2,
				     VHOST_IOTLB_INVALIDATE, base, 0, 0, 0));

	/* The last page of the IOVA space, RO and WO: valid. */
	EXPECT_EQ(whole, UPD(UINT64_MAX - 4095, 4096, u, VHOST_ACCESS_RO));
	EXPECT_EQ(whole, UPD(base, 4096, u, VHOST_ACCESS_WO));
	EXPECT_EQ(-EEXIST, UPD(base + 4095, 4096, u, VHOST_ACCESS_RW));
	/* Invalidating to the end of the space, wrapping: the rest of it. */
	EXPECT_EQ(whole, iotlb_msg(g, VHOST_IOTLB_MSG_V2,
				   VHOST_IOTLB_INVALIDATE, base, UINT64_MAX,
				   0, 0));
	EXPECT_EQ(whole, UPD(UINT64_MAX - 4095, 4096, u, VHOST_ACCESS_RW));
	EXPECT_EQ(whole, UPD(base, 4096, u, VHOST_ACCESS_RW));
#undef UPD
}

TEST_F(args, eventfds)
{
	struct vhost_vring_file f = { .index = TX };
	struct vg *g = &self->g;
	int pipefd[2], nullfd, closed, i;
	/* The three kinds of eventfd the device takes, as the vring ioctls do. */
	const unsigned long reqs[] = {
		VHOST_SET_VRING_KICK, VHOST_SET_VRING_CALL,
		VHOST_VDPA_SET_CONFIG_CALL,
	};

	ASSERT_EQ(0, vg_set_owner(g));
	ASSERT_EQ(0, pipe(pipefd));
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, nullfd);
	closed = dup(nullfd);
	ASSERT_LE(0, closed);
	close(closed);

	for (i = 0; i < 3; i++) {
		const int fds[] = { g->kick, pipefd[0], nullfd, g->fd, closed,
				    1000000, -2, VHOST_FILE_UNBIND };
		const int want[] = { 0, -EINVAL, -EINVAL, -EINVAL, -EBADF,
				     -EBADF, -EBADF, 0 };
		unsigned int k;

		for (k = 0; k < ARRAY_SIZE(fds); k++) {
			void *arg = &f;

			f.fd = fds[k];
			if (reqs[i] == VHOST_VDPA_SET_CONFIG_CALL)
				arg = &f.fd;
			EXPECT_EQ(want[k], vg_ioctl(g, reqs[i], arg))
				TH_LOG("ioctl %d with fd %d", i, fds[k]);
		}
	}
	close(pipefd[0]);
	close(pipefd[1]);
	close(nullfd);
}

/*
 * Features: only offered bits, and not once FEATURES_OK is set; a driver
 * without VERSION_1 reads FEATURES_OK back clear. Backend features: only
 * IOTLB_MSG_V2 and IOTLB_BATCH.
 */
TEST_F(args, features)
{
	struct vg *g = &self->g;
	uint64_t f;
	uint8_t st;

	EXPECT_EQ(0, vg_set_features(g, VNETLOOP_FEATURES));
	EXPECT_EQ(0, vg_set_features(g, VG_FEATURES_BASE));
	EXPECT_EQ(-EINVAL, vg_set_features(g, VG_FEATURES_BASE | 1ULL << 40));
	/* INDIRECT_DESC and NOTIFICATION_DATA are never offered. */
	EXPECT_EQ(-EINVAL, vg_set_features(g, VG_FEATURES_BASE | 1ULL << 28));
	EXPECT_EQ(-EINVAL, vg_set_features(g, VG_FEATURES_BASE | 1ULL << 38));
	/* Nor LOG_ALL: no migration through this device. */
	EXPECT_EQ(-EINVAL, vg_set_features(g, VG_FEATURES_BASE |
					   1ULL << VHOST_F_LOG_ALL));
	EXPECT_EQ(-EINVAL, vg_set_features(g, ~0ULL));

	f = 0;
	EXPECT_EQ(0, vg_ioctl(g, VHOST_SET_BACKEND_FEATURES, &f));
	f = VG_BACKEND_FEATURES;
	EXPECT_EQ(0, vg_ioctl(g, VHOST_SET_BACKEND_FEATURES, &f));
	f = 1ULL << VHOST_BACKEND_F_IOTLB_ASID;
	EXPECT_EQ(-EOPNOTSUPP, vg_ioctl(g, VHOST_SET_BACKEND_FEATURES, &f));
	f = 1ULL << VHOST_BACKEND_F_SUSPEND;
	EXPECT_EQ(-EOPNOTSUPP, vg_ioctl(g, VHOST_SET_BACKEND_FEATURES, &f));

	/* Legacy: FEATURES_OK does not stick, so features stay settable. */
	ASSERT_EQ(0, vg_set_status(g, VG_S_ACK_DRIVER));
	ASSERT_EQ(0, vg_set_features(g, 1ULL << VIRTIO_NET_F_MAC));
	ASSERT_EQ(0, vg_set_status(g, VG_S_FEATURES_OK));
	ASSERT_EQ(0, vg_get_status(g, &st));
	EXPECT_EQ(VG_S_ACK_DRIVER, st);
	EXPECT_EQ(-EIO, vg_add_status(g, VIRTIO_CONFIG_S_FEATURES_OK));
	EXPECT_EQ(0, vg_set_features(g, VG_FEATURES_BASE));
	ASSERT_EQ(0, vg_add_status(g, VIRTIO_CONFIG_S_FEATURES_OK));
	EXPECT_EQ(-EBUSY, vg_set_features(g, VG_FEATURES_BASE));
	EXPECT_EQ(-EBUSY, vg_set_features(g, VG_FEATURES_EVENT_IDX));
	/* Status bits are only added until the reset. */
	EXPECT_EQ(-EINVAL, vg_set_status(g, VG_S_ACK_DRIVER));
	EXPECT_EQ(-EINVAL, vg_set_status(g, VIRTIO_CONFIG_S_FEATURES_OK));
	ASSERT_EQ(0, vg_get_status(g, &st));
	EXPECT_EQ(VG_S_FEATURES_OK, st);
	ASSERT_EQ(0, vg_set_status(g, 0));
	EXPECT_EQ(0, vg_set_features(g, VG_FEATURES_EVENT_IDX));
}

/* Pointers the kernel cannot use: NULL, a low address, a guard page. */
TEST_F(args, bad_pointers)
{
	static const unsigned long reqs[] = {
		VHOST_GET_FEATURES, VHOST_SET_FEATURES,
		VHOST_GET_BACKEND_FEATURES, VHOST_SET_BACKEND_FEATURES,
		VHOST_VDPA_GET_DEVICE_ID, VHOST_VDPA_GET_STATUS,
		VHOST_VDPA_SET_STATUS, VHOST_VDPA_GET_CONFIG,
		VHOST_VDPA_SET_CONFIG, VHOST_VDPA_SET_CONFIG_CALL,
		VHOST_VDPA_GET_VRING_NUM, VHOST_VDPA_GET_CONFIG_SIZE,
		VHOST_VDPA_GET_VQS_COUNT, VHOST_VDPA_GET_GROUP_NUM,
		VHOST_VDPA_GET_AS_NUM, VHOST_VDPA_GET_IOVA_RANGE,
		VHOST_VDPA_GET_VRING_GROUP, VHOST_SET_VRING_NUM,
		VHOST_SET_VRING_BASE, VHOST_GET_VRING_BASE,
		VHOST_SET_VRING_ADDR, VHOST_SET_VRING_KICK,
		VHOST_SET_VRING_CALL, VHOST_VDPA_SET_VRING_ENABLE,
	};
	struct vhost_vdpa_config *c;
	struct vhost_msg_v2 *m;
	struct vg *g = &self->g;
	uint8_t *guard = self->page + 4096;
	/* Hidden from the compiler, which knows 16 is no buffer. */
	volatile uintptr_t low = 16;
	unsigned int i;

	ASSERT_EQ(0, vg_set_owner(g));
	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		EXPECT_EQ(-EFAULT, vg_ioctl(g, reqs[i], NULL))
			TH_LOG("ioctl 0x%lx with NULL", reqs[i]);
		EXPECT_EQ(-EFAULT, vg_ioctl(g, reqs[i], (void *)16))
			TH_LOG("ioctl 0x%lx with 16", reqs[i]);
		EXPECT_EQ(-EFAULT, vg_ioctl(g, reqs[i], guard))
			TH_LOG("ioctl 0x%lx with a PROT_NONE page", reqs[i]);
	}
	/* A config whose header is readable but whose bytes are not. */
	c = (void *)(guard - sizeof(*c));
	*c = (struct vhost_vdpa_config){ .off = 0, .len = 6 };
	EXPECT_EQ(-EFAULT, vg_ioctl(g, VHOST_VDPA_GET_CONFIG, c));
	EXPECT_EQ(-EFAULT, vg_ioctl(g, VHOST_VDPA_SET_CONFIG, c));
	c = (void *)(guard - sizeof(*c) - 6);
	*c = (struct vhost_vdpa_config){ .off = 0, .len = 6 };
	EXPECT_EQ(0, vg_ioctl(g, VHOST_VDPA_GET_CONFIG, c));
	/* An IOTLB message whose type is readable but whose body is not. */
	EXPECT_EQ(-1, write(g->fd, (void *)low, sizeof(*m)));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, write(g->fd, guard, sizeof(*m)));
	EXPECT_EQ(EFAULT, errno);
	m = (void *)(guard - 8);
	m->type = VHOST_IOTLB_MSG_V2;
	m->asid = 0;
	EXPECT_EQ(-1, write(g->fd, m, sizeof(*m)));
	EXPECT_EQ(EFAULT, errno);
	m = (void *)(guard - sizeof(*m));
	*m = (struct vhost_msg_v2){ .type = VHOST_IOTLB_MSG_V2, .iotlb = {
		.iova = vg_gpa(g->mem), .size = g->mem_size,
		.uaddr = vg_gpa(g->mem), .perm = VHOST_ACCESS_RW,
		.type = VHOST_IOTLB_UPDATE } };
	EXPECT_EQ((ssize_t)sizeof(*m), write(g->fd, m, sizeof(*m)));
}

/*
 * Unknown ioctls, the old private ones and the vhost ones this device has
 * no use for (memory tables, logging, endianness, error eventfds, busy
 * polling) are -ENOTTY for the owner; ASIDs and SUSPEND, not offered, are
 * -EOPNOTSUPP. Before SET_OWNER they are the owner's: -EPERM, as vhost.
 */
TEST_F(args, unknown_ioctl)
{
	static const unsigned long reqs[] = {
		_IO(0xB7, 0x7f), _IOR(0xB7, 0x00, uint32_t),
		_IOR(0xB7, 0x00, uint64_t[9]), _IO(0xB7, 0x05),
		_IO('T', 0x01), VHOST_SET_MEM_TABLE, VHOST_SET_LOG_BASE,
		VHOST_SET_LOG_FD, VHOST_SET_VRING_ENDIAN,
		VHOST_GET_VRING_ENDIAN, VHOST_SET_VRING_ERR,
		VHOST_SET_VRING_BUSYLOOP_TIMEOUT,
		VHOST_GET_VRING_BUSYLOOP_TIMEOUT,
	};
	struct vg *g = &self->g;
	uint64_t buf[16] = { 0 };
	unsigned int i;

	EXPECT_EQ(-EPERM, vg_ioctl(g, VHOST_SET_MEM_TABLE, buf));
	EXPECT_EQ(-EPERM, vg_ioctl(g, _IO(0xB7, 0x7f), buf));
	ASSERT_EQ(0, vg_set_owner(g));
	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		EXPECT_EQ(-ENOTTY, vg_ioctl(g, reqs[i], buf))
			TH_LOG("ioctl 0x%lx", reqs[i]);
	}
	EXPECT_EQ(-EOPNOTSUPP, vg_ioctl(g, VHOST_VDPA_SET_GROUP_ASID, buf));
	EXPECT_EQ(-EOPNOTSUPP, vg_ioctl(g, VHOST_VDPA_SUSPEND, NULL));
}

/*
 * DRIVER_OK needs FEATURES_OK, the owner (the worker runs in its address
 * space) and a TX queue with a size, a kick eventfd and enabled: -EINVAL
 * (-EPERM for the owner) otherwise, the status unchanged.
 */
TEST_F(args, start_incomplete)
{
	struct vhost_vring_state en = { .index = TX, .num = 1 };
	struct vhost_vring_file kick = { .index = TX };
	struct vg *g = &self->g;
	uint8_t *ring = g->mem + VIRTQ_RING_BYTES;
	uint8_t st;

	ASSERT_EQ(0, vg_set_status(g, VG_S_ACK_DRIVER));
	ASSERT_EQ(0, vg_set_features(g, VG_FEATURES_BASE));
	EXPECT_EQ(-EINVAL, vg_set_status(g, VG_S_ACK_DRIVER |
					 VIRTIO_CONFIG_S_DRIVER_OK));
	ASSERT_EQ(0, vg_add_status(g, VIRTIO_CONFIG_S_FEATURES_OK));
	EXPECT_EQ(-EPERM, vg_set_status(g, VG_S_RUNNING));
	ASSERT_EQ(0, vg_set_owner(g));
	EXPECT_EQ(-EINVAL, vg_set_status(g, VG_S_RUNNING));
	ASSERT_EQ(0, set_num(g, TX, 64));
	EXPECT_EQ(-EINVAL, vg_set_status(g, VG_S_RUNNING));
	ASSERT_EQ(0, vg_set_vring_addr(g, TX, vg_gpa(ring),
				       vg_gpa(ring + VIRTQ_PAGE),
				       vg_gpa(ring + 2 * VIRTQ_PAGE)));
	ASSERT_EQ(0, vg_ioctl(g, VHOST_VDPA_SET_VRING_ENABLE, &en));
	EXPECT_EQ(-EINVAL, vg_set_status(g, VG_S_RUNNING));
	/* A disabled queue is no queue. */
	kick.fd = g->kick;
	ASSERT_EQ(0, vg_ioctl(g, VHOST_SET_VRING_KICK, &kick));
	en.num = 0;
	ASSERT_EQ(0, vg_ioctl(g, VHOST_VDPA_SET_VRING_ENABLE, &en));
	EXPECT_EQ(-EINVAL, vg_set_status(g, VG_S_RUNNING));
	ASSERT_EQ(0, vg_get_status(g, &st));
	EXPECT_EQ(VG_S_FEATURES_OK, st);
	en.num = 1;
	ASSERT_EQ(0, vg_ioctl(g, VHOST_VDPA_SET_VRING_ENABLE, &en));
	ASSERT_EQ(0, vg_set_mem(g));
	EXPECT_EQ(0, vg_set_status(g, VG_S_RUNNING));
	ASSERT_EQ(0, vg_get_status(g, &st));
	EXPECT_EQ(VG_S_RUNNING, st);
	/* Again, bits the same: nothing to do; removing one: -EINVAL. */
	EXPECT_EQ(0, vg_set_status(g, VG_S_RUNNING));
	EXPECT_EQ(-EINVAL, vg_set_status(g, VG_S_FEATURES_OK));
	ASSERT_EQ(0, vg_get_status(g, &st));
	EXPECT_EQ(VG_S_RUNNING, st);
	EXPECT_EQ(0, vg_needs_reset(g));
}

/*
 * While the device runs, the queues' layouts, positions, kicks and
 * enables and the features are fixed (-EBUSY); call eventfds and the
 * IOTLB may change. Status 0 allows the rest again.
 */
TEST_F(args, busy_while_running)
{
	struct vg *g = &self->g;
	uint8_t *ring = g->mem + VIRTQ_RING_BYTES;
	unsigned int q;

	ASSERT_EQ(0, vg_setup(g, VG_FEATURES_EVENT_IDX, 64, 64));
	for (q = 0; q < VNETLOOP_NUM_QUEUES; q++) {
		struct vhost_vring_state s = { .index = q, .num = 64 };
		struct vhost_vring_file f = { .index = q, .fd = g->kick };

		EXPECT_EQ(-EBUSY, vg_ioctl(g, VHOST_SET_VRING_NUM, &s));
		EXPECT_EQ(-EBUSY, vg_ioctl(g, VHOST_SET_VRING_BASE, &s));
		EXPECT_EQ(-EBUSY, vg_ioctl(g, VHOST_VDPA_SET_VRING_ENABLE,
					   &s));
		EXPECT_EQ(-EBUSY, vg_ioctl(g, VHOST_SET_VRING_KICK, &f));
		EXPECT_EQ(-EBUSY, vg_set_vring_addr(g, q, vg_gpa(ring),
					vg_gpa(ring + VIRTQ_PAGE),
					vg_gpa(ring + 2 * VIRTQ_PAGE)));
		EXPECT_EQ(0, vg_set_call(g, q, g->call));
		/* The position is readable while running. */
		EXPECT_EQ(0, vg_get_vring_base(g, q));
	}
	EXPECT_EQ(-EBUSY, vg_set_features(g, VG_FEATURES_BASE));
	EXPECT_EQ(0, vg_set_config_call(g, g->config));
	/* The IOTLB may change at any time (QEMU remaps while running). */
	EXPECT_EQ(0, vg_map(g, 1ULL << 40, 4096, g->mem, VHOST_ACCESS_RO));
	EXPECT_EQ(0, vg_unmap(g, 1ULL << 40, 4096));
	/* Still working after all that. */
	one_frame(_metadata, g, 0);

	ASSERT_EQ(0, vg_reset(g));
	EXPECT_EQ(0, vg_setup(g, VG_FEATURES_BASE, 32, 32));
	one_frame(_metadata, g, 1);
}

/*
 * Close with the worker busy: many large frames, kicked, then the fd closed
 * at once. The next device works, and the closed one is gone.
 */
TEST(close_in_flight)
{
	uint32_t ids[256];
	int round, i;
	struct vg g;
	size_t n;

	for (round = 0; round < 10; round++) {
		uint8_t *tx, *rx;
		uint32_t id;

		ASSERT_EQ(0, vg_open(&g));
		id = g.dev_id;
		ASSERT_EQ(0, vg_setup(&g, VG_FEATURES_EVENT_IDX, 256, 256));
		tx = vg_alloc(&g, VNL_NET_HDR_LEN + 16384);
		rx = vg_alloc(&g, VNL_NET_HDR_LEN + 16384);
		ASSERT_NE(NULL, tx);
		ASSERT_NE(NULL, rx);
		for (i = 0; i < 256; i++) {
			vg_post(&g, RX, i, rx, VNL_NET_HDR_LEN + 16384,
				VRING_DESC_F_WRITE);
			vg_post(&g, TX, i, tx, VNL_NET_HDR_LEN + 16384, 0);
		}
		ASSERT_EQ(0, vg_kick(&g));
		if (round & 1)
			vg_sleep_ms(round);
		vg_close(&g);
		ASSERT_EQ(0, vnl_nl_dump_ids(ids, ARRAY_SIZE(ids), &n));
		for (i = 0; i < (int)n; i++) {
			EXPECT_NE(id, ids[i]);
		}
	}

	vnl_up(_metadata, &g, VG_FEATURES_EVENT_IDX, 64, 64);
	one_frame(_metadata, &g, 3);
	vg_close(&g);
}

/* Child side of the dying-owner tests: configure g, then loop frames. */
static void __attribute__((noreturn)) pump(struct vg *g, int report)
{
	uint8_t *tx = vg_alloc(g, VNL_NET_HDR_LEN + 1500);
	uint8_t *rx = vg_alloc(g, VNL_NET_HDR_LEN + 1500);
	uint16_t i;

	if (!tx || !rx || vg_setup(g, VG_FEATURES_EVENT_IDX, 256, 256))
		_exit(1);
	if (write(report, &g->dev_id, sizeof(g->dev_id)) < 0)
		_exit(2);
	for (;;) {
		for (i = 0; i < 128; i++) {
			vg_post(g, RX, g->q[RX].avail_idx & 255, rx,
				VNL_NET_HDR_LEN + 1500, VRING_DESC_F_WRITE);
			vg_post(g, TX, g->q[TX].avail_idx & 255, tx,
				VNL_NET_HDR_LEN + 1500, 0);
		}
		vg_arm(g);
		vg_kick(g);
		vg_wait_used(g, TX, 128, VNL_TIMEOUT_MS);
		while (vg_used_pop(g, TX, &(struct vg_used_elem){ 0 }))
			;
		while (vg_used_pop(g, RX, &(struct vg_used_elem){ 0 }))
			;
		vg_irq_count(g);
	}
}

/* Wait until device id has looped at least 1000 frames. */
static void wait_traffic(struct __test_metadata *_metadata, uint32_t id)
{
	vnl_cnt_t c;
	int waited;

	for (waited = 0; waited < VNL_TIMEOUT_MS; waited += 10) {
		if (!vnl_counters(id, c) && c[VNETLOOP_C_RX_PACKETS] >= 1000)
			return;
		vg_sleep_ms(10);
	}
	ASSERT_TRUE(0) TH_LOG("device %u did not loop 1000 frames", id);
}

/* Poll until device id is gone from netlink (and debugfs, if there). */
static void wait_gone(struct __test_metadata *_metadata, uint32_t id)
{
	struct vnl_nl_dev d;
	int waited;

	for (waited = 0; waited < VNL_TIMEOUT_MS; waited += 10) {
		if (vnl_nl_get(id, false, &d) == -ENODEV)
			break;
		vg_sleep_ms(10);
	}
	EXPECT_EQ(-ENODEV, vnl_nl_get(id, false, &d));
	if (!vnl_debugfs_missing()) {
		EXPECT_EQ(0, vnl_dbg_dev_exists(id));
	}
}

/* The owner opened the device itself and is killed mid-traffic. */
TEST(dying_owner)
{
	int p[2], status;
	uint32_t id;
	pid_t pid;

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct vg g;

		close(p[0]);
		if (vg_open(&g))
			_exit(3);
		pump(&g, p[1]);
	}
	close(p[1]);
	ASSERT_EQ(sizeof(id), read(p[0], &id, sizeof(id)));
	close(p[0]);
	wait_traffic(_metadata, id);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	wait_gone(_metadata, id);
}

/*
 * The fd outlives its owner: the parent opened it, a child configured it
 * and is killed mid-traffic. The device stays until the parent closes it;
 * kicks in between must do no harm.
 */
TEST(dying_owner_shared_fd)
{
	int p[2], status;
	struct vg g;
	uint32_t id;
	pid_t pid;
	vnl_cnt_t c;

	ASSERT_EQ(0, vg_open(&g));
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(p[0]);
		pump(&g, p[1]);
	}
	close(p[1]);
	ASSERT_EQ(sizeof(id), read(p[0], &id, sizeof(id)));
	close(p[0]);
	EXPECT_EQ(g.dev_id, id);
	wait_traffic(_metadata, id);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));

	/* Still there, still owned by the dead child. */
	ASSERT_EQ(0, vnl_counters(id, c));
	EXPECT_EQ(-EPERM, vg_set_mem(&g));
	EXPECT_EQ(-EBUSY, vg_set_owner(&g));
	EXPECT_EQ(-EPERM, vg_set_status(&g, 0));
	EXPECT_EQ(0, vg_kick(&g));
	EXPECT_EQ(0, vg_kick(&g));
	vg_sleep_ms(vg_settle_ms());
	ASSERT_EQ(0, vnl_counters(id, c));
	vg_close(&g);
	wait_gone(_metadata, id);
}

VNL_TEST_MAIN
