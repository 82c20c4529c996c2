/*
 * ui.c: serves the dashboard (web/), embedded in the binary at build time
 * (web/embed.sh -> web/assets.c), from memory.
 *
 *   GET /          web/index.html          Cache-Control: no-cache
 *   GET /ui/{name} web/{name} (css, js)    ETag: "<sha256>", 304 on If-None-Match
 *
 * Each file is looked up by exact path in web_assets[]; no file system is
 * involved.  Clients that accept gzip get the copy compressed at build
 * time.  The page runs under a strict Content-Security-Policy: its script
 * and style come from this origin only, nothing inline, and it may only
 * talk to this origin (the JSON routes).
 */
#include "config.h"

#include <string.h>

#include "app.h"
#include "log.h"
#include "range.h"
#include "ui.h"
#include "web/assets.h"

#define UI_CSP                                                                                     \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "          \
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

static const struct web_asset *
find(const char *path)
{
	for (size_t i = 0; i < web_nassets; i++)
		if (strcmp(web_assets[i].path, path) == 0)
			return &web_assets[i];
	return NULL;
}

static int
accepts_gzip(struct req *r)
{
	const char *ae = http_header(r, "Accept-Encoding");
	return ae != NULL && strstr(ae, "gzip") != NULL;
}

enum MHD_Result
ui_handle(struct req *r)
{
	char path[GG_MAX_REPO_PATH_LEN + 8];
	const struct web_asset *a;
	struct MHD_Response *resp;
	unsigned status = MHD_HTTP_OK;
	int gz;

	if (r->route.kind == ROUTE_INDEX)
		a = find("/");
	else if (snprintf_checked(path, sizeof(path), "/ui/%s", r->route.path) == GG_OK)
		a = find(path);
	else
		a = NULL;
	if (a == NULL)
		return http_error(r, MHD_HTTP_NOT_FOUND, NULL, "Not found", NULL);
	gz = accepts_gzip(r);
	if (range_if_none_match(http_header(r, "If-None-Match"), a->etag)) {
		resp = http_response_buffer(0, "", MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_NOT_MODIFIED;
	} else if (gz) {
		resp = http_response_buffer(a->gzlen, (void *)a->gz, MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(resp, "Content-Encoding", "gzip");
	} else {
		resp = http_response_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
	}
	MHD_add_response_header(resp, "Content-Type", a->ctype);
	MHD_add_response_header(resp, "ETag", a->etag);
	MHD_add_response_header(resp, "Vary", "Accept-Encoding");
	/* Names are not content-hashed: revalidate every time (cheap, 304). */
	MHD_add_response_header(resp, "Cache-Control", "no-cache");
	MHD_add_response_header(resp, "Content-Security-Policy", UI_CSP);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	return http_queue(r, status, resp);
}
