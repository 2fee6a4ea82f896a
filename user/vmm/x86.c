// SPDX-License-Identifier: GPL-2.0
/*
 * x86-64 long mode for the built-in guest's vCPUs: identity page tables of
 * the low 4 GiB, a GDT with flat code and data segments and a 64-bit TSS,
 * an empty IDT the guest fills, and each vCPU's registers at its entry.
 */
#include <errno.h>
#include <string.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "user/abi/layout.h"
#include "user/vmm/vm.h"

#define PTE_P		0x001ULL
#define PTE_RW		0x002ULL
#define PTE_US		0x004ULL
#define PTE_PWT		0x008ULL
#define PTE_PCD		0x010ULL
#define PTE_PS		0x080ULL

#define CR0_PE		(1ULL << 0)
#define CR0_MP		(1ULL << 1)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_WP		(1ULL << 16)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define CR4_OSFXSR	(1ULL << 9)
#define CR4_OSXMMEXCPT	(1ULL << 10)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

/* Descriptor access bytes (P, DPL, S, type) and flags (G, D/B, L). */
#define GDT_CODE0	0x9b
#define GDT_DATA0	0x93
#define GDT_CODE3	0xfb
#define GDT_DATA3	0xf3
#define GDT_TSS64	0x8b	/* busy 64-bit TSS */
#define GDT_F_G		0x8
#define GDT_F_DB	0x4
#define GDT_F_L		0x2

/* One 8-byte GDT descriptor. */
static uint64_t gdt_entry(uint64_t base, uint32_t limit, uint8_t access,
			  uint8_t flags)
{
	return (limit & 0xffffULL) | ((base & 0xffffffULL) << 16) |
	       ((uint64_t)access << 40) | (((uint64_t)limit >> 16 & 0xf) << 48) |
	       ((uint64_t)flags << 52) | ((base >> 24 & 0xff) << 56);
}

static void vm_segment(struct kvm_segment *s, uint16_t sel, uint8_t type,
		       uint8_t sflag, uint8_t l, uint8_t db)
{
	*s = (struct kvm_segment) {
		.base	  = 0,
		.limit	  = 0xffffffff,
		.selector = sel,
		.type	  = type,
		.present  = 1,
		.dpl	  = 0,
		.db	  = db,
		.s	  = sflag,
		.l	  = l,
		.g	  = 1,
	};
}

static void vm_build_tables(struct vm *vm)
{
	uint64_t *gdt = vm_gpa(vm, VNL_GPA_GDT, 0x1000);
	uint64_t *pml4 = vm_gpa(vm, VNL_GPA_PML4, 0x1000);
	uint64_t *pdpt = vm_gpa(vm, VNL_GPA_PML4 + 0x1000, 0x1000);
	uint64_t *pd = vm_gpa(vm, VNL_GPA_PML4 + 0x2000, 0x4000);

	memset(gdt, 0, 0x1000);
	gdt[VNL_SEL_CODE / 8] = gdt_entry(0, 0xfffff, GDT_CODE0,
					  GDT_F_G | GDT_F_L);
	gdt[VNL_SEL_DATA / 8] = gdt_entry(0, 0xfffff, GDT_DATA0,
					  GDT_F_G | GDT_F_DB);
	/* 64-bit TSS: a 16-byte system descriptor. */
	gdt[VNL_SEL_TSS / 8] = gdt_entry(VNL_GPA_TSS, 0x67, GDT_TSS64, 0);
	gdt[VNL_SEL_TSS / 8 + 1] = VNL_GPA_TSS >> 32;
	/* Flat CPL-3 segments: code runs natively there even where a
	 * software-only KVM emulates guest CPL-0 code. */
	gdt[VNL_SEL_USER_CODE / 8] = gdt_entry(0, 0xfffff, GDT_CODE3,
					       GDT_F_G | GDT_F_L);
	gdt[VNL_SEL_USER_DATA / 8] = gdt_entry(0, 0xfffff, GDT_DATA3,
					       GDT_F_G | GDT_F_DB);
	memset(vm_gpa(vm, VNL_GPA_TSS, 0x1000), 0, 0x1000);
	memset(vm_gpa(vm, VNL_GPA_IDT, 0x1000), 0, 0x1000);

	/* Identity map of the low 4 GiB, user-accessible; the top GiB
	 * (MMIO) uncached. */
	memset(pml4, 0, 0x1000);
	pml4[0] = (VNL_GPA_PML4 + 0x1000) | PTE_P | PTE_RW | PTE_US;
	for (int i = 0; i < 4; i++)
		pdpt[i] = (VNL_GPA_PML4 + 0x2000 + 0x1000 * i) | PTE_P |
			  PTE_RW | PTE_US;
	memset(pdpt + 4, 0, 0x1000 - 4 * sizeof(*pdpt));
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | PTE_P | PTE_RW | PTE_US | PTE_PS |
			(i >= 3 * 512 ? PTE_PCD | PTE_PWT : 0);
}

static int vm_vcpu_long_mode(struct vcpu *v, uint64_t rip, uint64_t arg)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs))
		return vm_ioctl_err("KVM_GET_SREGS");
	vm_segment(&sregs.cs, VNL_SEL_CODE, 0xb, 1, 1, 0);
	vm_segment(&sregs.ds, VNL_SEL_DATA, 0x3, 1, 0, 1);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	vm_segment(&sregs.tr, VNL_SEL_TSS, 0xb, 0, 0, 0);
	sregs.tr.base = VNL_GPA_TSS;
	sregs.tr.limit = 0x67;
	sregs.tr.g = 0;
	sregs.ldt = (struct kvm_segment) { .type = 2, .unusable = 1 };
	sregs.gdt.base = VNL_GPA_GDT;
	sregs.gdt.limit = 0x1000 - 1;
	sregs.idt.base = VNL_GPA_IDT;
	sregs.idt.limit = 0x1000 - 1;
	sregs.cr3 = VNL_GPA_PML4;
	sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs))
		return vm_ioctl_err("KVM_SET_SREGS");

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	regs.rip = rip;
	regs.rsp = VNL_GPA_STACKS + (v->id + 1) * VNL_STACK_SIZE;
	regs.rdi = arg;
	regs.rsi = v->id;
	if (ioctl(v->fd, KVM_SET_REGS, &regs))
		return vm_ioctl_err("KVM_SET_REGS");
	/* Other vCPUs wait for INIT/SIPI otherwise; ours start in place. */
	if (v->id && ioctl(v->fd, KVM_SET_MP_STATE, &mp))
		return vm_ioctl_err("KVM_SET_MP_STATE");
	return 0;
}

int vm_setup_long_mode(struct vm *vm, uint64_t entry, uint64_t ap_entry,
		       uint64_t arg)
{
	int ret = 0;

	if (vm->mem_size < VNL_GPA_IMAGE || vm->nvcpus > VNL_MAX_VCPUS)
		return -EINVAL;
	vm_build_tables(vm);
	ret = vm_vcpu_long_mode(&vm->vcpus[0], entry, arg);
	/* Without ap_entry the others wait for INIT/SIPI, as on hardware. */
	for (unsigned int i = 1; i < vm->nvcpus && ap_entry && !ret; i++)
		ret = vm_vcpu_long_mode(&vm->vcpus[i], ap_entry, arg);
	return ret;
}
