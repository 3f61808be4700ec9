/*
 * openccid - IFDHGetCapabilities answers (ifdhandler.h, reader.h).
 *
 * Every answer checks *Length before writing Value; a short buffer is
 * IFD_ERROR_INSUFFICIENT_BUFFER, never a truncated value.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "ifd/capabilities.h"

#include <string.h>

/* pcsc-lite reader.h, not ours (src/ is on the include path). */
#include <PCSC/reader.h>

#include "codec/ccid_msg.h"
#include "base/err.h"
#include "base/log.h"
#include "ifd/ifd_err.h"
#include "ifd/ifd_poll.h"

/* SCARD_ATTR_CHANNEL_ID: 0xDDDDCCCC, DDDD = 0x0020 for USB. */
#define CHANNEL_TYPE_USB 0x0020u

static RESPONSECODE
put_bytes(PDWORD length, PUCHAR value, const void *src, size_t n)
{
	if (value == NULL || *length < n)
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	if (n > 0)
		memcpy(value, src, n);
	*length = (DWORD)n;
	return IFD_SUCCESS;
}

static RESPONSECODE
put_u8(PDWORD length, PUCHAR value, uint8_t v)
{
	return put_bytes(length, value, &v, 1);
}

/* Attributes that are DWORDs on the wire are 32-bit (PC/SC part 3). */
static RESPONSECODE
put_u32(PDWORD length, PUCHAR value, uint32_t v)
{
	return put_bytes(length, value, &v, sizeof(v));
}

/* NUL-terminated; an empty string is Length 0 (no such string). */
static RESPONSECODE
put_string(PDWORD length, PUCHAR value, const char *s)
{
	if (s[0] == '\0') {
		*length = 0;
		return IFD_SUCCESS;
	}
	return put_bytes(length, value, s, strlen(s) + 1);
}

static RESPONSECODE
get_presence(struct reader *r, unsigned slot, PDWORD length, PUCHAR value)
{
	bool present = false;
	int rc;

	if ((rc = slot_presence(r, slot, &present)) != OC_OK)
		return ifdh_map_err(rc, IFDH_OP_PRESENCE);
	/* PC/SC part 3: 0 absent, 1 present, 2 present and swallowed. */
	return put_u8(length, value, present ? 2 : 0);
}

/* A function pointer as pcscd reads it: the bytes of the pointer. */
static RESPONSECODE
put_fn(PDWORD length, PUCHAR value, RESPONSECODE (*fn)(DWORD, int),
    RESPONSECODE (*stop)(DWORD))
{
	if (fn != NULL)
		return put_bytes(length, value, &fn, sizeof(fn));
	return put_bytes(length, value, &stop, sizeof(stop));
}

/*
 * Interfaces with an interrupt-IN endpoint have card events (CCID, and
 * an ICCD token that has one: USB ICCD rev 1.0 keeps NotifySlotChange);
 * without one pcscd polls IFDHICCPresence (GetSlotStatus, SLOT_STATUS).
 */
static RESPONSECODE
get_polling_tag(const struct reader *r, DWORD tag, PDWORD length,
    PUCHAR value)
{
	if (!r->info.has_intr) {
		*length = 0;
		return IFD_ERROR_TAG;
	}
	switch (tag) {
	case TAG_IFD_POLLING_THREAD_WITH_TIMEOUT:
		return put_fn(length, value, ifdh_poll, NULL);
	case TAG_IFD_STOP_POLLING_THREAD:
		return put_fn(length, value, NULL, ifdh_stop_poll);
	default:
		/* pthread_cancel() inside libusb would leak its locks. */
		return put_u8(length, value, 0);
	}
}

static RESPONSECODE
get_slot_tag(struct reader *r, unsigned slot, DWORD tag, PDWORD length,
    PUCHAR value)
{
	const struct slot *s = &r->slots[slot];

	switch (tag) {
	case TAG_IFD_ATR:
	case SCARD_ATTR_ATR_STRING:
		return put_bytes(length, value, s->atr,
		    s->powered ? s->atr_len : 0);
	case SCARD_ATTR_ICC_PRESENCE:
		return get_presence(r, slot, length, value);
	case SCARD_ATTR_ICC_INTERFACE_STATUS:
		/* Electrical contact active: the card is powered. */
		return put_u8(length, value, s->powered ? 1 : 0);
	default:
		return IFD_ERROR_TAG;
	}
}

RESPONSECODE
capabilities_get(struct reader *r, unsigned slot, DWORD tag, PDWORD length,
    PUCHAR value)
{
	const struct usb_info *u = &r->info;

	if (length == NULL)
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	switch (tag) {
	case TAG_IFD_SLOTS_NUMBER:
		return put_u8(length, value, (uint8_t)r->nslots);
	case TAG_IFD_THREAD_SAFE:
		/* Each reader has its own lock; readers run in parallel. */
	case TAG_IFD_SLOT_THREAD_SAFE:
		/*
		 * Per-slot locks. Commands of different slots share the
		 * pipes safely (ccid_cmd.h): one command per slot on the
		 * wire, at most bMaxCCIDBusySlots in all, replies routed by
		 * bSlot/bSeq (or one exchange at a time when 1).
		 */
		return put_u8(length, value, 1);
	case TAG_IFD_POLLING_THREAD_WITH_TIMEOUT:
	case TAG_IFD_POLLING_THREAD_KILLABLE:
	case TAG_IFD_STOP_POLLING_THREAD:
		return get_polling_tag(r, tag, length, value);
	case TAG_IFD_SIMULTANEOUS_ACCESS:
		return put_u8(length, value, READER_MAX);
	case TAG_IFD_DEVICE_REMOVED:
		/* Tells pcscd that IFDHSetCapabilities accepts the tag. */
		return put_u8(length, value, 1);
	case SCARD_ATTR_VENDOR_NAME:
		return put_string(length, value, u->manufacturer);
	case SCARD_ATTR_VENDOR_IFD_SERIAL_NO:
		return put_string(length, value, u->serial);
	case SCARD_ATTR_VENDOR_IFD_VERSION:
		/* 0xMMmmbbbb: bcdDevice as major.minor, build 0. */
		return put_u32(length, value, (uint32_t)u->bcdDevice << 16);
	case SCARD_ATTR_MAXINPUT:
		return put_u32(length, value,
		    (uint32_t)(r->io.max_msg - CCID_HDR_LEN));
	case SCARD_ATTR_VENDOR_IFD_TYPE:
		return put_string(length, value, u->product);
	case SCARD_ATTR_DEFAULT_CLK:
		/* kHz, from the class descriptor (CCID rev 1.1 section 5.1). */
		return put_u32(length, value, u->desc.dwDefaultClock);
	case SCARD_ATTR_MAX_CLK:
		return put_u32(length, value, u->desc.dwMaximumClock);
	case SCARD_ATTR_DEFAULT_DATA_RATE:
		/* bps */
		return put_u32(length, value, u->desc.dwDataRate);
	case SCARD_ATTR_MAX_DATA_RATE:
		return put_u32(length, value, u->desc.dwMaxDataRate);
	case SCARD_ATTR_MAX_IFSD:
		return put_u32(length, value, u->desc.dwMaxIFSD);
	case SCARD_ATTR_CHANNEL_ID:
		return put_u32(length, value, CHANNEL_TYPE_USB << 16 |
		    (uint32_t)u->bus << 8 | u->addr);
	default:
		return get_slot_tag(r, slot, tag, length, value);
	}
}
