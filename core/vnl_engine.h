/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The loopback ring engine: one split-virtqueue pair (RX = 0, TX = 1) and the
 * drain that moves every TX frame into the next RX buffer (SPEC 2-4).
 *
 * The engine knows nothing of where it runs. Guest memory is reached only
 * through struct vnl_ops (read/write a guest-physical range, failure
 * reported), and counter deltas leave through ops->commit once per drain.
 * The caller serialises calls on one device; it owns interrupt delivery:
 * when vnl_drain() returns ISR bits, it sets them in InterruptStatus and then
 * raises exactly one interrupt.
 */
#ifndef VNL_ENGINE_H
#define VNL_ENGINE_H

#include "vnl_compat.h"
#include "vnl_virtio.h"
#include "../include/uapi/vnetloop.h"

struct vnl_ops {
	/* Copy len bytes at guest-physical gpa; 0 or a negative errno. */
	int (*read)(void *ctx, u64 gpa, void *dst, u32 len);
	int (*write)(void *ctx, u64 gpa, const void *src, u32 len);
	/* Add one drain's counter deltas (VNETLOOP_C_* ids, spec counters). */
	void (*commit)(void *ctx, const u64 *delta);
};

/* Guest-physical -> host address translation shared by every backend. */
struct vnl_region {
	u64 gpa;
	u64 size;
	u64 hva;
};

/*
 * Find the region holding gpa. On success *hva is its host address and *room
 * the bytes left in that region from gpa; returns 0, or -EFAULT.
 */
int vnl_region_find(const struct vnl_region *r, unsigned int n, u64 gpa,
		    u64 *hva, u64 *room);
/* Validate a table: sizes > 0, no wrap, no overlapping guest ranges. */
int vnl_regions_check(const struct vnl_region *r, unsigned int n);

struct vnl_vq {
	u64 desc;
	u64 avail;
	u64 used;
	u16 num;		/* 0: not configured */
	bool ready;
	bool poisoned;
	bool signalled_valid;	/* signalled_used holds a real value */
	u16 last_avail;		/* next avail slot to pop (free-running) */
	u16 avail_idx;		/* last avail->idx read */
	u16 used_idx;		/* next used slot to fill (free-running) */
	u16 signalled_used;	/* used_idx at the last interrupt decision */
	u32 added;		/* used entries added in this drain */
};

struct vnl_seg {
	u64 addr;
	u32 len;
};

#define VNL_BUDGET_PACKETS	256
#define VNL_BUDGET_BYTES	(512 * 1024)

struct vnl_dev {
	struct vnl_vq vq[VNETLOOP_NUM_QUEUES];
	u64 features;		/* negotiated */
	bool live;		/* DRIVER_OK seen, not reset since */
	u32 budget_packets;
	u32 budget_bytes;
	const struct vnl_ops *ops;
	void *ctx;
	u8 *scratch;		/* VNL_MAX_FRAME_SIZE bytes, caller-owned */
	struct vnl_seg seg[VNETLOOP_QUEUE_SIZE_MAX];
	u64 delta[VNETLOOP_NUM_SPEC_COUNTERS];
};

/* vnl_drain() result bits. The low bits are VNETLOOP_ISR_* to raise. */
#define VNL_DRAIN_ISR_MASK	(VNETLOOP_ISR_VRING | VNETLOOP_ISR_CONFIG)
#define VNL_DRAIN_MORE		0x100	/* budget hit with TX work left */
#define VNL_DRAIN_POISONED_RX	0x200	/* RX queue poisoned in this drain */
#define VNL_DRAIN_POISONED_TX	0x400	/* TX queue poisoned in this drain */

void vnl_dev_init(struct vnl_dev *d, const struct vnl_ops *ops, void *ctx,
		  u8 *scratch);
/* Configure queue q; num a power of two in 1..VNETLOOP_QUEUE_SIZE_MAX. */
int vnl_dev_set_vring(struct vnl_dev *d, unsigned int q, u32 num, u64 desc,
		      u64 avail, u64 used);
/* Only offered bits (VNETLOOP_FEATURES) are accepted: -EINVAL otherwise. */
int vnl_dev_set_features(struct vnl_dev *d, u64 features);
void vnl_dev_start(struct vnl_dev *d);
/* Status = 0: queues, positions, poison and features go; counters stay. */
void vnl_dev_reset(struct vnl_dev *d);
bool vnl_dev_needs_reset(const struct vnl_dev *d);
/* One drain of the TX queue (SPEC 2). */
unsigned int vnl_drain(struct vnl_dev *d);

#endif /* VNL_ENGINE_H */
