/*
 * upstream.c: the libcurl client for the upstream Hub (see upstream.h).
 *
 * One easy handle per request (the content transfers are long; the
 * metadata requests are few thanks to the index cache).  Headers are
 * captured by a callback that keeps only what upstream_resp names, reset
 * at each hop's status line so the fields describe the last hop, except
 * X-Repo-Commit and X-Linked-*, which the real Hub puts on the redirect
 * and which survive later hops that lack them.
 *
 *   HEAD /ruv/ruvltra/resolve/main/ruvltra-0.5b-q4_k_m.gguf
 *   <- 302 Location: https://cdn.../?Expires=..   (absolute: stop here)
 *      X-Repo-Commit: 191239b3...   X-Linked-Etag: "5c3b..."   X-Linked-Size: 2825940544
 *   HEAD /gpt2/resolve/main/config.json
 *   <- 307 Location: /api/resolve-cache/models/gpt2/607a.../config.json?etag=...
 *   HEAD /api/resolve-cache/models/gpt2/607a.../config.json   (path replaced, query dropped)
 *   <- 200 ETag: "<git sha1>"  Content-Length: 665  X-Repo-Commit: 607a...
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "budget.h"
#include "gg_limits.h"
#include "log.h"
#include "stats.h"
#include "upstream.h"
#include "util.h"

#define MAX_HOPS 5
#define META_TRIES 3

struct upstream {
	char *base;
	char *token;
	char *ca_bundle;
	long meta_timeout_ms;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned max_transfers;
	unsigned active;
	struct budget *budget; /* what each host allows us after a 429 (budget.h) */
};

const char *
upstream_base(const struct upstream *u)
{
	return u->base;
}

int
upstream_new(const struct upstream_config *cfg, struct upstream **out)
{
	struct upstream *u;
	CURLU *url = curl_url();
	size_t n;

	if (url == NULL)
		log_fatalx("curl_url() failed: out of memory");
	if (cfg->base == NULL || curl_url_set(url, CURLUPART_URL, cfg->base, 0) != CURLUE_OK) {
		curl_url_cleanup(url);
		return GG_EINVAL;
	}
	curl_url_cleanup(url);
	u = xcalloc(1, sizeof(*u));
	u->base = xstrdup(cfg->base);
	n = strlen(u->base);
	while (n > 0 && u->base[n - 1] == '/')
		u->base[--n] = '\0';
	u->token = cfg->token && *cfg->token ? xstrdup(cfg->token) : NULL;
	u->ca_bundle = cfg->ca_bundle ? xstrdup(cfg->ca_bundle) : NULL;
	u->meta_timeout_ms = cfg->meta_timeout_ms > 0 ? cfg->meta_timeout_ms : GG_UP_META_MS;
	u->max_transfers = cfg->max_transfers ? cfg->max_transfers : GG_MAX_TRANSFERS;
	pthread_mutex_init(&u->mu, NULL);
	pthread_cond_init(&u->cv, NULL);
	u->budget = budget_new();
	*out = u;
	return GG_OK;
}

void
upstream_free(struct upstream *u)
{
	if (u == NULL)
		return;
	pthread_mutex_destroy(&u->mu);
	pthread_cond_destroy(&u->cv);
	budget_free(u->budget);
	if (u->token != NULL) {
		/* Do not leave the secret in freed memory. */
		volatile char *p = u->token;
		while (*p)
			*p++ = '\0';
		free(u->token);
	}
	free(u->ca_bundle);
	free(u->base);
	free(u);
}

