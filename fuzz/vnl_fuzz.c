// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the ring engine (core/vnl_engine.c, core/vnl_mem.c).
 *
 * The input is a small program. A header picks the guest memory (one or two
 * regions, possibly at the top of the 64-bit space, merged or not), the queue
 * geometry and the features; then come guest actions (post TX/RX chains, move
 * avail->idx, poke ring bytes, race the device from inside its memory
 * accesses, acknowledge interrupts) and device calls (drain, reset,
 * set_vring, set_features, start, budget, a new region table).
 *
 * Guest memory. All guest RAM lives in one arena at fixed offsets, so which
 * regions are contiguous in host space is decided by the input: region 1 may
 * follow region 0 in both spaces (the engine merges them), in guest space
 * only, in host space only, or neither. The table given to the engine may
 * also cut a region in two or list it out of order. Arena bytes outside the
 * installed table are ASan-poisoned.
 *
 * Seeing the engine. The engine reaches guest memory directly; this build
 * compiles it with -DVNL_ENGINE_TEST_HOOKS, so vnl_test_access() runs before
 * every read and after every write it makes. The hook checks that the access
 * lies inside one installed region (after merging), counts it, and plays the
 * two guests that act during a drain:
 * - a racing guest (OP_RACE): every race_period-th access flips a byte near
 *   a ring, so the engine sees memory change between two of its own reads;
 * - a guest that goes away: past CALL_CAP accesses in one input, each read
 *   of a descriptor table first turns that descriptor into an INDIRECT one,
 *   and each read of an avail->idx first moves it 0x8000 ahead, so the
 *   engine soon stops (every run stays cheap). That drain counts as a racing
 *   one and the input gets no further drain.
 *
 * The model. The harness keeps its own state of the device (features, queue
 * layout, positions, poison, interrupt status, counters) and, for a drain in
 * which memory held still (no racing guest, not starved), replays the drain
 * from the contract on a snapshot of guest memory taken before it (s_*()
 * below), then compares: return value, every counter delta, the interrupt,
 * InterruptStatus, NEEDS_RESET, the poisoned callbacks and every byte of
 * guest memory. Its rules, from SPEC 2-4, Documentation/engine.rst and
 * core/vnl_mem.h:
 * - a ring (descriptor table num * 16 bytes, avail 6 + 2 * num with
 *   used_event, used 6 + 8 * num with avail_event) is backed only if it lies
 *   inside one region after merging (neighbours contiguous in both spaces).
 *   Descriptor table unbacked: every chain of that queue is invalid. Avail
 *   unbacked: the queue is poisoned when the device first needs an entry.
 *   Used unbacked: every used entry fails (*_add_used_failures);
 * - rings are aligned as virtio 1.2, 2.7 requires (descriptor table 16,
 *   avail 2, used 4), else set_vring refuses the layout;
 * - a frame buffer may run across regions adjacent in guest space;
 * - TX: walk (bounded by num), then oversize, then every byte of every
 *   non-empty descriptor backed, header included; decided before any RX
 *   chain is popped; zero-length descriptors are never accessed;
 * - RX: the chain is walked in full first (rx_chain_invalid, returned with
 *   length 0); then header (zero but num_buffers = 1) and frame bytes are
 *   written in chain order; at the first unbacked byte: rx_write_failed, the
 *   header written again with zeros as far as it is backed, length 0;
 * - used entries go to slot used_idx & (num - 1) as they are made (RX entry
 *   before TX entry); used->idx is written once per queue at the end of the
 *   drain (RX, then TX), and packets and bytes count then;
 * - the device reads avail->idx only when it has used up the entries it knew
 *   of, as vhost does; a pop from an avail ring that is not backed poisons;
 * - interrupt: one decision per drain after the publishes, per queue that
 *   advanced: EVENT_IDX honours used_event (the first decision after
 *   set_vring or reset always fires), else VRING_AVAIL_F_NO_INTERRUPT; a hint
 *   that cannot be read fires;
 * - EVENT_IDX: when the TX ring is found empty, avail_event := the TX
 *   position, then avail->idx is read once more.
 * Where the result depends on the engine's copy granularity (a frame copied
 * onto itself, two used->idx fields on the same bytes) the model marks the
 * bytes unknown (taint) rather than guessing; reading an unknown ring field
 * ends the replay. After a drain the model cannot follow (racing guest,
 * starved, replay ended), it derives its positions from the counters
 * (every popped chain is counted exactly once, see check_accounting()) and
 * forgets what it cannot know until the queue is set up again.
 *
 * Checks that hold whatever the guest did, after every drain: the counter
 * identities of SPEC 2, work bounded by the budget and the queue sizes,
 * poisoning once per transition with CONFIG and NEEDS_RESET, the callback
 * order (commit, interrupt, poisoned), no access outside a drain or outside
 * the table, the engine's accessors and queue snapshot against the model,
 * and avail_event: with EVENT_IDX, after a drain that ran, did not stop on
 * the budget and left TX unpoisoned with its used ring backed, it holds the
 * number of TX chains popped so far; without EVENT_IDX it is never written
 * (both unless the racing guest or the harness wrote it). Device calls
 * have their own: refused layouts, features and region tables change
 * nothing, a reset keeps the counters.
 *
 * Any failed check prints what failed and traps, so libFuzzer keeps the
 * input. VNL_FUZZ_TRACE=1 narrates a replayed input; VNL_FUZZ_NO_MODEL=1
 * turns the replay off (to see what the other checks catch alone);
 * VNL_FUZZ_STATS=1 prints at exit how often each kind of check ran.
 *
 * Input format: as in the previous harness (fuzz/corpus and fuzz/repro
 * replay the same scenarios), except: memory kind 3 reads one more byte,
 * op 13 was a second drain and is now OP_SET_MEM, bit 3 of the start byte
 * drops ops->poisoned, bit 2 of OP_NOTIFY acknowledges interrupts, a bit of
 * a picked ring address may align it, and bad tables have more kinds.
 * None of the seeds uses any of these.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sanitizer/asan_interface.h>

#include "core/vnl_engine.h"

