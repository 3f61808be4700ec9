/*
 * openccid - the monotonic clock in milliseconds, for every deadline the
 * driver keeps (CLOCK_MONOTONIC: a wall-clock step must neither cut a
 * wait short nor stretch it).
 */
#ifndef OPENCCID_CLOCK_H
#define OPENCCID_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

uint64_t oc_clock_ms(void);

/*
 * A condition variable whose timed waits count on the same clock, so a
 * deadline taken from oc_clock_ms() can be waited for.
 */
void oc_clock_cond_init(pthread_cond_t *cond);

/* ms, a time on the oc_clock_ms() scale, as pthread_cond_timedwait()'s
 * absolute deadline for a condition made by oc_clock_cond_init(). */
struct timespec oc_clock_timespec(uint64_t ms);

#endif
