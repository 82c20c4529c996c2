/*
 * resolve.c: HEAD/GET /{repo}/resolve/{rev}/{path} and /raw/, answered
 * from the store with no redirect (HF-PROTOCOL.md 2.8).
 *
 *   HTTP/1.1 200 OK                         HTTP/1.1 206 Partial Content
 *   Content-Length: 2825940544              Content-Range: bytes 0-0/2825940544
 *   Content-Type: application/octet-stream  Content-Length: 1
 *   Accept-Ranges: bytes                    (same identity headers)
 *   ETag: "<sha256>"          (LFS) or "<git blob sha1>" (regular file)
 *   X-Linked-Etag: "<sha256>"               (LFS only)
 *   X-Linked-Size: 2825940544               (LFS only)
 *   X-Repo-Commit: <40 hex>
 *   Content-Disposition: inline; filename*=UTF-8''<name>; filename="<name>"
 *
 * HEAD carries exactly the GET headers with the real Content-Length.
 * The answer itself (ranges, sendfile, streaming a fetch) is serve.c's;
 * this file finds the file.
 *
 * /raw/ serves the git blob: for an LFS file that is the pointer text.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "fetch.h"
#include "http.h"
#include "huberr.h"
#include "store.h"
#include "log.h"
#include "range.h"
#include "resolve.h"
#include "serve.h"

/* --- finding the file: index first, upstream when the index cannot tell ---- */

struct target {
	char commit[GG_SHA1_HEX + 1];
	int known; /* f is valid (from the index) */
	int stale; /* known, but upstream rate-limits us: not checked */
	struct index_file f;
	int remote; /* a regular file known only from upstream: */
	char gitsha1[GG_SHA1_HEX + 1];
	uint64_t size;
};

static int
is_commit(const char *s)
{
	return strlen(s) == GG_SHA1_HEX && is_lower_hex(s, GG_SHA1_HEX);
}

/*
 * Fills *tg for the route, or queues an error and returns -1.  Order: the
 * index (40-hex commits and fresh branch answers are trusted), then a
 * no-follow HEAD upstream, then, if upstream cannot be reached, what the
 * index knows even if stale.
 */
static int
find_target(struct req *r, struct target *tg, enum MHD_Result *res)
{
	struct store *st = r->app->st;
	struct upstream *up = app_upstream(r->app);
	struct upstream_resp ur;
	struct store_lookup lk;
	const char *rev = r->route.rev;
	const char *prefix = route_type_prefix(r->route.type);
	const char *ask;
	int known_repo, rc, frc, fresh = 0, pinned = is_commit(rev);

	memset(tg, 0, sizeof(*tg));
	if ((rc = store_lookup_file(st, r->route.type, r->route.repo, rev, r->route.path, &lk)) !=
	    GG_OK) {
		*res = http_error_from(r, rc, "index");
		return -1;
	}
	rc = lk.rev_rc;
	frc = lk.file_rc;
	known_repo = lk.repo_known;
	memcpy(tg->commit, lk.commit, sizeof(tg->commit));
	tg->f = lk.file;
	/* A commit (or prefix) never changes; a ref is fresh for the TTL. */
	if (rc == GG_OK)
		fresh = pinned || r->app->up == NULL || lk.ref_time == 0 ||
			now_unix() - lk.ref_time < r->app->ref_ttl;

	if (r->app->up == NULL) {
		/* A local registry: the store is the whole truth. */
		if (rc != GG_OK)
			*res = hub_rev_error(r, rc, known_repo);
		else if (frc == GG_ENOENT || frc == GG_EINVAL)
			*res = hub_not_found(r, HUB_ENTRY, tg->commit);
		else if (frc != GG_OK)
			*res = http_error_from(r, frc, "index lookup");
		else
			tg->known = 1;
		return tg->known ? 0 : -1;
	}
	if (rc == GG_OK && frc == GG_OK && (fresh || up == NULL)) {
		tg->known = 1;
		return 0;
	}
	if (up == NULL) {
		*res = hub_not_found(r, rc == GG_OK ? HUB_ENTRY : HUB_REVISION, NULL);
		return -1;
	}
	/* Ask upstream: by commit when the commit is settled, else by rev. */
	ask = rc == GG_OK && fresh ? tg->commit : rev;
	if (upstream_head_file(up, prefix, r->route.repo, ask, r->route.path, &ur) != GG_OK) {
		if (rc == GG_OK && frc == GG_OK) {
			log_info("upstream %s: serving %s%s@%s from the last known commit %.12s",
				 ur.status == 429 ? "rate-limits us" : "unreachable", prefix,
				 r->route.repo, rev, tg->commit);
			tg->known = 1;
			tg->stale = ur.status == 429;
			return 0;
		}
		if (ur.status == 429) {
			*res = hub_rate_limited(r, ur.retry_after, ur.error_message);
			return -1;
		}
		*res = hub_not_found(r, rc == GG_OK ? HUB_ENTRY : HUB_REVISION, NULL);
		return -1;
	}
	if (ur.repo_commit[0] != '\0' && !is_commit(ask) && strcmp(rev, "HEAD") != 0 &&
	    (ur.status < 400 || strcmp(ur.error_code, "EntryNotFound") == 0))
		store_set_ref(st, r->route.type, r->route.repo, rev, ur.repo_commit);
	if (ur.status >= 400) {
		*res = hub_relay_resp(r, &ur);
		return -1;
	}
	if (ur.repo_commit[0] == '\0') {
		*res = hub_upstream_bad(r, "Upstream answered without X-Repo-Commit", NULL);
		return -1;
	}
	memcpy(tg->commit, ur.repo_commit, sizeof(tg->commit));
	/* Another revision may have brought this file in already. */
	if (store_file_get(st, r->route.type, r->route.repo, tg->commit, r->route.path, &tg->f) ==
	    GG_OK) {
		tg->known = 1;
		return 0;
	}
	if (ur.linked && strlen(ur.etag) == GG_SHA256_HEX && is_lower_hex(ur.etag, GG_SHA256_HEX) &&
	    ur.has_size) {
		rc = store_record_file(st, r->route.type, r->route.repo, tg->commit, r->route.path,
				       1, ur.etag, NULL, ur.size);
		if (rc != GG_OK) {
			*res = http_error_from(r, rc, "recording upstream metadata");
			return -1;
		}
		memset(&tg->f, 0, sizeof(tg->f));
		tg->f.flags = INDEX_FILE_LFS;
		tg->f.size = ur.size;
		memcpy(tg->f.sha256, ur.etag, sizeof(tg->f.sha256));
		blob_lfs_pointer_oid(ur.etag, ur.size, tg->f.oid, NULL);
		tg->known = 1;
		return 0;
	}
	if (!ur.linked && strlen(ur.etag) == GG_SHA1_HEX && is_lower_hex(ur.etag, GG_SHA1_HEX) &&
	    ur.has_size == 2 && ur.status < 300) {
		memcpy(tg->gitsha1, ur.etag, sizeof(tg->gitsha1));
		tg->size = ur.size;
		tg->remote = 1;
		return 0;
	}
	log_warnx("upstream metadata for %s%s@%s %s cannot be verified (etag \"%s\", status %ld)",
		  prefix, r->route.repo, rev, r->route.path, ur.etag, ur.status);
	*res = hub_upstream_bad(r, "Upstream gave no verifiable hash for this file", tg->commit);
	return -1;
}

