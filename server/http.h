/*
 * http.h: the HTTP core (libmicrohttpd) and what every handler uses.
 *
 * Every request walks the same short way, once:
 *
 *   uri_log_cb      the raw request target is kept (the router must split
 *                   the path before percent-decoding)
 *   access_cb       route_parse() -> the route table's row for its kind:
 *                     method not in the row          405 + Allow
 *                     auth_admit(): scope, needs     401 / 403 / 404 / 409
 *                     body mode                      none, buffered up to
 *                                                    body_max, or streamed
 *                                                    to the row's begin/end
 *                   then the row's handler queues exactly one response.
 *   completed_cb    the request's state is freed.
 *
 * The core names no handler: the table (routes.c) is handed to
 * server_start() with the application context (struct app, app.h), which
 * the core carries in every request without looking inside.
 *
 * Return convention of handler helpers that may answer early: 0, or a
 * negative GG_E* code after the answer was queued into *res.
 *
 * Thread safety: server_start/server_stop from the main thread only; a
 * struct req belongs to the libmicrohttpd thread that runs its connection
 * (and to an http_run_async worker while that runs).
 */
#ifndef GG_HTTP_H
#define GG_HTTP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "route.h"
#include "util.h"

struct app;
struct req;

/* --- the route table -------------------------------------------------------- */

/* Methods a row accepts; OPTIONS (CORS preflight) is answered by the core. */
#define HTTP_GET 0x01u
#define HTTP_HEAD 0x02u
#define HTTP_POST 0x04u
#define HTTP_PUT 0x08u
#define HTTP_DELETE 0x10u
#define HTTP_READ (HTTP_GET | HTTP_HEAD)

/*
 * Who may call a route (auth.c applies it):
 *   SCOPE_NONE    no rule (health checks; signed hrefs carry their own)
 *   SCOPE_PUBLIC  anyone, unless --require-token-for-read: then any valid
 *                 ggufd token; other bearers (a user's Hub token) ignored
 *   SCOPE_READ    any valid ggufd token
 *   SCOPE_UPLOAD  a token of upload scope or more
 *   SCOPE_ADMIN   an admin token; while none exists, loopback clients only
 */
enum route_scope { SCOPE_NONE, SCOPE_PUBLIC, SCOPE_READ, SCOPE_UPLOAD, SCOPE_ADMIN };

/* What a route needs configured, else 404 (gateway) or 409 (upstream);
 * NEED_VISIBLE: it reads r->route.repo, which must be public upstream or
 * the caller must hold a read token (visibility.h), else 401;
 * NEED_LISTING: it names repos (the dashboard's listings), and names only
 * those visibility_listed lets the caller see (its bearer looked at as
 * for NEED_VISIBLE). */
#define NEED_GATEWAY 0x01u
#define NEED_PULL 0x02u
#define NEED_VISIBLE 0x04u
#define NEED_LISTING 0x08u

enum body_mode {
	BODY_NONE,   /* any body bytes are discarded */
	BODY_BUFFER, /* r->body, at most body_max (0: GG_MAX_BODY_BYTES), else 413 */
	BODY_STREAM  /* begin() sets r->sink; end() answers after the last byte */
};

struct route_entry {
	enum route_kind kind;
	unsigned methods;
	enum route_scope scope;
	unsigned needs;
	enum body_mode body;
	size_t body_max;
	/* BODY_STREAM: 0 with r->sink set, or <0 after queueing into *res. */
	int (*begin)(struct req *r, enum MHD_Result *res);
	enum MHD_Result (*end)(struct req *r);
	/* BODY_NONE and BODY_BUFFER. */
	enum MHD_Result (*handle)(struct req *r);
};

/* --- a request -------------------------------------------------------------- */

