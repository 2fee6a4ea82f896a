// SPDX-License-Identifier: GPL-2.0
/*
 * The userspace guest driver behind the module selftests (see guest.h).
 *
 * Guest RAM is one anonymous shared mapping; one IOTLB entry maps it at
 * I/O virtual (guest-physical) == its address, so ring and buffer pointers
 * are GPAs as-is.
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
#include "include/vnetloop/devid.h"

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

/* The MAC the config space reports, and the device id from fdinfo. */
static int vg_read_mac(struct vg *g)
{
	union vg_config cfg = { .c = { .off = 0, .len = sizeof(g->mac) } };

	if (ioctl(g->fd, VHOST_VDPA_GET_CONFIG, &cfg.c))
		return -errno;
	memcpy(g->mac, cfg.c.buf, sizeof(g->mac));
	return vnl_fd_dev_id(g->fd, &g->dev_id);
}

static int vg_eventfd(void)
{
	return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

int vg_open(struct vg *g)
{
	int err;

	memset(g, 0, sizeof(*g));
	g->kick = -1;
	g->rx_kick = -1;
	g->call = -1;
	g->config = -1;
	g->fd = open(VG_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (g->fd < 0)
		return -errno;
	err = vg_read_mac(g);
	if (err) {
		vg_close(g);
		return err;
	}
	g->kick = vg_eventfd();
	g->rx_kick = vg_eventfd();
	g->call = vg_eventfd();
	g->config = vg_eventfd();
	if (g->kick < 0 || g->rx_kick < 0 || g->call < 0 || g->config < 0)
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

static void vg_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void vg_close(struct vg *g)
{
	vg_close_fd(&g->fd);
	vg_close_fd(&g->kick);
	vg_close_fd(&g->rx_kick);
	vg_close_fd(&g->call);
	vg_close_fd(&g->config);
	if (g->mem)
		munmap(g->mem, g->mem_size);
	memset(g, 0, sizeof(*g));
	g->fd = -1;
	g->kick = -1;
	g->rx_kick = -1;
	g->call = -1;
	g->config = -1;
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

int vg_ioctl(struct vg *g, unsigned long req, void *arg)
{
	return ioctl(g->fd, req, arg) ? -errno : 0;
}

int vg_set_owner(struct vg *g)
{
	int ret = vg_ioctl(g, VHOST_SET_OWNER, NULL);

	if (!ret)
		g->owner = true;
	return ret;
}

int vg_iotlb(struct vg *g, uint8_t type, uint64_t iova, uint64_t size,
	     uint64_t uaddr, uint8_t perm)
{
	struct vhost_msg_v2 m = {
		.type = VHOST_IOTLB_MSG_V2,
		.iotlb = {
			.iova = iova, .size = size, .uaddr = uaddr,
			.perm = perm, .type = type,
		},
	};
	ssize_t n = write(g->fd, &m, sizeof(m));

	if (n < 0)
		return -errno;
	return n == sizeof(m) ? 0 : -EIO;
}

int vg_map(struct vg *g, uint64_t iova, uint64_t size, const void *uaddr,
	   uint8_t perm)
{
	return vg_iotlb(g, VHOST_IOTLB_UPDATE, iova, size, vg_gpa(uaddr), perm);
}

int vg_unmap(struct vg *g, uint64_t iova, uint64_t size)
{
	return vg_iotlb(g, VHOST_IOTLB_INVALIDATE, iova, size, 0, 0);
}

int vg_batch_begin(struct vg *g)
{
	return vg_iotlb(g, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0, 0);
}

int vg_batch_end(struct vg *g)
{
	return vg_iotlb(g, VHOST_IOTLB_BATCH_END, 0, 0, 0, 0);
}

int vg_set_mem(struct vg *g)
{
	int ret = vg_batch_begin(g);

	if (!ret)
		ret = vg_map(g, vg_gpa(g->mem), g->mem_size, g->mem,
			     VHOST_ACCESS_RW);
	if (!ret)
		ret = vg_batch_end(g);
	if (!ret)
		g->mapped = true;
	return ret;
}

int vg_get_status(struct vg *g, uint8_t *s)
{
	return vg_ioctl(g, VHOST_VDPA_GET_STATUS, s);
}

int vg_set_status(struct vg *g, uint8_t s)
{
	return vg_ioctl(g, VHOST_VDPA_SET_STATUS, &s);
}

int vg_add_status(struct vg *g, uint8_t bits)
{
	uint8_t s;
	int ret;

	ret = vg_get_status(g, &s);
	if (!ret)
		ret = vg_set_status(g, s | bits);
	if (!ret)
		ret = vg_get_status(g, &s);
	if (!ret && (s & bits) != bits)
		ret = -EIO;
	return ret;
}

int vg_needs_reset(struct vg *g)
{
	uint8_t s;
	int ret = vg_get_status(g, &s);

	return ret ? ret : !!(s & VIRTIO_CONFIG_S_NEEDS_RESET);
}

int vg_set_features(struct vg *g, uint64_t features)
{
	return vg_ioctl(g, VHOST_SET_FEATURES, &features);
}

int vg_negotiate(struct vg *g, uint64_t features)
{
	uint64_t offered, backend = VG_BACKEND_FEATURES;
	int ret = 0;

	if (!g->owner)
		ret = vg_set_owner(g);
	if (!ret)
		ret = vg_ioctl(g, VHOST_GET_FEATURES, &offered);
	if (!ret)
		ret = vg_ioctl(g, VHOST_SET_BACKEND_FEATURES, &backend);
	if (!ret)
		ret = vg_add_status(g, VG_S_ACK_DRIVER);
	if (!ret)
		ret = vg_set_features(g, features);
	if (!ret)
		ret = vg_add_status(g, VIRTIO_CONFIG_S_FEATURES_OK);
	return ret;
}

int vg_set_vring_addr(struct vg *g, unsigned int q, uint64_t desc,
		      uint64_t avail, uint64_t used)
{
	struct vhost_vring_addr a = {
		.index = q,
		.desc_user_addr = desc,
		.avail_user_addr = avail,
		.used_user_addr = used,
		.log_guest_addr = used,
	};

	return vg_ioctl(g, VHOST_SET_VRING_ADDR, &a);
}

int vg_set_call(struct vg *g, unsigned int q, int fd)
{
	struct vhost_vring_file f = { .index = q, .fd = fd };

	return vg_ioctl(g, VHOST_SET_VRING_CALL, &f);
}

int vg_set_config_call(struct vg *g, int fd)
{
	return vg_ioctl(g, VHOST_VDPA_SET_CONFIG_CALL, &fd);
}

/* Queue q's layout at its pages, its eventfds and base, then enable it. */
static int vg_vring_ioctls(struct vg *g, unsigned int q, uint16_t num,
			   uint16_t base)
{
	struct vhost_vring_state s = { .index = q, .num = num };
	struct vhost_vring_file f = { .index = q };
	uint8_t *p = g->mem + q * VIRTQ_RING_BYTES;
	int ret;

	ret = vg_ioctl(g, VHOST_SET_VRING_NUM, &s);
	if (!ret)
		ret = vg_set_vring_addr(g, q, vg_gpa(p), vg_gpa(p + VIRTQ_PAGE),
					vg_gpa(p + 2 * VIRTQ_PAGE));
	s.num = base;
	if (!ret)
		ret = vg_ioctl(g, VHOST_SET_VRING_BASE, &s);
	f.fd = q == VNETLOOP_QUEUE_TX ? g->kick : g->rx_kick;
	if (!ret)
		ret = vg_ioctl(g, VHOST_SET_VRING_KICK, &f);
	if (!ret)
		ret = vg_set_call(g, q, g->call);
	s.num = 1;
	if (!ret)
		ret = vg_ioctl(g, VHOST_VDPA_SET_VRING_ENABLE, &s);
	return ret;
}

int vg_set_vring(struct vg *g, unsigned int q, uint16_t num)
{
	int ret;

	if (q >= VNETLOOP_NUM_QUEUES || !num || num > VNETLOOP_QUEUE_SIZE_MAX)
		return -EINVAL;
	ret = vg_vring_ioctls(g, q, num, 0);
	if (ret)
		return ret;
	/* virtq_init_pages()'s layout, set up once the device took it. */
	virtq_init_pages(&g->q[q], num, g->mem + q * VIRTQ_RING_BYTES);
	return 0;
}

int vg_restore_vring(struct vg *g, unsigned int q, uint16_t base)
{
	if (q >= VNETLOOP_NUM_QUEUES || !g->q[q].num)
		return -EINVAL;
	return vg_vring_ioctls(g, q, g->q[q].num, base);
}

int vg_start(struct vg *g)
{
	int ret = vg_set_config_call(g, g->config);

	return ret ? ret : vg_add_status(g, VIRTIO_CONFIG_S_DRIVER_OK);
}

static int vg_setup_all(struct vg *g, bool map, uint64_t features,
			uint16_t rx_num, uint16_t tx_num)
{
	int ret;

	ret = vg_negotiate(g, features);
	if (!ret)
		ret = vg_set_vring(g, VNETLOOP_QUEUE_RX, rx_num);
	if (!ret)
		ret = vg_set_vring(g, VNETLOOP_QUEUE_TX, tx_num);
	/* The IOTLB survives resets: QEMU maps again, we need not. */
	if (!ret && map && !g->mapped)
		ret = vg_set_mem(g);
	if (!ret) {
		vg_arm(g);
		ret = vg_start(g);
	}
	return ret;
}

int vg_setup(struct vg *g, uint64_t features, uint16_t rx_num,
	     uint16_t tx_num)
{
	return vg_setup_all(g, true, features, rx_num, tx_num);
}

int vg_setup_queues(struct vg *g, uint64_t features, uint16_t rx_num,
		    uint16_t tx_num)
{
	return vg_setup_all(g, false, features, rx_num, tx_num);
}

int vg_reset(struct vg *g)
{
	unsigned int q;
	int ret;

	ret = vg_set_status(g, 0);
	if (ret)
		return ret;
	/* The device forgot the rings' layouts; the driver starts anew. */
	for (q = 0; q < VNETLOOP_NUM_QUEUES; q++) {
		memset(g->mem + q * VIRTQ_RING_BYTES, 0, VIRTQ_RING_BYTES);
		memset(&g->q[q], 0, sizeof(g->q[q]));
	}
	vg_irq_count(g);
	vg_config_count(g);
	return 0;
}

int vg_get_vring_base(struct vg *g, unsigned int q)
{
	struct vhost_vring_state s = { .index = q };
	int ret = vg_ioctl(g, VHOST_GET_VRING_BASE, &s);

	return ret ? ret : (int)s.num;
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

int64_t vg_efd_count(int fd)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) == sizeof(n))
		return (int64_t)n;
	return errno == EAGAIN ? 0 : -errno;
}

static int64_t vg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t vg_efd_wait(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int64_t end = vg_now_ms() + timeout_ms;
	int ret;

	for (;;) {
		int64_t left = end - vg_now_ms();

		ret = poll(&p, 1, left > 0 ? (int)left : 0);
		if (ret > 0)
			return vg_efd_count(fd);
		if (ret == 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

int64_t vg_wait_irq(struct vg *g, int timeout_ms)
{
	return vg_efd_wait(g->call, timeout_ms);
}

int64_t vg_irq_count(struct vg *g)
{
	return vg_efd_count(g->call);
}

int64_t vg_config_count(struct vg *g)
{
	return vg_efd_count(g->config);
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
