/*
 * flhead.h: the fast lane's request-head parser (fastlane.c).
 *
 * A head the fast lane may answer: whole in the buffer (up to its blank
 * line), "GET " or "HEAD ", an origin-form target of the bytes the router
 * takes unescaped (no query, no %-escape), HTTP/1.1, exactly one Host, at
 * most one Range (of at most GG_MAX_RANGE_HDR_LEN bytes), Connection only
 * close or keep-alive, and none of the headers that change the answer or
 * bring a body: Authorization, X-Ggufd-Peer, If-*, Content-Length,
 * Transfer-Encoding, Expect, Upgrade.  Header lines are "name: value"
 * with a token name and no control byte but tab; no obs-fold.
 */
#ifndef GG_FLHEAD_H
#define GG_FLHEAD_H

#include <stddef.h>

struct fl_head {
	size_t len; /* of the whole head, blank line included */
	int is_head;
	const char *target; /* in the buffer, tlen bytes */
	size_t tlen;
	const char *range; /* the Range value, or NULL */
	size_t range_len;
	const char *rid; /* the X-Request-Id value, or NULL */
	size_t rid_len;
	int close; /* Connection: close */
};

/*
 * Parses the head in buf[0, n).  1: a request the fast lane may answer
 * (*h filled, pointing into buf); 0: the slow path's (incomplete,
 * malformed, or asking for something the fast lane does not give).
 */
int flhead_parse(const char *buf, size_t n, struct fl_head *h);

#endif
