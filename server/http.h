/*
 * http.h: the HTTP front end (libmicrohttpd).
 *
 * One daemon with an internal epoll thread pool.  Every request gets a
 * struct req (handlers.h) created from the *raw* request target by the URI
 * log callback, so the router sees the path before any percent-decoding.
 * Request bodies are accumulated up to GG_MAX_BODY_BYTES; the handler runs
 * once the body is complete.
 *
 * Thread safety: server_start/server_stop from the main thread only.
 */
#ifndef GG_HTTP_H
#define GG_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "fetch.h"
#include "pull.h"
#include "store.h"
#include "upstream.h"

struct server_config {
	char host[256];      /* numeric address to bind, "0.0.0.0" or "::" */
	uint16_t port;       /* 0 picks a free port */
	unsigned threads;    /* pool size, >= 1 */
	const char *public_url; /* absolute base for Link headers, or NULL */
	struct upstream *up;    /* NULL: a local registry, the store is the truth */
	struct fetcher *fm;     /* with up */
	int offline;            /* up is known but never asked */
	unsigned ref_ttl;       /* seconds a branch -> commit answer stays fresh */
	struct pull_jobs *jobs; /* with up: POST /api/ggufd/pull */
	struct gateway *gw;     /* the upload gateway, or NULL */
};

struct server;

/*
 * Parses "HOST:PORT", "[V6]:PORT" or ":PORT" into cfg->host/port.
 * Returns 0 or GG_EINVAL.
 */
int server_parse_listen(const char *s, struct server_config *cfg);

/*
 * Starts serving st (borrowed until server_stop).  Writes the bound
 * "http://host:port" into bound (n bytes).  Returns 0 or GG_EIO.
 */
int server_start(const struct server_config *cfg, struct store *st, struct server **out,
		 char *bound, size_t n);
/* Stops accepting, finishes in-flight requests, frees.  Accepts NULL. */
void server_stop(struct server *srv);

#endif
