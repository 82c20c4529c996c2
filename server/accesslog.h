/*
 * accesslog.h: one line per request (accesslog.c).
 *
 *   2026-11-28T18:00:00Z 127.0.0.1 GET /ruv/ruvltra/resolve/main/x.gguf 206 1048576 0.004 hit
 * req-17 time, client, method, path (no query: signed upload URLs carry capabilities there),
 * status, body bytes of a file response ("-" otherwise), seconds, source (hit, miss, coalesced,
 * "-"), request id (the client's X-Request-Id when it is printable, else ggufd's own).
 *
 * Thread safety: any thread may write a line; each line is one write(2)
 * to a file opened O_APPEND.  accesslog_reopen (SIGHUP) swaps the file
 * under a lock, for logrotate.
 */
#ifndef GG_ACCESSLOG_H
#define GG_ACCESSLOG_H

#include <stddef.h>

/* Starts logging to path ("-" for stderr).  0 or GG_EIO. */
int accesslog_open(const char *path);
/* Reopens the same path (a rotated file is let go).  0 or GG_EIO. */
int accesslog_reopen(void);
void accesslog_close(void);
/* 1 when a log is open. */
int accesslog_enabled(void);
/* Writes one line (a newline is added). */
void accesslog_write(const char *line, size_t len);

#endif
