/*
 * openccid - the IFD Handler API v3 entry points (pcsc-lite ifdhandler.h).
 *
 * Each IFDH* checks its arguments, takes the reader, delegates to L3 and
 * maps the OC_E* result to an IFD_* code with ifdh_map_err() (ifd_err.c),
 * the only place where that happens. Only the IFDH* symbols are
 * exported.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <ifdhandler.h>

#include "ifd/capabilities.h"
#include "ifd/ifd_err.h"
#include "codec/devname.h"
#include "ifd/drvconf.h"
#include "base/err.h"
#include "ifd/pcsc_features.h"
#include "base/log.h"
#include "reader/reader.h"
#include "ifd/trace_host.h"
#include "transport/trace_rec.h"
#include "transport/usb.h"

#define IFDH_EXPORT __attribute__((visibility("default")))

static RESPONSECODE
open_reader(DWORD Lun, const struct devname *dn)
{
	struct trace_rec *trace = NULL;
	struct transport tr;
	struct usb_info info;
	int rc;

	if (reader_slot_of(Lun) != 0) {
		/* pcscd opens each further slot of a multi-slot reader. */
		return ifdh_map_err(reader_open_slot(Lun), IFDH_OP_OTHER);
	}
	rc = usb_open(dn, &reader_usb_hooks, &tr, &info);
	if (rc == OC_OK && drvconf_trace_dir() != NULL)
		trace = trace_rec_start(drvconf_trace_dir(), &tr, &info,
		    drvconf_driver_options(), TRACE_REC_CAP_BYTES);
	if (rc == OC_OK)
		rc = reader_open_with_transport(Lun, &tr, &info,
		    drvconf_driver_options());
	if (rc == OC_OK)
		reader_set_time_ext_max(Lun, drvconf_time_ext_max_ms());
	if (rc != OC_OK)
		OC_LOG_CRIT("Lun 0x%lX: open failed: %s", (unsigned long)Lun,
		    oc_strerror(rc));
	/* pcscd only tells success from failure here. */
	trace_rec_opened(trace, rc == OC_OK ? IFD_SUCCESS
					    : IFD_COMMUNICATION_ERROR);
	return rc == OC_OK ? IFD_SUCCESS : IFD_COMMUNICATION_ERROR;
}

IFDH_EXPORT RESPONSECODE
IFDHCreateChannelByName(DWORD Lun, LPSTR DeviceName)
{
	struct devname dn;
	int rc;

	drvconf_init();
	if (DeviceName == NULL)
		return IFD_COMMUNICATION_ERROR;
	OC_LOG_INFO("Lun 0x%lX, device %.*s", (unsigned long)Lun,
	    DEVNAME_MAX_LEN, DeviceName);
	if ((rc = devname_parse(DeviceName, &dn)) != OC_OK) {
		OC_LOG_CRIT("cannot parse device name: %s", oc_strerror(rc));
		return IFD_COMMUNICATION_ERROR;
	}
	return open_reader(Lun, &dn);
}

/* Channel numbers are for serial readers; take the first CCID device. */
IFDH_EXPORT RESPONSECODE
IFDHCreateChannel(DWORD Lun, DWORD Channel)
{
	struct devname dn;

	drvconf_init();
	OC_LOG_INFO("Lun 0x%lX, channel %lu: first free CCID device",
	    (unsigned long)Lun, (unsigned long)Channel);
	memset(&dn, 0, sizeof(dn)); /* vid = pid = 0: any CCID device */
	return open_reader(Lun, &dn);
}

IFDH_EXPORT RESPONSECODE
IFDHCloseChannel(DWORD Lun)
{
	struct trace_call tc;
	struct reader *r = reader_hold(Lun);

	/* Recorded before: the close's own transfers follow the call. */
	trace_call_begin(&tc, r, Lun, TRACE_OP_CLOSE, 0, 0, NULL, 0, 0);
	if (r != NULL)
		reader_release(r);
	reader_close(Lun);
	trace_call_end(&tc, IFD_SUCCESS, NULL, 0);
	return IFD_SUCCESS;
}

IFDH_EXPORT RESPONSECODE
IFDHGetCapabilities(DWORD Lun, DWORD Tag, PDWORD Length, PUCHAR Value)
{
	struct reader *r = reader_get(Lun);
	struct trace_call tc;
	RESPONSECODE ret;

	if (r == NULL)
		return IFD_COMMUNICATION_ERROR;
	trace_call_begin(&tc, r, Lun, TRACE_OP_GETCAP, (uint32_t)Tag, 0, NULL,
	    0, Length != NULL ? *Length : 0);
	if (reader_slot_of(Lun) >= r->nslots)
		ret = IFD_COMMUNICATION_ERROR;
	else
		ret = capabilities_get(r, reader_slot_of(Lun), Tag, Length,
		    Value);
	trace_call_end(&tc, ret, Value,
	    ret == IFD_SUCCESS && Length != NULL ? *Length : 0);
	reader_put(r, Lun);
	return ret;
}

