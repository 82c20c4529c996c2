/*
 * test_store.c: the store's promises, tested against real files and a real
 * LMDB environment in a temporary directory.
 *
 *  - index round-trips for every record kind, key ordering, long paths
 *    past LMDB's key limit, blob reference counts, the format check;
 *  - blob writer: digests (sha256 and git blob sha1), expected-digest
 *    mismatch leaves nothing behind;
 *  - crash points: a child process dies at each step of an import (temp
 *    written, fsynced, renamed, before the index commit); reopening the
 *    store must show either nothing or the whole import, no garbage, and a
 *    clean verify;
 *  - verify finds and quarantines a flipped byte;
 *  - a commit ggufd published gets its parent's tree plus its changes.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "blob.h"
#include "index.h"
#include "store.h"
#include "store_impl.h"
#include "token.h"
#include "util.h"

static char *
tmpdir(void)
{
	char tmpl[] = "/tmp/ggufd-test-XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return xstrdup(d);
}

static void
rm_rf(const char *path)
{
	char *cmd = xasprintf("rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static char *
write_file(const char *dir, const char *name, const void *data, size_t n)
{
	char *p = xasprintf("%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, data, n), GG_OK);
	close(fd);
	return p;
}

/* Counts entries in a directory tree whose names end in suffix ("" = all files). */
static int
count_files(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char *p;
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			n += count_files(p, suffix);
		} else {
			size_t l = strlen(e->d_name), s = strlen(suffix);
			if (l >= s && strcmp(e->d_name + l - s, suffix) == 0)
				n++;
		}
		free(p);
	}
	closedir(d);
	return n;
}

/* --- index ----------------------------------------------------------------- */

struct collect {
	char names[64][1100];
	int n;
};

static int
collect_file(void *ctx, const char *path, const struct index_file *rec)
{
	struct collect *c = ctx;
	(void)rec;
	if (c->n < 64)
		snprintf(c->names[c->n++], sizeof(c->names[0]), "%s", path);
	return 0;
}

static int
collect_ref(void *ctx, const char *ref, const struct index_ref *rec)
{
	struct collect *c = ctx;
	if (c->n < 64)
		snprintf(c->names[c->n++], sizeof(c->names[0]), "%s=%s", ref, rec->commit);
	return 0;
}

static int
collect_repo(void *ctx, enum repo_type type, const char *repo)
{
	struct collect *c = ctx;
	if (c->n < 64)
		snprintf(c->names[c->n++], sizeof(c->names[0]), "%c:%s", index_type_char(type),
			 repo);
	return 0;
}

static void
put_blob(struct index_txn *t, const char *sha, uint64_t size)
{
	struct index_blob b;
	memset(&b, 0, sizeof(b));
	b.size = size;
	assert_int_equal(index_blob_put(t, sha, &b), GG_OK);
}

