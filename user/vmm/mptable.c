// SPDX-License-Identifier: GPL-2.0
/*
 * The MP table: a 16-byte floating pointer ("_MP_") that points to a
 * configuration table ("PCMP") of processor, bus, I/O APIC and interrupt
 * entries. Both carry a byte checksum that makes their bytes sum to zero.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "user/abi/layout.h"
#include "user/dev/pci_bus.h"
#include "user/vmm/mptable.h"

#define MP_SPEC_REV		4	/* 1.4 */
#define MP_LAPIC_VERSION	0x14	/* integrated local APIC */
#define MP_IOAPIC_VERSION	0x11	/* what KVM's I/O APIC reports */

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_INT, MP_NMI, MP_SMI, MP_EXTINT };
#define MP_CPU_ENABLED		0x01
#define MP_CPU_BSP		0x02
#define MP_IOAPIC_ENABLED	0x01
#define MP_IRQ_CONFORMS		0x0000	/* polarity and trigger of the bus */
#define MP_IRQ_EDGE_HIGH	0x0005	/* active high, edge-triggered */
#define MP_ALL_LAPICS		0xff

/*
 * The tables' text fields are fixed-width and padded, never NUL-terminated:
 * "nonstring" says so, which also keeps gcc 15's
 * -Wunterminated-string-initialization quiet about "ISA   " filling its
 * six bytes. Compilers that lack the attribute (clang before 21) do not
 * warn there either.
 */
#if defined(__has_attribute)
#if __has_attribute(__nonstring__)
#define MP_TEXT __attribute__((__nonstring__))
#endif
#endif
#ifndef MP_TEXT
#define MP_TEXT
#endif

struct mp_floating {
	char signature[4] MP_TEXT;	/* "_MP_" */
	uint32_t physptr;		/* the configuration table */
	uint8_t length;			/* in 16-byte units: 1 */
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t feature[5];		/* 0: a configuration table follows */
} __attribute__((packed));

struct mp_config {
	char signature[4] MP_TEXT;	/* "PCMP" */
	uint16_t length;		/* the base table, entries included */
	uint8_t spec_rev;
	uint8_t checksum;
	char oem[8] MP_TEXT;
	char product[12] MP_TEXT;
	uint32_t oem_ptr;
	uint16_t oem_size;
	uint16_t count;			/* entries */
	uint32_t lapic;			/* local APIC address */
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mp_cpu {
	uint8_t type;
	uint8_t apic_id;
	uint8_t apic_ver;
	uint8_t flags;
	uint32_t signature;		/* CPUID 1 EAX: family, model, stepping */
	uint32_t features;		/* CPUID 1 EDX */
	uint32_t reserved[2];
} __attribute__((packed));

struct mp_bus {
	uint8_t type;
	uint8_t id;
	char name[6] MP_TEXT;		/* "ISA   " */
} __attribute__((packed));

struct mp_ioapic {
	uint8_t type;
	uint8_t id;
	uint8_t ver;
	uint8_t flags;
	uint32_t addr;
} __attribute__((packed));

/* An I/O interrupt (MP_INTSRC) or a local interrupt (MP_LINTSRC). */
struct mp_irq {
	uint8_t type;
	uint8_t irq_type;
	uint16_t flags;
	uint8_t src_bus;
	uint8_t src_irq;
	uint8_t dst_apic;
	uint8_t dst_pin;		/* I/O APIC INTIN#, or LINTIN# */
} __attribute__((packed));

_Static_assert(sizeof(struct mp_floating) == 16, "MP floating pointer");
_Static_assert(sizeof(struct mp_config) == 44, "MP config header");
_Static_assert(sizeof(struct mp_cpu) == 20, "MP processor entry");
_Static_assert(sizeof(struct mp_bus) == 8 && sizeof(struct mp_ioapic) == 8 &&
	       sizeof(struct mp_irq) == 8, "MP 8-byte entries");

#define MP_ISA_IRQS		16
#define MP_ISA_CASCADE		2	/* the 8259 cascade: no device */
/*
 * Bus ids. Linux looks a PCI device's bus number up as an MP bus id
 * (IO_APIC_get_PCI_irq_vector() tests it against its not-PCI bitmap), so
 * PCI bus 0 must be MP bus 0, as on real boards; ISA then comes second.
 */
#define MP_BUS_PCI		0
#define MP_BUS_ISA(pci)		((pci) ? 1 : 0)
/* A PCI interrupt source: the device's slot and pin (0 = INTA#). */
#define MP_PCI_IRQ(slot, pin)	((slot) << 2 | (pin))

static uint8_t mp_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return -sum;
}

