/*
 * budget.h: what upstream hosts allow us, after they answered 429.
 *
 * A 429 from a host (the upstream Hub, or the CDN its content redirects
 * to) is a promise kept by the whole process: until its Retry-After (or
 * RateLimit t=) has passed, nobody asks that host again.  Without either
 * header a short default applies; a longer wait than GG_BUDGET_MAX_SEC is
 * cut to it, so a wrong header cannot silence a host for days.
 *
 * Hosts are compared by scheme, host and port ("https://cdn.example:443"
 * and "https://cdn.example" are the same host only if written the same
 * way; upstream's redirects always name the host the same way).  The
 * table is small and fixed (GG_BUDGET_HOSTS): when full, the entry that
 * ends soonest makes room.
 *
 * Logged once when a budget starts ("upstream URL rate-limited us: no
 * requests until HH:MM:SS (Retry-After N)") and once when the first
 * look after its end finds it over ("upstream URL: the rate limit is
 * over").
 *
 * Thread safety: every function may be called from any thread (one
 * mutex, held only for the table).
 */
#ifndef GG_BUDGET_H
#define GG_BUDGET_H

#include <stdint.h>

struct budget;

/* A new, empty table (aborts on out of memory).  Free with budget_free. */
struct budget *budget_new(void);
/* Accepts NULL. */
void budget_free(struct budget *b);

/*
 * Seconds (rounded up) before url's host may be asked again; 0 when it
 * may be asked now.  url is absolute ("http://h:p/any/path?q"); anything
 * after the host is ignored.
 */
uint64_t budget_left(struct budget *b, const char *url);

/*
 * url's host answered 429: no request to it for retry_after seconds (0:
 * GG_BUDGET_DEFAULT_SEC; at most GG_BUDGET_MAX_SEC).  A budget already
 * running is only ever extended.  content marks a host that served
 * content (a CDN), which budget_left_content() reports.
 */
void budget_hit(struct budget *b, const char *url, uint64_t retry_after, int content);

/* The longest budget left among the hosts marked content (0: none). */
uint64_t budget_left_content(struct budget *b);

#endif
