// SPDX-License-Identifier: GPL-2.0
/*
 * The vhost-net peer: the kernel's own virtio-net data plane, so that
 * vnetloop's can be compared with what a user would run instead. It is
 * /dev/vhost-net with a tap as its backend (IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR, the 12-byte header of VERSION_1), and the tap looped back
 * on itself by tc: what the guest sends arrives at the tap's ingress and is
 * redirected to its egress, which is what the guest receives:
 *
 *   tc qdisc add dev TAP ingress
 *   tc filter add dev TAP parent ffff: matchall \
 *       action mirred egress redirect dev TAP
 *
 * (modules tun, vhost_net, sch_ingress, cls_matchall, act_mirred; `tc` of
 * iproute2 on the PATH). The tap lives as long as the backend: it is not
 * persistent, so the kernel removes it, and its tc rules, with the last fd.
 *
 * vhost-net keeps none of vnetloop's counters: tx and rx packets and bytes
 * come from the tap's statistics (what it took from the guest, what it gave
 * back), and the others are not reported. One queue pair. Interrupts are
 * the VMM's call eventfds, as for the other backends; for a one-line
 * transport InterruptStatus shows VRING when a used ring moved (as kmod's).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <net/if.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "user/dev/backend.h"

extern char **environ;

#define VHN_F_MRG_RXBUF		(1ULL << VIRTIO_NET_F_MRG_RXBUF)
#define VHN_F_GUEST		((1ULL << VIRTIO_F_VERSION_1) | \
				 (1ULL << VIRTIO_RING_F_EVENT_IDX))

struct vhn_be {
	struct vnl_backend be;
	struct vnl_backend_env env;
	int fd;				/* /dev/vhost-net */
	int tap;
	char ifname[IF_NAMESIZE];
	uint64_t vhost_features;	/* what vhost-net offers */
	struct virtio_net_config config;
	bool running;
	/* The tap's counters when the backend was made. */
	uint64_t base[4];
	/* Each ready queue's used->idx in the VMM's mapping, else NULL. */
	const uint16_t *used_idx[VNETLOOP_NUM_QUEUES];
	uint16_t used_seen[VNETLOOP_NUM_QUEUES];
};

/* The tap's statistics, in vnetloop's directions: tx is the guest's. */
static const char *const vhn_stat_files[4] = {
	[VNETLOOP_C_TX_PACKETS] = "rx_packets",
	[VNETLOOP_C_TX_BYTES] = "rx_bytes",
	[VNETLOOP_C_RX_PACKETS] = "tx_packets",
	[VNETLOOP_C_RX_BYTES] = "tx_bytes",
};

static int vhn_ioctl(struct vhn_be *v, unsigned long cmd, void *arg,
		     const char *what)
{
	int err;

	if (ioctl(v->fd, cmd, arg) == 0)
		return 0;
	err = errno;
	fprintf(stderr, "vnetloop: /dev/vhost-net %s: %s\n", what,
		strerror(err));
	return -err;
}

/* The host address of guest-physical gpa.. gpa + len, or 0. */
static uint64_t vhn_hva(const struct vhn_be *v, uint64_t gpa, uint64_t len)
{
	const struct vnl_region *m = &v->env.mem;

	if (gpa < m->gpa || len > m->size || gpa - m->gpa > m->size - len)
		return 0;
	return m->hva + (gpa - m->gpa);
}

static int vhn_read_stats(const struct vhn_be *v, uint64_t *c)
{
	char path[96];

	for (unsigned int i = 0; i < 4; i++) {
		unsigned long long n;
		FILE *f;
		int ok;

		snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s",
			 v->ifname, vhn_stat_files[i]);
		f = fopen(path, "re");
		if (!f)
			return -errno;
		ok = fscanf(f, "%llu", &n) == 1;
		fclose(f);
		if (!ok)
			return -EIO;
		c[i] = n;
	}
	return 0;
}

