/*
 * apimirror.h: the metadata routes answered from upstream (apimirror.c),
 * used by the handlers of api.c before they fall back to the index.
 */
#ifndef GG_APIMIRROR_H
#define GG_APIMIRROR_H

#include "http.h"
#include "upstream.h"

/*
 * The mirror's answer to a metadata route, when this ggufd mirrors an
 * upstream (apimirror.c): returns 1 after queueing the answer into *res
 * (upstream's, fresh or cached; or its error), 0 when the local index is
 * to answer (no upstream, or a repo ggufd holds itself).
 */
int api_mirror(struct req *r, enum MHD_Result *res);

/*
 * Upstream's JSON answer to GET target (an "/api/..." path and query
 * about r's repo), through the same cache and freshness rules as
 * api_mirror: pinned (an answer about a 40-hex commit) is never asked
 * again; whole joins a tree listing's pages.  Returns
 *   0            *json: the JSON text, NUL-terminated (caller frees)
 *   GG_ENOENT    upstream answered an error status: see *ur (status,
 *                error_code, error_message)
 *   GG_EUNAVAIL  upstream cannot be asked (offline, unreachable, or it
 *                rate-limits us: ur->status 429) and nothing is cached
 *   GG_EFORMAT   upstream's answer is not JSON; other GG_E* codes
 */
int api_mirror_get(struct req *r, const char *target, int pinned, int whole, char **json,
		   struct upstream_resp *ur);

#endif
