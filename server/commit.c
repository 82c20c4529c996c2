/*
 * commit.c: the commit protocol's request bodies, parsed (commit.h has the
 * wire formats).  What is checked here is what a body can get wrong by
 * itself: its shape, the paths, the oids and sizes, base64, the lengths
 * the journal keeps.  What needs the store or the rules (is the LFS object
 * here, may this name be published) is the caller's, operation by
 * operation as the parser hands them on, so a body is refused for its
 * first fault in its own order whichever kind that fault is.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commit.h"
#include "journal.h"
#include "json.h"
#include "store.h"
#include "util.h"

_Static_assert(sizeof(((struct upload_job *)0)->summary) == COMMIT_MAX_SUMMARY + 1,
	       "COMMIT_MAX_SUMMARY is the job's summary");
_Static_assert(sizeof(((struct upload_job *)0)->description) == COMMIT_MAX_DESCRIPTION + 1,
	       "COMMIT_MAX_DESCRIPTION is the job's description");
_Static_assert(sizeof(((struct upload_job *)0)->parent) == COMMIT_MAX_PARENT + 1,
	       "COMMIT_MAX_PARENT is the job's parent");

static const char *
jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* What the parse of one body carries from operation to operation. */
struct parse {
	commit_op_fn fn;
	void *ctx;
	char *why;
	size_t whysz;
	int *err;
	size_t nfiles; /* files and deletions handed on */
};

/* One operation (an NDJSON line's value, or a JSON-form entry): parsed,
 * then handed to fn.  0, or -1 with why and *err set. */
static int
one_op(struct parse *ps, const char *key, const cJSON *v)
{
	char *why = ps->why;
	size_t whysz = ps->whysz;
	int *err = ps->err;
	struct commit_op op;
	unsigned char *data = NULL;
	int rc;

	memset(&op, 0, sizeof(op));
	op.path = jstr(v, "path");
	op.summary = op.description = op.parent = op.oid = "";
	*err = GG_EINVAL;
	if (strcmp(key, "header") == 0) {
		op.kind = COMMIT_OP_HEADER;
		op.summary = jstr(v, "summary");
		op.description = jstr(v, "description");
		op.parent = jstr(v, "parentCommit");
		if (strlen(op.summary) > COMMIT_MAX_SUMMARY ||
		    strlen(op.description) > COMMIT_MAX_DESCRIPTION ||
		    strlen(op.parent) > COMMIT_MAX_PARENT) {
			snprintf(why, whysz,
				 "the commit's summary, description or parentCommit "
				 "is too long");
			return -1;
		}
		op.path = "";
	} else if (!store_valid_path(op.path) && strcmp(key, "deletedFolder") != 0) {
		snprintf(why, whysz, "\"%s\" is not a valid path", op.path);
		return -1;
	} else if (strcmp(key, "deletedFile") == 0 || strcmp(key, "deletedFolder") == 0) {
		op.kind = strcmp(key, "deletedFolder") == 0 ? COMMIT_OP_DELETED_FOLDER
							    : COMMIT_OP_DELETED_FILE;
	} else if (strcmp(key, "lfsFile") == 0) {
		op.kind = COMMIT_OP_LFS_FILE;
		op.oid = jstr(v, "oid");
		if (!(strlen(op.oid) == GG_SHA256_HEX && is_lower_hex(op.oid, GG_SHA256_HEX))) {
			snprintf(why, whysz, "%s: lfsFile needs a sha256 oid", op.path);
			return -1;
		}
		rc = json_get_u64(v, "size", JSON_MAX_EXACT_INT, &op.size);
		if (rc != GG_OK && rc != GG_ENOENT) {
			snprintf(why, whysz, "%s: lfsFile needs a size in bytes", op.path);
			return -1;
		}
		op.has_size = rc == GG_OK;
	} else if (strcmp(key, "file") == 0) {
		const char *content = jstr(v, "content");
		op.kind = COMMIT_OP_FILE;
		if (strcmp(jstr(v, "encoding"), "base64") != 0 ||
		    (data = b64_decode(content, strlen(content), &op.len)) == NULL) {
			snprintf(why, whysz, "%s: file content must be base64", op.path);
			return -1;
		}
		op.data = data;
	} else {
		snprintf(why, whysz, "unknown commit operation \"%s\"", key);
		return -1;
	}
	/* Every file and deletion costs the job a record (journal.h): a body
	 * of a few hundred MB of one-line deletions would take gigabytes. */
	if (op.kind != COMMIT_OP_HEADER && ps->nfiles++ == GG_MAX_COMMIT_OPS) {
		free(data);
		snprintf(why, whysz,
			 "the commit has more than %d files and deletions: split it into "
			 "several commits",
			 GG_MAX_COMMIT_OPS);
		return -1;
	}
	rc = ps->fn(ps->ctx, &op, why, whysz, err);
	free(data);
	return rc != 0 ? -1 : 0;
}

