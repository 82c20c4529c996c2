/*
 * cli.c: the ggufd command line.
 *
 *   ggufd serve  [--listen HOST:PORT] [--store DIR] [--upstream URL|none] ...
 *   ggufd import [--store DIR] [--revision REV] [--message MSG] REPO FILE[=PATH]...
 *   ggufd import [--store DIR] --hf-cache DIR
 *   ggufd pull   [--store DIR] [--upstream URL] [--include GLOB]... [--pin] REPO
 *   ggufd ls     [--store DIR] [REPO]
 *   ggufd token  add NAME [--scope S] | ls | revoke NAME
 *   ggufd verify [--store DIR]
 *   ggufd help [COMMAND] | --help | --version
 *
 * The commands are one table (commands[] at the end): the dispatcher and
 * the command list of `ggufd help` both come from it.  Every command
 * parses its own flags with getopt_long; an unknown flag or command is one
 * line on stderr and exit status 2.
 */
#include "config.h"

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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "accesslog.h"
#include "app.h"
#include "audit.h"
#include "cli.h"
#include "fetch.h"
#include "gateway.h"
#include "pull.h"
#include "upstream.h"
#include "http.h"
#include "log.h"
#include "route.h"
#include "routes.h"
#include "store.h"
#include "token.h"
#include "tokens.h"
#include "util.h"

#define EXIT_USAGE 2
#define DEFAULT_STORE "./ggufd-data"
#define DEFAULT_LISTEN "0.0.0.0:8080"
#define DEFAULT_UPSTREAM "https://huggingface.co"

/*
 * The upstream token, as huggingface_hub reads it: HF_TOKEN, else
 * HUGGING_FACE_HUB_TOKEN, else HUGGINGFACE_API_KEY.  Never logged.
 */
static const char *
upstream_token_from_env(void)
{
	static const char *const names[] = { "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN",
					     "HUGGINGFACE_API_KEY" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = getenv(names[i]);
		if (v != NULL && *v != '\0')
			return v;
	}
	return NULL;
}

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

static const char usage_serve[] =
	"usage: ggufd serve [--listen HOST:PORT] [--store DIR] [--upstream URL|none]\n"
	"                   [--offline] [--ref-ttl SECONDS] [--max-transfers N]\n"
	"                   [--ca-bundle FILE] [--threads N] [--public-url URL]\n"
	"                   [--log-level LEVEL]\n"
	"\n"
	"  --listen HOST:PORT  address to bind (default 0.0.0.0:8080, env GGUFD_LISTEN);\n"
	"                      port 0 picks a free port, printed on the first log line\n"
	"  --store DIR         store directory (default ./ggufd-data, env GGUFD_STORE)\n"
	"  --upstream URL      the Hub to mirror (default https://huggingface.co, env\n"
	"                      GGUFD_UPSTREAM); 'none' serves the store alone\n"
	"  --offline           never ask upstream; answer from the store only\n"
	"  --ref-ttl SECONDS   how long a branch -> commit answer stays fresh (default 30)\n"
	"  --max-transfers N   concurrent upstream downloads (default 8; more wait)\n"
	"  --ca-bundle FILE    CA certificates for upstream TLS (env GGUFD_CA_BUNDLE)\n"
	"  --upload-repo REPO  a repo the upload gateway accepts (repeatable; default\n"
	"                      ruv/ruvltra)\n"
	"  --upload-allow GLOB non-GGUF files the gateway accepts (repeatable; default\n"
	"                      README.md *.md *.json *.txt *.safetensors *.yaml ...)\n"
	"  --gguf-prefix NAME  GGUF names must be NAME-[variant-]size-quant.gguf (ruvltra)\n"
	"  --upload-max-size BYTES  largest file the gateway accepts (default 64 GiB)\n"
	"  --protected-branch NAME  published .gguf and LFS files on it are not replaced\n"
	"                      but by an admin (repeatable; default main)\n"
	"  --allow-overwrite   admins replace them without X-Ggufd-Overwrite: yes\n"
	"  --card-files-table  a README.md replaced with an upload token keeps every\n"
	"                      .gguf name of the published card's files table\n"
	"  --multipart-threshold BYTES  LFS uploads above this go multipart (512 MiB)\n"
	"  --multipart-chunk BYTES  multipart part size (default 64 MiB)\n"
	"  --require-token-for-read  downloads need a ggufd read token too\n"
	"  --upload-url-ttl SECONDS  how long signed upload URLs stay valid (86400)\n"
	"  --access-log FILE   one line per request to FILE ('-': stderr; env\n"
	"                      GGUFD_ACCESS_LOG); SIGHUP reopens it (logrotate)\n"
	"  --threads N         HTTP worker threads (default 4)\n"
	"  --public-url URL    absolute base URL for pagination links (default: from Host)\n"
	"  --log-level LEVEL   error, warn, info (default) or debug (env GGUFD_LOG_LEVEL)\n";

