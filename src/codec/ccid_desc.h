/*
 * openccid - CCID class descriptor (CCID rev 1.1 section 5.1, table 5.1-1).
 *
 * Pure codec: finds the class descriptor by walking descriptor TLVs
 * (bLength, bDescriptorType, ...) instead of trusting its position, checks
 * every field and caps every count before anything uses it.
 */
#ifndef OPENCCID_CCID_DESC_H
#define OPENCCID_CCID_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CCID_DESC_TYPE 0x21        /* CCID class descriptor type */
#define CCID_DESC_TYPE_VENDOR 0xFF /* some pre-standard readers */
#define CCID_DESC_LEN 54

/* Caps applied to device-supplied counts (see ccid_desc_parse()). */
#define CCID_MAX_SLOTS 16          /* bMaxSlotIndex + 1 accepted */
#define CCID_MAX_CLOCKS 64         /* bNumClockSupported */
#define CCID_MAX_DATA_RATES 64     /* bNumDataRatesSupported */
#define CCID_MIN_MSG_LEN 64        /* smallest usable dwMaxCCIDMessageLength */
#define CCID_MAX_MSG_LEN 65554     /* 10-byte header + 65544 extended APDU */
#define CCID_MAX_IFSD 254

/* dwFeatures exchange level (bits 16..18) */
#define CCID_LEVEL_MASK 0x00070000u
#define CCID_LEVEL_CHAR 0x00000000u
#define CCID_LEVEL_TPDU 0x00010000u
#define CCID_LEVEL_SHORT_APDU 0x00020000u
#define CCID_LEVEL_EXT_APDU 0x00040000u

/* dwFeatures bits (CCID rev 1.1 table 5.1-1) */
#define CCID_FEAT_AUTO_PARAM_ATR 0x00000002u
#define CCID_FEAT_AUTO_ACTIVATE 0x00000004u
#define CCID_FEAT_AUTO_VOLTAGE 0x00000008u
#define CCID_FEAT_AUTO_CLOCK 0x00000010u
#define CCID_FEAT_AUTO_BAUD 0x00000020u
#define CCID_FEAT_AUTO_PARAM_NEG 0x00000040u
#define CCID_FEAT_AUTO_PPS 0x00000080u
#define CCID_FEAT_ICCSTOP 0x00000100u
#define CCID_FEAT_NAD_OTHER 0x00000200u
#define CCID_FEAT_AUTO_IFSD 0x00000400u

enum ccid_level {
	CCID_XCHG_CHARACTER,
	CCID_XCHG_TPDU,
	CCID_XCHG_SHORT_APDU,
	CCID_XCHG_EXTENDED_APDU,
};

struct ccid_desc {
	uint8_t bLength;
	uint8_t bDescriptorType;
	uint16_t bcdCCID;
	uint8_t bMaxSlotIndex;
	uint8_t bVoltageSupport;
	uint32_t dwProtocols;
	uint32_t dwDefaultClock;
	uint32_t dwMaximumClock;
	uint8_t bNumClockSupported;
	uint32_t dwDataRate;
	uint32_t dwMaxDataRate;
	uint8_t bNumDataRatesSupported;
	uint32_t dwMaxIFSD;
	uint32_t dwSynchProtocols;
	uint32_t dwMechanical;
	uint32_t dwFeatures;
	uint32_t dwMaxCCIDMessageLength;
	uint8_t bClassGetResponse;
	uint8_t bClassEnvelope;
	uint16_t wLcdLayout;
	uint8_t bPINSupport;
	uint8_t bMaxCCIDBusySlots;
	enum ccid_level level; /* derived from dwFeatures */
};

/*
 * Decode one class descriptor starting at buf (bLength first).
 * Rejects (OC_EINVAL/OC_ETRUNC/OC_ERANGE): bLength < 54 or > len, a type
 * other than 0x21 (0xFF only with allow_vendor_type), bMaxSlotIndex+1 >
 * CCID_MAX_SLOTS, no protocol in dwProtocols, an exchange level with more
 * than one bit, dwMaxCCIDMessageLength < CCID_MIN_MSG_LEN. Values above
 * the caps that the driver can live with are clamped in the output and
 * reported through *warnings (bitmask CCID_WARN_*), never silently.
 */
#define CCID_WARN_MSG_LEN_CLAMPED 0x01u
#define CCID_WARN_IFSD_CLAMPED 0x02u
#define CCID_WARN_CLOCKS_CLAMPED 0x04u
#define CCID_WARN_RATES_CLAMPED 0x08u
#define CCID_WARN_BUSY_SLOTS_FIXED 0x10u
#define CCID_WARN_LEVEL_MISSING 0x20u

int ccid_desc_parse(const uint8_t *buf, size_t len, bool allow_vendor_type,
    struct ccid_desc *out, unsigned *warnings);

/*
 * Why ccid_desc_parse() refuses buf, as one log line naming the field
 * ("bMaxSlotIndex 255: more than 16 slots"); "" if it does not. Device
 * faults must be named in the log, not just "no CCID interface".
 */
void ccid_desc_explain(const uint8_t *buf, size_t len, bool allow_vendor_type,
    char *out, size_t cap);

/* The CCID_WARN_* bits of w as words ("dwMaxCCIDMessageLength capped"). */
void ccid_desc_warnings_text(unsigned w, char *out, size_t cap);

/*
 * Walk a run of descriptors (an interface's or endpoint's "extra" bytes)
 * and return the offset of the first CCID class descriptor in *off.
 * OC_EINVAL when none is present or a descriptor's bLength is 0 or runs
 * past len.
 */
int ccid_desc_find(const uint8_t *extra, size_t len, bool allow_vendor_type,
    size_t *off);

/* "character", "TPDU", "short APDU", "extended APDU" */
const char *ccid_level_name(enum ccid_level level);

#endif
