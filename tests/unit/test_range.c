/*
 * test_range.c: unit tests for server/range.c.
 *
 * Covers the RFC 9110 section 14 examples, every rule range.h states, the
 * ways a header can be malformed or abusive, headers with NULs inside and
 * without a terminating NUL (ASan catches any over-read), the If-Range and
 * If-None-Match validators, and the multipart layout checked against a
 * body assembled independently in this file.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gg_limits.h"
#include "range.h"
#include "util.h"

/* Parses a NUL-terminated header, passing an explicit end. */
static enum range_outcome
parse(const char *hdr, uint64_t size, struct byte_range *out, size_t *n)
{
	return range_parse(hdr, hdr + strlen(hdr), size, out, GG_MAX_RANGES, n);
}

/* Asserts that hdr gives RANGE_PARTIAL with exactly the pairs given. */
static void
expect_partial(const char *hdr, uint64_t size, size_t count, ...)
{
	struct byte_range out[GG_MAX_RANGES];
	size_t n = 99;
	va_list ap;

	assert_int_equal(parse(hdr, size, out, &n), RANGE_PARTIAL);
	assert_int_equal(n, count);
	va_start(ap, count);
	for (size_t i = 0; i < count; i++) {
		uint64_t first = va_arg(ap, uint64_t);
		uint64_t last = va_arg(ap, uint64_t);
		assert_true(out[i].first == first);
		assert_true(out[i].last == last);
	}
	va_end(ap);
}

static void
expect_outcome(const char *hdr, uint64_t size, enum range_outcome want)
{
	struct byte_range out[GG_MAX_RANGES];
	size_t n = 99;

	assert_int_equal(parse(hdr, size, out, &n), want);
	assert_int_equal(n, 0);
}

#define U(x) ((uint64_t)(x))

static void
test_no_header(void **state)
{
	struct byte_range out[GG_MAX_RANGES];
	size_t n = 99;

	(void)state;
	assert_int_equal(range_parse(NULL, NULL, 100, out, GG_MAX_RANGES, &n), RANGE_FULL);
	assert_int_equal(n, 0);
	/* n may be NULL */
	assert_int_equal(range_parse("bytes=0-1", NULL, 100, out, GG_MAX_RANGES, NULL),
			 RANGE_PARTIAL);
}

static void
test_rfc9110_examples(void **state)
{
	(void)state;
	/* RFC 9110 14.1.2, a representation of length 10000. */
	expect_partial("bytes=0-499", 10000, 1, U(0), U(499));
	expect_partial("bytes=500-999", 10000, 1, U(500), U(999));
	expect_partial("bytes=-500", 10000, 1, U(9500), U(9999));
	expect_partial("bytes=9500-", 10000, 1, U(9500), U(9999));
	expect_partial("bytes=0-0,-1", 10000, 2, U(0), U(0), U(9999), U(9999));
	expect_partial("bytes= 0-999, 4500-5499, -1000", 10000, 3, U(0), U(999), U(4500), U(5499),
		       U(9000), U(9999));
	expect_partial("bytes=500-600,601-999", 10000, 2, U(500), U(600), U(601), U(999));
	/* Overlapping, but far less than the entity: honoured as asked. */
	expect_partial("bytes=500-700,601-999", 10000, 2, U(500), U(700), U(601), U(999));
}

static void
test_clamp_and_suffix(void **state)
{
	(void)state;
	/* HF-PROTOCOL.md 6.5: JS gguf() asks for 2 MB of a 1 MB file. */
	expect_partial("bytes=0-1999999", 1000000, 1, U(0), U(999999));
	expect_partial("bytes=0-18446744073709551615", 10, 1, U(0), U(9));
	expect_partial("bytes=0-", 1, 1, U(0), U(0));
	expect_partial("bytes=0-0", 1, 1, U(0), U(0));
	expect_partial("bytes=9-9", 10, 1, U(9), U(9));
	expect_partial("bytes=9-100", 10, 1, U(9), U(9));
	/* A suffix longer than the entity means the whole entity. */
	expect_partial("bytes=-20000", 10000, 1, U(0), U(9999));
	expect_partial("bytes=-10000", 10000, 1, U(0), U(9999));
	expect_partial("bytes=-9999", 10000, 1, U(1), U(9999));
	expect_partial("bytes=-18446744073709551615", 10, 1, U(0), U(9));
	/* The resume request of HF-PROTOCOL.md 2.9. */
	expect_partial("bytes=1073741824-", 2825940544u, 1, U(1073741824), U(2825940543));
	/* Order is kept as asked. */
	expect_partial("bytes=500-599,0-99", 10000, 2, U(500), U(599), U(0), U(99));
}

