/*
 * conns.c: the HTTP core's connections (httpint.h), split from http.c:
 * each connection's record (libmicrohttpd's and the fast lane's alike),
 * the per-address counts, admission and the shedding of idle connections,
 * the header deadline's watchdog, and the hand-offs between the fast lane
 * and libmicrohttpd both ways (server_handoff; http_give), and the
 * listening socket (server_parse_listen).  Its state is
 * struct server's connection part, under conn_mu.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "fastlane.h"
#include "gg_limits.h"
#include "http.h"
#include "httpint.h"
#include "log.h"
#include "util.h"

/* --- connections: the header deadline, shedding idle ones ----------------- */

/*
 * libmicrohttpd's connection timeout is an idle timeout: every byte
 * received restarts it, so a client that trickles its headers a byte at a
 * time (slowloris) would hold a connection for hours.  The header deadline
 * bounds the time from a connection's start, or from the end of its
 * previous request, to the end of the next request's headers.  A watchdog
 * thread shuts down the connections past it (shutdown(2), never close:
 * the descriptor stays libmicrohttpd's), and libmicrohttpd, seeing the end
 * of the stream, closes them itself.
 *
 * Idle connections are shed the same way, so that connections that hold a
 * slot and do nothing (kept alive between requests, or opened and never
 * used: a flood) cannot lock other clients out.  libmicrohttpd accepts up
 * to its limit and leaves the next connections unanswered in the kernel's
 * backlog, so the room must be made before the limit:
 *
 *   - when a new connection makes more than high_water live (the limit
 *     minus a reserve of 1/GG_CONN_RESERVE_DIV of it), the connection idle
 *     the longest is shut;
 *   - ggufd counts connections per address itself (libmicrohttpd's own
 *     per-address limit refuses a connection before anyone is told): when
 *     a new one puts its address over per_ip, that address's connection
 *     idle the longest is shut, or, if none of them is idle, the new one.
 *
 * Idle means no request begun (its request line not received) and no byte
 * waiting to be read; a request in progress, from its request line to its
 * completion, is never shed.  Both lists (all connections, and each
 * address's) keep the idle ones in the order they became idle: a
 * connection is appended when it opens and moved to the end when a
 * request completes, so the first idle one from the head is the one idle
 * the longest.  Shedding a connection costs a walk past the busy ones at
 * the head of a list, and only once the server or the address is full.
 *
 * The lists are kept under conn_mu, which the "closed" notification takes
 * too; libmicrohttpd closes a socket only after that notification, so
 * neither the watchdog nor the shedding ever touches a descriptor that was
 * closed or reused.
 */
struct peer {
	struct peer *next;        /* in its hash bucket */
	struct conn *head, *tail; /* its connections, as srv->conns */
	unsigned live;            /* of them, not shut down */
	int family;               /* AF_INET or AF_INET6 */
	unsigned char addr[16];
};

struct conn {
	struct conn *prev, *next;   /* in srv->conns */
	struct conn *pprev, *pnext; /* in peer->head, if peer */
	struct peer *peer;          /* NULL: no address known */
	int fd;
	int busy;          /* from its request line to completed_cb */
	int in_request;    /* from the end of its headers to completed_cb */
	int cut;           /* shut down: no longer live */
	uint64_t since_us; /* the connection's start, or its last request's end */
	/* The struct req of its last request, kept for the next one (its
	 * thread's alone: requests of a connection come one at a time). */
	struct req *spare;
	/* Handed by the fast lane to libmicrohttpd, which has not started it
	 * yet (server_handoff): in srv->handing, since handed_us. */
	struct conn *hnext;
	uint64_t handed_us;
	/* The head of its first request, kept by the fast lane at the
	 * hand-off (server_handoff) for http_give, until that request ends;
	 * the connection's thread's alone once libmicrohttpd started it. */
	char *fl_head;
	size_t fl_head_len;
};

static struct conn *
conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

static void
conn_link(struct server *srv, struct conn *e)
{
	e->next = NULL;
	e->prev = srv->conns_tail;
	if (srv->conns_tail != NULL)
		srv->conns_tail->next = e;
	else
		srv->conns = e;
	srv->conns_tail = e;
	if (e->peer == NULL)
		return;
	e->pnext = NULL;
	e->pprev = e->peer->tail;
	if (e->peer->tail != NULL)
		e->peer->tail->pnext = e;
	else
		e->peer->head = e;
	e->peer->tail = e;
}

