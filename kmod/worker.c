// SPDX-License-Identifier: GPL-2.0
/*
 * The data plane, one worker per queue pair, as vhost-net: the wait-queue
 * callback of a pair's TX kick eventfd queues work, and the pair's kthread
 * runs its engine's drain in the owner's address space, then signals the
 * call eventfd of each of its queues whose driver asked for an interrupt
 * (one signal per eventfd and drain), and the config call eventfd when a
 * queue was poisoned (NEEDS_RESET). Pair 0's worker also serves the
 * control queue (its own kick), whose VQ_PAIRS_SET sets how many pairs
 * are in use; the kicks of the others are ignored until then.
 *
 * The worker holds only mm_count (mmgrab at bind); it takes mm_users with
 * mmget_not_zero() while it has work, so it never keeps a dead owner's
 * address space alive, and does nothing once that address space is gone.
 *
 * Like vhost on this kernel, the worker joins every cgroup of the task that
 * starts the device and takes its nice value, so that its CPU time, pids
 * and cpuset are the VM's. It accepts SIGKILL, which only the stop path
 * sends: a user access can wait on a fault the owner controls (guest memory
 * registered with userfaultfd, or on FUSE), and only a fatal signal makes
 * such a fault give up. The engine then sees the stop (vnl_stop_pending())
 * and ends the drain without a trace.
 */
#include <linux/cgroup.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>

#include "compat.h"
#include "vnetloop.h"

void vnl_worker_queue(struct vnl_pair *p, unsigned int work)
{
	if (!test_and_set_bit(work, &p->flags))
		wake_up_process(p->worker);
}

/* The device's virtqueue index of the engine's queue q of pair p. */
static unsigned int vnl_vq_index(const struct vnl_pair *p, unsigned int q)
{
	return q == VNETLOOP_QUEUE_CTRL ? p->vd->ctrl_idx : 2 * p->index + q;
}

u32 vnl_device_engine_status(struct vnl_device *vd)
{
	u32 s = 0;
	unsigned int i;

	for (i = 0; i < vd->max_pairs; i++)
		s |= vnl_engine_status(&vd->pairs[i].eng);
	return s;
}

/* The engine's callbacks: counters, the interrupts, poison events. */
static void vnl_engine_interrupt(void *ctx, u32 isr, unsigned int vqs)
{
	struct vnl_pair *p = ctx;
	struct vnl_device *vd = p->vd;
	struct eventfd_ctx *c[VNETLOOP_ENGINE_QUEUES];
	unsigned int q, i;

	spin_lock(&vd->call_lock);
	for (q = 0; q < VNETLOOP_ENGINE_QUEUES; q++) {
		c[q] = vqs & BIT(q) ? vd->vring[vnl_vq_index(p, q)].call : NULL;
		/* Queues sharing a line (INTx) get one signal: one interrupt. */
		for (i = 0; c[q] && i < q; i++)
			if (c[i] == c[q])
				c[q] = NULL;
		if (c[q])
			vnl_eventfd_signal(c[q]);
	}
	if ((isr & VIRTIO_MMIO_INT_CONFIG) && vd->config_call)
		vnl_eventfd_signal(vd->config_call);
	spin_unlock(&vd->call_lock);
}

static void vnl_engine_poisoned(void *ctx, unsigned int q)
{
	struct vnl_pair *p = ctx;

	vnl_genl_poison_event(p->vd->id, vnl_vq_index(p, q));
}

/*
 * VQ_PAIRS_SET, on pair 0's worker: the first n pairs are in use. Each
 * must have its TX ring; the newly active ones drain what is already
 * there. The workers outlive this call: the stop path stops pair 0's first.
 */
static int vnl_engine_set_pairs(void *ctx, u16 n)
{
	struct vnl_pair *p0 = ctx;
	struct vnl_device *vd = p0->vd;
	unsigned int i, old = READ_ONCE(vd->active_pairs);

	if (n > vd->ready_pairs)
		return -EINVAL;
	WRITE_ONCE(vd->active_pairs, n);
	for (i = old; i < n; i++)
		vnl_worker_queue(&vd->pairs[i], VNL_WORK_QUEUED);
	return 0;
}

const struct vnl_engine_ops vnl_engine_ops = {
	.commit = vnl_stats_commit,
	.interrupt = vnl_engine_interrupt,
	.poisoned = vnl_engine_poisoned,
	.set_pairs = vnl_engine_set_pairs,
};

