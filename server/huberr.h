/*
 * huberr.h: the Hub's error answers, in one place.
 *
 * The Hub's clients decide what to do from the status and X-Error-Code
 * (HF-PROTOCOL.md 5): huggingface_hub raises RepositoryNotFoundError for
 * 401 + RepoNotFound, RevisionNotFoundError for 404 + RevisionNotFound,
 * EntryNotFoundError for 404 + EntryNotFound, and falls back to its cache
 * on 5xx.  A mirror must therefore never claim that something does not
 * exist when it only could not ask: with an upstream configured, a miss
 * that upstream did not answer is 504 UpstreamUnavailable.
 *
 * GG_E* codes become statuses in http_status_for_error() (httpbody.c); the
 * answers below are the Hub's own shapes.
 */
#ifndef GG_HUBERR_H
#define GG_HUBERR_H

#include "http.h"
#include "upstream.h"

/* What the index did not have. */
enum hub_miss {
	HUB_REPO,     /* 401 RepoNotFound (the Hub hides private repos so) */
	HUB_REVISION, /* 404 RevisionNotFound */
	HUB_ENTRY,    /* 404 EntryNotFound, with X-Repo-Commit */
	HUB_CONTENT   /* 503: the file is known, its bytes are not here */
};

/*
 * Answers a miss.  With an upstream configured (r->app->up), upstream
 * could not answer for it: 429 with Retry-After while upstream
 * rate-limits us (upstream_wait), else (unreachable, or --offline) 504
 * UpstreamUnavailable naming what is missing.  Without one, the store is
 * the whole truth and the miss is the Hub's answer for it.  commit (or
 * NULL) goes into X-Repo-Commit.
 */
enum MHD_Result hub_not_found(struct req *r, enum hub_miss what, const char *commit);

/*
 * Answers a failed revision lookup (store_resolve_rev): GG_ENOENT is a
 * miss of the repo (known_repo 0) or of the revision; other codes go
 * through http_status_for_error().
 */
enum MHD_Result hub_rev_error(struct req *r, int rc, int known_repo);

/*
 * Relays an upstream error answer (ur->status >= 400) as the Hub's own,
 * with upstream's X-Error-Code, X-Error-Message and X-Repo-Commit:
 *   HUB_RELAY_READ   401, 403, 404, 410 keep their status; 429 keeps it
 *                    with Retry-After; anything else is 502 UpstreamError
 *   HUB_RELAY_WRITE  (publishing with the held token) 404, 409, 412, 422
 *                    keep their status; anything else, 401 and 403
 *                    included (ggufd's own token was refused, not the
 *                    client's), is 502 UpstreamRefused
 */
enum hub_relay { HUB_RELAY_READ, HUB_RELAY_WRITE };
enum MHD_Result hub_relay_upstream(struct req *r, enum hub_relay how, long status, const char *code,
				   const char *message, const char *commit, uint64_t retry_after);
/*
 * Upstream answered, but not with anything ggufd can use (no commit id,
 * no verifiable hash, JSON that does not parse): 502 UpstreamError, the
 * problem in message.
 */
enum MHD_Result hub_upstream_bad(struct req *r, const char *message, const char *commit);
/* Upstream could not be reached for a write (publish, repo create): 503
 * UpstreamUnavailable, message saying what is kept. */
enum MHD_Result hub_upstream_down(struct req *r, const char *message);
/*
 * The store cannot take size more bytes (GG_ENOSPC: its quota is reached
 * and nothing more can be evicted, the file is larger than the quota, or
 * the disk is full): 507 InsufficientStorage, saying so.
 */
enum MHD_Result hub_store_full(struct req *r, uint64_t size, const char *commit);
/*
 * Upstream rate-limits us (a 429 whose budget is not over, upstream.h):
 * 429 UpstreamRateLimited with Retry-After: retry_after (seconds; 0 is
 * sent as 1) and message (NULL: one saying so).
 */
enum MHD_Result hub_rate_limited(struct req *r, uint64_t retry_after, const char *message);
/*
 * A repo upstream keeps private or gated, read without a ggufd read token
 * (visibility.h): 401 RepoNotFound, the Hub's answer to an anonymous
 * client, which does not say that the repo exists.
 */
enum MHD_Result hub_private_repo(struct req *r);
/* Whether the repo is public is not known and upstream cannot be asked
 * (offline, or unreachable): 504 UpstreamUnavailable. */
enum MHD_Result hub_visibility_unknown(struct req *r, int offline);
/* hub_relay_upstream(HUB_RELAY_READ) of an upstream_resp. */
enum MHD_Result hub_relay_resp(struct req *r, const struct upstream_resp *ur);

#endif
