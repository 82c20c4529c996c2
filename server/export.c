/*
 * export.c: a repo revision from the store written out as a
 * huggingface_hub cache (export.h).
 *
 * The layout is huggingface_hub's own (file_download.py): one folder per
 * repo named "<type>s--" + the repo id with "/" as "--"; blobs named by
 * the etag the Hub gives a file (the sha256 for LFS files, the git blob
 * sha1 for the rest); snapshots/<commit>/<path> a relative symlink to its
 * blob; refs/<revision> the commit of a branch or tag name.  Nothing is
 * removed: files of other revisions already in the cache stay, a blob
 * already there is kept (it is named by its hash), and a snapshot link is
 * replaced only if it points elsewhere.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export.h"
#include "log.h"
#include "route.h"
#include "util.h"

struct exp_file {
	char *path;
	struct index_file f;
};

struct exp_list {
	struct exp_file *v;
	size_t n, cap;
	char *const *globs;
	int nglobs;
};

static int
exp_matches(const char *path, char *const *globs, int nglobs)
{
	const char *base = strrchr(path, '/');

	if (nglobs == 0)
		return 1;
	for (int i = 0; i < nglobs; i++)
		if (fnmatch(globs[i], path, 0) == 0 ||
		    (base && fnmatch(globs[i], base + 1, 0) == 0))
			return 1;
	return 0;
}

static int
exp_collect(void *ctx, const char *path, const struct index_file *f)
{
	struct exp_list *l = ctx;

	if (!exp_matches(path, l->globs, l->nglobs))
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n].path = xstrdup(path);
	l->v[l->n].f = *f;
	l->n++;
	return 0;
}

/* Writes text to path through path.tmp and a rename. */
static int
write_small(const char *path, const char *text)
{
	char *tmp = xasprintf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), r = GG_EIO;

	if (fd >= 0) {
		if (write_all(fd, text, strlen(text)) == GG_OK && close(fd) == 0) {
			fd = -1;
			if (rename(tmp, path) == 0)
				r = GG_OK;
		}
		if (fd >= 0)
			close(fd);
	}
	if (r != GG_OK) {
		log_warn("writing \"%s\" failed", path);
		unlink(tmp);
	}
	free(tmp);
	return r;
}

/* mkdir -p of the folder that will hold path. */
static int
make_parent(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int r = GG_OK;

	if (slash != NULL) {
		*slash = '\0';
		r = mkdir_p(dir);
	}
	free(dir);
	return r;
}

/* snapshots/<commit>/<path> -> ../../[../ per sub-folder]blobs/<name>. */
static int
link_snapshot(const char *link, const char *path, const char *name)
{
	struct buf target;
	char have[PATH_MAX];
	ssize_t hl;
	int r = GG_OK;

	buf_init(&target, PATH_MAX);
	buf_puts(&target, "../../");
	for (const char *c = path; (c = strchr(c, '/')) != NULL; c++)
		buf_puts(&target, "../");
	buf_printf(&target, "blobs/%s", name);
	hl = readlink(link, have, sizeof(have) - 1);
	if (hl >= 0) {
		have[hl] = '\0';
		if (strcmp(have, buf_cstr(&target)) == 0)
			goto done;
	}
	if ((hl >= 0 || errno != ENOENT) && unlink(link) != 0 && errno != ENOENT) {
		log_warn("unlink(\"%s\") failed", link);
		r = GG_EIO;
		goto done;
	}
	if (make_parent(link) != GG_OK || symlink(buf_cstr(&target), link) != 0) {
		log_warn("symlink(\"%s\") failed", link);
		r = GG_EIO;
	}
done:
	buf_free(&target);
	return r;
}

/* 1 if rev is the commit or a hex prefix of it (no ref file then). */
static int
names_commit(const char *rev, const char *commit)
{
	size_t n = strlen(rev);
	return n >= 5 && n <= GG_SHA1_HEX && is_lower_hex(rev, n) && strncmp(rev, commit, n) == 0;
}

int
export_hf_cache(struct store *st, const char *dir, enum repo_type type, const char *repo,
		const char *rev, char *const *globs, int nglobs, int link_ok, FILE *out, FILE *err,
		struct export_report *rep)
{
	struct exp_list l = { NULL, 0, 0, globs, nglobs };
	struct store_view v;
	char *root = NULL;
	int known = 0, rc;

