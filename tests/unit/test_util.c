/*
 * test_util.c: the common module: the bounded number parser, hex, the
 * growable buffer's hard maximum, checked snprintf and constant-time
 * comparison.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

/* fmt_u64: the decimal digits, 0 and the largest value included. */
static void
test_fmt_u64(void **state)
{
	char b[21];
	(void)state;
	assert_int_equal(fmt_u64(b, 0), 1);
	assert_string_equal(b, "0");
	assert_int_equal(fmt_u64(b, 1048575), 7);
	assert_string_equal(b, "1048575");
	assert_int_equal(fmt_u64(b, UINT64_MAX), 20);
	assert_string_equal(b, "18446744073709551615");
}

static void
test_parse_u64(void **state)
{
	uint64_t v = 7;
	const char s[] = "12345xyz";
	(void)state;
	assert_int_equal(parse_u64(s, s + 5, UINT64_MAX, &v), GG_OK);
	assert_int_equal(v, 12345);
	assert_int_equal(parse_u64(s, s + 6, UINT64_MAX, &v), GG_EINVAL);
	assert_int_equal(parse_u64(s, s, UINT64_MAX, &v), GG_EINVAL);
	assert_int_equal(parse_u64_str("18446744073709551615", UINT64_MAX, &v), GG_OK);
	assert_true(v == UINT64_MAX);
	assert_int_equal(parse_u64_str("18446744073709551616", UINT64_MAX, &v), GG_ETOOBIG);
	assert_int_equal(parse_u64_str("99999999999999999999999", UINT64_MAX, &v), GG_ETOOBIG);
	assert_int_equal(parse_u64_str("65535", 65535, &v), GG_OK);
	assert_int_equal(parse_u64_str("65536", 65535, &v), GG_ETOOBIG);
	assert_int_equal(parse_u64_str("-1", UINT64_MAX, &v), GG_EINVAL);
	assert_int_equal(parse_u64_str("+1", UINT64_MAX, &v), GG_EINVAL);
	assert_int_equal(parse_u64_str(" 1", UINT64_MAX, &v), GG_EINVAL);
	assert_int_equal(parse_u64_str("", UINT64_MAX, &v), GG_EINVAL);
	assert_int_equal(parse_u64_str(NULL, UINT64_MAX, &v), GG_EINVAL);
	assert_int_equal(parse_u64_str("007", UINT64_MAX, &v), GG_OK);
	assert_int_equal(v, 7);
}

static void
test_hex(void **state)
{
	char out[9];
	const unsigned char in[4] = { 0x00, 0xab, 0x7f, 0xff };
	(void)state;
	hex_encode(in, 4, out);
	assert_string_equal(out, "00ab7fff");
	assert_true(is_lower_hex("0123456789abcdef", 16));
	assert_false(is_lower_hex("ABCDEF", 6));
	assert_false(is_lower_hex("12g4", 4));
}

static void
test_utf8(void **state)
{
	static const char *const good[] = {
		"",
		"ascii",
		"\xc3\xa9",
		"\xe6\x97\xa5",
		"\xf0\x9f\x98\x80",
		"\xc2\x80",
		"\xdf\xbf",
		"\xe0\xa0\x80",
		"\xed\x9f\xbf",
		"\xee\x80\x80",
		"\xef\xbf\xbf",
		"\xf0\x90\x80\x80",
		"\xf4\x8f\xbf\xbf",
	};
	static const char *const bad[] = {
		"\x80",
		"\xbf",
		"\xc0\xaf",
		"\xc1\xbf",
		"\xc3",
		"a\xc3",
		"\xc3(",
		"\xe0\x80\xaf",
		"\xe0\x9f\xbf",
		"\xed\xa0\x80",
		"\xed\xbf\xbf",
		"\xe6\x97",
		"\xf0\x80\x80\x80",
		"\xf0\x8f\xbf\xbf",
		"\xf4\x90\x80\x80",
		"\xf5\x80\x80\x80",
		"\xf8\x88\x80\x80\x80",
		"\xfe",
		"\xff",
		"\xf0\x9f\x98",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!utf8_valid(good[i], strlen(good[i])))
			fail_msg("good[%zu] refused", i);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (utf8_valid(bad[i], strlen(bad[i])))
			fail_msg("bad[%zu] accepted", i);
	/* The length is honoured: a sequence cut by it is refused. */
	assert_false(utf8_valid("\xc3\xa9", 1));
	assert_true(utf8_valid("a\0b", 3));
}

static void
test_buf_limits(void **state)
{
	struct buf b;
	(void)state;
	buf_init(&b, 10);
	assert_string_equal(buf_cstr(&b), "");
	assert_int_equal(buf_puts(&b, "hello"), GG_OK);
	assert_int_equal(buf_printf(&b, "%d", 12345), GG_OK);
	assert_int_equal(b.len, 10);
	assert_string_equal(buf_cstr(&b), "hello12345");
	/* One byte past the maximum fails and changes nothing. */
	assert_int_equal(buf_puts(&b, "!"), GG_ETOOBIG);
	assert_int_equal(buf_printf(&b, "%s", "x"), GG_ETOOBIG);
	assert_string_equal(buf_cstr(&b), "hello12345");
	{
		size_t n;
		char *p = buf_steal(&b, &n);
		assert_int_equal(n, 10);
		assert_string_equal(p, "hello12345");
		free(p);
	}
	assert_int_equal(b.len, 0);
	buf_free(&b);
	buf_free(NULL);
}

static void
test_snprintf_checked(void **state)
{
	char small[4];
	(void)state;
	assert_int_equal(snprintf_checked(small, sizeof(small), "%s", "abc"), GG_OK);
	assert_int_equal(snprintf_checked(small, sizeof(small), "%s", "abcd"), GG_ETOOBIG);
}

static void
test_ct_equal(void **state)
{
	(void)state;
	assert_true(ct_equal("secret", "secret", 6));
	assert_false(ct_equal("secret", "secreT", 6));
	assert_false(ct_equal("Xecret", "secret", 6));
	assert_true(ct_equal("", "", 0));
}

static void
test_strerror(void **state)
{
	(void)state;
	assert_string_equal(gg_strerror(GG_OK), "ok");
	for (int e = GG_EUNAVAIL; e <= GG_EIO; e++)
		assert_string_not_equal(gg_strerror(e), "unknown error");
	assert_string_equal(gg_strerror(-999), "unknown error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_fmt_u64),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_buf_limits),
		cmocka_unit_test(test_snprintf_checked),
		cmocka_unit_test(test_ct_equal),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
