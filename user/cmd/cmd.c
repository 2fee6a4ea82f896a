// SPDX-License-Identifier: GPL-2.0
/* What the subcommands share (user/commands.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "user/cmd/print.h"
#include "user/commands.h"

int usage_error(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "vnetloop %s: ", cmd);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'vnetloop %s --help'.\n", cmd);
	return CMD_EXIT_USAGE;
}

int opt_error(const char *cmd, int opt, char **argv)
{
	/* getopt_long() has moved optind past the option it rejects. */
	return usage_error(cmd, opt == ':' ? "option '%s' needs an argument" :
			   "unknown option '%s'", argv[optind - 1]);
}

bool cmd_set(const struct cmd_setting *t, int opt, const char *arg)
{
	for (; t->opt && t->opt != opt; t++)
		;
	if (t->flag)
		*t->flag = t->value;
	else if (t->arg)
		*t->arg = arg;
	return t->opt;
}

int out_finish(int code)
{
	int err = out_end();

	if (!err)
		return code;
	fprintf(stderr, "vnetloop: writing the output failed: %s\n",
		err == -EIO ? strerror(errno) : "malformed JSON (a bug)");
	return 1;
}
