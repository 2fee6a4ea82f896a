/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KVM's own per-vCPU statistics, from the binary stats file of
 * KVM_GET_STATS_FD (Linux 5.14 and later, KVM_CAP_BINARY_STATS_FD): the
 * cumulative counters of one u64 each ("exits", "io_exits", "halt_exits",
 * ...), by the kernel's own names, summed over the vCPUs of a VM.
 * Histograms, peaks, instant values (a state, not a count) and entries of
 * more than one u64 are left out.
 *
 *   kvm_stats_open()   check the capability, open each vCPU's stats fd
 *                      and learn the layout (the same for every vCPU)
 *   kvm_stats_read()   a snapshot: the sums now, ks->n values
 *   kvm_stats_delta()  end - start of two snapshots
 *
 * Reading a vCPU's stats fd from another thread is fine: they are
 * counters the kernel updates in place.
 */
#ifndef VNL_KVM_STATS_H
#define VNL_KVM_STATS_H

#include <stdint.h>

struct kvm_stats {
	int *fds;		/* one stats fd per vCPU */
	unsigned int nfds;
	unsigned int n;		/* the counters taken */
	char *names;		/* n names, name_size bytes apart */
	uint32_t name_size;
	uint32_t *offset;	/* counter i's byte offset in the data block */
	uint32_t data_offset;	/* where the data block starts in the file */
	uint32_t data_size;	/* bytes of it read: up to the last counter */
	uint8_t *data;		/* one read's buffer */
	char error[192];	/* why the last call failed */
};

/*
 * KVM_CHECK_EXTENSION(KVM_CAP_BINARY_STATS_FD) on vm_fd, then
 * KVM_GET_STATS_FD on each of the nvcpus vcpu_fds. 0, or -errno with
 * ks->error naming the ioctl or read that failed and why; ks is then
 * empty (kvm_stats_close() is still fine).
 */
int kvm_stats_open(struct kvm_stats *ks, int vm_fd, const int *vcpu_fds,
		   unsigned int nvcpus);
/*
 * The same from stats files already open (taken over: kvm_stats_close()
 * closes them, on failure too); a test can hand it files it made itself.
 */
int kvm_stats_open_fds(struct kvm_stats *ks, const int *fds,
		       unsigned int nfds);
/* The sums over the vCPUs now into v[ks->n]: 0 or -errno (ks->error). */
int kvm_stats_read(struct kvm_stats *ks, uint64_t *v);
/* Counter i's name. */
const char *kvm_stats_name(const struct kvm_stats *ks, unsigned int i);
/* The index of the counter named name, or -1. */
int kvm_stats_find(const struct kvm_stats *ks, const char *name);
/* delta[i] = end[i] - start[i] for the n counters. */
void kvm_stats_delta(unsigned int n, const uint64_t *start,
		     const uint64_t *end, uint64_t *delta);
void kvm_stats_close(struct kvm_stats *ks);

#endif /* VNL_KVM_STATS_H */
