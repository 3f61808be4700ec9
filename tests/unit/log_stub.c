/*
 * openccid tests - pcscd's logging functions, captured (see log_stub.h).
 * Set LOG_STUB_VERBOSE=1 to also print every line on stderr.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "log_stub.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <debuglog.h>

#define STUB_LINES 512
#define STUB_LINE_LEN 1024

static char lines[STUB_LINES][STUB_LINE_LEN];
static size_t nlines;
/* Slots of one reader log from several threads (check_concurrency). */
static pthread_mutex_t lines_lock = PTHREAD_MUTEX_INITIALIZER;

void
log_stub_reset(void)
{
	pthread_mutex_lock(&lines_lock);
	nlines = 0;
	pthread_mutex_unlock(&lines_lock);
}

size_t
log_stub_count(void)
{
	size_t n;

	pthread_mutex_lock(&lines_lock);
	n = nlines;
	pthread_mutex_unlock(&lines_lock);
	return n;
}

bool
log_stub_contains(const char *needle)
{
	bool found = false;
	size_t i;

	pthread_mutex_lock(&lines_lock);
	for (i = 0; i < nlines && i < STUB_LINES && !found; i++)
		found = strstr(lines[i], needle) != NULL;
	pthread_mutex_unlock(&lines_lock);
	return found;
}

static void
keep(const char *line)
{
	if (getenv("LOG_STUB_VERBOSE") != NULL)
		fprintf(stderr, "log: %s\n", line);
	pthread_mutex_lock(&lines_lock);
	if (nlines < STUB_LINES)
		(void)snprintf(lines[nlines], STUB_LINE_LEN, "%s", line);
	nlines++;
	pthread_mutex_unlock(&lines_lock);
}

void
log_msg(const int priority, const char *fmt, ...)
{
	char line[STUB_LINE_LEN];
	va_list ap;

	(void)priority;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	keep(line);
}

void
log_xxd(const int priority, const char *msg, const unsigned char *buffer,
    const int size)
{
	char line[STUB_LINE_LEN];

	(void)priority, (void)buffer;
	(void)snprintf(line, sizeof(line), "%s <%d bytes>", msg, size);
	keep(line);
}
