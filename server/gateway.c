/*
 * gateway.c: the upload gateway (HF-PROTOCOL.md 4), terminated at ggufd.
 *
 *   POST /api/models/{repo}/preupload/{rev}      bearer: a ggufd upload token
 *     <- {"files":[{"path","uploadMode":"lfs"|"regular","shouldIgnore":false}]}
 *   POST /{repo}.git/info/lfs/objects/batch
 *     <- {"transfer":"basic","objects":[{"oid","size","authenticated":true,
 *          "actions":{"upload":{"href":"<us>/_ggufd/lfs/<oid>?size=N&exp=T&sig=H"}}}]}
 *        (no actions for objects the store has; multipart above a threshold:
 *         header {"chunk_size","00001":<part href>,...}, href = completion)
 *   PUT  /_ggufd/lfs/<oid>?size&exp&sig          no bearer: the HMAC signs oid,
 *   PUT  /_ggufd/lfs/<oid>/part/<n>?...           size and expiry (and part);
 *   POST /_ggufd/lfs/<oid>/complete?...           bytes are hashed as they land
 *   POST /api/models/{repo}/commit/{rev}          NDJSON or JSON
 *     -> policy (names, GGUF valid and its quant, README card), journal,
 *        publish upstream with the held token (publish.c), record locally
 *     <- {"success":true,"commitOid","commitUrl","hookOutput":""}
 *   PUT  /api/ggufd/upload/{ns}/{name}/{path}    bearer; the file as the body
 *     <- 200 {"id","state":"done","commitOid",...} or 202 {"id","state":"pending"}
 *   GET  /api/ggufd/uploads[/{id}]               the journal
 *   GET  /api/whoami-v2, POST /api/validate-yaml, POST /api/repos/create,
 *   GET  .../xet-write-token/..., .../xet-read-token/... (501: disable Xet)
 *
 * Client tokens are ggufd's; they never go upstream.  The upstream token
 * lives in upstream.c only.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "blob.h"
#include "gateway.h"
#include "gguf.h"
#include "handlers.h"
#include "log.h"
#include "publish.h"
#include "token.h"

#define JOB_PENDING 0
#define JOB_PUBLISHING 1
#define JOB_DONE 2
#define JOB_FAILED 3
#define MAX_BATCH_OBJECTS 1000
#define MAX_COMMIT_FILES 1000
#define LFS_JSON "application/vnd.git-lfs+json"

struct gateway {
	struct store *st;
	struct upstream *up;
	struct gateway_config cfg;
	pthread_t worker;
	int worker_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stopping;
	uint64_t next_id;
};

static const char *
state_name(unsigned s)
{
	switch (s) {
	case JOB_PENDING: return "pending";
	case JOB_PUBLISHING: return "publishing";
	case JOB_DONE: return "done";
	default: return "failed";
	}
}

static char *
print_json(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	if (s == NULL)
		log_fatalx("cJSON_PrintUnformatted() failed: out of memory");
	return s;
}

/* --- auth ------------------------------------------------------------------- */

/*
 * Requires a token of at least `need` scope.  Returns 0 with name filled,
 * or -1 after queueing the Hub's 401 (the message Python shows for a bad
 * token) or 403 (a token whose scope is too small).
 */
static int
require_token(struct req *r, unsigned need, char name[TOKEN_NAME_MAX + 1], enum MHD_Result *res)
{
	const char *tok = http_bearer(r);
	unsigned scope = 0;
	int rc;

	if (tok == NULL) {
		*res = http_error(r, MHD_HTTP_UNAUTHORIZED, NULL,
				  "Invalid credentials in Authorization header: a ggufd token is "
				  "required (ggufd token add NAME)",
				  NULL);
		return -1;
	}
	rc = token_check(http_store(r), tok, &scope, name);
	if (rc == GG_ENOENT) {
		*res = http_error(r, MHD_HTTP_UNAUTHORIZED, NULL,
				  "Invalid credentials in Authorization header", NULL);
		return -1;
	}
	if (rc != GG_OK) {
		*res = http_error_from(r, rc, "token check");
		return -1;
	}
	if (scope < need) {
		char msg[160];
		snprintf(msg, sizeof(msg), "Token '%s' has scope %s; this needs %s", name,
			 token_scope_name(scope), token_scope_name(need));
		*res = http_error(r, MHD_HTTP_FORBIDDEN, "Forbidden", msg, NULL);
		return -1;
	}
	return 0;
}

int
gateway_read_denied(struct gateway *gw, const char *bearer)
{
	unsigned scope;
	char name[TOKEN_NAME_MAX + 1];
	if (gw == NULL || !gw->cfg.require_read_token)
		return 0;
	return bearer == NULL || token_check(gw->st, bearer, &scope, name) != GG_OK;
}

static int
repo_allowed(struct req *r, struct gateway *gw, enum MHD_Result *res)
{
	char msg[400];
	if (gw->up == NULL) {
		*res = http_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "NoUpstream",
				  "This ggufd has no upstream to publish to", NULL);
		return -1;
	}
	if (policy_repo_ok(&gw->cfg.policy, r->route.type, r->route.repo))
		return 0;
	snprintf(msg, sizeof(msg), "Uploads to %s%s are not allowed through this gateway",
		 route_type_prefix(r->route.type), r->route.repo);
	*res = http_error(r, MHD_HTTP_FORBIDDEN, "RepoNotAllowed", msg, NULL);
	return -1;
}

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
		href = xasprintf("%s/_ggufd/lfs/%s/part/%u?size=%llu&exp=%llu&sig=%s", base, oid, part,
				 (unsigned long long)size, (unsigned long long)exp, sig);
	else if (strcmp(what, "complete") == 0)
		href = xasprintf("%s/_ggufd/lfs/%s/complete?size=%llu&exp=%llu&sig=%s", base, oid,
				 (unsigned long long)size, (unsigned long long)exp, sig);
	else
		href = xasprintf("%s/_ggufd/lfs/%s?size=%llu&exp=%llu&sig=%s", base, oid,
				 (unsigned long long)size, (unsigned long long)exp, sig);
	free(base);
	return href;
}

/* Checks ?size&exp&sig of a signed href.  0, or -1 after a 403/400. */
/*
 * The Hub answers with URLs on itself: a commit's commitUrl and
 * pullRequestUrl, a created repo's url.  Clients hold them against their
 * own endpoint (huggingface_hub parses them with HF_ENDPOINT and raises
 * ValueError for another host), so they are handed on on ggufd's public
 * base: the upstream base (or any scheme://host) is replaced, the path
 * kept.  Returns a malloc'ed string.
 */
static char *
our_url(struct req *r, struct gateway *gw, const char *url)
{
	const char *up = http_upstream_base(r), *rest = NULL, *p;
	size_t ul = strlen(up);
	char *base, *out;

	if (ul > 0 && strncmp(url, up, ul) == 0 && (url[ul] == '/' || url[ul] == '\0'))
		rest = url + ul;
	else if ((p = strstr(url, "://")) != NULL)
		rest = (p = strchr(p + 3, '/')) != NULL ? p : "";
	if (rest == NULL)
		return xstrdup(url); /* not absolute: nothing names a host */
	base = gw->cfg.public_url ? xstrdup(gw->cfg.public_url) : http_base_url(r);
	out = xasprintf("%s%s", base, rest);
	free(base);
	return out;
}

/* Replaces o's string member key, if it has one, by our_url() of it. */
static void
our_url_in(struct req *r, struct gateway *gw, cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	char *u;
	if (!cJSON_IsString(v))
		return;
	u = our_url(r, gw, v->valuestring);
	cJSON_ReplaceItemInObjectCaseSensitive(o, key, cJSON_CreateString(u));
	free(u);
}

