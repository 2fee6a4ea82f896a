// SPDX-License-Identifier: GPL-2.0
/*
 * Every stop is bounded, even with the worker parked in a fault that only
 * the owner can resolve: guest memory registered with userfaultfd (as a VMM
 * doing post-copy migration has it) and never filled. Status 0 (the reset)
 * during such a fault, SIGKILL of the owner with either fd order, and
 * SIGKILL while a thread is inside the reset each end within a second; the
 * device is gone afterwards and the accesses the stop failed count as
 * nothing.
 */
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests.h"

#define RX	VNETLOOP_QUEUE_RX
#define TX	VNETLOOP_QUEUE_TX
#define QNUM	16
#define TRAP_SIZE	(64u << 10)
#define FRAME	100u
/* What "within a second" means for every stop here. */
#define STOP_MS	1000

/*
 * The device with a second IOTLB entry, TRAP_SIZE bytes of unfilled uffd
 * memory.
 */
struct parked {
	struct vg g;
	int uffd;
	uint8_t *trap;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A userfaultfd with the trap registered for missing pages; -errno. */
static int trap_make(struct parked *p)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };

	p->uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (p->uffd < 0)
		return -errno;
	if (ioctl(p->uffd, UFFDIO_API, &api))
		return -errno;
	p->trap = mmap(NULL, TRAP_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->trap == MAP_FAILED) {
		p->trap = NULL;
		return -errno;
	}
	reg.range.start = (uintptr_t)p->trap;
	reg.range.len = TRAP_SIZE;
	if (ioctl(p->uffd, UFFDIO_REGISTER, &reg))
		return -errno;
	return 0;
}

/*
 * Both IOTLB entries (I/O virtual = host address; once: the IOTLB outlives
 * resets), rings, DRIVER_OK.
 */
static int dev_up(struct parked *p)
{
	struct vg *g = &p->g;
	int ret = 0;

	if (!g->mapped) {
		if (!g->owner)
			ret = vg_set_owner(g);
		if (!ret)
			ret = vg_set_mem(g);
		if (!ret)
			ret = vg_map(g, vg_gpa(p->trap), TRAP_SIZE, p->trap,
				     VHOST_ACCESS_RW);
		if (ret)
			return ret;
	}
	return vg_setup_queues(g, VG_FEATURES_EVENT_IDX, QNUM, QNUM);
}

/*
 * A frame whose TX buffer lies in the trap, an RX buffer for it, a kick;
 * then wait until the worker's fault reaches the userfaultfd: from then on
 * it is parked until someone fills the page (nobody will). 0 or -errno.
 */
static int park(struct parked *p)
{
	struct pollfd pfd = { .fd = p->uffd, .events = POLLIN };
	struct uffd_msg msg;
	uint8_t *rx;
	uint64_t a;
	int ret;

	rx = vg_alloc(&p->g, VNL_NET_HDR_LEN + FRAME);
	if (!rx)
		return -ENOMEM;
	vg_post(&p->g, RX, 0, rx, VNL_NET_HDR_LEN + FRAME, VRING_DESC_F_WRITE);
	/* Not written here: touching the trap would park us instead. */
	vg_desc_write(&p->g, TX, 0, vg_gpa(p->trap), VNL_NET_HDR_LEN + FRAME,
		      0, 0);
	vg_avail_push(&p->g, TX, 0);
	ret = vg_kick(&p->g);
	if (ret)
		return ret;
	ret = poll(&pfd, 1, VNL_TIMEOUT_MS);
	if (ret <= 0)
		return ret ? -errno : -ETIMEDOUT;
	if (read(p->uffd, &msg, sizeof(msg)) != sizeof(msg))
		return -EIO;
	a = msg.arg.pagefault.address;
	if (msg.event != UFFD_EVENT_PAGEFAULT ||
	    a < (uintptr_t)p->trap || a >= (uintptr_t)p->trap + TRAP_SIZE)
		return -EPROTO;
	return 0;
}

static void parked_close(struct parked *p)
{
	vg_close(&p->g);
	if (p->trap)
		munmap(p->trap, TRAP_SIZE);
	if (p->uffd >= 0)
		close(p->uffd);
	p->trap = NULL;
	p->uffd = -1;
}

