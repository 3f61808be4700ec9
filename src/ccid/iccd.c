/*
 * openccid - the ICCD exchange path (see iccd.h): attaching it to a
 * reader's io, and one command on the version the token speaks
 * (iccd_b.c, iccd_a.c).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "ccid/iccd.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "ccid/iccd_a.h"
#include "ccid/iccd_b.h"
#include "ccid/iccd_wire.h"
#include "codec/ccid_msg.h"
#include "codec/iccd_msg.h"
#include "base/err.h"
#include "base/log.h"

#define ICCD_MIN_XFER 3u /* a status answer */

int
iccd_attach(struct ccid_io *io, uint8_t version, size_t max_xfer,
    const char *name)
{
	struct iccd *d;

	if (version != ICCD_VERSION_A && version != ICCD_VERSION_B)
		return OC_EINVAL;
	if (max_xfer == 0)
		max_xfer = ICCD_MAX_TRANSFER;
	if (max_xfer < ICCD_MIN_XFER || max_xfer > UINT16_MAX)
		return OC_EINVAL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return OC_ENOMEM;
	if ((d->rx = malloc(CCID_HDR_LEN + max_xfer)) == NULL) {
		free(d);
		return OC_ENOMEM;
	}
	d->version = version;
	d->max_xfer = max_xfer;
	(void)snprintf(d->name, sizeof(d->name), "%s",
	    name != NULL ? name : "ICCD token");
	io->iccd = d;
	io->exchange = iccd_exchange;
	return OC_OK;
}

void
iccd_detach(struct ccid_io *io)
{
	if (io->iccd == NULL)
		return;
	free(io->iccd->rx);
	free(io->iccd);
	io->iccd = NULL;
	io->exchange = NULL;
}

/* The command as the bulk path would log it (same redaction). */
static void
dump_command(struct ccid_io *io, const struct ccid_cmd *c)
{
	size_t len;

	if ((oc_log_get_level() & OC_LOG_MASK_COMM) == 0)
		return;
	if (ccid_msg_encode(c, io->buf, io->max_msg, &len) == OC_OK)
		ccid_io_dump(io, io->quiet, "->", io->buf, len);
	else
		oc_log_unlogged(OC_LOG_MASK_COMM, "->", c->data_len);
}

/*
 * ICCD has no SetParameters: the token talks to its chip itself, at
 * whatever rate and protocol parameters they agreed (USB ICCD rev 1.0
 * section 1). The request is answered here, as a reader would that
 * negotiates parameters on its own, without I/O.
 */
static int
set_parameters(struct ccid_io *io, const struct ccid_cmd *c,
    struct ccid_reply *r)
{
	OC_LOG_INFO("%s: protocol parameters are the token's own (ICCD)",
	    io->iccd->name);
	iccd_reply(io, c, RDR_TO_PC_PARAMETERS, CCID_ICC_ACTIVE, 0, c->p[0],
	    0, r);
	return OC_OK;
}

int
iccd_exchange(struct ccid_io *io, struct ccid_cmd *c,
    const struct ccid_expect *q, struct ccid_reply *r)
{
	unsigned saved_cap = io->time_ext_cap_ms;
	int rc;

	if (atomic_load(&io->gone))
		return OC_ENODEV;
	io->quiet = q->quiet;
	c->seq = io->seq++;
	dump_command(io, c);
	if (q->ext_cap_ms != 0)
		io->time_ext_cap_ms = q->ext_cap_ms;
	if (c->type == PC_TO_RDR_SETPARAMETERS)
		rc = set_parameters(io, c, r);
	else
		rc = io->iccd->version == ICCD_VERSION_B
		    ? iccd_b_exchange(io, c, q->timeout_ms, r)
		    : iccd_a_exchange(io, c, q->timeout_ms, r);
	io->time_ext_cap_ms = saved_cap;
	if (rc == OC_ENOTSUP)
		OC_LOG_CRIT("%s: ICCD has no request for %s", io->iccd->name,
		    ccid_msg_type_name(c->type));
	return rc;
}
