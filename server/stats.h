/*
 * stats.h: ggufd's counters, for GET /metrics (metrics.c).
 *
 * Process-wide relaxed atomics: bumping one costs an uncontended atomic
 * add and never a lock, so the hot path can afford them.  A scrape reads
 * each counter once; counters are monotonic (Prometheus _total), so a
 * scrape that races an update is only a little early.
 *
 * Two things are kept beside the counters, for the dashboard
 * (GET /api/ggufd/activity): a history of the main totals per minute over
 * the last GG_STATS_HISTORY_MIN minutes, rotated by whichever update or
 * read first sees a new minute (no timer, no thread), and the upstream's
 * health (reachable or not and since when, the last error, the last
 * Retry-After).  Both are behind a mutex taken once a minute (history)
 * or once per upstream exchange (health), never per byte.
 *
 * Thread safety: every function may be called from any thread.
 */
#ifndef GG_STATS_H
#define GG_STATS_H

#include <stdint.h>

#include "route.h"
#include "util.h"

/* Where response bytes came from. */
enum stats_source {
	STATS_STORE, /* a blob in the store (sendfile, ranges) */
	STATS_FETCH, /* streamed from a fetch in progress */
	STATS_NSOURCES
};

/* What became of a publish attempt of an upload job. */
enum stats_upload {
	STATS_UPLOAD_PUBLISHED,
	STATS_UPLOAD_PENDING, /* upstream unavailable: retried later */
	STATS_UPLOAD_REFUSED, /* by upstream */
	STATS_UPLOAD_POLICY,  /* refused by ggufd's policy */
	STATS_NUPLOADS
};

/* A request ended: its route kind (ROUTE_NONE when it had none), the status
 * it was answered with (0: none was), how long it took. */
void stats_request(enum route_kind kind, unsigned status, uint64_t usec);
/*
 * A request's time to first byte, by its route kind: from the request line
 * to the moment the first body bytes were handed to libmicrohttpd for the
 * socket.  For a content-reader response (a download streamed from a fetch
 * in progress, multipart ranges) that is the reader's first answer; for
 * a buffer or file (sendfile) response, which libmicrohttpd sends as soon
 * as it is queued, it is the moment it was queued.
 */
void stats_ttfb(enum route_kind kind, uint64_t usec);
/* A response of bytes was queued from src. */
void stats_served(enum stats_source src, uint64_t bytes);
/* Bytes of a response counted as they go out (streamed responses). */
void stats_served_bytes(enum stats_source src, uint64_t bytes);
/* An upstream HTTP exchange ended: status (0: no answer), body bytes. */
void stats_upstream(long status, uint64_t bytes);
/* Upstream body bytes counted as they arrive (content transfers). */
void stats_upstream_bytes(uint64_t bytes);
/* Content fetches: one started, one ended (ok or not), bytes landed. */
void stats_fetch_started(void);
void stats_fetch_ended(int ok);
/* A fetch whose bytes did not match their hash. */
void stats_verify_failed(void);
void stats_fetch_bytes(uint64_t n);
void stats_upload(enum stats_upload what);

/* The main totals, for the dashboard. */
struct stats_totals {
	uint64_t requests;
	uint64_t served_store, served_fetch; /* bytes */
	uint64_t upstream_bytes, upstream_requests;
	uint64_t fetches_started, fetches_ok, fetches_failed;
	uint64_t hits;   /* file responses from the store */
	uint64_t misses; /* file responses streamed from a fetch (joined ones too) */
};
void stats_totals(struct stats_totals *out);

/* One minute of the history: what the main totals grew by in it. */
struct stats_minute {
	uint64_t t; /* the minute's start, unix seconds */
	uint64_t requests;
	uint64_t served_store, served_fetch, upstream_bytes; /* bytes */
	uint64_t hits, misses; /* file responses from the store / from a fetch */
};
/* The minutes of the last GG_STATS_HISTORY_MIN with a record, oldest
 * first; the last is the current minute, still counting.  Minutes before
 * the first count of this process are not there.  Fills at most max
 * entries of out and returns how many. */
size_t stats_history(struct stats_minute *out, size_t max);

/*
 * An upstream exchange ended: status (0: no answer), retry_after (the
 * seconds a 429 asked to wait; 0: none said), error (what went wrong, in
 * words; NULL when nothing did: any answer below 500 other than 429 is
 * not an error, 404 included).  The caller keeps tokens and query strings
 * out of error; it is cut to GG_MAX_UPSTREAM_ERROR - 1 bytes.
 */
void stats_upstream_health(long status, uint64_t retry_after, const char *error);

struct stats_health {
	int known;                         /* an exchange happened since the start */
	int reachable;                     /* the last one got an answer below 500 (429 too) */
	uint64_t since;                    /* unix: the first exchange of the current state */
	uint64_t last_ok;                  /* unix: the last answer below 500, 0: none */
	uint64_t error_at;                 /* unix: the last error, 0: none */
	char error[GG_MAX_UPSTREAM_ERROR]; /* the last error, "" if none */
	uint64_t too_many;                 /* 429 answers */
	uint64_t retry_after;              /* seconds, of the last 429 that said (0: none) */
};
void stats_health(struct stats_health *out);

/* Gauges the caller reads at scrape time. */
struct stats_gauges {
	uint64_t fetches;                         /* in flight */
	uint64_t fetch_readers;                   /* clients reading them */
	uint64_t blobs, blob_bytes, pinned_bytes; /* present in the store */
	uint64_t quota_bytes, evictable_bytes, writing_bytes;
	uint64_t evictions, evicted_bytes; /* by this process */
	int have_store;                    /* the store's fields were read */
};

/* Appends the Prometheus text exposition (format 0.0.4) of every counter
 * and of g to out.  0, or GG_ETOOBIG when out is full. */
int stats_prometheus(const struct stats_gauges *g, struct buf *out);

#endif
