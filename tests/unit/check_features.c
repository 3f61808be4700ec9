/*
 * openccid - PC/SC v2 part 10 (IFDHControl) and PC_to_RDR_Secure
 * against a scripted transport: feature list, TLV and PIN properties,
 * verify/modify frames byte for byte on an APDU-level and a TPDU-level
 * (T=1) reader, keypad status words, malformed PIN structures, short
 * output buffers, Escape gating, and no PIN in the log.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ifdhandler.h>
#include <PCSC/reader.h>

#include "codec/ccid_desc.h"
#include "codec/ccid_msg.h"
#include "ifd/drvconf.h"
#include "base/err.h"
#include "fake_transport.h"
#include "ifd/pcsc_features.h"
#include "base/log.h"
#include "log_stub.h"
#include "reader/negotiate.h"
#include "reader/pinpad.h"
#include "quirks/quirks.h"
#include "quirks/quirks_parse.h"
#include "transport/usb.h"

#define LUN 0x30000UL
#define DEVNAME "usb:08e6/3478:libudev:0:/dev/bus/usb/001/009"
#define IOCTL_VERIFY FEATURES_IOCTL(FEATURE_VERIFY_PIN_DIRECT)
#define IOCTL_MODIFY FEATURES_IOCTL(FEATURE_MODIFY_PIN_DIRECT)
#define IOCTL_PINPROP FEATURES_IOCTL(FEATURE_IFD_PIN_PROPERTIES)
#define IOCTL_TLV FEATURES_IOCTL(FEATURE_GET_TLV_PROPERTIES)
#define CANARY 0xA5

static char devname[] = DEVNAME;
static struct fake_transport ft;
static struct transport fake_tr, wrap_tr;
static struct transport_ops wrap_ops;
static struct usb_info info;
static bool powered; /* teardown expects the power-off */

/* GET_CLOCK_FREQUENCIES / GET_DATA_RATES at TPDU power-up: one value. */
static int
wrap_control(void *ctx, uint8_t bmRequestType, uint8_t bRequest,
    uint16_t wValue, uint8_t *data, size_t len, size_t *got,
    unsigned timeout_ms)
{
	uint32_t v = bRequest == CCID_REQ_GET_CLOCK_FREQUENCIES ? 4000 : 10752;
	int rc;

	rc = fake_tr.ops->control(
	    ctx, bmRequestType, bRequest, wValue, data, len, got, timeout_ms);
	if (rc != OC_OK)
		return rc;
	ck_assert_uint_ge(len, 4);
	data[0] = (uint8_t)v;
	data[1] = (uint8_t)(v >> 8);
	data[2] = (uint8_t)(v >> 16);
	data[3] = (uint8_t)(v >> 24);
	*got = 4;
	return OC_OK;
}

int
usb_open(const struct devname *dn, const struct usb_hooks *hooks,
    struct transport *tr, struct usb_info *out)
{
	(void)dn, (void)hooks;
	*tr = wrap_tr;
	*out = info;
	return OC_OK;
}

/*
 * GemPC Pinpad-like reader at the given level, bPINSupport pin, under IDs
 * no reader row matches (only the `match any` defaults apply); tests of
 * reader quirks set info.vid/pid afterwards.
 */
static void
set_reader(enum ccid_level level, uint8_t pin)
{
	memset(&info, 0, sizeof(info));
	info.vid = 0xfffe;
	info.pid = 0x0001;
	info.bcdDevice = 0x0200;
	info.bus = 1;
	info.addr = 9;
	strcpy(info.manufacturer, "Gemalto");
	strcpy(info.product, "PC Pinpad");
	strcpy(info.serial, "S123");
	info.desc.bVoltageSupport = 0x07;
	info.desc.dwProtocols = 3;
	info.desc.dwDefaultClock = 4000;
	info.desc.dwMaximumClock = 4000;
	info.desc.dwDataRate = 10752;
	info.desc.dwMaxDataRate = 344086;
	info.desc.dwMaxIFSD = 254;
	info.desc.dwMaxCCIDMessageLength = 271;
	info.desc.bMaxCCIDBusySlots = 1;
	info.desc.wLcdLayout = 0x0210;
	info.desc.bPINSupport = pin;
	info.desc.level = level;
	info.desc.dwFeatures = level == CCID_XCHG_TPDU
	    ? 0x00010230u
	    : (CCID_LEVEL_SHORT_APDU | CCID_FEAT_AUTO_VOLTAGE);
}

static void
open_reader(void)
{
	ft_out(&ft, "65 00000000 00 ?? 00 0000");
	ft_in(&ft, "81 00000000 00 ?? 00 00 00");
	ck_assert_msg(IFDHCreateChannelByName(LUN, devname) == IFD_SUCCESS,
	    "open %04x:%04x", info.vid, info.pid);
	ft_done(&ft);
}

static void
power_up_apdu(void)
{
	UCHAR atr[MAX_ATR_SIZE];
	DWORD len = sizeof(atr);

	ft_out(&ft, "62 00000000 00 ?? 00 0000");
	ft_in(&ft, "80 04000000 00 ?? 00 00 00 3B 02 14 50");
	ck_assert_int_eq(IFDHPowerICC(LUN, IFD_POWER_UP, atr, &len),
	    IFD_SUCCESS);
	ft_done(&ft);
	powered = true;
}

/* T=1 card (TA1 18, IFSC 16, BWI 4 CWI 5) on the TPDU reader. */
static void
power_up_t1(void)
{
	UCHAR atr[MAX_ATR_SIZE];
	DWORD len = sizeof(atr);

	ft_out(&ft, "62 00000000 00 ?? 01 0000");
	ft_in(&ft, "80 0D000000 00 ?? 00 00 00 "
		   "3B 95 18 81 31 10 45 80 73 C8 21 10 62");
	ft_control(&ft, CCID_REQ_GET_CLOCK_FREQUENCIES);
	ft_control(&ft, CCID_REQ_GET_DATA_RATES);
	ck_assert_int_eq(IFDHPowerICC(LUN, IFD_POWER_UP, atr, &len),
	    IFD_SUCCESS);
	ft_done(&ft);
	powered = true;
	/* No PPS: the one data rate is the default; SetParameters, IFS. */
	ft_out(&ft, "61 07000000 00 ?? 01 0000 11 10 00 45 00 10 00");
	ft_in(&ft, "82 07000000 00 ?? 00 00 01 11 10 00 45 00 10 00");
	ft_out(&ft, "6F 05000000 00 ?? 00 0000 00 C1 01 FE 3E");
	ft_in(&ft, "80 05000000 00 ?? 00 00 00 00 E1 01 FE 1E");
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T1, 0, 0, 0, 0),
	    IFD_SUCCESS);
	ft_done(&ft);
}

