/*
 * gateway.c: the upload gateway (HF-PROTOCOL.md 4), terminated at ggufd:
 * the Hub's commit protocol, and what the gateway's files share.
 *
 *   POST /api/models/{repo}/preupload/{rev}      bearer: a ggufd upload token
 *     <- {"files":[{"path","uploadMode":"lfs"|"regular","shouldIgnore":false}]}
 *   (LFS objects: the batch API and its signed hrefs, lfs.c)
 *   POST /api/models/{repo}/commit/{rev}          NDJSON or JSON
 *     {"key":"header","value":{"summary","description","parentCommit"}}
 *     {"key":"file","value":{"path","content":<base64>,"encoding":"base64"}}
 *     {"key":"lfsFile","value":{"path","algo":"sha256","oid","size"}}
 *     {"key":"deletedFile"|"deletedFolder","value":{"path"}}
 *     -> policy (names, GGUF valid and its quant, README card), journal,
 *        publish upstream with the held token (uploadq.c, publish.c),
 *        record locally
 *     <- {"success":true,"commitOid","commitUrl","hookOutput":""}
 *   (ggufd's plain PUT: upload.c; the journal and its routes: uploadq.c)
 *   GET  /api/whoami-v2, POST /api/validate-yaml, POST /api/repos/create,
 *   GET  .../xet-write-token/..., .../xet-read-token/... (501: disable Xet)
 *
 * Client tokens are ggufd's (auth.c checks them before any handler here
 * runs); they never go upstream.  The upstream token lives in upstream.c
 * only.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "app.h"
#include "audit.h"
#include "commit.h"
#include "gwint.h"
#include "huberr.h"
#include "json.h"
#include "log.h"
#include "stats.h"
#include "store.h"
#include "token.h"

/* --- what the gateway's files share ---------------------------------------------- */

char *
gateway_our_url(struct req *r, struct gateway *gw, const char *url)
{
	const char *up = app_upstream_base(r->app), *rest = NULL, *p;
	size_t ul = strlen(up);
	char *base, *out;

	if (ul > 0 && strncmp(url, up, ul) == 0 && (url[ul] == '/' || url[ul] == '\0'))
		rest = url + ul;
	else if ((p = strstr(url, "://")) != NULL)
		rest = (p = strchr(p + 3, '/')) != NULL ? p : "";
	if (rest == NULL)
		return xstrdup(url); /* not absolute: nothing names a host */
	base = gw->cfg.public_url ? xstrdup(gw->cfg.public_url) : http_base_url(r);
	out = xasprintf("%s%s", base, rest);
	free(base);
	return out;
}

void
gateway_our_url_in(struct req *r, struct gateway *gw, cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	char *u;
	if (!cJSON_IsString(v))
		return;
	u = gateway_our_url(r, gw, v->valuestring);
	cJSON_ReplaceItemInObjectCaseSensitive(o, key, cJSON_CreateString(u));
	free(u);
}

void
gateway_audit(struct req *r, struct gateway *gw, const char *act, const char *decision,
	      const char *rule, const struct upload_job *job, const char *name, const char *commit,
	      const char *message)
{
	char client[GG_MAX_CLIENT_ADDR + 1] = "";
	struct audit_act a;

	memset(&a, 0, sizeof(a));
	if (r != NULL)
		http_client_addr(r, client, sizeof(client));
	a.act = act;
	a.decision = decision;
	a.rule = rule;
	a.by = r != NULL ? r->token_name : job->by;
	a.client = r != NULL ? client : job->client;
	a.type = job != NULL ? job->type : r->route.type;
	a.repo = job != NULL ? job->repo : r->route.repo;
	a.rev = job != NULL ? job->rev : r->route.rev;
	a.name = name;
	a.job = job;
	a.commit = commit;
	a.message = message;
	audit_write(gw->st, &a);
}

const char *
gateway_act_name(struct req *r)
{
	switch (r->route.kind) {
	case ROUTE_GGUFD_UPLOAD_PUT: return "upload";
	case ROUTE_API_BRANCH: return strcmp(r->method, "DELETE") == 0 ? "delete-branch" : "branch";
	case ROUTE_API_TAG: return strcmp(r->method, "DELETE") == 0 ? "delete-tag" : "tag";
	case ROUTE_REPO_CREATE: return "repo-create";
	default: return "commit";
	}
}

int
gateway_repo_allowed(struct req *r, struct gateway *gw, enum repo_type type, const char *repo,
		     enum MHD_Result *res)
{
	char msg[400];
	if (gw->up == NULL) {
		*res = http_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "NoUpstream",
				  "This ggufd has no upstream to publish to", NULL);
		return GG_EUNAVAIL;
	}
	if (policy_repo_ok(gateway_policy(gw), type, repo)) {
		char full[GG_MAX_REPO_LEN + 16];
		snprintf(full, sizeof(full), "%s%s", route_type_prefix(type), repo);
		if (token_bounds_allow(r->token_bounds, full, NULL))
			return GG_OK;
		snprintf(msg, sizeof(msg),
			 "Token '%s' may not publish to %s (rule: token bounds; see ggufd token "
			 "ls)",
			 r->token_name, full);
		gateway_audit(r, gw, gateway_act_name(r), "refused", "token bounds", NULL, NULL,
			      NULL, msg);
		*res = http_error(r, MHD_HTTP_FORBIDDEN, "Forbidden", msg, NULL);
		return GG_EINVAL;
	}
	snprintf(msg, sizeof(msg), "Uploads to %s%s are not allowed through this gateway",
		 route_type_prefix(type), repo);
	if (r->route.kind != ROUTE_API_PREUPLOAD)
		gateway_audit(r, gw, gateway_act_name(r), "refused", "repo allow list", NULL, NULL,
			      NULL, msg);
	*res = http_error(r, MHD_HTTP_FORBIDDEN, "RepoNotAllowed", msg, NULL);
	return GG_EINVAL;
}

