/*
 * huberr.c: the Hub's error tree (see huberr.h).
 *
 *   HTTP/1.1 404 Not Found
 *   X-Error-Code: EntryNotFound
 *   X-Error-Message: Entry not found
 *   X-Repo-Commit: <40 hex>
 *   Content-Type: application/json; charset=utf-8
 *
 *   {"error":"Entry not found","code":"EntryNotFound"}
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "app.h"
#include "huberr.h"
#include "log.h"

enum MHD_Result
hub_not_found(struct req *r, enum hub_miss what, const char *commit)
{
	static const char *const names[] = { "This repository", "This revision", "This file",
					     "This file's content" };
	struct upstream *up = app_upstream(r->app);
	uint64_t wait;
	char msg[160];

	/* Upstream was not asked because it rate-limits us: say when to come
	 * back, not that it is unreachable. */
	if (up != NULL && (wait = upstream_wait(up, 0)) > 0)
		return hub_rate_limited(r, wait, NULL);
	if (r->app->up != NULL) {
		if (snprintf_checked(msg, sizeof(msg), "%s is not in the store and upstream is %s",
				     names[what],
				     app_upstream(r->app) ? "unreachable"
							  : "not asked (offline)") != GG_OK)
			msg[0] = '\0';
		return http_error(r, MHD_HTTP_GATEWAY_TIMEOUT, "UpstreamUnavailable", msg, commit);
	}
	switch (what) {
	case HUB_REPO:
		return http_error(r, MHD_HTTP_UNAUTHORIZED, "RepoNotFound", "Repository not found",
				  NULL);
	case HUB_REVISION:
		return http_error(r, MHD_HTTP_NOT_FOUND, "RevisionNotFound", "Invalid rev id",
				  NULL);
	case HUB_ENTRY:
		return http_error(r, MHD_HTTP_NOT_FOUND, "EntryNotFound", "Entry not found",
				  commit);
	default:
		return http_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, NULL,
				  "File content is not in the store", commit);
	}
}

enum MHD_Result
hub_rev_error(struct req *r, int rc, int known_repo)
{
	if (rc == GG_ENOENT)
		return hub_not_found(r, known_repo ? HUB_REVISION : HUB_REPO, NULL);
	return http_error_from(r, rc, "revision lookup");
}

enum MHD_Result
hub_rate_limited(struct req *r, uint64_t retry_after, const char *message)
{
	struct MHD_Response *resp;
	char ra[24], msg[256];

	if (retry_after == 0)
		retry_after = 1;
	if (message == NULL || message[0] == '\0') {
		if (snprintf_checked(msg, sizeof(msg),
				     "Upstream rate-limited this mirror: retry after %llu s",
				     (unsigned long long)retry_after) != GG_OK)
			msg[0] = '\0';
		message = msg;
	}
	resp = http_error_response("UpstreamRateLimited", message, NULL);
	snprintf(ra, sizeof(ra), "%llu", (unsigned long long)retry_after);
	MHD_add_response_header(resp, "Retry-After", ra);
	return http_queue(r, MHD_HTTP_TOO_MANY_REQUESTS, resp);
}

enum MHD_Result
hub_relay_upstream(struct req *r, enum hub_relay how, long status, const char *code,
		   const char *message, const char *commit, uint64_t retry_after)
{
	const char *msg = message != NULL && message[0] != '\0' ? message : "Upstream error";
	const char *c = code != NULL && code[0] != '\0' ? code : NULL;
	const char *rc = commit != NULL && commit[0] != '\0' ? commit : NULL;

	if (how == HUB_RELAY_READ) {
		switch (status) {
		case 400: /* the Hub says the request is wrong (e.g. a revision) */
		case 401:
		case 403:
		case 404:
		case 410: return http_error(r, (unsigned)status, c, msg, rc);
		case 429: return hub_rate_limited(r, retry_after, message);
		default: return http_error(r, MHD_HTTP_BAD_GATEWAY, "UpstreamError", msg, rc);
		}
	}
	switch (status) {
	case 404:
	case 409:
	case 412:
	case 422: return http_error(r, (unsigned)status, "UpstreamRefused", msg, rc);
	default: return http_error(r, MHD_HTTP_BAD_GATEWAY, "UpstreamRefused", msg, rc);
	}
}

enum MHD_Result
hub_upstream_bad(struct req *r, const char *message, const char *commit)
{
	log_warnx("%s %s: %s", r->method, r->raw_uri, message);
	return http_error(r, MHD_HTTP_BAD_GATEWAY, "UpstreamError", message, commit);
}

enum MHD_Result
hub_upstream_down(struct req *r, const char *message)
{
	return http_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "UpstreamUnavailable", message, NULL);
}

enum MHD_Result
hub_store_full(struct req *r, uint64_t size, const char *commit)
{
	char msg[300];
	snprintf(msg, sizeof(msg),
		 "The store has no room for %llu more bytes: its disk or its quota "
		 "(--max-store-size) is full, and nothing more can be evicted (pinned, being "
		 "read or being written)",
		 (unsigned long long)size);
	return http_error(r, MHD_HTTP_INSUFFICIENT_STORAGE, "InsufficientStorage", msg, commit);
}

enum MHD_Result
hub_private_repo(struct req *r)
{
	return http_error(r, MHD_HTTP_UNAUTHORIZED, "RepoNotFound",
			  "Repository not found (a private or gated repo upstream: this mirror "
			  "serves it with a ggufd read token only)",
			  NULL);
}

enum MHD_Result
hub_visibility_unknown(struct req *r, int offline)
{
	return http_error(r, MHD_HTTP_GATEWAY_TIMEOUT, "UpstreamUnavailable",
			  offline ? "Whether this repository is public is not known and upstream "
				    "is not asked (offline): a ggufd read token reads it"
				  : "Whether this repository is public is not known and upstream "
				    "is unreachable: a ggufd read token reads it",
			  NULL);
}

enum MHD_Result
hub_relay_resp(struct req *r, const struct upstream_resp *ur)
{
	return hub_relay_upstream(r, HUB_RELAY_READ, ur->status, ur->error_code, ur->error_message,
				  ur->repo_commit, ur->retry_after);
}
