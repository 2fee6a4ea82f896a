/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The split-virtqueue layout (virtio 1.2, 2.7) as the engine reads it: all
 * fields little-endian in guest memory. Offsets, not structs, because the
 * engine reaches guest memory only through its memory ops.
 */
#ifndef VNL_VIRTIO_H
#define VNL_VIRTIO_H

#define VNL_DESC_F_NEXT		1
#define VNL_DESC_F_WRITE	2
#define VNL_DESC_F_INDIRECT	4

#define VNL_AVAIL_F_NO_INTERRUPT	1

#define VNL_F_INDIRECT_DESC	28
#define VNL_F_EVENT_IDX		29

/* struct virtq_desc { le64 addr; le32 len; le16 flags; le16 next; } */
#define VNL_DESC_SIZE		16

/* Alignment of the three parts of a split ring (virtio 1.2, 2.7). */
#define VNL_DESC_ALIGN		16
#define VNL_AVAIL_ALIGN		2
#define VNL_USED_ALIGN		4

/* avail: le16 flags; le16 idx; le16 ring[num]; le16 used_event */
#define VNL_AVAIL_FLAGS		0
#define VNL_AVAIL_IDX		2
#define VNL_AVAIL_RING(i)	(4 + 2 * (u64)(i))
#define VNL_AVAIL_USED_EVENT(num)	VNL_AVAIL_RING(num)

/* used: le16 flags; le16 idx; { le32 id; le32 len; } ring[num]; le16 avail_event */
#define VNL_USED_FLAGS		0
#define VNL_USED_IDX		2
#define VNL_USED_RING(i)	(4 + 8 * (u64)(i))
#define VNL_USED_AVAIL_EVENT(num)	VNL_USED_RING(num)

/* The header that VERSION_1 forces: struct virtio_net_hdr_mrg_rxbuf. */
#define VNL_NET_HDR_LEN		12
#define VNL_NET_HDR_NUM_BUFFERS	10	/* offset of le16 num_buffers */

/* 14 Ethernet + 2 x 4 VLAN + 65535, after the header. */
#define VNL_MAX_FRAME_SIZE	65557

#endif /* VNL_VIRTIO_H */