/* Queue q's ring, eventfds and the tap behind it. */
static int vhn_vring(struct vhn_be *v, unsigned int q,
		     const struct vnl_queue_cfg *c)
{
	struct vhost_vring_state st = { .index = q, .num = c->num };
	struct vhost_vring_file f = { .index = q };
	struct vhost_vring_addr a = {
		.index = q,
		.desc_user_addr = vhn_hva(v, c->desc, 16ULL * c->num),
		.avail_user_addr = vhn_hva(v, c->avail, 6 + 2ULL * c->num),
		.used_user_addr = vhn_hva(v, c->used, 6 + 8ULL * c->num),
	};
	int ret;

	if (!a.desc_user_addr || !a.avail_user_addr || !a.used_user_addr) {
		fprintf(stderr, "vnetloop: vhost-net: queue %u's rings are not in guest RAM\n",
			q);
		return -EINVAL;
	}
	ret = vhn_ioctl(v, VHOST_SET_VRING_NUM, &st, "VHOST_SET_VRING_NUM");
	st.num = 0;
	if (!ret)
		ret = vhn_ioctl(v, VHOST_SET_VRING_BASE, &st,
				"VHOST_SET_VRING_BASE");
	if (!ret)
		ret = vhn_ioctl(v, VHOST_SET_VRING_ADDR, &a,
				"VHOST_SET_VRING_ADDR");
	f.fd = v->be.kick_fd[q];
	if (!ret)
		ret = vhn_ioctl(v, VHOST_SET_VRING_KICK, &f,
				"VHOST_SET_VRING_KICK");
	f.fd = v->be.call_fd[q];
	if (!ret)
		ret = vhn_ioctl(v, VHOST_SET_VRING_CALL, &f,
				"VHOST_SET_VRING_CALL");
	f.fd = v->tap;
	if (!ret)
		ret = vhn_ioctl(v, VHOST_NET_SET_BACKEND, &f,
				"VHOST_NET_SET_BACKEND");
	return ret;
}

/*
 * The guest's features, and mergeable RX buffers: with them vhost-net
 * writes num_buffers (1: every frame fits one of the guest's buffers) as
 * VERSION_1 requires; the header is 12 bytes either way.
 */
static int vhn_start(struct vnl_backend *b, uint64_t features,
		     const struct vnl_queue_cfg *q)
{
	struct vhn_be *v = (struct vhn_be *)b;
	uint64_t f = (features & VHN_F_GUEST) | VHN_F_MRG_RXBUF;
	int ret;

	ret = vhn_ioctl(v, VHOST_SET_FEATURES, &f, "VHOST_SET_FEATURES");
	for (unsigned int i = 0; i < VNETLOOP_NUM_QUEUES && !ret; i++)
		if (q[i].ready)
			ret = vhn_vring(v, i, &q[i]);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < VNETLOOP_NUM_QUEUES; i++) {
		v->used_idx[i] = q[i].ready ?
			(const uint16_t *)(uintptr_t)vhn_hva(v, q[i].used + 2, 2) :
			NULL;
		if (v->used_idx[i])
			v->used_seen[i] = __atomic_load_n(v->used_idx[i],
							  __ATOMIC_ACQUIRE);
	}
	v->running = true;
	return 0;
}

/* The tap leaves the rings; vhost-net stops using them. */
static void vhn_reset(struct vnl_backend *b)
{
	struct vhn_be *v = (struct vhn_be *)b;

	for (unsigned int q = 0; v->running && q < VNETLOOP_NUM_QUEUES; q++) {
		struct vhost_vring_file f = { .index = q, .fd = -1 };
		struct vhost_vring_state st = { .index = q };

		vhn_ioctl(v, VHOST_NET_SET_BACKEND, &f,
			  "VHOST_NET_SET_BACKEND -1");
		vhn_ioctl(v, VHOST_GET_VRING_BASE, &st, "VHOST_GET_VRING_BASE");
	}
	v->running = false;
	memset(v->used_idx, 0, sizeof(v->used_idx));
}

static uint32_t vhn_isr_read(struct vnl_backend *b)
{
	struct vhn_be *v = (struct vhn_be *)b;
	uint32_t isr = 0;

	for (unsigned int q = 0; q < VNETLOOP_NUM_QUEUES; q++) {
		uint16_t u;

		if (!v->used_idx[q])
			continue;
		u = __atomic_load_n(v->used_idx[q], __ATOMIC_ACQUIRE);
		if (u != v->used_seen[q])
			isr = VIRTIO_MMIO_INT_VRING;
		v->used_seen[q] = u;
	}
	return isr;
}

