/*
 * api.c: the Hub's metadata routes, answered from the index
 * (HF-PROTOCOL.md section 3).
 *
 *   GET  /api/models/{repo}[/revision/{rev}]   repo info: id, sha, siblings
 *   GET  /api/models/{repo}/tree/{rev}[/{p}]   JSON array, Link: <abs>; rel="next"
 *   POST /api/models/{repo}/paths-info/{rev}   form (paths=a&paths=b) or JSON
 *   GET  /api/models/{repo}/refs               branches, converts, tags, PRs
 *
 * Tree entries:
 *   {"type":"file","oid":"<git sha1>","size":N,"path":"a/b.gguf",
 *    "lfs":{"oid":"<sha256>","size":N,"pointerSize":P}}
 *   {"type":"directory","oid":"<sha1>","size":0,"path":"a"}
 * Pagination: a request without cursor and limit gets the whole listing
 * (up to GG_TREE_WHOLE_MAX entries), as llama.cpp needs; pages of
 * GG_TREE_PAGE_SIZE follow a cursor.  The cursor is the hex of the last file path of the page; it
 * is opaque to clients and stable while the commit is (commits are
 * immutable).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "api.h"
#include "apimirror.h"
#include "blob.h"
#include "app.h"
#include "http.h"
#include "huberr.h"
#include "json.h"
#include "respcache.h"
#include "store.h"
#include "log.h"

static char *
json_print(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	if (s == NULL)
		log_fatalx("cJSON_PrintUnformatted() failed: out of memory");
	cJSON_Delete(o);
	return s;
}

static void
iso8601(uint64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

/*
 * Begins a view and resolves the route's rev ("main" when absent) in it.
 * Returns 0 with *v open (the caller ends it), or a negative code after
 * the Hub's answer was queued into *result (v ended).
 */
static int
resolve_commit(struct req *r, struct store_view *v, char commit[GG_SHA1_HEX + 1],
	       enum MHD_Result *result)
{
	const char *rev = r->route.has_rev ? r->route.rev : "main";
	int known = 0, rc;

	if ((rc = store_view_begin(r->app->st, v)) != GG_OK) {
		*result = http_error_from(r, rc, "index");
		return rc;
	}
	rc = store_resolve_rev(v, r->route.type, r->route.repo, rev, commit, &known, NULL);
	if (rc == GG_OK)
		return GG_OK;
	store_view_end(v);
	*result = hub_rev_error(r, rc, known);
	return rc < 0 ? rc : GG_EDB;
}

/* --- entries -------------------------------------------------------------- */

static cJSON *
file_entry(const char *path, const struct index_file *f)
{
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "type", "file");
	cJSON_AddStringToObject(e, "oid", f->oid);
	cJSON_AddNumberToObject(e, "size", (double)f->size);
	cJSON_AddStringToObject(e, "path", path);
	if (f->flags & INDEX_FILE_LFS) {
		cJSON *l = cJSON_AddObjectToObject(e, "lfs");
		char oid[GG_SHA1_HEX + 1];
		size_t psize;
		blob_lfs_pointer_oid(f->sha256, f->size, oid, &psize);
		cJSON_AddStringToObject(l, "oid", f->sha256);
		cJSON_AddNumberToObject(l, "size", (double)f->size);
		cJSON_AddNumberToObject(l, "pointerSize", (double)psize);
	}
	return e;
}

/* A stable stand-in for a git tree id: sha1 over commit and folder path. */
static cJSON *
dir_entry(const char *commit, const char *path, size_t len)
{
	cJSON *e = cJSON_CreateObject();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int ml;
	char oid[GG_SHA1_HEX + 1], *p = xstrndup(path, len);
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (c == NULL || EVP_DigestInit_ex(c, EVP_sha1(), NULL) != 1)
		log_fatalx("EVP_DigestInit_ex(sha1) failed");
	EVP_DigestUpdate(c, "tree\n", 5);
	EVP_DigestUpdate(c, commit, GG_SHA1_HEX);
	EVP_DigestUpdate(c, p, len);
	EVP_DigestFinal_ex(c, md, &ml);
	EVP_MD_CTX_free(c);
	hex_encode(md, 20, oid);
	cJSON_AddStringToObject(e, "type", "directory");
	cJSON_AddStringToObject(e, "oid", oid);
	cJSON_AddNumberToObject(e, "size", 0);
	cJSON_AddStringToObject(e, "path", p);
	free(p);
	return e;
}

