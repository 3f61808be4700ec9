/*
 * openccid - the monotonic clock in milliseconds, for every deadline the
 * driver keeps (CLOCK_MONOTONIC: a wall-clock step must neither cut a
 * wait short nor stretch it).
 */
#ifndef OPENCCID_CLOCK_H
#define OPENCCID_CLOCK_H

#include <stdint.h>

uint64_t oc_clock_ms(void);

#endif
