/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The frames on the device's rings, for every home of the ring engine and
 * every program that plays its guest (the built-in guest, freestanding,
 * included): each chain starts with the header VERSION_1 implies,
 * struct virtio_net_hdr_v1, which the device never interprets on TX and
 * writes on RX as all zero but num_buffers = 1; at most VNL_MAX_FRAME_SIZE
 * bytes follow it.
 */
#ifndef _VNETLOOP_FRAME_H
#define _VNETLOOP_FRAME_H

#include <linux/virtio_net.h>

#define VNL_NET_HDR_LEN		((unsigned int)sizeof(struct virtio_net_hdr_v1))

/* An Ethernet header with two VLAN tags (14 + 2 x 4) and 65535 bytes. */
#define VNL_MAX_FRAME_SIZE	65557

#endif /* _VNETLOOP_FRAME_H */