/* The IFDH* signatures are fixed by ifdhandler.h. */
// NOLINTBEGIN(readability-non-const-parameter)
IFDH_EXPORT RESPONSECODE
IFDHSetCapabilities(DWORD Lun, DWORD Tag, DWORD Length, PUCHAR Value)
// NOLINTEND(readability-non-const-parameter)
{
	struct trace_call tc;
	struct reader *r;

	if (Tag != TAG_IFD_DEVICE_REMOVED)
		return IFD_ERROR_TAG;
	/* No slot lock: this must overtake a slot stuck in I/O. */
	if ((r = reader_hold(Lun)) == NULL)
		return IFD_COMMUNICATION_ERROR;
	trace_call_begin(&tc, r, Lun, TRACE_OP_SETCAP, (uint32_t)Tag, 0,
	    Value, Value != NULL ? Length : 0, 0);
	/* pcscd saw the device go: stop all I/O on it. */
	if (Length >= 1 && Value != NULL && Value[0] != 0) {
		OC_LOG_INFO("Lun 0x%lX: device removed", (unsigned long)Lun);
		reader_mark_gone(r);
	}
	trace_call_end(&tc, IFD_SUCCESS, NULL, 0);
	reader_release(r);
	return IFD_SUCCESS;
}

IFDH_EXPORT RESPONSECODE
IFDHSetProtocolParameters(DWORD Lun, DWORD Protocol, UCHAR Flags, UCHAR PTS1,
    UCHAR PTS2, UCHAR PTS3)
{
	struct trace_call tc;
	struct reader *r;
	RESPONSECODE ret;
	unsigned t;
	int rc;

	(void)Flags, (void)PTS1, (void)PTS2, (void)PTS3;
	if (Protocol == SCARD_PROTOCOL_T0)
		t = 0;
	else if (Protocol == SCARD_PROTOCOL_T1)
		t = 1;
	else
		return IFD_PROTOCOL_NOT_SUPPORTED;
	if ((r = reader_get(Lun)) == NULL)
		return IFD_COMMUNICATION_ERROR;
	trace_call_begin(&tc, r, Lun, TRACE_OP_PROTO, (uint32_t)Protocol,
	    (uint32_t)Flags | (uint32_t)PTS1 << 8 | (uint32_t)PTS2 << 16 |
		(uint32_t)PTS3 << 24,
	    NULL, 0, 0);
	rc = slot_set_protocol(r, reader_slot_of(Lun), t);
	reader_put(r, Lun);
	ret = rc == OC_ENOTSUP || rc == OC_EINVAL ? IFD_PROTOCOL_NOT_SUPPORTED
						  : ifdh_map_err(rc,
							IFDH_OP_OTHER);
	trace_call_end(&tc, ret, NULL, 0);
	return ret;
}

static int
power_action(struct reader *r, unsigned slot, DWORD Action, PUCHAR Atr,
    size_t cap, size_t *len)
{
	switch (Action) {
	case IFD_POWER_UP:
	case IFD_RESET:
		/* CCID has no warm reset: a new IccPowerOn (section 6.1.1). */
		return slot_power_up(r, slot, Atr, cap, len);
	case IFD_POWER_DOWN:
		*len = 0;
		return slot_power_down(r, slot);
	default:
		return OC_ENOTSUP;
	}
}

IFDH_EXPORT RESPONSECODE
IFDHPowerICC(DWORD Lun, DWORD Action, PUCHAR Atr, PDWORD AtrLength)
{
	struct trace_call tc;
	struct reader *r;
	RESPONSECODE ret;
	size_t len = 0;
	int rc;

	if (Atr == NULL || AtrLength == NULL)
		return IFD_COMMUNICATION_ERROR;
	if ((r = reader_get(Lun)) == NULL) {
		*AtrLength = 0;
		return IFD_COMMUNICATION_ERROR;
	}
	trace_call_begin(&tc, r, Lun, TRACE_OP_POWER, (uint32_t)Action, 0,
	    NULL, 0, *AtrLength);
	rc = power_action(r, reader_slot_of(Lun), Action, Atr, *AtrLength,
	    &len);
	reader_put(r, Lun);
	*AtrLength = rc == OC_OK ? (DWORD)len : 0;
	if (rc == OC_ENOTSUP && Action != IFD_POWER_UP && Action != IFD_RESET &&
	    Action != IFD_POWER_DOWN)
		ret = IFD_NOT_SUPPORTED;
	else
		ret = ifdh_map_err(rc, IFDH_OP_POWER);
	trace_call_end(&tc, ret, Atr, *AtrLength);
	return ret;
}

