/*
 * test_json.c: json_get_u64 over a table of JSON texts: the values it must
 * accept, the edges of max and of 2^53, and everything that is not a
 * non-negative integral number; then values only a program can build (NaN,
 * infinities) and objects that are not objects.
 */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "json.h"
#include "util.h"

#define P53 (UINT64_C(1) << 53)
#define UNTOUCHED UINT64_C(0xdeadbeef)

struct row {
	const char *json; /* the whole document; the field read is "n" */
	uint64_t max;
	int want;       /* GG_OK, GG_EINVAL or GG_ENOENT */
	uint64_t value; /* when want == GG_OK */
};

static const struct row rows[] = {
	/* Accepted. */
	{ "{\"n\": 0}", UINT64_MAX, GG_OK, 0 },
	{ "{\"n\": 1}", UINT64_MAX, GG_OK, 1 },
	{ "{\"n\": 30000000}", UINT64_MAX, GG_OK, 30000000 },
	{ "{\"n\": 9007199254740992}", UINT64_MAX, GG_OK, P53 }, /* 2^53: the cap */
	{ "{\"n\": 9007199254740991}", UINT64_MAX, GG_OK, P53 - 1 },
	{ "{\"n\": 1e3}", UINT64_MAX, GG_OK, 1000 }, /* integral, any form */
	{ "{\"n\": 1000.0}", UINT64_MAX, GG_OK, 1000 },
	{ "{\"n\": -0}", UINT64_MAX, GG_OK, 0 },
	{ "{\"m\": 5, \"n\": 7}", UINT64_MAX, GG_OK, 7 },
	{ "{\"n\": 1, \"n\": 2}", UINT64_MAX, GG_OK, 1 }, /* the first of a repeat */
	/* max, and its cap at 2^53. */
	{ "{\"n\": 99}", 99, GG_OK, 99 },
	{ "{\"n\": 100}", 99, GG_EINVAL, 0 },
	{ "{\"n\": 0}", 0, GG_OK, 0 },
	{ "{\"n\": 1}", 0, GG_EINVAL, 0 },
	{ "{\"n\": 9007199254740992}", P53 - 1, GG_EINVAL, 0 },
	{ "{\"n\": 9007199254740994}", UINT64_MAX, GG_EINVAL, 0 }, /* 2^53 + 2 */
	{ "{\"n\": 18446744073709551615}", UINT64_MAX, GG_EINVAL, 0 },
	{ "{\"n\": 1e300}", UINT64_MAX, GG_EINVAL, 0 },
	/* Numbers that are not non-negative integers. */
	{ "{\"n\": -1}", UINT64_MAX, GG_EINVAL, 0 },
	{ "{\"n\": -1e300}", UINT64_MAX, GG_EINVAL, 0 },
	{ "{\"n\": 1.5}", UINT64_MAX, GG_EINVAL, 0 },
	{ "{\"n\": 0.5}", UINT64_MAX, GG_EINVAL, 0 },
	{ "{\"n\": 1e-300}", UINT64_MAX, GG_EINVAL, 0 },
	{ "{\"n\": 9007199254740991.5}", P53 - 1, GG_EINVAL, 0 }, /* rounds to 2^53 */
	/* Not numbers at all. */
	{ "{\"n\": \"12\"}", UINT64_MAX, GG_EINVAL, 0 },
	{ "{\"n\": \"NaN\"}", UINT64_MAX, GG_EINVAL, 0 },
	{ "{\"n\": \"Infinity\"}", UINT64_MAX, GG_EINVAL, 0 },
	{ "{\"n\": \"-Infinity\"}", UINT64_MAX, GG_EINVAL, 0 },
	{ "{\"n\": \"\"}", UINT64_MAX, GG_EINVAL, 0 },
	{ "{\"n\": null}", UINT64_MAX, GG_EINVAL, 0 },
	{ "{\"n\": true}", UINT64_MAX, GG_EINVAL, 0 },
	{ "{\"n\": false}", UINT64_MAX, GG_EINVAL, 0 },
	{ "{\"n\": [1]}", UINT64_MAX, GG_EINVAL, 0 },
	{ "{\"n\": {\"n\": 1}}", UINT64_MAX, GG_EINVAL, 0 },
	/* Missing. */
	{ "{}", UINT64_MAX, GG_ENOENT, 0 },
	{ "{\"m\": 1}", UINT64_MAX, GG_ENOENT, 0 },
	{ "{\"N\": 1}", UINT64_MAX, GG_ENOENT, 0 }, /* keys are case-sensitive */
	/* The document is not an object. */
	{ "[{\"n\": 1}]", UINT64_MAX, GG_EINVAL, 0 },
	{ "1", UINT64_MAX, GG_EINVAL, 0 },
	{ "\"n\"", UINT64_MAX, GG_EINVAL, 0 },
	{ "null", UINT64_MAX, GG_EINVAL, 0 },
};

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		cJSON *o = cJSON_ParseWithLength(r->json, strlen(r->json));
		uint64_t v = UNTOUCHED;
		int rc;

		if (o == NULL)
			fail_msg("row %zu: %s does not parse", i, r->json);
		rc = json_get_u64(o, "n", r->max, &v);
		if (rc != r->want)
			fail_msg("row %zu: %s (max %llu): %s, want %s", i, r->json,
				 (unsigned long long)r->max, gg_strerror(rc), gg_strerror(r->want));
		if (r->want == GG_OK && v != r->value)
			fail_msg("row %zu: %s: %llu, want %llu", i, r->json, (unsigned long long)v,
				 (unsigned long long)r->value);
		if (r->want != GG_OK && v != UNTOUCHED)
			fail_msg("row %zu: %s: *out changed on error", i, r->json);
		cJSON_Delete(o);
	}
}