static void
test_unsatisfiable(void **state)
{
	(void)state;
	expect_outcome("bytes=10000-", 10000, RANGE_UNSATISFIABLE);
	expect_outcome("bytes=10000-20000", 10000, RANGE_UNSATISFIABLE);
	expect_outcome("bytes=1-1", 1, RANGE_UNSATISFIABLE);
	expect_outcome("bytes=-0", 10000, RANGE_UNSATISFIABLE);
	expect_outcome("bytes=-0,-00", 10000, RANGE_UNSATISFIABLE);
	expect_outcome("bytes=20000-30000,-0", 10000, RANGE_UNSATISFIABLE);
	expect_outcome("bytes=18446744073709551615-", 10, RANGE_UNSATISFIABLE);
	/* Mixed: unsatisfiable ranges are dropped, the rest served. */
	expect_partial("bytes=0-1,20000-30000", 10000, 1, U(0), U(1));
	expect_partial("bytes=20000-,-0,5-5", 10000, 1, U(5), U(5));
}

static void
test_empty_entity(void **state)
{
	(void)state;
	/* Nothing can be selected from 0 bytes; the whole (empty) entity. */
	expect_outcome("bytes=0-0", 0, RANGE_FULL);
	expect_outcome("bytes=-1", 0, RANGE_FULL);
	expect_outcome("bytes=0-", 0, RANGE_FULL);
	expect_outcome("garbage", 0, RANGE_FULL);
}

static void
test_malformed(void **state)
{
	static const char *bad[] = {
		"",
		" ",
		"bytes",
		"bytes=",
		"bytes= ",
		"bytes=-",
		"bytes=,",
		"bytes=, ,",
		"bytes=--1",
		"bytes=1--2",
		"bytes=1-2-3",
		"bytes=0-1 2-3",
		"bytes=0-1;2-3",
		"bytes=0 -1",
		"bytes=0- 1",
		"bytes =0-1",
		"bytes:0-1",
		"byte=0-1",
		"bytesx=0-1",
		"items=0-1",
		"bytes=a-b",
		"bytes=0-1x",
		"bytes=0x10-20",
		"bytes=+1-2",
		"bytes=1-+2",
		"bytes=-+2",
		"bytes=1.5-2",
		"bytes=2-1",     /* a > b */
		"bytes=0-1,5-4", /* one invalid spec spoils the set */
		"bytes=99999999999999999999-",
		"bytes=0-99999999999999999999",
		"bytes=-99999999999999999999",
		"bytes=18446744073709551616-",
		"bytes=0-1,bogus",
		"=0-1",
		"0-1",
		"bytes==0-1",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct byte_range out[GG_MAX_RANGES];
		size_t n = 99;
		enum range_outcome r = parse(bad[i], 10000, out, &n);
		if (r != RANGE_FULL || n != 0)
			fail_msg("\"%s\": outcome %d n %zu", bad[i], (int)r, n);
	}
}

static void
test_unit_and_whitespace(void **state)
{
	(void)state;
	expect_partial("BYTES=0-1", 10, 1, U(0), U(1));
	expect_partial("Bytes=0-1", 10, 1, U(0), U(1));
	expect_partial("bYtEs=0-1", 10, 1, U(0), U(1));
	expect_partial(" bytes=0-1 ", 10, 1, U(0), U(1));
	expect_partial("bytes=\t0-1\t,\t2-3\t", 10, 2, U(0), U(1), U(2), U(3));
	expect_partial("bytes=0-1 , 2-3", 10, 2, U(0), U(1), U(2), U(3));
	/* Empty list elements are tolerated (RFC 9110 5.6.1). */
	expect_partial("bytes=0-1,,2-3", 10, 2, U(0), U(1), U(2), U(3));
	expect_partial("bytes=,0-1", 10, 1, U(0), U(1));
	expect_partial("bytes=0-1,", 10, 1, U(0), U(1));
	expect_partial("bytes=, ,0-1 , ,", 10, 1, U(0), U(1));
	/* Leading zeros are plain decimal. */
	expect_partial("bytes=007-0008", 10, 1, U(7), U(8));
}

