/*
 * admin.c: ggufd's own routes for operators and health checks.
 *
 *   GET  /healthz                 {"status":"ok"} while the index opens
 *   GET  /api/ggufd/repos         the repos in the store and their refs
 *   GET  /api/ggufd/activity      fetches in flight and the main totals
 *   GET  /api/ggufd/files         a revision's files with their blobs' state
 *   POST /api/ggufd/pull          start filling the store from upstream
 *   GET  /api/ggufd/pull[/{id}]   the pull jobs
 *   GET  /api/ggufd/audit         the gateway's audit log
 *   GET, POST /api/ggufd/tokens   the gateway tokens; create one
 *   DELETE /api/ggufd/tokens/{name}  revoke one
 *
 * The route table gives the scope (admin, or loopback until an admin token
 * exists) and requires an upstream for the pull routes, so the handlers
 * here only do their work.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "admin.h"
#include "app.h"
#include "audit.h"
#include "auth.h"
#include "http.h"
#include "log.h"
#include "fetch.h"
#include "gguf.h"
#include "huberr.h"
#include "pull.h"
#include "stats.h"
#include "store.h"
#include "tokens.h"
#include "upstream.h"
#include "visibility.h"

enum MHD_Result
admin_healthz(struct req *r)
{
	if (store_ping(r->app->st) != GG_OK)
		return http_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "index unavailable", NULL);
	return http_json(r, MHD_HTTP_OK, xstrdup("{\"status\":\"ok\"}"));
}

/* --- ggufd's own routes ----------------------------------------------------- */

/*
 *   POST /api/ggufd/pull   {"repo":"ruv/ruvltra","revision":"main",
 *                           "include":["*q4_k_m.gguf"],"pin":true}
 *        -> 202 {"id":1,"repo":...,"state":"running"}
 *   GET  /api/ggufd/pull         -> [jobs]
 *   GET  /api/ggufd/pull/{id}    -> job
 * Operator routes (SCOPE_ADMIN): an admin token, or a loopback client
 * while no admin token exists (auth.c).
 */
static enum MHD_Result
pull_start(struct req *r)
{
	struct pull_req pr;
	cJSON *body, *repo, *rev, *inc, *pin, *g;
	const char *name;
	long id;
	char *json;

	memset(&pr, 0, sizeof(pr));
	body = cJSON_ParseWithLength(r->body.data ? r->body.data : "", r->body.len);
	repo = cJSON_GetObjectItemCaseSensitive(body, "repo");
	rev = cJSON_GetObjectItemCaseSensitive(body, "revision");
	inc = cJSON_GetObjectItemCaseSensitive(body, "include");
	pin = cJSON_GetObjectItemCaseSensitive(body, "pin");
	if (!cJSON_IsObject(body) || !cJSON_IsString(repo) || (rev && !cJSON_IsString(rev)) ||
	    (inc && !cJSON_IsArray(inc)) || (pin && !cJSON_IsBool(pin))) {
		cJSON_Delete(body);
		return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest",
				  "Body must be JSON: {\"repo\": str, \"revision\"?: str, "
				  "\"include\"?: [str], \"pin\"?: bool}",
				  NULL);
	}
	if (route_split_repo(repo->valuestring, &pr.type, &name) != 0 ||
	    (rev && (strlen(rev->valuestring) == 0 || strlen(rev->valuestring) > GG_MAX_REV_LEN))) {
		cJSON_Delete(body);
		return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest", "Invalid repo or revision",
				  NULL);
	}
	snprintf(pr.repo, sizeof(pr.repo), "%s", name);
	snprintf(pr.rev, sizeof(pr.rev), "%s", rev ? rev->valuestring : "main");
	pr.pin = cJSON_IsTrue(pin);
	cJSON_ArrayForEach (g, inc) {
		if (!cJSON_IsString(g) || pr.nglobs == PULL_MAX_GLOBS) {
			cJSON_Delete(body);
			return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest",
					  "\"include\" takes at most 64 strings", NULL);
		}
		pr.globs[pr.nglobs++] = g->valuestring;
	}
	visibility_note(r->app, pr.type, pr.repo);
	id = pull_jobs_start(r->app->jobs, &pr); /* copies the globs */
	cJSON_Delete(body);
	if (id < 0)
		return http_error_from(r, (int)id, "starting the pull");
	json = pull_jobs_json(r->app->jobs, id);
	return http_json(r, MHD_HTTP_ACCEPTED, json ? json : xstrdup("{}"));
}

