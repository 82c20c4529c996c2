/*
 * route.c: from the raw request path to a route (see route.h).
 *
 * The path is taken exactly as it came on the wire, split on "/" first
 * and decoded segment by segment afterwards, because the clients disagree
 * on what they encode (HF-PROTOCOL.md 1.2):
 *
 *   /TheBloke/Llama-2-7B-Chat-GGUF/resolve/refs%2Fpr%2F1/sub/a%20b.gguf
 *    \_________ repo __________/ marker  \____ rev ____/ \__ path ___/
 *    seg 0      seg 1            seg 2     seg 3         seg 4 seg 5
 *
 *   /api/models/gpt2/tree/refs/pr/1/sub%2Fdir     (JS listFiles: rev raw;
 *    \_ type _/ repo mark \_ rev _/ \_ path _/      Python: sub-path %2F)
 *
 * Decoding first would turn "refs%2Fpr%2F1" into three segments and shift
 * everything after it.  The repo is found by looking for the marker
 * segment at position 2 (namespace/name), else at position 1 (legacy
 * single-segment ids like "gpt2"); counting segments cannot work because
 * the revision and the path both have a variable number of them.
 *
 * Invariants of a successful parse: repo satisfies route_valid_repo();
 * rev and path are NUL-free, have no control characters, and split on "/"
 * into components that are never empty, "." or ".."; all three fit their
 * GG_MAX_* limits.  The router never touches the filesystem: the decoded
 * names are keys for the index, and these rules are a second line of
 * defence should one ever reach a path or a header.
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include "gg_limits.h"
#include "route.h"
#include "util.h"

/* One raw (still encoded) path segment: [p, p+len), never empty. */
struct seg {
	const char *p;
	size_t len;
};

struct segs {
	struct seg s[GG_MAX_SEGMENTS];
	size_t n;
	int trailing; /* the path ended in "/" */
};

static int
seg_is(const struct seg *s, const char *lit)
{
	size_t n = strlen(lit);
	return s->len == n && memcmp(s->p, lit, n) == 0;
}

static int
repo_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

static int
dot_or_dotdot(const char *s, size_t n)
{
	return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

long
route_pct_decode(const char *s, size_t n, char *out, size_t outsz)
{
	size_t i = 0, o = 0;
	long res = GG_ETOOBIG;

	if (out == NULL || outsz == 0)
		goto done;
	if (outsz > LONG_MAX)
		outsz = LONG_MAX;
	res = GG_EINVAL;
	if (s == NULL && n > 0)
		goto done;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (n - i < 3)
				goto done;
			hi = hex_digit(s[i + 1]);
			lo = hex_digit(s[i + 2]);
			if (hi < 0 || lo < 0)
				goto done;
			c = (unsigned char)(hi << 4 | lo);
			i += 3;
		} else {
			i++;
		}
		if (c == '\0')
			goto done; /* %00, or a raw NUL byte */
		if (o + 1 >= outsz) {
			res = GG_ETOOBIG;
			goto done;
		}
		out[o++] = (char)c;
	}
	res = (long)o;
done:
	if (out != NULL && outsz > 0)
		out[res >= 0 ? o : 0] = '\0';
	return res;
}

/*
 * Splits [path+1, path+len) on "/".  A single trailing "/" is noted, not
 * kept as a segment; any other empty segment ("//", "/a//b") is GG_EINVAL.
 * More than GG_MAX_SEGMENTS segments is GG_ETOOBIG.
 */
static int
split_path(const char *path, size_t len, struct segs *sp)
{
	const char *p = path + 1, *end = path + len;
	int err = GG_OK;

	sp->n = 0;
	sp->trailing = 0;
	if (end > p && end[-1] == '/') {
		sp->trailing = 1;
		end--;
	}
	for (;;) {
		const char *q = memchr(p, '/', (size_t)(end - p));

		if (q == NULL)
			q = end;
		if (q == p) {
			err = GG_EINVAL;
			goto done;
		}
		if (sp->n == GG_MAX_SEGMENTS) {
			err = GG_ETOOBIG;
			goto done;
		}
		sp->s[sp->n].p = p;
		sp->s[sp->n].len = (size_t)(q - p);
		sp->n++;
		if (q == end)
			break;
		p = q + 1;
	}
done:
	return err;
}

