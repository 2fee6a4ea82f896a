// SPDX-License-Identifier: GPL-2.0
/*
 * vnetloop stats: the module's counters over generic netlink, as a table
 * (the ethtool -S habit), as JSON (the ip -j habit), per CPU (the
 * /proc/softirqs habit), or as per-interval deltas and rates.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "user/cmd/stats.h"
#include "user/commands.h"
#include "user/nl/nl.h"

static const char stats_usage[] =
"usage: vnetloop stats [DEV] [--json] [--per-cpu] [--interval SEC [--count N]]\n"
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
"  -p, --per-cpu       a column per possible CPU and the total (JSON: a\n"
"                      \"per_cpu\" array of objects with a \"cpu\" key, and \"total\")\n"
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

static void table_header(FILE *f, const struct vnl_dev_stats *d)
{
	fprintf(f, "device %" PRIu32, d->dev_id);
	if (d->owner_pid)
		fprintf(f, "  owner pid %" PRIu32, d->owner_pid);
	else
		fprintf(f, "  unowned");
	fputc('\n', f);
}

static void table_per_cpu(FILE *f, const struct vnl_dev_stats *d)
{
	int *w, tw = 5;
	char label[16];

	w = calloc(d->ncpus ? d->ncpus : 1, sizeof(*w));
	if (!w) {
		fprintf(f, "    (out of memory)\n");
		return;
	}
	for (unsigned int i = 0; i < d->ncpus; i++) {
		w[i] = snprintf(label, sizeof(label), "cpu%" PRIu32,
				d->cpus[i].cpu);
		for (unsigned int c = 0; c < VNETLOOP_NUM_COUNTERS; c++)
			if (d->cpus[i].present >> c & 1 &&
			    u64_width(d->cpus[i].c[c]) > w[i])
				w[i] = u64_width(d->cpus[i].c[c]);
	}
	for (unsigned int c = 0; c < VNETLOOP_NUM_COUNTERS; c++)
		if (d->present >> c & 1 && u64_width(d->c[c]) > tw)
			tw = u64_width(d->c[c]);

	fprintf(f, "    %-*s", NAME_W, "counter");
	for (unsigned int i = 0; i < d->ncpus; i++) {
		snprintf(label, sizeof(label), "cpu%" PRIu32, d->cpus[i].cpu);
		fprintf(f, "  %*s", w[i], label);
	}
	fprintf(f, "  %*s\n", tw, "total");
	for (unsigned int c = 0; c < VNETLOOP_NUM_COUNTERS; c++) {
		if (!(d->present >> c & 1))
			continue;
		fprintf(f, "    %-*s", NAME_W, vnl_counter_name(c));
		for (unsigned int i = 0; i < d->ncpus; i++) {
			if (d->cpus[i].present >> c & 1)
				fprintf(f, "  %*" PRIu64, w[i], d->cpus[i].c[c]);
			else
				fprintf(f, "  %*s", w[i], "-");
		}
		fprintf(f, "  %*" PRIu64 "\n", tw, d->c[c]);
	}
	free(w);
}

void vnl_stats_table(FILE *f, const struct vnl_dev_stats *d, bool per_cpu)
{
	int vw = 1;

	table_header(f, d);
	if (per_cpu) {
		table_per_cpu(f, d);
		return;
	}
	for (unsigned int c = 0; c < VNETLOOP_NUM_COUNTERS; c++)
		if (d->present >> c & 1 && u64_width(d->c[c]) > vw)
			vw = u64_width(d->c[c]);
	for (unsigned int c = 0; c < VNETLOOP_NUM_COUNTERS; c++)
		if (d->present >> c & 1)
			fprintf(f, "    %-*s  %*" PRIu64 "\n", NAME_W,
				vnl_counter_name(c), vw, d->c[c]);
}

/* "name":value for each counter present, comma-separated. */
static void json_counters(FILE *f, const uint64_t *c, uint64_t present,
			  bool lead_comma)
{
	for (unsigned int i = 0; i < VNETLOOP_NUM_COUNTERS; i++) {
		if (!(present >> i & 1))
			continue;
		fprintf(f, "%s\"%s\":%" PRIu64, lead_comma ? "," : "",
			vnl_counter_name(i), c[i]);
		lead_comma = true;
	}
}

