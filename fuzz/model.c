// SPDX-License-Identifier: GPL-2.0
/*
 * The independent model of the device: for a drain in which guest memory
 * held still (no racing guest, not starved), replay the drain from the
 * rules below on a snapshot of guest memory taken before it, and compare
 * with what the engine did: return value, every counter delta (but
 * drain_ns, a time, which drain.c checks on the harness's clock), the
 * interrupt, InterruptStatus, the poisoned queues and every byte of guest
 * memory. It shares no code with core/; its rules are the device's, as
 * Documentation/engine.rst and core/vnl_mem.h state them:
 * - a ring (descriptor table num * 16 bytes, avail 6 + 2 * num with
 *   used_event, used 6 + 8 * num with avail_event) is backed only if it lies
 *   inside one region after merging (memory.c). Descriptor table unbacked:
 *   every chain of that queue is invalid. Avail unbacked: the queue is
 *   poisoned when the device first needs an entry. Used unbacked: every
 *   used entry fails (*_add_used_failures);
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
 * - the drain stops before a chain once the packet or byte budget is spent
 *   or VNL_DRAIN_DESCS_MAX descriptors have been walked;
 * - interrupt: one decision per drain after the publishes, per queue that
 *   advanced: EVENT_IDX honours used_event (the first decision after
 *   set_vring or reset always fires), else VRING_AVAIL_F_NO_INTERRUPT; a hint
 *   that cannot be read fires;
 * - EVENT_IDX: when the TX ring is found empty, avail_event := the TX
 *   position, then avail->idx is read once more.
 * Where the result depends on the engine's copy granularity (a frame copied
 * onto itself, two used->idx fields on the same bytes) the model marks the
 * bytes unknown (taint) rather than guessing; reading an unknown ring field
 * ends the replay, and drain.c then carries on from the counters.
 */
#include "vnl_fuzz.h"

/* A piece of a chain (a descriptor's buffer) in guest space. */
struct seg {
	u64 addr;
	u32 len;
};

