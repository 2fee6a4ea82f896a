// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vnetloop and the device lifetime: each open creates one device with
 * a fresh id; the last close of that file tears it down. The owner dying
 * closes its fds, so that path is the same.
 */
#define pr_fmt(fmt) "vnetloop: " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/cred.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "vnetloop.h"

/*
 * The owner's pid as the global (init namespace) number; 0 if unowned or
 * once the owner's thread group is gone (reaped), since the number may
 * then name an unrelated process.
 */
u32 vnl_owner_pid(const struct vnl_device *vd)
{
	struct pid *pid = READ_ONCE(vd->owner);

	if (!pid || !pid_has_task(pid, PIDTYPE_TGID))
		return 0;
	return pid_nr(pid);
}

/*
 * Queue pairs of the devices opened from now on: 1 is the plain device;
 * more offers VIRTIO_NET_F_MQ and VIRTIO_NET_F_CTRL_VQ, as a vDPA device's
 * max_vqp does (vdpa dev add). Writable at run time; each device keeps
 * the value it was opened with.
 */
static unsigned int max_queue_pairs = 1;

static int vnl_param_set_pairs(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, VNL_MAX_PAIRS);
}

static const struct kernel_param_ops vnl_param_pairs_ops = {
	.set = vnl_param_set_pairs,
	.get = param_get_uint,
};
module_param_cb(max_queue_pairs, &vnl_param_pairs_ops, &max_queue_pairs,
		0644);
MODULE_PARM_DESC(max_queue_pairs,
		 "queue pairs of each new device, 1.." __stringify(VNL_MAX_PAIRS) " (default 1: no multiqueue)");

static void vnl_device_free(struct vnl_device *vd)
{
	unsigned int i;

	if (vd->mm)
		mmdrop(vd->mm);
	put_pid(vd->owner);
	for (i = 0; vd->pairs && i < vd->max_pairs; i++) {
		struct vnl_pair *p = &vd->pairs[i];

		vnl_stats_free(p);
		kfree(p->bounce);
		mutex_destroy(&p->eng_lock);
	}
	kvfree(vd->pairs);
	mutex_destroy(&vd->lock);
	kfree(vd);
}

/* Pair i of a new device: its engine, bounce buffer and counters. */
static int vnl_pair_init(struct vnl_device *vd, unsigned int i)
{
	struct vnl_pair *p = &vd->pairs[i];

	p->vd = vd;
	p->index = i;
	mutex_init(&p->eng_lock);
	p->bounce = kmalloc(VNL_BOUNCE_SIZE, GFP_KERNEL_ACCOUNT);
	if (!p->bounce)
		return -ENOMEM;
	if (vnl_stats_alloc(p))
		return -ENOMEM;
	vnl_engine_init(&p->eng, &vnl_engine_ops, p, p->bounce);
	return 0;
}

static int vnl_open(struct inode *inode, struct file *file)
{
	unsigned int pairs = READ_ONCE(max_queue_pairs), i;
	struct vnl_device *vd;
	int err;

	vd = kzalloc(sizeof(*vd), GFP_KERNEL_ACCOUNT);
	if (!vd)
		return -ENOMEM;
	mutex_init(&vd->lock);
	spin_lock_init(&vd->call_lock);
	vd->uid = current_euid();
	vd->budget_packets = VNL_BUDGET_PACKETS;
	vd->budget_bytes = VNL_BUDGET_BYTES;
	vd->max_pairs = pairs;
	vd->offered = VNETLOOP_FEATURES;
	vd->nvqs = VNETLOOP_NUM_QUEUES;
	if (pairs > 1) {
		vd->offered |= VNETLOOP_FEATURES_MQ;
		vd->nvqs = 2 * pairs + 1;
	}

	err = -ENOMEM;
	vd->pairs = kvcalloc(pairs, sizeof(*vd->pairs), GFP_KERNEL_ACCOUNT);
	if (!vd->pairs)
		goto err_free;
	for (i = 0; i < pairs; i++) {
		err = vnl_pair_init(vd, i);
		if (err)
			goto err_free;
	}
	/* Pair 0 owns the control queue. */
	if (pairs > 1)
		vnl_engine_set_max_pairs(&vd->pairs[0].eng, pairs);

	mutex_lock(&vnl_devs_lock);
	err = xa_alloc(&vnl_devs, &vd->id, vd, xa_limit_31b, GFP_KERNEL);
	if (!err)
		vnl_debugfs_add(vd);
	mutex_unlock(&vnl_devs_lock);
	if (err)
		goto err_free;

	/* Locally administered, "vnl", the id: unique per open device. */
	vd->mac[0] = 0x02;
	vd->mac[1] = 'v';
	vd->mac[2] = 'n';
	vd->mac[3] = 'l';
	vd->mac[4] = vd->id >> 8;
	vd->mac[5] = vd->id;
	file->private_data = vd;
	nonseekable_open(inode, file);
	/* Not owned yet: the event names the process that created it. */
	vnl_genl_dev_event(VNETLOOP_CMD_DEV_CREATED, vd->id,
			   task_tgid_nr(current));
	return 0;

err_free:
	vnl_device_free(vd);
	return err;
}

