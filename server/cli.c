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
 * the command list of `ggufd help` both come from it.  Every command
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

#define EXIT_USAGE 2
#define DEFAULT_UPSTREAM "https://huggingface.co"

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

static const char usage_serve_head[] =
	"usage: ggufd serve [--config FILE] [--listen HOST:PORT] [--store DIR]\n"
	"                   [--upstream URL|none] [option...]\n"
	"\n"
	"  --config FILE       read options from FILE, 'key = value' lines (env\n"
	"                      GGUFD_CONFIG); see 'ggufd config --help'\n";
static const char usage_serve_tail[] =
	"\n"
	"Every option is also an environment variable, GGUFD_ and its name in capitals\n"
	"with '_' for '-' (GGUFD_LISTEN, GGUFD_UPLOAD_REPO=a,b), and a config file key\n"
	"(listen = 0.0.0.0:8080).  Flags win over the environment, the environment\n"
	"over the file, the file over the defaults; a repeatable option is taken whole\n"
	"from the highest source that sets it.  Booleans take true/false/yes/no/1/0\n"
	"(--offline=no).  SIGHUP reopens the access log and re-reads the config file:\n"
	"log-level, ref-ttl and the upload rules change at once, the rest at restart.\n"
	"The upstream token comes from HF_TOKEN, HUGGING_FACE_HUB_TOKEN or\n"
	"HUGGINGFACE_API_KEY.\n";

static const char usage_config[] =
	"usage: ggufd config [--config FILE] [serve option...]\n"
	"\n"
	"Prints the configuration 'ggufd serve' would run with, given the same\n"
	"options, environment and config file: one 'key = value' line per value\n"
	"(a config file as it stands), each with a comment naming its source: flag,\n"
	"env GGUFD_X, FILE:LINE or default.  Whether the upstream token is set, and\n"
	"by which variable, is said; the token itself never is.  A bad option, value\n"
	"or config file is the same error as for serve (exit status 2).\n";

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

static const char usage_registry[] =
	"usage: ggufd registry [--store DIR] [--revision REV] [--format json|sha256sums]\n"
	"                      [--base URL] REPO\n"
	"\n"
	"Prints the GGUF files of REPO at REV (default main; a branch, tag or commit) as\n"
	"the store knows them: file name, size, sha256, quant, architecture, parameters,\n"
	"context length, shard set, download URL on this mirror, and whether the bytes\n"
	"are here (\"present\": a mirrored file can be known before it is fetched).\n"
	"The same as GET /api/ggufd/registry/REPO?revision=REV on a running ggufd.\n"
	"\n"
	"  --format json        one JSON object (default)\n"
	"  --format sha256sums  SHA256SUMS lines ('<sha256>  <file>') for sha256sum -c\n"
	"  --base URL           the mirror's address in download URLs\n"
	"                       (default http://localhost:8080)\n";

static const char usage_card[] =
	"usage: ggufd card [--store DIR] [--revision REV] [--base URL] [--license ID]\n"
	"                  [--language CODES] [--base-model REPO] REPO\n"
	"\n"
	"Prints a model card (README.md) for the GGUF files of REPO at REV: YAML front\n"
	"matter the upload gateway's card policy accepts (license, language, tags, and\n"
	"base_model where the GGUF names one), a files table (the rows\n"
	"--card-files-table keeps), a hardware table estimated from file sizes and the\n"
	"GGUF's shape (RAM = file size + KV cache), and usage lines for curl,\n"
	"HF_ENDPOINT, llama.cpp, node-llama-cpp and Ollama against this mirror.\n"
	"\n"
	"  --base URL          the mirror's address (default http://localhost:8080)\n"
	"  --license ID        default: the GGUF's general.license, else \"other\"\n"
	"  --language CODES    comma-separated; default: general.languages, else \"en\"\n"
	"  --base-model REPO   default: general.base_model.0.repo_url on the Hub\n";

static const char usage_export[] =
	"usage: ggufd export [--store DIR] --hf-cache DIR [--include GLOB]... [--copy]\n"
	"                    REPO[@REV]\n"
	"\n"
	"Writes the files of REPO at REV (default main; a branch, tag or commit) that\n"
	"the store holds as a huggingface_hub cache in DIR: models--org--name/ with\n"
	"blobs/ (named by sha256 for LFS files, by git blob sha1 for the others),\n"
	"snapshots/<commit>/ (relative symlinks to the blobs) and refs/REV.  Then\n"
	"HF_HUB_OFFLINE=1 HF_HUB_CACHE=DIR (huggingface_hub) or LLAMA_CACHE=DIR\n"
	"(llama.cpp) find them with no network, and 'ggufd import --hf-cache DIR'\n"
	"reads them back.  Blobs are hard links to the store's where DIR is on the\n"
	"same filesystem (never write to them in place), else copies.  Files the\n"
	"store knows but does not hold (not fetched yet) are skipped with a warning.\n"
	"Exit status 1 if a file could not be written.\n"
	"\n"
	"  --include GLOB   only files matching GLOB (the path or its base name)\n"
	"  --copy           copy the blobs even where a hard link would do\n";

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
 * getopt_long with our own one-line errors (conf_getopt).  Returns the
 * option, -1 at the end, or '?' after printing the error.
 */
