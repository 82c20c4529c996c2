/*
 * index.h: the LMDB index of the store.
 *
 * One LMDB environment in <store>/index/, with named databases.  Keys are
 * byte strings built in one place (index.c key_make): fields separated by
 * NUL, type first, so all of a repo's (or a commit's) entries are
 * contiguous and sorted.  Values are little-endian, versioned records
 * (first byte = record version).  Layout, format GG_INDEX_FORMAT = 1:
 *
 *   info     "format"                      -> u32 format version
 *   refs     T \0 repo \0 ref              -> v1 | commit[40] | u64 updated_at
 *   commits  T \0 repo \0 commit[40]       -> v1 | u64 created_at | parent[40]
 *                                             | u16 len | title
 *   files    T \0 repo \0 commit[40] \0 P  -> v1 | u8 flags | u64 size
 *                                             | sha256[64] | oid[40]
 *                                             | u16 len | path
 *   blobs    sha256[64]                    -> v1 | u64 size | u32 refcount
 *                                             | u64 last_access | u8 pinned
 *                                             | u8 has_gguf | gguf summary
 *                                             [| u64 hits] (absent: 0)
 *                                             [| u8 flags] (absent: 0; bit 0:
 *                                             the blob is in the blob store)
 *   meta     T \0 repo \0 "meta" \0 K      -> v1 | u64 fetched_at | u16 status
 *                                             | u16 len | aux | u32 len | data
 *   tokens   name                          -> v1 | u8 scope | u64 created_at
 *                                             | u8 revoked | sha256(token)[32]
 *                                             [| u16 len | bounds] (absent: none)
 *   uploads  u64 id (big-endian)           -> v1 | u8 state | u16 attempts
 *                                             | u64 created | u64 updated
 *                                             | u32 len | job (JSON)
 *   audit    u64 seq (big-endian)          -> v1 | u64 time | u32 len | act (JSON)
 *            (append only: seq = the last + 1, from 1; the act as
 *            server/audit.c describes it, never a token)
 *   info     "format" (above), "secret"    -> 32 random bytes (HMAC key)
 *
 * T is 'm', 'd' or 's' (model, dataset, space).  P is the file path, cut
 * and suffixed with \x01 + sha256(path) when the key would pass LMDB's
 * 511-byte key limit; the full path is always in the value.
 *
 * A store whose format is newer than this build refuses to open
 * (GG_EVERSION).  Every read copies data out of LMDB before the read
 * transaction ends: records returned here are owned by the caller.
 *
 * Thread safety: an index may be shared by threads (MDB_NOTLS); a
 * transaction belongs to one thread at a time; one write transaction at a
 * time across the process (LMDB serialises writers).
 */
#ifndef GG_INDEX_H
#define GG_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "gguf.h"
#include "gg_limits.h"

enum repo_type { REPO_MODEL = 0, REPO_DATASET = 1, REPO_SPACE = 2 };

struct index;
struct index_txn;

struct index_ref {
	char commit[GG_SHA1_HEX + 1];
	uint64_t updated_at;
};

struct index_commit {
	uint64_t created_at;
	char parent[GG_SHA1_HEX + 1]; /* "" for a root commit */
	char title[256];
};

#define INDEX_FILE_LFS 0x01

struct index_file {
	unsigned flags; /* INDEX_FILE_* */
	uint64_t size;
	char sha256[GG_SHA256_HEX + 1]; /* content hash: names the blob */
	char oid[GG_SHA1_HEX + 1];      /* git blob oid (of the pointer, if LFS) */
};

struct index_blob {
	uint64_t size;
	uint32_t refcount;    /* files entries naming it */
	uint64_t last_access; /* unix seconds: created, or last served */
	uint64_t hits;        /* times served from the store */
	int pinned;
	int has_gguf;
	struct gguf_summary gguf;
	int in_bucket; /* stored in the shared blob store (s3.h) */
};

/*
 * Opens (creating) the environment in dir.  Returns 0 and *out, or
 * GG_EVERSION (newer format), GG_EDB, GG_EIO.
 */
int index_open(const char *dir, struct index **out);
void index_close(struct index *idx);

/* Transactions.  commit and abort free the txn; abort accepts NULL. */
int index_txn_begin(struct index *idx, int write, struct index_txn **out);
int index_txn_commit(struct index_txn *txn); /* 0, GG_ENOSPC, GG_EDB */
void index_txn_abort(struct index_txn *txn);
/* The snapshot a transaction reads (LMDB's transaction id). */
uint64_t index_txn_id(struct index_txn *txn);
/* The id of the index's last committed transaction, by any process: it
 * changes with every write (a generation for caches), 0 on error. */
uint64_t index_last_txnid(struct index *idx);

/* Each get returns 0 and fills *out, GG_ENOENT, GG_EINVAL (bad key), or
 * GG_EDB / GG_ECORRUPT (a record this build cannot decode). */
int index_ref_get(struct index_txn *t, enum repo_type type, const char *repo, const char *ref,
		  struct index_ref *out);
int index_ref_put(struct index_txn *t, enum repo_type type, const char *repo, const char *ref,
		  const struct index_ref *rec);
