// SPDX-License-Identifier: GPL-2.0
/*
 * `vnetloop run`: boot the built-in guest in a KVM VM with the loopback NIC
 * on the chosen backend, run a scenario and report what happened.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "user/abi/ucall.h"
#include "user/cmd/print.h"
#include "user/cmd/run.h"
#include "user/commands.h"
#include "user/vmm/linux_guest.h"
#include "user/vmm/nic.h"
#include "user/vmm/serial.h"

#define RUN_MAC		{ 0x02, 0x76, 0x6e, 0x6c, 0x00, 0x01 }

extern const unsigned char vnl_guest_image[], vnl_guest_image_end[];

const char *const run_scenario_names[VNL_SC_COUNT] = VNL_SCENARIO_NAMES;

const char *const run_transport_names[VNL_TRANSPORT_COUNT] =
	VNL_TRANSPORT_NAMES;

const char *const run_backend_names[4] = {
	[VNL_BACKEND_KMOD]	= "kmod",
	[VNL_BACKEND_THREAD]	= "thread",
	[VNL_BACKEND_INLINE]	= "inline",
	[VNL_BACKEND_VHOST_NET]	= "vhost-net",
};

_Static_assert(VNL_NUM_SPEC_COUNTERS == VNETLOOP_NUM_SPEC_COUNTERS,
	       "the guest's expectations cover the spec counters");
_Static_assert((int)VNL_X_INVALID_AVAIL_IDX_COUNT ==
	       (int)VNETLOOP_C_INVALID_AVAIL_IDX_COUNT, "same counter order");
_Static_assert((int)VNL_X_CTRL_ADD_USED_FAILURES ==
	       (int)VNETLOOP_C_CTRL_ADD_USED_FAILURES, "same counter order");

static void run_usage(FILE *f)
{
	fprintf(f,
"usage: vnetloop run [OPTIONS]\n"
"\n"
"Boot the built-in test guest in a KVM VM with the virtio loopback NIC.\n"
"The guest drives the NIC as a virtio driver, verifies every frame it gets\n"
"back, and the device's counters are checked against what the guest expects.\n"
"\n"
"  --backend NAME     kmod (vnetloop.ko via /dev/vnetloop; the default when\n"
"                     it exists and the module loads), thread (userspace\n"
"                     worker on the ioeventfd; the default otherwise),\n"
"                     inline (on the vCPU thread) or vhost-net (the kernel's\n"
"                     vhost-net on a tap looped back by tc, for comparisons:\n"
"                     tx/rx counters only)\n"
"  --transport NAME   pci (virtio-pci, modern, at 00:01.0 with MSI-X; the\n"
"                     default with --kernel) or mmio (virtio-mmio; the\n"
"                     default for the built-in guest)\n"
"  --no-msix          with pci: the guest leaves MSI-X off and takes INTx\n"
"  --frames N         frames to send (default 10000)\n"
"  --frame-size S     bytes per frame after the virtio-net header,\n"
"                     1..65557 (default 1500)\n"
"  --batch B          frames per notify, 1..256 (default 16)\n"
"  --no-event-idx     do not offer VIRTIO_RING_F_EVENT_IDX (VERSION_1 and MAC only)\n"
"  --scenario NAME    traffic (default), oversize, short-tx, poison,\n"
"                     rx-starve; triple-fault and reboot test the exits\n"
"  --mem MiB          guest memory, 16..3072 (default 64)\n"
"  --vcpus N          vCPUs, 1..%d (default 1)\n"
"  --queue-pairs N    the NIC's queue pairs, 1..16 (default 1); with more\n"
"                     than one it offers multiqueue (VIRTIO_NET_F_MQ and a\n"
"                     control queue) and the built-in guest sends its\n"
"                     frames over every pair; kmod needs vnetloop.ko's\n"
"                     max_queue_pairs at N or more\n"
"  --check WHAT       full (default): the guest checks every byte it gets\n"
"                     back; sample (benchmarks): its header, length, number\n"
"                     and two payload bytes, the TX buffers filled once\n"
"  -j, --json         print the summary as JSON; the guest console goes to\n"
"                     stderr\n"
"  -p, --pretty       with --json: indented over several lines\n"
"  --kernel BZIMAGE   boot this Linux kernel instead of the built-in guest;\n"
"                     its virtio_net drives the NIC (Documentation/\n"
"                     linux-guest.rst); --frames, --frame-size, --batch\n"
"                     and --scenario do not apply\n"
"  --initrd FILE      the Linux guest's initramfs\n"
"  --cmdline STR      appended to the Linux guest's command line\n"
"  -h, --help         this text\n"
"\n"
"Directions (tx, rx) are named from the guest's side.\n"
"\n"
"exit status:\n"
"  0    the guest finished and every check passed\n"
"  1    the guest found a mismatch, or the counters differ from its count\n"
"  2    bad command line\n"
"  3    KVM is missing or lacks a capability, or VM setup failed\n"
"  4    the requested backend is unavailable (kmod: no /dev/vnetloop)\n"
"  5    triple fault (KVM_EXIT_SHUTDOWN)\n"
"  6    unexpected vCPU exit or KVM error\n"
"  7    the guest asked for a reset (keyboard controller); with --kernel:\n"
"       the Linux guest rebooted without printing a result line\n"
"  With --kernel: 0 when the guest printed VNETLOOP-GUEST-RESULT: PASS,\n"
"  1 when it printed FAIL or the guest kernel panicked.\n"
"  130  SIGINT, 143 SIGTERM\n", VNL_MAX_VCPUS);
}

enum { O_BACKEND = 256, O_FRAMES, O_SIZE, O_BATCH, O_NO_EIDX, O_SCENARIO,
       O_MEM, O_VCPUS, O_KERNEL, O_INITRD, O_CMDLINE, O_TRANSPORT,
       O_NO_MSIX, O_PAIRS, O_CHECK };

/* A numeric option: where it goes (one of two), its range, its message. */
struct run_num {
	int opt;
	uint64_t *u64;
	uint32_t *u32;
	uint64_t min, max;
	const char *bad;
};