static int
next_opt(const char *cmd, int argc, char **argv, const struct option *opts)
{
	char err[256];
	int c = conf_getopt(argc, argv, opts, err, sizeof(err));
	if (c == '?')
		usage_error(cmd, "%s", err);
	return c;
}

static const char *
default_store(void)
{
	const char *s = getenv("GGUFD_STORE");
	return s && *s ? s : conf_options[CONF_STORE].def;
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
	return route_split_repo(arg, type, repo);
}

/*
 * Sets the store's quota from a --max-store-size value (checked by
 * conf_load): bytes, or a percentage of the store's filesystem.  "" is
 * no quota.  0, or -1 if the filesystem cannot be measured.
 */
static int
apply_quota(struct store *st, const char *v)
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

/* --- serve ------------------------------------------------------------------ */

static void
serve_usage(void)
{
	fputs(usage_serve_head, stdout);
	conf_usage(stdout);
	fputs(usage_serve_tail, stdout);
}

/*
 * The graceful stop, after the first SIGINT or SIGTERM: new connections
 * are refused at once, and the requests in progress (downloads being sent,
 * clients reading a fetch in flight, uploads) get up to `timeout` seconds
 * to end.  A second SIGINT or SIGTERM ends the wait at once.  Whatever is
 * still running then is cut by server_stop.
 */
static void
serve_drain(struct server *srv, const sigset_t *set, uint64_t timeout)
{
	uint64_t t0 = now_us(), deadline = t0 + timeout * 1000000u;
	unsigned n = server_quiesce(srv);
	int sig;

	log_info("draining: new connections refused, %u request(s) in progress, waiting up to "
		 "%llu s for them (a second signal stops at once)",
		 n, (unsigned long long)timeout);
	while ((n = server_active(srv)) > 0) {
		uint64_t now = now_us(), wait = 100000; /* polled: a request's end has no signal */
		struct timespec ts;

		if (now >= deadline) {
			log_warnx("drain: timeout after %llu s: cutting %u request(s) in progress",
				  (unsigned long long)timeout, n);
			return;
		}
		if (deadline - now < wait)
			wait = deadline - now;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(wait * 1000u);
		sig = sigtimedwait(set, NULL, &ts);
		/* SIGHUP: the access log only (logrotate); the config is not
		 * re-read while stopping. */
		if (sig == SIGHUP && accesslog_reopen() != GG_OK)
			log_warnx("SIGHUP: cannot reopen the access log");
		if (sig == SIGINT || sig == SIGTERM) {
			log_warnx("signal %d during the drain: cutting %u request(s) in progress",
				  sig, n);
			return;
		}
	}
	log_info("drained in %.1f s: no request in progress", (double)(now_us() - t0) / 1e6);
}

/* A string option, or NULL when it is unset or empty. */
static const char *
conf_nonempty(const struct conf *c, enum conf_id id)
{
	const char *v = conf_str(c, id);
	return v != NULL && *v != '\0' ? v : NULL;
}

static int
list_into(const struct conf *c, enum conf_id id, char **dst)
{
	char *const *items;
	size_t n = conf_list(c, id, &items);

	/* The table allows at most POLICY_MAX_ITEMS of each. */
	for (size_t i = 0; i < n && i < POLICY_MAX_ITEMS; i++)
		dst[i] = items[i];
	return n < POLICY_MAX_ITEMS ? (int)n : POLICY_MAX_ITEMS;
}

/* The upload rules of c; the strings are borrowed from c (the gateway
 * copies them). */
static void
policy_from_conf(const struct conf *c, struct policy *p)
{
	policy_defaults(p);
	p->nrepos = list_into(c, CONF_UPLOAD_REPO, p->repos);
	p->nglobs = list_into(c, CONF_UPLOAD_ALLOW, p->globs);
	p->nprotected = list_into(c, CONF_PROTECTED_BRANCH, p->protected_branches);
	p->gguf_prefix = conf_str(c, CONF_GGUF_PREFIX);
	p->max_size = conf_u64(c, CONF_UPLOAD_MAX_SIZE);
	p->allow_overwrite = conf_u64(c, CONF_ALLOW_OVERWRITE) != 0;
	p->card_files_table = conf_u64(c, CONF_CARD_FILES_TABLE) != 0;
}

