/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What `vnetloop run` asks of its built-in guest: the scenario and its
 * parameters, at VNL_GPA_PARAMS.
 * Compiled both by the VMM and by the freestanding guest: fixed-width types.
 */
#ifndef VNL_ABI_PARAMS_H
#define VNL_ABI_PARAMS_H

#include <stdint.h>

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

/* The scenarios' names (`vnetloop run --scenario`), in enum order. */
#define VNL_SCENARIO_NAMES { "traffic", "oversize", "short-tx", "poison", \
			     "rx-starve", "triple-fault", "reboot" }

enum vnl_transport { VNL_TRANSPORT_MMIO, VNL_TRANSPORT_PCI,
		     VNL_TRANSPORT_COUNT };
#define VNL_TRANSPORT_NAMES { "mmio", "pci" }

#define VNL_PARAMS_MAGIC	0x504c4e56	/* "VNLP" */
/*
 * How the guest checks a received frame: every byte (tests), or for
 * benchmarks its header, length, frame number and two bytes of the
 * payload, from TX buffers filled once (a guest that spends its time on
 * the payload measures itself, not the device).
 */
enum vnl_check { VNL_CHECK_FULL, VNL_CHECK_SAMPLE };

struct vnl_guest_params {
	uint32_t magic;
	uint32_t scenario;	/* enum vnl_scenario */
	uint64_t mem_size;
	uint64_t frames;
	uint32_t frame_size;
	uint32_t batch;
	uint32_t event_idx;	/* accept EVENT_IDX if offered */
	uint32_t vcpus;
	uint64_t mmio_base;	/* virtio-mmio: the device */
	uint32_t gsi;		/* the IOAPIC pin of its line (or INTx) */
	uint8_t mac[6];
	uint8_t pad[2];
	uint32_t transport;	/* enum vnl_transport */
	uint32_t msix;		/* PCI: use MSI-X (else INTx) */
	uint64_t pci_mmio_base;	/* PCI: where the guest may place BARs */
	uint64_t pci_mmio_size;
	uint32_t queue_pairs;	/* the device's (1: no MQ offered) */
	uint32_t check;		/* enum vnl_check: what a received frame gets */
};

#endif /* VNL_ABI_PARAMS_H */
