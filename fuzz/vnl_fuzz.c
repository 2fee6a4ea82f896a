// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the ring engine (core/vnl_engine.c, core/vnl_region.c).
 *
 * The input is a small program. A header picks the guest memory (one or two
 * regions, possibly at the top of the 64-bit space), the queue geometry and
 * the features; then come guest actions (post TX/RX chains, move avail->idx,
 * poke ring bytes, race the device from inside its memory accesses) and
 * device calls (drain, reset, set_vring, set_features, start, budget).
 *
 * The engine reaches guest memory only through the ops below: each access is
 * translated with vnl_region_find(), which must agree with our own table, so
 * every copy stays inside our buffers (which ASan guards too). A write that
 * runs off the end of backed memory copies what it can and then fails, as
 * copy_to_user() does.
 *
 * Checks, any of which prints what failed and traps so libFuzzer keeps the
 * input:
 * - after every drain, the accounting of SPEC 2-3: counter deltas against
 *   the chains popped and completed, work bounded by budget and queue size,
 *   poisoning once per transition and sticky until reset, no-op drains
 *   before DRIVER_OK or once TX is poisoned, interrupt suppression;
 * - at every used entry the engine publishes, our own reading of the chain
 *   from the contract: the TX verdict (valid, invalid, oversize) and frame
 *   bytes, the RX header and frame bytes, a header zeroed again when an RX
 *   chain is returned unused. These run only while memory held still (no
 *   racing guest, no engine write over what is compared).
 *
 * VNL_FUZZ_TRACE=1 narrates a replayed input.
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
 * One drain may legitimately make ~130k memory calls (256 chains of 256
 * descriptors each). Past CALL_CAP calls in one input, guest memory goes
 * away: every access fails as an unbacked one would, so the engine soon
 * stops. That drain skips the checks that rely on memory contents and the
 * input gets no further drain; every run stays cheap enough for the smoke.
 */
#define CALL_CAP	4096
#define WLOG_MAX	512
#define NQ		VNETLOOP_NUM_QUEUES
#define RXQ		VNETLOOP_QUEUE_RX
#define TXQ		VNETLOOP_QUEUE_TX
#define NCTR		VNETLOOP_NUM_SPEC_COUNTERS
#define FRAME_CAP	((u64)VNL_NET_HDR_LEN + VNL_MAX_FRAME_SIZE)

enum {
	OP_DRAIN, OP_TX_POST, OP_RX_POST, OP_AVAIL_IDX, OP_POKE, OP_NOTIFY,
	OP_RESET, OP_SETUP, OP_SET_VRING, OP_SET_FEATURES, OP_START,
	OP_BUDGET, OP_RACE, OP_DRAIN2, OP_TX_POST2, OP_RX_POST2, NUM_OPS
};

struct fz {
	const u8 *in;
	size_t len, pos;

	struct vnl_region reg[2];
	unsigned int nreg;
	u8 *mem[2];
	u64 buf_lo, buf_len;	/* region 0 past the default ring layout */

	struct vnl_dev *d;
	u64 ctr[NCTR];
	unsigned int commits;
	bool in_drain;
	u64 calls, bytes, writes;
	u64 work;		/* memory calls over the whole input */
	bool starved;		/* past CALL_CAP: every access fails */
	bool clobbered[NQ];	/* an engine write hit this avail ring */
	bool desc_clob[NQ];	/* ... or this descriptor table */

	/*
	 * Engine writes of the current drain, for the publish checks; a
	 * header-sized write keeps the bytes it replaced (old_ok bit i: byte
	 * i was backed).
	 */
	struct {
		u64 gpa;
		u32 len;
		u16 old_ok;
		u8 old[VNL_NET_HDR_LEN];
	} wlog[WLOG_MAX];
	unsigned int nlog;
	bool log_full;
	unsigned int mark;	/* wlog entries before the last publish */
	u64 last_gpa;		/* the previous write: a used element? */
	u32 last_len;
	u8 last_data[8];
	u64 rx_pub_pkts, rx_pub_bytes;	/* RX publishes with a frame */
	u64 tx_ok, tx_ok_bytes, tx_invalid, tx_oversize;	/* our verdicts */
	bool tx_unsure;		/* a TX publish we could not judge */
	bool pub_unsure;	/* a publish we could not attribute */

	u32 race_period, race_tick;
	u64 race_gpa;
	u8 race_xor;

	unsigned int drains;
};

static u8 *scratch;
/*
 * Backing for the two regions, allocated once: each run's region sits flush
 * against the end of its buffer and the unused front is poisoned, so ASan
 * still catches a step past either end without a malloc per run.
 */
#define MEM_MAX		0x11000
static u8 *backing[2];
static bool trace;	/* VNL_FUZZ_TRACE=1: narrate a replayed input */

#define TRACE(...)							\
	do {								\
		if (trace)						\
			fprintf(stderr, __VA_ARGS__);			\
	} while (0)

static const char *const ctr_names[] = VNETLOOP_COUNTER_NAMES;

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

/* Host address of gpa and the bytes left in its region, or NULL. */
static u8 *g_span(struct fz *f, u64 gpa, u64 *room)
{
	unsigned int i;

	for (i = 0; i < f->nreg; i++) {
		if (gpa >= f->reg[i].gpa && gpa - f->reg[i].gpa < f->reg[i].size) {
			*room = f->reg[i].size - (gpa - f->reg[i].gpa);
			return f->mem[i] + (gpa - f->reg[i].gpa);
		}
	}
	return NULL;
}

static u8 *g_byte(struct fz *f, u64 gpa)
{
	u64 room;

	return g_span(f, gpa, &room);
}

/* Guest stores to unbacked addresses go nowhere, as on real hardware. */
static void g_write(struct fz *f, u64 gpa, const void *src, u32 len)
{
	const u8 *s = src;
	u64 room;
	u8 *p;

	if (len && gpa + len - 1 < gpa)
		len = (u32)(0 - gpa);	/* stores stop at the top of memory */
	while (len) {
		p = g_span(f, gpa, &room);
		if (!p) {
			room = 1;
		} else {
			if (room > len)
				room = len;
			memcpy(p, s, room);
		}
		s += room;
		gpa += room;
		len -= room;
	}
}

