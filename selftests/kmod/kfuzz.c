// SPDX-License-Identifier: GPL-2.0
/*
 * kfuzz: random rings and random ioctl sequences thrown at the real module,
 * the engine's invariants checked from userspace.
 *
 * Devices come and go (each lives a few rounds; some are closed while their
 * worker drains). A round is:
 *
 *  1. A random layout: 1..8 regions of an arena of this process at random
 *     guest-physical addresses (low, anywhere, or touching the top of the
 *     64-bit space), with holes, neighbours that merge and neighbours that
 *     do not, sometimes one whose host range is PROT_NONE. Queues of random
 *     power-of-two sizes (RX sometimes absent or misaligned); each ring part
 *     inside one region, in a hole, across a region's end, on faulting
 *     pages, or with only its tail faulting. Random features.
 *  2. A random ioctl sequence: the configuring ioctls in random order mixed
 *     with random calls (START too early or twice, RESET, GET_IRQ, ACK_IRQ,
 *     kicks before START, valid but different arguments, arguments with
 *     random defects: NULL, unreadable and half-readable pointers, flags and
 *     reserved fields, sizes, alignments, wrapping and overlapping ranges,
 *     kernel and unmapped addresses, bad fds and fds of other kinds, unknown
 *     commands; now and then the same from a forked process). A call must
 *     return 0 exactly when its arguments are good, else one of the errnos
 *     Documentation/kmod-abi.rst gives for the defects present; the model of
 *     the configuration follows what succeeded. If the sequence does not
 *     leave the layout running, RESET and configure it in order.
 *  3. Data phases. The guest posts RX and TX chains, well formed or
 *     malformed in each way the contract lists, moves avail->idx (up to the
 *     queue size ahead, exposing stale entries, or further, to poison), sets
 *     avail->flags and used_event, sets the drain budget over netlink (one
 *     packet, often: one kick makes hundreds of drains), kicks (sometimes
 *     before START) and waits. Some phases end in RESET or close() while
 *     the worker drains.
 *
 * Clean layouts keep what the device writes (RX buffers, used rings) apart
 * from what it reads, and let host faults hit TX frames or RX buffers, not
 * both. There a model replays each TX chain by the device contract (and
 * Documentation/engine.rst where the contract leaves a choice) and
 * predicts every contract counter exactly, every used entry of both rings,
 * every byte written into RX buffers (header included; a header zeroed
 * again after a failed write), poisoning, avail_event, and bounds on the
 * interrupts from the hints. Hostile layouts point RX buffers at descriptor
 * tables and TX frames, and a second thread rewrites descriptors, avail
 * entries and hints, mprotect()s and MADV_DONTNEEDs buffer pages and calls
 * GET_IRQ/ACK_IRQ while the worker drains; there only what holds whatever
 * the guest does is checked.
 *
 * Checked (a failure prints the KFUZZ_SEED and KFUZZ_ROUND that replay it,
 * where it happened, the layout and, against the model, each chain's
 * verdict):
 *  - progress: after a kick every offered TX entry is consumed within
 *    KFUZZ_WAIT_MS, unless the guest poisoned the TX queue;
 *  - counters never decrease; at rest worker_runs <= kicks +
 *    budget_requeues and interrupts, budget_requeues <= worker_runs;
 *  - one outcome per popped TX chain: with a used ring the device can write,
 *    tx_packets + tx_chain_invalid + tx_oversize_dropped = chains popped and
 *    tx_add_used_failures (heads out of range) <= tx_chain_invalid; with
 *    one it cannot, tx_add_used_failures = chains popped and no
 *    tx_packets. One fate per valid frame: tx_dropped_no_rx_buffer +
 *    tx_dropped_rx_poisoned + RX chains consumed, which are rx_packets +
 *    rx_chain_invalid + rx_write_failed (rx_add_used_failures <=
 *    rx_chain_invalid), or all rx_add_used_failures;
 *  - used rings: used->idx never moves back and advances by exactly the
 *    entries the counters returned; each entry names a head offered at its
 *    position (at least one offered at all, when heads out of range shift
 *    them); TX lengths are 0; RX lengths are 0 or 12 + bytes and add up to
 *    rx_packets and rx_bytes;
 *  - the budget: worker_runs grows by at least chains / packet budget, and
 *    budget_requeues by one less;
 *  - poisoning: only when the guest did it (avail->idx more than the queue
 *    size ahead, avail ring unbacked or faulting), counted once;
 *    NEEDS_RESET iff one was counted since RESET, CONFIG iff one happened
 *    since it was acknowledged; a poisoned TX queue ignores kicks;
 *  - interrupts = the call eventfd's count, kicks = the kick eventfd's
 *    writes while running (each counts the other when they are one
 *    eventfd), interrupts within what the hints allow, VRING set after an
 *    interrupt the hints asked for and not after none;
 *  - the device never writes descriptor tables, avail rings, used->flags,
 *    or avail_event without EVENT_IDX (with it, avail_event = the TX
 *    position after the drain);
 *  - nothing runs before START or after RESET; after close() the device is
 *    gone from netlink; the process ends with the descriptors it began
 *    with. The kernel log is the rig's to judge.
 *
 * Environment: KFUZZ_SEED (default from the clock; printed first),
 * KFUZZ_ROUND (start with that round: each round draws from its own stream
 * of the seed, so a failed round replays alone, hostile phases' timing
 * aside), KFUZZ_DRAINS (the target, default 100000), KFUZZ_SECONDS (the
 * wall-clock budget, default 150, at most 260: missing the target in time
 * fails), KFUZZ_WAIT_MS (progress timeout, default 20000), KFUZZ_VERBOSE=1
 * (a line per round).
 */
#include <dirent.h>
#include <endian.h>
#include <fcntl.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "include/vnetloop/counters.h"
#include "tests.h"
#include "user/nl/nl.h"

#define RXQ		VNETLOOP_QUEUE_RX
#define TXQ		VNETLOOP_QUEUE_TX
#define NQ		VNETLOOP_NUM_QUEUES
#define QMAX		VNETLOOP_QUEUE_SIZE_MAX
#define NCNT		VNETLOOP_NUM_COUNTERS
#define NSPEC		VNETLOOP_NUM_SPEC_COUNTERS
#define HDR		12u
#define MAXF		65557u
#define PG		4096u
#define C(x)		VNETLOOP_C_##x

#define F_NEXT		1
#define F_WRITE		2
#define F_INDIRECT	4
#define NO_INTERRUPT	1
#define CANARY		0xa5

#define ARENA		(6u << 20)	/* guest RAM lives here */
#define GUARD		(256u << 10)	/* PROT_NONE after the arena */
#define NPAGES		(ARENA / PG)
#define MAXREG		VNETLOOP_MAX_REGIONS
#define MAXIV		64
#define MAXRXB		(2 * QMAX)
#define MAX_FAILS	3

#define DRAINS_DEFAULT	100000
#define SECONDS_DEFAULT	150
#define SECONDS_MAX	260	/* the harness timeout below is 290 */
#define WAIT_MS_DEFAULT	20000

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

static const char *const cnt_names[NCNT] = VNETLOOP_COUNTER_NAMES;

static const char *cnt_name_of(unsigned int i)
{
	return cnt_names[i];
}

/* ------------------------------------------------------------------ */
/* Run state, logging, failures                                        */
/* ------------------------------------------------------------------ */

static struct {
	struct __test_metadata *md;
	uint64_t seed, rng;
	uint64_t rng2;		/* choices that depend on timing */
	uint64_t target, t_end_ns, t0_ns;
	int wait_ms;
	bool verbose;
	/* progress */
	uint64_t drains, devices, ioseqs, ioctls, rounds, phases;
	uint64_t exact, weak, hostile, aborts, closes_busy, poisons;
	uint64_t chains, frames, bytes_checked, used_checked, racer_ops;
	uint64_t n_src, n_wfail, n_hdr_checked, n_exposed, n_unb_over;
	bool unb_over_failed;	/* see tx_verdict() */
	uint64_t total[NCNT];	/* counters of all devices, at their close */
	unsigned int fails;
	bool dev_bad;		/* the current device failed a check */
	/* where we are, for failure reports */
	uint32_t dev_id;
	uint64_t round, phase;
	uint64_t ground;	/* rounds of the run, from KFUZZ_ROUND */
	char where[160];
	char layout[512];
	/* resources */
	struct vnl_nl nl;
	uint8_t *arena;
	uint8_t dead[NPAGES];	/* arena page is PROT_NONE now */
	uint8_t *edge;		/* a readable page, then a PROT_NONE one */
	int pipefd[2];
	int nullfd;
} kf;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	/* stdout, flushed: the harness child leaves with _exit(). */
	fputs("# kfuzz: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/*
 * An invariant or an ioctl result the ABI does not allow. Marks the test
 * failed and the device as no longer followed; returns false so callers
 * can write "return fail(...)".
 */
static bool fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kf.fails++;
	kf.dev_bad = true;
	if (kf.md)
		kf.md->passed = 0;
	say("FAIL (KFUZZ_SEED=%" PRIu64 " KFUZZ_ROUND=%" PRIu64 ": device %u, "
	    "its round %" PRIu64 ", phase %" PRIu64 "%s%s): %s", kf.seed,
	    kf.ground, kf.dev_id, kf.round, kf.phase,
	    kf.where[0] ? ", " : "", kf.where, msg);
	if (kf.layout[0])
		say("  layout: %s", kf.layout);
	return false;
}

/* ------------------------------------------------------------------ */
/* Random numbers (splitmix64: the run replays from the seed)          */
/* ------------------------------------------------------------------ */

