/*
 * range.c: the byte-range arithmetic of RFC 9110 section 14, and the
 * validators (If-Range, If-None-Match) that decide whether it applies.
 *
 * What arrives on the wire, and what we accept of it:
 *
 *   Range: bytes=0-499                first-last, both inclusive
 *   Range: bytes=9500-                first to the end
 *   Range: bytes=-500                 the last 500 bytes (suffix)
 *   Range: BYTES= 0-0 , ,-1           unit is case-insensitive; OWS around
 *                                     the set and the commas; empty list
 *                                     elements are skipped (RFC 9110 5.6.1)
 *
 *   ranges-specifier = "bytes" "=" OWS range-set OWS
 *   range-set        = [ range-spec ] *( OWS "," OWS [ range-spec ] )
 *   range-spec       = 1*DIGIT "-" *DIGIT  /  "-" 1*DIGIT
 *
 * The parser is total: any byte sequence, with or without NULs, ends in
 * one of three outcomes and never reads outside [hdr, end).  Anything we
 * do not understand is ignored (200 with the whole entity), which RFC 9110
 * allows and which every client handles; only a well-formed set with no
 * satisfiable range gives 416.  Like nginx, we refuse to amplify: a set of
 * more than GG_MAX_RANGES ranges, or ranges adding up to more bytes than
 * the entity itself (overlaps, repeats), is answered with the whole entity
 * once rather than with pieces of it many times.
 *
 * A 206 with several ranges is a multipart/byteranges body, which this
 * module lays out but does not write:
 *
 *   \r\n--BOUNDARY\r\n                         <- part 0 head (its leading
 *   Content-Type: application/octet-stream\r\n    CRLF is the preamble)
 *   Content-Range: bytes 0-0/10000\r\n
 *   \r\n
 *   <byte 0>
 *   \r\n--BOUNDARY\r\n                         <- part 1 head
 *   Content-Type: application/octet-stream\r\n
 *   Content-Range: bytes 9999-9999/10000\r\n
 *   \r\n
 *   <byte 9999>
 *   \r\n--BOUNDARY--\r\n                       <- tail
 *
 * The plan gives the exact Content-Length up front, so the response can
 * be streamed without chunked encoding.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gg_limits.h"
#include "range.h"
#include "util.h"

/* RFC 2046: a boundary has 1 to 70 characters. */
#define RANGE_MAX_BOUNDARY 70

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static const char *
skip_ows(const char *p, const char *end)
{
	while (p < end && is_ows(*p))
		p++;
	return p;
}

/* Drops OWS from the end of [p, end). */
static const char *
trim_ows_end(const char *p, const char *end)
{
	while (end > p && is_ows(end[-1]))
		end--;
	return end;
}

static const char *
skip_digits(const char *p, const char *end)
{
	while (p < end && is_digit(*p))
		p++;
	return p;
}

/* ASCII case-insensitive match of [p, p+n) against lowercase lit. */
static int
ascii_caseeq(const char *p, const char *lit, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != lit[i])
			return 0;
	}
	return 1;
}

/*
 * Parses one entity-tag at p (RFC 9110 8.8.3):
 *   entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE
 *   etagc      = %x21 / %x23-7E / obs-text
 * On success returns the byte after the closing quote, sets *weak and
 * [*op, *op_end) to the opaque-tag (quotes included).  NULL if malformed.
 */
static const char *
parse_etag(const char *p, const char *end, int *weak, const char **op, const char **op_end)
{
	const char *q;

	*weak = 0;
	if (end - p >= 2 && p[0] == 'W' && p[1] == '/') {
		*weak = 1;
		p += 2;
	}
	if (p >= end || *p != '"')
		return NULL;
	for (q = p + 1; q < end; q++) {
		unsigned char c = (unsigned char)*q;
		if (c == '"')
			break;
		if (c < 0x21 || c == 0x7f)
			return NULL;
	}
	if (q >= end)
		return NULL;
	*op = p;
	*op_end = q + 1;
	return q + 1;
}

