/*
 * openccid-probe - which matched quirk rows act on the device shown
 * (probe_quirks.c).
 */
#ifndef OPENCCID_PROBE_QUIRKS_H
#define OPENCCID_PROBE_QUIRKS_H

#include <stddef.h>

#include "quirks/quirks.h"

struct usb_probe_iface;

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

#endif
