/*
 * store.c: import, revision resolution, verification and the orphan sweep
 * over blob.c + index.c (see store.h for the layout and the ordering rule).
 *
 * Synthetic commits: an import onto a branch makes a commit id that is
 * the sha1 of "ggufd-import\n", the parent id and each (path, sha256) of
 * the new tree in order.  The same import twice gives the same id, and
 * distinct trees give distinct ids, as git's would.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "gguf.h"
#include "log.h"
#include "store.h"
#include "acache.h"
#include "lcache.h"
#include "store_impl.h"
#include "util.h"

/* A staged blob (store_stage): counted, in a short list under hold_mu. */
struct stage {
	struct stage *next;
	char sha256[GG_SHA256_HEX + 1];
	unsigned count;
};

/*
 * Creates the blob record of (sha256, size) if it has none; an existing
 * record (its refcount, pin, GGUF summary) is left as it is.
 */
static int
ensure_blob_record(struct index_txn *t, const char *sha256, uint64_t size)
{
	struct index_blob b;
	int r = index_blob_get(t, sha256, &b);
	if (r != GG_ENOENT)
		return r;
	memset(&b, 0, sizeof(b));
	b.size = size;
	b.last_access = now_unix();
	return index_blob_put(t, sha256, &b);
}

/* Creates the commit record if it has none. */
static int
ensure_commit_record(struct index_txn *t, enum repo_type type, const char *repo, const char *commit,
		     const char *parent, const char *title)
{
	struct index_commit c;
	int r = index_commit_get(t, type, repo, commit, &c);
	if (r != GG_ENOENT)
		return r;
	memset(&c, 0, sizeof(c));
	c.created_at = now_unix();
	snprintf(c.parent, sizeof(c.parent), "%s", parent);
	if (snprintf_checked(c.title, sizeof(c.title), "%s", title) != GG_OK)
		c.title[sizeof(c.title) - 1] = '\0';
	return index_commit_put(t, type, repo, commit, &c);
}

static int
sweep_orphan(void *ctx, const char *sha256)
{
	struct store *st = ctx;
	struct index_txn *t = NULL;
	struct index_blob b;
	int r;

	if (index_txn_begin(st->idx, 0, &t) != GG_OK)
		return 0;
	r = index_blob_get(t, sha256, &b);
	index_txn_abort(t);
	if (r == GG_ENOENT) {
		log_info("removing unindexed blob %s (left by an interrupted import)", sha256);
		blob_remove(st->blobs, sha256);
	}
	return 0;
}

int
store_open(const char *root, struct store **out)
{
	struct store *st = xcalloc(1, sizeof(*st));
	char *path = NULL;
	int r;

	st->lock_fd = -1;
	st->lookups = lcache_new();
	st->answers = acache_new();
	pthread_mutex_init(&st->hold_mu, NULL);
	store_evict_init(st);
	st->root = xstrdup(root);
	if ((r = mkdir_p(root)) != GG_OK)
		goto fail;
	if ((r = blob_store_open(root, &st->blobs)) != GG_OK)
		goto fail;
	path = xasprintf("%s/index", root);
	if ((r = index_open(path, &st->idx)) != GG_OK)
		goto fail;
	free(path);
	path = xasprintf("%s/.lock", root);
	st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (st->lock_fd < 0) {
		log_warn("open(\"%s\") failed", path);
		r = GG_EIO;
		goto fail;
	}
	/* Sweep only when no importer is between its blob and its commit. */
	if (flock(st->lock_fd, LOCK_EX | LOCK_NB) == 0) {
		blob_foreach(st->blobs, sweep_orphan, st);
		flock(st->lock_fd, LOCK_UN);
	}
	free(path);
	*out = st;
	return GG_OK;
fail:
	free(path);
	store_close(st);
	return r;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->idx != NULL && store_flush_access(st) != GG_OK)
		log_warnx("store %s: the last hits could not be written", st->root);
	index_close(st->idx);
	blob_store_close(st->blobs);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	while (st->staged != NULL) {
		struct stage *next = st->staged->next;
		free(st->staged);
		st->staged = next;
	}
	pthread_mutex_destroy(&st->hold_mu);
	store_evict_fini(st);
	lcache_free(st->lookups);
	acache_free(st->answers);
	free(st->root);
	free(st);
}

int
store_is_lfs_path(const char *path, uint64_t size)
{
	/* The Hub's default .gitattributes, trimmed to what model repos hold. */
	static const char *const exts[] = {
		".gguf",    ".safetensors", ".bin",   ".pt",     ".pth",      ".ckpt",    ".onnx",
		".h5",      ".msgpack",     ".npy",   ".npz",    ".pkl",      ".pickle",  ".zip",
		".gz",      ".tar",         ".tgz",   ".xz",     ".zst",      ".7z",      ".bz2",
		".parquet", ".arrow",       ".model", ".tflite", ".ot",       ".mlmodel", ".joblib",
		".wasm",    ".pb",          ".lz4",   ".rar",    ".tfevents",
	};
	size_t n = strlen(path);

	if (size >= GG_LFS_MIN_SIZE)
		return 1;
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		size_t e = strlen(exts[i]);
		if (n > e && strcasecmp(path + n - e, exts[i]) == 0)
			return 1;
	}
	return 0;
}

static void
summarize_gguf(struct store *st, struct store_item *it)
{
	uint64_t size;
	int fd = -1, r;
	unsigned char magic[4];

	it->has_gguf = 0;
	if (blob_open(st->blobs, it->digest.sha256, &fd, &size) != GG_OK)
		return;
	if (size < 4 || pread_all(fd, magic, 4, 0) != GG_OK || memcmp(magic, "GGUF", 4) != 0)
		goto done;
	r = gguf_parse_fd(fd, size, &it->gguf);
	if (r == GG_OK)
		it->has_gguf = 1;
	else
		log_warnx("\"%s\": not a valid GGUF file: %s", it->path, gg_strerror(r));
done:
	close(fd);
}

