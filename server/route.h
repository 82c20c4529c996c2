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
 *   /api/.../{repo}/commits/{rev}                ROUTE_API_COMMITS
 *   /api/.../{repo}/branch/{branch}              ROUTE_API_BRANCH (rev = the branch)
 *   /api/.../{repo}/tag/{rev}                    ROUTE_API_TAG
 *   /api/.../{repo}/preupload/{rev}              ROUTE_API_PREUPLOAD
 *   /api/.../{repo}/commit/{rev}                 ROUTE_API_COMMIT
 *   /api/.../{repo}/xet-{read|write}-token/{rev} ROUTE_API_XET_READ / _WRITE
 *   /[datasets/|spaces/]{repo}.git/info/lfs/objects/batch   ROUTE_LFS_BATCH
 *   /api/whoami-v2, /api/validate-yaml, /api/repos/create
 *   /healthz                                     ROUTE_HEALTHZ
 *   /metrics                                     ROUTE_METRICS
 *   /                                            ROUTE_INDEX
 *
 * ggufd's own routes, parsed here like the Hub's (no prefix matching
 * anywhere else):
 *   /ui/{name}                                   ROUTE_UI (path = name)
 *   /api/ggufd/repos                             ROUTE_GGUFD_REPOS
 *   /api/ggufd/activity                          ROUTE_GGUFD_ACTIVITY
 *   /api/ggufd/files                             ROUTE_GGUFD_FILES
 *   /api/ggufd/disk                              ROUTE_GGUFD_DISK
 *   /api/ggufd/pins                              ROUTE_GGUFD_PINS
 *   /api/ggufd/pull                              ROUTE_GGUFD_PULL
 *   /api/ggufd/pull/{id}                         ROUTE_GGUFD_PULL_JOB (id)
 *   /api/ggufd/uploads                           ROUTE_GGUFD_UPLOADS
 *   /api/ggufd/audit                             ROUTE_GGUFD_AUDIT
 *   /api/ggufd/tokens                            ROUTE_GGUFD_TOKENS
 *   /api/ggufd/tokens/{name}                     ROUTE_GGUFD_TOKEN (path = name)
 *   /api/ggufd/uploads/{id}                      ROUTE_GGUFD_UPLOAD_JOB (id)
 *   /api/ggufd/registry/{repo}                   ROUTE_GGUFD_REGISTRY (a model repo)
 *   /api/ggufd/upload/{ns}/{name}/{path...}      ROUTE_GGUFD_UPLOAD_PUT
 *   /_ggufd/lfs/{oid}                            ROUTE_LFS_OBJECT (oid)
 *   /_ggufd/lfs/{oid}/part/{n}                   ROUTE_LFS_PART (oid, id = n)
 *   /_ggufd/lfs/{oid}/complete                   ROUTE_LFS_COMPLETE (oid)
 * The registry fronts of the inference clients (llama.cpp, node-llama-cpp,
 * Ollama; shared/CLIENTS.md 4.4-4.6), always a two-segment repo:
 *   /v2/ (or /v2)                                ROUTE_V2_PING
 *   /v2/{ns}/{name}/manifests/{tag}              ROUTE_V2_MANIFEST (rev = the tag, one
 *                                                segment, decoded and checked as a path's)
 *   /v2/{ns}/{name}/blobs/sha256:{hex}           ROUTE_V2_BLOB (oid = the hex, lowercased;
 *                                                anything but 64 hex digits is GG_ENOENT)
 * A repo "v2/{name}" keeps its resolve and raw routes: "/v2/{name}/resolve/
 * manifests/x" is a file of it, not a manifest.
 * A new route (/metrics, /ui/..., /v2/...) is a kind below, a parse rule
 * in route.c with its rows in test_route.c, and a row in routes.c.
 *
 * {repo} is "namespace/name" or a single legacy segment ("gpt2"); the
 * router finds the marker segment (resolve, raw, tree, ...) at position 2,
 * else at position 1, instead of counting segments.  Markers are matched
 * literally on the raw segment.  "refs" is a marker only as the last
 * segment, so "/api/models/gpt2/tree/refs/pr/1" is a tree.  A revision whose
 * first raw segment is "refs" takes three segments (refs/pr/1, unencoded
 * as JS listFiles sends it).  Path segments are decoded one by one and
 * joined with "/"; a segment may hold an encoded "/" (Python sends a tree
 * sub-path as "sub%2Fdir").  Repo segments may not.
 */
#ifndef GG_ROUTE_H
#define GG_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "index.h" /* enum repo_type */
#include "gg_limits.h"

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
	ROUTE_API_PREUPLOAD,    /* POST /api/{t}s/{repo}/preupload/{rev} */
	ROUTE_API_COMMIT,       /* POST /api/{t}s/{repo}/commit/{rev} */
	ROUTE_API_XET_READ,     /* GET  /api/{t}s/{repo}/xet-read-token/{rev} */
	ROUTE_API_XET_WRITE,    /* GET  /api/{t}s/{repo}/xet-write-token/{rev} */
	ROUTE_API_COMMITS,      /* GET  /api/{t}s/{repo}/commits/{rev} */
	ROUTE_API_BRANCH,       /* POST /api/{t}s/{repo}/branch/{branch} */
	ROUTE_API_TAG,          /* POST /api/{t}s/{repo}/tag/{rev} */
	ROUTE_LFS_BATCH,        /* POST /{repo}.git/info/lfs/objects/batch */
	ROUTE_WHOAMI,           /* GET  /api/whoami-v2 */
	ROUTE_VALIDATE_YAML,    /* POST /api/validate-yaml */
	ROUTE_REPO_CREATE,      /* POST /api/repos/create */
	ROUTE_GGUFD_PULL,       /* GET|POST /api/ggufd/pull */
	ROUTE_GGUFD_PULL_JOB,   /* GET /api/ggufd/pull/{id} */
	ROUTE_GGUFD_UPLOADS,    /* GET /api/ggufd/uploads */
	ROUTE_GGUFD_UPLOAD_JOB, /* GET /api/ggufd/uploads/{id} */
	ROUTE_GGUFD_UPLOAD_PUT, /* PUT /api/ggufd/upload/{ns}/{name}/{path...} */
	ROUTE_GGUFD_AUDIT,      /* GET /api/ggufd/audit */
	ROUTE_LFS_OBJECT,       /* PUT /_ggufd/lfs/{oid} */
	ROUTE_LFS_PART,         /* PUT /_ggufd/lfs/{oid}/part/{n} */
	ROUTE_LFS_COMPLETE,     /* POST /_ggufd/lfs/{oid}/complete */
	ROUTE_UI,               /* GET /ui/{name}: the dashboard's files */
	ROUTE_GGUFD_REPOS,      /* GET /api/ggufd/repos */
	ROUTE_METRICS,          /* GET /metrics */
	ROUTE_GGUFD_ACTIVITY,   /* GET /api/ggufd/activity */
	ROUTE_GGUFD_FILES,      /* GET /api/ggufd/files?repo=... */
	ROUTE_GGUFD_DISK,       /* GET /api/ggufd/disk */
	ROUTE_GGUFD_PINS,       /* GET|POST /api/ggufd/pins */
	ROUTE_GGUFD_TOKENS,     /* GET|POST /api/ggufd/tokens */
	ROUTE_GGUFD_TOKEN,      /* DELETE /api/ggufd/tokens/{name} */
	ROUTE_GGUFD_REGISTRY,   /* GET /api/ggufd/registry/{repo} */
	ROUTE_V2_PING,          /* GET /v2/: the registry's version check */
	ROUTE_V2_MANIFEST,      /* GET|HEAD /v2/{ns}/{name}/manifests/{tag} */
	ROUTE_V2_BLOB,          /* GET|HEAD /v2/{ns}/{name}/blobs/sha256:{hex} */
	ROUTE_NKINDS            /* keep last: the size of the route table */
};

