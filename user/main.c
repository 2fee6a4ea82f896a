// SPDX-License-Identifier: GPL-2.0
/* vnetloop: dispatch to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "user/commands.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "run", cmd_run, "run a KVM guest with the loopback NIC" },
	{ "stats", cmd_stats, "show the module's counters (generic netlink)" },
	{ "monitor", cmd_monitor, "print the module's events as they happen" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: vnetloop COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n'vnetloop COMMAND --help' describes each command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "vnetloop: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
