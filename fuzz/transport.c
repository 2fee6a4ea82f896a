// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the register files of the two transports: the
 * virtio-pci function behind configuration mechanism #1 (user/dev/pci*.c)
 * and the virtio-mmio window (user/dev/mmio.c), over the status state
 * machine they share (user/dev/virtio_dev.c). The input is a hostile
 * guest's accesses, through the entry points the VMM calls: port I/O at
 * 0xCF8..0xCFF, BAR and window accesses of 1..8 bytes anywhere in and just
 * past the registers, and the backend's interrupts. A minimal backend
 * behind the transport checks what it is handed; after every access the
 * registers are read back (reads without side effects only) and checked
 * against the rules of Documentation/vmm.rst, written here without the
 * transports' tables.
 *
 * Input: byte 0 picks the transport (bit 0) and the device's config size;
 * byte 1 the features asked for; then one op per byte, each with its own
 * arguments (missing bytes read 0). `vnl_fuzz_transport FILE` replays;
 * VNL_FUZZ_TRACE=1 narrates.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/check.h"
#include "user/dev/mmio.h"
#include "user/dev/pci.h"
#include "user/dev/pci_bus.h"

#define MAX_OPS		256
#define ST_ACK		VIRTIO_CONFIG_S_ACKNOWLEDGE
#define ST_DRV		VIRTIO_CONFIG_S_DRIVER
#define ST_FOK		VIRTIO_CONFIG_S_FEATURES_OK
#define ST_DOK		VIRTIO_CONFIG_S_DRIVER_OK
#define ST_PHASES	(ST_ACK | ST_DRV | ST_FOK | ST_DOK)
#define F_V1		(1ULL << VIRTIO_F_VERSION_1)
#define F_AP		(1ULL << VIRTIO_F_ACCESS_PLATFORM)
#define ISR_BITS	(VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG)
#define CC(field)	offsetof(struct virtio_pci_common_cfg, field)
#define CC_SIZE		sizeof(struct virtio_pci_common_cfg)
/* The device fuzzed has one queue pair: two queues, three vectors. */
#define NR_VECTORS	VNL_PCI_VECTORS_OF(VNETLOOP_NUM_QUEUES)
#define MSIX_TABLE_LEN	(NR_VECTORS * PCI_MSIX_ENTRY_SIZE)

static bool trace;

/* ---- the input ---- */

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t get8(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint64_t getn(struct input *in, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes; i++)
		v |= (uint64_t)get8(in) << (8 * i);
	return v;
}

/* ---- the backend: checks what the transport hands it ---- */

struct tbe {
	struct vnl_backend be;
	const struct vnl_vdev *dev;	/* the transport's, for checks */
	uint64_t asked;			/* what the VMM asks for */
	uint64_t offered;		/* what the guest must see */
	uint32_t phase;			/* the status steps taken */
	uint64_t accepted;		/* the features at FEATURES_OK */
	bool started;			/* start called, no reset since */
	bool refused;			/* start refused: CONFIG raised */
	int step_ret, start_ret;
	uint32_t isr, status;		/* what the backend shows */
	unsigned long notifies, raises;
	struct vnl_queue_cfg q[VNETLOOP_NUM_QUEUES];	/* at start */
	uint8_t config[8];
};

static struct tbe tb;

static uint32_t next_phase(uint32_t cur)
{
	if (!(cur & ST_ACK))
		return ST_ACK;
	if (!(cur & ST_DRV))
		return ST_DRV;
	if (!(cur & ST_FOK))
		return ST_FOK;
	return ST_DOK;
}

static int tbe_set_status(struct vnl_backend *b, uint32_t status,
			  uint64_t features)
{
	(void)b;
	CHECK(!tb.started);
	/* One phase bit more than the last step taken, never out of order. */
	CHECK(status == (tb.phase | next_phase(tb.phase)));
	CHECK(status != (tb.phase | ST_DOK));
	if (status & ST_FOK) {
		CHECK(!(features & ~tb.offered));
		CHECK(features & F_V1);
		tb.accepted = features;
	}
	if (!tb.step_ret)
		tb.phase = status;
	return tb.step_ret;
}

static int tbe_start(struct vnl_backend *b, uint64_t features,
		     const struct vnl_queue_cfg *q)
{
	(void)b;
	TRACE("  start (ret %d)\n", tb.start_ret);
	CHECK(!tb.started);
	CHECK(tb.phase == (ST_ACK | ST_DRV | ST_FOK));
	CHECK((tb.dev->status & ST_PHASES) == ST_PHASES);
	CHECK(!(tb.dev->status & VIRTIO_CONFIG_S_FAILED));
	CHECK(features == tb.accepted);
	for (unsigned int i = 0; i < VNETLOOP_NUM_QUEUES; i++) {
		if (!q[i].ready)
			continue;
		CHECK(q[i].num && q[i].num <= VNETLOOP_QUEUE_SIZE_MAX);
		CHECK(!(q[i].num & (q[i].num - 1)));
	}
	memcpy(tb.q, q, sizeof(tb.q));
	tb.started = true;
	tb.refused = tb.start_ret != 0;
	return tb.start_ret;
}

static void tbe_reset(struct vnl_backend *b)
{
	(void)b;
	tb.started = tb.refused = false;
	tb.raises = 0;
	tb.phase = 0;
	tb.isr = tb.status = 0;
}

static uint32_t tbe_isr_read(struct vnl_backend *b)
{
	(void)b;
	return tb.isr;
}

static void tbe_isr_ack(struct vnl_backend *b, uint32_t bits)
{
	(void)b;
	CHECK(bits && !(bits & ~ISR_BITS));
	tb.isr &= ~bits;
}

