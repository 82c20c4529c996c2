/*
 * audit.c: the gateway's audit trail (audit.h): one JSON record per act in
 * the store's audit log, and the reader behind `ggufd audit` and
 * GET /api/ggufd/audit.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "log.h"
#include "util.h"

static void
add_str(cJSON *o, const char *k, const char *v)
{
	if (v != NULL && v[0] != '\0')
		cJSON_AddStringToObject(o, k, v);
}

static const char *
type_name(enum repo_type t)
{
	return t == REPO_DATASET ? "dataset" : t == REPO_SPACE ? "space" : "model";
}

void
audit_write(struct store *st, const struct audit_act *a)
{
	cJSON *o = cJSON_CreateObject();
	char *txt;
	uint64_t seq = 0;
	int rc;

	add_str(o, "act", a->act);
	add_str(o, "decision", a->decision);
	add_str(o, "rule", a->rule);
	add_str(o, "by", a->by);
	add_str(o, "client", a->client);
	if (a->repo != NULL && a->repo[0] != '\0')
		cJSON_AddStringToObject(o, "type", type_name(a->type));
	add_str(o, "repo", a->repo);
	add_str(o, "rev", a->rev);
	add_str(o, "name", a->name);
	if (a->job != NULL) {
		cJSON *files = NULL;
		cJSON_AddNumberToObject(o, "job", (double)a->job->id);
		files = cJSON_AddArrayToObject(o, "files");
		for (size_t i = 0; i < a->job->nfiles; i++) {
			const struct upload_file *f = &a->job->files[i];
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "path", f->path);
			if (f->deleted) {
				cJSON_AddTrueToObject(e, "deleted");
				if (f->folder)
					cJSON_AddTrueToObject(e, "folder");
			} else {
				cJSON_AddNumberToObject(e, "size", (double)f->size);
				cJSON_AddStringToObject(e, "sha256", f->sha256);
			}
			cJSON_AddItemToArray(files, e);
		}
	}
	add_str(o, "commit", a->commit);
	add_str(o, "message", a->message);
	if (a->extra != NULL) {
		const cJSON *e;
		cJSON_ArrayForEach (e, a->extra)
			cJSON_AddItemToObject(o, e->string, cJSON_Duplicate(e, 1));
	}
	txt = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (txt == NULL)
		log_fatalx("cJSON_PrintUnformatted() failed: out of memory");
	rc = store_audit_append(st, txt, strlen(txt), &seq);
	if (rc != GG_OK)
		log_warnx("audit: cannot record an act (%s): %s", gg_strerror(rc), txt);
	else
		log_info("audit #%llu: %s", (unsigned long long)seq, txt);
	free(txt);
}

struct list_ctx {
	uint64_t since;
	const char *token;
	cJSON *arr;
	int n;
};

static int
list_cb(void *ctx, uint64_t seq, uint64_t time, const char *data, size_t len)
{
	struct list_ctx *c = ctx;
	cJSON *o, *by;

	if (time < c->since)
		return 0;
	o = cJSON_ParseWithLength(data, len);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return 0; /* written by a newer ggufd, or damaged: skipped */
	}
	by = cJSON_GetObjectItemCaseSensitive(o, "by");
	if (c->token != NULL && !(cJSON_IsString(by) && strcmp(by->valuestring, c->token) == 0)) {
		cJSON_Delete(o);
		return 0;
	}
	cJSON_AddItemToObject(o, "seq", cJSON_CreateNumber((double)seq));
	cJSON_AddItemToObject(o, "time", cJSON_CreateNumber((double)time));
	cJSON_AddItemToArray(c->arr, o);
	if (++c->n > GG_AUDIT_LIST_MAX) {
		cJSON_DeleteItemFromArray(c->arr, 0);
		c->n--;
	}
	return 0;
}

int
audit_list(struct store *st, uint64_t since, const char *token, cJSON **out)
{
	struct list_ctx c = { since, token, cJSON_CreateArray(), 0 };
	int rc = store_audit_foreach(st, 0, list_cb, &c);

	if (rc != GG_OK) {
		cJSON_Delete(c.arr);
		c.arr = NULL;
	}
	*out = c.arr;
	return rc;
}