enum MHD_Result
gateway_policy_refuse(struct req *r, int rc, const char *why)
{
	stats_upload(STATS_UPLOAD_POLICY);
	return http_error(r, http_status_for_error(rc), "PolicyViolation", why, NULL);
}

enum MHD_Result
gateway_json_reply(struct req *r, unsigned status, cJSON *o, const char *ctype)
{
	struct MHD_Response *resp;
	char *txt = cJSON_PrintUnformatted(o);

	cJSON_Delete(o);
	if (txt == NULL)
		log_fatalx("cJSON_PrintUnformatted() failed: out of memory");
	resp = http_response_buffer(strlen(txt), txt, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", ctype ? ctype : "application/json");
	return http_queue(r, status, resp);
}

int64_t
gateway_content_length(struct req *r)
{
	const char *cl = http_header(r, "Content-Length");
	uint64_t v;
	if (cl == NULL || parse_u64_str(cl, INT64_MAX, &v) != GG_OK)
		return -1;
	return (int64_t)v;
}

/*
 * A refused upload lets go of the blob it staged, and removes it if its
 * record was new (fresh) and nothing else needs it: another upload of the
 * same bytes in flight, a journaled job, a file (store.h).
 */
void
gateway_drop_refused(struct gateway *gw, const char *sha256, int fresh)
{
	store_unstage(gw->st, sha256);
	if (fresh)
		store_drop_unreferenced(gw->st, sha256);
}

/* After a job is journaled (which protects its blobs from then on), or
 * refused: lets go of the inline files its request staged. */
static void
unstage_inline(struct gateway *gw, const struct upload_job *job)
{
	for (size_t i = 0; i < job->nfiles; i++)
		if (!job->files[i].deleted && !job->files[i].lfs)
			store_unstage(gw->st, job->files[i].sha256);
}

/* A refused commit: lets go of its inline files and removes those whose
 * blobs it made (and nothing else needs: gateway_drop_refused). */
static void
drop_inline(struct gateway *gw, const struct upload_job *job)
{
	unstage_inline(gw, job);
	for (size_t i = 0; i < job->nfiles; i++)
		if (!job->files[i].deleted && !job->files[i].lfs && job->files[i].fresh)
			store_drop_unreferenced(gw->st, job->files[i].sha256);
}

/*
 * The gateway's permissions (README, "The upload gateway"), over a parsed
 * commit and before anything goes upstream.  They are decided by the
 * caller's token scope alone (r->scope): a loopback client without a token
 * has none, even while auth lets it through admin routes.
 *   deletions   a deletedFile or deletedFolder needs admin (403)
 *   immutable   on a protected branch, a .gguf or LFS file that exists at
 *               the branch (as this store knows it, else as upstream has
 *               it) is not replaced with other bytes (409), but by an admin
 *               who asks for it (X-Ggufd-Overwrite: yes, or serve
 *               --allow-overwrite); a pull request (create_pr=1) changes
 *               no branch
 *   model card  with an upload token, a README.md that replaces one (the
 *               store's, else upstream's) keeps every top-level front
 *               matter key of it, and under --card-files-table the .gguf
 *               names of its table rows (422; policy.c)
 * Where upstream cannot be asked, the store's knowledge decides.
 * *overwrites counts the files an admin replaces that way, each marked
 * overwrite in the job (journaled so).
 */
static int
is_gguf_path(const char *path)
{
	size_t n = strlen(path);
	return n >= 5 && strcasecmp(path + n - 5, ".gguf") == 0;
}

/* The immutability rule's refusal of path: GG_EEXIST with msg. */
static int
immutable(struct req *r, const struct upload_job *job, const char *path, char *msg, size_t msgsz)
{
	snprintf(msg, msgsz,
		 "%s is already published on the protected branch %s with other bytes "
		 "(rule: published model files are immutable): publish a new name, or to "
		 "a branch, or open a pull request (create_pr=1)%s",
		 path, job->rev,
		 r->scope >= TOKEN_ADMIN ? "; an admin overwrites with X-Ggufd-Overwrite: yes"
					 : "");
	return GG_EEXIST;
}

int
gateway_upstream_paths(struct gateway *gw, const struct upload_job *job, const cJSON *paths,
		       char commit[GG_SHA1_HEX + 1], cJSON **ans)
{
	struct upstream_resp ur;
	struct buf body;
	cJSON *e;
	char *url, *qrev = upstream_quote(job->rev, 0), *txt;
	const char *plural = index_type_name(job->type);
	int rc = GG_EUNAVAIL;

	*ans = NULL;
	buf_init(&body, GG_MAX_UPSTREAM_JSON);
	url = xasprintf("/api/%ss/%s/revision/%s", plural, job->repo, qrev);
	free(qrev);
	if (upstream_api(gw->up, "GET", url, NULL, 0, NULL, &body, &ur) != GG_OK)
		goto done;
	if (ur.status == 404) {
		rc = GG_ENOENT;
		goto done;
	}
	e = ur.status == 200 ? cJSON_ParseWithLength(body.data ? body.data : "", body.len) : NULL;
	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "sha")) ||
	    strlen(cJSON_GetObjectItemCaseSensitive(e, "sha")->valuestring) != GG_SHA1_HEX) {
		cJSON_Delete(e);
		goto done;
	}
	memcpy(commit, cJSON_GetObjectItemCaseSensitive(e, "sha")->valuestring, GG_SHA1_HEX + 1);
	cJSON_Delete(e);
	e = cJSON_CreateObject();
	cJSON_AddItemToObject(e, "paths", cJSON_Duplicate(paths, 1));
	txt = cJSON_PrintUnformatted(e);
	cJSON_Delete(e);
	if (txt == NULL)
		log_fatalx("cJSON_PrintUnformatted() failed: out of memory");
	free(url);
	url = xasprintf("/api/%ss/%s/paths-info/%s", plural, job->repo, commit);
	if (upstream_api(gw->up, "POST", url, txt, strlen(txt), "application/json", &body, &ur) ==
		    GG_OK &&
	    ur.status == 200) {
		*ans = cJSON_ParseWithLength(body.data ? body.data : "", body.len);
		if (cJSON_IsArray(*ans)) {
			rc = GG_OK;
		} else {
			cJSON_Delete(*ans);
			*ans = NULL;
		}
	}
	free(txt);
