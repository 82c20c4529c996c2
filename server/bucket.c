/*
 * bucket.c: the shared blob store's uploader, start-up check, metrics and
 * verify (see bucket.h).
 *
 * The uploader's state is behind b->mu: kicked (a blob landed since the
 * last scan), stopping, and the gauges.  A scan lists, in one index view,
 * the blobs present here without the in-bucket mark, then stores them one
 * by one outside any lock, holding each as a reader (store_use) so that
 * nothing removes it meanwhile.  A blob that failed is tried again at the
 * next scan; after a failure the next scan waits longer (1 s doubling to
 * 60 s) so a store that is down is not hammered.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bucket.h"
#include "log.h"
#include "upstream.h"
#include "util.h"

#define MAX_BAD 64
#define MAX_DEFER 4096
/* upload_one's answer for a blob left to its owner among the peers. */
#define DEFERRED 1

struct cand {
	char sha256[GG_SHA256_HEX + 1];
	uint64_t size;
};

struct bucket {
	struct s3 *s3;
	struct store *st;
	pthread_t thr;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int kicked;
	atomic_int stopping;
	/* gauges and counters (mu) */
	uint64_t pending, uploaded, uploaded_bytes, failed, already;
	/* blobs whose local bytes do not hash to their name: not retried */
	char bad[MAX_BAD][GG_SHA256_HEX + 1];
	unsigned nbad;
	/* peers (bucket_set_upstream); the blobs left to their owner and when
	 * this node first saw them here (the uploader thread's alone) */
	struct upstream *_Atomic up; /* set after the uploader started */
	struct deferred {
		char sha256[GG_SHA256_HEX + 1];
		uint64_t since_ms;
	} * defer;
	size_t ndefer;
};

static const char *
env_nonempty(const char *name)
{
	const char *v = getenv(name);
	return v != NULL && *v != '\0' ? v : NULL;
}

int
bucket_open(const struct s3_config *cfg_in, int create, struct bucket **out, char *err,
	    size_t errsz)
{
	struct s3_config cfg = *cfg_in;
	struct s3_result res;
	struct bucket *b;
	struct s3 *s3 = NULL;
	char why[400];
	int r;

	*out = NULL;
	cfg.access_key = env_nonempty("AWS_ACCESS_KEY_ID");
	cfg.secret_key = env_nonempty("AWS_SECRET_ACCESS_KEY");
	cfg.region = env_nonempty("AWS_REGION");
	if (cfg.region == NULL)
		cfg.region = env_nonempty("AWS_DEFAULT_REGION");
	if (cfg.endpoint == NULL) {
		snprintf(err, errsz, "--blob-store needs --s3-endpoint URL");
		return -1;
	}
	if (cfg.access_key == NULL || cfg.secret_key == NULL) {
		snprintf(err, errsz,
			 "--blob-store needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the "
			 "environment");
		return -1;
	}
	if (s3_new(&cfg, &s3) != GG_OK) {
		snprintf(err, errsz,
			 "--blob-store '%s' with --s3-endpoint '%s' (region '%s') is not usable: "
			 "wants s3://BUCKET[/PREFIX] and an http(s) URL",
			 cfg.url, cfg.endpoint, cfg.region ? cfg.region : "us-east-1");
		return -1;
	}
	r = s3_check_bucket(s3, create, &res);
	s3_result_str(&res, why, sizeof(why));
	if (r == GG_EINVAL) {
		snprintf(err, errsz,
			 "the blob store %s refused our credentials (%s): check "
			 "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION",
			 s3_describe(s3), why);
	} else if (r == GG_ENOENT) {
		snprintf(err, errsz,
			 "the blob store %s: no such bucket (%s); create it, or pass "
			 "--s3-create-bucket",
			 s3_describe(s3), why);
	} else if (r != GG_OK) {
		snprintf(err, errsz, "the blob store %s cannot be used: %s", s3_describe(s3), why);
	}
	if (r != GG_OK) {
		s3_free(s3);
		return -1;
	}
	b = xcalloc(1, sizeof(*b));
	b->s3 = s3;
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	atomic_init(&b->stopping, 0);
	*out = b;
	return 0;
}

