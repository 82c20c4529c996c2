/*
 * log.h: the one logging module.
 *
 * Lines go to stderr as "2026-11-26T05:22:26Z ggufd[pid]: LEVEL message".
 * log_warn appends ": " and strerror(errno) as it was on entry; log_warnx
 * does not.  log_debug is a macro that tests the level before its
 * arguments are evaluated.  Secrets never reach a log line: callers pass
 * token *names*, never token values.
 *
 * Thread safety: every function may be called from any thread; lines are
 * written whole, under one mutex, so lines from threads never interleave.
 */
#ifndef GG_LOG_H
#define GG_LOG_H

#include <stdarg.h>
#include <stdatomic.h>

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Atomic: SIGHUP may change it while other threads log. */
extern _Atomic int log_current_level;

/* The level named "debug", "info", "warn" or "error" (any case), or -1. */
int log_level_from_name(const char *name);
/* The name of a level ("info"). */
const char *log_level_name(enum log_level level);
/* Sets the level; "debug", "info", "warn", "error".  Returns 0 or -1. */
int log_set_level_name(const char *name);
void log_set_level(enum log_level level);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * A status line on a terminal (a progress bar): drawn at once, kept at the
 * bottom while log lines go above it, ended (a newline) by log_status_end.
 * log_print writes a plain line (no time, no level) above it likewise.
 */
void log_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_status_end(void);
void log_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs and aborts: for out-of-memory and broken invariants only. */
void log_fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (atomic_load_explicit(&log_current_level, memory_order_relaxed) >=              \
		    LOG_LEVEL_DEBUG)                                                               \
			log_debug_(__VA_ARGS__);                                                   \
	} while (0)

#endif