/*
 * SIGHUP: reopens the access log, re-reads the config file (the flags and
 * the environment cannot have changed) and puts in force what can change
 * under running requests: the CONF_RELOAD options.  The others keep their
 * values from the start (boot) and are named as needing a restart.  A bad
 * file changes nothing.  *cur is the configuration in force.
 */
static void
serve_reload(const struct conf *boot, struct conf **cur, struct app *app, struct gateway *gw)
{
	const char *alog = !accesslog_enabled()          ? "no access log"
			   : accesslog_reopen() == GG_OK ? "access log reopened"
							 : "cannot reopen the access log";
	struct conf *fresh = NULL;
	char err[512];
	struct buf changed;
	int lvl;

	if (conf_file(*cur)[0] == '\0') {
		log_info("SIGHUP: %s; no config file to re-read (--config, GGUFD_CONFIG)", alog);
		return;
	}
	if (conf_reload(*cur, &fresh, err, sizeof(err)) != 0) {
		log_warnx("SIGHUP: %s; %s: keeping the running configuration", alog, err);
		return;
	}
	buf_init(&changed, 4096);
	for (int i = 0; i < CONF_COUNT; i++) {
		const struct conf_option *o = &conf_options[i];
		if (!(o->flags & CONF_RELOAD)) {
			if (!conf_same(boot, fresh, (enum conf_id)i))
				log_warnx("%s changed in %s: needs a restart", o->name,
					  conf_file(fresh));
			continue;
		}
		if (!conf_same(*cur, fresh, (enum conf_id)i))
			buf_printf(&changed, "%s%s", changed.len ? ", " : "", o->name);
	}
	app->ref_ttl = conf_u64(fresh, CONF_REF_TTL) ? (unsigned)conf_u64(fresh, CONF_REF_TTL)
						     : GG_META_TTL_SEC;
	app->require_read_token = conf_u64(fresh, CONF_REQUIRE_TOKEN_FOR_READ) != 0;
	/* The lists are fresh's: swapped before *cur is freed below. */
	pthread_mutex_lock(&app->public_mu);
	app->npublic_repos = conf_list(fresh, CONF_PUBLIC_REPO, &app->public_repos);
	pthread_mutex_unlock(&app->public_mu);
	atomic_fetch_add(&app->policy_gen, 1);
	if (!conf_same(*cur, fresh, CONF_MAX_STORE_SIZE) &&
	    apply_quota(app->st, conf_str(fresh, CONF_MAX_STORE_SIZE)) != 0)
		log_warnx("SIGHUP: the store's filesystem cannot be measured; quota unchanged");
	if (gw != NULL) {
		struct policy p;
		policy_from_conf(fresh, &p);
		gateway_set_policy(gw, &p);
	}
	if (!conf_same(*cur, fresh, CONF_ACCESS_LOG)) {
		const char *path = conf_nonempty(fresh, CONF_ACCESS_LOG);
		if (path == NULL)
			accesslog_close();
		else if (accesslog_open(path) != GG_OK)
			log_warnx("SIGHUP: cannot open the access log '%s'; the old one is kept",
				  path);
	}
	/* The summary is logged at the more verbose of the two levels, so that
	 * a move from error to info is seen too. */
	lvl = log_level_from_name(conf_str(fresh, CONF_LOG_LEVEL));
	if (lvl >= LOG_LEVEL_INFO)
		log_set_level((enum log_level)lvl);
	log_info("SIGHUP: %s; re-read %s: %s%s", alog, conf_file(fresh),
		 changed.len ? buf_cstr(&changed) : "nothing changed",
		 changed.len ? " changed" : "");
	log_set_level((enum log_level)lvl);
	buf_free(&changed);
	if (*cur != boot)
		conf_free(*cur);
	*cur = fresh;
}

/* Says at start-up who reads the repos upstream keeps private. */
static void
log_visibility(const struct app *app)
{
	if (app->up == NULL || !upstream_has_token(app->up))
		return;
	if (app->require_read_token) {
		log_info("private and gated upstream repos: every read needs a ggufd token "
			 "(--require-token-for-read)");
		return;
	}
	log_info("private and gated upstream repos (those upstream does not serve anonymously) "
		 "need a ggufd read token unless listed with --public-repo (%zu listed)",
		 app->npublic_repos);
}

/* --blob-store: the bucket checked (credentials, existence) before
 * anything is served.  0, or 1 with the reason on stderr. */