static void
setup(void)
{
	oc_log_set_level(0x0f);
	log_stub_reset();
	ft_init(&ft, &fake_tr);
	wrap_ops = *fake_tr.ops;
	wrap_ops.control = wrap_control;
	wrap_tr.ops = &wrap_ops;
	wrap_tr.ctx = fake_tr.ctx;
	set_reader(CCID_XCHG_SHORT_APDU, 0x03);
	powered = false;
}

static void
teardown(void)
{
	if (powered) {
		ft_out(&ft, "63 00000000 00 ?? 00 0000");
		ft_in(&ft, "81 00000000 00 ?? 01 00 00");
	}
	IFDHCloseChannel(LUN);
	ft_free(&ft);
}

/* GnuPG's VERIFY: fixed length 8, min 4 max 8, CLA INS P1 P2 Lc FF... */
static const uint8_t verify_s[] = {0x00, 0x00, 0x82, 0x00, 0x00, 0x08, 0x04,
    0x02, 0x01, 0x09, 0x04, 0x00, 0x00, 0x00, 0x00, 0x0D, 0x00, 0x00, 0x00,
    0x00, 0x20, 0x00, 0x81, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF};
#define VERIFY_BODY "00 82 00 00 08 04 02 01 09 04 00"
#define APDU_V "00 20 00 81 08 FF FF FF FF FF FF FF FF"

/* CHANGE REFERENCE DATA: old at 0, new at 8, 3 messages. */
static uint8_t modify_s[24 + 21] = {0x00, 0x00, 0x82, 0x00, 0x00, 0x00, 0x08,
    0x08, 0x04, 0x03, 0x02, 0x03, 0x09, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00,
    0x00, 0x15, 0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x81, 0x10, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF};
#define APDU_M "00 24 00 81 10 FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF"

static RESPONSECODE
control(DWORD code, const void *tx, size_t tx_len, uint8_t *rx, DWORD cap,
    DWORD *got)
{
	return IFDHControl(LUN, code, (PUCHAR)(uintptr_t)tx, (DWORD)tx_len,
	    rx, cap, got);
}

START_TEST(test_feature_list)
{
	uint8_t rx[64];
	DWORD got = 99;
	static const uint8_t want[] = {
	    0x06, 4, 0x42, 0x33, 0x00, 0x06,
	    0x07, 4, 0x42, 0x33, 0x00, 0x07,
	    0x0A, 4, 0x42, 0x33, 0x00, 0x0A,
	    0x12, 4, 0x42, 0x33, 0x00, 0x12};

	open_reader();
	ck_assert_int_eq(control(CM_IOCTL_GET_FEATURE_REQUEST, NULL, 0, rx,
	    sizeof(rx), &got), IFD_SUCCESS);
	ck_assert_uint_eq(got, sizeof(want));
	ck_assert_mem_eq(rx, want, sizeof(want));
	/* The Windows-origin value gives the same list. */
	got = 0;
	ck_assert_int_eq(control(FEATURES_GET_FEATURE_REQUEST_WIN, NULL, 0,
	    rx, sizeof(rx), &got), IFD_SUCCESS);
	ck_assert_uint_eq(got, sizeof(want));
	/* One byte short: nothing written, nothing returned. */
	memset(rx, CANARY, sizeof(rx));
	got = 99;
	ck_assert_int_eq(control(CM_IOCTL_GET_FEATURE_REQUEST, NULL, 0, rx,
	    sizeof(want) - 1, &got), IFD_ERROR_INSUFFICIENT_BUFFER);
	ck_assert_uint_eq(got, 0);
	ck_assert_uint_eq(rx[0], CANARY);
	ck_assert_int_eq(IFDHControl(LUN, CM_IOCTL_GET_FEATURE_REQUEST, NULL,
	    0, rx, sizeof(rx), NULL), IFD_COMMUNICATION_ERROR);
	ck_assert_int_eq(control(0x42001234, NULL, 0, rx, sizeof(rx), &got),
	    IFD_ERROR_NOT_SUPPORTED);
}
END_TEST

/* A quirk (pinpad_absent) cleared bPINSupport: no PIN features. */
START_TEST(test_no_pin_features)
{
	uint8_t rx[64];
	DWORD got = 0;

	set_reader(CCID_XCHG_SHORT_APDU, 0);
	open_reader();
	ck_assert_int_eq(control(CM_IOCTL_GET_FEATURE_REQUEST, NULL, 0, rx,
	    sizeof(rx), &got), IFD_SUCCESS);
	ck_assert_uint_eq(got, 6);
	ck_assert_mem_eq(rx, "\x12\x04\x42\x33\x00\x12", 6);
	ck_assert_int_eq(control(IOCTL_VERIFY, verify_s, sizeof(verify_s), rx,
	    sizeof(rx), &got), IFD_ERROR_NOT_SUPPORTED);
	ck_assert_int_eq(control(IOCTL_PINPROP, NULL, 0, rx, sizeof(rx), &got),
	    IFD_ERROR_NOT_SUPPORTED);
}
END_TEST

