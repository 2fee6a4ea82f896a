// SPDX-License-Identifier: GPL-2.0
/*
 * vnetloop-traffic: runs inside a Linux guest whose NIC is a loopback
 * virtio-net device. It sends N frames addressed to the interface's own MAC
 * over a packet socket, receives them back, checks every byte, and reports
 * the interface's own counters and its interrupt lines before and after.
 * With --senders N, N threads send, thread i pinned to CPU i (a multiqueue
 * NIC's transmit queue i, when XPS maps CPU i there), and the main thread
 * receives; order is then checked per sender. The driver's per-queue
 * counters (ethtool -S), when it has them, are reported per queue.
 *
 * Exit status: 0 all frames came back intact, 1 traffic failed (loss,
 * corruption, timeout, counters disagree), 2 usage, 3 setup failed.
 */
#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROG		"vnetloop-traffic"
/* IEEE 802 "local experimental" ethertype: nothing else in the guest uses it. */
#define VNL_ETHERTYPE	0x88b5
#define VNL_MAGIC	0x564e4c54u	/* "VNLT" */
/* Ethernet header, then magic, sequence number and frame length (BE32). */
#define VNL_HDR_LEN	(ETH_HLEN + 12)
#define VNL_MAX_FRAME	65536
#define MAX_REPORTS	5
#define MAX_SENDERS	64
#define MAX_QUEUES	64
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct opts {
	unsigned long frames;
	unsigned long size;
	unsigned long window;
	unsigned long timeout_s;
	const char *ifname;
	bool allow_reorder;
	unsigned long senders;	/* 0: the main thread sends */
};

struct nic {
	char name[IF_NAMESIZE];
	char dev[64];		/* the virtio device, e.g. "virtio0" */
	char driver[64];
	int ifindex;
	unsigned int mtu;
	unsigned char mac[ETH_ALEN];
};

struct if_stats {
	uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes;
};

/*
 * The NIC's lines in /proc/interrupts: one on virtio-mmio ("virtio0") or
 * on virtio-pci without MSI-X; with MSI-X, one per vector ("virtio0-config",
 * "virtio0-input.0", "virtio0-output.0", or "virtio0-virtqueues" shared).
 */
#define IRQ_MAX_LINES	34	/* 16 queue pairs and the config: 33 */

struct irq_line {
	unsigned int lines;	/* lines found; text of the first IRQ_MAX_LINES */
	uint64_t count;		/* summed over CPUs and lines */
	char text[IRQ_MAX_LINES][256];
};

/*
 * A sender thread: its frames are the sequence numbers idx, idx + n,
 * idx + 2n, ... It counts a frame sent before sending it (the frame can
 * be back before send() returns); the receiver counts it back.
 */
struct senders;

struct sender {
	pthread_t thread;
	struct senders *all;
	unsigned int idx;
	int fd;
	unsigned char *buf;
	atomic_ulong sent;
	atomic_ulong back;
	unsigned long highest;	/* the receiver's: highest k seen + 1 */
	int err;		/* errno of a failure, or -1: no CPU idx */
};

struct senders {
	unsigned int n;
	struct sender s[MAX_SENDERS];
	atomic_bool stop;
	const struct nic *nic;
	const struct opts *o;
};

struct tally {
	unsigned long sent, received, verified;
	unsigned long accounted;	/* distinct frames of ours that came back */
	unsigned long corrupt, duplicate, out_of_order, outgoing, foreign;
	unsigned long highest;	/* highest sequence number seen + 1 */
	unsigned char *seen;	/* one byte per sequence number */
	unsigned int reports;
	struct senders *senders;	/* with --senders */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [-n FRAMES] [-s SIZE] [-i IFNAME] [-t SECONDS]\n"
		"                        [-w WINDOW] [--allow-reorder] [-S N]\n"
		"  -n, --frames N     frames to send (default 64)\n"
		"  -s, --size S       frame size in bytes, Ethernet header included,\n"
		"                     %d..14+MTU (default 256)\n"
		"  -i, --ifname NAME  interface (default: first virtio_net one)\n"
		"  -t, --timeout SEC  give up when no frame came back for SEC\n"
		"                     seconds (default 10)\n"
		"  -w, --window W     frames in flight at most (default 32)\n"
		"      --allow-reorder  do not fail on frames that arrive out of order\n"
		"  -S, --senders N    N threads send, thread i on CPU i, each with at\n"
		"                     most W frames in flight; order is checked per\n"
		"                     sender (default: the main thread sends)\n",
		VNL_HDR_LEN);
}

