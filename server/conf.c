/*
 * conf.c: serve's options as one table, and the four sources that set them.
 *
 * A struct conf keeps every source's values apart (one layer per source:
 * default, file, env, flag), so that the effective value of an option is
 * that of the highest layer that sets it, so that `ggufd config` can say
 * where each value came from, and so that SIGHUP can rebuild the whole
 * thing from the same flags and environment and a fresh read of the file
 * (conf_reload) and compare option by option.  Values are checked as they
 * enter a layer, so a bad one is reported with its source (flag, variable,
 * FILE:LINE) even when a higher source hides it.
 *
 * The file is read whole (at most GG_MAX_CONF_BYTES) and parsed by lines
 * of at most GG_MAX_CONF_LINE bytes:
 *
 *   # comment
 *   listen = 0.0.0.0:8080        # a '#' after white space starts a comment
 *   upload-repo = ruv/ruvltra
 *   upload-repo = ruv/other      (a repeatable option: one item a line)
 *   offline = yes
 *
 * A key given twice (not repeatable) is an error, as is an unknown key;
 * neither message repeats the line's value, which may be a secret written
 * in the wrong file (HF_TOKEN = ...).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "conf.h"
#include "gg_limits.h"
#include "http.h"
#include "log.h"
#include "policy.h"
#include "s3.h"
#include "util.h"

/* --- the checks of string options ------------------------------------------- */

static int
check_listen(const char *v)
{
	struct server_config sc;
	return server_parse_listen(v, &sc) == GG_OK ? 0 : -1;
}

static int
check_level(const char *v)
{
	return log_level_from_name(v) < 0 ? -1 : 0;
}

/* "none", or what upstream_new accepts (a URL libcurl parses). */
static int
check_upstream(const char *v)
{
	CURLU *u;
	int r;

	if (strcmp(v, "none") == 0)
		return 0;
	if ((u = curl_url()) == NULL)
		log_fatalx("curl_url() failed: out of memory");
	r = curl_url_set(u, CURLUPART_URL, v, 0) == CURLUE_OK ? 0 : -1;
	curl_url_cleanup(u);
	return r;
}

/* s3://BUCKET[/PREFIX] (s3.h). */
static int
check_blob_store(const char *v)
{
	char bucket[64], prefix[256];
	return s3_parse_url(v, bucket, sizeof(bucket), prefix, sizeof(prefix)) == GG_OK ? 0 : -1;
}

/* An http(s) URL libcurl parses, without user info (the S3 credentials
 * come from AWS_* variables only: a URL is logged and shown). */
static int
check_http_url(const char *v)
{
	CURLU *u;
	char *user = NULL;
	int r;

	if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
		return -1;
	if (check_upstream(v) != 0)
		return -1;
	if ((u = curl_url()) == NULL)
		log_fatalx("curl_url() failed: out of memory");
	r = curl_url_set(u, CURLUPART_URL, v, 0) == CURLUE_OK &&
			    curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_NO_USER
		    ? 0
		    : -1;
	curl_free(user);
	curl_url_cleanup(u);
	return r;
}

static int
check_url(const char *v)
{
	return strcmp(v, "none") == 0 ? -1 : check_upstream(v);
}

int
conf_parse_store_size(const char *v, uint64_t *bytes, unsigned *pct)
{
	static const char units[] = "KMGT";
	const char *end = v + strspn(v, "0123456789"), *u;
	uint64_t n, mul = 1;

	*bytes = 0;
	*pct = 0;
	if (end == v || end - v > 15 || parse_u64(v, end, UINT64_MAX, &n) != GG_OK || n == 0)
		return -1;
	if (strcmp(end, "%") == 0) {
		if (n > 100)
			return -1;
		*pct = (unsigned)n;
		return 0;
	}
	if (*end != '\0') {
		if ((u = strchr(units, toupper((unsigned char)*end))) == NULL || *u == '\0')
			return -1;
		if (end[1] != '\0' && strcasecmp(end + 1, "B") != 0 && strcmp(end + 1, "iB") != 0)
			return -1;
		for (const char *k = units; k <= u; k++)
			mul *= 1024;
	}
	if (n > UINT64_MAX / mul)
		return -1;
	*bytes = n * mul;
	return 0;
}

/* A --public-repo: "ns/name" or "name", with "models/", "datasets/" or
 * "spaces/" in front for a type. */
static int
check_public_repo(const char *v)
{
	static const char *const types[] = { "models/", "datasets/", "spaces/" };
	int segs = 1;

	for (size_t i = 0; i < 3; i++) {
		if (strncmp(v, types[i], strlen(types[i])) == 0) {
			v += strlen(types[i]);
			break;
		}
	}
	if (*v == '\0' || *v == '/' || strlen(v) > GG_MAX_REPO_LEN)
		return -1;
	for (const char *p = v; *p; p++) {
		if (*p == '/') {
			if (++segs > 2 || p[1] == '\0' || p[1] == '/')
				return -1;
		} else if (!isalnum((unsigned char)*p) && strchr("-_.", *p) == NULL) {
			return -1;
		}
	}
	return 0;
}

