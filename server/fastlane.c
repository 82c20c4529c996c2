/*
 * fastlane.c: stored files answered without libmicrohttpd (fastlane.h).
 *
 * Why: a 4 KiB range through libmicrohttpd costs about 19 us of CPU here,
 * 9 of them in user space (its per-request pool reset, a malloc'ed header
 * list, header validation, its state machine); nginx answers the same in
 * 11 us in all.  The requests that matter for that cost are the small
 * ones clients make by the thousand (probes, GGUF header reads, the
 * ranges of parallel downloaders), and they are all the same question
 * about a file of the store: answered here in one recv(MSG_PEEK), one
 * recv, one pread and one send.
 *
 * What the fast lane answers: a plain GET or HEAD (its head whole in the
 * socket, well formed, HTTP/1.1, no query, no Authorization, If-*,
 * X-Ggufd-Peer, body, Expect or Upgrade; one Range at most) of a target
 * the slow path answered before from the store, as flentry.h's entries
 * say it would answer it now; its blob is borrowed (held from eviction
 * and counted as a hit, as the slow path does).  An LFS file the slow
 * path is still fetching is answered from that fetch (joined: a dup of
 * the partial file, sent with sendfile as the bytes land, the last byte
 * of each answer once the whole is verified, fetch.h's contract; the
 * connection waits for more off the event loop, woken by the fetch
 * through its thread's waker).  A request for a file with no answer here
 * goes to the slow path, and the same request from other connections
 * meanwhile waits for that answer (parked: flentry.h's marks).
 * Otherwise the connection goes to libmicrohttpd with its request unread
 * (MHD_add_connection) and stays there: the slow path answers it, and
 * records the entry if it qualifies.  Errors, redirects, regular files
 * still landing and every other route are the slow path's.  One
 * exception: a GET the slow path answers from a download it started (the
 * request that starts a cold LFS fetch) comes back here (http_give,
 * fastlane_take) once its entry is recorded, on a dup of the socket with
 * its head as read, and is answered as a joiner is, with "Connection:
 * close" (libmicrohttpd's side then closes): sendfile instead of two
 * copies of every cold byte through libmicrohttpd.
 *
 * Connections of the fast lane are counted with libmicrohttpd's (conns.c
 * server_conn_*): the server's and each address's limits, the shedding
 * of idle connections and the header deadline apply to them alike; a
 * connection shut down there (shutdown()) is seen here as its end.  A
 * head that is not whole at once (a slow sender, a huge head) goes to
 * libmicrohttpd at once, with its deadline.  An answer that stops moving
 * for --connection-timeout is cut here (sweep), as libmicrohttpd would;
 * at the connection limit, or out of descriptors, new connections wait
 * in the backlog; an answer with "Connection: close" ends with a
 * lingering close.  Every answer, whole or cut, gets its stats and its
 * access log line, as a slow-path one does.
 *
 * Each thread has its own epoll set: the listening socket
 * (EPOLLEXCLUSIVE), an eventfd to wake it, and its connections, each read
 * only when it has no answer still leaving (then it waits for EPOLLOUT);
 * a connection held (waiting for its fetch, or parked) is in the set for
 * hang-ups only, on its thread's held list.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "accesslog.h"
#include "app.h"
#include "fastlane.h"
#include "fetch.h"
#include "flentry.h"
#include "flhead.h"
#include "gg_limits.h"
#include "http.h"
#include "log.h"
#include "range.h"
#include "route.h"
#include "stats.h"
#include "store.h"
#include "upstream.h"
#include "util.h"
#include "visibility.h"

#define FL_HEAD_MAX 8192 /* request heads looked at; a longer one is the slow path's */
#define FL_EVENTS 64
#define FL_LINGER_US 5000000u /* the most a closed answer's connection lingers */

/* Wakes a thread for the fetches its connections wait on: its own dup of
 * the thread's eventfd, referenced by the thread and each fl_wtok. */
struct fl_waker {
	_Atomic int refs;
	_Atomic int woken;
	int fd;
};

/*
 * A connection's wait for its fetch (fetch_poll's sleep and wake arg).  A
 * fetch calls wake once for each sleep, maybe after the connection, or the
 * fast lane, is gone: each sleep holds a reference, the connection one.
 * fired says this connection's fetch has more: only those are tried again
 * (a thread's connections may wait on many fetches), and a connection
 * polls again only once its wait fired, so it has one waiter at most.
 */
struct fl_wtok {
	_Atomic int refs;
	_Atomic int fired;
	struct fl_waker *wk;
};

