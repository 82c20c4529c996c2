/*
 * test_route.c: unit tests for server/route.c.
 *
 * Tables of raw request paths as the clients send them (HF-PROTOCOL.md
 * 1.1, 1.2, 3.2) with the route each must give, then the paths that must
 * be refused: traversal in every spelling, bad escapes, malformed shapes,
 * and every GG_MAX_* edge the router enforces.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gg_limits.h"
#include "route.h"
#include "util.h"

struct ok_case {
	const char *path;
	enum route_kind kind;
	enum repo_type type;
	const char *repo; /* NULL: empty */
	const char *rev;  /* NULL: has_rev 0 */
	const char *file; /* NULL: has_path 0 */
};

struct err_case {
	const char *path;
	int err;
};

static void
check_ok(const struct ok_case *c)
{
	struct route r;
	int err;

	memset(&r, 0xa5, sizeof(r));
	err = route_parse(c->path, strlen(c->path), &r);
	if (err != GG_OK)
		fail_msg("\"%s\": %s", c->path, gg_strerror(err));
	if (r.kind != c->kind || r.type != c->type)
		fail_msg("\"%s\": kind %d type %d", c->path, (int)r.kind, (int)r.type);
	if (strcmp(r.repo, c->repo ? c->repo : "") != 0)
		fail_msg("\"%s\": repo \"%s\"", c->path, r.repo);
	if (r.has_rev != (c->rev != NULL) || strcmp(r.rev, c->rev ? c->rev : "") != 0)
		fail_msg("\"%s\": rev %d \"%s\"", c->path, r.has_rev, r.rev);
	if (r.has_path != (c->file != NULL) || strcmp(r.path, c->file ? c->file : "") != 0)
		fail_msg("\"%s\": path %d \"%s\"", c->path, r.has_path, r.path);
}

static void
check_err_len(const char *path, size_t len, int want)
{
	struct route r;
	int err;

	memset(&r, 0xa5, sizeof(r));
	err = route_parse(path, len, &r);
	if (err != want)
		fail_msg("\"%.*s\": got %s (%d), want %s", (int)(len > 200 ? 200 : len), path,
			 gg_strerror(err), err, gg_strerror(want));
	/* A failed parse leaves no half-filled route behind. */
	assert_int_equal(r.kind, ROUTE_NONE);
	assert_string_equal(r.repo, "");
}

/* A refused path's why names the problem (the client's error message). */
static void
check_why_len(const char *path, size_t len, const char *want)
{
	struct route r;

	memset(&r, 0xa5, sizeof(r));
	assert_int_not_equal(route_parse(path, len, &r), GG_OK);
	assert_non_null(r.why);
	if (strstr(r.why, want) == NULL)
		fail_msg("\"%.*s\": why \"%s\", want \"%s\" in it", (int)len, path, r.why, want);
}

static void
check_why(const char *path, const char *want)
{
	check_why_len(path, strlen(path), want);
}

static void
check_err(const struct err_case *c)
{
	check_err_len(c->path, strlen(c->path), c->err);
}

#define M REPO_MODEL
#define D REPO_DATASET
#define S REPO_SPACE

