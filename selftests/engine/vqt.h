/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A userspace stand-in for a guest driver, for the engine unit tests: one
 * guest memory buffer at VQT_GPA_BASE behind a one-entry region table, an
 * access hook that checks and counts every guest access the engine makes, the
 * rings of both queues at fixed addresses, driven by the shared driver
 * (virtq/), and helpers to build TX chains, post RX buffers and read used
 * entries. Counter deltas committed by the engine are summed into plain
 * fields.
 */
#ifndef VQT_H
#define VQT_H

#include "core/vnl_engine.h"
#include "virtq/virtq.h"

#define VQT_GPA_BASE	0x10000ULL
#define VQT_MEM_SIZE	(4u << 20)
#define VQT_GPA_END	(VQT_GPA_BASE + VQT_MEM_SIZE)
/* Guest-physical addresses outside the one region. */
#define VQT_GPA_BELOW	0x1000ULL
#define VQT_GPA_ABOVE	(VQT_GPA_END + 0x10000ULL)

/* Fixed ring addresses, one page per part (virtq_init_pages()'s layout). */
#define VQT_RING_DESC(q)	(VQT_GPA_BASE + (u64)VIRTQ_RING_BYTES * (q))
#define VQT_RING_AVAIL(q)	(VQT_RING_DESC(q) + VIRTQ_PAGE)
#define VQT_RING_USED(q)	(VQT_RING_DESC(q) + 2 * VIRTQ_PAGE)
/* After the rings of the three queues (RX, TX, control). */
#define VQT_DATA_BASE		(VQT_GPA_BASE + 0xa000ULL)
/* vqt_alloc() alignment; the bytes up to it after a buffer stay zero. */
#define VQT_ALIGN		64ULL

#define VQT_TX_HDR_FILL	0x5a	/* TX header bytes: never interpreted */
#define VQT_RX_FILL	0xee	/* RX buffers before delivery */

#define VQT_RX	VNETLOOP_QUEUE_RX
#define VQT_TX	VNETLOOP_QUEUE_TX
#define VQT_CTRL	VNETLOOP_QUEUE_CTRL

struct vqt_ring {
	u64 desc, avail, used;	/* guest-physical */
	u16 next_desc;		/* next free descriptor (wraps at num) */
	/*
	 * The driver's view; a ring part outside the region has no pointer
	 * (the tests do not touch it).
	 */
	struct virtq vq;	/* vq.num 0: not configured */
};

struct vqt {
	u8 *mem;
	struct vnl_region region;
	struct vnl_engine eng;
	u64 c[VNETLOOP_NUM_COUNTERS];		/* sums of committed deltas */
	u64 mark[VNETLOOP_NUM_COUNTERS];	/* c at vqt_mark() */
	unsigned long commits, interrupts;
	unsigned int irq_vqs;			/* queues named by the last one */
	unsigned int poisoned;			/* queues, in the last drain */
	unsigned long reads, writes;		/* guest accesses seen */
	u64 data_next;				/* bump allocator (gpa) */
	struct vqt_ring q[VNETLOOP_ENGINE_QUEUES];
	u8 *snap;				/* vqt_snapshot() copy */
	/* Called after each successful engine write: a racing guest. */
	void (*write_hook)(struct vqt *t, u64 gpa, u32 len);
	/* ops->set_pairs: calls, the last argument, what it returns. */
	unsigned int set_pairs_calls;
	u16 set_pairs_arg;
	int set_pairs_ret;
	/* The engine's clock once vqt_fake_clock() set it up. */
	u64 clock;				/* now, in "ns" */
	u64 clock_per_access;			/* added by each guest access */
	unsigned long clock_reads;		/* reads the engine made */
};

/* A guest-physical range [start, end). */
struct vqt_range {
	u64 start, end;
};

const char *vqt_counter_name(unsigned int id);

/*
 * vqt_drain() result: the InterruptStatus bits the drain set (with exactly
 * one interrupt when there are any), and these.
 */
#define VQT_DRAIN_MORE		0x100	/* budget hit with TX work left */
#define VQT_DRAIN_POISONED_RX	0x200	/* RX queue poisoned in this drain */
#define VQT_DRAIN_POISONED_TX	0x400	/* TX queue poisoned in this drain */
#define VQT_DRAIN_POISONED_CTRL	0x800	/* control queue poisoned */

/* Allocate guest memory and set up the engine; 0 or -errno. */
int vqt_open(struct vqt *t);
void vqt_close(struct vqt *t);
/* Record the ring layout of queue q and hand it to the engine. */
int vqt_config(struct vqt *t, unsigned int q, u16 num);
/* Same, with explicit (possibly unmapped) ring addresses. */
int vqt_config_at(struct vqt *t, unsigned int q, u16 num, u64 desc,
		  u64 avail, u64 used);
/*
 * The usual bring-up: features (VERSION_1 | MAC, plus EVENT_IDX when asked),
 * queues of the given sizes (0 leaves one unconfigured), start.
 */
int vqt_setup(struct vqt *t, u16 rx_num, u16 tx_num, bool event_idx);

/*
 * Ring parts of each queue moved from their fixed addresses (0: not moved),
 * for rings that guest RAM does not back.
 */
struct vqt_moved {
	u64 avail[VNETLOOP_NUM_QUEUES];
	u64 used[VNETLOOP_NUM_QUEUES];
};

/* Features VERSION_1 alone, both queues of 8 with parts as in m, start. */
int vqt_setup_moved(struct vqt *t, const struct vqt_moved *m);

