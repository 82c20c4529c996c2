/*
 * http.c: the libmicrohttpd daemon, the request lifecycle and the helpers
 * every handler uses to read a request and queue its answer (headers,
 * CORS, responses from buffers, readers and files).  JSON and error
 * answers, gzip, query strings and forms are httpbody.c's.
 *
 * Lifecycle of a request (libmicrohttpd calls access_cb several times):
 *   uri_log_cb        MHD hands us the raw target; we allocate struct req
 *                     and keep the raw URI (the router must split the path
 *                     before decoding, which MHD's own url argument has
 *                     already done).
 *   access_cb (1st)   OPTIONS -> preflight; route_parse; the table's row:
 *                     405 + Allow, auth_admit(), then the body mode (a
 *                     streamed body's begin() installs r->sink)
 *   access_cb (n)     body bytes go to the sink, or to r->body bounded by
 *                     the row's body_max (over it: 413 at the end)
 *   access_cb (last)  the sink's end(), or the row's handler, queues one
 *                     response
 *   access_cb (async) a handler that called http_run_async is resumed by
 *                     its worker (async_state 2) and its finish() queues
 *   completed_cb      the sink, the async context and struct req are freed
 *
 * A graceful stop (server_quiesce, then server_stop) counts requests in
 * progress from their first access_cb to completed_cb: an idle keep-alive
 * connection holds nothing, and once draining every response says
 * "Connection: close" so that no connection starts another request.
 *
 * A connection has a header deadline besides libmicrohttpd's idle timeout,
 * and idle connections are shed when the server or one address nears its
 * limit (conns.c).
 *
 * The core names no handler: it only follows the table it was given.
 * Status mapping: http_status_for_error() is the one place where a GG_E*
 * code becomes an HTTP status.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "accesslog.h"
#include "auth.h"
#include "fastlane.h"
#include "flentry.h"
#include "http.h"
#include "httpint.h"
#include "gg_limits.h"
#include "log.h"
#include "stats.h"
#include "util.h"

const char *
http_bearer(struct req *r)
{
	const char *a = http_header(r, "Authorization");
	if (a == NULL || strncasecmp(a, "Bearer ", 7) != 0)
		return NULL;
	a += 7;
	while (*a == ' ')
		a++;
	return *a ? a : NULL;
}

struct async_job {
	struct req *r;
	void (*work)(struct req *r);
};

void
http_async_end(struct server *srv, struct req *r)
{
	r->async_state = 2;
	pthread_mutex_lock(&srv->async_mu);
	MHD_resume_connection(r->conn);
	srv->async_active--;
	pthread_cond_broadcast(&srv->async_cv);
	pthread_mutex_unlock(&srv->async_mu);
}

static void *
async_thread(void *arg)
{
	struct async_job *j = arg;
	struct req *r = j->r;
	struct server *srv = r->srv;
	j->work(r);
	free(j);
	http_async_end(srv, r);
	return NULL;
}

enum MHD_Result
http_run_async(struct req *r, void (*work)(struct req *r), enum MHD_Result (*finish)(struct req *r),
	       void *ctx, void (*ctx_free)(void *ctx))
{
	struct async_job *j = xmalloc(sizeof(*j));
	pthread_attr_t attr;
	pthread_t tid;

	r->async_ctx = ctx;
	r->async_free = ctx_free;
	r->async_finish = finish;
	r->async_state = 1;
	j->r = r;
	j->work = work;
	/* Suspend first: the thread may finish and resume at once. */
	MHD_suspend_connection(r->conn);
	pthread_mutex_lock(&r->srv->async_mu);
	r->srv->async_active++;
	pthread_mutex_unlock(&r->srv->async_mu);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, async_thread, j) != 0) {
		pthread_attr_destroy(&attr);
		free(j);
		r->async_state = 0;
		pthread_mutex_lock(&r->srv->async_mu);
		r->srv->async_active--;
		pthread_mutex_unlock(&r->srv->async_mu);
		MHD_resume_connection(r->conn);
		return http_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "Cannot start a worker",
				  NULL);
	}
	pthread_attr_destroy(&attr);
	return MHD_YES;
}

