/*
 * test_gateway.c: unit tests for the upload gateway's journal handling
 * (server/gateway.c) that need no HTTP: recovery at start.
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

#include "gateway.h"
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recovery_takes_every_job),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
