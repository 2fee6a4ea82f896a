// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's traffic and bad-input scenarios. Every frame carries a
 * pattern derived from its number, so each received byte is checked. Each
 * scenario also keeps result.expect[]: what the device's thirteen counters
 * must read at the end, which the VMM compares.
 *
 *   traffic    N frames of S bytes, B per notify
 *   oversize   a frame of MAX+1 bytes (dropped) and one of MAX bytes
 *              (delivered, truncated to the RX buffer), then traffic
 *   short-tx   a chain shorter than the header, a TX chain with a
 *              device-writable buffer, a header outside RAM, then traffic
 *   poison     traffic; TX avail idx too far ahead (NEEDS_RESET + CONFIG
 *              interrupt, later kicks ignored; with MSI-X, the config
 *              vector masked first: pending, then sent on unmask); reset
 *              and traffic; RX avail
 *              idx too far ahead (TX goes on, frames dropped); reset, traffic
 *   rx-starve  N frames with no RX buffer; one buffer for three frames;
 *              then traffic
 */
#include "mq.h"

#define EXPECT_MAX	1024

static struct vdev dev;
static u8 *rings, *rx_bufs, *tx_bufs, *big_buf;
static u32 stride, frame_size;
static u32 next_frame;
static u32 tx_inflight;

/*
 * Frames that must arrive, in order: pattern number and delivered length;
 * sampled, the TX buffer whose pattern it carries.
 */
static struct { u32 frame, len, slot; } expq[EXPECT_MAX];
/* Sampled checks: each TX buffer holds its pattern once filled. */
static bool tx_filled[QSIZE];
/* The slot of a frame checked in full. */
#define NO_SLOT		0xffffffffu
static u32 exp_head, exp_count;

static u8 pattern(u32 frame, u32 j)
{
	return (u8)(frame * 0x9d + (frame >> 8) + j * 0x3b + (j >> 8));
}

u8 scenario_pattern(u32 frame, u32 j)
{
	return pattern(frame, j);
}

static void fill_frame(u8 *p, u32 frame, u32 len)
{
	memset(p, 0, VNL_NET_HDR_LEN);
	for (u32 j = 0; j < len; j++)
		p[VNL_NET_HDR_LEN + j] = pattern(frame, j);
}

static void expect(enum vnl_expect c, u64 v)
{
	result.expect[c] += v;
}

static void expect_rx(u32 frame, u32 len, u32 slot)
{
	u32 tail = (exp_head + exp_count) % EXPECT_MAX;

	if (!CHECK(exp_count < EXPECT_MAX, "expect queue full"))
		return;
	expq[tail].frame = frame;
	expq[tail].len = len;
	expq[tail].slot = slot;
	exp_count++;
	expect(VNL_X_RX_PACKETS, 1);
	expect(VNL_X_RX_BYTES, len);
}

/*
 * A sampled frame: sent from TX buffer slot with frame's number in its
 * first four bytes (little-endian) over the slot's pattern.
 */
static bool sampled(u32 len)
{
	return params->check == VNL_CHECK_SAMPLE && len >= 8;
}

static void fill_sampled(u8 *p, u32 slot, u32 frame, u32 len)
{
	if (!tx_filled[slot]) {
		fill_frame(p, slot, frame_size);
		tx_filled[slot] = true;
	}
	memcpy(p + VNL_NET_HDR_LEN, &frame, sizeof(frame));
	(void)len;
}

/* The sampled bytes of a received frame: -1, or the first wrong one. */
static int sample_bad(const u8 *p, u32 frame, u32 slot, u32 len)
{
	const u32 at[2] = { len / 2 > 4 ? len / 2 : 4, len - 1 };
	u32 got;

	memcpy(&got, p, sizeof(got));
	if (got != frame)
		return 0;
	for (u32 i = 0; i < 2; i++)
		if (p[at[i]] != pattern(slot, at[i]))
			return (int)at[i];
	return -1;
}

