/*
 * token.c: gateway tokens and the store secret (see token.h).
 */
#include "config.h"

#include <fnmatch.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "log.h"
#include "store_impl.h"
#include "token.h"
#include "util.h"

const char *
token_scope_name(unsigned scope)
{
	switch (scope) {
	case TOKEN_READ: return "read";
	case TOKEN_UPLOAD: return "upload";
	case TOKEN_ADMIN: return "admin";
	}
	return "?";
}

unsigned
token_scope_parse(const char *name)
{
	if (strcmp(name, "read") == 0)
		return TOKEN_READ;
	if (strcmp(name, "upload") == 0)
		return TOKEN_UPLOAD;
	if (strcmp(name, "admin") == 0)
		return TOKEN_ADMIN;
	return 0;
}

static int
name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > TOKEN_NAME_MAX)
		return 0;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-") ==
	       n;
}

static void
hash_token(const char *token, unsigned char out[32])
{
	unsigned int ml;
	if (EVP_Digest(token, strlen(token), out, &ml, EVP_sha256(), NULL) != 1)
		log_fatalx("EVP_Digest(sha256) failed");
}

int
token_create(struct store *st, const char *name, unsigned scope, char out[TOKEN_LEN + 1])
{
	return token_create_bounded(st, name, scope, "", out);
}

int
token_create_bounded(struct store *st, const char *name, unsigned scope, const char *bounds,
		     char out[TOKEN_LEN + 1])
{
	struct index_txn *t = NULL;
	struct index_token rec;
	unsigned char rnd[20];
	int r;

	if (!name_ok(name) || scope < TOKEN_READ || scope > TOKEN_ADMIN ||
	    strlen(bounds) > GG_MAX_TOKEN_BOUNDS)
		return GG_EINVAL;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		log_fatalx("RAND_bytes() failed");
	memcpy(out, "hf_", 3);
	hex_encode(rnd, sizeof(rnd), out + 3);
	if ((r = index_txn_begin(st->idx, 1, &t)) != GG_OK)
		return r;
	r = index_token_get(t, name, &rec);
	if (r == GG_OK && !rec.revoked) {
		index_txn_abort(t);
		return GG_EEXIST;
	}
	memset(&rec, 0, sizeof(rec));
	rec.scope = scope;
	rec.created_at = now_unix();
	memcpy(rec.bounds, bounds, strlen(bounds) + 1);
	hash_token(out, rec.hash);
	if ((r = index_token_put(t, name, &rec)) != GG_OK) {
		index_txn_abort(t);
		return r;
	}
	return index_txn_commit(t);
}

struct check_ctx {
	unsigned char hash[32];
	unsigned scope;
	char name[TOKEN_NAME_MAX + 1];
	char bounds[GG_MAX_TOKEN_BOUNDS + 1];
	int found;
};

static int
check_cb(void *ctx, const char *name, const struct index_token *rec)
{
	struct check_ctx *c = ctx;
	/* Every record is compared, whatever matched before. */
	int eq = ct_equal(c->hash, rec->hash, 32);
	if (eq && !rec->revoked && !c->found) {
		c->found = 1;
		c->scope = rec->scope;
		snprintf(c->name, sizeof(c->name), "%s", name);
		memcpy(c->bounds, rec->bounds, sizeof(c->bounds));
	}
	return 0;
}

int
token_check(struct store *st, const char *token, unsigned *scope, char name[TOKEN_NAME_MAX + 1])
{
	return token_check_bounded(st, token, scope, name, NULL);
}

int
token_check_bounded(struct store *st, const char *token, unsigned *scope,
		    char name[TOKEN_NAME_MAX + 1], char bounds[GG_MAX_TOKEN_BOUNDS + 1])
{
	struct index_txn *t = NULL;
	struct check_ctx c;
	int r;

	memset(&c, 0, sizeof(c));
	if (token == NULL || strlen(token) > 256)
		return GG_ENOENT;
	hash_token(token, c.hash);
	if ((r = index_txn_begin(st->idx, 0, &t)) != GG_OK)
		return r;
	r = index_token_foreach(t, check_cb, &c);
	index_txn_abort(t);
	if (r != GG_OK)
		return r;
	if (!c.found)
		return GG_ENOENT;
	*scope = c.scope;
	memcpy(name, c.name, sizeof(c.name));
	if (bounds != NULL)
		memcpy(bounds, c.bounds, sizeof(c.bounds));
	return GG_OK;
}

