// SPDX-License-Identifier: GPL-2.0
/*
 * The kmod backend: the data plane is vnetloop.ko, driven through the
 * vhost-vdpa uAPI of /dev/vnetloop (one open is one device) as QEMU drives
 * a vhost-vdpa device; the VMM stays the transport and the control plane.
 *
 *   create      VHOST_SET_OWNER, and the device's id from the fd's fdinfo
 *               (vnetloop-id); the device's features,
 *               id, queue size and config size checked against what the
 *               transport shows the guest; backend features IOTLB_MSG_V2
 *               (and IOTLB_BATCH); one IOTLB UPDATE mapping guest RAM
 *               (IOVA = guest-physical) to the VMM's mapping of it; the MAC
 *               (VHOST_VDPA_SET_CONFIG); per queue the kick (an eventfd
 *               the VMM makes a KVM ioeventfd on the queue's notify
 *               address) and the call (the queue's interrupt eventfd, the
 *               VMM's irqfd); the config call, an eventfd a watcher thread
 *               serves: it raises the configuration interrupt
 *   status      each step the driver takes before DRIVER_OK is
 *               VHOST_VDPA_SET_STATUS, read back; before FEATURES_OK,
 *               VHOST_SET_FEATURES with what the driver accepted plus
 *               VIRTIO_F_ACCESS_PLATFORM (addresses are IOVAs)
 *   DRIVER_OK   per ready queue VHOST_SET_VRING_NUM, _BASE 0, _ADDR
 *               (guest-physical) and VHOST_VDPA_SET_VRING_ENABLE, then
 *               DRIVER_OK, read back
 *   reset       VHOST_VDPA_SET_STATUS 0
 *
 * From DRIVER_OK on, the module's worker moves the frames and raises the
 * interrupt without the VMM. The module has no interrupt status register:
 * its interrupts go from the call eventfd straight into KVM, unseen by the
 * VMM. So the VMM makes up InterruptStatus (Documentation/vmm.rst):
 *
 *   CONFIG  the config call fired (the module poisoned a queue; Status
 *           then shows the module's NEEDS_RESET) and was not acknowledged.
 *           The watcher raises the line for it: the module raises none of
 *           its own when no buffer was used.
 *   VRING   a used ring's index moved since the last read that showed
 *           VRING. A driver that reads VRING looks at every queue after
 *           its read, so it finds everything up to what that read saw;
 *           an interrupt for nothing newer (one whose work an earlier
 *           handler took, or one that is not the device's) reads 0, as on
 *           the other backends. VRING when unsure would be harmless too:
 *           Linux's vm_interrupt() checks each queue and finds nothing.
 *
 * Counters come from the module over generic netlink (CMD_GET of this
 * device, user/nl), read before the device is closed, since closing
 * destroys it. Not from debugfs: its formats are for people and may change
 * (Documentation/debugfs.rst).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/vhost.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include "include/vnetloop/devid.h"
#include "user/dev/backend.h"
#include "user/nl/nl.h"

#define KMOD_F_ACCESS_PLATFORM	(1ULL << VIRTIO_F_ACCESS_PLATFORM)
#define KMOD_BACKEND_FEATURES	((1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) | \
				 (1ULL << VHOST_BACKEND_F_IOTLB_BATCH))
/* The widest config access the transport makes is 8 bytes. */
#define KMOD_CONFIG_MAX		32

struct kmod_be {
	struct vnl_backend be;
	struct vnl_backend_env env;
	const char *path;
	int fd;
	uint64_t backend_features;	/* accepted by the device */
	uint8_t status;			/* the last status the device took */
	int config_fd;			/* VHOST_VDPA_SET_CONFIG_CALL's */
	int stop_fd;			/* ends the watcher */
	pthread_t watcher;
	bool watching;
	/* The watcher against the ops: config_pending, running. */
	pthread_mutex_t lock;
	bool config_pending;		/* CONFIG, until acknowledged */
	bool running;			/* DRIVER_OK taken, until reset */
	/* Each ready queue's used->idx in the VMM's mapping, else NULL. */
	const uint16_t *used_idx[VNL_MAX_QUEUES];
	uint16_t used_seen[VNL_MAX_QUEUES];	/* at the last VRING */
	/*
	 * The device's queue pairs (vnetloop.ko's max_queue_pairs when it
	 * was opened): at least the guest's, whose control queue (2 N) is
	 * the device's last virtqueue (2 M).
	 */
	unsigned int dev_pairs;
};

