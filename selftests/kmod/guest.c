// SPDX-License-Identifier: GPL-2.0
/*
 * The userspace guest driver behind the module selftests (see guest.h).
 *
 * Guest RAM is one anonymous shared mapping; the memory table maps it at
 * guest-physical == its address, so ring and buffer pointers are GPAs as-is.
 * The rings of queue q live in VIRTQ_RING_BYTES at q * VIRTQ_RING_BYTES,
 * one page each: descriptors, avail, used (virtq_init_pages()). Buffers come
 * from a bump allocator after them.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

#define VG_HEAP_START	(VNETLOOP_NUM_QUEUES * VIRTQ_RING_BYTES)

int vg_check_device(char *why, size_t len)
{
	int fd = open(VG_DEV_PATH, O_RDWR | O_CLOEXEC);
	int err = errno;

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (err == ENOENT)
		snprintf(why, len, "%s is missing: vnetloop.ko is not loaded",
			 VG_DEV_PATH);
	else if (err == EACCES || err == EPERM)
		snprintf(why, len, "cannot open %s: %s (run as root)",
			 VG_DEV_PATH, strerror(err));
	else
		snprintf(why, len, "cannot open %s: %s", VG_DEV_PATH,
			 strerror(err));
	return -err;
}

int vg_open(struct vg *g)
{
	int err;

	memset(g, 0, sizeof(*g));
	g->kick = -1;
	g->call = -1;
	g->fd = open(VG_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (g->fd < 0)
		return -errno;
	if (ioctl(g->fd, VNETLOOP_GET_INFO, &g->info))
		goto fail;
	g->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (g->kick < 0)
		goto fail;
	g->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (g->call < 0)
		goto fail;
	/* Shared, so a forked child's guest writes are visible here too. */
	g->mem = mmap(NULL, VG_MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g->mem == MAP_FAILED) {
		g->mem = NULL;
		goto fail;
	}
	g->mem_size = VG_MEM_SIZE;
	g->heap = VG_HEAP_START;
	return 0;
fail:
	err = errno;
	vg_close(g);
	return -err;
}

void vg_close(struct vg *g)
{
	if (g->fd >= 0)
		close(g->fd);
	if (g->kick >= 0)
		close(g->kick);
	if (g->call >= 0)
		close(g->call);
	if (g->mem)
		munmap(g->mem, g->mem_size);
	memset(g, 0, sizeof(*g));
	g->fd = -1;
	g->kick = -1;
	g->call = -1;
}

void *vg_alloc(struct vg *g, size_t size)
{
	size_t off = (g->heap + 63) & ~(size_t)63;
	void *p;

	if (off > g->mem_size || size > g->mem_size - off)
		return NULL;
	p = g->mem + off;
	g->heap = off + size;
	memset(p, 0, size);
	return p;
}

static int vg_ioctl(struct vg *g, unsigned long req, void *arg)
{
	return ioctl(g->fd, req, arg) ? -errno : 0;
}

int vg_set_mem(struct vg *g)
{
	/* The table and its one region, suitably aligned. */
	uint64_t buf[(sizeof(struct vnetloop_mem_table) +
		      sizeof(struct vnetloop_mem_region)) / 8 + 1];
	struct vnetloop_mem_table *t = (void *)buf;

	memset(buf, 0, sizeof(buf));
	t->nregions = 1;
	t->regions[0].guest_phys_addr = vg_gpa(g->mem);
	t->regions[0].memory_size = g->mem_size;
	t->regions[0].userspace_addr = vg_gpa(g->mem);
	return vg_ioctl(g, VNETLOOP_SET_MEM_TABLE, t);
}

int vg_set_vring(struct vg *g, unsigned int q, uint16_t num)
{
	struct vnetloop_vring v;
	uint8_t *base;
	int ret;

	if (q >= VNETLOOP_NUM_QUEUES || !num || num > VNETLOOP_QUEUE_SIZE_MAX)
		return -EINVAL;
	/* virtq_init_pages()'s layout, set up once the device took it. */
	base = g->mem + q * VIRTQ_RING_BYTES;
	memset(&v, 0, sizeof(v));
	v.index = q;
	v.num = num;
	v.desc_addr = vg_gpa(base);
	v.avail_addr = vg_gpa(base + VIRTQ_PAGE);
	v.used_addr = vg_gpa(base + 2 * VIRTQ_PAGE);
	ret = vg_ioctl(g, VNETLOOP_SET_VRING, &v);
	if (ret)
		return ret;
	virtq_init_pages(&g->q[q], num, base);
	return 0;
}

int vg_set_features(struct vg *g, uint64_t features)
{
	return vg_ioctl(g, VNETLOOP_SET_FEATURES, &features);
}

int vg_set_eventfds(struct vg *g)
{
	struct vnetloop_eventfds e = { .kick_fd = g->kick, .call_fd = g->call };

	return vg_ioctl(g, VNETLOOP_SET_EVENTFDS, &e);
}

int vg_start(struct vg *g)
{
	return vg_ioctl(g, VNETLOOP_START, NULL);
}

int vg_setup(struct vg *g, uint64_t features, uint16_t rx_num,
	     uint16_t tx_num)
{
	int ret = vg_set_mem(g);

	return ret ? ret : vg_setup_queues(g, features, rx_num, tx_num);
}

