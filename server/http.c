/*
 * http.c: the libmicrohttpd daemon, the request lifecycle and the helpers
 * every handler uses (errors, JSON, CORS, query strings).
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
 * limit (see "connections" below).
 *
 * The core names no handler: it only follows the table it was given.
 * Status mapping: http_status_for_error() is the one place where a GG_E*
 * code becomes an HTTP status.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <zlib.h>

#include "accesslog.h"
#include "auth.h"
#include "fastlane.h"
#include "flentry.h"
#include "http.h"
#include "gg_limits.h"
#include "log.h"
#include "stats.h"
#include "util.h"

struct server {
	struct MHD_Daemon *d;
	char bound[128];
	char *public_url;
	const struct route_entry *routes; /* indexed by kind */
	size_t nroutes;
	struct app *app;
	pthread_mutex_t async_mu;
	pthread_cond_t async_cv;
	unsigned async_active;   /* http_run_async threads still running */
	_Atomic unsigned active; /* requests in progress (server_active) */
	_Atomic int draining;    /* server_quiesce was called */
	int quiesced_fd;         /* the listening socket after quiesce, or -1 */
	int lfd;                 /* the listening socket, while the fast lane has it */
	struct fastlane *fl;     /* the fast lane (fastlane.h), or NULL */
	/* Open connections, for the header deadline and the shedding of idle
	 * connections (see "connections" below); all under conn_mu. */
	pthread_mutex_t conn_mu;
	pthread_cond_t conn_cv;
	struct conn *conns, *conns_tail; /* idle ones: longest idle first */
	struct conn *handing;            /* on their way to libmicrohttpd */
	struct peer **peers;             /* client addresses, hashed */
	size_t npeers;                   /* buckets: a power of two */
	uint32_t peer_seed;
	unsigned max_conns;  /* libmicrohttpd's connection limit */
	unsigned nlive;      /* open connections not shut down */
	unsigned high_water; /* more live than this: the longest idle is shed */
	unsigned per_ip;     /* connections from one address; 0: no limit */
	unsigned shed_full, shed_peer, refused_peer; /* since the last log line */
	uint64_t header_timeout_us;
	pthread_t watchdog;
	int watchdog_started, watchdog_stop;
};

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

/* The end of r's work off its thread: its connection goes on (access_cb
 * calls async_finish). */
static void
async_end(struct server *srv, struct req *r)
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
	async_end(srv, r);
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

struct MHD_Response *
http_json_response(struct req *r, char *json)
{
	const char *ae = http_header(r, "Accept-Encoding");
	size_t len = strlen(json);
	struct MHD_Response *resp;
	int gz = 0;

	/* JSON (never file content) is gzip'd for clients that take it. */
	if (ae != NULL && strstr(ae, "gzip") != NULL && len >= GG_GZIP_MIN_BYTES) {
		struct buf b;
		buf_init(&b, GG_MAX_UPSTREAM_JSON);
		if (http_gzip(json, len, &b) == GG_OK) {
			free(json);
			json = buf_steal(&b, &len);
			gz = 1;
		}
		buf_free(&b);
	}
	resp = http_response_buffer(len, json, MHD_RESPMEM_MUST_FREE);
	if (gz)
		MHD_add_response_header(resp, "Content-Encoding", "gzip");
	MHD_add_response_header(resp, "Vary", "Origin, Accept-Encoding");
	MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");
	return resp;
}

enum MHD_Result
http_json(struct req *r, unsigned status, char *json)
{
	return http_queue(r, status, http_json_response(r, json));
}