START_TEST(test_tlv_and_pin_properties)
{
	uint8_t rx[64];
	DWORD got = 0;
	static const uint8_t want[] = {
	    0x01, 2, 0x10, 0x02,       /* wLcdLayout */
	    0x04, 2, 0x10, 0x00,       /* wLcdMaxCharacters */
	    0x05, 2, 0x02, 0x00,       /* wLcdMaxLines */
	    0x02, 1, 0x07,             /* bEntryValidationCondition */
	    0x03, 1, 0x00,             /* bTimeOut2 */
	    0x06, 1, 0x04,             /* bMinPINSize */
	    0x07, 1, 0x08,             /* bMaxPINSize */
	    0x09, 1, 0x00,             /* bPPDUSupport */
	    0x0A, 4, 0, 0, 0, 0,       /* dwMaxAPDUDataSize: short APDU */
	    0x0B, 2, 0xE6, 0x08,       /* wIdVendor */
	    0x0C, 2, 0x78, 0x34};      /* wIdProduct */

	info.vid = 0x08e6; /* GemPC Pinpad: quirks pin_min/max */
	info.pid = 0x3478;
	open_reader();
	ck_assert_int_eq(control(IOCTL_TLV, NULL, 0, rx, sizeof(rx), &got),
	    IFD_SUCCESS);
	ck_assert_uint_eq(got, sizeof(want));
	ck_assert_mem_eq(rx, want, sizeof(want));
	got = 99;
	ck_assert_int_eq(control(IOCTL_TLV, NULL, 0, rx, sizeof(want) - 1,
	    &got), IFD_ERROR_INSUFFICIENT_BUFFER);
	ck_assert_uint_eq(got, 0);
	ck_assert_int_eq(control(IOCTL_PINPROP, NULL, 0, rx, sizeof(rx), &got),
	    IFD_SUCCESS);
	ck_assert_uint_eq(got, 4);
	/* quirk pin_properties_validation=0x02 (GemPC Pinpad) */
	ck_assert_mem_eq(rx, "\x10\x02\x02\x00", 4);
	ck_assert_int_eq(control(IOCTL_PINPROP, NULL, 0, rx, 3, &got),
	    IFD_ERROR_INSUFFICIENT_BUFFER);
}
END_TEST

/* GnuPG's 6-byte receive buffer on an APDU-level reader. */
START_TEST(test_verify_apdu_level)
{
	uint8_t rx[6 + 4];
	DWORD got = 0;

	open_reader();
	power_up_apdu();
	memset(rx, CANARY, sizeof(rx));
	ft_out(&ft, "69 1C000000 00 ?? 00 0000 00 " VERIFY_BODY
		    " 00 00 00 " APDU_V);
	ft_in(&ft, "80 02000000 00 ?? 00 00 00 90 00");
	ck_assert_int_eq(control(IOCTL_VERIFY, verify_s, sizeof(verify_s), rx,
	    6, &got), IFD_SUCCESS);
	ft_done(&ft);
	ck_assert_uint_eq(got, 2);
	ck_assert_mem_eq(rx, "\x90\x00", 2);
	ck_assert_uint_eq(rx[6], CANARY);
	/* Wrong PIN: the card's status word as is. */
	ft_out(&ft, "69 1C000000 00 ?? 00 0000 00 " VERIFY_BODY
		    " 00 00 00 " APDU_V);
	ft_in(&ft, "80 02000000 00 ?? 00 00 00 63 C2");
	ck_assert_int_eq(control(IOCTL_VERIFY, verify_s, sizeof(verify_s), rx,
	    6, &got), IFD_SUCCESS);
	ck_assert_mem_eq(rx, "\x63\xC2", 2);
	ft_done(&ft);
}
END_TEST

/* Keypad timeout / cancel (bError F0 / EF) -> SW 64 00 / 64 01. */
START_TEST(test_keypad_status_words)
{
	uint8_t rx[6];
	DWORD got = 0;

	open_reader();
	power_up_apdu();
	ft_out(&ft, "69 1C000000 00 ?? 00 0000 00 " VERIFY_BODY
		    " 00 00 00 " APDU_V);
	/* Two time extensions while the user types, then the timeout. */
	ft_in(&ft, "80 00000000 00 ?? 80 01 00");
	ft_in(&ft, "80 00000000 00 ?? 80 01 00");
	ft_in(&ft, "80 00000000 00 ?? 40 F0 00");
	ck_assert_int_eq(control(IOCTL_VERIFY, verify_s, sizeof(verify_s), rx,
	    sizeof(rx), &got), IFD_SUCCESS);
	ck_assert_uint_eq(got, 2);
	ck_assert_mem_eq(rx, "\x64\x00", 2);
	ft_out(&ft, "69 1C000000 00 ?? 00 0000 00 " VERIFY_BODY
		    " 00 00 00 " APDU_V);
	ft_in(&ft, "80 00000000 00 ?? 40 EF 00");
	ck_assert_int_eq(control(IOCTL_VERIFY, verify_s, sizeof(verify_s), rx,
	    sizeof(rx), &got), IFD_SUCCESS);
	ck_assert_mem_eq(rx, "\x64\x01", 2);
	ft_done(&ft);
}
END_TEST

START_TEST(test_modify_apdu_level)
{
	uint8_t rx[6];
	DWORD got = 0;

	open_reader();
	power_up_apdu();
	/* 3 messages: bMsgIndex1..3 all sent. */
	ft_out(&ft, "69 29000000 00 ?? 00 0000 01 00 82 00 00 00 08 08 04 03 "
		    "02 03 09 04 00 01 02 00 00 00 " APDU_M);
	ft_in(&ft, "80 02000000 00 ?? 00 00 00 90 00");
	ck_assert_int_eq(control(IOCTL_MODIFY, modify_s, sizeof(modify_s), rx,
	    sizeof(rx), &got), IFD_SUCCESS);
	ck_assert_mem_eq(rx, "\x90\x00", 2);
	/* 1 message: bMsgIndex2/3 dropped. */
	modify_s[11] = 1;
	ft_out(&ft, "69 27000000 00 ?? 00 0000 01 00 82 00 00 00 08 08 04 03 "
		    "02 01 09 04 00 00 00 00 " APDU_M);
	ft_in(&ft, "80 02000000 00 ?? 00 00 00 64 02");
	ck_assert_int_eq(control(IOCTL_MODIFY, modify_s, sizeof(modify_s), rx,
	    sizeof(rx), &got), IFD_SUCCESS);
	ck_assert_mem_eq(rx, "\x64\x02", 2);
	modify_s[11] = 3;
	/* Big-endian ulDataLength, wPINMaxExtraDigit and wLangId. */
	{
		uint8_t be[sizeof(modify_s)];

		memcpy(be, modify_s, sizeof(be));
		be[7] = 0x04, be[8] = 0x08, be[12] = 0x04, be[13] = 0x09;
		be[20] = 0, be[21] = 0, be[22] = 0, be[23] = 0x15;
		ft_out(&ft, "69 29000000 00 ?? 00 0000 01 00 82 00 00 00 08 08 "
			    "04 03 02 03 09 04 00 01 02 00 00 00 " APDU_M);
		ft_in(&ft, "80 02000000 00 ?? 00 00 00 90 00");
		ck_assert_int_eq(control(IOCTL_MODIFY, be, sizeof(be), rx,
		    sizeof(rx), &got), IFD_SUCCESS);
	}
	ft_done(&ft);
}
END_TEST

