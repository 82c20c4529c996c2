/*
 * test_policy.c: the upload gateway's rules: allowed repos, the RuvLTRA
 * naming convention, GGUF quant against general.file_type, README front
 * matter, size caps; and base64 and HMAC-signed URLs' building blocks.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"
#include "util.h"

static void
test_repos(void **state)
{
	struct policy p;
	(void)state;
	policy_defaults(&p);
	assert_true(policy_repo_ok(&p, REPO_MODEL, "ruv/ruvltra"));
	assert_false(policy_repo_ok(&p, REPO_MODEL, "ruv/other"));
	assert_false(policy_repo_ok(&p, REPO_DATASET, "ruv/ruvltra"));
	assert_false(policy_repo_ok(&p, REPO_MODEL, "ruv/ruvltra2"));
	p.repos[p.nrepos++] = "datasets/ruv/data";
	assert_true(policy_repo_ok(&p, REPO_DATASET, "ruv/data"));
	assert_false(policy_repo_ok(&p, REPO_MODEL, "ruv/data"));
}

static void
test_gguf_names(void **state)
{
	static const char *good[] = {
		"ruvltra-0.5b-q4_k_m.gguf",
		"ruvltra-3b-q8_0.gguf",
		"ruvltra-claude-code-0.5b-q4_k_m.gguf",
		"ruvltra-small-0.5b-q4_k_m.gguf",
		"ruvltra-1.5b-f16.gguf",
		"ruvltra-70b-iq2_xxs.gguf",
		"sub/dir/ruvltra-0.5b-bf16.gguf",
	};
	static const char *bad[] = {
		"model.gguf",               /* no prefix */
		"ruvltra-q4_k_m.gguf",      /* no size */
		"ruvltra-0.5b.gguf",        /* no quant */
		"ruvltra-0.5b-Q4_K_M.gguf", /* upper case */
		"ruvltra-0.5b-q9_x.gguf",   /* unknown quant */
		"ruvltra-0.5-q4_k_m.gguf",  /* size without b */
		"ruvltra-.5b-q4_k_m.gguf",  /* size without digits */
		"ruvltra-0.5bb-q4_k_m.gguf",
		"ruvltra-Big-0.5b-q4_k_m.gguf", /* variant upper case */
		"ruvltra--0.5b-q4_k_m.gguf",    /* empty variant word */
		"ruvltra_0.5b_q4_k_m.gguf",
		"other-0.5b-q4_k_m.gguf",
	};
	struct policy p;
	char why[700];
	(void)state;
	policy_defaults(&p);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (policy_check_path(&p, good[i], 100, why, sizeof(why)) != GG_OK)
			fail_msg("%s refused: %s", good[i], why);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (policy_check_path(&p, bad[i], 100, why, sizeof(why)) != GG_EFORMAT)
			fail_msg("%s accepted", bad[i]);
		assert_non_null(strstr(why, "ruvltra-[{variant}-]{size}-{quant}.gguf"));
	}
}

static void
test_other_files_and_size(void **state)
{
	struct policy p;
	char why[700];
	(void)state;
	policy_defaults(&p);
	assert_int_equal(policy_check_path(&p, "README.md", 10, why, sizeof(why)), GG_OK);
	assert_int_equal(policy_check_path(&p, "config.json", 10, why, sizeof(why)), GG_OK);
	assert_int_equal(policy_check_path(&p, "adapters/lora.safetensors", 10, why, sizeof(why)),
			 GG_OK);
	assert_int_equal(policy_check_path(&p, "run.sh", 10, why, sizeof(why)), GG_EFORMAT);
	assert_non_null(strstr(why, "not accepted"));
	assert_int_equal(policy_check_path(&p, "model.bin", 10, why, sizeof(why)), GG_EFORMAT);
	p.max_size = 1000;
	assert_int_equal(policy_check_path(&p, "ruvltra-0.5b-q4_k_m.gguf", 1001, why, sizeof(why)),
			 GG_ETOOBIG);
	assert_non_null(strstr(why, "over the upload limit"));
	/* A custom allow list replaces the defaults. */
	p.nglobs = 0;
	p.globs[p.nglobs++] = "*.sh";
	assert_int_equal(policy_check_path(&p, "run.sh", 10, why, sizeof(why)), GG_OK);
	assert_int_equal(policy_check_path(&p, "config.json", 10, why, sizeof(why)), GG_EFORMAT);
}