static void vhn_isr_ack(struct vnl_backend *b, uint32_t bits)
{
	(void)b;
	(void)bits;
}

/* vhost-net never asks for a reset. */
static uint32_t vhn_status(struct vnl_backend *b)
{
	(void)b;
	return 0;
}

static int vhn_config(struct vnl_backend *b, uint32_t off, void *buf,
		      uint32_t len)
{
	struct vhn_be *v = (struct vhn_be *)b;

	if (off > sizeof(v->config) || len > sizeof(v->config) - off)
		return -EINVAL;
	memcpy(buf, (const uint8_t *)&v->config + off, len);
	return 0;
}

static void vhn_notify(struct vnl_backend *b, unsigned int q)
{
	uint64_t one = 1;

	if (q != VNETLOOP_QUEUE_TX || b->kick_fd[q] < 0)
		return;
	if (write(b->kick_fd[q], &one, sizeof(one)) != sizeof(one))
		perror("vnetloop: kick eventfd write");
}

/* The four the tap counts, since the backend was made. */
static int vhn_counters(struct vnl_backend *b, uint64_t *c, unsigned int *n)
{
	struct vhn_be *v = (struct vhn_be *)b;
	uint64_t now[4];
	int ret;

	memset(c, 0, VNETLOOP_NUM_COUNTERS * sizeof(*c));
	ret = vhn_read_stats(v, now);
	if (ret) {
		fprintf(stderr, "vnetloop: the statistics of tap %s: %s\n",
			v->ifname, strerror(-ret));
		return ret;
	}
	for (unsigned int i = 0; i < 4; i++)
		c[i] = now[i] - v->base[i];
	*n = 4;
	return 0;
}

static void vhn_destroy(struct vnl_backend *b)
{
	struct vhn_be *v = (struct vhn_be *)b;

	if (v->fd >= 0) {
		vhn_reset(b);
		close(v->fd);
	}
	if (v->tap >= 0)
		close(v->tap);
	vnl_backend_unwire(b);
	free(v);
}

static const struct vnl_backend_ops vhn_ops = {
	.name		= "vhost-net",
	.start		= vhn_start,
	.reset		= vhn_reset,
	.isr_read	= vhn_isr_read,
	.isr_ack	= vhn_isr_ack,
	.status		= vhn_status,
	.config		= vhn_config,
	.notify		= vhn_notify,
	.counters	= vhn_counters,
	.destroy	= vhn_destroy,
};

/* Run tc with these arguments; 0, or -EIO with why on stderr. */
static int vhn_tc(char *const argv[])
{
	pid_t pid;
	int st, err;

	err = posix_spawnp(&pid, "tc", NULL, NULL, argv, environ);
	if (err) {
		fprintf(stderr, "vnetloop: vhost-net: cannot run tc: %s (install iproute2)\n",
			strerror(err));
		return -err;
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "vnetloop: vhost-net: `tc %s %s ...` failed (are sch_ingress, cls_matchall and act_mirred available?)\n",
			argv[1], argv[2]);
		return -EIO;
	}
	return 0;
}

/*
 * The host's IPv6 would send its own frames (router solicitations, MLD)
 * out of the tap as it comes up: to the guest, on top of its own. A kernel
 * without IPv6 has no such file, and nothing to turn off.
 */
static void vhn_no_ipv6(const struct vhn_be *v)
{
	char path[96];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 v->ifname);
	f = fopen(path, "we");
	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
}