/* Header values must not carry CR/LF: replace any control byte. */
static void
header_safe(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

/* The Hub's error response (see http_error), for the caller to queue. */
static struct MHD_Response *
error_response(const char *code, const char *message, const char *commit)
{
	struct MHD_Response *resp;
	cJSON *o = cJSON_CreateObject();
	char *json, msg[512];

	cJSON_AddStringToObject(o, "error", message);
	if (code != NULL)
		cJSON_AddStringToObject(o, "code", code);
	json = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (json == NULL)
		log_fatalx("cJSON_PrintUnformatted() failed: out of memory");
	resp = http_response_buffer(strlen(json), json, MHD_RESPMEM_MUST_FREE);
	if (snprintf_checked(msg, sizeof(msg), "%s", message) != GG_OK)
		msg[sizeof(msg) - 1] = '\0';
	header_safe(msg);
	MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");
	if (code != NULL)
		MHD_add_response_header(resp, "X-Error-Code", code);
	MHD_add_response_header(resp, "X-Error-Message", msg);
	if (commit != NULL)
		MHD_add_response_header(resp, "X-Repo-Commit", commit);
	return resp;
}

struct MHD_Response *
http_error_response(const char *code, const char *message, const char *commit)
{
	return error_response(code, message, commit);
}

enum MHD_Result
http_error(struct req *r, unsigned status, const char *code, const char *message,
	   const char *commit)
{
	log_debug("%s %s -> %u %s", r->method, r->raw_uri, status, message);
	return http_queue(r, status, error_response(code, message, commit));
}

unsigned
http_status_for_error(int err)
{
	switch (err) {
	case GG_OK: return MHD_HTTP_OK;
	case GG_ENOENT: return MHD_HTTP_NOT_FOUND;
	case GG_EINVAL: return MHD_HTTP_BAD_REQUEST;
	case GG_ETOOBIG: return MHD_HTTP_CONTENT_TOO_LARGE;
	case GG_EFORMAT: return MHD_HTTP_UNPROCESSABLE_CONTENT;
	case GG_ERANGE: return MHD_HTTP_RANGE_NOT_SATISFIABLE;
	case GG_EUNAVAIL: return MHD_HTTP_SERVICE_UNAVAILABLE;
	case GG_ENOSPC: return MHD_HTTP_INSUFFICIENT_STORAGE;
	default: return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

enum MHD_Result
http_error_from(struct req *r, int err, const char *what)
{
	char msg[256];
	unsigned status = http_status_for_error(err);
	if (snprintf_checked(msg, sizeof(msg), "%s: %s", what, gg_strerror(err)) != GG_OK)
		msg[sizeof(msg) - 1] = '\0';
	if (status >= 500)
		log_warnx("%s %s: %s", r->method, r->raw_uri, msg);
	return http_error(r, status, NULL, msg, NULL);
}

/* --- gzip --------------------------------------------------------------- */

int
http_gzip(const char *in, size_t n, struct buf *out)
{
	z_stream z;
	unsigned char chunk[16384];
	int zr;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return GG_EIO;
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = deflate(&z, Z_FINISH);
		if (buf_append(out, chunk, sizeof(chunk) - z.avail_out) != GG_OK) {
			deflateEnd(&z);
			return GG_ETOOBIG;
		}
	} while (zr == Z_OK);
	deflateEnd(&z);
	return zr == Z_STREAM_END ? GG_OK : GG_EIO;
}

int
http_gunzip(const void *in, size_t n, struct buf *out)
{
	z_stream z;
	unsigned char chunk[16384];
	int zr;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return GG_EIO;
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END) {
			inflateEnd(&z);
			return GG_ECORRUPT;
		}
		if (buf_append(out, chunk, sizeof(chunk) - z.avail_out) != GG_OK) {
			inflateEnd(&z);
			return GG_ETOOBIG;
		}
	} while (zr != Z_STREAM_END);
	inflateEnd(&z);
	return GG_OK;
}

/* --- query strings -------------------------------------------------------- */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes application/x-www-form-urlencoded text; a bad or NUL escape is
 * kept literally. */