static void
add_last_commit(cJSON *e, const char *commit, const struct index_commit *c)
{
	char date[32];
	cJSON *lc = cJSON_AddObjectToObject(e, "lastCommit");
	iso8601(c->created_at, date);
	cJSON_AddStringToObject(lc, "id", commit);
	cJSON_AddStringToObject(lc, "title", c->title);
	cJSON_AddStringToObject(lc, "date", date);
	cJSON_AddNullToObject(e, "securityFileStatus");
}

/* --- repo info -------------------------------------------------------------- */

struct info_ctx {
	cJSON *siblings;
	int with_blobs;
	uint64_t used;
	int has_gguf;
	struct gguf_summary gguf;
	struct store_view *v;
};

static int
info_file_cb(void *ctx, const char *path, const struct index_file *f)
{
	struct info_ctx *c = ctx;
	cJSON *s = cJSON_CreateObject();

	cJSON_AddStringToObject(s, "rfilename", path);
	if (c->with_blobs) {
		cJSON_AddNumberToObject(s, "size", (double)f->size);
		cJSON_AddStringToObject(s, "blobId", f->oid);
		if (f->flags & INDEX_FILE_LFS) {
			cJSON *l = cJSON_AddObjectToObject(s, "lfs");
			char oid[GG_SHA1_HEX + 1];
			size_t psize;
			blob_lfs_pointer_oid(f->sha256, f->size, oid, &psize);
			cJSON_AddStringToObject(l, "sha256", f->sha256);
			cJSON_AddNumberToObject(l, "size", (double)f->size);
			cJSON_AddNumberToObject(l, "pointerSize", (double)psize);
		}
	}
	cJSON_AddItemToArray(c->siblings, s);
	c->used += f->size;
	if (!c->has_gguf) {
		struct index_blob b;
		if (store_view_blob(c->v, f->sha256, &b) == GG_OK && b.has_gguf) {
			c->has_gguf = 1;
			c->gguf = b.gguf;
		}
	}
	return 0;
}

struct expand_ctx {
	cJSON *keep;
};

static void
expand_cb(void *ctx, const char *value)
{
	struct expand_ctx *e = ctx;
	if (e->keep == NULL)
		e->keep = cJSON_CreateArray();
	cJSON_AddItemToArray(e->keep, cJSON_CreateString(value));
}

/*
 * The name of a kept 200 JSON answer (respcache.h): the answer's own key
 * (store_answer_get's), the index generation it belongs to, and whether
 * the client takes gzip (http_json_response compresses for those).
 */
static void
kept_json_key(struct respcache_key *k, struct req *r, const char *key, uint64_t gen)
{
	const char *ae = http_header(r, "Accept-Encoding");

	k->len = 0;
	k->over = 0;
	respcache_key_add(k, "json/1");
	respcache_key_add(k, key);
	respcache_key_u64(k, gen);
	respcache_key_add(k, ae != NULL && strstr(ae, "gzip") != NULL ? "gzip" : "-");
}

/* Answers json (taken) with 200, keeping the whole response for the
 * next request of the same key and generation. */
static enum MHD_Result
queue_kept_json(struct req *r, const char *key, uint64_t gen, char *json)
{
	struct respcache_key k;
	struct MHD_Response *resp;
	enum MHD_Result res;

	if (strlen(json) > RESPCACHE_MAX_BODY * 4)
		return http_json(r, MHD_HTTP_OK, json); /* too large to keep */
	kept_json_key(&k, r, key, gen);
	resp = http_json_response(r, json);
	if (respcache_keep_and_queue(r, &k, MHD_HTTP_OK, resp, &res))
		return res;
	return http_queue(r, MHD_HTTP_OK, resp);
}

