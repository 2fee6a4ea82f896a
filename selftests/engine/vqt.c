// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory, rings and driver-side helpers for the engine unit tests.
 * The rings are driven by the shared driver (virtq/), on the host addresses
 * of their guest-physical ones, exactly as a guest driver lays them out.
 */
#include <stdlib.h>

#include "include/vnetloop/counters.h"
#include "vqt.h"

static const char *const vqt_names[VNETLOOP_NUM_COUNTERS] =
	VNETLOOP_COUNTER_NAMES;

const char *vqt_counter_name(unsigned int id)
{
	return id < VNETLOOP_NUM_COUNTERS ? vqt_names[id] : "?";
}

/* The test being run: the engine's access hook has no context pointer. */
static struct vqt *vqt_cur;

/* Every guest access the engine makes (VNL_ENGINE_TEST_HOOKS). */
static void vqt_access(void *p, size_t len, bool write)
{
	struct vqt *t = vqt_cur;
	u8 *b = p;

	if (!t || b < t->mem || b + len > t->mem + VQT_MEM_SIZE)
		abort();	/* outside the region: the engine is broken */
	t->clock += t->clock_per_access;
	if (!write) {
		t->reads++;
		return;
	}
	t->writes++;
	if (t->write_hook)
		t->write_hook(t, VQT_GPA_BASE + (u64)(b - t->mem), len);
}

/* vnl_test_clock, for vqt_fake_clock(). */
static u64 vqt_clock(void)
{
	struct vqt *t = vqt_cur;

	if (!t)
		abort();
	t->clock_reads++;
	return ++t->clock;
}

void vqt_fake_clock(struct vqt *t, u64 per_access)
{
	t->clock = 1000000;
	t->clock_per_access = per_access;
	t->clock_reads = 0;
	vnl_test_clock = vqt_clock;
}

static void vqt_commit(void *ctx, const u64 *delta)
{
	struct vqt *t = ctx;
	unsigned int i;

	t->commits++;
	for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
		t->c[i] += delta[i];
}

static void vqt_interrupt(void *ctx, u32 isr, unsigned int vqs)
{
	struct vqt *t = ctx;

	(void)isr;
	t->irq_vqs = vqs;
	t->interrupts++;
}

static void vqt_poisoned(void *ctx, unsigned int q)
{
	struct vqt *t = ctx;

	t->poisoned |= 1U << q;
}

static int vqt_set_pairs(void *ctx, u16 pairs)
{
	struct vqt *t = ctx;

	t->set_pairs_calls++;
	t->set_pairs_arg = pairs;
	return t->set_pairs_ret;
}

static const struct vnl_engine_ops vqt_ops = {
	.commit = vqt_commit,
	.interrupt = vqt_interrupt,
	.poisoned = vqt_poisoned,
	.set_pairs = vqt_set_pairs,
};

int vqt_open(struct vqt *t)
{
	memset(t, 0, sizeof(*t));
	t->mem = calloc(1, VQT_MEM_SIZE);
	if (!t->mem)
		return -ENOMEM;
	t->region.gpa = VQT_GPA_BASE;
	t->region.size = VQT_MEM_SIZE;
	t->region.hva = (u64)(uintptr_t)t->mem;
	t->data_next = VQT_DATA_BASE;
	vnl_engine_init(&t->eng, &vqt_ops, t, NULL);
	vqt_cur = t;
	vnl_test_access = vqt_access;
	return vnl_engine_set_mem(&t->eng, &t->region, 1);
}

void vqt_close(struct vqt *t)
{
	free(t->mem);
	free(t->snap);
	t->mem = NULL;
	t->snap = NULL;
	vnl_test_access = NULL;
	vnl_test_clock = NULL;
	vqt_cur = NULL;
}

/* The host address of [gpa, gpa + len), or NULL outside the region. */
static void *vqt_ring_ptr(struct vqt *t, u64 gpa, u64 len)
{
	if (gpa < VQT_GPA_BASE || gpa >= VQT_GPA_END ||
	    len > VQT_GPA_END - gpa)
		return NULL;
	return vqt_ptr(t, gpa);
}

int vqt_config_at(struct vqt *t, unsigned int q, u16 num, u64 desc,
		  u64 avail, u64 used)
{
	struct vqt_ring *r = &t->q[q];

	r->desc = desc;
	r->avail = avail;
	r->used = used;
	r->next_desc = 0;
	virtq_init(&r->vq, num, vqt_ring_ptr(t, desc, virtq_desc_size(num)),
		   vqt_ring_ptr(t, avail, virtq_avail_size(num)),
		   vqt_ring_ptr(t, used, virtq_used_size(num)));
	return vnl_engine_set_vring(&t->eng, q, num, desc, avail, used);
}

