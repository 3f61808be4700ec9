/*
 * openccid - protocol and parameters selection (ISO/IEC 7816-3:2006
 * section 9), choice of Fi/Di against the reader's abilities, and the
 * CCID SetParameters payloads (CCID rev 1.1 section 6.1.7) with the
 * waiting times they imply (7816-3 sections 10.2 and 11.4.3). Pure.
 */
#ifndef OPENCCID_PPS_H
#define OPENCCID_PPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "card/atr.h"

#define PPS_MAX_LEN        6  /* PPSS PPS0 PPS1 PPS2 PPS3 PCK */
#define PPS_MAX_RATES      64 /* data rates / clocks looked at */
#define PPS_T0_PARAMS_LEN  5
#define PPS_T1_PARAMS_LEN  7
#define PPS_TIMEOUT_MIN_MS 100u /* floor of every waiting time */

/* What the reader can do, from its class descriptor and requests. */
struct pps_reader {
	uint32_t dwDefaultClock; /* kHz */
	uint32_t dwMaximumClock; /* kHz, 0 = no bound */
	uint32_t dwMaxDataRate;  /* bps */
	const uint32_t *clocks;  /* GET_CLOCK_FREQUENCIES (kHz), may be NULL */
	size_t nclocks;
	const uint32_t *rates; /* GET_DATA_RATES (bps), may be NULL */
	size_t nrates;
};

struct pps_choice {
	uint8_t fi_index, di_index; /* TA1 coding */
	uint16_t Fi;
	uint8_t Di;
	uint32_t clock_khz;
	uint32_t baud;
	bool need_pps; /* differs from the default Fi = 372, Di = 1 */
};

/*
 * Fastest Fi/Di the card (TA1, fmax) and the reader both support,
 * baud = f * Di / Fi. In specific mode (TA2) the ATR's values are the
 * only ones, OC_ENOTSUP if the reader cannot run them.
 */
int pps_choose(const struct atr_info *atr, const struct pps_reader *rd,
    struct pps_choice *out) __attribute__((warn_unused_result));

/* Section 9.2: PPSS=FF, PPS0 = T (| PPS1 present), PPS1, PCK. */
int pps_build_request(unsigned protocol, bool has_pps1, uint8_t pps1,
    uint8_t *out, size_t cap, size_t *len) __attribute__((warn_unused_result));
/*
 * Section 9.3: check the card's answer against our request. *accepted
 * tells whether PPS1 was echoed (new Fi/Di in force) or left out
 * (default Fi/Di). OC_EPROTO on any other mismatch or a bad PCK.
 */
int pps_check_response(const uint8_t *req, size_t req_len, const uint8_t *resp,
    size_t resp_len, bool *accepted) __attribute__((warn_unused_result));

/* CCID rev 1.1 section 6.1.7, abProtocolDataStructure. */
int pps_ccid_params_t0(const struct atr_info *atr, uint8_t fidi,
    uint8_t out[PPS_T0_PARAMS_LEN]) __attribute__((warn_unused_result));
int pps_ccid_params_t1(const struct atr_info *atr, uint8_t fidi,
    uint8_t out[PPS_T1_PARAMS_LEN]) __attribute__((warn_unused_result));

struct pps_timeouts {
	uint32_t wwt_ms; /* T=0, section 10.2 */
	uint32_t bwt_ms; /* T=1, section 11.4.3 */
	uint32_t cwt_ms;
};

/* Waiting times in ms, rounded up, at least PPS_TIMEOUT_MIN_MS and at
 * most cap_ms (0: no cap). */
int pps_timeouts(const struct atr_info *atr, uint16_t Fi, uint8_t Di,
    uint32_t clock_khz, uint32_t cap_ms, struct pps_timeouts *out)
    __attribute__((warn_unused_result));

#endif