static void
conn_unlink(struct server *srv, struct conn *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		srv->conns = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		srv->conns_tail = e->prev;
	if (e->peer == NULL)
		return;
	if (e->pprev != NULL)
		e->pprev->pnext = e->pnext;
	else
		e->peer->head = e->pnext;
	if (e->pnext != NULL)
		e->pnext->pprev = e->pprev;
	else
		e->peer->tail = e->pprev;
}

/* The hash bucket of an address (FNV-1a, seeded at start). */
static struct peer **
peer_bucket(struct server *srv, int family, const unsigned char *addr, size_t len)
{
	uint32_t h = 2166136261u ^ srv->peer_seed;
	h = (h ^ (uint32_t)family) * 16777619u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ addr[i]) * 16777619u;
	return &srv->peers[h & (srv->npeers - 1)];
}

/* The peer of a client address, created if new; NULL for another family. */
static struct peer *
peer_get(struct server *srv, const struct sockaddr *sa)
{
	const unsigned char *addr;
	struct peer **b, *p;
	size_t len;

	if (sa == NULL)
		return NULL;
	if (sa->sa_family == AF_INET) {
		addr = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
		len = 4;
	} else if (sa->sa_family == AF_INET6) {
		addr = (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
		len = 16;
	} else {
		return NULL;
	}
	b = peer_bucket(srv, sa->sa_family, addr, len);
	for (p = *b; p != NULL; p = p->next)
		if (p->family == sa->sa_family && memcmp(p->addr, addr, len) == 0)
			return p;
	p = xcalloc(1, sizeof(*p));
	p->family = sa->sa_family;
	memcpy(p->addr, addr, len);
	p->next = *b;
	*b = p;
	return p;
}

/* Frees a peer left without connections. */
static void
peer_put(struct server *srv, struct peer *p)
{
	struct peer **b;

	if (p == NULL || p->head != NULL)
		return;
	b = peer_bucket(srv, p->family, p->addr, p->family == AF_INET ? 4 : 16);
	while (*b != p)
		b = &(*b)->next;
	*b = p->next;
	free(p);
}

/* Shuts a connection down (libmicrohttpd closes it); it is no longer live. */
static void
conn_shut(struct server *srv, struct conn *e)
{
	shutdown(e->fd, SHUT_RDWR);
	e->cut = 1;
	srv->nlive--;
	if (e->peer != NULL)
		e->peer->live--;
}

/*
 * The connection idle the longest in a list (the server's, or a peer's:
 * by_peer), other than skip; NULL if none is idle.  Bytes waiting in its
 * socket are a request on its way: not idle.
 */
static struct conn *
conn_oldest_idle(struct conn *head, int by_peer, const struct conn *skip)
{
	for (struct conn *e = head; e != NULL; e = by_peer ? e->pnext : e->next) {
		int pending = 0;
		if (e == skip || e->busy || e->in_request || e->cut || e->fd < 0)
			continue;
		if (ioctl(e->fd, FIONREAD, &pending) == 0 && pending > 0)
			continue;
		return e;
	}
	return NULL;
}

/* A new connection: the address's limit, then the server's high water. */
static void
conn_admit(struct server *srv, struct conn *e)
{
	struct conn *v;

	if (srv->per_ip > 0 && e->peer != NULL && e->peer->live > srv->per_ip) {
		v = conn_oldest_idle(e->peer->head, 1, e);
		if (v != NULL) {
			conn_shut(srv, v);
			srv->shed_peer++;
		} else if (e->fd >= 0) {
			conn_shut(srv, e);
			srv->refused_peer++;
			return;
		}
	}
	if (srv->nlive > srv->high_water) {
		v = conn_oldest_idle(srv->conns, 0, e);
		if (v != NULL) {
			conn_shut(srv, v);
			srv->shed_full++;
		}
	}
}

/*
 * A request's line arrived (uri_log_cb): the connection is busy, never
 * shed, until the request completes.  1 if the connection was shut down
 * already (refused, shed or past its deadline): the request is not served.
 */
static int
conn_begin(struct server *srv, struct conn *e)
{
	int cut;

	if (e == NULL)
		return 0;
	pthread_mutex_lock(&srv->conn_mu);
	e->busy = 1;
	cut = e->cut;
	pthread_mutex_unlock(&srv->conn_mu);
	return cut;
}

int
conns_begin(struct server *srv, struct MHD_Connection *con, struct req **spare)
{
	struct conn *e = conn_of(con);

	*spare = NULL;
	if (conn_begin(srv, e))
		return 1;
	if (e != NULL && e->spare != NULL) {
		*spare = e->spare;
		e->spare = NULL;
	}
	return 0;
}

void
conns_end(struct MHD_Connection *con, struct req *r)
{
	struct conn *e = conn_of(con);

	if (e != NULL && e->fl_head != NULL) {
		/* Kept for the connection's first request only. */
		free(e->fl_head);
		e->fl_head = NULL;
	}
	if (e != NULL && e->spare == NULL)
		e->spare = r; /* for the connection's next request */
	else
		free(r);
}

/* A request's headers are in (in_request 1), or it ended (0): then the
 * connection is idle, and the last to have become so. */
void
conns_request(struct server *srv, struct MHD_Connection *c, int in_request)
{
	struct conn *e = conn_of(c);
	if (e == NULL)
		return;
	pthread_mutex_lock(&srv->conn_mu);
	e->in_request = in_request;
	e->since_us = now_us();
	if (!in_request) {
		e->busy = 0;
		conn_unlink(srv, e);
		conn_link(srv, e);
	}
	pthread_mutex_unlock(&srv->conn_mu);
}

/* A new connection on fd from sa, counted and admitted (conn_mu held). */
static struct conn *
conn_enter(struct server *srv, int fd, const struct sockaddr *sa)
{
	struct conn *e = xcalloc(1, sizeof(*e));

	e->fd = fd;
	e->since_us = now_us();
	e->peer = peer_get(srv, sa);
	conn_link(srv, e);
	srv->nlive++;
	if (e->peer != NULL)
		e->peer->live++;
	conn_admit(srv, e);
	return e;
}

/* A connection gone: no longer counted (conn_mu held); the caller frees e. */
static void
conn_leave(struct server *srv, struct conn *e)
{
	free(e->fl_head);
	e->fl_head = NULL;
	if (!e->cut) {
		srv->nlive--;
		if (e->peer != NULL)
			e->peer->live--;
	}
	conn_unlink(srv, e);
	peer_put(srv, e->peer);
}

/* The record of fd handed over by the fast lane, taken off srv->handing
 * (conn_mu held); NULL if none. */
static struct conn *
handing_take(struct server *srv, int fd)
{
	for (struct conn **p = &srv->handing; *p != NULL; p = &(*p)->hnext) {
		struct conn *e = *p;
		if (e->fd == fd) {
			*p = e->hnext;
			e->hnext = NULL;
			e->busy = e->in_request = 0;
			e->handed_us = 0;
			e->since_us = now_us(); /* its header deadline from here */
			return e;
		}
	}
	return NULL;
}

/* Records handed over that libmicrohttpd never started (it closed the
 * socket on an error of its own), after a while (conn_mu held). */
void
conns_handing_expire(struct server *srv, uint64_t now)
{
	struct conn **p = &srv->handing;
	while (*p != NULL) {
		struct conn *e = *p;
		if (now - e->handed_us > GG_HANDOFF_EXPIRE_US) {
			*p = e->hnext;
			conn_leave(srv, e);
			free(e);
		} else {
			p = &e->hnext;
		}
	}
}

void
conns_notify(void *cls, struct MHD_Connection *c, void **socket_context,
	     enum MHD_ConnectionNotificationCode toe)
{
	struct server *srv = cls;
	struct conn *e = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		const union MHD_ConnectionInfo *ai =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		int fd = ci != NULL ? ci->connect_fd : -1;
		pthread_mutex_lock(&srv->conn_mu);
		/* One the fast lane handed over keeps its record: counted
		 * and admitted once, with no moment uncounted in which
		 * another connection could take its place (server_handoff). */
		e = fd >= 0 ? handing_take(srv, fd) : NULL;
		if (e == NULL)
			e = conn_enter(srv, fd, ai != NULL ? ai->client_addr : NULL);
		pthread_mutex_unlock(&srv->conn_mu);
		*socket_context = e;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && e != NULL) {
		pthread_mutex_lock(&srv->conn_mu);
		conn_leave(srv, e);
		pthread_mutex_unlock(&srv->conn_mu);
		free(e->spare);
		free(e);
		*socket_context = NULL;
	}
}

