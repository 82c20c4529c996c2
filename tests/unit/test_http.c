/*
 * test_http.c: unit tests for the HTTP core's helpers (server/http.c) that
 * need no connection: responses, the one GG_E* -> status mapping, gzip,
 * listen addresses; and the time-to-first-byte histogram's exposition
 * (stats.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gg_limits.h"
#include "http.h"
#include "stats.h"
#include "util.h"

/*
 * Bug B5 (review): responses were created unchecked, and a refused fd
 * response leaked its descriptor.  http_response_fd takes the fd in every
 * case: on success the response owns it, on failure it is closed.
 */
static void
test_response_fd_owns_fd(void **state)
{
	struct MHD_Response *resp;
	int fd;
	(void)state;

	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	/* libmicrohttpd refuses sizes past INT64_MAX. */
	resp = http_response_fd((uint64_t)INT64_MAX + 2, fd, 0);
	assert_null(resp);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);

	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	resp = http_response_fd(0, fd, 0);
	assert_non_null(resp);
	assert_true(fcntl(fd, F_GETFD) >= 0); /* the response holds it */
	MHD_destroy_response(resp);
	assert_int_equal(fcntl(fd, F_GETFD), -1);

	resp = http_response_buffer(2, "ok", MHD_RESPMEM_PERSISTENT);
	assert_non_null(resp);
	MHD_destroy_response(resp);
}

