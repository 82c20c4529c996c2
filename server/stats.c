/*
 * stats.c: the counters behind GET /metrics (see stats.h).
 *
 *   # TYPE ggufd_http_requests_total counter
 *   ggufd_http_requests_total{route="resolve",code="206"} 42
 *   # TYPE ggufd_http_request_duration_seconds histogram
 *   ggufd_http_request_duration_seconds_bucket{le="0.005"} 40
 *   ...
 *   # TYPE ggufd_request_ttfb_seconds histogram
 *   ggufd_request_ttfb_seconds_bucket{route="resolve",le="0.001"} 12
 *   ...
 *
 * Names and units follow the Prometheus conventions: counters end in
 * _total, sizes are _bytes, durations _seconds.
 *
 * The per-minute history keeps, for each of the last minutes, the main
 * totals as they stood when the minute began; a minute's figures are the
 * next minute's snapshot (or, for the current one, the totals now) minus
 * its own.  Every counting function first checks the minute (one
 * clock_gettime and one atomic load); the first call of a new minute
 * takes the snapshot, for that minute and for any idle minutes before it
 * (nothing was counted in those, so the totals then were the totals now).
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "stats.h"

/* The status codes counted one by one; any other is "other". */
static const unsigned codes[] = { 200, 204, 206, 304, 400, 401, 403, 404, 405, 409, 412,
				  413, 414, 416, 422, 429, 500, 501, 502, 503, 504, 507 };
#define NCODES (sizeof(codes) / sizeof(codes[0]))

/* Request duration buckets, microseconds (le, in seconds, when printed). */
static const uint64_t buckets_us[] = { 1000,   5000,    10000,   50000,    100000,
				       500000, 1000000, 5000000, 30000000, 300000000 };
#define NBUCKETS (sizeof(buckets_us) / sizeof(buckets_us[0]))

static struct {
	_Atomic uint64_t requests[ROUTE_NKINDS][NCODES + 2]; /* + other, + none */
	_Atomic uint64_t duration_bucket[NBUCKETS];
	_Atomic uint64_t duration_count, duration_sum_us;
	_Atomic uint64_t ttfb_bucket[ROUTE_NKINDS][NBUCKETS];
	_Atomic uint64_t ttfb_count[ROUTE_NKINDS], ttfb_sum_us[ROUTE_NKINDS];
	_Atomic uint64_t served_bytes[STATS_NSOURCES], served_responses[STATS_NSOURCES];
	_Atomic uint64_t upstream_requests[6]; /* none, 2xx, 3xx, 4xx, 429, 5xx */
	_Atomic uint64_t upstream_bytes;
	_Atomic uint64_t fetches_started, fetches_ok, fetches_failed, fetch_bytes;
	_Atomic uint64_t verify_failures; /* content that did not hash to its name */
	_Atomic uint64_t uploads[STATS_NUPLOADS];
} S;

/* The history: the totals at the start of each of the last minutes. */
enum { H_REQUESTS, H_STORE, H_FETCH, H_UPSTREAM, H_HITS, H_MISSES, H_N };
static struct {
	pthread_mutex_t mu;
	_Atomic uint64_t minute;               /* the newest snapshot's minute, 0: none */
	uint64_t at[GG_STATS_HISTORY_MIN];     /* the minute of each slot (under mu) */
	uint64_t v[GG_STATS_HISTORY_MIN][H_N]; /* totals as that minute began (under mu) */
} H = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* The upstream's health (under mu). */
static struct {
	pthread_mutex_t mu;
	int known, reachable;
	uint64_t since, last_ok, error_at, retry_after;
	char error[GG_MAX_UPSTREAM_ERROR];
} U = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void history_tick(void);

static void
add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* Histograms keep each bucket's own count (one atomic add per request,
 * not one per bucket above it: the hot path's counters are shared by every
 * thread); the export sums them into Prometheus's cumulative buckets. */
static void
add_bucket(_Atomic uint64_t *buckets, uint64_t usec)
{
	for (size_t b = 0; b < NBUCKETS; b++)
		if (usec <= buckets_us[b]) {
			add(&buckets[b], 1);
			return;
		}
}

