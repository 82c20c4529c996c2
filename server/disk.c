/*
 * disk.c: the store's disk for operators (dashboard, scripts).
 *
 *   GET  /api/ggufd/disk   usage against the quota, pinned and evictable
 *                          bytes, the blobs eviction would take next and
 *                          the last evictions, each with the files that
 *                          name it at a ref
 *   GET  /api/ggufd/pins   the pinned blobs, with their files
 *   POST /api/ggufd/pins   {"repo","revision"?,"include"?:[glob],"pin"?:bool}
 *                          pins (or unpins) a revision's files, as
 *                          `ggufd pin` does
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "app.h"
#include "bucket.h"
#include "disk.h"
#include "gg_limits.h"
#include "http.h"
#include "huberr.h"
#include "log.h"
#include "route.h"
#include "store.h"
#include "visibility.h"

#define DISK_NEXT 10        /* blobs shown that eviction would take next */
#define DISK_NAMES 3        /* files shown per blob */
#define DISK_MAX_PINNED 500 /* pinned blobs listed */

/* --- which files name a blob (at a ref) --------------------------------------- */

struct want {
	char sha256[GG_SHA256_HEX + 1];
	cJSON *files; /* array the names go into */
	int n;
	int hidden;      /* a repo the caller may not see names it */
	cJSON *obj, *in; /* the blob's object, and the array it is in */
};

struct names_ctx {
	struct req *r;
	struct store_view *v;
	struct want *w;
	size_t nw;
	enum repo_type type;
	const char *repo, *ref;
	int hide;                   /* repo is not the caller's to see */
	char seen[GG_SHA1_HEX + 1]; /* a commit two refs share is walked once */
};

static int
names_file_cb(void *ctx, const char *path, const struct index_file *rec)
{
	struct names_ctx *c = ctx;
	for (size_t i = 0; i < c->nw; i++) {
		struct want *w = &c->w[i];
		cJSON *o;
		if (strcmp(w->sha256, rec->sha256) != 0)
			continue;
		if (c->hide) {
			w->hidden = 1;
			continue;
		}
		if (w->n >= DISK_NAMES)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "type", route_type_name(c->type));
		cJSON_AddStringToObject(o, "repo", c->repo);
		cJSON_AddStringToObject(o, "revision", c->ref);
		cJSON_AddStringToObject(o, "path", path);
		cJSON_AddItemToArray(w->files, o);
		w->n++;
	}
	return 0;
}

static int
names_ref_cb(void *ctx, const char *ref, const struct index_ref *rec)
{
	struct names_ctx *c = ctx;
	if (strcmp(c->seen, rec->commit) == 0)
		return 0;
	memcpy(c->seen, rec->commit, sizeof(c->seen));
	c->ref = ref;
	return store_view_files(c->v, c->type, c->repo, rec->commit, NULL, names_file_cb, c);
}

static int
names_repo_cb(void *ctx, enum repo_type type, const char *repo)
{
	struct names_ctx *c = ctx;
	c->hide = c->r != NULL && !visibility_listed(c->r, type, repo);
	c->type = type;
	c->repo = repo;
	c->seen[0] = '\0';
	return store_view_refs(c->v, type, repo, names_ref_cb, c);
}

/* Fills each want's files with up to DISK_NAMES files naming its blob at
 * a ref (one pass over the refs' trees), in the repos a listing may name
 * to r (visibility_listed; NULL: every repo, for an operator's route).  A
 * blob named only in the others is taken out of the answer, and so, for
 * a caller who does not see every repo (visibility_sees_all), is a blob
 * no ref names (an old file's, perhaps of a private repo). */
static void
find_names(struct req *r, struct store *st, struct want *w, size_t nw)
{
	struct store_view v;
	struct names_ctx c;
	int all;

	if (nw == 0)
		return;
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.v = &v;
	c.w = w;
	c.nw = nw;
	if (store_view_begin(st, &v) == GG_OK)
		store_view_repos(&v, names_repo_cb, &c);
	store_view_end(&v);
	all = r == NULL || visibility_sees_all(r);
	for (size_t i = 0; i < nw; i++)
		if (w[i].n == 0 && (w[i].hidden || !all) && w[i].in != NULL)
			cJSON_Delete(cJSON_DetachItemViaPointer(w[i].in, w[i].obj));
}

/* A blob's object, added to in. */
static cJSON *
blob_json(struct want *w, cJSON *in, const char *sha256, uint64_t size)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "sha256", sha256);
	cJSON_AddNumberToObject(o, "size", (double)size);
	snprintf(w->sha256, sizeof(w->sha256), "%s", sha256);
	w->files = cJSON_AddArrayToObject(o, "files");
	w->n = 0;
	w->hidden = 0;
	w->obj = o;
	w->in = in;
	cJSON_AddItemToArray(in, o);
	return o;
}