struct copy_ctx {
	struct index_txn *t;
	enum repo_type type;
	const char *repo;
	const char *commit;
	EVP_MD_CTX *md;
};

static int
copy_file_cb(void *ctx, const char *path, const struct index_file *rec)
{
	struct copy_ctx *c = ctx;
	return index_file_put(c->t, c->type, c->repo, c->commit, path, rec);
}

static int
hash_file_cb(void *ctx, const char *path, const struct index_file *rec)
{
	struct copy_ctx *c = ctx;
	EVP_DigestUpdate(c->md, path, strlen(path) + 1);
	EVP_DigestUpdate(c->md, rec->sha256, GG_SHA256_HEX);
	return 0;
}

static int
is_commit_id(const char *s)
{
	return strlen(s) == GG_SHA1_HEX && is_lower_hex(s, GG_SHA1_HEX);
}

int
store_import(struct store *st, enum repo_type type, const char *repo, const char *rev,
	     struct store_item *items, size_t n, const char *title,
	     char commit_out[GG_SHA1_HEX + 1])
{
	struct index_txn *t = NULL;
	struct index_ref ref;
	char parent[GG_SHA1_HEX + 1] = "", commit[GG_SHA1_HEX + 1];
	int r, locked = 0, by_id = is_commit_id(rev);
	EVP_MD_CTX *md = NULL;

	if (n == 0)
		return GG_EINVAL;
	store_hold(st);
	locked = 1;
	/* 1. Every blob durable first. */
	for (size_t i = 0; i < n; i++) {
		r = blob_import_path(st->blobs, items[i].src, items[i].expect_sha256,
				     items[i].expect_gitsha1, items[i].link, &items[i].digest,
				     &items[i].how);
		if (r != GG_OK) {
			log_warnx("import of \"%s\" failed: %s", items[i].src, gg_strerror(r));
			goto fail;
		}
		summarize_gguf(st, &items[i]);
	}
	/* 2. Then the index, in one transaction. */
	if ((r = index_txn_begin(st->idx, 1, &t)) != GG_OK)
		goto fail;
	if (!by_id) {
		r = index_ref_get(t, type, repo, rev, &ref);
		if (r == GG_OK)
			memcpy(parent, ref.commit, sizeof(parent));
		else if (r != GG_ENOENT)
			goto fail;
	}
	/* Blob records first: file entries take references on them. */
	for (size_t i = 0; i < n; i++) {
		struct index_blob b;
		if ((r = ensure_blob_record(t, items[i].digest.sha256, items[i].digest.size)) !=
			    GG_OK ||
		    (r = index_blob_get(t, items[i].digest.sha256, &b)) != GG_OK)
			goto fail;
		b.has_gguf = items[i].has_gguf;
		if (b.has_gguf)
			b.gguf = items[i].gguf;
		if ((r = index_blob_put(t, items[i].digest.sha256, &b)) != GG_OK)
			goto fail;
	}
	if (by_id) {
		memcpy(commit, rev, sizeof(commit));
	} else {
		/* The id hashes the new tree; then the parent's files are copied. */
		struct copy_ctx c = { t, type, repo, NULL, NULL };
		unsigned char d[EVP_MAX_MD_SIZE];
		unsigned int dl;

		r = GG_OK;
		md = EVP_MD_CTX_new();
		if (md == NULL || EVP_DigestInit_ex(md, EVP_sha1(), NULL) != 1)
			log_fatalx("EVP_DigestInit_ex(sha1) failed");
		EVP_DigestUpdate(md, "ggufd-import\n", 13);
		EVP_DigestUpdate(md, parent, strlen(parent));
		/* The new tree = parent's files, overlaid by the items. */
		for (size_t i = 0; i < n; i++) {
			EVP_DigestUpdate(md, items[i].path, strlen(items[i].path) + 1);
			EVP_DigestUpdate(md, items[i].digest.sha256, GG_SHA256_HEX);
		}
		c.md = md;
		if (parent[0] != '\0' && (r = index_file_foreach(t, type, repo, parent, NULL,
								 hash_file_cb, &c)) != GG_OK)
			goto fail;
		EVP_DigestFinal_ex(md, d, &dl);
		hex_encode(d, 20, commit);
		c.commit = commit;
		if (parent[0] != '\0' && strcmp(parent, commit) != 0 &&
		    (r = index_file_foreach(t, type, repo, parent, NULL, copy_file_cb, &c)) !=
			    GG_OK)
			goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct index_file f;
		int lfs = items[i].lfs >= 0
				  ? items[i].lfs
				  : store_is_lfs_path(items[i].path, items[i].digest.size);
		memset(&f, 0, sizeof(f));
		f.flags = lfs ? INDEX_FILE_LFS : 0;
		f.size = items[i].digest.size;
		memcpy(f.sha256, items[i].digest.sha256, sizeof(f.sha256));
		if (lfs)
			blob_lfs_pointer_oid(f.sha256, f.size, f.oid, NULL);
		else
			memcpy(f.oid, items[i].digest.gitsha1, sizeof(f.oid));
		if ((r = index_file_put(t, type, repo, commit, items[i].path, &f)) != GG_OK)
			goto fail;
	}
	if ((r = ensure_commit_record(t, type, repo, commit, parent,
				      title ? title : "Import with ggufd")) != GG_OK)
		goto fail;
	if (!by_id) {
		memset(&ref, 0, sizeof(ref));
		memcpy(ref.commit, commit, sizeof(ref.commit));
		ref.updated_at = now_unix();
		if ((r = index_ref_put(t, type, repo, rev, &ref)) != GG_OK)
			goto fail;
	}
	r = index_txn_commit(t);
	t = NULL;
	if (r != GG_OK)
		goto fail;
	EVP_MD_CTX_free(md);
	if (locked)
		store_release(st);
	memcpy(commit_out, commit, GG_SHA1_HEX + 1);
	for (size_t i = 0; i < n; i++)
		store_landed(st, items[i].digest.sha256);
	return GG_OK;
fail:
	index_txn_abort(t);
	EVP_MD_CTX_free(md);
	if (locked)
		store_release(st);
	/* Blobs made durable above stay unindexed; the next open sweeps them
	 * unless another import indexed the same content meanwhile. */
	return r;
}

