// SPDX-License-Identifier: GPL-2.0
/*
 * vnetloop stats: the module's counters over generic netlink, as a table
 * (the ethtool -S habit), as JSON (the ip -j habit, -p for pretty), per CPU
 * (the /proc/softirqs habit), or as per-interval deltas and rates.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "user/cmd/print.h"
#include "user/cmd/stats.h"
#include "user/commands.h"
#include "user/nl/nl.h"

static const char stats_usage[] =
"usage: vnetloop stats [DEV] [--json [--pretty]] [--per-cpu] [--per-queue]\n"
"                      [--interval SEC [--count N]]\n"
"\n"
"Show the counters of vnetloop device DEV (a number), or of every device,\n"
"read from the module over generic netlink (family \"vnetloop\").\n"
"\n"
"Directions are named from the guest's side: tx counts frames the guest\n"
"transmitted, rx frames delivered into the guest's receive buffers. Counters\n"
"are cumulative since the device was created and never reset.\n"
"\n"
"  -j, --json          one JSON array: per device \"dev_id\", \"owner_pid\" and\n"
"                      one key per counter name (the totals)\n"
"  -p, --pretty        with --json: indented over several lines\n"
"      --per-cpu       a column per possible CPU and the total (JSON: a\n"
"                      \"per_cpu\" array of objects with a \"cpu\" key, and \"total\")\n"
"      --per-queue     a column per queue pair and the total (JSON: a\n"
"                      \"per_queue\" array of objects with a \"pair\" key, and\n"
"                      \"total\"); with --per-cpu, both\n"
"  -i, --interval SEC  watch: every SEC seconds print each counter's delta and\n"
"                      the tx and rx rates (frames/s, bytes/s); stop on SIGINT\n"
"  -c, --count N       with --interval: stop after N intervals\n"
"  -h, --help          this text\n"
"\n"
"Exit status: 0 success, 1 other failure, 2 usage error, 3 module not loaded\n"
"(family not found), 4 no such device, 5 no devices at all, 6 permission\n"
"denied, 7 unknown family version. Unknown attributes and counters from a\n"
"newer module are ignored with a warning.\n";

/* The longest counter name is 23 characters. */
#define NAME_W 24

static int u64_width(uint64_t v)
{
	int w = 1;

	while (v >= 10) {
		v /= 10;
		w++;
	}
	return w;
}

