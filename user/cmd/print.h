/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one output path of the subcommands, text or JSON, after iproute2's
 * print_*() functions: the mode is chosen once (out_begin()), then each
 * print_*() call writes its value in that mode's form.
 *
 *   key  the value's JSON key. NULL inside an array: an element. NULL
 *        anywhere else: the call is for the text only, JSON skips it.
 *   fmt  the value's text form, a printf format with one conversion of the
 *        value's type (PRIu64, PRId64, %f, %s) and any text around it.
 *        NULL: the call is for JSON only.
 *
 * Where the two forms have the same fields in the same order one call
 * serves both; where they differ (a table, a sentence, extra fields) the
 * calls say which form they are for. open_object()/open_array() and their
 * close are JSON structure only; print_text() is text only.
 *
 * The text's layout is the callers'; the JSON's is the writer's (json.h):
 * compact, one line per top-level value, or indented with pretty.
 */
#ifndef VNETLOOP_PRINT_H
#define VNETLOOP_PRINT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Write to f from now on, as JSON (pretty: indented) or as text. */
void out_begin(FILE *f, bool json, bool pretty);
/*
 * Flush; 0, -EINVAL if the JSON was misused (unclosed, a missing key), or
 * -EIO if writing failed (errno says why).
 */
int out_end(void);
bool out_json(void);

void print_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* fmt's conversion: PRIu64 for print_u64(), PRId64 for print_s64(). */
void print_u64(const char *key, const char *fmt, uint64_t v);
void print_s64(const char *key, const char *fmt, int64_t v);
/* JSON: prec digits after the point (NaN, inf: null); text: fmt's %f. */
void print_float(const char *key, int prec, const char *fmt, double v);
/* s NULL: JSON null, no text. */
void print_string(const char *key, const char *fmt, const char *s);
/* JSON: true or false; text: fmt with "true" or "false". */
void print_bool(const char *key, const char *fmt, bool v);
void print_null(const char *key);

void open_object(const char *key);
void close_object(void);
void open_array(const char *key);
void close_array(void);

#endif /* VNETLOOP_PRINT_H */
