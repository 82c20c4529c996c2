/*
 * uploadq.c: upload jobs, from the journal to upstream and back.
 *
 * Every upload is a job (storage/journal.h), journaled before it goes
 * upstream:
 *
 *   request accepted ──> journal: publishing ──> publish_run (held token)
 *                                                  │ ok        │ upstream down
 *                                                  v           v
 *                        journal: done, files   journal: pending (plain PUT:
 *                        recorded, ref moved    202, retried by the worker
 *                                               with backoff) or failed (a
 *                                               Hub client retries itself)
 *
 * A job found publishing at start was cut by a stop or a crash: it goes
 * back to pending (or failed, if a client was waiting), and its next
 * attempt first asks upstream whether the files already arrived, so a job
 * is published exactly once.  The journal routes show the jobs:
 *
 *   GET /api/ggufd/uploads        every job
 *   GET /api/ggufd/uploads/{id}   one job
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "app.h"
#include "gwint.h"
#include "huberr.h"
#include "log.h"
#include "publish.h"
#include "stats.h"
#include "store.h"
#include "uploadq.h"

uint64_t
uploadq_new_id(struct gateway *gw)
{
	uint64_t id;
	pthread_mutex_lock(&gw->mu);
	id = ++gw->next_id;
	pthread_mutex_unlock(&gw->mu);
	return id;
}

int
uploadq_save(struct gateway *gw, struct upload_job *job, unsigned state)
{
	int r;

	job->state = state;
	if ((r = journal_put(gw->st, job)) != GG_OK)
		log_warnx("journaling upload job %llu (%s): %s", (unsigned long long)job->id,
			  journal_state_name(state), gg_strerror(r));
	return r;
}

/* --- publishing ---------------------------------------------------------------- */

/*
 * A retried job may have reached upstream before ggufd stopped: if every
 * file of the job is already at the revision's head with the same
 * content, the job is done (exactly once), with that head as its commit.
 */
static int
already_published(struct gateway *gw, const struct upload_job *job, char commit[GG_SHA1_HEX + 1])
{
	cJSON *paths = cJSON_CreateArray(), *ans = NULL, *e;
	int ok = 0;

	for (size_t i = 0; i < job->nfiles; i++) {
		if (job->files[i].deleted) {
			cJSON_Delete(paths);
			return 0; /* deletions cannot be checked this way: publish */
		}
		cJSON_AddItemToArray(paths, cJSON_CreateString(job->files[i].path));
	}
	if (gateway_upstream_paths(gw, job, paths, commit, &ans) != GG_OK ||
	    (size_t)cJSON_GetArraySize(ans) != job->nfiles)
		goto done;
	ok = 1;
	for (size_t i = 0; i < job->nfiles; i++) {
		const struct upload_file *f = &job->files[i];
		cJSON *match = NULL, *p, *want;
		cJSON_ArrayForEach (e, ans) {
			p = cJSON_GetObjectItemCaseSensitive(e, "path");
			if (cJSON_IsString(p) && strcmp(p->valuestring, f->path) == 0)
				match = e;
		}
		if (match == NULL) {
			ok = 0;
			continue;
		}
		want = f->lfs ? cJSON_GetObjectItemCaseSensitive(
					cJSON_GetObjectItemCaseSensitive(match, "lfs"), "oid")
			      : cJSON_GetObjectItemCaseSensitive(match, "oid");
		ok &= cJSON_IsString(want) &&
		      strcmp(want->valuestring, f->lfs ? f->sha256 : f->gitsha1) == 0;
	}
done:
	cJSON_Delete(paths);
	cJSON_Delete(ans);
	return ok;
}

/*
 * The commit a job's commit is built on, as ggufd knows it: the client's
 * parentCommit if it gave one (upstream refuses the commit otherwise),
 * else the revision's commit in the index now.  "" when unknown.
 */
static void
job_base(struct gateway *gw, const struct upload_job *job, char base[GG_SHA1_HEX + 1])
{
	struct store_view v;
	int known;

	base[0] = '\0';
	if (store_view_begin(gw->st, &v) == GG_OK &&
	    store_resolve_rev(&v, job->type, job->repo, job->parent[0] ? job->parent : job->rev,
			      base, &known, NULL) != GG_OK)
		base[0] = '\0';
	store_view_end(&v);
}