static void
test_range_count_limit(void **state)
{
	char hdr[256];
	struct byte_range out[GG_MAX_RANGES];
	size_t n = 0, len;

	(void)state;
	/* Exactly GG_MAX_RANGES disjoint ranges are fine ... */
	len = (size_t)snprintf(hdr, sizeof(hdr), "bytes=");
	for (int i = 0; i < GG_MAX_RANGES; i++)
		len += (size_t)snprintf(hdr + len, sizeof(hdr) - len, "%s%d-%d", i ? "," : "",
					i * 10, i * 10 + 1);
	assert_int_equal(parse(hdr, 1000, out, &n), RANGE_PARTIAL);
	assert_int_equal(n, GG_MAX_RANGES);
	assert_true(out[15].first == 150 && out[15].last == 151);
	/* ... and empty elements do not count towards the limit ... */
	len += (size_t)snprintf(hdr + len, sizeof(hdr) - len, ",,,");
	assert_int_equal(parse(hdr, 1000, out, &n), RANGE_PARTIAL);
	assert_int_equal(n, GG_MAX_RANGES);
	/* ... but 17 ranges are refused with the whole entity. */
	snprintf(hdr + len, sizeof(hdr) - len, "900-901");
	assert_int_equal(parse(hdr, 1000, out, &n), RANGE_FULL);
	assert_int_equal(n, 0);
	/* A max above GG_MAX_RANGES is capped at it. */
	{
		struct byte_range big[GG_MAX_RANGES + 8];
		assert_int_equal(range_parse(hdr, NULL, 1000, big, GG_MAX_RANGES + 8, &n),
				 RANGE_FULL);
	}
	/* Unsatisfiable specs count too: 17 of them is still abusive. */
	len = (size_t)snprintf(hdr, sizeof(hdr), "bytes=");
	for (int i = 0; i < GG_MAX_RANGES + 1; i++)
		len += (size_t)snprintf(hdr + len, sizeof(hdr) - len, "%s5000-", i ? "," : "");
	assert_int_equal(parse(hdr, 1000, out, &n), RANGE_FULL);

	/* A caller that serves one range only passes max = 1. */
	assert_int_equal(range_parse("bytes=0-1", NULL, 10, out, 1, &n), RANGE_PARTIAL);
	assert_int_equal(n, 1);
	assert_int_equal(range_parse("bytes=0-1,3-4", NULL, 10, out, 1, &n), RANGE_FULL);
	assert_int_equal(n, 0);
	assert_int_equal(range_parse("bytes=0-1", NULL, 10, out, 0, &n), RANGE_FULL);
	assert_int_equal(range_parse("bytes=0-1", NULL, 10, NULL, 16, &n), RANGE_FULL);
}

static void
test_abusive_sum(void **state)
{
	(void)state;
	/* Ranges adding up to more than the entity: whole entity once. */
	expect_outcome("bytes=0-99,0-99", 150, RANGE_FULL);
	expect_outcome("bytes=0-,0-", 10, RANGE_FULL);
	expect_outcome("bytes=-6,-6", 10, RANGE_FULL);
	expect_outcome("bytes=0-0,-1", 1, RANGE_FULL);
	expect_outcome("bytes=0-9,0-0", 10, RANGE_FULL);
	/* Large values near 2^64 must not wrap the running sum. */
	expect_outcome("bytes=0-,1-", UINT64_MAX, RANGE_FULL);
	/* Exactly the entity is fine, and so is the same overlap on a
	 * larger entity. */
	expect_partial("bytes=0-4,5-9", 10, 2, U(0), U(4), U(5), U(9));
	expect_partial("bytes=0-99,0-99", 10000, 2, U(0), U(99), U(0), U(99));
	expect_partial("bytes=0-", UINT64_MAX, 1, U(0), UINT64_MAX - 1);
}