static uint32_t tbe_status(struct vnl_backend *b)
{
	(void)b;
	CHECK(tb.started);
	return tb.status;
}

static int tbe_config(struct vnl_backend *b, uint32_t off, void *buf,
		      uint32_t len)
{
	(void)b;
	CHECK(len && off < tb.be.config_size &&
	      len <= tb.be.config_size - off);
	memcpy(buf, tb.config + off, len);
	return 0;
}

static void tbe_notify(struct vnl_backend *b, unsigned int q)
{
	(void)b;
	CHECK(q == VNETLOOP_QUEUE_TX);
	CHECK(tb.started);
	tb.notifies++;
}

static const struct vnl_backend_ops tbe_ops = {
	.name = "fuzz", .set_status = tbe_set_status, .start = tbe_start,
	.reset = tbe_reset, .isr_read = tbe_isr_read,
	.isr_ack = tbe_isr_ack, .status = tbe_status,
	.config = tbe_config, .notify = tbe_notify,
};

/* backend.c's, which would bring the engine: only the refusal raises. */
void vnl_backend_raise(struct vnl_backend *b, uint64_t vqs, bool config)
{
	CHECK(b == &tb.be && !vqs && config);
	/* Once per refusal: a reset comes before the next start. */
	CHECK(tb.refused && !tb.raises);
	tb.raises++;
}

/* Byte 0 and 1: the config size, the features asked for and offered. */
static void tbe_init(struct input *in)
{
	uint8_t a = get8(in), f = get8(in);
	uint64_t asked = ~0ULL;

	memset(&tb, 0, sizeof(tb));
	tb.be.ops = &tbe_ops;
	for (unsigned int q = 0; q < VNL_MAX_QUEUES; q++)
		tb.be.kick_fd[q] = -1;
	tb.be.max_pairs = 1;
	tb.be.call_fd[0] = tb.be.call_fd[1] = tb.be.config_fd = -1;
	tb.be.dev_id = -1;
	tb.be.features = VNETLOOP_FEATURES;
	if (f & 1)
		tb.be.features &= ~F_V1;
	if (f & 2)
		asked &= ~(1ULL << VIRTIO_RING_F_EVENT_IDX);
	if (f & 4)
		asked &= ~F_AP;
	tb.be.config_size = (a >> 1) % (sizeof(tb.config) + 1);
	for (unsigned int i = 0; i < sizeof(tb.config); i++)
		tb.config[i] = 0xa0 + i;
	tb.asked = asked;
	tb.offered = asked & tb.be.features & ~F_AP;
}

/* Backend knobs: refuse steps, raise ISR bits, ask for a reset. */
static void tbe_op(struct input *in)
{
	uint8_t k = get8(in);

	tb.step_ret = k & 1 ? -EIO : 0;
	tb.start_ret = k & 2 ? -EINVAL : 0;
	tb.isr = k & 4 ? get8(in) : tb.isr;
	if ((k & 8) && tb.started)
		tb.status = get8(in);
	TRACE("  backend 0x%02x isr 0x%x status 0x%x\n", k, tb.isr, tb.status);
}

static bool all_bytes(const uint8_t *d, uint32_t len, uint8_t v)
{
	for (uint32_t i = 0; i < len; i++)
		if (d[i] != v)
			return false;
	return true;
}

static uint64_t le(const uint8_t *d, uint32_t len)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < len; i++)
		v |= (uint64_t)d[i] << (8 * i);
	return v;
}