/* A guest load; false if any byte is unbacked (or the range wraps). */
static bool g_read(struct fz *f, u64 gpa, void *dst, u32 len)
{
	u8 *o = dst, *p;
	u64 room;

	if (len && gpa + len - 1 < gpa)
		return false;
	while (len) {
		p = g_span(f, gpa, &room);
		if (!p)
			return false;
		if (room > len)
			room = len;
		memcpy(o, p, room);
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

static bool g_r16(struct fz *f, u64 gpa, u16 *v)
{
	u16 le;

	if (!g_read(f, gpa, &le, 2))
		return false;
	*v = le16_to_cpu(le);
	return true;
}

static bool g_mapped(struct fz *f, u64 gpa, u32 len)
{
	u8 tmp[2];

	return len <= sizeof(tmp) && g_read(f, gpa, tmp, len);
}

/* ---- the engine's memory ops ---- */

/*
 * vnl_region_find() must agree with the guest's own view: the same host
 * byte and the same room to the region's end, which keeps every copy made
 * from its answer inside our buffer for that region.
 */
static int translate(struct fz *f, u64 gpa, u64 *hva, u64 *room)
{
	int ret = vnl_region_find(f->reg, f->nreg, gpa, hva, room);
	u64 my_room = 0;
	u8 *p = g_span(f, gpa, &my_room);

	if (ret) {
		CHECK(ret == -EFAULT && !p);
		return ret;
	}
	CHECK(p && *hva == (u64)(uintptr_t)p && *room == my_room);
	return 0;
}

/*
 * A concurrent guest: every race_period-th access flips a byte of a ring
 * structure, so the engine sees memory change between two of its reads.
 */
static void race_step(struct fz *f)
{
	u8 *p;

	if (!f->race_period || ++f->race_tick % f->race_period)
		return;
	p = g_byte(f, f->race_gpa + (f->race_tick / f->race_period) % 4);
	if (p)
		*p ^= f->race_xor;
}

/* Count one engine access; true once the input is out of memory calls. */
static bool account(struct fz *f, u32 len)
{
	CHECK(f->in_drain);
	f->calls++;
	f->bytes += len;
	if (f->work + f->calls > CALL_CAP)
		f->starved = true;
	race_step(f);
	return f->starved;
}

static int fz_read(void *ctx, u64 gpa, void *dst, u32 len)
{
	struct fz *f = ctx;
	u8 *o = dst;
	u64 hva, room;

	/* A range that wraps past 2^64 is unbacked, whatever lies at 0. */
	if (account(f, len) || (len && gpa + len - 1 < gpa))
		return -EFAULT;
	while (len) {
		if (translate(f, gpa, &hva, &room))
			return -EFAULT;
		if (room > len)
			room = len;
		memcpy(o, (void *)(uintptr_t)hva, room);
		o += room;
		gpa += room;
		len -= room;
	}
	return 0;
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

/* ---- publish checks: each used entry the engine makes visible ---- */

/* Did an engine write in wlog[from, to) touch [gpa, gpa + len)? */
static bool written(const struct fz *f, unsigned int from, unsigned int to,
		    u64 gpa, u64 len)
{
	unsigned int i;

	if (f->log_full)
		return true;
	for (i = from; i < to; i++)
		if (overlaps(f->wlog[i].gpa, f->wlog[i].len, gpa, len))
			return true;
	return false;
}

struct chain {
	u32 n;
	u64 total;
	struct vnl_seg seg[VNETLOOP_QUEUE_SIZE_MAX];
};

enum { CH_OK, CH_BAD, CH_OVERSIZE };

/*
 * SPEC 2 step 1, from the contract rather than from the engine: walk the
 * chain at head as the device must see it. c keeps the segments walked so
 * far even when the chain turns out bad.
 */
static int walk(struct fz *f, const struct vnl_vq *vq, u16 head,
		bool device_writes, struct chain *c)
{
	u8 raw[VNL_DESC_SIZE];
	u16 i = head, flags, next;
	u64 addr;
	u32 len;

	c->n = 0;
	c->total = 0;
	for (;;) {
		if (i >= vq->num || c->n >= vq->num)
			return CH_BAD;	/* out of range, or a loop */
		if (!g_read(f, vq->desc + (u64)i * VNL_DESC_SIZE, raw, sizeof(raw)))
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
		if (!!(flags & VNL_DESC_F_WRITE) != device_writes)
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
	if (c->total < VNL_NET_HDR_LEN)
		return CH_BAD;
	if (!device_writes && c->total - VNL_NET_HDR_LEN > VNL_MAX_FRAME_SIZE)
		return CH_OVERSIZE;
	return CH_OK;
}

static bool g_range_mapped(struct fz *f, u64 gpa, u64 len)
{
	u64 room;

	while (len) {
		if (!g_span(f, gpa, &room))
			return false;
		if (room >= len)
			return true;
		gpa += room;
		len -= room;
	}
	return true;
}

/*
 * Byte off..off+n of the chain, one segment piece at a time: fn gets the
 * guest address and the piece length; false stops the walk.
 */
static bool chain_each(struct fz *f, const struct chain *c, u64 off, u64 n,
		       bool (*fn)(struct fz *f, u64 gpa, u64 at, u64 len,
				  const void *arg),
		       const void *arg)
{
	u64 at = 0, piece;
	u32 i;

	for (i = 0; i < c->n && n; i++) {
		if (off >= c->seg[i].len) {
			off -= c->seg[i].len;
			continue;
		}
		piece = c->seg[i].len - off;
		if (piece > n)
			piece = n;
		if (!fn(f, c->seg[i].addr + off, at, piece, arg))
			return false;
		at += piece;
		n -= piece;
		off = 0;
	}
	return !n;
}

/* The guest bytes of this piece equal arg[at..]. */
static bool piece_equal(struct fz *f, u64 gpa, u64 at, u64 len,
			const void *arg)
{
	const u8 *want = (const u8 *)arg + at;
	u64 room;
	u8 *p;

	while (len) {
		p = g_span(f, gpa, &room);
		if (!p)
			return false;
		if (room > len)
			room = len;
		if (memcmp(p, want, room))
			return false;
		gpa += room;
		want += room;
		len -= room;
	}
	return true;
}

static bool piece_unwritten(struct fz *f, u64 gpa, u64 at, u64 len,
			    const void *arg)
{
	(void)at;
	(void)arg;
	return !written(f, 0, f->nlog, gpa, len);
}

static bool piece_mapped(struct fz *f, u64 gpa, u64 at, u64 len,
			 const void *arg)
{
	(void)at;
	(void)arg;
	return g_range_mapped(f, gpa, len);
}

/*
 * What byte gpa held before this chain's writes: from the first of them
 * that covered it, or its current value if none did. False if unknown.
 */
static bool byte_before(struct fz *f, u64 gpa, u8 *v)
{
	unsigned int i;
	u8 *p;

	for (i = f->mark; i < f->nlog; i++) {
		u64 off = gpa - f->wlog[i].gpa;

		if (gpa < f->wlog[i].gpa || off >= f->wlog[i].len)
			continue;
		if (f->wlog[i].len > VNL_NET_HDR_LEN ||
		    !(f->wlog[i].old_ok & (1u << off)))
			return false;
		*v = f->wlog[i].old[off];
		return true;
	}
	p = g_byte(f, gpa);
	if (!p)
		return false;
	*v = *p;
	return true;
}

/*
 * A header byte of a chain returned unused: the engine either never wrote
 * it or zeroed it again, unless an earlier chain of this drain wrote there.
 */
static bool piece_rezeroed(struct fz *f, u64 gpa, u64 at, u64 len,
			   const void *arg)
{
	const struct vnl_vq *rx = arg;
	u64 i;
	u8 old;

	(void)at;
	for (i = 0; i < len; i++) {
		u8 *p = g_byte(f, gpa + i);

		if (!p || f->log_full || written(f, 0, f->mark, gpa + i, 1) ||
		    overlaps(gpa + i, 1, rx->used, VNL_USED_AVAIL_EVENT(rx->num) + 2) ||
		    !byte_before(f, gpa + i, &old))
			continue;
		CHECK(*p == 0 || *p == old);
	}
	return true;
}

static bool segs_disjoint(const struct chain *c, u32 max)
{
	u32 i, j;

	if (c->n > max)
		return false;
	for (i = 0; i < c->n; i++)
		for (j = 0; j < i; j++)
			if (overlaps(c->seg[i].addr, c->seg[i].len,
				     c->seg[j].addr, c->seg[j].len))
				return false;
	return true;
}

/* A TX chain completed: judge it ourselves, and check the frame copied. */
static void tx_published(struct fz *f, u32 id)
{
	const struct vnl_vq *vq = &f->d->vq[TXQ];
	struct chain c;
	u16 head;
	int v;

	if (f->race_period || f->starved || f->desc_clob[TXQ]) {
		f->tx_unsure = true;
		return;
	}
	/* The entry names the head that was popped last. */
	if (!f->clobbered[TXQ] &&
	    g_r16(f, vq->avail + VNL_AVAIL_RING((u16)(vq->last_avail - 1) &
					       (vq->num - 1)), &head))
		CHECK(id == head);
	v = walk(f, vq, id, false, &c);
	if (v == CH_OK && !chain_each(f, &c, 0, c.total, piece_mapped, NULL))
		v = CH_BAD;
	if (v == CH_BAD) {
		f->tx_invalid++;
	} else if (v == CH_OVERSIZE) {
		f->tx_oversize++;
	} else {
		f->tx_ok++;
		f->tx_ok_bytes += c.total - VNL_NET_HDR_LEN;
		/* The frame the engine holds is the guest's, byte for byte. */
		if (chain_each(f, &c, 0, c.total, piece_unwritten, NULL))
			CHECK(chain_each(f, &c, VNL_NET_HDR_LEN,
					 c.total - VNL_NET_HDR_LEN, piece_equal,
					 scratch));
	}
}

/* An RX chain completed: with the frame, or returned unused. */
static void rx_published(struct fz *f, u32 id, u32 len)
{
	static const u8 hdr[VNL_NET_HDR_LEN] = {
		[VNL_NET_HDR_NUM_BUFFERS] = 1,
	};
	const struct vnl_vq *vq = &f->d->vq[RXQ];
	struct chain c;
	u32 i;
	int v;

	CHECK(len == 0 || (len >= VNL_NET_HDR_LEN && len <= FRAME_CAP));
	if (len) {
		f->rx_pub_pkts++;
		f->rx_pub_bytes += len - VNL_NET_HDR_LEN;
	}
	if (f->race_period || f->starved || f->desc_clob[RXQ])
		return;
	v = walk(f, vq, id, true, &c);
	if (len) {
		/* Only a sound chain is filled, and never past its end. */
		CHECK(v == CH_OK && len <= c.total);
		if (!segs_disjoint(&c, 16))
			return;
		for (i = 0; i < c.n; i++)
			if (overlaps(c.seg[i].addr, c.seg[i].len, vq->used,
				     VNL_USED_AVAIL_EVENT(vq->num) + 2))
				return;
		CHECK(chain_each(f, &c, 0, VNL_NET_HDR_LEN, piece_equal, hdr));
		CHECK(chain_each(f, &c, VNL_NET_HDR_LEN, len - VNL_NET_HDR_LEN,
				 piece_equal, scratch));
	} else if (segs_disjoint(&c, 16)) {
		chain_each(f, &c, 0, c.total < VNL_NET_HDR_LEN ? c.total :
			   VNL_NET_HDR_LEN, piece_rezeroed, vq);
	}
}

/*
 * The engine publishes a used entry as an 8-byte element at the slot, then
 * the 2-byte index one past it. Spot that pair among the writes.
 */
static void on_written(struct fz *f, u64 gpa, const u8 *src, u32 len)
{
	unsigned int q, hits = 0, which = 0;
	u32 id, ulen;
	u16 v;

	if (len == 2 && f->last_len == 8) {
		memcpy(&v, src, 2);
		v = le16_to_cpu(v);
		for (q = 0; q < NQ; q++) {
			const struct vnl_vq *vq = &f->d->vq[q];

			if (vq->num && gpa == vq->used + VNL_USED_IDX &&
			    v == (u16)(vq->used_idx + 1) &&
			    f->last_gpa == vq->used +
			    VNL_USED_RING(vq->used_idx & (vq->num - 1))) {
				hits++;
				which = q;
			}
		}
		if (hits > 1)
			f->pub_unsure = true;
		if (hits == 1) {
			memcpy(&id, f->last_data, 4);
			memcpy(&ulen, f->last_data + 4, 4);
			id = le32_to_cpu(id);
			ulen = le32_to_cpu(ulen);
			CHECK(id < f->d->vq[which].num);
			if (which == TXQ) {
				CHECK(ulen == 0);
				tx_published(f, id);
			} else {
				rx_published(f, id, ulen);
			}
			f->mark = f->nlog;
		}
	}
	f->last_gpa = gpa;
	f->last_len = len;
	memcpy(f->last_data, src, len < 8 ? len : 8);
}

static int fz_write(void *ctx, u64 gpa, const void *src, u32 len)
{
	struct fz *f = ctx;
	const u8 *s = src;
	u64 hva, room, at = gpa;
	u32 n = len;
	unsigned int q;

	if (account(f, len) || (len && gpa + len - 1 < gpa)) {
		f->last_len = 0;
		return -EFAULT;
	}
	f->writes++;
	for (q = 0; q < NQ; q++) {
		const struct vnl_vq *vq = &f->d->vq[q];

		if (overlaps(gpa, len, vq->avail, VNL_AVAIL_USED_EVENT(vq->num) + 2))
			f->clobbered[q] = true;
		if (overlaps(gpa, len, vq->desc, (u64)vq->num * VNL_DESC_SIZE))
			f->desc_clob[q] = true;
	}
	if (f->nlog < WLOG_MAX) {
		f->wlog[f->nlog].gpa = gpa;
		f->wlog[f->nlog].len = len;
		f->wlog[f->nlog].old_ok = 0;
		for (q = 0; len <= VNL_NET_HDR_LEN && q < len; q++) {
			u8 *p = g_byte(f, gpa + q);

			if (p) {
				f->wlog[f->nlog].old[q] = *p;
				f->wlog[f->nlog].old_ok |= 1u << q;
			}
		}
		f->nlog++;
	} else {
		f->log_full = true;
	}
	while (len) {
		if (translate(f, gpa, &hva, &room)) {
			f->last_len = 0;	/* a failed write publishes nothing */
			return -EFAULT;
		}
		if (room > len)
			room = len;
		memcpy((void *)(uintptr_t)hva, s, room);
		s += room;
		gpa += room;
		len -= room;
	}
	on_written(f, at, src, n);
	return 0;
}

static void fz_commit(void *ctx, const u64 *delta)
{
	struct fz *f = ctx;
	unsigned int i;

	/* Counters move only inside a drain, once per drain. */
	CHECK(f->in_drain);
	f->commits++;
	for (i = 0; i < NCTR; i++) {
		CHECK(f->ctr[i] + delta[i] >= f->ctr[i]);
		f->ctr[i] += delta[i];
	}
}

static const struct vnl_ops fz_ops = {
	.read = fz_read,
	.write = fz_write,
	.commit = fz_commit,
};

/* ---- address and length menus ---- */

/* A gpa that no region backs. */
static u64 unmapped_gpa(struct fz *f, u16 off)
{
	u64 hi = 0, lo = UINT64_MAX, g;
	unsigned int i;

	for (i = 0; i < f->nreg; i++) {
		if (f->reg[i].gpa + f->reg[i].size - 1 > hi)
			hi = f->reg[i].gpa + f->reg[i].size - 1;
		if (f->reg[i].gpa < lo)
			lo = f->reg[i].gpa;
	}
	if (hi < UINT64_MAX - 0x20000)
		g = hi + 1 + off;
	else
		g = lo - 1 - off;
	return g_byte(f, g) ? 0xdead0000ULL + off : g;
}

static u64 pick_addr(struct fz *f, unsigned int cls, u16 off)
{
	const struct vnl_region *r0 = &f->reg[0];

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
		if (f->nreg > 1)
			return f->reg[1].gpa + off % f->reg[1].size;
		return r0->gpa + r0->size - 1 - (off & 0xff);
	case 5:	/* straddling the end of region 0 */
		return r0->gpa + r0->size - 1 - (off & 0x1f);
	case 6:		/* unbacked, or just below a region's first byte */
		if (off & 0x100)
			return f->reg[off & (f->nreg - 1)].gpa - 1 - (off & 7);
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
		return VNL_NET_HDR_LEN;
	case 2:
		return VNL_NET_HDR_LEN + (off & 0x7ff);
	case 3:
		return off;
	case 4:		/* the largest legal frame (with or without header) */
		return (off & 4 ? FRAME_CAP : VNL_MAX_FRAME_SIZE) - (off & 3);
	case 5:		/* one byte over the cap, plus a little */
		return (off & 4 ? FRAME_CAP : VNL_MAX_FRAME_SIZE) + 1 + (off & 3);
	case 6:
		return 0x80000000u + off;
	default:
		if (off & 0x8000)
			return get32(f);
		return UINT32_MAX - (off & 0xff);
	}
}

/* ---- device calls with their own contracts ---- */

static void model_reset_checks(struct fz *f)
{
	struct vnl_dev *d = f->d;
	unsigned int q;

	CHECK(!d->live && !d->features && !vnl_dev_needs_reset(d));
	for (q = 0; q < NQ; q++)
		CHECK(!d->vq[q].ready && !d->vq[q].poisoned &&
		      !d->vq[q].last_avail && !d->vq[q].used_idx);
}

static void do_reset(struct fz *f)
{
	u64 before[NCTR];

	memcpy(before, f->ctr, sizeof(before));
	vnl_dev_reset(f->d);
	model_reset_checks(f);
	/* Counters are never reset. */
	CHECK(!memcmp(before, f->ctr, sizeof(before)));
}

static void do_set_features(struct fz *f, u8 sel, u8 bad)
{
	u64 feat = 0, old = f->d->features;
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
			ret = vnl_dev_set_features(f->d, feat | extra);
			CHECK(ret == -EINVAL && f->d->features == old);
		}
	}
	ret = vnl_dev_set_features(f->d, feat);
	TRACE("set_features %#llx: %d\n", (unsigned long long)feat, ret);
	CHECK(ret == 0 && f->d->features == feat);
}

static const u32 bad_nums[] = { 0, 3, 6, 255, 257, 384, 512, 65536 };

static u32 pick_num(struct fz *f, u8 sel)
{
	u32 num;
	u64 gpa = f->reg[0].gpa;
	int ret;

	if ((sel & 0xf) <= 8)
		return 1u << (sel & 0xf);
	/* Sizes that are not a power of two in 1..256 are refused... */
	num = bad_nums[sel & 7];
	ret = vnl_dev_set_vring(f->d, sel >> 7, num, gpa, gpa, gpa);
	CHECK(ret == -EINVAL);
	/* ...and so are queues that do not exist. */
	ret = vnl_dev_set_vring(f->d, NQ + (sel & 1) * 1000, 1, gpa, gpa, gpa);
	CHECK(ret == -EINVAL);
	return 1u << ((sel >> 4) % 9);
}

/*
 * The default layout packs RX then TX rings at the start of region 0, the
 * way a driver allocates them; the rest of region 0 holds buffers.
 */
static void layout_default(struct fz *f, const u32 *num, u64 *ring)
{
	u64 at = f->reg[0].gpa;
	unsigned int q;

	for (q = 0; q < NQ; q++) {
		ring[3 * q] = at;
		at += (u64)num[q] * VNL_DESC_SIZE;
		ring[3 * q + 1] = at;
		at += VNL_AVAIL_USED_EVENT(num[q]) + 2;
		at = (at + 3) & ~3ULL;
		ring[3 * q + 2] = at;
		at += VNL_USED_AVAIL_EVENT(num[q]) + 2;
		at = (at + 15) & ~15ULL;
	}
	if (at - f->reg[0].gpa < f->reg[0].size) {
		f->buf_lo = at;
		f->buf_len = f->reg[0].size - (at - f->reg[0].gpa);
	} else {
		f->buf_lo = f->buf_len = 0;
	}
}

static u64 pick_ring_addr(struct fz *f, u8 cls, u64 dflt)
{
	u16 off = get16(f);

	switch (cls & 3) {
	case 0:
		return dflt;
	case 1:		/* misaligned, or shifted onto another ring */
		return dflt + (off & 0x3ff) - 0x200;
	default:
		return pick_addr(f, (off >> 13) ^ (cls >> 2), off);
	}
}

static void set_vring(struct fz *f, unsigned int q, u32 num, u64 desc,
		      u64 avail, u64 used)
{
	struct vnl_vq *vq = &f->d->vq[q];
	struct vnl_vq old = *vq;
	bool fits = desc + (u64)num * VNL_DESC_SIZE - 1 >= desc &&
		    avail + VNL_AVAIL_USED_EVENT(num) + 1 >= avail &&
		    used + VNL_USED_AVAIL_EVENT(num) + 1 >= used;
	int ret = vnl_dev_set_vring(f->d, q, num, desc, avail, used);

	TRACE("set_vring q%u num %u desc %#llx avail %#llx used %#llx: %d\n",
	      q, num, (unsigned long long)desc, (unsigned long long)avail,
	      (unsigned long long)used, ret);
	if (!ret) {
		CHECK(fits);
		CHECK(vq->num == num && vq->desc == desc &&
		      vq->avail == avail && vq->used == used && vq->ready);
		CHECK(!vq->poisoned && !vq->last_avail && !vq->used_idx);
	} else {
		/* A refused layout leaves the queue as it was. */
		CHECK(ret == -EINVAL && !fits);
		CHECK(!memcmp(&old, vq, sizeof(old)));
	}
}

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
			ring[i] = pick_ring_addr(f, cls >> (i & 3), ring[i]);
	}
	for (q = 0; q < NQ; q++)
		if (!(which & (1u << q)))
			set_vring(f, q, num[q], ring[3 * q], ring[3 * q + 1],
				  ring[3 * q + 2]);
}