struct prefix_ctx {
	const char *prefix;
	size_t len;
	char found[GG_SHA1_HEX + 1];
	int count;
};

static int
prefix_cb(void *ctx, const char *commit, const struct index_commit *rec)
{
	struct prefix_ctx *p = ctx;
	(void)rec;
	if (strncmp(commit, p->prefix, p->len) == 0) {
		memcpy(p->found, commit, sizeof(p->found));
		p->count++;
	}
	return 0;
}

static int
any_cb(void *ctx, const char *commit, const struct index_commit *rec)
{
	(void)commit;
	(void)rec;
	*(int *)ctx = 1;
	return 1;
}

int
store_repo_exists(struct store_view *v, enum repo_type type, const char *repo, int *exists)
{
	*exists = 0;
	return index_commit_foreach(v->t, type, repo, any_cb, exists);
}

int
store_resolve_rev(struct store_view *v, enum repo_type type, const char *repo, const char *rev,
		  char commit[GG_SHA1_HEX + 1], int *repo_known, uint64_t *ref_time)
{
	struct index_txn *t = v->t;
	struct index_ref ref;
	struct index_commit c;
	size_t n = strlen(rev);
	int r;

	/* The common case first: a known branch (HEAD is the default one). */
	*repo_known = 1;
	if (ref_time != NULL)
		*ref_time = 0;
	r = index_ref_get(t, type, repo, strcmp(rev, "HEAD") == 0 ? "main" : rev, &ref);
	if (r == GG_ENOENT && strncmp(rev, "refs/", 5) != 0) {
		/* A tag by its name (the gateway records tags as refs/tags/NAME). */
		char tag[GG_MAX_REV_LEN + 16];
		if (snprintf_checked(tag, sizeof(tag), "refs/tags/%s", rev) == GG_OK)
			r = index_ref_get(t, type, repo, tag, &ref);
		if (r == GG_EINVAL)
			r = GG_ENOENT;
	}
	if (r == GG_OK) {
		memcpy(commit, ref.commit, GG_SHA1_HEX + 1);
		if (ref_time != NULL)
			*ref_time = ref.updated_at;
		return GG_OK;
	}
	if (r != GG_ENOENT && r != GG_EINVAL)
		return r;
	if (n == GG_SHA1_HEX && is_lower_hex(rev, n)) {
		r = index_commit_get(t, type, repo, rev, &c);
		if (r == GG_OK) {
			memcpy(commit, rev, GG_SHA1_HEX + 1);
			return GG_OK;
		}
	}
	if ((r = store_repo_exists(v, type, repo, repo_known)) != GG_OK)
		return r;
	if (!*repo_known)
		return GG_ENOENT;
	if (n >= 5 && n < GG_SHA1_HEX && is_lower_hex(rev, n)) {
		struct prefix_ctx p = { rev, n, "", 0 };
		if ((r = index_commit_foreach(t, type, repo, prefix_cb, &p)) != GG_OK)
			return r;
		if (p.count == 1) {
			memcpy(commit, p.found, GG_SHA1_HEX + 1);
			return GG_OK;
		}
	}
	return GG_ENOENT;
}

struct verify_ctx {
	struct store *st;
	void (*bad_cb)(void *ctx, const char *sha256, int err);
	void *ctx;
	struct store_verify_report *rep;
};

static int
verify_cb(void *ctx, const char *sha256, const struct index_blob *rec)
{
	struct verify_ctx *v = ctx;
	struct blob_digest d;
	int r = blob_rehash(v->st->blobs, sha256, &d);

	if (r == GG_ENOENT) {
		v->rep->missing++;
		return 0;
	}
	if (r == GG_OK && strcmp(d.sha256, sha256) == 0 && d.size == rec->size) {
		v->rep->ok++;
		return 0;
	}
	if (r == GG_OK)
		r = GG_ECORRUPT;
	v->rep->bad++;
	log_warnx("blob %s failed verification: %s; moving it to quarantine", sha256,
		  gg_strerror(r));
	blob_quarantine(v->st->blobs, sha256);
	if (v->bad_cb != NULL)
		v->bad_cb(v->ctx, sha256, r);
	return 0;
}

int
store_verify(struct store *st, void (*bad_cb)(void *ctx, const char *sha256, int err), void *ctx,
	     struct store_verify_report *rep)
{
	struct index_txn *t = NULL;
	struct verify_ctx v = { st, bad_cb, ctx, rep };
	int r;

	memset(rep, 0, sizeof(*rep));
	if ((r = index_txn_begin(st->idx, 0, &t)) != GG_OK)
		return r;
	r = index_blob_foreach(t, verify_cb, &v);
	index_txn_abort(t);
	return r;
}

