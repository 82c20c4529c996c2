/*
 * resolve.c: HEAD/GET /{repo}/resolve/{rev}/{path} and /raw/, answered
 * from the store with no redirect (HF-PROTOCOL.md 2.8).
 *
 *   HTTP/1.1 200 OK                         HTTP/1.1 206 Partial Content
 *   Content-Length: 2825940544              Content-Range: bytes 0-0/2825940544
 *   Content-Type: application/octet-stream  Content-Length: 1
 *   Accept-Ranges: bytes                    (same identity headers)
 *   ETag: "<sha256>"          (LFS) or "<git blob sha1>" (regular file)
 *   X-Linked-Etag: "<sha256>"               (LFS only)
 *   X-Linked-Size: 2825940544               (LFS only)
 *   X-Repo-Commit: <40 hex>
 *   Content-Disposition: inline; filename*=UTF-8''<name>; filename="<name>"
 *
 * HEAD carries exactly the GET headers with the real Content-Length.
 * A single range is an fd response at an offset (sendfile); several
 * ranges are multipart/byteranges read with pread from one fd, with an
 * exact Content-Length.  Memory per response is constant.
 *
 * /raw/ serves the git blob: for an LFS file that is the pointer text.
 */
#include "config.h"

#include <stdlib.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "app.h"
#include "fetch.h"
#include "http.h"
#include "huberr.h"
#include "store.h"
#include "log.h"
#include "range.h"
#include "resolve.h"
#include "stats.h"

struct multipart {
	int fd;
	size_t n;
	struct range_part parts[GG_MAX_RANGES];
	char tail[128];
	size_t tail_len;
};

/*
 * Reader for multipart bodies: maps the absolute body offset `pos` onto
 * (part head | part bytes)* tail.  MHD asks sequentially.
 */
static ssize_t
multipart_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct multipart *m = cls;
	uint64_t at = 0;

	for (size_t i = 0; i < m->n; i++) {
		struct range_part *p = &m->parts[i];
		uint64_t len = p->last - p->first + 1;
		if (pos < at + p->head_len) {
			size_t off = (size_t)(pos - at), c = p->head_len - off;
			if (c > max)
				c = max;
			memcpy(out, p->head + off, c);
			return (ssize_t)c;
		}
		at += p->head_len;
		if (pos < at + len) {
			uint64_t off = pos - at, c = len - off;
			ssize_t got;
			if (c > max)
				c = max;
			got = pread(m->fd, out, (size_t)c, (off_t)(p->first + off));
			if (got <= 0)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			return got;
		}
		at += len;
	}
	if (pos < at + m->tail_len) {
		size_t off = (size_t)(pos - at), c = m->tail_len - off;
		if (c > max)
			c = max;
		memcpy(out, m->tail + off, c);
		return (ssize_t)c;
	}
	return MHD_CONTENT_READER_END_OF_STREAM;
}

static void
multipart_free(void *cls)
{
	struct multipart *m = cls;
	if (m->fd >= 0)
		close(m->fd);
	free(m);
}

/* The file's base name as a Content-Disposition value (RFC 6266). */
static void
add_disposition(struct MHD_Response *resp, const char *path)
{
	const char *name = strrchr(path, '/');
	char ascii[256], enc[768], hdr[1100];
	size_t a = 0, e = 0;

	name = name ? name + 1 : path;
	for (const unsigned char *p = (const unsigned char *)name; *p && a < sizeof(ascii) - 1; p++)
		ascii[a++] = (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\') ? (char)*p : '_';
	ascii[a] = '\0';
	for (const unsigned char *p = (const unsigned char *)name; *p && e < sizeof(enc) - 4; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL) {
			enc[e++] = (char)*p;
		} else {
			static const char hx[] = "0123456789ABCDEF";
			enc[e++] = '%';
			enc[e++] = hx[*p >> 4];
			enc[e++] = hx[*p & 15];
		}
	}
	enc[e] = '\0';
	if (snprintf_checked(hdr, sizeof(hdr), "inline; filename*=UTF-8''%s; filename=\"%s\"", enc,
			     ascii) == GG_OK)
		MHD_add_response_header(resp, "Content-Disposition", hdr);
}

