// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the virtio-mmio transport (user/dev/mmio.c), with
 * no KVM: register identity, the 4-byte width rule, feature windows, the
 * status state machine, FAILED on bad features, queue configuration windows,
 * config space, interrupt status merging, and what reaches the backend.
 * A recording fake stands in for the backend.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "selftests/vmm/fake_be.h"
#include "user/dev/mmio.h"

static const uint8_t test_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

/* Short names for the kernel's bits, to keep the state sequences legible. */
#define ST_ACK		VIRTIO_CONFIG_S_ACKNOWLEDGE
#define ST_DRV		VIRTIO_CONFIG_S_DRIVER
#define ST_FOK		VIRTIO_CONFIG_S_FEATURES_OK
#define ST_DOK		VIRTIO_CONFIG_S_DRIVER_OK
#define ST_NR		VIRTIO_CONFIG_S_NEEDS_RESET
#define ST_FAIL		VIRTIO_CONFIG_S_FAILED
#define F_AP		(1ULL << VIRTIO_F_ACCESS_PLATFORM)
/* What the transport offers: never ACCESS_PLATFORM. */
#define OFFERED		(VNETLOOP_FEATURES & ~F_AP)

static uint64_t rdw(struct vnl_mmio *m, uint64_t off, uint32_t len)
{
	uint64_t v = 0;

	vnl_mmio_read(m, off, &v, len);
	return v;
}

static uint32_t rd(struct vnl_mmio *m, uint64_t off)
{
	return rdw(m, off, 4);
}

static void wrw(struct vnl_mmio *m, uint64_t off, uint32_t len, uint64_t v)
{
	vnl_mmio_write(m, off, &v, len);
}

static void wr(struct vnl_mmio *m, uint64_t off, uint32_t v)
{
	wrw(m, off, 4, v);
}

static void set_features(struct vnl_mmio *m, uint64_t f)
{
	wr(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(m, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(m, VIRTIO_MMIO_DRIVER_FEATURES, f >> 32);
}

/* ACKNOWLEDGE, DRIVER, features, FEATURES_OK. */
static void to_features_ok(struct vnl_mmio *m, uint64_t f)
{
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK);
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV);
	set_features(m, f);
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK);
}

static void setup_queue(struct vnl_mmio *m, uint32_t q, uint32_t num,
			uint64_t base)
{
	wr(m, VIRTIO_MMIO_QUEUE_SEL, q);
	wr(m, VIRTIO_MMIO_QUEUE_NUM, num);
	wr(m, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)base);
	wr(m, VIRTIO_MMIO_QUEUE_DESC_HIGH, base >> 32);
	wr(m, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)(base + 0x1000));
	wr(m, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (base + 0x1000) >> 32);
	wr(m, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)(base + 0x2000));
	wr(m, VIRTIO_MMIO_QUEUE_USED_HIGH, (base + 0x2000) >> 32);
	wr(m, VIRTIO_MMIO_QUEUE_READY, 1);
}

static void to_driver_ok(struct vnl_mmio *m)
{
	to_features_ok(m, F_V1 | F_MAC | F_EIDX);
	setup_queue(m, 0, 256, 0x10000);
	setup_queue(m, 1, 128, 0x123400000ULL);
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK | ST_DOK);
}