int
store_set_ref(struct store *st, enum repo_type type, const char *repo, const char *ref,
	      const char *commit)
{
	struct index_txn *t = NULL;
	struct index_ref rec;
	int r;

	if (strlen(commit) != GG_SHA1_HEX || !is_lower_hex(commit, GG_SHA1_HEX))
		return GG_EINVAL;
	memset(&rec, 0, sizeof(rec));
	memcpy(rec.commit, commit, sizeof(rec.commit));
	rec.updated_at = now_unix();
	if ((r = index_txn_begin(st->idx, 1, &t)) != GG_OK)
		return r;
	if ((r = index_ref_put(t, type, repo, ref, &rec)) != GG_OK) {
		index_txn_abort(t);
		return r;
	}
	return index_txn_commit(t);
}

int
store_del_ref(struct store *st, enum repo_type type, const char *repo, const char *ref)
{
	struct index_txn *t = NULL;
	int r;

	if ((r = index_txn_begin(st->idx, 1, &t)) != GG_OK)
		return r;
	if ((r = index_ref_del(t, type, repo, ref)) != GG_OK) {
		index_txn_abort(t);
		return r;
	}
	return index_txn_commit(t);
}

int
store_valid_path(const char *path)
{
	size_t n = strlen(path);
	const char *seg = path;

	if (n == 0 || n > GG_MAX_REPO_PATH_LEN || !utf8_valid(path, n))
		return 0;
	for (const char *p = path;; p++) {
		if (*p == '/' || *p == '\0') {
			size_t len = (size_t)(p - seg);
			if (len == 0 || (len == 1 && seg[0] == '.') ||
			    (len == 2 && seg[0] == '.' && seg[1] == '.'))
				return 0;
			if (*p == '\0')
				break;
			seg = p + 1;
		} else if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\') {
			return 0;
		}
	}
	return 1;
}

int
store_record_file(struct store *st, enum repo_type type, const char *repo, const char *commit,
		  const char *path, int lfs, const char *sha256, const char *gitsha1, uint64_t size)
{
	struct index_txn *t = NULL;
	struct index_file f;
	int r;

	if (!is_commit_id(commit) || strlen(sha256) != GG_SHA256_HEX || !store_valid_path(path) ||
	    (!lfs && (gitsha1 == NULL || strlen(gitsha1) != GG_SHA1_HEX)))
		return GG_EINVAL;
	memset(&f, 0, sizeof(f));
	f.flags = lfs ? INDEX_FILE_LFS : 0;
	f.size = size;
	memcpy(f.sha256, sha256, sizeof(f.sha256));
	if (lfs)
		blob_lfs_pointer_oid(sha256, size, f.oid, NULL);
	else
		memcpy(f.oid, gitsha1, sizeof(f.oid));
	if ((r = index_txn_begin(st->idx, 1, &t)) != GG_OK)
		return r;
	if ((r = ensure_commit_record(t, type, repo, commit, "", "Mirrored from upstream")) !=
		    GG_OK ||
	    (r = ensure_blob_record(t, sha256, size)) != GG_OK)
		goto fail;
	if ((r = index_file_put(t, type, repo, commit, path, &f)) != GG_OK)
		goto fail;
	return index_txn_commit(t);
fail:
	index_txn_abort(t);
	return r;
}

/* Parent's files, copied into the child except where a change names them. */
struct child_ctx {
	struct index_txn *t;
	enum repo_type type;
	const char *repo;
	const char *commit;
	const struct store_change *ch;
	size_t n;
};

/* Is path replaced or deleted by one of the changes? */
static int
changed_path(const struct store_change *ch, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(ch[i].path);
		if (ch[i].kind == STORE_CHANGE_DELETE_FOLDER) {
			while (l > 0 && ch[i].path[l - 1] == '/')
				l--;
			if (l == 0 || (strncmp(path, ch[i].path, l) == 0 && path[l] == '/'))
				return 1;
		} else if (strcmp(path, ch[i].path) == 0) {
			return 1;
		}
	}
	return 0;
}

static int
child_copy_cb(void *ctx, const char *path, const struct index_file *rec)
{
	struct child_ctx *c = ctx;
	if (changed_path(c->ch, c->n, path))
		return 0;
	return index_file_put(c->t, c->type, c->repo, c->commit, path, rec);
}

