/*
 * store_impl.h: the inside of struct store, for storage/ and its unit
 * tests only.  server/ sees struct store as opaque (store.h); make lint
 * checks that nothing outside storage/ and tests/ includes this file.
 */
#ifndef GG_STORE_IMPL_H
#define GG_STORE_IMPL_H

#include <pthread.h>

#include "blob.h"
#include "index.h"
#include "store.h"

struct acache;
struct lcache;
struct stage;
struct use_table;

struct store {
	char *root;
	struct blob_store *blobs;
	struct index *idx;
	int lock_fd;
	/* Holders of the shared lock in this process (see store_hold). */
	pthread_mutex_t hold_mu;
	unsigned holds;
	/* Staged blobs (store_stage), a short list under hold_mu. */
	struct stage *staged;
	/* evict.c: one eviction pass at a time (evict_mu); the readers and
	 * unwritten hits of blobs, the quota, the bytes being written, the
	 * evictions counted and the last few (use_mu). */
	pthread_mutex_t evict_mu;
	pthread_mutex_t use_mu;
	struct use_table *uses;
	uint64_t max_bytes, reserved;
	uint64_t evictions, evicted_bytes;
	struct store_eviction recent[STORE_RECENT_EVICTIONS];
	unsigned recent_n, recent_next;
	/* tier.c: with a blob store, only blobs stored there may be evicted;
	 * the hook hears of every blob that became durable here.  Set before
	 * the store is shared by threads. */
	int bucket_guard;
	void (*landed)(void *ctx, const char *sha256);
	void *landed_ctx;
	/* store_lookup_file's answers (lcache.c). */
	struct lcache *lookups;
	/* Answers built from the index (acache.c, store_answer_get). */
	struct acache *answers;
};

/* tier.c: tells the landed hook (if any) that sha256 is durable here. */
void store_landed(struct store *st, const char *sha256);

/* evict.c's state, set up by store_open and freed by store_close. */
void store_evict_init(struct store *st);
void store_evict_fini(struct store *st);
/* 1 if the blob is staged (store_stage) in this process. */
int store_staged(struct store *st, const char *sha256);

#endif