static const char SHA_A[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char SHA_B[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
static const char C1[] = "1111111111111111111111111111111111111111";
static const char C2[] = "2222222222222222222222222222222222222222";

static void
test_index_roundtrip(void **state)
{
	char *dir = tmpdir();
	struct index *idx = NULL;
	struct index_txn *t = NULL;
	struct index_ref ref = { "", 1234 };
	struct index_commit c, c2;
	struct index_file f, f2;
	struct index_blob b, b2;
	struct collect col;
	char longpath[1001];
	(void)state;

	assert_int_equal(index_open(dir, &idx), GG_OK);
	assert_int_equal(index_txn_begin(idx, 1, &t), GG_OK);

	memcpy(ref.commit, C1, sizeof(ref.commit));
	assert_int_equal(index_ref_put(t, REPO_MODEL, "ruv/ruvltra", "main", &ref), GG_OK);
	memcpy(ref.commit, C2, sizeof(ref.commit));
	assert_int_equal(index_ref_put(t, REPO_MODEL, "ruv/ruvltra", "refs/pr/1", &ref), GG_OK);
	assert_int_equal(index_ref_put(t, REPO_DATASET, "ruv/ruvltra", "main", &ref), GG_OK);

	memset(&c, 0, sizeof(c));
	c.created_at = 1700000000;
	memcpy(c.parent, C2, sizeof(c.parent));
	snprintf(c.title, sizeof(c.title), "Add ruvltra-0.5b-q4_k_m.gguf");
	assert_int_equal(index_commit_put(t, REPO_MODEL, "ruv/ruvltra", C1, &c), GG_OK);
	assert_int_equal(index_commit_put(t, REPO_MODEL, "gpt2", C1, &c), GG_OK);
	assert_int_equal(index_commit_put(t, REPO_MODEL, "ruv/ruvltra", "nothex", &c), GG_EINVAL);

	memset(&b, 0, sizeof(b));
	b.size = 42;
	b.last_access = 99;
	b.pinned = 1;
	b.has_gguf = 1;
	b.gguf.version = 3;
	b.gguf.file_type = 15;
	snprintf(b.gguf.arch, sizeof(b.gguf.arch), "llama");
	snprintf(b.gguf.quant, sizeof(b.gguf.quant), "Q4_K_M");
	b.gguf.param_count = 494032768;
	b.gguf.context_length = 32768;
	assert_int_equal(index_blob_put(t, SHA_A, &b), GG_OK);
	put_blob(t, SHA_B, 7);

	memset(&f, 0, sizeof(f));
	f.flags = INDEX_FILE_LFS;
	f.size = 42;
	memcpy(f.sha256, SHA_A, sizeof(f.sha256));
	memcpy(f.oid, C2, sizeof(f.oid));
	assert_int_equal(index_file_put(t, REPO_MODEL, "ruv/ruvltra", C1, "b/model.gguf", &f),
			 GG_OK);
	assert_int_equal(index_file_put(t, REPO_MODEL, "ruv/ruvltra", C1, "a.json", &f), GG_OK);
	memset(longpath, 'x', 1000);
	longpath[1000] = '\0';
	longpath[3] = '/';
	assert_int_equal(index_file_put(t, REPO_MODEL, "ruv/ruvltra", C1, longpath, &f), GG_OK);
	/* A file whose blob record is missing is refused. */
	memcpy(f2.sha256, "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", 65);
	memcpy(f2.oid, C2, sizeof(f2.oid));
	f2.flags = 0;
	f2.size = 1;
	assert_int_equal(index_file_put(t, REPO_MODEL, "ruv/ruvltra", C1, "c", &f2), GG_ENOENT);
	assert_int_equal(index_txn_commit(t), GG_OK);

	/* Everything reads back after a close and reopen. */
	index_close(idx);
	idx = NULL;
	assert_int_equal(index_open(dir, &idx), GG_OK);
	assert_int_equal(index_txn_begin(idx, 0, &t), GG_OK);
	assert_int_equal(index_ref_get(t, REPO_MODEL, "ruv/ruvltra", "main", &ref), GG_OK);
	assert_string_equal(ref.commit, C1);
	assert_int_equal(ref.updated_at, 1234);
	assert_int_equal(index_ref_get(t, REPO_MODEL, "ruv/ruvltra", "nope", &ref), GG_ENOENT);
	assert_int_equal(index_ref_get(t, REPO_SPACE, "ruv/ruvltra", "main", &ref), GG_ENOENT);
	assert_int_equal(index_commit_get(t, REPO_MODEL, "ruv/ruvltra", C1, &c2), GG_OK);
	assert_int_equal(c2.created_at, 1700000000);
	assert_string_equal(c2.parent, C2);
	assert_string_equal(c2.title, "Add ruvltra-0.5b-q4_k_m.gguf");
	assert_int_equal(index_blob_get(t, SHA_A, &b2), GG_OK);
	assert_int_equal(b2.size, 42);
	assert_int_equal(b2.refcount, 3); /* three file entries name it */
	assert_int_equal(b2.pinned, 1);
	assert_int_equal(b2.has_gguf, 1);
	assert_string_equal(b2.gguf.arch, "llama");
	assert_string_equal(b2.gguf.quant, "Q4_K_M");
	assert_int_equal(b2.gguf.param_count, 494032768);
	assert_int_equal(index_blob_get(t, SHA_B, &b2), GG_OK);
	assert_int_equal(b2.refcount, 0);
	assert_int_equal(index_file_get(t, REPO_MODEL, "ruv/ruvltra", C1, longpath, &f2), GG_OK);
	assert_string_equal(f2.sha256, SHA_A);
	assert_int_equal(f2.flags, INDEX_FILE_LFS);

	memset(&col, 0, sizeof(col));
	assert_int_equal(
		index_file_foreach(t, REPO_MODEL, "ruv/ruvltra", C1, NULL, collect_file, &col),
		GG_OK);
	assert_int_equal(col.n, 3);
	assert_string_equal(col.names[0], "a.json");
	assert_string_equal(col.names[1], "b/model.gguf");
	assert_string_equal(col.names[2], longpath); /* full path comes back */
	/* Resuming after a path skips it. */
	memset(&col, 0, sizeof(col));
	assert_int_equal(
		index_file_foreach(t, REPO_MODEL, "ruv/ruvltra", C1, "a.json", collect_file, &col),
		GG_OK);
	assert_int_equal(col.n, 2);
	assert_string_equal(col.names[0], "b/model.gguf");

	memset(&col, 0, sizeof(col));
	assert_int_equal(index_ref_foreach(t, REPO_MODEL, "ruv/ruvltra", collect_ref, &col), GG_OK);
	assert_int_equal(col.n, 2);
	assert_string_equal(col.names[0], "main=1111111111111111111111111111111111111111");
	assert_string_equal(col.names[1], "refs/pr/1=2222222222222222222222222222222222222222");
	/* "ruv/ruvltra" must not leak into a repo that merely shares its prefix. */
	memset(&col, 0, sizeof(col));
	assert_int_equal(index_ref_foreach(t, REPO_MODEL, "ruv/ruvl", collect_ref, &col), GG_OK);
	assert_int_equal(col.n, 0);

	memset(&col, 0, sizeof(col));
	assert_int_equal(index_repo_foreach(t, collect_repo, &col), GG_OK);
	assert_int_equal(col.n, 2);
	assert_string_equal(col.names[0], "m:gpt2");
	assert_string_equal(col.names[1], "m:ruv/ruvltra");
	index_txn_abort(t);

	/* Replacing a file's blob moves the reference. */
	assert_int_equal(index_txn_begin(idx, 1, &t), GG_OK);
	memcpy(f.sha256, SHA_B, sizeof(f.sha256));
	assert_int_equal(index_file_put(t, REPO_MODEL, "ruv/ruvltra", C1, "a.json", &f), GG_OK);
	assert_int_equal(index_blob_get(t, SHA_A, &b2), GG_OK);
	assert_int_equal(b2.refcount, 2);
	assert_int_equal(index_blob_get(t, SHA_B, &b2), GG_OK);
	assert_int_equal(b2.refcount, 1);
	index_txn_abort(t); /* and an aborted transaction changes nothing */
	assert_int_equal(index_txn_begin(idx, 0, &t), GG_OK);
	assert_int_equal(index_blob_get(t, SHA_B, &b2), GG_OK);
	assert_int_equal(b2.refcount, 0);
	index_txn_abort(t);

	index_close(idx);
	rm_rf(dir);
	free(dir);
}

static void
test_index_newer_format_refused(void **state)
{
	char *dir = tmpdir();
	struct index *idx = NULL;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { 6, "format" };
	unsigned char v99[4] = { 99, 0, 0, 0 };
	MDB_val v = { 4, v99 };
	(void)state;

	assert_int_equal(index_open(dir, &idx), GG_OK);
	index_close(idx);
	idx = NULL;
	/* Rewrite the format stamp behind the index's back. */
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 8);
	mdb_env_set_mapsize(env, 16ull << 30);
	assert_int_equal(mdb_env_open(env, dir, 0, 0644), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "info", 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	assert_int_equal(index_open(dir, &idx), GG_EVERSION);
	assert_null(idx);
	rm_rf(dir);
	free(dir);
}

/* --- blobs ----------------------------------------------------------------- */

static void
test_blob_writer_digests(void **state)
{
	char *dir = tmpdir();
	struct blob_store *bs = NULL;
	struct blob_writer *w = NULL;
	struct blob_digest d;
	uint64_t size;
	int fd;
	char buf[16];
	(void)state;

	assert_int_equal(blob_store_open(dir, &bs), GG_OK);
	assert_int_equal(blob_writer_open(bs, 8, &w), GG_OK);
	assert_int_equal(blob_writer_write(w, "{\"a\":", 5), GG_OK);
	assert_int_equal(blob_writer_write(w, "1}\n", 3), GG_OK);
	assert_int_equal(blob_writer_finish(w, NULL, NULL, &d), GG_OK);
	/* sha256sum and git hash-object of '{"a":1}\n' */
	assert_string_equal(d.sha256,
			    "e346432021b04179518d9614f3560ccd71354a4ee101ddcb893d6959a9d6301c");
	assert_string_equal(d.gitsha1, "0187f3b09d66cef7911083ad49f890f5a6589589");
	assert_int_equal(d.size, 8);
	assert_int_equal(blob_open(bs, d.sha256, &fd, &size), GG_OK);
	assert_int_equal(size, 8);
	assert_int_equal(pread_all(fd, buf, 8, 0), GG_OK);
	assert_memory_equal(buf, "{\"a\":1}\n", 8);
	close(fd);

	/* A wrong expected digest keeps nothing. */
	assert_int_equal(blob_writer_open(bs, -1, &w), GG_OK);
	assert_int_equal(blob_writer_write(w, "other", 5), GG_OK);
	assert_int_equal(blob_writer_finish(w, SHA_A, NULL, &d), GG_ECORRUPT);
	assert_int_equal(blob_exists(bs, SHA_A), 0);
	/* Writing past the announced size fails, and so does stopping short. */
	assert_int_equal(blob_writer_open(bs, 3, &w), GG_OK);
	assert_int_equal(blob_writer_write(w, "abcd", 4), GG_ETOOBIG);
	assert_int_equal(blob_writer_finish(w, NULL, NULL, &d), GG_ETOOBIG);
	assert_int_equal(blob_writer_open(bs, 3, &w), GG_OK);
	assert_int_equal(blob_writer_write(w, "ab", 2), GG_OK);
	assert_int_equal(blob_writer_finish(w, NULL, NULL, &d), GG_ECORRUPT);
	{
		char *tmp = xasprintf("%s/tmp", dir);
		assert_int_equal(count_files(tmp, ""), 0);
		free(tmp);
	}
	/* Names that are not digests never reach the filesystem. */
	assert_int_equal(blob_open(bs, "../../etc/passwd", &fd, &size), GG_EINVAL);
	assert_int_equal(
		blob_open(bs, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
			  &fd, &size),
		GG_EINVAL);
	assert_int_equal(blob_open(bs, SHA_B, &fd, &size), GG_ENOENT);
	blob_store_close(bs);
	rm_rf(dir);
	free(dir);
}

/* --- store: import, crash points, verify ---------------------------------------- */

static const char *crash_at;

static void
crash_hook(const char *point)
{
	if (crash_at != NULL && strcmp(point, crash_at) == 0)
		_exit(77);
}

static int
import_one(const char *root, const char *src, const char *path, char commit[41])
{
	struct store *st = NULL;
	struct store_item it;
	int r;
	memset(&it, 0, sizeof(it));
	it.src = src;
	it.path = path;
	it.lfs = -1;
	if ((r = store_open(root, &st)) != GG_OK)
		return r;
	r = store_import(st, REPO_MODEL, "ruv/ruvltra", "main", &it, 1, NULL, commit);
	store_close(st);
	return r;
}

static void
test_import_and_verify(void **state)
{
	char *dir = tmpdir(), *root = xasprintf("%s/store", dir);
	char *a = write_file(dir, "a.json", "{\"a\":1}\n", 8);
	char *b = write_file(dir, "b.bin", "0123456789", 10);
	char c1[41], c2[41], found[41];
	struct store *st = NULL;
	struct index_txn *t = NULL;
	struct index_file f;
	struct store_verify_report rep;
	int known;
	(void)state;

	assert_int_equal(import_one(root, a, "a.json", c1), GG_OK);
	assert_int_equal(import_one(root, b, "sub/b.bin", c2), GG_OK);
	assert_string_not_equal(c1, c2);
	assert_int_equal(store_open(root, &st), GG_OK);
	assert_int_equal(index_txn_begin(st->idx, 0, &t), GG_OK);
	/* main moved to the second commit, which keeps the first file. */
	assert_int_equal(store_resolve_rev(&(struct store_view){ t }, REPO_MODEL, "ruv/ruvltra",
					   "main", found, &known, NULL),
			 GG_OK);
	assert_string_equal(found, c2);
	assert_int_equal(index_file_get(t, REPO_MODEL, "ruv/ruvltra", c2, "a.json", &f), GG_OK);
	assert_int_equal(f.flags & INDEX_FILE_LFS, 0);
	assert_string_equal(f.oid, "0187f3b09d66cef7911083ad49f890f5a6589589");
	assert_int_equal(index_file_get(t, REPO_MODEL, "ruv/ruvltra", c2, "sub/b.bin", &f), GG_OK);
	assert_int_equal(f.flags & INDEX_FILE_LFS, INDEX_FILE_LFS); /* .bin is an LFS type */
	/* The first commit is immutable: it still lacks the second file. */
	assert_int_equal(index_file_get(t, REPO_MODEL, "ruv/ruvltra", c1, "sub/b.bin", &f),
			 GG_ENOENT);
	/* Short commit prefixes and HEAD resolve; unknown ones do not. */
	{
		char pre[8];
		memcpy(pre, c1, 7);
		pre[7] = '\0';
		assert_int_equal(store_resolve_rev(&(struct store_view){ t }, REPO_MODEL,
						   "ruv/ruvltra", pre, found, &known, NULL),
				 GG_OK);
		assert_string_equal(found, c1);
	}
	assert_int_equal(store_resolve_rev(&(struct store_view){ t }, REPO_MODEL, "ruv/ruvltra",
					   "HEAD", found, &known, NULL),
			 GG_OK);
	assert_string_equal(found, c2);
	{
		uint64_t when = 99;
		assert_int_equal(store_resolve_rev(&(struct store_view){ t }, REPO_MODEL,
						   "ruv/ruvltra", "main", found, &known, &when),
				 GG_OK);
		assert_true(when > 0); /* a ref: its updated_at */
		assert_int_equal(store_resolve_rev(&(struct store_view){ t }, REPO_MODEL,
						   "ruv/ruvltra", c1, found, &known, &when),
				 GG_OK);
		assert_int_equal(when, 0); /* a commit id: immutable */
	}
	assert_int_equal(store_resolve_rev(&(struct store_view){ t }, REPO_MODEL, "ruv/ruvltra",
					   "nope", found, &known, NULL),
			 GG_ENOENT);
	assert_int_equal(known, 1);
	assert_int_equal(store_resolve_rev(&(struct store_view){ t }, REPO_MODEL, "ruv/other",
					   "main", found, &known, NULL),
			 GG_ENOENT);
	assert_int_equal(known, 0);
	index_txn_abort(t);

	assert_int_equal(store_verify(st, NULL, NULL, &rep), GG_OK);
	assert_int_equal(rep.ok, 2);
	assert_int_equal(rep.bad, 0);

	/* Flip one byte of the b.bin blob: verify must catch and quarantine it. */
	{
		char *blob = xasprintf("%s/blobs/sha256/%.2s/%s", root, f.sha256, f.sha256);
		char *q = xasprintf("%s/quarantine/%s", root, f.sha256);
		int fd = open(blob, O_WRONLY);
		struct stat sb;
		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, "X", 1, 3), 1);
		close(fd);
		assert_int_equal(store_verify(st, NULL, NULL, &rep), GG_OK);
		assert_int_equal(rep.ok, 1);
		assert_int_equal(rep.bad, 1);
		assert_int_not_equal(stat(blob, &sb), 0);
		assert_int_equal(stat(q, &sb), 0);
		free(blob);
		free(q);
	}
	store_close(st);
	rm_rf(dir);
	free(a);
	free(b);
	free(root);
	free(dir);
}

