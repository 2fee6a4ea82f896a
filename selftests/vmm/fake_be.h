/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A recording fake backend for the transport tests (mmio_test, pci_test):
 * it counts and keeps what the transport hands it, and answers with what
 * the test puts in it.
 */
#ifndef VNL_FAKE_BE_H
#define VNL_FAKE_BE_H

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "user/dev/backend.h"

/* The features the transport tests offer and accept. */
#define F_V1		(1ULL << VIRTIO_F_VERSION_1)
#define F_MAC		(1ULL << VIRTIO_NET_F_MAC)
#define F_EIDX		(1ULL << VIRTIO_RING_F_EVENT_IDX)

struct fake_be {
	struct vnl_backend be;
	int starts, resets, notifies, acks, isr_reads, steps;
	int start_ret, step_ret, config_ret;
	uint32_t acked, isr, status;
	uint32_t step_status[4];	/* what set_status got, in order */
	uint64_t step_features;		/* ... with FEATURES_OK */
	uint64_t features;
	uint64_t notified;	/* bit q: queue q's notify reached it */
	struct vnl_queue_cfg q[VNL_MAX_QUEUES];
	uint8_t config[10];	/* config_size of it is the device's */
};

extern const struct vnl_backend_ops fake_ops;

/*
 * What both transport tests hand over at DRIVER_OK: VERSION_1, MAC and
 * EVENT_IDX, RX 256 entries at 0x10000 (avail and used a page apart), TX
 * 128 at 0x123400000 (likewise). A macro: the harness's EXPECTs need the
 * test's context. Include kselftest_harness.h first.
 */
#define EXPECT_RINGS_HANDED_OVER(f) do {				\
	EXPECT_EQ(F_V1 | F_MAC | F_EIDX, (f)->features);		\
	EXPECT_TRUE((f)->q[0].ready);					\
	EXPECT_EQ(256, (f)->q[0].num);					\
	EXPECT_EQ(0x10000, (f)->q[0].desc);				\
	EXPECT_EQ(0x11000, (f)->q[0].avail);				\
	EXPECT_EQ(0x12000, (f)->q[0].used);				\
	EXPECT_TRUE((f)->q[1].ready);					\
	EXPECT_EQ(128, (f)->q[1].num);					\
	EXPECT_EQ(0x123400000ULL, (f)->q[1].desc);			\
	EXPECT_EQ(0x123401000ULL, (f)->q[1].avail);			\
	EXPECT_EQ(0x123402000ULL, (f)->q[1].used);			\
} while (0)

/* f zeroed, its ops, no kicks, the config space holding mac (8 bytes). */
void fake_be_init(struct fake_be *f, const uint8_t mac[6]);
/*
 * A multiqueue device of pairs pairs: MQ and CTRL_VQ offered, config space
 * up to max_virtqueue_pairs (10 bytes).
 */
void fake_be_pairs(struct fake_be *f, unsigned int pairs);
/*
 * One interrupt line, as virtio-mmio and PCI INTx have: a new eventfd as
 * the configuration interrupt and every queue's of the device (after
 * fake_be_pairs, if any). 0 or -errno; the test closes be.config_fd.
 */
int fake_be_one_line(struct fake_be *f);

#endif /* VNL_FAKE_BE_H */
