/*
 * budget.c: per-host rate-limit budgets (see budget.h).
 *
 * A short table of (host, until) pairs behind one mutex; "until" is on
 * the monotonic clock, so a wall-clock step neither lengthens nor ends a
 * budget.  An entry whose time has passed stays until the next look at
 * its host, which logs the end and frees the slot.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "budget.h"
#include "gg_limits.h"
#include "log.h"
#include "util.h"

#define HOST_MAX 256

struct budget_host {
	char host[HOST_MAX]; /* "" when the slot is free */
	uint64_t until_ms;   /* now_ms() clock */
	int content;
};

struct budget {
	pthread_mutex_t mu;
	struct budget_host h[GG_BUDGET_HOSTS];
};

struct budget *
budget_new(void)
{
	struct budget *b = xcalloc(1, sizeof(*b));
	pthread_mutex_init(&b->mu, NULL);
	return b;
}

void
budget_free(struct budget *b)
{
	if (b == NULL)
		return;
	pthread_mutex_destroy(&b->mu);
	free(b);
}

/* "http://h:p/x?y" -> "http://h:p" (cut to HOST_MAX - 1 bytes). */
static void
host_of(const char *url, char out[HOST_MAX])
{
	const char *p = strstr(url, "://");
	size_t n;

	p = p != NULL ? p + 3 : url;
	n = (size_t)(p - url) + strcspn(p, "/?#");
	if (n >= HOST_MAX)
		n = HOST_MAX - 1;
	memcpy(out, url, n);
	out[n] = '\0';
}

static uint64_t
secs_left(const struct budget_host *e, uint64_t now)
{
	return e->until_ms > now ? (e->until_ms - now + 999) / 1000 : 0;
}

/* The live entry of host, or NULL; an entry found over is logged and
 * freed.  b->mu held. */
static struct budget_host *
find(struct budget *b, const char *host, uint64_t now)
{
	for (size_t i = 0; i < GG_BUDGET_HOSTS; i++) {
		struct budget_host *e = &b->h[i];
		if (e->host[0] == '\0' || strcmp(e->host, host) != 0)
			continue;
		if (e->until_ms > now)
			return e;
		log_info("upstream %s: the rate limit is over, asking it again", e->host);
		e->host[0] = '\0';
		return NULL;
	}
	return NULL;
}

uint64_t
budget_left(struct budget *b, const char *url)
{
	char host[HOST_MAX];
	struct budget_host *e;
	uint64_t now = now_ms(), left = 0;

	host_of(url, host);
	pthread_mutex_lock(&b->mu);
	if ((e = find(b, host, now)) != NULL)
		left = secs_left(e, now);
	pthread_mutex_unlock(&b->mu);
	return left;
}

void
budget_hit(struct budget *b, const char *url, uint64_t retry_after, int content)
{
	char host[HOST_MAX], until[16];
	struct budget_host *e;
	uint64_t now = now_ms(), secs, end;
	time_t wall;
	struct tm tm;

	secs = retry_after > 0 ? retry_after : GG_BUDGET_DEFAULT_SEC;
	if (secs > GG_BUDGET_MAX_SEC)
		secs = GG_BUDGET_MAX_SEC;
	end = now + secs * 1000;
	host_of(url, host);
	pthread_mutex_lock(&b->mu);
	if ((e = find(b, host, now)) != NULL) {
		/* Already counted: only ever longer, and logged once. */
		if (end > e->until_ms)
			e->until_ms = end;
		e->content |= content;
		pthread_mutex_unlock(&b->mu);
		return;
	}
	for (size_t i = 0; i < GG_BUDGET_HOSTS; i++) {
		struct budget_host *s = &b->h[i];
		if (s->host[0] == '\0' || s->until_ms <= now) {
			e = s;
			break;
		}
		if (e == NULL || s->until_ms < e->until_ms)
			e = s;
	}
	memcpy(e->host, host, sizeof(e->host));
	e->until_ms = end;
	e->content = content;
	pthread_mutex_unlock(&b->mu);
	wall = time(NULL) + (time_t)secs;
	if (localtime_r(&wall, &tm) == NULL || strftime(until, sizeof(until), "%H:%M:%S", &tm) == 0)
		snprintf(until, sizeof(until), "+%llus", (unsigned long long)secs);
	if (retry_after > 0)
		log_warnx("upstream %s rate-limited us: no requests until %s (Retry-After %llu)",
			  host, until, (unsigned long long)retry_after);
	else
		log_warnx("upstream %s rate-limited us: no requests until %s (no Retry-After: "
			  "%llu s)",
			  host, until, (unsigned long long)secs);
}

uint64_t
budget_left_content(struct budget *b)
{
	uint64_t now = now_ms(), most = 0;

	pthread_mutex_lock(&b->mu);
	for (size_t i = 0; i < GG_BUDGET_HOSTS; i++) {
		const struct budget_host *e = &b->h[i];
		if (e->host[0] != '\0' && e->content && secs_left(e, now) > most)
			most = secs_left(e, now);
	}
	pthread_mutex_unlock(&b->mu);
	return most;
}