static void
test_gguf_content(void **state)
{
	struct policy p;
	struct gguf_summary g;
	char why[700];
	(void)state;
	policy_defaults(&p);
	memset(&g, 0, sizeof(g));
	g.file_type = 15; /* Q4_K_M */
	assert_int_equal(
		policy_check_gguf(&p, "ruvltra-0.5b-q4_k_m.gguf", GG_OK, &g, why, sizeof(why)),
		GG_OK);
	g.file_type = 7; /* Q8_0 */
	assert_int_equal(
		policy_check_gguf(&p, "ruvltra-0.5b-q4_k_m.gguf", GG_OK, &g, why, sizeof(why)),
		GG_EFORMAT);
	assert_non_null(
		strstr(why, "the name says q4_k_m but the file's general.file_type is Q8_0"));
	g.file_type = -1;
	assert_int_equal(
		policy_check_gguf(&p, "ruvltra-0.5b-q8_0.gguf", GG_OK, &g, why, sizeof(why)),
		GG_EFORMAT);
	assert_int_equal(
		policy_check_gguf(&p, "ruvltra-0.5b-q8_0.gguf", GG_EFORMAT, &g, why, sizeof(why)),
		GG_EFORMAT);
	assert_non_null(strstr(why, "not a valid GGUF file"));
}

/*
 * Empty files: legitimate where the name is allowed (an empty .gitattributes
 * or config), refused with the real reason for a GGUF name, never with a
 * hash mismatch that did not happen.
 */
static void
test_empty_files(void **state)
{
	struct policy p;
	struct gguf_summary g;
	char why[700];
	(void)state;
	policy_defaults(&p);
	memset(&g, 0, sizeof(g));
	assert_int_equal(policy_check_path(&p, ".gitattributes", 0, why, sizeof(why)), GG_OK);
	assert_int_equal(policy_check_path(&p, "config.json", 0, why, sizeof(why)), GG_OK);
	assert_int_equal(policy_check_path(&p, "README.md", 0, why, sizeof(why)), GG_OK);
	/* Before a byte is read (declared size 0): an empty GGUF is no GGUF. */
	assert_int_equal(policy_check_path(&p, "ruvltra-0.5b-q4_k_m.gguf", 0, why, sizeof(why)),
			 GG_EFORMAT);
	assert_non_null(strstr(why, "an empty file is not a valid GGUF file"));
	/* The parser's codes are explained, not named by gg_strerror. */
	assert_int_equal(
		policy_check_gguf(&p, "ruvltra-0.5b-q8_0.gguf", GG_ECORRUPT, &g, why, sizeof(why)),
		GG_EFORMAT);
	assert_null(strstr(why, "hash"));
	assert_non_null(strstr(why, "ends inside its GGUF header"));
	assert_int_equal(
		policy_check_gguf(&p, "ruvltra-0.5b-q8_0.gguf", GG_EFORMAT, &g, why, sizeof(why)),
		GG_EFORMAT);
	assert_non_null(strstr(why, "GGUF magic"));
	assert_int_equal(
		policy_check_gguf(&p, "ruvltra-0.5b-q8_0.gguf", GG_ETOOBIG, &g, why, sizeof(why)),
		GG_EFORMAT);
	assert_non_null(strstr(why, "limits"));
}

static void
test_readme(void **state)
{
	static const char ok[] =
		"---\nlicense: apache-2.0\ntags:\n- gguf\n- ruvltra\n---\n# Card\n";
	static const char no_fm[] = "# Card\n";
	static const char no_tags[] = "---\nlicense: mit\n---\n";
	static const char empty_license[] = "---\nlicense: \ntags: [a]\n---\n";
	static const char unclosed[] = "---\nlicense: mit\ntags: [a]\n";
	char why[400];
	(void)state;
	assert_int_equal(policy_check_readme(ok, strlen(ok), why, sizeof(why)), GG_OK);
	assert_int_equal(policy_check_readme(no_fm, strlen(no_fm), why, sizeof(why)), GG_EFORMAT);
	assert_non_null(strstr(why, "front matter"));
	assert_int_equal(policy_check_readme(no_tags, strlen(no_tags), why, sizeof(why)),
			 GG_EFORMAT);
	assert_non_null(strstr(why, "missing: tags"));
	assert_int_equal(
		policy_check_readme(empty_license, strlen(empty_license), why, sizeof(why)),
		GG_EFORMAT);
	assert_non_null(strstr(why, "license"));
	assert_int_equal(policy_check_readme(unclosed, strlen(unclosed), why, sizeof(why)),
			 GG_EFORMAT);
	assert_non_null(strstr(why, "not closed"));
}

static void
test_card_keeps(void **state)
{
	static const char old[] = "---\nlicense: mit\ntags:\n- gguf\nbase_model: Qwen/Qwen2\n"
				  "model-index:\n  - name: x\n---\n# Card\n";
	static const char same_keys[] = "---\ntags: [a]\nlicense: apache-2.0\nbase_model: y\n"
					"model-index: []\n---\nother text\n";
	static const char drops[] = "---\nlicense: mit\ntags:\n- gguf\n---\n# Card\n";
	static const char none[] = "# no front matter\nbase_model: x\n";
	char why[600];
	(void)state;
	assert_int_equal(
		policy_card_keeps(old, strlen(old), same_keys, strlen(same_keys), why, sizeof(why)),
		GG_OK);
	assert_int_equal(
		policy_card_keeps(old, strlen(old), drops, strlen(drops), why, sizeof(why)),
		GG_EFORMAT);
	assert_non_null(strstr(why, "base_model model-index"));
	assert_null(strstr(why, "name"));
	assert_int_equal(policy_card_keeps(old, strlen(old), none, strlen(none), why, sizeof(why)),
			 GG_EFORMAT);
	assert_non_null(strstr(why, "license tags base_model model-index"));
	/* An old card without front matter keeps nothing. */
	assert_int_equal(
		policy_card_keeps(none, strlen(none), drops, strlen(drops), why, sizeof(why)),
		GG_OK);
}