struct req {
	struct server *srv;
	struct app *app; /* the handlers' context (app.h), borrowed */
	struct MHD_Connection *conn;
	char *raw_uri;        /* as received, owned */
	const char *path_end; /* end of the path part of raw_uri */
	const char *query;    /* after '?', or NULL (inside raw_uri) */
	const char *method;
	int is_head;
	const struct route_entry *entry;
	unsigned scope;     /* the caller's token scope (token.h), 0: none */
	int operator_known; /* auth_operator's answer, kept: 0 not asked, 1 no, 2 yes */
	struct buf body;
	int body_too_big;
	int started;
	int answered;       /* a response was queued (http_queue): nothing more to do */
	unsigned status;    /* the status queued (0: none yet) */
	uint64_t bytes;     /* a file response's body length, for the access log */
	const char *source; /* a file's: "hit", "miss", "coalesced"; or NULL */
	uint64_t t0_us;     /* when the request line arrived (now_us) */
	/* A blob this request's response reads, held from eviction by the
	 * handler; release (if set) is called when the request ends. */
	char held_blob[GG_SHA256_HEX + 1];
	void (*release)(struct req *r);
	/* held_blob's descriptor, if lent (store_blob_borrow, serve.c):
	 * read with pread, never closed by the request. */
	int lent;
	int lent_fd;
	int lent_slot;
	/* Time to first byte (stats_ttfb): when the response was queued, and
	 * when a content reader (http_response_reader) first gave bytes, an
	 * end or an error; 0 until then.  The reader's time wins. */
	uint64_t queued_us;
	uint64_t first_read_us;
	int counted; /* counted in the server's requests in progress */
	/* A streamed request body (BODY_STREAM): each chunk goes to
	 * sink_data instead of body; sink_free releases it when the request
	 * ends. */
	void *sink;
	int (*sink_data)(struct req *r, const char *data, size_t n);
	void (*sink_free)(void *sink);
	/* Work done off the MHD thread (http_run_async).  async_state is
	 * written by the worker (2: done) and read by the MHD thread that the
	 * worker's MHD_resume_connection wakes: an atomic, so the hand-off
	 * does not rely on libmicrohttpd's internal locking. */
	_Atomic int async_state; /* 0 none, 1 running, 2 done */
	enum MHD_Result (*async_finish)(struct req *r);
	void *async_ctx;
	void (*async_free)(void *ctx);
	/* Its answer was sent by the fast lane (http_give): the stats and the
	 * access log line are the fast lane's. */
	int given;
	/* The large fields last: a struct req is reused by its connection's
	 * next request, and only what comes before these is zeroed then
	 * (http.c, req_init); they start as empty strings. */
	struct route route;                         /* parsed once; read-only for handlers */
	char token_name[GG_MAX_TOKEN_NAME + 1];     /* the token's name, "" without one */
	char token_bounds[GG_MAX_TOKEN_BOUNDS + 1]; /* its bounds (token.h), "" for none */
};

/* --- the server ------------------------------------------------------------- */

struct server_config {
	char host[256];         /* numeric address to bind, "0.0.0.0" or "::" */
	uint16_t port;          /* 0 picks a free port */
	unsigned threads;       /* pool size, >= 1 */
	const char *public_url; /* absolute base for links, or NULL: from Host */
	/* The route table, indexed by kind (routes[k].kind == k), and the
	 * context every request carries; both borrowed until server_stop. */
	const struct route_entry *routes;
	size_t nroutes;
	struct app *app;
	/* Connection limits; 0 takes the default in gg_limits.h, except
	 * per_ip_connections where 0 means no limit.  max_connections is
	 * libmicrohttpd's, shared out among the threads, so it should be at
	 * least threads; idle connections are shed to keep 1/16 of it free.
	 * per_ip_connections is ggufd's: one more connection from an address
	 * sheds that address's longest-idle one, or is refused if none is
	 * idle (conns.c). */
	unsigned max_connections;    /* GG_MAX_CONNECTIONS */
	unsigned per_ip_connections; /* GG_MAX_PER_IP_CONN; 0: none */
	unsigned connection_timeout; /* idle seconds, GG_CONN_TIMEOUT_SEC */
	size_t connection_memory;    /* bytes per connection, GG_CONN_MEMORY */
	/* Seconds from a connection's start, or its previous request's end,
	 * to the end of the next request's headers (0: connection_timeout). */
	unsigned header_timeout;
	/* Stored files answered by the fast lane (fastlane.h); 0: every
	 * request goes through libmicrohttpd. */
	int fast_lane;
};