static int
open_blob_store(const struct conf *c, struct bucket **out)
{
	struct s3_config cfg;
	char err[700];

	memset(&cfg, 0, sizeof(cfg));
	cfg.url = conf_str(c, CONF_BLOB_STORE);
	cfg.endpoint = conf_nonempty(c, CONF_S3_ENDPOINT);
	cfg.ca_bundle = conf_nonempty(c, CONF_CA_BUNDLE);
	cfg.part_size = conf_u64(c, CONF_S3_PART_SIZE);
	cfg.send_rate = conf_u64(c, CONF_S3_UPLOAD_RATE);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (bucket_open(&cfg, conf_u64(c, CONF_S3_CREATE_BUCKET) != 0, out, err, sizeof(err)) !=
	    0) {
		fprintf(stderr, "ggufd: serve: %s\n", err);
		curl_global_cleanup();
		return 1;
	}
	return 0;
}

static int
cmd_serve(int argc, char **argv)
{
	struct upstream_config ucfg;
	struct upstream *up = NULL;
	struct fetcher *fm = NULL;
	struct pull_jobs *jobs = NULL;
	struct gateway *gw = NULL;
	struct gateway_config gcfg;
	struct bucket *bucket = NULL;
	struct conf *boot = NULL, *cur = NULL;
	const char *upstream, *listen, *store, *access_log;
	struct maint_config mcfg = { GG_GC_INTERVAL_SEC, GG_GC_MIN_AGE_SEC, GG_QUARANTINE_AGE_SEC };
	struct maint *maint = NULL;
	uint64_t ttl;
	struct server_config cfg;
	struct app app;
	struct server *srv = NULL;
	struct store *st = NULL;
	char bound[160], err[512], shown_up[512];
	sigset_t set;
	int sig, rc = 1;

	memset(&cfg, 0, sizeof(cfg));
	memset(&app, 0, sizeof(app));
	memset(&ucfg, 0, sizeof(ucfg));
	memset(&gcfg, 0, sizeof(gcfg));
	rc = conf_load(argc, argv, &boot, err, sizeof(err));
	if (rc == 1) {
		serve_usage();
		return 0;
	}
	if (rc != 0)
		return usage_error("serve", "%s", err);
	rc = 1;
	cur = boot;
	/* Every value was checked by conf_load; these cannot fail. */
	listen = conf_str(boot, CONF_LISTEN);
	store = conf_str(boot, CONF_STORE);
	/* The tiers in order; a "none" drops the items before it (so a
	 * later --upstream URL overrides an earlier --upstream none, and a
	 * later none overrides everything). */
	ucfg.nbases = conf_list(boot, CONF_UPSTREAM, &ucfg.bases);
	for (size_t i = ucfg.nbases; i-- > 0;) {
		if (strcmp(ucfg.bases[i], "none") == 0) {
			ucfg.bases += i + 1;
			ucfg.nbases -= i + 1;
			break;
		}
	}
	upstream = ucfg.nbases > 0 ? ucfg.bases[0] : "none";
	ucfg.npeers = conf_list(boot, CONF_PEER, &ucfg.peers);
	ucfg.self = conf_nonempty(boot, CONF_SELF);
	access_log = conf_nonempty(boot, CONF_ACCESS_LOG);
	log_set_level_name(conf_str(boot, CONF_LOG_LEVEL));
	server_parse_listen(listen, &cfg);
	cfg.threads = (unsigned)conf_u64(boot, CONF_THREADS);
	cfg.public_url = conf_nonempty(boot, CONF_PUBLIC_URL);
	app.offline = conf_u64(boot, CONF_OFFLINE) != 0;
	app.require_read_token = conf_u64(boot, CONF_REQUIRE_TOKEN_FOR_READ) != 0;
	pthread_mutex_init(&app.public_mu, NULL);
	app.npublic_repos = conf_list(boot, CONF_PUBLIC_REPO, &app.public_repos);
	ttl = conf_u64(boot, CONF_REF_TTL);
	ucfg.ca_bundle = conf_nonempty(boot, CONF_CA_BUNDLE);
	ucfg.max_transfers = (unsigned)conf_u64(boot, CONF_MAX_TRANSFERS);
	policy_from_conf(boot, &gcfg.policy);
	gcfg.multipart_threshold = conf_u64(boot, CONF_MULTIPART_THRESHOLD);
	gcfg.chunk_size = conf_u64(boot, CONF_MULTIPART_CHUNK);
	gcfg.href_ttl = (unsigned)conf_u64(boot, CONF_UPLOAD_URL_TTL);
	mcfg.gc_interval = conf_u64(boot, CONF_GC_INTERVAL);
	cfg.max_connections = (unsigned)conf_u64(boot, CONF_MAX_CONNECTIONS);
	cfg.per_ip_connections = (unsigned)conf_u64(boot, CONF_PER_IP_CONNECTIONS);
	cfg.connection_timeout = (unsigned)conf_u64(boot, CONF_CONNECTION_TIMEOUT);
	cfg.connection_memory = (size_t)conf_u64(boot, CONF_CONNECTION_MEMORY);
	cfg.header_timeout = (unsigned)conf_u64(boot, CONF_HEADER_TIMEOUT);
	cfg.fast_lane = conf_u64(boot, CONF_FAST_LANE) != 0;
	/* libmicrohttpd shares the limit out among its threads. */
	if (cfg.max_connections < cfg.threads) {
		rc = usage_error("serve", "--max-connections (%u) must be at least --threads (%u)",
				 cfg.max_connections, cfg.threads);
		goto done;
	}

	/* Signals are taken synchronously by the main thread; the server's
	 * threads inherit the blocked mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (access_log != NULL && accesslog_open(access_log) != GG_OK) {
		fprintf(stderr, "ggufd: serve: cannot open the access log '%s'\n", access_log);
		goto done;
	}
	if (open_store(store, &st) != 0)
		goto done;
	if (apply_quota(st, conf_str(boot, CONF_MAX_STORE_SIZE)) != 0) {
		fprintf(stderr, "ggufd: serve: cannot measure the filesystem of \"%s\"\n", store);
		goto done;
	}
	if (conf_str(boot, CONF_BLOB_STORE) != NULL) {
		if (open_blob_store(boot, &bucket) != 0)
			goto done;
		/* Before any other thread uses the store: it sets the
		 * store's eviction guard and landed hook. */
		if (bucket_start(bucket, st) != GG_OK) {
			fprintf(stderr, "ggufd: serve: cannot start the blob store's uploader\n");
			goto done;
		}
	} else if (conf_str(boot, CONF_S3_ENDPOINT) != NULL) {
		rc = usage_error("serve", "--s3-endpoint needs --blob-store s3://BUCKET[/PREFIX]");
		goto done;
	}
	if (maint_start(st, &mcfg, &maint) != GG_OK) {
		fprintf(stderr, "ggufd: serve: cannot start the housekeeping thread\n");
		goto done;
	}
	if (strcmp(upstream, "none") != 0) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		ucfg.base = upstream;
		ucfg.token = conf_upstream_token(NULL);
		if (upstream_new(&ucfg, &up) != GG_OK) {
			rc = usage_error("serve", "--upstream wants a URL or 'none', not '%s'",
					 upstream);
			goto done;
		}
		fetcher_new(st, up, &fm);
		fetcher_set_blob_store(fm, bucket_s3(bucket));
		if (bucket != NULL)
			bucket_set_upstream(bucket, up);
		jobs = pull_jobs_new(st, up, fm);
	}
	gcfg.public_url = cfg.public_url;
	gw = gateway_new(st, app.offline ? NULL : up, &gcfg);
	app.st = st;
	app.up = up;
	app.fm = fm;
	app.jobs = jobs;
	app.gw = gw;
	app.bucket = bucket;
	app.ref_ttl = ttl ? (unsigned)ttl : GG_META_TTL_SEC;
	cfg.app = &app;
	cfg.routes = routes_table;
	cfg.nroutes = routes_count;
	if (server_start(&cfg, &srv, bound, sizeof(bound)) != GG_OK) {
		fprintf(stderr, "ggufd: cannot listen on %s\n", listen);
		goto done;
	}
	if (up != NULL)
		upstream_url_public(upstream, shown_up, sizeof(shown_up));
	log_info("listening on %s (store %s, upstream %s%s%s%s%s)", bound, store,
		 up ? shown_up : "none", ucfg.nbases > 1 ? " and more tiers" : "",
		 app.offline ? ", offline" : "", conf_file(boot)[0] ? ", config " : "",
		 conf_file(boot));
	if (up != NULL && ucfg.nbases > 1)
		log_info("upstream tiers: %zu, in order; the token goes to the last only",
			 ucfg.nbases);
	if (up != NULL && ucfg.npeers > 0)
		log_info("peers: %zu (%s)", ucfg.npeers,
			 ucfg.self != NULL ? "this node is one" : "this node owns no blob");
	log_visibility(&app);
	/* SIGHUP reopens the access log (logrotate) and re-reads the config
	 * file; SIGINT and SIGTERM stop. */
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		serve_reload(boot, &cur, &app, gw);
	log_info("signal %d: shutting down", sig);
	serve_drain(srv, &set, conf_u64(boot, CONF_DRAIN_TIMEOUT));
	rc = 0;
