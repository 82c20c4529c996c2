/*
 * tokens.c: managing gateway tokens for the command line and the JSON
 * routes alike (tokens.h).
 *
 * Validation lives here once: a repo bound must be a repo id the router
 * would accept (route_valid_repo, after an optional "datasets/" or
 * "spaces/"), a path bound a non-empty glob without control characters
 * (the bounds are newline-separated text, so a newline would forge a
 * second bound).  Names and scopes are checked by token.c, which owns the
 * records.  Every token created or revoked goes to the audit log with
 * the token's name, scope and bounds: the token's value exists only in
 * the caller's buffer, which the caller shows once.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "log.h"
#include "route.h"
#include "tokens.h"
#include "util.h"

static int
valid_repo_bound(const char *v)
{
	if (strncmp(v, "datasets/", 9) == 0)
		v += 9;
	else if (strncmp(v, "spaces/", 7) == 0)
		v += 7;
	return route_valid_repo(v);
}

static int
valid_path_bound(const char *v)
{
	if (v[0] == '\0' || strlen(v) > GG_MAX_REPO_PATH_LEN)
		return 0;
	for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

int
tokens_bounds_add(struct tokens_bounds *b, const char *key, const char *value)
{
	int n;

	if (value == NULL || key == NULL)
		return GG_EINVAL;
	if (strcmp(key, "repo") == 0) {
		if (!valid_repo_bound(value))
			return GG_EINVAL;
	} else if (strcmp(key, "path") == 0) {
		if (!valid_path_bound(value))
			return GG_EINVAL;
	} else {
		return GG_EINVAL;
	}
	n = snprintf(b->text + b->len, sizeof(b->text) - b->len, "%s=%s\n", key, value);
	if (n < 0 || (size_t)n >= sizeof(b->text) - b->len) {
		b->text[b->len] = '\0';
		return GG_ETOOBIG;
	}
	b->len += (size_t)n;
	return GG_OK;
}

int
tokens_bounds_foreach(const char *bounds,
		      int (*cb)(void *ctx, const char *key, const char *value, size_t n), void *ctx)
{
	int r = 0;

	for (const char *l = bounds; l != NULL && *l != '\0' && r == 0;) {
		size_t ll = strcspn(l, "\n");
		const char *eq = memchr(l, '=', ll);
		if (eq != NULL) {
			char key[8];
			size_t kl = (size_t)(eq - l);
			if (kl < sizeof(key)) {
				memcpy(key, l, kl);
				key[kl] = '\0';
				r = cb(ctx, key, eq + 1, ll - kl - 1);
			}
		}
		l += ll + (l[ll] == '\n');
	}
	return r;
}

/* Puts the bounds into o as "repos" and "paths" arrays (always both). */
static int
bound_json_cb(void *ctx, const char *key, const char *value, size_t n)
{
	cJSON *o = ctx, *arr;
	char v[GG_MAX_TOKEN_BOUNDS + 1];

	arr = cJSON_GetObjectItemCaseSensitive(o, strcmp(key, "repo") == 0   ? "repos"
						  : strcmp(key, "path") == 0 ? "paths"
									     : "");
	if (arr == NULL || n >= sizeof(v))
		return 0; /* a key of a newer ggufd: not shown */
	memcpy(v, value, n);
	v[n] = '\0';
	cJSON_AddItemToArray(arr, cJSON_CreateString(v));
	return 0;
}

static void
add_bounds(cJSON *o, const char *bounds)
{
	cJSON_AddArrayToObject(o, "repos");
	cJSON_AddArrayToObject(o, "paths");
	tokens_bounds_foreach(bounds, bound_json_cb, o);
}

static void
record(struct store *st, const char *act, const char *decision, const char *name, unsigned scope,
       const char *bounds, const struct tokens_actor *who)
{
	struct audit_act a;
	cJSON *extra = cJSON_CreateObject();

	if (scope != 0)
		cJSON_AddStringToObject(extra, "scope", token_scope_name(scope));
	if (bounds != NULL)
		add_bounds(extra, bounds);
	memset(&a, 0, sizeof(a));
	a.act = act;
	a.decision = decision;
	a.by = who ? who->by : NULL;
	a.client = who ? who->client : NULL;
	a.name = name;
	a.extra = extra;
	audit_write(st, &a);
	cJSON_Delete(extra);
}

int
tokens_add(struct store *st, const char *name, unsigned scope, const struct tokens_bounds *bounds,
	   const struct tokens_actor *who, char out[TOKEN_LEN + 1])
{
	const char *text = bounds ? bounds->text : "";
	int r = token_create_bounded(st, name, scope, text, out);

	if (r == GG_OK)
		record(st, "token-add", "created", name, scope, text, who);
	return r;
}

/* The record of a live token, found by name. */
struct find_ctx {
	const char *name;
	unsigned scope;
	char bounds[GG_MAX_TOKEN_BOUNDS + 1];
};

static int
find_cb(void *ctx, const char *name, const struct index_token *rec)
{
	struct find_ctx *c = ctx;
	if (strcmp(name, c->name) != 0 || rec->revoked)
		return 0;
	c->scope = rec->scope;
	memcpy(c->bounds, rec->bounds, sizeof(c->bounds));
	return 1;
}

int
tokens_revoke(struct store *st, const char *name, const struct tokens_actor *who)
{
	struct find_ctx c;
	int r;

	memset(&c, 0, sizeof(c));
	c.name = name;
	/* What the audit record says of the token: read before it goes. */
	token_foreach(st, find_cb, &c);
	r = token_revoke(st, name);
	if (r == GG_OK)
		record(st, "token-revoke", "revoked", name, c.scope, c.bounds, who);
	return r;
}

static int
list_cb(void *ctx, const char *name, const struct index_token *rec)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "scope", token_scope_name(rec->scope));
	cJSON_AddNumberToObject(o, "created", (double)rec->created_at);
	cJSON_AddBoolToObject(o, "revoked", rec->revoked != 0);
	add_bounds(o, rec->bounds);
	cJSON_AddItemToArray(ctx, o);
	return 0;
}

int
tokens_list(struct store *st, cJSON **out)
{
	cJSON *arr = cJSON_CreateArray();
	int r = token_foreach(st, list_cb, arr);

	if (r != GG_OK) {
		cJSON_Delete(arr);
		arr = NULL;
	}
	*out = arr;
	return r;
}