/* A status the state machine may show: its phases in order. */
static void check_status(uint32_t st)
{
	uint32_t ph = st & ST_PHASES;

	CHECK(!(st & ~(ST_PHASES | VIRTIO_CONFIG_S_FAILED |
		       VIRTIO_CONFIG_S_NEEDS_RESET)));
	CHECK(ph == 0 || ph == ST_ACK || ph == (ST_ACK | ST_DRV) ||
	      ph == (ST_ACK | ST_DRV | ST_FOK) || ph == ST_PHASES);
	/* DRIVER_OK is there exactly while the backend has the rings. */
	CHECK(!!(st & ST_DOK) == tb.started);
	if (st & VIRTIO_CONFIG_S_NEEDS_RESET)
		CHECK(st & ST_DOK);
	if (tb.refused)
		CHECK(st & VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* Device config bytes [off, off + len): the backend's, zeros after. */
static void check_devcfg(uint64_t off, const uint8_t *d, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		CHECK(d[i] == (off + i < tb.be.config_size ?
			       tb.config[off + i] : 0));
}

/* ---- virtio-pci ---- */

static struct vnl_pci pci;
static struct vnl_pci_bus bus;
static uint8_t cfg0[VNL_PCI_CFG_SIZE];	/* the image at power-on */
static unsigned long msis, intxs;

static uint16_t msix_flags(void)
{
	return pci.cfg[VNL_PCI_CAP_MSIX + PCI_MSIX_FLAGS] |
	       pci.cfg[VNL_PCI_CAP_MSIX + PCI_MSIX_FLAGS + 1] << 8;
}

static unsigned long bar_calls, irq_calls;

static void ops_bars(void *ctx)
{
	(void)ctx;
	bar_calls++;
}

static void ops_irqs(void *ctx)
{
	(void)ctx;
	irq_calls++;
}

/* What the VMM was told last: where the BARs are, where sources go. */
struct told {
	bool placed[VNL_PCI_NR_BARS];
	uint64_t addr[VNL_PCI_NR_BARS], size[VNL_PCI_NR_BARS];
	struct vnl_pci_route r[VNL_PCI_NR_SRCS];
	unsigned long bar_calls, irq_calls;
};

static struct told told;

static void told_now(struct told *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned int b = 0; b < VNL_PCI_NR_BARS; b++)
		t->placed[b] = vnl_pci_bar(&pci, b, &t->addr[b], &t->size[b]);
	for (unsigned int s = 0; s < VNL_PCI_NR_SRCS; s++)
		vnl_pci_route(&pci, s, &t->r[s]);
	t->bar_calls = bar_calls;
	t->irq_calls = irq_calls;
}

/* A BAR that moved, or a route that changed, was reported. */
static void check_told(void)
{
	struct told now;

	told_now(&now);
	if (memcmp(now.placed, told.placed, sizeof(now.placed)) ||
	    memcmp(now.addr, told.addr, sizeof(now.addr)))
		CHECK(now.bar_calls != told.bar_calls);
	if (memcmp(now.r, told.r, sizeof(now.r)))
		CHECK(now.irq_calls != told.irq_calls);
	told = now;
}

/* A message goes out only for an enabled, unmasked vector that holds it. */
static void ops_msi(void *ctx, uint64_t addr, uint32_t data)
{
	bool found = false;

	(void)ctx;
	CHECK(msix_flags() & PCI_MSIX_FLAGS_ENABLE);
	CHECK(!(msix_flags() & PCI_MSIX_FLAGS_MASKALL));
	for (unsigned int v = 0; v < NR_VECTORS; v++)
		if (pci.msix[v].addr == addr && pci.msix[v].data == data &&
		    !(pci.msix[v].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT))
			found = true;
	CHECK(found);
	msis++;
}

static void ops_intx(void *ctx)
{
	(void)ctx;
	CHECK(!(msix_flags() & PCI_MSIX_FLAGS_ENABLE));
	CHECK(!((pci.cfg[PCI_COMMAND + 1] << 8) & PCI_COMMAND_INTX_DISABLE));
	intxs++;
}

static const struct vnl_pci_ops pci_ops = {
	.bars = ops_bars, .irqs = ops_irqs, .msi = ops_msi, .intx = ops_intx,
};

static void bar_rd(unsigned int bar, uint64_t off, void *d, uint32_t len)
{
	vnl_pci_bar_read(&pci, bar, off, d, len);
}

static uint64_t bar_get(unsigned int bar, uint64_t off, uint32_t len)
{
	uint8_t d[8];

	bar_rd(bar, off, d, len);
	return le(d, len);
}

static uint32_t cfg_get(uint32_t off, uint32_t len)
{
	uint8_t d[4];

	vnl_pci_cfg_read(&pci, off, d, len);
	return le(d, len);
}

/* The common config fields at their widths (the spec's structure). */
static const struct { uint8_t off, len; } fields[] = {
	{ CC(device_feature_select), 4 }, { CC(device_feature), 4 },
	{ CC(guest_feature_select), 4 }, { CC(guest_feature), 4 },
	{ CC(msix_config), 2 }, { CC(num_queues), 2 },
	{ CC(device_status), 1 }, { CC(config_generation), 1 },
	{ CC(queue_select), 2 }, { CC(queue_size), 2 },
	{ CC(queue_msix_vector), 2 }, { CC(queue_enable), 2 },
	{ CC(queue_notify_off), 2 }, { CC(queue_desc_lo), 8 },
	{ CC(queue_avail_lo), 8 }, { CC(queue_used_lo), 8 },
};
#define NR_FIELDS	(sizeof(fields) / sizeof(fields[0]))

static bool is_field(uint64_t off, uint32_t len)
{
	for (unsigned int i = 0; i < NR_FIELDS; i++) {
		if (off == fields[i].off && len == fields[i].len)
			return true;
		if (fields[i].len == 8 && len == 4 &&
		    (off == fields[i].off || off == fields[i].off + 4u))
			return true;
	}
	return false;
}

static bool vector_ok(uint64_t v)
{
	return v < NR_VECTORS || v == VIRTIO_MSI_NO_VECTOR;
}

static bool is_table_field(uint64_t off, uint32_t len)
{
	return off < MSIX_TABLE_LEN &&
	       ((len == 4 && !(off % 4)) ||
		(len == 8 && !(off % PCI_MSIX_ENTRY_SIZE)));
}

/* Everything a driver can read back from BAR0 without side effects. */
struct pci_snap {
	uint64_t common[NR_FIELDS];
	uint32_t table[MSIX_TABLE_LEN / 4];
	uint64_t pba;
};

static void pci_snap(struct pci_snap *s)
{
	for (unsigned int i = 0; i < NR_FIELDS; i++)
		s->common[i] = bar_get(0, fields[i].off, fields[i].len);
	for (unsigned int i = 0; i < MSIX_TABLE_LEN / 4; i++)
		s->table[i] = bar_get(1, 4 * i, 4);
	s->pba = bar_get(1, VNL_PCI_MSIX_PBA_OFF, 8);
}

/*
 * The driver's features: 0 until DRIVER, what the backend got once
 * FEATURES_OK is set (no write takes after it).
 */
static void check_pci_features(uint32_t st)
{
	uint64_t sel = bar_get(0, CC(guest_feature_select), 4);
	uint64_t f = bar_get(0, CC(guest_feature), 4);

	if (sel > 1 || !(st & ST_DRV))
		CHECK(f == 0);
	else if (st & ST_FOK)
		CHECK(f == (uint32_t)(tb.accepted >> (32 * sel)));
}

/*
 * Queue registers: at their reset values before FEATURES_OK, what the
 * backend was handed after DRIVER_OK (no write takes in between).
 */
static void check_pci_queue(uint32_t st, uint64_t sel)
{
	uint64_t num = bar_get(0, CC(queue_size), 2);
	uint64_t en = bar_get(0, CC(queue_enable), 2);
	uint64_t desc = bar_get(0, CC(queue_desc_lo), 8);
	uint64_t avail = bar_get(0, CC(queue_avail_lo), 8);
	uint64_t used = bar_get(0, CC(queue_used_lo), 8);
	const struct vnl_queue_cfg *q = &tb.q[sel];

	if (!(st & ST_FOK)) {
		CHECK(num == VNETLOOP_QUEUE_SIZE_MAX && !en);
		CHECK(!desc && !avail && !used);
	} else if (st & ST_DOK) {
		CHECK(en == q->ready && desc == q->desc);
		CHECK(avail == q->avail && used == q->used);
		CHECK(num == (q->num ? q->num : VNETLOOP_QUEUE_SIZE_MAX));
	}
}

/* What holds after every step, read through the registers. */
static void pci_check(void)
{
	uint16_t flags = cfg_get(VNL_PCI_CAP_MSIX + PCI_MSIX_FLAGS, 2);
	uint64_t sel = bar_get(0, CC(queue_select), 2), pba;
	uint64_t dsel = bar_get(0, CC(device_feature_select), 4);
	uint64_t feat = bar_get(0, CC(device_feature), 4);

	uint32_t st = bar_get(0, CC(device_status), 1);

	check_status(st);
	CHECK(bar_get(0, CC(num_queues), 2) == VNETLOOP_NUM_QUEUES);
	CHECK(bar_get(0, CC(config_generation), 1) == 0);
	CHECK(vector_ok(bar_get(0, CC(msix_config), 2)));
	CHECK(feat == (dsel > 1 ? 0 : (uint32_t)(tb.offered >> (32 * dsel))));
	check_pci_features(st);
	if (sel < VNETLOOP_NUM_QUEUES)
		check_pci_queue(st, sel);
	if (sel < VNETLOOP_NUM_QUEUES) {
		uint64_t num = bar_get(0, CC(queue_size), 2);

		CHECK(num && num <= VNETLOOP_QUEUE_SIZE_MAX &&
		      !(num & (num - 1)));
		CHECK(bar_get(0, CC(queue_enable), 2) <= 1);
		CHECK(bar_get(0, CC(queue_notify_off), 2) == sel);
		CHECK(vector_ok(bar_get(0, CC(queue_msix_vector), 2)));
	} else {
		/* No such queue: size 0, no vector, nothing else. */
		CHECK(bar_get(0, CC(queue_size), 2) == 0);
		CHECK(bar_get(0, CC(queue_msix_vector), 2) ==
		      VIRTIO_MSI_NO_VECTOR);
		CHECK(bar_get(0, CC(queue_enable), 2) == 0);
		CHECK(bar_get(0, CC(queue_desc_lo), 8) == 0);
	}
	pba = bar_get(1, VNL_PCI_MSIX_PBA_OFF, 8);
	CHECK(!(pba >> NR_VECTORS));
	for (unsigned int v = 0; v < NR_VECTORS; v++) {
		uint32_t ctrl = bar_get(1, v * PCI_MSIX_ENTRY_SIZE +
					PCI_MSIX_ENTRY_VECTOR_CTRL, 4);

		CHECK(!(ctrl & ~PCI_MSIX_ENTRY_CTRL_MASKBIT));
		/* An unmasked vector has sent what was pending. */
		if ((flags & PCI_MSIX_FLAGS_ENABLE) &&
		    !(flags & PCI_MSIX_FLAGS_MASKALL) && !ctrl)
			CHECK(!(pba & (1ULL << v)));
	}
}

/* The configuration space bits a driver may change (the decisions). */
static uint8_t cfg_writable(uint32_t off)
{
	uint32_t win = VNL_PCI_CAP_PCICFG;

	if (off == PCI_COMMAND)
		return PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (off == PCI_COMMAND + 1)
		return PCI_COMMAND_INTX_DISABLE >> 8;
	if (off == PCI_BASE_ADDRESS_0 + 1)
		return 0xc0;	/* 16 KiB */
	if (off == PCI_BASE_ADDRESS_1 + 1)
		return 0xf0;	/* 4 KiB */
	if ((off >= PCI_BASE_ADDRESS_0 + 2 && off < PCI_BASE_ADDRESS_0 + 4) ||
	    (off >= PCI_BASE_ADDRESS_1 + 2 && off < PCI_BASE_ADDRESS_1 + 4) ||
	    off == PCI_INTERRUPT_LINE || off == win + VIRTIO_PCI_CAP_BAR ||
	    (off >= win + VIRTIO_PCI_CAP_OFFSET &&
	     off < win + sizeof(struct virtio_pci_cfg_cap)))
		return 0xff;
	if (off == VNL_PCI_CAP_MSIX + PCI_MSIX_FLAGS + 1)
		return (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8;
	return 0;
}

/* Read-only bits keep their power-on values. */
static void check_cfg_bytes(uint32_t off, const uint8_t *d, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++) {
		uint8_t w = cfg_writable(off + i);

		CHECK((d[i] & ~w) == (cfg0[off + i] & ~w));
	}
}

static uint32_t cf8;	/* what the harness last put in 0xCF8 */

static void port(uint16_t p, bool out, uint8_t *d, uint32_t size)
{
	CHECK(vnl_pci_bus_port(p));
	vnl_pci_bus_io(&bus, p, out, d, size);
}

/* A port access, and what a read must show. */
static void pci_port(uint16_t p, bool out, uint32_t v, uint32_t size)
{
	unsigned int slot = cf8 >> 11 & 0x1f;
	uint32_t reg = (cf8 & 0xfc) + (p - VNL_PCI_CONFIG_DATA);
	bool none = !(cf8 & VNL_PCI_CFG_ENABLE) || (cf8 >> 16 & 0xff) ||
		    (cf8 >> 8 & 7) || slot > VNL_PCI_NIC_SLOT;
	uint8_t d[4];

	TRACE("  port 0x%x %s %u 0x%x (cf8 0x%08x)\n", p, out ? "out" : "in",
	      size, v, cf8);
	memcpy(d, &v, 4);
	port(p, out, d, size);
	if (p < VNL_PCI_CONFIG_DATA) {
		if (out && p == VNL_PCI_CONFIG_ADDRESS && size == 4)
			cf8 = v;
		if (!out && (p != VNL_PCI_CONFIG_ADDRESS || size != 4))
			CHECK(all_bytes(d, size, 0xff));
		if (!out && p == VNL_PCI_CONFIG_ADDRESS && size == 4)
			CHECK(le(d, 4) == cf8);	/* reads as written */
		return;
	}
	if (out)
		return;
	if ((p - VNL_PCI_CONFIG_DATA) + size > 4 || none) {
		CHECK(all_bytes(d, size, 0xff));
	} else if (slot == 0) {
		/* The host bridge: its ids and class, zeros elsewhere. */
		if (reg == 0 && size == 4)
			CHECK(le(d, 4) == 0x00081b36);
		if (reg == PCI_CLASS_DEVICE && size == 2)
			CHECK(le(d, 2) == 0x0600);
		if (reg >= 0x40)
			CHECK(all_bytes(d, size, 0));
	} else {
		check_cfg_bytes(reg, d, size);
	}
}

static const uint32_t sizes[4] = { 1, 2, 4, 4 };

/* Offsets worth trying in a BAR: each register's place, and its edges. */
static uint64_t bar_off(struct input *in, unsigned int bar)
{
	static const uint32_t bar0[] = {
		VNL_PCI_COMMON_OFF, VNL_PCI_ISR_OFF, VNL_PCI_DEVCFG_OFF,
		VNL_PCI_NOTIFY_OFF, CC_SIZE, VNL_PCI_VIRTIO_SIZE,
	};
	static const uint32_t bar1[] = {
		VNL_PCI_MSIX_TABLE_OFF, VNL_PCI_MSIX_TABLE_OFF,
		MSIX_TABLE_LEN, VNL_PCI_MSIX_PBA_OFF, VNL_PCI_MSIX_PBA_OFF,
		VNL_PCI_MSIX_SIZE,
	};
	uint8_t k = get8(in);
	uint8_t delta = get8(in);
	uint64_t base;

	if (k < 0x80 && bar == 0) {
		/* A common config field at its width, the likeliest. */
		return fields[k % NR_FIELDS].off;
	}
	if ((k & 7) == 7)
		return getn(in, 2);
	base = bar ? bar1[k % 6] : bar0[k % 6];
	/* Up to 8 bytes before the edge, or up to 0x3f after it. */
	return k & 8 ? base - (delta & 7) : base + (delta & 0x3f);
}

static uint32_t bar_len(uint8_t k, uint64_t off)
{
	for (unsigned int i = 0; i < NR_FIELDS; i++)
		if (off == fields[i].off && !(k & 0x10))
			return fields[i].len;
	return 1 + (k >> 5);	/* 1..8 */
}

/* What a BAR read of [off, off + len) must show (off inside the BAR). */
static void check_bar_read(unsigned int bar, uint64_t off, const uint8_t *d,
			   uint32_t len, uint32_t isr_before)
{
	if (bar == VNL_PCI_BAR_MSIX) {
		uint64_t in = off - VNL_PCI_MSIX_PBA_OFF;

		if (off < MSIX_TABLE_LEN) {
			if (!is_table_field(off, len))
				CHECK(all_bytes(d, len, 0xff));
		} else if (off < VNL_PCI_MSIX_PBA_OFF) {
			CHECK(all_bytes(d, len, 0));
		} else if (in < 8 && (len == 4 || len == 8) && !(in % len)) {
			CHECK(!(le(d, len) >> NR_VECTORS));
		} else {
			CHECK(all_bytes(d, len, 0));
		}
		return;
	}
	if (off < VNL_PCI_ISR_OFF) {
		if (!is_field(off, len))
			CHECK(all_bytes(d, len, off < CC_SIZE ? 0xff : 0));
	} else if (off < VNL_PCI_DEVCFG_OFF) {
		if (off != VNL_PCI_ISR_OFF) {
			CHECK(all_bytes(d, len, 0));
			return;
		}
		/* Read-to-clear: what it shows is gone, and it shows all. */
		CHECK(!(d[0] & ~ISR_BITS) && all_bytes(d + 1, len - 1, 0));
		CHECK(!(isr_before & ISR_BITS & ~d[0]));
		CHECK(!(tb.isr & d[0]));
	} else if (off < VNL_PCI_NOTIFY_OFF) {
		check_devcfg(off - VNL_PCI_DEVCFG_OFF, d, len);
	} else {
		CHECK(all_bytes(d, len, 0));
	}
}

/* A BAR write the registers do not take must change nothing. */
static bool bar_write_void(unsigned int bar, uint64_t off, uint32_t len)
{
	if (bar == VNL_PCI_BAR_MSIX)
		return !is_table_field(off, len);
	return off >= VNL_PCI_ISR_OFF || !is_field(off, len);
}

static const uint32_t bar_size[VNL_PCI_NR_BARS] = {
	VNL_PCI_VIRTIO_SIZE, VNL_PCI_MSIX_SIZE,
};

/*
 * Which BAR answers at guest-physical addr, from the registers alone: a
 * placed BAR (neither 0 nor its size mask) with memory decoding on, BAR0
 * first where they overlap. VNL_PCI_NR_BARS for none.
 */
static unsigned int bar_owner(uint64_t addr)
{
	bool mem = cfg_get(PCI_COMMAND, 2) & PCI_COMMAND_MEMORY;
	unsigned int owner = VNL_PCI_NR_BARS;

	for (unsigned int b = VNL_PCI_NR_BARS; b-- > 0;) {
		uint32_t v = cfg_get(PCI_BASE_ADDRESS_0 + 4 * b, 4);
		uint64_t a, s;
		bool placed = mem && v && v != (uint32_t)~(bar_size[b] - 1);

		CHECK(vnl_pci_bar(&pci, b, &a, &s) == placed);
		if (placed)
			CHECK(a == v && s == bar_size[b]);
		if (placed && addr >= v && addr - v < bar_size[b])
			owner = b;
	}
	return owner;
}

static void bar_access(unsigned int bar, uint64_t off, bool write,
		       uint64_t v, uint32_t len, bool by_addr)
{
	uint32_t size = bar < VNL_PCI_NR_BARS ? bar_size[bar] : 0;
	unsigned long notifies = tb.notifies;
	uint32_t isr_before = tb.isr;
	struct pci_snap s0, s1;
	bool inside = off < size;
	bool vanish = inside && write && bar_write_void(bar, off, len);
	uint8_t d[8];

	TRACE("  bar%u %s 0x%llx %u 0x%llx%s\n", bar, write ? "write" : "read",
	      (unsigned long long)off, len, (unsigned long long)v,
	      by_addr ? " (by address)" : "");
	memcpy(d, &v, 8);
	if (vanish)
		pci_snap(&s0);
	if (by_addr) {
		/* At the BAR's address, placed or not: who answers? */
		uint64_t addr = (bar < VNL_PCI_NR_BARS ?
				 cfg_get(PCI_BASE_ADDRESS_0 + 4 * bar, 4) :
				 0) + off;
		unsigned int owner = bar_owner(addr);
		unsigned int slot = VNL_PCI_NR_SLOTS;
		bool hit = vnl_pci_mmio(&pci, addr, d, len, write, &slot);

		CHECK(hit == (owner < VNL_PCI_NR_BARS));
		if (hit)
			CHECK(vnl_pci_slot_name(slot));
		/* Not this BAR's access after all: no more to check. */
		if (owner != bar || !inside)
			return;
	} else if (write) {
		vnl_pci_bar_write(&pci, bar, off, d, len);
	} else {
		vnl_pci_bar_read(&pci, bar, off, d, len);
	}
	if (!inside) {
		if (!write)
			CHECK(all_bytes(d, len, 0xff));
		return;
	}
	if (!write)
		check_bar_read(bar, off, d, len, isr_before);
	/* A reset: the device and the transport's registers start over. */
	if (write && bar == VNL_PCI_BAR_VIRTIO && off == CC(device_status) &&
	    len == 1 && !(uint8_t)v) {
		CHECK(!tb.started && !tb.phase);
		CHECK(bar_get(0, CC(device_status), 1) == 0);
		CHECK(bar_get(0, CC(msix_config), 2) == VIRTIO_MSI_NO_VECTOR);
		CHECK(bar_get(0, CC(queue_select), 2) == 0);
		CHECK(bar_get(0, CC(device_feature_select), 4) == 0);
		CHECK(bar_get(0, CC(guest_feature_select), 4) == 0);
		CHECK(bar_get(0, CC(queue_msix_vector), 2) ==
		      VIRTIO_MSI_NO_VECTOR);
	}
	if (vanish) {
		pci_snap(&s1);
		CHECK(!memcmp(&s0, &s1, sizeof(s0)));
	}
	/* A kick reaches the backend: TX's index at TX's address, started. */
	if (bar == VNL_PCI_BAR_VIRTIO && write)
		CHECK(tb.notifies - notifies ==
		      (tb.started && off == VNL_PCI_NOTIFY_OFF +
		       VNL_PCI_NOTIFY_MULT * VNETLOOP_QUEUE_TX &&
		       (len == 2 || len == 4) &&
		       (v & ((1ULL << (8 * len)) - 1)) == VNETLOOP_QUEUE_TX));
}

/* An interrupt KVM did not take: sent, pending or dropped, as routed. */
/* The sources of a one-pair device. */
static const unsigned int fuzz_srcs[] = {
	VNL_PCI_SRC_RX, VNL_PCI_SRC_TX, VNL_PCI_SRC_CONFIG,
};

static void pci_signal(unsigned int src)
{
	uint16_t flags = cfg_get(VNL_PCI_CAP_MSIX + PCI_MSIX_FLAGS, 2);
	uint16_t cmd = cfg_get(PCI_COMMAND, 2);
	unsigned long m = msis, x = intxs;
	uint64_t pba0 = bar_get(1, VNL_PCI_MSIX_PBA_OFF, 8), pba1;
	unsigned int v = VIRTIO_MSI_NO_VECTOR;
	bool masked = false;

	if (src < VNL_PCI_NR_SRCS)
		v = src == VNL_PCI_SRC_CONFIG ? pci.msix_config :
		    pci.queue_vector[src];
	if (v < NR_VECTORS)
		masked = (flags & PCI_MSIX_FLAGS_MASKALL) ||
			 bar_get(1, v * PCI_MSIX_ENTRY_SIZE +
				 PCI_MSIX_ENTRY_VECTOR_CTRL, 4);
	TRACE("  signal %u (vector %u%s)\n", src, v, masked ? ", masked" : "");
	vnl_pci_signal(&pci, src);
	pba1 = bar_get(1, VNL_PCI_MSIX_PBA_OFF, 8);
	if (!(flags & PCI_MSIX_FLAGS_ENABLE)) {
		CHECK(intxs - x == !(cmd & PCI_COMMAND_INTX_DISABLE));
		CHECK(msis == m && pba1 == pba0);
	} else if (v >= NR_VECTORS) {
		CHECK(msis == m && intxs == x && pba1 == pba0);
	} else if (masked) {
		CHECK(msis == m && intxs == x);
		CHECK(pba1 == (pba0 | 1ULL << v));
	} else {
		CHECK(msis - m == 1 && intxs == x && pba1 == pba0);
	}
}

/* The NIC's configuration space through the ports: cf8, then data. */
static void pci_cfg_op(struct input *in, uint8_t op)
{
	uint8_t reg = get8(in);
	uint32_t size = sizes[op >> 6];
	uint32_t v = getn(in, 4);
	uint32_t a = VNL_PCI_CFG_ENABLE | VNL_PCI_NIC_SLOT << 11 | (reg & 0xfc);

	if ((op & 0x30) == 0x30 && reg < 0x40)
		v = ~0u;	/* BAR sizing, and the like */
	pci_port(VNL_PCI_CONFIG_ADDRESS, true, a, 4);
	pci_port(VNL_PCI_CONFIG_DATA + (reg & 3), op & 8, v, size);
}

static void pci_one(struct input *in)
{
	uint8_t op = get8(in);
	uint64_t off;

	switch (op & 7) {
	case 0:		/* any port access */
		pci_port(VNL_PCI_CONFIG_ADDRESS + (get8(in) & 7), op & 8,
			 getn(in, 4), sizes[op >> 6]);
		break;
	case 1:
		pci_cfg_op(in, op);
		break;
	case 2:		/* by guest-physical address */
	case 3:		/* through vnl_pci_bar_*: decoded or not */
		off = bar_off(in, op >> 4 & 1);
		bar_access(op >> 4 & 1, off, op & 8, getn(in, 8),
			   bar_len(op, off), !(op & 1));
		break;
	case 4:
		pci_signal(fuzz_srcs[(op >> 3) % 3]);
		break;
	case 5:
		tbe_op(in);
		break;
	case 6:		/* a BAR that is not there */
		bar_access(VNL_PCI_NR_BARS + (op >> 7), getn(in, 2), op & 8,
			   getn(in, 8), 1 + (op >> 4 & 7), op & 0x40);
		break;
	case 7:		/* a status write, the likeliest one */
		bar_access(0, CC(device_status), true, get8(in), 1, false);
		break;
	}
	pci_check();
	check_told();
}

static void pci_run(struct input *in)
{
	uint8_t d[4];

	vnl_pci_init(&pci, &tb.be, tb.asked, &pci_ops, NULL, 0xe0000000, 10);
	vnl_pci_bus_init(&bus, &pci);
	tb.dev = &pci.dev;
	msis = intxs = bar_calls = irq_calls = 0;
	cf8 = 0;
	/* The power-on image, through the ports, for the read-only checks. */
	for (uint32_t r = 0; r < VNL_PCI_CFG_SIZE; r += 4) {
		uint32_t a = VNL_PCI_CFG_ENABLE | VNL_PCI_NIC_SLOT << 11 | r;

		memcpy(d, &a, 4);
		port(VNL_PCI_CONFIG_ADDRESS, true, d, 4);
		port(VNL_PCI_CONFIG_DATA, false, cfg0 + r, 4);
	}
	CHECK(le(cfg0, 4) == (VNL_PCI_DEVICE << 16 | VNL_PCI_VENDOR));
	pci_port(VNL_PCI_CONFIG_ADDRESS, true, 0, 4);
	/* Every vector starts masked, nothing pending. */
	for (unsigned int v = 0; v < NR_VECTORS; v++)
		CHECK(bar_get(1, v * PCI_MSIX_ENTRY_SIZE +
			      PCI_MSIX_ENTRY_VECTOR_CTRL, 4) ==
		      PCI_MSIX_ENTRY_CTRL_MASKBIT);
	CHECK(bar_get(1, VNL_PCI_MSIX_PBA_OFF, 8) == 0);
	pci_check();
	told_now(&told);
	for (unsigned int i = 0; i < MAX_OPS && in->n; i++)
		pci_one(in);
	/* The whole image once more, the window's data aside. */
	for (uint32_t r = 0; r < VNL_PCI_CFG_SIZE; r += 4) {
		if (r == VNL_PCI_CAP_PCICFG + sizeof(struct virtio_pci_cap))
			continue;
		vnl_pci_cfg_read(&pci, r, d, 4);
		check_cfg_bytes(r, d, 4);
	}
	vnl_pci_bus_destroy(&bus);
	vnl_pci_destroy(&pci);
}

/* ---- virtio-mmio ---- */

static struct vnl_mmio mmio;
static uint32_t mm_qsel, mm_fsel;	/* write-only: kept here */

static uint32_t mm_get(uint64_t off)
{
	uint32_t v;

	vnl_mmio_read(&mmio, off, &v, 4);
	return v;
}

static void mmio_check(void)
{
	uint32_t st = mm_get(VIRTIO_MMIO_STATUS);

	check_status(st);
	CHECK(mm_get(VIRTIO_MMIO_MAGIC_VALUE) == VNL_MMIO_MAGIC);
	CHECK(mm_get(VIRTIO_MMIO_VERSION) == VNL_MMIO_VERSION);
	CHECK(mm_get(VIRTIO_MMIO_DEVICE_ID) == VIRTIO_ID_NET);
	CHECK(mm_get(VIRTIO_MMIO_VENDOR_ID) == VNL_MMIO_VENDOR);
	CHECK(mm_get(VIRTIO_MMIO_DEVICE_FEATURES) ==
	      (mm_fsel > 1 ? 0 : (uint32_t)(tb.offered >> (32 * mm_fsel))));
	CHECK(mm_get(VIRTIO_MMIO_QUEUE_NUM_MAX) ==
	      (mm_qsel < VNETLOOP_NUM_QUEUES ? VNETLOOP_QUEUE_SIZE_MAX : 0));
	CHECK(mm_get(VIRTIO_MMIO_QUEUE_READY) <=
	      (mm_qsel < VNETLOOP_NUM_QUEUES));
	if (mm_qsel < VNETLOOP_NUM_QUEUES && !(st & ST_FOK))
		CHECK(mm_get(VIRTIO_MMIO_QUEUE_READY) == 0);
	if (mm_qsel < VNETLOOP_NUM_QUEUES && (st & ST_DOK))
		CHECK(mm_get(VIRTIO_MMIO_QUEUE_READY) == tb.q[mm_qsel].ready);
	CHECK(!(mm_get(VIRTIO_MMIO_INTERRUPT_STATUS) & ~ISR_BITS));
	CHECK(mm_get(VIRTIO_MMIO_CONFIG_GENERATION) == 0);
}

/* The registers a read may show something other than 0 at. */
static bool mm_readable(uint64_t off)
{
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE: case VIRTIO_MMIO_VERSION:
	case VIRTIO_MMIO_DEVICE_ID: case VIRTIO_MMIO_VENDOR_ID:
	case VIRTIO_MMIO_DEVICE_FEATURES: case VIRTIO_MMIO_QUEUE_NUM_MAX:
	case VIRTIO_MMIO_QUEUE_READY: case VIRTIO_MMIO_INTERRUPT_STATUS:
	case VIRTIO_MMIO_STATUS:
		return true;
	}
	return false;
}

