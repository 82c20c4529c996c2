/*
 * visibility.h: repos upstream does not show to anyone are not shown to
 * anyone here either.
 *
 * ggufd reads upstream with the token it holds, which may read private
 * and gated repos.  A read of a repo's files or metadata (the route
 * table's NEED_VISIBLE rows) by a caller without a ggufd token of read
 * scope is answered only if upstream serves that repo anonymously, or if
 * the operator listed it with --public-repo ("serve this private repo to
 * anyone").  Otherwise the caller gets what the Hub answers an anonymous
 * client for a private repo: 401 RepoNotFound, which does not say that
 * the repo exists.
 *
 * How ggufd knows: an anonymous GET /api/{type}s/{repo} upstream (no
 * token).  200 without "private": true and without "gated" is public; a
 * refusal (401, 403, 404 RepoNotFound, ...) or a private or gated answer
 * is restricted.  The answer is kept in the index (meta, beside the
 * repo's cached metadata) and asked again after the metadata TTL
 * (--ref-ttl).  When it cannot be asked (--offline, upstream unreachable
 * or rate-limiting us) the last answer is used however old; with none,
 * anonymous reads of the repo get 429 (rate-limited) or 504: ggufd does
 * not serve what it cannot tell is public.
 *
 * Without an upstream token (or without upstream) nothing ggufd mirrors
 * can be private, and nothing is asked.
 *
 * Thread safety: any thread (the index and upstream are thread safe).
 */
#ifndef GG_VISIBILITY_H
#define GG_VISIBILITY_H

#include "http.h"

/*
 * Decides r (a NEED_VISIBLE route; r->scope already says whether it
 * carried a ggufd token of read scope or more).  Returns 0 when r may
 * read its repo, or a negative GG_E* code after queueing the answer into
 * *res (401 RepoNotFound, 429 UpstreamRateLimited, 504
 * UpstreamUnavailable).
 */
int visibility_admit(struct req *r, enum MHD_Result *res);
/* The same for another repo than the route's (a listing's query). */
int visibility_admit_repo(struct req *r, enum repo_type type, const char *repo,
			  enum MHD_Result *res);

/*
 * Whether a listing for r (NEED_LISTING: the dashboard's repos, files,
 * activity and disk) may name the repo: 1 where visibility_admit would
 * let r read it, judged from the recorded answer alone, however old (a
 * listing asks upstream nothing); a repo without a recorded answer is not
 * named to a caller without a read token.  The operator (auth_operator)
 * sees every repo; under --require-token-for-read a token's bounds hold
 * for public repos too.
 */
int visibility_listed(struct req *r, enum repo_type type, const char *repo);
/* Whether visibility_listed names every repo to r, whatever upstream
 * answered about it (the operator, a read token bounded to no repo, or
 * anyone while no Hub token is held; under --require-token-for-read a
 * token bounded to some repos never): such a caller may also see what no
 * repo names now, such as an old file's blob. */
int visibility_sees_all(struct req *r);

/* A repo about to come into the store another way than a read by an
 * anonymous client (a pull): asks upstream whether it is public if
 * nothing is recorded yet, so that the listings can name it. */
void visibility_note(struct app *a, enum repo_type type, const char *repo);

/* Until when (unix seconds) an anonymous request for the repo may be
 * answered as visibility_admit would without asking upstream again:
 * UINT64_MAX when no check applies, 0 when its record does not say
 * public (the fast lane, fastlane.c). */
uint64_t visibility_fresh_until(struct app *a, enum repo_type type, const char *repo);

/* Asks upstream anew whether the repo is public and records the answer
 * (the fast lane renewing an entry): GG_OK if public, GG_EINVAL if not,
 * GG_EUNAVAIL with no answer. */
int visibility_renew(struct app *a, enum repo_type type, const char *repo);

#endif
