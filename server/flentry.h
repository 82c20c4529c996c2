/*
 * flentry.h: the fast lane's entries (flentry.c): what the slow path
 * answered from the store, kept per request target and checked against
 * the index at every use, and the marks that make a crowd wait for the
 * slow path's first answer.  The connections are fastlane.c's.
 *
 * Thread safety: every function is thread safe (a mutex per entry).
 */
#ifndef GG_FLENTRY_H
#define GG_FLENTRY_H

#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "gg_limits.h"
#include "range.h"

struct flentries;
struct app;
struct req;

#define FLENTRY_BLOCK_MAX 3072 /* the recorded header lines, at most */
/* An answer's head as flentry_look writes it, at most: the status line,
 * Date, Content-Range and the recorded lines. */
#define FLENTRY_HEAD_MAX (FLENTRY_BLOCK_MAX + 256)

/*
 * The entries of the process (one set: serve.c and http.c reach it
 * through flentry_record and flentry_answered), with their renewer
 * thread; wake(arg) is called, from any thread, when a mark ends and the
 * requests parked on it must look again (flentry_park).  0 or GG_EIO.
 */
int flentry_new(struct app *app, void (*wake)(void *arg), void *arg, struct flentries **out);
/* Ends the renewer (it may be asking upstream: that ends its wait). */
void flentry_stop(struct flentries *es);
/* flentry_stop, then frees; the slow path stops recording.  NULL is fine. */
void flentry_free(struct flentries *es);

/*
 * serve.c, about to queue resp (status 200 or 206, one range or none) for
 * r, of a blob r holds (r->held_blob: stored, or an LFS file a fetch is
 * bringing): keeps what the fast lane needs to give the same answer to the
 * same question, if the question qualifies (a resolve target, no query,
 * anonymous, no header that changes the answer, reads open) and the index
 * still says what the answer was built from.  Requests parked on the
 * target take the entry.  Returns 1 if the entry is in place and its file
 * is an LFS file (one a fast lane connection can join while it lands).
 */
int flentry_record(struct req *r, struct MHD_Response *resp, uint64_t size);
/* http.c, as the slow path queues any answer to r: requests parked behind
 * it go on (to the entry it recorded, or to the slow path). */
void flentry_answered(struct req *r);

/* What an entry gives a request. */
struct flentry_answer {
	enum range_outcome o; /* RANGE_FULL, or RANGE_PARTIAL for one range */
	uint64_t first, last; /* the range, if RANGE_PARTIAL */
	uint64_t size;        /* the file's */
	int lfs;              /* an LFS file (a fetch of it can be joined) */
	char blob[GG_SHA256_HEX + 1];
};

enum flentry_look {
	FLENTRY_ANSWER, /* *ans and out: the answer */
	FLENTRY_NONE,   /* no entry for target: flentry_park says what next */
	FLENTRY_SLOW,   /* the slow path's (a range it must judge, a stale entry) */
};

/*
 * The entry for a GET or HEAD of target[0, tlen) (its bytes as received)
 * with Range range[0, range_len) (NULL: none), valid only if the index,
 * the revision's and the repo's freshness, the policy and the upstream's
 * rate-limit budget say the slow path would give the same answer now.
 * Past the TTL the renewer asks upstream meanwhile, and the entry answers
 * for a few seconds more (stale-while-revalidate).  FLENTRY_ANSWER: *ans
 * says what to send, and the answer's head but its Content-Length and
 * Connection lines and the blank line (the status line, Date,
 * Content-Range, the recorded lines) is at out (room: FLENTRY_HEAD_MAX),
 * *olen bytes.
 */
enum flentry_look flentry_look(struct flentries *es, const char *target, size_t tlen,
			       const char *range, size_t range_len, struct flentry_answer *ans,
			       char *out, size_t *olen);

/*
 * A request for target with no answer here (FLENTRY_NONE, or its blob
 * neither stored nor landing): 1 if it should wait for the answer another
 * request for the same target is getting from the slow path (parked,
 * until *until_us, on mark *seq); 0 if it goes to the slow path itself,
 * marked first if it is a file's (a resolve target) and no mark stands.
 * *seq is 0 for a request not parked before; one parked before is never
 * parked on another mark, nor marks.
 */
int flentry_park(struct flentries *es, const char *target, size_t tlen, uint64_t *seq,
		 uint64_t *until_us);

#endif
