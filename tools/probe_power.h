/*
 * openccid-probe - the cards of a live reader powered with the driver's
 * own commands (probe_power.c), for "show --power".
 */
#ifndef OPENCCID_PROBE_POWER_H
#define OPENCCID_PROBE_POWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "card/atr.h"
#include "codec/ccid_desc.h"
#include "transport/transport.h"

/* One slot as "show --power" found it. */
struct probe_slot {
	int rc;                  /* of the status query or the power-on */
	bool present;            /* a card in the slot */
	uint8_t atr[ATR_MAX_LEN];
	size_t atr_len;
};

/*
 * Query every slot of an opened CCID interface (up to cap) and power the
 * cards present: out[0..*n). 0 or a negative OC_E*.
 */
int probe_power_slots(const struct transport *tr, const struct ccid_desc *d,
    struct probe_slot *out, unsigned cap, unsigned *n);

#endif