// NOLINTBEGIN(readability-non-const-parameter)
IFDH_EXPORT RESPONSECODE
IFDHTransmitToICC(DWORD Lun, SCARD_IO_HEADER SendPci, PUCHAR TxBuffer,
    DWORD TxLength, PUCHAR RxBuffer, PDWORD RxLength,
    PSCARD_IO_HEADER RecvPci)
// NOLINTEND(readability-non-const-parameter)
{
	struct trace_call tc;
	struct reader *r;
	RESPONSECODE ret;
	size_t len = 0;
	int rc;

	if (RxLength == NULL)
		return IFD_COMMUNICATION_ERROR;
	if (TxBuffer == NULL || RxBuffer == NULL) {
		*RxLength = 0;
		return IFD_COMMUNICATION_ERROR;
	}
	if ((r = reader_get(Lun)) == NULL) {
		*RxLength = 0;
		return IFD_COMMUNICATION_ERROR;
	}
	trace_call_begin(&tc, r, Lun, TRACE_OP_TRANSMIT,
	    (uint32_t)SendPci.Protocol, 0, TxBuffer, TxLength, *RxLength);
	rc = slot_transmit(r, reader_slot_of(Lun), TxBuffer, TxLength,
	    RxBuffer, *RxLength, &len);
	reader_put(r, Lun);
	*RxLength = rc == OC_OK ? (DWORD)len : 0;
	if (RecvPci != NULL)
		RecvPci->Length = 0;
	ret = ifdh_map_err(rc, IFDH_OP_OTHER);
	trace_call_end(&tc, ret, RxBuffer, *RxLength);
	return ret;
}

// NOLINTBEGIN(readability-non-const-parameter)
IFDH_EXPORT RESPONSECODE
IFDHControl(DWORD Lun, DWORD dwControlCode, PUCHAR TxBuffer, DWORD TxLength,
    PUCHAR RxBuffer, DWORD RxLength, LPDWORD pdwBytesReturned)
// NOLINTEND(readability-non-const-parameter)
{
	struct trace_call tc;
	struct reader *r;
	RESPONSECODE rv;

	if (pdwBytesReturned == NULL)
		return IFD_COMMUNICATION_ERROR;
	*pdwBytesReturned = 0;
	if ((r = reader_get(Lun)) == NULL)
		return IFD_COMMUNICATION_ERROR;
	trace_call_begin(&tc, r, Lun, TRACE_OP_CONTROL, (uint32_t)dwControlCode,
	    0, TxBuffer, TxBuffer != NULL ? TxLength : 0, RxLength);
	/* PC/SC v2 part 10 and Escape: pcsc_features.c */
	rv = features_control(r, reader_slot_of(Lun), dwControlCode, TxBuffer,
	    TxLength, RxBuffer, RxLength, pdwBytesReturned);
	reader_put(r, Lun);
	trace_call_end(&tc, rv, RxBuffer, *pdwBytesReturned);
	return rv;
}

IFDH_EXPORT RESPONSECODE
IFDHICCPresence(DWORD Lun)
{
	struct reader *r = reader_get(Lun);
	unsigned slot = reader_slot_of(Lun);
	bool present = false, swapped = false;
	struct trace_call tc;
	RESPONSECODE ret;
	int rc = OC_OK;

	if (r == NULL)
		return IFD_COMMUNICATION_ERROR;
	trace_call_begin(&tc, r, Lun, TRACE_OP_PRESENCE, 0, 0, NULL, 0, 0);
	if (ccid_io_is_gone(&r->io))
		rc = OC_ENODEV;
	else if (events_take_report(&r->ev, slot, &present, &swapped)) {
		/* Fresh from the interrupt pipe: no bulk transfer needed. */
		if (!present)
			slot_forget_card(r, slot);
	} else {
		rc = slot_presence(r, slot, &present);
	}
	reader_put(r, Lun);
	if (rc != OC_OK)
		ret = ifdh_map_err(rc, IFDH_OP_PRESENCE);
	else
		ret = present ? IFD_ICC_PRESENT : IFD_ICC_NOT_PRESENT;
	trace_call_end(&tc, ret, NULL, 0);
	return ret;
}
