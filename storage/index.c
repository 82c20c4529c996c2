/*
 * index.c: the store's LMDB index (layout in index.h).
 *
 * Invariants:
 *  - Keys are built only by key_make(), values only by the enc_* / dec_*
 *    pairs below; every decoder checks the record version and length
 *    before reading a field, so a damaged or newer record is an error,
 *    never an out-of-bounds read.
 *  - files entries hold a reference on their blob record: index_file_put
 *    moves the refcount in the same write transaction, so the two never
 *    disagree after a commit.
 *  - Data returned by LMDB is copied out before the transaction ends.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lmdb.h>
#include <openssl/evp.h>

#include "index.h"
#include "log.h"
#include "util.h"

#define REC_V1 1
#define KEY_MAX 511 /* LMDB's default MDB_MAXKEYSIZE */

struct index {
	MDB_env *env;
	MDB_dbi info, refs, commits, files, blobs, meta, tokens, uploads, audit;
};

struct index_txn {
	struct index *idx;
	MDB_txn *txn;
};

char
index_type_char(enum repo_type type)
{
	switch (type) {
	case REPO_DATASET: return 'd';
	case REPO_SPACE: return 's';
	default: return 'm';
	}
}

const char *
index_type_name(enum repo_type type)
{
	switch (type) {
	case REPO_DATASET: return "dataset";
	case REPO_SPACE: return "space";
	default: return "model";
	}
}

int
index_type_parse(const char *name, enum repo_type *out)
{
	static const enum repo_type all[] = { REPO_MODEL, REPO_DATASET, REPO_SPACE };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(name, index_type_name(all[i])) == 0) {
			*out = all[i];
			return GG_OK;
		}
	}
	return GG_EINVAL;
}

static enum repo_type
type_from_char(char c)
{
	return c == 'd' ? REPO_DATASET : c == 's' ? REPO_SPACE : REPO_MODEL;
}

static int
db_err(const char *what, int rc)
{
	if (rc == MDB_NOTFOUND)
		return GG_ENOENT;
	log_warnx("%s failed: %s", what, mdb_strerror(rc));
	if (rc == MDB_MAP_FULL || rc == ENOSPC)
		return GG_ENOSPC;
	return GG_EDB;
}

/* --- keys --------------------------------------------------------------- */

/*
 * Builds T \0 repo [\0 a [\0 path]] into buf (KEY_MAX bytes).  A long path
 * is cut and followed by \x01 and its sha256 so the key stays unique.
 * With trailing_sep, a \0 is appended (a prefix for range scans).
 */
static int
key_make(char *buf, size_t *len, enum repo_type type, const char *repo, const char *a,
	 const char *path, int trailing_sep)
{
	size_t n = 0, rl, al = 0, pl = 0;

	if (repo == NULL || (rl = strlen(repo)) == 0 || rl > GG_MAX_REPO_LEN)
		return GG_EINVAL;
	if (a != NULL && ((al = strlen(a)) == 0 || al > GG_MAX_REV_LEN))
		return GG_EINVAL;
	buf[n++] = index_type_char(type);
	buf[n++] = '\0';
	memcpy(buf + n, repo, rl);
	n += rl;
	if (a != NULL) {
		buf[n++] = '\0';
		memcpy(buf + n, a, al);
		n += al;
	}
	if (path != NULL) {
		pl = strlen(path);
		if (pl == 0 || pl > GG_MAX_REPO_PATH_LEN)
			return GG_EINVAL;
		buf[n++] = '\0';
		if (n + pl <= KEY_MAX) {
			memcpy(buf + n, path, pl);
			n += pl;
		} else {
			unsigned char md[32];
			unsigned int mdl;
			size_t keep = KEY_MAX - n - 1 - GG_SHA256_HEX;
			EVP_Digest(path, pl, md, &mdl, EVP_sha256(), NULL);
			memcpy(buf + n, path, keep);
			n += keep;
			buf[n++] = '\x01';
			hex_encode(md, 32, buf + n); /* writes a NUL past the end: buf has room */
			n += GG_SHA256_HEX;
		}
	}
	if (trailing_sep) {
		if (n >= KEY_MAX)
			return GG_EINVAL;
		buf[n++] = '\0';
	}
	*len = n;
	return GG_OK;
}

/* --- values ------------------------------------------------------------- */

struct wr {
	unsigned char *p;
	size_t n, cap;
};

static void
put_bytes(struct wr *w, const void *d, size_t n)
{
	if (w->n + n > w->cap)
		log_fatalx("index record overflow (%zu + %zu > %zu)", w->n, n, w->cap);
	memcpy(w->p + w->n, d, n);
	w->n += n;
}

static void
put_uint(struct wr *w, uint64_t v, int bytes)
{
	unsigned char b[8];
	for (int i = 0; i < bytes; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	put_bytes(w, b, (size_t)bytes);
}

static void
put_fixed(struct wr *w, const char *s, size_t n)
{
	char tmp[GG_SHA256_HEX] = { 0 };
	size_t l = strnlen(s, n);
	memcpy(tmp, s, l);
	put_bytes(w, tmp, n);
}

static void
put_str16(struct wr *w, const char *s)
{
	size_t l = strlen(s);
	if (l > 0xffff)
		l = 0xffff;
	put_uint(w, l, 2);
	put_bytes(w, s, l);
}

struct rd {
	const unsigned char *p;
	size_t n, off;
	int bad;
};

static uint64_t
get_uint(struct rd *r, int bytes)
{
	uint64_t v = 0;
	if (r->bad || r->n - r->off < (size_t)bytes) {
		r->bad = 1;
		return 0;
	}
	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)r->p[r->off + (size_t)i] << (8 * i);
	r->off += (size_t)bytes;
	return v;
}

