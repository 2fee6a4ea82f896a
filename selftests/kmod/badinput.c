// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile or careless callers: another process touching a bound device,
 * malformed ioctl arguments, configuration while running, closing with
 * frames in flight, and an owner killed in the middle of traffic. None may
 * hurt the module (the rig also watches the kernel log).
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests.h"

#define RX	VNETLOOP_QUEUE_RX
#define TX	VNETLOOP_QUEUE_TX

static int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

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
 * The configuring process owns the device; a forked child has its own mm
 * and gets -EPERM for everything but GET_INFO, even with the shared fd.
 */
TEST(owner_other_process)
{
	struct vnetloop_irq_state st;
	int status, bad = 0;
	struct vg g;
	pid_t pid;

	ASSERT_EQ(0, vg_open(&g));
	ASSERT_EQ(0, vg_set_mem(&g));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct vnetloop_info info = { 0 };
		uint64_t f = VG_FEATURES_BASE;
		uint32_t bits = VIRTIO_MMIO_INT_VRING;

		bad |= (vg_set_mem(&g) != -EPERM) << 0;
		bad |= (vg_set_vring(&g, TX, 64) != -EPERM) << 1;
		bad |= (xioctl(g.fd, VNETLOOP_SET_FEATURES, &f) != -EPERM) << 2;
		bad |= (vg_set_eventfds(&g) != -EPERM) << 3;
		bad |= (vg_start(&g) != -EPERM) << 4;
		bad |= (xioctl(g.fd, VNETLOOP_RESET, NULL) != -EPERM) << 5;
		bad |= (xioctl(g.fd, VNETLOOP_GET_IRQ, &st) != -EPERM) << 6;
		bad |= (xioctl(g.fd, VNETLOOP_ACK_IRQ, &bits) != -EPERM) << 7;
		bad |= (xioctl(g.fd, VNETLOOP_GET_INFO, &info) != 0) << 8;
		bad |= (info.dev_id != g.info.dev_id) << 8;
		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("failed checks (bits): 0 MEM 1 VRING 2 FEATURES 3 EVENTFDS 4 START 5 RESET 6 GET_IRQ 7 ACK_IRQ 8 GET_INFO");

	/* The owner is unaffected. */
	ASSERT_EQ(0, vg_setup(&g, VG_FEATURES_EVENT_IDX, 64, 64));
	one_frame(_metadata, &g, 0);
	vg_close(&g);
}

