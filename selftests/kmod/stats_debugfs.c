// SPDX-License-Identifier: GPL-2.0
/*
 * The debugfs side of stats.h. vnetloop/<id>/counters holds a header line
 * "cpu <counter names...>", one "cpuN <values...>" line per possible CPU and a
 * "total <values...>" line, columns in counter id order.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "stats.h"

#define VNL_DEBUGFS_MAGIC	0x64626720	/* DEBUGFS_MAGIC */

const char *vnl_debugfs_missing(void)
{
	struct statfs fs;

	if (statfs(VNL_DEBUGFS_ROOT, &fs))
		return "debugfs is not available: " VNL_DEBUGFS_ROOT
		       " does not exist";
	if ((unsigned long)fs.f_type != VNL_DEBUGFS_MAGIC)
		return "debugfs is not mounted on " VNL_DEBUGFS_ROOT;
	if (access(VNL_DEBUGFS_ROOT, R_OK | X_OK))
		return "no permission to read " VNL_DEBUGFS_ROOT
		       " (run as root)";
	return NULL;
}

static int vnl_all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* Parse exactly VNETLOOP_NUM_COUNTERS decimal u64 values from strtok. */
static int vnl_parse_values(char **save, uint64_t *v)
{
	char *tok, *end;
	int i;

	for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++) {
		tok = strtok_r(NULL, " \t\n", save);
		if (!tok || !isdigit((unsigned char)*tok))
			return -EINVAL;
		errno = 0;
		v[i] = strtoull(tok, &end, 10);
		if (errno || *end)
			return -EINVAL;
	}
	return strtok_r(NULL, " \t\n", save) ? -EINVAL : 0;
}

static bool vnl_header_ok(char *line)
{
	char *save, *tok = strtok_r(line, " \t\n", &save);
	int i;

	if (!tok || strcmp(tok, "cpu"))
		return false;
	for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++) {
		tok = strtok_r(NULL, " \t\n", &save);
		if (!tok || strcmp(tok, vnl_counter_names[i]))
			return false;
	}
	return !strtok_r(NULL, " \t\n", &save);
}

int vnl_dbg_read(uint32_t dev_id, struct vnl_dbg_dev *out)
{
	static unsigned char cpu_seen[VNL_MAX_CPUS];
	uint64_t v[VNETLOOP_NUM_COUNTERS];
	char path[128], *line = NULL, *save, *tok;
	size_t cap = 0;
	bool first = true;
	FILE *f;
	int i;

	memset(out, 0, sizeof(*out));
	memset(cpu_seen, 0, sizeof(cpu_seen));
	snprintf(path, sizeof(path), VNL_DEBUGFS_DIR "/%u/counters", dev_id);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		if (first) {
			first = false;
			out->header_ok = vnl_header_ok(line);
			continue;
		}
		tok = strtok_r(line, " \t\n", &save);
		if (!tok || vnl_parse_values(&save, v)) {
			out->bad_lines++;
		} else if (!strcmp(tok, "total")) {
			if (out->has_total)
				out->bad_lines++;
			out->has_total = true;
			memcpy(out->total, v, sizeof(v));
		} else if (!strncmp(tok, "cpu", 3) && vnl_all_digits(tok + 3)) {
			long cpu = strtol(tok + 3, NULL, 10);

			if (cpu < VNL_MAX_CPUS && cpu_seen[cpu]++)
				out->cpu_dup++;
			out->ncpu++;
			for (i = 0; i < VNETLOOP_NUM_COUNTERS; i++)
				out->cpu_sum[i] += v[i];
		} else {
			out->bad_lines++;
		}
	}
	free(line);
	fclose(f);
	return 0;
}

int vnl_dbg_dev_exists(uint32_t dev_id)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), VNL_DEBUGFS_DIR "/%u", dev_id);
	if (!stat(path, &st))
		return S_ISDIR(st.st_mode);
	return errno == ENOENT ? 0 : -errno;
}

int vnl_dbg_list(uint32_t *ids, size_t max, size_t *n)
{
	struct dirent *e;
	DIR *d;

	*n = 0;
	d = opendir(VNL_DEBUGFS_DIR);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (!vnl_all_digits(e->d_name))
			continue;
		if (*n < max)
			ids[*n] = (uint32_t)strtoul(e->d_name, NULL, 10);
		(*n)++;
	}
	closedir(d);
	return *n > max ? -E2BIG : 0;
}

int vnl_possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");
	int count = 0, a, b;
	char sep;

	if (!f)
		return -errno;
	/* A list of "a" or "a-b" ranges separated by commas. */
	while (fscanf(f, "%d", &a) == 1) {
		b = a;
		sep = (char)fgetc(f);
		if (sep == '-') {
			if (fscanf(f, "%d", &b) != 1)
				break;
			sep = (char)fgetc(f);
		}
		count += b - a + 1;
		if (sep != ',')
			break;
	}
	fclose(f);
	return count > 0 ? count : -EINVAL;
}
