/*
 * httpint.h: the HTTP core's insides, shared by http.c (the daemon and the
 * request lifecycle) and conns.c (connections: records, admission,
 * shedding, the header deadline, hand-offs).  Nothing else includes it.
 */
#ifndef GG_HTTPINT_H
#define GG_HTTPINT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "http.h"

struct conn;
struct peer;

struct server {
	struct MHD_Daemon *d;
	char bound[128];
	char *public_url;
	const struct route_entry *routes; /* indexed by kind */
	size_t nroutes;
	struct app *app;
	pthread_mutex_t async_mu;
	pthread_cond_t async_cv;
	unsigned async_active;   /* http_run_async threads still running */
	_Atomic unsigned active; /* requests in progress (server_active) */
	_Atomic int draining;    /* server_quiesce was called */
	int quiesced_fd;         /* the listening socket after quiesce, or -1 */
	int lfd;                 /* the listening socket, while the fast lane has it */
	struct fastlane *fl;     /* the fast lane (fastlane.h), or NULL */
	/* Open connections, for the header deadline and the shedding of idle
	 * connections (conns.c); all under conn_mu. */
	pthread_mutex_t conn_mu;
	pthread_cond_t conn_cv;
	struct conn *conns, *conns_tail; /* idle ones: longest idle first */
	struct conn *handing;            /* on their way to libmicrohttpd */
	struct peer **peers;             /* client addresses, hashed */
	size_t npeers;                   /* buckets: a power of two */
	uint32_t peer_seed;
	unsigned max_conns;  /* libmicrohttpd's connection limit */
	unsigned nlive;      /* open connections not shut down */
	unsigned high_water; /* more live than this: the longest idle is shed */
	unsigned per_ip;     /* connections from one address; 0: no limit */
	unsigned shed_full, shed_peer, refused_peer; /* since the last log line */
	uint64_t header_timeout_us;
	pthread_t watchdog;
	int watchdog_started, watchdog_stop;
};

/* --- http.c, for conns.c ---------------------------------------------------- */

/* The end of r's work off its thread (http_run_async, http_give): its
 * connection goes on (access_cb calls async_finish). */
void http_async_end(struct server *srv, struct req *r);

/* --- conns.c, for http.c ---------------------------------------------------- */

/* libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION (cls: the server): a
 * connection's record made (or taken over from the fast lane), then freed. */
void conns_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		  enum MHD_ConnectionNotificationCode toe);
/* A request line came on con (uri_log_cb): 1 if the connection was shut
 * meanwhile (no request for it); else 0, and *spare is the struct req its
 * last request left (or NULL). */
int conns_begin(struct server *srv, struct MHD_Connection *con, struct req **spare);
/* A request's headers are in (in_request 1), or it ended (0). */
void conns_request(struct server *srv, struct MHD_Connection *c, int in_request);
/* r's request ended (completed_cb): r is kept for the connection's next
 * request, or freed. */
void conns_end(struct MHD_Connection *con, struct req *r);
/* Forgets records handed over before now - GG_HANDOFF_EXPIRE_US that
 * libmicrohttpd never started (conn_mu held). */
void conns_handing_expire(struct server *srv, uint64_t now);
/* The header deadline's thread (arg: the server), until watchdog_stop. */
void *conns_watchdog(void *arg);
/* The listening socket, non-blocking, bound to ss (SO_REUSEADDR and
 * SO_REUSEPORT, an IPv6 address for IPv6 only).  -1 on failure (errno). */
struct sockaddr_storage;
int conns_listen_socket(const struct sockaddr_storage *ss, socklen_t sl);

#endif
