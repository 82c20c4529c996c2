/*
 * tokens.h: managing gateway tokens, one implementation for the command
 * line (`ggufd token add|ls|revoke`, cli.c) and the operator's JSON routes
 * (GET/POST /api/ggufd/tokens, DELETE /api/ggufd/tokens/{name}, admin.c).
 *
 * token.h (storage/) keeps the records: a name, a scope, the sha256 of
 * the token, bounds, a revoked flag.  This module adds what both fronts
 * need on top: the validation of a bound (a repo id, a path glob) and
 * the audit record of every token created or revoked.  The audit record
 * names the token (its name, scope, bounds) and who acted; the token
 * itself is never written, logged or kept anywhere but in the caller's
 * buffer.
 *
 * Thread safety: any thread.
 */
#ifndef GG_TOKENS_H
#define GG_TOKENS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "store.h"
#include "token.h"

/* A token's bounds being built: text lines "repo=..." and "path=...". */
struct tokens_bounds {
	char text[GG_MAX_TOKEN_BOUNDS + 1];
	size_t len;
};

/*
 * Adds one bound to b.  key is "repo" (value: NS/NAME, or a single legacy
 * name, with "datasets/" or "spaces/" before it for other repo types) or
 * "path" (a glob: non-empty, no control character).  Returns 0, GG_EINVAL
 * (a bad key or value: b unchanged) or GG_ETOOBIG (the bounds would pass
 * GG_MAX_TOKEN_BOUNDS bytes: b unchanged).
 */
int tokens_bounds_add(struct tokens_bounds *b, const char *key, const char *value);

/* Who acts on the tokens, for the audit log: the acting admin token's
 * name (NULL or "" without one: the command line, or a loopback client
 * while no admin token exists) and the client ("127.0.0.1", or "cli"). */
struct tokens_actor {
	const char *by;
	const char *client;
};

/*
 * Creates the token name (token.h: 1-64 of [A-Za-z0-9._@-]) of scope with
 * bounds (NULL: none), writes it into out and records the act ("token-add",
 * "created") in the audit log.  Returns 0, GG_EINVAL (bad name or scope),
 * GG_EEXIST (a live token has that name), GG_EDB.  Nothing is recorded
 * when nothing was created.
 */
int tokens_add(struct store *st, const char *name, unsigned scope,
	       const struct tokens_bounds *bounds, const struct tokens_actor *who,
	       char out[TOKEN_LEN + 1]);

/*
 * Revokes the live token name and records the act ("token-revoke",
 * "revoked").  Returns 0, GG_ENOENT (no live token of that name, which
 * includes an invalid name), GG_EDB.
 */
int tokens_revoke(struct store *st, const char *name, const struct tokens_actor *who);

/*
 * Every token record as a JSON array, in name order (never a token):
 *   [{"name","scope","created":<unix>,"revoked":bool,
 *     "repos":[...],"paths":[...]}]
 * 0 and *out (caller frees with cJSON_Delete), or the store's code.
 */
int tokens_list(struct store *st, cJSON **out);

/* Calls cb for each "key=value" line of bounds (value not NUL-terminated:
 * n bytes); stops at a non-zero return and returns it. */
int tokens_bounds_foreach(const char *bounds,
			  int (*cb)(void *ctx, const char *key, const char *value, size_t n),
			  void *ctx);

#endif
