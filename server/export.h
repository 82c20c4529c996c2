/*
 * export.h: a repo revision written out as a huggingface_hub cache
 * (export.c), for hosts with no network: `ggufd export --hf-cache DIR`.
 *
 *   DIR/models--org--name/blobs/<sha256 | git sha1>
 *   DIR/models--org--name/snapshots/<commit>/<path> -> ../../blobs/<name>
 *   DIR/models--org--name/refs/<rev>                 the commit, no newline
 *
 * huggingface_hub (HF_HUB_OFFLINE=1, HF_HUB_CACHE=DIR) and llama.cpp
 * (LLAMA_CACHE=DIR) read this layout without asking any server.
 */
#ifndef GG_EXPORT_H
#define GG_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "index.h"
#include "store.h"

struct export_report {
	char commit[GG_SHA1_HEX + 1];
	char folder[GG_MAX_REPO_LEN + 16]; /* "models--org--name" */
	uint64_t files, bytes;             /* exported (or already there) */
	uint64_t linked, copied, kept;     /* how: hard links, copies, already there */
	uint64_t missing;                  /* indexed, not in the store: skipped */
	uint64_t failed;                   /* I/O errors */
};

/*
 * Exports the files of repo at rev (as store_resolve_rev takes it) whose
 * paths match one of the fnmatch globs (the path or its base name; every
 * file when nglobs is 0) into the cache directory dir (created if
 * missing).  Blobs are named as huggingface_hub names them: the sha256
 * for LFS files, the git blob sha1 for the others; with link_ok they are
 * hard links to the store's blobs where dir is on the store's filesystem,
 * else copies.  refs/<rev> is written unless rev names a commit (or a
 * prefix of one).  A file the index knows but the store does not hold is
 * skipped with a line on err; each file exported is a line on out (NULL:
 * quiet).  Returns 0 with *rep filled (also when files were skipped or
 * failed: see rep), GG_ENOENT (unknown repo or revision), GG_EINVAL (a
 * revision that cannot be a ref file name), GG_EIO (dir cannot be made),
 * GG_EDB.
 */
int export_hf_cache(struct store *st, const char *dir, enum repo_type type, const char *repo,
		    const char *rev, char *const *globs, int nglobs, int link_ok, FILE *out,
		    FILE *err, struct export_report *rep);

#endif
