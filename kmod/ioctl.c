// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vnetloop ioctls (Documentation/kmod-abi.rst). GET_INFO is free for
 * anyone; every other ioctl binds the caller's mm as the owner on first use
 * and fails with -EPERM from any other mm. Configuration is refused while
 * the device runs; RESET stops the worker before touching engine state.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/log2.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/uaccess.h>

#include "vnetloop.h"

static long vnl_get_info(struct vnl_device *vd, void __user *argp)
{
	struct vnetloop_info info = {
		.api_version = VNETLOOP_API_VERSION,
		.dev_id = vd->id,
		.num_counters = VNETLOOP_NUM_COUNTERS,
		.max_regions = VNETLOOP_MAX_REGIONS,
		.max_queue_size = VNETLOOP_QUEUE_SIZE_MAX,
		.features = VNETLOOP_FEATURES,
	};

	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}

/* Bind the caller as owner, or check that it is the owner. */
static int vnl_owner_check(struct vnl_device *vd)
{
	struct mm_struct *mm;
	int err = 0;

	/* Pairs with the release below: a bound mm comes with its owner. */
	mm = smp_load_acquire(&vd->mm);

	if (mm)
		return mm == current->mm ? 0 : -EPERM;
	if (!current->mm)
		return -EPERM;

	if (mutex_lock_killable(&vd->lock))
		return -EINTR;
	if (!vd->mm) {
		mmgrab(current->mm);
		vd->owner = get_pid(task_tgid(current));
		/* Publish owner before mm, for lockless checks and readers. */
		smp_store_release(&vd->mm, current->mm);
	} else if (vd->mm != current->mm) {
		err = -EPERM;
	}
	mutex_unlock(&vd->lock);
	return err;
}

static long vnl_set_mem_table(struct vnl_device *vd, void __user *argp)
{
	struct vnetloop_mem_table __user *ut = argp;
	struct vnetloop_mem_region mr[VNETLOOP_MAX_REGIONS];
	struct vnl_region r[VNETLOOP_MAX_REGIONS];
	struct vnetloop_mem_table t;
	unsigned int i;

	if (copy_from_user(&t, ut, sizeof(t)))
		return -EFAULT;
	if (t.flags || !t.nregions)
		return -EINVAL;
	if (t.nregions > VNETLOOP_MAX_REGIONS)
		return -E2BIG;
	if (copy_from_user(mr, ut->regions, t.nregions * sizeof(mr[0])))
		return -EFAULT;

	for (i = 0; i < t.nregions; i++) {
		if (mr[i].flags)
			return -EINVAL;
		r[i].gpa = mr[i].guest_phys_addr;
		r[i].size = mr[i].memory_size;
		r[i].hva = mr[i].userspace_addr;
	}
	for (i = 0; i < t.nregions; i++) {
		/* Rejects ranges past the user address space (and 32-bit). */
		if ((unsigned long)r[i].hva != r[i].hva ||
		    (unsigned long)r[i].size != r[i].size ||
		    !access_ok(u64_to_user_ptr(r[i].hva), r[i].size))
			return -EFAULT;
	}

	return vnl_engine_set_mem(&vd->eng, r, t.nregions);
}

static long vnl_set_vring(struct vnl_device *vd, void __user *argp)
{
	struct vnetloop_vring v;

	if (copy_from_user(&v, argp, sizeof(v)))
		return -EFAULT;
	if (v.index >= VNETLOOP_NUM_QUEUES || v.flags || v.reserved0 ||
	    v.reserved[0] || v.reserved[1])
		return -EINVAL;
	if (!v.num || v.num > VNETLOOP_QUEUE_SIZE_MAX || !is_power_of_2(v.num))
		return -EINVAL;
	return vnl_engine_set_vring(&vd->eng, v.index, v.num, v.desc_addr,
				 v.avail_addr, v.used_addr);
}

static long vnl_set_features(struct vnl_device *vd, void __user *argp)
{
	u64 features;

	if (copy_from_user(&features, argp, sizeof(features)))
		return -EFAULT;
	return vnl_engine_set_features(&vd->eng, features);
}

static void vnl_put_eventfds(struct vnl_device *vd)
{
	if (vd->kick.file) {
		fput(vd->kick.file);
		vd->kick.file = NULL;
	}
	if (vd->call) {
		eventfd_ctx_put(vd->call);
		vd->call = NULL;
	}
}