/* --- answers given to the fast lane (http_give) ----------------------------- */

struct given {
	struct MHD_Response *resp; /* queued here if the fast lane declines */
	unsigned status;
	_Atomic int taken;
};

static void
given_free(void *ctx)
{
	struct given *g = ctx;
	if (g->resp != NULL)
		MHD_destroy_response(g->resp);
	free(g);
}

/* From a fast lane thread, once. */
static void
given_done(void *arg, int taken)
{
	struct req *r = arg;
	struct given *g = r->async_ctx;
	atomic_store(&g->taken, taken);
	/* Before the resume: however libmicrohttpd ends the request then,
	 * its stats and log line are the fast lane's. */
	if (taken)
		r->given = 1;
	http_async_end(r->srv, r);
}

static enum MHD_Result
given_finish(struct req *r)
{
	struct given *g = r->async_ctx;
	struct MHD_Response *resp = g->resp;

	if (atomic_load(&g->taken)) {
		/* Sent, or cut, by the fast lane: this side closes (its
		 * socket's other descriptor is the fast lane's, which shut the
		 * write side after the answer). */
		r->given = 1;
		r->answered = 1;
		return MHD_NO;
	}
	g->resp = NULL;
	return http_queue(r, g->status, resp);
}

int
http_give(struct req *r, unsigned status, struct MHD_Response *resp)
{
	struct server *srv = r->srv;
	struct conn *e = conn_of(r->conn);
	const union MHD_ConnectionInfo *ci, *ai;
	struct given *g;
	size_t tl;
	int fd, taken;

	if (srv->fl == NULL || e == NULL || e->fl_head == NULL || r->is_head ||
	    atomic_load(&srv->draining) || !fastlane_taking(srv->fl))
		return 0;
	/* The head kept is this request's (the connection's first): the
	 * same target, as a check. */
	tl = strlen(r->raw_uri);
	if (e->fl_head_len < 4 + tl + 1 || memcmp(e->fl_head, "GET ", 4) != 0 ||
	    memcmp(e->fl_head + 4, r->raw_uri, tl) != 0 || e->fl_head[4 + tl] != ' ')
		return 0;
	ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	ai = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ai == NULL || ai->client_addr == NULL)
		return 0;
	if ((fd = fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 0)) < 0)
		return 0;
	g = xcalloc(1, sizeof(*g));
	g->resp = resp;
	g->status = status;
	r->status = status;
	r->async_ctx = g;
	r->async_free = given_free;
	r->async_finish = given_finish;
	r->async_state = 1;
	/* Suspended first: the fast lane may be done at once. */
	MHD_suspend_connection(r->conn);
	pthread_mutex_lock(&srv->async_mu);
	srv->async_active++;
	pthread_mutex_unlock(&srv->async_mu);
	taken = fastlane_take(srv->fl, fd, ai->client_addr, e->fl_head, e->fl_head_len, r->t0_us,
			      r->source, given_done, r) == 0;
	free(e->fl_head);
	e->fl_head = NULL;
	if (!taken) {
		/* The fast lane stopped meanwhile: the answer is queued here. */
		close(fd);
		g->resp = NULL;
		given_free(g);
		r->async_ctx = NULL;
		r->async_free = NULL;
		r->async_finish = NULL;
		r->async_state = 0;
		/* Resumed before it stops counting, as http_async_end does. */
		pthread_mutex_lock(&srv->async_mu);
		MHD_resume_connection(r->conn);
		srv->async_active--;
		pthread_cond_broadcast(&srv->async_cv);
		pthread_mutex_unlock(&srv->async_mu);
	}
	return taken;
}

