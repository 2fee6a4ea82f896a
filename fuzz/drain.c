// SPDX-License-Identifier: GPL-2.0
/*
 * One drain, the heart of the harness. The engine reaches guest memory
 * directly; this build compiles it with -DVNL_ENGINE_TEST_HOOKS, so
 * fz_access() runs before every read and after every write it makes. The
 * hook checks that the access lies inside one installed region (after
 * merging) and inside a drain, counts it, and lets the racing and the
 * starving guest (guest.c) act. The callbacks check their order: commit,
 * then at most one interrupt, then the poisoned queues in queue order.
 *
 * do_drain() snapshots guest memory for the model, runs vnl_drain(), checks
 * what holds whatever the guest did (invariants.c), then has the model
 * replay the drain and compare (model.c) when memory held still. After a
 * drain the model cannot follow (racing guest, starved, replay stopped) it
 * takes its positions from the counters and forgets what it cannot know
 * until the queue is set up again.
 */
#include "include/vnetloop/counters.h"
#include "vnl_fuzz.h"

const char *const ctr_names[NCTR] = VNETLOOP_COUNTER_NAMES;

/* The access hook (vnl_test_access): before each read, after each write. */
void fz_access(void *p, size_t len, bool write)
{
	struct fz *f = cur;
	u64 gpa = 0;

	/* Only inside a drain, only inside the table. */
	CHECK(f && f->in_drain);
	f->clock++;
	f->ticks++;
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

/*
 * The drain's clock (vnl_test_clock): read only inside a drain, and
 * ticking once per read besides once per access (fz_access()).
 */
u64 fz_clock(void)
{
	struct fz *f = cur;

	CHECK(f && f->in_drain);
	f->clock_reads++;
	return ++f->clock;
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

static void fz_interrupt(void *ctx, u32 isr, unsigned int vqs)
{
	struct fz *f = ctx;

	/* A VRING interrupt names the queues that asked, and only then. */
	CHECK(!(isr & VIRTIO_MMIO_INT_VRING) == !vqs);
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
	CHECK(vnl_engine_status(f->e) & VIRTIO_CONFIG_S_NEEDS_RESET);
	f->pois_mask |= 1U << q;
}

const struct vnl_engine_ops fz_ops = {
	.commit = fz_commit,
	.interrupt = fz_interrupt,
	.poisoned = fz_poisoned,
};

const struct vnl_engine_ops fz_ops_nopoison = {
	.commit = fz_commit,
	.interrupt = fz_interrupt,
};

/*
 * After a drain the model could not follow: positions from the counters
 * (every popped chain is counted exactly once, check_accounting()); where
 * the device's view of avail->idx is unknown, the queue is no longer synced.
 */
static void advance_from_counters(struct fz *f, const struct drain *dr)
{
	struct mq *tx = &f->q[TXQ], *rx = &f->q[RXQ];
	unsigned int i;

	tx->pos += dr->popped;
	rx->pos += dr->rx_popped;
	for (i = 0; i < NQ; i++) {
		f->q[i].used_idx += dr->added[i];
		if (dr->added[i]) {
			f->q[i].sig_used = f->q[i].used_idx;
			f->q[i].sig_valid = true;
		}
		if (dr->newly & (1U << i))
			f->q[i].poisoned = true;
	}
	if (!dr->more && !(dr->newly & (1U << TXQ)))
		tx->seen = tx->pos;	/* it found the ring empty */
	else
		tx->synced = false;
	if (dr->popped - dr->d[C_(TX_CHAIN_INVALID)] -
	    dr->d[C_(TX_OVERSIZE_DROPPED)] && !rx->poisoned)
		rx->synced = false;
}

/*
 * One drain: at most MAX_DRAINS per input besides the last one, and none
 * once the guest has gone away.
 */
void do_drain(struct fz *f)
{
	struct drain dr;
	bool racing;
	unsigned int i;

	if (f->drains++ >= MAX_DRAINS || f->starved)
		return;
	st.drains++;
	memset(&dr, 0, sizeof(dr));
	memcpy(dr.pre, f->q, sizeof(dr.pre));
	dr.isr0 = f->isr;
	dr.ran = f->live && dr.pre[TXQ].ready && !dr.pre[TXQ].poisoned;
	racing = f->race_period != 0;
	if (dr.ran && !racing && !f->lost && !no_model)
		model_snapshot(f);
	f->ae_valid = used_ok(f, &dr.pre[TXQ]);
	f->ae_gpa = dr.pre[TXQ].used +
		    offsetof(struct vring_used, ring[dr.pre[TXQ].num]);
	if (f->ae_valid)
		CHECK(g_r16(f, f->ae_gpa, &dr.ae_before));
	f->ae_touched = false;
	f->commits = f->irqs = f->pois_mask = 0;
	f->calls = f->bytes = 0;
	f->clock_reads = f->ticks = 0;
	memset(f->delta, 0, sizeof(f->delta));
	check_visible(f);

	f->in_drain = true;
	dr.more = vnl_drain(f->e);
	f->in_drain = false;
	f->work += f->calls;
	racing |= f->starved;
	dr.isr = vnl_engine_isr(f->e);

	memcpy(dr.d, f->delta, sizeof(dr.d));
	TRACE("drain: more %d calls %llu bytes %llu irqs %u isr %#x%s\n",
	      dr.more, (unsigned long long)f->calls,
	      (unsigned long long)f->bytes, f->irqs, dr.isr,
	      racing ? " (racing)" : "");
	for (i = 0; i < NCTR; i++)
		if (dr.d[i])
			TRACE("  %s +%llu\n", ctr_names[i],
			      (unsigned long long)dr.d[i]);

	if (!f->live) {
		/* Before DRIVER_OK (or after a reset): nothing at all. */
		CHECK(!dr.more && !f->commits && !f->calls && !f->irqs);
		CHECK(!f->clock_reads);
		check_visible(f);
		return;
	}
	CHECK(f->commits == 1);
	/*
	 * Two clock reads, the first before the drain's first guest access
	 * and the second after its last: drain_ns is the one tick of the
	 * second read plus every access in between.
	 */
	CHECK(f->clock_reads == 2);
	CHECK(dr.d[C_(DRAIN_NS)] == 1 + f->ticks);
	st.live++;
	if (!dr.ran) {
		/* TX not ready or poisoned: a no-op, but a worker run. */
		CHECK(!dr.more && !f->calls && !f->irqs && !f->pois_mask);
		for (i = 0; i < NCTR; i++)
			CHECK(i == C_(DRAIN_NS) ||
			      dr.d[i] == (i == C_(WORKER_RUNS)));
		check_visible(f);
		return;
	}

	dr.newly = check_signals(f, &dr);
	if (f->lost) {
		st.lost++;
		return;	/* until a reset, only what holds for any state */
	}
	st.racing += racing;

	check_accounting(f, &dr);
	/* An interrupt without a poisoning: some used ring advanced. */
	if (f->irqs && !dr.newly)
		CHECK(dr.added[TXQ] || dr.added[RXQ]);

	/* The model replays a drain during which memory held still. */
	if (racing || no_model || !model_drain(f, &dr))
		advance_from_counters(f, &dr);
	check_visible(f);
	check_avail_event(f, &dr);
}
