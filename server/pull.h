/*
 * pull.h: filling the store from upstream ahead of time ("prefetch").
 *
 * A pull resolves REV to a commit (GET /api/{type}s/{repo}/revision/{rev}),
 * lists the commit's files (tree, recursive, following Link pages), keeps
 * those matching any include glob, and fetches each through the same
 * single-flight fetcher the server uses, so a pull and clients asking for
 * the same file share one transfer.  Files already in the store are
 * skipped; interrupted pulls resume from their partials.
 *
 * Used by `ggufd pull` and by POST /api/ggufd/pull (jobs in a thread).
 */
#ifndef GG_PULL_H
#define GG_PULL_H

#include <stdint.h>

#include "fetch.h"
#include "index.h"
#include "store.h"
#include "upstream.h"

#define PULL_MAX_GLOBS 64

struct pull_req {
	enum repo_type type;
	char repo[GG_MAX_REPO_LEN + 1];
	char rev[GG_MAX_REV_LEN + 1];
	char *globs[PULL_MAX_GLOBS]; /* borrowed */
	int nglobs;
	int pin;
};

struct pull_events {
	/* All optional.  Called from the pulling thread. */
	void (*listed)(void *ctx, const char *commit, size_t files, uint64_t bytes);
	void (*progress)(void *ctx, const char *path, uint64_t got, uint64_t size, int final);
	void (*skipped)(void *ctx, const char *path, uint64_t size); /* already here */
	void (*failed)(void *ctx, const char *path, const char *why);
	void *ctx;
};

struct pull_report {
	char commit[GG_SHA1_HEX + 1];
	size_t files;
	size_t fetched;
	size_t skipped;
	size_t failed;
	uint64_t bytes;
	char error[512]; /* why the pull could not start, "" otherwise */
};

/* Runs a pull to its end.  Returns 0 if every file is in the store,
 * GG_EUNAVAIL / GG_ENOENT / GG_EFORMAT if the listing failed (rep->error
 * says why), GG_EIO if some files failed (rep->failed). */
int pull_run(struct store *st, struct upstream *up, struct fetcher *fm, const struct pull_req *req,
	     const struct pull_events *ev, struct pull_report *rep);

/* Parses the glob list etc. from nothing: helpers for the HTTP job API. */
struct pull_jobs;
struct pull_jobs *pull_jobs_new(struct store *st, struct upstream *up, struct fetcher *fm);
void pull_jobs_free(struct pull_jobs *j);
/* Starts a job; returns its id (> 0) or a negative GG_E* code. */
long pull_jobs_start(struct pull_jobs *j, const struct pull_req *req);
/*
 * The jobs as a JSON array, newest first (malloc'ed), or one job (id > 0;
 * NULL if unknown):
 *   {"id","repo","revision","include":[globs],"pin","started":<unix>,
 *    "state":"running"|"done"|"failed","commit"?,"files","bytes",
 *    "done","fetched","skipped","failed","bytesDone","error"?}
 * While a job runs, "files" and "bytes" are 0 until the listing is in,
 * then the counts move as each file is fetched, found here or fails, and
 * "bytesDone" counts the bytes of the finished files and those landed of
 * the one being fetched.
 */
char *pull_jobs_json(struct pull_jobs *j, long id);

#endif