int
store_record_child_commit(struct store *st, enum repo_type type, const char *repo,
			  const char *parent, const char *commit, const char *title,
			  const struct store_change *ch, size_t n)
{
	struct index_txn *t = NULL;
	struct index_commit c;
	int r;

	if (parent == NULL)
		parent = "";
	if (!is_commit_id(commit) || (parent[0] != '\0' && !is_commit_id(parent)))
		return GG_EINVAL;
	for (size_t i = 0; i < n; i++) {
		const struct store_change *x = &ch[i];
		if (x->path == NULL)
			return GG_EINVAL;
		if (x->kind == STORE_CHANGE_DELETE_FOLDER)
			continue; /* any prefix, "" included: matched, never looked up */
		if (!store_valid_path(x->path))
			return GG_EINVAL;
		if (x->kind == STORE_CHANGE_ADD &&
		    (x->sha256 == NULL || strlen(x->sha256) != GG_SHA256_HEX ||
		     !is_lower_hex(x->sha256, GG_SHA256_HEX) ||
		     (!x->lfs && (x->gitsha1 == NULL || strlen(x->gitsha1) != GG_SHA1_HEX ||
				  !is_lower_hex(x->gitsha1, GG_SHA1_HEX)))))
			return GG_EINVAL;
	}
	if ((r = index_txn_begin(st->idx, 1, &t)) != GG_OK)
		return r;
	/* The commit record: a mirror may have made one with no parent. */
	r = index_commit_get(t, type, repo, commit, &c);
	if (r == GG_ENOENT || (r == GG_OK && c.parent[0] == '\0' && parent[0] != '\0')) {
		if (r == GG_ENOENT)
			c.created_at = now_unix();
		snprintf(c.parent, sizeof(c.parent), "%s", parent);
		if (snprintf_checked(c.title, sizeof(c.title), "%s", title ? title : "") != GG_OK)
			c.title[sizeof(c.title) - 1] = '\0';
		r = index_commit_put(t, type, repo, commit, &c);
	}
	if (r != GG_OK)
		goto fail;
	if (parent[0] != '\0' && strcmp(parent, commit) != 0) {
		struct child_ctx cc = { t, type, repo, commit, ch, n };
		if ((r = index_file_foreach(t, type, repo, parent, NULL, child_copy_cb, &cc)) !=
		    GG_OK)
			goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct index_file f;
		if (ch[i].kind != STORE_CHANGE_ADD)
			continue;
		memset(&f, 0, sizeof(f));
		f.flags = ch[i].lfs ? INDEX_FILE_LFS : 0;
		f.size = ch[i].size;
		memcpy(f.sha256, ch[i].sha256, sizeof(f.sha256));
		if (ch[i].lfs)
			blob_lfs_pointer_oid(f.sha256, f.size, f.oid, NULL);
		else
			memcpy(f.oid, ch[i].gitsha1, sizeof(f.oid));
		if ((r = ensure_blob_record(t, f.sha256, f.size)) != GG_OK ||
		    (r = index_file_put(t, type, repo, commit, ch[i].path, &f)) != GG_OK)
			goto fail;
	}
	return index_txn_commit(t);
fail:
	index_txn_abort(t);
	return r;
}

/* The meta key of the mark; cached answers are keyed "GET ..." / "POST ...". */
#define CHANGED_KEY "ggufd:changed"

int
store_note_change(struct store *st, enum repo_type type, const char *repo)
{
	struct index_txn *t = NULL;
	struct index_meta m;
	int r;

	memset(&m, 0, sizeof(m));
	m.fetched_at = now_unix();
	m.data = (void *)"";
	if ((r = index_txn_begin(st->idx, 1, &t)) != GG_OK)
		return r;
	if ((r = index_meta_put(t, type, repo, CHANGED_KEY, &m)) != GG_OK) {
		index_txn_abort(t);
		return r;
	}
	return index_txn_commit(t);
}

uint64_t
store_changed_at(struct store *st, enum repo_type type, const char *repo)
{
	struct index_meta m;

	memset(&m, 0, sizeof(m));
	if (store_meta_get(st, type, repo, CHANGED_KEY, &m) != GG_OK)
		return 0;
	free(m.data);
	return m.fetched_at;
}

int
store_update_gguf(struct store *st, const char *sha256)
{
	struct store_item it;
	struct index_txn *t = NULL;
	struct index_blob b;
	int r;

	memset(&it, 0, sizeof(it));
	memcpy(it.digest.sha256, sha256, GG_SHA256_HEX + 1);
	it.path = sha256;
	summarize_gguf(st, &it);
	if (!it.has_gguf)
		return GG_OK;
	if ((r = index_txn_begin(st->idx, 1, &t)) != GG_OK)
		return r;
	if ((r = index_blob_get(t, sha256, &b)) != GG_OK) {
		index_txn_abort(t);
		return r;
	}
	b.has_gguf = 1;
	b.gguf = it.gguf;
	if ((r = index_blob_put(t, sha256, &b)) != GG_OK) {
		index_txn_abort(t);
		return r;
	}
	return index_txn_commit(t);
}

int
store_pin(struct store *st, const char *sha256, int pinned)
{
	struct index_txn *t = NULL;
	struct index_blob b;
	int r;

	if ((r = index_txn_begin(st->idx, 1, &t)) != GG_OK)
		return r;
	if ((r = index_blob_get(t, sha256, &b)) != GG_OK) {
		index_txn_abort(t);
		return r;
	}
	b.pinned = pinned ? 1 : 0;
	if ((r = index_blob_put(t, sha256, &b)) != GG_OK) {
		index_txn_abort(t);
		return r;
	}
	return index_txn_commit(t);
}

void
store_hold(struct store *st)
{
	pthread_mutex_lock(&st->hold_mu);
	/* flock(2) locks belong to the open file, not the thread: count. */
	if (st->holds++ == 0 && flock(st->lock_fd, LOCK_SH) != 0)
		log_warn("flock(%s/.lock, LOCK_SH) failed", st->root);
	pthread_mutex_unlock(&st->hold_mu);
}

void
store_release(struct store *st)
{
	pthread_mutex_lock(&st->hold_mu);
	if (st->holds > 0 && --st->holds == 0)
		flock(st->lock_fd, LOCK_UN);
	pthread_mutex_unlock(&st->hold_mu);
}

/* store_adopt_blob, telling whether this call created the record. */
static int
adopt(struct store *st, const char *sha256, int *created)
{
	struct index_txn *t = NULL;
	struct index_blob b;
	uint64_t size;
	int fd = -1, r;

	*created = 0;
	if ((r = blob_open(st->blobs, sha256, &fd, &size)) != GG_OK)
		return r;
	close(fd);
	if ((r = index_txn_begin(st->idx, 1, &t)) != GG_OK)
		return r;
	r = index_blob_get(t, sha256, &b);
	if (r == GG_ENOENT) {
		*created = 1;
		r = ensure_blob_record(t, sha256, size);
	}
	if (r != GG_OK) {
		index_txn_abort(t);
		return r;
	}
	if ((r = index_txn_commit(t)) != GG_OK)
		return r;
	return store_update_gguf(st, sha256);
}

