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
 * Tiers (--upstream URL, repeatable): several upstreams in order, e.g. a
 * site's ggufd cluster, then the Hub.  Every request goes to the first
 * tier that is up; one that cannot be reached, answers 5xx, times out or
 * breaks off a transfer is marked down (tiers.h: back-off, probed again
 * later) and the request goes on to the next tier; a 429 sends it on too.
 * Any other answer, a 404 or a 401/403 included, is the answer: an
 * intermediate ggufd asks its own upstream before it says 404, so its 404
 * is the Hub's.  (An intermediate ggufd in --offline mode answers 404 for
 * what it does not hold: do not use one as a tier.)  The last tier is the
 * origin: it is always asked when the request gets there, and it alone
 * gets the token; writes (API POST/DELETE, publishing) go to it only.
 * A content transfer that breaks off at a tier resumes at the next one
 * with a Range; the bytes of both make one partial only if both name the
 * same sha256 (X-Linked-Etag is checked before any byte is kept), and the
 * fetcher verifies the whole.
 *
 * Peers (--peer URL, repeatable, the same list on every node; --self
 * names this node in it): a blob with a known sha256 is fetched from its
 * owner (peers.h: rendezvous hashing) while that peer is up, with the
 * header X-Ggufd-Peer: 1 so that the owner fetches from its tiers and
 * never from a peer (no loops); a down owner is skipped for the next peer
 * in the order, back-off as tiers.  This node fetches from the tiers
 * itself when it ranks above every peer that is up.  Peers never get
 * the token.
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
struct cJSON;

#define GG_MAX_TIERS 8
#define GG_PEER_HEADER "X-Ggufd-Peer"

struct upstream_config {
	const char *base; /* "https://huggingface.co", no trailing slash needed */
	/* The tiers in order (the last is the origin); base is used when
	 * nbases is 0.  At most GG_MAX_TIERS. */
	char *const *bases;
	size_t nbases;
	char *const *peers; /* at most GG_MAX_PEERS (peers.h), or none */
	size_t npeers;
	const char *self;       /* this node's URL in peers, or NULL */
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
/* The first tier's base URL ("https://huggingface.co"), borrowed. */
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
 * upstream_fetch for a blob: with sha256 (64 hex, or NULL for a file whose
 * sha256 is not known), a tier or peer whose X-Linked-Etag names another
 * sha256 is not kept (the next is asked), and unless no_peers the blob's
 * owner among the peers is asked first (see above).  no_peers is set for
 * fetches that a peer's request started.
 */
/*
 * 1 if the blob sha256 has an owner among the peers other than this node
 * that is up (a peer ranking above this node that is not marked down):
 * that node fetches it and stores it in a shared blob store, so this one
 * need not (bucket.c waits for it a while).  0 without peers, when this
 * node ranks first, or when every peer above it is down.
 */
int upstream_peer_owns(struct upstream *u, const char *sha256);

int upstream_fetch_blob(struct upstream *u, const char *prefix, const char *repo,
			const char *commit, const char *path, uint64_t offset, const char *sha256,
			int no_peers,
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

/* 1 if url is on the upstream host (the origin: it would get the token). */
int upstream_is_own_url(const struct upstream *u, const char *url);

/* If url is on one of the tiers (base then '/'), its path from that '/',
 * borrowed from url; else NULL.  (A Link upstream sent names its tier.) */
const char *upstream_tier_path(const struct upstream *u, const char *url);

/* The tiers' and peers' health families for /metrics (tiers.h); u may be
 * NULL.  0 or GG_ETOOBIG. */
int upstream_prometheus(struct upstream *u, struct buf *b);
/* Adds "tiers" (and with peers "self" and "peers") to the dashboard's
 * upstream object o; u may be NULL.  Each entry is nodes_json's (tiers.h),
 * a tier's with "origin" (the last tier: it alone gets the token), a
 * peer's with "self" (this node).  "self" is this node's URL as
 * upstream_url_public shows it, "" when --self names none of the peers. */
void upstream_health_json(struct upstream *u, struct cJSON *o);

/* What a page or an error line may show of a URL: scheme, host and path,
 * without user info, query or fragment (a CDN URL is presigned in its
 * query; a token never travels in a URL here, and this keeps it so).
 * Written to out, cut to fit size bytes; "" for NULL or no "://". */
void upstream_url_public(const char *url, char *out, size_t size);

/* Percent-encodes s as Python's quote(s, safe) with safe "" or "/". */
char *upstream_quote(const char *s, int keep_slash);

#endif
