/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A userspace "guest driver" for /dev/vnetloop, driven the way QEMU drives
 * a vhost-vdpa fd (Documentation/kmod-abi.rst): one IOTLB entry maps guest
 * RAM at I/O virtual (guest-physical) addresses equal to this process's
 * addresses, split rings driven by the shared driver (virtq/), kick =
 * write(kick eventfd), interrupt = poll(call eventfd). Ring flags and
 * layout are the kernel's (<linux/virtio_ring.h>), frame sizes
 * include/vnetloop/frame.h's.
 *
 * Both queues share one call eventfd by default, as they share one line
 * under INTx: the device then signals it once per drain that wants an
 * interrupt, whatever the queues. Tests that look at which queue was
 * signalled install an eventfd per queue (vg_set_call()).
 *
 * Everything returns 0 (or a count) on success and a negative errno on
 * failure, so tests can assert on the exact error.
 */
#ifndef VNL_ST_GUEST_H
#define VNL_ST_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/vhost.h>
#include <linux/vhost_types.h>

#include "include/uapi/vnetloop.h"
#include "include/vnetloop/frame.h"
#include "virtq/virtq.h"

#define VG_DEV_PATH	"/dev/vnetloop"
#define VG_MEM_SIZE	(8u << 20)	/* the guest's RAM */

/*
 * The feature sets the tests negotiate. ACCESS_PLATFORM always, as QEMU
 * sets it whatever the guest acked.
 */
#define VG_FEATURES_BASE	((1ULL << VIRTIO_F_VERSION_1) | \
				 (1ULL << VIRTIO_F_ACCESS_PLATFORM) | \
				 (1ULL << VIRTIO_NET_F_MAC))
#define VG_FEATURES_EVENT_IDX	(VG_FEATURES_BASE | \
				 (1ULL << VIRTIO_RING_F_EVENT_IDX))

/* The backend features QEMU 7.2 takes. */
#define VG_BACKEND_FEATURES	((1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) | \
				 (1ULL << VHOST_BACKEND_F_IOTLB_BATCH))

/* Status bits on the way to DRIVER_OK, and all of them: running. */
#define VG_S_ACK_DRIVER		(VIRTIO_CONFIG_S_ACKNOWLEDGE | \
				 VIRTIO_CONFIG_S_DRIVER)
#define VG_S_FEATURES_OK	(VG_S_ACK_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK)
#define VG_S_RUNNING		(VG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK)

/* A used entry as vg_used_pop() returns it. */
struct vg_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vg {
	int fd;			/* /dev/vnetloop */
	uint32_t dev_id;	/* the device id, from its MAC */
	uint8_t mac[6];
	int kick;		/* eventfd: TX notify */
	int rx_kick;		/* eventfd: RX notify (the device ignores it) */
	int call;		/* eventfd: used-buffer interrupt of both queues */
	int config;		/* eventfd: configuration interrupt */
	bool owner;		/* VHOST_SET_OWNER done */
	bool mapped;		/* guest RAM is in the IOTLB (kept by resets) */
	uint8_t *mem;
	size_t mem_size;
	size_t heap;		/* bump allocator offset into mem */
	/* The driver side of each queue; num 0: not set up. */
	struct virtq q[VNETLOOP_NUM_QUEUES];
};

/*
 * One descriptor of a chain, the shared driver's struct virtq_buf: gpa,
 * len, flags (0 or VRING_DESC_F_WRITE, plus extras).
 */
#define vg_seg virtq_buf

/*
 * Device and memory. vg_open leaves the device unconfigured and unowned;
 * dev_id comes from the MAC in the config space (02:"vnl":id, the id's low
 * 16 bits: ids are the lowest free ones, so exact in the tests).
 */
/*
 * A vhost_vdpa_config request with room for the whole virtio_net_config
 * (a struct ending in a flexible array cannot be followed by a buffer).
 */
union vg_config {
	struct vhost_vdpa_config c;
	uint8_t raw[sizeof(struct vhost_vdpa_config) +
		    sizeof(struct virtio_net_config)];
};

int vg_open(struct vg *g);
void vg_close(struct vg *g);
int vg_check_device(char *why, size_t len);

