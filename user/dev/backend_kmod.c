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
 * Counters come from debugfs (<debugfs>/vnetloop/<id>/counters, the "total"
 * line), read before the device is closed, since closing destroys it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "user/dev/backend.h"

#define KMOD_DEBUGFS	"/sys/kernel/debug/vnetloop"

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
	bits &= VNETLOOP_ISR_VRING | VNETLOOP_ISR_CONFIG;
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

/* Parse the "cpu <names...>" header and the "total <values...>" line. */
static int kmod_parse_counters(FILE *f, uint64_t *c, unsigned int *n)
{
	int id[VNETLOOP_NUM_COUNTERS * 2];
	unsigned int ncol = 0, seen = 0;
	char line[4096], *tok, *save;
	static const char *const names[] = VNETLOOP_COUNTER_NAMES;

	if (!fgets(line, sizeof(line), f))
		return -EIO;
	tok = strtok_r(line, " \n", &save);
	if (!tok || strcmp(tok, "cpu"))
		return -EPROTO;
	while ((tok = strtok_r(NULL, " \n", &save)) &&
	       ncol < sizeof(id) / sizeof(id[0])) {
		id[ncol] = -1;
		for (int i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
			if (!strcmp(tok, names[i]))
				id[ncol] = i;
		ncol++;
	}
	while (fgets(line, sizeof(line), f)) {
		tok = strtok_r(line, " \n", &save);
		if (!tok || strcmp(tok, "total"))
			continue;
		for (unsigned int i = 0; i < ncol; i++) {
			tok = strtok_r(NULL, " \n", &save);
			if (!tok)
				return -EPROTO;
			if (id[i] >= 0) {
				c[id[i]] = strtoull(tok, NULL, 10);
				seen++;
			}
		}
		*n = VNETLOOP_NUM_COUNTERS;
		return seen >= VNETLOOP_NUM_SPEC_COUNTERS ? 0 : -EPROTO;
	}
	return -EPROTO;
}

static int kmod_counters(struct vnl_backend *b, uint64_t *c, unsigned int *n)
{
	struct kmod_be *k = (struct kmod_be *)b;
	char path[128];
	FILE *f;
	int ret;

	memset(c, 0, VNETLOOP_NUM_COUNTERS * sizeof(*c));
	snprintf(path, sizeof(path), KMOD_DEBUGFS "/%u/counters",
		 k->info.dev_id);
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		fprintf(stderr, "vnetloop: cannot read %s: %s%s\n", path,
			strerror(-ret), ret == -ENOENT ?
			" (is debugfs mounted on /sys/kernel/debug?)" : "");
		return ret;
	}
	ret = kmod_parse_counters(f, c, n);
	fclose(f);
	if (ret)
		fprintf(stderr, "vnetloop: %s: unexpected format\n", path);
	return ret;
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
