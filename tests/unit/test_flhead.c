/*
 * test_flhead.c: unit tests for the fast lane's request-head parser
 * (server/flhead.c): what it takes (and the fields it gives), and each
 * kind of head it leaves to the slow path.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "flhead.h"
#include "gg_limits.h"

#define T "/ruv/ruvltra/resolve/main/ruvltra-0.5b-q4_k_m.gguf"

static int
parse(const char *s, struct fl_head *h)
{
	return flhead_parse(s, strlen(s), h);
}

static void
test_plain_get(void **state)
{
	const char *s = "GET " T " HTTP/1.1\r\nHost: mirror:8080\r\nUser-Agent: curl/7.88\r\n"
			"Accept: */*\r\n\r\nGET /next HTTP/1.1\r\n";
	struct fl_head h;

	(void)state;
	assert_int_equal(parse(s, &h), 1);
	assert_int_equal(h.len, strstr(s, "\r\n\r\n") + 4 - s); /* the first head only */
	assert_int_equal(h.is_head, 0);
	assert_int_equal(h.tlen, strlen(T));
	assert_memory_equal(h.target, T, h.tlen);
	assert_null(h.range);
	assert_null(h.rid);
	assert_int_equal(h.close, 0);
}

static void
test_fields(void **state)
{
	const char *s = "HEAD " T " HTTP/1.1\r\nhost: x\r\nRANGE:  bytes=0-0 \t\r\n"
			"Connection: Close\r\nX-Request-Id: abc-1\r\n\r\n";
	struct fl_head h;

	(void)state;
	assert_int_equal(parse(s, &h), 1);
	assert_int_equal(h.is_head, 1);
	assert_int_equal(h.range_len, 9); /* surrounding blanks trimmed */
	assert_memory_equal(h.range, "bytes=0-0", 9);
	assert_int_equal(h.rid_len, 5);
	assert_memory_equal(h.rid, "abc-1", 5);
	assert_int_equal(h.close, 1);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n", &h),
			 1);
	assert_int_equal(h.close, 0);
}

/* Each of these is the slow path's: the fast lane hands it over. */
static void
test_refused(void **state)
{
	static const char *const heads[] = {
		/* incomplete: no blank line yet */
		"GET " T " HTTP/1.1\r\nHost: x\r\n",
		/* methods, versions, targets */
		"POST " T " HTTP/1.1\r\nHost: x\r\n\r\n",
		"get " T " HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET " T " HTTP/1.0\r\nHost: x\r\n\r\n",
		"GET " T " HTTP/2\r\nHost: x\r\n\r\n",
		"GET " T "?download=1 HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /ruv/ruvltra/resolve/main/a%2Fb.gguf HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET http://x" T " HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET * HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET  " T " HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET " T "  HTTP/1.1\r\nHost: x\r\n\r\n",
		/* Host: none, or two */
		"GET " T " HTTP/1.1\r\n\r\n",
		"GET " T " HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
		/* headers that change the answer or bring a body */
		"GET " T " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n",
		"GET " T " HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"a\"\r\n\r\n",
		"GET " T " HTTP/1.1\r\nHost: x\r\nif-range: \"a\"\r\n\r\n",
		"GET " T " HTTP/1.1\r\nHost: x\r\nX-Ggufd-Peer: 1\r\n\r\n",
		"GET " T " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
		"GET " T " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET " T " HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n",
		"GET " T " HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\n\r\n",
		"GET " T " HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\n\r\n",
		"GET " T " HTTP/1.1\r\nHost: x\r\nRange: bytes=0-0\r\nRange: bytes=1-1\r\n\r\n",
		/* malformed lines */
		"GET " T " HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
		"GET " T " HTTP/1.1\r\nHost : x\r\n\r\n",
		"GET " T " HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
		"GET " T " HTTP/1.1\r\nHost: x\r\n: empty-name\r\n\r\n",
		"GET " T " HTTP/1.1\r\nHost: x\r\nA\x01: b\r\n\r\n",
		"GET " T " HTTP/1.1\r\nHost: x\r\nA: b\x7f\x01\r\n\r\n",
		"GET " T " HTTP/1.1\r\nHost: x\nA: b\r\n\r\n",
		"GET " T " HTTP/1.1\nHost: x\r\n\r\n",
	};
	struct fl_head h;

	(void)state;
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		if (parse(heads[i], &h) != 0)
			fail_msg("taken, should be the slow path's: head %zu", i);
	}
}

/* A NUL inside a head (buf is not a C string) is refused, as is a Range
 * longer than the slow path looks at. */
static void
test_nul_and_long_range(void **state)
{
	static const char nul[] = "GET " T " HTTP/1.1\r\nHost: x\r\nA: b\0c\r\n\r\n";
	char big[4096];
	struct fl_head h;
	int n;

	(void)state;
	assert_int_equal(flhead_parse(nul, sizeof(nul) - 1, &h), 0);
	/* A Range of exactly GG_MAX_RANGE_HDR_LEN bytes is taken; one more is not. */
	for (int extra = 0; extra <= 1; extra++) {
		size_t want = GG_MAX_RANGE_HDR_LEN + (size_t)extra, vl;
		n = snprintf(big, sizeof(big), "GET " T " HTTP/1.1\r\nHost: x\r\nRange: bytes=0-0");
		vl = strlen("bytes=0-0");
		while (vl < want - 4) {
			n += snprintf(big + n, sizeof(big) - (size_t)n, ",1-1");
			vl += 4;
		}
		while (vl < want) {
			big[n++] = '0' + (char)(vl % 10 == 0);
			vl++;
		}
		n += snprintf(big + n, sizeof(big) - (size_t)n, "\r\n\r\n");
		assert_int_equal(flhead_parse(big, (size_t)n, &h), !extra);
		if (!extra)
			assert_int_equal(h.range_len, GG_MAX_RANGE_HDR_LEN);
	}
	n = snprintf(big, sizeof(big), "GET " T " HTTP/1.1\r\nHost: x\r\nRange: bytes=");
	while (n < (int)sizeof(big) - 64)
		n += snprintf(big + n, sizeof(big) - (size_t)n, "1-2,");
	n += snprintf(big + n, sizeof(big) - (size_t)n, "3-4\r\n\r\n");
	assert_int_equal(flhead_parse(big, (size_t)n, &h), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_get),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_nul_and_long_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
