// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs: vnetloop/<id>/counters, queues and state, read-only.
 * The formats are documented in Documentation/debugfs.rst and are stable.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "vnetloop.h"

static struct dentry *vnl_dbg_root;

static void vnl_seq_counters(struct seq_file *m, const char *label,
			     const u64 *v)
{
	unsigned int i;

	seq_puts(m, label);
	for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
		seq_printf(m, " %llu", v[i]);
	seq_putc(m, '\n');
}

/* The first line: what the rows are, then the counter names. */
static void vnl_seq_header(struct seq_file *m, const char *rows)
{
	unsigned int i;

	seq_puts(m, rows);
	for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
		seq_printf(m, " %s", vnl_counter_names[i]);
	seq_putc(m, '\n');
}

/* The total is the sum of the very lines printed above it. */
static int vnl_counters_show(struct seq_file *m, void *unused)
{
	struct vnl_device *vd = m->private;
	u64 v[VNETLOOP_NUM_COUNTERS], total[VNETLOOP_NUM_COUNTERS] = {};
	char label[16];
	unsigned int i;
	int cpu;

	vnl_seq_header(m, "cpu");

	for_each_possible_cpu(cpu) {
		vnl_stats_read_cpu(vd, cpu, v);
		for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
			total[i] += v[i];
		snprintf(label, sizeof(label), "cpu%d", cpu);
		vnl_seq_counters(m, label, v);
	}
	vnl_seq_counters(m, "total", total);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vnl_counters);

/* Each queue pair's counters, summed over the CPUs; then their total. */
static int vnl_queues_show(struct seq_file *m, void *unused)
{
	struct vnl_device *vd = m->private;
	u64 sum[VNETLOOP_NUM_COUNTERS], total[VNETLOOP_NUM_COUNTERS] = {};
	char label[16];
	unsigned int p, i;

	vnl_seq_header(m, "pair");
	for (p = 0; p < vd->max_pairs; p++) {
		vnl_stats_read_pair(&vd->pairs[p], sum);
		for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
			total[i] += sum[i];
		snprintf(label, sizeof(label), "%u", p);
		vnl_seq_counters(m, label, sum);
	}
	vnl_seq_counters(m, "total", total);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vnl_queues);

static void vnl_seq_queue(struct seq_file *m, const char *name,
			  const struct vnl_engine *eng, unsigned int q)
{
	struct vnl_queue_state s;

	vnl_engine_queue_state(eng, q, &s);
	seq_printf(m, "%s num %u ready %u poisoned %u desc 0x%llx avail 0x%llx used 0x%llx last_avail_idx %u used_idx %u\n",
		   name, s.num, s.ready, s.poisoned, s.desc, s.avail, s.used,
		   s.last_avail, s.used_idx);
}

static void vnl_seq_pairs(struct seq_file *m, struct vnl_device *vd)
{
	char name[16];	/* "rx" or "tx" and a pair number */
	unsigned int i;

	seq_printf(m, "pairs %u max %u\n", READ_ONCE(vd->active_pairs),
		   vd->max_pairs);
	for (i = 1; i < vd->max_pairs; i++) {
		snprintf(name, sizeof(name), "rx%u", i);
		vnl_seq_queue(m, name, &vd->pairs[i].eng, VNETLOOP_QUEUE_RX);
		snprintf(name, sizeof(name), "tx%u", i);
		vnl_seq_queue(m, name, &vd->pairs[i].eng, VNETLOOP_QUEUE_TX);
	}
	vnl_seq_queue(m, "ctrl", &vd->pairs[0].eng, VNETLOOP_QUEUE_CTRL);
}

/*
 * Configuration cannot change while vd->lock is held, but the worker keeps
 * running: ring positions and poison flags are a racy snapshot of a live
 * device (each field is read once; they may be a drain apart).
 */
static int vnl_state_show(struct seq_file *m, void *unused)
{
	struct vnl_device *vd = m->private;
	int err;

	err = mutex_lock_killable(&vd->lock);
	if (err)
		return err;
	seq_printf(m, "id %u\n", vd->id);
	seq_printf(m, "owner_pid %u\n", vnl_owner_pid(vd));
	seq_printf(m, "running %u\n", vd->running);
	seq_printf(m, "features 0x%llx\n",
		   vnl_engine_features(&vd->pairs[0].eng));
	seq_printf(m, "status 0x%x\n",
		   vd->status | vnl_device_engine_status(vd));
	seq_printf(m, "iotlb %u\n", vd->iotlb.n);
	seq_printf(m, "budget_packets %u\n", READ_ONCE(vd->budget_packets));
	seq_printf(m, "budget_bytes %u\n", READ_ONCE(vd->budget_bytes));
	vnl_seq_queue(m, "rx", &vd->pairs[0].eng, VNETLOOP_QUEUE_RX);
	vnl_seq_queue(m, "tx", &vd->pairs[0].eng, VNETLOOP_QUEUE_TX);
	/* A multiqueue device's other pairs and control queue, after. */
	if (vd->max_pairs > 1)
		vnl_seq_pairs(m, vd);
	mutex_unlock(&vd->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vnl_state);

void __init vnl_debugfs_init(void)
{
	vnl_dbg_root = debugfs_create_dir("vnetloop", NULL);
}

void vnl_debugfs_exit(void)
{
	debugfs_remove(vnl_dbg_root);
	vnl_dbg_root = NULL;
}

/* Errors are ignored on purpose: debugfs is optional. */
void vnl_debugfs_add(struct vnl_device *vd)
{
	char name[16];

	snprintf(name, sizeof(name), "%u", vd->id);
	vd->dbg = debugfs_create_dir(name, vnl_dbg_root);
	debugfs_create_file("counters", 0444, vd->dbg, vd,
			    &vnl_counters_fops);
	debugfs_create_file("queues", 0444, vd->dbg, vd, &vnl_queues_fops);
	debugfs_create_file("state", 0444, vd->dbg, vd, &vnl_state_fops);
}

void vnl_debugfs_remove(struct vnl_device *vd)
{
	debugfs_remove(vd->dbg);
	vd->dbg = NULL;
}
