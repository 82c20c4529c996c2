/*
 * handlers.h: what the route handlers share (internal to server/).
 *
 * A handler receives a struct req whose route is parsed and whose body
 * (for POST) is complete, and must queue exactly one response through the
 * http_* helpers below, which add the common headers (CORS, Server).  It
 * returns the MHD_Result of that queueing.
 *
 * Storage errors become HTTP statuses only in http_status_for_error().
 */
#ifndef GG_HANDLERS_H
#define GG_HANDLERS_H

#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "route.h"
#include "fetch.h"
#include "store.h"
#include "upstream.h"
#include "util.h"

struct server;

struct req {
	struct server *srv;
	struct MHD_Connection *conn;
	char *raw_uri;        /* as received, owned */
	const char *path_end; /* end of the path part of raw_uri */
	const char *query;    /* after '?', or NULL (inside raw_uri) */
	const char *method;
	int is_head;
	struct route route;
	struct buf body;
	int body_too_big;
	int ggufd_api; /* /api/ggufd/...: ggufd's own operator routes */
	int started;
	/* A streamed request body (uploads): each chunk goes to sink_data
	 * instead of body; sink_free releases it when the request ends. */
	void *sink;
	int (*sink_data)(struct req *r, const char *data, size_t n);
	void (*sink_free)(void *sink);
	/* Work done off the MHD thread: the connection is suspended until
	 * async_finish can queue the response (http_run_async). */
	int async_state; /* 0 none, 1 running, 2 done */
	enum MHD_Result (*async_finish)(struct req *r);
	void *async_ctx;
	void (*async_free)(void *ctx);
};

/* Accessors for the server's shared state. */
struct store *http_store(struct req *r);
/* The upstream to ask now: NULL without one, or when offline. */
struct upstream *http_upstream(struct req *r);
/* The configured upstream's base URL, even when offline ("" without). */
const char *http_upstream_base(struct req *r);
/* 1 if an upstream is configured (even when offline). */
int http_has_upstream(struct req *r);
struct fetcher *http_fetcher(struct req *r);
unsigned http_ref_ttl(struct req *r);
struct pull_jobs *http_jobs(struct req *r);
/* 1 if the client connected from 127.0.0.0/8 or ::1. */
int http_client_is_loopback(struct req *r);

/* The request header value, or NULL (borrowed for the request). */
const char *http_header(struct req *r, const char *name);

/*
 * Query parameters, decoded ("+" is a space).  http_query_get returns the
 * first value of name (caller frees) or NULL; "name[]" counts as "name".
 * http_query_foreach calls cb for every value of name.
 */
char *http_query_get(struct req *r, const char *name);
void http_query_foreach(struct req *r, const char *name,
			void (*cb)(void *ctx, const char *value), void *ctx);
/* "true"/"1"/"True"/"yes" -> 1, anything else (or absent) -> 0. */
int http_query_bool(struct req *r, const char *name);

/* Absolute base URL for links ("http://host:port"), owned by the caller. */
char *http_base_url(struct req *r);

/* Adds the headers every response carries (CORS, Vary). */
void http_common_headers(struct MHD_Response *resp);

/* Queues resp with status and destroys our reference to it. */
enum MHD_Result http_queue(struct req *r, unsigned status, struct MHD_Response *resp);

/*
 * A Hub-style error: JSON body {"error": message}, X-Error-Code (when
 * code is not NULL) and X-Error-Message, plus X-Repo-Commit when commit is
 * not NULL.
 */
enum MHD_Result http_error(struct req *r, unsigned status, const char *code, const char *message,
			   const char *commit);

/* Maps a GG_E* code to a status and answers with http_error. */
unsigned http_status_for_error(int err);
enum MHD_Result http_error_from(struct req *r, int err, const char *what);

/* gzip (RFC 1952) in and out of a bounded buffer: 0, GG_ETOOBIG,
 * GG_ECORRUPT (not gzip), GG_EIO. */
int http_gzip(const char *in, size_t n, struct buf *out);
int http_gunzip(const void *in, size_t n, struct buf *out);

/* Queues a JSON body (takes ownership of json, a malloc'ed string). */
enum MHD_Result http_json(struct req *r, unsigned status, char *json, struct MHD_Response **out);

/* Repo-level lookups shared by the handlers: resolve the route's rev (or
 * "main" when absent) into commit, answering the Hub's errors itself.
 * Returns 0 with *t open (read txn; caller aborts it), or a negative code
 * after the error response has been queued into *result. */
int http_resolve_commit(struct req *r, struct index_txn **t, char commit[GG_SHA1_HEX + 1],
			enum MHD_Result *result);

/*
 * Runs work(r) on its own thread with the connection suspended; when it
 * returns, the connection is resumed and finish(r) queues the response
 * (from an MHD thread, as MHD requires).  ctx is r->async_ctx, freed with
 * ctx_free when the request ends.  Returns MHD_YES, or an error response.
 */
enum MHD_Result http_run_async(struct req *r, void (*work)(struct req *r),
			       enum MHD_Result (*finish)(struct req *r), void *ctx,
			       void (*ctx_free)(void *ctx));

/* The bearer token of the Authorization header, or NULL (borrowed). */
const char *http_bearer(struct req *r);

/* Gateway routes (gateway.c). */
struct gateway;
struct gateway *http_gateway(struct req *r);
/* Called on the first callback of a request the gateway streams (PUT
 * uploads): returns 1 if it took the request (r->sink set, or a response
 * queued into *res), 0 if not its route. */
int gateway_begin(struct req *r, enum MHD_Result *res);
/* The last callback of a streamed request. */
enum MHD_Result gateway_end(struct req *r);
enum MHD_Result gateway_route(struct req *r);
int gateway_is_route(enum route_kind k);

/* Handlers. */
enum MHD_Result handle_resolve(struct req *r);
enum MHD_Result handle_api_info(struct req *r);
enum MHD_Result handle_api_tree(struct req *r);
enum MHD_Result handle_api_paths_info(struct req *r);
enum MHD_Result handle_api_refs(struct req *r);
enum MHD_Result handle_healthz(struct req *r);
enum MHD_Result handle_index(struct req *r);
enum MHD_Result handle_ggufd_api(struct req *r);

#endif
