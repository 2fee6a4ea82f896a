/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The vnetloop subcommands, each returning the process exit code, and what
 * their command lines and their endings share (user/cmd/cmd.c).
 */
#ifndef VNETLOOP_COMMANDS_H
#define VNETLOOP_COMMANDS_H

#include <stdbool.h>

int cmd_run(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_monitor(int argc, char **argv);

/* Every subcommand's exit code for a bad command line. */
#define CMD_EXIT_USAGE	2

/*
 * "vnetloop CMD: " + fmt with arg, then where the help is, on stderr;
 * returns CMD_EXIT_USAGE.
 */
int usage_error(const char *cmd, const char *fmt, const char *arg)
	__attribute__((format(printf, 2, 0)));
/* The same for getopt_long()'s ':' (no argument) and '?' (unknown). */
int opt_error(const char *cmd, int opt, char **argv);

/* The options every subcommand with output has (getopt_long() entries). */
#define CMD_OUTPUT_OPTIONS \
	{ "json", no_argument, NULL, 'j' }, \
	{ "pretty", no_argument, NULL, 'p' }, \
	{ "help", no_argument, NULL, 'h' }

/*
 * An option that only sets something: a flag to value, or (flag NULL) a
 * string to the option's argument. A table of them ends with opt 0.
 */
struct cmd_setting {
	int opt;
	bool *flag;
	bool value;
	const char **arg;
};
/* Apply opt's setting, if the table has opt; whether it had. */
bool cmd_set(const struct cmd_setting *t, int opt, const char *arg);
/*
 * End the output (print.h): code, or 1 with a message on stderr when
 * writing it failed.
 */
int out_finish(int code);

#endif
