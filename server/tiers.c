/*
 * tiers.c: the health of upstream tiers and peers (see tiers.h).
 *
 *   up --failure--> down (skipped until retry_at)
 *   down, retry_at passed --one request probes--> up | down (longer back-off)
 *
 * A failed probe is not a change of state: it is logged at debug level
 * only, so a node that stays down for an hour writes two lines (down,
 * and back), not one per probe.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gg_limits.h"
#include "log.h"
#include "tiers.h"
#include "upstream.h"
#include "util.h"

struct node {
	char *url;
	char shown[256]; /* the URL as logs and metrics show it */
	int up;
	int probing;        /* a request is probing this down node */
	unsigned failures;  /* failed probes in a row (0 while up) */
	uint64_t since;     /* unix: the current state began */
	uint64_t retry_at;  /* unix ms: when a down node may be probed */
	uint64_t failovers; /* requests that went on to the next node */
	char error[GG_MAX_UPSTREAM_ERROR];
};

struct nodes {
	char *kind;
	pthread_mutex_t mu;
	size_t n;
	struct node *v;
};

struct nodes *
nodes_new(const char *kind, char *const *urls, size_t n)
{
	struct nodes *ns = xcalloc(1, sizeof(*ns));

	ns->kind = xstrdup(kind);
	pthread_mutex_init(&ns->mu, NULL);
	ns->n = n;
	ns->v = xcalloc(n ? n : 1, sizeof(*ns->v));
	for (size_t i = 0; i < n; i++) {
		struct node *d = &ns->v[i];
		size_t l;
		d->url = xstrdup(urls[i]);
		l = strlen(d->url);
		while (l > 0 && d->url[l - 1] == '/')
			d->url[--l] = '\0';
		upstream_url_public(d->url, d->shown, sizeof(d->shown));
		d->up = 1;
		d->since = now_unix();
	}
	return ns;
}

void
nodes_free(struct nodes *ns)
{
	if (ns == NULL)
		return;
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i].url);
	free(ns->v);
	free(ns->kind);
	pthread_mutex_destroy(&ns->mu);
	free(ns);
}

size_t
nodes_count(const struct nodes *ns)
{
	return ns != NULL ? ns->n : 0;
}

const char *
nodes_url(const struct nodes *ns, size_t i)
{
	return ns->v[i].url;
}

static uint64_t
backoff_ms(unsigned failures)
{
	uint64_t s = GG_NODE_BACKOFF_MIN_SEC;
	for (unsigned k = 1; k < failures && s < GG_NODE_BACKOFF_MAX_SEC; k++)
		s *= 2;
	return (s < GG_NODE_BACKOFF_MAX_SEC ? s : GG_NODE_BACKOFF_MAX_SEC) * 1000u;
}

int
nodes_may_ask(struct nodes *ns, size_t i)
{
	struct node *d = &ns->v[i];
	int ok = 0;

	pthread_mutex_lock(&ns->mu);
	if (d->up) {
		ok = 1;
	} else if (!d->probing && now_ms() >= d->retry_at) {
		d->probing = 1;
		ok = 1;
	}
	pthread_mutex_unlock(&ns->mu);
	return ok;
}

int
nodes_is_up(struct nodes *ns, size_t i)
{
	int up;
	pthread_mutex_lock(&ns->mu);
	up = ns->v[i].up;
	pthread_mutex_unlock(&ns->mu);
	return up;
}

void
nodes_ok(struct nodes *ns, size_t i)
{
	struct node *d = &ns->v[i];
	uint64_t down_for = 0;
	int back = 0;

	pthread_mutex_lock(&ns->mu);
	d->probing = 0;
	if (!d->up) {
		back = 1;
		down_for = now_unix() - d->since;
		d->up = 1;
		d->failures = 0;
		d->since = now_unix();
	}
	pthread_mutex_unlock(&ns->mu);
	if (back)
		log_info("%s %zu (%s) is back after %llu s down", ns->kind, i, d->shown,
			 (unsigned long long)down_for);
}

