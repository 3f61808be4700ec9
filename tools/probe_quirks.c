/*
 * openccid-probe - which matched quirk rows act on the device shown.
 *
 * quirks_lookup() merges every row whose match line fits the IDs, and the
 * generic rows ("match any") fit every reader. Several of them act only
 * under a condition the driver checks later (quirks/README.md marks them
 * "(generic, ICCD)" and the like): an ICCD key on a CCID reader, or the
 * dwMaxCCIDMessageLength fix on a reader reporting another length, does
 * nothing. Listing those among a reader's quirks sends whoever brings up
 * a reader after symptoms it cannot have; so they are judged here with
 * the same condition as the driver code cited at each case.
 */
#include "config.h"

#include "probe_quirks.h"

#include <stdio.h>
#include <string.h>

#include "quirks/discovery.h"
#include "quirks/quirks_describe.h"
#include "transport/usb.h"

#define ICCD_A_PROTOCOL 1 /* bInterfaceProtocol of ICCD version A */
#define ICCD_B_PROTOCOL 2 /* bInterfaceProtocol of ICCD version B */

static enum probe_quirk_use
use_if(bool cond)
{
	return cond ? PROBE_QUIRK_ACTS : PROBE_QUIRK_NEVER;
}

/* The level quirks_glue_apply_desc() leaves before its ICCD-B step. */
static enum ccid_level
level_before_iccd_b(const struct quirk_set *qs, const struct ccid_desc *d)
{
	enum ccid_level level = d->level;
	uint32_t v;

	if (quirks_get_u32(qs, QUIRK_FORCE_LEVEL, &v) &&
	    v <= QUIRK_LEVEL_EXTENDED_APDU)
		level = (enum ccid_level)v;
	if (level == CCID_XCHG_SHORT_APDU &&
	    quirks_flag(qs, QUIRK_SHORT_APDU_AS_EXTENDED))
		level = CCID_XCHG_EXTENDED_APDU;
	return level;
}

/* apply_msg_len() in quirks_glue.c: only a reported length of "from". */
static bool
msg_len_fix_acts(const struct quirk_set *qs, const struct usb_probe_iface *it)
{
	uint32_t from;

	return it->desc_ok &&
	       quirks_get_u32(qs, QUIRK_MSG_LEN_FIX_FROM, &from) &&
	       it->info.desc.dwMaxCCIDMessageLength == from;
}

/*
 * pinpad_apply_quirks() runs on PIN requests of a reader with a PIN pad
 * the driver uses (quirks_glue_apply_desc() clears bPINSupport for
 * pinpad_absent and pinpad_leaks_pin), and then only on a request the
 * application built with bEntryValidationCondition 0 or above 7; a
 * pinpad_validation_fix of the reader overwrites that condition anyway.
 */
static enum probe_quirk_use
invalid_fix_use(const struct quirk_set *qs, const struct usb_probe_iface *it)
{
	bool pinpad = it->desc_ok && it->info.desc.bPINSupport != 0 &&
	              !quirks_flag(qs, QUIRK_PINPAD_ABSENT) &&
	              !quirks_flag(qs, QUIRK_PINPAD_LEAKS_PIN);

	if (!pinpad || quirks_has(qs, QUIRK_PINPAD_VALIDATION_FIX))
		return PROBE_QUIRK_NEVER;
	return PROBE_QUIRK_AT_RUN_TIME;
}

enum probe_quirk_use
probe_quirk_use(const struct quirk_set *qs, enum quirk_key key,
    const struct usb_probe_iface *it)
{
	const struct usb_info *in = &it->info;
	bool iccd = in->bInterfaceProtocol == ICCD_A_PROTOCOL ||
	            in->bInterfaceProtocol == ICCD_B_PROTOCOL;

	switch (key) {
	case QUIRK_VENDOR_CLASS_ANY_LEN54: /* discovery_classify() */
		return use_if(it->bInterfaceClass == DISCOVERY_CLASS_VENDOR);
	case QUIRK_OPEN_DRAIN_INTERRUPT_MS: /* quirks_glue_settings() */
		return use_if(in->has_intr);
	case QUIRK_ICCD_OPEN_POWER_CYCLE:
	case QUIRK_ICCD_MAX_TRANSFER:
		return use_if(iccd);
	case QUIRK_ICCD_B_SHORT_AS_EXTENDED: /* quirks_glue_apply_desc() */
		return use_if(
		    in->bInterfaceProtocol == ICCD_B_PROTOCOL && it->desc_ok &&
		    level_before_iccd_b(qs, &in->desc) == CCID_XCHG_SHORT_APDU);
	case QUIRK_MSG_LEN_FIX_FROM:
	case QUIRK_MSG_LEN_FIX_TO:
		return use_if(msg_len_fix_acts(qs, it));
	case QUIRK_PINPAD_VALIDATION_INVALID_FIX:
		return invalid_fix_use(qs, it);
	default:
		return PROBE_QUIRK_ACTS;
	}
}

const char *
probe_quirk_condition(enum quirk_key key)
{
	switch (key) {
	case QUIRK_PINPAD_VALIDATION_INVALID_FIX:
		return "a PIN request whose bEntryValidationCondition is 0 or "
		       "above 7";
	default:
		return "a condition known only at run time";
	}
}

void
probe_quirks_split(const struct quirk_set *qs, const struct usb_probe_iface *it,
    struct quirk_set *acts, struct quirk_set *at_run_time)
{
	*acts = *qs;
	*at_run_time = *qs;
	for (unsigned k = 0; k < QUIRK_KEY_COUNT; k++) {
		enum probe_quirk_use use =
		    qs->present[k] ? probe_quirk_use(qs, (enum quirk_key)k, it)
		                   : PROBE_QUIRK_NEVER;

		acts->present[k] = use == PROBE_QUIRK_ACTS;
		at_run_time->present[k] = use == PROBE_QUIRK_AT_RUN_TIME;
	}
}

size_t
probe_describe_conditional(const struct quirk_set *qs, char *buf, size_t len)
{
	struct quirk_set one = *qs;
	char line[256];
	size_t off = 0, count = 0;

	if (len > 0)
		buf[0] = '\0';
	memset(one.present, 0, sizeof(one.present));
	for (unsigned k = 0; k < QUIRK_KEY_COUNT; k++) {
		int n;

		if (!qs->present[k])
			continue;
		one.present[k] = 1;
		(void)quirks_describe(&one, line, sizeof(line));
		one.present[k] = 0;
		line[strcspn(line, "\n")] = '\0';
		count++;
		if (off >= len)
			continue;
		n = snprintf(buf + off, len - off, "%s (only on %s)\n", line,
		    probe_quirk_condition((enum quirk_key)k));
		off = n < 0 || (size_t)n >= len - off ? len : off + (size_t)n;
	}
	return count;
}
