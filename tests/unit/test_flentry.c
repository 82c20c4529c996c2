/*
 * test_flentry.c: unit tests for the fast lane's marks (server/flentry.c,
 * flentry_park): which request goes to the slow path, which waits for its
 * answer, and which never waits twice.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "flentry.h"
#include "util.h"

#define FILE_T "/ruv/ruvltra/resolve/main/ruvltra-0.5b-q4_k_m.gguf"

static void
wake_count(void *arg)
{
	(*(int *)arg)++;
}

static int
setup(void **state)
{
	static int woken;
	struct flentries *es = NULL;

	woken = 0;
	/* No app: flentry_park reads only the marks. */
	if (flentry_new(NULL, wake_count, &woken, &es) != GG_OK)
		return -1;
	*state = es;
	return 0;
}

static int
teardown(void **state)
{
	flentry_free(*state);
	return 0;
}

static int
park(struct flentries *es, const char *t, uint64_t *seq, uint64_t *until)
{
	return flentry_park(es, t, strlen(t), seq, until);
}

/* The first request for a file goes to the slow path and marks it; the
 * same request on other connections meanwhile waits, on that one mark,
 * for at most a second. */
static void
test_first_marks_others_park(void **state)
{
	struct flentries *es = *state;
	uint64_t s1 = 0, s2 = 0, s3 = 0, u1 = 0, u2 = 0, u3 = 0, now = now_us();

	assert_int_equal(park(es, FILE_T, &s1, &u1), 0);
	assert_true(s1 == 0); /* not parked: nothing to remember */
	assert_int_equal(park(es, FILE_T, &s2, &u2), 1);
	assert_int_equal(park(es, FILE_T, &s3, &u3), 1);
	assert_true(s2 != 0 && s2 == s3);
	assert_true(u2 == u3 && u2 > now && u2 <= now_us() + 1000000u);
	/* Parked again on the same mark (woken, nothing changed): it waits. */
	assert_int_equal(park(es, FILE_T, &s2, &u2), 1);
	/* Another file is its own: its first request goes, and marks. */
	assert_int_equal(park(es, "/ruv/ruvltra/resolve/main/other.gguf", &s1, &u1), 0);
}

/* Only a file can get an entry: the same API request from many at once
 * goes to the slow path every time, never waiting for nothing. */
static void
test_api_never_parks(void **state)
{
	struct flentries *es = *state;
	const char *api = "/api/models/ruv/ruvltra";
	uint64_t s = 0, u = 0;

	for (int i = 0; i < 3; i++) {
		assert_int_equal(park(es, api, &s, &u), 0);
		assert_true(s == 0);
	}
}

/* A request parked before (its mark ended: the slow path answered without
 * an entry) goes to the slow path, and marks nothing: the next request is
 * the first of a new mark. */
static void
test_parked_once_never_marks(void **state)
{
	struct flentries *es = *state;
	uint64_t old = 42, u = 0, s = 0;

	assert_int_equal(park(es, FILE_T, &old, &u), 0);
	assert_int_equal(park(es, FILE_T, &s, &u), 0); /* the first: marks */
	assert_int_equal(park(es, FILE_T, &s, &u), 1);
}

/* A mark lasts a second: past it, a parked request goes to the slow path;
 * after a new first request marked again, one parked on the old mark does
 * not wait on the new one. */
static void
test_mark_expires(void **state)
{
	struct flentries *es = *state;
	uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, u = 0;

	assert_int_equal(park(es, FILE_T, &s0, &u), 0);
	assert_int_equal(park(es, FILE_T, &s1, &u), 1);
	usleep(1050000);
	assert_int_equal(park(es, FILE_T, &s1, &u), 0); /* its time is up */
	assert_int_equal(park(es, FILE_T, &s2, &u), 0); /* a new first request */
	assert_int_equal(park(es, FILE_T, &s3, &u), 1);
	assert_true(s3 != 0 && s3 != s1);
	assert_int_equal(park(es, FILE_T, &s1, &u), 0); /* not on another's mark */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_marks_others_park, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_never_parks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parked_once_never_marks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mark_expires, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