static char *
form_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
			   (lo = hexval(s[i + 2])) >= 0 && (hi | lo) != 0) {
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

/* Walks name=value pairs of a query or form body, calling cb for matches. */
static void
pairs_foreach(const char *q, size_t qlen, const char *name,
	      void (*cb)(void *ctx, const char *value), void *ctx)
{
	size_t nl = strlen(name);
	const char *p = q, *end = q + qlen;

	while (p != NULL && p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		const char *kend = eq ? eq : stop;
		char *key = form_decode(p, (size_t)(kend - p));
		size_t kl = strlen(key);
		if (kl >= 2 && strcmp(key + kl - 2, "[]") == 0)
			key[kl - 2] = '\0';
		if (strlen(key) == nl && memcmp(key, name, nl) == 0) {
			char *val = eq ? form_decode(eq + 1, (size_t)(stop - eq - 1)) : xstrdup("");
			cb(ctx, val);
			free(val);
		}
		free(key);
		p = amp ? amp + 1 : NULL;
	}
}

void
http_query_foreach(struct req *r, const char *name, void (*cb)(void *ctx, const char *value),
		   void *ctx)
{
	if (r->query != NULL)
		pairs_foreach(r->query, strlen(r->query), name, cb, ctx);
}

void
http_set_sink(struct req *r, void *sink, int (*data)(struct req *r, const char *data, size_t n),
	      void (*free_sink)(void *sink))
{
	r->sink = sink;
	r->sink_data = data;
	r->sink_free = free_sink;
}

int
http_form_check(const char *body, size_t len, const char **why)
{
	const char *p = body, *end = body + len, *w = NULL;

	while (p < end) {
		const char *stop = memchr(p, '&', (size_t)(end - p));
		char *dec;
		size_t o = 0;

		if (stop == NULL)
			stop = end;
		/* Decoded into a copy ('=' kept, it is ASCII and harmless). */
		dec = xmalloc((size_t)(stop - p) + 1);
		for (const char *c = p; c < stop; c++) {
			int hi, lo;

			if (*c != '%') {
				dec[o++] = *c == '+' ? ' ' : *c;
				continue;
			}
			if (stop - c < 3 || (hi = hexval(c[1])) < 0 || (lo = hexval(c[2])) < 0) {
				w = "a malformed percent-escape in the form body";
				break;
			}
			if ((hi | lo) == 0) {
				w = "a NUL byte (%00) in the form body";
				break;
			}
			dec[o++] = (char)(hi * 16 + lo);
			c += 2;
		}
		if (w == NULL && (memchr(dec, '\0', o) != NULL || !utf8_valid(dec, o)))
			w = memchr(dec, '\0', o) != NULL ? "a NUL byte in the form body"
							 : "a form value that is not UTF-8";
		free(dec);
		if (w != NULL)
			break;
		p = stop + 1;
	}
	if (why != NULL)
		*why = w;
	return w == NULL ? GG_OK : GG_EINVAL;
}

void
http_form_foreach(const char *body, size_t len, const char *name,
		  void (*cb)(void *ctx, const char *value), void *ctx)
{
	pairs_foreach(body, len, name, cb, ctx);
}

static void
first_cb(void *ctx, const char *value)
{
	char **out = ctx;
	if (*out == NULL)
		*out = xstrdup(value);
}

char *
http_query_get(struct req *r, const char *name)
{
	char *v = NULL;
	http_query_foreach(r, name, first_cb, &v);
	return v;
}

int
http_query_bool(struct req *r, const char *name)
{
	char *v = http_query_get(r, name);
	int b = v != NULL &&
		(strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0);
	free(v);
	return b;
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

/* --- connections: the header deadline, shedding idle ones ----------------- */

/*
 * libmicrohttpd's connection timeout is an idle timeout: every byte
 * received restarts it, so a client that trickles its headers a byte at a
 * time (slowloris) would hold a connection for hours.  The header deadline
 * bounds the time from a connection's start, or from the end of its
 * previous request, to the end of the next request's headers.  A watchdog
 * thread shuts down the connections past it (shutdown(2), never close:
 * the descriptor stays libmicrohttpd's), and libmicrohttpd, seeing the end
 * of the stream, closes them itself.
 *
 * Idle connections are shed the same way, so that connections that hold a
 * slot and do nothing (kept alive between requests, or opened and never
 * used: a flood) cannot lock other clients out.  libmicrohttpd accepts up
 * to its limit and leaves the next connections unanswered in the kernel's
 * backlog, so the room must be made before the limit:
 *
 *   - when a new connection makes more than high_water live (the limit
 *     minus a reserve of 1/GG_CONN_RESERVE_DIV of it), the connection idle
 *     the longest is shut;
 *   - ggufd counts connections per address itself (libmicrohttpd's own
 *     per-address limit refuses a connection before anyone is told): when
 *     a new one puts its address over per_ip, that address's connection
 *     idle the longest is shut, or, if none of them is idle, the new one.
 *
 * Idle means no request begun (its request line not received) and no byte
 * waiting to be read; a request in progress, from its request line to its
 * completion, is never shed.  Both lists (all connections, and each
 * address's) keep the idle ones in the order they became idle: a
 * connection is appended when it opens and moved to the end when a
 * request completes, so the first idle one from the head is the one idle
 * the longest.  Shedding a connection costs a walk past the busy ones at
 * the head of a list, and only once the server or the address is full.
 *
 * The lists are kept under conn_mu, which the "closed" notification takes
 * too; libmicrohttpd closes a socket only after that notification, so
 * neither the watchdog nor the shedding ever touches a descriptor that was
 * closed or reused.
 */
struct peer {
	struct peer *next;        /* in its hash bucket */
	struct conn *head, *tail; /* its connections, as srv->conns */
	unsigned live;            /* of them, not shut down */
	int family;               /* AF_INET or AF_INET6 */
	unsigned char addr[16];
};

struct conn {
	struct conn *prev, *next;   /* in srv->conns */
	struct conn *pprev, *pnext; /* in peer->head, if peer */
	struct peer *peer;          /* NULL: no address known */
	int fd;
	int busy;          /* from its request line to completed_cb */
	int in_request;    /* from the end of its headers to completed_cb */
	int cut;           /* shut down: no longer live */
	uint64_t since_us; /* the connection's start, or its last request's end */
	/* The struct req of its last request, kept for the next one (its
	 * thread's alone: requests of a connection come one at a time). */
	struct req *spare;
	/* Handed by the fast lane to libmicrohttpd, which has not started it
	 * yet (server_handoff): in srv->handing, since handed_us. */
	struct conn *hnext;
	uint64_t handed_us;
	/* The head of its first request, kept by the fast lane at the
	 * hand-off (server_handoff) for http_give, until that request ends;
	 * the connection's thread's alone once libmicrohttpd started it. */
	char *fl_head;
	size_t fl_head_len;
};

static struct conn *
conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

static void
conn_link(struct server *srv, struct conn *e)
{
	e->next = NULL;
	e->prev = srv->conns_tail;
	if (srv->conns_tail != NULL)
		srv->conns_tail->next = e;
	else
		srv->conns = e;
	srv->conns_tail = e;
	if (e->peer == NULL)
		return;
	e->pnext = NULL;
	e->pprev = e->peer->tail;
	if (e->peer->tail != NULL)
		e->peer->tail->pnext = e;
	else
		e->peer->head = e;
	e->peer->tail = e;
}

static void
conn_unlink(struct server *srv, struct conn *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		srv->conns = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		srv->conns_tail = e->prev;
	if (e->peer == NULL)
		return;
	if (e->pprev != NULL)
		e->pprev->pnext = e->pnext;
	else
		e->peer->head = e->pnext;
	if (e->pnext != NULL)
		e->pnext->pprev = e->pprev;
	else
		e->peer->tail = e->pprev;
}

/* The hash bucket of an address (FNV-1a, seeded at start). */
static struct peer **
peer_bucket(struct server *srv, int family, const unsigned char *addr, size_t len)
{
	uint32_t h = 2166136261u ^ srv->peer_seed;
	h = (h ^ (uint32_t)family) * 16777619u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ addr[i]) * 16777619u;
	return &srv->peers[h & (srv->npeers - 1)];
}

/* The peer of a client address, created if new; NULL for another family. */
static struct peer *
peer_get(struct server *srv, const struct sockaddr *sa)
{
	const unsigned char *addr;
	struct peer **b, *p;
	size_t len;

	if (sa == NULL)
		return NULL;
	if (sa->sa_family == AF_INET) {
		addr = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
		len = 4;
	} else if (sa->sa_family == AF_INET6) {
		addr = (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
		len = 16;
	} else {
		return NULL;
	}
	b = peer_bucket(srv, sa->sa_family, addr, len);
	for (p = *b; p != NULL; p = p->next)
		if (p->family == sa->sa_family && memcmp(p->addr, addr, len) == 0)
			return p;
	p = xcalloc(1, sizeof(*p));
	p->family = sa->sa_family;
	memcpy(p->addr, addr, len);
	p->next = *b;
	*b = p;
	return p;
}

/* Frees a peer left without connections. */
static void
peer_put(struct server *srv, struct peer *p)
{
	struct peer **b;

	if (p == NULL || p->head != NULL)
		return;
	b = peer_bucket(srv, p->family, p->addr, p->family == AF_INET ? 4 : 16);
	while (*b != p)
		b = &(*b)->next;
	*b = p->next;
	free(p);
}

/* Shuts a connection down (libmicrohttpd closes it); it is no longer live. */
static void
conn_shut(struct server *srv, struct conn *e)
{
	shutdown(e->fd, SHUT_RDWR);
	e->cut = 1;
	srv->nlive--;
	if (e->peer != NULL)
		e->peer->live--;
}

/*
 * The connection idle the longest in a list (the server's, or a peer's:
 * by_peer), other than skip; NULL if none is idle.  Bytes waiting in its
 * socket are a request on its way: not idle.
 */
static struct conn *
conn_oldest_idle(struct conn *head, int by_peer, const struct conn *skip)
{
	for (struct conn *e = head; e != NULL; e = by_peer ? e->pnext : e->next) {
		int pending = 0;
		if (e == skip || e->busy || e->in_request || e->cut || e->fd < 0)
			continue;
		if (ioctl(e->fd, FIONREAD, &pending) == 0 && pending > 0)
			continue;
		return e;
	}
	return NULL;
}

/* A new connection: the address's limit, then the server's high water. */
static void
conn_admit(struct server *srv, struct conn *e)
{
	struct conn *v;

	if (srv->per_ip > 0 && e->peer != NULL && e->peer->live > srv->per_ip) {
		v = conn_oldest_idle(e->peer->head, 1, e);
		if (v != NULL) {
			conn_shut(srv, v);
			srv->shed_peer++;
		} else if (e->fd >= 0) {
			conn_shut(srv, e);
			srv->refused_peer++;
			return;
		}
	}
	if (srv->nlive > srv->high_water) {
		v = conn_oldest_idle(srv->conns, 0, e);
		if (v != NULL) {
			conn_shut(srv, v);
			srv->shed_full++;
		}
	}
}

/*
 * A request's line arrived (uri_log_cb): the connection is busy, never
 * shed, until the request completes.  1 if the connection was shut down
 * already (refused, shed or past its deadline): the request is not served.
 */
static int
conn_begin(struct server *srv, struct conn *e)
{
	int cut;

	if (e == NULL)
		return 0;
	pthread_mutex_lock(&srv->conn_mu);
	e->busy = 1;
	cut = e->cut;
	pthread_mutex_unlock(&srv->conn_mu);
	return cut;
}

/* A request's headers are in (in_request 1), or it ended (0): then the
 * connection is idle, and the last to have become so. */
static void
conn_request(struct server *srv, struct MHD_Connection *c, int in_request)
{
	struct conn *e = conn_of(c);
	if (e == NULL)
		return;
	pthread_mutex_lock(&srv->conn_mu);
	e->in_request = in_request;
	e->since_us = now_us();
	if (!in_request) {
		e->busy = 0;
		conn_unlink(srv, e);
		conn_link(srv, e);
	}
	pthread_mutex_unlock(&srv->conn_mu);
}

/* A new connection on fd from sa, counted and admitted (conn_mu held). */
static struct conn *
conn_enter(struct server *srv, int fd, const struct sockaddr *sa)
{
	struct conn *e = xcalloc(1, sizeof(*e));

	e->fd = fd;
	e->since_us = now_us();
	e->peer = peer_get(srv, sa);
	conn_link(srv, e);
	srv->nlive++;
	if (e->peer != NULL)
		e->peer->live++;
	conn_admit(srv, e);
	return e;
}

/* A connection gone: no longer counted (conn_mu held); the caller frees e. */
static void
conn_leave(struct server *srv, struct conn *e)
{
	free(e->fl_head);
	e->fl_head = NULL;
	if (!e->cut) {
		srv->nlive--;
		if (e->peer != NULL)
			e->peer->live--;
	}
	conn_unlink(srv, e);
	peer_put(srv, e->peer);
}

/* The record of fd handed over by the fast lane, taken off srv->handing
 * (conn_mu held); NULL if none. */
static struct conn *
handing_take(struct server *srv, int fd)
{
	for (struct conn **p = &srv->handing; *p != NULL; p = &(*p)->hnext) {
		struct conn *e = *p;
		if (e->fd == fd) {
			*p = e->hnext;
			e->hnext = NULL;
			e->busy = e->in_request = 0;
			e->handed_us = 0;
			e->since_us = now_us(); /* its header deadline from here */
			return e;
		}
	}
	return NULL;
}

/* Records handed over that libmicrohttpd never started (it closed the
 * socket on an error of its own), after a while (conn_mu held). */
static void
handing_expire(struct server *srv, uint64_t now)
{
	struct conn **p = &srv->handing;
	while (*p != NULL) {
		struct conn *e = *p;
		if (now - e->handed_us > GG_HANDOFF_EXPIRE_US) {
			*p = e->hnext;
			conn_leave(srv, e);
			free(e);
		} else {
			p = &e->hnext;
		}
	}
}

static void
notify_connection_cb(void *cls, struct MHD_Connection *c, void **socket_context,
		     enum MHD_ConnectionNotificationCode toe)
{
	struct server *srv = cls;
	struct conn *e = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		const union MHD_ConnectionInfo *ai =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		int fd = ci != NULL ? ci->connect_fd : -1;
		pthread_mutex_lock(&srv->conn_mu);
		/* One the fast lane handed over keeps its record: counted
		 * and admitted once, with no moment uncounted in which
		 * another connection could take its place (server_handoff). */
		e = fd >= 0 ? handing_take(srv, fd) : NULL;
		if (e == NULL)
			e = conn_enter(srv, fd, ai != NULL ? ai->client_addr : NULL);
		pthread_mutex_unlock(&srv->conn_mu);
		*socket_context = e;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && e != NULL) {
		pthread_mutex_lock(&srv->conn_mu);
		conn_leave(srv, e);
		pthread_mutex_unlock(&srv->conn_mu);
		free(e->spare);
		free(e);
		*socket_context = NULL;
	}
}

/* --- answers given to the fast lane (http_give) ----------------------------- */

struct given {
	struct MHD_Response *resp; /* queued here if the fast lane declines */
	unsigned status;
	_Atomic int taken;
};

static void
given_free(void *ctx)
{
	struct given *g = ctx;
	if (g->resp != NULL)
		MHD_destroy_response(g->resp);
	free(g);
}

/* From a fast lane thread, once. */
static void
given_done(void *arg, int taken)
{
	struct req *r = arg;
	struct given *g = r->async_ctx;
	atomic_store(&g->taken, taken);
	async_end(r->srv, r);
}

static enum MHD_Result
given_finish(struct req *r)
{
	struct given *g = r->async_ctx;
	struct MHD_Response *resp = g->resp;

	if (atomic_load(&g->taken)) {
		/* Sent, or cut, by the fast lane: this side closes (its
		 * socket's other descriptor is the fast lane's, which shut the
		 * write side after the answer). */
		r->given = 1;
		r->answered = 1;
		return MHD_NO;
	}
	g->resp = NULL;
	return http_queue(r, g->status, resp);
}

int
http_give(struct req *r, unsigned status, struct MHD_Response *resp)
{
	struct server *srv = r->srv;
	struct conn *e = conn_of(r->conn);
	const union MHD_ConnectionInfo *ci, *ai;
	struct given *g;
	size_t tl;
	int fd;

	if (srv->fl == NULL || e == NULL || e->fl_head == NULL || r->is_head ||
	    atomic_load(&srv->draining) || !fastlane_taking(srv->fl))
		return 0;
	/* The head kept is this request's (the connection's first): the
	 * same target, as a check. */
	tl = strlen(r->raw_uri);
	if (e->fl_head_len < 4 + tl + 1 || memcmp(e->fl_head, "GET ", 4) != 0 ||
	    memcmp(e->fl_head + 4, r->raw_uri, tl) != 0 || e->fl_head[4 + tl] != ' ')
		return 0;
	ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	ai = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ai == NULL || ai->client_addr == NULL)
		return 0;
	if ((fd = fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 0)) < 0)
		return 0;
	g = xcalloc(1, sizeof(*g));
	g->resp = resp;
	g->status = status;
	r->status = status;
	r->async_ctx = g;
	r->async_free = given_free;
	r->async_finish = given_finish;
	r->async_state = 1;
	/* Suspended first: the fast lane may be done at once. */
	MHD_suspend_connection(r->conn);
	pthread_mutex_lock(&srv->async_mu);
	srv->async_active++;
	pthread_mutex_unlock(&srv->async_mu);
	fastlane_take(srv->fl, fd, ai->client_addr, e->fl_head, e->fl_head_len, r->t0_us, r->source,
		      given_done, r);
	free(e->fl_head);
	e->fl_head = NULL;
	return 1;
}

