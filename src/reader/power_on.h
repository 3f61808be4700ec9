/*
 * openccid - PC_to_RDR_IccPowerOn with the voltage classes a reader
 * offers (CCID rev 1.1 sections 5.1 bVoltageSupport and 6.1.1), shared by
 * the slot logic and openccid-probe.
 */
#ifndef OPENCCID_POWER_ON_H
#define OPENCCID_POWER_ON_H

#include <stddef.h>
#include <stdint.h>

#include "ccid/ccid_cmd.h"
#include "codec/ccid_desc.h"

/*
 * The bPowerSelect values to try, in order, into sel[0..n): automatic
 * when the reader selects the voltage itself, else every class
 * bVoltageSupport lists, 5 V first.
 */
size_t power_on_order(const struct ccid_desc *d, uint8_t sel[3]);

/*
 * Power the card in slot, trying the classes of power_on_order() until
 * one answers with an ATR (a refused class is deactivated before the
 * next, ISO 7816-3 section 6.2.4); no card or no device ends at once.
 * The ATR goes to atr (cap bytes; OC_ENOSPC when longer).
 */
int power_on_any_voltage(struct ccid_io *io, uint8_t slot,
    const struct ccid_desc *d, uint8_t *atr, size_t cap, size_t *len)
    __attribute__((warn_unused_result));

#endif