enum MHD_Result
api_info(struct req *r)
{
	enum MHD_Result mirrored;
	struct store_view v;
	struct index_commit c;
	struct info_ctx ic;
	struct expand_ctx ex = { NULL };
	char commit[GG_SHA1_HEX + 1], date[32], *id, *json;
	char key[GG_MAX_REPO_LEN + GG_MAX_REV_LEN + GG_MAX_URL_LEN + 32];
	enum MHD_Result result;
	const char *slash;
	uint64_t gen;
	cJSON *o;
	int rc, keyed;

	if (api_mirror(r, &mirrored))
		return mirrored;

	/* Built from the index alone: kept while the index does not change
	 * (store_answer_get), keyed by everything it depends on, under the
	 * generation of the view it is built from. */
	keyed = snprintf_checked(key, sizeof(key), "info\n%d\n%s\n%s\n%s", (int)r->route.type,
				 r->route.repo, r->route.has_rev ? r->route.rev : "",
				 r->query ? r->query : "") == GG_OK;
	if (keyed) {
		uint64_t now = store_generation(r->app->st);
		struct respcache_key k;

		kept_json_key(&k, r, key, now);
		if (respcache_queue(r, &k, &result))
			return result;
		if (store_answer_get(r->app->st, key, now, &json))
			return queue_kept_json(r, key, now, json);
	}
	if (resolve_commit(r, &v, commit, &result) != GG_OK)
		return result;
	memset(&ic, 0, sizeof(ic));
	memset(&c, 0, sizeof(c));
	ic.with_blobs = http_query_bool(r, "blobs");
	ic.v = &v;
	gen = store_view_generation(&v);
	o = cJSON_CreateObject();
	ic.siblings = cJSON_CreateArray();
	rc = store_view_files(&v, r->route.type, r->route.repo, commit, NULL, info_file_cb, &ic);
	if (rc == GG_OK)
		rc = store_view_commit(&v, r->route.type, r->route.repo, commit, &c);
	store_view_end(&v);
	if (rc != GG_OK) {
		cJSON_Delete(ic.siblings);
		cJSON_Delete(o);
		return http_error_from(r, rc, "repo info");
	}
	iso8601(c.created_at, date);
	/* _id: an opaque 24-hex id, as the Hub's Mongo ids look. */
	id = xstrndup(commit, 24);
	cJSON_AddStringToObject(o, "_id", id);
	free(id);
	cJSON_AddStringToObject(o, "id", r->route.repo);
	cJSON_AddStringToObject(o, "modelId", r->route.repo);
	slash = strchr(r->route.repo, '/');
	if (slash != NULL) {
		char *author = xstrndup(r->route.repo, (size_t)(slash - r->route.repo));
		cJSON_AddStringToObject(o, "author", author);
		free(author);
	}
	cJSON_AddStringToObject(o, "sha", commit);
	cJSON_AddStringToObject(o, "lastModified", date);
	cJSON_AddStringToObject(o, "createdAt", date);
	cJSON_AddFalseToObject(o, "private");
	cJSON_AddFalseToObject(o, "gated");
	cJSON_AddFalseToObject(o, "disabled");
	cJSON_AddNumberToObject(o, "downloads", 0);
	cJSON_AddNumberToObject(o, "likes", 0);
	cJSON_AddFalseToObject(o, "xetEnabled");
	{
		cJSON *tags = cJSON_AddArrayToObject(o, "tags");
		if (ic.has_gguf) {
			cJSON_AddItemToArray(tags, cJSON_CreateString("gguf"));
			cJSON_AddStringToObject(o, "library_name", "gguf");
			cJSON *g = cJSON_AddObjectToObject(o, "gguf");
			cJSON_AddNumberToObject(g, "total", (double)ic.gguf.param_count);
			cJSON_AddStringToObject(g, "architecture", ic.gguf.arch);
			if (ic.gguf.context_length)
				cJSON_AddNumberToObject(g, "context_length",
							(double)ic.gguf.context_length);
		}
	}
	cJSON_AddItemToObject(o, "siblings", ic.siblings);
	cJSON_AddNumberToObject(o, "usedStorage", (double)ic.used);

	/* With expand, the Hub returns only those properties (plus _id, id). */
	http_query_foreach(r, "expand", expand_cb, &ex);
	if (ex.keep != NULL) {
		cJSON *item = o->child;
		while (item != NULL) {
			cJSON *next = item->next;
			int keep =
				strcmp(item->string, "_id") == 0 || strcmp(item->string, "id") == 0;
			cJSON *k;
			cJSON_ArrayForEach (k, ex.keep) {
				if (cJSON_IsString(k) && strcmp(k->valuestring, item->string) == 0)
					keep = 1;
			}
			if (!keep)
				cJSON_DeleteItemFromObject(o, item->string);
			item = next;
		}
		cJSON_Delete(ex.keep);
	}
	json = json_print(o);
	if (!keyed)
		return http_json(r, MHD_HTTP_OK, json);
	store_answer_put(r->app->st, key, gen, json);
	return queue_kept_json(r, key, gen, json);
}