struct s3 *
bucket_s3(struct bucket *b)
{
	return b ? b->s3 : NULL;
}

static void
landed(void *ctx, const char *sha256)
{
	struct bucket *b = ctx;
	(void)sha256;
	pthread_mutex_lock(&b->mu);
	b->kicked = 1;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

/* --- the uploader ------------------------------------------------------------ */

struct scan {
	struct store *st;
	struct cand *c;
	size_t n, cap;
};

static int
scan_cb(void *ctx, const char *sha256, const struct index_blob *rec)
{
	struct scan *s = ctx;
	if (rec->in_bucket || !store_blob_exists(s->st, sha256))
		return 0;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->c = xrealloc(s->c, s->cap * sizeof(*s->c));
	}
	snprintf(s->c[s->n].sha256, sizeof(s->c[s->n].sha256), "%s", sha256);
	s->c[s->n++].size = rec->size;
	return 0;
}

static int
is_bad(struct bucket *b, const char *sha256)
{
	int bad = 0;
	pthread_mutex_lock(&b->mu);
	for (unsigned i = 0; i < b->nbad && !bad; i++)
		bad = strcmp(b->bad[i], sha256) == 0;
	pthread_mutex_unlock(&b->mu);
	return bad;
}

void
bucket_set_upstream(struct bucket *b, struct upstream *u)
{
	atomic_store(&b->up, u);
}

/*
 * Whether this node should leave the blob to its owner among the peers
 * now: the owner is another peer, up, and this node first saw the blob
 * here less than BUCKET_DEFER_SEC ago.  keep[] marks the table entries
 * the current scan still needs.
 */
static int
leave_to_owner(struct bucket *b, const char *sha256, unsigned char *keep)
{
	struct upstream *up = atomic_load(&b->up);
	uint64_t now = now_ms();
	size_t i;

	if (up == NULL || !upstream_peer_owns(up, sha256))
		return 0;
	for (i = 0; i < b->ndefer; i++)
		if (strcmp(b->defer[i].sha256, sha256) == 0)
			break;
	if (i == b->ndefer) {
		if (b->ndefer == MAX_DEFER)
			return 0; /* too many to remember: store it */
		snprintf(b->defer[i].sha256, sizeof(b->defer[i].sha256), "%s", sha256);
		b->defer[i].since_ms = now;
		b->ndefer++;
	}
	keep[i] = 1;
	return now - b->defer[i].since_ms < (uint64_t)BUCKET_DEFER_SEC * 1000u;
}

/* Drops the entries the last scan did not need. */
static void
prune_deferred(struct bucket *b, const unsigned char *keep)
{
	size_t n = 0;
	for (size_t i = 0; i < b->ndefer; i++)
		if (keep[i])
			b->defer[n++] = b->defer[i];
	b->ndefer = n;
}

/* Stores one blob: 0 (stored or found there), GG_ENOENT (gone here),
 * DEFERRED (not there, and may_put is 0: left to its owner), or an
 * error. */
