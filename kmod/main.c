// SPDX-License-Identifier: GPL-2.0
/*
 * vnetloop.ko: a virtio-net loopback data plane. Module init and exit; the
 * pieces register in dependency order (debugfs root, genl family, then the
 * misc device that creates devices using both).
 */
#define pr_fmt(fmt) "vnetloop: " fmt

#include <linux/module.h>
#include <net/genetlink.h>

#include "vnetloop.h"

/* Guards vnl_devs and keeps a looked-up device alive until unlocked. */
DEFINE_MUTEX(vnl_devs_lock);
DEFINE_XARRAY_ALLOC(vnl_devs);

static int __init vnl_init(void)
{
	int err;

	vnl_debugfs_init();

	err = vnl_genl_init();
	if (err) {
		pr_err("registering the generic netlink family failed: %d\n",
		       err);
		goto err_debugfs;
	}

	err = vnl_misc_init();
	if (err) {
		pr_err("registering /dev/vnetloop failed: %d\n", err);
		goto err_genl;
	}
	return 0;

err_genl:
	vnl_genl_exit();
err_debugfs:
	vnl_debugfs_exit();
	return err;
}

/* The *_exit() helpers are not __exit: vnl_init()'s unwinding calls them. */
static void __exit vnl_exit(void)
{
	/* Open devices pin the module, so none is left here. */
	vnl_misc_exit();
	vnl_genl_exit();
	vnl_debugfs_exit();
	xa_destroy(&vnl_devs);
}

module_init(vnl_init);
module_exit(vnl_exit);

/*
 * Resolving the family ("vnetloop stats") loads the module: the generic
 * netlink controller requests "net-pf-16-proto-16-family-vnetloop".
 */
MODULE_ALIAS_GENL_FAMILY(VNETLOOP_GENL_NAME);
MODULE_DESCRIPTION("virtio-net loopback data plane (ioeventfd-driven worker)");
MODULE_LICENSE("GPL");
