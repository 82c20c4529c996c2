/*
 * flentry.c: the fast lane's entries (flentry.h).
 *
 * An entry per request target, recorded by the slow path (serve.c calls
 * flentry_record just before it queues an answer from the store, or from
 * a fetch of an LFS file it started): the repo, revision and path, the
 * index record the answer was built from (commit, blob, size, flags) and
 * the answer's header lines.  Entries are direct-mapped by the target's
 * hash (FL_SLOTS of them, a mutex each).  An entry answers (flentry_look)
 * only when:
 *   - the request asks it byte for byte (the target as received, GET or
 *     HEAD) with nothing that changes the answer (fastlane.c's
 *     parse_head) and one range at most (several, or an unsatisfiable
 *     one, go to the slow path);
 *   - the index is as the entry saw it: at the same generation, or, after
 *     any write, store_lookup_file gives the same record again (then the
 *     entry takes the new generation);
 *   - the revision is fresh by the slow path's own rule (a commit, a
 *     local registry, offline, or younger than --ref-ttl), and so is the
 *     repo's visibility record where one is needed; no SIGHUP came since
 *     (policy_gen) and reads need no token.  Past the TTL, the renewer
 *     (a thread) asks upstream what the slow path would and writes the
 *     answer to the index (then the entry is checked again: renewed, or
 *     dropped if its file changed); for up to FL_RENEW_MAX_US meanwhile
 *     the entry's answer is given (stale-while-revalidate), so that a
 *     client's keep-alive connections do not all leave the fast lane at
 *     every TTL; any trouble upstream, or a rate-limit budget in force,
 *     and the slow path answers with its own rules (a stored file with
 *     its Warning).
 *
 * Marks.  A request for a file (a resolve target) with no answer here
 * goes to the slow path, and the target's slot keeps a mark of it for
 * FL_PARK_MAX_US: the same request on other connections meanwhile waits
 * (flentry_park: parked, unread) for that answer rather than going there
 * too.  The mark ends when the slow path records the entry (the parked
 * requests take it: a crowd asking a cold file at once is one request to
 * the slow path and the rest joining its fetch in the fast lane), when
 * it queues any other answer (flentry_answered: they go to the slow path,
 * which answers each with its own rules), or when its time is up.  As
 * nginx's proxy_cache_lock, but woken by the answer instead of polling
 * for it, and for one second at most.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "app.h"
#include "flentry.h"
#include "http.h"
#include "log.h"
#include "route.h"
#include "store.h"
#include "upstream.h"
#include "util.h"
#include "visibility.h"

#define FL_SLOTS 512u            /* entries, direct-mapped by the target's hash */
#define FL_TARGET_MAX 1536       /* a longer target is not recorded */
#define FL_RENEW_MAX_US 5000000u /* a stale entry is served this long while renewed */
#define FL_RENEW_QUEUE 64
#define FL_PARK_MAX_US 1000000u /* the most a request waits for the slow path's first answer */

/* --- entries ---------------------------------------------------------------------- */

struct fl_entry {
	pthread_mutex_t mu;
	int used;
	size_t tlen;
	char target[FL_TARGET_MAX];
	enum repo_type type;
	char repo[GG_MAX_REPO_LEN + 1];
	char rev[GG_MAX_REV_LEN + 1];
	char path[GG_MAX_REPO_PATH_LEN + 1];
	int pinned;        /* rev is a commit */
	uint64_t ref_time; /* store_lookup's: when the ref was last set (0: ggufd's own) */
	/* What the answer was built from, and when that was checked. */
	char commit[GG_SHA1_HEX + 1];
	struct index_file file;
	uint64_t gen;        /* store_generation then */
	unsigned policy_gen; /* app->policy_gen then */
	uint64_t vis_until;  /* visibility_fresh_until */
	/* Past its TTL: being renewed by the renewer since renewing_us. */
	int renewing;
	uint64_t renewing_us;
	size_t block_len;
	char block[FLENTRY_BLOCK_MAX]; /* header lines but Date, Content-Range/-Length, Connection
					*/
	/* The mark of a request for a target with no entry, gone to the slow
	 * path (see park): the target's hash (0: none), until when later
	 * requests for it wait for that answer, and which mark it is. */
	uint64_t pend_hash;
	uint64_t pend_until_us;
	uint64_t pend_seq;
};