/*
 * opt's value into its place: 0, the usage error's exit code, or -1 if
 * opt is none of the table's (which ends with opt 0).
 */
static int run_number(const struct run_num *n, int opt, const char *s)
{
	unsigned long long v = 0;
	bool ok = false;
	char *end;

	for (; n->opt && n->opt != opt; n++)
		;
	if (!n->opt)
		return -1;
	if (*s && *s != '-') {
		errno = 0;
		v = strtoull(s, &end, 0);
		ok = !errno && !*end && v >= n->min && v <= n->max;
	}
	if (!ok)
		return usage_error("run", n->bad, s);
	if (n->u64)
		*n->u64 = v;
	else
		*n->u32 = (uint32_t)v;
	return 0;
}

/* The index of s in names, or -1. */
static int run_lookup(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

/* Returns -1 to go on, else the exit code. */
static int run_parse(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		CMD_OUTPUT_OPTIONS,
		{ "backend", required_argument, NULL, O_BACKEND },
		{ "frames", required_argument, NULL, O_FRAMES },
		{ "frame-size", required_argument, NULL, O_SIZE },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "no-event-idx", no_argument, NULL, O_NO_EIDX },
		{ "scenario", required_argument, NULL, O_SCENARIO },
		{ "mem", required_argument, NULL, O_MEM },
		{ "vcpus", required_argument, NULL, O_VCPUS },
		{ "kernel", required_argument, NULL, O_KERNEL },
		{ "initrd", required_argument, NULL, O_INITRD },
		{ "cmdline", required_argument, NULL, O_CMDLINE },
		{ "transport", required_argument, NULL, O_TRANSPORT },
		{ "no-msix", no_argument, NULL, O_NO_MSIX },
		{ "queue-pairs", required_argument, NULL, O_PAIRS },
		{ "check", required_argument, NULL, O_CHECK },
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd_setting settings[] = {
		{ 'j', .flag = &o->json, .value = true },
		{ 'p', .flag = &o->pretty, .value = true },
		{ O_NO_EIDX, .flag = &o->event_idx, .value = false },
		{ O_NO_MSIX, .flag = &o->msix, .value = false },
		{ O_KERNEL, .arg = &o->kernel },
		{ O_INITRD, .arg = &o->initrd },
		{ O_CMDLINE, .arg = &o->cmdline },
		{ 0 },
	};
	const struct run_num nums[] = {
		{ O_FRAMES, &o->frames, NULL, 1, 1ULL << 40,
		  "--frames: '%s' is not a number of frames >= 1" },
		{ O_SIZE, NULL, &o->frame_size, 1, VNL_MAX_FRAME_SIZE,
		  "--frame-size: '%s' is not in 1..65557" },
		{ O_BATCH, NULL, &o->batch, 1, VNETLOOP_QUEUE_SIZE_MAX,
		  "--batch: '%s' is not in 1..256" },
		{ O_MEM, NULL, &o->mem_mib, 16, 3072,
		  "--mem: '%s' is not in 16..3072 (MiB)" },
		{ O_VCPUS, NULL, &o->vcpus, 1, VNL_MAX_VCPUS,
		  "--vcpus: '%s' is not in 1..32" },
		{ O_PAIRS, NULL, &o->queue_pairs, 1, VNL_MAX_PAIRS,
		  "--queue-pairs: '%s' is not in 1..16" },
		{ 0 },
	};
	bool have_backend = false, have_transport = false;
	int c, i;

	*o = (struct run_opts) {
		.frames = 10000, .frame_size = 1500, .batch = 16,
		.event_idx = true, .scenario = VNL_SC_TRAFFIC,
		.mem_mib = 64, .vcpus = 1, .transport = VNL_TRANSPORT_MMIO,
		.msix = true, .queue_pairs = 1,
	};
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jph", longopts, NULL)) != -1) {
		if (cmd_set(settings, c, optarg))
			continue;
		switch (c) {
		case O_BACKEND:
			i = run_lookup(run_backend_names, 4, optarg);
			if (i < 0)
				return usage_error("run", "unknown backend '%s' (kmod, thread, inline or vhost-net)",
						   optarg);
			o->backend = i;
			have_backend = true;
			break;
		case O_TRANSPORT:
			i = run_lookup(run_transport_names,
				       VNL_TRANSPORT_COUNT, optarg);
			if (i < 0)
				return usage_error("run", "unknown transport '%s' (mmio or pci)",
						   optarg);
			o->transport = i;
			have_transport = true;
			break;
		case O_CHECK:
			if (strcmp(optarg, "full") && strcmp(optarg, "sample"))
				return usage_error("run", "--check '%s': full or sample",
						   optarg);
			o->check_sample = !strcmp(optarg, "sample");
			break;
		case O_SCENARIO:
			i = run_lookup(run_scenario_names, VNL_SC_COUNT, optarg);
			if (i < 0)
				return usage_error("run", "unknown scenario '%s' (traffic, oversize, short-tx, poison, rx-starve, triple-fault, reboot)",
						   optarg);
			o->scenario = i;
			break;
		case 'h':
			run_usage(stdout);
			return 0;
		default:
			i = run_number(nums, c, optarg);
			if (i < 0)
				return opt_error("run", c, argv);
			if (i)
				return i;
		}
	}
	if (optind < argc)
		return usage_error("run", "unexpected argument '%s'",
				   argv[optind]);
	if (!o->kernel && (o->initrd || o->cmdline))
		return usage_error("run", "%s needs --kernel",
				   o->initrd ? "--initrd" : "--cmdline");
	if (o->pretty && !o->json)
		return usage_error("run", "%s needs --json", "-p/--pretty");
	/*
	 * A stock distribution kernel finds the NIC only on PCI (it has no
	 * virtio-mmio command-line devices); the built-in guest keeps mmio.
	 */
	if (!have_transport && o->kernel)
		o->transport = VNL_TRANSPORT_PCI;
	if (!o->msix && o->transport != VNL_TRANSPORT_PCI)
		return usage_error("run", "%s needs --transport pci",
				   "--no-msix");
	if (!have_backend) {
		o->backend = access("/dev/vnetloop", F_OK) ?
			     VNL_BACKEND_THREAD : VNL_BACKEND_KMOD;
		o->backend_auto = true;
	}
	return -1;
}