/*
 * Decodes segs[0..n) into out as the repo id "a" or "a/b".  Each segment
 * is decoded on its own and must be [A-Za-z0-9._-]+ and not "." or "..",
 * so an encoded "/" cannot fake a namespace.
 */
static int
decode_repo(const struct seg *s, size_t n, char *out, size_t outsz)
{
	size_t len = 0;
	int err = GG_OK;

	for (size_t i = 0; i < n; i++) {
		long r;

		if (i > 0) {
			if (len + 1 >= outsz) {
				err = GG_ETOOBIG;
				goto done;
			}
			out[len++] = '/';
		}
		r = route_pct_decode(s[i].p, s[i].len, out + len, outsz - len);
		if (r < 0) {
			err = (int)r;
			goto done;
		}
		for (long j = 0; j < r; j++) {
			if (!repo_char(out[len + (size_t)j])) {
				err = GG_EINVAL;
				goto done;
			}
		}
		if (dot_or_dotdot(out + len, (size_t)r)) {
			err = GG_EINVAL;
			goto done;
		}
		len += (size_t)r;
	}
	out[len] = '\0';
done:
	return err;
}

/*
 * Every "/"-separated component of [s, s+n) must be non-empty, not "."
 * or "..", and free of control characters, and the whole must be UTF-8
 * (the Hub's names are; a byte that is not would reach the index and
 * upstream as is).  This runs on the joined, decoded string, so it also
 * catches what came in as "%2F.." or "sub%2F%2Fdir" inside one segment.
 */
static int
check_components(const char *s, size_t n)
{
	size_t start = 0;
	int err = GG_EINVAL;

	if (!utf8_valid(s, n))
		goto done;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '/') {
			if (i == start || dot_or_dotdot(s + start, i - start))
				goto done;
			start = i + 1;
		} else if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			goto done;
		}
	}
	err = GG_OK;
done:
	return err;
}

/* Decodes segs[0..n) one by one, joins them with "/" and checks them. */
static int
decode_join(const struct seg *s, size_t n, char *out, size_t outsz)
{
	size_t len = 0;
	int err = GG_OK;

	for (size_t i = 0; i < n; i++) {
		long r;

		if (i > 0) {
			if (len + 1 >= outsz) {
				err = GG_ETOOBIG;
				goto done;
			}
			out[len++] = '/';
		}
		r = route_pct_decode(s[i].p, s[i].len, out + len, outsz - len);
		if (r < 0) {
			err = (int)r;
			goto done;
		}
		len += (size_t)r;
	}
	out[len] = '\0';
	err = check_components(out, len);
done:
	return err;
}

/*
 * How many raw segments the revision starting at segs[i] takes: three
 * for an unencoded "refs/pr/1", else one.  0 if it is missing or cut
 * short (the caller reports GG_EINVAL).
 */
static size_t
rev_segments(const struct segs *sp, size_t i)
{
	size_t want;

	if (i >= sp->n)
		return 0;
	want = seg_is(&sp->s[i], "refs") ? 3 : 1;
	return sp->n - i >= want ? want : 0;
}

static int
resolve_marker(const struct seg *s)
{
	return seg_is(s, "resolve") || seg_is(s, "raw");
}

/*
 * An API marker.  "refs" takes no argument and counts only as the last
 * segment, so that JS's unencoded "/gpt2/tree/refs/pr/1" finds "tree".
 */