struct flentries {
	struct app *app;
	void (*wake)(void *arg); /* a mark ended */
	void *arg;
	struct fl_entry *slots;
	_Atomic uint64_t pend_seq; /* the last mark's */
	/* The renewer (renew_main): entries past their TTL, by slot. */
	pthread_t renewer;
	int renewer_started;
	_Atomic int stop;
	pthread_mutex_t rmu;
	pthread_cond_t rcv;
	unsigned rq[FL_RENEW_QUEUE];
	size_t rq_n;
};

/* The entries of the process, for flentry_record and flentry_answered
 * (serve.c and http.c have the request, not the server's insides). */
static _Atomic(struct flentries *) current;
/* The latest end of any mark: until then, the slow path's answers are
 * looked at (flentry_answered). */
static _Atomic uint64_t marks_until_us;

static uint64_t
hash_target(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

static struct fl_entry *
slot_of(struct flentries *es, const char *target, size_t n)
{
	return &es->slots[hash_target(target, n) & (FL_SLOTS - 1)];
}

/* A target's mark (struct fl_entry): its hash, never 0. */
static uint64_t
mark_of(const char *target, size_t n)
{
	uint64_t h = hash_target(target, n);
	return h ? h : 1;
}

/* Ends the mark of target (hash h) in e, if there is one; e->mu held.
 * 1: the parked connections must be woken (wake_parked, after the lock). */
static int
unmark(struct fl_entry *e, uint64_t h)
{
	if (e->pend_hash != h)
		return 0;
	e->pend_hash = 0;
	return 1;
}

static int
is_commit_rev(const char *s)
{
	return strlen(s) == GG_SHA1_HEX && is_lower_hex(s, GG_SHA1_HEX);
}

static int
same_file(const struct index_file *a, const struct index_file *b)
{
	return a->flags == b->flags && a->size == b->size && strcmp(a->sha256, b->sha256) == 0 &&
	       strcmp(a->oid, b->oid) == 0;
}

/*
 * The index's answer for the entry's file: 1 if it is the one the entry
 * was built from and still fresh by find_target's rule (resolve.c).
 */
/* Fresh by find_target's rule (resolve.c): a commit, a local registry,
 * offline (the store is all there is), a ref ggufd set itself, or one
 * younger than the TTL. */
static int
fresh(struct app *a, const struct fl_entry *e)
{
	return e->pinned || a->up == NULL || app_upstream(a) == NULL || e->ref_time == 0 ||
	       now_unix() - e->ref_time < a->ref_ttl;
}

/* After a write: 1 if the index still gives the record the entry was
 * built from (its ref_time taken anew: the ref may have been renewed). */
static int
still_true(struct app *a, struct fl_entry *e)
{
	struct store_lookup lk;

	if (store_lookup_file(a->st, e->type, e->repo, e->rev, e->path, &lk) != GG_OK ||
	    lk.rev_rc != GG_OK || lk.file_rc != GG_OK || strcmp(lk.commit, e->commit) != 0 ||
	    !same_file(&lk.file, &e->file))
		return 0;
	e->ref_time = lk.ref_time;
	e->vis_until = visibility_fresh_until(a, e->type, e->repo);
	return e->vis_until != 0;
}

/* --- recording (the slow path's threads) ---------------------------------- */

struct block_ctx {
	char *out;
	size_t len, cap;
	int over;
};

static enum MHD_Result
block_add(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct block_ctx *b = cls;
	size_t kl, vl;

	(void)kind;
	if (strcasecmp(key, "Content-Range") == 0 || strcasecmp(key, "Content-Length") == 0 ||
	    strcasecmp(key, "Date") == 0 || strcasecmp(key, "Connection") == 0 ||
	    strcasecmp(key, "Location") == 0)
		return MHD_YES;
	kl = strlen(key);
	vl = strlen(value);
	if (b->len + kl + vl + 4 > b->cap) {
		b->over = 1;
		return MHD_NO;
	}
	memcpy(b->out + b->len, key, kl);
	b->len += kl;
	memcpy(b->out + b->len, ": ", 2);
	b->len += 2;
	memcpy(b->out + b->len, value, vl);
	b->len += vl;
	memcpy(b->out + b->len, "\r\n", 2);
	b->len += 2;
	return MHD_YES;
}

/* 1 if the request's headers leave the answer as the fast lane gives it. */
static int
plain_request(struct req *r)
{
	static const char *const changers[] = { "Authorization",     "If-Range",
						"If-None-Match",     "If-Match",
						"If-Modified-Since", "If-Unmodified-Since",
						GG_PEER_HEADER };

	for (size_t i = 0; i < sizeof(changers) / sizeof(changers[0]); i++)
		if (http_header(r, changers[i]) != NULL)
			return 0;
	return 1;
}

int
flentry_record(struct req *r, struct MHD_Response *resp, uint64_t size)
{
	struct flentries *es = atomic_load(&current);
	struct app *a = r->app;
	struct store_lookup lk;
	struct block_ctx b;
	struct fl_entry *e;
	char block[FLENTRY_BLOCK_MAX];
	size_t tlen;
	uint64_t gen, vis, mark;
	unsigned pgen;
	int woke, lfs;

	if (es == NULL || r->route.kind != ROUTE_RESOLVE || r->query != NULL ||
	    r->held_blob[0] == '\0' || r->scope != 0 || a->require_read_token || !plain_request(r))
		return 0;
	tlen = (size_t)(r->path_end - r->raw_uri);
	if (tlen == 0 || tlen >= FL_TARGET_MAX)
		return 0;
	/* The generation before the lookup: a write in between only makes
	 * the entry look older than it is (it is checked again). */
	pgen = atomic_load(&a->policy_gen);
	gen = store_generation(a->st);
	/* Kept already, and nothing changed since: a connection the slow
	 * path serves asks the same again and again; record it once. */
	e = slot_of(es, r->raw_uri, tlen);
	mark = mark_of(r->raw_uri, tlen);
	pthread_mutex_lock(&e->mu);
	if (e->used && e->tlen == tlen && memcmp(e->target, r->raw_uri, tlen) == 0 &&
	    e->gen == gen && e->policy_gen == pgen && !e->renewing && fresh(a, e) &&
	    e->vis_until > now_unix()) {
		woke = unmark(e, mark);
		lfs = (e->file.flags & INDEX_FILE_LFS) != 0;
		pthread_mutex_unlock(&e->mu);
		if (woke)
			es->wake(es->arg);
		return lfs;
	}
	pthread_mutex_unlock(&e->mu);
	vis = visibility_fresh_until(a, r->route.type, r->route.repo);
	if (vis <= now_unix())
		return 0;
	if (store_lookup_file(a->st, r->route.type, r->route.repo, r->route.rev, r->route.path,
			      &lk) != GG_OK ||
	    lk.rev_rc != GG_OK || lk.file_rc != GG_OK || lk.file.size != size ||
	    strcmp(lk.file.sha256, r->held_blob) != 0)
		return 0;
	{
		const char *commit = MHD_get_response_header(resp, "X-Repo-Commit");
		const char *etag = MHD_get_response_header(resp, "ETag");
		/* The answer is this record's: its commit, its ETag (the LFS
		 * sha256, or a regular file's git oid), not stale. */
		const char *h = (lk.file.flags & INDEX_FILE_LFS) ? lk.file.sha256 : lk.file.oid;
		size_t hl = strlen(h);
		if (commit == NULL || strcmp(commit, lk.commit) != 0 || etag == NULL ||
		    strlen(etag) != hl + 2 || etag[0] != '"' || strncmp(etag + 1, h, hl) != 0 ||
		    etag[hl + 1] != '"' || MHD_get_response_header(resp, "Warning") != NULL)
			return 0;
	}
	b.out = block;
	b.len = 0;
	b.cap = sizeof(block);
	b.over = 0;
	MHD_get_response_headers(resp, block_add, &b);
	{
		const char *common = http_common_headers_text();
		size_t cl = strlen(common);
		if (b.over || b.len + cl > b.cap)
			return 0;
		memcpy(block + b.len, common, cl);
		b.len += cl;
	}
	pthread_mutex_lock(&e->mu);
	e->used = 1;
	e->tlen = tlen;
	memcpy(e->target, r->raw_uri, tlen);
	e->type = r->route.type;
	snprintf(e->repo, sizeof(e->repo), "%s", r->route.repo);
	snprintf(e->rev, sizeof(e->rev), "%s", r->route.rev);
	snprintf(e->path, sizeof(e->path), "%s", r->route.path);
	e->pinned = is_commit_rev(r->route.rev);
	e->ref_time = lk.ref_time;
	memcpy(e->commit, lk.commit, sizeof(e->commit));
	e->file = lk.file;
	e->gen = gen;
	e->policy_gen = pgen;
	e->vis_until = vis;
	memcpy(e->block, block, b.len);
	e->block_len = b.len;
	/* Requests parked behind this answer (park) take the entry now. */
	woke = unmark(e, mark);
	pthread_mutex_unlock(&e->mu);
	if (woke)
		es->wake(es->arg);
	return (lk.file.flags & INDEX_FILE_LFS) != 0;
}

void
flentry_answered(struct req *r)
{
	struct flentries *es;
	struct fl_entry *e;
	uint64_t mark;
	size_t tlen;
	int woke;

	if (atomic_load(&marks_until_us) <= now_us() || (es = atomic_load(&current)) == NULL ||
	    r->raw_uri == NULL || r->path_end == NULL)
		return;
	tlen = (size_t)(r->path_end - r->raw_uri);
	mark = mark_of(r->raw_uri, tlen);
	e = slot_of(es, r->raw_uri, tlen);
	pthread_mutex_lock(&e->mu);
	woke = unmark(e, mark);
	pthread_mutex_unlock(&e->mu);
	if (woke)
		es->wake(es->arg);
}

/* --- renewing entries past their TTL ---------------------------------------- */

/* Queues slot k for the renewer; 0 if the queue is full. */
static int
renew_queue(struct flentries *es, unsigned k)
{
	int ok = 0;

	pthread_mutex_lock(&es->rmu);
	if (es->rq_n < FL_RENEW_QUEUE) {
		es->rq[es->rq_n++] = k;
		pthread_cond_signal(&es->rcv);
		ok = 1;
	}
	pthread_mutex_unlock(&es->rmu);
	return ok;
}

/*
 * One entry past its TTL, asked upstream as find_target (resolve.c) and
 * visibility_admit (visibility.c) would: the ref by its name (the answer
 * recorded with store_set_ref, the same rule), the repo's visibility
 * anonymously.  What comes back lands in the index, a write: the fast
 * lane checks the entry again (still_true) and finds it renewed, or its
 * file changed.  Anything else (no answer, an error, not public any
 * more) drops the entry: the slow path answers then, with its rules for
 * an upstream that is down or rate-limits.
 */
static void
renew_one(struct flentries *es, struct fl_entry *e)
{
	struct app *a = es->app;
	struct upstream *up = app_upstream(a);
	struct upstream_resp ur;
	enum repo_type type;
	char repo[GG_MAX_REPO_LEN + 1], rev[GG_MAX_REV_LEN + 1], path[GG_MAX_REPO_PATH_LEN + 1];
	int used, ref_stale, vis_stale, ok = 1;

	pthread_mutex_lock(&e->mu);
	used = e->used;
	type = e->type;
	memcpy(repo, e->repo, sizeof(repo));
	memcpy(rev, e->rev, sizeof(rev));
	memcpy(path, e->path, sizeof(path));
	ref_stale = !fresh(a, e);
	vis_stale = e->vis_until <= now_unix();
	pthread_mutex_unlock(&e->mu);
	if (!used)
		return;
	if (up == NULL) {
		ok = 0;
	} else {
		if (ref_stale) {
			memset(&ur, 0, sizeof(ur));
			ok = upstream_head_file(up, route_type_prefix(type), repo, rev, path,
						&ur) == GG_OK &&
			     ur.repo_commit[0] != '\0' && strcmp(rev, "HEAD") != 0 &&
			     ur.status < 400 &&
			     store_set_ref(a->st, type, repo, rev, ur.repo_commit) == GG_OK;
		}
		if (ok && vis_stale)
			ok = visibility_renew(a, type, repo) == GG_OK;
	}
	pthread_mutex_lock(&e->mu);
	e->renewing = 0;
	if (!ok)
		e->used = 0;
	pthread_mutex_unlock(&e->mu);
}

static void *
renew_main(void *arg)
{
	struct flentries *es = arg;

	pthread_mutex_lock(&es->rmu);
	while (!atomic_load(&es->stop)) {
		unsigned k;
		if (es->rq_n == 0) {
			pthread_cond_wait(&es->rcv, &es->rmu);
			continue;
		}
		k = es->rq[0];
		memmove(es->rq, es->rq + 1, --es->rq_n * sizeof(es->rq[0]));
		pthread_mutex_unlock(&es->rmu);
		renew_one(es, &es->slots[k]);
		pthread_mutex_lock(&es->rmu);
	}
	pthread_mutex_unlock(&es->rmu);
	return NULL;
}

/* --- answering ------------------------------------------------------------------- */

/* The HTTP date of now, kept per thread for the second it is in. */
static size_t
http_date(char *out)
{
	static _Thread_local time_t last;
	static _Thread_local char text[40];
	static _Thread_local size_t len;
	time_t now = time(NULL);

	if (now != last) {
		struct tm tm;
		gmtime_r(&now, &tm);
		len = strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		last = now;
	}
	memcpy(out, text, len);
	return len;
}

/*
 * The head of e's answer to a request for [first, last] (partial) at out:
 *
 *   HTTP/1.1 206 Partial Content\r\n        or HTTP/1.1 200 OK\r\n
 *   Date: <now>\r\n
 *   Content-Range: bytes FIRST-LAST/SIZE\r\n (206 only)
 *   <the recorded lines>
 *
 * (the caller adds Content-Length, Connection and the blank line).
 * Its length.
 */
static size_t
write_head(const struct fl_entry *e, int partial, uint64_t first, uint64_t last, char *out)
{
	static const char s206[] = "HTTP/1.1 206 Partial Content\r\nDate: ";
	static const char s200[] = "HTTP/1.1 200 OK\r\nDate: ";
	static const char cr[] = "\r\nContent-Range: bytes ";
	size_t o;

	if (partial) {
		memcpy(out, s206, sizeof(s206) - 1);
		o = sizeof(s206) - 1;
	} else {
		memcpy(out, s200, sizeof(s200) - 1);
		o = sizeof(s200) - 1;
	}
	o += http_date(out + o);
	if (partial) {
		memcpy(out + o, cr, sizeof(cr) - 1);
		o += sizeof(cr) - 1;
		o += fmt_u64(out + o, first);
		out[o++] = '-';
		o += fmt_u64(out + o, last);
		out[o++] = '/';
		o += fmt_u64(out + o, e->file.size);
	}
	out[o++] = '\r';
	out[o++] = '\n';
	memcpy(out + o, e->block, e->block_len);
	return o + e->block_len;
}

enum flentry_look
flentry_look(struct flentries *es, const char *target, size_t tlen, const char *range,
	     size_t range_len, struct flentry_answer *ans, char *out, size_t *olen)
{
	struct app *a = es->app;
	struct fl_entry *e = slot_of(es, target, tlen);
	struct byte_range rs[GG_MAX_RANGES];
	size_t nr = 0;
	uint64_t now_gen;

	if (a->require_read_token)
		return FLENTRY_SLOW;
	pthread_mutex_lock(&e->mu);
	if (!e->used || e->tlen != tlen || memcmp(e->target, target, tlen) != 0 ||
	    e->policy_gen != atomic_load(&a->policy_gen))
		goto none;
	now_gen = store_generation(a->st);
	if (e->gen != now_gen) {
		/* A write since: the same record again, or the slow path. */
		if (!still_true(a, e)) {
			e->used = 0;
			goto none;
		}
		e->gen = now_gen;
	}
	if (!fresh(a, e) || e->vis_until <= now_unix()) {
		/* Past the TTL: the renewer asks upstream what the slow path
		 * would (renew_main), and meanwhile, for up to FL_RENEW_MAX_US,
		 * the entry's answer is given (stale-while-revalidate);
		 * otherwise the request goes to the slow path, which asks
		 * itself.  While upstream rate-limits us, the slow path's
		 * answer (the stored file, with its Warning) is the one. */
		uint64_t now = now_us();
		if (app_upstream(a) != NULL && upstream_wait(app_upstream(a), 0) > 0)
			goto slow;
		if (!e->renewing) {
			if (!renew_queue(es, (unsigned)(e - es->slots)))
				goto slow;
			e->renewing = 1;
			e->renewing_us = now;
		} else if (now - e->renewing_us >= FL_RENEW_MAX_US) {
			goto slow;
		}
	}
	/* range_parse with serve_file's cap: more ranges than that is the
	 * whole entity there, and must be here too. */
	ans->o = range_parse(range, range ? range + range_len : NULL, e->file.size, rs,
			     GG_MAX_RANGES, &nr);
	if (ans->o == RANGE_UNSATISFIABLE || (ans->o == RANGE_PARTIAL && nr != 1))
		goto slow;
	ans->first = ans->o == RANGE_PARTIAL ? rs[0].first : 0;
	ans->last = ans->o == RANGE_PARTIAL ? rs[0].last : 0;
	ans->size = e->file.size;
	ans->lfs = (e->file.flags & INDEX_FILE_LFS) != 0;
	memcpy(ans->blob, e->file.sha256, sizeof(ans->blob));
	*olen = write_head(e, ans->o == RANGE_PARTIAL, ans->first, ans->last, out);
	pthread_mutex_unlock(&e->mu);
	return FLENTRY_ANSWER;
none:
	pthread_mutex_unlock(&e->mu);
	return FLENTRY_NONE;
slow:
	pthread_mutex_unlock(&e->mu);
	return FLENTRY_SLOW;
}

int
flentry_park(struct flentries *es, const char *target, size_t tlen, uint64_t *seq,
	     uint64_t *until_us)
{
	struct fl_entry *e = slot_of(es, target, tlen);
	uint64_t mark = mark_of(target, tlen), now = now_us(), until;
	int park = 0;

	pthread_mutex_lock(&e->mu);
	if (e->pend_hash == mark && now < e->pend_until_us) {
		/* Parked before on a mark that ended: this is another's. */
		if (*seq == 0 || *seq == e->pend_seq) {
			*seq = e->pend_seq;
			*until_us = e->pend_until_us;
			park = 1;
		}
	} else if (*seq == 0 && memmem(target, tlen, "/resolve/", 9) != NULL) {
		/* Only a file (resolve) can get an entry: the same API
		 * request from many at once would only wait for nothing. */
		e->pend_hash = mark;
		e->pend_seq = atomic_fetch_add(&es->pend_seq, 1) + 1;
		e->pend_until_us = until = now + FL_PARK_MAX_US;
		for (uint64_t m = atomic_load(&marks_until_us);
		     m < until && !atomic_compare_exchange_weak(&marks_until_us, &m, until);)
			;
	}
	pthread_mutex_unlock(&e->mu);
	return park;
}

/* --- the set ----------------------------------------------------------------------- */

int
flentry_new(struct app *app, void (*wake)(void *arg), void *arg, struct flentries **out)
{
	struct flentries *es = xcalloc(1, sizeof(*es));

	es->app = app;
	es->wake = wake;
	es->arg = arg;
	pthread_mutex_init(&es->rmu, NULL);
	pthread_cond_init(&es->rcv, NULL);
	es->slots = xcalloc(FL_SLOTS, sizeof(*es->slots));
	for (unsigned i = 0; i < FL_SLOTS; i++)
		pthread_mutex_init(&es->slots[i].mu, NULL);
	if (pthread_create(&es->renewer, NULL, renew_main, es) != 0) {
		log_warn("cannot start the fast lane's renewer");
		flentry_free(es);
		return GG_EIO;
	}
	es->renewer_started = 1;
	atomic_store(&current, es);
	*out = es;
	return GG_OK;
}

void
flentry_stop(struct flentries *es)
{
	if (es == NULL || atomic_exchange(&es->stop, 1) || !es->renewer_started)
		return;
	/* It may be asking upstream: its answer ends that wait. */
	pthread_mutex_lock(&es->rmu);
	pthread_cond_signal(&es->rcv);
	pthread_mutex_unlock(&es->rmu);
	pthread_join(es->renewer, NULL);
}

void
flentry_free(struct flentries *es)
{
	if (es == NULL)
		return;
	flentry_stop(es);
	atomic_store(&current, NULL);
	for (unsigned i = 0; i < FL_SLOTS; i++)
		pthread_mutex_destroy(&es->slots[i].mu);
	pthread_mutex_destroy(&es->rmu);
	pthread_cond_destroy(&es->rcv);
	free(es->slots);
	free(es);
}