static double run_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * CPU time of the device's thread and of the vCPU threads over the measured
 * phase: the first field of /proc/.../schedstat (ns on CPU), read at the two
 * MARKs. The guest is quiet at both (nothing in flight), so the other
 * threads are asleep and their time is accounted; the vCPU thread that
 * reads yields first, which brings its own sum up to date. The kmod worker
 * is the kthread "vnetloop-<device id>", found by its comm in /proc
 * (kthreads live in the root pid namespace); the thread backend's worker is
 * "vnl-worker" and the vCPUs "vcpu<N>" among our own threads.
 */
#define RUN_PF_KTHREAD	0x00200000	/* PF_KTHREAD, field 9 of stat */

/* A small /proc file into buf, NUL-terminated: its length or -errno. */
static ssize_t proc_read(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	return n;
}

/* The comm of dir/id, without its newline. */
static bool proc_comm(const char *dir, int id, char *comm, size_t size)
{
	char path[64];

	snprintf(path, sizeof(path), "%s/%d/comm", dir, id);
	if (proc_read(path, comm, size) <= 0)
		return false;
	comm[strcspn(comm, "\n")] = '\0';
	return true;
}

/* The fields of dir/id/stat after "(comm)", from field 3 (state) on. */
static const char *proc_stat(const char *dir, int id, char *buf, size_t size)
{
	char path[64], *p;

	snprintf(path, sizeof(path), "%s/%d/stat", dir, id);
	if (proc_read(path, buf, size) <= 0)
		return NULL;
	p = strrchr(buf, ')');
	return p ? p + 1 : NULL;
}