static void verify_rx(const u8 *buf, u32 len)
{
	static const struct virtio_net_hdr_v1 hdr = { .num_buffers = 1 };
	u32 frame, want, slot;
	int bad;

	result.frames_received++;
	if (!exp_count) {
		result.mismatches++;
		fail("frame %llu: not expected (length %u)",
		     (unsigned long long)result.frames_received, len);
		return;
	}
	frame = expq[exp_head].frame;
	want = expq[exp_head].len;
	slot = expq[exp_head].slot;
	exp_head = (exp_head + 1) % EXPECT_MAX;
	exp_count--;
	if (len != VNL_NET_HDR_LEN + want) {
		result.mismatches++;
		fail("frame %u: used length %u, want %u", frame, len,
		     VNL_NET_HDR_LEN + want);
		return;
	}
	/* All zero but num_buffers = 1. */
	if (memcmp(buf, &hdr, sizeof(hdr))) {
		result.mismatches++;
		fail("frame %u: bad virtio-net header", frame);
		return;
	}
	if (slot != NO_SLOT) {
		bad = sample_bad(buf + VNL_NET_HDR_LEN, frame, slot, want);
		if (bad >= 0) {
			result.mismatches++;
			fail("frame %u: sampled byte %d is wrong", frame, bad);
			return;
		}
		result.frames_verified++;
		result.bytes_verified += want;
		return;
	}
	for (u32 j = 0; j < want; j++) {
		if (buf[VNL_NET_HDR_LEN + j] != pattern(frame, j)) {
			result.mismatches++;
			fail("frame %u: byte %u is 0x%x, want 0x%x", frame, j,
			     buf[VNL_NET_HDR_LEN + j], pattern(frame, j));
			return;
		}
	}
	result.frames_verified++;
	result.bytes_verified += want;
}

/* RX buffer i, for descriptor i: one buffer per descriptor. */
static struct virtq_buf rx_buf(u32 i)
{
	return (struct virtq_buf){
		.gpa = (uintptr_t)rx_bufs + (u64)i * stride,
		.len = VNL_NET_HDR_LEN + frame_size,
		.flags = VRING_DESC_F_WRITE,
	};
}

static bool post_rx(u32 n)
{
	for (u32 i = 0; i < n; i++) {
		struct virtq_buf b;

		if (!CHECK(dev.rx.nfree, "RX ring full"))
			return false;
		b = rx_buf(virtq_next_free(&dev.rx));
		if (!CHECK(virtq_add(&dev.rx, &b, 1) >= 0, "RX ring full"))
			return false;
	}
	vdev_publish(&dev, &dev.rx);
	return true;
}

static void reap(void)
{
	u32 id, len, n;
	bool more;

	do {
		while (vdev_get_used(&dev, &dev.tx, &id, &len)) {
			CHECK(len == 0, "TX used length %u, want 0", len);
			CHECK(tx_inflight > 0, "TX completion with none queued");
			tx_inflight--;
		}
		n = 0;
		while (vdev_get_used(&dev, &dev.rx, &id, &len)) {
			struct virtq_buf b;

			if (id >= QSIZE)
				continue;
			b = rx_buf(id);
			verify_rx((const u8 *)(uintptr_t)b.gpa, len);
			/* Recycle: the freed descriptor is the next one out. */
			CHECK(virtq_add(&dev.rx, &b, 1) == (int)id,
			      "RX recycle took another descriptor");
			n++;
		}
		if (n)
			vdev_publish(&dev, &dev.rx);
		/* Both re-armed before deciding: no short-circuit. */
		more = virtq_enable_cb(&dev.tx);
		more = virtq_enable_cb(&dev.rx) || more;
	} while (more);
}

/* Sleep until the device interrupts; false (and a failure) on a stall. */
static bool wait_device(const char *what)
{
	u64 start = ticks;

	while (!irq_pending) {
		if (ticks - start > STALL_TICKS) {
			fail("%s: no interrupt for %u s (TX in flight %u, RX expected %u)",
			     what, STALL_TICKS * TICK_MS / 1000, tx_inflight,
			     exp_count);
			return false;
		}
		arch_wait();
	}
	vdev_isr(&dev);
	return true;
}

/* Sleep n ticks, taking device interrupts as they come. */
static void sleep_ticks(u64 n)
{
	u64 start = ticks;

	while (ticks - start < n) {
		if (irq_pending)
			vdev_isr(&dev);
		else
			arch_wait();
	}
}

/*
 * Let interrupts still on their way arrive (an asynchronous backend may
 * signal a drain whose entries the guest already reaped), so a check that
 * follows sees only what its own action caused.
 */
static void settle(void)
{
	u64 seen;

	do {
		seen = irq_count;
		sleep_ticks(3);
	} while (irq_count != seen);
}

