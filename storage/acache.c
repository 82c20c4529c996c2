/*
 * acache.c: answers built from the index alone (a repo's info JSON), kept
 * for the next request with the same key while the index has not changed.
 *
 * The caller keeps an answer under the generation of the view it was
 * built from (store_view_generation: that snapshot's LMDB transaction
 * id), and asks with the index's generation now (store_generation: the
 * last committed transaction, by any process, which LMDB records before
 * new readers see it, so it is never older than any snapshot).  A hit
 * needs the two to be equal, so no write came after the snapshot: an
 * answer is never older than the index.
 *
 * Direct-mapped, ACACHE_SLOTS entries of at most ACACHE_MAX_BYTES each,
 * under one mutex: a bounded few hundred KiB at most.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "acache.h"
#include "util.h"

#define ACACHE_SLOTS 32
#define ACACHE_MAX_BYTES (16u * 1024)

struct ac_ent {
	char *key; /* NULL: empty */
	size_t klen;
	uint64_t gen;
	char *text;
	size_t len;
};

struct acache {
	pthread_mutex_t mu;
	struct ac_ent e[ACACHE_SLOTS];
};

struct acache *
acache_new(void)
{
	struct acache *c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
	return c;
}

void
acache_free(struct acache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < ACACHE_SLOTS; i++) {
		free(c->e[i].key);
		free(c->e[i].text);
	}
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static struct ac_ent *
slot_of(struct acache *c, const char *key, size_t klen)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < klen; i++)
		h = (h ^ (unsigned char)key[i]) * 16777619u;
	return &c->e[h % ACACHE_SLOTS];
}

int
acache_get(struct acache *c, const char *key, uint64_t gen, char **out)
{
	size_t klen = strlen(key);
	struct ac_ent *e = slot_of(c, key, klen);
	char *copy = NULL;

	*out = NULL;
	if (gen == 0)
		return 0;
	pthread_mutex_lock(&c->mu);
	if (e->key != NULL && e->gen == gen && e->klen == klen && memcmp(e->key, key, klen) == 0) {
		copy = xmalloc(e->len + 1);
		memcpy(copy, e->text, e->len + 1);
	}
	pthread_mutex_unlock(&c->mu);
	*out = copy;
	return copy != NULL;
}

void
acache_put(struct acache *c, const char *key, uint64_t gen, const char *text)
{
	size_t klen = strlen(key), len = strlen(text);
	struct ac_ent *e = slot_of(c, key, klen);
	char *k, *t, *old_k, *old_t;

	if (gen == 0 || len > ACACHE_MAX_BYTES)
		return;
	k = xmalloc(klen + 1);
	memcpy(k, key, klen + 1);
	t = xmalloc(len + 1);
	memcpy(t, text, len + 1);
	pthread_mutex_lock(&c->mu);
	/* Never an older answer over a newer one of the same key. */
	if (e->key != NULL && e->klen == klen && memcmp(e->key, key, klen) == 0 && e->gen > gen) {
		pthread_mutex_unlock(&c->mu);
		free(k);
		free(t);
		return;
	}
	old_k = e->key;
	old_t = e->text;
	e->key = k;
	e->klen = klen;
	e->gen = gen;
	e->text = t;
	e->len = len;
	pthread_mutex_unlock(&c->mu);
	free(old_k);
	free(old_t);
}
