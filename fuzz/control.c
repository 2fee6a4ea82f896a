// SPDX-License-Identifier: GPL-2.0
/*
 * The device calls other than the drain, each with its own contract:
 * reset (queues, positions, poison, features and interrupt status cleared,
 * counters kept), start (DRIVER_OK), features (a bit that is not offered is
 * refused), queue layouts (a size that is not a power of two in 1..256, a
 * queue that does not exist, a misaligned or wrapping ring: refused, the
 * queue left as it was), the drain budget, and region tables (bad ones
 * refused, the installed one kept). Each call is made on the engine and on
 * the model's state alike, and the engine's visible state is checked
 * against the model's after it. The layout, sizes and addresses come from
 * the input.
 */
#include "vnl_fuzz.h"

/* A queue as reset leaves it: nothing configured, positions known. */
void mq_init(struct mq *q)
{
	memset(q, 0, sizeof(*q));
	q->synced = true;
}

/* Status = 0: everything but the region table and the counters goes. */
void do_reset(struct fz *f)
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

/* DRIVER_OK. */
void do_start(struct fz *f)
{
	vnl_engine_start(f->e);
	f->live = true;
	check_visible(f);
}

/*
 * sel: bits 0-2 leave out VERSION_1, leave out MAC, add EVENT_IDX; bits 3-4
 * both set: first try bit bad & 63 too, which must be refused unless offered.
 */
void do_set_features(struct fz *f, u8 sel, u8 bad)
{
	u64 feat = 0;
	int ret;

	if (!(sel & 1))
		feat |= 1ULL << VIRTIO_F_VERSION_1;
	if (!(sel & 2))
		feat |= 1ULL << VIRTIO_NET_F_MAC;
	if (sel & 4)
		feat |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
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

/*
 * A queue size: 1 << (sel & 0xf) when that is at most 256; else, after
 * trying a bad size and a queue that does not exist, 1 << ((sel >> 4) % 9).
 */
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

/* Queue q's layout, on the engine and in the model. */
static void set_vring(struct fz *f, unsigned int q, u32 num, u64 desc,
		      u64 avail, u64 used)
{
	struct mq *mq = &f->q[q];
	/*
	 * Each part aligned (descriptor table 16, avail 2, used 4 bytes, as
	 * virtio 1.2, 2.7 requires), and none may wrap the address space.
	 */
	bool fits = !(desc & (VRING_DESC_ALIGN_SIZE - 1)) &&
		    !(avail & (VRING_AVAIL_ALIGN_SIZE - 1)) &&
		    !(used & (VRING_USED_ALIGN_SIZE - 1)) &&
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
	VRING_DESC_ALIGN_SIZE, VRING_AVAIL_ALIGN_SIZE, VRING_USED_ALIGN_SIZE
};

/* Configure both queues from the input. */
void setup_vrings(struct fz *f, u8 which)
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

/* The drain budget: packets from bits 0-2 of sel, bytes from bits 3-5. */
void set_budget(struct fz *f, u8 sel)
{
	f->budget_p = budget_pkts[sel & 7];
	f->budget_b = budget_bytes[(sel >> 3) & 7];
	vnl_engine_set_budget(f->e, f->budget_p, f->budget_b);
}

/*
 * Tables the engine must refuse, leaving the installed one in place (the
 * drains that follow check that it did).
 */
void check_bad_tables(struct fz *f, u8 sel, u16 off)
{
	struct vnl_region bad[MAXTAB + 2] = { 0 };
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
	case 6:		/* a right beyond reading and writing */
		bad[n].gpa = unmapped_gpa(f, off);
		bad[n].size = 0x1000;
		bad[n].deny = 4U << (off & 7);
		break;
	default:	/* more regions than the device takes, each fine */
		want = -E2BIG;
		for (i = 0; i < MAXTAB + 1 + (sel >> 3 & 1u); i++) {
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
void op_set_mem(struct fz *f)
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
