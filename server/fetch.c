/*
 * fetch.c: single-flight upstream fetches (see fetch.h).
 *
 * State, per fetch, behind its own mutex:
 *   landed   bytes written to the partial file; it only drops (to 0) when
 *            an upstream ignores our Range and the body restarts, and
 *            then before any byte below the old value is rewritten, so a
 *            reader never reads a byte that is not final (body_cb)
 *   state    RUNNING -> DONE | FAILED
 *   waiters  readers suspended until more lands
 *   q_head, q_tail  the staging slots handed to the hasher (below)
 * The table of fetches is a short list behind the fetcher's mutex; a
 * fetch leaves it when it ends, so the next request starts afresh.
 *
 * Lock order (a thread holding one lock may take only those below it):
 *   1. fetcher.mu
 *   2. fetch.mu
 *   3. libmicrohttpd's connection lock (daemon->cleanup_connection_mutex)
 * The sleep and wake callbacks run under fetch.mu; the HTTP layer's call
 * MHD_suspend_connection and MHD_resume_connection, which take (3), so
 * fetch.mu must never be taken while (3) is held.  libmicrohttpd keeps to
 * that: it calls a response's free callback (which reaches fetch_release
 * and so fetch.mu) only after dropping (3) and the response's own mutex
 * (MHD_cleanup_connections, MHD_destroy_response in 0.9.75).  It does call
 * the content reader (fetch_poll) with the response's mutex held, which
 * puts that mutex above fetch.mu; nothing here takes it.  The callbacks
 * never call back into this module.
 *
 * The bytes of a fetch go through GG_FETCH_STAGES staging slots of
 * GG_FETCH_STAGE bytes (libcurl hands them over 16 KiB at a time, the
 * most it passes to a write callback).  The fetch thread copies them into
 * the slot it fills, writes a full slot to the partial in one call,
 * publishes it (landed), and hands the slot to the fetch's hasher, which
 * hashes it from memory while the fetch thread fills the next: receiving
 * and writing on one thread, hashing on another, so a fetch goes at the
 * pace of the slower of the two rather than of their sum, and no byte is
 * read twice.  Slots [q_tail, q_head) wait for the hasher; the fetch
 * thread fills slot q_head and waits on hash_cv when every other slot
 * waits.  A slot is written before it is hashed and published before it
 * is full when GG_FETCH_FLUSH_MS passed (a slow upstream still streams),
 * for the fetch's first bytes (time to first byte), and at the end of
 * each transfer (a resume starts from what was written).  The blob is
 * verified once the hasher has emptied the queue and ended.
 *
 * fetcher.stopping is written under fetcher.mu but read by the fetch
 * threads for every body chunk without it, so it is atomic: taking
 * fetcher.mu per chunk would serialise every transfer on one lock.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blob.h"
#include "fetch.h"
#include "log.h"
#include "s3.h"
#include "stats.h"
#include "route.h"
#include "util.h"

#define WAKE_BYTES (2u * 1024u * 1024u)
#define WAKE_MS 50

enum fetch_state { FETCH_RUNNING, FETCH_DONE, FETCH_FAILED };

struct waiter {
	void (*wake)(void *arg);
	void *arg;
	struct waiter *next;
};

struct fetch {
	struct fetcher *fm;
	struct fetch_spec spec;
	struct blob_partial *part; /* owned by the fetch thread */
	char part_path[512];
	int rfd; /* read-only, opened before the thread starts: readers dup it,
		  * so the rename into blobs/ never pulls the file from them */
	pthread_mutex_t mu;
	int refs;
	enum fetch_state state;
	uint64_t landed;
	uint64_t woke_at_bytes;
	uint64_t woke_at_ms;
	struct waiter *waiters;
	/* Staging (see above): the slots are the fetch thread's to fill and
	 * the hasher's in [q_tail, q_head); the counters are under mu. */
	char *stage[GG_FETCH_STAGES];
	size_t stage_len[GG_FETCH_STAGES];
	size_t fill;             /* bytes in slot q_head (the fetch thread's) */
	uint64_t flushed_ms;     /* the last write of a slot; 0: none yet */
	unsigned q_head, q_tail; /* slots handed to the hasher, and hashed */
	pthread_cond_t hash_cv;  /* the hasher waits for a slot, the fetch thread for the hasher */
	pthread_t hasher;
	int hasher_run;    /* there is a hasher thread (the fetch thread's flag) */
	int hasher_idle;   /* the hasher waits for a slot: signal it */
	int hash_stop;     /* the hasher must end now */
	int writer_waits;  /* the fetch thread waits for the hasher */
	int reset_pending; /* this attempt's body restarts at 0 */
	int gen;           /* bumped when the partial restarts at 0 */
	int verified;      /* the hash matched: every byte may go out */
	long attempt_status;
	uint64_t reserved;  /* bytes reserved under the quota (store_reserve) */
	int write_err;      /* the partial could not be written (disk full): give up */
	struct fetch *next; /* in fm->list */
};