static void
test_resolve_routes(void **state)
{
	static const struct ok_case cases[] = {
		{ "/TheBloke/Llama-2-7B-Chat-GGUF/resolve/main/llama-2-7b-chat.Q2_K.gguf",
		  ROUTE_RESOLVE, M, "TheBloke/Llama-2-7B-Chat-GGUF", "main",
		  "llama-2-7b-chat.Q2_K.gguf" },
		{ "/org/m/raw/main/config.json", ROUTE_RAW, M, "org/m", "main", "config.json" },
		{ "/org/m/resolve/main/sub/dir/f.txt", ROUTE_RESOLVE, M, "org/m", "main",
		  "sub/dir/f.txt" },
		{ "/org/m/resolve/191239b/x.gguf", ROUTE_RESOLVE, M, "org/m", "191239b", "x.gguf" },
		{ "/org/m/resolve/191239b3e26b2882fb562ffccdd1cf0f65402adb/x", ROUTE_RESOLVE, M,
		  "org/m", "191239b3e26b2882fb562ffccdd1cf0f65402adb", "x" },
		/* Legacy single-segment repos. */
		{ "/gpt2/resolve/main/config.json", ROUTE_RESOLVE, M, "gpt2", "main",
		  "config.json" },
		{ "/bert-base-uncased/raw/main/vocab.txt", ROUTE_RAW, M, "bert-base-uncased",
		  "main", "vocab.txt" },
		{ "/gpt2/resolve/main/onnx/decoder_model.onnx", ROUTE_RESOLVE, M, "gpt2", "main",
		  "onnx/decoder_model.onnx" },
		/* Repo types. */
		{ "/datasets/org/ds/resolve/main/data/train.csv", ROUTE_RESOLVE, D, "org/ds",
		  "main", "data/train.csv" },
		{ "/datasets/squad/resolve/main/plain_text/train.parquet", ROUTE_RESOLVE, D,
		  "squad", "main", "plain_text/train.parquet" },
		{ "/spaces/org/sp/resolve/main/app.py", ROUTE_RESOLVE, S, "org/sp", "main",
		  "app.py" },
		{ "/spaces/org/sp/raw/main/README.md", ROUTE_RAW, S, "org/sp", "main",
		  "README.md" },
		/* Revisions: Python quote(rev, safe=""), JS raw refs/pr/N. */
		{ "/org/m/resolve/refs%2Fpr%2F1/model.gguf", ROUTE_RESOLVE, M, "org/m", "refs/pr/1",
		  "model.gguf" },
		{ "/org/m/resolve/refs%2fpr%2f1/model.gguf", ROUTE_RESOLVE, M, "org/m", "refs/pr/1",
		  "model.gguf" },
		{ "/org/m/resolve/refs/pr/1/model.gguf", ROUTE_RESOLVE, M, "org/m", "refs/pr/1",
		  "model.gguf" },
		{ "/gpt2/resolve/refs/pr/1/a/b", ROUTE_RESOLVE, M, "gpt2", "refs/pr/1", "a/b" },
		{ "/datasets/org/ds/resolve/refs/convert/parquet/default/train/0.parquet",
		  ROUTE_RESOLVE, D, "org/ds", "refs/convert/parquet", "default/train/0.parquet" },
		{ "/org/m/resolve/v1.0/x", ROUTE_RESOLVE, M, "org/m", "v1.0", "x" },
		{ "/org/m/resolve/feature%2Fbranch/x", ROUTE_RESOLVE, M, "org/m", "feature/branch",
		  "x" },
		/* File paths: Python quote(path) keeps "/", encodes the rest. */
		{ "/org/m/resolve/main/a%20b/c%2Bd+e.gguf", ROUTE_RESOLVE, M, "org/m", "main",
		  "a b/c+d+e.gguf" },
		{ "/org/m/resolve/main/%E6%97%A5%E6%9C%AC.txt", ROUTE_RESOLVE, M, "org/m", "main",
		  "\xe6\x97\xa5\xe6\x9c\xac.txt" },
		{ "/org/m/resolve/main/sub%2Fdir/x", ROUTE_RESOLVE, M, "org/m", "main",
		  "sub/dir/x" },
		{ "/org/m/resolve/main/.gitattributes", ROUTE_RESOLVE, M, "org/m", "main",
		  ".gitattributes" },
		{ "/org/m/resolve/main/...", ROUTE_RESOLVE, M, "org/m", "main", "..." },
		{ "/org/m/resolve/main/a..b", ROUTE_RESOLVE, M, "org/m", "main", "a..b" },
		{ "/org/m/resolve/main/%25", ROUTE_RESOLVE, M, "org/m", "main", "%" },
		/* A repo whose name is a marker: position 2 is tried first. */
		{ "/user/resolve/resolve/main/f", ROUTE_RESOLVE, M, "user/resolve", "main", "f" },
		{ "/org/raw/raw/main/f", ROUTE_RAW, M, "org/raw", "main", "f" },
		/* Encoded repo names decode to the same id. */
		{ "/org/m%2Dx/resolve/main/f", ROUTE_RESOLVE, M, "org/m-x", "main", "f" },
		{ "/Org.A_b/M-1.0_x/resolve/main/f", ROUTE_RESOLVE, M, "Org.A_b/M-1.0_x", "main",
		  "f" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_ok(&cases[i]);
}

static void
test_api_routes(void **state)
{
	static const struct ok_case cases[] = {
		{ "/api/models/gpt2", ROUTE_API_INFO, M, "gpt2", NULL, NULL },
		{ "/api/models/org/m", ROUTE_API_INFO, M, "org/m", NULL, NULL },
		{ "/api/datasets/org/ds", ROUTE_API_INFO, D, "org/ds", NULL, NULL },
		{ "/api/spaces/org/sp", ROUTE_API_INFO, S, "org/sp", NULL, NULL },
		{ "/api/datasets/squad", ROUTE_API_INFO, D, "squad", NULL, NULL },
		{ "/api/models/org/m/revision/main", ROUTE_API_INFO, M, "org/m", "main", NULL },
		{ "/api/models/org/m/revision/HEAD", ROUTE_API_INFO, M, "org/m", "HEAD", NULL },
		{ "/api/models/gpt2/revision/main", ROUTE_API_INFO, M, "gpt2", "main", NULL },
		{ "/api/models/org/m/revision/refs%2Fpr%2F1", ROUTE_API_INFO, M, "org/m",
		  "refs/pr/1", NULL },
		{ "/api/models/org/m/revision/refs/pr/1", ROUTE_API_INFO, M, "org/m", "refs/pr/1",
		  NULL },
		/* Tree: rev, then an optional sub-path. */
		{ "/api/models/org/m/tree/main", ROUTE_API_TREE, M, "org/m", "main", NULL },
		{ "/api/models/org/m/tree/main/", ROUTE_API_TREE, M, "org/m", "main", NULL },
		{ "/api/models/org/m/tree/main/sub/dir", ROUTE_API_TREE, M, "org/m", "main",
		  "sub/dir" },
		{ "/api/models/org/m/tree/main/sub/dir/", ROUTE_API_TREE, M, "org/m", "main",
		  "sub/dir" },
		/* Python: quote(path, safe="") sends "/" as %2F. */
		{ "/api/models/org/m/tree/refs%2Fpr%2F1/sub%2Fdir", ROUTE_API_TREE, M, "org/m",
		  "refs/pr/1", "sub/dir" },
		{ "/api/datasets/org/ds/tree/main/a%20b%2Fc", ROUTE_API_TREE, D, "org/ds", "main",
		  "a b/c" },
		/* JS listFiles: rev and path unencoded. */
		{ "/api/models/org/m/tree/refs/pr/1/sub/dir", ROUTE_API_TREE, M, "org/m",
		  "refs/pr/1", "sub/dir" },
		{ "/api/models/gpt2/tree/refs/pr/1", ROUTE_API_TREE, M, "gpt2", "refs/pr/1", NULL },
		{ "/api/models/gpt2/tree/refs/pr/1/onnx", ROUTE_API_TREE, M, "gpt2", "refs/pr/1",
		  "onnx" },
		{ "/api/models/gpt2/tree/main", ROUTE_API_TREE, M, "gpt2", "main", NULL },
		{ "/api/models/gpt2/tree/main/refs", ROUTE_API_TREE, M, "gpt2", "main", "refs" },
		{ "/api/models/org/m/tree/main/refs", ROUTE_API_TREE, M, "org/m", "main", "refs" },
		/* paths-info and refs. */
		{ "/api/datasets/org/ds/paths-info/main", ROUTE_API_PATHS_INFO, D, "org/ds", "main",
		  NULL },
		{ "/api/models/org/m/paths-info/refs%2Fpr%2F1", ROUTE_API_PATHS_INFO, M, "org/m",
		  "refs/pr/1", NULL },
		{ "/api/models/gpt2/paths-info/abc1234", ROUTE_API_PATHS_INFO, M, "gpt2", "abc1234",
		  NULL },
		{ "/api/models/org/m/refs", ROUTE_API_REFS, M, "org/m", NULL, NULL },
		{ "/api/models/gpt2/refs", ROUTE_API_REFS, M, "gpt2", NULL, NULL },
		{ "/api/spaces/org/sp/refs", ROUTE_API_REFS, S, "org/sp", NULL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_ok(&cases[i]);
}

static void
test_fixed_routes(void **state)
{
	static const struct ok_case cases[] = {
		{ "/", ROUTE_INDEX, M, NULL, NULL, NULL },
		{ "/healthz", ROUTE_HEALTHZ, M, NULL, NULL, NULL },
		{ "/metrics", ROUTE_METRICS, M, NULL, NULL, NULL },
	};
	struct route r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_ok(&cases[i]);
	/* len, not the NUL, bounds the path. */
	assert_int_equal(route_parse("/healthzXYZ", 8, &r), GG_OK);
	assert_int_equal(r.kind, ROUTE_HEALTHZ);
	assert_int_equal(route_parse("/healthz", 1, &r), GG_OK);
	assert_int_equal(r.kind, ROUTE_INDEX);
}

static void
test_unknown_routes(void **state)
{
	static const struct err_case cases[] = {
		{ "/healthz/", GG_ENOENT },
		{ "/healthzz", GG_ENOENT },
		{ "/favicon.ico", GG_ENOENT },
		{ "/org", GG_ENOENT },
		{ "/org/m", GG_ENOENT },
		{ "/org/m/blob/main/x", GG_ENOENT },
		{ "/org/m/tree/main/x", GG_ENOENT },
		{ "/a/b/c/resolve/main/x", GG_ENOENT }, /* marker too far */
		{ "/Resolve/main/x", GG_ENOENT },
		{ "/org/m/RESOLVE/main/x", GG_ENOENT },
		{ "/org/m/%72esolve/main/x", GG_ENOENT }, /* markers are literal */
		{ "/datasets", GG_ENOENT },
		{ "/datasets/org", GG_ENOENT },
		{ "/datasets/org/ds", GG_ENOENT },
		{ "/api", GG_ENOENT },
		{ "/api/models", GG_ENOENT },
		{ "/api/users/x", GG_ENOENT },
		{ "/api/models/a/b/c", GG_ENOENT },
		{ "/api/models/org/m/revision/main/extra", GG_ENOENT },
		{ "/api/models/org/m/paths-info/main/x", GG_ENOENT },
		{ "/api/models/org/m/refs/x", GG_ENOENT },
		{ "/api/whoami-v2/x", GG_ENOENT },
		{ "/api/repos/create/x", GG_ENOENT },
		{ "/api/models/org/m/commit/main/extra", GG_ENOENT },
		{ "/api/models/org/m/commits/main/extra", GG_ENOENT },
		{ "/api/models/org/m/tag/main/extra", GG_ENOENT },
		{ "/org/m/info/lfs/objects/batch", GG_ENOENT }, /* no .git */
		{ "/a/b/c.git/info/lfs/objects/batch", GG_ENOENT },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_err(&cases[i]);
}

static void
test_upload_routes(void **state)
{
	static const struct ok_case cases[] = {
		{ "/api/models/ruv/ruvltra/preupload/main", ROUTE_API_PREUPLOAD, M, "ruv/ruvltra",
		  "main", NULL },
		{ "/api/models/ruv/ruvltra/commit/main", ROUTE_API_COMMIT, M, "ruv/ruvltra", "main",
		  NULL },
		{ "/api/models/ruv/ruvltra/commit/refs%2Fpr%2F1", ROUTE_API_COMMIT, M,
		  "ruv/ruvltra", "refs/pr/1", NULL },
		{ "/api/datasets/org/ds/preupload/main", ROUTE_API_PREUPLOAD, D, "org/ds", "main",
		  NULL },
		{ "/api/models/org/m/xet-read-token/main", ROUTE_API_XET_READ, M, "org/m", "main",
		  NULL },
		{ "/api/models/org/m/xet-write-token/None", ROUTE_API_XET_WRITE, M, "org/m", "None",
		  NULL },
		{ "/ruv/ruvltra.git/info/lfs/objects/batch", ROUTE_LFS_BATCH, M, "ruv/ruvltra",
		  NULL, NULL },
		{ "/datasets/org/ds.git/info/lfs/objects/batch", ROUTE_LFS_BATCH, D, "org/ds", NULL,
		  NULL },
		{ "/gpt2.git/info/lfs/objects/batch", ROUTE_LFS_BATCH, M, "gpt2", NULL, NULL },
		{ "/api/models/ruv/ruvltra/commits/main", ROUTE_API_COMMITS, M, "ruv/ruvltra",
		  "main", NULL },
		{ "/api/models/ruv/ruvltra/branch/dev", ROUTE_API_BRANCH, M, "ruv/ruvltra", "dev",
		  NULL },
		{ "/api/models/ruv/ruvltra/branch/feat%2Fx", ROUTE_API_BRANCH, M, "ruv/ruvltra",
		  "feat/x", NULL },
		{ "/api/datasets/org/ds/tag/main", ROUTE_API_TAG, D, "org/ds", "main", NULL },
		{ "/api/whoami-v2", ROUTE_WHOAMI, M, "", NULL, NULL },
		{ "/api/validate-yaml", ROUTE_VALIDATE_YAML, M, "", NULL, NULL },
		{ "/api/repos/create", ROUTE_REPO_CREATE, M, "", NULL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_ok(&cases[i]);
}

/* ggufd's own routes: ids and oids come out parsed. */
struct own_case {
	const char *path;
	enum route_kind kind;
	uint64_t id;
	const char *oid; /* NULL: "" */
	const char *repo;
	const char *file;
};

#define OID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
test_own_routes(void **state)
{
	static const struct own_case cases[] = {
		{ "/api/ggufd/pull", ROUTE_GGUFD_PULL, 0, NULL, "", NULL },
		{ "/api/ggufd/repos", ROUTE_GGUFD_REPOS, 0, NULL, "", NULL },
		{ "/api/ggufd/activity", ROUTE_GGUFD_ACTIVITY, 0, NULL, "", NULL },
		{ "/api/ggufd/files", ROUTE_GGUFD_FILES, 0, NULL, "", NULL },
		{ "/ui/app.js", ROUTE_UI, 0, NULL, "", "app.js" },
		{ "/api/ggufd/pull/7", ROUTE_GGUFD_PULL_JOB, 7, NULL, "", NULL },
		{ "/api/ggufd/pull/1073741824", ROUTE_GGUFD_PULL_JOB, 1ull << 30, NULL, "", NULL },
		{ "/api/ggufd/uploads", ROUTE_GGUFD_UPLOADS, 0, NULL, "", NULL },
		{ "/api/ggufd/uploads/12", ROUTE_GGUFD_UPLOAD_JOB, 12, NULL, "", NULL },
		{ "/api/ggufd/audit", ROUTE_GGUFD_AUDIT, 0, NULL, "", NULL },
		{ "/api/ggufd/disk", ROUTE_GGUFD_DISK, 0, NULL, "", NULL },
		{ "/api/ggufd/pins", ROUTE_GGUFD_PINS, 0, NULL, "", NULL },
		{ "/api/ggufd/tokens", ROUTE_GGUFD_TOKENS, 0, NULL, "", NULL },
		{ "/api/ggufd/tokens/ci", ROUTE_GGUFD_TOKEN, 0, NULL, "", "ci" },
		{ "/api/ggufd/tokens/me%40host.x-1", ROUTE_GGUFD_TOKEN, 0, NULL, "",
		  "me@host.x-1" },
		{ "/api/ggufd/tokens/a%2Fb", ROUTE_GGUFD_TOKEN, 0, NULL, "", "a/b" },
		{ "/api/ggufd/registry/ruv/ruvltra", ROUTE_GGUFD_REGISTRY, 0, NULL, "ruv/ruvltra",
		  NULL },
		{ "/api/ggufd/registry/gpt2", ROUTE_GGUFD_REGISTRY, 0, NULL, "gpt2", NULL },
		{ "/api/ggufd/upload/ruv/ruvltra/ruvltra-0.5b-q4_k_m.gguf", ROUTE_GGUFD_UPLOAD_PUT,
		  0, NULL, "ruv/ruvltra", "ruvltra-0.5b-q4_k_m.gguf" },
		{ "/api/ggufd/upload/ruv/ruvltra/sub/a%20b.gguf", ROUTE_GGUFD_UPLOAD_PUT, 0, NULL,
		  "ruv/ruvltra", "sub/a b.gguf" },
		{ "/_ggufd/lfs/" OID, ROUTE_LFS_OBJECT, 0, OID, "", NULL },
		{ "/_ggufd/lfs/" OID "/part/1", ROUTE_LFS_PART, 1, OID, "", NULL },
		{ "/_ggufd/lfs/" OID "/part/100000", ROUTE_LFS_PART, 100000, OID, "", NULL },
		{ "/_ggufd/lfs/" OID "/complete", ROUTE_LFS_COMPLETE, 0, OID, "", NULL },
	};
	static const struct err_case bad[] = {
		{ "/api/ggufd", GG_ENOENT },
		{ "/api/ggufd/nope", GG_ENOENT },
		{ "/api/ggufd/pulls", GG_ENOENT },
		{ "/api/ggufd/repos/x", GG_ENOENT },
		{ "/ui", GG_ENOENT },
		{ "/ui/a/b.js", GG_ENOENT },
		{ "/ui/..", GG_EINVAL },
		{ "/ui/%2e%2e", GG_EINVAL },
		{ "/ui/a%2Fb", GG_EINVAL },
		{ "/ui/app.js/", GG_ENOENT },
		{ "/api/ggufd/pull/1/x", GG_ENOENT },
		{ "/api/ggufd/uploads/1/x", GG_ENOENT },
		{ "/api/ggufd/audit/1", GG_ENOENT },
		{ "/api/ggufd/audits", GG_ENOENT },
		{ "/api/ggufd/token", GG_ENOENT },
		{ "/api/ggufd/tokens/ci/x", GG_ENOENT },
		{ "/api/ggufd/registry", GG_ENOENT },
		{ "/api/ggufd/registry/ruv/ruvltra/x", GG_ENOENT },
		{ "/api/ggufd/registry/ruv/r%2Fx", GG_EINVAL },
		{ "/api/ggufd/registry/ruv/..", GG_EINVAL },
		{ "/api/ggufd/tokens/", GG_EINVAL },
		{ "/api/ggufd/tokens/a%zz", GG_EINVAL },
		{ "/api/ggufd/tokens/a%00", GG_EINVAL },
		{ "/api/ggufd/tokens/..", GG_EINVAL },
		{ "/api/ggufd/tokens/a%0Ab", GG_EINVAL },
		{ "/api/ggufd/tokens/a%2F%2Fb", GG_EINVAL },
		{ "/api/ggufd/pull/0", GG_EINVAL },
		{ "/api/ggufd/pull/x", GG_EINVAL },
		{ "/api/ggufd/pull/1073741825", GG_EINVAL },
		{ "/api/ggufd/uploads/-1", GG_EINVAL },
		{ "/api/ggufd/uploads/0", GG_EINVAL },
		{ "/api/ggufd/uploads/1099511627777", GG_EINVAL },
		{ "/api/ggufd/uploads/", GG_EINVAL },
		{ "/api/ggufd/upload/ruv/ruvltra", GG_EINVAL },
		{ "/api/ggufd/upload/ruv/ruvltra/", GG_EINVAL },
		{ "/api/ggufd/upload/ruv/r%2Fx/f.gguf", GG_EINVAL },
		{ "/api/ggufd/upload/ruv/ruvltra/..", GG_EINVAL },
		{ "/api/ggufd/upload/ruv/ruvltra/a%2F..%2Fb", GG_EINVAL },
		{ "/api/ggufd/upload/ruv/ruvltra/a%0Ab", GG_EINVAL },
		{ "/_ggufd", GG_ENOENT },
		{ "/_ggufd/lfs", GG_ENOENT },
		{ "/_ggufd/other/" OID, GG_ENOENT },
		{ "/_ggufd/lfs/" OID "0", GG_ENOENT },
		{ "/_ggufd/lfs/0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
		  GG_ENOENT },
		{ "/_ggufd/lfs/" OID "/part/0", GG_ENOENT },
		{ "/_ggufd/lfs/" OID "/part/100001", GG_ENOENT },
		{ "/_ggufd/lfs/" OID "/part", GG_ENOENT },
		{ "/_ggufd/lfs/" OID "/completed", GG_ENOENT },
		{ "/_ggufd/lfs/" OID "/", GG_EINVAL },
	};
	struct route r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct own_case *c = &cases[i];
		memset(&r, 0xa5, sizeof(r));
		if (route_parse(c->path, strlen(c->path), &r) != GG_OK)
			fail_msg("\"%s\": refused", c->path);
		if (r.kind != c->kind || r.id != c->id)
			fail_msg("\"%s\": kind %d id %llu", c->path, (int)r.kind,
				 (unsigned long long)r.id);
		assert_string_equal(r.oid, c->oid ? c->oid : "");
		assert_string_equal(r.repo, c->repo);
		assert_int_equal(r.has_path, c->file != NULL);
		assert_string_equal(r.path, c->file ? c->file : "");
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_err(&bad[i]);
}

/* The registry fronts (CLIENTS.md 4.4-4.6): the tag in rev, the digest in oid. */
static void
test_v2_routes(void **state)
{
	static const struct ok_case cases[] = {
		{ "/v2/ruv/ruvltra/manifests/Q4_K_M", ROUTE_V2_MANIFEST, M, "ruv/ruvltra", "Q4_K_M",
		  NULL },
		{ "/v2/ruv/ruvltra/manifests/latest", ROUTE_V2_MANIFEST, M, "ruv/ruvltra", "latest",
		  NULL },
		{ "/v2/u/r/manifests/Model-Q8_0.gguf", ROUTE_V2_MANIFEST, M, "u/r",
		  "Model-Q8_0.gguf", NULL },
		{ "/v2/u/r/manifests/a%20b", ROUTE_V2_MANIFEST, M, "u/r", "a b", NULL },
		{ "/v2/", ROUTE_V2_PING, M, NULL, NULL, NULL },
		{ "/v2", ROUTE_V2_PING, M, NULL, NULL, NULL },
		/* A repo named v2/x keeps its file routes. */
		{ "/v2/x/resolve/manifests/y", ROUTE_RESOLVE, M, "v2/x", "manifests", "y" },
		{ "/v2/x/resolve/main/blobs/y", ROUTE_RESOLVE, M, "v2/x", "main", "blobs/y" },
	};
	static const struct own_case blobs[] = {
		{ "/v2/u/r/blobs/sha256:" OID, ROUTE_V2_BLOB, 0, OID, "u/r", NULL },
		{ "/v2/u/r/blobs/sha256%3A" OID, ROUTE_V2_BLOB, 0, OID, "u/r", NULL },
		{ "/v2/u/r/blobs/"
		  "sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
		  ROUTE_V2_BLOB, 0, OID, "u/r", NULL },
	};
	static const struct err_case bad[] = {
		{ "/v2/u/r/blobs/sha256:" OID "0", GG_ENOENT },
		{ "/v2/u/r/blobs/sha512:" OID, GG_ENOENT },
		{ "/v2/u/r/blobs/sha256-" OID, GG_ENOENT },
		{ "/v2/u/r/blobs/"
		  "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
		  GG_ENOENT },
		{ "/v2/u/r/blobs/" OID, GG_ENOENT },
		{ "/v2/u/r/manifests", GG_ENOENT },
		{ "/v2/r/manifests/latest", GG_ENOENT },
		{ "/v2/a/b/c/manifests/latest", GG_ENOENT },
		{ "/v2/u/r/tags/list", GG_ENOENT },
		{ "/v2/u/r/manifests/latest/", GG_EINVAL },
		{ "/v2/u/r/manifests/..", GG_EINVAL },
		{ "/v2/u/r/manifests/a%2F..", GG_EINVAL },
		{ "/v2/u/r/manifests/a%00", GG_EINVAL },
		{ "/v2/u/r/manifests/a%0Ab", GG_EINVAL },
		{ "/v2/u/r%2Fx/manifests/latest", GG_EINVAL },
		{ "/v2/u/../manifests/latest", GG_EINVAL },
	};
	struct route r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_ok(&cases[i]);
	for (size_t i = 0; i < sizeof(blobs) / sizeof(blobs[0]); i++) {
		const struct own_case *c = &blobs[i];
		memset(&r, 0xa5, sizeof(r));
		if (route_parse(c->path, strlen(c->path), &r) != GG_OK)
			fail_msg("\"%s\": refused", c->path);
		assert_int_equal(r.kind, c->kind);
		assert_string_equal(r.oid, c->oid);
		assert_string_equal(r.repo, c->repo);
		assert_int_equal(r.has_rev, 0);
		assert_int_equal(r.has_path, 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_err(&bad[i]);
}

static void
test_malformed(void **state)
{
	static const struct err_case cases[] = {
		/* Shape. */
		{ "", GG_EINVAL },
		{ "org/m/resolve/main/x", GG_EINVAL },
		{ "//", GG_EINVAL },
		{ "///", GG_EINVAL },
		{ "//org/m/resolve/main/x", GG_EINVAL },
		{ "/org//m/resolve/main/x", GG_EINVAL },
		{ "/org/m/resolve//main/x", GG_EINVAL },
		{ "/org/m/resolve/main//x", GG_EINVAL },
		{ "/org/m/resolve/main/x//", GG_EINVAL },
		{ "/api//models/gpt2", GG_EINVAL },
		/* A trailing "/" is for trees only. */
		{ "/org/m/resolve/main/x/", GG_EINVAL },
		{ "/api/models/org/m/", GG_EINVAL },
		{ "/api/models/org/m/revision/main/", GG_EINVAL },
		{ "/api/models/org/m/refs/", GG_EINVAL },
		/* Missing revision or path. */
		{ "/org/m/resolve", GG_EINVAL },
		{ "/org/m/resolve/main", GG_EINVAL },
		{ "/gpt2/resolve/main", GG_EINVAL },
		{ "/org/m/raw/main", GG_EINVAL },
		{ "/org/m/resolve/refs/pr/1", GG_EINVAL },
		{ "/org/m/resolve/refs/pr", GG_EINVAL },
		{ "/api/models/org/m/revision", GG_EINVAL },
		{ "/api/models/org/m/tree", GG_EINVAL },
		{ "/api/models/org/m/paths-info", GG_EINVAL },
		{ "/api/models/org/m/revision/refs/pr", GG_EINVAL },
		{ "/api/models/org/m/tree/refs", GG_EINVAL },
		/* Traversal, in every spelling. */
		{ "/org/m/resolve/main/../x", GG_EINVAL },
		{ "/org/m/resolve/main/./x", GG_EINVAL },
		{ "/org/m/resolve/main/a/..", GG_EINVAL },
		{ "/org/m/resolve/main/%2e%2e/x", GG_EINVAL },
		{ "/org/m/resolve/main/%2E%2E/x", GG_EINVAL },
		{ "/org/m/resolve/main/%2E%2E%2Fx", GG_EINVAL },
		{ "/org/m/resolve/main/.%2e/x", GG_EINVAL },
		{ "/org/m/resolve/main/a/%2e", GG_EINVAL },
		{ "/org/m/resolve/main/a%2F..%2Fb", GG_EINVAL },
		{ "/org/m/resolve/main/%2F..", GG_EINVAL },
		{ "/org/m/resolve/main/%2Fetc%2Fpasswd", GG_EINVAL },
		{ "/org/m/resolve/main/a%2F%2Fb", GG_EINVAL },
		{ "/org/m/resolve/main/a%2F", GG_EINVAL },
		{ "/org/m/resolve/main/x%00.gguf", GG_EINVAL },
		{ "/org/m/resolve/..%2F..%2Fetc/passwd", GG_EINVAL },
		{ "/org/m/resolve/../x", GG_EINVAL },
		{ "/org/m/resolve/%2e/x", GG_EINVAL },
		{ "/org/m/resolve/refs%2F..%2F1/x", GG_EINVAL },
		{ "/../m/resolve/main/x", GG_EINVAL },
		{ "/org/../resolve/main/x", GG_EINVAL },
		{ "/org/%2e%2e/resolve/main/x", GG_EINVAL },
		{ "/./resolve/main/x", GG_EINVAL },
		{ "/api/models/org/m/tree/main/..", GG_EINVAL },
		{ "/api/models/org/m/tree/main/sub%2F..%2F..", GG_EINVAL },
		{ "/api/models/org/..", GG_EINVAL },
		/* Control characters would end up in headers and logs. */
		{ "/org/m/resolve/main/a%0Ab", GG_EINVAL },
		{ "/org/m/resolve/main/a%0D%0ASet-Cookie:x", GG_EINVAL },
		{ "/org/m/resolve/main/a%7Fb", GG_EINVAL },
		{ "/org/m/resolve/main/a\tb", GG_EINVAL },
		{ "/org/m/resolve/ma%09in/x", GG_EINVAL },
		/* Bad escapes. */
		{ "/org/m/resolve/main/%zz", GG_EINVAL },
		{ "/org/m/resolve/main/x%", GG_EINVAL },
		{ "/org/m/resolve/main/x%4", GG_EINVAL },
		{ "/org/m/resolve/main/%g0", GG_EINVAL },
		{ "/org/m/resolve/main/%%41", GG_EINVAL },
		{ "/org/m/resolve/ma%zzin/x", GG_EINVAL },
		{ "/or%g/m/resolve/main/x", GG_EINVAL },
		/* Repo names. */
		{ "/org/m!/resolve/main/x", GG_EINVAL },
		{ "/o%20rg/m/resolve/main/x", GG_EINVAL },
		{ "/org/m%2Fx/resolve/main/x", GG_EINVAL },
		{ "/org%2Fm/resolve/main/x", GG_EINVAL },
		{ "/org/m+x/resolve/main/x", GG_EINVAL },
		{ "/api/models/org/m%40x", GG_EINVAL },
		{ "/api/models/%2e", GG_EINVAL },
		{ "/api/models/org/m%00", GG_EINVAL },
		{ "/api/models/o!/m/tree/main", GG_EINVAL },
		{ "/api/models/org/m/tree/ma%zzin", GG_EINVAL },
		{ "/api/models/org/m/revision/..", GG_EINVAL },
		{ "/api/models/gpt2/paths-info/%2e", GG_EINVAL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_err(&cases[i]);
}

static void
test_nul_in_path(void **state)
{
	static const char raw_nul[] = "/org/m/resolve/main/a\0b";
	static const char nul_repo[] = "/org/m\0/resolve/main/a";
	static const char nul_first[] = "\0/org/m/resolve/main/a";
	char *exact;
	const char *text = "/org/m/resolve/main/a.gguf";
	size_t len = strlen(text);
	struct route r;

	(void)state;
	check_err_len(raw_nul, sizeof(raw_nul) - 1, GG_EINVAL);
	check_err_len(nul_repo, sizeof(nul_repo) - 1, GG_EINVAL);
	check_err_len(nul_first, sizeof(nul_first) - 1, GG_EINVAL);
	/* The client is told it was a NUL byte, raw or encoded. */
	check_why_len(raw_nul, sizeof(raw_nul) - 1, "NUL byte");
	check_why("/org/m/resolve/main/config.json%00/../../etc/passwd", "NUL byte (%00)");
	check_why("/org/m/resolve/ma%00in/x", "NUL byte (%00)");
	check_why("/org/m/resolve/main/%zz", "percent-escape");
	check_why("/org/m/resolve/main/../x", "component");
	check_why("/api/models/org/m/tree/main/..", "component");
	/* Not NUL-terminated: the buffer is exactly the path (ASan). */
	exact = malloc(len);
	assert_non_null(exact);
	memcpy(exact, text, len);
	assert_int_equal(route_parse(exact, len, &r), GG_OK);
	assert_string_equal(r.path, "a.gguf");
	for (size_t k = 0; k < len; k++)
		(void)route_parse(exact, k, &r);
	free(exact);
	/* NULL arguments. */
	assert_int_equal(route_parse(NULL, 0, &r), GG_EINVAL);
	assert_int_equal(route_parse("/", 1, NULL), GG_EINVAL);
}

/*
 * A revision or path must be UTF-8 (the Hub's names are): bytes that are
 * not, raw or percent-encoded, are refused here, before anything is looked
 * up or asked upstream.  Well-formed multi-byte names still route.
 */
static void
test_utf8(void **state)
{
	static const struct ok_case good[] = {
		{ "/org/m/resolve/main/%C3%A9t%C3%A9.gguf", ROUTE_RESOLVE, REPO_MODEL, "org/m",
		  "main", "\xc3\xa9t\xc3\xa9.gguf" },
		{ "/org/m/resolve/main/\xe6\x97\xa5.txt", ROUTE_RESOLVE, REPO_MODEL, "org/m",
		  "main", "\xe6\x97\xa5.txt" },
		{ "/org/m/resolve/v%F0%9F%98%80/a", ROUTE_RESOLVE, REPO_MODEL, "org/m",
		  "v\xf0\x9f\x98\x80", "a" },
		{ "/api/models/org/m/tree/main/%EF%BF%BF", ROUTE_API_TREE, REPO_MODEL, "org/m",
		  "main", "\xef\xbf\xbf" },
	};
	static const struct err_case bad[] = {
		/* A lone continuation byte, a lone lead byte, a cut sequence. */
		{ "/org/m/resolve/main/conf%FFig.json", GG_EINVAL },
		{ "/org/m/resolve/main/conf\xffig.json", GG_EINVAL },
		{ "/org/m/resolve/main/a%80", GG_EINVAL },
		{ "/org/m/resolve/main/a%C3", GG_EINVAL },
		{ "/org/m/resolve/main/a%E6%97", GG_EINVAL },
		{ "/org/m/resolve/main/a%C3/b", GG_EINVAL },
		/* Overlong forms ("/" and "." in two bytes), surrogates, > U+10FFFF. */
		{ "/org/m/resolve/main/a%C0%AFb", GG_EINVAL },
		{ "/org/m/resolve/main/%C0%AE%C0%AE/x", GG_EINVAL },
		{ "/org/m/resolve/main/a%E0%80%AF", GG_EINVAL },
		{ "/org/m/resolve/main/a%ED%A0%80", GG_EINVAL },
		{ "/org/m/resolve/main/a%F4%90%80%80", GG_EINVAL },
		{ "/org/m/resolve/main/a%F8%88%80%80%80", GG_EINVAL },
		/* In the revision, in a tree path, in an API revision. */
		{ "/org/m/resolve/ma%FFin/x", GG_EINVAL },
		{ "/org/m/resolve/refs/pr/%FF/x", GG_EINVAL },
		{ "/api/models/org/m/tree/main/sub%FF", GG_EINVAL },
		{ "/api/models/org/m/revision/%C3", GG_EINVAL },
		{ "/api/models/org/m/paths-info/%FF", GG_EINVAL },
		{ "/api/ggufd/upload/org/m/a%FF.gguf", GG_EINVAL },
		{ "/api/ggufd/tokens/n%FF", GG_EINVAL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		check_ok(&good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_err(&bad[i]);
	check_why("/org/m/resolve/main/conf%FFig.json", "not UTF-8");
	check_why("/org/m/resolve/ma%C0%AFin/x", "not UTF-8");
}

/* Builds "/org/m/resolve/main/" + n segments "a" into a new string. */
static char *
many_segments(size_t n)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	assert_int_equal(buf_puts(&b, "/org/m/resolve/main"), GG_OK);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(buf_puts(&b, "/a"), GG_OK);
	return buf_steal(&b, NULL);
}

static char *
repeat(const char *prefix, char c, size_t n, const char *suffix)
{
	struct buf b;
	char *chunk = malloc(n + 1);

	assert_non_null(chunk);
	memset(chunk, c, n);
	chunk[n] = '\0';
	buf_init(&b, 1 << 20);
	assert_int_equal(buf_puts(&b, prefix), GG_OK);
	assert_int_equal(buf_puts(&b, chunk), GG_OK);
	assert_int_equal(buf_puts(&b, suffix), GG_OK);
	free(chunk);
	return buf_steal(&b, NULL);
}

static void
test_limits(void **state)
{
	struct route r;
	char *p;
	struct buf b;

	(void)state;
	/* Segments: 4 before the path, so 60 path segments make 64. */
	p = many_segments(GG_MAX_SEGMENTS - 4);
	assert_int_equal(route_parse(p, strlen(p), &r), GG_OK);
	assert_int_equal(strlen(r.path), 2 * (GG_MAX_SEGMENTS - 4) - 1);
	free(p);
	p = many_segments(GG_MAX_SEGMENTS - 3);
	check_err_len(p, strlen(p), GG_ETOOBIG);
	free(p);

	/* The whole URL. */
	p = repeat("/org/m/resolve/main/", 'a', GG_MAX_URL_LEN, "");
	check_err_len(p, strlen(p), GG_ETOOBIG);
	free(p);
	p = repeat("/", 'a', GG_MAX_URL_LEN - 1, "");
	check_err_len(p, GG_MAX_URL_LEN, GG_ENOENT);
	check_err_len(p, GG_MAX_URL_LEN + 1, GG_ETOOBIG);
	free(p);

	/* The file path: GG_MAX_REPO_PATH_LEN decoded bytes fit. */
	p = repeat("/org/m/resolve/main/", 'a', GG_MAX_REPO_PATH_LEN, "");
	assert_int_equal(route_parse(p, strlen(p), &r), GG_OK);
	assert_int_equal(strlen(r.path), GG_MAX_REPO_PATH_LEN);
	free(p);
	p = repeat("/org/m/resolve/main/", 'a', GG_MAX_REPO_PATH_LEN + 1, "");
	check_err_len(p, strlen(p), GG_ETOOBIG);
	free(p);
	/* ... measured after decoding: 1024 x "%20" is 1024 bytes. */
	buf_init(&b, 1 << 20);
	assert_int_equal(buf_puts(&b, "/org/m/resolve/main/"), GG_OK);
	for (int i = 0; i < GG_MAX_REPO_PATH_LEN; i++)
		assert_int_equal(buf_puts(&b, "%20"), GG_OK);
	p = buf_steal(&b, NULL);
	assert_int_equal(route_parse(p, strlen(p), &r), GG_OK);
	assert_int_equal(strlen(r.path), GG_MAX_REPO_PATH_LEN);
	free(p);
	/* Joined path segments count their "/" too. */
	p = repeat("/org/m/resolve/main/a/", 'a', GG_MAX_REPO_PATH_LEN - 2, "");
	assert_int_equal(route_parse(p, strlen(p), &r), GG_OK);
	free(p);
	p = repeat("/org/m/resolve/main/a/", 'a', GG_MAX_REPO_PATH_LEN - 1, "");
	check_err_len(p, strlen(p), GG_ETOOBIG);
	free(p);

	/* A segment that fills the limit leaves no room for the "/". */
	p = repeat("/org/m/resolve/main/", 'a', GG_MAX_REPO_PATH_LEN, "/b");
	check_err_len(p, strlen(p), GG_ETOOBIG);
	free(p);
	p = repeat("/", 'n', GG_MAX_REPO_LEN, "/m/resolve/main/x");
	check_err_len(p, strlen(p), GG_ETOOBIG);
	free(p);

	/* The revision. */
	p = repeat("/org/m/resolve/", 'r', GG_MAX_REV_LEN, "/x");
	assert_int_equal(route_parse(p, strlen(p), &r), GG_OK);
	assert_int_equal(strlen(r.rev), GG_MAX_REV_LEN);
	free(p);
	p = repeat("/org/m/resolve/", 'r', GG_MAX_REV_LEN + 1, "/x");
	check_err_len(p, strlen(p), GG_ETOOBIG);
	free(p);

	/* The repo: a legacy id of GG_MAX_REPO_LEN, or namespace/name. */
	p = repeat("/", 'n', GG_MAX_REPO_LEN, "/resolve/main/x");
	assert_int_equal(route_parse(p, strlen(p), &r), GG_OK);
	assert_int_equal(strlen(r.repo), GG_MAX_REPO_LEN);
	free(p);
	p = repeat("/", 'n', GG_MAX_REPO_LEN + 1, "/resolve/main/x");
	check_err_len(p, strlen(p), GG_ETOOBIG);
	free(p);
	p = repeat("/o/", 'n', GG_MAX_REPO_LEN - 2, "/resolve/main/x");
	assert_int_equal(route_parse(p, strlen(p), &r), GG_OK);
	free(p);
	p = repeat("/o/", 'n', GG_MAX_REPO_LEN - 1, "/resolve/main/x");
	check_err_len(p, strlen(p), GG_ETOOBIG);
	free(p);
	p = repeat("/api/models/", 'n', GG_MAX_REPO_LEN + 1, "");
	check_err_len(p, strlen(p), GG_ETOOBIG);
	free(p);
}

static void
test_pct_decode(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(route_pct_decode("abc", 3, out, sizeof(out)), 3);
	assert_string_equal(out, "abc");
	assert_int_equal(route_pct_decode("a%20b", 5, out, sizeof(out)), 3);
	assert_string_equal(out, "a b");
	assert_int_equal(route_pct_decode("%2F%2f", 6, out, sizeof(out)), 2);
	assert_string_equal(out, "//");
	assert_int_equal(route_pct_decode("a+b", 3, out, sizeof(out)), 3);
	assert_string_equal(out, "a+b");
	assert_int_equal(route_pct_decode("%41%42%43", 9, out, sizeof(out)), 3);
	assert_string_equal(out, "ABC");
	assert_int_equal(route_pct_decode("%E2%82%AC", 9, out, sizeof(out)), 3);
	assert_string_equal(out, "\xe2\x82\xac");
	assert_int_equal(route_pct_decode("%ff", 3, out, sizeof(out)), 1);
	assert_int_equal((unsigned char)out[0], 0xff);
	assert_int_equal(route_pct_decode("%2541", 5, out, sizeof(out)), 3);
	assert_string_equal(out, "%41"); /* decoded once, not twice */
	/* n bounds the input, not a NUL. */
	assert_int_equal(route_pct_decode("abcdef", 3, out, sizeof(out)), 3);
	assert_string_equal(out, "abc");
	assert_int_equal(route_pct_decode("%41", 2, out, sizeof(out)), GG_EINVAL);
	/* Empty. */
	assert_int_equal(route_pct_decode("", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(route_pct_decode(NULL, 0, out, sizeof(out)), 0);
	/* Bad escapes and NULs. */
	assert_int_equal(route_pct_decode("%", 1, out, sizeof(out)), GG_EINVAL);
	assert_string_equal(out, "");
	assert_int_equal(route_pct_decode("a%", 2, out, sizeof(out)), GG_EINVAL);
	assert_int_equal(route_pct_decode("%4", 2, out, sizeof(out)), GG_EINVAL);
	assert_int_equal(route_pct_decode("%zz", 3, out, sizeof(out)), GG_EINVAL);
	assert_int_equal(route_pct_decode("%g0", 3, out, sizeof(out)), GG_EINVAL);
	assert_int_equal(route_pct_decode("%0g", 3, out, sizeof(out)), GG_EINVAL);
	assert_int_equal(route_pct_decode("% 1", 3, out, sizeof(out)), GG_EINVAL);
	assert_int_equal(route_pct_decode("%-1", 3, out, sizeof(out)), GG_EINVAL);
	assert_int_equal(route_pct_decode("%00", 3, out, sizeof(out)), GG_EINVAL);
	assert_int_equal(route_pct_decode("a\0b", 3, out, sizeof(out)), GG_EINVAL);
	assert_int_equal(route_pct_decode(NULL, 1, out, sizeof(out)), GG_EINVAL);
	/* Sizes: the NUL must fit too. */
	assert_int_equal(route_pct_decode("abc", 3, out, 4), 3);
	assert_int_equal(route_pct_decode("abc", 3, out, 3), GG_ETOOBIG);
	assert_string_equal(out, "");
	assert_int_equal(route_pct_decode("%41%42", 6, out, 3), 2);
	assert_int_equal(route_pct_decode("%41%42", 6, out, 2), GG_ETOOBIG);
	assert_int_equal(route_pct_decode("", 0, out, 1), 0);
	assert_int_equal(route_pct_decode("a", 1, out, 0), GG_ETOOBIG);
	assert_int_equal(route_pct_decode("a", 1, NULL, 8), GG_ETOOBIG);
}

static void
test_valid_repo(void **state)
{
	static const char *good[] = {
		"gpt2", "org/m", "a.b_c-d/E.F", "TheBloke/Llama-2-7B-Chat-GGUF", "...", "a/...",
		"-a",   "a-",    "_/_",
	};
	static const char *bad[] = {
		"",     "/",    "/a",  "a/",   "a//b",         "a/b/c", ".",
		"..",   "a/.",  "./a", "a/..", "a b",          "a/b c", "a%2Fb",
		"a\tb", "a\nb", "a+b", "a:b",  "\xe6\x97\xa5",
	};
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!route_valid_repo(good[i]))
			fail_msg("\"%s\" should be valid", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (route_valid_repo(bad[i]))
			fail_msg("\"%s\" should be invalid", bad[i]);
	assert_false(route_valid_repo(NULL));
	s = repeat("", 'a', GG_MAX_REPO_LEN, "");
	assert_true(route_valid_repo(s));
	free(s);
	s = repeat("", 'a', GG_MAX_REPO_LEN + 1, "");
	assert_false(route_valid_repo(s));
	free(s);
}

static void
test_type_names(void **state)
{
	(void)state;
	assert_string_equal(route_type_name(REPO_MODEL), "model");
	assert_string_equal(route_type_name(REPO_DATASET), "dataset");
	assert_string_equal(route_type_name(REPO_SPACE), "space");
	assert_string_equal(route_type_plural(REPO_MODEL), "models");
	assert_string_equal(route_type_plural(REPO_DATASET), "datasets");
	assert_string_equal(route_type_plural(REPO_SPACE), "spaces");
	assert_string_equal(route_type_prefix(REPO_MODEL), "");
	assert_string_equal(route_type_prefix(REPO_DATASET), "datasets/");
	assert_string_equal(route_type_prefix(REPO_SPACE), "spaces/");
	assert_string_equal(route_kind_name(ROUTE_RESOLVE), "resolve");
	assert_string_equal(route_kind_name(ROUTE_METRICS), "metrics");
	assert_string_equal(route_kind_name(ROUTE_NONE), "none");
	assert_string_equal(route_kind_name((enum route_kind)9999), "none");
	/* Every kind has its own name. */
	for (int k = 1; k < ROUTE_NKINDS; k++) {
		assert_string_not_equal(route_kind_name((enum route_kind)k), "none");
		for (int j = 1; j < k; j++)
			assert_string_not_equal(route_kind_name((enum route_kind)j),
						route_kind_name((enum route_kind)k));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_routes), cmocka_unit_test(test_api_routes),
		cmocka_unit_test(test_fixed_routes),   cmocka_unit_test(test_unknown_routes),
		cmocka_unit_test(test_upload_routes),  cmocka_unit_test(test_own_routes),
		cmocka_unit_test(test_malformed),      cmocka_unit_test(test_nul_in_path),
		cmocka_unit_test(test_limits),         cmocka_unit_test(test_pct_decode),
		cmocka_unit_test(test_valid_repo),     cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_utf8),           cmocka_unit_test(test_v2_routes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
