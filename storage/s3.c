/*
 * s3.c: the object-store client (see s3.h).
 *
 * One libcurl easy handle per request (a multipart upload reuses one for
 * its parts).  Responses other than a GET's object bytes are small XML
 * documents (errors, InitiateMultipartUploadResult,
 * CompleteMultipartUploadResult, ListBucketResult): they are kept in a
 * buffer of at most RESP_MAX bytes and read with a few string searches,
 * which is all S3's fixed element names need.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "log.h"
#include "s3.h"
#include "util.h"

#define RESP_MAX (64u * 1024u)
#define READ_CHUNK (1u << 20)
#define STALL_SEC 60L

struct s3 {
	char *endpoint; /* no trailing '/' */
	char bucket[64];
	char prefix[201]; /* "" or "a/b" */
	char sigv4[96];   /* "aws:amz:REGION:s3" */
	char *ak, *sk;
	char *ca_bundle;
	uint64_t part_size, send_rate;
	char desc[512];
};

static _Atomic uint64_t c_in, c_out, c_req, c_err;
/* The last error, for the dashboard: what was asked and what came back. */
static pthread_mutex_t last_mu = PTHREAD_MUTEX_INITIALIZER;
static char last_error[sizeof(((struct s3_counters *)0)->last_error)];
static uint64_t last_error_at;

/* Objects whose bytes did not hash to their name (s3_mark_bad): a ring,
 * the oldest forgotten first. */
#define BAD_MAX 64
static pthread_mutex_t bad_mu = PTHREAD_MUTEX_INITIALIZER;
static char bad[BAD_MAX][GG_SHA256_HEX + 1];
static unsigned bad_next;

void
s3_mark_bad(const char *sha256)
{
	pthread_mutex_lock(&bad_mu);
	for (unsigned i = 0; i < BAD_MAX; i++)
		if (strcmp(bad[i], sha256) == 0)
			goto out;
	snprintf(bad[bad_next], sizeof(bad[0]), "%s", sha256);
	bad_next = (bad_next + 1) % BAD_MAX;
out:
	pthread_mutex_unlock(&bad_mu);
}

int
s3_is_bad(const char *sha256)
{
	int found = 0;
	pthread_mutex_lock(&bad_mu);
	for (unsigned i = 0; i < BAD_MAX && !found; i++)
		found = strcmp(bad[i], sha256) == 0;
	pthread_mutex_unlock(&bad_mu);
	return found;
}

void
s3_clear_bad(const char *sha256)
{
	pthread_mutex_lock(&bad_mu);
	for (unsigned i = 0; i < BAD_MAX; i++)
		if (strcmp(bad[i], sha256) == 0)
			bad[i][0] = '\0';
	pthread_mutex_unlock(&bad_mu);
}

void
s3_counters(struct s3_counters *out)
{
	out->bytes_in = atomic_load_explicit(&c_in, memory_order_relaxed);
	out->bytes_out = atomic_load_explicit(&c_out, memory_order_relaxed);
	out->requests = atomic_load_explicit(&c_req, memory_order_relaxed);
	out->errors = atomic_load_explicit(&c_err, memory_order_relaxed);
	pthread_mutex_lock(&last_mu);
	memcpy(out->last_error, last_error, sizeof(out->last_error));
	out->last_error_at = last_error_at;
	pthread_mutex_unlock(&last_mu);
}

static void
count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* Keeps "WHAT [blob SHA]: RESULT" as the last error (no secret: the
 * request's method and object, the store's status, code and message). */
static void
note_error(const char *what, const char *sha256, const struct s3_result *res)
{
	char why[400];

	s3_result_str(res, why, sizeof(why));
	pthread_mutex_lock(&last_mu);
	snprintf(last_error, sizeof(last_error), "%.40s%s%.64s: %.280s", what, sha256 ? " " : "",
		 sha256 ? sha256 : "", why);
	last_error_at = now_unix();
	pthread_mutex_unlock(&last_mu);
}

/* An error answer or none: counted, and kept as the last error. */
static void
failed(const char *what, const char *sha256, const struct s3_result *res)
{
	count(&c_err, 1);
	note_error(what, sha256, res);
}