static void
test_nul_and_bounds(void **state)
{
	static const char with_nul[] = "bytes=0-1\0,2-3";
	static const char nul_first[] = "\0bytes=0-1";
	struct byte_range out[GG_MAX_RANGES];
	size_t n = 0;
	char *exact;
	const char *text = "bytes=0-499";
	size_t len = strlen(text);

	(void)state;
	/* A NUL inside [hdr, end) is an invalid byte, not a terminator. */
	assert_int_equal(range_parse(with_nul, with_nul + sizeof(with_nul) - 1, 10000, out,
				     GG_MAX_RANGES, &n),
			 RANGE_FULL);
	assert_int_equal(range_parse(nul_first, nul_first + sizeof(nul_first) - 1, 10000, out,
				     GG_MAX_RANGES, &n),
			 RANGE_FULL);
	/* With end NULL the header is read up to its NUL. */
	assert_int_equal(range_parse(with_nul, NULL, 10000, out, GG_MAX_RANGES, &n), RANGE_PARTIAL);
	assert_int_equal(n, 1);

	/* No NUL at all: the buffer is exactly the header (ASan checks). */
	exact = malloc(len);
	assert_non_null(exact);
	memcpy(exact, text, len);
	assert_int_equal(range_parse(exact, exact + len, 10000, out, GG_MAX_RANGES, &n),
			 RANGE_PARTIAL);
	assert_int_equal(n, 1);
	assert_true(out[0].first == 0 && out[0].last == 499);
	/* Every prefix of it is parsed within bounds too. */
	for (size_t k = 0; k <= len; k++) {
		enum range_outcome r = range_parse(exact, exact + k, 10000, out, GG_MAX_RANGES, &n);
		/* "bytes=0-" ... "bytes=0-49" are valid; shorter are not. */
		assert_int_equal(r, k >= 8 ? RANGE_PARTIAL : RANGE_FULL);
	}
	free(exact);

	/* end cuts a longer buffer: "bytes=0-4" of "bytes=0-4XYZ". */
	assert_int_equal(range_parse("bytes=0-4XYZ", (const char *)"bytes=0-4XYZ" + 9, 10000, out,
				     GG_MAX_RANGES, &n),
			 RANGE_PARTIAL);
	assert_true(out[0].first == 0 && out[0].last == 4);
	/* end before hdr is nonsense: ignored. */
	assert_int_equal(range_parse(text + 4, text, 10000, out, GG_MAX_RANGES, &n), RANGE_FULL);
}

static void
test_header_length_limit(void **state)
{
	char *hdr = malloc(GG_MAX_RANGE_HDR_LEN + 2);
	struct byte_range out[GG_MAX_RANGES];
	size_t n = 0;

	(void)state;
	assert_non_null(hdr);
	/* "bytes=0-1" padded with trailing spaces to exactly the limit. */
	memset(hdr, ' ', GG_MAX_RANGE_HDR_LEN + 1);
	memcpy(hdr, "bytes=0-1", 9);
	hdr[GG_MAX_RANGE_HDR_LEN + 1] = '\0';
	assert_int_equal(range_parse(hdr, hdr + GG_MAX_RANGE_HDR_LEN, 10, out, GG_MAX_RANGES, &n),
			 RANGE_PARTIAL);
	assert_int_equal(
		range_parse(hdr, hdr + GG_MAX_RANGE_HDR_LEN + 1, 10, out, GG_MAX_RANGES, &n),
		RANGE_FULL);
	assert_int_equal(range_parse(hdr, NULL, 10, out, GG_MAX_RANGES, &n), RANGE_FULL);
	hdr[GG_MAX_RANGE_HDR_LEN] = '\0';
	assert_int_equal(range_parse(hdr, NULL, 10, out, GG_MAX_RANGES, &n), RANGE_PARTIAL);
	free(hdr);
}

