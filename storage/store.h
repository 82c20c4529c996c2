/*
 * store.h: the store as one object: blob files + LMDB index + GGUF
 * summaries, and the operations that must keep them in step (import,
 * verify, the orphan sweep).
 *
 * Layout under the root directory:
 *   blobs/sha256/ab/<64 hex>   immutable blobs (blob.h)
 *   index/                     LMDB environment (index.h)
 *   tmp/                       writers' temp files, partial downloads
 *   quarantine/                blobs that failed verification
 *   .lock                      flock: importers hold it shared while
 *                              their blobs are durable but not yet
 *                              indexed; the orphan sweep needs it
 *                              exclusive
 *
 * Ordering rule: a blob is durable (fsync + rename + fsync dir) before the
 * index transaction that names it commits.  A crash in between leaves an
 * unindexed blob, which the next store_open() removes.
 *
 * Thread safety: a store may be shared by threads; see blob.h, index.h.
 */
#ifndef GG_STORE_H
#define GG_STORE_H

#include <stddef.h>
#include <pthread.h>
#include <stdint.h>

#include "blob.h"
#include "index.h"

struct store {
	char *root;
	struct blob_store *blobs;
	struct index *idx;
	int lock_fd;
	/* Holders of the shared lock in this process (see store_hold). */
	pthread_mutex_t hold_mu;
	unsigned holds;
};

/*
 * Opens (creating) the store at root and sweeps orphan blobs and stale
 * temp files.  Returns 0 and *out (free with store_close), or GG_EIO,
 * GG_EVERSION (index format newer than this build), GG_EDB.
 */
int store_open(const char *root, struct store **out);
void store_close(struct store *st);

struct store_item {
	const char *src;            /* file to copy in */
	const char *path;           /* path inside the repo */
	const char *expect_sha256;  /* NULL, or the content must hash to it */
	const char *expect_gitsha1; /* NULL, or the git blob sha1 must match */
	int lfs;                    /* 1, 0, or -1 to decide by name and size */
	/* filled by store_import: */
	struct blob_digest digest;
	int has_gguf;
	struct gguf_summary gguf;
};

/*
 * Imports items into repo at rev, in one index transaction after every
 * blob is durable.  rev is a branch or tag name: a new commit is made
 * whose files are the branch's previous files plus the items, and rev
 * moves to it.  rev may be a 40-hex commit id: the items are added to
 * that commit (created if new) and no ref moves.  extra_refs (NULL or a
 * NULL-terminated list) also point at the resulting commit.  The commit
 * id is written to commit_out.  Returns 0, or GG_ENOENT / GG_EIO (a
 * source file), GG_ECORRUPT (an expected digest did not match), GG_EINVAL,
 * GG_EDB, GG_ENOSPC.  On error nothing is indexed.
 */
int store_import(struct store *st, enum repo_type type, const char *repo, const char *rev,
		 struct store_item *items, size_t n, const char *title,
		 char commit_out[GG_SHA1_HEX + 1]);

/*
 * Resolves rev (branch, tag, "HEAD" for main, full 40-hex commit, or a
 * 5-39 hex prefix of a known commit) to a commit id.  *ref_time (NULL ok)
 * receives when a ref answered (its updated_at), or 0 when rev named a
 * commit, which never changes.  0, GG_ENOENT (unknown repo or rev:
 * *repo_known says which), GG_EDB.
 */
int store_resolve_rev(struct store *st, struct index_txn *t, enum repo_type type,
		      const char *repo, const char *rev, char commit[GG_SHA1_HEX + 1],
		      int *repo_known, uint64_t *ref_time);

/* 1 if the repo has at least one commit in the index. */
int store_repo_exists(struct store *st, struct index_txn *t, enum repo_type type,
		      const char *repo);

struct store_verify_report {
	uint64_t ok;
	uint64_t bad;
	uint64_t missing;
};
/*
 * Re-hashes every indexed blob; a blob whose bytes no longer match its
 * name is moved to quarantine/ and reported through bad_cb (NULL ok).
 * Returns 0 (see *rep for the counts) or GG_EDB / GG_EIO.
 */
int store_verify(struct store *st, void (*bad_cb)(void *ctx, const char *sha256, int err),
		 void *ctx, struct store_verify_report *rep);