struct fl_conn {
	struct fl_conn *prev, *next; /* in its thread's list */
	int fd;
	struct conn *acct; /* http.c's record */
	struct sockaddr_storage sa;
	socklen_t salen;
	/* An answer still leaving: out[out_off, out_len), then the file's
	 * [file_off, file_end) by sendfile from the borrowed blob. */
	char *out;
	size_t out_len, out_off;
	int sending;
	struct blob_fd blob;
	char blob_key[GG_SHA256_HEX + 1];
	uint64_t file_off, file_end;
	int close_after;
	/* For its access log line and stats, at the end. */
	uint64_t t0_us, ttfb_us, bytes;
	/* When http.c's record was last told the connection is idle, and
	 * whether it was told a response is on its way (see answer_done). */
	uint64_t marked_us;
	int marked_busy;
	/* Sending: when bytes last moved (the send timeout).  Lingering: its
	 * answer is out and its write side shut; what the client still sends
	 * is read and dropped until it closes or linger_until passes (a close
	 * with unread bytes would reset the connection, and the end of the
	 * answer with it). */
	uint64_t progress_us;
	int lingering;
	uint64_t linger_until_us;
	unsigned status;
	int head;
	const char *source; /* the access log's: "hit", "coalesced" or NULL */
	char *log_path;
	size_t log_plen;
	char rid[65];
	size_t rid_len;
	/* An answer from a fetch in progress (a download joined while it
	 * lands): the fetch, a reader's descriptor of it, its poll
	 * generation, and its key, held from eviction (store_use). */
	struct fetch *fetch;
	struct fl_wtok *wtok;
	int rfd;
	int fetch_gen;
	char fetch_key[GG_SHA256_HEX + 1];
	/* Held off the event loop (no events but hang-ups): waiting for its
	 * fetch to land more (FL_HELD_FETCH), or parked (FL_HELD_PARK, its
	 * request unread) behind the slow path's answer to the same target,
	 * on mark park_seq, until park_until_us. */
	int held;
	struct fl_conn *hprev, *hnext;
	uint64_t park_seq, park_until_us;
	uint64_t parked_us; /* when it was first parked */
	int park_counted;   /* its parked request counts as in progress (a drain waits) */
	/* The head of the request being handed over, if the slow path may
	 * give its answer back (a GET with no answer here yet). */
	size_t handoff_hlen;
	/* Given back by the slow path (fastlane_take): its request's head
	 * (pre, until answered), its access log source, and done, called
	 * once (given_consumed: whether the request was answered here).
	 * Its record is libmicrohttpd's connection's (acct NULL). */
	char *pre;
	size_t pre_len;
	const char *given_source;
	void (*given_done)(void *arg, int taken);
	void *given_arg;
	int given_consumed;
};

enum { FL_HELD_NO, FL_HELD_FETCH, FL_HELD_PARK };

struct fl_thread {
	struct fastlane *fl;
	pthread_t tid;
	int ep;
	int wake;
	int listening;
	int paused;            /* the server is full: not accepting until a connection ends */
	struct fl_conn *conns; /* every connection it holds */
	uint64_t swept_us;     /* the last look for timed-out connections */
	/* Connections another thread accepted for this one (round robin),
	 * taken in when wake says so. */
	pthread_mutex_t inbox_mu;
	struct fl_conn *inbox;
	int inbox_closed;       /* stopped: nothing more comes in (fastlane_take) */
	char *buf;              /* a head and a small body, for the answer being built */
	struct fl_waker *wk;    /* for the fetches its connections wait on */
	_Atomic int park_woken; /* a mark ended: look at the parked connections */
	struct fl_conn *held;   /* held connections (struct fl_conn) */
	unsigned nparked;
};

struct fastlane {
	struct server *srv;
	struct app *app;
	int lfd;
	unsigned n;
	struct fl_thread *t;
	_Atomic int stop, quiesce;
	_Atomic unsigned next; /* the thread the next connection goes to */
	uint64_t timeout_us;   /* --connection-timeout: an answer not moving this long ends */
	struct flentries *es;  /* what the slow path answered (flentry.h) */
};

static _Atomic uint64_t n_answered, n_handed;

int
fastlane_prometheus(struct buf *b)
{
	return buf_printf(
		b,
		"# HELP ggufd_fast_lane_requests_total Requests answered by the fast lane "
		"(stored files, without libmicrohttpd).\n"
		"# TYPE ggufd_fast_lane_requests_total counter\n"
		"ggufd_fast_lane_requests_total %llu\n"
		"# HELP ggufd_fast_lane_handoffs_total Connections the fast lane gave to "
		"libmicrohttpd (a request it does not answer).\n"
		"# TYPE ggufd_fast_lane_handoffs_total counter\n"
		"ggufd_fast_lane_handoffs_total %llu\n",
		(unsigned long long)atomic_load(&n_answered),
		(unsigned long long)atomic_load(&n_handed));
}

/* Tells every thread to look at its parked connections again (a mark
 * ended: flentry.h). */
static void
wake_parked(void *arg)
{
	struct fastlane *fl = arg;
	uint64_t one = 1;
	for (unsigned i = 0; i < fl->n; i++) {
		atomic_store(&fl->t[i].park_woken, 1);
		if (write(fl->t[i].wake, &one, sizeof(one)) < 0)
			log_warn("fast lane: waking a thread");
	}
}

/* --- connections ------------------------------------------------------------- */

/* What became of a connection after a turn. */
enum fl_turn {
	FL_HANDOFF, /* not the fast lane's request: libmicrohttpd takes it */
	FL_IDLE,    /* answered, waiting for the next request */
	FL_SENDING, /* an answer still leaving: waiting for EPOLLOUT */
	FL_GONE,    /* ended (closed and freed) */
	FL_PARK,    /* to wait, its request unread, for the slow path's answer (park) */
};

static void
waker_unref(struct fl_waker *w)
{
	if (atomic_fetch_sub(&w->refs, 1) == 1) {
		close(w->fd);
		free(w);
	}
}

static struct fl_wtok *
wtok_new(struct fl_waker *wk)
{
	struct fl_wtok *w = xcalloc(1, sizeof(*w));
	atomic_init(&w->refs, 1);
	atomic_fetch_add(&wk->refs, 1);
	w->wk = wk;
	return w;
}

static void
wtok_unref(struct fl_wtok *w)
{
	if (atomic_fetch_sub(&w->refs, 1) == 1) {
		waker_unref(w->wk);
		free(w);
	}
}

/* fetch_poll's sleep and wake (under the fetch's lock: no call back). */
static void
wtok_sleep(void *arg)
{
	struct fl_wtok *w = arg;
	atomic_fetch_add(&w->refs, 1);
}

static void
wtok_wake(void *arg)
{
	struct fl_wtok *w = arg;
	uint64_t one = 1;

	atomic_store(&w->fired, 1);
	atomic_store(&w->wk->woken, 1);
	if (write(w->wk->fd, &one, sizeof(one)) < 0) {
		/* The counter is full: the thread has a wake-up pending. */
	}
	wtok_unref(w);
}

