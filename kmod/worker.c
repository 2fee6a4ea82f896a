// SPDX-License-Identifier: GPL-2.0
/*
 * The data plane: the TX kick eventfd's wait-queue callback queues work,
 * and a per-device kthread runs the engine's drain in the owner's address
 * space, then signals the call eventfd of each queue whose driver asked for
 * an interrupt (one signal per eventfd and drain), and the config call
 * eventfd when a queue was poisoned (NEEDS_RESET).
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

void vnl_worker_queue(struct vnl_device *vd)
{
	if (!test_and_set_bit(VNL_WORK_QUEUED, &vd->flags))
		wake_up_process(vd->worker);
}

/* The engine's callbacks: counters, the interrupts, poison events. */
static void vnl_engine_interrupt(void *ctx, u32 isr, unsigned int vqs)
{
	struct vnl_device *vd = ctx;
	struct eventfd_ctx *rx, *tx;

	spin_lock(&vd->call_lock);
	rx = vqs & BIT(VNETLOOP_QUEUE_RX) ?
	     vd->vring[VNETLOOP_QUEUE_RX].call : NULL;
	tx = vqs & BIT(VNETLOOP_QUEUE_TX) ?
	     vd->vring[VNETLOOP_QUEUE_TX].call : NULL;
	/* Queues sharing a line (INTx) get one signal: one interrupt. */
	if (rx)
		vnl_eventfd_signal(rx);
	if (tx && tx != rx)
		vnl_eventfd_signal(tx);
	if ((isr & VIRTIO_MMIO_INT_CONFIG) && vd->config_call)
		vnl_eventfd_signal(vd->config_call);
	spin_unlock(&vd->call_lock);
}

static void vnl_engine_poisoned(void *ctx, unsigned int q)
{
	struct vnl_device *vd = ctx;

	vnl_genl_poison_event(vd->id, q);
}

const struct vnl_engine_ops vnl_engine_ops = {
	.commit = vnl_stats_commit,
	.interrupt = vnl_engine_interrupt,
	.poisoned = vnl_engine_poisoned,
};

static void vnl_worker_drain(struct vnl_device *vd)
{
	/* Killable: the stop path's SIGKILL ends the wait for an IOTLB write. */
	if (mutex_lock_killable(&vd->eng_lock))
		return;
	/* The budget may change over netlink; the engine sees it here only. */
	vnl_engine_set_budget(&vd->eng, READ_ONCE(vd->budget_packets),
			      READ_ONCE(vd->budget_bytes));
	if (vnl_drain(&vd->eng))
		set_bit(VNL_WORK_QUEUED, &vd->flags);
	mutex_unlock(&vd->eng_lock);
}

static int vnl_worker_fn(void *data)
{
	struct vnl_device *vd = data;
	bool has_mm = false;

	allow_signal(SIGKILL);
	/*
	 * Join the starter's cgroups from here, as vhost does, not before the
	 * thread first ran: newer kthread() sets its own default affinity
	 * then, which would undo the cpuset's. On failure the worker only
	 * waits for kthread_stop(): no kick is hooked yet.
	 */
	vd->worker_err = cgroup_attach_task_all(vd->starter, current);
	if (!vd->worker_err)
		set_user_nice(current, task_nice(vd->starter));
	complete(&vd->worker_ready);
	while (!kthread_should_stop()) {
		if (!test_and_clear_bit(VNL_WORK_QUEUED, &vd->flags)) {
			if (has_mm) {
				kthread_unuse_mm(vd->mm);
				mmput(vd->mm);
				has_mm = false;
			}
			/* Not interruptible: SIGKILL means stop is coming. */
			set_current_state(TASK_IDLE);
			if (!test_bit(VNL_WORK_QUEUED, &vd->flags) &&
			    !kthread_should_stop())
				schedule();
			__set_current_state(TASK_RUNNING);
			continue;
		}
		if (!has_mm) {
			/* The owner's address space is gone: drop the work. */
			if (!mmget_not_zero(vd->mm))
				continue;
			kthread_use_mm(vd->mm);
			has_mm = true;
		}
		/* The stop's SIGKILL: nothing more to do but wait for it. */
		if (fatal_signal_pending(current)) {
			clear_bit(VNL_WORK_QUEUED, &vd->flags);
			continue;
		}
		vnl_worker_drain(vd);
		cond_resched();
	}

	if (has_mm) {
		kthread_unuse_mm(vd->mm);
		mmput(vd->mm);
	}
	return 0;
}

