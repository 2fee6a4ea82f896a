// SPDX-License-Identifier: GPL-2.0
/*
 * The kmod backend: the data plane is vnetloop.ko. The VMM opens
 * /dev/vnetloop (one device per open), and on DRIVER_OK hands it the memory
 * table, the negotiated features, the rings and two eventfds: the TX kick
 * (the KVM ioeventfd on QueueNotify) and the call (the KVM irqfd). From then
 * on the module's worker moves the frames and raises the interrupt without
 * the VMM. The VMM still answers InterruptStatus/Status reads (GET_IRQ) and
 * InterruptACK writes (ACK_IRQ).
 *
 * Counters come from the module over generic netlink (CMD_GET of this
 * device, user/nl), read before the device is closed, since closing
 * destroys it. Not from debugfs: its formats are for people and may change
 * (Documentation/debugfs.rst).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "user/dev/backend.h"
#include "user/nl/nl.h"

struct kmod_be {
	struct vnl_backend be;
	struct vnl_backend_env env;
	int fd;
	struct vnetloop_info info;
};

static int kmod_ioctl(struct kmod_be *k, unsigned long cmd, void *arg,
		      const char *what)
{
	if (ioctl(k->fd, cmd, arg) == 0)
		return 0;
	fprintf(stderr, "vnetloop: /dev/vnetloop %s: %s\n", what,
		strerror(errno));
	return -errno;
}

static int kmod_start(struct vnl_backend *b, uint64_t features,
		      const struct vnl_queue_cfg *q)
{
	struct kmod_be *k = (struct kmod_be *)b;
	_Alignas(struct vnetloop_mem_table) uint8_t
		buf[sizeof(struct vnetloop_mem_table) +
		    sizeof(struct vnetloop_mem_region)] = { 0 };
	struct vnetloop_mem_table *mt = (void *)buf;
	struct vnetloop_eventfds efd = {
		.kick_fd = b->kick_fd,
		.call_fd = b->call_fd,
	};
	int ret;

	/* One region: all of guest RAM, at the VMM's mapping. */
	mt->nregions = 1;
	mt->regions[0] = (struct vnetloop_mem_region) {
		.guest_phys_addr = k->env.mem.gpa,
		.memory_size	 = k->env.mem.size,
		.userspace_addr	 = k->env.mem.hva,
	};
	ret = kmod_ioctl(k, VNETLOOP_SET_MEM_TABLE, mt, "SET_MEM_TABLE");
	if (!ret)
		ret = kmod_ioctl(k, VNETLOOP_SET_FEATURES, &features,
				 "SET_FEATURES");
	for (unsigned int i = 0; i < VNETLOOP_NUM_QUEUES && !ret; i++) {
		struct vnetloop_vring v = {
			.index	    = i,
			.num	    = q[i].num,
			.desc_addr  = q[i].desc,
			.avail_addr = q[i].avail,
			.used_addr  = q[i].used,
		};

		if (q[i].ready)
			ret = kmod_ioctl(k, VNETLOOP_SET_VRING, &v,
					 "SET_VRING");
	}
	/* A kick from before DRIVER_OK must not start a drain now. */
	vnl_eventfd_take(b->kick_fd);
	if (!ret)
		ret = kmod_ioctl(k, VNETLOOP_SET_EVENTFDS, &efd,
				 "SET_EVENTFDS");
	if (!ret)
		ret = kmod_ioctl(k, VNETLOOP_START, NULL, "START");
	if (ret)
		kmod_ioctl(k, VNETLOOP_RESET, NULL, "RESET");
	return ret;
}

static void kmod_reset(struct vnl_backend *b)
{
	kmod_ioctl((struct kmod_be *)b, VNETLOOP_RESET, NULL, "RESET");
}

static void kmod_irq_state(struct vnl_backend *b, uint32_t *isr,
			   uint32_t *status)
{
	struct vnetloop_irq_state s;

	if (kmod_ioctl((struct kmod_be *)b, VNETLOOP_GET_IRQ, &s, "GET_IRQ")) {
		*isr = *status = 0;
		return;
	}
	*isr = s.isr;
	*status = s.status;
}

