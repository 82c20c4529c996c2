/*
 * fuzz_commit.c: libFuzzer target for commit_parse (server/commit.c), the
 * body of POST /api/{type}s/{repo}/commit/{rev}, NDJSON and the JSON form.
 *
 * Input layout:
 *
 *   byte 0       bit 0: the JSON form (else NDJSON); bits 1..7: the
 *                operation (1-based) the callback refuses, as gateway.c's
 *                does for a policy fault; 0: none
 *   bytes 1..    the body, passed with its length and no NUL after it
 *
 * Beyond "no crash, no leak, no sanitizer report", a violated promise of
 * commit.h traps: each operation handed on has a valid path (a deleted
 * folder aside), a 64-hex oid, a size below 2^53, header strings within
 * the journal's fields, at most GG_MAX_COMMIT_OPS files and deletions;
 * the return is one of the documented three, with a refusal's reason and
 * code as documented; and the operations, written back as NDJSON, parse
 * to the same operations, and that text writes back to itself.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "commit.h"
#include "gg_limits.h"
#include "json.h"
#include "store.h"
#include "util.h"

#define REFUSED_WHY "refused by the harness"

/* An operation as the callback saw it, copied out. */
struct op_copy {
	enum commit_op_kind kind;
	char *path, *summary, *description, *parent, *oid;
	uint64_t size;
	int has_size;
	unsigned char *data;
	size_t len;
};

struct ops {
	struct op_copy *v;
	size_t n, cap;
	size_t refuse_at; /* 1-based; 0: take every one */
	size_t body_len;
	size_t files; /* files and deletions taken */
};

static void
ops_free(struct ops *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->v[i].path);
		free(o->v[i].summary);
		free(o->v[i].description);
		free(o->v[i].parent);
		free(o->v[i].oid);
		free(o->v[i].data);
	}
	free(o->v);
	o->v = NULL;
	o->n = o->cap = 0;
}

static int
collect(void *ctx, const struct commit_op *op, char *why, size_t whysz, int *err)
{
	struct ops *o = ctx;
	struct op_copy *c;

	CHECK(op->path != NULL && op->summary != NULL && op->description != NULL &&
	      op->parent != NULL && op->oid != NULL);
	switch (op->kind) {
	case COMMIT_OP_HEADER:
		CHECK(op->path[0] == '\0');
		CHECK(strlen(op->summary) <= COMMIT_MAX_SUMMARY);
		CHECK(strlen(op->description) <= COMMIT_MAX_DESCRIPTION);
		CHECK(strlen(op->parent) <= COMMIT_MAX_PARENT);
		break;
	case COMMIT_OP_LFS_FILE:
		CHECK(store_valid_path(op->path));
		CHECK(strlen(op->oid) == GG_SHA256_HEX && is_lower_hex(op->oid, GG_SHA256_HEX));
		CHECK(op->size <= JSON_MAX_EXACT_INT);
		CHECK(op->has_size || op->size == 0);
		break;
	case COMMIT_OP_FILE:
		CHECK(store_valid_path(op->path));
		CHECK(op->data != NULL);
		/* base64 decodes to at most 3/4 of its text, which the body holds. */
		CHECK(op->len <= o->body_len / 4 * 3);
		break;
	case COMMIT_OP_DELETED_FILE: CHECK(store_valid_path(op->path)); break;
	case COMMIT_OP_DELETED_FOLDER: break;
	default: CHECK(0);
	}
	if (op->kind != COMMIT_OP_HEADER)
		CHECK(++o->files <= GG_MAX_COMMIT_OPS);
	if (op->kind != COMMIT_OP_LFS_FILE)
		CHECK(op->oid[0] == '\0' && op->size == 0 && !op->has_size);
	if (op->kind != COMMIT_OP_FILE)
		CHECK(op->data == NULL && op->len == 0);

	if (o->n == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 8;
		o->v = xrealloc(o->v, o->cap * sizeof(*o->v));
	}
	c = &o->v[o->n++];
	memset(c, 0, sizeof(*c));
	c->kind = op->kind;
	c->path = xstrdup(op->path);
	c->summary = xstrdup(op->summary);
	c->description = xstrdup(op->description);
	c->parent = xstrdup(op->parent);
	c->oid = xstrdup(op->oid);
	c->size = op->size;
	c->has_size = op->has_size;
	c->len = op->len;
	if (op->data != NULL) {
		c->data = xmalloc(op->len + 1);
		memcpy(c->data, op->data, op->len);
	}
	if (o->refuse_at != 0 && o->n == o->refuse_at) {
		snprintf(why, whysz, "%s", REFUSED_WHY);
		*err = GG_ETOOBIG;
		return 1;
	}
	return 0;
}

static const char *
key_of(enum commit_op_kind k)
{
	switch (k) {
	case COMMIT_OP_HEADER: return "header";
	case COMMIT_OP_FILE: return "file";
	case COMMIT_OP_LFS_FILE: return "lfsFile";
	case COMMIT_OP_DELETED_FILE: return "deletedFile";
	default: return "deletedFolder";
	}
}

