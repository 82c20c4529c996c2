/*
 * publish.h: publishing a commit to the upstream Hub with the token only
 * ggufd holds (HF-PROTOCOL.md 4.3-4.5), as huggingface_hub would:
 *
 *   POST {up}/{repo}.git/info/lfs/objects/batch   (bearer: the upstream token)
 *     <- objects[]: no actions (already there), or upload.href (+ verify)
 *   PUT  <href>                  basic: the whole file, no Authorization
 *   PUT  <header["00001"]> ...   multipart: each chunk_size slice, ETag kept
 *   POST <href>                  multipart completion {"oid","parts":[...]}
 *   POST <verify.href>           {"oid","size"} (bearer only if on the upstream)
 *   POST {up}/api/{t}s/{repo}/commit/{rev}        NDJSON: header, file, lfsFile,
 *                                                 deletedFile lines
 *     <- {"commitOid","commitUrl"[,"pullRequestUrl"]}
 *
 * File bytes are read from the blob store; regular files go inline
 * (base64) in the commit.
 */
#ifndef GG_PUBLISH_H
#define GG_PUBLISH_H

#include <stdint.h>

#include "gg_limits.h"
#include "index.h"
#include "store.h"
#include "upstream.h"

struct publish_file {
	char path[GG_MAX_REPO_PATH_LEN + 1];
	int lfs;
	char sha256[GG_SHA256_HEX + 1]; /* names the blob in the store */
	uint64_t size;
	int deleted; /* a deletedFile (or deletedFolder) line */
	int folder;
};

struct publish_req {
	enum repo_type type;
	char repo[GG_MAX_REPO_LEN + 1];
	char rev[GG_MAX_REV_LEN + 1];
	char summary[512];
	char description[2048];
	char parent[GG_SHA1_HEX + 1]; /* "" for none */
	int create_pr;
	struct publish_file *files;
	size_t n;
};

struct publish_result {
	char commit[GG_SHA1_HEX + 1];
	char commit_url[512];
	char pr_url[512];
	long status;   /* the failing upstream status; 0 if upstream sent none (unreachable,
			* or an answer ggufd could not use) */
	int transient; /* worth retrying later (unreachable, 5xx, 429) */
	char error[512];
};

/* 0, or GG_EUNAVAIL (transient) / GG_EINVAL (refused) with res->error. */
int publish_run(struct upstream *up, struct store *st, const struct publish_req *req,
		struct publish_result *res);

#endif
