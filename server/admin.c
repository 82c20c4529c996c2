/*
 * admin.c: ggufd's own routes for operators and health checks.
 *
 *   GET  /healthz                 {"status":"ok"} while the index opens
 *   GET  /                        a short page (the dashboard's place)
 *   POST /api/ggufd/pull          start filling the store from upstream
 *   GET  /api/ggufd/pull[/{id}]   the pull jobs
 *
 * The route table gives the scope (admin, or loopback until an admin token
 * exists) and requires an upstream for the pull routes, so the handlers
 * here only do their work.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "admin.h"
#include "app.h"
#include "audit.h"
#include "http.h"
#include "log.h"
#include "pull.h"
#include "store.h"

enum MHD_Result
admin_healthz(struct req *r)
{
	if (store_ping(r->app->st) != GG_OK)
		return http_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "index unavailable", NULL);
	return http_json(r, MHD_HTTP_OK, xstrdup("{\"status\":\"ok\"}"));
}

enum MHD_Result
admin_index(struct req *r)
{
	static const char page[] =
		"<!doctype html><meta charset=utf-8><title>ggufd</title>"
		"<h1>ggufd</h1><p>A local Hugging Face Hub mirror. Point clients at this "
		"address with <code>HF_ENDPOINT</code>.</p>";
	struct MHD_Response *resp =
		http_response_buffer(sizeof(page) - 1, (void *)page, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, "Content-Type", "text/html; charset=utf-8");
	return http_queue(r, MHD_HTTP_OK, resp);
}

/* --- ggufd's own routes ----------------------------------------------------- */

/*
 *   POST /api/ggufd/pull   {"repo":"ruv/ruvltra","revision":"main",
 *                           "include":["*q4_k_m.gguf"],"pin":true}
 *        -> 202 {"id":1,"repo":...,"state":"running"}
 *   GET  /api/ggufd/pull         -> [jobs]
 *   GET  /api/ggufd/pull/{id}    -> job
 * Operator routes (SCOPE_ADMIN): an admin token, or a loopback client
 * while no admin token exists (auth.c).
 */
static enum MHD_Result
pull_start(struct req *r)
{
	struct pull_req pr;
	cJSON *body, *repo, *rev, *inc, *pin, *g;
	const char *name;
	long id;
	char *json;

	memset(&pr, 0, sizeof(pr));
	body = cJSON_ParseWithLength(r->body.data ? r->body.data : "", r->body.len);
	repo = cJSON_GetObjectItemCaseSensitive(body, "repo");
	rev = cJSON_GetObjectItemCaseSensitive(body, "revision");
	inc = cJSON_GetObjectItemCaseSensitive(body, "include");
	pin = cJSON_GetObjectItemCaseSensitive(body, "pin");
	if (!cJSON_IsObject(body) || !cJSON_IsString(repo) || (rev && !cJSON_IsString(rev)) ||
	    (inc && !cJSON_IsArray(inc)) || (pin && !cJSON_IsBool(pin))) {
		cJSON_Delete(body);
		return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest",
				  "Body must be JSON: {\"repo\": str, \"revision\"?: str, "
				  "\"include\"?: [str], \"pin\"?: bool}",
				  NULL);
	}
	name = repo->valuestring;
	pr.type = REPO_MODEL;
	if (strncmp(name, "datasets/", 9) == 0) {
		pr.type = REPO_DATASET;
		name += 9;
	} else if (strncmp(name, "spaces/", 7) == 0) {
		pr.type = REPO_SPACE;
		name += 7;
	}
	if (!route_valid_repo(name) ||
	    (rev && (strlen(rev->valuestring) == 0 || strlen(rev->valuestring) > GG_MAX_REV_LEN))) {
		cJSON_Delete(body);
		return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest", "Invalid repo or revision",
				  NULL);
	}
	snprintf(pr.repo, sizeof(pr.repo), "%s", name);
	snprintf(pr.rev, sizeof(pr.rev), "%s", rev ? rev->valuestring : "main");
	pr.pin = cJSON_IsTrue(pin);
	cJSON_ArrayForEach (g, inc) {
		if (!cJSON_IsString(g) || pr.nglobs == PULL_MAX_GLOBS) {
			cJSON_Delete(body);
			return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest",
					  "\"include\" takes at most 64 strings", NULL);
		}
		pr.globs[pr.nglobs++] = g->valuestring;
	}
	id = pull_jobs_start(r->app->jobs, &pr); /* copies the globs */
	cJSON_Delete(body);
	if (id < 0)
		return http_error_from(r, (int)id, "starting the pull");
	json = pull_jobs_json(r->app->jobs, id);
	return http_json(r, MHD_HTTP_ACCEPTED, json ? json : xstrdup("{}"));
}

enum MHD_Result
admin_pull(struct req *r)
{
	if (strcmp(r->method, "POST") == 0)
		return pull_start(r);
	return http_json(r, MHD_HTTP_OK, pull_jobs_json(r->app->jobs, 0));
}

enum MHD_Result
admin_pull_job(struct req *r)
{
	char *json = pull_jobs_json(r->app->jobs, (long)r->route.id);
	if (json == NULL)
		return http_error(r, MHD_HTTP_NOT_FOUND, NULL, "No such job", NULL);
	return http_json(r, MHD_HTTP_OK, json);
}

enum MHD_Result
admin_audit(struct req *r)
{
	char *since = http_query_get(r, "since"), *token = http_query_get(r, "token");
	uint64_t t = 0;
	enum MHD_Result res;
	cJSON *arr = NULL;
	char *txt;
	int rc;

	if (since != NULL && parse_u64_str(since, UINT64_MAX, &t) != GG_OK) {
		res = http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest",
				 "since takes a time in seconds since 1970", NULL);
	} else if ((rc = audit_list(r->app->st, t, token, &arr)) != GG_OK) {
		res = http_error_from(r, rc, "reading the audit log");
	} else {
		txt = cJSON_PrintUnformatted(arr);
		cJSON_Delete(arr);
		if (txt == NULL)
			log_fatalx("cJSON_PrintUnformatted() failed: out of memory");
		res = http_json(r, MHD_HTTP_OK, txt);
	}
	free(since);
	free(token);
	return res;
}
