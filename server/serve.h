/*
 * serve.h: file content as an HTTP answer (serve.c), shared by the routes
 * that serve files: resolve.c (/{repo}/resolve/, /raw/) and v2.c (the
 * registry's blobs).  Not a handler: it answers for one, from the store or
 * from an upstream fetch in progress.
 */
#ifndef GG_SERVE_H
#define GG_SERVE_H

#include <stdint.h>

#include "fetch.h"
#include "http.h"

/* The identity headers of one answer; strings borrowed for the call. */
struct serve_id {
	const char *commit;           /* X-Repo-Commit, or NULL */
	char etag[GG_SHA256_HEX + 3]; /* the quoted ETag */
	int linked;                   /* an LFS file: X-Linked-Etag and X-Linked-Size */
	int raw;                      /* text/plain, no Content-Disposition (/raw/) */
	const char *path;             /* its name for Content-Disposition, or NULL */
	int stale;                    /* served while upstream rate-limits us: a Warning */
	const char *digest;           /* Docker-Content-Digest ("sha256:<hex>"), or NULL */
	const char *location;         /* Location on a 200 (Ollama's blob probe), or NULL */
};

/*
 * Answers r with a file of `size` bytes from one of three sources: an
 * open blob (fd >= 0, sendfile), a fetch in progress (f != NULL: streamed
 * as it lands), or nothing (headers only, for HEAD before the content is
 * here).  Range, If-Range as RFC 9110 says (416 for an unsatisfiable one;
 * several ranges only from the store).  Takes ownership of fd (but for
 * the descriptor serve_hold_blob lent to r, which stays r's) and of the
 * reference on f.
 */
enum MHD_Result serve_file(struct req *r, const struct serve_id *id, uint64_t size, int fd,
			   struct fetch *f);

/* 304 Not Modified with the identity headers of a file of `size` bytes. */
enum MHD_Result serve_not_modified(struct req *r, const struct serve_id *id, uint64_t size);

/*
 * Opens blob sha256 for r's answer and holds it from eviction (a hit)
 * until the request ends.  0 with *fd and *size, GG_ENOENT, GG_EIO.  The
 * first blob held is lent (store_blob_borrow: the cached descriptor,
 * returned when the request ends): give *fd to serve_file, or leave it,
 * never close it.  A second one is opened for the caller, who owns it;
 * serve_close_fd() closes either
 * rightly.
 */
int serve_hold_blob(struct req *r, const char *sha256, int *fd, uint64_t *size);
/* Closes fd unless it is the descriptor lent to r. */
void serve_close_fd(struct req *r, int fd);

/*
 * Answers r with a file that is not in the store: HEAD gets the headers
 * (spec->size), GET joins or starts the single-flight fetch of spec and
 * streams it, holding the blob from eviction.  Without an upstream: 503
 * (huberr.h HUB_CONTENT); while upstream rate-limits us longer than a
 * fetch waits: 429; a full store: 507.
 */
enum MHD_Result serve_fetching(struct req *r, const struct serve_id *id,
			       const struct fetch_spec *spec);

#endif
