// SPDX-License-Identifier: GPL-2.0
/*
 * The device side every transport shares. Decisions where the device
 * contract is silent (also in Documentation/vmm.rst):
 * - the features offered are what the VMM asks for and the device offers,
 *   never VIRTIO_F_ACCESS_PLATFORM: the guest's addresses are
 *   guest-physical, whatever the device makes of them;
 * - the driver may add FAILED at any time; NEEDS_RESET in a Status write is
 *   the device's bit and is ignored, so a driver that echoes it back still
 *   adds exactly one bit;
 * - each status step before DRIVER_OK goes to the backend (FEATURES_OK
 *   with the accepted features); a step the device refuses sets FAILED, as
 *   features it does not offer do;
 * - the backend gets only the queues that are ready at DRIVER_OK;
 * - if the backend refuses the rings at DRIVER_OK, the device sets
 *   NEEDS_RESET and raises a CONFIG interrupt;
 * - config space reads come from the backend; writes are ignored.
 */
#include <stdio.h>
#include <string.h>

#include "user/dev/virtio_dev.h"

#define VNL_STATUS_PHASES	(VIRTIO_CONFIG_S_ACKNOWLEDGE | \
				 VIRTIO_CONFIG_S_DRIVER | \
				 VIRTIO_CONFIG_S_FEATURES_OK | \
				 VIRTIO_CONFIG_S_DRIVER_OK)

static void vnl_vdev_clear(struct vnl_vdev *d)
{
	d->status = 0;
	d->isr = 0;
	d->drv_features = 0;
	memset(d->q, 0, sizeof(d->q));
}

void vnl_vdev_init(struct vnl_vdev *d, struct vnl_backend *be,
		   uint64_t features)
{
	memset(d, 0, sizeof(*d));
	d->be = be;
	d->max_pairs = be->max_pairs ? be->max_pairs : 1;
	d->nqueues = vnl_queues_of(d->max_pairs);
	d->offered = features & be->features &
		     ~(1ULL << VIRTIO_F_ACCESS_PLATFORM);
	vnl_vdev_clear(d);
}

uint32_t vnl_vdev_features(const struct vnl_vdev *d, uint32_t sel)
{
	return sel > 1 ? 0 : (uint32_t)(d->offered >> (32 * sel));
}

void vnl_set_lo(uint64_t *r, uint32_t v)
{
	*r = (*r & ~0xffffffffULL) | v;
}

void vnl_set_hi(uint64_t *r, uint32_t v)
{
	*r = (*r & 0xffffffffULL) | (uint64_t)v << 32;
}

void vnl_vdev_set_features(struct vnl_vdev *d, uint32_t sel, uint32_t v)
{
	if (!(d->status & VIRTIO_CONFIG_S_DRIVER) ||
	    (d->status & (VIRTIO_CONFIG_S_FEATURES_OK |
			  VIRTIO_CONFIG_S_FAILED)))
		return;
	if (sel == 0)
		vnl_set_lo(&d->drv_features, v);
	else if (sel == 1)
		vnl_set_hi(&d->drv_features, v);
}

