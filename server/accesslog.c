/*
 * accesslog.c: the access log's file (see accesslog.h for the line).
 */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "accesslog.h"
#include "log.h"
#include "util.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char *path;
static int fd = -1;
static _Atomic int enabled; /* read on every request without mu */

static int
open_path(const char *p)
{
	int f;

	if (strcmp(p, "-") == 0)
		return dup(STDERR_FILENO);
	f = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (f < 0)
		log_warn("open(\"%s\") failed", p);
	return f;
}

int
accesslog_open(const char *p)
{
	int f = open_path(p);

	if (f < 0)
		return GG_EIO;
	pthread_mutex_lock(&mu);
	if (fd >= 0)
		close(fd);
	fd = f;
	free(path);
	path = xstrdup(p);
	atomic_store(&enabled, 1);
	pthread_mutex_unlock(&mu);
	return GG_OK;
}

int
accesslog_reopen(void)
{
	int r = GG_OK;
	char *p;

	pthread_mutex_lock(&mu);
	p = path ? xstrdup(path) : NULL;
	pthread_mutex_unlock(&mu);
	if (p != NULL)
		r = accesslog_open(p);
	free(p);
	return r;
}

void
accesslog_close(void)
{
	pthread_mutex_lock(&mu);
	atomic_store(&enabled, 0);
	if (fd >= 0)
		close(fd);
	fd = -1;
	free(path);
	path = NULL;
	pthread_mutex_unlock(&mu);
}

int
accesslog_enabled(void)
{
	return atomic_load(&enabled);
}

void
accesslog_write(const char *line, size_t len)
{
	struct iovec v[2] = { { (void *)line, len }, { (void *)"\n", 1 } };

	pthread_mutex_lock(&mu);
	/* A short or failed write loses a log line, never a request. */
	if (fd >= 0 && writev(fd, v, 2) < 0)
		(void)0;
	pthread_mutex_unlock(&mu);
}
