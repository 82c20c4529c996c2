/*
 * test_index.c: unit tests for storage/index.c that need its statics
 * (the h2o idiom: the .c is included, so raw records can be written
 * under the keys index.c builds).
 */
#include "../../storage/index.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define C1 "1111111111111111111111111111111111111111"

static void
put_blob(struct index_txn *t, const char *sha256)
{
	struct index_blob b;
	memset(&b, 0, sizeof(b));
	b.size = 7;
	assert_int_equal(index_blob_put(t, sha256, &b), GG_OK);
}

/*
 * Bug B2 (review): index_file_put compared the old record's sha256 when
 * the old record could not be decoded, reading a struct that was never
 * written.  A record this build cannot decode is GG_ECORRUPT, and nothing
 * changes (no blob reference moves).
 */
static void
test_file_put_over_undecodable(void **state)
{
	char tmpl[] = "/tmp/ggufd-index-XXXXXX", key[KEY_MAX + 80];
	char *dir = mkdtemp(tmpl), *cmd;
	static const unsigned char junk[] = { 0x7f, 1, 2, 3 }; /* record version 127 */
	struct index *idx = NULL;
	struct index_txn *t = NULL;
	struct index_file f;
	struct index_blob b;
	size_t kl;
	(void)state;

	assert_non_null(dir);
	assert_int_equal(index_open(dir, &idx), GG_OK);
	assert_int_equal(index_txn_begin(idx, 1, &t), GG_OK);
	put_blob(t, SHA_A);
	put_blob(t, SHA_B);
	assert_int_equal(key_make(key, &kl, REPO_MODEL, "ruv/ruvltra", C1, "x.gguf", 0), GG_OK);
	assert_int_equal(db_put(t, idx->files, key, kl, junk, sizeof(junk)), GG_OK);

	memset(&f, 0, sizeof(f));
	f.size = 7;
	memcpy(f.sha256, SHA_B, sizeof(f.sha256));
	memcpy(f.oid, C1, sizeof(f.oid));
	assert_int_equal(index_file_put(t, REPO_MODEL, "ruv/ruvltra", C1, "x.gguf", &f),
			 GG_ECORRUPT);
	assert_int_equal(index_blob_get(t, SHA_A, &b), GG_OK);
	assert_int_equal(b.refcount, 0);
	assert_int_equal(index_blob_get(t, SHA_B, &b), GG_OK);
	assert_int_equal(b.refcount, 0);
	/* A decodable record is replaced, and the references move. */
	assert_int_equal(index_file_put(t, REPO_MODEL, "ruv/ruvltra", C1, "y.gguf", &f), GG_OK);
	memcpy(f.sha256, SHA_A, sizeof(f.sha256));
	assert_int_equal(index_file_put(t, REPO_MODEL, "ruv/ruvltra", C1, "y.gguf", &f), GG_OK);
	assert_int_equal(index_blob_get(t, SHA_A, &b), GG_OK);
	assert_int_equal(b.refcount, 1);
	assert_int_equal(index_blob_get(t, SHA_B, &b), GG_OK);
	assert_int_equal(b.refcount, 0);
	index_txn_abort(t);
	index_close(idx);
	cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_put_over_undecodable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
