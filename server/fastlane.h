/*
 * fastlane.h: stored files answered without libmicrohttpd (fastlane.c).
 *
 * The fast lane owns the listening socket.  Each of its threads accepts
 * connections and looks at every request head with MSG_PEEK: a GET or
 * HEAD of /{repo}/resolve/{rev}/{path} that libmicrohttpd answered before
 * from the store (an entry recorded by serve.c through fastlane_record),
 * asked the same way (no credentials, no condition), is answered here:
 * the same status, headers and bytes, with one pread+send or a sendfile.
 * Anything else, or anything it is unsure of, leaves the connection to
 * libmicrohttpd (MHD_add_connection) with the request still unread in the
 * socket, so every rule of the slow path applies to it unchanged.  An LFS
 * file the slow path is fetching is answered from the fetch (joined), as
 * it lands.
 */
#ifndef GG_FASTLANE_H
#define GG_FASTLANE_H

#include <stdint.h>

#include <microhttpd.h>

struct fastlane;
struct server;
struct app;
struct req;

/* Starts nthreads threads accepting on lfd (non-blocking, listening),
 * which stays the caller's; an answer that does not move for timeout_s
 * seconds (--connection-timeout) is cut.  0 or GG_EIO. */
int fastlane_start(struct server *srv, struct app *app, int lfd, unsigned nthreads,
		   unsigned timeout_s, struct fastlane **out);
/* Stops accepting (the caller ends the socket's listening); requests
 * keep being answered, each with "Connection: close". */
void fastlane_quiesce(struct fastlane *fl);
/* Ends the threads and closes the connections they hold (before
 * libmicrohttpd stops: they give it connections).  NULL is fine. */
void fastlane_stop(struct fastlane *fl);
/* Frees it, stopped or not (after libmicrohttpd stopped: its threads
 * call fastlane_record).  NULL is fine. */
void fastlane_free(struct fastlane *fl);

/*
 * serve.c, about to queue resp (status 200 or 206, one range or none) for
 * r, of a blob r holds (r->held_blob: stored, or an LFS file a fetch is
 * bringing): keeps what the fast lane needs to give the same answer to the
 * same question, if the question qualifies and the index still says what
 * the answer was built from.  While the blob lands, the fast lane answers
 * by joining that fetch (the same bytes, sent as they land, the last one
 * once verified); requests for the target that came meanwhile, parked,
 * take the entry.
 */
void fastlane_record(struct req *r, struct MHD_Response *resp, uint64_t size);
/* http.c, as the slow path queues any answer to r: requests parked behind
 * it (a target the fast lane had no entry for) go on, answered here if it
 * recorded one, else handed to libmicrohttpd. */
void fastlane_answered(struct req *r);

struct buf;
/* Requests answered and connections left to libmicrohttpd, as Prometheus
 * counters appended to b. */
int fastlane_prometheus(struct buf *b);

#endif