enum MHD_Result
admin_pull(struct req *r)
{
	if (strcmp(r->method, "POST") == 0)
		return pull_start(r);
	return http_json(r, MHD_HTTP_OK, pull_jobs_json(r->app->jobs, 0));
}

enum MHD_Result
admin_pull_job(struct req *r)
{
	char *json = pull_jobs_json(r->app->jobs, (long)r->route.id);
	if (json == NULL)
		return http_error(r, MHD_HTTP_NOT_FOUND, NULL, "No such job", NULL);
	return http_json(r, MHD_HTTP_OK, json);
}

/* --- GET /api/ggufd/repos ------------------------------------------------------ */

/*
 *   [{"type":"model","id":"ruv/ruvltra","refs":{"main":"<40 hex>",...}}, ...]
 * Every repo the store has a commit of, in key order, with its refs; a
 * repo upstream keeps private only to a caller who may read it
 * (visibility_listed).
 */
struct repos_ctx {
	struct req *r;
	struct store_view *v;
	cJSON *arr;
	cJSON *refs; /* of the repo being listed */
};

static int
repo_ref_cb(void *ctx, const char *ref, const struct index_ref *rec)
{
	struct repos_ctx *c = ctx;
	cJSON_AddStringToObject(c->refs, ref, rec->commit);
	return 0;
}

static int
repo_cb(void *ctx, enum repo_type type, const char *repo)
{
	struct repos_ctx *c = ctx;
	cJSON *o;

	if (!visibility_listed(c->r, type, repo))
		return 0;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", index_type_name(type));
	cJSON_AddStringToObject(o, "id", repo);
	c->refs = cJSON_AddObjectToObject(o, "refs");
	cJSON_AddItemToArray(c->arr, o);
	return store_view_refs(c->v, type, repo, repo_ref_cb, c);
}

enum MHD_Result
admin_repos(struct req *r)
{
	struct store_view v;
	struct repos_ctx c = { r, &v, cJSON_CreateArray(), NULL };
	char *txt;
	int rc = store_view_begin(r->app->st, &v);

	if (rc == GG_OK)
		rc = store_view_repos(&v, repo_cb, &c);
	store_view_end(&v);
	if (rc != GG_OK) {
		cJSON_Delete(c.arr);
		return http_error_from(r, rc, "listing the store");
	}
	txt = cJSON_PrintUnformatted(c.arr);
	cJSON_Delete(c.arr);
	if (txt == NULL)
		log_fatalx("cJSON_PrintUnformatted() failed: out of memory");
	return http_json(r, MHD_HTTP_OK, txt);
}

/* --- GET /api/ggufd/activity ---------------------------------------------------- */

/*
 *   {"time":<unix>,
 *    "upstream":{"base":"https://huggingface.co"|"","reachable":true|false|null,
 *                "since","lastOk","lastError","lastErrorAt","tooMany","retryAfter",
 *                "tiers":[{"url","up","since","failures","retryIn","failovers",
 *                          "lastError","origin"}],
 *                "self"?:"<url>","peers"?:[{...as a tier, "self" instead of "origin"}]},
 *    "fetches":[{"type","repo","commit","path","key","size","landed","readers"}],
 *    "totals":{"requests","servedStore","servedFetch","upstreamBytes",
 *              "upstreamRequests","fetchesStarted","fetchesVerified","fetchesFailed",
 *              "hits","misses"},
 *    "history":[{"t","requests","servedStore","servedFetch","upstreamBytes",
 *                "hits","misses"}]}
 * What the dashboard's activity view polls; rates are the client's to take
 * (two polls of the totals); "fetches" names a repo upstream keeps private
 * only to a caller who may read it (visibility_listed), while the totals
 * count every request.  "reachable" is null until ggufd has asked
 * upstream anything (and with no upstream); times are unix seconds, 0 for
 * never.  "history" is one entry per minute of the last hour that this
 * process counted in, oldest first, "t" the minute's start; the last is
 * the current minute, still counting.
 */
