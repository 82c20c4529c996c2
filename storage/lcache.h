/*
 * lcache.h: a cache of store_lookup_file's answers (lcache.c), valid for
 * the index snapshot they came from.  For storage/ only.
 */
#ifndef GG_LCACHE_H
#define GG_LCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "gg_limits.h"
#include "store.h"

struct lcache;

/* A lookup's name: type, repo, rev and path joined, and its hash. */
struct lcache_key {
	char buf[GG_MAX_REPO_LEN + GG_MAX_REV_LEN + GG_MAX_REPO_PATH_LEN + 8];
	size_t len;
	uint32_t hash;
};

struct lcache *lcache_new(void);
void lcache_free(struct lcache *c); /* accepts NULL */
/* 0, or -1 if the name is too long to be kept (then the cache is not used). */
int lcache_key(struct lcache_key *k, enum repo_type type, const char *repo, const char *rev,
	       const char *path);
/* 1 with *out if k's answer from snapshot txnid is kept, else 0. */
int lcache_get(struct lcache *c, const struct lcache_key *k, uint64_t txnid,
	       struct store_lookup *out);
/* Keeps lk, the answer for k from snapshot txnid. */
void lcache_put(struct lcache *c, const struct lcache_key *k, uint64_t txnid,
		const struct store_lookup *lk);

#endif
