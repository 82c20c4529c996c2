/*
 * gateway.h: the upload gateway (see gateway.c for the wire).
 *
 * LAN users and CI upload with their own ggufd tokens, through the Hub's
 * upload protocol (preupload, LFS batch, bearer-less signed PUT hrefs,
 * NDJSON commit) or a plain PUT; ggufd checks policy, stages the bytes in
 * its store, publishes upstream with the token only it holds, and then
 * serves the new files from its store under the new commit.  Every upload
 * is journaled in the index; a plain PUT made while upstream is down is
 * answered 202 and published by a background worker, across restarts.
 */
#ifndef GG_GATEWAY_H
#define GG_GATEWAY_H

#include <stdint.h>

#include "policy.h"
#include "store.h"
#include "upstream.h"

struct gateway_config {
	struct policy policy;
	uint64_t multipart_threshold; /* LFS objects above this go multipart */
	uint64_t chunk_size;          /* multipart part size */
	unsigned href_ttl;            /* seconds a signed upload href stays valid */
	int require_read_token;       /* downloads need a read token too */
	const char *public_url;       /* base of upload hrefs, or NULL: from Host */
};

struct gateway;

/* up may be NULL (uploads are then refused).  Starts the journal worker. */
struct gateway *gateway_new(struct store *st, struct upstream *up, const struct gateway_config *cfg);
/* Stops the worker (pending jobs stay journaled), frees.  Accepts NULL. */
void gateway_free(struct gateway *gw);

/* For the read routes: 1 if a read token is required and missing/invalid
 * (the caller answers 401). */
int gateway_read_denied(struct gateway *gw, const char *bearer);

#endif
