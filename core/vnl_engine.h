/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The loopback ring engine: one split-virtqueue pair (RX = 0, TX = 1) and the
 * drain that moves every TX frame into the next RX buffer; optionally the
 * device's control queue (VNETLOOP_QUEUE_CTRL = 2) and its drain.
 *
 * The engine knows nothing of where it runs. Guest memory is reached through
 * the memory model (core/vnl_mem.h): rings are translated once per
 * configuration and then read and written directly. The engine keeps the
 * device's interrupt status and NEEDS_RESET, counts every counter but the
 * kicks, and calls back into its home through struct vnl_engine_ops.
 * The caller serialises calls on one engine, except the vnl_engine_isr*()
 * and vnl_engine_status() accessors, which may run at any time.
 */
#ifndef VNL_ENGINE_H
#define VNL_ENGINE_H

#include <linux/virtio_mmio.h>

#include "vnl_compat.h"
#include "vnl_mem.h"
#include "../include/uapi/vnetloop.h"
#include "../include/vnetloop/frame.h"

struct vnl_engine_ops {
	/* One drain's counter deltas, by VNETLOOP_C_* id (all counters). */
	void (*commit)(void *ctx, const u64 *delta);
	/*
	 * Raise the device interrupt (InterruptStatus is already set to
	 * include isr): a home with one line raises it once; one with an
	 * interrupt per queue raises those of the queues in the bit mask vqs
	 * (bit q: queue q's driver asked to hear of its used buffers), and
	 * its configuration interrupt for VIRTIO_MMIO_INT_CONFIG.
	 */
	void (*interrupt)(void *ctx, u32 isr, unsigned int vqs);
	/* Queue q was poisoned (optional; after the interrupt). */
	void (*poisoned)(void *ctx, unsigned int q);
	/*
	 * The driver asked for pairs active queue pairs, 1 <= pairs <= the
	 * maximum (VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET; optional: without it the
	 * command acks VIRTIO_NET_ERR). 0: done, acked OK; else acked ERR.
	 */
	int (*set_pairs)(void *ctx, u16 pairs);
};

struct vnl_vq {
	u64 desc;		/* guest-physical ring addresses */
	u64 avail;
	u64 used;
	/*
	 * Their host addresses; NULL: not inside one region of the table.
	 * The avail ring ends in used_event, the used ring in avail_event.
	 */
	struct vring_desc __user *desc_p;
	struct vring_avail __user *avail_p;
	struct vring_used __user *used_p;
	__virtio16 __user *avail_event_p;
	u16 num;		/* 0: not configured */
	bool ready;
	bool poisoned;
	bool signalled_valid;	/* signalled_used holds a real value */
	u16 last_avail;		/* next avail slot to pop (free-running) */
	u16 avail_idx;		/* last avail->idx read */
	u16 used_idx;		/* next used slot to fill (free-running) */
	u16 published;		/* used->idx as last written */
	u16 signalled_used;	/* used_idx at the last interrupt decision */
	u32 added;		/* used entries added in this drain */
	u32 pend_packets;	/* counted once used->idx publishes them */
	u64 pend_bytes;
};

struct vnl_seg {
	u64 addr;
	u32 len;
};

/*
 * A walked chain: its descriptors and their total length; on the control
 * queue, the first nread are device-readable, the rest writable.
 */
struct vnl_chain {
	u32 nseg;
	u32 nread;
	u64 total;
	struct vnl_seg seg[VNETLOOP_QUEUE_SIZE_MAX];
};

#define VNL_BUDGET_PACKETS	256
#define VNL_BUDGET_BYTES	(512 * 1024)
/*
 * Descriptors walked per drain, whatever the budget: with chains of up to
 * VNETLOOP_QUEUE_SIZE_MAX descriptors a packet budget alone would let one
 * drain walk 65536 * 512 of them. Checked before each chain, like the
 * budget, so a drain walks at most this plus one TX and one RX chain.
 */
#define VNL_DRAIN_DESCS_MAX	4096

struct vnl_engine {
	struct vnl_vq vq[VNETLOOP_ENGINE_QUEUES];	/* RX, TX, control */
	struct vnl_mem mem;
	u64 features;		/* negotiated */
	u16 max_pairs;		/* 0: no control queue */
	bool live;		/* DRIVER_OK seen, not reset since */
	vnl_atomic_t isr;	/* VIRTIO_MMIO_INT_* */
	vnl_atomic_t status;	/* VIRTIO_CONFIG_S_NEEDS_RESET */
	u32 budget_packets;
	u32 budget_bytes;
	u32 descs;		/* walked in this drain */
	const struct vnl_engine_ops *ops;
	void *ctx;
	struct vnl_chain tx, rx;
	u64 delta[VNETLOOP_NUM_COUNTERS];
};

/*
 * bounce: VNL_BOUNCE_SIZE bytes in the kernel (long frames are copied
 * through it); unused in userspace, may be NULL.
 */
void vnl_engine_init(struct vnl_engine *e, const struct vnl_engine_ops *ops,
		     void *ctx, u8 *bounce);
