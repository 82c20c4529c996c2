/*
 * upstream.h: the libcurl client for the upstream Hub (huggingface.co, or
 * a parent ggufd).
 *
 * Three kinds of request, as the real clients make them
 * (HF-PROTOCOL.md 2.4, 2.8, 6):
 *   - file metadata: HEAD without following redirects, relative redirects
 *     followed by replacing the path (as huggingface_hub does), stopping
 *     at the first 2xx or absolute 3xx; X-Repo-Commit, X-Linked-Etag and
 *     X-Linked-Size are read from the hops;
 *   - file content: GET following redirects (the signed CDN URL is used
 *     once and never kept), Accept-Encoding: identity, Range: bytes=N- to
 *     resume;
 *   - API JSON: GET/POST, gzip decoded, Link kept.
 *
 * The upstream token is sent as a bearer only to the upstream host:
 * libcurl drops it on a redirect to another host.  It is never logged.
 * 429 answers are retried after Retry-After / RateLimit t= when that is
 * short; content transfers are capped in number (queued beyond).
 *
 * Thread safety: every function may be called from any thread.
 */
#ifndef GG_UPSTREAM_H
#define GG_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "gg_limits.h"
#include "util.h"

struct upstream;

struct upstream_config {
	const char *base;       /* "https://huggingface.co", no trailing slash needed */
	const char *token;      /* bearer for the upstream host, or NULL */
	const char *ca_bundle;  /* CURLOPT_CAINFO override, or NULL */
	unsigned max_transfers; /* concurrent content transfers, >= 1 */
	long meta_timeout_ms;   /* per metadata request */
};

struct upstream_resp {
	long status;                       /* HTTP status of the last hop, 0 if none */
	char repo_commit[GG_SHA1_HEX + 1]; /* X-Repo-Commit, "" if absent */
	char etag[128];                    /* X-Linked-Etag, else ETag; unquoted, no W/ */
	int linked;                        /* X-Linked-Etag was present (LFS/Xet file) */
	uint64_t size;                     /* X-Linked-Size, else Content-Length (not 3xx) */
	int has_size;
	char error_code[64];     /* X-Error-Code */
	char error_message[256]; /* X-Error-Message */
	char link[2048];         /* Link header (API) */
	char content_type[128];
	char raw_etag[160];   /* ETag exactly as sent (multipart parts) */
	uint64_t retry_after; /* seconds, from Retry-After or RateLimit t= */
	int has_range;        /* a Content-Range "bytes FIRST-LAST/..." came */
	uint64_t range_first; /* its FIRST: where a 206's body starts */
};

/* 0, or GG_EINVAL for a base URL libcurl cannot parse. */
int upstream_new(const struct upstream_config *cfg, struct upstream **out);
void upstream_free(struct upstream *u);
/* The base URL ("https://huggingface.co"), borrowed. */
const char *upstream_base(const struct upstream *u);

/*
 * HEAD {base}/{prefix}{repo}/resolve/{rev}/{path} (rev and path
 * percent-encoded as huggingface_hub does).  Returns 0 with *out filled
 * (any HTTP status, including errors), or GG_EUNAVAIL when upstream could
 * not be reached or kept answering 5xx/429.
 */
int upstream_head_file(struct upstream *u, const char *prefix, const char *repo, const char *rev,
		       const char *path, struct upstream_resp *out);

/*
 * GET of the same resolve URL, following redirects, from byte offset
 * (Range: bytes=offset- when offset > 0).  body(ctx, data, n, status)
 * receives the final response's bytes with its status (200 or 206);
 * returning non-zero aborts.  A 206 whose Content-Range does not start at
 * offset never reaches body (its bytes belong elsewhere in the file): the
 * transfer is cut and GG_EUNAVAIL returned.  Waits for a transfer slot
 * first.  Returns 0 when the transfer ended cleanly (see out->status),
 * GG_EUNAVAIL on a network error, a stalled or cut transfer or another
 * range, GG_EINVAL if body aborted.
 */
int upstream_fetch(struct upstream *u, const char *prefix, const char *repo, const char *commit,
		   const char *path, uint64_t offset,
		   int (*body)(void *ctx, const void *data, size_t n, long status), void *ctx,
		   struct upstream_resp *out);

/*
 * An API call: method "GET", "POST" or "DELETE", path_query starting with "/api/".
 * The decoded body goes to *body (max GG_MAX_UPSTREAM_JSON bytes).
 * Returns 0 (see out->status) or GG_EUNAVAIL, GG_ETOOBIG.
 */
int upstream_api(struct upstream *u, const char *method, const char *path_query,
		 const char *req_body, size_t req_len, const char *req_ctype, struct buf *body,
		 struct upstream_resp *out);

/*
 * A general request, for publishing: method, an absolute URL or a path on
 * the upstream ("/api/..."), an optional body from memory or from a file
 * slice.  The upstream token is attached only when the URL is on the
 * upstream host (LFS storage hrefs are presigned and get none).  No
 * redirects are followed.  Returns 0 (see out->status) or GG_EUNAVAIL.
 */
struct upstream_call {
	const char *method;
	const char *url;
	const char *content_type; /* or NULL */
	const char *accept;       /* or NULL */
	const char *body;         /* or NULL */
	size_t body_len;
	int upload_fd; /* >= 0: send this file slice instead */
	uint64_t upload_off;
	uint64_t upload_len;
	struct buf *out; /* response body (bounded), or NULL */
	long timeout_ms; /* 0: none (large uploads) */
};
int upstream_call(struct upstream *u, const struct upstream_call *c, struct upstream_resp *out);

/* 1 if url is on the upstream host (and would get the token). */
int upstream_is_own_url(const struct upstream *u, const char *url);

/* Percent-encodes s as Python's quote(s, safe) with safe "" or "/". */
char *upstream_quote(const char *s, int keep_slash);

#endif
