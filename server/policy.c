/*
 * policy.c: the upload gateway's rules (see policy.h).
 *
 *   ruvltra-claude-code-0.5b-q4_k_m.gguf
 *   \_____/ \_________/ \__/ \____/
 *   prefix    variant   size  quant      (variant optional, any number of
 *                                         lower-case [a-z0-9] words)
 */
#include "config.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy.h"
#include "store.h"
#include "util.h"

void
policy_defaults(struct policy *p)
{
	static char *repos[] = { "ruv/ruvltra" };
	static char *branches[] = { "main" };
	static char *globs[] = { "README.md",      "*.md",     "*.json", "*.txt",
				 "*.safetensors",  "*.yaml",   "*.yml",  "*.png",
				 ".gitattributes", "LICENSE*", "*.jpg" };
	memset(p, 0, sizeof(*p));
	p->repos[0] = repos[0];
	p->nrepos = 1;
	for (size_t i = 0; i < sizeof(globs) / sizeof(globs[0]); i++)
		p->globs[p->nglobs++] = globs[i];
	p->gguf_prefix = "ruvltra";
	p->max_size = GG_UPLOAD_MAX_SIZE;
	p->protected_branches[0] = branches[0];
	p->nprotected = 1;
}

static void
dup_list(char **dst, char *const *src, int n)
{
	for (int i = 0; i < n; i++)
		dst[i] = xstrdup(src[i]);
}

struct policy *
policy_dup(const struct policy *p)
{
	struct policy *d = xcalloc(1, sizeof(*d));

	*d = *p;
	dup_list(d->repos, p->repos, p->nrepos);
	dup_list(d->globs, p->globs, p->nglobs);
	dup_list(d->protected_branches, p->protected_branches, p->nprotected);
	d->gguf_prefix = p->gguf_prefix ? xstrdup(p->gguf_prefix) : NULL;
	return d;
}

void
policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	for (int i = 0; i < p->nrepos; i++)
		free(p->repos[i]);
	for (int i = 0; i < p->nglobs; i++)
		free(p->globs[i]);
	for (int i = 0; i < p->nprotected; i++)
		free(p->protected_branches[i]);
	free((char *)p->gguf_prefix);
	free(p);
}