int mptable_write(struct vm *vm, bool pci)
{
	size_t len = sizeof(struct mp_floating) + sizeof(struct mp_config) +
		     vm->nvcpus * sizeof(struct mp_cpu) +
		     (1 + pci) * sizeof(struct mp_bus) +
		     sizeof(struct mp_ioapic) +
		     (MP_ISA_IRQS - 1 + 2 + pci) * sizeof(struct mp_irq);
	uint8_t *base = vm_gpa(vm, MPTABLE_GPA, MPTABLE_MAX_SIZE), *p;
	uint8_t ioapic_id = vm->nvcpus;
	struct mp_floating *mpf;
	struct mp_config *mpc;
	uint16_t count = 0;

	if (!base || len > MPTABLE_MAX_SIZE || vm->nvcpus >= MP_ALL_LAPICS) {
		fprintf(stderr, "vnetloop: no room for an MP table of %u vCPUs\n",
			vm->nvcpus);
		return -ENOSPC;
	}
	memset(base, 0, MPTABLE_MAX_SIZE);
	mpf = (struct mp_floating *)base;
	mpc = (struct mp_config *)(mpf + 1);
	p = (uint8_t *)(mpc + 1);

	for (unsigned int i = 0; i < vm->nvcpus; i++, count++) {
		struct mp_cpu *c = (struct mp_cpu *)p;

		*c = (struct mp_cpu) {
			.type = MP_PROCESSOR, .apic_id = i,
			.apic_ver = MP_LAPIC_VERSION,
			.flags = MP_CPU_ENABLED | (i ? 0 : MP_CPU_BSP),
		};
		p += sizeof(*c);
	}
	/* Bus entries in the order of their ids. */
	if (pci) {
		*(struct mp_bus *)p = (struct mp_bus) {
			.type = MP_BUS, .id = MP_BUS_PCI, .name = "PCI   ",
		};
		p += sizeof(struct mp_bus);
		count++;
	}
	*(struct mp_bus *)p = (struct mp_bus) {
		.type = MP_BUS, .id = MP_BUS_ISA(pci), .name = "ISA   ",
	};
	p += sizeof(struct mp_bus);
	count++;
	*(struct mp_ioapic *)p = (struct mp_ioapic) {
		.type = MP_IOAPIC, .id = ioapic_id, .ver = MP_IOAPIC_VERSION,
		.flags = MP_IOAPIC_ENABLED, .addr = VNL_GPA_IOAPIC,
	};
	p += sizeof(struct mp_ioapic);
	count++;
	for (unsigned int irq = 0; irq < MP_ISA_IRQS; irq++) {
		if (irq == MP_ISA_CASCADE)
			continue;
		*(struct mp_irq *)p = (struct mp_irq) {
			.type = MP_INTSRC, .irq_type = MP_INT,
			.flags = MP_IRQ_CONFORMS, .src_bus = MP_BUS_ISA(pci),
			.src_irq = irq,
			.dst_apic = ioapic_id, .dst_pin = irq,
		};
		p += sizeof(struct mp_irq);
		count++;
	}
	if (pci) {
		*(struct mp_irq *)p = (struct mp_irq) {
			.type = MP_INTSRC, .irq_type = MP_INT,
			.flags = MP_IRQ_EDGE_HIGH, .src_bus = MP_BUS_PCI,
			.src_irq = MP_PCI_IRQ(VNL_PCI_NIC_SLOT, 0),
			.dst_apic = ioapic_id, .dst_pin = VNL_PCI_INTX_GSI,
		};
		p += sizeof(struct mp_irq);
		count++;
	}
	/* The local APICs' wiring in virtual-wire mode. */
	*(struct mp_irq *)p = (struct mp_irq) {
		.type = MP_LINTSRC, .irq_type = MP_EXTINT,
		.flags = MP_IRQ_CONFORMS, .dst_apic = MP_ALL_LAPICS,
		.dst_pin = 0,
	};
	p += sizeof(struct mp_irq);
	*(struct mp_irq *)p = (struct mp_irq) {
		.type = MP_LINTSRC, .irq_type = MP_NMI,
		.flags = MP_IRQ_CONFORMS, .dst_apic = MP_ALL_LAPICS,
		.dst_pin = 1,
	};
	p += sizeof(struct mp_irq);
	count += 2;

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = p - (uint8_t *)mpc;
	mpc->spec_rev = MP_SPEC_REV;
	memcpy(mpc->oem, "VNETLOOP", 8);
	memcpy(mpc->product, "LOOPBACK NIC", 12);
	mpc->count = count;
	mpc->lapic = VNL_GPA_LAPIC;
	mpc->checksum = mp_checksum(mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = MPTABLE_GPA + sizeof(*mpf);
	mpf->length = 1;
	mpf->spec_rev = MP_SPEC_REV;
	mpf->checksum = mp_checksum(mpf, sizeof(*mpf));
	return p - base;
}
