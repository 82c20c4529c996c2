/*
 * auth.c: the token rule of the route table, in one place.
 *
 * Scopes are ordered (read < upload < admin, token.h); a route asks for
 * the least it needs.  Public routes ignore a bearer they do not know:
 * Python sends the user's own Hub token to HF_ENDPOINT, and a mirror must
 * not refuse a download for it.  With --require-token-for-read they need
 * a valid ggufd token of any scope.  Admin routes answer loopback clients
 * until the first admin token exists, so a fresh install can be run from
 * its own host without any setup.  Reads of a repo (NEED_VISIBLE) also
 * need a read token when upstream does not serve the repo to anyone
 * (visibility.c); listings (NEED_LISTING) name such a repo only to one.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "app.h"
#include "audit.h"
#include "auth.h"
#include "log.h"
#include "store.h"
#include "token.h"
#include "visibility.h"

/*
 * Queues the refusal; returns GG_EINVAL (auth_admit's "answered" code).
 * A refused act of the upload gateway goes to its audit trail too (with
 * the token's name when it had a known one, never the token).
 */
static int
refuse(struct req *r, unsigned status, const char *code, const char *msg, enum MHD_Result *res)
{
	if ((r->entry->needs & NEED_GATEWAY) && r->app->gw != NULL) {
		char client[GG_MAX_CLIENT_ADDR + 1];
		struct audit_act a;

		memset(&a, 0, sizeof(a));
		http_client_addr(r, client, sizeof(client));
		a.act = route_kind_name(r->route.kind);
		a.decision = "refused";
		a.rule = status == MHD_HTTP_UNAUTHORIZED ? "a ggufd token is required"
							 : "the route's token scope";
		a.by = r->token_name;
		a.client = client;
		a.type = r->route.type;
		a.repo = r->route.repo[0] ? r->route.repo : NULL;
		a.rev = r->route.has_rev ? r->route.rev : NULL;
		a.message = msg;
		audit_write(r->app->st, &a);
	}
	*res = http_error(r, status, code, msg, NULL);
	return GG_EINVAL;
}

/* Checks the bearer; 0 with r->scope/token_name, GG_ENOENT if absent or
 * unknown, another code on an index error. */
static int
check_bearer(struct req *r)
{
	const char *tok = http_bearer(r);
	unsigned scope = 0;
	int rc;

	if (tok == NULL)
		return GG_ENOENT;
	rc = token_check_bounded(r->app->st, tok, &scope, r->token_name, r->token_bounds);
	if (rc == GG_OK)
		r->scope = scope;
	else
		r->token_name[0] = '\0';
	return rc;
}

int
auth_bounds_allow(const struct req *r, enum repo_type type, const char *repo)
{
	char full[GG_MAX_REPO_LEN + 16];

	if (r->token_bounds[0] == '\0' || repo[0] == '\0')
		return 1;
	if (snprintf_checked(full, sizeof(full), "%s%s", route_type_prefix(type), repo) != GG_OK)
		return 0;
	return token_bounds_allow(r->token_bounds, full, NULL);
}

int
auth_operator(struct req *r)
{
	if (r->scope >= TOKEN_ADMIN)
		return 1;
	if (r->operator_known == 0)
		r->operator_known =
			r->scope == 0 && http_client_is_loopback(r) && !token_have_admin(r->app->st)
				? 2
				: 1;
	return r->operator_known == 2;
}

int
auth_bounds_allow_repo(const struct req *r)
{
	return auth_bounds_allow(r, r->route.type, r->route.repo);
}

static int
admit_scope(struct req *r, enum MHD_Result *res)
{
	unsigned need;
	char msg[200];
	int rc;

	switch (r->entry->scope) {
	case SCOPE_NONE: return GG_OK;
	case SCOPE_PUBLIC:
		if (!r->app->require_read_token)
			return GG_OK;
		if (check_bearer(r) == GG_OK) {
			if (auth_bounds_allow_repo(r))
				return GG_OK;
			if (snprintf_checked(
				    msg, sizeof(msg),
				    "Token '%s' may not read %s%s (rule: token bounds; see "
				    "ggufd token ls)",
				    r->token_name, route_type_prefix(r->route.type),
				    r->route.repo) != GG_OK)
				msg[0] = '\0';
			return refuse(r, MHD_HTTP_FORBIDDEN, "Forbidden", msg, res);
		}
		return refuse(r, MHD_HTTP_UNAUTHORIZED, NULL,
			      "Invalid credentials in Authorization header: this mirror needs a "
			      "ggufd read token",
			      res);
	case SCOPE_ADMIN:
		if (!token_have_admin(r->app->st)) {
			if (http_client_is_loopback(r))
				return GG_OK;
			return refuse(r, MHD_HTTP_FORBIDDEN, "Forbidden",
				      "ggufd operator routes answer loopback clients only until an "
				      "admin token exists (ggufd token add NAME --scope admin)",
				      res);
		}
		need = TOKEN_ADMIN;
		break;
	case SCOPE_UPLOAD: need = TOKEN_UPLOAD; break;
	default: need = TOKEN_READ; break;
	}
	rc = check_bearer(r);
	if (rc == GG_ENOENT && http_bearer(r) == NULL)
		return refuse(
			r, MHD_HTTP_UNAUTHORIZED, NULL,
			need == TOKEN_ADMIN
				? "Invalid credentials in Authorization header: an admin token "
				  "is required"
				: "Invalid credentials in Authorization header: a ggufd token "
				  "is required (ggufd token add NAME)",
			res);
	if (rc == GG_ENOENT)
		return refuse(r, MHD_HTTP_UNAUTHORIZED, NULL,
			      "Invalid credentials in Authorization header", res);
	if (rc != GG_OK) {
		*res = http_error_from(r, rc, "token check");
		return rc;
	}
	if (r->scope < need) {
		if (snprintf_checked(msg, sizeof(msg), "Token '%s' has scope %s; this needs %s",
				     r->token_name, token_scope_name(r->scope),
				     token_scope_name(need)) != GG_OK)
			msg[0] = '\0';
		return refuse(r, MHD_HTTP_FORBIDDEN, "Forbidden", msg, res);
	}
	return GG_OK;
}

int
auth_admit(struct req *r, enum MHD_Result *res)
{
	int rc = admit_scope(r, res);

	if (rc != GG_OK)
		return rc;
	if ((r->entry->needs & NEED_GATEWAY) && r->app->gw == NULL)
		return refuse(r, MHD_HTTP_NOT_FOUND, NULL, "This ggufd has no upload gateway", res);
	if ((r->entry->needs & NEED_PULL) && r->app->jobs == NULL)
		return refuse(r, MHD_HTTP_CONFLICT, "NoUpstream",
			      "This ggufd has no upstream to pull from", res);
	if (r->entry->needs & (NEED_VISIBLE | NEED_LISTING)) {
		/* A public route ignores bearers; here a ggufd read token is
		 * what opens a private repo, so look at it (an unknown one
		 * stays ignored: the repo decides). */
		if (r->scope == 0 && http_bearer(r) != NULL && (rc = check_bearer(r)) != GG_OK &&
		    rc != GG_ENOENT) {
			*res = http_error_from(r, rc, "token check");
			return rc;
		}
	}
	if (r->entry->needs & NEED_VISIBLE)
		return visibility_admit(r, res);
	return GG_OK;
}