/* --- connections of the fast lane (fastlane.c) ------------------------------ */

struct conn *
server_conn_open(struct server *srv, int fd, const struct sockaddr *sa)
{
	struct conn *e;

	pthread_mutex_lock(&srv->conn_mu);
	if (srv->nlive >= srv->max_conns) {
		pthread_mutex_unlock(&srv->conn_mu);
		return NULL;
	}
	e = conn_enter(srv, fd, sa);
	pthread_mutex_unlock(&srv->conn_mu);
	return e;
}

int
server_conn_full(struct server *srv)
{
	int full;
	pthread_mutex_lock(&srv->conn_mu);
	full = srv->nlive >= srv->max_conns;
	pthread_mutex_unlock(&srv->conn_mu);
	return full;
}

void
server_conn_close(struct server *srv, struct conn *e)
{
	pthread_mutex_lock(&srv->conn_mu);
	conn_leave(srv, e);
	pthread_mutex_unlock(&srv->conn_mu);
	free(e);
}

void
server_conn_mark(struct server *srv, struct conn *e, int in_request)
{
	pthread_mutex_lock(&srv->conn_mu);
	e->in_request = in_request;
	e->since_us = now_us();
	if (!in_request) {
		conn_unlink(srv, e);
		conn_link(srv, e);
	}
	pthread_mutex_unlock(&srv->conn_mu);
}

