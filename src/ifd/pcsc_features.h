/*
 * openccid - SCardControl (IFDHControl) for PC/SC v2 part 10: the
 * feature list (CM_IOCTL_GET_FEATURE_REQUEST), PIN verify/modify on the
 * reader's keypad, PIN and TLV properties, and Escape when allowed.
 *
 * Layer L4. Every caller buffer is checked against the length the
 * caller gave: a PIN structure must be exactly its header plus
 * ulDataLength bytes, an answer that does not fit is
 * IFD_ERROR_INSUFFICIENT_BUFFER with nothing written.
 */
#ifndef OPENCCID_PCSC_FEATURES_H
#define OPENCCID_PCSC_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ifdhandler.h>

#include "reader/reader.h"

/* Windows-origin value of CM_IOCTL_GET_FEATURE_REQUEST (RDP, wrappers). */
#define FEATURES_GET_FEATURE_REQUEST_WIN 0x313520u
/* ifdDriverOptions bit: SCardControl may send Escape to the reader. */
#define FEATURES_OPT_ESCAPE 0x01u
/* Control code of feature f (the class 2 magic of part 10 readers). */
#define FEATURES_IOCTL(f)     SCARD_CTL_CODE(0x330000u + (f))
#define FEATURES_IOCTL_ESCAPE SCARD_CTL_CODE(1)

RESPONSECODE features_control(struct reader *r, unsigned slot, DWORD code,
    const uint8_t *tx, DWORD tx_len, uint8_t *rx, DWORD rx_len,
    DWORD *returned);

/*
 * Check a PIN_VERIFY (modify false) or PIN_MODIFY structure of exactly
 * len bytes and copy it to out (cap >= len) in host byte order: a caller
 * that sent ulDataLength (and so wPINMaxExtraDigit, wLangId) big-endian
 * is recognised by ulDataLength. OC_EINVAL/OC_ETRUNC when malformed.
 */
int features_check_pin(bool modify, const uint8_t *s, size_t len, uint8_t *out,
    size_t cap) __attribute__((warn_unused_result));

#endif