struct server;

/*
 * Parses "HOST:PORT", "[V6]:PORT" or ":PORT" into cfg->host/port.
 * Returns 0 or GG_EINVAL.
 */
int server_parse_listen(const char *s, struct server_config *cfg);

/*
 * Starts serving.  Writes the bound "http://host:port" into bound (n
 * bytes).  Returns 0 or GG_EIO.
 */
int server_start(const struct server_config *cfg, struct server **out, char *bound, size_t n);
/*
 * The start of a graceful stop (a drain): the listening socket stops
 * accepting at once (a new connection is refused, not queued), and every
 * response queued from now on carries "Connection: close", so that a
 * keep-alive connection ends with the request it is serving.  Requests
 * already running go on.  Returns the number of requests in progress (as
 * server_active).  Idempotent; srv may not be NULL.
 */
unsigned server_quiesce(struct server *srv);
/*
 * Requests in progress: from the end of their headers until libmicrohttpd
 * reports them completed (the last byte sent, or the connection cut).
 * An idle keep-alive connection is not one.
 */
unsigned server_active(struct server *srv);
/*
 * Stops: connections still open are closed (responses still being sent
 * are cut), then frees.  Waits for the http_run_async workers first.
 * Accepts NULL.
 */
void server_stop(struct server *srv);

/* --- helpers for handlers --------------------------------------------------- */

/*
 * A BODY_STREAM route's begin() installs where the body goes: data() for
 * each chunk (its error is sticky in the sink; the end() answers it),
 * free_sink(sink) when the request ends, however it ends.
 */
void http_set_sink(struct req *r, void *sink,
		   int (*data)(struct req *r, const char *data, size_t n),
		   void (*free_sink)(void *sink));

/* 1 if the client connected from 127.0.0.0/8 or ::1. */
int http_client_is_loopback(struct req *r);
/* The client's numeric address ("10.0.0.7", "::1") into buf; "" if unknown. */
void http_client_addr(struct req *r, char *buf, size_t size);

/* The request header value, or NULL (borrowed for the request). */
const char *http_header(struct req *r, const char *name);
/* The bearer token of the Authorization header, or NULL (borrowed). */
const char *http_bearer(struct req *r);

/* 1 if the query string q, its %XX escapes decoded, is UTF-8 (a malformed
 * escape is taken as it is: libmicrohttpd keeps it literally). */
int http_query_utf8(const char *q);

/*
 * Query parameters, decoded ("+" is a space).  http_query_get returns the
 * first value of name (caller frees) or NULL; "name[]" counts as "name".
 * http_query_foreach calls cb for every value of name; http_form_foreach
 * does the same over an application/x-www-form-urlencoded body.
 */
char *http_query_get(struct req *r, const char *name);
void http_query_foreach(struct req *r, const char *name, void (*cb)(void *ctx, const char *value),
			void *ctx);
/*
 * Checks a request target (path and query, NUL-terminated as received)
 * whose length on the wire was wire_len: GG_ETOOBIG if either is over
 * GG_MAX_URL_LEN (414), GG_EINVAL if a NUL byte cut it short (the string
 * is shorter than wire_len) or the query holds a %00, GG_EFORMAT if the
 * query, its escapes decoded, is not UTF-8 (both 400), else 0.  A %00 or
 * a bad byte in the path is left to route_parse, which names it.  Pure
 * function, thread safe.
 */
int http_target_check(const char *target, size_t wire_len);

