// SPDX-License-Identifier: GPL-2.0
/* The JSON writer (json.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>

#include "user/cmd/json.h"

void json_init(struct json_writer *w, FILE *f, bool pretty)
{
	*w = (struct json_writer) { .f = f, .pretty = pretty };
}

/*
 * The length of the valid UTF-8 sequence s starts with (2 to 4), or 0.
 * Stops at the first byte that cannot continue it, so never reads past a
 * terminating NUL.
 */
static int utf8_seq(const unsigned char *s)
{
	unsigned char c = s[0];
	int n;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;	/* a continuation byte, C0/C1, or F5 and up */
	/* The second byte's range rules out overlongs, surrogates, > U+10FFFF. */
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
	    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
		return 0;
	for (int i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void json_write_string(FILE *f, const char *str)
{
	static const char named[] = {
		['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r',
		['\t'] = 't',
	};
	const unsigned char *s = (const unsigned char *)str;
	int n;

	fputc('"', f);
	while (*s) {
		if (*s == '"' || *s == '\\') {
			fputc('\\', f);
			fputc(*s++, f);
		} else if (*s < sizeof(named) && named[*s]) {
			fputc('\\', f);
			fputc(named[*s++], f);
		} else if (*s < 0x20 || *s == 0x7f) {
			fprintf(f, "\\u%04x", *s++);
		} else if (*s < 0x80) {
			fputc(*s++, f);
		} else if ((n = utf8_seq(s))) {
			fwrite(s, 1, n, f);
			s += n;
		} else {
			fputs("\\ufffd", f);
			s++;
		}
	}
	fputc('"', f);
}

static bool misuse(struct json_writer *w)
{
	w->err = -EINVAL;
	return false;
}

/* The comma and, pretty, the line and indentation before an item. */
static void item_sep(struct json_writer *w)
{
	if (!w->open[w->depth - 1].empty)
		fputc(',', w->f);
	w->open[w->depth - 1].empty = false;
	if (w->pretty)
		fprintf(w->f, "\n%*s", 2 * (int)w->depth, "");
}

/* Before a value: false (and nothing written) if none may come here. */
static bool value_begin(struct json_writer *w)
{
	if (w->err)
		return false;
	if (!w->depth)
		return true;
	if (json_in_array(w)) {
		item_sep(w);
		return true;
	}
	if (!w->key)
		return misuse(w);
	w->key = false;
	return true;
}

/* After a value: a top-level one ends its line. */
static void value_end(struct json_writer *w)
{
	if (!w->depth)
		fputc('\n', w->f);
}

bool json_in_array(const struct json_writer *w)
{
	return w->depth && w->open[w->depth - 1].array;
}

void json_key(struct json_writer *w, const char *key)
{
	if (w->err)
		return;
	if (!w->depth || json_in_array(w) || w->key) {
		misuse(w);
		return;
	}
	item_sep(w);
	json_write_string(w->f, key);
	fputs(w->pretty ? ": " : ":", w->f);
	w->key = true;
}

static void open_container(struct json_writer *w, bool array)
{
	if (w->depth == JSON_MAX_DEPTH) {
		misuse(w);
		return;
	}
	if (!value_begin(w))
		return;
	fputc(array ? '[' : '{', w->f);
	w->open[w->depth].array = array;
	w->open[w->depth].empty = true;
	w->depth++;
}

static void close_container(struct json_writer *w, bool array)
{
	bool empty;

	if (w->err)
		return;
	if (!w->depth || json_in_array(w) != array || w->key) {
		misuse(w);
		return;
	}
	empty = w->open[--w->depth].empty;
	if (w->pretty && !empty)
		fprintf(w->f, "\n%*s", 2 * (int)w->depth, "");
	fputc(array ? ']' : '}', w->f);
	value_end(w);
}

void json_open_object(struct json_writer *w)
{
	open_container(w, false);
}

void json_close_object(struct json_writer *w)
{
	close_container(w, false);
}

void json_open_array(struct json_writer *w)
{
	open_container(w, true);
}

void json_close_array(struct json_writer *w)
{
	close_container(w, true);
}

void json_string(struct json_writer *w, const char *s)
{
	if (!s) {
		json_null(w);
		return;
	}
	if (!value_begin(w))
		return;
	json_write_string(w->f, s);
	value_end(w);
}

void json_literal(struct json_writer *w, const char *tok)
{
	if (!value_begin(w))
		return;
	fputs(tok, w->f);
	value_end(w);
}

void json_u64(struct json_writer *w, uint64_t v)
{
	char tok[24];

	snprintf(tok, sizeof(tok), "%" PRIu64, v);
	json_literal(w, tok);
}

void json_s64(struct json_writer *w, int64_t v)
{
	char tok[24];

	snprintf(tok, sizeof(tok), "%" PRId64, v);
	json_literal(w, tok);
}

void json_double(struct json_writer *w, int prec, double v)
{
	char tok[512];

	if (isfinite(v))
		snprintf(tok, sizeof(tok), "%.*f", prec, v);
	json_literal(w, isfinite(v) ? tok : "null");
}

void json_bool(struct json_writer *w, bool v)
{
	json_literal(w, v ? "true" : "false");
}

void json_null(struct json_writer *w)
{
	json_literal(w, "null");
}
