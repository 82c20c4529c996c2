/*
 * lfs.c: the Git LFS batch API and the transfers it hands out, terminated
 * at ggufd (HF-PROTOCOL.md 4.3-4.4).
 *
 *   POST /{repo}.git/info/lfs/objects/batch        bearer: a ggufd upload token
 *     -> {"operation":"upload","transfers":["basic","multipart"],
 *         "objects":[{"oid","size"}],"hash_algo":"sha256"}
 *     <- {"transfer":"basic","objects":[{"oid","size","authenticated":true,
 *          "actions":{"upload":{"href":"<us>/_ggufd/lfs/<oid>?size=N&exp=T&sig=H"}}}]}
 *        (no actions for objects the store has, so a retry sends nothing;
 *         above --multipart-threshold: header {"chunk_size","00001":<part
 *         href>,...}, href = the completion)
 *   PUT  /_ggufd/lfs/<oid>?size&exp&sig            no bearer: the HMAC signs
 *   PUT  /_ggufd/lfs/<oid>/part/<n>?size&exp&sig   what, oid, size, expiry and
 *   POST /_ggufd/lfs/<oid>/complete?size&exp&sig   part; the bytes are hashed as
 *        {"oid","parts":[{"partNumber","etag"}]}    they land, and kept only if
 *                                                    they hash to the oid
 *
 * A staged object is adopted by the store (refcount 0) and waits for the
 * commit that names it (gateway.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "app.h"
#include "gwint.h"
#include "json.h"
#include "lfs.h"
#include "log.h"
#include "huberr.h"
#include "store.h"
#include "token.h"

/* --- signed hrefs ------------------------------------------------------------- */

static void
sign_msg(char *buf, size_t n, const char *what, const char *oid, uint64_t size, uint64_t exp,
	 unsigned part)
{
	snprintf(buf, n, "%s\n%s\n%llu\n%llu\n%u", what, oid, (unsigned long long)size,
		 (unsigned long long)exp, part);
}

static char *
signed_href(struct req *r, struct gateway *gw, const char *what, const char *oid, uint64_t size,
	    unsigned part)
{
	uint64_t exp = now_unix() + gw->cfg.href_ttl;
	char msg[256], sig[65], *base, *href;

	sign_msg(msg, sizeof(msg), what, oid, size, exp, part);
	if (token_sign(gw->st, msg, sig) != GG_OK)
		return NULL;
	base = gw->cfg.public_url ? xstrdup(gw->cfg.public_url) : http_base_url(r);
	if (strcmp(what, "part") == 0)
		href = xasprintf("%s/_ggufd/lfs/%s/part/%u?size=%llu&exp=%llu&sig=%s", base, oid,
				 part, (unsigned long long)size, (unsigned long long)exp, sig);
	else if (strcmp(what, "complete") == 0)
		href = xasprintf("%s/_ggufd/lfs/%s/complete?size=%llu&exp=%llu&sig=%s", base, oid,
				 (unsigned long long)size, (unsigned long long)exp, sig);
	else
		href = xasprintf("%s/_ggufd/lfs/%s?size=%llu&exp=%llu&sig=%s", base, oid,
				 (unsigned long long)size, (unsigned long long)exp, sig);
	free(base);
	return href;
}

/* Checks ?size&exp&sig of a signed href.  0, or -1 after a 403. */
static int
check_signature(struct req *r, struct gateway *gw, const char *what, const char *oid, unsigned part,
		uint64_t *size, enum MHD_Result *res)
{
	char *s = http_query_get(r, "size"), *e = http_query_get(r, "exp");
	char *sig = http_query_get(r, "sig"), msg[256];
	uint64_t exp = 0;
	int ok = 0;

	if (s != NULL && e != NULL && sig != NULL &&
	    parse_u64_str(s, UINT64_MAX / 2, size) == GG_OK &&
	    parse_u64_str(e, UINT64_MAX / 2, &exp) == GG_OK) {
		sign_msg(msg, sizeof(msg), what, oid, *size, exp, part);
		ok = token_verify(gw->st, msg, sig) ? (exp >= now_unix() ? 1 : -1) : 0;
	}
	free(s);
	free(e);
	free(sig);
	if (ok == 1)
		return 0;
	*res = http_error(r, MHD_HTTP_FORBIDDEN, "InvalidSignature",
			  ok < 0 ? "This upload URL has expired: ask for a new one (LFS batch)"
				 : "This upload URL's signature is not valid",
			  NULL);
	return -1;
}