static void mmio_access(uint64_t off, bool write, uint64_t v, uint32_t len)
{
	bool reg = len == 4 && !(off & 3) && off < VIRTIO_MMIO_CONFIG;
	unsigned long notifies = tb.notifies;
	uint32_t st0 = mm_get(VIRTIO_MMIO_STATUS);
	uint8_t d[8];

	TRACE("  mmio %s 0x%llx %u 0x%llx\n", write ? "write" : "read",
	      (unsigned long long)off, len, (unsigned long long)v);
	memcpy(d, &v, 8);
	if (write) {
		vnl_mmio_write(&mmio, off, d, len);
		if (reg && off == VIRTIO_MMIO_QUEUE_SEL)
			mm_qsel = v;
		if (reg && off == VIRTIO_MMIO_DEVICE_FEATURES_SEL)
			mm_fsel = v;
		if (reg && off == VIRTIO_MMIO_STATUS && !(uint32_t)v)
			mm_qsel = mm_fsel = 0;
		if (!reg)	/* ignored: not even the status moves */
			CHECK(mm_get(VIRTIO_MMIO_STATUS) == st0);
		CHECK(tb.notifies - notifies ==
		      (reg && tb.started && off == VIRTIO_MMIO_QUEUE_NOTIFY &&
		       (uint32_t)v == VNETLOOP_QUEUE_TX));
		return;
	}
	vnl_mmio_read(&mmio, off, d, len);
	if (off >= VIRTIO_MMIO_CONFIG)
		check_devcfg(off - VIRTIO_MMIO_CONFIG, d, len);
	else if (!reg)
		CHECK(all_bytes(d, len, 0xff));
	else if (!mm_readable(off))
		CHECK(le(d, 4) == 0);
}