/* The operations as NDJSON, as huggingface_hub writes them. */
static char *
to_ndjson(const struct ops *o, size_t *len)
{
	struct buf b;

	buf_init(&b, SIZE_MAX / 2);
	for (size_t i = 0; i < o->n; i++) {
		const struct op_copy *c = &o->v[i];
		cJSON *line = cJSON_CreateObject(), *v = cJSON_CreateObject();
		char *txt, *b64 = NULL;

		cJSON_AddStringToObject(line, "key", key_of(c->kind));
		switch (c->kind) {
		case COMMIT_OP_HEADER:
			cJSON_AddStringToObject(v, "summary", c->summary);
			cJSON_AddStringToObject(v, "description", c->description);
			cJSON_AddStringToObject(v, "parentCommit", c->parent);
			break;
		case COMMIT_OP_FILE:
			b64 = b64_encode(c->data, c->len);
			cJSON_AddStringToObject(v, "path", c->path);
			cJSON_AddStringToObject(v, "content", b64);
			cJSON_AddStringToObject(v, "encoding", "base64");
			break;
		case COMMIT_OP_LFS_FILE:
			cJSON_AddStringToObject(v, "path", c->path);
			cJSON_AddStringToObject(v, "algo", "sha256");
			cJSON_AddStringToObject(v, "oid", c->oid);
			if (c->has_size)
				cJSON_AddNumberToObject(v, "size", (double)c->size);
			break;
		default: cJSON_AddStringToObject(v, "path", c->path);
		}
		free(b64);
		cJSON_AddItemToObject(line, "value", v);
		txt = cJSON_PrintUnformatted(line);
		cJSON_Delete(line);
		CHECK(txt != NULL && strchr(txt, '\n') == NULL);
		CHECK(buf_append(&b, txt, strlen(txt)) == GG_OK &&
		      buf_append(&b, "\n", 1) == GG_OK);
		free(txt);
	}
	*len = b.len;
	if (b.data == NULL)
		return xstrdup("");
	return b.data;
}

static int
same_op(const struct op_copy *a, const struct op_copy *b)
{
	return a->kind == b->kind && strcmp(a->path, b->path) == 0 &&
	       strcmp(a->summary, b->summary) == 0 && strcmp(a->description, b->description) == 0 &&
	       strcmp(a->parent, b->parent) == 0 && strcmp(a->oid, b->oid) == 0 &&
	       a->size == b->size && a->has_size == b->has_size && a->len == b->len &&
	       (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ops first = { 0 }, again = { 0 }, third = { 0 };
	char why[900], *nd1, *nd2;
	size_t len1, len2;
	int json_form, err = 12345, rc;

	if (size < 1)
		return 0;
	json_form = data[0] & 1;
	first.refuse_at = data[0] >> 1;
	first.body_len = size - 1;
	memset(why, 'x', sizeof(why));
	rc = commit_parse(size > 1 ? (const char *)data + 1 : NULL, size - 1, json_form, collect,
			  &first, why, sizeof(why), &err);
	switch (rc) {
	case GG_OK: CHECK(first.refuse_at == 0 || first.n < first.refuse_at); break;
	case GG_EFORMAT: CHECK(json_form && first.n == 0 && err == 12345 && why[0] == 'x'); break;
	case GG_EINVAL:
		CHECK(memchr(why, '\0', sizeof(why)) != NULL && why[0] != '\0');
		if (first.refuse_at != 0 && first.n == first.refuse_at)
			CHECK(err == GG_ETOOBIG && strcmp(why, REFUSED_WHY) == 0);
		else
			CHECK(err == GG_EINVAL);
		break;
	default: CHECK(0);
	}

	/* What was handed on, written back as NDJSON, parses to itself. */
	nd1 = to_ndjson(&first, &len1);
	again.body_len = len1;
	CHECK(commit_parse(nd1, len1, 0, collect, &again, why, sizeof(why), &err) == GG_OK);
	CHECK(again.n == first.n);
	for (size_t i = 0; i < first.n; i++)
		CHECK(same_op(&first.v[i], &again.v[i]));
	nd2 = to_ndjson(&again, &len2);
	CHECK(len1 == len2 && memcmp(nd1, nd2, len1) == 0);
	/* A refusal at the last operation stops the parse there. */
	if (again.n > 0) {
		third.refuse_at = again.n;
		third.body_len = len1;
		CHECK(commit_parse(nd1, len1, 0, collect, &third, why, sizeof(why), &err) ==
		      GG_EINVAL);
		CHECK(third.n == again.n && err == GG_ETOOBIG);
	}
	free(nd1);
	free(nd2);
	ops_free(&first);
	ops_free(&again);
	ops_free(&third);
	return 0;
}
