/*
 * fuzz_range.c: libFuzzer target for the request-line and header parsers
 * of the HTTP layer: range_parse (with the multipart plan on top),
 * range_if_range_ok, range_if_none_match, route_parse and
 * route_pct_decode.
 *
 * Input layout:
 *
 *   byte 0       how to derive the entity size: low 2 bits pick
 *                0: bytes 1..1 mod 64   (tiny entities, 0 included)
 *                1: bytes 1..2 as u16   (small)
 *                2: bytes 1..8 as u64   (anything)
 *                3: UINT64_MAX - byte 1 (wrap-around edge)
 *   bytes 9..    the text fed to every parser
 *
 * Beyond "no crash, no sanitizer report", each parser's documented
 * postconditions are checked, and a violation traps.  The text is passed
 * with an explicit end wherever the interface allows, straight from
 * libFuzzer's exactly-sized buffer, so any read past it is an ASan report.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gg_limits.h"
#include "range.h"
#include "route.h"
#include "util.h"

#define FUZZ_HDR_OFF 9

static uint64_t
entity_size(const uint8_t *d)
{
	uint64_t v = 0;

	switch (d[0] & 3) {
	case 0: return d[1] % 64;
	case 1: return (uint64_t)d[1] | (uint64_t)d[2] << 8;
	case 2:
		for (int i = 8; i >= 1; i--)
			v = v << 8 | d[i];
		return v;
	default: return UINT64_MAX - d[1];
	}
}

static void
fuzz_ranges(const char *text, size_t len, uint64_t esize, int max)
{
	struct byte_range r[GG_MAX_RANGES];
	struct range_part parts[GG_MAX_RANGES];
	char tail[128];
	size_t n = 12345, tail_len = 0;
	uint64_t sum = 0, total = 0, want;
	enum range_outcome out;

	out = range_parse(text, text + len, esize, r, (size_t)max, &n);
	if (out != RANGE_PARTIAL) {
		CHECK(out == RANGE_FULL || out == RANGE_UNSATISFIABLE);
		CHECK(n == 0);
		CHECK(esize > 0 || out == RANGE_FULL);
		return;
	}
	CHECK(n >= 1 && n <= (size_t)max && n <= GG_MAX_RANGES);
	for (size_t i = 0; i < n; i++) {
		CHECK(r[i].first <= r[i].last);
		CHECK(r[i].last < esize);
		CHECK(r[i].last - r[i].first + 1 <= esize - sum);
		sum += r[i].last - r[i].first + 1;
	}
	if (range_multipart_plan(r, n, esize, "application/octet-stream", "ggufd0123456789abcdef",
				 parts, tail, sizeof(tail), &tail_len, &total) != GG_OK)
		return; /* only a head too long for u64 sizes may fail */
	want = sum + tail_len;
	for (size_t i = 0; i < n; i++) {
		CHECK(parts[i].head_len == strlen(parts[i].head));
		CHECK(parts[i].first == r[i].first && parts[i].last == r[i].last);
		want += parts[i].head_len;
	}
	CHECK(tail_len == strlen(tail));
	CHECK(total == want);
}

static void
check_components(const char *s, int allow_empty)
{
	size_t len = strlen(s), start = 0;

	if (len == 0) {
		CHECK(allow_empty);
		return;
	}
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '/') {
			size_t n = i - start;
			CHECK(n > 0);
			CHECK(!(n == 1 && s[start] == '.'));
			CHECK(!(n == 2 && s[start] == '.' && s[start + 1] == '.'));
			start = i + 1;
		} else {
			CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
		}
	}
}