static void
test_card_keeps_table(void **state)
{
	static const char old[] =
		"---\nlicense: mit\ntags: [gguf]\n---\n# Card\n\n| File | Quant |\n|---|---|\n"
		"| [ruvltra-0.5b-q4_k_m.gguf](https://h/resolve/main/ruvltra-0.5b-q4_k_m.gguf) | "
		"Q4_K_M |\n  | ruvltra-3b-q8_0.gguf | Q8_0 |\n\nSee also other.gguf outside.\n";
	/* The same names in another table layout, one more row. */
	static const char kept[] = "---\nlicense: mit\ntags: [gguf]\n---\n|name|\n|-|\n"
				   "|ruvltra-3b-q8_0.gguf|\n|RUVLTRA-0.5B-Q4_K_M.GGUF|\n"
				   "|ruvltra-7b-q4_k_m.gguf|\n";
	/* Names in the text but not in a table row, and a longer name. */
	static const char dropped[] = "---\nlicense: mit\ntags: [gguf]\n---\n"
				      "ruvltra-0.5b-q4_k_m.gguf\n| xruvltra-3b-q8_0.gguf |\n";
	static const char no_table[] = "---\nlicense: mit\n---\n| a | b |\n";
	char why[600];
	(void)state;
	assert_int_equal(
		policy_card_keeps_table(old, strlen(old), kept, strlen(kept), why, sizeof(why)),
		GG_OK);
	assert_int_equal(policy_card_keeps_table(old, strlen(old), dropped, strlen(dropped), why,
						 sizeof(why)),
			 GG_EFORMAT);
	/* Each dropped name once, though the old row links it twice. */
	assert_non_null(strstr(why, "drops: ruvltra-0.5b-q4_k_m.gguf ruvltra-3b-q8_0.gguf ("));
	assert_null(strstr(why, "other.gguf"));
	/* An old card without .gguf rows keeps nothing. */
	assert_int_equal(policy_card_keeps_table(no_table, strlen(no_table), dropped,
						 strlen(dropped), why, sizeof(why)),
			 GG_OK);
}

static void
test_protected_branches(void **state)
{
	struct policy p;
	static char *two[] = { "release", "stable" };
	(void)state;
	policy_defaults(&p);
	assert_int_equal(policy_branch_protected(&p, "main"), 1);
	assert_int_equal(policy_branch_protected(&p, "refs/heads/main"), 1);
	assert_int_equal(policy_branch_protected(&p, "exp-1"), 0);
	assert_int_equal(policy_branch_protected(&p, "refs/pr/1"), 0);
	assert_int_equal(policy_branch_protected(&p, "mainline"), 0);
	assert_int_equal(p.allow_overwrite, 0);
	p.protected_branches[0] = two[0];
	p.protected_branches[1] = two[1];
	p.nprotected = 2;
	assert_int_equal(policy_branch_protected(&p, "main"), 0);
	assert_int_equal(policy_branch_protected(&p, "stable"), 1);
	assert_int_equal(policy_branch_protected(&p, "refs/heads/release"), 1);
}

static void
test_base64(void **state)
{
	size_t len;
	char *e;
	unsigned char *d;
	(void)state;
	e = b64_encode("GGUF\x03\0\0\0", 8);
	assert_string_equal(e, "R0dVRgMAAAA=");
	d = b64_decode(e, strlen(e), &len);
	assert_non_null(d);
	assert_int_equal(len, 8);
	assert_memory_equal(d, "GGUF\x03\0\0\0", 8);
	free(d);
	free(e);
	d = b64_decode("", 0, &len);
	assert_non_null(d);
	assert_int_equal(len, 0);
	free(d);
	assert_null(b64_decode("abc", 3, &len));
	assert_null(b64_decode("ab=c", 4, &len));
	assert_null(b64_decode("a b=", 4, &len));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repos),
		cmocka_unit_test(test_gguf_names),
		cmocka_unit_test(test_other_files_and_size),
		cmocka_unit_test(test_gguf_content),
		cmocka_unit_test(test_empty_files),
		cmocka_unit_test(test_readme),
		cmocka_unit_test(test_card_keeps),
		cmocka_unit_test(test_card_keeps_table),
		cmocka_unit_test(test_protected_branches),
		cmocka_unit_test(test_base64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