static void
test_if_range(void **state)
{
	const char *etag = "\"5c3b2ea2b4ad1b0e8e2bd0c8a4d41e6e3f8a0f9d1c2b3a4958677e6d5c4b3a29\"";

	(void)state;
	assert_int_equal(range_if_range_ok(NULL, etag), 1);
	assert_int_equal(range_if_range_ok(NULL, NULL), 1);
	assert_int_equal(range_if_range_ok(etag, etag), 1);
	assert_int_equal(range_if_range_ok("\"abc\"", "\"abc\""), 1);
	assert_int_equal(range_if_range_ok("  \"abc\"\t", "\"abc\""), 1);
	assert_int_equal(range_if_range_ok("\"abd\"", "\"abc\""), 0);
	assert_int_equal(range_if_range_ok("\"ab\"", "\"abc\""), 0);
	assert_int_equal(range_if_range_ok("\"abcd\"", "\"abc\""), 0);
	/* Weak tags never pass If-Range (strong comparison). */
	assert_int_equal(range_if_range_ok("W/\"abc\"", "\"abc\""), 0);
	assert_int_equal(range_if_range_ok("W/\"abc\"", "W/\"abc\""), 0);
	/* An HTTP date: we send no Last-Modified, so it cannot validate. */
	assert_int_equal(range_if_range_ok("Wed, 21 Oct 2015 07:28:00 GMT", "\"abc\""), 0);
	assert_int_equal(range_if_range_ok("abc", "abc"), 0);
	assert_int_equal(range_if_range_ok("", "\"abc\""), 0);
	assert_int_equal(range_if_range_ok("\"abc\", \"abc\"", "\"abc\""), 0);
	assert_int_equal(range_if_range_ok("\"abc\"x", "\"abc\""), 0);
	assert_int_equal(range_if_range_ok("\"abc", "\"abc"), 0);
	assert_int_equal(range_if_range_ok("\"abc\"", NULL), 0);
}

static void
test_if_none_match(void **state)
{
	const char *etag = "\"abc\"";

	(void)state;
	assert_int_equal(range_if_none_match(NULL, etag), 0);
	assert_int_equal(range_if_none_match("*", etag), 1);
	assert_int_equal(range_if_none_match(" * ", etag), 1);
	assert_int_equal(range_if_none_match("*", NULL), 1);
	assert_int_equal(range_if_none_match("**", etag), 0);
	assert_int_equal(range_if_none_match("*, \"abc\"", etag), 0);
	assert_int_equal(range_if_none_match("\"abc\"", etag), 1);
	assert_int_equal(range_if_none_match("\"abd\"", etag), 0);
	/* Weak comparison: W/ on either side is ignored. */
	assert_int_equal(range_if_none_match("W/\"abc\"", etag), 1);
	assert_int_equal(range_if_none_match("\"abc\"", "W/\"abc\""), 1);
	assert_int_equal(range_if_none_match("W/\"abc\"", "W/\"abc\""), 1);
	/* The weak indicator is case-sensitive ("W/"). */
	assert_int_equal(range_if_none_match("w/\"abc\"", etag), 0);
	/* Lists. */
	assert_int_equal(range_if_none_match("\"x\", W/\"abc\"", etag), 1);
	assert_int_equal(range_if_none_match("\"x\",\"abc\",\"y\"", etag), 1);
	assert_int_equal(range_if_none_match("\"x\",\"y\"", etag), 0);
	assert_int_equal(range_if_none_match(", ,\"abc\",,", etag), 1);
	assert_int_equal(range_if_none_match("\t\"x\" ,\t\"abc\"\t", etag), 1);
	assert_int_equal(range_if_none_match("", etag), 0);
	assert_int_equal(range_if_none_match(",", etag), 0);
	/* A comma inside a quoted tag belongs to the tag. */
	assert_int_equal(range_if_none_match("\"a,b\"", "\"a,b\""), 1);
	assert_int_equal(range_if_none_match("\"a,b\"", "\"a\""), 0);
	assert_int_equal(range_if_none_match("\"a,b\"", "\"b\""), 0);
	assert_int_equal(range_if_none_match("\"\"", "\"\""), 1);
	/* Malformed: the whole header is ignored, even after a match. */
	assert_int_equal(range_if_none_match("\"abc", etag), 0);
	assert_int_equal(range_if_none_match("abc", etag), 0);
	assert_int_equal(range_if_none_match("\"abc\" \"def\"", etag), 0);
	assert_int_equal(range_if_none_match("\"abc\", garbage", etag), 0);
	assert_int_equal(range_if_none_match("\"x\", garbage, \"abc\"", etag), 0);
	assert_int_equal(range_if_none_match("\"a\001c\"", "\"a\001c\""), 0);
	assert_int_equal(range_if_none_match("\"a c\"", "\"a c\""), 0);
	assert_int_equal(range_if_none_match("W/", etag), 0);
	/* Our own tag must be well formed to match anything but "*". */
	assert_int_equal(range_if_none_match("\"abc\"", NULL), 0);
	assert_int_equal(range_if_none_match("abc", "abc"), 0);
}