/* The widest of the counters in present. */
static int counters_width(const uint64_t *c, uint64_t present, int min)
{
	for (unsigned int i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
		if (present >> i & 1 && u64_width(c[i]) > min)
			min = u64_width(c[i]);
	return min;
}

/*
 * The counters in present: text, a line "    name  value" each with the
 * value in vfmt (NULL: none); JSON, "name": value. Signed: the values are
 * differences, printed with their sign.
 */
static void print_counters(const uint64_t *c, uint64_t present,
			   const char *vfmt, bool is_signed)
{
	for (unsigned int i = 0; i < VNETLOOP_NUM_COUNTERS; i++) {
		const char *name = vnl_counter_name(i);

		if (!(present >> i & 1))
			continue;
		if (vfmt)
			print_text("    %-*s  ", NAME_W, name);
		if (is_signed)
			print_s64(name, vfmt, (int64_t)c[i]);
		else
			print_u64(name, vfmt, c[i]);
	}
}

static void dev_header(const struct vnl_dev_stats *d)
{
	print_u64("dev_id", "device %" PRIu64, d->dev_id);
	print_u64("owner_pid", d->owner_pid ? "  owner pid %" PRIu64 : NULL,
		  d->owner_pid);
	if (!d->owner_pid)
		print_text("  unowned");
	print_text("\n");
}

/* The totals: aligned lines, or the device object's counter keys. */
static void dev_totals(const struct vnl_dev_stats *d)
{
	char vfmt[16];

	snprintf(vfmt, sizeof(vfmt), "%%%d" PRIu64 "\n",
		 counters_width(d->c, d->present, 1));
	print_counters(d->c, d->present, vfmt, false);
}

/*
 * Text: a column per part (CPU or queue pair, its label the prefix and its
 * key), then the total.
 */
static void table_parts(const struct vnl_dev_stats *d,
			const struct vnl_part_counters *parts, unsigned int n,
			const char *prefix)
{
	int *w, tw;
	char label[24];

	if (out_json())
		return;
	w = calloc(n ? n : 1, sizeof(*w));
	if (!w) {
		print_text("    (out of memory)\n");
		return;
	}
	for (unsigned int i = 0; i < n; i++)
		w[i] = counters_width(parts[i].c, parts[i].present,
				      snprintf(label, sizeof(label),
					       "%s%" PRIu32, prefix,
					       parts[i].key));
	tw = counters_width(d->c, d->present, 5);

	print_text("    %-*s", NAME_W, "counter");
	for (unsigned int i = 0; i < n; i++) {
		snprintf(label, sizeof(label), "%s%" PRIu32, prefix,
			 parts[i].key);
		print_text("  %*s", w[i], label);
	}
	print_text("  %*s\n", tw, "total");
	for (unsigned int c = 0; c < VNETLOOP_NUM_COUNTERS; c++) {
		if (!(d->present >> c & 1))
			continue;
		print_text("    %-*s", NAME_W, vnl_counter_name(c));
		for (unsigned int i = 0; i < n; i++) {
			if (parts[i].present >> c & 1)
				print_text("  %*" PRIu64, w[i], parts[i].c[c]);
			else
				print_text("  %*s", w[i], "-");
		}
		print_text("  %*" PRIu64 "\n", tw, d->c[c]);
	}
	free(w);
}

/* JSON: an array name of objects with a key (the CPU or the pair). */
static void json_parts(const char *name, const char *key,
		       const struct vnl_part_counters *parts, unsigned int n)
{
	open_array(name);
	for (unsigned int k = 0; k < n; k++) {
		open_object(NULL);
		print_u64(key, NULL, parts[k].key);
		print_counters(parts[k].c, parts[k].present, NULL, false);
		close_object();
	}
	close_array();
}

void vnl_stats_print(const struct vnl_dev_list *l, unsigned int want)
{
	open_array(NULL);
	for (size_t i = 0; i < l->n; i++) {
		const struct vnl_dev_stats *d = &l->devs[i];

		if (i)
			print_text("\n");
		open_object(NULL);
		dev_header(d);
		/* JSON has the totals as keys in every form. */
		if (!want || out_json())
			dev_totals(d);
		if (want & VNL_NL_PER_CPU) {
			table_parts(d, d->cpus, d->ncpus, "cpu");
			json_parts("per_cpu", "cpu", d->cpus, d->ncpus);
		}
		if (want & VNL_NL_PER_QUEUE) {
			if (want & VNL_NL_PER_CPU)
				print_text("\n");
			table_parts(d, d->queues, d->nqueues, "pair");
			json_parts("per_queue", "pair", d->queues,
				   d->nqueues);
		}
		if (want) {
			open_object("total");
			print_counters(d->c, d->present, NULL, false);
			close_object();
		}
		close_object();
	}
	close_array();
}

bool vnl_stats_delta(const struct vnl_dev_stats *prev,
		     const struct vnl_dev_stats *cur, uint64_t *delta)
{
	for (unsigned int c = 0; c < VNETLOOP_NUM_COUNTERS; c++) {
		delta[c] = 0;
		if (!((prev->present & cur->present) >> c & 1))
			continue;
		if (cur->c[c] < prev->c[c])
			return false;
		delta[c] = cur->c[c] - prev->c[c];
	}
	return true;
}

static double rate(uint64_t delta, double secs)
{
	return secs > 0 ? (double)delta / secs : 0.0;
}

void vnl_stats_interval(const struct vnl_dev_stats *cur,
			const uint64_t *delta, double secs, const char *ts)
{
	static const char *const rate_keys[] = {
		"tx_frames_per_s", "tx_bytes_per_s",
		"rx_frames_per_s", "rx_bytes_per_s",
	};
	const double r[] = {
		rate(delta[VNETLOOP_C_TX_PACKETS], secs),
		rate(delta[VNETLOOP_C_TX_BYTES], secs),
		rate(delta[VNETLOOP_C_RX_PACKETS], secs),
		rate(delta[VNETLOOP_C_RX_BYTES], secs),
	};

	/*
	 * A loaded host can make an interval short; nanoseconds keep
	 * rate * interval_s equal to the delta for a reader.
	 */
	open_object(NULL);
	print_string("time", "%s", ts);
	print_u64("dev_id", "  device %" PRIu64, cur->dev_id);
	print_float("interval_s", 9, "  interval %.3f s\n", secs);
	open_object("counters");
	print_counters(cur->c, cur->present, NULL, false);
	close_object();
	print_text("    %-*s  %12.0f frames/s  %14.0f bytes/s\n", NAME_W, "tx",
		   r[0], r[1]);
	print_text("    %-*s  %12.0f frames/s  %14.0f bytes/s\n", NAME_W, "rx",
		   r[2], r[3]);
	open_object("delta");
	print_counters(delta, cur->present, "%+12" PRId64 "\n", true);
	close_object();
	open_object("rate");
	for (unsigned int i = 0; i < 4; i++)
		print_float(rate_keys[i], 3, NULL, r[i]);
	close_object();
	close_object();
}

/* ---- what stats and monitor share ---- */

int vnl_exit_code(int err)
{
	switch (err) {
	case 0:
		return VNL_EXIT_OK;
	case -ENOENT:
		return VNL_EXIT_NO_MODULE;
	case -ENODEV:
		return VNL_EXIT_NO_DEVICE;
	case -EPERM:
	case -EACCES:
		return VNL_EXIT_PERM;
	case -EPROTONOSUPPORT:
		return VNL_EXIT_VERSION;
	default:
		return VNL_EXIT_FAIL;
	}
}

int vnl_nl_report(const struct vnl_nl *nl, int err)
{
	int code = vnl_exit_code(err);

	fprintf(stderr, "vnetloop: %s\n", nl->err[0] ? nl->err : strerror(-err));
	if (code == VNL_EXIT_PERM)
		fprintf(stderr, "vnetloop: joining the events group and changing a budget need CAP_NET_ADMIN (reading needs none for the caller's own devices); otherwise a security policy (SELinux, AppArmor, seccomp) denied netlink access\n");
	return code;
}

void vnl_timestamp(char *buf, size_t size, int digits)
{
	struct timespec ts;
	struct tm tm;
	char base[32];
	long frac;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	frac = digits == 3 ? ts.tv_nsec / 1000000 : ts.tv_nsec / 1000;
	snprintf(buf, size, "%s.%0*ldZ", base, digits == 3 ? 3 : 6, frac);
}

/* ---- the command ---- */

struct opts {
	bool json, pretty, per_cpu, per_queue, have_dev, watch;
	uint32_t dev;
	double interval;
	unsigned long count;	/* 0: forever */
};

static int parse_u32(const char *s, uint32_t *v)
{
	char *end;
	unsigned long n;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || *end || n > UINT32_MAX)
		return -EINVAL;
	*v = (uint32_t)n;
	return 0;
}