/* Numbers JSON text cannot carry, but a program (or another parser) can. */
static void
test_built_values(void **state)
{
	const double bad[] = { NAN, -NAN, INFINITY, -INFINITY };
	uint64_t v = UNTOUCHED;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "n", bad[i]);
		assert_int_equal(json_get_u64(o, "n", UINT64_MAX, &v), GG_EINVAL);
		assert_true(v == UNTOUCHED);
		cJSON_Delete(o);
	}
	assert_int_equal(json_get_u64(NULL, "n", UINT64_MAX, &v), GG_EINVAL);
	assert_true(v == UNTOUCHED);
}

/* json_text_check: what cJSON would let through is refused before parsing. */
static void
test_text_check(void **state)
{
	static const struct {
		const char *text;
		size_t len; /* 0: strlen */
		int ok;
		const char *why;
	} trows[] = {
		{ "{\"paths\":[\"a.gguf\"]}", 0, 1, NULL },
		{ "{\"paths\":[\"\xc3\xa9t\xc3\xa9.gguf\", \"\\u00e9\"]}", 0, 1, NULL },
		{ "{\"p\":\"a\\\\u0000\"}", 0, 1, NULL }, /* a backslash, then u0000 */
		{ "{\"p\":\"\\\"\\u0001\"}", 0, 1, NULL },
		{ "{not json", 0, 1, NULL }, /* syntax is the parser's */
		{ "", 0, 1, NULL },
		{ "{\"paths\":[\"conf\xffig.json\"]}", 0, 0, "UTF-8" },
		{ "{\"paths\":[\"a\xc0\xaf\"]}", 0, 0, "UTF-8" },
		{ "{\"paths\":[\"a\xe6\x97\"]}", 0, 0, "UTF-8" },
		{ "{\"paths\":[\"a\\u0000.gguf\"]}", 0, 0, "\\u0000" },
		{ "{\"p\":\"\\\\\\u0000\"}", 0, 0, "\\u0000" }, /* "\\" then \u0000 */
		{ "{\"p\":\"a\0b\"}", 11, 0, "NUL byte" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(trows) / sizeof(trows[0]); i++) {
		const char *why = "unset";
		size_t len = trows[i].len ? trows[i].len : strlen(trows[i].text);
		int rc = json_text_check(trows[i].text, len, &why);

		if ((rc == GG_OK) != trows[i].ok)
			fail_msg("row %zu: got %d", i, rc);
		if (trows[i].ok && why != NULL)
			fail_msg("row %zu: why \"%s\" on success", i, why);
		if (!trows[i].ok && (why == NULL || strstr(why, trows[i].why) == NULL))
			fail_msg("row %zu: why \"%s\"", i, why ? why : "(null)");
	}
	assert_int_equal(json_text_check("x", 1, NULL), GG_OK);
	assert_int_equal(json_text_check("\xff", 1, NULL), GG_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_built_values),
		cmocka_unit_test(test_text_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