static const char usage_import[] =
	"usage: ggufd import [--store DIR] [--revision REV] [--message MSG] REPO FILE[=PATH]...\n"
	"       ggufd import [--store DIR] --hf-cache DIR\n"
	"\n"
	"Copies files into the store, hashing each once, and records them in REPO at\n"
	"REV (default main) as a new commit that keeps the branch's earlier files.\n"
	"FILE lands at its base name, or at PATH (sub-folders allowed) with FILE=PATH.\n"
	"REV may be a 40-hex commit id: the files are added to that commit.\n"
	"REPO may start with datasets/ or spaces/ for other repo types.\n"
	"\n"
	"  --hf-cache DIR   import a huggingface_hub cache (DIR holds models--org--name\n"
	"                   folders, or is one), with its commits and refs\n";

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

static const char usage_gc[] =
	"usage: ggufd gc [--store DIR] [--min-age SECONDS]\n"
	"\n"
	"Removes the blobs nothing needs: no file of any revision names them, they\n"
	"are not pinned, and no upload job waiting to be published mentions them\n"
	"(blobs that refused or abandoned uploads left behind), once nobody has\n"
	"touched them for --min-age seconds (default 86400, which also keeps what a\n"
	"running server has just staged).  Prints what it freed.\n";

static const char usage_verify[] =
	"usage: ggufd verify [--store DIR]\n"
	"\n"
	"Re-hashes every blob.  Blobs whose bytes no longer match their name are\n"
	"moved to <store>/quarantine/ and reported; the exit status is 1 if any\n"
	"blob was bad.  Blobs known but not present (not fetched yet) are counted.\n";

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

static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
usage_error(const char *cmd, const char *fmt, ...)
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
 * getopt_long with our own one-line errors.  Returns the option, -1 at
 * the end, or '?' after printing the error.
 */
static int
next_opt(const char *cmd, int argc, char **argv, const struct option *opts)
{
	int c;
	opterr = 0;
	c = getopt_long(argc, argv, "h", opts, NULL);
	if (c == '?' || c == ':') {
		const char *bad = argv[optind - 1];
		if (optopt != 0 && c == '?')
			usage_error(cmd, "unknown option '%s'", bad);
		else
			usage_error(cmd, "option '%s' needs a value", bad);
		return '?';
	}
	return c;
}

static const char *
default_store(void)
{
	const char *s = getenv("GGUFD_STORE");
	return s && *s ? s : DEFAULT_STORE;
}

static int
open_store(const char *dir, struct store **st)
{
	int r = store_open(dir, st);
	if (r != GG_OK) {
		fprintf(stderr, "ggufd: cannot open store \"%s\": %s\n", dir, gg_strerror(r));
		return 1;
	}
	return 0;
}

/* "datasets/x/y" -> (REPO_DATASET, "x/y"). */
static int
split_repo(const char *arg, enum repo_type *type, const char **repo)
{
	*type = REPO_MODEL;
	*repo = arg;
	if (strncmp(arg, "datasets/", 9) == 0) {
		*type = REPO_DATASET;
		*repo = arg + 9;
	} else if (strncmp(arg, "spaces/", 7) == 0) {
		*type = REPO_SPACE;
		*repo = arg + 7;
	} else if (strncmp(arg, "models/", 7) == 0) {
		*repo = arg + 7;
	}
	return route_valid_repo(*repo) ? 0 : -1;
}