/* An unconfigured device is bound by whoever configures it first. */
TEST(owner_first_configurer)
{
	int status;
	struct vg g;
	pid_t pid;

	ASSERT_EQ(0, vg_open(&g));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(vg_set_mem(&g) ? 1 : 0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* The child (now gone) owns it: the parent may not configure. */
	EXPECT_EQ(-EPERM, vg_set_mem(&g));
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

static int set_vring(struct vg *g, uint32_t index, uint32_t num,
		     uint32_t flags, uint32_t reserved0)
{
	struct vnetloop_vring v = {
		.index = index, .num = num,
		.desc_addr = vg_gpa(g->mem),
		.avail_addr = vg_gpa(g->mem + 4096),
		.used_addr = vg_gpa(g->mem + 8192),
		.flags = flags, .reserved0 = reserved0,
	};

	return xioctl(g->fd, VNETLOOP_SET_VRING, &v);
}

TEST_F(args, vring)
{
	struct vg *g = &self->g;
	struct vnetloop_vring v = {
		.index = TX, .num = 64, .desc_addr = UINT64_MAX - 100,
		.avail_addr = vg_gpa(g->mem), .used_addr = vg_gpa(g->mem),
	};

	EXPECT_EQ(0, set_vring(g, RX, 256, 0, 0));
	EXPECT_EQ(0, set_vring(g, TX, 1, 0, 0));
	EXPECT_EQ(-EINVAL, set_vring(g, 2, 64, 0, 0));
	EXPECT_EQ(-EINVAL, set_vring(g, UINT32_MAX, 64, 0, 0));
	EXPECT_EQ(-EINVAL, set_vring(g, TX, 0, 0, 0));
	EXPECT_EQ(-EINVAL, set_vring(g, TX, 3, 0, 0));
	EXPECT_EQ(-EINVAL, set_vring(g, TX, 100, 0, 0));
	EXPECT_EQ(-EINVAL, set_vring(g, TX, 512, 0, 0));
	EXPECT_EQ(-EINVAL, set_vring(g, TX, 1u << 31, 0, 0));
	EXPECT_EQ(-EINVAL, set_vring(g, TX, 64, 1, 0));
	EXPECT_EQ(-EINVAL, set_vring(g, TX, 64, 0, 1));

	/* Rings that would wrap the address space. */
	EXPECT_EQ(-EINVAL, xioctl(g->fd, VNETLOOP_SET_VRING, &v));
}

/* A mem table of n regions at p, the first at guest RAM. */
static int set_mem(struct vg *g, void *p, uint32_t n, uint32_t flags,
		   const struct vnetloop_mem_region *r, uint32_t nr)
{
	struct vnetloop_mem_table *t = p;

	t->nregions = n;
	t->flags = flags;
	memcpy(t->regions, r, nr * sizeof(*r));
	return xioctl(g->fd, VNETLOOP_SET_MEM_TABLE, t);
}

TEST_F(args, mem_table)
{
	struct vg *g = &self->g;
	uint64_t base = vg_gpa(g->mem);
	struct vnetloop_mem_region r[VNETLOOP_MAX_REGIONS + 1];
	uint64_t buf[(sizeof(struct vnetloop_mem_table) + sizeof(r)) / 8 + 1];
	unsigned int i;

	/* Eight disjoint 1 MiB regions: the maximum, valid. */
	for (i = 0; i < VNETLOOP_MAX_REGIONS + 1; i++)
		r[i] = (struct vnetloop_mem_region){
			.guest_phys_addr = base + i * (1u << 20),
			.memory_size = 1u << 20,
			.userspace_addr = base + (i % 8) * (1u << 20),
		};
	EXPECT_EQ(0, set_mem(g, buf, VNETLOOP_MAX_REGIONS, 0, r,
			     VNETLOOP_MAX_REGIONS));
	EXPECT_EQ(-EINVAL, set_mem(g, buf, 0, 0, r, 0));
	EXPECT_EQ(-E2BIG, set_mem(g, buf, VNETLOOP_MAX_REGIONS + 1, 0, r,
				  VNETLOOP_MAX_REGIONS + 1));
	EXPECT_EQ(-E2BIG, set_mem(g, buf, UINT32_MAX, 0, r, 1));
	EXPECT_EQ(-EINVAL, set_mem(g, buf, 1, 1, r, 1));

	r[0].flags = 1;
	EXPECT_EQ(-EINVAL, set_mem(g, buf, 1, 0, r, 1));
	r[0].flags = 0;
	r[0].memory_size = 0;
	EXPECT_EQ(-EINVAL, set_mem(g, buf, 1, 0, r, 1));
	r[0].memory_size = 1u << 20;
	/* Overlapping guest ranges. */
	r[1].guest_phys_addr = r[0].guest_phys_addr + 4096;
	EXPECT_EQ(-EINVAL, set_mem(g, buf, 2, 0, r, 2));
	r[1].guest_phys_addr = r[0].guest_phys_addr + (1u << 20);
	/* Guest range wrapping 2^64. */
	r[0].guest_phys_addr = UINT64_MAX - 4095;
	EXPECT_EQ(-EINVAL, set_mem(g, buf, 1, 0, r, 1));
	r[0].guest_phys_addr = base;
	/* Host range outside the user address space. */
	r[0].userspace_addr = UINT64_MAX - (1u << 20);
	EXPECT_NE(0, set_mem(g, buf, 1, 0, r, 1));
	r[0].userspace_addr = base;
	EXPECT_EQ(0, set_mem(g, buf, 1, 0, r, 1));
}

TEST_F(args, eventfds)
{
	struct vnetloop_eventfds e;
	struct vg *g = &self->g;
	int pipefd[2], nullfd;

	ASSERT_EQ(0, pipe(pipefd));
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, nullfd);

	e = (struct vnetloop_eventfds){ .kick_fd = g->kick, .call_fd = g->call };
	EXPECT_EQ(0, xioctl(g->fd, VNETLOOP_SET_EVENTFDS, &e));
	e.kick_fd = pipefd[0];
	EXPECT_EQ(-EINVAL, xioctl(g->fd, VNETLOOP_SET_EVENTFDS, &e));
	e.kick_fd = g->kick;
	e.call_fd = nullfd;
	EXPECT_EQ(-EINVAL, xioctl(g->fd, VNETLOOP_SET_EVENTFDS, &e));
	e.call_fd = g->fd;	/* the device itself */
	EXPECT_EQ(-EINVAL, xioctl(g->fd, VNETLOOP_SET_EVENTFDS, &e));
	e.call_fd = -1;
	EXPECT_EQ(-EBADF, xioctl(g->fd, VNETLOOP_SET_EVENTFDS, &e));
	e.call_fd = g->call;
	e.kick_fd = 1000000;
	EXPECT_EQ(-EBADF, xioctl(g->fd, VNETLOOP_SET_EVENTFDS, &e));
	e.kick_fd = g->kick;
	e.flags = 1;
	EXPECT_EQ(-EINVAL, xioctl(g->fd, VNETLOOP_SET_EVENTFDS, &e));
	close(pipefd[0]);
	close(pipefd[1]);
	close(nullfd);
}

TEST_F(args, features)
{
	struct vg *g = &self->g;

	EXPECT_EQ(0, vg_set_features(g, VNETLOOP_FEATURES));
	EXPECT_EQ(0, vg_set_features(g, VG_FEATURES_BASE));
	EXPECT_EQ(-EINVAL, vg_set_features(g, VG_FEATURES_BASE | 1ULL << 40));
	/* INDIRECT_DESC and NOTIFICATION_DATA are never offered. */
	EXPECT_EQ(-EINVAL, vg_set_features(g, VG_FEATURES_BASE | 1ULL << 28));
	EXPECT_EQ(-EINVAL, vg_set_features(g, VG_FEATURES_BASE | 1ULL << 38));
	EXPECT_EQ(-EINVAL, vg_set_features(g, ~0ULL));
}

/* Pointers the kernel cannot use: NULL, a low address, a guard page. */
TEST_F(args, bad_pointers)
{
	static const unsigned long reqs[] = {
		VNETLOOP_GET_INFO, VNETLOOP_SET_MEM_TABLE, VNETLOOP_SET_VRING,
		VNETLOOP_SET_FEATURES, VNETLOOP_SET_EVENTFDS,
		VNETLOOP_GET_IRQ, VNETLOOP_ACK_IRQ,
	};
	struct vnetloop_mem_table *t;
	struct vg *g = &self->g;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		EXPECT_EQ(-EFAULT, xioctl(g->fd, reqs[i], NULL))
			TH_LOG("ioctl 0x%lx with NULL", reqs[i]);
		EXPECT_EQ(-EFAULT, xioctl(g->fd, reqs[i], (void *)16))
			TH_LOG("ioctl 0x%lx with 16", reqs[i]);
		EXPECT_EQ(-EFAULT, xioctl(g->fd, reqs[i], self->page + 4096))
			TH_LOG("ioctl 0x%lx with a PROT_NONE page", reqs[i]);
	}
	/* A table whose second region runs into the guard page. */
	t = (void *)(self->page + 4096 - sizeof(*t) -
		     sizeof(struct vnetloop_mem_region));
	t->nregions = 2;
	t->flags = 0;
	t->regions[0] = (struct vnetloop_mem_region){
		vg_gpa(g->mem), g->mem_size, vg_gpa(g->mem), 0 };
	EXPECT_EQ(-EFAULT, xioctl(g->fd, VNETLOOP_SET_MEM_TABLE, t));
	/* One region fits before the guard page. */
	t->nregions = 1;
	EXPECT_EQ(0, xioctl(g->fd, VNETLOOP_SET_MEM_TABLE, t));
}

