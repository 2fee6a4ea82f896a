// SPDX-License-Identifier: GPL-2.0
/*
 * kfuzz: random rings and random ioctl sequences thrown at the real module,
 * the engine's invariants checked from userspace.
 *
 * /dev/vnetloop speaks the vhost-vdpa uAPI (kmod/vdpa.c): one open is one
 * device, SET_OWNER binds it to this process, the status drives it
 * (DRIVER_OK starts the worker, 0 resets) and the memory is the IOTLB this
 * process writes (kmod/iotlb.c). Devices come and go (each lives a few
 * rounds; some are closed while their worker drains). A round is:
 *
 *  1. A random layout: 1..8 regions of an arena of this process at random
 *     guest-physical addresses (low, anywhere, or touching the top of the
 *     64-bit space), with holes, neighbours that merge and neighbours that
 *     do not, sometimes one whose host range is PROT_NONE, each with random
 *     access rights (mostly RW, else read-only or write-only). Queues of
 *     random power-of-two sizes (RX sometimes absent or misaligned); each
 *     ring part inside one region, in a hole, across a region's end, in a
 *     region without the right it needs, on faulting pages, or with only
 *     its tail faulting. Random features, a random ring base.
 *  2. A random ioctl sequence: the configuring steps (SET_OWNER, status
 *     ACKNOWLEDGE|DRIVER, the IOTLB written as UPDATE messages in other
 *     words, in a batch or not, the vring ioctls, the call and kick
 *     eventfds, features, FEATURES_OK, backend features, DRIVER_OK) in
 *     random order mixed with random calls (DRIVER_OK too early, status
 *     regressions and resets, ioctls before SET_OWNER, RESET_OWNER, the
 *     getters, kicks before DRIVER_OK, valid but different arguments,
 *     arguments with random defects: NULL, unreadable and half-readable
 *     pointers, queue indices, sizes, alignments, flags, wrapping, kernel
 *     and overlapping IOVA ranges, a full IOTLB, bad and foreign fds,
 *     malformed and truncated IOTLB messages, unknown commands, read() and
 *     mmap(); now and then the same from a forked process, which is not the
 *     owner, and a device such a process bound and left). Every call
 *     must return exactly what kmod/vdpa.c and kmod/iotlb.c give for its
 *     arguments and the device's state (0 when they are good); the model of
 *     the device follows what succeeded. If the sequence does not leave the
 *     layout running, reset and configure it in order, as QEMU does.
 *  3. Data phases. The guest posts RX and TX chains, well formed or
 *     malformed in each way the contract lists (pieces outside guest RAM or
 *     in an IOTLB entry without the right the device needs among them),
 *     moves avail->idx (up to the queue size ahead, exposing stale entries,
 *     or further, to poison), sets avail->flags and used_event, sets the
 *     drain budget over netlink (one packet, often: one kick makes hundreds
 *     of drains), swaps the call eventfds, rewrites the IOTLB (the same
 *     table in other words, or with an entry's rights cut for one phase),
 *     kicks (sometimes only before DRIVER_OK: the drain queued at start must
 *     do the work) and waits. Some phases end in a reset (status 0) or
 *     close() while the worker drains; some resets resume the rings where
 *     GET_VRING_BASE says they stopped.
 *
 * Clean layouts keep what the device writes (RX buffers, used rings) apart
 * from what it reads, and let host faults hit TX frames or RX buffers, not
 * both. There a model replays each TX chain by the device contract (and
 * Documentation/engine.rst where the contract leaves a choice) through the
 * IOTLB as the module holds it, rights included, and predicts every
 * contract counter exactly, every used entry of both rings, every byte
 * written into RX buffers (header included; a header zeroed again after a
 * failed write), poisoning, avail_event, the ring positions and the
 * interrupts each call eventfd may get from the hints. Hostile layouts
 * point RX buffers at descriptor tables and TX frames, and a second thread
 * rewrites descriptors, avail entries and hints, mprotect()s and
 * MADV_DONTNEEDs buffer pages, swaps call eventfds, unmaps, remaps and
 * cuts the rights of IOTLB entries and calls the getters while the worker
 * drains; there only what holds whatever the guest does is checked.
 *
 * Checked (a failure prints the KFUZZ_SEED and KFUZZ_ROUND that replay it,
 * where it happened, the layout and, against the model, each chain's
 * verdict):
 *  - progress: after a kick every offered TX entry is consumed within
 *    KFUZZ_WAIT_MS, unless the guest poisoned the TX queue;
 *  - counters never decrease; at rest worker_runs <= kicks +
 *    budget_requeues + starts, and interrupts, budget_requeues <=
 *    worker_runs;
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
 *  - ring positions: GET_VRING_BASE at rest, and after a reset, is where the
 *    model (or the counters) says each queue stopped;
 *  - the budget: worker_runs grows by at least chains / packet budget, and
 *    budget_requeues by one less;
 *  - poisoning: only when the guest did it (avail->idx more than the queue
 *    size ahead, avail ring unbacked, not readable or faulting), counted
 *    once; NEEDS_RESET in GET_STATUS iff one was counted since the reset,
 *    the config call eventfd signalled for it; a poisoned TX queue ignores
 *    kicks;
 *  - interrupts: each call eventfd gets one signal per drain whose queues
 *    on it asked for one (queues sharing an eventfd: one), within what the
 *    hints allow, and the interrupts counter agrees; kicks = the kick
 *    eventfd's writes while running plus the device's own signals on it;
 *    an eventfd nobody installed gets nothing;
 *  - the device never writes descriptor tables, avail rings, used->flags,
 *    or avail_event without EVENT_IDX (with it, avail_event = the TX
 *    position after the drain);
 *  - nothing runs before DRIVER_OK or after a reset but the drain queued
 *    at DRIVER_OK; a reset that cuts drains short leaves each queue where
 *    the chains counted leave it; after close() the device is gone from
 *    netlink; the fd's fdinfo, the MAC and netlink name the device, netlink
 *    its owner; the getters give the constants kmod-abi.rst lists; the
 *    process ends with the descriptors it began with. The kernel log is
 *    the rig's to judge.
 *
 * Environment: KFUZZ_SEED (default from the clock; printed first),
 * KFUZZ_ROUND (start with that round: each round draws from its own stream
 * of the seed, so a failed round replays alone, hostile phases' timing
 * aside), KFUZZ_DRAINS (the target, default 100000), KFUZZ_SECONDS (the
 * wall-clock budget, default 150, at most 260: missing the target in time
 * fails), KFUZZ_WAIT_MS (progress timeout, default 20000), KFUZZ_VERBOSE=1
 * (a line per round), KFUZZ_DBG=1 (after every IOTLB write, the number of
 * entries debugfs shows must be the model's; a failure shows the last
 * messages of both threads).
 */
#include <dirent.h>
#include <endian.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
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

/* Access rights of an IOTLB entry, and what a device access needs. */
#define A_R		VHOST_ACCESS_RO
#define A_W		VHOST_ACCESS_WO
#define A_RW		VHOST_ACCESS_RW

/* Status bits. */
#define S_ACK		VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRIVER	VIRTIO_CONFIG_S_DRIVER
#define S_DRIVER_OK	VIRTIO_CONFIG_S_DRIVER_OK
#define S_FEATURES_OK	VIRTIO_CONFIG_S_FEATURES_OK
#define S_NEEDS_RESET	VIRTIO_CONFIG_S_NEEDS_RESET
#define S_FAILED	VIRTIO_CONFIG_S_FAILED

/* What the device offers besides VNETLOOP_FEATURES (kmod/vdpa.c). */
#define BACKEND_FEATURES ((1ull << VHOST_BACKEND_F_IOTLB_MSG_V2) | \
			  (1ull << VHOST_BACKEND_F_IOTLB_BATCH))
#define V1		(1ull << VIRTIO_F_VERSION_1)

#define ARENA		(6u << 20)	/* guest RAM lives here */
#define GUARD		(256u << 10)	/* PROT_NONE after the arena */
#define NPAGES		(ARENA / PG)
#define MAXREG		8		/* regions of a layout */
#define MAXTLB		64		/* IOTLB entries (kmod: ENOSPC past) */
#define MAXIV		64
#define MAXRXB		(2 * QMAX)
#define NEFD		4		/* eventfds per device */
#define MAX_FAILS	3

/* Userspace addresses every kernel's access_ok() takes, or none does. */
#define USER_TOP	((1ull << 47) - PG)
#define USER_NEVER	(1ull << 63)

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
	uint64_t io_good, io_bad, tlb_msgs, starts, resumes, remaps, cuts;
	uint64_t swaps, signals, bases_checked, owners_checked, children;
	bool unb_over_failed;	/* see tx_verdict() */
	bool dbg;		/* KFUZZ_DBG=1 */
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
/* The IOTLB, and the region table the engine makes of it              */
/* ------------------------------------------------------------------ */

/* An IOTLB entry as an UPDATE message gives it. */
struct kf_ent {
	uint64_t iova, size, uaddr;
	uint8_t perm;		/* A_R, A_W or A_RW */
};

/* The entries in the order the module keeps them (kmod/iotlb.c). */
struct kf_tlb {
	unsigned int n;
	struct kf_ent e[MAXTLB];
};

struct kf_reg {
	uint64_t gpa, size, hva;
	uint8_t perm;
};

struct kf_tab {
	unsigned int n;
	struct kf_reg r[MAXTLB];	/* sorted by gpa, neighbours merged */
};

static bool wraps(uint64_t base, uint64_t len)
{
	return len && base + len - 1 < base;
}

/*
 * Sort and merge entries the device accepted, as vnl_mem_set() does:
 * neighbours contiguous in both spaces with the same rights merge.
 */
static void tab_build(struct kf_tab *t, const struct kf_ent *in,
		      unsigned int n)
{
	struct kf_reg s[MAXTLB], x;
	unsigned int i, j, k;

	for (i = 0; i < n; i++) {
		x.gpa = in[i].iova;
		x.size = in[i].size;
		x.hva = in[i].uaddr;
		x.perm = in[i].perm;
		for (j = i; j > 0 && s[j - 1].gpa > x.gpa; j--)
			s[j] = s[j - 1];
		s[j] = x;
	}
	for (i = 0, k = 0; i < n; i++) {
		if (k && s[k - 1].gpa + s[k - 1].size == s[i].gpa &&
		    s[k - 1].hva + s[k - 1].size == s[i].hva &&
		    s[k - 1].perm == s[i].perm &&
		    !wraps(s[k - 1].hva, s[k - 1].size + s[i].size)) {
			s[k - 1].size += s[i].size;
			continue;
		}
		s[k++] = s[i];
	}
	memset(t, 0, sizeof(*t));
	t->n = k;
	memcpy(t->r, s, k * sizeof(s[0]));
}

static bool tab_same(const struct kf_tab *a, const struct kf_tab *b)
{
	unsigned int i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (a->r[i].gpa != b->r[i].gpa || a->r[i].size != b->r[i].size ||
		    a->r[i].hva != b->r[i].hva || a->r[i].perm != b->r[i].perm)
			return false;
	return true;
}

/*
 * The region of gpa and where it leads. acc: the right a device access
 * needs (A_R, A_W; 0 for the guest's own view, which has them all); a
 * region without it is as good as none.
 */
static const struct kf_reg *tab_find(const struct kf_tab *t, uint64_t gpa,
				     unsigned int acc, uint64_t *hva,
				     uint64_t *room)
{
	unsigned int i;

	for (i = 0; i < t->n; i++) {
		const struct kf_reg *r = &t->r[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size) {
			if ((r->perm & acc) != acc)
				return NULL;
			*hva = r->hva + (gpa - r->gpa);
			*room = r->size - (gpa - r->gpa);
			return r;
		}
	}
	return NULL;
}

/* [gpa, gpa + len) inside one (merged) region: where rings must lie. */
static bool tab_in_one(const struct kf_tab *t, uint64_t gpa, uint64_t len,
		       unsigned int acc, uint64_t *hva)
{
	uint64_t room;

	return len && tab_find(t, gpa, acc, hva, &room) && room >= len;
}

/* Every byte of [gpa, gpa + len) backed, across neighbours in gpa. */
static bool tab_backed(const struct kf_tab *t, uint64_t gpa, uint64_t len,
		       unsigned int acc)
{
	uint64_t hva, room;

	while (len) {
		if (!tab_find(t, gpa, acc, &hva, &room))
			return false;
		if (room >= len)
			return true;
		gpa += room;
		len -= room;
	}
	return true;
}

/*
 * What a device access acc to [gpa, gpa + len) meets, piece by piece:
 * *unbacked if a byte is not in the table or its entry lacks the right,
 * *dead if a byte is on a host page that faults.
 */