int
token_revoke(struct store *st, const char *name)
{
	struct index_txn *t = NULL;
	struct index_token rec;
	int r;

	if (!name_ok(name))
		return GG_ENOENT;
	if ((r = index_txn_begin(st->idx, 1, &t)) != GG_OK)
		return r;
	r = index_token_get(t, name, &rec);
	if (r != GG_OK || rec.revoked) {
		index_txn_abort(t);
		return r == GG_OK ? GG_ENOENT : r;
	}
	rec.revoked = 1;
	if ((r = index_token_put(t, name, &rec)) != GG_OK) {
		index_txn_abort(t);
		return r;
	}
	return index_txn_commit(t);
}

int
token_foreach(struct store *st,
	      int (*cb)(void *ctx, const char *name, const struct index_token *rec), void *ctx)
{
	struct index_txn *t = NULL;
	int r;
	if ((r = index_txn_begin(st->idx, 0, &t)) != GG_OK)
		return r;
	r = index_token_foreach(t, cb, ctx);
	index_txn_abort(t);
	return r;
}

static int
admin_cb(void *ctx, const char *name, const struct index_token *rec)
{
	(void)name;
	if (rec->scope == TOKEN_ADMIN && !rec->revoked) {
		*(int *)ctx = 1;
		return 1;
	}
	return 0;
}

int
token_have_admin(struct store *st)
{
	int have = 0;
	token_foreach(st, admin_cb, &have);
	return have;
}

int
token_secret(struct store *st, unsigned char key[32])
{
	struct index_txn *t = NULL;
	size_t len = 0;
	int r;

	if ((r = index_txn_begin(st->idx, 0, &t)) != GG_OK)
		return r;
	r = index_info_get(t, "secret", key, 32, &len);
	index_txn_abort(t);
	if (r == GG_OK && len == 32)
		return GG_OK;
	/* First use: make one.  A racing creator's write wins; read it back. */
	if ((r = index_txn_begin(st->idx, 1, &t)) != GG_OK)
		return r;
	if (index_info_get(t, "secret", key, 32, &len) == GG_OK && len == 32) {
		index_txn_abort(t);
		return GG_OK;
	}
	if (RAND_bytes(key, 32) != 1)
		log_fatalx("RAND_bytes() failed");
	if ((r = index_info_put(t, "secret", key, 32)) != GG_OK) {
		index_txn_abort(t);
		return r;
	}
	return index_txn_commit(t);
}

int
token_sign(struct store *st, const char *msg, char out[65])
{
	unsigned char key[32], md[EVP_MAX_MD_SIZE];
	unsigned int ml = 0;
	int r = token_secret(st, key);

	if (r != GG_OK)
		return r;
	if (HMAC(EVP_sha256(), key, sizeof(key), (const unsigned char *)msg, strlen(msg), md,
		 &ml) == NULL)
		log_fatalx("HMAC(sha256) failed");
	hex_encode(md, ml, out);
	OPENSSL_cleanse(key, sizeof(key));
	return GG_OK;
}

int
token_verify(struct store *st, const char *msg, const char *sig)
{
	char want[65];
	if (sig == NULL || strlen(sig) != 64 || token_sign(st, msg, want) != GG_OK)
		return 0;
	return ct_equal(want, sig, 64);
}

/* 1 if some "key=" line of bounds exists, and *match if one of them says
 * yes for value (fnmatch for path globs, equality for repos). */
static int
bound_lines(const char *bounds, const char *key, const char *value, int glob, int *match)
{
	size_t kl = strlen(key);
	int any = 0;

	*match = 0;
	for (const char *l = bounds; *l != '\0';) {
		const char *nl = strchr(l, '\n');
		size_t ll = nl ? (size_t)(nl - l) : strlen(l);
		if (ll > kl && strncmp(l, key, kl) == 0 && l[kl] == '=') {
			char v[GG_MAX_TOKEN_BOUNDS + 1];
			memcpy(v, l + kl + 1, ll - kl - 1);
			v[ll - kl - 1] = '\0';
			any = 1;
			if (value != NULL &&
			    (glob ? fnmatch(v, value, FNM_PATHNAME) == 0 : strcmp(v, value) == 0))
				*match = 1;
		}
		l += ll + (nl ? 1 : 0);
	}
	return any;
}

int
token_bounds_have_repo(const char *bounds)
{
	int match;

	return bounds != NULL && bound_lines(bounds, "repo", NULL, 0, &match);
}

int
token_bounds_allow(const char *bounds, const char *repo, const char *path)
{
	int match;

	if (bounds == NULL || bounds[0] == '\0')
		return 1;
	if (repo != NULL && bound_lines(bounds, "repo", repo, 0, &match) && !match)
		return 0;
	if (path != NULL && bound_lines(bounds, "path", path, 1, &match) && !match)
		return 0;
	return 1;
}