int
http_client_is_loopback(struct req *r)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
		return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
		static const unsigned char v4mapped[12] = {
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
		};
		if (IN6_IS_ADDR_LOOPBACK(&a->sin6_addr))
			return 1;
		return memcmp(a->sin6_addr.s6_addr, v4mapped, 12) == 0 &&
		       a->sin6_addr.s6_addr[12] == 127;
	}
	return 0;
}

/* The text form of a client address ("" if none). */
static void
addr_text(const struct sockaddr *sa, char *buf, size_t size)
{
	buf[0] = '\0';
	if (sa != NULL && sa->sa_family == AF_INET &&
	    inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)size) ==
		    NULL)
		buf[0] = '\0';
	else if (sa != NULL && sa->sa_family == AF_INET6 &&
		 inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
			   (socklen_t)size) == NULL)
		buf[0] = '\0';
}

void
http_client_addr(struct req *r, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	addr_text(ci ? ci->client_addr : NULL, buf, size);
}

#define EXPOSE_HEADERS                                                                             \
	"X-Repo-Commit,X-Request-Id,X-Error-Code,X-Error-Message,X-Total-Count,ETag,Link,"         \
	"Accept-Ranges,Content-Range,X-Linked-Size,X-Linked-Etag,Content-Length"

const char *
http_header(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* http_common_headers as header lines, for the fast lane (the same set:
 * no answer it gives carries a Vary of its own). */
#define COMMON_HEADERS_TEXT                                                                        \
	"Access-Control-Allow-Origin: *\r\nAccess-Control-Expose-Headers: " EXPOSE_HEADERS         \
	"\r\nVary: Origin\r\nServer: ggufd/" PACKAGE_VERSION "\r\n"

const char *
http_common_headers_text(void)
{
	return COMMON_HEADERS_TEXT;
}

void
http_common_headers(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
	MHD_add_response_header(resp, "Access-Control-Expose-Headers", EXPOSE_HEADERS);
	if (MHD_get_response_header(resp, "Vary") == NULL)
		MHD_add_response_header(resp, "Vary", "Origin");
	MHD_add_response_header(resp, "Server", "ggufd/" PACKAGE_VERSION);
}

enum MHD_Result
http_queue(struct req *r, unsigned status, struct MHD_Response *resp)
{
	enum MHD_Result ret;
	r->answered = 1;
	r->status = status;
	r->queued_us = now_us();
	http_common_headers(resp);
	if (atomic_load(&r->srv->draining))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	flentry_answered(r);
	return ret;
}

int
http_draining(struct req *r)
{
	return atomic_load(&r->srv->draining);
}

int
http_queue_kept(struct req *r, unsigned status, struct MHD_Response *resp, enum MHD_Result *res)
{
	if (atomic_load(&r->srv->draining))
		return 0;
	http_queue_kept_now(r, status, resp, res);
	return 1;
}

void
http_queue_kept_now(struct req *r, unsigned status, struct MHD_Response *resp, enum MHD_Result *res)
{
	r->answered = 1;
	r->status = status;
	r->queued_us = now_us();
	*res = MHD_queue_response(r->conn, status, resp);
	flentry_answered(r);
}

struct MHD_Response *
http_response_buffer(size_t len, void *data, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, data, mode);
	/* libmicrohttpd fails here only when it cannot allocate. */
	if (resp == NULL)
		log_fatalx("MHD_create_response_from_buffer() failed: out of memory");
	return resp;
}

/* A content reader that notes when it first has something to say. */
struct timed_reader {
	struct req *r; /* borrowed: readers run only while the request does */
	MHD_ContentReaderCallback read;
	MHD_ContentReaderFreeCallback free_cls;
	void *cls;
};

static ssize_t
timed_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct timed_reader *t = cls;
	ssize_t n = t->read(t->cls, pos, buf, max);
	/* 0 is "nothing yet" (the reader suspended the connection). */
	if (n != 0 && t->r->first_read_us == 0)
		t->r->first_read_us = now_us();
	return n;
}

static void
timed_free(void *cls)
{
	struct timed_reader *t = cls;
	if (t->free_cls != NULL)
		t->free_cls(t->cls);
	free(t);
}