struct identity {
	const char *commit;
	const struct index_file *f;
	char etag[GG_SHA256_HEX + 3];
	int raw;
	const char *path;
	int stale; /* served from the store while upstream rate-limits us */
};

static void
add_identity(struct MHD_Response *resp, const struct identity *id, uint64_t size)
{
	char num[32];

	MHD_add_response_header(resp, "ETag", id->etag);
	MHD_add_response_header(resp, "X-Repo-Commit", id->commit);
	MHD_add_response_header(resp, "Accept-Ranges", "bytes");
	if ((id->f->flags & INDEX_FILE_LFS) && !id->raw) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)size);
		MHD_add_response_header(resp, "X-Linked-Etag", id->etag);
		MHD_add_response_header(resp, "X-Linked-Size", num);
	}
	if (!id->raw)
		add_disposition(resp, id->path);
	if (id->stale)
		MHD_add_response_header(resp, "Warning",
					"110 ggufd \"Response is Stale: upstream rate-limits this "
					"mirror, so the revision was not checked\"");
}

/* --- streaming from a fetch in progress ------------------------------------ */

struct stream {
	struct fetch *f; /* NULL: headers only (HEAD on a file not yet here) */
	int fd;
	int gen;
	uint64_t first;
	uint64_t end; /* exclusive */
	struct MHD_Connection *conn;
};

static void
stream_sleep(void *arg)
{
	MHD_suspend_connection(arg);
}

static void
stream_wake(void *arg)
{
	MHD_resume_connection(arg);
}