done:
	buf_free(&body);
	free(url);
	return rc;
}

/*
 * The immutability rule against upstream's tree, for the .gguf and LFS
 * files of job the store does not know at the branch (check[i]): a file
 * upstream has there with other bytes is a replacement.  An admin who asks
 * replaces it (counted, marked); else GG_EEXIST with msg.  When upstream
 * cannot be asked, the store's knowledge stands (a pending plain PUT is
 * published later; see the README).
 */
static int
perm_upstream(struct req *r, struct gateway *gw, struct upload_job *job, const unsigned char *check,
	      int admin_asks, char *msg, size_t msgsz, unsigned *overwrites)
{
	cJSON *paths = cJSON_CreateArray(), *ans = NULL, *e;
	char commit[GG_SHA1_HEX + 1];
	int rc = GG_OK, n = 0;

	for (size_t i = 0; i < job->nfiles; i++)
		if (check[i]) {
			cJSON_AddItemToArray(paths, cJSON_CreateString(job->files[i].path));
			n++;
		}
	if (n == 0 || gw->up == NULL ||
	    gateway_upstream_paths(gw, job, paths, commit, &ans) != GG_OK) {
		cJSON_Delete(paths);
		return GG_OK;
	}
	for (size_t i = 0; rc == GG_OK && i < job->nfiles; i++) {
		struct upload_file *f = &job->files[i];
		const cJSON *p, *oid, *lfs;
		if (!check[i])
			continue;
		cJSON_ArrayForEach (e, ans) {
			p = cJSON_GetObjectItemCaseSensitive(e, "path");
			if (!cJSON_IsString(p) || strcmp(p->valuestring, f->path) != 0)
				continue;
			p = cJSON_GetObjectItemCaseSensitive(e, "type");
			if (cJSON_IsString(p) && strcmp(p->valuestring, "file") != 0)
				continue; /* a directory of that name: upstream refuses it */
			lfs = cJSON_GetObjectItemCaseSensitive(e, "lfs");
			oid = cJSON_GetObjectItemCaseSensitive(lfs ? lfs : e, "oid");
			if (cJSON_IsString(oid) &&
			    strcmp(oid->valuestring, lfs ? f->sha256 : f->gitsha1) == 0)
				continue; /* the same bytes */
			if (admin_asks) {
				f->overwrite = 1;
				(*overwrites)++;
				continue;
			}
			rc = immutable(r, job, f->path, msg, msgsz);
			break;
		}
	}
	cJSON_Delete(paths);
	cJSON_Delete(ans);
	return rc;
}

/*
 * The model card rule against upstream's card, when the store does not
 * have the published one's bytes: upstream's README.md at the branch, read
 * through the Hub's resolve route.  No card there: nothing to keep; upstream
 * unreachable: the store's knowledge stands (as for immutability).
 */
static int
perm_card_upstream(struct gateway *gw, const struct upload_job *job, const struct upload_file *f,
		   char *msg, size_t msgsz)
{
	struct upstream_resp ur;
	struct buf body;
	char *qrev = upstream_quote(job->rev, 0);
	char *url = xasprintf("/%s%s/resolve/%s/README.md", route_type_prefix(job->type), job->repo,
			      qrev);
	int rc = GG_OK;

	free(qrev);
	buf_init(&body, GG_MAX_README_BYTES);
	if (gw->up != NULL &&
	    upstream_api(gw->up, "GET", url, NULL, 0, NULL, &body, &ur) == GG_OK &&
	    ur.status == 200)
		rc = policy_check_card_text(gateway_policy(gw), gw->st, buf_cstr(&body), body.len,
					    f->sha256, msg, msgsz);
	buf_free(&body);
	free(url);
	return rc;
}