/* TPDU T=1: the driver's prologue with N(S), the answer block stripped. */
START_TEST(test_verify_tpdu_t1)
{
	uint8_t rx[6];
	DWORD got = 0;
	UCHAR apdu[] = {0x00, 0xCA, 0x00, 0x6E, 0x00}, r2[8];
	DWORD rlen = sizeof(r2);
	SCARD_IO_HEADER pci = {SCARD_PROTOCOL_T1, 8};

	set_reader(CCID_XCHG_TPDU, 0x03);
	open_reader();
	power_up_t1();
	/* N(S) 0: prologue 00 00 0D; answer I(0) 90 00. */
	ft_out(&ft, "69 1C000000 00 ?? 00 0000 00 " VERIFY_BODY
		    " 00 00 0D " APDU_V);
	ft_in(&ft, "80 06000000 00 ?? 00 00 00 00 00 02 90 00 92");
	ck_assert_int_eq(control(IOCTL_VERIFY, verify_s, sizeof(verify_s), rx,
	    sizeof(rx), &got), IFD_SUCCESS);
	ck_assert_uint_eq(got, 2);
	ck_assert_mem_eq(rx, "\x90\x00", 2);
	/* N(S) 1; the card first asks for more time: S(WTX request). */
	ft_out(&ft, "69 1C000000 00 ?? 00 0000 00 " VERIFY_BODY
		    " 00 40 0D " APDU_V);
	ft_in(&ft, "80 05000000 00 ?? 00 00 00 00 C3 01 02 C0");
	ft_out(&ft, "6F 05000000 00 ?? 02 0000 00 E3 01 02 E0");
	ft_in(&ft, "80 06000000 00 ?? 00 00 00 00 40 02 63 C1 E0");
	ck_assert_int_eq(control(IOCTL_VERIFY, verify_s, sizeof(verify_s), rx,
	    sizeof(rx), &got), IFD_SUCCESS);
	ck_assert_mem_eq(rx, "\x63\xC1", 2);
	ft_done(&ft);
	/* The next APDU goes out as I(0) again: N(S) kept in step. */
	ft_out(&ft, "6F 09000000 00 ?? 00 0000 00 00 05 00 CA 00 6E 00 A1");
	ft_in(&ft, "80 06000000 00 ?? 00 00 00 00 00 02 90 00 92");
	ck_assert_int_eq(
	    IFDHTransmitToICC(LUN, pci, apdu, sizeof(apdu), r2, &rlen, NULL),
	    IFD_SUCCESS);
	ck_assert_uint_eq(rlen, 2);
	ft_done(&ft);
	/* Keypad timeout on TPDU: no block reached the card. */
	ft_out(&ft, "69 1C000000 00 ?? 00 0000 00 " VERIFY_BODY
		    " 00 40 0D " APDU_V);
	ft_in(&ft, "80 00000000 00 ?? 40 F0 00");
	ck_assert_int_eq(control(IOCTL_VERIFY, verify_s, sizeof(verify_s), rx,
	    sizeof(rx), &got), IFD_SUCCESS);
	ck_assert_mem_eq(rx, "\x64\x00", 2);
	ft_done(&ft);
}
END_TEST

START_TEST(test_modify_tpdu_t1)
{
	uint8_t rx[6];
	DWORD got = 0;

	set_reader(CCID_XCHG_TPDU, 0x03);
	open_reader();
	power_up_t1();
	ft_out(&ft, "69 29000000 00 ?? 00 0000 01 00 82 00 00 00 08 08 04 03 "
		    "02 03 09 04 00 01 02 00 00 15 " APDU_M);
	ft_in(&ft, "80 06000000 00 ?? 00 00 00 00 00 02 90 00 92");
	ck_assert_int_eq(control(IOCTL_MODIFY, modify_s, sizeof(modify_s), rx,
	    sizeof(rx), &got), IFD_SUCCESS);
	ck_assert_mem_eq(rx, "\x90\x00", 2);
	/*
	 * The reader's own status word (new PINs differ), two bytes and no
	 * block: passed on, and N(S) stays at 1 for the next I-block.
	 */
	ft_out(&ft, "69 29000000 00 ?? 00 0000 01 00 82 00 00 00 08 08 04 03 "
		    "02 03 09 04 00 01 02 00 40 15 " APDU_M);
	ft_in(&ft, "80 02000000 00 ?? 00 00 00 64 02");
	ck_assert_int_eq(control(IOCTL_MODIFY, modify_s, sizeof(modify_s), rx,
	    sizeof(rx), &got), IFD_SUCCESS);
	ck_assert_uint_eq(got, 2);
	ck_assert_mem_eq(rx, "\x64\x02", 2);
	ft_out(&ft, "69 29000000 00 ?? 00 0000 01 00 82 00 00 00 08 08 04 03 "
		    "02 03 09 04 00 01 02 00 40 15 " APDU_M);
	ft_in(&ft, "80 06000000 00 ?? 00 00 00 00 40 02 90 00 D2");
	ck_assert_int_eq(control(IOCTL_MODIFY, modify_s, sizeof(modify_s), rx,
	    sizeof(rx), &got), IFD_SUCCESS);
	ck_assert_mem_eq(rx, "\x90\x00", 2);
	ft_done(&ft);
}
END_TEST

/*
 * Every length 0..64, with junk and with a well-formed header whose
 * ulDataLength disagrees with the length: rejected with no I/O (the
 * script is empty) and nothing written past or into the output.
 */
