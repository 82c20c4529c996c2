/*
 * s3.h: a small client of an S3-compatible object store (Ceph RADOS
 * Gateway, MinIO, AWS S3) for ggufd's shared blob store.
 *
 * Objects are blobs named by their sha256, at path-style URLs:
 *   ENDPOINT/BUCKET/PREFIX/<64 hex>        (PREFIX may be empty)
 * Every request is signed with AWS Signature V4 by libcurl itself
 * (CURLOPT_AWS_SIGV4 "aws:amz:REGION:s3", the key pair as user and
 * password), with an explicit x-amz-content-sha256 header: libcurl 7.88
 * signs a payload hash but does not send the header, and the gateway then
 * assumes UNSIGNED-PAYLOAD and the signature does not match.  The header
 * is the blob's sha256 for the PUT of a whole blob (the store refuses
 * bytes that do not hash to it), the part's sha256 for a multipart part,
 * the body's for a POST, and UNSIGNED-PAYLOAD for requests without a body.
 *
 * s3_put_blob never leaves an object whose bytes do not hash to its name:
 * a single PUT is checked by the store against the name; a multipart
 * upload hashes every part as it sends it (the store checks each part
 * against its hash) and completes only if the whole hashes to the name,
 * else aborts.  A multipart upload left by a crash is not an object
 * (S3 lists it under ?uploads until it is aborted).
 *
 * The key pair is never logged.  Thread safety: a struct s3 is read-only
 * after s3_new and may be shared by threads; every call uses its own
 * libcurl handle.  curl_global_init must have been called.
 */
#ifndef GG_S3_H
#define GG_S3_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "gg_limits.h"

#define S3_MIN_PART (5ull << 20) /* S3's smallest part (but the last) */
#define S3_DEFAULT_PART (64ull << 20)
#define S3_MAX_PARTS 10000u

struct s3_config {
	const char *url;      /* s3://BUCKET[/PREFIX] */
	const char *endpoint; /* http(s)://HOST[:PORT] */
	const char *region;   /* NULL: us-east-1 */
	const char *access_key, *secret_key;
	const char *ca_bundle; /* NULL: the system's */
	uint64_t part_size;    /* multipart above this; 0: S3_DEFAULT_PART */
	uint64_t send_rate;    /* bytes/s for uploads; 0: no limit */
};

struct s3;

/* What the store answered: the HTTP status (0: no answer, see error) and,
 * for an error answer, S3's error Code and Message. */
struct s3_result {
	long status;
	char code[64];
	char message[200];
	char error[256]; /* transport error, "" if none */
};

/*
 * Checks an s3:// URL: BUCKET is 3 to 63 of [a-z0-9.-], PREFIX (optional)
 * is segments of [A-Za-z0-9._-] joined by '/', none "." or "..", at most
 * 200 bytes; trailing slashes are dropped.  0, or GG_EINVAL.
 */
int s3_parse_url(const char *url, char *bucket, size_t bsz, char *prefix, size_t psz);

/* 0 and *out, GG_EINVAL (a bad URL, endpoint or missing key). */
int s3_new(const struct s3_config *cfg, struct s3 **out);
void s3_free(struct s3 *s);
/* "s3://BUCKET/PREFIX at ENDPOINT", for messages. */
const char *s3_describe(const struct s3 *s);
/* The endpoint (no trailing '/'), bucket and prefix ("" for none), borrowed. */
void s3_location(const struct s3 *s, const char **endpoint, const char **bucket,
		 const char **prefix);

/*
 * The start-up check: lists the bucket (at most one key).  A bucket that
 * does not exist is created when create is set.  0; GG_ENOENT (no such
 * bucket, not created); GG_EINVAL (credentials refused: 401/403, see
 * res); GG_EIO (no answer, or another error).
 */
int s3_check_bucket(struct s3 *s, int create, struct s3_result *res);

/* HEAD of a blob: 0 with *size, GG_ENOENT, GG_EIO (see res). */
int s3_head(struct s3 *s, const char *sha256, uint64_t *size, struct s3_result *res);

/*
 * Objects read whose bytes did not hash to their name (this process's
 * knowledge, the last 64): a miss does not read them again (upstream
 * instead), and the uploader replaces them with verified bytes, then
 * clears the mark.  Thread safe.
 */
void s3_mark_bad(const char *sha256);
int s3_is_bad(const char *sha256);
void s3_clear_bad(const char *sha256);

/*
 * GET of a blob from offset on (a Range request when offset > 0), the body
 * handed to cb as it arrives with the status (206, or 200 when the store
 * ignored the range).  cb returns non-zero to stop.  0 when the body
 * ended normally (res->status says which answer), GG_ENOENT, GG_EIO.
 */
int s3_get(struct s3 *s, const char *sha256, uint64_t offset,
	   int (*cb)(void *ctx, const void *data, size_t n, long status), void *ctx,
	   struct s3_result *res);

/*
 * Stores the blob read from fd (size bytes) as the object sha256: one PUT
 * up to the part size, else a multipart upload (see above).  stop (NULL
 * ok) is polled between parts and in transfers: set, the upload is
 * aborted.  0; GG_ECORRUPT (the bytes read do not hash to sha256: nothing
 * stored); GG_EIO (see res).
 */
int s3_put_blob(struct s3 *s, const char *sha256, int fd, uint64_t size, atomic_int *stop,
		struct s3_result *res);

/* DELETE of a blob.  0 (gone, or was not there), GG_EIO. */
int s3_delete(struct s3 *s, const char *sha256, struct s3_result *res);

/* A one-line account of res ("HTTP 403 SignatureDoesNotMatch: ...",
 * "no answer: Connection refused"), in buf. */
const char *s3_result_str(const struct s3_result *res, char *buf, size_t n);

/* Process-wide counters, for /metrics and the dashboard. */
struct s3_counters {
	uint64_t bytes_in, bytes_out; /* object bytes received and sent */
	uint64_t requests, errors;    /* errors: no answer, or a 5xx/4xx not expected */
	/* The last of those errors (and of the store refusing a blob's bytes):
	 * "HEAD <sha256>: HTTP 503 SlowDown: ..." (never a key), "" if none;
	 * last_error_at: unix seconds, 0 if none. */
	char last_error[400];
	uint64_t last_error_at;
};
void s3_counters(struct s3_counters *out);

#endif