static uint64_t
get(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void
stats_request(enum route_kind kind, unsigned status, uint64_t usec)
{
	size_t i = 0;

	history_tick();
	if ((unsigned)kind >= ROUTE_NKINDS)
		kind = ROUTE_NONE;
	if (status == 0) {
		i = NCODES + 1;
	} else {
		while (i < NCODES && codes[i] != status)
			i++;
	}
	add(&S.requests[kind][i], 1);
	add_bucket(S.duration_bucket, usec);
	add(&S.duration_count, 1);
	add(&S.duration_sum_us, usec);
}

void
stats_ttfb(enum route_kind kind, uint64_t usec)
{
	if ((unsigned)kind >= ROUTE_NKINDS)
		kind = ROUTE_NONE;
	add_bucket(S.ttfb_bucket[kind], usec);
	add(&S.ttfb_count[kind], 1);
	add(&S.ttfb_sum_us[kind], usec);
}

void
stats_served(enum stats_source src, uint64_t bytes)
{
	if ((unsigned)src >= STATS_NSOURCES)
		return;
	history_tick();
	add(&S.served_bytes[src], bytes);
	add(&S.served_responses[src], 1);
}

void
stats_served_bytes(enum stats_source src, uint64_t bytes)
{
	if ((unsigned)src >= STATS_NSOURCES)
		return;
	history_tick();
	add(&S.served_bytes[src], bytes);
}

void
stats_upstream_bytes(uint64_t bytes)
{
	history_tick();
	add(&S.upstream_bytes, bytes);
}

void
stats_upstream(long status, uint64_t bytes)
{
	int i = status <= 0     ? 0
		: status == 429 ? 4
		: status >= 500 ? 5
		: status >= 400 ? 3
		: status >= 300 ? 2
				: 1;
	history_tick();
	add(&S.upstream_requests[i], 1);
	add(&S.upstream_bytes, bytes);
}

void
stats_fetch_started(void)
{
	add(&S.fetches_started, 1);
}

void
stats_verify_failed(void)
{
	add(&S.verify_failures, 1);
}

void
stats_fetch_ended(int ok)
{
	add(ok ? &S.fetches_ok : &S.fetches_failed, 1);
}

void
stats_fetch_bytes(uint64_t n)
{
	add(&S.fetch_bytes, n);
}

void
stats_upload(enum stats_upload what)
{
	if ((unsigned)what < STATS_NUPLOADS)
		add(&S.uploads[what], 1);
}

void
stats_totals(struct stats_totals *t)
{
	memset(t, 0, sizeof(*t));
	t->requests = get(&S.duration_count);
	t->served_store = get(&S.served_bytes[STATS_STORE]);
	t->served_fetch = get(&S.served_bytes[STATS_FETCH]);
	t->upstream_bytes = get(&S.upstream_bytes);
	for (size_t i = 0; i < 6; i++)
		t->upstream_requests += get(&S.upstream_requests[i]);
	t->fetches_started = get(&S.fetches_started);
	t->fetches_ok = get(&S.fetches_ok);
	t->fetches_failed = get(&S.fetches_failed);
	t->hits = get(&S.served_responses[STATS_STORE]);
	t->misses = get(&S.served_responses[STATS_FETCH]);
}

/* --- the history ----------------------------------------------------------------- */

static void
history_now(uint64_t v[H_N])
{
	v[H_REQUESTS] = get(&S.duration_count);
	v[H_STORE] = get(&S.served_bytes[STATS_STORE]);
	v[H_FETCH] = get(&S.served_bytes[STATS_FETCH]);
	v[H_UPSTREAM] = get(&S.upstream_bytes);
	v[H_HITS] = get(&S.served_responses[STATS_STORE]);
	v[H_MISSES] = get(&S.served_responses[STATS_FETCH]);
}

/* Takes the snapshot of a new minute (and of the idle minutes before it)
 * the first time a minute is seen; called before anything is counted. */
static void
history_tick(void)
{
	uint64_t m = now_unix() / 60, last, from, v[H_N];

	if (atomic_load_explicit(&H.minute, memory_order_acquire) == m)
		return;
	pthread_mutex_lock(&H.mu);
	last = atomic_load_explicit(&H.minute, memory_order_relaxed);
	if (last != m) {
		history_now(v);
		/* From the minute after the last snapshot; only the current one
		 * at the first count, or when the clock went back. */
		from = last == 0 || last > m ? m : last + 1;
		if (m - from >= GG_STATS_HISTORY_MIN)
			from = m - (GG_STATS_HISTORY_MIN - 1);
		for (uint64_t x = from; x <= m; x++) {
			H.at[x % GG_STATS_HISTORY_MIN] = x;
			memcpy(H.v[x % GG_STATS_HISTORY_MIN], v, sizeof(v));
		}
		atomic_store_explicit(&H.minute, m, memory_order_release);
	}
	pthread_mutex_unlock(&H.mu);
}

static uint64_t
grew(uint64_t to, uint64_t from)
{
	return to > from ? to - from : 0;
}

size_t
stats_history(struct stats_minute *out, size_t max)
{
	uint64_t m, now[H_N];
	size_t n = 0;

	history_tick();
	pthread_mutex_lock(&H.mu);
	m = atomic_load_explicit(&H.minute, memory_order_relaxed);
	history_now(now);
	for (uint64_t x = m + 1 - GG_STATS_HISTORY_MIN; x <= m && n < max; x++) {
		size_t i = x % GG_STATS_HISTORY_MIN, j = (x + 1) % GG_STATS_HISTORY_MIN;
		const uint64_t *end = x == m ? now : H.v[j];
		if (H.at[i] != x || (x != m && H.at[j] != x + 1))
			continue; /* before the first count, or the clock went back */
		out[n].t = x * 60;
		out[n].requests = grew(end[H_REQUESTS], H.v[i][H_REQUESTS]);
		out[n].served_store = grew(end[H_STORE], H.v[i][H_STORE]);
		out[n].served_fetch = grew(end[H_FETCH], H.v[i][H_FETCH]);
		out[n].upstream_bytes = grew(end[H_UPSTREAM], H.v[i][H_UPSTREAM]);
		out[n].hits = grew(end[H_HITS], H.v[i][H_HITS]);
		out[n].misses = grew(end[H_MISSES], H.v[i][H_MISSES]);
		n++;
	}
	pthread_mutex_unlock(&H.mu);
	return n;
}

/* --- the upstream's health ------------------------------------------------------- */

void
stats_upstream_health(long status, uint64_t retry_after, const char *error)
{
	uint64_t now = now_unix();
	int up = status > 0 && status < 500;

	pthread_mutex_lock(&U.mu);
	if (!U.known || U.reachable != up)
		U.since = now;
	U.known = 1;
	U.reachable = up;
	if (up)
		U.last_ok = now;
	if (status == 429 && retry_after > 0)
		U.retry_after = retry_after;
	if (error != NULL) {
		size_t n = strnlen(error, sizeof(U.error) - 1);
		memcpy(U.error, error, n);
		U.error[n] = '\0';
		U.error_at = now;
	}
	pthread_mutex_unlock(&U.mu);
}

void
stats_health(struct stats_health *h)
{
	memset(h, 0, sizeof(*h));
	pthread_mutex_lock(&U.mu);
	h->known = U.known;
	h->reachable = U.reachable;
	h->since = U.since;
	h->last_ok = U.last_ok;
	h->error_at = U.error_at;
	memcpy(h->error, U.error, sizeof(h->error));
	h->retry_after = U.retry_after;
	pthread_mutex_unlock(&U.mu);
	h->too_many = get(&S.upstream_requests[4]);
}

/* --- the exposition ------------------------------------------------------------ */

static int
head(struct buf *b, const char *name, const char *type, const char *help)
{
	return buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int
stats_prometheus(const struct stats_gauges *g, struct buf *b)
{
	static const char *const sources[] = { "store", "fetch" };
	static const char *const uploads[] = { "published", "pending", "refused_upstream",
					       "refused_policy" };
	static const char *const classes[] = { "none", "2xx", "3xx", "4xx", "429", "5xx" };
	uint64_t cum;
	int r = GG_OK;

	r |= head(b, "ggufd_http_requests_total", "counter",
		  "Requests answered, by route and status code.");
	for (size_t k = 0; k < ROUTE_NKINDS; k++) {
		for (size_t i = 0; i < NCODES + 2; i++) {
			uint64_t n = get(&S.requests[k][i]);
			char code[16];
			if (n == 0)
				continue;
			if (i < NCODES)
				snprintf(code, sizeof(code), "%u", codes[i]);
			else
				snprintf(code, sizeof(code), "%s", i == NCODES ? "other" : "none");
			r |= buf_printf(
				b, "ggufd_http_requests_total{route=\"%s\",code=\"%s\"} %llu\n",
				route_kind_name((enum route_kind)k), code, (unsigned long long)n);
		}
	}
	r |= head(b, "ggufd_http_request_duration_seconds", "histogram",
		  "Time from the request line to the end of the response.");
	cum = 0;
	for (size_t i = 0; i < NBUCKETS; i++) {
		cum += get(&S.duration_bucket[i]);
		r |= buf_printf(b, "ggufd_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
				(double)buckets_us[i] / 1e6, (unsigned long long)cum);
	}
	r |= buf_printf(b, "ggufd_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
			(unsigned long long)get(&S.duration_count));
	r |= buf_printf(b, "ggufd_http_request_duration_seconds_sum %.6f\n",
			(double)get(&S.duration_sum_us) / 1e6);
	r |= buf_printf(b, "ggufd_http_request_duration_seconds_count %llu\n",
			(unsigned long long)get(&S.duration_count));
	r |= head(
		b, "ggufd_request_ttfb_seconds", "histogram",
		"Time from the request line to the first body byte handed to the socket "
		"(a streamed response: its first read; otherwise: when it was queued), by route.");
	for (size_t k = 0; k < ROUTE_NKINDS; k++) {
		const char *name = route_kind_name((enum route_kind)k);
		uint64_t n = get(&S.ttfb_count[k]);
		if (n == 0)
			continue;
		cum = 0;
		for (size_t i = 0; i < NBUCKETS; i++) {
			cum += get(&S.ttfb_bucket[k][i]);
			r |= buf_printf(b,
					"ggufd_request_ttfb_seconds_bucket{route=\"%s\",le=\"%g\"} "
					"%llu\n",
					name, (double)buckets_us[i] / 1e6, (unsigned long long)cum);
		}
		n = get(&S.ttfb_count[k]); /* after the buckets: +Inf is never below them */
		r |= buf_printf(
			b, "ggufd_request_ttfb_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
			name, (unsigned long long)n);
		r |= buf_printf(b, "ggufd_request_ttfb_seconds_sum{route=\"%s\"} %.6f\n", name,
				(double)get(&S.ttfb_sum_us[k]) / 1e6);
		r |= buf_printf(b, "ggufd_request_ttfb_seconds_count{route=\"%s\"} %llu\n", name,
				(unsigned long long)n);
	}
	r |= head(b, "ggufd_served_bytes_total", "counter",
		  "Bytes of file responses queued, by where they came from.");
	for (size_t i = 0; i < STATS_NSOURCES; i++)
		r |= buf_printf(b, "ggufd_served_bytes_total{source=\"%s\"} %llu\n", sources[i],
				(unsigned long long)get(&S.served_bytes[i]));
	r |= head(b, "ggufd_served_responses_total", "counter",
		  "File responses queued, by where they came from.");
	for (size_t i = 0; i < STATS_NSOURCES; i++)
		r |= buf_printf(b, "ggufd_served_responses_total{source=\"%s\"} %llu\n", sources[i],
				(unsigned long long)get(&S.served_responses[i]));
	r |= head(b, "ggufd_upstream_requests_total", "counter",
		  "HTTP exchanges with upstream, by status class (none: no answer).");
	for (size_t i = 0; i < 6; i++)
		r |= buf_printf(b, "ggufd_upstream_requests_total{status=\"%s\"} %llu\n",
				classes[i], (unsigned long long)get(&S.upstream_requests[i]));
	r |= head(b, "ggufd_upstream_received_bytes_total", "counter",
		  "Body bytes received from upstream.");
	r |= buf_printf(b, "ggufd_upstream_received_bytes_total %llu\n",
			(unsigned long long)get(&S.upstream_bytes));
	{
		struct stats_health h;
		stats_health(&h);
		if (h.known) {
			r |= head(b, "ggufd_upstream_up", "gauge",
				  "1 if the last upstream exchange got an answer below 500 "
				  "(429 included), else 0.");
			r |= buf_printf(b, "ggufd_upstream_up %d\n", h.reachable);
		}
		r |= head(b, "ggufd_upstream_retry_after_seconds", "gauge",
			  "The Retry-After of the last upstream 429 that gave one (0: none); "
			  "429s are counted in ggufd_upstream_requests_total{status=\"429\"}.");
		r |= buf_printf(b, "ggufd_upstream_retry_after_seconds %llu\n",
				(unsigned long long)h.retry_after);
	}
	r |= head(b, "ggufd_fetches_total", "counter",
		  "Content fetches from upstream (one per blob, however many clients wait).");
	r |= buf_printf(b, "ggufd_fetches_total{result=\"started\"} %llu\n",
			(unsigned long long)get(&S.fetches_started));
	r |= buf_printf(b, "ggufd_fetches_total{result=\"verified\"} %llu\n",
			(unsigned long long)get(&S.fetches_ok));
	r |= buf_printf(b, "ggufd_fetches_total{result=\"failed\"} %llu\n",
			(unsigned long long)get(&S.fetches_failed));
	r |= head(b, "ggufd_verify_failures_total", "counter",
		  "Fetched content that did not hash to its name (discarded, never served whole).");
	r |= buf_printf(b, "ggufd_verify_failures_total %llu\n",
			(unsigned long long)get(&S.verify_failures));
	r |= head(b, "ggufd_fetch_landed_bytes_total", "counter",
		  "Bytes written to partial downloads.");
	r |= buf_printf(b, "ggufd_fetch_landed_bytes_total %llu\n",
			(unsigned long long)get(&S.fetch_bytes));
	r |= head(b, "ggufd_uploads_total", "counter", "Upload publish attempts, by outcome.");
	for (size_t i = 0; i < STATS_NUPLOADS; i++)
		r |= buf_printf(b, "ggufd_uploads_total{outcome=\"%s\"} %llu\n", uploads[i],
				(unsigned long long)get(&S.uploads[i]));
	r |= head(b, "ggufd_fetches_in_flight", "gauge", "Content fetches running now.");
	r |= buf_printf(b, "ggufd_fetches_in_flight %llu\n", (unsigned long long)g->fetches);
	r |= head(b, "ggufd_fetch_readers", "gauge", "Clients reading a fetch in flight.");
	r |= buf_printf(b, "ggufd_fetch_readers %llu\n", (unsigned long long)g->fetch_readers);
	if (g->have_store) {
		static const struct {
			const char *name, *type, *help;
			size_t off;
		} m[] = {
			{ "ggufd_store_blobs", "gauge", "Blobs present in the store.",
			  offsetof(struct stats_gauges, blobs) },
			{ "ggufd_store_blob_bytes", "gauge",
			  "Bytes of the blobs present in the store.",
			  offsetof(struct stats_gauges, blob_bytes) },
			{ "ggufd_store_pinned_bytes", "gauge", "Bytes of pinned blobs present.",
			  offsetof(struct stats_gauges, pinned_bytes) },
			{ "ggufd_store_quota_bytes", "gauge",
			  "The store's byte budget (--max-store-size; 0: none).",
			  offsetof(struct stats_gauges, quota_bytes) },
			{ "ggufd_store_evictable_bytes", "gauge",
			  "Bytes of blobs eviction may take now (not pinned, read or staged).",
			  offsetof(struct stats_gauges, evictable_bytes) },
			{ "ggufd_store_writing_bytes", "gauge",
			  "Bytes reserved by fetches and uploads being written.",
			  offsetof(struct stats_gauges, writing_bytes) },
			{ "ggufd_store_evictions_total", "counter", "Blobs evicted to make room.",
			  offsetof(struct stats_gauges, evictions) },
			{ "ggufd_store_evicted_bytes_total", "counter",
			  "Bytes evicted to make room.",
			  offsetof(struct stats_gauges, evicted_bytes) },
		};
		for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
			uint64_t v;
			memcpy(&v, (const char *)g + m[i].off, sizeof(v));
			r |= head(b, m[i].name, m[i].type, m[i].help);
			r |= buf_printf(b, "%s %llu\n", m[i].name, (unsigned long long)v);
		}
	}
	return r == GG_OK ? GG_OK : GG_ETOOBIG;
}
