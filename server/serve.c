/*
 * serve.c: a file of the store as an HTTP answer, for every route that
 * serves file content (resolve.c: /{repo}/resolve/, /raw/; v2.c: the
 * registry's /v2/{repo}/blobs/).
 *
 *   HTTP/1.1 200 OK                         HTTP/1.1 206 Partial Content
 *   Content-Length: 2825940544              Content-Range: bytes 0-0/2825940544
 *   Content-Type: application/octet-stream  Content-Length: 1
 *   Accept-Ranges: bytes                    (same identity headers)
 *   ETag: "<sha256>"  + what the route's struct serve_id adds (X-Repo-Commit,
 *   X-Linked-*, Content-Disposition, Docker-Content-Digest, Location)
 *
 * HEAD carries exactly the GET headers with the real Content-Length.
 * A single range is an fd response at an offset (sendfile); several
 * ranges are multipart/byteranges read with pread from one fd, with an
 * exact Content-Length.  Memory per response is constant.  A file still
 * being fetched is streamed from its partial as it lands (fetch.h), and
 * the last byte of a response leaves only once the blob is verified.
 * Nothing is ever compressed.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "app.h"
#include "flentry.h"
#include "fetch.h"
#include "http.h"
#include "huberr.h"
#include "log.h"
#include "range.h"
#include "respcache.h"
#include "serve.h"
#include "stats.h"
#include "store.h"

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

static void
add_identity(struct MHD_Response *resp, const struct serve_id *id, uint64_t size)
{
	char num[32];

	MHD_add_response_header(resp, "ETag", id->etag);
	if (id->commit != NULL)
		MHD_add_response_header(resp, "X-Repo-Commit", id->commit);
	MHD_add_response_header(resp, "Accept-Ranges", "bytes");
	if (id->digest != NULL)
		MHD_add_response_header(resp, "Docker-Content-Digest", id->digest);
	if (id->linked && !id->raw) {
		fmt_u64(num, size);
		MHD_add_response_header(resp, "X-Linked-Etag", id->etag);
		MHD_add_response_header(resp, "X-Linked-Size", num);
	}
	if (!id->raw && id->path != NULL)
		add_disposition(resp, id->path);
	if (id->stale)
		MHD_add_response_header(resp, "Warning",
					"110 ggufd \"Response is Stale: upstream rate-limits this "
					"mirror, so the revision was not checked\"");
}

enum MHD_Result
serve_not_modified(struct req *r, const struct serve_id *id, uint64_t size)
{
	struct MHD_Response *resp = http_response_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	add_identity(resp, id, size);
	return http_queue(r, MHD_HTTP_NOT_MODIFIED, resp);
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

/* The body reader of a HEAD answer: never asked (no body is sent). */
static ssize_t
head_read(void *cls, uint64_t pos, char *out, size_t max)
{
	(void)cls;
	(void)pos;
	(void)out;
	(void)max;
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

/*
 * The name of a kept stored answer (respcache.h):
 * the method (a HEAD answer has no body), the blob, the range and size,
 * the status, and every input of the headers serve_file and add_identity
 * write.
 */
static void
kept_key(struct respcache_key *k, struct req *r, const struct serve_id *id, int partial,
	 uint64_t first, uint64_t len, uint64_t size, const char *ctype)
{
	k->len = 0;
	k->over = 0;
	respcache_key_add(k, "file/1");
	respcache_key_add(k, r->is_head ? "HEAD" : "GET");
	respcache_key_add(k, r->held_blob);
	respcache_key_add(k, partial ? "206" : "200");
	respcache_key_u64(k, first);
	respcache_key_u64(k, len);
	respcache_key_u64(k, size);
	respcache_key_add(k, ctype);
	respcache_key_add(k, id->etag);
	respcache_key_add(k, id->commit);
	respcache_key_add(k, id->digest);
	respcache_key_add(k, id->linked ? "linked" : "-");
	respcache_key_add(k, id->raw ? "raw" : "-");
	respcache_key_add(k, id->stale ? "stale" : "-");
	respcache_key_add(k, id->path);
	respcache_key_add(k, partial ? NULL : id->location);
}

enum MHD_Result
serve_file(struct req *r, const struct serve_id *id, uint64_t size, int fd, struct fetch *f)
{
	struct byte_range rs[GG_MAX_RANGES];
	const char *range = http_header(r, "Range");
	const char *ctype = id->raw ? "text/plain; charset=utf-8" : "application/octet-stream";
	int stored = fd >= 0;
	/* The request's borrowed descriptor (serve_hold_blob): not ours to
	 * close, and what outlives the request gets a dup of it. */
	int lent = fd >= 0 && r->lent && fd == r->lent_fd;
	size_t nr = 0;
	enum range_outcome o;
	struct MHD_Response *resp = NULL;
	struct respcache_key k;
	enum MHD_Result res;
	unsigned status;
	int kept = 0;
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
		if (fd >= 0 && !lent)
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

		m->fd = lent ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : fd;
		m->n = nr;
		if (m->fd < 0) {
			multipart_free(m);
			return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
					  "Cannot read the file", id->commit);
		}
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

		if (stored && r->is_head) {
			/* HEAD: the GET's headers and length, and no byte read
			 * or descriptor opened for it: libmicrohttpd sends no
			 * body for HEAD, so the reader is never asked.  Kept
			 * whatever the length (no bytes are held). */
			if (lent) {
				kept = 1;
				kept_key(&k, r, id, o == RANGE_PARTIAL, first, len, size, ctype);
				if (respcache_queue(r, &k, &res)) {
					if (r->source == NULL)
						r->source = "hit";
					return res;
				}
			} else {
				close(fd);
			}
			resp = MHD_create_response_from_callback(len, GG_STREAM_BLOCK, head_read,
								 NULL, NULL);
		} else if (stored && len <= GG_SMALL_BODY) {
			/* Small answers (probes, header reads, small ranges): one
			 * pread into the response is cheaper than a sendfile
			 * set-up for a few kilobytes.  The ones from the file's
			 * start (probes, header reads, small whole files) are
			 * kept ready (respcache.c). */
			char *b;
			ssize_t got;

			if (lent && first == 0 && len <= RESPCACHE_MAX_BODY) {
				kept = 1;
				kept_key(&k, r, id, o == RANGE_PARTIAL, first, len, size, ctype);
				if (respcache_queue(r, &k, &res)) {
					stats_served(STATS_STORE, len);
					r->bytes = len;
					if (r->source == NULL)
						r->source = "hit";
					return res;
				}
			}
			b = xmalloc(len ? len : 1);
			got = len ? pread(fd, b, len, (off_t)first) : 0;
			if (!lent)
				close(fd);
			if (got != (ssize_t)len) {
				free(b);
				return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
						  "Cannot read the file", id->commit);
			}
			resp = http_response_buffer(len, b, MHD_RESPMEM_MUST_FREE);
		} else if (stored) {
			if (lent && (fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
				return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
						  "Cannot read the file", id->commit);
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
			/* "bytes FIRST-LAST/SIZE": 6 + 3 * 20 + 2 + NUL fit in cr. */
			size_t at = 6;
			memcpy(cr, "bytes ", 6);
			at += fmt_u64(cr + at, rs[0].first);
			cr[at++] = '-';
			at += fmt_u64(cr + at, rs[0].last);
			cr[at++] = '/';
			fmt_u64(cr + at, size);
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
	if (status == MHD_HTTP_OK && id->location != NULL)
		MHD_add_response_header(resp, "Location", id->location);
	if ((lent || f != NULL) && !id->stale) {
		/* A download in progress of an LFS file, once the fast lane
		 * has its entry, is sent by the fast lane if it handed this
		 * request over (sendfile as the bytes land, instead of two
		 * copies through libmicrohttpd). */
		if (flentry_record(r, resp, size) && f != NULL && !stored && !r->is_head &&
		    http_give(r, status, resp))
			return MHD_YES;
	}
	if (kept && respcache_keep_and_queue(r, &k, status, resp, &res))
		return res;
	return http_queue(r, status, resp);
}

/* --- holding blobs from eviction while they are served ------------------- */

static void
release_held(struct req *r)
{
	if (r->lent) {
		struct blob_fd b = { .fd = r->lent_fd, .slot = r->lent_slot };
		store_blob_return(r->app->st, r->held_blob, &b);
		r->lent = 0;
	} else {
		store_unuse(r->app->st, r->held_blob);
	}
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

int
serve_hold_blob(struct req *r, const char *sha256, int *fd, uint64_t *size)
{
	struct blob_fd b;
	int rc;
	if (r->held_blob[0] != '\0')
		return store_blob_open(r->app->st, sha256, fd, size);
	rc = store_blob_borrow(r->app->st, sha256, &b);
	if (rc == GG_OK) {
		memcpy(r->held_blob, sha256, GG_SHA256_HEX + 1);
		r->release = release_held;
		r->lent = 1;
		r->lent_fd = b.fd;
		r->lent_slot = b.slot;
		*fd = b.fd;
		*size = b.size;
	}
	return rc;
}

void
serve_close_fd(struct req *r, int fd)
{
	if (fd >= 0 && !(r->lent && fd == r->lent_fd))
		close(fd);
}

enum MHD_Result
serve_fetching(struct req *r, const struct serve_id *id, const struct fetch_spec *spec)
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
	if (rc == GG_EEXIST && serve_hold_blob(r, spec->key, &fd, &size) == GG_OK)
		return serve_file(r, id, size, fd, NULL);
	if (rc == GG_OK && spec->lfs)
		hold_key(r, spec->key);
	if (rc == GG_ENOSPC)
		return hub_store_full(r, spec->size, id->commit);
	if (rc != GG_OK)
		return http_error_from(r, rc, "starting the download");
	return serve_file(r, id, spec->size, -1, f);
}