static inline uint64_t vg_gpa(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* Room in guest RAM, 64-byte aligned, zeroed; NULL when full. */
void *vg_alloc(struct vg *g, size_t size);

/* An ioctl on the device: 0 or -errno. */
int vg_ioctl(struct vg *g, unsigned long req, void *arg);
int vg_set_owner(struct vg *g);

/*
 * The IOTLB: one struct vhost_msg_v2 written per call; 0 when the write
 * took the whole message (72 bytes), -errno, or -EIO for a short count.
 */
int vg_iotlb(struct vg *g, uint8_t type, uint64_t iova, uint64_t size,
	     uint64_t uaddr, uint8_t perm);
int vg_map(struct vg *g, uint64_t iova, uint64_t size, const void *uaddr,
	   uint8_t perm);
int vg_unmap(struct vg *g, uint64_t iova, uint64_t size);
int vg_batch_begin(struct vg *g);
int vg_batch_end(struct vg *g);
/* Guest RAM, read-write, iova = its address, in a batch as QEMU does. */
int vg_set_mem(struct vg *g);

/* Status: GET, SET, and QEMU's add_status (GET, SET s | bits, GET). */
int vg_get_status(struct vg *g, uint8_t *s);
int vg_set_status(struct vg *g, uint8_t s);
int vg_add_status(struct vg *g, uint8_t bits);
/* 1 if GET_STATUS shows NEEDS_RESET, 0 if not, or -errno. */
int vg_needs_reset(struct vg *g);

/*
 * The configuration steps, in QEMU's order; vg_setup does all of them.
 * vg_negotiate: SET_OWNER (if not yet), GET_FEATURES,
 * SET_BACKEND_FEATURES, ACK|DRIVER, SET_FEATURES, FEATURES_OK (-EIO if it
 * does not read back). vg_set_vring: NUM, ADDR, BASE 0, KICK, CALL (the
 * shared eventfd), ENABLE, then a fresh driver ring. vg_start: the config
 * call, then DRIVER_OK.
 */
int vg_set_features(struct vg *g, uint64_t features);	/* the ioctl alone */
int vg_negotiate(struct vg *g, uint64_t features);
int vg_set_vring(struct vg *g, unsigned int q, uint16_t num);
/*
 * The same for a queue whose driver ring lives on (QEMU's "cont" after a
 * stop): same layout, BASE base, the ring left as it is.
 */
int vg_restore_vring(struct vg *g, unsigned int q, uint16_t base);
int vg_set_vring_addr(struct vg *g, unsigned int q, uint64_t desc,
		      uint64_t avail, uint64_t used);
int vg_set_call(struct vg *g, unsigned int q, int fd);
int vg_set_config_call(struct vg *g, int fd);
int vg_start(struct vg *g);
int vg_setup(struct vg *g, uint64_t features, uint16_t rx_num,
	     uint16_t tx_num);
/* The same when the caller mapped the memory itself (owner first). */
int vg_setup_queues(struct vg *g, uint64_t features, uint16_t rx_num,
		    uint16_t tx_num);
/* Status 0, then forget ring state and pending interrupts. */
int vg_reset(struct vg *g);
/* VHOST_GET_VRING_BASE: the queue's position, or -errno. */
int vg_get_vring_base(struct vg *g, unsigned int q);

/* Rings. */
void vg_desc_write(struct vg *g, unsigned int q, uint16_t i, uint64_t gpa,
		   uint32_t len, uint16_t flags, uint16_t next);
/* Write segs as a chain in descriptors head, head+1, ... (mod num). */
void vg_chain(struct vg *g, unsigned int q, uint16_t head,
	      const struct vg_seg *segs, unsigned int n);
/* Offer head in the avail ring and publish the new index. */
void vg_avail_push(struct vg *g, unsigned int q, uint16_t head);
/*
 * Offer the contiguous buffer buf as a chain at head, cut into n
 * descriptors of lens[i] bytes, each with flags (0 or VRING_DESC_F_WRITE).
 */
void vg_post_split(struct vg *g, unsigned int q, uint16_t head, void *buf,
		   const uint32_t *lens, unsigned int n, uint16_t flags);
/* The same with one descriptor. */
void vg_post(struct vg *g, unsigned int q, uint16_t head, void *buf,
	     uint32_t len, uint16_t flags);
/* A byte pattern that differs per seed and position. */
void vg_fill(void *buf, size_t len, uint32_t seed);
/* Store a raw avail->idx (hostile drivers); also our own notion. */
void vg_avail_set_idx(struct vg *g, unsigned int q, uint16_t idx);
void vg_avail_set_flags(struct vg *g, unsigned int q, uint16_t flags);
void vg_set_used_event(struct vg *g, unsigned int q, uint16_t v);
/* used_event = next used entry: interrupt on the next completion. */
void vg_arm(struct vg *g);
uint16_t vg_used_idx(struct vg *g, unsigned int q);
/* Entries published but not yet consumed. */
uint16_t vg_used_pending(struct vg *g, unsigned int q);
/* Consume one used entry; returns 1, or 0 when there is none. */
int vg_used_pop(struct vg *g, unsigned int q, struct vg_used_elem *e);

/* Notifications. */
int vg_kick(struct vg *g);
/* An eventfd's count without waiting (0 if none), or after up to ms. */
int64_t vg_efd_count(int fd);
int64_t vg_efd_wait(int fd, int timeout_ms);
/* The shared call eventfd: wait, or read without waiting. */
int64_t vg_wait_irq(struct vg *g, int timeout_ms);
int64_t vg_irq_count(struct vg *g);
/* The config eventfd (NEEDS_RESET), read without waiting. */
int64_t vg_config_count(struct vg *g);
/* Sleep-poll until count used entries are pending; -ETIMEDOUT otherwise. */
int vg_wait_used(struct vg *g, unsigned int q, uint16_t count,
		 int timeout_ms);

/* Milliseconds to wait when checking that nothing happens. */
int vg_settle_ms(void);
void vg_sleep_ms(int ms);

#endif /* VNL_ST_GUEST_H */
