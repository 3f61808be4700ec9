/*
 * openccid - the bound of one wait at TPDU or character level (see
 * xfr_wait.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "reader/xfr_wait.h"

#include "reader/reader_state.h" /* TPDU_MAX_WAIT_MS, TPDU_WAIT_SLACK_MS */

#define ETU_PER_CHAR 12u /* ISO 7816-3 section 7.2: 10 etu + guard time */

unsigned
xfr_wait_ms(uint64_t base_ms, size_t bytes, uint32_t baud, unsigned max_ms)
{
	uint64_t ms = base_ms + TPDU_WAIT_SLACK_MS;
	uint64_t cap = max_ms != 0 ? max_ms : TPDU_MAX_WAIT_MS;

	/* A zero baud is never negotiated; count the ISO default then. */
	if (baud == 0)
		baud = 9600;
	ms += ((uint64_t)bytes * ETU_PER_CHAR * 1000u + baud - 1) / baud;
	return (unsigned)(ms > cap ? cap : ms);
}