static uint64_t rnd64_s(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd64(void)
{
	return rnd64_s(&kf.rng);
}

/* Out of the replayable stream: for choices made while waiting. */
static bool pct2(unsigned int p)
{
	return rnd64_s(&kf.rng2) % 100 < p;
}

/* 0 .. n - 1 */
static uint32_t rnd(uint32_t n)
{
	return n ? (uint32_t)(rnd64() % n) : 0;
}

/* lo .. hi, inclusive */
static uint64_t rndr(uint64_t lo, uint64_t hi)
{
	uint64_t span = hi - lo + 1;

	return span ? lo + rnd64() % span : rnd64();
}

static bool pct(unsigned int p)
{
	return rnd(100) < p;
}

/* A power of two in 1..max, small ones likelier. */
static uint16_t rnd_qsize(unsigned int max_log)
{
	return (uint16_t)(1u << rnd(rnd(max_log + 1) + 1));
}

/* ------------------------------------------------------------------ */
/* Netlink: the tool's client (user/nl), one socket for the whole run   */
/* ------------------------------------------------------------------ */

/* The device's counters (netlink GET do); negative errno on failure. */
static int nl_counters(uint32_t dev, uint64_t *c)
{
	struct vnl_dev_stats d;
	int ret;

	ret = vnl_nl_get_dev(&kf.nl, dev, false, &d);
	if (ret)
		return ret;
	if (d.present != (1ull << NCNT) - 1)
		ret = -EBADMSG;
	else
		memcpy(c, d.c, sizeof(d.c));
	vnl_dev_stats_free(&d);
	return ret;
}

/* SET_BUDGET; 0 leaves that budget as it is. */
static int nl_set_budget(uint32_t dev, uint32_t packets, uint32_t bytes)
{
	return vnl_nl_set_dev_budget(&kf.nl, dev, packets, bytes);
}

/* ------------------------------------------------------------------ */
/* Host memory: the arena, pages that fault                            */
/* ------------------------------------------------------------------ */

static uint64_t arena_base(void)
{
	return (uint64_t)(uintptr_t)kf.arena;
}

static int arena_init(void)
{
	kf.arena = mmap(NULL, ARENA + GUARD, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (kf.arena == MAP_FAILED) {
		kf.arena = NULL;
		return -errno;
	}
	if (mprotect(kf.arena + ARENA, GUARD, PROT_NONE))
		return -errno;
	kf.edge = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (kf.edge == MAP_FAILED) {
		kf.edge = NULL;
		return -errno;
	}
	if (mprotect(kf.edge + PG, PG, PROT_NONE))
		return -errno;
	return 0;
}

static void arena_free(void)
{
	if (kf.arena)
		munmap(kf.arena, ARENA + GUARD);
	if (kf.edge)
		munmap(kf.edge, 2 * PG);
	kf.arena = NULL;
	kf.edge = NULL;
}

static bool page_set(size_t pg, bool dead)
{
	if (kf.dead[pg] == dead)
		return true;
	if (mprotect(kf.arena + pg * PG, PG,
		     dead ? PROT_NONE : PROT_READ | PROT_WRITE))
		return fail("mprotect of an arena page: %s", strerror(errno));
	kf.dead[pg] = dead;
	return true;
}

static void arena_revive(void)
{
	size_t i;

	for (i = 0; i < NPAGES; i++)
		if (kf.dead[i])
			page_set(i, false);
}

/* Does any byte of host [h, h + len) fault? Outside the arena: yes. */
static bool hva_dead(uint64_t h, uint64_t len)
{
	uint64_t a = arena_base(), p, last;

	if (!len)
		return false;
	if (h < a || h - a >= ARENA || len > ARENA - (h - a))
		return true;
	last = (h - a + len - 1) / PG;
	for (p = (h - a) / PG; p <= last; p++)
		if (kf.dead[p])
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* The region table as the engine holds it (core/vnl_mem.c rules)      */
/* ------------------------------------------------------------------ */

struct kf_reg {
	uint64_t gpa, size, hva;
};

struct kf_tab {
	unsigned int n;
	struct kf_reg r[MAXREG];	/* sorted by gpa, neighbours merged */
};

static bool wraps(uint64_t base, uint64_t len)
{
	return len && base + len - 1 < base;
}

/* Sort and merge a table the device accepted, as vnl_mem_set() does. */
static void tab_build(struct kf_tab *t, const struct vnetloop_mem_region *in,
		      unsigned int n)
{
	struct kf_reg s[MAXREG], x;
	unsigned int i, j, k;

	for (i = 0; i < n; i++) {
		x.gpa = in[i].guest_phys_addr;
		x.size = in[i].memory_size;
		x.hva = in[i].userspace_addr;
		for (j = i; j > 0 && s[j - 1].gpa > x.gpa; j--)
			s[j] = s[j - 1];
		s[j] = x;
	}
	for (i = 0, k = 0; i < n; i++) {
		if (k && s[k - 1].gpa + s[k - 1].size == s[i].gpa &&
		    s[k - 1].hva + s[k - 1].size == s[i].hva &&
		    !wraps(s[k - 1].hva, s[k - 1].size + s[i].size)) {
			s[k - 1].size += s[i].size;
			continue;
		}
		s[k++] = s[i];
	}
	t->n = k;
	memcpy(t->r, s, k * sizeof(s[0]));
}

static bool tab_same(const struct kf_tab *a, const struct kf_tab *b)
{
	return a->n == b->n && !memcmp(a->r, b->r, a->n * sizeof(a->r[0]));
}

static const struct kf_reg *tab_find(const struct kf_tab *t, uint64_t gpa,
				     uint64_t *hva, uint64_t *room)
{
	unsigned int i;

	for (i = 0; i < t->n; i++) {
		const struct kf_reg *r = &t->r[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size) {
			*hva = r->hva + (gpa - r->gpa);
			*room = r->size - (gpa - r->gpa);
			return r;
		}
	}
	return NULL;
}

/* [gpa, gpa + len) inside one (merged) region: where rings must lie. */
static bool tab_in_one(const struct kf_tab *t, uint64_t gpa, uint64_t len,
		       uint64_t *hva)
{
	uint64_t room;

	return len && tab_find(t, gpa, hva, &room) && room >= len;
}

/* Every byte of [gpa, gpa + len) backed, across neighbours in gpa. */
static bool tab_backed(const struct kf_tab *t, uint64_t gpa, uint64_t len)
{
	uint64_t hva, room;

	while (len) {
		if (!tab_find(t, gpa, &hva, &room))
			return false;
		if (room >= len)
			return true;
		gpa += room;
		len -= room;
	}
	return true;
}

/*
 * What a device access to [gpa, gpa + len) meets, piece by piece:
 * *unbacked if a byte is not in the table, *dead if a byte is on a host
 * page that faults.
 */
static void tab_state(const struct kf_tab *t, uint64_t gpa, uint64_t len,
		      bool *unbacked, bool *dead)
{
	uint64_t hva, room, n;

	while (len) {
		if (!tab_find(t, gpa, &hva, &room)) {
			*unbacked = true;
			return;
		}
		n = room < len ? room : len;
		if (hva_dead(hva, n))
			*dead = true;
		gpa += n;
		len -= n;
	}
}

/* The guest's own pointer to [gpa, gpa + len): one region, not faulting. */
static uint8_t *gp(const struct kf_tab *t, uint64_t gpa, uint64_t len)
{
	uint64_t hva;

	if (!tab_in_one(t, gpa, len, &hva) || hva_dead(hva, len))
		return NULL;
	return (uint8_t *)(uintptr_t)hva;
}

/* Guest stores to memory it cannot reach go nowhere. */
static void g_w16(const struct kf_tab *t, uint64_t gpa, uint16_t v)
{
	uint8_t *p = gp(t, gpa, 2);

	if (p) {
		v = htole16(v);
		__atomic_store_n((uint16_t *)(void *)p, v, __ATOMIC_RELEASE);
	}
}

static bool g_r16(const struct kf_tab *t, uint64_t gpa, uint16_t *v)
{
	uint8_t *p = gp(t, gpa, 2);

	if (!p)
		return false;
	*v = le16toh(__atomic_load_n((uint16_t *)(void *)p, __ATOMIC_ACQUIRE));
	return true;
}

static bool g_r32(const struct kf_tab *t, uint64_t gpa, uint32_t *v)
{
	uint8_t *p = gp(t, gpa, 4);

	if (!p)
		return false;
	memcpy(v, p, 4);
	*v = le32toh(*v);
	return true;
}

/* n bytes of byte, or of the random stream rs when byte < 0. */
static void fill_bytes(uint8_t *p, uint64_t n, int byte, uint64_t *rs)
{
	uint64_t j, r = 0;

	if (byte >= 0) {
		memset(p, byte, n);
		return;
	}
	for (j = 0; j < n; j++) {
		if (!(j & 7))
			r = rnd64_s(rs);
		p[j] = (uint8_t)(r >> (8 * (j & 7)));
	}
}

/* Fill [gpa, gpa + len) where the guest can, with one byte or random ones. */
static void g_fill(const struct kf_tab *t, uint64_t gpa, uint64_t len, int byte,
		   uint64_t *rs)
{
	uint64_t hva, room, n, i;

	while (len) {
		if (!tab_find(t, gpa, &hva, &room))
			return;
		n = room < len ? room : len;
		for (i = 0; i < n;) {
			uint64_t pg_left = PG - ((hva + i) & (PG - 1));
			uint64_t m = n - i < pg_left ? n - i : pg_left;

			if (!hva_dead(hva + i, m))
				fill_bytes((uint8_t *)(uintptr_t)(hva + i), m,
					   byte, rs);
			i += m;
		}
		gpa += n;
		len -= n;
	}
}

/* ------------------------------------------------------------------ */
/* Rings, the device and the model of both                             */
/* ------------------------------------------------------------------ */

enum { P_DESC, P_AVAIL, P_USED, NPART };

static const uint64_t part_align[NPART] = { 16, 2, 4 };
static const char *const part_name[NPART] = { "desc", "avail", "used" };
static const char *const q_name[NQ] = { "RX", "TX" };

static uint64_t part_len(unsigned int part, unsigned int num)
{
	if (part == P_DESC)
		return 16ull * num;
	if (part == P_AVAIL)
		return 6 + 2ull * num;
	return 6 + 8ull * num;
}

/* One outstanding avail position: what the driver offered there. */
struct kf_pos {
	uint16_t head;
	uint64_t buf, blen;	/* RX: the buffer allocated for it */
	bool fresh;		/* RX: allocated in this phase */
};

struct kf_vq {
	/* the device's configuration, as far as SET_VRING succeeded */
	bool ready;
	uint16_t num;
	uint64_t ring[NPART];	/* guest-physical */
	/* the engine's state, as the model follows it */
	bool poisoned;
	bool sig_valid;		/* an interrupt decision was made */
	bool known_sure;	/* known is what the device last read */
	uint16_t last;		/* next avail position to pop */
	uint16_t known;		/* avail->idx the device last read */
	uint16_t used_idx;	/* used entries made */
	uint16_t sig_used;	/* used_idx at the last decision */
	/* the driver */
	uint16_t gidx;		/* avail->idx published */
	uint32_t owner[QMAX];	/* descriptor -> owning position + 1, 0 free */
	struct kf_pos pos[QMAX];	/* by position % QMAX */
};

struct kf_dev {
	int fd;
	uint32_t id;
	int efd[3];		/* the eventfds SET_EVENTFDS may name */
	bool running;
	bool has_mem;
	struct kf_tab tab;	/* the installed table */
	uint64_t features;
	int kick, call;		/* eventfds as set, -1: none */
	struct kf_vq q[NQ];
	uint64_t c[NCNT];	/* counters at the last read */
	uint64_t iaic_reset;	/* invalid_avail_idx_count at the last RESET */
	bool bound;		/* an ioctl made us the owner */
	uint32_t bpk;		/* packet budget as set */
	uint32_t bpk_max;	/* largest packet budget since the last settle */
	uint32_t bby;		/* byte budget as set */
};

static void q_forget(struct kf_vq *q)
{
	memset(q, 0, sizeof(*q));
	q->known_sure = true;
}

static bool evidx(const struct kf_dev *d)
{
	return d->features & (1ull << VIRTIO_RING_F_EVENT_IDX);
}

/* The host address of a ring part as the engine maps it, or 0. */
static uint64_t part_h(const struct kf_tab *t, const struct kf_vq *q,
		       unsigned int part)
{
	uint64_t h;

	if (!q->ready || !tab_in_one(t, q->ring[part], part_len(part, q->num),
				     &h) || (h & (part_align[part] - 1)))
		return 0;
	return h;
}

/* A ring field as the engine reads it: false if unbacked or faulting. */
static bool e_read(uint64_t h, uint64_t off, void *out, unsigned int size)
{
	if (!h || hva_dead(h + off, size))
		return false;
	memcpy(out, (const void *)(uintptr_t)(h + off), size);
	return true;
}

/* Would the engine's store to a ring field succeed? */
static bool e_writable(uint64_t h, uint64_t off, unsigned int size)
{
	return h && !hva_dead(h + off, size);
}

/* ------------------------------------------------------------------ */
/* Layouts                                                             */
/* ------------------------------------------------------------------ */

enum { DS_NONE, DS_TX, DS_RX };

struct kf_iv {
	uint64_t a, n;
};

struct kf_cfg {
	bool hostile;
	int dead_side;		/* which frame side may meet faulting pages */
	unsigned int nreg;
	struct vnetloop_mem_region reg[MAXREG];	/* as SET_MEM_TABLE gets them */
	struct kf_tab tab;
	struct {
		bool use;	/* SET_VRING is part of the layout */
		bool bad;	/* ... with a misaligned ring: -EINVAL */
		uint16_t num;
		uint64_t ring[NPART];
		char kind[NPART];	/* g h s d t: see cfg_ring() */
	} vr[NQ];
	uint64_t features;
	uint64_t pool, pool_len;	/* TX frame bytes */
	uint64_t rxa, rxa_len;		/* hostile: where RX chains write */
	struct kf_iv iv[MAXIV];		/* fixed allocations */
	unsigned int niv;
	struct kf_iv rxb[MAXRXB];	/* RX buffers outstanding (clean) */
	unsigned int nrxb;
	uint16_t canary[NQ][2];		/* used->flags, used->avail_event */
	uint64_t fill;			/* random stream of the pool */
};

static bool iv_hit(const struct kf_iv *v, unsigned int n, uint64_t a,
		   uint64_t len)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (a <= v[i].a + (v[i].n - 1) && v[i].a <= a + (len - 1))
			return true;
	return false;
}

static bool cfg_reserve(struct kf_cfg *c, uint64_t a, uint64_t n)
{
	if (!n)
		return true;
	if (c->niv == MAXIV)
		return false;
	c->iv[c->niv].a = a;
	c->iv[c->niv].n = n;
	c->niv++;
	return true;
}

static bool range_live(const struct kf_tab *t, uint64_t gpa, uint64_t len)
{
	bool u = false, d = false;

	tab_state(t, gpa, len, &u, &d);
	return !u && !d;
}

/* The last byte of merged region i's run of neighbours in gpa. */
static uint64_t run_last(const struct kf_tab *t, unsigned int i)
{
	uint64_t last = t->r[i].gpa + (t->r[i].size - 1);

	while (i + 1 < t->n && last != UINT64_MAX &&
	       t->r[i + 1].gpa == last + 1) {
		i++;
		last = t->r[i].gpa + (t->r[i].size - 1);
	}
	return last;
}

/*
 * Room for len bytes at a multiple of align: inside one merged region
 * (a ring) or a run of regions that follow each other in gpa (a buffer),
 * clear of the fixed allocations and of other[], on pages that do not
 * fault when live.
 */
static bool cfg_alloc(struct kf_cfg *c, uint64_t len, uint64_t align,
		      bool ring, bool live, const struct kf_iv *other,
		      unsigned int nother, uint64_t *out)
{
	unsigned int t;

	for (t = 0; t < 48; t++) {
		unsigned int i = rnd(c->tab.n);
		uint64_t lo = c->tab.r[i].gpa, hi, g;

		hi = ring ? lo + (c->tab.r[i].size - 1) : run_last(&c->tab, i);
		if (hi - lo < len - 1)
			continue;
		g = lo + rndr(0, hi - lo - (len - 1));
		g &= ~(align - 1);
		if (g < lo)
			continue;
		if (iv_hit(c->iv, c->niv, g, len) ||
		    iv_hit(other, nother, g, len))
			continue;
		if (live && !range_live(&c->tab, g, len))
			continue;
		*out = g;
		return true;
	}
	return false;
}

static bool iv_on_pages(const struct kf_tab *t, const struct kf_iv *iv,
			uint64_t p0, uint64_t p1);

/* Host pages p0..p1: touched by no fixed allocation? */
static bool cfg_pages_free(const struct kf_cfg *c, uint64_t p0, uint64_t p1)
{
	unsigned int i;

	for (i = 0; i < c->niv; i++)
		if (iv_on_pages(&c->tab, &c->iv[i], p0, p1))
			return false;
	return true;
}

/* Make the host pages h_first..h_last fault (arena pages only). */
static bool kill_pages(uint64_t h_first, uint64_t h_last)
{
	uint64_t a = arena_base() / PG, p;

	for (p = h_first; p <= h_last; p++) {
		if (p < a || p - a >= NPAGES)
			continue;
		if (!page_set(p - a, true))
			return false;
	}
	return true;
}

/*
 * Regions: 1..8 host ranges of the arena (or, for faulting memory, of
 * the guard after it), gaps or none on both sides, gpa congruent to the
 * host address modulo 64 so that aligned rings are aligned in both.
 */
static void cfg_regions(struct kf_cfg *c)
{
	uint64_t size[MAXREG], hoff[MAXREG], grel[MAXREG], base, span, h = 0;
	unsigned int n, i, want, guard_reg = MAXREG;

	want = pct(15) ? 1 : pct(25) ? 2 : pct(40) ? rndr(3, 4) : rndr(5, 8);
	if (c->dead_side == DS_RX && want < MAXREG && pct(40))
		guard_reg = rnd(want + 1);	/* one region in the guard */
	h = 64 * rnd(256);
	for (n = 0; n < want + (guard_reg < MAXREG); n++) {
		uint64_t sz;

		if (n == guard_reg) {
			sz = rndr(PG, GUARD - PG);
			hoff[n] = ARENA + (rnd(4) * 64);
			if (hoff[n] + sz > ARENA + GUARD)
				sz = ARENA + GUARD - hoff[n];
		} else {
			sz = pct(10) ? rndr(256, 8192) : pct(70) ?
			     rndr(64 << 10, 768 << 10) : rndr(768 << 10, 2 << 20);
			if (h + sz > ARENA) {
				if (h + PG >= ARENA)
					break;
				sz = ARENA - h;
			}
			hoff[n] = h;
			h += sz + (pct(50) ? 0 : 64 * rndr(1, 2048));
		}
		size[n] = sz;
		if (n) {
			/* gpa - hva stays constant modulo 64 across regions. */
			grel[n] = grel[n - 1] + size[n - 1] +
				  (pct(45) ? 0 : 64 * rndr(1, 8192));
			grel[n] += (hoff[n] - hoff[0] - grel[n]) & 63;
		} else {
			grel[0] = 0;
		}
	}
	if (!n) {
		size[0] = 64 << 10;
		hoff[0] = 0;
		grel[0] = 0;
		n = 1;
	}
	span = grel[n - 1] + size[n - 1];
	switch (rnd(4)) {
	case 0:		/* low */
		base = 64 * rnd(1024);
		break;
	case 1:		/* the top of the 64-bit space, sometimes touching it */
		base = (0 - span) & ~63ull;
		base -= pct(50) ? 0 : 64 * rndr(1, 1024);
		break;
	default:
		base = (rnd64() & 0x0000ffffffffffffull) & ~63ull;
		if (base > 0 - span - 64)
			base = 0;
		break;
	}
	base += (arena_base() + hoff[0]) & 63;
	if (base + span - 1 < base)	/* rounding pushed it over the top */
		base -= 64;
	c->nreg = n;
	for (i = 0; i < n; i++) {
		c->reg[i].guest_phys_addr = base + grel[i];
		c->reg[i].memory_size = size[i];
		c->reg[i].userspace_addr = arena_base() + hoff[i];
		c->reg[i].flags = 0;
	}
	/* The table comes in any order. */
	for (i = n; i > 1; i--) {
		unsigned int j = rnd(i);
		struct vnetloop_mem_region x = c->reg[i - 1];

		c->reg[i - 1] = c->reg[j];
		c->reg[j] = x;
	}
	tab_build(&c->tab, c->reg, c->nreg);
}

/* An aligned gpa with no byte of [g, g + len) backed (and no wrap). */
static uint64_t pure_hole(const struct kf_tab *t, uint64_t len, uint64_t al)
{
	unsigned int k, i;

	for (k = 0; k < 64; k++) {
		const struct kf_reg *r = &t->r[rnd(t->n)];
		uint64_t last = r->gpa + (r->size - 1), g;
		bool hit = false;

		if (k & 1) {
			if (r->gpa < len + (1u << 16))
				continue;
			g = (r->gpa - len - rnd(1u << 16)) & ~(al - 1);
		} else {
			if (last > UINT64_MAX - len - (1u << 17))
				continue;
			g = (last + 1 + al + rnd(1u << 16)) & ~(al - 1);
		}
		for (i = 0; i < t->n; i++)
			if (t->r[i].gpa <= g + (len - 1) &&
			    g <= t->r[i].gpa + (t->r[i].size - 1))
				hit = true;
		if (!hit)
			return g;
	}
	/* Regions take a few MiB of 2^64: the bottom or the top is free. */
	return tab_backed(t, 0, 1) || tab_backed(t, len, 1) ?
	       (0 - len - PG) & ~(al - 1) : 0;
}

/*
 * One ring part of queue q:
 *   g  good: inside one region, on pages that do not fault
 *   h  in a hole: no byte backed
 *   s  across the end of a region (into a hole or a region it does not
 *      merge with): the engine sees it as unbacked
 *   d  inside one region, every page faulting
 *   t  inside one region, its head live and its tail on a faulting page
 */
static void cfg_ring(struct kf_cfg *c, unsigned int q, unsigned int part)
{
	uint64_t len = part_len(part, c->vr[q].num), al = part_align[part];
	uint64_t g = 0, hva = 0, room;
	char kind = 'g';
	unsigned int t, k = rnd(100);

	if (c->hostile && part != P_DESC)
		k = 99;		/* hostile: avail and used rings stay good */
	if (k < 3) {
		g = pure_hole(&c->tab, len, al);
		kind = 'h';
	} else if (k < 6 && len > 2 * al) {
		for (t = 0; t < 32; t++) {
			const struct kf_reg *r = &c->tab.r[rnd(c->tab.n)];
			uint64_t last = r->gpa + (r->size - 1);
			uint64_t back = rndr(1, len - 1);

			if (r->size < len || last > UINT64_MAX - len)
				continue;
			g = (last + 1 - back) & ~(al - 1);
			if (g < r->gpa || g + len - 1 <= last)
				continue;
			if (iv_hit(c->iv, c->niv, g, len) ||
			    !range_live(&c->tab, g, last + 1 - g))
				continue;
			kind = 's';
			break;
		}
	} else if (k < 12 && !c->hostile) {
		bool tail = k >= 9;

		for (t = 0; t < 32; t++) {
			uint64_t h0, p0, p1;

			if (!cfg_alloc(c, len, al, true, true, NULL, 0, &g))
				break;
			tab_in_one(&c->tab, g, len, &hva);
			if (tail) {
				/* Move it across the next page boundary. */
				uint64_t shift = PG - (hva & (PG - 1));
				uint64_t keep = rndr(part == P_DESC ? 16 : 4,
						     len - 1);

				if (len < 8 || shift < keep)
					continue;
				shift -= keep;
				shift &= ~(al - 1);
				if (!tab_in_one(&c->tab, g + shift, len, &h0) ||
				    iv_hit(c->iv, c->niv, g + shift, len) ||
				    !range_live(&c->tab, g + shift, len))
					continue;
				g += shift;
				hva = h0;
				if ((hva & (PG - 1)) + len <= PG ||
				    (part != P_DESC && (hva & (PG - 1)) > PG - 4))
					continue;
				p0 = hva / PG + 1;
			} else {
				p0 = hva / PG;
			}
			p1 = (hva + len - 1) / PG;
			if (!cfg_pages_free(c, p0, p1))
				continue;
			kill_pages(p0, p1);
			kind = tail ? 't' : 'd';
			break;
		}
	}
	if (kind == 'g') {
		uint64_t big = pct(30) ? PG : pct(30) ? 64 : al;

		if (!cfg_alloc(c, len, big, true, true, NULL, 0, &g) &&
		    !cfg_alloc(c, len, al, true, true, NULL, 0, &g)) {
			/* No room: in a hole then. */
			g = pure_hole(&c->tab, len, al);
			kind = 'h';
		}
	}
	/* What of it is backed is the guest's and no one else's. */
	if (kind != 'h') {
		uint64_t a = g, n = len;

		while (n && tab_find(&c->tab, a, &hva, &room)) {
			uint64_t m = room < n ? room : n;

			cfg_reserve(c, a, m);
			a += m;
			n -= m;
		}
	}
	c->vr[q].ring[part] = g;
	c->vr[q].kind[part] = kind;
}

/* A buffer area: len bytes in one run of regions, anywhere it fits. */
static uint64_t cfg_area(struct kf_cfg *c, uint64_t *len, bool live)
{
	uint64_t g;

	while (*len >= PG) {
		if (cfg_alloc(c, *len, 64, false, live, NULL, 0, &g)) {
			cfg_reserve(c, g, *len);
			return g;
		}
		*len /= 2;
	}
	*len = 0;
	return 0;
}

/* Does fixed allocation iv touch host pages p0..p1? */
static bool iv_on_pages(const struct kf_tab *t, const struct kf_iv *iv,
			uint64_t p0, uint64_t p1)
{
	uint64_t gpa = iv->a, len = iv->n, hva, room, n;

	while (len && tab_find(t, gpa, &hva, &room)) {
		n = room < len ? room : len;
		if (hva / PG <= p1 && (hva + n - 1) / PG >= p0)
			return true;
		gpa += n;
		len -= n;
	}
	return false;
}

static void cfg_dead_pages(struct kf_cfg *c)
{
	unsigned int i, j, n, t;
	uint64_t hva, room;

	if (c->dead_side == DS_TX && c->pool_len) {
		/* Pages inside the TX pool that nothing else shares. */
		n = rndr(1, 4);
		for (i = 0, t = 0; i < n && t < 32; t++) {
			uint64_t g = c->pool + rnd(c->pool_len), p;
			bool other = false;

			if (!tab_find(&c->tab, g, &hva, &room))
				continue;
			p = hva / PG;
			for (j = 0; j < c->niv; j++)
				if (c->iv[j].a != c->pool &&
				    iv_on_pages(&c->tab, &c->iv[j], p, p))
					other = true;
			if (other)
				continue;
			kill_pages(p, p);
			i++;
		}
	} else if (c->dead_side == DS_RX) {
		/* Pages where RX buffers may land and nothing fixed lives. */
		n = rndr(2, 12);
		for (i = 0, t = 0; i < n && t < 64; t++) {
			const struct kf_reg *r = &c->tab.r[rnd(c->tab.n)];
			uint64_t p = (r->hva + rnd64() % r->size) / PG;

			if (!cfg_pages_free(c, p, p))
				continue;
			kill_pages(p, p);
			i++;
		}
	}
}

static void cfg_describe(const struct kf_cfg *c)
{
	int n = 0, q;
	unsigned int i;

	n += snprintf(kf.layout + n, sizeof(kf.layout) - n,
		      "%s, faults on %s, %u regions", c->hostile ? "hostile" :
		      "clean", c->dead_side == DS_TX ? "TX" :
		      c->dead_side == DS_RX ? "RX" : "rings only", c->tab.n);
	for (i = 0; i < c->tab.n && n < 300; i++)
		n += snprintf(kf.layout + n, sizeof(kf.layout) - n,
			      " [%#" PRIx64 "+%#" PRIx64 "]", c->tab.r[i].gpa,
			      c->tab.r[i].size);
	for (q = 1; q >= 0; q--) {
		if (!c->vr[q].use) {
			n += snprintf(kf.layout + n, sizeof(kf.layout) - n,
				      "; %s off", q_name[q]);
			continue;
		}
		n += snprintf(kf.layout + n, sizeof(kf.layout) - n,
			      "; %s %u %c%c%c%s", q_name[q], c->vr[q].num,
			      c->vr[q].kind[0], c->vr[q].kind[1],
			      c->vr[q].kind[2], c->vr[q].bad ? " misaligned" : "");
	}
	snprintf(kf.layout + n, sizeof(kf.layout) - n, "; features %#" PRIx64
		 "; pool %#" PRIx64 "+%#" PRIx64, c->features, c->pool,
		 c->pool_len);
}

/*
 * A new layout. The device must not be running: pages change their
 * protection and the rings are rewritten.
 */
static bool cfg_try(struct kf_cfg *c, bool hostile);

/*
 * Fresh rings: zero, but for the two used ring fields the device must
 * leave alone (used->flags always, avail_event without EVENT_IDX), which
 * get canaries. No RX buffer is in use any more.
 */
static void cfg_rings_init(struct kf_cfg *c)
{
	unsigned int q, p;

	for (q = 0; q < NQ; q++) {
		if (!c->vr[q].use)
			continue;
		for (p = 0; p < NPART; p++)
			g_fill(&c->tab, c->vr[q].ring[p],
			       part_len(p, c->vr[q].num), 0, NULL);
		g_w16(&c->tab, c->vr[q].ring[P_USED], c->canary[q][0]);
		g_w16(&c->tab, c->vr[q].ring[P_USED] + 4 + 8ull * c->vr[q].num,
		      c->canary[q][1]);
	}
	c->nrxb = 0;
}

static void cfg_new(struct kf_cfg *c, bool hostile)
{
	unsigned int t;

	/* Hostile layouts need good avail and used rings and buffers. */
	for (t = 0; t < 8; t++)
		if (cfg_try(c, hostile) || !hostile)
			return;
	cfg_try(c, false);
}

static bool cfg_try(struct kf_cfg *c, bool hostile)
{
	unsigned int q, p;

	memset(c, 0, sizeof(*c));
	arena_revive();
	c->hostile = hostile;
	c->dead_side = hostile ? DS_NONE : pct(20) ? DS_TX : pct(30) ? DS_RX :
		       DS_NONE;
	cfg_regions(c);
	c->vr[TXQ].use = true;
	c->vr[TXQ].num = pct(35) ? 256 : pct(35) ? rndr(64, 128) & ~63u :
			 rnd_qsize(8);
	if (!c->vr[TXQ].num)
		c->vr[TXQ].num = 64;
	c->vr[RXQ].use = pct(90);
	c->vr[RXQ].num = pct(60) ? c->vr[TXQ].num : pct(50) ?
			 (c->vr[TXQ].num < QMAX ? 2 * c->vr[TXQ].num : QMAX) :
			 rnd_qsize(8);
	for (q = 0; q < NQ; q++)
		for (p = 0; p < NPART; p++)
			if (c->vr[q].use)
				cfg_ring(c, q, p);
	/* A misaligned RX ring (vr_of()): SET_VRING refuses it, RX stays off. */
	if (c->vr[RXQ].use && pct(4))
		c->vr[RXQ].bad = true;
	c->features = (uint64_t)VNETLOOP_FEATURES &
		      ~(pct(45) ? 1ull << VIRTIO_RING_F_EVENT_IDX : 0);
	if (pct(10))
		c->features = rnd64() & VNETLOOP_FEATURES;
	c->pool_len = rndr(32 << 10, 160 << 10) & ~63ull;
	c->pool = cfg_area(c, &c->pool_len, true);
	if (hostile) {
		c->rxa_len = rndr(64 << 10, 512 << 10);
		c->rxa = cfg_area(c, &c->rxa_len, false);
	}
	cfg_dead_pages(c);
	c->fill = rnd64();
	for (q = 0; q < NQ; q++) {
		c->canary[q][0] = (uint16_t)rnd64();
		c->canary[q][1] = (uint16_t)rnd64();
	}
	cfg_rings_init(c);
	g_fill(&c->tab, c->pool, c->pool_len, -1, &c->fill);
	if (c->rxa_len)
		g_fill(&c->tab, c->rxa, c->rxa_len, CANARY, NULL);
	cfg_describe(c);
	if (!hostile)
		return true;
	for (q = 0; q < NQ; q++)
		if (c->vr[q].use && (c->vr[q].kind[P_AVAIL] != 'g' ||
				     c->vr[q].kind[P_USED] != 'g'))
			return false;
	return c->pool_len && c->rxa_len;
}

/* ------------------------------------------------------------------ */
/* The device: counters, ioctls and what the ABI lets them return      */
/* ------------------------------------------------------------------ */

enum {
	EI_OK, EI_INVAL, EI_2BIG, EI_FAULT, EI_BUSY, EI_BADF, EI_PERM,
	EI_NOTTY, EI_OTHER, EI_N
};

#define E_OK	(1u << EI_OK)
#define E_INVAL	(1u << EI_INVAL)
#define E_2BIG	(1u << EI_2BIG)
#define E_FAULT	(1u << EI_FAULT)
#define E_BUSY	(1u << EI_BUSY)
#define E_BADF	(1u << EI_BADF)
#define E_PERM	(1u << EI_PERM)
#define E_NOTTY	(1u << EI_NOTTY)

static unsigned int ebit(int e)
{
	switch (e) {
	case 0: return E_OK;
	case EINVAL: return E_INVAL;
	case E2BIG: return E_2BIG;
	case EFAULT: return E_FAULT;
	case EBUSY: return E_BUSY;
	case EBADF: return E_BADF;
	case EPERM: return E_PERM;
	case ENOTTY: return E_NOTTY;
	default: return 1u << EI_OTHER;
	}
}

static const char *eset(unsigned int m, char *buf, size_t len)
{
	static const char *const names[EI_N] = {
		"0", "EINVAL", "E2BIG", "EFAULT", "EBUSY", "EBADF", "EPERM",
		"ENOTTY", "?",
	};
	size_t n = 0;
	unsigned int i;

	buf[0] = 0;
	for (i = 0; i < EI_N; i++)
		if (m & (1u << i))
			n += snprintf(buf + n, len - n, "%s%s", n ? "|" : "",
				      names[i]);
	return buf;
}

static int xio(int fd, unsigned long cmd, void *arg)
{
	kf.ioctls++;
	return ioctl(fd, cmd, arg) ? errno : 0;
}

/* The same on the device; any known command but GET_INFO binds the owner. */
static int dio(struct kf_dev *d, unsigned long cmd, void *arg)
{
	if (cmd != VNETLOOP_GET_INFO)
		d->bound = true;
	return xio(d->fd, cmd, arg);
}

static bool io_ok(const char *what, int ret, unsigned int allow)
{
	char a[96];

	if (allow & ebit(ret))
		return true;
	return fail("%s returned %s (%d), Documentation/kmod-abi.rst allows %s",
		    what, ret ? strerror(ret) : "0", ret, eset(allow, a,
							       sizeof(a)));
}

/*
 * Read the counters: none ever decreases. (Across counters a read is
 * consistent only at rest: counters.rst.)
 */
static bool dev_read(struct kf_dev *d, uint64_t *c)
{
	int ret = nl_counters(d->id, c);
	unsigned int i;

	if (ret)
		return fail("netlink GET of device %u: %s", d->id,
			    strerror(-ret));
	for (i = 0; i < NCNT; i++)
		if (c[i] < d->c[i])
			return fail("counter %s went back from %" PRIu64
				    " to %" PRIu64, cnt_name_of(i), d->c[i], c[i]);
	kf.drains += c[C(WORKER_RUNS)] - d->c[C(WORKER_RUNS)];
	memcpy(d->c, c, sizeof(d->c));
	return true;
}

static bool dev_open(struct kf_dev *d)
{
	struct vnetloop_info info;
	uint64_t c[NCNT];
	unsigned int i;
	int ret;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	for (i = 0; i < 3; i++)
		d->efd[i] = -1;
	d->fd = open(VG_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (d->fd < 0)
		return fail("open %s: %s", VG_DEV_PATH, strerror(errno));
	memset(&info, 0xee, sizeof(info));
	ret = xio(d->fd, VNETLOOP_GET_INFO, &info);
	if (ret)
		return fail("GET_INFO: %s", strerror(ret));
	if (info.api_version != VNETLOOP_API_VERSION ||
	    info.num_counters != NCNT || info.max_regions != MAXREG ||
	    info.max_queue_size != QMAX || info.features != VNETLOOP_FEATURES)
		return fail("GET_INFO: api %u counters %u regions %u queue %u "
			    "features %#" PRIx64, info.api_version,
			    info.num_counters, info.max_regions,
			    info.max_queue_size, (uint64_t)info.features);
	d->id = info.dev_id;
	kf.dev_id = d->id;
	for (i = 0; i < 3; i++) {
		d->efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->efd[i] < 0)
			return fail("eventfd: %s", strerror(errno));
	}
	d->kick = d->call = -1;
	q_forget(&d->q[RXQ]);
	q_forget(&d->q[TXQ]);
	d->bpk = d->bpk_max = 256;	/* the documented default budget */
	d->bby = 512 << 10;
	if (!dev_read(d, c))
		return false;
	for (i = 0; i < NCNT; i++)
		if (c[i])
			return fail("a new device starts with %s = %" PRIu64,
				    cnt_name_of(i), c[i]);
	kf.devices++;
	return true;
}

/* Close the device; it must be gone from netlink right away. */
static void dev_close(struct kf_dev *d)
{
	uint64_t c[NCNT];
	unsigned int i;
	int ret;

	if (d->fd >= 0 && !kf.dev_bad)
		dev_read(d, c);
	for (i = 0; d->fd >= 0 && i < NCNT; i++)
		kf.total[i] += d->c[i];
	if (d->fd >= 0) {
		close(d->fd);
		d->fd = -1;
		ret = nl_counters(d->id, c);
		if (ret != -ENODEV)
			fail("device %u still answers netlink after its close "
			     "(%s)", d->id, ret ? strerror(-ret) : "counters");
	}
	for (i = 0; i < 3; i++)
		if (d->efd[i] >= 0)
			close(d->efd[i]);
	memset(d->efd, 0xff, sizeof(d->efd));
}

/* Where an ioctl argument lives: fine, NULL, unreadable, half readable. */
enum { PTR_OK, PTR_NULL, PTR_NONE, PTR_EDGE };

static int rnd_ptr(void)
{
	return pct(88) ? PTR_OK : (int)rndr(PTR_NULL, PTR_EDGE);
}

/* The argument copied to where ptrv says; NULL for PTR_NULL. */
static void *place_arg(int ptrv, const void *arg, size_t len, void *good)
{
	switch (ptrv) {
	case PTR_NULL:
		return NULL;
	case PTR_NONE:
		return kf.edge + PG;
	case PTR_EDGE:
		/* The last bytes readable, the rest on the PROT_NONE page. */
		memcpy(kf.edge + PG - len / 2, arg, len / 2);
		return kf.edge + PG - len / 2;
	default:
		memcpy(good, arg, len);
		return good;
	}
}

static bool is_pow2(uint64_t n)
{
	return n && !(n & (n - 1));
}

/* Kernel-half addresses and ranges that wrap never pass access_ok(). */
static bool hva_bad(uint64_t hva, uint64_t size)
{
	return hva >= (1ull << 63) || wraps(hva, size) ||
	       hva + size > (1ull << 63);
}

static bool io_set_mem(struct kf_dev *d, const struct vnetloop_mem_region *r,
		       uint32_t nreg, uint32_t tflags, int ptrv)
{
	uint64_t buf[(sizeof(struct vnetloop_mem_table) +
		      10 * sizeof(struct vnetloop_mem_region)) / 8];
	struct vnetloop_mem_table *t = (void *)buf;
	unsigned int allow = 0, i, j, n = nreg <= 9 ? nreg : 9;
	void *arg;
	char what[64];
	int ret;

	memset(buf, 0, sizeof(buf));
	t->nregions = nreg;
	t->flags = tflags;
	memcpy(t->regions, r, n * sizeof(*r));
	if (d->running)
		allow |= E_BUSY;
	if (ptrv == PTR_NULL || ptrv == PTR_NONE) {
		allow |= E_FAULT;
	} else if (tflags || !nreg || nreg > MAXREG) {
		allow |= (tflags || !nreg) ? E_INVAL : 0;
		allow |= nreg > MAXREG ? E_2BIG : 0;
	} else if (ptrv == PTR_EDGE) {
		allow |= E_FAULT;
	} else {
		for (i = 0; i < nreg; i++) {
			if (r[i].flags || !r[i].memory_size ||
			    wraps(r[i].guest_phys_addr, r[i].memory_size))
				allow |= E_INVAL;
			if (hva_bad(r[i].userspace_addr, r[i].memory_size))
				allow |= E_FAULT |
					 (wraps(r[i].userspace_addr,
						r[i].memory_size) ? E_INVAL : 0);
			for (j = 0; j < i; j++) {
				const struct vnetloop_mem_region *a = &r[i], *b = &r[j];

				if (!a->memory_size || !b->memory_size)
					continue;
				if (a->guest_phys_addr <= b->guest_phys_addr +
				    (b->memory_size - 1) && b->guest_phys_addr <=
				    a->guest_phys_addr + (a->memory_size - 1))
					allow |= E_INVAL;
			}
		}
	}
	if (!allow)
		allow = E_OK;
	if (ptrv == PTR_EDGE) {
		/* The header readable, the regions on the PROT_NONE page. */
		memcpy(kf.edge + PG - sizeof(*t), t, sizeof(*t));
		arg = kf.edge + PG - sizeof(*t);
	} else {
		arg = ptrv == PTR_NULL ? NULL : ptrv == PTR_NONE ?
		      (void *)(kf.edge + PG) : (void *)t;
	}
	ret = dio(d, VNETLOOP_SET_MEM_TABLE, arg);
	snprintf(what, sizeof(what), "SET_MEM_TABLE(%u regions%s)", nreg,
		 d->running ? ", running" : "");
	if (!io_ok(what, ret, allow))
		return false;
	if (!ret) {
		d->has_mem = true;
		tab_build(&d->tab, r, nreg);
	}
	return true;
}

static bool io_set_vring(struct kf_dev *d, const struct vnetloop_vring *v,
			 int ptrv)
{
	struct vnetloop_vring good;
	unsigned int allow = 0;
	char what[96];
	void *arg;
	int ret;

	if (d->running)
		allow |= E_BUSY;
	if (ptrv != PTR_OK) {
		allow |= E_FAULT;
	} else {
		if (v->index >= NQ || v->flags || v->reserved0 ||
		    v->reserved[0] || v->reserved[1])
			allow |= E_INVAL;
		if (!v->num || v->num > QMAX || !is_pow2(v->num))
			allow |= E_INVAL;
		if ((v->desc_addr & 15) || (v->avail_addr & 1) ||
		    (v->used_addr & 3))
			allow |= E_INVAL;
		if (wraps(v->desc_addr, 16ull * v->num) ||
		    wraps(v->avail_addr, 6 + 2ull * v->num) ||
		    wraps(v->used_addr, 6 + 8ull * v->num))
			allow |= E_INVAL;
	}
	if (!allow)
		allow = E_OK;
	arg = place_arg(ptrv, v, sizeof(*v), &good);
	ret = dio(d, VNETLOOP_SET_VRING, arg);
	snprintf(what, sizeof(what), "SET_VRING(%u, num %u, %#" PRIx64 "%s)",
		 v->index, v->num, (uint64_t)v->desc_addr,
		 d->running ? ", running" : "");
	if (!io_ok(what, ret, allow))
		return false;
	if (!ret) {
		struct kf_vq *q = &d->q[v->index];

		q_forget(q);
		q->ready = true;
		q->num = v->num;
		q->ring[P_DESC] = v->desc_addr;
		q->ring[P_AVAIL] = v->avail_addr;
		q->ring[P_USED] = v->used_addr;
	}
	return true;
}

static bool io_set_features(struct kf_dev *d, uint64_t f, int ptrv)
{
	unsigned int allow = d->running ? E_BUSY : 0;
	uint64_t good;
	char what[64];
	int ret;

	if (ptrv != PTR_OK)
		allow |= E_FAULT;
	else if (f & ~(uint64_t)VNETLOOP_FEATURES)
		allow |= E_INVAL;
	if (!allow)
		allow = E_OK;
	ret = dio(d, VNETLOOP_SET_FEATURES,
		  place_arg(ptrv, &f, sizeof(f), &good));
	snprintf(what, sizeof(what), "SET_FEATURES(%#" PRIx64 "%s)", f,
		 d->running ? ", running" : "");
	if (!io_ok(what, ret, allow))
		return false;
	if (!ret)
		d->features = f;
	return true;
}

/* What SET_EVENTFDS makes of an fd: 0 an eventfd, else its errno. */
static unsigned int fd_err(const struct kf_dev *d, int fd)
{
	int i;

	for (i = 0; i < 3; i++)
		if (fd == d->efd[i])
			return 0;
	if (fd == d->fd || fd == kf.pipefd[0] || fd == kf.pipefd[1] ||
	    fd == kf.nullfd || fd == vnl_nl_fd(&kf.nl))
		return E_INVAL;
	return E_BADF;
}

static int rnd_fd(const struct kf_dev *d)
{
	switch (rnd(10)) {
	case 0: return -1;
	case 1: return 100000 + (int)rnd(1000);
	case 2: return d->fd;
	case 3: return kf.pipefd[rnd(2)];
	case 4: return kf.nullfd;
	default: return d->efd[rnd(3)];
	}
}

static bool io_set_eventfds(struct kf_dev *d, int kick, int call,
			    uint32_t flags, uint32_t res, int ptrv)
{
	struct vnetloop_eventfds e = {
		.kick_fd = kick, .call_fd = call, .flags = flags,
		.reserved0 = res,
	}, good;
	unsigned int allow = d->running ? E_BUSY : 0;
	char what[96];
	int ret;

	if (ptrv != PTR_OK)
		allow |= E_FAULT;
	else
		allow |= ((flags || res) ? E_INVAL : 0) | fd_err(d, kick) |
			 fd_err(d, call);
	if (!allow)
		allow = E_OK;
	ret = dio(d, VNETLOOP_SET_EVENTFDS,
		  place_arg(ptrv, &e, sizeof(e), &good));
	snprintf(what, sizeof(what), "SET_EVENTFDS(%d, %d, %#x, %#x%s)", kick,
		 call, flags, res, d->running ? ", running" : "");
	if (!io_ok(what, ret, allow))
		return false;
	if (!ret) {
		d->kick = kick;
		d->call = call;
	}
	return true;
}

static bool io_start(struct kf_dev *d)
{
	unsigned int allow = d->running ? E_BUSY :
			 (!d->has_mem || !d->q[TXQ].ready || d->kick < 0) ?
			 E_INVAL : E_OK;
	int ret = dio(d, VNETLOOP_START, NULL);

	if (!io_ok(d->running ? "START (running)" : "START", ret, allow))
		return false;
	if (!ret)
		d->running = true;
	return true;
}

/* Read the call eventfd: the interrupts since the last read. */
static uint64_t efd_take(int fd)
{
	uint64_t n;

	if (fd < 0 || read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

/* What RESET does to the model (the table and counters stay). */
static void reset_model(struct kf_dev *d)
{
	d->running = false;
	d->features = 0;
	d->kick = d->call = -1;
	q_forget(&d->q[RXQ]);
	q_forget(&d->q[TXQ]);
	d->iaic_reset = d->c[C(INVALID_AVAIL_IDX_COUNT)];
}

/*
 * RESET: valid always; afterwards the worker is stopped, so the counters
 * read now are final for what ran before (the model is left to the
 * caller: reset_model()).
 */
static bool io_reset_raw(struct kf_dev *d)
{
	uint64_t c[NCNT];
	int ret = dio(d, VNETLOOP_RESET, NULL);

	if (!io_ok("RESET", ret, E_OK))
		return false;
	return dev_read(d, c);
}

static bool io_reset(struct kf_dev *d)
{
	if (!io_reset_raw(d))
		return false;
	reset_model(d);
	return true;
}

/*
 * GET_IRQ: bits within their masks, running as the model says, and
 * NEEDS_RESET only after a poisoning that was counted since the RESET.
 */
static bool io_get_irq(struct kf_dev *d, int ptrv, struct vnetloop_irq_state *out)
{
	struct vnetloop_irq_state st, good;
	uint64_t c[NCNT];
	int ret;

	memset(&st, 0xee, sizeof(st));
	if (ptrv == PTR_OK) {
		ret = dio(d, VNETLOOP_GET_IRQ, &st);
	} else {
		ret = dio(d, VNETLOOP_GET_IRQ,
			  place_arg(ptrv, &st, sizeof(st), &good));
		return io_ok("GET_IRQ(bad pointer)", ret, E_FAULT);
	}
	if (!io_ok("GET_IRQ", ret, E_OK))
		return false;
	if ((st.isr & ~3u) || (st.status & ~(uint32_t)VIRTIO_CONFIG_S_NEEDS_RESET) ||
	    st.running != d->running || st.reserved0 || st.reserved[0] ||
	    st.reserved[1])
		return fail("GET_IRQ: isr %#x status %#x running %u (expected "
			    "%u), reserved %#x", st.isr, st.status, st.running,
			    d->running, st.reserved0);
	if ((st.status & VIRTIO_CONFIG_S_NEEDS_RESET) &&
	    d->c[C(INVALID_AVAIL_IDX_COUNT)] == d->iaic_reset) {
		/* Counted before NEEDS_RESET is set: the count must show. */
		if (!dev_read(d, c))
			return false;
		if (c[C(INVALID_AVAIL_IDX_COUNT)] == d->iaic_reset)
			return fail("NEEDS_RESET without a poisoning counted "
				    "since RESET (invalid_avail_idx_count %"
				    PRIu64 ")", d->iaic_reset);
	}
	if (out)
		*out = st;
	return true;
}

static bool io_ack_irq(struct kf_dev *d, uint32_t bits, int ptrv)
{
	uint32_t good;
	int ret = dio(d, VNETLOOP_ACK_IRQ,
		      place_arg(ptrv, &bits, sizeof(bits), &good));

	if (ptrv != PTR_OK)
		return io_ok("ACK_IRQ(bad pointer)", ret, E_FAULT);
	return io_ok("ACK_IRQ", ret, (bits & ~3u) ? E_INVAL : E_OK);
}

static bool io_get_info(struct kf_dev *d, int ptrv)
{
	struct vnetloop_info info = { 0 }, good;
	int ret = xio(d->fd, VNETLOOP_GET_INFO,
		      place_arg(ptrv, &info, sizeof(info), &good));

	if (ptrv != PTR_OK)
		return io_ok("GET_INFO(bad pointer)", ret, E_FAULT);
	if (!io_ok("GET_INFO", ret, E_OK))
		return false;
	if (good.dev_id != d->id || good.features != VNETLOOP_FEATURES)
		return fail("GET_INFO: device id %u (expected %u), features %#"
			    PRIx64, good.dev_id, d->id,
			    (uint64_t)good.features);
	return true;
}

/* Commands the module does not have: magic 0xB7, other numbers or sizes. */
static bool io_unknown(struct kf_dev *d)
{
	static const unsigned long cmds[] = {
		_IO(VNETLOOP_IOC_MAGIC, 0x09),
		_IO(VNETLOOP_IOC_MAGIC, 0x7f),
		_IOR(VNETLOOP_IOC_MAGIC, 0x00, uint32_t),
		_IOW(VNETLOOP_IOC_MAGIC, 0x07, struct vnetloop_irq_state),
		_IOWR(VNETLOOP_IOC_MAGIC, 0x02, struct vnetloop_vring),
		_IO(VNETLOOP_IOC_MAGIC + 1, 0x05),
	};
	uint64_t junk[8] = { 0 };
	int ret = xio(d->fd, cmds[rnd(ARRAY_LEN(cmds))], junk);

	return io_ok("an unknown ioctl", ret, E_NOTTY);
}

static bool dev_kick(struct kf_dev *d, int fd, uint64_t *kicks)
{
	uint64_t one = 1;

	if (fd < 0)
		return true;
	if (write(fd, &one, sizeof(one)) != sizeof(one))
		return fail("kick: write to eventfd %d: %s", fd,
			    strerror(errno));
	if (kicks && d->running && fd == d->kick)
		(*kicks)++;
	return true;
}

/*
 * Another process (a forked child, so another mm) gets -EPERM for every
 * ioctl but GET_INFO, whatever the arguments.
 */
static bool io_other_owner(struct kf_dev *d)
{
	int status = 0;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return fail("fork: %s", strerror(errno));
	if (!pid) {
		static const unsigned long cmds[] = {
			VNETLOOP_SET_MEM_TABLE, VNETLOOP_SET_VRING,
			VNETLOOP_SET_FEATURES, VNETLOOP_SET_EVENTFDS,
			VNETLOOP_START, VNETLOOP_RESET, VNETLOOP_GET_IRQ,
			VNETLOOP_ACK_IRQ,
		};
		uint64_t arg[32] = { 0 };
		struct vnetloop_info info;
		unsigned int i, bad = 0;

		for (i = 0; i < ARRAY_LEN(cmds); i++)
			if (ioctl(d->fd, cmds[i], arg) != -1 || errno != EPERM)
				bad |= 1u << i;
		if (ioctl(d->fd, VNETLOOP_GET_INFO, &info))
			bad |= 1u << 8;
		_exit(bad ? 100 + (int)__builtin_ctz(bad) : 0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return fail("an ioctl from another process did not get EPERM "
			    "(GET_INFO: 0): child status %#x", status);
	return true;
}

/* ------------------------------------------------------------------ */
/* The guest driver: descriptors, chains, avail entries                */
/* ------------------------------------------------------------------ */

static void desc_put(const struct kf_tab *t, const struct kf_vq *q, uint16_t i,
		     uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = gp(t, q->ring[P_DESC] + 16ull * i, 16);
	uint64_t a = htole64(addr);
	uint32_t l = htole32(len);
	uint16_t f = htole16(flags), n = htole16(next);

	if (!p)
		return;
	memcpy(p, &a, 8);
	memcpy(p + 8, &l, 4);
	memcpy(p + 12, &f, 2);
	memcpy(p + 14, &n, 2);
}

/* Offer head at position pos (not yet published). */
static void avail_put(const struct kf_tab *t, const struct kf_vq *q,
		      uint16_t pos, uint16_t head)
{
	g_w16(t, q->ring[P_AVAIL] + 4 + 2ull * (pos & (q->num - 1)), head);
}

/*
 * An address with not all of [a, a + len) backed, or a wrapping one. Half
 * the time it starts in the last bytes of a region, unless they would be
 * in avoid[] (the device writes RX pieces up to where they fault).
 */
static uint64_t hole_addr(const struct kf_tab *t, uint64_t len,
			  const struct kf_iv *avoid, unsigned int navoid, uint64_t *rs)
{
	unsigned int i, k;

	for (k = 0; k < 16; k++) {
		const struct kf_reg *r = &t->r[rnd64_s(rs) % t->n];
		uint64_t last = r->gpa + (r->size - 1), a;
		bool hit = false;

		if (last > UINT64_MAX - len - (1u << 20))
			continue;
		a = last + 1 + rnd64_s(rs) % (1u << 16);
		/* Half the time across the end: the first bytes are backed. */
		if (rnd64_s(rs) % 2 && len > 1 && a - (last + 1) < len - 1 &&
		    !iv_hit(avoid, navoid, last + 1 - (len - 1), len - 1))
			a = last + 1 - (1 + rnd64_s(rs) % (len - 1));
		for (i = 0; i < t->n; i++)
			if (t->r[i].gpa > last && t->r[i].gpa <= a + len - 1)
				hit = true;
		if (!hit && !tab_backed(t, a, len))
			return a;
	}
	return 0 - len + 1 + (len > 1 ? rnd64_s(rs) % (len - 1) : 0); /* wraps */
}

/* A chain as the driver writes it: one segment per descriptor. */
struct kf_gseg {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	bool next_set;		/* next below overrides the chain's own */
	bool loop;		/* next: one of the chain's own descriptors */
	uint16_t next;
};

struct kf_gchain {
	unsigned int n;
	struct kf_gseg s[QMAX];
	char what[48];
};

static struct kf_gchain gch;

/* Cut total bytes into n segments, zero-length ones allowed. */
static void gch_cut(struct kf_gchain *g, unsigned int n, uint64_t total,
		    uint64_t maxseg)
{
	uint64_t cut[QMAX + 1], x;
	bool even = false;
	unsigned int i, j;

	if (n < 1)
		n = 1;
	cut[0] = 0;
	cut[n] = total;
	for (i = 1; i < n; i++) {
		x = rndr(0, total);
		for (j = i; j > 1 && cut[j - 1] > x; j--)
			cut[j] = cut[j - 1];
		cut[j] = x;
	}
	for (i = 0; i < n; i++) {
		g->s[i].len = (uint32_t)(cut[i + 1] - cut[i]);
		g->s[i].flags = 0;
		g->s[i].next_set = false;
		g->s[i].loop = false;
		if (cut[i + 1] - cut[i] > maxseg)
			even = true;
	}
	/* A piece too long for the pool: equal pieces then (total <= n * max). */
	for (i = 0; even && i < n; i++)
		g->s[i].len = (uint32_t)(total / n + (i < total % n));
	g->n = n;
}

/*
 * Write chain g into queue q's descriptors desc[0..g->n-1] (already
 * owned by the caller) and return its head.
 */
static uint16_t gch_write(const struct kf_tab *t, const struct kf_vq *q,
			  const struct kf_gchain *g, const uint16_t *desc)
{
	unsigned int i;

	for (i = 0; i < g->n; i++) {
		const struct kf_gseg *s = &g->s[i];
		uint16_t flags = s->flags, next = 0;

		if (i + 1 < g->n) {
			flags |= F_NEXT;
			next = desc[i + 1];
		}
		if (s->next_set) {
			flags |= F_NEXT;
			next = s->loop ? desc[rnd(g->n)] : s->next;
		}
		desc_put(t, q, desc[i], s->addr, s->len, flags, next);
	}
	return desc[0];
}

static uint32_t rnd_frame_len(void)
{
	unsigned int k = rnd(100);

	if (k < 30)
		return rndr(0, 64);
	if (k < 65)
		return rndr(60, 1514);
	if (k < 82)
		return rndr(1515, 2100);
	if (k < 92)
		return rndr(2100, 9000);
	if (k < 95)
		return rndr(9000, MAXF);
	if (k < 98)
		return MAXF - 1 + rnd(3);	/* the limit and one past */
	return rndr(MAXF + 1, 2 * MAXF);
}

/*
 * The malformations TX and RX chains share (case numbers in both of the
 * generators below), each drawing its randomness as before.
 */
enum { MF_INDIRECT = 1, MF_NEXT_OUT, MF_LOOP, MF_NEXT_ANY };

static void gch_malform_link(struct kf_gchain *g, unsigned int i,
			     unsigned int num, unsigned int kind)
{
	struct kf_gseg *last = &g->s[g->n - 1];

	switch (kind) {
	case MF_INDIRECT:
		g->s[i].flags |= F_INDIRECT;
		strcpy(g->what, "INDIRECT");
		break;
	case MF_NEXT_OUT:
		g->s[i].next_set = true;
		g->s[i].next = (uint16_t)rndr(num, 0xffff);
		strcpy(g->what, "next out of range");
		break;
	case MF_LOOP:
		last->next_set = true;
		last->loop = true;
		strcpy(g->what, "loop");
		break;
	case MF_NEXT_ANY:
		last->next_set = true;
		last->next = (uint16_t)rnd(num);
		strcpy(g->what, "next into any descriptor");
		break;
	}
}

/* Descriptor i's address range wraps the 64-bit space. */
static void gch_wrap(struct kf_gchain *g, unsigned int i)
{
	if (g->s[i].len < 2)
		g->s[i].len = 2;
	g->s[i].addr = 0 - (uint64_t)g->s[i].len + 1 + rnd(g->s[i].len - 1);
	strcpy(g->what, "wrapping address");
}

/* An empty descriptor at i, at a wild address: never read, never written. */
static void gch_insert_empty(struct kf_gchain *g, unsigned int i,
			     uint16_t flags, unsigned int num,
			     unsigned int n_desc)
{
	if (g->n >= num || g->n >= n_desc)
		return;
	memmove(&g->s[i + 1], &g->s[i], (g->n - i) * sizeof(g->s[0]));
	g->s[i].len = 0;
	g->s[i].addr = rnd64();
	g->s[i].flags = flags;
	g->s[i].next_set = false;
	g->s[i].loop = false;
	g->n++;
	strcpy(g->what, "empty descriptor, wild address");
}

/*
 * A TX chain of random shape into g: frame bytes from the pool, and with
 * some probability one of the malformations that make a chain invalid (or a
 * harmless oddity). n_desc is how many descriptors the caller has.
 * Returns false for "no chain, offer a head out of range instead".
 */
static bool gen_tx(const struct kf_cfg *c, unsigned int num, unsigned int n_desc,
		   struct kf_gchain *g)
{
	uint64_t total = HDR + rnd_frame_len(), maxseg = c->pool_len;
	unsigned int n, i, m = pct(18) ? rnd(14) : 99;

	strcpy(g->what, "ok");
	if (!n_desc || m == 10 || !c->pool_len) {
		strcpy(g->what, "head out of range");
		return false;
	}
	n = pct(55) ? 1 : pct(65) ? rndr(2, 4) : pct(80) ? rndr(5, 16) :
	    rndr(17, num);
	if (n > n_desc)
		n = n_desc;
	if (n > num)
		n = num;
	if (m == 5)
		total = rnd(HDR);
	if (total > (uint64_t)n * maxseg)
		total = (uint64_t)n * maxseg;
	gch_cut(g, n, total, maxseg);
	for (i = 0; i < g->n; i++)
		g->s[i].addr = c->pool + rnd((uint32_t)(c->pool_len -
							g->s[i].len + 1));
	i = rnd(g->n);
	switch (m) {
	case 0:
		g->s[i].flags |= F_WRITE;
		strcpy(g->what, "device-writable descriptor");
		break;
	case MF_INDIRECT:
	case MF_NEXT_OUT:
	case MF_LOOP:
	case MF_NEXT_ANY:
		gch_malform_link(g, i, num, m);
		break;
	case 5:
		strcpy(g->what, "shorter than the header");
		break;
	case 6:
		gch_wrap(g, i);
		break;
	case 7:
		if (!g->s[i].len)
			g->s[i].len = 1 + rnd(64);
		g->s[i].addr = hole_addr(&c->tab, g->s[i].len, NULL, 0, &kf.rng);
		strcpy(g->what, "address not backed");
		break;
	case 8:
		g->s[i].len = (uint32_t)rndr(2 * MAXF, UINT32_MAX);
		strcpy(g->what, "huge descriptor");
		break;
	case 9:
		gch_insert_empty(g, i, 0, num, n_desc);
		break;
	case 11:
		g->s[i].flags |= (uint16_t)(rnd64() & 0xfff8);
		strcpy(g->what, "unknown flag bits");
		break;
	case 12:
		/* Oversize but backed: pieces of the pool. */
		if ((uint64_t)g->n * maxseg > HDR + MAXF + 1) {
			gch_cut(g, g->n, rndr(HDR + MAXF + 1, (uint64_t)g->n *
					  maxseg < HDR + 3 * MAXF ?
					  (uint64_t)g->n * maxseg :
					  HDR + 3 * MAXF), maxseg);
			for (i = 0; i < g->n; i++)
				g->s[i].addr = c->pool +
					rnd((uint32_t)(c->pool_len -
						       g->s[i].len + 1));
			strcpy(g->what, "oversize");
		}
		break;
	case 13:
		if ((uint64_t)g->n * maxseg >= HDR + MAXF) {
			gch_cut(g, g->n, HDR + MAXF, maxseg);
			for (i = 0; i < g->n; i++)
				g->s[i].addr = c->pool +
					rnd((uint32_t)(c->pool_len -
						       g->s[i].len + 1));
			strcpy(g->what, "the largest frame");
		}
		break;
	}
	return true;
}

/*
 * An RX chain: buffer bytes at buf (blen bytes, already allocated), cut in
 * descriptors, with some probability malformed. hole_ok: an RX piece may
 * lie outside guest RAM (never when TX reads may fault: see DS_TX).
 */
static void gen_rx(const struct kf_cfg *c, unsigned int num, unsigned int n_desc,
		   uint64_t buf, uint64_t blen, bool hole_ok,
		   struct kf_gchain *g)
{
	unsigned int n, i, m = pct(10) ? rnd(9) : 99;
	uint64_t off = 0;

	(void)c;
	strcpy(g->what, "ok");
	n = pct(65) ? 1 : pct(80) ? rndr(2, 4) : rndr(5, 16);
	if (n > n_desc)
		n = n_desc;
	if (n > num)
		n = num;
	gch_cut(g, n, blen, UINT32_MAX);
	for (i = 0; i < g->n; i++) {
		g->s[i].addr = buf + off;
		g->s[i].flags = F_WRITE;
		off += g->s[i].len;
	}
	i = rnd(g->n);
	switch (m) {
	case 0:
		g->s[i].flags &= ~F_WRITE;
		strcpy(g->what, "device-readable descriptor");
		break;
	case MF_INDIRECT:
	case MF_NEXT_OUT:
	case MF_LOOP:
	case MF_NEXT_ANY:
		gch_malform_link(g, i, num, m);
		break;
	case 5:
		gch_wrap(g, i);
		break;
	case 6:
		if (hole_ok) {
			if (!g->s[i].len)
				g->s[i].len = 1 + rnd(2000);
			g->s[i].addr = hole_addr(&c->tab, g->s[i].len, c->iv,
						 c->niv, &kf.rng);
			strcpy(g->what, "piece not backed");
		}
		break;
	case 7:
		gch_insert_empty(g, i, F_WRITE, num, n_desc);
		break;
	case 8:
		g->n = 0;
		strcpy(g->what, "head out of range");
		break;
	}
}

/* RX buffer capacity (header included). */
static uint64_t rnd_rx_cap(void)
{
	unsigned int k = rnd(100);

	if (k < 60)
		return HDR + rndr(1514, 2100);
	if (k < 78)
		return HDR + rndr(0, 3000);
	if (k < 90)
		return rndr(HDR, 100);
	if (k < 95)
		return rndr(1, HDR - 1);
	return rndr(8000, HDR + MAXF + 64);
}

/* ------------------------------------------------------------------ */
/* The model: each TX chain replayed by the contract                   */
/* ------------------------------------------------------------------ */

struct kf_seg {
	uint64_t addr;
	uint32_t len;
};

struct kf_chain {
	unsigned int n;
	uint64_t total;
	struct kf_seg s[QMAX];
};

enum { V_OK, V_INVALID, V_OVERSIZE };
enum { RF_NONE, RF_NORX, RF_POIS, RF_INVALID, RF_WFAIL, RF_DELIV, RF_SRC };

static const char *const v_name[] = { "valid", "invalid", "oversize" };
static const char *const rf_name[] = {
	"-", "no RX buffer", "RX poisoned", "RX chain invalid",
	"RX write failed", "delivered", "TX read faulted",
};

/* One write into an RX chain, in the order the device makes them. */
struct kf_op {
	uint8_t kind;		/* RF_DELIV, RF_WFAIL, RF_SRC */
	bool used;		/* its used entry was written */
	uint16_t rxhead, txhead, rxpos;
	uint32_t room;
};

struct kf_ue {
	uint32_t id, len;
};

struct kf_sim {
	struct kf_vq q[NQ];		/* the model's queues, moved along */
	uint64_t d[NCNT];		/* contract counter deltas */
	struct kf_ue ue[NQ][QMAX];	/* used entries, in order */
	unsigned int nue[NQ];
	struct kf_op op[2 * QMAX];
	unsigned int nop;
	unsigned int popped;		/* TX chains popped */
	unsigned int poisoned;		/* queues poisoned (bit per queue) */
	bool ambiguous;			/* both sides of a copy may fault */
	struct {
		uint16_t head;
		uint8_t v, rf;
		bool unb_over;	/* oversize, and a piece not backed */
		uint32_t len;
	} tr[QMAX];
	unsigned int ntr;
	struct kf_chain tx, rx;
};

static struct kf_sim sim;

/* The chain walk, bounded by num; reads the table as the engine. */
static bool walk(const struct kf_tab *t, const struct kf_vq *q, uint16_t head,
		 bool writable, struct kf_chain *c)
{
	uint64_t h = part_h(t, q, P_DESC), sum = 0, addr;
	unsigned int n = 0;
	uint16_t i = head, flags, next;
	uint8_t raw[16];
	uint32_t len;

	if (!h)
		return false;
	for (;;) {
		if (i >= q->num || n >= q->num)
			return false;
		if (!e_read(h, 16ull * i, raw, 16))
			return false;
		memcpy(&addr, raw, 8);
		memcpy(&len, raw + 8, 4);
		memcpy(&flags, raw + 12, 2);
		memcpy(&next, raw + 14, 2);
		addr = le64toh(addr);
		len = le32toh(len);
		flags = le16toh(flags);
		next = le16toh(next);
		if (flags & F_INDIRECT)
			return false;
		if (!!(flags & F_WRITE) != writable)
			return false;
		if (len && wraps(addr, len))
			return false;
		c->s[n].addr = addr;
		c->s[n].len = len;
		n++;
		sum += len;
		if (!(flags & F_NEXT))
			break;
		i = next;
	}
	c->n = n;
	c->total = sum;
	return true;
}

/* Bytes [off, off + len) of chain c: any not backed? any faulting? */
static void chain_state(const struct kf_tab *t, const struct kf_chain *c,
			uint64_t off, uint64_t len, bool *unb, bool *dead)
{
	uint64_t pos = 0;
	unsigned int i;

	for (i = 0; i < c->n && len; i++) {
		uint64_t sl = c->s[i].len, a, n;

		if (off >= pos + sl) {
			pos += sl;
			continue;
		}
		a = off - pos;
		n = sl - a < len ? sl - a : len;
		tab_state(t, c->s[i].addr + a, n, unb, dead);
		off += n;
		len -= n;
		pos += sl;
	}
}

/* Copy bytes [off, off + len) of chain c out; false if not all readable. */
static bool chain_read(const struct kf_tab *t, const struct kf_chain *c,
		       uint64_t off, uint64_t len, uint8_t *out)
{
	uint64_t pos = 0, hva, room;
	unsigned int i;

	for (i = 0; i < c->n && len; i++) {
		uint64_t sl = c->s[i].len, g, n;

		if (off >= pos + sl) {
			pos += sl;
			continue;
		}
		g = c->s[i].addr + (off - pos);
		n = sl - (off - pos) < len ? sl - (off - pos) : len;
		pos += sl;
		off += n;
		len -= n;
		while (n) {
			uint64_t m;

			if (!tab_find(t, g, &hva, &room))
				return false;
			m = room < n ? room : n;
			if (hva_dead(hva, m))
				return false;
			memcpy(out, (const void *)(uintptr_t)hva, m);
			out += m;
			g += m;
			n -= m;
		}
	}
	return !len;
}

/*
 * The verdict on the TX chain at head. An address not backed by guest RAM
 * makes a chain invalid, and a chain both invalid and oversize counts as
 * tx_chain_invalid: backing is decided before size. Empty descriptors are never translated (engine.rst).
 */
static int tx_verdict(const struct kf_tab *t, const struct kf_vq *q,
		      uint16_t head, struct kf_chain *c, uint32_t *len,
		      bool *unb_over)
{
	unsigned int i;

	*unb_over = false;
	if (!walk(t, q, head, false, c) || c->total < HDR)
		return V_INVALID;
	for (i = 0; i < c->n; i++)
		if (c->s[i].len && !tab_backed(t, c->s[i].addr, c->s[i].len)) {
			/*
			 * Both invalid and oversize: the contract says
			 * invalid. Once a failure has said so, the model
			 * takes the device's choice (oversize), so that the
			 * rest of the run still tests everything else.
			 */
			*unb_over = c->total - HDR > MAXF;
			if (*unb_over && kf.unb_over_failed)
				return V_OVERSIZE;
			return V_INVALID;
		}
	if (c->total - HDR > MAXF)
		return V_OVERSIZE;
	*len = (uint32_t)(c->total - HDR);
	return V_OK;
}

static void s_poison(unsigned int q)
{
	if (sim.q[q].poisoned)
		return;
	sim.q[q].poisoned = true;
	sim.d[C(INVALID_AVAIL_IDX_COUNT)]++;
	sim.poisoned |= 1u << q;
}

/* Re-read avail->idx: pending entries, or -1 after poisoning. */
static int s_refresh(const struct kf_dev *d, unsigned int qi)
{
	struct kf_vq *q = &sim.q[qi];
	uint16_t idx;

	if (!e_read(part_h(&d->tab, q, P_AVAIL), 2, &idx, 2)) {
		s_poison(qi);
		return -1;
	}
	idx = le16toh(idx);
	if ((uint16_t)(idx - q->last) > q->num) {
		s_poison(qi);
		return -1;
	}
	q->known = idx;
	return (uint16_t)(idx - q->last);
}

static bool s_pop(const struct kf_dev *d, unsigned int qi, uint16_t *head)
{
	struct kf_vq *q = &sim.q[qi];
	uint16_t v;

	if (!e_read(part_h(&d->tab, q, P_AVAIL), 4 + 2ull * (q->last & (q->num - 1)),
		    &v, 2)) {
		s_poison(qi);
		return false;
	}
	*head = le16toh(v);
	q->last++;
	return true;
}

static bool s_add_used(const struct kf_dev *d, unsigned int qi, uint16_t id,
		       uint32_t len)
{
	struct kf_vq *q = &sim.q[qi];
	uint64_t h = part_h(&d->tab, q, P_USED);

	if (id >= q->num ||
	    !e_writable(h, 4 + 8ull * (q->used_idx & (q->num - 1)), 8))
		return false;
	/* The used->idx store of the drain must work too: see cfg_ring(). */
	if (!e_writable(h, 2, 2))
		sim.ambiguous = true;
	sim.ue[qi][sim.nue[qi]].id = id;
	sim.ue[qi][sim.nue[qi]].len = len;
	sim.nue[qi]++;
	q->used_idx++;
	return true;
}

static struct kf_op *s_op(uint8_t kind, uint16_t rxhead, uint16_t txhead,
			  uint32_t room, uint16_t rxpos)
{
	struct kf_op *o = &sim.op[sim.nop < ARRAY_LEN(sim.op) ? sim.nop++ :
				  ARRAY_LEN(sim.op) - 1];

	o->kind = kind;
	o->used = false;
	o->rxhead = rxhead;
	o->txhead = txhead;
	o->room = room;
	o->rxpos = rxpos;
	return o;
}

/* The valid frame of len bytes in sim.tx goes to the next RX chain. */
static int s_rx_deliver(const struct kf_dev *d, uint32_t len, uint16_t txhead)
{
	struct kf_vq *rx = &sim.q[RXQ];
	bool hu = false, hd = false, fu = false, fd = false, su = false, sd = false;
	uint16_t head, pos;
	uint32_t room;
	struct kf_op *o;

	if (!rx->ready) {
		sim.d[C(TX_DROPPED_NO_RX_BUFFER)]++;
		return RF_NORX;
	}
	if (!rx->poisoned && rx->last == rx->known &&
	    s_refresh(d, RXQ) == 0) {
		sim.d[C(TX_DROPPED_NO_RX_BUFFER)]++;
		return RF_NORX;
	}
	pos = rx->last;
	if (rx->poisoned || !s_pop(d, RXQ, &head)) {
		sim.d[C(TX_DROPPED_RX_POISONED)]++;
		return RF_POIS;
	}
	if (!walk(&d->tab, rx, head, true, &sim.rx) || sim.rx.total < HDR) {
		sim.d[C(RX_CHAIN_INVALID)]++;
		if (!s_add_used(d, RXQ, head, 0))
			sim.d[C(RX_ADD_USED_FAILURES)]++;
		return RF_INVALID;
	}
	room = sim.rx.total - HDR < len ? (uint32_t)(sim.rx.total - HDR) : len;
	chain_state(&d->tab, &sim.rx, 0, HDR, &hu, &hd);
	chain_state(&d->tab, &sim.rx, HDR, room, &fu, &fd);
	chain_state(&d->tab, &sim.tx, HDR, room, &su, &sd);
	if (sd && (hu || hd || fu || fd)) {
		/* Which side faults first is the copy loop's business. */
		sim.ambiguous = true;
		return RF_NONE;
	}
	if (!(hu || hd) && sd) {
		/* The owner's TX memory faulted: the RX chain stays offered. */
		kf.n_src++;
		s_op(RF_SRC, head, txhead, room, pos);
		rx->last--;
		return RF_SRC;
	}
	if (hu || hd || fu || fd) {
		kf.n_wfail++;
		sim.d[C(RX_WRITE_FAILED)]++;
		o = s_op(RF_WFAIL, head, txhead, room, pos);
		o->used = s_add_used(d, RXQ, head, 0);
		if (!o->used)
			sim.d[C(RX_ADD_USED_FAILURES)]++;
		return RF_WFAIL;
	}
	o = s_op(RF_DELIV, head, txhead, room, pos);
	o->used = s_add_used(d, RXQ, head, HDR + room);
	if (o->used) {
		sim.d[C(RX_PACKETS)]++;
		sim.d[C(RX_BYTES)] += room;
	} else {
		sim.d[C(RX_ADD_USED_FAILURES)]++;
	}
	return RF_DELIV;
}

/* One popped TX chain (vnl_tx_one()). */
static void s_tx_one(const struct kf_dev *d, uint16_t head)
{
	uint32_t len = 0;
	bool unb_over;
	int v = tx_verdict(&d->tab, &sim.q[TXQ], head, &sim.tx, &len,
			   &unb_over);
	int rf = RF_NONE;

	if (v == V_OK) {
		rf = s_rx_deliver(d, len, head);
		if (sim.ambiguous)
			return;
		if (rf == RF_SRC)
			v = V_INVALID;
	}
	if (v == V_INVALID)
		sim.d[C(TX_CHAIN_INVALID)]++;
	else if (v == V_OVERSIZE)
		sim.d[C(TX_OVERSIZE_DROPPED)]++;
	if (!s_add_used(d, TXQ, head, 0)) {
		sim.d[C(TX_ADD_USED_FAILURES)]++;
	} else if (v == V_OK) {
		sim.d[C(TX_PACKETS)]++;
		sim.d[C(TX_BYTES)] += len;
	}
	if (sim.ntr < QMAX) {
		sim.tr[sim.ntr].head = head;
		sim.tr[sim.ntr].v = (uint8_t)v;
		sim.tr[sim.ntr].rf = (uint8_t)rf;
		sim.tr[sim.ntr].len = (uint32_t)sim.tx.total;
		sim.tr[sim.ntr].unb_over = unb_over;
		kf.n_unb_over += unb_over;
		sim.ntr++;
	}
}

/*
 * Everything the worker will do with what the guest published, in
 * drain order; the split into drains changes none of it.
 */
static void s_run(const struct kf_dev *d)
{
	struct kf_vq *tx = &sim.q[TXQ];
	uint16_t head;

	memset(sim.d, 0, sizeof(sim.d));
	memset(sim.nue, 0, sizeof(sim.nue));
	sim.nop = sim.popped = sim.poisoned = sim.ntr = 0;
	sim.ambiguous = false;
	memcpy(sim.q, d->q, sizeof(sim.q));
	if (!tx->ready || tx->poisoned)
		return;
	for (;;) {
		if (tx->last == tx->known && s_refresh(d, TXQ) <= 0)
			break;
		if (!s_pop(d, TXQ, &head))
			break;
		sim.popped++;
		s_tx_one(d, head);
		if (sim.ambiguous)
			return;
	}
}

/* ------------------------------------------------------------------ */
/* Phases: what is common                                              */
/* ------------------------------------------------------------------ */

struct kf_phase {
	uint64_t base[NCNT];	/* counters before */
	uint64_t kicks;		/* kicks written while running */
	uint64_t idle_kicks;	/* ... while not running (never counted) */
	uint64_t irq_reads;	/* call eventfd counts read */
	uint32_t isr0;		/* InterruptStatus at the start */
	bool acked;		/* ACK_IRQ while running: ISR not judged */
	uint16_t used0[NQ];	/* used_idx (model) at the start */
	uint16_t last0[NQ];
	bool sig_valid0[NQ];
	uint32_t bpk;		/* largest packet budget a drain may use */
	unsigned int offered;	/* TX entries published */
	uint8_t snap[NQ][2][16 * QMAX];	/* desc table, avail ring */
	bool snap_ok[NQ][2];
};

static struct kf_phase ph;
static struct kf_cfg kcfg;	/* the layout of the round */

static uint16_t kf_canary(unsigned int q, unsigned int k)
{
	return kcfg.canary[q][k];
}

static void sleep_us(unsigned int us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* A budget for the coming drains: small ones make many drains per kick. */
static bool phase_budget(struct kf_dev *d)
{
	uint32_t pk = 0, by = 0, k;
	int ret;

	if (pct(4)) {
		/* Out of the policy's range: refused, nothing changes. */
		ret = pct(50) ? nl_set_budget(d->id, pct(50) ? 0 : 65537, 0) :
		      nl_set_budget(d->id, 0, pct(50) ? 0 : (16u << 20) + 1);
		if (ret != -EINVAL && ret != -ERANGE)
			return fail("SET_BUDGET out of range: %s, expected "
				    "EINVAL or ERANGE", ret ? strerror(-ret) : "0");
		return true;
	}
	if (!pct(45))
		return true;
	k = rnd(10);
	pk = k < 4 ? 1 : k < 6 ? rndr(2, 4) : k < 8 ? rndr(5, 32) :
	     k < 9 ? rndr(33, 256) : 65536;
	by = pct(80) ? 16u << 20 : pct(75) ? rndr(1, 4096) : rndr(4096, 65536);
	ret = nl_set_budget(d->id, pk, by);
	if (ret)
		return fail("SET_BUDGET(%u, %u): %s", pk, by, strerror(-ret));
	d->bpk = pk;
	d->bby = by;
	if (pk > d->bpk_max)
		d->bpk_max = pk;
	return true;
}

/* Interrupt hints: avail->flags and used_event, as a driver might set them. */
static void phase_hints(struct kf_dev *d, bool wild)
{
	unsigned int qi;

	for (qi = 0; qi < NQ; qi++) {
		struct kf_vq *q = &d->q[qi];
		unsigned int k = wild ? 4 : rnd(5);
		uint16_t fl, ev;

		if (!q->ready)
			continue;
		fl = wild || pct(10) ? (uint16_t)rnd64() : pct(50) ? NO_INTERRUPT : 0;
		if (k == 0)
			ev = q->used_idx;		/* the next completion */
		else if (k == 1)
			ev = q->used_idx - 1;		/* never: a lap away */
		else if (k == 2)
			ev = q->used_idx + rnd(q->num + 1);
		else if (k == 3)
			ev = q->used_idx + rndr(q->num + 1, 0x7fff);
		else
			ev = (uint16_t)rnd64();
		g_w16(&d->tab, q->ring[P_AVAIL], fl);
		g_w16(&d->tab, q->ring[P_AVAIL] + 4 + 2ull * q->num, ev);
	}
}

/* Noise while the worker runs: nothing here may change the device. */
static bool phase_noise_do(struct kf_dev *d, const struct kf_cfg *c)
{
	struct vnetloop_vring v;
	struct vnetloop_irq_state st;

	switch (rnd(6)) {
	case 0:
		return io_get_irq(d, rnd_ptr(), &st);
	case 1:
		return io_get_info(d, rnd_ptr());
	case 2:
		memset(&v, 0, sizeof(v));
		v.index = TXQ;
		v.num = c->vr[TXQ].num;
		v.desc_addr = c->vr[TXQ].ring[P_DESC];
		v.avail_addr = c->vr[TXQ].ring[P_AVAIL];
		v.used_addr = c->vr[TXQ].ring[P_USED];
		return io_set_vring(d, &v, rnd_ptr());
	case 3:
		return io_set_features(d, c->features, rnd_ptr());
	case 4:
		return io_set_mem(d, c->reg, c->nreg, 0, rnd_ptr());
	default:
		return io_start(d);
	}
}

/* The same, drawing from the timing-dependent stream. */
static bool phase_noise(struct kf_dev *d, const struct kf_cfg *c)
{
	uint64_t main_rng = kf.rng;
	bool ok;

	kf.rng = kf.rng2;
	ok = phase_noise_do(d, c);
	kf.rng2 = kf.rng;
	kf.rng = main_rng;
	return ok;
}

/* Snapshot what only the guest writes: descriptor tables, avail rings. */
static void phase_snap(const struct kf_dev *d)
{
	unsigned int qi, p;

	for (qi = 0; qi < NQ; qi++)
		for (p = 0; p < 2; p++) {
			const struct kf_vq *q = &d->q[qi];
			uint8_t *s = q->ready ? gp(&d->tab, q->ring[p],
						   part_len(p, q->num)) : NULL;

			ph.snap_ok[qi][p] = s != NULL;
			if (s)
				memcpy(ph.snap[qi][p], s, part_len(p, q->num));
		}
}

static bool phase_snap_check(const struct kf_dev *d)
{
	unsigned int qi, p;

	for (qi = 0; qi < NQ; qi++)
		for (p = 0; p < 2; p++) {
			const struct kf_vq *q = &d->q[qi];
			uint8_t *s;

			if (!ph.snap_ok[qi][p])
				continue;
			s = gp(&d->tab, q->ring[p], part_len(p, q->num));
			if (s && memcmp(s, ph.snap[qi][p], part_len(p, q->num)))
				return fail("the device wrote into the %s %s "
					    "ring", q_name[qi], part_name[p]);
		}
	return true;
}

/*
 * Wait for rest: the worker has committed every drain (two reads, a sleep
 * apart, agree: counters.rst promises exact reads only at rest; a drain
 * commits with preemption off), the interrupts signalled agree with the
 * counter (interrupts = call eventfd count) and so do the kicks (kick
 * writes; one eventfd for both: each counts the other too). Then the
 * identities that hold at rest.
 */
static bool phase_settle(struct kf_dev *d, uint64_t *c)
{
	uint64_t end = now_ns() + (uint64_t)kf.wait_ms * 1000000, irq, kicks;
	bool shared = d->kick == d->call;
	uint64_t prev[NCNT];
	bool have_prev = false;

	for (;;) {
		ph.irq_reads += efd_take(d->call);
		irq = c[C(INTERRUPTS)] - ph.base[C(INTERRUPTS)];
		kicks = c[C(KICKS)] - ph.base[C(KICKS)];
		if (have_prev && !memcmp(prev, c, sizeof(prev)) &&
		    ph.irq_reads == irq + (shared ? ph.kicks + ph.idle_kicks : 0) &&
		    kicks == ph.kicks + (shared ? irq : 0))
			break;
		if (now_ns() > end)
			return fail("after the phase: call eventfd read %"
				    PRIu64 ", interrupts +%" PRIu64 ", kicks +%"
				    PRIu64 " for %" PRIu64 " written%s",
				    ph.irq_reads, irq, kicks, ph.kicks,
				    shared ? " (kick and call are one eventfd)"
				    : "");
		memcpy(prev, c, sizeof(prev));
		have_prev = true;
		sleep_us(500);
		if (!dev_read(d, c))
			return false;
	}
	if (c[C(WORKER_RUNS)] > c[C(KICKS)] + c[C(BUDGET_REQUEUES)] ||
	    c[C(INTERRUPTS)] > c[C(WORKER_RUNS)] ||
	    c[C(BUDGET_REQUEUES)] > c[C(WORKER_RUNS)])
		return fail("at rest: worker_runs %" PRIu64 ", kicks %" PRIu64
			    ", budget_requeues %" PRIu64 ", interrupts %"
			    PRIu64 " (runs <= kicks + requeues, interrupts "
			    "and requeues <= runs)", c[C(WORKER_RUNS)],
			    c[C(KICKS)], c[C(BUDGET_REQUEUES)],
			    c[C(INTERRUPTS)]);
	d->bpk_max = d->bpk;
	return true;
}

/* The InterruptStatus and NEEDS_RESET once the phase has settled. */
static bool phase_isr(struct kf_dev *d, bool vring_must, bool vring_may)
{
	struct vnetloop_irq_state st;
	bool needs = d->c[C(INVALID_AVAIL_IDX_COUNT)] > d->iaic_reset;
	bool config = d->c[C(INVALID_AVAIL_IDX_COUNT)] >
		      ph.base[C(INVALID_AVAIL_IDX_COUNT)];

	if (!io_get_irq(d, PTR_OK, &st))
		return false;
	if (!!(st.status & VIRTIO_CONFIG_S_NEEDS_RESET) != needs)
		return fail("status %#x: NEEDS_RESET should be %s "
			    "(invalid_avail_idx_count %" PRIu64 ", %" PRIu64
			    " at RESET)", st.status, needs ? "set" : "clear",
			    d->c[C(INVALID_AVAIL_IDX_COUNT)], d->iaic_reset);
	if (ph.acked)
		return true;
	if (!!(st.isr & VIRTIO_MMIO_INT_CONFIG) != (config || (ph.isr0 &
						VIRTIO_MMIO_INT_CONFIG)))
		return fail("InterruptStatus %#x (%#x before): CONFIG should "
			    "be %s", st.isr, ph.isr0, config ? "set" : "clear");
	if (vring_must && !(st.isr & VIRTIO_MMIO_INT_VRING))
		return fail("InterruptStatus %#x: VRING missing after an "
			    "interrupt the hints asked for", st.isr);
	if (!vring_may && !(ph.isr0 & VIRTIO_MMIO_INT_VRING) &&
	    (st.isr & VIRTIO_MMIO_INT_VRING))
		return fail("InterruptStatus %#x: VRING set though the hints "
			    "suppressed every interrupt", st.isr);
	return true;
}

/* At the start of a phase: acknowledge some bits, note what is left. */
static bool phase_begin(struct kf_dev *d)
{
	struct vnetloop_irq_state st;
	unsigned int qi, k = rnd(10);

	memset(&ph, 0, sizeof(ph));
	kf.phase++;
	kf.phases++;
	efd_take(d->call);
	if (k < 5 && !io_ack_irq(d, VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG,
				 PTR_OK))
		return false;
	if (k >= 5 && k < 7 && !io_ack_irq(d, 1u << rnd(2), PTR_OK))
		return false;
	if (!io_get_irq(d, PTR_OK, &st))
		return false;
	ph.isr0 = st.isr;
	for (qi = 0; qi < NQ; qi++) {
		ph.used0[qi] = d->q[qi].used_idx;
		ph.last0[qi] = d->q[qi].last;
		ph.sig_valid0[qi] = d->q[qi].sig_valid;
	}
	if (!phase_budget(d))
		return false;
	ph.bpk = d->bpk_max;
	return dev_read(d, ph.base);
}

/* ------------------------------------------------------------------ */
/* Clean phases: the model predicts everything                         */
/* ------------------------------------------------------------------ */

static uint16_t tx_desc[QMAX];
static char tx_what[QMAX][48];	/* how each TX head of the phase was made */

/* RX chains into the free descriptors and slots of the RX queue. */
static void offer_rx(struct kf_dev *d, struct kf_cfg *c)
{
	struct kf_vq *q = &d->q[RXQ];
	uint16_t fdesc[QMAX], nfree, i, k, want, head;
	uint16_t outst = q->gidx - q->last;
	uint64_t buf, cap;
	unsigned int j;

	if (!q->ready || outst >= q->num)
		return;
	want = q->num - outst;
	if (!pct(70))
		want = rnd(want + 1);
	for (k = 0; k < want; k++) {
		uint16_t pos = q->gidx;

		for (i = 0, nfree = 0; i < q->num; i++)
			if (!q->owner[i])
				fdesc[nfree++] = i;
		for (i = nfree; i > 1; i--) {
			uint16_t j2 = rnd(i), x = fdesc[i - 1];

			fdesc[i - 1] = fdesc[j2];
			fdesc[j2] = x;
		}
		cap = rnd_rx_cap();
		if (c->nrxb == MAXRXB ||
		    !cfg_alloc(c, cap, pct(50) ? 1 : 8, false,
			       c->dead_side != DS_RX, c->rxb, c->nrxb, &buf))
			break;
		gen_rx(c, q->num, nfree, buf, cap, c->dead_side != DS_TX, &gch);
		if (!gch.n || !nfree) {
			head = (uint16_t)rndr(q->num, 0xffff);
			buf = cap = 0;
		} else {
			for (j = 0; j < gch.n; j++)
				q->owner[fdesc[j]] = (uint32_t)pos + 1;
			head = gch_write(&d->tab, q, &gch, fdesc);
			g_fill(&d->tab, buf, cap, CANARY, NULL);
			c->rxb[c->nrxb].a = buf;
			c->rxb[c->nrxb].n = cap;
			c->nrxb++;
		}
		avail_put(&d->tab, q, pos, head);
		q->pos[pos % QMAX].head = head;
		q->pos[pos % QMAX].buf = buf;
		q->pos[pos % QMAX].blen = cap;
		q->pos[pos % QMAX].fresh = true;
		q->gidx++;
	}
}

/*
 * Move avail->idx further than what was offered: up to num ahead of the
 * device (it takes whatever the slots hold) or, to poison, further.
 */
static uint16_t jump(struct kf_dev *d, unsigned int qi, bool *poison)
{
	struct kf_vq *q = &d->q[qi];
	uint16_t x = q->gidx, lim = q->last + q->num;

	*poison = false;
	if (pct(50) && q->known_sure) {
		x = q->gidx + q->num + 1 + rnd(0xffff - 2u * q->num);
		*poison = true;
		return x;
	}
	if ((uint16_t)(lim - q->gidx) == 0 || (uint16_t)(lim - q->gidx) > q->num)
		return x;
	x = pct(40) ? lim : q->gidx + rndr(1, (uint16_t)(lim - q->gidx));
	for (; q->gidx != x; q->gidx++) {
		uint16_t head = 0;

		g_r16(&d->tab, q->ring[P_AVAIL] + 4 + 2ull * (q->gidx & (q->num - 1)),
		      &head);
		q->pos[q->gidx % QMAX].head = head;
		q->pos[q->gidx % QMAX].buf = 0;
		q->pos[q->gidx % QMAX].blen = 0;
		q->pos[q->gidx % QMAX].fresh = false;
		kf.n_exposed++;
	}
	return x;
}

/* TX chains: the whole ring is free at the start of a phase. */
static unsigned int offer_tx(struct kf_dev *d, const struct kf_cfg *c)
{
	struct kf_vq *q = &d->q[TXQ];
	uint16_t heads[QMAX], i, a, head, used = 0;
	unsigned int n = 0;

	if (q->gidx != q->last)
		return 0;
	memset(tx_what, 0, sizeof(tx_what));
	for (i = 0; i < q->num; i++)
		tx_desc[i] = i;
	for (i = q->num; i > 1; i--) {
		uint16_t j = rnd(i), x = tx_desc[i - 1];

		tx_desc[i - 1] = tx_desc[j];
		tx_desc[j] = x;
	}
	a = pct(50) ? q->num : rndr(1, q->num);
	for (i = 0; i < a; i++) {
		if (i && (pct(3) || (used == q->num && pct(90)))) {
			head = heads[rnd(i)];	/* the same chain again */
		} else if (!gen_tx(c, q->num, q->num - used, &gch)) {
			head = (uint16_t)rndr(q->num, 0xffff);
		} else {
			head = gch_write(&d->tab, q, &gch, tx_desc + used);
			used += gch.n;
			snprintf(tx_what[head], sizeof(tx_what[head]), "%s",
				 gch.what);
		}
		heads[i] = head;
		avail_put(&d->tab, q, q->gidx, head);
		q->gidx++;
		n++;
	}
	return n;
}

/* RX positions the device consumed give their descriptors and buffers back. */
static void rx_reclaim(struct kf_dev *d, struct kf_cfg *c, uint16_t from,
		       uint16_t to)
{
	struct kf_vq *q = &d->q[RXQ];
	unsigned int i, j;

	for (; from != to; from++) {
		struct kf_pos *p = &q->pos[from % QMAX];

		for (i = 0; i < q->num; i++)
			if (q->owner[i] == (uint32_t)from + 1)
				q->owner[i] = 0;
		if (p->blen) {
			for (j = 0; j < c->nrxb; j++)
				if (c->rxb[j].a == p->buf && c->rxb[j].n == p->blen) {
					c->rxb[j] = c->rxb[--c->nrxb];
					break;
				}
		}
		p->blen = 0;
		p->buf = 0;
	}
}

/* The first n bytes an RX chain write covers, as gpa ranges. */
static struct kf_iv op_rng[2 * QMAX * 8];
static unsigned int op_first[2 * QMAX + 1];

static void op_ranges(const struct kf_dev *d)
{
	unsigned int i, k, n = 0;

	for (i = 0; i < sim.nop; i++) {
		const struct kf_op *o = &sim.op[i];
		uint64_t left = HDR + (uint64_t)o->room;

		op_first[i] = n;
		if (!walk(&d->tab, &sim.q[RXQ], o->rxhead, true, &sim.rx))
			continue;
		for (k = 0; k < sim.rx.n && left; k++) {
			uint64_t m = sim.rx.s[k].len < left ? sim.rx.s[k].len : left;

			if (!m)
				continue;
			if (n == ARRAY_LEN(op_rng)) {
				/* Too many to track: treat as overlapping all. */
				op_rng[n - 1].a = 0;
				op_rng[n - 1].n = UINT64_MAX;
				break;
			}
			op_rng[n].a = sim.rx.s[k].addr;
			op_rng[n].n = m;
			n++;
			left -= m;
		}
	}
	op_first[sim.nop] = n;
}

/* Do the writes of ops i and j meet (i == j: does op i write a byte twice)? */
static bool op_overlap(unsigned int i, unsigned int j)
{
	unsigned int a, b;

	for (a = op_first[i]; a < op_first[i + 1]; a++)
		for (b = op_first[j]; b < op_first[j + 1]; b++)
			if ((i != j || a != b) &&
			    iv_hit(&op_rng[b], 1, op_rng[a].a, op_rng[a].n))
				return true;
	return false;
}

static uint8_t rx_got[HDR + MAXF + 64], tx_want[HDR + MAXF + 64];

/*
 * Every RX chain the device delivered into holds the header (all zero
 * but num_buffers = 1) and the frame's first bytes; one it gave back
 * after a failed write has its header zeroed again. Chains another write
 * of this phase went over are left out.
 */
static bool check_rx_bytes(const struct kf_dev *d)
{
	static const uint8_t hdr[HDR] = { [10] = 1 };
	unsigned int i, j, k;

	op_ranges(d);
	for (i = 0; i < sim.nop; i++) {
		const struct kf_op *o = &sim.op[i];
		bool over = false;

		if (o->kind == RF_SRC || !o->used)
			continue;
		for (j = 0; j < sim.nop && !over; j++)
			if (j >= i || o->kind == RF_WFAIL)
				over = op_overlap(i, j);
		if (over)
			continue;
		if (!walk(&d->tab, &sim.q[RXQ], o->rxhead, true, &sim.rx))
			return fail("RX chain %u no longer walks", o->rxhead);
		if (o->kind == RF_WFAIL) {
			const struct kf_pos *p = &d->q[RXQ].pos[o->rxpos % QMAX];
			uint64_t off = 0;

			if (!p->fresh || p->head != o->rxhead)
				continue;
			kf.n_hdr_checked++;
			for (k = 0; k < sim.rx.n && off < HDR; k++) {
				uint64_t m = sim.rx.s[k].len, b;

				for (b = 0; b < m && off < HDR; b++, off++) {
					uint8_t *x = gp(&d->tab, sim.rx.s[k].addr + b, 1);

					if (x && *x != 0 && *x != CANARY)
						return fail("RX chain %u: a write "
							    "failed but header byte "
							    "%" PRIu64 " is %#x, not "
							    "zeroed again",
							    o->rxhead, off, *x);
				}
			}
			continue;
		}
		if (!chain_read(&d->tab, &sim.rx, 0, HDR + o->room, rx_got))
			return fail("RX chain %u cannot be read back", o->rxhead);
		if (memcmp(rx_got, hdr, HDR))
			return fail("RX chain %u: header %02x %02x .. %02x %02x, "
				    "not all zero but num_buffers = 1",
				    o->rxhead, rx_got[0], rx_got[1], rx_got[10],
				    rx_got[11]);
		if (!walk(&d->tab, &sim.q[TXQ], o->txhead, false, &sim.tx) ||
		    !chain_read(&d->tab, &sim.tx, HDR, o->room, tx_want))
			return fail("TX chain %u cannot be read back", o->txhead);
		kf.bytes_checked += HDR + o->room;
		if (memcmp(rx_got + HDR, tx_want, o->room)) {
			for (k = 0; k < o->room && rx_got[HDR + k] == tx_want[k]; k++)
				;
			return fail("RX chain %u (from TX chain %u, %u bytes): "
				    "frame byte %u is %#x, sent %#x", o->rxhead,
				    o->txhead, o->room, k, rx_got[HDR + k],
				    tx_want[k]);
		}
	}
	return true;
}

/* The used rings hold exactly the entries the model made, and the index. */
static bool check_used(const struct kf_dev *d)
{
	unsigned int qi, k;

	for (qi = 0; qi < NQ; qi++) {
		const struct kf_vq *q = &sim.q[qi];
		uint64_t u = q->ring[P_USED];
		uint16_t idx, fl, ae;
		uint32_t id, len;

		if (!q->ready)
			continue;
		if (g_r16(&d->tab, u + 2, &idx) && idx != q->used_idx)
			return fail("%s used->idx is %u, expected %u (%u new "
				    "entries)", q_name[qi], idx, q->used_idx,
				    sim.nue[qi]);
		for (k = 0; k < sim.nue[qi]; k++) {
			uint64_t s = u + 4 + 8ull * ((ph.used0[qi] + k) & (q->num - 1));

			if (!g_r32(&d->tab, s, &id) || !g_r32(&d->tab, s + 4, &len))
				continue;
			kf.used_checked++;
			if (id != sim.ue[qi][k].id || len != sim.ue[qi][k].len)
				return fail("%s used entry %u of the phase is {%u, "
					    "%u}, expected {%u, %u}", q_name[qi],
					    k, id, len, sim.ue[qi][k].id,
					    sim.ue[qi][k].len);
		}
		if (g_r16(&d->tab, u, &fl) && fl != kf_canary(qi, 0))
			return fail("%s used->flags changed to %#x: the device "
				    "never writes it", q_name[qi], fl);
		if (!g_r16(&d->tab, u + 4 + 8ull * q->num, &ae))
			continue;
		if (qi == TXQ && evidx(d) && !q->poisoned &&
		    e_writable(part_h(&d->tab, q, P_USED), 4 + 8ull * q->num, 2)) {
			if (ae != q->last)
				return fail("TX avail_event is %u, expected %u "
					    "(the TX position after the drain)",
					    ae, q->last);
		} else if (ae != kf_canary(qi, 1) &&
			   !(qi == TXQ && evidx(d) && q->poisoned)) {
			return fail("%s used->avail_event changed to %#x (%s "
				    "EVENT_IDX)", q_name[qi], ae,
				    evidx(d) ? "with" : "without");
		}
	}
	return true;
}

/* When the counters disagree with the model: what it expected, chain by chain. */
static void report_model(const struct kf_dev *d, const uint64_t *c)
{
	char line[256];
	unsigned int i, n;
	int k = 0;

	for (i = 0; i < NSPEC; i++) {
		uint64_t got = c[i] - ph.base[i];

		if (got != sim.d[i])
			say("  %s: +%" PRIu64 ", the model says +%" PRIu64,
			    cnt_name_of(i), got, sim.d[i]);
	}
	say("  TX num %u, %u chains offered, %u popped by the model%s%s; RX "
	    "%s num %u, positions %u..%u offered", d->q[TXQ].num, ph.offered,
	    sim.popped, sim.poisoned & (1u << TXQ) ? ", TX poisoned" : "",
	    sim.poisoned & (1u << RXQ) ? ", RX poisoned" : "",
	    d->q[RXQ].ready ? "on" : "off", d->q[RXQ].num, d->q[RXQ].last,
	    d->q[RXQ].gidx);
	for (i = 0, n = 0; i < sim.ntr; i++)
		if (sim.tr[i].unb_over && !kf.unb_over_failed && !n++)
			say("  TX chain %u: %u bytes (more than 12 + 65557) and a "
			    "descriptor not backed by guest RAM: the contract "
			    "counts a chain both invalid (memory not backed) and "
			    "oversize as tx_chain_invalid", sim.tr[i].head,
			    sim.tr[i].len);
	if (n > 1)
		say("  ... and %u more such chains", n - 1);
	for (i = 0; i < sim.ntr; i++)
		if (sim.tr[i].unb_over && !kf.unb_over_failed &&
		    c[C(TX_OVERSIZE_DROPPED)] - ph.base[C(TX_OVERSIZE_DROPPED)] >
		    sim.d[C(TX_OVERSIZE_DROPPED)]) {
			kf.unb_over_failed = true;
			say("  (from here on the model counts such chains as "
			    "the device does, tx_oversize_dropped, to go on "
			    "testing the rest)");
		}
	for (i = 0, n = 0; i < sim.ntr && n < 48; i++) {
		k += snprintf(line + k, sizeof(line) - k, " %u:%s/%u/%s%s%s%s",
			      sim.tr[i].head, v_name[sim.tr[i].v],
			      sim.tr[i].len, rf_name[sim.tr[i].rf],
			      sim.tr[i].head < QMAX ? " (" : "",
			      sim.tr[i].head < QMAX ? tx_what[sim.tr[i].head] : "",
			      sim.tr[i].head < QMAX ? ")" : "");
		if (k > 180 || i + 1 == sim.ntr) {
			say("  chains (head:verdict/bytes/RX (as made)):%s", line);
			k = 0;
			n++;
		}
	}
}

/* Wait until the counters reach the model's; more, or too late, is a failure. */
static bool wait_model(struct kf_dev *d, const struct kf_cfg *c, uint64_t *cnt)
{
	uint64_t end = now_ns() + (uint64_t)kf.wait_ms * 1000000;
	unsigned int us = 50, i;
	bool done, over;

	for (;;) {
		if (!dev_read(d, cnt))
			return false;
		done = true;
		over = false;
		for (i = 0; i < NSPEC; i++) {
			uint64_t got = cnt[i] - ph.base[i];

			over |= got > sim.d[i];
			done &= got >= sim.d[i];
		}
		if (over) {
			/* Let the worker finish, to show the final numbers. */
			uint64_t prev[NCNT], t_end = now_ns() + 2000000000ull;

			do {
				memcpy(prev, cnt, sizeof(prev));
				sleep_us(2000);
				if (!dev_read(d, cnt))
					return false;
			} while (memcmp(prev, cnt, sizeof(prev)) &&
				 now_ns() < t_end);
			fail("the counters went past what the contract allows "
			     "for this phase");
			report_model(d, cnt);
			return false;
		}
		if (done)
			return true;
		if (now_ns() > end) {
			fail("no progress: %d ms after the kick the counters "
			     "still fall short (worker_runs +%" PRIu64 ")",
			     kf.wait_ms, cnt[C(WORKER_RUNS)] -
			     ph.base[C(WORKER_RUNS)]);
			report_model(d, cnt);
			return false;
		}
		if (pct2(8) && !phase_noise(d, c))
			return false;
		sleep_us(us);
		us = us < 2000 ? 2 * us : us;
	}
}

/* Interrupt bounds of the phase, from the hints and the used rings' moves. */
static void irq_bounds(const struct kf_dev *d, uint64_t *lo, uint64_t *hi,
		       bool *must, bool *may)
{
	unsigned int qi;
	bool inf = false;

	*lo = *hi = 0;
	*must = *may = false;
	for (qi = 0; qi < NQ; qi++) {
		const struct kf_vq *q = &d->q[qi];
		uint64_t ah = part_h(&d->tab, q, P_AVAIL);
		uint16_t v, old = ph.used0[qi], new = sim.q[qi].used_idx;

		if (!sim.nue[qi])
			continue;
		if (evidx(d)) {
			bool win;

			if (!e_read(ah, 4 + 2ull * q->num, &v, 2)) {
				*must = *may = inf = true;
				continue;
			}
			v = le16toh(v);
			win = (uint16_t)(new - v - 1) < (uint16_t)(new - old);
			*must |= !ph.sig_valid0[qi] || win;
			*hi += !ph.sig_valid0[qi] + win;
			*may |= !ph.sig_valid0[qi] || win;
		} else if (!e_read(ah, 0, &v, 2) ||
			   !(le16toh(v) & NO_INTERRUPT)) {
			*must = *may = inf = true;
		}
	}
	*lo = *must || sim.poisoned;
	*hi += __builtin_popcount(sim.poisoned);
	if (inf)
		*hi = UINT64_MAX;
}

static bool phase_checks(struct kf_dev *d, const uint64_t *c)
{
	uint64_t lo, hi, irq = c[C(INTERRUPTS)] - ph.base[C(INTERRUPTS)];
	uint64_t runs = c[C(WORKER_RUNS)] - ph.base[C(WORKER_RUNS)];
	uint64_t req = c[C(BUDGET_REQUEUES)] - ph.base[C(BUDGET_REQUEUES)];
	uint64_t need = (sim.popped + ph.bpk - 1) / ph.bpk;
	bool must, may;

	irq_bounds(d, &lo, &hi, &must, &may);
	if (irq < lo || irq > hi)
		return fail("interrupts +%" PRIu64 ", the hints allow %" PRIu64
			    "..%" PRIu64 " (EVENT_IDX %s, TX +%u, RX +%u used)",
			    irq, lo, hi, evidx(d) ? "on" : "off",
			    sim.nue[TXQ], sim.nue[RXQ]);
	if (runs < need)
		return fail("%u chains in %" PRIu64 " drains with a budget of "
			    "%u packets", sim.popped, runs, ph.bpk);
	if (!sim.poisoned && need && req + 1 < need)
		return fail("%u chains, budget %u packets: %" PRIu64 " budget "
			    "requeues, at least %" PRIu64 " expected",
			    sim.popped, ph.bpk, req, need - 1);
	return check_used(d) && check_rx_bytes(d) && phase_snap_check(d) &&
	       phase_isr(d, must, may);
}

/* After a TX poisoning: kicks change nothing but worker_runs. */
static bool poisoned_stays(struct kf_dev *d)
{
	uint64_t a[NCNT], b[NCNT], end;
	unsigned int i;

	if (!dev_read(d, a) || !dev_kick(d, d->kick, NULL))
		return false;
	end = now_ns() + (uint64_t)kf.wait_ms * 1000000;
	do {
		sleep_us(200);
		if (!dev_read(d, b))
			return false;
		if (now_ns() > end)
			return fail("a kick on the poisoned device ran no drain "
				    "in %d ms", kf.wait_ms);
	} while (b[C(WORKER_RUNS)] == a[C(WORKER_RUNS)]);
	for (i = 0; i < NSPEC; i++)
		if (b[i] != a[i])
			return fail("TX is poisoned, yet a kick moved %s by %"
				    PRIu64, cnt_name_of(i), b[i] - a[i]);
	if (b[C(INTERRUPTS)] != a[C(INTERRUPTS)])
		return fail("TX is poisoned, yet a kick raised an interrupt");
	return true;
}

/*
 * A clean phase: offer, publish, let the model replay, kick, wait for
 * exactly what it says, check it all. Returns false when the round must
 * end (failure, TX poisoned, nothing predictable).
 */
static bool phase_clean(struct kf_dev *d, struct kf_cfg *c, bool pre_start)
{
	struct kf_vq *tx = &d->q[TXQ], *rx = &d->q[RXQ];
	uint16_t rx_pub, tx_pub;
	uint64_t cnt[NCNT];
	unsigned int n, i;
	bool poison;

	if (!phase_begin(d))
		return false;
	kf.exact++;
	phase_hints(d, false);
	offer_rx(d, c);
	rx_pub = rx->gidx;
	if (rx->ready && !rx->poisoned && pct(7))
		rx_pub = jump(d, RXQ, &poison);
	ph.offered = offer_tx(d, c);
	tx_pub = tx->gidx;
	if (pct(6))
		tx_pub = jump(d, TXQ, &poison);
	if (rx->ready)
		g_w16(&d->tab, rx->ring[P_AVAIL] + 2, rx_pub);
	g_w16(&d->tab, tx->ring[P_AVAIL] + 2, tx_pub);
	phase_snap(d);
	if (pre_start) {
		/*
		 * Before DRIVER_OK a notify changes nothing; the chains wait
		 * for the first one after START.
		 */
		if (!dev_kick(d, d->kick, NULL))
			return false;
		ph.idle_kicks++;
		sleep_us(1000);
		if (!dev_read(d, cnt))
			return false;
		for (i = 0; i < NCNT; i++)
			if (cnt[i] != ph.base[i])
				return fail("a kick before START moved %s by %"
					    PRIu64, cnt_name_of(i),
					    cnt[i] - ph.base[i]);
		if (!io_start(d))
			return false;
		if (!d->running)
			return fail("START after RESET and configuration "
				    "refused");
	}
	s_run(d);
	if (sim.ambiguous) {
		/* Cannot happen by construction (DS_*); say so, start over. */
		say("model: a frame whose TX and RX sides may both fault, "
		    "round abandoned");
		return false;
	}
	n = 1 + (pct(30) ? rnd(4) : 0);
	for (i = 0; i < n; i++) {
		if (!dev_kick(d, d->kick, &ph.kicks))
			return false;
		if (i + 1 < n)
			sleep_us(rnd(300));
	}
	if (!wait_model(d, c, cnt))
		return false;
	if (!phase_settle(d, cnt))
		return false;
	if (!phase_checks(d, cnt))
		return false;
	kf.chains += sim.popped;
	kf.frames += sim.d[C(RX_PACKETS)];
	/* The model moves on; so do the driver's books. */
	for (i = 0; i < NQ; i++) {
		uint16_t from = d->q[i].last, to = sim.q[i].last;
		uint16_t gidx = d->q[i].gidx;
		bool sure = d->q[i].known_sure;

		d->q[i].poisoned = sim.q[i].poisoned;
		d->q[i].last = sim.q[i].last;
		d->q[i].known = sim.q[i].known;
		d->q[i].used_idx = sim.q[i].used_idx;
		if (sim.nue[i]) {
			d->q[i].sig_valid = true;
			d->q[i].sig_used = sim.q[i].used_idx;
		}
		d->q[i].known_sure = sure || d->q[i].last == gidx;
		if (i == RXQ)
			rx_reclaim(d, c, from, to);
	}
	if (sim.poisoned)
		kf.poisons++;
	if (tx->poisoned) {
		poisoned_stays(d);
		return false;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Weak checks: what holds whatever the guest did                      */
/* ------------------------------------------------------------------ */

enum { U_GOOD, U_BAD, U_MIXED };

/* Can the device write the used ring: all of it, none of it, or some? */
static int used_class(const struct kf_dev *d, unsigned int qi)
{
	const struct kf_vq *q = &d->q[qi];
	uint64_t h = part_h(&d->tab, q, P_USED), len = part_len(P_USED, q->num);
	uint64_t i;
	bool any = false;

	if (!h)
		return U_BAD;
	if (!hva_dead(h, len))
		return U_GOOD;
	for (i = 0; i < len; i += 2)
		any |= !hva_dead(h + i, 2);
	return any ? U_MIXED : U_BAD;
}

/* The heads offered at each position of this phase (bit per head < 256). */
static struct {
	uint64_t bits[NQ][QMAX][4];
	bool any_oor[NQ];	/* a head >= num was offered somewhere */
} heads;

static void heads_note(unsigned int qi, uint16_t off, uint16_t head, uint16_t num)
{
	if (off >= QMAX)
		return;
	if (head < num) {
		__atomic_fetch_or(&heads.bits[qi][off][head / 64],
				  1ull << (head % 64), __ATOMIC_RELAXED);
	} else {
		heads.any_oor[qi] = true;
	}
}

static bool heads_has(unsigned int qi, uint16_t off, uint32_t id, bool positional)
{
	unsigned int o;

	if (id >= QMAX)
		return false;
	if (positional)
		return off < QMAX &&
		       (heads.bits[qi][off][id / 64] >> (id % 64)) & 1;
	for (o = 0; o < QMAX; o++)
		if ((heads.bits[qi][o][id / 64] >> (id % 64)) & 1)
			return true;
	return false;
}

/* Note what the slots of positions [from, to) hold now. */
static void heads_from_ring(const struct kf_dev *d, unsigned int qi, uint16_t from,
			    uint16_t to)
{
	const struct kf_vq *q = &d->q[qi];
	uint16_t p, h;

	for (p = from; p != to; p++)
		if (g_r16(&d->tab, q->ring[P_AVAIL] + 4 + 2ull *
			  (p & (q->num - 1)), &h))
			heads_note(qi, (uint16_t)(p - ph.last0[qi]), h, q->num);
		else
			heads_note(qi, (uint16_t)(p - ph.last0[qi]), 0xffff,
				   q->num);
}

/*
 * The identities of the drain between the counters, the used rings and what
 * was offered. offered: TX entries published; complete: the device had
 * time to take them all. Returns the TX chains popped and RX positions
 * consumed through *tx_popped and *rx_popped.
 */
static bool weak_checks(struct kf_dev *d, const uint64_t *c, unsigned int offered,
			bool complete, unsigned int *tx_popped, unsigned int *rx_popped)
{
	uint64_t D[NCNT], P, V, rp, lenb = 0, full = 0, empty = 0;
	int tc = used_class(d, TXQ), rc = used_class(d, RXQ);
	struct kf_vq *tx = &d->q[TXQ], *rx = &d->q[RXQ];
	uint16_t idx, k, adv;
	uint32_t id, len;
	unsigned int i;

	for (i = 0; i < NCNT; i++)
		D[i] = c[i] - ph.base[i];
#define W(cond, ...) do { if (!(cond)) return fail(__VA_ARGS__); } while (0)
	/* TX: one outcome per popped chain. */
	if (tc == U_GOOD) {
		P = D[C(TX_PACKETS)] + D[C(TX_CHAIN_INVALID)] +
		    D[C(TX_OVERSIZE_DROPPED)];
		W(D[C(TX_ADD_USED_FAILURES)] <= D[C(TX_CHAIN_INVALID)],
		  "TX used ring writable, yet %" PRIu64 " TX add_used failures "
		  "against %" PRIu64 " invalid chains (only heads out of range "
		  "can fail)", D[C(TX_ADD_USED_FAILURES)],
		  D[C(TX_CHAIN_INVALID)]);
		V = D[C(TX_PACKETS)];
	} else if (tc == U_BAD) {
		P = D[C(TX_ADD_USED_FAILURES)];
		W(!D[C(TX_PACKETS)] && !D[C(TX_BYTES)],
		  "TX used ring unusable, yet tx_packets +%" PRIu64,
		  D[C(TX_PACKETS)]);
		W(D[C(TX_CHAIN_INVALID)] + D[C(TX_OVERSIZE_DROPPED)] <= P,
		  "more TX chains rejected (%" PRIu64 ") than popped (%" PRIu64
		  ")", D[C(TX_CHAIN_INVALID)] + D[C(TX_OVERSIZE_DROPPED)], P);
		V = P - D[C(TX_CHAIN_INVALID)] - D[C(TX_OVERSIZE_DROPPED)];
	} else {
		/* Some slots writable: bounds only. */
		P = D[C(TX_PACKETS)] + D[C(TX_CHAIN_INVALID)] +
		    D[C(TX_OVERSIZE_DROPPED)];
		V = D[C(TX_PACKETS)];
	}
	W(P <= offered, "%" PRIu64 " TX chains accounted for, only %u were "
	  "offered", P, offered);
	if (complete && !tx->poisoned)
		W(P == offered, "no progress: %u TX entries offered, %" PRIu64
		  " consumed, queue not poisoned", offered, P);
	/* Each valid frame has exactly one fate on the RX side. */
	if (!rx->ready) {
		rp = 0;
		W(!D[C(RX_PACKETS)] && !D[C(RX_CHAIN_INVALID)] &&
		  !D[C(RX_WRITE_FAILED)] && !D[C(RX_ADD_USED_FAILURES)] &&
		  !D[C(TX_DROPPED_RX_POISONED)],
		  "RX is not configured, yet RX counters moved");
	} else if (rc == U_GOOD) {
		rp = D[C(RX_PACKETS)] + D[C(RX_CHAIN_INVALID)] +
		     D[C(RX_WRITE_FAILED)];
		W(D[C(RX_ADD_USED_FAILURES)] <= D[C(RX_CHAIN_INVALID)],
		  "RX used ring writable, yet %" PRIu64 " RX add_used "
		  "failures against %" PRIu64 " invalid chains",
		  D[C(RX_ADD_USED_FAILURES)], D[C(RX_CHAIN_INVALID)]);
	} else if (rc == U_BAD) {
		rp = D[C(RX_ADD_USED_FAILURES)];
		W(!D[C(RX_PACKETS)] && !D[C(RX_BYTES)] &&
		  D[C(RX_CHAIN_INVALID)] + D[C(RX_WRITE_FAILED)] <= rp,
		  "RX used ring unusable, yet rx_packets +%" PRIu64 ", %" PRIu64
		  " invalid, %" PRIu64 " failed writes for %" PRIu64
		  " add_used failures", D[C(RX_PACKETS)],
		  D[C(RX_CHAIN_INVALID)], D[C(RX_WRITE_FAILED)], rp);
	} else {
		rp = D[C(RX_PACKETS)] + D[C(RX_CHAIN_INVALID)] +
		     D[C(RX_WRITE_FAILED)];
	}
	if (tc != U_MIXED && rc != U_MIXED)
		W(V == D[C(TX_DROPPED_NO_RX_BUFFER)] +
		  D[C(TX_DROPPED_RX_POISONED)] + rp,
		  "%" PRIu64 " valid frames but %" PRIu64 " no-buffer + %"
		  PRIu64 " poisoned + %" PRIu64 " RX chains consumed", V,
		  D[C(TX_DROPPED_NO_RX_BUFFER)], D[C(TX_DROPPED_RX_POISONED)],
		  rp);
	W(D[C(TX_BYTES)] <= D[C(TX_PACKETS)] * MAXF &&
	  D[C(RX_BYTES)] <= D[C(RX_PACKETS)] * MAXF,
	  "bytes beyond 65557 per frame: tx %" PRIu64 "/%" PRIu64 ", rx %"
	  PRIu64 "/%" PRIu64, D[C(TX_BYTES)], D[C(TX_PACKETS)],
	  D[C(RX_BYTES)], D[C(RX_PACKETS)]);
	W(c[C(WORKER_RUNS)] - ph.base[C(WORKER_RUNS)] >=
	  (P + ph.bpk - 1) / ph.bpk, "%" PRIu64 " chains in %" PRIu64
	  " drains, budget %u", P, D[C(WORKER_RUNS)], ph.bpk);
	/* The TX used ring: exactly the chains returned, heads offered. */
	if (tx->ready && g_r16(&d->tab, tx->ring[P_USED] + 2, &idx)) {
		adv = idx - ph.used0[TXQ];
		if (tc == U_GOOD)
			W(adv == P - D[C(TX_ADD_USED_FAILURES)],
			  "TX used->idx moved by %u (from %u), the counters say "
			  "%" PRIu64 " entries", adv, ph.used0[TXQ],
			  P - D[C(TX_ADD_USED_FAILURES)]);
		W(adv <= P, "TX used->idx moved by %u (from %u to %u) for %"
		  PRIu64 " chains popped: backwards or past them", adv,
		  ph.used0[TXQ], idx, P);
		for (k = 0; k < adv && k < tx->num; k++) {
			uint64_t s = tx->ring[P_USED] + 4 + 8ull *
				     ((ph.used0[TXQ] + k) & (tx->num - 1));

			if (!g_r32(&d->tab, s, &id) || !g_r32(&d->tab, s + 4, &len))
				continue;
			W(id < tx->num && !len && heads_has(TXQ, k, id,
							   !heads.any_oor[TXQ]),
			  "TX used entry %u of the phase is {%u, %u}: not a head "
			  "offered there, or a length", k, id, len);
		}
		if (tc == U_GOOD)
			tx->used_idx = idx;
	}
	/* The RX used ring: its lengths add up to the RX counters. */
	if (rx->ready && g_r16(&d->tab, rx->ring[P_USED] + 2, &idx)) {
		adv = idx - ph.used0[RXQ];
		if (rc == U_GOOD)
			W(adv == rp - D[C(RX_ADD_USED_FAILURES)],
			  "RX used->idx moved by %u, the counters say %" PRIu64
			  " entries", adv, rp - D[C(RX_ADD_USED_FAILURES)]);
		W(adv <= rp, "RX used->idx moved by %u (from %u to %u) for %"
		  PRIu64 " RX chains consumed", adv, ph.used0[RXQ], idx, rp);
		for (k = 0; k < adv && k < rx->num; k++) {
			uint64_t s = rx->ring[P_USED] + 4 + 8ull *
				     ((ph.used0[RXQ] + k) & (rx->num - 1));

			if (!g_r32(&d->tab, s, &id) || !g_r32(&d->tab, s + 4, &len))
				continue;
			W(id < rx->num && (!len || (len >= HDR && len <= HDR + MAXF))
			  && heads_has(RXQ, k, id, !heads.any_oor[RXQ]),
			  "RX used entry %u of the phase is {%u, %u}", k, id,
			  len);
			if (len) {
				full++;
				lenb += len - HDR;
			} else {
				empty++;
			}
		}
		if (rc == U_GOOD && adv <= rx->num) {
			W(full == D[C(RX_PACKETS)] && lenb == D[C(RX_BYTES)],
			  "RX used entries: %" PRIu64 " deliveries of %" PRIu64
			  " bytes; rx_packets +%" PRIu64 ", rx_bytes +%" PRIu64,
			  full, lenb, D[C(RX_PACKETS)], D[C(RX_BYTES)]);
			W(empty == D[C(RX_CHAIN_INVALID)] + D[C(RX_WRITE_FAILED)] -
			  D[C(RX_ADD_USED_FAILURES)], "RX used entries of length "
			  "0: %" PRIu64 ", failed chains returned: %" PRIu64,
			  empty, D[C(RX_CHAIN_INVALID)] + D[C(RX_WRITE_FAILED)] -
			  D[C(RX_ADD_USED_FAILURES)]);
		}
		if (rc == U_GOOD)
			rx->used_idx = idx;
	}
#undef W
	*tx_popped = (unsigned int)P;
	*rx_popped = (unsigned int)rp;
	return true;
}

/* ------------------------------------------------------------------ */
/* Hostile phases: a second thread rewrites the rings meanwhile        */
/* ------------------------------------------------------------------ */

static struct {
	pthread_t th;
	atomic_bool stop;
	bool running;
	uint64_t rng;
	struct kf_dev *d;
	struct kf_cfg *c;
	uint16_t lo[NQ], hi[NQ];	/* positions it may rewrite */
	uint64_t pages[1024];		/* arena pages it may toggle */
	unsigned int npages;
	uint64_t ops;
	bool ioctls;			/* it may call ioctls too */
	atomic_bool acked;		/* it acknowledged interrupts */
	atomic_int bad_ret;		/* an ioctl returned this (0: none) */
	atomic_uint bad_cmd;
} rc;

/* len bytes somewhere in [base, base + size), if they fit. */
static bool pick_in(uint64_t base, uint64_t size, uint32_t len, uint64_t *rs,
		    uint64_t *out)
{
	if (!size || len > size)
		return false;
	*out = base + rnd64_s(rs) % (size - len + 1);
	return true;
}

/*
 * An address anywhere the guest might point a descriptor of len bytes.
 * RX ones (the device writes there) stay off the avail and used rings:
 * RX buffers, TX frames, descriptor tables, or nothing backed at all.
 */
static uint64_t wild_addr(const struct kf_cfg *c, const struct kf_dev *d,
			  uint64_t *rs, uint32_t len, bool for_rx)
{
	const struct kf_vq *q = &d->q[rnd64_s(rs) % NQ];
	uint64_t r = rnd64_s(rs) % 8, a;

	switch (r) {
	case 2:
		if (pick_in(c->pool, c->pool_len, len, rs, &a))
			return a;
		break;
	case 3:
		if (q->ready && pick_in(q->ring[P_DESC], part_len(P_DESC, q->num),
					len, rs, &a))
			return a;
		break;
	case 4:
		if (len >= 2)
			return 0 - (uint64_t)len + 1 + rnd64_s(rs) % (len - 1);
		break;
	case 5:
		if (!for_rx)
			return rnd64_s(rs);
		break;
	case 6:
		if (!for_rx)
			return hole_addr(&d->tab, len ? len : 1, NULL, 0, rs);
		break;
	case 7:
		if (!for_rx)
			return c->tab.r[rnd64_s(rs) % c->tab.n].gpa +
			       rnd64_s(rs) % c->tab.r[0].size;
		break;
	}
	if (pick_in(c->rxa, c->rxa_len, len, rs, &a))
		return a;
	if (len >= 2)
		return 0 - (uint64_t)len + 1;	/* wraps: never written */
	return c->rxa;
}

static void racer_desc(uint64_t *rs, unsigned int qi)
{
	const struct kf_dev *d = rc.d;
	const struct kf_vq *q = &d->q[qi];
	uint32_t len = rnd64_s(rs) % 8 ? (uint32_t)(rnd64_s(rs) % 3000) :
		       (uint32_t)rnd64_s(rs);
	uint16_t fl = (uint16_t)(rnd64_s(rs) % 8), next;

	if (qi == RXQ && rnd64_s(rs) % 4)
		fl |= F_WRITE;
	if (qi == TXQ && rnd64_s(rs) % 4)
		fl &= ~F_WRITE;
	if (!(rnd64_s(rs) % 16))
		fl = (uint16_t)rnd64_s(rs);
	next = rnd64_s(rs) % 8 ? (uint16_t)(rnd64_s(rs) % q->num) :
	       (uint16_t)rnd64_s(rs);
	desc_put(&d->tab, q, (uint16_t)(rnd64_s(rs) % q->num),
		 wild_addr(rc.c, d, rs, len, qi == RXQ), len, fl, next);
}

static void racer_slot(uint64_t *rs, unsigned int qi)
{
	const struct kf_vq *q = &rc.d->q[qi];
	uint16_t n = rc.hi[qi] - rc.lo[qi], p, head;

	if (!n)
		return;
	p = rc.lo[qi] + (uint16_t)(rnd64_s(rs) % n);
	head = rnd64_s(rs) % 5 ? (uint16_t)(rnd64_s(rs) % q->num) :
	       (uint16_t)rnd64_s(rs);
	/* Noted first: the device may read it the moment it is stored. */
	heads_note(qi, (uint16_t)(p - ph.last0[qi]), head, q->num);
	avail_put(&rc.d->tab, q, p, head);
}

static void *racer_main(void *arg)
{
	uint64_t rs = rc.rng;
	unsigned int qi;

	(void)arg;
	while (!atomic_load(&rc.stop)) {
		unsigned int k, n = 1 + rnd64_s(&rs) % 8;

		for (k = 0; k < n; k++) {
			uint64_t r = rnd64_s(&rs) % 100;

			qi = rnd64_s(&rs) % NQ;
			if (!rc.d->q[qi].ready)
				continue;
			if (r < 40) {
				racer_desc(&rs, qi);
			} else if (r < 70) {
				racer_slot(&rs, qi);
			} else if (r < 85) {
				const struct kf_vq *q = &rc.d->q[qi];

				g_w16(&rc.d->tab, q->ring[P_AVAIL] + (rnd64_s(&rs) % 2 ?
				      0 : 4 + 2ull * q->num), (uint16_t)rnd64_s(&rs));
			} else if (r < 90 && rc.ioctls) {
				/*
				 * The owner's other threads may use the device
				 * too: calls that change no configuration,
				 * valid in any state (a RESET may be racing).
				 */
				struct vnetloop_irq_state st;
				struct vnetloop_info info;
				uint32_t bits = VIRTIO_MMIO_INT_VRING;
				unsigned long cmd = r < 87 ? VNETLOOP_GET_IRQ :
						    r < 89 ? VNETLOOP_ACK_IRQ :
						    VNETLOOP_GET_INFO;
				void *p = cmd == VNETLOOP_GET_IRQ ? (void *)&st :
					  cmd == VNETLOOP_ACK_IRQ ? (void *)&bits :
					  (void *)&info;

				if (cmd == VNETLOOP_ACK_IRQ)
					atomic_store(&rc.acked, true);
				if (ioctl(rc.d->fd, cmd, p)) {
					atomic_store(&rc.bad_ret, errno);
					atomic_store(&rc.bad_cmd, (unsigned int)cmd);
				}
			} else if (r < 95 && rc.npages) {
				uint64_t pg = rc.pages[rnd64_s(&rs) % rc.npages];

				page_set(pg, !kf.dead[pg]);
			} else if (rc.npages) {
				uint64_t pg = rc.pages[rnd64_s(&rs) % rc.npages];

				if (!kf.dead[pg])
					madvise(kf.arena + pg * PG, PG,
						MADV_DONTNEED);
			}
			rc.ops++;
		}
		if (rnd64_s(&rs) % 2)
			sched_yield();
	}
	return NULL;
}

/* Arena pages of buffers and descriptor tables, not of avail/used rings. */
static void racer_pages(const struct kf_dev *d, const struct kf_cfg *c)
{
	struct kf_iv keep[2 * NQ], use[2 + NQ];
	unsigned int i, j, nk = 0, nu = 0;
	uint64_t a = arena_base() / PG;

	rc.npages = 0;
	for (i = 0; i < NQ; i++) {
		if (!d->q[i].ready)
			continue;
		keep[nk].a = d->q[i].ring[P_AVAIL];
		keep[nk++].n = part_len(P_AVAIL, d->q[i].num);
		keep[nk].a = d->q[i].ring[P_USED];
		keep[nk++].n = part_len(P_USED, d->q[i].num);
		use[nu].a = d->q[i].ring[P_DESC];
		use[nu++].n = part_len(P_DESC, d->q[i].num);
	}
	use[nu].a = c->pool;
	use[nu++].n = c->pool_len;
	use[nu].a = c->rxa;
	use[nu++].n = c->rxa_len;
	for (i = 0; i < nu; i++) {
		uint64_t g = use[i].a, len = use[i].n, hva, room, p;

		while (len && tab_find(&d->tab, g, &hva, &room)) {
			uint64_t m = room < len ? room : len;

			for (p = hva / PG; p <= (hva + m - 1) / PG; p++) {
				bool ok = p >= a && p - a < NPAGES &&
					  rc.npages < ARRAY_LEN(rc.pages);

				for (j = 0; j < nk && ok; j++)
					ok = !iv_on_pages(&d->tab, &keep[j], p, p);
				if (ok)
					rc.pages[rc.npages++] = p - a;
			}
			g += m;
			len -= m;
		}
	}
}

static bool racer_start(struct kf_dev *d, struct kf_cfg *c, bool ioctls)
{
	unsigned int qi;
	int err;

	rc.d = d;
	rc.c = c;
	rc.ioctls = ioctls;
	rc.rng = rnd64();
	for (qi = 0; qi < NQ; qi++) {
		rc.lo[qi] = d->q[qi].last;
		rc.hi[qi] = d->q[qi].gidx;
	}
	racer_pages(d, c);
	atomic_store(&rc.stop, false);
	atomic_store(&rc.acked, false);
	atomic_store(&rc.bad_ret, 0);
	err = pthread_create(&rc.th, NULL, racer_main, NULL);
	if (err)
		return fail("pthread_create: %s", strerror(err));
	rc.running = true;
	return true;
}

static bool racer_stop(void)
{
	int ret;

	if (!rc.running)
		return true;
	atomic_store(&rc.stop, true);
	pthread_join(rc.th, NULL);
	rc.running = false;
	kf.racer_ops += rc.ops;
	rc.ops = 0;
	if (atomic_load(&rc.acked))
		ph.acked = true;
	ret = atomic_load(&rc.bad_ret);
	if (ret)
		return fail("ioctl %#x from a second thread of the owner "
			    "returned %s", atomic_load(&rc.bad_cmd),
			    strerror(ret));
	return true;
}

/* Chains of any shape; hostile ones point anywhere but the avail/used rings. */
static unsigned int offer_hostile(struct kf_dev *d, struct kf_cfg *c, unsigned int qi)
{
	struct kf_vq *q = &d->q[qi];
	uint16_t outst = q->gidx - q->last, want, k, i;
	uint16_t desc[QMAX];
	unsigned int n = 0;

	if (!q->ready || outst >= q->num)
		return 0;
	want = pct(50) ? (uint16_t)(q->num - outst) :
	       (uint16_t)rnd(q->num - outst + 1);
	for (k = 0; k < want; k++) {
		uint16_t head;

		for (i = 0; i < q->num; i++)
			desc[i] = (uint16_t)rnd(q->num);
		if (qi == TXQ && pct(60)) {
			head = gen_tx(c, q->num, q->num, &gch) ?
			       gch_write(&d->tab, q, &gch, desc) :
			       (uint16_t)rndr(q->num, 0xffff);
		} else if (qi == RXQ && pct(60)) {
			uint64_t cap = rnd_rx_cap(), at = c->rxa;

			if (cap > c->rxa_len)
				cap = c->rxa_len;
			if (c->rxa_len > cap)
				at += rnd64() % (c->rxa_len - cap);
			gen_rx(c, q->num, q->num, at, cap, true, &gch);
			head = gch.n ? gch_write(&d->tab, q, &gch, desc) :
			       (uint16_t)rndr(q->num, 0xffff);
		} else {
			unsigned int j, m = 1 + rnd(pct(80) ? 4 : q->num);

			gch.n = m < q->num ? m : q->num;
			for (j = 0; j < gch.n; j++) {
				gch.s[j].len = pct(80) ? rnd(3000) : (uint32_t)rnd64();
				gch.s[j].addr = wild_addr(c, d, &kf.rng, gch.s[j].len,
							  qi == RXQ);
				gch.s[j].flags = (qi == RXQ ? F_WRITE : 0) |
						 (pct(10) ? (uint16_t)rnd64() & ~F_NEXT : 0);
				gch.s[j].next_set = pct(5);
				gch.s[j].loop = pct(50);
				gch.s[j].next = (uint16_t)rnd64();
			}
			head = gch_write(&d->tab, q, &gch, desc);
		}
		heads_note(qi, (uint16_t)(q->gidx - ph.last0[qi]), head, q->num);
		avail_put(&d->tab, q, q->gidx, head);
		q->pos[q->gidx % QMAX].head = head;
		q->pos[q->gidx % QMAX].buf = 0;
		q->pos[q->gidx % QMAX].blen = 0;
		q->pos[q->gidx % QMAX].fresh = false;
		q->gidx++;
		n++;
	}
	return n;
}

/*
 * Wait until all offered TX entries are consumed (by the counters, as the
 * used ring classes say) or the TX queue got poisoned.
 */
static bool wait_weak(struct kf_dev *d, const struct kf_cfg *c, unsigned int offered,
		      bool tx_poison, uint64_t *cnt, bool racing)
{
	uint64_t end = now_ns() + (uint64_t)kf.wait_ms * 1000000, P;
	int tc = used_class(d, TXQ);
	unsigned int us = 50;

	for (;;) {
		if (!dev_read(d, cnt))
			return false;
		if (tc == U_BAD)
			P = cnt[C(TX_ADD_USED_FAILURES)] -
			    ph.base[C(TX_ADD_USED_FAILURES)];
		else
			P = cnt[C(TX_PACKETS)] + cnt[C(TX_CHAIN_INVALID)] +
			    cnt[C(TX_OVERSIZE_DROPPED)] -
			    ph.base[C(TX_PACKETS)] -
			    ph.base[C(TX_CHAIN_INVALID)] -
			    ph.base[C(TX_OVERSIZE_DROPPED)];
		if (tx_poison ? cnt[C(INVALID_AVAIL_IDX_COUNT)] >
		    ph.base[C(INVALID_AVAIL_IDX_COUNT)] : P >= offered)
			return true;
		if (now_ns() > end)
			return fail("no progress: %d ms after the kick %" PRIu64
				    " of %u TX entries consumed%s%s", kf.wait_ms,
				    P, offered, racing ? " (guest racing)" : "",
				    tx_poison ? ", TX avail->idx moved to poison "
				    "and no poisoning counted" : "");
		if (pct2(10)) {
			if (racing && pct2(30)) {
				ph.acked = true;
				if (!io_ack_irq(d, rnd64_s(&kf.rng2) % 4, PTR_OK))
					return false;
			} else if (!phase_noise(d, c)) {
				return false;
			}
		}
		if (pct2(5) && !dev_kick(d, d->kick, &ph.kicks))
			return false;
		sleep_us(us);
		us = us < 2000 ? 2 * us : us;
	}
}

/* After weak checks: the model takes the device's positions from them. */
static void weak_resync(struct kf_dev *d, struct kf_cfg *c, unsigned int tx_popped,
			unsigned int rx_popped, bool tx_jump, bool rx_jump)
{
	struct kf_vq *tx = &d->q[TXQ], *rx = &d->q[RXQ];
	uint64_t pois = d->c[C(INVALID_AVAIL_IDX_COUNT)] -
			ph.base[C(INVALID_AVAIL_IDX_COUNT)];
	uint16_t from = rx->last;
	unsigned int qi;

	tx->last += tx_popped;
	tx->known = tx->last;
	if (tx->last != tx->gidx || (tx_jump && pois))
		tx->poisoned = true;
	rx->last += rx_popped;
	rx->known_sure = rx->last == rx->gidx;
	rx->known = rx->last;
	if (rx_jump && pois && !tx->poisoned)
		rx->poisoned = true;
	if (pois && !tx_jump && !rx_jump)
		tx->poisoned = rx->poisoned = true;	/* reported by the caller */
	for (qi = 0; qi < NQ; qi++)
		if (d->q[qi].used_idx != ph.used0[qi]) {
			d->q[qi].sig_valid = true;
			d->q[qi].sig_used = d->q[qi].used_idx;
		}
	rx_reclaim(d, c, from, rx->last);
	if (pois)
		kf.poisons++;
}

static bool phase_hostile(struct kf_dev *d, struct kf_cfg *c)
{
	struct kf_vq *tx = &d->q[TXQ], *rx = &d->q[RXQ];
	bool racing = pct(70), tx_jump = false, rx_jump = false;
	unsigned int txp, rxp, n, i;
	uint16_t tx_pub, rx_pub;
	uint64_t cnt[NCNT];

	if (!phase_begin(d))
		return false;
	kf.hostile++;
	memset(&heads, 0, sizeof(heads));
	heads_from_ring(d, RXQ, rx->last, rx->gidx);
	heads_from_ring(d, TXQ, tx->last, tx->gidx);
	phase_hints(d, true);
	offer_hostile(d, c, RXQ);
	rx_pub = rx->gidx;
	ph.offered = offer_hostile(d, c, TXQ);
	tx_pub = tx->gidx;
	if (pct(5)) {
		tx_pub = tx->gidx + tx->num + 1 + rnd(0xffff - 2u * tx->num);
		tx_jump = true;
	} else if (rx->ready && rx->known_sure && pct(5)) {
		rx_pub = rx->gidx + rx->num + 1 + rnd(0xffff - 2u * rx->num);
		rx_jump = true;
	}
	if (rx->ready)
		g_w16(&d->tab, rx->ring[P_AVAIL] + 2, rx_pub);
	g_w16(&d->tab, tx->ring[P_AVAIL] + 2, tx_pub);
	if (racing && !racer_start(d, c, true))
		return false;
	n = 1 + rnd(4);
	for (i = 0; i < n; i++) {
		if (!dev_kick(d, d->kick, &ph.kicks))
			break;
		if (i + 1 < n)
			sleep_us(rnd(500));
	}
	if (!kf.dev_bad)
		wait_weak(d, c, ph.offered, tx_jump, cnt, racing);
	if (!racer_stop() || kf.dev_bad || !phase_settle(d, cnt))
		return false;
	if (!weak_checks(d, cnt, ph.offered, !tx_jump, &txp, &rxp))
		return false;
	if (tx_jump && cnt[C(INVALID_AVAIL_IDX_COUNT)] ==
	    ph.base[C(INVALID_AVAIL_IDX_COUNT)])
		return fail("TX avail->idx %u ahead of %u did not poison",
			    tx_pub, tx->last);
	/* Avail rings backed, indices never more than num ahead: no poison. */
	if (!tx_jump && !rx_jump && cnt[C(INVALID_AVAIL_IDX_COUNT)] !=
	    ph.base[C(INVALID_AVAIL_IDX_COUNT)])
		return fail("invalid_avail_idx_count +%" PRIu64 " though both "
			    "avail rings are backed and avail->idx never ran "
			    "more than the queue size ahead",
			    cnt[C(INVALID_AVAIL_IDX_COUNT)] -
			    ph.base[C(INVALID_AVAIL_IDX_COUNT)]);
	if (!phase_isr(d, false, true))
		return false;
	kf.chains += txp;
	kf.frames += cnt[C(RX_PACKETS)] - ph.base[C(RX_PACKETS)];
	weak_resync(d, c, txp, rxp, tx_jump, rx_jump);
	if (tx->poisoned) {
		poisoned_stays(d);
		return false;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Random ioctl sequences                                              */
/* ------------------------------------------------------------------ */

static struct vnetloop_mem_region prev_reg[MAXREG];
static unsigned int prev_nreg;

static void vr_of(const struct kf_cfg *c, unsigned int q, struct vnetloop_vring *v)
{
	memset(v, 0, sizeof(*v));
	v->index = q;
	v->num = c->vr[q].num;
	v->desc_addr = c->vr[q].ring[P_DESC];
	v->avail_addr = c->vr[q].ring[P_AVAIL];
	v->used_addr = c->vr[q].ring[P_USED] | c->vr[q].bad;
}

/* A table: the layout's in other words, another valid one, or defects. */
static bool noise_mem(struct kf_dev *d, const struct kf_cfg *c)
{
	struct vnetloop_mem_region r[MAXREG + 1];
	unsigned int n = c->nreg, k = rnd(c->nreg), i, rounds = pct(30) ? 2 : 1;
	uint32_t nreg = 0, tflags = 0;
	int ptrv = PTR_OK;
	bool set_n = false;

	memcpy(r, c->reg, n * sizeof(r[0]));
	while (rounds--) {
		uint64_t sz = r[k].memory_size ? r[k].memory_size : 1;

		switch (rnd(13)) {
		case 0:	/* the same memory: another order, a region cut in two */
			for (i = n; i > 1; i--) {
				unsigned int j = rnd(i);
				struct vnetloop_mem_region x = r[i - 1];

				r[i - 1] = r[j];
				r[j] = x;
			}
			if (n < MAXREG && r[k].memory_size >= 2) {
				uint64_t off = rndr(1, r[k].memory_size - 1);

				r[n] = r[k];
				r[n].guest_phys_addr += off;
				r[n].userspace_addr += off;
				r[n].memory_size -= off;
				r[k].memory_size = off;
				n++;
			}
			break;
		case 1:
			if (prev_nreg) {
				memcpy(r, prev_reg, prev_nreg * sizeof(r[0]));
				n = prev_nreg;
				k = 0;
			}
			break;
		case 2:
			nreg = 0;
			set_n = true;
			break;
		case 3:
			nreg = pct(50) ? MAXREG + 1 + rnd(100) : UINT32_MAX;
			set_n = true;
			break;
		case 4:
			tflags = 1u << rnd(32);
			break;
		case 5:
			r[k].flags = 1ull << rnd(64);
			break;
		case 6:
			r[k].memory_size = 0;
			break;
		case 7:
			if (sz >= 2)
				r[k].guest_phys_addr = 0 - sz + 1 + rnd(sz - 1);
			break;
		case 8:
			if (n >= 2) {
				unsigned int k2 = (k + 1 + rnd(n - 1)) % n;

				r[k2].guest_phys_addr = r[k].guest_phys_addr +
							rnd64() % sz;
			}
			break;
		case 9:
			r[k].userspace_addr = 0xffff888000000000ull +
					      PG * (uint64_t)rnd(1u << 20);
			break;
		case 10:
			r[k].userspace_addr = 0 - sz / 2 - 1;
			break;
		case 11:
			ptrv = (int)rndr(PTR_NULL, PTR_EDGE);
			break;
		default:
			/* User space, nothing mapped: valid, faults at use. */
			r[k].userspace_addr = 0x100000000000ull +
					      PG * (uint64_t)rnd(1u << 16);
			break;
		}
	}
	if (!set_n)
		nreg = n;
	return io_set_mem(d, r, nreg, tflags, ptrv);
}

static bool noise_vring(struct kf_dev *d, const struct kf_cfg *c)
{
	static const uint32_t bad_num[] = { 0, 3, 100, 257, 512, 65536, 1u << 31 };
	unsigned int q = c->vr[RXQ].use && pct(40) ? RXQ : TXQ;
	struct vnetloop_vring v;
	int ptrv = PTR_OK;

	vr_of(c, q, &v);
	if (!pct(35)) {
		switch (rnd(8)) {
		case 0:
			v.index = pct(50) ? 2 + rnd(100) : UINT32_MAX;
			break;
		case 1:
			v.flags = 1u << rnd(32);
			break;
		case 2:
			v.reserved0 = 1u << rnd(32);
			break;
		case 3:
			v.reserved[rnd(2)] = 1ull << rnd(64);
			break;
		case 4:
			v.num = bad_num[rnd(ARRAY_LEN(bad_num))];
			break;
		case 5:
			if (pct(33))
				v.desc_addr += 8;
			else if (pct(50))
				v.avail_addr += 1;
			else
				v.used_addr += 2;
			break;
		case 6:
			v.desc_addr = 0 - 16ull * rndr(1, v.num);
			break;
		default:
			ptrv = (int)rndr(PTR_NULL, PTR_EDGE);
			break;
		}
	}
	return io_set_vring(d, &v, ptrv);
}

static bool noise_op(struct kf_dev *d, const struct kf_cfg *c)
{
	unsigned int r = rnd(100);

	if (r < 7)
		return io_get_info(d, rnd_ptr());
	if (r < 21)
		return noise_mem(d, c);
	if (r < 37)
		return noise_vring(d, c);
	if (r < 45) {
		uint64_t f = pct(50) ? rnd64() & VNETLOOP_FEATURES :
			     VNETLOOP_FEATURES | (1ull << rnd(64));

		return io_set_features(d, f, rnd_ptr());
	}
	if (r < 57)
		return io_set_eventfds(d, rnd_fd(d), rnd_fd(d),
				       pct(10) ? 1u << rnd(32) : 0,
				       pct(10) ? 1u << rnd(32) : 0, rnd_ptr());
	if (r < 65)
		return io_start(d);
	if (r < 70)
		return io_reset(d);
	if (r < 78)
		return io_get_irq(d, rnd_ptr(), NULL);
	if (r < 86)
		return io_ack_irq(d, pct(70) ? rnd(4) : 1u << rnd(32), rnd_ptr());
	if (r < 91)
		return io_unknown(d);
	if (r < 98) {
		/* Not running: nobody listens, nothing may run (checked later). */
		if (!d->running)
			return dev_kick(d, d->efd[rnd(3)], NULL);
		return true;
	}
	/* A fork costs milliseconds under TCG: now and then. */
	if (d->bound && pct(8))
		return io_other_owner(d);
	return true;
}

static bool q_is(const struct kf_vq *q, const struct kf_cfg *c, unsigned int qi)
{
	return q->ready && q->num == c->vr[qi].num &&
	       q->ring[P_DESC] == c->vr[qi].ring[P_DESC] &&
	       q->ring[P_AVAIL] == c->vr[qi].ring[P_AVAIL] &&
	       q->ring[P_USED] == c->vr[qi].ring[P_USED];
}

/*
 * The configuring ioctls of layout c in random order, mixed with random
 * calls; if that does not leave the device running exactly c (any valid
 * features and eventfds), RESET and configure it in order.
 */
static bool io_sequence(struct kf_dev *d, const struct kf_cfg *c)
{
	enum { S_MEM, S_VTX, S_VRX, S_FEAT, S_EFD, S_START, S_N };
	unsigned int order[S_N], n = 0, i, j, e = rnd(100);
	int kick = e < 70 ? d->efd[0] : e < 85 ? d->efd[1] : d->efd[2];
	int call = e < 70 ? d->efd[1] : e < 85 ? d->efd[0] : d->efd[2];
	struct vnetloop_vring v;

	kf.ioseqs++;
	snprintf(kf.where, sizeof(kf.where), "ioctl sequence");
	order[n++] = S_MEM;
	order[n++] = S_VTX;
	if (c->vr[RXQ].use)
		order[n++] = S_VRX;
	order[n++] = S_FEAT;
	order[n++] = S_EFD;
	for (i = n; i > 1; i--) {
		unsigned int x;

		j = rnd(i);
		x = order[i - 1];
		order[i - 1] = order[j];
		order[j] = x;
	}
	j = pct(80) ? n : rnd(n + 1);
	memmove(order + j + 1, order + j, (n - j) * sizeof(order[0]));
	order[j] = S_START;
	n++;
	for (i = 0; i < n && !kf.dev_bad; i++) {
		while (pct(45) && !kf.dev_bad)
			noise_op(d, c);
		switch (order[i]) {
		case S_MEM:
			io_set_mem(d, c->reg, c->nreg, 0, PTR_OK);
			break;
		case S_VTX:
		case S_VRX:
			vr_of(c, order[i] == S_VTX ? TXQ : RXQ, &v);
			io_set_vring(d, &v, PTR_OK);
			break;
		case S_FEAT:
			io_set_features(d, c->features, PTR_OK);
			break;
		case S_EFD:
			io_set_eventfds(d, kick, call, 0, 0, PTR_OK);
			break;
		default:
			io_start(d);
			break;
		}
	}
	while (pct(30) && !kf.dev_bad)
		noise_op(d, c);
	if (kf.dev_bad)
		return false;
	if (d->running && d->has_mem && tab_same(&d->tab, &c->tab) &&
	    q_is(&d->q[TXQ], c, TXQ) && (!d->q[RXQ].ready ||
	    (c->vr[RXQ].use && q_is(&d->q[RXQ], c, RXQ))) && d->kick >= 0)
		goto done;
	/* Not what the round wants: again, in order. */
	if (!io_reset(d) || !io_set_mem(d, c->reg, c->nreg, 0, PTR_OK))
		return false;
	vr_of(c, TXQ, &v);
	if (!io_set_vring(d, &v, PTR_OK))
		return false;
	if (c->vr[RXQ].use) {
		vr_of(c, RXQ, &v);
		if (!io_set_vring(d, &v, PTR_OK))
			return false;
	}
	if (!io_set_features(d, c->features, PTR_OK) ||
	    !io_set_eventfds(d, kick, call, 0, 0, PTR_OK) || !io_start(d))
		return false;
	if (!d->running)
		return fail("the layout's configuration did not start (table %d, "
			    "TX %d, eventfds %d/%d)", d->has_mem,
			    d->q[TXQ].ready, d->kick, d->call);
done:
	kf.where[0] = 0;
	return true;
}

/* ------------------------------------------------------------------ */
/* Rounds and devices                                                  */
/* ------------------------------------------------------------------ */

static bool time_up(void)
{
	return now_ns() >= kf.t_end_ns;
}

static bool done(void)
{
	return kf.drains >= kf.target || time_up() || kf.fails >= MAX_FAILS;
}

/*
 * A phase cut short: RESET (or close) while the worker drains, the guest
 * perhaps still racing. What was counted must match the used rings, and
 * after RESET nothing runs (the next round checks the counters held).
 */
static bool phase_abort(struct kf_dev *d, struct kf_cfg *c, bool by_close)
{
	unsigned int txp, rxp, i, n;
	bool racing = c->hostile && pct(60);

	if (!phase_begin(d))
		return false;
	kf.aborts++;
	memset(&heads, 0, sizeof(heads));
	if (c->hostile) {
		heads_from_ring(d, RXQ, d->q[RXQ].last, d->q[RXQ].gidx);
		offer_hostile(d, c, RXQ);
		ph.offered = offer_hostile(d, c, TXQ);
	} else {
		offer_rx(d, c);
		heads_from_ring(d, RXQ, d->q[RXQ].last, d->q[RXQ].gidx);
		ph.offered = offer_tx(d, c);
		heads_from_ring(d, TXQ, d->q[TXQ].last, d->q[TXQ].gidx);
	}
	if (d->q[RXQ].ready)
		g_w16(&d->tab, d->q[RXQ].ring[P_AVAIL] + 2, d->q[RXQ].gidx);
	g_w16(&d->tab, d->q[TXQ].ring[P_AVAIL] + 2, d->q[TXQ].gidx);
	/* Not when it closes: another thread's fd would go with it. */
	if (racing && !racer_start(d, c, !by_close))
		return false;
	n = 1 + rnd(3);
	for (i = 0; i < n; i++)
		dev_kick(d, d->kick, &ph.kicks);
	sleep_us(rnd(3000));
	if (by_close) {
		kf.closes_busy++;
		dev_close(d);
		racer_stop();
		return false;
	}
	if (!io_reset_raw(d)) {
		racer_stop();
		return false;
	}
	if (!racer_stop())
		return false;
	ph.irq_reads += efd_take(d->call);
	if (!weak_checks(d, d->c, ph.offered, false, &txp, &rxp))
		return false;
	kf.chains += txp;
	reset_model(d);
	return true;
}

/*
 * RESET and the same layout again, in order, short of START: fresh rings,
 * the same eventfds.
 */
static bool restart_stopped(struct kf_dev *d, struct kf_cfg *c)
{
	struct vnetloop_vring v;
	int kick = d->kick, call = d->call;

	if (!io_reset(d))
		return false;
	cfg_rings_init(c);
	if (!io_set_mem(d, c->reg, c->nreg, 0, PTR_OK))
		return false;
	vr_of(c, TXQ, &v);
	if (!io_set_vring(d, &v, PTR_OK))
		return false;
	if (c->vr[RXQ].use) {
		vr_of(c, RXQ, &v);
		if (!io_set_vring(d, &v, PTR_OK))
			return false;
	}
	return io_set_features(d, c->features, PTR_OK) &&
	       io_set_eventfds(d, kick, call, 0, 0, PTR_OK);
}

/* One layout on the device: configure it, then phases. */
static bool round_run(struct kf_dev *d)
{
	uint64_t before[NCNT], c[NCNT];
	unsigned int i, nph;

	kf.round++;
	kf.rounds++;
	kf.ground++;
	kf.phase = 0;
	kf.where[0] = 0;
	/* Each round draws from its own stream: KFUZZ_ROUND replays it. */
	kf.rng = kf.seed ^ (kf.ground * 0xd1342543de82ef95ull);
	rnd64();
	if (d->running && !io_reset(d))
		return false;
	if (kcfg.nreg) {
		memcpy(prev_reg, kcfg.reg, sizeof(prev_reg));
		prev_nreg = kcfg.nreg;
	}
	memcpy(before, d->c, sizeof(before));
	cfg_new(&kcfg, pct(22));
	/* The device is stopped: nothing may have moved since RESET. */
	if (!dev_read(d, c))
		return false;
	for (i = 0; i < NCNT; i++)
		if (c[i] != before[i])
			return fail("%s moved by %" PRIu64 " after RESET "
				    "returned: the worker still ran",
				    cnt_name_of(i), c[i] - before[i]);
	if (!io_sequence(d, &kcfg))
		return false;
	if (kf.verbose)
		say("round %" PRIu64 " on device %u: %s", kf.round, d->id,
		    kf.layout);
	nph = 1 + rnd(10);
	for (i = 0; i < nph && !done(); i++) {
		unsigned int r = rnd(100);
		bool ok;

		snprintf(kf.where, sizeof(kf.where), "%s phase",
			 kcfg.hostile ? "hostile" : "clean");
		if (r < 3)
			return phase_abort(d, &kcfg, false) && !kf.dev_bad;
		if (r < 4) {
			phase_abort(d, &kcfg, true);
			return false;
		}
		if (!kcfg.hostile && pct(6)) {
			/* RESET, configure again, post, and only then START. */
			ok = restart_stopped(d, &kcfg) &&
			     phase_clean(d, &kcfg, true);
		} else {
			ok = kcfg.hostile ? phase_hostile(d, &kcfg) :
					    phase_clean(d, &kcfg, false);
		}
		if (kf.dev_bad)
			return false;
		if (!ok)
			break;
	}
	kf.where[0] = 0;
	return true;
}

static void run_devices(void)
{
	static struct kf_dev dev;

	while (!done()) {
		unsigned int r, rounds = 1 + rnd(6);

		kf.dev_bad = false;
		kf.layout[0] = 0;
		kf.round = 0;
		if (!dev_open(&dev)) {
			dev_close(&dev);
			break;
		}
		for (r = 0; r < rounds && !done(); r++)
			if (!round_run(&dev) || kf.dev_bad)
				break;
		racer_stop();
		if (dev.fd >= 0)
			dev_close(&dev);
	}
}

/* ------------------------------------------------------------------ */
/* The test                                                            */
/* ------------------------------------------------------------------ */

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	char *end;
	uint64_t v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end) {
		say("%s=%s is not a number, using %" PRIu64, name, s, def);
		return def;
	}
	return v;
}

/* Open file descriptors of this process (-1: cannot tell). */
static int count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!dir)
		return -1;
	while ((e = readdir(dir)))
		n += e->d_name[0] != '.';
	closedir(dir);
	return n;
}

FIXTURE(kfuzz) {
	int unused;
};

FIXTURE_SETUP(kfuzz)
{
}

FIXTURE_TEARDOWN(kfuzz)
{
}

TEST_F_TIMEOUT(kfuzz, random, 290)
{
	int ret, fds = count_fds();
	uint64_t secs, t;

	kf.md = _metadata;
	kf.seed = env_u64("KFUZZ_SEED", now_ns() ^ ((uint64_t)getpid() << 32));
	kf.rng = kf.seed;
	kf.rng2 = ~kf.seed;
	kf.target = env_u64("KFUZZ_DRAINS", DRAINS_DEFAULT);
	secs = env_u64("KFUZZ_SECONDS", SECONDS_DEFAULT);
	if (secs > SECONDS_MAX) {
		say("KFUZZ_SECONDS=%" PRIu64 " is more than the harness allows; "
		    "using %u", secs, SECONDS_MAX);
		secs = SECONDS_MAX;
	}
	kf.wait_ms = (int)env_u64("KFUZZ_WAIT_MS", WAIT_MS_DEFAULT);
	kf.verbose = env_u64("KFUZZ_VERBOSE", 0);
	kf.ground = env_u64("KFUZZ_ROUND", 1) - 1;
	say("seed %" PRIu64 " (KFUZZ_SEED), target %" PRIu64 " drains within "
	    "%" PRIu64 " s", kf.seed, kf.target, secs);
	kf.nullfd = kf.pipefd[0] = kf.pipefd[1] = -1;
	vnl_nl_init(&kf.nl, stderr);
	ret = vnl_nl_open(&kf.nl);
	ASSERT_EQ(0, ret) TH_LOG("generic netlink family %s: %s",
				 VNETLOOP_GENL_NAME, kf.nl.err);
	ret = arena_init();
	ASSERT_EQ(0, ret) TH_LOG("guest memory: %s", strerror(-ret));
	ASSERT_EQ(0, pipe2(kf.pipefd, O_CLOEXEC)) TH_LOG("pipe: %s",
							  strerror(errno));
	kf.nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, kf.nullfd) TH_LOG("/dev/null: %s", strerror(errno));

	kf.t0_ns = now_ns();
	kf.t_end_ns = kf.t0_ns + secs * 1000000000ull;
	run_devices();
	t = now_ns() - kf.t0_ns;

	say("%" PRIu64 " drains, %" PRIu64 " devices, %" PRIu64 " ioctl "
	    "sequences, seed %" PRIu64 ", %.1f s", kf.drains, kf.devices,
	    kf.ioseqs, kf.seed, t / 1e9);
	say("%" PRIu64 " rounds, %" PRIu64 " phases (%" PRIu64 " predicted "
	    "exactly, %" PRIu64 " hostile, %" PRIu64 " cut short, %" PRIu64
	    " closed busy), %" PRIu64 " TX chains, %" PRIu64 " frames "
	    "delivered, %" PRIu64 " poisonings, %" PRIu64 " ioctls, %.0f "
	    "drains/s", kf.rounds, kf.phases, kf.exact, kf.hostile, kf.aborts,
	    kf.closes_busy, kf.chains, kf.frames, kf.poisons, kf.ioctls,
	    kf.drains / (t / 1e9));
	say("checked: %" PRIu64 " used entries against the model, %" PRIu64
	    " RX bytes against what was sent; %" PRIu64 " guest writes "
	    "racing the worker", kf.used_checked, kf.bytes_checked,
	    kf.racer_ops);
	say("modelled: %" PRIu64 " TX reads that faulted, %" PRIu64 " RX "
	    "writes that failed (%" PRIu64 " headers checked zeroed), %" PRIu64
	    " stale avail entries exposed, %" PRIu64 " oversize chains with "
	    "memory not backed", kf.n_src, kf.n_wfail, kf.n_hdr_checked,
	    kf.n_exposed, kf.n_unb_over);
	{
		char line[1024];
		int n = 0;
		unsigned int i;

		for (i = 0; i < NCNT; i++)
			n += snprintf(line + n, sizeof(line) - n, "%s%s %" PRIu64,
				      i ? ", " : "", cnt_name_of(i), kf.total[i]);
		say("all devices: %s", line);
	}
	if (!kf.fails && kf.drains < kf.target)
		fail("only %" PRIu64 " drains in %" PRIu64 " s: the target is "
		     "%" PRIu64 " (KFUZZ_SECONDS, KFUZZ_DRAINS)", kf.drains,
		     secs, kf.target);
	if (kf.fails)
		say("FAILED: %u failures; replay a failed round with the "
		    "KFUZZ_SEED and KFUZZ_ROUND it names", kf.fails);

	vnl_nl_close(&kf.nl);
	close(kf.nullfd);
	close(kf.pipefd[0]);
	close(kf.pipefd[1]);
	arena_free();
	if (fds >= 0 && count_fds() != fds)
		fail("%d file descriptors open at the end, %d at the start",
		     count_fds(), fds);
}

VNL_TEST_MAIN
