/*
 * commit.h: the bodies of the Hub's commit protocol, parsed (HF-PROTOCOL.md
 * 4): the commit (NDJSON, or the JSON form) and the preupload call.  Pure
 * functions over a buffer: no store, no HTTP, no policy; gateway.c does
 * what the operations ask, and tests/fuzz/fuzz_commit.c and fuzz_batch.c
 * drive these parsers alone.  Thread-safe (no state).
 */
#ifndef GG_COMMIT_H
#define GG_COMMIT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "gg_limits.h"

/* The commit's strings, as long as the upload job keeps them (journal.h). */
#define COMMIT_MAX_SUMMARY 511
#define COMMIT_MAX_DESCRIPTION 2047
#define COMMIT_MAX_PARENT GG_SHA1_HEX

/* Files in one preupload call (huggingface_hub sends 256 at a time). */
#define COMMIT_MAX_PREUPLOAD 1000

enum commit_op_kind {
	COMMIT_OP_HEADER,         /* summary, description, parent */
	COMMIT_OP_FILE,           /* path, data, len: a regular file sent inline */
	COMMIT_OP_LFS_FILE,       /* path, oid, size (if has_size) */
	COMMIT_OP_DELETED_FILE,   /* path */
	COMMIT_OP_DELETED_FOLDER, /* path, not checked: any prefix, "" too */
};

/*
 * One operation, borrowed by the callback for the call only.  Strings are
 * never NULL: a missing one is "".  path passes store_valid_path except for
 * a deleted folder; oid is 64 lowercase hex; the header's strings are at
 * most COMMIT_MAX_* bytes.
 */
struct commit_op {
	enum commit_op_kind kind;
	const char *path;
	const char *summary, *description, *parent;
	const char *oid;
	uint64_t size;             /* lfsFile: its "size", 0 when absent */
	int has_size;              /* lfsFile: a "size" was given (a copy sends none) */
	const unsigned char *data; /* file: the decoded content, len bytes */
	size_t len;
};

/*
 * Takes one operation: 0 to go on; anything else refuses it, and the
 * callback has written why (NUL-terminated, within whysz) and set *err.
 */
typedef int (*commit_op_fn)(void *ctx, const struct commit_op *op, char *why, size_t whysz,
			    int *err);

/*
 *   NDJSON (json_form 0): one {"key","value"} object a line ("\n"; empty
 *   lines skipped, the last may lack "\n"), key header, file, lfsFile,
 *   deletedFile or deletedFolder, value an object:
 *     {"key":"header","value":{"summary","description","parentCommit"}}
 *     {"key":"file","value":{"path","content":<base64>,"encoding":"base64"}}
 *     {"key":"lfsFile","value":{"path","algo":"sha256","oid","size"}}
 *     {"key":"deletedFile"|"deletedFolder","value":{"path"}}
 *   The JSON form (json_form 1): {"summary","description","parentCommit",
 *   "files":[file values],"lfsFiles":[lfsFile values],"deletedFiles":
 *   [deletedFile values]}, taken as a header, then the files, the LFS files
 *   and the deletions in that order.
 *
 * Calls fn for each operation in the body's order, and stops at the first
 * that is malformed or that fn refuses, or at a file or deletion past the
 * GG_MAX_COMMIT_OPS-th (the header does not count).  Returns GG_OK when every one was
 * taken; GG_EINVAL when one was refused: why (a sentence naming the line or
 * path, cut to whysz) and *err (GG_EINVAL for a malformed one, fn's code
 * else) say why, and the operations before it were taken; GG_EFORMAT, with
 * nothing called and why untouched, when the JSON form's body is not a JSON
 * object.  The body is read within len only (no NUL needed).
 */
int commit_parse(const char *body, size_t len, int json_form, commit_op_fn fn, void *ctx, char *why,
		 size_t whysz, int *err);

/* One file of a preupload call: path borrowed from the parsed body. */
struct commit_preupload_file {
	const char *path;
	uint64_t size;
};

/*
 *   {"files":[{"path","size","sample"?}]}     (at most COMMIT_MAX_PREUPLOAD)
 *
 * The files in order, up to the first without a valid path (store_valid_path)
 * or an integer "size" (below 2^53).  Returns GG_OK when every file is in
 * files[0..*n); GG_EFORMAT when the one after them is not a valid file (the
 * caller answers for those before it first, as they come first); GG_EINVAL,
 * with *n 0, when the body is not {"files":[...]} or has too many.  Free
 * *doc (which the paths point into) with cJSON_Delete, whatever the return;
 * files has room for COMMIT_MAX_PREUPLOAD.
 */
int commit_preupload_parse(const char *body, size_t len, cJSON **doc,
			   struct commit_preupload_file *files, size_t *n);

#endif