static uint64_t take_eventfd(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

FIXTURE(mmio) {
	struct fake_be f;
	struct vnl_mmio m;
};

FIXTURE_SETUP(mmio)
{
	fake_be_init(&self->f, test_mac);
	ASSERT_EQ(0, fake_be_one_line(&self->f));
	vnl_mmio_init(&self->m, &self->f.be, VNETLOOP_FEATURES);
}

FIXTURE_TEARDOWN(mmio)
{
	vnl_mmio_destroy(&self->m);
	close(self->f.be.config_fd);
}

TEST_F(mmio, identity_registers)
{
	EXPECT_EQ(VNL_MMIO_MAGIC, rd(&self->m, VIRTIO_MMIO_MAGIC_VALUE));
	EXPECT_EQ(VNL_MMIO_VERSION, rd(&self->m, VIRTIO_MMIO_VERSION));
	EXPECT_EQ(VIRTIO_ID_NET, rd(&self->m, VIRTIO_MMIO_DEVICE_ID));
	EXPECT_EQ(VNL_MMIO_VENDOR, rd(&self->m, VIRTIO_MMIO_VENDOR_ID));
	EXPECT_EQ(0, rd(&self->m, VIRTIO_MMIO_CONFIG_GENERATION));
	EXPECT_EQ(0, rd(&self->m, VIRTIO_MMIO_STATUS));
	EXPECT_EQ(0, rd(&self->m, VIRTIO_MMIO_INTERRUPT_STATUS));
}

TEST_F(mmio, narrow_and_wide_register_reads_are_all_ones)
{
	EXPECT_EQ(0xff, rdw(&self->m, VIRTIO_MMIO_MAGIC_VALUE, 1));
	EXPECT_EQ(0xffff, rdw(&self->m, VIRTIO_MMIO_VERSION, 2));
	EXPECT_EQ(0xffffffffffffffffULL, rdw(&self->m, VIRTIO_MMIO_STATUS, 8));
	/* Misaligned 4-byte access: not a register access either. */
	EXPECT_EQ(0xffffffff, rdw(&self->m, VIRTIO_MMIO_MAGIC_VALUE + 2, 4));
}

TEST_F(mmio, narrow_and_wide_register_writes_are_ignored)
{
	wrw(&self->m, VIRTIO_MMIO_STATUS, 1, ST_ACK);
	EXPECT_EQ(0, rd(&self->m, VIRTIO_MMIO_STATUS));
	wrw(&self->m, VIRTIO_MMIO_STATUS, 2, ST_ACK);
	EXPECT_EQ(0, rd(&self->m, VIRTIO_MMIO_STATUS));
	wrw(&self->m, VIRTIO_MMIO_STATUS, 8, ST_ACK);
	EXPECT_EQ(0, rd(&self->m, VIRTIO_MMIO_STATUS));
	wrw(&self->m, VIRTIO_MMIO_STATUS + 1, 4, ST_ACK);
	EXPECT_EQ(0, rd(&self->m, VIRTIO_MMIO_STATUS));
	wr(&self->m, VIRTIO_MMIO_STATUS, ST_ACK);
	EXPECT_EQ(ST_ACK, rd(&self->m, VIRTIO_MMIO_STATUS));
}

TEST_F(mmio, unknown_and_write_only_registers_read_zero)
{
	static const uint32_t offs[] = {
		0x018, 0x028, 0x03c, 0x048, 0x058, 0x068, 0x0b0, 0x0c0, 0x0f8,
		VIRTIO_MMIO_DEVICE_FEATURES_SEL, VIRTIO_MMIO_DRIVER_FEATURES,
		VIRTIO_MMIO_DRIVER_FEATURES_SEL, VIRTIO_MMIO_QUEUE_SEL,
		VIRTIO_MMIO_QUEUE_NUM, VIRTIO_MMIO_QUEUE_NOTIFY,
		VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_QUEUE_DESC_LOW,
	};

	to_driver_ok(&self->m);
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		wr(&self->m, offs[i] == VIRTIO_MMIO_QUEUE_NOTIFY ||
		   offs[i] == VIRTIO_MMIO_INTERRUPT_ACK ||
		   offs[i] == VIRTIO_MMIO_QUEUE_SEL ? 0x100 + i : offs[i],
		   0xdeadbeef);
		EXPECT_EQ(0, rd(&self->m, offs[i]))
			TH_LOG("offset 0x%03x", offs[i]);
	}
	EXPECT_EQ(ST_ACK | ST_DRV | ST_FOK | ST_DOK,
		  rd(&self->m, VIRTIO_MMIO_STATUS));
}

