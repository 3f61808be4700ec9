/*
 * openccid - which USB interfaces are CCID, and where their class
 * descriptor is (pure L1 codec: no libusb, no I/O).
 *
 * Real readers put the CCID class descriptor where the spec does not
 * (CCID rev 1.1 section 5.1 wants it right after the interface
 * descriptor) or use the vendor class 0xFF. What to accept is reader data
 * (quirks/descriptor.quirks), not code: src/transport/usb.c asks the quirk
 * table through struct usb_hooks and this module decides.
 */
#ifndef OPENCCID_DISCOVERY_H
#define OPENCCID_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quirks/quirks.h"

#define DISCOVERY_CLASS_CCID   0x0B /* CCID rev 1.1 section 4.2.1 */
#define DISCOVERY_CLASS_VENDOR 0xFF /* pre-standard readers */

/*
 * What the quirk data says about finding one interface's CCID class
 * descriptor (quirks/README.md, descriptor.quirks; libccid facts D1, D2,
 * D4). All false: only class 0x0B with the descriptor in the interface's
 * own extra bytes.
 */
struct usb_discovery {
	bool vendor_class_ccid;          /* class 0xFF carries a CCID desc */
	bool vendor_class_any_len54;     /* class 0xFF, extra exactly 54 */
	bool class_desc_after_endpoints; /* last endpoint's extra bytes */
	bool desc_extra_len_strict;      /* interface extra 0 or 54 bytes */
	uint32_t desc_protocols;         /* replaces dwProtocols; 0: none */
};

/*
 * Decide whether one interface is CCID, from its class and its extra
 * bytes (if_extra: after the interface descriptor; ep_extra: after its
 * last endpoint), as the quirks q say:
 *  - class 0x0B: yes; class 0xFF: only with vendor_class_ccid, or with
 *    vendor_class_any_len54 when the run holding the descriptor is
 *    exactly 54 bytes; any other class: no;
 *  - the descriptor is looked for in if_extra; with desc_extra_len_strict
 *    an if_extra of a length other than 0 or 54 is refused (libccid D4);
 *  - when if_extra is empty, ep_extra is used only with
 *    class_desc_after_endpoints (libccid D2).
 * On success *off and *from_ep say where the descriptor starts (from_ep: in
 * ep_extra). On failure why (if not NULL) gets a one-line reason naming
 * the quirk that would change the answer. Pure: used by usb_open() and
 * openccid-probe, unit-tested on its own.
 */
int discovery_classify(uint8_t bInterfaceClass, const uint8_t *if_extra,
    size_t if_len, const uint8_t *ep_extra, size_t ep_len,
    const struct usb_discovery *q, size_t *off, bool *from_ep, char *why,
    size_t whylen) __attribute__((warn_unused_result));

/* The discovery keys of a quirk lookup (absent: false, 0). */
void discovery_from_quirks(const struct quirk_set *qs, struct usb_discovery *out);

/*
 * The class descriptor at in[0..len) as the quirk desc_protocols corrects
 * it, copied to out (at most cap bytes, never more than the descriptor's
 * own bLength needs): dwProtocols (offset 6, CCID rev 1.1 table 5.1-1)
 * replaced before the descriptor is checked, for a pre-standard reader
 * whose field is misplaced. Returns the bytes copied. Pure.
 */
size_t discovery_fix_desc(const struct usb_discovery *q, const uint8_t *in,
    size_t len, uint8_t *out, size_t cap);

#endif