/* --- streamed objects and parts ------------------------------------------------- */

enum sink_kind { SINK_LFS, SINK_PART, SINK_COMPLETE };

struct sink {
	enum sink_kind kind;
	struct gateway *gw;
	char oid[GG_SHA256_HEX + 1];
	uint64_t size;   /* the object's size */
	uint64_t expect; /* bytes this request must carry */
	uint64_t got;
	unsigned part;
	struct blob_writer *w;
	struct blob_asm_part *ap;
	uint64_t reserved; /* bytes reserved under the store's quota */
	int failed;        /* a GG_E* code, sticky */
};

static void
sink_free(void *p)
{
	struct sink *s = p;
	blob_writer_abort(s->w);
	blob_asm_part_abort(s->ap);
	store_unreserve(s->gw->st, s->reserved);
	free(s);
}

static int
sink_data(struct req *r, const char *data, size_t n)
{
	struct sink *s = r->sink;
	int rc = GG_OK;

	if (s->failed)
		return s->failed;
	if (n > s->expect - s->got) {
		s->failed = GG_ETOOBIG;
		return s->failed;
	}
	if (s->w != NULL)
		rc = blob_writer_write(s->w, data, n);
	else if (s->ap != NULL)
		rc = blob_asm_part_write(s->ap, data, n);
	else if (s->kind == SINK_COMPLETE && buf_append(&r->body, data, n) != GG_OK)
		rc = GG_ETOOBIG;
	if (rc != GG_OK)
		s->failed = rc;
	s->got += n;
	return rc;
}

static int
oid_ok(const char *s, size_t n)
{
	return n == GG_SHA256_HEX && is_lower_hex(s, n);
}

/* Frees a sink that was never installed and answers; returns <0. */
static int
sink_refuse(struct req *r, struct sink *s, unsigned status, const char *code, const char *msg,
	    enum MHD_Result *res)
{
	free(s);
	*res = http_error(r, status, code, msg, NULL);
	return GG_EINVAL;
}

/* Room for n bytes under the store's quota, held until the sink is freed;
 * a 507 (the sink freed) when there is none. */
static int
reserve(struct req *r, struct sink *s, uint64_t n, enum MHD_Result *res)
{
	int rc = store_reserve(s->gw->st, n);
	if (rc == GG_OK) {
		s->reserved = n;
		return GG_OK;
	}
	free(s);
	*res = rc == GG_ENOSPC ? hub_store_full(r, n, NULL)
			       : http_error_from(r, rc, "making room in the store");
	return rc;
}