static void tab_state(const struct kf_tab *t, uint64_t gpa, uint64_t len,
		      unsigned int acc, bool *unbacked, bool *dead)
{
	uint64_t hva, room, n;

	while (len) {
		if (!tab_find(t, gpa, acc, &hva, &room)) {
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

/*
 * The guest's memory is the layout's (the table of kf_cfg.tab, which the
 * IOTLB follows): the guest reaches all of it, whatever rights the
 * device's entries give.
 */
static const struct kf_tab *gtab;

/* The guest's own pointer to [gpa, gpa + len): one region, not faulting. */
static uint8_t *gp(uint64_t gpa, uint64_t len)
{
	uint64_t hva;

	if (!tab_in_one(gtab, gpa, len, 0, &hva) || hva_dead(hva, len))
		return NULL;
	return (uint8_t *)(uintptr_t)hva;
}

/* Guest stores to memory it cannot reach go nowhere. */
static void g_w16(uint64_t gpa, uint16_t v)
{
	uint8_t *p = gp(gpa, 2);

	if (p) {
		v = htole16(v);
		__atomic_store_n((uint16_t *)(void *)p, v, __ATOMIC_RELEASE);
	}
}

static bool g_r16(uint64_t gpa, uint16_t *v)
{
	uint8_t *p = gp(gpa, 2);

	if (!p)
		return false;
	*v = le16toh(__atomic_load_n((uint16_t *)(void *)p, __ATOMIC_ACQUIRE));
	return true;
}

static bool g_r32(uint64_t gpa, uint32_t *v)
{
	uint8_t *p = gp(gpa, 4);

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
static void g_fill(uint64_t gpa, uint64_t len, int byte, uint64_t *rs)
{
	uint64_t hva, room, n, i;

	while (len) {
		if (!tab_find(gtab, gpa, 0, &hva, &room))
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
/* The device reads the descriptor table and avail ring, writes used. */
static const unsigned int part_acc[NPART] = { A_R, A_R, A_W };
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
	/* the engine's queue, from the vring at DRIVER_OK */
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
	bool ae_set;		/* TX: avail_event written, ae it */
	uint16_t ae;
	/* the driver */
	uint16_t gidx;		/* avail->idx published */
	uint32_t owner[QMAX];	/* descriptor -> owning position + 1, 0 free */
	struct kf_pos pos[QMAX];	/* by position % QMAX */
};

/* A virtqueue as the owner set it up (the module's struct vnl_vring). */
struct kf_vring {
	uint32_t num;		/* 0: not set */
	uint64_t addr[NPART];
	uint16_t base;		/* SET_VRING_BASE, or where the last run stopped */
	bool enabled;
	int kick, call;		/* eventfds as set, -1: none */
};

struct kf_dev {
	int fd;
	uint32_t id;
	int efd[NEFD];		/* the eventfds kicks and calls may name */
	bool owner;		/* SET_OWNER made us the owner */
	uint8_t status;		/* the driver's status bits */
	uint64_t features;	/* acked (SET_FEATURES) */
	uint8_t mac[6];
	uint32_t cfg_size;	/* VHOST_VDPA_GET_CONFIG_SIZE */
	int config_call;
	struct kf_vring vr[NQ];
	struct kf_tlb tlb;	/* the IOTLB */
	struct kf_tlb batch;	/* ... being built between BATCH_BEGIN and END */
	bool in_batch;
	struct kf_tab tab;	/* the engine's table, of tlb */
	bool running;		/* DRIVER_OK started the worker */
	struct kf_vq q[NQ];
	uint64_t c[NCNT];	/* counters at the last read */
	uint64_t iaic_reset;	/* invalid_avail_idx_count at the last reset */
	uint64_t starts;	/* drains queued by DRIVER_OK */
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
				     part_acc[part], &h) ||
	    (h & (part_align[part] - 1)))
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
	struct kf_ent reg[MAXREG];	/* the regions, one IOTLB entry each */
	struct kf_tab tab;
	struct {
		bool use;	/* the queue is part of the layout */
		bool bad;	/* ... with a misaligned ring: -EINVAL */
		uint16_t num;
		uint64_t ring[NPART];
		char kind[NPART];	/* g h s p d t: see cfg_ring() */
		bool set_base;	/* SET_VRING_BASE base, else keep the device's */
		uint16_t base;
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

/* Every byte backed with right acc (0: any) and on a page that works. */
static bool range_live(const struct kf_tab *t, uint64_t gpa, uint64_t len,
		       unsigned int acc)
{
	bool u = false, d = false;

	tab_state(t, gpa, len, acc, &u, &d);
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
 * every byte in regions with right acc (0: any), clear of the fixed
 * allocations and of other[], on pages that do not fault when live.
 */
static bool cfg_alloc(struct kf_cfg *c, uint64_t len, uint64_t align,
		      bool ring, bool live, unsigned int acc,
		      const struct kf_iv *other, unsigned int nother,
		      uint64_t *out)
{
	unsigned int t;

	for (t = 0; t < 48; t++) {
		unsigned int i = rnd(c->tab.n);
		uint64_t lo = c->tab.r[i].gpa, hi, g;

		if (ring && (c->tab.r[i].perm & acc) != acc)
			continue;
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
		if (acc && !tab_backed(&c->tab, g, len, acc))
			continue;
		if (live && !range_live(&c->tab, g, len, 0))
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

/* Rights for a region: mostly all, else one of the two. */
static uint8_t rnd_perm(void)
{
	return pct(70) ? A_RW : pct(50) ? A_R : A_W;
}

/*
 * Regions: 1..8 host ranges of the arena (or, for faulting memory, of
 * the guard after it), gaps or none on both sides, gpa congruent to the
 * host address modulo 64 so that aligned rings are aligned in both. Each
 * takes its neighbour's rights more often than not, so that neighbours
 * still merge.
 */
static void cfg_regions(struct kf_cfg *c)
{
	uint64_t size[MAXREG], hoff[MAXREG], grel[MAXREG], base, span, h = 0;
	unsigned int n, i, want, guard_reg = MAXREG;
	uint8_t perm[MAXREG];

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
			perm[n] = pct(60) ? perm[n - 1] : rnd_perm();
		} else {
			grel[0] = 0;
			perm[0] = pct(80) ? A_RW : rnd_perm();
		}
	}
	if (!n) {
		size[0] = 64 << 10;
		hoff[0] = 0;
		grel[0] = 0;
		perm[0] = A_RW;
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
		c->reg[i].iova = base + grel[i];
		c->reg[i].size = size[i];
		c->reg[i].uaddr = arena_base() + hoff[i];
		c->reg[i].perm = perm[i];
	}
	/* The table comes in any order. */
	for (i = n; i > 1; i--) {
		unsigned int j = rnd(i);
		struct kf_ent x = c->reg[i - 1];

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
	return tab_backed(t, 0, 1, 0) || tab_backed(t, len, 1, 0) ?
	       (0 - len - PG) & ~(al - 1) : 0;
}

/*
 * len bytes at a multiple of al inside one region that lacks right acc,
 * clear of the fixed allocations, on pages that work; false if none.
 */
static bool cfg_no_right(const struct kf_cfg *c, uint64_t len, uint64_t al,
			 unsigned int acc, uint64_t *out)
{
	unsigned int t;

	for (t = 0; t < 32; t++) {
		const struct kf_reg *r = &c->tab.r[rnd(c->tab.n)];
		uint64_t g;

		if ((r->perm & acc) == acc || r->size < len + al)
			continue;
		g = (r->gpa + rndr(0, r->size - len)) & ~(al - 1);
		if (g < r->gpa || iv_hit(c->iv, c->niv, g, len) ||
		    !range_live(&c->tab, g, len, 0))
			continue;
		*out = g;
		return true;
	}
	return false;
}

/*
 * One ring part of queue q:
 *   g  good: inside one region with the right the device needs (read for
 *      the descriptor table and avail ring, write for used), on pages
 *      that do not fault
 *   h  in a hole: no byte backed
 *   s  across the end of a region (into a hole or a region it does not
 *      merge with): the engine sees it as unbacked
 *   p  inside one region without that right: as unbacked
 *   d  inside one region, every page faulting
 *   t  inside one region, its head live and its tail on a faulting page
 */
static void cfg_ring(struct kf_cfg *c, unsigned int q, unsigned int part)
{
	uint64_t len = part_len(part, c->vr[q].num), al = part_align[part];
	unsigned int t, k = rnd(100), acc = part_acc[part];
	uint64_t g = 0, hva = 0, room;
	char kind = 'g';

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
			    !range_live(&c->tab, g, last + 1 - g, acc))
				continue;
			kind = 's';
			break;
		}
	} else if (k < 9) {
		if (cfg_no_right(c, len, al, acc, &g))
			kind = 'p';
	} else if (k < 15 && !c->hostile) {
		bool tail = k >= 12;

		for (t = 0; t < 32; t++) {
			uint64_t h0, p0, p1;

			if (!cfg_alloc(c, len, al, true, true, acc, NULL, 0, &g))
				break;
			tab_in_one(&c->tab, g, len, 0, &hva);
			if (tail) {
				/* Move it across the next page boundary. */
				uint64_t shift = PG - (hva & (PG - 1));
				uint64_t keep = rndr(part == P_DESC ? 16 : 4,
						     len - 1);

				if (len < 8 || shift < keep)
					continue;
				shift -= keep;
				shift &= ~(al - 1);
				if (!tab_in_one(&c->tab, g + shift, len, acc,
						&h0) ||
				    iv_hit(c->iv, c->niv, g + shift, len) ||
				    !range_live(&c->tab, g + shift, len, 0))
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

		if (!cfg_alloc(c, len, big, true, true, acc, NULL, 0, &g) &&
		    !cfg_alloc(c, len, al, true, true, acc, NULL, 0, &g)) {
			/* No room: in a hole then. */
			g = pure_hole(&c->tab, len, al);
			kind = 'h';
		}
	}
	/* What of it is backed is the guest's and no one else's. */
	if (kind != 'h') {
		uint64_t a = g, n = len;

		while (n && tab_find(&c->tab, a, 0, &hva, &room)) {
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
static uint64_t cfg_area(struct kf_cfg *c, uint64_t *len, bool live,
			 unsigned int acc)
{
	uint64_t g;

	while (*len >= PG) {
		if (cfg_alloc(c, *len, 64, false, live, acc, NULL, 0, &g)) {
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

	while (len && tab_find(t, gpa, 0, &hva, &room)) {
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

			if (!tab_find(&c->tab, g, 0, &hva, &room))
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
	static const char *const pn[4] = { "--", "ro", "wo", "rw" };
	int n = 0, q;
	unsigned int i;

	n += snprintf(kf.layout + n, sizeof(kf.layout) - n,
		      "%s, faults on %s, %u regions", c->hostile ? "hostile" :
		      "clean", c->dead_side == DS_TX ? "TX" :
		      c->dead_side == DS_RX ? "RX" : "rings only", c->tab.n);
	for (i = 0; i < c->tab.n && n < 300; i++)
		n += snprintf(kf.layout + n, sizeof(kf.layout) - n,
			      " [%#" PRIx64 "+%#" PRIx64 " %s]", c->tab.r[i].gpa,
			      c->tab.r[i].size, pn[c->tab.r[i].perm & 3]);
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
		if (c->vr[q].set_base)
			n += snprintf(kf.layout + n, sizeof(kf.layout) - n,
				      " base %u", c->vr[q].base);
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
 * get canaries. No RX buffer is in use any more. The indices are set
 * where the queue will start (ring_bases()).
 */
static void cfg_rings_init(struct kf_cfg *c)
{
	unsigned int q, p;

	for (q = 0; q < NQ; q++) {
		if (!c->vr[q].use)
			continue;
		for (p = 0; p < NPART; p++)
			g_fill(c->vr[q].ring[p], part_len(p, c->vr[q].num), 0,
			       NULL);
		g_w16(c->vr[q].ring[P_USED], c->canary[q][0]);
		g_w16(c->vr[q].ring[P_USED] + 4 + 8ull * c->vr[q].num,
		      c->canary[q][1]);
	}
	c->nrxb = 0;
}

/* Where the queues start: 0 as after a guest reset, anywhere, or kept. */
static void cfg_bases(struct kf_cfg *c)
{
	unsigned int q, k;

	for (q = 0; q < NQ; q++) {
		k = rnd(100);
		c->vr[q].set_base = k < 80;
		c->vr[q].base = k < 55 ? 0 : pct(50) ? (uint16_t)rnd64() :
				(uint16_t)(0 - rnd(2 * QMAX));
	}
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
	/* A misaligned RX ring (vr_addr()): refused, RX stays off. */
	if (c->vr[RXQ].use && pct(4))
		c->vr[RXQ].bad = true;
	cfg_bases(c);
	c->features = (uint64_t)VNETLOOP_FEATURES &
		      ~(pct(45) ? 1ull << VIRTIO_RING_F_EVENT_IDX : 0);
	if (pct(10))
		c->features = (rnd64() & VNETLOOP_FEATURES) | V1;
	c->pool_len = rndr(32 << 10, 160 << 10) & ~63ull;
	c->pool = cfg_area(c, &c->pool_len, true, A_R);
	if (hostile) {
		c->rxa_len = rndr(64 << 10, 512 << 10);
		c->rxa = cfg_area(c, &c->rxa_len, false, pct(80) ? A_W : 0);
	}
	cfg_dead_pages(c);
	c->fill = rnd64();
	for (q = 0; q < NQ; q++) {
		c->canary[q][0] = (uint16_t)rnd64();
		c->canary[q][1] = (uint16_t)rnd64();
	}
	cfg_rings_init(c);
	g_fill(c->pool, c->pool_len, -1, &c->fill);
	if (c->rxa_len)
		g_fill(c->rxa, c->rxa_len, CANARY, NULL);
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
/* The device: counters, ioctls and what kmod/vdpa.c lets them return  */
/* ------------------------------------------------------------------ */

static struct kf_cfg kcfg;	/* the layout of the round */

enum {
	EI_OK, EI_INVAL, EI_FAULT, EI_BUSY, EI_BADF, EI_PERM, EI_NOTTY,
	EI_NOBUFS, EI_OPNOTSUPP, EI_EXIST, EI_NOSPC, EI_NODEV, EI_OTHER, EI_N
};

#define E_OK	(1u << EI_OK)
#define E_FAULT	(1u << EI_FAULT)

static unsigned int ebit(int e)
{
	switch (e) {
	case 0: return E_OK;
	case EINVAL: return 1u << EI_INVAL;
	case EFAULT: return E_FAULT;
	case EBUSY: return 1u << EI_BUSY;
	case EBADF: return 1u << EI_BADF;
	case EPERM: return 1u << EI_PERM;
	case ENOTTY: return 1u << EI_NOTTY;
	case ENOBUFS: return 1u << EI_NOBUFS;
	case EOPNOTSUPP: return 1u << EI_OPNOTSUPP;
	case EEXIST: return 1u << EI_EXIST;
	case ENOSPC: return 1u << EI_NOSPC;
	case ENODEV: return 1u << EI_NODEV;
	default: return 1u << EI_OTHER;
	}
}

static const char *eset(unsigned int m, char *buf, size_t len)
{
	static const char *const names[EI_N] = {
		"0", "EINVAL", "EFAULT", "EBUSY", "EBADF", "EPERM", "ENOTTY",
		"ENOBUFS", "EOPNOTSUPP", "EEXIST", "ENOSPC", "ENODEV", "?",
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

/* A call's result against the ones kmod/vdpa.c and kmod/iotlb.c give. */
static bool io_ok(const char *what, int ret, unsigned int allow)
{
	char a[96];

	if (allow & ebit(ret)) {
		if (ret)
			kf.io_bad++;
		else
			kf.io_good++;
		return true;
	}
	return fail("%s returned %s (%d), the module gives %s", what,
		    ret ? strerror(ret) : "0", ret, eset(allow, a, sizeof(a)));
}

static bool io_is(const char *what, int ret, int want)
{
	return io_ok(what, ret, ebit(want));
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

/* Netlink names the owner's pid, 0 without one. */
static bool nl_owner(const struct kf_dev *d, uint32_t want)
{
	struct vnl_dev_stats s;
	int ret = vnl_nl_get_dev(&kf.nl, d->id, false, &s);
	bool ok;

	if (ret)
		return fail("netlink GET of device %u: %s", d->id,
			    strerror(-ret));
	ok = s.has_owner_pid && s.owner_pid == want;
	if (!ok)
		fail("netlink gives owner pid %u%s, expected %u", s.owner_pid,
		     s.has_owner_pid ? "" : " (absent)", want);
	vnl_dev_stats_free(&s);
	kf.owners_checked++;
	return ok;
}

/* The index of eventfd fd among the device's, or -1. */
static int efd_ix(const struct kf_dev *d, int fd)
{
	int i;

	for (i = 0; fd >= 0 && i < NEFD; i++)
		if (d->efd[i] == fd)
			return i;
	return -1;
}

/* Read an eventfd: the signals and writes since the last read. */
static uint64_t efd_take(int fd)
{
	uint64_t n;

	if (fd < 0 || read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
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
		/* The first half readable, the rest on the PROT_NONE page. */
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

/* What eventfd_fget()/eventfd_ctx_fdget() make of fd: 0 or the errno. */
static int fd_err(const struct kf_dev *d, int fd)
{
	if (fd == VHOST_FILE_UNBIND || efd_ix(d, fd) >= 0)
		return 0;
	if (fd >= 0 && (fd == d->fd || fd == kf.pipefd[0] ||
			fd == kf.pipefd[1] || fd == kf.nullfd ||
			fd == vnl_nl_fd(&kf.nl)))
		return EINVAL;
	return EBADF;
}

static int rnd_fd(const struct kf_dev *d)
{
	switch (rnd(13)) {
	case 0: return -1;
	case 1: return 100000 + (int)rnd(1000);
	case 2: return -2 - (int)rnd(1000);
	case 3: return d->fd;
	case 4: return kf.pipefd[rnd(2)];
	case 5: return kf.nullfd;
	case 6: return vnl_nl_fd(&kf.nl);
	default: return d->efd[rnd(NEFD)];
	}
}

/* ---- the getters of constants: anyone, any time ---- */

static const struct {
	unsigned long cmd;
	const char *name;
	unsigned int len;
} consts[] = {
	{ VHOST_GET_FEATURES, "GET_FEATURES", 8 },
	{ VHOST_GET_BACKEND_FEATURES, "GET_BACKEND_FEATURES", 8 },
	{ VHOST_VDPA_GET_DEVICE_ID, "GET_DEVICE_ID", 4 },
	{ VHOST_VDPA_GET_VRING_NUM, "GET_VRING_NUM", 2 },
	{ VHOST_VDPA_GET_CONFIG_SIZE, "GET_CONFIG_SIZE", 4 },
	{ VHOST_VDPA_GET_VQS_COUNT, "GET_VQS_COUNT", 4 },
	{ VHOST_VDPA_GET_GROUP_NUM, "GET_GROUP_NUM", 4 },
	{ VHOST_VDPA_GET_AS_NUM, "GET_AS_NUM", 4 },
	{ VHOST_VDPA_GET_IOVA_RANGE, "GET_IOVA_RANGE", 16 },
};

/* What getter k returns (cfg_size: GET_CONFIG_SIZE's own answer). */
static void const_want(unsigned int k, uint32_t cfg_size, uint8_t *w)
{
	uint64_t v[2] = { 0, 0 };

	switch (k) {
	case 0:
		v[0] = VNETLOOP_FEATURES;
		break;
	case 1:
		v[0] = BACKEND_FEATURES;
		break;
	case 2:
		v[0] = VIRTIO_ID_NET;
		break;
	case 3:
		v[0] = QMAX;
		break;
	case 4:
		v[0] = cfg_size;
		break;
	case 5:
		v[0] = NQ;
		break;
	case 6:
	case 7:
		v[0] = 1;
		break;
	default:
		v[1] = UINT64_MAX;
		break;
	}
	memcpy(w, v, sizeof(v));	/* little-endian host */
}

static bool io_const(struct kf_dev *d, unsigned int k, int ptrv)
{
	uint8_t got[16], want[16], good[16];
	char what[64];
	int ret;

	memset(got, 0xee, sizeof(got));
	const_want(k, d->cfg_size, want);
	ret = xio(d->fd, consts[k].cmd, ptrv == PTR_OK ? (void *)got :
		  place_arg(ptrv, got, consts[k].len, good));
	snprintf(what, sizeof(what), "%s%s", consts[k].name,
		 ptrv == PTR_OK ? "" : "(bad pointer)");
	if (!io_is(what, ret, ptrv == PTR_OK ? 0 : EFAULT))
		return false;
	if (ptrv == PTR_OK && memcmp(got, want, consts[k].len)) {
		uint64_t g, w;

		memcpy(&g, got, 8);
		memcpy(&w, want, 8);
		return fail("%s: %#" PRIx64 " (first 8 bytes), expected %#"
			    PRIx64, consts[k].name, g, w);
	}
	return true;
}

/* ---- ownership ---- */

static bool io_set_owner(struct kf_dev *d)
{
	int ret = xio(d->fd, VHOST_SET_OWNER, NULL);

	if (!io_is(d->owner ? "SET_OWNER (owned)" : "SET_OWNER", ret,
		   d->owner ? EBUSY : 0))
		return false;
	if (!ret)
		d->owner = true;
	return !pct(10) || nl_owner(d, (uint32_t)getpid());
}

/* ---- status ---- */

/*
 * GET_STATUS: the driver's bits, and NEEDS_RESET only after a poisoning
 * that was counted since the reset (counted first: counters.rst); at
 * rest, always after one.
 */
static bool io_get_status(struct kf_dev *d, int ptrv, bool rest)
{
	bool needs = d->c[C(INVALID_AVAIL_IDX_COUNT)] > d->iaic_reset;
	uint8_t st = 0xee, good;
	uint64_t c[NCNT];
	int ret;

	ret = xio(d->fd, VHOST_VDPA_GET_STATUS, ptrv == PTR_OK ? &st :
		  place_arg(ptrv, &st, 1, &good));
	if (ptrv != PTR_OK)
		return io_is("GET_STATUS(bad pointer)", ret, EFAULT);
	if (!io_is("GET_STATUS", ret, 0))
		return false;
	if ((st | S_NEEDS_RESET) != (d->status | S_NEEDS_RESET) ||
	    ((d->status & S_NEEDS_RESET) && !(st & S_NEEDS_RESET)))
		return fail("GET_STATUS %#x, the driver set %#x", st,
			    d->status);
	if (d->status & S_NEEDS_RESET)
		return true;
	if ((st & S_NEEDS_RESET) && !needs) {
		if (!dev_read(d, c))
			return false;
		if (c[C(INVALID_AVAIL_IDX_COUNT)] == d->iaic_reset)
			return fail("NEEDS_RESET without a poisoning counted "
				    "since the reset (invalid_avail_idx_count %"
				    PRIu64 ")", d->iaic_reset);
	}
	if (rest && needs && !(st & S_NEEDS_RESET))
		return fail("GET_STATUS %#x: NEEDS_RESET missing after a "
			    "poisoning (invalid_avail_idx_count %" PRIu64
			    ", %" PRIu64 " at the reset)", st,
			    d->c[C(INVALID_AVAIL_IDX_COUNT)], d->iaic_reset);
	return true;
}

/* What vnl_start() says to DRIVER_OK: 0 or the errno. */
static int start_err(const struct kf_dev *d)
{
	const struct kf_vring *tx = &d->vr[TXQ];
	unsigned int q, p;

	if (!d->owner)
		return EPERM;
	if (!tx->num || !tx->enabled || tx->kick < 0)
		return EINVAL;
	for (q = 0; q < NQ; q++) {
		const struct kf_vring *v = &d->vr[q];

		if (!v->num || !v->enabled)
			continue;
		for (p = 0; p < NPART; p++)
			if (wraps(v->addr[p], part_len(p, v->num)))
				return EINVAL;
	}
	return 0;
}

/*
 * The rings a start may be given: the layout's table and queues, nothing
 * else (the drain queued at DRIVER_OK would read and write whatever other
 * rings point at).
 */
static bool start_safe(const struct kf_dev *d, const struct kf_cfg *c)
{
	unsigned int q, p;

	if (!tab_same(&d->tab, &c->tab))
		return false;
	for (q = 0; q < NQ; q++) {
		const struct kf_vring *v = &d->vr[q];

		if (!v->num || !v->enabled)
			continue;
		if (!c->vr[q].use || c->vr[q].bad || v->num != c->vr[q].num)
			return false;
		for (p = 0; p < NPART; p++)
			if (v->addr[p] != c->vr[q].ring[p])
				return false;
	}
	return true;
}

/*
 * The engine's queues as DRIVER_OK will make them (vnl_engine_set_vring()
 * and _set_base()): the vrings that have a size and are enabled, at their
 * base. fresh: new rings (the driver's books start there too); else the
 * same rings go on (a resume) and only the device's side restarts.
 */
static void q_arm(struct kf_dev *d, bool fresh)
{
	unsigned int qi, p;

	for (qi = 0; qi < NQ; qi++) {
		const struct kf_vring *v = &d->vr[qi];
		struct kf_vq *q = &d->q[qi];

		if (!v->num || !v->enabled) {
			q_forget(q);
			continue;
		}
		if (fresh) {
			q_forget(q);
			q->gidx = v->base;
		}
		q->ready = true;
		q->num = (uint16_t)v->num;
		for (p = 0; p < NPART; p++)
			q->ring[p] = v->addr[p];
		q->poisoned = false;
		q->sig_valid = false;
		q->known_sure = true;
		q->last = q->known = q->used_idx = v->base;
	}
}

/*
 * Fresh rings for a start: zeroed (with the canaries) and the indices
 * where the queues start, as a driver sets them up.
 */
static void rings_fresh(struct kf_dev *d, struct kf_cfg *c)
{
	unsigned int q;

	cfg_rings_init(c);
	for (q = 0; q < NQ; q++) {
		if (!d->vr[q].num || !d->vr[q].enabled)
			continue;
		g_w16(d->vr[q].addr[P_AVAIL] + 2, d->vr[q].base);
		g_w16(d->vr[q].addr[P_USED] + 2, d->vr[q].base);
	}
	q_arm(d, true);
}

static bool start_settle(struct kf_dev *d, const uint64_t *before);

/* How a DRIVER_OK that starts the device is handled. */
enum {
	ST_SETTLE,	/* outside a phase: fresh rings, then wait for its drain */
	ST_PHASE,	/* inside a phase: the queues are armed, the phase waits */
};

/*
 * SET_STATUS s. Status 0 resets (the model: reset_model()); bits are only
 * added; FEATURES_OK reads back clear without VERSION_1; DRIVER_OK needs
 * FEATURES_OK and what vnl_start() checks. A start the layout's rings
 * cannot take is not made.
 */
static bool reset_model(struct kf_dev *d);
static bool base_check(struct kf_dev *d, bool learn);

static bool io_set_status(struct kf_dev *d, uint8_t s, int ptrv, int how)
{
	uint8_t ns = s, good;
	uint64_t before[NCNT];
	bool start = false;
	char what[64];
	int want = 0, ret, f;

	if (ptrv != PTR_OK) {
		want = EFAULT;
	} else if (s && (d->status & ~s)) {
		want = EINVAL;
	} else if (s) {
		if ((s & ~d->status & S_FEATURES_OK) && !(d->features & V1))
			ns &= ~S_FEATURES_OK;
		if (ns & ~d->status & S_DRIVER_OK) {
			want = !(ns & S_FEATURES_OK) ? EINVAL : start_err(d);
			start = !want;
		}
	}
	if (start && how == ST_SETTLE) {
		if (!start_safe(d, &kcfg))
			return true;	/* not with these rings */
		rings_fresh(d, &kcfg);
		for (f = 0; f < NEFD; f++)
			efd_take(d->efd[f]);
		if (!dev_read(d, before))
			return false;
	}
	ret = xio(d->fd, VHOST_VDPA_SET_STATUS, ptrv == PTR_OK ? &s :
		  place_arg(ptrv, &s, 1, &good));
	snprintf(what, sizeof(what), "SET_STATUS(%#x, status %#x%s)", s,
		 d->status, d->running ? ", running" : "");
	if (!io_is(what, ret, want))
		return false;
	if (ret)
		return true;
	if (!s)
		return reset_model(d) && base_check(d, false);
	d->status = ns;
	if (!start)
		return true;
	d->running = true;
	d->starts++;
	kf.starts++;
	return how == ST_PHASE || start_settle(d, before);
}

/* The same for the status bits a driver adds: GET, then SET(status | s). */
static bool io_add_status(struct kf_dev *d, uint8_t s)
{
	if (pct(30) && !io_get_status(d, PTR_OK, true))
		return false;
	return io_set_status(d, d->status | s, PTR_OK, ST_SETTLE);
}

/* ---- features and config ---- */

static bool io_set_features(struct kf_dev *d, uint64_t f, int ptrv)
{
	uint64_t good;
	char what[64];
	int want = 0, ret;

	if (ptrv != PTR_OK)
		want = EFAULT;
	else if (d->status & S_FEATURES_OK)
		want = EBUSY;
	else if (f & ~(uint64_t)VNETLOOP_FEATURES)
		want = EINVAL;
	ret = xio(d->fd, VHOST_SET_FEATURES,
		  place_arg(ptrv, &f, sizeof(f), &good));
	snprintf(what, sizeof(what), "SET_FEATURES(%#" PRIx64 ", status %#x)",
		 f, d->status);
	if (!io_is(what, ret, want))
		return false;
	if (!ret)
		d->features = f;
	return true;
}

static bool io_set_backend(struct kf_dev *d, uint64_t f, int ptrv)
{
	uint64_t good;
	char what[64];
	int want = ptrv != PTR_OK ? EFAULT :
		   (f & ~BACKEND_FEATURES) ? EOPNOTSUPP : 0;
	int ret = xio(d->fd, VHOST_SET_BACKEND_FEATURES,
		      place_arg(ptrv, &f, sizeof(f), &good));

	snprintf(what, sizeof(what), "SET_BACKEND_FEATURES(%#" PRIx64 ")", f);
	return io_is(what, ret, want);
}

struct kf_vcfg {
	uint32_t off, len;
	uint8_t buf[64];
};

/* The config space the device shows: the MAC, one queue pair. */
static void cfg_space(const struct kf_dev *d, uint8_t *b)
{
	memset(b, 0, 64);
	memcpy(b, d->mac, 6);
	b[8] = 1;	/* max_virtqueue_pairs, little-endian */
}

static int cfg_range_err(const struct kf_dev *d, uint32_t off, uint32_t len)
{
	return !len || off > d->cfg_size || len > d->cfg_size - off ?
	       EINVAL : 0;
}

/*
 * GET_CONFIG/SET_CONFIG: PTR_EDGE puts the header where it is readable
 * and the bytes where they are not.
 */
static void *place_cfg(int ptrv, struct kf_vcfg *v)
{
	switch (ptrv) {
	case PTR_NULL:
		return NULL;
	case PTR_NONE:
		return kf.edge + PG;
	case PTR_EDGE:
		memcpy(kf.edge + PG - 8, v, 8);
		return kf.edge + PG - 8;
	default:
		return v;
	}
}

static bool io_get_config(struct kf_dev *d, uint32_t off, uint32_t len,
			  int ptrv)
{
	struct kf_vcfg v = { .off = off, .len = len };
	uint8_t want[64];
	char what[64];
	int e = cfg_range_err(d, off, len), ret;

	memset(v.buf, 0xee, sizeof(v.buf));
	ret = xio(d->fd, VHOST_VDPA_GET_CONFIG, place_cfg(ptrv, &v));
	snprintf(what, sizeof(what), "GET_CONFIG(%u, %u)", off, len);
	if (ptrv == PTR_NULL || ptrv == PTR_NONE || (ptrv == PTR_EDGE && !e))
		e = EFAULT;
	if (!io_is(what, ret, e))
		return false;
	cfg_space(d, want);
	if (!ret && memcmp(v.buf, want + off, len))
		return fail("GET_CONFIG(%u, %u): not the MAC %02x:..:%02x and "
			    "one queue pair", off, len, d->mac[0], d->mac[5]);
	return true;
}

/* Only the MAC is writable; writes to the rest are ignored. */
static bool io_set_config(struct kf_dev *d, uint32_t off, uint32_t len,
			  int ptrv)
{
	struct kf_vcfg v = { .off = off, .len = len };
	char what[64];
	int e = cfg_range_err(d, off, len), ret;
	uint32_t i;

	fill_bytes(v.buf, sizeof(v.buf), -1, &kf.rng);
	ret = xio(d->fd, VHOST_VDPA_SET_CONFIG, place_cfg(ptrv, &v));
	snprintf(what, sizeof(what), "SET_CONFIG(%u, %u)", off, len);
	if (ptrv == PTR_NULL || ptrv == PTR_NONE || (ptrv == PTR_EDGE && !e))
		e = EFAULT;
	if (!io_is(what, ret, e))
		return false;
	for (i = 0; !ret && i < len; i++)
		if (off + i < 6)
			d->mac[off + i] = v.buf[i];
	return true;
}

static bool io_config_call(struct kf_dev *d, int fd, int ptrv)
{
	char what[64];
	int good, ret;
	int want = ptrv != PTR_OK ? EFAULT : fd_err(d, fd);

	ret = xio(d->fd, VHOST_VDPA_SET_CONFIG_CALL,
		  place_arg(ptrv, &fd, sizeof(fd), &good));
	snprintf(what, sizeof(what), "SET_CONFIG_CALL(%d)", fd);
	if (!io_is(what, ret, want))
		return false;
	if (!ret)
		d->config_call = fd;
	return true;
}

/* ---- the vrings ---- */

/* What every vring ioctl gives before its own checks (vnl_vring_ioctl()). */
static int vr_pre(const struct kf_dev *d, uint32_t idx, int ptrv)
{
	if (!d->owner)
		return EPERM;
	if (ptrv == PTR_NULL || ptrv == PTR_NONE)
		return EFAULT;
	return idx >= NQ ? ENOBUFS : 0;
}

/* ... and the ones that configure a queue, before reading the rest. */
static int vr_pre_set(const struct kf_dev *d, uint32_t idx, int ptrv)
{
	int e = vr_pre(d, idx, ptrv);

	if (!e && d->running)
		e = EBUSY;
	if (!e && ptrv == PTR_EDGE)
		e = EFAULT;	/* the index is readable, the rest is not */
	return e;
}

static bool vr_done(struct kf_dev *d, const char *name, uint32_t idx,
		    uint64_t v, int ret, int want)
{
	char what[96];

	snprintf(what, sizeof(what), "%s(%u, %#" PRIx64 "%s%s)", name, idx, v,
		 d->owner ? "" : ", not the owner",
		 d->running ? ", running" : "");
	return io_is(what, ret, want);
}

static bool io_vring_num(struct kf_dev *d, uint32_t idx, uint32_t num,
			 int ptrv)
{
	struct vhost_vring_state s = { .index = idx, .num = num }, good;
	int want = vr_pre_set(d, idx, ptrv), ret;

	if (!want && (!num || num > QMAX || !is_pow2(num)))
		want = EINVAL;
	ret = xio(d->fd, VHOST_SET_VRING_NUM,
		  place_arg(ptrv, &s, sizeof(s), &good));
	if (!vr_done(d, "SET_VRING_NUM", idx, num, ret, want))
		return false;
	if (!ret)
		d->vr[idx].num = num;
	return true;
}

static bool io_vring_base(struct kf_dev *d, uint32_t idx, uint32_t num,
			  int ptrv)
{
	struct vhost_vring_state s = { .index = idx, .num = num }, good;
	int want = vr_pre_set(d, idx, ptrv), ret;

	if (!want && num > 0xffff)
		want = EINVAL;
	ret = xio(d->fd, VHOST_SET_VRING_BASE,
		  place_arg(ptrv, &s, sizeof(s), &good));
	if (!vr_done(d, "SET_VRING_BASE", idx, num, ret, want))
		return false;
	if (!ret)
		d->vr[idx].base = (uint16_t)num;
	return true;
}

static bool io_vring_addr(struct kf_dev *d, uint32_t idx, uint32_t flags,
			  const uint64_t *ring, uint64_t log, int ptrv)
{
	struct vhost_vring_addr a = {
		.index = idx, .flags = flags,
		.desc_user_addr = ring[P_DESC],
		.used_user_addr = ring[P_USED],
		.avail_user_addr = ring[P_AVAIL],
		.log_guest_addr = log,
	}, good;
	int want = vr_pre_set(d, idx, ptrv), ret;
	unsigned int p;

	if (!want && (flags & ~(1u << VHOST_VRING_F_LOG)))
		want = EOPNOTSUPP;
	for (p = 0; p < NPART && !want; p++)
		if (ring[p] & (part_align[p] - 1))
			want = EINVAL;
	ret = xio(d->fd, VHOST_SET_VRING_ADDR,
		  place_arg(ptrv, &a, sizeof(a), &good));
	if (!vr_done(d, "SET_VRING_ADDR", idx, ring[P_DESC], ret, want))
		return false;
	for (p = 0; !ret && p < NPART; p++)
		d->vr[idx].addr[p] = ring[p];
	return true;
}

static bool io_vring_kick(struct kf_dev *d, uint32_t idx, int fd, int ptrv)
{
	struct vhost_vring_file f = { .index = idx, .fd = fd }, good;
	int want = vr_pre_set(d, idx, ptrv), ret;

	if (!want)
		want = fd_err(d, fd);
	ret = xio(d->fd, VHOST_SET_VRING_KICK,
		  place_arg(ptrv, &f, sizeof(f), &good));
	if (!vr_done(d, "SET_VRING_KICK", idx, (uint64_t)(int64_t)fd, ret,
		     want))
		return false;
	if (!ret)
		d->vr[idx].kick = fd;
	return true;
}

/* The call eventfd may change at any time, running or not. */
static bool io_vring_call(struct kf_dev *d, uint32_t idx, int fd, int ptrv)
{
	struct vhost_vring_file f = { .index = idx, .fd = fd }, good;
	int want = vr_pre(d, idx, ptrv), ret;

	if (!want && ptrv == PTR_EDGE)
		want = EFAULT;
	if (!want)
		want = fd_err(d, fd);
	ret = xio(d->fd, VHOST_SET_VRING_CALL,
		  place_arg(ptrv, &f, sizeof(f), &good));
	if (!vr_done(d, "SET_VRING_CALL", idx, (uint64_t)(int64_t)fd, ret,
		     want))
		return false;
	if (!ret)
		d->vr[idx].call = fd;
	return true;
}

static bool io_vring_enable(struct kf_dev *d, uint32_t idx, uint32_t on,
			    int ptrv)
{
	struct vhost_vring_state s = { .index = idx, .num = on }, good;
	int want = vr_pre_set(d, idx, ptrv), ret;

	ret = xio(d->fd, VHOST_VDPA_SET_VRING_ENABLE,
		  place_arg(ptrv, &s, sizeof(s), &good));
	if (!vr_done(d, "SET_VRING_ENABLE", idx, on, ret, want))
		return false;
	if (!ret)
		d->vr[idx].enabled = !!on;
	return true;
}

/*
 * GET_VRING_BASE: where the queue is. At rest the model knows it: the
 * engine's position while running (a queue it runs), else the vring's
 * base, which a reset sets to where the queue stopped. *out gets it.
 */
static bool io_get_base(struct kf_dev *d, uint32_t idx, int ptrv, bool check,
			uint16_t *out)
{
	struct vhost_vring_state s = { .index = idx, .num = 0xdeadbeef }, good;
	int want = vr_pre(d, idx, ptrv), ret;
	uint32_t exp;

	if (!want && ptrv == PTR_EDGE)
		want = EFAULT;
	ret = xio(d->fd, VHOST_GET_VRING_BASE, ptrv == PTR_OK ? (void *)&s :
		  place_arg(ptrv, &s, sizeof(s), &good));
	if (!vr_done(d, "GET_VRING_BASE", idx, 0, ret, want) || ret)
		return !kf.dev_bad;
	exp = d->running && d->q[idx].ready ? d->q[idx].last : d->vr[idx].base;
	/*
	 * A queue the engine does not run, while the device runs: vdpa.c
	 * gives the engine's idle position (0), not the base the queue keeps
	 * (and gives again once the device stops). Either is taken.
	 */
	if (d->running && !d->q[idx].ready && !s.num)
		exp = 0;
	if (s.index != idx || s.num > 0xffff || (check && s.num != exp))
		return fail("GET_VRING_BASE(%s): {%u, %u}, expected {%u, %u} "
			    "(%s)", q_name[idx], s.index, s.num, idx, exp,
			    d->running && d->q[idx].ready ? "the queue's "
			    "position" : d->running ? "its base: the queue is "
			    "not running" : "where it stopped, or its base");
	if (check)
		kf.bases_checked++;
	if (out)
		*out = (uint16_t)s.num;
	return true;
}

/* The vring ioctls the device does not have: after the common checks. */
static bool io_vring_other(struct kf_dev *d, uint32_t idx, int ptrv)
{
	static const unsigned long cmds[] = {
		VHOST_SET_VRING_ENDIAN, VHOST_GET_VRING_ENDIAN,
		VHOST_SET_VRING_ERR, VHOST_SET_VRING_BUSYLOOP_TIMEOUT,
		VHOST_GET_VRING_BUSYLOOP_TIMEOUT,
	};
	struct vhost_vring_state s = { .index = idx }, good;
	int want = vr_pre(d, idx, ptrv), ret;

	if (!want)
		want = d->running ? EBUSY : ENOTTY;
	ret = xio(d->fd, cmds[rnd(ARRAY_LEN(cmds))],
		  place_arg(ptrv, &s, sizeof(s), &good));
	return vr_done(d, "a vring ioctl it does not have", idx, 0, ret, want);
}

static bool io_vring_group(struct kf_dev *d, uint32_t idx, int ptrv)
{
	struct vhost_vring_state s = { .index = idx, .num = 77 }, good;
	int want = ptrv != PTR_OK ? EFAULT : idx >= NQ ? EINVAL : 0, ret;

	ret = xio(d->fd, VHOST_VDPA_GET_VRING_GROUP, ptrv == PTR_OK ?
		  (void *)&s : place_arg(ptrv, &s, sizeof(s), &good));
	if (!vr_done(d, "GET_VRING_GROUP", idx, 0, ret, want))
		return false;
	if (!ret && (s.index != idx || s.num))
		return fail("GET_VRING_GROUP(%u): {%u, %u}, expected group 0",
			    idx, s.index, s.num);
	return true;
}

/* ---- the IOTLB ---- */

/* One write() of an IOTLB message. */
struct kf_msg {
	uint32_t ver;		/* VHOST_IOTLB_MSG, _MSG_V2, or junk */
	uint8_t type;		/* VHOST_IOTLB_* */
	uint64_t iova, size, uaddr;
	uint8_t perm;
	size_t count;		/* write()'s */
	int ptrv;		/* PTR_EDGE: the header readable, not the rest */
};

static const char *const msg_name[8] = {
	"type 0", "MISS", "UPDATE", "INVALIDATE", "ACCESS_FAIL",
	"BATCH_BEGIN", "BATCH_END", "type 7",
};

static void msg_init(struct kf_msg *m, uint8_t type, uint64_t iova,
		     uint64_t size, uint64_t uaddr, uint8_t perm)
{
	memset(m, 0, sizeof(*m));
	m->ver = pct(85) ? VHOST_IOTLB_MSG_V2 : VHOST_IOTLB_MSG;
	m->type = type;
	m->iova = iova;
	m->size = size;
	m->uaddr = uaddr;
	m->perm = perm;
	m->count = sizeof(struct vhost_msg_v2);
}

/* access_ok() on every kernel: 0 takes it, 2 refuses it, 1 depends. */
static int uaddr_class(uint64_t u, uint64_t size)
{
	if (wraps(u, size) || u + size > USER_NEVER)
		return 2;
	return u + size <= USER_TOP - PG ? 0 : 1;
}

static bool ent_touch(const struct kf_ent *e, uint64_t first, uint64_t last)
{
	return first <= e->iova + (e->size - 1) && e->iova <= last;
}

/*
 * What vnl_iotlb_write() gives for m (0: success), on the table the
 * message goes to; *either: EFAULT or 0, as the kernel's access_ok()
 * decides.
 */
static int tlb_err(const struct kf_dev *d, const struct kf_msg *m,
		   bool *either)
{
	const struct kf_tlb *t = d->in_batch ? &d->batch : &d->tlb;
	unsigned int i;
	int uc;

	*either = false;
	if (m->count < 4)
		return EINVAL;
	if (m->ptrv == PTR_NULL || m->ptrv == PTR_NONE)
		return EFAULT;
	if (m->ver != VHOST_IOTLB_MSG && m->ver != VHOST_IOTLB_MSG_V2)
		return EINVAL;
	if (m->count < 8 + sizeof(struct vhost_iotlb_msg))
		return EINVAL;
	if (m->ptrv == PTR_EDGE)
		return EFAULT;
	if (!d->owner)
		return EPERM;
	switch (m->type) {
	case VHOST_IOTLB_UPDATE:
		if (!m->size || wraps(m->iova, m->size) || !m->perm ||
		    (m->perm & ~A_RW))
			return EINVAL;
		uc = uaddr_class(m->uaddr, m->size);
		if (uc == 2)
			return EFAULT;
		for (i = 0; i < t->n; i++)
			if (ent_touch(&t->e[i], m->iova,
				      m->iova + (m->size - 1)))
				return EEXIST;
		if (t->n == MAXTLB)
			return ENOSPC;
		*either = uc == 1;
		return 0;
	case VHOST_IOTLB_INVALIDATE:
		return m->size ? 0 : EINVAL;
	case VHOST_IOTLB_BATCH_BEGIN:
	case VHOST_IOTLB_BATCH_END:
		return 0;
	default:
		return EINVAL;
	}
}

/* A message that succeeded, to the model. */
static void tlb_apply(struct kf_dev *d, const struct kf_msg *m)
{
	struct kf_tlb *t = d->in_batch ? &d->batch : &d->tlb;
	uint64_t last = m->iova + m->size - 1;
	unsigned int i, k;

	switch (m->type) {
	case VHOST_IOTLB_UPDATE:
		t->e[t->n].iova = m->iova;
		t->e[t->n].size = m->size;
		t->e[t->n].uaddr = m->uaddr;
		t->e[t->n].perm = m->perm;
		t->n++;
		break;
	case VHOST_IOTLB_INVALIDATE:
		if (last < m->iova)
			last = UINT64_MAX;
		for (i = 0, k = 0; i < t->n; i++)
			if (!ent_touch(&t->e[i], m->iova, last))
				t->e[k++] = t->e[i];
		t->n = k;
		break;
	case VHOST_IOTLB_BATCH_BEGIN:
		if (!d->in_batch) {
			d->batch = d->tlb;
			d->in_batch = true;
		}
		return;
	case VHOST_IOTLB_BATCH_END:
		if (!d->in_batch)
			return;
		d->tlb = d->batch;
		d->in_batch = false;
		break;
	}
	if (!d->in_batch)
		tab_build(&d->tab, d->tlb.e, d->tlb.n);
}

/* The entries being written: the batch's, or the IOTLB's. */
static const struct kf_tlb *tlb_target(const struct kf_dev *d)
{
	return d->in_batch ? &d->batch : &d->tlb;
}

static bool dbg_state(const struct kf_dev *d, bool run_known);

/* The last IOTLB messages, of this thread and of the racer's, for reports. */
struct kf_trace {
	unsigned int n;
	char line[32][200];
};

static struct kf_trace tr_main, tr_racer;

static void trace(struct kf_trace *t, const char *what, int ret)
{
	int k = snprintf(t->line[t->n % 32], sizeof(t->line[0]), "%.160s: ",
			 what);

	snprintf(t->line[t->n++ % 32] + k, sizeof(t->line[0]) - k, "%.30s",
		 ret ? strerror(ret) : "0");
}

static void trace_report(const struct kf_trace *t, const char *who)
{
	unsigned int i = t->n > 32 ? t->n - 32 : 0;

	for (; i < t->n; i++)
		say("  %s %u: %s", who, i, t->line[i % 32]);
}

/* The IOTLB as the model has it, after a disagreement. */
static void tlb_report(const struct kf_dev *d)
{
	const struct kf_tlb *t = tlb_target(d);
	char line[256];
	unsigned int i;
	int n = 0;

	for (i = 0; i < t->n; i++) {
		n += snprintf(line + n, sizeof(line) - n, " [%#" PRIx64 "+%#"
			      PRIx64 " %u]", t->e[i].iova, t->e[i].size,
			      t->e[i].perm);
		if (n > 180 || i + 1 == t->n) {
			say("  the model's %s:%s", d->in_batch ? "batch" :
			    "IOTLB", line);
			n = 0;
		}
	}
}

static bool io_tlb(struct kf_dev *d, const struct kf_msg *m)
{
	static uint8_t buf[256];
	struct vhost_msg_v2 v = {
		.type = m->ver,
		.asid = (uint32_t)rnd64(),	/* ignored: no IOTLB_ASID */
		.iotlb = {
			.iova = m->iova, .size = m->size, .uaddr = m->uaddr,
			.perm = m->perm, .type = m->type,
		},
	};
	bool either;
	int want = tlb_err(d, m, &either), ret;
	size_t count = m->count < sizeof(buf) ? m->count : sizeof(buf);
	ssize_t n;
	char what[160];
	void *p;

	if (m->ver == VHOST_IOTLB_MSG)
		v.asid = 0;	/* struct vhost_msg: padding */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &v, sizeof(v));
	p = m->ptrv == PTR_NULL ? NULL : m->ptrv == PTR_NONE ? kf.edge + PG :
	    m->ptrv == PTR_EDGE ? memcpy(kf.edge + PG - 8, buf, 8) : buf;
	kf.tlb_msgs++;
	n = write(d->fd, p, count);
	ret = n < 0 ? errno : 0;
	snprintf(what, sizeof(what), "IOTLB %s v%u {%#" PRIx64 "+%#" PRIx64
		 " -> %#" PRIx64 " perm %#x}, %zu bytes%s%s",
		 msg_name[m->type & 7], m->ver, m->iova, m->size, m->uaddr,
		 m->perm, count, d->in_batch ? ", in a batch" : "",
		 d->owner ? "" : ", not the owner");
	trace(&tr_main, what, ret);
	if (!io_ok(what, ret, ebit(want) | (either ? E_FAULT : 0))) {
		tlb_report(d);
		return false;
	}
	if (ret)
		return true;
	if (n != (ssize_t)(count < sizeof(v) ? count : sizeof(v)))
		return fail("%s: write() returned %zd", what, n);
	tlb_apply(d, m);
	return !kf.dbg || dbg_state(d, false);
}

/* A message of that type, good but for what the caller changes. */
static bool tlb_do(struct kf_dev *d, uint8_t type, uint64_t iova,
		   uint64_t size, uint64_t uaddr, uint8_t perm)
{
	struct kf_msg m;

	msg_init(&m, type, iova, size, uaddr, perm);
	return io_tlb(d, &m);
}

/*
 * Write table t (merged regions) as fresh IOTLB entries, each region in
 * one to three pieces of the same rights (which merge again), in any
 * order, after INVALIDATEs that clear what was there; in a batch, or
 * (not running) message by message.
 */
static bool tlb_install(struct kf_dev *d, const struct kf_ent *reg,
			unsigned int nreg, bool batch)
{
	struct kf_ent piece[3 * MAXTLB], x;
	unsigned int i, j, n = 0, k;

	for (i = 0; i < nreg; i++) {
		uint64_t left = reg[i].size, off = 0;

		k = pct(60) || reg[i].size < 2 ? 1 : rndr(2, 3);
		for (j = 0; j < k; j++) {
			uint64_t sz = j + 1 == k ? left :
				      rndr(1, left - (k - 1 - j));

			piece[n] = reg[i];
			piece[n].iova += off;
			piece[n].uaddr += off;
			piece[n].size = sz;
			off += sz;
			left -= sz;
			n++;
		}
	}
	for (i = n; i > 1; i--) {
		j = rnd(i);
		x = piece[i - 1];
		piece[i - 1] = piece[j];
		piece[j] = x;
	}
	if (n > MAXTLB)
		n = MAXTLB;
	if (batch && !tlb_do(d, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0, 0))
		return false;
	switch (rnd(4)) {
	case 0:		/* everything (all but the top byte) */
		if (!tlb_do(d, VHOST_IOTLB_INVALIDATE, 0, UINT64_MAX, 0, 0))
			return false;
		break;
	case 1:		/* from somewhere low to the top: the size wraps */
		if (!tlb_do(d, VHOST_IOTLB_INVALIDATE, rnd(PG), UINT64_MAX, 0,
			    0))
			return false;
		/* fall through: below that too */
	default:	/* entry by entry, as QEMU unmaps its sections */
		while (d->in_batch ? d->batch.n : d->tlb.n) {
			const struct kf_ent *e = d->in_batch ?
				&d->batch.e[0] : &d->tlb.e[0];

			if (!tlb_do(d, VHOST_IOTLB_INVALIDATE, e->iova,
				    pct(80) ? e->size : 1, 0, 0))
				return false;
		}
		break;
	}
	for (i = 0; i < n; i++)
		if (!tlb_do(d, VHOST_IOTLB_UPDATE, piece[i].iova, piece[i].size,
			    piece[i].uaddr, piece[i].perm))
			return false;
	return !batch || tlb_do(d, VHOST_IOTLB_BATCH_END, 0, 0, 0, 0);
}

/* The merged table t as entries, to write it again in other words. */
static unsigned int tab_ents(const struct kf_tab *t, struct kf_ent *e)
{
	unsigned int i;

	for (i = 0; i < t->n; i++) {
		e[i].iova = t->r[i].gpa;
		e[i].size = t->r[i].size;
		e[i].uaddr = t->r[i].hva;
		e[i].perm = t->r[i].perm;
	}
	return t->n;
}

/*
 * debugfs's state file (debugfs.rst), where the rig has it: the IOTLB
 * holds as many entries as the model says, and runs when it says.
 */
static bool dbg_state(const struct kf_dev *d, bool run_known)
{
	char path[96], line[128];
	unsigned int n = ~0u, run = ~0u;
	FILE *f;

	snprintf(path, sizeof(path), VNL_DEBUGFS_DIR "/%u/state", d->id);
	f = fopen(path, "re");
	if (!f)
		return true;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "iotlb %u", &n) != 1 &&
		    sscanf(line, "running %u", &run) != 1)
			continue;
	fclose(f);
	if (n != d->tlb.n || (run_known && run != d->running)) {
		tlb_report(d);
		trace_report(&tr_main, "main");
		trace_report(&tr_racer, "racer");
		return fail("debugfs state: %u IOTLB entries, running %u; the "
			    "model has %u, running %u", n, run, d->tlb.n,
			    d->running);
	}
	return true;
}

/* ---- the rest ---- */

/* Commands the module does not have: old, other vhost, other magic. */
static bool io_unknown(struct kf_dev *d)
{
	static const unsigned long cmds[] = {
		VHOST_SET_MEM_TABLE, VHOST_SET_LOG_BASE, VHOST_SET_LOG_FD,
		VHOST_NET_SET_BACKEND, VHOST_VSOCK_SET_RUNNING,
		_IO(VHOST_VIRTIO, 0x7f), _IOR(VHOST_VIRTIO, 0x7e, uint64_t),
		_IO(0xB7, 0x05), _IOW(0xB7, 0x02, uint64_t),
	};
	uint64_t junk[8] = { 0 };
	int ret = xio(d->fd, cmds[rnd(ARRAY_LEN(cmds))], junk);

	return io_is(d->owner ? "an unknown ioctl" :
		     "an unknown ioctl, not the owner", ret,
		     d->owner ? ENOTTY : EPERM);
}

/* No read() (the device never reports an IOTLB miss), no mmap(). */
static bool io_read_mmap(struct kf_dev *d)
{
	uint8_t buf[sizeof(struct vhost_msg_v2)];
	void *p;

	kf.ioctls++;
	if (pct(50))
		return io_is("read()", read(d->fd, buf, sizeof(buf)) < 0 ?
			     errno : 0, EINVAL);
	p = mmap(NULL, PG, PROT_WRITE, MAP_SHARED, d->fd, PG * rnd(NQ));
	if (p != MAP_FAILED)
		munmap(p, PG);
	return io_is("mmap() of a doorbell page", p == MAP_FAILED ? errno : 0,
		     ENODEV);
}

/* Neither IOTLB_ASID nor SUSPEND is offered: whoever asks. */
static bool io_not_offered(struct kf_dev *d)
{
	struct vhost_vring_state s = { .index = rnd(3), .num = rnd(2) };
	bool asid = pct(50);
	int ret = xio(d->fd, asid ? VHOST_VDPA_SET_GROUP_ASID :
		      VHOST_VDPA_SUSPEND, &s);

	return io_is(asid ? "SET_GROUP_ASID" : "SUSPEND", ret, EOPNOTSUPP);
}

/* ---- resets ---- */

/*
 * What a reset (status 0) does to the model: the queues stop where the
 * engine had them (their base), their layouts and enables, the features
 * and the status go; the IOTLB, the eventfds and the counters stay, and
 * so do the driver's books of the rings (a resume may pick them up).
 * The worker has stopped: the counters read now are final.
 */
static bool reset_model(struct kf_dev *d)
{
	uint64_t c[NCNT];
	unsigned int q;

	for (q = 0; q < NQ; q++) {
		if (d->running && d->q[q].ready)
			d->vr[q].base = d->q[q].last;
		d->vr[q].num = 0;
		memset(d->vr[q].addr, 0, sizeof(d->vr[q].addr));
		d->vr[q].enabled = false;
		d->q[q].ready = false;
	}
	d->running = false;
	d->status = 0;
	d->features = 0;
	if (!dev_read(d, c))
		return false;
	d->iaic_reset = c[C(INVALID_AVAIL_IDX_COUNT)];
	return true;
}

/*
 * After a reset GET_VRING_BASE gives where each queue stopped: checked
 * against the model, or (learn: a reset cut a drain short) taken from
 * the device.
 */
static bool base_check(struct kf_dev *d, bool learn)
{
	unsigned int q;
	uint16_t b;

	for (q = 0; q < NQ && d->owner; q++) {
		if (!io_get_base(d, q, PTR_OK, !learn, &b))
			return false;
		if (learn)
			d->vr[q].base = b;
	}
	return true;
}

/* Status 0; learn: see base_check(). */
static bool io_reset(struct kf_dev *d, bool learn)
{
	uint8_t zero = 0;
	int ret = xio(d->fd, VHOST_VDPA_SET_STATUS, &zero);

	if (!io_is(d->running ? "SET_STATUS(0) (running)" : "SET_STATUS(0)",
		   ret, 0))
		return false;
	return reset_model(d) && base_check(d, learn);
}

/*
 * RESET_OWNER: everything the owner set up goes (the device resets, the
 * IOTLB, the eventfds and the rings' bases with it) and nobody owns it.
 */
static bool io_reset_owner(struct kf_dev *d)
{
	int ret = xio(d->fd, VHOST_RESET_OWNER, NULL);
	unsigned int q;

	if (!io_is(d->owner ? "RESET_OWNER" : "RESET_OWNER, not the owner",
		   ret, d->owner ? 0 : EPERM))
		return false;
	if (ret)
		return true;
	if (!reset_model(d))
		return false;
	for (q = 0; q < NQ; q++) {
		memset(&d->vr[q], 0, sizeof(d->vr[q]));
		d->vr[q].kick = d->vr[q].call = -1;
	}
	d->config_call = -1;
	d->tlb.n = d->batch.n = 0;
	d->in_batch = false;
	tab_build(&d->tab, NULL, 0);
	d->owner = false;
	return !pct(30) || nl_owner(d, 0);
}

/* ---- devices ---- */

/* The device an fd is: its fdinfo's vnetloop-id, ~0 if none. */
static uint32_t fd_dev_id(int fd)
{
	char path[64], line[128];
	unsigned int id = ~0u;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return ~0u;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "vnetloop-id: %u", &id) == 1)
			break;
	fclose(f);
	return id;
}

static bool dev_open(struct kf_dev *d)
{
	struct kf_vcfg v = { .off = 0, .len = 6 };
	uint32_t sz = 0;
	uint64_t c[NCNT];
	unsigned int i;
	uint8_t st = 0xee;
	int ret;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	for (i = 0; i < NEFD; i++)
		d->efd[i] = -1;
	d->fd = open(VG_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (d->fd < 0)
		return fail("open %s: %s", VG_DEV_PATH, strerror(errno));
	ret = xio(d->fd, VHOST_VDPA_GET_CONFIG_SIZE, &sz);
	if (ret || sz < 10 || sz > sizeof(v.buf))
		return fail("GET_CONFIG_SIZE: %s, %u bytes", strerror(ret), sz);
	d->cfg_size = sz;
	/* The MAC it starts with is 02 'v' 'n' 'l' and the id (dev.c). */
	ret = xio(d->fd, VHOST_VDPA_GET_CONFIG, &v);
	if (ret || memcmp(v.buf, "\x02vnl", 4))
		return fail("GET_CONFIG of a new device: %s, MAC %02x:%02x:"
			    "%02x:%02x:..", strerror(ret), v.buf[0], v.buf[1],
			    v.buf[2], v.buf[3]);
	memcpy(d->mac, v.buf, 6);
	d->id = fd_dev_id(d->fd);
	kf.dev_id = d->id;
	if (d->id == ~0u || (d->id & 0xffff) != ((uint32_t)v.buf[4] << 8 |
						 v.buf[5]))
		return fail("fdinfo names device %d, the MAC ends in %02x:%02x",
			    (int)d->id, v.buf[4], v.buf[5]);
	for (i = 0; i < NEFD; i++) {
		d->efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->efd[i] < 0)
			return fail("eventfd: %s", strerror(errno));
	}
	for (i = 0; i < NQ; i++) {
		d->vr[i].kick = d->vr[i].call = -1;
		q_forget(&d->q[i]);
	}
	d->config_call = -1;
	d->bpk = d->bpk_max = 256;	/* the documented default budget */
	d->bby = 512 << 10;
	if (!dev_read(d, c))
		return false;
	for (i = 0; i < NCNT; i++)
		if (c[i])
			return fail("a new device starts with %s = %" PRIu64,
				    cnt_name_of(i), c[i]);
	ret = xio(d->fd, VHOST_VDPA_GET_STATUS, &st);
	if (ret || st)
		return fail("GET_STATUS of a new device: %s, %#x",
			    strerror(ret), st);
	for (i = 0; i < ARRAY_LEN(consts); i++)
		if (!io_const(d, i, PTR_OK))
			return false;
	kf.devices++;
	return nl_owner(d, 0);
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
	for (i = 0; i < NEFD; i++)
		if (d->efd[i] >= 0)
			close(d->efd[i]);
	memset(d->efd, 0xff, sizeof(d->efd));
}

/* ---- other processes ---- */

/* One ioctl in a child: 0 if it gave want. */
static int child_io(int fd, unsigned long cmd, int want)
{
	uint32_t arg[16] = { 0, 6 };	/* a config access {0, 6}, queue 0 */

	if (cmd == VHOST_VDPA_SET_STATUS)
		arg[0] = S_ACK;
	return (ioctl(fd, cmd, arg) ? errno : 0) != want;
}

/*
 * Another process (a forked child, so another mm) is not the owner:
 * EPERM for every ioctl but the getters that need no owner (and EBUSY
 * for SET_OWNER, EOPNOTSUPP for what is not offered), EPERM for IOTLB
 * writes; a malformed message is refused before the owner is checked.
 * The device is ours (d->owner), so none of it changes anything.
 */
static bool io_other_owner(struct kf_dev *d)
{
	static const struct {
		unsigned long cmd;
		int want;
	} t[] = {
		{ VHOST_SET_OWNER, EBUSY }, { VHOST_RESET_OWNER, EPERM },
		{ VHOST_VDPA_SET_STATUS, EPERM }, { VHOST_SET_FEATURES, EPERM },
		{ VHOST_SET_BACKEND_FEATURES, EPERM },
		{ VHOST_VDPA_SET_CONFIG, EPERM },
		{ VHOST_VDPA_SET_CONFIG_CALL, EPERM },
		{ VHOST_SET_VRING_NUM, EPERM }, { VHOST_SET_VRING_ADDR, EPERM },
		{ VHOST_SET_VRING_BASE, EPERM }, { VHOST_GET_VRING_BASE, EPERM },
		{ VHOST_SET_VRING_KICK, EPERM }, { VHOST_SET_VRING_CALL, EPERM },
		{ VHOST_VDPA_SET_VRING_ENABLE, EPERM },
		{ VHOST_SET_MEM_TABLE, EPERM }, { VHOST_SET_VRING_ENDIAN, EPERM },
		{ VHOST_VDPA_GET_STATUS, 0 }, { VHOST_VDPA_GET_CONFIG, 0 },
		{ VHOST_GET_FEATURES, 0 }, { VHOST_VDPA_GET_VRING_GROUP, 0 },
		{ VHOST_VDPA_GET_IOVA_RANGE, 0 }, { VHOST_VDPA_SUSPEND, EOPNOTSUPP },
	};
	int status = 0;
	pid_t pid;

	if (!d->owner)
		return true;
	kf.children++;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return fail("fork: %s", strerror(errno));
	if (!pid) {
		struct vhost_msg_v2 m = {
			.type = VHOST_IOTLB_MSG_V2,
			.iotlb = { .iova = 0, .size = PG,
				   .uaddr = arena_base(), .perm = A_RW,
				   .type = VHOST_IOTLB_UPDATE },
		};
		unsigned int i;

		for (i = 0; i < ARRAY_LEN(t); i++)
			if (child_io(d->fd, t[i].cmd, t[i].want))
				_exit(100 + (int)i);
		if (write(d->fd, &m, sizeof(m)) != -1 || errno != EPERM)
			_exit(98);
		m.type = 7;
		if (write(d->fd, &m, sizeof(m)) != -1 || errno != EINVAL)
			_exit(99);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return fail("from another process: ioctl %d of the list (98, "
			    "99: the IOTLB writes) did not give what the module "
			    "gives a non-owner (child status %#x)",
			    WIFEXITED(status) ? WEXITSTATUS(status) - 100 : -1,
			    status);
	return true;
}

/*
 * A device another process bound and left (it exited): it stays that
 * process's. We get EBUSY for SET_OWNER and EPERM for all the owner's
 * calls, configuration included; netlink names no owner once the
 * process is gone. The device can only be closed.
 */
static bool dev_stolen(struct kf_dev *d)
{
	struct kf_vcfg v = { .off = 0, .len = 6 };
	struct vhost_vring_state s = { .index = TXQ, .num = 64 };
	uint8_t st = S_ACK;
	uint64_t f = V1;
	int status = 0, fd = d->efd[0];
	pid_t pid;

	kf.children++;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return fail("fork: %s", strerror(errno));
	if (!pid)
		_exit(ioctl(d->fd, VHOST_SET_OWNER, NULL) ? 1 : 0);
	if (waitpid(pid, &status, 0) != pid)
		return fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return fail("SET_OWNER of a new device from another process "
			    "failed (child status %#x)", status);
	return io_is("SET_OWNER (another process's)",
		     xio(d->fd, VHOST_SET_OWNER, NULL), EBUSY) &&
	       io_is("SET_STATUS (another process's)",
		     xio(d->fd, VHOST_VDPA_SET_STATUS, &st), EPERM) &&
	       io_is("SET_FEATURES (another process's)",
		     xio(d->fd, VHOST_SET_FEATURES, &f), EPERM) &&
	       io_is("SET_CONFIG_CALL (another process's)",
		     xio(d->fd, VHOST_VDPA_SET_CONFIG_CALL, &fd), EPERM) &&
	       io_is("SET_VRING_NUM (another process's)",
		     xio(d->fd, VHOST_SET_VRING_NUM, &s), EPERM) &&
	       io_is("RESET_OWNER (another process's)",
		     xio(d->fd, VHOST_RESET_OWNER, NULL), EPERM) &&
	       io_is("GET_CONFIG (another process's)",
		     xio(d->fd, VHOST_VDPA_GET_CONFIG, &v), 0) &&
	       tlb_do(d, VHOST_IOTLB_UPDATE, 0, PG, arena_base(), A_RW) &&
	       nl_owner(d, 0);
}

/* ------------------------------------------------------------------ */
/* The guest driver: descriptors, chains, avail entries                */
/* ------------------------------------------------------------------ */

static void desc_put(const struct kf_vq *q, uint16_t i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = gp(q->ring[P_DESC] + 16ull * i, 16);
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
static void avail_put(const struct kf_vq *q, uint16_t pos, uint16_t head)
{
	g_w16(q->ring[P_AVAIL] + 4 + 2ull * (pos & (q->num - 1)), head);
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
		if (!hit && !tab_backed(t, a, len, 0))
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
static uint16_t gch_write(const struct kf_vq *q, const struct kf_gchain *g,
			  const uint16_t *desc)
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
		desc_put(q, desc[i], s->addr, s->len, flags, next);
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
		if (pct(50) && cfg_no_right(c, g->s[i].len, 1, A_R,
					    &g->s[i].addr)) {
			strcpy(g->what, "address in an entry not readable");
			break;
		}
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
			/* Never written: its entry has no write right. */
			if (pct(50) && cfg_no_right(c, g->s[i].len, 1, A_W,
						    &g->s[i].addr)) {
				strcpy(g->what, "piece in an entry not "
				       "writable");
				break;
			}
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

/*
 * Bytes [off, off + len) of chain c: any not backed (or in an entry
 * without right acc)? any faulting?
 */
static void chain_state(const struct kf_tab *t, const struct kf_chain *c,
			uint64_t off, uint64_t len, unsigned int acc, bool *unb,
			bool *dead)
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
		tab_state(t, c->s[i].addr + a, n, acc, unb, dead);
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

			if (!tab_find(t, g, 0, &hva, &room))
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
 * The verdict on the TX chain at head. An address not backed by guest
 * RAM, or in an IOTLB entry the device may not read, makes a chain
 * invalid, and a chain both invalid and oversize counts as
 * tx_chain_invalid: backing is decided before size. Empty descriptors
 * are never translated (engine.rst).
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
		if (c->s[i].len &&
		    !tab_backed(t, c->s[i].addr, c->s[i].len, A_R)) {
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
	chain_state(&d->tab, &sim.rx, 0, HDR, A_W, &hu, &hd);
	chain_state(&d->tab, &sim.rx, HDR, room, A_W, &fu, &fd);
	chain_state(&d->tab, &sim.tx, HDR, room, A_R, &su, &sd);
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
	uint64_t w[NEFD];	/* our writes to each eventfd */
	uint64_t w_run;		/* ... to the TX kick while running */
	uint64_t r[NEFD];	/* the counts read from each */
	bool role_ever[NEFD];	/* installed as a call at some point */
	bool swapped;		/* a call eventfd changed meanwhile */
	uint16_t used0[NQ];	/* used_idx (model) at the start */
	uint16_t last0[NQ];
	bool sig_valid0[NQ];
	uint32_t bpk;		/* largest packet budget a drain may use */
	unsigned int offered;	/* TX entries published */
	uint8_t snap[NQ][2][16 * QMAX];	/* desc table, avail ring */
	bool snap_ok[NQ][2];
};

static struct kf_phase ph;
static bool racing_tlb;		/* the racer thread writes the IOTLB */

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

/* Write one to an eventfd: a kick when it is the TX queue's. */
static bool dev_kick(struct kf_dev *d, int fd)
{
	uint64_t one = 1;
	int f = efd_ix(d, fd);

	if (fd < 0)
		return true;
	if (write(fd, &one, sizeof(one)) != sizeof(one))
		return fail("kick: write to eventfd %d: %s", fd,
			    strerror(errno));
	if (f >= 0)
		ph.w[f]++;
	if (d->running && fd == d->vr[TXQ].kick)
		ph.w_run++;
	return true;
}

/* Read every eventfd of the device; true if any had a count. */
static bool ph_take(const struct kf_dev *d)
{
	bool any = false;
	uint64_t n;
	int f;

	for (f = 0; f < NEFD; f++) {
		n = efd_take(d->efd[f]);
		ph.r[f] += n;
		any |= n != 0;
	}
	return any;
}

/* The eventfds installed as calls now count as such for the phase. */
static void ph_roles(const struct kf_dev *d)
{
	int f;

	for (f = 0; f < NEFD; f++)
		if (d->efd[f] == d->vr[RXQ].call || d->efd[f] == d->vr[TXQ].call ||
		    d->efd[f] == d->config_call)
			ph.role_ever[f] = true;
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
		g_w16(q->ring[P_AVAIL], fl);
		g_w16(q->ring[P_AVAIL] + 4 + 2ull * q->num, ev);
	}
}

/*
 * IOTLB messages that change nothing the engine sees: the table in other
 * words (in a batch: the engine sees it whole), an UPDATE over an entry
 * (EEXIST), an INVALIDATE of a hole, a malformed message.
 */
static bool tlb_noop(struct kf_dev *d)
{
	struct kf_ent e[MAXTLB];
	const struct kf_ent *x;
	struct kf_msg m;
	uint64_t g;

	switch (rnd(4)) {
	case 0:
		kf.remaps++;
		return tlb_install(d, e, tab_ents(&d->tab, e), true);
	case 1:
		if (!d->tlb.n || d->in_batch)
			return true;
		x = &d->tlb.e[rnd(d->tlb.n)];
		g = x->iova + rnd64() % x->size;
		return tlb_do(d, VHOST_IOTLB_UPDATE, g,
			      g > UINT64_MAX - PG ? 1 : rndr(1, PG),
			      arena_base(), A_RW);
	case 2:
		if (!d->tab.n || d->in_batch)
			return true;
		return tlb_do(d, VHOST_IOTLB_INVALIDATE,
			      pure_hole(&d->tab, PG, 1), PG, 0, 0);
	default:
		msg_init(&m, (uint8_t)rnd(8), rnd64(), rnd64(), rnd64(),
			 (uint8_t)rnd64());
		if (m.type == VHOST_IOTLB_UPDATE ||
		    m.type == VHOST_IOTLB_INVALIDATE ||
		    m.type == VHOST_IOTLB_BATCH_BEGIN ||
		    m.type == VHOST_IOTLB_BATCH_END)
			m.count = rndr(1, 8 + sizeof(struct vhost_iotlb_msg) - 1);
		return io_tlb(d, &m);
	}
}

/*
 * Noise while the worker runs: nothing here may change what the device
 * does. Configuring calls are refused (EBUSY, EINVAL), status and call
 * eventfds are set to what they are.
 */
static bool phase_noise_do(struct kf_dev *d, const struct kf_cfg *c)
{
	unsigned int q = rnd(NQ);

	switch (rnd(11)) {
	case 0:
		return io_get_status(d, rnd_ptr(), false);
	case 1:
		return io_const(d, rnd(ARRAY_LEN(consts)), rnd_ptr());
	case 2:
		return io_vring_num(d, q, c->vr[q].num, rnd_ptr());
	case 3:
		return pct(50) ? io_vring_addr(d, q, 0, c->vr[q].ring, 0,
					       rnd_ptr()) :
		       io_vring_enable(d, q, 1, rnd_ptr());
	case 4:
		return io_set_features(d, c->features, rnd_ptr());
	case 5:
		return io_set_status(d, pct(70) ? d->status :
				     d->status & ~(1u << rnd(8)), rnd_ptr(),
				     ST_PHASE);
	case 6:
		return io_get_base(d, rnd(NQ + 1), rnd_ptr(), false, NULL);
	case 7:
		return io_get_config(d, 0, d->cfg_size, rnd_ptr());
	case 8:
		if (racing_tlb)
			return true;
		return tlb_noop(d);
	case 9:
		return io_config_call(d, d->config_call, PTR_OK);
	default:
		return io_vring_call(d, q, d->vr[q].call, PTR_OK);
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
			uint8_t *s = q->ready ? gp(q->ring[p],
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
			s = gp(q->ring[p], part_len(p, q->num));
			if (s && memcmp(s, ph.snap[qi][p], part_len(p, q->num)))
				return fail("the device wrote into the %s %s "
					    "ring", q_name[qi], part_name[p]);
		}
	return true;
}

/* ---- interrupts ---- */

#define INF	UINT64_MAX

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > INF - b ? INF : a + b;
}

/*
 * What the phase's drains may signal: lo[q]..hi[q] drains that want queue
 * q's interrupt (from the hints, the used entries the model made and
 * whether a decision was made before), plo..phi drains that poisoned a
 * queue (the configuration interrupt), alo..ahi the interrupts counter,
 * which counts drains that did either. weak: only what holds whatever
 * the guest did.
 */
struct kf_irqx {
	bool weak;
	uint64_t lo[NQ], hi[NQ];
	uint64_t plo, phi;
	uint64_t alo, ahi;
};

/*
 * Judge the eventfd counts read so far against the counters c (final:
 * they are stable) and x. 0: all is there and consistent; 1: signals
 * are still to come (a drain signals after it counts); -1: wrong. why
 * says what is missing or wrong.
 */
static int irq_judge(const struct kf_dev *d, const uint64_t *c,
		     const struct kf_irqx *x, char *why, size_t wl)
{
	uint64_t A = c[C(INTERRUPTS)] - ph.base[C(INTERRUPTS)];
	uint64_t K = c[C(KICKS)] - ph.base[C(KICKS)], s[NEFD], sum = 0, sk;
	int k = efd_ix(d, d->vr[TXQ].kick), cf = efd_ix(d, d->config_call);
	int cq[NQ], f, q, res = 0;
	bool act[NQ], act_cfg = x->phi > 0, bound = true;

	for (q = 0; q < NQ; q++) {
		cq[q] = efd_ix(d, d->vr[q].call);
		act[q] = x->hi[q] > 0;
		bound &= !act[q] || cq[q] >= 0;
	}
	bound &= !act_cfg || cf >= 0;
	for (f = 0; f < NEFD; f++) {
		if (ph.r[f] < ph.w[f]) {
			snprintf(why, wl, "eventfd %d: read %" PRIu64 ", %"
				 PRIu64 " written", f, ph.r[f], ph.w[f]);
			return 1;
		}
		s[f] = ph.r[f] - ph.w[f];
		sum += s[f];
	}
	/* Each write to the kick and each signal on it is a kick. */
	sk = k >= 0 ? s[k] : 0;
	if (K < ph.w_run + sk) {
		snprintf(why, wl, "kicks +%" PRIu64 ": fewer than the %" PRIu64
			 " writes to the kick eventfd while running and the %"
			 PRIu64 " signals the device gave it", K, ph.w_run, sk);
		return -1;
	}
	if (K > ph.w_run + sk) {
		snprintf(why, wl, "kicks +%" PRIu64 ", but %" PRIu64 " writes "
			 "to the kick eventfd while running and %" PRIu64
			 " signals on it", K, ph.w_run, sk);
		res = 1;
	}
	if (x->weak) {
		for (f = 0; f < NEFD; f++) {
			if (s[f] && !ph.role_ever[f]) {
				snprintf(why, wl, "eventfd %d, never a call, got "
					 "%" PRIu64 " signals", f, s[f]);
				return -1;
			}
			if (s[f] > 2 * A) {
				snprintf(why, wl, "eventfd %d got %" PRIu64
					 " signals in %" PRIu64 " interrupts",
					 f, s[f], A);
				return -1;
			}
		}
		if (sum > 3 * A) {
			snprintf(why, wl, "%" PRIu64 " signals for %" PRIu64
				 " interrupts", sum, A);
			return -1;
		}
		if (!ph.swapped && cq[RXQ] >= 0 && cq[TXQ] >= 0 && cf >= 0 &&
		    sum < A && !res) {
			snprintf(why, wl, "%" PRIu64 " signals for %" PRIu64
				 " interrupts, every call installed", sum, A);
			res = 1;
		}
		return res;
	}
	if (A < x->alo || A > x->ahi) {
		snprintf(why, wl, "interrupts +%" PRIu64 ", the hints allow %"
			 PRIu64 "..%" PRIu64 " (RX %" PRIu64 "..%" PRIu64
			 ", TX %" PRIu64 "..%" PRIu64 ", poisonings %" PRIu64
			 "..%" PRIu64 ")", A, x->alo, x->ahi, x->lo[RXQ],
			 x->hi[RXQ], x->lo[TXQ], x->hi[TXQ], x->plo, x->phi);
		return -1;
	}
	for (f = 0; f < NEFD; f++) {
		uint64_t lo = 0, hi = 0;
		bool on_q = false, on_cfg = cf == f, all = true;

		for (q = 0; q < NQ; q++)
			if (cq[q] == f) {
				on_q = true;
				lo = lo > x->lo[q] ? lo : x->lo[q];
				hi = sat_add(hi, x->hi[q]);
			}
		if (on_cfg) {
			lo += x->plo;
			hi = sat_add(hi, x->phi);
		}
		if (!on_q && !on_cfg) {
			if (s[f]) {
				snprintf(why, wl, "eventfd %d, no call, got %"
					 PRIu64 " signals", f, s[f]);
				return -1;
			}
			continue;
		}
		if (s[f] > hi || (!(on_q && on_cfg) && s[f] > A) ||
		    s[f] > 2 * A) {
			snprintf(why, wl, "eventfd %d (the call of%s%s%s) got %"
				 PRIu64 " signals: %" PRIu64 "..%" PRIu64
				 " allowed, %" PRIu64 " interrupts", f,
				 cq[RXQ] == f ? " RX" : "",
				 cq[TXQ] == f ? " TX" : "",
				 on_cfg ? " config" : "", s[f], lo, hi, A);
			return -1;
		}
		if (s[f] < lo && !res) {
			snprintf(why, wl, "eventfd %d (the call of%s%s%s) got %"
				 PRIu64 " signals, at least %" PRIu64 " due",
				 f, cq[RXQ] == f ? " RX" : "",
				 cq[TXQ] == f ? " TX" : "",
				 on_cfg ? " config" : "", s[f], lo);
			res = 1;
		}
		/* It carries every interrupt there may be, of one kind. */
		for (q = 0; q < NQ; q++)
			all &= !act[q] || cq[q] == f;
		all &= !act_cfg || on_cfg;
		if (all && (act_cfg ? !(act[RXQ] || act[TXQ]) : true) &&
		    s[f] < A && !res) {
			snprintf(why, wl, "eventfd %d got %" PRIu64 " signals "
				 "for %" PRIu64 " interrupts, all of them its",
				 f, s[f], A);
			res = 1;
		}
	}
	if (bound && sum < A && !res) {
		snprintf(why, wl, "%" PRIu64 " signals for %" PRIu64
			 " interrupts, every call they need installed", sum, A);
		res = 1;
	}
	return res;
}

/*
 * Wait for rest: the worker has committed every drain (two reads, a sleep
 * apart, agree: counters.rst promises exact reads only at rest; a drain
 * commits with preemption off), nothing more comes from the eventfds and
 * the signals the counters call for are there. Then the identities that
 * hold at rest.
 */
static bool phase_settle(struct kf_dev *d, uint64_t *c, const struct kf_irqx *x)
{
	uint64_t end = now_ns() + (uint64_t)kf.wait_ms * 1000000;
	uint64_t prev[NCNT];
	bool have_prev = false, more;
	char why[256] = "";
	int j;

	for (;;) {
		more = ph_take(d);
		j = irq_judge(d, c, x, why, sizeof(why));
		if (have_prev && !more && !memcmp(prev, c, sizeof(prev)) &&
		    j != 1)
			break;
		if (now_ns() > end)
			return fail("after the phase: %s", why);
		memcpy(prev, c, sizeof(prev));
		have_prev = true;
		sleep_us(500);
		if (!dev_read(d, c))
			return false;
	}
	if (j < 0)
		return fail("interrupts: %s", why);
	kf.signals += c[C(INTERRUPTS)] - ph.base[C(INTERRUPTS)];
	if (c[C(WORKER_RUNS)] > c[C(KICKS)] + c[C(BUDGET_REQUEUES)] + d->starts ||
	    c[C(INTERRUPTS)] > c[C(WORKER_RUNS)] ||
	    c[C(BUDGET_REQUEUES)] > c[C(WORKER_RUNS)])
		return fail("at rest: worker_runs %" PRIu64 ", kicks %" PRIu64
			    ", budget_requeues %" PRIu64 ", %" PRIu64 " starts"
			    ", interrupts %" PRIu64 " (runs <= kicks + requeues"
			    " + starts, interrupts and requeues <= runs)",
			    c[C(WORKER_RUNS)], c[C(KICKS)],
			    c[C(BUDGET_REQUEUES)], d->starts, c[C(INTERRUPTS)]);
	d->bpk_max = d->bpk;
	return true;
}

/*
 * At rest, between phases: the call eventfds may move (QEMU swaps them
 * when the guest masks and unmasks a vector), and the IOTLB may be
 * written again: in other words, or (clean layouts whose TX frames do
 * not fault) with one entry's rights cut for the coming phases, which
 * the model follows; the next such moment puts the layout back.
 */
static bool phase_rest_changes(struct kf_dev *d, struct kf_cfg *c)
{
	struct kf_ent e[MAXREG];
	unsigned int i, k;
	int fd;

	if (d->in_batch && pct(50) &&
	    !tlb_do(d, VHOST_IOTLB_BATCH_END, 0, 0, 0, 0))
		return false;
	if (pct(15)) {
		k = rnd(3);
		fd = pct(15) ? -1 : d->efd[rnd(NEFD)];
		kf.swaps++;
		if (k < NQ ? !io_vring_call(d, k, fd, PTR_OK) :
		    !io_config_call(d, fd, PTR_OK))
			return false;
	}
	if (!tab_same(&d->tab, &c->tab)) {
		kf.remaps++;
		if (!tlb_install(d, c->reg, c->nreg, pct(80)))
			return false;
	} else if (pct(6)) {
		kf.remaps++;
		if (!tlb_install(d, c->reg, c->nreg, pct(80)))
			return false;
	}
	if (c->hostile || c->dead_side == DS_TX || !pct(6))
		return true;
	/* Cut a right: never give one, so what the device writes stays put. */
	memcpy(e, c->reg, c->nreg * sizeof(e[0]));
	k = rnd(c->nreg);
	for (i = 0; i < c->nreg && e[k].perm != A_RW; i++)
		k = (k + 1) % c->nreg;
	if (e[k].perm != A_RW)
		return true;
	e[k].perm = pct(50) ? A_R : A_W;
	kf.cuts++;
	return tlb_install(d, e, c->nreg, pct(80));
}

/* At the start of a phase: note where everything is. */
static bool phase_begin(struct kf_dev *d, struct kf_cfg *c)
{
	unsigned int qi;
	int f;

	memset(&ph, 0, sizeof(ph));
	kf.phase++;
	kf.phases++;
	if (!phase_rest_changes(d, c))
		return false;
	for (f = 0; f < NEFD; f++)
		efd_take(d->efd[f]);
	ph_roles(d);
	if (pct(20) && !io_get_status(d, PTR_OK, true))
		return false;
	if (pct(10) && !dbg_state(d, true))
		return false;
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
		/*
		 * Writable, but now and then anywhere (the device's write
		 * then fails), unless TX reads may fault too.
		 */
		if (c->nrxb == MAXRXB ||
		    !cfg_alloc(c, cap, pct(50) ? 1 : 8, false,
			       c->dead_side != DS_RX,
			       c->dead_side == DS_TX || pct(85) ? A_W : 0,
			       c->rxb, c->nrxb, &buf))
			break;
		gen_rx(c, q->num, nfree, buf, cap, c->dead_side != DS_TX, &gch);
		if (!gch.n || !nfree) {
			head = (uint16_t)rndr(q->num, 0xffff);
			buf = cap = 0;
		} else {
			for (j = 0; j < gch.n; j++)
				q->owner[fdesc[j]] = (uint32_t)pos + 1;
			head = gch_write(q, &gch, fdesc);
			g_fill(buf, cap, CANARY, NULL);
			c->rxb[c->nrxb].a = buf;
			c->rxb[c->nrxb].n = cap;
			c->nrxb++;
		}
		avail_put(q, pos, head);
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

		g_r16(q->ring[P_AVAIL] + 4 + 2ull * (q->gidx & (q->num - 1)),
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
			head = gch_write(q, &gch, tx_desc + used);
			used += gch.n;
			snprintf(tx_what[head], sizeof(tx_what[head]), "%s",
				 gch.what);
		}
		heads[i] = head;
		avail_put(q, q->gidx, head);
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
					uint64_t a = sim.rx.s[k].addr + b;
					uint8_t *x = gp(a, 1);

					/* Bytes the device may not write: left. */
					if (x && tab_backed(&d->tab, a, 1, A_W) &&
					    *x != 0 && *x != CANARY)
						return fail("RX chain %u: a write "
							    "failed but header byte "
							    "%" PRIu64 " is %#x, not "
							    "zeroed again",
							    o->rxhead, off, *x);
				}
			}
			continue;
		}
		if (!chain_read(gtab, &sim.rx, 0, HDR + o->room, rx_got))
			return fail("RX chain %u cannot be read back", o->rxhead);
		if (memcmp(rx_got, hdr, HDR))
			return fail("RX chain %u: header %02x %02x .. %02x %02x, "
				    "not all zero but num_buffers = 1",
				    o->rxhead, rx_got[0], rx_got[1], rx_got[10],
				    rx_got[11]);
		if (!walk(&d->tab, &sim.q[TXQ], o->txhead, false, &sim.tx) ||
		    !chain_read(gtab, &sim.tx, HDR, o->room, tx_want))
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
		if (g_r16(u + 2, &idx) && idx != q->used_idx)
			return fail("%s used->idx is %u, expected %u (%u new "
				    "entries)", q_name[qi], idx, q->used_idx,
				    sim.nue[qi]);
		for (k = 0; k < sim.nue[qi]; k++) {
			uint64_t s = u + 4 + 8ull * ((ph.used0[qi] + k) & (q->num - 1));

			if (!g_r32(s, &id) || !g_r32(s + 4, &len))
				continue;
			kf.used_checked++;
			if (id != sim.ue[qi][k].id || len != sim.ue[qi][k].len)
				return fail("%s used entry %u of the phase is {%u, "
					    "%u}, expected {%u, %u}", q_name[qi],
					    k, id, len, sim.ue[qi][k].id,
					    sim.ue[qi][k].len);
		}
		if (g_r16(u, &fl) && fl != kf_canary(qi, 0))
			return fail("%s used->flags changed to %#x: the device "
				    "never writes it", q_name[qi], fl);
		if (!g_r16(u + 4 + 8ull * q->num, &ae))
			continue;
		if (qi == TXQ && evidx(d) && q->poisoned)
			continue;	/* written up to some drain: any value */
		if (qi == TXQ && evidx(d) &&
		    e_writable(part_h(&d->tab, q, P_USED), 4 + 8ull * q->num, 2)) {
			if (ae != q->last)
				return fail("TX avail_event is %u, expected %u "
					    "(the TX position after the drain)",
					    ae, q->last);
		} else if (ae != (q->ae_set ? q->ae : kf_canary(qi, 1))) {
			/* Not writable now: what the device wrote before. */
			return fail("%s used->avail_event changed to %#x (%s "
				    "EVENT_IDX), expected %#x", q_name[qi], ae,
				    evidx(d) ? "with" : "without",
				    q->ae_set ? q->ae : kf_canary(qi, 1));
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

/*
 * Wait until the counters reach the model's, and worker_runs grows by
 * runs at least; more, or too late, is a failure.
 */
static bool wait_model(struct kf_dev *d, const struct kf_cfg *c, uint64_t *cnt,
		       uint64_t runs)
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
		if (done && cnt[C(WORKER_RUNS)] - ph.base[C(WORKER_RUNS)] >= runs)
			return true;
		if (now_ns() > end) {
			fail("no progress: %d ms after the kick the counters "
			     "still fall short (worker_runs +%" PRIu64 ")",
			     kf.wait_ms, cnt[C(WORKER_RUNS)] -
			     ph.base[C(WORKER_RUNS)]);
			report_model(d, cnt);
			return false;
		}
		if (c && pct2(8) && !phase_noise(d, c))
			return false;
		sleep_us(us);
		us = us < 2000 ? 2 * us : us;
	}
}

/*
 * What the drains of the phase may signal: for each queue with new used
 * entries, from its hints, and the poisonings.
 */
static void irq_bounds(const struct kf_dev *d, struct kf_irqx *x)
{
	unsigned int qi;

	memset(x, 0, sizeof(*x));
	for (qi = 0; qi < NQ; qi++) {
		const struct kf_vq *q = &d->q[qi];
		uint64_t ah = part_h(&d->tab, q, P_AVAIL);
		uint16_t v, old = ph.used0[qi], new = sim.q[qi].used_idx;
		bool win;

		if (!sim.nue[qi])
			continue;
		if (evidx(d)) {
			if (!e_read(ah, 4 + 2ull * q->num, &v, 2)) {
				x->lo[qi] = 1;
				x->hi[qi] = INF;
				continue;
			}
			v = le16toh(v);
			/*
			 * The first decision asks for one whatever the hint;
			 * after that, the drain whose entries cross it.
			 */
			win = (uint16_t)(new - v - 1) < (uint16_t)(new - old);
			x->hi[qi] = !ph.sig_valid0[qi] + win;
			x->lo[qi] = x->hi[qi] ? 1 : 0;
		} else if (!e_read(ah, 0, &v, 2) ||
			   !(le16toh(v) & NO_INTERRUPT)) {
			x->lo[qi] = 1;
			x->hi[qi] = INF;
		}
	}
	x->plo = sim.poisoned ? 1 : 0;
	x->phi = (uint64_t)__builtin_popcount(sim.poisoned);
	x->alo = x->lo[RXQ] || x->lo[TXQ] || x->plo;
	x->ahi = sat_add(sat_add(x->hi[RXQ], x->hi[TXQ]), x->phi);
}

static bool phase_checks(struct kf_dev *d, const uint64_t *c)
{
	uint64_t runs = c[C(WORKER_RUNS)] - ph.base[C(WORKER_RUNS)];
	uint64_t req = c[C(BUDGET_REQUEUES)] - ph.base[C(BUDGET_REQUEUES)];
	uint64_t need = (sim.popped + ph.bpk - 1) / ph.bpk;

	if (runs < need)
		return fail("%u chains in %" PRIu64 " drains with a budget of "
			    "%u packets", sim.popped, runs, ph.bpk);
	if (!sim.poisoned && need && req + 1 < need)
		return fail("%u chains, budget %u packets: %" PRIu64 " budget "
			    "requeues, at least %" PRIu64 " expected",
			    sim.popped, ph.bpk, req, need - 1);
	return check_used(d) && check_rx_bytes(d) && phase_snap_check(d) &&
	       io_get_status(d, PTR_OK, true);
}

/*
 * The model moves on to where the phase left the queues; so do the
 * driver's books. At rest GET_VRING_BASE says the same.
 */
static bool model_moves_on(struct kf_dev *d, struct kf_cfg *c)
{
	unsigned int i;

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
	if (evidx(d) && !d->q[TXQ].poisoned &&
	    e_writable(part_h(&d->tab, &d->q[TXQ], P_USED),
		       4 + 8ull * d->q[TXQ].num, 2)) {
		d->q[TXQ].ae_set = true;
		d->q[TXQ].ae = d->q[TXQ].last;
	}
	if (sim.poisoned)
		kf.poisons++;
	for (i = 0; i < NQ; i++)
		if ((d->q[i].ready || pct(30)) &&
		    !io_get_base(d, i, PTR_OK, true, NULL))
			return false;
	return true;
}

/* After a TX poisoning: kicks change nothing but worker_runs. */
static bool poisoned_stays(struct kf_dev *d)
{
	uint64_t a[NCNT], b[NCNT], end;
	unsigned int i;

	if (!dev_read(d, a) || !dev_kick(d, d->vr[TXQ].kick))
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
 * DRIVER_OK queued a drain: wait for it and check what it did with the
 * fresh rings, where nothing is offered yet: at most it poisons a TX
 * queue it cannot read (and signals the config call), and with
 * EVENT_IDX it sets avail_event.
 */
static bool start_settle(struct kf_dev *d, const uint64_t *before)
{
	struct kf_irqx x;
	uint64_t cnt[NCNT];
	unsigned int qi;

	memset(&ph, 0, sizeof(ph));
	memcpy(ph.base, before, sizeof(ph.base));
	ph_roles(d);
	for (qi = 0; qi < NQ; qi++) {
		ph.used0[qi] = d->q[qi].used_idx;
		ph.last0[qi] = d->q[qi].last;
		ph.sig_valid0[qi] = d->q[qi].sig_valid;
	}
	ph.bpk = d->bpk_max;
	s_run(d);
	if (sim.ambiguous || sim.popped)
		return fail("the model pops %u chains from fresh rings",
			    sim.popped);
	if (!wait_model(d, NULL, cnt, 1))
		return false;
	irq_bounds(d, &x);
	return phase_settle(d, cnt, &x) && check_used(d) &&
	       io_get_status(d, PTR_OK, true) && model_moves_on(d, &kcfg);
}

/*
 * A clean phase: offer, publish, let the model replay, kick, wait for
 * exactly what it says, check it all. Returns false when the round must
 * end (failure, TX poisoned, nothing predictable). pre_start: the device
 * was reset and configured again, the queues armed: post first, then
 * DRIVER_OK, whose drain finds the chains (sometimes with no kick at all).
 */
static bool phase_clean(struct kf_dev *d, struct kf_cfg *c, bool pre_start)
{
	struct kf_vq *tx = &d->q[TXQ], *rx = &d->q[RXQ];
	uint16_t rx_pub, tx_pub;
	struct kf_irqx x;
	uint64_t cnt[NCNT];
	unsigned int n, i;
	bool poison;

	if (!phase_begin(d, c))
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
		g_w16(rx->ring[P_AVAIL] + 2, rx_pub);
	g_w16(tx->ring[P_AVAIL] + 2, tx_pub);
	phase_snap(d);
	if (pre_start) {
		/* Before DRIVER_OK a notify changes nothing. */
		if (!dev_kick(d, d->vr[TXQ].kick))
			return false;
		sleep_us(1000);
		if (!dev_read(d, cnt))
			return false;
		for (i = 0; i < NCNT; i++)
			if (cnt[i] != ph.base[i])
				return fail("a kick before DRIVER_OK moved %s by %"
					    PRIu64, cnt_name_of(i),
					    cnt[i] - ph.base[i]);
		if (!io_set_status(d, d->status | S_DRIVER_OK, PTR_OK,
				   ST_PHASE))
			return false;
		if (!d->running)
			return fail("DRIVER_OK after a reset and configuration "
				    "refused");
	}
	s_run(d);
	if (sim.ambiguous) {
		/* Cannot happen by construction (DS_*); say so, start over. */
		say("model: a frame whose TX and RX sides may both fault, "
		    "round abandoned");
		return false;
	}
	n = pre_start && pct(30) ? 0 : 1 + (pct(30) ? rnd(4) : 0);
	for (i = 0; i < n; i++) {
		if (!dev_kick(d, d->vr[TXQ].kick))
			return false;
		if (i + 1 < n)
			sleep_us(rnd(300));
	}
	if (!wait_model(d, c, cnt, 1))
		return false;
	irq_bounds(d, &x);
	if (!phase_settle(d, cnt, &x))
		return false;
	if (!phase_checks(d, cnt))
		return false;
	kf.chains += sim.popped;
	kf.frames += sim.d[C(RX_PACKETS)];
	if (!model_moves_on(d, c))
		return false;
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
		if (g_r16(q->ring[P_AVAIL] + 4 + 2ull *
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
	if (tx->ready && g_r16(tx->ring[P_USED] + 2, &idx)) {
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

			if (!g_r32(s, &id) || !g_r32(s + 4, &len))
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
	if (rx->ready && g_r16(rx->ring[P_USED] + 2, &idx)) {
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

			if (!g_r32(s, &id) || !g_r32(s + 4, &len))
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
	bool tlb;			/* ... and write the IOTLB: */
	unsigned int nfree;		/* layout regions without avail or */
	unsigned int free_reg[MAXREG];	/* used rings, */
	uint8_t perm[MAXREG];		/* their rights now (0: unmapped) */
	bool touched[MAXREG];
	int call[NQ + 1];		/* the calls it left (NQ: config) */
	bool swapped;
	atomic_int bad_ret;		/* a call returned this (0: none) */
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
	desc_put(q, (uint16_t)(rnd64_s(rs) % q->num),
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
	avail_put(q, p, head);
}

/* A call of the racer that gave ret where want was due. */
static void racer_bad(unsigned int what, int ret)
{
	atomic_store(&rc.bad_ret, ret ? ret : -1);
	atomic_store(&rc.bad_cmd, what);
}

static int racer_io(unsigned long cmd, void *arg)
{
	return ioctl(rc.d->fd, cmd, arg) ? errno : 0;
}

/*
 * The owner's other threads may use the device too: the getters, and what
 * may change at any time, running or not (a reset may be racing): the
 * call eventfds and the IOTLB.
 */
static void racer_ioctl(uint64_t *rs)
{
	const struct kf_dev *d = rc.d;
	struct vhost_vring_state s = { .index = rnd64_s(rs) % NQ };
	struct vhost_vring_file f;
	struct kf_vcfg v = { .off = 0, .len = d->cfg_size };
	unsigned int k = rnd64_s(rs) % 6;
	uint64_t feat;
	uint8_t st;
	int fd, ret, i;

	switch (k) {
	case 0:
		ret = racer_io(VHOST_VDPA_GET_STATUS, &st);
		break;
	case 1:
		ret = racer_io(VHOST_GET_VRING_BASE, &s);
		break;
	case 2:
		ret = racer_io(VHOST_VDPA_GET_CONFIG, &v);
		break;
	case 3:
		ret = racer_io(VHOST_GET_FEATURES, &feat);
		break;
	default:
		/* A vector masked or unmasked: another call eventfd. */
		i = rnd64_s(rs) % (NQ + 1);
		fd = rnd64_s(rs) % 8 ? d->efd[rnd64_s(rs) % NEFD] : -1;
		if (i < NQ) {
			f.index = i;
			f.fd = fd;
			ret = racer_io(VHOST_SET_VRING_CALL, &f);
		} else {
			ret = racer_io(VHOST_VDPA_SET_CONFIG_CALL, &fd);
		}
		if (!ret) {
			rc.call[i] = fd;
			rc.swapped = true;
			if (efd_ix(d, fd) >= 0)
				ph.role_ever[efd_ix(d, fd)] = true;
		}
		break;
	}
	if (ret)
		racer_bad(k, ret);
}

/* One IOTLB message from the racer: it must give want. */
static void racer_msg(uint8_t type, const struct kf_ent *e, uint8_t perm,
		      int want)
{
	struct vhost_msg_v2 m = {
		.type = VHOST_IOTLB_MSG_V2,
		.iotlb = { .type = type },
	};
	ssize_t n;

	if (e) {
		m.iotlb.iova = e->iova;
		m.iotlb.size = e->size;
		m.iotlb.uaddr = e->uaddr;
		m.iotlb.perm = perm;
	}
	n = write(rc.d->fd, &m, sizeof(m));
	if (kf.dbg) {
		char what[112];

		snprintf(what, sizeof(what), "%s {%#" PRIx64 "+%#" PRIx64
			 " perm %u}", msg_name[type & 7],
			 (uint64_t)m.iotlb.iova, (uint64_t)m.iotlb.size, perm);
		trace(&tr_racer, what, n < 0 ? errno : 0);
	}
	if (n < 0 ? errno != want : want || n != (ssize_t)sizeof(m))
		racer_bad(100 + type, n < 0 ? errno : 0);
}

/*
 * Unmap, map again, or change the rights of a layout region no avail or
 * used ring lies in, while the worker drains: alone (the engine sees the
 * region go) or in a batch (it sees the change whole).
 */
static void racer_tlb(uint64_t *rs)
{
	unsigned int i = rc.free_reg[rnd64_s(rs) % rc.nfree];
	const struct kf_ent *e = &rc.c->reg[i];
	uint8_t perm = 1 + rnd64_s(rs) % 3;

	if (!rc.perm[i]) {
		racer_msg(VHOST_IOTLB_UPDATE, e, perm, 0);
		rc.perm[i] = perm;
	} else if (rnd64_s(rs) % 8 == 0) {
		/* Changes nothing: its pieces stay as they are. */
		racer_msg(VHOST_IOTLB_UPDATE, e, perm, EEXIST);
		return;
	} else if (rnd64_s(rs) % 2) {
		racer_msg(VHOST_IOTLB_INVALIDATE, e, 0, 0);
		rc.perm[i] = 0;
	} else {
		racer_msg(VHOST_IOTLB_BATCH_BEGIN, NULL, 0, 0);
		racer_msg(VHOST_IOTLB_INVALIDATE, e, 0, 0);
		racer_msg(VHOST_IOTLB_UPDATE, e, perm, 0);
		racer_msg(VHOST_IOTLB_BATCH_END, NULL, 0, 0);
		rc.perm[i] = perm;
	}
	rc.touched[i] = true;
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

				g_w16(q->ring[P_AVAIL] + (rnd64_s(&rs) % 2 ?
				      0 : 4 + 2ull * q->num), (uint16_t)rnd64_s(&rs));
			} else if (r < 88 && rc.ioctls) {
				racer_ioctl(&rs);
			} else if (r < 90 && rc.tlb && rc.nfree) {
				racer_tlb(&rs);
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
	rc.nfree = 0;
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

		while (len && tab_find(gtab, g, 0, &hva, &room)) {
			uint64_t m = room < len ? room : len;

			for (p = hva / PG; p <= (hva + m - 1) / PG; p++) {
				bool ok = p >= a && p - a < NPAGES &&
					  rc.npages < ARRAY_LEN(rc.pages);

				for (j = 0; j < nk && ok; j++)
					ok = !iv_on_pages(gtab, &keep[j], p, p);
				if (ok)
					rc.pages[rc.npages++] = p - a;
			}
			g += m;
			len -= m;
		}
	}
	/* The regions it may unmap: none of an avail or used ring in them. */
	for (i = 0; i < c->nreg; i++) {
		bool ok = true;

		for (j = 0; j < nk && ok; j++)
			ok = !iv_hit(&keep[j], 1, c->reg[i].iova,
				     c->reg[i].size);
		rc.perm[i] = c->reg[i].perm;
		rc.touched[i] = false;
		if (ok)
			rc.free_reg[rc.nfree++] = i;
	}
}

/* Does every IOTLB entry lie inside one region of the layout? */
static bool tlb_by_region(const struct kf_dev *d, const struct kf_cfg *c)
{
	unsigned int i, k;

	for (i = 0; i < d->tlb.n; i++) {
		const struct kf_ent *e = &d->tlb.e[i];

		for (k = 0; k < c->nreg; k++)
			if (e->iova >= c->reg[k].iova &&
			    e->iova - c->reg[k].iova <= c->reg[k].size - e->size &&
			    e->size <= c->reg[k].size)
				break;
		if (k == c->nreg)
			return false;
	}
	return true;
}

static bool racer_start(struct kf_dev *d, struct kf_cfg *c, bool ioctls)
{
	unsigned int qi;
	int err;

	rc.d = d;
	rc.c = c;
	rc.ioctls = ioctls;
	/*
	 * Its IOTLB writes start from the layout, outside a batch, each
	 * entry inside one region: unmapping a region then unmaps it alone
	 * (an entry across two would take a part of the other along).
	 */
	rc.tlb = ioctls && !d->in_batch && tab_same(&d->tab, &c->tab) &&
		 pct(60);
	if (rc.tlb && !tlb_by_region(d, c) &&
	    !tlb_install(d, c->reg, c->nreg, true))
		return false;
	rc.rng = rnd64();
	for (qi = 0; qi < NQ; qi++) {
		rc.lo[qi] = d->q[qi].last;
		rc.hi[qi] = d->q[qi].gidx;
		rc.call[qi] = d->vr[qi].call;
	}
	rc.call[NQ] = d->config_call;
	rc.swapped = false;
	racer_pages(d, c);
	racing_tlb = rc.tlb;
	atomic_store(&rc.stop, false);
	atomic_store(&rc.bad_ret, 0);
	err = pthread_create(&rc.th, NULL, racer_main, NULL);
	if (err) {
		racing_tlb = false;
		return fail("pthread_create: %s", strerror(err));
	}
	rc.running = true;
	return true;
}

/*
 * Stop the racer; the model takes over what it left: the call eventfds,
 * and the IOTLB entries of the regions it touched (their old pieces gone,
 * each one entry with the rights it gave last, or none), which are then
 * put back as the layout has them.
 */
static bool racer_stop(void)
{
	struct kf_dev *d = rc.d;
	unsigned int i, k, j;
	int ret;

	if (!rc.running)
		return true;
	atomic_store(&rc.stop, true);
	pthread_join(rc.th, NULL);
	rc.running = false;
	racing_tlb = false;
	kf.racer_ops += rc.ops;
	rc.ops = 0;
	ret = atomic_load(&rc.bad_ret);
	if (ret)
		return fail("call %u of a second thread of the owner "
			    "(racer_ioctl(), 100 + IOTLB type: racer_msg()) "
			    "returned %s", atomic_load(&rc.bad_cmd),
			    ret > 0 ? strerror(ret) : "0 or a short count");
	if (!rc.ioctls || d->fd < 0)
		return true;
	if (rc.swapped) {
		for (i = 0; i < NQ; i++)
			d->vr[i].call = rc.call[i];
		d->config_call = rc.call[NQ];
		ph.swapped = true;
		kf.swaps++;
	}
	if (!rc.tlb)
		return true;
	for (i = 0; i < rc.nfree; i++) {
		const struct kf_ent *e = &rc.c->reg[rc.free_reg[i]];

		if (!rc.touched[rc.free_reg[i]])
			continue;
		for (j = 0, k = 0; j < d->tlb.n; j++)
			if (!ent_touch(&d->tlb.e[j], e->iova,
				       e->iova + (e->size - 1)))
				d->tlb.e[k++] = d->tlb.e[j];
		d->tlb.n = k;
		if (rc.perm[rc.free_reg[i]]) {
			d->tlb.e[d->tlb.n] = *e;
			d->tlb.e[d->tlb.n].perm = rc.perm[rc.free_reg[i]];
			d->tlb.n++;
		}
		kf.cuts++;
	}
	tab_build(&d->tab, d->tlb.e, d->tlb.n);
	return dbg_state(d, false) && (tab_same(&d->tab, &rc.c->tab) ||
				tlb_install(d, rc.c->reg, rc.c->nreg, true));
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
			       gch_write(q, &gch, desc) :
			       (uint16_t)rndr(q->num, 0xffff);
		} else if (qi == RXQ && pct(60)) {
			uint64_t cap = rnd_rx_cap(), at = c->rxa;

			if (cap > c->rxa_len)
				cap = c->rxa_len;
			if (c->rxa_len > cap)
				at += rnd64() % (c->rxa_len - cap);
			gen_rx(c, q->num, q->num, at, cap, true, &gch);
			head = gch.n ? gch_write(q, &gch, desc) :
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
			head = gch_write(q, &gch, desc);
		}
		heads_note(qi, (uint16_t)(q->gidx - ph.last0[qi]), head, q->num);
		avail_put(q, q->gidx, head);
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
		if (pct2(10) && !phase_noise(d, c))
			return false;
		if (pct2(5) && !dev_kick(d, d->vr[TXQ].kick))
			return false;
		sleep_us(us);
		us = us < 2000 ? 2 * us : us;
	}
}

/*
 * After weak checks: the model takes the device's positions, which
 * GET_VRING_BASE gives at rest. Where the used ring's class makes the
 * counters exact, the position is where they say (last + chains popped
 * or consumed).
 */
static bool weak_resync(struct kf_dev *d, struct kf_cfg *c,
			unsigned int tx_popped, unsigned int rx_popped,
			bool tx_jump, bool rx_jump)
{
	struct kf_vq *tx = &d->q[TXQ], *rx = &d->q[RXQ];
	uint64_t pois = d->c[C(INVALID_AVAIL_IDX_COUNT)] -
			ph.base[C(INVALID_AVAIL_IDX_COUNT)];
	unsigned int popped[NQ] = { rx_popped, tx_popped }, qi;
	uint16_t from = rx->last, b;

	for (qi = 0; qi < NQ; qi++) {
		struct kf_vq *q = &d->q[qi];

		if (!q->ready)
			continue;
		if (!io_get_base(d, qi, PTR_OK, false, &b))
			return false;
		if (used_class(d, qi) != U_MIXED &&
		    b != (uint16_t)(q->last + popped[qi]))
			return fail("GET_VRING_BASE(%s) at rest: %u, but the "
				    "counters say %u chains were taken from %u",
				    q_name[qi], b, popped[qi], q->last);
		q->last = b;
		q->known = b;
	}
	if (tx->last != tx->gidx || (tx_jump && pois))
		tx->poisoned = true;
	rx->known_sure = rx->last == rx->gidx;
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
	if (evidx(d) && !tx->poisoned &&
	    e_writable(part_h(&d->tab, tx, P_USED), 4 + 8ull * tx->num, 2)) {
		tx->ae_set = true;
		tx->ae = tx->last;
	}
	if (pois)
		kf.poisons++;
	return true;
}

static bool phase_hostile(struct kf_dev *d, struct kf_cfg *c)
{
	struct kf_vq *tx = &d->q[TXQ], *rx = &d->q[RXQ];
	bool racing = pct(70), tx_jump = false, rx_jump = false;
	unsigned int txp, rxp, n, i;
	struct kf_irqx x = { .weak = true };
	uint16_t tx_pub, rx_pub;
	uint64_t cnt[NCNT];

	if (!phase_begin(d, c))
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
		g_w16(rx->ring[P_AVAIL] + 2, rx_pub);
	g_w16(tx->ring[P_AVAIL] + 2, tx_pub);
	if (racing && !racer_start(d, c, true))
		return false;
	n = 1 + rnd(4);
	for (i = 0; i < n; i++) {
		if (!dev_kick(d, d->vr[TXQ].kick))
			break;
		if (i + 1 < n)
			sleep_us(rnd(500));
	}
	if (!kf.dev_bad)
		wait_weak(d, c, ph.offered, tx_jump, cnt, racing);
	if (!racer_stop() || kf.dev_bad || !phase_settle(d, cnt, &x))
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
	if (!io_get_status(d, PTR_OK, true))
		return false;
	kf.chains += txp;
	kf.frames += cnt[C(RX_PACKETS)] - ph.base[C(RX_PACKETS)];
	if (!weak_resync(d, c, txp, rxp, tx_jump, rx_jump))
		return false;
	if (tx->poisoned) {
		poisoned_stays(d);
		return false;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Random ioctl sequences                                              */
/* ------------------------------------------------------------------ */

static struct kf_ent prev_reg[MAXREG];
static unsigned int prev_nreg;

/* A layout queue's ring addresses, misaligned when the layout says so. */
static void vr_addr(const struct kf_cfg *c, unsigned int q, uint64_t *ring)
{
	memcpy(ring, c->vr[q].ring, sizeof(c->vr[q].ring));
	ring[P_USED] |= c->vr[q].bad;
}

/*
 * Fill the IOTLB to its 64 entries in a hole, one more is ENOSPC, then
 * one INVALIDATE takes them all away again.
 */
static bool tlb_fill(struct kf_dev *d)
{
	const struct kf_tlb *t = tlb_target(d);
	unsigned int room = MAXTLB - t->n, i;
	bool batch = pct(50);
	struct kf_tab now;
	uint64_t g;

	tab_build(&now, t->e, t->n);
	g = pure_hole(&now, (room + 1ull) * PG, PG);
	if (batch && !tlb_do(d, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0, 0))
		return false;
	for (i = 0; i <= room; i++)
		if (!tlb_do(d, VHOST_IOTLB_UPDATE, g + (uint64_t)i * PG, PG,
			    arena_base() + PG * (uint64_t)rnd(NPAGES),
			    1 + rnd(3)))
			return false;
	return tlb_do(d, VHOST_IOTLB_INVALIDATE, g, (room + 1ull) * PG, 0, 0) &&
	       (!batch || tlb_do(d, VHOST_IOTLB_BATCH_END, 0, 0, 0, 0));
}

/* IOTLB messages: the layout in other words, other tables, defects. */
static bool noise_tlb(struct kf_dev *d, struct kf_cfg *c)
{
	const struct kf_tlb *t = tlb_target(d);
	struct kf_ent e[MAXREG];
	struct kf_msg m;
	uint64_t sz;
	unsigned int k;

	switch (rnd(12)) {
	case 0:
		return tlb_install(d, c->reg, c->nreg, d->running || pct(50));
	case 1:		/* valid, another table */
		if (!prev_nreg)
			return true;
		return tlb_install(d, prev_reg, prev_nreg, pct(50));
	case 2:		/* over an entry: EEXIST */
		if (!t->n)
			return true;
		msg_init(&m, VHOST_IOTLB_UPDATE, 0, 0, arena_base(), A_RW);
		k = rnd(t->n);
		m.iova = t->e[k].iova + rnd64() % t->e[k].size;
		m.size = m.iova > UINT64_MAX - PG ? 1 : rndr(1, 4 * PG);
		return io_tlb(d, &m);
	case 3:		/* EINVAL */
		msg_init(&m, VHOST_IOTLB_UPDATE, pure_hole(&d->tab, PG, 1), PG,
			 arena_base(), A_RW);
		switch (rnd(4)) {
		case 0:
			m.size = 0;
			break;
		case 1:
			m.iova = 0 - rndr(1, PG - 1);
			break;
		case 2:
			m.perm = 0;
			break;
		default:
			m.perm = (uint8_t)rndr(4, 255);
			break;
		}
		return io_tlb(d, &m);
	case 4:		/* EFAULT: not in the user address space */
		sz = rndr(1, 1u << 20);
		msg_init(&m, VHOST_IOTLB_UPDATE, pure_hole(&d->tab, sz, 1), sz,
			 pct(50) ? 0xffff888000000000ull + PG * rnd64() % (1u << 20) :
			 0 - sz / 2 - 1, 1 + rnd(3));
		return io_tlb(d, &m);
	case 5:		/* valid: user space with nothing mapped, in a hole */
		sz = rndr(PG, 1u << 20);
		return tlb_do(d, VHOST_IOTLB_UPDATE, pure_hole(&d->tab, sz, PG),
			      sz, 0x100000000000ull + PG * (uint64_t)rnd(1u << 16),
			      1 + rnd(3));
	case 6:
		return tlb_fill(d);
	case 7:		/* INVALIDATE: nothing, something, or EINVAL */
		if (pct(30) || !t->n)
			return tlb_do(d, VHOST_IOTLB_INVALIDATE,
				      pure_hole(&d->tab, PG, 1),
				      pct(20) ? 0 : PG, 0, 0);
		k = rnd(t->n);
		return tlb_do(d, VHOST_IOTLB_INVALIDATE,
			      t->e[k].iova + rnd64() % t->e[k].size, 1 + rnd(PG),
			      0, 0);
	case 8:
		return tlb_do(d, pct(50) ? VHOST_IOTLB_BATCH_BEGIN :
			      VHOST_IOTLB_BATCH_END, 0, 0, 0, 0);
	case 9:		/* malformed */
		msg_init(&m, (uint8_t)rnd(8), rnd64(), rndr(1, PG), arena_base(),
			 A_RW);
		switch (rnd(6)) {
		case 0:
			m.count = rndr(1, 3);
			break;
		case 1:
			m.count = rndr(4, 39);
			break;
		case 2:
			m.ver = pct(50) ? 0 : (uint32_t)rndr(3, 0xffffffff);
			break;
		case 3:
			m.ptrv = (int)rndr(PTR_NULL, PTR_EDGE);
			break;
		case 4:
			m.count = rndr(73, 256);
			break;
		default:
			m.count = rndr(40, 71);
			break;
		}
		if (m.type == VHOST_IOTLB_UPDATE || m.type == VHOST_IOTLB_INVALIDATE)
			m.iova = pure_hole(&d->tab, PG, 1);
		return io_tlb(d, &m);
	default:	/* the layout with a region's rights changed */
		memcpy(e, c->reg, c->nreg * sizeof(e[0]));
		e[rnd(c->nreg)].perm = 1 + rnd(3);
		return tlb_install(d, e, c->nreg, d->running || pct(50));
	}
}

static bool noise_vring(struct kf_dev *d, const struct kf_cfg *c)
{
	static const uint32_t bad_num[] = { 0, 3, 100, 257, 512, 65536, 1u << 31 };
	unsigned int q = c->vr[RXQ].use && pct(40) ? RXQ : TXQ;
	int ptrv = rnd_ptr();
	uint32_t idx = pct(8) ? (pct(50) ? NQ + rnd(100) : UINT32_MAX) : q;
	uint64_t ring[NPART];
	uint32_t flags = 0;

	switch (rnd(9)) {
	case 0:
		return io_vring_num(d, idx, pct(60) ? c->vr[q].num :
				    pct(50) ? 1u << rnd(9) :
				    bad_num[rnd(ARRAY_LEN(bad_num))], ptrv);
	case 1:
		vr_addr(c, q, ring);
		switch (rnd(5)) {
		case 0:
			if (pct(33))
				ring[P_DESC] += 8;
			else if (pct(50))
				ring[P_AVAIL] += 1;
			else
				ring[P_USED] += 2;
			break;
		case 1:
			flags = 1u << rnd(32);	/* VHOST_VRING_F_LOG is fine */
			break;
		case 2:		/* wraps: taken, refused at DRIVER_OK */
			ring[P_DESC] = 0 - 16ull * rndr(1, c->vr[q].num);
			break;
		}
		return io_vring_addr(d, idx, flags, ring, rnd64(), ptrv);
	case 2:
		return io_vring_base(d, idx, pct(50) ? c->vr[q].base :
				     pct(80) ? (uint32_t)rnd(0x10000) :
				     (uint32_t)rndr(0x10000, UINT32_MAX), ptrv);
	case 3:
		return io_vring_kick(d, idx, rnd_fd(d), ptrv);
	case 4:
		return io_vring_call(d, idx, rnd_fd(d), ptrv);
	case 5:
		return io_vring_enable(d, idx, pct(70) ? 1 : pct(50) ? 0 :
				       (uint32_t)rnd64(), ptrv);
	case 6:
		return io_get_base(d, idx, ptrv, true, NULL);
	case 7:
		return io_vring_other(d, idx, ptrv);
	default:
		return io_vring_group(d, idx, ptrv);
	}
}

/* The status as a driver moves it, and as one should not. */
static bool noise_status(struct kf_dev *d)
{
	static const uint8_t bit[] = {
		S_ACK, S_DRIVER, S_FEATURES_OK, S_DRIVER_OK, S_FAILED, 0x10,
		0x20, S_NEEDS_RESET,
	};
	uint8_t b = bit[rnd(pct(80) ? 4 : ARRAY_LEN(bit))];

	switch (rnd(8)) {
	case 0:
		return io_set_status(d, 0, PTR_OK, ST_SETTLE);
	case 1:
		return io_set_status(d, (uint8_t)rnd64(), rnd_ptr(), ST_SETTLE);
	case 2:		/* a bit taken back */
		return io_set_status(d, d->status & ~b, PTR_OK, ST_SETTLE);
	case 3:
		return io_get_status(d, rnd_ptr(), true);
	case 4:
		return io_add_status(d, S_ACK | S_DRIVER);
	default:
		return io_add_status(d, b);
	}
}

/* Config space accesses, in range or not. */
static bool noise_config(struct kf_dev *d)
{
	uint32_t off = 0, len = 6;
	int ptrv = rnd_ptr();

	switch (rnd(6)) {
	case 0:
		len = d->cfg_size;
		break;
	case 1:
		off = rnd(d->cfg_size);
		len = rndr(1, d->cfg_size - off);
		break;
	case 2:
		len = 0;
		break;
	case 3:
		off = d->cfg_size + (pct(50) ? 1 : rnd(1u << 20));
		len = 1;
		break;
	case 4:
		off = rnd(d->cfg_size);
		len = d->cfg_size - off + 1 + (pct(50) ? 0 : rnd(64));
		break;
	default:
		len = pct(50) ? UINT32_MAX : UINT32_MAX - rnd(8);
		off = rnd(8);
		break;
	}
	/* A MAC of our own, now and then (or another defect). */
	if (pct(25))
		return io_set_config(d, off, len, ptrv);
	return io_get_config(d, off, len, ptrv);
}

static uint64_t rnd_features(void)
{
	return pct(50) ? rnd64() & VNETLOOP_FEATURES :
	       VNETLOOP_FEATURES | (1ull << rnd(64));
}

static bool noise_op(struct kf_dev *d, struct kf_cfg *c)
{
	unsigned int r = rnd(100);

	if (r < 6)
		return io_const(d, rnd(ARRAY_LEN(consts)), rnd_ptr());
	if (r < 20)
		return noise_tlb(d, c);
	if (r < 36)
		return noise_vring(d, c);
	if (r < 41)
		return io_set_features(d, rnd_features(), rnd_ptr());
	if (r < 43)
		return io_set_backend(d, pct(70) ? rnd64() & BACKEND_FEATURES :
				      rnd64(), rnd_ptr());
	if (r < 53)
		return noise_status(d);
	if (r < 58)
		return noise_config(d);
	if (r < 61)
		return io_config_call(d, rnd_fd(d), rnd_ptr());
	if (r < 65)
		return io_unknown(d);
	if (r < 67)
		return io_not_offered(d);
	if (r < 74) {
		/* Not running: nobody listens, nothing may run (checked later). */
		if (!d->running)
			return dev_kick(d, d->efd[rnd(NEFD)]);
		return true;
	}
	if (r < 76)
		return io_set_owner(d);
	if (r < 79)
		return io_read_mmap(d);
	if (r < 80)
		return io_reset_owner(d);
	/* A fork costs milliseconds under TCG: now and then. */
	if (d->owner && pct(2))
		return io_other_owner(d);
	return true;
}

/* The eventfds a round installs: kick, calls, config call. */
struct kf_fds {
	int kick, call[NQ], ccall, rxkick;
};

static void fds_of(const struct kf_dev *d, struct kf_fds *f)
{
	unsigned int k = rnd(100);

	f->kick = pct(85) ? d->efd[0] : d->efd[rnd(NEFD)];
	/* Separate vectors, one line for both queues, or the kick's own. */
	f->call[TXQ] = k < 55 ? d->efd[1] : k < 70 ? d->efd[0] :
		       k < 95 ? d->efd[2] : -1;
	f->call[RXQ] = pct(35) ? f->call[TXQ] : pct(85) ?
		       d->efd[1 + rnd(NEFD - 1)] : -1;
	f->ccall = pct(60) ? d->efd[3] : pct(70) ? d->efd[rnd(NEFD)] : -1;
	f->rxkick = pct(60) ? d->efd[rnd(NEFD)] : -1;
}

/* Does the device run exactly the layout's queues on its table? */
static bool runs_layout(const struct kf_dev *d, const struct kf_cfg *c)
{
	bool rx = c->vr[RXQ].use && !c->vr[RXQ].bad;

	return d->running && start_safe(d, c) && d->q[TXQ].ready &&
	       d->q[RXQ].ready == rx;
}

/* The configuration of queue q in order: size, base, rings, kick. */
static bool vring_setup(struct kf_dev *d, const struct kf_cfg *c,
			unsigned int q, const struct kf_fds *f)
{
	uint64_t ring[NPART];

	vr_addr(c, q, ring);
	return io_vring_num(d, q, c->vr[q].num, PTR_OK) &&
	       (!c->vr[q].set_base ||
		io_vring_base(d, q, c->vr[q].base, PTR_OK)) &&
	       io_vring_addr(d, q, 0, ring, ring[P_USED], PTR_OK) &&
	       io_vring_kick(d, q, q == TXQ ? f->kick : f->rxkick, PTR_OK);
}

/*
 * The layout in order, as QEMU starts a device: a reset, the owner,
 * ACKNOWLEDGE|DRIVER, the calls, features and FEATURES_OK, the backend
 * features, each queue, the enables, the IOTLB in a batch, DRIVER_OK.
 */
static bool configure(struct kf_dev *d, const struct kf_cfg *c,
		      const struct kf_fds *f)
{
	unsigned int q;

	if (!io_reset(d, false) || (!d->owner && !io_set_owner(d)) ||
	    !io_add_status(d, S_ACK | S_DRIVER) ||
	    !io_vring_call(d, TXQ, f->call[TXQ], PTR_OK) ||
	    !io_vring_call(d, RXQ, f->call[RXQ], PTR_OK) ||
	    !io_config_call(d, f->ccall, PTR_OK) ||
	    !io_set_features(d, c->features, PTR_OK) ||
	    !io_add_status(d, S_FEATURES_OK) ||
	    !io_set_backend(d, BACKEND_FEATURES, PTR_OK))
		return false;
	for (q = 0; q < NQ; q++)
		if (c->vr[q].use && !vring_setup(d, c, q, f))
			return false;
	if (!io_vring_enable(d, TXQ, 1, PTR_OK) ||
	    (c->vr[RXQ].use && !c->vr[RXQ].bad &&
	     !io_vring_enable(d, RXQ, 1, PTR_OK)))
		return false;
	return tlb_install(d, c->reg, c->nreg, d->in_batch || pct(70)) &&
	       io_add_status(d, S_DRIVER_OK);
}

/*
 * The configuring steps of layout c in random order, mixed with random
 * calls; if that does not leave the device running exactly c (any valid
 * features and eventfds), reset and configure it in order.
 */
static bool io_sequence(struct kf_dev *d, struct kf_cfg *c)
{
	enum {
		S_OWNER, S_ACKDRV, S_MEM, S_CALL_TX, S_CALL_RX, S_CCALL, S_FEAT,
		S_FOK, S_BACKEND, S_NUM_TX, S_BASE_TX, S_ADDR_TX, S_KICK_TX,
		S_EN_TX, S_NUM_RX, S_BASE_RX, S_ADDR_RX, S_KICK_RX, S_EN_RX,
		S_START, S_N
	};
	unsigned int order[S_N], n = 0, i, j, q;
	uint64_t ring[NPART];
	struct kf_fds f;

	kf.ioseqs++;
	snprintf(kf.where, sizeof(kf.where), "ioctl sequence");
	fds_of(d, &f);
	for (i = 0; i < S_START; i++) {
		if (i >= S_NUM_RX && !c->vr[RXQ].use)
			continue;
		if (i == S_EN_RX && c->vr[RXQ].bad)
			continue;
		if ((i == S_BASE_TX && !c->vr[TXQ].set_base) ||
		    (i == S_BASE_RX && !c->vr[RXQ].set_base))
			continue;
		order[n++] = i;
	}
	for (i = n; i > 1; i--) {
		unsigned int x;

		j = rnd(i);
		x = order[i - 1];
		order[i - 1] = order[j];
		order[j] = x;
	}
	j = pct(80) ? n : rnd(n + 1);
	for (i = n; i > j; i--)
		order[i] = order[i - 1];
	order[j] = S_START;
	n++;
	for (i = 0; i < n && !kf.dev_bad; i++) {
		while (pct(45) && !kf.dev_bad)
			noise_op(d, c);
		q = order[i] >= S_NUM_RX && order[i] < S_START ? RXQ : TXQ;
		vr_addr(c, q, ring);
		switch (order[i]) {
		case S_OWNER:
			io_set_owner(d);
			break;
		case S_ACKDRV:
			io_add_status(d, S_ACK | S_DRIVER);
			break;
		case S_MEM:
			tlb_install(d, c->reg, c->nreg, d->running || pct(60));
			break;
		case S_CALL_TX:
		case S_CALL_RX:
			io_vring_call(d, order[i] == S_CALL_TX ? TXQ : RXQ,
				      f.call[order[i] == S_CALL_TX ? TXQ : RXQ],
				      PTR_OK);
			break;
		case S_CCALL:
			io_config_call(d, f.ccall, PTR_OK);
			break;
		case S_FEAT:
			io_set_features(d, c->features, PTR_OK);
			break;
		case S_FOK:
			io_add_status(d, S_FEATURES_OK);
			break;
		case S_BACKEND:
			io_set_backend(d, BACKEND_FEATURES, PTR_OK);
			break;
		case S_NUM_TX:
		case S_NUM_RX:
			io_vring_num(d, q, c->vr[q].num, PTR_OK);
			break;
		case S_BASE_TX:
		case S_BASE_RX:
			io_vring_base(d, q, c->vr[q].base, PTR_OK);
			break;
		case S_ADDR_TX:
		case S_ADDR_RX:
			io_vring_addr(d, q, 0, ring, ring[P_USED], PTR_OK);
			break;
		case S_KICK_TX:
		case S_KICK_RX:
			io_vring_kick(d, q, q == TXQ ? f.kick : f.rxkick, PTR_OK);
			break;
		case S_EN_TX:
		case S_EN_RX:
			io_vring_enable(d, q, 1, PTR_OK);
			break;
		default:
			io_add_status(d, S_ACK | S_DRIVER | S_FEATURES_OK |
				      S_DRIVER_OK);
			break;
		}
	}
	while (pct(30) && !kf.dev_bad)
		noise_op(d, c);
	if (kf.dev_bad)
		return false;
	if (!runs_layout(d, c)) {
		/* Not what the round wants: again, in order. */
		if (!configure(d, c, &f))
			return false;
		if (!runs_layout(d, c))
			return fail("the layout's configuration did not start "
				    "(status %#x, TX %u/%d/%d, IOTLB %u entries)",
				    d->status, d->vr[TXQ].num, d->vr[TXQ].enabled,
				    d->vr[TXQ].kick, d->tlb.n);
	}
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
 * A phase cut short: a reset (status 0) or close() while the worker
 * drains, the guest perhaps still racing. What was counted must match
 * the used rings; after the reset nothing runs (the next round checks
 * the counters held), and each queue stopped where the chains the
 * counters took leave it: a drain the reset cut short left no trace, its
 * chains are still the driver's to offer again.
 */
static bool phase_abort(struct kf_dev *d, struct kf_cfg *c, bool by_close)
{
	unsigned int txp, rxp, i, n, popped[NQ];
	bool racing = c->hostile && pct(60), ready[NQ];
	int cls[NQ];
	uint8_t zero = 0;
	uint64_t cnt[NCNT];

	if (!phase_begin(d, c))
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
		g_w16(d->q[RXQ].ring[P_AVAIL] + 2, d->q[RXQ].gidx);
	g_w16(d->q[TXQ].ring[P_AVAIL] + 2, d->q[TXQ].gidx);
	/* Not when it closes: another thread's fd would go with it. */
	if (racing && !racer_start(d, c, !by_close))
		return false;
	n = 1 + rnd(3);
	for (i = 0; i < n; i++)
		dev_kick(d, d->vr[TXQ].kick);
	sleep_us(rnd(3000));
	if (by_close) {
		kf.closes_busy++;
		dev_close(d);
		racer_stop();
		return false;
	}
	if (!io_is("SET_STATUS(0) while draining",
		   xio(d->fd, VHOST_VDPA_SET_STATUS, &zero), 0) ||
	    !dev_read(d, cnt)) {
		racer_stop();
		return false;
	}
	if (!racer_stop())
		return false;
	ph_take(d);
	if (!weak_checks(d, d->c, ph.offered, false, &txp, &rxp))
		return false;
	kf.chains += txp;
	popped[TXQ] = txp;
	popped[RXQ] = rxp;
	for (i = 0; i < NQ; i++) {
		ready[i] = d->q[i].ready;
		cls[i] = ready[i] ? used_class(d, i) : U_MIXED;
	}
	if (!reset_model(d) || !base_check(d, true))
		return false;
	for (i = 0; i < NQ; i++) {
		int16_t lost = (int16_t)(d->vr[i].base - ph.last0[i] -
					 popped[i]);

		if (!ready[i] || cls[i] == U_MIXED || !lost)
			continue;
		return fail("after a reset that cut the drains short, "
			    "GET_VRING_BASE(%s) is %u, but the counters say %u "
			    "chains were taken from %u: %d chains popped and "
			    "never completed would be lost to the driver",
			    q_name[i], d->vr[i].base, popped[i], ph.last0[i],
			    lost);
	}
	for (i = 0; i < NQ; i++)
		d->q[i].last = d->vr[i].base;
	return true;
}

/*
 * A queue the same rings can go on with after a reset (stop/cont): not
 * poisoned, every entry it took given back, and (TX) nothing left.
 */
static bool resumable(const struct kf_dev *d, const struct kf_cfg *c)
{
	unsigned int q;

	for (q = 0; q < NQ; q++) {
		const struct kf_vq *x = &d->q[q];
		bool on = c->vr[q].use && !c->vr[q].bad;

		if (x->ready != on)
			return false;
		if (on && (x->poisoned || x->used_idx != x->last ||
			   (q == TXQ && x->gidx != x->last)))
			return false;
	}
	return d->running && tab_same(&d->tab, &c->tab);
}

/*
 * A reset and the same layout again, in order, short of DRIVER_OK: on
 * fresh rings, or (as QEMU does for stop and cont) on the same rings,
 * each queue given back the base GET_VRING_BASE gave (the RX buffers
 * offered before go on being offered). The queues are then armed for a
 * phase that posts first and sets DRIVER_OK after.
 */
static bool restart_stopped(struct kf_dev *d, struct kf_cfg *c)
{
	bool resume = pct(50) && resumable(d, c);
	struct kf_fds f;
	unsigned int q;
	uint64_t ring[NPART];

	if (!io_reset(d, false) ||
	    (!tab_same(&d->tab, &c->tab) &&
	     !tlb_install(d, c->reg, c->nreg, pct(50))) ||
	    !io_add_status(d, S_ACK | S_DRIVER) ||
	    !io_set_features(d, c->features, PTR_OK) ||
	    !io_add_status(d, S_FEATURES_OK))
		return false;
	f.kick = d->vr[TXQ].kick;
	f.rxkick = d->vr[RXQ].kick;
	for (q = 0; q < NQ; q++) {
		if (!c->vr[q].use)
			continue;
		vr_addr(c, q, ring);
		if (!io_vring_num(d, q, c->vr[q].num, PTR_OK) ||
		    (resume && !io_vring_base(d, q, d->vr[q].base, PTR_OK)) ||
		    (!resume && pct(50) &&
		     !io_vring_base(d, q, pct(50) ? 0 : (uint16_t)rnd64(),
				    PTR_OK)) ||
		    !io_vring_addr(d, q, 0, ring, ring[P_USED], PTR_OK) ||
		    (pct(50) && !io_vring_kick(d, q, q == TXQ ? f.kick :
					       f.rxkick, PTR_OK)) ||
		    (!c->vr[q].bad && !io_vring_enable(d, q, 1, PTR_OK)))
			return false;
	}
	if (start_err(d) || !start_safe(d, c))
		return fail("the layout again after a reset: DRIVER_OK would "
			    "not take it");
	if (resume) {
		kf.resumes++;
		q_arm(d, false);
	} else {
		rings_fresh(d, c);
	}
	return true;
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
	if (d->running && !io_reset(d, false))
		return false;
	if (kcfg.nreg) {
		memcpy(prev_reg, kcfg.reg, sizeof(prev_reg));
		prev_nreg = kcfg.nreg;
	}
	memcpy(before, d->c, sizeof(before));
	cfg_new(&kcfg, pct(22));
	/* The device is stopped: nothing may have moved since the reset. */
	if (!dev_read(d, c))
		return false;
	for (i = 0; i < NCNT; i++)
		if (c[i] != before[i])
			return fail("%s moved by %" PRIu64 " after the reset "
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
			/* Reset, configure again, post, then DRIVER_OK. */
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
		if (pct(1)) {
			/* Another process binds it and goes: unusable. */
			dev_stolen(&dev);
			dev_close(&dev);
			continue;
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
	gtab = &kcfg.tab;
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
	kf.dbg = env_u64("KFUZZ_DBG", 0);

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
	    " RX bytes against what was sent, %" PRIu64 " ring positions, %"
	    PRIu64 " interrupts against the call eventfds; %" PRIu64
	    " guest writes racing the worker", kf.used_checked,
	    kf.bytes_checked, kf.bases_checked, kf.signals, kf.racer_ops);
	say("ioctls and IOTLB writes: %" PRIu64 " succeeded, %" PRIu64
	    " refused as predicted, %" PRIu64 " IOTLB messages; %" PRIu64
	    " starts, %" PRIu64 " resumed rings, %" PRIu64 " IOTLB rewrites "
	    "while running, %" PRIu64 " rights cut or entries unmapped "
	    "under the worker, %" PRIu64 " call swaps, %" PRIu64 " owner "
	    "checks, %" PRIu64 " other processes", kf.io_good, kf.io_bad,
	    kf.tlb_msgs, kf.starts, kf.resumes, kf.remaps, kf.cuts,
	    kf.swaps, kf.owners_checked, kf.children);
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