/*
 * Records the published commit's whole tree (the base's files with the
 * job's files added and deleted), so every file of it that the store
 * holds is served with upstream down.
 */
static void
record_published(struct gateway *gw, const struct upload_job *job, const char *base,
		 const char *commit)
{
	struct store_change *ch = xcalloc(job->nfiles ? job->nfiles : 1, sizeof(*ch));
	int r;

	for (size_t i = 0; i < job->nfiles; i++) {
		const struct upload_file *f = &job->files[i];
		struct store_change *c = &ch[i];
		c->path = f->path;
		if (f->deleted) {
			c->kind = f->folder ? STORE_CHANGE_DELETE_FOLDER : STORE_CHANGE_DELETE_FILE;
			continue;
		}
		c->kind = STORE_CHANGE_ADD;
		c->lfs = f->lfs;
		c->sha256 = f->sha256;
		c->gitsha1 = f->lfs ? NULL : f->gitsha1;
		c->size = f->size;
	}
	r = store_record_child_commit(gw->st, job->type, job->repo, base, commit, job->summary, ch,
				      job->nfiles);
	if (r != GG_OK)
		log_warnx("recording commit %.12s of %s%s (on %.12s) failed: %s", commit,
			  route_type_prefix(job->type), job->repo, base[0] ? base : "-",
			  gg_strerror(r));
	free(ch);
}

/*
 * A pull request upstream opened for a commit is the ref refs/pr/N, N from
 * its pullRequestUrl (".../discussions/N"); recorded so that the PR's
 * files are served with upstream down too.
 */
static void
record_pr_ref(struct gateway *gw, const struct upload_job *job, const char *pr_url,
	      const char *commit)
{
	const char *d = strstr(pr_url, "/discussions/");
	char ref[32];
	size_t n;

	if (d == NULL)
		return;
	d += strlen("/discussions/");
	n = strspn(d, "0123456789");
	if (n == 0 || n > 9 || d[n] != '\0' || d[0] == '0')
		return;
	snprintf(ref, sizeof(ref), "refs/pr/%s", d);
	store_set_ref(gw->st, job->type, job->repo, ref, commit);
}

/*
 * Publishes a journaled job upstream and records the result, locally and
 * in the journal.  Returns 0, GG_EUNAVAIL (transient: retry later),
 * GG_EINVAL (refused).
 */
