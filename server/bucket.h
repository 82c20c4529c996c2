/*
 * bucket.h: serve's shared blob store (serve --blob-store s3://BUCKET[/PREFIX]).
 *
 * The local store is the hot tier above an S3 bucket that several ggufd
 * nodes may share.  Objects are blobs named by sha256 (storage/s3.h);
 * only blobs verified and durable in a local store are written there:
 *
 *   - the uploader, one background thread, stores every blob present
 *     here whose record lacks the in-bucket mark (HEAD first: another
 *     node may have stored it), then sets the mark.  It wakes when a blob
 *     lands (the store's landed hook), else every BUCKET_RESCAN_SEC, so a
 *     blob left by a crash or imported by another process goes up too;
 *   - eviction takes only marked blobs (store_set_bucket_guard), so the
 *     local tier never drops a blob's only copy;
 *   - a local miss for a blob whose sha256 is known (an LFS file) asks the
 *     bucket first (fetch.c, through the same single-flight partial as an
 *     upstream fetch, verified against the sha256 the same way).
 *
 * Thread safety: the functions may be called from any thread once
 * bucket_open returned.
 */
#ifndef GG_BUCKET_H
#define GG_BUCKET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "s3.h"
#include "store.h"
#include "util.h"

#define BUCKET_RESCAN_SEC 30
#define BUCKET_DEFER_SEC 120

struct bucket;
struct upstream;

/*
 * Reads the credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_REGION or AWS_DEFAULT_REGION, default us-east-1) from the
 * environment, and checks the bucket (creating it with create set).  On
 * failure, returns -1 with a one-line reason in err (never a secret).
 * cfg->access_key and secret_key are ignored (taken from the environment).
 */
int bucket_open(const struct s3_config *cfg, int create, struct bucket **out, char *err,
		size_t errsz);
/*
 * With peers (upstream.h): a blob that another peer owns (and that peer is
 * up) is left to it for BUCKET_DEFER_SEC after this node first saw it
 * here, so that a blob every node fetched at once is sent to the bucket
 * once, by its owner; this node then finds it there (HEAD) and marks it,
 * or stores it itself once the time is up.  May be called while the
 * uploader runs; u must outlive bucket_stop.
 */
void bucket_set_upstream(struct bucket *b, struct upstream *u);
/* Starts the uploader on st (and sets st's guard and landed hook). */
int bucket_start(struct bucket *b, struct store *st);
/* Stops the uploader (an upload in progress is aborted); the landed hook
 * stays (harmless) until bucket_free.  Accepts NULL. */
void bucket_stop(struct bucket *b);
/* bucket_stop, then frees.  Accepts NULL. */
void bucket_free(struct bucket *b);
struct s3 *bucket_s3(struct bucket *b);

/* The blob store's lines for /metrics.  b may be NULL (nothing written). */
int bucket_prometheus(struct bucket *b, struct buf *out);

struct cJSON;
/*
 * The blob store for the dashboard (GET /api/ggufd/disk "blobStore"):
 *   {"url":"s3://BUCKET[/PREFIX]","endpoint","bucket","prefix",
 *    "pending","uploaded","uploadedBytes","alreadyThere","failed",
 *    "bytesIn","bytesOut","requests","errors","lastError","lastErrorAt"}
 * added to o.  The endpoint without any user:password@ or query; never a
 * key.  Counters as in /metrics (bucket_prometheus).
 */
void bucket_json(struct bucket *b, struct cJSON *o);

/*
 * ggufd verify --blob-store: for every blob record of st, a HEAD in the
 * bucket; a blob there of the right size gets the mark, one missing (or of
 * another size) loses it (serve uploads it again).  Lines go to out.
 */
struct bucket_verify_report {
	uint64_t stored;  /* in the bucket, right size */
	uint64_t missing; /* not in the bucket (present here: to upload) */
	uint64_t lost;    /* neither here nor in the bucket */
	uint64_t wrong;   /* in the bucket with another size */
	uint64_t errors;  /* no answer */
};
int bucket_verify(struct bucket *b, struct store *st, FILE *out, struct bucket_verify_report *rep);

#endif
