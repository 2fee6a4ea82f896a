// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the virtio-pci transport (user/dev/pci*.c), with no
 * KVM: the function's identity and capability list, the BAR sizing
 * protocol and decoding, common config (feature windows, queues, vectors,
 * widths), the ISR's read-to-clear, device config, notify, MSI-X (routes,
 * masking, pending bits, delivery on unmask), the PCI_CFG window, and
 * configuration mechanism #1 with its host bridge. A recording fake
 * stands in for the backend, another for the VMM's interrupt wiring.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "selftests/vmm/fake_be.h"
#include "user/dev/pci_bus.h"

/* The device of one queue pair: three vectors, and its sources. */
#define NR_VECTORS	VNL_PCI_VECTORS_OF(VNETLOOP_NUM_QUEUES)
static const unsigned int srcs[] = {
	VNL_PCI_SRC_RX, VNL_PCI_SRC_TX, VNL_PCI_SRC_CONFIG,
};

static const uint8_t test_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

#define ST_ACK		VIRTIO_CONFIG_S_ACKNOWLEDGE
#define ST_DRV		VIRTIO_CONFIG_S_DRIVER
#define ST_FOK		VIRTIO_CONFIG_S_FEATURES_OK
#define ST_DOK		VIRTIO_CONFIG_S_DRIVER_OK
#define ST_FAIL		VIRTIO_CONFIG_S_FAILED
#define OFFERED		(VNETLOOP_FEATURES & \
			 ~(1ULL << VIRTIO_F_ACCESS_PLATFORM))
#define CC(f)		(VNL_PCI_COMMON_OFF + \
			 offsetof(struct virtio_pci_common_cfg, f))
#define BAR_BASE	0xe0000000u
#define MSIX_FLAGS	(VNL_PCI_CAP_MSIX + PCI_MSIX_FLAGS)
#define NOVEC		VIRTIO_MSI_NO_VECTOR

/* The VMM's side: what the function told it. */
struct fake_vmm {
	int bars, irqs, intx, msis;
	uint64_t msi_addr;
	uint32_t msi_data;
};

static void fake_bars(void *ctx)
{
	((struct fake_vmm *)ctx)->bars++;
}

static void fake_irqs(void *ctx)
{
	((struct fake_vmm *)ctx)->irqs++;
}

static void fake_msi(void *ctx, uint64_t addr, uint32_t data)
{
	struct fake_vmm *v = ctx;

	v->msis++;
	v->msi_addr = addr;
	v->msi_data = data;
}

static void fake_intx(void *ctx)
{
	((struct fake_vmm *)ctx)->intx++;
}

static const struct vnl_pci_ops fake_pci_ops = {
	.bars = fake_bars, .irqs = fake_irqs, .msi = fake_msi,
	.intx = fake_intx,
};

static uint32_t cr(struct vnl_pci *p, uint32_t off, uint32_t len)
{
	uint32_t v = 0;

	vnl_pci_cfg_read(p, off, &v, len);
	return v;
}

static void cw(struct vnl_pci *p, uint32_t off, uint32_t len, uint32_t v)
{
	vnl_pci_cfg_write(p, off, &v, len);
}

static uint64_t br(struct vnl_pci *p, unsigned int bar, uint64_t off,
		   uint32_t len)
{
	uint64_t v = 0;

	vnl_pci_bar_read(p, bar, off, &v, len);
	return v;
}

static void bw(struct vnl_pci *p, unsigned int bar, uint64_t off,
	       uint32_t len, uint64_t v)
{
	vnl_pci_bar_write(p, bar, off, &v, len);
}

/* Common config (BAR0) at its natural width. */
static uint64_t rd(struct vnl_pci *p, uint64_t off, uint32_t len)
{
	return br(p, VNL_PCI_BAR_VIRTIO, off, len);
}

static void wr(struct vnl_pci *p, uint64_t off, uint32_t len, uint64_t v)
{
	bw(p, VNL_PCI_BAR_VIRTIO, off, len, v);
}

static void set_status(struct vnl_pci *p, uint8_t st)
{
	wr(p, CC(device_status), 1, st);
}

static void to_features_ok(struct vnl_pci *p, uint64_t f)
{
	set_status(p, ST_ACK);
	set_status(p, ST_ACK | ST_DRV);
	wr(p, CC(guest_feature_select), 4, 0);
	wr(p, CC(guest_feature), 4, (uint32_t)f);
	wr(p, CC(guest_feature_select), 4, 1);
	wr(p, CC(guest_feature), 4, f >> 32);
	set_status(p, ST_ACK | ST_DRV | ST_FOK);
}

static void setup_queue(struct vnl_pci *p, uint16_t q, uint16_t num,
			uint64_t base)
{
	wr(p, CC(queue_select), 2, q);
	wr(p, CC(queue_size), 2, num);
	wr(p, CC(queue_desc_lo), 4, (uint32_t)base);
	wr(p, CC(queue_desc_hi), 4, base >> 32);
	wr(p, CC(queue_avail_lo), 8, base + 0x1000);
	wr(p, CC(queue_used_lo), 4, (uint32_t)(base + 0x2000));
	wr(p, CC(queue_used_hi), 4, (base + 0x2000) >> 32);
	wr(p, CC(queue_enable), 2, 1);
}

static void to_driver_ok(struct vnl_pci *p)
{
	to_features_ok(p, F_V1 | F_MAC | F_EIDX);
	setup_queue(p, 0, 256, 0x10000);
	setup_queue(p, 1, 128, 0x123400000ULL);
	set_status(p, ST_ACK | ST_DRV | ST_FOK | ST_DOK);
}

/* MSI-X table entry v: address, data, mask bit. */
static void msix_entry(struct vnl_pci *p, unsigned int v, uint64_t addr,
		       uint32_t data, bool masked)
{
	uint64_t e = VNL_PCI_MSIX_TABLE_OFF + v * PCI_MSIX_ENTRY_SIZE;

	bw(p, VNL_PCI_BAR_MSIX, e + PCI_MSIX_ENTRY_LOWER_ADDR, 4,
	   (uint32_t)addr);
	bw(p, VNL_PCI_BAR_MSIX, e + PCI_MSIX_ENTRY_UPPER_ADDR, 4, addr >> 32);
	bw(p, VNL_PCI_BAR_MSIX, e + PCI_MSIX_ENTRY_DATA, 4, data);
	bw(p, VNL_PCI_BAR_MSIX, e + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, masked);
}

