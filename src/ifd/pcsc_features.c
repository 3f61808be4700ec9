/*
 * openccid - PC/SC v2 part 10 over IFDHControl (pcsc_features.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "ifd/pcsc_features.h"

#include <stddef.h>
#include <string.h>

/* pcsc-lite reader.h: FEATURE_*, the part 10 structures (packed). */
#include <PCSC/reader.h>

#include "ifd/ifd_err.h"
#include "ccid/ccid_cmd.h"
#include "codec/ccid_msg.h"
#include "ifd/drvconf.h"
#include "base/err.h"
#include "base/log.h"
#include "reader/pinpad.h"
#include "quirks/quirks.h"
#include "reader/slot.h"

#define VERIFY_HDR     offsetof(PIN_VERIFY_STRUCTURE, abData)
#define MODIFY_HDR     offsetof(PIN_MODIFY_STRUCTURE, abData)
#define PIN_MAX_STRUCT (MODIFY_HDR + SLOT_SHORT_APDU_MAX)
#define TLV_LEN        6 /* tag, length 4, value big-endian (part 10 2.2) */
#define MAX_FEATURES   8
#define MAX_PROPERTIES 64
/* bPINSupport, CCID rev 1.1 section 5.1 */
#define PIN_SUPPORT_VERIFY 0x01u
#define PIN_SUPPORT_MODIFY 0x02u
/* bEntryValidationCondition: max size, key, timeout (part 10 2.5.2) */
#define ENTRY_VALIDATION_ALL 0x07u

static bool
escape_allowed(void)
{
	return (drvconf_driver_options() & FEATURES_OPT_ESCAPE) != 0;
}

static RESPONSECODE
reply(uint8_t *rx, DWORD rx_len, DWORD *returned, const uint8_t *src, size_t n)
{
	if (rx == NULL || rx_len < n)
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	if (n > 0)
		memcpy(rx, src, n);
	*returned = (DWORD)n;
	return IFD_SUCCESS;
}

static size_t
put_tlv(uint8_t *out, uint8_t tag, uint32_t code)
{
	out[0] = tag;
	out[1] = 4;
	out[2] = (uint8_t)(code >> 24);
	out[3] = (uint8_t)(code >> 16);
	out[4] = (uint8_t)(code >> 8);
	out[5] = (uint8_t)code;
	return TLV_LEN;
}

static RESPONSECODE
feature_list(const struct reader *r, uint8_t *rx, DWORD rx_len, DWORD *returned)
{
	uint8_t out[MAX_FEATURES * TLV_LEN];
	uint8_t pin = r->info.desc.bPINSupport;
	size_t n = 0;

	if (pin & PIN_SUPPORT_VERIFY)
		n += put_tlv(out + n, FEATURE_VERIFY_PIN_DIRECT,
		    FEATURES_IOCTL(FEATURE_VERIFY_PIN_DIRECT));
	if (pin & PIN_SUPPORT_MODIFY)
		n += put_tlv(out + n, FEATURE_MODIFY_PIN_DIRECT,
		    FEATURES_IOCTL(FEATURE_MODIFY_PIN_DIRECT));
	if (pin & (PIN_SUPPORT_VERIFY | PIN_SUPPORT_MODIFY))
		n += put_tlv(out + n, FEATURE_IFD_PIN_PROPERTIES,
		    FEATURES_IOCTL(FEATURE_IFD_PIN_PROPERTIES));
	n += put_tlv(out + n, FEATURE_GET_TLV_PROPERTIES,
	    FEATURES_IOCTL(FEATURE_GET_TLV_PROPERTIES));
	if (escape_allowed())
		n += put_tlv(
		    out + n, FEATURE_CCID_ESC_COMMAND, FEATURES_IOCTL_ESCAPE);
	return reply(rx, rx_len, returned, out, n);
}

/* bMinPINSize/bMaxPINSize: quirks pin_min/pin_max, else 1..25. */
static void
pin_sizes(const struct reader *r, uint8_t *min, uint8_t *max)
{
	uint32_t v;

	*min = 1;
	*max = 25;
	if (quirks_get_u32(&r->qk.set, QUIRK_PIN_MIN, &v) && v <= 0xFF)
		*min = (uint8_t)v;
	if (quirks_get_u32(&r->qk.set, QUIRK_PIN_MAX, &v) && v <= 0xFF)
		*max = (uint8_t)v;
}

/* bEntryValidationCondition as the quirk key says, else all three. */
static uint8_t
entry_validation(const struct reader *r, enum quirk_key key)
{
	uint32_t v;

	if (quirks_get_u32(&r->qk.set, key, &v) && v <= ENTRY_VALIDATION_ALL)
		return (uint8_t)v;
	return ENTRY_VALIDATION_ALL;
}