static int
perm_existing(struct req *r, struct gateway *gw, struct upload_job *job, char *msg, size_t msgsz,
	      unsigned *overwrites)
{
	const char *ask = http_header(r, "X-Ggufd-Overwrite");
	const struct policy *pol = gateway_policy(gw); /* one set of rules for the request */
	int admin_asks = r->scope >= TOKEN_ADMIN &&
			 (pol->allow_overwrite || (ask && strcasecmp(ask, "yes") == 0));
	int protected = policy_branch_protected(pol, job->rev);
	char commit[GG_SHA1_HEX + 1];
	struct store_view v;
	struct index_file old;
	unsigned char *check;
	const struct upload_file *card = NULL; /* a card to check against upstream's */
	int known, rc = GG_OK;

	if (job->create_pr)
		return GG_OK;
	/* On a protected branch, every .gguf and LFS file is checked: here
	 * against the store, then against upstream for those it does not know. */
	check = xcalloc(job->nfiles + 1, 1);
	for (size_t i = 0; i < job->nfiles; i++) {
		const struct upload_file *f = &job->files[i];
		check[i] = protected && !f->deleted && (f->lfs || is_gguf_path(f->path));
		if (!f->deleted && r->scope < TOKEN_ADMIN && strcmp(f->path, "README.md") == 0)
			card = f;
	}
	if (store_view_begin(gw->st, &v) != GG_OK) {
		store_view_end(&v);
		free(check);
		snprintf(msg, msgsz, "the index cannot be read: nothing was published");
		return GG_EDB;
	}
	/* The URL may name the branch as refs/heads/NAME: the store by NAME. */
	if (store_resolve_rev(&v, job->type, job->repo,
			      strncmp(job->rev, "refs/heads/", 11) == 0 ? job->rev + 11 : job->rev,
			      commit, &known, NULL) != GG_OK)
		commit[0] = '\0';
	for (size_t i = 0; commit[0] && rc == GG_OK && i < job->nfiles; i++) {
		struct upload_file *f = &job->files[i];
		if (f->deleted ||
		    store_view_file(&v, job->type, job->repo, commit, f->path, &old) != GG_OK)
			continue;
		check[i] = 0; /* the store knows it: judged here */
		if (old.sha256[0] != '\0' && strcmp(old.sha256, f->sha256) == 0) {
			card = f == card ? NULL : card; /* the same card */
			continue;
		}
		if (f == card && old.sha256[0] != '\0') {
			int cr = policy_check_card_replace(pol, gw->st, old.sha256, f->sha256, msg,
							   msgsz);
			if (cr == GG_EFORMAT) {
				rc = GG_EFORMAT;
				break;
			}
			if (cr == GG_OK)
				card = NULL; /* judged here */
		}
		if (!protected ||
		    (!(old.flags & INDEX_FILE_LFS) && !f->lfs && !is_gguf_path(f->path)))
			continue;
		if (admin_asks) {
			f->overwrite = 1;
			(*overwrites)++;
			continue;
		}
		rc = immutable(r, job, f->path, msg, msgsz);
	}
	store_view_end(&v);
	if (rc == GG_OK && card != NULL &&
	    perm_card_upstream(gw, job, card, msg, msgsz) == GG_EFORMAT)
		rc = GG_EFORMAT;
	if (rc == GG_OK)
		rc = perm_upstream(r, gw, job, check, admin_asks, msg, msgsz, overwrites);
	free(check);
	return rc;
}

int
gateway_perm_check(struct req *r, struct gateway *gw, struct upload_job *job, enum MHD_Result *res)
{
	char msg[GG_MAX_REPO_PATH_LEN + GG_MAX_REV_LEN + 400];
	unsigned overwrites = 0;
	int rc = GG_OK;

	for (size_t i = 0; rc == GG_OK && i < job->nfiles; i++) {
		const struct upload_file *f = &job->files[i];
		if (!token_bounds_allow(r->token_bounds, NULL, f->path)) {
			snprintf(msg, sizeof(msg),
				 "Token '%s' may not publish %s (rule: token bounds; see ggufd "
				 "token "
				 "ls)",
				 r->token_name, f->path);
			rc = GG_ERANGE;
		} else if (f->deleted && r->scope < TOKEN_ADMIN) {
			snprintf(msg, sizeof(msg),
				 "Deleting %s%s needs an admin token (rule: deletions need admin "
				 "scope)",
				 f->folder ? "the folder " : "", f->path);
			rc = GG_EINVAL;
		}
	}
	if (rc == GG_OK)
		rc = perm_existing(r, gw, job, msg, sizeof(msg), &overwrites);
	if (rc != GG_OK) {
		gateway_audit(r, gw, job->retry ? "upload" : "commit", "refused",
			      rc == GG_ERANGE    ? "token bounds"
			      : rc == GG_EINVAL  ? "deletions need admin scope"
			      : rc == GG_EEXIST  ? "published model files are immutable"
			      : rc == GG_EFORMAT ? "a model card keeps its required sections"
						 : "index unavailable",
			      job, NULL, NULL, msg);
		*res = rc == GG_EDB ? http_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, msg, NULL)
		       : rc == GG_EFORMAT ? gateway_policy_refuse(r, rc, msg)
		       : rc == GG_EEXIST
			       ? http_error(r, MHD_HTTP_CONFLICT, "Conflict", msg, NULL)
			       : http_error(r, MHD_HTTP_FORBIDDEN, "Forbidden", msg, NULL);
	} else if (overwrites > 0) {
		snprintf(msg, sizeof(msg), "%u published file(s) replaced on %s", overwrites,
			 job->rev);
		gateway_audit(r, gw, "overwrite", "allowed",
			      gateway_policy(gw)->allow_overwrite ? "admin, --allow-overwrite"
								  : "admin, X-Ggufd-Overwrite: yes",
			      job, NULL, NULL, msg);
	}
	return rc;
}

struct gateway *
gateway_new(struct store *st, struct upstream *up, const struct gateway_config *cfg)
{
	struct gateway *gw = xcalloc(1, sizeof(*gw));

	gw->st = st;
	gw->up = up;
	gw->cfg = *cfg;
	/* The rules are read through gw->policy only; an empty cfg.policy
	 * refuses every repo should anything read it by mistake. */
	atomic_init(&gw->policy, policy_dup(&cfg->policy));
	memset(&gw->cfg.policy, 0, sizeof(gw->cfg.policy));
	if (gw->cfg.chunk_size == 0)
		gw->cfg.chunk_size = GG_MULTIPART_CHUNK;
	if (gw->cfg.multipart_threshold == 0)
		gw->cfg.multipart_threshold = GG_MULTIPART_THRESHOLD;
	if (gw->cfg.href_ttl == 0)
		gw->cfg.href_ttl = GG_HREF_TTL_SEC;
	pthread_mutex_init(&gw->mu, NULL);
	pthread_cond_init(&gw->cv, NULL);
	uploadq_start(gw);
	return gw;
}

void
gateway_free(struct gateway *gw)
{
	if (gw == NULL)
		return;
	uploadq_stop(gw);
	pthread_mutex_destroy(&gw->mu);
	pthread_cond_destroy(&gw->cv);
	for (size_t i = 0; i < gw->nretired; i++)
		policy_free(gw->retired[i]);
	free(gw->retired);
	policy_free(atomic_load(&gw->policy));
	free(gw);
}