/* Route kinds that carry a repo id. */
static int
has_repo(enum route_kind k)
{
	switch (k) {
	case ROUTE_INDEX:
	case ROUTE_HEALTHZ:
	case ROUTE_METRICS:
	case ROUTE_UI:
	case ROUTE_WHOAMI:
	case ROUTE_VALIDATE_YAML:
	case ROUTE_REPO_CREATE:
	case ROUTE_GGUFD_PULL:
	case ROUTE_GGUFD_PULL_JOB:
	case ROUTE_GGUFD_UPLOADS:
	case ROUTE_GGUFD_UPLOAD_JOB:
	case ROUTE_GGUFD_REPOS:
	case ROUTE_GGUFD_ACTIVITY:
	case ROUTE_GGUFD_FILES:
	case ROUTE_GGUFD_AUDIT:
	case ROUTE_GGUFD_TOKENS:
	case ROUTE_GGUFD_TOKEN:
	case ROUTE_GGUFD_DISK:
	case ROUTE_GGUFD_PINS:
	case ROUTE_LFS_OBJECT:
	case ROUTE_LFS_PART:
	case ROUTE_LFS_COMPLETE:
	case ROUTE_V2_PING: return 0;
	default: return 1;
	}
}

static void
fuzz_route(const char *text, size_t len)
{
	struct route r;
	char dec[64];
	long d;
	int err;

	err = route_parse(text, len, &r);
	if (err != GG_OK) {
		CHECK(err == GG_ENOENT || err == GG_EINVAL || err == GG_ETOOBIG);
		CHECK(r.kind == ROUTE_NONE);
	} else {
		CHECK(r.kind != ROUTE_NONE);
		CHECK(len <= GG_MAX_URL_LEN && len >= 1 && text[0] == '/');
		if (!has_repo(r.kind)) {
			/* ggufd's own routes and the fixed ones name no repo. */
			CHECK(r.repo[0] == '\0' && !r.has_rev);
			CHECK(r.has_path == (r.kind == ROUTE_UI || r.kind == ROUTE_GGUFD_TOKEN));
		} else {
			CHECK(route_valid_repo(r.repo));
			CHECK(strlen(r.repo) <= GG_MAX_REPO_LEN);
		}
		if (r.kind == ROUTE_LFS_OBJECT || r.kind == ROUTE_LFS_PART ||
		    r.kind == ROUTE_LFS_COMPLETE || r.kind == ROUTE_V2_BLOB)
			CHECK(strlen(r.oid) == GG_SHA256_HEX && is_lower_hex(r.oid, GG_SHA256_HEX));
		CHECK(strlen(r.rev) <= GG_MAX_REV_LEN);
		CHECK(strlen(r.path) <= GG_MAX_REPO_PATH_LEN);
		check_components(r.rev, !r.has_rev);
		check_components(r.path, !r.has_path);
		if (r.kind == ROUTE_RESOLVE || r.kind == ROUTE_RAW)
			CHECK(r.has_rev && r.has_path);
	}

	d = route_pct_decode(text, len, dec, sizeof(dec));
	if (d >= 0) {
		CHECK((size_t)d < sizeof(dec));
		CHECK(strlen(dec) == (size_t)d);
		CHECK((size_t)d <= len);
	} else {
		CHECK(d == GG_EINVAL || d == GG_ETOOBIG);
	}
}

static void
fuzz_validators(const char *text, size_t len)
{
	char *s = malloc(len + 1);
	int strong_self;

	if (s == NULL)
		return;
	memcpy(s, text, len);
	s[len] = '\0';
	(void)range_if_range_ok(s, "\"abc\"");
	(void)range_if_none_match(s, "\"abc\"");
	(void)range_if_none_match(s, "W/\"a,b\"");
	(void)range_if_none_match("\"x\", W/\"abc\"", s);
	(void)route_valid_repo(s);
	/* A value that passes If-Range against itself is one strong tag,
	 * so it must also match itself under If-None-Match. */
	strong_self = range_if_range_ok(s, s);
	if (strong_self)
		CHECK(range_if_none_match(s, s) == 1);
	/* A match requires a valid list; "W/" on our side is ignored. */
	if (range_if_none_match(s, "\"abc\""))
		CHECK(range_if_none_match(s, "W/\"abc\"") == 1);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text;
	size_t len;
	uint64_t esize;

	if (size < FUZZ_HDR_OFF)
		return 0;
	esize = entity_size(data);
	text = (const char *)data + FUZZ_HDR_OFF;
	len = size - FUZZ_HDR_OFF;

	fuzz_ranges(text, len, esize, GG_MAX_RANGES);
	fuzz_ranges(text, len, esize, 1 + data[0] % 4);
	fuzz_route(text, len);
	fuzz_validators(text, len);
	return 0;
}
