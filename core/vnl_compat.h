/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few primitives the ring engine needs, for kbuild and for userspace.
 * Kernel: kernel types and smp_* barriers. Userspace: <stdint.h> and C11
 * fences, so the same engine source is unit-tested and fuzzed there.
 */
#ifndef VNL_COMPAT_H
#define VNL_COMPAT_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/compiler.h>
#include <asm/barrier.h>
#include <asm/byteorder.h>

/* Ring ordering per virtio 1.2 2.7.13; callers say which access pairs. */
#define vnl_rmb()	smp_rmb()	/* avail->idx before ring entries */
#define vnl_wmb()	smp_wmb()	/* used entry before used->idx */
#define vnl_mb()	smp_mb()	/* our store before the guest's hint */

#else /* userspace */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdatomic.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#define vnl_rmb()	atomic_thread_fence(memory_order_acquire)
#define vnl_wmb()	atomic_thread_fence(memory_order_release)
#define vnl_mb()	atomic_thread_fence(memory_order_seq_cst)

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define le16_to_cpu(x)	((u16)(x))
#define le32_to_cpu(x)	((u32)(x))
#define le64_to_cpu(x)	((u64)(x))
#else
#define le16_to_cpu(x)	__builtin_bswap16(x)
#define le32_to_cpu(x)	__builtin_bswap32(x)
#define le64_to_cpu(x)	__builtin_bswap64(x)
#endif
#define cpu_to_le16(x)	le16_to_cpu(x)
#define cpu_to_le32(x)	le32_to_cpu(x)
#define cpu_to_le64(x)	le64_to_cpu(x)

#ifndef likely
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#endif

#endif /* __KERNEL__ */

#endif /* VNL_COMPAT_H */