char *
upstream_quote(const char *s, int keep_slash)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = xmalloc(3 * n + 1), *o = out;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("_.-~", *p) != NULL ||
		    (keep_slash && *p == '/')) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hx[*p >> 4];
			*o++ = hx[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

static char *
resolve_url(struct upstream *u, const char *prefix, const char *repo, const char *rev,
	    const char *path)
{
	char *qr = upstream_quote(rev, 0), *qp = upstream_quote(path, 1);
	char *url = xasprintf("%s/%s%s/resolve/%s/%s", u->base, prefix, repo, qr, qp);
	free(qr);
	free(qp);
	return url;
}

/* --- headers -------------------------------------------------------------- */

struct hdr_ctx {
	struct upstream_resp *r;
};

static void
copy_value(char *dst, size_t size, const char *v, size_t n)
{
	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	if (n >= size)
		n = size - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

/* "W/\"abc\"" -> "abc" */
static void
normalize_etag(char *e)
{
	size_t n;
	if (strncmp(e, "W/", 2) == 0)
		memmove(e, e + 2, strlen(e + 2) + 1);
	n = strlen(e);
	if (n >= 2 && e[0] == '"' && e[n - 1] == '"') {
		memmove(e, e + 1, n - 2);
		e[n - 2] = '\0';
	}
}

/*
 * Retry-After: delay-seconds or an HTTP-date (RFC 9110 10.2.3), as
 * seconds from now; 0 when absent or unreadable.  A very long wait is
 * kept long (budget.c bounds it), not dropped.
 */
static uint64_t
parse_retry_after(const char *v)
{
	uint64_t s;
	time_t t, now;

	if (parse_u64_str(v, UINT64_MAX / 2, &s) == GG_OK)
		return s < 10 * 86400 ? s : 10 * 86400;
	t = curl_getdate(v, NULL);
	now = time(NULL);
	if (t <= 0)
		return 0;
	return t > now ? (uint64_t)(t - now) : 1;
}

static size_t
header_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct hdr_ctx *h = userdata;
	struct upstream_resp *r = h->r;
	size_t n = size * nitems;
	const char *colon;
	char name[64], val[2048];
	size_t nl;

	if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		/* A new hop: reset what belongs to one response only. */
		r->etag[0] = r->error_code[0] = r->error_message[0] = r->link[0] = '\0';
		r->content_type[0] = '\0';
		if (!r->linked)
			r->has_size = 0;
		r->retry_after = 0;
		r->has_range = 0;
		return n;
	}
	colon = memchr(buf, ':', n);
	if (colon == NULL)
		return n;
	nl = (size_t)(colon - buf);
	if (nl >= sizeof(name))
		return n;
	memcpy(name, buf, nl);
	name[nl] = '\0';
	copy_value(val, sizeof(val), colon + 1, n - nl - 1);
	if (strcasecmp(name, "X-Repo-Commit") == 0) {
		if (strlen(val) == GG_SHA1_HEX && is_lower_hex(val, GG_SHA1_HEX))
			memcpy(r->repo_commit, val, sizeof(r->repo_commit));
	} else if (strcasecmp(name, "X-Linked-Etag") == 0) {
		copy_value(r->etag, sizeof(r->etag), val, strlen(val));
		normalize_etag(r->etag);
		r->linked = 1;
	} else if (strcasecmp(name, "ETag") == 0) {
		copy_value(r->raw_etag, sizeof(r->raw_etag), val, strlen(val));
		if (!r->linked) {
			copy_value(r->etag, sizeof(r->etag), val, strlen(val));
			normalize_etag(r->etag);
		}
	} else if (strcasecmp(name, "X-Linked-Size") == 0) {
		uint64_t v;
		if (parse_u64_str(val, UINT64_MAX / 2, &v) == GG_OK) {
			r->size = v;
			r->has_size = 1;
			r->linked = 1;
		}
	} else if (strcasecmp(name, "Content-Length") == 0) {
		uint64_t v;
		if (!r->linked && parse_u64_str(val, UINT64_MAX / 2, &v) == GG_OK) {
			r->size = v;
			r->has_size = 2; /* from Content-Length: only valid on a 2xx */
		}
	} else if (strcasecmp(name, "X-Error-Code") == 0) {
		copy_value(r->error_code, sizeof(r->error_code), val, strlen(val));
	} else if (strcasecmp(name, "X-Error-Message") == 0) {
		copy_value(r->error_message, sizeof(r->error_message), val, strlen(val));
	} else if (strcasecmp(name, "Link") == 0) {
		copy_value(r->link, sizeof(r->link), val, strlen(val));
	} else if (strcasecmp(name, "Content-Type") == 0) {
		copy_value(r->content_type, sizeof(r->content_type), val, strlen(val));
	} else if (strcasecmp(name, "Content-Range") == 0) {
		/* bytes FIRST-LAST/TOTAL: only FIRST matters (where the body starts). */
		const char *d = strncmp(val, "bytes ", 6) == 0 ? strchr(val + 6, '-') : NULL;
		if (d != NULL && parse_u64(val + 6, d, UINT64_MAX / 2, &r->range_first) == GG_OK)
			r->has_range = 1;
	} else if (strcasecmp(name, "Retry-After") == 0) {
		r->retry_after = parse_retry_after(val);
	} else if (strcasecmp(name, "RateLimit") == 0) {
		/* "resolvers";r=0;t=172 */
		const char *t = strstr(val, ";t=");
		uint64_t v;
		if (t != NULL) {
			const char *e = t + 3;
			while (*e >= '0' && *e <= '9')
				e++;
			if (parse_u64(t + 3, e, 86400, &v) == GG_OK && r->retry_after == 0)
				r->retry_after = v;
		}
	}
	return n;
}