START_TEST(test_malformed_structures)
{
	uint8_t tx[64], rx[6 + 8];
	DWORD got;
	size_t len;
	int pass;

	open_reader();
	power_up_apdu();
	for (pass = 0; pass < 4; pass++) {
		bool modify = pass & 1;
		size_t hdr = modify ? 24 : 19;

		for (len = 0; len <= sizeof(tx); len++) {
			memset(tx, CANARY, sizeof(tx));
			if (pass >= 2) {
				memcpy(tx, modify ? modify_s : verify_s, hdr);
				/* ulDataLength 5, whatever len is. */
				tx[hdr - 4] = 5, tx[hdr - 3] = 0;
				tx[hdr - 2] = 0, tx[hdr - 1] = 0;
				if (len == hdr + 5)
					continue;
			}
			memset(rx, CANARY, sizeof(rx));
			got = 77;
			ck_assert_int_eq(control(modify ? IOCTL_MODIFY
			    : IOCTL_VERIFY, len ? tx : NULL, len, rx, 6, &got),
			    IFD_COMMUNICATION_ERROR);
			ck_assert_uint_eq(got, 0);
			for (size_t i = 0; i < sizeof(rx); i++)
				ck_assert_uint_eq(rx[i], CANARY);
		}
	}
	/* Too few APDU bytes, min > max, bNumberMessage 4. */
	memcpy(tx, verify_s, 19);
	tx[15] = 3;
	memset(tx + 19, 0, 3);
	ck_assert_int_eq(control(IOCTL_VERIFY, tx, 22, rx, 6, &got),
	    IFD_COMMUNICATION_ERROR);
	memcpy(tx, verify_s, sizeof(verify_s));
	tx[5] = 0x04, tx[6] = 0x08;
	ck_assert_int_eq(control(IOCTL_VERIFY, tx, sizeof(verify_s), rx, 6,
	    &got), IFD_COMMUNICATION_ERROR);
	memcpy(tx, modify_s, sizeof(modify_s));
	tx[11] = 4;
	ck_assert_int_eq(control(IOCTL_MODIFY, tx, sizeof(modify_s), rx, 6,
	    &got), IFD_COMMUNICATION_ERROR);
	ft_done(&ft);
}
END_TEST

/* The card answers more than the caller has room for. */
START_TEST(test_output_too_small)
{
	uint8_t rx[8];
	DWORD got = 5;

	open_reader();
	power_up_apdu();
	memset(rx, CANARY, sizeof(rx));
	ft_out(&ft, "69 1C000000 00 ?? 00 0000 00 " VERIFY_BODY
		    " 00 00 00 " APDU_V);
	ft_in(&ft, "80 04000000 00 ?? 00 00 00 01 02 90 00");
	ck_assert_int_eq(control(IOCTL_VERIFY, verify_s, sizeof(verify_s), rx,
	    3, &got), IFD_ERROR_INSUFFICIENT_BUFFER);
	ck_assert_uint_eq(got, 0);
	ck_assert_uint_eq(rx[0], CANARY);
	ft_done(&ft);
}
END_TEST

/* ifdDriverOptions 0x0001 (Escape allowed), as from the Info.plist. */
static void
allow_escape(void)
{
	char path[] = "/tmp/check_features_XXXXXX";
	static const char plist[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<plist version=\"1.0\"><dict>\n"
	    "<key>ifdDriverOptions</key><string>0x0001</string>\n"
	    "</dict></plist>\n";
	int fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, plist, sizeof(plist) - 1),
	    (ssize_t)sizeof(plist) - 1);
	close(fd);
	ck_assert_int_eq(drvconf_load(path), OC_OK);
	unlink(path);
}

START_TEST(test_escape_gated)
{
	uint8_t rx[16];
	DWORD got = 0;

	open_reader();
	ck_assert_int_eq(control(FEATURES_IOCTL_ESCAPE, "\x02", 1, rx,
	    sizeof(rx), &got), IFD_COMMUNICATION_ERROR);
	ck_assert(log_stub_contains("Escape refused"));
	allow_escape();
	ck_assert_int_eq(control(CM_IOCTL_GET_FEATURE_REQUEST, NULL, 0, rx,
	    sizeof(rx) + 0, &got), IFD_ERROR_INSUFFICIENT_BUFFER);
	{
		uint8_t list[64];

		ck_assert_int_eq(control(CM_IOCTL_GET_FEATURE_REQUEST, NULL, 0,
		    list, sizeof(list), &got), IFD_SUCCESS);
		ck_assert_uint_eq(got, 30);
		ck_assert_mem_eq(list + 24, "\x13\x04\x42\x00\x00\x01", 6);
	}
	ft_out(&ft, "6B 01000000 00 ?? 00 0000 02");
	ft_in(&ft, "83 03000000 00 ?? 00 00 00 41 42 43");
	ck_assert_int_eq(control(FEATURES_IOCTL_ESCAPE, "\x02", 1, rx,
	    sizeof(rx), &got), IFD_SUCCESS);
	ck_assert_uint_eq(got, 3);
	ck_assert_mem_eq(rx, "ABC", 3);
	ft_done(&ft);
}
END_TEST

/*
 * Escape without an answer buffer (RxBuffer NULL, RxLength 0): the
 * reader's answer cannot be handed back. Found by fuzz_driver: the
 * driver reported its length as returned, more than RxLength.
 */
START_TEST(test_escape_no_buffer)
{
	DWORD got = 7;

	open_reader();
	allow_escape();
	ft_out(&ft, "6B 01000000 00 ?? 00 0000 02");
	ft_in(&ft, "83 03000000 00 ?? 00 00 00 41 42 43");
	ck_assert_int_eq(control(FEATURES_IOCTL_ESCAPE, "\x02", 1, NULL, 0,
	    &got), IFD_ERROR_INSUFFICIENT_BUFFER);
	ck_assert_uint_eq(got, 0);
	/* An empty answer fits. */
	ft_out(&ft, "6B 01000000 00 ?? 00 0000 02");
	ft_in(&ft, "83 00000000 00 ?? 00 00 00");
	ck_assert_int_eq(control(FEATURES_IOCTL_ESCAPE, "\x02", 1, NULL, 0,
	    &got), IFD_SUCCESS);
	ck_assert_uint_eq(got, 0);
	ft_done(&ft);
}
END_TEST