#define CHECK(c)							\
	do {								\
		if (!(c)) {						\
			fprintf(stderr, "vnl_fuzz: invariant failed: %s "\
				"(%s:%d)\n", #c, __FILE__, __LINE__);	\
			__builtin_trap();				\
		}							\
	} while (0)

#define MAX_OPS		64
#define MAX_DRAINS	8
/*
 * One drain may legitimately make ~500k accesses (256 chains of 256
 * descriptors, four loads each). Past CALL_CAP accesses in one input the
 * guest goes away (see the top comment); every run stays cheap enough for
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

enum {
	OP_DRAIN, OP_TX_POST, OP_RX_POST, OP_AVAIL_IDX, OP_POKE, OP_NOTIFY,
	OP_RESET, OP_SETUP, OP_SET_VRING, OP_SET_FEATURES, OP_START,
	OP_BUDGET, OP_RACE, OP_SET_MEM, OP_TX_POST2, OP_RX_POST2, NUM_OPS
};

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

struct seg {
	u64 addr;
	u32 len;
};

struct chain {
	u32 n;
	u64 total;
	struct seg seg[VNETLOOP_QUEUE_SIZE_MAX];
};

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

/* The replay of one drain (sim_drain()). */
struct sim {
	struct fz *f;
	struct mq q[NQ];
	u64 d[NCTR];
	bool more;
	const char *stop;	/* why the model could not follow, or NULL */
	unsigned int newly;	/* queues poisoned in this drain */
	u32 raise;		/* InterruptStatus bits raised */
	u32 added[NQ];
	u64 pend_p[NQ], pend_b[NQ];
	u32 descs;		/* descriptors walked in this drain */
	struct chain tx, rx;
};

static u8 *arena;	/* guest RAM as the engine sees it */
static u8 *sarena;	/* the model's copy, same offsets */
static u8 *tarena;	/* 1: the model does not know this byte */
static bool taint_any, taint_dirty;
static struct sim sim;
static struct fz *cur;	/* the hook has no context pointer */
static bool trace;	/* VNL_FUZZ_TRACE=1: narrate a replayed input */
static bool no_model;	/* VNL_FUZZ_NO_MODEL=1: skip the replay */

/* VNL_FUZZ_STATS=1: how often each check ran, printed at exit */
static struct {
	u64 drains, live, followed, stopped, racing, lost;
	u64 ae_event, ae_still, tainted, set_mem;
} st;

#define TRACE(...)							\
	do {								\
		if (trace)						\
			fprintf(stderr, __VA_ARGS__);			\
	} while (0)

static const char *const ctr_names[] = VNETLOOP_COUNTER_NAMES;

static u64 min64(u64 a, u64 b)
{
	return a < b ? a : b;
}

static bool has_evidx(const struct fz *f)
{
	return f->features & (1ULL << VNETLOOP_F_EVENT_IDX);
}

/* ---- input reader: zeros once the input is used up ---- */

static u8 get8(struct fz *f)
{
	return f->pos < f->len ? f->in[f->pos++] : 0;
}

/* Little-endian; each byte read in its own statement, in order. */
static u16 get16(struct fz *f)
{
	u16 lo = get8(f);

	return lo | (u16)get8(f) << 8;
}

static u32 get32(struct fz *f)
{
	u32 lo = get16(f);

	return lo | (u32)get16(f) << 16;
}

static u64 get64(struct fz *f)
{
	u64 lo = get32(f);

	return lo | (u64)get32(f) << 32;
}

/* ---- guest memory as the guest sees it (independent of the engine) ---- */

static u64 desc_size(u32 num)
{
	return (u64)num * VNL_DESC_SIZE;
}

static u64 avail_size(u32 num)
{
	return VNL_AVAIL_USED_EVENT(num) + 2;
}

static u64 used_size(u32 num)
{
	return VNL_USED_AVAIL_EVENT(num) + 2;
}

/* The arena offset of gpa and the bytes left in its (merged) region. */
static bool g_find(const struct fz *f, u64 gpa, u64 *off, u64 *room)
{
	unsigned int i;

	for (i = 0; i < f->nmr; i++) {
		const struct mreg *r = &f->mr[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size) {
			*off = r->off + (gpa - r->gpa);
			*room = r->size - (gpa - r->gpa);
			return true;
		}
	}
	return false;
}

static u8 *g_byte(const struct fz *f, u64 gpa)
{
	u64 off, room;

	return g_find(f, gpa, &off, &room) ? arena + off : NULL;
}

/* [gpa, gpa + len) inside one region: the rule for rings. */
static bool in_one(const struct fz *f, u64 gpa, u64 len)
{
	u64 off, room;

	return len && g_find(f, gpa, &off, &room) && room >= len;
}

/* Every byte of [gpa, gpa + len) backed: the rule for buffers. */
static bool backed(const struct fz *f, u64 gpa, u64 len)
{
	u64 off, room;

	while (len) {
		if (!g_find(f, gpa, &off, &room))
			return false;
		if (room >= len)
			return true;
		gpa += room;
		len -= room;
	}
	return true;
}

static bool desc_ok(const struct fz *f, const struct mq *q)
{
	return q->num && in_one(f, q->desc, desc_size(q->num));
}

static bool avail_ok(const struct fz *f, const struct mq *q)
{
	return q->num && in_one(f, q->avail, avail_size(q->num));
}

static bool used_ok(const struct fz *f, const struct mq *q)
{
	return q->num && in_one(f, q->used, used_size(q->num));
}

/* Guest stores to unbacked addresses go nowhere, as on real hardware. */
static void g_write(struct fz *f, u64 gpa, const void *src, u32 len)
{
	const u8 *s = src;
	u64 off, room;

	if (len && gpa + len - 1 < gpa)
		len = (u32)(0 - gpa);	/* stores stop at the top of memory */
	while (len) {
		if (g_find(f, gpa, &off, &room)) {
			room = min64(room, len);
			memcpy(arena + off, s, room);
		} else {
			room = 1;
		}
		s += room;
		gpa += room;
		len -= room;
	}
}

/* A guest load; false if any byte is unbacked (or the range wraps). */
static bool g_read(const struct fz *f, u64 gpa, void *dst, u32 len)
{
	u8 *o = dst;
	u64 off, room;

	if (len && gpa + len - 1 < gpa)
		return false;
	while (len) {
		if (!g_find(f, gpa, &off, &room))
			return false;
		if (room > len)
			room = len;
		memcpy(o, arena + off, room);
		o += room;
		gpa += room;
		len -= room;
	}
	return true;
}

static void g_w16(struct fz *f, u64 gpa, u16 v)
{
	u16 le = cpu_to_le16(v);

	g_write(f, gpa, &le, 2);
}

static bool g_r16(const struct fz *f, u64 gpa, u16 *v)
{
	u16 le;

	if (!g_read(f, gpa, &le, 2))
		return false;
	*v = le16_to_cpu(le);
	return true;
}

static bool overlaps(u64 a, u64 alen, u64 b, u64 blen)
{
	u64 aend = a + alen - 1, bend = b + blen - 1;

	if (!alen || !blen)
		return false;
	if (aend < a)
		aend = UINT64_MAX;
	if (bend < b)
		bend = UINT64_MAX;
	return a <= bend && b <= aend;
}

/* ---- the region table ---- */

/* The model's reading of a table: sort by gpa, merge true neighbours. */
static void model_merge(struct fz *f)
{
	struct vnl_region t[MAXTAB], x;
	unsigned int i, j, k = 0;

	for (i = 0; i < f->ntab; i++) {
		x = f->tab[i];
		for (j = i; j > 0 && t[j - 1].gpa > x.gpa; j--)
			t[j] = t[j - 1];
		t[j] = x;
	}
	for (i = 0; i < f->ntab; i++) {
		struct mreg *p = k ? &f->mr[k - 1] : NULL;
		u64 off = t[i].hva - (u64)(uintptr_t)arena;

		if (p && p->gpa + p->size == t[i].gpa &&
		    p->off + p->size == off) {
			p->size += t[i].size;
			continue;
		}
		f->mr[k].gpa = t[i].gpa;
		f->mr[k].size = t[i].size;
		f->mr[k].off = off;
		k++;
	}
	f->nmr = k;
}

/*
 * The table for the installed chunks. shape: bit 0 cuts the first one in
 * two at an offset picked by bits 2-5, bit 1 lists the entries in reverse.
 */
static void build_table(struct fz *f, u8 shape)
{
	struct vnl_region t[MAXTAB];
	unsigned int i, n = 0;
	bool split = shape & 1;

	for (i = 0; i < f->nch; i++) {
		const struct chunk *c = &f->ch[i];
		u64 hva = (u64)(uintptr_t)(arena + c->off), at;

		if (!c->inst)
			continue;
		if (split) {
			at = (((shape >> 2) & 0xf) + 1) * 0x100;
			if (at >= c->size)
				at = c->size / 2;
			t[n].gpa = c->gpa;
			t[n].size = at;
			t[n].hva = hva;
			n++;
			t[n].gpa = c->gpa + at;
			t[n].size = c->size - at;
			t[n].hva = hva + at;
			n++;
			split = false;
			continue;
		}
		t[n].gpa = c->gpa;
		t[n].size = c->size;
		t[n].hva = hva;
		n++;
	}
	for (i = 0; i < n; i++)
		f->tab[i] = t[shape & 2 ? n - 1 - i : i];
	f->ntab = n;
}

/* Only installed chunks are addressable. */
static void poison_arena(const struct fz *f)
{
	unsigned int i;

	ASAN_POISON_MEMORY_REGION(arena, ARENA);
	for (i = 0; i < f->nch; i++)
		if (f->ch[i].inst)
			ASAN_UNPOISON_MEMORY_REGION(arena + f->ch[i].off,
						    f->ch[i].size);
}

/* Install the current table in the engine and in the model. */
static void install_table(struct fz *f)
{
	unsigned int i;
	int ret;

	ret = vnl_engine_set_mem(f->e, f->tab, f->ntab);
	for (i = 0; i < f->ntab; i++)
		TRACE("  table %u: gpa %#llx size %#llx hva +%#llx\n", i,
		      (unsigned long long)f->tab[i].gpa,
		      (unsigned long long)f->tab[i].size,
		      (unsigned long long)(f->tab[i].hva -
					   (u64)(uintptr_t)arena));
	CHECK(ret == 0);
	model_merge(f);
	poison_arena(f);
}

/* ---- what the engine does, seen from inside its accesses ---- */

/* Host pointer to gpa; the access must lie inside one installed region. */
static bool host_gpa(const struct fz *f, const void *p, size_t len, u64 *gpa)
{
	uintptr_t a = (uintptr_t)p, base = (uintptr_t)arena;
	unsigned int i;

	for (i = 0; i < f->nmr; i++) {
		uintptr_t lo = base + f->mr[i].off;

		if (a >= lo && a - lo < f->mr[i].size &&
		    len <= f->mr[i].size - (a - lo)) {
			*gpa = f->mr[i].gpa + (a - lo);
			return true;
		}
	}
	return false;
}

/* A write by the harness itself during a drain. */
static void harness_write(struct fz *f, u64 gpa, const void *src, u32 len)
{
	g_write(f, gpa, src, len);
	if (f->ae_valid && overlaps(gpa, len, f->ae_gpa, 2))
		f->ae_touched = true;
}

/*
 * The racing guest: every race_period-th access flips one of four bytes,
 * so the engine sees memory change between two of its reads.
 */
static void race_step(struct fz *f)
{
	u64 gpa;
	u8 *p;

	if (!f->race_period || ++f->race_tick % f->race_period)
		return;
	gpa = f->race_gpa + (f->race_tick / f->race_period) % 4;
	p = g_byte(f, gpa);
	if (!p)
		return;
	*p ^= f->race_xor;
	if (f->ae_valid && overlaps(gpa, 1, f->ae_gpa, 2))
		f->ae_touched = true;
}

/* The guest goes away: whatever the engine reads next ends its work. */
static void starve(struct fz *f, u64 gpa, size_t len)
{
	static const u8 indirect[VNL_DESC_SIZE] = {
		[12] = VNL_DESC_F_INDIRECT,
	};
	unsigned int q;
	u16 idx;

	for (q = 0; q < NQ; q++) {
		const struct mq *mq = &f->q[q];

		if (!mq->num)
			continue;
		if (gpa >= mq->desc && gpa - mq->desc < desc_size(mq->num))
			harness_write(f, mq->desc + (gpa - mq->desc) /
				      VNL_DESC_SIZE * VNL_DESC_SIZE,
				      indirect, sizeof(indirect));
		if (len == 2 && gpa == mq->avail + VNL_AVAIL_IDX &&
		    g_r16(f, gpa, &idx)) {
			idx = cpu_to_le16(idx + 0x8000);
			harness_write(f, gpa, &idx, 2);
		}
	}
}

static void fz_access(void *p, size_t len, bool write)
{
	struct fz *f = cur;
	u64 gpa = 0;

	/* Only inside a drain, only inside the table. */
	CHECK(f && f->in_drain);
	if (!len)
		return;		/* a copy of nothing touches nothing */
	CHECK(host_gpa(f, p, len, &gpa));
	f->calls++;
	f->bytes += len;
	if (!f->starved && f->work + f->calls > CALL_CAP) {
		TRACE("  (starved: the guest goes away)\n");
		f->starved = true;
	}
	if (f->starved && !write)
		starve(f, gpa, len);
	race_step(f);
}

static void fz_commit(void *ctx, const u64 *delta)
{
	struct fz *f = ctx;
	unsigned int i;

	/* Once per drain, before the interrupt and the poison reports. */
	CHECK(f->in_drain && !f->commits && !f->irqs && !f->pois_mask);
	f->commits++;
	for (i = 0; i < NCTR; i++) {
		CHECK(f->ctr[i] + delta[i] >= f->ctr[i]);
		f->ctr[i] += delta[i];
		f->delta[i] = delta[i];
	}
}

static void fz_interrupt(void *ctx)
{
	struct fz *f = ctx;

	CHECK(f->in_drain && f->commits == 1 && !f->irqs && !f->pois_mask);
	f->irqs++;
	f->isr_at_irq = vnl_engine_isr(f->e);
	f->status_at_irq = vnl_engine_status(f->e);
}

static void fz_poisoned(void *ctx, unsigned int q)
{
	struct fz *f = ctx;

	/* After the interrupt, once per queue, in queue order. */
	CHECK(f->in_drain && f->irqs == 1 && q < NQ);
	CHECK(f->pois_mask < 1U << q);
	CHECK(vnl_engine_status(f->e) & VNETLOOP_STATUS_NEEDS_RESET);
	f->pois_mask |= 1U << q;
}

static const struct vnl_engine_ops fz_ops = {
	.commit = fz_commit,
	.interrupt = fz_interrupt,
	.poisoned = fz_poisoned,
};

static const struct vnl_engine_ops fz_ops_nopoison = {
	.commit = fz_commit,
	.interrupt = fz_interrupt,
};

/* ---- address and length menus ---- */

/* A gpa that no chunk backs. */
static u64 unmapped_gpa(struct fz *f, u16 off)
{
	u64 hi = 0, lo = UINT64_MAX, g;
	unsigned int i;

	for (i = 0; i < f->nch; i++) {
		if (f->ch[i].gpa + f->ch[i].size - 1 > hi)
			hi = f->ch[i].gpa + f->ch[i].size - 1;
		if (f->ch[i].gpa < lo)
			lo = f->ch[i].gpa;
	}
	if (hi < UINT64_MAX - 0x20000)
		g = hi + 1 + off;
	else
		g = lo - 1 - off;
	for (i = 0; i < f->nch; i++)
		if (overlaps(g, 1, f->ch[i].gpa, f->ch[i].size))
			return 0xdead0000ULL + off;
	return g;
}

static u64 pick_addr(struct fz *f, unsigned int cls, u16 off)
{
	const struct chunk *r0 = &f->ch[0];

	switch (cls & 7) {
	case 0:
	case 1:
	case 2:	/* a buffer area that the default ring layout leaves free */
		if (f->buf_len)
			return f->buf_lo + off % f->buf_len;
		return r0->gpa + off % r0->size;
	case 3:	/* anywhere in region 0, rings included */
		return r0->gpa + off % r0->size;
	case 4:	/* region 1, or across the boundary when it is adjacent */
		if (f->nch > 1)
			return f->ch[1].gpa + off % f->ch[1].size;
		return r0->gpa + r0->size - 1 - (off & 0xff);
	case 5:	/* straddling the end of region 0 */
		return r0->gpa + r0->size - 1 - (off & 0x1f);
	case 6:		/* unbacked, or just below a region's first byte */
		if (off & 0x100)
			return f->ch[off & (f->nch - 1)].gpa - 1 - (off & 7);
		return unmapped_gpa(f, off);
	default:	/* wraps, or whatever the input says */
		if (off & 0x8000)
			return get64(f);
		return UINT64_MAX - (off & 0xff);
	}
}

static u32 pick_len(struct fz *f, unsigned int cls, u16 off)
{
	switch (cls & 7) {
	case 0:
		return off & 0x3f;
	case 1:
		return HDR;
	case 2:
		return HDR + (off & 0x7ff);
	case 3:
		return off;
	case 4:		/* the largest legal frame (with or without header) */
		return (off & 4 ? FRAME_CAP : VNL_MAX_FRAME_SIZE) - (off & 3);
	case 5:		/* one byte over the cap, plus a little */
		return (off & 4 ? FRAME_CAP : VNL_MAX_FRAME_SIZE) + 1 +
		       (off & 3);
	case 6:
		return 0x80000000u + off;
	default:
		if (off & 0x8000)
			return get32(f);
		return UINT32_MAX - (off & 0xff);
	}
}

/* ---- device calls with their own contracts ---- */

/*
 * The engine's visible state (its accessors, and the queue snapshot that
 * debugfs shows) agrees with the model's.
 */
static void check_visible(struct fz *f)
{
	struct vnl_queue_state qs;
	unsigned int q;

	CHECK(vnl_engine_live(f->e) == f->live);
	CHECK(vnl_engine_isr(f->e) == f->isr);
	CHECK(vnl_engine_status(f->e) == f->status);
	for (q = 0; q < NQ; q++) {
		const struct mq *mq = &f->q[q];

		CHECK(vnl_engine_queue_ready(f->e, q) == mq->ready);
		vnl_engine_queue_state(f->e, q, &qs);
		CHECK(qs.ready == mq->ready && qs.num == mq->num);
		if (mq->num)
			CHECK(qs.desc == mq->desc && qs.avail == mq->avail &&
			      qs.used == mq->used);
		if (!f->lost)
			CHECK(qs.poisoned == mq->poisoned &&
			      qs.last_avail == mq->pos &&
			      qs.used_idx == mq->used_idx);
	}
	CHECK(!vnl_engine_queue_ready(f->e, NQ));
}

static void mq_init(struct mq *q)
{
	memset(q, 0, sizeof(*q));
	q->synced = true;
}

static void do_reset(struct fz *f)
{
	u64 before[NCTR];
	unsigned int q;

	memcpy(before, f->ctr, sizeof(before));
	vnl_engine_reset(f->e);
	for (q = 0; q < NQ; q++)
		mq_init(&f->q[q]);
	f->features = 0;
	f->live = false;
	f->isr = f->status = 0;
	f->lost = false;
	check_visible(f);
	/* Counters are never reset. */
	CHECK(!memcmp(before, f->ctr, sizeof(before)));
}

static void do_start(struct fz *f)
{
	vnl_engine_start(f->e);
	f->live = true;
	check_visible(f);
}

static void do_set_features(struct fz *f, u8 sel, u8 bad)
{
	u64 feat = 0;
	int ret;

	if (!(sel & 1))
		feat |= 1ULL << VNETLOOP_F_VERSION_1;
	if (!(sel & 2))
		feat |= 1ULL << VNETLOOP_F_MAC;
	if (sel & 4)
		feat |= 1ULL << VNETLOOP_F_EVENT_IDX;
	if ((sel & 0x18) == 0x18) {
		/* A bit that is not offered: rejected, nothing changes. */
		u64 extra = 1ULL << (bad & 63);

		if (!(extra & VNETLOOP_FEATURES)) {
			ret = vnl_engine_set_features(f->e, feat | extra);
			CHECK(ret == -EINVAL);
		}
	}
	ret = vnl_engine_set_features(f->e, feat);
	TRACE("set_features %#llx: %d\n", (unsigned long long)feat, ret);
	CHECK(ret == 0);
	f->features = feat;
}

static const u32 bad_nums[] = { 0, 3, 6, 255, 257, 384, 512, 65536 };

static u32 pick_num(struct fz *f, u8 sel)
{
	u64 gpa = f->ch[0].gpa;
	int ret;

	if ((sel & 0xf) <= 8)
		return 1u << (sel & 0xf);
	/* Sizes that are not a power of two in 1..256 are refused... */
	ret = vnl_engine_set_vring(f->e, sel >> 7, bad_nums[sel & 7], gpa,
				   gpa, gpa);
	CHECK(ret == -EINVAL);
	/* ...and so are queues that do not exist. */
	ret = vnl_engine_set_vring(f->e, NQ + (sel & 1) * 1000, 1, gpa, gpa,
				   gpa);
	CHECK(ret == -EINVAL);
	check_visible(f);
	return 1u << ((sel >> 4) % 9);
}

/*
 * The default layout packs RX then TX rings at the start of region 0, the
 * way a driver allocates them; the rest of region 0 holds buffers.
 */
static void layout_default(struct fz *f, const u32 *num, u64 *ring)
{
	u64 at = f->ch[0].gpa;
	unsigned int q;

	for (q = 0; q < NQ; q++) {
		ring[3 * q] = at;
		at += desc_size(num[q]);
		ring[3 * q + 1] = at;
		at += avail_size(num[q]);
		at = (at + 3) & ~3ULL;
		ring[3 * q + 2] = at;
		at += used_size(num[q]);
		at = (at + 15) & ~15ULL;
	}
	if (at - f->ch[0].gpa < f->ch[0].size) {
		f->buf_lo = at;
		f->buf_len = f->ch[0].size - (at - f->ch[0].gpa);
	} else {
		f->buf_lo = f->buf_len = 0;
	}
}

/* A ring address; align: what virtio requires of it (else refused). */
static u64 pick_ring_addr(struct fz *f, u8 cls, u64 dflt, u64 align)
{
	u16 off = get16(f);
	u64 a;

	switch (cls & 3) {
	case 0:
		return dflt;
	case 1:		/* misaligned, or shifted onto another ring */
		a = dflt + (off & 0x3ff) - 0x200;
		return off & 0x400 ? a & ~(align - 1) : a;
	default:
		a = pick_addr(f, (off >> 13) ^ (cls >> 2), off);
		return off & 0x1000 ? a & ~(align - 1) : a;
	}
}

static void set_vring(struct fz *f, unsigned int q, u32 num, u64 desc,
		      u64 avail, u64 used)
{
	struct mq *mq = &f->q[q];
	/* virtio 1.2, 2.7: each part aligned, and none may wrap. */
	bool fits = !(desc & (VNL_DESC_ALIGN - 1)) &&
		    !(avail & (VNL_AVAIL_ALIGN - 1)) &&
		    !(used & (VNL_USED_ALIGN - 1)) &&
		    desc + desc_size(num) - 1 >= desc &&
		    avail + avail_size(num) - 1 >= avail &&
		    used + used_size(num) - 1 >= used;
	int ret = vnl_engine_set_vring(f->e, q, num, desc, avail, used);

	TRACE("set_vring q%u num %u desc %#llx avail %#llx used %#llx: %d\n",
	      q, num, (unsigned long long)desc, (unsigned long long)avail,
	      (unsigned long long)used, ret);
	/* A bad layout is refused and leaves the queue as it was. */
	CHECK(ret == (fits ? 0 : -EINVAL));
	if (!ret) {
		/* A new queue: positions, poison and hints start afresh. */
		mq_init(mq);
		mq->num = num;
		mq->desc = desc;
		mq->avail = avail;
		mq->used = used;
		mq->ready = true;
	}
	check_visible(f);
}

static const u64 ring_align[3] = {
	VNL_DESC_ALIGN, VNL_AVAIL_ALIGN, VNL_USED_ALIGN
};

/* Configure both queues from the input. */
static void setup_vrings(struct fz *f, u8 which)
{
	u32 num[NQ];
	u64 ring[3 * NQ];
	u8 cls;
	unsigned int q, i;

	num[RXQ] = pick_num(f, get8(f));
	num[TXQ] = pick_num(f, get8(f));
	layout_default(f, num, ring);
	cls = get8(f);
	if (cls & 0xc0) {
		for (i = 0; i < 3 * NQ; i++)
			ring[i] = pick_ring_addr(f, cls >> (i & 3), ring[i],
						 ring_align[i % 3]);
	}
	for (q = 0; q < NQ; q++)
		if (!(which & (1u << q)))
			set_vring(f, q, num[q], ring[3 * q], ring[3 * q + 1],
				  ring[3 * q + 2]);
}

static const u32 budget_pkts[] = {
	1, 2, 3, 8, 32, 256, VNL_BUDGET_PACKETS, 1000
};
static const u32 budget_bytes[] = { 1, 60, 1500, 4096, 65536, 65557, 65558,
				    VNL_BUDGET_BYTES };

static void set_budget(struct fz *f, u8 sel)
{
	f->budget_p = budget_pkts[sel & 7];
	f->budget_b = budget_bytes[(sel >> 3) & 7];
	vnl_engine_set_budget(f->e, f->budget_p, f->budget_b);
}

/*
 * Tables the engine must refuse, leaving the installed one in place (the
 * drains that follow check that it did).
 */
static void check_bad_tables(struct fz *f, u8 sel, u16 off)
{
	struct vnl_region bad[MAXTAB + 2];
	const struct chunk *c0 = &f->ch[0];
	u64 hva = (u64)(uintptr_t)(arena + c0->off);
	unsigned int n, i;
	int want = -EINVAL, ret;

	/* A good table (every chunk, whole), then the bad entry. */
	for (n = 0; n < f->nch; n++) {
		bad[n].gpa = f->ch[n].gpa;
		bad[n].size = f->ch[n].size;
		bad[n].hva = (u64)(uintptr_t)(arena + f->ch[n].off);
	}
	bad[n].hva = hva;
	switch (sel & 7) {
	case 0:		/* overlapping region 0 */
		bad[n].gpa = c0->gpa + off % c0->size;
		bad[n].size = 1 + (off & 0xff);
		break;
	case 1:		/* empty */
		bad[n].gpa = unmapped_gpa(f, off);
		bad[n].size = 0;
		break;
	case 2:		/* wrapping past 2^64 in guest space */
		bad[n].gpa = UINT64_MAX - (off & 0xfff);
		bad[n].size = 0x2000;
		bad[n].hva = 0x1000;
		break;
	case 3:		/* wrapping past 2^64 in host space */
		bad[n].gpa = 0x4000000000000000ULL + off * 0x10000ULL;
		bad[n].size = 0x1000 + (off & 0xfff);
		bad[n].hva = UINT64_MAX - (off & 0xfff);
		break;
	case 4:		/* one byte over the end of region 0 */
		bad[n].gpa = c0->gpa + c0->size - 1;
		bad[n].size = 1 + (off & 0xfff);
		break;
	case 5:		/* region 0 listed twice */
		bad[n] = bad[0];
		break;
	default:	/* more regions than the device takes, each fine */
		want = -E2BIG;
		for (i = 0; i < MAXTAB + 1 + (sel >> 3 & 1); i++) {
			bad[i].gpa = 0x8000000000000000ULL + i * 0x2000ULL;
			bad[i].size = 0x1000;
			bad[i].hva = hva;
		}
		n = i - 1;
		break;
	}
	n++;
	ret = vnl_engine_set_mem(f->e, bad, n);
	TRACE("  bad table (kind %u, %u entries): %d\n", sel & 7, n, ret);
	CHECK(ret == want);
}

/* A new region table: some chunks out, cut or listed in another order. */
static void op_set_mem(struct fz *f)
{
	u8 sel = get8(f);
	unsigned int i;

	if (sel & 0x80) {
		u8 b = get8(f);

		check_bad_tables(f, b, get16(f));
	}
	for (i = 0; i < f->nch; i++)
		f->ch[i].inst = !(sel & (1u << i));
	TRACE("set_mem: drop mask %u\n", sel & 3);
	st.set_mem++;
	build_table(f, sel >> 2);
	install_table(f);
}

/* ---- guest actions ---- */

static void write_desc(struct fz *f, const struct mq *vq, u16 i, u64 addr,
		       u32 len, u16 flags, u16 next)
{
	u8 raw[VNL_DESC_SIZE];
	u64 a = cpu_to_le64(addr);
	u32 l = cpu_to_le32(len);
	u16 fl = cpu_to_le16(flags), nx = cpu_to_le16(next);

	memcpy(raw, &a, 8);
	memcpy(raw + 8, &l, 4);
	memcpy(raw + 12, &fl, 2);
	memcpy(raw + 14, &nx, 2);
	g_write(f, vq->desc + (u64)i * VNL_DESC_SIZE, raw, sizeof(raw));
}

/*
 * Post a chain on queue q: up to four described descriptors, the last one
 * optionally repeated into a long chain, then publish the head in the avail
 * ring.
 */
static void guest_post(struct fz *f, unsigned int q)
{
	const struct mq *vq = &f->q[q];
	u16 head = get8(f), idx = 0, i, n, total, next, flags;
	u8 cnt = get8(f), shape = 0;
	u16 aoff = 0, loff = 0;
	u64 addr = 0;
	u32 len = 0;

	if (!vq->num)
		return;
	head &= vq->num - 1;
	n = 1 + (cnt & 3);
	/*
	 * cnt: bits 0-1 descriptors given, 2-5 repeats, 6 unpublished,
	 * 7 long
	 */
	total = cnt & 0x80 ? n + ((cnt >> 2) & 0xf) * 17 : n;
	for (i = 0; i < total; i++) {
		u16 at = (head + i) & (vq->num - 1);

		if (i < n) {
			shape = get8(f);
			aoff = get16(f);
			loff = get16(f);
			addr = pick_addr(f, shape >> 3, aoff);
			len = pick_len(f, shape, loff);
		}
		flags = q == RXQ ? VNL_DESC_F_WRITE : 0;
		next = (at + 1) & (vq->num - 1);
		if (i + 1 < total)
			flags |= VNL_DESC_F_NEXT;
		if (i < n && (shape & 0x40))
			flags ^= get8(f) & 7;
		if (i < n && (shape & 0x80))
			next = get16(f);
		if (i < n || i + 1 == total)
			TRACE("  q%u desc %u: addr %#llx len %u flags %#x next %u%s\n",
			      q, at, (unsigned long long)addr, len, flags, next,
			      i + 1 == total && i >= n ?
			      " (last of repeat)" : "");
		write_desc(f, vq, at, addr, len, flags, next);
	}
	if (!g_r16(f, vq->avail + VNL_AVAIL_IDX, &idx))
		return;
	TRACE("  q%u post head %u at avail %u%s\n", q, head, idx,
	      cnt & 0x40 ? " (unpublished)" : "");
	g_w16(f, vq->avail + VNL_AVAIL_RING(idx & (vq->num - 1)), head);
	if (!(cnt & 0x40))
		g_w16(f, vq->avail + VNL_AVAIL_IDX, idx + 1);
}

/* Move avail->idx: a little, to the poisoning edge, or anywhere. */
static void guest_avail_idx(struct fz *f)
{
	u8 sel = get8(f);
	const struct mq *vq = &f->q[sel & 1];
	u16 v = get16(f), idx = 0;

	g_r16(f, vq->avail + VNL_AVAIL_IDX, &idx);
	switch ((sel >> 1) & 3) {
	case 0:
		idx += v & 0xf;
		break;
	case 1:		/* exactly num ahead: legal */
		idx = vq->pos + vq->num;
		break;
	case 2:		/* one past it: poisons */
		idx = vq->pos + vq->num + 1 + (v & 1);
		break;
	default:
		idx = v;
		break;
	}
	TRACE("  q%u avail idx := %u\n", sel & 1, idx);
	g_w16(f, vq->avail + VNL_AVAIL_IDX, idx);
}

static u64 ring_target(struct fz *f, u8 sel, u16 off)
{
	const struct mq *vq = &f->q[sel & 1];
	u32 num = vq->num ? vq->num : 1;

	switch ((sel >> 1) & 3) {
	case 0:
		return vq->desc + off % desc_size(num);
	case 1:
		return vq->avail + off % avail_size(num);
	case 2:
		return vq->used + off % used_size(num);
	default:
		return pick_addr(f, sel >> 3, off);
	}
}

static void guest_poke(struct fz *f)
{
	u8 sel = get8(f);
	u64 at = ring_target(f, sel, get16(f));
	u64 v = get64(f);

	TRACE("  poke %#llx (%u bytes) = %#llx\n", (unsigned long long)at,
	      1u << (sel >> 6), (unsigned long long)v);
	g_write(f, at, &v, 1u << (sel >> 6));
}

/*
 * Interrupt hints: avail flags and used_event near the used index; bit 2
 * also acknowledges InterruptStatus bits 3-4.
 */
static void guest_notify(struct fz *f)
{
	u8 sel = get8(f);
	const struct mq *vq = &f->q[sel & 1];
	u16 used = vq->used_idx;

	g_r16(f, vq->used + VNL_USED_IDX, &used);
	g_w16(f, vq->avail + VNL_AVAIL_FLAGS,
	      (sel & 2) ? VNL_AVAIL_F_NO_INTERRUPT : 0);
	g_w16(f, vq->avail + VNL_AVAIL_USED_EVENT(vq->num),
	      used + (int8_t)get8(f));
	if (sel & 4) {
		TRACE("  ack isr %#x\n", (sel >> 3) & 3);
		vnl_engine_isr_ack(f->e, (sel >> 3) & 3);
		f->isr &= ~((sel >> 3) & 3u);
		check_visible(f);
	}
}

/* What a driver does with fresh rings: flags and indices start at zero. */
static void guest_zero_rings(struct fz *f)
{
	unsigned int q;

	for (q = 0; q < NQ; q++) {
		const struct mq *vq = &f->q[q];

		g_w16(f, vq->avail + VNL_AVAIL_FLAGS, 0);
		g_w16(f, vq->avail + VNL_AVAIL_IDX, 0);
		g_w16(f, vq->used + VNL_USED_FLAGS, 0);
		g_w16(f, vq->used + VNL_USED_IDX, 0);
	}
}

static void guest_race(struct fz *f)
{
	u8 sel = get8(f);

	f->race_period = sel & 0xf;
	f->race_tick = 0;
	f->race_gpa = ring_target(f, sel >> 4, get16(f));
	f->race_xor = get8(f) | 1;
	TRACE("  race every %u accesses at %#llx\n", f->race_period,
	      (unsigned long long)f->race_gpa);
}

/* ---- the model's replay of one drain, from the contract ---- */

static void s_stop(struct sim *s, const char *why)
{
	if (!s->stop)
		s->stop = why;
}

/* Mark n model bytes from arena offset off unknown. */
static void s_taint(u64 off, u64 n)
{
	memset(tarena + off, 1, n);
	taint_any = taint_dirty = true;
}

/* A ring field: inside a backed ring, so inside one region. */
static bool s_get(struct sim *s, u64 gpa, void *v, u32 len)
{
	u64 off = 0, room = 0;

	if (s->stop)
		return false;
	CHECK(g_find(s->f, gpa, &off, &room) && room >= len);
	if (taint_any && memchr(tarena + off, 1, len)) {
		s_stop(s, "a ring field of unknown value");
		return false;
	}
	memcpy(v, sarena + off, len);
	return true;
}

static bool s_get16(struct sim *s, u64 gpa, u16 *v)
{
	u16 le;

	if (!s_get(s, gpa, &le, 2))
		return false;
	*v = le16_to_cpu(le);
	return true;
}

static void s_put(struct sim *s, u64 gpa, const void *v, u32 len)
{
	u64 off = 0, room = 0;

	CHECK(g_find(s->f, gpa, &off, &room) && room >= len);
	memcpy(sarena + off, v, len);
	if (taint_any)
		memset(tarena + off, 0, len);
}

static void s_put16(struct sim *s, u64 gpa, u16 v)
{
	u16 le = cpu_to_le16(v);

	s_put(s, gpa, &le, 2);
}

static void s_put32(struct sim *s, u64 gpa, u32 v)
{
	u32 le = cpu_to_le32(v);

	s_put(s, gpa, &le, 4);
}

/* SPEC 3: counted and signalled once per transition. */
static void s_poison(struct sim *s, unsigned int q)
{
	if (s->q[q].poisoned)
		return;
	s->q[q].poisoned = true;
	s->newly |= 1U << q;
	s->d[C_(INVALID_AVAIL_IDX_COUNT)]++;
}

/* Read avail->idx: pending entries, or -1 once poisoned (or stopped). */
static int s_refresh(struct sim *s, unsigned int q)
{
	struct mq *mq = &s->q[q];
	u16 idx;

	if (!avail_ok(s->f, mq)) {
		s_poison(s, q);
		return -1;
	}
	if (!s_get16(s, mq->avail + VNL_AVAIL_IDX, &idx))
		return -1;
	if ((u16)(idx - mq->pos) > mq->num) {
		s_poison(s, q);
		return -1;
	}
	mq->seen = idx;
	return (u16)(idx - mq->pos);
}

static bool s_pop(struct sim *s, unsigned int q, u16 *head)
{
	struct mq *mq = &s->q[q];

	if (!avail_ok(s->f, mq)) {
		s_poison(s, q);
		return false;
	}
	if (!s_get16(s, mq->avail + VNL_AVAIL_RING(mq->pos & (mq->num - 1)),
		     head))
		return false;
	mq->pos++;
	return true;
}

enum { CH_OK, CH_BAD, CH_OVERSIZE };

/*
 * SPEC 2 step 1: walk the chain at head. Every descriptor must have the
 * queue's direction; at most num of them; the header must fit.
 */
static int s_walk_chain(struct sim *s, unsigned int q, u16 head,
			bool writable, struct chain *c)
{
	const struct mq *mq = &s->q[q];
	u8 raw[VNL_DESC_SIZE];
	u16 i = head, flags, next;
	u64 addr;
	u32 len;

	c->n = 0;
	c->total = 0;
	if (!desc_ok(s->f, mq))
		return CH_BAD;
	for (;;) {
		if (i >= mq->num || c->n >= mq->num)
			return CH_BAD;	/* out of range, or a loop */
		if (!s_get(s, mq->desc + (u64)i * VNL_DESC_SIZE, raw,
			   sizeof(raw)))
			return CH_BAD;
		memcpy(&addr, raw, 8);
		memcpy(&len, raw + 8, 4);
		memcpy(&flags, raw + 12, 2);
		memcpy(&next, raw + 14, 2);
		addr = le64_to_cpu(addr);
		len = le32_to_cpu(len);
		flags = le16_to_cpu(flags);
		if (flags & VNL_DESC_F_INDIRECT)	/* never negotiated */
			return CH_BAD;
		if (!!(flags & VNL_DESC_F_WRITE) != writable)
			return CH_BAD;
		if (len && addr + len - 1 < addr)
			return CH_BAD;
		c->seg[c->n].addr = addr;
		c->seg[c->n].len = len;
		c->n++;
		c->total += len;
		if (!(flags & VNL_DESC_F_NEXT))
			break;
		i = le16_to_cpu(next);
	}
	return c->total < HDR ? CH_BAD : CH_OK;
}

/* The same, counting the descriptors accepted against the drain's bound. */
static int s_walk(struct sim *s, unsigned int q, u16 head, bool writable,
		  struct chain *c)
{
	int v = s_walk_chain(s, q, head, writable, c);

	s->descs += c->n;
	return v;
}

/* Write len bytes into chain c from its start; the bytes written. */
static u32 s_chain_write(struct sim *s, const struct chain *c, const u8 *buf,
			 u32 len)
{
	u64 gpa, left, off, room;
	u32 done = 0, i;

	for (i = 0; i < c->n && done < len; i++) {
		gpa = c->seg[i].addr;
		left = min64(c->seg[i].len, len - done);
		while (left) {
			if (!g_find(s->f, gpa, &off, &room))
				return done;
			room = min64(room, left);
			memcpy(sarena + off, buf + done, room);
			if (taint_any)
				memset(tarena + off, 0, room);
			done += room;
			gpa += room;
			left -= room;
		}
	}
	return done;
}

/* The guest-space ranges of bytes [at, at + n) of chain c. */
static u32 chain_ranges(const struct chain *c, u64 at, u64 n,
			struct seg *out)
{
	u32 i, k = 0;
	u64 piece;

	for (i = 0; i < c->n && n; i++) {
		if (at >= c->seg[i].len) {
			at -= c->seg[i].len;
			continue;
		}
		piece = min64(c->seg[i].len - at, n);
		out[k].addr = c->seg[i].addr + at;
		out[k].len = (u32)piece;
		k++;
		n -= piece;
		at = 0;
	}
	return k;
}

struct cursor {
	const struct chain *c;
	u32 i;
	u64 off;
};

/* Bytes left in the cursor's descriptor, past empty ones; its address. */
static u64 cursor_left(struct cursor *k, u64 *gpa)
{
	while (k->i < k->c->n && k->off == k->c->seg[k->i].len) {
		k->i++;
		k->off = 0;
	}
	CHECK(k->i < k->c->n);
	*gpa = k->c->seg[k->i].addr + k->off;
	return k->c->seg[k->i].len - k->off;
}

/*
 * Copy room frame bytes from the TX chain to the RX chain, in order, up to
 * the first RX byte that is not backed. Where the two overlap the result
 * depends on how the copy is cut: those bytes become unknown.
 */
static bool s_copy(struct sim *s, u64 room)
{
	static struct seg sr[VNETLOOP_QUEUE_SIZE_MAX],
			  dr[VNETLOOP_QUEUE_SIZE_MAX];
	struct cursor src = { &s->tx, 0, 0 }, dst = { &s->rx, 0, 0 };
	u64 k, n, sg, dg, soff, doff, sroom, droom;
	u32 ns, nd, i, j;

	src.off = HDR;
	dst.off = HDR;
	/* The header may span descriptors: find byte HDR of each chain. */
	while (src.i < s->tx.n && src.off > s->tx.seg[src.i].len)
		src.off -= s->tx.seg[src.i++].len;
	while (dst.i < s->rx.n && dst.off > s->rx.seg[dst.i].len)
		dst.off -= s->rx.seg[dst.i++].len;
	for (k = 0; k < room; k += n) {
		n = min64(room - k, cursor_left(&src, &sg));
		n = min64(n, cursor_left(&dst, &dg));
		if (!g_find(s->f, dg, &doff, &droom))
			break;
		CHECK(g_find(s->f, sg, &soff, &sroom));
		n = min64(n, min64(droom, sroom));
		memmove(sarena + doff, sarena + soff, n);
		if (taint_any)
			memmove(tarena + doff, tarena + soff, n);
		src.off += n;
		dst.off += n;
	}
	ns = chain_ranges(&s->tx, HDR, k, sr);
	nd = chain_ranges(&s->rx, HDR, k, dr);
	for (i = 0; i < ns; i++)
		for (j = 0; j < nd; j++)
			if (overlaps(sr[i].addr, sr[i].len, dr[j].addr,
				     dr[j].len))
				goto overlap;
	return k == room;
overlap:
	for (j = 0; j < nd; j++) {
		u64 g = dr[j].addr, left = dr[j].len;

		while (left && g_find(s->f, g, &doff, &droom)) {
			droom = min64(droom, left);
			s_taint(doff, droom);
			g += droom;
			left -= droom;
		}
	}
	return k == room;
}

static bool s_add_used(struct sim *s, unsigned int q, u32 id, u32 len)
{
	struct mq *mq = &s->q[q];
	u64 slot;

	if (id >= mq->num || !used_ok(s->f, mq))
		return false;
	slot = mq->used + VNL_USED_RING(mq->used_idx & (mq->num - 1));
	s_put32(s, slot, id);
	s_put32(s, slot + 4, len);
	mq->used_idx++;
	s->added[q]++;
	return true;
}

/* SPEC 2.2: the valid TX frame of len bytes goes to the next RX chain. */
static void s_deliver(struct sim *s, u32 len)
{
	static const u8 hdr[HDR] = { [VNL_NET_HDR_NUM_BUFFERS] = 1 };
	static const u8 zero[HDR];
	struct mq *rx = &s->q[RXQ];
	u64 room;
	u16 head;

	if (!rx->ready) {
		s->d[C_(TX_DROPPED_NO_RX_BUFFER)]++;
		return;
	}
	if (!rx->poisoned && !rx->synced) {
		s_stop(s, "RX avail position unknown");
		return;
	}
	if (!rx->poisoned && rx->pos == rx->seen && !s_refresh(s, RXQ)) {
		s->d[C_(TX_DROPPED_NO_RX_BUFFER)]++;
		return;
	}
	if (s->stop)
		return;
	if (rx->poisoned || !s_pop(s, RXQ, &head)) {
		s->d[C_(TX_DROPPED_RX_POISONED)]++;
		return;
	}
	if (s_walk(s, RXQ, head, true, &s->rx) != CH_OK) {
		s->d[C_(RX_CHAIN_INVALID)]++;
		if (!s_add_used(s, RXQ, head, 0))
			s->d[C_(RX_ADD_USED_FAILURES)]++;
		return;
	}
	room = min64(s->rx.total - HDR, len);
	if (s_chain_write(s, &s->rx, hdr, HDR) < HDR || !s_copy(s, room)) {
		/* Returned unused, the header zeroed again. */
		s->d[C_(RX_WRITE_FAILED)]++;
		s_chain_write(s, &s->rx, zero, HDR);
		if (!s_add_used(s, RXQ, head, 0))
			s->d[C_(RX_ADD_USED_FAILURES)]++;
		return;
	}
	if (!s_add_used(s, RXQ, head, (u32)(HDR + room))) {
		s->d[C_(RX_ADD_USED_FAILURES)]++;
		return;
	}
	s->pend_p[RXQ]++;
	s->pend_b[RXQ] += room;
}

/* One popped TX chain: judge, deliver, complete. Returns frame bytes. */
static u32 s_tx_one(struct sim *s, u16 head)
{
	int v = s_walk(s, TXQ, head, false, &s->tx);
	u32 len = 0, i;

	if (v == CH_OK && s->tx.total - HDR > VNL_MAX_FRAME_SIZE)
		v = CH_OVERSIZE;
	for (i = 0; v == CH_OK && i < s->tx.n; i++)
		if (s->tx.seg[i].len &&
		    !backed(s->f, s->tx.seg[i].addr, s->tx.seg[i].len))
			v = CH_BAD;
	if (s->stop)
		return 0;
	if (v == CH_OK) {
		len = (u32)(s->tx.total - HDR);
		s_deliver(s, len);
	} else if (v == CH_BAD) {
		s->d[C_(TX_CHAIN_INVALID)]++;
	} else {
		s->d[C_(TX_OVERSIZE_DROPPED)]++;
	}
	if (!s_add_used(s, TXQ, head, 0)) {
		s->d[C_(TX_ADD_USED_FAILURES)]++;
	} else if (v == CH_OK) {
		s->pend_p[TXQ]++;
		s->pend_b[TXQ] += len;
	}
	return len;
}

static void s_publish(struct sim *s, unsigned int q)
{
	static const enum vnetloop_counter c[NQ][2] = {
		[RXQ] = { C_(RX_PACKETS), C_(RX_BYTES) },
		[TXQ] = { C_(TX_PACKETS), C_(TX_BYTES) },
	};
	struct mq *mq = &s->q[q];

	if (!s->added[q])
		return;
	s_put16(s, mq->used + VNL_USED_IDX, mq->used_idx);
	s->d[c[q][0]] += s->pend_p[q];
	s->d[c[q][1]] += s->pend_b[q];
}

static bool need_event(u16 event, u16 new_idx, u16 old)
{
	return (u16)(new_idx - event - 1) < (u16)(new_idx - old);
}

/* Does queue q ask for an interrupt for this drain's used entries? */
static bool s_decide(struct sim *s, unsigned int q)
{
	struct mq *mq = &s->q[q];
	u16 old = mq->sig_used, v = 0;
	bool valid = mq->sig_valid;

	if (!mq->ready || !s->added[q])
		return false;
	mq->sig_used = mq->used_idx;
	mq->sig_valid = true;
	if (!avail_ok(s->f, mq))
		return true;	/* a lost interrupt is worse */
	if (has_evidx(s->f)) {
		if (!valid || s->added[q] > 0xffff)
			return true;
		s_get16(s, mq->avail + VNL_AVAIL_USED_EVENT(mq->num), &v);
		return need_event(v, mq->used_idx, old);
	}
	s_get16(s, mq->avail + VNL_AVAIL_FLAGS, &v);
	return !(v & VNL_AVAIL_F_NO_INTERRUPT);
}

static void sim_drain(struct sim *s)
{
	struct fz *f = s->f;
	struct mq *tx = &s->q[TXQ];
	u32 packets = 0;
	u64 bytes = 0;
	unsigned int q;
	int pending;
	u16 head;

	s->d[C_(WORKER_RUNS)] = 1;
	if (!tx->ready || tx->poisoned)
		goto out;
	if (!tx->synced) {
		s_stop(s, "TX avail position unknown");
		return;
	}
	for (;;) {
		if (tx->pos == tx->seen) {
			pending = s_refresh(s, TXQ);
			if (!pending && has_evidx(f)) {
				/* A kick at the next entry; look again. */
				if (used_ok(f, tx))
					s_put16(s, tx->used +
						VNL_USED_AVAIL_EVENT(tx->num),
						tx->pos);
				pending = s_refresh(s, TXQ);
			}
			if (pending <= 0)
				break;
		}
		if (packets >= f->budget_p || bytes >= f->budget_b ||
		    s->descs >= VNL_DRAIN_DESCS_MAX) {
			s->more = true;
			break;
		}
		if (!s_pop(s, TXQ, &head))
			break;
		bytes += s_tx_one(s, head);
		packets++;
		if (s->stop)
			return;
	}
	if (s->stop)
		return;
	s_publish(s, RXQ);
	s_publish(s, TXQ);
	/* Two used->idx on the same bytes: which one lands is not ours. */
	if (s->added[RXQ] && s->added[TXQ] &&
	    overlaps(s->q[RXQ].used + VNL_USED_IDX, 2,
		     tx->used + VNL_USED_IDX, 2)) {
		u64 off, room;

		for (q = 0; q < NQ; q++) {
			CHECK(g_find(f, s->q[q].used + VNL_USED_IDX, &off,
				     &room));
			s_taint(off, 2);
		}
	}
	for (q = 0; q < NQ; q++)
		if (s_decide(s, q))
			s->raise |= VNETLOOP_ISR_VRING;
out:
	if (s->newly)
		s->raise |= VNETLOOP_ISR_CONFIG;
	if (s->raise)
		s->d[C_(INTERRUPTS)]++;
	if (s->more)
		s->d[C_(BUDGET_REQUEUES)]++;
}

/* The model's copy of guest memory as it is now. */
static void snapshot(struct fz *f)
{
	unsigned int i;

	for (i = 0; i < f->nmr; i++)
		memcpy(sarena + f->mr[i].off, arena + f->mr[i].off,
		       f->mr[i].size);
	if (taint_dirty)
		memset(tarena, 0, ARENA);
	taint_any = taint_dirty = false;
}

/* Guest memory after the drain is what the model wrote, byte for byte. */
static void compare_memory(struct fz *f)
{
	unsigned int i;
	u64 j;

	for (i = 0; i < f->nmr; i++) {
		const struct mreg *r = &f->mr[i];

		if (!taint_any && !memcmp(arena + r->off, sarena + r->off,
					  r->size))
			continue;
		for (j = 0; j < r->size; j++) {
			if (tarena[r->off + j] ||
			    arena[r->off + j] == sarena[r->off + j])
				continue;
			fprintf(stderr, "vnl_fuzz: gpa %#llx is %#x, the model says %#x\n",
				(unsigned long long)(r->gpa + j),
				arena[r->off + j], sarena[r->off + j]);
			CHECK(!"guest memory as the model wrote it");
		}
	}
}

/* ---- the drain and its invariants ---- */

/*
 * SPEC 2 accounting, whatever the guest did during the drain. With the
 * used ring backed, a used entry fails only for a head out of range, which
 * is also an invalid chain; without it, every entry fails. So each popped
 * chain is counted exactly once, and the model learns how many were popped.
 */
static void check_accounting(struct fz *f, const struct mq *pre,
			     const u64 *D, bool more, unsigned int newly,
			     u32 *popped_out, u32 *rx_popped_out,
			     u32 *added)
{
	bool txu = used_ok(f, &pre[TXQ]), rxu = used_ok(f, &pre[RXQ]);
	u64 popped, valid, rx_popped, txn = pre[TXQ].num, rxn = pre[RXQ].num;

	if (txu) {
		popped = D[C_(TX_PACKETS)] + D[C_(TX_CHAIN_INVALID)] +
			 D[C_(TX_OVERSIZE_DROPPED)];
		CHECK(D[C_(TX_ADD_USED_FAILURES)] <= D[C_(TX_CHAIN_INVALID)]);
	} else {
		popped = D[C_(TX_ADD_USED_FAILURES)];
		CHECK(!D[C_(TX_PACKETS)] && !D[C_(TX_BYTES)]);
		CHECK(D[C_(TX_CHAIN_INVALID)] + D[C_(TX_OVERSIZE_DROPPED)] <=
		      popped);
	}
	valid = popped - D[C_(TX_CHAIN_INVALID)] - D[C_(TX_OVERSIZE_DROPPED)];
	if (rxu) {
		rx_popped = D[C_(RX_PACKETS)] + D[C_(RX_CHAIN_INVALID)] +
			    D[C_(RX_WRITE_FAILED)];
		CHECK(D[C_(RX_ADD_USED_FAILURES)] <= D[C_(RX_CHAIN_INVALID)]);
	} else {
		rx_popped = D[C_(RX_ADD_USED_FAILURES)];
		CHECK(!D[C_(RX_PACKETS)] && !D[C_(RX_BYTES)]);
		CHECK(D[C_(RX_CHAIN_INVALID)] + D[C_(RX_WRITE_FAILED)] <=
		      rx_popped);
	}
	/* Every valid frame has exactly one fate on the RX side. */
	CHECK(valid == D[C_(TX_DROPPED_NO_RX_BUFFER)] +
	      D[C_(TX_DROPPED_RX_POISONED)] + rx_popped);
	if (!pre[RXQ].ready)
		CHECK(!rx_popped && !D[C_(TX_DROPPED_RX_POISONED)]);
	if (pre[RXQ].poisoned)
		CHECK(!rx_popped && !D[C_(TX_DROPPED_NO_RX_BUFFER)]);

	/* Bytes: frames only, bounded by the cap and by the budget. */
	CHECK(D[C_(TX_BYTES)] <= D[C_(TX_PACKETS)] * VNL_MAX_FRAME_SIZE);
	CHECK(D[C_(RX_BYTES)] <= D[C_(RX_PACKETS)] * VNL_MAX_FRAME_SIZE);
	if (txu && rxu)
		CHECK(D[C_(RX_BYTES)] <= D[C_(TX_BYTES)]);
	CHECK(popped <= f->budget_p);
	if (txu && popped)
		CHECK(D[C_(TX_BYTES)] <= (u64)f->budget_b - 1 +
		      VNL_MAX_FRAME_SIZE);
	if (more) {
		CHECK(popped && !(newly & (1U << TXQ)));
		/* Or the descriptor bound: each chain walks txn + rxn at most. */
		if (txu)
			CHECK(popped >= f->budget_p ||
			      D[C_(TX_BYTES)] >= f->budget_b ||
			      popped * (txn + rxn) >= VNL_DRAIN_DESCS_MAX);
	}

	/* Work is bounded by the chains popped and the queue sizes. */
	CHECK(f->calls <= popped * (10 * (txn + rxn) + 40) + 16);
	CHECK(f->bytes <= popped * (2 * FRAME_CAP + 16 * (txn + rxn) + 128) +
	      64);

	*popped_out = (u32)popped;
	*rx_popped_out = (u32)rx_popped;
	added[TXQ] = txu ? (u32)(popped - D[C_(TX_ADD_USED_FAILURES)]) : 0;
	added[RXQ] = rxu ? (u32)(rx_popped - D[C_(RX_ADD_USED_FAILURES)]) : 0;
}

/*
 * avail_event (the brief's check, also under a racing guest): with
 * EVENT_IDX it holds the TX position after a drain that ran to an empty
 * ring; without EVENT_IDX the engine never writes it.
 */
static void check_avail_event(struct fz *f, const struct mq *pre, bool ran,
			      bool more, const u64 *D, u16 before,
			      const u32 *added)
{
	const struct mq *tx = &f->q[TXQ], *rx = &f->q[RXQ];
	u16 v = 0;

	if (!f->ae_valid || f->ae_touched || f->lost)
		return;
	CHECK(g_r16(f, f->ae_gpa, &v));
	if (has_evidx(f)) {
		if (!ran || more || tx->poisoned)
			return;
		/* RX used->idx, written after it, on the same bytes. */
		if (added[RXQ] && overlaps(pre[RXQ].used + VNL_USED_IDX, 2,
					   f->ae_gpa, 2))
			return;
		TRACE("  avail_event %u, TX position %u\n", v, tx->pos);
		st.ae_event++;
		CHECK(v == tx->pos);
		return;
	}
	/* RX writes may land there: header and frame, used entries. */
	if (D[C_(RX_PACKETS)] + D[C_(RX_WRITE_FAILED)] +
	    D[C_(RX_ADD_USED_FAILURES)])
		return;
	if (added[RXQ] && overlaps(rx->used, used_size(rx->num), f->ae_gpa, 2))
		return;
	st.ae_still++;
	CHECK(v == before);
}

/* Which queues were poisoned: the callback says, else the counter. */
static unsigned int poisoned_now(struct fz *f, const struct mq *pre,
				 const u64 *D, bool ran)
{
	u64 n = D[C_(INVALID_AVAIL_IDX_COUNT)];
	unsigned int cand = 0;

	CHECK(n <= 2);
	if (f->poison_cb) {
		CHECK((u64)__builtin_popcount(f->pois_mask) == n);
		return f->pois_mask;
	}
	if (!n || f->lost)
		return 0;
	if (ran)
		cand |= 1U << TXQ;
	if (pre[RXQ].ready && !pre[RXQ].poisoned)
		cand |= 1U << RXQ;
	if (n == (u64)__builtin_popcount(cand))
		return cand;
	CHECK(n == 1 && cand == 3);
	f->lost = true;	/* one of two: the model cannot tell */
	return 0;
}

static void do_drain(struct fz *f)
{
	struct mq pre[NQ];
	u64 D[NCTR];
	u32 popped, rx_popped, added[NQ];
	u32 isr0 = f->isr, isr;
	bool ran, more, racing, lost, followed = false;
	unsigned int i, newly;
	u16 ae_before = 0;

	if (f->drains++ >= MAX_DRAINS || f->starved)
		return;
	st.drains++;
	memcpy(pre, f->q, sizeof(pre));
	ran = f->live && pre[TXQ].ready && !pre[TXQ].poisoned;
	racing = f->race_period != 0;
	if (ran && !racing && !f->lost && !no_model)
		snapshot(f);
	f->ae_valid = used_ok(f, &pre[TXQ]);
	f->ae_gpa = pre[TXQ].used + VNL_USED_AVAIL_EVENT(pre[TXQ].num);
	if (f->ae_valid)
		CHECK(g_r16(f, f->ae_gpa, &ae_before));
	f->ae_touched = false;
	f->commits = f->irqs = f->pois_mask = 0;
	f->calls = f->bytes = 0;
	memset(f->delta, 0, sizeof(f->delta));
	check_visible(f);

	f->in_drain = true;
	more = vnl_drain(f->e);
	f->in_drain = false;
	f->work += f->calls;
	racing |= f->starved;
	isr = vnl_engine_isr(f->e);

	memcpy(D, f->delta, sizeof(D));
	TRACE("drain: more %d calls %llu bytes %llu irqs %u isr %#x%s\n",
	      more, (unsigned long long)f->calls,
	      (unsigned long long)f->bytes, f->irqs, isr,
	      racing ? " (racing)" : "");
	for (i = 0; i < NCTR; i++)
		if (D[i])
			TRACE("  %s +%llu\n", ctr_names[i],
			      (unsigned long long)D[i]);

	if (!f->live) {
		/* Before DRIVER_OK (or after a reset): nothing at all. */
		CHECK(!more && !f->commits && !f->calls && !f->irqs);
		check_visible(f);
		return;
	}
	CHECK(f->commits == 1);
	st.live++;
	if (!ran) {
		/* TX not ready or poisoned: a no-op, but a worker run. */
		CHECK(!more && !f->calls && !f->irqs && !f->pois_mask);
		for (i = 0; i < NCTR; i++)
			CHECK(D[i] == (i == C_(WORKER_RUNS)));
		check_visible(f);
		return;
	}

	/* Poisoning: once per transition, with CONFIG and NEEDS_RESET. */
	lost = f->lost;
	newly = poisoned_now(f, pre, D, ran);
	for (i = 0; i < NQ && !lost; i++)
		if (newly & (1U << i))
			CHECK(!pre[i].poisoned && pre[i].ready);
	CHECK(D[C_(INTERRUPTS)] == f->irqs && f->irqs <= 1);
	CHECK(D[C_(BUDGET_REQUEUES)] == more);
	CHECK(D[C_(WORKER_RUNS)] == 1 && !D[C_(KICKS)]);
	if (D[C_(INVALID_AVAIL_IDX_COUNT)]) {
		CHECK(f->irqs == 1 && (isr & VNETLOOP_ISR_CONFIG));
		CHECK(f->status_at_irq & VNETLOOP_STATUS_NEEDS_RESET);
	}
	/* InterruptStatus only gains bits, all set before the interrupt. */
	CHECK((isr & isr0) == isr0 &&
	      !(isr & ~(VNETLOOP_ISR_VRING | VNETLOOP_ISR_CONFIG)));
	if (f->irqs)
		CHECK(f->isr_at_irq == isr);
	else
		CHECK(isr == isr0);
	if (D[C_(INVALID_AVAIL_IDX_COUNT)])
		f->status |= VNETLOOP_STATUS_NEEDS_RESET;
	CHECK(vnl_engine_status(f->e) == f->status);
	f->isr = isr;
	if (f->lost) {
		st.lost++;
		return;	/* until a reset, only what holds for any state */
	}
	st.racing += racing;

	check_accounting(f, pre, D, more, newly, &popped, &rx_popped, added);
	/* An interrupt without a poisoning: some used ring advanced. */
	if (f->irqs && !newly)
		CHECK(added[TXQ] || added[RXQ]);

	if (!racing && !no_model) {
		memset(&sim, 0, sizeof(sim));
		sim.f = f;
		memcpy(sim.q, pre, sizeof(sim.q));
		sim_drain(&sim);
		if (sim.stop) {
			TRACE("  (the model stops: %s)\n", sim.stop);
			st.stopped++;
		} else {
			st.followed++;
			st.tainted += taint_any;
			for (i = 0; i < NCTR; i++) {
				if (D[i] == sim.d[i])
					continue;
				fprintf(stderr, "vnl_fuzz: %s +%llu, the model says +%llu\n",
					ctr_names[i], (unsigned long long)D[i],
					(unsigned long long)sim.d[i]);
				CHECK(!"counters as the model counts them");
			}
			CHECK(more == sim.more);
			CHECK(isr == (isr0 | sim.raise));
			CHECK(f->irqs == !!sim.raise);
			CHECK(newly == sim.newly);
			compare_memory(f);
			followed = true;
		}
	}

	if (followed) {
		memcpy(f->q, sim.q, sizeof(f->q));
	} else {
		/* Positions from the counters; what was read is unknown. */
		struct mq *tx = &f->q[TXQ], *rx = &f->q[RXQ];

		tx->pos += popped;
		rx->pos += rx_popped;
		for (i = 0; i < NQ; i++) {
			f->q[i].used_idx += added[i];
			if (added[i]) {
				f->q[i].sig_used = f->q[i].used_idx;
				f->q[i].sig_valid = true;
			}
			if (newly & (1U << i))
				f->q[i].poisoned = true;
		}
		if (!more && !(newly & (1U << TXQ)))
			tx->seen = tx->pos;	/* it found the ring empty */
		else
			tx->synced = false;
		if (popped - D[C_(TX_CHAIN_INVALID)] -
		    D[C_(TX_OVERSIZE_DROPPED)] && !rx->poisoned)
			rx->synced = false;
	}
	check_visible(f);
	check_avail_event(f, pre, ran, more, D, ae_before, added);
}

/* ---- setup ---- */

/*
 * Mostly small (clearing memory is a good part of each run); long chains
 * over the same bytes still make frames up to and past the cap.
 */
static const u64 r0_sizes[] = { 0x1000, 0x2000, 0x4000, MEM_MAX };

/*
 * sel: bits 0-1 where region 0 lies, 2-3 its size, 4-5 region 1 (none,
 * adjacent below, a hole above, or as the extra byte says), 6 also try bad
 * tables. Kind 3 reads lay: bits 0-1 where region 1 lies, 2-7 the table
 * shape (build_table()).
 */
static void build_memory(struct fz *f)
{
	u8 sel = get8(f), fill = get8(f), lay;
	u64 size = r0_sizes[(sel >> 2) & 3], base;
	struct chunk *r1 = &f->ch[1];
	unsigned int i;

	switch (sel & 3) {
	case 0:
		base = 0;
		break;
	case 1:
		base = 0x100000;
		break;
	case 2:
		base = 0xfffff0000000ULL;
		break;
	default:	/* ends exactly at 2^64 */
		base = 0 - size;
		break;
	}
	f->ch[0].gpa = base;
	f->ch[0].size = size;
	f->ch[0].off = R0_END - size;
	f->nch = 1;
	r1->size = R1_SIZE;
	r1->off = R1_FAR;
	switch ((sel >> 4) & 3) {
	case 1:		/* adjacent below: buffers may span both */
		if (base >= R1_SIZE) {
			r1->gpa = base - R1_SIZE;
			f->nch = 2;
		}
		break;
	case 2:		/* a one-page hole above */
		if (base + size + 2 * R1_SIZE > base) {
			r1->gpa = base + size + R1_SIZE;
			f->nch = 2;
		}
		break;
	case 3:
		lay = get8(f);
		f->tab_shape = lay >> 2;
		switch (lay & 3) {
		case 0:	/* right after, in both spaces: merged */
			r1->gpa = base + size;
			r1->off = R0_END;
			break;
		case 1:	/* right before, in both spaces: merged */
			r1->gpa = base - R1_SIZE;
			r1->off = R0_END - size - R1_SIZE;
			break;
		case 2:	/* after in host space, a hole in guest space */
			r1->gpa = base + size + R1_SIZE;
			r1->off = R0_END;
			break;
		default: /* right after in guest space only */
			r1->gpa = base + size;
			break;
		}
		/* Not where guest space ends or wraps. */
		if (!overlaps(r1->gpa, R1_SIZE, base, size) &&
		    r1->gpa + R1_SIZE - 1 >= r1->gpa)
			f->nch = 2;
		break;
	default:
		break;
	}
	for (i = 0; i < f->nch; i++) {
		f->ch[i].inst = true;
		ASAN_UNPOISON_MEMORY_REGION(arena + f->ch[i].off,
					    f->ch[i].size);
		memset(arena + f->ch[i].off, fill, f->ch[i].size);
	}
	build_table(f, f->tab_shape);
	if (sel & 0x40) {
		f->bad_check = true;
		f->bad_sel = sel >> 7 | fill << 1;
		f->bad_off = get16(f);
	}
}

static void run(struct fz *f)
{
	u8 start, op;
	unsigned int n;

	start = get8(f);
	/* start: bit 0 no DRIVER_OK, 1-2 queues left out, 3 no ->poisoned */
	f->poison_cb = !(start & 8);
	vnl_engine_init(f->e, f->poison_cb ? &fz_ops : &fz_ops_nopoison, f,
			NULL);
	install_table(f);
	if (f->bad_check)
		check_bad_tables(f, f->bad_sel, f->bad_off);
	for (n = 0; n < NQ; n++)
		mq_init(&f->q[n]);
	f->budget_p = VNL_BUDGET_PACKETS;
	f->budget_b = VNL_BUDGET_BYTES;
	check_visible(f);

	do_set_features(f, get8(f), get8(f));
	setup_vrings(f, start >> 1);
	set_budget(f, get8(f));
	if (!(start & 1))
		do_start(f);

	for (n = 0; n < MAX_OPS && f->pos < f->len; n++) {
		op = get8(f);
		TRACE("op %u\n", op % NUM_OPS);
		switch (op % NUM_OPS) {
		case OP_DRAIN:
			do_drain(f);
			break;
		case OP_TX_POST:
		case OP_TX_POST2:
			guest_post(f, TXQ);
			break;
		case OP_RX_POST:
		case OP_RX_POST2:
			guest_post(f, RXQ);
			break;
		case OP_AVAIL_IDX:
			guest_avail_idx(f);
			break;
		case OP_POKE:
			guest_poke(f);
			break;
		case OP_NOTIFY:
			guest_notify(f);
			break;
		case OP_RESET:
			do_reset(f);
			break;
		case OP_SETUP:		/* what a driver does after a reset */
			op = get8(f);
			do_reset(f);
			do_set_features(f, op, get8(f));
			setup_vrings(f, 0);
			if (!(op & 0x20))
				guest_zero_rings(f);
			do_start(f);
			break;
		case OP_SET_VRING:
			setup_vrings(f, get8(f) % 3);
			break;
		case OP_SET_FEATURES:
			do_set_features(f, get8(f), get8(f));
			break;
		case OP_START:
			do_start(f);
			break;
		case OP_BUDGET:
			set_budget(f, get8(f));
			break;
		case OP_SET_MEM:
			op_set_mem(f);
			break;
		default:
			guest_race(f);
			break;
		}
	}
	/* Whatever state it was left in, one last drain must hold up. */
	f->drains = 0;
	do_drain(f);
}

static void print_stats(void)
{
	fprintf(stderr, "vnl_fuzz: %llu drains, %llu live, %llu racing\n",
		(unsigned long long)st.drains, (unsigned long long)st.live,
		(unsigned long long)st.racing);
	fprintf(stderr, "vnl_fuzz: %llu replayed (%llu with unknown bytes)\n",
		(unsigned long long)st.followed,
		(unsigned long long)st.tainted);
	fprintf(stderr, "vnl_fuzz: %llu replays stopped, %llu drains lost\n",
		(unsigned long long)st.stopped, (unsigned long long)st.lost);
	fprintf(stderr, "vnl_fuzz: avail_event %llu (EVENT_IDX) %llu (still)\n",
		(unsigned long long)st.ae_event,
		(unsigned long long)st.ae_still);
	fprintf(stderr, "vnl_fuzz: %llu region table changes\n",
		(unsigned long long)st.set_mem);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *t = getenv("VNL_FUZZ_TRACE");
	const char *m = getenv("VNL_FUZZ_NO_MODEL");
	const char *t2 = getenv("VNL_FUZZ_STATS");

	(void)argc;
	(void)argv;
	trace = t && *t && *t != '0';
	no_model = m && *m && *m != '0';
	if (t2 && *t2 && *t2 != '0')
		atexit(print_stats);
	/* Page-aligned: host addresses keep the alignment of guest ones. */
	arena = aligned_alloc(4096, ARENA);
	sarena = malloc(ARENA);
	tarena = calloc(1, ARENA);
	if (!arena || !sarena || !tarena) {
		perror("vnl_fuzz: allocating guest memory");
		exit(1);
	}
	vnl_test_access = fz_access;
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fz f = { .in = data, .len = size };

	cur = &f;
	/* Its own allocation, so ASan sees a step past the struct. */
	f.e = malloc(sizeof(*f.e));
	if (f.e) {
		ASAN_POISON_MEMORY_REGION(arena, ARENA);
		build_memory(&f);
		run(&f);
	}
	free(f.e);
	cur = NULL;
	return 0;
}
