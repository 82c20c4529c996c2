/*
 * upload.c: ggufd's own plain upload, for scripts and CI that have a file
 * and a token and no Hub client:
 *
 *   PUT /api/ggufd/upload/{ns}/{name}/{path...}     bearer: a ggufd upload token
 *       Content-Length: N                           (required)
 *       X-Commit-Message: ...                       (optional)
 *       <the file>
 *     <- 200 {"id","state":"done","commitOid","commitUrl",...}
 *        202 {"id","state":"pending","message","error"}  upstream is down: the
 *            file is journaled and published by the worker when it is back
 *
 * The path and size are checked before a byte is read (the policy's name
 * and size rules), the content once it has landed (GGUF valid and its
 * quant, the model card).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "gwint.h"
#include "log.h"
#include "huberr.h"
#include "store.h"
#include "upload.h"

struct sink {
	struct gateway *gw;
	uint64_t expect; /* Content-Length */
	uint64_t got;
	struct blob_writer *w;
	uint64_t reserved; /* bytes reserved under the store's quota */
	int failed;        /* a GG_E* code, sticky */
	enum repo_type type;
	char repo[GG_MAX_REPO_LEN + 1];
	char path[GG_MAX_REPO_PATH_LEN + 1];
	char by[TOKEN_NAME_MAX + 1];
	char message[512];
};

static void
sink_free(void *p)
{
	struct sink *s = p;
	blob_writer_abort(s->w);
	store_unreserve(s->gw->st, s->reserved);
	free(s);
}

static int
sink_data(struct req *r, const char *data, size_t n)
{
	struct sink *s = r->sink;

	if (s->failed)
		return s->failed;
	if (n > s->expect - s->got)
		s->failed = GG_ETOOBIG;
	else if ((s->failed = blob_writer_write(s->w, data, n)) == GG_OK)
		s->got += n;
	return s->failed;
}

int
upload_begin(struct req *r, enum MHD_Result *res)
{
	struct gateway *gw = r->app->gw;
	const char *msg = http_header(r, "X-Commit-Message");
	char why[700];
	struct sink *s;
	int64_t cl;
	int rc;

	if (!store_valid_path(r->route.path)) {
		*res = http_error(r, MHD_HTTP_BAD_REQUEST, NULL, "Invalid repo or path", NULL);
		return GG_EINVAL;
	}
	if (gateway_repo_allowed(r, gw, r->route.type, r->route.repo, res) != 0)
		return GG_EINVAL;
	if (!token_bounds_allow(r->token_bounds, NULL, r->route.path)) {
		char bmsg[GG_MAX_REPO_PATH_LEN + GG_MAX_TOKEN_NAME + 100];
		snprintf(bmsg, sizeof(bmsg),
			 "Token '%s' may not publish %s (rule: token bounds; see ggufd token ls)",
			 r->token_name, r->route.path);
		gateway_audit(r, gw, "upload", "refused", "token bounds", NULL, NULL, NULL, bmsg);
		*res = http_error(r, MHD_HTTP_FORBIDDEN, "Forbidden", bmsg, NULL);
		return GG_EINVAL;
	}
	cl = gateway_content_length(r);
	if (cl < 0) {
		*res = http_error(r, MHD_HTTP_LENGTH_REQUIRED, NULL, "Content-Length is required",
				  NULL);
		return GG_EINVAL;
	}
	rc = policy_check_path(gateway_policy(gw), r->route.path, (uint64_t)cl, why, sizeof(why));
	if (rc != GG_OK) {
		gateway_audit(r, gw, "upload", "refused", "upload policy", NULL, NULL, NULL, why);
		*res = gateway_policy_refuse(r, rc, why);
		return rc;
	}
	if ((rc = store_reserve(gw->st, (uint64_t)cl)) != GG_OK) {
		*res = rc == GG_ENOSPC ? hub_store_full(r, (uint64_t)cl, NULL)
				       : http_error_from(r, rc, "making room in the store");
		return rc;
	}
	s = xcalloc(1, sizeof(*s));
	s->gw = gw;
	s->reserved = (uint64_t)cl;
	s->expect = (uint64_t)cl;
	s->type = r->route.type;
	memcpy(s->repo, r->route.repo, sizeof(s->repo));
	memcpy(s->path, r->route.path, sizeof(s->path));
	memcpy(s->by, r->token_name, sizeof(s->by));
	snprintf(s->message, sizeof(s->message), "%s", msg ? msg : "");
	if ((rc = store_writer_open(gw->st, cl, &s->w)) != GG_OK) {
		store_unreserve(gw->st, s->reserved);
		free(s);
		*res = rc == GG_ENOSPC ? hub_store_full(r, (uint64_t)cl, NULL)
				       : http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
						    "Cannot stage", NULL);
		return rc;
	}
	http_set_sink(r, s, sink_data, sink_free);
	return GG_OK;
}

enum MHD_Result
upload_end(struct req *r)
{
	struct sink *s = r->sink;
	struct gateway *gw = s->gw;
	struct blob_digest d;
	char why[700], summary[600];
	struct upload_job *job;
	enum MHD_Result res;
	int rc, fresh;

	if (s->failed == GG_ENOSPC || s->failed == GG_EIO)
		return s->failed == GG_ENOSPC ? hub_store_full(r, s->expect, NULL)
					      : http_error_from(r, s->failed, "staging the upload");
	if (s->failed || s->got != s->expect)
		return http_error(r, MHD_HTTP_BAD_REQUEST, "SizeMismatch",
				  "The body does not match its Content-Length", NULL);
	/* Counted as present from now on, not also as being written. */
	store_unreserve(gw->st, s->reserved);
	s->reserved = 0;
	rc = store_writer_finish(gw->st, s->w, NULL, &d, &fresh);
	s->w = NULL;
	if (rc != GG_OK)
		return http_error(r, rc == GG_ECORRUPT ? MHD_HTTP_BAD_REQUEST : 500, "SizeMismatch",
				  "The body does not match its Content-Length", NULL);
	rc = policy_check_blob(gateway_policy(gw), gw->st, s->path, d.sha256, d.size, why,
			       sizeof(why));
	if (rc != GG_OK) {
		gateway_drop_refused(gw, d.sha256, fresh);
		job = xcalloc(1, sizeof(*job));
		journal_job_init(job, 0, s->by, s->type, s->repo, "main", "", "", 1);
		journal_job_add_file(job, s->path, 0, d.sha256, NULL, d.size);
		gateway_audit(r, gw, "upload", "refused", "upload policy", job, NULL, NULL, why);
		journal_job_free(job);
		free(job);
		return gateway_policy_refuse(r, rc, why);
	}
	snprintf(summary, sizeof(summary), "%s",
		 s->message[0] ? s->message : "Upload with the ggufd gateway");
	job = xcalloc(1, sizeof(*job));
	journal_job_init(job, uploadq_new_id(gw), s->by, s->type, s->repo, "main", summary, "", 1);
	journal_job_add_file(job, s->path, store_is_lfs_path(s->path, d.size), d.sha256, d.gitsha1,
			     d.size);
	http_client_addr(r, job->client, sizeof(job->client));
	if (gateway_perm_check(r, gw, job, &res) != GG_OK) {
		journal_job_free(job);
		free(job);
		gateway_drop_refused(gw, d.sha256, fresh);
		return res;
	}
	/* Journaled as publishing: the worker leaves it to this request (a
	 * restart turns it back into pending).  The journal protects the
	 * blob from here on. */
	uploadq_save(gw, job, STORE_JOB_PUBLISHING);
	store_unstage(gw->st, d.sha256);
	return uploadq_publish(r, gw, job, 1);
}