/* Copies n bytes into out (size n+1) and NUL-terminates. */
static void
get_fixed(struct rd *r, char *out, size_t n)
{
	if (r->bad || r->n - r->off < n) {
		r->bad = 1;
		out[0] = '\0';
		return;
	}
	memcpy(out, r->p + r->off, n);
	out[n] = '\0';
	r->off += n;
}

/* A u16-length string into out (outsz bytes), cut to fit. */
static void
get_str16(struct rd *r, char *out, size_t outsz)
{
	size_t l = (size_t)get_uint(r, 2);
	if (r->bad || r->n - r->off < l) {
		r->bad = 1;
		out[0] = '\0';
		return;
	}
	size_t c = l < outsz - 1 ? l : outsz - 1;
	memcpy(out, r->p + r->off, c);
	out[c] = '\0';
	r->off += l;
}

static int
rd_begin(struct rd *r, const MDB_val *v)
{
	r->p = v->mv_data;
	r->n = v->mv_size;
	r->off = 0;
	r->bad = 0;
	if (get_uint(r, 1) != REC_V1)
		return GG_ECORRUPT;
	return GG_OK;
}

static int
rd_end(struct rd *r)
{
	return r->bad ? GG_ECORRUPT : GG_OK;
}

/* --- environment ---------------------------------------------------------- */

static int
open_dbi(MDB_txn *txn, const char *name, MDB_dbi *dbi)
{
	int rc = mdb_dbi_open(txn, name, MDB_CREATE, dbi);
	return rc ? db_err("mdb_dbi_open()", rc) : GG_OK;
}

int
index_open(const char *dir, struct index **out)
{
	struct index *idx = xcalloc(1, sizeof(*idx));
	MDB_txn *txn = NULL;
	MDB_val k, v;
	int rc, r;

	if (mkdir_p(dir) != GG_OK) {
		free(idx);
		return GG_EIO;
	}
	if ((rc = mdb_env_create(&idx->env)) != 0) {
		r = db_err("mdb_env_create()", rc);
		goto fail;
	}
	mdb_env_set_mapsize(idx->env, GG_LMDB_MAP_SIZE);
	mdb_env_set_maxdbs(idx->env, 16);
	mdb_env_set_maxreaders(idx->env, GG_LMDB_MAX_READERS);
	/* MDB_NOTLS: read transactions are not tied to the thread that made
	 * them, so libmicrohttpd's pool threads can share the environment. */
	if ((rc = mdb_env_open(idx->env, dir, MDB_NOTLS, 0644)) != 0) {
		r = db_err("mdb_env_open()", rc);
		goto fail;
	}
	if ((rc = mdb_txn_begin(idx->env, NULL, 0, &txn)) != 0) {
		r = db_err("mdb_txn_begin()", rc);
		goto fail;
	}
	if ((r = open_dbi(txn, "info", &idx->info)) || (r = open_dbi(txn, "refs", &idx->refs)) ||
	    (r = open_dbi(txn, "commits", &idx->commits)) ||
	    (r = open_dbi(txn, "files", &idx->files)) ||
	    (r = open_dbi(txn, "blobs", &idx->blobs)) || (r = open_dbi(txn, "meta", &idx->meta)) ||
	    (r = open_dbi(txn, "tokens", &idx->tokens)) ||
	    (r = open_dbi(txn, "uploads", &idx->uploads)) ||
	    (r = open_dbi(txn, "audit", &idx->audit)))
		goto fail;
	k.mv_data = "format";
	k.mv_size = 6;
	rc = mdb_get(txn, idx->info, &k, &v);
	if (rc == MDB_NOTFOUND) {
		unsigned char b[4] = { GG_INDEX_FORMAT & 0xff, (GG_INDEX_FORMAT >> 8) & 0xff, 0,
				       0 };
		v.mv_data = b;
		v.mv_size = 4;
		if ((rc = mdb_put(txn, idx->info, &k, &v, 0)) != 0) {
			r = db_err("mdb_put(format)", rc);
			goto fail;
		}
	} else if (rc != 0) {
		r = db_err("mdb_get(format)", rc);
		goto fail;
	} else {
		const unsigned char *b = v.mv_data;
		uint32_t fmt;
		if (v.mv_size != 4) {
			r = GG_ECORRUPT;
			goto fail;
		}
		fmt = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
		      (uint32_t)b[3] << 24;
		if (fmt > GG_INDEX_FORMAT) {
			log_warnx("index \"%s\" has format %u; this ggufd reads up to %u", dir, fmt,
				  GG_INDEX_FORMAT);
			r = GG_EVERSION;
			goto fail;
		}
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		r = db_err("mdb_txn_commit()", rc);
		goto fail;
	}
	*out = idx;
	return GG_OK;
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	index_close(idx);
	return r;
}

void
index_close(struct index *idx)
{
	if (idx == NULL)
		return;
	if (idx->env != NULL)
		mdb_env_close(idx->env);
	free(idx);
}

