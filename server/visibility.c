/*
 * visibility.c: private and gated upstream repos need a read token (see
 * visibility.h).
 *
 * The record, per repo, in the index's meta table under VIS_KEY:
 *   status 200   upstream serves it to anyone
 *   status 401   it does not (private, gated, or no such repo)
 *   fetched_at   when upstream was asked (fresh for the ref TTL)
 *
 *   ggufd --GET /api/models/ruv/secret  (no Authorization)--> upstream
 *         <-- 401 X-Error-Code: RepoNotFound                 (restricted)
 *         <-- 200 {"id":..,"private":false,"gated":"auto"}   (restricted)
 *         <-- 200 {"id":..,"private":false,"gated":false}    (public)
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "app.h"
#include "auth.h"
#include "huberr.h"
#include "log.h"
#include "store.h"
#include "token.h"
#include "visibility.h"

#define VIS_KEY "ggufd:visibility"
#define VIS_PUBLIC 200u
#define VIS_RESTRICTED 401u

/* Listed by --public-repo: "ns/name" (a model) or "datasets/ns/name". */
static int
listed_public_repo(struct app *a, enum repo_type type, const char *repo)
{
	const char *prefix = route_type_prefix(type);
	size_t pl = strlen(prefix);
	int found = 0;

	pthread_mutex_lock(&a->public_mu);
	for (size_t i = 0; i < a->npublic_repos && !found; i++) {
		const char *p = a->public_repos[i];
		if (type == REPO_MODEL && strncmp(p, "models/", 7) == 0)
			p += 7;
		found = strncmp(p, prefix, pl) == 0 && strcmp(p + pl, repo) == 0;
	}
	pthread_mutex_unlock(&a->public_mu);
	return found;
}

/* What an anonymous answer says: VIS_PUBLIC or VIS_RESTRICTED. */
static unsigned
classify(const struct upstream_resp *ur, const struct buf *body)
{
	cJSON *j, *priv, *gated;
	unsigned v = VIS_RESTRICTED;

	if (ur->status == 404 && (strcmp(ur->error_code, "RevisionNotFound") == 0 ||
				  strcmp(ur->error_code, "EntryNotFound") == 0))
		return VIS_PUBLIC; /* the repo itself was found */
	if (ur->status == 410 || ur->status == 451)
		return VIS_PUBLIC; /* disabled or blocked for everyone: relayed as it is */
	if (ur->status != 200)
		return VIS_RESTRICTED;
	j = cJSON_ParseWithLength(body->data ? body->data : "", body->len);
	if (cJSON_IsObject(j)) {
		priv = cJSON_GetObjectItemCaseSensitive(j, "private");
		gated = cJSON_GetObjectItemCaseSensitive(j, "gated");
		/* "gated": false, or "auto"/"manual" (the Hub), or true. */
		if (!cJSON_IsTrue(priv) &&
		    (gated == NULL || cJSON_IsFalse(gated) || cJSON_IsNull(gated)))
			v = VIS_PUBLIC;
	}
	cJSON_Delete(j);
	return v;
}

/*
 * Asks upstream anonymously and records the answer.  0 with *vis, or
 * GG_EUNAVAIL (not asked or no answer: *ur says why, 429 or not).
 */
static int
probe_repo(struct app *a, struct upstream *up, enum repo_type type, const char *repo, unsigned *vis,
	   struct upstream_resp *ur)
{
	struct index_meta m;
	struct buf body;
	char *path;
	int rc;

	buf_init(&body, GG_MAX_UPSTREAM_JSON);
	path = xasprintf("/api/%s/%s", route_type_plural(type), repo);
	rc = upstream_api_anon(up, path, &body, ur);
	free(path);
	if (rc == GG_OK) {
		*vis = classify(ur, &body);
		memset(&m, 0, sizeof(m));
		m.fetched_at = now_unix();
		m.status = *vis;
		m.data = (void *)"";
		if ((rc = store_meta_put(a->st, type, repo, VIS_KEY, &m)) != GG_OK)
			log_warnx("recording the visibility of %s%s: %s", route_type_prefix(type),
				  repo, gg_strerror(rc));
		log_debug("%s%s: upstream answers an anonymous client %ld: %s",
			  route_type_prefix(type), repo, ur->status,
			  *vis == VIS_PUBLIC ? "public" : "private or gated");
		rc = GG_OK;
	} else if (rc != GG_EUNAVAIL) {
		memset(ur, 0, sizeof(*ur));
		rc = GG_EUNAVAIL;
	}
	buf_free(&body);
	return rc;
}