static void mmio_one(struct input *in)
{
	uint8_t op = get8(in);
	uint64_t off;
	uint32_t len;

	switch (op & 3) {
	case 0:		/* a register at its width */
		off = (get8(in) & 0x3f) * 4;
		len = 4;
		if (op & 0x80) {	/* or misaligned, or another width */
			off += op >> 4 & 3;
			len = 1 + (get8(in) & 7);
		}
		mmio_access(off, op & 4, getn(in, 4), len);
		break;
	case 1:		/* anywhere in or past the window */
		mmio_access(getn(in, 2) % (2 * VNL_MMIO_SIZE), op & 4,
			    getn(in, 8), 1 + (op >> 3 & 7));
		break;
	case 2:
		tbe_op(in);
		break;
	case 3:		/* a status write, the likeliest */
		mmio_access(VIRTIO_MMIO_STATUS, true, get8(in), 4);
		break;
	}
	mmio_check();
}

static void mmio_run(struct input *in)
{
	vnl_mmio_init(&mmio, &tb.be, tb.asked);
	tb.dev = &mmio.dev;
	mm_qsel = mm_fsel = 0;
	mmio_check();
	for (unsigned int i = 0; i < MAX_OPS && in->n; i++)
		mmio_one(in);
	vnl_mmio_destroy(&mmio);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *t = getenv("VNL_FUZZ_TRACE");

	(void)argc;
	(void)argv;
	trace = t && *t && *t != '0';
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	bool use_mmio = size && (data[0] & 1);

	tbe_init(&in);
	TRACE("%s, config size %u, offered 0x%llx\n",
	      use_mmio ? "mmio" : "pci", tb.be.config_size,
	      (unsigned long long)tb.offered);
	if (use_mmio)
		mmio_run(&in);
	else
		pci_run(&in);
	return 0;
}