static int parse_ulong(const char *s, const char *what, unsigned long min,
		       unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, PROG ": %s '%s' is not a number in %lu..%lu\n",
			what, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "frames", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "ifname", required_argument, NULL, 'i' },
		{ "timeout", required_argument, NULL, 't' },
		{ "window", required_argument, NULL, 'w' },
		{ "allow-reorder", no_argument, NULL, 'r' },
		{ "senders", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .frames = 64, .size = 256, .window = 32,
			    .timeout_s = 10 };
	while ((c = getopt_long(argc, argv, "n:s:i:t:w:S:h", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_ulong(optarg, "frame count", 1, 10000000,
					&o->frames))
				return -1;
			break;
		case 's':
			if (parse_ulong(optarg, "frame size", VNL_HDR_LEN,
					VNL_MAX_FRAME, &o->size))
				return -1;
			break;
		case 'i':
			if (strlen(optarg) >= IF_NAMESIZE) {
				fprintf(stderr, PROG ": interface name '%s' is too long\n",
					optarg);
				return -1;
			}
			o->ifname = optarg;
			break;
		case 't':
			if (parse_ulong(optarg, "timeout", 1, 86400,
					&o->timeout_s))
				return -1;
			break;
		case 'w':
			if (parse_ulong(optarg, "window", 1, 4096, &o->window))
				return -1;
			break;
		case 'r':
			o->allow_reorder = true;
			break;
		case 'S':
			if (parse_ulong(optarg, "senders", 1, MAX_SENDERS,
					&o->senders))
				return -1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Basename of the target of a sysfs symlink, or -1 with errno. */
static int link_name(const char *path, char *out, size_t len)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	const char *base;

	if (n < 0)
		return -1;
	buf[n] = '\0';
	base = strrchr(buf, '/');
	base = base ? base + 1 : buf;
	if (strlen(base) >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(out, base);
	return 0;
}

static int read_u64(const char *path, uint64_t *v)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fscanf(f, "%" SCNu64, v) == 1;
	fclose(f);
	if (!ok) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static int nic_identify(const char *name, struct nic *nic)
{
	char path[PATH_MAX];

	snprintf(nic->name, sizeof(nic->name), "%s", name);
	snprintf(path, sizeof(path), "/sys/class/net/%s", name);
	if (access(path, F_OK))
		return -1;
	/* Virtual interfaces (lo, veth) have no device and no interrupt. */
	snprintf(path, sizeof(path), "/sys/class/net/%s/device", name);
	if (link_name(path, nic->dev, sizeof(nic->dev)))
		nic->dev[0] = '\0';
	snprintf(path, sizeof(path), "/sys/class/net/%s/device/driver", name);
	if (link_name(path, nic->driver, sizeof(nic->driver)))
		strcpy(nic->driver, "none");
	return 0;
}

/* The named interface, or the first non-loopback one bound to virtio_net. */
static int nic_find(const char *want, struct nic *nic)
{
	struct dirent **ents;
	int n, i, found = -1;

	if (want) {
		if (nic_identify(want, nic)) {
			fprintf(stderr, PROG ": no interface %s in /sys/class/net: %s\n",
				want, strerror(errno));
			return -1;
		}
		return 0;
	}
	n = scandir("/sys/class/net", &ents, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, PROG ": cannot list /sys/class/net: %s\n",
			strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		const char *d = ents[i]->d_name;

		if (found < 0 && d[0] != '.' && strcmp(d, "lo") &&
		    !nic_identify(d, nic) && !strcmp(nic->driver, "virtio_net"))
			found = i;
		free(ents[i]);
	}
	free(ents);
	if (found < 0) {
		fprintf(stderr, PROG ": no interface bound to virtio_net in /sys/class/net\n");
		return -1;
	}
	return 0;
}

static int nic_setup(int fd, struct nic *nic)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, nic->name);
	if (ioctl(fd, SIOCGIFINDEX, &ifr)) {
		fprintf(stderr, PROG ": SIOCGIFINDEX %s: %s\n", nic->name,
			strerror(errno));
		return -1;
	}
	nic->ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		fprintf(stderr, PROG ": SIOCGIFHWADDR %s: %s\n", nic->name,
			strerror(errno));
		return -1;
	}
	memcpy(nic->mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	if (ioctl(fd, SIOCGIFMTU, &ifr)) {
		fprintf(stderr, PROG ": SIOCGIFMTU %s: %s\n", nic->name,
			strerror(errno));
		return -1;
	}
	nic->mtu = (unsigned int)ifr.ifr_mtu;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		fprintf(stderr, PROG ": SIOCGIFFLAGS %s: %s\n", nic->name,
			strerror(errno));
		return -1;
	}
	if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr)) {
			fprintf(stderr, PROG ": cannot bring %s up (SIOCSIFFLAGS): %s\n",
				nic->name, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Waits for the carrier: the qdisc drops frames until the link is up. */
static int nic_wait_carrier(const struct nic *nic, unsigned long timeout_s)
{
	char path[PATH_MAX];
	uint64_t carrier = 0, deadline = now_ms() + timeout_s * 1000;

	snprintf(path, sizeof(path), "/sys/class/net/%s/carrier", nic->name);
	while (read_u64(path, &carrier) || !carrier) {
		if (now_ms() >= deadline) {
			fprintf(stderr, PROG ": %s has no carrier after %lu s\n",
				nic->name, timeout_s);
			return -1;
		}
		sleep_ms(10);
	}
	return 0;
}

static int stats_read(const struct nic *nic, struct if_stats *s)
{
	static const char *const names[] = {
		"tx_packets", "tx_bytes", "rx_packets", "rx_bytes",
	};
	uint64_t *vals[] = { &s->tx_packets, &s->tx_bytes, &s->rx_packets,
			     &s->rx_bytes };
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s",
			 nic->name, names[i]);
		if (read_u64(path, vals[i])) {
			fprintf(stderr, PROG ": cannot read %s: %s\n", path,
				strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * True when one of the action names on an interrupt line is dev, or dev
 * and "-" and a vector's name (virtio-pci's MSI-X vectors).
 */
static bool irq_names_dev(const char *line, const char *dev)
{
	char copy[512], *tok, *save;
	size_t len = strlen(dev);

	snprintf(copy, sizeof(copy), "%s", line);
	for (tok = strtok_r(copy, " \t\n,", &save); tok;
	     tok = strtok_r(NULL, " \t\n,", &save))
		if (!strncmp(tok, dev, len) &&
		    (tok[len] == '\0' || tok[len] == '-'))
			return true;
	return false;
}

/* The NIC's /proc/interrupts lines, their counts summed over CPUs. */
static int irq_read(const char *dev, struct irq_line *irq)
{
	char *line = NULL, *p, *end;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	memset(irq, 0, sizeof(*irq));
	if (!dev[0])
		return 0;
	f = fopen("/proc/interrupts", "r");
	if (!f) {
		fprintf(stderr, PROG ": cannot open /proc/interrupts: %s\n",
			strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		p = strchr(line, ':');
		if (!p || !irq_names_dev(p + 1, dev))
			continue;
		for (p++;; p = end) {
			unsigned long long v = strtoull(p, &end, 10);

			if (end == p)
				break;
			irq->count += v;
		}
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (irq->lines < IRQ_MAX_LINES)
			snprintf(irq->text[irq->lines],
				 sizeof(irq->text[irq->lines]), "%s", line);
		irq->lines++;
	}
	free(line);
	fclose(f);
	return 0;
}

static uint8_t pattern(unsigned long seq, size_t off)
{
	return (uint8_t)(off * 13u + seq * 101u + (seq >> 8) * 7u + 0x5au);
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void frame_build(unsigned char *buf, const struct nic *nic,
			unsigned long seq, size_t size)
{
	size_t i;

	memcpy(buf, nic->mac, ETH_ALEN);
	memcpy(buf + ETH_ALEN, nic->mac, ETH_ALEN);
	buf[12] = VNL_ETHERTYPE >> 8;
	buf[13] = VNL_ETHERTYPE & 0xff;
	put_be32(buf + ETH_HLEN, VNL_MAGIC);
	put_be32(buf + ETH_HLEN + 4, (uint32_t)seq);
	put_be32(buf + ETH_HLEN + 8, (uint32_t)size);
	for (i = VNL_HDR_LEN; i < size; i++)
		buf[i] = pattern(seq, i);
}

/* Describes the first few bad frames; the totals tell the rest. */
__attribute__((format(printf, 3, 4)))
static void report_bad(struct tally *t, unsigned long seq, const char *fmt, ...)
{
	va_list ap;

	if (t->reports++ >= MAX_REPORTS)
		return;
	printf(PROG ": frame %lu: ", seq);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Whether frame seq went out (of its sender's, with --senders). */
static bool frame_was_sent(const struct tally *t, unsigned long seq)
{
	const struct senders *ss = t->senders;

	if (!ss)
		return seq < t->sent;
	return seq / ss->n < atomic_load(&ss->s[seq % ss->n].sent);
}

/*
 * A first arrival of frame seq: out of order after a later one (of the
 * same sender, with --senders: their frames share no queue); with
 * --senders it is also back for its sender's window.
 */
static void frame_order(struct tally *t, unsigned long seq)
{
	unsigned long *hi = &t->highest, k = seq;

	if (t->senders) {
		struct sender *s = &t->senders->s[seq % t->senders->n];

		atomic_fetch_add(&s->back, 1);
		hi = &s->highest;
		k = seq / t->senders->n;
	}
	if (k + 1 < *hi)
		t->out_of_order++;
	if (k + 1 > *hi)
		*hi = k + 1;
}

/* Checks one received frame against what frame_build() sent. */
static void frame_check(struct tally *t, const struct nic *nic,
			const struct opts *o, const unsigned char *buf,
			size_t len)
{
	unsigned long seq;
	size_t i;

	if (len < VNL_HDR_LEN || get_be32(buf + ETH_HLEN) != VNL_MAGIC) {
		t->foreign++;
		return;
	}
	seq = get_be32(buf + ETH_HLEN + 4);
	t->received++;
	if (!frame_was_sent(t, seq)) {
		t->corrupt++;
		report_bad(t, seq, "was never sent");
		return;
	}
	if (t->seen[seq]) {
		t->duplicate++;
		report_bad(t, seq, "received twice");
		return;
	}
	t->seen[seq] = 1;
	t->accounted++;
	frame_order(t, seq);
	if (len != o->size || get_be32(buf + ETH_HLEN + 8) != o->size) {
		t->corrupt++;
		report_bad(t, seq, "length %zu, expected %lu", len, o->size);
		return;
	}
	if (memcmp(buf, nic->mac, ETH_ALEN) ||
	    memcmp(buf + ETH_ALEN, nic->mac, ETH_ALEN)) {
		t->corrupt++;
		report_bad(t, seq, "MAC addresses changed");
		return;
	}
	for (i = VNL_HDR_LEN; i < len; i++) {
		if (buf[i] != pattern(seq, i)) {
			t->corrupt++;
			report_bad(t, seq, "byte %zu is 0x%02x, expected 0x%02x",
				   i, buf[i], pattern(seq, i));
			return;
		}
	}
	t->verified++;
}

static int open_socket(void)
{
	int fd = socket(AF_PACKET, SOCK_RAW, htons(VNL_ETHERTYPE));
	int big = 4 << 20;

	if (fd < 0) {
		fprintf(stderr, PROG ": socket(AF_PACKET): %s\n", strerror(errno));
		return -1;
	}
	/* Room for a whole window even if the reader is slow to run. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	return fd;
}

static int bind_socket(int fd, const struct nic *nic)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(VNL_ETHERTYPE),
		.sll_ifindex = nic->ifindex,
	};

	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, PROG ": bind to %s: %s\n", nic->name,
			strerror(errno));
		return -1;
	}
	return 0;
}

/* Reads every queued frame; returns how many new ones of ours arrived. */
static int drain_socket(int fd, struct tally *t, const struct nic *nic,
			const struct opts *o, unsigned char *buf)
{
	int got = 0;

	for (;;) {
		struct sockaddr_ll from;
		socklen_t flen = sizeof(from);
		unsigned long before = t->accounted;
		ssize_t n = recvfrom(fd, buf, VNL_MAX_FRAME, MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&from, &flen);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return got;
			if (errno == EINTR)
				continue;
			fprintf(stderr, PROG ": recvfrom: %s\n", strerror(errno));
			return -1;
		}
		/* Our own transmissions as seen by taps are not loopback. */
		if (from.sll_pkttype == PACKET_OUTGOING) {
			t->outgoing++;
			continue;
		}
		frame_check(t, nic, o, buf, n > VNL_MAX_FRAME ? VNL_MAX_FRAME + 1 :
			    (size_t)n);
		got += t->accounted != before;
	}
}

/*
 * Keeps at most `window` frames in flight and waits for them to come back.
 * Returns 0 when every frame was accounted for, 1 on timeout, -1 on error.
 */
static int run_traffic(int fd, const struct nic *nic, const struct opts *o,
		       struct tally *t, unsigned char *txbuf,
		       unsigned char *rxbuf)
{
	uint64_t last = now_ms();

	while (t->accounted < o->frames) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t idle, wait;
		bool deferred = false;
		int r;

		while (t->sent < o->frames &&
		       t->sent - t->accounted < o->window) {
			frame_build(txbuf, nic, t->sent, o->size);
			if (send(fd, txbuf, o->size, 0) == (ssize_t)o->size) {
				t->sent++;
				continue;
			}
			if (errno != ENOBUFS && errno != EAGAIN &&
			    errno != EINTR) {
				fprintf(stderr, PROG ": send frame %lu on %s: %s\n",
					t->sent, nic->name, strerror(errno));
				return -1;
			}
			/* Queue full: retry soon, even with nothing in flight. */
			deferred = true;
			break;
		}
		idle = now_ms() - last;
		if (idle >= o->timeout_s * 1000)
			return 1;
		wait = o->timeout_s * 1000 - idle;
		if (deferred && wait > 10)
			wait = 10;
		r = poll(&pfd, 1, (int)wait);
		if (r < 0 && errno != EINTR) {
			fprintf(stderr, PROG ": poll: %s\n", strerror(errno));
			return -1;
		}
		r = drain_socket(fd, t, nic, o, rxbuf);
		if (r < 0)
			return -1;
		if (r > 0)
			last = now_ms();
	}
	return 0;
}

/* A send socket: it takes no frames in (protocol 0), only sends them. */
static int open_send_socket(const struct nic *nic)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = nic->ifindex,
	};
	int fd = socket(AF_PACKET, SOCK_RAW, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, PROG ": send socket on %s: %s\n", nic->name,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Sender thread idx: on CPU idx, its frames, at most window in flight. */
static void *sender_fn(void *arg)
{
	struct sender *me = arg;
	struct senders *ss = me->all;
	const struct opts *o = ss->o;
	unsigned long seq;
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(me->idx, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus)) {
		me->err = errno;
		return NULL;
	}
	for (seq = me->idx; seq < o->frames && !atomic_load(&ss->stop);) {
		unsigned long k = seq / ss->n;

		if (k - atomic_load(&me->back) >= o->window) {
			sleep_ms(1);
			continue;
		}
		frame_build(me->buf, ss->nic, seq, o->size);
		atomic_store(&me->sent, k + 1);
		if (send(me->fd, me->buf, o->size, 0) == (ssize_t)o->size) {
			seq += ss->n;
			continue;
		}
		atomic_store(&me->sent, k);
		if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
			me->err = errno;
			return NULL;
		}
		sleep_ms(1);	/* queue full */
	}
	return NULL;
}

/*
 * --senders: the threads send, this one receives until every frame is
 * back or none came back for the timeout. 0, 1 on timeout, -1 on error.
 */
static int run_senders(int fd, const struct nic *nic, const struct opts *o,
		       struct tally *t, unsigned char *rxbuf)
{
	struct senders *ss = t->senders;
	uint64_t last = now_ms();
	unsigned int i, started = 0;
	int ret = 0, r;

	ss->n = (unsigned int)o->senders;
	ss->nic = nic;
	ss->o = o;
	for (i = 0; i < ss->n; i++)
		ss->s[i].fd = -1;
	for (i = 0; i < ss->n; i++) {
		struct sender *s = &ss->s[i];

		s->all = ss;
		s->idx = i;
		s->fd = open_send_socket(nic);
		s->buf = malloc(o->size);
		if (s->fd < 0 || !s->buf) {
			ret = -1;
			break;
		}
		errno = pthread_create(&s->thread, NULL, sender_fn, s);
		if (errno) {
			fprintf(stderr, PROG ": sender %u: %s\n", i,
				strerror(errno));
			ret = -1;
			break;
		}
		started++;
	}
	while (!ret && t->accounted < o->frames) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t idle = now_ms() - last;

		if (idle >= o->timeout_s * 1000) {
			ret = 1;
			break;
		}
		r = poll(&pfd, 1, 100);
		if (r < 0 && errno != EINTR) {
			fprintf(stderr, PROG ": poll: %s\n", strerror(errno));
			ret = -1;
			break;
		}
		r = drain_socket(fd, t, nic, o, rxbuf);
		if (r < 0)
			ret = -1;
		else if (r > 0)
			last = now_ms();
		for (i = 0; i < started && !ret; i++)
			if (ss->s[i].err)
				ret = -1;
	}
	atomic_store(&ss->stop, true);
	t->sent = 0;
	for (i = 0; i < ss->n; i++) {
		struct sender *s = &ss->s[i];

		if (i < started)
			pthread_join(s->thread, NULL);
		if (s->err)
			fprintf(stderr, PROG ": sender %u on CPU %u: %s\n", i, i,
				strerror(s->err));
		if (s->fd >= 0)
			close(s->fd);
		free(s->buf);
		t->sent += atomic_load(&s->sent);
	}
	return ret;
}

/* The driver's per-queue packet counters (ethtool -S), by queue. */
struct queue_stats {
	unsigned int n;		/* queues with both counters; 0: none */
	uint64_t tx[MAX_QUEUES], rx[MAX_QUEUES];
};

static int ethtool(int fd, const struct nic *nic, void *cmd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", nic->name);
	ifr.ifr_data = cmd;
	return ioctl(fd, SIOCETHTOOL, &ifr);
}

/* "rx_queue_3_packets" and the like; a driver without them gives n 0. */
static void queue_stats_read(int fd, const struct nic *nic,
			     struct queue_stats *q)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	struct ethtool_gstrings *names = NULL;
	struct ethtool_stats *vals = NULL;
	unsigned int i, qi, ntx = 0, nrx = 0;
	char dir[3];
	int used;

	memset(q, 0, sizeof(*q));
	if (ethtool(fd, nic, &di) || !di.n_stats)
		return;
	names = calloc(1, sizeof(*names) + (size_t)di.n_stats * ETH_GSTRING_LEN);
	vals = calloc(1, sizeof(*vals) + (size_t)di.n_stats * sizeof(uint64_t));
	if (!names || !vals)
		goto out;
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_STATS;
	names->len = di.n_stats;
	vals->cmd = ETHTOOL_GSTATS;
	vals->n_stats = di.n_stats;
	if (ethtool(fd, nic, names) || ethtool(fd, nic, vals))
		goto out;
	for (i = 0; i < names->len && i < vals->n_stats; i++) {
		char name[ETH_GSTRING_LEN + 1];

		memcpy(name, names->data + (size_t)i * ETH_GSTRING_LEN,
		       ETH_GSTRING_LEN);
		name[ETH_GSTRING_LEN] = 0;
		used = 0;
		if (sscanf(name, "%2[rtx]_queue_%u_packets%n", dir, &qi,
			   &used) != 2 || name[used] || qi >= MAX_QUEUES)
			continue;
		if (!strcmp(dir, "tx")) {
			q->tx[qi] = vals->data[i];
			ntx = qi + 1 > ntx ? qi + 1 : ntx;
		} else if (!strcmp(dir, "rx")) {
			q->rx[qi] = vals->data[i];
			nrx = qi + 1 > nrx ? qi + 1 : nrx;
		}
	}
	q->n = ntx < nrx ? ntx : nrx;
out:
	free(names);
	free(vals);
}

/* One line per queue: what it sent and received during the run. */
static void queue_stats_print(const struct queue_stats *a,
			      const struct queue_stats *b)
{
	for (unsigned int i = 0; i < b->n && i < a->n; i++)
		printf(PROG ": queue %u tx_packets=%" PRIu64 " rx_packets=%"
		       PRIu64 "\n", i, b->tx[i] - a->tx[i], b->rx[i] - a->rx[i]);
}

/* Counters lag the socket a little (TX completion, end of NAPI poll). */
static int stats_settle(const struct nic *nic, const struct if_stats *before,
			const struct tally *t, struct if_stats *after)
{
	uint64_t deadline = now_ms() + 2000;

	for (;;) {
		if (stats_read(nic, after))
			return -1;
		if ((after->tx_packets - before->tx_packets >= t->sent &&
		     after->rx_packets - before->rx_packets >= t->received) ||
		    now_ms() >= deadline)
			return 0;
		sleep_ms(10);
	}
}

/* One output line per interrupt line of the NIC. */
static void print_irq(const char *when, const struct irq_line *irq,
		      const char *dev)
{
	unsigned int i;

	if (!dev[0])
		printf(PROG ": irq %s: the interface has no device\n", when);
	else if (!irq->lines)
		printf(PROG ": irq %s: no line for %s in /proc/interrupts\n",
		       when, dev);
	for (i = 0; i < irq->lines && i < IRQ_MAX_LINES; i++)
		printf(PROG ": irq %s: %s\n", when, irq->text[i]);
	if (irq->lines > IRQ_MAX_LINES)
		printf(PROG ": irq %s: and %u more lines\n", when,
		       irq->lines - IRQ_MAX_LINES);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct nic nic;
	struct tally t = { 0 };
	struct if_stats s0, s1, sd;
	struct irq_line irq0, irq1;
	struct queue_stats q0, q1;
	struct senders *ss = NULL;
	struct tpacket_stats ps = { 0 };
	socklen_t pslen = sizeof(ps);
	unsigned char *txbuf = NULL, *rxbuf = NULL;
	uint64_t t0, elapsed;
	int fd = -1, r, status = 3;
	bool pass, whole;

	if (parse_opts(argc, argv, &o))
		return 2;
	memset(&nic, 0, sizeof(nic));
	if (nic_find(o.ifname, &nic))
		return 3;
	fd = open_socket();
	if (fd < 0)
		return 3;
	if (nic_setup(fd, &nic) || bind_socket(fd, &nic) ||
	    nic_wait_carrier(&nic, o.timeout_s))
		goto out;
	if (o.size > (unsigned long)ETH_HLEN + nic.mtu) {
		fprintf(stderr, PROG ": frame size %lu exceeds 14 + MTU %u of %s\n",
			o.size, nic.mtu, nic.name);
		status = 2;
		goto out;
	}
	txbuf = malloc(o.size);
	rxbuf = malloc(VNL_MAX_FRAME + 1);
	t.seen = calloc(o.frames, 1);
	if (o.senders)
		t.senders = ss = calloc(1, sizeof(*ss));
	if (!txbuf || !rxbuf || !t.seen || (o.senders && !ss)) {
		fprintf(stderr, PROG ": out of memory for %lu frames\n", o.frames);
		goto out;
	}

	printf(PROG ": interface %s device %s driver %s mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u\n",
	       nic.name, nic.dev[0] ? nic.dev : "none", nic.driver, nic.mac[0], nic.mac[1],
	       nic.mac[2], nic.mac[3], nic.mac[4], nic.mac[5], nic.mtu);
	if (stats_read(&nic, &s0) || irq_read(nic.dev, &irq0))
		goto out;
	print_irq("before", &irq0, nic.dev);
	queue_stats_read(fd, &nic, &q0);
	if (o.senders)
		printf(PROG ": sending %lu frames of %lu bytes, ethertype 0x%04x, window %lu, from %lu threads on CPUs 0..%lu\n",
		       o.frames, o.size, VNL_ETHERTYPE, o.window, o.senders,
		       o.senders - 1);
	else
		printf(PROG ": sending %lu frames of %lu bytes, ethertype 0x%04x, window %lu\n",
		       o.frames, o.size, VNL_ETHERTYPE, o.window);
	fflush(stdout);

	t0 = now_ms();
	if (o.senders)
		r = run_senders(fd, &nic, &o, &t, rxbuf);
	else
		r = run_traffic(fd, &nic, &o, &t, txbuf, rxbuf);
	elapsed = now_ms() - t0;
	if (r < 0)
		goto out;
	if (r > 0)
		printf(PROG ": timeout: no frame came back for %lu s\n",
		       o.timeout_s);
	getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &ps, &pslen);
	if (stats_settle(&nic, &s0, &t, &s1) || irq_read(nic.dev, &irq1))
		goto out;
	print_irq("after", &irq1, nic.dev);
	queue_stats_read(fd, &nic, &q1);
	queue_stats_print(&q0, &q1);

	sd.tx_packets = s1.tx_packets - s0.tx_packets;
	sd.tx_bytes = s1.tx_bytes - s0.tx_bytes;
	sd.rx_packets = s1.rx_packets - s0.rx_packets;
	sd.rx_bytes = s1.rx_bytes - s0.rx_bytes;
	printf(PROG ": frames sent=%lu received=%lu verified=%lu corrupt=%lu duplicate=%lu out_of_order=%lu foreign=%lu outgoing=%lu socket_drops=%u elapsed_ms=%" PRIu64 "\n",
	       t.sent, t.received, t.verified, t.corrupt, t.duplicate,
	       t.out_of_order, t.foreign, t.outgoing, ps.tp_drops, elapsed);
	printf(PROG ": %s counters tx_packets=%" PRIu64 " tx_bytes=%" PRIu64
	       " rx_packets=%" PRIu64 " rx_bytes=%" PRIu64 "\n",
	       nic.name, s1.tx_packets, s1.tx_bytes, s1.rx_packets, s1.rx_bytes);
	printf(PROG ": %s during run tx_packets=%" PRIu64 " tx_bytes=%" PRIu64
	       " rx_packets=%" PRIu64 " rx_bytes=%" PRIu64 "\n",
	       nic.name, sd.tx_packets, sd.tx_bytes, sd.rx_packets, sd.rx_bytes);
	if (nic.dev[0])
		printf(PROG ": irq %s count before=%" PRIu64 " after=%" PRIu64
		       " delta=%" PRIu64 "\n", nic.dev, irq0.count, irq1.count,
		       irq1.count - irq0.count);

	/*
	 * The guest kernel has no IP stack, so nothing but this tool moves
	 * frames: the interface counters must match the socket exactly.
	 * virtio_net counts whole frames in bytes; others differ (lo counts
	 * from after the Ethernet header), so only packets are compared there.
	 */
	pass = true;
	if (t.verified != o.frames) {
		printf(PROG ": FAIL: %lu of %lu frames came back intact\n",
		       t.verified, o.frames);
		pass = false;
	}
	if (t.corrupt || t.duplicate) {
		printf(PROG ": FAIL: %lu corrupt and %lu duplicate frames\n",
		       t.corrupt, t.duplicate);
		pass = false;
	}
	if (ps.tp_drops) {
		printf(PROG ": FAIL: the socket dropped %u frames\n", ps.tp_drops);
		pass = false;
	}
	if (t.out_of_order && !o.allow_reorder) {
		printf(PROG ": FAIL: %lu frames arrived out of order\n",
		       t.out_of_order);
		pass = false;
	}
	whole = !strcmp(nic.driver, "virtio_net");
	if (sd.tx_packets != t.sent || sd.rx_packets != t.received ||
	    (whole && (sd.tx_bytes != (uint64_t)t.sent * o.size ||
		       sd.rx_bytes != (uint64_t)t.received * o.size))) {
		printf(PROG ": FAIL: %s counters do not match the frames sent and received\n",
		       nic.name);
		pass = false;
	}
	if (nic.dev[0] &&
	    (!irq0.lines || !irq1.lines || irq1.count == irq0.count)) {
		printf(PROG ": FAIL: interrupt lines of %s did not rise\n", nic.dev);
		pass = false;
	}
	printf(PROG ": %s\n", pass ? "PASS" : "FAIL");
	status = pass ? 0 : 1;
out:
	free(t.seen);
	free(ss);
	free(rxbuf);
	free(txbuf);
	if (fd >= 0)
		close(fd);
	return status;
}