static int
same_list(char *const *a, int na, char *const *b, int nb)
{
	if (na != nb)
		return 0;
	for (int i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return 1;
}

int
policy_equal(const struct policy *a, const struct policy *b)
{
	const char *pa = a->gguf_prefix ? a->gguf_prefix : "",
		   *pb = b->gguf_prefix ? b->gguf_prefix : "";
	return same_list(a->repos, a->nrepos, b->repos, b->nrepos) &&
	       same_list(a->globs, a->nglobs, b->globs, b->nglobs) &&
	       same_list(a->protected_branches, a->nprotected, b->protected_branches,
			 b->nprotected) &&
	       strcmp(pa, pb) == 0 && a->max_size == b->max_size &&
	       a->allow_overwrite == b->allow_overwrite &&
	       a->card_files_table == b->card_files_table;
}

int
policy_branch_protected(const struct policy *p, const char *rev)
{
	if (strncmp(rev, "refs/heads/", 11) == 0)
		rev += 11;
	for (int i = 0; i < p->nprotected; i++)
		if (strcmp(p->protected_branches[i], rev) == 0)
			return 1;
	return 0;
}

int
policy_repo_ok(const struct policy *p, enum repo_type type, const char *repo)
{
	const char *pre = type == REPO_DATASET ? "datasets/" : type == REPO_SPACE ? "spaces/" : "";
	size_t pl = strlen(pre);
	for (int i = 0; i < p->nrepos; i++) {
		const char *r = p->repos[i];
		if (strncmp(r, pre, pl) == 0 && strcmp(r + pl, repo) == 0 &&
		    (pl > 0 || (strncmp(r, "datasets/", 9) != 0 && strncmp(r, "spaces/", 7) != 0)))
			return 1;
	}
	return 0;
}

static int
word_ok(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

/* "0.5b", "3b", "1.5b", "70b" */
static int
size_ok(const char *s, size_t n)
{
	size_t i = 0, digits = 0;
	if (n < 2 || s[n - 1] != 'b')
		return 0;
	n--;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++, digits++;
	if (digits == 0)
		return 0;
	if (i == n)
		return 1;
	if (s[i] != '.')
		return 0;
	i++;
	if (i == n)
		return 0;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	return i == n;
}

int
policy_gguf_name(const struct policy *p, const char *base, char *quant, size_t qsz)
{
	size_t bl = strlen(base), pl = strlen(p->gguf_prefix);
	const char *rest, *end, *dash_q, *dash_s;

	if (bl < pl + 1 + 5 || strncmp(base, p->gguf_prefix, pl) != 0 || base[pl] != '-' ||
	    strcmp(base + bl - 5, ".gguf") != 0)
		return 0;
	rest = base + pl + 1;
	end = base + bl - 5;
	/* quant: after the last '-'; size: the segment before it. */
	dash_q = NULL;
	for (const char *c = end; c > rest; c--)
		if (c[-1] == '-') {
			dash_q = c - 1;
			break;
		}
	if (dash_q == NULL)
		return 0;
	dash_s = rest - 1;
	for (const char *c = dash_q; c > rest; c--)
		if (c[-1] == '-') {
			dash_s = c - 1;
			break;
		}
	if (!size_ok(dash_s + 1, (size_t)(dash_q - dash_s - 1)))
		return 0;
	/* Variant words, if any, between the prefix and the size. */
	if (dash_s == rest)
		return 0; /* "prefix--size": an empty variant */
	for (const char *w = rest; w < dash_s;) {
		const char *d = memchr(w, '-', (size_t)(dash_s - w));
		const char *we = d ? d : dash_s;
		if (!word_ok(w, (size_t)(we - w)))
			return 0;
		w = we + 1;
	}
	{
		size_t ql = (size_t)(end - dash_q - 1);
		char q[32];
		if (ql == 0 || ql >= sizeof(q) || ql >= qsz)
			return 0;
		memcpy(q, dash_q + 1, ql);
		q[ql] = '\0';
		for (size_t i = 0; i < ql; i++)
			if (isupper((unsigned char)q[i]))
				return 0;
		if (gguf_ftype_from_name(q) < 0)
			return 0;
		memcpy(quant, q, ql + 1);
	}
	return 1;
}

int
policy_check_path(const struct policy *p, const char *path, uint64_t size, char *why, size_t whysz)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	if (size > p->max_size) {
		snprintf(why, whysz, "%s: %llu bytes is over the upload limit of %llu bytes", path,
			 (unsigned long long)size, (unsigned long long)p->max_size);
		return GG_ETOOBIG;
	}
	n = strlen(base);
	if (n > 5 && strcasecmp(base + n - 5, ".gguf") == 0) {
		char q[32];
		if (!policy_gguf_name(p, base, q, sizeof(q))) {
			snprintf(why, whysz,
				 "%s: GGUF files must be named %s-[{variant}-]{size}-{quant}.gguf "
				 "with a size like 0.5b or 3b and a known quantization in lower "
				 "case "
				 "(e.g. %s-0.5b-q4_k_m.gguf)",
				 path, p->gguf_prefix, p->gguf_prefix);
			return GG_EFORMAT;
		}
		if (size == 0) {
			snprintf(why, whysz,
				 "%s: an empty file is not a valid GGUF file (GGUF starts with "
				 "the magic \"GGUF\", a version and a header)",
				 path);
			return GG_EFORMAT;
		}
		return GG_OK;
	}
	for (int i = 0; i < p->nglobs; i++)
		if (fnmatch(p->globs[i], base, 0) == 0 || fnmatch(p->globs[i], path, 0) == 0)
			return GG_OK;
	snprintf(why, whysz, "%s: this file type is not accepted (allowed: .gguf and", path);
	for (int i = 0; i < p->nglobs; i++) {
		size_t l = strlen(why);
		snprintf(why + l, whysz - l, " %s", p->globs[i]);
	}
	{
		size_t l = strlen(why);
		snprintf(why + l, whysz - l, ")");
	}
	return GG_EFORMAT;
}

int
policy_check_gguf(const struct policy *p, const char *path, int parse_rc,
		  const struct gguf_summary *g, char *why, size_t whysz)
{
	const char *base = strrchr(path, '/');
	const char *ft;
	char q[32];

	base = base ? base + 1 : path;
	if (parse_rc != GG_OK) {
		/* The parser's codes (gguf.h) in words: its GG_ECORRUPT is a
		 * short file, not the hash mismatch gg_strerror would name. */
		const char *what =
			parse_rc == GG_EFORMAT ? "no GGUF magic, or an invalid header field"
			: parse_rc == GG_ECORRUPT
				? "the file ends inside its GGUF header, or its tensor data lies "
				  "outside the file"
			: parse_rc == GG_ETOOBIG
				? "a count or length in its header is over ggufd's limits"
				: gg_strerror(parse_rc);
		snprintf(why, whysz, "%s: not a valid GGUF file (%s)", path, what);
		return GG_EFORMAT;
	}
	if (!policy_gguf_name(p, base, q, sizeof(q))) {
		snprintf(why, whysz, "%s: not a conventional GGUF name", path);
		return GG_EFORMAT;
	}
	ft = g->file_type >= 0 ? gguf_ftype_name(g->file_type) : NULL;
	if (ft == NULL) {
		snprintf(why, whysz,
			 "%s: the file declares no known general.file_type, so its "
			 "quantization cannot be checked against the name (%s)",
			 path, q);
		return GG_EFORMAT;
	}
	if (strcasecmp(ft, q) != 0) {
		snprintf(why, whysz, "%s: the name says %s but the file's general.file_type is %s",
			 path, q, ft);
		return GG_EFORMAT;
	}
	return GG_OK;
}

/* Finds "\n<key>:" (or at the start) inside [s, e); returns the value start. */
static const char *
yaml_key(const char *s, const char *e, const char *key)
{
	size_t kl = strlen(key);
	for (const char *l = s; l < e;) {
		const char *nl = memchr(l, '\n', (size_t)(e - l));
		const char *le = nl ? nl : e;
		if ((size_t)(le - l) > kl && memcmp(l, key, kl) == 0 && l[kl] == ':')
			return l + kl + 1;
		l = le + 1;
	}
	return NULL;
}

int
policy_check_readme(const char *text, size_t len, char *why, size_t whysz)
{
	const char *s, *e, *v, *end = text + len;
	char missing[64] = "";

	if (len < 4 || memcmp(text, "---\n", 4) != 0) {
		snprintf(why, whysz,
			 "README.md: a model card must start with YAML front matter "
			 "(---) giving at least license and tags");
		return GG_EFORMAT;
	}
	s = text + 4;
	e = NULL;
	for (const char *c = s; c + 3 <= end; c++) {
		if ((c == s || c[-1] == '\n') && memcmp(c, "---", 3) == 0 &&
		    (c + 3 == end || c[3] == '\n' || c[3] == '\r')) {
			e = c;
			break;
		}
	}
	if (e == NULL) {
		snprintf(why, whysz, "README.md: the YAML front matter is not closed with ---");
		return GG_EFORMAT;
	}
	v = yaml_key(s, e, "license");
	if (v != NULL) {
		/* The value must not be empty. */
		const char *le = memchr(v, '\n', (size_t)(e - v));
		size_t vl = (size_t)((le ? le : e) - v);
		if (strspn(v, " \t\r") >= vl)
			v = NULL;
	}
	snprintf(missing, sizeof(missing), "%s%s", v == NULL ? " license" : "",
		 yaml_key(s, e, "tags") == NULL ? " tags" : "");
	if (missing[0] != '\0') {
		snprintf(why, whysz, "README.md: the front matter is missing:%s", missing);
		return GG_EFORMAT;
	}
	return GG_OK;
}

/* A card's bytes from the store, NUL-terminated: 0, or GG_ENOENT (absent),
 * GG_ETOOBIG (over GG_MAX_README_BYTES), GG_EIO. */
static int
read_card(struct store *st, const char *sha256, char **text, size_t *len)
{
	uint64_t bsize;
	int fd = -1, rc;

	*text = NULL;
	if (store_blob_open(st, sha256, &fd, &bsize) != GG_OK)
		return GG_ENOENT;
	if (bsize > GG_MAX_README_BYTES) {
		close(fd);
		return GG_ETOOBIG;
	}
	*text = xmalloc(bsize + 1);
	rc = pread_all(fd, *text, bsize, 0);
	close(fd);
	(*text)[bsize] = '\0';
	*len = (size_t)bsize;
	if (rc != GG_OK) {
		free(*text);
		*text = NULL;
	}
	return rc;
}

/* The front matter of a card: [*s, *e), or 0 without one. */
static int
front_matter(const char *text, size_t len, const char **s, const char **e)
{
	const char *end = text + len;
	if (len < 4 || memcmp(text, "---\n", 4) != 0)
		return 0;
	*s = text + 4;
	for (const char *c = *s; c + 3 <= end; c++)
		if ((c == *s || c[-1] == '\n') && memcmp(c, "---", 3) == 0 &&
		    (c + 3 == end || c[3] == '\n' || c[3] == '\r')) {
			*e = c;
			return 1;
		}
	return 0;
}

int
policy_card_keeps(const char *old, size_t oldlen, const char *text, size_t len, char *why,
		  size_t whysz)
{
	const char *os, *oe, *ns = NULL, *ne = NULL;
	char key[GG_MAX_CARD_KEY_LEN + 2], dropped[256] = "";
	size_t dl = 0;

	if (!front_matter(old, oldlen, &os, &oe))
		return GG_OK;
	if (!front_matter(text, len, &ns, &ne))
		ns = ne = text;
	/* Top-level keys: a line that starts with a key character and has ":". */
	for (const char *l = os; l < oe;) {
		const char *nl = memchr(l, '\n', (size_t)(oe - l));
		const char *le = nl ? nl : oe, *colon = memchr(l, ':', (size_t)(le - l));
		size_t kl = colon ? (size_t)(colon - l) : 0;
		if (colon != NULL && kl > 0 && kl <= GG_MAX_CARD_KEY_LEN && l[0] != ' ' &&
		    l[0] != '\t' && l[0] != '-' && l[0] != '#') {
			memcpy(key, l, kl);
			key[kl] = '\0';
			if (yaml_key(ns, ne, key) == NULL && dl + kl + 2 < sizeof(dropped)) {
				dl += (size_t)snprintf(dropped + dl, sizeof(dropped) - dl, " %s",
						       key);
			}
		}
		l = le + 1;
	}
	if (dl == 0)
		return GG_OK;
	snprintf(why, whysz,
		 "README.md: the new model card drops front matter keys of the published one:%s "
		 "(rule: with an upload token a model card keeps its required sections; an admin "
		 "may replace it freely)",
		 dropped);
	return GG_EFORMAT;
}

/* A character of a file name in a card's table. */
static int
name_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-';
}

