// SPDX-License-Identifier: GPL-2.0
/* The output path of the subcommands (print.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>

#include "user/cmd/json.h"
#include "user/cmd/print.h"

static struct {
	FILE *f;		/* NULL until out_begin(): text on stdout */
	bool json;
	struct json_writer w;
} out;

void out_begin(FILE *f, bool json, bool pretty)
{
	out.f = f;
	out.json = json;
	json_init(&out.w, f, pretty);
}

int out_end(void)
{
	FILE *f = out.f ? out.f : stdout;
	int err = 0;

	if (out.json && (out.w.err || out.w.depth || out.w.key))
		err = -EINVAL;
	if (fflush(f) || ferror(f))
		err = err ? err : -EIO;
	return err;
}

bool out_json(void)
{
	return out.json;
}

void print_text(const char *fmt, ...)
{
	va_list ap;

	if (out.json)
		return;
	va_start(ap, fmt);
	vfprintf(out.f ? out.f : stdout, fmt, ap);
	va_end(ap);
}

/*
 * One value: in JSON the literal tok, or the string str when tok is NULL;
 * in text fmt with the arguments after it.
 */
static void print_value(const char *key, const char *tok, const char *str,
			const char *fmt, ...)
{
	va_list ap;

	if (!out.json) {
		if (!fmt)
			return;
		va_start(ap, fmt);
		vfprintf(out.f ? out.f : stdout, fmt, ap);
		va_end(ap);
		return;
	}
	if (key)
		json_key(&out.w, key);
	else if (!json_in_array(&out.w))
		return;		/* text only */
	if (tok)
		json_literal(&out.w, tok);
	else
		json_string(&out.w, str);
}

void print_u64(const char *key, const char *fmt, uint64_t v)
{
	char tok[24];

	snprintf(tok, sizeof(tok), "%" PRIu64, v);
	print_value(key, tok, NULL, fmt, v);
}

void print_s64(const char *key, const char *fmt, int64_t v)
{
	char tok[24];

	snprintf(tok, sizeof(tok), "%" PRId64, v);
	print_value(key, tok, NULL, fmt, v);
}

void print_float(const char *key, int prec, const char *fmt, double v)
{
	char tok[512] = "null";

	if (isfinite(v))
		snprintf(tok, sizeof(tok), "%.*f", prec, v);
	print_value(key, tok, NULL, fmt, v);
}

void print_string(const char *key, const char *fmt, const char *s)
{
	print_value(key, s ? NULL : "null", s, s ? fmt : NULL, s);
}

void print_bool(const char *key, const char *fmt, bool v)
{
	const char *word = v ? "true" : "false";

	print_value(key, word, NULL, fmt, word);
}

void print_null(const char *key)
{
	print_value(key, "null", NULL, NULL);
}

/* An object or array: its key, or an element of the array it is in. */
static void open_container(const char *key, bool array)
{
	if (!out.json)
		return;
	if (key)
		json_key(&out.w, key);
	if (array)
		json_open_array(&out.w);
	else
		json_open_object(&out.w);
}

void open_object(const char *key)
{
	open_container(key, false);
}

void close_object(void)
{
	if (out.json)
		json_close_object(&out.w);
}

void open_array(const char *key)
{
	open_container(key, true);
}

void close_array(void)
{
	if (out.json)
		json_close_array(&out.w);
}