static int
check_store_size(const char *v)
{
	uint64_t bytes;
	unsigned pct;
	return conf_parse_store_size(v, &bytes, &pct);
}

/* --- the table ------------------------------------------------------------------ */

#define SIZE_MAX_BYTES (1ull << 50)

/* clang-format off */
const struct conf_option conf_options[CONF_COUNT] = {
	[CONF_LISTEN] = { "listen", "GGUFD_LISTEN", CONF_STR, 0, "HOST:PORT", "0.0.0.0:8080", 0, 0, 0,
		"wants HOST:PORT", check_listen,
		"address to bind (default 0.0.0.0:8080); port 0 picks a free\n"
		"port, printed on the first log line" },
	[CONF_STORE] = { "store", "GGUFD_STORE", CONF_STR, 0, "DIR", "./ggufd-data", 0, 0, 0,
		NULL, NULL,
		"store directory (default ./ggufd-data)" },
	[CONF_UPSTREAM] = { "upstream", "GGUFD_UPSTREAM", CONF_LIST, 0, "URL", "https://huggingface.co",
		0, 0, 8, "wants a URL or 'none'", check_upstream,
		"the Hub to mirror (default https://huggingface.co); 'none'\n"
		"serves the store alone; repeatable: tiers in order (e.g.\n"
		"a site ggufd, then the Hub), each failing over to the next;\n"
		"only the last gets the upstream token" },
	[CONF_PEER] = { "peer", "GGUFD_PEER", CONF_LIST, 0, "URL", NULL, 0, 0, 64,
		"wants a URL", check_url,
		"a ggufd of the same cluster (repeatable; the same list on\n"
		"every node): each blob is fetched upstream by one owner\n"
		"(rendezvous hashing of its sha256), the others read it\n"
		"from the owner" },
	[CONF_SELF] = { "self", "GGUFD_SELF", CONF_STR, 0, "URL", NULL, 0, 0, 0,
		"wants a URL", check_url,
		"this node's URL as the --peer list names it (without it,\n"
		"this node owns no blob: it reads every blob from a peer)" },
	[CONF_OFFLINE] = { "offline", "GGUFD_OFFLINE", CONF_BOOL, 0, NULL, NULL, 0, 0, 0,
		"takes true/false/yes/no/1/0", NULL,
		"never ask upstream; answer from the store only" },
	[CONF_REF_TTL] = { "ref-ttl", "GGUFD_REF_TTL", CONF_UINT, CONF_RELOAD, "SECONDS", NULL,
		GG_META_TTL_SEC, 0, 86400 * 365, "takes seconds", NULL,
		"how long a branch -> commit answer stays fresh (default 30)" },
	[CONF_MAX_TRANSFERS] = { "max-transfers", "GGUFD_MAX_TRANSFERS", CONF_UINT, 0, "N", NULL,
		GG_MAX_TRANSFERS, 1, 1024, "takes 1 to 1024", NULL,
		"concurrent upstream downloads (default 8; more wait)" },
	[CONF_MAX_STORE_SIZE] = { "max-store-size", "GGUFD_MAX_STORE_SIZE", CONF_STR, CONF_RELOAD,
		"SIZE", NULL, 0, 0, 0, "wants 500G, 80% or bytes", check_store_size,
		"byte budget of the blobs (500G, 80% of the store's\n"
		"filesystem, or bytes): the least recently used unpinned\n"
		"blobs are evicted to make room; a download or upload that\n"
		"cannot fit gets 507 (default: none)" },
	[CONF_GC_INTERVAL] = { "gc-interval", "GGUFD_GC_INTERVAL", CONF_UINT, 0, "SECONDS", NULL,
		GG_GC_INTERVAL_SEC, 0, 86400 * 365, "takes seconds", NULL,
		"how often the server runs gc (default 3600; 0: never)" },
	[CONF_CA_BUNDLE] = { "ca-bundle", "GGUFD_CA_BUNDLE", CONF_STR, 0, "FILE", NULL, 0, 0, 0,
		NULL, NULL,
		"CA certificates for upstream TLS" },
	[CONF_UPLOAD_REPO] = { "upload-repo", "GGUFD_UPLOAD_REPO", CONF_LIST, CONF_RELOAD, "REPO",
		"ruv/ruvltra", 0, 0, POLICY_MAX_ITEMS, NULL, NULL,
		"a repo the upload gateway accepts (repeatable; default\n"
		"ruv/ruvltra)" },
	[CONF_UPLOAD_ALLOW] = { "upload-allow", "GGUFD_UPLOAD_ALLOW", CONF_LIST, CONF_RELOAD, "GLOB",
		"README.md *.md *.json *.txt *.safetensors *.yaml *.yml *.png .gitattributes LICENSE* "
		"*.jpg", 0, 0, POLICY_MAX_ITEMS, NULL, NULL,
		"non-GGUF files the gateway accepts (repeatable; default\n"
		"README.md *.md *.json *.txt *.safetensors *.yaml ...)" },
	[CONF_GGUF_PREFIX] = { "gguf-prefix", "GGUFD_GGUF_PREFIX", CONF_STR, CONF_RELOAD, "NAME",
		"ruvltra", 0, 0, 0, NULL, NULL,
		"GGUF names must be NAME-[variant-]size-quant.gguf (ruvltra)" },
	[CONF_UPLOAD_MAX_SIZE] = { "upload-max-size", "GGUFD_UPLOAD_MAX_SIZE", CONF_UINT,
		CONF_RELOAD, "BYTES", NULL, GG_UPLOAD_MAX_SIZE, 1, SIZE_MAX_BYTES,
		"takes a size in bytes", NULL,
		"largest file the gateway accepts (default 64 GiB)" },
	[CONF_PROTECTED_BRANCH] = { "protected-branch", "GGUFD_PROTECTED_BRANCH", CONF_LIST,
		CONF_RELOAD, "NAME", "main", 0, 0, POLICY_MAX_ITEMS, NULL, NULL,
		"published .gguf and LFS files on it are not replaced\n"
		"but by an admin (repeatable; default main)" },
	[CONF_ALLOW_OVERWRITE] = { "allow-overwrite", "GGUFD_ALLOW_OVERWRITE", CONF_BOOL,
		CONF_RELOAD, NULL, NULL, 0, 0, 0, "takes true/false/yes/no/1/0", NULL,
		"admins replace them without X-Ggufd-Overwrite: yes" },
	[CONF_CARD_FILES_TABLE] = { "card-files-table", "GGUFD_CARD_FILES_TABLE", CONF_BOOL,
		CONF_RELOAD, NULL, NULL, 0, 0, 0, "takes true/false/yes/no/1/0", NULL,
		"a README.md replaced with an upload token keeps every\n"
		".gguf name of the published card's files table" },
	[CONF_MULTIPART_THRESHOLD] = { "multipart-threshold", "GGUFD_MULTIPART_THRESHOLD", CONF_UINT,
		0, "BYTES", NULL, GG_MULTIPART_THRESHOLD, 1, SIZE_MAX_BYTES, "takes a size in bytes",
		NULL,
		"LFS uploads above this go multipart (512 MiB)" },
	[CONF_MULTIPART_CHUNK] = { "multipart-chunk", "GGUFD_MULTIPART_CHUNK", CONF_UINT, 0, "BYTES",
		NULL, GG_MULTIPART_CHUNK, 1, SIZE_MAX_BYTES, "takes a size in bytes", NULL,
		"multipart part size (default 64 MiB)" },
	[CONF_REQUIRE_TOKEN_FOR_READ] = { "require-token-for-read", "GGUFD_REQUIRE_TOKEN_FOR_READ",
		CONF_BOOL, CONF_RELOAD, NULL, NULL, 0, 0, 0, "takes true/false/yes/no/1/0", NULL,
		"downloads need a ggufd read token too" },
	[CONF_PUBLIC_REPO] = { "public-repo", "GGUFD_PUBLIC_REPO", CONF_LIST, CONF_RELOAD, "REPO", NULL, 0, 0,
		POLICY_MAX_ITEMS, "wants a repo id (ns/name, datasets/ns/name)", check_public_repo,
		"serve this repo to anyone although upstream keeps it\n"
		"private or gated (repeatable; by default such repos\n"
		"need a ggufd read token)" },
	[CONF_UPLOAD_URL_TTL] = { "upload-url-ttl", "GGUFD_UPLOAD_URL_TTL", CONF_UINT, 0, "SECONDS",
		NULL, GG_HREF_TTL_SEC, 1, 7 * 86400, "takes 1 to 604800 seconds", NULL,
		"how long signed upload URLs stay valid (86400)" },
	[CONF_ACCESS_LOG] = { "access-log", "GGUFD_ACCESS_LOG", CONF_STR, CONF_RELOAD, "FILE", NULL, 0, 0, 0,
		NULL, NULL,
		"one line per request to FILE ('-': stderr); SIGHUP\n"
		"reopens it (logrotate)" },
	[CONF_THREADS] = { "threads", "GGUFD_THREADS", CONF_UINT, 0, "N", NULL, 4, 1, 256,
		"takes 1 to 256", NULL,
		"HTTP worker threads (default 4)" },
	[CONF_PUBLIC_URL] = { "public-url", "GGUFD_PUBLIC_URL", CONF_STR, 0, "URL", NULL, 0, 0, 0,
		NULL, NULL,
		"absolute base URL for links (default: from Host)" },
	[CONF_LOG_LEVEL] = { "log-level", "GGUFD_LOG_LEVEL", CONF_STR, CONF_RELOAD, "LEVEL", "info",
		0, 0, 0, "is error, warn, info or debug", check_level,
		"error, warn, info (default) or debug" },
	[CONF_DRAIN_TIMEOUT] = { "drain-timeout", "GGUFD_DRAIN_TIMEOUT", CONF_UINT, 0, "SECONDS", NULL,
		GG_DRAIN_TIMEOUT_SEC, 0, 86400, "takes 0 to 86400 seconds", NULL,
		"on SIGTERM/SIGINT, new connections\n"
		"are refused and transfers in progress get this long to\n"
		"end (default 30; 0: cut at once); a second signal stops\n"
		"at once" },
	[CONF_MAX_CONNECTIONS] = { "max-connections", "GGUFD_MAX_CONNECTIONS", CONF_UINT, 0, "N",
		NULL, GG_MAX_CONNECTIONS, 1, 65536, "takes 1 to 65536", NULL,
		"client connections at once, shared\n"
		"among the threads (at least --threads; default 1024);\n"
		"idle ones are shed to keep 1/16 of them free; more wait\n"
		"in the kernel's backlog" },
	[CONF_PER_IP_CONNECTIONS] = { "per-ip-connections", "GGUFD_PER_IP_CONNECTIONS", CONF_UINT, 0,
		"N", NULL, GG_MAX_PER_IP_CONN, 0, 65536, "takes 0 to 65536", NULL,
		"connections from one address\n"
		"(default 256; 0: no limit, e.g. behind a proxy); one more\n"
		"sheds the address's longest-idle connection, or is closed\n"
		"at once if none is idle" },
	[CONF_CONNECTION_TIMEOUT] = { "connection-timeout", "GGUFD_CONNECTION_TIMEOUT", CONF_UINT, 0,
		"SECONDS", NULL, GG_CONN_TIMEOUT_SEC, 1, 86400, "takes 1 to 86400 seconds", NULL,
		"a connection with no byte in or\n"
		"out for this long is closed (default 120)" },
	[CONF_HEADER_TIMEOUT] = { "header-timeout", "GGUFD_HEADER_TIMEOUT", CONF_UINT, 0, "SECONDS",
		NULL, 0, 0, 86400, "takes 0 to 86400 seconds", NULL,
		"a request's line and headers must have\n"
		"arrived this long after the connection opened or its last\n"
		"response ended, or it is closed (slowloris; default 0:\n"
		"the connection timeout)" },
	[CONF_CONNECTION_MEMORY] = { "connection-memory", "GGUFD_CONNECTION_MEMORY", CONF_UINT, 0,
		"BYTES", NULL, GG_CONN_MEMORY, GG_MIN_CONN_MEMORY, 16u << 20,
		"takes 12288 to 16777216 bytes", NULL,
		"memory for one connection's\n"
		"request line and headers (default 32768); larger headers\n"
		"get 431, a longer URL 414" },
	[CONF_FAST_LANE] = { "fast-lane", "GGUFD_FAST_LANE", CONF_BOOL, 0, NULL, NULL, 1, 0, 0,
		"takes true/false/yes/no/1/0", NULL,
		"answer repeated requests for stored files\n"
		"(probes, ranges, whole files) without libmicrohttpd,\n"
		"with the same headers and bytes (default true; false sends\n"
		"every request through libmicrohttpd)" },
	[CONF_BLOB_STORE] = { "blob-store", "GGUFD_BLOB_STORE", CONF_STR, 0, "s3://BUCKET[/PREFIX]",
		NULL, 0, 0, 0, "wants s3://BUCKET[/PREFIX]", check_blob_store,
		"keep verified blobs in this S3 bucket too, shared by\n"
		"several nodes: a local miss asks it before upstream, and\n"
		"only blobs stored there are evicted (needs --s3-endpoint\n"
		"and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION)" },
	[CONF_S3_ENDPOINT] = { "s3-endpoint", "GGUFD_S3_ENDPOINT", CONF_STR, 0, "URL", NULL, 0, 0,
		0, "wants an http:// or https:// URL without user info (credentials: AWS_* variables)", check_http_url,
		"the S3 endpoint of --blob-store (path-style requests)" },
	[CONF_S3_CREATE_BUCKET] = { "s3-create-bucket", "GGUFD_S3_CREATE_BUCKET", CONF_BOOL, 0,
		NULL, NULL, 0, 0, 0, "takes true/false/yes/no/1/0", NULL,
		"create the bucket at start-up if it does not exist" },
	[CONF_S3_PART_SIZE] = { "s3-part-size", "GGUFD_S3_PART_SIZE", CONF_UINT, 0, "BYTES", NULL,
		S3_DEFAULT_PART, S3_MIN_PART, 5ull << 30, "takes 5 MiB to 5 GiB in bytes", NULL,
		"blobs above this go to the bucket in parts of this size\n"
		"(default 64 MiB)" },
	[CONF_S3_UPLOAD_RATE] = { "s3-upload-rate", "GGUFD_S3_UPLOAD_RATE", CONF_UINT, 0,
		"BYTES/S", NULL, 0, 0, SIZE_MAX_BYTES, "takes bytes per second", NULL,
		"cap on the bandwidth of uploads to the bucket (default\n"
		"0: none)" },
};
/* clang-format on */