static int
upload_one(struct bucket *b, const struct cand *c, int may_put)
{
	struct s3_result res;
	uint64_t have = 0, size = 0, t0 = now_ms();
	int fd = -1, r, replace = 0;
	char why[400];

	store_use(b->st, c->sha256);
	if ((r = store_blob_open(b->st, c->sha256, &fd, &size)) != GG_OK)
		goto done;
	r = s3_head(b->s3, c->sha256, &have, &res);
	if (r == GG_OK && have == size && s3_is_bad(c->sha256)) {
		log_warnx("blob store: object %s did not hash to its name: replacing it with "
			  "the bytes verified here",
			  c->sha256);
		replace = 1; /* stored again below */
	}
	if (r == GG_OK && have == size && !replace) {
		log_info("blob store: blob %s (%llu bytes) is there already", c->sha256,
			 (unsigned long long)size);
		pthread_mutex_lock(&b->mu);
		b->already++;
		pthread_mutex_unlock(&b->mu);
	} else if (!may_put && (r == GG_OK || r == GG_ENOENT)) {
		r = DEFERRED;
	} else if (r == GG_OK || r == GG_ENOENT) {
		if (r == GG_OK && !replace)
			log_warnx(
				"blob store: object %s has %llu bytes, not %llu: storing it again",
				c->sha256, (unsigned long long)have, (unsigned long long)size);
		r = s3_put_blob(b->s3, c->sha256, fd, size, &b->stopping, &res);
		if (r == GG_OK) {
			s3_clear_bad(c->sha256);
			log_info("blob store: stored blob %s (%llu bytes, %llu ms)", c->sha256,
				 (unsigned long long)size, (unsigned long long)(now_ms() - t0));
			pthread_mutex_lock(&b->mu);
			b->uploaded++;
			b->uploaded_bytes += size;
			pthread_mutex_unlock(&b->mu);
		} else if (r == GG_ECORRUPT) {
			pthread_mutex_lock(&b->mu);
			if (b->nbad < MAX_BAD)
				snprintf(b->bad[b->nbad++], sizeof(b->bad[0]), "%s", c->sha256);
			pthread_mutex_unlock(&b->mu);
		}
	} else {
		log_warnx("blob store: asking for blob %s failed: %s", c->sha256,
			  s3_result_str(&res, why, sizeof(why)));
	}
	if (r == GG_OK && (r = store_mark_in_bucket(b->st, c->sha256, 1)) != GG_OK)
		log_warnx("blob store: marking blob %s as stored failed: %s", c->sha256,
			  gg_strerror(r));
done:
	if (fd >= 0)
		close(fd);
	store_unuse(b->st, c->sha256);
	return r;
}

static void *
uploader(void *arg)
{
	struct bucket *b = arg;
	unsigned fails = 0;
	int first = 1;
	unsigned char *keep = xcalloc(MAX_DEFER, 1);

	for (;;) {
		struct store_view v;
		struct scan s = { b->st, NULL, 0, 0 };
		int r, any_fail = 0;

		pthread_mutex_lock(&b->mu);
		if (!first) {
			unsigned wait = fails ? (fails < 6 ? 1u << fails : 60u) : BUCKET_RESCAN_SEC;
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += wait;
			/* After a failure, a landing blob does not cut the back-off short. */
			while (!atomic_load(&b->stopping) && (fails > 0 || !b->kicked))
				if (pthread_cond_timedwait(&b->cv, &b->mu, &until) == ETIMEDOUT)
					break;
		}
		first = 0;
		b->kicked = 0;
		pthread_mutex_unlock(&b->mu);
		if (atomic_load(&b->stopping))
			break;
		if ((r = store_view_begin(b->st, &v)) == GG_OK)
			r = store_view_blobs(&v, scan_cb, &s);
		store_view_end(&v);
		if (r != GG_OK)
			log_warnx("blob store: listing the blobs to store failed: %s",
				  gg_strerror(r));
		pthread_mutex_lock(&b->mu);
		b->pending = s.n;
		pthread_mutex_unlock(&b->mu);
		memset(keep, 0, MAX_DEFER);
		for (size_t i = 0; i < s.n && !atomic_load(&b->stopping); i++) {
			if (is_bad(b, s.c[i].sha256))
				continue;
			r = upload_one(b, &s.c[i], !leave_to_owner(b, s.c[i].sha256, keep));
			if (r == DEFERRED)
				continue; /* still pending: asked again at the next scan */
			pthread_mutex_lock(&b->mu);
			if (r == GG_OK || r == GG_ENOENT)
				b->pending -= b->pending > 0;
			else
				b->failed++;
			pthread_mutex_unlock(&b->mu);
			if (r != GG_OK && r != GG_ENOENT && r != GG_ECORRUPT) {
				any_fail = 1;
				break; /* the store is likely down: back off */
			}
		}
		free(s.c);
		if (!atomic_load(&b->stopping) && !any_fail)
			prune_deferred(b, keep);
		fails = any_fail ? fails + 1 : 0;
	}
	free(keep);
	return NULL;
}

int
bucket_start(struct bucket *b, struct store *st)
{
	b->st = st;
	b->defer = xcalloc(MAX_DEFER, sizeof(*b->defer));
	store_set_bucket_guard(st, 1);
	store_set_landed_hook(st, landed, b);
	if (pthread_create(&b->thr, NULL, uploader, b) != 0) {
		store_set_landed_hook(st, NULL, NULL);
		return GG_EIO;
	}
	b->started = 1;
	log_info("blob store %s: blobs are stored there once verified here; the local "
		 "store keeps only blobs stored there evictable",
		 s3_describe(b->s3));
	return GG_OK;
}