int
gateway_set_policy(struct gateway *gw, const struct policy *p)
{
	struct policy *old = atomic_load_explicit(&gw->policy, memory_order_acquire);

	if (policy_equal(old, p))
		return 0;
	/* Retired, not freed: a request may still be reading it.  Reloads
	 * that change the rules are rare, so the list stays short. */
	gw->retired = xrealloc(gw->retired, (gw->nretired + 1) * sizeof(*gw->retired));
	gw->retired[gw->nretired++] = old;
	atomic_store_explicit(&gw->policy, policy_dup(p), memory_order_release);
	return 1;
}

/* --- the Hub protocol ------------------------------------------------------------- */

enum MHD_Result
gateway_whoami(struct req *r)
{
	const char *name = r->token_name;
	unsigned scope = r->scope;
	cJSON *o, *auth, *at;

	{
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "type", "user");
		cJSON_AddStringToObject(o, "id", name);
		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddStringToObject(o, "fullname", name);
		cJSON_AddNullToObject(o, "email");
		cJSON_AddArrayToObject(o, "orgs");
		auth = cJSON_AddObjectToObject(o, "auth");
		cJSON_AddStringToObject(auth, "type", "access_token");
		at = cJSON_AddObjectToObject(auth, "accessToken");
		cJSON_AddStringToObject(at, "displayName", name);
		cJSON_AddStringToObject(at, "role", scope >= TOKEN_UPLOAD ? "write" : "read");
		cJSON_AddStringToObject(o, "ggufdScope", token_scope_name(scope));
	}
	return gateway_json_reply(r, MHD_HTTP_OK, o, NULL);
}

enum MHD_Result
gateway_validate_yaml(struct req *r)
{
	cJSON *b = cJSON_ParseWithLength(r->body.data ? r->body.data : "", r->body.len);
	cJSON *content = cJSON_GetObjectItemCaseSensitive(b, "content");
	cJSON *o = cJSON_CreateObject(), *errs = cJSON_AddArrayToObject(o, "errors");
	char why[400];

	cJSON_AddArrayToObject(o, "warnings");
	if (!cJSON_IsString(content)) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "message",
					"Body must be {\"content\": str, \"repoType\": str}");
		cJSON_AddItemToArray(errs, e);
	} else if (policy_check_readme(content->valuestring, strlen(content->valuestring), why,
				       sizeof(why)) != GG_OK) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "message", why);
		cJSON_AddItemToArray(errs, e);
	}
	cJSON_Delete(b);
	/* Python reads the JSON before the status: always JSON, always 200. */
	return gateway_json_reply(r, MHD_HTTP_OK, o, NULL);
}

enum MHD_Result
gateway_xet(struct req *r)
{
	return http_error(r, MHD_HTTP_NOT_IMPLEMENTED, "XetNotSupported",
			  "ggufd speaks plain HTTP, not Xet: set HF_HUB_DISABLE_XET=1 (Python) or "
			  "useXet: false / xet: false (huggingface.js)",
			  NULL);
}

/*
 * A JSON (or NDJSON) request body must be UTF-8 without NUL bytes or
 * \u0000 escapes before it is parsed (json_text_check): cJSON would
 * pass bytes that are not UTF-8 on to upstream, and cut a path at a NUL
 * ("README.md\u0000.exe" would be published as "README.md").  Returns 0,
 * or -1 with a 400 queued in *res.
 */
static int
body_text_ok(struct req *r, enum MHD_Result *res)
{
	const char *why = NULL;
	char msg[160];

	if (json_text_check(r->body.data ? r->body.data : "", r->body.len, &why) == GG_OK)
		return 0;
	snprintf(msg, sizeof(msg), "Malformed JSON body: %s", why);
	*res = http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest", msg, NULL);
	return -1;
}

enum MHD_Result
gateway_repo_create(struct req *r)
{
	struct gateway *gw = r->app->gw;
	char repo[GG_MAX_REPO_LEN + 1];
	enum MHD_Result res;
	struct upstream_resp ur;
	struct buf body;
	cJSON *b = NULL, *n, *org, *type;
	enum repo_type t = REPO_MODEL;
	struct MHD_Response *resp;

	if (body_text_ok(r, &res) != 0)
		return res;
	b = cJSON_ParseWithLength(r->body.data ? r->body.data : "", r->body.len);
	n = cJSON_GetObjectItemCaseSensitive(b, "name");
	org = cJSON_GetObjectItemCaseSensitive(b, "organization");
	type = cJSON_GetObjectItemCaseSensitive(b, "type");
	if (!cJSON_IsString(n)) {
		cJSON_Delete(b);
		return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest", "\"name\" is required",
				  NULL);
	}
	if (cJSON_IsString(type))
		t = strcmp(type->valuestring, "dataset") == 0 ? REPO_DATASET
		    : strcmp(type->valuestring, "space") == 0 ? REPO_SPACE
							      : REPO_MODEL;
	if (snprintf_checked(repo, sizeof(repo), "%s%s%s",
			     cJSON_IsString(org) ? org->valuestring : "",
			     cJSON_IsString(org) ? "/" : "", n->valuestring) != GG_OK ||
	    !route_valid_repo(repo)) {
		cJSON_Delete(b);
		return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest", "Invalid repo name", NULL);
	}
	cJSON_Delete(b);
	if (gateway_repo_allowed(r, gw, t, repo, &res) != 0)
		return res;
	/* Forwarded with the held token; the answer (200, or 409 with its
	 * "url" that exist_ok reads) is relayed. */
	buf_init(&body, GG_MAX_UPSTREAM_JSON);
	if (upstream_api(gw->up, "POST", "/api/repos/create", r->body.data ? r->body.data : "{}",
			 r->body.len, "application/json", &body, &ur) != GG_OK) {
		buf_free(&body);
		return hub_upstream_down(r, "Upstream is unavailable");
	}
	b = cJSON_ParseWithLength(body.data ? body.data : "", body.len);
	if (cJSON_IsObject(b) && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(b, "url"))) {
		char *txt;
		gateway_our_url_in(r, gw, b, "url");
		txt = cJSON_PrintUnformatted(b);
		if (txt == NULL)
			log_fatalx("cJSON_PrintUnformatted() failed: out of memory");
		resp = http_response_buffer(strlen(txt), txt, MHD_RESPMEM_MUST_FREE);
		buf_free(&body);
	} else {
		size_t len;
		char *data = buf_steal(&body, &len);
		resp = http_response_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	}
	cJSON_Delete(b);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return http_queue(r, ur.status ? (unsigned)ur.status : 502, resp);
}

