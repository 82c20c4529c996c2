/*
 * apimirror.c: the Hub's metadata routes mirrored from upstream
 * (HF-PROTOCOL.md 3, 6.3, 6.6, 6.8, 6.10).
 *
 *   client --GET /api/models/ruv/ruvltra/tree/main?recursive=true--> ggufd
 *   ggufd  --same path and query, our token, gzip accepted--> upstream
 *   upstream <-- 200 JSON, Link: <https://huggingface.co/api/...&cursor=X>; rel="next"
 *   ggufd: strip Xet (xetHash fields, xetEnabled -> false), gzip and keep
 *          it in the index (meta) with upstream's Link, answer gzip'd or
 *          plain as the client accepts, the Link rewritten to our own
 *          absolute URL as we are reached now (the address may change).
 *
 * Freshness: an answer for a 40-hex commit never changes and is never
 * asked again; others are fresh for the ref TTL, unless the gateway has
 * published to the repo since (store_changed_at): then they are dropped.
 * When upstream cannot be reached, a stale answer is served; with none,
 * the caller falls back to what the index knows (api.c), then 504.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "handlers.h"
#include "log.h"

int api_mirror(struct req *r, enum MHD_Result *res);

/* --- transforms ------------------------------------------------------------- */

/* Removes every Xet signal so clients stay on plain HTTP through us. */
static void
strip_xet(cJSON *j)
{
	cJSON *c;
	if (j == NULL)
		return;
	if (cJSON_IsObject(j)) {
		cJSON_DeleteItemFromObjectCaseSensitive(j, "xetHash");
		if (cJSON_GetObjectItemCaseSensitive(j, "xetEnabled") != NULL)
			cJSON_ReplaceItemInObjectCaseSensitive(j, "xetEnabled", cJSON_CreateFalse());
	}
	cJSON_ArrayForEach(c, j) strip_xet(c);
}

/* Link: <UPSTREAM/api/...>; rel="next"  ->  <OURS/api/...>; rel="next" */
static void
rewrite_link(struct req *r, const char *link, char *out, size_t n)
{
	const char *base = http_upstream_base(r);
	size_t bl = strlen(base);
	const char *lt = strchr(link, '<');
	char *ours = http_base_url(r);

	out[0] = '\0';
	if (lt != NULL && strncmp(lt + 1, base, bl) == 0 && lt[1 + bl] == '/') {
		if (snprintf_checked(out, n, "%.*s<%s%s", (int)(lt - link), link, ours,
				     lt + 1 + bl) != GG_OK)
			out[0] = '\0';
	}
	free(ours);
}

/* --- serving ---------------------------------------------------------------- */

static enum MHD_Result
serve_cached(struct req *r, const struct index_meta *m, const char *commit_hdr)
{
	const char *ae = http_header(r, "Accept-Encoding");
	struct MHD_Response *resp;
	struct buf plain;
	int gzip_ok = ae != NULL && strstr(ae, "gzip") != NULL;

	if (gzip_ok) {
		resp = MHD_create_response_from_buffer(m->len, m->data, MHD_RESPMEM_MUST_COPY);
		MHD_add_response_header(resp, "Content-Encoding", "gzip");
	} else {
		buf_init(&plain, GG_MAX_UPSTREAM_JSON);
		if (http_gunzip(m->data, m->len, &plain) != GG_OK) {
			buf_free(&plain);
			return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
					  "Cached answer is damaged", NULL);
		}
		{
			size_t len;
			char *p = buf_steal(&plain, &len);
			resp = MHD_create_response_from_buffer(len, p, MHD_RESPMEM_MUST_FREE);
		}
	}
	MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");
	MHD_add_response_header(resp, "Vary", "Origin, Accept-Encoding");
	if (m->aux[0] != '\0') {
		/* Stored as upstream sent it; pointed at us as we are now. */
		char link[2048];
		rewrite_link(r, m->aux, link, sizeof(link));
		if (link[0] != '\0')
			MHD_add_response_header(resp, "Link", link);
	}
	if (commit_hdr != NULL)
		MHD_add_response_header(resp, "X-Repo-Commit", commit_hdr);
	return http_queue(r, m->status ? m->status : MHD_HTTP_OK, resp);
}

static int
is_commit(const char *s)
{
	return strlen(s) == GG_SHA1_HEX && is_lower_hex(s, GG_SHA1_HEX);
}

/*
 * Answers an API route from the mirror.  Returns 1 when a response was
 * queued (*res), 0 when the caller should answer from the index.
 */