static int
check_signature(struct req *r, struct gateway *gw, const char *what, const char *oid,
		unsigned part, uint64_t *size, enum MHD_Result *res)
{
	char *s = http_query_get(r, "size"), *e = http_query_get(r, "exp");
	char *sig = http_query_get(r, "sig"), msg[256];
	uint64_t exp = 0;
	int ok = 0;

	if (s != NULL && e != NULL && sig != NULL && parse_u64_str(s, UINT64_MAX / 2, size) == GG_OK &&
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

/* --- streamed uploads ----------------------------------------------------------- */

enum sink_kind { SINK_LFS, SINK_PART, SINK_COMPLETE, SINK_PLAIN };

struct sink {
	enum sink_kind kind;
	struct gateway *gw;
	char oid[GG_SHA256_HEX + 1];
	uint64_t size;      /* the object's size */
	uint64_t expect;    /* bytes this request must carry */
	uint64_t got;
	unsigned part;
	struct blob_writer *w;
	struct blob_asm_part *ap;
	int failed;         /* a GG_E* code, sticky */
	/* plain PUT */
	enum repo_type type;
	char repo[GG_MAX_REPO_LEN + 1];
	char path[GG_MAX_REPO_PATH_LEN + 1];
	char by[TOKEN_NAME_MAX + 1];
	char message[512];
};

static void
sink_free(void *p)
{
	struct sink *s = p;
	blob_writer_abort(s->w);
	blob_asm_part_abort(s->ap);
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

/* The request body's length, from Content-Length; -1 if absent or bad. */
static int64_t
content_length(struct req *r)
{
	const char *cl = http_header(r, "Content-Length");
	uint64_t v;
	if (cl == NULL || parse_u64_str(cl, INT64_MAX, &v) != GG_OK)
		return -1;
	return (int64_t)v;
}

static int begin_plain(struct req *r, struct gateway *gw, enum MHD_Result *res);

int
gateway_begin(struct req *r, enum MHD_Result *res)
{
	struct gateway *gw = http_gateway(r);
	const char *p = r->raw_uri, *end = r->path_end;
	struct sink *s;
	char oid[GG_SHA256_HEX + 1];
	const char *rest;
	int64_t cl;

	if (strncmp(p, "/api/ggufd/upload/", 18) == 0) {
		if (gw == NULL) {
			*res = http_error(r, MHD_HTTP_NOT_FOUND, NULL, "This ggufd has no upload gateway",
					  NULL);
			return 1;
		}
		return begin_plain(r, gw, res);
	}
	if (strncmp(p, "/_ggufd/lfs/", 12) != 0)
		return 0;
	if (gw == NULL) {
		*res = http_error(r, MHD_HTTP_NOT_FOUND, NULL, "This ggufd has no upload gateway", NULL);
		return 1;
	}
	if ((size_t)(end - p) < 12 + GG_SHA256_HEX || !oid_ok(p + 12, GG_SHA256_HEX)) {
		*res = http_error(r, MHD_HTTP_NOT_FOUND, NULL, "Not found", NULL);
		return 1;
	}
	memcpy(oid, p + 12, GG_SHA256_HEX);
	oid[GG_SHA256_HEX] = '\0';
	rest = p + 12 + GG_SHA256_HEX;
	s = xcalloc(1, sizeof(*s));
	s->gw = gw;
	memcpy(s->oid, oid, sizeof(s->oid));
	if (rest == end && strcmp(r->method, "PUT") == 0) {
		s->kind = SINK_LFS;
	} else if (strncmp(rest, "/part/", 6) == 0 && strcmp(r->method, "PUT") == 0) {
		uint64_t n;
		if (parse_u64(rest + 6, end, 100000, &n) != GG_OK || n == 0) {
			free(s);
			*res = http_error(r, MHD_HTTP_NOT_FOUND, NULL, "Not found", NULL);
			return 1;
		}
		s->kind = SINK_PART;
		s->part = (unsigned)n;
	} else if ((size_t)(end - rest) == 9 && memcmp(rest, "/complete", 9) == 0 &&
		   strcmp(r->method, "POST") == 0) {
		s->kind = SINK_COMPLETE;
	} else {
		free(s);
		*res = http_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, NULL,
				  "Use PUT for objects and parts, POST for completion", NULL);
		return 1;
	}
	if (check_signature(r, gw,
			    s->kind == SINK_LFS ? "lfs" : s->kind == SINK_PART ? "part" : "complete",
			    oid, s->part, &s->size, res) != 0) {
		free(s);
		return 1;
	}
	cl = content_length(r);
	switch (s->kind) {
	case SINK_LFS:
		if (cl >= 0 && (uint64_t)cl != s->size) {
			free(s);
			*res = http_error(r, MHD_HTTP_BAD_REQUEST, "SizeMismatch",
					  "Content-Length differs from the object's size", NULL);
			return 1;
		}
		s->expect = s->size;
		if (blob_writer_open(gw->st->blobs, (int64_t)s->size, &s->w) != GG_OK) {
			free(s);
			*res = http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "Cannot stage", NULL);
			return 1;
		}
		break;
	case SINK_PART: {
		uint64_t cs = gw->cfg.chunk_size, off = (uint64_t)(s->part - 1) * cs;
		uint64_t len = off < s->size ? (s->size - off < cs ? s->size - off : cs) : 0;
		if (len == 0 || (cl >= 0 && (uint64_t)cl != len)) {
			free(s);
			*res = http_error(r, MHD_HTTP_BAD_REQUEST, "SizeMismatch",
					  "This part's length does not match the chunk size", NULL);
			return 1;
		}
		s->expect = len;
		if (blob_asm_part_open(gw->st->blobs, oid, s->size, off, len, &s->ap) != GG_OK) {
			free(s);
			*res = http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "Cannot stage", NULL);
			return 1;
		}
		break;
	}
	default:
		s->expect = 1u << 20; /* the completion's JSON */
		break;
	}
	r->sink = s;
	r->sink_data = sink_data;
	r->sink_free = sink_free;
	*res = MHD_YES;
	return 1;
}

static enum MHD_Result
json_reply(struct req *r, unsigned status, cJSON *o, const char *ctype)
{
	struct MHD_Response *resp;
	char *txt = print_json(o);
	cJSON_Delete(o);
	resp = MHD_create_response_from_buffer(strlen(txt), txt, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", ctype ? ctype : "application/json");
	return http_queue(r, status, resp);
}

static enum MHD_Result plain_end(struct req *r);

enum MHD_Result
gateway_end(struct req *r)
{
	struct sink *s = r->sink;
	struct gateway *gw = s->gw;
	struct blob_digest d;
	int rc;

	if (s->kind == SINK_PLAIN)
		return plain_end(r);
	if (s->failed == GG_ETOOBIG)
		return http_error(r, MHD_HTTP_BAD_REQUEST, "SizeMismatch",
				  "The body is longer than the object", NULL);
	if (s->failed)
		return http_error_from(r, s->failed, "staging the upload");
	if (s->kind == SINK_LFS) {
		store_hold(gw->st);
		rc = blob_writer_finish(s->w, s->oid, NULL, &d);
		s->w = NULL;
		if (rc == GG_OK)
			rc = store_adopt_blob(gw->st, s->oid);
		store_release(gw->st);
		if (rc == GG_ECORRUPT)
			return http_error(r, MHD_HTTP_BAD_REQUEST, "OidMismatch",
					  "The uploaded bytes do not match the oid and size; nothing "
					  "was kept",
					  NULL);
		if (rc != GG_OK)
			return http_error_from(r, rc, "storing the upload");
		log_info("staged LFS object %s (%llu bytes)", s->oid, (unsigned long long)s->size);
		return json_reply(r, MHD_HTTP_OK, cJSON_CreateObject(), NULL);
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
		resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(resp, "ETag", q);
		return http_queue(r, MHD_HTTP_OK, resp);
	}
	/* Completion: {"oid","parts":[...]}.  The sha256 check below is what
	 * guarantees the object; the part list only has to be well formed. */
	{
		cJSON *b = cJSON_ParseWithLength(r->body.data ? r->body.data : "", r->body.len);
		cJSON *oid = cJSON_GetObjectItemCaseSensitive(b, "oid");
		cJSON *parts = cJSON_GetObjectItemCaseSensitive(b, "parts");
		int ok = cJSON_IsString(oid) && strcmp(oid->valuestring, s->oid) == 0 &&
			 cJSON_IsArray(parts);
		cJSON_Delete(b);
		if (!ok)
			return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest",
					  "Body must be {\"oid\": <this oid>, \"parts\": [...]}", NULL);
	}
	store_hold(gw->st);
	rc = blob_asm_finish(gw->st->blobs, s->oid, s->size, &d);
	if (rc == GG_OK)
		rc = store_adopt_blob(gw->st, s->oid);
	store_release(gw->st);
	if (rc == GG_ECORRUPT || rc == GG_ENOENT)
		return http_error(r, MHD_HTTP_BAD_REQUEST, "OidMismatch",
				  "The assembled parts do not match the oid and size; nothing was kept",
				  NULL);
	if (rc != GG_OK)
		return http_error_from(r, rc, "assembling the upload");
	log_info("staged LFS object %s (%llu bytes, multipart)", s->oid, (unsigned long long)s->size);
	return json_reply(r, MHD_HTTP_OK, cJSON_CreateObject(), NULL);
}

/* --- content policy ----------------------------------------------------------- */

/* Checks a staged file's name, size and content.  0, or the HTTP status
 * (422 / 413) with the rule in why. */