static int
job_publish(struct gateway *gw, struct upload_job *job, struct publish_result *res)
{
	struct publish_req req;
	unsigned attempts = job->attempts;
	char base[GG_SHA1_HEX + 1];
	int r;

	memset(&req, 0, sizeof(req));
	memset(res, 0, sizeof(*res));
	req.type = job->type;
	snprintf(req.repo, sizeof(req.repo), "%s", job->repo);
	snprintf(req.rev, sizeof(req.rev), "%s", job->rev);
	snprintf(req.summary, sizeof(req.summary), "%s", job->summary);
	snprintf(req.description, sizeof(req.description), "%s", job->description);
	snprintf(req.parent, sizeof(req.parent), "%s", job->parent);
	req.create_pr = job->create_pr;
	req.n = job->nfiles;
	req.files = xcalloc(req.n ? req.n : 1, sizeof(*req.files));
	for (size_t i = 0; i < job->nfiles; i++) {
		const struct upload_file *f = &job->files[i];
		struct publish_file *pf = &req.files[i];
		snprintf(pf->path, sizeof(pf->path), "%s", f->path);
		pf->deleted = f->deleted;
		pf->folder = f->folder;
		pf->lfs = f->lfs;
		snprintf(pf->sha256, sizeof(pf->sha256), "%s", f->sha256);
		pf->size = f->size;
	}
	job->attempts = attempts + 1;
	uploadq_save(gw, job, STORE_JOB_PUBLISHING);
	job_base(gw, job, base);
	if (attempts > 0 && already_published(gw, job, res->commit)) {
		log_info("upload job %llu was already published upstream (%.12s)",
			 (unsigned long long)job->id, res->commit);
		r = GG_OK;
	} else {
		r = publish_run(gw->up, gw->st, &req, res);
	}
	if (r == GG_OK) {
		/* Serve the new commit at once, all of it that the store holds. */
		record_published(gw, job, base, res->commit);
		if (!req.create_pr)
			store_set_ref(gw->st, job->type, job->repo, job->rev, res->commit);
		else
			record_pr_ref(gw, job, res->pr_url, res->commit);
		/* Upstream answers about the repo cached until now are outdated. */
		store_note_change(gw->st, job->type, job->repo);
		snprintf(job->commit, sizeof(job->commit), "%s", res->commit);
		snprintf(job->commit_url, sizeof(job->commit_url), "%s", res->commit_url);
		job->error[0] = '\0';
		uploadq_save(gw, job, STORE_JOB_DONE);
	} else {
		uint64_t wait = 1ull << (attempts < 6 ? attempts + 1 : 6); /* 2 s .. 64 s */
		snprintf(job->error, sizeof(job->error), "%s", res->error);
		job->next_at = now_unix() + wait;
		uploadq_save(gw, job,
			     r == GG_EUNAVAIL && job->retry ? STORE_JOB_PENDING : STORE_JOB_FAILED);
	}
	stats_upload(r == GG_OK         ? STATS_UPLOAD_PUBLISHED
		     : r == GG_EUNAVAIL ? STATS_UPLOAD_PENDING
					: STATS_UPLOAD_REFUSED);
	/* The audit trail: who, what, where, result. */
	gateway_audit(NULL, gw, job->retry ? "upload" : "commit",
		      r == GG_OK                       ? "published"
		      : r == GG_EUNAVAIL && job->retry ? "pending"
						       : "failed",
		      NULL, job, NULL, r == GG_OK ? res->commit : NULL,
		      r == GG_OK ? NULL : res->error);
	for (size_t i = 0; i < job->nfiles; i++) {
		const struct upload_file *f = &job->files[i];
		log_info("audit: upload by=%s repo=%s%s path=%s sha256=%s size=%llu result=%s "
			 "commit=%s job=%llu",
			 job->by, route_type_prefix(job->type), job->repo, f->path,
			 f->deleted ? "(deleted)" : f->sha256, (unsigned long long)f->size,
			 r == GG_OK         ? "published"
			 : r == GG_EUNAVAIL ? "upstream-unavailable"
					    : "refused",
			 r == GG_OK ? res->commit : "-", (unsigned long long)job->id);
	}
	free(req.files);
	return r;
}

/* --- the worker: journaled jobs waiting for upstream ------------------------------ */

struct due {
	uint64_t ids[GG_GATEWAY_BATCH];
	size_t n;
};

/* Takes the first GG_GATEWAY_BATCH pending jobs; the rest wait for the
 * next pass, a second later (none is dropped: they stay journaled). */
static int
due_cb(void *ctx, uint64_t id, const struct index_upload *rec)
{
	struct due *d = ctx;
	if (rec->state != STORE_JOB_PENDING)
		return 0;
	d->ids[d->n++] = id;
	return d->n == GG_GATEWAY_BATCH;
}

static void *
worker(void *arg)
{
	struct gateway *gw = arg;

	pthread_mutex_lock(&gw->mu);
	while (!atomic_load(&gw->stopping)) {
		struct timespec ts;
		struct due d;

		pthread_mutex_unlock(&gw->mu);
		memset(&d, 0, sizeof(d));
		store_upload_foreach(gw->st, due_cb, &d);
		for (size_t i = 0; i < d.n && !atomic_load(&gw->stopping); i++) {
			struct upload_job job;
			struct publish_result res;
			if (journal_get(gw->st, d.ids[i], &job) == GG_OK &&
			    job.state == STORE_JOB_PENDING && job.retry &&
			    job.next_at <= now_unix()) {
				int r = job_publish(gw, &job, &res);
				log_info("upload job %llu: %s%s", (unsigned long long)d.ids[i],
					 r == GG_OK ? "published " : "not yet published: ",
					 r == GG_OK ? res.commit : res.error);
			}
			journal_job_free(&job);
		}
		pthread_mutex_lock(&gw->mu);
		if (atomic_load(&gw->stopping))
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&gw->cv, &gw->mu, &ts);
	}
	pthread_mutex_unlock(&gw->mu);
	return NULL;
}

