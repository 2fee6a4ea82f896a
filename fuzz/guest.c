// SPDX-License-Identifier: GPL-2.0
/*
 * The driver side, which the fuzzer plays: what a guest writes into its
 * rings between drains (descriptor chains on either queue, avail->idx moved
 * a little, to the poisoning edge or anywhere, bytes poked into a ring,
 * interrupt hints and acknowledgements, fresh rings zeroed), and the two
 * guests that act during a drain, from inside the engine's own accesses:
 * - the racing guest (guest_race()): every race_period-th access flips a
 *   byte near a ring, so the engine sees memory change between two of its
 *   reads;
 * - the guest that goes away (starve()): past CALL_CAP accesses in one
 *   input, each read of a descriptor first turns that descriptor into an
 *   INDIRECT one and each read of avail->idx first moves it 0x8000 ahead,
 *   so the engine soon stops and every run stays cheap. That drain counts
 *   as a racing one, and the input gets no further drain.
 * Every choice comes from the input. Only an acknowledgement is a device
 * call; the engine's visible state is checked after it.
 */
#include "vnl_fuzz.h"

/* Descriptor i of queue vq, as the guest writes it. */
static void write_desc(struct fz *f, const struct mq *vq, u16 i, u64 addr,
		       u32 len, u16 flags, u16 next)
{
	u8 raw[sizeof(struct vring_desc)];
	u64 a = cpu_to_le64(addr);
	u32 l = cpu_to_le32(len);
	u16 fl = cpu_to_le16(flags), nx = cpu_to_le16(next);

	memcpy(raw, &a, 8);
	memcpy(raw + 8, &l, 4);
	memcpy(raw + 12, &fl, 2);
	memcpy(raw + 14, &nx, 2);
	g_write(f, vq->desc + (u64)i * sizeof(struct vring_desc), raw,
		sizeof(raw));
}

/*
 * Post a chain on queue q: up to four described descriptors, the last one
 * optionally repeated into a long chain, then publish the head in the avail
 * ring.
 */
void guest_post(struct fz *f, unsigned int q)
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
		flags = q == RXQ ? VRING_DESC_F_WRITE : 0;
		next = (at + 1) & (vq->num - 1);
		if (i + 1 < total)
			flags |= VRING_DESC_F_NEXT;
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
	if (!g_r16(f, vq->avail + offsetof(struct vring_avail, idx), &idx))
		return;
	TRACE("  q%u post head %u at avail %u%s\n", q, head, idx,
	      cnt & 0x40 ? " (unpublished)" : "");
	g_w16(f, vq->avail +
	      offsetof(struct vring_avail, ring[idx & (vq->num - 1)]), head);
	if (!(cnt & 0x40))
		g_w16(f, vq->avail + offsetof(struct vring_avail, idx),
		      idx + 1);
}

/* Move avail->idx: a little, to the poisoning edge, or anywhere. */
void guest_avail_idx(struct fz *f)
{
	u8 sel = get8(f);
	const struct mq *vq = &f->q[sel & 1];
	u16 v = get16(f), idx = 0;

	g_r16(f, vq->avail + offsetof(struct vring_avail, idx), &idx);
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
	g_w16(f, vq->avail + offsetof(struct vring_avail, idx), idx);
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

void guest_poke(struct fz *f)
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
void guest_notify(struct fz *f)
{
	u8 sel = get8(f);
	const struct mq *vq = &f->q[sel & 1];
	u16 used = vq->used_idx;

	g_r16(f, vq->used + offsetof(struct vring_used, idx), &used);
	g_w16(f, vq->avail + offsetof(struct vring_avail, flags),
	      (sel & 2) ? VRING_AVAIL_F_NO_INTERRUPT : 0);
	g_w16(f, vq->avail + offsetof(struct vring_avail, ring[vq->num]),
	      used + (int8_t)get8(f));
	if (sel & 4) {
		TRACE("  ack isr %#x\n", (sel >> 3) & 3);
		vnl_engine_isr_ack(f->e, (sel >> 3) & 3);
		f->isr &= ~((sel >> 3) & 3u);
		check_visible(f);
	}
}

/* What a driver does with fresh rings: flags and indices start at zero. */
void guest_zero_rings(struct fz *f)
{
	unsigned int q;

	for (q = 0; q < NQ; q++) {
		const struct mq *vq = &f->q[q];

		g_w16(f, vq->avail + offsetof(struct vring_avail, flags), 0);
		g_w16(f, vq->avail + offsetof(struct vring_avail, idx), 0);
		g_w16(f, vq->used + offsetof(struct vring_used, flags), 0);
		g_w16(f, vq->used + offsetof(struct vring_used, idx), 0);
	}
}

void guest_race(struct fz *f)
{
	u8 sel = get8(f);

	f->race_period = sel & 0xf;
	f->race_tick = 0;
	f->race_gpa = ring_target(f, sel >> 4, get16(f));
	f->race_xor = get8(f) | 1;
	TRACE("  race every %u accesses at %#llx\n", f->race_period,
	      (unsigned long long)f->race_gpa);
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
void race_step(struct fz *f)
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
void starve(struct fz *f, u64 gpa, size_t len)
{
	static const u8 indirect[sizeof(struct vring_desc)] = {
		[12] = VRING_DESC_F_INDIRECT,
	};
	unsigned int q;
	u16 idx;

	for (q = 0; q < NQ; q++) {
		const struct mq *mq = &f->q[q];

		if (!mq->num)
			continue;
		if (gpa >= mq->desc && gpa - mq->desc < desc_size(mq->num))
			harness_write(f, mq->desc + (gpa - mq->desc) /
				      sizeof(struct vring_desc) *
				      sizeof(struct vring_desc),
				      indirect, sizeof(indirect));
		if (len == 2 &&
		    gpa == mq->avail + offsetof(struct vring_avail, idx) &&
		    g_r16(f, gpa, &idx)) {
			idx = cpu_to_le16(idx + 0x8000);
			harness_write(f, gpa, &idx, 2);
		}
	}
}