/* The options; -1 for --help (done), else 0 or the exit code. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_PER_CPU = 256, O_PER_QUEUE };
	static const struct option longopts[] = {
		CMD_OUTPUT_OPTIONS,
		{ "per-cpu", no_argument, NULL, O_PER_CPU },
		{ "per-queue", no_argument, NULL, O_PER_QUEUE },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd_setting flags[] = {
		{ 'j', .flag = &o->json, .value = true },
		{ 'p', .flag = &o->pretty, .value = true },
		{ O_PER_CPU, .flag = &o->per_cpu, .value = true },
		{ O_PER_QUEUE, .flag = &o->per_queue, .value = true },
		{ 0 },
	};
	bool have_count = false;
	uint32_t n;
	char *end;
	int opt;

	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":jpi:c:h", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'i':
			errno = 0;
			o->interval = strtod(optarg, &end);
			if (errno || *end || !isfinite(o->interval) ||
			    o->interval < 0.001 || o->interval > 86400)
				return usage_error("stats", "bad interval '%s' (seconds, 0.001 to 86400)",
						   optarg);
			o->watch = true;
			break;
		case 'c':
			if (parse_u32(optarg, &n) || !n)
				return usage_error("stats", "bad count '%s' (a positive number)",
						   optarg);
			o->count = n;
			have_count = true;
			break;
		case 'h':
			fputs(stats_usage, stdout);
			return -1;
		default:
			if (!cmd_set(flags, opt, optarg))
				return opt_error("stats", opt, argv);
		}
	}
	if (optind < argc) {
		if (parse_u32(argv[optind], &o->dev))
			return usage_error("stats", "bad device '%s' (a device number)",
					   argv[optind]);
		o->have_dev = true;
		optind++;
	}
	if (optind < argc)
		return usage_error("stats", "unexpected argument '%s'",
				   argv[optind]);
	if (have_count && !o->watch)
		return usage_error("stats", "%s needs --interval", "--count");
	if (o->watch && (o->per_cpu || o->per_queue))
		return usage_error("stats", "%s cannot be combined with --interval",
				   o->per_cpu ? "--per-cpu" : "--per-queue");
	if (o->pretty && !o->json)
		return usage_error("stats", "%s needs --json (the per-CPU view is --per-cpu)",
				   "-p/--pretty");
	return 0;
}

static int no_devices(void)
{
	fprintf(stderr, "vnetloop: no vnetloop devices (a device lives while a process holds /dev/vnetloop open)\n");
	return VNL_EXIT_NO_DEVICES;
}

/* What to ask for besides the totals. */
static unsigned int want(const struct opts *o)
{
	return (o->per_cpu ? VNL_NL_PER_CPU : 0) |
	       (o->per_queue ? VNL_NL_PER_QUEUE : 0);
}

