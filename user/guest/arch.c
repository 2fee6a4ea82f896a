// SPDX-License-Identifier: GPL-2.0
/*
 * x86 plumbing for the guest. Ring 0 does the setup: the IDT (in the page
 * the VMM provides), the local APIC with a 10 ms periodic timer (the
 * watchdog's clock), the IOAPIC route of the NIC's pin (edge, active high,
 * to this CPU), the TSS ring-0 stack. Then the driver continues at CPL 3,
 * with interrupts on: CPL-3 code runs natively even where a software-only
 * KVM emulates guest CPL-0 code, so ring 0 keeps only tiny interrupt entries
 * and the port-I/O and wait services behind ud2 (entry.S).
 */
#include "guest.h"

#define LAPIC_ID	0x020
#define LAPIC_TPR	0x080
#define LAPIC_SVR	0x0f0
#define LAPIC_LVT_TIMER	0x320
#define LAPIC_LVT_LINT0	0x350
#define LAPIC_LVT_LINT1	0x360
#define LAPIC_TIMER_ICR	0x380
#define LAPIC_TIMER_DCR	0x3e0
#define LAPIC_ENABLE	0x100
#define LVT_MASKED	0x10000
#define LVT_PERIODIC	0x20000
#define TIMER_DIV_1	0xb
/* KVM's local APIC timer counts at 1 GHz. */
#define TIMER_COUNT	(TICK_MS * 1000000u)

#define IOAPIC_REGSEL	0x00
#define IOAPIC_WIN	0x10
#define IOAPIC_REDIR(n)	(0x10 + 2 * (n))

#define GATE_INTR	0x8e	/* present, DPL 0, interrupt gate */
#define VEC_UD		6
#define RFLAGS_IF	0x200
#define TSS_RSP0	4

struct idt_gate {
	u16 off_lo;
	u16 sel;
	u8 ist;
	u8 type;
	u16 off_mid;
	u32 off_hi;
	u32 zero;
} __attribute__((packed));

struct idt_ptr {
	u16 limit;
	u64 base;
} __attribute__((packed));

volatile u64 ticks;
volatile u64 irq_count;
volatile u32 irq_pending;
volatile u32 irq_msix;
u32 boot_apic_id;
static u8 ring0_stack[16384] __attribute__((aligned(16)));

static void lapic_write(u32 reg, u32 v)
{
	mmio_write32(VNL_GPA_LAPIC + reg, v);
}

static u32 lapic_read(u32 reg)
{
	return mmio_read32(VNL_GPA_LAPIC + reg);
}

static void ioapic_write(u32 reg, u32 v)
{
	mmio_write32(VNL_GPA_IOAPIC + IOAPIC_REGSEL, reg);
	mmio_write32(VNL_GPA_IOAPIC + IOAPIC_WIN, v);
}

static void idt_load(void)
{
	struct idt_ptr p = { .limit = 256 * 16 - 1, .base = VNL_GPA_IDT };

	asm volatile("lidt %0" : : "m"(p));
}

static void idt_set(int v, void *handler, u8 type)
{
	struct idt_gate *idt = (struct idt_gate *)VNL_GPA_IDT;
	u64 h = (uintptr_t)handler;

	idt[v] = (struct idt_gate) {
		.off_lo = h & 0xffff,
		.sel = VNL_SEL_CODE,
		.type = type,
		.off_mid = (h >> 16) & 0xffff,
		.off_hi = h >> 32,
	};
}

static void idt_fill(void)
{
	for (int v = 0; v < 256; v++)
		idt_set(v, &vector_table[v * VEC_STUB_SIZE], GATE_INTR);
	idt_set(VEC_DEVICE, irq_device_entry, GATE_INTR);
	idt_set(VEC_MSIX, irq_msix_config_entry, GATE_INTR);
	idt_set(VEC_MSIX + 1, irq_msix_rx_entry, GATE_INTR);
	idt_set(VEC_MSIX + 2, irq_msix_tx_entry, GATE_INTR);
	idt_set(VEC_TIMER, irq_timer_entry, GATE_INTR);
	idt_set(VEC_SPURIOUS, irq_spurious_entry, GATE_INTR);
	idt_set(VEC_UD, ud_entry, GATE_INTR);
}

static void lapic_init(bool timer)
{
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT1, LVT_MASKED);
	lapic_write(LAPIC_SVR, LAPIC_ENABLE | VEC_SPURIOUS);
	if (!timer)
		return;
	lapic_write(LAPIC_TIMER_DCR, TIMER_DIV_1);
	lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | VEC_TIMER);
	lapic_write(LAPIC_TIMER_ICR, TIMER_COUNT);
}

void arch_init(const struct vnl_guest_params *p)
{
	u32 apic_id;

	idt_fill();
	idt_load();
	/* The legacy PICs stay masked: the NIC comes through the IOAPIC. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	lapic_init(true);
	apic_id = lapic_read(LAPIC_ID) >> 24;
	boot_apic_id = apic_id;
	/* Edge-triggered, active high, fixed delivery to this CPU. */
	ioapic_write(IOAPIC_REDIR(p->gsi) + 1, apic_id << 24);
	ioapic_write(IOAPIC_REDIR(p->gsi), VEC_DEVICE);
	*(volatile u64 *)(uintptr_t)(VNL_GPA_TSS + TSS_RSP0) =
		(uintptr_t)ring0_stack + sizeof(ring0_stack);
}

void arch_ap_init(void)
{
	idt_load();
	lapic_init(false);
}

void arch_enter_user(void (*fn)(void))
{
	u64 sp;

	asm volatile("mov %%rsp, %0" : "=r"(sp));
	sp = (sp & ~15ULL) - 8;		/* as if fn had been called */
	asm volatile("push %0\n\t"	/* ss */
		     "push %1\n\t"	/* rsp */
		     "push %2\n\t"	/* rflags */
		     "push %3\n\t"	/* cs */
		     "push %4\n\t"	/* rip */
		     "iretq"
		     : : "r"((u64)VNL_SEL_USER_DATA | 3), "r"(sp),
		       "r"((u64)RFLAGS_IF | 2), "r"((u64)VNL_SEL_USER_CODE | 3),
		       "r"((uintptr_t)fn) : "memory");
	__builtin_unreachable();
}

static const char *const exc_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "?", "#TS", "#NP", "#SS", "#GP", "#PF", "?",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

/* Everything that is not a hot entry: a fault, or a stray vector. */
void guest_trap(struct trap_frame *f);
void guest_trap(struct trap_frame *f)
{
	u64 cr2;

	asm volatile("mov %%cr2, %0" : "=r"(cr2));
	fail("exception %llu %s at rip 0x%llx (cs 0x%llx), error 0x%llx, cr2 0x%llx",
	     (unsigned long long)f->vector,
	     f->vector < 32 && exc_names[f->vector] ? exc_names[f->vector] :
	     "(unexpected vector)", (unsigned long long)f->rip,
	     (unsigned long long)f->cs, (unsigned long long)f->error,
	     (unsigned long long)cr2);
	ucall(VNL_UCALL_DONE, result.failures, 0);
	for (;;)
		asm volatile("cli; hlt");
}