static void
crash_case(const char *point)
{
	char *dir = tmpdir(), *root = xasprintf("%s/store", dir);
	char *tmp = xasprintf("%s/tmp", root), *blobs = xasprintf("%s/blobs", root);
	char *a = write_file(dir, "a.json", "{\"a\":1}\n", 8);
	char *b = write_file(dir, "b.gguf", "not really gguf", 15);
	char commit[41];
	struct store *st = NULL;
	struct index_txn *t = NULL;
	struct index_file f;
	struct store_verify_report rep;
	int status, known;
	pid_t pid;

	/* A first, complete import. */
	assert_int_equal(import_one(root, a, "a.json", commit), GG_OK);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		crash_at = point;
		blob_crash_hook = crash_hook;
		import_one(root, b, "b.gguf", commit);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), strcmp(point, "none") == 0 ? 0 : 77);

	/* Reopen: the store holds the old state or the new one, nothing else. */
	assert_int_equal(store_open(root, &st), GG_OK);
	assert_int_equal(count_files(tmp, ".tmp"), 0);
	assert_int_equal(index_txn_begin(st->idx, 0, &t), GG_OK);
	assert_int_equal(store_resolve_rev(&(struct store_view){ t }, REPO_MODEL, "ruv/ruvltra",
					   "main", commit, &known, NULL),
			 GG_OK);
	assert_int_equal(index_file_get(t, REPO_MODEL, "ruv/ruvltra", commit, "a.json", &f), GG_OK);
	if (strcmp(point, "none") == 0) {
		assert_int_equal(index_file_get(t, REPO_MODEL, "ruv/ruvltra", commit, "b.gguf", &f),
				 GG_OK);
		assert_int_equal(count_files(blobs, ""), 2);
	} else {
		assert_int_equal(index_file_get(t, REPO_MODEL, "ruv/ruvltra", commit, "b.gguf", &f),
				 GG_ENOENT);
		/* The unindexed blob (after "renamed") was swept. */
		assert_int_equal(count_files(blobs, ""), 1);
	}
	index_txn_abort(t);
	assert_int_equal(store_verify(st, NULL, NULL, &rep), GG_OK);
	assert_int_equal(rep.bad, 0);
	assert_int_equal(rep.missing, 0);
	store_close(st);
	rm_rf(dir);
	free(a);
	free(b);
	free(tmp);
	free(blobs);
	free(root);
	free(dir);
}

static void
test_crash_after_write(void **s)
{
	(void)s;
	crash_case("written");
}
static void
test_crash_after_fsync(void **s)
{
	(void)s;
	crash_case("synced");
}
static void
test_crash_after_rename(void **s)
{
	(void)s;
	crash_case("renamed");
}
static void
test_no_crash(void **s)
{
	(void)s;
	crash_case("none");
}

static void
test_valid_paths(void **state)
{
	(void)state;
	assert_true(store_valid_path("ruvltra-0.5b-q4_k_m.gguf"));
	assert_true(store_valid_path("sub/dir/file name.json"));
	assert_false(store_valid_path(""));
	assert_false(store_valid_path("/abs"));
	assert_false(store_valid_path("a//b"));
	assert_false(store_valid_path("a/"));
	assert_false(store_valid_path("../x"));
	assert_false(store_valid_path("a/./b"));
	assert_false(store_valid_path("a\\b"));
	assert_false(store_valid_path("a\nb"));
	/* Names are UTF-8: a commit path that is not is refused, not published. */
	assert_true(store_valid_path("\xc3\xa9t\xc3\xa9/\xe6\x97\xa5.txt"));
	assert_false(store_valid_path("conf\xffig.json"));
	assert_false(store_valid_path("a\xc0\xaf.gguf"));
	assert_false(store_valid_path("a\xed\xa0\x80"));
	assert_true(store_is_lfs_path("x.gguf", 1));
	assert_false(store_is_lfs_path("config.json", 100));
	assert_true(store_is_lfs_path("config.json", 20u << 20));
}

/* --- partials, meta, mirrored files ------------------------------------------ */

static void
test_partial_resume_and_verify(void **state)
{
	char *dir = tmpdir();
	struct blob_store *bs = NULL;
	struct blob_partial *p = NULL;
	struct blob_digest d;
	uint64_t have = 99;
	/* '{"a":1}\n': sha256 e346..., git sha1 0187... */
	const char *sha = "e346432021b04179518d9614f3560ccd71354a4ee101ddcb893d6959a9d6301c";
	const char *git = "0187f3b09d66cef7911083ad49f890f5a6589589";
	(void)state;

	assert_int_equal(blob_store_open(dir, &bs), GG_OK);
	assert_int_equal(blob_partial_open(bs, "../etc", 8, &p, &have), GG_EINVAL);
	/* First run: 3 bytes land, then the process "stops". */
	assert_int_equal(blob_partial_open(bs, sha, 8, &p, &have), GG_OK);
	assert_int_equal(have, 0);
	assert_int_equal(blob_partial_write(p, "{\"a", 3), GG_OK);
	blob_partial_close(p);
	/* A restart resumes at 3 (the hash state is rebuilt from the bytes). */
	blob_store_close(bs);
	assert_int_equal(blob_store_open(dir, &bs), GG_OK); /* keeps *.part */
	assert_int_equal(blob_partial_open(bs, sha, 8, &p, &have), GG_OK);
	assert_int_equal(have, 3);
	assert_int_equal(blob_partial_write(p, "\":1}\n!", 6), GG_ETOOBIG); /* past size */
	assert_int_equal(blob_partial_write(p, "\":1}\n", 5), GG_OK);
	assert_int_equal(blob_partial_finish(p, &d), GG_OK);
	assert_string_equal(d.sha256, sha);
	assert_int_equal(blob_exists(bs, sha), 1);

	/* Keyed by git sha1 (a regular file): a wrong body is discarded. */
	assert_int_equal(blob_partial_open(bs, git, 8, &p, &have), GG_OK);
	assert_int_equal(blob_partial_write(p, "{\"a\":2}\n", 8), GG_OK);
	assert_int_equal(blob_partial_finish(p, &d), GG_ECORRUPT);
	{
		char *part = xasprintf("%s/tmp/%s.part", dir, git);
		struct stat sb;
		assert_int_not_equal(stat(part, &sb), 0);
		free(part);
	}
	/* Reset (an upstream that ignored Range) starts the hash over. */
	assert_int_equal(blob_partial_open(bs, git, 8, &p, &have), GG_OK);
	assert_int_equal(blob_partial_write(p, "garbage!", 8), GG_OK);
	assert_int_equal(blob_partial_hash(p, 8), GG_OK);
	assert_int_equal(blob_partial_reset(p), GG_OK);
	assert_int_equal(blob_partial_length(p), 0);
	assert_int_equal(blob_partial_hashed(p), 0);
	assert_int_equal(blob_partial_write(p, "{\"a\":1}\n", 8), GG_OK);
	assert_int_equal(blob_partial_finish(p, &d), GG_OK);
	assert_string_equal(d.gitsha1, git);
	/* The hash follows the writer: from the writer's copy of the bytes
	 * (hash_data), read back from the file (hash), and what neither
	 * covered is hashed by verify. */
	assert_int_equal(blob_partial_open(bs, sha, 8, &p, &have), GG_OK);
	assert_int_equal(blob_partial_write(p, "{\"a", 3), GG_OK);
	blob_partial_hash_data(p, "{\"a", 3);
	assert_int_equal(blob_partial_hashed(p), 3);
	assert_int_equal(blob_partial_write(p, "\":1}\n", 5), GG_OK);
	assert_int_equal(blob_partial_hash(p, 6), GG_OK);
	assert_int_equal(blob_partial_hashed(p), 6);
	assert_int_equal(blob_partial_finish(p, &d), GG_OK);
	assert_string_equal(d.sha256, sha);
	/* What is verified is what the hasher was given. */
	assert_int_equal(blob_partial_open(bs, sha, 8, &p, &have), GG_OK);
	assert_int_equal(blob_partial_write(p, "{\"a\":1}\n", 8), GG_OK);
	blob_partial_hash_data(p, "{\"a\":2}\n", 8);
	assert_int_equal(blob_partial_finish(p, &d), GG_ECORRUPT);
	/* A partial longer than the announced size is emptied. */
	{
		char *part = xasprintf("%s/tmp/%s.part", dir, SHA_A);
		int fd = open(part, O_WRONLY | O_CREAT, 0644);
		assert_int_equal(write_all(fd, "0123456789", 10), GG_OK);
		close(fd);
		assert_int_equal(blob_partial_open(bs, SHA_A, 4, &p, &have), GG_OK);
		assert_int_equal(have, 0);
		blob_partial_discard(p);
		free(part);
	}
	blob_store_close(bs);
	rm_rf(dir);
	free(dir);
}

