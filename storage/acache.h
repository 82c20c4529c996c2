/*
 * acache.h: answers built from the index, kept per index generation
 * (acache.c).  For storage/ only: server/ uses store_answer_get/put.
 */
#ifndef GG_ACACHE_H
#define GG_ACACHE_H

#include <stdint.h>

struct acache;

struct acache *acache_new(void);
void acache_free(struct acache *c); /* accepts NULL */
/* 1 with *out (a malloc'ed copy) if key's answer of generation gen is
 * kept, else 0 and NULL.  Generation 0 (unknown) never hits. */
int acache_get(struct acache *c, const char *key, uint64_t gen, char **out);
/* Keeps a copy of text under key for generation gen (not when larger
 * than the cache's bound, or gen is 0). */
void acache_put(struct acache *c, const char *key, uint64_t gen, const char *text);

#endif
