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
 * The upstream token is sent as a bearer only to the upstream host, never
 * to a host a redirect leads to.  It is never logged.
 *
 * Rate limits: a 429 starts a budget for the host that sent it (budget.h):
 * until its Retry-After (or RateLimit t=) has passed, no request of this
 * module goes to that host.  Metadata requests, where a client waits, wait
 * out a budget of at most GG_RETRY_AFTER_MAX seconds; otherwise a request
 * that would go to a host in its budget is not sent and answers as a 429
 * (status 429, retry_after the seconds left, not_asked 1).  Publishing
 * calls (upstream_call) neither wait for nor start budgets: the gateway's
 * writes are retried by its own queue.  Content transfers are capped in
 * number (queued beyond).
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
	uint64_t retry_after; /* seconds, from Retry-After or RateLimit t=; for a request
			       * not sent (not_asked), the seconds its host's budget has left */
	int not_asked;        /* 1: not sent: the host is rate-limiting us (status 429) */
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
 * not be reached or kept answering 5xx, or rate-limits us (out->status
 * 429, out->retry_after the seconds left).
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
 * first.  Returns 0 when the transfer ended cleanly (see out->status: 429
 * when upstream or its CDN said so), GG_EUNAVAIL on a network error, a
 * stalled or cut transfer, another range, or a hop to a host in its
 * rate-limit budget (out->status 429, out->not_asked 1), GG_EINVAL if body
 * aborted.
 */
int upstream_fetch(struct upstream *u, const char *prefix, const char *repo, const char *commit,
		   const char *path, uint64_t offset,
		   int (*body)(void *ctx, const void *data, size_t n, long status), void *ctx,
		   struct upstream_resp *out);

/*
 * An API call: method "GET", "POST" or "DELETE", path_query starting with "/api/".
 * The decoded body goes to *body (max GG_MAX_UPSTREAM_JSON bytes).
 * Returns 0 (see out->status) or GG_EUNAVAIL (unreachable, 5xx, or rate-
 * limited: out->status 429), GG_ETOOBIG.
 */
int upstream_api(struct upstream *u, const char *method, const char *path_query,
		 const char *req_body, size_t req_len, const char *req_ctype, struct buf *body,
		 struct upstream_resp *out);
/* A GET as upstream_api, without the token: what upstream shows anyone. */
int upstream_api_anon(struct upstream *u, const char *path_query, struct buf *body,
		      struct upstream_resp *out);
/* 1 if ggufd holds an upstream token (it may read what anyone cannot). */
int upstream_has_token(const struct upstream *u);

/*
 * Seconds before upstream may be asked again after a 429 (0: now): the
 * upstream host's budget, and with content the longest of the hosts that
 * served content (its CDN) too.
 */
uint64_t upstream_wait(struct upstream *u, int content);

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

/* What a page or an error line may show of a URL: scheme, host and path,
 * without user info, query or fragment (a CDN URL is presigned in its
 * query; a token never travels in a URL here, and this keeps it so).
 * Written to out, cut to fit size bytes; "" for NULL or no "://". */
void upstream_url_public(const char *url, char *out, size_t size);

/* Percent-encodes s as Python's quote(s, safe) with safe "" or "/". */
char *upstream_quote(const char *s, int keep_slash);

#endif
