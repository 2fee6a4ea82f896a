/* SPDX-License-Identifier: GPL-2.0 */
/* The vnetloop subcommands; each returns the process exit code. */
#ifndef VNETLOOP_COMMANDS_H
#define VNETLOOP_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_monitor(int argc, char **argv);

#endif
