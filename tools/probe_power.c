/*
 * openccid-probe show --power: each slot's card powered through the
 * driver's own command code (src/ccid/ccid_cmd.c, src/reader/power_on.c),
 * its ATR kept for the decode, then powered off again.
 */
#include "config.h"

#include "probe_power.h"

#include <stdlib.h>
#include <string.h>

#include "ccid/ccid_cmd.h"
#include "codec/ccid_msg.h"
#include "base/err.h"
#include "reader/power_on.h"

/* Section 6.2.6 bmICCStatus */
#define ICC_STATUS(b) ((b) & 0x03u)
#define ICC_ABSENT 2u

static void
power_one(struct ccid_io *io, const struct ccid_desc *d, uint8_t slot,
    struct probe_slot *ps)
{
	struct ccid_status st;
	int rc;

	ps->rc = ccid_run_slot_status(io, slot, &st);
	if (ps->rc != OC_OK)
		return;
	ps->present = ICC_STATUS(st.bStatus) != ICC_ABSENT;
	if (!ps->present)
		return;
	ps->rc = power_on_any_voltage(io, slot, d, ps->atr, sizeof(ps->atr),
	    &ps->atr_len);
	rc = ccid_run_power_off(io, slot, &st);
	if (ps->rc == OC_OK && rc != OC_OK)
		ps->rc = rc;
}

int
probe_power_slots(const struct transport *tr, const struct ccid_desc *d,
    struct probe_slot *out, unsigned cap, unsigned *n)
{
	size_t max_msg = d->dwMaxCCIDMessageLength;
	unsigned nslots = (unsigned)d->bMaxSlotIndex + 1;
	struct ccid_io io;
	uint8_t *buf;

	/* ccid_desc_parse() capped both; the CCID header must fit. */
	if (max_msg < CCID_HDR_LEN || nslots > CCID_MAX_SLOTS)
		return OC_EINVAL;
	if ((buf = malloc(max_msg)) == NULL)
		return OC_ENOMEM;
	ccid_io_init(&io, tr, max_msg, d->level, buf);
	if (nslots > cap)
		nslots = cap;
	for (unsigned i = 0; i < nslots; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		power_one(&io, d, (uint8_t)i, &out[i]);
	}
	*n = nslots;
	ccid_io_fini(&io);
	free(buf);
	return OC_OK;
}
