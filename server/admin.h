/*
 * admin.h: ggufd's own routes for operators and health checks (admin.c).
 */
#ifndef GG_ADMIN_H
#define GG_ADMIN_H

#include "http.h"

/* GET|HEAD /healthz */
enum MHD_Result admin_healthz(struct req *r);
/* GET|HEAD /api/ggufd/repos: the repos in the store and their refs */
enum MHD_Result admin_repos(struct req *r);
/* GET|HEAD /api/ggufd/files?repo=R[&rev&q&offset&limit]: files and blobs */
enum MHD_Result admin_files(struct req *r);
/* GET|HEAD /api/ggufd/activity: fetches in flight, totals */
enum MHD_Result admin_activity(struct req *r);
/* GET|HEAD|POST /api/ggufd/pull: list, or start a pull (JSON body) */
enum MHD_Result admin_pull(struct req *r);
/* GET|HEAD /api/ggufd/pull/{id} */
enum MHD_Result admin_pull_job(struct req *r);
/* GET|HEAD /api/ggufd/audit[?since=UNIX&token=NAME]: the gateway's audit
 * log (audit.h), oldest first */
enum MHD_Result admin_audit(struct req *r);
/* GET|HEAD|POST /api/ggufd/tokens: the gateway tokens, or create one
 * (JSON body {"name","scope","repos"?,"paths"?}; the token in the 201
 * answer only) */
enum MHD_Result admin_tokens(struct req *r);
/* DELETE /api/ggufd/tokens/{name}: revoke */
enum MHD_Result admin_token(struct req *r);

#endif
