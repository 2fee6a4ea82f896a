/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vnetloop: the ABI between vnetloop.ko and userspace.
 *
 * /dev/vnetloop ioctls (one device instance per open file), the generic
 * netlink family "vnetloop", and the counter ids. Directions (tx, rx) are
 * named from the guest's side. Everything here is append-only: ids are never
 * renumbered and struct fields only grow into reserved space.
 *
 * The virtio side (feature bits, InterruptStatus and Status bits, the rings)
 * is the kernel's own: <linux/virtio_config.h>, <linux/virtio_mmio.h>,
 * <linux/virtio_ring.h> and <linux/virtio_net.h>.
 */
#ifndef _UAPI_VNETLOOP_H
#define _UAPI_VNETLOOP_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#define VNETLOOP_API_VERSION	1

/* Queue indices, as in virtio-net: RX = 0, TX = 1. */
#define VNETLOOP_QUEUE_RX	0
#define VNETLOOP_QUEUE_TX	1
#define VNETLOOP_NUM_QUEUES	2
#define VNETLOOP_QUEUE_SIZE_MAX	256

#define VNETLOOP_MAX_REGIONS	8

/* The feature bits the device offers (GET_INFO), virtio's bit numbers. */
#define VNETLOOP_FEATURES	((1ULL << VIRTIO_NET_F_MAC) | \
				 (1ULL << VIRTIO_RING_F_EVENT_IDX) | \
				 (1ULL << VIRTIO_F_VERSION_1))

/*
 * Counters. The first VNETLOOP_NUM_SPEC_COUNTERS are the thirteen every home
 * of the device keeps, in this order; the rest are the module's extras. Ids
 * are append-only.
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
	VNETLOOP_C_KICKS,		/* module extras from here */
	VNETLOOP_C_INTERRUPTS,
	VNETLOOP_C_WORKER_RUNS,
	VNETLOOP_C_BUDGET_REQUEUES,
	VNETLOOP_NUM_COUNTERS
};

#define VNETLOOP_NUM_SPEC_COUNTERS	(VNETLOOP_C_INVALID_AVAIL_IDX_COUNT + 1)

/* ---- /dev/vnetloop ioctls ---- */

#define VNETLOOP_IOC_MAGIC	0xB7

/* VNETLOOP_GET_INFO: never binds the owner. */
struct vnetloop_info {
	__u32 api_version;
	__u32 dev_id;
	__u32 num_counters;
	__u32 max_regions;
	__u32 max_queue_size;
	__u32 reserved0;
	__u64 features;		/* what the device offers */
	__u64 reserved[4];
};

/* One guest-physical range and where the owner mapped it. */
struct vnetloop_mem_region {
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
	__u64 flags;		/* must be 0 */
};

struct vnetloop_mem_table {
	__u32 nregions;		/* 1..VNETLOOP_MAX_REGIONS */
	__u32 flags;		/* must be 0 */
	struct vnetloop_mem_region regions[];
};

/* Queue layout; all addresses are guest-physical. */
struct vnetloop_vring {
	__u32 index;		/* VNETLOOP_QUEUE_RX or VNETLOOP_QUEUE_TX */
	__u32 num;		/* power of two, 1..VNETLOOP_QUEUE_SIZE_MAX */
	__u64 desc_addr;
	__u64 avail_addr;
	__u64 used_addr;
	__u32 flags;		/* must be 0 */
	__u32 reserved0;
	__u64 reserved[2];
};

/*
 * kick: signalled when the guest notifies the TX queue (a KVM ioeventfd).
 * call: signalled by the module to raise the interrupt (a KVM irqfd).
 * Both must be eventfds; they are held until RESET or close.
 */
struct vnetloop_eventfds {
	__s32 kick_fd;
	__s32 call_fd;
	__u32 flags;		/* must be 0 */
	__u32 reserved0;
};

/* VNETLOOP_GET_IRQ: InterruptStatus bits and device status bits. */
struct vnetloop_irq_state {
	__u32 isr;		/* VIRTIO_MMIO_INT_VRING, VIRTIO_MMIO_INT_CONFIG */
	__u32 status;		/* VIRTIO_CONFIG_S_NEEDS_RESET */
	__u32 running;		/* 1 between START and RESET */
	__u32 reserved0;
	__u64 reserved[2];
};

#define VNETLOOP_GET_INFO	_IOR(VNETLOOP_IOC_MAGIC, 0x00, struct vnetloop_info)
#define VNETLOOP_SET_MEM_TABLE	_IOW(VNETLOOP_IOC_MAGIC, 0x01, struct vnetloop_mem_table)
#define VNETLOOP_SET_VRING	_IOW(VNETLOOP_IOC_MAGIC, 0x02, struct vnetloop_vring)
#define VNETLOOP_SET_FEATURES	_IOW(VNETLOOP_IOC_MAGIC, 0x03, __u64)
#define VNETLOOP_SET_EVENTFDS	_IOW(VNETLOOP_IOC_MAGIC, 0x04, struct vnetloop_eventfds)
#define VNETLOOP_START		_IO(VNETLOOP_IOC_MAGIC, 0x05)
#define VNETLOOP_RESET		_IO(VNETLOOP_IOC_MAGIC, 0x06)
#define VNETLOOP_GET_IRQ	_IOR(VNETLOOP_IOC_MAGIC, 0x07, struct vnetloop_irq_state)
#define VNETLOOP_ACK_IRQ	_IOW(VNETLOOP_IOC_MAGIC, 0x08, __u32)

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

	__VNETLOOP_A_MAX,
	VNETLOOP_A_MAX = __VNETLOOP_A_MAX - 1
};

/*
 * Inside VNETLOOP_A_STATS and VNETLOOP_A_CPU_STATS: counter id c is the u64
 * attribute VNETLOOP_STATS_A_COUNTER(c); VNETLOOP_STATS_A_CPU (u32) names the
 * CPU of a VNETLOOP_A_CPU_STATS nest.
 */
enum vnetloop_stats_attr {
	VNETLOOP_STATS_A_UNSPEC,
	VNETLOOP_STATS_A_PAD,
	VNETLOOP_STATS_A_CPU,
	VNETLOOP_STATS_A_COUNTER_BASE,	/* + counter id */
};

#define VNETLOOP_STATS_A_COUNTER(c)	(VNETLOOP_STATS_A_COUNTER_BASE + (c))
#define VNETLOOP_STATS_A_MAX	VNETLOOP_STATS_A_COUNTER(VNETLOOP_NUM_COUNTERS - 1)

#endif /* _UAPI_VNETLOOP_H */