static int
api_marker(const struct segs *sp, size_t i)
{
	const struct seg *s = &sp->s[i];

	if (seg_is(s, "refs"))
		return i + 1 == sp->n;
	return seg_is(s, "revision") || seg_is(s, "tree") || seg_is(s, "paths-info") ||
	       seg_is(s, "preupload") || seg_is(s, "commit") || seg_is(s, "xet-read-token") ||
	       seg_is(s, "xet-write-token") || seg_is(s, "commits") || seg_is(s, "branch") ||
	       seg_is(s, "tag");
}

/* /[datasets/|spaces/]{repo}/{resolve|raw}/{rev}/{path...} */
static int
parse_file(const struct segs *sp, struct route *r)
{
	size_t off = 0, m, i, nrev;
	int err = GG_ENOENT;

	r->type = REPO_MODEL;
	if (seg_is(&sp->s[0], "datasets")) {
		r->type = REPO_DATASET;
		off = 1;
	} else if (seg_is(&sp->s[0], "spaces")) {
		r->type = REPO_SPACE;
		off = 1;
	}
	if (off + 2 < sp->n && resolve_marker(&sp->s[off + 2]))
		m = 2;
	else if (off + 1 < sp->n && resolve_marker(&sp->s[off + 1]))
		m = 1;
	else
		goto done;
	r->kind = seg_is(&sp->s[off + m], "raw") ? ROUTE_RAW : ROUTE_RESOLVE;

	/* Shape first: a revision and at least one path segment. */
	err = GG_EINVAL;
	i = off + m + 1;
	nrev = rev_segments(sp, i);
	if (nrev == 0 || i + nrev >= sp->n)
		goto done;

	err = decode_repo(&sp->s[off], m, r->repo, sizeof(r->repo));
	if (err != GG_OK)
		goto done;
	err = decode_join(&sp->s[i], nrev, r->rev, sizeof(r->rev));
	if (err != GG_OK)
		goto done;
	r->has_rev = 1;
	i += nrev;
	err = decode_join(&sp->s[i], sp->n - i, r->path, sizeof(r->path));
	if (err != GG_OK)
		goto done;
	r->has_path = 1;
done:
	return err;
}

/* /[datasets/|spaces/]{ns}/{name}.git/info/lfs/objects/batch (or {name}.git) */
static int
parse_lfs_batch(const struct segs *sp, struct route *r)
{
	size_t off = 0, nrepo;
	struct seg repo[2];
	int err;

	r->type = REPO_MODEL;
	if (seg_is(&sp->s[0], "datasets")) {
		r->type = REPO_DATASET;
		off = 1;
	} else if (seg_is(&sp->s[0], "spaces")) {
		r->type = REPO_SPACE;
		off = 1;
	}
	nrepo = sp->n - 4 - off;
	if (nrepo < 1 || nrepo > 2)
		return GG_ENOENT;
	repo[0] = sp->s[off];
	repo[nrepo - 1] = sp->s[off + nrepo - 1];
	/* The last repo segment carries ".git". */
	if (repo[nrepo - 1].len <= 4 ||
	    memcmp(repo[nrepo - 1].p + repo[nrepo - 1].len - 4, ".git", 4) != 0)
		return GG_ENOENT;
	repo[nrepo - 1].len -= 4;
	err = decode_repo(repo, nrepo, r->repo, sizeof(r->repo));
	if (err == GG_OK)
		r->kind = ROUTE_LFS_BATCH;
	return err;
}

