/*
 * openccid-probe - shared between the decoders (probe.c) and the live
 * USB part (probe_live.c).
 */
#ifndef OPENCCID_PROBE_H
#define OPENCCID_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "atr.h"
#include "ccid_desc.h"
#include "transport.h"

/* One slot as "show --power" found it. */
struct probe_slot {
	int rc;                  /* of the status query or the power-on */
	bool present;            /* a card in the slot */
	uint8_t atr[ATR_MAX_LEN];
	size_t atr_len;
};

/* The text decode of a class descriptor (as "openccid-probe desc"). */
void probe_print_desc(const struct ccid_desc *d, unsigned warnings);

/* The decode of an ATR's bytes, each line after prefix. */
void probe_print_atr(const uint8_t *atr, size_t len, const char *prefix);

/*
 * Query every slot of an opened CCID interface (up to cap) and power the
 * cards present: out[0..*n). 0 or a negative OC_E*.
 */
int probe_power_slots(const struct transport *tr, const struct ccid_desc *d,
    struct probe_slot *out, unsigned cap, unsigned *n);

/* "list" (show false) and "show": argv after the subcommand. */
int probe_live(int argc, char **argv, bool show);

#endif
