/*
 * auth.h: who may call a route (the scope column of the route table).
 *
 * The HTTP core calls auth_admit() once per request, after the method
 * check and before the body; handlers never check tokens themselves.
 * The Hub's clients send a ggufd token as "Authorization: Bearer hf_...";
 * it is looked up by its hash and compared in constant time (token.c).
 */
#ifndef GG_AUTH_H
#define GG_AUTH_H

#include "http.h"

/*
 * Applies r->entry's scope and needs (http.h) to r.  Returns 0 with
 * r->scope and r->token_name set when a token was checked, or a negative
 * GG_E* code after queueing the answer into *res:
 *   401 no token or an unknown one (the Hub's "Invalid credentials in
 *       Authorization header", which Python shows as is)
 *   403 a token of too small a scope; an admin route from a non-loopback
 *       client while no admin token exists
 *   404 NEED_GATEWAY without a gateway; 409 NEED_PULL without an upstream
 */
int auth_admit(struct req *r, enum MHD_Result *res);

/* 1 if the request's token bounds (token.h; none: every repo) let it act
 * on the route's repo (a route without a repo: 1).  A bounded read token
 * opens only its repos, private ones and under --require-token-for-read. */
int auth_bounds_allow_repo(const struct req *r);
/* The same for any repo (a listing's). */
int auth_bounds_allow(const struct req *r, enum repo_type type, const char *repo);
/* 1 if r is the operator's: it carried an admin token, or, while no admin
 * token exists, it came from a loopback address (SCOPE_ADMIN's rule). */
int auth_operator(struct req *r);

#endif
