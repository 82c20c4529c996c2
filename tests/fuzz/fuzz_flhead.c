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
 * id, when there are, lie inside the head; and the same bytes cut before
 * the blank line are never taken (a head is only ever taken whole).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
	/* Whole or not at all: the head less its last byte is not taken. */
	CHECK(!flhead_parse(buf, h.len - 1, &h2));
	/* What follows the head does not change it. */
	CHECK(flhead_parse(buf, h.len, &h2) && h2.len == h.len && h2.tlen == h.tlen &&
	      h2.is_head == h.is_head && h2.close == h.close);
	return 0;
}