void
bucket_stop(struct bucket *b)
{
	if (b == NULL || !b->started)
		return;
	pthread_mutex_lock(&b->mu);
	atomic_store(&b->stopping, 1);
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
	pthread_join(b->thr, NULL);
	b->started = 0;
}

void
bucket_free(struct bucket *b)
{
	if (b == NULL)
		return;
	bucket_stop(b);
	/* Whatever could land blobs has stopped by now (serve frees the
	 * bucket after the fetcher, the pull jobs and the gateway). */
	if (b->st != NULL)
		store_set_landed_hook(b->st, NULL, NULL);
	s3_free(b->s3);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	free(b->defer);
	free(b);
}

/* --- metrics ------------------------------------------------------------------ */

static int
head(struct buf *o, const char *name, const char *type, const char *help)
{
	return buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The uploader's gauges and counters, read together. */
struct gauges {
	uint64_t pending, uploaded, bytes, failed, already;
};

static void
gauges(struct bucket *b, struct gauges *g)
{
	pthread_mutex_lock(&b->mu);
	g->pending = b->pending;
	g->uploaded = b->uploaded;
	g->bytes = b->uploaded_bytes;
	g->failed = b->failed;
	g->already = b->already;
	pthread_mutex_unlock(&b->mu);
}

int
bucket_prometheus(struct bucket *b, struct buf *o)
{
	struct s3_counters c;
	struct gauges g;
	int r = 0;

	if (b == NULL)
		return GG_OK;
	s3_counters(&c);
	gauges(b, &g);
	r |= head(o, "ggufd_blob_store_received_bytes_total", "counter",
		  "Object bytes received from the blob store (misses served from it).");
	r |= buf_printf(o, "ggufd_blob_store_received_bytes_total %llu\n",
			(unsigned long long)c.bytes_in);
	r |= head(o, "ggufd_blob_store_sent_bytes_total", "counter",
		  "Object bytes sent to the blob store (parts retried counted again).");
	r |= buf_printf(o, "ggufd_blob_store_sent_bytes_total %llu\n",
			(unsigned long long)c.bytes_out);
	r |= head(o, "ggufd_blob_store_requests_total", "counter", "Requests to the blob store.");
	r |= buf_printf(o, "ggufd_blob_store_requests_total %llu\n",
			(unsigned long long)c.requests);
	r |= head(o, "ggufd_blob_store_errors_total", "counter",
		  "Blob store requests that got no answer or an unexpected error.");
	r |= buf_printf(o, "ggufd_blob_store_errors_total %llu\n", (unsigned long long)c.errors);
	r |= head(o, "ggufd_blob_store_uploads_pending", "gauge",
		  "Blobs present here and not yet known to be in the blob store (they are "
		  "not evictable).");
	r |= buf_printf(o, "ggufd_blob_store_uploads_pending %llu\n",
			(unsigned long long)g.pending);
	r |= head(o, "ggufd_blob_store_uploads_total", "counter",
		  "Blobs the uploader handled, by result.");
	r |= buf_printf(o, "ggufd_blob_store_uploads_total{result=\"stored\"} %llu\n",
			(unsigned long long)g.uploaded);
	r |= buf_printf(o, "ggufd_blob_store_uploads_total{result=\"already_there\"} %llu\n",
			(unsigned long long)g.already);
	r |= buf_printf(o, "ggufd_blob_store_uploads_total{result=\"failed\"} %llu\n",
			(unsigned long long)g.failed);
	r |= head(o, "ggufd_blob_store_uploaded_bytes_total", "counter",
		  "Bytes of the blobs stored in the blob store.");
	r |= buf_printf(o, "ggufd_blob_store_uploaded_bytes_total %llu\n",
			(unsigned long long)g.bytes);
	return r == GG_OK ? GG_OK : GG_ETOOBIG;
}

void
bucket_json(struct bucket *b, struct cJSON *o)
{
	struct s3_counters c;
	struct gauges g;
	const char *endpoint, *bkt, *prefix;
	char url[300], ep[512];

	s3_counters(&c);
	gauges(b, &g);
	s3_location(b->s3, &endpoint, &bkt, &prefix);
	snprintf(url, sizeof(url), "s3://%s%s%s", bkt, prefix[0] ? "/" : "", prefix);
	upstream_url_public(endpoint, ep, sizeof(ep));
	cJSON_AddStringToObject(o, "url", url);
	cJSON_AddStringToObject(o, "endpoint", ep);
	cJSON_AddStringToObject(o, "bucket", bkt);
	cJSON_AddStringToObject(o, "prefix", prefix);
	cJSON_AddNumberToObject(o, "pending", (double)g.pending);
	cJSON_AddNumberToObject(o, "uploaded", (double)g.uploaded);
	cJSON_AddNumberToObject(o, "uploadedBytes", (double)g.bytes);
	cJSON_AddNumberToObject(o, "alreadyThere", (double)g.already);
	cJSON_AddNumberToObject(o, "failed", (double)g.failed);
	cJSON_AddNumberToObject(o, "bytesIn", (double)c.bytes_in);
	cJSON_AddNumberToObject(o, "bytesOut", (double)c.bytes_out);
	cJSON_AddNumberToObject(o, "requests", (double)c.requests);
	cJSON_AddNumberToObject(o, "errors", (double)c.errors);
	cJSON_AddStringToObject(o, "lastError", c.last_error);
	cJSON_AddNumberToObject(o, "lastErrorAt", (double)c.last_error_at);
}

/* --- verify ------------------------------------------------------------------- */

struct vlist {
	struct cand *c;
	int *in;
	size_t n, cap;
};

static int
vlist_cb(void *ctx, const char *sha256, const struct index_blob *rec)
{
	struct vlist *l = ctx;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->c = xrealloc(l->c, l->cap * sizeof(*l->c));
		l->in = xrealloc(l->in, l->cap * sizeof(*l->in));
	}
	snprintf(l->c[l->n].sha256, sizeof(l->c[l->n].sha256), "%s", sha256);
	l->c[l->n].size = rec->size;
	l->in[l->n++] = rec->in_bucket;
	return 0;
}

