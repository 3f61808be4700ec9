/*
 * openccid - monotonic milliseconds (see clock.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "base/clock.h"

uint64_t
oc_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void
oc_clock_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t ca;

	/* The default is CLOCK_REALTIME: a clock step would move deadlines. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &ca);
	pthread_condattr_destroy(&ca);
}

struct timespec
oc_clock_timespec(uint64_t ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000u);
	ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
	return ts;
}
