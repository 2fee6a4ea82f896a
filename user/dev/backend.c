// SPDX-License-Identifier: GPL-2.0
/*
 * What the backends share: creating one by kind, the kick eventfds KVM
 * signals (the VMM's ioeventfds), raising the interrupt eventfds KVM listens
 * to (the VMM's irqfds), and the userspace home of the ring engine used by
 * the thread and inline backends.
 */
#include <endian.h>
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
	case VNL_BACKEND_VHOST_NET:
		ret = backend_vhostnet_create(env, &b);
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

/* ---- the engines over the VMM's mapping ---- */

static void vnl_ueng_commit(void *ctx, const u64 *delta)
{
	struct vnl_upair *p = ctx;

	for (int i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
		p->counters[i] += delta[i];
}

/*
 * Under the pair's lock, so a reset cannot slip in between ISR and
 * interrupt. On one line (virtio-mmio, INTx) InterruptStatus says why.
 * The engine's queues are the pair's virtqueues, and the control queue.
 */
static void vnl_ueng_interrupt(void *ctx, u32 isr, unsigned int vqs)
{
	struct vnl_upair *p = ctx;
	struct vnl_backend *b = &p->u->be;
	uint64_t dev = 0;

	if (vqs & (1U << VNETLOOP_QUEUE_RX))
		dev |= 1ULL << (2 * p->index + VNETLOOP_QUEUE_RX);
	if (vqs & (1U << VNETLOOP_QUEUE_TX))
		dev |= 1ULL << (2 * p->index + VNETLOOP_QUEUE_TX);
	if ((vqs & (1U << VNETLOOP_QUEUE_CTRL)) && b->max_pairs > 1)
		dev |= 1ULL << vnl_ctrl_queue(b->max_pairs);
	vnl_backend_raise(b, dev, isr & VIRTIO_MMIO_INT_CONFIG);
}

/* VQ_PAIRS_SET, from pair 0's control drain; the engine checked pairs. */
static int vnl_ueng_set_pairs(void *ctx, u16 pairs)
{
	struct vnl_upair *p = ctx;

	atomic_store(&p->u->active, pairs);
	return 0;
}

static const struct vnl_engine_ops vnl_ueng_ops = {
	.commit		= vnl_ueng_commit,
	.interrupt	= vnl_ueng_interrupt,
	.set_pairs	= vnl_ueng_set_pairs,
};

int vnl_ueng_init(struct vnl_ueng *e, const struct vnl_backend_env *env,
		  const struct vnl_backend_ops *ops, bool kicks)
{
	unsigned int pairs = env->max_pairs ? env->max_pairs : 1, i;
	int ret;

	memset(e, 0, sizeof(*e));
	if (pairs > VNL_MAX_PAIRS) {
		fprintf(stderr, "vnetloop: %u queue pairs: the most is %u\n",
			pairs, VNL_MAX_PAIRS);
		return -EINVAL;
	}
	e->be.ops = ops;
	e->be.dev_id = -1;
	e->be.features = VNETLOOP_FEATURES;
	e->be.config_size = sizeof(e->config);
	e->env = *env;
	memcpy(e->config.mac, env->mac, sizeof(e->config.mac));
	if (pairs > 1) {
		e->be.features |= VNETLOOP_FEATURES_MQ;
		e->config.max_virtqueue_pairs = htole16(pairs);
	}
	atomic_init(&e->active, 1);
	for (i = 0; i < pairs; i++) {
		struct vnl_upair *p = &e->pair[i];

		p->u = e;
		p->index = i;
		vnl_engine_init(&p->eng, &vnl_ueng_ops, p, NULL);
		ret = vnl_engine_set_mem(&p->eng, &env->mem, 1);
		if (ret)
			return ret;
	}
	/* Pair 0's engine owns the control queue. */
	if (pairs > 1)
		vnl_engine_set_max_pairs(&e->pair[0].eng, pairs);
	for (i = 0; i < pairs; i++)
		pthread_mutex_init(&e->pair[i].lock, NULL);
	ret = vnl_backend_wire(&e->be, env, kicks);
	if (ret)
		for (i = 0; i < pairs; i++)
			pthread_mutex_destroy(&e->pair[i].lock);
	return ret;
}

void vnl_ueng_fini(struct vnl_ueng *e)
{
	vnl_backend_unwire(&e->be);
	for (unsigned int i = 0; i < e->be.max_pairs; i++)
		pthread_mutex_destroy(&e->pair[i].lock);
}

/* Pair p's queues at DRIVER_OK, with its lock held; pair 0 the control. */
static int vnl_upair_start(struct vnl_upair *p, uint64_t features,
			   const struct vnl_queue_cfg *q)
{
	struct vnl_backend *b = &p->u->be;
	unsigned int ctrl = vnl_ctrl_queue(b->max_pairs);
	int ret;

	/* A kick from before DRIVER_OK must not start a drain now. */
	vnl_eventfd_take(b->kick_fd[2 * p->index + VNETLOOP_QUEUE_TX]);
	/* Only pair 0's engine has a control queue to negotiate MQ for. */
	if (p->index)
		features &= ~VNETLOOP_FEATURES_MQ;
	ret = vnl_engine_set_features(&p->eng, features);
	for (unsigned int i = 0; i < VNETLOOP_NUM_QUEUES && !ret; i++) {
		const struct vnl_queue_cfg *c = &q[2 * p->index + i];

		if (c->ready)
			ret = vnl_engine_set_vring(&p->eng, i, c->num, c->desc,
						   c->avail, c->used);
	}
	if (!ret && !p->index && b->max_pairs > 1) {
		vnl_eventfd_take(b->kick_fd[ctrl]);
		if (q[ctrl].ready)
			ret = vnl_engine_set_vring(&p->eng, VNETLOOP_QUEUE_CTRL,
						   q[ctrl].num, q[ctrl].desc,
						   q[ctrl].avail, q[ctrl].used);
	}
	if (ret)
		vnl_engine_reset(&p->eng);
	else
		vnl_engine_start(&p->eng);
	return ret;
}

int vnl_ueng_start(struct vnl_backend *b, uint64_t features,
		   const struct vnl_queue_cfg *q)
{
	struct vnl_ueng *e = (struct vnl_ueng *)b;
	int ret = 0;

	/* Until VQ_PAIRS_SET the driver uses pair 0 only (virtio 5.1.6.5.5). */
	atomic_store(&e->active, 1);
	for (unsigned int i = 0; i < b->max_pairs && !ret; i++) {
		pthread_mutex_lock(&e->pair[i].lock);
		ret = vnl_upair_start(&e->pair[i], features, q);
		pthread_mutex_unlock(&e->pair[i].lock);
	}
	if (ret)
		vnl_ueng_reset(b);
	return ret;
}

void vnl_ueng_reset(struct vnl_backend *b)
{
	struct vnl_ueng *e = (struct vnl_ueng *)b;

	for (unsigned int i = 0; i < b->max_pairs; i++) {
		pthread_mutex_lock(&e->pair[i].lock);
		vnl_engine_reset(&e->pair[i].eng);
		pthread_mutex_unlock(&e->pair[i].lock);
	}
	atomic_store(&e->active, 1);
}

/* The device's InterruptStatus and NEEDS_RESET: any pair's. */
uint32_t vnl_ueng_isr_read(struct vnl_backend *b)
{
	struct vnl_ueng *e = (struct vnl_ueng *)b;
	uint32_t isr = 0;

	for (unsigned int i = 0; i < b->max_pairs; i++)
		isr |= vnl_engine_isr(&e->pair[i].eng);
	return isr;
}

void vnl_ueng_isr_ack(struct vnl_backend *b, uint32_t bits)
{
	struct vnl_ueng *e = (struct vnl_ueng *)b;

	for (unsigned int i = 0; i < b->max_pairs; i++)
		vnl_engine_isr_ack(&e->pair[i].eng, bits);
}

uint32_t vnl_ueng_status(struct vnl_backend *b)
{
	struct vnl_ueng *e = (struct vnl_ueng *)b;
	uint32_t st = 0;

	for (unsigned int i = 0; i < b->max_pairs; i++)
		st |= vnl_engine_status(&e->pair[i].eng);
	return st;
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

	memset(c, 0, VNETLOOP_NUM_COUNTERS * sizeof(*c));
	for (unsigned int i = 0; i < b->max_pairs; i++) {
		struct vnl_upair *p = &e->pair[i];

		pthread_mutex_lock(&p->lock);
		for (unsigned int k = 0; k < VNETLOOP_NUM_COUNTERS; k++)
			c[k] += p->counters[k];
		pthread_mutex_unlock(&p->lock);
	}
	*n = VNETLOOP_NUM_COUNTERS;
	return 0;
}

int vnl_ueng_queue_counters(struct vnl_backend *b, unsigned int p,
			    uint64_t *c)
{
	struct vnl_upair *up = &((struct vnl_ueng *)b)->pair[p];

	if (p >= b->max_pairs)
		return -EINVAL;
	pthread_mutex_lock(&up->lock);
	memcpy(c, up->counters, sizeof(up->counters));
	pthread_mutex_unlock(&up->lock);
	return 0;
}

bool vnl_ueng_drain_locked(struct vnl_upair *p)
{
	if (!vnl_ueng_active(p->u, p->index))
		return false;	/* SPEC 4a: an inactive pair does nothing */
	return vnl_drain(&p->eng);
}

bool vnl_ueng_ctrl_locked(struct vnl_upair *p)
{
	return vnl_ctrl_drain(&p->eng);
}
