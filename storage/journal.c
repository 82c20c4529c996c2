/*
 * journal.c: upload jobs as C structs, encoded as JSON at the journal
 * boundary only (see journal.h for the layout).
 *
 * The JSON is kept (rather than a packed record) because it is what the
 * journal has always held, what GET /api/ggufd/uploads shows, and what an
 * operator reads in an index dump; its schema is fixed by the encoder
 * below and checked field by field by the decoder.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "journal.h"
#include "json.h"
#include "log.h"
#include "util.h"

static void
copy(char *dst, size_t n, const char *src)
{
	if (snprintf_checked(dst, n, "%s", src ? src : "") != GG_OK)
		dst[n - 1] = '\0';
}

void
journal_job_init(struct upload_job *j, uint64_t id, const char *by, enum repo_type type,
		 const char *repo, const char *rev, const char *summary, const char *description,
		 int retry)
{
	memset(j, 0, sizeof(*j));
	j->id = id;
	j->state = STORE_JOB_PENDING;
	j->created = now_unix();
	j->retry = retry ? 1 : 0;
	j->type = type;
	copy(j->by, sizeof(j->by), by);
	copy(j->repo, sizeof(j->repo), repo);
	copy(j->rev, sizeof(j->rev), rev);
	copy(j->summary, sizeof(j->summary), summary);
	copy(j->description, sizeof(j->description), description);
}

void
journal_job_add(struct upload_job *j, const struct upload_file *f)
{
	if (j->nfiles == j->cap) {
		j->cap = j->cap ? 2 * j->cap : 4;
		j->files = xrealloc(j->files, j->cap * sizeof(*j->files));
	}
	j->files[j->nfiles++] = *f;
}

void
journal_job_add_file(struct upload_job *j, const char *path, int lfs, const char *sha256,
		     const char *gitsha1, uint64_t size)
{
	struct upload_file f;

	memset(&f, 0, sizeof(f));
	copy(f.path, sizeof(f.path), path);
	f.lfs = lfs ? 1 : 0;
	copy(f.sha256, sizeof(f.sha256), sha256);
	copy(f.gitsha1, sizeof(f.gitsha1), gitsha1);
	f.size = size;
	journal_job_add(j, &f);
}

void
journal_job_add_deletion(struct upload_job *j, const char *path, int folder)
{
	struct upload_file f;

	memset(&f, 0, sizeof(f));
	copy(f.path, sizeof(f.path), path);
	f.deleted = 1;
	f.folder = folder ? 1 : 0;
	journal_job_add(j, &f);
}

void
journal_job_free(struct upload_job *j)
{
	if (j == NULL)
		return;
	free(j->files);
	j->files = NULL;
	j->nfiles = j->cap = 0;
}

const char *
journal_state_name(unsigned state)
{
	switch (state) {
	case STORE_JOB_PENDING: return "pending";
	case STORE_JOB_PUBLISHING: return "publishing";
	case STORE_JOB_DONE: return "done";
	default: return "failed";
	}
}

char *
journal_encode(const struct upload_job *j)
{
	cJSON *o = cJSON_CreateObject(), *files;
	char *txt;

	cJSON_AddNumberToObject(o, "id", (double)j->id);
	cJSON_AddStringToObject(o, "state", journal_state_name(j->state));
	cJSON_AddStringToObject(o, "by", j->by);
	if (j->client[0] != '\0')
		cJSON_AddStringToObject(o, "client", j->client);
	cJSON_AddStringToObject(o, "type", index_type_name(j->type));
	cJSON_AddStringToObject(o, "repo", j->repo);
	cJSON_AddStringToObject(o, "revision", j->rev);
	cJSON_AddStringToObject(o, "summary", j->summary);
	cJSON_AddStringToObject(o, "description", j->description);
	cJSON_AddNumberToObject(o, "created", (double)j->created);
	cJSON_AddNumberToObject(o, "attempts", j->attempts);
	cJSON_AddNumberToObject(o, "next_at", (double)j->next_at);
	cJSON_AddBoolToObject(o, "retry", j->retry);
	cJSON_AddBoolToObject(o, "create_pr", j->create_pr);
	cJSON_AddStringToObject(o, "parentCommit", j->parent);
	files = cJSON_AddArrayToObject(o, "files");
	for (size_t i = 0; i < j->nfiles; i++) {
		const struct upload_file *f = &j->files[i];
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "path", f->path);
		if (f->deleted) {
			cJSON_AddBoolToObject(e, "deleted", 1);
			cJSON_AddBoolToObject(e, "folder", f->folder);
		} else {
			cJSON_AddBoolToObject(e, "lfs", f->lfs);
			cJSON_AddStringToObject(e, "sha256", f->sha256);
			cJSON_AddStringToObject(e, "gitsha1", f->gitsha1);
			cJSON_AddNumberToObject(e, "size", (double)f->size);
			if (f->overwrite)
				cJSON_AddTrueToObject(e, "overwrite");
		}
		cJSON_AddItemToArray(files, e);
	}
	if (j->commit[0] != '\0') {
		cJSON_AddStringToObject(o, "commit", j->commit);
		cJSON_AddStringToObject(o, "commitUrl", j->commit_url);
	}
	if (j->error[0] != '\0')
		cJSON_AddStringToObject(o, "error", j->error);
	txt = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (txt == NULL)
		log_fatalx("cJSON_PrintUnformatted() failed: out of memory");
	return txt;
}

/* A string member copied into dst; absent is "" (GG_OK), a non-string or
 * one that does not fit is GG_ECORRUPT. */
