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

#include "apimirror.h"
#include "app.h"
#include "http.h"
#include "huberr.h"
#include "store.h"
#include "log.h"

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
			cJSON_ReplaceItemInObjectCaseSensitive(j, "xetEnabled",
							       cJSON_CreateFalse());
	}
	cJSON_ArrayForEach (c, j)
		strip_xet(c);
}

/* Link: <UPSTREAM/api/...>; rel="next"  ->  <OURS/api/...>; rel="next" */
static void
rewrite_link(struct req *r, const char *link, char *out, size_t n)
{
	const char *base = app_upstream_base(r->app);
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

/* A cached answer; stale: it could not be checked because upstream
 * rate-limits us, which a Warning says. */
static enum MHD_Result
serve_cached(struct req *r, const struct index_meta *m, const char *commit_hdr, int stale)
{
	const char *ae = http_header(r, "Accept-Encoding");
	struct MHD_Response *resp;
	struct buf plain;
	int gzip_ok = ae != NULL && strstr(ae, "gzip") != NULL;

	if (gzip_ok) {
		resp = http_response_buffer(m->len, m->data, MHD_RESPMEM_MUST_COPY);
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
			resp = http_response_buffer(len, p, MHD_RESPMEM_MUST_FREE);
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
	if (stale)
		MHD_add_response_header(resp, "Warning",
					"110 ggufd \"Response is Stale: upstream rate-limits this "
					"mirror\"");
	return http_queue(r, m->status ? m->status : MHD_HTTP_OK, resp);
}

static int
is_commit(const char *s)
{
	return strlen(s) == GG_SHA1_HEX && is_lower_hex(s, GG_SHA1_HEX);
}

/*
 * The cache key of a request: method, the whole target as received (path
 * and query, never cut: the index hashes keys over its length limit) and
 * a POST body's hash.  Caller frees.
 */
static char *
meta_key(struct req *r)
{
	unsigned char md[32];
	unsigned int ml;
	char hex[65];

	if (strcmp(r->method, "POST") != 0)
		return xasprintf("GET %s", r->raw_uri);
	EVP_Digest(r->body.data ? r->body.data : "", r->body.len, md, &ml, EVP_sha256(), NULL);
	hex_encode(md, 32, hex);
	return xasprintf("POST %s %s", r->raw_uri, hex);
}

static int mirror_key(struct req *r, const char *key, enum MHD_Result *res);

/*
 * Upstream's refs answer says which names are tags; the index records
 * mirrored revisions under their bare names, so it keeps each tag as
 * refs/tags/NAME too, and lists it as a tag when it answers the refs
 * itself (offline, or --upstream none over the same store).
 */
static void
learn_tags(struct req *r, const cJSON *j)
{
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(j, "tags"), *t;
	struct index_ref old;

	cJSON_ArrayForEach (t, tags) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(t, "name");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(t, "targetCommit");
		char ref[GG_MAX_REV_LEN + 1];
		if (!cJSON_IsString(n) || !cJSON_IsString(c) || !store_valid_path(n->valuestring) ||
		    strncmp(n->valuestring, "refs/", 5) == 0 ||
		    snprintf_checked(ref, sizeof(ref), "refs/tags/%s", n->valuestring) != GG_OK ||
		    strlen(c->valuestring) != GG_SHA1_HEX ||
		    !is_lower_hex(c->valuestring, GG_SHA1_HEX))
			continue;
		if (store_ref_get(r->app->st, r->route.type, r->route.repo, ref, &old) == GG_OK &&
		    strcmp(old.commit, c->valuestring) == 0)
			continue;
		store_set_ref(r->app->st, r->route.type, r->route.repo, ref, c->valuestring);
	}
}

/*
 * Answers an API route from the mirror.  Returns 1 when a response was
 * queued (*res), 0 when the caller should answer from the index.
 */
int
api_mirror(struct req *r, enum MHD_Result *res)
{
	char *key;
	int rc;

	if (r->app->up == NULL)
		return 0;
	key = meta_key(r);
	rc = mirror_key(r, key, res);
	free(key);
	return rc;
}

static int
mirror_key(struct req *r, const char *key, enum MHD_Result *res)
{
	struct store *st = r->app->st;
	struct upstream *up = app_upstream(r->app);
	struct index_meta m, put;
	struct upstream_resp ur;
	struct buf body, gz;
	int pinned = r->route.has_rev && is_commit(r->route.rev);
	int have = 0, rc;
	const char *method = strcmp(r->method, "POST") == 0 ? "POST" : "GET";
	cJSON *j;

	memset(&m, 0, sizeof(m));
	have = store_meta_get(st, r->route.type, r->route.repo, key, &m) == GG_OK;
	/* ggufd published to the repo after this answer was fetched: it
	 * describes refs and trees as they were, so it is neither fresh nor a
	 * fallback (the index knows the published commit). */
	if (have && !pinned && m.fetched_at <= store_changed_at(st, r->route.type, r->route.repo)) {
		free(m.data);
		m.data = NULL;
		have = 0;
	}
	if (have && (pinned || up == NULL || now_unix() - m.fetched_at < r->app->ref_ttl)) {
		*res = serve_cached(r, &m, NULL, 0);
		free(m.data);
		return 1;
	}
	if (up == NULL) {
		free(m.data);
		return 0; /* offline and never cached: the index may know */
	}
	buf_init(&body, GG_MAX_UPSTREAM_JSON);
	rc = upstream_api(up, method, r->raw_uri, r->body.data, r->body.len,
			  strcmp(method, "POST") == 0 ? http_header(r, "Content-Type") : NULL,
			  &body, &ur);
	if (rc != GG_OK) {
		buf_free(&body);
		if (have) {
			log_info("upstream %s: serving a stale %s",
				 ur.status == 429 ? "rate-limits us" : "unreachable", key);
			*res = serve_cached(r, &m, NULL, ur.status == 429);
			free(m.data);
			return 1;
		}
		free(m.data);
		return 0;
	}
	free(m.data);
	if (ur.status != 200) {
		buf_free(&body);
		*res = hub_relay_resp(r, &ur);
		return 1;
	}
	j = cJSON_ParseWithLength(body.data ? body.data : "", body.len);
	buf_free(&body);
	if (j == NULL) {
		*res = hub_upstream_bad(r, "Upstream answered with invalid JSON", NULL);
		return 1;
	}
	if (r->route.kind == ROUTE_API_REFS)
		learn_tags(r, j);
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
	if ((rc = store_meta_put(st, r->route.type, r->route.repo, key, &put)) != GG_OK)
		log_warnx("caching %s: %s", key, gg_strerror(rc));
	*res = serve_cached(r, &put, NULL, 0);
	buf_free(&gz);
	return 1;
}
