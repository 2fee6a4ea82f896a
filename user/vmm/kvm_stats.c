// SPDX-License-Identifier: GPL-2.0
/*
 * KVM's binary statistics of each vCPU (kvm_stats.h). The file of
 * KVM_GET_STATS_FD is a header (struct kvm_stats_header), an id string,
 * num_desc descriptors (struct kvm_stats_desc, each followed by name_size
 * bytes of name) at desc_offset, and the values (u64s, desc.size of them
 * at data_offset + desc.offset) at data_offset. The layout is read once,
 * from the first vCPU's file, and every other vCPU's must be the same;
 * then each snapshot is one pread of the data block per vCPU.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "user/vmm/kvm_stats.h"

/* Far above what any kernel has; a file past them is not a stats file. */
#define KS_MAX_NAME	4096
#define KS_MAX_DESC	65536
#define KS_MAX_DATA	(16u << 20)

static int ks_fail(struct kvm_stats *ks, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Say why in ks->error; returns -err. */
static int ks_fail(struct kvm_stats *ks, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ks->error, sizeof(ks->error), fmt, ap);
	va_end(ap);
	return -err;
}

/* len bytes at off, all of them: 0, -errno, or -EPROTO when cut short. */
static int ks_pread(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pread(fd, (uint8_t *)buf + done, len - done,
				  off + done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			return -EPROTO;
		done += r;
	}
	return 0;
}

static const char *ks_strerror(int ret)
{
	return ret == -EPROTO ? "the file ends early" : strerror(-ret);
}

/* The header and the descriptor block of fd (malloc'ed into *descs). */
static int ks_layout(struct kvm_stats *ks, int fd, unsigned int vcpu,
		     struct kvm_stats_header *h, uint8_t **descs,
		     size_t *len)
{
	int ret;

	*descs = NULL;
	ret = ks_pread(fd, h, sizeof(*h), 0);
	if (ret)
		return ks_fail(ks, -ret,
			       "reading the KVM stats header of vCPU %u: %s",
			       vcpu, ks_strerror(ret));
	if (!h->name_size || h->name_size > KS_MAX_NAME ||
	    h->num_desc > KS_MAX_DESC)
		return ks_fail(ks, EPROTO,
			       "the KVM stats header of vCPU %u is not one we know (name_size %u, num_desc %u)",
			       vcpu, h->name_size, h->num_desc);
	*len = (size_t)h->num_desc * (sizeof(struct kvm_stats_desc) +
				      h->name_size);
	*descs = malloc(*len ? *len : 1);
	if (!*descs)
		return ks_fail(ks, ENOMEM,
			       "no memory for %u KVM stats descriptors",
			       h->num_desc);
	ret = ks_pread(fd, *descs, *len, h->desc_offset);
	if (ret) {
		free(*descs);
		*descs = NULL;
		return ks_fail(ks, -ret,
			       "reading the KVM stats descriptors of vCPU %u: %s",
			       vcpu, ks_strerror(ret));
	}
	return 0;
}

/* Take the cumulative one-u64 counters of the first file's layout. */
static int ks_parse(struct kvm_stats *ks, const struct kvm_stats_header *h,
		    const uint8_t *descs)
{
	size_t step = sizeof(struct kvm_stats_desc) + h->name_size;
	uint64_t end = 0;

	ks->name_size = h->name_size;
	ks->data_offset = h->data_offset;
	ks->names = calloc(h->num_desc ? h->num_desc : 1, h->name_size);
	ks->offset = calloc(h->num_desc ? h->num_desc : 1,
			    sizeof(*ks->offset));
	if (!ks->names || !ks->offset)
		return ks_fail(ks, ENOMEM, "no memory for %u KVM stats names",
			       h->num_desc);
	for (uint32_t i = 0; i < h->num_desc; i++) {
		struct kvm_stats_desc d;
		const char *name = (const char *)descs + i * step + sizeof(d);
		char *to = ks->names + (size_t)ks->n * h->name_size;

		memcpy(&d, descs + i * step, sizeof(d));
		if ((d.flags & KVM_STATS_TYPE_MASK) !=
		    KVM_STATS_TYPE_CUMULATIVE || d.size != 1)
			continue;
		if ((uint64_t)d.offset + 8 > KS_MAX_DATA)
			return ks_fail(ks, EPROTO,
				       "KVM stat %.*s lies at %u, past any data block",
				       (int)h->name_size, name, d.offset);
		memcpy(to, name, h->name_size);
		to[h->name_size - 1] = '\0';
		ks->offset[ks->n++] = d.offset;
		if (d.offset + 8 > end)
			end = d.offset + 8;
	}
	ks->data_size = end;
	ks->data = malloc(end ? end : 1);
	if (!ks->data)
		return ks_fail(ks, ENOMEM, "no memory for the KVM stats data");
	return 0;
}