TEST_F(mmio, device_feature_windows)
{
	EXPECT_EQ((uint32_t)OFFERED,
		  rd(&self->m, VIRTIO_MMIO_DEVICE_FEATURES));
	wr(&self->m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	EXPECT_EQ(OFFERED >> 32, rd(&self->m, VIRTIO_MMIO_DEVICE_FEATURES));
	/* VERSION_1 only: ACCESS_PLATFORM is not the guest's business. */
	EXPECT_EQ(1, rd(&self->m, VIRTIO_MMIO_DEVICE_FEATURES));
	wr(&self->m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	EXPECT_EQ(0, rd(&self->m, VIRTIO_MMIO_DEVICE_FEATURES));
	wr(&self->m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0xffffffff);
	EXPECT_EQ(0, rd(&self->m, VIRTIO_MMIO_DEVICE_FEATURES));
}

TEST_F(mmio, minimal_feature_set_without_event_idx)
{
	vnl_mmio_destroy(&self->m);
	vnl_mmio_init(&self->m, &self->f.be, VNETLOOP_FEATURES & ~F_EIDX);
	EXPECT_EQ(F_MAC, rd(&self->m, VIRTIO_MMIO_DEVICE_FEATURES));
	/* Accepting EVENT_IDX when it is not offered fails the device. */
	to_features_ok(&self->m, F_V1 | F_MAC | F_EIDX);
	EXPECT_EQ(ST_ACK | ST_DRV | ST_FAIL,
		  rd(&self->m, VIRTIO_MMIO_STATUS));
}

TEST_F(mmio, access_platform_is_never_offered_nor_accepted)
{
	/* The device offers it and the VMM asked for it: still not shown. */
	wr(&self->m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	EXPECT_EQ(1, rd(&self->m, VIRTIO_MMIO_DEVICE_FEATURES));
	to_features_ok(&self->m, F_V1 | F_AP);
	EXPECT_EQ(ST_ACK | ST_DRV | ST_FAIL,
		  rd(&self->m, VIRTIO_MMIO_STATUS));
}

TEST_F(mmio, only_what_the_device_offers_is_offered)
{
	vnl_mmio_destroy(&self->m);
	self->f.be.features = F_V1 | F_MAC | F_AP;
	vnl_mmio_init(&self->m, &self->f.be, VNETLOOP_FEATURES);
	EXPECT_EQ(F_MAC, rd(&self->m, VIRTIO_MMIO_DEVICE_FEATURES));
	to_features_ok(&self->m, F_V1 | F_MAC | F_EIDX);
	EXPECT_EQ(ST_ACK | ST_DRV | ST_FAIL,
		  rd(&self->m, VIRTIO_MMIO_STATUS));
}

TEST_F(mmio, status_steps_reach_the_backend_with_the_features)
{
	struct vnl_mmio *m = &self->m;

	to_driver_ok(m);
	ASSERT_EQ(3, self->f.steps);
	EXPECT_EQ(ST_ACK, self->f.step_status[0]);
	EXPECT_EQ(ST_ACK | ST_DRV, self->f.step_status[1]);
	EXPECT_EQ(ST_ACK | ST_DRV | ST_FOK, self->f.step_status[2]);
	EXPECT_EQ(F_V1 | F_MAC | F_EIDX, self->f.step_features);
	/* DRIVER_OK is the start, with the rings. */
	EXPECT_EQ(1, self->f.starts);
	/* Writes that add nothing reach nothing. */
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK | ST_DOK);
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK);
	EXPECT_EQ(3, self->f.steps);
	EXPECT_EQ(1, self->f.starts);
	wr(m, VIRTIO_MMIO_STATUS, 0);
	EXPECT_EQ(1, self->f.resets);
	EXPECT_EQ(3, self->f.steps);
}

TEST_F(mmio, a_step_the_device_refuses_fails_the_device)
{
	struct vnl_mmio *m = &self->m;

	self->f.step_ret = -EIO;
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK);
	EXPECT_EQ(ST_FAIL, rd(m, VIRTIO_MMIO_STATUS));
	EXPECT_EQ(1, self->f.steps);
	wr(m, VIRTIO_MMIO_STATUS, ST_FAIL | ST_ACK);
	EXPECT_EQ(1, self->f.steps);
	wr(m, VIRTIO_MMIO_STATUS, 0);
	self->f.step_ret = 0;
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK);
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV);
	set_features(m, F_V1 | F_MAC);
	/* The device does not take the features. */
	self->f.step_ret = -EIO;
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK);
	EXPECT_EQ(ST_ACK | ST_DRV | ST_FAIL, rd(m, VIRTIO_MMIO_STATUS));
	EXPECT_EQ(F_V1 | F_MAC, self->f.step_features);
	setup_queue(m, 1, 64, 0x20000);
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK | ST_DOK);
	EXPECT_EQ(0, self->f.starts);
}

TEST_F(mmio, status_reads_leave_interrupt_status_alone)
{
	struct vnl_mmio *m = &self->m;

	to_driver_ok(m);
	self->f.isr = VIRTIO_MMIO_INT_VRING;
	rd(m, VIRTIO_MMIO_STATUS);
	rd(m, VIRTIO_MMIO_STATUS);
	EXPECT_EQ(0, self->f.isr_reads);
	EXPECT_EQ(VIRTIO_MMIO_INT_VRING,
		  rd(m, VIRTIO_MMIO_INTERRUPT_STATUS));
	EXPECT_EQ(1, self->f.isr_reads);
	EXPECT_EQ(0, self->m.dev.isr_empty_reads);
	self->f.isr = 0;
	EXPECT_EQ(0, rd(m, VIRTIO_MMIO_INTERRUPT_STATUS));
	EXPECT_EQ(1, self->m.dev.isr_empty_reads);
}

