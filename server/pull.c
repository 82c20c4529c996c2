/*
 * pull.c: prefetch of a repo revision into the store (see pull.h), and
 * the in-memory job table behind POST /api/ggufd/pull.
 */
#include "config.h"

#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "blob.h"
#include "json.h"
#include "log.h"
#include "pull.h"
#include "route.h"
#include "util.h"

struct pull_file {
	char *path;
	char *oid;    /* git blob sha1 (of the pointer, for LFS files) */
	char *sha256; /* LFS files only */
	uint64_t size;
};

struct pull_list {
	struct pull_file *v;
	size_t n, cap;
	uint64_t bytes;
};

static int
pull_matches(const char *path, char *const *globs, int nglobs)
{
	if (nglobs == 0)
		return 1;
	for (int i = 0; i < nglobs; i++) {
		const char *base = strrchr(path, '/');
		if (fnmatch(globs[i], path, 0) == 0 ||
		    (base && fnmatch(globs[i], base + 1, 0) == 0))
			return 1;
	}
	return 0;
}

/* Appends the file entries of one tree page (a JSON array). */
static void
list_add(struct pull_list *l, const char *path, const char *oid, const char *sha256, uint64_t size)
{
	struct pull_file *f;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	f = &l->v[l->n++];
	f->path = xstrdup(path);
	f->oid = xstrdup(oid);
	f->sha256 = sha256 ? xstrdup(sha256) : NULL;
	f->size = size;
	l->bytes += size;
}

/* Appends the file entries of one tree page (a JSON array): those the
 * globs take to l, the other LFS files to rest (recorded, not fetched). */
static int
pull_collect(const char *json, size_t len, struct pull_list *l, struct pull_list *rest,
	     char *const *globs, int nglobs)
{
	cJSON *arr = cJSON_ParseWithLength(json, len), *e;
	if (!cJSON_IsArray(arr)) {
		cJSON_Delete(arr);
		return GG_EFORMAT;
	}
	cJSON_ArrayForEach (e, arr) {
		cJSON *type = cJSON_GetObjectItemCaseSensitive(e, "type");
		cJSON *path = cJSON_GetObjectItemCaseSensitive(e, "path");
		cJSON *oid = cJSON_GetObjectItemCaseSensitive(e, "oid");
		cJSON *lfs = cJSON_GetObjectItemCaseSensitive(e, "lfs");
		cJSON *loid = lfs ? cJSON_GetObjectItemCaseSensitive(lfs, "oid") : NULL;

		if (!cJSON_IsString(type) || strcmp(type->valuestring, "file") != 0)
			continue;
		uint64_t nbytes = 0;

		if (!cJSON_IsString(path) || !cJSON_IsString(oid) ||
		    json_get_u64(e, "size", JSON_MAX_EXACT_INT, &nbytes) != GG_OK ||
		    !store_valid_path(path->valuestring) ||
		    strlen(oid->valuestring) != GG_SHA1_HEX ||
		    (lfs != NULL &&
		     (!cJSON_IsString(loid) || strlen(loid->valuestring) != GG_SHA256_HEX ||
		      !is_lower_hex(loid->valuestring, GG_SHA256_HEX)))) {
			cJSON_Delete(arr);
			return GG_EFORMAT;
		}
		if (!pull_matches(path->valuestring, globs, nglobs)) {
			if (lfs != NULL)
				list_add(rest, path->valuestring, oid->valuestring,
					 loid->valuestring, nbytes);
			continue;
		}
		list_add(l, path->valuestring, oid->valuestring, lfs ? loid->valuestring : NULL,
			 nbytes);
	}
	cJSON_Delete(arr);
	return GG_OK;
}

static void
free_list(struct pull_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].oid);
		free(l->v[i].sha256);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
