/*
 * fuzz_flhead.c: libFuzzer target for the fast lane's request-head parser
 * (server/flhead.c), which reads every request a client sends before
 * anything else does.
 *
 * The input is the bytes as peeked from a socket, passed with their exact
 * length (no NUL is added: a read past them is an ASan report).  Beyond
 * "no crash, no sanitizer report", a head it takes must keep flhead.h's
 * promises, and a violation traps: its length ends at the blank line and
 * within the input; the target is inside the head, starts with '/' and
 * holds only the bytes the router takes unescaped; the range and request
 * id, when there are, lie inside the head; it has exactly one Host and
 * none of the headers that make a head the slow path's (Authorization,
 * X-Ggufd-Peer, If-*, Content-Length, Transfer-Encoding, Expect,
 * Upgrade); and the same bytes cut before the blank line are never taken
 * (a head is only ever taken whole).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "flhead.h"
#include "gg_limits.h"

static int
inside(const char *p, size_t n, const char *buf, size_t len)
{
	return p >= buf && p + n <= buf + len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct fl_head h, h2;

	if (!flhead_parse(buf, size, &h))
		return 0;
	CHECK(h.len >= 4 && h.len <= size);
	CHECK(memcmp(buf + h.len - 4, "\r\n\r\n", 4) == 0);
	CHECK(inside(h.target, h.tlen, buf, h.len) && h.tlen > 0 && h.target[0] == '/');
	for (size_t i = 0; i < h.tlen; i++) {
		unsigned char c = (unsigned char)h.target[i];
		CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '/' || c == '-' || c == '_' || c == '.' || c == '~');
	}
	CHECK(memcmp(buf, h.is_head ? "HEAD " : "GET ", h.is_head ? 5 : 4) == 0);
	if (h.range != NULL)
		CHECK(inside(h.range, h.range_len, buf, h.len) &&
		      h.range_len <= GG_MAX_RANGE_HDR_LEN);
	if (h.rid != NULL)
		CHECK(inside(h.rid, h.rid_len, buf, h.len));
	/* What makes a head the slow path's is never in one taken: exactly
	 * one Host, and no header that changes the answer or brings a body. */
	{
		const char *p = memchr(buf, '\n', h.len);
		size_t hosts = 0;

		CHECK(p != NULL);
		for (p++; p < buf + h.len - 2;) {
			const char *eol = memchr(p, '\n', (size_t)(buf + h.len - p));
			size_t nl = 0;

			CHECK(eol != NULL);
			while (p + nl < eol && p[nl] != ':')
				nl++;
			CHECK(p + nl < eol); /* every line has its colon */
			if (nl == 4 && strncasecmp(p, "Host", 4) == 0)
				hosts++;
			CHECK(!(nl >= 3 && strncasecmp(p, "If-", 3) == 0));
			CHECK(!(nl == 13 && strncasecmp(p, "Authorization", 13) == 0));
			CHECK(!(nl == 12 && strncasecmp(p, "X-Ggufd-Peer", 12) == 0));
			CHECK(!(nl == 14 && strncasecmp(p, "Content-Length", 14) == 0));
			CHECK(!(nl == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0));
			CHECK(!(nl == 6 && strncasecmp(p, "Expect", 6) == 0));
			CHECK(!(nl == 7 && strncasecmp(p, "Upgrade", 7) == 0));
			p = eol + 1;
		}
		CHECK(hosts == 1);
	}
	/* Whole or not at all: the head less its last byte is not taken. */
	CHECK(!flhead_parse(buf, h.len - 1, &h2));
	/* What follows the head does not change it. */
	CHECK(flhead_parse(buf, h.len, &h2) && h2.len == h.len && h2.tlen == h.tlen &&
	      h2.is_head == h.is_head && h2.close == h.close);
	return 0;
}