/* The devices asked for: one by id, or all of them. */
static int fetch(struct vnl_nl *nl, const struct opts *o,
		 struct vnl_dev_list *l)
{
	int err;

	if (!o->have_dev)
		return vnl_nl_dump_devs(nl, want(o), l);
	l->n = 0;
	l->devs = calloc(1, sizeof(*l->devs));
	if (!l->devs) {
		snprintf(nl->err, sizeof(nl->err), "reading device %u: out of memory",
			 o->dev);
		return -ENOMEM;
	}
	err = vnl_nl_get_dev(nl, o->dev, want(o), &l->devs[0]);
	if (err) {
		free(l->devs);
		l->devs = NULL;
		return err;
	}
	l->n = 1;
	return 0;
}

static int show_once(struct vnl_nl *nl, const struct opts *o)
{
	struct vnl_dev_list l;
	int err;

	err = fetch(nl, o, &l);
	if (err)
		return vnl_nl_report(nl, err);
	if (!l.n)
		return no_devices();
	vnl_stats_print(&l, want(o));
	vnl_dev_list_free(&l);
	return VNL_EXIT_OK;
}

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleep until the monotonic time t; false if SIGINT or SIGTERM came first. */
static bool sleep_until(double t, const sigset_t *sigs)
{
	struct timespec ts;
	double left;

	for (;;) {
		left = t - now_mono();
		if (left <= 0)
			return true;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		if (sigtimedwait(sigs, NULL, &ts) >= 0)
			return false;
		if (errno != EAGAIN && errno != EINTR)
			return false;
	}
}

static const struct vnl_dev_stats *find_dev(const struct vnl_dev_list *l,
					    uint32_t id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->devs[i].dev_id == id)
			return &l->devs[i];
	return NULL;
}

static int watch(struct vnl_nl *nl, const struct opts *o)
{
	struct vnl_dev_list prev, cur;
	uint64_t delta[VNETLOOP_NUM_COUNTERS];
	double t0, tprev, tcur;
	char ts[40];
	sigset_t sigs;
	int err;

	/* SIGINT ends the watch between two samples, cleanly. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);

	err = fetch(nl, o, &prev);
	tprev = t0 = now_mono();
	if (err)
		return vnl_nl_report(nl, err);
	if (!prev.n) {
		vnl_dev_list_free(&prev);
		return no_devices();
	}
	for (unsigned long k = 1; !o->count || k <= o->count; k++) {
		if (!sleep_until(t0 + (double)k * o->interval, &sigs))
			break;
		err = fetch(nl, o, &cur);
		tcur = now_mono();
		if (err) {
			vnl_dev_list_free(&prev);
			if (err == -ENODEV)
				snprintf(nl->err, sizeof(nl->err),
					 "device %u went away", o->dev);
			return vnl_nl_report(nl, err);
		}
		vnl_timestamp(ts, sizeof(ts), 3);
		for (size_t i = 0; i < cur.n; i++) {
			const struct vnl_dev_stats *p;

			p = find_dev(&prev, cur.devs[i].dev_id);
			/* A new device only gets its baseline this time. */
			if (!p || !vnl_stats_delta(p, &cur.devs[i], delta))
				continue;
			vnl_stats_interval(&cur.devs[i], delta, tcur - tprev,
					   ts);
		}
		fflush(stdout);
		vnl_dev_list_free(&prev);
		prev = cur;
		tprev = tcur;
	}
	vnl_dev_list_free(&prev);
	return VNL_EXIT_OK;
}

int cmd_stats(int argc, char **argv)
{
	struct vnl_nl nl;
	struct opts o;
	int ret;

	ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret < 0 ? VNL_EXIT_OK : ret;
	out_begin(stdout, o.json, o.pretty);
	vnl_nl_init(&nl, stderr);
	ret = vnl_nl_open(&nl);
	if (ret)
		return vnl_nl_report(&nl, ret);
	ret = o.watch ? watch(&nl, &o) : show_once(&nl, &o);
	vnl_nl_close(&nl);
	return out_finish(ret);
}
