/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vnetloop: what vnetloop.ko adds to the standard ABIs it speaks.
 *
 * /dev/vnetloop speaks the vhost-vdpa uAPI (<linux/vhost.h>,
 * <linux/vhost_types.h>; Documentation/kmod-abi.rst): one open is one
 * virtio-net device with one queue pair. This header holds the rest: the
 * queue indices and limits, the feature bits the device offers, the
 * counter ids and the generic netlink family "vnetloop". Directions (tx,
 * rx) are named from the guest's side. Everything here is append-only: ids
 * are never renumbered.
 *
 * The virtio side (feature bits, status bits, the rings, the net header
 * and config) is the kernel's own: <linux/virtio_config.h>,
 * <linux/virtio_ring.h> and <linux/virtio_net.h>.
 */
#ifndef _UAPI_VNETLOOP_H
#define _UAPI_VNETLOOP_H

#include <linux/types.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#define VNETLOOP_API_VERSION	4

/* Queue indices, as in virtio-net: RX = 0, TX = 1. */
#define VNETLOOP_QUEUE_RX	0
#define VNETLOOP_QUEUE_TX	1
#define VNETLOOP_NUM_QUEUES	2	/* data queues of one pair */
/*
 * The control queue. Inside one ring engine it is queue 2, after its pair;
 * on a multiqueue device it is the last virtqueue (2 * max pairs).
 */
#define VNETLOOP_QUEUE_CTRL	2
#define VNETLOOP_ENGINE_QUEUES	3	/* the pair and the control queue */
#define VNETLOOP_QUEUE_SIZE_MAX	256

/*
 * The feature bits the device offers (VHOST_GET_FEATURES), virtio's bit
 * numbers. ACCESS_PLATFORM: ring and buffer addresses are I/O virtual
 * addresses, translated through the IOTLB the owner writes (as every
 * vhost-vdpa device; QEMU sets the bit whatever the guest acked).
 */
#define VNETLOOP_FEATURES	((1ULL << VIRTIO_NET_F_MAC) | \
				 (1ULL << VIRTIO_RING_F_EVENT_IDX) | \
				 (1ULL << VIRTIO_F_VERSION_1) | \
				 (1ULL << VIRTIO_F_ACCESS_PLATFORM))

/*
 * Multiqueue: the control queue and VQ_PAIRS_SET, offered by a device with
 * more than one queue pair. The engine accepts them only once its home set
 * its maximum pairs.
 */
#define VNETLOOP_FEATURES_MQ	((1ULL << VIRTIO_NET_F_CTRL_VQ) | \
				 (1ULL << VIRTIO_NET_F_MQ))

/*
 * Counters. The first VNETLOOP_NUM_SPEC_COUNTERS are the sixteen every home
 * of the device keeps, in this order: the contract's thirteen, then the
 * three of the control queue. The rest are the module's extras. Ids are
 * append-only once released (API version 3 moved the extras up by three;
 * version 4 appended drain_ns, id 20). All are event counts but drain_ns,
 * a time in nanoseconds.
 */
enum vnetloop_counter {
	VNETLOOP_C_TX_PACKETS,
	VNETLOOP_C_TX_BYTES,
	VNETLOOP_C_RX_PACKETS,
	VNETLOOP_C_RX_BYTES,
	VNETLOOP_C_TX_DROPPED_NO_RX_BUFFER,
	VNETLOOP_C_TX_DROPPED_RX_POISONED,
	VNETLOOP_C_TX_CHAIN_INVALID,
	VNETLOOP_C_TX_OVERSIZE_DROPPED,
	VNETLOOP_C_RX_CHAIN_INVALID,
	VNETLOOP_C_RX_WRITE_FAILED,
	VNETLOOP_C_TX_ADD_USED_FAILURES,
	VNETLOOP_C_RX_ADD_USED_FAILURES,
	VNETLOOP_C_INVALID_AVAIL_IDX_COUNT,
	VNETLOOP_C_CTRL_MQ_SET,		/* the control queue's (SPEC 4a) */
	VNETLOOP_C_CTRL_CHAIN_INVALID,
	VNETLOOP_C_CTRL_ADD_USED_FAILURES,
	VNETLOOP_C_KICKS,		/* module extras from here */
	VNETLOOP_C_INTERRUPTS,
	VNETLOOP_C_WORKER_RUNS,
	VNETLOOP_C_BUDGET_REQUEUES,
	VNETLOOP_C_DRAIN_NS,		/* a time (ns), not a count */
	VNETLOOP_NUM_COUNTERS
};