static void vnl_worker_drain(struct vnl_pair *p, bool data, bool ctrl)
{
	struct vnl_device *vd = p->vd;

	/* Killable: the stop path's SIGKILL ends the wait for an IOTLB write. */
	if (mutex_lock_killable(&p->eng_lock))
		return;
	if (ctrl && vnl_ctrl_drain(&p->eng))
		set_bit(VNL_CTRL_QUEUED, &p->flags);
	/* A pair not in use does nothing; VQ_PAIRS_SET queues it again. */
	if (data && p->index < READ_ONCE(vd->active_pairs)) {
		/* The budget may change over netlink; seen here only. */
		vnl_engine_set_budget(&p->eng, READ_ONCE(vd->budget_packets),
				      READ_ONCE(vd->budget_bytes));
		if (vnl_drain(&p->eng))
			set_bit(VNL_WORK_QUEUED, &p->flags);
	}
	mutex_unlock(&p->eng_lock);
}

#define VNL_WORK_MASK	(BIT(VNL_WORK_QUEUED) | BIT(VNL_CTRL_QUEUED))

static int vnl_worker_fn(void *data)
{
	struct vnl_pair *p = data;
	struct mm_struct *mm = p->vd->mm;
	bool has_mm = false, work, ctrl;

	allow_signal(SIGKILL);
	/*
	 * Join the starter's cgroups from here, as vhost does, not before the
	 * thread first ran: newer kthread() sets its own default affinity
	 * then, which would undo the cpuset's. On failure the worker only
	 * waits for kthread_stop(): no kick is hooked yet.
	 */
	p->worker_err = cgroup_attach_task_all(p->starter, current);
	if (!p->worker_err)
		set_user_nice(current, task_nice(p->starter));
	complete(&p->worker_ready);
	while (!kthread_should_stop()) {
		work = test_and_clear_bit(VNL_WORK_QUEUED, &p->flags);
		ctrl = test_and_clear_bit(VNL_CTRL_QUEUED, &p->flags);
		if (!work && !ctrl) {
			if (has_mm) {
				kthread_unuse_mm(mm);
				mmput(mm);
				has_mm = false;
			}
			/* Not interruptible: SIGKILL means stop is coming. */
			set_current_state(TASK_IDLE);
			if (!(READ_ONCE(p->flags) & VNL_WORK_MASK) &&
			    !kthread_should_stop())
				schedule();
			__set_current_state(TASK_RUNNING);
			continue;
		}
		if (!has_mm) {
			/* The owner's address space is gone: drop the work. */
			if (!mmget_not_zero(mm))
				continue;
			kthread_use_mm(mm);
			has_mm = true;
		}
		/* The stop's SIGKILL: nothing more to do but wait for it. */
		if (fatal_signal_pending(current)) {
			clear_bit(VNL_WORK_QUEUED, &p->flags);
			clear_bit(VNL_CTRL_QUEUED, &p->flags);
			continue;
		}
		vnl_worker_drain(p, work, ctrl);
		cond_resched();
	}

	if (has_mm) {
		kthread_unuse_mm(mm);
		mmput(mm);
	}
	return 0;
}

/* Create pair p's (sleeping) worker in the caller's cgroups and nice. */
static int vnl_worker_start(struct vnl_pair *p)
{
	struct task_struct *t;
	int err;

	init_completion(&p->worker_ready);
	p->starter = current;	/* the worker reads it before completing */
	/* Pair 0's keeps the name of a one-pair device's worker. */
	if (p->index)
		t = kthread_create(vnl_worker_fn, p, "vnetloop-%u-q%u",
				   p->vd->id, p->index);
	else
		t = kthread_create(vnl_worker_fn, p, "vnetloop-%u", p->vd->id);
	if (IS_ERR(t))
		return PTR_ERR(t);
	p->flags = 0;
	wake_up_process(t);
	wait_for_completion(&p->worker_ready);
	p->starter = NULL;
	err = p->worker_err;
	if (err) {
		kthread_stop(t);
		return err;
	}
	p->worker = t;
	return 0;
}

/*
 * Stop pair p's worker; nothing of it runs afterwards. SIGKILL first: a
 * drain parked in a fault that only the owner can resolve (and the owner
 * may be the one stopping us, or dying) fails at once instead, and
 * kthread_stop() alone would leave it retrying the fault forever. The
 * engine must be reset afterwards (see vnl_drain()).
 */
static void vnl_worker_stop(struct vnl_pair *p)
{
	if (!p->worker)
		return;
	send_sig(SIGKILL, p->worker, 1);
	kthread_stop(p->worker);
	p->worker = NULL;
	p->flags = 0;
}