struct MHD_Response *
http_response_reader(struct req *r, uint64_t size, size_t block, MHD_ContentReaderCallback reader,
		     void *cls, MHD_ContentReaderFreeCallback free_cls)
{
	struct timed_reader *t = xmalloc(sizeof(*t));
	struct MHD_Response *resp;

	t->r = r;
	t->read = reader;
	t->free_cls = free_cls;
	t->cls = cls;
	resp = MHD_create_response_from_callback(size, block, timed_read, t, timed_free);
	if (resp == NULL)
		timed_free(t);
	return resp;
}

struct MHD_Response *
http_response_fd(uint64_t len, int fd, uint64_t off)
{
	struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64(len, fd, off);
	if (resp == NULL) {
		log_warnx("MHD_create_response_from_fd_at_offset64() of %llu bytes at %llu failed",
			  (unsigned long long)len, (unsigned long long)off);
		close(fd);
	}
	return resp;
}

void
http_set_sink(struct req *r, void *sink, int (*data)(struct req *r, const char *data, size_t n),
	      void (*free_sink)(void *sink))
{
	r->sink = sink;
	r->sink_data = data;
	r->sink_free = free_sink;
}

char *
http_base_url(struct req *r)
{
	const char *host = http_header(r, "Host");
	if (r->srv->public_url != NULL)
		return xstrdup(r->srv->public_url);
	/* Host comes from the client: accept only a plain host[:port]. */
	if (host != NULL && host[0] != '\0' && strlen(host) < 256 &&
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") ==
		    strlen(host))
		return xasprintf("http://%s", host);
	return xstrdup(r->srv->bound);
}

/* --- lifecycle ------------------------------------------------------------ */

/*
 * A struct req made ready for a request: all but its large last fields
 * zeroed (a reused one held another request), those made empty.  A
 * route is always written whole by route_parse before anything reads
 * past its first bytes.
 */
static void
req_init(struct req *r)
{
	memset(r, 0, offsetof(struct req, route));
	memset(&r->route, 0, offsetof(struct route, repo));
	r->route.repo[0] = r->route.rev[0] = r->route.path[0] = r->route.oid[0] = '\0';
	r->route.id = 0;
	r->route.why = NULL;
	r->token_name[0] = r->token_bounds[0] = '\0';
}

static void *
uri_log_cb(void *cls, const char *uri, struct MHD_Connection *con)
{
	struct req *r;
	char *q;

	/* A connection already shut (refused, shed, past its deadline) gets no
	 * request: access_cb ends it (MHD_NO), and nothing is logged. */
	if (conns_begin(cls, con, &r))
		return NULL;
	if (r == NULL)
		r = xmalloc(sizeof(*r));
	req_init(r);
	r->srv = cls;
	r->app = r->srv->app;
	r->t0_us = now_us();
	r->conn = con;
	r->raw_uri = xstrdup(uri ? uri : "");
	q = strchr(r->raw_uri, '?');
	if (q != NULL) {
		r->query = q + 1;
		r->path_end = q;
	} else {
		r->path_end = r->raw_uri + strlen(r->raw_uri);
	}
	buf_init(&r->body, GG_MAX_BODY_BYTES);
	return r;
}

void
http_access_log(const struct sockaddr *sa, const char *method, const char *path, size_t plen,
		unsigned status, int has_bytes, uint64_t bytes, uint64_t usec, const char *source,
		const char *rid, size_t rid_len)
{
	static _Atomic uint64_t seq;
	char when[32], addr[64], id[72], nbytes[24], line[GG_MAX_URL_LEN + 256];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	addr_text(sa, addr, sizeof(addr));
	if (addr[0] == '\0')
		snprintf(addr, sizeof(addr), "-");
	if (rid != NULL && rid_len > 0 && rid_len <= 64 &&
	    strspn(rid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") >=
		    rid_len)
		snprintf(id, sizeof(id), "%.*s", (int)rid_len, rid);
	else
		snprintf(id, sizeof(id), "ggufd-%llu",
			 (unsigned long long)atomic_fetch_add(&seq, 1) + 1);
	if (has_bytes)
		snprintf(nbytes, sizeof(nbytes), "%llu", (unsigned long long)bytes);
	else
		snprintf(nbytes, sizeof(nbytes), "-");
	if (plen > GG_MAX_URL_LEN)
		plen = GG_MAX_URL_LEN;
	n = snprintf(line, sizeof(line), "%s %s %s %.*s %u %s %.3f %s %s", when, addr,
		     method ? method : "-", (int)plen, path, status, nbytes, (double)usec / 1e6,
		     source ? source : "-", id);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	for (int i = 0; i < n; i++) /* no control byte reaches the log */
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	accesslog_write(line, (size_t)n);
}

/* One access log line (accesslog.h); the path without its query. */
static void
log_access(struct req *r, uint64_t usec)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const char *rid = http_header(r, "X-Request-Id");

	http_access_log(ci ? ci->client_addr : NULL, r->method, r->raw_uri,
			(size_t)(r->path_end - r->raw_uri), r->status,
			r->bytes > 0 || r->source != NULL, r->bytes, usec, r->source, rid,
			rid != NULL ? strlen(rid) : 0);
}

