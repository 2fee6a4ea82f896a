// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of the KVM statistics reader (user/vmm/kvm_stats.c): on stats
 * files made here (memfds laid out as KVM lays out KVM_GET_STATS_FD's
 * file), which of the entries it takes, the sums over vCPUs, and files
 * it must refuse; then on a real VM (/dev/kvm): a vCPU's file has "exits"
 * and the counters only grow.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "user/vmm/kvm_stats.h"

#define NAME_SIZE	48

/* One entry of a made-up stats file. */
struct fake_stat {
	const char *name;
	uint32_t flags;		/* type | unit | base */
	uint16_t size;		/* u64s */
};

/* Our layout: the header, an id string, the descriptors, the data. */
#define ID_OFF		sizeof(struct kvm_stats_header)
#define DESC_OFF	(ID_OFF + NAME_SIZE)

static const struct fake_stat stats[] = {
	{ "halt_poll_fail_hist", KVM_STATS_TYPE_LOG_HIST, 32 },
	{ "exits", KVM_STATS_TYPE_CUMULATIVE, 1 },
	{ "max_mmu_page_hash_collisions", KVM_STATS_TYPE_PEAK, 1 },
	{ "guest_mode", KVM_STATS_TYPE_INSTANT | KVM_STATS_UNIT_BOOLEAN, 1 },
	{ "pair", KVM_STATS_TYPE_CUMULATIVE, 2 },
	{ "halt_wait_ns", KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_SECONDS,
	  1 },
	{ "io_exits", KVM_STATS_TYPE_CUMULATIVE, 1 },
};
#define NSTATS		(sizeof(stats) / sizeof(stats[0]))

/*
 * A stats file whose entry i holds base + i in each of its u64s; data
 * placed in reverse order of the descriptors, as nothing promises order.
 */
static int fake_file(uint64_t base, uint32_t name_size, size_t cut)
{
	size_t step = sizeof(struct kvm_stats_desc) + name_size;
	uint32_t data_off = DESC_OFF + NSTATS * step, off = 0;
	struct kvm_stats_header h = {
		.name_size = name_size, .num_desc = NSTATS,
		.id_offset = ID_OFF, .desc_offset = DESC_OFF,
		.data_offset = data_off,
	};
	uint32_t offs[NSTATS];
	size_t len;
	uint8_t *f;
	int fd;

	for (int i = NSTATS - 1; i >= 0; i--) {
		offs[i] = off;
		off += stats[i].size * 8;
	}
	len = data_off + off;
	f = calloc(1, len);
	if (!f)
		return -1;
	memcpy(f, &h, sizeof(h));
	strcpy((char *)f + ID_OFF, "kvm-1/vcpu-0");
	for (size_t i = 0; i < NSTATS; i++) {
		struct kvm_stats_desc d = {
			.flags = stats[i].flags, .size = stats[i].size,
			.offset = offs[i],
		};
		uint8_t *p = f + DESC_OFF + i * step;

		memcpy(p, &d, sizeof(d));
		strncpy((char *)p + sizeof(d), stats[i].name, name_size - 1);
		for (unsigned int k = 0; k < stats[i].size; k++) {
			uint64_t v = base + i;

			memcpy(f + data_off + offs[i] + 8 * k, &v, 8);
		}
	}
	fd = memfd_create("kvm-stats", MFD_CLOEXEC);
	if (fd >= 0 && write(fd, f, len - cut) != (ssize_t)(len - cut)) {
		close(fd);
		fd = -1;
	}
	free(f);
	return fd;
}

TEST(takes_cumulative_single_counters_and_sums_vcpus)
{
	struct kvm_stats ks;
	int fds[2] = { fake_file(100, NAME_SIZE, 0),
		       fake_file(1000, NAME_SIZE, 0) };
	uint64_t v[8];

	ASSERT_LE(0, fds[0]);
	ASSERT_LE(0, fds[1]);
	ASSERT_EQ(0, kvm_stats_open_fds(&ks, fds, 2)) {
		TH_LOG("%s", ks.error);
	}
	/* exits, halt_wait_ns, io_exits: not the histogram, the peak, the
	 * instant value or the two-u64 entry. */
	ASSERT_EQ(3, ks.n);
	EXPECT_STREQ("exits", kvm_stats_name(&ks, 0));
	EXPECT_STREQ("halt_wait_ns", kvm_stats_name(&ks, 1));
	EXPECT_STREQ("io_exits", kvm_stats_name(&ks, 2));
	EXPECT_EQ(NULL, kvm_stats_name(&ks, 3));
	EXPECT_EQ(2, kvm_stats_find(&ks, "io_exits"));
	EXPECT_EQ(-1, kvm_stats_find(&ks, "guest_mode"));
	EXPECT_EQ(-1, kvm_stats_find(&ks, "pair"));
	ASSERT_EQ(0, kvm_stats_read(&ks, v));
	/* Entry i holds base + i in both files. */
	EXPECT_EQ(101 + 1001, v[0]);
	EXPECT_EQ(105 + 1005, v[1]);
	EXPECT_EQ(106 + 1006, v[2]);
	kvm_stats_close(&ks);
	EXPECT_EQ(0, ks.n);
}