void
server_handoff(struct server *srv, struct conn *e, int fd, const struct sockaddr *sa, unsigned len,
	       const char *head, size_t hlen)
{
	if (head != NULL && hlen > 0) {
		e->fl_head = xmalloc(hlen);
		memcpy(e->fl_head, head, hlen);
		e->fl_head_len = hlen;
	}
	pthread_mutex_lock(&srv->conn_mu);
	e->handed_us = e->since_us = now_us();
	e->hnext = srv->handing;
	srv->handing = e;
	pthread_mutex_unlock(&srv->conn_mu);
	/* libmicrohttpd closes fd whatever the outcome. */
	if (MHD_add_connection(srv->d, fd, sa, (socklen_t)len) != MHD_YES) {
		log_debug("a connection could not be given to libmicrohttpd: %s", strerror(errno));
		pthread_mutex_lock(&srv->conn_mu);
		e = handing_take(srv, fd);
		if (e != NULL) {
			conn_leave(srv, e);
			free(e);
		}
		pthread_mutex_unlock(&srv->conn_mu);
	}
}

void
server_request_count(struct server *srv, int delta)
{
	if (delta > 0)
		atomic_fetch_add(&srv->active, 1);
	else
		atomic_fetch_sub(&srv->active, 1);
}

int
server_is_draining(struct server *srv)
{
	return atomic_load(&srv->draining);
}

