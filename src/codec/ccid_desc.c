/*
 * openccid - CCID class descriptor codec (see ccid_desc.h).
 *
 * Field order and widths follow CCID rev 1.1 section 5.1, table 5.1-1;
 * all multi-byte fields are little-endian. The descriptor comes from the
 * device, so every count is checked or capped here, once, before the rest
 * of the driver sizes anything from it.
 */
#include "config.h"

#include "codec/ccid_desc.h"

#include <stdio.h>

#include "base/bytes.h"
#include "base/err.h"

/* Table 5.1-1 is 54 bytes; keep the reads below in step with it. */
_Static_assert(CCID_DESC_LEN == 54, "CCID rev 1.1 table 5.1-1 size");

static bool
type_ok(uint8_t type, bool allow_vendor_type)
{
	return type == CCID_DESC_TYPE ||
	    (allow_vendor_type && type == CCID_DESC_TYPE_VENDOR);
}

/* Read the fixed part of table 5.1-1; the cursor holds at least 54 bytes. */
static int
desc_read_fields(struct oc_cur *c, struct ccid_desc *d)
{
	int rc = 0;

	rc |= cur_get_u8(c, &d->bLength);
	rc |= cur_get_u8(c, &d->bDescriptorType);
	rc |= cur_get_le16(c, &d->bcdCCID);
	rc |= cur_get_u8(c, &d->bMaxSlotIndex);
	rc |= cur_get_u8(c, &d->bVoltageSupport);
	rc |= cur_get_le32(c, &d->dwProtocols);
	rc |= cur_get_le32(c, &d->dwDefaultClock);
	rc |= cur_get_le32(c, &d->dwMaximumClock);
	rc |= cur_get_u8(c, &d->bNumClockSupported);
	rc |= cur_get_le32(c, &d->dwDataRate);
	rc |= cur_get_le32(c, &d->dwMaxDataRate);
	rc |= cur_get_u8(c, &d->bNumDataRatesSupported);
	rc |= cur_get_le32(c, &d->dwMaxIFSD);
	rc |= cur_get_le32(c, &d->dwSynchProtocols);
	rc |= cur_get_le32(c, &d->dwMechanical);
	rc |= cur_get_le32(c, &d->dwFeatures);
	rc |= cur_get_le32(c, &d->dwMaxCCIDMessageLength);
	rc |= cur_get_u8(c, &d->bClassGetResponse);
	rc |= cur_get_u8(c, &d->bClassEnvelope);
	rc |= cur_get_le16(c, &d->wLcdLayout);
	rc |= cur_get_u8(c, &d->bPINSupport);
	rc |= cur_get_u8(c, &d->bMaxCCIDBusySlots);
	return rc != 0 ? OC_ETRUNC : OC_OK;
}

/* dwFeatures bits 16..18 name one exchange level; none means character. */
static int
desc_level(uint32_t features, enum ccid_level *level)
{
	switch (features & CCID_LEVEL_MASK) {
	case CCID_LEVEL_CHAR:
		*level = CCID_XCHG_CHARACTER;
		return OC_OK;
	case CCID_LEVEL_TPDU:
		*level = CCID_XCHG_TPDU;
		return OC_OK;
	case CCID_LEVEL_SHORT_APDU:
		*level = CCID_XCHG_SHORT_APDU;
		return OC_OK;
	case CCID_LEVEL_EXT_APDU:
		*level = CCID_XCHG_EXTENDED_APDU;
		return OC_OK;
	default:
		return OC_ERANGE;
	}
}

/* Refuse what the driver cannot work with. */
static int
desc_check(const struct ccid_desc *d, bool allow_vendor_type)
{
	if (!type_ok(d->bDescriptorType, allow_vendor_type))
		return OC_EINVAL;
	if ((unsigned)d->bMaxSlotIndex + 1 > CCID_MAX_SLOTS)
		return OC_ERANGE;
	/* Bit 0 is T=0, bit 1 is T=1 (table 5.1-1); the driver speaks no other. */
	if ((d->dwProtocols & 0x3u) == 0)
		return OC_ERANGE;
	if (d->dwMaxCCIDMessageLength < CCID_MIN_MSG_LEN)
		return OC_ERANGE;
	return OC_OK;
}