/*
 * Checks an application/x-www-form-urlencoded body [body, body+len) before
 * its values are used: every "%" starts a two-hex-digit escape, none
 * decodes to NUL (a NUL would cut the value short), and every decoded key
 * and value is UTF-8.  Returns 0, or GG_EINVAL with *why (may be NULL) a
 * static text saying which.  Thread safe.
 */
int http_form_check(const char *body, size_t len, const char **why);
void http_form_foreach(const char *body, size_t len, const char *name,
		       void (*cb)(void *ctx, const char *value), void *ctx);
/* "true"/"1"/"True"/"yes" -> 1, anything else (or absent) -> 0. */
int http_query_bool(struct req *r, const char *name);

/* Absolute base URL for links ("http://host:port"), owned by the caller. */
char *http_base_url(struct req *r);

/* Adds the headers every response carries (CORS, Vary). */
void http_common_headers(struct MHD_Response *resp);

/*
 * A response over a buffer: MUST_FREE takes data (freed also on failure),
 * PERSISTENT borrows it.  Out of memory aborts with a log line (STYLE 8),
 * so the result is never NULL.
 */
struct MHD_Response *http_response_buffer(size_t len, void *data, enum MHD_ResponseMemoryMode mode);
/* An fd response of [off, off+len): takes fd.  NULL (fd closed, a line
 * logged) if libmicrohttpd refuses it: the caller answers 500. */
struct MHD_Response *http_response_fd(uint64_t len, int fd, uint64_t off);

/*
 * A response whose body comes from reader(cls, pos, buf, max) as
 * MHD_create_response_from_callback's, which also records when the
 * reader first returns something other than 0 (time to first byte,
 * stats.h).  free_cls(cls) runs when the response is destroyed, also
 * when NULL is returned (libmicrohttpd could not allocate).
 */
struct MHD_Response *http_response_reader(struct req *r, uint64_t size, size_t block,
					  MHD_ContentReaderCallback reader, void *cls,
					  MHD_ContentReaderFreeCallback free_cls);

/* Queues resp with status and destroys our reference to it. */
enum MHD_Result http_queue(struct req *r, unsigned status, struct MHD_Response *resp);
/*
 * A response kept for many requests (respcache.c): complete, with
 * http_common_headers added once when it was built, never changed after.
 * http_queue_kept queues it with no header added and no reference
 * dropped; 0 (nothing queued) while the server drains, whose answers
 * must say "Connection: close": then build a fresh one.
 */
int http_queue_kept(struct req *r, unsigned status, struct MHD_Response *resp,
		    enum MHD_Result *res);
/*
 * The same without the drain check, for a response that was just kept
 * after the caller checked http_draining: a drain that began in between
 * closes the connection after this answer anyway.
 */
void http_queue_kept_now(struct req *r, unsigned status, struct MHD_Response *resp,
			 enum MHD_Result *res);
/* 1 once the server drains (server_quiesce). */
int http_draining(struct req *r);

/* A header value made safe in place: control bytes (CR, LF, ...) become
 * spaces. */
void http_header_safe(char *s);

/*
 * A Hub-style error: JSON body {"error": message}, X-Error-Code (when
 * code is not NULL) and X-Error-Message, plus X-Repo-Commit when commit is
 * not NULL.
 */
enum MHD_Result http_error(struct req *r, unsigned status, const char *code, const char *message,
			   const char *commit);
/* The same answer, for the caller to add headers to and queue with
 * http_queue.  Never NULL. */
struct MHD_Response *http_error_response(const char *code, const char *message, const char *commit);

/* Maps a GG_E* code to a status: the one place that decides it. */
unsigned http_status_for_error(int err);
/* Answers err as http_error does, with "what: <gg_strerror(err)>". */
enum MHD_Result http_error_from(struct req *r, int err, const char *what);

/* gzip (RFC 1952) in and out of a bounded buffer: 0, GG_ETOOBIG,
 * GG_ECORRUPT (not gzip), GG_EIO. */
int http_gzip(const char *in, size_t n, struct buf *out);
int http_gunzip(const void *in, size_t n, struct buf *out);

