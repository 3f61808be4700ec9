/*
 * openccid - which USB interfaces are CCID (see discovery.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "quirks/discovery.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codec/ccid_desc.h"
#include "base/err.h"

#define DESC_PROTOCOLS_OFF 6 /* dwProtocols, CCID rev 1.1 table 5.1-1 */

static void say(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* Which run of extra bytes to search; false (and why) when none. */
static bool
pick_run(const uint8_t *if_extra, size_t if_len, const uint8_t *ep_extra,
    size_t ep_len, const struct usb_discovery *q, bool vendor,
    const uint8_t **run, size_t *run_len, bool *from_ep, char *why,
    size_t whylen)
{
	size_t off;

	if (if_extra != NULL && if_len > 0) {
		/* libccid D4: anything but one 54-byte descriptor is refused.
		 */
		if (q->desc_extra_len_strict && if_len != CCID_DESC_LEN) {
			say(why, whylen,
			    "%zu bytes follow the interface descriptor, not 0 "
			    "or %u (quirk desc_extra_len_strict)",
			    if_len, (unsigned)CCID_DESC_LEN);
			return false;
		}
		*run = if_extra;
		*run_len = if_len;
		*from_ep = false;
		return true;
	}
	if (ep_extra == NULL || ep_len == 0) {
		say(why, whylen, "no CCID class descriptor");
		return false;
	}
	if (!q->class_desc_after_endpoints) {
		/* libccid D2: say what would make it work. */
		if (ccid_desc_find(ep_extra, ep_len, vendor, &off) == OC_OK)
			say(why, whylen,
			    "the CCID class descriptor follows the endpoints "
			    "(needs the quirk class_desc_after_endpoints)");
		else
			say(why, whylen, "no CCID class descriptor");
		return false;
	}
	if (q->desc_extra_len_strict && ep_len != CCID_DESC_LEN) {
		say(why, whylen,
		    "%zu bytes follow the last endpoint, not %u (quirk "
		    "desc_extra_len_strict)",
		    ep_len, (unsigned)CCID_DESC_LEN);
		return false;
	}
	*run = ep_extra;
	*run_len = ep_len;
	*from_ep = true;
	return true;
}

int
discovery_classify(uint8_t bInterfaceClass, const uint8_t *if_extra,
    size_t if_len, const uint8_t *ep_extra, size_t ep_len,
    const struct usb_discovery *q, size_t *off, bool *from_ep, char *why,
    size_t whylen)
{
	bool vendor = bInterfaceClass == DISCOVERY_CLASS_VENDOR;
	const uint8_t *run = NULL;
	size_t run_len = 0, o;
	bool ep = false;

	if (q == NULL || off == NULL || from_ep == NULL)
		return OC_EINVAL;
	if (bInterfaceClass != DISCOVERY_CLASS_CCID && !vendor) {
		say(why, whylen, "class 0x%02X is not CCID", bInterfaceClass);
		return OC_ENODEV;
	}
	/* libccid D1: class 0xFF is CCID only for readers known to be. */
	if (vendor && !q->vendor_class_ccid && !q->vendor_class_any_len54) {
		say(why, whylen,
		    "class 0xFF (vendor) is not CCID without the quirk "
		    "vendor_class_ccid");
		return OC_ENODEV;
	}
	if (!pick_run(if_extra, if_len, ep_extra, ep_len, q, vendor, &run,
	        &run_len, &ep, why, whylen))
		return OC_ENODEV;
	if (ccid_desc_find(run, run_len, vendor, &o) != OC_OK) {
		say(why, whylen,
		    "no CCID class descriptor in the %zu bytes "
		    "after the %s",
		    run_len, ep ? "last endpoint" : "interface descriptor");
		return OC_ENODEV;
	}
	if (vendor && !q->vendor_class_ccid && run_len != CCID_DESC_LEN) {
		say(why, whylen,
		    "class 0xFF (vendor) with %zu extra bytes: the quirk "
		    "vendor_class_any_len54 wants exactly %u, "
		    "vendor_class_ccid would accept it",
		    run_len, (unsigned)CCID_DESC_LEN);
		return OC_ENODEV;
	}
	*off = o;
	*from_ep = ep;
	return OC_OK;
}

void
discovery_from_quirks(const struct quirk_set *qs, struct usb_discovery *out)
{
	out->vendor_class_ccid = quirks_flag(qs, QUIRK_VENDOR_CLASS_CCID);
	out->vendor_class_any_len54 =
	    quirks_flag(qs, QUIRK_VENDOR_CLASS_ANY_LEN54);
	out->class_desc_after_endpoints =
	    quirks_flag(qs, QUIRK_CLASS_DESC_AFTER_ENDPOINTS);
	out->desc_extra_len_strict =
	    quirks_flag(qs, QUIRK_DESC_EXTRA_LEN_STRICT);
	if (!quirks_get_u32(qs, QUIRK_DESC_PROTOCOLS, &out->desc_protocols))
		out->desc_protocols = 0;
}

size_t
discovery_fix_desc(const struct usb_discovery *q, const uint8_t *in,
    size_t len, uint8_t *out, size_t cap)
{
	size_t n = len < cap ? len : cap;
	uint32_t v = q != NULL ? q->desc_protocols : 0;

	if (in == NULL || out == NULL)
		return 0;
	if (n > 0 && in[0] < n)
		n = in[0]; /* the parser reads bLength bytes at most */
	memcpy(out, in, n);
	if (v != 0 && n >= DESC_PROTOCOLS_OFF + 4) {
		out[DESC_PROTOCOLS_OFF] = (uint8_t)v;
		out[DESC_PROTOCOLS_OFF + 1] = (uint8_t)(v >> 8);
		out[DESC_PROTOCOLS_OFF + 2] = (uint8_t)(v >> 16);
		out[DESC_PROTOCOLS_OFF + 3] = (uint8_t)(v >> 24);
	}
	return n;
}