list_files(struct upstream *up, const struct pull_req *req, struct pull_report *rep,
	   struct pull_list *list, struct pull_list *rest)
{
	struct upstream_resp ur;
	struct buf body;
	char *url, *qrev = upstream_quote(req->rev, 0);
	int r = GG_OK;

	buf_init(&body, GG_MAX_UPSTREAM_JSON);
	url = xasprintf("/api/%s/%s/revision/%s", route_type_plural(req->type), req->repo, qrev);
	free(qrev);
	if (upstream_api(up, "GET", url, NULL, 0, NULL, &body, &ur) != GG_OK || ur.status != 200) {
		if (ur.status == 429) {
			snprintf(rep->error, sizeof(rep->error),
				 "%s@%s: upstream rate-limited us: retry after %llu s", req->repo,
				 req->rev, (unsigned long long)ur.retry_after);
			r = GG_EUNAVAIL;
			goto done;
		}
		snprintf(rep->error, sizeof(rep->error), "%s@%s: %s", req->repo, req->rev,
			 ur.status ? (ur.error_message[0] ? ur.error_message : "upstream refused")
				   : "upstream unreachable");
		r = ur.status ? GG_ENOENT : GG_EUNAVAIL;
		goto done;
	}
	{
		cJSON *info = cJSON_ParseWithLength(body.data ? body.data : "", body.len);
		cJSON *sha = cJSON_GetObjectItemCaseSensitive(info, "sha");
		int ok = cJSON_IsString(sha) && strlen(sha->valuestring) == GG_SHA1_HEX &&
			 is_lower_hex(sha->valuestring, GG_SHA1_HEX);
		if (ok)
			memcpy(rep->commit, sha->valuestring, sizeof(rep->commit));
		cJSON_Delete(info);
		if (!ok) {
			snprintf(rep->error, sizeof(rep->error),
				 "upstream gave no commit for %s@%s", req->repo, req->rev);
			r = GG_EFORMAT;
			goto done;
		}
	}
	free(url);
	url = xasprintf("/api/%s/%s/tree/%s?recursive=true", route_type_plural(req->type),
			req->repo, rep->commit);
	for (int pages = 0; url != NULL && pages < 100000; pages++) {
		const char *lt, *gt, *next;
		if (upstream_api(up, "GET", url, NULL, 0, NULL, &body, &ur) != GG_OK ||
		    ur.status != 200 ||
		    pull_collect(body.data ? body.data : "", body.len, list, rest, req->globs,
				 req->nglobs) != GG_OK) {
			if (ur.status == 429)
				snprintf(rep->error, sizeof(rep->error),
					 "listing %s: upstream rate-limited us: retry after %llu s",
					 req->repo, (unsigned long long)ur.retry_after);
			else
				snprintf(rep->error, sizeof(rep->error),
					 "listing %s failed (status %ld)", req->repo, ur.status);
			r = GG_EUNAVAIL;
			goto done;
		}
		free(url);
		url = NULL;
		/* Link: <UPSTREAM/api/...&cursor=..>; rel="next" */
		lt = strchr(ur.link, '<');
		gt = lt ? strchr(lt, '>') : NULL;
		/* On any tier: the tier that answered names itself. */
		next = lt ? upstream_tier_path(up, lt + 1) : NULL;
		if (gt && next && next < gt && strstr(ur.link, "rel=\"next\""))
			url = xstrndup(next, (size_t)(gt - next));
	}
done:
	free(url);
	buf_free(&body);
	return r;
}