/* 0, GG_ENOENT (no such ref), GG_EINVAL, GG_EDB. */
int index_ref_del(struct index_txn *t, enum repo_type type, const char *repo, const char *ref);
int index_ref_foreach(struct index_txn *t, enum repo_type type, const char *repo,
		      int (*cb)(void *ctx, const char *ref, const struct index_ref *rec),
		      void *ctx);

int index_commit_get(struct index_txn *t, enum repo_type type, const char *repo, const char *commit,
		     struct index_commit *out);
int index_commit_put(struct index_txn *t, enum repo_type type, const char *repo, const char *commit,
		     const struct index_commit *rec);
int index_commit_foreach(struct index_txn *t, enum repo_type type, const char *repo,
			 int (*cb)(void *ctx, const char *commit, const struct index_commit *rec),
			 void *ctx);
/* Every repo that has at least one commit, in key order. */
int index_repo_foreach(struct index_txn *t,
		       int (*cb)(void *ctx, enum repo_type type, const char *repo), void *ctx);

int index_file_get(struct index_txn *t, enum repo_type type, const char *repo, const char *commit,
		   const char *path, struct index_file *out);
/* Adds or replaces an entry; keeps blobs.refcount in step.  The blob
 * record must exist (GG_ENOENT otherwise).  An existing entry this build
 * cannot decode is left alone: GG_ECORRUPT. */
int index_file_put(struct index_txn *t, enum repo_type type, const char *repo, const char *commit,
		   const char *path, const struct index_file *rec);
/*
 * Calls cb for the files of a commit in path order (paths cut for the key
 * limit may sort slightly out of order), starting strictly after `after`
 * when it is not NULL.  The path is borrowed for the call.  cb returns 0
 * to go on, 1 to stop (index_file_foreach then returns 0), or an error.
 */
int index_file_foreach(struct index_txn *t, enum repo_type type, const char *repo,
		       const char *commit, const char *after,
		       int (*cb)(void *ctx, const char *path, const struct index_file *rec),
		       void *ctx);

int index_blob_get(struct index_txn *t, const char *sha256, struct index_blob *out);
int index_blob_put(struct index_txn *t, const char *sha256, const struct index_blob *rec);
int index_blob_del(struct index_txn *t, const char *sha256);
int index_blob_foreach(struct index_txn *t,
		       int (*cb)(void *ctx, const char *sha256, const struct index_blob *rec),
		       void *ctx);

/*
 * Cached upstream answers (API JSON as served, compressed by the caller).
 * key is any string (endpoint, revision, query); longer than the key limit
 * it is hashed.  aux is a short string kept beside (e.g. a Link header).
 */
struct index_meta {
	uint64_t fetched_at;
	unsigned status;
	char aux[2048];
	void *data; /* index_meta_get: malloc'ed copy, caller frees */
	size_t len;
};
int index_meta_get(struct index_txn *t, enum repo_type type, const char *repo, const char *key,
		   struct index_meta *out);
int index_meta_put(struct index_txn *t, enum repo_type type, const char *repo, const char *key,
		   const struct index_meta *rec);

/* Gateway credentials: only a hash of each token is kept. */
struct index_token {
	unsigned scope; /* 1 read, 2 upload, 3 admin */
	uint64_t created_at;
	int revoked;
	unsigned char hash[32];
	char bounds[GG_MAX_TOKEN_BOUNDS + 1]; /* token.h: "" for none */
};
int index_token_get(struct index_txn *t, const char *name, struct index_token *out);
int index_token_put(struct index_txn *t, const char *name, const struct index_token *rec);
int index_token_foreach(struct index_txn *t,
			int (*cb)(void *ctx, const char *name, const struct index_token *rec),
			void *ctx);

/* The upload journal.  data is the job as the gateway describes it. */
struct index_upload {
	unsigned state;
	unsigned attempts;
	uint64_t created_at;
	uint64_t updated_at;
	void *data; /* index_upload_get/foreach: malloc'ed / borrowed for the call */
	size_t len;
};
int index_upload_get(struct index_txn *t, uint64_t id, struct index_upload *out);
int index_upload_put(struct index_txn *t, uint64_t id, const struct index_upload *rec);
/* In id order; rec->data is borrowed for the call. */
int index_upload_foreach(struct index_txn *t,
			 int (*cb)(void *ctx, uint64_t id, const struct index_upload *rec),
			 void *ctx);
/* The largest id in use, 0 if none. */
int index_upload_last_id(struct index_txn *t, uint64_t *id);

/* The audit log: appends text (one act) as the next sequence number
 * (*seq); in seq order, from after+1, data borrowed for the call. */
int index_audit_append(struct index_txn *t, uint64_t time, const char *data, size_t len,
		       uint64_t *seq);
int index_audit_foreach(struct index_txn *t, uint64_t after,
			int (*cb)(void *ctx, uint64_t seq, uint64_t time, const char *data,
				  size_t len),
			void *ctx);

/* Small opaque values in the info database ("secret"). */
int index_info_get(struct index_txn *t, const char *key, void *buf, size_t size, size_t *len);
int index_info_put(struct index_txn *t, const char *key, const void *data, size_t len);

/* 'm', 'd', 's' */
char index_type_char(enum repo_type type);
/* "model", "dataset", "space" (the Hub's repo type names), and back:
 * 0, or GG_EINVAL for any other name. */
const char *index_type_name(enum repo_type type);
int index_type_parse(const char *name, enum repo_type *out);

#endif
