/*
 * test_gateway.c: unit tests for the upload gateway's journal handling
 * (server/gateway.c) that need no HTTP: recovery at start; for the
 * commit bodies' parser (server/commit.c, commit_parse); and for a
 * multipart upload's completion body (server/lfs.c, lfs_complete_parse).
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

#include "commit.h"
#include "gateway.h"
#include "lfs.h"
#include "store.h"
#include "util.h"

#define NJOBS 1500 /* more than any fixed batch the recovery could use */

struct count {
	unsigned state[4];
};

static int
count_cb(void *ctx, uint64_t id, const struct index_upload *rec)
{
	struct count *c = ctx;
	(void)id;
	if (rec->state < 4)
		c->state[rec->state]++;
	return 0;
}

/*
 * Bug B4 (review): recovery at start took at most 1024 jobs caught
 * publishing; the rest stayed "publishing" forever, since the worker only
 * takes pending ones.  Every such job must go back to pending (a retryable
 * upload) or to failed (a client was waiting for it).
 */
static void
test_recovery_takes_every_job(void **state)
{
	char tmpl[] = "/tmp/ggufd-gw-XXXXXX";
	char *dir = mkdtemp(tmpl), *cmd;
	struct store *st = NULL;
	struct gateway_config cfg;
	struct gateway *gw;
	struct count c;
	(void)state;

	assert_non_null(dir);
	assert_int_equal(store_open(dir, &st), GG_OK);
	for (uint64_t id = 1; id <= NJOBS; id++) {
		struct index_upload u;
		char job[128];
		snprintf(job, sizeof(job),
			 "{\"id\":%llu,\"repo\":\"ruv/ruvltra\",\"retry\":%s,\"created\":1,"
			 "\"attempts\":0}",
			 (unsigned long long)id, id % 3 == 0 ? "false" : "true");
		memset(&u, 0, sizeof(u));
		u.state = STORE_JOB_PUBLISHING;
		u.data = job;
		u.len = strlen(job);
		assert_int_equal(store_upload_put(st, id, &u), GG_OK);
	}
	memset(&cfg, 0, sizeof(cfg));
	policy_defaults(&cfg.policy);
	gw = gateway_new(st, NULL, &cfg); /* no upstream: no worker either */
	assert_non_null(gw);
	gateway_free(gw);

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_upload_foreach(st, count_cb, &c), GG_OK);
	assert_int_equal(c.state[STORE_JOB_PUBLISHING], 0);
	assert_int_equal(c.state[STORE_JOB_PENDING], NJOBS - NJOBS / 3);
	assert_int_equal(c.state[STORE_JOB_FAILED], NJOBS / 3);
	store_close(st);
	cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

/* --- commit_parse ------------------------------------------------------------ */

struct taken {
	size_t n, files, headers;
	size_t refuse_at; /* 1-based, 0: none */
	char last_path[64];
};

static int
take_cb(void *ctx, const struct commit_op *op, char *why, size_t whysz, int *err)
{
	struct taken *t = ctx;
	t->n++;
	if (op->kind == COMMIT_OP_HEADER)
		t->headers++;
	else
		t->files++;
	snprintf(t->last_path, sizeof(t->last_path), "%s", op->path);
	if (t->refuse_at == t->n) {
		snprintf(why, whysz, "refused %s", op->path);
		*err = GG_EFORMAT;
		return 1;
	}
	return 0;
}

/* An NDJSON body: a header, then n deletions of f0, f1, ... */
static char *
deletions(size_t n, size_t *len)
{
	static const char head[] = "{\"key\":\"header\",\"value\":{\"summary\":\"x\"}}\n";
	struct buf b;
	char line[128];

	buf_init(&b, SIZE_MAX / 2);
	assert_int_equal(buf_append(&b, head, strlen(head)), GG_OK);
	for (size_t i = 0; i < n; i++) {
		int k = snprintf(line, sizeof(line),
				 "{\"key\":\"deletedFile\",\"value\":{\"path\":\"f%zu\"}}\n", i);
		assert_int_equal(buf_append(&b, line, (size_t)k), GG_OK);
	}
	*len = b.len;
	return b.data;
}

/*
 * Found reading the parser for the fuzz targets: a commit's files and
 * deletions were not counted, and each costs the job a record of over a
 * kilobyte, so a 256 MB NDJSON body of one-line deletions (any upload
 * token: the admin check comes after the parse) made a job of gigabytes.
 * At most GG_MAX_COMMIT_OPS are taken; the next is refused (400).
 */
static void
test_commit_ops_bounded(void **state)
{
	struct taken t;
	char why[900], *body;
	size_t len;
	int err = 0;

	(void)state;
	body = deletions(GG_MAX_COMMIT_OPS, &len);
	memset(&t, 0, sizeof(t));
	assert_int_equal(commit_parse(body, len, 0, take_cb, &t, why, sizeof(why), &err), GG_OK);
	assert_int_equal(t.files, GG_MAX_COMMIT_OPS);
	assert_int_equal(t.headers, 1);
	free(body);

	body = deletions(GG_MAX_COMMIT_OPS + 5, &len);
	memset(&t, 0, sizeof(t));
	assert_int_equal(commit_parse(body, len, 0, take_cb, &t, why, sizeof(why), &err),
			 GG_EINVAL);
	assert_int_equal(err, GG_EINVAL);
	assert_int_equal(t.files, GG_MAX_COMMIT_OPS);
	assert_non_null(strstr(why, "more than 10000 files and deletions"));
	free(body);
}

