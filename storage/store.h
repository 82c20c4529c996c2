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
 * The store is opaque outside storage/ (its fields are in store_impl.h):
 * callers use the store_* verbs below, each of which owns its index
 * transaction, or a struct store_view for several reads that must agree.
 * Records returned (struct index_file, index_blob, ...) are copies owned
 * by the caller.  Every way a blob becomes durable (a finished upload, an
 * assembled multipart upload, a finished fetch) goes through a verb that
 * brackets the rename and the index commit with store_hold(), so the
 * crash-window rule below cannot be forgotten at a call site.
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

#define STORE_RECENT_EVICTIONS 32

struct store;

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
	int link;                   /* reflink or hard-link src instead of copying */
	/* filled by store_import: */
	const char *how; /* "copied", "reflinked", "hard-linked", ... */
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
 * Resolves rev (branch, tag - as itself or as refs/tags/REV -, "HEAD" for
 * main, full 40-hex commit, or a
 * 5-39 hex prefix of a known commit) to a commit id.  *ref_time (NULL ok)
 * receives when a ref answered (its updated_at), or 0 when rev named a
 * commit, which never changes.  0, GG_ENOENT (unknown repo or rev:
 * *repo_known says which), GG_EDB.
 */
struct store_view;
int store_resolve_rev(struct store_view *v, enum repo_type type, const char *repo, const char *rev,
		      char commit[GG_SHA1_HEX + 1], int *repo_known, uint64_t *ref_time);

/* *exists = 1 if the repo has at least one commit.  0 or GG_EDB. */
int store_repo_exists(struct store_view *v, enum repo_type type, const char *repo, int *exists);

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
	const char *path; /* a folder may end in "/" */
	int kind;         /* STORE_CHANGE_* */
	int lfs;
	const char *sha256;
	const char *gitsha1; /* regular files; NULL for LFS files */
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
uint64_t store_changed_at(struct store *st, enum repo_type type, const char *repo);

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
/* Removes ref.  0, GG_ENOENT (there is none), GG_EINVAL, GG_EDB. */
int store_del_ref(struct store *st, enum repo_type type, const char *repo, const char *ref);

/* --- reading ------------------------------------------------------------- */

/*
 * A consistent read view of the index (an LMDB read transaction): every
 * read through one view sees the same state.  Keep it short: it pins the
 * index pages it sees.  It belongs to one thread.  store_view_end accepts
 * a view whose begin failed.  The *_foreach callbacks return 0 to go on, 1
 * to stop, or an error that the foreach returns; they must not begin
 * another view or write to the store.
 */
struct store_view {
	struct index_txn *t; /* private */
};
int store_view_begin(struct store *st, struct store_view *v); /* 0, GG_EDB */
void store_view_end(struct store_view *v);

/* Each returns 0 with *out filled, GG_ENOENT, GG_EINVAL, GG_EDB or
 * GG_ECORRUPT, as the index.h function of the same name does. */
int store_view_file(struct store_view *v, enum repo_type type, const char *repo, const char *commit,
		    const char *path, struct index_file *out);
int store_view_commit(struct store_view *v, enum repo_type type, const char *repo,
		      const char *commit, struct index_commit *out);
int store_view_blob(struct store_view *v, const char *sha256, struct index_blob *out);
int store_view_files(struct store_view *v, enum repo_type type, const char *repo,
		     const char *commit, const char *after,
		     int (*cb)(void *ctx, const char *path, const struct index_file *rec),
		     void *ctx);
int store_view_refs(struct store_view *v, enum repo_type type, const char *repo,
		    int (*cb)(void *ctx, const char *ref, const struct index_ref *rec), void *ctx);
int store_view_commits(struct store_view *v, enum repo_type type, const char *repo,
		       int (*cb)(void *ctx, const char *commit, const struct index_commit *rec),
		       void *ctx);
int store_view_blobs(struct store_view *v,
		     int (*cb)(void *ctx, const char *sha256, const struct index_blob *rec),
		     void *ctx);
int store_view_repos(struct store_view *v,
		     int (*cb)(void *ctx, enum repo_type type, const char *repo), void *ctx);

/* 0 if the index can be read (health checks), else GG_EDB. */
int store_ping(struct store *st);

/*
 * A file at a revision, in one view: rev resolved as store_resolve_rev
 * does, then the file.  Fills *out: rev_rc and file_rc are the two
 * lookups' codes (file_rc is GG_ENOENT when rev_rc failed).
 */
