/*
 * route.h: turns a raw request path into a route.
 *
 * The router works on the raw path, as it came on the wire: it splits on
 * "/" first and only then percent-decodes each segment, so an encoded
 * revision like "refs%2Fpr%2F1" stays one segment (HF-PROTOCOL.md 1.2).
 * It never touches the filesystem; the decoded names are looked up in the
 * index only.
 *
 *   /{repo}/resolve/{rev}/{path...}              ROUTE_RESOLVE
 *   /{repo}/raw/{rev}/{path...}                  ROUTE_RAW
 *   /datasets/{repo}/..., /spaces/{repo}/...     same, other repo type
 *   /api/{models|datasets|spaces}/{repo}         ROUTE_API_INFO
 *   /api/.../{repo}/revision/{rev}               ROUTE_API_INFO (has_rev)
 *   /api/.../{repo}/tree/{rev}[/{path...}]       ROUTE_API_TREE
 *   /api/.../{repo}/paths-info/{rev}             ROUTE_API_PATHS_INFO
 *   /api/.../{repo}/refs                         ROUTE_API_REFS
 *   /healthz                                     ROUTE_HEALTHZ
 *   /                                            ROUTE_INDEX
 *
 * {repo} is "namespace/name" or a single legacy segment ("gpt2"); the
 * router finds the marker segment (resolve, raw, tree, ...) at position 2,
 * else at position 1, instead of counting segments.  A revision whose
 * first raw segment is "refs" takes three segments (refs/pr/1, unencoded
 * as JS listFiles sends it).  Path segments are decoded one by one and
 * joined with "/".
 */
#ifndef GG_ROUTE_H
#define GG_ROUTE_H

#include <stddef.h>

#include "index.h" /* enum repo_type */
#include "limits.h"

enum route_kind {
	ROUTE_NONE = 0,
	ROUTE_INDEX,
	ROUTE_HEALTHZ,
	ROUTE_RESOLVE,
	ROUTE_RAW,
	ROUTE_API_INFO,
	ROUTE_API_TREE,
	ROUTE_API_PATHS_INFO,
	ROUTE_API_REFS,
};

struct route {
	enum route_kind kind;
	enum repo_type type;
	int has_rev;
	int has_path;
	char repo[GG_MAX_REPO_LEN + 1];
	char rev[GG_MAX_REV_LEN + 1];
	char path[GG_MAX_REPO_PATH_LEN + 1];
};

/*
 * Parses the raw path [path, path+len) (no query string).  Returns 0 and
 * fills *out, or
 *   GG_ENOENT  no route has this shape (404)
 *   GG_EINVAL  malformed: bad or NUL percent-escape, empty, "." or ".."
 *              segment, a repo name with invalid characters, a missing
 *              revision or path (400)
 *   GG_ETOOBIG too many segments or a name over its GG_MAX_* limit (400/414)
 */
int route_parse(const char *path, size_t len, struct route *out);

/*
 * Percent-decodes [s, s+n) into out (outsz bytes, NUL-terminated).
 * "+" is kept as is (paths, not forms).  Returns the decoded length, or
 * GG_EINVAL (bad escape or %00), GG_ETOOBIG (does not fit).
 */
long route_pct_decode(const char *s, size_t n, char *out, size_t outsz);

/* "model", "dataset", "space" */
const char *route_type_name(enum repo_type t);
/* "models", "datasets", "spaces" (API path component) */
const char *route_type_plural(enum repo_type t);
/* "", "datasets/", "spaces/" (resolve URL prefix) */
const char *route_type_prefix(enum repo_type t);

/* True if s is a valid repo id: 1 or 2 segments of [A-Za-z0-9._-], no
 * segment "." or "..", no leading/trailing "-" or "." rules beyond that. */
int route_valid_repo(const char *s);

#endif