/* /api/{models|datasets|spaces}/{repo}[/{marker}[/{rev}[/{path...}]]] */
static int
parse_api(const struct segs *sp, struct route *r)
{
	const size_t off = 2;
	size_t m, rest, i, nrev;
	const struct seg *mark;
	int err = GG_ENOENT;

	if (sp->n < off + 1)
		goto done;
	if (seg_is(&sp->s[1], "models"))
		r->type = REPO_MODEL;
	else if (seg_is(&sp->s[1], "datasets"))
		r->type = REPO_DATASET;
	else if (seg_is(&sp->s[1], "spaces"))
		r->type = REPO_SPACE;
	else
		goto done;
	rest = sp->n - off;

	if (rest >= 3 && api_marker(sp, off + 2)) {
		m = 2;
	} else if (rest >= 2 && api_marker(sp, off + 1)) {
		m = 1;
	} else if (rest <= 2) {
		r->kind = ROUTE_API_INFO;
		err = decode_repo(&sp->s[off], rest, r->repo, sizeof(r->repo));
		goto done;
	} else {
		goto done;
	}
	mark = &sp->s[off + m];
	i = off + m + 1;

	if (seg_is(mark, "refs")) {
		r->kind = ROUTE_API_REFS;
		err = decode_repo(&sp->s[off], m, r->repo, sizeof(r->repo));
		goto done;
	}
	if (seg_is(mark, "tree"))
		r->kind = ROUTE_API_TREE;
	else if (seg_is(mark, "paths-info"))
		r->kind = ROUTE_API_PATHS_INFO;
	else if (seg_is(mark, "preupload"))
		r->kind = ROUTE_API_PREUPLOAD;
	else if (seg_is(mark, "commit"))
		r->kind = ROUTE_API_COMMIT;
	else if (seg_is(mark, "xet-read-token"))
		r->kind = ROUTE_API_XET_READ;
	else if (seg_is(mark, "xet-write-token"))
		r->kind = ROUTE_API_XET_WRITE;
	else if (seg_is(mark, "commits"))
		r->kind = ROUTE_API_COMMITS;
	else if (seg_is(mark, "branch"))
		r->kind = ROUTE_API_BRANCH;
	else if (seg_is(mark, "tag"))
		r->kind = ROUTE_API_TAG;
	else
		r->kind = ROUTE_API_INFO;

	/* Shape first: a revision; nothing after it except for tree. */
	nrev = rev_segments(sp, i);
	if (nrev == 0) {
		err = GG_EINVAL;
		goto done;
	}
	if (r->kind != ROUTE_API_TREE && i + nrev != sp->n) {
		err = GG_ENOENT;
		goto done;
	}

	err = decode_repo(&sp->s[off], m, r->repo, sizeof(r->repo));
	if (err != GG_OK)
		goto done;
	err = decode_join(&sp->s[i], nrev, r->rev, sizeof(r->rev));
	if (err != GG_OK)
		goto done;
	r->has_rev = 1;
	i += nrev;
	if (i < sp->n) {
		err = decode_join(&sp->s[i], sp->n - i, r->path, sizeof(r->path));
		if (err != GG_OK)
			goto done;
		r->has_path = 1;
	}
done:
	return err;
}

/* A decimal segment in 1..max: GG_OK, or err. */
static int
seg_u64(const struct seg *s, uint64_t max, uint64_t *out, int err)
{
	if (parse_u64(s->p, s->p + s->len, max, out) != GG_OK || *out == 0)
		return err;
	return GG_OK;
}

/*
 * /api/ggufd/{pull[/{id}] | uploads[/{id}] | audit | disk | pins | tokens[/{name}] |
 *             registry/{repo} |
 *             upload/{ns}/{name}/{path...}}
 * sp->s[0] is "api" and sp->s[1] "ggufd".
 */