static unsigned
check_content(struct gateway *gw, const char *path, const char *sha256, uint64_t size, char *why,
	      size_t whysz)
{
	const char *base = strrchr(path, '/');
	size_t bl;
	int rc = policy_check_path(&gw->cfg.policy, path, size, why, whysz);

	if (rc == GG_ETOOBIG)
		return MHD_HTTP_CONTENT_TOO_LARGE;
	if (rc != GG_OK)
		return MHD_HTTP_UNPROCESSABLE_CONTENT;
	base = base ? base + 1 : path;
	bl = strlen(base);
	if (bl > 5 && strcasecmp(base + bl - 5, ".gguf") == 0) {
		struct gguf_summary g;
		uint64_t bsize;
		int fd = -1, prc;
		if (blob_open(gw->st->blobs, sha256, &fd, &bsize) != GG_OK) {
			snprintf(why, whysz, "%s: staged content is missing", path);
			return MHD_HTTP_UNPROCESSABLE_CONTENT;
		}
		prc = gguf_parse_fd(fd, bsize, &g);
		close(fd);
		if (policy_check_gguf(&gw->cfg.policy, path, prc, &g, why, whysz) != GG_OK)
			return MHD_HTTP_UNPROCESSABLE_CONTENT;
	} else if (strcmp(base, "README.md") == 0) {
		uint64_t bsize;
		int fd = -1;
		char *text;
		if (blob_open(gw->st->blobs, sha256, &fd, &bsize) != GG_OK || bsize > (4u << 20)) {
			if (fd >= 0)
				close(fd);
			snprintf(why, whysz, "README.md: missing, or larger than 4 MiB");
			return MHD_HTTP_UNPROCESSABLE_CONTENT;
		}
		text = xmalloc(bsize + 1);
		rc = pread_all(fd, text, bsize, 0);
		close(fd);
		text[bsize] = '\0';
		rc = rc == GG_OK ? policy_check_readme(text, bsize, why, whysz) : GG_EIO;
		free(text);
		if (rc != GG_OK)
			return MHD_HTTP_UNPROCESSABLE_CONTENT;
	}
	return 0;
}

/* --- the journal -------------------------------------------------------------- */

/* Sets key to item, replacing or adding (cJSON's replace does nothing for
 * an absent key and would leak the item). */
static void
jset(cJSON *o, const char *key, cJSON *item)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	cJSON_AddItemToObject(o, key, item);
}


static int
job_save(struct gateway *gw, uint64_t id, cJSON *job, unsigned state)
{
	struct index_txn *t = NULL;
	struct index_upload u;
	char *txt;
	int r;

	jset(job, "state", cJSON_CreateString(state_name(state)));
	txt = print_json(job);
	memset(&u, 0, sizeof(u));
	u.state = state;
	u.updated_at = now_unix();
	u.created_at = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(job, "created"));
	u.attempts = (unsigned)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(job, "attempts"));
	u.data = txt;
	u.len = strlen(txt);
	if ((r = index_txn_begin(gw->st->idx, 1, &t)) == GG_OK) {
		if ((r = index_upload_put(t, id, &u)) == GG_OK)
			r = index_txn_commit(t);
		else
			index_txn_abort(t);
	}
	free(txt);
	return r;
}

static cJSON *
job_load(struct gateway *gw, uint64_t id, unsigned *state)
{
	struct index_txn *t = NULL;
	struct index_upload u;
	cJSON *j = NULL;

	if (index_txn_begin(gw->st->idx, 0, &t) != GG_OK)
		return NULL;
	if (index_upload_get(t, id, &u) == GG_OK) {
		j = cJSON_ParseWithLength(u.data, u.len);
		*state = u.state;
		free(u.data);
	}
	index_txn_abort(t);
	return j;
}

static uint64_t
job_new_id(struct gateway *gw)
{
	uint64_t id;
	pthread_mutex_lock(&gw->mu);
	id = ++gw->next_id;
	pthread_mutex_unlock(&gw->mu);
	return id;
}

static cJSON *
job_make(uint64_t id, const char *by, enum repo_type type, const char *repo, const char *rev,
	 const char *summary, const char *description, int retry)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "id", (double)id);
	cJSON_AddStringToObject(j, "state", "pending");
	cJSON_AddStringToObject(j, "by", by);
	cJSON_AddStringToObject(j, "type", route_type_name(type));
	cJSON_AddStringToObject(j, "repo", repo);
	cJSON_AddStringToObject(j, "revision", rev);
	cJSON_AddStringToObject(j, "summary", summary);
	cJSON_AddStringToObject(j, "description", description);
	cJSON_AddNumberToObject(j, "created", (double)now_unix());
	cJSON_AddNumberToObject(j, "attempts", 0);
	cJSON_AddNumberToObject(j, "next_at", 0);
	cJSON_AddBoolToObject(j, "retry", retry);
	cJSON_AddBoolToObject(j, "create_pr", 0);
	cJSON_AddStringToObject(j, "parentCommit", "");
	cJSON_AddArrayToObject(j, "files");
	return j;
}

static void
job_add_file(cJSON *job, const char *path, int lfs, const char *sha256, const char *gitsha1,
	     uint64_t size, int deleted, int folder)
{
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "path", path);
	if (deleted) {
		cJSON_AddBoolToObject(f, "deleted", 1);
		cJSON_AddBoolToObject(f, "folder", folder);
	} else {
		cJSON_AddBoolToObject(f, "lfs", lfs);
		cJSON_AddStringToObject(f, "sha256", sha256);
		cJSON_AddStringToObject(f, "gitsha1", gitsha1 ? gitsha1 : "");
		cJSON_AddNumberToObject(f, "size", (double)size);
	}
	cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(job, "files"), f);
}

static const char *
jstr(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static enum repo_type
jtype(cJSON *o)
{
	const char *t = jstr(o, "type");
	return strcmp(t, "dataset") == 0 ? REPO_DATASET : strcmp(t, "space") == 0 ? REPO_SPACE
										   : REPO_MODEL;
}

/*
 * A retried job may have reached upstream before ggufd stopped: if every
 * file of the job is already at the revision's head with the same
 * content, the job is done (exactly once), with that head as its commit.
 */
static int
already_published(struct gateway *gw, cJSON *job, char commit[GG_SHA1_HEX + 1])
{
	struct upstream_resp ur;
	struct buf body;
	cJSON *files = cJSON_GetObjectItemCaseSensitive(job, "files"), *f, *req, *paths, *ans = NULL;
	char *url, *qrev = upstream_quote(jstr(job, "revision"), 0), *txt;
	const char *plural = route_type_plural(jtype(job));
	int ok = 0, n = 0;

	buf_init(&body, 16u << 20);
	url = xasprintf("/api/%s/%s/revision/%s", plural, jstr(job, "repo"), qrev);
	free(qrev);
	if (upstream_api(gw->up, "GET", url, NULL, 0, NULL, &body, &ur) != GG_OK || ur.status != 200)
		goto done;
	ans = cJSON_ParseWithLength(body.data ? body.data : "", body.len);
	if (strlen(jstr(ans, "sha")) != GG_SHA1_HEX)
		goto done;
	memcpy(commit, jstr(ans, "sha"), GG_SHA1_HEX + 1);
	cJSON_Delete(ans);
	ans = NULL;
	req = cJSON_CreateObject();
	paths = cJSON_AddArrayToObject(req, "paths");
	cJSON_ArrayForEach(f, files)
	{
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "deleted"))) {
			cJSON_Delete(req);
			goto done; /* deletions cannot be checked this way: publish */
		}
		cJSON_AddItemToArray(paths, cJSON_CreateString(jstr(f, "path")));
		n++;
	}
	txt = print_json(req);
	cJSON_Delete(req);
	free(url);
	url = xasprintf("/api/%s/%s/paths-info/%s", plural, jstr(job, "repo"), commit);
	if (upstream_api(gw->up, "POST", url, txt, strlen(txt), "application/json", &body, &ur) !=
		    GG_OK ||
	    ur.status != 200) {
		free(txt);
		goto done;
	}
	free(txt);
	ans = cJSON_ParseWithLength(body.data ? body.data : "", body.len);
	if (!cJSON_IsArray(ans) || cJSON_GetArraySize(ans) != n)
		goto done;
	ok = 1;
	cJSON_ArrayForEach(f, files)
	{
		cJSON *e, *match = NULL;
		cJSON_ArrayForEach(e, ans)
		{
			if (strcmp(jstr(e, "path"), jstr(f, "path")) == 0)
				match = e;
		}
		if (match == NULL)
			ok = 0;
		else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "lfs")))
			ok &= strcmp(jstr(cJSON_GetObjectItemCaseSensitive(match, "lfs"), "oid"),
				     jstr(f, "sha256")) == 0;
		else
			ok &= strcmp(jstr(match, "oid"), jstr(f, "gitsha1")) == 0;
	}
done:
	cJSON_Delete(ans);
	buf_free(&body);
	free(url);
	return ok;
}

/*
 * The commit a job's commit is built on, as ggufd knows it: the client's
 * parentCommit if it gave one (upstream refuses the commit otherwise),
 * else the revision's commit in the index now.  "" when unknown.
 */
static void
job_base(struct gateway *gw, enum repo_type type, const char *repo, const char *rev,
	 const char *parent, char base[GG_SHA1_HEX + 1])
{
	struct index_txn *t = NULL;
	int known;

	base[0] = '\0';
	if (index_txn_begin(gw->st->idx, 0, &t) != GG_OK)
		return;
	if (store_resolve_rev(gw->st, t, type, repo, parent[0] != '\0' ? parent : rev, base, &known,
			      NULL) != GG_OK)
		base[0] = '\0';
	index_txn_abort(t);
}

/*
 * Records the published commit's whole tree (the base's files with the
 * job's files added and deleted), so every file of it that the store
 * holds is served with upstream down.
 */