/* --- tree ----------------------------------------------------------------- */

struct tree_ctx {
	cJSON *arr;
	const char *commit;
	const char *prefix; /* "" or "dir/" */
	size_t plen;
	int recursive;
	size_t limit, count;
	char last_dir[GG_MAX_REPO_PATH_LEN + 1];  /* last folder entry emitted */
	char last_path[GG_MAX_REPO_PATH_LEN + 1]; /* last entry of the page */
	char last_kind;                           /* 'f' or 'd' */
	int more;
	int found;
};

/*
 * The listing is the sequence of entries the sorted file list produces:
 * before each file, the folders on its path not yet listed (only the
 * first level when not recursive), then the file (when recursive, or when
 * it sits directly in the listed folder).  A page holds at most `limit`
 * entries; the cursor names the last entry of the page, "f:" + path or
 * "d:" + path, so the next page resumes exactly after it.
 */
static void
tree_mark(struct tree_ctx *c, char kind, const char *path, size_t len)
{
	c->last_kind = kind;
	memcpy(c->last_path, path, len);
	c->last_path[len] = '\0';
	c->count++;
}

static int
tree_cb(void *ctx, const char *path, const struct index_file *f)
{
	struct tree_ctx *c = ctx;
	const char *rest;

	if (strncmp(path, c->prefix, c->plen) != 0)
		return 1; /* past the folder: files are in path order */
	c->found = 1;
	rest = path + c->plen;
	for (const char *s = strchr(rest, '/'); s != NULL; s = strchr(s + 1, '/')) {
		size_t len = (size_t)(s - path);
		/* Listed already if the last folder listed lies inside this one. */
		if (strncmp(c->last_dir, path, len) == 0 &&
		    (c->last_dir[len] == '\0' || c->last_dir[len] == '/')) {
			if (!c->recursive)
				return 0; /* only the first level is listed */
			continue;
		}
		if (c->count >= c->limit) {
			c->more = 1;
			return 1;
		}
		cJSON_AddItemToArray(c->arr, dir_entry(c->commit, path, len));
		memcpy(c->last_dir, path, len);
		c->last_dir[len] = '\0';
		tree_mark(c, 'd', path, len);
		if (!c->recursive)
			return 0;
	}
	if (c->count >= c->limit) {
		c->more = 1;
		return 1;
	}
	cJSON_AddItemToArray(c->arr, file_entry(path, f));
	tree_mark(c, 'f', path, strlen(path));
	return 0;
}

static char *
hex_of(const char *s)
{
	size_t n = strlen(s);
	char *out = xmalloc(2 * n + 1);
	hex_encode((const unsigned char *)s, n, out);
	return out;
}

static char *
unhex(const char *s)
{
	size_t n = strlen(s);
	char *out;
	if (n % 2 != 0 || n == 0 || n > 2 * GG_MAX_REPO_PATH_LEN)
		return NULL;
	out = xmalloc(n / 2 + 1);
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v = 0;
		for (int k = 0; k < 2; k++) {
			char ch = s[2 * i + (size_t)k];
			v <<= 4;
			if (ch >= '0' && ch <= '9')
				v |= (unsigned)(ch - '0');
			else if (ch >= 'a' && ch <= 'f')
				v |= (unsigned)(ch - 'a' + 10);
			else {
				free(out);
				return NULL;
			}
		}
		if (v == 0) {
			free(out);
			return NULL;
		}
		out[i] = (char)v;
	}
	out[n / 2] = '\0';
	return out;
}