struct store_lookup {
	int rev_rc;
	int repo_known;
	char commit[GG_SHA1_HEX + 1];
	uint64_t ref_time; /* see store_resolve_rev */
	int file_rc;
	struct index_file file;
};
int store_lookup_file(struct store *st, enum repo_type type, const char *repo, const char *rev,
		      const char *path, struct store_lookup *out);
/*
 * Answers built from the index alone, kept while it does not change
 * (acache.c).  store_generation is the index's generation now (its last
 * committed transaction, by any process; 0 if unknown); an answer built
 * from a view is put under that view's store_view_generation, and a get
 * with store_generation hits only while no write came after that view's
 * snapshot.  store_answer_get
 * gives a malloc'ed copy.  Small answers only (16 KiB).
 */
uint64_t store_generation(struct store *st);
/* The generation a view reads (its snapshot): what an answer built from
 * it is kept under.  Never newer than store_generation. */
uint64_t store_view_generation(struct store_view *v);
int store_answer_get(struct store *st, const char *key, uint64_t gen, char **out);
void store_answer_put(struct store *st, const char *key, uint64_t gen, const char *text);
/* The file at a commit, in its own view. */
int store_file_get(struct store *st, enum repo_type type, const char *repo, const char *commit,
		   const char *path, struct index_file *out);
/* A ref, in its own view.  0, GG_ENOENT, GG_EDB. */
int store_ref_get(struct store *st, enum repo_type type, const char *repo, const char *ref,
		  struct index_ref *out);

/* --- blobs -------------------------------------------------------------- */

/* Opens a blob read-only: *fd (caller closes) and *size.  0, GG_ENOENT, GG_EIO. */
int store_blob_open(struct store *st, const char *sha256, int *fd, uint64_t *size);
/* blob_export (blob.h): a blob hard-linked or copied to dst outside the
 * store.  0, GG_ENOENT, GG_EEXIST, GG_EIO, GG_EINVAL. */
int store_blob_export(struct store *st, const char *sha256, const char *dst, int link_ok,
		      const char **how);
/* 1 if the blob's file is present. */
int store_blob_exists(struct store *st, const char *sha256);
/* 1 if the blob has a record of this size and its file is present. */
int store_blob_has(struct store *st, const char *sha256, uint64_t size);

/*
 * Staging an upload: a writer (blob.h) opened in the store, and finished
 * with store_writer_finish, which makes the blob durable and adopts it
 * (a record with refcount 0, so the orphan sweep keeps it) inside the
 * crash window bracket.  The writer is freed in every case.  On success
 * the blob is staged (store_stage) for the caller, and *fresh says
 * whether this call created its record: only then may a refused upload
 * drop it again (store_drop_unreferenced), since an older record belongs
 * to someone else (a staged LFS object awaiting its commit, say).
 * 0, or the blob_writer_finish / store_adopt_blob codes (GG_ECORRUPT: the
 * bytes do not hash to expect_sha256).
 */
int store_writer_open(struct store *st, int64_t size_hint, struct blob_writer **out);
int store_writer_finish(struct store *st, struct blob_writer *w, const char *expect_sha256,
			struct blob_digest *out, int *fresh);
/* Multipart uploads: parts (blob.h), then the assembly, adopted and
 * staged like store_writer_finish.  GG_ENOENT: a part is missing. */
int store_asm_part_open(struct store *st, const char *sha256, uint64_t size, uint64_t offset,
			uint64_t len, struct blob_asm_part **out);
int store_asm_finish(struct store *st, const char *sha256, uint64_t size, struct blob_digest *out,
		     int *fresh);

/*
 * Staged blobs: an upload that adopted a blob keeps it staged until the
 * blob is named by a file, or the job that names it is journaled (the
 * journal protects it from then on), or the upload is refused.  Counted
 * per blob, in this process.  store_stage adds a count (the finish verbs
 * add one themselves); store_unstage removes one.
 */
void store_stage(struct store *st, const char *sha256);
void store_unstage(struct store *st, const char *sha256);

/*
 * Removes a blob that nothing needs: no file names it (refcount 0), it is
 * not pinned, not staged, and no live upload job (pending or publishing)
 * mentions it.  The record goes in one write transaction; the file is
 * unlinked only after that transaction committed.  Returns 0 (removed),
 * GG_EEXIST (still needed: kept), GG_ENOENT (no record), GG_EDB.
 */