static void *
watchdog_thread(void *arg)
{
	struct server *srv = arg;

	pthread_mutex_lock(&srv->conn_mu);
	while (!srv->watchdog_stop) {
		uint64_t now = now_us();
		unsigned cut = 0;
		struct timespec ts;

		handing_expire(srv, now);
		for (struct conn *e = srv->conns; e != NULL; e = e->next) {
			if (e->in_request || e->cut || e->fd < 0 || e->handed_us != 0 ||
			    now - e->since_us <= srv->header_timeout_us)
				continue;
			conn_shut(srv, e);
			cut++;
		}
		if (cut > 0)
			log_debug("header deadline: %u connection(s) without a whole request shut",
				  cut);
		/* One line a second at most, however hard the flood. */
		if (srv->shed_full + srv->shed_peer > 0)
			log_info("shed %u idle connection(s) to make room: %u with more than %u "
				 "of the %u connections open, %u from an address over its limit "
				 "of %u",
				 srv->shed_full + srv->shed_peer, srv->shed_full, srv->high_water,
				 srv->max_conns, srv->shed_peer, srv->per_ip);
		if (srv->refused_peer > 0)
			log_info("refused %u connection(s) from an address at its limit of %u "
				 "with no idle connection to shed",
				 srv->refused_peer, srv->per_ip);
		srv->shed_full = srv->shed_peer = srv->refused_peer = 0;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1; /* the deadline is in whole seconds */
		pthread_cond_timedwait(&srv->conn_cv, &srv->conn_mu, &ts);
	}
	pthread_mutex_unlock(&srv->conn_mu);
	return NULL;
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
	struct conn *e = conn_of(con);
	struct req *r;
	char *q;

	/* A connection already shut (refused, shed, past its deadline) gets no
	 * request: access_cb ends it (MHD_NO), and nothing is logged. */
	if (conn_begin(cls, e))
		return NULL;
	if (e != NULL && e->spare != NULL) {
		r = e->spare;
		e->spare = NULL;
	} else {
		r = xmalloc(sizeof(*r));
	}
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
	conn_request(r->srv, con, 0);
	if (r->sink != NULL && r->sink_free != NULL)
		r->sink_free(r->sink);
	if (r->async_ctx != NULL && r->async_free != NULL)
		r->async_free(r->async_ctx);
	buf_free(&r->body);
	free(r->raw_uri);
	{
		struct conn *e = conn_of(con);
		if (e != NULL && e->fl_head != NULL) {
			/* Kept for the connection's first request only. */
			free(e->fl_head);
			e->fl_head = NULL;
		}
		if (e != NULL && e->spare == NULL)
			e->spare = r; /* for the connection's next request */
		else
			free(r);
	}
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
		header_safe(hdrs);
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
	resp = error_response("MethodNotAllowed", msg, NULL);
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
	resp = error_response("PayloadTooLarge", msg, NULL);
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

/* 1 if the query, its %XX escapes decoded, is UTF-8 (a malformed escape
 * is left as it is: libmicrohttpd keeps it literally). */
static int
query_utf8(const char *q)
{
	char buf[GG_MAX_URL_LEN + 1];
	size_t n = 0;

	for (; *q != '\0' && n < sizeof(buf); q++) {
		int h, l;
		if (*q == '%' && (h = hexval(q[1])) >= 0 && (l = hexval(q[2])) >= 0) {
			buf[n++] = (char)(h << 4 | l);
			q += 2;
		} else {
			buf[n++] = *q;
		}
	}
	return utf8_valid(buf, n);
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
	return q != NULL && !query_utf8(q + 1) ? GG_EFORMAT : GG_OK;
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
		conn_request(r->srv, con, 1);
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
server_parse_listen(const char *s, struct server_config *cfg)
{
	const char *colon;
	uint64_t port;
	size_t hl;

	if (s == NULL || *s == '\0')
		return GG_EINVAL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':')
			return GG_EINVAL;
		hl = (size_t)(close - s - 1);
		if (hl == 0 || hl >= sizeof(cfg->host))
			return GG_EINVAL;
		memcpy(cfg->host, s + 1, hl);
		cfg->host[hl] = '\0';
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return GG_EINVAL;
		hl = (size_t)(colon - s);
		if (hl >= sizeof(cfg->host))
			return GG_EINVAL;
		memcpy(cfg->host, s, hl);
		cfg->host[hl] = '\0';
		if (hl == 0)
			memcpy(cfg->host, "0.0.0.0", 8);
	}
	if (parse_u64_str(colon + 1, 65535, &port) != GG_OK)
		return GG_EINVAL;
	cfg->port = (uint16_t)port;
	return GG_OK;
}

