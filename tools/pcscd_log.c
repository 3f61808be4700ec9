/*
 * openccid tools - pcscd's log functions on standard error.
 */
#include "config.h"

#include "pcscd_log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

#include <debuglog.h>

static atomic_bool verbose;

void
tool_log_verbose(bool on)
{
	atomic_store(&verbose, on);
}

void
log_msg(const int priority, const char *fmt, ...)
{
	va_list ap;

	(void)priority;
	if (!atomic_load(&verbose))
		return;
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
}

void
log_xxd(const int priority, const char *msg, const unsigned char *buffer,
    const int size)
{
	(void)priority, (void)buffer;
	if (atomic_load(&verbose))
		fprintf(stderr, "%s (%d bytes)\n", msg, size);
}