static void
test_meta_and_record(void **state)
{
	char *dir = tmpdir();
	struct store *st = NULL;
	struct index_txn *t = NULL;
	struct index_meta m, got;
	struct index_file f;
	char longkey[3000];
	(void)state;

	assert_int_equal(store_open(dir, &st), GG_OK);
	assert_int_equal(index_txn_begin(st->idx, 1, &t), GG_OK);
	memset(&m, 0, sizeof(m));
	m.fetched_at = 1234;
	m.status = 200;
	snprintf(m.aux, sizeof(m.aux), "<http://x/api?cursor=1>; rel=\"next\"");
	static const char blob[] = "\x1f\x8b binary\0data"; /* 14 bytes and a NUL */
	m.data = (void *)blob;
	m.len = sizeof(blob);
	assert_int_equal(
		index_meta_put(t, REPO_MODEL, "ruv/ruvltra", "GET /api/models/ruv/ruvltra", &m),
		GG_OK);
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	assert_int_equal(index_meta_put(t, REPO_MODEL, "ruv/ruvltra", longkey, &m), GG_OK);
	assert_int_equal(index_txn_commit(t), GG_OK);
	assert_int_equal(index_txn_begin(st->idx, 0, &t), GG_OK);
	assert_int_equal(
		index_meta_get(t, REPO_MODEL, "ruv/ruvltra", "GET /api/models/ruv/ruvltra", &got),
		GG_OK);
	assert_int_equal(got.fetched_at, 1234);
	assert_int_equal(got.status, 200);
	assert_string_equal(got.aux, m.aux);
	assert_int_equal(got.len, m.len);
	assert_memory_equal(got.data, m.data, m.len);
	free(got.data);
	assert_int_equal(index_meta_get(t, REPO_MODEL, "ruv/ruvltra", longkey, &got), GG_OK);
	free(got.data);
	assert_int_equal(index_meta_get(t, REPO_MODEL, "ruv/ruvltra", "GET /other", &got),
			 GG_ENOENT);
	index_txn_abort(t);

	/* Keys are never cut: two targets that differ only past 8 KiB (or in
	 * their last byte) are two entries. */
	{
		size_t kl = GG_MAX_URL_LEN + 64;
		char *ka = malloc(kl + 1), *kb = malloc(kl + 1);
		assert_non_null(ka);
		assert_non_null(kb);
		memset(ka, 'q', kl);
		ka[kl] = '\0';
		memcpy(kb, ka, kl + 1);
		ka[kl - 1] = 'A';
		kb[kl - 1] = 'B';
		assert_int_equal(index_txn_begin(st->idx, 1, &t), GG_OK);
		assert_int_equal(index_meta_put(t, REPO_MODEL, "ruv/ruvltra", ka, &m), GG_OK);
		assert_int_equal(index_meta_get(t, REPO_MODEL, "ruv/ruvltra", kb, &got), GG_ENOENT);
		ka[kl - 1] = 'B';
		kb[kl - 1] = 'A';
		assert_int_equal(index_meta_get(t, REPO_MODEL, "ruv/ruvltra", kb, &got), GG_OK);
		free(got.data);
		index_txn_abort(t);
		free(ka);
		free(kb);
	}

	/* A mirrored LFS file: known (metadata) before its blob is present. */
	assert_int_equal(
		store_record_file(st, REPO_MODEL, "ruv/ruvltra", C1, "m.gguf", 1, SHA_A, NULL, 42),
		GG_OK);
	assert_int_equal(
		store_record_file(st, REPO_MODEL, "ruv/ruvltra", C1, "c.json", 0, SHA_B, NULL, 7),
		GG_EINVAL);
	assert_int_equal(
		store_record_file(st, REPO_MODEL, "ruv/ruvltra", C1, "c.json", 0, SHA_B, C2, 7),
		GG_OK);
	assert_int_equal(
		store_record_file(st, REPO_MODEL, "ruv/ruvltra", "main", "x", 1, SHA_A, NULL, 42),
		GG_EINVAL);
	assert_int_equal(
		store_record_file(st, REPO_MODEL, "ruv/ruvltra", C1, "../x", 1, SHA_A, NULL, 42),
		GG_EINVAL);
	assert_int_equal(index_txn_begin(st->idx, 0, &t), GG_OK);
	assert_int_equal(index_file_get(t, REPO_MODEL, "ruv/ruvltra", C1, "m.gguf", &f), GG_OK);
	assert_int_equal(f.flags, INDEX_FILE_LFS);
	assert_int_equal(f.size, 42);
	assert_int_equal(index_file_get(t, REPO_MODEL, "ruv/ruvltra", C1, "c.json", &f), GG_OK);
	assert_string_equal(f.oid, C2);
	{
		int exists = 0;
		assert_int_equal(store_repo_exists(&(struct store_view){ t }, REPO_MODEL,
						   "ruv/ruvltra", &exists),
				 GG_OK);
		assert_int_equal(exists, 1);
		assert_int_equal(store_repo_exists(&(struct store_view){ t }, REPO_MODEL,
						   "ruv/nope", &exists),
				 GG_OK);
		assert_int_equal(exists, 0);
	}
	index_txn_abort(t);
	/* Pinning. */
	assert_int_equal(store_pin(st, SHA_A, 1), GG_OK);
	assert_int_equal(
		store_pin(st, "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
			  1),
		GG_ENOENT);
	{
		struct index_blob b;
		assert_int_equal(index_txn_begin(st->idx, 0, &t), GG_OK);
		assert_int_equal(index_blob_get(t, SHA_A, &b), GG_OK);
		assert_int_equal(b.pinned, 1);
		index_txn_abort(t);
	}
	/* Verify does not count known-but-absent blobs as bad. */
	{
		struct store_verify_report rep;
		assert_int_equal(store_verify(st, NULL, NULL, &rep), GG_OK);
		assert_int_equal(rep.bad, 0);
		assert_int_equal(rep.missing, 2);
	}
	store_close(st);
	rm_rf(dir);
	free(dir);
}

/*
 * index_txn_commit failing: the wrap below makes the next mdb_txn_commit
 * fail as LMDB does when the map is full (the txn is freed, an error is
 * returned).  Linked with -Wl,--wrap=mdb_txn_commit.
 */
int __real_mdb_txn_commit(MDB_txn *txn);
int __wrap_mdb_txn_commit(MDB_txn *txn);
static int fail_next_commit;

int
__wrap_mdb_txn_commit(MDB_txn *txn)
{
	if (fail_next_commit) {
		fail_next_commit = 0;
		mdb_txn_abort(txn);
		return MDB_MAP_FULL;
	}
	return __real_mdb_txn_commit(txn);
}

/* Stages `text` as an upload would (store_writer_finish). */
static void
stage_bytes(struct store *st, const char *text, struct blob_digest *d, int *fresh)
{
	struct blob_writer *w = NULL;
	assert_int_equal(store_writer_open(st, (int64_t)strlen(text), &w), GG_OK);
	assert_int_equal(blob_writer_write(w, text, strlen(text)), GG_OK);
	assert_int_equal(store_writer_finish(st, w, NULL, d, fresh), GG_OK);
}

static int
blob_record(struct store *st, const char *sha256, struct index_blob *b)
{
	struct store_view v;
	int r = store_view_begin(st, &v);
	if (r == GG_OK)
		r = store_view_blob(&v, sha256, b);
	store_view_end(&v);
	return r;
}

/*
 * Bug B1 (review): dropping a staged blob after a refused upload aborted a
 * transaction that a failed commit had already freed (a double free that
 * ASan reports), and a failed commit must leave the blob in place.
 */
static void
test_drop_commit_fails(void **state)
{
	char *dir = tmpdir();
	struct store *st = NULL;
	struct blob_digest d;
	struct index_blob b;
	int fresh;
	(void)state;

	assert_int_equal(store_open(dir, &st), GG_OK);
	stage_bytes(st, "refused upload\n", &d, &fresh);
	assert_int_equal(fresh, 1);
	store_unstage(st, d.sha256);
	fail_next_commit = 1;
	assert_int_equal(store_drop_unreferenced(st, d.sha256), GG_ENOSPC);
	assert_int_equal(fail_next_commit, 0); /* the commit was reached */
	/* Nothing committed, nothing unlinked. */
	assert_int_equal(blob_record(st, d.sha256, &b), GG_OK);
	assert_true(store_blob_exists(st, d.sha256));
	/* Without the failure it goes, record first, then the file. */
	assert_int_equal(store_drop_unreferenced(st, d.sha256), GG_OK);
	assert_int_equal(blob_record(st, d.sha256, &b), GG_ENOENT);
	assert_false(store_blob_exists(st, d.sha256));
	assert_int_equal(store_drop_unreferenced(st, d.sha256), GG_ENOENT);
	store_close(st);
	rm_rf(dir);
	free(dir);
}

/*
 * A refused upload must not delete a blob that an accepted upload of the
 * same bytes has adopted: the accepted one has it staged (in flight), or
 * journaled (a pending job), or named by a file.  Only a record created
 * by the refused upload itself may go, and only when nothing needs it.
 */
static void
test_refused_upload_keeps_accepted_blob(void **state)
{
	static const char bytes[] = "the same bytes, uploaded twice\n";
	char *dir = tmpdir();
	struct store *st = NULL;
	struct blob_digest a, b;
	struct index_upload u;
	struct index_blob rec;
	char job[256];
	int fresh_a, fresh_b;
	(void)state;

	assert_int_equal(store_open(dir, &st), GG_OK);
	/* The accepted upload lands first, the refused one second. */
	stage_bytes(st, bytes, &a, &fresh_a);
	stage_bytes(st, bytes, &b, &fresh_b);
	assert_string_equal(a.sha256, b.sha256);
	assert_int_equal(fresh_a, 1);
	assert_int_equal(fresh_b, 0); /* the record was the accepted upload's */
	/* The refused one lets go; even a drop (were it fresh) keeps the blob
	 * that the accepted upload still has staged. */
	store_unstage(st, b.sha256);
	assert_int_equal(store_drop_unreferenced(st, b.sha256), GG_EEXIST);
	assert_true(store_blob_exists(st, a.sha256));

	/* The accepted upload journals its job (pending: upstream is down),
	 * then lets go of its stage: the journal protects the blob now. */
	snprintf(job, sizeof(job), "{\"files\":[{\"path\":\"x.gguf\",\"sha256\":\"%s\"}]}",
		 a.sha256);
	memset(&u, 0, sizeof(u));
	u.state = STORE_JOB_PENDING;
	u.data = job;
	u.len = strlen(job);
	assert_int_equal(store_upload_put(st, 1, &u), GG_OK);
	store_unstage(st, a.sha256);
	assert_int_equal(store_drop_unreferenced(st, a.sha256), GG_EEXIST);
	assert_true(store_blob_exists(st, a.sha256));
	u.state = STORE_JOB_PUBLISHING;
	assert_int_equal(store_upload_put(st, 1, &u), GG_OK);
	assert_int_equal(store_drop_unreferenced(st, a.sha256), GG_EEXIST);

	/* Published: a file names it. */
	assert_int_equal(store_record_file(st, REPO_MODEL, "ruv/ruvltra",
					   "1111111111111111111111111111111111111111", "x.gguf", 1,
					   a.sha256, NULL, a.size),
			 GG_OK);
	u.state = STORE_JOB_DONE;
	assert_int_equal(store_upload_put(st, 1, &u), GG_OK);
	assert_int_equal(store_drop_unreferenced(st, a.sha256), GG_EEXIST);
	assert_int_equal(blob_record(st, a.sha256, &rec), GG_OK);
	assert_int_equal(rec.refcount, 1);

	/* A pinned, unnamed blob stays too; unpinned and unneeded, it goes. */
	stage_bytes(st, "pinned\n", &b, &fresh_b);
	store_unstage(st, b.sha256);
	assert_int_equal(store_pin(st, b.sha256, 1), GG_OK);
	assert_int_equal(store_drop_unreferenced(st, b.sha256), GG_EEXIST);
	assert_int_equal(store_pin(st, b.sha256, 0), GG_OK);
	assert_int_equal(store_drop_unreferenced(st, b.sha256), GG_OK);
	assert_false(store_blob_exists(st, b.sha256));
	store_close(st);
	rm_rf(dir);
	free(dir);
}