static void
wake_worker(struct gateway *gw)
{
	pthread_mutex_lock(&gw->mu);
	pthread_cond_signal(&gw->cv);
	pthread_mutex_unlock(&gw->mu);
}

/* Every job caught publishing, however many (a growable list). */
struct recover {
	uint64_t *ids;
	size_t n, cap;
	uint64_t last;
};

static int
recover_cb(void *ctx, uint64_t id, const struct index_upload *rec)
{
	struct recover *rc = ctx;
	rc->last = id;
	if (rec->state != STORE_JOB_PUBLISHING)
		return 0;
	if (rc->n == rc->cap) {
		rc->cap = rc->cap ? 2 * rc->cap : 64;
		rc->ids = xrealloc(rc->ids, rc->cap * sizeof(*rc->ids));
	}
	rc->ids[rc->n++] = id;
	return 0;
}

void
uploadq_start(struct gateway *gw)
{
	struct recover rc;
	int r;

	/* Jobs caught mid-publish by a stop or crash go back to the queue
	 * (with the exactly-once check), or fail if a client was waiting. */
	memset(&rc, 0, sizeof(rc));
	if ((r = store_upload_foreach(gw->st, recover_cb, &rc)) != GG_OK)
		log_warnx("reading the upload journal: %s", gg_strerror(r));
	gw->next_id = rc.last;
	for (size_t i = 0; i < rc.n; i++) {
		struct upload_job job;
		if ((r = journal_get(gw->st, rc.ids[i], &job)) != GG_OK) {
			log_warnx("upload job %llu cannot be read (%s): left as it is",
				  (unsigned long long)rc.ids[i], gg_strerror(r));
			continue;
		}
		uploadq_save(gw, &job, job.retry ? STORE_JOB_PENDING : STORE_JOB_FAILED);
		journal_job_free(&job);
	}
	free(rc.ids);
	if (gw->up != NULL && pthread_create(&gw->worker, NULL, worker, gw) == 0)
		gw->worker_started = 1;
}

void
uploadq_stop(struct gateway *gw)
{
	pthread_mutex_lock(&gw->mu);
	atomic_store(&gw->stopping, 1);
	pthread_cond_broadcast(&gw->cv);
	pthread_mutex_unlock(&gw->mu);
	if (gw->worker_started)
		pthread_join(gw->worker, NULL);
	gw->worker_started = 0;
}

/* --- publishing from a request (off the MHD thread) -------------------------------- */

struct pub_ctx {
	struct gateway *gw;
	struct upload_job *job;
	int plain;
	int rc;
	struct publish_result res;
};

static void
pub_ctx_free(void *p)
{
	struct pub_ctx *c = p;
	journal_job_free(c->job);
	free(c->job);
	free(c);
}

static void
pub_work(struct req *r)
{
	struct pub_ctx *c = r->async_ctx;
	c->rc = job_publish(c->gw, c->job, &c->res);
}

static enum MHD_Result
pub_finish(struct req *r)
{
	struct pub_ctx *c = r->async_ctx;
	uint64_t id = c->job->id;
	cJSON *o;

	if (c->rc == GG_OK) {
		o = cJSON_CreateObject();
		if (c->plain) {
			cJSON_AddNumberToObject(o, "id", (double)id);
			cJSON_AddStringToObject(o, "state", "done");
		} else {
			cJSON_AddTrueToObject(o, "success");
		}
		cJSON_AddStringToObject(o, "commitOid", c->res.commit);
		cJSON_AddStringToObject(o, "commitUrl", c->res.commit_url);
		cJSON_AddStringToObject(o, "hookOutput", "");
		if (c->res.pr_url[0] != '\0')
			cJSON_AddStringToObject(o, "pullRequestUrl", c->res.pr_url);
		gateway_our_url_in(r, c->gw, o, "commitUrl");
		gateway_our_url_in(r, c->gw, o, "pullRequestUrl");
		return gateway_json_reply(r, MHD_HTTP_OK, o, NULL);
	}
	if (c->rc == GG_EUNAVAIL && c->plain) {
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", (double)id);
		cJSON_AddStringToObject(o, "state", "pending");
		cJSON_AddStringToObject(
			o, "message",
			"Upstream is unavailable: the file is stored and will be "
			"published when upstream is back (GET /api/ggufd/uploads/ID)");
		cJSON_AddStringToObject(o, "error", c->res.error);
		wake_worker(c->gw);
		return gateway_json_reply(r, MHD_HTTP_ACCEPTED, o, NULL);
	}
	if (c->rc == GG_EUNAVAIL) {
		char msg[700];
		snprintf(msg, sizeof(msg),
			 "Upstream is unavailable (%s); your files are staged here, so retrying "
			 "the upload later will not send them again",
			 c->res.error);
		return hub_upstream_down(r, msg);
	}
	/* Refused upstream: conflicts and validation keep their status. */
	return hub_relay_upstream(r, HUB_RELAY_WRITE, c->res.status, NULL, c->res.error, NULL, 0);
}