enum MHD_Result
resolve_handle(struct req *r)
{
	struct target tg;
	struct serve_id id;
	struct fetch_spec spec;
	enum MHD_Result result;
	uint64_t size;
	int fd = -1, rc;

	if (find_target(r, &tg, &result) != 0)
		return result;

	memset(&id, 0, sizeof(id));
	memset(&spec, 0, sizeof(spec));
	id.commit = tg.commit;
	id.stale = tg.stale;
	id.raw = r->route.kind == ROUTE_RAW;
	id.path = r->route.path;
	spec.type = r->route.type;
	/* A peer fetching a blob it does not own: this node fetches from its
	 * tiers, never from another peer (no loops).  Anyone may send the
	 * header; it only makes this node skip its peers. */
	spec.no_peers = http_header(r, GG_PEER_HEADER) != NULL;
	memcpy(spec.repo, r->route.repo, sizeof(spec.repo));
	memcpy(spec.commit, tg.commit, sizeof(spec.commit));
	memcpy(spec.path, r->route.path, sizeof(spec.path));
	if (tg.remote) {
		/* A regular file upstream has not given us yet. */
		memset(&tg.f, 0, sizeof(tg.f));
		memcpy(tg.f.oid, tg.gitsha1, sizeof(tg.f.oid));
		tg.f.size = tg.size;
	}
	id.linked = (tg.f.flags & INDEX_FILE_LFS) != 0;
	{ /* the quoted hash: 40 or 64 hex digits, which id.etag holds */
		const char *h = (tg.f.flags & INDEX_FILE_LFS) && !id.raw ? tg.f.sha256 : tg.f.oid;
		size_t hl = strnlen(h, GG_SHA256_HEX);
		id.etag[0] = '"';
		memcpy(id.etag + 1, h, hl);
		id.etag[hl + 1] = '"';
		id.etag[hl + 2] = '\0';
	}

	if (range_if_none_match(http_header(r, "If-None-Match"), id.etag)) {
		return serve_not_modified(r, &id, tg.f.size);
	}
	if (id.raw && (tg.f.flags & INDEX_FILE_LFS)) {
		char ptr[256];
		int n = snprintf(
			ptr, sizeof(ptr),
			"version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %llu\n",
			tg.f.sha256, (unsigned long long)tg.f.size);
		/* The pointer text goes through the same range code as files. */
		int mfd = memfd_create("lfs-pointer", MFD_CLOEXEC);
		if (mfd < 0 || write_all(mfd, ptr, (size_t)n) != GG_OK) {
			if (mfd >= 0)
				close(mfd);
			return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
					  "Cannot build the LFS pointer", tg.commit);
		}
		return serve_file(r, &id, (uint64_t)n, mfd, NULL);
	}
	if (tg.remote) {
		memcpy(spec.key, tg.gitsha1, sizeof(tg.gitsha1));
		spec.lfs = 0;
		spec.size = tg.size;
		return serve_fetching(r, &id, &spec);
	}
	rc = serve_hold_blob(r, tg.f.sha256, &fd, &size);
	if (rc == GG_ENOENT) {
		if (r->app->up == NULL)
			return hub_not_found(r, HUB_CONTENT, tg.commit);
		spec.lfs = (tg.f.flags & INDEX_FILE_LFS) != 0;
		memcpy(spec.key, spec.lfs ? tg.f.sha256 : tg.f.oid, sizeof(spec.key));
		spec.size = tg.f.size;
		return serve_fetching(r, &id, &spec);
	}
	if (rc != GG_OK)
		return http_error_from(r, rc, "blob open");
	if (size != tg.f.size) {
		serve_close_fd(r, fd);
		log_warnx("blob %s has %llu bytes, index says %llu: run ggufd verify", tg.f.sha256,
			  (unsigned long long)size, (unsigned long long)tg.f.size);
		return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "Blob size mismatch",
				  tg.commit);
	}
	return serve_file(r, &id, size, fd, NULL);
}
