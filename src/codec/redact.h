/*
 * openccid - hide secrets before a CCID message is logged.
 *
 * Pure function. Given a CCID bulk message (either direction) and the
 * exchange level, produce a copy for the log where every byte that may
 * carry a PIN is replaced by 0x00 and report the ranges hidden, so the
 * logger can print "<N bytes redacted>":
 *  - PC_to_RDR_XfrBlock carrying an ISO 7816-4 command with INS 0x20
 *    (VERIFY), 0x21 (VERIFY, odd), 0x24 (CHANGE REFERENCE DATA) or 0x2C
 *    (RESET RETRY COUNTER): the command data field; at TPDU level the
 *    APDU sits after the T=1 prologue when the first byte looks like an
 *    I-block, so both layouts are checked;
 *    the T=1 EDC, computed over the PIN, is hidden with it. At character
 *    level with T=0 the data is sent in a later XfrBlock after the
 *    procedure byte; a stateless redactor cannot see it, so the caller
 *    must not log that exchange in clear;
 *  - PC_to_RDR_Secure: everything after the header;
 *  - PC_to_RDR_Escape: everything after the header (vendor commands can
 *    carry anything).
 */
#ifndef OPENCCID_REDACT_H
#define OPENCCID_REDACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/ccid_desc.h"

struct redact_range {
	size_t off;
	size_t len;
};

/*
 * ISO 7816-4 INS codes whose command data may carry a PIN: VERIFY (20,
 * 21), CHANGE REFERENCE DATA (24), RESET RETRY COUNTER (2C).
 */
bool redact_is_pin_ins(uint8_t ins);

/*
 * Copy msg into out (cap >= len required, else OC_ENOSPC) with secret
 * ranges zeroed. *range gets the single hidden range (len 0 when none).
 */
int redact_ccid_msg(const uint8_t *msg, size_t len, enum ccid_level level,
    uint8_t *out, size_t cap, struct redact_range *range);

/*
 * The range of a bare command APDU (as an IFDHTransmitToICC caller sends
 * it) that may hold a PIN: the data field (and Le) of VERIFY, CHANGE
 * REFERENCE DATA and RESET RETRY COUNTER; len 0 when none. For traces.
 */
void redact_apdu(const uint8_t *apdu, size_t len, struct redact_range *range);

#endif
