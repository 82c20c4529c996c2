/*
 * fetch.h: single-flight upstream fetches, streamed to every waiting
 * client while they land.
 *
 * One fetch per content key (sha256 for LFS files, git blob sha1 for
 * regular files), however many clients ask: the key is the content hash,
 * so the branch and the commit id, or two repos holding the same file,
 * share one transfer.  The fetch thread writes tmp/<key>.part (a hasher
 * thread of the fetch hashing the bytes written as it goes), resumes with
 * Range after a drop, and on completion verifies the hash, renames the
 * blob into place and indexes it.
 *
 * Readers read the partial file directly.  The verified-completion
 * contract: a reader may read any landed byte except the last byte of its
 * own response, which is released only once the whole blob is verified.
 * If verification fails, every reader is told (FETCH_GONE) and must cut
 * its connection: no client ever completes a corrupt download.
 *
 * A fetch nobody waits for any more still runs to completion (it fills
 * the cache); a partial left by a stop or crash is resumed by the next
 * fetch of the same key.
 *
 * Thread safety: all functions are thread safe.
 */
#ifndef GG_FETCH_H
#define GG_FETCH_H

#include <stdint.h>

#include "gg_limits.h"
#include "index.h"
#include "store.h"
#include "upstream.h"

struct fetcher;
struct fetch;

struct fetch_spec {
	enum repo_type type;
	char repo[GG_MAX_REPO_LEN + 1];
	char commit[GG_SHA1_HEX + 1];
	char path[GG_MAX_REPO_PATH_LEN + 1];
	char key[GG_SHA256_HEX + 1]; /* sha256 (lfs) or git sha1 */
	int lfs;
	uint64_t size;
	int no_peers; /* a peer's request (X-Ggufd-Peer): ask the tiers, not the peers */
};

enum fetch_avail { FETCH_AVAIL, FETCH_WAIT, FETCH_GONE };

int fetcher_new(struct store *st, struct upstream *up, struct fetcher **out);
/*
 * A blob store (s3.h) to ask before upstream: a fetch of an LFS file (a
 * sha256 key) whose object is there with the file's size streams from it
 * into the partial, resuming with ranges, verified like upstream bytes;
 * a store that gives nothing leaves the rest to upstream.  Set before the
 * first join.
 */
struct s3;
void fetcher_set_blob_store(struct fetcher *fm, struct s3 *s3);
/* Stops every fetch (partials are kept) and wakes their readers; new
 * joins fail.  Waits for the fetch threads.  Accepts NULL. */
void fetcher_stop(struct fetcher *fm);
/* fetcher_stop, then frees.  Accepts NULL. */
void fetcher_free(struct fetcher *fm);

/*
 * Joins the fetch of spec->key, starting it if none runs.  *out holds a
 * reference (fetch_release); *joined (NULL ok) says whether the fetch was
 * already running (the request is coalesced with others).  Returns 0,
 * GG_EEXIST if the blob is already in the store (nothing to join), GG_EIO.
 */
int fetcher_join(struct fetcher *fm, const struct fetch_spec *spec, struct fetch **out,
		 int *joined);
void fetch_release(struct fetch *f);
/*
 * Joins the fetch of key if one runs, never starting one (the fast lane:
 * a request it answers from a fetch in progress; starting one is the slow
 * path's, with its checks).  0 (*out referenced) or GG_ENOENT.
 */
int fetcher_join_running(struct fetcher *fm, const char *key, struct fetch **out);

/* The partial file's path (valid while referenced). */
const char *fetch_part_path(const struct fetch *f);
/* A new read-only descriptor of the download (the caller closes it); it
 * stays valid when the blob is renamed into place.  -1 on error. */
int fetch_open_reader(struct fetch *f);

/*
 * May a reader whose response covers [pos, end) (end exclusive) read now?
 * *gen starts at -1 for a new reader and is kept by it across calls; a
 * reader whose bytes were invalidated (the partial restarted) gets
 * FETCH_GONE.
 * FETCH_AVAIL: *upto (> pos) is how far.  FETCH_GONE: the fetch failed.
 * FETCH_WAIT: nothing yet; before returning, sleep(arg) was called under
 * the fetch's lock and wake(arg) will be called (once) when more lands or
 * the state changes.  sleep and wake run with the lock held: they must
 * not call back into this module.
 *
 * Lock order: sleep and wake may take locks that rank below the fetch's
 * lock (the HTTP layer's MHD_suspend_connection and MHD_resume_connection
 * take libmicrohttpd's connection lock), so a caller must never call
 * fetch_poll or fetch_release while holding such a lock.  libmicrohttpd
 * calls a response's free callback without it (see fetch.c).
 */
enum fetch_avail fetch_poll(struct fetch *f, int *gen, uint64_t pos, uint64_t end, uint64_t *upto,
			    void (*sleep)(void *arg), void (*wake)(void *arg), void *arg);

/* Progress: *landed bytes so far; returns 0 running, 1 done (verified
 * and indexed), -1 failed. */
int fetch_progress(struct fetch *f, uint64_t *landed);

/*
 * Calls cb for each fetch in flight with its spec (borrowed for the call),
 * the bytes landed so far and the clients reading it, under the fetcher's
 * lock: cb must be quick and must not call back into the fetcher.  fm may
 * be NULL (nothing to list).
 */
void fetcher_foreach(struct fetcher *fm,
		     void (*cb)(void *ctx, const struct fetch_spec *spec, uint64_t landed,
				unsigned readers),
		     void *ctx);

/* Fetches in flight and the references clients hold on them (for
 * metrics).  fm may be NULL (no upstream): both 0. */
void fetcher_gauges(struct fetcher *fm, uint64_t *fetches, uint64_t *readers);

#endif
