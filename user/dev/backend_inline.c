// SPDX-License-Identifier: GPL-2.0
/*
 * The inline backend: the engine runs on the vCPU thread at the QueueNotify
 * MMIO exit, with no ioeventfd (every kick is a userspace exit). The
 * interrupt goes through the same KVM irqfd as the other backends, so the
 * three differ only in where the drain runs. A drain that hits its budget is
 * run again at once: the vCPU that kicked is the only one waiting.
 */
#include <errno.h>
#include <stdlib.h>

#include "user/dev/backend.h"

static void inline_notify(struct vnl_backend *b, unsigned int q)
{
	struct vnl_ueng *e = (struct vnl_ueng *)b;

	(void)q;
	pthread_mutex_lock(&e->lock);
	e->counters[VNETLOOP_C_KICKS]++;
	while (vnl_ueng_drain_locked(e))
		;
	pthread_mutex_unlock(&e->lock);
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