static enum MHD_Result
reply(struct req *r, unsigned status, cJSON *o)
{
	char *txt = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (txt == NULL)
		log_fatalx("cJSON_PrintUnformatted() failed: out of memory");
	return http_json(r, status, txt);
}

/* --- GET /api/ggufd/disk ------------------------------------------------------ */

/*
 *   {"quota":<bytes, 0: none>,"used","reserved","blobs","pinned","evictable",
 *    "fsTotal","fsAvail","evictions","evictedBytes",
 *    "next":[{"sha256","size","lastAccess","hits","files":[{"type","repo",
 *             "revision","path"}]}],
 *    "recent":[{"sha256","size","time","lastAccess","files":[...]}],
 *    "blobStore":null|{"url","endpoint",...}}
 * "blobStore" is null without --blob-store, else bucket.h's bucket_json.
 * "files" names a repo upstream keeps private only to a caller who may
 * read it (visibility_listed); its blobs are still counted, and listed
 * only to such a caller (find_names).
 */
enum MHD_Result
disk_usage(struct req *r)
{
	struct store *st = r->app->st;
	struct store_usage u;
	struct store_evictee next[DISK_NEXT];
	struct store_eviction rec[STORE_RECENT_EVICTIONS];
	struct want w[DISK_NEXT + STORE_RECENT_EVICTIONS];
	uint64_t total = 0, avail = 0;
	size_t nn = 0, nr, nw = 0;
	cJSON *o, *arr;
	int rc;

	if ((rc = store_usage(st, &u, next, DISK_NEXT, &nn)) != GG_OK)
		return http_error_from(r, rc, "reading the store's usage");
	store_fs_space(st, &total, &avail);
	nr = store_recent_evictions(st, rec, STORE_RECENT_EVICTIONS);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "quota", (double)u.max_bytes);
	cJSON_AddNumberToObject(o, "used", (double)u.used_bytes);
	cJSON_AddNumberToObject(o, "reserved", (double)u.reserved_bytes);
	cJSON_AddNumberToObject(o, "blobs", (double)u.blobs);
	cJSON_AddNumberToObject(o, "pinned", (double)u.pinned_bytes);
	cJSON_AddNumberToObject(o, "evictable", (double)u.evictable_bytes);
	cJSON_AddNumberToObject(o, "fsTotal", (double)total);
	cJSON_AddNumberToObject(o, "fsAvail", (double)avail);
	cJSON_AddNumberToObject(o, "evictions", (double)u.evictions);
	cJSON_AddNumberToObject(o, "evictedBytes", (double)u.evicted_bytes);
	arr = cJSON_AddArrayToObject(o, "next");
	for (size_t i = 0; i < nn; i++) {
		cJSON *b = blob_json(&w[nw++], arr, next[i].sha256, next[i].size);
		cJSON_AddNumberToObject(b, "lastAccess", (double)next[i].last_access);
		cJSON_AddNumberToObject(b, "hits", (double)next[i].hits);
	}
	arr = cJSON_AddArrayToObject(o, "recent");
	for (size_t i = 0; i < nr; i++) {
		cJSON *b = blob_json(&w[nw++], arr, rec[i].sha256, rec[i].size);
		cJSON_AddNumberToObject(b, "time", (double)rec[i].time);
		cJSON_AddNumberToObject(b, "lastAccess", (double)rec[i].last_access);
	}
	find_names(r, st, w, nw);
	if (r->app->bucket != NULL)
		bucket_json(r->app->bucket, cJSON_AddObjectToObject(o, "blobStore"));
	else
		cJSON_AddNullToObject(o, "blobStore");
	return reply(r, MHD_HTTP_OK, o);
}

/* --- /api/ggufd/pins ------------------------------------------------------------ */

struct pinned_ctx {
	struct store *st;
	cJSON *arr;
	struct want *w;
	size_t n;
};

static int
pinned_cb(void *ctx, const char *sha256, const struct index_blob *rec)
{
	struct pinned_ctx *c = ctx;
	cJSON *b;
	if (!rec->pinned)
		return 0;
	if (c->n == DISK_MAX_PINNED)
		return 1;
	b = blob_json(&c->w[c->n++], c->arr, sha256, rec->size);
	cJSON_AddBoolToObject(b, "present", store_blob_exists(c->st, sha256));
	return 0;
}

