/*
 * tier.c: the store as the hot tier above a shared blob store (store.h,
 * "a shared blob store below the local one"): the in-bucket mark of blob
 * records, the eviction guard (evict.c reads st->bucket_guard) and the
 * hook that hears of new blobs (the bucket uploader's wake-up).
 */
#include "config.h"

#include <string.h>

#include "log.h"
#include "store.h"
#include "store_impl.h"
#include "util.h"

void
store_set_bucket_guard(struct store *st, int on)
{
	st->bucket_guard = on != 0;
}

void
store_set_landed_hook(struct store *st, void (*cb)(void *ctx, const char *sha256), void *ctx)
{
	st->landed = cb;
	st->landed_ctx = ctx;
}

void
store_landed(struct store *st, const char *sha256)
{
	if (st->landed != NULL && sha256 != NULL && strlen(sha256) == GG_SHA256_HEX)
		st->landed(st->landed_ctx, sha256);
}

int
store_mark_in_bucket(struct store *st, const char *sha256, int in)
{
	struct index_txn *t = NULL;
	struct index_blob b;
	int r;

	if ((r = index_txn_begin(st->idx, 1, &t)) != GG_OK)
		return r;
	r = index_blob_get(t, sha256, &b);
	if (r == GG_OK && (b.in_bucket != 0) == (in != 0)) {
		index_txn_abort(t);
		return GG_OK;
	}
	if (r == GG_OK) {
		b.in_bucket = in != 0;
		r = index_blob_put(t, sha256, &b);
	}
	if (r != GG_OK) {
		index_txn_abort(t);
		return r;
	}
	return index_txn_commit(t);
}
