/*
 * log.c: timestamped log lines on stderr.
 *
 * Each line is formatted into a stack buffer and written with a single
 * write(2), which keeps lines from different threads whole.  A line longer
 * than the buffer is cut and ends in "...".
 *
 * A status line (log_status: a progress bar on a terminal) stays at the
 * bottom: a log line first clears it ("\r" and erase-line), is written, and
 * the status is drawn again after it, all under one mutex, so no log line
 * ever starts in the middle of a bar.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

_Atomic int log_current_level = LOG_LEVEL_INFO;

#define LOG_LINE_MAX 2048

/* The status line (log_status), "" when none; under status_mu. */
static pthread_mutex_t status_mu = PTHREAD_MUTEX_INITIALIZER;
static char status[512];
static size_t status_len;

static void
write_all_err(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);
		if (w <= 0)
			return; /* a broken stderr is not worth a retry */
		p += w;
		n -= (size_t)w;
	}
}

/* Writes a whole line under the status line's lock, clearing and
 * redrawing the status around it. */
static void
emit_line(const char *line, size_t n)
{
	pthread_mutex_lock(&status_mu);
	if (status_len > 0)
		write_all_err("\r\033[K", 4);
	write_all_err(line, n);
	if (status_len > 0)
		write_all_err(status, status_len);
	pthread_mutex_unlock(&status_mu);
}

void
log_status(const char *fmt, ...)
{
	char buf[sizeof(status)];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + 1, sizeof(buf) - 5, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 6)
		n = (int)sizeof(buf) - 6;
	buf[0] = '\r';
	memcpy(buf + 1 + n, "\033[K", 3);
	pthread_mutex_lock(&status_mu);
	memcpy(status, buf, (size_t)n + 4);
	status_len = (size_t)n + 4;
	write_all_err(status, status_len);
	pthread_mutex_unlock(&status_mu);
}

void
log_status_end(void)
{
	pthread_mutex_lock(&status_mu);
	if (status_len > 0)
		write_all_err("\n", 1);
	status_len = 0;
	pthread_mutex_unlock(&status_mu);
}

void
log_print(const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	emit_line(line, (size_t)n);
}

static const char *const level_names[] = { "error", "warn", "info", "debug" };

int
log_level_from_name(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

const char *
log_level_name(enum log_level level)
{
	return (unsigned)level < 4 ? level_names[level] : "?";
}

int
log_set_level_name(const char *name)
{
	int l = log_level_from_name(name);
	if (l < 0)
		return -1;
	atomic_store_explicit(&log_current_level, l, memory_order_relaxed);
	return 0;
}

void
log_set_level(enum log_level level)
{
	atomic_store_explicit(&log_current_level, (int)level, memory_order_relaxed);
}

static void log_emit(const char *level, int errnum, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void
log_emit(const char *level, int errnum, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	struct timespec ts;
	struct tm tm;
	size_t n = 0;
	int r;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ", &tm);
	r = snprintf(line + n, sizeof(line) - n, " ggufd[%ld]: %s ", (long)getpid(), level);
	if (r > 0)
		n += (size_t)r;
	if (n < sizeof(line)) {
		r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		if (r > 0)
			n += (size_t)r;
	}
	if (errnum != 0 && n < sizeof(line)) {
		r = snprintf(line + n, sizeof(line) - n, ": %s", strerror(errnum));
		if (r > 0)
			n += (size_t)r;
	}
	if (n >= sizeof(line) - 1) {
		n = sizeof(line) - 1;
		memcpy(line + n - 3, "...", 3);
	}
	line[n++] = '\n';
	emit_line(line, n);
}

#define LOG_BODY(level, min, errnum)                                                               \
	do {                                                                                       \
		va_list ap;                                                                        \
		if (atomic_load_explicit(&log_current_level, memory_order_relaxed) < (min))        \
			return;                                                                    \
		va_start(ap, fmt);                                                                 \
		log_emit((level), (errnum), fmt, ap);                                              \
		va_end(ap);                                                                        \
	} while (0)

void
log_info(const char *fmt, ...)
{
	LOG_BODY("info", LOG_LEVEL_INFO, 0);
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	LOG_BODY("warn", LOG_LEVEL_WARN, saved);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY("warn", LOG_LEVEL_WARN, 0);
}

void
log_error(const char *fmt, ...)
{
	LOG_BODY("error", LOG_LEVEL_ERROR, 0);
}

void
log_debug_(const char *fmt, ...)
{
	LOG_BODY("debug", LOG_LEVEL_DEBUG, 0);
}

void
log_fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit("fatal", 0, fmt, ap);
	va_end(ap);
	abort();
}
