/*
 * fuzz_form.c: libFuzzer target for the query and form parsers of the
 * HTTP layer (server/http.c: http_query_get, http_query_foreach,
 * http_form_foreach and the form decoder under them) and for the
 * paths-info body on top of them (server/api.c: api_paths_info_parse, the
 * JSON and the form kind).
 *
 * Input layout:
 *
 *   byte 0       bit 0: paths-info as JSON (else as a form)
 *   bytes 1..    the query string or body, passed with its length and no
 *                NUL after it (a query is a C string: up to its first NUL)
 *
 * Beyond "no crash, no leak, no sanitizer report", a broken promise traps:
 * a decoded value holds no NUL and is no longer than its text, the query
 * gives the same values as the form over the same text and
 * http_query_get the first of them, "name[]" counts as "name"; values
 * percent-encoded back into a form decode to themselves; paths-info keeps
 * at most GG_MAX_PATHS_INFO paths, those the form has, in order, and its
 * answer written back (JSON and form) parses to itself.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "api.h"
#include "gg_limits.h"
#include "http.h"
#include "util.h"

/* The values a walk handed on, copied, and the text's length they must fit in. */
struct vals {
	char **v;
	size_t n, cap;
	size_t text_len;
};

static void
vals_cb(void *ctx, const char *value)
{
	struct vals *s = ctx;

	CHECK(value != NULL && strlen(value) <= s->text_len);
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 8;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = xstrdup(value);
}

static void
vals_free(struct vals *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

static int
vals_same(const struct vals *a, const struct vals *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return 0;
	return 1;
}

/* name=value&... with every byte of the values but [A-Za-z0-9] as %XX,
 * alternating "name" and "name[]" (both count as name). */
static char *
form_of(const char *name, char *const *v, size_t n, size_t *len)
{
	struct buf b;
	char hex[4];

	buf_init(&b, SIZE_MAX / 2);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			CHECK(buf_append(&b, "&", 1) == GG_OK);
		CHECK(buf_append(&b, name, strlen(name)) == GG_OK);
		if (i % 2 == 1)
			CHECK(buf_append(&b, "%5B%5D", 6) == GG_OK);
		CHECK(buf_append(&b, "=", 1) == GG_OK);
		for (const unsigned char *p = (const unsigned char *)v[i]; *p != '\0'; p++) {
			if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			    (*p >= '0' && *p <= '9')) {
				CHECK(buf_append(&b, p, 1) == GG_OK);
			} else {
				snprintf(hex, sizeof(hex), "%%%02X", *p);
				CHECK(buf_append(&b, hex, 3) == GG_OK);
			}
		}
	}
	*len = b.len;
	return b.data != NULL ? b.data : xstrdup("");
}

static void
fuzz_pairs(const char *text, size_t len, const char *name)
{
	struct vals form = { NULL, 0, 0, len }, query = { NULL, 0, 0, len },
		    back = { NULL, 0, 0, 0 };
	char *q = xmalloc(len + 1), *first, *enc;
	size_t qlen, elen;
	struct req r;

	/* A query string is a C string: the text up to its first NUL. */
	memcpy(q, text, len);
	q[len] = '\0';
	qlen = strlen(q);
	http_form_foreach(text, qlen, name, vals_cb, &form);
	memset(&r, 0, sizeof(r));
	r.query = q;
	http_query_foreach(&r, name, vals_cb, &query);
	CHECK(vals_same(&form, &query));
	first = http_query_get(&r, name);
	CHECK(form.n == 0 ? first == NULL : first != NULL && strcmp(first, form.v[0]) == 0);
	free(first);
	r.query = NULL;
	CHECK(http_query_get(&r, name) == NULL);

	enc = form_of(name, form.v, form.n, &elen);
	back.text_len = elen;
	http_form_foreach(enc, elen, name, vals_cb, &back);
	CHECK(vals_same(&form, &back));
	free(enc);
	vals_free(&form);
	vals_free(&query);
	vals_free(&back);
	free(q);
}

static void
check_paths(const cJSON *paths)
{
	const cJSON *e;
	int n = 0;

	CHECK(cJSON_IsArray(paths));
	cJSON_ArrayForEach (e, paths) {
		CHECK(cJSON_IsString(e));
		n++;
	}
	CHECK(n <= GG_MAX_PATHS_INFO);
}

static void
fuzz_paths_info(const char *text, size_t len, int json)
{
	cJSON *paths = (cJSON *)1, *again, *o, *e;
	int expand = 7, exp2 = 7,
	    rc = api_paths_info_parse(text, len, json, &paths, &expand, NULL, 0);
	char *txt;
	size_t flen;

	CHECK(rc == GG_OK || rc == GG_EINVAL || (json && rc == GG_EFORMAT));
	CHECK(expand == 0 || expand == 1);
	if (rc != GG_OK) {
		CHECK(paths == NULL);
		return;
	}
	check_paths(paths);
	if (!json) {
		/* The form's "paths" values, the first GG_MAX_PATHS_INFO. */
		struct vals v = { NULL, 0, 0, len };
		size_t i = 0;
		http_form_foreach(text, len, "paths", vals_cb, &v);
		cJSON_ArrayForEach (e, paths) {
			CHECK(i < v.n && strcmp(e->valuestring, v.v[i]) == 0);
			i++;
		}
		CHECK(i == (v.n < GG_MAX_PATHS_INFO ? v.n : GG_MAX_PATHS_INFO));
		vals_free(&v);
	}

	/* Written back as JSON. */
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "paths", cJSON_Duplicate(paths, 1));
	cJSON_AddBoolToObject(o, "expand", expand);
	txt = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	CHECK(txt != NULL);
	CHECK(api_paths_info_parse(txt, strlen(txt), 1, &again, &exp2, NULL, 0) == GG_OK);
	CHECK(exp2 == expand && cJSON_Compare(again, paths, 1));
	cJSON_Delete(again);
	free(txt);

	/* And as a form (a C string holds no NUL, so the form carries each). */
	{
		struct vals v = { NULL, 0, 0, 0 };
		char *f, *full;
		cJSON_ArrayForEach (e, paths) {
			v.text_len = SIZE_MAX;
			vals_cb(&v, e->valuestring);
		}
		f = form_of("paths", v.v, v.n, &flen);
		full = xasprintf("%s%sexpand=%s", f, flen ? "&" : "", expand ? "true" : "false");
		CHECK(api_paths_info_parse(full, strlen(full), 0, &again, &exp2, NULL, 0) == GG_OK);
		CHECK(exp2 == expand && cJSON_Compare(again, paths, 1));
		cJSON_Delete(again);
		free(full);
		free(f);
		vals_free(&v);
	}
	cJSON_Delete(paths);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text;
	size_t len;

	if (size < 1)
		return 0;
	text = (const char *)data + 1;
	len = size - 1;
	fuzz_pairs(text, len, "paths");
	fuzz_pairs(text, len, "a");
	fuzz_paths_info(text, len, data[0] & 1);
	return 0;
}
