/*
 * publish.c: a commit to the upstream Hub (see publish.h for the wire).
 *
 * The upstream token is attached by upstream_call only for URLs on the
 * upstream host; the LFS storage hrefs (presigned, often another host)
 * never see it.  Nothing here logs a URL's query (presigned signatures).
 */
#include "config.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "blob.h"
#include "json.h"
#include "log.h"
#include "publish.h"
#include "route.h"
#include "util.h"

#define LFS_JSON "application/vnd.git-lfs+json"

static int fail(struct publish_result *res, long status, int transient, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
fail(struct publish_result *res, long status, int transient, const char *fmt, ...)
{
	va_list ap;
	res->status = status;
	res->transient = transient;
	va_start(ap, fmt);
	vsnprintf(res->error, sizeof(res->error), fmt, ap);
	va_end(ap);
	return transient ? GG_EUNAVAIL : GG_EINVAL;
}

static int
transient_status(long status)
{
	return status == 0 || status == 408 || status == 429 || status >= 500;
}

/* Copies upstream's error message (JSON "error") into res. */
static int
fail_upstream(struct publish_result *res, const char *what, long status, const struct buf *body)
{
	cJSON *j = body && body->len ? cJSON_ParseWithLength(body->data, body->len) : NULL;
	cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	char msg[400];
	snprintf(msg, sizeof(msg), "%s: upstream answered %ld%s%s", what, status,
		 cJSON_IsString(e) ? ": " : "", cJSON_IsString(e) ? e->valuestring : "");
	cJSON_Delete(j);
	return fail(res, status, transient_status(status), "%s", msg);
}

/* POSTs a JSON body (Content-Type/Accept ctype) to url; the answer in *body. */
static int
post_json(struct upstream *up, const char *url, const char *ctype, const char *txt,
	  struct buf *body, long timeout_ms, struct upstream_resp *ur)
{
	struct upstream_call c;
	memset(&c, 0, sizeof(c));
	c.method = "POST";
	c.url = url;
	c.content_type = ctype;
	c.accept = ctype;
	c.body = txt;
	c.body_len = strlen(txt);
	c.upload_fd = -1;
	c.out = body;
	c.timeout_ms = timeout_ms;
	return upstream_call(up, &c, ur);
}

/* One LFS object's transfer, as the batch answer asks. */
static int
transfer_object(struct upstream *up, struct store *st, cJSON *obj, const struct publish_file *f,
		struct publish_result *res)
{
	cJSON *actions = cJSON_GetObjectItemCaseSensitive(obj, "actions");
	cJSON *upload = cJSON_GetObjectItemCaseSensitive(actions, "upload");
	cJSON *verify = cJSON_GetObjectItemCaseSensitive(actions, "verify");
	cJSON *err = cJSON_GetObjectItemCaseSensitive(obj, "error");
	cJSON *href, *header, *chunk;
	struct upstream_resp ur;
	struct upstream_call c;
	struct buf body;
	uint64_t size;
	int fd = -1, r = GG_OK;

	if (err != NULL) {
		cJSON *m = cJSON_GetObjectItemCaseSensitive(err, "message");
		return fail(res, 422, 0, "LFS object refused upstream: %s",
			    cJSON_IsString(m) ? m->valuestring : "error");
	}
	if (upload == NULL)
		return GG_OK; /* already stored upstream */
	href = cJSON_GetObjectItemCaseSensitive(upload, "href");
	header = cJSON_GetObjectItemCaseSensitive(upload, "header");
	chunk = cJSON_GetObjectItemCaseSensitive(header, "chunk_size");
	if (!cJSON_IsString(href))
		return fail(res, 0, 0, "%s", "upstream LFS batch answer has no upload href");
	if ((r = store_blob_open(st, f->sha256, &fd, &size)) != GG_OK)
		return fail(res, 0, 0, "%.300s: staged content is missing", f->path);
	buf_init(&body, GG_MAX_UPSTREAM_JSON);
	memset(&c, 0, sizeof(c));
	c.upload_fd = fd;
	c.out = &body;
	if (chunk == NULL) {
		c.method = "PUT";
		c.url = href->valuestring;
		c.upload_len = size;
		if (upstream_call(up, &c, &ur) != GG_OK || ur.status / 100 != 2) {
			r = fail_upstream(res, "LFS upload", ur.status, &body);
			goto done;
		}
	} else {
		/* Multipart: the numbered header keys are the part URLs. */
		uint64_t cs = 0, nparts, i;
		cJSON *parts = cJSON_CreateArray(), *compl ;
		char *txt;

		if (cJSON_IsString(chunk))
			parse_u64_str(chunk->valuestring, UINT64_MAX, &cs);
		else if (json_get_u64(header, "chunk_size", JSON_MAX_EXACT_INT, &cs) != GG_OK)
			cs = 0;
		if (cs == 0) {
			cJSON_Delete(parts);
			r = fail(res, 0, 0, "%s", "upstream multipart answer has no chunk_size");
			goto done;
		}
		nparts = (size + cs - 1) / cs;
		for (i = 1; i <= nparts; i++) {
			char key[16];
			cJSON *u, *p;
			snprintf(key, sizeof(key), "%05llu", (unsigned long long)i);
			u = cJSON_GetObjectItemCaseSensitive(header, key);
			if (!cJSON_IsString(u)) {
				cJSON_Delete(parts);
				r = fail(res, 0, 0, "upstream multipart answer lacks part %s", key);
				goto done;
			}
			c.method = "PUT";
			c.url = u->valuestring;
			c.upload_off = (i - 1) * cs;
			c.upload_len = i == nparts ? size - (i - 1) * cs : cs;
			if (upstream_call(up, &c, &ur) != GG_OK || ur.status / 100 != 2 ||
			    ur.raw_etag[0] == '\0') {
				cJSON_Delete(parts);
				r = fail_upstream(res, "LFS part upload", ur.status, &body);
				goto done;
			}
			p = cJSON_CreateObject();
			cJSON_AddNumberToObject(p, "partNumber", (double)i);
			cJSON_AddStringToObject(p, "etag", ur.raw_etag);
			cJSON_AddItemToArray(parts, p);
		}
		compl = cJSON_CreateObject();
		cJSON_AddStringToObject(compl, "oid", f->sha256);
		cJSON_AddItemToObject(compl, "parts", parts);
		txt = cJSON_PrintUnformatted(compl );
		cJSON_Delete(compl );
		r = post_json(up, href->valuestring, LFS_JSON, txt, &body, GG_UP_LFS_COMPLETE_MS,
			      &ur);
		free(txt);
		if (r != GG_OK || ur.status / 100 != 2) {
			r = fail_upstream(res, "LFS multipart completion", ur.status, &body);
			goto done;
		}
	}
	if (verify != NULL) {
		cJSON *vh = cJSON_GetObjectItemCaseSensitive(verify, "href");
		char *txt;
		if (cJSON_IsString(vh)) {
			cJSON *vb = cJSON_CreateObject();
			cJSON_AddStringToObject(vb, "oid", f->sha256);
			cJSON_AddNumberToObject(vb, "size", (double)size);
			txt = cJSON_PrintUnformatted(vb);
			cJSON_Delete(vb);
			r = post_json(up, vh->valuestring, LFS_JSON, txt, &body, GG_UP_LFS_BATCH_MS,
				      &ur);
			free(txt);
			if (r != GG_OK || ur.status / 100 != 2) {
				r = fail_upstream(res, "LFS verify", ur.status, &body);
				goto done;
			}
		}
	}
	r = GG_OK;
done:
	buf_free(&body);
	close(fd);
	return r;
}

static int
lfs_phase(struct upstream *up, struct store *st, const struct publish_req *req,
	  struct publish_result *res)
{
	cJSON *b = cJSON_CreateObject(), *objs = cJSON_CreateArray(), *tr, *ref, *ans = NULL;
	struct upstream_resp ur;
	struct buf body;
	char *txt, *url;
	size_t n = 0;
	int r = GG_OK;

	for (size_t i = 0; i < req->n; i++) {
		cJSON *o;
		if (!req->files[i].lfs || req->files[i].deleted)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "oid", req->files[i].sha256);
		cJSON_AddNumberToObject(o, "size", (double)req->files[i].size);
		cJSON_AddItemToArray(objs, o);
		n++;
	}
	if (n == 0) {
		cJSON_Delete(objs);
		cJSON_Delete(b);
		return GG_OK;
	}
	cJSON_AddStringToObject(b, "operation", "upload");
	tr = cJSON_AddArrayToObject(b, "transfers");
	cJSON_AddItemToArray(tr, cJSON_CreateString("basic"));
	cJSON_AddItemToArray(tr, cJSON_CreateString("multipart"));
	cJSON_AddItemToObject(b, "objects", objs);
	cJSON_AddStringToObject(b, "hash_algo", "sha256");
	ref = cJSON_AddObjectToObject(b, "ref");
	cJSON_AddStringToObject(ref, "name", req->rev);
	txt = cJSON_PrintUnformatted(b);
	cJSON_Delete(b);
	url = xasprintf("/%s%s.git/info/lfs/objects/batch", route_type_prefix(req->type),
			req->repo);
	buf_init(&body, GG_MAX_UPSTREAM_JSON);
	if (post_json(up, url, LFS_JSON, txt, &body, GG_UP_LFS_BATCH_MS, &ur) != GG_OK ||
	    ur.status != 200) {
		r = fail_upstream(res, "LFS batch", ur.status, &body);
		goto done;
	}
	ans = cJSON_ParseWithLength(body.data ? body.data : "", body.len);
	{
		cJSON *aobjs = cJSON_GetObjectItemCaseSensitive(ans, "objects"), *o;
		if (!cJSON_IsArray(aobjs)) {
			r = fail(res, 0, 0, "%s", "upstream LFS batch answer is not valid");
			goto done;
		}
		cJSON_ArrayForEach (o, aobjs) {
			cJSON *oid = cJSON_GetObjectItemCaseSensitive(o, "oid");
			const struct publish_file *f = NULL;
			for (size_t i = 0; cJSON_IsString(oid) && i < req->n; i++)
				if (req->files[i].lfs &&
				    strcmp(req->files[i].sha256, oid->valuestring) == 0)
					f = &req->files[i];
			if (f == NULL) {
				r = fail(res, 0, 0, "%s",
					 "upstream LFS batch answered an unknown oid");
				goto done;
			}
			if ((r = transfer_object(up, st, o, f, res)) != GG_OK)
				goto done;
		}
	}
done:
	cJSON_Delete(ans);
	buf_free(&body);
	free(txt);
	free(url);
	return r;
}

