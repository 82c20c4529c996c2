/*
 * policy.h: what the upload gateway accepts before anything goes upstream.
 *
 *   - the repo must be on the allow list (default: ruv/ruvltra);
 *   - a .gguf file's name must follow the repo convention
 *       {prefix}-[{variant}-]{size}-{quant}.gguf
 *     e.g. ruvltra-0.5b-q4_k_m.gguf, ruvltra-claude-code-0.5b-q4_k_m.gguf:
 *     size like 0.5b or 3b, quant a known GGUF quantization in lower case,
 *     equal to the file's own general.file_type; the file must parse as GGUF;
 *   - other files must match one of the allowed globs (default: README.md,
 *     *.md, *.json, *.txt, *.safetensors, *.yaml, *.yml, .gitattributes,
 *     LICENSE*, *.png, *.jpg);
 *   - every file is at most max_size bytes;
 *   - a README.md model card needs YAML front matter with license and tags;
 *   - on a protected branch (default: main) a published .gguf or LFS file
 *     is not replaced with other bytes, unless an admin asks (gateway.c).
 * Each check writes the rule that failed into why.
 *
 * Thread safety: a policy is read-only once built.
 */
#ifndef GG_POLICY_H
#define GG_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "gguf.h"
#include "index.h"

#define POLICY_MAX_ITEMS 64

struct policy {
	char *repos[POLICY_MAX_ITEMS]; /* "ns/name" or "datasets/ns/name" */
	int nrepos;
	char *globs[POLICY_MAX_ITEMS];
	int nglobs;
	const char *gguf_prefix; /* "ruvltra" */
	uint64_t max_size;
	char *protected_branches[POLICY_MAX_ITEMS]; /* default: "main" */
	int nprotected;
	int allow_overwrite;  /* an admin may replace a published file without asking */
	int card_files_table; /* a replacing card keeps the published card's files table */
};

/* Fills the defaults (the strings are static). */
void policy_defaults(struct policy *p);

/*
 * A deep copy of p that owns its strings (the gateway keeps one, so the
 * policy it reads does not depend on where p's strings live); free with
 * policy_free.  policy_free accepts NULL and only policy_dup's results.
 */
struct policy *policy_dup(const struct policy *p);
void policy_free(struct policy *p);
/* 1 if a and b hold the same rules (lists compared in order). */
int policy_equal(const struct policy *a, const struct policy *b);

/* 1 if uploads to (type, repo) are allowed. */
int policy_repo_ok(const struct policy *p, enum repo_type type, const char *repo);

/* 1 if rev ("main" or "refs/heads/main") is a protected branch. */
int policy_branch_protected(const struct policy *p, const char *rev);

/*
 * Checks a path and size before the bytes arrive.  Returns 0, or GG_EFORMAT
 * with the rule in why (422), or GG_ETOOBIG for the size (413).
 */
int policy_check_path(const struct policy *p, const char *path, uint64_t size, char *why,
		      size_t whysz);

/*
 * Checks a .gguf file's content summary against its name: parse result
 * (rc from gguf_parse) and quant.  0 or GG_EFORMAT with why.
 */
int policy_check_gguf(const struct policy *p, const char *path, int parse_rc,
		      const struct gguf_summary *g, char *why, size_t whysz);

/* Checks a README.md model card.  0 or GG_EFORMAT with why. */
int policy_check_readme(const char *text, size_t len, char *why, size_t whysz);

/*
 * A model card replacing another (with an upload token): every top-level
 * front matter key of old must still be in text.  0, or GG_EFORMAT with
 * the dropped keys in why.  An old card without front matter keeps
 * nothing.
 */
int policy_card_keeps(const char *old, size_t oldlen, const char *text, size_t len, char *why,
		      size_t whysz);

/*
 * The files table rule (--card-files-table): every .gguf name in a table
 * row of old (a line starting with '|') must be in a table row of text,
 * as a whole name.  0, or GG_EFORMAT with the dropped names in why.  An old
 * card without such rows keeps nothing.
 */
int policy_card_keeps_table(const char *old, size_t oldlen, const char *text, size_t len, char *why,
			    size_t whysz);

/* The quant part of a conventional GGUF name ("q4_k_m"), or NULL. */
int policy_gguf_name(const struct policy *p, const char *base, char *quant, size_t qsz);

/*
 * Checks a staged file (the blob sha256 in st, size bytes) as it will be
 * published at path: the path rules (policy_check_path), then its content
 * by kind: a .gguf must parse and its quant match policy_check_gguf, a
 * README.md must pass policy_check_readme.  Returns 0, or GG_ETOOBIG /
 * GG_EFORMAT (413 / 422) with the rule in why.
 */
struct store;
int policy_check_blob(const struct policy *p, struct store *st, const char *path,
		      const char *sha256, uint64_t size, char *why, size_t whysz);
/*
 * policy_card_keeps over two cards in st: the published one (old_sha256)
 * and its replacement, then policy_card_keeps_table when p->card_files_table
 * is on.  0, GG_EFORMAT with why, or GG_ENOENT when the published card's
 * bytes are not in the store (the caller may ask upstream for them).
 */
/* The same against the published card's text (old, oldlen). */
int policy_check_card_text(const struct policy *p, struct store *st, const char *old, size_t oldlen,
			   const char *sha256, char *why, size_t whysz);
int policy_check_card_replace(const struct policy *p, struct store *st, const char *old_sha256,
			      const char *sha256, char *why, size_t whysz);

#endif
