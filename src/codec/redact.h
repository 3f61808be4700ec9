/*
 * openccid - what is secret in a command APDU, and hiding it before a
 * CCID message is logged or traced.
 *
 * One policy, by class (the table in redact.c, mirrored in README
 * "What logs and traces contain"): redact_classify() looks at a command
 * APDU as the application sent it and says which class it belongs to and
 * what must not be shown: its command data (and so every message of its
 * exchange, at any level: T=0 procedure-byte pieces, T=1 blocks and
 * chains, character-level pieces, CCID or extended-APDU chains) and/or
 * its answer data. src/reader/secret.c applies the verdict once per
 * exchange; the functions below on single CCID messages are a second,
 * stateless line of defence for messages seen outside an exchange.
 *  - PC_to_RDR_XfrBlock whose APDU (or T=1 I-block INF) header matches a
 *    row of the table: from its data field to the end (the T=1 EDC,
 *    computed over the secret, with it);
 *  - PC_to_RDR_Secure, PC_to_RDR_Escape: everything after the header.
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

enum redact_class {
	REDACT_CLEAR = 0, /* nothing known to be secret */
	REDACT_PIN,       /* reference data: PINs, PUKs, resetting codes */
	REDACT_KEY,       /* key material going to the card or the reader */
	REDACT_ANSWER,    /* the card's answer carries a secret */
	REDACT_SM,        /* secure messaging (CLA SM bits): opaque */
	REDACT_WRAPPED,   /* ENVELOPE or command chaining: content unknown */
	REDACT_MALFORMED, /* not a well-formed APDU: cannot be classified */
};

#define REDACT_HIDE_CMD 0x1u /* command data, every OUT message after */
#define REDACT_HIDE_ANS 0x2u /* answer data (the status word stays) */

struct redact_verdict {
	enum redact_class cls;
	unsigned hide;     /* REDACT_HIDE_* */
	size_t data_off;   /* the first hidden byte of the APDU (4, 5 or 7) */
	const char *what;  /* the policy row, for logs */
};

/*
 * Classify a command APDU (ISO 7816-4 section 5.1). Never fails: what
 * cannot be parsed is REDACT_MALFORMED with its bytes after the header
 * hidden.
 */
void redact_classify(const uint8_t *apdu, size_t len,
    struct redact_verdict *v);
const char *redact_class_name(enum redact_class cls);

/*
 * Copy msg into out (cap >= len required, else OC_ENOSPC) with secret
 * ranges zeroed. *range gets the single hidden range (len 0 when none).
 */
int redact_ccid_msg(const uint8_t *msg, size_t len, enum ccid_level level,
    uint8_t *out, size_t cap, struct redact_range *range);

/*
 * The range of a bare command APDU (as an IFDHTransmitToICC caller sends
 * it) whose command data redact_classify() hides: from data_off to the
 * end; len 0 when none. For traces.
 */
void redact_apdu(const uint8_t *apdu, size_t len, struct redact_range *range);

#endif