static void
ndjson_line(struct buf *b, cJSON *o)
{
	char *t = cJSON_PrintUnformatted(o);
	buf_puts(b, t);
	buf_puts(b, "\n");
	free(t);
	cJSON_Delete(o);
}

static cJSON *
kv(const char *key, cJSON *value)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "key", key);
	cJSON_AddItemToObject(o, "value", value);
	return o;
}

int
publish_run(struct upstream *up, struct store *st, const struct publish_req *req,
	    struct publish_result *res)
{
	struct upstream_resp ur;
	struct upstream_call c;
	struct buf nd, body;
	char *url = NULL, *qrev = NULL;
	cJSON *h, *ans = NULL, *oid, *curl_, *pr;
	int r;

	memset(res, 0, sizeof(*res));
	if ((r = lfs_phase(up, st, req, res)) != GG_OK)
		return r;
	buf_init(&nd, GG_MAX_PUBLISH_NDJSON);
	h = cJSON_CreateObject();
	cJSON_AddStringToObject(h, "summary", req->summary);
	cJSON_AddStringToObject(h, "description", req->description);
	if (req->parent[0] != '\0')
		cJSON_AddStringToObject(h, "parentCommit", req->parent);
	ndjson_line(&nd, kv("header", h));
	for (size_t i = 0; i < req->n; i++) {
		const struct publish_file *f = &req->files[i];
		cJSON *v = cJSON_CreateObject();
		if (f->deleted) {
			cJSON_AddStringToObject(v, "path", f->path);
			ndjson_line(&nd, kv(f->folder ? "deletedFolder" : "deletedFile", v));
		} else if (f->lfs) {
			cJSON_AddStringToObject(v, "path", f->path);
			cJSON_AddStringToObject(v, "algo", "sha256");
			cJSON_AddStringToObject(v, "oid", f->sha256);
			cJSON_AddNumberToObject(v, "size", (double)f->size);
			ndjson_line(&nd, kv("lfsFile", v));
		} else {
			/* Regular files travel inline, base64. */
			uint64_t size;
			int fd = -1;
			char *data, *b64;
			if (store_blob_open(st, f->sha256, &fd, &size) != GG_OK ||
			    size > GG_MAX_INLINE_COMMIT_FILE) {
				if (fd >= 0)
					close(fd);
				cJSON_Delete(v);
				buf_free(&nd);
				return fail(res, 0, 0, "%.300s: staged content is missing",
					    f->path);
			}
			data = xmalloc(size ? size : 1);
			r = pread_all(fd, data, size, 0);
			close(fd);
			if (r != GG_OK) {
				free(data);
				cJSON_Delete(v);
				buf_free(&nd);
				return fail(res, 0, 0, "%.300s: cannot read staged content",
					    f->path);
			}
			b64 = b64_encode(data, size);
			free(data);
			cJSON_AddStringToObject(v, "content", b64);
			cJSON_AddStringToObject(v, "path", f->path);
			cJSON_AddStringToObject(v, "encoding", "base64");
			free(b64);
			ndjson_line(&nd, kv("file", v));
		}
	}
	qrev = upstream_quote(req->rev, 0);
	url = xasprintf("/api/%s/%s/commit/%s%s", route_type_plural(req->type), req->repo, qrev,
			req->create_pr ? "?create_pr=1" : "");
	buf_init(&body, GG_MAX_UPSTREAM_JSON);
	memset(&c, 0, sizeof(c));
	c.method = "POST";
	c.url = url;
	c.content_type = "application/x-ndjson";
	c.accept = "application/json";
	c.body = nd.data;
	c.body_len = nd.len;
	c.upload_fd = -1;
	c.out = &body;
	c.timeout_ms = GG_UP_COMMIT_MS;
	if (upstream_call(up, &c, &ur) != GG_OK || ur.status != 200) {
		r = fail_upstream(res, "commit", ur.status, &body);
		goto done;
	}
	ans = cJSON_ParseWithLength(body.data ? body.data : "", body.len);
	oid = cJSON_GetObjectItemCaseSensitive(ans, "commitOid");
	curl_ = cJSON_GetObjectItemCaseSensitive(ans, "commitUrl");
	pr = cJSON_GetObjectItemCaseSensitive(ans, "pullRequestUrl");
	if (!cJSON_IsString(oid) || strlen(oid->valuestring) != GG_SHA1_HEX ||
	    !is_lower_hex(oid->valuestring, GG_SHA1_HEX)) {
		r = fail(res, 0, 0, "%s", "upstream commit answer has no commitOid");
		goto done;
	}
	memcpy(res->commit, oid->valuestring, sizeof(res->commit));
	snprintf(res->commit_url, sizeof(res->commit_url), "%s",
		 cJSON_IsString(curl_) ? curl_->valuestring : "");
	snprintf(res->pr_url, sizeof(res->pr_url), "%s", cJSON_IsString(pr) ? pr->valuestring : "");
	r = GG_OK;
done:
	cJSON_Delete(ans);
	buf_free(&body);
	buf_free(&nd);
	free(url);
	free(qrev);
	return r;
}