/*
 * Set up and park in a child, in the fd order asked for, and report the
 * device id through the pipe; then wait to be killed, with a thread inside
 * the reset (status 0) and one waiting on the device lock if asked to.
 */
enum { DEVICE_FIRST, UFFD_FIRST, THREADS_IN_RESET };

static void *reset_thread(void *arg)
{
	struct parked *p = arg;

	for (;;)
		vg_set_status(&p->g, 0);
	return NULL;
}

static void *vring_thread(void *arg)
{
	struct vhost_vring_state s = { .index = TX, .num = QNUM };
	struct parked *p = arg;

	for (;;)
		vg_ioctl(&p->g, VHOST_SET_VRING_NUM, &s);
	return NULL;
}

static void child(int how, int wfd)
{
	struct parked p = { .uffd = -1 };
	pthread_t t;
	uint32_t id;

	if (how == UFFD_FIRST && trap_make(&p))
		_exit(10);
	if (vg_open(&p.g))
		_exit(11);
	if (how != UFFD_FIRST && trap_make(&p))
		_exit(10);
	if ((how == UFFD_FIRST) != (p.uffd < p.g.fd))
		_exit(12);
	if (dev_up(&p))
		_exit(13);
	if (park(&p))
		_exit(14);
	if (how == THREADS_IN_RESET &&
	    (pthread_create(&t, NULL, reset_thread, &p) ||
	     pthread_create(&t, NULL, vring_thread, &p)))
		_exit(15);
	id = p.g.dev_id;
	if (write(wfd, &id, sizeof(id)) != sizeof(id))
		_exit(16);
	for (;;)
		pause();
}