static CURL *
easy_new_auth(struct upstream *u, const char *url, struct hdr_ctx *h, struct curl_slist **hdrs,
	      int auth)
{
	CURL *c = curl_easy_init();
	if (c == NULL)
		log_fatalx("curl_easy_init() failed");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "ggufd/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)GG_UP_CONNECT_MS);
	if (u->ca_bundle != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, u->ca_bundle);
	if (u->token != NULL && auth) {
		/* libcurl sends a bearer set this way only to the original host;
		 * CURLOPT_UNRESTRICTED_AUTH stays off. */
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, u->token);
		curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
	}
	*hdrs = curl_slist_append(*hdrs, "Accept-Encoding: identity");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
	return c;
}

static CURL *
easy_new(struct upstream *u, const char *url, struct hdr_ctx *h, struct curl_slist **hdrs)
{
	return easy_new_auth(u, url, h, hdrs, 1);
}

static void
sleep_s(uint64_t s)
{
	struct timespec ts = { (time_t)s, 0 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* --- metadata ------------------------------------------------------------- */

/* --- the rate-limit budget ------------------------------------------------ */

/* *out for a request that was not sent: the host's budget has left
 * seconds to run. */
static void
not_asked(struct upstream_resp *out, const char *url, uint64_t left)
{
	const char *p = strstr(url, "://");
	char host[160];

	memset(out, 0, sizeof(*out));
	out->status = 429;
	out->retry_after = left;
	out->not_asked = 1;
	/* The host only: a CDN URL's query is a signature. */
	snprintf(host, sizeof(host), "%.*s",
		 (int)(p != NULL ? (size_t)(p + 3 - url) + strcspn(p + 3, "/?#") : strlen(url)),
		 url);
	snprintf(out->error_message, sizeof(out->error_message),
		 "Upstream %s rate-limited this mirror: it is not asked again for %llu s", host,
		 (unsigned long long)left);
}

/*
 * May url's host be asked now?  While its budget runs (a 429 earlier), a
 * wait of at most GG_RETRY_AFTER_MAX seconds is waited out (a client is
 * waiting; *tries counts the waits, META_TRIES at most); a longer one is
 * not: *out is filled as a 429 that was not sent (not_asked) and 0 is
 * returned.
 */
static int
may_ask(struct upstream *u, const char *url, int *waits, struct upstream_resp *out)
{
	uint64_t left;

	while ((left = budget_left(u->budget, url)) > 0) {
		if (left > GG_RETRY_AFTER_MAX || *waits >= META_TRIES) {
			not_asked(out, url, left);
			return 0;
		}
		sleep_s(left);
		(*waits)++;
	}
	return 1;
}

/*
 * The retry rule for metadata requests, where a client is waiting: a 429
 * starts (or extends) the host's budget and the request goes round again
 * (may_ask then waits or gives up); an unreachable or 5xx upstream is
 * tried again after a second, a bounded number of times.  Returns 1 if the
 * request should be sent again.
 */
static int
retry_later(struct upstream *u, const struct upstream_resp *out, int *tries)
{
	if (out->status == 429) {
		budget_hit(u->budget, u->base, out->retry_after, 0);
		return 1;
	}
	if ((out->status == 0 || out->status >= 500) && *tries < META_TRIES - 1) {
		(*tries)++;
		sleep_s(1);
		return 1;
	}
	return 0;
}

static size_t
discard_cb(char *p, size_t s, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return s * n;
}

void
upstream_url_public(const char *url, char *out, size_t size)
{
	const char *host = url != NULL ? strstr(url, "://") : NULL, *at, *p;
	size_t n = 0, k;

	out[0] = '\0';
	if (host == NULL || size == 0)
		return;
	host += 3;
	k = strcspn(host, "/?#");
	at = memchr(host, '@', k);
	p = at != NULL ? at + 1 : host;
	/* scheme "://" then host and path up to the query */
	k = (size_t)(host - url);
	if (k >= size)
		return;
	memcpy(out, url, k);
	n = k;
	k = strcspn(p, "?#");
	if (k > size - 1 - n)
		k = size - 1 - n;
	memcpy(out + n, p, k);
	out[n + k] = '\0';
}

/*
 * The upstream's health for the dashboard (stats_upstream_health): an
 * answer below 500 is a sign of life; no answer, a 5xx, a 429 and a
 * transfer that broke are errors, described with the method, the URL as
 * upstream_url_public shows it and curl's words or the status.
 */
static void
note_health(CURL *c, const char *method, CURLcode cc, const struct upstream_resp *out)
{
	char what[GG_MAX_UPSTREAM_ERROR], url[200], why[160];
	const char *eff = NULL;
	long st = out->status;

	/* A write callback that stopped the transfer is ggufd's doing. */
	if ((cc == CURLE_OK || cc == CURLE_WRITE_ERROR) && st > 0 && st < 500 && st != 429) {
		stats_upstream_health(st, 0, NULL);
		return;
	}
	curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &eff);
	upstream_url_public(eff, url, sizeof(url));
	/* Each of these fits in why (the message is cut at 100 bytes). */
	if (cc != CURLE_OK && st < 500 && st != 429)
		snprintf(why, sizeof(why), "%.150s", curl_easy_strerror(cc));
	else if (st == 429 && out->retry_after > 0)
		snprintf(why, sizeof(why), "429 Too Many Requests (Retry-After %llu s)",
			 (unsigned long long)out->retry_after);
	else if (st == 429)
		snprintf(why, sizeof(why), "429 Too Many Requests");
	else
		snprintf(why, sizeof(why), "HTTP %ld%s%.100s", st,
			 out->error_message[0] ? ": " : "", out->error_message);
	if (snprintf_checked(what, sizeof(what), "%s %s: %s", method, url, why) != GG_OK)
		snprintf(what, sizeof(what), "%s: %s", method, why);
	stats_upstream_health(st, out->retry_after, what);
}

/* curl_easy_perform, counted for /metrics and the dashboard: the status
 * (0 without an answer; into out->status), the body bytes received
 * (unless the write callback counted them as they came: content
 * transfers, whose bytes the dashboard shows while they land) and the
 * upstream's health. */
static CURLcode
perform_counted(CURL *c, const char *method, struct upstream_resp *out, int bytes_counted)
{
	CURLcode cc = curl_easy_perform(c);
	curl_off_t got = 0;

	out->status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &got);
	stats_upstream(out->status, got > 0 && !bytes_counted ? (uint64_t)got : 0);
	note_health(c, method, cc, out);
	return cc;
}