TEST(delta_is_end_minus_start)
{
	const uint64_t a[3] = { 5, 0, UINT64_MAX - 1 }, b[3] = { 9, 0, 1 };
	uint64_t d[3];

	kvm_stats_delta(3, a, b, d);
	EXPECT_EQ(4, d[0]);
	EXPECT_EQ(0, d[1]);
	/* A counter that wrapped still gives its step. */
	EXPECT_EQ(3, d[2]);
}

TEST(refuses_vcpus_laid_out_differently)
{
	struct kvm_stats ks;
	int fds[2] = { fake_file(0, NAME_SIZE, 0),
		       fake_file(0, NAME_SIZE + 8, 0) };

	ASSERT_LE(0, fds[0]);
	ASSERT_LE(0, fds[1]);
	EXPECT_EQ(-EPROTO, kvm_stats_open_fds(&ks, fds, 2));
	EXPECT_NE(NULL, strstr(ks.error, "vCPU 1")) {
		TH_LOG("%s", ks.error);
	}
	EXPECT_EQ(0, ks.nfds);
}

TEST(refuses_a_cut_file)
{
	struct kvm_stats ks;
	/* Cut into "exits", the last counter taken (the histogram is after). */
	int fd = fake_file(0, NAME_SIZE, 0),
	    cut = fake_file(0, NAME_SIZE, 32 * 8 + 4);
	uint64_t v[8];

	ASSERT_LE(0, fd);
	ASSERT_LE(0, cut);
	/* The data ends early: the layout reads, the values do not. */
	ASSERT_EQ(0, kvm_stats_open_fds(&ks, &cut, 1));
	EXPECT_EQ(-EPROTO, kvm_stats_read(&ks, v));
	EXPECT_NE(NULL, strstr(ks.error, "ends early")) {
		TH_LOG("%s", ks.error);
	}
	kvm_stats_close(&ks);
	/* A header alone. */
	ASSERT_EQ(0, ftruncate(fd, sizeof(struct kvm_stats_header)));
	EXPECT_EQ(-EPROTO, kvm_stats_open_fds(&ks, &fd, 1));
	EXPECT_NE(NULL, strstr(ks.error, "descriptors")) {
		TH_LOG("%s", ks.error);
	}
}

TEST(real_vcpu_has_exits)
{
	int kvm, vm, vcpu[2] = { -1, -1 }, i;
	struct kvm_stats ks;
	unsigned int k;
	uint64_t *a, *b;

	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no /dev/kvm");
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, kvm);
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	ASSERT_LE(0, vm);
	if (ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_BINARY_STATS_FD) <= 0)
		SKIP(goto out, "KVM has no binary statistics");
	for (i = 0; i < 2; i++) {
		vcpu[i] = ioctl(vm, KVM_CREATE_VCPU, i);
		ASSERT_LE(0, vcpu[i]);
	}
	ASSERT_EQ(0, kvm_stats_open(&ks, vm, vcpu, 2)) {
		TH_LOG("%s", ks.error);
	}
	EXPECT_LE(0, kvm_stats_find(&ks, "exits"));
	EXPECT_LE(0, kvm_stats_find(&ks, "halt_exits"));
	EXPECT_EQ(-1, kvm_stats_find(&ks, "guest_mode"));	/* instant */
	a = calloc(ks.n, sizeof(*a));
	b = calloc(ks.n, sizeof(*b));
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, kvm_stats_read(&ks, a));
	ASSERT_EQ(0, kvm_stats_read(&ks, b));
	for (k = 0; k < ks.n; k++) {
		EXPECT_LE(a[k], b[k]) {
			TH_LOG("%s went back", kvm_stats_name(&ks, k));
		}
	}
	free(a);
	free(b);
	kvm_stats_close(&ks);
out:
	for (i = 0; i < 2; i++)
		if (vcpu[i] >= 0)
			close(vcpu[i]);
	close(vm);
	close(kvm);
}

TEST_HARNESS_MAIN