static void
add_health(struct app *app, cJSON *o)
{
	cJSON *u = cJSON_AddObjectToObject(o, "upstream");
	struct stats_health h;
	char base[512];

	stats_health(&h);
	upstream_url_public(app_upstream_base(app), base, sizeof(base));
	cJSON_AddStringToObject(u, "base", base);
	if (h.known)
		cJSON_AddBoolToObject(u, "reachable", h.reachable);
	else
		cJSON_AddNullToObject(u, "reachable");
	cJSON_AddNumberToObject(u, "since", (double)h.since);
	cJSON_AddNumberToObject(u, "lastOk", (double)h.last_ok);
	cJSON_AddStringToObject(u, "lastError", h.error);
	cJSON_AddNumberToObject(u, "lastErrorAt", (double)h.error_at);
	cJSON_AddNumberToObject(u, "tooMany", (double)h.too_many);
	cJSON_AddNumberToObject(u, "retryAfter", (double)h.retry_after);
	upstream_health_json(app->up, u);
}

static void
add_history(cJSON *o)
{
	struct stats_minute m[GG_STATS_HISTORY_MIN];
	size_t n = stats_history(m, GG_STATS_HISTORY_MIN);
	cJSON *arr = cJSON_AddArrayToObject(o, "history");

	for (size_t i = 0; i < n; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "t", (double)m[i].t);
		cJSON_AddNumberToObject(e, "requests", (double)m[i].requests);
		cJSON_AddNumberToObject(e, "servedStore", (double)m[i].served_store);
		cJSON_AddNumberToObject(e, "servedFetch", (double)m[i].served_fetch);
		cJSON_AddNumberToObject(e, "upstreamBytes", (double)m[i].upstream_bytes);
		cJSON_AddNumberToObject(e, "hits", (double)m[i].hits);
		cJSON_AddNumberToObject(e, "misses", (double)m[i].misses);
		cJSON_AddItemToArray(arr, e);
	}
}

/* o's string key with every URL's path cut to "/..." and what upstream
 * said after an HTTP status left out (its words may name a repo too):
 * "GET https://host/a/b: HTTP 500: msg" -> "GET https://host/...: HTTP 500". */
static void
redact_paths(cJSON *o, const char *key)
{
	cJSON *item = cJSON_GetObjectItemCaseSensitive(o, key);
	const char *p, *u;
	char *out, *q;
	size_t n;

	if (!cJSON_IsString(item) || item->valuestring == NULL)
		return;
	p = item->valuestring;
	n = 2 * strlen(p) + 8;
	q = out = xmalloc(n);
	while ((u = strstr(p, "://")) != NULL) {
		const char *e;
		memcpy(q, p, (size_t)(u + 3 - p));
		q += u + 3 - p;
		for (p = u + 3; *p != '\0' && *p != '/' && *p != ' '; p++)
			*q++ = *p;
		if (*p != '/')
			continue;
		for (e = p; *e != '\0' && *e != ' ' && *e != '\t' && *e != '\n'; e++)
			;
		memcpy(q, "/...", 4);
		q += 4;
		if (e[-1] == ':')
			*q++ = ':';
		p = e;
	}
	snprintf(q, n - (size_t)(q - out), "%s", p);
	if ((q = strstr(out, ": HTTP ")) != NULL) {
		q += 7;
		while (*q >= '0' && *q <= '9')
			q++;
		*q = '\0';
	}
	cJSON_ReplaceItemInObjectCaseSensitive(o, key, cJSON_CreateString(out));
	free(out);
}

/* The health's last errors, for a caller who may not see paths. */
static void
redact_health(cJSON *o)
{
	cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "upstream"), *e;
	static const char *const lists[] = { "tiers", "peers" };

	redact_paths(u, "lastError");
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		cJSON_ArrayForEach (e, cJSON_GetObjectItemCaseSensitive(u, lists[i]))
			redact_paths(e, "lastError");
}

struct fetches_ctx {
	struct req *r;
	cJSON *arr;
};

static void
fetch_cb(void *ctx, const struct fetch_spec *spec, uint64_t landed, unsigned readers)
{
	struct fetches_ctx *c = ctx;
	cJSON *o;

	if (!visibility_listed(c->r, spec->type, spec->repo))
		return;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", index_type_name(spec->type));
	cJSON_AddStringToObject(o, "repo", spec->repo);
	cJSON_AddStringToObject(o, "commit", spec->commit);
	cJSON_AddStringToObject(o, "path", spec->path);
	cJSON_AddStringToObject(o, "key", spec->key);
	cJSON_AddNumberToObject(o, "size", (double)spec->size);
	cJSON_AddNumberToObject(o, "landed", (double)landed);
	cJSON_AddNumberToObject(o, "readers", readers);
	cJSON_AddItemToArray(c->arr, o);
}

