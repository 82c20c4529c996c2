/*
 * gwint.h: what the upload gateway's files share, internal to them:
 *
 *   gateway.c  the Hub's commit protocol (preupload, commit, repo create,
 *              whoami, validate-yaml, xet) and the shared helpers below
 *   lfs.c      the LFS batch API and the signed transfer hrefs it hands out
 *   upload.c   ggufd's plain PUT /api/ggufd/upload/...
 *   uploadq.c  the upload jobs: journal, publishing, the retry worker,
 *              recovery at start, the journal routes
 *
 * Nothing outside those four files includes this header.
 */
#ifndef GG_GWINT_H
#define GG_GWINT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "gateway.h"
#include "http.h"
#include "journal.h"

#define GW_LFS_JSON "application/vnd.git-lfs+json"

struct gateway {
	struct store *st;
	struct upstream *up; /* NULL: uploads are refused (no upstream, or offline) */
	/* The settings; its policy is emptied: the rules in force are policy. */
	struct gateway_config cfg;
	/*
	 * The upload rules in force, a policy_dup copy.  SIGHUP swaps it whole
	 * (gateway_set_policy) while requests read it, so readers take it with
	 * gateway_policy() and never free it; a replaced one is kept in
	 * retired until gateway_free, as a running request may still hold it.
	 */
	struct policy *_Atomic policy;
	struct policy **retired; /* written by gateway_set_policy's thread only */
	size_t nretired;
	pthread_t worker;
	int worker_started;
	pthread_mutex_t mu; /* next_id, and the worker's sleep (cv) */
	pthread_cond_t cv;
	_Atomic int stopping; /* read by the worker between jobs without mu */
	uint64_t next_id;
};

/* The upload rules in force (valid until gateway_free). */
static inline const struct policy *
gateway_policy(struct gateway *gw)
{
	return atomic_load_explicit(&gw->policy, memory_order_acquire);
}

/* --- gateway.c ------------------------------------------------------------- */

/* 0 if uploads to (type, repo) may go upstream, or <0 after a 503/403. */
int gateway_repo_allowed(struct req *r, struct gateway *gw, enum repo_type type, const char *repo,
			 enum MHD_Result *res);
/* A policy refusal (policy.h codes): 413 or 422, "PolicyViolation", why. */
enum MHD_Result gateway_policy_refuse(struct req *r, int rc, const char *why);
/* Queues o as JSON (Content-Type ctype, or application/json); takes o. */
enum MHD_Result gateway_json_reply(struct req *r, unsigned status, cJSON *o, const char *ctype);
/* The request body's length from Content-Length; -1 if absent or bad. */
int64_t gateway_content_length(struct req *r);
/*
 * The Hub answers with URLs on itself: a commit's commitUrl and
 * pullRequestUrl, a created repo's url.  Clients hold them against their
 * own endpoint (huggingface_hub parses them with HF_ENDPOINT and raises
 * ValueError for another host), so they are handed on on ggufd's public
 * base: the upstream base (or any scheme://host) is replaced, the path
 * kept.  gateway_our_url returns a malloc'ed string; gateway_our_url_in
 * replaces o's string member key, if it has one.
 */
char *gateway_our_url(struct req *r, struct gateway *gw, const char *url);
void gateway_our_url_in(struct req *r, struct gateway *gw, cJSON *o, const char *key);
/*
 * The gateway's permissions over a parsed job (deletions need admin, ...):
 * 0, or a GG_E* code after answering r (*res) with the refusal.  Nothing
 * has gone upstream; the caller lets go of what it staged.
 */
int gateway_perm_check(struct req *r, struct gateway *gw, struct upload_job *job,
		       enum MHD_Result *res);
/*
 * The audit trail (audit.h): an act of r's caller (r NULL: the worker's,
 * by the job's sender).  Repo and rev are the job's, else the route's;
 * rule, job, name, commit and message may be NULL.
 */
void gateway_audit(struct req *r, struct gateway *gw, const char *act, const char *decision,
		   const char *rule, const struct upload_job *job, const char *name,
		   const char *commit, const char *message);
/* The act a request of this route is, for the audit: commit, upload, ... */
const char *gateway_act_name(struct req *r);
/* A refused upload lets go of the blob it staged (store.h: staging). */
void gateway_drop_refused(struct gateway *gw, const char *sha256, int fresh);

/*
 * Asks upstream for job->rev's commit (into commit) and the paths-info of
 * paths (a JSON array of path strings) at it.  GG_OK with *ans, upstream's
 * array (free with cJSON_Delete); GG_ENOENT when upstream answers that the
 * revision does not exist; GG_EUNAVAIL when it could not be asked or gave
 * no usable answer.
 */
int gateway_upstream_paths(struct gateway *gw, const struct upload_job *job, const cJSON *paths,
			   char commit[GG_SHA1_HEX + 1], cJSON **ans);

/* --- uploadq.c ------------------------------------------------------------- */

/* Recovery of the jobs a stop left publishing, then the retry worker
 * (when gw->up is set).  uploadq_stop ends the worker. */
void uploadq_start(struct gateway *gw);
void uploadq_stop(struct gateway *gw);
/* A new job id (after every id in the journal). */
uint64_t uploadq_new_id(struct gateway *gw);
/* Journals job in state; logs and returns the store's code on failure. */
int uploadq_save(struct gateway *gw, struct upload_job *job, unsigned state);
/* Publishes job (already journaled as publishing, which hands it to this
 * request: the worker leaves it alone) off the MHD thread, then answers
 * the Hub's commit answer (or, plain: ggufd's job answer).  Takes job. */
enum MHD_Result uploadq_publish(struct req *r, struct gateway *gw, struct upload_job *job,
				int plain);

#endif