static CURLcode
perform(CURL *c, const char *method, struct upstream_resp *out)
{
	return perform_counted(c, method, out, 0);
}

int
upstream_head_file(struct upstream *u, const char *prefix, const char *repo, const char *rev,
		   const char *path, struct upstream_resp *out)
{
	char *url = resolve_url(u, prefix, repo, rev, path);
	/* Waits for the host's budget and retries after a 5xx are counted
	 * apart: a budget another request started must not use up the
	 * retries this one is owed. */
	int tries = 0, waits = 0, r = GG_EUNAVAIL;

	for (;;) {
		struct hdr_ctx h = { out };
		struct curl_slist *hdrs = NULL;
		CURL *c;
		CURLcode cc;
		char *loc = NULL;
		int hop;

		if (!may_ask(u, u->base, &waits, out))
			break;
		memset(out, 0, sizeof(*out));
		for (hop = 0; hop < MAX_HOPS; hop++) {
			c = easy_new(u, url, &h, &hdrs);
			curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
			curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
			curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, u->meta_timeout_ms);
			curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_cb);
			cc = perform(c, "HEAD", out);
			if (cc != CURLE_OK) {
				log_warnx("upstream HEAD %s: %s", url, curl_easy_strerror(cc));
				curl_easy_cleanup(c);
				curl_slist_free_all(hdrs);
				hdrs = NULL;
				out->status = 0;
				break;
			}
			loc = NULL;
			if (out->status >= 300 && out->status < 400) {
				char *l = NULL;
				curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &l);
				/* REDIRECT_URL is absolute even for a relative Location:
				 * follow only when it stays on the upstream host. */
				if (l != NULL && strncmp(l, u->base, strlen(u->base)) == 0 &&
				    l[strlen(u->base)] == '/')
					loc = xstrdup(l);
			}
			curl_easy_cleanup(c);
			curl_slist_free_all(hdrs);
			hdrs = NULL;
			if (loc == NULL)
				break;
			/* Like huggingface_hub: keep the path, drop the query. */
			loc[strcspn(loc, "?#")] = '\0';
			free(url);
			url = loc;
		}
		if (out->status >= 300 && out->status < 400 && out->has_size == 2)
			out->has_size = 0; /* a redirect's length is not the file's */
		if (retry_later(u, out, &tries))
			continue;
		r = (out->status == 0 || out->status >= 500 || out->status == 429) ? GG_EUNAVAIL
										   : GG_OK;
		break;
	}
	free(url);
	return r;
}