enum MHD_Result
admin_activity(struct req *r)
{
	cJSON *o = cJSON_CreateObject(), *t;
	struct fetches_ctx fc = { r, NULL };
	struct stats_totals s;
	char *txt;

	cJSON_AddNumberToObject(o, "time", (double)now_unix());
	add_health(r->app, o);
	if (!visibility_sees_all(r)) /* the paths name repos and files */
		redact_health(o);
	fc.arr = cJSON_AddArrayToObject(o, "fetches");
	fetcher_foreach(r->app->fm, fetch_cb, &fc);
	stats_totals(&s);
	t = cJSON_AddObjectToObject(o, "totals");
	cJSON_AddNumberToObject(t, "requests", (double)s.requests);
	cJSON_AddNumberToObject(t, "servedStore", (double)s.served_store);
	cJSON_AddNumberToObject(t, "servedFetch", (double)s.served_fetch);
	cJSON_AddNumberToObject(t, "upstreamBytes", (double)s.upstream_bytes);
	cJSON_AddNumberToObject(t, "upstreamRequests", (double)s.upstream_requests);
	cJSON_AddNumberToObject(t, "fetchesStarted", (double)s.fetches_started);
	cJSON_AddNumberToObject(t, "fetchesVerified", (double)s.fetches_ok);
	cJSON_AddNumberToObject(t, "fetchesFailed", (double)s.fetches_failed);
	cJSON_AddNumberToObject(t, "hits", (double)s.hits);
	cJSON_AddNumberToObject(t, "misses", (double)s.misses);
	add_history(o);
	txt = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (txt == NULL)
		log_fatalx("cJSON_PrintUnformatted() failed: out of memory");
	return http_json(r, MHD_HTTP_OK, txt);
}

/* --- GET /api/ggufd/files?repo=R[&rev=main][&q=TEXT][&offset=N][&limit=N] ---- */

/*
 *   {"repo","type","revision","commit","total":<matching files>,"offset",
 *    "files":[{"path","size","sha256","lfs","present","pinned","lastAccess","hits",
 *              "shard":{"index","count"}?,
 *              "gguf":{"arch","quant","params","context","tensors"}?}]}
 * The files of a revision with what the store knows of their blobs,
 * filtered by a substring of the path (q) and paged server-side, so that a
 * store of many files stays quick to browse.  "shard" is there for a file
 * of a split GGUF set, from its name ("x-00001-of-00003.gguf").  A repo
 * upstream keeps private is listed as it is read: only to a caller with a
 * read token (else 401 RepoNotFound, as its files get; visibility.h).
 */
struct files_ctx {
	struct req *r;
	struct store_view *v;
	const char *q;
	uint64_t offset, limit, total;
	cJSON *arr;
};

static int
file_cb(void *ctx, const char *path, const struct index_file *f)
{
	struct files_ctx *c = ctx;
	struct index_blob b;
	uint64_t hits, last;
	unsigned shard, shards;
	cJSON *o, *g;

	if (c->q != NULL && c->q[0] != '\0' && strcasestr(path, c->q) == NULL)
		return 0;
	if (c->total++ < c->offset || cJSON_GetArraySize(c->arr) >= (int)c->limit)
		return 0;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "path", path);
	cJSON_AddNumberToObject(o, "size", (double)f->size);
	cJSON_AddStringToObject(o, "sha256", f->sha256);
	cJSON_AddBoolToObject(o, "lfs", (f->flags & INDEX_FILE_LFS) != 0);
	cJSON_AddBoolToObject(o, "present", store_blob_exists(c->r->app->st, f->sha256));
	if (gguf_split_name(path, &shard, &shards, NULL) == GG_OK) {
		g = cJSON_AddObjectToObject(o, "shard");
		cJSON_AddNumberToObject(g, "index", shard);
		cJSON_AddNumberToObject(g, "count", shards);
	}
	if (store_view_blob(c->v, f->sha256, &b) == GG_OK) {
		/* The record has what was written at the last flush (every 30 s);
		 * this process's hits since are added, so the count is live. */
		store_blob_pending(c->r->app->st, f->sha256, &hits, &last);
		cJSON_AddBoolToObject(o, "pinned", b.pinned);
		cJSON_AddNumberToObject(o, "lastAccess",
					(double)(last > b.last_access ? last : b.last_access));
		cJSON_AddNumberToObject(o, "hits", (double)(b.hits + hits));
		if (b.has_gguf) {
			g = cJSON_AddObjectToObject(o, "gguf");
			cJSON_AddStringToObject(g, "arch", b.gguf.arch);
			cJSON_AddStringToObject(g, "quant", b.gguf.quant);
			cJSON_AddNumberToObject(g, "params", (double)b.gguf.param_count);
			cJSON_AddNumberToObject(g, "context", (double)b.gguf.context_length);
			cJSON_AddNumberToObject(g, "tensors", (double)b.gguf.tensor_count);
		}
	}
	cJSON_AddItemToArray(c->arr, o);
	return 0;
}