/* Cap what the driver can live with, and say so. */
static unsigned
desc_clamp(struct ccid_desc *d)
{
	unsigned nslots = (unsigned)d->bMaxSlotIndex + 1;
	unsigned w = 0;

	if (d->dwMaxCCIDMessageLength > CCID_MAX_MSG_LEN) {
		d->dwMaxCCIDMessageLength = CCID_MAX_MSG_LEN;
		w |= CCID_WARN_MSG_LEN_CLAMPED;
	}
	/* ISO 7816-3 11.4.2: IFSD is at most 254 (0xFE). */
	if (d->dwMaxIFSD > CCID_MAX_IFSD) {
		d->dwMaxIFSD = CCID_MAX_IFSD;
		w |= CCID_WARN_IFSD_CLAMPED;
	}
	if (d->bNumClockSupported > CCID_MAX_CLOCKS) {
		d->bNumClockSupported = CCID_MAX_CLOCKS;
		w |= CCID_WARN_CLOCKS_CLAMPED;
	}
	if (d->bNumDataRatesSupported > CCID_MAX_DATA_RATES) {
		d->bNumDataRatesSupported = CCID_MAX_DATA_RATES;
		w |= CCID_WARN_RATES_CLAMPED;
	}
	/* Zero busy slots would forbid any command; more than slots is moot. */
	if (d->bMaxCCIDBusySlots == 0) {
		d->bMaxCCIDBusySlots = 1;
		w |= CCID_WARN_BUSY_SLOTS_FIXED;
	} else if (d->bMaxCCIDBusySlots > nslots) {
		d->bMaxCCIDBusySlots = (uint8_t)nslots;
		w |= CCID_WARN_BUSY_SLOTS_FIXED;
	}
	/*
	 * Character level is spelt as "no level bit", which a descriptor that
	 * forgot the field looks like too: keep it, but let the log say so.
	 */
	if (d->level == CCID_XCHG_CHARACTER)
		w |= CCID_WARN_LEVEL_MISSING;
	return w;
}

int
ccid_desc_parse(const uint8_t *buf, size_t len, bool allow_vendor_type,
    struct ccid_desc *out, unsigned *warnings)
{
	struct ccid_desc d = {0};
	struct oc_cur c;
	uint8_t blen;
	unsigned w;
	int rc;

	if (buf == NULL || out == NULL)
		return OC_EINVAL;
	cur_init(&c, buf, len);
	if (cur_peek_u8(&c, &blen) != OC_OK)
		return OC_ETRUNC;
	if (blen < CCID_DESC_LEN)
		return OC_EINVAL;
	if (blen > len)
		return OC_ETRUNC;
	/* Only the descriptor's own bytes, however long the run behind it. */
	cur_init(&c, buf, blen);
	if ((rc = desc_read_fields(&c, &d)) != OC_OK)
		return rc;
	if ((rc = desc_check(&d, allow_vendor_type)) != OC_OK)
		return rc;
	if ((rc = desc_level(d.dwFeatures, &d.level)) != OC_OK)
		return rc;
	w = desc_clamp(&d);
	*out = d;
	if (warnings != NULL)
		*warnings = w;
	return OC_OK;
}