/*
 * The listening socket, non-blocking, bound to ss: SO_REUSEADDR and
 * SO_REUSEPORT as libmicrohttpd's MHD_OPTION_LISTENING_ADDRESS_REUSE set
 * them, an IPv6 address for IPv6 only.  -1 on failure (errno).
 */
static int
listen_socket(const struct sockaddr_storage *ss, socklen_t sl)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), on = 1;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0 ||
	    (ss->ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0) ||
	    bind(fd, (const struct sockaddr *)ss, sl) != 0 || listen(fd, SOMAXCONN) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
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
	srv->lfd = listen_socket(&ss, sl);
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
		notify_connection_cb, srv, MHD_OPTION_THREAD_POOL_SIZE,
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
	if (pthread_create(&srv->watchdog, NULL, watchdog_thread, srv) != 0) {
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
	/* Requests working off the MHD threads (uploads being published) end
	 * first: they hold suspended connections and use the gateway. */
	pthread_mutex_lock(&srv->async_mu);
	while (srv->async_active > 0)
		pthread_cond_wait(&srv->async_cv, &srv->async_mu);
	pthread_mutex_unlock(&srv->async_mu);
	/* The fast lane first: it hands connections to libmicrohttpd. */
	fastlane_stop(srv->fl);
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
	handing_expire(srv, UINT64_MAX / 2);
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