/* Independent decimal formatting for the expected multipart body. */
static size_t
put_u64(char *dst, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	for (i = 0; i < n; i++)
		dst[i] = tmp[n - 1 - i];
	return n;
}

static size_t
put_str(char *dst, const char *s)
{
	size_t n = strlen(s);
	memcpy(dst, s, n);
	return n;
}

/* Writes the body a client expects into dst; returns its length. */
static size_t
expected_body(char *dst, const char *entity, uint64_t size, const struct byte_range *r, size_t n,
	      const char *ctype, const char *boundary)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		o += put_str(dst + o, "\r\n--");
		o += put_str(dst + o, boundary);
		o += put_str(dst + o, "\r\nContent-Type: ");
		o += put_str(dst + o, ctype);
		o += put_str(dst + o, "\r\nContent-Range: bytes ");
		o += put_u64(dst + o, r[i].first);
		dst[o++] = '-';
		o += put_u64(dst + o, r[i].last);
		dst[o++] = '/';
		o += put_u64(dst + o, size);
		o += put_str(dst + o, "\r\n\r\n");
		memcpy(dst + o, entity + r[i].first, r[i].last - r[i].first + 1);
		o += r[i].last - r[i].first + 1;
	}
	o += put_str(dst + o, "\r\n--");
	o += put_str(dst + o, boundary);
	o += put_str(dst + o, "--\r\n");
	return o;
}

/* Writes the body the way a server would from the plan. */
static size_t
planned_body(char *dst, const char *entity, const struct range_part *parts, size_t n,
	     const char *tail, size_t tail_len)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		memcpy(dst + o, parts[i].head, parts[i].head_len);
		o += parts[i].head_len;
		memcpy(dst + o, entity + parts[i].first, parts[i].last - parts[i].first + 1);
		o += parts[i].last - parts[i].first + 1;
	}
	memcpy(dst + o, tail, tail_len);
	return o + tail_len;
}

static void
test_multipart_literal(void **state)
{
	static const char want[] = "\r\n--XyZ\r\nContent-Type: text/plain\r\n"
				   "Content-Range: bytes 0-1/10\r\n\r\n01"
				   "\r\n--XyZ\r\nContent-Type: text/plain\r\n"
				   "Content-Range: bytes 5-9/10\r\n\r\n56789"
				   "\r\n--XyZ--\r\n";
	const char *entity = "0123456789";
	struct byte_range r[GG_MAX_RANGES];
	struct range_part parts[GG_MAX_RANGES];
	char tail[128], body[512];
	size_t n = 0, tail_len = 0, len;
	uint64_t total = 0;

	(void)state;
	assert_int_equal(range_parse("bytes=0-1,5-", NULL, 10, r, GG_MAX_RANGES, &n),
			 RANGE_PARTIAL);
	assert_int_equal(n, 2);
	assert_int_equal(range_multipart_plan(r, n, 10, "text/plain", "XyZ", parts, tail,
					      sizeof(tail), &tail_len, &total),
			 GG_OK);
	assert_string_equal(tail, "\r\n--XyZ--\r\n");
	assert_int_equal(tail_len, strlen("\r\n--XyZ--\r\n"));
	assert_true(total == sizeof(want) - 1);
	len = planned_body(body, entity, parts, n, tail, tail_len);
	assert_int_equal(len, sizeof(want) - 1);
	assert_memory_equal(body, want, len);
	assert_int_equal(parts[0].head_len, strlen(parts[0].head));
	assert_true(parts[1].first == 5 && parts[1].last == 9);
}