int kvm_stats_open_fds(struct kvm_stats *ks, const int *fds,
		       unsigned int nfds)
{
	struct kvm_stats_header h0, h;
	uint8_t *d0 = NULL, *d = NULL;
	size_t len0, len;
	int ret;

	memset(ks, 0, sizeof(*ks));
	ks->fds = malloc((nfds ? nfds : 1) * sizeof(*ks->fds));
	if (!ks->fds) {
		for (unsigned int i = 0; i < nfds; i++)
			close(fds[i]);
		return ks_fail(ks, ENOMEM, "no memory for %u stats fds", nfds);
	}
	memcpy(ks->fds, fds, nfds * sizeof(*fds));
	ks->nfds = nfds;
	if (!nfds) {
		ret = ks_fail(ks, EINVAL, "no vCPU to read KVM stats of");
		goto fail;
	}
	ret = ks_layout(ks, fds[0], 0, &h0, &d0, &len0);
	if (!ret)
		ret = ks_parse(ks, &h0, d0);
	/* Summing by index needs the same counters in the same places. */
	for (unsigned int i = 1; !ret && i < nfds; i++) {
		ret = ks_layout(ks, fds[i], i, &h, &d, &len);
		if (!ret && (h.name_size != h0.name_size ||
			     h.num_desc != h0.num_desc ||
			     h.data_offset != h0.data_offset ||
			     memcmp(d, d0, len0)))
			ret = ks_fail(ks, EPROTO,
				      "the KVM stats of vCPU %u are laid out unlike vCPU 0's",
				      i);
		free(d);
		d = NULL;
	}
	free(d0);
	if (!ret)
		return 0;
fail:
	{
		/* Keep the message through the reset. */
		char why[sizeof(ks->error)];

		memcpy(why, ks->error, sizeof(why));
		kvm_stats_close(ks);
		memcpy(ks->error, why, sizeof(why));
	}
	return ret;
}

int kvm_stats_open(struct kvm_stats *ks, int vm_fd, const int *vcpu_fds,
		   unsigned int nvcpus)
{
	int *fds, r;

	memset(ks, 0, sizeof(*ks));
	r = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_BINARY_STATS_FD);
	if (r < 0)
		return ks_fail(ks, errno,
			       "KVM_CHECK_EXTENSION(KVM_CAP_BINARY_STATS_FD) failed: %s",
			       strerror(errno));
	if (!r)
		return ks_fail(ks, ENOTSUP,
			       "KVM_CHECK_EXTENSION(KVM_CAP_BINARY_STATS_FD) says no: this KVM has no binary statistics (Linux 5.14 or later has them)");
	fds = malloc((nvcpus ? nvcpus : 1) * sizeof(*fds));
	if (!fds)
		return ks_fail(ks, ENOMEM, "no memory for %u stats fds",
			       nvcpus);
	for (unsigned int i = 0; i < nvcpus; i++) {
		fds[i] = ioctl(vcpu_fds[i], KVM_GET_STATS_FD, 0);
		if (fds[i] >= 0)
			continue;
		r = errno;
		while (i--)
			close(fds[i]);
		free(fds);
		return ks_fail(ks, r, "KVM_GET_STATS_FD on vCPU %u failed: %s",
			       i, strerror(r));
	}
	r = kvm_stats_open_fds(ks, fds, nvcpus);
	free(fds);
	return r;
}

int kvm_stats_read(struct kvm_stats *ks, uint64_t *v)
{
	memset(v, 0, ks->n * sizeof(*v));
	for (unsigned int f = 0; f < ks->nfds; f++) {
		int ret = ks_pread(ks->fds[f], ks->data, ks->data_size,
				   ks->data_offset);

		if (ret)
			return ks_fail(ks, -ret,
				       "reading the KVM stats of vCPU %u: %s",
				       f, ks_strerror(ret));
		for (unsigned int i = 0; i < ks->n; i++) {
			uint64_t x;

			memcpy(&x, ks->data + ks->offset[i], sizeof(x));
			v[i] += x;
		}
	}
	return 0;
}

const char *kvm_stats_name(const struct kvm_stats *ks, unsigned int i)
{
	return i < ks->n ? ks->names + (size_t)i * ks->name_size : NULL;
}

int kvm_stats_find(const struct kvm_stats *ks, const char *name)
{
	for (unsigned int i = 0; i < ks->n; i++)
		if (!strcmp(kvm_stats_name(ks, i), name))
			return i;
	return -1;
}

void kvm_stats_delta(unsigned int n, const uint64_t *start,
		     const uint64_t *end, uint64_t *delta)
{
	for (unsigned int i = 0; i < n; i++)
		delta[i] = end[i] - start[i];
}

void kvm_stats_close(struct kvm_stats *ks)
{
	for (unsigned int i = 0; i < ks->nfds; i++)
		close(ks->fds[i]);
	free(ks->fds);
	free(ks->names);
	free(ks->offset);
	free(ks->data);
	memset(ks, 0, sizeof(*ks));
}