int
lfs_begin(struct req *r, enum MHD_Result *res)
{
	struct gateway *gw = r->app->gw;
	const char *what;
	struct sink *s;
	int64_t cl;
	int rc;

	s = xcalloc(1, sizeof(*s));
	s->gw = gw;
	memcpy(s->oid, r->route.oid, sizeof(s->oid));
	switch (r->route.kind) {
	case ROUTE_LFS_PART:
		s->kind = SINK_PART;
		s->part = (unsigned)r->route.id;
		what = "part";
		break;
	case ROUTE_LFS_COMPLETE:
		s->kind = SINK_COMPLETE;
		what = "complete";
		break;
	default:
		s->kind = SINK_LFS;
		what = "lfs";
		break;
	}
	if (check_signature(r, gw, what, s->oid, s->part, &s->size, res) != 0) {
		free(s);
		return GG_EINVAL;
	}
	cl = gateway_content_length(r);
	switch (s->kind) {
	case SINK_LFS:
		if (cl >= 0 && (uint64_t)cl != s->size)
			return sink_refuse(r, s, MHD_HTTP_BAD_REQUEST, "SizeMismatch",
					   "Content-Length differs from the object's size", res);
		s->expect = s->size;
		if ((rc = reserve(r, s, s->size, res)) != GG_OK)
			return rc;
		if ((rc = store_writer_open(gw->st, (int64_t)s->size, &s->w)) == GG_ENOSPC) {
			*res = hub_store_full(r, s->size, NULL);
			free(s);
			return rc;
		}
		if (rc != GG_OK)
			return sink_refuse(r, s, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
					   "Cannot stage", res);
		break;
	case SINK_PART: {
		uint64_t cs = gw->cfg.chunk_size, off = (uint64_t)(s->part - 1) * cs;
		uint64_t len = off < s->size ? (s->size - off < cs ? s->size - off : cs) : 0;
		if (len == 0 || (cl >= 0 && (uint64_t)cl != len))
			return sink_refuse(r, s, MHD_HTTP_BAD_REQUEST, "SizeMismatch",
					   "This part's length does not match the chunk size", res);
		s->expect = len;
		if ((rc = reserve(r, s, len, res)) != GG_OK)
			return rc;
		if (store_asm_part_open(gw->st, s->oid, s->size, off, len, &s->ap) != GG_OK)
			return sink_refuse(r, s, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
					   "Cannot stage", res);
		break;
	}
	default:
		s->expect = GG_MAX_BODY_BYTES; /* the completion's JSON */
		break;
	}
	http_set_sink(r, s, sink_data, sink_free);
	return GG_OK;
}

enum MHD_Result
lfs_end(struct req *r)
{
	struct sink *s = r->sink;
	struct gateway *gw = s->gw;
	struct blob_digest d;
	int rc, fresh;

	if (s->failed == GG_ETOOBIG)
		return http_error(r, MHD_HTTP_BAD_REQUEST, "SizeMismatch",
				  "The body is longer than the object", NULL);
	if (s->failed)
		return http_error_from(r, s->failed, "staging the upload");
	if (s->kind == SINK_LFS) {
		/* Counted as present from now on, not also as being written. */
		store_unreserve(gw->st, s->reserved);
		s->reserved = 0;
		rc = store_writer_finish(gw->st, s->w, s->oid, &d, &fresh);
		s->w = NULL;
		/* Kept for the commit that will name it; nothing stages it
		 * meanwhile, but a refused upload of the same bytes only drops
		 * a record it created itself. */
		if (rc == GG_OK)
			store_unstage(gw->st, s->oid);
		if (rc == GG_ECORRUPT)
			return http_error(
				r, MHD_HTTP_BAD_REQUEST, "OidMismatch",
				"The uploaded bytes do not match the oid and size; nothing "
				"was kept",
				NULL);
		if (rc != GG_OK)
			return http_error_from(r, rc, "storing the upload");
		log_info("staged LFS object %s (%llu bytes)", s->oid, (unsigned long long)s->size);
		return gateway_json_reply(r, MHD_HTTP_OK, cJSON_CreateObject(), NULL);
	}
	if (s->kind == SINK_PART) {
		char etag[GG_SHA256_HEX + 1], q[GG_SHA256_HEX + 3];
		struct MHD_Response *resp;
		rc = blob_asm_part_finish(s->ap, etag);
		s->ap = NULL;
		if (rc != GG_OK)
			return http_error(r, MHD_HTTP_BAD_REQUEST, "SizeMismatch",
					  "The part is shorter than its chunk", NULL);
		snprintf(q, sizeof(q), "\"%s\"", etag);
		resp = http_response_buffer(0, "", MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(resp, "ETag", q);
		return http_queue(r, MHD_HTTP_OK, resp);
	}
	/* Completion: the sha256 check below is what guarantees the object;
	 * the part list only has to be well formed. */
	if (lfs_complete_parse(r->body.data, r->body.len, s->oid) != GG_OK)
		return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest",
				  "Body must be {\"oid\": <this oid>, \"parts\": [...]}", NULL);
	rc = store_asm_finish(gw->st, s->oid, s->size, &d, &fresh);
	if (rc == GG_OK)
		store_unstage(gw->st, s->oid);
	if (rc == GG_ECORRUPT || rc == GG_ENOENT)
		return http_error(
			r, MHD_HTTP_BAD_REQUEST, "OidMismatch",
			"The assembled parts do not match the oid and size; nothing was kept",
			NULL);
	if (rc != GG_OK)
		return http_error_from(r, rc, "assembling the upload");
	log_info("staged LFS object %s (%llu bytes, multipart)", s->oid,
		 (unsigned long long)s->size);
	return gateway_json_reply(r, MHD_HTTP_OK, cJSON_CreateObject(), NULL);
}