static void
record_published(struct gateway *gw, enum repo_type type, const char *repo, const char *base,
		 const char *commit, const char *title, cJSON *files)
{
	size_t n = (size_t)cJSON_GetArraySize(files), k = 0;
	struct store_change *ch = xcalloc(n ? n : 1, sizeof(*ch));
	cJSON *f;
	int r;

	cJSON_ArrayForEach(f, files)
	{
		struct store_change *c = &ch[k++];
		c->path = jstr(f, "path");
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "deleted"))) {
			c->kind = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "folder"))
					  ? STORE_CHANGE_DELETE_FOLDER
					  : STORE_CHANGE_DELETE_FILE;
			continue;
		}
		c->kind = STORE_CHANGE_ADD;
		c->lfs = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "lfs"));
		c->sha256 = jstr(f, "sha256");
		c->gitsha1 = c->lfs ? NULL : jstr(f, "gitsha1");
		c->size = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(f, "size"));
	}
	r = store_record_child_commit(gw->st, type, repo, base, commit, title, ch, n);
	if (r != GG_OK)
		log_warnx("recording commit %.12s of %s%s (on %.12s) failed: %s", commit,
			  route_type_prefix(type), repo, base[0] ? base : "-", gg_strerror(r));
	free(ch);
}

/*
 * A pull request upstream opened for a commit is the ref refs/pr/N, N from
 * its pullRequestUrl (".../discussions/N"); recorded so that the PR's
 * files are served with upstream down too.
 */
static void
record_pr_ref(struct gateway *gw, enum repo_type type, const char *repo, const char *pr_url,
	      const char *commit)
{
	const char *d = strstr(pr_url, "/discussions/");
	char ref[32];
	size_t n;

	if (d == NULL)
		return;
	d += strlen("/discussions/");
	n = strspn(d, "0123456789");
	if (n == 0 || n > 9 || d[n] != '\0' || d[0] == '0')
		return;
	snprintf(ref, sizeof(ref), "refs/pr/%s", d);
	store_set_ref(gw->st, type, repo, ref, commit);
}

/*
 * Publishes a journaled job upstream and records the result, locally and
 * in the journal.  Returns 0, GG_EUNAVAIL (transient: retry later),
 * GG_EINVAL (refused).
 */
static int
job_publish(struct gateway *gw, uint64_t id, cJSON *job, struct publish_result *res)
{
	cJSON *files = cJSON_GetObjectItemCaseSensitive(job, "files"), *f;
	unsigned attempts = (unsigned)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(job, "attempts"));
	struct publish_req req;
	enum repo_type type = jtype(job);
	char base[GG_SHA1_HEX + 1];
	size_t i = 0;
	int r, retry = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(job, "retry"));

	memset(&req, 0, sizeof(req));
	memset(res, 0, sizeof(*res));
	req.type = type;
	snprintf(req.repo, sizeof(req.repo), "%s", jstr(job, "repo"));
	snprintf(req.rev, sizeof(req.rev), "%s", jstr(job, "revision"));
	snprintf(req.summary, sizeof(req.summary), "%s", jstr(job, "summary"));
	snprintf(req.description, sizeof(req.description), "%s", jstr(job, "description"));
	snprintf(req.parent, sizeof(req.parent), "%s", jstr(job, "parentCommit"));
	req.create_pr = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(job, "create_pr"));
	req.n = (size_t)cJSON_GetArraySize(files);
	req.files = xcalloc(req.n ? req.n : 1, sizeof(*req.files));
	cJSON_ArrayForEach(f, files)
	{
		struct publish_file *pf = &req.files[i++];
		snprintf(pf->path, sizeof(pf->path), "%s", jstr(f, "path"));
		pf->deleted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "deleted"));
		pf->folder = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "folder"));
		pf->lfs = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "lfs"));
		snprintf(pf->sha256, sizeof(pf->sha256), "%s", jstr(f, "sha256"));
		pf->size = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(f, "size"));
	}
	jset(job, "attempts", cJSON_CreateNumber(attempts + 1));
	job_save(gw, id, job, JOB_PUBLISHING);
	job_base(gw, type, req.repo, req.rev, req.parent, base);
	if (attempts > 0 && already_published(gw, job, res->commit)) {
		log_info("upload job %llu was already published upstream (%.12s)",
			 (unsigned long long)id, res->commit);
		r = GG_OK;
	} else {
		r = publish_run(gw->up, gw->st, &req, res);
	}
	if (r == GG_OK) {
		/* Serve the new commit at once, all of it that the store holds. */
		record_published(gw, type, req.repo, base, res->commit, req.summary, files);
		if (!req.create_pr)
			store_set_ref(gw->st, type, req.repo, req.rev, res->commit);
		else
			record_pr_ref(gw, type, req.repo, res->pr_url, res->commit);
		/* Upstream answers about the repo cached until now are outdated. */
		store_note_change(gw->st, type, req.repo);
		jset(job, "commit", cJSON_CreateString(res->commit));
		cJSON_DeleteItemFromObjectCaseSensitive(job, "commitUrl");
		cJSON_AddStringToObject(job, "commitUrl", res->commit_url);
		cJSON_DeleteItemFromObjectCaseSensitive(job, "error");
		job_save(gw, id, job, JOB_DONE);
	} else {
		uint64_t wait = 1ull << (attempts < 6 ? attempts + 1 : 6); /* 2 s .. 64 s */
		cJSON_DeleteItemFromObjectCaseSensitive(job, "error");
		cJSON_AddStringToObject(job, "error", res->error);
		jset(job, "next_at",
						       cJSON_CreateNumber((double)(now_unix() + wait)));
		job_save(gw, id, job, r == GG_EUNAVAIL && retry ? JOB_PENDING : JOB_FAILED);
	}
	/* The audit trail: who, what, where, result. */
	cJSON_ArrayForEach(f, files)
	{
		log_info("audit: upload by=%s repo=%s%s path=%s sha256=%s size=%.0f result=%s "
			 "commit=%s job=%llu",
			 jstr(job, "by"), route_type_prefix(type), req.repo, jstr(f, "path"),
			 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "deleted")) ? "(deleted)"
										   : jstr(f, "sha256"),
			 cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(f, "size")),
			 r == GG_OK ? "published" : r == GG_EUNAVAIL ? "upstream-unavailable" : "refused",
			 r == GG_OK ? res->commit : "-", (unsigned long long)id);
	}
	free(req.files);
	return r;
}

/* --- the worker: journaled jobs waiting for upstream ------------------------------ */

struct due {
	uint64_t ids[64];
	size_t n;
};

static int
due_cb(void *ctx, uint64_t id, const struct index_upload *rec)
{
	struct due *d = ctx;
	if (rec->state == JOB_PENDING && d->n < 64)
		d->ids[d->n++] = id;
	return 0;
}

static void *
worker(void *arg)
{
	struct gateway *gw = arg;

	pthread_mutex_lock(&gw->mu);
	while (!gw->stopping) {
		struct timespec ts;
		struct due d;
		struct index_txn *t = NULL;

		pthread_mutex_unlock(&gw->mu);
		memset(&d, 0, sizeof(d));
		if (index_txn_begin(gw->st->idx, 0, &t) == GG_OK) {
			index_upload_foreach(t, due_cb, &d);
			index_txn_abort(t);
		}
		for (size_t i = 0; i < d.n && !gw->stopping; i++) {
			unsigned state = 0;
			cJSON *job = job_load(gw, d.ids[i], &state);
			struct publish_result res;
			if (job != NULL && state == JOB_PENDING &&
			    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(job, "retry")) &&
			    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(job, "next_at")) <=
				    (double)now_unix()) {
				int r = job_publish(gw, d.ids[i], job, &res);
				log_info("upload job %llu: %s%s%s", (unsigned long long)d.ids[i],
					 r == GG_OK ? "published " : "not yet published: ",
					 r == GG_OK ? res.commit : res.error, "");
			}
			cJSON_Delete(job);
		}
		pthread_mutex_lock(&gw->mu);
		if (gw->stopping)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&gw->cv, &gw->mu, &ts);
	}
	pthread_mutex_unlock(&gw->mu);
	return NULL;
}

static void
wake_worker(struct gateway *gw)
{
	pthread_mutex_lock(&gw->mu);
	pthread_cond_signal(&gw->cv);
	pthread_mutex_unlock(&gw->mu);
}

struct recover {
	struct gateway *gw;
	uint64_t ids[1024];
	size_t n;
	uint64_t last;
};

static int
recover_cb(void *ctx, uint64_t id, const struct index_upload *rec)
{
	struct recover *rc = ctx;
	rc->last = id;
	if (rec->state == JOB_PUBLISHING && rc->n < 1024)
		rc->ids[rc->n++] = id;
	return 0;
}

