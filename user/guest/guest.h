/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The built-in guest: freestanding x86-64 code started by `vnetloop run` in
 * long mode (identity-mapped low 4 GiB, flat segments). It drives the
 * loopback NIC as a virtio driver and reports through the ucall port.
 */
#ifndef VNL_GUEST_H
#define VNL_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../abi/layout.h"
#include "../abi/params.h"
#include "../abi/result.h"
#include "../abi/ucall.h"

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)	(((x) + (a) - 1) & ~((u64)(a) - 1))
#define MIN(a, b)	((a) < (b) ? (a) : (b))

/* Interrupt vectors: the NIC's line, its MSI-X vectors, the timer. */
#define VEC_DEVICE	0x30
#define VEC_MSIX	0x31	/* + MSI-X vector: config, RX, TX */
#define VEC_TIMER	0x40
#define VEC_SPURIOUS	0xff

/* The timer ticks every 10 ms; a wait gives up after this many ticks. */
#define TICK_MS		10
#define STALL_TICKS	1000

/*
 * The driver runs at CPL 3 (see arch.c), where port I/O and hlt fault. For
 * CPL 3 they are tiny ring-0 services behind "ud2" with the service number
 * in %ecx (an emulating KVM may support neither "int n" from CPL 3 nor its
 * emulation at CPL 0, but always delivers #UD). Ring 0 does its port I/O
 * directly. MMIO is plain memory access from both.
 */
#define SYS_WAIT	1	/* hlt unless a device interrupt is pending */
#define SYS_OUTB	2	/* %dx = port, %al = value */
#define SYS_INB		3	/* %dx = port; %al = value */
#define SYS_OUTL	4	/* %dx = port, %eax = value */
#define SYS_TRIPLE_FAULT 5	/* drop the IDT and fault */
#define SYS_INL		6	/* %dx = port; %eax = value */

static inline bool in_user(void)
{
	u16 cs;

	asm volatile("mov %%cs, %0" : "=r"(cs));
	return cs & 3;
}

static inline void outb(u16 port, u8 v)
{
	if (in_user())
		asm volatile("ud2" : : "a"(v), "d"(port), "c"(SYS_OUTB)
			     : "memory");
	else
		asm volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline u8 inb(u16 port)
{
	u32 v = 0;

	if (in_user())
		asm volatile("ud2" : "+a"(v) : "d"(port), "c"(SYS_INB)
			     : "memory");
	else
		asm volatile("inb %w1, %b0" : "+a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline void outl(u16 port, u32 v)
{
	if (in_user())
		asm volatile("ud2" : : "a"(v), "d"(port), "c"(SYS_OUTL)
			     : "memory");
	else
		asm volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline u32 inl(u16 port)
{
	u32 v;

	if (in_user())
		asm volatile("ud2" : "=a"(v) : "d"(port), "c"(SYS_INL)
			     : "memory");
	else
		asm volatile("inl %w1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline void barrier(void)
{
	asm volatile("" : : : "memory");
}

/* x86 is TSO: only store-load ordering needs a fence. */
static inline void mb(void)
{
	asm volatile("mfence" : : : "memory");
}

static inline u32 mmio_read32(u64 addr)
{
	return *(volatile u32 *)addr;
}

static inline void mmio_write32(u64 addr, u32 v)
{
	*(volatile u32 *)addr = v;
}

static inline u8 mmio_read8(u64 addr)
{
	return *(volatile u8 *)addr;
}

static inline u16 mmio_read16(u64 addr)
{
	return *(volatile u16 *)addr;
}

static inline void mmio_write8(u64 addr, u8 v)
{
	*(volatile u8 *)addr = v;
}

static inline void mmio_write16(u64 addr, u16 v)
{
	*(volatile u16 *)addr = v;
}

/* lib.c */
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void serial_init(void);
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ucall(u32 cmd, u64 a0, u64 a1);
/* Count a failed check, print it and pass it to the VMM. */
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define CHECK(cond, ...) ((cond) ? true : (fail(__VA_ARGS__), false))

/* arch.c */
struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error;
	u64 rip, cs, rflags, rsp, ss;
};

/* Ring 0: IDT, LAPIC and timer, the NIC's IOAPIC pin, the ring-0 stack. */
void arch_init(const struct vnl_guest_params *p);
void arch_ap_init(void);
/* Continue in fn at CPL 3 with interrupts on, on the current stack. */
__attribute__((noreturn)) void arch_enter_user(void (*fn)(void));
/* Sleep until an interrupt, unless one came since irq_pending was cleared. */
static inline void arch_wait(void)
{
	asm volatile("ud2" : : "c"(SYS_WAIT) : "memory");
}

/* Updated by the ring-0 interrupt entries in entry.S. */
extern volatile u64 ticks;		/* timer interrupts */
extern volatile u64 irq_count;		/* device interrupts */
extern volatile u32 irq_pending;	/* a device interrupt since cleared */
extern volatile u32 irq_msix;		/* MSI-X vectors seen (bit v) */
extern u32 boot_apic_id;		/* where MSI-X messages go */

/* scenario.c: run params->scenario with memory from heap upwards. */
void scenario_run(u64 heap);

/* entry.S */
extern u8 vector_table[];	/* 256 stubs of VEC_STUB_SIZE bytes */
#define VEC_STUB_SIZE	16
void irq_device_entry(void);
void irq_msix_config_entry(void);
void irq_msix_rx_entry(void);
void irq_msix_tx_entry(void);
void irq_timer_entry(void);
void irq_spurious_entry(void);
void ud_entry(void);

extern struct vnl_guest_result result;
extern const struct vnl_guest_params *params;

#endif /* VNL_GUEST_H */