/* The JSON form: a header from the top level, then each list in turn. */
static int
parse_json_form(struct parse *ps, const cJSON *b)
{
	static const char *const lists[][2] = {
		{ "files", "file" },
		{ "lfsFiles", "lfsFile" },
		{ "deletedFiles", "deletedFile" },
	};
	const cJSON *e;

	if (one_op(ps, "header", b) != 0)
		return GG_EINVAL;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		cJSON_ArrayForEach (e, cJSON_GetObjectItemCaseSensitive(b, lists[i][0]))
			if (one_op(ps, lists[i][1], e) != 0)
				return GG_EINVAL;
	return GG_OK;
}

int
commit_parse(const char *body, size_t len, int json_form, commit_op_fn fn, void *ctx, char *why,
	     size_t whysz, int *err)
{
	const char *p = body != NULL ? body : "", *end = p + len;
	struct parse ps = { fn, ctx, why, whysz, err, 0 };
	int lines = 0, rc = GG_OK;

	if (json_form) {
		cJSON *b = cJSON_ParseWithLength(p, len);
		if (!cJSON_IsObject(b))
			rc = GG_EFORMAT;
		else
			rc = parse_json_form(&ps, b);
		cJSON_Delete(b);
		return rc;
	}
	while (rc == GG_OK && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (le > p) {
			cJSON *l = cJSON_ParseWithLength(p, (size_t)(le - p));
			cJSON *k = cJSON_GetObjectItemCaseSensitive(l, "key");
			cJSON *v = cJSON_GetObjectItemCaseSensitive(l, "value");
			if (!cJSON_IsString(k) || !cJSON_IsObject(v)) {
				snprintf(why, whysz, "line %d is not {\"key\", \"value\"}",
					 lines + 1);
				*err = GG_EINVAL;
				rc = GG_EINVAL;
			} else if (one_op(&ps, k->valuestring, v) != 0) {
				rc = GG_EINVAL;
			}
			cJSON_Delete(l);
			lines++;
		}
		p = nl ? nl + 1 : end;
	}
	return rc;
}

int
commit_preupload_parse(const char *body, size_t len, cJSON **doc,
		       struct commit_preupload_file *files, size_t *n)
{
	const cJSON *list, *f;

	*n = 0;
	*doc = cJSON_ParseWithLength(body != NULL ? body : "", len);
	list = cJSON_GetObjectItemCaseSensitive(*doc, "files");
	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > COMMIT_MAX_PREUPLOAD)
		return GG_EINVAL;
	cJSON_ArrayForEach (f, list) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(f, "path");
		uint64_t size = 0;
		if (!cJSON_IsString(p) ||
		    json_get_u64(f, "size", JSON_MAX_EXACT_INT, &size) != GG_OK ||
		    !store_valid_path(p->valuestring))
			return GG_EFORMAT;
		files[*n].path = p->valuestring;
		files[*n].size = size;
		(*n)++;
	}
	return GG_OK;
}