static ssize_t
stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct stream *s = cls;
	uint64_t at = s->first + pos, upto = 0;
	ssize_t got;

	if (s->f == NULL)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	switch (fetch_poll(s->f, &s->gen, at, s->end, &upto, stream_sleep, stream_wake, s->conn)) {
	case FETCH_AVAIL:
		if (upto - at < max)
			max = (size_t)(upto - at);
		got = pread(s->fd, out, max, (off_t)at);
		if (got <= 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		stats_served_bytes(STATS_FETCH, (uint64_t)got);
		return got;
	case FETCH_WAIT: return 0; /* suspended; resumed when more lands */
	default:
		/* The fetch failed: cut the connection before the last byte. */
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
}

static void
stream_free(void *cls)
{
	struct stream *s = cls;
	if (s->fd >= 0)
		close(s->fd);
	fetch_release(s->f);
	free(s);
}

/*
 * Serves a file of `size` bytes from one of three sources: an open blob
 * (fd >= 0, sendfile), a fetch in progress (f != NULL: streamed as it
 * lands), or nothing (headers only, for HEAD before the content is here).
 * Takes ownership of fd and of the reference on f.
 */
static enum MHD_Result
serve_file(struct req *r, const struct identity *id, uint64_t size, int fd, struct fetch *f)
{
	struct byte_range rs[GG_MAX_RANGES];
	const char *range = http_header(r, "Range");
	const char *ctype = id->raw ? "text/plain; charset=utf-8" : "application/octet-stream";
	int stored = fd >= 0;
	size_t nr = 0;
	enum range_outcome o;
	struct MHD_Response *resp = NULL;
	unsigned status;
	char cr[96];

	if (!range_if_range_ok(http_header(r, "If-Range"), id->etag))
		range = NULL;
	if (range != NULL && strlen(range) > GG_MAX_RANGE_HDR_LEN)
		range = NULL; /* an abusive header: serve the whole entity */
	o = range_parse(range, range ? range + strlen(range) : NULL, size, rs, GG_MAX_RANGES, &nr);
	/* Several ranges are served only from the store; while streaming, the
	 * whole entity is the simpler honest answer (RFC 9110 allows it). */
	if (o == RANGE_PARTIAL && nr > 1 && !stored)
		o = RANGE_FULL;
	if (o == RANGE_UNSATISFIABLE) {
		if (fd >= 0)
			close(fd);
		fetch_release(f);
		resp = http_response_buffer(0, "", MHD_RESPMEM_PERSISTENT);
		snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)size);
		MHD_add_response_header(resp, "Content-Range", cr);
		add_identity(resp, id, size);
		return http_queue(r, MHD_HTTP_RANGE_NOT_SATISFIABLE, resp);
	}
	if (o == RANGE_PARTIAL && nr > 1) {
		struct multipart *m = xcalloc(1, sizeof(*m));
		unsigned char rnd[12];
		char boundary[32], ct[96];
		uint64_t total;

		m->fd = fd;
		m->n = nr;
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			log_fatalx("RAND_bytes() failed");
		hex_encode(rnd, sizeof(rnd), boundary);
		if (range_multipart_plan(rs, nr, size, ctype, boundary, m->parts, m->tail,
					 sizeof(m->tail), &m->tail_len, &total) != GG_OK) {
			multipart_free(m);
			return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
					  "Range layout failed", NULL);
		}
		resp = http_response_reader(r, total, GG_MULTIPART_BLOCK, multipart_read, m,
					    multipart_free); /* takes m */
		if (resp == NULL)
			return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
					  "Cannot create the response", NULL);
		snprintf(ct, sizeof(ct), "multipart/byteranges; boundary=%s", boundary);
		MHD_add_response_header(resp, "Content-Type", ct);
		add_identity(resp, id, size);
		if (!r->is_head)
			stats_served(STATS_STORE, total);
		return http_queue(r, MHD_HTTP_PARTIAL_CONTENT, resp);
	}
	{
		uint64_t first = o == RANGE_PARTIAL ? rs[0].first : 0;
		uint64_t len = o == RANGE_PARTIAL ? rs[0].last - rs[0].first + 1 : size;

		if (stored && len <= GG_SMALL_BODY) {
			/* Small answers (probes, header reads, small ranges): one
			 * pread into the response is cheaper than a sendfile
			 * set-up for a few kilobytes. */
			char *b = xmalloc(len ? len : 1);
			ssize_t got = len ? pread(fd, b, len, (off_t)first) : 0;
			close(fd);
			if (got != (ssize_t)len) {
				free(b);
				return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
						  "Cannot read the file", id->commit);
			}
			resp = http_response_buffer(len, b, MHD_RESPMEM_MUST_FREE);
		} else if (stored) {
			resp = http_response_fd(len, fd, first); /* takes fd */
		} else {
			struct stream *s = xcalloc(1, sizeof(*s));
			s->f = f;
			s->fd = -1;
			s->gen = -1;
			s->first = first;
			s->end = first + len;
			s->conn = r->conn;
			if (f != NULL) {
				s->fd = fetch_open_reader(f);
				if (s->fd < 0) {
					log_warn("dup of \"%s\" failed", fetch_part_path(f));
					stream_free(s);
					return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
							  "Cannot read the download in progress",
							  id->commit);
				}
			}
			/* Takes s: its fd and its reference on f. */
			resp = http_response_reader(r, len, GG_STREAM_BLOCK, stream_read, s,
						    stream_free);
		}
		if (resp == NULL)
			return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
					  "Cannot create the response", NULL);
		if (o == RANGE_PARTIAL) {
			snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu",
				 (unsigned long long)rs[0].first, (unsigned long long)rs[0].last,
				 (unsigned long long)size);
			MHD_add_response_header(resp, "Content-Range", cr);
			status = MHD_HTTP_PARTIAL_CONTENT;
		} else {
			status = MHD_HTTP_OK;
		}
		MHD_add_response_header(resp, "Content-Type", ctype);
		/* A stored file's bytes are counted now (sendfile does not say
		 * when they leave); a fetch's as they are read (stream_read). */
		if (!r->is_head && (stored || f != NULL)) {
			stats_served(stored ? STATS_STORE : STATS_FETCH, stored ? len : 0);
			r->bytes = len;
		}
		if (stored && r->source == NULL)
			r->source = "hit";
	}
	add_identity(resp, id, size);
	return http_queue(r, status, resp);
}

/* --- finding the file: index first, upstream when the index cannot tell ---- */

