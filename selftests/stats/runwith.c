// SPDX-License-Identifier: GPL-2.0
/*
 * runwith: run a command in the conditions a stats test needs.
 *
 *   -d  socket(AF_NETLINK, ...) fails with EACCES, which is how a security
 *       module's denial (SELinux netlink_generic_socket, AppArmor network
 *       rules) looks to the program; done with a seccomp filter.
 *   -s  SIGINT and SIGTERM back to their default action: a shell starts
 *       background commands with SIGINT ignored.
 *   -u UID  drop to user and group UID, without supplementary groups (the
 *       rig's busybox has no user database for su).
 *
 * usage: runwith [-d] [-s] [-u UID] COMMAND [ARG...]
 */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "runwith: add this architecture's AUDIT_ARCH"
#endif

static int deny_netlink(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(f) / sizeof(f[0]),
		.filter = f,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return -errno;
	return 0;
}

static int drop_to(const char *arg)
{
	char *end;
	unsigned long id = strtoul(arg, &end, 10);

	if (!*arg || *end || id > 65535)
		return -EINVAL;
	if (setgroups(0, NULL) || setgid((gid_t)id) || setuid((uid_t)id))
		return -errno;
	return 0;
}

#define USAGE "usage: runwith [-d] [-s] [-u UID] COMMAND [ARG...]\n"

int main(int argc, char **argv)
{
	int opt, err;

	while ((opt = getopt(argc, argv, "+dsu:")) != -1) {
		switch (opt) {
		case 'd':
			err = deny_netlink();
			if (err) {
				fprintf(stderr, "runwith: seccomp: %s\n",
					strerror(-err));
				return 1;
			}
			break;
		case 's':
			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			break;
		case 'u':
			err = drop_to(optarg);
			if (err) {
				fprintf(stderr, "runwith: -u %s: %s\n", optarg,
					strerror(-err));
				return 1;
			}
			break;
		default:
			fputs(USAGE, stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fputs(USAGE, stderr);
		return 2;
	}
	execvp(argv[optind], argv + optind);
	fprintf(stderr, "runwith: %s: %s\n", argv[optind], strerror(errno));
	return 127;
}
