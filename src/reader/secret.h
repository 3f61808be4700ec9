/*
 * openccid - the secret policy applied to one exchange (L3).
 *
 * slot_transmit() brackets every command APDU with secret_begin() and
 * secret_end(), whatever the exchange level or transport: the APDU is
 * classified once (redact_classify(), the policy table in redact.c), and
 * for the whole exchange the COMM log and the trace recorder show only
 * the CCID headers of the messages to the slot (secret command data) or
 * from it (secret answer), unless OPENCCID_SHOW_SECRETS is set. At the
 * end the driver's message buffer is wiped (explicit_bzero), as is each
 * bulk-OUT copy as soon as it has gone out (ccid_io_send()).
 */
#ifndef OPENCCID_SECRET_H
#define OPENCCID_SECRET_H

#include <stddef.h>
#include <stdint.h>

#include "ccid/ccid_io.h"

struct secret_guard {
	unsigned hide;  /* REDACT_HIDE_* of the command */
	unsigned slot;
	int shown;      /* OPENCCID_SHOW_SECRETS: nothing hidden */
};

/* io: the reader's command state (r->io), its slot the exchange's. */
void secret_begin(struct ccid_io *io, unsigned slot, const uint8_t *apdu,
    size_t len, struct secret_guard *g);
void secret_end(struct ccid_io *io, struct secret_guard *g);

#endif
