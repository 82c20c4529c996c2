/*
 * journal.h: the upload journal, one C struct per job.
 *
 * Every upload through the gateway is a job: who sent it, where it goes,
 * its files (staged blobs, by content hash) and, once published, the
 * upstream commit.  A job is journaled before it goes upstream, so that a
 * stop or a crash cannot lose it, and a job caught publishing is retried
 * with an exactly-once check at the next start (server/uploadq.c).
 *
 * On disk a job is a record of the index's uploads database (index.h):
 * state, attempts and times in the record, the job itself as JSON, the
 * same JSON GET /api/ggufd/uploads shows:
 *
 *   {"id":7,"state":"done","by":"ci","client":"10.0.0.7","type":"model",
 *    "repo":"ruv/ruvltra",
 *    "revision":"main","summary":"...","description":"","created":1764350000,
 *    "attempts":1,"next_at":0,"retry":true,"create_pr":false,
 *    "parentCommit":"","files":[{"path":"ruvltra-0.5b-q4_k_m.gguf","lfs":true,
 *    "sha256":"<64 hex>","gitsha1":"","size":397000000}],
 *    "commit":"<40 hex>","commitUrl":"...","error":"..."}
 *
 * journal_encode and journal_decode are the only functions that touch that
 * JSON; everything else works on struct upload_job.
 *
 * Thread safety: a job belongs to its caller; the journal functions that
 * take a store use their own transactions.
 */
#ifndef GG_JOURNAL_H
#define GG_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "gg_limits.h"
#include "index.h"
#include "store.h"
#include "token.h"

struct upload_file {
	char path[GG_MAX_REPO_PATH_LEN + 1];
	int deleted;                    /* a deletion: no content */
	int folder;                     /* a deleted folder */
	int lfs;                        /* an LFS file (else a regular one) */
	char sha256[GG_SHA256_HEX + 1]; /* the staged blob */
	char gitsha1[GG_SHA1_HEX + 1];  /* regular files: the git blob id */
	uint64_t size;
	int overwrite; /* replaces a published file on a protected branch (admin) */
	int fresh;     /* not journaled: a new blob the request staged (gateway.c) */
};

struct upload_job {
	uint64_t id;
	unsigned state;    /* STORE_JOB_* (store.h) */
	unsigned attempts; /* publish attempts so far */
	uint64_t created;
	uint64_t next_at; /* a pending job is retried from then on */
	int retry;        /* retried by the worker when upstream is down (plain PUT) */
	int create_pr;
	char by[TOKEN_NAME_MAX + 1];
	char client[GG_MAX_CLIENT_ADDR + 1]; /* the sender's address, "" if unknown */
	enum repo_type type;
	char repo[GG_MAX_REPO_LEN + 1];
	char rev[GG_MAX_REV_LEN + 1];
	char summary[512];
	char description[2048];
	char parent[GG_SHA1_HEX + 1]; /* parentCommit asked for, "" for none */
	/* The result. */
	char commit[GG_SHA1_HEX + 1];
	char commit_url[512];
	char error[512];
	struct upload_file *files;
	size_t nfiles, cap;
};

/* A new job (state pending, created now, no files).  Strings are cut to
 * their fields.  Free with journal_job_free. */
void journal_job_init(struct upload_job *j, uint64_t id, const char *by, enum repo_type type,
		      const char *repo, const char *rev, const char *summary,
		      const char *description, int retry);
/* Appends a copy of f. */
void journal_job_add(struct upload_job *j, const struct upload_file *f);
/* Appends a file with content (gitsha1 NULL for LFS files), or a deletion. */
void journal_job_add_file(struct upload_job *j, const char *path, int lfs, const char *sha256,
			  const char *gitsha1, uint64_t size);
void journal_job_add_deletion(struct upload_job *j, const char *path, int folder);
/* Frees the files; j can be reused after journal_job_init.  Accepts a
 * zeroed job. */
void journal_job_free(struct upload_job *j);

/* "pending", "publishing", "done", "failed" */
const char *journal_state_name(unsigned state);

/* The job as JSON text (the layout above); caller frees. */
char *journal_encode(const struct upload_job *j);
/*
 * Parses JSON text into *out (initialised here; free with
 * journal_job_free).  Unknown fields are ignored; a missing or mistyped
 * id, repo or file field is GG_ECORRUPT.  The record's state (not the
 * text's) is the truth: the caller sets out->state from it.
 */
int journal_decode(const char *text, size_t len, struct upload_job *out);

/* Writes the job (its state, attempts and created time into the record
 * too) in its own transaction.  0, GG_EDB, GG_ENOSPC. */
int journal_put(struct store *st, const struct upload_job *j);
/* Reads job id.  0, GG_ENOENT, GG_ECORRUPT, GG_EDB. */
int journal_get(struct store *st, uint64_t id, struct upload_job *out);

#endif
