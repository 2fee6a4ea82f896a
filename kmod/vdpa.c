// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vnetloop speaks the vhost-vdpa uAPI (Documentation/kmod-abi.rst):
 * the device's identity, features, status and config, its virtqueues (a
 * queue pair, or with max_queue_pairs > 1 that many and a control queue),
 * and the ownership that the vring ioctls and the IOTLB writes (iotlb.c)
 * require. The status drives the data plane: DRIVER_OK starts a worker
 * per pair on the rings, resolved through the IOTLB; 0 stops them and
 * resets the device, keeping each ring's position for VHOST_GET_VRING_BASE
 * (QEMU asks for it after the reset), the IOTLB and the eventfds.
 *
 * The getters of constants take no lock. Everything else runs under
 * vd->lock, taken killably: the owner must be able to die while another of
 * its threads waits for the worker to stop.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/log2.h>
#include <linux/nospec.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/uaccess.h>
#include <linux/vhost.h>
#include <linux/virtio_ids.h>

#include "vnetloop.h"

#define VNL_BACKEND_FEATURES	((1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) | \
				 (1ULL << VHOST_BACKEND_F_IOTLB_BATCH))

/* The IOVA range the IOTLB accepts, and the one QEMU must not skip. */
static long vnl_get_iova_range(void __user *argp)
{
	struct vhost_vdpa_iova_range r = { .first = 0, .last = U64_MAX };

	return copy_to_user(argp, &r, sizeof(r)) ? -EFAULT : 0;
}

/* Constants: no lock, no owner, as vhost-vdpa. */
static long vnl_ioctl_const(unsigned int cmd, void __user *argp)
{
	switch (cmd) {
	case VHOST_GET_BACKEND_FEATURES:
		return put_user((u64)VNL_BACKEND_FEATURES, (u64 __user *)argp);
	case VHOST_VDPA_GET_DEVICE_ID:
		return put_user((u32)VIRTIO_ID_NET, (u32 __user *)argp);
	case VHOST_VDPA_GET_VRING_NUM:
		return put_user((u16)VNETLOOP_QUEUE_SIZE_MAX,
				(u16 __user *)argp);
	case VHOST_VDPA_GET_CONFIG_SIZE:
		return put_user((u32)sizeof(struct virtio_net_config),
				(u32 __user *)argp);
	case VHOST_VDPA_GET_GROUP_NUM:
	case VHOST_VDPA_GET_AS_NUM:
		/* One group of all queues, one address space. */
		return put_user(1U, (u32 __user *)argp);
	case VHOST_VDPA_GET_IOVA_RANGE:
		return vnl_get_iova_range(argp);
	default:
		return -ENOIOCTLCMD;
	}
}

/* What the device was opened with: no lock either. */
static long vnl_ioctl_dev_const(struct vnl_device *vd, unsigned int cmd,
				void __user *argp)
{
	switch (cmd) {
	case VHOST_GET_FEATURES:
		return put_user(vd->offered, (u64 __user *)argp);
	case VHOST_VDPA_GET_VQS_COUNT:
		return put_user((u32)vd->nvqs, (u32 __user *)argp);
	default:
		return -ENOIOCTLCMD;
	}
}

/*
 * The engine, and its queue, behind virtqueue idx while the device runs
 * (the layout vnl_start() chose); NULL for none.
 */
static struct vnl_engine *vnl_vq_engine(struct vnl_device *vd,
					unsigned int idx, unsigned int *q)
{
	if (vd->ctrl_idx && idx == vd->ctrl_idx) {
		*q = VNETLOOP_QUEUE_CTRL;
		return &vd->pairs[0].eng;
	}
	if (idx / 2 >= vd->npairs)
		return NULL;
	*q = idx % 2;
	return &vd->pairs[idx / 2].eng;
}

/* Is the caller's mm the owner's? */
static bool vnl_is_owner(struct vnl_device *vd)
{
	/* Pairs with vnl_set_owner(): a bound mm comes with its owner. */
	struct mm_struct *mm = smp_load_acquire(&vd->mm);

	return mm && mm == current->mm;
}

