// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-mmio transport. Decisions where the device contract is silent (also in
 * Documentation/vmm.rst):
 * - a register access (offset < 0x100) must be 4 bytes wide and aligned:
 *   anything else reads as all 0xff bytes and is ignored on write;
 * - write-only registers read 0, like unknown ones;
 * - the features offered are what the VMM asks for and the device offers,
 *   never VIRTIO_F_ACCESS_PLATFORM: the guest's addresses are
 *   guest-physical, whatever the device makes of them;
 * - the driver may add FAILED at any time; NEEDS_RESET in a Status write is
 *   the device's bit and is ignored, so a driver that echoes it back still
 *   adds exactly one bit;
 * - each status step before DRIVER_OK goes to the backend (FEATURES_OK
 *   with the accepted features); a step the device refuses sets FAILED, as
 *   features it does not offer do;
 * - QueueReady=1 needs a valid QueueNum first; the backend gets only the
 *   queues that are ready at DRIVER_OK;
 * - if the backend refuses the rings at DRIVER_OK, the device sets
 *   NEEDS_RESET and raises a CONFIG interrupt;
 * - config space reads come from the backend; writes are ignored.
 */
#include <stdio.h>
#include <string.h>

#include "user/dev/mmio.h"

#define VNL_STATUS_PHASES	(VIRTIO_CONFIG_S_ACKNOWLEDGE | \
				 VIRTIO_CONFIG_S_DRIVER | \
				 VIRTIO_CONFIG_S_FEATURES_OK | \
				 VIRTIO_CONFIG_S_DRIVER_OK)

static const char *const vnl_reg_names[VIRTIO_MMIO_CONFIG / 4] = {
	[VIRTIO_MMIO_MAGIC_VALUE / 4]		= "MagicValue",
	[VIRTIO_MMIO_VERSION / 4]		= "Version",
	[VIRTIO_MMIO_DEVICE_ID / 4]		= "DeviceID",
	[VIRTIO_MMIO_VENDOR_ID / 4]		= "VendorID",
	[VIRTIO_MMIO_DEVICE_FEATURES / 4]	= "DeviceFeatures",
	[VIRTIO_MMIO_DEVICE_FEATURES_SEL / 4]	= "DeviceFeaturesSel",
	[VIRTIO_MMIO_DRIVER_FEATURES / 4]	= "DriverFeatures",
	[VIRTIO_MMIO_DRIVER_FEATURES_SEL / 4]	= "DriverFeaturesSel",
	[VIRTIO_MMIO_QUEUE_SEL / 4]		= "QueueSel",
	[VIRTIO_MMIO_QUEUE_NUM_MAX / 4]		= "QueueNumMax",
	[VIRTIO_MMIO_QUEUE_NUM / 4]		= "QueueNum",
	[VIRTIO_MMIO_QUEUE_READY / 4]		= "QueueReady",
	[VIRTIO_MMIO_QUEUE_NOTIFY / 4]		= "QueueNotify",
	[VIRTIO_MMIO_INTERRUPT_STATUS / 4]	= "InterruptStatus",
	[VIRTIO_MMIO_INTERRUPT_ACK / 4]		= "InterruptACK",
	[VIRTIO_MMIO_STATUS / 4]		= "Status",
	[VIRTIO_MMIO_QUEUE_DESC_LOW / 4]	= "QueueDescLow",
	[VIRTIO_MMIO_QUEUE_DESC_HIGH / 4]	= "QueueDescHigh",
	[VIRTIO_MMIO_QUEUE_AVAIL_LOW / 4]	= "QueueAvailLow",
	[VIRTIO_MMIO_QUEUE_AVAIL_HIGH / 4]	= "QueueAvailHigh",
	[VIRTIO_MMIO_QUEUE_USED_LOW / 4]	= "QueueUsedLow",
	[VIRTIO_MMIO_QUEUE_USED_HIGH / 4]	= "QueueUsedHigh",
	[VIRTIO_MMIO_CONFIG_GENERATION / 4]	= "ConfigGeneration",
};

const char *vnl_mmio_reg_name(unsigned int slot)
{
	if (slot < VIRTIO_MMIO_CONFIG / 4)
		return vnl_reg_names[slot];
	return NULL;
}

static void vnl_mmio_clear(struct vnl_mmio *m)
{
	m->status = 0;
	m->isr = 0;
	m->dev_features_sel = 0;
	m->drv_features_sel = 0;
	m->drv_features = 0;
	m->queue_sel = 0;
	memset(m->q, 0, sizeof(m->q));
}