/* --- content -------------------------------------------------------------- */

struct body_ctx {
	CURL *c;
	struct upstream_resp *resp;
	uint64_t offset; /* where the body must start: the Range asked for */
	int (*body)(void *ctx, const void *data, size_t n, long status);
	void *ctx;
	int aborted;
	int other_range; /* a 206 for a range that does not start at offset */
};

static size_t
body_cb(char *p, size_t s, size_t n, void *ud)
{
	struct body_ctx *b = ud;
	long status = 0;
	stats_upstream_bytes(s * n);
	curl_easy_getinfo(b->c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200 && status != 206)
		return s * n; /* an error page: not content */
	if (status == 206 && (!b->resp->has_range || b->resp->range_first != b->offset)) {
		/* Another range than ours: its bytes belong elsewhere in the
		 * file, and appending them would corrupt the partial. */
		b->other_range = 1;
		return 0;
	}
	if (b->body(b->ctx, p, s * n, status) != 0) {
		b->aborted = 1;
		return 0;
	}
	return s * n;
}

static void
slot_take(struct upstream *u)
{
	pthread_mutex_lock(&u->mu);
	while (u->active >= u->max_transfers)
		pthread_cond_wait(&u->cv, &u->mu);
	u->active++;
	pthread_mutex_unlock(&u->mu);
}

static void
slot_give(struct upstream *u)
{
	pthread_mutex_lock(&u->mu);
	u->active--;
	pthread_cond_signal(&u->cv);
	pthread_mutex_unlock(&u->mu);
}

/*
 * Redirects are followed here, not by libcurl, so that each hop's host is
 * checked against its rate-limit budget before it is asked (the Hub's
 * budget and its CDN's are separate), and a 429 is charged to the host
 * that sent it.  The token goes only to the upstream host, as libcurl
 * would send it.
 */
int
upstream_fetch(struct upstream *u, const char *prefix, const char *repo, const char *commit,
	       const char *path, uint64_t offset,
	       int (*body)(void *ctx, const void *data, size_t n, long status), void *ctx,
	       struct upstream_resp *out)
{
	char *url = resolve_url(u, prefix, repo, commit, path);
	struct hdr_ctx h = { out };
	struct body_ctx b = { NULL, out, offset, body, ctx, 0, 0 };
	char range[64];
	uint64_t left;
	CURLcode cc = CURLE_OK;
	int r = GG_OK, hop;