static uint64_t pba(struct vnl_pci *p)
{
	return br(p, VNL_PCI_BAR_MSIX, VNL_PCI_MSIX_PBA_OFF, 8);
}

/* MSI-X on, config on vector 0, RX on 1, TX on 2, all unmasked. */
static void msix_up(struct vnl_pci *p)
{
	cw(p, MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	for (unsigned int v = 0; v < NR_VECTORS; v++)
		msix_entry(p, v, 0xfee00000 + (v << 12), 0x40 + v, false);
	wr(p, CC(msix_config), 2, 0);
	wr(p, CC(queue_select), 2, 0);
	wr(p, CC(queue_msix_vector), 2, 1);
	wr(p, CC(queue_select), 2, 1);
	wr(p, CC(queue_msix_vector), 2, 2);
}

/* MSI-X on, TX's vector (2) masked, and an interrupt for TX: pending. */
static void tx_pending(struct vnl_pci *p)
{
	msix_up(p);
	bw(p, VNL_PCI_BAR_MSIX, 2 * PCI_MSIX_ENTRY_SIZE +
	   PCI_MSIX_ENTRY_VECTOR_CTRL, 4, PCI_MSIX_ENTRY_CTRL_MASKBIT);
	vnl_pci_signal(p, VNL_PCI_SRC_TX);
}

FIXTURE(pci) {
	struct fake_be f;
	struct fake_vmm v;
	struct vnl_pci p;
};

FIXTURE_SETUP(pci)
{
	fake_be_init(&self->f, test_mac);
	ASSERT_EQ(0, fake_be_one_line(&self->f));
	memset(&self->v, 0, sizeof(self->v));
	vnl_pci_init(&self->p, &self->f.be, VNETLOOP_FEATURES, &fake_pci_ops,
		     &self->v, BAR_BASE, 10);
}

FIXTURE_TEARDOWN(pci)
{
	vnl_pci_destroy(&self->p);
	close(self->f.be.config_fd);
}

TEST_F(pci, identity)
{
	struct vnl_pci *p = &self->p;

	EXPECT_EQ(0x1af4, cr(p, PCI_VENDOR_ID, 2));
	EXPECT_EQ(0x1041, cr(p, PCI_DEVICE_ID, 2));
	EXPECT_EQ(0x10411af4, cr(p, PCI_VENDOR_ID, 4));
	EXPECT_LE(1, cr(p, PCI_REVISION_ID, 1));
	EXPECT_EQ(0x020000, cr(p, PCI_CLASS_REVISION, 4) >> 8);
	EXPECT_EQ(PCI_HEADER_TYPE_NORMAL, cr(p, PCI_HEADER_TYPE, 1));
	EXPECT_EQ(0x1af4, cr(p, PCI_SUBSYSTEM_VENDOR_ID, 2));
	EXPECT_EQ(VIRTIO_ID_NET, cr(p, PCI_SUBSYSTEM_ID, 2));
	EXPECT_EQ(PCI_STATUS_CAP_LIST, cr(p, PCI_STATUS, 2));
	EXPECT_EQ(1, cr(p, PCI_INTERRUPT_PIN, 1));
	EXPECT_EQ(10, cr(p, PCI_INTERRUPT_LINE, 1));
	EXPECT_EQ(0, cr(p, PCI_COMMAND, 2));
	/* Read-only: identity, class, the capability pointer. */
	cw(p, PCI_VENDOR_ID, 4, 0);
	cw(p, PCI_CLASS_REVISION, 4, 0);
	cw(p, PCI_CAPABILITY_LIST, 1, 0);
	EXPECT_EQ(0x10411af4, cr(p, PCI_VENDOR_ID, 4));
	EXPECT_EQ(0x020000, cr(p, PCI_CLASS_REVISION, 4) >> 8);
	EXPECT_NE(0, cr(p, PCI_CAPABILITY_LIST, 1));
	/* Accesses across a dword or of odd widths: all ones. */
	EXPECT_EQ(0xffffffff, cr(p, PCI_DEVICE_ID, 4));
	EXPECT_EQ(0xffffff, cr(p, 0, 3));
}

TEST_F(pci, capability_list)
{
	struct vnl_pci *p = &self->p;
	unsigned int seen = 0, n = 0, msix = 0;
	uint32_t at = cr(p, PCI_CAPABILITY_LIST, 1);

	while (at && n++ < 16) {
		uint8_t id = cr(p, at, 1), type = cr(p, at + 3, 1);
		uint32_t bar = cr(p, at + VIRTIO_PCI_CAP_BAR, 1);
		uint32_t off = cr(p, at + VIRTIO_PCI_CAP_OFFSET, 4);
		uint32_t len = cr(p, at + VIRTIO_PCI_CAP_LENGTH, 4);

		ASSERT_EQ(0, at & 3);
		if (id == PCI_CAP_ID_MSIX) {
			msix = at;
		} else {
			ASSERT_EQ(PCI_CAP_ID_VNDR, id);
			seen |= 1U << type;
		}
		switch (id == PCI_CAP_ID_VNDR ? type : 0) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			EXPECT_EQ(0, bar);
			EXPECT_EQ(VNL_PCI_COMMON_OFF, off);
			EXPECT_EQ(sizeof(struct virtio_pci_common_cfg), len);
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			EXPECT_EQ(sizeof(struct virtio_pci_notify_cap),
				  cr(p, at + 2, 1));
			EXPECT_EQ(VNL_PCI_NOTIFY_OFF, off);
			EXPECT_LE(6, len);	/* queue 1 at 4, 2 bytes */
			EXPECT_EQ(4, cr(p, at + 16, 4));
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			EXPECT_EQ(VNL_PCI_ISR_OFF, off);
			EXPECT_EQ(1, len);
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			EXPECT_EQ(VNL_PCI_DEVCFG_OFF, off);
			EXPECT_EQ(8, len);
			break;
		case VIRTIO_PCI_CAP_PCI_CFG:
			EXPECT_EQ(sizeof(struct virtio_pci_cfg_cap),
				  cr(p, at + 2, 1));
			break;
		}
		at = cr(p, at + 1, 1);
	}
	EXPECT_EQ(0, at);
	EXPECT_EQ((1U << VIRTIO_PCI_CAP_COMMON_CFG) |
		  (1U << VIRTIO_PCI_CAP_NOTIFY_CFG) |
		  (1U << VIRTIO_PCI_CAP_ISR_CFG) |
		  (1U << VIRTIO_PCI_CAP_DEVICE_CFG) |
		  (1U << VIRTIO_PCI_CAP_PCI_CFG), seen);
	ASSERT_NE(0, msix);
	/* Three vectors, disabled; table and PBA in BAR1. */
	EXPECT_EQ(NR_VECTORS - 1, cr(p, msix + PCI_MSIX_FLAGS, 2));
	EXPECT_EQ(VNL_PCI_MSIX_TABLE_OFF | 1, cr(p, msix + PCI_MSIX_TABLE, 4));
	EXPECT_EQ(VNL_PCI_MSIX_PBA_OFF | 1, cr(p, msix + PCI_MSIX_PBA, 4));
	/* Only enable and function mask are writable. */
	cw(p, msix + PCI_MSIX_FLAGS, 2, 0xffff);
	EXPECT_EQ(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL |
		  (NR_VECTORS - 1), cr(p, msix + PCI_MSIX_FLAGS, 2));
}