int
lfs_complete_parse(const char *body, size_t len, const char *oid)
{
	cJSON *b = cJSON_ParseWithLength(body != NULL ? body : "", body != NULL ? len : 0);
	cJSON *o = cJSON_GetObjectItemCaseSensitive(b, "oid");
	cJSON *parts = cJSON_GetObjectItemCaseSensitive(b, "parts");
	int ok = cJSON_IsObject(b) && cJSON_IsString(o) && strcmp(o->valuestring, oid) == 0 &&
		 cJSON_IsArray(parts);

	cJSON_Delete(b);
	return ok ? GG_OK : GG_EINVAL;
}

/* --- the batch API ------------------------------------------------------------ */

int
lfs_batch_parse(const char *body, size_t len, struct lfs_batch *out)
{
	cJSON *op, *objs, *tr, *algo, *obj, *o;

	memset(out, 0, sizeof(*out));
	out->doc = cJSON_ParseWithLength(body != NULL ? body : "", len);
	op = cJSON_GetObjectItemCaseSensitive(out->doc, "operation");
	objs = cJSON_GetObjectItemCaseSensitive(out->doc, "objects");
	tr = cJSON_GetObjectItemCaseSensitive(out->doc, "transfers");
	algo = cJSON_GetObjectItemCaseSensitive(out->doc, "hash_algo");
	if (!cJSON_IsString(op) || !cJSON_IsArray(objs) ||
	    cJSON_GetArraySize(objs) > LFS_MAX_BATCH_OBJECTS ||
	    (algo != NULL &&
	     (!cJSON_IsString(algo) || (strcmp(algo->valuestring, "sha256") != 0 &&
					strcmp(algo->valuestring, "sha_256") != 0))))
		return GG_EINVAL;
	if (strcmp(op->valuestring, "upload") != 0)
		return GG_EFORMAT;
	cJSON_ArrayForEach (o, tr) {
		if (cJSON_IsString(o) && strcmp(o->valuestring, "multipart") == 0)
			out->multipart = 1;
	}
	out->objs = xcalloc((size_t)cJSON_GetArraySize(objs) + 1, sizeof(*out->objs));
	cJSON_ArrayForEach (obj, objs) {
		struct lfs_batch_object *b = &out->objs[out->n++];
		cJSON *oid = cJSON_GetObjectItemCaseSensitive(obj, "oid");
		int size_ok = json_get_u64(obj, "size", JSON_MAX_EXACT_INT, &b->size) == GG_OK;
		b->oid = cJSON_IsString(oid) ? oid->valuestring : "";
		b->ok = cJSON_IsString(oid) && oid_ok(b->oid, strlen(b->oid)) && size_ok;
	}
	return GG_OK;
}

void
lfs_batch_free(struct lfs_batch *b)
{
	if (b == NULL)
		return;
	cJSON_Delete(b->doc);
	free(b->objs);
	memset(b, 0, sizeof(*b));
}