static int
parse_ggufd(const struct segs *sp, struct route *r)
{
	const struct seg *what;
	int err = GG_ENOENT;

	if (sp->n < 3)
		goto done;
	what = &sp->s[2];
	if (seg_is(what, "repos") || seg_is(what, "activity") || seg_is(what, "files")) {
		if (sp->n == 3) {
			r->kind = seg_is(what, "repos")   ? ROUTE_GGUFD_REPOS
				  : seg_is(what, "files") ? ROUTE_GGUFD_FILES
							  : ROUTE_GGUFD_ACTIVITY;
			err = GG_OK;
		}
		goto done;
	}
	if (seg_is(what, "pull") || seg_is(what, "uploads")) {
		int pull = seg_is(what, "pull");
		if (sp->n == 3) {
			r->kind = pull ? ROUTE_GGUFD_PULL : ROUTE_GGUFD_UPLOADS;
			err = GG_OK;
		} else if (sp->n == 4) {
			r->kind = pull ? ROUTE_GGUFD_PULL_JOB : ROUTE_GGUFD_UPLOAD_JOB;
			err = seg_u64(&sp->s[3], pull ? ROUTE_MAX_PULL_ID : ROUTE_MAX_UPLOAD_ID,
				      &r->id, GG_EINVAL);
		}
		goto done;
	}
	if (seg_is(what, "audit") || seg_is(what, "disk") || seg_is(what, "pins")) {
		if (sp->n == 3) {
			r->kind = seg_is(what, "audit")  ? ROUTE_GGUFD_AUDIT
				  : seg_is(what, "disk") ? ROUTE_GGUFD_DISK
							 : ROUTE_GGUFD_PINS;
			err = GG_OK;
		}
		goto done;
	}
	if (seg_is(what, "registry")) {
		/* registry/{repo}: a model repo, one or two segments. */
		if (sp->n == 4 || sp->n == 5) {
			r->kind = ROUTE_GGUFD_REGISTRY;
			r->type = REPO_MODEL;
			err = decode_repo(&sp->s[3], sp->n - 3, r->repo, sizeof(r->repo));
		}
		goto done;
	}
	if (seg_is(what, "tokens")) {
		if (sp->n == 3) {
			r->kind = ROUTE_GGUFD_TOKENS;
			err = GG_OK;
		} else if (sp->n == 4) {
			/* One segment, decoded and checked like a path's. */
			err = decode_join(&sp->s[3], 1, r->path, sizeof(r->path));
			if (err == GG_OK) {
				r->kind = ROUTE_GGUFD_TOKEN;
				r->has_path = 1;
			}
		}
		goto done;
	}
	if (!seg_is(what, "upload"))
		goto done;
	/* Shape first: a namespace, a name and at least one path segment. */
	err = GG_EINVAL;
	if (sp->n < 6)
		goto done;
	r->kind = ROUTE_GGUFD_UPLOAD_PUT;
	r->type = REPO_MODEL;
	err = decode_repo(&sp->s[3], 2, r->repo, sizeof(r->repo));
	if (err != GG_OK)
		goto done;
	err = decode_join(&sp->s[5], sp->n - 5, r->path, sizeof(r->path));
	if (err != GG_OK)
		goto done;
	r->has_path = 1;
done:
	return err;
}

/* /_ggufd/lfs/{oid}[/part/{n} | /complete]; sp->s[0] is "_ggufd". */
static int
parse_lfs_object(const struct segs *sp, struct route *r)
{
	const struct seg *oid;
	int err = GG_ENOENT;

	if (sp->n < 3 || !seg_is(&sp->s[1], "lfs"))
		goto done;
	oid = &sp->s[2];
	if (oid->len != GG_SHA256_HEX || !is_lower_hex(oid->p, oid->len))
		goto done;
	if (sp->n == 3) {
		r->kind = ROUTE_LFS_OBJECT;
	} else if (sp->n == 4 && seg_is(&sp->s[3], "complete")) {
		r->kind = ROUTE_LFS_COMPLETE;
	} else if (sp->n == 5 && seg_is(&sp->s[3], "part")) {
		if (seg_u64(&sp->s[4], ROUTE_MAX_LFS_PART, &r->id, GG_ENOENT) != GG_OK)
			goto done;
		r->kind = ROUTE_LFS_PART;
	} else {
		goto done;
	}
	memcpy(r->oid, oid->p, GG_SHA256_HEX);
	r->oid[GG_SHA256_HEX] = '\0';
	err = GG_OK;
done:
	return err;
}