enum MHD_Result
api_tree(struct req *r)
{
	enum MHD_Result mirrored;
	struct store_view v;
	struct tree_ctx c;
	char commit[GG_SHA1_HEX + 1], prefix[GG_MAX_REPO_PATH_LEN + 2];
	char *cursor = NULL, *after = NULL, *lim = NULL;
	enum MHD_Result result;
	struct index_commit ci;
	int rc, expand;
	uint64_t limit = GG_TREE_PAGE_SIZE;
	struct MHD_Response *resp;

	if (api_mirror(r, &mirrored))
		return mirrored;

	if (resolve_commit(r, &v, commit, &result) != GG_OK)
		return result;
	memset(&c, 0, sizeof(c));
	prefix[0] = '\0';
	if (r->route.has_path && r->route.path[0] != '\0') {
		size_t pl = strlen(r->route.path);
		while (pl > 0 && r->route.path[pl - 1] == '/')
			pl--;
		memcpy(prefix, r->route.path, pl);
		prefix[pl] = '/';
		prefix[pl + 1] = '\0';
	}
	c.arr = cJSON_CreateArray();
	c.commit = commit;
	c.prefix = prefix;
	c.plen = strlen(prefix);
	c.recursive = http_query_bool(r, "recursive");
	expand = http_query_bool(r, "expand");
	lim = http_query_get(r, "limit");
	cursor = http_query_get(r, "cursor");
	/* Without a cursor or a limit, the whole listing (up to a large
	 * bound): llama.cpp reads one page and ignores Link (CLIENTS.md 4.2). */
	if (lim == NULL && cursor == NULL)
		limit = GG_TREE_WHOLE_MAX;
	if (lim != NULL && (parse_u64_str(lim, GG_TREE_PAGE_SIZE, &limit) != GG_OK || limit == 0))
		limit = GG_TREE_PAGE_SIZE;
	free(lim);
	c.limit = (size_t)limit;
	if (cursor != NULL) {
		char *entry = unhex(cursor);
		const char *p = entry ? entry + 2 : NULL;
		if (entry == NULL || (entry[0] != 'f' && entry[0] != 'd') || entry[1] != ':' ||
		    strlen(p) <= c.plen || strncmp(p, prefix, c.plen) != 0) {
			free(cursor);
			free(entry);
			store_view_end(&v);
			cJSON_Delete(c.arr);
			return http_error(r, MHD_HTTP_BAD_REQUEST, NULL, "Invalid cursor", NULL);
		}
		if (entry[0] == 'f') {
			/* After a file: its folders are listed; resume after it. */
			const char *s = strrchr(p, '/');
			if (s != NULL) {
				memcpy(c.last_dir, p, (size_t)(s - p));
				c.last_dir[s - p] = '\0';
			}
			after = xstrdup(p);
		} else {
			/* After a folder: resume at its first file, which made it. */
			snprintf(c.last_dir, sizeof(c.last_dir), "%s", p);
			after = xasprintf("%s/", p);
		}
		free(entry);
	}
	/* Start at the folder: "dir/" is never a file path itself, and every
	 * path inside the folder sorts after it. */
	if (after == NULL && c.plen > 0)
		after = xstrndup(prefix, c.plen);
	rc = store_view_files(&v, r->route.type, r->route.repo, commit, after, tree_cb, &c);
	if (rc == GG_OK && expand &&
	    store_view_commit(&v, r->route.type, r->route.repo, commit, &ci) == GG_OK) {
		cJSON *e;
		cJSON_ArrayForEach (e, c.arr)
			add_last_commit(e, commit, &ci);
	}
	store_view_end(&v);
	free(after);
	free(cursor);
	if (rc != GG_OK) {
		cJSON_Delete(c.arr);
		return http_error_from(r, rc, "tree");
	}
	if (!c.found && c.plen > 0) {
		cJSON_Delete(c.arr);
		return hub_not_found(r, HUB_ENTRY, commit);
	}
	resp = http_json_response(r, json_print(c.arr));
	if (c.more) {
		struct buf link;
		char *entry = xasprintf("%c:%s", c.last_kind, c.last_path);
		char *base = http_base_url(r), *hc = hex_of(entry);
		free(entry);
		buf_init(&link, GG_MAX_LINK_LEN);
		/* The path part as we received it (already encoded), our own query. */
		buf_printf(&link,
			   "<%s%.*s?recursive=%s&expand=%s&limit=%zu&cursor=%s>; rel=\"next\"",
			   base, (int)(r->path_end - r->raw_uri), r->raw_uri,
			   c.recursive ? "true" : "false", expand ? "true" : "false", c.limit, hc);
		MHD_add_response_header(resp, "Link", buf_cstr(&link));
		buf_free(&link);
		free(base);
		free(hc);
	}
	MHD_add_response_header(resp, "X-Repo-Commit", commit);
	return http_queue(r, MHD_HTTP_OK, resp);
}