int
index_txn_begin(struct index *idx, int write, struct index_txn **out)
{
	struct index_txn *t = xcalloc(1, sizeof(*t));
	int rc = mdb_txn_begin(idx->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
	if (rc != 0) {
		free(t);
		return db_err("mdb_txn_begin()", rc);
	}
	t->idx = idx;
	*out = t;
	return GG_OK;
}

int
index_txn_commit(struct index_txn *t)
{
	int rc = mdb_txn_commit(t->txn);
	free(t);
	return rc ? db_err("mdb_txn_commit()", rc) : GG_OK;
}

uint64_t
index_txn_id(struct index_txn *t)
{
	return (uint64_t)mdb_txn_id(t->txn);
}

uint64_t
index_last_txnid(struct index *idx)
{
	MDB_envinfo info;
	if (mdb_env_info(idx->env, &info) != 0)
		return 0;
	return (uint64_t)info.me_last_txnid;
}

void
index_txn_abort(struct index_txn *t)
{
	if (t == NULL)
		return;
	mdb_txn_abort(t->txn);
	free(t);
}

static int
db_get(struct index_txn *t, MDB_dbi dbi, const void *key, size_t klen, MDB_val *v)
{
	MDB_val k = { klen, (void *)key };
	int rc = mdb_get(t->txn, dbi, &k, v);
	return rc ? db_err("mdb_get()", rc) : GG_OK;
}

static int
db_put(struct index_txn *t, MDB_dbi dbi, const void *key, size_t klen, const void *val, size_t vlen)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc = mdb_put(t->txn, dbi, &k, &v, 0);
	return rc ? db_err("mdb_put()", rc) : GG_OK;
}

/*
 * Walks every key that starts with prefix, from `start` (or the prefix),
 * calling fn(ctx, key, val).  fn returns 0 to go on, 1 to stop, or <0.
 */
static int
db_scan(struct index_txn *t, MDB_dbi dbi, const char *prefix, size_t plen, const char *start,
	size_t slen, int skip_equal, int (*fn)(void *ctx, const MDB_val *k, const MDB_val *v),
	void *ctx)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc, r = GG_OK;

	if ((rc = mdb_cursor_open(t->txn, dbi, &cur)) != 0)
		return db_err("mdb_cursor_open()", rc);
	k.mv_data = (void *)(start ? start : prefix);
	k.mv_size = start ? slen : plen;
	rc = mdb_cursor_get(cur, &k, &v, k.mv_size ? MDB_SET_RANGE : MDB_FIRST);
	while (rc == 0) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		if (!(skip_equal && start && k.mv_size == slen &&
		      memcmp(k.mv_data, start, slen) == 0)) {
			r = fn(ctx, &k, &v);
			if (r != 0)
				break;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		r = db_err("mdb_cursor_get()", rc);
	mdb_cursor_close(cur);
	return r < 0 ? r : GG_OK;
}

/* --- refs --------------------------------------------------------------- */

static int
dec_ref(const MDB_val *v, struct index_ref *out)
{
	struct rd r;
	if (rd_begin(&r, v) != GG_OK)
		return GG_ECORRUPT;
	get_fixed(&r, out->commit, GG_SHA1_HEX);
	out->updated_at = get_uint(&r, 8);
	return rd_end(&r);
}

int
index_ref_get(struct index_txn *t, enum repo_type type, const char *repo, const char *ref,
	      struct index_ref *out)
{
	char key[KEY_MAX + 80];
	size_t kl;
	MDB_val v;
	int r;

	if ((r = key_make(key, &kl, type, repo, ref, NULL, 0)) != GG_OK)
		return r;
	if ((r = db_get(t, t->idx->refs, key, kl, &v)) != GG_OK)
		return r;
	return dec_ref(&v, out);
}

int
index_ref_put(struct index_txn *t, enum repo_type type, const char *repo, const char *ref,
	      const struct index_ref *rec)
{
	char key[KEY_MAX + 80];
	unsigned char val[64];
	struct wr w = { val, 0, sizeof(val) };
	size_t kl;
	int r;

	if (strlen(rec->commit) != GG_SHA1_HEX)
		return GG_EINVAL;
	if ((r = key_make(key, &kl, type, repo, ref, NULL, 0)) != GG_OK)
		return r;
	put_uint(&w, REC_V1, 1);
	put_fixed(&w, rec->commit, GG_SHA1_HEX);
	put_uint(&w, rec->updated_at, 8);
	return db_put(t, t->idx->refs, key, kl, val, w.n);
}

int
index_ref_del(struct index_txn *t, enum repo_type type, const char *repo, const char *ref)
{
	char key[KEY_MAX + 80];
	size_t kl;
	MDB_val k;
	int r;

	if ((r = key_make(key, &kl, type, repo, ref, NULL, 0)) != GG_OK)
		return r;
	k.mv_size = kl;
	k.mv_data = key;
	r = mdb_del(t->txn, t->idx->refs, &k, NULL);
	if (r == MDB_NOTFOUND)
		return GG_ENOENT;
	return r ? db_err("mdb_del()", r) : GG_OK;
}

struct ref_scan {
	size_t plen;
	int (*cb)(void *ctx, const char *ref, const struct index_ref *rec);
	void *ctx;
};

static int
ref_scan_fn(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct ref_scan *s = ctx;
	struct index_ref rec;
	char name[GG_MAX_REV_LEN + 1];
	size_t n = k->mv_size - s->plen;

	if (n == 0 || n > GG_MAX_REV_LEN || dec_ref(v, &rec) != GG_OK)
		return GG_ECORRUPT;
	memcpy(name, (const char *)k->mv_data + s->plen, n);
	name[n] = '\0';
	return s->cb(s->ctx, name, &rec);
}

