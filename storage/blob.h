/*
 * blob.h: the content-addressed blob files.
 *
 * A blob is an immutable file named by the lowercase hex sha256 of its
 * bytes:  <root>/blobs/sha256/<first two hex>/<64 hex>.
 *
 * A writer streams bytes into <root>/tmp/<random>.tmp, hashing them
 * (sha256, and the git blob sha1 when the size is known in advance) as
 * they are written.  blob_writer_finish() fsyncs the file, checks the
 * digests against what the caller expected, renames it into place and
 * fsyncs the directory; only then may the caller index it.  A crash at any
 * instant leaves either no blob or a complete one, plus at most a *.tmp
 * file that blob_store_open() removes at the next start.
 *
 * Nothing in this module takes a name from a request: callers pass a
 * 64-hex digest, which is checked before any path is built.
 *
 * Thread safety: a blob_store may be shared by threads once opened; a
 * blob_writer belongs to one thread.
 */
#ifndef GG_BLOB_H
#define GG_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "gg_limits.h"

struct blob_store;
struct blob_writer;

struct blob_digest {
	char sha256[GG_SHA256_HEX + 1];
	char gitsha1[GG_SHA1_HEX + 1]; /* "" when the size was not known */
	uint64_t size;
};

/*
 * Opens (creating if needed) the blob area under root: blobs/sha256/,
 * tmp/, quarantine/.  Removes leftover tmp/ (*.tmp) files from writers that
 * never finished.  Returns 0 and *out (free with blob_store_close), or
 * GG_EIO.
 */
int blob_store_open(const char *root, struct blob_store **out);
void blob_store_close(struct blob_store *bs);

/*
 * Starts a writer.  size_hint is the final size if known (then the git
 * blob sha1 is computed on the fly), or -1.  Returns 0 or GG_EIO.
 */
int blob_writer_open(struct blob_store *bs, int64_t size_hint, struct blob_writer **out);
/* Appends n bytes.  0, GG_EIO, GG_ENOSPC, or GG_ETOOBIG past size_hint. */
int blob_writer_write(struct blob_writer *w, const void *data, size_t n);
/*
 * Completes the blob: fsync, digest check, rename, fsync(dir).  If
 * expect_sha256 (or expect_gitsha1) is not NULL and differs, the temp file
 * is removed and GG_ECORRUPT returned.  A short write against size_hint is
 * GG_ECORRUPT too.  If the blob already exists the new copy is dropped
 * (same bytes by construction).  Fills *out.  The writer is freed in every
 * case.
 */
int blob_writer_finish(struct blob_writer *w, const char *expect_sha256, const char *expect_gitsha1,
		       struct blob_digest *out);
/* Drops an unfinished writer and its temp file.  Accepts NULL. */
void blob_writer_abort(struct blob_writer *w);

/*
 * Opens a blob for reading: O_RDONLY, fstat'ed, must be a regular file.
 * Returns 0 with *fd (caller closes) and *size, or GG_ENOENT, GG_EINVAL
 * (not 64 lowercase hex), GG_EIO.
 */
int blob_open(struct blob_store *bs, const char *sha256, int *fd, uint64_t *size);
/* 1 if the blob file exists. */
int blob_exists(struct blob_store *bs, const char *sha256);
/* blob_open through a cache of open descriptors (a dup of the cached one:
 * the caller owns *fd).  Removals in this process drop the cache entry
 * first.  0, GG_ENOENT, GG_EIO, GG_EINVAL. */
int blob_open_cached(struct blob_store *bs, const char *sha256, int *fd, uint64_t *size);
/*
 * A blob's descriptor lent for reads with pread (no file position): the
 * cached one when it can be (no dup, no open), else one opened for the
 * borrower alone.  The descriptor stays open, and the cache entry in
 * place, until blob_borrow_put; never close it, lseek it or hand it to a
 * response that outlives the borrow (dup it for that).  0 with *out (fd,
 * size), GG_ENOENT, GG_EIO, GG_EINVAL.
 */
