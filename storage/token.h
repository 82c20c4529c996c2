/*
 * token.h: the gateway's own credentials.
 *
 * A token is "hf_" followed by 40 lowercase hex digits (160 random bits);
 * it starts with "hf_" because huggingface.js refuses tokens that do not.
 * It is shown once, when created; the index keeps only its sha256, with a
 * name, a scope and a revoked flag.  Checking a presented token hashes it
 * and compares against every record in constant time, so neither the
 * outcome's timing nor an early exit tells which record came close.
 *
 * Scopes nest: admin > upload > read.
 *
 * The store also keeps one 32-byte random secret (the HMAC key that signs
 * the gateway's bearer-less upload URLs).
 *
 * Thread safety: every function is thread safe.
 */
#ifndef GG_TOKEN_H
#define GG_TOKEN_H

#include "gg_limits.h"
#include "store.h"

enum token_scope { TOKEN_READ = 1, TOKEN_UPLOAD = 2, TOKEN_ADMIN = 3 };

#define TOKEN_LEN 43 /* "hf_" + 40 hex */
#define TOKEN_NAME_MAX GG_MAX_TOKEN_NAME

/* "read", "upload", "admin" (or "?"). */
const char *token_scope_name(unsigned scope);
/* The scope for a name, or 0. */
unsigned token_scope_parse(const char *name);

/*
 * Creates a token.  name: 1-64 bytes of [A-Za-z0-9._@-].  Writes the token
 * into out.  Returns 0, GG_EINVAL (bad name or scope), GG_EEXIST (a live
 * token has that name), GG_EDB.
 */
int token_create(struct store *st, const char *name, unsigned scope, char out[TOKEN_LEN + 1]);

/*
 * Checks a presented token.  Returns 0 with *scope and name (65 bytes) for
 * a live token, GG_ENOENT for an unknown or revoked one, GG_EDB.
 */
int token_check(struct store *st, const char *token, unsigned *scope,
		char name[TOKEN_NAME_MAX + 1]);

/*
 * Bounds narrow what a token may do through the gateway: text lines
 * "repo=NS/NAME" (datasets/ and spaces/ prefixes for other types) and
 * "path=GLOB" (fnmatch, "*" within one path segment).  With any repo line
 * the repo must be one of them; with any path line every path must match
 * one of them.  "" is no bound.
 */
int token_create_bounded(struct store *st, const char *name, unsigned scope, const char *bounds,
			 char out[TOKEN_LEN + 1]);
int token_check_bounded(struct store *st, const char *token, unsigned *scope,
			char name[TOKEN_NAME_MAX + 1], char bounds[GG_MAX_TOKEN_BOUNDS + 1]);
/* 1 if bounds let the token act on repo (NULL: not asked) at path (NULL:
 * not asked). */
int token_bounds_allow(const char *bounds, const char *repo, const char *path);
/* 1 if bounds has a repo= line. */
int token_bounds_have_repo(const char *bounds);

/* Revokes by name.  0, GG_ENOENT, GG_EDB. */
int token_revoke(struct store *st, const char *name);

/* Every token record (never the token itself). */
int token_foreach(struct store *st,
		  int (*cb)(void *ctx, const char *name, const struct index_token *rec), void *ctx);

/* 1 if at least one live admin token exists. */
int token_have_admin(struct store *st);

/* The store's HMAC key, created on first use.  0 or GG_EDB. */
int token_secret(struct store *st, unsigned char key[32]);

/*
 * HMAC-SHA256 of msg with the store secret, as 64 hex digits in out.
 * token_verify compares a presented signature in constant time: 1 if it
 * matches.  0 / GG_EDB.
 */
int token_sign(struct store *st, const char *msg, char out[65]);
int token_verify(struct store *st, const char *msg, const char *sig);

#endif