int
index_ref_foreach(struct index_txn *t, enum repo_type type, const char *repo,
		  int (*cb)(void *ctx, const char *ref, const struct index_ref *rec), void *ctx)
{
	char prefix[KEY_MAX + 80];
	struct ref_scan s;
	int r;

	if ((r = key_make(prefix, &s.plen, type, repo, NULL, NULL, 1)) != GG_OK)
		return r;
	s.cb = cb;
	s.ctx = ctx;
	return db_scan(t, t->idx->refs, prefix, s.plen, NULL, 0, 0, ref_scan_fn, &s);
}

/* --- commits ------------------------------------------------------------ */

static int
dec_commit(const MDB_val *v, struct index_commit *out)
{
	struct rd r;
	if (rd_begin(&r, v) != GG_OK)
		return GG_ECORRUPT;
	out->created_at = get_uint(&r, 8);
	get_fixed(&r, out->parent, GG_SHA1_HEX);
	out->parent[strnlen(out->parent, GG_SHA1_HEX)] = '\0';
	get_str16(&r, out->title, sizeof(out->title));
	return rd_end(&r);
}

int
index_commit_get(struct index_txn *t, enum repo_type type, const char *repo, const char *commit,
		 struct index_commit *out)
{
	char key[KEY_MAX + 80];
	size_t kl;
	MDB_val v;
	int r;

	if ((r = key_make(key, &kl, type, repo, commit, NULL, 0)) != GG_OK)
		return r;
	if ((r = db_get(t, t->idx->commits, key, kl, &v)) != GG_OK)
		return r;
	return dec_commit(&v, out);
}

int
index_commit_put(struct index_txn *t, enum repo_type type, const char *repo, const char *commit,
		 const struct index_commit *rec)
{
	char key[KEY_MAX + 80];
	unsigned char val[64 + sizeof(rec->title)];
	struct wr w = { val, 0, sizeof(val) };
	size_t kl;
	int r;

	if (strlen(commit) != GG_SHA1_HEX || !is_lower_hex(commit, GG_SHA1_HEX))
		return GG_EINVAL;
	if ((r = key_make(key, &kl, type, repo, commit, NULL, 0)) != GG_OK)
		return r;
	put_uint(&w, REC_V1, 1);
	put_uint(&w, rec->created_at, 8);
	put_fixed(&w, rec->parent, GG_SHA1_HEX);
	put_str16(&w, rec->title);
	return db_put(t, t->idx->commits, key, kl, val, w.n);
}

struct commit_scan {
	size_t plen;
	int (*cb)(void *ctx, const char *commit, const struct index_commit *rec);
	void *ctx;
};

static int
commit_scan_fn(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct commit_scan *s = ctx;
	struct index_commit rec;
	char id[GG_SHA1_HEX + 1];

	if (k->mv_size - s->plen != GG_SHA1_HEX || dec_commit(v, &rec) != GG_OK)
		return GG_ECORRUPT;
	memcpy(id, (const char *)k->mv_data + s->plen, GG_SHA1_HEX);
	id[GG_SHA1_HEX] = '\0';
	return s->cb(s->ctx, id, &rec);
}

int
index_commit_foreach(struct index_txn *t, enum repo_type type, const char *repo,
		     int (*cb)(void *ctx, const char *commit, const struct index_commit *rec),
		     void *ctx)
{
	char prefix[KEY_MAX + 80];
	struct commit_scan s;
	int r;

	if ((r = key_make(prefix, &s.plen, type, repo, NULL, NULL, 1)) != GG_OK)
		return r;
	s.cb = cb;
	s.ctx = ctx;
	return db_scan(t, t->idx->commits, prefix, s.plen, NULL, 0, 0, commit_scan_fn, &s);
}

struct repo_scan {
	char last[GG_MAX_REPO_LEN + 3];
	size_t last_len;
	int (*cb)(void *ctx, enum repo_type type, const char *repo);
	void *ctx;
};

static int
repo_scan_fn(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct repo_scan *s = ctx;
	const char *key = k->mv_data;
	const char *end;
	size_t n;
	char repo[GG_MAX_REPO_LEN + 1];

	(void)v;
	if (k->mv_size < 3 || key[1] != '\0')
		return GG_ECORRUPT;
	end = memchr(key + 2, '\0', k->mv_size - 2);
	if (end == NULL)
		return GG_ECORRUPT;
	n = (size_t)(end - key);
	if (n - 2 > GG_MAX_REPO_LEN)
		return GG_ECORRUPT;
	if (n == s->last_len && memcmp(key, s->last, n) == 0)
		return 0;
	memcpy(s->last, key, n);
	s->last_len = n;
	memcpy(repo, key + 2, n - 2);
	repo[n - 2] = '\0';
	return s->cb(s->ctx, type_from_char(key[0]), repo);
}

int
index_repo_foreach(struct index_txn *t, int (*cb)(void *ctx, enum repo_type type, const char *repo),
		   void *ctx)
{
	struct repo_scan s;
	memset(&s, 0, sizeof(s));
	s.cb = cb;
	s.ctx = ctx;
	return db_scan(t, t->idx->commits, "", 0, NULL, 0, 0, repo_scan_fn, &s);
}

/* --- files -------------------------------------------------------------- */

static int
dec_file(const MDB_val *v, struct index_file *out, char *path, size_t pathsz)
{
	struct rd r;
	char tmp[GG_MAX_REPO_PATH_LEN + 1];
	if (rd_begin(&r, v) != GG_OK)
		return GG_ECORRUPT;
	out->flags = (unsigned)get_uint(&r, 1);
	out->size = get_uint(&r, 8);
	get_fixed(&r, out->sha256, GG_SHA256_HEX);
	get_fixed(&r, out->oid, GG_SHA1_HEX);
	get_str16(&r, path ? path : tmp, path ? pathsz : sizeof(tmp));
	return rd_end(&r);
}