static void
test_multipart_independent(void **state)
{
	static const char *hdrs[] = {
		"bytes=0-0,-1",
		"bytes=0-0,9999-9999",
		"bytes= 0-999, 4500-5499, -1000",
		"bytes=500-600,601-999",
		("bytes=9000-,0-10,20-30,40-50,60-70,80-90,100-110,120-130,"
		 "140-150,160-170,180-190,200-210,220-230,240-250,260-270,280-290"),
		"bytes=0-0",
	};
	const char *ctype = "application/octet-stream";
	const char *boundary = "3d6b6a416f9b5ABCdef0123456789";
	const uint64_t size = 10000;
	char *entity = malloc(size);
	char *want = malloc(64 * 1024), *got = malloc(64 * 1024);

	(void)state;
	assert_non_null(entity);
	assert_non_null(want);
	assert_non_null(got);
	for (uint64_t i = 0; i < size; i++)
		entity[i] = (char)(i % 251);
	for (size_t h = 0; h < sizeof(hdrs) / sizeof(hdrs[0]); h++) {
		struct byte_range r[GG_MAX_RANGES];
		struct range_part parts[GG_MAX_RANGES];
		char tail[128];
		size_t n = 0, tail_len = 0, wlen, glen;
		uint64_t total = 0;

		assert_int_equal(range_parse(hdrs[h], NULL, size, r, GG_MAX_RANGES, &n),
				 RANGE_PARTIAL);
		assert_int_equal(range_multipart_plan(r, n, size, ctype, boundary, parts, tail,
						      sizeof(tail), &tail_len, &total),
				 GG_OK);
		wlen = expected_body(want, entity, size, r, n, ctype, boundary);
		glen = planned_body(got, entity, parts, n, tail, tail_len);
		assert_true(total == wlen);
		assert_int_equal(glen, wlen);
		assert_memory_equal(got, want, wlen);
	}
	free(got);
	free(want);
	free(entity);
}

static void
test_multipart_big_numbers(void **state)
{
	struct byte_range r[2] = { { 0, 1999999 }, { 2825940000u, 2825940543u } };
	struct range_part parts[2];
	char tail[64];
	size_t tail_len;
	uint64_t total = 0, want;

	(void)state;
	assert_int_equal(range_multipart_plan(r, 2, 2825940544u, "application/octet-stream", "b",
					      parts, tail, sizeof(tail), &tail_len, &total),
			 GG_OK);
	assert_string_equal(parts[0].head, "\r\n--b\r\nContent-Type: application/octet-stream\r\n"
					   "Content-Range: bytes 0-1999999/2825940544\r\n\r\n");
	assert_string_equal(parts[1].head,
			    "\r\n--b\r\nContent-Type: application/octet-stream\r\n"
			    "Content-Range: bytes 2825940000-2825940543/2825940544\r\n\r\n");
	want = strlen(parts[0].head) + 2000000 + strlen(parts[1].head) + 544 +
	       strlen("\r\n--b--\r\n");
	assert_true(total == want);
	assert_int_equal(tail_len, 9);
}