static RESPONSECODE
pin_properties(
    const struct reader *r, uint8_t *rx, DWORD rx_len, DWORD *returned)
{
	uint16_t lcd = r->info.desc.wLcdLayout;
	uint8_t out[sizeof(PIN_PROPERTIES_STRUCTURE)];

	out[0] = (uint8_t)lcd;
	out[1] = (uint8_t)(lcd >> 8);
	out[2] = entry_validation(r, QUIRK_PIN_PROPERTIES_VALIDATION);
	out[3] = 0; /* bTimeOut2 */
	return reply(rx, rx_len, returned, out, sizeof(out));
}

static size_t
put_prop(uint8_t *out, uint8_t tag, uint32_t v, uint8_t len)
{
	out[0] = tag;
	out[1] = len;
	for (uint8_t i = 0; i < len; i++)
		out[2 + i] = (uint8_t)(v >> (8 * i)); /* little-endian */
	return 2u + len;
}

static RESPONSECODE
tlv_properties(
    const struct reader *r, uint8_t *rx, DWORD rx_len, DWORD *returned)
{
	const struct ccid_desc *d = &r->info.desc;
	uint8_t out[MAX_PROPERTIES];
	uint8_t min, max;
	uint32_t max_apdu;
	size_t n = 0;

	pin_sizes(r, &min, &max);
	n += put_prop(
	    out + n, PCSCv2_PART10_PROPERTY_wLcdLayout, d->wLcdLayout, 2);
	if (d->wLcdLayout != 0) {
		/* wLcdLayout: 0xLLCC, lines and characters a line. */
		n += put_prop(out + n, PCSCv2_PART10_PROPERTY_wLcdMaxCharacters,
		    d->wLcdLayout & 0xFFu, 2);
		n += put_prop(out + n, PCSCv2_PART10_PROPERTY_wLcdMaxLines,
		    d->wLcdLayout >> 8, 2);
	}
	n += put_prop(out + n, PCSCv2_PART10_PROPERTY_bEntryValidationCondition,
	    entry_validation(r, QUIRK_PIN_TLV_VALIDATION), 1);
	n += put_prop(out + n, PCSCv2_PART10_PROPERTY_bTimeOut2, 0, 1);
	n += put_prop(out + n, PCSCv2_PART10_PROPERTY_bMinPINSize, min, 1);
	n += put_prop(out + n, PCSCv2_PART10_PROPERTY_bMaxPINSize, max, 1);
	n += put_prop(out + n, PCSCv2_PART10_PROPERTY_bPPDUSupport, 0, 1);
	/* Extended APDUs pass at TPDU and extended APDU level. */
	max_apdu =
	    d->level == CCID_XCHG_TPDU || d->level == CCID_XCHG_EXTENDED_APDU
	        ? 0x10000u
	        : 0;
	n += put_prop(
	    out + n, PCSCv2_PART10_PROPERTY_dwMaxAPDUDataSize, max_apdu, 4);
	n +=
	    put_prop(out + n, PCSCv2_PART10_PROPERTY_wIdVendor, r->info.vid, 2);
	n += put_prop(
	    out + n, PCSCv2_PART10_PROPERTY_wIdProduct, r->info.pid, 2);
	return reply(rx, rx_len, returned, out, n);
}

static uint32_t
get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[0] << 24;
}

static void
swap16(uint8_t *p)
{
	uint8_t t = p[0];

	p[0] = p[1];
	p[1] = t;
}

int
features_check_pin(
    bool modify, const uint8_t *s, size_t len, uint8_t *out, size_t cap)
{
	size_t hdr = modify ? MODIFY_HDR : VERIFY_HDR, apdu;
	size_t o_ul = hdr - 4;
	size_t o_max = modify
	                   ? offsetof(PIN_MODIFY_STRUCTURE, wPINMaxExtraDigit)
	                   : offsetof(PIN_VERIFY_STRUCTURE, wPINMaxExtraDigit);
	size_t o_lang = modify ? offsetof(PIN_MODIFY_STRUCTURE, wLangId)
	                       : offsetof(PIN_VERIFY_STRUCTURE, wLangId);
	bool big;

	if (s == NULL || len < hdr)
		return OC_ETRUNC;
	if (len > cap || len > PIN_MAX_STRUCT)
		return OC_ERANGE;
	apdu = len - hdr;
	/* ulDataLength must name exactly the bytes that follow. */
	if (get_le32(s + o_ul) == apdu)
		big = false;
	else if (get_be32(s + o_ul) == apdu)
		big = true; /* middleware that sent network order */
	else
		return OC_EINVAL;
	/* CLA INS P1 P2 at least (ISO 7816-4 section 5.1). */
	if (apdu < 4)
		return OC_EINVAL;
	memcpy(out, s, len);
	if (big) {
		swap16(out + o_max);
		swap16(out + o_lang);
		out[o_ul] = (uint8_t)apdu;
		out[o_ul + 1] = (uint8_t)(apdu >> 8);
		out[o_ul + 2] = 0;
		out[o_ul + 3] = 0;
	}
	/* wPINMaxExtraDigit 0xXXYY: XX minimum, YY maximum digits. */
	if (out[o_max] != 0 && out[o_max + 1] > out[o_max])
		return OC_EINVAL;
	if (modify) {
		uint8_t nmsg =
		    out[offsetof(PIN_MODIFY_STRUCTURE, bNumberMessage)];

		if (nmsg > 3 && nmsg != 0xFF)
			return OC_EINVAL;
	} else {
		uint8_t nmsg =
		    out[offsetof(PIN_VERIFY_STRUCTURE, bNumberMessage)];

		if (nmsg > 1 && nmsg != 0xFF)
			return OC_EINVAL;
	}
	/*
	 * bEntryValidationCondition 0 or with undefined bits is passed on:
	 * the fix is quirk pinpad_validation_invalid_fix (pinpad.c).
	 */
	return OC_OK;
}