static void
completed_cb(void *cls, struct MHD_Connection *con, void **req_cls,
	     enum MHD_RequestTerminationCode toe)
{
	struct req *r = *req_cls;
	(void)cls;
	(void)con;
	(void)toe;
	if (r == NULL)
		return;
	if (!r->given) {
		uint64_t usec = now_us() - r->t0_us;
		uint64_t first = r->first_read_us ? r->first_read_us : r->queued_us;
		stats_request(r->route.kind, r->status, usec);
		if (r->status != 0 && first >= r->t0_us)
			stats_ttfb(r->route.kind, first - r->t0_us);
		if (accesslog_enabled())
			log_access(r, usec);
	}
	if (r->release != NULL)
		r->release(r);
	if (r->counted)
		atomic_fetch_sub(&r->srv->active, 1);
	conns_request(r->srv, con, 0);
	if (r->sink != NULL && r->sink_free != NULL)
		r->sink_free(r->sink);
	if (r->async_ctx != NULL && r->async_free != NULL)
		r->async_free(r->async_ctx);
	buf_free(&r->body);
	free(r->raw_uri);
	conns_end(con, r);
	*req_cls = NULL;
}

static enum MHD_Result
preflight(struct req *r)
{
	struct MHD_Response *resp = http_response_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	const char *want = http_header(r, "Access-Control-Request-Headers");
	char hdrs[512];

	MHD_add_response_header(resp, "Access-Control-Allow-Methods",
				"GET, HEAD, POST, PUT, DELETE, OPTIONS");
	if (want != NULL && strlen(want) < sizeof(hdrs) &&
	    snprintf_checked(hdrs, sizeof(hdrs), "%s", want) == GG_OK) {
		http_header_safe(hdrs);
		MHD_add_response_header(resp, "Access-Control-Allow-Headers", hdrs);
	} else {
		MHD_add_response_header(resp, "Access-Control-Allow-Headers",
					"Authorization, Range, Content-Type, If-None-Match, "
					"If-Range, X-Request-Id");
	}
	MHD_add_response_header(resp, "Access-Control-Max-Age", "86400");
	return http_queue(r, MHD_HTTP_NO_CONTENT, resp);
}

static unsigned
method_bit(const char *m)
{
	static const struct {
		const char *name;
		unsigned bit;
	} methods[] = { { "GET", HTTP_GET },
			{ "HEAD", HTTP_HEAD },
			{ "POST", HTTP_POST },
			{ "PUT", HTTP_PUT },
			{ "DELETE", HTTP_DELETE } };
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(m, methods[i].name) == 0)
			return methods[i].bit;
	return 0;
}

