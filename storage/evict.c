/*
 * evict.c: the store's byte budget (quota), blobs in use, hits, eviction
 * and pins by repo (store.h, "quota and eviction").
 *
 * In this process, one table keyed by blob name counts the readers of
 * each blob (store_blob_acquire .. store_unuse), its last use to the
 * microsecond and the hits not yet written to the index (store_touch;
 * store_flush_access writes them in one transaction, so a hit costs a
 * mutex and a hash lookup, not an LMDB write).  Entries stay for the
 * process's life (one per blob used), so the order of uses within one
 * second outlives the flush, which keeps whole seconds.  Eviction reads the index in one view (blob
 * records: size, refcount, last access, pin), adds the unwritten hits, and removes the least
 * recently used blobs that nothing protects until the new bytes fit:
 *   - pinned blobs, blobs a reader holds (in this process), staged blobs
 *     and blobs an upload job that is not done mentions are kept; with a
 *     blob store (tier.c), so are blobs not yet known to be stored there;
 *   - a blob that no file names goes with its record (record first, then
 *     the file: store_drop_unreferenced's crash-safe order);
 *   - a blob that files name goes as a whole, for every repo and revision
 *     that names it: its file is removed and the records stay, so the
 *     files are still listed and the next request fetches the bytes
 *     again.  A crash after the unlink leaves a known, absent blob,
 *     which is a state the store already has for files not fetched yet.
 * One eviction pass at a time (evict_mu); the reader table's lock
 * (use_mu) is held across each unlink, so a reader either holds the blob
 * before the pass looks (kept) or finds it gone (a miss, fetched again).
 */
#include "config.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "store_impl.h"
#include "util.h"

struct use_ent {
	char key[GG_SHA256_HEX + 1]; /* "" = empty slot */
	uint32_t uses;
	uint64_t last; /* last use in this process (unix microseconds), 0: none */
	uint64_t hits; /* hits not yet written */
	int pending;   /* a use not yet written (last, hits) */
};

struct use_table {
	struct use_ent *e;
	size_t cap, n; /* cap a power of two */
};

static uint64_t
key_hash(const char *k)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 1099511628211ULL;
	return h;
}

static struct use_ent *
slot(struct use_table *t, const char *key, int add)
{
	size_t i;

	if (add && (t->n + 1) * 4 > t->cap * 3) {
		struct use_table g = { xcalloc(t->cap ? 2 * t->cap : 64, sizeof(*g.e)),
				       t->cap ? 2 * t->cap : 64, 0 };
		for (size_t j = 0; j < t->cap; j++) {
			if (t->e[j].key[0] == '\0')
				continue;
			*slot(&g, t->e[j].key, 1) = t->e[j];
		}
		free(t->e);
		*t = g;
	}
	if (t->cap == 0)
		return NULL;
	for (i = key_hash(key) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		struct use_ent *e = &t->e[i];
		if (e->key[0] == '\0') {
			if (!add)
				return NULL;
			snprintf(e->key, sizeof(e->key), "%s", key);
			t->n++;
			return e;
		}
		if (strcmp(e->key, key) == 0)
			return e;
	}
}

void
store_evict_init(struct store *st)
{
	pthread_mutex_init(&st->evict_mu, NULL);
	pthread_mutex_init(&st->use_mu, NULL);
	st->uses = xcalloc(1, sizeof(*st->uses));
}

void
store_evict_fini(struct store *st)
{
	if (st->uses == NULL)
		return;
	free(st->uses->e);
	free(st->uses);
	st->uses = NULL;
	pthread_mutex_destroy(&st->use_mu);
	pthread_mutex_destroy(&st->evict_mu);
}

/* Wall-clock microseconds (records keep unix seconds; now_us is monotonic). */
static uint64_t
wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int
valid_key(const char *key)
{
	size_t n = key ? strlen(key) : 0;
	return n == GG_SHA256_HEX || n == GG_SHA1_HEX;
}

/* A use now; counted as a hit when hit is set. */
static void
touch(struct store *st, const char *key, int hit)
{
	struct use_ent *e;
	if (!valid_key(key))
		return;
	pthread_mutex_lock(&st->use_mu);
	if ((e = slot(st->uses, key, 1)) != NULL) {
		e->last = wall_us();
		e->hits += hit ? 1 : 0;
		e->pending = 1;
	}
	pthread_mutex_unlock(&st->use_mu);
}

void
store_touch(struct store *st, const char *key)
{
	touch(st, key, 1);
}

void
store_touch_new(struct store *st, const char *key)
{
	touch(st, key, 0);
}