/* Guest memory access for the tests; gpa must be inside the region. */
void *vqt_ptr(struct vqt *t, u64 gpa);
u64 vqt_alloc(struct vqt *t, u32 len);
void vqt_alloc_reset(struct vqt *t);
void vqt_pattern(u8 *p, u32 len, u32 seed);
/* Offset of the first byte that differs from vqt_pattern(), or -1. */
long vqt_pattern_check(const u8 *p, u32 len, u32 seed);
/* Offset of the first byte that is not c, or -1. */
long vqt_fill_check(const u8 *p, u32 len, u8 c);

/* Ring fields, read and written as the guest driver sees them. */
void vqt_desc_set(struct vqt *t, unsigned int q, u16 i, u64 addr, u32 len,
		  u16 flags, u16 next);
void vqt_avail_put(struct vqt *t, unsigned int q, u16 head);
void vqt_avail_set_idx(struct vqt *t, unsigned int q, u16 idx);
void vqt_avail_set_flags(struct vqt *t, unsigned int q, u16 flags);
void vqt_set_used_event(struct vqt *t, unsigned int q, u16 v);
u16 vqt_avail_event(struct vqt *t, unsigned int q);
void vqt_set_avail_event(struct vqt *t, unsigned int q, u16 v);
u16 vqt_used_idx(struct vqt *t, unsigned int q);
u32 vqt_used_id(struct vqt *t, unsigned int q, u16 idx);
u32 vqt_used_len(struct vqt *t, unsigned int q, u16 idx);

/* Write a chain into the next free descriptors and make it available. */
u16 vqt_chain(struct vqt *t, unsigned int q, const struct virtq_buf *s,
	      unsigned int n);
/*
 * A TX frame in one descriptor: a 12-byte header (VQT_TX_HDR_FILL) and len
 * payload bytes of vqt_pattern(seed). *gpa (if not NULL) gets its address.
 */
u16 vqt_tx_frame(struct vqt *t, u32 len, u32 seed, u64 *gpa);
/* One device-writable RX buffer of len bytes filled with VQT_RX_FILL. */
u16 vqt_rx_buf(struct vqt *t, u32 len, u64 *gpa);
/* True when the 12 bytes at gpa are the RX header (num_buffers = 1). */
bool vqt_rx_hdr_ok(struct vqt *t, u64 gpa);

/*
 * The first n bytes of a TX frame of vqt_pattern(seed): the 12-byte header
 * (VQT_TX_HDR_FILL), then the pattern.
 */
void vqt_tx_bytes(u8 *out, u32 n, u32 seed);
/* Offset of the first byte that differs from vqt_tx_bytes() at off, or -1. */
long vqt_tx_bytes_check(const u8 *p, u32 off, u32 len, u32 seed);
/*
 * A TX chain of the n pieces s (flags as given). A piece with gpa 0 is
 * allocated, in reverse order so that the gather order is visible, and
 * holds its part of vqt_tx_bytes(seed); any other keeps its address and is
 * not touched. gpas (if not NULL) gets every piece's address.
 */
u16 vqt_tx_chain(struct vqt *t, const struct virtq_buf *s, unsigned int n,
		 u32 seed, u64 *gpas);
/*
 * A TX chain of n readable descriptors of lens[i] bytes carrying the same
 * bytes as vqt_tx_frame(sum - 12, seed).
 */
u16 vqt_tx_split(struct vqt *t, const u32 *lens, unsigned int n, u32 seed,
		 u64 *gpas);
/*
 * An RX chain of the n pieces s (flags as given): a piece with gpa 0 is
 * allocated and filled with VQT_RX_FILL, any other is left as it is.
 */
u16 vqt_rx_chain(struct vqt *t, const struct virtq_buf *s, unsigned int n,
		 u64 *gpas);
/* An RX chain of n device-writable pieces filled with VQT_RX_FILL. */
u16 vqt_rx_split(struct vqt *t, const u32 *lens, unsigned int n, u64 *gpas);
/* Concatenate guest pieces into out. */
void vqt_gather(struct vqt *t, const u64 *gpas, const u32 *lens,
		unsigned int n, u8 *out);
/*
 * What an RX buffer of buf_len bytes must hold after the delivery of a
 * frame_len-byte frame of vqt_pattern(seed): the header, the frame truncated
 * to the buffer, then the untouched fill.
 */
void vqt_rx_expect(u8 *out, u32 buf_len, u32 frame_len, u32 seed);

/* Copy guest memory, to see later what the engine changed. */
int vqt_snapshot(struct vqt *t);
/* Bytes changed since vqt_snapshot() outside the n ranges given. */
unsigned long vqt_changed_outside(struct vqt *t, const struct vqt_range *r,
				  unsigned int n);
/* The whole used ring of queue q, avail_event included. */
struct vqt_range vqt_used_range(struct vqt *t, unsigned int q);

/*
 * The engine's clock (vnl_test_clock), until vqt_close(), is a fake one:
 * it starts at 1000000, ticks 1 on each read and per_access on each guest
 * access the engine makes, so a drain's drain_ns says which of its
 * accesses fell between its clock reads.
 */
void vqt_fake_clock(struct vqt *t, u64 per_access);

void vqt_mark(struct vqt *t);
/* Counter delta since vqt_mark(). */
u64 vqt_delta(const struct vqt *t, unsigned int id);
unsigned int vqt_drain(struct vqt *t);
/* The same for vnl_ctrl_drain(); VQT_DRAIN_MORE: commands left. */
unsigned int vqt_ctrl_drain(struct vqt *t);
bool vqt_needs_reset(struct vqt *t);

#endif /* VQT_H */