/* Before SET_OWNER anyone may set status and config; then only the owner. */
static bool vnl_may_configure(struct vnl_device *vd)
{
	return !READ_ONCE(vd->mm) || vnl_is_owner(vd);
}

static long vnl_set_owner(struct vnl_device *vd)
{
	if (vd->mm)
		return -EBUSY;
	if (!current->mm)
		return -EPERM;
	mmgrab(current->mm);
	/* Readers of the pid (netlink, debugfs) hold vnl_devs_lock. */
	mutex_lock(&vnl_devs_lock);
	vd->owner = get_pid(task_tgid(current));
	mutex_unlock(&vnl_devs_lock);
	/* Publish owner before mm, for lockless checks. */
	smp_store_release(&vd->mm, current->mm);
	return 0;
}

/* The data plane stops; each ring's position is kept for GET_VRING_BASE. */
static void vnl_stop(struct vnl_device *vd)
{
	struct vnl_engine *eng;
	unsigned int idx, q;

	if (!vd->running)
		return;
	vnl_kicks_unhook(vd);
	vnl_workers_stop(vd);
	for (idx = 0; idx < vd->nvqs; idx++) {
		eng = vnl_vq_engine(vd, idx, &q);
		if (eng && vnl_engine_queue_ready(eng, q))
			vd->vring[idx].base = vnl_engine_base(eng, q);
	}
	WRITE_ONCE(vd->running, false);
}

static void vnl_engines_reset(struct vnl_device *vd)
{
	unsigned int i;

	for (i = 0; i < vd->max_pairs; i++)
		vnl_engine_reset(&vd->pairs[i].eng);
}

/*
 * Status 0: the device resets. The rings' layouts and enables go, as in
 * every vDPA device; their positions, the eventfds and the IOTLB stay.
 */
static void vnl_reset(struct vnl_device *vd)
{
	unsigned int q;

	vnl_stop(vd);
	vnl_engines_reset(vd);
	for (q = 0; q < vd->nvqs; q++) {
		struct vnl_vring *vr = &vd->vring[q];

		vr->num = 0;
		vr->desc = 0;
		vr->avail = 0;
		vr->used = 0;
		vr->enabled = false;
	}
	vd->features = 0;
	vd->status = 0;
}

static void vnl_put_eventfds(struct vnl_device *vd)
{
	struct eventfd_ctx *call[VNL_MAX_VQS], *config;
	unsigned int q;

	spin_lock(&vd->call_lock);
	for (q = 0; q < vd->nvqs; q++) {
		call[q] = vd->vring[q].call;
		vd->vring[q].call = NULL;
	}
	config = vd->config_call;
	vd->config_call = NULL;
	spin_unlock(&vd->call_lock);

	for (q = 0; q < vd->nvqs; q++) {
		if (call[q])
			eventfd_ctx_put(call[q]);
		if (vd->vring[q].kick) {
			fput(vd->vring[q].kick);
			vd->vring[q].kick = NULL;
		}
	}
	if (config)
		eventfd_ctx_put(config);
}

/*
 * Everything the owner set up goes: the device resets, the eventfds and
 * the IOTLB are dropped. For release and RESET_OWNER.
 */
void vnl_device_teardown(struct vnl_device *vd)
{
	vnl_reset(vd);
	vnl_put_eventfds(vd);
	vd->iotlb.n = 0;
	vd->in_batch = false;
	vnl_iotlb_commit(vd);
	vd->backend_features = 0;
	memset(vd->vring, 0, sizeof(vd->vring));
}

static long vnl_reset_owner(struct vnl_device *vd)
{
	struct mm_struct *mm = vd->mm;
	struct pid *owner;

	vnl_device_teardown(vd);
	mutex_lock(&vnl_devs_lock);
	owner = vd->owner;
	vd->owner = NULL;
	mutex_unlock(&vnl_devs_lock);
	WRITE_ONCE(vd->mm, NULL);
	put_pid(owner);
	mmdrop(mm);
	return 0;
}