uint32_t vnl_vdev_status(struct vnl_vdev *d)
{
	uint32_t st = 0;

	if (vnl_vdev_started(d))
		st = d->be->ops->status(d->be);
	return d->status | (st & VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* A status step before DRIVER_OK, if the device takes it; else FAILED. */
static void vnl_vdev_step(struct vnl_vdev *d, uint32_t add)
{
	uint32_t next = (d->status & VNL_STATUS_PHASES) | add;
	int ret = 0;

	if (d->be->ops->set_status)
		ret = d->be->ops->set_status(d->be, next, d->drv_features);
	if (ret) {
		fprintf(stderr, "vnetloop: the %s backend refused status 0x%02x: %s\n",
			d->be->ops->name, next, strerror(-ret));
		d->status |= VIRTIO_CONFIG_S_FAILED;
		return;
	}
	d->status |= add;
}

static void vnl_vdev_features_ok(struct vnl_vdev *d)
{
	uint64_t f = d->drv_features;

	if ((f & ~d->offered) || !(f & (1ULL << VIRTIO_F_VERSION_1))) {
		d->status |= VIRTIO_CONFIG_S_FAILED;
		return;
	}
	vnl_vdev_step(d, VIRTIO_CONFIG_S_FEATURES_OK);
}

static void vnl_vdev_driver_ok(struct vnl_vdev *d)
{
	d->status |= VIRTIO_CONFIG_S_DRIVER_OK;
	if (!d->be->ops->start(d->be, d->drv_features, d->q))
		return;
	fprintf(stderr, "vnetloop: the %s backend refused the rings\n",
		d->be->ops->name);
	d->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	d->isr |= VIRTIO_MMIO_INT_CONFIG;
	vnl_backend_raise(d->be, 0, true);
}

/* The phase bit that may come next, or 0 after DRIVER_OK. */
static uint32_t vnl_vdev_next_phase(uint32_t cur)
{
	static const uint32_t order[] = {
		VIRTIO_CONFIG_S_ACKNOWLEDGE, VIRTIO_CONFIG_S_DRIVER,
		VIRTIO_CONFIG_S_FEATURES_OK, VIRTIO_CONFIG_S_DRIVER_OK,
	};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (!(cur & order[i]))
			return order[i];
	return 0;
}

bool vnl_vdev_set_status(struct vnl_vdev *d, uint32_t v)
{
	uint32_t cur = d->status & ~VIRTIO_CONFIG_S_NEEDS_RESET, add;

	if (!v) {
		d->be->ops->reset(d->be);
		vnl_vdev_clear(d);
		return true;
	}
	v &= ~VIRTIO_CONFIG_S_NEEDS_RESET;
	if ((v & cur) != cur)
		return false;			/* clears a bit */
	add = v & ~cur;
	if (!add || (add & (add - 1)))
		return false;			/* no bit, or several */
	if (add == VIRTIO_CONFIG_S_FAILED) {
		d->status |= VIRTIO_CONFIG_S_FAILED;
		return false;
	}
	if ((cur & VIRTIO_CONFIG_S_FAILED) ||
	    add != vnl_vdev_next_phase(cur))
		return false;
	if (add == VIRTIO_CONFIG_S_FEATURES_OK)
		vnl_vdev_features_ok(d);
	else if (add == VIRTIO_CONFIG_S_DRIVER_OK)
		vnl_vdev_driver_ok(d);
	else
		vnl_vdev_step(d, add);
	return false;
}

struct vnl_queue_cfg *vnl_vdev_queue(struct vnl_vdev *d, uint32_t q)
{
	return q < d->nqueues ? &d->q[q] : NULL;
}

bool vnl_vdev_queue_writable(const struct vnl_vdev *d)
{
	return (d->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	       !(d->status & (VIRTIO_CONFIG_S_DRIVER_OK |
			      VIRTIO_CONFIG_S_FAILED));
}

bool vnl_vdev_queue_num_ok(uint32_t num)
{
	return num && num <= VNETLOOP_QUEUE_SIZE_MAX && !(num & (num - 1));
}

void vnl_vdev_notify(struct vnl_vdev *d, uint32_t q)
{
	/* Before DRIVER_OK nothing happens; RX kicks are no-ops. */
	if (!vnl_vdev_started(d) || q >= d->nqueues)
		return;
	if (q % 2 == VNETLOOP_QUEUE_TX ||
	    (d->max_pairs > 1 && q == vnl_ctrl_queue(d->max_pairs)))
		d->be->ops->notify(d->be, q);
}

uint32_t vnl_vdev_isr(struct vnl_vdev *d)
{
	uint32_t isr = (d->isr | d->be->ops->isr_read(d->be)) &
		       (VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);

	if (!isr)
		d->isr_empty_reads++;
	return isr;
}

void vnl_vdev_isr_ack(struct vnl_vdev *d, uint32_t bits)
{
	bits &= VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG;
	d->isr &= ~bits;
	if (bits)
		d->be->ops->isr_ack(d->be, bits);
}

void vnl_vdev_config(struct vnl_vdev *d, uint64_t off, uint8_t *buf,
		     uint32_t len)
{
	uint32_t size = d->be->config_size, n;

	memset(buf, 0, len);
	if (off >= size)
		return;
	n = len < size - off ? len : size - off;
	if (d->be->ops->config(d->be, off, buf, n))
		memset(buf, 0, n);
}