void
ccid_desc_explain(const uint8_t *buf, size_t len, bool allow_vendor_type,
    char *out, size_t cap)
{
	struct ccid_desc d = {0};
	struct oc_cur c;
	enum ccid_level level;
	uint8_t blen = 0;

	if (out == NULL || cap == 0)
		return;
	out[0] = '\0';
	cur_init(&c, buf, buf == NULL ? 0 : len);
	if (cur_peek_u8(&c, &blen) != OC_OK) {
		(void)snprintf(out, cap, "class descriptor empty");
		return;
	}
	if (blen < CCID_DESC_LEN) {
		(void)snprintf(out, cap,
		    "class descriptor truncated: bLength %u < %u", blen,
		    (unsigned)CCID_DESC_LEN);
		return;
	}
	if (blen > len) {
		(void)snprintf(out, cap,
		    "class descriptor truncated: bLength %u, %zu bytes present",
		    blen, len);
		return;
	}
	cur_init(&c, buf, blen);
	if (desc_read_fields(&c, &d) != OC_OK)
		(void)snprintf(out, cap, "class descriptor unreadable");
	else if (!type_ok(d.bDescriptorType, allow_vendor_type))
		(void)snprintf(out, cap, "bDescriptorType 0x%02X not CCID",
		    d.bDescriptorType);
	else if ((unsigned)d.bMaxSlotIndex + 1 > CCID_MAX_SLOTS)
		(void)snprintf(out, cap, "bMaxSlotIndex %u: more than %u slots",
		    d.bMaxSlotIndex, (unsigned)CCID_MAX_SLOTS);
	else if ((d.dwProtocols & 0x3u) == 0)
		(void)snprintf(out, cap,
		    "dwProtocols 0x%08X: neither T=0 nor T=1",
		    (unsigned)d.dwProtocols);
	else if (d.dwMaxCCIDMessageLength < CCID_MIN_MSG_LEN)
		(void)snprintf(out, cap, "dwMaxCCIDMessageLength %u < %u",
		    (unsigned)d.dwMaxCCIDMessageLength,
		    (unsigned)CCID_MIN_MSG_LEN);
	else if (desc_level(d.dwFeatures, &level) != OC_OK)
		(void)snprintf(out, cap,
		    "dwFeatures 0x%08X: more than one exchange level",
		    (unsigned)d.dwFeatures);
}

void
ccid_desc_warnings_text(unsigned w, char *out, size_t cap)
{
	static const struct {
		unsigned bit;
		const char *text;
	} names[] = {
	    {CCID_WARN_MSG_LEN_CLAMPED, "dwMaxCCIDMessageLength capped"},
	    {CCID_WARN_IFSD_CLAMPED, "dwMaxIFSD capped"},
	    {CCID_WARN_CLOCKS_CLAMPED, "bNumClockSupported capped"},
	    {CCID_WARN_RATES_CLAMPED, "bNumDataRatesSupported capped"},
	    {CCID_WARN_BUSY_SLOTS_FIXED, "bMaxCCIDBusySlots fixed"},
	    {CCID_WARN_LEVEL_MISSING, "no exchange level bit (character)"},
	};
	size_t i, n = 0;

	if (out == NULL || cap == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int k;

		if ((w & names[i].bit) == 0)
			continue;
		k = snprintf(out + n, cap - n, "%s%s", n ? ", " : "",
		    names[i].text);
		if (k < 0 || (size_t)k >= cap - n)
			return;
		n += (size_t)k;
	}
}

int
ccid_desc_find(const uint8_t *extra, size_t len, bool allow_vendor_type,
    size_t *off)
{
	struct oc_cur c;

	if (extra == NULL || off == NULL)
		return OC_EINVAL;
	cur_init(&c, extra, len);
	/* Each step consumes at least 2 bytes, so the walk ends. */
	while (cur_remaining(&c) > 0) {
		size_t start = len - cur_remaining(&c);
		uint8_t blen, type;

		if (cur_get_u8(&c, &blen) != OC_OK ||
		    cur_get_u8(&c, &type) != OC_OK)
			return OC_EINVAL;
		/* bLength counts itself and bDescriptorType (USB 2.0 9.5). */
		if (blen < 2 || cur_skip(&c, (size_t)blen - 2) != OC_OK)
			return OC_EINVAL;
		if (type_ok(type, allow_vendor_type)) {
			*off = start;
			return OC_OK;
		}
	}
	return OC_EINVAL;
}

const char *
ccid_level_name(enum ccid_level level)
{
	switch (level) {
	case CCID_XCHG_CHARACTER:
		return "character";
	case CCID_XCHG_TPDU:
		return "TPDU";
	case CCID_XCHG_SHORT_APDU:
		return "short APDU";
	case CCID_XCHG_EXTENDED_APDU:
		return "extended APDU";
	}
	return "unknown";
}