/*
 * The engine of pair i takes its rings (pair 0's also the control queue),
 * the negotiated features (the others without the control queue's) and
 * the IOTLB.
 */
static int vnl_pair_setup(struct vnl_device *vd, unsigned int i)
{
	struct vnl_engine *eng = &vd->pairs[i].eng;
	u64 f = vd->features;
	unsigned int q, idx;
	int err;

	if (i)
		f &= ~(u64)VNETLOOP_FEATURES_MQ;
	err = vnl_engine_set_features(eng, f);
	if (!err)
		err = vnl_engine_set_mem(eng, vd->iotlb.r, vd->iotlb.n);
	for (q = 0; q < VNETLOOP_ENGINE_QUEUES && !err; q++) {
		struct vnl_vring *vr;

		if (q == VNETLOOP_QUEUE_CTRL) {
			if (i || !vd->ctrl_idx)
				continue;
			idx = vd->ctrl_idx;
		} else {
			idx = 2 * i + q;
		}
		vr = &vd->vring[idx];
		if (!vr->num || !vr->enabled)
			continue;
		err = vnl_engine_set_vring(eng, q, vr->num, vr->desc,
					   vr->avail, vr->used);
		if (!err)
			vnl_engine_set_base(eng, q, vr->base);
	}
	return err;
}

/*
 * What DRIVER_OK needs, then the workers on the rings. With MQ every pair
 * gets a worker and the control queue is the last virtqueue; without, one
 * pair, and a control queue (CTRL_VQ alone) is virtqueue 2.
 */
static int vnl_start(struct vnl_device *vd)
{
	struct vnl_vring *tx = &vd->vring[VNETLOOP_QUEUE_TX];
	bool mq = vd->features & BIT_ULL(VIRTIO_NET_F_MQ);
	unsigned int i;
	int err = 0;

	/* The workers run in the owner's address space. */
	if (!vnl_is_owner(vd))
		return -EPERM;
	if (!tx->num || !tx->enabled || !tx->kick)
		return -EINVAL;

	vd->npairs = mq ? vd->max_pairs : 1;
	vd->ctrl_idx = 0;
	if (vd->features & BIT_ULL(VIRTIO_NET_F_CTRL_VQ))
		vd->ctrl_idx = mq ? 2 * vd->max_pairs : 2;
	vd->ready_pairs = 0;
	WRITE_ONCE(vd->active_pairs, 1);
	for (i = 0; i < vd->npairs && !err; i++) {
		err = vnl_pair_setup(vd, i);
		/* VQ_PAIRS_SET may use pairs 0..ready_pairs - 1. */
		if (!err && vd->ready_pairs == i &&
		    vnl_engine_queue_ready(&vd->pairs[i].eng,
					   VNETLOOP_QUEUE_TX))
			vd->ready_pairs = i + 1;
	}
	if (!err)
		err = vnl_workers_start(vd);
	if (err)
		goto fail;

	for (i = 0; i < vd->npairs; i++)
		vnl_engine_start(&vd->pairs[i].eng);
	WRITE_ONCE(vd->running, true);
	err = vnl_kicks_hook(vd);
	if (err) {
		vnl_stop(vd);
		goto fail;
	}
	/* What the driver offered before the kicks were hooked, as vhost. */
	vnl_worker_queue(&vd->pairs[0], VNL_WORK_QUEUED);
	if (vd->ctrl_idx)
		vnl_worker_queue(&vd->pairs[0], VNL_CTRL_QUEUED);
	return 0;

fail:
	vnl_engines_reset(vd);
	return err;
}

static long vnl_get_status(struct vnl_device *vd, u8 __user *argp)
{
	u8 s = vd->status | (vnl_device_engine_status(vd) &
			     VIRTIO_CONFIG_S_NEEDS_RESET);

	return put_user(s, argp);
}

