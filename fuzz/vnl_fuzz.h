/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the fuzzer's files share: the limits, the state of one input (struct
 * fz: the input, guest memory, the model of the device, one drain as the
 * engine's callbacks saw it) and the functions each file offers the
 * others; the check and trace macros come from fuzz/check.h. main.c says
 * how the files fit together.
 */
#ifndef VNL_FUZZ_H
#define VNL_FUZZ_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vnl_engine.h"
#include "fuzz/check.h"

#define MAX_OPS		64
#define MAX_DRAINS	8
/*
 * One drain may legitimately make ~500k accesses (256 chains of 256
 * descriptors, four loads each). Past CALL_CAP accesses in one input the
 * guest goes away (starve() in guest.c); every run stays cheap enough for
 * the smoke.
 */
#define CALL_CAP	16384
#define NQ		VNETLOOP_NUM_QUEUES
#define RXQ		VNETLOOP_QUEUE_RX
#define TXQ		VNETLOOP_QUEUE_TX
#define NCTR		VNETLOOP_NUM_COUNTERS
#define HDR		VNL_NET_HDR_LEN
#define FRAME_CAP	((u64)HDR + VNL_MAX_FRAME_SIZE)
#define MAXTAB		VNL_MEM_MAX_REGIONS

/*
 * The arena: region 0 ends at R0_END; region 1 (one page) sits right after
 * or right before it when contiguous in host space, else at R1_FAR.
 */
#define MEM_MAX		0x11000
#define R1_SIZE		0x1000
#define ARENA		(4 * MEM_MAX)
#define R0_END		(2 * MEM_MAX)
#define R1_FAR		(ARENA - R1_SIZE)

#define C_(x)		VNETLOOP_C_##x

/* A piece of guest RAM: where it is in guest space and in the arena. */
struct chunk {
	u64 gpa;
	u64 size;
	u64 off;
	bool inst;		/* in the engine's table */
};

/* A region of the installed table after merging, as the model sees it. */
struct mreg {
	u64 gpa;
	u64 size;
	u64 off;
};

/* The model's queue. */
struct mq {
	u32 num;		/* 0: not configured */
	u64 desc, avail, used;
	bool ready;
	bool poisoned;
	bool synced;		/* seen is known */
	u16 pos;		/* chains popped (free-running) */
	u16 seen;		/* avail->idx as the device last read it */
	u16 used_idx;		/* used entries made (free-running) */
	bool sig_valid;		/* sig_used holds a decision */
	u16 sig_used;		/* used_idx at the last interrupt decision */
};

/* One input's run. */
struct fz {
	const u8 *in;
	size_t len, pos;

	struct vnl_engine *e;
	bool poison_cb;		/* ops->poisoned is set */

	/* guest memory */
	struct chunk ch[2];
	unsigned int nch;
	struct vnl_region tab[MAXTAB];
	unsigned int ntab;
	struct mreg mr[MAXTAB];
	unsigned int nmr;
	u64 buf_lo, buf_len;	/* region 0 past the default ring layout */
	u8 tab_shape;
	bool bad_check;
	u8 bad_sel;
	u16 bad_off;

	/* the model */
	struct mq q[NQ];
	u64 features;
	bool live;
	u32 isr, status;
	u32 budget_p, budget_b;
	bool lost;		/* which queue got poisoned is unknown */
	u64 ctr[NCTR];

	/* one drain, as the callbacks and the access hook see it */
	bool in_drain;
	unsigned int commits, irqs, pois_mask;
	u64 delta[NCTR];
	u32 isr_at_irq, status_at_irq;
	u64 calls, bytes, work;
	/*
	 * The drain's clock (vnl_test_clock): one tick per read of it and
	 * per guest access, so a drain's drain_ns is 1 + its accesses.
	 */
	u64 clock, clock_reads, ticks;
	bool starved;
	u64 ae_gpa;		/* TX avail_event, if its used ring is backed */
	bool ae_valid;
	bool ae_touched;	/* the racer or the starver wrote it */

	/* the racing guest */
	u32 race_period, race_tick;
	u64 race_gpa;
	u8 race_xor;

	unsigned int drains;
};

/* One drain as the harness saw it, for the checks and the model. */
struct drain {
	struct mq pre[NQ];	/* the model's queues before it */
	u64 d[NCTR];		/* the counter deltas it committed */
	bool ran;		/* live, TX ready and not poisoned */
	bool more;		/* vnl_drain() asked to be called again */
	u32 isr0, isr;		/* InterruptStatus before and after it */
	unsigned int newly;	/* queues it poisoned */
	u16 ae_before;		/* TX avail_event before it */
	/* From the counters (check_accounting()): */
	u32 popped, rx_popped;	/* chains popped from TX and RX */
	u32 added[NQ];		/* used entries made */
};

