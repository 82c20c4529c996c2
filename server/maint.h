/*
 * maint.h: the server's housekeeping thread.  Every GG_FLUSH_INTERVAL_SEC
 * it writes the hits counted in memory to the index and brings the store
 * back within its quota (other processes may have added blobs, or the
 * quota was lowered); every gc_interval seconds it runs what `ggufd gc`
 * does (unreferenced blobs, stale partials, old quarantined files).
 */
#ifndef GG_MAINT_H
#define GG_MAINT_H

#include <stdint.h>

struct store;
struct maint;

struct maint_config {
	uint64_t gc_interval;    /* seconds; 0: no periodic gc */
	uint64_t gc_min_age;     /* store_gc's min_age, and the partials' */
	uint64_t quarantine_age; /* seconds quarantined blobs are kept */
};

/* Starts the thread.  0, GG_EIO. */
int maint_start(struct store *st, const struct maint_config *c, struct maint **out);
/* Stops it (waking it at once), flushing the hits one last time. */
void maint_stop(struct maint *m);

#endif