int
store_adopt_blob(struct store *st, const char *sha256)
{
	int created;
	return adopt(st, sha256, &created);
}

/* --- reading ----------------------------------------------------------------- */

int
store_view_begin(struct store *st, struct store_view *v)
{
	v->t = NULL;
	return index_txn_begin(st->idx, 0, &v->t);
}

void
store_view_end(struct store_view *v)
{
	index_txn_abort(v->t);
	v->t = NULL;
}

int
store_view_file(struct store_view *v, enum repo_type type, const char *repo, const char *commit,
		const char *path, struct index_file *out)
{
	return index_file_get(v->t, type, repo, commit, path, out);
}

int
store_view_commit(struct store_view *v, enum repo_type type, const char *repo, const char *commit,
		  struct index_commit *out)
{
	return index_commit_get(v->t, type, repo, commit, out);
}

int
store_view_blob(struct store_view *v, const char *sha256, struct index_blob *out)
{
	return index_blob_get(v->t, sha256, out);
}

int
store_view_files(struct store_view *v, enum repo_type type, const char *repo, const char *commit,
		 const char *after,
		 int (*cb)(void *ctx, const char *path, const struct index_file *rec), void *ctx)
{
	return index_file_foreach(v->t, type, repo, commit, after, cb, ctx);
}

int
store_view_refs(struct store_view *v, enum repo_type type, const char *repo,
		int (*cb)(void *ctx, const char *ref, const struct index_ref *rec), void *ctx)
{
	return index_ref_foreach(v->t, type, repo, cb, ctx);
}

int
store_view_commits(struct store_view *v, enum repo_type type, const char *repo,
		   int (*cb)(void *ctx, const char *commit, const struct index_commit *rec),
		   void *ctx)
{
	return index_commit_foreach(v->t, type, repo, cb, ctx);
}

int
store_view_blobs(struct store_view *v,
		 int (*cb)(void *ctx, const char *sha256, const struct index_blob *rec), void *ctx)
{
	return index_blob_foreach(v->t, cb, ctx);
}

int
store_view_repos(struct store_view *v, int (*cb)(void *ctx, enum repo_type type, const char *repo),
		 void *ctx)
{
	return index_repo_foreach(v->t, cb, ctx);
}

int
store_ping(struct store *st)
{
	struct store_view v;
	int r = store_view_begin(st, &v);
	store_view_end(&v);
	return r;
}

int
store_lookup_file(struct store *st, enum repo_type type, const char *repo, const char *rev,
		  const char *path, struct store_lookup *out)
{
	struct store_view v;
	struct lcache_key k;
	uint64_t txnid;
	int r, keyed;

	/* A found file, from a snapshot no write has followed (lcache.c). */
	keyed = lcache_key(&k, type, repo, rev, path) == 0;
	if (keyed && lcache_get(st->lookups, &k, index_last_txnid(st->idx), out))
		return GG_OK;
	memset(out, 0, sizeof(*out));
	out->file_rc = GG_ENOENT;
	if ((r = store_view_begin(st, &v)) != GG_OK) {
		out->rev_rc = r;
		return r;
	}
	out->rev_rc = store_resolve_rev(&v, type, repo, rev, out->commit, &out->repo_known,
					&out->ref_time);
	if (out->rev_rc == GG_OK)
		out->file_rc = index_file_get(v.t, type, repo, out->commit, path, &out->file);
	txnid = index_txn_id(v.t);
	store_view_end(&v);
	if (keyed && out->rev_rc == GG_OK && out->file_rc == GG_OK)
		lcache_put(st->lookups, &k, txnid, out);
	return GG_OK;
}

uint64_t
store_generation(struct store *st)
{
	return index_last_txnid(st->idx);
}

uint64_t
store_view_generation(struct store_view *v)
{
	return index_txn_id(v->t);
}

int
store_answer_get(struct store *st, const char *key, uint64_t gen, char **out)
{
	return acache_get(st->answers, key, gen, out);
}

void
store_answer_put(struct store *st, const char *key, uint64_t gen, const char *text)
{
	acache_put(st->answers, key, gen, text);
}

int
store_file_get(struct store *st, enum repo_type type, const char *repo, const char *commit,
	       const char *path, struct index_file *out)
{
	struct store_view v;
	int r = store_view_begin(st, &v);
	if (r == GG_OK)
		r = index_file_get(v.t, type, repo, commit, path, out);
	store_view_end(&v);
	return r;
}

int
store_ref_get(struct store *st, enum repo_type type, const char *repo, const char *ref,
	      struct index_ref *out)
{
	struct store_view v;
	int r = store_view_begin(st, &v);
	if (r == GG_OK)
		r = index_ref_get(v.t, type, repo, ref, out);
	store_view_end(&v);
	return r;
}

/* --- blobs ------------------------------------------------------------------- */

int
store_blob_open(struct store *st, const char *sha256, int *fd, uint64_t *size)
{
	return blob_open(st->blobs, sha256, fd, size);
}

int
store_blob_export(struct store *st, const char *sha256, const char *dst, int link_ok,
		  const char **how)
{
	int r;

	/* Held as a reader: eviction leaves it alone while it is copied. */
	store_use(st, sha256);
	r = blob_export(st->blobs, sha256, dst, link_ok, how);
	store_unuse(st, sha256);
	return r;
}

int
store_blob_exists(struct store *st, const char *sha256)
{
	return blob_exists(st->blobs, sha256);
}

int
store_blob_has(struct store *st, const char *sha256, uint64_t size)
{
	struct store_view v;
	struct index_blob b;
	int have = 0;

	if (store_view_begin(st, &v) == GG_OK)
		have = index_blob_get(v.t, sha256, &b) == GG_OK && b.size == size;
	store_view_end(&v);
	return have && blob_exists(st->blobs, sha256);
}

