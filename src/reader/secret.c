/*
 * openccid - the secret policy applied to one exchange (see secret.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "reader/secret.h"

#include <stdbool.h>

#include "base/log.h"
#include "codec/redact.h"
#include "transport/trace_rec.h"

void
secret_begin(struct ccid_io *io, unsigned slot, const uint8_t *apdu,
    size_t len, struct secret_guard *g)
{
	struct redact_verdict v;

	redact_classify(apdu, len, &v);
	g->hide = v.hide;
	g->slot = slot;
	g->shown = 0;
	if (g->hide == 0)
		return;
	OC_LOG_COMM("slot %u: %s (%s): %s%s hidden", slot, v.what,
	    redact_class_name(v.cls),
	    (g->hide & REDACT_HIDE_CMD) != 0 ? "command data" : "",
	    g->hide == (REDACT_HIDE_CMD | REDACT_HIDE_ANS) ? " and answer"
	    : (g->hide & REDACT_HIDE_ANS) != 0 ? "answer data" : "");
	if (oc_log_show_secrets()) {
		g->shown = 1;
		return;
	}
	ccid_io_hide_out_payload(io, (uint8_t)slot,
	    (g->hide & REDACT_HIDE_CMD) != 0);
	ccid_io_hide_in_payload(io, (uint8_t)slot,
	    (g->hide & REDACT_HIDE_ANS) != 0);
	trace_rec_hide(trace_rec_of(&io->tr),
	    (g->hide & REDACT_HIDE_CMD) != 0, (g->hide & REDACT_HIDE_ANS) != 0,
	    +1);
}

void
secret_end(struct ccid_io *io, struct secret_guard *g)
{
	if (g->hide == 0)
		return;
	/* The last command or answer of the exchange may still be there. */
	ccid_io_wipe(io);
	if (g->shown)
		return;
	ccid_io_hide_out_payload(io, (uint8_t)g->slot, false);
	ccid_io_hide_in_payload(io, (uint8_t)g->slot, false);
	trace_rec_hide(trace_rec_of(&io->tr),
	    (g->hide & REDACT_HIDE_CMD) != 0, (g->hide & REDACT_HIDE_ANS) != 0,
	    -1);
}