static bool proc_is_kthread(int pid)
{
	char buf[1024];
	const char *f = proc_stat("/proc", pid, buf, sizeof(buf));
	unsigned int flags;

	/* state ppid pgrp session tty_nr tpgid flags */
	return f && sscanf(f, " %*c %*d %*d %*d %*d %*d %u", &flags) == 1 &&
	       (flags & RUN_PF_KTHREAD);
}

/* c->name, or with a trailing '*': its prefix and then digits only. */
static bool cpu_name_match(const struct run_cpu *c, const char *comm)
{
	size_t n = strlen(c->name);

	if (!n || c->name[n - 1] != '*')
		return !strcmp(comm, c->name);
	if (strncmp(comm, c->name, n - 1) || !comm[n - 1])
		return false;
	for (comm += n - 1; *comm; comm++)
		if (!isdigit((unsigned char)*comm))
			return false;
	return true;
}

/* Fill c->ids with the tasks under c->dir whose comm matches c->name. */
static void cpu_find(struct run_cpu *c, bool kthread, bool all)
{
	struct dirent *e;
	char comm[32];
	DIR *d;

	c->nids = 0;
	d = opendir(c->dir);
	if (!d) {
		snprintf(c->error, sizeof(c->error), "cannot open %s: %s",
			 c->dir, strerror(errno));
		return;
	}
	while ((e = readdir(d)) && c->nids < VNL_MAX_VCPUS) {
		char *end;
		long id = strtol(e->d_name, &end, 10);

		if (end == e->d_name || *end || id <= 0 || id > INT32_MAX ||
		    !proc_comm(c->dir, id, comm, sizeof(comm)) ||
		    !cpu_name_match(c, comm) ||
		    (kthread && !proc_is_kthread(id)))
			continue;
		c->ids[c->nids++] = id;
		if (!all)
			break;
	}
	closedir(d);
	if (!c->nids)
		snprintf(c->error, sizeof(c->error), "no %s named %s in %s%s",
			 c->task, c->name, c->dir, kthread ?
			 "; is this process in the root pid namespace?" : "");
}

/* CPU time of one task, in ns. */
static int cpu_read(const struct run_cpu *c, int id, uint64_t *ns)
{
	unsigned long long v, ut, st;
	char path[64], buf[1024];
	const char *f;
	ssize_t n;

	if (!c->ticks) {
		snprintf(path, sizeof(path), "%s/%d/schedstat", c->dir, id);
		n = proc_read(path, buf, sizeof(buf));
		if (n < 0)
			return n;
		if (sscanf(buf, "%llu", &v) != 1)
			return -EPROTO;
		*ns = v;
		return 0;
	}
	f = proc_stat(c->dir, id, buf, sizeof(buf));
	if (!f)
		return -ENOENT;
	/* Fields 3..13 (state .. cmajflt), then utime and stime. */
	if (sscanf(f, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
		   &ut, &st) != 2)
		return -EPROTO;
	*ns = (ut + st) * (1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK));
	return 0;
}

/* The sum over c's tasks, which must still carry their names. */
static bool cpu_sum(struct run_cpu *c, uint64_t *ns)
{
	char comm[32];
	uint64_t v;
	int ret;

	*ns = 0;
	for (unsigned int i = 0; i < c->nids; i++) {
		if (!proc_comm(c->dir, c->ids[i], comm, sizeof(comm)) ||
		    !cpu_name_match(c, comm)) {
			snprintf(c->error, sizeof(c->error),
				 "%s %s (%d) went away during the measured phase",
				 c->task, c->name, c->ids[i]);
			return false;
		}
		ret = cpu_read(c, c->ids[i], &v);
		if (ret) {
			snprintf(c->error, sizeof(c->error),
				 "cannot read the CPU time of %s/%d: %s",
				 c->dir, c->ids[i], strerror(-ret));
			return false;
		}
		*ns += v;
	}
	return true;
}

/*
 * schedstat shows what was accounted at the last tick or switch; the
 * calling (vCPU) thread is running, so pass through the scheduler first.
 */
