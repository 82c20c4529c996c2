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
#include <cjson/cJSON.h>

#include "budget.h"
#include "gg_limits.h"
#include "log.h"
#include "peers.h"
#include "stats.h"
#include "tiers.h"
#include "upstream.h"
#include "util.h"

#define MAX_HOPS 5
#define META_TRIES 3

struct upstream {
	char *base;          /* the first tier's URL (upstream_base) */
	char *origin;        /* the last tier's: the only one that gets the token */
	struct nodes *tiers; /* in order; never empty */
	size_t ntiers;
	struct nodes *peers; /* or NULL */
	size_t npeers;
	size_t self; /* this node's index among the peers, or npeers */
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

/* 1 if libcurl parses v as a URL. */
static int
url_ok(const char *v)
{
	CURLU *url = curl_url();
	int ok;

	if (url == NULL)
		log_fatalx("curl_url() failed: out of memory");
	ok = v != NULL && curl_url_set(url, CURLUPART_URL, v, 0) == CURLUE_OK;
	curl_url_cleanup(url);
	return ok;
}

/* 1 if a and b name the same URL but for trailing slashes. */
static int
same_url(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	while (la > 0 && a[la - 1] == '/')
		la--;
	while (lb > 0 && b[lb - 1] == '/')
		lb--;
	return la == lb && strncmp(a, b, la) == 0;
}

int
upstream_new(const struct upstream_config *cfg, struct upstream **out)
{
	struct upstream *u;
	char *const *bases = cfg->bases;
	size_t nbases = cfg->nbases;
	char *one[1];

	if (nbases == 0) {
		one[0] = (char *)cfg->base;
		bases = one;
		nbases = 1;
	}
	if (nbases > GG_MAX_TIERS || cfg->npeers > GG_MAX_PEERS)
		return GG_EINVAL;
	for (size_t i = 0; i < nbases; i++)
		if (!url_ok(bases[i]))
			return GG_EINVAL;
	for (size_t i = 0; i < cfg->npeers; i++)
		if (!url_ok(cfg->peers[i]))
			return GG_EINVAL;
	if (cfg->self != NULL && !url_ok(cfg->self))
		return GG_EINVAL;
	u = xcalloc(1, sizeof(*u));
	u->tiers = nodes_new("upstream tier", bases, nbases);
	u->ntiers = nbases;
	u->base = xstrdup(nodes_url(u->tiers, 0));
	u->origin = xstrdup(nodes_url(u->tiers, nbases - 1));
	u->npeers = cfg->npeers;
	u->self = cfg->npeers;
	if (cfg->npeers > 0) {
		u->peers = nodes_new("peer", cfg->peers, cfg->npeers);
		for (size_t i = 0; cfg->self != NULL && i < cfg->npeers; i++)
			if (same_url(cfg->self, cfg->peers[i]))
				u->self = i;
		if (cfg->self != NULL && u->self == cfg->npeers)
			log_warnx("--self %s is not in the --peer list: this node owns no blob",
				  cfg->self);
	}
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
	nodes_free(u->tiers);
	nodes_free(u->peers);
	free(u->origin);
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
resolve_url(const char *base, const char *prefix, const char *repo, const char *rev,
	    const char *path)
{
	char *qr = upstream_quote(rev, 0), *qp = upstream_quote(path, 1);
	char *url = xasprintf("%s/%s%s/resolve/%s/%s", base, prefix, repo, qr, qp);
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
retry_later(struct upstream *u, const char *base, const struct upstream_resp *out, int *tries)
{
	if (out->status == 429) {
		budget_hit(u->budget, base, out->retry_after, 0);
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

/* --- tiers ---------------------------------------------------------------- */

/* What an exchange with a tier means for the request.  TIER_ANSWER: it
 * answered (2xx, 3xx and 4xx but 429 included: a 404 or a 401 from a tier
 * is the answer, not a failure); TIER_FAILED: no answer, a 5xx, a cut
 * transfer (the tier goes down and the next is asked); TIER_BUSY: a 429,
 * or a tier in its rate-limit budget (alive; the next tier is asked). */
enum tier_verdict { TIER_ANSWER, TIER_FAILED, TIER_BUSY };

static enum tier_verdict
verdict(int rc, const struct upstream_resp *out)
{
	if (out->status == 429)
		return TIER_BUSY;
	if (rc != GG_OK || out->status == 0 || out->status >= 500)
		return TIER_FAILED;
	return TIER_ANSWER;
}

/* Words for a failed exchange (no secrets: the status or curl's words). */
static void
failed_why(const struct upstream_resp *out, const char *curl_why, char *why, size_t n)
{
	if (out->status >= 500)
		snprintf(why, n, "HTTP %ld%s%.100s", out->status, out->error_message[0] ? ": " : "",
			 out->error_message);
	else if (curl_why != NULL && *curl_why)
		snprintf(why, n, "%.150s", curl_why);
	else
		snprintf(why, n, "no answer");
}

/* Records the tier's part in a request: its health, and whether the
 * request goes on to the next tier (1) or ends here (0).  The last tier
 * always ends it. */
static int
tier_done(struct upstream *u, size_t i, enum tier_verdict v, const char *why)
{
	int last = i + 1 == u->ntiers;

	if (v == TIER_FAILED)
		nodes_failed(u->tiers, i, why);
	else
		nodes_ok(u->tiers, i);
	if (last || v == TIER_ANSWER)
		return 0;
	nodes_failover(u->tiers, i);
	return 1;
}

/* May tier i be asked?  The last tier always is (there is nothing after
 * it); a down one before it is skipped (counted as a failover). */
static int
tier_may_ask(struct upstream *u, size_t i)
{
	if (i + 1 == u->ntiers || nodes_may_ask(u->tiers, i))
		return 1;
	nodes_failover(u->tiers, i);
	return 0;
}

static int
is_origin(const struct upstream *u, size_t i)
{
	return i + 1 == u->ntiers;
}

/*
 * A HEAD at one tier.  The last tier (patient) is given what one upstream
 * always was: waits for its budget and retries after a 5xx; a tier before
 * it is asked once, and a budget or a 5xx sends the request on.
 */
static int
head_tier(struct upstream *u, size_t ti, const char *prefix, const char *repo, const char *rev,
	  const char *path, struct upstream_resp *out, char *why, size_t whysz)
{
	const char *base = nodes_url(u->tiers, ti);
	char *url = resolve_url(base, prefix, repo, rev, path);
	int patient = is_origin(u, ti);
	/* Waits for the host's budget and retries after a 5xx are counted
	 * apart: a budget another request started must not use up the
	 * retries this one is owed. */
	int tries = patient ? 0 : META_TRIES, waits = patient ? 0 : META_TRIES, r = GG_EUNAVAIL;

	why[0] = '\0';

	for (;;) {
		struct hdr_ctx h = { out };
		struct curl_slist *hdrs = NULL;
		CURL *c;
		CURLcode cc;
		char *loc = NULL;
		int hop;

		if (!may_ask(u, base, &waits, out))
			break;
		memset(out, 0, sizeof(*out));
		for (hop = 0; hop < MAX_HOPS; hop++) {
			c = easy_new_auth(u, url, &h, &hdrs, patient);
			curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
			curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
			curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, u->meta_timeout_ms);
			curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_cb);
			cc = perform(c, "HEAD", out);
			if (cc != CURLE_OK) {
				char shown[512];
				upstream_url_public(url, shown, sizeof(shown));
				log_warnx("upstream HEAD %s: %s", shown, curl_easy_strerror(cc));
				snprintf(why, whysz, "%s", curl_easy_strerror(cc));
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
				if (l != NULL && strncmp(l, base, strlen(base)) == 0 &&
				    l[strlen(base)] == '/')
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
		if (retry_later(u, base, out, &tries))
			continue;
		r = (out->status == 0 || out->status >= 500 || out->status == 429) ? GG_EUNAVAIL
										   : GG_OK;
		break;
	}
	free(url);
	return r;
}

int
upstream_head_file(struct upstream *u, const char *prefix, const char *repo, const char *rev,
		   const char *path, struct upstream_resp *out)
{
	char curl_why[160], why[200];
	int r = GG_EUNAVAIL;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < u->ntiers; i++) {
		enum tier_verdict v;
		if (!tier_may_ask(u, i))
			continue;
		r = head_tier(u, i, prefix, repo, rev, path, out, curl_why, sizeof(curl_why));
		v = verdict(r, out);
		failed_why(out, curl_why, why, sizeof(why));
		if (!tier_done(u, i, v, why))
			break;
	}
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
	int other_range;    /* a 206 for a range that does not start at offset */
	const char *expect; /* the sha256 the content must have, or NULL */
	int mismatch;       /* X-Linked-Etag named another sha256 */
	uint64_t got;       /* body bytes handed on */
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
	if (b->got == 0 && b->expect != NULL && b->resp->linked && b->resp->etag[0] != '\0' &&
	    strcmp(b->resp->etag, b->expect) != 0) {
		/* Another file's bytes (a tier or peer serving another sha256):
		 * none of them may join the partial. */
		b->mismatch = 1;
		return 0;
	}
	if (b->body(b->ctx, p, s * n, status) != 0) {
		b->aborted = 1;
		return 0;
	}
	b->got += s * n;
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
 * One content transfer from base (a tier or a peer).  Redirects are
 * followed here, not by libcurl, so that each hop's host is
 * checked against its rate-limit budget before it is asked (the Hub's
 * budget and its CDN's are separate), and a 429 is charged to the host
 * that sent it.  The token goes only to the origin's host (auth), as
 * libcurl would send it; a peer's request carries X-Ggufd-Peer: 1.
 * *why gets curl's words for a failed transfer.
 */
static int
fetch_one(struct upstream *u, const char *base, int auth, int peer, const char *prefix,
	  const char *repo, const char *commit, const char *path, uint64_t offset,
	  const char *expect, int (*body)(void *ctx, const void *data, size_t n, long status),
	  void *ctx, struct upstream_resp *out, uint64_t *got, char *why, size_t whysz)
{
	char *url = resolve_url(base, prefix, repo, commit, path);
	struct hdr_ctx h = { out };
	struct body_ctx b = { NULL, out, offset, body, ctx, 0, 0, expect, 0, 0 };
	char range[64];
	uint64_t left;
	CURLcode cc = CURLE_OK;
	int r = GG_OK, hop;

	memset(out, 0, sizeof(*out));
	why[0] = '\0';
	for (hop = 0; hop <= MAX_HOPS; hop++) {
		struct curl_slist *hdrs = NULL;
		char *next = NULL;
		int own = auth && strncmp(url, base, strlen(base)) == 0 &&
			  (url[strlen(base)] == '/' || url[strlen(base)] == '\0');
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
		}
		if (peer)
			hdrs = curl_slist_append(hdrs, GG_PEER_HEADER ": 1");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
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
			snprintf(why, whysz, "a 206 for another range");
			r = GG_EUNAVAIL;
		} else if (b.mismatch) {
			char shown[512];
			upstream_url_public(base, shown, sizeof(shown));
			log_warnx("GET %s/%s%s/.../%s: X-Linked-Etag %s is not the sha256 %s asked "
				  "for: not kept",
				  shown, prefix, repo, path, out->etag, expect);
			snprintf(why, whysz, "serves another sha256 for this file");
			r = GG_EUNAVAIL;
		} else if (b.aborted) {
			r = GG_EINVAL;
		} else if (cc != CURLE_OK) {
			log_warnx("upstream GET %s%s/.../%s from %llu: %s", prefix, repo, path,
				  (unsigned long long)offset, curl_easy_strerror(cc));
			snprintf(why, whysz, "%s", curl_easy_strerror(cc));
			r = GG_EUNAVAIL;
		} else if (next != NULL) {
			free(url);
			url = next;
			continue;
		} else if (out->status == 429) {
			/* Charged to the host that said it: the tier (a Hub or a
			 * ggufd: its own budget) or the CDN it redirected to. */
			int on_base = strncmp(url, base, strlen(base)) == 0 &&
				      (url[strlen(base)] == '/' || url[strlen(base)] == '\0');
			budget_hit(u->budget, url, out->retry_after, !on_base);
		}
		break;
	}
	free(url);
	*got = b.got;
	return r;
}

int
upstream_fetch(struct upstream *u, const char *prefix, const char *repo, const char *commit,
	       const char *path, uint64_t offset,
	       int (*body)(void *ctx, const void *data, size_t n, long status), void *ctx,
	       struct upstream_resp *out)
{
	return upstream_fetch_blob(u, prefix, repo, commit, path, offset, NULL, 0, body, ctx, out);
}

/*
 * The peers to ask for the blob key, best first: the rendezvous order up
 * to this node itself (a node asks only the peers that rank above it:
 * when it ranks first it owns the blob and asks the tiers).
 */
static size_t
peer_candidates(struct upstream *u, const char *key, size_t *order)
{
	const char *urls[GG_MAX_PEERS];
	size_t n = 0;

	for (size_t i = 0; i < u->npeers; i++)
		urls[i] = nodes_url(u->peers, i);
	peers_rank(key, urls, u->npeers, order);
	while (n < u->npeers && order[n] != u->self)
		n++;
	return n;
}

int
upstream_peer_owns(struct upstream *u, const char *sha256)
{
	size_t order[GG_MAX_PEERS], n;

	if (u == NULL || u->peers == NULL || u->self >= u->npeers)
		return 0;
	n = peer_candidates(u, sha256, order);
	for (size_t k = 0; k < n; k++)
		if (nodes_is_up(u->peers, order[k]))
			return 1;
	return 0;
}

int
upstream_fetch_blob(struct upstream *u, const char *prefix, const char *repo, const char *commit,
		    const char *path, uint64_t offset, const char *sha256, int no_peers,
		    int (*body)(void *ctx, const void *data, size_t n, long status), void *ctx,
		    struct upstream_resp *out)
{
	size_t order[GG_MAX_PEERS], ncand = 0;
	char curl_why[160], why[200];
	uint64_t got = 0;
	int r = GG_EUNAVAIL;

	memset(out, 0, sizeof(*out));
	if (sha256 != NULL && !no_peers && u->peers != NULL)
		ncand = peer_candidates(u, sha256, order);
	slot_take(u);
	/* The owner (and, while it is down, the next peers in its order). */
	for (size_t k = 0; k < ncand; k++) {
		size_t p = order[k];
		if (!nodes_may_ask(u->peers, p)) {
			nodes_failover(u->peers, p);
			continue;
		}
		r = fetch_one(u, nodes_url(u->peers, p), 0, 1, prefix, repo, commit, path, offset,
			      sha256, body, ctx, out, &got, curl_why, sizeof(curl_why));
		if (r == GG_EINVAL) {
			/* The body callback said stop (our disk, a size): the
			 * peer answered, so a probe of it ends here. */
			nodes_ok(u->peers, p);
			goto done;
		}
		if (r == GG_OK && (out->status == 200 || out->status == 206)) {
			nodes_ok(u->peers, p);
			goto done;
		}
		/* A peer is a cache: any other answer sends the request on
		 * (a 404 or 401 there says nothing about the tiers). */
		if (verdict(r, out) == TIER_FAILED) {
			failed_why(out, curl_why, why, sizeof(why));
			nodes_failed(u->peers, p, why);
		} else {
			nodes_ok(u->peers, p);
		}
		nodes_failover(u->peers, p);
		if (got > 0) {
			/* The partial grew: the caller resumes from its new
			 * length, and the failed peer is skipped then. */
			r = GG_EUNAVAIL;
			goto done;
		}
	}
	for (size_t i = 0; i < u->ntiers; i++) {
		enum tier_verdict v;
		if (!tier_may_ask(u, i))
			continue;
		r = fetch_one(u, nodes_url(u->tiers, i), is_origin(u, i), 0, prefix, repo, commit,
			      path, offset, sha256, body, ctx, out, &got, curl_why,
			      sizeof(curl_why));
		if (r == GG_EINVAL) {
			nodes_ok(u->tiers, i); /* it answered; we stopped (see above) */
			break;
		}
		v = r != GG_OK && out->status != 429 ? TIER_FAILED : verdict(r, out);
		failed_why(out, curl_why, why, sizeof(why));
		if (!tier_done(u, i, v, why) || got > 0)
			break;
	}
done:
	slot_give(u);
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

/* upstream_api at tier ti, with the token (auth: the origin only) or
 * anonymous; patient as head_tier. */
static int
api_tier(struct upstream *u, size_t ti, int auth, const char *method, const char *path_query,
	 const char *req_body, size_t req_len, const char *req_ctype, struct buf *body,
	 struct upstream_resp *out, char *why, size_t whysz)
{
	const char *base = nodes_url(u->tiers, ti);
	char *url = xasprintf("%s%s", base, path_query);
	int patient = is_origin(u, ti);
	/* Waits for the host's budget and retries after a 5xx are counted
	 * apart: a budget another request started must not use up the
	 * retries this one is owed. */
	int tries = patient ? 0 : META_TRIES, waits = patient ? 0 : META_TRIES, r = GG_EUNAVAIL;

	auth = auth && patient;
	why[0] = '\0';

	for (;;) {
		struct hdr_ctx h = { out };
		struct api_body a = { body, 0 };
		struct curl_slist *hdrs = NULL;
		CURLcode cc;
		CURL *c;
		char ct[160];

		if (!may_ask(u, base, &waits, out))
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
			snprintf(why, whysz, "%s", curl_easy_strerror(cc));
			out->status = 0;
		}
		if (retry_later(u, base, out, &tries))
			continue;
		r = (out->status == 0 || out->status >= 500 || out->status == 429) ? GG_EUNAVAIL
										   : GG_OK;
		break;
	}
	free(url);
	return r;
}

/*
 * Reads (GET) go down the tiers as HEADs do; writes (POST, DELETE: the
 * gateway's publishing, paths-info) go to the origin only, which holds the
 * token they need.
 */
static int
api_request(struct upstream *u, int auth, const char *method, const char *path_query,
	    const char *req_body, size_t req_len, const char *req_ctype, struct buf *body,
	    struct upstream_resp *out)
{
	char curl_why[160], why[200];
	int r = GG_EUNAVAIL;

	memset(out, 0, sizeof(*out));
	for (size_t i = strcmp(method, "GET") == 0 ? 0 : u->ntiers - 1; i < u->ntiers; i++) {
		enum tier_verdict v;
		if (!tier_may_ask(u, i))
			continue;
		r = api_tier(u, i, auth, method, path_query, req_body, req_len, req_ctype, body,
			     out, curl_why, sizeof(curl_why));
		if (r == GG_ETOOBIG) {
			nodes_ok(u->tiers, i); /* it answered, too much for us */
			break;
		}
		v = verdict(r, out);
		failed_why(out, curl_why, why, sizeof(why));
		if (!tier_done(u, i, v, why))
			break;
	}
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
	uint64_t left = UINT64_MAX, cdn;

	/* The wait of the tier that may be asked first. */
	for (size_t i = 0; i < u->ntiers; i++) {
		uint64_t l = budget_left(u->budget, nodes_url(u->tiers, i));
		if (l < left)
			left = l;
	}

	if (content && (cdn = budget_left_content(u->budget)) > left)
		left = cdn;
	return left;
}

/* --- general calls (publishing) ---------------------------------------------- */

int
upstream_is_own_url(const struct upstream *u, const char *url)
{
	size_t bl = strlen(u->origin);
	return strncmp(url, u->origin, bl) == 0 && (url[bl] == '/' || url[bl] == '\0');
}

const char *
upstream_tier_path(const struct upstream *u, const char *url)
{
	for (size_t i = 0; i < u->ntiers; i++) {
		const char *b = nodes_url(u->tiers, i);
		size_t bl = strlen(b);
		if (strncmp(url, b, bl) == 0 && url[bl] == '/')
			return url + bl;
	}
	return NULL;
}

int
upstream_prometheus(struct upstream *u, struct buf *b)
{
	int r;
	if (u == NULL)
		return GG_OK;
	r = nodes_prometheus(u->tiers, "ggufd_upstream_tier", b);
	if (r == GG_OK)
		r = nodes_prometheus(u->peers, "ggufd_peer", b);
	return r;
}

void
upstream_health_json(struct upstream *u, struct cJSON *o)
{
	if (u == NULL)
		return;
	cJSON *arr = cJSON_AddArrayToObject(o, "tiers"), *e;
	char self[256] = "";
	int i = 0, n;

	nodes_json(u->tiers, arr);
	/* The last tier is the origin: it alone gets the token. */
	n = cJSON_GetArraySize(arr);
	cJSON_ArrayForEach (e, arr)
		cJSON_AddBoolToObject(e, "origin", ++i == n);
	if (u->peers != NULL) {
		if (u->self < u->npeers)
			upstream_url_public(nodes_url(u->peers, u->self), self, sizeof(self));
		cJSON_AddStringToObject(o, "self", self);
		arr = cJSON_AddArrayToObject(o, "peers");
		nodes_json(u->peers, arr);
		i = 0;
		cJSON_ArrayForEach (e, arr)
			cJSON_AddBoolToObject(e, "self", (size_t)i++ == u->self);
	}
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
	/* Publishing goes to the origin: it holds the token. */
	char *url = own ? xasprintf("%s%s", u->origin, cl->url) : xstrdup(cl->url);
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
		char shown[512];
		upstream_url_public(url, shown, sizeof(shown));
		log_warnx("upstream %s %s: %s", cl->method, shown, curl_easy_strerror(cc));
		free(url);
		out->status = 0;
		return GG_EUNAVAIL;
	}
	free(url);
	return a.too_big ? GG_ETOOBIG : GG_OK;
}
