/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The data plane behind the virtio-mmio transport. The transport (mmio.c)
 * keeps the register file and the status state machine, and forwards to the
 * backend what the device must see: the status steps with the features the
 * driver accepted, the rings at DRIVER_OK, the reset, config space reads.
 * A backend owns the rings from DRIVER_OK to reset, the interrupt-status
 * bits it raises, the poison state and the counters. Three backends run the
 * same engine:
 *
 *   kmod    /dev/vnetloop (vhost-vdpa): the module's worker, kicked by the
 *           KVM ioeventfd, interrupting through the KVM irqfd
 *   thread  the same eventfds, served by a userspace worker thread
 *   inline  the engine on the vCPU thread, at the notify exit
 *
 * A device has max_pairs queue pairs (1..VNL_MAX_PAIRS): virtqueues RX 2i
 * and TX 2i+1 and, with more than one pair, the control queue 2 max_pairs
 * (VIRTIO_NET_F_MQ and _CTRL_VQ offered). One pair is the device as it
 * always was: two queues, no control queue, no MQ.
 *
 * Interrupts are eventfds the VMM owns and wires to the guest (irqfds on a
 * pin, or on MSI-X vectors): one per queue and one for configuration
 * changes (NEEDS_RESET). A transport with one line (virtio-mmio, PCI INTx)
 * passes the same eventfd for all of them; a backend writes each distinct
 * eventfd at most once per drain. Kicks are eventfds the backend owns, one
 * per queue (or -1 when it wants notify exits); the VMM registers them as
 * ioeventfds wherever the transport puts its notify addresses. Backends
 * never touch KVM themselves.
 *
 * The transport calls every op under its own lock, so ops never run
 * concurrently with each other; a backend's worker may run concurrently.
 */
#ifndef VNL_BACKEND_H
#define VNL_BACKEND_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_net.h>

#include "core/vnl_engine.h"

/* Queue pairs of a device, and its virtqueues at most (pairs + control). */
#define VNL_MAX_PAIRS		16
#define VNL_MAX_QUEUES		(2 * VNL_MAX_PAIRS + 1)

struct vnl_queue_cfg {
	uint32_t num;
	bool ready;
	uint64_t desc;
	uint64_t avail;
	uint64_t used;
};

struct vnl_backend;

struct vnl_backend_ops {
	const char *name;
	/*
	 * Optional: the driver added a status bit before DRIVER_OK
	 * (ACKNOWLEDGE, DRIVER, FEATURES_OK); status is the new value, and
	 * with FEATURES_OK features holds what the driver accepted. 0, or
	 * -errno when the device refuses the step.
	 */
	int (*set_status)(struct vnl_backend *b, uint32_t status,
			  uint64_t features);
	/*
	 * DRIVER_OK: negotiated features and every queue of the device
	 * (vnl_backend_nqueues(), ready or not).
	 */
	int (*start)(struct vnl_backend *b, uint64_t features,
		     const struct vnl_queue_cfg *q);
	/* Status = 0. */
	void (*reset)(struct vnl_backend *b);
	/*
	 * The InterruptStatus bits (VIRTIO_MMIO_INT_*) to show the driver's
	 * read of the register: the read itself, which may change what later
	 * reads show.
	 */
	uint32_t (*isr_read)(struct vnl_backend *b);
	/* InterruptACK of those bits. */
	void (*isr_ack)(struct vnl_backend *b, uint32_t bits);
	/* Status bits the device holds (VIRTIO_CONFIG_S_NEEDS_RESET). */
	uint32_t (*status)(struct vnl_backend *b);
	/*
	 * Config space (struct virtio_net_config, little-endian) bytes
	 * [off, off + len), inside config_size: 0 or -errno.
	 */
	int (*config)(struct vnl_backend *b, uint32_t off, void *buf,
		      uint32_t len);
	/*
	 * A QueueNotify of queue q, a TX queue or the control queue, that
	 * reached userspace (no ioeventfd caught it).
	 */
	void (*notify)(struct vnl_backend *b, unsigned int q);
	/*
	 * Counters by VNETLOOP_C_* id into c[VNETLOOP_NUM_COUNTERS]; *n is
	 * how many are valid (at least VNETLOOP_NUM_SPEC_COUNTERS).
	 */
	int (*counters)(struct vnl_backend *b, uint64_t *c, unsigned int *n);
	/*
	 * Optional: queue pair p's counters alone, by id, into
	 * c[VNETLOOP_NUM_COUNTERS] (0 past what the device has); 0 or -errno.
	 */
	int (*queue_counters)(struct vnl_backend *b, unsigned int p,
			      uint64_t *c);
	void (*destroy)(struct vnl_backend *b);
};

