/*
 * test_peers.c: unit tests for server/peers.c (rendezvous hashing).
 *
 * The weights are checked against values computed independently with
 * Python's hashlib (int.from_bytes(sha256((key + url).encode())
 * .digest()[:8], "big")), and the ranking's properties: every index once,
 * highest weight first, the same owner whatever the order of the list,
 * and removing a peer moves only the blobs it owned.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "peers.h"

#define KEY_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const char *const urls3[] = { "http://127.0.0.1:8001", "http://127.0.0.1:8002",
				     "http://127.0.0.1:8003" };

static void
test_weights_known(void **state)
{
	(void)state;
	/* python3: see the file's comment */
	assert_true(peers_weight(KEY_A, urls3[0]) == 0x2c355cc2cafa46f9ull);
	assert_true(peers_weight(KEY_A, urls3[1]) == 0x0e3b5e5bf07ec19eull);
	assert_true(peers_weight(KEY_A, urls3[2]) == 0x491696552ca6180dull);
}

static void
test_rank_known(void **state)
{
	size_t order[3];
	(void)state;
	peers_rank(KEY_A, urls3, 3, order);
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 0);
	assert_int_equal(order[2], 1);
}

/* A key from a number: 64 hex digits. */
static void
key_of(unsigned n, char key[65])
{
	snprintf(key, 65, "%064x", n);
}

static void
test_rank_properties(void **state)
{
	const char *urls[8] = { "http://a:1", "http://b:2", "http://c:3", "http://d:4",
				"http://e:5", "http://f:6", "http://g:7", "http://h:8" };
	const char *rev[8];
	size_t order[8], order2[8];
	unsigned owned[8] = { 0 };
	char key[65];
	(void)state;

	for (int i = 0; i < 8; i++)
		rev[i] = urls[7 - i];
	for (unsigned n = 0; n < 2000; n++) {
		int seen[8] = { 0 };
		key_of(n, key);
		peers_rank(key, urls, 8, order);
		for (int i = 0; i < 8; i++) {
			assert_true(order[i] < 8);
			assert_int_equal(seen[order[i]], 0);
			seen[order[i]] = 1;
			if (i > 0)
				assert_true(peers_weight(key, urls[order[i - 1]]) >=
					    peers_weight(key, urls[order[i]]));
		}
		owned[order[0]]++;
		/* The list's order does not change the owner. */
		peers_rank(key, rev, 8, order2);
		assert_string_equal(urls[order[0]], rev[order2[0]]);
		/* Without peer 3, a blob moves only if peer 3 owned it, and
		 * then to the next in its ranking. */
		{
			const char *less[7];
			size_t o7[7];
			for (int i = 0, k = 0; i < 8; i++)
				if (i != 3)
					less[k++] = urls[i];
			peers_rank(key, less, 7, o7);
			assert_string_equal(less[o7[0]], urls[order[order[0] == 3 ? 1 : 0]]);
		}
	}
	/* Spread: each of 8 peers owns some of 2000 blobs (about 250). */
	for (int i = 0; i < 8; i++)
		assert_true(owned[i] > 150 && owned[i] < 350);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weights_known),
		cmocka_unit_test(test_rank_known),
		cmocka_unit_test(test_rank_properties),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