/* --- paths-info ----------------------------------------------------------- */

struct pi_ctx {
	cJSON *paths; /* array of strings */
	size_t n;     /* in paths: counted, as cJSON_GetArraySize walks the list */
};

static void
pi_form_cb(void *ctx, const char *value)
{
	struct pi_ctx *p = ctx;
	if (p->n < GG_MAX_PATHS_INFO) {
		cJSON_AddItemToArray(p->paths, cJSON_CreateString(value));
		p->n++;
	}
}

static void
pi_expand_cb(void *ctx, const char *value)
{
	*(int *)ctx = strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0;
}

int
api_paths_info_parse(const char *body, size_t len, int json, cJSON **paths, int *expand, char *why,
		     size_t whysz)
{
	struct pi_ctx p = { cJSON_CreateArray(), 0 };
	const char *text = body != NULL ? body : "";
	const char *bad = NULL;
	char scratch[8];
	cJSON *item;

	if (why == NULL) {
		why = scratch;
		whysz = sizeof(scratch);
	}
	*paths = NULL;
	*expand = 0;
	if (json) {
		cJSON *b = NULL, *list;
		if (json_text_check(text, len, &bad) == GG_OK)
			b = cJSON_ParseWithLength(text, len);
		list = cJSON_GetObjectItemCaseSensitive(b, "paths");
		if (b == NULL || !cJSON_IsArray(list)) {
			snprintf(why, whysz, "%s%s%s",
				 b == NULL ? "Body is not valid JSON"
					   : "Body must be JSON with a \"paths\" array of strings",
				 bad ? ": " : "", bad ? bad : "");
			cJSON_Delete(b);
			cJSON_Delete(p.paths);
			return GG_EINVAL;
		}
		cJSON_ArrayForEach (item, list) {
			if (!cJSON_IsString(item)) {
				snprintf(why, whysz, "\"paths\" must hold strings");
				cJSON_Delete(b);
				cJSON_Delete(p.paths);
				return GG_EFORMAT;
			}
			pi_form_cb(&p, item->valuestring);
		}
		*expand = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "expand"));
		cJSON_Delete(b);
	} else {
		if (http_form_check(text, len, &bad) != GG_OK) {
			snprintf(why, whysz, "Malformed form body: %s", bad ? bad : "?");
			cJSON_Delete(p.paths);
			return GG_EINVAL;
		}
		http_form_foreach(text, len, "paths", pi_form_cb, &p);
		http_form_foreach(text, len, "expand", pi_expand_cb, expand);
	}
	*paths = p.paths;
	return GG_OK;
}

struct dir_probe {
	const char *prefix;
	size_t plen;
	int found;
};

static int
dir_probe_cb(void *ctx, const char *path, const struct index_file *f)
{
	struct dir_probe *d = ctx;
	(void)f;
	d->found = strncmp(path, d->prefix, d->plen) == 0;
	return 1;
}

