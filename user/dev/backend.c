// SPDX-License-Identifier: GPL-2.0
/*
 * What the backends share: creating one by kind, the kick eventfds KVM
 * signals (the VMM's ioeventfds), raising the interrupt eventfds KVM listens
 * to (the VMM's irqfds), and the userspace home of the ring engine used by
 * the thread and inline backends.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "user/dev/backend.h"

int vnl_backend_create(enum vnl_backend_kind kind,
		       const struct vnl_backend_env *env,
		       struct vnl_backend **out)
{
	struct vnl_backend *b;
	uint64_t missing;
	int ret;

	switch (kind) {
	case VNL_BACKEND_KMOD:
		ret = backend_kmod_create(env, &b);
		break;
	case VNL_BACKEND_THREAD:
		ret = backend_thread_create(env, &b);
		break;
	case VNL_BACKEND_INLINE:
		ret = backend_inline_create(env, &b);
		break;
	default:
		return -EINVAL;
	}
	if (ret)
		return ret;
	/* The transport offers the guest only what the device offers. */
	missing = env->features & ~b->features;
	if (missing) {
		fprintf(stderr, "vnetloop: the %s backend's device does not offer feature bits 0x%llx (it offers 0x%llx)\n",
			b->ops->name, (unsigned long long)missing,
			(unsigned long long)b->features);
		b->ops->destroy(b);
		return -ENOTSUP;
	}
	*out = b;
	return 0;
}

void vnl_backend_destroy(struct vnl_backend *b)
{
	if (b)
		b->ops->destroy(b);
}

/* One write to fd, unless it is among the n already written. */
static void vnl_raise_once(int fd, int *done, unsigned int *n)
{
	uint64_t one = 1;

	if (fd < 0)
		return;
	for (unsigned int i = 0; i < *n; i++)
		if (done[i] == fd)
			return;
	done[(*n)++] = fd;
	if (write(fd, &one, sizeof(one)) != sizeof(one))
		fprintf(stderr, "vnetloop: interrupt eventfd write: %s\n",
			strerror(errno));
}

void vnl_backend_raise(struct vnl_backend *b, uint64_t vqs, bool config)
{
	int done[VNL_MAX_QUEUES + 1];
	unsigned int n = 0;

	for (unsigned int q = 0; q < vnl_backend_nqueues(b); q++)
		if (vqs & (1ULL << q))
			vnl_raise_once(b->call_fd[q], done, &n);
	if (config)
		vnl_raise_once(b->config_fd, done, &n);
}