/* The device's virtqueue behind the guest's queue q. */
static unsigned int kmod_dev_queue(const struct kmod_be *k, unsigned int q)
{
	if (k->be.max_pairs > 1 && q == vnl_ctrl_queue(k->be.max_pairs))
		return vnl_ctrl_queue(k->dev_pairs);
	return q;
}

static int kmod_ioctl(struct kmod_be *k, unsigned long cmd, void *arg,
		      const char *what)
{
	int err;

	if (ioctl(k->fd, cmd, arg) == 0)
		return 0;
	err = errno;
	fprintf(stderr, "vnetloop: %s %s: %s\n", k->path, what, strerror(err));
	return -err;
}

/* A vring ioctl of queue q. */
static int kmod_vring_ioctl(struct kmod_be *k, unsigned long cmd, void *arg,
			    const char *what, unsigned int q)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s of queue %u", what, q);
	return kmod_ioctl(k, cmd, arg, buf);
}

/* Set the status and read it back: every bit must have stuck. */
static int kmod_add_status(struct kmod_be *k, uint8_t s)
{
	uint8_t got;
	int ret;

	ret = kmod_ioctl(k, VHOST_VDPA_SET_STATUS, &s,
			 "VHOST_VDPA_SET_STATUS");
	if (!ret)
		ret = kmod_ioctl(k, VHOST_VDPA_GET_STATUS, &got,
				 "VHOST_VDPA_GET_STATUS");
	if (ret)
		return ret;
	if ((got & s) != s) {
		fprintf(stderr, "vnetloop: %s: status 0x%02x reads back as 0x%02x%s\n",
			k->path, s, got,
			(s & ~got & VIRTIO_CONFIG_S_FEATURES_OK) ?
			": the device refuses the features" : "");
		return -EIO;
	}
	k->status = s;
	return 0;
}