static long vnl_set_status(struct vnl_device *vd, u8 __user *argp)
{
	u8 s, old = vd->status;
	int err;

	if (get_user(s, argp))
		return -EFAULT;
	if (!s) {
		vnl_reset(vd);
		return 0;
	}
	/* Bits are only ever added, until the reset. */
	if (old & ~s)
		return -EINVAL;
	/* A driver that did not take VERSION_1 reads FEATURES_OK back clear. */
	if ((s & ~old & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(vd->features & (1ULL << VIRTIO_F_VERSION_1)))
		s &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	if (s & ~old & VIRTIO_CONFIG_S_DRIVER_OK) {
		if (!(s & VIRTIO_CONFIG_S_FEATURES_OK))
			return -EINVAL;
		err = vnl_start(vd);
		if (err)
			return err;
	}
	vd->status = s;
	return 0;
}

static long vnl_set_features(struct vnl_device *vd, u64 __user *argp)
{
	u64 f;

	if (get_user(f, argp))
		return -EFAULT;
	if (vd->status & VIRTIO_CONFIG_S_FEATURES_OK)
		return -EBUSY;
	if (f & ~vd->offered)
		return -EINVAL;
	/* virtio: MQ needs the control queue that sets the pairs. */
	if ((f & BIT_ULL(VIRTIO_NET_F_MQ)) &&
	    !(f & BIT_ULL(VIRTIO_NET_F_CTRL_VQ)))
		return -EINVAL;
	vd->features = f;
	return 0;
}

static long vnl_set_backend_features(struct vnl_device *vd, u64 __user *argp)
{
	u64 f;

	if (get_user(f, argp))
		return -EFAULT;
	if (f & ~VNL_BACKEND_FEATURES)
		return -EOPNOTSUPP;
	vd->backend_features = f;
	return 0;
}

/* Config space access [off, off + len): 0 or -EINVAL, as vhost-vdpa. */
static long vnl_config_range(struct vhost_vdpa_config __user *uc, u32 *off,
			     u32 *len)
{
	struct vhost_vdpa_config c;

	if (copy_from_user(&c, uc, sizeof(c)))
		return -EFAULT;
	if (!c.len || c.off > sizeof(struct virtio_net_config) ||
	    c.len > sizeof(struct virtio_net_config) - c.off)
		return -EINVAL;
	*off = c.off;
	*len = c.len;
	return 0;
}

/* The MAC and the queue pairs; no STATUS, MTU or speed offered. */
static long vnl_get_config(struct vnl_device *vd,
			   struct vhost_vdpa_config __user *uc)
{
	struct virtio_net_config cfg = {
		.max_virtqueue_pairs = cpu_to_le16(vd->max_pairs),
	};
	u32 off, len;
	long err;

	err = vnl_config_range(uc, &off, &len);
	if (err)
		return err;
	memcpy(cfg.mac, vd->mac, sizeof(cfg.mac));
	return copy_to_user(uc->buf, (u8 *)&cfg + off, len) ? -EFAULT : 0;
}

/* Only the MAC is writable; writes to the rest are ignored. */
static long vnl_set_config(struct vnl_device *vd,
			   struct vhost_vdpa_config __user *uc)
{
	u8 buf[sizeof(struct virtio_net_config)];
	u32 off, len, i;
	long err;

	err = vnl_config_range(uc, &off, &len);
	if (err)
		return err;
	if (copy_from_user(buf, uc->buf, len))
		return -EFAULT;
	for (i = 0; i < len; i++)
		if (off + i < ETH_ALEN)
			vd->mac[off + i] = buf[i];
	return 0;
}

/* A new eventfd context for fd, or NULL for VHOST_FILE_UNBIND. */
static struct eventfd_ctx *vnl_call_get(int fd)
{
	return fd == VHOST_FILE_UNBIND ? NULL : eventfd_ctx_fdget(fd);
}

/* Swap an interrupt eventfd at any time: the worker signals under call_lock. */
static long vnl_set_call(struct vnl_device *vd, struct eventfd_ctx **slot,
			 int fd)
{
	struct eventfd_ctx *ctx = vnl_call_get(fd), *old;

	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	spin_lock(&vd->call_lock);
	old = *slot;
	*slot = ctx;
	spin_unlock(&vd->call_lock);
	if (old)
		eventfd_ctx_put(old);
	return 0;
}

static long vnl_set_config_call(struct vnl_device *vd, int __user *argp)
{
	int fd;

	if (get_user(fd, argp))
		return -EFAULT;
	return vnl_set_call(vd, &vd->config_call, fd);
}

static long vnl_set_vring_addr(struct vnl_vring *vr,
			       struct vhost_vring_addr __user *argp)
{
	struct vhost_vring_addr a;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	if (a.flags & ~(1U << VHOST_VRING_F_LOG))
		return -EOPNOTSUPP;
	/* virtio's alignment of each ring part; the engine relies on it. */
	if ((a.desc_user_addr & (VRING_DESC_ALIGN_SIZE - 1)) ||
	    (a.avail_user_addr & (VRING_AVAIL_ALIGN_SIZE - 1)) ||
	    (a.used_user_addr & (VRING_USED_ALIGN_SIZE - 1)))
		return -EINVAL;
	vr->desc = a.desc_user_addr;
	vr->avail = a.avail_user_addr;
	vr->used = a.used_user_addr;
	return 0;
}

static long vnl_set_vring_kick(struct vnl_vring *vr, int fd)
{
	struct file *f = NULL;

	if (fd != VHOST_FILE_UNBIND) {
		/* -EBADF for a bad fd, -EINVAL for a non-eventfd. */
		f = eventfd_fget(fd);
		if (IS_ERR(f))
			return PTR_ERR(f);
	}
	if (vr->kick)
		fput(vr->kick);
	vr->kick = f;
	return 0;
}

/*
 * The per-virtqueue ioctls: the owner's, a queue index past the device's
 * virtqueues is -ENOBUFS.
 * Layouts, positions and kicks are fixed while the device runs; the call
 * eventfd may change at any time (QEMU swaps it when the guest masks the
 * queue's vector).
 */
static long vnl_vring_ioctl(struct vnl_device *vd, unsigned int cmd,
			    void __user *argp)
{
	struct vhost_vring_state s;
	struct vhost_vring_file f;
	struct vnl_engine *eng;
	struct vnl_vring *vr;
	unsigned int q;
	u32 idx;

	/* Every vring argument starts with the queue index. */
	if (get_user(idx, (u32 __user *)argp))
		return -EFAULT;
	if (idx >= vd->nvqs)
		return -ENOBUFS;
	idx = array_index_nospec(idx, vd->nvqs);
	vr = &vd->vring[idx];

	switch (cmd) {
	case VHOST_GET_VRING_BASE:
		s.index = idx;
		s.num = vr->base;
		eng = vd->running ? vnl_vq_engine(vd, idx, &q) : NULL;
		if (eng && vnl_engine_queue_ready(eng, q))
			s.num = vnl_engine_base(eng, q);
		return copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
	case VHOST_SET_VRING_CALL:
		if (copy_from_user(&f, argp, sizeof(f)))
			return -EFAULT;
		return vnl_set_call(vd, &vr->call, f.fd);
	}

	if (vd->running)
		return -EBUSY;
	switch (cmd) {
	case VHOST_SET_VRING_NUM:
		if (copy_from_user(&s, argp, sizeof(s)))
			return -EFAULT;
		if (!s.num || s.num > VNETLOOP_QUEUE_SIZE_MAX ||
		    !is_power_of_2(s.num))
			return -EINVAL;
		vr->num = s.num;
		return 0;
	case VHOST_SET_VRING_BASE:
		if (copy_from_user(&s, argp, sizeof(s)))
			return -EFAULT;
		if (s.num > 0xffff)
			return -EINVAL;
		vr->base = s.num;
		return 0;
	case VHOST_SET_VRING_ADDR:
		return vnl_set_vring_addr(vr, argp);
	case VHOST_SET_VRING_KICK:
		if (copy_from_user(&f, argp, sizeof(f)))
			return -EFAULT;
		return vnl_set_vring_kick(vr, f.fd);
	case VHOST_VDPA_SET_VRING_ENABLE:
		if (copy_from_user(&s, argp, sizeof(s)))
			return -EFAULT;
		vr->enabled = !!s.num;
		return 0;
	default:
		/* Endianness, error eventfds, busy polling: not ours. */
		return -ENOTTY;
	}
}

static long vnl_get_vring_group(struct vnl_device *vd,
				struct vhost_vring_state __user *argp)
{
	struct vhost_vring_state s;

	if (copy_from_user(&s, argp, sizeof(s)))
		return -EFAULT;
	if (s.index >= vd->nvqs)
		return -EINVAL;
	s.num = 0;
	return copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
}

static long vnl_ioctl_locked(struct vnl_device *vd, unsigned int cmd,
			     void __user *argp)
{
	switch (cmd) {
	case VHOST_SET_OWNER:
		return vnl_set_owner(vd);
	case VHOST_VDPA_GET_STATUS:
		return vnl_get_status(vd, argp);
	case VHOST_VDPA_GET_CONFIG:
		return vnl_get_config(vd, argp);
	case VHOST_VDPA_GET_VRING_GROUP:
		return vnl_get_vring_group(vd, argp);
	case VHOST_VDPA_SET_GROUP_ASID:
	case VHOST_VDPA_SUSPEND:
		/* Neither IOTLB_ASID nor SUSPEND is offered. */
		return -EOPNOTSUPP;
	case VHOST_VDPA_SET_STATUS:
	case VHOST_SET_FEATURES:
	case VHOST_SET_BACKEND_FEATURES:
	case VHOST_VDPA_SET_CONFIG:
	case VHOST_VDPA_SET_CONFIG_CALL:
		if (!vnl_may_configure(vd))
			return -EPERM;
		break;
	default:
		/* The rest is the owner's, as in vhost_dev_ioctl(). */
		if (!vnl_is_owner(vd))
			return -EPERM;
		break;
	}

	switch (cmd) {
	case VHOST_VDPA_SET_STATUS:
		return vnl_set_status(vd, argp);
	case VHOST_SET_FEATURES:
		return vnl_set_features(vd, argp);
	case VHOST_SET_BACKEND_FEATURES:
		return vnl_set_backend_features(vd, argp);
	case VHOST_VDPA_SET_CONFIG:
		return vnl_set_config(vd, argp);
	case VHOST_VDPA_SET_CONFIG_CALL:
		return vnl_set_config_call(vd, argp);
	case VHOST_RESET_OWNER:
		return vnl_reset_owner(vd);
	case VHOST_GET_VRING_BASE:
	case VHOST_SET_VRING_NUM:
	case VHOST_SET_VRING_BASE:
	case VHOST_SET_VRING_ADDR:
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL:
	case VHOST_VDPA_SET_VRING_ENABLE:
	case VHOST_SET_VRING_ENDIAN:
	case VHOST_GET_VRING_ENDIAN:
	case VHOST_SET_VRING_ERR:
	case VHOST_SET_VRING_BUSYLOOP_TIMEOUT:
	case VHOST_GET_VRING_BUSYLOOP_TIMEOUT:
		return vnl_vring_ioctl(vd, cmd, argp);
	default:
		/* Memory tables, dirty logging and the rest: not here. */
		return -ENOTTY;
	}
}

long vnl_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct vnl_device *vd = file->private_data;
	void __user *argp = (void __user *)arg;
	long ret;

	ret = vnl_ioctl_const(cmd, argp);
	if (ret == -ENOIOCTLCMD)
		ret = vnl_ioctl_dev_const(vd, cmd, argp);
	if (ret != -ENOIOCTLCMD)
		return ret;

	if (mutex_lock_killable(&vd->lock))
		return -EINTR;
	ret = vnl_ioctl_locked(vd, cmd, argp);
	mutex_unlock(&vd->lock);
	return ret;
}