static int vnl_release(struct inode *inode, struct file *file)
{
	struct vnl_device *vd = file->private_data;

	/* Waits for debugfs readers; later reads of open files get -EIO. */
	vnl_debugfs_remove(vd);

	/* QEMU never closes the fd: its exit does, and this must undo all. */
	mutex_lock(&vd->lock);
	vnl_device_teardown(vd);
	mutex_unlock(&vd->lock);

	/* Sent before the id can be reused, so events stay in order. */
	vnl_genl_dev_event(VNETLOOP_CMD_DEV_DESTROYED, vd->id,
			   vnl_owner_pid(vd));

	mutex_lock(&vnl_devs_lock);
	xa_erase(&vnl_devs, vd->id);
	mutex_unlock(&vnl_devs_lock);

	vnl_device_free(vd);
	return 0;
}

/* Which device an fd is: vhost-vdpa has no request for it. */
static void vnl_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct vnl_device *vd = file->private_data;

	seq_printf(m, "vnetloop-id:\t%u\n", vd->id);
}

static const struct file_operations vnl_fops = {
	.owner = THIS_MODULE,
	.open = vnl_open,
	.release = vnl_release,
	.write = vnl_iotlb_write,
	.unlocked_ioctl = vnl_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.show_fdinfo = vnl_show_fdinfo,
};

/*
 * A fixed misc minor, so that opening /dev/vnetloop can load the module:
 * depmod turns the devname and char-major aliases below into
 * modules.devname, from which kmod static-nodes (systemd-tmpfiles at boot)
 * creates the node before the module is loaded; the first open then
 * requests "char-major-10-247". A dynamic minor is only known once the
 * module runs, so nothing can name it in advance.
 *
 * Documentation/admin-guide/devices.txt reserves misc minors 243-254 for
 * local use: include/linux/miscdevice.h assigns up to 242 (RFKILL_MINOR),
 * 255 is MISC_DYNAMIC_MINOR, no 6.1 driver registers a minor in the range
 * and dynamic minors come from below 128. 247 rather than 243, the first
 * one, which other out-of-tree drivers are the likeliest to pick. Should
 * another local driver hold it anyway, loading fails with -EBUSY.
 */
#define VNL_MISC_MINOR	247

static struct miscdevice vnl_misc = {
	.minor = VNL_MISC_MINOR,
	.name = "vnetloop",
	.fops = &vnl_fops,
	.mode = 0600,
};

int __init vnl_misc_init(void)
{
	int err = misc_register(&vnl_misc);

	if (err == -EBUSY)
		pr_err("misc minor %d is taken by another driver\n",
		       VNL_MISC_MINOR);
	return err;
}

void vnl_misc_exit(void)
{
	misc_deregister(&vnl_misc);
}

MODULE_ALIAS_MISCDEV(VNL_MISC_MINOR);
MODULE_ALIAS("devname:vnetloop");