struct blob_fd {
	int fd;   /* -1: none */
	int slot; /* the cache slot borrowed, -1: fd is the borrower's own */
	uint64_t size;
};
int blob_borrow(struct blob_store *bs, const char *sha256, struct blob_fd *out);
/* Returns a borrowed descriptor; accepts one with fd -1. */
void blob_borrow_put(struct blob_store *bs, struct blob_fd *b);
/*
 * Re-reads the blob and recomputes its digests (for verify).  Returns 0
 * and *out, or GG_ENOENT, GG_EIO.
 */
int blob_rehash(struct blob_store *bs, const char *sha256, struct blob_digest *out);
/* Moves a blob to quarantine/ (kept for inspection).  0, GG_ENOENT, GG_EIO. */
int blob_quarantine(struct blob_store *bs, const char *sha256);
/* Removes a blob file.  0, GG_ENOENT, GG_EIO. */
int blob_remove(struct blob_store *bs, const char *sha256);
/* Removes partial downloads and multipart assemblies (tmp/ *.part, *.asm)
 * last written before tmp_cutoff, and quarantined files before
 * quarantine_cutoff (unix seconds), adding to *files and *bytes. */
void blob_sweep_stale(struct blob_store *bs, uint64_t tmp_cutoff, uint64_t quarantine_cutoff,
		      uint64_t *files, uint64_t *bytes);

/*
 * Calls cb for every blob file present, with its digest name (borrowed for
 * the call).  Stops and returns cb's value if non-zero.
 */
int blob_foreach(struct blob_store *bs, int (*cb)(void *ctx, const char *sha256), void *ctx);

/* Copies the file at src into the store, hashing once while copying.
 * Same contract as blob_writer_finish.  With link_ok the bytes are not
 * copied where the filesystem allows: a reflink, else a hard link to src
 * (then src must not be written in place afterwards).  *how says which
 * ("copied", "reflinked", "hard-linked", "already stored", ...). */
int blob_import_path(struct blob_store *bs, const char *src, const char *expect_sha256,
		     const char *expect_gitsha1, int link_ok, struct blob_digest *out,
		     const char **how);

/*
 * Puts a copy of a blob at dst (a path outside the store, which must not
 * exist yet): with link_ok a hard link to the blob where dst is on the
 * store's filesystem (the exported file IS the blob then: writing to it in
 * place would change the blob, which ggufd verify reports), else a copy
 * written to "dst.incomplete" and renamed.  *how says which ("hard-linked",
 * "copied").  0, GG_ENOENT (no such blob), GG_EEXIST (dst exists), GG_EIO,
 * GG_EINVAL (not a blob name, or a path too long).
 */
int blob_export(struct blob_store *bs, const char *sha256, const char *dst, int link_ok,
		const char **how);

/* The git blob sha1 of an LFS pointer for (sha256, size), and its length. */
void blob_lfs_pointer_oid(const char *sha256, uint64_t size, char oid[GG_SHA1_HEX + 1],
			  size_t *pointer_size);

/*
 * Partial files: downloads that survive restarts.  tmp/<key>.part holds
 * the first bytes of a blob whose content must hash to key (64-hex
 * sha256, or 40-hex git blob sha1) and whose final size is known.  The
 * writer appends; readers may open blob_partial_path() and read any byte
 * below blob_partial_length().  The hash follows behind the writer, on
 * the writer's copy of the bytes (blob_partial_hash_data) or reading
 * them back from the file (blob_partial_hash), and may run on a thread of
 * its own while the writer goes on; blob_partial_verify hashes whatever
 * it left.
 *
 * Thread safety: one writer (write, reset, length, verify, finish,
 * close, discard) and at most one hasher (the blob_partial_hash*
 * functions), which may be two threads: they share no field.  The caller
 * tells the hasher what was written (the hasher never reads the writer's
 * length), and the hasher must be idle during reset and have stopped
 * before verify, finish, close or discard.
 */
struct blob_partial;

/*
 * Opens tmp/<key>.part, creating it, or resuming it: bytes already there
 * are re-hashed (read once) and kept; a partial longer than size is
 * emptied.  *have receives the length kept.  Returns 0, GG_EINVAL (key is
 * not a digest), GG_EIO.
 */