struct fetcher {
	struct store *st;
	struct upstream *up;
	struct s3 *s3; /* the blob store, asked before upstream; NULL: none */
	pthread_mutex_t mu;
	pthread_cond_t idle;
	struct fetch *list;
	unsigned threads;
	atomic_int stopping; /* set once, under mu; read anywhere */
};

int
fetcher_new(struct store *st, struct upstream *up, struct fetcher **out)
{
	struct fetcher *fm = xcalloc(1, sizeof(*fm));
	fm->st = st;
	fm->up = up;
	atomic_init(&fm->stopping, 0);
	pthread_mutex_init(&fm->mu, NULL);
	pthread_cond_init(&fm->idle, NULL);
	*out = fm;
	return GG_OK;
}

void
fetcher_set_blob_store(struct fetcher *fm, struct s3 *s3)
{
	fm->s3 = s3;
}

/* Wakes every waiter; f->mu held. */
static void
wake_all(struct fetch *f)
{
	struct waiter *w = f->waiters;
	f->waiters = NULL;
	while (w != NULL) {
		struct waiter *next = w->next;
		w->wake(w->arg);
		free(w);
		w = next;
	}
	f->woke_at_bytes = f->landed;
	f->woke_at_ms = now_ms();
}

/* Ends the fetch's reservation under the quota (the fetch thread, or
 * fetch_free when the thread never ran). */
static void
unreserve(struct fetch *f)
{
	if (f->reserved > 0)
		store_unreserve(f->fm->st, f->reserved);
	f->reserved = 0;
}