/* ---- guest actions ---- */

static void write_desc(struct fz *f, const struct vnl_vq *vq, u16 i, u64 addr,
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
	const struct vnl_vq *vq = &f->d->vq[q];
	u16 head = get8(f), idx = 0, i, n, total, next, flags;
	u8 cnt = get8(f), shape = 0;
	u16 aoff = 0, loff = 0;
	u64 addr = 0;
	u32 len = 0;

	if (!vq->num)
		return;
	head &= vq->num - 1;
	n = 1 + (cnt & 3);
	/* cnt: bits 0-1 descriptors given, 2-5 repeats, 6 unpublished, 7 long */
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
			      i + 1 == total && i >= n ? " (last of repeat)" : "");
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
	const struct vnl_vq *vq = &f->d->vq[sel & 1];
	u16 v = get16(f), idx = 0;

	g_r16(f, vq->avail + VNL_AVAIL_IDX, &idx);
	switch ((sel >> 1) & 3) {
	case 0:
		idx += v & 0xf;
		break;
	case 1:		/* exactly num ahead: legal */
		idx = vq->last_avail + vq->num;
		break;
	case 2:		/* one past it: poisons */
		idx = vq->last_avail + vq->num + 1 + (v & 1);
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
	const struct vnl_vq *vq = &f->d->vq[sel & 1];
	u32 num = vq->num ? vq->num : 1;

	switch ((sel >> 1) & 3) {
	case 0:
		return vq->desc + off % (num * VNL_DESC_SIZE);
	case 1:
		return vq->avail + off % (VNL_AVAIL_USED_EVENT(num) + 2);
	case 2:
		return vq->used + off % (VNL_USED_AVAIL_EVENT(num) + 2);
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

/* Interrupt hints: avail flags and used_event near the used index. */
static void guest_notify(struct fz *f)
{
	u8 sel = get8(f);
	const struct vnl_vq *vq = &f->d->vq[sel & 1];
	u16 used = vq->used_idx;

	g_r16(f, vq->used + VNL_USED_IDX, &used);
	g_w16(f, vq->avail + VNL_AVAIL_FLAGS,
	      (sel & 2) ? VNL_AVAIL_F_NO_INTERRUPT : 0);
	g_w16(f, vq->avail + VNL_AVAIL_USED_EVENT(vq->num),
	      used + (int8_t)get8(f));
}

/* What a driver does with fresh rings: flags and indices start at zero. */
static void guest_zero_rings(struct fz *f)
{
	unsigned int q;

	for (q = 0; q < NQ; q++) {
		const struct vnl_vq *vq = &f->d->vq[q];

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

/* ---- the drain and its invariants ---- */

/* Could the engine legitimately have poisoned queue q where it stands? */
static bool poison_justified(struct fz *f, unsigned int q)
{
	const struct vnl_vq *vq = &f->d->vq[q];
	u16 idx;

	if (f->race_period || f->starved || f->clobbered[q])
		return true;
	if (!g_r16(f, vq->avail + VNL_AVAIL_IDX, &idx))
		return true;
	if ((u16)(idx - vq->last_avail) > vq->num)
		return true;
	return !g_mapped(f, vq->avail +
			 VNL_AVAIL_RING(vq->last_avail & (vq->num - 1)), 2);
}

static bool need_event(u16 event, u16 new_idx, u16 old)
{
	return (u16)(new_idx - event - 1) < (u16)(new_idx - old);
}

/* SPEC 2 interrupts, checked when memory held still during the drain. */
static void check_interrupt(struct fz *f, const struct vnl_vq *pre,
			    unsigned int ret)
{
	const struct vnl_dev *d = f->d;
	bool evidx = d->features & (1ULL << VNL_F_EVENT_IDX);
	bool must = false, may = false;
	unsigned int q;

	for (q = 0; q < NQ; q++) {
		const struct vnl_vq *vq = &d->vq[q];
		u16 v;

		if (vq->used_idx == pre[q].used_idx)
			continue;
		if (evidx) {
			if (!g_r16(f, vq->avail + VNL_AVAIL_USED_EVENT(vq->num),
				   &v) || !pre[q].signalled_valid ||
			    pre[q].signalled_used != pre[q].used_idx) {
				may = true;
				continue;
			}
			if (need_event(v, vq->used_idx, pre[q].used_idx))
				must = true;
		} else {
			if (!g_r16(f, vq->avail + VNL_AVAIL_FLAGS, &v)) {
				may = true;
				continue;
			}
			if (!(v & VNL_AVAIL_F_NO_INTERRUPT))
				must = true;
		}
	}
	if (must)
		CHECK(ret & VNETLOOP_ISR_VRING);
	if (!must && !may)
		CHECK(!(ret & VNETLOOP_ISR_VRING));
}

static void do_drain(struct fz *f)
{
	struct vnl_dev *d = f->d;
	struct vnl_vq pre[NQ];
	u64 before[NCTR], D[NCTR];
	bool active = d->live && d->vq[TXQ].ready && !d->vq[TXQ].poisoned;
	bool still;
	u32 budget_p = d->budget_packets, budget_b = d->budget_bytes;
	u32 txn = d->vq[TXQ].num, rxn = d->vq[RXQ].num;
	u16 popped, rx_popped, idx;
	u64 valid, rx_out, su, dtx_used, drx_used;
	unsigned int ret, i, npoison;

	if (f->drains++ >= MAX_DRAINS || f->starved)
		return;
	memcpy(pre, d->vq, sizeof(pre));
	memcpy(before, f->ctr, sizeof(before));
	f->commits = 0;
	f->calls = f->bytes = f->writes = 0;
	memset(f->clobbered, 0, sizeof(f->clobbered));
	memset(f->desc_clob, 0, sizeof(f->desc_clob));
	f->nlog = f->mark = f->last_len = 0;
	f->log_full = f->tx_unsure = f->pub_unsure = false;
	f->rx_pub_pkts = f->rx_pub_bytes = 0;
	f->tx_ok = f->tx_ok_bytes = f->tx_invalid = f->tx_oversize = 0;

	f->in_drain = true;
	ret = vnl_drain(d);
	f->in_drain = false;
	f->work += f->calls;

	for (i = 0; i < NCTR; i++)
		D[i] = f->ctr[i] - before[i];
	popped = d->vq[TXQ].last_avail - pre[TXQ].last_avail;
	rx_popped = d->vq[RXQ].last_avail - pre[RXQ].last_avail;
	dtx_used = (u16)(d->vq[TXQ].used_idx - pre[TXQ].used_idx);
	drx_used = (u16)(d->vq[RXQ].used_idx - pre[RXQ].used_idx);
	still = !f->race_period && !f->starved;
	TRACE("drain: ret %#x popped %u rx_popped %u calls %llu bytes %llu\n",
	      ret, popped, rx_popped, (unsigned long long)f->calls,
	      (unsigned long long)f->bytes);
	for (i = 0; i < NCTR; i++)
		if (D[i])
			TRACE("  %s +%llu\n", ctr_names[i], (unsigned long long)D[i]);

	/* One result word, made of known bits; one commit at most. */
	CHECK(!(ret & ~(VNL_DRAIN_ISR_MASK | VNL_DRAIN_MORE |
			VNL_DRAIN_POISONED_RX | VNL_DRAIN_POISONED_TX)));
	CHECK(f->commits <= 1);
	/* The drain never reconfigures a queue. */
	for (i = 0; i < NQ; i++)
		CHECK(d->vq[i].num == pre[i].num && d->vq[i].desc == pre[i].desc &&
		      d->vq[i].avail == pre[i].avail &&
		      d->vq[i].used == pre[i].used && d->vq[i].ready == pre[i].ready);

	if (!active) {
		/* Not live, TX not ready, or TX poisoned: a no-op. */
		CHECK(ret == 0 && f->calls == 0 && f->commits == 0);
		CHECK(!memcmp(pre, d->vq, sizeof(pre)));
		return;
	}

	/* Work is bounded by the budget and by the queue sizes. */
	CHECK(popped <= budget_p);
	CHECK(f->calls <= (u64)popped * (2 * (txn + rxn) + 48) + 16);
	CHECK(f->bytes <= (u64)popped * (2 * FRAME_CAP +
					  VNL_DESC_SIZE * (txn + rxn) + 64) + 64);
	CHECK(D[VNETLOOP_C_TX_BYTES] < (u64)budget_b + VNL_MAX_FRAME_SIZE + 1);

	/* Every counter but the byte counts moves by at most one per chain. */
	for (i = 0; i < NCTR; i++) {
		if (i == VNETLOOP_C_TX_BYTES || i == VNETLOOP_C_RX_BYTES)
			continue;
		if (i == VNETLOOP_C_INVALID_AVAIL_IDX_COUNT)
			CHECK(D[i] <= 2);
		else
			CHECK(D[i] <= popped);
	}
	CHECK(D[VNETLOOP_C_TX_BYTES] <= D[VNETLOOP_C_TX_PACKETS] * VNL_MAX_FRAME_SIZE);
	CHECK(D[VNETLOOP_C_RX_BYTES] <= D[VNETLOOP_C_RX_PACKETS] * VNL_MAX_FRAME_SIZE);

	/* TX: one verdict per popped chain, or a used-ring failure instead. */
	su = D[VNETLOOP_C_TX_PACKETS] + D[VNETLOOP_C_TX_CHAIN_INVALID] +
	     D[VNETLOOP_C_TX_OVERSIZE_DROPPED];
	CHECK(su <= popped && popped <= su + D[VNETLOOP_C_TX_ADD_USED_FAILURES]);
	/* Every popped TX chain is completed, or its completion failed. */
	CHECK(dtx_used + D[VNETLOOP_C_TX_ADD_USED_FAILURES] == popped);

	/* RX: each valid frame has one fate. */
	valid = popped - D[VNETLOOP_C_TX_CHAIN_INVALID] -
		D[VNETLOOP_C_TX_OVERSIZE_DROPPED];
	rx_out = D[VNETLOOP_C_TX_DROPPED_NO_RX_BUFFER] +
		 D[VNETLOOP_C_TX_DROPPED_RX_POISONED] +
		 D[VNETLOOP_C_RX_CHAIN_INVALID] + D[VNETLOOP_C_RX_WRITE_FAILED] +
		 D[VNETLOOP_C_RX_PACKETS];
	CHECK(rx_out <= valid);
	CHECK(D[VNETLOOP_C_TX_PACKETS] <= rx_out + D[VNETLOOP_C_RX_ADD_USED_FAILURES]);
	CHECK(rx_popped <= valid);
	CHECK(drx_used + D[VNETLOOP_C_RX_ADD_USED_FAILURES] == rx_popped);
	CHECK(D[VNETLOOP_C_RX_PACKETS] <= drx_used);
	CHECK(drx_used <= D[VNETLOOP_C_RX_PACKETS] + D[VNETLOOP_C_RX_CHAIN_INVALID] +
			  D[VNETLOOP_C_RX_WRITE_FAILED]);
	if (pre[RXQ].poisoned || !pre[RXQ].ready)
		CHECK(rx_popped == 0 && drx_used == 0 &&
		      D[VNETLOOP_C_RX_PACKETS] == 0 &&
		      D[VNETLOOP_C_RX_CHAIN_INVALID] == 0 &&
		      D[VNETLOOP_C_RX_WRITE_FAILED] == 0 &&
		      D[VNETLOOP_C_RX_ADD_USED_FAILURES] == 0);
	if (pre[RXQ].poisoned)
		CHECK(D[VNETLOOP_C_TX_DROPPED_NO_RX_BUFFER] == 0);
	if (!pre[RXQ].ready)
		CHECK(D[VNETLOOP_C_TX_DROPPED_RX_POISONED] == 0);

	/* Poisoning: once per transition, with CONFIG, and it sticks. */
	npoison = !!(ret & VNL_DRAIN_POISONED_RX) + !!(ret & VNL_DRAIN_POISONED_TX);
	CHECK(D[VNETLOOP_C_INVALID_AVAIL_IDX_COUNT] == npoison);
	CHECK(!!(ret & VNETLOOP_ISR_CONFIG) == !!npoison);
	for (i = 0; i < NQ; i++) {
		unsigned int bit = i == TXQ ? VNL_DRAIN_POISONED_TX :
					      VNL_DRAIN_POISONED_RX;

		CHECK(d->vq[i].poisoned == (pre[i].poisoned || (ret & bit)));
		if (ret & bit)
			CHECK(!pre[i].poisoned && poison_justified(f, i));
	}
	CHECK(vnl_dev_needs_reset(d) == (d->vq[RXQ].poisoned || d->vq[TXQ].poisoned));

	/* Every frame counted was published, and every byte counted too. */
	CHECK(D[VNETLOOP_C_TX_PACKETS] <= dtx_used);
	if (!f->pub_unsure)
		CHECK(D[VNETLOOP_C_RX_PACKETS] == f->rx_pub_pkts &&
		      D[VNETLOOP_C_RX_BYTES] == f->rx_pub_bytes);
	/* Our own verdicts on the completed TX chains match the counters. */
	if (!f->pub_unsure && !f->tx_unsure) {
		CHECK(D[VNETLOOP_C_TX_PACKETS] == f->tx_ok &&
		      D[VNETLOOP_C_TX_BYTES] == f->tx_ok_bytes);
		CHECK(D[VNETLOOP_C_TX_CHAIN_INVALID] >= f->tx_invalid &&
		      D[VNETLOOP_C_TX_OVERSIZE_DROPPED] >= f->tx_oversize);
		if (!D[VNETLOOP_C_TX_ADD_USED_FAILURES])
			CHECK(D[VNETLOOP_C_TX_CHAIN_INVALID] == f->tx_invalid &&
			      D[VNETLOOP_C_TX_OVERSIZE_DROPPED] == f->tx_oversize);
	}

	/* An interrupt only when a used ring advanced. */
	if (ret & VNETLOOP_ISR_VRING)
		CHECK(dtx_used || drx_used);
	if (ret & VNL_DRAIN_MORE)
		CHECK(popped > 0 && !(ret & VNL_DRAIN_POISONED_TX));

	if (!still)
		return;
	/* Memory held still: the TX ring is empty unless the budget ran out. */
	if (!(ret & (VNL_DRAIN_MORE | VNL_DRAIN_POISONED_TX))) {
		CHECK(g_r16(f, d->vq[TXQ].avail + VNL_AVAIL_IDX, &idx));
		CHECK(idx == d->vq[TXQ].last_avail);
	}
	if (ret & VNL_DRAIN_MORE) {
		/* Work left as of the last avail->idx read (a guest may move it). */
		CHECK(d->vq[TXQ].avail_idx != d->vq[TXQ].last_avail);
		CHECK(popped >= budget_p ||
		      D[VNETLOOP_C_TX_BYTES] + D[VNETLOOP_C_TX_ADD_USED_FAILURES] *
		      (u64)VNL_MAX_FRAME_SIZE >= budget_b);
	}
	if (!npoison)
		check_interrupt(f, pre, ret);
}

/* ---- setup ---- */

/* Mostly small (clearing memory is a good part of each run); long chains
 * over the same bytes still make frames up to and past the cap. */
static const u64 r0_sizes[] = { 0x1000, 0x2000, 0x4000, MEM_MAX };

/* Tables that vnl_regions_check() must refuse. */
static void check_bad_tables(struct fz *f, u8 sel, u16 off)
{
	struct vnl_region bad[3];

	memcpy(bad, f->reg, sizeof(f->reg));
	switch (sel & 3) {
	case 0:		/* overlapping */
		bad[f->nreg] = f->reg[0];
		bad[f->nreg].gpa += off % f->reg[0].size;
		bad[f->nreg].size = 1 + (off & 0xff);
		break;
	case 1:		/* empty */
		bad[f->nreg] = f->reg[0];
		bad[f->nreg].gpa = unmapped_gpa(f, off);
		bad[f->nreg].size = 0;
		break;
	default:	/* wrapping past 2^64 */
		bad[f->nreg].gpa = UINT64_MAX - (off & 0xfff);
		bad[f->nreg].size = 0x2000;
		bad[f->nreg].hva = 0x1000;
		break;
	}
	CHECK(vnl_regions_check(bad, f->nreg + 1) == -EINVAL);
}

static void build_memory(struct fz *f)
{
	u8 sel = get8(f), fill = get8(f);
	u64 size = r0_sizes[(sel >> 2) & 3], base;
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
	f->reg[0].gpa = base;
	f->reg[0].size = size;
	f->nreg = 1;
	switch ((sel >> 4) & 3) {
	case 1:		/* adjacent below: accesses may span both */
		if (base >= 0x1000) {
			f->reg[1].gpa = base - 0x1000;
			f->reg[1].size = 0x1000;
			f->nreg = 2;
		}
		break;
	case 2:		/* a one-page hole above */
		if (base + size + 0x2000 > base) {
			f->reg[1].gpa = base + size + 0x1000;
			f->reg[1].size = 0x1000;
			f->nreg = 2;
		}
		break;
	default:
		break;
	}
	for (i = 0; i < 2; i++) {
		u64 sz = i < f->nreg ? f->reg[i].size : 0;

		f->mem[i] = backing[i] + MEM_MAX - sz;
		ASAN_POISON_MEMORY_REGION(backing[i], MEM_MAX - sz);
		ASAN_UNPOISON_MEMORY_REGION(f->mem[i], sz);
		memset(f->mem[i], fill, sz);
		f->reg[i].hva = (u64)(uintptr_t)f->mem[i];
	}
	for (i = 0; i < f->nreg; i++)
		TRACE("region %u: gpa %#llx size %#llx\n", i,
		      (unsigned long long)f->reg[i].gpa,
		      (unsigned long long)f->reg[i].size);
	CHECK(vnl_regions_check(f->reg, f->nreg) == 0);
	if (sel & 0x40)
		check_bad_tables(f, sel >> 7 | fill << 1, get16(f));
}

static const u32 budget_pkts[] = { 1, 2, 3, 8, 32, 256, VNL_BUDGET_PACKETS, 1000 };
static const u32 budget_bytes[] = { 1, 60, 1500, 4096, 65536, 65557, 65558,
				    VNL_BUDGET_BYTES };

static void set_budget(struct fz *f, u8 sel)
{
	f->d->budget_packets = budget_pkts[sel & 7];
	f->d->budget_bytes = budget_bytes[(sel >> 3) & 7];
}

static void run(struct fz *f)
{
	u8 start, op;
	unsigned int n;

	start = get8(f);
	do_set_features(f, get8(f), get8(f));
	setup_vrings(f, start >> 1);
	set_budget(f, get8(f));
	if (!(start & 1))
		vnl_dev_start(f->d);

	for (n = 0; n < MAX_OPS && f->pos < f->len; n++) {
		op = get8(f);
		TRACE("op %u\n", op % NUM_OPS);
		switch (op % NUM_OPS) {
		case OP_DRAIN:
		case OP_DRAIN2:
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
			vnl_dev_start(f->d);
			break;
		case OP_SET_VRING:
			setup_vrings(f, get8(f) % 3);
			break;
		case OP_SET_FEATURES:
			do_set_features(f, get8(f), get8(f));
			break;
		case OP_START:
			vnl_dev_start(f->d);
			break;
		case OP_BUDGET:
			set_budget(f, get8(f));
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

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *t = getenv("VNL_FUZZ_TRACE");

	(void)argc;
	(void)argv;
	trace = t && *t && *t != '0';
	/* Exactly the size the engine may use, so ASan sees any overrun. */
	scratch = malloc(VNL_MAX_FRAME_SIZE);
	backing[0] = malloc(MEM_MAX);
	backing[1] = malloc(MEM_MAX);
	if (!scratch || !backing[0] || !backing[1]) {
		perror("vnl_fuzz: allocating guest memory");
		exit(1);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fz f = { .in = data, .len = size };

	/* Its own allocation, so ASan sees a step past the struct. */
	f.d = malloc(sizeof(*f.d));
	if (f.d) {
		build_memory(&f);
		vnl_dev_init(f.d, &fz_ops, &f, scratch);
		model_reset_checks(&f);
		run(&f);
	}
	free(f.d);
	return 0;
}
