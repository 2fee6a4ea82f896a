/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnetloop.ko internals: one struct vnl_device per open of /dev/vnetloop,
 * and the small interfaces between the module's files.
 */
#ifndef VNETLOOP_KMOD_H
#define VNETLOOP_KMOD_H

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/if_ether.h>
#include <linux/init.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/spinlock.h>
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

/*
 * The most queue pairs a device may have (the max_queue_pairs parameter),
 * and its most virtqueues: RX 2i, TX 2i + 1, then the control queue.
 */
#define VNL_MAX_PAIRS	16
#define VNL_MAX_VQS	(2 * VNL_MAX_PAIRS + 1)

struct vnl_pair;

/*
 * A kick eventfd (a pair's TX queue's, or the control queue's), hooked
 * into its wait queue while the device runs: it queues work of one kind
 * (a vnl_pair.flags bit) for its pair's worker.
 */
struct vnl_kick {
	wait_queue_head_t *wqh;		/* non-NULL while hooked */
	wait_queue_entry_t wait;
	poll_table table;
	struct vnl_pair *pair;
	unsigned int work;
};

/* One virtqueue as its owner set it up (the vhost vring ioctls). */
struct vnl_vring {
	u32 num;			/* 0: not set */
	u64 desc, avail, used;		/* I/O virtual addresses */
	u16 base;	/* SET_VRING_BASE, or where the last run stopped */
	bool enabled;			/* VHOST_VDPA_SET_VRING_ENABLE */
	struct file *kick;		/* eventfd */
	struct eventfd_ctx *call;	/* under call_lock; NULL: none */
};

/*
 * The IOTLB: I/O virtual ranges the owner mapped to its own addresses,
 * with their access rights, in the engine's region form.
 */
struct vnl_iotlb {
	unsigned int n;
	struct vnl_region r[VNL_MEM_MAX_REGIONS];
};

struct vnl_pcpu_stats {
	u64_stats_t c[VNETLOOP_NUM_COUNTERS];
	struct u64_stats_sync syncp;
};

/* vnl_pair.flags bits */
enum {
	VNL_WORK_QUEUED,	/* the worker has a drain of its pair to do */
	VNL_CTRL_QUEUED,	/* ... of the control queue (pair 0) */
};

/*
 * One queue pair: its ring engine (pair 0's also owns the control queue),
 * its worker, its TX kick and its per-CPU counters. The worker is the
 * only one to drain the engine while the device runs.
 */
struct vnl_pair {
	struct vnl_device *vd;
	unsigned int index;
	/*
	 * Held by the worker around each drain, and by whoever changes the
	 * engine's view of memory while it runs (an IOTLB commit).
	 */
	struct mutex eng_lock;
	struct vnl_kick kick;		/* the TX queue's */
	struct vnl_kick ctrl_kick;	/* pair 0: the control queue's */
	struct task_struct *worker;	/* while running */
	/* Starting hands the worker its starter and waits for it to join. */
	struct completion worker_ready;
	struct task_struct *starter;
	int worker_err;
	unsigned long flags;
	struct vnl_pcpu_stats __percpu *stats;
	u8 *bounce;			/* VNL_BOUNCE_SIZE, for the engine */
	/*
	 * Touched only by the worker while running, else under vd->lock;
	 * its NEEDS_RESET is an atomic, read at any time.
	 */
	struct vnl_engine eng;
};

struct vnl_device {
	u32 id;
	/* Serialises the ioctls, the IOTLB writes and release. */
	struct mutex lock;
	struct mm_struct *mm;		/* owner's mm, mmgrab()ed */
	struct pid *owner;		/* owner's thread group */
	kuid_t uid;			/* opener's euid: who may read it */
	u8 status;			/* the driver's status bits */
	u8 mac[ETH_ALEN];
	/* Fixed at open: max_queue_pairs, and what follows from it. */
	unsigned int max_pairs;
	unsigned int nvqs;
	u64 offered;			/* GET_FEATURES */
	u64 features;			/* acked (SET_FEATURES) */
	u64 backend_features;
	struct vnl_vring vring[VNL_MAX_VQS];
	/*
	 * Fixed while running: the pairs with a worker (all of them with
	 * MQ, else pair 0), those of them with a TX ring, and the control
	 * queue's index (0: none).
	 */
	unsigned int npairs;
	unsigned int ready_pairs;
	unsigned int ctrl_idx;
	/* The pairs in use (VQ_PAIRS_SET); the others ignore their kicks. */
	unsigned int active_pairs;
	spinlock_t call_lock;		/* the vrings' call and config_call */
	struct eventfd_ctx *config_call;
	struct vnl_iotlb iotlb;
	struct vnl_iotlb batch;		/* the IOTLB being built in a batch */
	bool in_batch;
	bool running;
	u32 budget_packets;		/* copied into each engine per drain */
	u32 budget_bytes;
	struct dentry *dbg;
	struct vnl_pair *pairs;		/* max_pairs of them */
};

/* main.c: every open device, by id. Lookups hold vnl_devs_lock. */
extern struct mutex vnl_devs_lock;
extern struct xarray vnl_devs;

/* dev.c */
int __init vnl_misc_init(void);
void vnl_misc_exit(void);
u32 vnl_owner_pid(const struct vnl_device *vd);

/* vdpa.c */
long vnl_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
void vnl_device_teardown(struct vnl_device *vd);

/* iotlb.c */
ssize_t vnl_iotlb_write(struct file *file, const char __user *buf,
			size_t count, loff_t *ppos);
int vnl_iotlb_commit(struct vnl_device *vd);

/* worker.c */
int vnl_workers_start(struct vnl_device *vd);
void vnl_workers_stop(struct vnl_device *vd);
void vnl_worker_queue(struct vnl_pair *p, unsigned int work);
int vnl_kicks_hook(struct vnl_device *vd);
void vnl_kicks_unhook(struct vnl_device *vd);
extern const struct vnl_engine_ops vnl_engine_ops;

/* The device's status bits: NEEDS_RESET when any engine raised it. */
u32 vnl_device_engine_status(struct vnl_device *vd);

/* stats.c */
extern const char *const vnl_counter_names[VNETLOOP_NUM_COUNTERS];
int vnl_stats_alloc(struct vnl_pair *p);
void vnl_stats_free(struct vnl_pair *p);
void vnl_stats_add(struct vnl_pair *p, unsigned int id, u64 n);
void vnl_stats_commit(void *ctx, const u64 *delta);
void vnl_stats_read_pair_cpu(struct vnl_pair *p, int cpu, u64 *v);
void vnl_stats_read_pair(struct vnl_pair *p, u64 *v);
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
