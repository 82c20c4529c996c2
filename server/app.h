/*
 * app.h: the application context the handlers work with.
 *
 * cli.c builds one struct app at start (store, upstream, fetcher, pull
 * jobs, gateway, settings) and hands it to server_start(); every request
 * carries it as r->app.  The HTTP core holds the pointer without looking
 * inside; handlers read it and never reach back into the core for
 * subsystems.  All fields are set before the server starts; only the
 * _Atomic ones change while it runs (SIGHUP, serve's main thread), so
 * reading them needs no lock.
 */
#ifndef GG_APP_H
#define GG_APP_H

#include <pthread.h>
#include <stdatomic.h>

#include "upstream.h"

struct store;
struct fetcher;
struct pull_jobs;
struct gateway;
struct bucket;

struct app {
	struct store *st;
	struct upstream *up;    /* the configured upstream, or NULL: a local registry */
	int offline;            /* up is known but never asked */
	struct fetcher *fm;     /* with up */
	struct pull_jobs *jobs; /* with up: POST /api/ggufd/pull */
	struct gateway *gw;     /* the upload gateway, or NULL */
	struct bucket *bucket;  /* the shared blob store (--blob-store), or NULL */
	/* SIGHUP (serve's main thread) changes these while requests read them. */
	_Atomic unsigned ref_ttl;       /* seconds a branch -> commit answer stays fresh */
	_Atomic int require_read_token; /* reads need a ggufd token too */
	_Atomic unsigned policy_gen;    /* +1 at each SIGHUP: the fast lane forgets */
	/* --public-repo: private upstream repos served to anyone
	 * ("ns/name", "datasets/ns/name"); borrowed from the configuration in
	 * force, swapped by SIGHUP under public_mu (visibility.c reads them
	 * under it). */
	pthread_mutex_t public_mu;
	char *const *public_repos;
	size_t npublic_repos;
};

/* The upstream to ask now: NULL without one, or when offline. */
static inline struct upstream *
app_upstream(const struct app *a)
{
	return a->offline ? NULL : a->up;
}

/* The configured upstream's base URL, even when offline ("" without). */
static inline const char *
app_upstream_base(const struct app *a)
{
	return a->up != NULL ? upstream_base(a->up) : "";
}

#endif