enum MHD_Result
admin_files(struct req *r)
{
	char *repo = http_query_get(r, "repo"), *rev = http_query_get(r, "rev");
	char *q = http_query_get(r, "q"), *off = http_query_get(r, "offset");
	char *lim = http_query_get(r, "limit"), *txt, commit[GG_SHA1_HEX + 1];
	struct files_ctx c = { r, NULL, q, 0, GG_TREE_PAGE_SIZE, 0, NULL };
	enum repo_type type = REPO_MODEL;
	const char *name = repo;
	struct store_view v;
	enum MHD_Result res;
	cJSON *o = NULL;
	int known = 0, rc;

	if (name != NULL && strncmp(name, "datasets/", 9) == 0) {
		type = REPO_DATASET;
		name += 9;
	} else if (name != NULL && strncmp(name, "spaces/", 7) == 0) {
		type = REPO_SPACE;
		name += 7;
	}
	if (name == NULL || !route_valid_repo(name) ||
	    (rev != NULL && (rev[0] == '\0' || strlen(rev) > GG_MAX_REV_LEN)) ||
	    (off != NULL && parse_u64_str(off, UINT32_MAX, &c.offset) != GG_OK) ||
	    (lim != NULL &&
	     (parse_u64_str(lim, GG_TREE_PAGE_SIZE, &c.limit) != GG_OK || c.limit == 0)) ||
	    (q != NULL && strlen(q) > GG_MAX_REPO_PATH_LEN)) {
		res = http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest",
				 "Use ?repo=NS/NAME[&rev=REV][&q=TEXT][&offset=N][&limit=1..1000]",
				 NULL);
		goto done;
	}
	/* The repo is the query's: judged as a read of it would be (but for
	 * the operator's, who may pull it anyway). */
	if (r->app->require_read_token && !auth_bounds_allow(r, type, name)) {
		res = http_error(r, MHD_HTTP_FORBIDDEN, "Forbidden",
				 "This token may not read that repo (rule: token bounds; see ggufd "
				 "token ls)",
				 NULL);
		goto done;
	}
	if (!auth_operator(r) && visibility_admit_repo(r, type, name, &res) != 0)
		goto done;
	if ((rc = store_view_begin(r->app->st, &v)) != GG_OK) {
		store_view_end(&v);
		res = http_error_from(r, rc, "index");
		goto done;
	}
	rc = store_resolve_rev(&v, type, name, rev ? rev : "main", commit, &known, NULL);
	if (rc != GG_OK) {
		store_view_end(&v);
		res = hub_rev_error(r, rc, known);
		goto done;
	}
	c.v = &v;
	c.arr = cJSON_CreateArray();
	rc = store_view_files(&v, type, name, commit, NULL, file_cb, &c);
	store_view_end(&v);
	if (rc != GG_OK) {
		cJSON_Delete(c.arr);
		res = http_error_from(r, rc, "files");
		goto done;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "repo", name);
	cJSON_AddStringToObject(o, "type", index_type_name(type));
	cJSON_AddStringToObject(o, "revision", rev ? rev : "main");
	cJSON_AddStringToObject(o, "commit", commit);
	cJSON_AddNumberToObject(o, "total", (double)c.total);
	cJSON_AddNumberToObject(o, "offset", (double)c.offset);
	cJSON_AddItemToObject(o, "files", c.arr);
	txt = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (txt == NULL)
		log_fatalx("cJSON_PrintUnformatted() failed: out of memory");
	res = http_json(r, MHD_HTTP_OK, txt);