TEST_F(mmio, status_adds_one_bit_at_a_time_in_order)
{
	struct vnl_mmio *m = &self->m;

	wr(m, VIRTIO_MMIO_STATUS, ST_DRV);		/* skips ACK */
	EXPECT_EQ(0, rd(m, VIRTIO_MMIO_STATUS));
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV);	/* two bits */
	EXPECT_EQ(0, rd(m, VIRTIO_MMIO_STATUS));
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK);
	EXPECT_EQ(ST_ACK, rd(m, VIRTIO_MMIO_STATUS));
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_FOK);	/* skips DRIVER */
	EXPECT_EQ(ST_ACK, rd(m, VIRTIO_MMIO_STATUS));
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DOK);
	EXPECT_EQ(ST_ACK, rd(m, VIRTIO_MMIO_STATUS));
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV);
	EXPECT_EQ(ST_ACK | ST_DRV, rd(m, VIRTIO_MMIO_STATUS));
	wr(m, VIRTIO_MMIO_STATUS, ST_DRV);		/* clears ACK */
	EXPECT_EQ(ST_ACK | ST_DRV, rd(m, VIRTIO_MMIO_STATUS));
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV);	/* adds nothing */
	EXPECT_EQ(ST_ACK | ST_DRV, rd(m, VIRTIO_MMIO_STATUS));
	set_features(m, F_V1);
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_DOK);
	EXPECT_EQ(ST_ACK | ST_DRV, rd(m, VIRTIO_MMIO_STATUS));
	EXPECT_EQ(0, self->f.starts);
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK);
	EXPECT_EQ(ST_ACK | ST_DRV | ST_FOK, rd(m, VIRTIO_MMIO_STATUS));
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK | ST_DOK);
	EXPECT_EQ(ST_ACK | ST_DRV | ST_FOK | ST_DOK, rd(m, VIRTIO_MMIO_STATUS));
	EXPECT_EQ(1, self->f.starts);
	/* Nothing comes after DRIVER_OK. */
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK | ST_DOK | 0x10);
	EXPECT_EQ(ST_ACK | ST_DRV | ST_FOK | ST_DOK, rd(m, VIRTIO_MMIO_STATUS));
	EXPECT_EQ(1, self->f.starts);
}

TEST_F(mmio, driver_features_only_between_driver_and_features_ok)
{
	struct vnl_mmio *m = &self->m;

	set_features(m, F_V1 | F_MAC | F_EIDX);		/* before DRIVER */
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK);
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV);
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK);
	/* The early write did not count: no VERSION_1, so FAILED. */
	EXPECT_EQ(ST_ACK | ST_DRV | ST_FAIL, rd(m, VIRTIO_MMIO_STATUS));

	wr(m, VIRTIO_MMIO_STATUS, 0);
	to_features_ok(m, F_V1);
	set_features(m, F_V1 | F_MAC);			/* after FEATURES_OK */
	setup_queue(m, 1, 64, 0x20000);
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK | ST_DOK);
	ASSERT_EQ(1, self->f.starts);
	EXPECT_EQ(F_V1, self->f.features);
}

TEST_F(mmio, driver_feature_windows_other_than_0_and_1_ignored)
{
	struct vnl_mmio *m = &self->m;

	wr(m, VIRTIO_MMIO_STATUS, ST_ACK);
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV);
	set_features(m, F_V1 | F_MAC);
	wr(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
	wr(m, VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK);
	EXPECT_EQ(ST_ACK | ST_DRV | ST_FOK, rd(m, VIRTIO_MMIO_STATUS));
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK | ST_DOK);
	EXPECT_EQ(F_V1 | F_MAC, self->f.features);
}