void
store_use(struct store *st, const char *key)
{
	struct use_ent *e;
	if (!valid_key(key))
		return;
	pthread_mutex_lock(&st->use_mu);
	if ((e = slot(st->uses, key, 1)) != NULL)
		e->uses++;
	pthread_mutex_unlock(&st->use_mu);
}

void
store_unuse(struct store *st, const char *key)
{
	struct use_ent *e;
	if (!valid_key(key))
		return;
	pthread_mutex_lock(&st->use_mu);
	if ((e = slot(st->uses, key, 0)) != NULL && e->uses > 0)
		e->uses--;
	pthread_mutex_unlock(&st->use_mu);
}

static int
hit_open(struct store *st, const char *sha256, int *fd, uint64_t *size, struct blob_fd *b)
{
	struct use_ent *e;
	int r;

	if (!valid_key(sha256))
		return GG_EINVAL;
	/* Held and counted in one visit to the table (the hot path). */
	pthread_mutex_lock(&st->use_mu);
	if ((e = slot(st->uses, sha256, 1)) != NULL) {
		e->uses++;
		e->last = wall_us();
		e->hits++;
		e->pending = 1;
	}
	pthread_mutex_unlock(&st->use_mu);
	r = b != NULL ? blob_borrow(st->blobs, sha256, b)
		      : blob_open_cached(st->blobs, sha256, fd, size);
	if (r != GG_OK) { /* not a hit after all */
		pthread_mutex_lock(&st->use_mu);
		if ((e = slot(st->uses, sha256, 0)) != NULL) {
			e->uses -= e->uses > 0;
			e->hits -= e->hits > 0;
		}
		pthread_mutex_unlock(&st->use_mu);
	}
	return r;
}

int
store_blob_acquire(struct store *st, const char *sha256, int *fd, uint64_t *size)
{
	return hit_open(st, sha256, fd, size, NULL);
}

int
store_blob_borrow(struct store *st, const char *sha256, struct blob_fd *b)
{
	return hit_open(st, sha256, NULL, NULL, b);
}

void
store_blob_return(struct store *st, const char *sha256, struct blob_fd *b)
{
	blob_borrow_put(st->blobs, b);
	store_unuse(st, sha256);
}

/* The unwritten hits of the table, taken out of it.  Entries stay, with
 * their last use in microseconds: the index keeps whole seconds, and the
 * order of two uses within one second must survive a flush. */
static struct use_ent *
take_hits(struct store *st, size_t *n)
{
	struct use_ent *out;
	struct use_table *t;
	size_t k = 0;

	pthread_mutex_lock(&st->use_mu);
	t = st->uses;
	out = xcalloc(t->n + 1, sizeof(*out));
	for (size_t i = 0; i < t->cap; i++) {
		struct use_ent *e = &t->e[i];
		if (e->key[0] == '\0' || !e->pending)
			continue;
		out[k++] = *e;
		e->hits = 0;
		e->pending = 0;
	}
	pthread_mutex_unlock(&st->use_mu);
	*n = k;
	return out;
}

int
store_flush_access(struct store *st)
{
	struct index_txn *t = NULL;
	struct use_ent *h;
	size_t n;
	int r = GG_OK;

	h = take_hits(st, &n);
	if (n == 0) {
		free(h);
		return GG_OK;
	}
	if ((r = index_txn_begin(st->idx, 1, &t)) != GG_OK)
		goto done;
	for (size_t i = 0; i < n && r == GG_OK; i++) {
		struct index_blob b;
		int g = index_blob_get(t, h[i].key, &b);
		if (g == GG_ENOENT || g == GG_EINVAL)
			continue; /* dropped meanwhile, or a git-sha1 fetch key */
		if ((r = g) != GG_OK)
			break;
		if (h[i].last / 1000000 > b.last_access)
			b.last_access = h[i].last / 1000000;
		b.hits += h[i].hits;
		r = index_blob_put(t, h[i].key, &b);
	}
	if (r == GG_OK)
		r = index_txn_commit(t);
	else
		index_txn_abort(t);
	t = NULL;
done:
	if (r != GG_OK) /* put them back: a later flush writes them */
		for (size_t i = 0; i < n; i++) {
			struct use_ent *e;
			pthread_mutex_lock(&st->use_mu);
			if ((e = slot(st->uses, h[i].key, 1)) != NULL) {
				e->hits += h[i].hits;
				e->pending = 1;
				if (h[i].last > e->last)
					e->last = h[i].last;
			}
			pthread_mutex_unlock(&st->use_mu);
		}
	free(h);
	return r;
}

