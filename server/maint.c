/*
 * maint.c: the housekeeping thread (maint.h).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "gg_limits.h"
#include "log.h"
#include "maint.h"
#include "store.h"
#include "util.h"

struct maint {
	struct store *st;
	struct maint_config c;
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* CLOCK_MONOTONIC */
	int stopping;
};

static void
run_gc(struct maint *m)
{
	struct store_gc_report rep;
	uint64_t files = 0, bytes = 0;
	int r = store_gc(m->st, m->c.gc_min_age, &rep);

	if (r != GG_OK)
		log_warnx("gc: %s", gg_strerror(r));
	store_sweep_stale(m->st, m->c.gc_min_age, m->c.quarantine_age, &files, &bytes);
	if (rep.blobs > 0 || files > 0)
		log_info("gc: removed %llu blobs (%llu bytes) and %llu stale files (%llu bytes)",
			 (unsigned long long)rep.blobs, (unsigned long long)rep.bytes,
			 (unsigned long long)files, (unsigned long long)bytes);
}

static void *
maint_thread(void *arg)
{
	struct maint *m = arg;
	uint64_t next_gc = m->c.gc_interval ? now_unix() + m->c.gc_interval : 0;
	/* Wake for whichever comes first: the flush or the gc. */
	uint64_t period = m->c.gc_interval && m->c.gc_interval < GG_FLUSH_INTERVAL_SEC
				  ? m->c.gc_interval
				  : GG_FLUSH_INTERVAL_SEC;

	pthread_mutex_lock(&m->mu);
	while (!m->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)period;
		while (!m->stopping && pthread_cond_timedwait(&m->cv, &m->mu, &ts) != ETIMEDOUT)
			;
		if (m->stopping)
			break;
		pthread_mutex_unlock(&m->mu);
		if (store_flush_access(m->st) != GG_OK)
			log_warnx("could not write the hits counted since the last flush");
		if (store_enforce_quota(m->st) == GG_ENOSPC)
			log_warnx("the store is over its quota and nothing more can be evicted");
		if (next_gc != 0 && now_unix() >= next_gc) {
			run_gc(m);
			next_gc = now_unix() + m->c.gc_interval;
		}
		pthread_mutex_lock(&m->mu);
	}
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

int
maint_start(struct store *st, const struct maint_config *c, struct maint **out)
{
	struct maint *m = xcalloc(1, sizeof(*m));
	pthread_condattr_t ca;

	m->st = st;
	m->c = *c;
	pthread_mutex_init(&m->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&m->tid, NULL, maint_thread, m) != 0) {
		pthread_cond_destroy(&m->cv);
		pthread_mutex_destroy(&m->mu);
		free(m);
		return GG_EIO;
	}
	*out = m;
	return GG_OK;
}

void
maint_stop(struct maint *m)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	m->stopping = 1;
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
	pthread_join(m->tid, NULL);
	if (store_flush_access(m->st) != GG_OK)
		log_warnx("could not write the last hits");
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mu);
	free(m);
}