/* Upper bounds of the numeric route arguments. */
#define ROUTE_MAX_PULL_ID (1ull << 30)
#define ROUTE_MAX_UPLOAD_ID (1ull << 40)
#define ROUTE_MAX_LFS_PART 100000

struct route {
	enum route_kind kind;
	enum repo_type type;
	int has_rev;
	int has_path;
	char repo[GG_MAX_REPO_LEN + 1];
	char rev[GG_MAX_REV_LEN + 1];
	char path[GG_MAX_REPO_PATH_LEN + 1];
	uint64_t id;                 /* job id, or LFS part number (>= 1) */
	char oid[GG_SHA256_HEX + 1]; /* LFS and /v2 blob routes: lowercase hex sha256 */
	const char *why;             /* on error: what was wrong (static text, for the client) */
};

/*
 * Parses the raw path [path, path+len) (no query string; no NUL needed,
 * and a NUL byte inside is malformed).  Returns 0 and fills *out, or
 *   GG_ENOENT  no route has this shape (404)
 *   GG_EINVAL  malformed: no leading "/", an empty segment ("//"), a bad
 *              or NUL percent-escape, a "." or ".." component, a control
 *              character (0x00-0x1f, 0x7f) or bytes that are not UTF-8
 *              in rev or path, even when they came encoded ("%2e%2e",
 *              "a%2F..", "%0A", "%FF", "%C0%AF"), a repo name with
 *              invalid characters, a missing revision or path, or a
 *              trailing "/" on anything but a tree (400)
 *   GG_ETOOBIG len over GG_MAX_URL_LEN, more than GG_MAX_SEGMENTS
 *              segments, or a decoded repo, rev or path over its GG_MAX_*
 *              limit (400/414)
 * Shape is checked before content, so a well-formed path of an unknown
 * shape is GG_ENOENT whatever its segments hold.  ggufd's own routes: a
 * job id that is not a decimal in 1..ROUTE_MAX_*_ID is GG_EINVAL; a token
 * name is one segment, percent-decoded and checked as a path component
 * (GG_EINVAL for a bad escape, "." or "..", a control character; the
 * handler looks the name up, so a name no token has is its 404); an LFS
 * oid that is not 64 lowercase hex digits, or a part number outside
 * 1..ROUTE_MAX_LFS_PART, is GG_ENOENT (a signed href never has them).  On success repo passes
 * route_valid_repo() (empty for INDEX and HEALTHZ), and rev and path are
 * NUL-terminated, with has_rev/has_path saying whether they were given.
 * On error *out is zeroed (kind ROUTE_NONE) but for why, a static string
 * naming the problem ("a NUL byte (%00) in the path", "bytes that are not
 * UTF-8 in the path", ...).  Pure function, thread safe.
 */