TEST_F(mmio, failed_when_accepting_a_bit_not_offered)
{
	struct vnl_mmio *m = &self->m;

	to_features_ok(m, F_V1 | 1);			/* CSUM */
	EXPECT_EQ(ST_ACK | ST_DRV | ST_FAIL, rd(m, VIRTIO_MMIO_STATUS));
	/* Stuck until reset: no FEATURES_OK, no DRIVER_OK. */
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FAIL | ST_FOK);
	EXPECT_EQ(ST_ACK | ST_DRV | ST_FAIL, rd(m, VIRTIO_MMIO_STATUS));
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FAIL | ST_DOK);
	EXPECT_EQ(0, self->f.starts);
	wr(m, VIRTIO_MMIO_STATUS, 0);
	EXPECT_EQ(0, rd(m, VIRTIO_MMIO_STATUS));
	to_features_ok(m, F_V1);
	EXPECT_EQ(ST_ACK | ST_DRV | ST_FOK, rd(m, VIRTIO_MMIO_STATUS));
}

TEST_F(mmio, failed_without_version_1)
{
	to_features_ok(&self->m, F_MAC | F_EIDX);
	EXPECT_EQ(ST_ACK | ST_DRV | ST_FAIL, rd(&self->m, VIRTIO_MMIO_STATUS));
}

TEST_F(mmio, driver_may_set_failed)
{
	wr(&self->m, VIRTIO_MMIO_STATUS, ST_ACK);
	wr(&self->m, VIRTIO_MMIO_STATUS, ST_ACK | ST_FAIL);
	EXPECT_EQ(ST_ACK | ST_FAIL, rd(&self->m, VIRTIO_MMIO_STATUS));
}

TEST_F(mmio, queue_num_max)
{
	wr(&self->m, VIRTIO_MMIO_QUEUE_SEL, 0);
	EXPECT_EQ(256, rd(&self->m, VIRTIO_MMIO_QUEUE_NUM_MAX));
	wr(&self->m, VIRTIO_MMIO_QUEUE_SEL, 1);
	EXPECT_EQ(256, rd(&self->m, VIRTIO_MMIO_QUEUE_NUM_MAX));
	wr(&self->m, VIRTIO_MMIO_QUEUE_SEL, 2);
	EXPECT_EQ(0, rd(&self->m, VIRTIO_MMIO_QUEUE_NUM_MAX));
	wr(&self->m, VIRTIO_MMIO_QUEUE_SEL, 0x80000001);
	EXPECT_EQ(0, rd(&self->m, VIRTIO_MMIO_QUEUE_NUM_MAX));
}

TEST_F(mmio, queue_config_only_between_features_ok_and_driver_ok)
{
	struct vnl_mmio *m = &self->m;

	wr(m, VIRTIO_MMIO_STATUS, ST_ACK);
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV);
	setup_queue(m, 1, 64, 0x20000);			/* too early */
	EXPECT_EQ(0, rd(m, VIRTIO_MMIO_QUEUE_READY));
	set_features(m, F_V1);
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK);
	/* Without a QueueNum, QueueReady does not stick. */
	wr(m, VIRTIO_MMIO_QUEUE_READY, 1);
	EXPECT_EQ(0, rd(m, VIRTIO_MMIO_QUEUE_READY));
	setup_queue(m, 1, 64, 0x20000);
	EXPECT_EQ(1, rd(m, VIRTIO_MMIO_QUEUE_READY));
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK | ST_DOK);
	/* Too late: the backend already has the rings. */
	wr(m, VIRTIO_MMIO_QUEUE_READY, 0);
	EXPECT_EQ(1, rd(m, VIRTIO_MMIO_QUEUE_READY));
	setup_queue(m, 0, 32, 0x40000);
	EXPECT_EQ(0, rd(m, VIRTIO_MMIO_QUEUE_READY));
	ASSERT_EQ(1, self->f.starts);
	EXPECT_FALSE(self->f.q[0].ready);
	EXPECT_TRUE(self->f.q[1].ready);
	EXPECT_EQ(64, self->f.q[1].num);
}

