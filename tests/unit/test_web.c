/*
 * test_web.c: the dashboard's embedded files (web/assets.c, made by
 * web/embed.sh at build time): every file has a content type, a strong
 * ETag that is the sha256 of its bytes, and a gzip'd copy that inflates
 * to exactly those bytes; "/" is the page, the rest live under /ui/.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "http.h"
#include "util.h"
#include "web/assets.h"

static void
test_assets(void **state)
{
	int have_index = 0, have_js = 0, have_css = 0;
	(void)state;

	assert_true(web_nassets >= 3);
	for (size_t i = 0; i < web_nassets; i++) {
		const struct web_asset *a = &web_assets[i];
		unsigned char md[32];
		unsigned int ml = 0;
		char hex[65], etag[70];
		struct buf b;

		assert_non_null(a->ctype);
		assert_true(strcmp(a->path, "/") == 0 || strncmp(a->path, "/ui/", 4) == 0);
		assert_true(a->len > 0);
		assert_int_equal(EVP_Digest(a->data, a->len, md, &ml, EVP_sha256(), NULL), 1);
		hex_encode(md, sizeof(md), hex);
		snprintf(etag, sizeof(etag), "\"%s\"", hex);
		assert_string_equal(a->etag, etag);
		buf_init(&b, 16u << 20);
		assert_int_equal(http_gunzip(a->gz, a->gzlen, &b), GG_OK);
		assert_int_equal(b.len, a->len);
		assert_memory_equal(b.data, a->data, a->len);
		buf_free(&b);
		have_index |= strcmp(a->path, "/") == 0 && strstr(a->ctype, "text/html") != NULL;
		have_js |= strcmp(a->path, "/ui/app.js") == 0 &&
			   strstr(a->ctype, "javascript") != NULL;
		have_css |=
			strcmp(a->path, "/ui/app.css") == 0 && strstr(a->ctype, "text/css") != NULL;
	}
	assert_true(have_index && have_js && have_css);
}

/* The page loads its script and style from files (the CSP forbids inline). */
static void
test_no_inline_script(void **state)
{
	(void)state;
	for (size_t i = 0; i < web_nassets; i++) {
		const struct web_asset *a = &web_assets[i];
		char *text;
		if (strcmp(a->path, "/") != 0)
			continue;
		text = xstrndup((const char *)a->data, a->len);
		assert_non_null(strstr(text, "<script src=\"/ui/app.js\""));
		assert_null(strstr(text, "<script>"));
		assert_null(strstr(text, "style=\""));
		assert_null(strstr(text, "onclick"));
		free(text);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_assets),
		cmocka_unit_test(test_no_inline_script),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