/* --- scanning ------------------------------------------------------------ */

struct cand {
	char sha256[GG_SHA256_HEX + 1];
	uint64_t size, last, hits; /* last: microseconds */
	uint32_t refcount;
};

struct scan {
	struct store *st;
	struct store_usage *u;
	struct cand *c;
	size_t n, cap;
	/* data of the upload jobs that are not done (they protect blobs) */
	char **jobs;
	size_t *job_len;
	size_t njobs;
};

static int
jobs_cb(void *ctx, uint64_t id, const struct index_upload *rec)
{
	struct scan *s = ctx;
	(void)id;
	if (rec->state == STORE_JOB_DONE || rec->data == NULL)
		return 0;
	s->jobs = xrealloc(s->jobs, (s->njobs + 1) * sizeof(*s->jobs));
	s->job_len = xrealloc(s->job_len, (s->njobs + 1) * sizeof(*s->job_len));
	s->jobs[s->njobs] = xmalloc(rec->len + 1);
	memcpy(s->jobs[s->njobs], rec->data, rec->len);
	s->job_len[s->njobs++] = rec->len;
	return 0;
}

static int
in_job(const struct scan *s, const char *sha256)
{
	for (size_t i = 0; i < s->njobs; i++)
		if (memmem(s->jobs[i], s->job_len[i], sha256, GG_SHA256_HEX) != NULL)
			return 1;
	return 0;
}

/* The hits not yet written for key: *last (0: none) and *hits. */
static void
pending_hits(struct store *st, const char *key, uint64_t *last, uint64_t *hits, uint32_t *uses)
{
	struct use_ent *e;
	*last = *hits = 0;
	*uses = 0;
	pthread_mutex_lock(&st->use_mu);
	if ((e = slot(st->uses, key, 0)) != NULL) {
		*last = e->last;
		*hits = e->hits;
		*uses = e->uses;
	}
	pthread_mutex_unlock(&st->use_mu);
}

void
store_blob_pending(struct store *st, const char *sha256, uint64_t *hits, uint64_t *last_access)
{
	uint64_t last;
	uint32_t uses;

	if (!valid_key(sha256)) {
		*hits = *last_access = 0;
		return;
	}
	pending_hits(st, sha256, &last, hits, &uses);
	*last_access = last / 1000000;
}

static int
scan_cb(void *ctx, const char *sha256, const struct index_blob *rec)
{
	struct scan *s = ctx;
	struct cand *c;
	uint64_t last, hits;
	uint32_t uses;

	if (!blob_exists(s->st->blobs, sha256))
		return 0;
	s->u->blobs++;
	s->u->used_bytes += rec->size;
	if (rec->pinned) {
		s->u->pinned_bytes += rec->size;
		return 0;
	}
	if (s->st->bucket_guard && !rec->in_bucket)
		return 0; /* its only copy until the blob store has it */
	pending_hits(s->st, sha256, &last, &hits, &uses);
	if (uses > 0 || store_staged(s->st, sha256) || in_job(s, sha256))
		return 0;
	s->u->evictable_bytes += rec->size;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->c = xrealloc(s->c, s->cap * sizeof(*s->c));
	}
	c = &s->c[s->n++];
	snprintf(c->sha256, sizeof(c->sha256), "%s", sha256);
	c->size = rec->size;
	c->last = last > rec->last_access * 1000000 ? last : rec->last_access * 1000000;
	c->hits = rec->hits + hits;
	c->refcount = rec->refcount;
	return 0;
}

static int
cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->last != y->last)
		return x->last < y->last ? -1 : 1;
	return strcmp(x->sha256, y->sha256);
}

static void
scan_free(struct scan *s)
{
	for (size_t i = 0; i < s->njobs; i++)
		free(s->jobs[i]);
	free(s->jobs);
	free(s->job_len);
	free(s->c);
}

/* One view: usage and the candidates in eviction order (LRU first). */
static int
scan(struct store *st, struct scan *s, struct store_usage *u)
{
	struct store_view v;
	int r;

	memset(s, 0, sizeof(*s));
	memset(u, 0, sizeof(*u));
	s->st = st;
	s->u = u;
	if ((r = store_view_begin(st, &v)) == GG_OK)
		r = index_upload_foreach(v.t, jobs_cb, s);
	if (r == GG_OK)
		r = index_blob_foreach(v.t, scan_cb, s);
	store_view_end(&v);
	if (r == GG_OK && s->n > 1)
		qsort(s->c, s->n, sizeof(*s->c), cand_cmp);
	pthread_mutex_lock(&st->use_mu);
	u->max_bytes = st->max_bytes;
	u->reserved_bytes = st->reserved;
	u->evictions = st->evictions;
	u->evicted_bytes = st->evicted_bytes;
	pthread_mutex_unlock(&st->use_mu);
	return r;
}