/* Level 0xff: the Secure frame and its template are not in the log. */
START_TEST(test_log_has_no_pin)
{
	uint8_t rx[6];
	DWORD got = 0;

	oc_log_set_level(0xff);
	open_reader();
	power_up_apdu();
	log_stub_reset();
	ft_out(&ft, "69 1C000000 00 ?? 00 0000 00 " VERIFY_BODY
		    " 00 00 00 " APDU_V);
	ft_in(&ft, "80 02000000 00 ?? 00 00 00 90 00");
	ck_assert_int_eq(control(IOCTL_VERIFY, verify_s, sizeof(verify_s), rx,
	    sizeof(rx), &got), IFD_SUCCESS);
	ft_done(&ft);
	ck_assert(log_stub_count() > 0);
	ck_assert(log_stub_contains("redacted"));
	ck_assert(!log_stub_contains("FF FF"));
	ck_assert(!log_stub_contains("20 00 81"));
}
END_TEST

START_TEST(test_get_attrib)
{
	UCHAR v[64];
	DWORD len;
	uint32_t u;

	open_reader();
	len = sizeof(v);
	ck_assert_int_eq(IFDHGetCapabilities(LUN, SCARD_ATTR_VENDOR_IFD_TYPE,
	    &len, v), IFD_SUCCESS);
	ck_assert_str_eq((char *)v, "PC Pinpad");
	len = sizeof(v);
	ck_assert_int_eq(IFDHGetCapabilities(LUN, SCARD_ATTR_DEFAULT_CLK, &len,
	    v), IFD_SUCCESS);
	memcpy(&u, v, 4);
	ck_assert_uint_eq(u, 4000);
	len = sizeof(v);
	ck_assert_int_eq(IFDHGetCapabilities(LUN, SCARD_ATTR_MAX_DATA_RATE,
	    &len, v), IFD_SUCCESS);
	memcpy(&u, v, 4);
	ck_assert_uint_eq(u, 344086);
	len = sizeof(v);
	ck_assert_int_eq(IFDHGetCapabilities(LUN, SCARD_ATTR_DEFAULT_DATA_RATE,
	    &len, v), IFD_SUCCESS);
	len = sizeof(v);
	ck_assert_int_eq(IFDHGetCapabilities(LUN, SCARD_ATTR_MAX_CLK,
	    &len, v), IFD_SUCCESS);
	len = sizeof(v);
	ck_assert_int_eq(IFDHGetCapabilities(LUN, SCARD_ATTR_MAX_IFSD,
	    &len, v), IFD_SUCCESS);
	memcpy(&u, v, 4);
	ck_assert_uint_eq(u, 254);
	len = 3;
	ck_assert_int_eq(IFDHGetCapabilities(LUN, SCARD_ATTR_MAX_CLK, &len, v),
	    IFD_ERROR_INSUFFICIENT_BUFFER);
	len = 4;
	ck_assert_int_eq(IFDHGetCapabilities(LUN, SCARD_ATTR_VENDOR_IFD_TYPE,
	    &len, v), IFD_ERROR_INSUFFICIENT_BUFFER);
}
END_TEST

/* ---- PIN pad quirks (quirks/pinpad.quirks, libccid-facts K1-K11) ---- */

static struct quirk_table qt;

/* The quirk set of reader 1111:2222 given one row of settings ("" none). */
static void
quirk_set_of(const char *settings, struct quirk_set *qs)
{
	char text[256], err[128];

	quirks_table_init(&qt);
	if (settings[0] != '\0') {
		snprintf(text, sizeof(text), "match vid=1111 pid=2222\nset %s\n",
		    settings);
		ck_assert_msg(quirks_parse(text, strlen(text), "t.quirks", &qt,
		                  err, sizeof(err)) == OC_OK,
		    "%s", err);
	}
	quirks_lookup(&qt, 0x1111, 0x2222, 0x0100, 0, qs);
}

/* Frame (no T=1 prologue) of structure st after the quirks. */
static size_t
quirk_frame(const char *settings, bool modify, const uint8_t *st,
    size_t len, uint8_t *out, struct pinpad_fix *fix)
{
	struct quirk_set qs;
	uint8_t s[64];
	size_t n = 0;

	ck_assert_uint_le(len, sizeof(s));
	memcpy(s, st, len);
	quirk_set_of(settings, &qs);
	pinpad_apply_quirks(&qs, modify, s, len, fix);
	ck_assert_int_eq(pinpad_build(modify, s, len, fix->index_all, 0, 0xFF,
	                     out, 64, &n),
	    OC_OK);
	return n;
}

/* Frame offsets: Verify 7 validation, 8 messages; Modify 10, 11. */
START_TEST(test_quirks_validation)
{
	uint8_t v[sizeof(verify_s)], m[sizeof(modify_s)], out[64];
	struct pinpad_fix fix;

	memcpy(v, verify_s, sizeof(v));
	memcpy(m, modify_s, sizeof(m));
	/* K1: 0 and undefined bits become the fix, defined ones stay. */
	v[7] = 0x00;
	quirk_frame("pinpad_validation_invalid_fix=0x02", false, v, sizeof(v),
	    out, &fix);
	ck_assert_uint_eq(out[7], 0x02);
	quirk_frame("", false, v, sizeof(v), out, &fix);
	ck_assert_uint_eq(out[7], 0x00);
	v[7] = 0x09;
	quirk_frame("pinpad_validation_invalid_fix=0x02", false, v, sizeof(v),
	    out, &fix);
	ck_assert_uint_eq(out[7], 0x02);
	v[7] = 0x05;
	quirk_frame("pinpad_validation_invalid_fix=0x02", false, v, sizeof(v),
	    out, &fix);
	ck_assert_uint_eq(out[7], 0x05);
	m[10] = 0x00;
	quirk_frame("pinpad_validation_invalid_fix=0x02", true, m, sizeof(m),
	    out, &fix);
	ck_assert_uint_eq(out[10], 0x02);
	/* K3: always the fix, Verify and Modify. */
	v[7] = 0x07;
	m[10] = 0x07;
	quirk_frame("pinpad_validation_fix=0x02", false, v, sizeof(v), out,
	    &fix);
	ck_assert_uint_eq(out[7], 0x02);
	quirk_frame("pinpad_validation_fix=0x02", true, m, sizeof(m), out,
	    &fix);
	ck_assert_uint_eq(out[10], 0x02);
	quirk_frame("", true, m, sizeof(m), out, &fix);
	ck_assert_uint_eq(out[10], 0x07);
	/* K4: only a flag here; the Escape is tested through IFDHControl. */
	quirk_frame("pinpad_validation_mask_from_features", false, v,
	    sizeof(v), out, &fix);
	ck_assert(fix.mask_evc);
	quirk_frame("", false, v, sizeof(v), out, &fix);
	ck_assert(!fix.mask_evc);
}
END_TEST