int vqt_config(struct vqt *t, unsigned int q, u16 num)
{
	return vqt_config_at(t, q, num, VQT_RING_DESC(q), VQT_RING_AVAIL(q),
			     VQT_RING_USED(q));
}

int vqt_setup(struct vqt *t, u16 rx_num, u16 tx_num, bool event_idx)
{
	u64 f = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MAC);
	int ret;

	if (event_idx)
		f |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
	ret = vnl_engine_set_features(&t->eng, f);
	if (!ret && rx_num)
		ret = vqt_config(t, VQT_RX, rx_num);
	if (!ret && tx_num)
		ret = vqt_config(t, VQT_TX, tx_num);
	if (!ret)
		vnl_engine_start(&t->eng);
	return ret;
}

int vqt_setup_moved(struct vqt *t, const struct vqt_moved *m)
{
	int ret = vnl_engine_set_features(&t->eng, 1ULL << VIRTIO_F_VERSION_1);
	unsigned int q;
	u64 avail, used;

	for (q = 0; q < VNETLOOP_NUM_QUEUES && !ret; q++) {
		avail = m->avail[q] ? m->avail[q] : VQT_RING_AVAIL(q);
		used = m->used[q] ? m->used[q] : VQT_RING_USED(q);
		ret = vqt_config_at(t, q, 8, VQT_RING_DESC(q), avail, used);
	}
	if (!ret)
		vnl_engine_start(&t->eng);
	return ret;
}

void *vqt_ptr(struct vqt *t, u64 gpa)
{
	if (gpa < VQT_GPA_BASE || gpa >= VQT_GPA_END)
		abort();	/* a test bug, not an engine one */
	return t->mem + (gpa - VQT_GPA_BASE);
}

u64 vqt_alloc(struct vqt *t, u32 len)
{
	u64 gpa = t->data_next;

	if (len > VQT_GPA_END - gpa)
		abort();
	t->data_next = (gpa + len + VQT_ALIGN - 1) & ~(VQT_ALIGN - 1);
	return gpa;
}

void vqt_alloc_reset(struct vqt *t)
{
	t->data_next = VQT_DATA_BASE;
}

void vqt_pattern(u8 *p, u32 len, u32 seed)
{
	u32 i, x = seed * 2654435761u + 1;

	for (i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (u8)(x >> 16);
	}
}

long vqt_pattern_check(const u8 *p, u32 len, u32 seed)
{
	u32 i, x = seed * 2654435761u + 1;

	for (i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		if (p[i] != (u8)(x >> 16))
			return i;
	}
	return -1;
}

long vqt_fill_check(const u8 *p, u32 len, u8 c)
{
	u32 i;

	for (i = 0; i < len; i++)
		if (p[i] != c)
			return i;
	return -1;
}

void vqt_desc_set(struct vqt *t, unsigned int q, u16 i, u64 addr, u32 len,
		  u16 flags, u16 next)
{
	virtq_set_desc(&t->q[q].vq, i, addr, len, flags, next);
}

void vqt_avail_set_idx(struct vqt *t, unsigned int q, u16 idx)
{
	virtq_set_avail_idx(&t->q[q].vq, idx);
}

/* Slot first, then idx: the order the engine's barriers pair with. */
void vqt_avail_put(struct vqt *t, unsigned int q, u16 head)
{
	virtq_avail_add(&t->q[q].vq, head);
	virtq_publish(&t->q[q].vq);
}

void vqt_avail_set_flags(struct vqt *t, unsigned int q, u16 flags)
{
	virtq_set_avail_flags(&t->q[q].vq, flags);
}

void vqt_set_used_event(struct vqt *t, unsigned int q, u16 v)
{
	virtq_set_used_event(&t->q[q].vq, v);
}

u16 vqt_avail_event(struct vqt *t, unsigned int q)
{
	return virtq_avail_event(&t->q[q].vq);
}

/* The device's field, written as a device would: after the used ring. */
void vqt_set_avail_event(struct vqt *t, unsigned int q, u16 v)
{
	struct virtq *vq = &t->q[q].vq;

	memcpy(&vq->used->ring[vq->num], &v, sizeof(v));
}

u16 vqt_used_idx(struct vqt *t, unsigned int q)
{
	return virtq_used_idx(&t->q[q].vq);
}

u32 vqt_used_id(struct vqt *t, unsigned int q, u16 idx)
{
	return virtq_used_elem(&t->q[q].vq, idx).id;
}

u32 vqt_used_len(struct vqt *t, unsigned int q, u16 idx)
{
	return virtq_used_elem(&t->q[q].vq, idx).len;
}

