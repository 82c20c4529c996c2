/*
 * range.h: HTTP Range / If-Range handling (RFC 9110 section 14).
 *
 * The parser works over a (buf, end) pair and needs no NUL.  It decides
 * one of three outcomes for a representation of `size` bytes:
 *
 *   RANGE_FULL    serve 200 with the whole entity: no header, a header
 *                 that is not a valid "bytes=" set (ignored, as RFC 9110
 *                 allows), an empty entity, or an abusive set (more than
 *                 GG_MAX_RANGES ranges, or ranges adding up to more bytes
 *                 than the entity: overlaps and repeats).
 *   RANGE_PARTIAL serve 206 with the *n satisfiable ranges, in the order
 *                 asked, each clamped to the entity (last <= size-1).
 *   RANGE_UNSATISFIABLE  serve 416 with "Content-Range: bytes * /size".
 *
 * Forms: "bytes=a-b", "bytes=a-" (to the end), "bytes=-n" (last n bytes),
 * lists separated by "," with optional spaces/tabs.  Numbers go through
 * the bounded parser; a number too large for 64 bits makes the header
 * invalid (RANGE_FULL).  A range with a > b is invalid (RANGE_FULL).  A range
 * whose first byte is past the end is unsatisfiable and dropped; "-0" is
 * unsatisfiable.  If nothing satisfiable remains: RANGE_UNSATISFIABLE.
 */
#ifndef GG_RANGE_H
#define GG_RANGE_H

#include <stddef.h>
#include <stdint.h>

struct byte_range {
	uint64_t first; /* inclusive */
	uint64_t last;  /* inclusive, < size */
};

enum range_outcome { RANGE_FULL = 0, RANGE_PARTIAL = 1, RANGE_UNSATISFIABLE = 2 };

/*
 * Parses the Range header [hdr, end) for an entity of size bytes.
 *
 * hdr may be NULL (no Range header).  end may be NULL, and then hdr is
 * read as a NUL-terminated string; otherwise no NUL is needed and a NUL
 * byte inside [hdr, end) is just an invalid character.  A header longer
 * than GG_MAX_RANGE_HDR_LEN is ignored (RANGE_FULL).
 *
 * out must hold max entries; at most min(max, GG_MAX_RANGES) ranges are
 * accepted (a caller that can only serve one range passes max = 1 and gets
 * RANGE_FULL for a multi-range set).  *n (if n is not NULL) receives the
 * number filled for RANGE_PARTIAL, else 0.  Pure function, thread safe.
 */
enum range_outcome range_parse(const char *hdr, const char *end, uint64_t size,
			       struct byte_range *out, size_t max, size_t *n);

/*
 * If-Range: returns 1 if the Range header may be honoured, 0 if the whole
 * entity must be sent instead.  if_range NULL -> 1.  An entity-tag must be
 * strong and equal to etag (the quoted ETag we send; "W/" never matches);
 * anything else (an HTTP date: we send no Last-Modified; a list; garbage;
 * etag NULL) -> 0.  Both are NUL-terminated; OWS around if_range is
 * ignored; a value over GG_MAX_HEADER_BYTES is treated as garbage.
 */
int range_if_range_ok(const char *if_range, const char *etag);

/*
 * If-None-Match: returns 1 if the header matches etag (so a 304 is due):
 * "*", or a comma-separated list containing etag with weak comparison
 * (W/"x" matches "x").  Entity-tags are parsed properly, so a comma
 * inside a quoted tag is part of the tag; OWS and empty list elements are
 * allowed.  NULL, a malformed list (it is ignored as RFC 9110 allows), a
 * NULL or malformed etag, or a value over GG_MAX_HEADER_BYTES -> 0.
 */
int range_if_none_match(const char *inm, const char *etag);

/*
 * multipart/byteranges layout (RFC 9110 section 14.6).  For part i,
 * part_head[i] is
 *   "\r\n--BOUNDARY\r\nContent-Type: CTYPE\r\nContent-Range: bytes a-b/size\r\n\r\n"
 * (the leading CRLF of the first part is allowed by the multipart grammar
 * as preamble), followed by the part's bytes; after the last part comes
 * the tail "\r\n--BOUNDARY--\r\n".
 */
struct range_part {
	char head[192];
	size_t head_len;
	uint64_t first;
	uint64_t last;
};

/*
 * Fills parts[0..n), the tail "\r\n--BOUNDARY--\r\n" into the caller's
 * buffer tail (tail_size bytes, NUL-terminated; *tail_len its length) and
 * *total, the exact Content-Length of the body (heads + part bytes +
 * tail).  tail_len and total may be NULL.  Returns 0, or
 *   GG_EINVAL  n is 0, boundary is not 1 to 70 characters of [0-9A-Za-z],
 *              ctype holds a control character, or a range is not
 *              first <= last < size
 *   GG_ETOOBIG a head or the tail does not fit, or the total overflows
 * On error the contents of parts and tail are unspecified.
 */
int range_multipart_plan(const struct byte_range *r, size_t n, uint64_t size, const char *ctype,
			 const char *boundary, struct range_part *parts, char *tail,
			 size_t tail_size, size_t *tail_len, uint64_t *total);

#endif