static int kmod_set_status(struct vnl_backend *b, uint32_t status,
			   uint64_t features)
{
	struct kmod_be *k = (struct kmod_be *)b;
	int ret;

	if ((status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(k->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		/* Ring and buffer addresses are IOVAs: guest-physical. */
		features |= KMOD_F_ACCESS_PLATFORM;
		ret = kmod_ioctl(k, VHOST_SET_FEATURES, &features,
				 "VHOST_SET_FEATURES");
		if (ret)
			return ret;
	}
	return kmod_add_status(k, status);
}

/* The guest's queue q's layout, position 0 and enable. */
static int kmod_vring(struct kmod_be *k, unsigned int gq,
		      const struct vnl_queue_cfg *c)
{
	unsigned int q = kmod_dev_queue(k, gq);
	struct vhost_vring_state st = { .index = q, .num = c->num };
	struct vhost_vring_addr a = {
		.index		 = q,
		.desc_user_addr	 = c->desc,
		.avail_user_addr = c->avail,
		.used_user_addr	 = c->used,
	};
	int ret;

	ret = kmod_vring_ioctl(k, VHOST_SET_VRING_NUM, &st,
			       "VHOST_SET_VRING_NUM", q);
	/* The guest starts its rings afresh after every reset. */
	st.num = 0;
	if (!ret)
		ret = kmod_vring_ioctl(k, VHOST_SET_VRING_BASE, &st,
				       "VHOST_SET_VRING_BASE", q);
	if (!ret)
		ret = kmod_vring_ioctl(k, VHOST_SET_VRING_ADDR, &a,
				       "VHOST_SET_VRING_ADDR", q);
	st.num = 1;
	if (!ret)
		ret = kmod_vring_ioctl(k, VHOST_VDPA_SET_VRING_ENABLE, &st,
				       "VHOST_VDPA_SET_VRING_ENABLE", q);
	return ret;
}

/* Where the VMM sees the used index of a ring at gpa, or NULL. */
static const uint16_t *kmod_used_idx(struct kmod_be *k, uint64_t gpa)
{
	const struct vnl_region *m = &k->env.mem;

	if (gpa < m->gpa || m->size < 4 || gpa - m->gpa > m->size - 4)
		return NULL;
	return (const uint16_t *)(uintptr_t)(m->hva + (gpa - m->gpa) + 2);
}

static uint16_t kmod_load_used(const uint16_t *p)
{
	return le16toh(__atomic_load_n(p, __ATOMIC_ACQUIRE));
}

static int kmod_start(struct vnl_backend *b, uint64_t features,
		      const struct vnl_queue_cfg *q)
{
	struct kmod_be *k = (struct kmod_be *)b;
	int ret = 0;

	/* The device took the features at FEATURES_OK. */
	(void)features;
	for (unsigned int i = 0; i < vnl_backend_nqueues(b) && !ret; i++)
		if (q[i].ready)
			ret = kmod_vring(k, i, &q[i]);
	if (ret)
		return ret;
	/* Before the device can use a buffer: every use is news. */
	for (unsigned int i = 0; i < vnl_backend_nqueues(b); i++) {
		k->used_idx[i] = q[i].ready ? kmod_used_idx(k, q[i].used) :
					      NULL;
		if (k->used_idx[i])
			k->used_seen[i] = kmod_load_used(k->used_idx[i]);
	}
	ret = kmod_add_status(k, k->status | VIRTIO_CONFIG_S_DRIVER_OK);
	pthread_mutex_lock(&k->lock);
	k->running = !ret;
	pthread_mutex_unlock(&k->lock);
	return ret;
}

static void kmod_reset(struct vnl_backend *b)
{
	struct kmod_be *k = (struct kmod_be *)b;
	uint8_t s = 0;

	/* The worker has stopped when this returns: no more calls. */
	kmod_ioctl(k, VHOST_VDPA_SET_STATUS, &s, "VHOST_VDPA_SET_STATUS 0");
	k->status = 0;
	pthread_mutex_lock(&k->lock);
	k->running = false;
	k->config_pending = false;
	vnl_eventfd_take(k->config_fd);
	pthread_mutex_unlock(&k->lock);
	memset(k->used_idx, 0, sizeof(k->used_idx));
}

/*
 * With k->lock: take a config call the module signalled. True when it
 * makes CONFIG pending; one from before the reset is dropped.
 */
static bool kmod_config_take(struct kmod_be *k)
{
	if (!vnl_eventfd_take(k->config_fd) || !k->running)
		return false;
	k->config_pending = true;
	return true;
}

/*
 * Raise the configuration interrupt for each config call: on one line the
 * module may have raised none, and the VMM must see it for InterruptStatus.
 */
static void *kmod_watch(void *arg)
{
	struct kmod_be *k = arg;
	struct pollfd p[2] = {
		{ .fd = k->stop_fd, .events = POLLIN },
		{ .fd = k->config_fd, .events = POLLIN },
	};

	pthread_setname_np(pthread_self(), "vnl-config");
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("vnetloop: config call watcher: poll");
			break;
		}
		if (p[0].revents)
			break;
		if (!p[1].revents)
			continue;
		pthread_mutex_lock(&k->lock);
		if (kmod_config_take(k))
			vnl_backend_raise(&k->be, 0, true);
		pthread_mutex_unlock(&k->lock);
	}
	return NULL;
}

static uint32_t kmod_isr_read(struct vnl_backend *b)
{
	struct kmod_be *k = (struct kmod_be *)b;
	uint16_t used[VNL_MAX_QUEUES] = { 0 };
	uint32_t isr = 0;
	unsigned int q;

	pthread_mutex_lock(&k->lock);
	/* A config call the watcher has yet to take belongs to this read. */
	kmod_config_take(k);
	if (k->config_pending)
		isr |= VIRTIO_MMIO_INT_CONFIG;
	pthread_mutex_unlock(&k->lock);
	/* Written only by the ops, which the transport serialises. */
	if (!k->running)
		return isr;

	for (q = 0; q < vnl_backend_nqueues(b); q++) {
		if (!k->used_idx[q])
			continue;
		used[q] = kmod_load_used(k->used_idx[q]);
		if (used[q] != k->used_seen[q])
			isr |= VIRTIO_MMIO_INT_VRING;
	}
	if (isr & VIRTIO_MMIO_INT_VRING)
		for (q = 0; q < vnl_backend_nqueues(b); q++)
			if (k->used_idx[q])
				k->used_seen[q] = used[q];
	return isr;
}

