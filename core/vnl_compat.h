/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few primitives the ring engine needs, for kbuild and for userspace.
 * Kernel: kernel types, smp_* barriers, atomic_t and user access to the
 * owner's address space. Userspace: <stdint.h>, C11 fences and atomics, and
 * plain loads and stores, so the same engine source is unit-tested, fuzzed
 * and benchmarked there.
 *
 * Guest memory is reached through host pointers tagged __user (the owner's
 * addresses in the kernel). Accesses are grouped in sections:
 *
 *	if (!vnl_access_begin(p, len))
 *		goto fault;
 *	vnl_get(x, p, fault_end);	one load of *p's size
 *	vnl_put(x, p, fault_end);	one store
 *	vnl_access_end();
 *
 * In the kernel a section is user_access_begin()/unsafe_{get,put}_user():
 * nothing inside may call a function, and a fault jumps to the label with
 * user access still open (the label ends it). In userspace the pointers were
 * translated from a region table the VMM maps, so accesses cannot fault.
 */
#ifndef VNL_COMPAT_H
#define VNL_COMPAT_H

#ifdef __KERNEL__
#include <linux/atomic.h>
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/compiler.h>
#include <linux/nospec.h>
#include <linux/uaccess.h>
#include <linux/sched/signal.h>
#include <linux/timekeeping.h>
#include <asm/barrier.h>
#include <asm/byteorder.h>

/* Ring ordering per virtio 1.2 2.7.13; callers say which access pairs. */
#define vnl_rmb()	smp_rmb()	/* avail->idx before ring entries */
#define vnl_wmb()	smp_wmb()	/* used entry before used->idx */
#define vnl_mb()	smp_mb()	/* our store before the guest's hint */

/*
 * A field the worker writes, read elsewhere for people (debugfs): the race
 * is intended and harmless, and KCSAN is told so.
 */
#define vnl_read_racy(x)	data_race(x)

#define vnl_guest_ptr(hva)		u64_to_user_ptr(hva)
#define vnl_access_begin(p, len)	user_access_begin(p, len)
#define vnl_access_end()		user_access_end()
#define vnl_get(x, p, label)		unsafe_get_user(x, p, label)
#define vnl_put(x, p, label)		unsafe_put_user(x, p, label)
#define vnl_put_unaligned(x, p, label)	unsafe_put_user(x, p, label)

/* A guest-chosen index, bounded even under speculation. */
#define vnl_index_nospec(i, n)		array_index_nospec(i, n)

/*
 * Copy n bytes user to user inside an access section, through registers:
 * one pass, no call, no rep movs (slow to start on some CPUs, emulated one
 * iteration at a time by TCG). Up to an MTU-sized frame; longer ones go
 * through a bounce buffer and the kernel's copy routines (vnl_mem_copy()).
 */
#define VNL_SECTION_COPY_MAX		2048
#define vnl_copy_in_section(dst, src, n, src_fault, dst_fault)		\
	do {								\
		u8 __user *vnl_d_ = (dst), *vnl_s_ = (src);		\
		u32 vnl_n_ = (n);					\
		u64 vnl_q_;						\
		u8 vnl_b_;						\
									\
		for (; vnl_n_ >= 8; vnl_n_ -= 8) {			\
			unsafe_get_user(vnl_q_, (u64 __user *)vnl_s_,	\
					src_fault);			\
			unsafe_put_user(vnl_q_, (u64 __user *)vnl_d_,	\
					dst_fault);			\
			vnl_s_ += 8;					\
			vnl_d_ += 8;					\
		}							\
		for (; vnl_n_; vnl_n_--) {				\
			unsafe_get_user(vnl_b_, vnl_s_++, src_fault);	\
			unsafe_put_user(vnl_b_, vnl_d_++, dst_fault);	\
		}							\
	} while (0)

/*
 * The home is stopping this drain: the module's stop path sends the worker
 * SIGKILL, so that a fault the owner holds (userfaultfd, FUSE) fails at
 * once. Accesses that failed since are the stop's doing, not the guest's.
 */
#define vnl_stop_pending()		fatal_signal_pending(current)

/* The drain's clock (drain_ns): monotonic nanoseconds, wall time. */
#define vnl_now_ns()			ktime_get_ns()

typedef atomic_t vnl_atomic_t;
#define vnl_atomic_read(a)		atomic_read(a)
#define vnl_atomic_set(a, v)		atomic_set(a, v)
#define vnl_atomic_or(v, a)		atomic_or(v, a)
#define vnl_atomic_andnot(v, a)		atomic_andnot(v, a)

