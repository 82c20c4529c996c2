/*
 * respcache.h: whole small answers (of stored files, repo info JSON),
 * kept ready to queue (respcache.c).  For serve.c and api.c.
 */
#ifndef GG_RESPCACHE_H
#define GG_RESPCACHE_H

#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

struct req;

/* The largest file body kept (serve.c); JSON answers up to 4 times it
 * (api.c: store_answer_put's own bound). */
#define RESPCACHE_MAX_BODY 4096

/* The name of one answer: everything its status, headers and body come
 * from, each field added whole (respcache_key_add, _u64); NULL and ""
 * are told apart. */
struct respcache_key {
	char buf[2048];
	size_t len;
	int over; /* did not fit: not cached */
};
void respcache_key_add(struct respcache_key *k, const char *s);
void respcache_key_u64(struct respcache_key *k, uint64_t v);

/* Queues the kept answer named k into *res and returns 1, or 0 (none
 * kept, or the server drains). */
int respcache_queue(struct req *r, const struct respcache_key *k, enum MHD_Result *res);
/* Adds http_common_headers to resp (complete otherwise), keeps it with
 * its status under k, taking the caller's reference, and queues it into
 * *res; 0, resp untouched and still the caller's (for http_queue), while
 * the server drains. */
int respcache_keep_and_queue(struct req *r, const struct respcache_key *k, unsigned status,
			     struct MHD_Response *resp, enum MHD_Result *res);

#endif