int vg_setup_queues(struct vg *g, uint64_t features, uint16_t rx_num,
		    uint16_t tx_num)
{
	int ret;

	ret = vg_set_vring(g, VNETLOOP_QUEUE_RX, rx_num);
	if (!ret)
		ret = vg_set_vring(g, VNETLOOP_QUEUE_TX, tx_num);
	if (!ret)
		ret = vg_set_features(g, features);
	if (!ret)
		ret = vg_set_eventfds(g);
	if (!ret) {
		vg_arm(g);
		ret = vg_start(g);
	}
	return ret;
}

int vg_reset(struct vg *g)
{
	unsigned int q;
	int ret;

	ret = vg_ioctl(g, VNETLOOP_RESET, NULL);
	if (ret)
		return ret;
	/* The device forgot its ring positions; so does the driver. */
	for (q = 0; q < VNETLOOP_NUM_QUEUES; q++) {
		memset(g->mem + q * VIRTQ_RING_BYTES, 0, VIRTQ_RING_BYTES);
		memset(&g->q[q], 0, sizeof(g->q[q]));
	}
	vg_irq_count(g);
	return 0;
}

int vg_get_irq(struct vg *g, struct vnetloop_irq_state *st)
{
	memset(st, 0, sizeof(*st));
	return vg_ioctl(g, VNETLOOP_GET_IRQ, st);
}

int vg_ack_irq(struct vg *g, uint32_t bits)
{
	return vg_ioctl(g, VNETLOOP_ACK_IRQ, &bits);
}

void vg_desc_write(struct vg *g, unsigned int q, uint16_t i, uint64_t gpa,
		   uint32_t len, uint16_t flags, uint16_t next)
{
	virtq_set_desc(&g->q[q], i, gpa, len, flags, next);
}

void vg_chain(struct vg *g, unsigned int q, uint16_t head,
	      const struct vg_seg *segs, unsigned int n)
{
	virtq_write_chain(&g->q[q], head, segs, n);
}

void vg_avail_push(struct vg *g, unsigned int q, uint16_t head)
{
	virtq_avail_add(&g->q[q], head);
	virtq_publish(&g->q[q]);
}

void vg_post_split(struct vg *g, unsigned int q, uint16_t head, void *buf,
		   const uint32_t *lens, unsigned int n, uint16_t flags)
{
	struct vg_seg segs[VNETLOOP_QUEUE_SIZE_MAX];
	uint8_t *p = buf;
	unsigned int k;

	for (k = 0; k < n && k < VNETLOOP_QUEUE_SIZE_MAX; k++) {
		segs[k].gpa = vg_gpa(p);
		segs[k].len = lens[k];
		segs[k].flags = flags;
		p += lens[k];
	}
	vg_chain(g, q, head, segs, k);
	vg_avail_push(g, q, head);
}

void vg_post(struct vg *g, unsigned int q, uint16_t head, void *buf,
	     uint32_t len, uint16_t flags)
{
	vg_post_split(g, q, head, buf, &len, 1, flags);
}

void vg_fill(void *buf, size_t len, uint32_t seed)
{
	uint8_t *p = buf;
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
}

void vg_avail_set_idx(struct vg *g, unsigned int q, uint16_t idx)
{
	virtq_set_avail_idx(&g->q[q], idx);
}

void vg_avail_set_flags(struct vg *g, unsigned int q, uint16_t flags)
{
	virtq_set_avail_flags(&g->q[q], flags);
}

void vg_set_used_event(struct vg *g, unsigned int q, uint16_t v)
{
	virtq_set_used_event(&g->q[q], v);
}

void vg_arm(struct vg *g)
{
	unsigned int q;

	for (q = 0; q < VNETLOOP_NUM_QUEUES; q++)
		if (g->q[q].num)
			virtq_enable_cb(&g->q[q]);
}

uint16_t vg_used_idx(struct vg *g, unsigned int q)
{
	return virtq_used_idx(&g->q[q]);
}

uint16_t vg_used_pending(struct vg *g, unsigned int q)
{
	return virtq_used_pending(&g->q[q]);
}

int vg_used_pop(struct vg *g, unsigned int q, struct vg_used_elem *e)
{
	return virtq_get_used(&g->q[q], &e->id, &e->len);
}

int vg_kick(struct vg *g)
{
	uint64_t one = 1;

	if (write(g->kick, &one, sizeof(one)) != sizeof(one))
		return -errno;
	return 0;
}

int64_t vg_irq_count(struct vg *g)
{
	uint64_t n;

	if (read(g->call, &n, sizeof(n)) == sizeof(n))
		return (int64_t)n;
	return errno == EAGAIN ? 0 : -errno;
}

static int64_t vg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t vg_wait_irq(struct vg *g, int timeout_ms)
{
	struct pollfd p = { .fd = g->call, .events = POLLIN };
	int64_t end = vg_now_ms() + timeout_ms;
	int ret;

	for (;;) {
		int64_t left = end - vg_now_ms();

		ret = poll(&p, 1, left > 0 ? (int)left : 0);
		if (ret > 0)
			return vg_irq_count(g);
		if (ret == 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

void vg_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int vg_wait_used(struct vg *g, unsigned int q, uint16_t count,
		 int timeout_ms)
{
	int64_t end = vg_now_ms() + timeout_ms;

	/* No busy loop: the machine is shared. */
	while (vg_used_pending(g, q) < count) {
		if (vg_now_ms() >= end)
			return -ETIMEDOUT;
		vg_sleep_ms(1);
	}
	return 0;
}

int vg_settle_ms(void)
{
	const char *s = getenv("VNL_SETTLE_MS");
	int ms = s ? atoi(s) : 0;

	return ms > 0 ? ms : 200;
}