/* A ref name ggufd passes on: 1..GG_MAX_REV_LEN bytes of printable ASCII
 * without spaces or "..", not starting with "/" or "-". */
static int
ref_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > GG_MAX_REV_LEN || s[0] == '/' || s[0] == '-' || strstr(s, "..") != NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f)
			return 0;
	return 1;
}

/*
 *   POST /api/{t}s/{repo}/branch/{branch}  {"startingPoint"?: rev}
 *   POST /api/{t}s/{repo}/tag/{rev}        {"tag": name, "message"?: str}
 * Forwarded with the held token (the route table asks upload scope for a
 * branch, admin for a tag: tags are releases).  Upstream's 409 (exists)
 * is relayed, so that exist_ok works.  On success the ref is recorded
 * here too when ggufd knows the commit it names (a tag as
 * refs/tags/NAME), and cached answers about the repo's refs are dropped.
 */
static enum MHD_Result
gateway_create_ref(struct req *r)
{
	struct gateway *gw = r->app->gw;
	int tag = r->route.kind == ROUTE_API_TAG;
	char name[GG_MAX_REV_LEN + 16], start[GG_MAX_REV_LEN + 1], commit[GG_SHA1_HEX + 1];
	struct upstream_resp ur;
	struct store_view v;
	enum MHD_Result res;
	struct buf body;
	cJSON *b, *x;
	int known, rc;

	if (gateway_repo_allowed(r, gw, r->route.type, r->route.repo, &res) != 0)
		return res;
	if (body_text_ok(r, &res) != 0)
		return res;
	b = r->body.len ? cJSON_ParseWithLength(r->body.data, r->body.len) : cJSON_CreateObject();
	if (!cJSON_IsObject(b)) {
		cJSON_Delete(b);
		return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest", "Body is not JSON", NULL);
	}
	x = cJSON_GetObjectItemCaseSensitive(b, tag ? "tag" : "startingPoint");
	rc = GG_OK;
	if (tag) {
		if (!cJSON_IsString(x) ||
		    snprintf_checked(name, sizeof(name), "refs/tags/%s", x->valuestring) != GG_OK ||
		    !ref_name_ok(x->valuestring))
			rc = GG_EINVAL;
		snprintf(start, sizeof(start), "%s", r->route.rev);
	} else {
		if ((x != NULL && !cJSON_IsString(x)) ||
		    snprintf_checked(start, sizeof(start), "%s", x ? x->valuestring : "main") !=
			    GG_OK ||
		    !ref_name_ok(r->route.rev))
			rc = GG_EINVAL;
		snprintf(name, sizeof(name), "%s", r->route.rev);
	}
	cJSON_Delete(b);
	if (rc != GG_OK)
		return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest",
				  tag ? "Body must be {\"tag\": name, \"message\"?: str}"
				      : "Invalid branch name or startingPoint",
				  NULL);
	buf_init(&body, GG_MAX_UPSTREAM_JSON);
	if (upstream_api(gw->up, "POST", r->raw_uri, r->body.len ? r->body.data : "{}",
			 r->body.len ? r->body.len : 2, "application/json", &body, &ur) != GG_OK) {
		buf_free(&body);
		return hub_upstream_down(r, "Upstream is unavailable: nothing was created");
	}
	buf_free(&body);
	if (ur.status >= 400) {
		gateway_audit(r, gw, tag ? "tag" : "branch", "failed", "upstream", NULL, name, NULL,
			      ur.error_message[0] ? ur.error_message : "Upstream refused the ref");
		return hub_relay_upstream(r, HUB_RELAY_WRITE, ur.status, NULL,
					  ur.error_message[0] ? ur.error_message
							      : "Upstream refused the ref",
					  NULL, 0);
	}
	if (store_view_begin(gw->st, &v) == GG_OK &&
	    store_resolve_rev(&v, r->route.type, r->route.repo, start, commit, &known, NULL) ==
		    GG_OK) {
		store_view_end(&v);
		store_set_ref(gw->st, r->route.type, r->route.repo, name, commit);
	} else {
		store_view_end(&v);
		commit[0] = '\0';
	}
	gateway_audit(r, gw, tag ? "tag" : "branch", "created", NULL, NULL, name, commit, NULL);
	store_note_change(gw->st, r->route.type, r->route.repo);
	return http_json(r, MHD_HTTP_OK, xstrdup("{}"));
}

/*
 *   DELETE /api/{t}s/{repo}/branch/{branch}
 *   DELETE /api/{t}s/{repo}/tag/{tag}
 * (huggingface_hub's delete_branch, delete_tag.)  An admin token only
 * (r->scope: a loopback client without one has none), then forwarded with
 * the held token; upstream's answer (404 for no such ref) is relayed.  On
 * success the ref is removed here too: a branch as NAME and
 * refs/heads/NAME, a tag as refs/tags/NAME and, when it names the same
 * commit, NAME (a resolve of the tag by name recorded it so).
 */