done:
	free(repo);
	free(rev);
	free(q);
	free(off);
	free(lim);
	return res;
}

/* --- GET /api/ggufd/audit -------------------------------------------------------- */

enum MHD_Result
admin_audit(struct req *r)
{
	char *since = http_query_get(r, "since"), *token = http_query_get(r, "token");
	uint64_t t = 0;
	enum MHD_Result res;
	cJSON *arr = NULL;
	char *txt;
	int rc;

	if (since != NULL && parse_u64_str(since, UINT64_MAX, &t) != GG_OK) {
		res = http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest",
				 "since takes a time in seconds since 1970", NULL);
	} else if ((rc = audit_list(r->app->st, t, token, &arr)) != GG_OK) {
		res = http_error_from(r, rc, "reading the audit log");
	} else {
		txt = cJSON_PrintUnformatted(arr);
		cJSON_Delete(arr);
		if (txt == NULL)
			log_fatalx("cJSON_PrintUnformatted() failed: out of memory");
		res = http_json(r, MHD_HTTP_OK, txt);
	}
	free(since);
	free(token);
	return res;
}

/* --- /api/ggufd/tokens ---------------------------------------------------------- */

/*
 *   GET    /api/ggufd/tokens        -> 200 [{"name","scope","created","revoked",
 *                                            "repos":[...],"paths":[...]}]
 *   POST   /api/ggufd/tokens        {"name":"ci","scope":"upload",
 *                                    "repos":["ruv/ruvltra"],"paths":["*.gguf"]}
 *                                   -> 201 {"name","scope","created","repos","paths",
 *                                           "token":"hf_..."}  (Cache-Control: no-store)
 *                                      400 bad input, 409 the name is taken
 *   DELETE /api/ggufd/tokens/{name} -> 200 {"name","revoked":true}, 404 no live token
 * Admin scope (the route table).  The same validation, storage and audit
 * records as `ggufd token` (tokens.c); the new token is in the 201 answer
 * and nowhere else.
 */
#define TOKENS_STR_(x) #x
#define TOKENS_STR(x) TOKENS_STR_(x)
#define TOKENS_BODY_HINT                                                                           \
	"Body must be JSON: {\"name\": str, \"scope\": \"read\"|\"upload\"|\"admin\", "            \
	"\"repos\"?: [str], \"paths\"?: [str]}"

/* Adds each string of arr (NULL: none) as a bound; 0, or the answer queued. */
static int
bounds_from_json(struct req *r, const cJSON *arr, const char *key, struct tokens_bounds *b,
		 enum MHD_Result *res)
{
	const cJSON *e;
	const char *msg;
	int rc;

	if (arr == NULL)
		return GG_OK;
	if (!cJSON_IsArray(arr)) {
		*res = http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest", TOKENS_BODY_HINT, NULL);
		return GG_EINVAL;
	}
	cJSON_ArrayForEach (e, arr) {
		rc = cJSON_IsString(e) ? tokens_bounds_add(b, key, e->valuestring) : GG_EINVAL;
		if (rc == GG_OK)
			continue;
		if (rc == GG_ETOOBIG)
			msg = "repos and paths: at most " TOKENS_STR(
				GG_MAX_TOKEN_BOUNDS) " bytes in all";
		else if (strcmp(key, "repo") == 0)
			msg = "repos: each is a repo id NS/NAME (\"datasets/\" or \"spaces/\" "
			      "before it for other types)";
		else
			msg = "paths: each is a non-empty glob without control characters";
		*res = http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest", msg, NULL);
		return GG_EINVAL;
	}
	return GG_OK;
}

