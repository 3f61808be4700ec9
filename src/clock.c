/*
 * openccid - monotonic milliseconds (see clock.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "clock.h"

#include <time.h>

uint64_t
oc_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