struct vnl_backend {
	const struct vnl_backend_ops *ops;
	uint64_t features;	/* what the device offers */
	uint32_t config_size;	/* bytes of config space it has */
	unsigned int max_pairs;	/* 1..VNL_MAX_PAIRS */
	/* Writing 1 raises queue q's interrupt (the env's eventfds). */
	int call_fd[VNL_MAX_QUEUES];
	int config_fd;		/* ... the configuration interrupt */
	/* Queue q's kick eventfd (an ioeventfd, datamatch q), or -1. */
	int kick_fd[VNL_MAX_QUEUES];
	int dev_id;		/* kmod: the module's device id, else -1 */
};

/* What a backend needs from the VM. */
struct vnl_backend_env {
	struct vnl_region mem;	/* guest RAM: gpa 0 .. size at hva */
	/*
	 * The interrupt eventfds, wired by the VMM and still its own: queue
	 * q's, and the configuration change's. May all be one eventfd.
	 */
	int call_fd[VNL_MAX_QUEUES];
	int config_fd;
	unsigned int max_pairs;	/* 1..VNL_MAX_PAIRS; 0 is taken as 1 */
	const char *kmod_path;	/* "/dev/vnetloop" */
	uint8_t mac[6];		/* the device's MAC (config space) */
	/* What the transport offers the guest: the device must offer it. */
	uint64_t features;
};

enum vnl_backend_kind { VNL_BACKEND_KMOD, VNL_BACKEND_THREAD,
			VNL_BACKEND_INLINE, VNL_BACKEND_VHOST_NET };

/* The virtqueues of a device of max_pairs pairs: 2, or 2 max_pairs + 1. */
static inline unsigned int vnl_queues_of(unsigned int max_pairs)
{
	return max_pairs > 1 ? 2 * max_pairs + 1 : VNETLOOP_NUM_QUEUES;
}

static inline unsigned int vnl_backend_nqueues(const struct vnl_backend *b)
{
	return vnl_queues_of(b->max_pairs);
}

/* The control queue's index, on a device with one (max_pairs > 1). */
static inline unsigned int vnl_ctrl_queue(unsigned int max_pairs)
{
	return 2 * max_pairs;
}

/*
 * Returns 0, -ENODEV when the kmod device is absent, -ENOTSUP when the
 * device does not offer env->features, or another -errno (printed).
 */
int vnl_backend_create(enum vnl_backend_kind kind,
		       const struct vnl_backend_env *env,
		       struct vnl_backend **out);
void vnl_backend_destroy(struct vnl_backend *b);

/*
 * Raise the interrupts of the queues in the bit mask vqs, and with config
 * the configuration interrupt: one write to each distinct eventfd among
 * them, so queues that share a line raise it once.
 */
void vnl_backend_raise(struct vnl_backend *b, uint64_t vqs, bool config);

/* backend_kmod.c, backend_thread.c, backend_inline.c */
int backend_kmod_create(const struct vnl_backend_env *env,
			struct vnl_backend **out);
int backend_thread_create(const struct vnl_backend_env *env,
			  struct vnl_backend **out);
/* backend_vhostnet.c: the vhost-net peer, for comparisons. */
int backend_vhostnet_create(const struct vnl_backend_env *env,
			    struct vnl_backend **out);
int backend_inline_create(const struct vnl_backend_env *env,
			  struct vnl_backend **out);