	memset(out, 0, sizeof(*out));
	slot_take(u);
	for (hop = 0; hop <= MAX_HOPS; hop++) {
		struct curl_slist *hdrs = NULL;
		char *next = NULL;
		int own = upstream_is_own_url(u, url);
		CURL *c;

		if ((left = budget_left(u->budget, url)) > 0) {
			not_asked(out, url, left);
			r = GG_EUNAVAIL;
			break;
		}
		c = easy_new_auth(u, url, &h, &hdrs, own);
		b.c = c;
		if (offset > 0) {
			snprintf(range, sizeof(range), "Range: bytes=%llu-",
				 (unsigned long long)offset);
			hdrs = curl_slist_append(hdrs, range);
			curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		}
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		/* Larger reads: fewer callbacks, writes and wake-ups per gigabyte. */
		curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 512L * 1024L);
		/* A transfer that moves less than 1 byte/s for 20 s is cut and resumed. */
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)GG_UP_STALL_SEC);
		cc = perform_counted(c, "GET", out, 1);
		if (cc == CURLE_OK && !b.aborted && out->status >= 300 && out->status < 400 &&
		    hop < MAX_HOPS) {
			char *l = NULL;
			curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &l);
			if (l != NULL)
				next = xstrdup(l);
		}
		curl_easy_cleanup(c);
		curl_slist_free_all(hdrs);
		if (b.other_range) {
			if (out->has_range)
				log_warnx("upstream GET %s%s/.../%s from %llu: a 206 for a range "
					  "from "
					  "%llu: not kept",
					  prefix, repo, path, (unsigned long long)offset,
					  (unsigned long long)out->range_first);
			else
				log_warnx("upstream GET %s%s/.../%s from %llu: a 206 with no "
					  "Content-Range: not kept",
					  prefix, repo, path, (unsigned long long)offset);
			r = GG_EUNAVAIL;
		} else if (b.aborted) {
			r = GG_EINVAL;
		} else if (cc != CURLE_OK) {
			log_warnx("upstream GET %s%s/.../%s from %llu: %s", prefix, repo, path,
				  (unsigned long long)offset, curl_easy_strerror(cc));
			r = GG_EUNAVAIL;
		} else if (next != NULL) {
			free(url);
			url = next;
			continue;
		} else if (out->status == 429) {
			/* Charged to the host that said it: the Hub or its CDN. */
			budget_hit(u->budget, url, out->retry_after, !own);
		}
		break;
	}
	slot_give(u);
	free(url);
	return r;
}

/* --- API ------------------------------------------------------------------ */

struct api_body {
	struct buf *b;
	int too_big;
};

static size_t
api_cb(char *p, size_t s, size_t n, void *ud)
{
	struct api_body *a = ud;
	if (buf_append(a->b, p, s * n) != GG_OK) {
		a->too_big = 1;
		return 0;
	}
	return s * n;
}

/* upstream_api, with the token (auth) or anonymous. */
static int
api_request(struct upstream *u, int auth, const char *method, const char *path_query,
	    const char *req_body, size_t req_len, const char *req_ctype, struct buf *body,
	    struct upstream_resp *out)
{
	char *url = xasprintf("%s%s", u->base, path_query);
	/* Waits for the host's budget and retries after a 5xx are counted
	 * apart: a budget another request started must not use up the
	 * retries this one is owed. */
	int tries = 0, waits = 0, r = GG_EUNAVAIL;

	for (;;) {
		struct hdr_ctx h = { out };
		struct api_body a = { body, 0 };
		struct curl_slist *hdrs = NULL;
		CURLcode cc;
		CURL *c;
		char ct[160];

		if (!may_ask(u, u->base, &waits, out))
			break;
		memset(out, 0, sizeof(*out));
		body->len = 0;
		c = easy_new_auth(u, url, &h, &hdrs, auth);
		/* JSON may come gzip'd: let libcurl decode it. */
		curl_slist_free_all(hdrs);
		hdrs = curl_slist_append(NULL, "Accept: application/json");
		if (req_ctype != NULL) {
			snprintf(ct, sizeof(ct), "Content-Type: %s", req_ctype);
			hdrs = curl_slist_append(hdrs, ct);
		}
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)MAX_HOPS);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, u->meta_timeout_ms * 2);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, api_cb);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
		if (strcmp(method, "POST") == 0) {
			curl_easy_setopt(c, CURLOPT_POST, 1L);
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, req_body ? req_body : "");
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)req_len);
		} else if (strcmp(method, "DELETE") == 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
		cc = perform(c, method, out);
		curl_easy_cleanup(c);
		curl_slist_free_all(hdrs);
		if (a.too_big) {
			r = GG_ETOOBIG;
			break;
		}
		if (cc != CURLE_OK) {
			log_warnx("upstream %s %s: %s", method, path_query, curl_easy_strerror(cc));
			out->status = 0;
		}
		if (retry_later(u, out, &tries))
			continue;
		r = (out->status == 0 || out->status >= 500 || out->status == 429) ? GG_EUNAVAIL
										   : GG_OK;
		break;
	}
	free(url);
	return r;
}