/*
 * A JSON response (takes json, a malloc'ed string), gzip'd when the client
 * accepts it and it is worth it.  Never NULL.  http_json queues it with
 * status; http_json_response returns it for the caller to add headers to
 * and queue with http_queue.
 */
struct MHD_Response *http_json_response(struct req *r, char *json);
enum MHD_Result http_json(struct req *r, unsigned status, char *json);

/*
 * Runs work(r) on its own thread with the connection suspended; when it
 * returns, the connection is resumed and finish(r) queues the response
 * (from an MHD thread, as MHD requires).  ctx is r->async_ctx, freed with
 * ctx_free when the request ends.  Returns MHD_YES, or an error response.
 */
enum MHD_Result http_run_async(struct req *r, void (*work)(struct req *r),
			       enum MHD_Result (*finish)(struct req *r), void *ctx,
			       void (*ctx_free)(void *ctx));

/*
 * The answer to a GET from a download in progress (serve.c), given to the
 * fast lane to send with sendfile as the bytes land, instead of copying
 * them twice through libmicrohttpd: only for the first request of a
 * connection the fast lane handed over (server_handoff's head), and only
 * once the slow path recorded the fast lane's entry for it.  The fast
 * lane answers that head from the entry (the same status, headers and
 * bytes, with "Connection: close": the connection ends with it) on a dup
 * of the socket while libmicrohttpd's connection waits, suspended; then
 * libmicrohttpd closes its side.  If the fast lane declines (the fetch
 * ended meanwhile, the entry is gone), resp is queued here as usual.
 * A request pipelined behind it on the connection gets no answer (the
 * connection ends: the client sends it again, RFC 9112 9.3.2).
 * Returns 1 if given (resp is kept, and the request's stats and access
 * log line are the fast lane's), 0: the caller queues resp.
 */
int http_give(struct req *r, unsigned status, struct MHD_Response *resp);

/* --- for the fast lane (fastlane.c) ----------------------------------------- */

struct conn;
struct sockaddr;
/* A connection the fast lane accepted, counted and admitted like
 * libmicrohttpd's (the address's limit, shedding of idle ones, the header
 * deadline: a shed one is shut down, which the fast lane sees as its
 * end).  NULL when the server is at its connection limit: the caller
 * closes fd. */
struct conn *server_conn_open(struct server *srv, int fd, const struct sockaddr *sa);
/* 1 while the server has as many connections as it takes. */
int server_conn_full(struct server *srv);
/* Forgets a connection (the caller closes or hands over its fd). */
void server_conn_close(struct server *srv, struct conn *e);
/* 1: a response is on its way (never shed); 0: it ended now, the
 * connection is idle from now. */
void server_conn_mark(struct server *srv, struct conn *e, int in_request);
/* Gives fd to libmicrohttpd, its next request unread in the socket, with
 * its record e (server_conn_open's, which libmicrohttpd's connection
 * takes over: never uncounted meanwhile); libmicrohttpd closes fd, even
 * on failure.  head[0, hlen) (or NULL): that request's head, a plain GET
 * the fast lane had no answer for yet, kept with the connection so that
 * the fast lane may send the slow path's answer to it (http_give). */
void server_handoff(struct server *srv, struct conn *e, int fd, const struct sockaddr *sa,
		    unsigned len, const char *head, size_t hlen);
/* Requests in progress (server_active): +1 when one starts, -1 at its end. */
void server_request_count(struct server *srv, int delta);
int server_is_draining(struct server *srv);
/* One access log line from its fields (the same format for both lanes);
 * rid is the X-Request-Id value (rid_len bytes, not NUL-terminated) or NULL. */
void http_access_log(const struct sockaddr *sa, const char *method, const char *path, size_t plen,
		     unsigned status, int has_bytes, uint64_t bytes, uint64_t usec,
		     const char *source, const char *rid, size_t rid_len);
/* The headers http_common_headers adds, as "Name: value\r\n" lines. */
const char *http_common_headers_text(void);

#endif