/* The next table row of [*l, end): [*rs, *re), advancing *l; 0 at the end. */
static int
next_table_row(const char **l, const char *end, const char **rs, const char **re)
{
	while (*l < end) {
		const char *s = *l, *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;
		*l = nl ? nl + 1 : end;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		if (s < e && *s == '|') {
			*rs = s;
			*re = e;
			return 1;
		}
	}
	return 0;
}

/* The next .gguf name in [*p, end): [*ns, *ne), advancing *p; 0 at the end. */
static int
next_gguf_name(const char **p, const char *end, const char **ns, const char **ne)
{
	for (const char *c = *p; c + 5 <= end; c++) {
		if (strncasecmp(c, ".gguf", 5) != 0 || (c + 5 < end && name_char(c[5])))
			continue;
		const char *s = c;
		while (s > *p && name_char(s[-1]))
			s--;
		*p = c + 5;
		if (s == c)
			continue; /* ".gguf" alone names nothing */
		*ns = s;
		*ne = c + 5;
		return 1;
	}
	*p = end;
	return 0;
}

/* 1 if a table row of [text, end) names [ns, ne) as a whole name. */
static int
table_names(const char *text, const char *end, const char *ns, const char *ne)
{
	const char *l = text, *rs, *re;
	size_t n = (size_t)(ne - ns);

	while (next_table_row(&l, end, &rs, &re)) {
		const char *p = rs, *s, *e;
		while (next_gguf_name(&p, re, &s, &e))
			if ((size_t)(e - s) == n && strncasecmp(s, ns, n) == 0)
				return 1;
	}
	return 0;
}