static enum MHD_Result
gateway_delete_ref(struct req *r)
{
	struct gateway *gw = r->app->gw;
	int tag = r->route.kind == ROUTE_API_TAG;
	const char *name = r->route.rev;
	char full[GG_MAX_REV_LEN + 16], msg[GG_MAX_REV_LEN + 200];
	struct index_ref a, b;
	struct upstream_resp ur;
	enum MHD_Result res;
	struct buf body;

	if (gateway_repo_allowed(r, gw, r->route.type, r->route.repo, &res) != 0)
		return res;
	if (!ref_name_ok(name))
		return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest",
				  "Invalid branch or tag name", NULL);
	if (r->scope < TOKEN_ADMIN) {
		snprintf(
			msg, sizeof(msg),
			"Deleting the %s %s needs an admin token (rule: deleting a branch or a tag "
			"needs admin scope)",
			tag ? "tag" : "branch", name);
		gateway_audit(r, gw, tag ? "delete-tag" : "delete-branch", "refused",
			      "deleting a branch or a tag needs admin scope", NULL, name, NULL,
			      msg);
		return http_error(r, MHD_HTTP_FORBIDDEN, "Forbidden", msg, NULL);
	}
	buf_init(&body, GG_MAX_UPSTREAM_JSON);
	if (upstream_api(gw->up, "DELETE", r->raw_uri, NULL, 0, NULL, &body, &ur) != GG_OK) {
		buf_free(&body);
		return hub_upstream_down(r, "Upstream is unavailable: nothing was deleted");
	}
	buf_free(&body);
	if (ur.status >= 400) {
		gateway_audit(r, gw, tag ? "delete-tag" : "delete-branch", "failed", "upstream",
			      NULL, name, NULL,
			      ur.error_message[0] ? ur.error_message
						  : "Upstream refused to delete the ref");
		return hub_relay_upstream(r, HUB_RELAY_WRITE, ur.status, NULL,
					  ur.error_message[0]
						  ? ur.error_message
						  : "Upstream refused to delete the ref",
					  NULL, 0);
	}
	gateway_audit(r, gw, tag ? "delete-tag" : "delete-branch", "deleted", NULL, NULL, name,
		      NULL, NULL);
	snprintf(full, sizeof(full), "refs/%s/%s", tag ? "tags" : "heads", name);
	if (tag) {
		if (store_ref_get(gw->st, r->route.type, r->route.repo, full, &a) == GG_OK &&
		    store_ref_get(gw->st, r->route.type, r->route.repo, name, &b) == GG_OK &&
		    strcmp(a.commit, b.commit) == 0)
			store_del_ref(gw->st, r->route.type, r->route.repo, name);
	} else {
		store_del_ref(gw->st, r->route.type, r->route.repo, name);
	}
	store_del_ref(gw->st, r->route.type, r->route.repo, full);
	store_note_change(gw->st, r->route.type, r->route.repo);
	return http_json(r, MHD_HTTP_OK, xstrdup("{}"));
}

enum MHD_Result
gateway_ref(struct req *r)
{
	return strcmp(r->method, "DELETE") == 0 ? gateway_delete_ref(r) : gateway_create_ref(r);
}

enum MHD_Result
gateway_preupload(struct req *r)
{
	struct gateway *gw = r->app->gw;
	struct commit_preupload_file *files;
	char why[700];
	enum MHD_Result res;
	cJSON *b, *o, *out;
	struct index_ref ref;
	size_t n = 0;
	int prc;

	if (gateway_repo_allowed(r, gw, r->route.type, r->route.repo, &res) != 0)
		return res;
	if (body_text_ok(r, &res) != 0)
		return res;
	files = xcalloc(COMMIT_MAX_PREUPLOAD, sizeof(*files));
	prc = commit_preupload_parse(r->body.data, r->body.len, &b, files, &n);
	if (prc == GG_EINVAL) {
		cJSON_Delete(b);
		free(files);
		return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest",
				  "Body must be {\"files\": [{\"path\", \"sample\", \"size\"}]} "
				  "(at most 1000)",
				  NULL);
	}
	o = cJSON_CreateObject();
	out = cJSON_AddArrayToObject(o, "files");
	/* The files parsed, in order: the rules answer for them before a bad
	 * file after them is refused. */
	for (size_t i = 0; i < n; i++) {
		const char *path = files[i].path;
		uint64_t size = files[i].size;
		cJSON *e;
		int rc = policy_check_path(gateway_policy(gw), path, size, why, sizeof(why));
		if (rc != GG_OK) {
			cJSON_Delete(o);
			cJSON_Delete(b);
			free(files);
			return gateway_policy_refuse(r, rc, why);
		}
		if (!token_bounds_allow(r->token_bounds, NULL, path)) {
			snprintf(why, sizeof(why),
				 "Token '%s' may not publish %.500s (rule: token bounds; see ggufd "
				 "token ls)",
				 r->token_name, path);
			cJSON_Delete(o);
			cJSON_Delete(b);
			free(files);
			return http_error(r, MHD_HTTP_FORBIDDEN, "Forbidden", why, NULL);
		}
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "path", path);
		cJSON_AddStringToObject(e, "uploadMode",
					store_is_lfs_path(path, size) ? "lfs" : "regular");
		cJSON_AddFalseToObject(e, "shouldIgnore");
		cJSON_AddItemToArray(out, e);
	}
	cJSON_Delete(b);
	free(files);
	if (prc != GG_OK) {
		cJSON_Delete(o);
		return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest",
				  "Each file needs a valid \"path\" and \"size\"", NULL);
	}
	if (store_ref_get(r->app->st, r->route.type, r->route.repo, r->route.rev, &ref) == GG_OK)
		cJSON_AddStringToObject(o, "commitOid", ref.commit);
	return gateway_json_reply(r, MHD_HTTP_OK, o, NULL);
}

/* What a commit's operations are taken into (commit_parse's callback). */
struct commit_ctx {
	struct gateway *gw;
	struct upload_job *job;
};

/* One parsed commit operation, done: the header kept, a deletion noted,
 * an LFS file checked against the store and the rules, an inline file
 * staged and checked.  0, or -1 with why and *err set. */