static void cpu_update_self(void)
{
	sched_yield();
}

static void cpu_begin(struct run_cpu *c)
{
	c->have = false;
	c->started = c->nids && cpu_sum(c, &c->start_ns);
}

static void cpu_end(struct run_cpu *c)
{
	uint64_t ns;

	if (!c->started)
		return;
	if (!cpu_sum(c, &ns))
		return;
	c->ns = ns >= c->start_ns ? ns - c->start_ns : 0;
	c->have = true;
}

/* At the start MARK: find the threads and take the first samples. */
static void run_cpu_begin(struct run_state *s, const struct vm *vm)
{
	struct run_cpu *d = &s->cpu_dev, *v = &s->cpu_vcpu;
	/* Without CONFIG_SCHED_INFO: utime + stime, in clock ticks. */
	bool ticks = access("/proc/self/schedstat", F_OK) != 0;
	char name[32];

	*v = (struct run_cpu) { .task = "vCPU thread", .ticks = ticks,
				.dir = "/proc/self/task" };
	snprintf(v->name, sizeof(v->name), "%s",
		 vm->nvcpus > 1 ? "vcpu*" : "vcpu0");
	cpu_find(v, false, true);
	if (v->nids && v->nids != vm->nvcpus) {
		snprintf(v->error, sizeof(v->error),
			 "found %u of %u vCPU threads in %s", v->nids,
			 vm->nvcpus, v->dir);
		v->nids = 0;
	}
	switch (s->o->backend) {
	case VNL_BACKEND_KMOD:
		*d = (struct run_cpu) { .task = "kthread", .ticks = ticks,
					.dir = "/proc" };
		/* The kernel cuts a comm at 15 bytes, like this. */
		snprintf(name, sizeof(name), "vnetloop-%d", s->dev_id);
		snprintf(d->name, sizeof(d->name), "%.15s", name);
		cpu_find(d, true, false);
		break;
	case VNL_BACKEND_THREAD:
		*d = (struct run_cpu) { .task = "thread", .ticks = ticks,
					.dir = "/proc/self/task",
					.name = "vnl-worker" };
		cpu_find(d, false, false);
		break;
	case VNL_BACKEND_VHOST_NET:
		/* vhost's worker: a kthread named after its owner's pid. */
		*d = (struct run_cpu) { .task = "kthread", .ticks = ticks,
					.dir = "/proc" };
		snprintf(name, sizeof(name), "vhost-%d", (int)getpid());
		snprintf(d->name, sizeof(d->name), "%.15s", name);
		cpu_find(d, true, false);
		break;
	case VNL_BACKEND_INLINE:
		break;		/* the drains run on the vCPU threads */
	}
	/* The running vCPU thread last here and first at the end. */
	cpu_update_self();
	if (s->o->backend != VNL_BACKEND_INLINE)
		cpu_begin(d);
	cpu_begin(v);
	if (s->o->backend == VNL_BACKEND_INLINE)
		*d = *v;
}

static void run_cpu_end(struct run_state *s)
{
	cpu_update_self();
	cpu_end(&s->cpu_vcpu);
	if (s->o->backend == VNL_BACKEND_INLINE)
		s->cpu_dev = s->cpu_vcpu;
	else
		cpu_end(&s->cpu_dev);
}

/*
 * The rest of the measured phase (struct run_phase): KVM's statistics,
 * the VMM's exits and the device's counters, read at both MARKs outside
 * the timed part (before run_cpu_begin() and the start time, after the end
 * time and run_cpu_end()), so reading them costs the phase nothing. The
 * guest is quiet at both marks: nothing in flight, the device idle.
 */

/*
 * KVM's stats files, opened before the vCPUs run: KVM_GET_STATS_FD is a
 * vCPU ioctl, which waits for the vCPU to leave KVM_RUN, so one vCPU
 * cannot ask it of another that sits halted (reading the file can be done
 * at any time).
 */
/* Why the KVM statistics are missing: the reader's own words. */
static void phase_kvm_error(struct run_phase *p)
{
	snprintf(p->kvm_error, sizeof(p->kvm_error), "%s", p->kvm.error);
}

