/*
 * test_conf.c: serve's option table and config file parser (server/conf.c,
 * included for its static parser): the table's invariants, the file's
 * syntax edges (comments, CRLF, '#' inside a value, long lines, NUL
 * bytes, duplicates), environment lists, the layers' precedence, and the
 * getopt messages (unknown, ambiguous, needs a value, takes no value).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../server/conf.c"

/* Parses text as the file "t.conf" into a fresh conf; 0 or -1 with err. */
static int
parse(const char *text, struct conf **out, char *err, size_t errsz)
{
	struct conf *c = xcalloc(1, sizeof(*c));
	char *buf = xstrdup(text);
	int r;

	c->file = xstrdup("t.conf");
	c->file_via = "--config";
	r = parse_file(c, buf, strlen(text), err, errsz);
	free(buf);
	if (r == 0)
		load_defaults(c);
	*out = c;
	return r;
}

static void
test_table(void **state)
{
	(void)state;
	for (int i = 0; i < CONF_COUNT; i++) {
		const struct conf_option *o = &conf_options[i];
		char want[96];
		size_t k = 0;

		assert_non_null(o->name);
		assert_non_null(o->help);
		/* GGUFD_ + the name in capitals, '_' for '-'. */
		k = (size_t)snprintf(want, sizeof(want), "GGUFD_");
		for (const char *p = o->name; *p != '\0' && k + 1 < sizeof(want); p++)
			want[k++] = *p == '-'                  ? '_'
				    : (*p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A')
							       : *p; /* digits */
		want[k] = '\0';
		assert_string_equal(o->env, want);
		if (o->kind != CONF_BOOL)
			assert_non_null(o->arg);
		if (o->kind == CONF_LIST || o->check != NULL || o->kind == CONF_UINT ||
		    o->kind == CONF_BOOL)
			assert_true(o->must != NULL || o->kind == CONF_LIST);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(o->name, conf_options[j].name);
	}
}

static void
test_file_syntax(void **state)
{
	struct conf *c;
	char err[256];
	char *const *items;
	(void)state;

	assert_int_equal(parse("# comment\n\n  \t\r\n"
			       "listen = 127.0.0.1:1   # trailing comment\r\n"
			       "public-url=http://x/#frag\n"
			       "\tupload-repo = a/b\n"
			       "upload-repo=c/d#not-a-comment\n"
			       "offline = YES\n"
			       "log-level = debug",
			       &c, err, sizeof(err)),
			 0);
	assert_string_equal(conf_str(c, CONF_LISTEN), "127.0.0.1:1");
	assert_int_equal(conf_source_of(c, CONF_LISTEN), CONF_SRC_FILE);
	/* '#' not after white space is part of the value. */
	assert_string_equal(conf_str(c, CONF_PUBLIC_URL), "http://x/#frag");
	assert_int_equal(conf_list(c, CONF_UPLOAD_REPO, &items), 2);
	assert_string_equal(items[0], "a/b");
	assert_string_equal(items[1], "c/d#not-a-comment");
	assert_int_equal(c->v[CONF_SRC_FILE][CONF_UPLOAD_REPO].lines[1], 7);
	assert_int_equal(conf_u64(c, CONF_OFFLINE), 1);
	/* The last line needs no newline. */
	assert_string_equal(conf_str(c, CONF_LOG_LEVEL), "debug");
	/* Unset here: the defaults. */
	assert_int_equal(conf_u64(c, CONF_THREADS), 4);
	assert_int_equal(conf_source_of(c, CONF_THREADS), CONF_SRC_DEFAULT);
	assert_null(conf_str(c, CONF_CA_BUNDLE));
	assert_int_equal(conf_list(c, CONF_UPLOAD_ALLOW, &items), 11);
	assert_string_equal(items[10], "*.jpg");
	conf_free(c);
}

static void
test_file_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "listen = 1.2.3.4:1\nnope = 1\n", "t.conf:2: unknown key 'nope'" },
		{ "listen\n", "t.conf:1: expected 'key = value'" },
		{ " = x\n", "t.conf:1: expected 'key = value'" },
		{ "threads = 2\n#\nthreads = 3\n", "t.conf:3: 'threads' is already set at line 1" },
		{ "threads = 0\n", "t.conf:1: threads takes 1 to 256, not '0'" },
		{ "threads = -1\n", "t.conf:1: threads takes 1 to 256, not '-1'" },
		{ "ref-ttl = 99999999999999999999\n", "t.conf:1: ref-ttl takes seconds" },
		{ "offline = maybe\n",
		  "t.conf:1: offline takes true/false/yes/no/1/0, not 'maybe'" },
		{ "upload-repo =\n", "t.conf:1: upload-repo needs a value" },
		{ "upstream = ::\n", "t.conf:1: upstream wants a URL or 'none', not '::'" },
		{ "config = x.conf\n", "t.conf:1: unknown key 'config'" },
		/* The value of an unknown key is never repeated. */
		{ "HF_TOKEN = hf_secret\n", "t.conf:1: unknown key 'HF_TOKEN'" },
	};
	struct conf *c;
	char err[256];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse(cases[i].text, &c, err, sizeof(err)), -1);
		if (strncmp(err, cases[i].want, strlen(cases[i].want)) != 0)
			fail_msg("case %zu: got '%s', want '%s...'", i, err, cases[i].want);
		assert_null(strstr(err, "hf_secret"));
		conf_free(c);
	}
}