/* A tap with the 12-byte header, up, looped back on itself by tc. */
static int vhn_tap(struct vhn_be *v)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int hdr = 12, s, ret;

	v->tap = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (v->tap < 0) {
		ret = -errno;
		fprintf(stderr, "vnetloop: vhost-net: /dev/net/tun: %s (modprobe tun)\n",
			strerror(errno));
		return ret;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "vnl%%d");
	if (ioctl(v->tap, TUNSETIFF, &ifr) ||
	    ioctl(v->tap, TUNSETVNETHDRSZ, &hdr)) {
		ret = -errno;
		fprintf(stderr, "vnetloop: vhost-net: making the tap: %s\n",
			strerror(errno));
		return ret;
	}
	snprintf(v->ifname, sizeof(v->ifname), "%s", ifr.ifr_name);
	vhn_no_ipv6(v);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ifr.ifr_flags = IFF_UP;
	if (s < 0 || ioctl(s, SIOCSIFFLAGS, &ifr)) {
		ret = -errno;
		fprintf(stderr, "vnetloop: vhost-net: bringing %s up: %s\n",
			v->ifname, strerror(errno));
		if (s >= 0)
			close(s);
		return ret;
	}
	close(s);
	{
		char *qdisc[] = { "tc", "qdisc", "add", "dev", v->ifname,
				  "ingress", NULL };
		char *filter[] = { "tc", "filter", "add", "dev", v->ifname,
				   "parent", "ffff:", "matchall", "action",
				   "mirred", "egress", "redirect", "dev",
				   v->ifname, NULL };

		ret = vhn_tc(qdisc);
		if (!ret)
			ret = vhn_tc(filter);
	}
	return ret ? ret : vhn_read_stats(v, v->base);
}

/* Guest RAM for vhost-net: one region, guest-physical to ours. */
static int vhn_mem(struct vhn_be *v)
{
	/* struct vhost_memory ends in a flexible array: room for one. */
	_Alignas(struct vhost_memory) uint8_t
		raw[sizeof(struct vhost_memory) +
		    sizeof(struct vhost_memory_region)] = { 0 };
	struct vhost_memory *m = (struct vhost_memory *)raw;

	m->nregions = 1;
	m->regions[0] = (struct vhost_memory_region){
		.guest_phys_addr = v->env.mem.gpa,
		.memory_size = v->env.mem.size,
		.userspace_addr = v->env.mem.hva,
	};
	return vhn_ioctl(v, VHOST_SET_MEM_TABLE, m, "VHOST_SET_MEM_TABLE");
}

int backend_vhostnet_create(const struct vnl_backend_env *env,
			    struct vnl_backend **out)
{
	struct vhn_be *v;
	int ret;

	if (env->max_pairs > 1) {
		fprintf(stderr, "vnetloop: the vhost-net peer has one queue pair\n");
		return -ENOTSUP;
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->be.ops = &vhn_ops;
	v->be.dev_id = -1;
	v->env = *env;
	v->tap = -1;
	for (unsigned int q = 0; q < VNL_MAX_QUEUES; q++)
		v->be.kick_fd[q] = -1;
	memcpy(v->config.mac, env->mac, sizeof(v->config.mac));
	v->config.max_virtqueue_pairs = 1;
	v->be.config_size = sizeof(v->config);
	v->fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
	if (v->fd < 0) {
		ret = errno == ENOENT ? -ENODEV : -errno;
		fprintf(stderr, "vnetloop: cannot open /dev/vhost-net: %s%s\n",
			strerror(errno),
			errno == ENOENT ? " (modprobe vhost_net)" : "");
		vhn_destroy(&v->be);
		return ret;
	}
	ret = vhn_ioctl(v, VHOST_SET_OWNER, NULL, "VHOST_SET_OWNER");
	if (!ret)
		ret = vhn_ioctl(v, VHOST_GET_FEATURES, &v->vhost_features,
				"VHOST_GET_FEATURES");
	if (!ret && (v->vhost_features & (VHN_F_GUEST | VHN_F_MRG_RXBUF)) !=
		    (VHN_F_GUEST | VHN_F_MRG_RXBUF)) {
		fprintf(stderr, "vnetloop: /dev/vhost-net offers 0x%llx: VERSION_1, EVENT_IDX or MRG_RXBUF missing\n",
			(unsigned long long)v->vhost_features);
		ret = -ENOTSUP;
	}
	/* The guest sees VERSION_1, EVENT_IDX and our MAC in config space. */
	v->be.features = VHN_F_GUEST | (1ULL << VIRTIO_NET_F_MAC);
	if (!ret)
		ret = vhn_mem(v);
	if (!ret)
		ret = vnl_backend_wire(&v->be, env, true);
	if (!ret)
		ret = vhn_tap(v);
	if (ret) {
		vhn_destroy(&v->be);
		return ret;
	}
	*out = &v->be;
	return 0;
}
