/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnetloop.ko internals: one struct vnl_device per open of /dev/vnetloop,
 * and the small interfaces between the module's files.
 */
#ifndef VNETLOOP_KMOD_H
#define VNETLOOP_KMOD_H

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/init.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/types.h>
#include <linux/u64_stats_sync.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "core/vnl_engine.h"

struct dentry;
struct eventfd_ctx;
struct mm_struct;
struct pid;
struct task_struct;

/* The kick eventfd, hooked into its wait queue between START and RESET. */
struct vnl_kick {
	struct file *file;
	wait_queue_head_t *wqh;		/* non-NULL while hooked */
	wait_queue_entry_t wait;
	poll_table table;
};

struct vnl_pcpu_stats {
	u64_stats_t c[VNETLOOP_NUM_COUNTERS];
	struct u64_stats_sync syncp;
};

/* vnl_device.flags bits */
enum {
	VNL_WORK_QUEUED,	/* the worker has a drain to do */
};

struct vnl_device {
	u32 id;
	/* Serialises the configuring ioctls, START/RESET and release. */
	struct mutex lock;
	struct mm_struct *mm;		/* owner's mm, mmgrab()ed; set once */
	struct pid *owner;		/* owner's thread group; set once */
	kuid_t uid;			/* opener's euid: who may read it */
	struct vnl_kick kick;
	struct eventfd_ctx *call;
	struct task_struct *worker;	/* between START and RESET */
	/* START hands the worker its starter and waits for it to join. */
	struct completion worker_ready;
	struct task_struct *starter;
	int worker_err;
	bool running;
	unsigned long flags;
	u32 budget_packets;		/* copied into eng before each drain */
	u32 budget_bytes;
	struct vnl_pcpu_stats __percpu *stats;
	struct dentry *dbg;
	u8 *bounce;			/* VNL_BOUNCE_SIZE, for the engine */
	/*
	 * Touched only by the worker while running, else under lock; its
	 * interrupt status and NEEDS_RESET are atomics, read at any time.
	 */
	struct vnl_engine eng;
};

/* main.c: every open device, by id. Lookups hold vnl_devs_lock. */
extern struct mutex vnl_devs_lock;
extern struct xarray vnl_devs;

/* dev.c */
int __init vnl_misc_init(void);
void vnl_misc_exit(void);
u32 vnl_owner_pid(const struct vnl_device *vd);

/* ioctl.c */
long vnl_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
void vnl_device_stop(struct vnl_device *vd);

/* worker.c */
int vnl_worker_start(struct vnl_device *vd);
void vnl_worker_stop(struct vnl_device *vd);
int vnl_kick_hook(struct vnl_device *vd);
void vnl_kick_unhook(struct vnl_device *vd);
extern const struct vnl_engine_ops vnl_engine_ops;

/* stats.c */
extern const char *const vnl_counter_names[VNETLOOP_NUM_COUNTERS];
int vnl_stats_alloc(struct vnl_device *vd);
void vnl_stats_free(struct vnl_device *vd);
void vnl_stats_add(struct vnl_device *vd, unsigned int id, u64 n);
void vnl_stats_commit(void *ctx, const u64 *delta);
void vnl_stats_read_cpu(struct vnl_device *vd, int cpu, u64 *v);

/* debugfs.c */
void __init vnl_debugfs_init(void);
void vnl_debugfs_exit(void);
void vnl_debugfs_add(struct vnl_device *vd);
void vnl_debugfs_remove(struct vnl_device *vd);

/* genl.c */
int __init vnl_genl_init(void);
void vnl_genl_exit(void);
void vnl_genl_dev_event(u8 cmd, u32 dev_id, u32 pid);
void vnl_genl_poison_event(u32 dev_id, u32 queue);

#endif /* VNETLOOP_KMOD_H */
