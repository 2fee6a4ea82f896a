/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A JSON writer. Values, keys, objects and arrays are written in order; the
 * writer puts the commas, quotes and escapes, and with pretty the newlines
 * and two-space indentation. A top-level value ends with a newline, so a
 * series of them is JSON lines.
 *
 * Strings are escaped for any input: '"', '\\' and the control characters
 * (\b \f \n \r \t by name, the others and DEL as \u00XX); valid UTF-8 passes
 * through as it is; a byte that is not part of valid UTF-8 (a stray
 * continuation byte, an overlong form, a surrogate, past U+10FFFF, a cut
 * sequence) becomes U+FFFD, so the output is always valid UTF-8 and JSON.
 *
 * Misuse writes nothing and leaves -EINVAL in err: a key outside an object
 * or twice, a value in an object without its key, a close that does not
 * match, nesting deeper than JSON_MAX_DEPTH. Once err is set the writer
 * writes nothing more.
 */
#ifndef VNETLOOP_JSON_H
#define VNETLOOP_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH	16

struct json_writer {
	FILE *f;
	bool pretty;
	int err;			/* 0, or -EINVAL after a misuse */
	bool key;			/* a key is written, its value is due */
	unsigned int depth;		/* open objects and arrays */
	struct {
		bool array;
		bool empty;		/* nothing in it yet */
	} open[JSON_MAX_DEPTH];
};

void json_init(struct json_writer *w, FILE *f, bool pretty);

void json_key(struct json_writer *w, const char *key);
void json_open_object(struct json_writer *w);
void json_close_object(struct json_writer *w);
void json_open_array(struct json_writer *w);
void json_close_array(struct json_writer *w);

/* s as a string; NULL as null. */
void json_string(struct json_writer *w, const char *s);
void json_u64(struct json_writer *w, uint64_t v);
void json_s64(struct json_writer *w, int64_t v);
/* v with prec digits after the point; NaN and infinities as null. */
void json_double(struct json_writer *w, int prec, double v);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);
/* A number or true, false or null, formatted already: written as it is. */
void json_literal(struct json_writer *w, const char *tok);

/* The innermost open container is an array. */
bool json_in_array(const struct json_writer *w);

/* s as a JSON string literal, quotes included. */
void json_write_string(FILE *f, const char *s);

#endif /* VNETLOOP_JSON_H */