/* Decides whether a file is stored as an LFS file on the Hub. */
int store_is_lfs_path(const char *path, uint64_t size);

/*
 * Records that (repo, commit, path) holds a file with this content, in one
 * transaction: the commit (if new, titled "Mirrored from upstream"), the
 * blob record (if new) and the file entry.  lfs decides the git oid: the
 * pointer's oid for LFS files, gitsha1 for the rest (must then be given).
 * The blob itself may not be present yet.  0, GG_EINVAL, GG_EDB.
 */
int store_record_file(struct store *st, enum repo_type type, const char *repo, const char *commit,
		      const char *path, int lfs, const char *sha256, const char *gitsha1,
		      uint64_t size);

/*
 * One path of a commit ggufd published (store_record_child_commit): a file
 * added or replaced (sha256, size, lfs; gitsha1 for a regular file), or a
 * deletion of a file or of a folder with everything under it.  Strings
 * are borrowed for the call.
 */
#define STORE_CHANGE_ADD 0
#define STORE_CHANGE_DELETE_FILE 1
#define STORE_CHANGE_DELETE_FOLDER 2
struct store_change {
	const char *path;     /* a folder may end in "/" */
	int kind;             /* STORE_CHANGE_* */
	int lfs;
	const char *sha256;
	const char *gitsha1;  /* regular files; NULL for LFS files */
	uint64_t size;
};

/*
 * Records the whole tree of a commit that ggufd built upstream on top of
 * parent, so that every file of it that the store holds is served without
 * upstream: in one transaction, commit gets parent's files minus the
 * deleted paths, plus the added files (blob records made if missing; the
 * blobs themselves may be absent), and a commit record (parent, title)
 * unless it has one naming a parent already.  parent is a 40-hex commit,
 * or NULL or "" when unknown (then only the changes are recorded); a
 * parent the index knows no files of adds nothing.  Files already recorded
 * under commit stay.  0, GG_EINVAL (a malformed id, path or digest), GG_EDB.
 */
int store_record_child_commit(struct store *st, enum repo_type type, const char *repo,
			      const char *parent, const char *commit, const char *title,
			      const struct store_change *ch, size_t n);

/*
 * Notes that ggufd has just changed repo upstream (a commit, a ref): the
 * upstream answers about it cached until now (index meta) describe the
 * repo as it was.  store_changed_at returns the last such moment (unix
 * seconds; 0 if never), to compare with an answer's fetched_at: one
 * fetched at or before it is outdated.  0, GG_EDB.
 */
int store_note_change(struct store *st, enum repo_type type, const char *repo);
uint64_t store_changed_at(struct store *st, struct index_txn *t, enum repo_type type,
			  const char *repo);

/* Parses the blob as GGUF (if it starts with the magic) and keeps the
 * summary in its blob record.  0, GG_ENOENT, GG_EDB; a non-GGUF blob is 0. */
int store_update_gguf(struct store *st, const char *sha256);

/* Sets or clears a blob's pin (pinned blobs are never evicted).
 * 0, GG_ENOENT, GG_EDB. */
int store_pin(struct store *st, const char *sha256, int pinned);

/*
 * Brackets the window in which a blob is durable but not yet indexed
 * (rename -> index commit), so that no other process's orphan sweep takes
 * it.  Nests across threads.  store_import holds it itself.
 */
void store_hold(struct store *st);
void store_release(struct store *st);

/*
 * Makes sure a blob that is in blobs/ has a record (refcount kept, GGUF
 * summary added), so the orphan sweep keeps it: uploads land before any
 * file names them.  0, GG_ENOENT (no such blob file), GG_EDB.
 */
int store_adopt_blob(struct store *st, const char *sha256);

/* Points ref at commit (which must be a 40-hex id).  0, GG_EINVAL, GG_EDB. */
int store_set_ref(struct store *st, enum repo_type type, const char *repo, const char *ref,
		  const char *commit);

/*
 * True if path is a valid file path inside a repo: 1..GG_MAX_REPO_PATH_LEN
 * bytes, no leading or trailing "/", no empty, "." or ".." component, no
 * control characters or backslashes.
 */
int store_valid_path(const char *path);

#endif