struct gateway *
gateway_new(struct store *st, struct upstream *up, const struct gateway_config *cfg)
{
	struct gateway *gw = xcalloc(1, sizeof(*gw));
	struct index_txn *t = NULL;
	struct recover rc;

	gw->st = st;
	gw->up = up;
	gw->cfg = *cfg;
	if (gw->cfg.chunk_size == 0)
		gw->cfg.chunk_size = 64ull << 20;
	if (gw->cfg.multipart_threshold == 0)
		gw->cfg.multipart_threshold = 512ull << 20;
	if (gw->cfg.href_ttl == 0)
		gw->cfg.href_ttl = 86400;
	pthread_mutex_init(&gw->mu, NULL);
	pthread_cond_init(&gw->cv, NULL);
	/* Jobs caught mid-publish by a stop or crash go back to the queue
	 * (with the exactly-once check), or fail if a client was waiting. */
	memset(&rc, 0, sizeof(rc));
	rc.gw = gw;
	if (index_txn_begin(st->idx, 0, &t) == GG_OK) {
		index_upload_foreach(t, recover_cb, &rc);
		index_txn_abort(t);
	}
	gw->next_id = rc.last;
	for (size_t i = 0; i < rc.n; i++) {
		unsigned state;
		cJSON *job = job_load(gw, rc.ids[i], &state);
		if (job == NULL)
			continue;
		job_save(gw, rc.ids[i], job,
			 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(job, "retry")) ? JOB_PENDING
										       : JOB_FAILED);
		cJSON_Delete(job);
	}
	if (up != NULL && pthread_create(&gw->worker, NULL, worker, gw) == 0)
		gw->worker_started = 1;
	return gw;
}

void
gateway_free(struct gateway *gw)
{
	if (gw == NULL)
		return;
	pthread_mutex_lock(&gw->mu);
	gw->stopping = 1;
	pthread_cond_broadcast(&gw->cv);
	pthread_mutex_unlock(&gw->mu);
	if (gw->worker_started)
		pthread_join(gw->worker, NULL);
	pthread_mutex_destroy(&gw->mu);
	pthread_cond_destroy(&gw->cv);
	free(gw);
}

/* --- publishing from a request (off the MHD thread) -------------------------------- */

struct pub_ctx {
	struct gateway *gw;
	uint64_t id;
	cJSON *job;
	int plain;
	int rc;
	struct publish_result res;
};

static void
pub_ctx_free(void *p)
{
	struct pub_ctx *c = p;
	cJSON_Delete(c->job);
	free(c);
}

static void
pub_work(struct req *r)
{
	struct pub_ctx *c = r->async_ctx;
	c->rc = job_publish(c->gw, c->id, c->job, &c->res);
}

static enum MHD_Result
pub_finish(struct req *r)
{
	struct pub_ctx *c = r->async_ctx;
	cJSON *o = cJSON_CreateObject();
	unsigned status;

	if (c->rc == GG_OK) {
		if (c->plain) {
			cJSON_AddNumberToObject(o, "id", (double)c->id);
			cJSON_AddStringToObject(o, "state", "done");
		} else {
			cJSON_AddTrueToObject(o, "success");
		}
		cJSON_AddStringToObject(o, "commitOid", c->res.commit);
		cJSON_AddStringToObject(o, "commitUrl", c->res.commit_url);
		cJSON_AddStringToObject(o, "hookOutput", "");
		if (c->res.pr_url[0] != '\0')
			cJSON_AddStringToObject(o, "pullRequestUrl", c->res.pr_url);
		our_url_in(r, c->gw, o, "commitUrl");
		our_url_in(r, c->gw, o, "pullRequestUrl");
		return json_reply(r, MHD_HTTP_OK, o, NULL);
	}
	cJSON_Delete(o);
	if (c->rc == GG_EUNAVAIL && c->plain) {
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", (double)c->id);
		cJSON_AddStringToObject(o, "state", "pending");
		cJSON_AddStringToObject(o, "message",
					"Upstream is unavailable: the file is stored and will be "
					"published when upstream is back (GET /api/ggufd/uploads/ID)");
		cJSON_AddStringToObject(o, "error", c->res.error);
		wake_worker(c->gw);
		return json_reply(r, MHD_HTTP_ACCEPTED, o, NULL);
	}
	if (c->rc == GG_EUNAVAIL) {
		char msg[700];
		snprintf(msg, sizeof(msg),
			 "Upstream is unavailable (%s); your files are staged here, so retrying "
			 "the upload later will not send them again",
			 c->res.error);
		return http_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "UpstreamUnavailable", msg, NULL);
	}
	/* Refused upstream: conflicts and validation keep their status. */
	status = c->res.status == 409 || c->res.status == 412 || c->res.status == 422
			 ? (unsigned)c->res.status
			 : MHD_HTTP_BAD_GATEWAY;
	return http_error(r, status, "UpstreamRefused", c->res.error, NULL);
}

static enum MHD_Result
publish_async(struct req *r, struct gateway *gw, uint64_t id, cJSON *job, int plain)
{
	struct pub_ctx *c = xcalloc(1, sizeof(*c));
	c->gw = gw;
	c->id = id;
	c->job = job;
	c->plain = plain;
	return http_run_async(r, pub_work, pub_finish, c, pub_ctx_free);
}

/* Removes a staged blob that a refused upload left and nothing names. */
static void
drop_if_unused(struct gateway *gw, const char *sha256)
{
	struct index_txn *t = NULL;
	struct index_blob b;
	if (index_txn_begin(gw->st->idx, 1, &t) != GG_OK)
		return;
	if (index_blob_get(t, sha256, &b) == GG_OK && b.refcount == 0 && !b.pinned &&
	    index_blob_del(t, sha256) == GG_OK && index_txn_commit(t) == GG_OK) {
		blob_remove(gw->st->blobs, sha256);
		return;
	}
	index_txn_abort(t);
}

/* --- PUT /api/ggufd/upload/{ns}/{name}/{path...} ------------------------------------- */

static int
begin_plain(struct req *r, struct gateway *gw, enum MHD_Result *res)
{
	const char *p = r->raw_uri + 18, *end = r->path_end;
	char segs[3][GG_MAX_REPO_PATH_LEN + 1], name[TOKEN_NAME_MAX + 1], why[700];
	const char *msg = http_header(r, "X-Commit-Message");
	struct sink *s;
	int64_t cl;
	long n;

	if (strcmp(r->method, "PUT") != 0) {
		*res = http_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, "Use PUT with the file as the body",
				  NULL);
		return 1;
	}
	if (require_token(r, TOKEN_UPLOAD, name, res) != 0)
		return 1;
	/* ns and name, then the rest as the path (segments decoded one by one). */
	for (int i = 0; i < 2; i++) {
		const char *sl = memchr(p, '/', (size_t)(end - p));
		if (sl == NULL || sl == p ||
		    route_pct_decode(p, (size_t)(sl - p), segs[i], sizeof(segs[i])) < 0) {
			*res = http_error(r, MHD_HTTP_BAD_REQUEST, NULL,
					  "Use PUT /api/ggufd/upload/{namespace}/{name}/{path}", NULL);
			return 1;
		}
		p = sl + 1;
	}
	segs[2][0] = '\0';
	for (size_t o = 0; p < end;) {
		const char *sl = memchr(p, '/', (size_t)(end - p));
		const char *se = sl ? sl : end;
		if (o != 0)
			segs[2][o++] = '/';
		n = route_pct_decode(p, (size_t)(se - p), segs[2] + o, sizeof(segs[2]) - o);
		if (n < 0) {
			*res = http_error(r, MHD_HTTP_BAD_REQUEST, NULL, "Malformed path", NULL);
			return 1;
		}
		o += (size_t)n;
		p = sl ? sl + 1 : end;
	}
	r->route.type = REPO_MODEL;
	if (snprintf_checked(r->route.repo, sizeof(r->route.repo), "%s/%s", segs[0], segs[1]) !=
		    GG_OK ||
	    !route_valid_repo(r->route.repo) || !store_valid_path(segs[2])) {
		*res = http_error(r, MHD_HTTP_BAD_REQUEST, NULL, "Invalid repo or path", NULL);
		return 1;
	}
	if (repo_allowed(r, gw, res) != 0)
		return 1;
	cl = content_length(r);
	if (cl < 0) {
		*res = http_error(r, MHD_HTTP_LENGTH_REQUIRED, NULL, "Content-Length is required", NULL);
		return 1;
	}
	switch (policy_check_path(&gw->cfg.policy, segs[2], (uint64_t)cl, why, sizeof(why))) {
	case GG_OK:
		break;
	case GG_ETOOBIG:
		*res = http_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "PolicyViolation", why, NULL);
		return 1;
	default:
		*res = http_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "PolicyViolation", why, NULL);
		return 1;
	}
	s = xcalloc(1, sizeof(*s));
	s->kind = SINK_PLAIN;
	s->gw = gw;
	s->size = s->expect = (uint64_t)cl;
	s->type = REPO_MODEL;
	memcpy(s->repo, r->route.repo, sizeof(s->repo));
	memcpy(s->path, segs[2], sizeof(s->path));
	memcpy(s->by, name, sizeof(s->by));
	snprintf(s->message, sizeof(s->message), "%s", msg ? msg : "");
	if (blob_writer_open(gw->st->blobs, cl, &s->w) != GG_OK) {
		free(s);
		*res = http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "Cannot stage", NULL);
		return 1;
	}
	r->sink = s;
	r->sink_data = sink_data;
	r->sink_free = sink_free;
	*res = MHD_YES;
	return 1;
}