/* --- evicting -------------------------------------------------------------- */

static void
note_eviction(struct store *st, const struct cand *c)
{
	struct store_eviction *e;
	pthread_mutex_lock(&st->use_mu);
	e = &st->recent[st->recent_next];
	snprintf(e->sha256, sizeof(e->sha256), "%s", c->sha256);
	e->size = c->size;
	e->time = now_unix();
	e->last_access = c->last / 1000000;
	st->recent_next = (st->recent_next + 1) % STORE_RECENT_EVICTIONS;
	if (st->recent_n < STORE_RECENT_EVICTIONS)
		st->recent_n++;
	st->evictions++;
	st->evicted_bytes += c->size;
	pthread_mutex_unlock(&st->use_mu);
	log_info(
		"evicted blob %s (%llu bytes, last used %llu s ago, %u file(s) name it)", c->sha256,
		(unsigned long long)c->size,
		(unsigned long long)(e->time > c->last / 1000000 ? e->time - c->last / 1000000 : 0),
		c->refcount);
}

/*
 * Removes one candidate if it is still free to go: 0 (removed), GG_EEXIST
 * (protected now: kept), or an index error.
 */
static int
evict_one(struct store *st, const struct cand *c)
{
	struct store_view v;
	struct index_blob b;
	uint32_t uses;
	uint64_t last, hits;
	int r;

	if ((r = store_view_begin(st, &v)) == GG_OK)
		r = index_blob_get(v.t, c->sha256, &b);
	store_view_end(&v);
	if (r == GG_ENOENT)
		return GG_EEXIST; /* gone meanwhile: nothing freed by us */
	if (r != GG_OK)
		return r;
	if (b.pinned || (st->bucket_guard && !b.in_bucket))
		return GG_EEXIST;
	if (b.refcount == 0) {
		/* No file names it: the record goes too (gc's way). */
		pending_hits(st, c->sha256, &last, &hits, &uses);
		if (uses > 0)
			return GG_EEXIST;
		return store_drop_unreferenced(st, c->sha256);
	}
	pthread_mutex_lock(&st->use_mu);
	{
		struct use_ent *e = slot(st->uses, c->sha256, 0);
		uses = e ? e->uses : 0;
		if (uses == 0)
			r = blob_remove(st->blobs, c->sha256);
	}
	pthread_mutex_unlock(&st->use_mu);
	return uses > 0 ? GG_EEXIST : r;
}

/* With evict_mu held: removes LRU blobs until need more bytes fit. */
static int
make_room(struct store *st, uint64_t need)
{
	struct store_usage u;
	struct scan s;
	uint64_t max, budget;
	int r;

	pthread_mutex_lock(&st->use_mu);
	max = st->max_bytes;
	pthread_mutex_unlock(&st->use_mu);
	if (max == 0)
		return GG_OK;
	if (need > max)
		return GG_ENOSPC;
	if ((r = scan(st, &s, &u)) != GG_OK) {
		scan_free(&s);
		return r;
	}
	budget = max - need;
	for (size_t i = 0; r == GG_OK && u.used_bytes + u.reserved_bytes > budget && i < s.n; i++) {
		int e = evict_one(st, &s.c[i]);
		if (e == GG_OK) {
			note_eviction(st, &s.c[i]);
			u.used_bytes -= s.c[i].size < u.used_bytes ? s.c[i].size : u.used_bytes;
		} else if (e != GG_EEXIST && e != GG_ENOENT) {
			r = e;
		}
	}
	if (r == GG_OK && u.used_bytes + u.reserved_bytes > budget) {
		log_warnx("store quota %llu bytes: %llu stored, %llu being written, nothing more "
			  "can be evicted for %llu more",
			  (unsigned long long)max, (unsigned long long)u.used_bytes,
			  (unsigned long long)u.reserved_bytes, (unsigned long long)need);
		r = GG_ENOSPC;
	}
	scan_free(&s);
	return r;
}

void
store_set_quota(struct store *st, uint64_t max_bytes)
{
	pthread_mutex_lock(&st->use_mu);
	st->max_bytes = max_bytes;
	pthread_mutex_unlock(&st->use_mu);
}