int store_drop_unreferenced(struct store *st, const char *sha256);

/*
 * Partial downloads of a fetch (blob.h), and their end: the blob made
 * durable and its file recorded at (repo, commit, path) inside the crash
 * window bracket, then its GGUF summary.  The partial is freed in every
 * case.  0, GG_ECORRUPT (bytes do not match the key: discarded), or the
 * blob_partial_finish / store_record_file codes.
 */
int store_partial_open(struct store *st, const char *key, uint64_t size, struct blob_partial **out,
		       uint64_t *have);
int store_partial_finish(struct store *st, struct blob_partial *p, enum repo_type type,
			 const char *repo, const char *commit, const char *path, int lfs,
			 struct blob_digest *out);

/*
 * Garbage collection: removes every blob that nothing needs
 * (store_drop_unreferenced's rules: no file names it, not pinned, not
 * staged, no live upload job mentions it) and that nobody touched for
 * min_age seconds (its last access; the age keeps a blob another process
 * has just staged, which this one cannot see).  Fills *rep.  0, or the
 * first index error (what was removed before it stays removed).
 */
struct store_gc_report {
	uint64_t blobs, bytes; /* removed */
	uint64_t kept;         /* unreferenced but too young, or needed */
};
int store_gc(struct store *st, uint64_t min_age, struct store_gc_report *rep);
/* Removes partial downloads and multipart assemblies nobody wrote to for
 * tmp_age seconds, and quarantined blobs older than quarantine_age;
 * *files and *bytes say what went. */
void store_sweep_stale(struct store *st, uint64_t tmp_age, uint64_t quarantine_age, uint64_t *files,
		       uint64_t *bytes);

/* --- quota, readers, hits and eviction (evict.c) -------------------------- */

/*
 * The byte budget of the blobs present in the store (0: none).  While it
 * is set, store_reserve makes room for new bytes by evicting the least
 * recently used blobs that nothing protects (pinned, held by a reader,
 * staged, named by an upload job that is not done); a blob that files
 * name goes as a whole (its bytes, for every repo and revision; the file
 * records stay and the next request fetches it again).
 */
void store_set_quota(struct store *st, uint64_t max_bytes);
/*
 * Makes room for size new bytes and counts them as being written until
 * store_unreserve.  0, GG_ENOSPC (nothing more can be evicted, or size
 * exceeds the quota: nothing was reserved), GG_EDB.
 */
int store_reserve(struct store *st, uint64_t size);
void store_unreserve(struct store *st, uint64_t size);
/* Evicts until the store is within its quota again (after the quota was
 * lowered, or other processes added blobs).  0, GG_ENOSPC, GG_EDB. */
int store_enforce_quota(struct store *st);

/*
 * Readers: a blob held by a reader (store_use, or store_blob_acquire,
 * which also opens it and counts a hit) is never evicted until the
 * matching store_unuse.  Keys are blob names (64 hex; 40-hex fetch keys
 * are accepted and ignored by eviction).
 */
int store_blob_acquire(struct store *st, const char *sha256, int *fd, uint64_t *size);
/* store_blob_acquire with the descriptor lent (blob_borrow: pread only, no
 * dup); store_blob_return gives it back and ends the hold. */
int store_blob_borrow(struct store *st, const char *sha256, struct blob_fd *b);
void store_blob_return(struct store *st, const char *sha256, struct blob_fd *b);
void store_use(struct store *st, const char *key);
void store_unuse(struct store *st, const char *key);
/* A hit: the blob's last access and hit count, kept in memory until
 * store_flush_access writes them (one transaction; store_close does it). */
void store_touch(struct store *st, const char *key);
/* A use that is not a hit (a blob just fetched or uploaded): only its
 * recency. */
void store_touch_new(struct store *st, const char *key);
int store_flush_access(struct store *st);
/* What this process knows of a blob's use and has not written yet: the
 * hits counted since the last store_flush_access (*hits, to add to the
 * record's) and its last use here (*last_access, unix seconds; 0: none
 * in this process).  Both 0 for an unknown key. */
void store_blob_pending(struct store *st, const char *sha256, uint64_t *hits,
			uint64_t *last_access);