static void
conn_free_out(struct fastlane *fl, struct fl_conn *c)
{
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	if (c->blob_key[0] != '\0') {
		store_blob_return(fl->app->st, c->blob_key, &c->blob);
		c->blob_key[0] = '\0';
	}
	if (c->fetch != NULL) {
		close(c->rfd);
		fetch_release(c->fetch);
		store_unuse(fl->app->st, c->fetch_key);
		wtok_unref(c->wtok);
		c->fetch = NULL;
		c->wtok = NULL;
	}
	free(c->log_path);
	c->log_path = NULL;
}

/* --- connections held off the event loop ------------------------------------- */

/* Holds c (why: FL_HELD_*): off the event loop but for hang-ups. */
static int
hold(struct fl_thread *t, struct fl_conn *c, int why)
{
	struct epoll_event ev = { .events = 0, .data.ptr = c };

	if (epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
		return -1;
	c->held = why;
	c->hprev = NULL;
	c->hnext = t->held;
	if (t->held != NULL)
		t->held->hprev = c;
	t->held = c;
	if (why == FL_HELD_PARK)
		t->nparked++;
	return 0;
}

/* Takes c off the held list (its events are the caller's to set). */
static void
unhold(struct fl_thread *t, struct fl_conn *c)
{
	if (!c->held)
		return;
	if (c->hprev != NULL)
		c->hprev->hnext = c->hnext;
	else
		t->held = c->hnext;
	if (c->hnext != NULL)
		c->hnext->hprev = c->hprev;
	if (c->held == FL_HELD_PARK)
		t->nparked--;
	c->held = FL_HELD_NO;
	c->hprev = c->hnext = NULL;
}

/* Takes c out of t's list and polling (its record, http.c's, stays). */
static void
conn_detach(struct fl_thread *t, struct fl_conn *c)
{
	unhold(t, c);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		t->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	epoll_ctl(t->ep, EPOLL_CTL_DEL, c->fd, NULL);
}

static void
conn_unlist(struct fl_thread *t, struct fl_conn *c)
{
	conn_detach(t, c);
	if (c->acct != NULL)
		server_conn_close(t->fl->srv, c->acct);
}

/* Tells http.c's record (if c has one: see given_done) whether a response
 * is on its way. */
static void
conn_mark(struct fastlane *fl, struct fl_conn *c, int busy)
{
	if (c->acct != NULL)
		server_conn_mark(fl->srv, c->acct, busy);
}

/* A connection given back by the slow path: the slow path is told, once,
 * whether its request was answered here. */
static void
given_end(struct fl_conn *c)
{
	void (*done)(void *, int) = c->given_done;

	if (done == NULL)
		return;
	c->given_done = NULL;
	free(c->pre);
	c->pre = NULL;
	done(c->given_arg, c->given_consumed);
}

/* An answer's end, sent whole or cut: the request's stats and access log
 * line, as completed_cb gives a slow-path one (http.c). */
static void
account(struct fl_conn *c, const char *path, size_t plen, uint64_t now)
{
	uint64_t usec = now - c->t0_us;

	stats_request(ROUTE_RESOLVE, c->status, usec);
	stats_ttfb(ROUTE_RESOLVE, (c->ttfb_us ? c->ttfb_us : now) - c->t0_us);
	if (accesslog_enabled())
		http_access_log((struct sockaddr *)&c->sa, c->head ? "HEAD" : "GET", path, plen,
				c->status, c->bytes > 0 || c->source != NULL, c->bytes, usec,
				c->source, c->rid, c->rid_len);
	atomic_fetch_add(&n_answered, 1);
}

/* Ends c; an answer still on its way is accounted as cut (its path is
 * path, or the one kept with it). */
/* A parked request that leaves its wait (answered, handed over, ended) no
 * longer counts as in progress here. */
static void
park_uncount(struct fastlane *fl, struct fl_conn *c)
{
	if (c->park_counted) {
		c->park_counted = 0;
		server_request_count(fl->srv, -1);
	}
}

static enum fl_turn
conn_end_at(struct fl_thread *t, struct fl_conn *c, const char *path, size_t plen)
{
	park_uncount(t->fl, c);
	if (c->sending) {
		if (path != NULL)
			account(c, path, plen, now_us());
		else if (c->log_path != NULL)
			account(c, c->log_path, c->log_plen, now_us());
		if (!c->given_consumed)
			server_request_count(t->fl->srv, -1);
	}
	conn_free_out(t->fl, c);
	conn_unlist(t, c);
	close(c->fd);
	given_end(c);
	free(c);
	return FL_GONE;
}

static enum fl_turn
conn_end(struct fl_thread *t, struct fl_conn *c)
{
	return conn_end_at(t, c, NULL, 0);
}

/* The slow path takes the connection, its request (head, handoff_hlen
 * bytes) unread. */
static void
conn_handoff(struct fl_thread *t, struct fl_conn *c, const char *head)
{
	conn_detach(t, c);
	atomic_fetch_add(&n_handed, 1);
	/* Its record goes with it: libmicrohttpd's connection takes it over. */
	server_handoff(t->fl->srv, c->acct, c->fd, (struct sockaddr *)&c->sa, (unsigned)c->salen,
		       c->handoff_hlen > 0 ? head : NULL, c->handoff_hlen);
	park_uncount(t->fl, c); /* libmicrohttpd counts it from its start */
	free(c);
}

/* An answer is all out: stats, the access log line, and the connection
 * idle again, or ended. */
static enum fl_turn
answer_done(struct fl_thread *t, struct fl_conn *c, const char *path, size_t plen)
{
	struct fastlane *fl = t->fl;
	uint64_t now = now_us();

	account(c, path, plen, now);
	c->sending = 0;
	if (!c->given_consumed)
		server_request_count(fl->srv, -1);
	conn_free_out(fl, c);
	if (c->close_after) {
		/* A lingering close (see struct fl_conn). */
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		shutdown(c->fd, SHUT_WR);
		given_end(c); /* all out: libmicrohttpd's side may close */
		c->lingering = 1;
		c->linger_until_us = now + FL_LINGER_US;
		if (epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
			return conn_end(t, c);
		return FL_IDLE;
	}
	/* The connection's idle time counts from here (the header deadline,
	 * which idle one is shed first).  An answer sent at once was never
	 * marked busy: telling http.c (a lock shared by every thread) after
	 * each of thousands of small answers a second would cost more than
	 * the answers; at most every half second, the record is behind by
	 * less than that. */
	if (c->marked_busy || now - c->marked_us >= 500000) {
		conn_mark(fl, c, 0);
		c->marked_busy = 0;
		c->marked_us = now;
	}
	return FL_IDLE;
}

/*
 * Sends what is left of c's answer.  1: all out; 0: the socket is full
 * (wait for EPOLLOUT); 2: its fetch has nothing more yet (wait for the
 * waker); -1: the connection failed, or its fetch did (cut it).
 */
static int
conn_flush(struct fl_thread *t, struct fl_conn *c)
{
	while (c->out_off < c->out_len) {
		/* The head waits for the body's first bytes (one packet),
		 * but not for a fetch's: those may be milliseconds away, and
		 * the head is the client's first byte. */
		ssize_t w = send(
			c->fd, c->out + c->out_off, c->out_len - c->out_off,
			MSG_NOSIGNAL |
				(c->file_off < c->file_end && c->fetch == NULL ? MSG_MORE : 0));
		if (w < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
		c->out_off += (size_t)w;
	}
	while (c->file_off < c->file_end) {
		off_t off = (off_t)c->file_off;
		uint64_t upto = c->file_end, left;
		int from = c->blob.fd;
		ssize_t w;

		if (c->fetch != NULL) {
			/* fetch.h's contract: landed bytes but the answer's last,
			 * which waits for the verified whole. */
			from = c->rfd;
			switch (fetch_poll(c->fetch, &c->fetch_gen, c->file_off, c->file_end, &upto,
					   wtok_sleep, wtok_wake, c->wtok)) {
			case FETCH_AVAIL: break;
			case FETCH_WAIT: return 2;
			default: return -1;
			}
		}
		left = upto - c->file_off;
		w = sendfile(c->fd, from, &off, left > (1u << 30) ? (1u << 30) : left);
		if (w < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
		if (w == 0)
			return -1; /* the file is shorter than the index says */
		if (c->fetch != NULL)
			stats_served_bytes(STATS_FETCH, (uint64_t)w);
		c->file_off = (uint64_t)off;
	}
	return 1;
}

/* Appends s[0, n) at *o in buf. */
static void
put(char *buf, size_t *o, const char *s, size_t n)
{
	memcpy(buf + *o, s, n);
	*o += n;
}

/*
 * c's answer is not all out (conn_flush gave rc: 0, the socket is full;
 * 2, its fetch has nothing more yet): waits for EPOLLOUT, or for the
 * fetch's waker.
 */
static enum fl_turn
wait_for(struct fl_thread *t, struct fl_conn *c, int rc)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };

	/* EPOLLOUT alone: a client that shut its side would otherwise wake
	 * the thread without end while the socket stays full. */
	if (rc == 2 ? hold(t, c, FL_HELD_FETCH) != 0
		    : epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
		return conn_end(t, c);
	return FL_SENDING;
}

/*
 * A request the fast lane has no answer for yet (no entry, or its blob is
 * neither here nor landing): the slow path's, or, while another
 * connection's request for the same target is there, parked until that
 * one is answered (flentry_park).
 */
static enum fl_turn
no_answer(struct fastlane *fl, struct fl_conn *c, const struct fl_head *h)
{
	/* One given back has no answer here after all: the slow path's
	 * (no mark: the slow path answers it at once). */
	if (c->given_done != NULL)
		return FL_HANDOFF;
	/* A GET's head goes with it: the slow path may give its answer back
	 * (http_give). */
	c->handoff_hlen = h->is_head ? 0 : h->len;
	/* Draining: no waiting, the slow path answers at once. */
	if (atomic_load(&fl->quiesce))
		return FL_HANDOFF;
	return flentry_park(fl->es, h->target, h->tlen, &c->park_seq, &c->park_until_us)
		       ? FL_PARK
		       : FL_HANDOFF;
}

/*
 * Answers the request whose head is req[0, n) (peeked, still in the
 * socket), or says it is not the fast lane's (FL_HANDOFF, nothing read)
 * or not yet (FL_PARK).
 */
static enum fl_turn
serve_one(struct fl_thread *t, struct fl_conn *c, char *req, size_t n)
{
	struct fastlane *fl = t->fl;
	struct app *a = fl->app;
	struct fl_head h;
	struct flentry_answer an, *ans = &an;
	struct blob_fd b = { .fd = -1 };
	struct fetch *f = NULL;
	size_t o_len = 0;
	uint64_t first, len;
	char *out = t->buf;
	ssize_t got;
	int rc, rfd = -1;

	c->handoff_hlen = 0;
	if (!flhead_parse(req, n, &h))
		return FL_HANDOFF;
	switch (flentry_look(fl->es, h.target, h.tlen, h.range, h.range_len, ans, out, &o_len)) {
	case FLENTRY_ANSWER: break;
	case FLENTRY_NONE: return no_answer(fl, c, &h);
	default: return FL_HANDOFF;
	}
	/* The blob (it may open the file): held from eviction and counted as
	 * a hit, as the slow path does; or, an LFS file still landing, the
	 * fetch the slow path started, joined (coalesced, as the slow path's
	 * serve_fetching would). */
	rc = store_blob_borrow(a->st, ans->blob, &b);
	if (rc == GG_OK && b.size != ans->size) {
		store_blob_return(a->st, ans->blob, &b);
		return FL_HANDOFF;
	}
	if (rc != GG_OK) {
		/* While upstream rate-limits us longer than a fetch waits,
		 * the slow path answers 429 even to a request it would
		 * coalesce (serve_fetching): its answer. */
		if (ans->lfs && app_upstream(a) != NULL &&
		    upstream_wait(app_upstream(a), 1) > GG_FETCH_WAIT_MAX_SEC)
			return FL_HANDOFF;
		if (!ans->lfs || fetcher_join_running(a->fm, ans->blob, &f) != GG_OK)
			return no_answer(fl, c, &h);
	}
	first = ans->o == RANGE_PARTIAL ? ans->first : 0;
	len = ans->o == RANGE_PARTIAL ? ans->last - ans->first + 1 : ans->size;
	/* A parked request's time counts from its arrival. */
	c->t0_us = c->parked_us != 0 ? c->parked_us : now_us();
	c->status = ans->o == RANGE_PARTIAL ? 206 : 200;
	put(out, &o_len, "Content-Length: ", 16);
	o_len += fmt_u64(out + o_len, len);
	put(out, &o_len, "\r\n", 2);
	/* One given back ends with its answer (libmicrohttpd's side of it
	 * closes then). */
	c->close_after = h.close || c->given_done != NULL || server_is_draining(fl->srv);
	if (c->close_after)
		put(out, &o_len, "Connection: close\r\n", 19);
	put(out, &o_len, "\r\n", 2);
	if (f != NULL && !h.is_head && len > 0) {
		rfd = fetch_open_reader(f);
		if (rfd < 0) {
			log_warn("fast lane: reading the download of %s", ans->blob);
			fetch_release(f);
			return FL_HANDOFF;
		}
	}

	/* The request is ours: its bytes leave the socket (the same bytes
	 * as peeked, into the same buffer); one given back was read by
	 * libmicrohttpd. */
	if (c->pre != NULL) {
		free(c->pre);
		c->pre = NULL;
		c->given_consumed = 1;
		got = (ssize_t)h.len;
	} else {
		got = recv(c->fd, req, h.len, 0);
	}
	if (got != (ssize_t)h.len) {
		if (f != NULL) {
			if (rfd >= 0)
				close(rfd);
			fetch_release(f);
		} else {
			store_blob_return(a->st, ans->blob, &b);
		}
		return conn_end(t, c);
	}
	c->head = h.is_head;
	c->bytes = h.is_head ? 0 : len;
	c->source = c->given_consumed ? c->given_source
		    : f == NULL       ? "hit"
		    : h.is_head       ? NULL
				      : "coalesced";
	c->rid_len = h.rid != NULL && h.rid_len < sizeof(c->rid) ? h.rid_len : 0;
	if (c->rid_len > 0)
		memcpy(c->rid, h.rid, c->rid_len);
	c->rid[c->rid_len] = '\0';
	c->ttfb_us = 0;
	c->park_seq = c->parked_us = 0;
	c->sending = 1;
	/* In progress (a drain waits for it); a given one is, as
	 * libmicrohttpd's request, until given_end. */
	if (!c->given_consumed)
		server_request_count(fl->srv, 1);
	park_uncount(fl, c);
	if (!h.is_head && !c->given_consumed) /* a given one's, the slow path counted */
		stats_served(f == NULL ? STATS_STORE : STATS_FETCH, f == NULL ? len : 0);
	if (f != NULL) {
		if (h.is_head || len == 0) {
			fetch_release(f);
		} else {
			/* Sent as it lands (conn_flush), held from eviction as
			 * serve_fetching holds it. */
			c->fetch = f;
			c->wtok = wtok_new(t->wk);
			c->rfd = rfd;
			c->fetch_gen = -1;
			memcpy(c->fetch_key, ans->blob, sizeof(c->fetch_key));
			store_use(a->st, ans->blob);
			c->file_off = first;
			c->file_end = first + len;
		}
	} else if (h.is_head || len == 0) {
		store_blob_return(a->st, ans->blob, &b);
	} else if (len <= GG_SMALL_BODY) {
		got = pread(b.fd, out + o_len, (size_t)len, (off_t)first);
		store_blob_return(a->st, ans->blob, &b);
		if (got != (ssize_t)len) {
			log_warn("fast lane: reading blob %s", ans->blob);
			return conn_end_at(t, c, h.target, h.tlen);
		}
		o_len += (size_t)len;
	} else {
		/* Held from eviction until its last byte is sent. */
		c->blob = b;
		memcpy(c->blob_key, ans->blob, sizeof(c->blob_key));
		c->file_off = first;
		c->file_end = first + len;
	}
	c->out = out;
	c->out_len = o_len;
	c->out_off = 0;
	rc = conn_flush(t, c);
	if (rc == 1) {
		c->out = NULL; /* t->buf: not the connection's */
		return answer_done(t, c, h.target, h.tlen);
	}
	if (rc < 0) {
		c->out = NULL;
		return conn_end_at(t, c, h.target, h.tlen);
	}
	{
		/* The client reads slower than we send, or the fetch is behind
		 * it: keep what is left. */
		size_t left = c->out_len - c->out_off;
		char *keep = xmalloc(left ? left : 1);
		memcpy(keep, c->out + c->out_off, left);
		c->out = keep;
		c->out_len = left;
		c->out_off = 0;
		c->log_path = xmalloc(h.tlen + 1);
		memcpy(c->log_path, h.target, h.tlen);
		c->log_plen = h.tlen;
		c->ttfb_us = c->progress_us = now_us();
		/* Never shed while its answer is on its way (the send timeout,
		 * sweep, is the fast lane's own). */
		conn_mark(fl, c, 1);
		c->marked_busy = 1;
		return wait_for(t, c, rc);
	}
}

/*
 * One request per readiness: a pipelined next one makes the socket
 * readable again (level-triggered), which costs one epoll_wait shared by
 * every ready connection, where looking again at once would cost a recv
 * that, almost always, finds nothing.
 */
static void
on_readable(struct fl_thread *t, struct fl_conn *c)
{
	char req[FL_HEAD_MAX];
	enum fl_turn turn;
	ssize_t n;

	if (c->pre != NULL) {
		/* Given back by the slow path (fastlane_take): its head. */
		memcpy(req, c->pre, c->pre_len);
		n = (ssize_t)c->pre_len;
	} else {
		n = recv(c->fd, req, sizeof(req), MSG_PEEK);
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		conn_end(t, c);
		return;
	}
	turn = serve_one(t, c, req, (size_t)n);
	if ((turn == FL_HANDOFF || turn == FL_PARK) && c->given_done != NULL) {
		/* Declined: the slow path answers it (its socket is as it
		 * was; this descriptor is a dup). */
		conn_end(t, c);
		return;
	}
	switch (turn) {
	case FL_HANDOFF: conn_handoff(t, c, req); return;
	case FL_PARK:
		if (hold(t, c, FL_HELD_PARK) != 0) {
			conn_end(t, c);
			return;
		}
		if (c->parked_us == 0)
			c->parked_us = now_us();
		if (!c->park_counted) {
			/* A request received: a drain waits for it. */
			c->park_counted = 1;
			server_request_count(t->fl->srv, 1);
		}
		if (!c->marked_busy) {
			/* A whole request waits: not idle, not for the header
			 * deadline nor for shedding (the mark, which ends at
			 * its answer, or with the record at a hand-off). */
			conn_mark(t->fl, c, 1);
			c->marked_busy = 1;
		}
		return;
	default: return;
	}
}

static void
on_writable(struct fl_thread *t, struct fl_conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
	size_t out0 = c->out_off;
	uint64_t file0 = c->file_off;
	char *path;
	size_t plen;

	int rc = conn_flush(t, c);

	if (c->out_off != out0 || c->file_off != file0)
		c->progress_us = now_us();
	switch (rc) {
	case 1:
		path = c->log_path;
		plen = c->log_plen;
		c->log_path = NULL;
		if (answer_done(t, c, path, plen) == FL_IDLE && !c->lingering &&
		    epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
			conn_end(t, c);
		free(path);
		return;
	case 0: return;
	case 2:
		if (hold(t, c, FL_HELD_FETCH) != 0)
			conn_end(t, c);
		return;
	default: conn_end(t, c); return;
	}
}

/*
 * The thread's held connections, after a wake-up (fetch: a fetch landed
 * more; park: a mark ended) or at a parked one's time: each tried again,
 * with the events it waits for outside (EPOLLOUT, EPOLLIN).
 */
static void
on_held(struct fl_thread *t, int fetch, int park, uint64_t now)
{
	struct fl_conn *c, *next, *todo = NULL;

	/* Taken off the list first: trying one may hold it again. */
	for (c = t->held; c != NULL; c = next) {
		next = c->hnext;
		if ((c->held == FL_HELD_FETCH && fetch && atomic_exchange(&c->wtok->fired, 0)) ||
		    (c->held == FL_HELD_PARK && (park || now >= c->park_until_us))) {
			int why = c->held;
			unhold(t, c);
			c->hnext = todo;
			c->held = why; /* off the list: a note for below */
			todo = c;
		}
	}
	for (c = todo; c != NULL; c = next) {
		int parked = c->held == FL_HELD_PARK;
		struct epoll_event ev = { .events = parked ? EPOLLIN | EPOLLRDHUP : EPOLLOUT,
					  .data.ptr = c };
		next = c->hnext;
		c->held = FL_HELD_NO;
		c->hnext = NULL;
		if (!parked)
			c->progress_us = now; /* its send timeout counts from here */
		if (epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
			conn_end(t, c);
		else if (parked)
			on_readable(t, c);
		else
			on_writable(t, c);
	}
}

/* A lingering connection (struct fl_conn): what it sends is dropped. */
static void
on_linger(struct fl_thread *t, struct fl_conn *c)
{
	char sink[4096];

	for (int i = 0; i < 16; i++) {
		ssize_t n = recv(c->fd, sink, sizeof(sink), 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n <= 0)
			break;
	}
	/* The client closed (or errs, or sends without end): closed now. */
	conn_end(t, c);
}

/*
 * Once a second: answers that have not moved for --connection-timeout
 * end (libmicrohttpd's idle timeout, for the connections it never sees;
 * an idle one is the header deadline's, http.c), and so do lingering
 * connections past their time.
 */
static void
sweep(struct fl_thread *t, uint64_t now)
{
	struct fl_conn *c, *next;

	if (now - t->swept_us < 1000000)
		return;
	t->swept_us = now;
	for (c = t->conns; c != NULL; c = next) {
		next = c->next;
		/* One waiting for its fetch is not the client's delay: the
		 * fetch ends (or fails, and cuts it) on its own timeouts. */
		if ((c->sending && c->held != FL_HELD_FETCH &&
		     now - c->progress_us > t->fl->timeout_us) ||
		    (c->lingering && now > c->linger_until_us))
			conn_end(t, c);
	}
}

/* Puts c in t's polling and list; ends it if epoll will not take it. */
static void
adopt(struct fl_thread *t, struct fl_conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };

	if (epoll_ctl(t->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
		if (c->acct != NULL)
			server_conn_close(t->fl->srv, c->acct);
		close(c->fd);
		given_end(c);
		free(c);
		return;
	}
	c->prev = NULL;
	c->next = t->conns;
	if (t->conns != NULL)
		t->conns->prev = c;
	t->conns = c;
	if (c->pre != NULL) {
		if (atomic_load(&t->fl->stop))
			conn_end(t, c); /* stopping: declined, the slow path's */
		else
			on_readable(t, c); /* given back: its request is here */
	}
}

static void
take_inbox(struct fl_thread *t)
{
	struct fl_conn *c, *next;

	pthread_mutex_lock(&t->inbox_mu);
	c = t->inbox;
	t->inbox = NULL;
	if (atomic_load(&t->fl->stop))
		t->inbox_closed = 1;
	pthread_mutex_unlock(&t->inbox_mu);
	for (; c != NULL; c = next) {
		next = c->next;
		adopt(t, c);
	}
}

/*
 * Accepts what waits, each connection going to the threads in turn: a
 * burst of connections (a client opening 64 at once) would otherwise all
 * land on the thread that woke first.
 */
static void
on_accept(struct fl_thread *t)
{
	struct fastlane *fl = t->fl;

	for (int i = 0; i < 64; i++) {
		struct fl_conn *c;
		struct fl_thread *to;
		struct sockaddr_storage sa;
		socklen_t sl = sizeof(sa);
		int fd, one = 1;

		/* At the limit, as libmicrohttpd does: new connections wait in
		 * the backlog (not accepted and closed) until one ends. */
		if (server_conn_full(fl->srv)) {
			epoll_ctl(t->ep, EPOLL_CTL_DEL, fl->lfd, NULL);
			t->paused = 1;
			return;
		}
		fd = accept4(fl->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			static _Atomic uint64_t warned_us;
			uint64_t now;

			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			if (errno == EINVAL || errno == EBADF || atomic_load(&fl->quiesce)) {
				/* Not listening any more (server_quiesce). */
				epoll_ctl(t->ep, EPOLL_CTL_DEL, fl->lfd, NULL);
				t->listening = 0;
				return;
			}
			if (errno != EMFILE && errno != ENFILE && errno != ENOBUFS &&
			    errno != ENOMEM)
				continue; /* that connection's own error (accept(2)): the next */
			/* Out of descriptors or memory: the backlog waits, as at
			 * the connection limit, and it is said once a second. */
			now = now_us();
			if (now - atomic_load(&warned_us) >= 1000000) {
				atomic_store(&warned_us, now);
				log_warn("fast lane: accept (new connections wait)");
			}
			epoll_ctl(t->ep, EPOLL_CTL_DEL, fl->lfd, NULL);
			t->paused = 1;
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = xcalloc(1, sizeof(*c));
		c->fd = fd;
		memcpy(&c->sa, &sa, sizeof(sa));
		c->salen = sl;
		c->acct = server_conn_open(fl->srv, fd, (struct sockaddr *)&sa);
		if (c->acct == NULL) {
			close(fd); /* at the server's limit */
			free(c);
			continue;
		}
		to = &fl->t[atomic_fetch_add(&fl->next, 1) % fl->n];
		if (to == t) {
			adopt(t, c);
		} else {
			uint64_t v = 1;
			pthread_mutex_lock(&to->inbox_mu);
			c->next = to->inbox;
			to->inbox = c;
			pthread_mutex_unlock(&to->inbox_mu);
			if (write(to->wake, &v, sizeof(v)) < 0)
				log_warn("fast lane: waking a thread");
		}
	}
}

static void *
fl_thread_main(void *arg)
{
	struct fl_thread *t = arg;
	struct fastlane *fl = t->fl;
	struct epoll_event evs[FL_EVENTS];

	while (!atomic_load(&fl->stop)) {
		/* Paused, it looks again every 20 ms whether a connection ended
		 * (one of libmicrohttpd's ends without a word to us). */
		int n = epoll_wait(t->ep, evs, FL_EVENTS, t->paused ? 20 : t->nparked ? 10 : 1000);
		if (n < 0 && errno != EINTR) {
			log_warn("fast lane: epoll_wait");
			break;
		}
		if (t->listening && atomic_load(&fl->quiesce)) {
			if (!t->paused)
				epoll_ctl(t->ep, EPOLL_CTL_DEL, fl->lfd, NULL);
			t->listening = 0;
		}
		/* Paused (full, or out of descriptors): listening again once
		 * there is room. */
		if (t->listening && t->paused && !server_conn_full(fl->srv)) {
			struct epoll_event lev = { .events = EPOLLIN | EPOLLEXCLUSIVE,
						   .data.ptr = fl };
			if (epoll_ctl(t->ep, EPOLL_CTL_ADD, fl->lfd, &lev) == 0)
				t->paused = 0;
		}
		int fw = 0, pw = 0;
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &t->wake) {
				uint64_t v;
				if (read(t->wake, &v, sizeof(v)) < 0 && errno != EAGAIN)
					log_warn("fast lane: eventfd");
				take_inbox(t);
				fw = atomic_exchange(&t->wk->woken, 0);
				pw = atomic_exchange(&t->park_woken, 0);
			} else if (p == fl) {
				if (t->listening)
					on_accept(t);
			} else {
				struct fl_conn *c = p;
				if (c->held)
					conn_end(t, c); /* a hang-up, or an error */
				else if (c->lingering)
					on_linger(t, c);
				else if (c->sending)
					on_writable(t, c);
				else
					on_readable(t, c);
			}
		}
		/* Held connections after the events: trying one may end it,
		 * and an event of this batch may be its. */
		if (fw || pw || t->nparked > 0)
			on_held(t, fw, pw, now_us()); /* woken, or parked past their time */
		sweep(t, now_us());
	}
	return NULL;
}

int
fastlane_start(struct server *srv, struct app *app, int lfd, unsigned nthreads, unsigned timeout_s,
	       struct fastlane **out)
{
	struct fastlane *fl = xcalloc(1, sizeof(*fl));

	fl->timeout_us = (uint64_t)timeout_s * 1000000u;
	fl->srv = srv;
	fl->app = app;
	fl->lfd = lfd;
	fl->t = xcalloc(nthreads, sizeof(*fl->t));
	if (flentry_new(app, wake_parked, fl, &fl->es) != GG_OK) {
		fastlane_free(fl);
		return GG_EIO;
	}
	for (unsigned i = 0; i < nthreads; i++) {
		struct fl_thread *t = &fl->t[i];
		struct epoll_event lev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = fl };
		struct epoll_event wev = { .events = EPOLLIN, .data.ptr = &t->wake };

		t->fl = fl;
		pthread_mutex_init(&t->inbox_mu, NULL);
		t->buf = xmalloc(FLENTRY_HEAD_MAX + 256 + FL_HEAD_MAX + GG_SMALL_BODY);
		t->ep = epoll_create1(EPOLL_CLOEXEC);
		t->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		t->wk = xcalloc(1, sizeof(*t->wk));
		atomic_init(&t->wk->refs, 1);
		t->wk->fd = t->wake >= 0 ? fcntl(t->wake, F_DUPFD_CLOEXEC, 0) : -1;
		t->listening = 1;
		if (t->ep < 0 || t->wake < 0 || t->wk->fd < 0 ||
		    epoll_ctl(t->ep, EPOLL_CTL_ADD, lfd, &lev) != 0 ||
		    epoll_ctl(t->ep, EPOLL_CTL_ADD, t->wake, &wev) != 0 ||
		    pthread_create(&t->tid, NULL, fl_thread_main, t) != 0) {
			log_warn("cannot start the fast lane");
			fl->n = i;
			if (t->ep >= 0)
				close(t->ep);
			if (t->wake >= 0)
				close(t->wake);
			waker_unref(t->wk);
			free(t->buf);
			pthread_mutex_destroy(&t->inbox_mu);
			fastlane_free(fl);
			return GG_EIO;
		}
		fl->n = i + 1;
	}
	*out = fl;
	return GG_OK;
}

int
fastlane_taking(struct fastlane *fl)
{
	return fl != NULL && !atomic_load(&fl->quiesce) && !atomic_load(&fl->stop);
}

int
fastlane_take(struct fastlane *fl, int fd, const struct sockaddr *sa, const char *head, size_t hlen,
	      uint64_t t0_us, const char *source, void (*done)(void *arg, int taken), void *arg)
{
	struct fl_conn *c = xcalloc(1, sizeof(*c));
	struct fl_thread *to = &fl->t[atomic_fetch_add(&fl->next, 1) % fl->n];
	uint64_t v = 1;

	c->fd = fd;
	c->salen = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					     : sizeof(struct sockaddr_in);
	memcpy(&c->sa, sa, c->salen);
	c->pre_len = hlen < FL_HEAD_MAX ? hlen : FL_HEAD_MAX;
	c->pre = xmalloc(c->pre_len);
	memcpy(c->pre, head, c->pre_len);
	c->parked_us = t0_us; /* its time counts from its arrival */
	c->given_source = source;
	c->given_done = done;
	c->given_arg = arg;
	pthread_mutex_lock(&to->inbox_mu);
	if (to->inbox_closed) {
		/* Stopped (fastlane_stop took its last inbox): nobody would
		 * ever look at it. */
		pthread_mutex_unlock(&to->inbox_mu);
		free(c->pre);
		free(c);
		return -1;
	}
	c->next = to->inbox;
	to->inbox = c;
	pthread_mutex_unlock(&to->inbox_mu);
	if (write(to->wake, &v, sizeof(v)) < 0)
		log_warn("fast lane: waking a thread");
	return 0;
}

static void
wake_all(struct fastlane *fl)
{
	uint64_t one = 1;
	for (unsigned i = 0; i < fl->n; i++)
		if (write(fl->t[i].wake, &one, sizeof(one)) < 0)
			log_warn("fast lane: waking a thread");
}

void
fastlane_quiesce(struct fastlane *fl)
{
	atomic_store(&fl->quiesce, 1);
	wake_parked(fl); /* every thread; the parked requests go on now */
}

void
fastlane_stop(struct fastlane *fl)
{
	if (fl == NULL || atomic_exchange(&fl->stop, 1))
		return;
	wake_all(fl);
	flentry_stop(fl->es);
	/* Every thread first: one may be handing a connection to another. */
	for (unsigned i = 0; i < fl->n; i++)
		pthread_join(fl->t[i].tid, NULL);
	for (unsigned i = 0; i < fl->n; i++) {
		struct fl_thread *t = &fl->t[i];
		take_inbox(t);
		while (t->conns != NULL)
			conn_end(t, t->conns);
	}
}

void
fastlane_free(struct fastlane *fl)
{
	if (fl == NULL)
		return;
	fastlane_stop(fl);
	flentry_free(fl->es); /* the slow path stops recording */
	for (unsigned i = 0; i < fl->n; i++) {
		struct fl_thread *t = &fl->t[i];
		close(t->ep);
		close(t->wake);
		waker_unref(t->wk);
		free(t->buf);
		pthread_mutex_destroy(&t->inbox_mu);
	}
	free(fl->t);
	free(fl);
}
