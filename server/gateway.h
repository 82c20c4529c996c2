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

#include "http.h"
#include "policy.h"
#include "store.h"
#include "upstream.h"

struct gateway_config {
	struct policy policy;
	uint64_t multipart_threshold; /* LFS objects above this go multipart */
	uint64_t chunk_size;          /* multipart part size */
	unsigned href_ttl;            /* seconds a signed upload href stays valid */
	const char *public_url;       /* base of upload hrefs, or NULL: from Host */
};

struct gateway;

/* up may be NULL (uploads are then refused).  Starts the journal worker. */
struct gateway *gateway_new(struct store *st, struct upstream *up,
			    const struct gateway_config *cfg);
/* Stops the worker (pending jobs stay journaled), frees.  Accepts NULL. */
void gateway_free(struct gateway *gw);

/*
 * Puts a copy of p in force as the upload rules (SIGHUP).  Requests that
 * already took the old rules finish with them; the next ones see p.
 * Returns 1 if the rules changed, 0 if p equals the rules in force.  Call
 * from one thread (serve's main thread); p is not kept.
 */
int gateway_set_policy(struct gateway *gw, const struct policy *p);

/*
 * Route handlers of the Hub's commit protocol (the route table gives their
 * methods, scope and body):
 */
enum MHD_Result gateway_preupload(struct req *r);     /* POST .../preupload/{rev} */
enum MHD_Result gateway_commit(struct req *r);        /* POST .../commit/{rev} */
enum MHD_Result gateway_repo_create(struct req *r);   /* POST /api/repos/create */
enum MHD_Result gateway_whoami(struct req *r);        /* GET /api/whoami-v2 */
enum MHD_Result gateway_validate_yaml(struct req *r); /* POST /api/validate-yaml */
enum MHD_Result gateway_xet(struct req *r);           /* .../xet-*-token/...: 501 */
/* .../branch/{branch} and .../tag/{rev|tag}: POST creates the ref
 * upstream, DELETE deletes it (admin token) */
enum MHD_Result gateway_ref(struct req *r);
/* (The LFS batch API: lfs.h; ggufd's plain PUT: upload.h; the journal's
 * routes: uploadq.h.) */

#endif