int
bucket_verify(struct bucket *b, struct store *st, FILE *out, struct bucket_verify_report *rep)
{
	struct store_view v;
	struct vlist l = { NULL, NULL, 0, 0 };
	char why[400];
	int r;

	memset(rep, 0, sizeof(*rep));
	if ((r = store_view_begin(st, &v)) == GG_OK)
		r = store_view_blobs(&v, vlist_cb, &l);
	store_view_end(&v);
	for (size_t i = 0; r == GG_OK && i < l.n; i++) {
		struct s3_result res;
		uint64_t size = 0;
		const char *sha = l.c[i].sha256;
		int h = s3_head(b->s3, sha, &size, &res), here = store_blob_exists(st, sha);
		int mark = -1;

		if (h == GG_OK && size == l.c[i].size) {
			rep->stored++;
			mark = 1;
		} else if (h == GG_OK) {
			rep->wrong++;
			mark = 0;
			fprintf(out, "wrong size in the blob store: %s (%llu bytes, not %llu)%s\n",
				sha, (unsigned long long)size, (unsigned long long)l.c[i].size,
				here ? ": serve stores it again" : "");
		} else if (h == GG_ENOENT && here) {
			rep->missing++;
			mark = 0;
			fprintf(out, "not in the blob store: %s: serve stores it\n", sha);
		} else if (h == GG_ENOENT) {
			rep->lost++;
			mark = 0;
			fprintf(out,
				"not here nor in the blob store: %s (fetched again from "
				"upstream when asked)\n",
				sha);
		} else {
			rep->errors++;
			fprintf(out, "cannot ask the blob store about %s: %s\n", sha,
				s3_result_str(&res, why, sizeof(why)));
		}
		if (mark >= 0 && mark != (l.in[i] != 0))
			r = store_mark_in_bucket(st, sha, mark);
		if (r == GG_ENOENT)
			r = GG_OK; /* dropped meanwhile */
	}
	free(l.c);
	free(l.in);
	return r;
}