static void kmod_isr_ack(struct vnl_backend *b, uint32_t bits)
{
	struct kmod_be *k = (struct kmod_be *)b;

	if (!(bits & VIRTIO_MMIO_INT_CONFIG))
		return;
	pthread_mutex_lock(&k->lock);
	k->config_pending = false;
	pthread_mutex_unlock(&k->lock);
}

/* NEEDS_RESET is the module's: it poisons queues. */
static uint32_t kmod_status(struct vnl_backend *b)
{
	uint8_t s;

	if (kmod_ioctl((struct kmod_be *)b, VHOST_VDPA_GET_STATUS, &s,
		       "VHOST_VDPA_GET_STATUS"))
		return 0;
	return s;
}

/* Config space bytes [off, off + len) in or out of the device. */
static int kmod_config_io(struct kmod_be *k, bool set, uint32_t off,
			  void *buf, uint32_t len)
{
	_Alignas(struct vhost_vdpa_config) uint8_t
		raw[sizeof(struct vhost_vdpa_config) + KMOD_CONFIG_MAX];
	struct vhost_vdpa_config *c = (void *)raw;
	char what[64];
	int ret;

	if (len > KMOD_CONFIG_MAX)
		return -EINVAL;
	c->off = off;
	c->len = len;
	snprintf(what, sizeof(what), "VHOST_VDPA_%s_CONFIG of bytes %u..%u",
		 set ? "SET" : "GET", off, off + len - 1);
	if (set)
		memcpy(c->buf, buf, len);
	ret = kmod_ioctl(k, set ? VHOST_VDPA_SET_CONFIG :
			 VHOST_VDPA_GET_CONFIG, c, what);
	if (!ret && !set)
		memcpy(buf, c->buf, len);
	return ret;
}

/*
 * The device's config space, but max_virtqueue_pairs is the guest's: the
 * device may have more pairs than the VMM gives the guest.
 */
static int kmod_config(struct vnl_backend *b, uint32_t off, void *buf,
		       uint32_t len)
{
	const uint32_t mvp = offsetof(struct virtio_net_config,
				      max_virtqueue_pairs);
	uint8_t le[2] = { b->max_pairs & 0xff, b->max_pairs >> 8 };
	int ret = kmod_config_io((struct kmod_be *)b, false, off, buf, len);

	for (uint32_t i = 0; !ret && b->max_pairs > 1 && i < sizeof(le); i++)
		if (mvp + i >= off && mvp + i < off + len)
			((uint8_t *)buf)[mvp + i - off] = le[i];
	return ret;
}

static void kmod_notify(struct vnl_backend *b, unsigned int q)
{
	uint64_t one = 1;

	/* RX kicks mean nothing to the device. */
	if (q < vnl_backend_nqueues(b) && q % 2 == 0 &&
	    q != vnl_ctrl_queue(b->max_pairs))
		return;
	if (q >= vnl_backend_nqueues(b) || b->kick_fd[q] < 0)
		return;
	if (write(b->kick_fd[q], &one, sizeof(one)) != sizeof(one))
		perror("vnetloop: kick eventfd write");
}

/* The device's counters over netlink (want: VNL_NL_PER_*), or -errno. */
static int kmod_read(struct vnl_backend *b, unsigned int want,
		     struct vnl_dev_stats *d)
{
	struct vnl_nl nl;
	int ret;

	vnl_nl_init(&nl, stderr);
	ret = vnl_nl_get_dev_once(&nl, b->dev_id, want, d);
	if (ret)
		fprintf(stderr, "vnetloop: the module's counters%s: %s\n",
			want & VNL_NL_PER_QUEUE ? " per queue pair" : "",
			nl.err);
	return ret;
}

static int kmod_counters(struct vnl_backend *b, uint64_t *c, unsigned int *n)
{
	struct vnl_dev_stats d;
	unsigned int i;
	int ret;

	memset(c, 0, VNETLOOP_NUM_COUNTERS * sizeof(*c));
	ret = kmod_read(b, 0, &d);
	if (ret)
		return ret;
	/* The counters from the first on, as far as the module sent them. */
	for (i = 0; i < VNETLOOP_NUM_COUNTERS && (d.present >> i & 1); i++)
		c[i] = d.c[i];
	vnl_dev_stats_free(&d);
	*n = i;
	if (i < VNETLOOP_NUM_SPEC_COUNTERS) {
		fprintf(stderr, "vnetloop: the module's counters of device %d: %s is missing from its reply\n",
			b->dev_id, vnl_counter_name(i));
		return -EPROTO;
	}
	return 0;
}