void vnl_stats_json(FILE *f, const struct vnl_dev_list *l, bool per_cpu)
{
	fputc('[', f);
	for (size_t i = 0; i < l->n; i++) {
		const struct vnl_dev_stats *d = &l->devs[i];

		fprintf(f, "%s{\"dev_id\":%" PRIu32 ",\"owner_pid\":%" PRIu32,
			i ? "," : "", d->dev_id, d->owner_pid);
		json_counters(f, d->c, d->present, true);
		if (per_cpu) {
			fputs(",\"per_cpu\":[", f);
			for (unsigned int k = 0; k < d->ncpus; k++) {
				fprintf(f, "%s{\"cpu\":%" PRIu32, k ? "," : "",
					d->cpus[k].cpu);
				json_counters(f, d->cpus[k].c,
					      d->cpus[k].present, true);
				fputc('}', f);
			}
			fputs("],\"total\":{", f);
			json_counters(f, d->c, d->present, false);
			fputc('}', f);
		}
		fputc('}', f);
	}
	fputs("]\n", f);
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

void vnl_stats_interval(FILE *f, const struct vnl_dev_stats *cur,
			const uint64_t *delta, double secs, const char *ts,
			bool json)
{
	double txf = rate(delta[VNETLOOP_C_TX_PACKETS], secs);
	double txb = rate(delta[VNETLOOP_C_TX_BYTES], secs);
	double rxf = rate(delta[VNETLOOP_C_RX_PACKETS], secs);
	double rxb = rate(delta[VNETLOOP_C_RX_BYTES], secs);

	/*
	 * A loaded host can make an interval short; nanoseconds keep
	 * rate * interval_s equal to the delta for a reader.
	 */
	if (json) {
		fprintf(f, "{\"time\":\"%s\",\"dev_id\":%" PRIu32
			",\"interval_s\":%.9f,\"counters\":{", ts, cur->dev_id,
			secs);
		json_counters(f, cur->c, cur->present, false);
		fputs("},\"delta\":{", f);
		json_counters(f, delta, cur->present, false);
		fprintf(f, "},\"rate\":{\"tx_frames_per_s\":%.3f,\"tx_bytes_per_s\":%.3f,\"rx_frames_per_s\":%.3f,\"rx_bytes_per_s\":%.3f}}\n",
			txf, txb, rxf, rxb);
		return;
	}
	fprintf(f, "%s  device %" PRIu32 "  interval %.3f s\n", ts,
		cur->dev_id, secs);
	fprintf(f, "    %-*s  %12.0f frames/s  %14.0f bytes/s\n", NAME_W,
		"tx", txf, txb);
	fprintf(f, "    %-*s  %12.0f frames/s  %14.0f bytes/s\n", NAME_W,
		"rx", rxf, rxb);
	for (unsigned int c = 0; c < VNETLOOP_NUM_COUNTERS; c++)
		if (cur->present >> c & 1)
			fprintf(f, "    %-*s  %+12" PRId64 "\n", NAME_W,
				vnl_counter_name(c), (int64_t)delta[c]);
}

/* ---- the command ---- */

struct opts {
	bool json, per_cpu, have_dev, watch;
	uint32_t dev;
	double interval;
	unsigned long count;	/* 0: forever */
};

static int usage_error(const char *fmt, const char *arg)
{
	fputs("vnetloop stats: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'vnetloop stats --help'.\n", stderr);
	return VNL_EXIT_USAGE;
}

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

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "per-cpu", no_argument, NULL, 'p' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
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
		case 'j':
			o->json = true;
			break;
		case 'p':
			o->per_cpu = true;
			break;
		case 'i':
			errno = 0;
			o->interval = strtod(optarg, &end);
			if (errno || *end || !isfinite(o->interval) ||
			    o->interval < 0.001 || o->interval > 86400)
				return usage_error("bad interval '%s' (seconds, 0.001 to 86400)",
						   optarg);
			o->watch = true;
			break;
		case 'c':
			if (parse_u32(optarg, &n) || !n)
				return usage_error("bad count '%s' (a positive number)",
						   optarg);
			o->count = n;
			have_count = true;
			break;
		case 'h':
			fputs(stats_usage, stdout);
			return -1;
		case ':':
			return usage_error("option '%s' needs an argument",
					   argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (optind < argc) {
		if (parse_u32(argv[optind], &o->dev))
			return usage_error("bad device '%s' (a device number)",
					   argv[optind]);
		o->have_dev = true;
		optind++;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (have_count && !o->watch)
		return usage_error("%s needs --interval", "--count");
	if (o->watch && o->per_cpu)
		return usage_error("%s cannot be combined with --interval",
				   "--per-cpu");
	return 0;
}

static int no_devices(void)
{
	fprintf(stderr, "vnetloop: no vnetloop devices (a device lives while a process holds /dev/vnetloop open)\n");
	return VNL_EXIT_NO_DEVICES;
}

/* The devices asked for: one by id, or all of them. */
static int fetch(struct vnl_nl *nl, const struct opts *o,
		 struct vnl_dev_list *l)
{
	int err;

	if (!o->have_dev)
		return vnl_nl_dump(nl, o->per_cpu, l);
	l->n = 0;
	l->devs = calloc(1, sizeof(*l->devs));
	if (!l->devs)
		return -ENOMEM;
	err = vnl_nl_get(nl, o->dev, o->per_cpu, &l->devs[0]);
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
	if (o->json) {
		vnl_stats_json(stdout, &l, o->per_cpu);
	} else {
		for (size_t i = 0; i < l.n; i++) {
			if (i)
				fputc('\n', stdout);
			vnl_stats_table(stdout, &l.devs[i], o->per_cpu);
		}
	}
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
			vnl_stats_interval(stdout, &cur.devs[i], delta,
					   tcur - tprev, ts, o->json);
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
	vnl_nl_init(&nl, stderr);
	ret = vnl_nl_open(&nl);
	if (ret) {
		ret = vnl_nl_report(&nl, ret);
		vnl_nl_close(&nl);
		return ret;
	}
	ret = o.watch ? watch(&nl, &o) : show_once(&nl, &o);
	vnl_nl_close(&nl);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "vnetloop: writing the output failed: %s\n",
			strerror(errno));
		return VNL_EXIT_FAIL;
	}
	return ret;
}