START_TEST(test_quirks_verify)
{
	uint8_t v[sizeof(verify_s)], out[64];
	uint8_t c1[19 + 4];
	struct pinpad_fix fix;

	memcpy(v, verify_s, sizeof(v));
	/* K2 / K5: bNumberMessage forced. */
	v[8] = 0x00;
	quirk_frame("pinpad_msg_count_verify=1", false, v, sizeof(v), out,
	    &fix);
	ck_assert_uint_eq(out[8], 0x01);
	quirk_frame("", false, v, sizeof(v), out, &fix);
	ck_assert_uint_eq(out[8], 0x00);
	v[8] = 0xFF;
	quirk_frame("pinpad_msg_count_verify=0", false, v, sizeof(v), out,
	    &fix);
	ck_assert_uint_eq(out[8], 0x00);
	/* K6: wPINMaxExtraDigit swapped (Verify only). */
	quirk_frame("pinpad_max_extra_digit_swapped", false, v, sizeof(v), out,
	    &fix);
	ck_assert_uint_eq(out[5], 0x04);
	ck_assert_uint_eq(out[6], 0x08);
	quirk_frame("", false, v, sizeof(v), out, &fix);
	ck_assert_uint_eq(out[5], 0x08);
	ck_assert_uint_eq(out[6], 0x04);
	quirk_frame("pinpad_max_extra_digit_swapped", true, modify_s,
	    sizeof(modify_s), out, &fix);
	ck_assert_uint_eq(out[7], 0x08);
	/* K5: the delay. */
	quirk_frame("pinpad_verify_delay_ms=250", false, v, sizeof(v), out,
	    &fix);
	ck_assert_uint_eq(fix.delay_ms, 250);
	quirk_frame("", false, v, sizeof(v), out, &fix);
	ck_assert_uint_eq(fix.delay_ms, 0);
	/* K7: Escape first only for no PIN block and a case 1 APDU. */
	memcpy(c1, verify_s, 19);
	c1[3] = 0x00;
	c1[15] = 4;
	memcpy(c1 + 19, "\x00\x20\x00\x81", 4);
	quirk_frame("pinpad_verify_case1_escape=800200", false, c1, sizeof(c1),
	    out, &fix);
	ck_assert_ptr_nonnull(fix.escape);
	ck_assert_uint_eq(fix.escape_len, 3);
	ck_assert_mem_eq(fix.escape, "\x80\x02\x00", 3);
	quirk_frame("", false, c1, sizeof(c1), out, &fix);
	ck_assert_ptr_null(fix.escape);
	quirk_frame("pinpad_verify_case1_escape=800200", false, v, sizeof(v),
	    out, &fix);
	ck_assert_ptr_null(fix.escape); /* a case 3 APDU */
	c1[3] = 0x08;
	quirk_frame("pinpad_verify_case1_escape=800200", false, c1, sizeof(c1),
	    out, &fix);
	ck_assert_ptr_null(fix.escape); /* a PIN block */
}
END_TEST

/* Modify frame: 15 bytes to bMsgIndex1, then bMsgIndex2/3, prologue. */
START_TEST(test_quirks_modify)
{
	uint8_t m[sizeof(modify_s)], out[64];
	struct pinpad_fix fix;
	size_t n;

	memcpy(m, modify_s, sizeof(m));
	m[11] = 1;
	/* K10: all indexes, the real count. */
	n = quirk_frame("pinpad_modify_msg_index_all", true, m, sizeof(m), out,
	    &fix);
	ck_assert_uint_eq(n, 20 + 21);
	ck_assert_uint_eq(out[11], 1);
	ck_assert_mem_eq(out + 14, "\x00\x01\x02", 3);
	n = quirk_frame("", true, m, sizeof(m), out, &fix);
	ck_assert_uint_eq(n, 18 + 21);
	ck_assert_uint_eq(out[11], 1);
	/* K8: all indexes, count 0 in the frame. */
	n = quirk_frame("pinpad_modify_msg_index_all pinpad_msg_count_modify=0",
	    true, m, sizeof(m), out, &fix);
	ck_assert_uint_eq(n, 20 + 21);
	ck_assert_uint_eq(out[11], 0);
	/* K9: count 3, so the indexes go too. */
	n = quirk_frame("pinpad_msg_count_modify=3", true, m, sizeof(m), out,
	    &fix);
	ck_assert_uint_eq(n, 20 + 21);
	ck_assert_uint_eq(out[11], 3);
	/* K11: 00 becomes FF (then bMsgIndex2/3 are part of it). */
	m[11] = 0;
	n = quirk_frame("pinpad_modify_msg_count_zero_as=0xff", true, m,
	    sizeof(m), out, &fix);
	ck_assert_uint_eq(out[11], 0xFF);
	ck_assert_uint_eq(n, 20 + 21);
	n = quirk_frame("", true, m, sizeof(m), out, &fix);
	ck_assert_uint_eq(out[11], 0);
	ck_assert_uint_eq(n, 18 + 21);
	m[11] = 2;
	quirk_frame("pinpad_modify_msg_count_zero_as=0xff", true, m, sizeof(m),
	    out, &fix);
	ck_assert_uint_eq(out[11], 2);
	/* NULL set, short structure: nothing changes, nothing read. */
	pinpad_apply_quirks(NULL, true, m, sizeof(m), &fix);
	ck_assert(!fix.index_all);
	pinpad_apply_quirks(NULL, false, m, 3, &fix);
}
END_TEST

/*
 * Through IFDHControl with the shipped rows: GemPC Pinpad (K2, K3, K4
 * with the firmware features Escape 6A), another Gemalto reader whose
 * features allow validation 0x03 only, Dell SK-3106 (K5 delay, K6),
 * SPR532 (K7 Escape 80 02 00 before a case 1 Verify).
 */
