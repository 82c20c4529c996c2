/*
 * routes.c: every route ggufd answers, in one table.
 *
 * A row says which methods a route takes (anything else is 405 with an
 * Allow header built from the row), who may call it (auth.c), what it
 * needs configured, how its body is read, and which handler answers.  The
 * HTTP core follows the table and names no handler; this is the only
 * file that includes every handler header.  The table is indexed by route
 * kind with designated initialisers, so a kind without a row is 404 and a
 * row cannot end up under the wrong kind (the core checks e->kind).
 *
 * A new route: a kind in route.h, its parse rule in route.c with rows in
 * tests/unit/test_route.c, a row here, and its handler.
 */
#include "config.h"

#include "admin.h"
#include "api.h"
#include "disk.h"
#include "gateway.h"
#include "lfs.h"
#include "metrics.h"
#include "registry.h"
#include "gg_limits.h"
#include "resolve.h"
#include "routes.h"
#include "ui.h"
#include "upload.h"
#include "uploadq.h"
#include "v2.h"

/* Rows by shape: a read route, a JSON POST, a streamed upload.  The table
 * is laid out by hand (clang-format would indent it as a braced list). */
/* clang-format off */
#define READ(k, scope, needs, fn) [k] = { k, HTTP_READ, scope, needs, BODY_NONE, 0, NULL, NULL, fn }
#define POST(k, scope, needs, max, fn) [k] = { k, HTTP_POST, scope, needs, BODY_BUFFER, max, NULL, NULL, fn }
#define STREAM(k, methods, scope, needs, begin, end) \
	[k] = { k, methods, scope, needs, BODY_STREAM, 0, begin, end, NULL }

