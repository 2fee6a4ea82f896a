// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU counters. A writer adds to its own CPU's slot with preemption off
 * (and interrupts off on 32-bit, where the kick callback may nest); readers
 * sum every possible CPU, so counts of an offlined CPU are never lost.
 */
#include <linux/percpu.h>

#include "vnetloop.h"
#include "include/vnetloop/counters.h"

const char *const vnl_counter_names[VNETLOOP_NUM_COUNTERS] =
	VNETLOOP_COUNTER_NAMES;

int vnl_stats_alloc(struct vnl_device *vd)
{
	int cpu;

	vd->stats = alloc_percpu_gfp(struct vnl_pcpu_stats,
				     GFP_KERNEL_ACCOUNT);
	if (!vd->stats)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(vd->stats, cpu)->syncp);
	return 0;
}

void vnl_stats_free(struct vnl_device *vd)
{
	free_percpu(vd->stats);
	vd->stats = NULL;
}

void vnl_stats_add(struct vnl_device *vd, unsigned int id, u64 n)
{
	struct vnl_pcpu_stats *s = get_cpu_ptr(vd->stats);
	unsigned long flags;

	flags = u64_stats_update_begin_irqsave(&s->syncp);
	u64_stats_add(&s->c[id], n);
	u64_stats_update_end_irqrestore(&s->syncp, flags);
	put_cpu_ptr(vd->stats);
}

/* The engine's commit: one drain's counter deltas. */
void vnl_stats_commit(void *ctx, const u64 *delta)
{
	struct vnl_device *vd = ctx;
	struct vnl_pcpu_stats *s = get_cpu_ptr(vd->stats);
	unsigned long flags;
	unsigned int i;

	flags = u64_stats_update_begin_irqsave(&s->syncp);
	for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
		if (delta[i])
			u64_stats_add(&s->c[i], delta[i]);
	u64_stats_update_end_irqrestore(&s->syncp, flags);
	put_cpu_ptr(vd->stats);
}

/* One consistent snapshot of one CPU's slot into v[VNETLOOP_NUM_COUNTERS]. */
void vnl_stats_read_cpu(struct vnl_device *vd, int cpu, u64 *v)
{
	const struct vnl_pcpu_stats *s = per_cpu_ptr(vd->stats, cpu);
	unsigned int start, i;

	do {
		start = u64_stats_fetch_begin(&s->syncp);
		for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
			v[i] = u64_stats_read(&s->c[i]);
	} while (u64_stats_fetch_retry(&s->syncp, start));
}
