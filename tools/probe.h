/*
 * openccid-probe - shared between the decoders (probe.c) and the live
 * USB part (probe_live.c).
 */
#ifndef OPENCCID_PROBE_H
#define OPENCCID_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "card/atr.h"
#include "codec/ccid_desc.h"
#include "quirks/quirks.h"
#include "transport/transport.h"

struct usb_probe_iface;

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

/* Whether a matched quirk key acts on the device shown (probe_quirks.c). */
enum probe_quirk_use {
	PROBE_QUIRK_NEVER,       /* its condition excludes this device */
	PROBE_QUIRK_ACTS,        /* the driver uses it on this device */
	PROBE_QUIRK_AT_RUN_TIME, /* only when a run-time condition holds */
};

enum probe_quirk_use probe_quirk_use(const struct quirk_set *qs,
    enum quirk_key key, const struct usb_probe_iface *it);

/* The run-time condition of a PROBE_QUIRK_AT_RUN_TIME key, as text. */
const char *probe_quirk_condition(enum quirk_key key);

/*
 * The keys of qs that act on it (*acts) and those that act only at run
 * time (*at_run_time); keys that never act on it are in neither.
 */
void probe_quirks_split(const struct quirk_set *qs,
    const struct usb_probe_iface *it, struct quirk_set *acts,
    struct quirk_set *at_run_time);

/*
 * As quirks_describe(), each line followed by the key's run-time
 * condition. Returns the number of keys described.
 */
size_t probe_describe_conditional(
    const struct quirk_set *qs, char *buf, size_t len);

/* "list" (show false) and "show": argv after the subcommand. */
int probe_live(int argc, char **argv, bool show);

#endif