/* [s, s+strnlen) bounded by max; NULL if s is longer than max bytes. */
static const char *
bounded_end(const char *s, size_t max)
{
	size_t len = strnlen(s, max + 1);
	return len > max ? NULL : s + len;
}

enum range_outcome
range_parse(const char *hdr, const char *end, uint64_t size, struct byte_range *out, size_t max,
	    size_t *n)
{
	enum range_outcome res = RANGE_FULL;
	const char *p;
	size_t specs = 0, nsat = 0;
	uint64_t sum = 0;

	if (hdr == NULL || out == NULL || size == 0 || max == 0)
		goto done;
	if (end == NULL)
		end = bounded_end(hdr, GG_MAX_RANGE_HDR_LEN);
	if (end == NULL || end < hdr || (size_t)(end - hdr) > GG_MAX_RANGE_HDR_LEN)
		goto done;
	if (max > GG_MAX_RANGES)
		max = GG_MAX_RANGES;

	p = skip_ows(hdr, end);
	if (end - p < 6 || !ascii_caseeq(p, "bytes", 5) || p[5] != '=')
		goto done;
	p += 6;

	for (;;) {
		const char *q;
		uint64_t first = 0, last = 0, len;
		int has_first, has_last;

		p = skip_ows(p, end);
		if (p == end)
			break;
		if (*p == ',') { /* an empty list element */
			p++;
			continue;
		}

		q = skip_digits(p, end);
		has_first = q > p;
		if (has_first && parse_u64(p, q, UINT64_MAX, &first) != GG_OK)
			goto done;
		p = q;
		if (p == end || *p != '-')
			goto done;
		p++;
		q = skip_digits(p, end);
		has_last = q > p;
		if (has_last && parse_u64(p, q, UINT64_MAX, &last) != GG_OK)
			goto done;
		p = q;
		if (!has_first && !has_last)
			goto done;

		/* The spec must end here: OWS, then a comma or the end. */
		p = skip_ows(p, end);
		if (p < end) {
			if (*p != ',')
				goto done;
			p++;
		}
		if (++specs > max)
			goto done;

		if (has_first) {
			if (has_last && last < first)
				goto done;
			if (first >= size)
				continue; /* unsatisfiable: dropped */
			if (!has_last || last > size - 1)
				last = size - 1;
		} else {
			if (last == 0)
				continue; /* "-0" selects nothing */
			first = last >= size ? 0 : size - last;
			last = size - 1;
		}
		len = last - first + 1;
		if (len > size - sum)
			goto done; /* more bytes than the entity: abusive */
		sum += len;
		out[nsat].first = first;
		out[nsat].last = last;
		nsat++;
	}

	if (specs == 0)
		goto done;
	res = nsat > 0 ? RANGE_PARTIAL : RANGE_UNSATISFIABLE;
done:
	if (res != RANGE_PARTIAL)
		nsat = 0;
	if (n != NULL)
		*n = nsat;
	return res;
}

int
range_if_range_ok(const char *if_range, const char *etag)
{
	const char *p, *end, *next, *op, *op_end;
	int weak, ok = 0;
	size_t etag_len;

	if (if_range == NULL) {
		ok = 1;
		goto done;
	}
	if (etag == NULL || (end = bounded_end(if_range, GG_MAX_HEADER_BYTES)) == NULL)
		goto done;
	p = skip_ows(if_range, end);
	end = trim_ows_end(p, end);
	/* Anything that is not one strong entity-tag (a date, a list, a
	 * weak tag) fails: we send no Last-Modified to compare with. */
	next = parse_etag(p, end, &weak, &op, &op_end);
	if (next == NULL || next != end || weak)
		goto done;
	etag_len = strlen(etag);
	ok = etag_len == (size_t)(end - p) && memcmp(p, etag, etag_len) == 0;
done:
	return ok;
}