static void phase_kvm_open(struct run_phase *p, const struct vm *vm)
{
	int fds[VNL_MAX_VCPUS];

	for (unsigned int i = 0; i < vm->nvcpus && i < VNL_MAX_VCPUS; i++)
		fds[i] = vm->vcpus[i].fd;
	if (kvm_stats_open(&p->kvm, vm->vm_fd, fds, vm->nvcpus)) {
		phase_kvm_error(p);
		return;
	}
	p->kvm_start = calloc(p->kvm.n ? p->kvm.n : 1, sizeof(uint64_t));
	p->kvm_delta = calloc(p->kvm.n ? p->kvm.n : 1, sizeof(uint64_t));
	if (!p->kvm_start || !p->kvm_delta) {
		snprintf(p->kvm_error, sizeof(p->kvm_error),
			 "no memory for %u KVM statistics", p->kvm.n);
		free(p->kvm_start);
		free(p->kvm_delta);
		p->kvm_start = p->kvm_delta = NULL;
		kvm_stats_close(&p->kvm);
		return;
	}
	p->kvm_opened = true;
}

static void run_phase_begin(struct run_state *s, const struct vm *vm)
{
	struct run_phase *p = &s->phase;

	p->started = true;
	p->ended = p->have_kvm = p->have_dev = false;
	p->kvm_started = p->kvm_opened &&
			 !kvm_stats_read(&p->kvm, p->kvm_start);
	if (p->kvm_opened && !p->kvm_started)
		phase_kvm_error(p);
	vm_exit_stats_sum(vm, &p->vmm_start);
	p->dev_started = !s->be->ops->counters(s->be, p->dev_start,
					       &p->ndev);
}

static void run_phase_end(struct run_state *s, const struct vm *vm)
{
	struct run_phase *p = &s->phase;
	uint64_t dev[VNETLOOP_NUM_COUNTERS];
	unsigned int n;

	if (!p->started)
		return;
	if (p->kvm_started) {
		/* The end's values, then in place the difference. */
		p->have_kvm = !kvm_stats_read(&p->kvm, p->kvm_delta);
		if (p->have_kvm)
			kvm_stats_delta(p->kvm.n, p->kvm_start, p->kvm_delta,
					p->kvm_delta);
		else
			phase_kvm_error(p);
	}
	vm_exit_stats_sum(vm, &p->vmm);
	vm_exit_stats_sub(&p->vmm, &p->vmm_start);
	if (p->dev_started && !s->be->ops->counters(s->be, dev, &n)) {
		if (n < p->ndev)
			p->ndev = n;
		for (unsigned int i = 0; i < p->ndev; i++)
			p->dev[i] = dev[i] - p->dev_start[i];
		p->have_dev = true;
	}
	p->ended = true;
}

static void run_phase_fini(struct run_phase *p)
{
	kvm_stats_close(&p->kvm);
	free(p->kvm_start);
	free(p->kvm_delta);
	p->kvm_start = p->kvm_delta = NULL;
	p->kvm_opened = false;
}

static bool run_ucall(struct vm *vm, struct vcpu *v, uint64_t gpa)
{
	struct run_state *s = vm->opaque;
	const struct vnl_ucall *p = vm_gpa(vm, gpa, sizeof(*p));
	struct vnl_ucall uc;
	const char *msg;

	if (!p) {
		vm_stop(vm, VM_EXIT_UNEXPECTED,
			"vCPU %u: ucall at 0x%llx, outside guest RAM", v->id,
			(unsigned long long)gpa);
		return false;
	}
	uc = *p;
	switch (uc.cmd) {
	case VNL_UCALL_MARK:
		if (uc.arg[0] == VNL_MARK_TRAFFIC_START) {
			run_phase_begin(s, vm);
			run_cpu_begin(s, vm);
			s->t_start = run_now();
		} else {
			s->t_end = run_now();
			run_cpu_end(s);
			run_phase_end(s, vm);
		}
		return true;
	case VNL_UCALL_FAIL:
		msg = vm_gpa(vm, uc.arg[0], uc.arg[1]);
		fprintf(stderr, "guest: check failed: %.*s\n",
			msg ? (int)uc.arg[1] : 9, msg ? msg : "(bad gpa)");
		return true;
	case VNL_UCALL_RESULT:
		p = vm_gpa(vm, uc.arg[0], sizeof(s->res));
		if (!p || uc.arg[1] != sizeof(s->res)) {
			vm_stop(vm, VM_EXIT_UNEXPECTED,
				"vCPU %u: malformed result ucall", v->id);
			return false;
		}
		memcpy(&s->res, p, sizeof(s->res));
		s->have_result = s->res.magic == VNL_RESULT_MAGIC;
		return true;
	case VNL_UCALL_DONE:
		s->done = true;
		s->guest_failures = uc.arg[0];
		vm_stop(vm, VM_EXIT_OK, "the guest finished");
		return false;
	}
	vm_stop(vm, VM_EXIT_UNEXPECTED, "vCPU %u: unknown ucall %u", v->id,
		uc.cmd);
	return false;
}

