/*
 * apimirror.h: the metadata routes answered from upstream (apimirror.c),
 * used by the handlers of api.c before they fall back to the index.
 */
#ifndef GG_APIMIRROR_H
#define GG_APIMIRROR_H

#include "http.h"

/*
 * The mirror's answer to a metadata route, when this ggufd mirrors an
 * upstream (apimirror.c): returns 1 after queueing the answer into *res
 * (upstream's, fresh or cached; or its error), 0 when the local index is
 * to answer (no upstream, or a repo ggufd holds itself).
 */
int api_mirror(struct req *r, enum MHD_Result *res);

#endif