/*
 *   GET  -> [{"sha256","size","present","files":[...]}] (at most 500)
 *   POST {"repo":"ruv/ruvltra","revision":"main","include":["*q4_k_m.gguf"],
 *         "pin":true} -> {"repo","revision","commit","pinned","files","blobs","bytes"}
 */
static enum MHD_Result
pins_list(struct req *r)
{
	struct store *st = r->app->st;
	struct pinned_ctx c = { st, cJSON_CreateArray(), NULL, 0 };
	struct store_view v;
	int rc;

	c.w = xcalloc(DISK_MAX_PINNED, sizeof(*c.w));
	if ((rc = store_view_begin(st, &v)) == GG_OK)
		rc = store_view_blobs(&v, pinned_cb, &c);
	store_view_end(&v);
	if (rc != GG_OK) {
		free(c.w);
		cJSON_Delete(c.arr);
		return http_error_from(r, rc, "listing the pins");
	}
	find_names(NULL, st, c.w, c.n); /* an admin route */
	free(c.w);
	return reply(r, MHD_HTTP_OK, c.arr);
}

static enum MHD_Result
pins_set(struct req *r)
{
	static const char usage[] = "Body must be JSON: {\"repo\": str, \"revision\"?: str, "
				    "\"include\"?: [str], \"pin\"?: bool}";
	cJSON *body = cJSON_ParseWithLength(r->body.data ? r->body.data : "", r->body.len);
	cJSON *repo = cJSON_GetObjectItemCaseSensitive(body, "repo");
	cJSON *rev = cJSON_GetObjectItemCaseSensitive(body, "revision");
	cJSON *inc = cJSON_GetObjectItemCaseSensitive(body, "include");
	cJSON *pin = cJSON_GetObjectItemCaseSensitive(body, "pin");
	const char *globs[64], *name, *revision;
	struct store_pin_report rep;
	enum MHD_Result res;
	enum repo_type type;
	size_t nglobs = 0;
	cJSON *g, *o;
	int rc, pinned;

	if (!cJSON_IsObject(body) || !cJSON_IsString(repo) || (rev && !cJSON_IsString(rev)) ||
	    (inc && !cJSON_IsArray(inc)) || (pin && !cJSON_IsBool(pin))) {
		res = http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest", usage, NULL);
		goto done;
	}
	revision = rev ? rev->valuestring : "main";
	if (route_split_repo(repo->valuestring, &type, &name) != 0 || *revision == '\0' ||
	    strlen(revision) > GG_MAX_REV_LEN) {
		res = http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest", "Invalid repo or revision",
				 NULL);
		goto done;
	}
	cJSON_ArrayForEach (g, inc) {
		if (!cJSON_IsString(g) || nglobs == sizeof(globs) / sizeof(globs[0])) {
			res = http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest",
					 "\"include\" takes at most 64 strings", NULL);
			goto done;
		}
		globs[nglobs++] = g->valuestring;
	}
	pinned = pin == NULL || cJSON_IsTrue(pin);
	rc = store_pin_files(r->app->st, type, name, revision, globs, nglobs, pinned, &rep);
	if (rc == GG_ENOENT) {
		/* What the store knows: pins are about bytes held here. */
		res = http_error(r, MHD_HTTP_NOT_FOUND, "NotFound",
				 "No such repo or revision in the store", NULL);
		goto done;
	}
	if (rc != GG_OK) {
		res = http_error_from(r, rc, "pinning");
		goto done;
	}
	log_info("%s %llu files (%llu blobs, %llu bytes) of %s%s@%.12s%s%s",
		 pinned ? "pinned" : "unpinned", (unsigned long long)rep.files,
		 (unsigned long long)rep.blobs, (unsigned long long)rep.bytes,
		 route_type_prefix(type), name, rep.commit, r->token_name[0] ? " by " : "",
		 r->token_name);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "repo", repo->valuestring);
	cJSON_AddStringToObject(o, "revision", revision);
	cJSON_AddStringToObject(o, "commit", rep.commit);
	cJSON_AddBoolToObject(o, "pinned", pinned);
	cJSON_AddNumberToObject(o, "files", (double)rep.files);
	cJSON_AddNumberToObject(o, "blobs", (double)rep.blobs);
	cJSON_AddNumberToObject(o, "bytes", (double)rep.bytes);
	res = reply(r, MHD_HTTP_OK, o);
done:
	cJSON_Delete(body);
	return res;
}

enum MHD_Result
disk_pins(struct req *r)
{
	if (strcmp(r->method, "POST") == 0)
		return pins_set(r);
	return pins_list(r);
}