static void run_serial_irq(void *opaque, int level)
{
	vm_irq_line(opaque, SERIAL_COM1_IRQ, level);
}

static int run_load_guest(struct vm *vm, const struct run_opts *o)
{
	size_t len = vnl_guest_image_end - vnl_guest_image;
	const struct vnl_image_head *h = (const void *)vnl_guest_image;
	struct vnl_guest_params p = {
		.magic = VNL_PARAMS_MAGIC,
		.scenario = o->scenario,
		.mem_size = vm->mem_size,
		.frames = o->frames,
		.frame_size = o->frame_size,
		.batch = o->batch,
		.event_idx = o->event_idx,
		.vcpus = o->vcpus,
		.mmio_base = VNL_GPA_MMIO,
		.gsi = o->transport == VNL_TRANSPORT_PCI ? VNL_PCI_INTX_GSI :
			VNL_MMIO_GSI,
		.mac = RUN_MAC,
		.transport = o->transport,
		.msix = o->msix,
		.pci_mmio_base = VNL_GPA_PCI_MMIO,
		.pci_mmio_size = VNL_PCI_MMIO_SIZE,
		.queue_pairs = o->queue_pairs,
		.check = o->check_sample ? VNL_CHECK_SAMPLE : VNL_CHECK_FULL,
	};

	if (len < sizeof(*h) || h->magic != VNL_IMAGE_MAGIC ||
	    h->end < VNL_GPA_IMAGE + len || h->end > vm->mem_size) {
		fprintf(stderr, "vnetloop: the built-in guest image is invalid\n");
		return -EINVAL;
	}
	memcpy(vm_gpa(vm, VNL_GPA_IMAGE, len), vnl_guest_image, len);
	memcpy(vm_gpa(vm, VNL_GPA_PARAMS, sizeof(p)), &p, sizeof(p));
	return vm_setup_long_mode(vm, h->entry, h->ap_entry, VNL_GPA_PARAMS);
}

static void run_collect(struct run_state *s, struct vm *vm,
			struct vnl_backend *be)
{
	const struct vnl_guest_result *r = &s->res;

	s->nvcpus = vm->nvcpus;
	vm_exit_stats_sum(vm, &s->exits);
	for (unsigned int i = 0; i < vm->nvcpus; i++)
		s->stopped[i] = vm->vcpus[i].stopped;
	s->have_counters = !be->ops->counters(be, s->counters, &s->ncounters);
	s->npairs = 0;
	for (unsigned int p = 0; s->have_counters && be->max_pairs > 1 &&
	     be->ops->queue_counters && p < be->max_pairs; p++) {
		if (be->ops->queue_counters(be, p, s->pair_counters[p]))
			break;
		s->npairs = p + 1;
	}
	/* The vhost-net peer has only the first four (tx and rx). */
	s->nmatch = s->ncounters < VNETLOOP_NUM_SPEC_COUNTERS ?
		    s->ncounters : VNETLOOP_NUM_SPEC_COUNTERS;
	s->counters_match = s->have_counters && s->have_result &&
		!memcmp(s->counters, r->expect,
			s->nmatch * sizeof(r->expect[0]));
	s->exit_code = vm->exit_code;
	snprintf(s->why, sizeof(s->why), "%s", vm->why);
	if (s->exit_code != VM_EXIT_OK)
		return;
	if (!s->have_result)
		snprintf(s->why, sizeof(s->why), "the guest sent no result");
	else if (s->guest_failures || r->failures || r->mismatches)
		snprintf(s->why, sizeof(s->why),
			 "the guest reported %llu failed checks",
			 (unsigned long long)(r->failures + r->mismatches));
	else if (!s->have_counters)
		snprintf(s->why, sizeof(s->why), "the device counters are unreadable");
	else if (!s->counters_match)
		snprintf(s->why, sizeof(s->why),
			 "the device counters differ from the guest's count");
	else if (r->aps_online != vm->nvcpus - 1)
		snprintf(s->why, sizeof(s->why), "%u of %u other vCPUs came up",
			 r->aps_online, vm->nvcpus - 1);
	else
		return;
	s->exit_code = VM_EXIT_GUEST_FAIL;
}