int
store_writer_open(struct store *st, int64_t size_hint, struct blob_writer **out)
{
	return blob_writer_open(st->blobs, size_hint, out);
}

int
store_writer_finish(struct store *st, struct blob_writer *w, const char *expect_sha256,
		    struct blob_digest *out, int *fresh)
{
	int r;

	*fresh = 0;
	store_hold(st);
	r = blob_writer_finish(w, expect_sha256, NULL, out);
	if (r == GG_OK)
		r = adopt(st, out->sha256, fresh);
	if (r == GG_OK)
		store_stage(st, out->sha256);
	store_release(st);
	if (r == GG_OK)
		store_landed(st, out->sha256);
	return r;
}

int
store_asm_part_open(struct store *st, const char *sha256, uint64_t size, uint64_t offset,
		    uint64_t len, struct blob_asm_part **out)
{
	return blob_asm_part_open(st->blobs, sha256, size, offset, len, out);
}

int
store_asm_finish(struct store *st, const char *sha256, uint64_t size, struct blob_digest *out,
		 int *fresh)
{
	int r;

	*fresh = 0;
	store_hold(st);
	r = blob_asm_finish(st->blobs, sha256, size, out);
	if (r == GG_OK)
		r = adopt(st, sha256, fresh);
	if (r == GG_OK)
		store_stage(st, sha256);
	store_release(st);
	if (r == GG_OK)
		store_landed(st, sha256);
	return r;
}

void
store_stage(struct store *st, const char *sha256)
{
	struct stage *s;

	pthread_mutex_lock(&st->hold_mu);
	for (s = st->staged; s != NULL; s = s->next)
		if (strcmp(s->sha256, sha256) == 0)
			break;
	if (s == NULL) {
		s = xcalloc(1, sizeof(*s));
		snprintf(s->sha256, sizeof(s->sha256), "%s", sha256);
		s->next = st->staged;
		st->staged = s;
	}
	s->count++;
	pthread_mutex_unlock(&st->hold_mu);
}

void
store_unstage(struct store *st, const char *sha256)
{
	struct stage **pp, *s;

	pthread_mutex_lock(&st->hold_mu);
	for (pp = &st->staged; (s = *pp) != NULL; pp = &s->next) {
		if (strcmp(s->sha256, sha256) != 0)
			continue;
		if (--s->count == 0) {
			*pp = s->next;
			free(s);
		}
		break;
	}
	pthread_mutex_unlock(&st->hold_mu);
}

static int
staged_locked(struct store *st, const char *sha256)
{
	for (struct stage *s = st->staged; s != NULL; s = s->next)
		if (strcmp(s->sha256, sha256) == 0)
			return 1;
	return 0;
}

int
store_staged(struct store *st, const char *sha256)
{
	int staged;
	pthread_mutex_lock(&st->hold_mu);
	staged = staged_locked(st, sha256);
	pthread_mutex_unlock(&st->hold_mu);
	return staged;
}

struct live_job {
	const char *sha256;
	int found;
};

/* A live job (pending or publishing) that mentions the blob in its data:
 * jobs name their files' sha256 in hex, and nothing else in a job is 64
 * hex digits long. */
static int
live_job_cb(void *ctx, uint64_t id, const struct index_upload *rec)
{
	struct live_job *l = ctx;
	(void)id;
	if (rec->state != STORE_JOB_PENDING && rec->state != STORE_JOB_PUBLISHING)
		return 0;
	l->found =
		rec->data != NULL && memmem(rec->data, rec->len, l->sha256, GG_SHA256_HEX) != NULL;
	return l->found;
}

int
store_drop_unreferenced(struct store *st, const char *sha256)
{
	struct index_txn *t = NULL;
	struct live_job live = { sha256, 0 };
	struct index_blob b;
	int r, staged;

	/* Staging and dropping take hold_mu in turn: a blob staged after this
	 * check was adopted again and has its record back when it is used
	 * (store_writer_finish adopts under the hold). */
	pthread_mutex_lock(&st->hold_mu);
	staged = staged_locked(st, sha256);
	pthread_mutex_unlock(&st->hold_mu);
	if (staged)
		return GG_EEXIST;
	if ((r = index_txn_begin(st->idx, 1, &t)) != GG_OK)
		goto done;
	if ((r = index_blob_get(t, sha256, &b)) != GG_OK)
		goto done;
	if (b.refcount > 0 || b.pinned) {
		r = GG_EEXIST;
		goto done;
	}
	if ((r = index_upload_foreach(t, live_job_cb, &live)) != GG_OK)
		goto done;
	if (live.found) {
		r = GG_EEXIST;
		goto done;
	}
	if ((r = index_blob_del(t, sha256)) != GG_OK)
		goto done;
	r = index_txn_commit(t);
	t = NULL; /* freed by the commit, whether or not it succeeded */
	if (r == GG_OK)
		blob_remove(st->blobs, sha256);
done:
	index_txn_abort(t);
	return r;
}

int
store_partial_open(struct store *st, const char *key, uint64_t size, struct blob_partial **out,
		   uint64_t *have)
{
	return blob_partial_open(st->blobs, key, size, out, have);
}

int
store_partial_finish(struct store *st, struct blob_partial *p, enum repo_type type,
		     const char *repo, const char *commit, const char *path, int lfs,
		     struct blob_digest *out)
{
	int r;