enum MHD_Result
api_paths_info(struct req *r)
{
	enum MHD_Result mirrored;
	struct store_view v;
	struct index_commit ci;
	char commit[GG_SHA1_HEX + 1];
	enum MHD_Result result;
	const char *ctype = http_header(r, "Content-Type");
	int expand = 0, have_ci = 0;
	cJSON *paths, *out, *item;

	/* The body is checked before anything is asked upstream: a malformed
	 * one would only be sent there with the held token, refused, and
	 * retried by the client. */
	{
		char why[200];
		if (api_paths_info_parse(r->body.data, r->body.len,
					 ctype != NULL &&
						 strncasecmp(ctype, "application/json", 16) == 0,
					 &paths, &expand, why, sizeof(why)) != GG_OK)
			return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest", why, NULL);
	}
	if (api_mirror(r, &mirrored)) {
		cJSON_Delete(paths);
		return mirrored;
	}
	if (resolve_commit(r, &v, commit, &result) != GG_OK) {
		cJSON_Delete(paths);
		return result;
	}
	out = cJSON_CreateArray();
	have_ci =
		expand && store_view_commit(&v, r->route.type, r->route.repo, commit, &ci) == GG_OK;
	cJSON_ArrayForEach (item, paths) {
		struct index_file f;
		const char *path = item->valuestring;
		size_t pl = strlen(path);
		cJSON *e = NULL;

		while (pl > 0 && path[pl - 1] == '/')
			pl--;
		if (pl == 0 || pl > GG_MAX_REPO_PATH_LEN)
			continue;
		char *clean = xstrndup(path, pl);
		if (store_view_file(&v, r->route.type, r->route.repo, commit, clean, &f) == GG_OK) {
			e = file_entry(clean, &f);
		} else {
			char *pre = xasprintf("%s/", clean);
			struct dir_probe d = { pre, pl + 1, 0 };
			store_view_files(&v, r->route.type, r->route.repo, commit, pre,
					 dir_probe_cb, &d);
			if (d.found)
				e = dir_entry(commit, clean, pl);
			free(pre);
		}
		if (e != NULL) {
			if (have_ci)
				add_last_commit(e, commit, &ci);
			cJSON_AddItemToArray(out, e);
		}
		free(clean);
	}
	store_view_end(&v);
	cJSON_Delete(paths);
	return http_json(r, MHD_HTTP_OK, json_print(out));
}

/* --- refs ----------------------------------------------------------------- */

struct refs_ctx {
	cJSON *branches, *converts, *tags, *prs;
	struct buf tag_names; /* "\nNAME\n" for every refs/tags/NAME */
};

/* First pass: the names the index holds as tags (refs/tags/NAME). */
static int
tag_names_cb(void *ctx, const char *name, const struct index_ref *rec)
{
	struct refs_ctx *c = ctx;
	(void)rec;
	if (strncmp(name, "refs/tags/", 10) == 0)
		buf_printf(&c->tag_names, "%s\n", name + 10);
	return 0;
}

static int
is_tag_name(struct refs_ctx *c, const char *name)
{
	char *needle = xasprintf("\n%s\n", name);
	int found = strstr(buf_cstr(&c->tag_names), needle) != NULL;
	free(needle);
	return found;
}

/*
 * Second pass.  A mirrored revision is recorded under the name it was
 * asked by (resolve, pull, a huggingface_hub cache), which does not say
 * whether it is a branch or a tag; a name the index also holds as
 * refs/tags/NAME (created through the gateway or ggufd import --tag, or
 * learnt from upstream's refs) is that tag, listed once, as a tag.
 */
static int
refs_cb(void *ctx, const char *name, const struct index_ref *rec)
{
	struct refs_ctx *c = ctx;
	cJSON *e;
	cJSON *dst = c->branches;
	char *full;

	if (strncmp(name, "refs/", 5) != 0 && is_tag_name(c, name))
		return 0;
	e = cJSON_CreateObject();
	if (strncmp(name, "refs/pr/", 8) == 0) {
		dst = c->prs;
		full = xstrdup(name);
	} else if (strncmp(name, "refs/convert/", 13) == 0) {
		dst = c->converts;
		full = xstrdup(name);
	} else if (strncmp(name, "refs/tags/", 10) == 0) {
		dst = c->tags;
		full = xstrdup(name);
		name += 10;
	} else if (strncmp(name, "refs/heads/", 11) == 0) {
		full = xstrdup(name);
		name += 11;
	} else {
		full = xasprintf("refs/heads/%s", name);
	}
	cJSON_AddStringToObject(e, "name", name);
	cJSON_AddStringToObject(e, "ref", full);
	cJSON_AddStringToObject(e, "targetCommit", rec->commit);
	cJSON_AddItemToArray(dst, e);
	free(full);
	return 0;
}