void vnl_mmio_init(struct vnl_mmio *m, struct vnl_backend *be,
		   uint64_t features)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	m->be = be;
	m->offered = features & be->features &
		     ~(1ULL << VIRTIO_F_ACCESS_PLATFORM);
	vnl_mmio_clear(m);
}

void vnl_mmio_destroy(struct vnl_mmio *m)
{
	pthread_mutex_destroy(&m->lock);
}

static struct vnl_queue_cfg *vnl_mmio_queue(struct vnl_mmio *m)
{
	return m->queue_sel < VNETLOOP_NUM_QUEUES ? &m->q[m->queue_sel] : NULL;
}

static bool vnl_mmio_started(const struct vnl_mmio *m)
{
	return m->status & VIRTIO_CONFIG_S_DRIVER_OK;
}

static uint32_t vnl_mmio_reg_read(struct vnl_mmio *m, uint64_t off)
{
	struct vnl_queue_cfg *q = vnl_mmio_queue(m);
	uint32_t isr, st = 0;

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VNL_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return VNL_MMIO_VERSION;
	case VIRTIO_MMIO_DEVICE_ID:
		return VIRTIO_ID_NET;
	case VIRTIO_MMIO_VENDOR_ID:
		return VNL_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (m->dev_features_sel > 1)
			return 0;
		return m->offered >> (32 * m->dev_features_sel);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return q ? VNETLOOP_QUEUE_SIZE_MAX : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return q ? q->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		isr = (m->isr | m->be->ops->isr_read(m->be)) &
		      (VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
		if (!isr)
			m->isr_empty_reads++;
		return isr;
	case VIRTIO_MMIO_STATUS:
		if (vnl_mmio_started(m))
			st = m->be->ops->status(m->be);
		return m->status | (st & VIRTIO_CONFIG_S_NEEDS_RESET);
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return 0;
	}
	return 0;
}

static void vnl_mmio_reset(struct vnl_mmio *m)
{
	m->be->ops->reset(m->be);
	vnl_mmio_clear(m);
}

/* A status step before DRIVER_OK, if the device takes it; else FAILED. */
static void vnl_mmio_step(struct vnl_mmio *m, uint32_t add)
{
	uint32_t next = (m->status & VNL_STATUS_PHASES) | add;
	int ret = 0;

	if (m->be->ops->set_status)
		ret = m->be->ops->set_status(m->be, next, m->drv_features);
	if (ret) {
		fprintf(stderr, "vnetloop: the %s backend refused status 0x%02x: %s\n",
			m->be->ops->name, next, strerror(-ret));
		m->status |= VIRTIO_CONFIG_S_FAILED;
		return;
	}
	m->status |= add;
}

static void vnl_mmio_features_ok(struct vnl_mmio *m)
{
	uint64_t f = m->drv_features;

	if ((f & ~m->offered) || !(f & (1ULL << VIRTIO_F_VERSION_1))) {
		m->status |= VIRTIO_CONFIG_S_FAILED;
		return;
	}
	vnl_mmio_step(m, VIRTIO_CONFIG_S_FEATURES_OK);
}

static void vnl_mmio_driver_ok(struct vnl_mmio *m)
{
	m->status |= VIRTIO_CONFIG_S_DRIVER_OK;
	if (!m->be->ops->start(m->be, m->drv_features, m->q))
		return;
	fprintf(stderr, "vnetloop: the %s backend refused the rings\n",
		m->be->ops->name);
	m->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	m->isr |= VIRTIO_MMIO_INT_CONFIG;
	vnl_backend_raise(m->be, 0, true);
}

/* Status moves one bit at a time, in order; anything else is ignored. */
static void vnl_mmio_status_write(struct vnl_mmio *m, uint32_t v)
{
	uint32_t cur = m->status & ~VIRTIO_CONFIG_S_NEEDS_RESET, add, next;

	if (!v) {
		vnl_mmio_reset(m);
		return;
	}
	v &= ~VIRTIO_CONFIG_S_NEEDS_RESET;
	if ((v & cur) != cur)
		return;			/* clears a bit */
	add = v & ~cur;
	if (!add || (add & (add - 1)))
		return;			/* no bit, or several */
	if (add == VIRTIO_CONFIG_S_FAILED) {
		m->status |= VIRTIO_CONFIG_S_FAILED;
		return;
	}
	if (cur & VIRTIO_CONFIG_S_FAILED)
		return;
	if (!(cur & VIRTIO_CONFIG_S_ACKNOWLEDGE))
		next = VIRTIO_CONFIG_S_ACKNOWLEDGE;
	else if (!(cur & VIRTIO_CONFIG_S_DRIVER))
		next = VIRTIO_CONFIG_S_DRIVER;
	else if (!(cur & VIRTIO_CONFIG_S_FEATURES_OK))
		next = VIRTIO_CONFIG_S_FEATURES_OK;
	else if (!(cur & VIRTIO_CONFIG_S_DRIVER_OK))
		next = VIRTIO_CONFIG_S_DRIVER_OK;
	else
		return;
	if (add != next || !(add & VNL_STATUS_PHASES))
		return;
	if (add == VIRTIO_CONFIG_S_FEATURES_OK)
		vnl_mmio_features_ok(m);
	else if (add == VIRTIO_CONFIG_S_DRIVER_OK)
		vnl_mmio_driver_ok(m);
	else
		vnl_mmio_step(m, add);
}