static void
test_file_bounds(void **state)
{
	struct conf *c;
	char err[256];
	char *big = xmalloc(GG_MAX_CONF_LINE + 64), *buf;
	(void)state;

	/* A line one byte too long. */
	memcpy(big, "gguf-prefix = ", 14);
	memset(big + 14, 'a', GG_MAX_CONF_LINE - 13);
	big[GG_MAX_CONF_LINE + 1] = '\0';
	assert_int_equal(parse(big, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "t.conf:1: the line is longer than"));
	conf_free(c);
	/* At the limit it is taken. */
	big[GG_MAX_CONF_LINE] = '\0';
	assert_int_equal(parse(big, &c, err, sizeof(err)), 0);
	assert_int_equal(strlen(conf_str(c, CONF_GGUF_PREFIX)), GG_MAX_CONF_LINE - 14);
	conf_free(c);
	free(big);

	/* A NUL byte inside a line. */
	c = xcalloc(1, sizeof(*c));
	c->file = xstrdup("t.conf");
	buf = xstrdup("listen = 1.2.3.4:5\nthreads = 4x\n");
	buf[29] = '\0';
	assert_int_equal(parse_file(c, buf, 32, err, sizeof(err)), -1);
	assert_string_equal(err, "t.conf:2: a NUL byte");
	free(buf);
	conf_free(c);

	/* 65 items of a list of at most 64. */
	{
		struct buf b;
		buf_init(&b, 1 << 20);
		for (int i = 0; i < 65; i++)
			buf_printf(&b, "upload-repo = ns/r%d\n", i);
		assert_int_equal(parse(buf_cstr(&b), &c, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "t.conf:65: upload-repo: at most 64 values"));
		conf_free(c);
		buf_free(&b);
	}
}

static void
test_env_and_precedence(void **state)
{
	struct conf *c = NULL, *d = NULL;
	char err[256];
	char *argv[] = { "serve", "--threads", "9", "--upload-repo", "f/one", NULL };
	char *const *items;
	(void)state;

	setenv("GGUFD_THREADS", "7", 1);
	setenv("GGUFD_REF_TTL", "11", 1);
	setenv("GGUFD_UPLOAD_ALLOW", " *.a,*.b\t*.c ,", 1);
	setenv("GGUFD_LISTEN", "", 1); /* empty: unset */
	unsetenv("GGUFD_CONFIG");
	optind = 0; /* glibc: a full restart */
	assert_int_equal(conf_load(5, argv, &c, err, sizeof(err)), 0);
	assert_int_equal(conf_u64(c, CONF_THREADS), 9);
	assert_int_equal(conf_source_of(c, CONF_THREADS), CONF_SRC_FLAG);
	assert_int_equal(conf_u64(c, CONF_REF_TTL), 11);
	assert_int_equal(conf_source_of(c, CONF_REF_TTL), CONF_SRC_ENV);
	assert_int_equal(conf_list(c, CONF_UPLOAD_ALLOW, &items), 3);
	assert_string_equal(items[2], "*.c");
	assert_int_equal(conf_list(c, CONF_UPLOAD_REPO, &items), 1);
	assert_string_equal(items[0], "f/one");
	assert_string_equal(conf_str(c, CONF_LISTEN), "0.0.0.0:8080");
	assert_int_equal(conf_source_of(c, CONF_LISTEN), CONF_SRC_DEFAULT);

	/* A reload keeps the flags and re-reads the environment. */
	setenv("GGUFD_REF_TTL", "12", 1);
	assert_int_equal(conf_reload(c, &d, err, sizeof(err)), 0);
	assert_int_equal(conf_u64(d, CONF_THREADS), 9);
	assert_int_equal(conf_u64(d, CONF_REF_TTL), 12);
	assert_true(conf_same(c, d, CONF_THREADS));
	assert_true(conf_same(c, d, CONF_UPLOAD_REPO));
	assert_false(conf_same(c, d, CONF_REF_TTL));
	conf_free(d);
	conf_free(c);

	setenv("GGUFD_THREADS", "0", 1);
	optind = 0; /* glibc: a full restart */
	assert_int_equal(conf_load(1, argv, &c, err, sizeof(err)), -1);
	assert_null(c);
	assert_string_equal(err, "GGUFD_THREADS takes 1 to 256, not '0'");
	unsetenv("GGUFD_THREADS");
	unsetenv("GGUFD_REF_TTL");
	unsetenv("GGUFD_UPLOAD_ALLOW");
	unsetenv("GGUFD_LISTEN");
}