/* 1 if the list " a b c" holds [s, e) already (a name linked twice). */
static int
listed(const char *list, const char *s, const char *e)
{
	size_t n = (size_t)(e - s);
	for (const char *c = strchr(list, ' '); c != NULL; c = strchr(c + 1, ' '))
		if (strncmp(c + 1, s, n) == 0 && (c[1 + n] == ' ' || c[1 + n] == '\0'))
			return 1;
	return 0;
}

int
policy_card_keeps_table(const char *old, size_t oldlen, const char *text, size_t len, char *why,
			size_t whysz)
{
	const char *l = old, *end = old + oldlen, *rs, *re;
	char dropped[512] = "";
	size_t dl = 0;
	int more = 0;

	while (next_table_row(&l, end, &rs, &re)) {
		const char *p = rs, *s, *e;
		while (next_gguf_name(&p, re, &s, &e)) {
			int n = (int)(e - s);
			if (table_names(text, text + len, s, e) || listed(dropped, s, e))
				continue;
			if (dl + (size_t)n + 2 < sizeof(dropped))
				dl += (size_t)snprintf(dropped + dl, sizeof(dropped) - dl, " %.*s",
						       n, s);
			else
				more = 1;
		}
	}
	if (dl == 0 && !more)
		return GG_OK;
	snprintf(why, whysz,
		 "README.md: the new model card's files table drops:%s%s (rule: with an upload "
		 "token a model card keeps its required sections, its files table under "
		 "--card-files-table; an admin may replace it freely)",
		 dropped, more ? " ..." : "");
	return GG_EFORMAT;
}