int blob_partial_open(struct blob_store *bs, const char *key, uint64_t size,
		      struct blob_partial **out, uint64_t *have);
/* Appends n bytes (not hashed yet).  0, GG_ETOOBIG past size, GG_EIO,
 * GG_ENOSPC. */
int blob_partial_write(struct blob_partial *p, const void *data, size_t n);
/*
 * Hashes the bytes from blob_partial_hashed() up to upto, which must have
 * been written (and published to this thread by the caller), reading them
 * from the file.  0, or GG_EIO (a read failed: sticky until a reset, and
 * verify fails).
 */
int blob_partial_hash(struct blob_partial *p, uint64_t upto);
/*
 * Hashes n bytes from memory: they must be the bytes blob_partial_write
 * wrote at blob_partial_hashed() (the caller's copy of what it wrote), so
 * that the hash needs no read back.  Cannot fail.
 */
void blob_partial_hash_data(struct blob_partial *p, const void *data, size_t n);
/* Bytes hashed so far (the hasher's; 0 after a reset). */
uint64_t blob_partial_hashed(const struct blob_partial *p);
/* Empties the partial (an upstream that ignored our Range) and restarts
 * the hash.  0 or GG_EIO. */
int blob_partial_reset(struct blob_partial *p);
uint64_t blob_partial_length(const struct blob_partial *p);
/* The partial's path, for readers (valid until finish/close/discard). */
const char *blob_partial_path(const struct blob_partial *p);
/*
 * Checks the complete partial against its key, without publishing it,
 * hashing first what blob_partial_hash has not: 0 and *out, GG_ECORRUPT
 * (short, or the hash differs; the partial must then be discarded) or
 * GG_EIO (the file could not be read back).  gitsha1 is filled only for
 * a git-sha1 key.
 */
int blob_partial_verify(struct blob_partial *p, struct blob_digest *out);
/*
 * Completes the blob: the length must equal size and the digest the key;
 * then fsync, rename to blobs/sha256/, fsync(dir).  On a mismatch (or a
 * read-back failure) the partial is removed and GG_ECORRUPT (GG_EIO)
 * returned.  Frees p in every case.
 */
int blob_partial_finish(struct blob_partial *p, struct blob_digest *out);
/* Closes, keeping the partial for a later resume.  Accepts NULL. */
void blob_partial_close(struct blob_partial *p);
/* Closes and removes the partial.  Accepts NULL. */
void blob_partial_discard(struct blob_partial *p);

/*
 * Multipart uploads: parts land at their offsets in tmp/<sha256>.asm, a
 * sparse file of the final size, in any order.  blob_asm_finish reads it
 * once, checks the sha256, and publishes it as a blob (fsync, rename,
 * fsync dir).  A missing part leaves zeros, which fail the check.
 */
struct blob_asm_part;
/* 0, GG_EINVAL (bad digest or a part outside size), GG_EIO. */
int blob_asm_part_open(struct blob_store *bs, const char *sha256, uint64_t size, uint64_t offset,
		       uint64_t len, struct blob_asm_part **out);
/* 0, GG_ETOOBIG past the part's length, GG_EIO, GG_ENOSPC. */
int blob_asm_part_write(struct blob_asm_part *p, const void *data, size_t n);
/* The part must be complete; etag gets the part's sha256.  Frees p.
 * 0, GG_ECORRUPT (short), GG_EIO. */
int blob_asm_part_finish(struct blob_asm_part *p, char etag[GG_SHA256_HEX + 1]);
void blob_asm_part_abort(struct blob_asm_part *p);
/* 0, GG_ENOENT (no parts), GG_ECORRUPT (hash or size mismatch: the
 * assembly is removed), GG_EIO. */
int blob_asm_finish(struct blob_store *bs, const char *sha256, uint64_t size,
		    struct blob_digest *out);

/* Test hook: called at named crash points ("written", "synced", "renamed")
 * when set; a test may _exit() inside it to simulate a crash. */
extern void (*blob_crash_hook)(const char *point);

#endif
