/*
 * lcache.c: store_lookup_file's answers, kept for the next request of the
 * same (type, repo, rev, path), as nginx's open_file_cache keeps what a
 * name resolved to.  A hit costs a hash, a key compare and a look at the
 * index's last committed transaction id, instead of an LMDB read
 * transaction and three to four B-tree lookups.
 *
 * Correctness: an entry is the answer of one LMDB snapshot and carries
 * that snapshot's transaction id.  It is used only while the index's last
 * committed transaction is still that one (index_last_txnid, which LMDB
 * records before new readers see the commit, so it is never older than a
 * snapshot a reader can get): any write
 * to the index, in this process or another (an import, gc, a publish, a
 * ref moved by an upstream answer, eviction's records, the hits' flush),
 * makes every entry miss, so an answer is never older than the index.
 * The entry holds what the index says, ref_time included: whether a
 * branch answer is still fresh (the ref TTL) is decided by the caller on
 * every request, as before.  Only found files are kept (rev_rc and
 * file_rc both 0); the answers that lead upstream or to an error take the
 * long way.
 *
 * Direct-mapped, LCACHE_SLOTS entries under one mutex (held for a memcmp
 * and a copy); an entry's key is malloc'ed once and replaced only when
 * another name takes its slot.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lcache.h"
#include "util.h"

#define LCACHE_SLOTS 512

struct lc_ent {
	char *key; /* NULL: empty */
	size_t klen;
	uint64_t txnid;
	struct store_lookup lk;
};

struct lcache {
	pthread_mutex_t mu;
	struct lc_ent e[LCACHE_SLOTS];
};

struct lcache *
lcache_new(void)
{
	struct lcache *c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
	return c;
}

void
lcache_free(struct lcache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < LCACHE_SLOTS; i++)
		free(c->e[i].key);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

int
lcache_key(struct lcache_key *k, enum repo_type type, const char *repo, const char *rev,
	   const char *path)
{
	const char *parts[3] = { repo, rev, path };
	uint32_t h = 2166136261u;
	size_t o = 0;

	k->buf[o++] = (char)('0' + (int)type);
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(parts[i]);
		if (n + 1 > sizeof(k->buf) - o)
			return -1;
		k->buf[o++] = '\0';
		memcpy(k->buf + o, parts[i], n);
		o += n;
	}
	for (size_t i = 0; i < o; i++)
		h = (h ^ (unsigned char)k->buf[i]) * 16777619u;
	k->len = o;
	k->hash = h;
	return 0;
}

int
lcache_get(struct lcache *c, const struct lcache_key *k, uint64_t txnid, struct store_lookup *out)
{
	struct lc_ent *e = &c->e[k->hash % LCACHE_SLOTS];
	int hit;

	pthread_mutex_lock(&c->mu);
	hit = e->key != NULL && e->txnid == txnid && e->klen == k->len &&
	      memcmp(e->key, k->buf, k->len) == 0;
	if (hit)
		*out = e->lk;
	pthread_mutex_unlock(&c->mu);
	return hit;
}

void
lcache_put(struct lcache *c, const struct lcache_key *k, uint64_t txnid,
	   const struct store_lookup *lk)
{
	struct lc_ent *e = &c->e[k->hash % LCACHE_SLOTS];
	char *old = NULL, *key = NULL;

	pthread_mutex_lock(&c->mu);
	if (e->key == NULL || e->klen != k->len || memcmp(e->key, k->buf, k->len) != 0) {
		pthread_mutex_unlock(&c->mu);
		key = xmalloc(k->len);
		memcpy(key, k->buf, k->len);
		pthread_mutex_lock(&c->mu);
		old = e->key;
		e->key = key;
		e->klen = k->len;
	}
	/* A later snapshot only: never put an older answer over a newer. */
	if (key != NULL || txnid >= e->txnid) {
		e->txnid = txnid;
		e->lk = *lk;
	}
	pthread_mutex_unlock(&c->mu);
	free(old);
}