void
nodes_failed(struct nodes *ns, size_t i, const char *why)
{
	struct node *d = &ns->v[i];
	uint64_t wait;
	int went_down = 0;

	pthread_mutex_lock(&ns->mu);
	d->probing = 0;
	if (d->up) {
		went_down = 1;
		d->up = 0;
		d->since = now_unix();
		d->failures = 1;
	} else if (d->failures < 64) {
		d->failures++;
	}
	wait = backoff_ms(d->failures);
	d->retry_at = now_ms() + wait;
	snprintf(d->error, sizeof(d->error), "%s", why != NULL ? why : "failed");
	pthread_mutex_unlock(&ns->mu);
	if (went_down)
		log_warnx("%s %zu (%s) is down (%s): skipped, probed again after %llu s and "
			  "less often while it stays down (at most every %d s)",
			  ns->kind, i, d->shown, why != NULL ? why : "failed",
			  (unsigned long long)(wait / 1000), GG_NODE_BACKOFF_MAX_SEC);
	else
		log_debug("%s %zu (%s): probe failed (%s); next in %llu s", ns->kind, i, d->shown,
			  why != NULL ? why : "failed", (unsigned long long)(wait / 1000));
}

void
nodes_failover(struct nodes *ns, size_t i)
{
	pthread_mutex_lock(&ns->mu);
	ns->v[i].failovers++;
	pthread_mutex_unlock(&ns->mu);
}

/* A label value: backslash, quote and newline escaped. */
static void
label(const char *s, char *out, size_t size)
{
	size_t o = 0;
	for (; *s && o + 3 < size; s++) {
		if (*s == '\\' || *s == '"') {
			out[o++] = '\\';
			out[o++] = *s;
		} else if (*s == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *s;
		}
	}
	out[o] = '\0';
}

int
nodes_prometheus(struct nodes *ns, const char *name, struct buf *b)
{
	char url[600];
	int r = 0;

	if (ns == NULL || ns->n == 0)
		return GG_OK;
	pthread_mutex_lock(&ns->mu);
	r |= buf_printf(b, "# HELP %s_up 1 while the %s answers, 0 while it is skipped (down)\n",
			name, ns->kind);
	r |= buf_printf(b, "# TYPE %s_up gauge\n", name);
	for (size_t i = 0; i < ns->n; i++) {
		label(ns->v[i].shown, url, sizeof(url));
		r |= buf_printf(b, "%s_up{index=\"%zu\",url=\"%s\"} %d\n", name, i, url,
				ns->v[i].up);
	}
	r |= buf_printf(b,
			"# HELP %s_failovers_total requests that left this %s for the next one "
			"(it failed or was down)\n",
			name, ns->kind);
	r |= buf_printf(b, "# TYPE %s_failovers_total counter\n", name);
	for (size_t i = 0; i < ns->n; i++) {
		label(ns->v[i].shown, url, sizeof(url));
		r |= buf_printf(b, "%s_failovers_total{index=\"%zu\",url=\"%s\"} %llu\n", name, i,
				url, (unsigned long long)ns->v[i].failovers);
	}
	pthread_mutex_unlock(&ns->mu);
	return r ? GG_ETOOBIG : GG_OK;
}

void
nodes_json(struct nodes *ns, struct cJSON *arr)
{
	uint64_t now = now_ms();

	if (ns == NULL)
		return;
	pthread_mutex_lock(&ns->mu);
	for (size_t i = 0; i < ns->n; i++) {
		struct node *d = &ns->v[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "url", d->shown);
		cJSON_AddBoolToObject(o, "up", d->up);
		cJSON_AddNumberToObject(o, "since", (double)d->since);
		cJSON_AddNumberToObject(o, "failures", (double)d->failures);
		cJSON_AddNumberToObject(o, "retryIn",
					!d->up && d->retry_at > now
						? (double)((d->retry_at - now + 999) / 1000)
						: 0);
		cJSON_AddNumberToObject(o, "failovers", (double)d->failovers);
		cJSON_AddStringToObject(o, "lastError", d->error);
		cJSON_AddItemToArray(arr, o);
	}
	pthread_mutex_unlock(&ns->mu);
}