static enum MHD_Result
plain_end(struct req *r)
{
	struct sink *s = r->sink;
	struct gateway *gw = s->gw;
	struct blob_digest d;
	char why[700], summary[600];
	unsigned status;
	uint64_t id;
	cJSON *job;
	int rc;

	if (s->failed)
		return http_error(r, MHD_HTTP_BAD_REQUEST, "SizeMismatch",
				  "The body does not match its Content-Length", NULL);
	store_hold(gw->st);
	rc = blob_writer_finish(s->w, NULL, NULL, &d);
	s->w = NULL;
	if (rc == GG_OK)
		rc = store_adopt_blob(gw->st, d.sha256);
	store_release(gw->st);
	if (rc != GG_OK)
		return http_error(r, rc == GG_ECORRUPT ? MHD_HTTP_BAD_REQUEST : 500, "SizeMismatch",
				  "The body does not match its Content-Length", NULL);
	status = check_content(gw, s->path, d.sha256, d.size, why, sizeof(why));
	if (status != 0) {
		drop_if_unused(gw, d.sha256);
		log_info("audit: upload by=%s repo=%s path=%s sha256=%s size=%llu result=refused (%s)",
			 s->by, s->repo, s->path, d.sha256, (unsigned long long)d.size, why);
		return http_error(r, status, "PolicyViolation", why, NULL);
	}
	snprintf(summary, sizeof(summary), "%s",
		 s->message[0] ? s->message : "Upload with the ggufd gateway");
	id = job_new_id(gw);
	job = job_make(id, s->by, s->type, s->repo, "main", summary, "", 1);
	job_add_file(job, s->path, store_is_lfs_path(s->path, d.size), d.sha256, d.gitsha1, d.size,
		     0, 0);
	/* Journaled as publishing: the worker leaves it to this request (a
	 * restart turns it back into pending). */
	job_save(gw, id, job, JOB_PUBLISHING);
	return publish_async(r, gw, id, job, 1);
}

/* --- the Hub protocol ------------------------------------------------------------- */

static enum MHD_Result
handle_whoami(struct req *r)
{
	char name[TOKEN_NAME_MAX + 1];
	enum MHD_Result res;
	cJSON *o, *auth, *at;

	if (require_token(r, TOKEN_READ, name, &res) != 0)
		return res;
	{
		unsigned scope = 0;
		token_check(http_store(r), http_bearer(r), &scope, name);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "type", "user");
		cJSON_AddStringToObject(o, "id", name);
		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddStringToObject(o, "fullname", name);
		cJSON_AddNullToObject(o, "email");
		cJSON_AddArrayToObject(o, "orgs");
		auth = cJSON_AddObjectToObject(o, "auth");
		cJSON_AddStringToObject(auth, "type", "access_token");
		at = cJSON_AddObjectToObject(auth, "accessToken");
		cJSON_AddStringToObject(at, "displayName", name);
		cJSON_AddStringToObject(at, "role", scope >= TOKEN_UPLOAD ? "write" : "read");
		cJSON_AddStringToObject(o, "ggufdScope", token_scope_name(scope));
	}
	return json_reply(r, MHD_HTTP_OK, o, NULL);
}

static enum MHD_Result
handle_validate_yaml(struct req *r)
{
	cJSON *b = cJSON_ParseWithLength(r->body.data ? r->body.data : "", r->body.len);
	cJSON *content = cJSON_GetObjectItemCaseSensitive(b, "content");
	cJSON *o = cJSON_CreateObject(), *errs = cJSON_AddArrayToObject(o, "errors");
	char why[400];

	cJSON_AddArrayToObject(o, "warnings");
	if (!cJSON_IsString(content)) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "message", "Body must be {\"content\": str, \"repoType\": str}");
		cJSON_AddItemToArray(errs, e);
	} else if (policy_check_readme(content->valuestring, strlen(content->valuestring), why,
				       sizeof(why)) != GG_OK) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "message", why);
		cJSON_AddItemToArray(errs, e);
	}
	cJSON_Delete(b);
	/* Python reads the JSON before the status: always JSON, always 200. */
	return json_reply(r, MHD_HTTP_OK, o, NULL);
}

static enum MHD_Result
handle_xet(struct req *r)
{
	return http_error(r, MHD_HTTP_NOT_IMPLEMENTED, "XetNotSupported",
			  "ggufd speaks plain HTTP, not Xet: set HF_HUB_DISABLE_XET=1 (Python) or "
			  "useXet: false / xet: false (huggingface.js)",
			  NULL);
}

static enum MHD_Result
handle_repo_create(struct req *r, struct gateway *gw)
{
	char name[TOKEN_NAME_MAX + 1], repo[GG_MAX_REPO_LEN + 1];
	enum MHD_Result res;
	struct upstream_resp ur;
	struct buf body;
	cJSON *b = NULL, *n, *org, *type;
	enum repo_type t = REPO_MODEL;
	struct MHD_Response *resp;

	if (require_token(r, TOKEN_UPLOAD, name, &res) != 0)
		return res;
	b = cJSON_ParseWithLength(r->body.data ? r->body.data : "", r->body.len);
	n = cJSON_GetObjectItemCaseSensitive(b, "name");
	org = cJSON_GetObjectItemCaseSensitive(b, "organization");
	type = cJSON_GetObjectItemCaseSensitive(b, "type");
	if (!cJSON_IsString(n)) {
		cJSON_Delete(b);
		return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest", "\"name\" is required", NULL);
	}
	if (cJSON_IsString(type))
		t = strcmp(type->valuestring, "dataset") == 0 ? REPO_DATASET
		    : strcmp(type->valuestring, "space") == 0 ? REPO_SPACE
							      : REPO_MODEL;
	if (snprintf_checked(repo, sizeof(repo), "%s%s%s", cJSON_IsString(org) ? org->valuestring : "",
			     cJSON_IsString(org) ? "/" : "", n->valuestring) != GG_OK ||
	    !route_valid_repo(repo)) {
		cJSON_Delete(b);
		return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest", "Invalid repo name", NULL);
	}
	cJSON_Delete(b);
	r->route.type = t;
	snprintf(r->route.repo, sizeof(r->route.repo), "%s", repo);
	if (repo_allowed(r, gw, &res) != 0)
		return res;
	/* Forwarded with the held token; the answer (200, or 409 with its
	 * "url" that exist_ok reads) is relayed. */
	buf_init(&body, 1u << 20);
	if (upstream_api(gw->up, "POST", "/api/repos/create", r->body.data ? r->body.data : "{}",
			 r->body.len, "application/json", &body, &ur) != GG_OK) {
		buf_free(&body);
		return http_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "UpstreamUnavailable",
				  "Upstream is unavailable", NULL);
	}
	b = cJSON_ParseWithLength(body.data ? body.data : "", body.len);
	if (cJSON_IsObject(b) && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(b, "url"))) {
		char *txt;
		our_url_in(r, gw, b, "url");
		txt = print_json(b);
		resp = MHD_create_response_from_buffer(strlen(txt), txt, MHD_RESPMEM_MUST_FREE);
		buf_free(&body);
	} else {
		size_t len;
		char *data = buf_steal(&body, &len);
		resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	}
	cJSON_Delete(b);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return http_queue(r, ur.status ? (unsigned)ur.status : 502, resp);
}

static enum MHD_Result
handle_preupload(struct req *r, struct gateway *gw)
{
	char name[TOKEN_NAME_MAX + 1], why[700];
	enum MHD_Result res;
	cJSON *b, *files, *f, *o, *out;
	struct index_txn *t = NULL;
	struct index_ref ref;
	int n = 0;

	if (require_token(r, TOKEN_UPLOAD, name, &res) != 0 || repo_allowed(r, gw, &res) != 0)
		return res;
	b = cJSON_ParseWithLength(r->body.data ? r->body.data : "", r->body.len);
	files = cJSON_GetObjectItemCaseSensitive(b, "files");
	if (!cJSON_IsArray(files) || cJSON_GetArraySize(files) > MAX_COMMIT_FILES) {
		cJSON_Delete(b);
		return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest",
				  "Body must be {\"files\": [{\"path\", \"sample\", \"size\"}]} "
				  "(at most 1000)",
				  NULL);
	}
	o = cJSON_CreateObject();
	out = cJSON_AddArrayToObject(o, "files");
	cJSON_ArrayForEach(f, files)
	{
		cJSON *p = cJSON_GetObjectItemCaseSensitive(f, "path");
		cJSON *sz = cJSON_GetObjectItemCaseSensitive(f, "size");
		cJSON *e;
		uint64_t size;
		int rc;
		if (!cJSON_IsString(p) || !cJSON_IsNumber(sz) || sz->valuedouble < 0 ||
		    !store_valid_path(p->valuestring)) {
			cJSON_Delete(o);
			cJSON_Delete(b);
			return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest",
					  "Each file needs a valid \"path\" and \"size\"", NULL);
		}
		size = (uint64_t)sz->valuedouble;
		rc = policy_check_path(&gw->cfg.policy, p->valuestring, size, why, sizeof(why));
		if (rc != GG_OK) {
			cJSON_Delete(o);
			cJSON_Delete(b);
			return http_error(r, rc == GG_ETOOBIG ? MHD_HTTP_CONTENT_TOO_LARGE
							     : MHD_HTTP_UNPROCESSABLE_CONTENT,
					  "PolicyViolation", why, NULL);
		}
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "path", p->valuestring);
		cJSON_AddStringToObject(e, "uploadMode",
					store_is_lfs_path(p->valuestring, size) ? "lfs" : "regular");
		cJSON_AddFalseToObject(e, "shouldIgnore");
		cJSON_AddItemToArray(out, e);
		n++;
	}
	cJSON_Delete(b);
	if (index_txn_begin(http_store(r)->idx, 0, &t) == GG_OK) {
		if (index_ref_get(t, r->route.type, r->route.repo, r->route.rev, &ref) == GG_OK)
			cJSON_AddStringToObject(o, "commitOid", ref.commit);
		index_txn_abort(t);
	}
	return json_reply(r, MHD_HTTP_OK, o, NULL);
}