/* The region table; rings are translated again. See vnl_mem_set(). */
int vnl_engine_set_mem(struct vnl_engine *e, const struct vnl_region *r,
		       unsigned int n);
/* Configure queue q; num a power of two in 1..VNETLOOP_QUEUE_SIZE_MAX. */
int vnl_engine_set_vring(struct vnl_engine *e, unsigned int q, u32 num,
			 u64 desc, u64 avail, u64 used);
/*
 * Where queue q (configured) starts: the next avail slot to pop and the
 * next used slot to fill are both base (vhost's SET_VRING_BASE; 0 after
 * set_vring). The engine's position is vnl_engine_base().
 */
void vnl_engine_set_base(struct vnl_engine *e, unsigned int q, u16 base);

static inline u16 vnl_engine_base(const struct vnl_engine *e, unsigned int q)
{
	return e->vq[q].last_avail;
}

/*
 * The device's maximum queue pairs, for VQ_PAIRS_SET; max >= 1 enables the
 * control queue (set_vring of VNETLOOP_QUEUE_CTRL) and the features in
 * VNETLOOP_FEATURES_MQ; 0 (the default) disables them. Set before the
 * features; a reset keeps it, as it keeps the region table.
 */
void vnl_engine_set_max_pairs(struct vnl_engine *e, u16 max);
/*
 * Only offered bits (VNETLOOP_FEATURES, and VNETLOOP_FEATURES_MQ once the
 * maximum pairs are set; MQ only with CTRL_VQ) are accepted: -EINVAL
 * otherwise.
 */
int vnl_engine_set_features(struct vnl_engine *e, u64 features);
/* DRIVER_OK. */
void vnl_engine_start(struct vnl_engine *e);
/*
 * Status = 0: queues, positions, poison, ISR and features go; the region
 * table and the counters stay.
 */
void vnl_engine_reset(struct vnl_engine *e);
void vnl_engine_set_budget(struct vnl_engine *e, u32 packets, u32 bytes);

static inline bool vnl_engine_live(const struct vnl_engine *e)
{
	return e->live;
}

static inline bool vnl_engine_queue_ready(const struct vnl_engine *e,
					  unsigned int q)
{
	return q < VNETLOOP_ENGINE_QUEUES && e->vq[q].ready;
}

/* Status bits the device adds: VIRTIO_CONFIG_S_NEEDS_RESET. */
static inline u32 vnl_engine_status(struct vnl_engine *e)
{
	return vnl_atomic_read(&e->status);
}

static inline u64 vnl_engine_features(const struct vnl_engine *e)
{
	return e->features;
}

static inline unsigned int vnl_engine_nregions(const struct vnl_engine *e)
{
	return e->mem.n;
}

/* A snapshot of one queue, for people (debugfs); racy while draining. */
struct vnl_queue_state {
	u64 desc, avail, used;
	u16 num, last_avail, used_idx;
	bool ready, poisoned;
};

void vnl_engine_queue_state(const struct vnl_engine *e, unsigned int q,
			    struct vnl_queue_state *s);

/* InterruptStatus: read, and the driver's acknowledgement. */
static inline u32 vnl_engine_isr(struct vnl_engine *e)
{
	return vnl_atomic_read(&e->isr);
}

static inline void vnl_engine_isr_ack(struct vnl_engine *e, u32 bits)
{
	vnl_atomic_andnot(bits, &e->isr);
}

/*
 * One drain of the TX queue, then its consequences: ISR bits set,
 * at most one ops->interrupt, NEEDS_RESET, counter deltas committed.
 * Returns true when the budget ran out with TX work left: call again.
 * A drain of a live engine counts one worker_runs and its time in
 * drain_ns: vnl_now_ns() read on entry and once more just before the
 * commit (so the commit and the interrupt are not in it).
 *
 * If the home stops the drain (vnl_stop_pending(): the module's worker got
 * SIGKILL from its stop path), the drain ends at once and leaves no trace:
 * nothing published, counted, signalled or poisoned that the guest could
 * see, and each queue's position (vnl_engine_base()) goes back to where
 * the drain began, so the chains it took are still the driver's when the
 * device resumes from there (vhost's ring base). Other state may be stale:
 * the home must reset the engine before it drains again (every stop path
 * of the module does). A stop that strikes the used->idx store itself
 * cannot be undone for that queue: its chains stay taken.
 */
bool vnl_drain(struct vnl_engine *e);

/*
 * One drain of the control queue (core/vnl_ctrl.c; SPEC 4a): every pending
 * command is carried out and acked, then the same consequences as
 * vnl_drain() (ISR, at most one ops->interrupt with bit VNETLOOP_QUEUE_CTRL,
 * NEEDS_RESET, counters committed; no worker_runs nor drain_ns: the home's
 * run counts once). Does nothing unless the engine is live, the control
 * queue ready and VIRTIO_NET_F_CTRL_VQ negotiated. Returns true when it
 * stopped at VNL_DRAIN_DESCS_MAX with commands left: call again. A stop
 * (vnl_stop_pending()) takes the queue's position back as vnl_drain()
 * does; a set_pairs already made is not undone.
 */
bool vnl_ctrl_drain(struct vnl_engine *e);

#endif /* VNL_ENGINE_H */