static void kmod_irq_ack(struct vnl_backend *b, uint32_t bits)
{
	bits &= VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG;
	if (bits)
		kmod_ioctl((struct kmod_be *)b, VNETLOOP_ACK_IRQ, &bits,
			   "ACK_IRQ");
}

static void kmod_notify(struct vnl_backend *b)
{
	uint64_t one = 1;

	if (write(b->kick_fd, &one, sizeof(one)) != sizeof(one))
		perror("vnetloop: kick eventfd write");
}

static int kmod_counters(struct vnl_backend *b, uint64_t *c, unsigned int *n)
{
	struct kmod_be *k = (struct kmod_be *)b;
	struct vnl_dev_stats d;
	struct vnl_nl nl;
	unsigned int i;
	int ret;

	memset(c, 0, VNETLOOP_NUM_COUNTERS * sizeof(*c));
	vnl_nl_init(&nl, stderr);
	ret = vnl_nl_get_dev_once(&nl, k->info.dev_id, false, &d);
	if (ret) {
		fprintf(stderr, "vnetloop: the module's counters: %s\n", nl.err);
		return ret;
	}
	/* The counters from the first on, as far as the module sent them. */
	for (i = 0; i < VNETLOOP_NUM_COUNTERS && (d.present >> i & 1); i++)
		c[i] = d.c[i];
	vnl_dev_stats_free(&d);
	*n = i;
	if (i < VNETLOOP_NUM_SPEC_COUNTERS) {
		fprintf(stderr, "vnetloop: the module's counters of device %u: %s is missing from its reply\n",
			k->info.dev_id, vnl_counter_name(i));
		return -EPROTO;
	}
	return 0;
}

static void kmod_destroy(struct vnl_backend *b)
{
	struct kmod_be *k = (struct kmod_be *)b;

	/* Stop the worker before KVM lets go of the eventfds. */
	kmod_ioctl(k, VNETLOOP_RESET, NULL, "RESET");
	close(k->fd);
	vnl_backend_unwire(b, &k->env);
	free(k);
}

static const struct vnl_backend_ops kmod_ops = {
	.name		= "kmod",
	.start		= kmod_start,
	.reset		= kmod_reset,
	.irq_state	= kmod_irq_state,
	.irq_ack	= kmod_irq_ack,
	.notify		= kmod_notify,
	.counters	= kmod_counters,
	.destroy	= kmod_destroy,
};

int backend_kmod_create(const struct vnl_backend_env *env,
			struct vnl_backend **out)
{
	const char *path = env->kmod_path ? env->kmod_path : "/dev/vnetloop";
	struct kmod_be *k = calloc(1, sizeof(*k));
	int ret;

	if (!k)
		return -ENOMEM;
	k->be.ops = &kmod_ops;
	k->env = *env;
	k->fd = open(path, O_RDWR | O_CLOEXEC);
	if (k->fd < 0) {
		ret = errno == ENOENT ? -ENODEV : -errno;
		fprintf(stderr, "vnetloop: cannot open %s: %s%s\n", path,
			strerror(errno), errno == ENOENT ?
			" (is vnetloop.ko loaded?)" : "");
		free(k);
		return ret;
	}
	ret = kmod_ioctl(k, VNETLOOP_GET_INFO, &k->info, "GET_INFO");
	if (!ret && k->info.api_version != VNETLOOP_API_VERSION) {
		fprintf(stderr, "vnetloop: module API version %u, need %u\n",
			k->info.api_version, VNETLOOP_API_VERSION);
		ret = -EPROTONOSUPPORT;
	}
	if (!ret)
		ret = vnl_backend_wire(&k->be, env, true);
	k->be.dev_id = k->info.dev_id;
	if (ret) {
		close(k->fd);
		free(k);
		return ret;
	}
	*out = &k->be;
	return 0;
}