/* --- layers ----------------------------------------------------------------------- */

/* One source's value of one option. */
struct conf_val {
	int set;
	size_t n, cap;
	char **items;    /* owned */
	unsigned *lines; /* the file's line of each item (file layer) */
};

struct conf {
	struct conf_val v[CONF_NSRC][CONF_COUNT];
	char *file;           /* the config file, or NULL */
	const char *file_via; /* "--config" or "GGUFD_CONFIG" */
};

static void
val_add(struct conf_val *v, const char *s, unsigned line)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 4;
		v->items = xrealloc(v->items, v->cap * sizeof(*v->items));
		v->lines = xrealloc(v->lines, v->cap * sizeof(*v->lines));
	}
	v->items[v->n] = xstrdup(s);
	v->lines[v->n++] = line;
	v->set = 1;
}

static void
val_clear(struct conf_val *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->items[i]);
	free(v->items);
	free(v->lines);
	memset(v, 0, sizeof(*v));
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	for (int s = 0; s < CONF_NSRC; s++)
		for (int i = 0; i < CONF_COUNT; i++)
			val_clear(&c->v[s][i]);
	free(c->file);
	free(c);
}

/* The highest layer that sets id (the default layer may set nothing). */
static const struct conf_val *
effective(const struct conf *c, enum conf_id id, enum conf_source *src)
{
	for (int s = CONF_NSRC - 1; s > CONF_SRC_DEFAULT; s--) {
		if (c->v[s][id].set) {
			if (src)
				*src = (enum conf_source)s;
			return &c->v[s][id];
		}
	}
	if (src)
		*src = CONF_SRC_DEFAULT;
	return &c->v[CONF_SRC_DEFAULT][id];
}

