/*
 * respcache.c: the small answers of stored files that clients ask for
 * again and again (a `bytes=0-0` probe, the first kilobytes of a GGUF
 * header, a whole config.json, a HEAD), kept as libmicrohttpd responses
 * ready to queue, as nginx's open_file_cache and prebuilt headers save
 * it the work.  A hit costs a key compare and a queue: no read, no
 * response built, no header added.
 *
 * Correctness: the key names everything the answer is made of (serve.c
 * builds it): the blob (sha256, whose bytes never change under its name),
 * the range served and the file's size, the status, and every identity
 * header's input (ETag, commit, path, raw/linked/stale, digest,
 * Location).  A request whose answer would differ in any of them has
 * another key, so a kept answer is never stale; the blob is held (and
 * checked present) by the request as for any hit before the cache is
 * asked.  A response is never changed once kept (libmicrohttpd sends
 * one response to many connections; it counts its references), and
 * while the server drains the cache is not used, since those answers
 * must carry "Connection: close".
 *
 * The repo info JSON (api.c) is kept the same way, under its answer's
 * key, the index generation it was built from (a hit is asked with the
 * generation now, so an index write makes it miss) and whether the
 * client takes gzip, which also saves compressing it again.
 *
 * Bounded: RESPCACHE_SLOTS entries, direct-mapped, under one mutex;
 * serve.c keeps only bodies of at most RESPCACHE_MAX_BODY bytes, api.c
 * only JSON of at most 4 times that (16 KiB, store_answer_put's bound):
 * about 1 MiB at most.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "respcache.h"
#include "util.h"

#define RESPCACHE_SLOTS 64

struct rc_ent {
	char *key; /* NULL: empty */
	size_t klen;
	unsigned status;
	struct MHD_Response *resp; /* our reference */
};

static pthread_mutex_t rc_mu = PTHREAD_MUTEX_INITIALIZER;
static struct rc_ent rc[RESPCACHE_SLOTS];

void
respcache_key_add(struct respcache_key *k, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	char num[21];
	size_t nl = fmt_u64(num, n);

	if (k->over || n + nl + 2 > sizeof(k->buf) - k->len) {
		k->over = 1;
		return;
	}
	/* Each field: 'N' (NULL) or 'S' + its length + ':' + its bytes. */
	if (s == NULL) {
		k->buf[k->len++] = 'N';
		return;
	}
	k->buf[k->len++] = 'S';
	memcpy(k->buf + k->len, num, nl);
	k->len += nl;
	k->buf[k->len++] = ':';
	memcpy(k->buf + k->len, s, n);
	k->len += n;
}

void
respcache_key_u64(struct respcache_key *k, uint64_t v)
{
	char num[21];
	fmt_u64(num, v);
	respcache_key_add(k, num);
}

static struct rc_ent *
slot_of(const struct respcache_key *k)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < k->len; i++)
		h = (h ^ (unsigned char)k->buf[i]) * 16777619u;
	return &rc[h % RESPCACHE_SLOTS];
}

int
respcache_queue(struct req *r, const struct respcache_key *k, enum MHD_Result *res)
{
	struct rc_ent *e;
	int queued = 0;

	if (k->over)
		return 0;
	e = slot_of(k);
	pthread_mutex_lock(&rc_mu);
	/* Queued under the lock: libmicrohttpd takes its own reference, so a
	 * replacement that drops ours cannot free it under the request. */
	if (e->key != NULL && e->klen == k->len && memcmp(e->key, k->buf, k->len) == 0)
		queued = http_queue_kept(r, e->status, e->resp, res);
	pthread_mutex_unlock(&rc_mu);
	return queued;
}

int
respcache_keep_and_queue(struct req *r, const struct respcache_key *k, unsigned status,
			 struct MHD_Response *resp, enum MHD_Result *res)
{
	struct rc_ent *e;
	struct MHD_Response *old = NULL;
	char *key, *old_key = NULL;

	if (k->over)
		return 0;
	e = slot_of(k);
	key = xmalloc(k->len);
	memcpy(key, k->buf, k->len);
	pthread_mutex_lock(&rc_mu);
	if (http_draining(r)) {
		pthread_mutex_unlock(&rc_mu);
		free(key);
		return 0;
	}
	http_common_headers(resp);
	http_queue_kept_now(r, status, resp, res); /* draining was checked above */
	old_key = e->key;
	old = e->resp;
	e->key = key;
	e->klen = k->len;
	e->status = status;
	e->resp = resp;
	pthread_mutex_unlock(&rc_mu);
	free(old_key);
	if (old != NULL)
		MHD_destroy_response(old); /* freed once no connection sends it */
	return 1;
}