struct store_usage {
	uint64_t max_bytes;                /* the quota, 0: none */
	uint64_t used_bytes;               /* blobs present */
	uint64_t reserved_bytes;           /* being written (fetches, uploads) */
	uint64_t blobs;                    /* present */
	uint64_t pinned_bytes;             /* present and pinned */
	uint64_t evictable_bytes;          /* present, nothing protects them now */
	uint64_t evictions, evicted_bytes; /* by this process */
};
/* A blob eviction would take, in the order it would take them. */
struct store_evictee {
	char sha256[GG_SHA256_HEX + 1];
	uint64_t size, last_access, hits;
	uint32_t refcount; /* files naming it */
};
/* Usage now (one pass over the blob records) and the first max_next
 * blobs eviction would take.  0, GG_EDB. */
int store_usage(struct store *st, struct store_usage *u, struct store_evictee *next,
		size_t max_next, size_t *n_next);

/* The last evictions of this process, newest first. */
struct store_eviction {
	char sha256[GG_SHA256_HEX + 1];
	uint64_t size, time, last_access;
};
size_t store_recent_evictions(struct store *st, struct store_eviction *out, size_t max);

/* The filesystem under the store: its size and the bytes free.  0, GG_EIO. */
int store_fs_space(struct store *st, uint64_t *total, uint64_t *avail);

/*
 * Pins (pinned != 0) or unpins the blobs of the files of repo at rev
 * (resolved as store_resolve_rev does) whose paths match one of the
 * fnmatch globs (all files when nglobs is 0).  0 with *rep filled,
 * GG_ENOENT (unknown repo or rev), GG_EDB.
 */
struct store_pin_report {
	char commit[GG_SHA1_HEX + 1];
	uint64_t files, blobs, bytes;
};
int store_pin_files(struct store *st, enum repo_type type, const char *repo, const char *rev,
		    const char *const *globs, size_t nglobs, int pinned,
		    struct store_pin_report *rep);

/* --- a shared blob store below the local one (tier.c) -------------------- */

/*
 * With a blob store (an S3 bucket, server/bucket.c), the local store is a
 * hot tier: a blob is evictable only once its record says it is in the
 * bucket (store_set_bucket_guard(st, 1), before the store is shared by
 * threads).  store_mark_in_bucket sets or clears that mark in the blob's
 * record: 0, GG_ENOENT (no record), GG_EINVAL, GG_EDB.  The landed hook
 * (NULL: none) is called, in the thread that made it durable, for every
 * blob that became durable in the store (a fetch, an upload, an import);
 * it must be quick and must not write to the store.
 */
void store_set_bucket_guard(struct store *st, int on);
int store_mark_in_bucket(struct store *st, const char *sha256, int in);
void store_set_landed_hook(struct store *st, void (*cb)(void *ctx, const char *sha256), void *ctx);

/* --- cached upstream answers and the upload journal ---------------------- */

/* index_meta_get / _put in their own transaction (see index.h). */
int store_meta_get(struct store *st, enum repo_type type, const char *repo, const char *key,
		   struct index_meta *out);
int store_meta_put(struct store *st, enum repo_type type, const char *repo, const char *key,
		   const struct index_meta *rec);

/* Upload job states (index_upload.state). */
#define STORE_JOB_PENDING 0u
#define STORE_JOB_PUBLISHING 1u
#define STORE_JOB_DONE 2u
#define STORE_JOB_FAILED 3u

/* The journal: index_upload_get / _put / _foreach / _last_id, each in its
 * own transaction.  In foreach, rec->data is borrowed for the call. */
int store_upload_get(struct store *st, uint64_t id, struct index_upload *out);
int store_upload_put(struct store *st, uint64_t id, const struct index_upload *rec);
int store_upload_foreach(struct store *st,
			 int (*cb)(void *ctx, uint64_t id, const struct index_upload *rec),
			 void *ctx);
int store_upload_last_id(struct store *st, uint64_t *id);

/* The audit log (index.h: audit): an act appended in its own write
 * transaction, stamped with the time now; *seq is its number.  Read in
 * seq order after after (0: all); data is borrowed for the call. */
int store_audit_append(struct store *st, const char *data, size_t len, uint64_t *seq);
int store_audit_foreach(struct store *st, uint64_t after,
			int (*cb)(void *ctx, uint64_t seq, uint64_t time, const char *data,
				  size_t len),
			void *ctx);

/*
 * True if path is a valid file path inside a repo: 1..GG_MAX_REPO_PATH_LEN
 * bytes of UTF-8, no leading or trailing "/", no empty, "." or ".."
 * component, no control characters or backslashes.
 */
int store_valid_path(const char *path);

#endif