struct target {
	char commit[GG_SHA1_HEX + 1];
	int known; /* f is valid (from the index) */
	int stale; /* known, but upstream rate-limits us: not checked */
	struct index_file f;
	int remote; /* a regular file known only from upstream: */
	char gitsha1[GG_SHA1_HEX + 1];
	uint64_t size;
};

static int
is_commit(const char *s)
{
	return strlen(s) == GG_SHA1_HEX && is_lower_hex(s, GG_SHA1_HEX);
}

/*
 * Fills *tg for the route, or queues an error and returns -1.  Order: the
 * index (40-hex commits and fresh branch answers are trusted), then a
 * no-follow HEAD upstream, then, if upstream cannot be reached, what the
 * index knows even if stale.
 */
static int
find_target(struct req *r, struct target *tg, enum MHD_Result *res)
{
	struct store *st = r->app->st;
	struct upstream *up = app_upstream(r->app);
	struct upstream_resp ur;
	struct store_lookup lk;
	const char *rev = r->route.rev;
	const char *prefix = route_type_prefix(r->route.type);
	const char *ask;
	int known_repo, rc, frc, fresh = 0, pinned = is_commit(rev);

	memset(tg, 0, sizeof(*tg));
	if ((rc = store_lookup_file(st, r->route.type, r->route.repo, rev, r->route.path, &lk)) !=
	    GG_OK) {
		*res = http_error_from(r, rc, "index");
		return -1;
	}
	rc = lk.rev_rc;
	frc = lk.file_rc;
	known_repo = lk.repo_known;
	memcpy(tg->commit, lk.commit, sizeof(tg->commit));
	tg->f = lk.file;
	/* A commit (or prefix) never changes; a ref is fresh for the TTL. */
	if (rc == GG_OK)
		fresh = pinned || r->app->up == NULL || lk.ref_time == 0 ||
			now_unix() - lk.ref_time < r->app->ref_ttl;

	if (r->app->up == NULL) {
		/* A local registry: the store is the whole truth. */
		if (rc != GG_OK)
			*res = hub_rev_error(r, rc, known_repo);
		else if (frc == GG_ENOENT || frc == GG_EINVAL)
			*res = hub_not_found(r, HUB_ENTRY, tg->commit);
		else if (frc != GG_OK)
			*res = http_error_from(r, frc, "index lookup");
		else
			tg->known = 1;
		return tg->known ? 0 : -1;
	}
	if (rc == GG_OK && frc == GG_OK && (fresh || up == NULL)) {
		tg->known = 1;
		return 0;
	}
	if (up == NULL) {
		*res = hub_not_found(r, rc == GG_OK ? HUB_ENTRY : HUB_REVISION, NULL);
		return -1;
	}
	/* Ask upstream: by commit when the commit is settled, else by rev. */
	ask = rc == GG_OK && fresh ? tg->commit : rev;
	if (upstream_head_file(up, prefix, r->route.repo, ask, r->route.path, &ur) != GG_OK) {
		if (rc == GG_OK && frc == GG_OK) {
			log_info("upstream %s: serving %s%s@%s from the last known commit %.12s",
				 ur.status == 429 ? "rate-limits us" : "unreachable", prefix,
				 r->route.repo, rev, tg->commit);
			tg->known = 1;
			tg->stale = ur.status == 429;
			return 0;
		}
		if (ur.status == 429) {
			*res = hub_rate_limited(r, ur.retry_after, ur.error_message);
			return -1;
		}
		*res = hub_not_found(r, rc == GG_OK ? HUB_ENTRY : HUB_REVISION, NULL);
		return -1;
	}
	if (ur.repo_commit[0] != '\0' && !is_commit(ask) && strcmp(rev, "HEAD") != 0 &&
	    (ur.status < 400 || strcmp(ur.error_code, "EntryNotFound") == 0))
		store_set_ref(st, r->route.type, r->route.repo, rev, ur.repo_commit);
	if (ur.status >= 400) {
		*res = hub_relay_resp(r, &ur);
		return -1;
	}
	if (ur.repo_commit[0] == '\0') {
		*res = hub_upstream_bad(r, "Upstream answered without X-Repo-Commit", NULL);
		return -1;
	}
	memcpy(tg->commit, ur.repo_commit, sizeof(tg->commit));
	/* Another revision may have brought this file in already. */
	if (store_file_get(st, r->route.type, r->route.repo, tg->commit, r->route.path, &tg->f) ==
	    GG_OK) {
		tg->known = 1;
		return 0;
	}
	if (ur.linked && strlen(ur.etag) == GG_SHA256_HEX && is_lower_hex(ur.etag, GG_SHA256_HEX) &&
	    ur.has_size) {
		rc = store_record_file(st, r->route.type, r->route.repo, tg->commit, r->route.path,
				       1, ur.etag, NULL, ur.size);
		if (rc != GG_OK) {
			*res = http_error_from(r, rc, "recording upstream metadata");
			return -1;
		}
		memset(&tg->f, 0, sizeof(tg->f));
		tg->f.flags = INDEX_FILE_LFS;
		tg->f.size = ur.size;
		memcpy(tg->f.sha256, ur.etag, sizeof(tg->f.sha256));
		blob_lfs_pointer_oid(ur.etag, ur.size, tg->f.oid, NULL);
		tg->known = 1;
		return 0;
	}
	if (!ur.linked && strlen(ur.etag) == GG_SHA1_HEX && is_lower_hex(ur.etag, GG_SHA1_HEX) &&
	    ur.has_size == 2 && ur.status < 300) {
		memcpy(tg->gitsha1, ur.etag, sizeof(tg->gitsha1));
		tg->size = ur.size;
		tg->remote = 1;
		return 0;
	}
	log_warnx("upstream metadata for %s%s@%s %s cannot be verified (etag \"%s\", status %ld)",
		  prefix, r->route.repo, rev, r->route.path, ur.etag, ur.status);
	*res = hub_upstream_bad(r, "Upstream gave no verifiable hash for this file", tg->commit);
	return -1;
}

