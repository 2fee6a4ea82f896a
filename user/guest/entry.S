/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest entry points and interrupt stubs. The VMM starts every vCPU in long
 * mode with rsp on its own stack, rdi = &params, rsi = vCPU index.
 */
	.code64

	.section .text.entry, "ax"
	.globl _start
_start:
	xor	%ebp, %ebp
	call	guest_main
halt:
	cli
	hlt
	jmp	halt

	.globl ap_start
ap_start:
	xor	%ebp, %ebp
	call	ap_main
	jmp	halt

/*
 * One 16-byte stub per vector: push a zero error code where the CPU pushes
 * none, push the vector, then save every register and call guest_trap()
 * with the frame (struct trap_frame). Interrupt gates: IF is clear inside.
 */
	.text
	.balign	16
	.globl	vector_table
vector_table:
	.set	vec, 0
	.rept	256
	.balign	16
	.if	(vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq	$0
	.endif
	pushq	$vec
	jmp	trap_common
	.set	vec, vec + 1
	.endr

trap_common:
	push	%rax
	push	%rbx
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%rbp
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, %rdi
	cld
	call	guest_trap
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rbp
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rbx
	pop	%rax
	add	$16, %rsp
	iretq

/*
 * The hot ring-0 paths, kept to a handful of instructions: software-only
 * KVM implementations may emulate guest CPL-0 code instruction by
 * instruction, while CPL-3 code runs natively.
 */
	.globl	irq_device_entry
irq_device_entry:
	incq	irq_count(%rip)
	movl	$1, irq_pending(%rip)
	jmp	lapic_eoi

/* MSI-X vectors: the bit of the source (config 0, RX 1, TX 2), then as INTx. */
	.globl	irq_msix_config_entry
irq_msix_config_entry:
	lock orl $1, irq_msix(%rip)
	jmp	irq_device_entry

	.globl	irq_msix_rx_entry
irq_msix_rx_entry:
	lock orl $2, irq_msix(%rip)
	jmp	irq_device_entry

	.globl	irq_msix_tx_entry
irq_msix_tx_entry:
	lock orl $4, irq_msix(%rip)
	jmp	irq_device_entry

	.globl	irq_timer_entry
irq_timer_entry:
	incq	ticks(%rip)
lapic_eoi:
	push	%rax
	mov	$0xfee000b0, %eax
	movl	$0, (%rax)
	pop	%rax
	.globl	irq_spurious_entry
irq_spurious_entry:
	iretq

/*
 * #UD: from CPL 3, a "ud2" is a service request (%ecx, see guest.h);
 * anything else is a real fault for guest_trap(). Interrupt gate: IF is
 * clear, so a wait cannot miss an interrupt between its test and hlt.
 */
	.globl	ud_entry
ud_entry:
	testb	$3, 8(%rsp)		/* CS of the faulting code */
	jz	ud_fault
	push	%rax
	mov	8(%rsp), %rax		/* its RIP */
	cmpw	$0x0b0f, (%rax)		/* ud2 */
	pop	%rax
	jne	ud_fault
	addq	$2, (%rsp)		/* resume after it */
	cmp	$1, %ecx
	je	sys_wait
	cmp	$2, %ecx
	je	sys_outb
	cmp	$3, %ecx
	je	sys_inb
	cmp	$4, %ecx
	je	sys_outl
	cmp	$5, %ecx
	je	sys_triple_fault
	cmp	$6, %ecx
	je	sys_inl
ud_fault:
	pushq	$0
	pushq	$6
	jmp	trap_common

sys_wait:
	cmpl	$0, irq_pending(%rip)
	jne	1f
	sti
	hlt
1:	iretq

sys_outb:
	outb	%al, %dx
	iretq

sys_inb:
	inb	%dx, %al
	iretq

sys_outl:
	outl	%eax, %dx
	iretq

sys_inl:
	inl	%dx, %eax
	iretq

sys_triple_fault:
	lidt	no_idt(%rip)
	ud2

	.section .rodata
	.balign	16
no_idt:
	.word	0
	.quad	0
	.text

	.section .note.GNU-stack, "", @progbits
