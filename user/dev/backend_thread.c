// SPDX-License-Identifier: GPL-2.0
/*
 * The thread backend: KVM completes the QueueNotify write in the kernel and
 * signals the kick eventfd (ioeventfd); a userspace worker thread waits on
 * it, runs the engine and raises the interrupt through the irqfd. Neither a
 * kick nor an interrupt costs the vCPU a userspace exit. A drain that hits
 * its budget requeues itself behind a fresh look at the stop request.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "user/dev/backend.h"

struct thread_be {
	struct vnl_ueng e;
	pthread_t thread;
	int stop_fd;
};

static void *thread_worker(void *arg)
{
	struct thread_be *t = arg;
	struct vnl_ueng *e = &t->e;
	struct pollfd p[3] = {
		{ .fd = t->stop_fd, .events = POLLIN },
		{ .fd = e->be.kick_fd[VNETLOOP_QUEUE_TX], .events = POLLIN },
		{ .fd = e->be.kick_fd[VNETLOOP_QUEUE_RX], .events = POLLIN },
	};
	bool more = false;

	pthread_setname_np(pthread_self(), "vnl-worker");
	for (;;) {
		uint64_t kicks;

		if (poll(p, 3, more ? 0 : -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("vnetloop: worker poll");
			break;
		}
		if (p[0].revents)
			break;
		if (p[2].revents)
			vnl_eventfd_take(e->be.kick_fd[VNETLOOP_QUEUE_RX]);
		if (!p[1].revents && !more)
			continue;
		pthread_mutex_lock(&e->lock);
		/* Taken under the lock: start() discards stale kicks. */
		kicks = vnl_eventfd_take(e->be.kick_fd[VNETLOOP_QUEUE_TX]);
		e->counters[VNETLOOP_C_KICKS] += kicks;
		if (kicks || more)
			more = vnl_ueng_drain_locked(e);
		pthread_mutex_unlock(&e->lock);
	}
	return NULL;
}

/* A notify that exited anyway (no datamatch hit): hand it to the worker. */
static void thread_notify(struct vnl_backend *b, unsigned int q)
{
	uint64_t one = 1;

	if (write(b->kick_fd[q], &one, sizeof(one)) != sizeof(one))
		perror("vnetloop: kick eventfd write");
}

static void thread_destroy(struct vnl_backend *b)
{
	struct thread_be *t = (struct thread_be *)b;
	uint64_t one = 1;

	if (write(t->stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(t->thread, NULL);
	else
		perror("vnetloop: worker stop");
	close(t->stop_fd);
	vnl_ueng_fini(&t->e);
	free(t);
}

static const struct vnl_backend_ops thread_ops =
	VNL_UENG_OPS("thread", thread_notify, thread_destroy);

int backend_thread_create(const struct vnl_backend_env *env,
			  struct vnl_backend **out)
{
	struct thread_be *t = malloc(sizeof(*t));
	int ret;

	if (!t)
		return -ENOMEM;
	ret = vnl_ueng_init(&t->e, env, &thread_ops, true);
	if (ret) {
		free(t);
		return ret;
	}
	t->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->stop_fd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = -pthread_create(&t->thread, NULL, thread_worker, t);
	if (ret) {
		close(t->stop_fd);
		goto fail;
	}
	*out = &t->e.be;
	return 0;
fail:
	vnl_ueng_fini(&t->e);
	free(t);
	return ret;
}
