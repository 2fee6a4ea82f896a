/* SPDX-License-Identifier: GPL-2.0 */
/* `vnetloop run`: options, what a run collects, and its report. */
#ifndef VNL_RUN_H
#define VNL_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "user/abi/layout.h"
#include "user/abi/params.h"
#include "user/abi/result.h"
#include "user/dev/backend.h"
#include "user/vmm/kvm_stats.h"
#include "user/vmm/linux_guest.h"
#include "user/vmm/vm.h"

struct run_opts {
	enum vnl_backend_kind backend;
	bool backend_auto;	/* not asked for: kmod may fall back to thread */
	uint64_t frames;
	uint32_t frame_size;
	uint32_t batch;
	bool event_idx;
	enum vnl_scenario scenario;
	enum vnl_transport transport;
	bool msix;		/* pci: the built-in guest uses MSI-X */
	uint32_t mem_mib;
	uint32_t vcpus;
	uint32_t queue_pairs;	/* the NIC's, 1..VNL_MAX_PAIRS */
	bool check_sample;	/* --check sample: the guest samples frames */
	bool json;
	bool pretty;		/* with json: indented */
	/* --kernel: a Linux guest instead of the built-in one. */
	const char *kernel, *initrd, *cmdline;
};

/*
 * CPU time of a set of threads over the measured phase, from
 * /proc/<dir>/<id>/schedstat (ns on CPU), sampled at the two MARKs.
 */
struct run_cpu {
	const char *task;	/* "kthread", "thread", "vCPU thread" */
	char name[16];		/* the comm it is found by: vnetloop-3 */
	const char *dir;	/* "/proc" or "/proc/self/task" */
	int ids[VNL_MAX_VCPUS];	/* pids (kthread) or tids */
	unsigned int nids;
	bool ticks;		/* schedstat missing: utime + stime of stat */
	bool started;		/* sampled at the start of the phase */
	bool have;		/* ... and at its end: ns is valid */
	uint64_t start_ns, ns;	/* at the start, then over the phase */
	char error[160];	/* why there is no number */
};

/*
 * What moved over the measured phase, between the guest's two MARKs: each
 * source is read at both and reported as the difference (report.c).
 */
struct run_phase {
	bool started;		/* the start MARK came */
	bool ended;		/* ... and then the end MARK: the rest is valid */
	/* KVM's statistics (kvm_stats.h), summed over the vCPUs. */
	bool kvm_opened;	/* kvm is open, kvm_start and kvm_delta too */
	bool kvm_started;	/* read at the start MARK */
	bool have_kvm;		/* ... and at the end: kvm_delta is valid */
	struct kvm_stats kvm;
	uint64_t *kvm_start, *kvm_delta;	/* kvm.n each */
	char kvm_error[192];	/* why there are no KVM statistics */
	/* The VMM's own exit counts, at the start, then over the phase. */
	struct vm_exit_stats vmm_start, vmm;
	/* The device's counters by VNETLOOP_C_* id, likewise. */
	bool dev_started;	/* read at the start MARK */
	bool have_dev;		/* ... and at the end: dev is valid */
	unsigned int ndev;	/* how many are valid (both reads) */
	uint64_t dev_start[VNETLOOP_NUM_COUNTERS], dev[VNETLOOP_NUM_COUNTERS];
};

struct run_state {
	const struct run_opts *o;
	const char *backend_name;
	int dev_id;			/* kmod device id, or -1 */
	uint64_t isr_empty_reads;	/* InterruptStatus read as 0 */
	int exit_code;
	char why[256];
	/* From the guest. */
	bool have_result;
	bool done;
	uint64_t guest_failures;	/* as reported by DONE */
	struct vnl_guest_result res;
	double t_start, t_end;		/* MARK timestamps, seconds */
	struct run_cpu cpu_dev;		/* the device's thread, that phase */
	struct run_cpu cpu_vcpu;	/* the vCPU threads, that phase */
	struct run_phase phase;		/* ... and everything else, counted */
	struct vnl_backend *be;		/* the device, while the VM runs */
	/* From the VM and the device. */
	struct vm_exit_stats exits;
	unsigned int nvcpus;
	struct vcpu_stop_state stopped[VNL_MAX_VCPUS];
	bool have_counters;
	unsigned int ncounters;
	uint64_t counters[VNETLOOP_NUM_COUNTERS];
	unsigned int nmatch;	/* of them, compared with the guest's count */
	/* With more than one queue pair: each pair's counters. */
	unsigned int npairs;
	uint64_t pair_counters[VNL_MAX_PAIRS][VNETLOOP_NUM_COUNTERS];
	bool counters_match;
	struct linux_guest guest_linux;	/* with --kernel */
};

extern const char *const run_scenario_names[VNL_SC_COUNT];
extern const char *const run_backend_names[4];
extern const char *const run_transport_names[VNL_TRANSPORT_COUNT];

/* report.c: the summary, in the output mode chosen (print.h). */
void run_report(const struct run_state *s);

#endif /* VNL_RUN_H */