/* ---- backend.c: the parts the backends share ---- */

/*
 * Take the env's interrupt eventfds and maximum pairs and, if kicks,
 * create a kick eventfd per queue (the VMM makes them ioeventfds,
 * datamatch the queue).
 */
int vnl_backend_wire(struct vnl_backend *b, const struct vnl_backend_env *env,
		     bool kicks);
/* Close the kick eventfds; the interrupt eventfds stay the VMM's. */
void vnl_backend_unwire(struct vnl_backend *b);
/* Read and return an eventfd's count; 0 if it was not signalled. */
uint64_t vnl_eventfd_take(int fd);

/*
 * The engine in userspace, over the VMM's mapping of guest RAM: one engine
 * per queue pair, each with its own lock, so pairs run in parallel. Pair
 * 0's engine also owns the control queue (virtqueue 2N, the engine's
 * VNETLOOP_QUEUE_CTRL) on a multiqueue device.
 */
struct vnl_ueng;

struct vnl_upair {
	struct vnl_ueng *u;
	unsigned int index;
	pthread_mutex_t lock;	/* serialises the engine */
	struct vnl_engine eng;
	uint64_t counters[VNETLOOP_NUM_COUNTERS];	/* under lock */
};

struct vnl_ueng {
	struct vnl_backend be;
	struct vnl_backend_env env;
	struct virtio_net_config config;	/* the MAC, max pairs */
	/*
	 * The pairs the driver uses (VQ_PAIRS_SET; 1 after DRIVER_OK):
	 * those at or above it do nothing (SPEC 4a).
	 */
	atomic_uint active;
	struct vnl_upair pair[VNL_MAX_PAIRS];
};

int vnl_ueng_init(struct vnl_ueng *e, const struct vnl_backend_env *env,
		  const struct vnl_backend_ops *ops, bool kicks);
void vnl_ueng_fini(struct vnl_ueng *e);
/* Ops shared by the thread and inline backends (b is a struct vnl_ueng). */
int vnl_ueng_start(struct vnl_backend *b, uint64_t features,
		   const struct vnl_queue_cfg *q);
void vnl_ueng_reset(struct vnl_backend *b);
uint32_t vnl_ueng_isr_read(struct vnl_backend *b);
void vnl_ueng_isr_ack(struct vnl_backend *b, uint32_t bits);
uint32_t vnl_ueng_status(struct vnl_backend *b);
int vnl_ueng_config(struct vnl_backend *b, uint32_t off, void *buf,
		    uint32_t len);
/* The sum over the pairs. */
int vnl_ueng_counters(struct vnl_backend *b, uint64_t *c, unsigned int *n);
int vnl_ueng_queue_counters(struct vnl_backend *b, unsigned int p,
			    uint64_t *c);

/* The ops table of a userspace-engine backend: they differ in two ops. */
#define VNL_UENG_OPS(backend_name, notify_op, destroy_op) {		\
	.name		= backend_name,					\
	.start		= vnl_ueng_start,				\
	.reset		= vnl_ueng_reset,				\
	.isr_read	= vnl_ueng_isr_read,				\
	.isr_ack	= vnl_ueng_isr_ack,				\
	.status		= vnl_ueng_status,				\
	.config		= vnl_ueng_config,				\
	.notify		= notify_op,					\
	.counters	= vnl_ueng_counters,				\
	.queue_counters	= vnl_ueng_queue_counters,			\
	.destroy	= destroy_op,					\
}

/* Whether pair is one the driver uses now. */
static inline bool vnl_ueng_active(struct vnl_ueng *e, unsigned int pair)
{
	return pair < atomic_load(&e->active);
}

/*
 * With the pair's lock held: one drain of its TX queue, with its
 * interrupt, unless the pair is inactive. True when the budget ran out
 * with work left.
 */
bool vnl_ueng_drain_locked(struct vnl_upair *p);
/* With pair 0's lock held: one drain of the control queue, likewise. */
bool vnl_ueng_ctrl_locked(struct vnl_upair *p);

#endif /* VNL_BACKEND_H */
