/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An Intel MultiProcessor Specification 1.4 table, the smallest way to tell
 * a guest without ACPI where its local APICs and I/O APIC are and how the
 * ISA interrupts reach the I/O APIC. Linux finds it by scanning the last
 * kilobyte of conventional memory for the floating pointer.
 */
#ifndef VNL_MPTABLE_H
#define VNL_MPTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "user/vmm/vm.h"

/* The last KiB below 640 KiB, reserved in the e820 map (user/bzimage.h). */
#define MPTABLE_GPA		0x9fc00ULL
#define MPTABLE_MAX_SIZE	0x400U

/*
 * Write the floating pointer and the configuration table at MPTABLE_GPA:
 * vm->nvcpus processors (APIC ID = vCPU index, vCPU 0 the bootstrap one),
 * one ISA bus, the I/O APIC at VNL_GPA_IOAPIC with ID nvcpus, ISA IRQs 0..15
 * but 2 on the I/O APIC pins of the same number (KVM's default GSI routing;
 * ISA: edge-triggered, active high), ExtINT on LINT0 and NMI on LINT1.
 * With pci, also PCI bus 0 and the NIC's INTA# (00:01.0) on I/O APIC pin
 * VNL_PCI_INTX_GSI, edge-triggered and active high: the VMM pulses it
 * through an irqfd, as it does the ISA lines.
 * Returns the bytes written or a negative errno.
 */
int mptable_write(struct vm *vm, bool pci);

#endif /* VNL_MPTABLE_H */