/* --- serve ------------------------------------------------------------------ */

static int
cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "store", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "public-url", required_argument, NULL, 'u' },
		{ "log-level", required_argument, NULL, 'v' },
		{ "upstream", required_argument, NULL, 'U' },
		{ "offline", no_argument, NULL, 'o' },
		{ "ref-ttl", required_argument, NULL, 'T' },
		{ "max-transfers", required_argument, NULL, 'm' },
		{ "ca-bundle", required_argument, NULL, 'c' },
		{ "upload-repo", required_argument, NULL, 1 },
		{ "upload-allow", required_argument, NULL, 2 },
		{ "gguf-prefix", required_argument, NULL, 3 },
		{ "upload-max-size", required_argument, NULL, 4 },
		{ "multipart-threshold", required_argument, NULL, 5 },
		{ "multipart-chunk", required_argument, NULL, 6 },
		{ "require-token-for-read", no_argument, NULL, 7 },
		{ "upload-url-ttl", required_argument, NULL, 8 },
		{ "protected-branch", required_argument, NULL, 9 },
		{ "allow-overwrite", no_argument, NULL, 10 },
		{ "access-log", required_argument, NULL, 11 },
		{ "card-files-table", no_argument, NULL, 12 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct upstream_config ucfg;
	struct upstream *up = NULL;
	struct fetcher *fm = NULL;
	struct pull_jobs *jobs = NULL;
	struct gateway *gw = NULL;
	struct gateway_config gcfg;
	int custom_repos = 0, custom_globs = 0, custom_branches = 0;
	const char *upstream = getenv("GGUFD_UPSTREAM");
	uint64_t ttl = GG_META_TTL_SEC, transfers = GG_MAX_TRANSFERS;
	struct server_config cfg;
	struct app app;
	struct server *srv = NULL;
	struct store *st = NULL;
	const char *listen = getenv("GGUFD_LISTEN"), *store = default_store();
	const char *lvl = getenv("GGUFD_LOG_LEVEL");
	const char *access_log = getenv("GGUFD_ACCESS_LOG");
	char bound[160];
	uint64_t threads = 4;
	sigset_t set;
	int c, sig, rc = 1;

	memset(&cfg, 0, sizeof(cfg));
	memset(&app, 0, sizeof(app));
	memset(&ucfg, 0, sizeof(ucfg));
	memset(&gcfg, 0, sizeof(gcfg));
	policy_defaults(&gcfg.policy);
	ucfg.ca_bundle = getenv("GGUFD_CA_BUNDLE");
	if (upstream == NULL || *upstream == '\0')
		upstream = DEFAULT_UPSTREAM;
	if (listen == NULL || *listen == '\0')
		listen = DEFAULT_LISTEN;
	while ((c = next_opt("serve", argc, argv, opts)) != -1) {
		switch (c) {
		case 'l': listen = optarg; break;
		case 's': store = optarg; break;
		case 't':
			if (parse_u64_str(optarg, 256, &threads) != GG_OK || threads == 0)
				return usage_error("serve", "--threads takes 1 to 256, not '%s'",
						   optarg);
			break;
		case 'u': cfg.public_url = optarg; break;
		case 'v': lvl = optarg; break;
		case 'U': upstream = optarg; break;
		case 'o': app.offline = 1; break;
		case 'T':
			if (parse_u64_str(optarg, 86400 * 365, &ttl) != GG_OK)
				return usage_error("serve", "--ref-ttl takes seconds, not '%s'",
						   optarg);
			break;
		case 'm':
			if (parse_u64_str(optarg, 1024, &transfers) != GG_OK || transfers == 0)
				return usage_error("serve",
						   "--max-transfers takes 1 to 1024, not '%s'",
						   optarg);
			break;
		case 'c': ucfg.ca_bundle = optarg; break;
		case 1:
			if (!custom_repos)
				gcfg.policy.nrepos = 0;
			custom_repos = 1;
			if (gcfg.policy.nrepos == POLICY_MAX_ITEMS)
				return usage_error("serve", "at most 64 --upload-repo ('%s')",
						   optarg);
			gcfg.policy.repos[gcfg.policy.nrepos++] = optarg;
			break;
		case 2:
			if (!custom_globs)
				gcfg.policy.nglobs = 0;
			custom_globs = 1;
			if (gcfg.policy.nglobs == POLICY_MAX_ITEMS)
				return usage_error("serve", "at most 64 --upload-allow ('%s')",
						   optarg);
			gcfg.policy.globs[gcfg.policy.nglobs++] = optarg;
			break;
		case 3: gcfg.policy.gguf_prefix = optarg; break;
		case 4:
		case 5:
		case 6: {
			uint64_t v;
			if (parse_u64_str(optarg, 1ull << 50, &v) != GG_OK || v == 0)
				return usage_error("serve", "a size in bytes is needed, not '%s'",
						   optarg);
			if (c == 4)
				gcfg.policy.max_size = v;
			else if (c == 5)
				gcfg.multipart_threshold = v;
			else
				gcfg.chunk_size = v;
			break;
		}
		case 7: app.require_read_token = 1; break;
		case 8: {
			uint64_t v;
			if (parse_u64_str(optarg, 7 * 86400, &v) != GG_OK || v == 0)
				return usage_error("serve",
						   "--upload-url-ttl takes 1 to 604800 seconds, "
						   "not '%s'",
						   optarg);
			gcfg.href_ttl = (unsigned)v;
			break;
		}
		case 9:
			if (!custom_branches)
				gcfg.policy.nprotected = 0;
			custom_branches = 1;
			if (gcfg.policy.nprotected == POLICY_MAX_ITEMS)
				return usage_error("serve", "at most 64 --protected-branch ('%s')",
						   optarg);
			gcfg.policy.protected_branches[gcfg.policy.nprotected++] = optarg;
			break;
		case 10: gcfg.policy.allow_overwrite = 1; break;
		case 11: access_log = optarg; break;
		case 12: gcfg.policy.card_files_table = 1; break;
		case 'h': fputs(usage_serve, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("serve", "unexpected argument '%s'", argv[optind]);
	if (lvl != NULL && log_set_level_name(lvl) != 0)
		return usage_error("serve", "unknown log level '%s'", lvl);
	if (server_parse_listen(listen, &cfg) != GG_OK)
		return usage_error("serve", "--listen wants HOST:PORT, not '%s'", listen);
	cfg.threads = (unsigned)threads;

	/* Signals are taken synchronously by the main thread; the server's
	 * threads inherit the blocked mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (access_log != NULL && *access_log != '\0' && accesslog_open(access_log) != GG_OK) {
		fprintf(stderr, "ggufd: serve: cannot open the access log '%s'\n", access_log);
		return 1;
	}
	if (open_store(store, &st) != 0)
		return 1;
	if (strcmp(upstream, "none") != 0) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		ucfg.base = upstream;
		ucfg.token = upstream_token_from_env();
		ucfg.max_transfers = (unsigned)transfers;
		if (upstream_new(&ucfg, &up) != GG_OK) {
			rc = usage_error("serve", "--upstream wants a URL or 'none', not '%s'",
					 upstream);
			goto done;
		}
		fetcher_new(st, up, &fm);
		jobs = pull_jobs_new(st, up, fm);
	}
	gcfg.public_url = cfg.public_url;
	gw = gateway_new(st, app.offline ? NULL : up, &gcfg);
	app.st = st;
	app.up = up;
	app.fm = fm;
	app.jobs = jobs;
	app.gw = gw;
	app.ref_ttl = ttl ? (unsigned)ttl : GG_META_TTL_SEC;
	cfg.app = &app;
	cfg.routes = routes_table;
	cfg.nroutes = routes_count;
	if (server_start(&cfg, &srv, bound, sizeof(bound)) != GG_OK) {
		fprintf(stderr, "ggufd: cannot listen on %s\n", listen);
		goto done;
	}
	log_info("listening on %s (store %s, upstream %s%s)", bound, store, up ? upstream : "none",
		 app.offline ? ", offline" : "");
	/* SIGHUP reopens the access log (logrotate); SIGINT and SIGTERM stop. */
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
		if (accesslog_reopen() != GG_OK)
			log_warnx("SIGHUP: cannot reopen the access log");
		else
			log_info("SIGHUP: access log reopened");
	}
	log_info("signal %d: shutting down", sig);
	rc = 0;
done:
	/* Fetches first: their readers are woken and cut, then connections. */
	fetcher_stop(fm);
	server_stop(srv);
	pull_jobs_free(jobs);
	gateway_free(gw);
	fetcher_free(fm);
	upstream_free(up);
	if (up != NULL)
		curl_global_cleanup();
	store_close(st);
	accesslog_close();
	return rc;
}

/* --- import ----------------------------------------------------------------- */

static int
import_files(struct store *st, const char *repo_arg, const char *rev, const char *msg, int n,
	     char **args)
{
	struct store_item *items = xcalloc((size_t)n, sizeof(*items));
	char **paths = xcalloc((size_t)n, sizeof(*paths));
	char **srcs = xcalloc((size_t)n, sizeof(*srcs));
	char commit[GG_SHA1_HEX + 1];
	enum repo_type type;
	const char *repo;
	int rc = 1, r;

	if (split_repo(repo_arg, &type, &repo) != 0) {
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
	}
	r = store_import(st, type, repo, rev, items, (size_t)n, msg, commit);
	if (r != GG_OK) {
		fprintf(stderr, "ggufd: import failed: %s\n", gg_strerror(r));
		goto done;
	}
	for (int i = 0; i < n; i++)
		printf("imported %s %s %llu\n", paths[i], items[i].digest.sha256,
		       (unsigned long long)items[i].digest.size);
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

static int
cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "revision", required_argument, NULL, 'r' },
		{ "message", required_argument, NULL, 'm' },
		{ "hf-cache", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = default_store(), *rev = "main", *cache = NULL, *msg = NULL;
	struct store *st = NULL;
	int c, rc;

	while ((c = next_opt("import", argc, argv, opts)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'r': rev = optarg; break;
		case 'm': msg = optarg; break;
		case 'c': cache = optarg; break;
		case 'h': fputs(usage_import, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (cache != NULL && optind < argc)
		return usage_error("import", "--hf-cache takes no REPO or FILE ('%s')",
				   argv[optind]);
	if (cache == NULL && argc - optind < 2)
		return usage_error("import", "needs REPO and at least one FILE");
	if (strlen(rev) == 0 || strlen(rev) > GG_MAX_REV_LEN || strchr(rev, '\n'))
		return usage_error("import", "invalid revision '%s'", rev);
	if (open_store(store, &st) != 0)
		return 1;
	if (cache != NULL)
		rc = import_hf_cache(st, cache);
	else
		rc = import_files(st, argv[optind], rev, msg, argc - optind - 1, argv + optind + 1);
	store_close(st);
	return rc;
}

struct pull_cli {
	int tty;
	uint64_t t0;
	const char *cur;
};

static void
pull_cli_listed(void *ctx, const char *commit, size_t files, uint64_t bytes)
{
	(void)ctx;
	fprintf(stderr, "commit %.12s: %zu files, %llu bytes to check\n", commit, files,
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
		fprintf(stderr, "\r  %-40.40s [%s] %3d%% %8.1f MB/s ETA %ld:%02ld ", path, bar,
			size ? (int)(100.0 * (double)got / (double)size) : 100, rate / 1e6,
			eta / 60, eta % 60);
		if (final)
			fputc('\n', stderr);
	} else if (final) {
		fprintf(stderr, "  %s: %llu bytes in %.1f s (%.1f MB/s)\n", path,
			(unsigned long long)got, secs, rate / 1e6);
	}
}

static void
pull_cli_skipped(void *ctx, const char *path, uint64_t size)
{
	(void)ctx;
	(void)size;
	fprintf(stderr, "  %s: already in the store\n", path);
}

static void
pull_cli_failed(void *ctx, const char *path, const char *why)
{
	struct pull_cli *c = ctx;
	if (c->tty && c->cur == path)
		fputc('\n', stderr);
	fprintf(stderr, "  %s: FAILED: %s\n", path, why);
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
	const char *store = default_store(), *rev = "main", *upstream = getenv("GGUFD_UPSTREAM");
	struct pull_cli pc = { isatty(2), 0, NULL };
	struct pull_events ev = { pull_cli_listed, pull_cli_progress, pull_cli_skipped,
				  pull_cli_failed, &pc };
	struct upstream_config ucfg;
	struct upstream *up = NULL;
	struct fetcher *fm = NULL;
	struct store *st = NULL;
	struct pull_req req;
	struct pull_report rep;
	const char *repo;
	int c, rc = 1, r;

	memset(&ucfg, 0, sizeof(ucfg));
	memset(&req, 0, sizeof(req));
	ucfg.ca_bundle = getenv("GGUFD_CA_BUNDLE");
	if (upstream == NULL || *upstream == '\0')
		upstream = DEFAULT_UPSTREAM;
	while ((c = next_opt("pull", argc, argv, opts)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'U': upstream = optarg; break;
		case 'r': rev = optarg; break;
		case 'i':
			if (req.nglobs == PULL_MAX_GLOBS)
				return usage_error("pull", "at most 64 --include globs ('%s')",
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
		return usage_error("pull", "needs exactly one REPO (%d given)", argc - optind);
	if (split_repo(argv[optind], &req.type, &repo) != 0)
		return usage_error("pull", "'%s' is not a valid repo id", argv[optind]);
	if (strlen(rev) == 0 || strlen(rev) > GG_MAX_REV_LEN)
		return usage_error("pull", "invalid revision '%s'", rev);
	if (strcmp(upstream, "none") == 0)
		return usage_error("pull", "needs an upstream, not '%s'", upstream);
	snprintf(req.repo, sizeof(req.repo), "%s", repo);
	snprintf(req.rev, sizeof(req.rev), "%s", rev);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ucfg.base = upstream;
	ucfg.token = upstream_token_from_env();
	ucfg.max_transfers = 4;
	if (upstream_new(&ucfg, &up) != GG_OK) {
		rc = usage_error("pull", "--upstream wants a URL, not '%s'", upstream);
		goto done;
	}
	if (open_store(store, &st) != 0)
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
	const char *store = default_store(), *scope_name = "upload", *sub;
	const struct tokens_actor who = { NULL, "cli" };
	struct tokens_bounds bounds;
	struct store *st = NULL;
	unsigned scope;
	int c, r, rc = 1;

	memset(&bounds, 0, sizeof(bounds));
	while ((c = next_opt("token", argc, argv, opts)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'S': scope_name = optarg; break;
		case 'r':
		case 'p':
			r = tokens_bounds_add(&bounds, c == 'r' ? "repo" : "path", optarg);
			if (r == GG_ETOOBIG)
				return usage_error("token",
						   "--repo and --path: at most %d bytes in all",
						   GG_MAX_TOKEN_BOUNDS);
			if (r != GG_OK)
				return usage_error("token", "--%s: '%s' is not a valid %s",
						   c == 'r' ? "repo" : "path", optarg,
						   c == 'r' ? "NS/NAME" : "glob");
			break;
		case 'h': fputs(usage_token, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error("token", "needs a subcommand: add, ls or revoke");
	sub = argv[optind];
	if ((scope = token_scope_parse(scope_name)) == 0)
		return usage_error("token", "--scope is read, upload or admin, not '%s'",
				   scope_name);
	if (strcmp(sub, "add") == 0 || strcmp(sub, "revoke") == 0) {
		if (argc - optind != 2)
			return usage_error("token", "%s needs exactly one NAME", sub);
	} else if (strcmp(sub, "ls") == 0) {
		if (argc - optind != 1)
			return usage_error("token", "ls takes no argument ('%s')",
					   argv[optind + 1]);
	} else {
		return usage_error("token", "unknown subcommand '%s'", sub);
	}
	if (open_store(store, &st) != 0)
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

	printf("    %-48s %12llu  sha256:%.12s%s", path, (unsigned long long)f->size, f->sha256,
	       (f->flags & INDEX_FILE_LFS) ? "  lfs" : "");
	if (store_view_blob(&c->v, f->sha256, &b) == GG_OK && b.has_gguf) {
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
	const char *store = default_store();
	struct store *st = NULL;
	struct ls_ctx c;
	int ch, rc;

	memset(&c, 0, sizeof(c));
	while ((ch = next_opt("ls", argc, argv, opts)) != -1) {
		switch (ch) {
		case 's': store = optarg; break;
		case 'h': fputs(usage_ls, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (argc - optind > 1)
		return usage_error("ls", "unexpected argument '%s'", argv[optind + 1]);
	if (optind < argc && split_repo(argv[optind], &c.only_type, &c.only_repo) != 0)
		return usage_error("ls", "'%s' is not a valid repo id", argv[optind]);
	if (open_store(store, &st) != 0)
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = default_store();
	struct store *st = NULL;
	struct store_verify_report rep;
	int c, r;

	while ((c = next_opt("verify", argc, argv, opts)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'h': fputs(usage_verify, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("verify", "unexpected argument '%s'", argv[optind]);
	if (open_store(store, &st) != 0)
		return 1;
	r = store_verify(st, verify_bad, NULL, &rep);
	store_close(st);
	if (r != GG_OK) {
		fprintf(stderr, "ggufd: verify: %s\n", gg_strerror(r));
		return 1;
	}
	/* Blobs known but absent (not fetched yet, or quarantined before) are
	 * reported, not failures: only bytes that no longer match are. */
	printf("%llu blobs ok, %llu bad, %llu not present\n", (unsigned long long)rep.ok,
	       (unsigned long long)rep.bad, (unsigned long long)rep.missing);
	return rep.bad ? 1 : 0;
}

/* --- gc ------------------------------------------------------------------------ */

static int
cmd_gc(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "min-age", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = default_store();
	struct store *st = NULL;
	struct store_gc_report rep;
	uint64_t min_age = GG_GC_MIN_AGE_SEC;
	int c, r;

	while ((c = next_opt("gc", argc, argv, opts)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'a':
			if (parse_u64_str(optarg, 86400ull * 3650, &min_age) != GG_OK)
				return usage_error("gc", "--min-age takes seconds, not '%s'",
						   optarg);
			break;
		case 'h': fputs(usage_gc, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("gc", "unexpected argument '%s'", argv[optind]);
	if (open_store(store, &st) != 0)
		return 1;
	r = store_gc(st, min_age, &rep);
	store_close(st);
	printf("removed %llu blobs (%llu bytes); kept %llu unreferenced (too recent, or needed)\n",
	       (unsigned long long)rep.blobs, (unsigned long long)rep.bytes,
	       (unsigned long long)rep.kept);
	if (r != GG_OK) {
		fprintf(stderr, "ggufd: gc: %s\n", gg_strerror(r));
		return 1;
	}
	return 0;
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
	const char *store = default_store(), *token = NULL;
	struct store *st = NULL;
	uint64_t since = 0;
	cJSON *arr = NULL, *e;
	int c, r;

	while ((c = next_opt("audit", argc, argv, opts)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'S':
			if (parse_u64_str(optarg, UINT64_MAX, &since) != GG_OK)
				return usage_error("audit",
						   "--since takes seconds since 1970, not '%s'",
						   optarg);
			break;
		case 't': token = optarg; break;
		case 'h': fputs(usage_audit, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("audit", "unexpected argument '%s'", argv[optind]);
	if (open_store(store, &st) != 0)
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
	{ "import", cmd_import, "add local files or a huggingface_hub cache to the store" },
	{ "pull", cmd_pull, "fetch a repo (or some of its files) from upstream into the store" },
	{ "ls", cmd_ls, "list repos, revisions and files in the store" },
	{ "token", cmd_token, "add, list and revoke gateway tokens" },
	{ "verify", cmd_verify, "re-hash every blob; quarantine those that do not match" },
	{ "gc", cmd_gc, "remove blobs nothing needs (left by refused or abandoned uploads)" },
	{ "audit", cmd_audit, "print the upload gateway's audit log" },
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