/* VNL_FUZZ_STATS=1: how often each check ran, printed at exit. */
struct stats {
	u64 drains, live, followed, stopped, racing, lost;
	u64 ae_event, ae_still, tainted, set_mem;
};

/* main.c: the run's switches and statistics */
extern struct fz *cur;		/* the access hook has no context pointer */
extern bool trace;		/* VNL_FUZZ_TRACE=1 */
extern bool no_model;		/* VNL_FUZZ_NO_MODEL=1: skip the replay */
extern struct stats st;

/* The arenas, allocated by LLVMFuzzerInitialize(): */
extern u8 *arena;		/* guest RAM as the engine sees it (memory.c) */
extern u8 *sarena;		/* the model's copy, same offsets (model.c) */
extern u8 *tarena;		/* 1: the model does not know this byte */

static inline u64 min64(u64 a, u64 b)
{
	return a < b ? a : b;
}

static inline bool has_evidx(const struct fz *f)
{
	return f->features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
}

/* Ring sizes: descriptors; avail with used_event; used with avail_event. */
static inline u64 desc_size(u32 num)
{
	return (u64)num * sizeof(struct vring_desc);
}

static inline u64 avail_size(u32 num)
{
	return offsetof(struct vring_avail, ring[num]) + 2;
}

static inline u64 used_size(u32 num)
{
	return offsetof(struct vring_used, ring[num]) + 2;
}

/* input.c: the input decoder */
u8 get8(struct fz *f);
u16 get16(struct fz *f);
u32 get32(struct fz *f);
u64 get64(struct fz *f);
u64 unmapped_gpa(struct fz *f, u16 off);
u64 pick_addr(struct fz *f, unsigned int cls, u16 off);
u32 pick_len(struct fz *f, unsigned int cls, u16 off);
void build_memory(struct fz *f);
void run(struct fz *f);

/* memory.c: guest memory and the region table */
bool g_find(const struct fz *f, u64 gpa, u64 *off, u64 *room);
u8 *g_byte(const struct fz *f, u64 gpa);
bool backed(const struct fz *f, u64 gpa, u64 len);
bool desc_ok(const struct fz *f, const struct mq *q);
bool avail_ok(const struct fz *f, const struct mq *q);
bool used_ok(const struct fz *f, const struct mq *q);
void g_write(struct fz *f, u64 gpa, const void *src, u32 len);
bool g_read(const struct fz *f, u64 gpa, void *dst, u32 len);
void g_w16(struct fz *f, u64 gpa, u16 v);
bool g_r16(const struct fz *f, u64 gpa, u16 *v);
bool overlaps(u64 a, u64 alen, u64 b, u64 blen);
void build_table(struct fz *f, u8 shape);
void install_table(struct fz *f);
bool host_gpa(const struct fz *f, const void *p, size_t len, u64 *gpa);

/* guest.c: the driver side */
void guest_post(struct fz *f, unsigned int q);
void guest_avail_idx(struct fz *f);
void guest_poke(struct fz *f);
void guest_notify(struct fz *f);
void guest_zero_rings(struct fz *f);
void guest_race(struct fz *f);
void race_step(struct fz *f);
void starve(struct fz *f, u64 gpa, size_t len);

/* control.c: the device calls other than the drain */
void mq_init(struct mq *q);
void do_reset(struct fz *f);
void do_start(struct fz *f);
void do_set_features(struct fz *f, u8 sel, u8 bad);
void setup_vrings(struct fz *f, u8 which);
void set_budget(struct fz *f, u8 sel);
void check_bad_tables(struct fz *f, u8 sel, u16 off);
void op_set_mem(struct fz *f);

/* drain.c: one drain */
extern const char *const ctr_names[NCTR];
extern const struct vnl_engine_ops fz_ops, fz_ops_nopoison;
void fz_access(void *p, size_t len, bool write);
u64 fz_clock(void);
void do_drain(struct fz *f);

/* model.c: the independent model of the drain */
void model_snapshot(struct fz *f);
bool model_drain(struct fz *f, const struct drain *dr);

/* invariants.c: what holds whatever the guest did */
void check_visible(struct fz *f);
unsigned int check_signals(struct fz *f, const struct drain *dr);
void check_accounting(struct fz *f, struct drain *dr);
void check_avail_event(struct fz *f, const struct drain *dr);

#endif