static enum MHD_Result
token_add(struct req *r)
{
	cJSON *body, *name, *scope, *o = NULL, *list = NULL, *e;
	struct tokens_bounds b;
	struct tokens_actor who;
	struct MHD_Response *resp;
	char client[GG_MAX_CLIENT_ADDR + 1], tok[TOKEN_LEN + 1], msg[200], *txt;
	enum MHD_Result res;
	unsigned sc = 0;
	int rc;

	memset(&b, 0, sizeof(b));
	body = cJSON_ParseWithLength(r->body.data ? r->body.data : "", r->body.len);
	name = cJSON_GetObjectItemCaseSensitive(body, "name");
	scope = cJSON_GetObjectItemCaseSensitive(body, "scope");
	if (!cJSON_IsObject(body) || !cJSON_IsString(name) || !cJSON_IsString(scope)) {
		res = http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest", TOKENS_BODY_HINT, NULL);
		goto done;
	}
	if ((sc = token_scope_parse(scope->valuestring)) == 0) {
		res = http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest",
				 "scope is \"read\", \"upload\" or \"admin\"", NULL);
		goto done;
	}
	if (bounds_from_json(r, cJSON_GetObjectItemCaseSensitive(body, "repos"), "repo", &b,
			     &res) != GG_OK ||
	    bounds_from_json(r, cJSON_GetObjectItemCaseSensitive(body, "paths"), "path", &b,
			     &res) != GG_OK)
		goto done;
	http_client_addr(r, client, sizeof(client));
	who.by = r->token_name;
	who.client = client;
	rc = tokens_add(r->app->st, name->valuestring, sc, &b, &who, tok);
	if (rc == GG_EINVAL) {
		res = http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest",
				 "name is 1-64 characters of A-Za-z0-9._@-", NULL);
		goto done;
	}
	if (rc == GG_EEXIST) {
		if (snprintf_checked(msg, sizeof(msg),
				     "A live token is named '%s' (revoke it first, or pick another "
				     "name)",
				     name->valuestring) != GG_OK)
			snprintf(msg, sizeof(msg), "A live token has that name");
		res = http_error(r, MHD_HTTP_CONFLICT, "Conflict", msg, NULL);
		goto done;
	}
	if (rc != GG_OK) {
		res = http_error_from(r, rc, "creating the token");
		goto done;
	}
	/* The answer: the record as the list shows it, plus the token. */
	if (tokens_list(r->app->st, &list) == GG_OK) {
		cJSON_ArrayForEach (e, list) {
			const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");
			if (cJSON_IsString(n) && strcmp(n->valuestring, name->valuestring) == 0) {
				o = cJSON_Duplicate(e, 1);
				break;
			}
		}
	}
	if (o == NULL) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", name->valuestring);
		cJSON_AddStringToObject(o, "scope", token_scope_name(sc));
	}
	cJSON_AddStringToObject(o, "token", tok);
	txt = cJSON_PrintUnformatted(o);
	if (txt == NULL)
		log_fatalx("cJSON_PrintUnformatted() failed: out of memory");
	resp = http_json_response(r, txt);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	res = http_queue(r, MHD_HTTP_CREATED, resp);
done:
	cJSON_Delete(list);
	cJSON_Delete(o);
	cJSON_Delete(body);
	return res;
}

enum MHD_Result
admin_tokens(struct req *r)
{
	cJSON *arr = NULL;
	char *txt;
	int rc;

	if (strcmp(r->method, "POST") == 0)
		return token_add(r);
	if ((rc = tokens_list(r->app->st, &arr)) != GG_OK)
		return http_error_from(r, rc, "listing the tokens");
	txt = cJSON_PrintUnformatted(arr);
	cJSON_Delete(arr);
	if (txt == NULL)
		log_fatalx("cJSON_PrintUnformatted() failed: out of memory");
	return http_json(r, MHD_HTTP_OK, txt);
}

enum MHD_Result
admin_token(struct req *r)
{
	char client[GG_MAX_CLIENT_ADDR + 1], msg[200];
	struct tokens_actor who;
	cJSON *o;
	char *txt;
	int rc;

	http_client_addr(r, client, sizeof(client));
	who.by = r->token_name;
	who.client = client;
	rc = tokens_revoke(r->app->st, r->route.path, &who);
	if (rc == GG_ENOENT) {
		if (snprintf_checked(msg, sizeof(msg), "No live token is named '%s'",
				     r->route.path) != GG_OK)
			snprintf(msg, sizeof(msg), "No live token has that name");
		return http_error(r, MHD_HTTP_NOT_FOUND, "TokenNotFound", msg, NULL);
	}
	if (rc != GG_OK)
		return http_error_from(r, rc, "revoking the token");
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", r->route.path);
	cJSON_AddTrueToObject(o, "revoked");
	txt = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (txt == NULL)
		log_fatalx("cJSON_PrintUnformatted() failed: out of memory");
	return http_json(r, MHD_HTTP_OK, txt);
}
