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
 *              interrupt, later kicks ignored); reset and traffic; RX avail
 *              idx too far ahead (TX goes on, frames dropped); reset, traffic
 *   rx-starve  N frames with no RX buffer; one buffer for three frames;
 *              then traffic
 */
#include "virtio.h"

#define EXPECT_MAX	1024

static struct vdev dev;
static u8 *rings, *rx_bufs, *tx_bufs, *big_buf;
static u32 stride, frame_size;
static u32 next_frame;
static u32 tx_inflight;

/* Frames that must arrive, in order: pattern number and delivered length. */
static struct { u32 frame, len; } expq[EXPECT_MAX];
static u32 exp_head, exp_count;

static u8 pattern(u32 frame, u32 j)
{
	return (u8)(frame * 0x9d + (frame >> 8) + j * 0x3b + (j >> 8));
}

static void fill_frame(u8 *p, u32 frame, u32 len)
{
	memset(p, 0, NET_HDR_LEN);
	for (u32 j = 0; j < len; j++)
		p[NET_HDR_LEN + j] = pattern(frame, j);
}

static void expect(enum vnl_expect c, u64 v)
{
	result.expect[c] += v;
}

static void expect_rx(u32 frame, u32 len)
{
	u32 tail = (exp_head + exp_count) % EXPECT_MAX;

	if (!CHECK(exp_count < EXPECT_MAX, "expect queue full"))
		return;
	expq[tail].frame = frame;
	expq[tail].len = len;
	exp_count++;
	expect(VNL_X_RX_PACKETS, 1);
	expect(VNL_X_RX_BYTES, len);
}

static void verify_rx(const u8 *buf, u32 len)
{
	u32 frame, want;
	bool ok = true;

	result.frames_received++;
	if (!exp_count) {
		result.mismatches++;
		fail("frame %llu: not expected (length %u)",
		     (unsigned long long)result.frames_received, len);
		return;
	}
	frame = expq[exp_head].frame;
	want = expq[exp_head].len;
	exp_head = (exp_head + 1) % EXPECT_MAX;
	exp_count--;
	if (len != NET_HDR_LEN + want) {
		result.mismatches++;
		fail("frame %u: used length %u, want %u", frame, len,
		     NET_HDR_LEN + want);
		return;
	}
	/* All zero but num_buffers = 1 (le16 at offset 10). */
	for (u32 j = 0; j < NET_HDR_LEN; j++)
		ok &= buf[j] == (j == 10 ? 1 : 0);
	if (!ok) {
		result.mismatches++;
		fail("frame %u: bad virtio-net header", frame);
		return;
	}
	for (u32 j = 0; j < want; j++) {
		if (buf[NET_HDR_LEN + j] != pattern(frame, j)) {
			result.mismatches++;
			fail("frame %u: byte %u is 0x%x, want 0x%x", frame, j,
			     buf[NET_HDR_LEN + j], pattern(frame, j));
			return;
		}
	}
	result.frames_verified++;
	result.bytes_verified += want;
}

static bool post_rx(u32 n)
{
	for (u32 i = 0; i < n; i++) {
		u32 l = NET_HDR_LEN + frame_size;
		u16 f = DESC_F_WRITE;
		u64 a;

		if (!CHECK(dev.rx.nfree, "RX ring full"))
			return false;
		a = (uintptr_t)rx_bufs + (u64)vq_next_free(&dev.rx) * stride;
		if (!CHECK(vq_add(&dev.rx, &a, &l, &f, 1) >= 0, "RX ring full"))
			return false;
	}
	vq_publish(&dev, &dev.rx);
	return true;
}