enum MHD_Result
api_refs(struct req *r)
{
	enum MHD_Result mirrored;
	struct store *st = r->app->st;
	struct store_view v;
	struct refs_ctx c;
	cJSON *o;
	int rc, exists = 0;

	if (api_mirror(r, &mirrored))
		return mirrored;

	if ((rc = store_view_begin(st, &v)) != GG_OK)
		return http_error_from(r, rc, "index");
	rc = store_repo_exists(&v, r->route.type, r->route.repo, &exists);
	if (rc != GG_OK || !exists) {
		store_view_end(&v);
		return rc != GG_OK ? http_error_from(r, rc, "index")
				   : hub_not_found(r, HUB_REPO, NULL);
	}
	o = cJSON_CreateObject();
	c.branches = cJSON_AddArrayToObject(o, "branches");
	c.converts = cJSON_AddArrayToObject(o, "converts");
	c.tags = cJSON_AddArrayToObject(o, "tags");
	c.prs = cJSON_CreateArray();
	buf_init(&c.tag_names, GG_MAX_UPSTREAM_JSON);
	buf_puts(&c.tag_names, "\n");
	rc = store_view_refs(&v, r->route.type, r->route.repo, tag_names_cb, &c);
	if (rc == GG_OK)
		rc = store_view_refs(&v, r->route.type, r->route.repo, refs_cb, &c);
	store_view_end(&v);
	buf_free(&c.tag_names);
	if (http_query_bool(r, "include_prs"))
		cJSON_AddItemToObject(o, "pullRequests", c.prs);
	else
		cJSON_Delete(c.prs);
	if (rc != GG_OK) {
		cJSON_Delete(o);
		return http_error_from(r, rc, "refs");
	}
	return http_json(r, MHD_HTTP_OK, json_print(o));
}

/* --- commits ----------------------------------------------------------------- */

/*
 * GET /api/{t}s/{repo}/commits/{rev}: the history from rev back, newest
 * first, as the Hub lists it:
 *   [{"id":"<40 hex>","title":"...","message":"","authors":[{"user":"ggufd"}],
 *     "date":"2026-11-28T18:00:00.000Z"}, ...]
 * From the index, the parent links of the commits ggufd knows (a mirrored
 * commit knows no parent: its history is itself), at most
 * GG_TREE_PAGE_SIZE entries.
 */
enum MHD_Result
api_commits(struct req *r)
{
	enum MHD_Result mirrored, result;
	char commit[GG_SHA1_HEX + 1], date[32];
	struct store_view v;
	struct index_commit c;
	cJSON *arr;
	int rc = GG_OK;

	if (api_mirror(r, &mirrored))
		return mirrored;
	if (resolve_commit(r, &v, commit, &result) != GG_OK)
		return result;
	arr = cJSON_CreateArray();
	for (int n = 0; commit[0] != '\0' && n < GG_TREE_PAGE_SIZE; n++) {
		cJSON *e, *a;
		if ((rc = store_view_commit(&v, r->route.type, r->route.repo, commit, &c)) != GG_OK)
			break;
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "id", commit);
		cJSON_AddStringToObject(e, "title", c.title);
		cJSON_AddStringToObject(e, "message", "");
		a = cJSON_AddArrayToObject(e, "authors");
		cJSON_AddItemToArray(a, cJSON_CreateObject());
		cJSON_AddStringToObject(cJSON_GetArrayItem(a, 0), "user", "ggufd");
		iso8601(c.created_at, date);
		cJSON_AddStringToObject(e, "date", date);
		cJSON_AddItemToArray(arr, e);
		if (strcmp(c.parent, commit) == 0)
			break;
		memcpy(commit, c.parent, sizeof(commit));
	}
	store_view_end(&v);
	if (rc != GG_OK && rc != GG_ENOENT) {
		cJSON_Delete(arr);
		return http_error_from(r, rc, "commits");
	}
	return http_json(r, MHD_HTTP_OK, json_print(arr));
}