/* Paths of a commit's files, "path=sha256-prefix(8)" each, in index order. */
static void
commit_files(struct store *st, const char *commit, struct collect *out)
{
	struct index_txn *t = NULL;
	struct collect c;
	memset(&c, 0, sizeof(c));
	assert_int_equal(index_txn_begin(st->idx, 0, &t), GG_OK);
	assert_int_equal(
		index_file_foreach(t, REPO_MODEL, "ruv/ruvltra", commit, NULL, collect_file, &c),
		GG_OK);
	for (int i = 0; i < c.n; i++) {
		struct index_file f;
		char name[1100];
		assert_int_equal(
			index_file_get(t, REPO_MODEL, "ruv/ruvltra", commit, c.names[i], &f),
			GG_OK);
		snprintf(name, sizeof(name), "%s=%.8s%s", c.names[i], f.sha256,
			 (f.flags & INDEX_FILE_LFS) ? "+lfs" : "");
		snprintf(c.names[i], sizeof(c.names[i]), "%s", name);
	}
	index_txn_abort(t);
	*out = c;
}

static void
test_record_child_commit(void **state)
{
	static const char SHA_C[] =
		"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
	static const char C3[] = "3333333333333333333333333333333333333333";
	static const char C4[] = "4444444444444444444444444444444444444444";
	static const char C5[] = "5555555555555555555555555555555555555555";
	static const char G1[] = "abababababababababababababababababababab";
	char *dir = tmpdir();
	struct store *st = NULL;
	struct index_txn *t = NULL;
	struct index_commit c;
	struct index_blob b;
	struct collect got;
	(void)state;

	assert_int_equal(store_open(dir, &st), GG_OK);
	/* The parent, as a mirror knows it: five files, two under dir/. */
	assert_int_equal(
		store_record_file(st, REPO_MODEL, "ruv/ruvltra", C1, "a.gguf", 1, SHA_A, NULL, 42),
		GG_OK);
	assert_int_equal(
		store_record_file(st, REPO_MODEL, "ruv/ruvltra", C1, "c.json", 0, SHA_B, G1, 7),
		GG_OK);
	assert_int_equal(
		store_record_file(st, REPO_MODEL, "ruv/ruvltra", C1, "dir/x.txt", 0, SHA_B, G1, 7),
		GG_OK);
	assert_int_equal(store_record_file(st, REPO_MODEL, "ruv/ruvltra", C1, "dir/sub/y.txt", 0,
					   SHA_B, G1, 7),
			 GG_OK);
	assert_int_equal(
		store_record_file(st, REPO_MODEL, "ruv/ruvltra", C1, "dirx.txt", 0, SHA_B, G1, 7),
		GG_OK);
	assert_int_equal(
		store_record_file(st, REPO_MODEL, "ruv/ruvltra", C1, "keep.txt", 0, SHA_B, G1, 7),
		GG_OK);

	/* The child: one file added, one replaced, a file and a folder deleted. */
	{
		const struct store_change ch[] = {
			{ "new.json", STORE_CHANGE_ADD, 0, SHA_C, C2, 9 },
			{ "c.json", STORE_CHANGE_ADD, 0, SHA_C, C2, 9 },
			{ "b.gguf", STORE_CHANGE_ADD, 1, SHA_C, NULL, 9 },
			{ "keep.txt", STORE_CHANGE_DELETE_FILE, 0, NULL, NULL, 0 },
			{ "dir/", STORE_CHANGE_DELETE_FOLDER, 0, NULL, NULL, 0 },
		};
		assert_int_equal(store_record_child_commit(st, REPO_MODEL, "ruv/ruvltra", C1, C3,
							   "Upload", ch, 5),
				 GG_OK);
		/* Twice is the same. */
		assert_int_equal(store_record_child_commit(st, REPO_MODEL, "ruv/ruvltra", C1, C3,
							   "Upload", ch, 5),
				 GG_OK);
	}
	commit_files(st, C3, &got);
	assert_int_equal(got.n, 5);
	assert_string_equal(got.names[0], "a.gguf=aaaaaaaa+lfs");
	assert_string_equal(got.names[1], "b.gguf=cccccccc+lfs");
	assert_string_equal(got.names[2], "c.json=cccccccc");
	assert_string_equal(got.names[3], "dirx.txt=bbbbbbbb"); /* "dir/" is not a prefix of it */
	assert_string_equal(got.names[4], "new.json=cccccccc");
	commit_files(st, C1, &got);
	assert_int_equal(got.n, 6); /* the parent is untouched */
	assert_int_equal(index_txn_begin(st->idx, 0, &t), GG_OK);
	assert_int_equal(index_commit_get(t, REPO_MODEL, "ruv/ruvltra", C3, &c), GG_OK);
	assert_string_equal(c.parent, C1);
	assert_string_equal(c.title, "Upload");
	{
		struct index_file f;
		assert_int_equal(index_file_get(t, REPO_MODEL, "ruv/ruvltra", C3, "new.json", &f),
				 GG_OK);
		assert_string_equal(f.oid, C2);
		assert_int_equal(f.size, 9);
	}
	/* One reference per file entry naming the blob, in both commits. */
	assert_int_equal(index_blob_get(t, SHA_A, &b), GG_OK);
	assert_int_equal(b.refcount, 2);
	assert_int_equal(index_blob_get(t, SHA_C, &b), GG_OK);
	assert_int_equal(b.refcount, 3);
	index_txn_abort(t);

	/* A commit a mirror saw first (no parent) gets its parent and tree;
	 * what was recorded under it stays. */
	assert_int_equal(
		store_record_file(st, REPO_MODEL, "ruv/ruvltra", C4, "seen.txt", 0, SHA_B, G1, 7),
		GG_OK);
	{
		const struct store_change ch[] = { { "keep.txt", STORE_CHANGE_DELETE_FILE, 0, NULL,
						     NULL, 0 } };
		assert_int_equal(store_record_child_commit(st, REPO_MODEL, "ruv/ruvltra", C1, C4,
							   "Delete", ch, 1),
				 GG_OK);
	}
	commit_files(st, C4, &got);
	assert_int_equal(got.n, 6); /* 5 of the parent's 6, plus seen.txt */
	assert_string_equal(got.names[5], "seen.txt=bbbbbbbb");
	assert_int_equal(index_txn_begin(st->idx, 0, &t), GG_OK);
	assert_int_equal(index_commit_get(t, REPO_MODEL, "ruv/ruvltra", C4, &c), GG_OK);
	assert_string_equal(c.parent, C1);
	index_txn_abort(t);

	/* No parent known: only the changes. */
	{
		const struct store_change ch[] = { { "only.json", STORE_CHANGE_ADD, 0, SHA_C, C2,
						     9 } };
		assert_int_equal(store_record_child_commit(st, REPO_MODEL, "ruv/ruvltra", "", C5,
							   "x", ch, 1),
				 GG_OK);
	}
	commit_files(st, C5, &got);
	assert_int_equal(got.n, 1);
	assert_string_equal(got.names[0], "only.json=cccccccc");

	/* Malformed input changes nothing. */
	{
		const struct store_change ok[] = { { "n.json", STORE_CHANGE_ADD, 0, SHA_C, C2,
						     9 } };
		const struct store_change nogit[] = { { "n.json", STORE_CHANGE_ADD, 0, SHA_C, NULL,
							9 } };
		const struct store_change badpath[] = { { "../n.json", STORE_CHANGE_ADD, 0, SHA_C,
							  C2, 9 } };
		const struct store_change badsha[] = { { "n.json", STORE_CHANGE_ADD, 1, "abc", NULL,
							 9 } };
		assert_int_equal(store_record_child_commit(st, REPO_MODEL, "ruv/ruvltra", C1,
							   "main", "x", ok, 1),
				 GG_EINVAL);
		assert_int_equal(store_record_child_commit(st, REPO_MODEL, "ruv/ruvltra", "abc", C5,
							   "x", ok, 1),
				 GG_EINVAL);
		assert_int_equal(store_record_child_commit(st, REPO_MODEL, "ruv/ruvltra", C1, C5,
							   "x", nogit, 1),
				 GG_EINVAL);
		assert_int_equal(store_record_child_commit(st, REPO_MODEL, "ruv/ruvltra", C1, C5,
							   "x", badpath, 1),
				 GG_EINVAL);
		assert_int_equal(store_record_child_commit(st, REPO_MODEL, "ruv/ruvltra", C1, C5,
							   "x", badsha, 1),
				 GG_EINVAL);
	}
	commit_files(st, C5, &got);
	assert_int_equal(got.n, 1);
	store_close(st);
	rm_rf(dir);
	free(dir);
}

static void
test_note_change(void **state)
{
	char *dir = tmpdir();
	struct store *st = NULL;
	uint64_t before = now_unix();
	(void)state;

	assert_int_equal(store_open(dir, &st), GG_OK);
	assert_int_equal(store_changed_at(st, REPO_MODEL, "ruv/ruvltra"), 0);
	assert_int_equal(store_note_change(st, REPO_MODEL, "ruv/ruvltra"), GG_OK);
	assert_true(store_changed_at(st, REPO_MODEL, "ruv/ruvltra") >= before);
	assert_true(store_changed_at(st, REPO_MODEL, "ruv/ruvltra") <= now_unix());
	/* Per repo and per type. */
	assert_int_equal(store_changed_at(st, REPO_MODEL, "ruv/other"), 0);
	assert_int_equal(store_changed_at(st, REPO_DATASET, "ruv/ruvltra"), 0);
	store_close(st);
	rm_rf(dir);
	free(dir);
}

/* store_gc removes old unneeded blobs only: not young ones, not pinned,
 * not named by a file, not in a live upload job. */
