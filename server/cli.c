/*
 * cli.c: the ggufd command line.
 *
 *   ggufd serve  [--config FILE] [--listen HOST:PORT] [--store DIR] [--upstream URL|none] ...
 *   ggufd config [--config FILE] [serve option...]
 *   ggufd import [--store DIR] [--revision REV] [--message MSG] REPO FILE[=PATH]...
 *   ggufd import [--store DIR] --hf-cache DIR
 *   ggufd pull   [--store DIR] [--upstream URL] [--include GLOB]... [--pin] REPO
 *   ggufd ls     [--store DIR] [REPO]
 *   ggufd token  add NAME [--scope S] | ls | revoke NAME
 *   ggufd verify [--store DIR]
 *   ggufd help [COMMAND] | --help | --version
 *
 * The commands are one table (commands[] at the end): the dispatcher and
 * the command list of `ggufd help` both come from it.  serve and config
 * are daemon.c's, import is import.c's, registry, card and export are
 * release.c's; the helpers they share with the rest are in cliint.h.  Every command
 * parses its own flags with getopt_long; an unknown flag or command is one
 * line on stderr and exit status 2.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "accesslog.h"
#include "app.h"
#include "audit.h"
#include "bucket.h"
#include "cli.h"
#include "cliint.h"
#include "conf.h"
#include "fetch.h"
#include "gateway.h"
#include "maint.h"
#include "pull.h"
#include "registry.h"
#include "export.h"
#include "upstream.h"
#include "http.h"
#include "log.h"
#include "route.h"
#include "routes.h"
#include "store.h"
#include "token.h"
#include "tokens.h"
#include "util.h"

static const char usage_head[] =
	"usage: ggufd <command> [options]\n"
	"\n"
	"A local Hugging Face Hub registry and mirror for GGUF model files.\n"
	"\n"
	"commands:\n";
static const char usage_tail[] =
	"  help     show this help\n"
	"\n"
	"options common to every command:\n"
	"  --store DIR   the store directory (default ./ggufd-data, env GGUFD_STORE)\n"
	"\n"
	"'ggufd <command> --help' shows a command's options; 'ggufd --version' the version.\n";

static const char usage_pull[] =
	"usage: ggufd pull [--store DIR] [--upstream URL] [--revision REV] [--include GLOB]...\n"
	"                  [--pin] [--ca-bundle FILE] REPO\n"
	"\n"
	"Fills the store from upstream ahead of time: every file of REPO at REV\n"
	"(default main), or those matching any --include glob (e.g. '*q4_k_m.gguf').\n"
	"Each file is verified against the Hub's hash.  Interrupted pulls resume.\n"
	"--pin keeps the pulled blobs from eviction.  Exit status 1 if any file failed.\n"
	"The upstream token comes from HF_TOKEN, HUGGING_FACE_HUB_TOKEN or\n"
	"HUGGINGFACE_API_KEY.\n";

static const char usage_token[] =
	"usage: ggufd token add NAME [--scope read|upload|admin] [--repo REPO]...\n"
	"                            [--path GLOB]... [--store DIR]\n"
	"       ggufd token ls [--store DIR]\n"
	"       ggufd token revoke NAME [--store DIR]\n"
	"\n"
	"Gateway credentials for LAN users and CI.  'add' prints the new token once\n"
	"(it starts with hf_, as Hub clients expect); only its hash is stored.\n"
	"Scopes nest: admin > upload > read (default upload).  --repo (repeatable)\n"
	"binds the token to those repos, --path (repeatable) to files matching one\n"
	"of the globs (* within one path segment); 'ls' shows the bounds.  Every\n"
	"add and revoke is recorded in the audit log (never the token).  The same\n"
	"is done over HTTP by /api/ggufd/tokens and the dashboard's #admin view.\n";

static const char usage_ls[] =
	"usage: ggufd ls [--store DIR] [REPO]\n"
	"\n"
	"Lists repos, refs, commits and files (size, sha256 prefix, GGUF summary).\n";

static const char usage_pin[] =
	"usage: ggufd pin [--store DIR] [--include GLOB]... REPO[@REV]\n"
	"       ggufd unpin [--store DIR] [--include GLOB]... REPO[@REV]\n"
	"\n"
	"Pins keep blobs from eviction (serve --max-store-size) and from gc.  'pin'\n"
	"pins the files of REPO at REV (default main; a branch, tag or commit), or\n"
	"those matching any --include glob (e.g. '*q4_k_m.gguf'); 'unpin' lets\n"
	"them go again.  A blob is pinned as a whole: unpinning it through one repo\n"
	"unpins it for every repo that names it.  'ggufd ls' marks pinned files.\n"
	"Files added with 'ggufd import FILE' are pinned (the store may hold the\n"
	"only copy); 'ggufd pull --pin' pins what it pulls.\n";

static const char usage_gc[] =
	"usage: ggufd gc [--store DIR] [--min-age SECONDS] [--quarantine-age SECONDS]\n"
	"\n"
	"Removes the blobs nothing needs: no file of any revision names them, they\n"
	"are not pinned, and no upload job waiting to be published mentions them\n"
	"(blobs that refused or abandoned uploads left behind), once nobody has\n"
	"touched them for --min-age seconds (default 86400, which also keeps what a\n"
	"running server has just staged).  Also removes partial downloads and\n"
	"multipart assemblies nobody wrote to for --min-age seconds, and blobs that\n"
	"verify quarantined more than --quarantine-age seconds ago (default 604800).\n"
	"Prints what it freed.  'ggufd serve' runs the same every --gc-interval.\n";

static const char usage_verify[] =
	"usage: ggufd verify [--store DIR] [--blob-store s3://BUCKET[/PREFIX] --s3-endpoint URL]\n"
	"\n"
	"Re-hashes every blob.  Blobs whose bytes no longer match their name are\n"
	"moved to <store>/quarantine/ and reported; the exit status is 1 if any\n"
	"blob was bad.  Blobs known but not present (not fetched yet) are counted.\n"
	"\n"
	"With --blob-store (or GGUFD_BLOB_STORE and GGUFD_S3_ENDPOINT; credentials\n"
	"from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION), every blob the\n"
	"store knows is also asked for in the bucket (HEAD: present, and of its\n"
	"size; the bucket only ever receives blobs verified here, by their hash).\n"
	"The blob's in-bucket mark is set or cleared to match, so that serve\n"
	"stores again what is missing and evicts only what the bucket holds.  The\n"
	"exit status is 1 also if a blob is in neither place, of a wrong size in\n"
	"the bucket, or could not be checked.\n";

static const char usage_audit[] =
	"usage: ggufd audit [--since T] [--token NAME] [--store DIR]\n"
	"\n"
	"Prints the upload gateway's audit log, one JSON record per line, oldest\n"
	"first: every upload, overwrite, deletion, branch, tag and refusal, with its\n"
	"time, token name (never the token), client address, repo, files, decision,\n"
	"the rule that decided and the upstream commit (at most the last 10000).\n"
	"\n"
	"  --since T      only acts at or after T (seconds since 1970)\n"
	"  --token NAME   only acts by the token named NAME\n";

int
cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "ggufd: %s%s", cmd ? cmd : "", cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'ggufd %s%s--help')\n", cmd ? cmd : "", cmd ? " " : "");
	return EXIT_USAGE;
}

/*
 * getopt_long with our own one-line errors (conf_getopt).  Returns the
 * option, -1 at the end, or '?' after printing the error.
 */