static int complain(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
complain(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	/* A message cut short still says what is wrong first. */
	if (vsnprintf(err, errsz, fmt, ap) < 0 && errsz > 0)
		err[0] = '\0';
	va_end(ap);
	return -1;
}

static int
parse_bool(const char *v)
{
	static const char *const yes[] = { "true", "yes", "1" }, *const no[] = { "false", "no",
										 "0" };
	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}

/*
 * Checks v for option id and adds it to layer src (a scalar replaces what
 * the layer had).  who names the source in a complaint: "--threads",
 * "GGUFD_THREADS", "FILE:LINE: threads".
 */
static int
set_value(struct conf *c, enum conf_source src, enum conf_id id, const char *v, unsigned line,
	  const char *who, char *err, size_t errsz)
{
	const struct conf_option *o = &conf_options[id];
	struct conf_val *val = &c->v[src][id];
	const char *shown = (o->flags & CONF_SECRET) ? "(hidden)" : v;
	uint64_t n;
	int b;

	switch (o->kind) {
	case CONF_STR:
		if (o->check != NULL && o->check(v) != 0)
			return complain(err, errsz, "%s %s, not '%s'", who, o->must, shown);
		val_clear(val);
		val_add(val, v, line);
		return 0;
	case CONF_UINT:
		if (parse_u64_str(v, o->max, &n) != GG_OK || n < o->min)
			return complain(err, errsz, "%s %s, not '%s'", who, o->must, shown);
		val_clear(val);
		val_add(val, v, line);
		return 0;
	case CONF_BOOL:
		if ((b = parse_bool(v)) < 0)
			return complain(err, errsz, "%s %s, not '%s'", who, o->must, shown);
		val_clear(val);
		val_add(val, b ? "true" : "false", line);
		return 0;
	case CONF_LIST:
		if (*v == '\0')
			return complain(err, errsz, "%s needs a value", who);
		if (val->n >= o->max)
			return complain(err, errsz, "%s: at most %llu values ('%s')", who,
					(unsigned long long)o->max, shown);
		if (o->check != NULL && o->check(v) != 0)
			return complain(err, errsz, "%s %s, not '%s'", who, o->must, shown);
		val_add(val, v, line);
		return 0;
	}
	return complain(err, errsz, "%s: unknown kind", who);
}

/* --- the sources -------------------------------------------------------------------- */

static void
load_defaults(struct conf *c)
{
	for (int i = 0; i < CONF_COUNT; i++) {
		const struct conf_option *o = &conf_options[i];
		struct conf_val *val = &c->v[CONF_SRC_DEFAULT][i];
		char num[32];

		switch (o->kind) {
		case CONF_STR:
			if (o->def != NULL)
				val_add(val, o->def, 0);
			break;
		case CONF_UINT:
			snprintf(num, sizeof(num), "%llu", (unsigned long long)o->dnum);
			val_add(val, num, 0);
			break;
		case CONF_BOOL: val_add(val, o->dnum ? "true" : "false", 0); break;
		case CONF_LIST:
			for (const char *p = o->def; p != NULL && *p != '\0';) {
				size_t l = strcspn(p, " ");
				char *item = xstrndup(p, l);
				if (l > 0)
					val_add(val, item, 0);
				free(item);
				p += l + (p[l] == ' ');
			}
			break;
		}
	}
}

static int
load_env(struct conf *c, char *err, size_t errsz)
{
	for (int i = 0; i < CONF_COUNT; i++) {
		const struct conf_option *o = &conf_options[i];
		const char *v = getenv(o->env);

		/* Empty is unset, as GGUFD_LISTEN= always was. */
		if (v == NULL || *v == '\0')
			continue;
		if (o->kind != CONF_LIST) {
			if (set_value(c, CONF_SRC_ENV, (enum conf_id)i, v, 0, o->env, err, errsz) !=
			    0)
				return -1;
			continue;
		}
		/* A list: items separated by commas or white space. */
		for (const char *p = v; *p != '\0';) {
			size_t l = strcspn(p, ", \t\n");
			if (l > 0) {
				char *item = xstrndup(p, l);
				int r = set_value(c, CONF_SRC_ENV, (enum conf_id)i, item, 0, o->env,
						  err, errsz);
				free(item);
				if (r != 0)
					return -1;
			}
			p += l + (p[l] != '\0');
		}
	}
	return 0;
}

static int
find_option(const char *key)
{
	for (int i = 0; i < CONF_COUNT; i++)
		if (strcmp(conf_options[i].name, key) == 0)
			return i;
	return -1;
}

/* Parses the file's bytes (buf, len); names FILE:LINE in every complaint. */
static int
parse_file(struct conf *c, char *buf, size_t len, char *err, size_t errsz)
{
	const char *f = c->file;
	unsigned line = 0;
	char *p = buf, *end = buf + len;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *e = nl ? nl : end, *key, *val, *eq, *k_end, *hash;
		char who[GG_MAX_CONF_LINE + 64];
		int id;

		line++;
		if ((size_t)(e - p) > GG_MAX_CONF_LINE)
			return complain(err, errsz, "%s:%u: the line is longer than %u bytes", f,
					line, (unsigned)GG_MAX_CONF_LINE);
		if (memchr(p, '\0', (size_t)(e - p)) != NULL)
			return complain(err, errsz, "%s:%u: a NUL byte", f, line);
		*e = '\0';
		if (e > p && e[-1] == '\r')
			e[-1] = '\0';
		key = p;
		p = nl ? nl + 1 : end;
		while (*key == ' ' || *key == '\t')
			key++;
		if (*key == '\0' || *key == '#')
			continue;
		/* A '#' after white space starts a comment. */
		for (hash = key + 1; *hash != '\0'; hash++) {
			if (*hash == '#' && (hash[-1] == ' ' || hash[-1] == '\t')) {
				*hash = '\0';
				break;
			}
		}
		if ((eq = strchr(key, '=')) == NULL)
			return complain(err, errsz, "%s:%u: expected 'key = value'", f, line);
		for (k_end = eq; k_end > key && (k_end[-1] == ' ' || k_end[-1] == '\t');)
			k_end--;
		*k_end = '\0';
		val = eq + 1;
		while (*val == ' ' || *val == '\t')
			val++;
		for (char *v_end = val + strlen(val);
		     v_end > val && (v_end[-1] == ' ' || v_end[-1] == '\t');)
			*--v_end = '\0';
		if (*key == '\0')
			return complain(err, errsz, "%s:%u: expected 'key = value'", f, line);
		if ((id = find_option(key)) < 0)
			return complain(err, errsz, "%s:%u: unknown key '%.64s'", f, line, key);
		if (conf_options[id].kind != CONF_LIST && c->v[CONF_SRC_FILE][id].set)
			return complain(err, errsz, "%s:%u: '%s' is already set at line %u", f,
					line, key, c->v[CONF_SRC_FILE][id].lines[0]);
		snprintf(who, sizeof(who), "%s:%u: %s", f, line, key);
		if (set_value(c, CONF_SRC_FILE, (enum conf_id)id, val, line, who, err, errsz) != 0)
			return -1;
	}
	return 0;
}