u16 vqt_chain(struct vqt *t, unsigned int q, const struct virtq_buf *s,
	      unsigned int n)
{
	struct vqt_ring *r = &t->q[q];
	u16 head = r->next_desc;

	r->next_desc = virtq_write_chain(&r->vq, head, s, n);
	vqt_avail_put(t, q, head);
	return head;
}

u16 vqt_tx_frame(struct vqt *t, u32 len, u32 seed, u64 *gpa)
{
	struct virtq_buf s = { .len = VNL_NET_HDR_LEN + len };
	u8 *p;

	s.gpa = vqt_alloc(t, s.len);
	p = vqt_ptr(t, s.gpa);
	memset(p, VQT_TX_HDR_FILL, VNL_NET_HDR_LEN);
	vqt_pattern(p + VNL_NET_HDR_LEN, len, seed);
	if (gpa)
		*gpa = s.gpa;
	return vqt_chain(t, VQT_TX, &s, 1);
}

u16 vqt_rx_buf(struct vqt *t, u32 len, u64 *gpa)
{
	struct virtq_buf s = { .len = len, .flags = VRING_DESC_F_WRITE };

	s.gpa = vqt_alloc(t, len);
	memset(vqt_ptr(t, s.gpa), VQT_RX_FILL, len);
	if (gpa)
		*gpa = s.gpa;
	return vqt_chain(t, VQT_RX, &s, 1);
}

/* What the device writes on RX: all zero but num_buffers = 1. */
static const struct virtio_net_hdr_v1 vqt_rx_hdr = { .num_buffers = 1 };

bool vqt_rx_hdr_ok(struct vqt *t, u64 gpa)
{
	return !memcmp(vqt_ptr(t, gpa), &vqt_rx_hdr, sizeof(vqt_rx_hdr));
}

void vqt_tx_bytes(u8 *out, u32 n, u32 seed)
{
	u32 hdr = n < VNL_NET_HDR_LEN ? n : VNL_NET_HDR_LEN;

	memset(out, VQT_TX_HDR_FILL, hdr);
	vqt_pattern(out + hdr, n - hdr, seed);
}

long vqt_tx_bytes_check(const u8 *p, u32 off, u32 len, u32 seed)
{
	u8 *want = malloc((u64)off + len + 1);
	long r = -1;
	u32 i;

	if (!want)
		abort();
	vqt_tx_bytes(want, off + len, seed);
	for (i = 0; i < len && r < 0; i++)
		if (p[i] != want[off + i])
			r = i;
	free(want);
	return r;
}

u16 vqt_tx_chain(struct vqt *t, const struct virtq_buf *s, unsigned int n,
		 u32 seed, u64 *gpas)
{
	struct virtq_buf c[VNETLOOP_QUEUE_SIZE_MAX];
	u64 off = 0, end = 0;
	unsigned int k;
	u8 *frame;

	if (n > VNETLOOP_QUEUE_SIZE_MAX)
		abort();
	/* Only the bytes up to the last piece that holds any are made. */
	for (k = 0; k < n; k++) {
		off += s[k].len;
		if (!s[k].gpa)
			end = off;
	}
	frame = malloc(end + 1);
	if (!frame)
		abort();
	vqt_tx_bytes(frame, end, seed);
	for (k = n; k-- > 0;) {
		c[k] = s[k];
		if (!s[k].gpa)
			c[k].gpa = vqt_alloc(t, s[k].len);
	}
	for (k = 0, off = 0; k < n; off += s[k].len, k++) {
		if (!s[k].gpa)
			memcpy(vqt_ptr(t, c[k].gpa), frame + off, s[k].len);
		if (gpas)
			gpas[k] = c[k].gpa;
	}
	free(frame);
	return vqt_chain(t, VQT_TX, c, n);
}

u16 vqt_tx_split(struct vqt *t, const u32 *lens, unsigned int n, u32 seed,
		 u64 *gpas)
{
	struct virtq_buf s[VNETLOOP_QUEUE_SIZE_MAX] = { 0 };
	unsigned int k;

	if (n > VNETLOOP_QUEUE_SIZE_MAX)
		abort();
	for (k = 0; k < n; k++)
		s[k].len = lens[k];
	return vqt_tx_chain(t, s, n, seed, gpas);
}

u16 vqt_rx_chain(struct vqt *t, const struct virtq_buf *s, unsigned int n,
		 u64 *gpas)
{
	struct virtq_buf c[VNETLOOP_QUEUE_SIZE_MAX];
	unsigned int k;

	if (n > VNETLOOP_QUEUE_SIZE_MAX)
		abort();
	for (k = 0; k < n; k++) {
		c[k] = s[k];
		if (!s[k].gpa) {
			c[k].gpa = vqt_alloc(t, s[k].len);
			memset(vqt_ptr(t, c[k].gpa), VQT_RX_FILL, s[k].len);
		}
		if (gpas)
			gpas[k] = c[k].gpa;
	}
	return vqt_chain(t, VQT_RX, c, n);
}