/* --- connections of the fast lane (fastlane.c) ------------------------------ */

struct conn *
server_conn_open(struct server *srv, int fd, const struct sockaddr *sa)
{
	struct conn *e;

	pthread_mutex_lock(&srv->conn_mu);
	if (srv->nlive >= srv->max_conns) {
		pthread_mutex_unlock(&srv->conn_mu);
		return NULL;
	}
	e = conn_enter(srv, fd, sa);
	pthread_mutex_unlock(&srv->conn_mu);
	return e;
}

int
server_conn_full(struct server *srv)
{
	int full;
	pthread_mutex_lock(&srv->conn_mu);
	full = srv->nlive >= srv->max_conns;
	pthread_mutex_unlock(&srv->conn_mu);
	return full;
}

void
server_conn_close(struct server *srv, struct conn *e)
{
	pthread_mutex_lock(&srv->conn_mu);
	conn_leave(srv, e);
	pthread_mutex_unlock(&srv->conn_mu);
	free(e);
}

void
server_conn_mark(struct server *srv, struct conn *e, int in_request)
{
	pthread_mutex_lock(&srv->conn_mu);
	e->in_request = in_request;
	e->since_us = now_us();
	if (!in_request) {
		conn_unlink(srv, e);
		conn_link(srv, e);
	}
	pthread_mutex_unlock(&srv->conn_mu);
}

