/*
 * import.c: 'ggufd import': local files into the store as a new commit of
 * a repo, or a huggingface_hub cache read back (its snapshots, refs and
 * blobs).  Split from cli.c (cliint.h).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "route.h"
#include "store.h"
#include "cliint.h"
#include "util.h"

static const char usage_import[] =
	"usage: ggufd import [--store DIR] [--revision REV] [--tag NAME] [--message MSG]\n"
	"                    [--no-pin] [--link] REPO FILE[=PATH]...\n"
	"       ggufd import [--store DIR] --hf-cache DIR\n"
	"\n"
	"Copies files into the store, hashing each once, and records them in REPO at\n"
	"REV (default main) as a new commit that keeps the branch's earlier files.\n"
	"FILE lands at its base name, or at PATH (sub-folders allowed) with FILE=PATH.\n"
	"REV may be a 40-hex commit id: the files are added to that commit.\n"
	"--tag NAME also tags the resulting commit as a release (refs/tags/NAME, listed\n"
	"under \"tags\" by /api/models/REPO/refs); an existing tag never moves.\n"
	"REPO may start with datasets/ or spaces/ for other repo types.\n"
	"Imported files are pinned (kept from eviction: the store may hold the only\n"
	"copy) unless --no-pin; a huggingface_hub cache's files are not pinned.\n"
	"\n"
	"  --link   do not copy where the store's filesystem allows: a reflink\n"
	"           (copy-on-write clone), else a hard link to FILE (then never\n"
	"           write to FILE in place: 'ggufd verify' would find the blob\n"
	"           changed); on another filesystem the file is copied\n"
	"\n"
	"  --hf-cache DIR   import a huggingface_hub cache (DIR holds models--org--name\n"
	"                   folders, or is one), with its commits and refs\n";

/* --- import ----------------------------------------------------------------- */

static int
import_files(struct store *st, const char *repo_arg, const char *rev, const char *tag,
	     const char *msg, int pin, int link, int n, char **args)
{
	struct store_item *items = xcalloc((size_t)n, sizeof(*items));
	char **paths = xcalloc((size_t)n, sizeof(*paths));
	char **srcs = xcalloc((size_t)n, sizeof(*srcs));
	char commit[GG_SHA1_HEX + 1];
	enum repo_type type;
	const char *repo;
	int rc = 1, r;

	if (cli_split_repo(repo_arg, &type, &repo) != 0) {
		fprintf(stderr, "ggufd: import: '%s' is not a valid repo id (namespace/name)\n",
			repo_arg);
		rc = EXIT_USAGE;
		goto done;
	}
	for (int i = 0; i < n; i++) {
		char *eq = strchr(args[i], '=');
		struct stat sb;
		/* FILE=PATH, unless the whole argument names an existing file. */
		if (eq != NULL && stat(args[i], &sb) != 0) {
			srcs[i] = xstrndup(args[i], (size_t)(eq - args[i]));
			paths[i] = xstrdup(eq + 1);
		} else {
			const char *base = strrchr(args[i], '/');
			srcs[i] = xstrdup(args[i]);
			paths[i] = xstrdup(base ? base + 1 : args[i]);
		}
		if (!store_valid_path(paths[i])) {
			fprintf(stderr, "ggufd: import: '%s' is not a valid path inside a repo\n",
				paths[i]);
			rc = EXIT_USAGE;
			goto done;
		}
		items[i].src = srcs[i];
		items[i].path = paths[i];
		items[i].lfs = -1;
		items[i].link = link;
	}
	if (tag != NULL) {
		/* A tag is a release: it never moves once set. */
		struct index_ref old;
		char *ref = xasprintf("refs/tags/%s", tag);
		r = store_ref_get(st, type, repo, ref, &old);
		free(ref);
		if (r == GG_OK) {
			fprintf(stderr,
				"ggufd: import: tag '%s' of %s exists (commit %s); a tag does not "
				"move\n",
				tag, repo_arg, old.commit);
			goto done;
		}
	}
	r = store_import(st, type, repo, rev, items, (size_t)n, msg, commit);
	if (r != GG_OK) {
		fprintf(stderr, "ggufd: import failed: %s\n", gg_strerror(r));
		goto done;
	}
	if (tag != NULL) {
		char *ref = xasprintf("refs/tags/%s", tag);
		r = store_set_ref(st, type, repo, ref, commit);
		free(ref);
		if (r != GG_OK) {
			fprintf(stderr, "ggufd: import: tagging %s failed: %s\n", tag,
				gg_strerror(r));
			goto done;
		}
		printf("tag %s -> %s\n", tag, commit);
	}
	/* The store may hold the only copy of these: kept from eviction until
	 * an operator unpins them. */
	for (int i = 0; i < n; i++)
		if (pin && (r = store_pin(st, items[i].digest.sha256, 1)) != GG_OK)
			fprintf(stderr, "ggufd: import: %s could not be pinned: %s\n", paths[i],
				gg_strerror(r));
	for (int i = 0; i < n; i++)
		printf("imported %s %s %llu%s%s%s\n", paths[i], items[i].digest.sha256,
		       (unsigned long long)items[i].digest.size, link ? " (" : "",
		       link ? items[i].how : "", link ? ")" : "");
	if (pin)
		printf("pinned %d files (kept from eviction; 'ggufd unpin %s' lets them go)\n", n,
		       repo_arg);
	printf("commit %s\n", commit);
	rc = 0;
done:
	for (int i = 0; i < n; i++) {
		free(paths[i]);
		free(srcs[i]);
	}
	free(paths);
	free(srcs);
	free(items);
	return rc;
}