/* Pair p's counters, as the module keeps them per queue pair. */
static int kmod_queue_counters(struct vnl_backend *b, unsigned int p,
			       uint64_t *c)
{
	struct vnl_dev_stats d;
	int ret;

	memset(c, 0, VNETLOOP_NUM_COUNTERS * sizeof(*c));
	ret = kmod_read(b, VNL_NL_PER_QUEUE, &d);
	if (ret)
		return ret;
	ret = -ENOENT;
	for (unsigned int i = 0; i < d.nqueues; i++) {
		if (d.queues[i].key != p)
			continue;
		for (unsigned int k = 0; k < VNETLOOP_NUM_COUNTERS; k++)
			c[k] = d.queues[i].c[k];
		ret = 0;
	}
	vnl_dev_stats_free(&d);
	if (ret)
		fprintf(stderr, "vnetloop: device %d has no counters of queue pair %u\n",
			b->dev_id, p);
	return ret;
}

/* Also undoes a create that failed half-way. */
static void kmod_destroy(struct vnl_backend *b)
{
	struct kmod_be *k = (struct kmod_be *)b;
	uint64_t one = 1;

	if (k->watching) {
		if (write(k->stop_fd, &one, sizeof(one)) == sizeof(one))
			pthread_join(k->watcher, NULL);
		else
			perror("vnetloop: config call watcher: stop");
	}
	if (k->fd >= 0) {
		/* Stop the worker before KVM lets go of the eventfds. */
		kmod_reset(b);
		close(k->fd);
	}
	if (k->config_fd >= 0)
		close(k->config_fd);
	if (k->stop_fd >= 0)
		close(k->stop_fd);
	vnl_backend_unwire(b);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

static const struct vnl_backend_ops kmod_ops = {
	.name		= "kmod",
	.set_status	= kmod_set_status,
	.start		= kmod_start,
	.reset		= kmod_reset,
	.isr_read	= kmod_isr_read,
	.isr_ack	= kmod_isr_ack,
	.status		= kmod_status,
	.config		= kmod_config,
	.notify		= kmod_notify,
	.counters	= kmod_counters,
	.queue_counters	= kmod_queue_counters,
	.destroy	= kmod_destroy,
};

/* VHOST_SET_OWNER, and the device's id (the fd's fdinfo names it). */
static int kmod_bind(struct kmod_be *k)
{
	uint32_t id = 0;
	int ret;

	ret = kmod_ioctl(k, VHOST_SET_OWNER, NULL, "VHOST_SET_OWNER");
	if (ret)
		return ret;
	ret = vnl_fd_dev_id(k->fd, &id);
	if (ret) {
		fprintf(stderr, "vnetloop: %s: no device id in its fdinfo: %s\n",
			k->path, strerror(-ret));
		return ret;
	}
	k->be.dev_id = id;
	return 0;
}

/*
 * The device's queue pairs: the guest's may be fewer, never more (the
 * module parameter decides a device's, when it is opened).
 */
static int kmod_check_pairs(struct kmod_be *k)
{
	const uint64_t mq = (1ULL << VIRTIO_NET_F_MQ) |
			    (1ULL << VIRTIO_NET_F_CTRL_VQ);
	uint16_t le = 0;
	int ret;

	k->dev_pairs = 1;
	if ((k->be.features & mq) == mq) {
		ret = kmod_config_io(k, false,
				     offsetof(struct virtio_net_config,
					      max_virtqueue_pairs),
				     &le, sizeof(le));
		if (ret)
			return ret;
		k->dev_pairs = le16toh(le);
	}
	if (k->env.max_pairs <= 1)
		return 0;
	if (k->dev_pairs < k->env.max_pairs) {
		fprintf(stderr, "vnetloop: %s: the device has %u queue pair%s, fewer than the %u asked for: vnetloop.ko gives each device it opens max_queue_pairs pairs (echo %u > /sys/module/vnetloop/parameters/max_queue_pairs)\n",
			k->path, k->dev_pairs, k->dev_pairs == 1 ? "" : "s",
			k->env.max_pairs, k->env.max_pairs);
		return -ENOTSUP;
	}
	return 0;
}

/* What the transport shows the guest, the device must have. */
static int kmod_check(struct kmod_be *k)
{
	uint32_t id, size;
	uint16_t num;
	int ret;

	ret = kmod_ioctl(k, VHOST_VDPA_GET_DEVICE_ID, &id,
			 "VHOST_VDPA_GET_DEVICE_ID");
	if (!ret && id != VIRTIO_ID_NET) {
		fprintf(stderr, "vnetloop: %s: device id %u, not %u (network)\n",
			k->path, id, VIRTIO_ID_NET);
		return -ENOTSUP;
	}
	if (!ret)
		ret = kmod_ioctl(k, VHOST_GET_FEATURES, &k->be.features,
				 "VHOST_GET_FEATURES");
	if (!ret && !(k->be.features & KMOD_F_ACCESS_PLATFORM)) {
		fprintf(stderr, "vnetloop: %s: features 0x%llx lack VIRTIO_F_ACCESS_PLATFORM: the device would not take guest-physical addresses through its IOTLB\n",
			k->path, (unsigned long long)k->be.features);
		return -ENOTSUP;
	}
	if (!ret)
		ret = kmod_ioctl(k, VHOST_VDPA_GET_VRING_NUM, &num,
				 "VHOST_VDPA_GET_VRING_NUM");
	if (!ret && num < VNETLOOP_QUEUE_SIZE_MAX) {
		fprintf(stderr, "vnetloop: %s: queues of up to %u entries, not %u\n",
			k->path, num, VNETLOOP_QUEUE_SIZE_MAX);
		return -ENOTSUP;
	}
	if (!ret)
		ret = kmod_ioctl(k, VHOST_VDPA_GET_CONFIG_SIZE, &size,
				 "VHOST_VDPA_GET_CONFIG_SIZE");
	if (!ret && size < sizeof(k->env.mac)) {
		fprintf(stderr, "vnetloop: %s: %u bytes of config space, too few for the MAC\n",
			k->path, size);
		return -ENOTSUP;
	}
	if (!ret)
		k->be.config_size = size;
	if (!ret)
		ret = kmod_check_pairs(k);
	return ret;
}

/* One IOTLB message. */
static int kmod_iotlb(struct kmod_be *k, uint8_t type, const char *what)
{
	struct vhost_msg_v2 m = {
		.type  = VHOST_IOTLB_MSG_V2,
		.iotlb = { .type = type },
	};
	ssize_t n;
	int err;

	if (type == VHOST_IOTLB_UPDATE)
		m.iotlb = (struct vhost_iotlb_msg) {
			.iova  = k->env.mem.gpa,
			.size  = k->env.mem.size,
			.uaddr = k->env.mem.hva,
			.perm  = VHOST_ACCESS_RW,
			.type  = type,
		};
	n = write(k->fd, &m, sizeof(m));
	if (n == sizeof(m))
		return 0;
	err = n < 0 ? errno : EIO;
	fprintf(stderr, "vnetloop: %s: IOTLB %s: %s\n", k->path, what,
		n < 0 ? strerror(err) : "short write");
	return -err;
}

/* Guest RAM, as one IOTLB entry: IOVA = guest-physical. */
static int kmod_map(struct kmod_be *k)
{
	bool batch;
	uint64_t f;
	int ret;

	ret = kmod_ioctl(k, VHOST_GET_BACKEND_FEATURES, &f,
			 "VHOST_GET_BACKEND_FEATURES");
	if (ret)
		return ret;
	f &= KMOD_BACKEND_FEATURES;
	if (!(f & (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2))) {
		fprintf(stderr, "vnetloop: %s: no VHOST_BACKEND_F_IOTLB_MSG_V2 among the backend features\n",
			k->path);
		return -ENOTSUP;
	}
	ret = kmod_ioctl(k, VHOST_SET_BACKEND_FEATURES, &f,
			 "VHOST_SET_BACKEND_FEATURES");
	if (ret)
		return ret;
	k->backend_features = f;
	batch = f & (1ULL << VHOST_BACKEND_F_IOTLB_BATCH);
	if (batch)
		ret = kmod_iotlb(k, VHOST_IOTLB_BATCH_BEGIN, "BATCH_BEGIN");
	if (!ret)
		ret = kmod_iotlb(k, VHOST_IOTLB_UPDATE, "UPDATE of guest RAM");
	if (!ret && batch)
		ret = kmod_iotlb(k, VHOST_IOTLB_BATCH_END, "BATCH_END");
	return ret;
}

/* The MAC into config space; it must read back. */
static int kmod_set_mac(struct kmod_be *k)
{
	uint8_t mac[sizeof(k->env.mac)];
	int ret;

	memcpy(mac, k->env.mac, sizeof(mac));
	ret = kmod_config_io(k, true, 0, mac, sizeof(mac));
	if (!ret)
		ret = kmod_config_io(k, false, 0, mac, sizeof(mac));
	if (!ret && memcmp(mac, k->env.mac, sizeof(mac))) {
		fprintf(stderr, "vnetloop: %s: the device keeps MAC %02x:%02x:%02x:%02x:%02x:%02x after VHOST_VDPA_SET_CONFIG\n",
			k->path, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
		return -EIO;
	}
	return ret;
}

/* Kicks and calls of every queue, and the config call and its watcher. */
static int kmod_eventfds(struct kmod_be *k)
{
	struct vhost_vring_file f;
	int ret;

	ret = vnl_backend_wire(&k->be, &k->env, true);
	for (unsigned int gq = 0; gq < vnl_backend_nqueues(&k->be) && !ret;
	     gq++) {
		unsigned int q = kmod_dev_queue(k, gq);

		f = (struct vhost_vring_file) { .index = q,
						.fd = k->be.kick_fd[gq] };
		ret = kmod_vring_ioctl(k, VHOST_SET_VRING_KICK, &f,
				       "VHOST_SET_VRING_KICK", q);
		/* Queues that share a line share an eventfd: the module
		 * signals it once per drain. */
		f.fd = k->be.call_fd[gq];
		if (!ret)
			ret = kmod_vring_ioctl(k, VHOST_SET_VRING_CALL, &f,
					       "VHOST_SET_VRING_CALL", q);
	}
	if (ret)
		return ret;
	k->config_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	k->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (k->config_fd < 0 || k->stop_fd < 0) {
		ret = -errno;
		perror("vnetloop: eventfd for the config call");
		return ret;
	}
	ret = kmod_ioctl(k, VHOST_VDPA_SET_CONFIG_CALL, &k->config_fd,
			 "VHOST_VDPA_SET_CONFIG_CALL");
	if (ret)
		return ret;
	ret = -pthread_create(&k->watcher, NULL, kmod_watch, k);
	if (ret) {
		fprintf(stderr, "vnetloop: cannot start the config call watcher: %s\n",
			strerror(-ret));
		return ret;
	}
	k->watching = true;
	return 0;
}

int backend_kmod_create(const struct vnl_backend_env *env,
			struct vnl_backend **out)
{
	struct kmod_be *k = calloc(1, sizeof(*k));
	int ret;

	if (!k)
		return -ENOMEM;
	k->be.ops = &kmod_ops;
	for (unsigned int q = 0; q < VNL_MAX_QUEUES; q++)
		k->be.kick_fd[q] = -1;
	k->be.max_pairs = env->max_pairs ? env->max_pairs : 1;
	k->be.dev_id = -1;
	k->env = *env;
	k->path = env->kmod_path ? env->kmod_path : "/dev/vnetloop";
	k->config_fd = k->stop_fd = -1;
	pthread_mutex_init(&k->lock, NULL);
	k->fd = open(k->path, O_RDWR | O_CLOEXEC);
	if (k->fd < 0) {
		ret = errno == ENOENT ? -ENODEV : -errno;
		fprintf(stderr, "vnetloop: cannot open %s: %s%s\n", k->path,
			strerror(errno), errno == ENOENT ?
			" (is vnetloop.ko loaded?)" : "");
		kmod_destroy(&k->be);
		return ret;
	}
	ret = kmod_bind(k);
	if (!ret)
		ret = kmod_check(k);
	if (!ret)
		ret = kmod_map(k);
	if (!ret)
		ret = kmod_set_mac(k);
	if (!ret)
		ret = kmod_eventfds(k);
	if (ret) {
		kmod_destroy(&k->be);
		return ret;
	}
	*out = &k->be;
	return 0;
}
