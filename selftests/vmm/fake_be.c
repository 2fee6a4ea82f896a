// SPDX-License-Identifier: GPL-2.0
/* The recording fake backend of the transport tests. */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>

#include "selftests/vmm/fake_be.h"

static int fake_set_status(struct vnl_backend *b, uint32_t status,
			   uint64_t features)
{
	struct fake_be *f = (struct fake_be *)b;

	if (f->steps < 4)
		f->step_status[f->steps] = status;
	f->steps++;
	if (status & VIRTIO_CONFIG_S_FEATURES_OK)
		f->step_features = features;
	return f->step_ret;
}

static int fake_start(struct vnl_backend *b, uint64_t features,
		      const struct vnl_queue_cfg *q)
{
	struct fake_be *f = (struct fake_be *)b;

	f->starts++;
	f->features = features;
	memcpy(f->q, q, sizeof(f->q));
	return f->start_ret;
}

static void fake_reset(struct vnl_backend *b)
{
	struct fake_be *f = (struct fake_be *)b;

	f->resets++;
	f->isr = f->status = 0;
}

static uint32_t fake_isr_read(struct vnl_backend *b)
{
	struct fake_be *f = (struct fake_be *)b;

	f->isr_reads++;
	return f->isr;
}

static void fake_isr_ack(struct vnl_backend *b, uint32_t bits)
{
	struct fake_be *f = (struct fake_be *)b;

	f->acks++;
	f->acked = bits;
	f->isr &= ~bits;
}

static uint32_t fake_status(struct vnl_backend *b)
{
	return ((struct fake_be *)b)->status;
}

static int fake_config(struct vnl_backend *b, uint32_t off, void *buf,
		       uint32_t len)
{
	struct fake_be *f = (struct fake_be *)b;

	/* The transport stays inside config_size. */
	if (off + len > f->be.config_size)
		return -EINVAL;
	memcpy(buf, f->config + off, len);
	return f->config_ret;
}

static void fake_notify(struct vnl_backend *b, unsigned int q)
{
	struct fake_be *f = (struct fake_be *)b;

	f->notifies++;
	f->notified |= 1ULL << q;
}

static int fake_counters(struct vnl_backend *b, uint64_t *c, unsigned int *n)
{
	(void)b;
	memset(c, 0, VNETLOOP_NUM_COUNTERS * sizeof(*c));
	*n = VNETLOOP_NUM_SPEC_COUNTERS;
	return 0;
}

static void fake_destroy(struct vnl_backend *b)
{
	(void)b;
}

const struct vnl_backend_ops fake_ops = {
	.name = "fake", .set_status = fake_set_status, .start = fake_start,
	.reset = fake_reset, .isr_read = fake_isr_read,
	.isr_ack = fake_isr_ack, .status = fake_status,
	.config = fake_config, .notify = fake_notify,
	.counters = fake_counters, .destroy = fake_destroy,
};


void fake_be_init(struct fake_be *f, const uint8_t mac[6])
{
	memset(f, 0, sizeof(*f));
	f->be.ops = &fake_ops;
	for (unsigned int q = 0; q < VNL_MAX_QUEUES; q++)
		f->be.kick_fd[q] = -1;
	f->be.max_pairs = 1;
	f->be.dev_id = -1;
	f->be.features = VNETLOOP_FEATURES;
	/* The MAC and the link status word, zero. */
	f->be.config_size = 8;
	memcpy(f->config, mac, 6);
}

int fake_be_one_line(struct fake_be *f)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	f->be.config_fd = fd;
	for (unsigned int q = 0; q < vnl_backend_nqueues(&f->be); q++)
		f->be.call_fd[q] = fd;
	return 0;
}

void fake_be_pairs(struct fake_be *f, unsigned int pairs)
{
	f->be.max_pairs = pairs;
	f->be.features |= VNETLOOP_FEATURES_MQ;
	f->be.config_size = 10;
	f->config[8] = pairs;
	f->config[9] = pairs >> 8;
}