static void
test_gc(void **state)
{
	char *dir = tmpdir();
	struct store *st = NULL;
	struct store_gc_report rep;
	struct blob_digest a, b, c, d;
	struct index_upload u;
	char job[200];
	int fresh;
	(void)state;

	assert_int_equal(store_open(dir, &st), GG_OK);
	stage_bytes(st, "unneeded\n", &a, &fresh);
	stage_bytes(st, "pinned\n", &b, &fresh);
	stage_bytes(st, "named by a file\n", &c, &fresh);
	stage_bytes(st, "in a pending job\n", &d, &fresh);
	store_unstage(st, a.sha256);
	store_unstage(st, b.sha256);
	store_unstage(st, c.sha256);
	store_unstage(st, d.sha256);
	assert_int_equal(store_pin(st, b.sha256, 1), GG_OK);
	assert_int_equal(store_record_file(st, REPO_MODEL, "ruv/ruvltra",
					   "1111111111111111111111111111111111111111", "c.txt", 1,
					   c.sha256, NULL, c.size),
			 GG_OK);
	snprintf(job, sizeof(job), "{\"id\":1,\"files\":[{\"sha256\":\"%s\"}]}", d.sha256);
	memset(&u, 0, sizeof(u));
	u.state = STORE_JOB_PENDING;
	u.data = job;
	u.len = strlen(job);
	assert_int_equal(store_upload_put(st, 1, &u), GG_OK);

	/* Everything is young: nothing goes. */
	assert_int_equal(store_gc(st, 3600, &rep), GG_OK);
	assert_int_equal(rep.blobs, 0);
	assert_int_equal(rep.kept, 2); /* a and d: unreferenced but young */
	assert_true(store_blob_exists(st, a.sha256));
	/* With no age bound, only the unneeded one goes. */
	assert_int_equal(store_gc(st, 0, &rep), GG_OK);
	assert_int_equal(rep.blobs, 1);
	assert_int_equal(rep.bytes, a.size);
	assert_false(store_blob_exists(st, a.sha256));
	assert_true(store_blob_exists(st, b.sha256));
	assert_true(store_blob_exists(st, c.sha256));
	assert_true(store_blob_exists(st, d.sha256));
	/* The job done, its blob goes too. */
	u.state = STORE_JOB_DONE;
	assert_int_equal(store_upload_put(st, 1, &u), GG_OK);
	assert_int_equal(store_gc(st, 0, &rep), GG_OK);
	assert_int_equal(rep.blobs, 1);
	assert_false(store_blob_exists(st, d.sha256));
	store_close(st);
	rm_rf(dir);
	free(dir);
}

/*
 * Eviction under a quota: least recently used first; pinned, held,
 * staged and job blobs kept; a blob two repos name goes as a whole (its
 * bytes, the file records stay); an unreferenced blob goes with its
 * record; GG_ENOSPC once nothing more can go; hits written by the flush.
 */
static void
test_eviction(void **state)
{
	static const char CM[] = "3333333333333333333333333333333333333333";
	char *dir = tmpdir();
	struct store *st = NULL;
	struct blob_digest x, y, z, w, v, u;
	struct store_usage use;
	struct store_evictee next[8];
	struct store_eviction rec[4];
	struct index_blob b;
	struct index_file f;
	size_t nn;
	int fresh, fd;
	uint64_t size, used;
	(void)state;

	assert_int_equal(store_open(dir, &st), GG_OK);
	stage_bytes(st, "X: shared by two repos, 00000000000000000000\n", &x, &fresh);
	stage_bytes(st, "Y: the least recently used one, 111111111111\n", &y, &fresh);
	stage_bytes(st, "Z: pinned, 2222222222222222222222222222222222\n", &z, &fresh);
	stage_bytes(st, "W: held by a reader, 333333333333333333333333\n", &w, &fresh);
	stage_bytes(st, "V: staged for an upload, 44444444444444444444\n", &v, &fresh);
	stage_bytes(st, "U: named by nothing, 555555555555555555555555\n", &u, &fresh);
	store_unstage(st, x.sha256);
	store_unstage(st, y.sha256);
	store_unstage(st, z.sha256);
	store_unstage(st, w.sha256);
	store_unstage(st, u.sha256); /* v stays staged */
	assert_int_equal(
		store_record_file(st, REPO_MODEL, "a/one", CM, "x.gguf", 1, x.sha256, NULL, x.size),
		GG_OK);
	assert_int_equal(store_record_file(st, REPO_MODEL, "b/two", CM, "copy.gguf", 1, x.sha256,
					   NULL, x.size),
			 GG_OK);
	assert_int_equal(store_record_file(st, REPO_MODEL, "c/three", CM, "y.gguf", 1, y.sha256,
					   NULL, y.size),
			 GG_OK);
	assert_int_equal(store_record_file(st, REPO_MODEL, "c/three", CM, "z.gguf", 1, z.sha256,
					   NULL, z.size),
			 GG_OK);
	assert_int_equal(store_record_file(st, REPO_MODEL, "c/three", CM, "w.gguf", 1, w.sha256,
					   NULL, w.size),
			 GG_OK);
	assert_int_equal(store_pin(st, z.sha256, 1), GG_OK);
	/* Use order, oldest first: U, Y, W, X; W is still being read. */
	store_touch(st, u.sha256);
	usleep(2000);
	store_touch(st, y.sha256);
	usleep(2000);
	assert_int_equal(store_blob_acquire(st, w.sha256, &fd, &size), GG_OK);
	close(fd);
	usleep(2000);
	store_touch(st, x.sha256);
	store_touch(st, x.sha256);
	/* The index keeps whole seconds: the order of uses within one second
	 * must outlive a flush of the hits. */
	assert_int_equal(store_flush_access(st), GG_OK);

	assert_int_equal(store_usage(st, &use, next, 8, &nn), GG_OK);
	used = x.size + y.size + z.size + w.size + v.size + u.size;
	assert_int_equal(use.used_bytes, used);
	assert_int_equal(use.blobs, 6);
	assert_int_equal(use.pinned_bytes, z.size);
	assert_int_equal(use.evictable_bytes, u.size + y.size + x.size);
	assert_int_equal(nn, 3); /* in eviction order */
	assert_string_equal(next[0].sha256, u.sha256);
	assert_string_equal(next[1].sha256, y.sha256);
	assert_string_equal(next[2].sha256, x.sha256);
	assert_int_equal(next[2].refcount, 2);

	/* No quota: any reservation fits. */
	assert_int_equal(store_reserve(st, 1u << 30), GG_OK);
	store_unreserve(st, 1u << 30);
	/* Room for one more blob of X's size: U goes first, then Y. */
	store_set_quota(st, used);
	assert_int_equal(store_reserve(st, u.size + 1), GG_OK);
	assert_false(store_blob_exists(st, u.sha256));
	assert_int_equal(blob_record(st, u.sha256, &b), GG_ENOENT); /* record gone too */
	assert_false(store_blob_exists(st, y.sha256));
	assert_int_equal(blob_record(st, y.sha256, &b), GG_OK); /* named: record stays */
	assert_int_equal(store_file_get(st, REPO_MODEL, "c/three", CM, "y.gguf", &f), GG_OK);
	assert_true(store_blob_exists(st, x.sha256));
	/* What is being written counts: the next blob must evict X, the only
	 * one left that nothing protects, for both repos that name it. */
	assert_int_equal(store_reserve(st, x.size), GG_OK);
	assert_false(store_blob_exists(st, x.sha256));
	assert_int_equal(store_file_get(st, REPO_MODEL, "a/one", CM, "x.gguf", &f), GG_OK);
	assert_int_equal(store_file_get(st, REPO_MODEL, "b/two", CM, "copy.gguf", &f), GG_OK);
	/* Nothing more can go: pinned Z, held W, staged V. */
	assert_int_equal(store_reserve(st, z.size), GG_ENOSPC);
	assert_int_equal(store_reserve(st, used + 1), GG_ENOSPC); /* larger than the quota */
	assert_true(store_blob_exists(st, z.sha256));
	assert_true(store_blob_exists(st, w.sha256));
	assert_true(store_blob_exists(st, v.sha256));
	assert_int_equal(store_recent_evictions(st, rec, 4), 3);
	assert_string_equal(rec[0].sha256, x.sha256); /* newest first */
	assert_string_equal(rec[2].sha256, u.sha256);
	assert_int_equal(store_usage(st, &use, NULL, 0, NULL), GG_OK);
	assert_int_equal(use.evictions, 3);
	assert_int_equal(use.evicted_bytes, u.size + y.size + x.size);
	assert_int_equal(use.reserved_bytes, u.size + 1 + x.size);
	/* The reader is done, the writes too: W may go now. */
	store_unuse(st, w.sha256);
	store_unreserve(st, u.size + 1 + x.size);
	assert_int_equal(store_reserve(st, used - z.size - v.size), GG_OK);
	assert_false(store_blob_exists(st, w.sha256));
	store_unreserve(st, used - z.size - v.size);
	/* A lower quota is enforced on its own. */
	store_set_quota(st, 1);
	assert_int_equal(store_enforce_quota(st), GG_ENOSPC);
	assert_true(store_blob_exists(st, z.sha256));

	/* Hits are written by the flush (X was evicted, Z was not hit). */
	store_touch(st, z.sha256);
	store_touch(st, z.sha256);
	assert_int_equal(store_flush_access(st), GG_OK);
	assert_int_equal(blob_record(st, z.sha256, &b), GG_OK);
	assert_int_equal(b.hits, 2);
	assert_true(b.last_access > 0);
	store_close(st);
	rm_rf(dir);
	free(dir);
}

/*
 * With a blob store (tier.c): only blobs marked as stored there may be
 * evicted; the mark lives in the blob record (kept when the blob's bytes
 * are evicted); the landed hook hears of every blob made durable.
 */
static int landed_calls;
static char landed_last[GG_SHA256_HEX + 1];
static void
landed_cb(void *ctx, const char *sha256)
{
	(void)ctx;
	landed_calls++;
	snprintf(landed_last, sizeof(landed_last), "%s", sha256);
}