static long vnl_set_eventfds(struct vnl_device *vd, void __user *argp)
{
	struct vnetloop_eventfds e;
	struct eventfd_ctx *call;
	struct file *kick;

	if (copy_from_user(&e, argp, sizeof(e)))
		return -EFAULT;
	if (e.flags || e.reserved0)
		return -EINVAL;

	/* Both fail with -EBADF for a bad fd, -EINVAL for a non-eventfd. */
	kick = eventfd_fget(e.kick_fd);
	if (IS_ERR(kick))
		return PTR_ERR(kick);
	call = eventfd_ctx_fdget(e.call_fd);
	if (IS_ERR(call)) {
		fput(kick);
		return PTR_ERR(call);
	}

	vnl_put_eventfds(vd);
	vd->kick.file = kick;
	vd->call = call;
	return 0;
}

static long vnl_start(struct vnl_device *vd)
{
	int err;

	if (!vnl_engine_nregions(&vd->eng) ||
	    !vnl_engine_queue_ready(&vd->eng, VNETLOOP_QUEUE_TX) ||
	    !vd->kick.file || !vd->call)
		return -EINVAL;

	err = vnl_worker_start(vd);
	if (err)
		return err;
	vnl_engine_start(&vd->eng);
	WRITE_ONCE(vd->running, true);

	err = vnl_kick_hook(vd);
	if (err) {
		vnl_worker_stop(vd);
		WRITE_ONCE(vd->running, false);
	}
	return err;
}

/* No callback, no worker, no eventfd afterwards. Caller holds vd->lock. */
void vnl_device_stop(struct vnl_device *vd)
{
	vnl_kick_unhook(vd);
	vnl_worker_stop(vd);
	vnl_put_eventfds(vd);
	WRITE_ONCE(vd->running, false);
}

static long vnl_reset(struct vnl_device *vd)
{
	vnl_device_stop(vd);
	vnl_engine_reset(&vd->eng);
	return 0;
}

static long vnl_get_irq(struct vnl_device *vd, void __user *argp)
{
	struct vnetloop_irq_state s = {
		.isr = vnl_engine_isr(&vd->eng),
		.status = vnl_engine_status(&vd->eng),
		.running = READ_ONCE(vd->running),
	};

	return copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
}

static long vnl_ack_irq(struct vnl_device *vd, void __user *argp)
{
	u32 bits;

	if (copy_from_user(&bits, argp, sizeof(bits)))
		return -EFAULT;
	if (bits & ~(VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG))
		return -EINVAL;
	vnl_engine_isr_ack(&vd->eng, bits);
	return 0;
}

/* The ioctls that change configuration or run state, under vd->lock. */
static long vnl_ioctl_locked(struct vnl_device *vd, unsigned int cmd,
			     void __user *argp)
{
	if (cmd == VNETLOOP_RESET)
		return vnl_reset(vd);
	if (vd->running)
		return -EBUSY;

	switch (cmd) {
	case VNETLOOP_SET_MEM_TABLE:
		return vnl_set_mem_table(vd, argp);
	case VNETLOOP_SET_VRING:
		return vnl_set_vring(vd, argp);
	case VNETLOOP_SET_FEATURES:
		return vnl_set_features(vd, argp);
	case VNETLOOP_SET_EVENTFDS:
		return vnl_set_eventfds(vd, argp);
	case VNETLOOP_START:
		return vnl_start(vd);
	default:
		return -ENOTTY;
	}
}

long vnl_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct vnl_device *vd = file->private_data;
	void __user *argp = (void __user *)arg;
	long ret;

	switch (cmd) {
	case VNETLOOP_GET_INFO:
		return vnl_get_info(vd, argp);
	case VNETLOOP_GET_IRQ:
	case VNETLOOP_ACK_IRQ:
	case VNETLOOP_SET_MEM_TABLE:
	case VNETLOOP_SET_VRING:
	case VNETLOOP_SET_FEATURES:
	case VNETLOOP_SET_EVENTFDS:
	case VNETLOOP_START:
	case VNETLOOP_RESET:
		break;
	default:
		return -ENOTTY;
	}

	ret = vnl_owner_check(vd);
	if (ret)
		return ret;

	/* Interrupt state is atomic: the VMM's hot path takes no lock. */
	if (cmd == VNETLOOP_GET_IRQ)
		return vnl_get_irq(vd, argp);
	if (cmd == VNETLOOP_ACK_IRQ)
		return vnl_ack_irq(vd, argp);

	/* Killable: the owner must die even while RESET stops the worker. */
	if (mutex_lock_killable(&vd->lock))
		return -EINTR;
	ret = vnl_ioctl_locked(vd, cmd, argp);
	mutex_unlock(&vd->lock);
	return ret;
}
