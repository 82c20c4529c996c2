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

struct stage;

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
};

#endif