int
api_mirror(struct req *r, enum MHD_Result *res)
{
	struct store *st = http_store(r);
	struct upstream *up = http_upstream(r);
	struct index_txn *t = NULL;
	struct index_meta m, put;
	struct upstream_resp ur;
	struct buf body, gz;
	char key[GG_MAX_URL_LEN + 128];
	int pinned = r->route.has_rev && is_commit(r->route.rev);
	int have = 0, outdated = 0, rc;
	const char *method = strcmp(r->method, "POST") == 0 ? "POST" : "GET";
	cJSON *j;

	if (!http_has_upstream(r))
		return 0;
	/* The key: method, path and query as received, and a POST body's hash. */
	if (strcmp(method, "POST") == 0) {
		unsigned char md[32];
		unsigned int ml;
		char hex[65];
		EVP_Digest(r->body.data ? r->body.data : "", r->body.len, md, &ml, EVP_sha256(), NULL);
		hex_encode(md, 32, hex);
		snprintf(key, sizeof(key), "POST %s %s", r->raw_uri, hex);
	} else {
		snprintf(key, sizeof(key), "GET %s", r->raw_uri);
	}
	memset(&m, 0, sizeof(m));
	if (index_txn_begin(st->idx, 0, &t) == GG_OK) {
		have = index_meta_get(t, r->route.type, r->route.repo, key, &m) == GG_OK;
		/* ggufd published to the repo after this answer was fetched: it
		 * describes refs and trees as they were, so it is neither fresh
		 * nor a fallback (the index knows the published commit). */
		outdated = have && !pinned &&
			   m.fetched_at <= store_changed_at(st, t, r->route.type, r->route.repo);
		index_txn_abort(t);
	}
	if (outdated) {
		free(m.data);
		m.data = NULL;
		have = 0;
	}
	if (have && (pinned || up == NULL || now_unix() - m.fetched_at < http_ref_ttl(r))) {
		*res = serve_cached(r, &m, NULL);
		free(m.data);
		return 1;
	}
	if (up == NULL) {
		free(m.data);
		return 0; /* offline and never cached: the index may know */
	}
	buf_init(&body, GG_MAX_UPSTREAM_JSON);
	rc = upstream_api(up, method, r->raw_uri, r->body.data, r->body.len,
			  strcmp(method, "POST") == 0 ? http_header(r, "Content-Type") : NULL, &body,
			  &ur);
	if (rc != GG_OK) {
		buf_free(&body);
		if (have) {
			log_info("upstream unreachable: serving a stale %s", key);
			*res = serve_cached(r, &m, NULL);
			free(m.data);
			return 1;
		}
		free(m.data);
		return 0;
	}
	free(m.data);
	if (ur.status != 200) {
		struct upstream_resp *e = &ur;
		buf_free(&body);
		if (e->status == 401 || e->status == 403 || e->status == 404)
			*res = http_error(r, (unsigned)e->status, e->error_code[0] ? e->error_code : NULL,
					  e->error_message[0] ? e->error_message : "Upstream error",
					  e->repo_commit[0] ? e->repo_commit : NULL);
		else
			*res = http_error(r, MHD_HTTP_BAD_GATEWAY, "UpstreamError",
					  e->error_message[0] ? e->error_message : "Upstream error",
					  NULL);
		return 1;
	}
	j = cJSON_ParseWithLength(body.data ? body.data : "", body.len);
	buf_free(&body);
	if (j == NULL) {
		*res = http_error(r, MHD_HTTP_BAD_GATEWAY, "UpstreamError",
				  "Upstream answered with invalid JSON", NULL);
		return 1;
	}
	strip_xet(j);
	{
		char *txt = cJSON_PrintUnformatted(j);
		cJSON_Delete(j);
		if (txt == NULL)
			log_fatalx("cJSON_PrintUnformatted() failed: out of memory");
		buf_init(&gz, GG_MAX_UPSTREAM_JSON);
		rc = http_gzip(txt, strlen(txt), &gz);
		free(txt);
	}
	if (rc != GG_OK) {
		buf_free(&gz);
		*res = http_error_from(r, rc, "compressing the answer");
		return 1;
	}
	memset(&put, 0, sizeof(put));
	put.fetched_at = now_unix();
	put.status = 200;
	snprintf(put.aux, sizeof(put.aux), "%s", ur.link);
	put.data = gz.data;
	put.len = gz.len;
	if (index_txn_begin(st->idx, 1, &t) == GG_OK) {
		if (index_meta_put(t, r->route.type, r->route.repo, key, &put) == GG_OK)
			index_txn_commit(t);
		else
			index_txn_abort(t);
	}
	*res = serve_cached(r, &put, NULL);
	buf_free(&gz);
	return 1;
}