static RESPONSECODE
pin_operation(struct reader *r, unsigned slot, bool modify, const uint8_t *tx,
    DWORD tx_len, uint8_t *rx, DWORD rx_len, DWORD *returned)
{
	uint8_t s[PIN_MAX_STRUCT];
	size_t got = 0;
	int rc;

	rc = features_check_pin(modify, tx, tx_len, s, sizeof(s));
	if (rc != OC_OK) {
		OC_LOG_CRIT("PIN_%s_STRUCTURE of %lu bytes rejected",
		    modify ? "MODIFY" : "VERIFY", (unsigned long)tx_len);
		return IFD_COMMUNICATION_ERROR;
	}
	if (rx == NULL)
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	rc = pinpad_run(r, slot, modify, s, tx_len, rx, rx_len, &got);
	if (rc != OC_OK)
		return ifdh_map_err(rc, IFDH_OP_OTHER);
	*returned = (DWORD)got;
	return IFD_SUCCESS;
}

static RESPONSECODE
escape(struct reader *r, unsigned slot, const uint8_t *tx, DWORD tx_len,
    uint8_t *rx, DWORD rx_len, DWORD *returned)
{
	struct ccid_status st;
	size_t got = 0;
	int rc;

	if (!escape_allowed()) {
		OC_LOG_INFO(
		    "Escape refused: ifdDriverOptions bit 0x%02X not set",
		    FEATURES_OPT_ESCAPE);
		return IFD_COMMUNICATION_ERROR;
	}
	if ((tx == NULL && tx_len > 0) || tx_len > r->io.max_msg - CCID_HDR_LEN)
		return IFD_COMMUNICATION_ERROR;
	rc = ccid_run_escape(&r->io, (uint8_t)slot, tx, tx_len, rx,
	    rx == NULL ? 0 : rx_len, &got, &st);
	if (rc != OC_OK)
		return ifdh_map_err(rc, IFDH_OP_OTHER);
	/* Without a buffer the answer was read and dropped: it did not fit
	 * (never report more bytes than RxLength). */
	if (got > (rx == NULL ? 0 : rx_len))
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	*returned = (DWORD)got;
	return IFD_SUCCESS;
}

RESPONSECODE
features_control(struct reader *r, unsigned slot, DWORD code, const uint8_t *tx,
    DWORD tx_len, uint8_t *rx, DWORD rx_len, DWORD *returned)
{
	uint8_t pin = r->info.desc.bPINSupport;

	*returned = 0;
	if (code == CM_IOCTL_GET_FEATURE_REQUEST ||
	    code == FEATURES_GET_FEATURE_REQUEST_WIN)
		return feature_list(r, rx, rx_len, returned);
	if (code == FEATURES_IOCTL(FEATURE_GET_TLV_PROPERTIES))
		return tlv_properties(r, rx, rx_len, returned);
	if (code == FEATURES_IOCTL(FEATURE_IFD_PIN_PROPERTIES) &&
	    (pin & (PIN_SUPPORT_VERIFY | PIN_SUPPORT_MODIFY)))
		return pin_properties(r, rx, rx_len, returned);
	if (code == FEATURES_IOCTL(FEATURE_VERIFY_PIN_DIRECT) &&
	    (pin & PIN_SUPPORT_VERIFY))
		return pin_operation(
		    r, slot, false, tx, tx_len, rx, rx_len, returned);
	if (code == FEATURES_IOCTL(FEATURE_MODIFY_PIN_DIRECT) &&
	    (pin & PIN_SUPPORT_MODIFY))
		return pin_operation(
		    r, slot, true, tx, tx_len, rx, rx_len, returned);
	if (code == FEATURES_IOCTL_ESCAPE)
		return escape(r, slot, tx, tx_len, rx, rx_len, returned);
	return IFD_ERROR_NOT_SUPPORTED;
}
