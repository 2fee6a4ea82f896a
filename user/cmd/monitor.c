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

#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "user/cmd/stats.h"
#include "user/commands.h"
#include "user/nl/nl.h"

static const char monitor_usage[] =
"usage: vnetloop monitor [--json]\n"
"\n"
"Print the events of the vnetloop module (generic netlink family \"vnetloop\",\n"
"multicast group \"events\") as they arrive, one line each, with a UTC\n"
"timestamp: dev_created, dev_destroyed (with the owner's pid) and\n"
"queue_poisoned (queue 0 = rx, 1 = tx, named from the guest's side).\n"
"Runs until SIGINT or SIGTERM (exit 0) or until the module is unloaded.\n"
"\n"
"  -j, --json   one JSON object per line: \"time\", \"event\", \"dev_id\" and\n"
"               \"owner_pid\" or \"queue\"\n"
"  -h, --help   this text\n"
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

void vnl_monitor_print(FILE *f, const struct vnl_event *ev, const char *ts,
		       bool json)
{
	const char *name = event_names[ev->type];

	if (json) {
		fprintf(f, "{\"time\":\"%s\",\"event\":\"%s\",\"dev_id\":%" PRIu32,
			ts, name, ev->dev_id);
		if (ev->has_owner_pid)
			fprintf(f, ",\"owner_pid\":%" PRIu32, ev->owner_pid);
		if (ev->has_queue)
			fprintf(f, ",\"queue\":%" PRIu32 ",\"queue_name\":\"%s\"",
				ev->queue, queue_name(ev->queue));
		fputs("}\n", f);
		return;
	}
	fprintf(f, "%s  %-14s  device %" PRIu32, ts, name, ev->dev_id);
	if (ev->has_owner_pid)
		fprintf(f, "  owner pid %" PRIu32, ev->owner_pid);
	if (ev->has_queue)
		fprintf(f, "  queue %" PRIu32 " (%s)", ev->queue,
			queue_name(ev->queue));
	fputc('\n', f);
}

struct mon {
	struct vnl_nl *nl;
	bool json;
	bool gone;		/* the family was unregistered */
	bool warned_cmd;
};

static int event_cb(struct nl_msg *msg, void *arg)
{
	struct mon *m = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct vnl_event ev;
	char ts[40];

	vnl_timestamp(ts, sizeof(ts), 6);
	if (vnl_nl_parse_event(m->nl, nlh, &ev)) {
		fprintf(stderr, "vnetloop: warning: ignoring a malformed event\n");
		return NL_SKIP;
	}
	switch (ev.type) {
	case VNL_EV_FAMILY_GONE:
		m->gone = true;
		return NL_STOP;
	case VNL_EV_OTHER:
		if (nlh->nlmsg_type == m->nl->family_id && !m->warned_cmd) {
			m->warned_cmd = true;
			fprintf(stderr, "vnetloop: warning: ignoring unknown event command %u (the module is newer than this tool)\n",
				ev.cmd);
		}
		return NL_SKIP;
	default:
		vnl_monitor_print(stdout, &ev, ts, m->json);
		fflush(stdout);
		return NL_OK;
	}
}

static int parse_opts(int argc, char **argv, bool *json)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*json = false;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			*json = true;
			break;
		case 'h':
			fputs(monitor_usage, stdout);
			return -1;
		default:
			fprintf(stderr, "vnetloop monitor: unknown option '%s'\nTry 'vnetloop monitor --help'.\n",
				argv[optind - 1]);
			return VNL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vnetloop monitor: unexpected argument '%s'\nTry 'vnetloop monitor --help'.\n",
			argv[optind]);
		return VNL_EXIT_USAGE;
	}
	return 0;
}

/* Receive until a signal or the family's removal; returns the exit code. */
static int loop(struct vnl_nl *nl, struct mon *m, int sfd)
{
	struct pollfd pfd[2] = {
		{ .fd = nl_socket_get_fd(nl->sk), .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
	};
	int err;

	while (!m->gone) {
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
		err = nl_recvmsgs_default(nl->sk);
		if (err == -NLE_AGAIN || err >= 0)
			continue;
		if (err == -NLE_NOMEM) {
			/* ENOBUFS: the kernel dropped events for us. */
			fprintf(stderr, "vnetloop: warning: events were lost (socket receive buffer overrun)\n");
			continue;
		}
		fprintf(stderr, "vnetloop: receiving events failed: %s\n",
			nl_geterror(err));
		return VNL_EXIT_FAIL;
	}
	fprintf(stderr, "vnetloop: the module was unloaded (generic netlink family '%s' is gone)\n",
		VNETLOOP_GENL_NAME);
	return VNL_EXIT_NO_MODULE;
}

int cmd_monitor(int argc, char **argv)
{
	struct mon m = { 0 };
	struct vnl_nl nl;
	sigset_t sigs;
	int ret, sfd;

	ret = parse_opts(argc, argv, &m.json);
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

	vnl_nl_init(&nl, stderr);
	m.nl = &nl;
	ret = vnl_nl_open(&nl);
	if (!ret)
		ret = vnl_nl_subscribe(&nl);
	if (ret) {
		ret = vnl_nl_report(&nl, ret);
		goto out;
	}
	nl_socket_modify_cb(nl.sk, NL_CB_VALID, NL_CB_CUSTOM, event_cb, &m);
	nl_socket_set_nonblocking(nl.sk);
	/* Room for bursts, such as many devices closing at once. */
	nl_socket_set_buffer_size(nl.sk, 1 << 20, 0);
	fprintf(stderr, "vnetloop: listening to the events of '%s'\n",
		VNETLOOP_GENL_NAME);
	ret = loop(&nl, &m, sfd);
out:
	vnl_nl_close(&nl);
	close(sfd);
	return ret;
}