/* conf_load's message for argv (NULL-terminated). */
static const char *
load_err(char **argv, char *err, size_t errsz)
{
	struct conf *c = NULL;
	int argc = 0;
	while (argv[argc] != NULL)
		argc++;
	optind = 0; /* glibc: a full restart */
	err[0] = '\0';
	if (conf_load(argc, argv, &c, err, errsz) == 0)
		conf_free(c);
	return err;
}

static void
test_getopt_messages(void **state)
{
	char err[512];
	char *unknown[] = { "serve", "--no-such-option", "1", NULL };
	char *unknown_eq[] = { "serve", "--no-such=1", NULL };
	char *novalue[] = { "serve", "--listen", NULL };
	char *ambiguous[] = { "serve", "--upload", "x", NULL };
	char *short_x[] = { "serve", "-x", NULL };
	char *extra[] = { "serve", "stray", NULL };
	char *boolval[] = { "serve", "--offline=nah", NULL };
	char *help[] = { "serve", "--help", NULL };
	char *prefix[] = { "serve", "--thr", "3", NULL };
	struct option token_opts[] = { { "store", required_argument, NULL, 's' },
				       { "help", no_argument, NULL, 'h' },
				       { NULL, 0, NULL, 0 } };
	char *takesno[] = { "token", "--help=1", NULL };
	struct conf *c = NULL;
	(void)state;

	assert_string_equal(load_err(unknown, err, sizeof(err)),
			    "unknown option '--no-such-option'");
	assert_string_equal(load_err(unknown_eq, err, sizeof(err)), "unknown option '--no-such'");
	assert_string_equal(load_err(novalue, err, sizeof(err)), "option '--listen' needs a value");
	assert_string_equal(load_err(ambiguous, err, sizeof(err)),
			    "ambiguous option '--upload' (--upload-repo, --upload-allow, "
			    "--upload-max-size, --upload-url-ttl)");
	assert_string_equal(load_err(short_x, err, sizeof(err)), "unknown option '-x'");
	assert_string_equal(load_err(extra, err, sizeof(err)), "unexpected argument 'stray'");
	assert_string_equal(load_err(boolval, err, sizeof(err)),
			    "--offline takes true/false/yes/no/1/0, not 'nah'");
	optind = 0; /* glibc: a full restart */
	assert_int_equal(conf_load(2, help, &c, err, sizeof(err)), 1);
	assert_null(c);
	/* A unique prefix is the option, as getopt_long has it. */
	optind = 0; /* glibc: a full restart */
	assert_int_equal(conf_load(3, prefix, &c, err, sizeof(err)), 0);
	assert_int_equal(conf_u64(c, CONF_THREADS), 3);
	conf_free(c);
	optind = 0; /* glibc: a full restart */
	assert_int_equal(conf_getopt(2, takesno, token_opts, err, sizeof(err)), '?');
	assert_string_equal(err, "option '--help' takes no value");
	/* A message cut to a small buffer stays a C string. */
	optind = 0; /* glibc: a full restart */
	assert_int_equal(conf_getopt(3, ambiguous, token_opts, err, 8), '?');
	assert_true(strlen(err) < 8);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_file_syntax),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_file_bounds),
		cmocka_unit_test(test_env_and_precedence),
		cmocka_unit_test(test_getopt_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