done:
	/* Fetches first: their readers are woken and cut, then connections. */
	fetcher_stop(fm);
	server_stop(srv);
	bucket_stop(bucket);
	maint_stop(maint);
	pull_jobs_free(jobs);
	gateway_free(gw);
	fetcher_free(fm);
	upstream_free(up);
	if (bucket != NULL)
		curl_global_cleanup(); /* open_blob_store's init */
	bucket_free(bucket);
	if (up != NULL)
		curl_global_cleanup();
	store_close(st);
	pthread_mutex_destroy(&app.public_mu);
	if (rc == 0)
		log_info("stopped");
	accesslog_close();
	if (cur != boot)
		conf_free(cur);
	conf_free(boot);
	return rc;
}

/* --- config ----------------------------------------------------------------- */

static int
cmd_config(int argc, char **argv)
{
	struct conf *c = NULL;
	char err[512];
	int r = conf_load(argc, argv, &c, err, sizeof(err));

	if (r == 1) {
		fputs(usage_config, stdout);
		return 0;
	}
	if (r != 0)
		return usage_error("config", "%s", err);
	conf_print(c, stdout);
	conf_free(c);
	return 0;
}

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

static int
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
	const char *store = default_store(), *rev = "main", *cache = NULL, *msg = NULL;
	const char *tag = NULL;
	struct store *st = NULL;
	int c, rc, pin = 1, link = 0;

	while ((c = next_opt("import", argc, argv, opts)) != -1) {
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
		return usage_error("import", "--hf-cache takes no REPO or FILE ('%s')",
				   argv[optind]);
	if (cache == NULL && argc - optind < 2)
		return usage_error("import", "needs REPO and at least one FILE");
	if (strlen(rev) == 0 || strlen(rev) > GG_MAX_REV_LEN || strchr(rev, '\n'))
		return usage_error("import", "invalid revision '%s'", rev);
	if (tag != NULL && strncmp(tag, "refs/tags/", 10) == 0)
		tag += 10;
	if (tag != NULL && (cache != NULL || !store_valid_path(tag) ||
			    strlen(tag) > GG_MAX_REV_LEN - 10 || strncmp(tag, "refs/", 5) == 0))
		return usage_error("import",
				   cache != NULL ? "--tag is for files, not --hf-cache"
						 : "invalid tag name '%s'",
				   tag);
	if (open_store(store, &st) != 0)
		return 1;
	if (cache != NULL)
		rc = import_hf_cache(st, cache);
	else
		rc = import_files(st, argv[optind], rev, tag, msg, pin, link, argc - optind - 1,
				  argv + optind + 1);
	store_close(st);
	return rc;
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
	while ((c = next_opt("pull", argc, argv, opts)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'U':
			/* Repeatable: tiers in order; the flags replace the environment's. */
			if (snprintf_checked(tiers_flags + tiers_len,
					     sizeof(tiers_flags) - tiers_len, "%s%s",
					     tiers_len ? " " : "", optarg) != GG_OK)
				return usage_error("pull", "too many --upstream URLs");
			tiers_len += strlen(tiers_flags + tiers_len);
			upstream = tiers_flags;
			break;
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
		{ "blob-store", required_argument, NULL, 'b' },
		{ "s3-endpoint", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = default_store();
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
	while ((c = next_opt("verify", argc, argv, opts)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'b': scfg.url = optarg; break;
		case 'e': scfg.endpoint = optarg; break;
		case 'h': fputs(usage_verify, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("verify", "unexpected argument '%s'", argv[optind]);
	if (scfg.url != NULL && *scfg.url == '\0')
		scfg.url = NULL;
	if (open_store(store, &st) != 0)
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
	const char *store = default_store();
	struct store *st = NULL;
	struct store_gc_report rep;
	uint64_t min_age = GG_GC_MIN_AGE_SEC, qage = GG_QUARANTINE_AGE_SEC, files, bytes;
	int c, r;

	while ((c = next_opt("gc", argc, argv, opts)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'a':
			if (parse_u64_str(optarg, 86400ull * 3650, &min_age) != GG_OK)
				return usage_error("gc", "--min-age takes seconds, not '%s'",
						   optarg);
			break;
		case 'q':
			if (parse_u64_str(optarg, 86400ull * 3650, &qage) != GG_OK)
				return usage_error("gc", "--quarantine-age takes seconds, not '%s'",
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
	const char *store = default_store(), *globs[POLICY_MAX_ITEMS];
	struct store_pin_report rep;
	struct store *st = NULL;
	enum repo_type type;
	const char *repo, *rev = "main";
	char *arg = NULL, *at;
	size_t nglobs = 0;
	int c, r, rc = 1;

	while ((c = next_opt(cmd, argc, argv, opts)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'i':
			if (nglobs == POLICY_MAX_ITEMS)
				return usage_error(cmd, "at most 64 --include ('%s')", optarg);
			globs[nglobs++] = optarg;
			break;
		case 'h': fputs(usage_pin, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind == argc)
		return usage_error(cmd, "needs REPO or REPO@REV");
	if (argc - optind > 1)
		return usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
	arg = xstrdup(argv[optind]);
	if ((at = strchr(arg, '@')) != NULL) {
		*at = '\0';
		rev = at + 1;
	}
	if (split_repo(arg, &type, &repo) != 0 || *rev == '\0') {
		free(arg);
		return usage_error(cmd, "'%s' is not REPO or REPO@REV", argv[optind]);
	}
	if (open_store(store, &st) != 0) {
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

/* --- registry, card, export -------------------------------------------------- */

/* A mirror URL from the command line: http(s)://host[:port][/prefix],
 * kept without a trailing "/".  NULL if it is not one. */
static char *
base_url_arg(const char *v)
{
	size_t n = strlen(v);
	if ((strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) || n > 1024 ||
	    strpbrk(v, " \t\r\n\"'<>") != NULL)
		return NULL;
	while (n > 0 && v[n - 1] == '/')
		n--;
	return xstrndup(v, n);
}

/* Opens the store and reads REPO's registry at rev; prints why not. */
static int
registry_open(const char *cmd, const char *store, const char *repo_arg, const char *rev,
	      struct store **st, struct registry *reg)
{
	enum repo_type type;
	const char *repo;
	int known = 0, r;

	memset(reg, 0, sizeof(*reg));
	if (split_repo(repo_arg, &type, &repo) != 0)
		return usage_error(cmd, "'%s' is not a valid repo id", repo_arg);
	if (rev[0] == '\0' || strlen(rev) > GG_MAX_REV_LEN)
		return usage_error(cmd, "invalid revision '%s'", rev);
	if (open_store(store, st) != 0)
		return 1;
	r = registry_collect(*st, type, repo, rev, reg, &known);
	if (r == GG_ENOENT) {
		if (known)
			fprintf(stderr, "ggufd: %s: no revision '%s' of %s in the store\n", cmd,
				rev, repo_arg);
		else
			fprintf(stderr, "ggufd: %s: no repo '%s' in the store\n", cmd, repo_arg);
	} else if (r != GG_OK) {
		fprintf(stderr, "ggufd: %s: %s\n", cmd, gg_strerror(r));
	}
	if (r != GG_OK) {
		store_close(*st);
		*st = NULL;
		return 1;
	}
	return 0;
}

static int
cmd_registry(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "revision", required_argument, NULL, 'r' },
		{ "format", required_argument, NULL, 'f' },
		{ "base", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = default_store(), *rev = "main", *fmt = "json";
	char *base = NULL;
	struct store *st = NULL;
	struct registry reg;
	int c, rc;

	while ((c = next_opt("registry", argc, argv, opts)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'r': rev = optarg; break;
		case 'f': fmt = optarg; break;
		case 'b':
			free(base);
			if ((base = base_url_arg(optarg)) == NULL)
				return usage_error("registry",
						   "--base needs http(s)://HOST[:PORT] ('%s')",
						   optarg);
			break;
		case 'h':
			free(base);
			fputs(usage_registry, stdout);
			return 0;
		default: free(base); return EXIT_USAGE;
		}
	}
	if (strcmp(fmt, "json") != 0 && strcmp(fmt, "sha256sums") != 0) {
		free(base);
		return usage_error("registry", "--format is json or sha256sums ('%s')", fmt);
	}
	if (argc - optind != 1) {
		free(base);
		return usage_error("registry", "needs one REPO");
	}
	if ((rc = registry_open("registry", store, argv[optind], rev, &st, &reg)) != 0) {
		free(base);
		return rc;
	}
	if (strcmp(fmt, "sha256sums") == 0) {
		char *txt = registry_sha256sums(&reg);
		fputs(txt, stdout);
		free(txt);
	} else {
		cJSON *o = registry_json(&reg, base ? base : "http://localhost:8080");
		char *txt = cJSON_Print(o);
		cJSON_Delete(o);
		if (txt == NULL)
			log_fatalx("cJSON_Print() failed: out of memory");
		printf("%s\n", txt);
		free(txt);
	}
	registry_free(&reg);
	store_close(st);
	free(base);
	return 0;
}

static int
cmd_card(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "revision", required_argument, NULL, 'r' },
		{ "base", required_argument, NULL, 'b' },
		{ "license", required_argument, NULL, 'l' },
		{ "language", required_argument, NULL, 'L' },
		{ "base-model", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = default_store(), *rev = "main";
	struct registry_card_opts o;
	char *base = NULL, *txt;
	struct store *st = NULL;
	struct registry reg;
	int c, rc;

	memset(&o, 0, sizeof(o));
	while ((c = next_opt("card", argc, argv, opts)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'r': rev = optarg; break;
		case 'b':
			free(base);
			if ((base = base_url_arg(optarg)) == NULL)
				return usage_error("card",
						   "--base needs http(s)://HOST[:PORT] ('%s')",
						   optarg);
			break;
		case 'l': o.license = optarg; break;
		case 'L': o.language = optarg; break;
		case 'm':
			if (!route_valid_repo(optarg)) {
				free(base);
				return usage_error("card", "--base-model needs a repo id ('%s')",
						   optarg);
			}
			o.base_model = optarg;
			break;
		case 'h':
			free(base);
			fputs(usage_card, stdout);
			return 0;
		default: free(base); return EXIT_USAGE;
		}
	}
	if ((o.license && (o.license[0] == '\0' || strpbrk(o.license, "\n\r") != NULL)) ||
	    (o.language && (o.language[0] == '\0' || strpbrk(o.language, "\n\r") != NULL))) {
		free(base);
		return usage_error("card", "--license and --language take one line of text");
	}
	if (argc - optind != 1) {
		free(base);
		return usage_error("card", "needs one REPO");
	}
	if ((rc = registry_open("card", store, argv[optind], rev, &st, &reg)) != 0) {
		free(base);
		return rc;
	}
	if (reg.n == 0)
		fprintf(stderr, "ggufd: card: %s@%s has no .gguf file\n", argv[optind], rev);
	o.base = base;
	txt = registry_card(&reg, st, &o);
	fputs(txt, stdout);
	free(txt);
	registry_free(&reg);
	store_close(st);
	free(base);
	return 0;
}

static int
cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "hf-cache", required_argument, NULL, 'c' },
		{ "include", required_argument, NULL, 'i' },
		{ "copy", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = default_store(), *dir = NULL, *repo, *rev = "main";
	char *globs[POLICY_MAX_ITEMS], *arg, *at;
	struct export_report rep;
	struct store *st = NULL;
	enum repo_type type;
	int c, r, nglobs = 0, link_ok = 1, rc = 1;

	while ((c = next_opt("export", argc, argv, opts)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'c': dir = optarg; break;
		case 'i':
			if (nglobs == POLICY_MAX_ITEMS)
				return usage_error("export", "at most 64 --include ('%s')", optarg);
			globs[nglobs++] = optarg;
			break;
		case 'C': link_ok = 0; break;
		case 'h': fputs(usage_export, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (dir == NULL || dir[0] == '\0')
		return usage_error("export", "needs --hf-cache DIR");
	if (argc - optind != 1)
		return usage_error("export", "needs one REPO or REPO@REV");
	arg = xstrdup(argv[optind]);
	if ((at = strchr(arg, '@')) != NULL) {
		*at = '\0';
		rev = at + 1;
	}
	if (split_repo(arg, &type, &repo) != 0 || *rev == '\0' || strlen(rev) > GG_MAX_REV_LEN) {
		free(arg);
		return usage_error("export", "'%s' is not REPO or REPO@REV", argv[optind]);
	}
	if (open_store(store, &st) != 0) {
		free(arg);
		return 1;
	}
	r = export_hf_cache(st, dir, type, repo, rev, globs, nglobs, link_ok, stdout, stderr, &rep);
	store_close(st);
	if (r == GG_ENOENT)
		fprintf(stderr, "ggufd: export: no revision '%s' of %s in the store\n", rev, arg);
	else if (r == GG_EINVAL)
		fprintf(stderr, "ggufd: export: '%s' cannot name a ref in a cache\n", rev);
	else if (r != GG_OK)
		fprintf(stderr, "ggufd: export: %s\n", gg_strerror(r));
	else {
		printf("exported %llu files (%llu bytes: %llu hard-linked, %llu copied, %llu "
		       "already "
		       "there) of %s@%.12s to %s/%s",
		       (unsigned long long)rep.files, (unsigned long long)rep.bytes,
		       (unsigned long long)rep.linked, (unsigned long long)rep.copied,
		       (unsigned long long)rep.kept, arg, rep.commit, dir, rep.folder);
		if (rep.missing)
			printf("; skipped %llu not in the store", (unsigned long long)rep.missing);
		printf("\n");
		if (nglobs > 0 && rep.files + rep.missing == 0)
			fprintf(stderr, "ggufd: export: no file of %s@%.12s matches\n", arg,
				rep.commit);
		rc = rep.failed ? 1 : 0;
	}
	free(arg);
	return rc;
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
