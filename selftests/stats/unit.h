/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the host unit tests of selftests/stats share: TAP results, and the
 * output of a print.h call captured as a string.
 */
#ifndef VNL_STATS_UNIT_H
#define VNL_STATS_UNIT_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user/cmd/print.h"

static int test_no, failures;

static inline void ok(int cond, const char *name)
{
	test_no++;
	if (!cond)
		failures++;
	printf("%sok %d %s\n", cond ? "" : "not ", test_no, name);
}

static inline bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* The plan, last, and the exit status. */
static inline int done(void)
{
	printf("# %d tests, %d failed\n1..%d\n", test_no, failures, test_no);
	return failures ? 1 : 0;
}

/*
 * What fn(arg) prints in the given mode (malloc'd); *err gets out_end()'s
 * verdict when err is not NULL.
 */
static inline char *printed(void (*fn)(const void *arg), const void *arg,
			    bool json, bool pretty, int *err)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	int e;

	if (!f) {
		perror("open_memstream");
		exit(1);
	}
	out_begin(f, json, pretty);
	fn(arg);
	e = out_end();
	if (err)
		*err = e;
	fclose(f);
	return buf;
}

/* ok() if fn(arg) prints exactly want in that mode, and ends cleanly. */
static inline void ok_printed(void (*fn)(const void *arg), const void *arg,
			      bool json, bool pretty, const char *want,
			      const char *name)
{
	int err;
	char *s = printed(fn, arg, json, pretty, &err);
	bool same = !err && !strcmp(s, want);

	if (!same)
		printf("# got (out_end %d):\n%s# want:\n%s", err, s, want);
	ok(same, name);
	free(s);
}

#endif /* VNL_STATS_UNIT_H */