static bool vnl_mmio_queue_writable(const struct vnl_mmio *m)
{
	return (m->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	       !(m->status & (VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FAILED));
}

static void vnl_set_lo(uint64_t *r, uint32_t v)
{
	*r = (*r & ~0xffffffffULL) | v;
}

static void vnl_set_hi(uint64_t *r, uint32_t v)
{
	*r = (*r & 0xffffffffULL) | (uint64_t)v << 32;
}

static void vnl_mmio_queue_write(struct vnl_mmio *m, uint64_t off, uint32_t v)
{
	struct vnl_queue_cfg *q = vnl_mmio_queue(m);

	if (!q || !vnl_mmio_queue_writable(m))
		return;
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:
		if (v && v <= VNETLOOP_QUEUE_SIZE_MAX && !(v & (v - 1)))
			q->num = v;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (v == 0)
			q->ready = false;
		else if (v == 1 && q->num)
			q->ready = true;
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		vnl_set_lo(&q->desc, v);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		vnl_set_hi(&q->desc, v);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
		vnl_set_lo(&q->avail, v);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		vnl_set_hi(&q->avail, v);
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
		vnl_set_lo(&q->used, v);
		break;
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		vnl_set_hi(&q->used, v);
		break;
	}
}

static void vnl_mmio_reg_write(struct vnl_mmio *m, uint64_t off, uint32_t v)
{
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		m->dev_features_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (!(m->status & VIRTIO_CONFIG_S_DRIVER) ||
		    (m->status & (VIRTIO_CONFIG_S_FEATURES_OK |
				  VIRTIO_CONFIG_S_FAILED)))
			break;
		if (m->drv_features_sel == 0)
			vnl_set_lo(&m->drv_features, v);
		else if (m->drv_features_sel == 1)
			vnl_set_hi(&m->drv_features, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		m->drv_features_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		m->queue_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* Before DRIVER_OK nothing happens; RX kicks are no-ops. */
		if (vnl_mmio_started(m) && v == VNETLOOP_QUEUE_TX)
			m->be->ops->notify(m->be);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		v &= VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG;
		m->isr &= ~v;
		if (v)
			m->be->ops->isr_ack(m->be, v);
		break;
	case VIRTIO_MMIO_STATUS:
		vnl_mmio_status_write(m, v);
		break;
	default:
		vnl_mmio_queue_write(m, off, v);
		break;
	}
}

static bool vnl_mmio_reg_access(uint64_t off, uint32_t len)
{
	return len == 4 && !(off & 3);
}

/* The device's config space, byte-exact at any width; zeros past it. */
static void vnl_mmio_config_read(struct vnl_mmio *m, uint64_t off,
				 uint8_t *d, uint32_t len)
{
	uint32_t size = m->be->config_size, n;
	int ret;

	memset(d, 0, len);
	if (off >= size)
		return;
	n = len < size - off ? len : size - off;
	pthread_mutex_lock(&m->lock);
	ret = m->be->ops->config(m->be, off, d, n);
	pthread_mutex_unlock(&m->lock);
	if (ret)
		memset(d, 0, n);
}

void vnl_mmio_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct vnl_mmio *m = opaque;
	uint32_t v;

	if (off >= VIRTIO_MMIO_CONFIG) {
		vnl_mmio_config_read(m, off - VIRTIO_MMIO_CONFIG, data, len);
		return;
	}
	if (!vnl_mmio_reg_access(off, len)) {
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&m->lock);
	v = vnl_mmio_reg_read(m, off);
	pthread_mutex_unlock(&m->lock);
	memcpy(data, &v, 4);
}

void vnl_mmio_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct vnl_mmio *m = opaque;
	uint32_t v;

	if (off >= VIRTIO_MMIO_CONFIG || !vnl_mmio_reg_access(off, len))
		return;
	memcpy(&v, data, 4);
	pthread_mutex_lock(&m->lock);
	vnl_mmio_reg_write(m, off, v);
	pthread_mutex_unlock(&m->lock);
}