int
pull_run(struct store *st, struct upstream *up, struct fetcher *fm, const struct pull_req *req,
	 const struct pull_events *ev, struct pull_report *rep)
{
	struct pull_list list, rest;
	int r;

	memset(rep, 0, sizeof(*rep));
	memset(&list, 0, sizeof(list));
	memset(&rest, 0, sizeof(rest));
	if ((r = list_files(up, req, rep, &list, &rest)) != GG_OK) {
		free_list(&list);
		free_list(&rest);
		return r;
	}
	rep->files = list.n;
	rep->bytes = list.bytes;
	if (strlen(req->rev) != GG_SHA1_HEX || !is_lower_hex(req->rev, GG_SHA1_HEX))
		store_set_ref(st, req->type, req->repo, req->rev, rep->commit);
	/* The LFS files left out are known too (size, sha256): the registry
	 * lists them, not present, and a later request needs no upstream HEAD. */
	for (size_t i = 0; i < rest.n; i++)
		store_record_file(st, req->type, req->repo, rep->commit, rest.v[i].path, 1,
				  rest.v[i].sha256, NULL, rest.v[i].size);
	free_list(&rest);
	if (ev && ev->listed)
		ev->listed(ev->ctx, rep->commit, list.n, list.bytes);
	for (size_t i = 0; i < list.n; i++) {
		struct pull_file *pf = &list.v[i];
		struct fetch_spec spec;
		struct fetch *f = NULL;
		struct index_file have;
		uint64_t got = 0, wait;
		int state;

		memset(&spec, 0, sizeof(spec));
		spec.type = req->type;
		snprintf(spec.repo, sizeof(spec.repo), "%s", req->repo);
		memcpy(spec.commit, rep->commit, sizeof(spec.commit));
		snprintf(spec.path, sizeof(spec.path), "%s", pf->path);
		spec.lfs = pf->sha256 != NULL;
		snprintf(spec.key, sizeof(spec.key), "%s", spec.lfs ? pf->sha256 : pf->oid);
		spec.size = pf->size;
		if (spec.lfs)
			store_record_file(st, req->type, req->repo, rep->commit, pf->path, 1,
					  pf->sha256, NULL, pf->size);
		r = store_file_get(st, req->type, req->repo, rep->commit, pf->path, &have);
		if (r == GG_OK && store_blob_exists(st, have.sha256)) {
			if (req->pin)
				store_pin(st, have.sha256, 1);
			rep->skipped++;
			if (ev && ev->skipped)
				ev->skipped(ev->ctx, pf->path, pf->size);
			continue;
		}
		/* Keep to upstream's rate-limit budget: a fetch started now could
		 * only wait and fail; the files left are failed at once. */
		if ((wait = upstream_wait(up, spec.lfs)) > GG_FETCH_WAIT_MAX_SEC) {
			snprintf(rep->error, sizeof(rep->error),
				 "upstream rate-limited us: retry after %llu s (%zu files not "
				 "fetched)",
				 (unsigned long long)wait, list.n - i);
			for (; i < list.n; i++) {
				rep->failed++;
				if (ev && ev->failed)
					ev->failed(ev->ctx, list.v[i].path,
						   "upstream rate-limited us");
			}
			break;
		}
		r = fetcher_join(fm, &spec, &f, NULL);
		if (r == GG_EEXIST) {
			rep->skipped++;
			if (ev && ev->skipped)
				ev->skipped(ev->ctx, pf->path, pf->size);
			continue;
		}
		if (r != GG_OK) {
			rep->failed++;
			if (ev && ev->failed)
				ev->failed(ev->ctx, pf->path, gg_strerror(r));
			continue;
		}
		while ((state = fetch_progress(f, &got)) == 0) {
			struct timespec ts = { 0, GG_PULL_POLL_MS * 1000000L };
			if (ev && ev->progress)
				ev->progress(ev->ctx, pf->path, got, pf->size, 0);
			nanosleep(&ts, NULL);
		}
		fetch_release(f);
		if (state < 0) {
			rep->failed++;
			if (ev && ev->failed)
				ev->failed(ev->ctx, pf->path, "download failed (see the log)");
			continue;
		}
		rep->fetched++;
		if (ev && ev->progress)
			ev->progress(ev->ctx, pf->path, pf->size, pf->size, 1);
		if (req->pin &&
		    store_file_get(st, req->type, req->repo, rep->commit, pf->path, &have) == GG_OK)
			store_pin(st, have.sha256, 1);
	}
	free_list(&list);
	return rep->failed ? GG_EIO : GG_OK;
}