int
upstream_api(struct upstream *u, const char *method, const char *path_query, const char *req_body,
	     size_t req_len, const char *req_ctype, struct buf *body, struct upstream_resp *out)
{
	return api_request(u, 1, method, path_query, req_body, req_len, req_ctype, body, out);
}

int
upstream_api_anon(struct upstream *u, const char *path_query, struct buf *body,
		  struct upstream_resp *out)
{
	return api_request(u, 0, "GET", path_query, NULL, 0, NULL, body, out);
}

int
upstream_has_token(const struct upstream *u)
{
	return u->token != NULL;
}

uint64_t
upstream_wait(struct upstream *u, int content)
{
	uint64_t left = budget_left(u->budget, u->base), cdn;

	if (content && (cdn = budget_left_content(u->budget)) > left)
		left = cdn;
	return left;
}

/* --- general calls (publishing) ---------------------------------------------- */

int
upstream_is_own_url(const struct upstream *u, const char *url)
{
	size_t bl = strlen(u->base);
	return strncmp(url, u->base, bl) == 0 && (url[bl] == '/' || url[bl] == '\0');
}

struct slice {
	int fd;
	uint64_t off, left;
};

static size_t
slice_read(char *buf, size_t size, size_t n, void *ud)
{
	struct slice *s = ud;
	size_t want = size * n;
	ssize_t got;
	if (want > s->left)
		want = (size_t)s->left;
	if (want == 0)
		return 0;
	got = pread(s->fd, buf, want, (off_t)s->off);
	if (got <= 0)
		return CURL_READFUNC_ABORT;
	s->off += (uint64_t)got;
	s->left -= (uint64_t)got;
	return (size_t)got;
}

int
upstream_call(struct upstream *u, const struct upstream_call *cl, struct upstream_resp *out)
{
	int own = cl->url[0] == '/';
	char *url = own ? xasprintf("%s%s", u->base, cl->url) : xstrdup(cl->url);
	struct hdr_ctx h = { out };
	struct api_body a = { cl->out, 0 };
	struct curl_slist *hdrs = NULL;
	struct slice sl = { cl->upload_fd, cl->upload_off, cl->upload_len };
	char line[200];
	CURLcode cc;
	CURL *c;

	memset(out, 0, sizeof(*out));
	if (cl->out != NULL)
		cl->out->len = 0;
	c = easy_new_auth(u, url, &h, &hdrs, own || upstream_is_own_url(u, url));
	curl_slist_free_all(hdrs);
	hdrs = NULL;
	if (cl->content_type != NULL) {
		snprintf(line, sizeof(line), "Content-Type: %s", cl->content_type);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (cl->accept != NULL) {
		snprintf(line, sizeof(line), "Accept: %s", cl->accept);
		hdrs = curl_slist_append(hdrs, line);
	}
	hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	if (cl->timeout_ms > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, cl->timeout_ms);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)GG_UP_PUT_STALL_SEC);
	if (cl->out != NULL) {
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, api_cb);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
	} else {
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_cb);
	}
	if (cl->upload_fd >= 0) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, slice_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &sl);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)cl->upload_len);
		if (strcmp(cl->method, "PUT") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, cl->method);
	} else if (cl->body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, cl->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)cl->body_len);
		if (strcmp(cl->method, "POST") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, cl->method);
	} else if (strcmp(cl->method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, cl->method);
	}
	cc = perform(c, cl->method, out);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	if (cc != CURLE_OK) {
		/* The URL may be presigned: log the host and path only. */
		url[strcspn(url, "?")] = '\0';
		log_warnx("upstream %s %s: %s", cl->method, url, curl_easy_strerror(cc));
		free(url);
		out->status = 0;
		return GG_EUNAVAIL;
	}
	free(url);
	return a.too_big ? GG_ETOOBIG : GG_OK;
}
