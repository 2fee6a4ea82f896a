// SPDX-License-Identifier: GPL-2.0
/*
 * The checks that hold whatever the guest did, racing guest included, with
 * or without the model's replay (model.c):
 * - the engine's visible state (its accessors and the queue snapshot that
 *   debugfs shows) agrees with the model's state, after every call;
 * - poisoning is counted and signalled once per transition, with CONFIG
 *   in InterruptStatus and NEEDS_RESET, and InterruptStatus only gains
 *   bits, all set before the one interrupt;
 * - the counters account for every popped chain exactly once, frames and
 *   bytes within the size cap and the budget, and the work the engine does
 *   (accesses, bytes touched) is bounded by the chains popped and the
 *   queue sizes;
 * - avail_event: with EVENT_IDX, after a drain that ran, did not stop on
 *   the budget and left TX unpoisoned with its used ring backed, it holds
 *   the number of TX chains popped so far; without EVENT_IDX it is never
 *   written (both unless the racing guest or the starving guest wrote it).
 * The callbacks' order and the accesses' bounds are checked as they
 * happen, in drain.c.
 */
#include "vnl_fuzz.h"

/*
 * The engine's visible state (its accessors, and the queue snapshot that
 * debugfs shows) agrees with the model's.
 */
void check_visible(struct fz *f)
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

/* The counters that tell the fate of a chain popped from one queue. */
struct fates {
	enum vnetloop_counter packets, bytes, invalid, other, used_fail;
};

static const struct fates fates[NQ] = {
	[RXQ] = { C_(RX_PACKETS), C_(RX_BYTES), C_(RX_CHAIN_INVALID),
		  C_(RX_WRITE_FAILED), C_(RX_ADD_USED_FAILURES) },
	[TXQ] = { C_(TX_PACKETS), C_(TX_BYTES), C_(TX_CHAIN_INVALID),
		  C_(TX_OVERSIZE_DROPPED), C_(TX_ADD_USED_FAILURES) },
};

/*
 * The chains popped from queue q in a drain, from its counters. Each popped
 * chain counts once among packets, invalid and the other fate (oversize on
 * TX, write failed on RX). With the used ring backed, a used entry fails
 * only for a head out of range, which is also an invalid chain; without
 * it, every entry fails, so each chain counts once as a used failure too
 * and nothing is delivered.
 */
static u64 chains_popped(const u64 *D, unsigned int q, bool used)
{
	const struct fates *c = &fates[q];
	u64 popped;

	if (used) {
		popped = D[c->packets] + D[c->invalid] + D[c->other];
		CHECK(D[c->used_fail] <= D[c->invalid]);
	} else {
		popped = D[c->used_fail];
		CHECK(!D[c->packets] && !D[c->bytes]);
		CHECK(D[c->invalid] + D[c->other] <= popped);
	}
	return popped;
}

/*
 * Every popped chain counted exactly once (chains_popped()), every valid
 * frame given exactly one fate on the RX side, bytes and work bounded. The
 * model learns from it how many chains each queue popped and how many used
 * entries each made (dr->popped, dr->rx_popped, dr->added).
 */