int
index_file_get(struct index_txn *t, enum repo_type type, const char *repo, const char *commit,
	       const char *path, struct index_file *out)
{
	char key[KEY_MAX + 80];
	size_t kl;
	MDB_val v;
	int r;

	if ((r = key_make(key, &kl, type, repo, commit, path, 0)) != GG_OK)
		return r;
	if ((r = db_get(t, t->idx->files, key, kl, &v)) != GG_OK)
		return r;
	return dec_file(&v, out, NULL, 0);
}

static int
blob_ref_adjust(struct index_txn *t, const char *sha256, int delta)
{
	struct index_blob b;
	int r = index_blob_get(t, sha256, &b);
	if (r != GG_OK)
		return r;
	if (delta < 0 && b.refcount == 0)
		return GG_OK;
	b.refcount = (uint32_t)((int64_t)b.refcount + delta);
	return index_blob_put(t, sha256, &b);
}

int
index_file_put(struct index_txn *t, enum repo_type type, const char *repo, const char *commit,
	       const char *path, const struct index_file *rec)
{
	char key[KEY_MAX + 80];
	unsigned char val[1 + 1 + 8 + 64 + 40 + 2 + GG_MAX_REPO_PATH_LEN];
	struct wr w = { val, 0, sizeof(val) };
	struct index_file old;
	size_t kl;
	MDB_val v;
	int r;

	memset(&old, 0, sizeof(old));
	if (strlen(rec->sha256) != GG_SHA256_HEX || !is_lower_hex(rec->sha256, GG_SHA256_HEX) ||
	    strlen(rec->oid) != GG_SHA1_HEX)
		return GG_EINVAL;
	if ((r = key_make(key, &kl, type, repo, commit, path, 0)) != GG_OK)
		return r;
	r = db_get(t, t->idx->files, key, kl, &v);
	if (r == GG_OK) {
		/* An entry this build cannot decode is not overwritten blindly:
		 * its blob reference could not be released. */
		if (dec_file(&v, &old, NULL, 0) != GG_OK)
			return GG_ECORRUPT;
		if (strcmp(old.sha256, rec->sha256) == 0)
			goto write; /* same blob: the reference is already held */
		if ((r = blob_ref_adjust(t, old.sha256, -1)) != GG_OK && r != GG_ENOENT)
			return r;
	} else if (r != GG_ENOENT) {
		return r;
	}
	if ((r = blob_ref_adjust(t, rec->sha256, +1)) != GG_OK)
		return r;
write:
	put_uint(&w, REC_V1, 1);
	put_uint(&w, rec->flags, 1);
	put_uint(&w, rec->size, 8);
	put_fixed(&w, rec->sha256, GG_SHA256_HEX);
	put_fixed(&w, rec->oid, GG_SHA1_HEX);
	put_str16(&w, path);
	return db_put(t, t->idx->files, key, kl, val, w.n);
}

struct file_scan {
	int (*cb)(void *ctx, const char *path, const struct index_file *rec);
	void *ctx;
};

static int
file_scan_fn(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct file_scan *s = ctx;
	struct index_file rec;
	char path[GG_MAX_REPO_PATH_LEN + 1];
	(void)k;
	if (dec_file(v, &rec, path, sizeof(path)) != GG_OK)
		return GG_ECORRUPT;
	return s->cb(s->ctx, path, &rec);
}

int
index_file_foreach(struct index_txn *t, enum repo_type type, const char *repo, const char *commit,
		   const char *after,
		   int (*cb)(void *ctx, const char *path, const struct index_file *rec), void *ctx)
{
	char prefix[KEY_MAX + 80], start[KEY_MAX + 80];
	size_t plen, slen = 0;
	struct file_scan s = { cb, ctx };
	int r;

	if ((r = key_make(prefix, &plen, type, repo, commit, NULL, 1)) != GG_OK)
		return r;
	if (after != NULL && (r = key_make(start, &slen, type, repo, commit, after, 0)) != GG_OK)
		return r;
	return db_scan(t, t->idx->files, prefix, plen, after ? start : NULL, slen, 1, file_scan_fn,
		       &s);
}

/* --- blobs -------------------------------------------------------------- */

static void
put_gguf(struct wr *w, const struct gguf_summary *g)
{
	put_uint(w, g->version, 4);
	put_uint(w, (uint32_t)g->file_type, 4);
	put_uint(w, g->context_length, 8);
	put_uint(w, g->tensor_count, 8);
	put_uint(w, g->kv_count, 8);
	put_uint(w, g->param_count, 8);
	put_uint(w, g->alignment, 4);
	put_uint(w, g->data_offset, 8);
	put_uint(w, g->data_size, 8);
	put_str16(w, g->arch);
	put_str16(w, g->name);
	put_str16(w, g->quant);
}

static void
get_gguf(struct rd *r, struct gguf_summary *g)
{
	g->version = (uint32_t)get_uint(r, 4);
	g->file_type = (int32_t)(uint32_t)get_uint(r, 4);
	g->context_length = get_uint(r, 8);
	g->tensor_count = get_uint(r, 8);
	g->kv_count = get_uint(r, 8);
	g->param_count = get_uint(r, 8);
	g->alignment = (uint32_t)get_uint(r, 4);
	g->data_offset = get_uint(r, 8);
	g->data_size = get_uint(r, 8);
	get_str16(r, g->arch, sizeof(g->arch));
	get_str16(r, g->name, sizeof(g->name));
	get_str16(r, g->quant, sizeof(g->quant));
}