int
cli_next_opt(const char *cmd, int argc, char **argv, const struct option *opts)
{
	char err[256];
	int c = conf_getopt(argc, argv, opts, err, sizeof(err));
	if (c == '?')
		cli_usage_error(cmd, "%s", err);
	return c;
}

const char *
cli_default_store(void)
{
	const char *s = getenv("GGUFD_STORE");
	return s && *s ? s : conf_options[CONF_STORE].def;
}

int
cli_open_store(const char *dir, struct store **st)
{
	int r = store_open(dir, st);
	if (r != GG_OK) {
		fprintf(stderr, "ggufd: cannot open store \"%s\": %s\n", dir, gg_strerror(r));
		return 1;
	}
	return 0;
}

/* "datasets/x/y" -> (REPO_DATASET, "x/y"). */
int
cli_split_repo(const char *arg, enum repo_type *type, const char **repo)
{
	return route_split_repo(arg, type, repo);
}

/*
 * Sets the store's quota from a --max-store-size value (checked by
 * conf_load): bytes, or a percentage of the store's filesystem.  "" is
 * no quota.  0, or -1 if the filesystem cannot be measured.
 */
int
cli_apply_quota(struct store *st, const char *v)
{
	uint64_t bytes = 0, total, avail;
	unsigned pct = 0;

	if (v != NULL && *v != '\0' && conf_parse_store_size(v, &bytes, &pct) != 0)
		return -1;
	if (pct > 0) {
		if (store_fs_space(st, &total, &avail) != GG_OK)
			return -1;
		bytes = total / 100 * pct;
	}
	store_set_quota(st, bytes);
	if (bytes > 0) {
		log_info("store quota %llu bytes (--max-store-size %s)", (unsigned long long)bytes,
			 v);
		if (store_enforce_quota(st) == GG_ENOSPC)
			log_warnx("the store is over its quota and nothing can be evicted now");
	}
	return 0;
}