static int
commit_take(void *ctx, const struct commit_op *op, char *why, size_t whysz, int *err)
{
	struct commit_ctx *c = ctx;
	struct gateway *gw = c->gw;
	struct upload_job *job = c->job;
	const char *path = op->path;

	*err = GG_EINVAL;
	switch (op->kind) {
	case COMMIT_OP_HEADER:
		/* commit_parse checked the lengths against these fields. */
		snprintf(job->summary, sizeof(job->summary), "%s", op->summary);
		snprintf(job->description, sizeof(job->description), "%s", op->description);
		snprintf(job->parent, sizeof(job->parent), "%s", op->parent);
		return 0;
	case COMMIT_OP_DELETED_FILE:
	case COMMIT_OP_DELETED_FOLDER:
		journal_job_add_deletion(job, path, op->kind == COMMIT_OP_DELETED_FOLDER);
		return 0;
	case COMMIT_OP_LFS_FILE: {
		uint64_t size = op->size;
		if (!op->has_size) {
			/* huggingface_hub sends a copy of an LFS file
			 * (CommitOperationCopy) as an lfsFile with no size: the
			 * size is the stored object's. */
			struct store_view sv;
			struct index_blob b;
			if (store_view_begin(gw->st, &sv) == GG_OK &&
			    store_view_blob(&sv, op->oid, &b) == GG_OK)
				size = b.size;
			store_view_end(&sv);
		}
		if (!store_blob_has(gw->st, op->oid, size)) {
			*err = GG_EFORMAT;
			snprintf(why, whysz,
				 "%s: LFS object %s (%llu bytes) was not uploaded to this gateway "
				 "(LFS batch, then PUT)",
				 path, op->oid, (unsigned long long)size);
			return -1;
		}
		if ((*err = policy_check_blob(gateway_policy(gw), gw->st, path, op->oid, size, why,
					      whysz)) != GG_OK)
			return -1;
		journal_job_add_file(job, path, 1, op->oid, NULL, size);
		return 0;
	}
	case COMMIT_OP_FILE: {
		struct blob_writer *w = NULL;
		struct blob_digest d;
		int rc, fresh = 0;
		rc = store_writer_open(gw->st, (int64_t)op->len, &w);
		if (rc == GG_OK)
			rc = blob_writer_write(w, op->data, op->len);
		if (rc == GG_OK) {
			rc = store_writer_finish(gw->st, w, NULL, &d, &fresh);
			w = NULL;
		}
		blob_writer_abort(w);
		if (rc != GG_OK) {
			*err = rc;
			snprintf(why, whysz, "%s: cannot stage: %s", path, gg_strerror(rc));
			return -1;
		}
		if ((*err = policy_check_blob(gateway_policy(gw), gw->st, path, d.sha256, d.size,
					      why, whysz)) != GG_OK) {
			gateway_drop_refused(gw, d.sha256, fresh);
			return -1;
		}
		journal_job_add_file(job, path, 0, d.sha256, d.gitsha1, d.size);
		job->files[job->nfiles - 1].fresh = fresh;
		return 0;
	}
	}
	return -1; /* not reached: commit_parse hands on the kinds above only */
}

enum MHD_Result
gateway_commit(struct req *r)
{
	struct gateway *gw = r->app->gw;
	const char *name = r->token_name;
	char why[900];
	const char *ct = http_header(r, "Content-Type");
	enum MHD_Result res;
	int err = GG_EINVAL;
	struct upload_job *job;
	struct commit_ctx cc;
	int bad = 0;

	if (gateway_repo_allowed(r, gw, r->route.type, r->route.repo, &res) != 0)
		return res;
	if (body_text_ok(r, &res) != 0)
		return res;
	job = xcalloc(1, sizeof(*job));
	journal_job_init(job, uploadq_new_id(gw), name, r->route.type, r->route.repo, r->route.rev,
			 "Upload with ggufd", "", 0);
	job->create_pr = http_query_bool(r, "create_pr");
	http_client_addr(r, job->client, sizeof(job->client));
	/* The Hub's JSON form {"summary","description","files","lfsFiles",
	 * "deletedFiles"}, or NDJSON: one {"key","value"} a line. */
	cc.gw = gw;
	cc.job = job;
	switch (commit_parse(r->body.data, r->body.len,
			     ct != NULL && strncasecmp(ct, "application/json", 16) == 0,
			     commit_take, &cc, why, sizeof(why), &err)) {
	case GG_OK: break;
	case GG_EFORMAT:
		journal_job_free(job);
		free(job);
		return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest", "Body is not JSON", NULL);
	default: bad = 1;
	}
	if (!bad && job->nfiles == 0) {
		snprintf(why, sizeof(why), "The commit has no files");
		err = GG_EINVAL;
		bad = 1;
	}
	if (bad) {
		gateway_audit(r, gw, "commit", "refused",
			      err == GG_EFORMAT || err == GG_ETOOBIG ? "upload policy"
								     : "malformed commit",
			      job, NULL, NULL, why);
		drop_inline(gw, job);
		journal_job_free(job);
		free(job);
		if (err == GG_EFORMAT || err == GG_ETOOBIG)
			return gateway_policy_refuse(r, err, why);
		return http_error(r, http_status_for_error(err), "BadRequest", why, NULL);
	}
	if (gateway_perm_check(r, gw, job, &res) != GG_OK) {
		drop_inline(gw, job);
		journal_job_free(job);
		free(job);
		return res;
	}
	/* Journaled as publishing: the worker leaves it to this request (a
	 * restart turns it back into pending).  The journal protects the
	 * inline files' blobs from here on. */
	uploadq_save(gw, job, STORE_JOB_PUBLISHING);
	unstage_inline(gw, job);
	return uploadq_publish(r, gw, job, 0);
}