	memset(rep, 0, sizeof(*rep));
	if (strcmp(rev, "HEAD") == 0)
		rev = "main";
	if (!store_valid_path(rev))
		return GG_EINVAL;
	{
		/* "org/name" -> "models--org--name" */
		const char *t = type == REPO_DATASET ? "datasets"
				: type == REPO_SPACE ? "spaces"
						     : "models";
		const char *slash = strchr(repo, '/');
		if (snprintf_checked(rep->folder, sizeof(rep->folder), "%s--%.*s%s%s", t,
				     slash ? (int)(slash - repo) : (int)strlen(repo), repo,
				     slash ? "--" : "", slash ? slash + 1 : "") != GG_OK)
			return GG_EINVAL;
	}
	if ((rc = store_view_begin(st, &v)) != GG_OK) {
		store_view_end(&v);
		return rc;
	}
	rc = store_resolve_rev(&v, type, repo, rev, rep->commit, &known, NULL);
	if (rc == GG_OK)
		rc = store_view_files(&v, type, repo, rep->commit, NULL, exp_collect, &l);
	store_view_end(&v);
	if (rc != GG_OK)
		goto done;

	root = xasprintf("%s/%s", dir, rep->folder);
	{
		char *b = xasprintf("%s/blobs", root),
		     *s = xasprintf("%s/snapshots/%s", root, rep->commit),
		     *rf = xasprintf("%s/refs", root);
		rc = mkdir_p(b) == GG_OK && mkdir_p(s) == GG_OK && mkdir_p(rf) == GG_OK ? GG_OK
											: GG_EIO;
		if (rc != GG_OK && err != NULL)
			fprintf(err, "ggufd: export: cannot create \"%s\": %s\n", root,
				strerror(errno));
		free(b);
		free(s);
		free(rf);
		if (rc != GG_OK)
			goto done;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct exp_file *e = &l.v[i];
		int lfs = (e->f.flags & INDEX_FILE_LFS) != 0;
		const char *name = lfs ? e->f.sha256 : e->f.oid, *how = "already there";
		char *blob, *snap;
		struct stat sb;
		int r = GG_OK;

		if (!store_blob_exists(st, e->f.sha256)) {
			rep->missing++;
			if (err != NULL)
				fprintf(err,
					"ggufd: export: skipping %s: not in the store (not fetched "
					"yet; 'ggufd pull' gets it)\n",
					e->path);
			continue;
		}
		blob = xasprintf("%s/blobs/%s", root, name);
		snap = xasprintf("%s/snapshots/%s/%s", root, rep->commit, e->path);
		if (lstat(blob, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    (uint64_t)sb.st_size == e->f.size) {
			rep->kept++;
		} else {
			if (lstat(blob, &sb) == 0)
				unlink(blob); /* a partial or foreign file under a hash name */
			r = store_blob_export(st, e->f.sha256, blob, link_ok, &how);
			if (r == GG_OK && strcmp(how, "hard-linked") == 0)
				rep->linked++;
			else if (r == GG_OK)
				rep->copied++;
		}
		if (r == GG_OK)
			r = link_snapshot(snap, e->path, name);
		if (r != GG_OK) {
			rep->failed++;
			if (err != NULL)
				fprintf(err, "ggufd: export: %s failed: %s\n", e->path,
					gg_strerror(r));
		} else {
			rep->files++;
			rep->bytes += e->f.size;
			if (out != NULL)
				fprintf(out, "exported %s %s %llu (%s)\n", e->path, name,
					(unsigned long long)e->f.size, how);
		}
		free(blob);
		free(snap);
	}
	if (!names_commit(rev, rep->commit)) {
		char *ref = xasprintf("%s/refs/%s", root, rev);
		rc = make_parent(ref);
		if (rc == GG_OK)
			rc = write_small(ref, rep->commit);
		if (rc == GG_OK && out != NULL)
			fprintf(out, "ref %s -> %s\n", rev, rep->commit);
		free(ref);
		if (rc != GG_OK) {
			rep->failed++;
			rc = GG_OK; /* counted; the files are out */
		}
	}
done:
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i].path);
	free(l.v);
	free(root);
	return rc;
}