enum MHD_Result
uploadq_publish(struct req *r, struct gateway *gw, struct upload_job *job, int plain)
{
	struct pub_ctx *c = xcalloc(1, sizeof(*c));

	c->gw = gw;
	c->job = job;
	c->plain = plain;
	return http_run_async(r, pub_work, pub_finish, c, pub_ctx_free);
}

/* --- GET /api/ggufd/uploads[/{id}] -------------------------------------------------- */

/* A job's journal text as the API shows it: decoded and encoded again, so
 * that the record's state is the one shown, with its commitUrl on us. */
static char *
job_text(struct req *r, uint64_t id, const struct index_upload *rec)
{
	struct upload_job job;
	char *txt;

	if (journal_decode(rec->data, rec->len, &job) != GG_OK) {
		log_warnx("upload job %llu cannot be read: not shown", (unsigned long long)id);
		return NULL;
	}
	job.state = rec->state;
	if (job.commit_url[0] != '\0') {
		char *u = gateway_our_url(r, r->app->gw, job.commit_url);
		if (snprintf_checked(job.commit_url, sizeof(job.commit_url), "%s", u) != GG_OK)
			job.commit_url[0] = '\0';
		free(u);
	}
	txt = journal_encode(&job);
	journal_job_free(&job);
	return txt;
}

struct list_ctx {
	struct req *r;
	struct buf b;
};

static int
list_cb(void *ctx, uint64_t id, const struct index_upload *rec)
{
	struct list_ctx *l = ctx;
	struct buf *b = &l->b;
	char *txt = job_text(l->r, id, rec);

	if (txt == NULL)
		return 0;
	if ((b->len > 1 && buf_append(b, ",", 1) != GG_OK) ||
	    buf_append(b, txt, strlen(txt)) != GG_OK) {
		free(txt);
		return GG_ETOOBIG;
	}
	free(txt);
	return 0;
}

enum MHD_Result
uploadq_list(struct req *r)
{
	struct list_ctx l = { r, { 0 } };
	size_t len;
	int rc;

	buf_init(&l.b, GG_MAX_UPSTREAM_JSON);
	rc = buf_append(&l.b, "[", 1);
	if (rc == GG_OK)
		rc = store_upload_foreach(r->app->st, list_cb, &l);
	if (rc == GG_OK)
		rc = buf_append(&l.b, "]", 1);
	if (rc != GG_OK) {
		buf_free(&l.b);
		return http_error_from(r, rc, "reading the upload journal");
	}
	return http_json(r, MHD_HTTP_OK, buf_steal(&l.b, &len));
}

enum MHD_Result
uploadq_get(struct req *r)
{
	struct index_upload u;
	char *txt;
	int rc = store_upload_get(r->app->st, r->route.id, &u);

	if (rc == GG_ENOENT)
		return http_error(r, MHD_HTTP_NOT_FOUND, NULL, "No such upload job", NULL);
	if (rc != GG_OK)
		return http_error_from(r, rc, "reading the upload journal");
	txt = job_text(r, r->route.id, &u);
	free(u.data);
	if (txt == NULL)
		return http_error_from(r, GG_ECORRUPT, "reading the upload job");
	return http_json(r, MHD_HTTP_OK, txt);
}