/* --- jobs ------------------------------------------------------------------- */

struct pull_job {
	long id;
	struct pull_req req;
	char *globs[PULL_MAX_GLOBS]; /* owned copies */
	int state;                   /* 0 running, 1 done, -1 failed */
	struct pull_report rep;      /* counts move while it runs (job_*) */
	uint64_t bytes_done;         /* of the files done */
	uint64_t cur_got;            /* of the file being fetched */
	uint64_t started_at;
	struct pull_jobs *jobs;
	struct pull_job *next;
};

struct pull_jobs {
	struct store *st;
	struct upstream *up;
	struct fetcher *fm;
	pthread_mutex_t mu;
	pthread_cond_t idle;
	struct pull_job *list;
	long next_id;
	unsigned running;
};

struct pull_jobs *
pull_jobs_new(struct store *st, struct upstream *up, struct fetcher *fm)
{
	struct pull_jobs *j = xcalloc(1, sizeof(*j));
	j->st = st;
	j->up = up;
	j->fm = fm;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->idle, NULL);
	return j;
}

void
pull_jobs_free(struct pull_jobs *j)
{
	if (j == NULL)
		return;
	/* Jobs end when the fetcher stops (their fetches fail): wait. */
	pthread_mutex_lock(&j->mu);
	while (j->running > 0)
		pthread_cond_wait(&j->idle, &j->mu);
	pthread_mutex_unlock(&j->mu);
	while (j->list != NULL) {
		struct pull_job *n = j->list->next;
		for (int i = 0; i < j->list->req.nglobs; i++)
			free(j->list->globs[i]);
		free(j->list);
		j->list = n;
	}
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->idle);
	free(j);
}

/* The pull's events, as the job's live counts (under the jobs' mutex). */
static void
job_listed(void *ctx, const char *commit, size_t files, uint64_t bytes)
{
	struct pull_job *job = ctx;
	pthread_mutex_lock(&job->jobs->mu);
	snprintf(job->rep.commit, sizeof(job->rep.commit), "%s", commit);
	job->rep.files = files;
	job->rep.bytes = bytes;
	pthread_mutex_unlock(&job->jobs->mu);
}

static void
job_progress(void *ctx, const char *path, uint64_t got, uint64_t size, int final)
{
	struct pull_job *job = ctx;
	(void)path;
	pthread_mutex_lock(&job->jobs->mu);
	if (final) {
		job->rep.fetched++;
		job->bytes_done += size;
		job->cur_got = 0;
	} else {
		job->cur_got = got;
	}
	pthread_mutex_unlock(&job->jobs->mu);
}

static void
job_skipped(void *ctx, const char *path, uint64_t size)
{
	struct pull_job *job = ctx;
	(void)path;
	pthread_mutex_lock(&job->jobs->mu);
	job->rep.skipped++;
	job->bytes_done += size;
	pthread_mutex_unlock(&job->jobs->mu);
}

static void
job_failed(void *ctx, const char *path, const char *why)
{
	struct pull_job *job = ctx;
	(void)path;
	(void)why;
	pthread_mutex_lock(&job->jobs->mu);
	job->rep.failed++;
	job->cur_got = 0;
	pthread_mutex_unlock(&job->jobs->mu);
}