static enum MHD_Result
handle_lfs_batch(struct req *r, struct gateway *gw)
{
	char name[TOKEN_NAME_MAX + 1];
	enum MHD_Result res;
	cJSON *b, *op, *objs, *tr, *algo, *obj, *o, *out;
	int multipart_ok = 0, used_multipart = 0;

	if (require_token(r, TOKEN_UPLOAD, name, &res) != 0 || repo_allowed(r, gw, &res) != 0)
		return res;
	b = cJSON_ParseWithLength(r->body.data ? r->body.data : "", r->body.len);
	op = cJSON_GetObjectItemCaseSensitive(b, "operation");
	objs = cJSON_GetObjectItemCaseSensitive(b, "objects");
	tr = cJSON_GetObjectItemCaseSensitive(b, "transfers");
	algo = cJSON_GetObjectItemCaseSensitive(b, "hash_algo");
	if (!cJSON_IsString(op) || !cJSON_IsArray(objs) ||
	    cJSON_GetArraySize(objs) > MAX_BATCH_OBJECTS ||
	    (algo != NULL && (!cJSON_IsString(algo) || (strcmp(algo->valuestring, "sha256") != 0 &&
							 strcmp(algo->valuestring, "sha_256") != 0)))) {
		cJSON_Delete(b);
		return http_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "BadRequest",
				  "Expected {\"operation\":\"upload\",\"objects\":[{\"oid\",\"size\"}],"
				  "\"hash_algo\":\"sha256\"}",
				  NULL);
	}
	if (strcmp(op->valuestring, "upload") != 0) {
		cJSON_Delete(b);
		return http_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "BadRequest",
				  "This gateway accepts LFS uploads only; download through /resolve/",
				  NULL);
	}
	cJSON_ArrayForEach(o, tr)
	{
		if (cJSON_IsString(o) && strcmp(o->valuestring, "multipart") == 0)
			multipart_ok = 1;
	}
	out = cJSON_CreateArray();
	cJSON_ArrayForEach(obj, objs)
	{
		cJSON *oid = cJSON_GetObjectItemCaseSensitive(obj, "oid");
		cJSON *sz = cJSON_GetObjectItemCaseSensitive(obj, "size");
		cJSON *e = cJSON_CreateObject(), *actions, *upload;
		uint64_t size = cJSON_IsNumber(sz) && sz->valuedouble >= 0 ? (uint64_t)sz->valuedouble : 0;

		if (!cJSON_IsString(oid) || !oid_ok(oid->valuestring, strlen(oid->valuestring)) ||
		    !cJSON_IsNumber(sz) || sz->valuedouble < 0) {
			cJSON *err = cJSON_AddObjectToObject(e, "error");
			cJSON_AddStringToObject(e, "oid", cJSON_IsString(oid) ? oid->valuestring : "");
			cJSON_AddNumberToObject(e, "size", (double)size);
			cJSON_AddNumberToObject(err, "code", 422);
			cJSON_AddStringToObject(err, "message", "oid must be 64 lowercase hex, size >= 0");
			cJSON_AddItemToArray(out, e);
			continue;
		}
		cJSON_AddStringToObject(e, "oid", oid->valuestring);
		cJSON_AddNumberToObject(e, "size", (double)size);
		cJSON_AddTrueToObject(e, "authenticated");
		if (size > gw->cfg.policy.max_size) {
			cJSON *err = cJSON_AddObjectToObject(e, "error");
			cJSON_AddNumberToObject(err, "code", 422);
			cJSON_AddStringToObject(err, "message", "object is over the upload size limit");
			cJSON_AddItemToArray(out, e);
			continue;
		}
		/* Already here: no action, so a retried upload sends nothing. */
		if (blob_exists(gw->st->blobs, oid->valuestring)) {
			cJSON_AddItemToArray(out, e);
			continue;
		}
		actions = cJSON_AddObjectToObject(e, "actions");
		upload = cJSON_AddObjectToObject(actions, "upload");
		if (multipart_ok && size > gw->cfg.multipart_threshold) {
			uint64_t cs = gw->cfg.chunk_size, nparts = (size + cs - 1) / cs;
			cJSON *h = cJSON_AddObjectToObject(upload, "header");
			char num[32], key[16];
			snprintf(num, sizeof(num), "%llu", (unsigned long long)cs);
			cJSON_AddStringToObject(h, "chunk_size", num);
			for (uint64_t i = 1; i <= nparts; i++) {
				char *href = signed_href(r, gw, "part", oid->valuestring, size, (unsigned)i);
				snprintf(key, sizeof(key), "%05llu", (unsigned long long)i);
				cJSON_AddStringToObject(h, key, href ? href : "");
				free(href);
			}
			{
				char *href = signed_href(r, gw, "complete", oid->valuestring, size, 0);
				cJSON_AddStringToObject(upload, "href", href ? href : "");
				free(href);
			}
			used_multipart = 1;
		} else {
			char *href = signed_href(r, gw, "lfs", oid->valuestring, size, 0);
			cJSON_AddStringToObject(upload, "href", href ? href : "");
			free(href);
		}
		cJSON_AddNumberToObject(upload, "expires_in", gw->cfg.href_ttl);
		cJSON_AddItemToArray(out, e);
	}
	cJSON_Delete(b);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "transfer", used_multipart ? "multipart" : "basic");
	cJSON_AddItemToObject(o, "objects", out);
	return json_reply(r, MHD_HTTP_OK, o, LFS_JSON);
}

/* One commit operation (NDJSON line value, or a JSON-form entry). */
static int
commit_op(struct req *r, struct gateway *gw, cJSON *job, const char *key, cJSON *v, char *why,
	  size_t whysz, unsigned *status)
{
	const char *path = jstr(v, "path");

	*status = MHD_HTTP_BAD_REQUEST;
	if (strcmp(key, "header") == 0) {
		jset(job, "summary",
						       cJSON_CreateString(jstr(v, "summary")));
		jset(job, "description",
						       cJSON_CreateString(jstr(v, "description")));
		jset(job, "parentCommit",
						       cJSON_CreateString(jstr(v, "parentCommit")));
		return 0;
	}
	if (!store_valid_path(path) && strcmp(key, "deletedFolder") != 0) {
		snprintf(why, whysz, "\"%s\" is not a valid path", path);
		return -1;
	}
	if (strcmp(key, "deletedFile") == 0 || strcmp(key, "deletedFolder") == 0) {
		job_add_file(job, path, 0, NULL, NULL, 0, 1, strcmp(key, "deletedFolder") == 0);
		return 0;
	}
	if (strcmp(key, "lfsFile") == 0) {
		const char *oid = jstr(v, "oid");
		cJSON *sz = cJSON_GetObjectItemCaseSensitive(v, "size");
		uint64_t size = cJSON_IsNumber(sz) && sz->valuedouble >= 0 ? (uint64_t)sz->valuedouble : 0;
		struct index_txn *t = NULL;
		struct index_blob b;
		int have = 0;
		if (!oid_ok(oid, strlen(oid))) {
			snprintf(why, whysz, "%s: lfsFile needs a sha256 oid", path);
			return -1;
		}
		if (index_txn_begin(gw->st->idx, 0, &t) == GG_OK) {
			if (index_blob_get(t, oid, &b) == GG_OK) {
				/* huggingface_hub sends a copy of an LFS file
				 * (CommitOperationCopy) as an lfsFile with no size:
				 * the size is the stored object's. */
				if (sz == NULL)
					size = b.size;
				have = b.size == size && blob_exists(gw->st->blobs, oid);
			}
			index_txn_abort(t);
		}
		if (!have) {
			*status = MHD_HTTP_UNPROCESSABLE_CONTENT;
			snprintf(why, whysz,
				 "%s: LFS object %s (%llu bytes) was not uploaded to this gateway "
				 "(LFS batch, then PUT)",
				 path, oid, (unsigned long long)size);
			return -1;
		}
		if ((*status = check_content(gw, path, oid, size, why, whysz)) != 0)
			return -1;
		job_add_file(job, path, 1, oid, NULL, size, 0, 0);
		return 0;
	}
	if (strcmp(key, "file") == 0) {
		const char *content = jstr(v, "content"), *enc = jstr(v, "encoding");
		unsigned char *data;
		size_t len = 0;
		struct blob_writer *w = NULL;
		struct blob_digest d;
		int rc;
		if (strcmp(enc, "base64") != 0 ||
		    (data = b64_decode(content, strlen(content), &len)) == NULL) {
			snprintf(why, whysz, "%s: file content must be base64", path);
			return -1;
		}
		rc = blob_writer_open(gw->st->blobs, (int64_t)len, &w);
		if (rc == GG_OK)
			rc = blob_writer_write(w, data, len);
		free(data);
		store_hold(gw->st);
		if (rc == GG_OK) {
			rc = blob_writer_finish(w, NULL, NULL, &d);
			w = NULL;
		}
		if (rc == GG_OK)
			rc = store_adopt_blob(gw->st, d.sha256);
		store_release(gw->st);
		blob_writer_abort(w);
		if (rc != GG_OK) {
			*status = MHD_HTTP_INTERNAL_SERVER_ERROR;
			snprintf(why, whysz, "%s: cannot stage: %s", path, gg_strerror(rc));
			return -1;
		}
		if ((*status = check_content(gw, path, d.sha256, d.size, why, whysz)) != 0) {
			drop_if_unused(gw, d.sha256);
			return -1;
		}
		job_add_file(job, path, 0, d.sha256, d.gitsha1, d.size, 0, 0);
		return 0;
	}
	snprintf(why, whysz, "unknown commit operation \"%s\"", key);
	return -1;
}