static int
dec_blob(const MDB_val *v, struct index_blob *out)
{
	struct rd r;
	memset(out, 0, sizeof(*out));
	if (rd_begin(&r, v) != GG_OK)
		return GG_ECORRUPT;
	out->size = get_uint(&r, 8);
	out->refcount = (uint32_t)get_uint(&r, 4);
	out->last_access = get_uint(&r, 8);
	out->pinned = (int)get_uint(&r, 1);
	out->has_gguf = (int)get_uint(&r, 1);
	if (out->has_gguf)
		get_gguf(&r, &out->gguf);
	/* Added after the first release: older records end before it, and
	 * older builds ignore it. */
	if (r.n - r.off >= 8)
		out->hits = get_uint(&r, 8);
	/* Later still: the flags (older builds ignore them, and drop them
	 * when they rewrite the record: the blob is then uploaded again,
	 * which finds it in the bucket). */
	if (r.n - r.off >= 1)
		out->in_bucket = (int)(get_uint(&r, 1) & 1u);
	return rd_end(&r);
}

int
index_blob_get(struct index_txn *t, const char *sha256, struct index_blob *out)
{
	MDB_val v;
	int r;
	if (strlen(sha256) != GG_SHA256_HEX)
		return GG_EINVAL;
	if ((r = db_get(t, t->idx->blobs, sha256, GG_SHA256_HEX, &v)) != GG_OK)
		return r;
	return dec_blob(&v, out);
}

int
index_blob_put(struct index_txn *t, const char *sha256, const struct index_blob *rec)
{
	unsigned char val[512];
	struct wr w = { val, 0, sizeof(val) };

	if (strlen(sha256) != GG_SHA256_HEX || !is_lower_hex(sha256, GG_SHA256_HEX))
		return GG_EINVAL;
	put_uint(&w, REC_V1, 1);
	put_uint(&w, rec->size, 8);
	put_uint(&w, rec->refcount, 4);
	put_uint(&w, rec->last_access, 8);
	put_uint(&w, rec->pinned ? 1 : 0, 1);
	put_uint(&w, rec->has_gguf ? 1 : 0, 1);
	if (rec->has_gguf)
		put_gguf(&w, &rec->gguf);
	put_uint(&w, rec->hits, 8);
	put_uint(&w, rec->in_bucket ? 1 : 0, 1);
	return db_put(t, t->idx->blobs, sha256, GG_SHA256_HEX, val, w.n);
}

int
index_blob_del(struct index_txn *t, const char *sha256)
{
	MDB_val k = { GG_SHA256_HEX, (void *)sha256 };
	int rc;
	if (strlen(sha256) != GG_SHA256_HEX)
		return GG_EINVAL;
	rc = mdb_del(t->txn, t->idx->blobs, &k, NULL);
	return rc ? db_err("mdb_del()", rc) : GG_OK;
}

struct blob_scan {
	int (*cb)(void *ctx, const char *sha256, const struct index_blob *rec);
	void *ctx;
};

static int
blob_scan_fn(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct blob_scan *s = ctx;
	struct index_blob rec;
	char id[GG_SHA256_HEX + 1];
	if (k->mv_size != GG_SHA256_HEX || dec_blob(v, &rec) != GG_OK)
		return GG_ECORRUPT;
	memcpy(id, k->mv_data, GG_SHA256_HEX);
	id[GG_SHA256_HEX] = '\0';
	return s->cb(s->ctx, id, &rec);
}

int
index_blob_foreach(struct index_txn *t,
		   int (*cb)(void *ctx, const char *sha256, const struct index_blob *rec),
		   void *ctx)
{
	struct blob_scan s = { cb, ctx };
	return db_scan(t, t->idx->blobs, "", 0, NULL, 0, 0, blob_scan_fn, &s);
}

/* --- meta ----------------------------------------------------------------- */

static int
meta_key(char *buf, size_t *len, enum repo_type type, const char *repo, const char *key)
{
	char hashed[GG_SHA256_HEX + 1];
	if (strlen(key) > GG_MAX_REPO_PATH_LEN) {
		unsigned char md[32];
		unsigned int ml;
		EVP_Digest(key, strlen(key), md, &ml, EVP_sha256(), NULL);
		hex_encode(md, 32, hashed);
		key = hashed;
	}
	return key_make(buf, len, type, repo, "meta", key, 0);
}

int
index_meta_get(struct index_txn *t, enum repo_type type, const char *repo, const char *key,
	       struct index_meta *out)
{
	char k[KEY_MAX + 80];
	size_t kl, dl;
	MDB_val v;
	struct rd r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = meta_key(k, &kl, type, repo, key)) != GG_OK)
		return rc;
	if ((rc = db_get(t, t->idx->meta, k, kl, &v)) != GG_OK)
		return rc;
	if (rd_begin(&r, &v) != GG_OK)
		return GG_ECORRUPT;
	out->fetched_at = get_uint(&r, 8);
	out->status = (unsigned)get_uint(&r, 2);
	get_str16(&r, out->aux, sizeof(out->aux));
	dl = (size_t)get_uint(&r, 4);
	if (r.bad || r.n - r.off < dl)
		return GG_ECORRUPT;
	out->data = xmalloc(dl + 1);
	memcpy(out->data, r.p + r.off, dl);
	((char *)out->data)[dl] = '\0';
	out->len = dl;
	return GG_OK;
}