/* 405 with the Allow header built from the row's methods. */
static enum MHD_Result
method_not_allowed(struct req *r, unsigned methods)
{
	static const char *const names[] = { "GET", "HEAD", "POST", "PUT", "DELETE" };
	char allow[64] = "", msg[112];
	struct MHD_Response *resp;
	size_t o = 0;

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (methods & (1u << i))
			o += (size_t)snprintf(allow + o, sizeof(allow) - o, "%s, ", names[i]);
	snprintf(allow + o, sizeof(allow) - o, "OPTIONS");
	if (snprintf_checked(msg, sizeof(msg), "Method %s not allowed on this route (allowed: %s)",
			     strspn(r->method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == strlen(r->method) &&
					     strlen(r->method) < 16
				     ? r->method
				     : "?",
			     allow) != GG_OK)
		msg[0] = '\0';
	resp = http_error_response("MethodNotAllowed", msg, NULL);
	MHD_add_response_header(resp, "Allow", allow);
	return http_queue(r, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
}

/* True if the request declares a Content-Length over max. */
static int
declared_over(struct req *r, uint64_t max)
{
	const char *cl = http_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
	uint64_t n;

	/* libmicrohttpd refuses a malformed Content-Length itself. */
	return cl != NULL && parse_u64_str(cl, UINT64_MAX, &n) == GG_OK && n > max;
}

/*
 * 413 for a body declared over the route's cap, answered as soon as the
 * headers are in: nothing of the body is read, and the connection is
 * closed after the answer, since the unread body would otherwise be taken
 * for the next request.
 */
static enum MHD_Result
body_too_large(struct req *r, uint64_t max)
{
	struct MHD_Response *resp;
	char msg[160];

	if (snprintf_checked(msg, sizeof(msg),
			     "Request body too large: this route takes at most %llu bytes",
			     (unsigned long long)max) != GG_OK)
		msg[sizeof(msg) - 1] = '\0';
	log_debug("%s %s -> 413 %s", r->method, r->raw_uri, msg);
	resp = http_error_response("PayloadTooLarge", msg, NULL);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	return http_queue(r, MHD_HTTP_CONTENT_TOO_LARGE, resp);
}

/*
 * The request target's length on the wire.  libmicrohttpd
 * hands the target over as a C string, so "GET /r/resolve/main/a.json\0/x"
 * would reach us as ".../a.json" and be served.  It parses the request
 * line in place: the target runs from url to the space before the HTTP
 * version, which it overwrote with a NUL, so when version sits right
 * after such a NUL the whole target is [url, version - 1), and a copy
 * shorter than that (raw_uri, taken before libmicrohttpd decoded
 * anything) met a NUL inside it (http_target_check).  Where that layout
 * does not hold (no version, a libmicrohttpd that copies), the copy's
 * length is all we know, and is returned.
 */
static size_t
target_wire_len(const struct req *r, const char *url, const char *version)
{
	size_t span, seen = strlen(r->raw_uri);

	if (url == NULL || version == NULL || version[0] == '\0' || version <= url ||
	    version[-1] != '\0')
		return seen;
	span = (size_t)(version - 1 - url);
	return span <= 4 * (size_t)GG_CONN_MEMORY ? span : seen;
}

int
http_target_check(const char *target, size_t wire_len)
{
	const char *q;

	if (wire_len > GG_MAX_URL_LEN || strlen(target) > GG_MAX_URL_LEN)
		return GG_ETOOBIG;
	if (strlen(target) != wire_len)
		return GG_EINVAL;
	/* libmicrohttpd decodes query values into C strings: a %00 would cut
	 * one short (a cursor, an expand) and the rest be acted on. */
	q = strchr(target, '?');
	if (q != NULL && strstr(q, "%00") != NULL)
		return GG_EINVAL;
	return q != NULL && !http_query_utf8(q + 1) ? GG_EFORMAT : GG_OK;
}

/*
 * The first call for a request: route, method, scope, body mode.  Returns
 * the MHD result; an answer queued here ends the request (libmicrohttpd
 * does not read the body of a request already answered).
 */
static enum MHD_Result
begin_request(struct req *r, const char *url, const char *version)
{
	const struct route_entry *e;
	enum MHD_Result res;
	char msg[256];
	int rc;

	/* The whole target, path and query, before any work: a query over
	 * the limit would otherwise be sent upstream and keyed in the cache. */
	rc = http_target_check(r->raw_uri, target_wire_len(r, url, version));
	if (rc == GG_ETOOBIG) {
		if (snprintf_checked(msg, sizeof(msg),
				     "URI too long: the request target (path and query) is over "
				     "%u bytes",
				     (unsigned)GG_MAX_URL_LEN) != GG_OK)
			msg[sizeof(msg) - 1] = '\0';
		return http_error(r, MHD_HTTP_URI_TOO_LONG, "URITooLong", msg, NULL);
	}
	if (rc == GG_EFORMAT)
		return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest",
				  "Malformed request target: the query, decoded, is not UTF-8",
				  NULL);
	if (rc != GG_OK)
		return http_error(
			r, MHD_HTTP_BAD_REQUEST, "BadRequest",
			"Malformed request target: a NUL byte in it (raw, or %00 in the query)",
			NULL);
	if (strcmp(r->method, "OPTIONS") == 0)
		return preflight(r);
	rc = route_parse(r->raw_uri, (size_t)(r->path_end - r->raw_uri), &r->route);
	if (rc == GG_ENOENT)
		return http_error(r, MHD_HTTP_NOT_FOUND, NULL, "Not found", NULL);
	if (rc == GG_ETOOBIG)
		return http_error(r, MHD_HTTP_URI_TOO_LONG, "URITooLong", "URI too long", NULL);
	if (rc != GG_OK) {
		if (snprintf_checked(msg, sizeof(msg), "Malformed path: %s",
				     r->route.why ? r->route.why : "refused") != GG_OK)
			msg[sizeof(msg) - 1] = '\0';
		return http_error(r, MHD_HTTP_BAD_REQUEST, "BadRequest", msg, NULL);
	}
	e = (size_t)r->route.kind < r->srv->nroutes ? &r->srv->routes[r->route.kind] : NULL;
	if (e == NULL || e->kind != r->route.kind || e->methods == 0)
		return http_error(r, MHD_HTTP_NOT_FOUND, NULL, "Not found", NULL);
	r->entry = e;
	if ((method_bit(r->method) & e->methods) == 0)
		return method_not_allowed(r, e->methods);
	if (auth_admit(r, &res) != GG_OK)
		return res;
	switch (e->body) {
	case BODY_STREAM:
		if (e->begin(r, &res) != GG_OK)
			return res;
		break;
	case BODY_BUFFER:
		r->body.max = e->body_max ? e->body_max : GG_MAX_BODY_BYTES;
		if (declared_over(r, r->body.max))
			return body_too_large(r, r->body.max);
		break;
	case BODY_NONE: break;
	}
	return MHD_YES; /* come back with the body, if any */
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *con, const char *url, const char *method,
	  const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	struct req *r = *req_cls;

	(void)cls;
	(void)con;
	if (r == NULL)
		return MHD_NO; /* the URI log callback always runs first */
	if (!r->started) {
		r->started = 1;
		r->counted = 1;
		atomic_fetch_add(&r->srv->active, 1);
		conns_request(r->srv, con, 1);
		r->method = method;
		r->is_head = strcmp(method, "HEAD") == 0;
		return begin_request(r, url, version);
	}
	switch (atomic_load(&r->async_state)) {
	case 2: return r->async_finish(r);
	case 1: return MHD_YES; /* a spurious call while suspended */
	default: break;
	}
	if (r->answered) {
		/* Answered at the first call (an error): whatever body libmicrohttpd
		 * still hands over is discarded, and no handler runs. */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		if (r->sink != NULL)
			r->sink_data(r, upload_data, *upload_data_size);
		else if (r->entry->body == BODY_BUFFER && !r->body_too_big &&
			 buf_append(&r->body, upload_data, *upload_data_size) != GG_OK)
			r->body_too_big = 1;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->entry->body == BODY_STREAM)
		return r->entry->end(r);
	if (r->body_too_big)
		return body_too_large(r, r->body.max);
	return r->entry->handle(r);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("libmicrohttpd: %s", line);
}

int
server_start(const struct server_config *cfg, struct server **out, char *bound, size_t n)
{
	struct server *srv = xcalloc(1, sizeof(*srv));
	struct sockaddr_storage ss;

	pthread_mutex_init(&srv->async_mu, NULL);
	pthread_cond_init(&srv->async_cv, NULL);
	srv->quiesced_fd = -1;
	srv->lfd = -1;
	pthread_mutex_init(&srv->conn_mu, NULL);
	{
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&srv->conn_cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	socklen_t sl;
	/* MHD_USE_ITC lets server_quiesce wake the threads off the listening
	 * socket (MHD_quiesce_daemon needs it in this mode). */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC;
	unsigned port = cfg->port;
	int v6 = strchr(cfg->host, ':') != NULL;
	struct MHD_OptionItem listen_opt[2] = { { MHD_OPTION_END, 0, NULL },
						{ MHD_OPTION_END, 0, NULL } };

	memset(&ss, 0, sizeof(ss));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(cfg->port);
		if (inet_pton(AF_INET6, cfg->host, &a->sin6_addr) != 1)
			goto bad_addr;
		sl = sizeof(*a);
		flags |= MHD_USE_IPv6;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(cfg->port);
		if (inet_pton(AF_INET, cfg->host, &a->sin_addr) != 1)
			goto bad_addr;
		sl = sizeof(*a);
	}
	srv->routes = cfg->routes;
	srv->nroutes = cfg->nroutes;
	srv->app = cfg->app;
	srv->public_url = cfg->public_url ? xstrdup(cfg->public_url) : NULL;
	srv->max_conns = cfg->max_connections ? cfg->max_connections : GG_MAX_CONNECTIONS;
	srv->high_water = srv->max_conns - srv->max_conns / GG_CONN_RESERVE_DIV;
	srv->per_ip = cfg->per_ip_connections;
	for (srv->npeers = 64; srv->npeers < srv->max_conns; srv->npeers *= 2)
		;
	srv->peers = xcalloc(srv->npeers, sizeof(*srv->peers));
	if (getrandom(&srv->peer_seed, sizeof(srv->peer_seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(srv->peer_seed))
		srv->peer_seed = (uint32_t)now_us();
	/* ggufd listens itself: with the fast lane (fastlane.h) it accepts,
	 * and gives libmicrohttpd the connections it does not answer; without
	 * it, libmicrohttpd accepts on this socket. */
	srv->lfd = conns_listen_socket(&ss, sl);
	if (srv->lfd < 0) {
		log_warn("cannot listen on %s:%u (address in use or not available)", cfg->host,
			 (unsigned)cfg->port);
		goto fail;
	}
	if (cfg->fast_lane) {
		flags |= MHD_USE_NO_LISTEN_SOCKET;
		listen_opt[0].option = MHD_OPTION_END;
	} else {
		listen_opt[0].option = MHD_OPTION_LISTEN_SOCKET;
		listen_opt[0].value = srv->lfd;
	}
	/* The per-address limit is ggufd's (conn_admit), not libmicrohttpd's:
	 * libmicrohttpd would refuse the connection before ggufd could shed an
	 * idle one of the same address. */
	srv->d = MHD_start_daemon(
		flags, cfg->port, NULL, NULL, access_cb, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
		NULL, MHD_OPTION_ARRAY, listen_opt, MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, srv,
		MHD_OPTION_NOTIFY_COMPLETED, completed_cb, srv, MHD_OPTION_NOTIFY_CONNECTION,
		conns_notify, srv, MHD_OPTION_THREAD_POOL_SIZE,
		(unsigned)(cfg->threads ? cfg->threads : 4), MHD_OPTION_CONNECTION_LIMIT,
		srv->max_conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)0,
		MHD_OPTION_CONNECTION_TIMEOUT,
		cfg->connection_timeout ? cfg->connection_timeout : (unsigned)GG_CONN_TIMEOUT_SEC,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		cfg->connection_memory ? cfg->connection_memory : (size_t)GG_CONN_MEMORY,
		MHD_OPTION_END);
	if (srv->d == NULL) {
		log_warnx("MHD_start_daemon() on %s:%u failed", cfg->host, (unsigned)cfg->port);
		goto fail;
	}
	{
		struct sockaddr_storage got;
		socklen_t gl = sizeof(got);
		if (getsockname(srv->lfd, (struct sockaddr *)&got, &gl) == 0)
			port = ntohs(got.ss_family == AF_INET6
					     ? ((struct sockaddr_in6 *)&got)->sin6_port
					     : ((struct sockaddr_in *)&got)->sin_port);
	}
	if (!cfg->fast_lane)
		srv->lfd = -1; /* libmicrohttpd's now: MHD_stop_daemon closes it */
	else if (fastlane_start(srv, cfg->app, srv->lfd, cfg->threads ? cfg->threads : 4,
				cfg->connection_timeout ? cfg->connection_timeout
							: (unsigned)GG_CONN_TIMEOUT_SEC,
				&srv->fl) != GG_OK)
		goto fail;
	srv->header_timeout_us = cfg->header_timeout       ? cfg->header_timeout
				 : cfg->connection_timeout ? cfg->connection_timeout
							   : GG_CONN_TIMEOUT_SEC;
	srv->header_timeout_us *= 1000000u;
	if (pthread_create(&srv->watchdog, NULL, conns_watchdog, srv) != 0) {
		log_warnx("cannot start the header deadline thread");
		goto fail;
	}
	srv->watchdog_started = 1;
	if (snprintf_checked(srv->bound, sizeof(srv->bound), v6 ? "http://[%s]:%u" : "http://%s:%u",
			     strcmp(cfg->host, "0.0.0.0") == 0 ? "127.0.0.1" : cfg->host,
			     port) != GG_OK)
		goto fail;
	if (bound != NULL && snprintf_checked(bound, n, v6 ? "http://[%s]:%u" : "http://%s:%u",
					      cfg->host, port) != GG_OK)
		goto fail;
	*out = srv;
	return GG_OK;
bad_addr:
	log_warnx("listen address \"%s\" is not a numeric IPv4 or IPv6 address", cfg->host);
fail:
	server_stop(srv);
	return GG_EIO;
}

unsigned
server_quiesce(struct server *srv)
{
	MHD_socket fd;

	atomic_store(&srv->draining, 1);
	if (srv->d == NULL || srv->quiesced_fd >= 0)
		return server_active(srv);
	if (srv->fl != NULL) {
		/* The fast lane's threads take it out of their polling. */
		fastlane_quiesce(srv->fl);
		if (shutdown(srv->lfd, SHUT_RDWR) != 0)
			log_warn("shutdown() of the listening socket failed");
		srv->quiesced_fd = srv->lfd;
		srv->lfd = -1;
		return server_active(srv);
	}
	fd = MHD_quiesce_daemon(srv->d);
	if (fd == MHD_INVALID_SOCKET) {
		log_warnx("MHD_quiesce_daemon() failed: new connections are still accepted");
		return server_active(srv);
	}
	/* libmicrohttpd no longer accepts, but the kernel still would, into
	 * the backlog, where clients would wait for nothing.  On Linux,
	 * shutdown() of a listening socket ends listening (a connect is
	 * refused, the backlog is reset) while the descriptor stays ours:
	 * it is closed only after MHD_stop_daemon, as the manual asks. */
	if (shutdown(fd, SHUT_RDWR) != 0)
		log_warn("shutdown() of the listening socket failed");
	srv->quiesced_fd = fd;
	return server_active(srv);
}

unsigned
server_active(struct server *srv)
{
	return atomic_load(&srv->active);
}

void
server_stop(struct server *srv)
{
	if (srv == NULL)
		return;
	/* The fast lane first: it hands connections to libmicrohttpd, and
	 * the answers libmicrohttpd gave it (http_give) end with it (cut, as
	 * libmicrohttpd cuts its own at its stop), which resumes their
	 * suspended requests. */
	fastlane_stop(srv->fl);
	/* Requests working off the MHD threads (uploads being published) end
	 * next: they hold suspended connections and use the gateway. */
	pthread_mutex_lock(&srv->async_mu);
	while (srv->async_active > 0)
		pthread_cond_wait(&srv->async_cv, &srv->async_mu);
	pthread_mutex_unlock(&srv->async_mu);
	if (srv->watchdog_started) {
		pthread_mutex_lock(&srv->conn_mu);
		srv->watchdog_stop = 1;
		pthread_cond_signal(&srv->conn_cv);
		pthread_mutex_unlock(&srv->conn_mu);
		pthread_join(srv->watchdog, NULL);
	}
	if (srv->d != NULL)
		MHD_stop_daemon(srv->d);
	/* Handed over and never started: nobody else will forget them. */
	pthread_mutex_lock(&srv->conn_mu);
	conns_handing_expire(srv, UINT64_MAX / 2);
	pthread_mutex_unlock(&srv->conn_mu);
	fastlane_free(srv->fl);
	if (srv->quiesced_fd >= 0)
		close(srv->quiesced_fd);
	if (srv->lfd >= 0)
		close(srv->lfd);
	pthread_mutex_destroy(&srv->async_mu);
	pthread_cond_destroy(&srv->async_cv);
	pthread_mutex_destroy(&srv->conn_mu);
	pthread_cond_destroy(&srv->conn_cv);
	free(srv->peers); /* each peer went with its last connection */
	free(srv->public_url);
	free(srv);
}