u16 vqt_rx_split(struct vqt *t, const u32 *lens, unsigned int n, u64 *gpas)
{
	struct virtq_buf s[VNETLOOP_QUEUE_SIZE_MAX] = { 0 };
	unsigned int k;

	if (n > VNETLOOP_QUEUE_SIZE_MAX)
		abort();
	for (k = 0; k < n; k++) {
		s[k].len = lens[k];
		s[k].flags = VRING_DESC_F_WRITE;
	}
	return vqt_rx_chain(t, s, n, gpas);
}

void vqt_gather(struct vqt *t, const u64 *gpas, const u32 *lens,
		unsigned int n, u8 *out)
{
	unsigned int k;

	for (k = 0; k < n; k++) {
		memcpy(out, vqt_ptr(t, gpas[k]), lens[k]);
		out += lens[k];
	}
}

void vqt_rx_expect(u8 *out, u32 buf_len, u32 frame_len, u32 seed)
{
	u32 room = buf_len - VNL_NET_HDR_LEN;
	u32 n = frame_len < room ? frame_len : room;

	memcpy(out, &vqt_rx_hdr, VNL_NET_HDR_LEN);
	vqt_pattern(out + VNL_NET_HDR_LEN, n, seed);
	memset(out + VNL_NET_HDR_LEN + n, VQT_RX_FILL, room - n);
}

int vqt_snapshot(struct vqt *t)
{
	if (!t->snap)
		t->snap = malloc(VQT_MEM_SIZE);
	if (!t->snap)
		return -ENOMEM;
	memcpy(t->snap, t->mem, VQT_MEM_SIZE);
	return 0;
}

unsigned long vqt_changed_outside(struct vqt *t, const struct vqt_range *r,
				  unsigned int n)
{
	unsigned long changed = 0;
	unsigned int k;
	u64 off, gpa;

	for (off = 0; off < VQT_MEM_SIZE; off++) {
		/* Skip unchanged 4 KiB blocks whole. */
		if (!(off & 4095) && !memcmp(t->mem + off, t->snap + off, 4096)) {
			off += 4095;
			continue;
		}
		if (t->mem[off] == t->snap[off])
			continue;
		gpa = VQT_GPA_BASE + off;
		for (k = 0; k < n; k++)
			if (gpa >= r[k].start && gpa < r[k].end)
				break;
		if (k == n)
			changed++;
	}
	return changed;
}

struct vqt_range vqt_used_range(struct vqt *t, unsigned int q)
{
	struct vqt_range r = {
		.start = t->q[q].used,
		.end = t->q[q].used + virtq_used_size(t->q[q].vq.num),
	};

	return r;
}

void vqt_mark(struct vqt *t)
{
	memcpy(t->mark, t->c, sizeof(t->mark));
}

u64 vqt_delta(const struct vqt *t, unsigned int id)
{
	return t->c[id] - t->mark[id];
}

static unsigned int vqt_drain_one(struct vqt *t, bool ctrl)
{
	unsigned long irqs = t->interrupts;
	unsigned int r = 0;
	u32 isr;

	/* Each drain's own bits: the driver acknowledged the last ones. */
	vnl_engine_isr_ack(&t->eng, ~0u);
	t->poisoned = 0;
	if (ctrl ? vnl_ctrl_drain(&t->eng) : vnl_drain(&t->eng))
		r |= VQT_DRAIN_MORE;
	isr = vnl_engine_isr(&t->eng);
	/* One interrupt exactly when InterruptStatus gained a bit. */
	if (t->interrupts - irqs != (isr ? 1 : 0))
		abort();
	r |= isr;
	if (t->poisoned & (1U << VQT_TX))
		r |= VQT_DRAIN_POISONED_TX;
	if (t->poisoned & (1U << VQT_RX))
		r |= VQT_DRAIN_POISONED_RX;
	if (t->poisoned & (1U << VQT_CTRL))
		r |= VQT_DRAIN_POISONED_CTRL;
	return r;
}

unsigned int vqt_drain(struct vqt *t)
{
	return vqt_drain_one(t, false);
}

unsigned int vqt_ctrl_drain(struct vqt *t)
{
	return vqt_drain_one(t, true);
}

bool vqt_needs_reset(struct vqt *t)
{
	return vnl_engine_status(&t->eng) & VIRTIO_CONFIG_S_NEEDS_RESET;
}