int
index_meta_put(struct index_txn *t, enum repo_type type, const char *repo, const char *key,
	       const struct index_meta *rec)
{
	char k[KEY_MAX + 80];
	size_t kl, cap;
	struct wr w;
	int rc;

	if (rec->len > UINT32_MAX)
		return GG_ETOOBIG;
	if ((rc = meta_key(k, &kl, type, repo, key)) != GG_OK)
		return rc;
	cap = 1 + 8 + 2 + 2 + strlen(rec->aux) + 4 + rec->len;
	w.p = xmalloc(cap);
	w.n = 0;
	w.cap = cap;
	put_uint(&w, REC_V1, 1);
	put_uint(&w, rec->fetched_at, 8);
	put_uint(&w, rec->status, 2);
	put_str16(&w, rec->aux);
	put_uint(&w, rec->len, 4);
	put_bytes(&w, rec->data, rec->len);
	rc = db_put(t, t->idx->meta, k, kl, w.p, w.n);
	free(w.p);
	return rc;
}

/* --- tokens --------------------------------------------------------------- */

static int
dec_token(const MDB_val *v, struct index_token *out)
{
	struct rd r;
	if (rd_begin(&r, v) != GG_OK)
		return GG_ECORRUPT;
	out->scope = (unsigned)get_uint(&r, 1);
	out->created_at = get_uint(&r, 8);
	out->revoked = (int)get_uint(&r, 1);
	if (r.bad || r.n - r.off < 32)
		return GG_ECORRUPT;
	memcpy(out->hash, r.p + r.off, 32);
	r.off += 32;
	out->bounds[0] = '\0';
	if (r.n - r.off >= 2) {
		size_t bl = (size_t)get_uint(&r, 2);
		if (r.bad || bl > GG_MAX_TOKEN_BOUNDS || r.n - r.off < bl)
			return GG_ECORRUPT;
		memcpy(out->bounds, r.p + r.off, bl);
		out->bounds[bl] = '\0';
	}
	return GG_OK;
}

static int
token_name_ok(const char *name)
{
	size_t n = strlen(name);
	return n > 0 && n <= GG_MAX_TOKEN_NAME;
}

int
index_token_get(struct index_txn *t, const char *name, struct index_token *out)
{
	MDB_val v;
	int r;
	if (!token_name_ok(name))
		return GG_EINVAL;
	if ((r = db_get(t, t->idx->tokens, name, strlen(name), &v)) != GG_OK)
		return r;
	return dec_token(&v, out);
}

int
index_token_put(struct index_txn *t, const char *name, const struct index_token *rec)
{
	unsigned char val[64 + GG_MAX_TOKEN_BOUNDS];
	struct wr w = { val, 0, sizeof(val) };
	size_t bl = strlen(rec->bounds);
	if (!token_name_ok(name) || bl > GG_MAX_TOKEN_BOUNDS)
		return GG_EINVAL;
	put_uint(&w, REC_V1, 1);
	put_uint(&w, rec->scope, 1);
	put_uint(&w, rec->created_at, 8);
	put_uint(&w, rec->revoked ? 1 : 0, 1);
	put_bytes(&w, rec->hash, 32);
	if (bl > 0) {
		put_uint(&w, bl, 2);
		put_bytes(&w, rec->bounds, bl);
	}
	return db_put(t, t->idx->tokens, name, strlen(name), val, w.n);
}

struct token_scan {
	int (*cb)(void *ctx, const char *name, const struct index_token *rec);
	void *ctx;
};

static int
token_scan_fn(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct token_scan *s = ctx;
	struct index_token rec;
	char name[GG_MAX_TOKEN_NAME + 1];
	if (k->mv_size == 0 || k->mv_size > GG_MAX_TOKEN_NAME || dec_token(v, &rec) != GG_OK)
		return GG_ECORRUPT;
	memcpy(name, k->mv_data, k->mv_size);
	name[k->mv_size] = '\0';
	return s->cb(s->ctx, name, &rec);
}

int
index_token_foreach(struct index_txn *t,
		    int (*cb)(void *ctx, const char *name, const struct index_token *rec),
		    void *ctx)
{
	struct token_scan s = { cb, ctx };
	return db_scan(t, t->idx->tokens, "", 0, NULL, 0, 0, token_scan_fn, &s);
}

/* --- uploads -------------------------------------------------------------- */

static void
id_key(uint64_t id, unsigned char k[8])
{
	for (int i = 0; i < 8; i++)
		k[i] = (unsigned char)(id >> (56 - 8 * i));
}

static int
dec_upload(const MDB_val *v, struct index_upload *out, int copy)
{
	struct rd r;
	size_t dl;
	if (rd_begin(&r, v) != GG_OK)
		return GG_ECORRUPT;
	out->state = (unsigned)get_uint(&r, 1);
	out->attempts = (unsigned)get_uint(&r, 2);
	out->created_at = get_uint(&r, 8);
	out->updated_at = get_uint(&r, 8);
	dl = (size_t)get_uint(&r, 4);
	if (r.bad || r.n - r.off < dl)
		return GG_ECORRUPT;
	if (copy) {
		out->data = xmalloc(dl + 1);
		memcpy(out->data, r.p + r.off, dl);
		((char *)out->data)[dl] = '\0';
	} else {
		out->data = (void *)(r.p + r.off);
	}
	out->len = dl;
	return GG_OK;
}

int
index_upload_get(struct index_txn *t, uint64_t id, struct index_upload *out)
{
	unsigned char k[8];
	MDB_val v;
	int r;
	id_key(id, k);
	if ((r = db_get(t, t->idx->uploads, k, 8, &v)) != GG_OK)
		return r;
	return dec_upload(&v, out, 1);
}