int route_parse(const char *path, size_t len, struct route *out);

/*
 * Percent-decodes [s, s+n) into out (outsz bytes, NUL-terminated).
 * "+" is kept as is (paths, not forms); hex digits in either case.
 * Returns the decoded length, or GG_EINVAL (bad or truncated escape, %00,
 * a raw NUL byte), GG_ETOOBIG (does not fit, NUL included, or out is NULL
 * or outsz 0).  On error out holds "" when outsz > 0.
 */
long route_pct_decode(const char *s, size_t n, char *out, size_t outsz);

/* A short stable name of a route kind ("resolve", "api_tree", ...), for
 * metrics and logs. */
const char *route_kind_name(enum route_kind k);

/* "model", "dataset", "space" */
const char *route_type_name(enum repo_type t);
/* "models", "datasets", "spaces" (API path component) */
const char *route_type_plural(enum repo_type t);
/* "", "datasets/", "spaces/" (resolve URL prefix) */
const char *route_type_prefix(enum repo_type t);

/* True if s is a valid repo id: 1 or 2 segments of [A-Za-z0-9._-], no
 * segment "." or "..", no leading/trailing "-" or "." rules beyond that. */
int route_valid_repo(const char *s);
/* "datasets/x/y" -> (REPO_DATASET, "x/y"); "spaces/..." and "models/..."
 * likewise, anything else a model.  *repo points into arg.  0 if the rest
 * is a valid repo id (route_valid_repo), else -1. */
int route_split_repo(const char *arg, enum repo_type *type, const char **repo);

#endif