/* Kill the parked child; it must be gone within STOP_MS, and its device. */
static void kill_parked(struct __test_metadata *_metadata, int how)
{
	int64_t t0, waited;
	int pfd[2], status;
	uint32_t id;
	pid_t pid, r;

	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(pfd[0]);
		child(how, pfd[1]);
	}
	close(pfd[1]);
	if (read(pfd[0], &id, sizeof(id)) != sizeof(id)) {
		close(pfd[0]);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(0) TH_LOG("child failed to park: exit status %d (10 uffd, 11 open, 12 fd order, 13 setup, 14 park, 15 threads)",
				      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	close(pfd[0]);
	if (how == THREADS_IN_RESET)
		vg_sleep_ms(100);	/* let the threads get into their ioctls */

	t0 = now_ms();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	/* Wait up to ten times the bound, to tell slow from stuck. */
	do {
		r = waitpid(pid, &status, WNOHANG);
		if (!r)
			vg_sleep_ms(5);
		waited = now_ms() - t0;
	} while (!r && waited < 10 * STOP_MS);
	ASSERT_EQ(pid, r) TH_LOG("the owner is still there %" PRId64 " ms after SIGKILL",
				 waited);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	EXPECT_GT(STOP_MS, waited) TH_LOG("the owner took %" PRId64 " ms to die",
					  waited);
	TH_LOG("owner gone %" PRId64 " ms after SIGKILL", waited);
	/* Its last close ran the release: no device, no debugfs entry. */
	EXPECT_EQ(-ENODEV, vnl_counters(id, (uint64_t[VNETLOOP_NUM_COUNTERS]){ 0 }));
	EXPECT_EQ(0, vnl_dbg_dev_exists(id));
}

FIXTURE(stop) {
	struct parked p;
};

FIXTURE_SETUP(stop)
{
	int ret;

	self->p.uffd = -1;
	ASSERT_EQ(0, vg_open(&self->p.g));
	ret = trap_make(&self->p);
	ASSERT_EQ(0, ret) TH_LOG("userfaultfd: %s", strerror(-ret));
	ASSERT_EQ(0, dev_up(&self->p));
	vnl_wait_runs(_metadata, &self->p.g, 1);
}

FIXTURE_TEARDOWN(stop)
{
	parked_close(&self->p);
}

/*
 * Status 0 while the worker waits on the fault: bounded, and what the stop
 * failed (the TX buffer's read) is no guest error: no counter but the
 * kick's moves, no NEEDS_RESET, no interrupt, and the chain it was reading
 * is still the driver's (the TX position is where it was: QEMU restarts
 * there and the chain is offered again). The device works afterwards.
 */
TEST_F(stop, reset_during_fault)
{
	vnl_cnt_t before, after;
	uint8_t *tx, *rx;
	int64_t t0, took;
	int ret, i;

	vnl_read(_metadata, &self->p.g, before);
	ret = park(&self->p);
	ASSERT_EQ(0, ret) TH_LOG("parking the worker: %s", strerror(-ret));

	t0 = now_ms();
	ASSERT_EQ(0, vg_set_status(&self->p.g, 0));
	took = now_ms() - t0;
	EXPECT_GT(STOP_MS, took) TH_LOG("the reset took %" PRId64 " ms", took);
	TH_LOG("the reset returned after %" PRId64 " ms", took);

	vnl_expect_status(_metadata, &self->p.g, 0);
	EXPECT_EQ(0, vg_irq_count(&self->p.g));
	EXPECT_EQ(0, vg_config_count(&self->p.g));
	EXPECT_EQ(0, vg_used_idx(&self->p.g, TX));
	EXPECT_EQ(0, vg_get_vring_base(&self->p.g, TX))
		TH_LOG("the chain the stop interrupted is lost to the driver");
	vnl_read(_metadata, &self->p.g, after);
	for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++) {
		if (i == VNETLOOP_C_KICKS)
			continue;
		EXPECT_EQ(before[i], after[i])
			TH_LOG("counter %s moved by %" PRIu64,
			       vnl_counter_names[i], after[i] - before[i]);
	}

	/* Set up again; an ordinary frame goes through. */
	ASSERT_EQ(0, vg_reset(&self->p.g));
	ASSERT_EQ(0, dev_up(&self->p));
	tx = vg_alloc(&self->p.g, VNL_NET_HDR_LEN + FRAME);
	rx = vg_alloc(&self->p.g, VNL_NET_HDR_LEN + FRAME);
	ASSERT_NE(NULL, tx);
	ASSERT_NE(NULL, rx);
	vg_fill(tx + VNL_NET_HDR_LEN, FRAME, 7);
	vg_post(&self->p.g, RX, 0, rx, VNL_NET_HDR_LEN + FRAME,
		VRING_DESC_F_WRITE);
	vg_post(&self->p.g, TX, 0, tx, VNL_NET_HDR_LEN + FRAME, 0);
	ASSERT_EQ(0, vg_kick(&self->p.g));
	vnl_expect_used(_metadata, &self->p.g, RX, 0, VNL_NET_HDR_LEN + FRAME);
	EXPECT_EQ(0, memcmp(tx + VNL_NET_HDR_LEN, rx + VNL_NET_HDR_LEN, FRAME));
}

/* Closing the device (not the owner dying) while parked: bounded too. */
TEST_F(stop, close_during_fault)
{
	uint32_t id = self->p.g.dev_id;
	int64_t t0, took;
	int ret;

	ret = park(&self->p);
	ASSERT_EQ(0, ret) TH_LOG("parking the worker: %s", strerror(-ret));
	t0 = now_ms();
	close(self->p.g.fd);
	self->p.g.fd = -1;
	took = now_ms() - t0;
	EXPECT_GT(STOP_MS, took) TH_LOG("close took %" PRId64 " ms", took);
	EXPECT_EQ(-ENODEV, vnl_counters(id, (uint64_t[VNETLOOP_NUM_COUNTERS]){ 0 }));
}

/* The device's fd is lower, so it is released before the userfaultfd. */
TEST(kill_owner_device_fd_first)
{
	kill_parked(_metadata, DEVICE_FIRST);
}

/* The userfaultfd's is lower: it goes first and releases the fault. */
TEST(kill_owner_uffd_first)
{
	kill_parked(_metadata, UFFD_FIRST);
}

/* SIGKILL while one thread is inside the reset, another waits on the lock. */
TEST(kill_owner_inside_reset)
{
	kill_parked(_metadata, THREADS_IN_RESET);
}

VNL_TEST_MAIN