/* Refusals come in the body's order: a malformed line after one the
 * callback refuses is never reached, and one before it is reported first. */
static void
test_commit_first_fault_wins(void **state)
{
	static const char nd[] =
		"{\"key\":\"header\",\"value\":{\"summary\":\"s\"}}\n"
		"\n"
		"{\"key\":\"file\",\"value\":{\"path\":\"a.txt\",\"content\":\"YQ==\","
		"\"encoding\":\"base64\"}}\n"
		"{\"key\":\"lfsFile\",\"value\":{\"path\":\"b.gguf\",\"oid\":\"abc\"}}\n";
	struct taken t;
	char why[900];
	int err = 0;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.refuse_at = 2;
	assert_int_equal(commit_parse(nd, sizeof(nd) - 1, 0, take_cb, &t, why, sizeof(why), &err),
			 GG_EINVAL);
	assert_string_equal(why, "refused a.txt");
	assert_int_equal(err, GG_EFORMAT);

	memset(&t, 0, sizeof(t));
	assert_int_equal(commit_parse(nd, sizeof(nd) - 1, 0, take_cb, &t, why, sizeof(why), &err),
			 GG_EINVAL);
	assert_string_equal(why, "b.gguf: lfsFile needs a sha256 oid");
	assert_int_equal(err, GG_EINVAL);
	assert_int_equal(t.n, 2);

	/* Line numbers count the non-empty lines. */
	memset(&t, 0, sizeof(t));
	assert_int_equal(
		commit_parse("\n\n{\"key\":1}", 12, 0, take_cb, &t, why, sizeof(why), &err),
		GG_EINVAL);
	assert_string_equal(why, "line 1 is not {\"key\", \"value\"}");
}

/* The JSON form: not an object is GG_EFORMAT with nothing taken; else a
 * header, the files, the LFS files, the deletions, in that order. */
static void
test_commit_json_form(void **state)
{
	static const char js[] =
		"{\"deletedFiles\":[{\"path\":\"old.bin\"}],\"summary\":\"s\","
		"\"lfsFiles\":[{\"path\":\"m.gguf\",\"oid\":"
		"\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"}],"
		"\"files\":[{\"path\":\"README.md\",\"content\":\"\",\"encoding\":\"base64\"}]}";
	struct taken t;
	char why[900] = "untouched";
	int err = 0;

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_int_equal(commit_parse("[1]", 3, 1, take_cb, &t, why, sizeof(why), &err),
			 GG_EFORMAT);
	assert_int_equal(t.n, 0);
	assert_string_equal(why, "untouched");

	assert_int_equal(commit_parse(js, sizeof(js) - 1, 1, take_cb, &t, why, sizeof(why), &err),
			 GG_OK);
	assert_int_equal(t.n, 4);
	assert_string_equal(t.last_path, "old.bin");
	t.n = 0;
	t.refuse_at = 3;
	assert_int_equal(commit_parse(js, sizeof(js) - 1, 1, take_cb, &t, why, sizeof(why), &err),
			 GG_EINVAL);
	assert_string_equal(why, "refused m.gguf");
}

/* The completion's body names its oid and has a parts array; anything
 * else is refused before the parts are assembled. */
static void
test_lfs_complete_body(void **state)
{
	static const char oid[] =
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	static const char *refused[] = {
		"",
		"null",
		"[]",
		"{}",
		"{\"parts\":[]}",
		"{\"oid\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85\","
		"\"parts\":[]}",
		"{\"oid\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\","
		"\"parts\":{}}",
		"{\"oid\":1,\"parts\":[]}",
		"{\"oid\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\","
		"\"parts\":[]",
	};
	char hf[] = "{\"oid\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\","
		    "\"parts\":[{\"partNumber\":1,\"etag\":\"\\\"abc\\\"\"}]}";
	(void)state;
	assert_int_equal(lfs_complete_parse(hf, strlen(hf), oid), GG_OK);
	/* The length is the body's: not one byte more is read. */
	assert_int_equal(lfs_complete_parse(hf, strlen(hf) - 1, oid), GG_EINVAL);
	assert_int_equal(lfs_complete_parse(NULL, 0, oid), GG_EINVAL);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		assert_int_equal(lfs_complete_parse(refused[i], strlen(refused[i]), oid),
				 GG_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recovery_takes_every_job),
		cmocka_unit_test(test_commit_ops_bounded),
		cmocka_unit_test(test_commit_first_fault_wins),
		cmocka_unit_test(test_commit_json_form),
		cmocka_unit_test(test_lfs_complete_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
