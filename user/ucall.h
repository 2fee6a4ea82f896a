/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The contract between `vnetloop run` and its built-in guest: where the guest
 * finds its parameters, and the port-I/O "ucall" channel it answers through.
 *
 * A ucall is one 32-bit OUT to VNL_UCALL_PORT whose value is the
 * guest-physical address of a struct vnl_ucall (guest memory is identity
 * mapped below 4 GiB). The vCPU exits to the VMM, which reads the struct from
 * guest memory, acts on it and resumes the guest. Compiled both by the VMM
 * and by the freestanding guest, so only fixed-width types.
 */
#ifndef VNL_UCALL_H
#define VNL_UCALL_H

#include <stdint.h>

#define VNL_UCALL_PORT		0x0e10

/* Fixed guest-physical layout set up by the VMM (see Documentation/vmm.rst). */
#define VNL_GPA_GDT		0x1000ULL
#define VNL_GPA_IDT		0x2000ULL
#define VNL_GPA_TSS		0x3000ULL
#define VNL_GPA_PARAMS		0x4000ULL
#define VNL_GPA_PML4		0x8000ULL	/* + PDPT + 4 PDs: 0x8000..0xdfff */
#define VNL_GPA_STACKS		0x20000ULL	/* one stack per vCPU */
#define VNL_STACK_SIZE		0x4000ULL
#define VNL_MAX_VCPUS		32
#define VNL_GPA_IMAGE		0x100000ULL	/* the guest binary is linked here */

/* The virtio-mmio device and its interrupt. */
#define VNL_GPA_MMIO		0xd0000000ULL
#define VNL_MMIO_SIZE		0x200
#define VNL_MMIO_GSI		5
#define VNL_GPA_IOAPIC		0xfec00000ULL
#define VNL_GPA_LAPIC		0xfee00000ULL

/* GDT selectors (the Linux boot protocol's __BOOT_CS / __BOOT_DS). */
#define VNL_SEL_CODE		0x10
#define VNL_SEL_DATA		0x18
#define VNL_SEL_TSS		0x20	/* 16-byte descriptor: 0x20 and 0x28 */
#define VNL_SEL_USER_CODE	0x30	/* DPL 3, for the guest's CPL-3 code */
#define VNL_SEL_USER_DATA	0x38

/* The header at the start of the guest image. */
#define VNL_IMAGE_MAGIC		0x474c4e56	/* "VNLG" */
struct vnl_image_head {
	uint32_t magic;
	uint32_t version;
	uint64_t entry;		/* bootstrap vCPU: rdi = &params */
	uint64_t ap_entry;	/* other vCPUs: rdi = &params, rsi = vCPU index */
	uint64_t end;		/* end of .bss: the guest's heap starts after it */
};

enum vnl_scenario {
	VNL_SC_TRAFFIC,
	VNL_SC_OVERSIZE,
	VNL_SC_SHORT_TX,
	VNL_SC_POISON,
	VNL_SC_RX_STARVE,
	VNL_SC_TRIPLE_FAULT,	/* exit-path tests: no traffic */
	VNL_SC_REBOOT,
	VNL_SC_COUNT
};

#define VNL_PARAMS_MAGIC	0x504c4e56	/* "VNLP" */
struct vnl_guest_params {
	uint32_t magic;
	uint32_t scenario;	/* enum vnl_scenario */
	uint64_t mem_size;
	uint64_t frames;
	uint32_t frame_size;
	uint32_t batch;
	uint32_t event_idx;	/* accept EVENT_IDX if offered */
	uint32_t vcpus;
	uint64_t mmio_base;
	uint32_t gsi;
	uint8_t mac[6];
	uint8_t pad[2];
};

enum vnl_ucall_cmd {
	VNL_UCALL_MARK = 1,	/* arg[0]: enum vnl_mark */
	VNL_UCALL_FAIL,		/* arg[0]: gpa of a message, arg[1]: its length */
	VNL_UCALL_RESULT,	/* arg[0]: gpa of a struct vnl_guest_result */
	VNL_UCALL_DONE,		/* arg[0]: number of failed checks */
};

enum vnl_mark {
	VNL_MARK_TRAFFIC_START,
	VNL_MARK_TRAFFIC_END,
};

struct vnl_ucall {
	uint32_t cmd;
	uint32_t vcpu;
	uint64_t arg[3];
};

/* The thirteen device counters in SPEC order (= VNETLOOP_C_* ids). */
enum vnl_expect {
	VNL_X_TX_PACKETS, VNL_X_TX_BYTES, VNL_X_RX_PACKETS, VNL_X_RX_BYTES,
	VNL_X_TX_DROPPED_NO_RX_BUFFER, VNL_X_TX_DROPPED_RX_POISONED,
	VNL_X_TX_CHAIN_INVALID, VNL_X_TX_OVERSIZE_DROPPED,
	VNL_X_RX_CHAIN_INVALID, VNL_X_RX_WRITE_FAILED,
	VNL_X_TX_ADD_USED_FAILURES, VNL_X_RX_ADD_USED_FAILURES,
	VNL_X_INVALID_AVAIL_IDX_COUNT,
	VNL_NUM_SPEC_COUNTERS
};

/* The guest's own view of the run; expect[] is what the device must count. */
#define VNL_RESULT_MAGIC	0x524c4e56	/* "VNLR" */
struct vnl_guest_result {
	uint32_t magic;
	uint32_t scenario;
	uint64_t features;	/* negotiated */
	uint64_t frames_sent;
	uint64_t frames_received;
	uint64_t frames_verified;
	uint64_t bytes_verified;
	uint64_t mismatches;	/* frames whose length, header or bytes differ */
	uint64_t failures;	/* failed checks of any kind */
	uint64_t irqs;		/* device interrupts taken */
	uint64_t irqs_vring;	/* ... whose InterruptStatus had VRING */
	uint64_t irqs_config;	/* ... whose InterruptStatus had CONFIG */
	uint64_t irqs_empty;	/* ... whose InterruptStatus read 0 */
	uint64_t isr_reads;	/* InterruptStatus reads by the guest */
	uint64_t isr_acks;	/* InterruptACK writes by the guest */
	uint64_t tx_kicks;	/* QueueNotify(1) writes */
	uint64_t rx_kicks;	/* QueueNotify(0) writes */
	uint64_t timer_ticks;
	uint64_t needs_reset_seen;	/* Status reads showing NEEDS_RESET */
	uint64_t resets;	/* device resets by the guest */
	uint64_t mmio_accesses;	/* device register accesses by the guest */
	uint32_t aps_online;	/* other vCPUs that reached their idle loop */
	uint32_t pad;
	uint64_t expect[VNL_NUM_SPEC_COUNTERS];
};

#endif /* VNL_UCALL_H */
