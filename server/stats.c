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
 */
#include "config.h"

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
	_Atomic uint64_t uploads[STATS_NUPLOADS];
} S;

static void
add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
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

	if ((unsigned)kind >= ROUTE_NKINDS)
		kind = ROUTE_NONE;
	if (status == 0) {
		i = NCODES + 1;
	} else {
		while (i < NCODES && codes[i] != status)
			i++;
	}
	add(&S.requests[kind][i], 1);
	for (size_t b = 0; b < NBUCKETS; b++)
		if (usec <= buckets_us[b])
			add(&S.duration_bucket[b], 1);
	add(&S.duration_count, 1);
	add(&S.duration_sum_us, usec);
}

void
stats_ttfb(enum route_kind kind, uint64_t usec)
{
	if ((unsigned)kind >= ROUTE_NKINDS)
		kind = ROUTE_NONE;
	for (size_t b = 0; b < NBUCKETS; b++)
		if (usec <= buckets_us[b])
			add(&S.ttfb_bucket[kind][b], 1);
	add(&S.ttfb_count[kind], 1);
	add(&S.ttfb_sum_us[kind], usec);
}

void
stats_served(enum stats_source src, uint64_t bytes)
{
	if ((unsigned)src >= STATS_NSOURCES)
		return;
	add(&S.served_bytes[src], bytes);
	add(&S.served_responses[src], 1);
}

void
stats_served_bytes(enum stats_source src, uint64_t bytes)
{
	if ((unsigned)src < STATS_NSOURCES)
		add(&S.served_bytes[src], bytes);
}

void
stats_upstream_bytes(uint64_t bytes)
{
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
	add(&S.upstream_requests[i], 1);
	add(&S.upstream_bytes, bytes);
}

void
stats_fetch_started(void)
{
	add(&S.fetches_started, 1);
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
	for (size_t i = 0; i < NBUCKETS; i++)
		r |= buf_printf(b, "ggufd_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
				(double)buckets_us[i] / 1e6,
				(unsigned long long)get(&S.duration_bucket[i]));
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
		for (size_t i = 0; i < NBUCKETS; i++)
			r |= buf_printf(b,
					"ggufd_request_ttfb_seconds_bucket{route=\"%s\",le=\"%g\"} "
					"%llu\n",
					name, (double)buckets_us[i] / 1e6,
					(unsigned long long)get(&S.ttfb_bucket[k][i]));
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
	r |= head(b, "ggufd_fetches_total", "counter",
		  "Content fetches from upstream (one per blob, however many clients wait).");
	r |= buf_printf(b, "ggufd_fetches_total{result=\"started\"} %llu\n",
			(unsigned long long)get(&S.fetches_started));
	r |= buf_printf(b, "ggufd_fetches_total{result=\"verified\"} %llu\n",
			(unsigned long long)get(&S.fetches_ok));
	r |= buf_printf(b, "ggufd_fetches_total{result=\"failed\"} %llu\n",
			(unsigned long long)get(&S.fetches_failed));
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