/*
 * Create the (sleeping) worker in the caller's cgroups, at its nice value.
 * Caller holds vd->lock, device not running.
 */
int vnl_worker_start(struct vnl_device *vd)
{
	struct task_struct *t;
	int err;

	init_completion(&vd->worker_ready);
	vd->starter = current;	/* the worker reads it before completing */
	t = kthread_create(vnl_worker_fn, vd, "vnetloop-%u", vd->id);
	if (IS_ERR(t))
		return PTR_ERR(t);
	clear_bit(VNL_WORK_QUEUED, &vd->flags);
	wake_up_process(t);
	wait_for_completion(&vd->worker_ready);
	vd->starter = NULL;
	err = vd->worker_err;
	if (err) {
		kthread_stop(t);
		return err;
	}
	vd->worker = t;
	return 0;
}

/*
 * Stop the worker; nothing of it runs afterwards. The kick must be unhooked
 * first, or the callback could wake a dead task. SIGKILL first: a drain
 * parked in a fault that only the owner can resolve (and the owner may be
 * the one stopping us, or dying) fails at once instead, and kthread_stop()
 * alone would leave it retrying the fault forever. The engine must be reset
 * afterwards (see vnl_drain()).
 */
void vnl_worker_stop(struct vnl_device *vd)
{
	if (!vd->worker)
		return;
	send_sig(SIGKILL, vd->worker, 1);
	kthread_stop(vd->worker);
	vd->worker = NULL;
	clear_bit(VNL_WORK_QUEUED, &vd->flags);
}

/*
 * Runs inside eventfd_signal() or an eventfd write, with the eventfd's
 * wait-queue lock held and interrupts off: only count and queue work. The
 * eventfd counter is never read; the avail ring says what there is to do.
 */
static int vnl_kick_wake(wait_queue_entry_t *wait, unsigned int mode,
			 int sync, void *key)
{
	struct vnl_device *vd = container_of(wait, struct vnl_device,
					     kick.wait);

	if (!(key_to_poll(key) & EPOLLIN))
		return 0;
	vnl_stats_add(vd, VNETLOOP_C_KICKS, 1);
	vnl_worker_queue(vd);
	return 0;
}

static void vnl_kick_queue_proc(struct file *file, wait_queue_head_t *wqh,
				poll_table *pt)
{
	struct vnl_device *vd = container_of(pt, struct vnl_device,
					     kick.table);

	if (vd->kick.wqh)	/* eventfd registers exactly one queue */
		return;
	vd->kick.wqh = wqh;
	add_wait_queue(wqh, &vd->kick.wait);
}

/*
 * Hook the TX kick eventfd; the worker must exist. Its counter is never
 * read: the start queues one drain instead, which finds whatever a kick
 * before it announced.
 */
int vnl_kick_hook(struct vnl_device *vd)
{
	struct vnl_kick *k = &vd->kick;
	__poll_t mask;

	init_waitqueue_func_entry(&k->wait, vnl_kick_wake);
	init_poll_funcptr(&k->table, vnl_kick_queue_proc);
	mask = vfs_poll(vd->vring[VNETLOOP_QUEUE_TX].kick, &k->table);
	if (!k->wqh)
		return -EINVAL;
	if (mask & EPOLLERR) {
		vnl_kick_unhook(vd);
		return -EINVAL;
	}
	return 0;
}

/* After this returns, the callback is not running and will not run. */
void vnl_kick_unhook(struct vnl_device *vd)
{
	if (!vd->kick.wqh)
		return;
	remove_wait_queue(vd->kick.wqh, &vd->kick.wait);
	vd->kick.wqh = NULL;
}