/* Queue one normal frame of len bytes; deliver: it must come back. */
static bool queue_frame(u32 len, bool deliver)
{
	struct virtq_buf b = { .len = VNL_NET_HDR_LEN + len };
	u32 slot;
	u8 *buf;

	if (dev.tx.nfree == 0)
		return false;
	/* One buffer per descriptor: the descriptor index picks it. */
	slot = virtq_next_free(&dev.tx);
	buf = tx_bufs + (u64)slot * stride;
	b.gpa = (uintptr_t)buf;
	if (sampled(len) && len <= frame_size) {
		fill_sampled(buf, slot, next_frame, len);
	} else {
		fill_frame(buf, next_frame, len);
		slot = NO_SLOT;
	}
	virtq_add(&dev.tx, &b, 1);
	if (deliver)
		expect_rx(next_frame, MIN(len, frame_size), slot);
	expect(VNL_X_TX_PACKETS, 1);
	expect(VNL_X_TX_BYTES, len);
	next_frame++;
	tx_inflight++;
	result.frames_sent++;
	return true;
}

/* Queue a chain the device must reject as tx_chain_invalid. */
static void queue_bad_chain(const struct virtq_buf *b, unsigned int n)
{
	if (!CHECK(virtq_add(&dev.tx, b, n) >= 0, "TX ring full"))
		return;
	expect(VNL_X_TX_CHAIN_INVALID, 1);
	tx_inflight++;
	result.frames_sent++;
}

/* Wait until every queued TX chain is back and every expected RX frame. */
static bool drain(const char *what)
{
	while (tx_inflight || exp_count) {
		if (!wait_device(what))
			return false;
		reap();
	}
	return true;
}

/* n frames of frame_size bytes, batch per notify. */
static bool traffic(u64 n, bool deliver, const char *what)
{
	u64 queued = 0;

	while (queued < n) {
		u32 want = MIN(params->batch, n - queued);

		if (dev.tx.nfree >= want) {
			for (u32 i = 0; i < want; i++)
				queue_frame(frame_size, deliver);
			if (!deliver)
				expect(VNL_X_TX_DROPPED_NO_RX_BUFFER, want);
			vdev_publish(&dev, &dev.tx);
			queued += want;
			continue;
		}
		if (!wait_device(what))
			return false;
		reap();
	}
	return drain(what);
}

/*
 * The measured phase's marks, and the guest's own counts between them
 * (result.phase_*), each read just before its mark.
 */
static u64 phase_irqs0, phase_tx_kicks0, phase_rx_kicks0;

static void phase_start(void)
{
	phase_irqs0 = irq_count;
	phase_tx_kicks0 = result.tx_kicks;
	phase_rx_kicks0 = result.rx_kicks;
	ucall(VNL_UCALL_MARK, VNL_MARK_TRAFFIC_START, 0);
}

static void phase_end(void)
{
	result.phase_irqs = irq_count - phase_irqs0;
	result.phase_tx_kicks = result.tx_kicks - phase_tx_kicks0;
	result.phase_rx_kicks = result.rx_kicks - phase_rx_kicks0;
	ucall(VNL_UCALL_MARK, VNL_MARK_TRAFFIC_END, 0);
}

static bool measured_traffic(const char *what)
{
	bool ok;

	phase_start();
	ok = traffic(params->frames, true, what);
	phase_end();
	return ok;
}

void scenario_fill(u8 *p, u32 frame, u32 len)
{
	fill_frame(p, frame, len);
}

/* Traffic over every pair of a multiqueue device (mq.c). */
static void mq_measured_traffic(void)
{
	const struct mq_ctx c = {
		.dev = &dev, .rx_bufs = rx_bufs, .tx_bufs = tx_bufs,
		.stride = stride, .frame_size = frame_size,
		.batch = MIN(params->batch, QSIZE),
	};

	phase_start();
	mq_traffic(&c);
	phase_end();
}

static bool start_device(bool fill_rx)
{
	tx_inflight = 0;
	exp_count = 0;
	if (!vdev_init(&dev, rings))
		return false;
	return !fill_rx || post_rx(QSIZE);
}

static bool needs_reset(void)
{
	u32 st = vdev_status(&dev);

	if (st & VIRTIO_CONFIG_S_NEEDS_RESET)
		result.needs_reset_seen++;
	return st & VIRTIO_CONFIG_S_NEEDS_RESET;
}