/* --- holding blobs from eviction while they are served ------------------- */

static void
release_held(struct req *r)
{
	store_unuse(r->app->st, r->held_blob);
}

/* Holds key (a blob being fetched) until the request ends. */
static void
hold_key(struct req *r, const char *key)
{
	if (r->held_blob[0] != '\0' || strlen(key) != GG_SHA256_HEX)
		return;
	store_use(r->app->st, key);
	snprintf(r->held_blob, sizeof(r->held_blob), "%s", key);
	r->release = release_held;
}

/* Opens a blob for the response and holds it (a hit) until the request
 * ends.  0, GG_ENOENT, GG_EIO. */
static int
hold_blob(struct req *r, const char *sha256, int *fd, uint64_t *size)
{
	int rc;
	if (r->held_blob[0] != '\0')
		return store_blob_open(r->app->st, sha256, fd, size);
	rc = store_blob_acquire(r->app->st, sha256, fd, size);
	if (rc == GG_OK) {
		snprintf(r->held_blob, sizeof(r->held_blob), "%s", sha256);
		r->release = release_held;
	}
	return rc;
}

static enum MHD_Result
serve_fetching(struct req *r, const struct identity *id, const struct fetch_spec *spec)
{
	struct fetch *f = NULL;
	uint64_t size;
	int fd = -1, rc, joined = 0;

	if (r->is_head)
		return serve_file(r, id, spec->size, -1, NULL);
	if (app_upstream(r->app) == NULL)
		return hub_not_found(r, HUB_CONTENT, id->commit);
	/* A fetch started now could only wait, then fail after the headers
	 * went out: while upstream (or, for an LFS file, the CDN its content
	 * came from) rate-limits us longer than a fetch waits, say so now. */
	if (!store_blob_exists(r->app->st, spec->key)) {
		uint64_t wait = upstream_wait(app_upstream(r->app), spec->lfs);
		if (wait > GG_FETCH_WAIT_MAX_SEC)
			return hub_rate_limited(r, wait, NULL);
	}
	rc = fetcher_join(r->app->fm, spec, &f, &joined);
	if (rc == GG_OK)
		r->source = joined ? "coalesced" : "miss";
	if (rc == GG_EEXIST && hold_blob(r, spec->key, &fd, &size) == GG_OK)
		return serve_file(r, id, size, fd, NULL);
	if (rc == GG_OK && spec->lfs)
		hold_key(r, spec->key);
	if (rc == GG_ENOSPC)
		return hub_store_full(r, spec->size, id->commit);
	if (rc != GG_OK)
		return http_error_from(r, rc, "starting the download");
	return serve_file(r, id, spec->size, -1, f);
}