static void
test_bucket_guard(void **state)
{
	static const char CM[] = "4444444444444444444444444444444444444444";
	char *dir = tmpdir();
	struct store *st = NULL;
	struct blob_digest x, y;
	struct store_usage use;
	struct index_blob b;
	int fresh;
	(void)state;

	assert_int_equal(store_open(dir, &st), GG_OK);
	store_set_landed_hook(st, landed_cb, NULL);
	landed_calls = 0;
	stage_bytes(st, "X: the older one, not in the bucket yet 0000\n", &x, &fresh);
	assert_int_equal(landed_calls, 1);
	assert_string_equal(landed_last, x.sha256);
	stage_bytes(st, "Y: the newer one, stored in the bucket 11111\n", &y, &fresh);
	assert_int_equal(landed_calls, 2);
	store_unstage(st, x.sha256);
	store_unstage(st, y.sha256);
	assert_int_equal(
		store_record_file(st, REPO_MODEL, "a/one", CM, "x.gguf", 1, x.sha256, NULL, x.size),
		GG_OK);
	assert_int_equal(
		store_record_file(st, REPO_MODEL, "a/one", CM, "y.gguf", 1, y.sha256, NULL, y.size),
		GG_OK);
	store_touch(st, x.sha256);
	usleep(2000);
	store_touch(st, y.sha256);
	store_set_bucket_guard(st, 1);
	assert_int_equal(store_mark_in_bucket(st, y.sha256, 1), GG_OK);
	assert_int_equal(blob_record(st, y.sha256, &b), GG_OK);
	assert_true(b.in_bucket);
	assert_int_equal(blob_record(st, x.sha256, &b), GG_OK);
	assert_false(b.in_bucket);
	assert_int_equal(
		store_mark_in_bucket(
			st, "5555555555555555555555555555555555555555555555555555555555555555", 1),
		GG_ENOENT);
	/* Only Y is evictable although X is the least recently used. */
	assert_int_equal(store_usage(st, &use, NULL, 0, NULL), GG_OK);
	assert_int_equal(use.evictable_bytes, y.size);
	store_set_quota(st, x.size + y.size);
	assert_int_equal(store_reserve(st, 1), GG_OK);
	assert_true(store_blob_exists(st, x.sha256));
	assert_false(store_blob_exists(st, y.sha256));
	/* The mark outlives the eviction and the hit flush. */
	assert_int_equal(store_flush_access(st), GG_OK);
	assert_int_equal(blob_record(st, y.sha256, &b), GG_OK);
	assert_true(b.in_bucket);
	store_unreserve(st, 1);
	/* X is the only copy: nothing can make room for more. */
	assert_int_equal(store_reserve(st, y.size + 1), GG_ENOSPC);
	assert_true(store_blob_exists(st, x.sha256));
	/* Once stored in the bucket, it may go. */
	assert_int_equal(store_mark_in_bucket(st, x.sha256, 1), GG_OK);
	assert_int_equal(store_reserve(st, y.size + 1), GG_OK);
	assert_false(store_blob_exists(st, x.sha256));
	store_unreserve(st, y.size + 1);
	store_set_landed_hook(st, NULL, NULL);
	store_close(st);
	rm_rf(dir);
	free(dir);
}

/* Pins by repo and glob; stale partials and old quarantined files swept. */
static void
test_pin_files_and_sweep(void **state)
{
	char *dir = tmpdir(), *src = tmpdir();
	char *a = write_file(src, "m-q4_k_m.gguf", "GGUF? not really, q4\n", 21);
	char *c = write_file(src, "README.md", "# card\n", 7);
	struct store_item items[2];
	struct store_pin_report rep;
	struct store *st = NULL;
	struct index_blob b;
	char commit[GG_SHA1_HEX + 1];
	const char *glob[] = { "*q4_k_m.gguf" };
	uint64_t files, bytes;
	struct timespec old[2] = { { 1000, 0 }, { 1000, 0 } };
	char *part, *quar, *young;
	(void)state;

	assert_int_equal(store_open(dir, &st), GG_OK);
	memset(items, 0, sizeof(items));
	items[0].src = a;
	items[0].path = "m-q4_k_m.gguf";
	items[0].lfs = -1;
	items[1].src = c;
	items[1].path = "README.md";
	items[1].lfs = -1;
	assert_int_equal(
		store_import(st, REPO_MODEL, "ruv/ruvltra", "main", items, 2, NULL, commit), GG_OK);
	assert_int_equal(store_pin_files(st, REPO_MODEL, "ruv/ruvltra", "main", glob, 1, 1, &rep),
			 GG_OK);
	assert_int_equal(rep.files, 1);
	assert_int_equal(rep.bytes, 21);
	assert_string_equal(rep.commit, commit);
	assert_int_equal(blob_record(st, items[0].digest.sha256, &b), GG_OK);
	assert_true(b.pinned);
	assert_int_equal(blob_record(st, items[1].digest.sha256, &b), GG_OK);
	assert_false(b.pinned);
	assert_int_equal(store_pin_files(st, REPO_MODEL, "ruv/ruvltra", "main", NULL, 0, 0, &rep),
			 GG_OK);
	assert_int_equal(rep.files, 2);
	assert_int_equal(blob_record(st, items[0].digest.sha256, &b), GG_OK);
	assert_false(b.pinned);
	assert_int_equal(store_pin_files(st, REPO_MODEL, "ruv/ruvltra", "nope", NULL, 0, 1, &rep),
			 GG_ENOENT);

	part = xasprintf("%s/tmp/%s.part", dir, items[0].digest.sha256);
	young = xasprintf("%s/tmp/young.part", dir);
	quar = xasprintf("%s/quarantine/%s", dir, items[1].digest.sha256);
	free(write_file(dir, "tmp/old.part", "x", 1));
	{
		char *tmp = xasprintf("%s/tmp/old.part", dir);
		assert_int_equal(rename(tmp, part), 0);
		free(tmp);
	}
	free(write_file(dir, "tmp/young.part", "yy", 2));
	assert_int_equal(blob_quarantine(st->blobs, items[1].digest.sha256), GG_OK);
	assert_int_equal(utimensat(AT_FDCWD, part, old, 0), 0);
	store_sweep_stale(st, 3600, 7 * 86400, &files, &bytes);
	assert_int_equal(files, 1); /* the old partial; the quarantined file is new */
	assert_int_equal(bytes, 1);
	assert_int_equal(access(part, F_OK), -1);
	assert_int_equal(access(young, F_OK), 0);
	assert_int_equal(access(quar, F_OK), 0);
	assert_int_equal(utimensat(AT_FDCWD, quar, old, 0), 0);
	store_sweep_stale(st, 3600, 7 * 86400, &files, &bytes);
	assert_int_equal(files, 1);
	assert_int_equal(access(quar, F_OK), -1);
	store_close(st);
	rm_rf(dir);
	rm_rf(src);
	free(part);
	free(young);
	free(quar);
	free(a);
	free(c);
	free(dir);
	free(src);
}

/* The open-descriptor cache: a hit is a dup of the cached descriptor; a
 * removal here forgets it; a file unlinked behind its back (another
 * process) is not served again from the cache. */
static void
test_fd_cache(void **state)
{
	char *dir = tmpdir();
	struct store *st = NULL;
	struct blob_digest a, b;
	char buf[64], *path;
	uint64_t size;
	int fresh, fd, fd2;
	(void)state;

	assert_int_equal(store_open(dir, &st), GG_OK);
	stage_bytes(st, "cached bytes\n", &a, &fresh);
	stage_bytes(st, "unlinked behind our back\n", &b, &fresh);
	assert_int_equal(blob_open_cached(st->blobs, a.sha256, &fd, &size), GG_OK);
	assert_int_equal(size, 13);
	assert_int_equal(blob_open_cached(st->blobs, a.sha256, &fd2, &size), GG_OK);
	assert_true(fd2 != fd);
	assert_int_equal(pread(fd2, buf, sizeof(buf), 0), 13);
	assert_memory_equal(buf, "cached bytes\n", 13);
	close(fd);
	close(fd2);
	assert_int_equal(blob_remove(st->blobs, a.sha256), GG_OK);
	assert_int_equal(blob_open_cached(st->blobs, a.sha256, &fd, &size), GG_ENOENT);
	assert_int_equal(blob_open_cached(st->blobs, b.sha256, &fd, &size), GG_OK);
	close(fd);
	path = xasprintf("%s/blobs/sha256/%.2s/%s", dir, b.sha256, b.sha256);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(blob_open_cached(st->blobs, b.sha256, &fd, &size), GG_ENOENT);
	free(path);
	store_close(st);
	rm_rf(dir);
	free(dir);
}

/* A lent descriptor (blob_borrow) is the cached one, no dup; a removal
 * while it is lent does not close it under the borrower (the file is
 * gone for everyone else at once), and the last return closes it. */
static void
test_fd_borrow(void **state)
{
	char *dir = tmpdir();
	struct store *st = NULL;
	struct blob_digest a;
	struct blob_fd b1, b2;
	struct stat sb;
	char buf[64];
	int fresh, fd, kept;
	uint64_t size;
	(void)state;

	assert_int_equal(store_open(dir, &st), GG_OK);
	stage_bytes(st, "lent bytes\n", &a, &fresh);
	assert_int_equal(blob_borrow(st->blobs, a.sha256, &b1), GG_OK);
	assert_int_equal(b1.size, 11);
	assert_true(b1.slot >= 0);
	assert_int_equal(blob_borrow(st->blobs, a.sha256, &b2), GG_OK);
	assert_int_equal(b2.fd, b1.fd); /* the same cached descriptor */
	assert_int_equal(pread(b2.fd, buf, sizeof(buf), 5), 6);
	assert_memory_equal(buf, "bytes\n", 6);
	blob_borrow_put(st->blobs, &b2);
	assert_int_equal(b2.fd, -1);
	kept = b1.fd;
	assert_int_equal(blob_remove(st->blobs, a.sha256), GG_OK);
	assert_int_equal(blob_open_cached(st->blobs, a.sha256, &fd, &size), GG_ENOENT);
	assert_int_equal(blob_borrow(st->blobs, a.sha256, &b2), GG_ENOENT);
	/* Still open for the borrower, and read to the end. */
	assert_int_equal(pread(b1.fd, buf, sizeof(buf), 0), 11);
	assert_memory_equal(buf, "lent bytes\n", 11);
	/* Staged again: a new file, not the dropped descriptor. */
	stage_bytes(st, "lent bytes\n", &a, &fresh);
	assert_int_equal(blob_open_cached(st->blobs, a.sha256, &fd, &size), GG_OK);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_true(sb.st_nlink > 0);
	close(fd);
	blob_borrow_put(st->blobs, &b1);
	assert_int_equal(fcntl(kept, F_GETFD), -1); /* the last return closed it */
	store_close(st);
	rm_rf(dir);
	free(dir);
}

/* store_lookup_file's answers are cached (lcache.c) but never outlive an
 * index write: a ref moved, a file recorded anew, or a write by another
 * process each give the new answer at once. */