struct snap_walk {
	struct store_item *items;
	char **bufs; /* owned strings, freed at the end */
	size_t n, cap, nbufs, bufcap;
};

static char *
keep(struct snap_walk *w, char *s)
{
	if (w->nbufs == w->bufcap) {
		w->bufcap = w->bufcap ? w->bufcap * 2 : 32;
		w->bufs = xrealloc(w->bufs, w->bufcap * sizeof(*w->bufs));
	}
	w->bufs[w->nbufs++] = s;
	return s;
}

/* Collects the files of snapshots/<commit>/ (recursively). */
static int
walk_snapshot(struct snap_walk *w, const char *root, const char *rel, int depth)
{
	char *dir = rel[0] ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	DIR *d = opendir(dir);
	struct dirent *e;
	int r = 0;

	if (d == NULL || depth > 32) {
		free(dir);
		if (d)
			closedir(d);
		return -1;
	}
	while (r == 0 && (e = readdir(d)) != NULL) {
		char *full, *relp, target[PATH_MAX];
		struct stat sb;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		full = xasprintf("%s/%s", dir, e->d_name);
		relp = rel[0] ? xasprintf("%s/%s", rel, e->d_name) : xstrdup(e->d_name);
		if (stat(full, &sb) != 0) {
			fprintf(stderr, "ggufd: import: skipping \"%s\": %s\n", full,
				strerror(errno));
		} else if (S_ISDIR(sb.st_mode)) {
			r = walk_snapshot(w, root, relp, depth + 1);
		} else if (S_ISREG(sb.st_mode)) {
			struct store_item *it;
			const char *base;
			size_t bl;
			if (w->n == w->cap) {
				w->cap = w->cap ? w->cap * 2 : 16;
				w->items = xrealloc(w->items, w->cap * sizeof(*w->items));
			}
			it = &w->items[w->n++];
			memset(it, 0, sizeof(*it));
			it->src = keep(w, xstrdup(full));
			it->path = keep(w, xstrdup(relp));
			it->lfs = -1;
			/* The blob a snapshot link points at is named by its hash:
			 * sha256 for LFS files, the git blob sha1 for the rest. */
			if (realpath(full, target) != NULL) {
				base = strrchr(target, '/');
				base = base ? base + 1 : target;
				bl = strlen(base);
				if (bl == GG_SHA256_HEX && is_lower_hex(base, bl)) {
					it->expect_sha256 = keep(w, xstrdup(base));
					it->lfs = 1;
				} else if (bl == GG_SHA1_HEX && is_lower_hex(base, bl)) {
					it->expect_gitsha1 = keep(w, xstrdup(base));
					it->lfs = 0;
				}
			}
		}
		free(full);
		free(relp);
	}
	closedir(d);
	free(dir);
	return r;
}

