// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the JSON writer (user/cmd/json.c) and of the print layer
 * over it (user/cmd/print.c): escaping, nesting, pretty output, numbers,
 * misuse, and which form each print_*() call writes. TAP output.
 *
 * json_unit --sample [--pretty] prints a document of every escape and
 * nesting instead, for scripts/check.d/15-stats-unit to read back with jq;
 * json_unit --raw prints the strings of the sample that are valid UTF-8, a
 * line each, which is what jq must decode them to.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "selftests/stats/unit.h"
#include "user/cmd/json.h"
#include "user/cmd/print.h"

#define FFFD "\\ufffd"

/*
 * Strings whose escaping is tested; the sample has them all. The last has
 * every kind of invalid UTF-8, each byte of which becomes one U+FFFD: a
 * stray continuation byte, overlong 2- and 3-byte forms, a surrogate, a
 * code point past U+10FFFF, an F5 lead, and cut sequences before ASCII and
 * at the end.
 */
static const struct {
	const char *name, *in, *want;
} strings[] = {
	{ "empty string", "", "\"\"" },
	{ "quote, backslash, slash", "a\"b\\c/d", "\"a\\\"b\\\\c/d\"" },
	{ "named controls", "\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"" },
	{ "other controls and DEL", "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"" },
	{ "valid UTF-8 passes", "\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e", "\"\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e\"" },
	{ "invalid UTF-8: a U+FFFD a byte", "a\x80 \xc0\xaf \xe0\x80\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xf5 \xe2\x82z \xe2\x82", "\"a" FFFD " " FFFD FFFD " " FFFD FFFD FFFD " " FFFD FFFD FFFD " " FFFD FFFD FFFD FFFD " " FFFD " " FFFD FFFD "z " FFFD FFFD "\"" },
};

#define NSTRINGS (sizeof(strings) / sizeof(strings[0]))

/* A writer into a string. */
struct mem {
	struct json_writer w;
	char *buf;
	size_t len;
	FILE *f;
};

static void mem_open(struct mem *m, bool pretty)
{
	m->buf = NULL;
	m->f = open_memstream(&m->buf, &m->len);
	if (!m->f) {
		perror("open_memstream");
		exit(1);
	}
	json_init(&m->w, m->f, pretty);
}

/* Close the stream; is what was written want (and err as expected)? */
static bool mem_is(struct mem *m, const char *want, int err)
{
	bool same;

	fclose(m->f);
	same = !strcmp(m->buf ? m->buf : "", want) && m->w.err == err;
	if (!same)
		printf("# got '%s' (err %d), want '%s' (err %d)\n",
		       m->buf ? m->buf : "", m->w.err, want, err);
	free(m->buf);
	return same;
}

static void test_strings(void)
{
	char name[96], *buf;
	size_t len;
	FILE *f;

	for (size_t i = 0; i < NSTRINGS; i++) {
		buf = NULL;
		f = open_memstream(&buf, &len);
		json_write_string(f, strings[i].in);
		fclose(f);
		snprintf(name, sizeof(name), "escape: %s", strings[i].name);
		ok(!strcmp(buf, strings[i].want), name);
		free(buf);
	}
}

/* {"a":[1,{"b":[]},[],"x"],"c":{},"d":null} */
static void nested(struct json_writer *w)
{
	json_open_object(w);
	json_key(w, "a");
	json_open_array(w);
	json_u64(w, 1);
	json_open_object(w);
	json_key(w, "b");
	json_open_array(w);
	json_close_array(w);
	json_close_object(w);
	json_open_array(w);
	json_close_array(w);
	json_string(w, "x");
	json_close_array(w);
	json_key(w, "c");
	json_open_object(w);
	json_close_object(w);
	json_key(w, "d");
	json_string(w, NULL);
	json_close_object(w);
}

static void test_nesting(void)
{
	struct mem m;

	mem_open(&m, false);
	nested(&m.w);
	ok(mem_is(&m, "{\"a\":[1,{\"b\":[]},[],\"x\"],\"c\":{},\"d\":null}\n", 0),
	   "nesting: objects in arrays in objects, commas between only");
	mem_open(&m, true);
	nested(&m.w);
	ok(mem_is(&m, "{\n"
		      "  \"a\": [\n"
		      "    1,\n"
		      "    {\n"
		      "      \"b\": []\n"
		      "    },\n"
		      "    [],\n"
		      "    \"x\"\n"
		      "  ],\n"
		      "  \"c\": {},\n"
		      "  \"d\": null\n"
		      "}\n", 0),
	   "pretty: two spaces a level, empty containers on one line");
	mem_open(&m, false);
	json_open_object(&m.w);
	json_close_object(&m.w);
	json_open_array(&m.w);
	json_u64(&m.w, 2);
	json_close_array(&m.w);
	json_bool(&m.w, true);
	ok(mem_is(&m, "{}\n[2]\ntrue\n", 0),
	   "top level: each value ends its line (JSON lines)");
	mem_open(&m, false);
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		json_open_array(&m.w);
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		json_close_array(&m.w);
	ok(mem_is(&m, "[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]\n", 0),
	   "nesting: JSON_MAX_DEPTH levels");
}

static void test_values(void)
{
	struct mem m;

	mem_open(&m, false);
	json_open_array(&m.w);
	json_u64(&m.w, UINT64_MAX);
	json_s64(&m.w, INT64_MIN);
	json_s64(&m.w, -1);
	json_double(&m.w, 3, 2.0 / 3);
	json_double(&m.w, 0, 1e6);
	json_double(&m.w, 2, NAN);
	json_double(&m.w, 2, -INFINITY);
	json_bool(&m.w, false);
	json_null(&m.w);
	json_close_array(&m.w);
	ok(mem_is(&m, "[18446744073709551615,-9223372036854775808,-1,0.667,"
		      "1000000,null,null,false,null]\n", 0),
	   "numbers: full u64 and s64 range, fixed precision, NaN and inf as null");
	mem_open(&m, false);
	json_open_object(&m.w);
	json_key(&m.w, "k\"\n");
	json_u64(&m.w, 1);
	json_close_object(&m.w);
	ok(mem_is(&m, "{\"k\\\"\\n\":1}\n", 0), "keys are escaped as strings are");
	mem_open(&m, true);
	json_string(&m.w, "top");
	json_literal(&m.w, "-1.5e3");
	ok(mem_is(&m, "\"top\"\n-1.5e3\n", 0),
	   "top level: a string and a literal as they are, pretty or not");
}

static void test_misuse(void)
{
	struct mem m;

	mem_open(&m, false);
	json_key(&m.w, "k");
	json_u64(&m.w, 1);
	ok(mem_is(&m, "", -EINVAL), "misuse: a key at the top level");
	mem_open(&m, false);
	json_open_object(&m.w);
	json_u64(&m.w, 1);
	ok(mem_is(&m, "{", -EINVAL), "misuse: a value in an object without a key");
	mem_open(&m, false);
	json_open_object(&m.w);
	json_key(&m.w, "a");
	json_key(&m.w, "b");
	ok(mem_is(&m, "{\"a\":", -EINVAL), "misuse: two keys in a row");
	mem_open(&m, false);
	json_open_array(&m.w);
	json_key(&m.w, "a");
	ok(mem_is(&m, "[", -EINVAL), "misuse: a key in an array");
	mem_open(&m, false);
	json_open_array(&m.w);
	json_close_object(&m.w);
	json_close_array(&m.w);
	ok(mem_is(&m, "[", -EINVAL),
	   "misuse: closing an object in an array, and nothing after");
	mem_open(&m, false);
	json_open_object(&m.w);
	json_key(&m.w, "a");
	json_close_object(&m.w);
	ok(mem_is(&m, "{\"a\":", -EINVAL), "misuse: closing after a key");
	mem_open(&m, false);
	json_close_array(&m.w);
	ok(mem_is(&m, "", -EINVAL), "misuse: closing what is not open");
	mem_open(&m, false);
	for (int i = 0; i <= JSON_MAX_DEPTH; i++)
		json_open_array(&m.w);
	ok(mem_is(&m, "[[[[[[[[[[[[[[[[", -EINVAL),
	   "misuse: nesting deeper than JSON_MAX_DEPTH");
}

/* An object with every kind of print_*() call, for both modes. */
static void print_sample(const void *arg)
{
	(void)arg;
	open_object(NULL);
	print_u64("a", "a=%" PRIu64, 1);
	print_text(" (text only)");
	print_s64(NULL, " never in JSON %" PRId64, -2);
	print_s64("b", NULL, 3);
	open_array("list");
	print_s64(NULL, " %" PRId64, 4);
	print_string(NULL, " %s", "five");
	print_string(NULL, " %s", NULL);
	close_array();
	print_float("f", 2, " f=%.1f", 0.125);
	print_bool("t", " t=%s", true);
	print_null("n");
	print_string("s", " s=%s\n", "x\"y");
	close_object();
}

static void unclosed(const void *arg)
{
	(void)arg;
	open_object(NULL);
	print_u64("a", NULL, 1);
}

static void test_print(void)
{
	char *s;
	int err;

	ok_printed(print_sample, NULL, false, false,
		   "a=1 (text only) never in JSON -2 4 five f=0.1 t=true s=x\"y\n",
		   "print text: every call with a format, nothing JSON-only");
	ok_printed(print_sample, NULL, true, false,
		   "{\"a\":1,\"b\":3,\"list\":[4,\"five\",null],"
		   "\"f\":0.12,\"t\":true,\"n\":null,\"s\":\"x\\\"y\"}\n",
		   "print JSON: keyed calls and array elements, no text-only call");
	s = printed(unclosed, NULL, true, false, &err);
	ok(err == -EINVAL, "print JSON: an unclosed object is an error at the end");
	free(s);
}

/* The sample for jq: every string of the table, nested. */
static void sample(const void *arg)
{
	(void)arg;
	open_object(NULL);
	open_array("strings");
	for (size_t i = 0; i < NSTRINGS; i++) {
		open_object(NULL);
		print_string("name", NULL, strings[i].name);
		print_string("value", NULL, strings[i].in);
		close_object();
	}
	close_array();
	open_object("nested");
	open_array("empty");
	close_array();
	open_object("deeper");
	print_u64("max", NULL, UINT64_MAX);
	print_s64("min", NULL, INT64_MIN);
	print_float("x", 3, NULL, 0.5);
	close_object();
	close_object();
	close_object();
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--raw")) {
		for (size_t i = 0; i < NSTRINGS; i++)
			if (!strstr(strings[i].want, "\\ufffd"))
				printf("%s\n", strings[i].in);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--sample")) {
		out_begin(stdout, true, argc > 2 && !strcmp(argv[2], "--pretty"));
		sample(NULL);
		return out_end() ? 1 : 0;
	}
	printf("TAP version 13\n");
	test_strings();
	test_nesting();
	test_values();
	test_misuse();
	test_print();
	return done();
}
