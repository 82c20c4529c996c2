/*
 * metrics.c: GET /metrics, the counters of stats.c and a few gauges read
 * now (fetches in flight and their readers, the store's blobs), in the
 * Prometheus text format (version 0.0.4).
 */
#include "config.h"

#include <stdlib.h>

#include "app.h"
#include "bucket.h"
#include "fetch.h"
#include "log.h"
#include "fastlane.h"
#include "metrics.h"
#include "stats.h"
#include "store.h"

enum MHD_Result
metrics_handle(struct req *r)
{
	struct stats_gauges g = { 0 };
	struct store_usage u;
	struct MHD_Response *resp;
	struct buf b;
	size_t len;
	char *txt;
	int rc;

	fetcher_gauges(r->app->fm, &g.fetches, &g.fetch_readers);
	if (store_usage(r->app->st, &u, NULL, 0, NULL) == GG_OK) {
		g.have_store = 1;
		g.blobs = u.blobs;
		g.blob_bytes = u.used_bytes;
		g.pinned_bytes = u.pinned_bytes;
		g.quota_bytes = u.max_bytes;
		g.evictable_bytes = u.evictable_bytes;
		g.writing_bytes = u.reserved_bytes;
		g.evictions = u.evictions;
		g.evicted_bytes = u.evicted_bytes;
	}
	buf_init(&b, GG_MAX_METRICS_BYTES);
	rc = stats_prometheus(&g, &b);
	if (rc == GG_OK)
		rc = bucket_prometheus(r->app->bucket, &b);
	if (rc == GG_OK)
		rc = upstream_prometheus(r->app->up, &b);
	if (rc == GG_OK)
		rc = fastlane_prometheus(&b);
	if (rc != GG_OK) {
		buf_free(&b);
		return http_error_from(r, rc, "metrics");
	}
	txt = buf_steal(&b, &len);
	resp = http_response_buffer(len, txt, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	return http_queue(r, MHD_HTTP_OK, resp);
}