static void
fetch_free(struct fetch *f)
{
	if (f->rfd >= 0)
		close(f->rfd);
	unreserve(f);
	for (unsigned i = 0; i < GG_FETCH_STAGES; i++)
		free(f->stage[i]);
	pthread_cond_destroy(&f->hash_cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

int
fetch_open_reader(struct fetch *f)
{
	return fcntl(f->rfd, F_DUPFD_CLOEXEC, 0);
}

void
fetch_release(struct fetch *f)
{
	int last;
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	last = --f->refs == 0;
	pthread_mutex_unlock(&f->mu);
	if (last)
		fetch_free(f);
}

const char *
fetch_part_path(const struct fetch *f)
{
	return f->part_path;
}

enum fetch_avail
fetch_poll(struct fetch *f, int *gen, uint64_t pos, uint64_t end, uint64_t *upto,
	   void (*sleep)(void *arg), void (*wake)(void *arg), void *arg)
{
	enum fetch_avail a;
	uint64_t limit;

	pthread_mutex_lock(&f->mu);
	if (*gen < 0)
		*gen = f->gen;
	if (*gen != f->gen) {
		a = FETCH_GONE;
	} else if (f->state == FETCH_DONE || f->verified) {
		*upto = end;
		a = FETCH_AVAIL;
	} else if (f->state == FETCH_FAILED) {
		a = FETCH_GONE;
	} else {
		/* Hold back the last byte of the response until verified. */
		limit = f->landed < end - 1 ? f->landed : end - 1;
		if (limit > pos) {
			*upto = limit;
			a = FETCH_AVAIL;
		} else {
			struct waiter *w = xmalloc(sizeof(*w));
			w->wake = wake;
			w->arg = arg;
			w->next = f->waiters;
			f->waiters = w;
			sleep(arg);
			a = FETCH_WAIT;
		}
	}
	pthread_mutex_unlock(&f->mu);
	return a;
}

/* --- staging and the hasher --------------------------------------------------- */

static void *
hash_thread(void *arg)
{
	struct fetch *f = arg;

	pthread_mutex_lock(&f->mu);
	while (!f->hash_stop) {
		unsigned s;
		if (f->q_tail == f->q_head) {
			f->hasher_idle = 1;
			pthread_cond_wait(&f->hash_cv, &f->mu);
			f->hasher_idle = 0;
			continue;
		}
		s = f->q_tail % GG_FETCH_STAGES;
		pthread_mutex_unlock(&f->mu);
		blob_partial_hash_data(f->part, f->stage[s], f->stage_len[s]);
		pthread_mutex_lock(&f->mu);
		f->q_tail++;
		if (f->writer_waits)
			pthread_cond_signal(&f->hash_cv);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* The staging slots and the hasher; without a hasher (no thread to be
 * had) the fetch thread hashes each slot itself. */
static void
stage_start(struct fetch *f)
{
	int e;

	for (unsigned i = 0; i < GG_FETCH_STAGES; i++)
		f->stage[i] = xmalloc(GG_FETCH_STAGE);
	if ((e = pthread_create(&f->hasher, NULL, hash_thread, f)) != 0) {
		errno = e;
		log_warn("fetch %s: pthread_create() of its hasher failed: hashing inline",
			 f->spec.key);
		return;
	}
	f->hasher_run = 1;
}

/* Waits until the hasher has hashed every slot handed to it; f->mu held. */
static void
hasher_drain(struct fetch *f)
{
	f->writer_waits = 1;
	while (f->q_tail != f->q_head)
		pthread_cond_wait(&f->hash_cv, &f->mu);
	f->writer_waits = 0;
}

/*
 * Ends the hasher: with drain once it has hashed every slot (the download
 * is complete), without at once (the fetch gives up, and the partial's
 * hash no longer matters: a resume hashes the file again).  The partial
 * is the fetch thread's alone afterwards.
 */
static void
hasher_end(struct fetch *f, int drain)
{
	if (!f->hasher_run)
		return;
	pthread_mutex_lock(&f->mu);
	if (drain)
		hasher_drain(f);
	f->hash_stop = 1;
	pthread_cond_signal(&f->hash_cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->hasher, NULL);
	f->hasher_run = 0;
}

/*
 * Writes the slot being filled to the partial, publishes it to readers
 * and hands it to the hasher, then waits for a free slot to fill.  0, or
 * blob_partial_write's error.
 */
static int
stage_flush(struct fetch *f)
{
	unsigned s = f->q_head % GG_FETCH_STAGES;
	size_t n = f->fill;
	int r;

	if (n == 0)
		return GG_OK;
	f->fill = 0;
	if ((r = blob_partial_write(f->part, f->stage[s], n)) != GG_OK)
		return r;
	stats_fetch_bytes(n);
	f->flushed_ms = now_ms();
	if (!f->hasher_run)
		blob_partial_hash_data(f->part, f->stage[s], n);
	pthread_mutex_lock(&f->mu);
	f->landed = blob_partial_length(f->part);
	if (f->waiters != NULL &&
	    (f->landed - f->woke_at_bytes >= WAKE_BYTES ||
	     f->flushed_ms - f->woke_at_ms >= WAKE_MS || f->landed == f->spec.size))
		wake_all(f);
	if (f->hasher_run) {
		f->stage_len[s] = n;
		f->q_head++;
		if (f->hasher_idle)
			pthread_cond_signal(&f->hash_cv);
		f->writer_waits = 1;
		while (f->q_head - f->q_tail == GG_FETCH_STAGES)
			pthread_cond_wait(&f->hash_cv, &f->mu);
		f->writer_waits = 0;
	}
	pthread_mutex_unlock(&f->mu);
	return GG_OK;
}

/* --- the fetch thread ------------------------------------------------------- */

static int
body_cb(void *ctx, const void *data, size_t n, long status)
{
	struct fetch *f = ctx;
	uint64_t room;
	int r, overlong;

	if (atomic_load(&f->fm->stopping))
		return 1;
	if (f->reset_pending) {
		f->reset_pending = 0;
		if (status == 200 && blob_partial_length(f->part) > 0) {
			/* Upstream ignored our Range: the body restarts at byte 0.
			 * Readers only read below landed; set landed to 0 first. */
			/* Readers that read the old bytes are cut: nothing
			 * guarantees the new body equals the old one. */
			pthread_mutex_lock(&f->mu);
			f->landed = 0;
			f->gen++;
			wake_all(f);
			/* The hasher is idle once its queue is empty (nothing
			 * is staged at the start of a transfer). */
			hasher_drain(f);
			r = blob_partial_reset(f->part);
			pthread_mutex_unlock(&f->mu);
			log_warnx("upstream ignored Range for %s: restarting", f->spec.key);
			if (r != GG_OK)
				return 1;
		}
	}
	/* Never past the file's size: an upstream body longer than the size
	 * announced is cut there (the partial's writer would refuse the
	 * bytes anyway), and the hash decides about the bytes kept. */
	room = f->spec.size - blob_partial_length(f->part) - f->fill;
	overlong = n > room;
	if (overlong)
		n = (size_t)room;
	while (n > 0) {
		size_t c = GG_FETCH_STAGE - f->fill;
		if (c > n)
			c = n;
		memcpy(f->stage[f->q_head % GG_FETCH_STAGES] + f->fill, data, c);
		f->fill += c;
		data = (const char *)data + c;
		n -= c;
		if (f->fill < GG_FETCH_STAGE && f->flushed_ms != 0 &&
		    now_ms() - f->flushed_ms < GG_FETCH_FLUSH_MS)
			continue;
		if ((r = stage_flush(f)) != GG_OK) {
			log_warnx("fetch %s: writing the partial failed: %s", f->spec.key,
				  gg_strerror(r));
			f->write_err = r;
			return 1;
		}
	}
	if (overlong) {
		log_warnx("fetch %s: upstream sent more than the %llu bytes announced: the rest "
			  "is not kept",
			  f->spec.key, (unsigned long long)f->spec.size);
		return 1;
	}
	return 0;
}

static void
backoff(unsigned n)
{
	/* 0.25 s, 0.5 s, 1 s, 2 s, 4 s, 4 s ... */
	unsigned ms = 250u << (n < 4 ? n : 4);
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void
finish(struct fetch *f, int ok, const char *why)
{
	struct fetcher *fm = f->fm;
	struct fetch **pp;

	pthread_mutex_lock(&fm->mu);
	for (pp = &fm->list; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	}
	stats_fetch_ended(ok);
	pthread_mutex_lock(&f->mu);
	f->state = ok ? FETCH_DONE : FETCH_FAILED;
	wake_all(f);
	pthread_mutex_unlock(&f->mu);
	if (!ok)
		log_warnx("fetch of %s%s %s (%s) failed: %s", route_type_prefix(f->spec.type),
			  f->spec.repo, f->spec.path, f->spec.key, why);
	fm->threads--;
	pthread_cond_broadcast(&fm->idle);
	pthread_mutex_unlock(&fm->mu);
}

/*
 * Does the blob store hold the blob?  Only a sha256 key names an object
 * there (LFS files); the object must have the file's size.
 */
static int
in_blob_store(struct fetch *f)
{
	struct s3_result res;
	uint64_t size = 0;
	char why[400];
	int r;

	if (f->fm->s3 == NULL || !f->spec.lfs)
		return 0;
	if (s3_is_bad(f->spec.key)) {
		log_warnx("blob store: object %s did not hash to its name: asking upstream",
			  f->spec.key);
		return 0;
	}
	r = s3_head(f->fm->s3, f->spec.key, &size, &res);
	if (r == GG_OK && size == f->spec.size)
		return 1;
	if (r == GG_OK)
		log_warnx("blob store: object %s has %llu bytes, not %llu: asking upstream",
			  f->spec.key, (unsigned long long)size, (unsigned long long)f->spec.size);
	else if (r != GG_ENOENT)
		log_warnx("blob store: asking for %s failed (%s): asking upstream", f->spec.key,
			  s3_result_str(&res, why, sizeof(why)));
	return 0;
}

/* One GET from the blob store into the partial, from byte offset. */
static int
blob_store_fetch(struct fetch *f, uint64_t offset, struct upstream_resp *resp)
{
	struct s3_result res;
	char why[400];
	int r = s3_get(f->fm->s3, f->spec.key, offset, body_cb, f, &res);

	memset(resp, 0, sizeof(*resp));
	resp->status = res.status;
	if (r != GG_OK && blob_partial_length(f->part) < f->spec.size && f->write_err == 0 &&
	    !atomic_load(&f->fm->stopping))
		log_warnx("blob store: reading %s ended at %llu of %llu bytes: %s", f->spec.key,
			  (unsigned long long)blob_partial_length(f->part),
			  (unsigned long long)f->spec.size, s3_result_str(&res, why, sizeof(why)));
	return r;
}

static void *
fetch_thread(void *arg)
{
	struct fetch *f = arg;
	struct fetcher *fm = f->fm;
	struct upstream_resp resp;
	struct blob_digest d;
	unsigned stalls = 0;
	const char *prefix = route_type_prefix(f->spec.type);
	const char *why = "upstream unavailable";
	char rate_why[96];
	int r, from_store = in_blob_store(f), was_from_store = from_store;

	if (from_store)
		log_info("fetch %s: from the blob store %s", f->spec.key, s3_describe(fm->s3));
	stage_start(f);
	while (blob_partial_length(f->part) < f->spec.size) {
		uint64_t before = blob_partial_length(f->part);
		int wr;
		if (atomic_load(&fm->stopping)) {
			why = "stopping";
			goto keep_partial;
		}
		f->reset_pending = 1;
		/* With the sha256 known, a tier or peer serving another file is
		 * not kept, and the blob's owner among the peers is asked. */
		if (from_store)
			r = blob_store_fetch(f, before, &resp);
		else
			r = upstream_fetch_blob(fm->up, prefix, f->spec.repo, f->spec.commit,
						f->spec.path, before,
						f->spec.lfs ? f->spec.key : NULL, f->spec.no_peers,
						body_cb, f, &resp);
		/* What this transfer staged: a resume starts after it. */
		if (f->write_err == 0 && (wr = stage_flush(f)) != GG_OK) {
			log_warnx("fetch %s: writing the partial failed: %s", f->spec.key,
				  gg_strerror(wr));
			f->write_err = wr;
		}
		f->fill = 0;
		if (blob_partial_length(f->part) >= f->spec.size)
			break;
		if (f->write_err != 0) {
			/* The disk, not upstream: retrying would fail again and
			 * keeping the partial would hold the space. */
			why = f->write_err == GG_ENOSPC ? "no space left on the store's disk"
							: "writing to the store failed";
			hasher_end(f, 0);
			blob_partial_discard(f->part);
			f->part = NULL;
			unreserve(f);
			finish(f, 0, why);
			fetch_release(f);
			return NULL;
		}
		if (from_store) {
			/* Resumed from the blob store while it gives bytes; a
			 * read that gave nothing falls back to upstream. */
			if (blob_partial_length(f->part) == before) {
				log_warnx("fetch %s: the blob store gave nothing: asking upstream",
					  f->spec.key);
				from_store = 0;
			}
			continue;
		}
		if (r == GG_OK && (resp.status == 401 || resp.status == 403 || resp.status == 404 ||
				   resp.status == 410)) {
			why = "upstream refused the content";
			goto keep_partial;
		}
		if (resp.status == 429 && resp.retry_after > GG_FETCH_WAIT_MAX_SEC) {
			/* The host keeps its budget (upstream.h); nobody asks it
			 * before it ends, and the partial waits for then. */
			snprintf(rate_why, sizeof(rate_why),
				 "upstream rate-limits us for %llu s more (%s)",
				 (unsigned long long)resp.retry_after,
				 resp.not_asked ? "not asked" : "429");
			why = rate_why;
			goto keep_partial;
		}
		if (blob_partial_length(f->part) > before)
			stalls = 0;
		else if (++stalls > GG_FETCH_RETRIES)
			goto keep_partial;
		log_info("fetch %s: transfer ended at %llu of %llu bytes (status %ld); resuming",
			 f->spec.key, (unsigned long long)blob_partial_length(f->part),
			 (unsigned long long)f->spec.size, resp.status);
		if (resp.status == 429 && resp.retry_after > 0) {
			/* Upstream asked us to wait, not long: wait it out. */
			struct timespec ts = { (time_t)resp.retry_after, 0 };
			while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
				;
		}
		backoff(stalls);
	}
	/* Readers get their last bytes as soon as the hash matched; making
	 * the blob durable and indexing it follow. */
	hasher_end(f, 1);
	if (blob_partial_verify(f->part, &d) == GG_OK) {
		pthread_mutex_lock(&f->mu);
		f->verified = 1;
		wake_all(f);
		pthread_mutex_unlock(&f->mu);
	}
	/* The reservation ends before the blob appears in blobs/: the quota
	 * counts the bytes once, as present, not also as being written (which
	 * made a fetch started at that moment evict a blob for nothing). */
	unreserve(f);
	/* Durable blob, then its file in the index (store.h's crash window). */
	r = store_partial_finish(fm->st, f->part, f->spec.type, f->spec.repo, f->spec.commit,
				 f->spec.path, f->spec.lfs, &d);
	f->part = NULL;
	if (r == GG_OK && was_from_store && fm->s3 != NULL)
		store_mark_in_bucket(fm->st, d.sha256, 1); /* it came from there */
	if (r != GG_OK) {
		if (r == GG_ECORRUPT)
			stats_verify_failed();
		if (r == GG_ECORRUPT && was_from_store) {
			/* The next miss asks upstream; the uploader replaces
			 * the object with the verified bytes then. */
			s3_mark_bad(f->spec.key);
			log_error("blob store: the bytes read for %s do not hash to it: the "
				  "next request asks upstream",
				  f->spec.key);
		}
		finish(f, 0,
		       r == GG_ECORRUPT ? "content does not match its hash (discarded)"
					: gg_strerror(r));
		fetch_release(f);
		return NULL;
	}
	log_info("fetched %s%s@%.12s %s: %llu bytes, sha256 %s verified", prefix, f->spec.repo,
		 f->spec.commit, f->spec.path, (unsigned long long)d.size, d.sha256);
	finish(f, 1, gg_strerror(r));
	fetch_release(f);
	return NULL;
keep_partial:
	hasher_end(f, 0);
	blob_partial_close(f->part);
	f->part = NULL;
	unreserve(f);
	finish(f, 0, why);
	fetch_release(f);
	return NULL;
}

int
fetcher_join(struct fetcher *fm, const struct fetch_spec *spec, struct fetch **out, int *joined)
{
	struct fetch *f;
	pthread_attr_t attr;
	pthread_t tid;
	uint64_t have = 0;
	int r;

	if (joined != NULL)
		*joined = 0;
	pthread_mutex_lock(&fm->mu);
	if (atomic_load(&fm->stopping)) {
		pthread_mutex_unlock(&fm->mu);
		return GG_EUNAVAIL;
	}
	for (f = fm->list; f != NULL; f = f->next) {
		if (strcmp(f->spec.key, spec->key) == 0) {
			pthread_mutex_lock(&f->mu);
			f->refs++;
			pthread_mutex_unlock(&f->mu);
			pthread_mutex_unlock(&fm->mu);
			*out = f;
			if (joined != NULL)
				*joined = 1;
			return GG_OK;
		}
	}
	if (spec->lfs && store_blob_exists(fm->st, spec->key)) {
		pthread_mutex_unlock(&fm->mu);
		return GG_EEXIST;
	}
	f = xcalloc(1, sizeof(*f));
	f->fm = fm;
	f->spec = *spec;
	f->rfd = -1;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->hash_cv, NULL);
	/* Room under the store's quota first (evicting what must go); the
	 * reservation lasts as long as the fetch (fetch_free). */
	if ((r = store_reserve(fm->st, spec->size)) != GG_OK) {
		pthread_mutex_unlock(&fm->mu);
		fetch_free(f);
		return r;
	}
	f->reserved = spec->size;
	r = store_partial_open(fm->st, spec->key, spec->size, &f->part, &have);
	if (r != GG_OK) {
		pthread_mutex_unlock(&fm->mu);
		fetch_free(f);
		return r;
	}
	snprintf(f->part_path, sizeof(f->part_path), "%s", blob_partial_path(f->part));
	f->rfd = open(f->part_path, O_RDONLY | O_CLOEXEC);
	if (f->rfd < 0) {
		log_warn("open(\"%s\") failed", f->part_path);
		pthread_mutex_unlock(&fm->mu);
		blob_partial_close(f->part);
		fetch_free(f);
		return GG_EIO;
	}
	f->landed = have;
	f->refs = 2; /* the caller and the thread */
	f->state = FETCH_RUNNING;
	stats_fetch_started();
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, fetch_thread, f) != 0) {
		pthread_attr_destroy(&attr);
		pthread_mutex_unlock(&fm->mu);
		blob_partial_close(f->part);
		fetch_free(f);
		return GG_EIO;
	}
	pthread_attr_destroy(&attr);
	f->next = fm->list;
	fm->list = f;
	fm->threads++;
	pthread_mutex_unlock(&fm->mu);
	log_info("fetching %s%s@%.12s %s (%llu bytes, %s %s)%s", route_type_prefix(spec->type),
		 spec->repo, spec->commit, spec->path, (unsigned long long)spec->size,
		 spec->lfs ? "sha256" : "git sha1", spec->key, have ? " resuming a partial" : "");
	*out = f;
	return GG_OK;
}

int
fetcher_join_running(struct fetcher *fm, const char *key, struct fetch **out)
{
	struct fetch *f;
	int rc = GG_ENOENT;

	if (fm == NULL)
		return GG_ENOENT;
	pthread_mutex_lock(&fm->mu);
	for (f = fm->list; f != NULL && !atomic_load(&fm->stopping); f = f->next) {
		if (strcmp(f->spec.key, key) == 0) {
			pthread_mutex_lock(&f->mu);
			if (f->state == FETCH_RUNNING) {
				f->refs++;
				*out = f;
				rc = GG_OK;
			}
			pthread_mutex_unlock(&f->mu);
			break;
		}
	}
	pthread_mutex_unlock(&fm->mu);
	return rc;
}

void
fetcher_stop(struct fetcher *fm)
{
	if (fm == NULL)
		return;
	pthread_mutex_lock(&fm->mu);
	atomic_store(&fm->stopping, 1);
	for (struct fetch *f = fm->list; f != NULL; f = f->next) {
		pthread_mutex_lock(&f->mu);
		wake_all(f);
		pthread_mutex_unlock(&f->mu);
	}
	/* Transfers notice `stopping` at their next body chunk or timeout. */
	while (fm->threads > 0)
		pthread_cond_wait(&fm->idle, &fm->mu);
	pthread_mutex_unlock(&fm->mu);
}

void
fetcher_free(struct fetcher *fm)
{
	if (fm == NULL)
		return;
	fetcher_stop(fm);
	pthread_mutex_destroy(&fm->mu);
	pthread_cond_destroy(&fm->idle);
	free(fm);
}

int
fetch_progress(struct fetch *f, uint64_t *landed)
{
	int st;
	pthread_mutex_lock(&f->mu);
	*landed = f->landed;
	st = f->state == FETCH_DONE ? 1 : f->state == FETCH_FAILED ? -1 : 0;
	pthread_mutex_unlock(&f->mu);
	return st;
}

void
fetcher_gauges(struct fetcher *fm, uint64_t *fetches, uint64_t *readers)
{
	*fetches = *readers = 0;
	if (fm == NULL)
		return;
	pthread_mutex_lock(&fm->mu);
	for (struct fetch *f = fm->list; f != NULL; f = f->next) {
		(*fetches)++;
		pthread_mutex_lock(&f->mu);
		/* One reference is the fetch thread's; the rest are readers. */
		*readers += f->refs > 1 ? (uint64_t)(f->refs - 1) : 0;
		pthread_mutex_unlock(&f->mu);
	}
	pthread_mutex_unlock(&fm->mu);
}

void
fetcher_foreach(struct fetcher *fm,
		void (*cb)(void *ctx, const struct fetch_spec *spec, uint64_t landed,
			   unsigned readers),
		void *ctx)
{
	if (fm == NULL)
		return;
	pthread_mutex_lock(&fm->mu);
	for (struct fetch *f = fm->list; f != NULL; f = f->next) {
		uint64_t landed;
		int refs;
		pthread_mutex_lock(&f->mu);
		landed = f->landed;
		refs = f->refs;
		pthread_mutex_unlock(&f->mu);
		cb(ctx, &f->spec, landed, refs > 1 ? (unsigned)(refs - 1) : 0);
	}
	pthread_mutex_unlock(&fm->mu);
}