START_TEST(test_quirks_readers)
{
	uint8_t v[sizeof(verify_s)], c1[19 + 4], rx[6];
	DWORD got = 0;
	struct timespec t0, t1;
	long ms;

	memcpy(v, verify_s, sizeof(v));
	v[7] = 0x07; /* every condition */
	v[8] = 0x00; /* no message */
	info.vid = 0x08e6;
	info.pid = 0x3478;
	open_reader();
	power_up_apdu();
	ft_out(&ft, "6B 01000000 00 ?? 00 0000 6A");
	ft_in(&ft, "83 10000000 00 ?? 00 00 00 02 10 01 02 1F 04 08 00 "
		   "00 00 00 00 00 00 00 00");
	ft_out(&ft, "69 1C000000 00 ?? 00 0000 00 00 82 00 00 08 04 02 01 "
		    "09 04 00 00 00 00 " APDU_V);
	ft_in(&ft, "80 02000000 00 ?? 00 00 00 90 00");
	ck_assert_int_eq(control(IOCTL_VERIFY, v, sizeof(v), rx, sizeof(rx),
	    &got), IFD_SUCCESS);
	ck_assert_mem_eq(rx, "\x90\x00", 2);
	ft_done(&ft);
	teardown();
	setup();

	info.vid = 0x08e6;
	info.pid = 0x3437; /* GemPC Twin: no K2/K3 row, K4 only */
	info.bcdDevice = 0x0300; /* (0x0200 reads a ZLP before writes) */
	open_reader();
	power_up_apdu();
	ft_out(&ft, "6B 01000000 00 ?? 00 0000 6A");
	ft_in(&ft, "83 10000000 00 ?? 00 00 00 02 10 01 03 1F 04 08 00 "
		   "00 00 00 00 00 00 00 00");
	ft_out(&ft, "69 1C000000 00 ?? 00 0000 00 00 82 00 00 08 04 03 00 "
		    "09 04 00 00 00 00 " APDU_V);
	ft_in(&ft, "80 02000000 00 ?? 00 00 00 90 00");
	ck_assert_int_eq(control(IOCTL_VERIFY, v, sizeof(v), rx, sizeof(rx),
	    &got), IFD_SUCCESS);
	/* No features (Escape refused): the condition stays. */
	ft_out(&ft, "6B 01000000 00 ?? 00 0000 6A");
	ft_in(&ft, "83 00000000 00 ?? 40 00 00");
	ft_out(&ft, "69 1C000000 00 ?? 00 0000 00 00 82 00 00 08 04 07 00 "
		    "09 04 00 00 00 00 " APDU_V);
	ft_in(&ft, "80 02000000 00 ?? 00 00 00 90 00");
	ck_assert_int_eq(control(IOCTL_VERIFY, v, sizeof(v), rx, sizeof(rx),
	    &got), IFD_SUCCESS);
	ft_done(&ft);
	teardown();
	setup();

	info.vid = 0x413c;
	info.pid = 0x2100;
	open_reader();
	power_up_apdu();
	/* bNumberMessage 00, wPINMaxExtraDigit 04 08, after 250 ms. */
	ft_out(&ft, "69 1C000000 00 ?? 00 0000 00 00 82 00 00 04 08 07 00 "
		    "09 04 00 00 00 00 " APDU_V);
	ft_in(&ft, "80 02000000 00 ?? 00 00 00 90 00");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(control(IOCTL_VERIFY, v, sizeof(v), rx, sizeof(rx),
	    &got), IFD_SUCCESS);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (long)(t1.tv_sec - t0.tv_sec) * 1000 +
	     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ck_assert_int_ge(ms, 250);
	ft_done(&ft);
	teardown();
	setup();

	info.vid = 0x04e6;
	info.pid = 0xe003;
	info.bcdDevice = 0x0520; /* firmware below 5.10 is refused */
	open_reader();
	power_up_apdu();
	memcpy(c1, verify_s, 19);
	c1[3] = 0x00;
	c1[15] = 4;
	memcpy(c1 + 19, "\x00\x20\x00\x81", 4);
	ft_out(&ft, "6B 03000000 00 ?? 00 0000 80 02 00");
	ft_in(&ft, "83 00000000 00 ?? 00 00 00");
	ft_out(&ft, "69 13000000 00 ?? 00 0000 00 00 82 00 00 08 04 02 01 "
		    "09 04 00 00 00 00 00 20 00 81");
	ft_in(&ft, "80 02000000 00 ?? 00 00 00 90 00");
	ck_assert_int_eq(control(IOCTL_VERIFY, c1, sizeof(c1), rx, sizeof(rx),
	    &got), IFD_SUCCESS);
	/* A case 3 Verify: no Escape. */
	ft_out(&ft, "69 1C000000 00 ?? 00 0000 00 " VERIFY_BODY
		    " 00 00 00 " APDU_V);
	ft_in(&ft, "80 02000000 00 ?? 00 00 00 90 00");
	ck_assert_int_eq(control(IOCTL_VERIFY, verify_s, sizeof(verify_s), rx,
	    sizeof(rx), &got), IFD_SUCCESS);
	ft_done(&ft);
}
END_TEST

static Suite *
features_suite(void)
{
	Suite *s = suite_create("features");
	TCase *tc = tcase_create("part10");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_feature_list);
	tcase_add_test(tc, test_no_pin_features);
	tcase_add_test(tc, test_tlv_and_pin_properties);
	tcase_add_test(tc, test_verify_apdu_level);
	tcase_add_test(tc, test_keypad_status_words);
	tcase_add_test(tc, test_modify_apdu_level);
	tcase_add_test(tc, test_verify_tpdu_t1);
	tcase_add_test(tc, test_modify_tpdu_t1);
	tcase_add_test(tc, test_malformed_structures);
	tcase_add_test(tc, test_output_too_small);
	tcase_add_test(tc, test_escape_gated);
	tcase_add_test(tc, test_escape_no_buffer);
	tcase_add_test(tc, test_log_has_no_pin);
	tcase_add_test(tc, test_get_attrib);
	tcase_add_test(tc, test_quirks_validation);
	tcase_add_test(tc, test_quirks_verify);
	tcase_add_test(tc, test_quirks_modify);
	tcase_add_test(tc, test_quirks_readers);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(features_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