/*
 * /v2/{ns}/{name}/{manifests|blobs}/{arg}: sp->n is 5, sp->s[0] "v2" and
 * sp->s[3] the marker.  The digest is decoded first (Go may send the ":"
 * as "%3A") and its hex lowercased, as the blobs are named.
 */
static int
parse_v2(const struct segs *sp, struct route *r)
{
	char dig[GG_SHA256_HEX + 16];
	long n;
	int err;

	r->type = REPO_MODEL;
	err = decode_repo(&sp->s[1], 2, r->repo, sizeof(r->repo));
	if (err != GG_OK)
		goto done;
	if (seg_is(&sp->s[3], "manifests")) {
		err = decode_join(&sp->s[4], 1, r->rev, sizeof(r->rev));
		if (err == GG_OK) {
			r->kind = ROUTE_V2_MANIFEST;
			r->has_rev = 1;
		}
		goto done;
	}
	err = GG_ENOENT;
	n = route_pct_decode(sp->s[4].p, sp->s[4].len, dig, sizeof(dig));
	if (n != 7 + GG_SHA256_HEX || memcmp(dig, "sha256:", 7) != 0)
		goto done;
	for (size_t i = 0; i < GG_SHA256_HEX; i++) {
		char c = dig[7 + i];
		if (hex_digit(c) < 0)
			goto done;
		r->oid[i] = c >= 'A' && c <= 'F' ? (char)(c - 'A' + 'a') : c;
	}
	r->oid[GG_SHA256_HEX] = '\0';
	r->kind = ROUTE_V2_BLOB;
	err = GG_OK;
done:
	if (err != GG_OK)
		r->repo[0] = '\0';
	return err;
}

/*
 * Why a path was GG_EINVAL, for the client's error message.  Worked out
 * after the fact from the raw path, so that the parser itself stays one
 * pass with one error code: a NUL byte (raw or %00) and bytes that are
 * not UTF-8 are named, anything else gets the list of the other rules.
 */
static const char *
einval_why(const char *path, size_t len)
{
	char dec[GG_MAX_URL_LEN + 1];
	size_t o = 0;

	if (memchr(path, '\0', len) != NULL)
		return "a NUL byte in the path";
	for (size_t i = 0; i < len; i++) {
		int hi, lo;
		unsigned char c = (unsigned char)path[i];

		if (c == '%') {
			if (len - i < 3 || (hi = hex_digit(path[i + 1])) < 0 ||
			    (lo = hex_digit(path[i + 2])) < 0)
				return "a malformed percent-escape in the path";
			c = (unsigned char)(hi << 4 | lo);
			if (c == '\0')
				return "a NUL byte (%00) in the path";
			i += 2;
		}
		if (o < sizeof(dec))
			dec[o++] = (char)c;
	}
	if (!utf8_valid(dec, o))
		return "bytes that are not UTF-8 in the path";
	return "an empty, \".\" or \"..\" component, a control character, a repo name outside "
	       "[A-Za-z0-9._-], a missing revision or file path, or a trailing \"/\"";
}