const struct route_entry routes_table[ROUTE_NKINDS] = {
	/* Mirror and registry: public, unless reads need a token; a repo
	 * upstream keeps private needs one (NEED_VISIBLE), and the listings
	 * name it only to one (NEED_LISTING). */
	READ(ROUTE_INDEX, SCOPE_PUBLIC, 0, ui_handle),
	READ(ROUTE_UI, SCOPE_NONE, 0, ui_handle),
	READ(ROUTE_GGUFD_REPOS, SCOPE_PUBLIC, NEED_LISTING, admin_repos),
	READ(ROUTE_GGUFD_ACTIVITY, SCOPE_PUBLIC, NEED_LISTING, admin_activity),
	READ(ROUTE_GGUFD_FILES, SCOPE_PUBLIC, NEED_LISTING, admin_files),
	READ(ROUTE_GGUFD_REGISTRY, SCOPE_PUBLIC, NEED_VISIBLE, registry_handle),
	READ(ROUTE_RESOLVE, SCOPE_PUBLIC, NEED_VISIBLE, resolve_handle),
	READ(ROUTE_RAW, SCOPE_PUBLIC, NEED_VISIBLE, resolve_handle),
	READ(ROUTE_API_INFO, SCOPE_PUBLIC, NEED_VISIBLE, api_info),
	READ(ROUTE_API_TREE, SCOPE_PUBLIC, NEED_VISIBLE, api_tree),
	READ(ROUTE_API_REFS, SCOPE_PUBLIC, NEED_VISIBLE, api_refs),
	READ(ROUTE_API_COMMITS, SCOPE_PUBLIC, NEED_VISIBLE, api_commits),
	POST(ROUTE_API_PATHS_INFO, SCOPE_PUBLIC, NEED_VISIBLE, 0, api_paths_info),
	READ(ROUTE_HEALTHZ, SCOPE_NONE, 0, admin_healthz),
	READ(ROUTE_METRICS, SCOPE_PUBLIC, 0, metrics_handle),
	/* The inference clients' registry fronts (v2.c). */
	READ(ROUTE_V2_PING, SCOPE_PUBLIC, 0, v2_ping),
	READ(ROUTE_V2_MANIFEST, SCOPE_PUBLIC, NEED_VISIBLE, v2_manifest),
	READ(ROUTE_V2_BLOB, SCOPE_PUBLIC, NEED_VISIBLE, v2_blob),

	/* The Hub's upload protocol, terminated here (gateway.c). */
	POST(ROUTE_API_PREUPLOAD, SCOPE_UPLOAD, NEED_GATEWAY, 0, gateway_preupload),
	POST(ROUTE_API_COMMIT, SCOPE_UPLOAD, NEED_GATEWAY, GG_MAX_COMMIT_BODY, gateway_commit),
	POST(ROUTE_LFS_BATCH, SCOPE_UPLOAD, NEED_GATEWAY, 0, lfs_batch),
	POST(ROUTE_REPO_CREATE, SCOPE_UPLOAD, NEED_GATEWAY, 0, gateway_repo_create),
	READ(ROUTE_WHOAMI, SCOPE_READ, 0, gateway_whoami),
	POST(ROUTE_VALIDATE_YAML, SCOPE_NONE, 0, 0, gateway_validate_yaml),
	READ(ROUTE_API_XET_READ, SCOPE_NONE, 0, gateway_xet),
	READ(ROUTE_API_XET_WRITE, SCOPE_NONE, 0, gateway_xet),
	/* Refs: POST creates, DELETE deletes.  Creating a branch needs upload
	 * scope; a tag (a release) admin; deleting either needs an admin token,
	 * which gateway_ref checks (one row, one scope). */
	[ROUTE_API_BRANCH] = { ROUTE_API_BRANCH, HTTP_POST | HTTP_DELETE, SCOPE_UPLOAD, NEED_GATEWAY,
			       BODY_BUFFER, 0, NULL, NULL, gateway_ref },
	[ROUTE_API_TAG] = { ROUTE_API_TAG, HTTP_POST | HTTP_DELETE, SCOPE_ADMIN, NEED_GATEWAY,
			    BODY_BUFFER, 0, NULL, NULL, gateway_ref },
	/* Signed hrefs: the HMAC in the query is the credential. */
	STREAM(ROUTE_LFS_OBJECT, HTTP_PUT, SCOPE_NONE, NEED_GATEWAY, lfs_begin, lfs_end),
	STREAM(ROUTE_LFS_PART, HTTP_PUT, SCOPE_NONE, NEED_GATEWAY, lfs_begin, lfs_end),
	STREAM(ROUTE_LFS_COMPLETE, HTTP_POST, SCOPE_NONE, NEED_GATEWAY, lfs_begin, lfs_end),

	/* ggufd's own routes. */
	STREAM(ROUTE_GGUFD_UPLOAD_PUT, HTTP_PUT, SCOPE_UPLOAD, NEED_GATEWAY, upload_begin,
	       upload_end),
	READ(ROUTE_GGUFD_UPLOADS, SCOPE_UPLOAD, NEED_GATEWAY, uploadq_list),
	READ(ROUTE_GGUFD_UPLOAD_JOB, SCOPE_UPLOAD, NEED_GATEWAY, uploadq_get),
	[ROUTE_GGUFD_PULL] = { ROUTE_GGUFD_PULL, HTTP_READ | HTTP_POST, SCOPE_ADMIN, NEED_PULL,
			       BODY_BUFFER, 0, NULL, NULL, admin_pull },
	READ(ROUTE_GGUFD_PULL_JOB, SCOPE_ADMIN, NEED_PULL, admin_pull_job),
	READ(ROUTE_GGUFD_AUDIT, SCOPE_ADMIN, 0, admin_audit),
	READ(ROUTE_GGUFD_DISK, SCOPE_PUBLIC, NEED_LISTING, disk_usage),
	[ROUTE_GGUFD_PINS] = { ROUTE_GGUFD_PINS, HTTP_READ | HTTP_POST, SCOPE_ADMIN, 0,
			       BODY_BUFFER, 0, NULL, NULL, disk_pins },
	[ROUTE_GGUFD_TOKENS] = { ROUTE_GGUFD_TOKENS, HTTP_READ | HTTP_POST, SCOPE_ADMIN, 0,
				 BODY_BUFFER, 0, NULL, NULL, admin_tokens },
	[ROUTE_GGUFD_TOKEN] = { ROUTE_GGUFD_TOKEN, HTTP_DELETE, SCOPE_ADMIN, 0, BODY_NONE, 0, NULL,
				NULL, admin_token },
};

/* clang-format on */

const size_t routes_count = ROUTE_NKINDS;