static int
get_str(const cJSON *o, const char *key, char *dst, size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	dst[0] = '\0';
	if (v == NULL)
		return GG_OK;
	if (!cJSON_IsString(v) || snprintf_checked(dst, n, "%s", v->valuestring) != GG_OK)
		return GG_ECORRUPT;
	return GG_OK;
}

/* A number member as an integer in [0, 2^53] (json_get_u64); absent is 0. */
static int
get_u64(const cJSON *o, const char *key, uint64_t *out)
{
	int r = json_get_u64(o, key, JSON_MAX_EXACT_INT, out);
	if (r == GG_ENOENT) {
		*out = 0;
		return GG_OK;
	}
	return r == GG_OK ? GG_OK : GG_ECORRUPT;
}

static int
get_bool(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static int
decode_file(const cJSON *e, struct upload_file *f)
{
	int r = GG_OK;

	memset(f, 0, sizeof(*f));
	if (!cJSON_IsObject(e))
		return GG_ECORRUPT;
	f->deleted = get_bool(e, "deleted");
	f->folder = get_bool(e, "folder");
	f->lfs = get_bool(e, "lfs");
	f->overwrite = !f->deleted && get_bool(e, "overwrite");
	if ((r = get_str(e, "path", f->path, sizeof(f->path))) != GG_OK || f->path[0] == '\0')
		return GG_ECORRUPT;
	if (f->deleted)
		return GG_OK;
	if ((r = get_str(e, "sha256", f->sha256, sizeof(f->sha256))) != GG_OK ||
	    (r = get_str(e, "gitsha1", f->gitsha1, sizeof(f->gitsha1))) != GG_OK ||
	    (r = get_u64(e, "size", &f->size)) != GG_OK)
		return r;
	return strlen(f->sha256) == GG_SHA256_HEX ? GG_OK : GG_ECORRUPT;
}

int
journal_decode(const char *text, size_t len, struct upload_job *out)
{
	cJSON *o = cJSON_ParseWithLength(text, len), *files, *e;
	char type[16];
	uint64_t v;
	int r = GG_ECORRUPT;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(o))
		goto done;
	if (get_u64(o, "id", &out->id) != GG_OK || out->id == 0)
		goto done;
	if (get_str(o, "by", out->by, sizeof(out->by)) != GG_OK ||
	    get_str(o, "client", out->client, sizeof(out->client)) != GG_OK ||
	    get_str(o, "type", type, sizeof(type)) != GG_OK ||
	    get_str(o, "repo", out->repo, sizeof(out->repo)) != GG_OK || out->repo[0] == '\0' ||
	    get_str(o, "revision", out->rev, sizeof(out->rev)) != GG_OK ||
	    get_str(o, "summary", out->summary, sizeof(out->summary)) != GG_OK ||
	    get_str(o, "description", out->description, sizeof(out->description)) != GG_OK ||
	    get_str(o, "parentCommit", out->parent, sizeof(out->parent)) != GG_OK ||
	    get_str(o, "commit", out->commit, sizeof(out->commit)) != GG_OK ||
	    get_str(o, "commitUrl", out->commit_url, sizeof(out->commit_url)) != GG_OK ||
	    get_str(o, "error", out->error, sizeof(out->error)) != GG_OK)
		goto done;
	if (type[0] != '\0' && index_type_parse(type, &out->type) != GG_OK)
		goto done;
	if (get_u64(o, "created", &out->created) != GG_OK ||
	    get_u64(o, "next_at", &out->next_at) != GG_OK || get_u64(o, "attempts", &v) != GG_OK)
		goto done;
	out->attempts = (unsigned)(v > 1000000 ? 1000000 : v);
	out->retry = get_bool(o, "retry");
	out->create_pr = get_bool(o, "create_pr");
	files = cJSON_GetObjectItemCaseSensitive(o, "files");
	if (files != NULL && !cJSON_IsArray(files))
		goto done;
	cJSON_ArrayForEach (e, files) {
		struct upload_file f;
		if (decode_file(e, &f) != GG_OK)
			goto done;
		journal_job_add(out, &f);
	}
	r = GG_OK;
done:
	cJSON_Delete(o);
	if (r != GG_OK)
		journal_job_free(out);
	return r;
}

int
journal_put(struct store *st, const struct upload_job *j)
{
	struct index_upload u;
	char *txt = journal_encode(j);
	int r;

	memset(&u, 0, sizeof(u));
	u.state = j->state;
	u.attempts = j->attempts;
	u.created_at = j->created;
	u.updated_at = now_unix();
	u.data = txt;
	u.len = strlen(txt);
	r = store_upload_put(st, j->id, &u);
	free(txt);
	return r;
}

int
journal_get(struct store *st, uint64_t id, struct upload_job *out)
{
	struct index_upload u;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = store_upload_get(st, id, &u)) != GG_OK)
		return r;
	r = journal_decode(u.data, u.len, out);
	free(u.data);
	if (r == GG_OK)
		out->state = u.state;
	return r;
}