static void reap(void)
{
	u32 id, len, n;
	bool more;

	do {
		while (vq_get_used(&dev.tx, &id, &len)) {
			CHECK(len == 0, "TX used length %u, want 0", len);
			CHECK(tx_inflight > 0, "TX completion with none queued");
			tx_inflight--;
		}
		n = 0;
		while (vq_get_used(&dev.rx, &id, &len)) {
			u64 a;
			u32 l = NET_HDR_LEN + frame_size;
			u16 f = DESC_F_WRITE;

			if (id >= QSIZE)
				continue;
			a = (uintptr_t)rx_bufs + (u64)id * stride;
			verify_rx((const u8 *)(uintptr_t)a, len);
			/* Recycle: the freed descriptor is the next one out. */
			CHECK(vq_add(&dev.rx, &a, &l, &f, 1) == (int)id,
			      "RX recycle took another descriptor");
			n++;
		}
		if (n)
			vq_publish(&dev, &dev.rx);
		/* Both re-armed before deciding: no short-circuit. */
		more = vq_enable_cb(&dev, &dev.tx);
		more = vq_enable_cb(&dev, &dev.rx) || more;
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
	u32 l = NET_HDR_LEN + len;
	u16 f = 0;
	u8 *buf;
	u64 a;

	if (dev.tx.nfree == 0)
		return false;
	/* One buffer per descriptor: the descriptor index picks it. */
	buf = tx_bufs + (u64)vq_next_free(&dev.tx) * stride;
	a = (uintptr_t)buf;
	fill_frame(buf, next_frame, len);
	vq_add(&dev.tx, &a, &l, &f, 1);
	if (deliver)
		expect_rx(next_frame, MIN(len, frame_size));
	expect(VNL_X_TX_PACKETS, 1);
	expect(VNL_X_TX_BYTES, len);
	next_frame++;
	tx_inflight++;
	result.frames_sent++;
	return true;
}

/* Queue a chain the device must reject as tx_chain_invalid. */
static void queue_bad_chain(const u64 *a, const u32 *l, const u16 *f,
			    unsigned int n)
{
	if (!CHECK(vq_add(&dev.tx, a, l, f, n) >= 0, "TX ring full"))
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
			vq_publish(&dev, &dev.tx);
			queued += want;
			continue;
		}
		if (!wait_device(what))
			return false;
		reap();
	}
	return drain(what);
}

static bool measured_traffic(const char *what)
{
	bool ok;

	ucall(VNL_UCALL_MARK, VNL_MARK_TRAFFIC_START, 0);
	ok = traffic(params->frames, true, what);
	ucall(VNL_UCALL_MARK, VNL_MARK_TRAFFIC_END, 0);
	return ok;
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
	u32 st = vdev_read(&dev, R_STATUS);

	if (st & ST_NEEDS_RESET)
		result.needs_reset_seen++;
	return st & ST_NEEDS_RESET;
}

static void sc_oversize(void)
{
	u8 *hdr = big_buf, *payload = big_buf + NET_HDR_LEN;
	u64 a[3] = { (uintptr_t)hdr, (uintptr_t)payload,
		     (uintptr_t)payload + 32768 };
	u32 l[3] = { NET_HDR_LEN, 32768, MAX_FRAME + 1 - 32768 };
	u16 f[3] = { 0, 0, 0 };

	/* MAX + 1 bytes after the header, over three buffers: dropped. */
	fill_frame(big_buf, next_frame, MAX_FRAME + 1);
	if (!CHECK(vq_add(&dev.tx, a, l, f, 3) >= 0, "TX ring full"))
		return;
	next_frame++;
	tx_inflight++;
	result.frames_sent++;
	expect(VNL_X_TX_OVERSIZE_DROPPED, 1);
	/* Exactly MAX bytes: valid, truncated to our RX buffer. */
	a[0] = (uintptr_t)big_buf;
	l[0] = NET_HDR_LEN + MAX_FRAME;
	fill_frame(big_buf, next_frame, MAX_FRAME);
	if (!CHECK(vq_add(&dev.tx, a, l, f, 1) >= 0, "TX ring full"))
		return;
	expect_rx(next_frame, MIN(MAX_FRAME, frame_size));
	expect(VNL_X_TX_PACKETS, 1);
	expect(VNL_X_TX_BYTES, MAX_FRAME);
	next_frame++;
	tx_inflight++;
	result.frames_sent++;
	vq_publish(&dev, &dev.tx);
	if (drain("oversize"))
		measured_traffic("oversize: traffic after");
}

