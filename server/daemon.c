/*
 * daemon.c: 'ggufd serve' (the daemon: its options, the store, upstream,
 * the gateway, the HTTP server, signals, reload and drain) and 'ggufd
 * config' (the configuration serve would run with).  Split from cli.c,
 * which keeps the command table and the other commands (cliint.h).
 */
#include "config.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "accesslog.h"
#include "app.h"
#include "bucket.h"
#include "conf.h"
#include "fetch.h"
#include "gateway.h"
#include "maint.h"
#include "pull.h"
#include "upstream.h"
#include "http.h"
#include "log.h"
#include "routes.h"
#include "store.h"
#include "token.h"
#include "cliint.h"
#include "util.h"

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
	    cli_apply_quota(app->st, conf_str(fresh, CONF_MAX_STORE_SIZE)) != 0)
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

int
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
		return cli_usage_error("serve", "%s", err);
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
		rc = cli_usage_error("serve",
				     "--max-connections (%u) must be at least --threads (%u)",
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
	if (cli_open_store(store, &st) != 0)
		goto done;
	if (cli_apply_quota(st, conf_str(boot, CONF_MAX_STORE_SIZE)) != 0) {
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
		rc = cli_usage_error("serve",
				     "--s3-endpoint needs --blob-store s3://BUCKET[/PREFIX]");
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
			rc = cli_usage_error("serve", "--upstream wants a URL or 'none', not '%s'",
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

int
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
		return cli_usage_error("config", "%s", err);
	conf_print(c, stdout);
	conf_free(c);
	return 0;
}