TEST_F(args, unknown_ioctl)
{
	struct vg *g = &self->g;
	char buf[64] = { 0 };

	EXPECT_EQ(-ENOTTY, xioctl(g->fd, _IO(VNETLOOP_IOC_MAGIC, 0x7f), buf));
	EXPECT_EQ(-ENOTTY, xioctl(g->fd, _IOR(VNETLOOP_IOC_MAGIC, 0x00,
					     uint32_t), buf));
	EXPECT_EQ(-ENOTTY, xioctl(g->fd, _IO('T', 0x01), buf));
}

/* START needs guest memory, the TX queue and both eventfds. */
TEST_F(args, start_incomplete)
{
	struct vg *g = &self->g;

	EXPECT_EQ(-EINVAL, vg_start(g));
	ASSERT_EQ(0, vg_set_mem(g));
	EXPECT_EQ(-EINVAL, vg_start(g));
	ASSERT_EQ(0, vg_set_vring(g, TX, 64));
	EXPECT_EQ(-EINVAL, vg_start(g));
	ASSERT_EQ(0, vg_set_eventfds(g));
	EXPECT_EQ(0, vg_start(g));
}

/* Configuration is refused while running, and RESET allows it again. */
TEST_F(args, busy_while_running)
{
	struct vnetloop_vring v = { .index = TX, .num = 64 };
	struct vg *g = &self->g;
	uint64_t f = VG_FEATURES_BASE;

	ASSERT_EQ(0, vg_setup(g, VG_FEATURES_EVENT_IDX, 64, 64));
	v.desc_addr = vg_gpa(g->q[TX].desc);
	v.avail_addr = vg_gpa(g->q[TX].avail);
	v.used_addr = vg_gpa(g->q[TX].used);
	EXPECT_EQ(-EBUSY, vg_set_mem(g));
	EXPECT_EQ(-EBUSY, xioctl(g->fd, VNETLOOP_SET_VRING, &v));
	EXPECT_EQ(-EBUSY, xioctl(g->fd, VNETLOOP_SET_FEATURES, &f));
	EXPECT_EQ(-EBUSY, vg_set_eventfds(g));
	EXPECT_EQ(-EBUSY, vg_start(g));
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
		id = g.info.dev_id;
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
	if (write(report, &g->info.dev_id, sizeof(g->info.dev_id)) < 0)
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
	EXPECT_EQ(g.info.dev_id, id);
	wait_traffic(_metadata, id);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));

	/* Still there, still owned by the dead child. */
	ASSERT_EQ(0, vnl_counters(id, c));
	EXPECT_EQ(-EPERM, vg_set_mem(&g));
	EXPECT_EQ(0, vg_kick(&g));
	EXPECT_EQ(0, vg_kick(&g));
	vg_sleep_ms(vg_settle_ms());
	ASSERT_EQ(0, vnl_counters(id, c));
	vg_close(&g);
	wait_gone(_metadata, id);
}

VNL_TEST_MAIN