static void
test_lookup_cache_invalidation(void **state)
{
	static const char c1[] = "1111111111111111111111111111111111111111";
	static const char c2[] = "2222222222222222222222222222222222222222";
	static const char s1[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	static const char s2[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
	static const char s3[] = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
	char *dir = tmpdir();
	struct store *st = NULL;
	struct store_lookup lk;
	int status;
	pid_t pid;
	(void)state;

	assert_int_equal(store_open(dir, &st), GG_OK);
	assert_int_equal(
		store_record_file(st, REPO_MODEL, "ruv/ruvltra", c1, "m.gguf", 1, s1, NULL, 10),
		GG_OK);
	assert_int_equal(store_set_ref(st, REPO_MODEL, "ruv/ruvltra", "main", c1), GG_OK);
	for (int i = 0; i < 2; i++) { /* the second is a hit */
		assert_int_equal(
			store_lookup_file(st, REPO_MODEL, "ruv/ruvltra", "main", "m.gguf", &lk),
			GG_OK);
		assert_int_equal(lk.rev_rc, GG_OK);
		assert_int_equal(lk.file_rc, GG_OK);
		assert_string_equal(lk.commit, c1);
		assert_string_equal(lk.file.sha256, s1);
	}
	/* A new revision, then the branch moved to it. */
	assert_int_equal(
		store_record_file(st, REPO_MODEL, "ruv/ruvltra", c2, "m.gguf", 1, s2, NULL, 20),
		GG_OK);
	assert_int_equal(store_lookup_file(st, REPO_MODEL, "ruv/ruvltra", "main", "m.gguf", &lk),
			 GG_OK);
	assert_string_equal(lk.commit, c1);
	assert_int_equal(store_set_ref(st, REPO_MODEL, "ruv/ruvltra", "main", c2), GG_OK);
	assert_int_equal(store_lookup_file(st, REPO_MODEL, "ruv/ruvltra", "main", "m.gguf", &lk),
			 GG_OK);
	assert_string_equal(lk.commit, c2);
	assert_string_equal(lk.file.sha256, s2);
	assert_int_equal(lk.file.size, 20);
	/* The same file of the same commit recorded anew (a repair). */
	assert_int_equal(
		store_record_file(st, REPO_MODEL, "ruv/ruvltra", c2, "m.gguf", 1, s3, NULL, 30),
		GG_OK);
	assert_int_equal(store_lookup_file(st, REPO_MODEL, "ruv/ruvltra", "main", "m.gguf", &lk),
			 GG_OK);
	assert_string_equal(lk.file.sha256, s3);
	/* Another process moves the branch back. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *other = NULL;
		int ok = store_open(dir, &other) == GG_OK &&
			 store_set_ref(other, REPO_MODEL, "ruv/ruvltra", "main", c1) == GG_OK;
		store_close(other);
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(store_lookup_file(st, REPO_MODEL, "ruv/ruvltra", "main", "m.gguf", &lk),
			 GG_OK);
	assert_string_equal(lk.commit, c1);
	assert_string_equal(lk.file.sha256, s1);
	/* A name never found is not kept as found. */
	assert_int_equal(store_lookup_file(st, REPO_MODEL, "ruv/ruvltra", "main", "x.gguf", &lk),
			 GG_OK);
	assert_int_equal(lk.file_rc, GG_ENOENT);
	store_close(st);
	rm_rf(dir);
	free(dir);
}

static void
test_set_and_del_ref(void **state)
{
	static const char c1[] = "0123456789abcdef0123456789abcdef01234567";
	char *dir = tmpdir();
	struct store *st = NULL;
	struct index_ref ref;
	(void)state;

	assert_int_equal(store_open(dir, &st), GG_OK);
	assert_int_equal(store_set_ref(st, REPO_MODEL, "ruv/ruvltra", "exp-1", c1), GG_OK);
	assert_int_equal(store_set_ref(st, REPO_MODEL, "ruv/ruvltra", "refs/tags/v1", c1), GG_OK);
	assert_int_equal(store_ref_get(st, REPO_MODEL, "ruv/ruvltra", "exp-1", &ref), GG_OK);
	assert_string_equal(ref.commit, c1);
	assert_int_equal(store_del_ref(st, REPO_MODEL, "ruv/ruvltra", "exp-1"), GG_OK);
	assert_int_equal(store_ref_get(st, REPO_MODEL, "ruv/ruvltra", "exp-1", &ref), GG_ENOENT);
	/* Again, or a ref of another repo or type: there is none. */
	assert_int_equal(store_del_ref(st, REPO_MODEL, "ruv/ruvltra", "exp-1"), GG_ENOENT);
	assert_int_equal(store_del_ref(st, REPO_DATASET, "ruv/ruvltra", "refs/tags/v1"), GG_ENOENT);
	/* The other ref stays. */
	assert_int_equal(store_ref_get(st, REPO_MODEL, "ruv/ruvltra", "refs/tags/v1", &ref), GG_OK);
	assert_int_equal(store_del_ref(st, REPO_MODEL, "ruv/ruvltra", "refs/tags/v1"), GG_OK);
	store_close(st);
	rm_rf(dir);
	free(dir);
}

struct audit_seen {
	uint64_t seqs[8];
	char texts[8][32];
	size_t n;
};

static int
audit_cb(void *ctx, uint64_t seq, uint64_t time, const char *data, size_t len)
{
	struct audit_seen *s = ctx;
	assert_true(time > 0);
	assert_true(s->n < 8 && len < 32);
	s->seqs[s->n] = seq;
	memcpy(s->texts[s->n], data, len);
	s->texts[s->n][len] = '\0';
	s->n++;
	return 0;
}

static void
test_audit_log(void **state)
{
	char *dir = tmpdir();
	struct store *st = NULL;
	struct audit_seen seen;
	uint64_t seq = 0;
	(void)state;

	assert_int_equal(store_open(dir, &st), GG_OK);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_audit_foreach(st, 0, audit_cb, &seen), GG_OK);
	assert_int_equal(seen.n, 0);
	assert_int_equal(store_audit_append(st, "{\"a\":1}", 7, &seq), GG_OK);
	assert_int_equal(seq, 1);
	assert_int_equal(store_audit_append(st, "{\"a\":2}", 7, &seq), GG_OK);
	assert_int_equal(seq, 2);
	store_close(st);
	/* Durable: after a reopen the acts are there and numbering goes on. */
	assert_int_equal(store_open(dir, &st), GG_OK);
	assert_int_equal(store_audit_append(st, "{\"a\":3}", 7, &seq), GG_OK);
	assert_int_equal(seq, 3);
	assert_int_equal(store_audit_foreach(st, 0, audit_cb, &seen), GG_OK);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.seqs[0], 1);
	assert_string_equal(seen.texts[0], "{\"a\":1}");
	assert_string_equal(seen.texts[2], "{\"a\":3}");
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_audit_foreach(st, 2, audit_cb, &seen), GG_OK);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.seqs[0], 3);
	store_close(st);
	rm_rf(dir);
	free(dir);
}

static void
test_token_bounds(void **state)
{
	char *dir = tmpdir();
	struct store *st = NULL;
	char tok[TOKEN_LEN + 1], plain[TOKEN_LEN + 1], name[TOKEN_NAME_MAX + 1];
	char bounds[GG_MAX_TOKEN_BOUNDS + 1];
	unsigned scope = 0;
	static const char b[] = "repo=ruv/ruvltra\npath=ruvltra-*-q4_k_m.gguf\npath=README.md\n";
	(void)state;

	assert_int_equal(store_open(dir, &st), GG_OK);
	assert_int_equal(token_create_bounded(st, "ci-q4", TOKEN_UPLOAD, b, tok), GG_OK);
	assert_int_equal(token_create(st, "plain", TOKEN_UPLOAD, plain), GG_OK);
	store_close(st);
	/* Kept across a reopen; a token without bounds has none. */
	assert_int_equal(store_open(dir, &st), GG_OK);
	assert_int_equal(token_check_bounded(st, tok, &scope, name, bounds), GG_OK);
	assert_string_equal(name, "ci-q4");
	assert_int_equal(scope, TOKEN_UPLOAD);
	assert_string_equal(bounds, b);
	assert_int_equal(token_check_bounded(st, plain, &scope, name, bounds), GG_OK);
	assert_string_equal(bounds, "");
	assert_int_equal(token_check(st, tok, &scope, name), GG_OK);
	store_close(st);

	assert_int_equal(token_bounds_allow(b, "ruv/ruvltra", "ruvltra-3b-q4_k_m.gguf"), 1);
	assert_int_equal(token_bounds_allow(b, "ruv/ruvltra", "README.md"), 1);
	assert_int_equal(token_bounds_allow(b, "ruv/ruvltra", NULL), 1);
	assert_int_equal(token_bounds_allow(b, "ruv/ruvltra", "ruvltra-3b-q8_0.gguf"), 0);
	assert_int_equal(token_bounds_allow(b, "ruv/ruvltra", "sub/ruvltra-3b-q4_k_m.gguf"), 0);
	assert_int_equal(token_bounds_allow(b, "ruv/other", "README.md"), 0);
	assert_int_equal(token_bounds_allow(b, "ruv/other", NULL), 0);
	assert_int_equal(token_bounds_allow("path=*.json\n", "any/repo", "config.json"), 1);
	assert_int_equal(token_bounds_allow("repo=a/b", "a/b", "anything.bin"), 1);
	assert_int_equal(token_bounds_allow("", "x/y", "z"), 1);
	assert_int_equal(token_bounds_have_repo(b), 1);
	assert_int_equal(token_bounds_have_repo("repo=a/b"), 1);
	assert_int_equal(token_bounds_have_repo("path=*.json\n"), 0);
	assert_int_equal(token_bounds_have_repo("path=repo=x\n"), 0);
	assert_int_equal(token_bounds_have_repo(""), 0);
	assert_int_equal(token_bounds_have_repo(NULL), 0);
	rm_rf(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_roundtrip),
		cmocka_unit_test(test_index_newer_format_refused),
		cmocka_unit_test(test_blob_writer_digests),
		cmocka_unit_test(test_import_and_verify),
		cmocka_unit_test(test_crash_after_write),
		cmocka_unit_test(test_crash_after_fsync),
		cmocka_unit_test(test_crash_after_rename),
		cmocka_unit_test(test_no_crash),
		cmocka_unit_test(test_valid_paths),
		cmocka_unit_test(test_partial_resume_and_verify),
		cmocka_unit_test(test_meta_and_record),
		cmocka_unit_test(test_drop_commit_fails),
		cmocka_unit_test(test_refused_upload_keeps_accepted_blob),
		cmocka_unit_test(test_record_child_commit),
		cmocka_unit_test(test_note_change),
		cmocka_unit_test(test_gc),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_bucket_guard),
		cmocka_unit_test(test_pin_files_and_sweep),
		cmocka_unit_test(test_fd_cache),
		cmocka_unit_test(test_fd_borrow),
		cmocka_unit_test(test_lookup_cache_invalidation),
		cmocka_unit_test(test_set_and_del_ref),
		cmocka_unit_test(test_audit_log),
		cmocka_unit_test(test_token_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