enum MHD_Result
resolve_handle(struct req *r)
{
	struct target tg;
	struct identity id;
	struct fetch_spec spec;
	enum MHD_Result result;
	uint64_t size;
	int fd = -1, rc;

	if (find_target(r, &tg, &result) != 0)
		return result;

	memset(&id, 0, sizeof(id));
	memset(&spec, 0, sizeof(spec));
	id.commit = tg.commit;
	id.stale = tg.stale;
	id.raw = r->route.kind == ROUTE_RAW;
	id.path = r->route.path;
	spec.type = r->route.type;
	memcpy(spec.repo, r->route.repo, sizeof(spec.repo));
	memcpy(spec.commit, tg.commit, sizeof(spec.commit));
	memcpy(spec.path, r->route.path, sizeof(spec.path));
	if (tg.remote) {
		/* A regular file upstream has not given us yet. */
		memset(&tg.f, 0, sizeof(tg.f));
		memcpy(tg.f.oid, tg.gitsha1, sizeof(tg.f.oid));
		tg.f.size = tg.size;
	}
	id.f = &tg.f;
	snprintf(id.etag, sizeof(id.etag), "\"%s\"",
		 (tg.f.flags & INDEX_FILE_LFS) && !id.raw ? tg.f.sha256 : tg.f.oid);

	if (range_if_none_match(http_header(r, "If-None-Match"), id.etag)) {
		struct MHD_Response *resp = http_response_buffer(0, "", MHD_RESPMEM_PERSISTENT);
		add_identity(resp, &id, tg.f.size);
		return http_queue(r, MHD_HTTP_NOT_MODIFIED, resp);
	}
	if (id.raw && (tg.f.flags & INDEX_FILE_LFS)) {
		char ptr[256];
		int n = snprintf(
			ptr, sizeof(ptr),
			"version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %llu\n",
			tg.f.sha256, (unsigned long long)tg.f.size);
		/* The pointer text goes through the same range code as files. */
		int mfd = memfd_create("lfs-pointer", MFD_CLOEXEC);
		if (mfd < 0 || write_all(mfd, ptr, (size_t)n) != GG_OK) {
			if (mfd >= 0)
				close(mfd);
			return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
					  "Cannot build the LFS pointer", tg.commit);
		}
		return serve_file(r, &id, (uint64_t)n, mfd, NULL);
	}
	if (tg.remote) {
		memcpy(spec.key, tg.gitsha1, sizeof(tg.gitsha1));
		spec.lfs = 0;
		spec.size = tg.size;
		return serve_fetching(r, &id, &spec);
	}
	rc = hold_blob(r, tg.f.sha256, &fd, &size);
	if (rc == GG_ENOENT) {
		if (r->app->up == NULL)
			return hub_not_found(r, HUB_CONTENT, tg.commit);
		spec.lfs = (tg.f.flags & INDEX_FILE_LFS) != 0;
		memcpy(spec.key, spec.lfs ? tg.f.sha256 : tg.f.oid, sizeof(spec.key));
		spec.size = tg.f.size;
		return serve_fetching(r, &id, &spec);
	}
	if (rc != GG_OK)
		return http_error_from(r, rc, "blob open");
	if (size != tg.f.size) {
		close(fd);
		log_warnx("blob %s has %llu bytes, index says %llu: run ggufd verify", tg.f.sha256,
			  (unsigned long long)size, (unsigned long long)tg.f.size);
		return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "Blob size mismatch",
				  tg.commit);
	}
	return serve_file(r, &id, size, fd, NULL);
}