void check_accounting(struct fz *f, struct drain *dr)
{
	const struct mq *pre = dr->pre;
	const u64 *D = dr->d;
	bool txu = used_ok(f, &pre[TXQ]), rxu = used_ok(f, &pre[RXQ]);
	u64 popped, valid, rx_popped, txn = pre[TXQ].num, rxn = pre[RXQ].num;

	popped = chains_popped(D, TXQ, txu);
	valid = popped - D[C_(TX_CHAIN_INVALID)] - D[C_(TX_OVERSIZE_DROPPED)];
	rx_popped = chains_popped(D, RXQ, rxu);
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
	if (dr->more) {
		CHECK(popped && !(dr->newly & (1U << TXQ)));
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

	dr->popped = (u32)popped;
	dr->rx_popped = (u32)rx_popped;
	dr->added[TXQ] = txu ?
		(u32)(popped - D[C_(TX_ADD_USED_FAILURES)]) : 0;
	dr->added[RXQ] = rxu ?
		(u32)(rx_popped - D[C_(RX_ADD_USED_FAILURES)]) : 0;
}

/*
 * avail_event, also under a racing guest, as long as neither the racing
 * nor the starving guest wrote it: with EVENT_IDX it holds the TX position
 * after a drain that ran to an empty ring; without EVENT_IDX the engine
 * never writes it.
 */
void check_avail_event(struct fz *f, const struct drain *dr)
{
	const struct mq *tx = &f->q[TXQ], *rx = &f->q[RXQ];
	u16 v = 0;

	if (!f->ae_valid || f->ae_touched || f->lost)
		return;
	CHECK(g_r16(f, f->ae_gpa, &v));
	if (has_evidx(f)) {
		if (!dr->ran || dr->more || tx->poisoned)
			return;
		/* RX used->idx, written after it, on the same bytes. */
		if (dr->added[RXQ] &&
		    overlaps(dr->pre[RXQ].used + offsetof(struct vring_used, idx),
			     2, f->ae_gpa, 2))
			return;
		TRACE("  avail_event %u, TX position %u\n", v, tx->pos);
		st.ae_event++;
		CHECK(v == tx->pos);
		return;
	}
	/* RX writes may land there: header and frame, used entries. */
	if (dr->d[C_(RX_PACKETS)] + dr->d[C_(RX_WRITE_FAILED)] +
	    dr->d[C_(RX_ADD_USED_FAILURES)])
		return;
	if (dr->added[RXQ] &&
	    overlaps(rx->used, used_size(rx->num), f->ae_gpa, 2))
		return;
	st.ae_still++;
	CHECK(v == dr->ae_before);
}

/* Which queues were poisoned: the callback says, else the counter. */
static unsigned int poisoned_now(struct fz *f, const struct drain *dr)
{
	u64 n = dr->d[C_(INVALID_AVAIL_IDX_COUNT)];
	unsigned int cand = 0;

	CHECK(n <= 2);
	if (f->poison_cb) {
		CHECK((u64)__builtin_popcount(f->pois_mask) == n);
		return f->pois_mask;
	}
	if (!n || f->lost)
		return 0;
	if (dr->ran)
		cand |= 1U << TXQ;
	if (dr->pre[RXQ].ready && !dr->pre[RXQ].poisoned)
		cand |= 1U << RXQ;
	if (n == (u64)__builtin_popcount(cand))
		return cand;
	CHECK(n == 1 && cand == 3);
	f->lost = true;	/* one of two: the model cannot tell */
	return 0;
}

/*
 * After a drain that ran: poisoning once per transition, with CONFIG and
 * NEEDS_RESET; at most one interrupt, counted; InterruptStatus only gains
 * bits, all set before the interrupt. The model takes the new
 * InterruptStatus and NEEDS_RESET. Returns the queues poisoned in the
 * drain; without ops->poisoned, 0 when the counter cannot tell which
 * (poisoned_now()).
 */
unsigned int check_signals(struct fz *f, const struct drain *dr)
{
	const u64 *D = dr->d;
	u32 isr0 = dr->isr0, isr = dr->isr;
	bool lost = f->lost;
	unsigned int i, newly;

	newly = poisoned_now(f, dr);
	for (i = 0; i < NQ && !lost; i++)
		if (newly & (1U << i))
			CHECK(!dr->pre[i].poisoned && dr->pre[i].ready);
	CHECK(D[C_(INTERRUPTS)] == f->irqs && f->irqs <= 1);
	CHECK(D[C_(BUDGET_REQUEUES)] == dr->more);
	CHECK(D[C_(WORKER_RUNS)] == 1 && !D[C_(KICKS)]);
	if (D[C_(INVALID_AVAIL_IDX_COUNT)]) {
		CHECK(f->irqs == 1 && (isr & VIRTIO_MMIO_INT_CONFIG));
		CHECK(f->status_at_irq & VIRTIO_CONFIG_S_NEEDS_RESET);
	}
	/* InterruptStatus only gains bits, all set before the interrupt. */
	CHECK((isr & isr0) == isr0 &&
	      !(isr & ~(VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG)));
	if (f->irqs)
		CHECK(f->isr_at_irq == isr);
	else
		CHECK(isr == isr0);
	if (D[C_(INVALID_AVAIL_IDX_COUNT)])
		f->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	CHECK(vnl_engine_status(f->e) == f->status);
	f->isr = isr;
	return newly;
}
