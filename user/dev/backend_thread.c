// SPDX-License-Identifier: GPL-2.0
/*
 * The thread backend: KVM completes the QueueNotify write in the kernel and
 * signals the kick eventfd (ioeventfd); a userspace worker thread waits on
 * it, runs the engine and raises the interrupt through the irqfd. Neither a
 * kick nor an interrupt costs the vCPU a userspace exit. A drain that hits
 * its budget requeues itself behind a fresh look at the stop request.
 *
 * One worker per queue pair, as vhost-net has: each waits on its pair's
 * kicks and drains its own engine, so pairs run in parallel. Pair 0's
 * worker also serves the control queue: pair 0's engine owns it, so a
 * worker of its own would only wait for pair 0's lock, and commands are
 * rare (one VQ_PAIRS_SET at probe).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "user/dev/backend.h"

struct thread_be;

struct thread_worker {
	struct thread_be *t;
	struct vnl_upair *pair;
	pthread_t thread;
};

struct thread_be {
	struct vnl_ueng e;
	struct thread_worker w[VNL_MAX_PAIRS];
	unsigned int running;	/* workers started */
	int stop_fd;		/* every worker's: written once, never read */
};

enum { TW_STOP, TW_TX, TW_RX, TW_CTRL, TW_FDS };

static void *thread_worker(void *arg)
{
	struct thread_worker *w = arg;
	struct vnl_upair *pair = w->pair;
	struct vnl_backend *b = &w->t->e.be;
	unsigned int base = 2 * pair->index, nfds = TW_CTRL;
	struct pollfd p[TW_FDS] = {
		[TW_STOP] = { .fd = w->t->stop_fd, .events = POLLIN },
		[TW_TX] = { .fd = b->kick_fd[base + VNETLOOP_QUEUE_TX],
			    .events = POLLIN },
		[TW_RX] = { .fd = b->kick_fd[base + VNETLOOP_QUEUE_RX],
			    .events = POLLIN },
	};
	int ctrl_fd = -1;
	bool more = false, more_ctrl = false;
	char name[16];

	if (!pair->index && b->max_pairs > 1) {
		ctrl_fd = b->kick_fd[vnl_ctrl_queue(b->max_pairs)];
		p[TW_CTRL] = (struct pollfd) { .fd = ctrl_fd, .events = POLLIN };
		nfds = TW_FDS;
	}
	/* Pair 0's keeps the name `vnetloop run` finds its CPU time by. */
	if (pair->index)
		snprintf(name, sizeof(name), "vnl-worker-%u",
			 (unsigned char)pair->index);
	else
		snprintf(name, sizeof(name), "vnl-worker");
	pthread_setname_np(pthread_self(), name);
	for (;;) {
		uint64_t kicks, ctrl_kicks = 0;

		if (poll(p, nfds, more || more_ctrl ? 0 : -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("vnetloop: worker poll");
			break;
		}
		if (p[TW_STOP].revents)
			break;
		if (p[TW_RX].revents)
			vnl_eventfd_take(p[TW_RX].fd);
		if (!p[TW_TX].revents && !more &&
		    !(nfds > TW_CTRL && p[TW_CTRL].revents) && !more_ctrl)
			continue;
		pthread_mutex_lock(&pair->lock);
		/* Taken under the lock: start() discards stale kicks. */
		kicks = vnl_eventfd_take(p[TW_TX].fd);
		if (ctrl_fd >= 0)
			ctrl_kicks = vnl_eventfd_take(ctrl_fd);
		pair->counters[VNETLOOP_C_KICKS] += kicks + ctrl_kicks;
		if (ctrl_kicks || more_ctrl)
			more_ctrl = vnl_ueng_ctrl_locked(pair);
		if (kicks || more)
			more = vnl_ueng_drain_locked(pair);
		pthread_mutex_unlock(&pair->lock);
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

static void thread_stop(struct thread_be *t)
{
	uint64_t one = 1;

	if (t->running && write(t->stop_fd, &one, sizeof(one)) != sizeof(one)) {
		perror("vnetloop: worker stop");
		return;
	}
	while (t->running)
		pthread_join(t->w[--t->running].thread, NULL);
}

static void thread_destroy(struct vnl_backend *b)
{
	struct thread_be *t = (struct thread_be *)b;

	thread_stop(t);
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
	t->running = 0;
	t->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->stop_fd < 0) {
		ret = -errno;
		goto fail;
	}
	for (unsigned int i = 0; i < t->e.be.max_pairs; i++) {
		t->w[i] = (struct thread_worker) { .t = t,
						   .pair = &t->e.pair[i] };
		ret = -pthread_create(&t->w[i].thread, NULL, thread_worker,
				      &t->w[i]);
		if (ret) {
			fprintf(stderr, "vnetloop: cannot start the worker of queue pair %u: %s\n",
				i, strerror(-ret));
			thread_stop(t);
			close(t->stop_fd);
			goto fail;
		}
		t->running++;
	}
	*out = &t->e.be;
	return 0;
fail:
	vnl_ueng_fini(&t->e);
	free(t);
	return ret;
}