int
policy_check_card_text(const struct policy *p, struct store *st, const char *old, size_t oldlen,
		       const char *sha256, char *why, size_t whysz)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (read_card(st, sha256, &text, &len) != GG_OK) {
		snprintf(why, whysz, "README.md: missing, or larger than 4 MiB");
		return GG_EFORMAT;
	}
	rc = policy_card_keeps(old, oldlen, text, len, why, whysz);
	if (rc == GG_OK && p->card_files_table)
		rc = policy_card_keeps_table(old, oldlen, text, len, why, whysz);
	free(text);
	return rc;
}

int
policy_check_card_replace(const struct policy *p, struct store *st, const char *old_sha256,
			  const char *sha256, char *why, size_t whysz)
{
	char *old = NULL;
	size_t oldlen = 0;
	int rc;

	if (read_card(st, old_sha256, &old, &oldlen) != GG_OK)
		return GG_ENOENT; /* the published card's bytes are not here */
	rc = policy_check_card_text(p, st, old, oldlen, sha256, why, whysz);
	free(old);
	return rc;
}

int
policy_check_blob(const struct policy *p, struct store *st, const char *path, const char *sha256,
		  uint64_t size, char *why, size_t whysz)
{
	const char *base = strrchr(path, '/');
	size_t bl;
	int rc = policy_check_path(p, path, size, why, whysz);

	if (rc != GG_OK)
		return rc;
	base = base ? base + 1 : path;
	bl = strlen(base);
	if (bl > 5 && strcasecmp(base + bl - 5, ".gguf") == 0) {
		struct gguf_summary g;
		uint64_t bsize;
		int fd = -1, prc;
		if (store_blob_open(st, sha256, &fd, &bsize) != GG_OK) {
			snprintf(why, whysz, "%s: staged content is missing", path);
			return GG_EFORMAT;
		}
		prc = gguf_parse_fd(fd, bsize, &g);
		close(fd);
		if (policy_check_gguf(p, path, prc, &g, why, whysz) != GG_OK)
			return GG_EFORMAT;
	} else if (strcmp(base, "README.md") == 0) {
		size_t len;
		char *text;
		if (read_card(st, sha256, &text, &len) != GG_OK) {
			snprintf(why, whysz, "README.md: missing, or larger than 4 MiB");
			return GG_EFORMAT;
		}
		rc = policy_check_readme(text, len, why, whysz);
		free(text);
		if (rc != GG_OK)
			return GG_EFORMAT;
	}
	return GG_OK;
}