static void sc_oversize(void)
{
	u64 payload = (uintptr_t)big_buf + VNL_NET_HDR_LEN;
	struct virtq_buf b[3] = {
		{ (uintptr_t)big_buf, VNL_NET_HDR_LEN, 0 },
		{ payload, 32768, 0 },
		{ payload + 32768, VNL_MAX_FRAME_SIZE + 1 - 32768, 0 },
	};

	/* MAX + 1 bytes after the header, over three buffers: dropped. */
	fill_frame(big_buf, next_frame, VNL_MAX_FRAME_SIZE + 1);
	if (!CHECK(virtq_add(&dev.tx, b, 3) >= 0, "TX ring full"))
		return;
	next_frame++;
	tx_inflight++;
	result.frames_sent++;
	expect(VNL_X_TX_OVERSIZE_DROPPED, 1);
	/* Exactly MAX bytes: valid, truncated to our RX buffer. */
	b[0].len = VNL_NET_HDR_LEN + VNL_MAX_FRAME_SIZE;
	fill_frame(big_buf, next_frame, VNL_MAX_FRAME_SIZE);
	if (!CHECK(virtq_add(&dev.tx, b, 1) >= 0, "TX ring full"))
		return;
	expect_rx(next_frame, MIN(VNL_MAX_FRAME_SIZE, frame_size), NO_SLOT);
	expect(VNL_X_TX_PACKETS, 1);
	expect(VNL_X_TX_BYTES, VNL_MAX_FRAME_SIZE);
	next_frame++;
	tx_inflight++;
	result.frames_sent++;
	vdev_publish(&dev, &dev.tx);
	if (drain("oversize"))
		measured_traffic("oversize: traffic after");
}

static void sc_short_tx(void)
{
	u64 a = (uintptr_t)tx_bufs + stride;
	/* Shorter than the 12-byte header. */
	const struct virtq_buf shorter = { (uintptr_t)tx_bufs, 8, 0 };
	/* A device-writable buffer in a TX chain. */
	const struct virtq_buf writable[2] = {
		{ a, VNL_NET_HDR_LEN, 0 },
		{ a + VNL_NET_HDR_LEN, frame_size, VRING_DESC_F_WRITE },
	};
	/* A header outside guest RAM: it must not pass, though never read. */
	const struct virtq_buf outside = {
		params->mem_size + 0x1000, VNL_NET_HDR_LEN + frame_size, 0
	};

	queue_bad_chain(&shorter, 1);
	queue_bad_chain(writable, 2);
	queue_bad_chain(&outside, 1);
	vdev_publish(&dev, &dev.tx);
	if (drain("short-tx"))
		measured_traffic("short-tx: traffic after");
}

/*
 * MSI-X: the CONFIG interrupt of a kick that poisons while the config
 * vector is masked sets its pending bit and raises nothing.
 */
static bool poison_masked(void)
{
	u64 start = ticks;

	while (!vdev_msix_pending(&dev, MSIX_VEC_CONFIG) &&
	       ticks - start < STALL_TICKS)
		sleep_ticks(1);
	return CHECK(vdev_msix_pending(&dev, MSIX_VEC_CONFIG),
		     "no pending bit for the masked config vector") &&
	       CHECK(!(isr_seen & ISR_CONFIG),
		     "a CONFIG interrupt through a masked vector");
}

/* A poisoned queue: CONFIG interrupt, NEEDS_RESET, later kicks ignored. */
static bool poison_tx(void)
{
	u64 irqs;

	settle();
	isr_seen = 0;
	if (dev.msix)
		vdev_msix_mask(&dev, MSIX_VEC_CONFIG, true);
	virtq_set_avail_idx(&dev.tx, dev.tx.avail_idx + QSIZE + 1);
	mb();
	vdev_kick(&dev, VNETLOOP_QUEUE_TX);
	if (dev.msix) {
		if (!poison_masked())
			return false;
		/* Unmasked: the pending message goes out, once. */
		vdev_msix_mask(&dev, MSIX_VEC_CONFIG, false);
	}
	while (!(isr_seen & ISR_CONFIG))
		if (!wait_device("poisoned TX: CONFIG interrupt"))
			return false;
	CHECK(needs_reset(), "no NEEDS_RESET for a poisoned TX queue");
	CHECK(!dev.msix || !vdev_msix_pending(&dev, MSIX_VEC_CONFIG),
	      "the config vector still pending after its interrupt");
	expect(VNL_X_INVALID_AVAIL_IDX_COUNT, 1);
	/* Another kick: nothing may happen. */
	settle();
	irqs = irq_count;
	vdev_kick(&dev, VNETLOOP_QUEUE_TX);
	sleep_ticks(5);
	CHECK(irq_count == irqs, "interrupt after kicking a poisoned queue");
	return CHECK(needs_reset(), "NEEDS_RESET went away without reset");
}