static void *
job_thread(void *arg)
{
	struct pull_job *job = arg;
	struct pull_jobs *j = job->jobs;
	const struct pull_events ev = { job_listed, job_progress, job_skipped, job_failed, job };
	struct pull_report rep;
	int r = pull_run(j->st, j->up, j->fm, &job->req, &ev, &rep);

	/* Log first: once `running` drops, pull_jobs_free may free the job
	 * (and j) before this thread touches them again. */
	log_info("pull job %ld (%s@%s): %zu files, %zu fetched, %zu already here, %zu failed%s%s",
		 job->id, job->req.repo, job->req.rev, rep.files, rep.fetched, rep.skipped,
		 rep.failed, rep.error[0] ? ": " : "", rep.error);
	pthread_mutex_lock(&j->mu);
	job->rep = rep;
	job->cur_got = 0;
	job->state = r == GG_OK ? 1 : -1;
	j->running--;
	pthread_cond_broadcast(&j->idle);
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

long
pull_jobs_start(struct pull_jobs *j, const struct pull_req *req)
{
	struct pull_job *job = xcalloc(1, sizeof(*job));
	pthread_attr_t attr;
	pthread_t tid;
	long id;

	job->req = *req;
	for (int i = 0; i < req->nglobs; i++) {
		job->globs[i] = xstrdup(req->globs[i]);
		job->req.globs[i] = job->globs[i];
	}
	job->jobs = j;
	job->started_at = now_unix();
	pthread_mutex_lock(&j->mu);
	id = job->id = ++j->next_id;
	job->next = j->list;
	j->list = job;
	j->running++;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, job_thread, job) != 0) {
		job->state = -1;
		snprintf(job->rep.error, sizeof(job->rep.error), "cannot start a thread");
		j->running--;
		id = GG_EIO;
	}
	pthread_attr_destroy(&attr);
	pthread_mutex_unlock(&j->mu);
	return id;
}

static cJSON *
job_json(const struct pull_job *job)
{
	cJSON *o = cJSON_CreateObject(), *inc;
	cJSON_AddNumberToObject(o, "id", (double)job->id);
	cJSON_AddStringToObject(o, "repo", job->req.repo);
	cJSON_AddStringToObject(o, "revision", job->req.rev);
	inc = cJSON_AddArrayToObject(o, "include");
	for (int i = 0; i < job->req.nglobs; i++)
		cJSON_AddItemToArray(inc, cJSON_CreateString(job->req.globs[i]));
	cJSON_AddBoolToObject(o, "pin", job->req.pin != 0);
	cJSON_AddNumberToObject(o, "started", (double)job->started_at);
	cJSON_AddStringToObject(o, "state",
				job->state == 0  ? "running"
				: job->state > 0 ? "done"
						 : "failed");
	if (job->rep.commit[0] != '\0')
		cJSON_AddStringToObject(o, "commit", job->rep.commit);
	cJSON_AddNumberToObject(o, "files", (double)job->rep.files);
	cJSON_AddNumberToObject(o, "bytes", (double)job->rep.bytes);
	cJSON_AddNumberToObject(o, "done",
				(double)(job->rep.fetched + job->rep.skipped + job->rep.failed));
	cJSON_AddNumberToObject(o, "fetched", (double)job->rep.fetched);
	cJSON_AddNumberToObject(o, "skipped", (double)job->rep.skipped);
	cJSON_AddNumberToObject(o, "failed", (double)job->rep.failed);
	cJSON_AddNumberToObject(o, "bytesDone", (double)(job->bytes_done + job->cur_got));
	if (job->state != 0 && job->rep.error[0])
		cJSON_AddStringToObject(o, "error", job->rep.error);
	return o;
}

char *
pull_jobs_json(struct pull_jobs *j, long id)
{
	cJSON *out = id > 0 ? NULL : cJSON_CreateArray();
	char *s;

	pthread_mutex_lock(&j->mu);
	for (struct pull_job *job = j->list; job != NULL; job = job->next) {
		if (id > 0 && job->id == id)
			out = job_json(job);
		else if (id <= 0)
			cJSON_AddItemToArray(out, job_json(job));
	}
	pthread_mutex_unlock(&j->mu);
	if (out == NULL)
		return NULL;
	s = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	if (s == NULL)
		log_fatalx("cJSON_PrintUnformatted() failed: out of memory");
	return s;
}
