/*
 * httpbody.c: what handlers write into and read from bodies (http.h):
 * JSON answers (gzip when the client takes it), the Hub's error answers
 * and the one mapping of GG_E* codes to HTTP statuses, gzip both ways, and
 * query strings and urlencoded forms.  Split from http.c, which keeps the
 * libmicrohttpd daemon and the request lifecycle; nothing here keeps state.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <zlib.h>

#include "gg_limits.h"
#include "http.h"
#include "log.h"
#include "util.h"

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
void
http_header_safe(char *s)
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
	http_header_safe(msg);
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
		} else if (s[i] == '%' && i + 2 < n && (hi = hex_digit(s[i + 1])) >= 0 &&
			   (lo = hex_digit(s[i + 2])) >= 0 && (hi | lo) != 0) {
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
			if (stop - c < 3 || (hi = hex_digit(c[1])) < 0 ||
			    (lo = hex_digit(c[2])) < 0) {
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

/* 1 if the query, its %XX escapes decoded, is UTF-8 (a malformed escape
 * is left as it is: libmicrohttpd keeps it literally). */
int
http_query_utf8(const char *q)
{
	char buf[GG_MAX_URL_LEN + 1];
	size_t n = 0;

	for (; *q != '\0' && n < sizeof(buf); q++) {
		int h, l;
		if (*q == '%' && (h = hex_digit(q[1])) >= 0 && (l = hex_digit(q[2])) >= 0) {
			buf[n++] = (char)(h << 4 | l);
			q += 2;
		} else {
			buf[n++] = *q;
		}
	}
	return utf8_valid(buf, n);
}