int
route_parse(const char *path, size_t len, struct route *out)
{
	struct segs sp;
	struct route r;
	int err = GG_EINVAL;

	memset(&r, 0, sizeof(r));
	if (path == NULL || out == NULL)
		goto done;
	if (len > GG_MAX_URL_LEN) {
		err = GG_ETOOBIG;
		goto done;
	}
	if (len == 0 || path[0] != '/')
		goto done;
	if (len == 1) {
		r.kind = ROUTE_INDEX;
		err = GG_OK;
		goto done;
	}
	err = split_path(path, len, &sp);
	if (err != GG_OK)
		goto done;

	if (sp.n == 2 && !sp.trailing && seg_is(&sp.s[0], "ui")) {
		/* A dashboard file: one segment of [A-Za-z0-9._-], not "." or "..". */
		err = decode_repo(&sp.s[1], 1, r.path, sizeof(r.path));
		if (err == GG_OK) {
			r.kind = ROUTE_UI;
			r.has_path = 1;
		}
		goto done;
	}
	if (sp.n == 1 && !sp.trailing && seg_is(&sp.s[0], "metrics")) {
		r.kind = ROUTE_METRICS;
		err = GG_OK;
		goto done;
	}
	if (sp.n == 1 && !sp.trailing && seg_is(&sp.s[0], "healthz")) {
		r.kind = ROUTE_HEALTHZ;
		err = GG_OK;
		goto done;
	}
	if (sp.n == 2 && !sp.trailing && seg_is(&sp.s[0], "api") &&
	    (seg_is(&sp.s[1], "whoami-v2") || seg_is(&sp.s[1], "validate-yaml"))) {
		r.kind = seg_is(&sp.s[1], "whoami-v2") ? ROUTE_WHOAMI : ROUTE_VALIDATE_YAML;
		err = GG_OK;
		goto done;
	}
	if (sp.n == 3 && !sp.trailing && seg_is(&sp.s[0], "api") && seg_is(&sp.s[1], "repos") &&
	    seg_is(&sp.s[2], "create")) {
		r.kind = ROUTE_REPO_CREATE;
		err = GG_OK;
		goto done;
	}
	if (sp.n == 1 && seg_is(&sp.s[0], "v2")) {
		r.kind = ROUTE_V2_PING;
		err = GG_OK;
		goto done;
	}
	if (sp.n == 5 && seg_is(&sp.s[0], "v2") && !resolve_marker(&sp.s[2]) &&
	    (seg_is(&sp.s[3], "manifests") || seg_is(&sp.s[3], "blobs")))
		err = parse_v2(&sp, &r);
	else if (sp.n >= 2 && seg_is(&sp.s[0], "api") && seg_is(&sp.s[1], "ggufd"))
		err = parse_ggufd(&sp, &r);
	else if (seg_is(&sp.s[0], "api"))
		err = parse_api(&sp, &r);
	else if (seg_is(&sp.s[0], "_ggufd"))
		err = parse_lfs_object(&sp, &r);
	else if (sp.n >= 5 && seg_is(&sp.s[sp.n - 1], "batch") &&
		 seg_is(&sp.s[sp.n - 2], "objects") && seg_is(&sp.s[sp.n - 3], "lfs") &&
		 seg_is(&sp.s[sp.n - 4], "info"))
		err = parse_lfs_batch(&sp, &r);
	else
		err = parse_file(&sp, &r);
	/* A trailing "/" names a directory: meaningful only for a tree. */
	if (err == GG_OK && sp.trailing && r.kind != ROUTE_API_TREE)
		err = GG_EINVAL;
done:
	if (err != GG_OK) {
		memset(&r, 0, sizeof(r));
		r.why = err == GG_ENOENT ? "no route has this shape"
			: err == GG_ETOOBIG
				? "the path, a segment count or a name is over its limit"
			: path == NULL ? "no path"
				       : einval_why(path, len);
	}
	if (out != NULL)
		*out = r;
	return err;
}

