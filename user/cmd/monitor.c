// SPDX-License-Identifier: GPL-2.0
/*
 * vnetloop monitor: print the module's multicast events as they arrive,
 * each with a UTC timestamp taken on receipt.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "user/cmd/print.h"
#include "user/cmd/stats.h"
#include "user/commands.h"
#include "user/nl/nl.h"

static const char monitor_usage[] =
"usage: vnetloop monitor [--json [--pretty]]\n"
"\n"
"Print the events of the vnetloop module (generic netlink family \"vnetloop\",\n"
"multicast group \"events\") as they arrive, one line each, with a UTC\n"
"timestamp: dev_created, dev_destroyed (with the owner's pid) and\n"
"queue_poisoned (queue 0 = rx, 1 = tx, named from the guest's side).\n"
"Runs until SIGINT or SIGTERM (exit 0) or until the module is unloaded.\n"
"\n"
"  -j, --json     one JSON object per line: \"time\", \"event\", \"dev_id\" and\n"
"                 \"owner_pid\" or \"queue\"\n"
"  -p, --pretty   with --json: each object indented over several lines\n"
"  -h, --help     this text\n"
"\n"
"Exit status: 0 stopped by a signal, 1 other failure, 2 usage error,\n"
"3 module not loaded or unloaded while monitoring, 6 permission denied,\n"
"7 unknown family version.\n";

static const char *const event_names[] = {
	[VNL_EV_DEV_CREATED] = "dev_created",
	[VNL_EV_DEV_DESTROYED] = "dev_destroyed",
	[VNL_EV_QUEUE_POISONED] = "queue_poisoned",
};

static const char *queue_name(uint32_t q)
{
	switch (q) {
	case VNETLOOP_QUEUE_RX:
		return "rx";
	case VNETLOOP_QUEUE_TX:
		return "tx";
	default:
		return "?";
	}
}

void vnl_monitor_print(const struct vnl_nl_event *ev, const char *ts)
{
	open_object(NULL);
	print_string("time", "%s", ts);
	print_string("event", "  %-14s", event_names[ev->type]);
	print_u64("dev_id", "  device %" PRIu64, ev->dev_id);
	if (ev->has_owner_pid)
		print_u64("owner_pid", "  owner pid %" PRIu64, ev->owner_pid);
	if (ev->has_queue) {
		print_u64("queue", "  queue %" PRIu64, ev->queue);
		print_string("queue_name", " (%s)", queue_name(ev->queue));
	}
	print_text("\n");
	close_object();
}

/* Print an event; non-zero (stop) once the family is gone. */
static int on_event(const struct vnl_nl_event *ev, void *arg)
{
	char ts[40];

	(void)arg;
	if (ev->type == VNL_EV_FAMILY_GONE)
		return 1;
	vnl_timestamp(ts, sizeof(ts), 6);
	vnl_monitor_print(ev, ts);
	fflush(stdout);
	return 0;
}

static int parse_opts(int argc, char **argv, bool *json, bool *pretty)
{
	static const struct option longopts[] = {
		CMD_OUTPUT_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd_setting flags[] = {
		{ 'j', .flag = json, .value = true },
		{ 'p', .flag = pretty, .value = true },
		{ 0 },
	};
	int opt;

	*json = *pretty = false;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":jph", longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(monitor_usage, stdout);
			return -1;
		}
		if (!cmd_set(flags, opt, optarg))
			return opt_error("monitor", opt, argv);
	}
	if (optind < argc)
		return usage_error("monitor", "unexpected argument '%s'",
				   argv[optind]);
	if (*pretty && !*json)
		return usage_error("monitor", "%s needs --json", "-p/--pretty");
	return 0;
}

/* Receive until a signal or the family's removal; returns the exit code. */
static int loop(struct vnl_nl *nl, int sfd)
{
	struct pollfd pfd[2] = {
		{ .fd = vnl_nl_fd(nl), .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
	};
	int err;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "vnetloop: poll: %s\n", strerror(errno));
			return VNL_EXIT_FAIL;
		}
		if (pfd[1].revents)
			return VNL_EXIT_OK;
		if (!pfd[0].revents)
			continue;
		err = vnl_nl_read_events(nl, on_event, NULL);
		if (err > 0)
			break;
		if (err == -ENOBUFS)
			fprintf(stderr, "vnetloop: warning: %s\n", nl->err);
		else if (err)
			return vnl_nl_report(nl, err);
	}
	fprintf(stderr, "vnetloop: the module was unloaded (generic netlink family '%s' is gone)\n",
		VNETLOOP_GENL_NAME);
	return VNL_EXIT_NO_MODULE;
}

int cmd_monitor(int argc, char **argv)
{
	struct vnl_nl nl;
	bool json, pretty;
	sigset_t sigs;
	int ret, sfd;

	ret = parse_opts(argc, argv, &json, &pretty);
	if (ret)
		return ret < 0 ? VNL_EXIT_OK : ret;

	/* Signals arrive through a descriptor, so poll() sees them too. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sfd < 0) {
		fprintf(stderr, "vnetloop: signalfd: %s\n", strerror(errno));
		return VNL_EXIT_FAIL;
	}

	out_begin(stdout, json, pretty);
	vnl_nl_init(&nl, stderr);
	ret = vnl_nl_open(&nl);
	if (!ret)
		ret = vnl_nl_subscribe(&nl);
	if (ret) {
		ret = vnl_nl_report(&nl, ret);
	} else {
		fprintf(stderr, "vnetloop: listening to the events of '%s'\n",
			VNETLOOP_GENL_NAME);
		ret = loop(&nl, sfd);
	}
	vnl_nl_close(&nl);
	close(sfd);
	return out_finish(ret);
}