static int
refuse(struct req *r, enum MHD_Result *res)
{
	*res = hub_private_repo(r);
	return GG_EINVAL;
}

int
visibility_admit(struct req *r, enum MHD_Result *res)
{
	return visibility_admit_repo(r, r->route.type, r->route.repo, res);
}

int
visibility_admit_repo(struct req *r, enum repo_type type, const char *repo, enum MHD_Result *res)
{
	struct app *a = r->app;
	struct upstream *up = app_upstream(a);
	struct upstream_resp ur;
	struct index_meta m;
	unsigned vis = 0;
	int have;

	memset(&ur, 0, sizeof(ur));
	if (a->up == NULL || !upstream_has_token(a->up) || repo[0] == '\0' ||
	    (r->scope >= TOKEN_READ && auth_bounds_allow(r, type, repo)) ||
	    listed_public_repo(a, type, repo))
		return GG_OK;
	memset(&m, 0, sizeof(m));
	have = store_meta_get(a->st, type, repo, VIS_KEY, &m) == GG_OK &&
	       (m.status == VIS_PUBLIC || m.status == VIS_RESTRICTED);
	free(m.data);
	if (have && now_unix() - m.fetched_at < a->ref_ttl)
		vis = m.status;
	else if (up != NULL && probe_repo(a, up, type, repo, &vis, &ur) == GG_OK)
		;
	else if (have)
		vis = m.status; /* not asked now: the last answer, however old */
	else if (up != NULL && ur.status == 429) {
		*res = hub_rate_limited(r, ur.retry_after, NULL);
		return GG_EUNAVAIL;
	} else {
		*res = hub_visibility_unknown(r, up == NULL);
		return GG_EUNAVAIL;
	}
	return vis == VIS_PUBLIC ? GG_OK : refuse(r, res);
}

int
visibility_listed(struct req *r, enum repo_type type, const char *repo)
{
	struct app *a = r->app;
	struct index_meta m;
	int pub;

	if (a->require_read_token && !auth_bounds_allow(r, type, repo))
		return 0;
	if (a->up == NULL || !upstream_has_token(a->up) ||
	    (r->scope >= TOKEN_READ && auth_bounds_allow(r, type, repo)) || auth_operator(r) ||
	    listed_public_repo(a, type, repo))
		return 1;
	memset(&m, 0, sizeof(m));
	pub = store_meta_get(a->st, type, repo, VIS_KEY, &m) == GG_OK && m.status == VIS_PUBLIC;
	free(m.data);
	return pub;
}

int
visibility_sees_all(struct req *r)
{
	struct app *a = r->app;
	int open = a->up == NULL || !upstream_has_token(a->up);

	/* visibility_listed, for a repo nobody made public: */
	if (!token_bounds_have_repo(r->token_bounds))
		return open || auth_operator(r) || r->scope >= TOKEN_READ;
	return !a->require_read_token && (open || auth_operator(r));
}

void
visibility_note(struct app *a, enum repo_type type, const char *repo)
{
	struct index_meta m;
	int have;

	if (a->up == NULL || !upstream_has_token(a->up))
		return;
	memset(&m, 0, sizeof(m));
	have = store_meta_get(a->st, type, repo, VIS_KEY, &m) == GG_OK;
	free(m.data);
	if (!have)
		(void)visibility_renew(a, type, repo);
}

uint64_t
visibility_fresh_until(struct app *a, enum repo_type type, const char *repo)
{
	struct index_meta m;
	uint64_t until = 0;

	/* visibility_admit's conditions, for a request without a token. */
	if (a->up == NULL || !upstream_has_token(a->up) || repo[0] == '\0' ||
	    listed_public_repo(a, type, repo))
		return UINT64_MAX;
	memset(&m, 0, sizeof(m));
	if (store_meta_get(a->st, type, repo, VIS_KEY, &m) == GG_OK && m.status == VIS_PUBLIC)
		until = m.fetched_at + a->ref_ttl;
	free(m.data);
	return until;
}

int
visibility_renew(struct app *a, enum repo_type type, const char *repo)
{
	struct upstream *up = app_upstream(a);
	struct upstream_resp ur;
	unsigned vis = 0;

	memset(&ur, 0, sizeof(ur));
	if (up == NULL || probe_repo(a, up, type, repo, &vis, &ur) != GG_OK)
		return GG_EUNAVAIL;
	return vis == VIS_PUBLIC ? GG_OK : GG_EINVAL;
}