TEST_F(pci, bar_sizing_and_placement)
{
	struct vnl_pci *p = &self->p;
	uint64_t a, s;

	/* As firmware left them: placed, not decoding. */
	EXPECT_EQ(BAR_BASE, cr(p, PCI_BASE_ADDRESS_0, 4));
	EXPECT_EQ(BAR_BASE + VNL_PCI_VIRTIO_SIZE,
		  cr(p, PCI_BASE_ADDRESS_1, 4));
	EXPECT_FALSE(vnl_pci_bar(p, 0, &a, &s));
	cw(p, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	EXPECT_EQ((uint32_t)~(VNL_PCI_VIRTIO_SIZE - 1),
		  cr(p, PCI_BASE_ADDRESS_0, 4));
	cw(p, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
	EXPECT_EQ((uint32_t)~(VNL_PCI_MSIX_SIZE - 1),
		  cr(p, PCI_BASE_ADDRESS_1, 4));
	/* Unimplemented BARs read 0 whatever is written. */
	for (uint32_t b = PCI_BASE_ADDRESS_2; b <= PCI_BASE_ADDRESS_5; b += 4) {
		cw(p, b, 4, 0xffffffff);
		EXPECT_EQ(0, cr(p, b, 4));
	}
	EXPECT_EQ(2, self->v.bars);
	cw(p, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	/* Being sized: not placed. */
	EXPECT_FALSE(vnl_pci_bar(p, 0, &a, &s));
	/* The low bits do not stick: the address is size-aligned. */
	cw(p, PCI_BASE_ADDRESS_0, 4, 0xe1002345);
	cw(p, PCI_BASE_ADDRESS_1, 4, 0xe1010fff);
	EXPECT_EQ(0xe1000000, cr(p, PCI_BASE_ADDRESS_0, 4));
	EXPECT_EQ(0xe1010000, cr(p, PCI_BASE_ADDRESS_1, 4));
	ASSERT_TRUE(vnl_pci_bar(p, 0, &a, &s));
	EXPECT_EQ(0xe1000000, a);
	EXPECT_EQ(VNL_PCI_VIRTIO_SIZE, s);
	ASSERT_TRUE(vnl_pci_bar(p, 1, &a, &s));
	EXPECT_EQ(0xe1010000, a);
	EXPECT_EQ(VNL_PCI_MSIX_SIZE, s);
	/* Every BAR write and the decode change told the VMM. */
	EXPECT_EQ(5, self->v.bars);
	cw(p, PCI_COMMAND, 2, 0);
	EXPECT_FALSE(vnl_pci_bar(p, 1, &a, &s));
	EXPECT_EQ(6, self->v.bars);
	/* A byte write to a BAR is masked the same way. */
	cw(p, PCI_BASE_ADDRESS_0 + 1, 1, 0xff);
	EXPECT_EQ(0xe100c000, cr(p, PCI_BASE_ADDRESS_0, 4));
}

TEST_F(pci, mmio_decodes_only_placed_bars_with_memory_on)
{
	struct vnl_pci *p = &self->p;
	unsigned int slot = 99;
	uint32_t v = 0;

	EXPECT_FALSE(vnl_pci_mmio(p, BAR_BASE + CC(num_queues), &v, 2, false,
				  &slot));
	cw(p, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	EXPECT_EQ(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
		  cr(p, PCI_COMMAND, 2));
	ASSERT_TRUE(vnl_pci_mmio(p, BAR_BASE + CC(num_queues), &v, 2, false,
				 &slot));
	EXPECT_EQ(2, v);
	EXPECT_STREQ("num_queues", vnl_pci_slot_name(slot));
	EXPECT_TRUE(vnl_pci_mmio(p, BAR_BASE + VNL_PCI_ISR_OFF, &v, 1, false,
				 &slot));
	EXPECT_STREQ("InterruptStatus", vnl_pci_slot_name(slot));
	EXPECT_TRUE(vnl_pci_mmio(p, BAR_BASE + VNL_PCI_VIRTIO_SIZE +
				 VNL_PCI_MSIX_PBA_OFF, &v, 4, false, &slot));
	EXPECT_STREQ("msix_pba", vnl_pci_slot_name(slot));
	EXPECT_FALSE(vnl_pci_mmio(p, BAR_BASE - 4, &v, 4, false, &slot));
	EXPECT_FALSE(vnl_pci_mmio(p, BAR_BASE + VNL_PCI_VIRTIO_SIZE +
				  VNL_PCI_MSIX_SIZE, &v, 4, false, &slot));
	/* Moved: the old place is nothing, the new one the BAR. */
	cw(p, PCI_BASE_ADDRESS_0, 4, 0xe8000000);
	EXPECT_FALSE(vnl_pci_mmio(p, BAR_BASE + CC(num_queues), &v, 2, false,
				  &slot));
	v = 0;
	EXPECT_TRUE(vnl_pci_mmio(p, 0xe8000000 + CC(num_queues), &v, 2,
				 false, &slot));
	EXPECT_EQ(2, v);
}

TEST_F(pci, common_config_feature_windows)
{
	struct vnl_pci *p = &self->p;

	EXPECT_EQ((uint32_t)OFFERED, rd(p, CC(device_feature), 4));
	wr(p, CC(device_feature_select), 4, 1);
	EXPECT_EQ(1, rd(p, CC(device_feature_select), 4));
	EXPECT_EQ(OFFERED >> 32, rd(p, CC(device_feature), 4));
	wr(p, CC(device_feature_select), 4, 2);
	EXPECT_EQ(0, rd(p, CC(device_feature), 4));
	EXPECT_EQ(VNETLOOP_NUM_QUEUES, rd(p, CC(num_queues), 2));
	EXPECT_EQ(0, rd(p, CC(config_generation), 1));
	to_features_ok(p, F_V1 | F_MAC);
	EXPECT_EQ(ST_ACK | ST_DRV | ST_FOK, rd(p, CC(device_status), 1));
	wr(p, CC(guest_feature_select), 4, 0);
	EXPECT_EQ((uint32_t)F_MAC, rd(p, CC(guest_feature), 4));
	wr(p, CC(guest_feature_select), 4, 1);
	EXPECT_EQ(1, rd(p, CC(guest_feature), 4));
	/* The status steps reach the backend, as on virtio-mmio. */
	EXPECT_EQ(3, self->f.steps);
	EXPECT_EQ(F_V1 | F_MAC, self->f.step_features);
}

TEST_F(pci, not_version_1_fails)
{
	to_features_ok(&self->p, F_MAC);
	EXPECT_EQ(ST_ACK | ST_DRV | ST_FAIL,
		  rd(&self->p, CC(device_status), 1));
}

TEST_F(pci, wrong_width_reads_all_ones_and_writes_nothing)
{
	struct vnl_pci *p = &self->p;

	EXPECT_EQ(0xff, rd(p, CC(device_feature), 1));
	EXPECT_EQ(0xffffffff, rd(p, CC(num_queues), 4));
	EXPECT_EQ(0xffff, rd(p, CC(device_status), 2));
	wr(p, CC(device_status), 4, ST_ACK);
	EXPECT_EQ(0, rd(p, CC(device_status), 1));
	wr(p, CC(device_status), 1, ST_ACK);
	EXPECT_EQ(ST_ACK, rd(p, CC(device_status), 1));
	/* Past the structure, before the ISR: zeros. */
	EXPECT_EQ(0, rd(p, sizeof(struct virtio_pci_common_cfg), 4));
	EXPECT_EQ(0, rd(p, 0x800, 4));
}

TEST_F(pci, queue_registers)
{
	struct vnl_pci *p = &self->p;

	for (uint16_t q = 0; q < 2; q++) {
		wr(p, CC(queue_select), 2, q);
		EXPECT_EQ(q, rd(p, CC(queue_select), 2));
		EXPECT_EQ(256, rd(p, CC(queue_size), 2));
		EXPECT_EQ(q, rd(p, CC(queue_notify_off), 2));
		EXPECT_EQ(0, rd(p, CC(queue_enable), 2));
		EXPECT_EQ(NOVEC, rd(p, CC(queue_msix_vector), 2));
	}
	wr(p, CC(queue_select), 2, 2);
	EXPECT_EQ(0, rd(p, CC(queue_size), 2));
	/* Before FEATURES_OK nothing sticks. */
	wr(p, CC(queue_select), 2, 1);
	wr(p, CC(queue_size), 2, 64);
	EXPECT_EQ(256, rd(p, CC(queue_size), 2));
	to_features_ok(p, F_V1);
	wr(p, CC(queue_size), 2, 64);
	wr(p, CC(queue_size), 2, 100);		/* not a power of two */
	wr(p, CC(queue_size), 2, 512);		/* too big */
	EXPECT_EQ(64, rd(p, CC(queue_size), 2));
	wr(p, CC(queue_desc_lo), 8, 0x1122334455667788ULL);
	EXPECT_EQ(0x1122334455667788ULL, rd(p, CC(queue_desc_lo), 8));
	EXPECT_EQ(0x55667788, rd(p, CC(queue_desc_lo), 4));
	EXPECT_EQ(0x11223344, rd(p, CC(queue_desc_hi), 4));
	wr(p, CC(queue_enable), 2, 1);
	EXPECT_EQ(1, rd(p, CC(queue_enable), 2));
	wr(p, CC(queue_enable), 2, 0);		/* drivers must not */
	EXPECT_EQ(1, rd(p, CC(queue_enable), 2));
}

TEST_F(pci, driver_ok_hands_over_the_rings)
{
	struct vnl_pci *p = &self->p;

	to_features_ok(p, F_V1 | F_MAC | F_EIDX);
	setup_queue(p, 1, 128, 0x123400000ULL);
	/* RX enabled without a size: the largest. */
	wr(p, CC(queue_select), 2, 0);
	wr(p, CC(queue_desc_lo), 4, 0x10000);
	wr(p, CC(queue_avail_lo), 4, 0x11000);
	wr(p, CC(queue_used_lo), 4, 0x12000);
	wr(p, CC(queue_enable), 2, 1);
	set_status(p, ST_ACK | ST_DRV | ST_FOK | ST_DOK);
	ASSERT_EQ(1, self->f.starts);
	EXPECT_RINGS_HANDED_OVER(&self->f);
	/* Too late now. */
	wr(p, CC(queue_size), 2, 16);
	EXPECT_EQ(256, rd(p, CC(queue_size), 2));
}

TEST_F(pci, isr_is_read_to_clear)
{
	struct vnl_pci *p = &self->p;
	uint64_t isr = VNL_PCI_ISR_OFF;

	to_driver_ok(p);
	self->f.isr = VIRTIO_PCI_ISR_CONFIG | 1;
	EXPECT_EQ(3, rd(p, isr, 1));
	EXPECT_EQ(1, self->f.acks);
	EXPECT_EQ(3, self->f.acked);
	EXPECT_EQ(0, rd(p, isr, 1));
	EXPECT_EQ(1, self->p.dev.isr_empty_reads);
	/* Writes do nothing. */
	self->f.isr = 1;
	wr(p, isr, 1, 0);
	EXPECT_EQ(1, rd(p, isr, 4));
}

TEST_F(pci, device_config_is_the_mac)
{
	struct vnl_pci *p = &self->p;

	for (int i = 0; i < 6; i++)
		EXPECT_EQ(test_mac[i], rd(p, VNL_PCI_DEVCFG_OFF + i, 1));
	EXPECT_EQ(0x33221102, rd(p, VNL_PCI_DEVCFG_OFF, 4));
	EXPECT_EQ(0, rd(p, VNL_PCI_DEVCFG_OFF + 8, 4));
	wr(p, VNL_PCI_DEVCFG_OFF, 4, 0);
	EXPECT_EQ(0x33221102, rd(p, VNL_PCI_DEVCFG_OFF, 4));
}

TEST_F(pci, notify_reaches_the_backend_for_tx_after_driver_ok)
{
	struct vnl_pci *p = &self->p;
	uint64_t n = VNL_PCI_NOTIFY_OFF;

	wr(p, n + 4, 2, 1);
	EXPECT_EQ(0, self->f.notifies);
	to_driver_ok(p);
	wr(p, n, 2, 0);			/* RX: nothing to do */
	wr(p, n + 4, 2, 0);		/* TX's address, RX's index */
	wr(p, n + 4, 1, 1);		/* a byte */
	wr(p, n + 2, 2, 1);		/* between the two */
	EXPECT_EQ(0, self->f.notifies);
	wr(p, n + 4, 2, 1);
	EXPECT_EQ(1, self->f.notifies);
	wr(p, n + 4, 4, 1);
	EXPECT_EQ(2, self->f.notifies);
}

TEST_F(pci, vectors_read_back_no_vector_out_of_range)
{
	struct vnl_pci *p = &self->p;
	int irqs = self->v.irqs;

	EXPECT_EQ(NOVEC, rd(p, CC(msix_config), 2));
	wr(p, CC(msix_config), 2, 2);
	EXPECT_EQ(2, rd(p, CC(msix_config), 2));
	wr(p, CC(msix_config), 2, NR_VECTORS);
	EXPECT_EQ(NOVEC, rd(p, CC(msix_config), 2));
	wr(p, CC(queue_select), 2, 1);
	wr(p, CC(queue_msix_vector), 2, 1);
	EXPECT_EQ(1, rd(p, CC(queue_msix_vector), 2));
	wr(p, CC(queue_msix_vector), 2, 7);
	EXPECT_EQ(NOVEC, rd(p, CC(queue_msix_vector), 2));
	EXPECT_EQ(irqs + 4, self->v.irqs);
	/* Reset: no vectors again, and the VMM hears of it. */
	wr(p, CC(queue_msix_vector), 2, 1);
	wr(p, CC(msix_config), 2, 0);
	set_status(p, 0);
	EXPECT_EQ(NOVEC, rd(p, CC(msix_config), 2));
	wr(p, CC(queue_select), 2, 1);
	EXPECT_EQ(NOVEC, rd(p, CC(queue_msix_vector), 2));
	EXPECT_EQ(irqs + 7, self->v.irqs);
}

TEST_F(pci, routes_intx_until_msix_is_enabled)
{
	struct vnl_pci *p = &self->p;
	struct vnl_pci_route r;

	for (unsigned int i = 0; i < 3; i++) {
		vnl_pci_route(p, srcs[i], &r);
		EXPECT_EQ(VNL_PCI_ROUTE_INTX, r.kind);
	}
	vnl_pci_signal(p, VNL_PCI_SRC_TX);
	EXPECT_EQ(1, self->v.intx);
	cw(p, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
	vnl_pci_route(p, VNL_PCI_SRC_RX, &r);
	EXPECT_EQ(VNL_PCI_ROUTE_NONE, r.kind);
	vnl_pci_signal(p, VNL_PCI_SRC_RX);
	EXPECT_EQ(1, self->v.intx);
	EXPECT_LE(1, self->v.irqs);
}

TEST_F(pci, msix_routes_each_source_to_its_vector)
{
	struct vnl_pci *p = &self->p;
	struct vnl_pci_route r;

	cw(p, MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	/* No vectors yet: nothing. */
	vnl_pci_route(p, VNL_PCI_SRC_TX, &r);
	EXPECT_EQ(VNL_PCI_ROUTE_NONE, r.kind);
	/* Vectors start masked. */
	wr(p, CC(queue_select), 2, 1);
	wr(p, CC(queue_msix_vector), 2, 2);
	vnl_pci_route(p, VNL_PCI_SRC_TX, &r);
	EXPECT_EQ(VNL_PCI_ROUTE_MASKED, r.kind);
	EXPECT_EQ(1, br(p, VNL_PCI_BAR_MSIX, 2 * 16 + 12, 4));
	msix_up(p);
	for (unsigned int i = 0; i < 3; i++) {
		unsigned int s = srcs[i];
		unsigned int v = s == VNL_PCI_SRC_CONFIG ? 0 : s + 1;

		vnl_pci_route(p, s, &r);
		EXPECT_EQ(VNL_PCI_ROUTE_MSI, r.kind);
		EXPECT_EQ(v, r.vector);
		EXPECT_EQ(0xfee00000 + (v << 12), r.addr);
		EXPECT_EQ(0x40 + v, r.data);
	}
	vnl_pci_signal(p, VNL_PCI_SRC_RX);
	EXPECT_EQ(1, self->v.msis);
	EXPECT_EQ(0xfee01000, self->v.msi_addr);
	EXPECT_EQ(0x41, self->v.msi_data);
	EXPECT_EQ(0, self->v.intx);
	/* Two queues may share a vector. */
	wr(p, CC(queue_select), 2, 0);
	wr(p, CC(queue_msix_vector), 2, 2);
	vnl_pci_route(p, VNL_PCI_SRC_RX, &r);
	EXPECT_EQ(2, r.vector);
}

TEST_F(pci, masked_vector_is_pending_and_sent_on_unmask)
{
	struct vnl_pci *p = &self->p;
	uint64_t ctrl = 2 * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL;

	msix_up(p);
	bw(p, VNL_PCI_BAR_MSIX, ctrl, 4, PCI_MSIX_ENTRY_CTRL_MASKBIT);
	vnl_pci_signal(p, VNL_PCI_SRC_TX);
	vnl_pci_signal(p, VNL_PCI_SRC_TX);
	EXPECT_EQ(0, self->v.msis);
	EXPECT_EQ(1ULL << 2, pba(p));
	/* The PBA is read-only. */
	bw(p, VNL_PCI_BAR_MSIX, VNL_PCI_MSIX_PBA_OFF, 8, 0);
	EXPECT_EQ(1ULL << 2, pba(p));
	/* Changing the message while masked: the new one is sent. */
	bw(p, VNL_PCI_BAR_MSIX, 2 * PCI_MSIX_ENTRY_SIZE + 8, 4, 0x77);
	EXPECT_EQ(0, self->v.msis);
	bw(p, VNL_PCI_BAR_MSIX, ctrl, 4, 0);
	EXPECT_EQ(1, self->v.msis);
	EXPECT_EQ(0x77, self->v.msi_data);
	EXPECT_EQ(0, pba(p));
	/* Once: a second unmask sends nothing. */
	bw(p, VNL_PCI_BAR_MSIX, ctrl, 4, 0);
	EXPECT_EQ(1, self->v.msis);
}

TEST_F(pci, function_mask_holds_every_vector)
{
	struct vnl_pci *p = &self->p;

	msix_up(p);
	cw(p, MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	vnl_pci_signal(p, VNL_PCI_SRC_RX);
	vnl_pci_signal(p, VNL_PCI_SRC_CONFIG);
	EXPECT_EQ(0, self->v.msis);
	EXPECT_EQ((1ULL << 1) | 1, pba(p));
	cw(p, MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	EXPECT_EQ(2, self->v.msis);
	EXPECT_EQ(0, pba(p));
}

TEST_F(pci, no_vector_raises_nothing)
{
	struct vnl_pci *p = &self->p;

	msix_up(p);
	wr(p, CC(msix_config), 2, NOVEC);
	vnl_pci_signal(p, VNL_PCI_SRC_CONFIG);
	EXPECT_EQ(0, self->v.msis);
	EXPECT_EQ(0, self->v.intx);
	EXPECT_EQ(0, pba(p));
}

TEST_F(pci, msix_table_accesses)
{
	struct vnl_pci *p = &self->p;
	uint64_t e1 = PCI_MSIX_ENTRY_SIZE;

	bw(p, VNL_PCI_BAR_MSIX, e1, 8, 0x12345678fee00000ULL);
	EXPECT_EQ(0x12345678fee00000ULL, br(p, VNL_PCI_BAR_MSIX, e1, 8));
	EXPECT_EQ(0x12345678, br(p, VNL_PCI_BAR_MSIX, e1 + 4, 4));
	/* Only the mask bit of Vector Control is writable. */
	bw(p, VNL_PCI_BAR_MSIX, e1 + 12, 4, 0xfffffffe);
	EXPECT_EQ(0, br(p, VNL_PCI_BAR_MSIX, e1 + 12, 4));
	/* Odd widths: all ones, and no write. */
	EXPECT_EQ(0xffff, br(p, VNL_PCI_BAR_MSIX, e1 + 8, 2));
	bw(p, VNL_PCI_BAR_MSIX, e1 + 8, 2, 0x5555);
	EXPECT_EQ(0, br(p, VNL_PCI_BAR_MSIX, e1 + 8, 4));
	/* Past the table: zeros. */
	EXPECT_EQ(0, br(p, VNL_PCI_BAR_MSIX, 3 * PCI_MSIX_ENTRY_SIZE, 4));
}

/*
 * A 4-byte access between the fields (found by fuzz/transport.c) is no
 * field: it used to reach Vector Control, so a misaligned write unmasked
 * the vector and sent what was pending.
 */
TEST_F(pci, msix_misaligned_access_is_no_field)
{
	struct vnl_pci *p = &self->p;
	uint64_t ctrl = 2 * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL;

	tx_pending(p);
	EXPECT_EQ(1ULL << 2, pba(p));
	for (unsigned int in = 1; in < PCI_MSIX_ENTRY_SIZE; in++) {
		if (!(in % 4))
			continue;
		EXPECT_EQ(0xffffffff,
			  br(p, VNL_PCI_BAR_MSIX, 2 * PCI_MSIX_ENTRY_SIZE + in,
			     4));
		bw(p, VNL_PCI_BAR_MSIX, 2 * PCI_MSIX_ENTRY_SIZE + in, 4, 0);
	}
	EXPECT_EQ(PCI_MSIX_ENTRY_CTRL_MASKBIT,
		  br(p, VNL_PCI_BAR_MSIX, ctrl, 4));
	EXPECT_EQ(0xfee02000, br(p, VNL_PCI_BAR_MSIX, 2 * 16, 4));
	EXPECT_EQ(0x42, br(p, VNL_PCI_BAR_MSIX, 2 * 16 + 8, 4));
	EXPECT_EQ(0, self->v.msis);
	EXPECT_EQ(1ULL << 2, pba(p));
}

TEST_F(pci, reset_keeps_the_msix_table)
{
	struct vnl_pci *p = &self->p;

	msix_up(p);
	to_driver_ok(p);
	set_status(p, 0);
	EXPECT_EQ(1, self->f.resets);
	EXPECT_EQ(0, rd(p, CC(device_status), 1));
	EXPECT_EQ(0xfee02000, br(p, VNL_PCI_BAR_MSIX, 2 * 16, 4));
	EXPECT_EQ(PCI_MSIX_FLAGS_ENABLE, cr(p, MSIX_FLAGS, 2) &
		  PCI_MSIX_FLAGS_ENABLE);
}

/* What the old driver left pending does not reach the next one. */
TEST_F(pci, reset_clears_pending_bits)
{
	struct vnl_pci *p = &self->p;
	uint64_t ctrl = 2 * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL;

	tx_pending(p);
	EXPECT_EQ(1ULL << 2, pba(p));
	set_status(p, 0);
	EXPECT_EQ(0, pba(p));
	EXPECT_EQ(PCI_MSIX_ENTRY_CTRL_MASKBIT, br(p, VNL_PCI_BAR_MSIX, ctrl, 4));
	bw(p, VNL_PCI_BAR_MSIX, ctrl, 4, 0);
	EXPECT_EQ(0, self->v.msis);
}

TEST_F(pci, pci_cfg_window_reaches_bar0)
{
	struct vnl_pci *p = &self->p;
	uint32_t cap = VNL_PCI_CAP_PCICFG, data = cap + 16;

	cw(p, cap + VIRTIO_PCI_CAP_BAR, 1, 0);
	cw(p, cap + VIRTIO_PCI_CAP_OFFSET, 4, CC(num_queues));
	cw(p, cap + VIRTIO_PCI_CAP_LENGTH, 4, 2);
	EXPECT_EQ(2, cr(p, data, 2));
	cw(p, cap + VIRTIO_PCI_CAP_OFFSET, 4, CC(device_status));
	cw(p, cap + VIRTIO_PCI_CAP_LENGTH, 4, 1);
	cw(p, data, 1, ST_ACK);
	EXPECT_EQ(ST_ACK, rd(p, CC(device_status), 1));
	EXPECT_EQ(ST_ACK, cr(p, data, 1));
	/* A length the window does not take: zeros. */
	cw(p, cap + VIRTIO_PCI_CAP_LENGTH, 4, 3);
	EXPECT_EQ(0, cr(p, data, 4));
}

/* ---- configuration mechanism #1 ---- */

static uint32_t in32(struct vnl_pci_bus *b, uint16_t port)
{
	uint32_t v = 0;

	vnl_pci_bus_io(b, port, false, &v, 4);
	return v;
}

static uint32_t cfg_in(struct vnl_pci_bus *b, uint32_t slot, uint32_t reg,
		       uint32_t size)
{
	uint32_t a = VNL_PCI_CFG_ENABLE | slot << 11 | (reg & 0xfc), v = 0;

	vnl_pci_bus_io(b, VNL_PCI_CONFIG_ADDRESS, true, &a, 4);
	vnl_pci_bus_io(b, VNL_PCI_CONFIG_DATA + (reg & 3), false, &v, size);
	return v;
}

TEST_F(pci, config_mechanism_1)
{
	struct vnl_pci_bus bus;
	uint32_t a = VNL_PCI_CFG_ENABLE, v;
	uint8_t one = 1;

	vnl_pci_bus_init(&bus, &self->p);
	EXPECT_TRUE(vnl_pci_bus_port(0xcf8));
	EXPECT_TRUE(vnl_pci_bus_port(0xcff));
	EXPECT_FALSE(vnl_pci_bus_port(0xd00));
	/* Linux's type-1 probe: the address register reads back. */
	vnl_pci_bus_io(&bus, 0xcfb, true, &one, 1);
	vnl_pci_bus_io(&bus, VNL_PCI_CONFIG_ADDRESS, true, &a, 4);
	EXPECT_EQ(VNL_PCI_CFG_ENABLE, in32(&bus, VNL_PCI_CONFIG_ADDRESS));
	v = 0;
	vnl_pci_bus_io(&bus, VNL_PCI_CONFIG_ADDRESS, false, &v, 2);
	EXPECT_EQ(0xffff, v);
	/* 00:00.0 is a host bridge; 00:01.0 the NIC; 00:02.0 nothing. */
	EXPECT_EQ(0x0600, cfg_in(&bus, 0, PCI_CLASS_DEVICE, 2));
	EXPECT_EQ(0x10411af4, cfg_in(&bus, 1, PCI_VENDOR_ID, 4));
	EXPECT_EQ(0x1041, cfg_in(&bus, 1, PCI_DEVICE_ID, 2));
	EXPECT_EQ(0x02, cfg_in(&bus, 1, PCI_CLASS_REVISION + 3, 1));
	EXPECT_EQ(0xffffffff, cfg_in(&bus, 2, PCI_VENDOR_ID, 4));
	/* Function 1 of the NIC's slot, bus 1, enable bit clear: nothing. */
	a = VNL_PCI_CFG_ENABLE | 1 << 11 | 1 << 8;
	vnl_pci_bus_io(&bus, VNL_PCI_CONFIG_ADDRESS, true, &a, 4);
	EXPECT_EQ(0xffffffff, in32(&bus, VNL_PCI_CONFIG_DATA));
	a = VNL_PCI_CFG_ENABLE | 1 << 16 | 1 << 11;
	vnl_pci_bus_io(&bus, VNL_PCI_CONFIG_ADDRESS, true, &a, 4);
	EXPECT_EQ(0xffffffff, in32(&bus, VNL_PCI_CONFIG_DATA));
	a = 1 << 11;
	vnl_pci_bus_io(&bus, VNL_PCI_CONFIG_ADDRESS, true, &a, 4);
	EXPECT_EQ(0xffffffff, in32(&bus, VNL_PCI_CONFIG_DATA));
	/* Writes through the window reach the NIC. */
	a = VNL_PCI_CFG_ENABLE | 1 << 11 | PCI_COMMAND;
	v = PCI_COMMAND_MEMORY;
	vnl_pci_bus_io(&bus, VNL_PCI_CONFIG_ADDRESS, true, &a, 4);
	vnl_pci_bus_io(&bus, VNL_PCI_CONFIG_DATA, true, &v, 2);
	EXPECT_EQ(PCI_COMMAND_MEMORY, cr(&self->p, PCI_COMMAND, 2));
	/* A word across the window's end: all ones. */
	v = 0;
	vnl_pci_bus_io(&bus, VNL_PCI_CONFIG_DATA + 3, false, &v, 2);
	EXPECT_EQ(0xffff, v);
	vnl_pci_bus_destroy(&bus);
}

/* ---- multiqueue: a device of four pairs ---- */

#define F_MQ		VNETLOOP_FEATURES_MQ
#define MQ_PAIRS	4
#define MQ_QUEUES	(2 * MQ_PAIRS + 1)

FIXTURE(mq) {
	struct fake_be f;
	struct fake_vmm v;
	struct vnl_pci p;
};

FIXTURE_SETUP(mq)
{
	fake_be_init(&self->f, test_mac);
	fake_be_pairs(&self->f, MQ_PAIRS);
	ASSERT_EQ(0, fake_be_one_line(&self->f));
	memset(&self->v, 0, sizeof(self->v));
	vnl_pci_init(&self->p, &self->f.be, VNETLOOP_FEATURES | F_MQ,
		     &fake_pci_ops, &self->v, BAR_BASE, 10);
}

FIXTURE_TEARDOWN(mq)
{
	vnl_pci_destroy(&self->p);
	close(self->f.be.config_fd);
}

TEST_F(mq, num_queues_features_and_max_pairs)
{
	struct vnl_pci *p = &self->p;

	EXPECT_EQ(MQ_QUEUES, rd(p, CC(num_queues), 2));
	wr(p, CC(device_feature_select), 4, 0);
	EXPECT_EQ((uint32_t)(F_V1 | F_MAC | F_EIDX | F_MQ),
		  rd(p, CC(device_feature), 4));
	EXPECT_EQ(MQ_PAIRS, rd(p, VNL_PCI_DEVCFG_OFF + 8, 2));
	/* The notify capability covers every queue. */
	EXPECT_EQ(MQ_QUEUES * VNL_PCI_NOTIFY_MULT,
		  cr(p, VNL_PCI_CAP_NOTIFY + VIRTIO_PCI_CAP_LENGTH, 4));
}

TEST_F(mq, every_queue_has_its_size_and_notify_offset)
{
	struct vnl_pci *p = &self->p;

	for (unsigned int q = 0; q < MQ_QUEUES; q++) {
		wr(p, CC(queue_select), 2, q);
		EXPECT_EQ(VNETLOOP_QUEUE_SIZE_MAX, rd(p, CC(queue_size), 2));
		EXPECT_EQ(q, rd(p, CC(queue_notify_off), 2));
	}
	wr(p, CC(queue_select), 2, MQ_QUEUES);
	EXPECT_EQ(0, rd(p, CC(queue_size), 2));
	to_features_ok(p, F_V1 | F_MAC | F_MQ);
	for (unsigned int q = 0; q < MQ_QUEUES; q++)
		setup_queue(p, q, 16 << (q % 4), 0x100000 + q * 0x10000);
	set_status(p, ST_ACK | ST_DRV | ST_FOK | ST_DOK);
	EXPECT_EQ(1, self->f.starts);
	EXPECT_EQ(F_V1 | F_MAC | F_MQ, self->f.features);
	for (unsigned int q = 0; q < MQ_QUEUES; q++) {
		EXPECT_TRUE(self->f.q[q].ready);
		EXPECT_EQ(16U << (q % 4), self->f.q[q].num);
		EXPECT_EQ(0x101000 + q * 0x10000, self->f.q[q].avail);
	}
	/* Each queue's notify at its own address, datamatch its index. */
	for (unsigned int q = 0; q <= MQ_QUEUES; q++)
		wr(p, VNL_PCI_NOTIFY_OFF + q * VNL_PCI_NOTIFY_MULT, 2, q);
	wr(p, VNL_PCI_NOTIFY_OFF + 3 * VNL_PCI_NOTIFY_MULT, 2, 5); /* wrong */
	EXPECT_EQ(0x1aaULL, self->f.notified);
	EXPECT_EQ(5, self->f.notifies);
}

TEST_F(mq, a_vector_per_queue_and_config)
{
	struct vnl_pci *p = &self->p;
	unsigned int nvec = MQ_QUEUES + 1;
	struct vnl_pci_route r;

	EXPECT_EQ(nvec, p->nvectors);
	EXPECT_EQ(nvec - 1, cr(p, VNL_PCI_CAP_MSIX + PCI_MSIX_FLAGS, 2));
	cw(p, MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	for (unsigned int v = 0; v < nvec; v++)
		msix_entry(p, v, 0xfee00000 + (v << 12), 0x40 + v, false);
	/* Past the table: no entry. */
	EXPECT_EQ(0, br(p, VNL_PCI_BAR_MSIX, nvec * PCI_MSIX_ENTRY_SIZE, 4));
	wr(p, CC(msix_config), 2, 0);
	for (unsigned int q = 0; q < MQ_QUEUES; q++) {
		wr(p, CC(queue_select), 2, q);
		wr(p, CC(queue_msix_vector), 2, q + 1);
		EXPECT_EQ(q + 1, rd(p, CC(queue_msix_vector), 2));
	}
	wr(p, CC(queue_msix_vector), 2, nvec);
	EXPECT_EQ(NOVEC, rd(p, CC(queue_msix_vector), 2));
	wr(p, CC(queue_msix_vector), 2, MQ_QUEUES);
	for (unsigned int q = 0; q < MQ_QUEUES; q++) {
		vnl_pci_route(p, q, &r);
		EXPECT_EQ(VNL_PCI_ROUTE_MSI, r.kind);
		EXPECT_EQ(q + 1, r.vector);
		EXPECT_EQ(0x41 + q, r.data);
	}
	vnl_pci_route(p, MQ_QUEUES, &r);	/* no such queue */
	EXPECT_EQ(VNL_PCI_ROUTE_NONE, r.kind);
	vnl_pci_route(p, VNL_PCI_SRC_CONFIG, &r);
	EXPECT_EQ(0, r.vector);
	/* The last vector, masked: its pending bit is bit MQ_QUEUES. */
	bw(p, VNL_PCI_BAR_MSIX, MQ_QUEUES * PCI_MSIX_ENTRY_SIZE +
	   PCI_MSIX_ENTRY_VECTOR_CTRL, 4, PCI_MSIX_ENTRY_CTRL_MASKBIT);
	vnl_pci_signal(p, MQ_QUEUES - 1);
	EXPECT_EQ(1ULL << MQ_QUEUES, pba(p));
}

TEST(one_pair_is_the_device_as_before)
{
	struct fake_be f;
	struct fake_vmm v;
	struct vnl_pci p;

	fake_be_init(&f, test_mac);
	memset(&v, 0, sizeof(v));
	vnl_pci_init(&p, &f.be, VNETLOOP_FEATURES | F_MQ, &fake_pci_ops, &v,
		     BAR_BASE, 10);
	EXPECT_EQ(2, rd(&p, CC(num_queues), 2));
	wr(&p, CC(device_feature_select), 4, 0);
	EXPECT_EQ((uint32_t)(F_V1 | F_MAC | F_EIDX),
		  rd(&p, CC(device_feature), 4));
	EXPECT_EQ(3, p.nvectors);
	EXPECT_EQ(2, cr(&p, VNL_PCI_CAP_MSIX + PCI_MSIX_FLAGS, 2));
	EXPECT_EQ(2 * VNL_PCI_NOTIFY_MULT,
		  cr(&p, VNL_PCI_CAP_NOTIFY + VIRTIO_PCI_CAP_LENGTH, 4));
	vnl_pci_destroy(&p);
}

TEST_HARNESS_MAIN