/* A walked chain: its descriptors and their total length. */
struct chain {
	u32 n;
	u64 total;
	struct seg seg[VNETLOOP_QUEUE_SIZE_MAX];
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

u8 *sarena;		/* guest memory as the model has it */
u8 *tarena;		/* 1: the model does not know this byte */
static bool taint_any;	/* some byte is unknown */
static bool taint_dirty;	/* tarena needs clearing */
static struct sim sim;

/* The replay cannot go on; the first reason stays. */
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

/*
 * Poisoning: counted in invalid_avail_idx_count and signalled once per
 * transition; a queue already poisoned stays so silently.
 */
static void s_poison(struct sim *s, unsigned int q)
{
	if (s->q[q].poisoned)
		return;
	s->q[q].poisoned = true;
	s->newly |= 1U << q;
	s->d[C_(INVALID_AVAIL_IDX_COUNT)]++;
}

/*
 * Read avail->idx: the entries pending, or -1 once poisoned (or stopped).
 * An avail ring that is not backed, or an index more than num ahead of the
 * position, poisons the queue.
 */
static int s_refresh(struct sim *s, unsigned int q)
{
	struct mq *mq = &s->q[q];
	u16 idx;

	if (!avail_ok(s->f, mq)) {
		s_poison(s, q);
		return -1;
	}
	if (!s_get16(s, mq->avail + offsetof(struct vring_avail, idx), &idx))
		return -1;
	if ((u16)(idx - mq->pos) > mq->num) {
		s_poison(s, q);
		return -1;
	}
	mq->seen = idx;
	return (u16)(idx - mq->pos);
}

/* The next head from the avail ring; a ring that is not backed poisons. */
static bool s_pop(struct sim *s, unsigned int q, u16 *head)
{
	struct mq *mq = &s->q[q];

	if (!avail_ok(s->f, mq)) {
		s_poison(s, q);
		return false;
	}
	if (!s_get16(s, mq->avail +
		     offsetof(struct vring_avail, ring[mq->pos & (mq->num - 1)]),
		     head))
		return false;
	mq->pos++;
	return true;
}

enum { CH_OK, CH_BAD, CH_OVERSIZE };

/*
 * Walk the chain at head. The descriptor table must be backed; every
 * index below num, at most num descriptors (more is a loop), each of the
 * queue's direction (device-writable on RX, readable on TX), none INDIRECT
 * (never negotiated) and none wrapping the address space; the chain must
 * hold at least the header. Anything else makes it invalid.
 */
static int s_walk_chain(struct sim *s, unsigned int q, u16 head,
			bool writable, struct chain *c)
{
	const struct mq *mq = &s->q[q];
	u8 raw[sizeof(struct vring_desc)];
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
		if (!s_get(s, mq->desc + (u64)i * sizeof(struct vring_desc),
			   raw, sizeof(raw)))
			return CH_BAD;
		memcpy(&addr, raw, 8);
		memcpy(&len, raw + 8, 4);
		memcpy(&flags, raw + 12, 2);
		memcpy(&next, raw + 14, 2);
		addr = le64_to_cpu(addr);
		len = le32_to_cpu(len);
		flags = le16_to_cpu(flags);
		if (flags & VRING_DESC_F_INDIRECT)	/* never negotiated */
			return CH_BAD;
		if (!!(flags & VRING_DESC_F_WRITE) != writable)
			return CH_BAD;
		if (len && addr + len - 1 < addr)
			return CH_BAD;
		c->seg[c->n].addr = addr;
		c->seg[c->n].len = len;
		c->n++;
		c->total += len;
		if (!(flags & VRING_DESC_F_NEXT))
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

/* Zero every header byte of chain c that is backed; skip the others. */
static void s_zero_header(struct sim *s, const struct chain *c)
{
	u64 gpa, off, room;
	u32 i, b, done = 0;

	for (i = 0; i < c->n && done < HDR; i++)
		for (b = 0; b < c->seg[i].len && done < HDR; b++, done++) {
			gpa = c->seg[i].addr + b;
			if (!g_find(s->f, gpa, &off, &room))
				continue;
			sarena[off] = 0;
			if (taint_any)
				tarena[off] = 0;
		}
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

/*
 * A used entry in slot used_idx & (num - 1); fails for a head out of range
 * or a used ring that is not backed.
 */
static bool s_add_used(struct sim *s, unsigned int q, u32 id, u32 len)
{
	struct mq *mq = &s->q[q];
	u64 slot;

	if (id >= mq->num || !used_ok(s->f, mq))
		return false;
	slot = mq->used +
	       offsetof(struct vring_used, ring[mq->used_idx & (mq->num - 1)]);
	s_put32(s, slot, id);
	s_put32(s, slot + 4, len);
	mq->used_idx++;
	s->added[q]++;
	return true;
}

/*
 * The valid TX frame of len bytes goes to the next RX chain. Dropped when
 * RX is not ready or has no chain (tx_dropped_no_rx_buffer), or is poisoned,
 * before or by this pop (tx_dropped_rx_poisoned). Else the RX chain is
 * walked and returned unused if invalid; then header and frame are written,
 * the frame truncated to the buffer.
 */
static void s_deliver(struct sim *s, u32 len)
{
	static const u8 hdr[HDR] = {
		[offsetof(struct virtio_net_hdr_v1, num_buffers)] = 1,
	};
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
		s_zero_header(s, &s->rx);
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

	/* Invalid wins over oversize: backing is judged first. */
	for (i = 0; v == CH_OK && i < s->tx.n; i++)
		if (s->tx.seg[i].len &&
		    !backed(s->f, s->tx.seg[i].addr, s->tx.seg[i].len))
			v = CH_BAD;
	if (v == CH_OK && s->tx.total - HDR > VNL_MAX_FRAME_SIZE)
		v = CH_OVERSIZE;
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

/* used->idx, for a queue that made entries; their packets and bytes count. */
static void s_publish(struct sim *s, unsigned int q)
{
	static const enum vnetloop_counter c[NQ][2] = {
		[RXQ] = { C_(RX_PACKETS), C_(RX_BYTES) },
		[TXQ] = { C_(TX_PACKETS), C_(TX_BYTES) },
	};
	struct mq *mq = &s->q[q];

	if (!s->added[q])
		return;
	s_put16(s, mq->used + offsetof(struct vring_used, idx), mq->used_idx);
	s->d[c[q][0]] += s->pend_p[q];
	s->d[c[q][1]] += s->pend_b[q];
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
		s_get16(s, mq->avail + offsetof(struct vring_avail, ring[mq->num]),
			&v);
		return vring_need_event(v, mq->used_idx, old);
	}
	s_get16(s, mq->avail + offsetof(struct vring_avail, flags), &v);
	return !(v & VRING_AVAIL_F_NO_INTERRUPT);
}

/*
 * The drain: pop TX chains until the ring is empty or poisoned or the budget
 * is spent, then publish both used rings and decide on the interrupt.
 */
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
						offsetof(struct vring_used, ring[tx->num]),
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
	    overlaps(s->q[RXQ].used + offsetof(struct vring_used, idx), 2,
		     tx->used + offsetof(struct vring_used, idx), 2)) {
		u64 off, room;

		for (q = 0; q < NQ; q++) {
			CHECK(g_find(f, s->q[q].used +
				     offsetof(struct vring_used, idx), &off,
				     &room));
			s_taint(off, 2);
		}
	}
	for (q = 0; q < NQ; q++)
		if (s_decide(s, q))
			s->raise |= VIRTIO_MMIO_INT_VRING;
out:
	if (s->newly)
		s->raise |= VIRTIO_MMIO_INT_CONFIG;
	if (s->raise)
		s->d[C_(INTERRUPTS)]++;
	if (s->more)
		s->d[C_(BUDGET_REQUEUES)]++;
}

/* The model's copy of guest memory as it is now, before a drain. */
void model_snapshot(struct fz *f)
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

/*
 * Replay the drain the engine just ran, from the queues it started with,
 * and compare. True when the model followed it to the end: the model's
 * queues then become the replay's. False when the replay stopped (a ring
 * field of unknown value, a position the model lost), which drain.c then
 * handles from the counters.
 */
bool model_drain(struct fz *f, const struct drain *dr)
{
	unsigned int i;

	memset(&sim, 0, sizeof(sim));
	sim.f = f;
	memcpy(sim.q, dr->pre, sizeof(sim.q));
	sim_drain(&sim);
	if (sim.stop) {
		TRACE("  (the model stops: %s)\n", sim.stop);
		st.stopped++;
		return false;
	}
	st.followed++;
	st.tainted += taint_any;
	for (i = 0; i < NCTR; i++) {
		/* A time, not an event: do_drain() checked it on its clock. */
		if (i == C_(DRAIN_NS) || dr->d[i] == sim.d[i])
			continue;
		fprintf(stderr, "vnl_fuzz: %s +%llu, the model says +%llu\n",
			ctr_names[i], (unsigned long long)dr->d[i],
			(unsigned long long)sim.d[i]);
		CHECK(!"counters as the model counts them");
	}
	CHECK(dr->more == sim.more);
	CHECK(dr->isr == (dr->isr0 | sim.raise));
	CHECK(f->irqs == !!sim.raise);
	CHECK(dr->newly == sim.newly);
	compare_memory(f);
	memcpy(f->q, sim.q, sizeof(f->q));
	return true;
}