/* Reads refs/ (recursively: refs/refs/pr/1) and points each ref. */
static int
import_refs(struct store *st, enum repo_type type, const char *repo, const char *root,
	    const char *rel, int depth)
{
	char *dir = rel[0] ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	DIR *d = opendir(dir);
	struct dirent *e;
	int bad = 0;

	if (d == NULL || depth > 8) {
		free(dir);
		if (d)
			closedir(d);
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		char *full, *relp;
		struct stat sb;
		if (e->d_name[0] == '.')
			continue;
		full = xasprintf("%s/%s", dir, e->d_name);
		relp = rel[0] ? xasprintf("%s/%s", rel, e->d_name) : xstrdup(e->d_name);
		if (stat(full, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			bad += import_refs(st, type, repo, root, relp, depth + 1);
		} else if (stat(full, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size <= 128) {
			char c[GG_SHA1_HEX + 2] = { 0 };
			FILE *f = fopen(full, "r");
			size_t got = f ? fread(c, 1, GG_SHA1_HEX, f) : 0;
			if (f)
				fclose(f);
			c[got] = '\0';
			if (got == GG_SHA1_HEX && is_lower_hex(c, GG_SHA1_HEX) &&
			    store_set_ref(st, type, repo, relp, c) == GG_OK)
				printf("ref %s -> %s\n", relp, c);
			else
				bad++;
		}
		free(full);
		free(relp);
	}
	closedir(d);
	free(dir);
	return bad;
}

static int
import_cache_repo(struct store *st, const char *dir, const char *name)
{
	enum repo_type type;
	const char *rest, *sep;
	char repo[GG_MAX_REPO_LEN + 1], *snaps, *refs;
	DIR *d;
	struct dirent *e;
	int failed = 0, n = 0;

	if (strncmp(name, "models--", 8) == 0) {
		type = REPO_MODEL;
		rest = name + 8;
	} else if (strncmp(name, "datasets--", 10) == 0) {
		type = REPO_DATASET;
		rest = name + 10;
	} else if (strncmp(name, "spaces--", 8) == 0) {
		type = REPO_SPACE;
		rest = name + 8;
	} else {
		return 0;
	}
	sep = strstr(rest, "--");
	if (snprintf_checked(repo, sizeof(repo), "%.*s%s%s",
			     sep ? (int)(sep - rest) : (int)strlen(rest), rest, sep ? "/" : "",
			     sep ? sep + 2 : "") != GG_OK ||
	    !route_valid_repo(repo)) {
		fprintf(stderr, "ggufd: import: skipping \"%s\": not a repo folder name\n", name);
		return 1;
	}
	snaps = xasprintf("%s/snapshots", dir);
	refs = xasprintf("%s/refs", dir);
	d = opendir(snaps);
	while (d != NULL && (e = readdir(d)) != NULL) {
		struct snap_walk w;
		char *sdir, commit[GG_SHA1_HEX + 1];
		int r;
		if (strlen(e->d_name) != GG_SHA1_HEX || !is_lower_hex(e->d_name, GG_SHA1_HEX))
			continue;
		memset(&w, 0, sizeof(w));
		sdir = xasprintf("%s/%s", snaps, e->d_name);
		if (walk_snapshot(&w, sdir, "", 0) == 0 && w.n > 0) {
			r = store_import(st, type, repo, e->d_name, w.items, w.n,
					 "Imported from a huggingface_hub cache", commit);
			if (r != GG_OK) {
				fprintf(stderr, "ggufd: import of %s@%s failed: %s\n", repo,
					e->d_name, gg_strerror(r));
				failed++;
			} else {
				for (size_t i = 0; i < w.n; i++)
					printf("imported %s%s %s %s %llu\n",
					       route_type_prefix(type), repo, w.items[i].path,
					       w.items[i].digest.sha256,
					       (unsigned long long)w.items[i].digest.size);
				printf("commit %s\n", commit);
				n++;
			}
		}
		for (size_t i = 0; i < w.nbufs; i++)
			free(w.bufs[i]);
		free(w.bufs);
		free(w.items);
		free(sdir);
	}
	if (d != NULL)
		closedir(d);
	if (n > 0)
		failed += import_refs(st, type, repo, refs, "", 0) > 0;
	free(snaps);
	free(refs);
	return failed;
}

static int
import_hf_cache(struct store *st, const char *dir)
{
	const char *base = strrchr(dir, '/');
	DIR *d;
	struct dirent *e;
	int failed = 0;
	char *trimmed = xstrdup(dir);
	size_t tl = strlen(trimmed);

	while (tl > 1 && trimmed[tl - 1] == '/')
		trimmed[--tl] = '\0';
	base = strrchr(trimmed, '/');
	base = base ? base + 1 : trimmed;
	if (strstr(base, "--") != NULL) {
		failed = import_cache_repo(st, trimmed, base);
		free(trimmed);
		return failed ? 1 : 0;
	}
	d = opendir(trimmed);
	if (d == NULL) {
		fprintf(stderr, "ggufd: import: cannot read \"%s\": %s\n", dir, strerror(errno));
		free(trimmed);
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		char *sub;
		if (strstr(e->d_name, "--") == NULL)
			continue;
		sub = xasprintf("%s/%s", trimmed, e->d_name);
		failed += import_cache_repo(st, sub, e->d_name);
		free(sub);
	}
	closedir(d);
	free(trimmed);
	return failed ? 1 : 0;
}

int
cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "revision", required_argument, NULL, 'r' },
		{ "message", required_argument, NULL, 'm' },
		{ "hf-cache", required_argument, NULL, 'c' },
		{ "no-pin", no_argument, NULL, 'P' },
		{ "link", no_argument, NULL, 'L' },
		{ "tag", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = cli_default_store(), *rev = "main", *cache = NULL, *msg = NULL;
	const char *tag = NULL;
	struct store *st = NULL;
	int c, rc, pin = 1, link = 0;

	while ((c = cli_next_opt("import", argc, argv, opts)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'r': rev = optarg; break;
		case 'm': msg = optarg; break;
		case 'c': cache = optarg; break;
		case 'P': pin = 0; break;
		case 'L': link = 1; break;
		case 't': tag = optarg; break;
		case 'h': fputs(usage_import, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (cache != NULL && optind < argc)
		return cli_usage_error("import", "--hf-cache takes no REPO or FILE ('%s')",
				       argv[optind]);
	if (cache == NULL && argc - optind < 2)
		return cli_usage_error("import", "needs REPO and at least one FILE");
	if (strlen(rev) == 0 || strlen(rev) > GG_MAX_REV_LEN || strchr(rev, '\n'))
		return cli_usage_error("import", "invalid revision '%s'", rev);
	if (tag != NULL && strncmp(tag, "refs/tags/", 10) == 0)
		tag += 10;
	if (tag != NULL && (cache != NULL || !store_valid_path(tag) ||
			    strlen(tag) > GG_MAX_REV_LEN - 10 || strncmp(tag, "refs/", 5) == 0))
		return cli_usage_error("import",
				       cache != NULL ? "--tag is for files, not --hf-cache"
						     : "invalid tag name '%s'",
				       tag);
	if (cli_open_store(store, &st) != 0)
		return 1;
	if (cache != NULL)
		rc = import_hf_cache(st, cache);
	else
		rc = import_files(st, argv[optind], rev, tag, msg, pin, link, argc - optind - 1,
				  argv + optind + 1);
	store_close(st);
	return rc;
}
