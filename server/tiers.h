/*
 * tiers.h: the health of a list of remote nodes: upstream tiers (tried in
 * order) and peers (tried in rendezvous order, peers.h).
 *
 * Each node is up or down.  A node that failed (no answer, a 5xx, a cut
 * transfer) goes down and is skipped for a back-off period that starts at
 * GG_NODE_BACKOFF_MIN_SEC and doubles with each failed probe up to
 * GG_NODE_BACKOFF_MAX_SEC.  When the period has passed, the next request
 * that wants the node is let through as its probe (one at a time); an
 * answer brings the node back up, a failure starts a longer period.  No
 * thread probes on its own: a node nobody needs stays down until someone
 * does, and comes back without a restart of anything.
 *
 * One log line per change of state (down, back up), never per request.
 * /metrics shows each node's state and the failovers (a request that
 * went on to the next node); /api/ggufd/activity shows the states too.
 *
 * Thread safety: every function may be called from any thread.
 */
#ifndef GG_TIERS_H
#define GG_TIERS_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define GG_NODE_BACKOFF_MIN_SEC 1
#define GG_NODE_BACKOFF_MAX_SEC 30

struct nodes;
struct cJSON;

/* kind names the nodes in logs and metrics: "upstream tier" or "peer".
 * urls are copied (trailing slashes dropped). */
struct nodes *nodes_new(const char *kind, char *const *urls, size_t n);
void nodes_free(struct nodes *ns);
size_t nodes_count(const struct nodes *ns);
/* The node's URL, borrowed (no trailing slash). */
const char *nodes_url(const struct nodes *ns, size_t i);

/*
 * May node i be asked now?  1 if it is up, or if it is down, its back-off
 * has passed and no other request is probing it (this caller becomes the
 * probe); 0: skip it.  A caller that got 1 ends with nodes_ok or
 * nodes_failed (a probe left unresolved would keep the node skipped).
 */
int nodes_may_ask(struct nodes *ns, size_t i);
/* Node i answered (any answer that is not a failure). */
void nodes_ok(struct nodes *ns, size_t i);
/* Node i failed; why (no secrets) goes in the log line and the dashboard. */
void nodes_failed(struct nodes *ns, size_t i, const char *why);
/* A request left node i for the next one. */
void nodes_failover(struct nodes *ns, size_t i);
/* 1 if node i is up now (for the caller's choice of words). */
int nodes_is_up(struct nodes *ns, size_t i);

/*
 * Prometheus families: NAME_up{url="...",index="i"} (1 up, 0 down) and
 * NAME_failovers_total{url,index} (requests that left the node for the
 * next one).  0 or GG_ETOOBIG (the buffer's cap).
 */
int nodes_prometheus(struct nodes *ns, const char *name, struct buf *b);

/* Appends one object per node to the cJSON array arr:
 * {"url","up","since","failures","retryIn","failovers","lastError"}. */
void nodes_json(struct nodes *ns, struct cJSON *arr);

#endif