enum MHD_Result
lfs_batch(struct req *r)
{
	struct gateway *gw = r->app->gw;
	enum MHD_Result res;
	struct lfs_batch in;
	cJSON *o, *out;
	int rc, used_multipart = 0;

	if (gateway_repo_allowed(r, gw, r->route.type, r->route.repo, &res) != 0)
		return res;
	rc = lfs_batch_parse(r->body.data, r->body.len, &in);
	if (rc == GG_EINVAL) {
		lfs_batch_free(&in);
		return http_error(
			r, MHD_HTTP_UNPROCESSABLE_CONTENT, "BadRequest",
			"Expected {\"operation\":\"upload\",\"objects\":[{\"oid\",\"size\"}],"
			"\"hash_algo\":\"sha256\"}",
			NULL);
	}
	if (rc != GG_OK) {
		lfs_batch_free(&in);
		return http_error(
			r, MHD_HTTP_UNPROCESSABLE_CONTENT, "BadRequest",
			"This gateway accepts LFS uploads only; download through /resolve/", NULL);
	}
	out = cJSON_CreateArray();
	for (size_t k = 0; k < in.n; k++) {
		const char *oid = in.objs[k].oid;
		uint64_t size = in.objs[k].size;
		cJSON *e = cJSON_CreateObject(), *actions, *upload;

		if (!in.objs[k].ok) {
			cJSON *err = cJSON_AddObjectToObject(e, "error");
			cJSON_AddStringToObject(e, "oid", oid);
			cJSON_AddNumberToObject(e, "size", (double)size);
			cJSON_AddNumberToObject(err, "code", 422);
			cJSON_AddStringToObject(err, "message",
						"oid must be 64 lowercase hex, size >= 0");
			cJSON_AddItemToArray(out, e);
			continue;
		}
		cJSON_AddStringToObject(e, "oid", oid);
		cJSON_AddNumberToObject(e, "size", (double)size);
		cJSON_AddTrueToObject(e, "authenticated");
		if (size > gateway_policy(gw)->max_size) {
			cJSON *err = cJSON_AddObjectToObject(e, "error");
			cJSON_AddNumberToObject(err, "code", 422);
			cJSON_AddStringToObject(err, "message",
						"object is over the upload size limit");
			cJSON_AddItemToArray(out, e);
			continue;
		}
		/* Already here: no action, so a retried upload sends nothing. */
		if (store_blob_exists(gw->st, oid)) {
			cJSON_AddItemToArray(out, e);
			continue;
		}
		actions = cJSON_AddObjectToObject(e, "actions");
		upload = cJSON_AddObjectToObject(actions, "upload");
		if (in.multipart && size > gw->cfg.multipart_threshold) {
			uint64_t cs = gw->cfg.chunk_size, nparts = (size + cs - 1) / cs;
			cJSON *h = cJSON_AddObjectToObject(upload, "header");
			char num[32], key[16];
			snprintf(num, sizeof(num), "%llu", (unsigned long long)cs);
			cJSON_AddStringToObject(h, "chunk_size", num);
			for (uint64_t i = 1; i <= nparts; i++) {
				char *href = signed_href(r, gw, "part", oid, size, (unsigned)i);
				snprintf(key, sizeof(key), "%05llu", (unsigned long long)i);
				cJSON_AddStringToObject(h, key, href ? href : "");
				free(href);
			}
			{
				char *href = signed_href(r, gw, "complete", oid, size, 0);
				cJSON_AddStringToObject(upload, "href", href ? href : "");
				free(href);
			}
			used_multipart = 1;
		} else {
			char *href = signed_href(r, gw, "lfs", oid, size, 0);
			cJSON_AddStringToObject(upload, "href", href ? href : "");
			free(href);
		}
		cJSON_AddNumberToObject(upload, "expires_in", gw->cfg.href_ttl);
		cJSON_AddItemToArray(out, e);
	}
	lfs_batch_free(&in);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "transfer", used_multipart ? "multipart" : "basic");
	cJSON_AddItemToObject(o, "objects", out);
	return gateway_json_reply(r, MHD_HTTP_OK, o, GW_LFS_JSON);
}
