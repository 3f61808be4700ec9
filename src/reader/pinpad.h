/*
 * openccid - PIN entry on the reader's keypad: PC_to_RDR_Secure (CCID
 * rev 1.1 section 6.1.11) built from a PC/SC part 10 PIN_VERIFY or
 * PIN_MODIFY structure that features.c has already validated.
 *
 * Layer L3. On TPDU-level readers running T=1 the APDU is framed with a
 * T=1 prologue carrying our N(S) (the reader computes LEN and the EDC)
 * and the card's answer block is unwrapped here. Reader errors of the
 * keypad are answered as part 10 status words: bError 0xF0 (timeout)
 * -> 64 00, 0xEF (cancelled) -> 64 01. The PIN never crosses USB from
 * the host: nothing here can log it.
 */
#ifndef OPENCCID_PINPAD_H
#define OPENCCID_PINPAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct reader;

/* bError of RDR_to_PC_DataBlock for a keypad timeout / cancel. */
#define PINPAD_ERR_TIMEOUT   0xF0u
#define PINPAD_ERR_CANCELLED 0xEFu
/* Lower bound of the read timeout while the user types (seconds). */
#define PINPAD_MIN_TIMEOUT_S 90u

/*
 * s/len: the whole structure in host order (PIN_VERIFY_STRUCTURE when
 * !modify, else PIN_MODIFY_STRUCTURE), its ulDataLength equal to the
 * APDU bytes that follow. The card's R-APDU (at least SW1 SW2) goes to
 * rx; OC_ENOSPC when it does not fit in cap.
 */
int pinpad_run(struct reader *r, unsigned slot, bool modify, const uint8_t *in,
    size_t len, uint8_t *rx, size_t cap, size_t *rx_len)
    __attribute__((warn_unused_result));

struct quirk_set;

/* What the reader's quirks ask for beyond the structure's own bytes. */
struct pinpad_fix {
	bool index_all;        /* Modify: bMsgIndex1..3 always in the frame */
	uint32_t delay_ms;     /* Verify: wait this long before sending */
	const uint8_t *escape; /* Verify: send this Escape first (or NULL) */
	size_t escape_len;
	bool mask_evc; /* AND validation with the firmware features */
};

/*
 * The PIN pad quirks (quirks/pinpad.quirks; libccid-facts.md section 2.6
 * K1-K11) applied to the host-order structure s of len bytes, in place:
 * bEntryValidationCondition (invalid -> fix, always -> fix), bNumberMessage
 * (Verify, Modify, Modify 0), wPINMaxExtraDigit swapped; what cannot be
 * said in the structure goes to fix. qs NULL: nothing.
 */
void pinpad_apply_quirks(const struct quirk_set *qs, bool modify, uint8_t *s,
    size_t len, struct pinpad_fix *fix);

/* Build abPINOperationDataStructure (exposed for the tests). */
int pinpad_build(bool modify, const uint8_t *s, size_t len, bool index_all,
    uint8_t nad, uint8_t pcb, uint8_t *out, size_t cap, size_t *out_len)
    __attribute__((warn_unused_result));

#endif
