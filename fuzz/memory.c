// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory, as the guest and the model see it, worked out without the
 * engine's code. All guest RAM lives in one arena at fixed offsets (the
 * chunks that build_memory() in input.c places), so the input decides which
 * regions are contiguous in host space. Here: how the chunks become the
 * region table given to the engine (cut in two, listed out of order), how
 * the model reads that table (sorted, neighbours contiguous in both spaces
 * merged), the two backing rules (a ring lies inside one merged region; a
 * buffer may cross regions adjacent in guest space, every byte backed), and
 * the guest's own loads and stores. Arena bytes outside the installed
 * table are ASan-poisoned, so a stray engine access is reported.
 */
#include <sanitizer/asan_interface.h>

#include "vnl_fuzz.h"

u8 *arena;		/* guest RAM, allocated by main.c */

/* The arena offset of gpa and the bytes left in its (merged) region. */
bool g_find(const struct fz *f, u64 gpa, u64 *off, u64 *room)
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

u8 *g_byte(const struct fz *f, u64 gpa)
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
bool backed(const struct fz *f, u64 gpa, u64 len)
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

/* The rings of a configured queue, each backed by the rule for rings. */
bool desc_ok(const struct fz *f, const struct mq *q)
{
	return q->num && in_one(f, q->desc, desc_size(q->num));
}

bool avail_ok(const struct fz *f, const struct mq *q)
{
	return q->num && in_one(f, q->avail, avail_size(q->num));
}

bool used_ok(const struct fz *f, const struct mq *q)
{
	return q->num && in_one(f, q->used, used_size(q->num));
}

/* Guest stores to unbacked addresses go nowhere, as on real hardware. */
void g_write(struct fz *f, u64 gpa, const void *src, u32 len)
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
bool g_read(const struct fz *f, u64 gpa, void *dst, u32 len)
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

/* A little-endian 16-bit guest store, and the matching load. */
void g_w16(struct fz *f, u64 gpa, u16 v)
{
	u16 le = cpu_to_le16(v);

	g_write(f, gpa, &le, 2);
}

bool g_r16(const struct fz *f, u64 gpa, u16 *v)
{
	u16 le;

	if (!g_read(f, gpa, &le, 2))
		return false;
	*v = le16_to_cpu(le);
	return true;
}

/* Do [a, a + alen) and [b, b + blen) share a byte? Both end at 2^64. */
bool overlaps(u64 a, u64 alen, u64 b, u64 blen)
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
void build_table(struct fz *f, u8 shape)
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
			t[n++] = (struct vnl_region){
				.gpa = c->gpa, .size = at, .hva = hva,
			};
			t[n++] = (struct vnl_region){
				.gpa = c->gpa + at, .size = c->size - at,
				.hva = hva + at,
			};
			split = false;
			continue;
		}
		t[n++] = (struct vnl_region){
			.gpa = c->gpa, .size = c->size, .hva = hva,
		};
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
void install_table(struct fz *f)
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

/* Host pointer to gpa; the access must lie inside one installed region. */
bool host_gpa(const struct fz *f, const void *p, size_t len, u64 *gpa)
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