	/* Durable blob, then index; no other process's sweep in between. */
	store_hold(st);
	r = blob_partial_finish(p, out);
	if (r == GG_OK)
		r = store_record_file(st, type, repo, commit, path, lfs, out->sha256, out->gitsha1,
				      out->size);
	store_release(st);
	if (r == GG_OK) {
		store_touch_new(st, out->sha256); /* just fetched: the most recently used */
		store_update_gguf(st, out->sha256);
		store_landed(st, out->sha256);
	}
	return r;
}

struct gc_ctx {
	uint64_t cutoff;
	char (*cand)[GG_SHA256_HEX + 1];
	uint64_t *size;
	size_t n, cap;
	uint64_t young;
};

static int
gc_cb(void *ctx, const char *sha256, const struct index_blob *rec)
{
	struct gc_ctx *g = ctx;

	if (rec->refcount > 0 || rec->pinned)
		return 0;
	if (rec->last_access > g->cutoff) {
		g->young++;
		return 0;
	}
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 64;
		g->cand = xrealloc(g->cand, g->cap * sizeof(*g->cand));
		g->size = xrealloc(g->size, g->cap * sizeof(*g->size));
	}
	memcpy(g->cand[g->n], sha256, GG_SHA256_HEX + 1);
	g->size[g->n++] = rec->size;
	return 0;
}

int
store_gc(struct store *st, uint64_t min_age, struct store_gc_report *rep)
{
	struct gc_ctx g;
	struct store_view v;
	uint64_t now = now_unix();
	int r;

	memset(rep, 0, sizeof(*rep));
	memset(&g, 0, sizeof(g));
	g.cutoff = now > min_age ? now - min_age : 0;
	/* Candidates first, in a read view; each is then dropped in its own
	 * write transaction, which checks again (a file may name it now). */
	r = store_view_begin(st, &v);
	if (r == GG_OK)
		r = index_blob_foreach(v.t, gc_cb, &g);
	store_view_end(&v);
	rep->kept = g.young;
	for (size_t i = 0; r == GG_OK && i < g.n; i++) {
		int d = store_drop_unreferenced(st, g.cand[i]);
		if (d == GG_OK) {
			rep->blobs++;
			rep->bytes += g.size[i];
			log_info("gc: removed blob %s (%llu bytes)", g.cand[i],
				 (unsigned long long)g.size[i]);
		} else if (d == GG_EEXIST || d == GG_ENOENT) {
			rep->kept += d == GG_EEXIST;
		} else {
			r = d;
		}
	}
	free(g.cand);
	free(g.size);
	return r;
}

void
store_sweep_stale(struct store *st, uint64_t tmp_age, uint64_t quarantine_age, uint64_t *files,
		  uint64_t *bytes)
{
	uint64_t now = now_unix();
	*files = *bytes = 0;
	blob_sweep_stale(st->blobs, now > tmp_age ? now - tmp_age : 0,
			 now > quarantine_age ? now - quarantine_age : 0, files, bytes);
}

/* --- cached upstream answers and the upload journal ---------------------------- */

int
store_meta_get(struct store *st, enum repo_type type, const char *repo, const char *key,
	       struct index_meta *out)
{
	struct store_view v;
	int r = store_view_begin(st, &v);
	if (r == GG_OK)
		r = index_meta_get(v.t, type, repo, key, out);
	store_view_end(&v);
	return r;
}

int
store_meta_put(struct store *st, enum repo_type type, const char *repo, const char *key,
	       const struct index_meta *rec)
{
	struct index_txn *t = NULL;
	int r = index_txn_begin(st->idx, 1, &t);
	if (r == GG_OK && (r = index_meta_put(t, type, repo, key, rec)) == GG_OK) {
		r = index_txn_commit(t);
		t = NULL;
	}
	index_txn_abort(t);
	return r;
}

int
store_upload_get(struct store *st, uint64_t id, struct index_upload *out)
{
	struct store_view v;
	int r = store_view_begin(st, &v);
	if (r == GG_OK)
		r = index_upload_get(v.t, id, out);
	store_view_end(&v);
	return r;
}

int
store_upload_put(struct store *st, uint64_t id, const struct index_upload *rec)
{
	struct index_txn *t = NULL;
	int r = index_txn_begin(st->idx, 1, &t);
	if (r == GG_OK && (r = index_upload_put(t, id, rec)) == GG_OK) {
		r = index_txn_commit(t);
		t = NULL;
	}
	index_txn_abort(t);
	return r;
}

int
store_upload_foreach(struct store *st,
		     int (*cb)(void *ctx, uint64_t id, const struct index_upload *rec), void *ctx)
{
	struct store_view v;
	int r = store_view_begin(st, &v);
	if (r == GG_OK)
		r = index_upload_foreach(v.t, cb, ctx);
	store_view_end(&v);
	return r;
}

int
store_audit_append(struct store *st, const char *data, size_t len, uint64_t *seq)
{
	struct index_txn *t = NULL;
	int r = index_txn_begin(st->idx, 1, &t);
	if (r == GG_OK && (r = index_audit_append(t, now_unix(), data, len, seq)) == GG_OK) {
		r = index_txn_commit(t);
		t = NULL;
	}
	index_txn_abort(t);
	return r;
}

int
store_audit_foreach(struct store *st, uint64_t after,
		    int (*cb)(void *ctx, uint64_t seq, uint64_t time, const char *data, size_t len),
		    void *ctx)
{
	struct store_view v;
	int r = store_view_begin(st, &v);
	if (r == GG_OK)
		r = index_audit_foreach(v.t, after, cb, ctx);
	store_view_end(&v);
	return r;
}

int
store_upload_last_id(struct store *st, uint64_t *id)
{
	struct store_view v;
	int r = store_view_begin(st, &v);
	if (r == GG_OK)
		r = index_upload_last_id(v.t, id);
	store_view_end(&v);
	return r;
}