static bool poison_rx(void)
{
	/* Nothing posted, but avail idx claims QSIZE + 1 entries. */
	settle();
	virtq_set_avail_idx(&dev.rx, QSIZE + 1);
	isr_seen = 0;
	if (!CHECK(queue_frame(frame_size, false), "TX ring full"))
		return false;
	expect(VNL_X_TX_DROPPED_RX_POISONED, 1);
	expect(VNL_X_INVALID_AVAIL_IDX_COUNT, 1);
	vdev_publish(&dev, &dev.tx);
	if (!drain("poisoned RX"))
		return false;
	CHECK(isr_seen & ISR_CONFIG,
	      "no CONFIG interrupt for a poisoned RX queue");
	CHECK(needs_reset(), "no NEEDS_RESET for a poisoned RX queue");
	/* TX goes on; poisoning is signalled once. */
	settle();
	isr_seen = 0;
	queue_frame(frame_size, false);
	expect(VNL_X_TX_DROPPED_RX_POISONED, 1);
	vdev_publish(&dev, &dev.tx);
	if (!drain("poisoned RX, second frame"))
		return false;
	settle();
	return CHECK(!(isr_seen & ISR_CONFIG),
		     "second CONFIG interrupt");
}

static void sc_poison(void)
{
	if (!traffic(params->frames, true, "poison: traffic before") ||
	    !poison_tx())
		return;
	vdev_reset(&dev);
	if (!start_device(true) ||
	    !traffic(params->frames, true, "poison: traffic after TX reset"))
		return;
	vdev_reset(&dev);
	if (!start_device(false) || !poison_rx())
		return;
	vdev_reset(&dev);
	if (start_device(true))
		measured_traffic("poison: traffic after RX reset");
}

static void sc_rx_starve(void)
{
	if (!traffic(params->frames, false, "rx-starve: no RX buffers"))
		return;
	/* One buffer for three frames in one notify: one arrives. */
	if (!post_rx(1))
		return;
	queue_frame(frame_size, true);
	queue_frame(frame_size, false);
	queue_frame(frame_size, false);
	expect(VNL_X_TX_DROPPED_NO_RX_BUFFER, 2);
	vdev_publish(&dev, &dev.tx);
	if (!drain("rx-starve: one buffer") || !post_rx(QSIZE - 1))
		return;
	measured_traffic("rx-starve: traffic after");
}

void scenario_run(u64 heap)
{
	u64 need;

	frame_size = params->frame_size;
	stride = ALIGN_UP(VNL_NET_HDR_LEN + frame_size, 64);
	rings = (u8 *)(uintptr_t)heap;
	rx_bufs = rings + (u64)vdev_rings() * VIRTQ_RING_BYTES;
	tx_bufs = rx_bufs + (u64)QSIZE * stride;
	big_buf = tx_bufs + (u64)QSIZE * stride;
	need = (uintptr_t)big_buf +
	       ALIGN_UP(VNL_NET_HDR_LEN + VNL_MAX_FRAME_SIZE + 1, 4096);
	if (!CHECK(need <= params->mem_size,
		   "guest memory too small: %llu MiB needed",
		   (unsigned long long)(need >> 20) + 1))
		return;
	/* Multiqueue traffic posts its own RX buffers, one per pair. */
	if (!start_device(params->scenario != VNL_SC_RX_STARVE &&
			  !(params->scenario == VNL_SC_TRAFFIC &&
			    params->queue_pairs > 1)))
		return;
	result.features = dev.features;
	switch (params->scenario) {
	case VNL_SC_TRAFFIC:
		if (dev.pairs > 1)
			mq_measured_traffic();
		else
			measured_traffic("traffic");
		break;
	case VNL_SC_OVERSIZE:
		sc_oversize();
		break;
	case VNL_SC_SHORT_TX:
		sc_short_tx();
		break;
	case VNL_SC_POISON:
		sc_poison();
		break;
	case VNL_SC_RX_STARVE:
		sc_rx_starve();
		break;
	}
	CHECK(!tx_inflight && !exp_count,
	      "ended with %u TX chains and %u RX frames outstanding",
	      tx_inflight, exp_count);
}
