// SPDX-License-Identifier: GPL-2.0
/*
 * Device lifetime: each open is a device with its own id, visible in
 * netlink and debugfs exactly while its file is open. Run last: the final
 * test checks that no device outlived its file, whatever ran before (the
 * rig then checks that rmmod works and leaves no debugfs directory).
 */
#include <unistd.h>

#include "tests.h"

#define NDEV	8

TEST(open_close)
{
	bool dbg = !vnl_debugfs_missing();
	uint32_t ids[256];
	struct vg g[NDEV];
	size_t n;
	int i, j;

	for (i = 0; i < NDEV; i++) {
		ASSERT_EQ(0, vg_open(&g[i]));
		for (j = 0; j < i; j++) {
			ASSERT_NE(g[j].dev_id, g[i].dev_id);
		}
		/* Half of them configured and running. */
		if (i & 1) {
			ASSERT_EQ(0, vg_setup(&g[i], VG_FEATURES_EVENT_IDX,
					      64, 64));
		}
	}
	ASSERT_EQ(0, vnl_nl_dump_ids(ids, ARRAY_SIZE(ids), &n));
	for (i = 0; i < NDEV; i++) {
		EXPECT_TRUE(vnl_id_listed(ids, n, g[i].dev_id));
		if (dbg) {
			EXPECT_EQ(1, vnl_dbg_dev_exists(g[i].dev_id));
		}
	}
	for (i = 0; i < NDEV; i++) {
		uint32_t id = g[i].dev_id;

		vg_close(&g[i]);
		EXPECT_EQ(-ENODEV, vnl_nl_get(id, false,
					      &(struct vnl_nl_dev){ 0 }));
		if (dbg) {
			EXPECT_EQ(0, vnl_dbg_dev_exists(id));
		}
	}
	ASSERT_EQ(0, vnl_nl_dump_ids(ids, ARRAY_SIZE(ids), &n));
	for (i = 0; i < NDEV; i++) {
		EXPECT_FALSE(vnl_id_listed(ids, n, g[i].dev_id));
	}
}

/* A device lives as long as any reference to its file (here a dup). */
TEST(shared_file)
{
	struct vnl_nl_dev d;
	struct vg g;
	uint32_t id;
	int dupfd;

	ASSERT_EQ(0, vg_open(&g));
	id = g.dev_id;
	dupfd = dup(g.fd);
	ASSERT_LE(0, dupfd);
	vg_close(&g);
	EXPECT_EQ(0, vnl_nl_get(id, false, &d));
	close(dupfd);
	EXPECT_EQ(-ENODEV, vnl_nl_get(id, false, &d));
}

/*
 * Nothing left behind by any earlier test: no device in the dump and no
 * directory under debugfs vnetloop/. Needs a host where nobody else has
 * /dev/vnetloop open (the rig; a test host right after insmod).
 */
TEST(nothing_left)
{
	uint32_t ids[256];
	size_t n, i;
	int ret;

	ret = vnl_nl_dump_ids(ids, ARRAY_SIZE(ids), &n);
	ASSERT_EQ(0, ret) TH_LOG("netlink dump: %s", strerror(-ret));
	for (i = 0; i < n && i < ARRAY_SIZE(ids); i++)
		TH_LOG("device %u is still listed", ids[i]);
	EXPECT_EQ(0, n);
	if (vnl_debugfs_missing())
		return;
	ret = vnl_dbg_list(ids, ARRAY_SIZE(ids), &n);
	ASSERT_EQ(0, ret) TH_LOG("listing " VNL_DEBUGFS_DIR ": %s",
				 strerror(-ret));
	for (i = 0; i < n && i < ARRAY_SIZE(ids); i++)
		TH_LOG("debugfs directory %u is still there", ids[i]);
	EXPECT_EQ(0, n);
}

VNL_TEST_MAIN
