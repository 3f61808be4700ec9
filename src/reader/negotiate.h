/*
 * openccid - protocol and parameter selection on TPDU-level readers.
 *
 * After a power-up (negotiate_power_up): the reader's clocks and data
 * rates from the class requests GET_CLOCK_FREQUENCIES (0x02) and
 * GET_DATA_RATES (0x03) of CCID rev 1.1 section 5.3. Real readers
 * answer with more or fewer entries than bNum...Supported declares,
 * zeros or huge values: the answer is bounded, filtered, and a failed
 * request only means "no list".
 *
 * When pcscd selects T=0 or T=1 (negotiate_protocol): Fi/Di chosen
 * against those (pps_choose), the PPS exchange of ISO/IEC 7816-3
 * section 9 as an XfrBlock unless the reader does it (dwFeatures 0x40,
 * 0x80) or the card is in specific mode (TA2), PC_to_RDR_SetParameters
 * (CCID section 6.1.7), and for T=1 the IFSD (S(IFS request), section
 * 11.4.2) unless the reader negotiates it (dwFeatures 0x400).
 * Callers hold the reader lock.
 */
#ifndef OPENCCID_NEGOTIATE_H
#define OPENCCID_NEGOTIATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "card/atr.h"

#define NEGOTIATE_CTRL_TIMEOUT_MS 1000
#define NEGOTIATE_PPS_TIMEOUT_MS  2000 /* initial waiting time is 9600 etu */

/* CCID rev 1.1 section 5.3 class requests */
#define CCID_REQ_GET_CLOCK_FREQUENCIES 0x02
#define CCID_REQ_GET_DATA_RATES        0x03

struct reader;

/* Read the reader's lists into the slot's tpdu state; only OC_ENODEV
 * (the device is gone) is an error. */
int negotiate_power_up(struct reader *r, unsigned slot)
    __attribute__((warn_unused_result));

/* Whether negotiate_protocol() may send a PPS. */
enum negotiate_pps {
	NEGOTIATE_PPS_IF_NEEDED, /* as the ATR, the reader and quirks say */
	NEGOTIATE_PPS_NEVER,     /* after a reset for a refused PPS: Fd/Dd */
};

/*
 * Select T=t (0 or 1) for the powered card. OC_ENOTSUP when the ATR
 * does not offer t (or TA2 imposes another), when t differs from the
 * protocol already negotiated since the power-up. OC_EPROTO with
 * *pps_refused set when the card answered the PPS wrongly or not at all
 * (ISO 7816-3 section 9.3): nothing is negotiated, and the card must be
 * reset before it is used; the caller (slot.c) decides. Never resets
 * the card itself. Selecting again the protocol in force does nothing.
 */
int negotiate_protocol(struct reader *r, unsigned slot, unsigned t,
    enum negotiate_pps pps, bool *pps_refused)
    __attribute__((warn_unused_result));

/* The protocol in force without a PPS: TA2's in specific mode, else the
 * first one offered (TD1). OC_ENOTSUP when that is neither T=0 nor T=1. */
int negotiate_default_protocol(const struct atr_info *atr, unsigned *t)
    __attribute__((warn_unused_result));

/*
 * Decode a clock or data rate list: little-endian dwords, a trailing
 * partial one ignored, zeros and values above max (0: no bound)
 * dropped, at most cap kept. Returns the count kept.
 */
size_t negotiate_parse_list(
    const uint8_t *buf, size_t len, uint32_t max, uint32_t *out, size_t cap);

#endif