void
server_handoff(struct server *srv, struct conn *e, int fd, const struct sockaddr *sa, unsigned len,
	       const char *head, size_t hlen)
{
	if (head != NULL && hlen > 0) {
		e->fl_head = xmalloc(hlen);
		memcpy(e->fl_head, head, hlen);
		e->fl_head_len = hlen;
	}
	pthread_mutex_lock(&srv->conn_mu);
	e->handed_us = e->since_us = now_us();
	e->hnext = srv->handing;
	srv->handing = e;
	pthread_mutex_unlock(&srv->conn_mu);
	/* libmicrohttpd closes fd whatever the outcome. */
	if (MHD_add_connection(srv->d, fd, sa, (socklen_t)len) != MHD_YES) {
		log_debug("a connection could not be given to libmicrohttpd: %s", strerror(errno));
		pthread_mutex_lock(&srv->conn_mu);
		e = handing_take(srv, fd);
		if (e != NULL) {
			conn_leave(srv, e);
			free(e);
		}
		pthread_mutex_unlock(&srv->conn_mu);
	}
}

void
server_request_count(struct server *srv, int delta)
{
	if (delta > 0)
		atomic_fetch_add(&srv->active, 1);
	else
		atomic_fetch_sub(&srv->active, 1);
}

int
server_is_draining(struct server *srv)
{
	return atomic_load(&srv->draining);
}

void *
conns_watchdog(void *arg)
{
	struct server *srv = arg;

	pthread_mutex_lock(&srv->conn_mu);
	while (!srv->watchdog_stop) {
		uint64_t now = now_us();
		unsigned cut = 0;
		struct timespec ts;

		conns_handing_expire(srv, now);
		for (struct conn *e = srv->conns; e != NULL; e = e->next) {
			if (e->in_request || e->cut || e->fd < 0 || e->handed_us != 0 ||
			    now - e->since_us <= srv->header_timeout_us)
				continue;
			conn_shut(srv, e);
			cut++;
		}
		if (cut > 0)
			log_debug("header deadline: %u connection(s) without a whole request shut",
				  cut);
		/* One line a second at most, however hard the flood. */
		if (srv->shed_full + srv->shed_peer > 0)
			log_info("shed %u idle connection(s) to make room: %u with more than %u "
				 "of the %u connections open, %u from an address over its limit "
				 "of %u",
				 srv->shed_full + srv->shed_peer, srv->shed_full, srv->high_water,
				 srv->max_conns, srv->shed_peer, srv->per_ip);
		if (srv->refused_peer > 0)
			log_info("refused %u connection(s) from an address at its limit of %u "
				 "with no idle connection to shed",
				 srv->refused_peer, srv->per_ip);
		srv->shed_full = srv->shed_peer = srv->refused_peer = 0;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1; /* the deadline is in whole seconds */
		pthread_cond_timedwait(&srv->conn_cv, &srv->conn_mu, &ts);
	}
	pthread_mutex_unlock(&srv->conn_mu);
	return NULL;
}

/* --- the listening socket ---------------------------------------------------- */

int
server_parse_listen(const char *s, struct server_config *cfg)
{
	const char *colon;
	uint64_t port;
	size_t hl;

	if (s == NULL || *s == '\0')
		return GG_EINVAL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':')
			return GG_EINVAL;
		hl = (size_t)(close - s - 1);
		if (hl == 0 || hl >= sizeof(cfg->host))
			return GG_EINVAL;
		memcpy(cfg->host, s + 1, hl);
		cfg->host[hl] = '\0';
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return GG_EINVAL;
		hl = (size_t)(colon - s);
		if (hl >= sizeof(cfg->host))
			return GG_EINVAL;
		memcpy(cfg->host, s, hl);
		cfg->host[hl] = '\0';
		if (hl == 0)
			memcpy(cfg->host, "0.0.0.0", 8);
	}
	if (parse_u64_str(colon + 1, 65535, &port) != GG_OK)
		return GG_EINVAL;
	cfg->port = (uint16_t)port;
	return GG_OK;
}

/*
 * The listening socket, non-blocking, bound to ss: SO_REUSEADDR and
 * SO_REUSEPORT as libmicrohttpd's MHD_OPTION_LISTENING_ADDRESS_REUSE set
 * them, an IPv6 address for IPv6 only.  -1 on failure (errno).
 */
int
conns_listen_socket(const struct sockaddr_storage *ss, socklen_t sl)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), on = 1;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0 ||
	    (ss->ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0) ||
	    bind(fd, (const struct sockaddr *)ss, sl) != 0 || listen(fd, SOMAXCONN) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}