static int
load_file(struct conf *c, char *err, size_t errsz)
{
	struct stat sb;
	char *buf = NULL;
	size_t len = 0;
	int fd, rc = -1;

	if (c->file == NULL)
		return 0;
	if ((fd = open(c->file, O_RDONLY | O_CLOEXEC)) < 0)
		return complain(err, errsz, "cannot read the config file '%s' (%s): %s", c->file,
				c->file_via, strerror(errno));
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		complain(err, errsz, "cannot read the config file '%s' (%s): not a regular file",
			 c->file, c->file_via);
		goto done;
	}
	if (sb.st_size > GG_MAX_CONF_BYTES) {
		complain(err, errsz, "the config file '%s' (%s) is larger than %u bytes", c->file,
			 c->file_via, (unsigned)GG_MAX_CONF_BYTES);
		goto done;
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	/* Read to EOF, bounded: the file may have grown since fstat. */
	for (;;) {
		ssize_t n = read(fd, buf + len, (size_t)sb.st_size + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			complain(err, errsz, "cannot read the config file '%s' (%s): %s", c->file,
				 c->file_via, strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > (size_t)sb.st_size) {
			complain(err, errsz, "the config file '%s' (%s) changed while read",
				 c->file, c->file_via);
			goto done;
		}
	}
	rc = parse_file(c, buf, len, err, errsz);
done:
	free(buf);
	close(fd);
	return rc;
}

/* Environment, file and defaults, once the flags and the file are known. */
static int
load_rest(struct conf *c, char *err, size_t errsz)
{
	if (load_env(c, err, errsz) != 0 || load_file(c, err, errsz) != 0)
		return -1;
	load_defaults(c);
	return 0;
}

/* The getopt_long val of an option: past every char and 'h'. */
#define OPT_BASE 256
#define OPT_CONFIG (OPT_BASE + CONF_COUNT)

int
conf_load(int argc, char **argv, struct conf **out, char *err, size_t errsz)
{
	struct option opts[CONF_COUNT + 3];
	struct conf *c = xcalloc(1, sizeof(*c));
	const char *file = NULL, *via = NULL;
	int ch;

	*out = NULL;
	for (int i = 0; i < CONF_COUNT; i++) {
		opts[i].name = conf_options[i].name;
		opts[i].has_arg =
			conf_options[i].kind == CONF_BOOL ? optional_argument : required_argument;
		opts[i].flag = NULL;
		opts[i].val = OPT_BASE + i;
	}
	opts[CONF_COUNT] = (struct option){ "config", required_argument, NULL, OPT_CONFIG };
	opts[CONF_COUNT + 1] = (struct option){ "help", no_argument, NULL, 'h' };
	opts[CONF_COUNT + 2] = (struct option){ NULL, 0, NULL, 0 };

	while ((ch = conf_getopt(argc, argv, opts, err, errsz)) != -1) {
		char who[96];
		int id = ch - OPT_BASE;

		if (ch == '?')
			goto bad;
		if (ch == 'h') {
			conf_free(c);
			return 1;
		}
		if (ch == OPT_CONFIG) {
			file = optarg;
			via = "--config";
			continue;
		}
		if (id < 0 || id >= CONF_COUNT) {
			complain(err, errsz, "unexpected option %d", ch);
			goto bad;
		}
		snprintf(who, sizeof(who), "--%s", conf_options[id].name);
		if (set_value(c, CONF_SRC_FLAG, (enum conf_id)id, optarg ? optarg : "true", 0, who,
			      err, errsz) != 0)
			goto bad;
	}
	if (optind < argc) {
		complain(err, errsz, "unexpected argument '%s'", argv[optind]);
		goto bad;
	}
	if (file == NULL && (file = getenv("GGUFD_CONFIG")) != NULL && *file != '\0')
		via = "GGUFD_CONFIG";
	if (file != NULL && *file != '\0') {
		c->file = xstrdup(file);
		c->file_via = via;
	}
	if (load_rest(c, err, errsz) != 0)
		goto bad;
	*out = c;
	return 0;
bad:
	conf_free(c);
	return -1;
}

int
conf_reload(const struct conf *cur, struct conf **out, char *err, size_t errsz)
{
	struct conf *c = xcalloc(1, sizeof(*c));

	*out = NULL;
	for (int i = 0; i < CONF_COUNT; i++) {
		const struct conf_val *f = &cur->v[CONF_SRC_FLAG][i];
		for (size_t k = 0; k < f->n; k++)
			val_add(&c->v[CONF_SRC_FLAG][i], f->items[k], 0);
	}
	c->file = cur->file ? xstrdup(cur->file) : NULL;
	c->file_via = cur->file_via;
	if (load_rest(c, err, errsz) != 0) {
		conf_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

/* --- reading it ------------------------------------------------------------------ */

const char *
conf_file(const struct conf *c)
{
	return c->file ? c->file : "";
}

const char *
conf_str(const struct conf *c, enum conf_id id)
{
	const struct conf_val *v = effective(c, id, NULL);
	return v->n > 0 ? v->items[0] : NULL;
}

uint64_t
conf_u64(const struct conf *c, enum conf_id id)
{
	const struct conf_val *v = effective(c, id, NULL);
	uint64_t n = 0;

	if (v->n == 0)
		return 0;
	if (conf_options[id].kind == CONF_BOOL)
		return strcmp(v->items[0], "true") == 0;
	/* Checked when it was set. */
	if (parse_u64_str(v->items[0], UINT64_MAX, &n) != GG_OK)
		return 0;
	return n;
}

size_t
conf_list(const struct conf *c, enum conf_id id, char *const **items)
{
	const struct conf_val *v = effective(c, id, NULL);
	*items = v->items;
	return v->n;
}

enum conf_source
conf_source_of(const struct conf *c, enum conf_id id)
{
	enum conf_source s;
	effective(c, id, &s);
	return s;
}

int
conf_same(const struct conf *a, const struct conf *b, enum conf_id id)
{
	const struct conf_val *x = effective(a, id, NULL), *y = effective(b, id, NULL);

	if (x->n != y->n)
		return 0;
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->items[i], y->items[i]) != 0)
			return 0;
	return 1;
}

static void
print_source(const struct conf *c, enum conf_source s, const struct conf_option *o, unsigned line,
	     FILE *out)
{
	switch (s) {
	case CONF_SRC_FLAG: fputs("flag", out); break;
	case CONF_SRC_ENV: fprintf(out, "env %s", o->env); break;
	case CONF_SRC_FILE: fprintf(out, "%s:%u", c->file, line); break;
	default: fputs("default", out); break;
	}
}

void
conf_print(const struct conf *c, FILE *out)
{
	const char *var = NULL;

	fputs("# ggufd serve: the effective configuration\n"
	      "# (flags > GGUFD_* environment > config file > defaults)\n",
	      out);
	if (c->file != NULL)
		fprintf(out, "# config file: %s (%s)\n", c->file, c->file_via);
	else
		fputs("# config file: none (--config FILE or GGUFD_CONFIG)\n", out);
	for (int i = 0; i < CONF_COUNT; i++) {
		const struct conf_option *o = &conf_options[i];
		enum conf_source s;
		const struct conf_val *v = effective(c, (enum conf_id)i, &s);

		if (v->n == 0) {
			fprintf(out, "# %s is not set  # ", o->name);
			print_source(c, s, o, 0, out);
			fputc('\n', out);
			continue;
		}
		for (size_t k = 0; k < v->n; k++) {
			if (o->flags & CONF_SECRET)
				fprintf(out, "# %s is set (hidden)  # ", o->name);
			else
				fprintf(out, "%s = %s  # ", o->name, v->items[k]);
			print_source(c, s, o, v->lines[k], out);
			fputc('\n', out);
		}
	}
	/* The upstream token is not an option: only whether and where. */
	if (conf_upstream_token(&var) != NULL)
		fprintf(out, "# upstream token: set (env %s; never shown)\n", var);
	else
		fputs("# upstream token: not set (HF_TOKEN, HUGGING_FACE_HUB_TOKEN or "
		      "HUGGINGFACE_API_KEY)\n",
		      out);
	/* Likewise the blob store's key pair. */
	if (conf_str(c, CONF_BLOB_STORE) != NULL) {
		const char *ak = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY");
		fprintf(out,
			"# blob store credentials: AWS_ACCESS_KEY_ID %s, AWS_SECRET_ACCESS_KEY %s "
			"(never shown)\n",
			ak && *ak ? "set" : "NOT set", sk && *sk ? "set" : "NOT set");
	}
}

void
conf_usage(FILE *out)
{
	for (int i = 0; i < CONF_COUNT; i++) {
		const struct conf_option *o = &conf_options[i];
		const char *h = o->help;
		int w = fprintf(out, "  --%s%s%s", o->name, o->arg ? " " : "",
				o->arg ? o->arg : "");

		/* The help starts at column 22, or two spaces after a long name. */
		fprintf(out, "%*s", w < 20 ? 22 - w : 2, "");
		for (;;) {
			size_t l = strcspn(h, "\n");
			fprintf(out, "%.*s\n", (int)l, h);
			if (h[l] == '\0')
				break;
			h += l + 1;
			fprintf(out, "%22s", "");
		}
	}
}

const char *
conf_upstream_token(const char **var)
{
	static const char *const names[] = { "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN",
					     "HUGGINGFACE_API_KEY" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = getenv(names[i]);
		if (v != NULL && *v != '\0') {
			if (var != NULL)
				*var = names[i];
			return v;
		}
	}
	if (var != NULL)
		*var = NULL;
	return NULL;
}

/* --- getopt with our messages ----------------------------------------------------- */

int
conf_getopt(int argc, char **argv, const struct option *opts, char *err, size_t errsz)
{
	const char *arg, *sep = "";
	struct buf b;
	size_t nl;
	int c, matches = 0;

	opterr = 0;
	/* The leading ':' makes a missing value ':' and anything unknown '?'. */
	c = getopt_long(argc, argv, ":h", opts, NULL);
	if (c != '?' && c != ':')
		return c;
	arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	if (strncmp(arg, "--", 2) != 0) {
		/* A short option (only -h exists): optopt names it. */
		if (c == ':')
			complain(err, errsz, "option '-%c' needs a value", optopt);
		else
			complain(err, errsz, "unknown option '-%c'", optopt ? optopt : '?');
		return '?';
	}
	nl = strcspn(arg, "=");
	if (c == ':') {
		complain(err, errsz, "option '%.*s' needs a value", (int)nl, arg);
		return '?';
	}
	if (optopt != 0) {
		complain(err, errsz, "option '%.*s' takes no value", (int)nl, arg);
		return '?';
	}
	/* optopt 0: no long option has that name, or more than one begins so. */
	for (const struct option *o = opts; o->name != NULL; o++)
		if (strncmp(o->name, arg + 2, nl - 2) == 0)
			matches++;
	if (matches < 2) {
		complain(err, errsz, "unknown option '%.*s'", (int)nl, arg);
		return '?';
	}
	buf_init(&b, errsz - 1);
	buf_printf(&b, "ambiguous option '%.*s' (", (int)nl, arg);
	for (const struct option *o = opts; o->name != NULL; o++) {
		if (strncmp(o->name, arg + 2, nl - 2) == 0) {
			buf_printf(&b, "%s--%s", sep, o->name);
			sep = ", ";
		}
	}
	buf_puts(&b, ")");
	/* A list too long for err is cut; the start says what is wrong. */
	snprintf(err, errsz, "%s", buf_cstr(&b));
	buf_free(&b);
	return '?';
}