struct pull_cli {
	int tty;
	uint64_t t0;
	const char *cur;
};

/* Lines above the progress bar go through log_print, so that the fetch
 * threads' log lines and these never break into the bar (log.h). */
static void
pull_cli_listed(void *ctx, const char *commit, size_t files, uint64_t bytes)
{
	(void)ctx;
	log_print("commit %.12s: %zu files, %llu bytes to check", commit, files,
		  (unsigned long long)bytes);
}

static void
pull_cli_progress(void *ctx, const char *path, uint64_t got, uint64_t size, int final)
{
	struct pull_cli *c = ctx;
	double secs, rate;

	if (c->cur != path) {
		c->cur = path;
		c->t0 = now_ms();
	}
	secs = (double)(now_ms() - c->t0) / 1000.0;
	rate = secs > 0 ? (double)got / secs : 0;
	if (c->tty) {
		int width = 24, fill = size ? (int)((double)got * width / (double)size) : width;
		char bar[32];
		long eta = rate > 0 && size > got ? (long)((double)(size - got) / rate) : 0;
		for (int i = 0; i < width; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[width] = '\0';
		log_status("  %-40.40s [%s] %3d%% %8.1f MB/s ETA %ld:%02ld", path, bar,
			   size ? (int)(100.0 * (double)got / (double)size) : 100, rate / 1e6,
			   eta / 60, eta % 60);
		if (final)
			log_status_end();
	} else if (final) {
		log_print("  %s: %llu bytes in %.1f s (%.1f MB/s)", path, (unsigned long long)got,
			  secs, rate / 1e6);
	}
}

static void
pull_cli_skipped(void *ctx, const char *path, uint64_t size)
{
	(void)ctx;
	(void)size;
	log_print("  %s: already in the store", path);
}

static void
pull_cli_failed(void *ctx, const char *path, const char *why)
{
	struct pull_cli *c = ctx;
	if (c->tty && c->cur == path)
		log_status_end();
	log_print("  %s: FAILED: %s", path, why);
}

static int
cmd_pull(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "upstream", required_argument, NULL, 'U' },
		{ "revision", required_argument, NULL, 'r' },
		{ "include", required_argument, NULL, 'i' },
		{ "pin", no_argument, NULL, 'p' },
		{ "ca-bundle", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = cli_default_store(), *rev = "main",
		   *upstream = getenv("GGUFD_UPSTREAM");
	struct pull_cli pc = { isatty(2), 0, NULL };
	struct pull_events ev = { pull_cli_listed, pull_cli_progress, pull_cli_skipped,
				  pull_cli_failed, &pc };
	struct upstream_config ucfg;
	struct upstream *up = NULL;
	struct fetcher *fm = NULL;
	struct store *st = NULL;
	struct pull_req req;
	struct pull_report rep;
	static char tiers_flags[8192];
	char *tiers[GG_MAX_TIERS], *tiers_copy = NULL;
	size_t ntiers = 0, tiers_len = 0;
	const char *repo;
	int c, rc = 1, r;

	memset(&ucfg, 0, sizeof(ucfg));
	memset(&req, 0, sizeof(req));
	ucfg.ca_bundle = getenv("GGUFD_CA_BUNDLE");
	if (upstream == NULL || *upstream == '\0')
		upstream = DEFAULT_UPSTREAM;
	while ((c = cli_next_opt("pull", argc, argv, opts)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'U':
			/* Repeatable: tiers in order; the flags replace the environment's. */
			if (snprintf_checked(tiers_flags + tiers_len,
					     sizeof(tiers_flags) - tiers_len, "%s%s",
					     tiers_len ? " " : "", optarg) != GG_OK)
				return cli_usage_error("pull", "too many --upstream URLs");
			tiers_len += strlen(tiers_flags + tiers_len);
			upstream = tiers_flags;
			break;
		case 'r': rev = optarg; break;
		case 'i':
			if (req.nglobs == PULL_MAX_GLOBS)
				return cli_usage_error("pull", "at most 64 --include globs ('%s')",
						       optarg);
			req.globs[req.nglobs++] = optarg;
			break;
		case 'p': req.pin = 1; break;
		case 'c': ucfg.ca_bundle = optarg; break;
		case 'h': fputs(usage_pull, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("pull", "needs exactly one REPO (%d given)", argc - optind);
	if (cli_split_repo(argv[optind], &req.type, &repo) != 0)
		return cli_usage_error("pull", "'%s' is not a valid repo id", argv[optind]);
	if (strlen(rev) == 0 || strlen(rev) > GG_MAX_REV_LEN)
		return cli_usage_error("pull", "invalid revision '%s'", rev);
	if (strcmp(upstream, "none") == 0)
		return cli_usage_error("pull", "needs an upstream, not '%s'", upstream);
	snprintf(req.repo, sizeof(req.repo), "%s", repo);
	snprintf(req.rev, sizeof(req.rev), "%s", rev);
	/* GGUFD_UPSTREAM or the flags: one URL or several (commas or spaces). */
	tiers_copy = xstrdup(upstream);
	for (char *save = NULL, *t = strtok_r(tiers_copy, ", \t\n", &save);
	     t != NULL && ntiers < GG_MAX_TIERS; t = strtok_r(NULL, ", \t\n", &save))
		tiers[ntiers++] = t;
	ucfg.bases = tiers;
	ucfg.nbases = ntiers;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ucfg.base = upstream;
	ucfg.token = conf_upstream_token(NULL);
	ucfg.max_transfers = 4;
	if (upstream_new(&ucfg, &up) != GG_OK) {
		rc = cli_usage_error("pull", "--upstream wants a URL, not '%s'", upstream);
		goto done;
	}
	if (cli_open_store(store, &st) != 0)
		goto done;
	fetcher_new(st, up, &fm);
	r = pull_run(st, up, fm, &req, &ev, &rep);
	if (rep.error[0] != '\0')
		fprintf(stderr, "ggufd: pull: %s\n", rep.error);
	else
		printf("pulled %s@%s %s: %zu files, %zu fetched, %zu already here, %zu failed\n",
		       argv[optind], rev, rep.commit, rep.files, rep.fetched, rep.skipped,
		       rep.failed);
	rc = r == GG_OK ? 0 : 1;
done:
	fetcher_free(fm);
	upstream_free(up);
	store_close(st);
	curl_global_cleanup();
	free(tiers_copy);
	return rc;
}

/* --- token ------------------------------------------------------------------ */

static int
token_ls_cb(void *ctx, const char *name, const struct index_token *rec)
{
	char date[32];
	time_t tt = (time_t)rec->created_at;
	struct tm tm;
	(void)ctx;
	gmtime_r(&tt, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%SZ", &tm);
	printf("%-24s %-7s %s%s", name, token_scope_name(rec->scope), date,
	       rec->revoked ? "  revoked" : "");
	/* The bounds, one "repo=..." or "path=..." line each, on the line. */
	for (const char *l = rec->bounds; *l != '\0';) {
		size_t ll = strcspn(l, "\n");
		printf("  %.*s", (int)ll, l);
		l += ll + (l[ll] == '\n');
	}
	putchar('\n');
	return 0;
}

static int
cmd_token(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "scope", required_argument, NULL, 'S' },
		{ "repo", required_argument, NULL, 'r' },
		{ "path", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = cli_default_store(), *scope_name = "upload", *sub;
	const struct tokens_actor who = { NULL, "cli" };
	struct tokens_bounds bounds;
	struct store *st = NULL;
	unsigned scope;
	int c, r, rc = 1;

	memset(&bounds, 0, sizeof(bounds));
	while ((c = cli_next_opt("token", argc, argv, opts)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'S': scope_name = optarg; break;
		case 'r':
		case 'p':
			r = tokens_bounds_add(&bounds, c == 'r' ? "repo" : "path", optarg);
			if (r == GG_ETOOBIG)
				return cli_usage_error("token",
						       "--repo and --path: at most %d bytes in all",
						       GG_MAX_TOKEN_BOUNDS);
			if (r != GG_OK)
				return cli_usage_error("token", "--%s: '%s' is not a valid %s",
						       c == 'r' ? "repo" : "path", optarg,
						       c == 'r' ? "NS/NAME" : "glob");
			break;
		case 'h': fputs(usage_token, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error("token", "needs a subcommand: add, ls or revoke");
	sub = argv[optind];
	if ((scope = token_scope_parse(scope_name)) == 0)
		return cli_usage_error("token", "--scope is read, upload or admin, not '%s'",
				       scope_name);
	if (strcmp(sub, "add") == 0 || strcmp(sub, "revoke") == 0) {
		if (argc - optind != 2)
			return cli_usage_error("token", "%s needs exactly one NAME", sub);
	} else if (strcmp(sub, "ls") == 0) {
		if (argc - optind != 1)
			return cli_usage_error("token", "ls takes no argument ('%s')",
					       argv[optind + 1]);
	} else {
		return cli_usage_error("token", "unknown subcommand '%s'", sub);
	}
	if (cli_open_store(store, &st) != 0)
		return 1;
	if (strcmp(sub, "add") == 0) {
		char tok[TOKEN_LEN + 1];
		r = tokens_add(st, argv[optind + 1], scope, &bounds, &who, tok);
		if (r == GG_EEXIST)
			fprintf(stderr, "ggufd: token: '%s' exists (revoke it first)\n",
				argv[optind + 1]);
		else if (r == GG_EINVAL)
			fprintf(stderr,
				"ggufd: token: '%s' is not a valid name (1-64 of A-Za-z0-9._@-)\n",
				argv[optind + 1]);
		else if (r != GG_OK)
			fprintf(stderr, "ggufd: token: %s\n", gg_strerror(r));
		else {
			/* The only time the token is shown. */
			printf("%s\n", tok);
			fprintf(stderr, "token '%s' (%s) created; it is not shown again\n",
				argv[optind + 1], token_scope_name(scope));
			rc = 0;
		}
	} else if (strcmp(sub, "revoke") == 0) {
		r = tokens_revoke(st, argv[optind + 1], &who);
		if (r == GG_ENOENT)
			fprintf(stderr, "ggufd: token: no live token named '%s'\n",
				argv[optind + 1]);
		else if (r != GG_OK)
			fprintf(stderr, "ggufd: token: %s\n", gg_strerror(r));
		else {
			printf("revoked %s\n", argv[optind + 1]);
			rc = 0;
		}
	} else {
		rc = token_foreach(st, token_ls_cb, NULL) == GG_OK ? 0 : 1;
	}
	store_close(st);
	return rc;
}

/* --- ls --------------------------------------------------------------------- */

struct ls_ctx {
	struct store *st;
	struct store_view v;
	const char *only_repo;
	enum repo_type only_type;
	enum repo_type type;
	const char *repo;
	int shown;
};

static void
human(uint64_t v, char *out, size_t n, const char *unit)
{
	static const char *sfx[] = { "", "K", "M", "B", "T" };
	double d = (double)v;
	int i = 0;
	while (d >= 1000 && i < 4) {
		d /= 1000;
		i++;
	}
	snprintf(out, n, i ? "%.1f%s%s" : "%.0f%s%s", d, sfx[i], unit);
}

static int
ls_file_cb(void *ctx, const char *path, const struct index_file *f)
{
	struct ls_ctx *c = ctx;
	struct index_blob b;
	char params[32];

	int have = store_view_blob(&c->v, f->sha256, &b) == GG_OK;

	printf("    %-48s %12llu  sha256:%.12s%s%s", path, (unsigned long long)f->size, f->sha256,
	       (f->flags & INDEX_FILE_LFS) ? "  lfs" : "", have && b.pinned ? "  pinned" : "");
	if (have && b.has_gguf) {
		human(b.gguf.param_count, params, sizeof(params), "");
		printf("  gguf v%u %s %s params=%s ctx=%llu tensors=%llu", b.gguf.version,
		       b.gguf.arch[0] ? b.gguf.arch : "?", b.gguf.quant[0] ? b.gguf.quant : "?",
		       params, (unsigned long long)b.gguf.context_length,
		       (unsigned long long)b.gguf.tensor_count);
	}
	if (!store_blob_exists(c->st, f->sha256))
		printf("  (content missing)");
	putchar('\n');
	return 0;
}

static int
ls_ref_cb(void *ctx, const char *ref, const struct index_ref *rec)
{
	(void)ctx;
	printf("  ref %s -> %s\n", ref, rec->commit);
	return 0;
}

static int
ls_commit_cb(void *ctx, const char *commit, const struct index_commit *rec)
{
	struct ls_ctx *c = ctx;
	char date[32];
	time_t tt = (time_t)rec->created_at;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%SZ", &tm);
	printf("  commit %s  %s  %s\n", commit, date, rec->title);
	return store_view_files(&c->v, c->type, c->repo, commit, NULL, ls_file_cb, c);
}

static int
ls_repo_cb(void *ctx, enum repo_type type, const char *repo)
{
	struct ls_ctx *c = ctx;
	if (c->only_repo != NULL && (type != c->only_type || strcmp(repo, c->only_repo) != 0))
		return 0;
	c->shown++;
	c->type = type;
	c->repo = repo;
	printf("%s%s (%s)\n", route_type_prefix(type), repo, route_type_name(type));
	store_view_refs(&c->v, type, repo, ls_ref_cb, c);
	return store_view_commits(&c->v, type, repo, ls_commit_cb, c);
}

static int
cmd_ls(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = cli_default_store();
	struct store *st = NULL;
	struct ls_ctx c;
	int ch, rc;

	memset(&c, 0, sizeof(c));
	while ((ch = cli_next_opt("ls", argc, argv, opts)) != -1) {
		switch (ch) {
		case 's': store = optarg; break;
		case 'h': fputs(usage_ls, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (argc - optind > 1)
		return cli_usage_error("ls", "unexpected argument '%s'", argv[optind + 1]);
	if (optind < argc && cli_split_repo(argv[optind], &c.only_type, &c.only_repo) != 0)
		return cli_usage_error("ls", "'%s' is not a valid repo id", argv[optind]);
	if (cli_open_store(store, &st) != 0)
		return 1;
	c.st = st;
	if ((rc = store_view_begin(st, &c.v)) == GG_OK)
		rc = store_view_repos(&c.v, ls_repo_cb, &c);
	store_view_end(&c.v);
	store_close(st);
	if (rc != GG_OK) {
		fprintf(stderr, "ggufd: ls: %s\n", gg_strerror(rc));
		return 1;
	}
	if (c.only_repo != NULL && c.shown == 0) {
		fprintf(stderr, "ggufd: ls: no repo '%s' in the store\n", argv[optind]);
		return 1;
	}
	return 0;
}

/* --- verify ----------------------------------------------------------------- */

static void
verify_bad(void *ctx, const char *sha256, int err)
{
	(void)ctx;
	printf("bad %s (%s): moved to quarantine\n", sha256, gg_strerror(err));
}

static int
cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "blob-store", required_argument, NULL, 'b' },
		{ "s3-endpoint", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = cli_default_store();
	struct store *st = NULL;
	struct store_verify_report rep;
	struct bucket_verify_report brep;
	struct s3_config scfg;
	struct bucket *bucket = NULL;
	char err[700];
	int c, r, checked = 0;

	memset(&scfg, 0, sizeof(scfg));
	memset(&brep, 0, sizeof(brep));
	scfg.url = getenv("GGUFD_BLOB_STORE");
	scfg.endpoint = getenv("GGUFD_S3_ENDPOINT");
	while ((c = cli_next_opt("verify", argc, argv, opts)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'b': scfg.url = optarg; break;
		case 'e': scfg.endpoint = optarg; break;
		case 'h': fputs(usage_verify, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("verify", "unexpected argument '%s'", argv[optind]);
	if (scfg.url != NULL && *scfg.url == '\0')
		scfg.url = NULL;
	if (cli_open_store(store, &st) != 0)
		return 1;
	r = store_verify(st, verify_bad, NULL, &rep);
	if (r == GG_OK && scfg.url != NULL) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		if (bucket_open(&scfg, 0, &bucket, err, sizeof(err)) != 0) {
			fprintf(stderr, "ggufd: verify: %s\n", err);
			curl_global_cleanup();
			store_close(st);
			return 1;
		}
		r = bucket_verify(bucket, st, stdout, &brep);
		checked = 1;
		bucket_free(bucket);
		curl_global_cleanup();
		if (r == GG_OK)
			printf("blob store %s: %llu blobs stored, %llu to store, %llu lost, %llu "
			       "of "
			       "a wrong size, %llu not checked (no answer)\n",
			       scfg.url, (unsigned long long)brep.stored,
			       (unsigned long long)brep.missing, (unsigned long long)brep.lost,
			       (unsigned long long)brep.wrong, (unsigned long long)brep.errors);
	}
	store_close(st);
	if (r != GG_OK) {
		fprintf(stderr, "ggufd: verify: %s\n", gg_strerror(r));
		return 1;
	}
	/* Blobs known but absent (not fetched yet, or quarantined before) are
	 * reported, not failures: only bytes that no longer match are. */
	printf("%llu blobs ok, %llu bad, %llu not present\n", (unsigned long long)rep.ok,
	       (unsigned long long)rep.bad, (unsigned long long)rep.missing);
	return rep.bad || (checked && (brep.wrong || brep.lost || brep.errors)) ? 1 : 0;
}

/* --- gc ------------------------------------------------------------------------ */

static int
cmd_gc(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "min-age", required_argument, NULL, 'a' },
		{ "quarantine-age", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = cli_default_store();
	struct store *st = NULL;
	struct store_gc_report rep;
	uint64_t min_age = GG_GC_MIN_AGE_SEC, qage = GG_QUARANTINE_AGE_SEC, files, bytes;
	int c, r;

	while ((c = cli_next_opt("gc", argc, argv, opts)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'a':
			if (parse_u64_str(optarg, 86400ull * 3650, &min_age) != GG_OK)
				return cli_usage_error("gc", "--min-age takes seconds, not '%s'",
						       optarg);
			break;
		case 'q':
			if (parse_u64_str(optarg, 86400ull * 3650, &qage) != GG_OK)
				return cli_usage_error(
					"gc", "--quarantine-age takes seconds, not '%s'", optarg);
			break;
		case 'h': fputs(usage_gc, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("gc", "unexpected argument '%s'", argv[optind]);
	if (cli_open_store(store, &st) != 0)
		return 1;
	r = store_gc(st, min_age, &rep);
	store_sweep_stale(st, min_age, qage, &files, &bytes);
	store_close(st);
	printf("removed %llu blobs (%llu bytes); kept %llu unreferenced (too recent, or needed)\n",
	       (unsigned long long)rep.blobs, (unsigned long long)rep.bytes,
	       (unsigned long long)rep.kept);
	printf("removed %llu stale partial or quarantined files (%llu bytes)\n",
	       (unsigned long long)files, (unsigned long long)bytes);
	if (r != GG_OK) {
		fprintf(stderr, "ggufd: gc: %s\n", gg_strerror(r));
		return 1;
	}
	return 0;
}

/* --- pin / unpin ----------------------------------------------------------- */

static int
pin_cmd(const char *cmd, int pinned, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "include", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = cli_default_store(), *globs[POLICY_MAX_ITEMS];
	struct store_pin_report rep;
	struct store *st = NULL;
	enum repo_type type;
	const char *repo, *rev = "main";
	char *arg = NULL, *at;
	size_t nglobs = 0;
	int c, r, rc = 1;

	while ((c = cli_next_opt(cmd, argc, argv, opts)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'i':
			if (nglobs == POLICY_MAX_ITEMS)
				return cli_usage_error(cmd, "at most 64 --include ('%s')", optarg);
			globs[nglobs++] = optarg;
			break;
		case 'h': fputs(usage_pin, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind == argc)
		return cli_usage_error(cmd, "needs REPO or REPO@REV");
	if (argc - optind > 1)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
	arg = xstrdup(argv[optind]);
	if ((at = strchr(arg, '@')) != NULL) {
		*at = '\0';
		rev = at + 1;
	}
	if (cli_split_repo(arg, &type, &repo) != 0 || *rev == '\0') {
		free(arg);
		return cli_usage_error(cmd, "'%s' is not REPO or REPO@REV", argv[optind]);
	}
	if (cli_open_store(store, &st) != 0) {
		free(arg);
		return 1;
	}
	r = store_pin_files(st, type, repo, rev, globs, nglobs, pinned, &rep);
	store_close(st);
	if (r == GG_ENOENT)
		fprintf(stderr, "ggufd: %s: no revision '%s' of %s in the store\n", cmd, rev,
			argv[optind]);
	else if (r != GG_OK)
		fprintf(stderr, "ggufd: %s: %s\n", cmd, gg_strerror(r));
	else if (rep.files == 0)
		fprintf(stderr, "ggufd: %s: no file of %s@%.12s matches\n", cmd, repo, rep.commit);
	else {
		printf("%s %llu files (%llu blobs, %llu bytes) of %s@%.12s\n",
		       pinned ? "pinned" : "unpinned", (unsigned long long)rep.files,
		       (unsigned long long)rep.blobs, (unsigned long long)rep.bytes, repo,
		       rep.commit);
		rc = 0;
	}
	free(arg);
	return rc;
}

static int
cmd_pin(int argc, char **argv)
{
	return pin_cmd("pin", 1, argc, argv);
}

static int
cmd_unpin(int argc, char **argv)
{
	return pin_cmd("unpin", 0, argc, argv);
}

/* --- audit ------------------------------------------------------------------ */

static int
cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "since", required_argument, NULL, 'S' },
		{ "token", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = cli_default_store(), *token = NULL;
	struct store *st = NULL;
	uint64_t since = 0;
	cJSON *arr = NULL, *e;
	int c, r;

	while ((c = cli_next_opt("audit", argc, argv, opts)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'S':
			if (parse_u64_str(optarg, UINT64_MAX, &since) != GG_OK)
				return cli_usage_error("audit",
						       "--since takes seconds since 1970, not '%s'",
						       optarg);
			break;
		case 't': token = optarg; break;
		case 'h': fputs(usage_audit, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("audit", "unexpected argument '%s'", argv[optind]);
	if (cli_open_store(store, &st) != 0)
		return 1;
	r = audit_list(st, since, token, &arr);
	store_close(st);
	if (r != GG_OK) {
		fprintf(stderr, "ggufd: audit: %s\n", gg_strerror(r));
		return 1;
	}
	cJSON_ArrayForEach (e, arr) {
		char *txt = cJSON_PrintUnformatted(e);
		if (txt == NULL)
			log_fatalx("cJSON_PrintUnformatted() failed: out of memory");
		puts(txt);
		free(txt);
	}
	cJSON_Delete(arr);
	return 0;
}

/* --- entry ------------------------------------------------------------------ */

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the command's name */
	const char *summary;
} commands[] = {
	{ "serve", cmd_serve, "serve the store over the Hub's HTTP protocol" },
	{ "config", cmd_config,
	  "print serve's effective configuration and where each value comes from" },
	{ "import", cmd_import, "add local files or a huggingface_hub cache to the store" },
	{ "pull", cmd_pull, "fetch a repo (or some of its files) from upstream into the store" },
	{ "ls", cmd_ls, "list repos, revisions and files in the store" },
	{ "token", cmd_token, "add, list and revoke gateway tokens" },
	{ "verify", cmd_verify, "re-hash every blob; quarantine those that do not match" },
	{ "pin", cmd_pin, "keep a repo's files (or some) from eviction" },
	{ "unpin", cmd_unpin, "let pinned files be evicted again" },
	{ "gc", cmd_gc, "remove blobs nothing needs (left by refused or abandoned uploads)" },
	{ "audit", cmd_audit, "print the upload gateway's audit log" },
	{ "registry", cmd_registry, "list a repo's GGUF files: sizes, sha256, quants, URLs" },
	{ "card", cmd_card, "print a model card for a repo's GGUF files" },
	{ "export", cmd_export, "write a repo's files as a huggingface_hub cache (offline hosts)" },
};

static void
usage(FILE *out)
{
	fputs(usage_head, out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fputs(usage_tail, out);
}

int
cli_main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("ggufd %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		if (argc > 2) {
			/* "ggufd help import" is "ggufd import --help". */
			char *sub[] = { argv[0], argv[2], (char *)"--help", NULL };
			return cli_main(3, sub);
		}
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(cmd, commands[i].name) == 0) {
			optind = 1;
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "ggufd: unknown command '%s' (see 'ggufd help')\n", cmd);
	return EXIT_USAGE;
}