int
index_upload_put(struct index_txn *t, uint64_t id, const struct index_upload *rec)
{
	unsigned char k[8];
	struct wr w;
	int r;
	if (rec->len > UINT32_MAX)
		return GG_ETOOBIG;
	id_key(id, k);
	w.cap = 1 + 1 + 2 + 8 + 8 + 4 + rec->len;
	w.p = xmalloc(w.cap);
	w.n = 0;
	put_uint(&w, REC_V1, 1);
	put_uint(&w, rec->state, 1);
	put_uint(&w, rec->attempts, 2);
	put_uint(&w, rec->created_at, 8);
	put_uint(&w, rec->updated_at, 8);
	put_uint(&w, rec->len, 4);
	put_bytes(&w, rec->data, rec->len);
	r = db_put(t, t->idx->uploads, k, 8, w.p, w.n);
	free(w.p);
	return r;
}

struct upload_scan {
	int (*cb)(void *ctx, uint64_t id, const struct index_upload *rec);
	void *ctx;
	uint64_t last;
};

static int
upload_scan_fn(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct upload_scan *s = ctx;
	struct index_upload rec;
	const unsigned char *kb = k->mv_data;
	uint64_t id = 0;
	if (k->mv_size != 8 || dec_upload(v, &rec, 0) != GG_OK)
		return GG_ECORRUPT;
	for (int i = 0; i < 8; i++)
		id = id << 8 | kb[i];
	s->last = id;
	return s->cb ? s->cb(s->ctx, id, &rec) : 0;
}

int
index_upload_foreach(struct index_txn *t,
		     int (*cb)(void *ctx, uint64_t id, const struct index_upload *rec), void *ctx)
{
	struct upload_scan s = { cb, ctx, 0 };
	return db_scan(t, t->idx->uploads, "", 0, NULL, 0, 0, upload_scan_fn, &s);
}

int
index_upload_last_id(struct index_txn *t, uint64_t *id)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc;

	*id = 0;
	if ((rc = mdb_cursor_open(t->txn, t->idx->uploads, &cur)) != 0)
		return db_err("mdb_cursor_open()", rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == 8) {
		const unsigned char *kb = k.mv_data;
		for (int i = 0; i < 8; i++)
			*id = *id << 8 | kb[i];
	}
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? GG_OK : db_err("mdb_cursor_get()", rc);
}

/* --- audit -------------------------------------------------------------------- */

int
index_audit_append(struct index_txn *t, uint64_t time, const char *data, size_t len, uint64_t *seq)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	unsigned char kb[8];
	uint64_t last = 0;
	struct wr w;
	int rc, r;

	if (len > UINT32_MAX)
		return GG_ETOOBIG;
	if ((rc = mdb_cursor_open(t->txn, t->idx->audit, &cur)) != 0)
		return db_err("mdb_cursor_open()", rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == 8)
		for (int i = 0; i < 8; i++)
			last = last << 8 | ((const unsigned char *)k.mv_data)[i];
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return db_err("mdb_cursor_get()", rc);
	*seq = last + 1;
	id_key(*seq, kb);
	w.cap = 1 + 8 + 4 + len;
	w.p = xmalloc(w.cap);
	w.n = 0;
	put_uint(&w, REC_V1, 1);
	put_uint(&w, time, 8);
	put_uint(&w, len, 4);
	put_bytes(&w, data, len);
	r = db_put(t, t->idx->audit, kb, 8, w.p, w.n);
	free(w.p);
	return r;
}

struct audit_scan {
	int (*cb)(void *ctx, uint64_t seq, uint64_t time, const char *data, size_t len);
	void *ctx;
	uint64_t after;
};

static int
audit_scan_fn(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct audit_scan *s = ctx;
	const unsigned char *kb = k->mv_data;
	uint64_t seq = 0, time;
	struct rd r;
	size_t dl;

	if (k->mv_size != 8 || rd_begin(&r, v) != GG_OK)
		return GG_ECORRUPT;
	for (int i = 0; i < 8; i++)
		seq = seq << 8 | kb[i];
	time = get_uint(&r, 8);
	dl = (size_t)get_uint(&r, 4);
	if (r.bad || r.n - r.off < dl)
		return GG_ECORRUPT;
	if (seq <= s->after)
		return 0;
	return s->cb(s->ctx, seq, time, (const char *)(r.p + r.off), dl);
}

int
index_audit_foreach(struct index_txn *t, uint64_t after,
		    int (*cb)(void *ctx, uint64_t seq, uint64_t time, const char *data, size_t len),
		    void *ctx)
{
	struct audit_scan s = { cb, ctx, after };
	return db_scan(t, t->idx->audit, "", 0, NULL, 0, 0, audit_scan_fn, &s);
}

/* --- info ------------------------------------------------------------------- */

int
index_info_get(struct index_txn *t, const char *key, void *buf, size_t size, size_t *len)
{
	MDB_val v;
	int r;
	if ((r = db_get(t, t->idx->info, key, strlen(key), &v)) != GG_OK)
		return r;
	if (v.mv_size > size)
		return GG_ETOOBIG;
	memcpy(buf, v.mv_data, v.mv_size);
	*len = v.mv_size;
	return GG_OK;
}

int
index_info_put(struct index_txn *t, const char *key, const void *data, size_t len)
{
	if (strcmp(key, "format") == 0)
		return GG_EINVAL;
	return db_put(t, t->idx->info, key, strlen(key), data, len);
}