int
range_if_none_match(const char *inm, const char *etag)
{
	const char *p, *end, *eop, *eop_end, *eend;
	int weak, matched = 0;
	size_t tags = 0;

	if (inm == NULL || (end = bounded_end(inm, GG_MAX_HEADER_BYTES)) == NULL)
		goto done;
	p = skip_ows(inm, end);
	end = trim_ows_end(p, end);
	if (end - p == 1 && *p == '*') {
		matched = 1;
		tags = 1;
		goto done;
	}
	/* Our own tag, reduced to its opaque part for the weak comparison. */
	if (etag == NULL || (eend = bounded_end(etag, GG_MAX_HEADER_BYTES)) == NULL ||
	    parse_etag(etag, eend, &weak, &eop, &eop_end) != eend)
		goto done;

	while (p < end) {
		const char *op, *op_end;

		if (*p == ',') { /* an empty list element */
			p = skip_ows(p + 1, end);
			continue;
		}
		/* RFC 9110 lets a recipient ignore a field it cannot parse:
		 * one malformed member and the header counts as absent. */
		p = parse_etag(p, end, &weak, &op, &op_end);
		if (p == NULL) {
			matched = 0;
			goto done;
		}
		tags++;
		if (op_end - op == eop_end - eop && memcmp(op, eop, (size_t)(op_end - op)) == 0)
			matched = 1;
		p = skip_ows(p, end);
		if (p < end) {
			if (*p != ',') {
				matched = 0;
				goto done;
			}
			p = skip_ows(p + 1, end);
		}
	}
done:
	return tags > 0 && matched;
}

static int
valid_boundary(const char *b)
{
	size_t i;

	for (i = 0; b[i] != '\0' && i <= RANGE_MAX_BOUNDARY; i++) {
		char c = b[i];
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
			return 0;
	}
	return i >= 1 && i <= RANGE_MAX_BOUNDARY;
}

/* A header field value must not carry control characters (CR, LF). */
static int
valid_field_value(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

int
range_multipart_plan(const struct byte_range *r, size_t n, uint64_t size, const char *ctype,
		     const char *boundary, struct range_part *parts, char *tail, size_t tail_size,
		     size_t *tail_len, uint64_t *total)
{
	uint64_t sum = 0;
	int err = GG_EINVAL;

	if (r == NULL || n == 0 || parts == NULL || tail == NULL || ctype == NULL ||
	    boundary == NULL || !valid_boundary(boundary) || !valid_field_value(ctype))
		goto done;

	for (size_t i = 0; i < n; i++) {
		struct range_part *pt = &parts[i];
		uint64_t len;

		if (r[i].first > r[i].last || r[i].last >= size) {
			err = GG_EINVAL;
			goto done;
		}
		err = snprintf_checked(pt->head, sizeof(pt->head),
				       "\r\n--%s\r\nContent-Type: %s\r\n"
				       "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64
				       "\r\n\r\n",
				       boundary, ctype, r[i].first, r[i].last, size);
		if (err != GG_OK)
			goto done;
		pt->head_len = strlen(pt->head);
		pt->first = r[i].first;
		pt->last = r[i].last;
		len = r[i].last - r[i].first + 1;
		if (len > UINT64_MAX - pt->head_len || sum > UINT64_MAX - pt->head_len - len) {
			err = GG_ETOOBIG;
			goto done;
		}
		sum += pt->head_len + len;
	}

	err = snprintf_checked(tail, tail_size, "\r\n--%s--\r\n", boundary);
	if (err != GG_OK)
		goto done;
	if (sum > UINT64_MAX - strlen(tail)) {
		err = GG_ETOOBIG;
		goto done;
	}
	if (tail_len != NULL)
		*tail_len = strlen(tail);
	if (total != NULL)
		*total = sum + strlen(tail);
	err = GG_OK;
done:
	return err;
}
