/*
 * fuzz_batch.c: libFuzzer target for the upload gateway's list bodies:
 * lfs_batch_parse (server/lfs.c, POST /{repo}.git/info/lfs/objects/batch),
 * commit_preupload_parse (server/commit.c, POST .../preupload/{rev}) and
 * lfs_complete_parse (server/lfs.c, a multipart upload's completion, POST
 * /_ggufd/lfs/{oid}/complete).
 *
 * The whole input is the body, given to the three parsers with its length
 * and no NUL after it.  Beyond "no crash, no leak, no sanitizer report", a
 * broken promise of lfs.h or commit.h traps: the documented returns only,
 * counts within LFS_MAX_BATCH_OBJECTS and COMMIT_MAX_PREUPLOAD, a valid
 * object only with a 64-hex oid and a size below 2^53, every preupload
 * path valid by store_valid_path, a completion taken only for its own oid;
 * and what was parsed, written back as a body of the same kind, parses to
 * the same again.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "commit.h"
#include "json.h"
#include "lfs.h"
#include "store.h"
#include "util.h"

static int
valid_oid(const char *s)
{
	return strlen(s) == GG_SHA256_HEX && is_lower_hex(s, GG_SHA256_HEX);
}

static char *
print(cJSON *o)
{
	char *t = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	CHECK(t != NULL);
	return t;
}

/* The batch request as huggingface_hub writes it; a bad object stays bad
 * (a valid oid with a bad size keeps a bad size). */
static char *
batch_body(const struct lfs_batch *b)
{
	cJSON *o = cJSON_CreateObject(), *tr, *objs;

	cJSON_AddStringToObject(o, "operation", "upload");
	tr = cJSON_AddArrayToObject(o, "transfers");
	cJSON_AddItemToArray(tr, cJSON_CreateString("basic"));
	if (b->multipart)
		cJSON_AddItemToArray(tr, cJSON_CreateString("multipart"));
	objs = cJSON_AddArrayToObject(o, "objects");
	for (size_t i = 0; i < b->n; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "oid", b->objs[i].oid);
		if (!b->objs[i].ok && valid_oid(b->objs[i].oid))
			cJSON_AddNumberToObject(e, "size", -1);
		else
			cJSON_AddNumberToObject(e, "size", (double)b->objs[i].size);
		cJSON_AddItemToArray(objs, e);
	}
	cJSON_AddStringToObject(o, "hash_algo", "sha256");
	return print(o);
}

static void
fuzz_lfs_batch(const char *body, size_t len)
{
	struct lfs_batch b, again;
	char *txt;
	int rc = lfs_batch_parse(body, len, &b);

	CHECK(rc == GG_OK || rc == GG_EINVAL || rc == GG_EFORMAT);
	if (rc != GG_OK) {
		CHECK(b.n == 0 && b.objs == NULL && b.multipart == 0);
		lfs_batch_free(&b);
		return;
	}
	CHECK(b.n <= LFS_MAX_BATCH_OBJECTS && (b.n == 0 || b.objs != NULL));
	CHECK(b.multipart == 0 || b.multipart == 1);
	for (size_t i = 0; i < b.n; i++) {
		CHECK(b.objs[i].oid != NULL);
		CHECK(b.objs[i].size <= JSON_MAX_EXACT_INT);
		if (b.objs[i].ok)
			CHECK(valid_oid(b.objs[i].oid));
	}
	txt = batch_body(&b);
	CHECK(lfs_batch_parse(txt, strlen(txt), &again) == GG_OK);
	CHECK(again.n == b.n && again.multipart == b.multipart);
	for (size_t i = 0; i < b.n; i++) {
		CHECK(strcmp(again.objs[i].oid, b.objs[i].oid) == 0);
		CHECK(again.objs[i].ok == b.objs[i].ok);
		CHECK(!b.objs[i].ok || again.objs[i].size == b.objs[i].size);
	}
	free(txt);
	lfs_batch_free(&again);
	lfs_batch_free(&b);
	lfs_batch_free(&b); /* a freed one is a zeroed one */
}

static void
fuzz_preupload(const char *body, size_t len)
{
	struct commit_preupload_file *files = xcalloc(COMMIT_MAX_PREUPLOAD, sizeof(*files));
	struct commit_preupload_file *files2 = xcalloc(COMMIT_MAX_PREUPLOAD, sizeof(*files2));
	cJSON *doc, *doc2, *o, *list;
	size_t n = 12345, n2 = 0;
	char *txt;
	int rc = commit_preupload_parse(body, len, &doc, files, &n);

	CHECK(rc == GG_OK || rc == GG_EINVAL || rc == GG_EFORMAT);
	CHECK(n <= COMMIT_MAX_PREUPLOAD);
	if (rc == GG_EINVAL)
		CHECK(n == 0);
	for (size_t i = 0; i < n; i++) {
		CHECK(store_valid_path(files[i].path));
		CHECK(files[i].size <= JSON_MAX_EXACT_INT);
	}
	/* The files parsed, as a body, parse to themselves and nothing else. */
	o = cJSON_CreateObject();
	list = cJSON_AddArrayToObject(o, "files");
	for (size_t i = 0; i < n; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "path", files[i].path);
		cJSON_AddNumberToObject(e, "size", (double)files[i].size);
		cJSON_AddItemToArray(list, e);
	}
	txt = print(o);
	CHECK(commit_preupload_parse(txt, strlen(txt), &doc2, files2, &n2) == GG_OK);
	CHECK(n2 == n);
	for (size_t i = 0; i < n; i++)
		CHECK(strcmp(files2[i].path, files[i].path) == 0 &&
		      files2[i].size == files[i].size);
	free(txt);
	cJSON_Delete(doc2);
	cJSON_Delete(doc);
	free(files2);
	free(files);
}

/* The oid the completions of the corpus name. */
#define COMPLETE_OID "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void
fuzz_complete(const char *body, size_t len)
{
	cJSON *b, *o, *parts;
	char *txt;
	int rc = lfs_complete_parse(body, len, COMPLETE_OID);

	CHECK(rc == GG_OK || rc == GG_EINVAL);
	if (rc != GG_OK)
		return;
	/* Taken: an object naming this oid (and no other) with a parts array,
	 * which, written back with its parts, is taken again. */
	CHECK(lfs_complete_parse(body, len, "0" COMPLETE_OID) == GG_EINVAL);
	b = cJSON_ParseWithLength(body, len);
	CHECK(cJSON_IsObject(b));
	parts = cJSON_DetachItemFromObjectCaseSensitive(b, "parts");
	CHECK(cJSON_IsArray(parts));
	cJSON_Delete(b);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "oid", COMPLETE_OID);
	cJSON_AddItemToObject(o, "parts", parts);
	txt = print(o);
	CHECK(lfs_complete_parse(txt, strlen(txt), COMPLETE_OID) == GG_OK);
	free(txt);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = size > 0 ? (const char *)data : NULL;

	fuzz_lfs_batch(body, size);
	fuzz_preupload(body, size);
	fuzz_complete(body, size);
	return 0;
}