/*
 * The workers of the first vd->npairs pairs. Caller holds vd->lock,
 * device not running.
 */
int vnl_workers_start(struct vnl_device *vd)
{
	unsigned int i;
	int err;

	for (i = 0; i < vd->npairs; i++) {
		err = vnl_worker_start(&vd->pairs[i]);
		if (err) {
			vnl_workers_stop(vd);
			return err;
		}
	}
	return 0;
}

/*
 * Every worker stops, pair 0's first: its VQ_PAIRS_SET wakes the others.
 * The kicks must be unhooked first, or a callback could wake a dead task.
 */
void vnl_workers_stop(struct vnl_device *vd)
{
	unsigned int i;

	for (i = 0; i < vd->max_pairs; i++)
		vnl_worker_stop(&vd->pairs[i]);
}

/*
 * Runs inside eventfd_signal() or an eventfd write, with the eventfd's
 * wait-queue lock held and interrupts off: only count and queue work. The
 * eventfd counter is never read; the avail ring says what there is to do.
 */
static int vnl_kick_wake(wait_queue_entry_t *wait, unsigned int mode,
			 int sync, void *key)
{
	struct vnl_kick *k = container_of(wait, struct vnl_kick, wait);

	if (!(key_to_poll(key) & EPOLLIN))
		return 0;
	vnl_stats_add(k->pair, VNETLOOP_C_KICKS, 1);
	vnl_worker_queue(k->pair, k->work);
	return 0;
}

static void vnl_kick_queue_proc(struct file *file, wait_queue_head_t *wqh,
				poll_table *pt)
{
	struct vnl_kick *k = container_of(pt, struct vnl_kick, table);

	if (k->wqh)	/* eventfd registers exactly one queue */
		return;
	k->wqh = wqh;
	add_wait_queue(wqh, &k->wait);
}

/* After this returns, the callback is not running and will not run. */
static void vnl_kick_unhook(struct vnl_kick *k)
{
	if (!k->wqh)
		return;
	remove_wait_queue(k->wqh, &k->wait);
	k->wqh = NULL;
}

/*
 * Hook a kick eventfd for work of its pair's worker, which must exist.
 * Its counter is never read: the start queues one drain instead, which
 * finds whatever a kick before it announced.
 */
static int vnl_kick_hook(struct vnl_kick *k, struct vnl_pair *p,
			 unsigned int work, struct file *eventfd)
{
	__poll_t mask;

	k->pair = p;
	k->work = work;
	init_waitqueue_func_entry(&k->wait, vnl_kick_wake);
	init_poll_funcptr(&k->table, vnl_kick_queue_proc);
	mask = vfs_poll(eventfd, &k->table);
	if (!k->wqh)
		return -EINVAL;
	if (mask & EPOLLERR) {
		vnl_kick_unhook(k);
		return -EINVAL;
	}
	return 0;
}

/*
 * The TX kick of each pair with a worker and a TX ring, and the control
 * queue's; pair 0's TX kick must be there.
 */
int vnl_kicks_hook(struct vnl_device *vd)
{
	struct vnl_pair *p0 = &vd->pairs[0];
	unsigned int i;
	int err = 0;

	for (i = 0; i < vd->npairs && !err; i++) {
		struct file *kick = vd->vring[2 * i + VNETLOOP_QUEUE_TX].kick;

		if (!vnl_engine_queue_ready(&vd->pairs[i].eng,
					    VNETLOOP_QUEUE_TX))
			continue;
		if (kick)
			err = vnl_kick_hook(&vd->pairs[i].kick, &vd->pairs[i],
					    VNL_WORK_QUEUED, kick);
		else if (!i)
			err = -EINVAL;
	}
	if (!err && vd->ctrl_idx && vd->vring[vd->ctrl_idx].kick &&
	    vnl_engine_queue_ready(&p0->eng, VNETLOOP_QUEUE_CTRL))
		err = vnl_kick_hook(&p0->ctrl_kick, p0, VNL_CTRL_QUEUED,
				    vd->vring[vd->ctrl_idx].kick);
	if (err)
		vnl_kicks_unhook(vd);
	return err;
}

void vnl_kicks_unhook(struct vnl_device *vd)
{
	unsigned int i;

	for (i = 0; i < vd->max_pairs; i++) {
		vnl_kick_unhook(&vd->pairs[i].kick);
		vnl_kick_unhook(&vd->pairs[i].ctrl_kick);
	}
}