uint64_t vnl_eventfd_take(int fd)
{
	uint64_t v;

	if (fd < 0 || read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static int vnl_kick_fd(int *fd)
{
	*fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (*fd < 0) {
		int err = errno;

		fprintf(stderr, "vnetloop: kick eventfd: %s\n", strerror(err));
		return -err;
	}
	return 0;
}

int vnl_backend_wire(struct vnl_backend *b, const struct vnl_backend_env *env,
		     bool kicks)
{
	int ret = 0;

	b->max_pairs = env->max_pairs ? env->max_pairs : 1;
	if (b->max_pairs > VNL_MAX_PAIRS) {
		fprintf(stderr, "vnetloop: %u queue pairs: the most is %u\n",
			b->max_pairs, VNL_MAX_PAIRS);
		return -EINVAL;
	}
	for (unsigned int q = 0; q < VNL_MAX_QUEUES; q++) {
		b->call_fd[q] = q < vnl_backend_nqueues(b) ? env->call_fd[q] : -1;
		b->kick_fd[q] = -1;
	}
	b->config_fd = env->config_fd;
	if (!kicks)
		return 0;
	/* RX kicks are no-ops for this device: swallowing them in KVM keeps
	 * them off the userspace exit path, as TX kicks are. */
	for (unsigned int q = 0; q < vnl_backend_nqueues(b) && !ret; q++)
		ret = vnl_kick_fd(&b->kick_fd[q]);
	if (ret)
		vnl_backend_unwire(b);
	return ret;
}

void vnl_backend_unwire(struct vnl_backend *b)
{
	for (unsigned int q = 0; q < VNL_MAX_QUEUES; q++) {
		if (b->kick_fd[q] >= 0)
			close(b->kick_fd[q]);
		b->kick_fd[q] = -1;
	}
}

/* ---- the engine over the VMM's mapping ---- */

static void vnl_ueng_commit(void *ctx, const u64 *delta)
{
	struct vnl_ueng *e = ctx;

	for (int i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
		e->counters[i] += delta[i];
}

/*
 * Under e->lock, so a reset cannot slip in between ISR and interrupt. On
 * one line (virtio-mmio, INTx) InterruptStatus says why.
 */
static void vnl_ueng_interrupt(void *ctx, u32 isr, unsigned int vqs)
{
	struct vnl_ueng *e = ctx;

	vnl_backend_raise(&e->be, vqs, isr & VIRTIO_MMIO_INT_CONFIG);
}

static const struct vnl_engine_ops vnl_ueng_ops = {
	.commit		= vnl_ueng_commit,
	.interrupt	= vnl_ueng_interrupt,
};

int vnl_ueng_init(struct vnl_ueng *e, const struct vnl_backend_env *env,
		  const struct vnl_backend_ops *ops, bool kicks)
{
	int ret;

	if (env->max_pairs > 1) {
		fprintf(stderr, "vnetloop: the %s backend has one queue pair, not %u\n",
			ops->name, env->max_pairs);
		return -ENOTSUP;
	}
	memset(e, 0, sizeof(*e));
	e->be.ops = ops;
	e->be.dev_id = -1;
	e->be.features = VNETLOOP_FEATURES;
	e->be.config_size = sizeof(e->config);
	e->env = *env;
	memcpy(e->config.mac, env->mac, sizeof(e->config.mac));
	vnl_engine_init(&e->eng, &vnl_ueng_ops, e, NULL);
	ret = vnl_engine_set_mem(&e->eng, &env->mem, 1);
	if (ret)
		return ret;
	pthread_mutex_init(&e->lock, NULL);
	ret = vnl_backend_wire(&e->be, env, kicks);
	if (ret)
		pthread_mutex_destroy(&e->lock);
	return ret;
}

void vnl_ueng_fini(struct vnl_ueng *e)
{
	vnl_backend_unwire(&e->be);
	pthread_mutex_destroy(&e->lock);
}

int vnl_ueng_start(struct vnl_backend *b, uint64_t features,
		   const struct vnl_queue_cfg *q)
{
	struct vnl_ueng *e = (struct vnl_ueng *)b;
	int ret;

	pthread_mutex_lock(&e->lock);
	/* A kick from before DRIVER_OK must not start a drain now. */
	vnl_eventfd_take(b->kick_fd[VNETLOOP_QUEUE_TX]);
	ret = vnl_engine_set_features(&e->eng, features);
	for (int i = 0; i < VNETLOOP_NUM_QUEUES && !ret; i++)
		if (q[i].ready)
			ret = vnl_engine_set_vring(&e->eng, i, q[i].num,
						   q[i].desc, q[i].avail,
						   q[i].used);
	if (ret)
		vnl_engine_reset(&e->eng);
	else
		vnl_engine_start(&e->eng);
	pthread_mutex_unlock(&e->lock);
	return ret;
}

void vnl_ueng_reset(struct vnl_backend *b)
{
	struct vnl_ueng *e = (struct vnl_ueng *)b;

	pthread_mutex_lock(&e->lock);
	vnl_engine_reset(&e->eng);
	pthread_mutex_unlock(&e->lock);
}

uint32_t vnl_ueng_isr_read(struct vnl_backend *b)
{
	return vnl_engine_isr(&((struct vnl_ueng *)b)->eng);
}

void vnl_ueng_isr_ack(struct vnl_backend *b, uint32_t bits)
{
	vnl_engine_isr_ack(&((struct vnl_ueng *)b)->eng, bits);
}

uint32_t vnl_ueng_status(struct vnl_backend *b)
{
	return vnl_engine_status(&((struct vnl_ueng *)b)->eng);
}

int vnl_ueng_config(struct vnl_backend *b, uint32_t off, void *buf,
		    uint32_t len)
{
	struct vnl_ueng *e = (struct vnl_ueng *)b;

	if (off > sizeof(e->config) || len > sizeof(e->config) - off)
		return -EINVAL;
	memcpy(buf, (const uint8_t *)&e->config + off, len);
	return 0;
}

int vnl_ueng_counters(struct vnl_backend *b, uint64_t *c, unsigned int *n)
{
	struct vnl_ueng *e = (struct vnl_ueng *)b;

	pthread_mutex_lock(&e->lock);
	memcpy(c, e->counters, sizeof(e->counters));
	pthread_mutex_unlock(&e->lock);
	*n = VNETLOOP_NUM_COUNTERS;
	return 0;
}

bool vnl_ueng_drain_locked(struct vnl_ueng *e)
{
	return vnl_drain(&e->eng);
}
