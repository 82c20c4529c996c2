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
 *
 * A tree asked without a cursor or a limit is answered whole (upstream's pages
 * joined, up to GG_TREE_WHOLE_MAX entries): llama.cpp reads one page and
 * ignores Link (shared/CLIENTS.md 4.2).  A request with a cursor is
 * passed on as it is (so is one with a limit), so clients that page keep
 * paging.
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
	const char *lt = strchr(link, '<');
	/* On any tier: the tier that answered names itself. */
	const char *rest =
		lt != NULL && r->app->up != NULL ? upstream_tier_path(r->app->up, lt + 1) : NULL;
	char *ours = http_base_url(r);

	out[0] = '\0';
	if (rest != NULL) {
		if (snprintf_checked(out, n, "%.*s<%s%s", (int)(lt - link), link, ours, rest) !=
		    GG_OK)
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
 * Joins the pages after the first of a tree answer (j, an array) while
 * upstream's Link names a next page on upstream itself, for a request
 * without a cursor: llama.cpp reads the first page only (CLIENTS.md 4.2).
 * At most GG_TREE_MAX_PAGES pages and GG_TREE_WHOLE_MAX entries; past
 * them, *link keeps the next page's Link for clients that follow it.
 * 0, or GG_EUNAVAIL / GG_EFORMAT (a page upstream could not give, or not
 * an array) with *ur telling.
 */
static int
join_pages(struct upstream *up, cJSON *j, char *link, size_t linksz, struct upstream_resp *ur)
{
	int rc = GG_OK;

	for (int page = 1; page < GG_TREE_MAX_PAGES && cJSON_GetArraySize(j) < GG_TREE_WHOLE_MAX;
	     page++) {
		const char *lt = strchr(link, '<'), *gt = lt ? strchr(lt, '>') : NULL;
		const char *rest = lt != NULL ? upstream_tier_path(up, lt + 1) : NULL;
		struct buf body;
		cJSON *more, *e;
		char *target;

		if (gt == NULL || rest == NULL || strstr(gt, "rel=\"next\"") == NULL || rest >= gt)
			break;
		target = xstrndup(rest, (size_t)(gt - rest));
		buf_init(&body, GG_MAX_UPSTREAM_JSON);
		rc = upstream_api(up, "GET", target, NULL, 0, NULL, &body, ur);
		free(target);
		if (rc == GG_OK && ur->status != 200)
			rc = GG_EUNAVAIL;
		more = rc == GG_OK ? cJSON_ParseWithLength(body.data ? body.data : "", body.len)
				   : NULL;
		buf_free(&body);
		if (rc != GG_OK || !cJSON_IsArray(more)) {
			cJSON_Delete(more);
			return rc != GG_OK ? rc : GG_EFORMAT;
		}
		while ((e = cJSON_DetachItemFromArray(more, 0)) != NULL)
			cJSON_AddItemToArray(j, e);
		cJSON_Delete(more);
		snprintf(link, linksz, "%s", ur->link);
	}
	return rc;
}

static int
path_cmp(const void *a, const void *b)
{
	const cJSON *pa = cJSON_GetObjectItemCaseSensitive(*(cJSON *const *)a, "path");
	const cJSON *pb = cJSON_GetObjectItemCaseSensitive(*(cJSON *const *)b, "path");
	const char *x = cJSON_IsString(pa) ? pa->valuestring : "";
	const char *y = cJSON_IsString(pb) ? pb->valuestring : "";
	return strcmp(x, y);
}

/* Orders a whole listing by path, as ggufd's own trees are: the order
 * decides ties in llama.cpp's choice of a file (CLIENTS.md 1.2). */
static void
sort_by_path(cJSON *arr)
{
	size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
	cJSON **v, *e;

	if (n < 2)
		return;
	v = xcalloc(n, sizeof(*v));
	while (i < n && (e = cJSON_DetachItemFromArray(arr, 0)) != NULL)
		v[i++] = e;
	qsort(v, i, sizeof(*v), path_cmp);
	for (size_t k = 0; k < i; k++)
		cJSON_AddItemToArray(arr, v[k]);
	free(v);
}

/* What mirror_fetch found. */
struct mirrored {
	struct index_meta m; /* got: the answer, gzip'd JSON (m.data to free) */
	int got;
	int stale;               /* got from the cache, upstream rate-limits us */
	int relay;               /* upstream answered an error: ur */
	int err;                 /* neither: GG_EUNAVAIL (nothing), GG_EFORMAT, ... */
	struct upstream_resp ur; /* upstream's answer */
};

/*
 * The answer to `method target` for the route's repo: from the cache if
 * fresh (pinned: a commit's, never asked again), else from upstream (and
 * cached), else a stale cached one.  whole: a tree listing, its pages
 * joined (join_pages).
 */
static void
mirror_fetch(struct req *r, const char *key, const char *method, const char *target, int pinned,
	     int whole, struct mirrored *out)
{
	struct store *st = r->app->st;
	struct upstream *up = app_upstream(r->app);
	struct index_meta *m = &out->m;
	struct buf body, gz;
	char link[sizeof(out->ur.link)];
	int have, rc;
	cJSON *j;

	memset(out, 0, sizeof(*out));
	have = store_meta_get(st, r->route.type, r->route.repo, key, m) == GG_OK;
	/* ggufd published to the repo after this answer was fetched: it
	 * describes refs and trees as they were, so it is neither fresh nor a
	 * fallback (the index knows the published commit). */
	if (have && !pinned &&
	    m->fetched_at <= store_changed_at(st, r->route.type, r->route.repo)) {
		free(m->data);
		m->data = NULL;
		have = 0;
	}
	if (have && (pinned || up == NULL || now_unix() - m->fetched_at < r->app->ref_ttl)) {
		out->got = 1;
		return;
	}
	out->err = GG_EUNAVAIL;
	if (up == NULL) {
		free(m->data);
		m->data = NULL;
		return; /* offline and never cached: the index may know */
	}
	buf_init(&body, GG_MAX_UPSTREAM_JSON);
	rc = upstream_api(up, method, target, r->body.data, r->body.len,
			  strcmp(method, "POST") == 0 ? http_header(r, "Content-Type") : NULL,
			  &body, &out->ur);
	if (rc != GG_OK) {
		buf_free(&body);
		if (have) {
			log_info("upstream %s: serving a stale %s",
				 out->ur.status == 429 ? "rate-limits us" : "unreachable", key);
			out->got = 1;
			out->stale = out->ur.status == 429;
			return;
		}
		free(m->data);
		m->data = NULL;
		return;
	}
	free(m->data);
	memset(m, 0, sizeof(*m));
	if (out->ur.status != 200) {
		buf_free(&body);
		out->relay = 1;
		return;
	}
	j = cJSON_ParseWithLength(body.data ? body.data : "", body.len);
	buf_free(&body);
	out->err = GG_EFORMAT;
	if (j == NULL)
		return;
	snprintf(link, sizeof(link), "%s", out->ur.link);
	if (whole && cJSON_IsArray(j)) {
		struct upstream_resp more;
		if (link[0] != '\0' &&
		    (rc = join_pages(up, j, link, sizeof(link), &more)) != GG_OK) {
			cJSON_Delete(j);
			out->err = rc;
			out->ur = more;
			return;
		}
		if (link[0] == '\0')
			sort_by_path(j);
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
		out->err = rc;
		return;
	}
	m->fetched_at = now_unix();
	m->status = 200;
	snprintf(m->aux, sizeof(m->aux), "%s", link);
	{
		size_t len;
		m->data = buf_steal(&gz, &len);
		m->len = len;
	}
	if ((rc = store_meta_put(st, r->route.type, r->route.repo, key, m)) != GG_OK)
		log_warnx("caching %s: %s", key, gg_strerror(rc));
	out->got = 1;
	out->err = GG_OK;
}

/*
 * Answers an API route from the mirror.  Returns 1 when a response was
 * queued (*res), 0 when the caller should answer from the index.
 */
int
api_mirror(struct req *r, enum MHD_Result *res)
{
	struct mirrored mf;
	const char *method = strcmp(r->method, "POST") == 0 ? "POST" : "GET";
	int pinned = r->route.has_rev && is_commit(r->route.rev);
	int whole = 0;
	char *key;

	if (r->app->up == NULL)
		return 0;
	if (r->route.kind == ROUTE_API_TREE) {
		char *cursor = http_query_get(r, "cursor"), *limit = http_query_get(r, "limit");
		whole = cursor == NULL && limit == NULL;
		free(cursor);
		free(limit);
	}
	key = meta_key(r);
	mirror_fetch(r, key, method, r->raw_uri, pinned, whole, &mf);
	free(key);
	if (mf.got) {
		*res = serve_cached(r, &mf.m, NULL, mf.stale);
		free(mf.m.data);
		return 1;
	}
	if (mf.relay)
		*res = hub_relay_resp(r, &mf.ur);
	else if (mf.err == GG_EUNAVAIL)
		return 0;
	else if (mf.err == GG_EFORMAT)
		*res = hub_upstream_bad(r, "Upstream answered with invalid JSON", NULL);
	else
		*res = http_error_from(r, mf.err, "compressing the answer");
	return 1;
}

int
api_mirror_get(struct req *r, const char *target, int pinned, int whole, char **json,
	       struct upstream_resp *ur)
{
	struct mirrored mf;
	struct buf plain;
	char *key = xasprintf("GET %s", target);
	size_t len;
	int rc;

	*json = NULL;
	mirror_fetch(r, key, "GET", target, pinned, whole, &mf);
	free(key);
	*ur = mf.ur;
	if (!mf.got)
		return mf.relay ? GG_ENOENT : mf.err;
	buf_init(&plain, GG_MAX_UPSTREAM_JSON);
	rc = http_gunzip(mf.m.data, mf.m.len, &plain);
	free(mf.m.data);
	if (rc != GG_OK) {
		buf_free(&plain);
		return GG_ECORRUPT;
	}
	buf_cstr(&plain);
	*json = buf_steal(&plain, &len);
	return GG_OK;
}