#define VNETLOOP_NUM_SPEC_COUNTERS	(VNETLOOP_C_CTRL_ADD_USED_FAILURES + 1)

/* ---- generic netlink family ---- */

#define VNETLOOP_GENL_NAME	"vnetloop"
#define VNETLOOP_GENL_VERSION	1
#define VNETLOOP_GENL_MCGRP_EVENTS	"events"

enum vnetloop_cmd {
	VNETLOOP_CMD_UNSPEC,
	VNETLOOP_CMD_GET,		/* do: by DEV_ID; dump: all devices */
	VNETLOOP_CMD_SET_BUDGET,	/* CAP_NET_ADMIN */
	VNETLOOP_CMD_DEV_CREATED,	/* event */
	VNETLOOP_CMD_DEV_DESTROYED,	/* event */
	VNETLOOP_CMD_QUEUE_POISONED,	/* event */

	__VNETLOOP_CMD_MAX,
	VNETLOOP_CMD_MAX = __VNETLOOP_CMD_MAX - 1
};

enum vnetloop_attr {
	VNETLOOP_A_UNSPEC,
	VNETLOOP_A_PAD,
	VNETLOOP_A_DEV_ID,		/* u32 */
	VNETLOOP_A_OWNER_PID,		/* u32, 0 when unowned */
	VNETLOOP_A_PER_CPU,		/* flag in a GET request */
	VNETLOOP_A_STATS,		/* nest of VNETLOOP_STATS_A_* (totals) */
	VNETLOOP_A_CPU_STATS,		/* nest, repeated: CPU + counters */
	VNETLOOP_A_QUEUE,		/* u32, in QUEUE_POISONED */
	VNETLOOP_A_BUDGET_PACKETS,	/* u32 */
	VNETLOOP_A_BUDGET_BYTES,	/* u32 */
	VNETLOOP_A_NUM_COUNTERS,	/* u32 */
	VNETLOOP_A_PER_QUEUE,		/* flag in a GET request */
	VNETLOOP_A_QUEUE_STATS,		/* nest, repeated: PAIR + counters */
	VNETLOOP_A_QUEUE_PAIRS,		/* u32: the device's queue pairs */

	__VNETLOOP_A_MAX,
	VNETLOOP_A_MAX = __VNETLOOP_A_MAX - 1
};

/*
 * Inside VNETLOOP_A_STATS, VNETLOOP_A_CPU_STATS and VNETLOOP_A_QUEUE_STATS:
 * counter id c is the u64 attribute VNETLOOP_STATS_A_COUNTER(c);
 * VNETLOOP_STATS_A_CPU (u32) names the CPU of a VNETLOOP_A_CPU_STATS nest,
 * VNETLOOP_STATS_A_PAIR (u32) the queue pair of a VNETLOOP_A_QUEUE_STATS one
 * (API version 3 moved the counters up by one for it).
 */
enum vnetloop_stats_attr {
	VNETLOOP_STATS_A_UNSPEC,
	VNETLOOP_STATS_A_PAD,
	VNETLOOP_STATS_A_CPU,
	VNETLOOP_STATS_A_PAIR,
	VNETLOOP_STATS_A_COUNTER_BASE,	/* + counter id */
};

#define VNETLOOP_STATS_A_COUNTER(c)	(VNETLOOP_STATS_A_COUNTER_BASE + (c))
#define VNETLOOP_STATS_A_MAX	VNETLOOP_STATS_A_COUNTER(VNETLOOP_NUM_COUNTERS - 1)

#endif /* _UAPI_VNETLOOP_H */
