/*
 * flhead.c: the fast lane's request-head parser (flhead.h).  Strict on
 * purpose: anything it does not take whole and plain is the slow path's
 * to judge, so refusing costs only a hand-off, and accepting is a promise
 * that the fast lane's answer is the slow path's.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "flhead.h"
#include "gg_limits.h"
#include "upstream.h" /* GG_PEER_HEADER */

static int
tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
name_is(const char *n, size_t nl, const char *want)
{
	return strlen(want) == nl && strncasecmp(n, want, nl) == 0;
}

/* The target's bytes the router accepts unescaped; anything else (a
 * query, an escape) is the slow path's to judge. */
static int
target_ok(const char *t, size_t n)
{
	if (n == 0 || t[0] != '/')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '/' || c == '-' || c == '_' || c == '.' || c == '~'))
			return 0;
	}
	return 1;
}

int
flhead_parse(const char *buf, size_t n, struct fl_head *h)
{
	const char *end = NULL, *p, *eol;
	int host = 0;

	memset(h, 0, sizeof(*h));
	for (size_t i = 3; i < n; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' &&
		    buf[i - 3] == '\r') {
			end = buf + i + 1;
			break;
		}
	if (end == NULL)
		return 0;
	h->len = (size_t)(end - buf);
	if (n >= 4 && memcmp(buf, "GET ", 4) == 0) {
		p = buf + 4;
	} else if (n >= 5 && memcmp(buf, "HEAD ", 5) == 0) {
		p = buf + 5;
		h->is_head = 1;
	} else {
		return 0;
	}
	h->target = p;
	while (p < end && *p != ' ' && *p != '\r')
		p++;
	h->tlen = (size_t)(p - h->target);
	if (!target_ok(h->target, h->tlen) || (size_t)(end - p) < 11 ||
	    memcmp(p, " HTTP/1.1\r\n", 11) != 0)
		return 0;
	p += 11;
	while (p < end - 2) {
		const char *colon, *v, *ve;
		for (eol = p; eol < end && *eol != '\r'; eol++)
			if ((unsigned char)*eol < 0x20 && *eol != '\t')
				return 0;
		if (eol + 1 >= end || eol[1] != '\n')
			return 0;
		for (colon = p; colon < eol && tchar((unsigned char)*colon); colon++)
			;
		if (colon == p || colon == eol || *colon != ':')
			return 0; /* no name, an obs-fold, a space before the colon */
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
			;
		{
			size_t nl = (size_t)(colon - p), vl = (size_t)(ve - v);
			if (name_is(p, nl, "Host")) {
				if (host++)
					return 0;
			} else if (name_is(p, nl, "Range")) {
				if (h->range != NULL || vl > GG_MAX_RANGE_HDR_LEN)
					return 0;
				h->range = v;
				h->range_len = vl;
			} else if (name_is(p, nl, "Connection")) {
				if (vl == 5 && strncasecmp(v, "close", 5) == 0)
					h->close = 1;
				else if (!(vl == 10 && strncasecmp(v, "keep-alive", 10) == 0))
					return 0;
			} else if (name_is(p, nl, "X-Request-Id")) {
				h->rid = v;
				h->rid_len = vl;
			} else if (name_is(p, nl, "Authorization") ||
				   name_is(p, nl, GG_PEER_HEADER) ||
				   name_is(p, nl, "Content-Length") ||
				   name_is(p, nl, "Transfer-Encoding") ||
				   name_is(p, nl, "Expect") || name_is(p, nl, "Upgrade") ||
				   (nl >= 3 && strncasecmp(p, "If-", 3) == 0)) {
				return 0;
			}
		}
		p = eol + 2;
	}
	return host == 1;
}