TEST_F(mmio, queue_num_must_be_a_power_of_two_up_to_256)
{
	static const uint32_t bad[] = { 0, 3, 100, 257, 512, 0x80000000 };
	struct vnl_mmio *m = &self->m;

	to_features_ok(m, F_V1);
	wr(m, VIRTIO_MMIO_QUEUE_SEL, 1);
	wr(m, VIRTIO_MMIO_QUEUE_NUM, 16);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		wr(m, VIRTIO_MMIO_QUEUE_NUM, bad[i]);
	wr(m, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(m, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(m, VIRTIO_MMIO_QUEUE_NUM, 1);
	wr(m, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK | ST_DOK);
	ASSERT_EQ(1, self->f.starts);
	EXPECT_EQ(16, self->f.q[1].num);
	EXPECT_EQ(1, self->f.q[0].num);
}

TEST_F(mmio, queue_selector_out_of_range_is_inert)
{
	struct vnl_mmio *m = &self->m;

	to_features_ok(m, F_V1);
	setup_queue(m, 2, 64, 0x20000);
	EXPECT_EQ(0, rd(m, VIRTIO_MMIO_QUEUE_READY));
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK | ST_DOK);
	ASSERT_EQ(1, self->f.starts);
	EXPECT_FALSE(self->f.q[0].ready);
	EXPECT_FALSE(self->f.q[1].ready);
}

TEST_F(mmio, driver_ok_hands_over_features_and_rings)
{
	to_driver_ok(&self->m);
	ASSERT_EQ(1, self->f.starts);
	EXPECT_RINGS_HANDED_OVER(&self->f);
}

TEST_F(mmio, refused_rings_raise_needs_reset_and_config)
{
	self->f.start_ret = -EINVAL;
	to_driver_ok(&self->m);
	EXPECT_EQ(ST_ACK | ST_DRV | ST_FOK | ST_DOK | ST_NR,
		  rd(&self->m, VIRTIO_MMIO_STATUS));
	EXPECT_EQ(VIRTIO_MMIO_INT_CONFIG,
		  rd(&self->m, VIRTIO_MMIO_INTERRUPT_STATUS));
	EXPECT_EQ(1, take_eventfd(self->f.be.config_fd));
	wr(&self->m, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
	EXPECT_EQ(0, rd(&self->m, VIRTIO_MMIO_INTERRUPT_STATUS));
	wr(&self->m, VIRTIO_MMIO_STATUS, 0);
	EXPECT_EQ(0, rd(&self->m, VIRTIO_MMIO_STATUS));
}

TEST_F(mmio, tx_notify_reaches_the_backend_only_after_driver_ok)
{
	struct vnl_mmio *m = &self->m;

	wr(m, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	to_features_ok(m, F_V1);
	setup_queue(m, 1, 64, 0x20000);
	wr(m, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	EXPECT_EQ(0, self->f.notifies);
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK | ST_DOK);
	wr(m, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	wr(m, VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	wr(m, VIRTIO_MMIO_QUEUE_NOTIFY, 0x10001);
	EXPECT_EQ(0, self->f.notifies);
	wr(m, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	EXPECT_EQ(1, self->f.notifies);
	wrw(m, VIRTIO_MMIO_QUEUE_NOTIFY, 2, 1);
	EXPECT_EQ(1, self->f.notifies);
}

TEST_F(mmio, interrupt_status_merges_the_backend_and_ack_clears)
{
	struct vnl_mmio *m = &self->m;

	to_driver_ok(m);
	self->f.isr = VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG;
	EXPECT_EQ(3, rd(m, VIRTIO_MMIO_INTERRUPT_STATUS));
	wr(m, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	EXPECT_EQ(1, self->f.acks);
	EXPECT_EQ(VIRTIO_MMIO_INT_VRING, self->f.acked);
	EXPECT_EQ(VIRTIO_MMIO_INT_CONFIG, rd(m, VIRTIO_MMIO_INTERRUPT_STATUS));
	/* Only the two defined bits are passed on. */
	wr(m, VIRTIO_MMIO_INTERRUPT_ACK, 0xfffffffe);
	EXPECT_EQ(2, self->f.acks);
	EXPECT_EQ(VIRTIO_MMIO_INT_CONFIG, self->f.acked);
	wr(m, VIRTIO_MMIO_INTERRUPT_ACK, 0xfffffffc);
	EXPECT_EQ(2, self->f.acks);
	EXPECT_EQ(0, rd(m, VIRTIO_MMIO_INTERRUPT_STATUS));
}

TEST_F(mmio, status_shows_needs_reset_from_the_backend)
{
	struct vnl_mmio *m = &self->m;
	uint32_t st = ST_ACK | ST_DRV | ST_FOK | ST_DOK;

	self->f.status = VIRTIO_CONFIG_S_NEEDS_RESET;
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK);
	EXPECT_EQ(ST_ACK, rd(m, VIRTIO_MMIO_STATUS));
	wr(m, VIRTIO_MMIO_STATUS, 0);
	to_driver_ok(m);
	self->f.status = VIRTIO_CONFIG_S_NEEDS_RESET;
	EXPECT_EQ(st | ST_NR, rd(m, VIRTIO_MMIO_STATUS));
	/* A driver echoing NEEDS_RESET back adds no bit. */
	wr(m, VIRTIO_MMIO_STATUS, st | ST_NR);
	EXPECT_EQ(st | ST_NR, rd(m, VIRTIO_MMIO_STATUS));
	EXPECT_EQ(1, self->f.starts);
	wr(m, VIRTIO_MMIO_STATUS, 0);
	EXPECT_EQ(2, self->f.resets);
	EXPECT_EQ(0, rd(m, VIRTIO_MMIO_STATUS));
}

TEST_F(mmio, reset_forgets_everything)
{
	struct vnl_mmio *m = &self->m;

	to_driver_ok(m);
	wr(m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	wr(m, VIRTIO_MMIO_STATUS, 0);
	EXPECT_EQ(1, self->f.resets);
	EXPECT_EQ(0, rd(m, VIRTIO_MMIO_STATUS));
	EXPECT_EQ(0, rd(m, VIRTIO_MMIO_INTERRUPT_STATUS));
	/* Selector back to the low window. */
	EXPECT_EQ((uint32_t)OFFERED, rd(m, VIRTIO_MMIO_DEVICE_FEATURES));
	/* Queues not ready, queue selector back to 0. */
	EXPECT_EQ(0, rd(m, VIRTIO_MMIO_QUEUE_READY));
	wr(m, VIRTIO_MMIO_QUEUE_SEL, 1);
	EXPECT_EQ(0, rd(m, VIRTIO_MMIO_QUEUE_READY));
	/* Negotiated features gone: FEATURES_OK without writing them fails. */
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK);
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV);
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK);
	EXPECT_EQ(ST_ACK | ST_DRV | ST_FAIL, rd(m, VIRTIO_MMIO_STATUS));
}

TEST_F(mmio, config_space_is_the_mac)
{
	struct vnl_mmio *m = &self->m;

	for (int i = 0; i < 6; i++)
		EXPECT_EQ(test_mac[i], rdw(m, VIRTIO_MMIO_CONFIG + i, 1));
	EXPECT_EQ(0x1102, rdw(m, VIRTIO_MMIO_CONFIG, 2));
	EXPECT_EQ(0x33221102, rdw(m, VIRTIO_MMIO_CONFIG, 4));
	EXPECT_EQ(0x554433221102ULL, rdw(m, VIRTIO_MMIO_CONFIG, 8));
	EXPECT_EQ(0x5544, rdw(m, VIRTIO_MMIO_CONFIG + 4, 4));
	EXPECT_EQ(0, rdw(m, VIRTIO_MMIO_CONFIG + 6, 2));
	EXPECT_EQ(0, rdw(m, VIRTIO_MMIO_CONFIG + 8, 8));
	EXPECT_EQ(0, rdw(m, 0x1fc, 4));
	wrw(m, VIRTIO_MMIO_CONFIG, 4, 0xffffffff);
	wrw(m, VIRTIO_MMIO_CONFIG + 6, 2, 0xffff);
	EXPECT_EQ(0x554433221102ULL, rdw(m, VIRTIO_MMIO_CONFIG, 8));
}

TEST_F(mmio, config_space_comes_from_the_backend)
{
	struct vnl_mmio *m = &self->m;

	self->f.config[6] = 0xaa;
	self->f.config[7] = 0xbb;
	EXPECT_EQ(0xbbaa, rdw(m, VIRTIO_MMIO_CONFIG + 6, 2));
	/* A read across the end: the device's bytes, then zeros. */
	EXPECT_EQ(0xbbaa, rdw(m, VIRTIO_MMIO_CONFIG + 6, 4));
	self->f.be.config_size = 6;
	EXPECT_EQ(0, rdw(m, VIRTIO_MMIO_CONFIG + 6, 2));
	EXPECT_EQ(0x5544, rdw(m, VIRTIO_MMIO_CONFIG + 4, 4));
	/* A device that fails the read shows zeros. */
	self->f.config_ret = -EIO;
	EXPECT_EQ(0, rdw(m, VIRTIO_MMIO_CONFIG, 8));
}

/* ---- multiqueue: a device of four pairs ---- */

#define F_MQ		VNETLOOP_FEATURES_MQ
#define MQ_PAIRS	4
#define MQ_QUEUES	(2 * MQ_PAIRS + 1)

FIXTURE(mq) {
	struct fake_be f;
	struct vnl_mmio m;
};

FIXTURE_SETUP(mq)
{
	fake_be_init(&self->f, test_mac);
	fake_be_pairs(&self->f, MQ_PAIRS);
	ASSERT_EQ(0, fake_be_one_line(&self->f));
	vnl_mmio_init(&self->m, &self->f.be, VNETLOOP_FEATURES | F_MQ);
}

FIXTURE_TEARDOWN(mq)
{
	vnl_mmio_destroy(&self->m);
	close(self->f.be.config_fd);
}

TEST_F(mq, offers_mq_and_ctrl_vq_and_max_pairs)
{
	struct vnl_mmio *m = &self->m;

	wr(m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	EXPECT_EQ((uint32_t)(OFFERED | F_MQ),
		  rd(m, VIRTIO_MMIO_DEVICE_FEATURES));
	/* max_virtqueue_pairs, le16 at 8 of struct virtio_net_config. */
	EXPECT_EQ(MQ_PAIRS, rdw(m, VIRTIO_MMIO_CONFIG + 8, 2));
}

TEST_F(mq, every_queue_through_queue_sel)
{
	struct vnl_mmio *m = &self->m;

	for (unsigned int q = 0; q < MQ_QUEUES; q++) {
		wr(m, VIRTIO_MMIO_QUEUE_SEL, q);
		EXPECT_EQ(VNETLOOP_QUEUE_SIZE_MAX,
			  rd(m, VIRTIO_MMIO_QUEUE_NUM_MAX));
	}
	wr(m, VIRTIO_MMIO_QUEUE_SEL, MQ_QUEUES);
	EXPECT_EQ(0, rd(m, VIRTIO_MMIO_QUEUE_NUM_MAX));
	to_features_ok(m, F_V1 | F_MAC | F_MQ);
	for (unsigned int q = 0; q < MQ_QUEUES; q++)
		setup_queue(m, q, 16 << (q % 4), 0x100000 + q * 0x10000);
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK | ST_DOK);
	EXPECT_EQ(ST_ACK | ST_DRV | ST_FOK | ST_DOK, rd(m, VIRTIO_MMIO_STATUS));
	EXPECT_EQ(1, self->f.starts);
	EXPECT_EQ(F_V1 | F_MAC | F_MQ, self->f.features);
	for (unsigned int q = 0; q < MQ_QUEUES; q++) {
		EXPECT_TRUE(self->f.q[q].ready);
		EXPECT_EQ(16U << (q % 4), self->f.q[q].num);
		EXPECT_EQ(0x100000 + q * 0x10000, self->f.q[q].desc);
		EXPECT_EQ(0x102000 + q * 0x10000, self->f.q[q].used);
	}
}

TEST_F(mq, notifies_of_tx_queues_and_the_control_queue)
{
	struct vnl_mmio *m = &self->m;

	to_features_ok(m, F_V1 | F_MAC | F_MQ);
	setup_queue(m, 0, 256, 0x10000);
	wr(m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK | ST_DOK);
	for (unsigned int q = 0; q <= MQ_QUEUES; q++)
		wr(m, VIRTIO_MMIO_QUEUE_NOTIFY, q);
	/* TX 1, 3, 5, 7 and the control queue 8; RX and queue 9 nothing. */
	EXPECT_EQ(0x1aaULL, self->f.notified);
	EXPECT_EQ(5, self->f.notifies);
}

TEST(one_pair_is_the_device_as_before)
{
	struct fake_be f;
	struct vnl_mmio m;

	fake_be_init(&f, test_mac);
	/* Asked for MQ, but a one-pair device does not offer it. */
	vnl_mmio_init(&m, &f.be, VNETLOOP_FEATURES | F_MQ);
	wr(&m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	EXPECT_EQ((uint32_t)OFFERED, rd(&m, VIRTIO_MMIO_DEVICE_FEATURES));
	wr(&m, VIRTIO_MMIO_QUEUE_SEL, 2);
	EXPECT_EQ(0, rd(&m, VIRTIO_MMIO_QUEUE_NUM_MAX));
	EXPECT_EQ(0, rdw(&m, VIRTIO_MMIO_CONFIG + 8, 2));
	to_features_ok(&m, F_V1 | F_MAC);
	wr(&m, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK | ST_DOK);
	for (unsigned int q = 0; q < 4; q++)
		wr(&m, VIRTIO_MMIO_QUEUE_NOTIFY, q);
	EXPECT_EQ(1ULL << VNETLOOP_QUEUE_TX, f.notified);
	vnl_mmio_destroy(&m);
}

TEST_HARNESS_MAIN