static void sc_short_tx(void)
{
	u64 a[2];
	u32 l[2];
	u16 f[2];

	/* Shorter than the 12-byte header. */
	a[0] = (uintptr_t)tx_bufs;
	l[0] = 8;
	f[0] = 0;
	queue_bad_chain(a, l, f, 1);
	/* A device-writable buffer in a TX chain. */
	a[0] = (uintptr_t)tx_bufs + stride;
	l[0] = NET_HDR_LEN;
	f[0] = 0;
	a[1] = a[0] + NET_HDR_LEN;
	l[1] = frame_size;
	f[1] = DESC_F_WRITE;
	queue_bad_chain(a, l, f, 2);
	/* A header outside guest RAM: it must not pass, though never read. */
	a[0] = params->mem_size + 0x1000;
	l[0] = NET_HDR_LEN + frame_size;
	f[0] = 0;
	queue_bad_chain(a, l, f, 1);
	vq_publish(&dev, &dev.tx);
	if (drain("short-tx"))
		measured_traffic("short-tx: traffic after");
}

/* A poisoned queue: CONFIG interrupt, NEEDS_RESET, later kicks ignored. */
static bool poison_tx(void)
{
	u64 irqs;

	settle();
	isr_seen = 0;
	dev.tx.avail->idx = dev.tx.avail_idx + QSIZE + 1;
	mb();
	vdev_write(&dev, R_QUEUE_NOTIFY, 1);
	result.tx_kicks++;
	while (!(isr_seen & ISR_CONFIG))
		if (!wait_device("poisoned TX: CONFIG interrupt"))
			return false;
	CHECK(needs_reset(), "no NEEDS_RESET for a poisoned TX queue");
	expect(VNL_X_INVALID_AVAIL_IDX_COUNT, 1);
	/* Another kick: nothing may happen. */
	settle();
	irqs = irq_count;
	vdev_write(&dev, R_QUEUE_NOTIFY, 1);
	result.tx_kicks++;
	sleep_ticks(5);
	CHECK(irq_count == irqs, "interrupt after kicking a poisoned queue");
	return CHECK(needs_reset(), "NEEDS_RESET went away without reset");
}

static bool poison_rx(void)
{
	/* Nothing posted, but avail idx claims QSIZE + 1 entries. */
	settle();
	dev.rx.avail->idx = QSIZE + 1;
	isr_seen = 0;
	if (!CHECK(queue_frame(frame_size, false), "TX ring full"))
		return false;
	expect(VNL_X_TX_DROPPED_RX_POISONED, 1);
	expect(VNL_X_INVALID_AVAIL_IDX_COUNT, 1);
	vq_publish(&dev, &dev.tx);
	if (!drain("poisoned RX"))
		return false;
	CHECK(isr_seen & ISR_CONFIG, "no CONFIG interrupt for a poisoned RX queue");
	CHECK(needs_reset(), "no NEEDS_RESET for a poisoned RX queue");
	/* TX goes on; poisoning is signalled once. */
	settle();
	isr_seen = 0;
	queue_frame(frame_size, false);
	expect(VNL_X_TX_DROPPED_RX_POISONED, 1);
	vq_publish(&dev, &dev.tx);
	if (!drain("poisoned RX, second frame"))
		return false;
	settle();
	return CHECK(!(isr_seen & ISR_CONFIG), "second CONFIG interrupt");
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
	vq_publish(&dev, &dev.tx);
	if (!drain("rx-starve: one buffer") || !post_rx(QSIZE - 1))
		return;
	measured_traffic("rx-starve: traffic after");
}

void scenario_run(u64 heap)
{
	u64 need;

	frame_size = params->frame_size;
	stride = ALIGN_UP(NET_HDR_LEN + frame_size, 64);
	rings = (u8 *)(uintptr_t)heap;
	rx_bufs = rings + 6 * 4096;
	tx_bufs = rx_bufs + (u64)QSIZE * stride;
	big_buf = tx_bufs + (u64)QSIZE * stride;
	need = (uintptr_t)big_buf + ALIGN_UP(NET_HDR_LEN + MAX_FRAME + 1, 4096);
	if (!CHECK(need <= params->mem_size,
		   "guest memory too small: %llu MiB needed",
		   (unsigned long long)(need >> 20) + 1))
		return;
	if (!start_device(params->scenario != VNL_SC_RX_STARVE))
		return;
	result.features = dev.features;
	switch (params->scenario) {
	case VNL_SC_TRAFFIC:
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