static void
test_status_for_error(void **state)
{
	static const struct {
		int err;
		unsigned status;
	} cases[] = {
		{ GG_OK, 200 },      { GG_ENOENT, 404 }, { GG_EINVAL, 400 },   { GG_ETOOBIG, 413 },
		{ GG_EFORMAT, 422 }, { GG_ERANGE, 416 }, { GG_EUNAVAIL, 503 }, { GG_ENOSPC, 507 },
		{ GG_EIO, 500 },     { GG_EDB, 500 },    { GG_ECORRUPT, 500 }, { GG_EEXIST, 500 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (http_status_for_error(cases[i].err) != cases[i].status)
			fail_msg("%s: %u", gg_strerror(cases[i].err),
				 http_status_for_error(cases[i].err));
}

static void
test_gzip_roundtrip(void **state)
{
	char text[5000];
	struct buf z, back;
	(void)state;

	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (char)('a' + i % 7);
	buf_init(&z, 1u << 20);
	buf_init(&back, 1u << 20);
	assert_int_equal(http_gzip(text, sizeof(text), &z), GG_OK);
	assert_true(z.len < sizeof(text));
	assert_int_equal(http_gunzip(z.data, z.len, &back), GG_OK);
	assert_int_equal(back.len, sizeof(text));
	assert_memory_equal(back.data, text, sizeof(text));
	buf_free(&back);
	/* Not gzip, and over the output bound. */
	buf_init(&back, 1u << 20);
	assert_int_equal(http_gunzip(text, sizeof(text), &back), GG_ECORRUPT);
	buf_free(&back);
	buf_init(&back, 100);
	assert_int_equal(http_gunzip(z.data, z.len, &back), GG_ETOOBIG);
	buf_free(&back);
	buf_free(&z);
}

static void
test_parse_listen(void **state)
{
	struct server_config c;
	(void)state;

	memset(&c, 0, sizeof(c));
	assert_int_equal(server_parse_listen("127.0.0.1:8080", &c), GG_OK);
	assert_string_equal(c.host, "127.0.0.1");
	assert_int_equal(c.port, 8080);
	assert_int_equal(server_parse_listen(":0", &c), GG_OK);
	assert_string_equal(c.host, "0.0.0.0");
	assert_int_equal(c.port, 0);
	assert_int_equal(server_parse_listen("[::1]:9", &c), GG_OK);
	assert_string_equal(c.host, "::1");
	assert_int_equal(server_parse_listen("127.0.0.1", &c), GG_EINVAL);
	assert_int_equal(server_parse_listen("127.0.0.1:65536", &c), GG_EINVAL);
	assert_int_equal(server_parse_listen("127.0.0.1:-1", &c), GG_EINVAL);
	assert_int_equal(server_parse_listen("[::1]9", &c), GG_EINVAL);
	assert_int_equal(server_parse_listen("", &c), GG_EINVAL);
}

/* ggufd_request_ttfb_seconds: one histogram per route kind seen, with
 * cumulative buckets, +Inf equal to the count, the sum in seconds. */
static void
test_ttfb_exposition(void **state)
{
	struct stats_gauges g;
	struct buf b;
	char *txt;
	size_t len;
	(void)state;

	memset(&g, 0, sizeof(g));
	stats_ttfb(ROUTE_HEALTHZ, 3000);    /* 3 ms */
	stats_ttfb(ROUTE_HEALTHZ, 2000000); /* 2 s */
	buf_init(&b, 1u << 20);
	assert_int_equal(stats_prometheus(&g, &b), GG_OK);
	txt = buf_steal(&b, &len);
	assert_non_null(strstr(txt, "# TYPE ggufd_request_ttfb_seconds histogram\n"));
	assert_non_null(strstr(
		txt, "ggufd_request_ttfb_seconds_bucket{route=\"healthz\",le=\"0.001\"} 0\n"));
	assert_non_null(strstr(
		txt, "ggufd_request_ttfb_seconds_bucket{route=\"healthz\",le=\"0.005\"} 1\n"));
	assert_non_null(
		strstr(txt, "ggufd_request_ttfb_seconds_bucket{route=\"healthz\",le=\"1\"} 1\n"));
	assert_non_null(
		strstr(txt, "ggufd_request_ttfb_seconds_bucket{route=\"healthz\",le=\"5\"} 2\n"));
	assert_non_null(strstr(
		txt, "ggufd_request_ttfb_seconds_bucket{route=\"healthz\",le=\"+Inf\"} 2\n"));
	assert_non_null(
		strstr(txt, "ggufd_request_ttfb_seconds_sum{route=\"healthz\"} 2.003000\n"));
	assert_non_null(strstr(txt, "ggufd_request_ttfb_seconds_count{route=\"healthz\"} 2\n"));
	/* A route kind with no request has no series. */
	assert_null(strstr(txt, "ggufd_request_ttfb_seconds_count{route=\"metrics\"}"));
	free(txt);
}

/* http_target_check: the whole target's length, and a NUL that cut it. */
static void
test_target_check(void **state)
{
	char *t = malloc(GG_MAX_URL_LEN + 2);
	static const char q[] = "/api/models/org/m/tree/main?x=";

	(void)state;
	assert_non_null(t);
	assert_int_equal(http_target_check("/", 1), GG_OK);
	assert_int_equal(http_target_check("/a?b=c", 6), GG_OK);
	/* A raw NUL: the string is shorter than what came on the wire. */
	assert_int_equal(http_target_check("/org/m/resolve/main/config.json", 49), GG_EINVAL);
	/* %00 in the query (any parameter, name or value), not in the path. */
	assert_int_equal(http_target_check("/a?cursor=ab%00cd", 17), GG_EINVAL);
	assert_int_equal(http_target_check("/a?x=1&%00=2", 12), GG_EINVAL);
	assert_int_equal(http_target_check("/a?x=%0", 7), GG_OK);
	assert_int_equal(http_target_check("/a?x=%100", 9), GG_OK);
	assert_int_equal(http_target_check("/a%00b", 6), GG_OK);
	/* The query, decoded, must be UTF-8: %FF or a cut sequence is not. */
	assert_int_equal(http_target_check("/a?cursor=%FF", 13), GG_EFORMAT);
	assert_int_equal(http_target_check("/a?p=%C3", 8), GG_EFORMAT);
	assert_int_equal(http_target_check("/a?p=%C3%A9", 11), GG_OK);
	assert_int_equal(http_target_check("/a?p=\xc3\xa9", 7), GG_OK);
	assert_int_equal(http_target_check("/a?p=\xff", 6), GG_EFORMAT);
	assert_int_equal(http_target_check("/a%FF?x=1", 9), GG_OK);
	/* Path and query count together: 8192 bytes pass, 8193 are 414. */
	memcpy(t, q, sizeof(q) - 1);
	memset(t + sizeof(q) - 1, 'a', GG_MAX_URL_LEN - (sizeof(q) - 1));
	t[GG_MAX_URL_LEN] = '\0';
	assert_int_equal(http_target_check(t, GG_MAX_URL_LEN), GG_OK);
	t[GG_MAX_URL_LEN] = 'a';
	t[GG_MAX_URL_LEN + 1] = '\0';
	assert_int_equal(http_target_check(t, GG_MAX_URL_LEN + 1), GG_ETOOBIG);
	/* Over the limit on the wire, even when a NUL cut the copy short. */
	assert_int_equal(http_target_check("/", GG_MAX_URL_LEN + 1), GG_ETOOBIG);
	free(t);
}

/* http_form_check: a form body's escapes, NUL bytes and UTF-8. */
static void
test_form_check(void **state)
{
	static const struct {
		const char *body;
		size_t len; /* 0: strlen */
		int ok;
		const char *why;
	} rows[] = {
		{ "paths=config.json&paths=sub%2Fa.gguf&expand=true", 0, 1, NULL },
		{ "paths=%C3%A9t%C3%A9+x.txt", 0, 1, NULL },
		{ "paths=\xc3\xa9", 0, 1, NULL },
		{ "", 0, 1, NULL },
		{ "a&&b=", 0, 1, NULL },
		{ "paths=conf%FFig.json", 0, 0, "UTF-8" },
		{ "paths=conf\xffig.json", 0, 0, "UTF-8" },
		{ "paths=a%C0%AF", 0, 0, "UTF-8" },
		{ "pa%FFths=a", 0, 0, "UTF-8" },
		{ "paths=config.json%00.exe", 0, 0, "NUL" },
		{ "paths=a\0b", 9, 0, "NUL" },
		{ "paths=%zz", 0, 0, "percent-escape" },
		{ "paths=a%4", 0, 0, "percent-escape" },
		{ "paths=a%&x=1", 0, 0, "percent-escape" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *why = "unset";
		size_t len = rows[i].len ? rows[i].len : strlen(rows[i].body);
		int rc = http_form_check(rows[i].body, len, &why);

		if ((rc == GG_OK) != rows[i].ok)
			fail_msg("row %zu \"%s\": got %d", i, rows[i].body, rc);
		if (rows[i].ok && why != NULL)
			fail_msg("row %zu: why \"%s\" on success", i, why);
		if (!rows[i].ok && (why == NULL || strstr(why, rows[i].why) == NULL))
			fail_msg("row %zu: why \"%s\"", i, why ? why : "(null)");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_response_fd_owns_fd), cmocka_unit_test(test_ttfb_exposition),
		cmocka_unit_test(test_status_for_error),    cmocka_unit_test(test_gzip_roundtrip),
		cmocka_unit_test(test_parse_listen),        cmocka_unit_test(test_form_check),
		cmocka_unit_test(test_target_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
