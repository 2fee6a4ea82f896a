// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU counters, per queue pair. A writer adds to its own CPU's slot of
 * its pair with preemption off (and interrupts off on 32-bit, where the
 * kick callback may nest); readers sum every possible CPU, so counts of an
 * offlined CPU are never lost, and the device's are the sum of its pairs.
 */
#include <linux/percpu.h>

#include "vnetloop.h"
#include "include/vnetloop/counters.h"

const char *const vnl_counter_names[VNETLOOP_NUM_COUNTERS] =
	VNETLOOP_COUNTER_NAMES;

int vnl_stats_alloc(struct vnl_pair *p)
{
	int cpu;

	p->stats = alloc_percpu_gfp(struct vnl_pcpu_stats, GFP_KERNEL_ACCOUNT);
	if (!p->stats)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(p->stats, cpu)->syncp);
	return 0;
}

void vnl_stats_free(struct vnl_pair *p)
{
	free_percpu(p->stats);
	p->stats = NULL;
}

void vnl_stats_add(struct vnl_pair *p, unsigned int id, u64 n)
{
	struct vnl_pcpu_stats *s = get_cpu_ptr(p->stats);
	unsigned long flags;

	flags = u64_stats_update_begin_irqsave(&s->syncp);
	u64_stats_add(&s->c[id], n);
	u64_stats_update_end_irqrestore(&s->syncp, flags);
	put_cpu_ptr(p->stats);
}

/* The engine's commit: one drain's counter deltas, for its pair. */
void vnl_stats_commit(void *ctx, const u64 *delta)
{
	struct vnl_pair *p = ctx;
	struct vnl_pcpu_stats *s = get_cpu_ptr(p->stats);
	unsigned long flags;
	unsigned int i;

	flags = u64_stats_update_begin_irqsave(&s->syncp);
	for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
		if (delta[i])
			u64_stats_add(&s->c[i], delta[i]);
	u64_stats_update_end_irqrestore(&s->syncp, flags);
	put_cpu_ptr(p->stats);
}

/*
 * One consistent snapshot of one pair's slot of one CPU into
 * v[VNETLOOP_NUM_COUNTERS].
 */
void vnl_stats_read_pair_cpu(struct vnl_pair *p, int cpu, u64 *v)
{
	const struct vnl_pcpu_stats *s = per_cpu_ptr(p->stats, cpu);
	unsigned int start, i;

	do {
		start = u64_stats_fetch_begin(&s->syncp);
		for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
			v[i] = u64_stats_read(&s->c[i]);
	} while (u64_stats_fetch_retry(&s->syncp, start));
}

/* One pair's counters, summed over every possible CPU. */
void vnl_stats_read_pair(struct vnl_pair *p, u64 *v)
{
	u64 cv[VNETLOOP_NUM_COUNTERS];
	unsigned int i;
	int cpu;

	memset(v, 0, sizeof(cv));
	for_each_possible_cpu(cpu) {
		vnl_stats_read_pair_cpu(p, cpu, cv);
		for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
			v[i] += cv[i];
	}
}

/* One CPU's counters of the device: the sum of its pairs' slots. */
void vnl_stats_read_cpu(struct vnl_device *vd, int cpu, u64 *v)
{
	u64 pv[VNETLOOP_NUM_COUNTERS];
	unsigned int p, i;

	memset(v, 0, sizeof(pv));
	for (p = 0; p < vd->max_pairs; p++) {
		vnl_stats_read_pair_cpu(&vd->pairs[p], cpu, pv);
		for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
			v[i] += pv[i];
	}
}
