// SPDX-License-Identifier: GPL-2.0
/*
 * The input decoder. An input is a small program, read byte by byte (zeros
 * once it is used up, so every input is valid):
 *
 *   memory	sel, fill byte, [lay if sel bits 4-5 are 3], [u16 if sel bit 6]
 *		(build_memory(): one or two regions, possibly at the top of
 *		the 64-bit space, merged or not, the table cut or reordered,
 *		bad tables tried)
 *   start	bit 0 no DRIVER_OK, bits 1-2 queues left unconfigured,
 *		bit 3 no ops->poisoned
 *   features	sel, bad (do_set_features())
 *   queues	RX size, TX size, layout class, [a u16 per moved ring]
 *		(setup_vrings())
 *   budget	sel (set_budget())
 *   ops	up to MAX_OPS, each a byte (mod NUM_OPS) and its arguments:
 *		guest actions (post TX/RX chains, move avail->idx, poke ring
 *		bytes, hints and acknowledgements, a racing guest) and device
 *		calls (drain, reset, a driver's setup, set_vring,
 *		set_features, start, budget, a new region table)
 *
 * and one last drain whatever state the ops left. Addresses and lengths go
 * through menus (pick_addr(), pick_len()) that favour what finds bugs:
 * buffer space, region edges, unbacked and wrapping addresses, frames at
 * and past the size cap. fuzz/corpus and fuzz/repro hold inputs in this
 * format.
 */
#include <sanitizer/asan_interface.h>

#include "vnl_fuzz.h"

enum {
	OP_DRAIN, OP_TX_POST, OP_RX_POST, OP_AVAIL_IDX, OP_POKE, OP_NOTIFY,
	OP_RESET, OP_SETUP, OP_SET_VRING, OP_SET_FEATURES, OP_START,
	OP_BUDGET, OP_RACE, OP_SET_MEM, OP_TX_POST2, OP_RX_POST2, NUM_OPS
};

/* The next input byte; zeros once the input is used up. */
u8 get8(struct fz *f)
{
	return f->pos < f->len ? f->in[f->pos++] : 0;
}

/* Little-endian; each byte read in its own statement, in order. */
u16 get16(struct fz *f)
{
	u16 lo = get8(f);

	return lo | (u16)get8(f) << 8;
}

u32 get32(struct fz *f)
{
	u32 lo = get16(f);

	return lo | (u32)get16(f) << 16;
}

u64 get64(struct fz *f)
{
	u64 lo = get32(f);

	return lo | (u64)get32(f) << 32;
}

/* A gpa that no chunk backs. */
u64 unmapped_gpa(struct fz *f, u16 off)
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

/* A buffer address of class cls (bits 0-2), placed by off. */
u64 pick_addr(struct fz *f, unsigned int cls, u16 off)
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

/* A buffer length of class cls (bits 0-2), sized by off. */
u32 pick_len(struct fz *f, unsigned int cls, u16 off)
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
void build_memory(struct fz *f)
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

/* Features from the next two bytes, read in this order. */
static void set_features(struct fz *f)
{
	u8 sel = get8(f);

	do_set_features(f, sel, get8(f));
}

/* The program after the memory header (the format above). */
void run(struct fz *f)
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

	set_features(f);
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
			set_features(f);
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
