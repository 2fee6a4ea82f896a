// SPDX-License-Identifier: GPL-2.0
/*
 * The IOTLB, written by the owner as vhost IOTLB messages (write() of a
 * struct vhost_msg_v2, or the older struct vhost_msg): each UPDATE maps an
 * I/O virtual range (guest-physical, for a VMM without a vIOMMU) to a range
 * of the owner's address space with access rights; INVALIDATE removes every
 * entry its range touches. Between BATCH_BEGIN and BATCH_END the changes
 * build a copy, which the engine sees whole at BATCH_END: a VMM that
 * remaps guest memory while the device runs (QEMU does) never shows the
 * worker a half-changed map.
 *
 * The device reaches the memory with the owner's user copies, so nothing
 * is pinned; a range must only lie in the user address space.
 */
#include <linux/uaccess.h>
#include <linux/vhost.h>

#include "vnetloop.h"

static int vnl_iotlb_add(struct vnl_iotlb *t, const struct vhost_iotlb_msg *m)
{
	struct vnl_region *r;
	unsigned int i;

	if (!m->size || m->iova + m->size - 1 < m->iova ||
	    !m->perm || (m->perm & ~VHOST_ACCESS_RW))
		return -EINVAL;
	/* Rejects ranges past the user address space (and 32-bit). */
	if ((unsigned long)m->uaddr != m->uaddr ||
	    (unsigned long)m->size != m->size ||
	    !access_ok(u64_to_user_ptr(m->uaddr), m->size))
		return -EFAULT;
	/* As vhost: an UPDATE never replaces or merges into an entry. */
	for (i = 0; i < t->n; i++)
		if (m->iova <= t->r[i].gpa + t->r[i].size - 1 &&
		    t->r[i].gpa <= m->iova + m->size - 1)
			return -EEXIST;
	if (t->n == VNL_MEM_MAX_REGIONS)
		return -ENOSPC;

	r = &t->r[t->n++];
	r->gpa = m->iova;
	r->size = m->size;
	r->hva = m->uaddr;
	r->deny = (m->perm & VHOST_ACCESS_RO ? 0 : VNL_READ) |
		  (m->perm & VHOST_ACCESS_WO ? 0 : VNL_WRITE);
	return 0;
}

/* Every entry that [iova, iova + size) touches goes, whole. */
static int vnl_iotlb_del(struct vnl_iotlb *t, const struct vhost_iotlb_msg *m)
{
	u64 last = m->iova + m->size - 1;
	unsigned int i, k;

	if (!m->size)
		return -EINVAL;
	if (last < m->iova)
		last = U64_MAX;
	for (i = 0, k = 0; i < t->n; i++) {
		if (m->iova <= t->r[i].gpa + t->r[i].size - 1 &&
		    t->r[i].gpa <= last)
			continue;
		t->r[k++] = t->r[i];
	}
	t->n = k;
	return 0;
}

/* Each engine takes the IOTLB; its worker is not draining meanwhile. */
int vnl_iotlb_commit(struct vnl_device *vd)
{
	unsigned int i;
	int err = 0;

	for (i = 0; i < vd->max_pairs; i++) {
		struct vnl_pair *p = &vd->pairs[i];

		mutex_lock(&p->eng_lock);
		err = vnl_engine_set_mem(&p->eng, vd->iotlb.r, vd->iotlb.n) ?:
		      err;
		mutex_unlock(&p->eng_lock);
	}
	return err;
}

static int vnl_iotlb_msg(struct vnl_device *vd, const struct vhost_iotlb_msg *m)
{
	struct vnl_iotlb *t = vd->in_batch ? &vd->batch : &vd->iotlb;
	int err;

	switch (m->type) {
	case VHOST_IOTLB_UPDATE:
		err = vnl_iotlb_add(t, m);
		break;
	case VHOST_IOTLB_INVALIDATE:
		err = vnl_iotlb_del(t, m);
		break;
	case VHOST_IOTLB_BATCH_BEGIN:
		if (!vd->in_batch) {
			vd->batch = vd->iotlb;
			vd->in_batch = true;
		}
		return 0;
	case VHOST_IOTLB_BATCH_END:
		if (!vd->in_batch)
			return 0;
		vd->iotlb = vd->batch;
		vd->in_batch = false;
		return vnl_iotlb_commit(vd);
	default:
		/* MISS and ACCESS_FAIL go to userspace, never from it. */
		return -EINVAL;
	}
	if (err || vd->in_batch)
		return err;
	return vnl_iotlb_commit(vd);
}

ssize_t vnl_iotlb_write(struct file *file, const char __user *buf,
			size_t count, loff_t *ppos)
{
	struct vnl_device *vd = file->private_data;
	struct vhost_iotlb_msg m;
	size_t off, size;
	u32 type;
	int err;

	if (count < sizeof(type))
		return -EINVAL;
	if (copy_from_user(&type, buf, sizeof(type)))
		return -EFAULT;
	switch (type) {
	case VHOST_IOTLB_MSG:
		off = offsetof(struct vhost_msg, iotlb);
		size = sizeof(struct vhost_msg);
		break;
	case VHOST_IOTLB_MSG_V2:
		/* asid is ignored: IOTLB_ASID is not offered. */
		off = offsetof(struct vhost_msg_v2, iotlb);
		size = sizeof(struct vhost_msg_v2);
		break;
	default:
		return -EINVAL;
	}
	if (count < off + sizeof(m))
		return -EINVAL;
	if (copy_from_user(&m, buf + off, sizeof(m)))
		return -EFAULT;

	if (mutex_lock_killable(&vd->lock))
		return -EINTR;
	if (vd->mm && vd->mm == current->mm)
		err = vnl_iotlb_msg(vd, &m);
	else
		err = -EPERM;
	mutex_unlock(&vd->lock);
	return err ? err : min(count, size);
}