static int run_vm(struct run_opts *o, struct run_state *s)
{
	static const uint8_t mac[6] = RUN_MAC;
	/*
	 * What the transport offers the guest. Never ACCESS_PLATFORM: the
	 * guest's addresses are guest-physical (the kmod backend maps them
	 * 1:1 in the device's IOTLB, and sets the bit itself).
	 */
	uint64_t features = VNETLOOP_FEATURES &
			    ~(1ULL << VIRTIO_F_ACCESS_PLATFORM);
	struct vnl_backend_env env;
	struct vnl_backend *be = NULL;
	struct serial serial;
	struct nic nic;
	struct vm vm;
	int ret;

	ret = vm_create(&vm, (uint64_t)o->mem_mib << 20, o->vcpus);
	if (!ret)
		ret = o->kernel ? linux_guest_setup(&s->guest_linux, &vm,
						    o->kernel, o->initrd,
						    o->cmdline, o->transport,
						    o->msix) :
				  run_load_guest(&vm, o);
	if (ret) {
		vm_destroy(&vm);
		return VM_EXIT_SETUP;
	}
	if (!o->event_idx)
		features &= ~(1ULL << VIRTIO_RING_F_EVENT_IDX);
	if (o->queue_pairs > 1)
		features |= VNETLOOP_FEATURES_MQ;
	env = (struct vnl_backend_env) {
		.mem	    = { .gpa = 0, .size = vm.mem_size,
				.hva = (uint64_t)(uintptr_t)vm.mem },
		.features   = features,
		.max_pairs  = o->queue_pairs,
	};
	memcpy(env.mac, mac, sizeof(env.mac));
	if (nic_init(&nic, &vm, o->transport, &env)) {
		nic_fini(&nic);
		vm_destroy(&vm);
		return VM_EXIT_SETUP;
	}
	ret = vnl_backend_create(o->backend, &env, &be);
	/*
	 * A node made at boot from modules.devname exists whether or not the
	 * module can load; unless kmod was asked for, fall back to thread.
	 */
	if ((ret == -ENODEV || ret == -ENXIO) && o->backend_auto &&
	    o->backend == VNL_BACKEND_KMOD) {
		fprintf(stderr, "vnetloop: vnetloop.ko is not available (%s); using the thread backend\n",
			strerror(-ret));
		o->backend = VNL_BACKEND_THREAD;
		ret = vnl_backend_create(o->backend, &env, &be);
	}
	if (ret) {
		fprintf(stderr, "vnetloop: the %s backend is unavailable: %s\n",
			run_backend_names[o->backend], strerror(-ret));
		nic_fini(&nic);
		vm_destroy(&vm);
		return ret == -ENODEV ? VM_EXIT_NO_BACKEND : VM_EXIT_SETUP;
	}
	s->dev_id = be->dev_id;
	if (nic_attach(&nic, be, features)) {
		nic_detach(&nic);
		vnl_backend_destroy(be);
		nic_fini(&nic);
		vm_destroy(&vm);
		return VM_EXIT_SETUP;
	}
	serial_init(&serial, o->json ? 2 : 1, run_serial_irq, &vm);
	if (o->kernel) {
		serial.tap = linux_guest_console;
		serial.tap_opaque = &s->guest_linux;
	}
	vm.serial = &serial;
	vm.ucall = run_ucall;
	vm.opaque = s;
	s->be = be;
	if (!o->kernel)
		phase_kvm_open(&s->phase, &vm);

	vm_run(&vm);
	/* Counters before the device goes away with its file. */
	run_collect(s, &vm, be);
	s->be = NULL;
	if (o->kernel)
		s->exit_code = linux_guest_verdict(&s->guest_linux,
						   s->exit_code, s->why,
						   sizeof(s->why));
	s->isr_empty_reads = nic_isr_empty_reads(&nic);
	nic_detach(&nic);
	vnl_backend_destroy(be);
	nic_fini(&nic);
	serial_destroy(&serial);
	vm_destroy(&vm);
	return s->exit_code;
}

int cmd_run(int argc, char **argv)
{
	struct run_state s = { .dev_id = -1 };
	struct run_opts o;
	sigset_t block;
	int ret;

	ret = run_parse(argc, argv, &o);
	if (ret >= 0)
		return ret;
	/* Before any thread exists: signals reach us only via signalfd. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &block, NULL);

	s.o = &o;
	s.backend_name = run_backend_names[o.backend];
	ret = run_vm(&o, &s);
	if (ret == VM_EXIT_SETUP || ret == VM_EXIT_NO_BACKEND) {
		run_phase_fini(&s.phase);
		return ret;
	}
	out_begin(stdout, o.json, o.pretty);
	run_report(&s);
	run_phase_fini(&s.phase);
	return out_finish(ret);
}