/* --- names ------------------------------------------------------------------ */

static int
seg_ok(const char *s, size_t n)
{
	if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int
s3_parse_url(const char *url, char *bucket, size_t bsz, char *prefix, size_t psz)
{
	const char *b, *slash, *p;
	size_t bl, pl;

	if (url == NULL || strncmp(url, "s3://", 5) != 0)
		return GG_EINVAL;
	b = url + 5;
	slash = strchr(b, '/');
	bl = slash ? (size_t)(slash - b) : strlen(b);
	if (bl < 3 || bl > 63 || bl + 1 > bsz)
		return GG_EINVAL;
	for (size_t i = 0; i < bl; i++) {
		char c = b[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return GG_EINVAL;
	}
	if (b[0] == '.' || b[0] == '-' || b[bl - 1] == '.' || b[bl - 1] == '-')
		return GG_EINVAL;
	memcpy(bucket, b, bl);
	bucket[bl] = '\0';
	p = slash ? slash + 1 : "";
	pl = strlen(p);
	while (pl > 0 && p[pl - 1] == '/')
		pl--;
	if (pl > 200 || pl + 1 > psz)
		return GG_EINVAL;
	for (size_t i = 0; i < pl;) {
		size_t n = 0;
		while (i + n < pl && p[i + n] != '/')
			n++;
		if (!seg_ok(p + i, n))
			return GG_EINVAL;
		i += n + 1;
	}
	memcpy(prefix, p, pl);
	prefix[pl] = '\0';
	return GG_OK;
}

int
s3_new(const struct s3_config *cfg, struct s3 **out)
{
	struct s3 *s;
	const char *region = cfg->region && *cfg->region ? cfg->region : "us-east-1";
	size_t el;

	*out = NULL;
	if (cfg->endpoint == NULL || (strncmp(cfg->endpoint, "http://", 7) != 0 &&
				      strncmp(cfg->endpoint, "https://", 8) != 0))
		return GG_EINVAL;
	if (cfg->access_key == NULL || !*cfg->access_key || cfg->secret_key == NULL ||
	    !*cfg->secret_key)
		return GG_EINVAL;
	for (const char *r = region; *r; r++)
		if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') || *r == '-'))
			return GG_EINVAL;
	if (strlen(region) > 40)
		return GG_EINVAL;
	s = xcalloc(1, sizeof(*s));
	if (s3_parse_url(cfg->url, s->bucket, sizeof(s->bucket), s->prefix, sizeof(s->prefix)) !=
	    GG_OK) {
		free(s);
		return GG_EINVAL;
	}
	s->endpoint = xstrdup(cfg->endpoint);
	el = strlen(s->endpoint);
	while (el > 0 && s->endpoint[el - 1] == '/')
		s->endpoint[--el] = '\0';
	snprintf(s->sigv4, sizeof(s->sigv4), "aws:amz:%s:s3", region);
	s->ak = xstrdup(cfg->access_key);
	s->sk = xstrdup(cfg->secret_key);
	s->ca_bundle = cfg->ca_bundle ? xstrdup(cfg->ca_bundle) : NULL;
	s->part_size = cfg->part_size ? cfg->part_size : S3_DEFAULT_PART;
	if (s->part_size < S3_MIN_PART)
		s->part_size = S3_MIN_PART;
	s->send_rate = cfg->send_rate;
	snprintf(s->desc, sizeof(s->desc), "s3://%s%s%s at %s", s->bucket, s->prefix[0] ? "/" : "",
		 s->prefix, s->endpoint);
	*out = s;
	return GG_OK;
}

void
s3_free(struct s3 *s)
{
	if (s == NULL)
		return;
	free(s->endpoint);
	if (s->sk != NULL) {
		memset(s->sk, 0, strlen(s->sk));
		free(s->sk);
	}
	free(s->ak);
	free(s->ca_bundle);
	free(s);
}

const char *
s3_describe(const struct s3 *s)
{
	return s->desc;
}

void
s3_location(const struct s3 *s, const char **endpoint, const char **bucket, const char **prefix)
{
	*endpoint = s->endpoint;
	*bucket = s->bucket;
	*prefix = s->prefix;
}

/* ENDPOINT/BUCKET[/PREFIX][/sha256][?query] */
static char *
object_url(const struct s3 *s, const char *sha256, const char *query)
{
	return xasprintf("%s/%s%s%s%s%s%s%s", s->endpoint, s->bucket, s->prefix[0] ? "/" : "",
			 s->prefix, sha256 ? "/" : "", sha256 ? sha256 : "", query ? "?" : "",
			 query ? query : "");
}

static int
valid_sha(const char *sha256)
{
	return sha256 != NULL && strlen(sha256) == GG_SHA256_HEX &&
	       is_lower_hex(sha256, GG_SHA256_HEX);
}

/* --- one request ----------------------------------------------------------- */

struct call {
	CURL *c;
	struct curl_slist *hdrs;
	char err[CURL_ERROR_SIZE];
	char *resp; /* small answers (and error bodies) */
	size_t resp_len;
	char etag[130];
	/* GET into a callback */
	int (*cb)(void *ctx, const void *data, size_t n, long status);
	void *ctx;
	int cb_stopped;
	uint64_t want_first;   /* the Range asked from (a 206 must start there) */
	long long range_first; /* a 206's Content-Range start, -1: none seen */
	int range_bad;
	/* PUT from a file */
	int fd;
	uint64_t off, left;
	int read_err;
	/* POST body */
	atomic_int *stop;
};

static size_t
write_cb(char *data, size_t sz, size_t nm, void *arg)
{
	struct call *k = arg;
	size_t n = sz * nm;
	long status = 0;

	curl_easy_getinfo(k->c, CURLINFO_RESPONSE_CODE, &status);
	if (k->cb != NULL && status == 206 && k->range_first != (long long)k->want_first) {
		k->range_bad = 1; /* another range than asked: not one byte kept */
		return 0;
	}
	if (k->cb != NULL && (status == 200 || status == 206)) {
		count(&c_in, n);
		if (k->cb(k->ctx, data, n, status) != 0) {
			k->cb_stopped = 1;
			return 0;
		}
		return n;
	}
	if (k->resp_len + n > RESP_MAX)
		return 0;
	k->resp = xrealloc(k->resp, k->resp_len + n + 1);
	memcpy(k->resp + k->resp_len, data, n);
	k->resp_len += n;
	k->resp[k->resp_len] = '\0';
	return n;
}

static size_t
header_cb(char *data, size_t sz, size_t nm, void *arg)
{
	struct call *k = arg;
	size_t n = sz * nm;
	if (n > 14 && strncasecmp(data, "content-range:", 14) == 0) {
		/* "Content-Range: bytes FIRST-LAST/TOTAL" */
		const char *p = data + 14, *end = data + n, *d;
		uint64_t first;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		k->range_first = -2;
		if (end - p > 6 && strncasecmp(p, "bytes ", 6) == 0 &&
		    (d = memchr(p + 6, '-', (size_t)(end - p - 6))) != NULL &&
		    parse_u64(p + 6, d, (uint64_t)INT64_MAX, &first) == GG_OK)
			k->range_first = (long long)first;
	}
	if (n > 5 && strncasecmp(data, "etag:", 5) == 0) {
		size_t i = 5, e = n;
		while (i < n && (data[i] == ' ' || data[i] == '\t'))
			i++;
		while (e > i && (data[e - 1] == '\r' || data[e - 1] == '\n' || data[e - 1] == ' '))
			e--;
		if (e - i < sizeof(k->etag)) {
			memcpy(k->etag, data + i, e - i);
			k->etag[e - i] = '\0';
		}
	}
	return n;
}

static size_t
read_cb(char *out, size_t sz, size_t nm, void *arg)
{
	struct call *k = arg;
	size_t n = sz * nm;
	ssize_t got;

	if (n > k->left)
		n = (size_t)k->left;
	if (n == 0)
		return 0;
	got = pread(k->fd, out, n, (off_t)k->off);
	if (got <= 0) {
		k->read_err = 1;
		return CURL_READFUNC_ABORT;
	}
	k->off += (uint64_t)got;
	k->left -= (uint64_t)got;
	count(&c_out, (uint64_t)got);
	return (size_t)got;
}

static int
progress_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct call *k = arg;
	(void)dt, (void)dn, (void)ut, (void)un;
	return k->stop != NULL && atomic_load(k->stop) ? 1 : 0;
}

static void
call_init(struct call *k, const struct s3 *s, const char *url, const char *payload_sha,
	  atomic_int *stop)
{
	char h[128];

	memset(k, 0, sizeof(*k));
	k->fd = -1;
	k->stop = stop;
	k->c = curl_easy_init();
	if (k->c == NULL)
		log_fatalx("curl_easy_init() failed");
	curl_easy_setopt(k->c, CURLOPT_URL, url);
	curl_easy_setopt(k->c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(k->c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(k->c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(k->c, CURLOPT_USERAGENT, "ggufd/" PACKAGE_VERSION);
	curl_easy_setopt(k->c, CURLOPT_CONNECTTIMEOUT_MS, (long)GG_UP_CONNECT_MS);
	curl_easy_setopt(k->c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(k->c, CURLOPT_LOW_SPEED_TIME, STALL_SEC);
	curl_easy_setopt(k->c, CURLOPT_ERRORBUFFER, k->err);
	if (s->ca_bundle != NULL)
		curl_easy_setopt(k->c, CURLOPT_CAINFO, s->ca_bundle);
	curl_easy_setopt(k->c, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(k->c, CURLOPT_USERNAME, s->ak);
	curl_easy_setopt(k->c, CURLOPT_PASSWORD, s->sk);
	snprintf(h, sizeof(h), "x-amz-content-sha256: %s", payload_sha);
	k->hdrs = curl_slist_append(k->hdrs, h);
	curl_easy_setopt(k->c, CURLOPT_HTTPHEADER, k->hdrs);
	curl_easy_setopt(k->c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(k->c, CURLOPT_WRITEDATA, k);
	curl_easy_setopt(k->c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(k->c, CURLOPT_HEADERDATA, k);
	if (stop != NULL) {
		curl_easy_setopt(k->c, CURLOPT_XFERINFOFUNCTION, progress_cb);
		curl_easy_setopt(k->c, CURLOPT_XFERINFODATA, k);
		curl_easy_setopt(k->c, CURLOPT_NOPROGRESS, 0L);
	}
}

static void
call_free(struct call *k)
{
	curl_easy_cleanup(k->c);
	curl_slist_free_all(k->hdrs);
	free(k->resp);
	k->c = NULL;
	k->hdrs = NULL;
	k->resp = NULL;
}

/* The text of the first <tag>...</tag> in xml (entities decoded), or "". */
static void
xml_text(const char *xml, const char *tag, char *out, size_t n)
{
	char open[64], close[64];
	const char *a, *b;
	size_t k = 0;

	out[0] = '\0';
	if (xml == NULL)
		return;
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	if ((a = strstr(xml, open)) == NULL)
		return;
	a += strlen(open);
	if ((b = strstr(a, close)) == NULL)
		return;
	while (a < b && k + 1 < n) {
		static const struct {
			const char *ent;
			char c;
		} ents[] = { { "&amp;", '&' },
			     { "&lt;", '<' },
			     { "&gt;", '>' },
			     { "&quot;", '"' },
			     { "&apos;", '\'' } };
		int done = 0;
		for (size_t i = 0; *a == '&' && i < sizeof(ents) / sizeof(ents[0]); i++) {
			size_t l = strlen(ents[i].ent);
			if ((size_t)(b - a) >= l && strncmp(a, ents[i].ent, l) == 0) {
				out[k++] = ents[i].c;
				a += l;
				done = 1;
				break;
			}
		}
		if (!done) {
			unsigned char c = (unsigned char)*a++;
			out[k++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
		}
	}
	out[k] = '\0';
}

/* Runs the request; fills res.  Returns the status (0: no answer). */
static long
call_run(struct call *k, struct s3_result *res)
{
	CURLcode cc;
	long status = 0;

	memset(res, 0, sizeof(*res));
	count(&c_req, 1);
	cc = curl_easy_perform(k->c);
	curl_easy_getinfo(k->c, CURLINFO_RESPONSE_CODE, &status);
	res->status = status;
	if (cc != CURLE_OK && !k->cb_stopped) {
		snprintf(res->error, sizeof(res->error), "%s",
			 k->err[0] ? k->err : curl_easy_strerror(cc));
		if (status >= 200 && status < 300)
			res->status = status = 0; /* a body cut short is no answer */
	}
	if (status >= 300) {
		xml_text(k->resp, "Code", res->code, sizeof(res->code));
		xml_text(k->resp, "Message", res->message, sizeof(res->message));
	}
	return status;
}

const char *
s3_result_str(const struct s3_result *res, char *buf, size_t n)
{
	if (res->status == 0)
		snprintf(buf, n, "no answer: %s", res->error[0] ? res->error : "?");
	else
		snprintf(buf, n, "HTTP %ld%s%s%s%s", res->status, res->code[0] ? " " : "",
			 res->code, res->message[0] ? ": " : "", res->message);
	return buf;
}

static void
sha256_hex(const void *data, size_t n, char out[GG_SHA256_HEX + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	EVP_Digest(data, n, md, &len, EVP_sha256(), NULL);
	hex_encode(md, 32, out);
}

/* --- verbs ----------------------------------------------------------------- */

int
s3_check_bucket(struct s3 *s, int create, struct s3_result *res)
{
	struct call k;
	char *url = xasprintf("%s/%s?max-keys=1", s->endpoint, s->bucket);
	char empty[GG_SHA256_HEX + 1];
	long st;

	call_init(&k, s, url, "UNSIGNED-PAYLOAD", NULL);
	curl_easy_setopt(k.c, CURLOPT_TIMEOUT_MS, 30000L);
	st = call_run(&k, res);
	call_free(&k);
	free(url);
	if (st == 200)
		return GG_OK;
	if (st == 401 || st == 403)
		return GG_EINVAL;
	if (st != 404 || strcmp(res->code, "NoSuchBucket") != 0) {
		failed("listing the bucket", NULL, res);
		return st == 404 ? GG_ENOENT : GG_EIO;
	}
	if (!create)
		return GG_ENOENT;
	url = xasprintf("%s/%s", s->endpoint, s->bucket);
	sha256_hex("", 0, empty);
	call_init(&k, s, url, empty, NULL);
	curl_easy_setopt(k.c, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(k.c, CURLOPT_TIMEOUT_MS, 30000L);
	st = call_run(&k, res);
	call_free(&k);
	free(url);
	if (st == 200) {
		log_info("blob store: created bucket %s", s->bucket);
		return GG_OK;
	}
	failed("creating the bucket", NULL, res);
	return st == 401 || st == 403 ? GG_EINVAL : GG_EIO;
}

int
s3_head(struct s3 *s, const char *sha256, uint64_t *size, struct s3_result *res)
{
	struct call k;
	curl_off_t len = -1;
	char *url;
	long st;

	memset(res, 0, sizeof(*res));
	if (!valid_sha(sha256))
		return GG_EINVAL;
	url = object_url(s, sha256, NULL);
	call_init(&k, s, url, "UNSIGNED-PAYLOAD", NULL);
	curl_easy_setopt(k.c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(k.c, CURLOPT_TIMEOUT_MS, 30000L);
	st = call_run(&k, res);
	curl_easy_getinfo(k.c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
	call_free(&k);
	free(url);
	if (st == 200 && len >= 0) {
		*size = (uint64_t)len;
		return GG_OK;
	}
	if (st == 404)
		return GG_ENOENT;
	failed("HEAD", sha256, res);
	return GG_EIO;
}

int
s3_get(struct s3 *s, const char *sha256, uint64_t offset,
       int (*cb)(void *ctx, const void *data, size_t n, long status), void *ctx,
       struct s3_result *res)
{
	struct call k;
	char *url, range[64];
	long st;

	memset(res, 0, sizeof(*res));
	if (!valid_sha(sha256))
		return GG_EINVAL;
	url = object_url(s, sha256, NULL);
	call_init(&k, s, url, "UNSIGNED-PAYLOAD", NULL);
	k.cb = cb;
	k.ctx = ctx;
	k.want_first = offset;
	k.range_first = -1;
	curl_easy_setopt(k.c, CURLOPT_BUFFERSIZE, 512L * 1024L);
	if (offset > 0) {
		snprintf(range, sizeof(range), "%llu-", (unsigned long long)offset);
		curl_easy_setopt(k.c, CURLOPT_RANGE, range);
	}
	st = call_run(&k, res);
	call_free(&k);
	free(url);
	if (k.range_bad) {
		snprintf(res->error, sizeof(res->error),
			 "a 206 for another range than bytes=%llu-: not kept",
			 (unsigned long long)offset);
		failed("GET", sha256, res);
		return GG_EIO;
	}
	if (st == 404)
		return GG_ENOENT;
	if ((st == 200 || st == 206) && res->error[0] == '\0')
		return GG_OK;
	if (!k.cb_stopped)
		failed("GET", sha256, res);
	return GG_EIO;
}

int
s3_delete(struct s3 *s, const char *sha256, struct s3_result *res)
{
	struct call k;
	char *url;
	long st;

	memset(res, 0, sizeof(*res));
	if (!valid_sha(sha256))
		return GG_EINVAL;
	url = object_url(s, sha256, NULL);
	call_init(&k, s, url, "UNSIGNED-PAYLOAD", NULL);
	curl_easy_setopt(k.c, CURLOPT_CUSTOMREQUEST, "DELETE");
	curl_easy_setopt(k.c, CURLOPT_TIMEOUT_MS, 30000L);
	st = call_run(&k, res);
	call_free(&k);
	free(url);
	if (st == 204 || st == 200 || st == 404)
		return GG_OK;
	failed("DELETE", sha256, res);
	return GG_EIO;
}

/* A PUT of [off, off+len) of fd to url, signed with payload_sha. */
static long
put_range(struct s3 *s, const char *url, const char *payload_sha, int fd, uint64_t off,
	  uint64_t len, atomic_int *stop, struct s3_result *res, char *etag, size_t etag_sz,
	  int *read_err)
{
	struct call k;
	long st;

	call_init(&k, s, url, payload_sha, stop);
	k.fd = fd;
	k.off = off;
	k.left = len;
	curl_easy_setopt(k.c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(k.c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(k.c, CURLOPT_READDATA, &k);
	curl_easy_setopt(k.c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	if (s->send_rate > 0)
		curl_easy_setopt(k.c, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t)s->send_rate);
	st = call_run(&k, res);
	if (etag != NULL)
		snprintf(etag, etag_sz, "%s", k.etag);
	*read_err = k.read_err;
	call_free(&k);
	return st;
}

/* A POST of body to url; the answer in *resp (caller frees). */
static long
post_xml(struct s3 *s, const char *url, const char *body, struct s3_result *res, char **resp)
{
	struct call k;
	char sha[GG_SHA256_HEX + 1];
	long st;

	sha256_hex(body, strlen(body), sha);
	call_init(&k, s, url, sha, NULL);
	k.hdrs = curl_slist_append(k.hdrs, "Content-Type: application/xml");
	curl_easy_setopt(k.c, CURLOPT_HTTPHEADER, k.hdrs);
	curl_easy_setopt(k.c, CURLOPT_POST, 1L);
	curl_easy_setopt(k.c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(k.c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	/* Completing a large upload may take the store a while. */
	curl_easy_setopt(k.c, CURLOPT_TIMEOUT_MS, 600000L);
	st = call_run(&k, res);
	*resp = k.resp;
	k.resp = NULL;
	call_free(&k);
	return st;
}

/* Percent-encodes s (RFC 3986 unreserved kept) into out. */
static void
url_encode(const char *s, char *out, size_t n)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t k = 0;
	for (; *s && k + 4 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			out[k++] = (char)c;
		} else {
			out[k++] = '%';
			out[k++] = hx[c >> 4];
			out[k++] = hx[c & 15];
		}
	}
	out[k] = '\0';
}

static void
mp_abort(struct s3 *s, const char *sha256, const char *upload_id)
{
	struct s3_result res;
	struct call k;
	char q[600], id[512], *url;

	url_encode(upload_id, id, sizeof(id));
	snprintf(q, sizeof(q), "uploadId=%s", id);
	url = object_url(s, sha256, q);
	call_init(&k, s, url, "UNSIGNED-PAYLOAD", NULL);
	curl_easy_setopt(k.c, CURLOPT_CUSTOMREQUEST, "DELETE");
	curl_easy_setopt(k.c, CURLOPT_TIMEOUT_MS, 30000L);
	call_run(&k, &res);
	call_free(&k);
	free(url);
	if (res.status != 204 && res.status != 200 && res.status != 404) {
		char why[400];
		log_warnx("blob store: aborting the multipart upload of %s failed (%s); the "
			  "store drops it by its own rules",
			  sha256, s3_result_str(&res, why, sizeof(why)));
	}
}

/* Hashes [off, off+len) of fd into part (hex) and whole.  0 or GG_EIO. */
static int
hash_part(int fd, uint64_t off, uint64_t len, EVP_MD_CTX *whole, char out[GG_SHA256_HEX + 1])
{
	EVP_MD_CTX *p = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char *b = xmalloc(READ_CHUNK);
	int r = GG_OK;

	if (p == NULL || EVP_DigestInit_ex(p, EVP_sha256(), NULL) != 1)
		log_fatalx("EVP_DigestInit_ex(sha256) failed");
	while (len > 0) {
		size_t n = len < READ_CHUNK ? (size_t)len : READ_CHUNK;
		ssize_t got = pread(fd, b, n, (off_t)off);
		if (got <= 0) {
			r = GG_EIO;
			break;
		}
		EVP_DigestUpdate(p, b, (size_t)got);
		EVP_DigestUpdate(whole, b, (size_t)got);
		off += (uint64_t)got;
		len -= (uint64_t)got;
	}
	EVP_DigestFinal_ex(p, md, &mdlen);
	hex_encode(md, 32, out);
	EVP_MD_CTX_free(p);
	free(b);
	return r;
}

static int
put_multipart(struct s3 *s, const char *sha256, int fd, uint64_t size, atomic_int *stop,
	      struct s3_result *res)
{
	uint64_t part = s->part_size, nparts;
	char upload_id[512], id_enc[512], q[700], why[400], *url, *resp = NULL;
	char(*etags)[130] = NULL;
	struct buf body;
	EVP_MD_CTX *whole = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char got[GG_SHA256_HEX + 1];
	int r = GG_EIO;
	long st;

	while ((size + part - 1) / part > S3_MAX_PARTS)
		part *= 2;
	nparts = (size + part - 1) / part;
	/* Initiate. */
	url = object_url(s, sha256, "uploads=");
	st = post_xml(s, url, "", res, &resp);
	free(url);
	xml_text(resp, "UploadId", upload_id, sizeof(upload_id));
	free(resp);
	resp = NULL;
	if (st != 200 || upload_id[0] == '\0') {
		log_warnx("blob store: starting a multipart upload of %s failed: %s", sha256,
			  s3_result_str(res, why, sizeof(why)));
		failed("starting the multipart upload of", sha256, res);
		return GG_EIO;
	}
	url_encode(upload_id, id_enc, sizeof(id_enc));
	etags = xcalloc((size_t)nparts, sizeof(*etags));
	whole = EVP_MD_CTX_new();
	if (whole == NULL || EVP_DigestInit_ex(whole, EVP_sha256(), NULL) != 1)
		log_fatalx("EVP_DigestInit_ex(sha256) failed");
	for (uint64_t i = 0; i < nparts; i++) {
		uint64_t off = i * part, len = size - off < part ? size - off : part;
		char psha[GG_SHA256_HEX + 1];
		int read_err = 0;

		if (stop != NULL && atomic_load(stop))
			goto abort;
		/* The part's hash first: the store checks the bytes sent
		 * against it, and the parts' bytes chain to the whole hash. */
		if (hash_part(fd, off, len, whole, psha) != GG_OK) {
			log_warn("blob store: reading blob %s failed", sha256);
			goto abort;
		}
		snprintf(q, sizeof(q), "partNumber=%llu&uploadId=%s", (unsigned long long)i + 1,
			 id_enc);
		url = object_url(s, sha256, q);
		st = put_range(s, url, psha, fd, off, len, stop, res, etags[i], sizeof(etags[i]),
			       &read_err);
		free(url);
		if (st != 200 || etags[i][0] == '\0') {
			if (!(stop != NULL && atomic_load(stop))) {
				log_warnx("blob store: part %llu of %s failed: %s",
					  (unsigned long long)i + 1, sha256,
					  s3_result_str(res, why, sizeof(why)));
				failed("PUT part of", sha256, res);
			}
			goto abort;
		}
		log_debug("blob store: part %llu/%llu of %s stored", (unsigned long long)i + 1,
			  (unsigned long long)nparts, sha256);
	}
	EVP_DigestFinal_ex(whole, md, &mdlen);
	hex_encode(md, 32, got);
	if (strcmp(got, sha256) != 0) {
		log_warnx("blob store: blob %s reads as sha256 %s: not stored (run ggufd verify)",
			  sha256, got);
		r = GG_ECORRUPT;
		goto abort;
	}
	/* Complete. */
	buf_init(&body, (size_t)nparts * 200 + 128);
	buf_puts(&body, "<CompleteMultipartUpload>");
	for (uint64_t i = 0; i < nparts; i++) {
		char et[200];
		size_t k = 0;
		for (const char *e = etags[i]; *e && k + 7 < sizeof(et); e++) {
			if (*e == '"') {
				memcpy(et + k, "&quot;", 6);
				k += 6;
			} else if (*e != '<' && *e != '>' && *e != '&') {
				et[k++] = *e;
			}
		}
		et[k] = '\0';
		buf_printf(&body, "<Part><PartNumber>%llu</PartNumber><ETag>%s</ETag></Part>",
			   (unsigned long long)i + 1, et);
	}
	buf_puts(&body, "</CompleteMultipartUpload>");
	snprintf(q, sizeof(q), "uploadId=%s", id_enc);
	url = object_url(s, sha256, q);
	st = post_xml(s, url, buf_cstr(&body), res, &resp);
	free(url);
	buf_free(&body);
	/* A 200 may still carry an <Error> (S3 sends the status early). */
	if (st == 200 && (resp == NULL || strstr(resp, "<Error>") == NULL)) {
		free(resp);
		free(etags);
		EVP_MD_CTX_free(whole);
		return GG_OK;
	}
	if (st == 200) {
		xml_text(resp, "Code", res->code, sizeof(res->code));
		xml_text(resp, "Message", res->message, sizeof(res->message));
	}
	log_warnx("blob store: completing the multipart upload of %s failed: %s", sha256,
		  s3_result_str(res, why, sizeof(why)));
	failed("completing the multipart upload of", sha256, res);
	free(resp);
abort:
	mp_abort(s, sha256, upload_id);
	free(etags);
	EVP_MD_CTX_free(whole);
	return r;
}

int
s3_put_blob(struct s3 *s, const char *sha256, int fd, uint64_t size, atomic_int *stop,
	    struct s3_result *res)
{
	char *url, why[400];
	int read_err = 0;
	long st;

	memset(res, 0, sizeof(*res));
	if (!valid_sha(sha256))
		return GG_EINVAL;
	if (size > s->part_size)
		return put_multipart(s, sha256, fd, size, stop, res);
	url = object_url(s, sha256, NULL);
	/* The store hashes the body and refuses it unless it is sha256. */
	st = put_range(s, url, sha256, fd, 0, size, stop, res, NULL, 0, &read_err);
	free(url);
	if (st == 200)
		return GG_OK;
	if (st == 400 && (strcmp(res->code, "XAmzContentSHA256Mismatch") == 0 ||
			  strcmp(res->code, "BadDigest") == 0)) {
		log_warnx("blob store: the store refused blob %s: its bytes do not hash to its "
			  "name (run ggufd verify)",
			  sha256);
		note_error("PUT", sha256, res);
		return GG_ECORRUPT;
	}
	if (!(stop != NULL && atomic_load(stop)) && !read_err) {
		log_warnx("blob store: storing blob %s failed: %s", sha256,
			  s3_result_str(res, why, sizeof(why)));
		failed("PUT", sha256, res);
	}
	return GG_EIO;
}
