/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The traffic scenario on a multiqueue device (mq.c): what it needs of the
 * scenarios' setup (scenario.c).
 */
#ifndef VNL_GUEST_MQ_H
#define VNL_GUEST_MQ_H

#include "virtio.h"

struct mq_ctx {
	struct vdev *dev;	/* started, dev->pairs > 1 */
	u8 *rx_bufs, *tx_bufs;	/* QSIZE buffers each, stride apart */
	u32 stride, frame_size;
	u32 batch;		/* frames a pair sends per round, 1..QSIZE */
};

/*
 * VQ_PAIRS_SET out of range (ERR), then to every pair (OK), then
 * params->frames frames spread over the pairs' TX queues, up to a batch
 * per pair and round, each checked on its own pair's RX queue;
 * result.expect[] kept. False on a failure.
 */
bool mq_traffic(const struct mq_ctx *c);

/* scenario.c: a frame's pattern, and a frame filled with it. */
u8 scenario_pattern(u32 frame, u32 j);
void scenario_fill(u8 *p, u32 frame, u32 len);

#endif /* VNL_GUEST_MQ_H */
