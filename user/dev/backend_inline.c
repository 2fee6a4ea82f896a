// SPDX-License-Identifier: GPL-2.0
/*
 * The inline backend: the engine runs on the vCPU thread at the QueueNotify
 * MMIO exit, with no ioeventfd (every kick is a userspace exit). The
 * interrupt goes through the same KVM irqfd as the other backends, so the
 * three differ only in where the drain runs. A drain that hits its budget is
 * run again at once: the vCPU that kicked is the only one waiting. A TX
 * notify drains its own pair's engine; the control queue's, pair 0's.
 */
#include <errno.h>
#include <stdlib.h>

#include "user/dev/backend.h"

static void inline_notify(struct vnl_backend *b, unsigned int q)
{
	struct vnl_ueng *e = (struct vnl_ueng *)b;
	bool ctrl = b->max_pairs > 1 && q == vnl_ctrl_queue(b->max_pairs);
	struct vnl_upair *p;

	if (!ctrl && (q % 2 != VNETLOOP_QUEUE_TX || q / 2 >= b->max_pairs))
		return;
	p = &e->pair[ctrl ? 0 : q / 2];
	pthread_mutex_lock(&p->lock);
	p->counters[VNETLOOP_C_KICKS]++;
	if (ctrl)
		while (vnl_ueng_ctrl_locked(p))
			;
	else
		while (vnl_ueng_drain_locked(p))
			;
	pthread_mutex_unlock(&p->lock);
}

static void inline_destroy(struct vnl_backend *b)
{
	struct vnl_ueng *e = (struct vnl_ueng *)b;

	vnl_ueng_fini(e);
	free(e);
}

static const struct vnl_backend_ops inline_ops =
	VNL_UENG_OPS("inline", inline_notify, inline_destroy);

int backend_inline_create(const struct vnl_backend_env *env,
			  struct vnl_backend **out)
{
	struct vnl_ueng *e = malloc(sizeof(*e));
	int ret;

	if (!e)
		return -ENOMEM;
	ret = vnl_ueng_init(e, env, &inline_ops, false);
	if (ret) {
		free(e);
		return ret;
	}
	*out = &e->be;
	return 0;
}