int
store_reserve(struct store *st, uint64_t size)
{
	int r;
	pthread_mutex_lock(&st->evict_mu);
	r = make_room(st, size);
	if (r == GG_OK) {
		pthread_mutex_lock(&st->use_mu);
		st->reserved += size;
		pthread_mutex_unlock(&st->use_mu);
	}
	pthread_mutex_unlock(&st->evict_mu);
	return r;
}

void
store_unreserve(struct store *st, uint64_t size)
{
	pthread_mutex_lock(&st->use_mu);
	st->reserved -= size < st->reserved ? size : st->reserved;
	pthread_mutex_unlock(&st->use_mu);
}

int
store_enforce_quota(struct store *st)
{
	int r;
	pthread_mutex_lock(&st->evict_mu);
	r = make_room(st, 0);
	pthread_mutex_unlock(&st->evict_mu);
	return r;
}

int
store_usage(struct store *st, struct store_usage *u, struct store_evictee *next, size_t max_next,
	    size_t *n_next)
{
	struct scan s;
	int r = scan(st, &s, u);
	size_t k = 0;

	for (size_t i = 0; r == GG_OK && i < s.n && k < max_next; i++, k++) {
		snprintf(next[k].sha256, sizeof(next[k].sha256), "%s", s.c[i].sha256);
		next[k].size = s.c[i].size;
		next[k].last_access = s.c[i].last / 1000000;
		next[k].hits = s.c[i].hits;
		next[k].refcount = s.c[i].refcount;
	}
	if (n_next != NULL)
		*n_next = k;
	scan_free(&s);
	return r;
}

size_t
store_recent_evictions(struct store *st, struct store_eviction *out, size_t max)
{
	size_t k = 0;
	pthread_mutex_lock(&st->use_mu);
	/* newest first */
	for (unsigned i = 0; i < st->recent_n && k < max; i++, k++) {
		unsigned j =
			(st->recent_next + STORE_RECENT_EVICTIONS - 1 - i) % STORE_RECENT_EVICTIONS;
		out[k] = st->recent[j];
	}
	pthread_mutex_unlock(&st->use_mu);
	return k;
}

int
store_fs_space(struct store *st, uint64_t *total, uint64_t *avail)
{
	struct statvfs sv;
	if (statvfs(st->root, &sv) != 0) {
		log_warn("statvfs(\"%s\") failed", st->root);
		return GG_EIO;
	}
	*total = (uint64_t)sv.f_blocks * sv.f_frsize;
	*avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	return GG_OK;
}

/* --- pins by repo ---------------------------------------------------------- */

struct pin_ctx {
	const char *const *globs;
	size_t nglobs;
	char (*sha)[GG_SHA256_HEX + 1];
	uint64_t *size;
	size_t n, cap;
};

static int
pin_file_cb(void *ctx, const char *path, const struct index_file *rec)
{
	struct pin_ctx *p = ctx;
	int match = p->nglobs == 0;
	for (size_t i = 0; !match && i < p->nglobs; i++)
		match = fnmatch(p->globs[i], path, 0) == 0;
	if (!match)
		return 0;
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 32;
		p->sha = xrealloc(p->sha, p->cap * sizeof(*p->sha));
		p->size = xrealloc(p->size, p->cap * sizeof(*p->size));
	}
	memcpy(p->sha[p->n], rec->sha256, GG_SHA256_HEX + 1);
	p->size[p->n++] = rec->size;
	return 0;
}

int
store_pin_files(struct store *st, enum repo_type type, const char *repo, const char *rev,
		const char *const *globs, size_t nglobs, int pinned, struct store_pin_report *rep)
{
	struct store_view v;
	struct pin_ctx p;
	int r, known = 0;

	memset(rep, 0, sizeof(*rep));
	memset(&p, 0, sizeof(p));
	p.globs = globs;
	p.nglobs = nglobs;
	if ((r = store_view_begin(st, &v)) == GG_OK)
		r = store_resolve_rev(&v, type, repo, rev, rep->commit, &known, NULL);
	if (r == GG_OK)
		r = index_file_foreach(v.t, type, repo, rep->commit, NULL, pin_file_cb, &p);
	store_view_end(&v);
	for (size_t i = 0; r == GG_OK && i < p.n; i++) {
		int d = 0;
		for (size_t j = 0; j < i && !d; j++) /* one blob, several paths */
			d = strcmp(p.sha[i], p.sha[j]) == 0;
		rep->files++;
		if (d)
			continue;
		if ((r = store_pin(st, p.sha[i], pinned)) == GG_OK) {
			rep->blobs++;
			rep->bytes += p.size[i];
		}
	}
	free(p.sha);
	free(p.size);
	return r;
}
