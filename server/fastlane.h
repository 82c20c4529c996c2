/*
 * fastlane.h: stored files answered without libmicrohttpd (fastlane.c).
 *
 * The fast lane owns the listening socket.  Each of its threads accepts
 * connections and looks at every request head with MSG_PEEK: a GET or
 * HEAD of /{repo}/resolve/{rev}/{path} that libmicrohttpd answered before
 * from the store (an entry recorded by serve.c: flentry.h),
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

#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

struct fastlane;
struct server;
struct app;

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
 * record entries).  NULL is fine. */
void fastlane_free(struct fastlane *fl);

/*
 * http_give's side (http.h): 1 while the fast lane takes connections back
 * (not draining).  fastlane_take answers head[0, hlen) on fd (a dup of
 * libmicrohttpd's socket, closed here) as if the head had come on that
 * connection, then ends it; t0_us is when the request came, source its
 * access log source (a static string).  done(arg, taken) is called once,
 * from a fast lane thread: taken 1 once the answer is out or cut, 0 if
 * the fast lane declined it (the socket untouched).  A connection given
 * that is still answered when the fast lane stops is cut (taken 1), one
 * not yet looked at is declined.
 */
struct sockaddr;
int fastlane_taking(struct fastlane *fl);
/* 0, or -1 if the fast lane has stopped (fd is the caller's again, done
 * is not called). */
int fastlane_take(struct fastlane *fl, int fd, const struct sockaddr *sa, const char *head,
		  size_t hlen, uint64_t t0_us, const char *source,
		  void (*done)(void *arg, int taken), void *arg);

struct buf;
/* Requests answered and connections left to libmicrohttpd, as Prometheus
 * counters appended to b. */
int fastlane_prometheus(struct buf *b);

#endif
