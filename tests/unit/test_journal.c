/*
 * test_journal.c: the upload journal's C struct and its JSON boundary
 * (storage/journal.c): a round trip, the layout the API shows, and
 * records that must be refused.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "journal.h"
#include "util.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define C1 "1111111111111111111111111111111111111111"

static void
make_job(struct upload_job *j)
{
	struct upload_file f;

	journal_job_init(j, 42, "ci", REPO_DATASET, "ruv/data", "refs/pr/1", "a summary",
			 "a description", 1);
	j->attempts = 3;
	j->next_at = 1234567;
	j->create_pr = 1;
	snprintf(j->parent, sizeof(j->parent), "%s", C1);
	memset(&f, 0, sizeof(f));
	snprintf(f.path, sizeof(f.path), "ruvltra-0.5b-q4_k_m.gguf");
	f.lfs = 1;
	f.overwrite = 1;
	snprintf(f.sha256, sizeof(f.sha256), "%s", SHA_A);
	f.size = (UINT64_C(1) << 40) + 7;
	journal_job_add(j, &f);
	memset(&f, 0, sizeof(f));
	snprintf(f.path, sizeof(f.path), "README.md");
	snprintf(f.sha256, sizeof(f.sha256), "%s", SHA_B);
	snprintf(f.gitsha1, sizeof(f.gitsha1), "%s", C1);
	f.size = 99;
	journal_job_add(j, &f);
	memset(&f, 0, sizeof(f));
	snprintf(f.path, sizeof(f.path), "old");
	f.deleted = 1;
	f.folder = 1;
	journal_job_add(j, &f);
}

static void
test_roundtrip(void **state)
{
	struct upload_job a, b;
	char *txt, *txt2;
	(void)state;

	make_job(&a);
	txt = journal_encode(&a);
	assert_int_equal(journal_decode(txt, strlen(txt), &b), GG_OK);
	assert_int_equal(b.id, 42);
	assert_int_equal(b.attempts, 3);
	assert_int_equal(b.next_at, 1234567);
	assert_int_equal(b.created, a.created);
	assert_true(b.retry && b.create_pr);
	assert_int_equal(b.type, REPO_DATASET);
	assert_string_equal(b.by, "ci");
	assert_string_equal(b.repo, "ruv/data");
	assert_string_equal(b.rev, "refs/pr/1");
	assert_string_equal(b.summary, "a summary");
	assert_string_equal(b.description, "a description");
	assert_string_equal(b.parent, C1);
	assert_int_equal(b.nfiles, 3);
	assert_true(b.files[0].lfs && b.files[0].overwrite && !b.files[1].overwrite);
	assert_int_equal(b.files[0].size, (UINT64_C(1) << 40) + 7);
	assert_string_equal(b.files[1].gitsha1, C1);
	assert_true(b.files[2].deleted && b.files[2].folder);
	/* Encoding what was decoded gives the same text. */
	txt2 = journal_encode(&b);
	assert_string_equal(txt, txt2);
	free(txt);
	free(txt2);
	journal_job_free(&a);
	journal_job_free(&b);
}

/* The layout GET /api/ggufd/uploads shows (and older journals hold). */
static void
test_layout(void **state)
{
	struct upload_job j;
	cJSON *o, *f;
	char *txt;
	(void)state;

	make_job(&j);
	j.state = STORE_JOB_DONE;
	snprintf(j.commit, sizeof(j.commit), "%s", C1);
	snprintf(j.commit_url, sizeof(j.commit_url), "http://x/ruv/data/commit/%s", C1);
	txt = journal_encode(&j);
	o = cJSON_Parse(txt);
	assert_non_null(o);
	assert_string_equal(cJSON_GetObjectItem(o, "state")->valuestring, "done");
	assert_string_equal(cJSON_GetObjectItem(o, "type")->valuestring, "dataset");
	assert_string_equal(cJSON_GetObjectItem(o, "revision")->valuestring, "refs/pr/1");
	assert_string_equal(cJSON_GetObjectItem(o, "parentCommit")->valuestring, C1);
	assert_string_equal(cJSON_GetObjectItem(o, "commit")->valuestring, C1);
	assert_non_null(cJSON_GetObjectItem(o, "commitUrl"));
	assert_null(cJSON_GetObjectItem(o, "error"));
	f = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "files"), 0);
	assert_string_equal(cJSON_GetObjectItem(f, "sha256")->valuestring, SHA_A);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(f, "lfs")));
	cJSON_Delete(o);
	free(txt);
	journal_job_free(&j);
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"repo\":\"ruv/x\"}",          /* no id */
		"{\"id\":0,\"repo\":\"ruv/x\"}", /* id 0 */
		"{\"id\":1}",                    /* no repo */
		"{\"id\":-1,\"repo\":\"ruv/x\"}",
		"{\"id\":1.5,\"repo\":\"ruv/x\"}",
		"{\"id\":1e300,\"repo\":\"ruv/x\"}",
		"{\"id\":\"1\",\"repo\":\"ruv/x\"}",
		"{\"id\":1,\"repo\":\"ruv/x\",\"type\":\"thing\"}",
		"{\"id\":1,\"repo\":\"ruv/x\",\"files\":{}}",
		"{\"id\":1,\"repo\":\"ruv/x\",\"files\":[{\"path\":\"a\"}]}", /* no sha256 */
		"{\"id\":1,\"repo\":\"ruv/x\",\"files\":[{\"sha256\":\"" SHA_A
		"\"}]}", /* no path */
		"{\"id\":1,\"repo\":\"ruv/x\",\"files\":[{\"path\":\"a\",\"sha256\":\"" SHA_A
		"\",\"size\":-5}]}",
	};
	struct upload_job j;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (journal_decode(bad[i], strlen(bad[i]), &j) != GG_ECORRUPT)
			fail_msg("accepted: %s", bad[i]);
		assert_null(j.files);
	}
	/* A minimal job and a deleted file need no content. */
	assert_int_equal(journal_decode("{\"id\":1,\"repo\":\"ruv/x\",\"files\":[{\"path\":\"a\","
					"\"deleted\":true}]}",
					strlen("{\"id\":1,\"repo\":\"ruv/x\",\"files\":[{\"path\":"
					       "\"a\",\"deleted\":true}]}"),
					&j),
			 GG_OK);
	assert_int_equal(j.nfiles, 1);
	journal_job_free(&j);
}

static void
test_store_roundtrip(void **state)
{
	char tmpl[] = "/tmp/ggufd-journal-XXXXXX";
	char *dir = mkdtemp(tmpl), *cmd;
	struct store *st = NULL;
	struct upload_job a, b;
	(void)state;

	assert_non_null(dir);
	assert_int_equal(store_open(dir, &st), GG_OK);
	make_job(&a);
	a.state = STORE_JOB_PUBLISHING;
	assert_int_equal(journal_put(st, &a), GG_OK);
	assert_int_equal(journal_get(st, 42, &b), GG_OK);
	assert_int_equal(b.state, STORE_JOB_PUBLISHING);
	assert_int_equal(b.nfiles, 3);
	journal_job_free(&b);
	assert_int_equal(journal_get(st, 43, &b), GG_ENOENT);
	assert_null(b.files);
	journal_job_free(&a);
	store_close(st);
	cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_store_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