#else /* userspace */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdatomic.h>
#include <time.h>
#include <linux/types.h>	/* __le16 and friends */

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

#define vnl_read_racy(x)	(x)

/* Guest pointers keep the kernel's annotations; they mean nothing here. */
#ifndef __user
#define __user
#endif
#ifndef __force
#define __force
#endif
#define vnl_guest_ptr(hva)		((void *)(uintptr_t)(hva))
#define vnl_access_begin(p, len)	((void)(p), (void)(len), true)
#define vnl_access_end()		do { } while (0)
/*
 * Test builds (-DVNL_ENGINE_TEST_HOOKS: the unit tests and the fuzzer) see
 * every guest access the engine makes, after writes and before reads, to
 * count them or to play a guest that races the device.
 */
#ifdef VNL_ENGINE_TEST_HOOKS
extern void (*vnl_test_access)(void *p, size_t len, bool write);
#define vnl_test_hook(p, len, w)					\
	do {								\
		if (vnl_test_access)					\
			vnl_test_access((void *)(p), len, w);		\
	} while (0)
/* Set by a test to play a home that stops the drain (see the kernel's). */
extern bool vnl_test_stop;
#define vnl_stop_pending()		vnl_test_stop
/* Set by a test to give the drain a clock of its own (vnl_now_ns()). */
extern u64 (*vnl_test_clock)(void);
#else
#define vnl_test_hook(p, len, w)	do { } while (0)
/* Userspace homes stop their threads between drains. */
#define vnl_stop_pending()		false
#endif

/* The drain's clock (drain_ns): monotonic nanoseconds, wall time. */
static inline u64 vnl_now_ns(void)
{
	struct timespec ts;

#ifdef VNL_ENGINE_TEST_HOOKS
	if (vnl_test_clock)
		return vnl_test_clock();
#endif
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

/*
 * Nothing faults here, so the labels of the kernel's error paths go unused.
 */
#pragma GCC diagnostic ignored "-Wunused-label"

/*
 * One volatile access each (READ_ONCE()/WRITE_ONCE() style): the guest may
 * change its memory at any time, so no access may be merged, repeated or
 * dropped. Ring fields are naturally aligned (the engine refuses misaligned
 * rings); frame buffers are not, hence vnl_put_unaligned().
 */
#define vnl_get(x, p, label)						\
	do {								\
		vnl_test_hook(p, sizeof(*(p)), false);			\
		(x) = *(__volatile__ __typeof__(*(p)) *)(p);		\
	} while (0)
#define vnl_put(x, p, label)						\
	do {								\
		*(__volatile__ __typeof__(*(p)) *)(p) = (x);		\
		vnl_test_hook(p, sizeof(*(p)), true);			\
	} while (0)
#define vnl_put_unaligned(x, p, label)					\
	do {								\
		__typeof__(*(p)) vnl_v_ = (x);				\
		memcpy((p), &vnl_v_, sizeof(vnl_v_));			\
		vnl_test_hook(p, sizeof(vnl_v_), true);			\
	} while (0)

#define vnl_index_nospec(i, n)		(i)

/* A hostile guest may make the two buffers overlap: memmove. */
#define VNL_SECTION_COPY_MAX		VNL_MAX_FRAME_SIZE
#define vnl_copy_in_section(dst, src, n, src_fault, dst_fault)		\
	do {								\
		vnl_test_hook(src, n, false);				\
		memmove((dst), (src), (n));				\
		vnl_test_hook(dst, n, true);				\
	} while (0)

typedef _Atomic u32 vnl_atomic_t;
#define vnl_atomic_read(a)		atomic_load(a)
#define vnl_atomic_set(a, v)		atomic_store(a, v)
#define vnl_atomic_or(v, a)		atomic_fetch_or(a, v)
#define vnl_atomic_andnot(v, a)		atomic_fetch_and(a, ~(u32)(v))

#endif /* __KERNEL__ */

/*
 * Ring fields (__virtio16 and friends) are little-endian: the device offers
 * VERSION_1 and nothing of the legacy interface.
 */
#define vnl16_to_cpu(x)		le16_to_cpu((__force __le16)(x))
#define vnl32_to_cpu(x)		le32_to_cpu((__force __le32)(x))
#define vnl64_to_cpu(x)		le64_to_cpu((__force __le64)(x))
#define cpu_to_vnl16(x)		((__force __virtio16)cpu_to_le16(x))
#define cpu_to_vnl32(x)		((__force __virtio32)cpu_to_le32(x))

#endif /* VNL_COMPAT_H */