static enum MHD_Result
handle_commit(struct req *r, struct gateway *gw)
{
	char name[TOKEN_NAME_MAX + 1], why[900];
	const char *ct = http_header(r, "Content-Type");
	enum MHD_Result res;
	unsigned status = 0;
	uint64_t id;
	cJSON *job;
	int bad = 0;

	if (require_token(r, TOKEN_UPLOAD, name, &res) != 0 || repo_allowed(r, gw, &res) != 0)
		return res;
	if (r->body_too_big)
		return http_error(r, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
				  "Commit body too large: send large files through LFS", NULL);
	id = job_new_id(gw);
	job = job_make(id, name, r->route.type, r->route.repo, r->route.rev, "Upload with ggufd", "", 0);
	jset(job, "create_pr",
					       cJSON_CreateBool(http_query_bool(r, "create_pr")));
	if (ct != NULL && strncasecmp(ct, "application/json", 16) == 0) {
		/* The Hub's JSON form: {"summary","description","files","lfsFiles",
		 * "deletedFiles"}. */
		cJSON *b = cJSON_ParseWithLength(r->body.data ? r->body.data : "", r->body.len), *e;
		if (!cJSON_IsObject(b)) {
			cJSON_Delete(b);
			cJSON_Delete(job);
			return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest", "Body is not JSON", NULL);
		}
		commit_op(r, gw, job, "header", b, why, sizeof(why), &status);
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(b, "files"))
		{
			if (!bad && commit_op(r, gw, job, "file", e, why, sizeof(why), &status) != 0)
				bad = 1;
		}
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(b, "lfsFiles"))
		{
			if (!bad && commit_op(r, gw, job, "lfsFile", e, why, sizeof(why), &status) != 0)
				bad = 1;
		}
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(b, "deletedFiles"))
		{
			if (!bad && commit_op(r, gw, job, "deletedFile", e, why, sizeof(why), &status) != 0)
				bad = 1;
		}
		cJSON_Delete(b);
	} else {
		/* NDJSON: one {"key","value"} per line (the last may lack "\n"). */
		const char *p = r->body.data ? r->body.data : "", *end = p + r->body.len;
		int lines = 0;
		while (!bad && p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *le = nl ? nl : end;
			if (le > p) {
				cJSON *l = cJSON_ParseWithLength(p, (size_t)(le - p));
				cJSON *k = cJSON_GetObjectItemCaseSensitive(l, "key");
				cJSON *v = cJSON_GetObjectItemCaseSensitive(l, "value");
				if (!cJSON_IsString(k) || !cJSON_IsObject(v)) {
					snprintf(why, sizeof(why), "line %d is not {\"key\", \"value\"}",
						 lines + 1);
					status = MHD_HTTP_BAD_REQUEST;
					bad = 1;
				} else if (commit_op(r, gw, job, k->valuestring, v, why, sizeof(why),
						     &status) != 0) {
					bad = 1;
				}
				cJSON_Delete(l);
				lines++;
			}
			p = le + 1;
		}
	}
	if (!bad && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(job, "files")) == 0) {
		snprintf(why, sizeof(why), "The commit has no files");
		status = MHD_HTTP_BAD_REQUEST;
		bad = 1;
	}
	if (bad) {
		log_info("audit: commit by=%s repo=%s%s result=refused (%s)", name,
			 route_type_prefix(r->route.type), r->route.repo, why);
		cJSON_Delete(job);
		return http_error(r, status ? status : MHD_HTTP_BAD_REQUEST,
				  status == MHD_HTTP_UNPROCESSABLE_CONTENT ||
						  status == MHD_HTTP_CONTENT_TOO_LARGE
					  ? "PolicyViolation"
					  : "BadRequest",
				  why, NULL);
	}
	/* Journaled as publishing: the worker leaves it to this request (a
	 * restart turns it back into pending). */
	job_save(gw, id, job, JOB_PUBLISHING);
	return publish_async(r, gw, id, job, 0);
}

int
gateway_is_route(enum route_kind k)
{
	return k == ROUTE_API_PREUPLOAD || k == ROUTE_API_COMMIT || k == ROUTE_API_XET_READ ||
	       k == ROUTE_API_XET_WRITE || k == ROUTE_LFS_BATCH || k == ROUTE_WHOAMI ||
	       k == ROUTE_VALIDATE_YAML || k == ROUTE_REPO_CREATE;
}

enum MHD_Result
gateway_route(struct req *r)
{
	struct gateway *gw = http_gateway(r);
	int post = strcmp(r->method, "POST") == 0, get = strcmp(r->method, "GET") == 0 || r->is_head;

	switch (r->route.kind) {
	case ROUTE_API_XET_READ:
	case ROUTE_API_XET_WRITE:
		return handle_xet(r);
	case ROUTE_VALIDATE_YAML:
		return post ? handle_validate_yaml(r)
			    : http_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, "Use POST", NULL);
	case ROUTE_WHOAMI:
		return get ? handle_whoami(r)
			   : http_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, "Use GET", NULL);
	default:
		break;
	}
	if (gw == NULL)
		return http_error(r, MHD_HTTP_NOT_FOUND, NULL, "This ggufd has no upload gateway", NULL);
	if (!post)
		return http_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, "Use POST", NULL);
	switch (r->route.kind) {
	case ROUTE_API_PREUPLOAD: return handle_preupload(r, gw);
	case ROUTE_LFS_BATCH: return handle_lfs_batch(r, gw);
	case ROUTE_API_COMMIT: return handle_commit(r, gw);
	case ROUTE_REPO_CREATE: return handle_repo_create(r, gw);
	default: return http_error(r, MHD_HTTP_NOT_FOUND, NULL, "Not found", NULL);
	}
}

/* --- GET /api/ggufd/uploads[/{id}] -------------------------------------------------- */

struct list_ctx {
	cJSON *arr;
	struct req *r;
	struct gateway *gw;
};

static int
list_cb(void *ctx, uint64_t id, const struct index_upload *rec)
{
	struct list_ctx *l = ctx;
	cJSON *j = cJSON_ParseWithLength(rec->data, rec->len);
	(void)id;
	if (j != NULL) {
		our_url_in(l->r, l->gw, j, "commitUrl");
		cJSON_AddItemToArray(l->arr, j);
	}
	return 0;
}

enum MHD_Result gateway_uploads(struct req *r, long id);
enum MHD_Result
gateway_uploads(struct req *r, long id)
{
	struct gateway *gw = http_gateway(r);
	char name[TOKEN_NAME_MAX + 1];
	enum MHD_Result res;
	struct index_txn *t = NULL;

	if (gw == NULL)
		return http_error(r, MHD_HTTP_NOT_FOUND, NULL, "This ggufd has no upload gateway", NULL);
	if (require_token(r, TOKEN_UPLOAD, name, &res) != 0)
		return res;
	if (id > 0) {
		unsigned state;
		cJSON *j = job_load(gw, (uint64_t)id, &state);
		if (j == NULL)
			return http_error(r, MHD_HTTP_NOT_FOUND, NULL, "No such upload job", NULL);
		our_url_in(r, gw, j, "commitUrl");
		return json_reply(r, MHD_HTTP_OK, j, NULL);
	}
	{
		struct list_ctx l = { cJSON_CreateArray(), r, gw };
		if (index_txn_begin(gw->st->idx, 0, &t) == GG_OK) {
			index_upload_foreach(t, list_cb, &l);
			index_txn_abort(t);
		}
		return json_reply(r, MHD_HTTP_OK, l.arr, NULL);
	}
}