const char *
route_kind_name(enum route_kind k)
{
	static const char *const names[ROUTE_NKINDS] = {
		[ROUTE_NONE] = "none",
		[ROUTE_INDEX] = "index",
		[ROUTE_HEALTHZ] = "healthz",
		[ROUTE_RESOLVE] = "resolve",
		[ROUTE_RAW] = "raw",
		[ROUTE_API_INFO] = "api_info",
		[ROUTE_API_TREE] = "api_tree",
		[ROUTE_API_PATHS_INFO] = "api_paths_info",
		[ROUTE_API_REFS] = "api_refs",
		[ROUTE_API_PREUPLOAD] = "api_preupload",
		[ROUTE_API_COMMIT] = "api_commit",
		[ROUTE_API_XET_READ] = "api_xet_read",
		[ROUTE_API_XET_WRITE] = "api_xet_write",
		[ROUTE_API_COMMITS] = "api_commits",
		[ROUTE_API_BRANCH] = "api_branch",
		[ROUTE_API_TAG] = "api_tag",
		[ROUTE_LFS_BATCH] = "lfs_batch",
		[ROUTE_WHOAMI] = "whoami",
		[ROUTE_VALIDATE_YAML] = "validate_yaml",
		[ROUTE_REPO_CREATE] = "repo_create",
		[ROUTE_GGUFD_PULL] = "ggufd_pull",
		[ROUTE_GGUFD_PULL_JOB] = "ggufd_pull_job",
		[ROUTE_GGUFD_UPLOADS] = "ggufd_uploads",
		[ROUTE_GGUFD_UPLOAD_JOB] = "ggufd_upload_job",
		[ROUTE_GGUFD_UPLOAD_PUT] = "ggufd_upload_put",
		[ROUTE_LFS_OBJECT] = "lfs_object",
		[ROUTE_LFS_PART] = "lfs_part",
		[ROUTE_LFS_COMPLETE] = "lfs_complete",
		[ROUTE_UI] = "ui",
		[ROUTE_GGUFD_REPOS] = "ggufd_repos",
		[ROUTE_METRICS] = "metrics",
		[ROUTE_GGUFD_ACTIVITY] = "ggufd_activity",
		[ROUTE_GGUFD_FILES] = "ggufd_files",
		[ROUTE_GGUFD_AUDIT] = "ggufd_audit",
		[ROUTE_GGUFD_DISK] = "ggufd_disk",
		[ROUTE_GGUFD_PINS] = "ggufd_pins",
		[ROUTE_GGUFD_TOKENS] = "ggufd_tokens",
		[ROUTE_GGUFD_TOKEN] = "ggufd_token",
		[ROUTE_GGUFD_REGISTRY] = "ggufd_registry",
		[ROUTE_V2_PING] = "v2_ping",
		[ROUTE_V2_MANIFEST] = "v2_manifest",
		[ROUTE_V2_BLOB] = "v2_blob",
	};
	return (unsigned)k < ROUTE_NKINDS && names[k] != NULL ? names[k] : "none";
}

const char *
route_type_name(enum repo_type t)
{
	switch (t) {
	case REPO_MODEL: return "model";
	case REPO_DATASET: return "dataset";
	case REPO_SPACE: return "space";
	}
	return "model";
}

const char *
route_type_plural(enum repo_type t)
{
	switch (t) {
	case REPO_MODEL: return "models";
	case REPO_DATASET: return "datasets";
	case REPO_SPACE: return "spaces";
	}
	return "models";
}

const char *
route_type_prefix(enum repo_type t)
{
	switch (t) {
	case REPO_MODEL: return "";
	case REPO_DATASET: return "datasets/";
	case REPO_SPACE: return "spaces/";
	}
	return "";
}

int
route_valid_repo(const char *s)
{
	size_t len, start = 0, nseg = 0;
	int ok = 0;

	if (s == NULL)
		goto done;
	len = strnlen(s, GG_MAX_REPO_LEN + 1);
	if (len == 0 || len > GG_MAX_REPO_LEN)
		goto done;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '/') {
			if (i == start || dot_or_dotdot(s + start, i - start))
				goto done;
			if (++nseg > 2)
				goto done;
			start = i + 1;
		} else if (!repo_char(s[i])) {
			goto done;
		}
	}
	ok = 1;
done:
	return ok;
}

int
route_split_repo(const char *arg, enum repo_type *type, const char **repo)
{
	*type = REPO_MODEL;
	*repo = arg;
	if (strncmp(arg, "datasets/", 9) == 0) {
		*type = REPO_DATASET;
		*repo = arg + 9;
	} else if (strncmp(arg, "spaces/", 7) == 0) {
		*type = REPO_SPACE;
		*repo = arg + 7;
	} else if (strncmp(arg, "models/", 7) == 0) {
		*repo = arg + 7;
	}
	return route_valid_repo(*repo) ? 0 : -1;
}