static void
test_multipart_errors(void **state)
{
	struct byte_range ok[1] = { { 0, 9 } };
	struct byte_range bad_last[1] = { { 0, 10 } };
	struct byte_range bad_order[1] = { { 5, 4 } };
	struct byte_range huge[1] = { { UINT64_MAX - 2, UINT64_MAX - 1 } };
	struct range_part parts[1];
	char tail[128];
	char b70[71], b71[72];
	size_t tail_len;
	uint64_t total;

	(void)state;
	memset(b70, 'a', 70);
	b70[70] = '\0';
	memset(b71, 'a', 71);
	b71[71] = '\0';

	assert_int_equal(range_multipart_plan(ok, 1, 10, "text/plain", b70, parts, tail,
					      sizeof(tail), &tail_len, &total),
			 GG_OK);
	assert_int_equal(range_multipart_plan(ok, 1, 10, "text/plain", b71, parts, tail,
					      sizeof(tail), &tail_len, &total),
			 GG_EINVAL);
	assert_int_equal(range_multipart_plan(ok, 1, 10, "text/plain", "", parts, tail,
					      sizeof(tail), &tail_len, &total),
			 GG_EINVAL);
	assert_int_equal(range_multipart_plan(ok, 1, 10, "text/plain", "a-b", parts, tail,
					      sizeof(tail), &tail_len, &total),
			 GG_EINVAL);
	assert_int_equal(range_multipart_plan(ok, 1, 10, "text/plain\r\nX: y", "b", parts, tail,
					      sizeof(tail), &tail_len, &total),
			 GG_EINVAL);
	assert_int_equal(range_multipart_plan(ok, 0, 10, "text/plain", "b", parts, tail,
					      sizeof(tail), &tail_len, &total),
			 GG_EINVAL);
	assert_int_equal(range_multipart_plan(bad_last, 1, 10, "text/plain", "b", parts, tail,
					      sizeof(tail), &tail_len, &total),
			 GG_EINVAL);
	assert_int_equal(range_multipart_plan(bad_order, 1, 10, "text/plain", "b", parts, tail,
					      sizeof(tail), &tail_len, &total),
			 GG_EINVAL);
	/* The tail must fit, NUL included: "\r\n--b--\r\n" is 9 bytes. */
	assert_int_equal(range_multipart_plan(ok, 1, 10, "text/plain", "b", parts, tail, 9,
					      &tail_len, &total),
			 GG_ETOOBIG);
	assert_int_equal(range_multipart_plan(ok, 1, 10, "text/plain", "b", parts, tail, 10,
					      &tail_len, &total),
			 GG_OK);
	assert_int_equal(tail_len, 9);
	/* A head that does not fit its 192 bytes. */
	assert_int_equal(range_multipart_plan(huge, 1, UINT64_MAX, "application/octet-stream", b70,
					      parts, tail, sizeof(tail), &tail_len, &total),
			 GG_ETOOBIG);
	/* Lengths whose sum does not fit 64 bits. */
	{
		struct byte_range two[2] = { { 0, UINT64_MAX - 1 }, { 0, UINT64_MAX - 1 } };
		struct range_part p2[2];
		assert_int_equal(range_multipart_plan(two, 2, UINT64_MAX, "text/plain", "b", p2,
						      tail, sizeof(tail), &tail_len, &total),
				 GG_ETOOBIG);
		two[0].last = UINT64_MAX - 200;
		two[1].first = UINT64_MAX - 100;
		assert_int_equal(range_multipart_plan(two, 2, UINT64_MAX, "text/plain", "b", p2,
						      tail, sizeof(tail), &tail_len, &total),
				 GG_ETOOBIG);
	}
	/* tail_len and total may be NULL. */
	assert_int_equal(range_multipart_plan(ok, 1, 10, "text/plain", "b", parts, tail,
					      sizeof(tail), NULL, NULL),
			 GG_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_header),
		cmocka_unit_test(test_rfc9110_examples),
		cmocka_unit_test(test_clamp_and_suffix),
		cmocka_unit_test(test_unsatisfiable),
		cmocka_unit_test(test_empty_entity),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_unit_and_whitespace),
		cmocka_unit_test(test_range_count_limit),
		cmocka_unit_test(test_abusive_sum),
		cmocka_unit_test(test_nul_and_bounds),
		cmocka_unit_test(test_header_length_limit),
		cmocka_unit_test(test_if_range),
		cmocka_unit_test(test_if_none_match),
		cmocka_unit_test(test_multipart_literal),
		cmocka_unit_test(test_multipart_independent),
		cmocka_unit_test(test_multipart_big_numbers),
		cmocka_unit_test(test_multipart_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
