/*
 * openccid - the IFDH entry points against a scripted transport.
 *
 * usb_open() is replaced here (libocc_core has no usb.c): it hands the
 * fake transport to IFDHCreateChannelByName, which then goes through
 * reader_open_with_transport() as with a real device.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <ifdhandler.h>
#include <PCSC/reader.h>

#include "codec/ccid_desc.h"
#include "base/err.h"
#include "fake_transport.h"
#include "base/log.h"
#include "log_stub.h"
#include "transport/usb.h"

#define LUN 0x10000UL /* reader 1, slot 0 */
#define DEVNAME "usb:072f/90cc:libudev:0:/dev/bus/usb/001/005"
#define SLOT_STATUS_CMD "65 00000000 00 ?? 00 0000"
#define SLOT_STATUS_OK "81 00000000 00 ?? 00 00 00"

static char devname[] = DEVNAME;

static struct fake_transport ft;
static struct transport fake_tr;
static struct usb_info info;

int
usb_open(const struct devname *dn, const struct usb_hooks *hooks,
    struct transport *tr, struct usb_info *out)
{
	ck_assert_uint_eq(dn->vid, 0x072f);
	ck_assert(!hooks->in_use(hooks->arg, 1, 5, 0));
	*tr = fake_tr;
	*out = info;
	return OC_OK;
}

static void
set_reader(enum ccid_level level, uint32_t max_msg, uint32_t extra_feat)
{
	static const uint32_t feat[] = {
	    [CCID_XCHG_CHARACTER] = CCID_LEVEL_CHAR,
	    [CCID_XCHG_TPDU] = CCID_LEVEL_TPDU,
	    [CCID_XCHG_SHORT_APDU] = CCID_LEVEL_SHORT_APDU,
	    [CCID_XCHG_EXTENDED_APDU] = CCID_LEVEL_EXT_APDU,
	};

	memset(&info, 0, sizeof(info));
	info.vid = 0x072f;
	info.pid = 0x90cc;
	info.bcdDevice = 0x0102;
	info.bus = 1;
	info.addr = 5;
	strcpy(info.manufacturer, "ACME");
	strcpy(info.product, "Reader");
	strcpy(info.serial, "1234");
	info.desc.bVoltageSupport = 0x07;
	info.desc.dwProtocols = 3;
	info.desc.dwFeatures = feat[level] | extra_feat;
	info.desc.dwMaxCCIDMessageLength = max_msg;
	info.desc.level = level;
}

static void
open_reader(void)
{
	ft_out(&ft, SLOT_STATUS_CMD);
	ft_in(&ft, SLOT_STATUS_OK);
	ck_assert_int_eq(IFDHCreateChannelByName(LUN, devname),
	    IFD_SUCCESS);
	ft_done(&ft);
}

/* Power-on with automatic voltage; the ATR is 3B 02 14 50 (T=0). */
static void
power_up(void)
{
	UCHAR atr[MAX_ATR_SIZE];
	DWORD len = sizeof(atr);

	ft_out(&ft, "62 00000000 00 ?? 00 0000");
	ft_in(&ft, "80 04000000 00 ?? 00 00 00 3B 02 14 50");
	ck_assert_int_eq(IFDHPowerICC(LUN, IFD_POWER_UP, atr, &len),
	    IFD_SUCCESS);
	ck_assert_uint_eq(len, 4);
	ck_assert_mem_eq(atr, "\x3B\x02\x14\x50", 4);
	ft_done(&ft);
}

static void
close_reader(bool powered)
{
	if (powered) {
		ft_out(&ft, "63 00000000 00 ?? 00 0000");
		ft_in(&ft, "81 00000000 00 ?? 01 00 00");
	}
	ck_assert_int_eq(IFDHCloseChannel(LUN), IFD_SUCCESS);
	ft_done(&ft);
	ck_assert_uint_eq(ft.closes, 1);
}

static void
setup(void)
{
	oc_log_set_level(0x0f);
	log_stub_reset();
	ft_init(&ft, &fake_tr);
	set_reader(CCID_XCHG_SHORT_APDU, 271, CCID_FEAT_AUTO_VOLTAGE);
}

static void
teardown(void)
{
	ft_free(&ft);
}

START_TEST(test_open_power_close)
{
	open_reader();
	power_up();
	close_reader(true);
}
END_TEST

START_TEST(test_open_fails_without_answer)
{
	ft_out(&ft, SLOT_STATUS_CMD);
	ft_in_err(&ft, OC_EPROTO);
	ft_out(&ft, SLOT_STATUS_CMD);
	ft_in_err(&ft, OC_EPROTO);
	ck_assert_int_eq(IFDHCreateChannelByName(LUN, devname),
	    IFD_COMMUNICATION_ERROR);
	ft_done(&ft);
	ck_assert_uint_eq(ft.closes, 1);
	ck_assert_int_eq(IFDHICCPresence(LUN), IFD_COMMUNICATION_ERROR);
}
END_TEST

START_TEST(test_bad_devname)
{
	char bad[] = "serial:x";

	ck_assert_int_eq(IFDHCreateChannelByName(LUN, bad),
	    IFD_COMMUNICATION_ERROR);
	ft_done(&ft);
}
END_TEST

START_TEST(test_voltage_fallback)
{
	UCHAR atr[MAX_ATR_SIZE];
	DWORD len = sizeof(atr);

	set_reader(CCID_XCHG_SHORT_APDU, 271, 0);
	open_reader();
	/* 5 V: class not supported, power off, then 3 V works. */
	ft_out(&ft, "62 00000000 00 ?? 01 0000");
	ft_in(&ft, "80 00000000 00 ?? 41 F5 00");
	ft_out(&ft, "63 00000000 00 ?? 00 0000");
	ft_in(&ft, "81 00000000 00 ?? 01 00 00");
	ft_out(&ft, "62 00000000 00 ?? 02 0000");
	ft_in(&ft, "80 04000000 00 ?? 00 00 00 3B 02 14 50");
	ck_assert_int_eq(IFDHPowerICC(LUN, IFD_POWER_UP, atr, &len),
	    IFD_SUCCESS);
	ck_assert_uint_eq(len, 4);
	ft_done(&ft);
}
END_TEST

/* A truncated ATR (3B FF 11: TA1..TD1 and 15 bytes announced) is not
 * reported: one power-off/power-on, then the card's real ATR. */
START_TEST(test_truncated_atr_powered_again)
{
	UCHAR atr[MAX_ATR_SIZE];
	DWORD len = sizeof(atr);

	open_reader();
	ft_out(&ft, "62 00000000 00 ?? 00 0000");
	ft_in(&ft, "80 03000000 00 ?? 00 00 00 3B FF 11");
	ft_out(&ft, "63 00000000 00 ?? 00 0000");
	ft_in(&ft, "81 00000000 00 ?? 01 00 00");
	ft_out(&ft, "62 00000000 00 ?? 00 0000");
	ft_in(&ft, "80 04000000 00 ?? 00 00 00 3B 02 14 50");
	ck_assert_int_eq(IFDHPowerICC(LUN, IFD_POWER_UP, atr, &len),
	    IFD_SUCCESS);
	ck_assert_uint_eq(len, 4);
	ck_assert_mem_eq(atr, "\x3B\x02\x14\x50", 4);
	ft_done(&ft);
	/* Truncated twice: an error, never the bad ATR. */
	len = sizeof(atr);
	ft_out(&ft, "62 00000000 00 ?? 00 0000");
	ft_in(&ft, "80 03000000 00 ?? 00 00 00 3B FF 11");
	ft_out(&ft, "63 00000000 00 ?? 00 0000");
	ft_in(&ft, "81 00000000 00 ?? 01 00 00");
	ft_out(&ft, "62 00000000 00 ?? 00 0000");
	ft_in(&ft, "80 03000000 00 ?? 00 00 00 3B FF 11");
	ck_assert_int_ne(IFDHPowerICC(LUN, IFD_POWER_UP, atr, &len),
	    IFD_SUCCESS);
	ck_assert_uint_eq(len, 0);
	ft_done(&ft);
}
END_TEST

START_TEST(test_power_up_no_card)
{
	UCHAR atr[MAX_ATR_SIZE];
	DWORD len = sizeof(atr);

	open_reader();
	ft_out(&ft, "62 00000000 00 ?? 00 0000");
	ft_in(&ft, "80 00000000 00 ?? 42 FE 00");
	ck_assert_int_eq(IFDHPowerICC(LUN, IFD_POWER_UP, atr, &len),
	    IFD_ICC_NOT_PRESENT);
	ck_assert_uint_eq(len, 0);
	ft_done(&ft);
}
END_TEST

START_TEST(test_atr_buffer_too_small)
{
	UCHAR atr[MAX_ATR_SIZE];
	DWORD len = 2;

	open_reader();
	ft_out(&ft, "62 00000000 00 ?? 00 0000");
	ft_in(&ft, "80 04000000 00 ?? 00 00 00 3B 02 14 50");
	ck_assert_int_eq(IFDHPowerICC(LUN, IFD_POWER_UP, atr, &len),
	    IFD_ERROR_INSUFFICIENT_BUFFER);
	ck_assert_uint_eq(len, 0);
	ft_done(&ft);
}
END_TEST

/* A card protocol outside the reader's dwProtocols: refused, logged. */
START_TEST(test_protocol_not_in_dwprotocols)
{
	info.desc.dwProtocols = 2; /* T=1 only; the card offers T=0 */
	open_reader();
	power_up();
	ck_assert_int_eq(IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T0, 0,
			     0, 0, 0),
	    IFD_PROTOCOL_NOT_SUPPORTED);
	ck_assert(log_stub_contains("T=0 not offered by the reader"));
	ft_done(&ft);
}
END_TEST

START_TEST(test_transmit_short)
{
	UCHAR apdu[] = {0x00, 0x84, 0x00, 0x00, 0x04};
	SCARD_IO_HEADER pci = {SCARD_PROTOCOL_T0, 8};
	UCHAR rx[300];
	DWORD rxlen = sizeof(rx);

	open_reader();
	power_up();
	ck_assert_int_eq(IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T0, 0,
			     0, 0, 0),
	    IFD_SUCCESS);
	ck_assert_int_eq(IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T1, 0,
			     0, 0, 0),
	    IFD_PROTOCOL_NOT_SUPPORTED);
	ft_out(&ft, "6F 05000000 00 ?? 00 0000 00 84 00 00 04");
	ft_in(&ft, "80 06000000 00 ?? 00 00 00 01 02 03 04 90 00");
	ck_assert_int_eq(IFDHTransmitToICC(LUN, pci, apdu,
			     sizeof(apdu), rx, &rxlen, NULL),
	    IFD_SUCCESS);
	ck_assert_uint_eq(rxlen, 6);
	ck_assert_mem_eq(rx, "\x01\x02\x03\x04\x90\x00", 6);
	ft_done(&ft);
}
END_TEST

/* An APDU-level answer without a status word is no R-APDU (issue 12). */
START_TEST(test_transmit_answer_without_sw)
{
	static const char *const answers[] = {
	    "80 00000000 00 ?? 00 00 00",		/* empty */
	    "80 01000000 00 ?? 00 00 00 90",		/* SW cut */
	    "80 03000000 00 ?? 00 00 00 90 00 FF",	/* padded: SW1 00 */
	};
	UCHAR apdu[] = {0x00, 0x84, 0x00, 0x00, 0x04};
	SCARD_IO_HEADER pci = {SCARD_PROTOCOL_T0, 8};
	UCHAR rx[300];
	DWORD rxlen;
	size_t i;

	open_reader();
	power_up();
	for (i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		rxlen = sizeof(rx);
		ft_out(&ft, "6F 05000000 00 ?? 00 0000 00 84 00 00 04");
		ft_in(&ft, answers[i]);
		ck_assert_int_eq(IFDHTransmitToICC(LUN, pci, apdu,
				     sizeof(apdu), rx, &rxlen, NULL),
		    IFD_COMMUNICATION_ERROR);
		ck_assert_uint_eq(rxlen, 0);
	}
	ck_assert(log_stub_contains("without a status word"));
	ft_done(&ft);
}
END_TEST

START_TEST(test_transmit_insufficient_buffer)
{
	UCHAR apdu[] = {0x00, 0x84, 0x00, 0x00, 0x04};
	SCARD_IO_HEADER pci = {SCARD_PROTOCOL_T0, 8};
	UCHAR rx[4];
	DWORD rxlen = sizeof(rx);

	open_reader();
	power_up();
	ft_out(&ft, "6F 05000000 00 ?? 00 0000 00 84 00 00 04");
	ft_in(&ft, "80 06000000 00 ?? 00 00 00 01 02 03 04 90 00");
	ck_assert_int_eq(IFDHTransmitToICC(LUN, pci, apdu,
			     sizeof(apdu), rx, &rxlen, NULL),
	    IFD_ERROR_INSUFFICIENT_BUFFER);
	ck_assert_uint_eq(rxlen, 0);
	ft_done(&ft);
}
END_TEST

START_TEST(test_short_reader_refuses_extended)
{
	UCHAR apdu[] = {0x00, 0xB0, 0x00, 0x00, 0x00, 0x01, 0x00};
	SCARD_IO_HEADER pci = {SCARD_PROTOCOL_T0, 8};
	UCHAR rx[300];
	DWORD rxlen = sizeof(rx);

	open_reader();
	power_up();
	ck_assert_int_eq(IFDHTransmitToICC(LUN, pci, apdu,
			     sizeof(apdu), rx, &rxlen, NULL),
	    IFD_NOT_SUPPORTED);
	ck_assert_uint_eq(rxlen, 0);
	ck_assert(log_stub_contains("not a short APDU"));
	ft_done(&ft);
}
END_TEST

/* dwMaxCCIDMessageLength 64: chunks of 54 bytes (CCID rev 1.1 6.1.4). */
START_TEST(test_transmit_extended_chained)
{
	SCARD_IO_HEADER pci = {SCARD_PROTOCOL_T1, 8};
	uint8_t tx[120], msg[64], resp[64], rx[100];
	DWORD rxlen = sizeof(rx);
	size_t i;

	set_reader(CCID_XCHG_EXTENDED_APDU, 64, CCID_FEAT_AUTO_VOLTAGE);
	open_reader();
	power_up();
	for (i = 0; i < sizeof(tx); i++)
		tx[i] = (uint8_t)i;
	for (i = 0; i < sizeof(resp); i++)
		resp[i] = (uint8_t)(0xA0 + i);
	resp[62] = 0x90; /* the card's SW ends the R-APDU */
	resp[63] = 0x00;
	/* 54 bytes with wLevelParameter 0001, 54 with 0003, 12 with 0002. */
	memcpy(msg, "\x6F\x36\x00\x00\x00\x00\x00\x00\x01\x00", 10);
	memcpy(msg + 10, tx, 54);
	ft_out_bytes(&ft, msg, 64);
	ft_in(&ft, "80 00000000 00 ?? 00 00 10");
	msg[8] = 0x03;
	memcpy(msg + 10, tx + 54, 54);
	ft_out_bytes(&ft, msg, 64);
	ft_in(&ft, "80 00000000 00 ?? 00 00 10");
	msg[1] = 12;
	msg[8] = 0x02;
	memcpy(msg + 10, tx + 108, 12);
	ft_out_bytes(&ft, msg, 22);
	/* Response: 54 bytes (chain 01), then 10 (chain 02). */
	ft_in_data(&ft, "80 36000000 00 ?? 00 00 01", resp, 54);
	ft_out(&ft, "6F 00000000 00 ?? 00 1000");
	ft_in_data(&ft, "80 0A000000 00 ?? 00 00 02", resp + 54, 10);
	ck_assert_int_eq(IFDHTransmitToICC(LUN, pci, tx, sizeof(tx), rx,
			     &rxlen, NULL),
	    IFD_SUCCESS);
	ck_assert_uint_eq(rxlen, 64);
	ck_assert_mem_eq(rx, resp, 64);
	ft_done(&ft);
}
END_TEST

START_TEST(test_transmit_extended_overflow_drains)
{
	UCHAR apdu[] = {0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x00};
	SCARD_IO_HEADER pci = {SCARD_PROTOCOL_T1, 8};
	uint8_t resp[54], rx[60];
	DWORD rxlen = sizeof(rx);

	memset(resp, 0x55, sizeof(resp));
	set_reader(CCID_XCHG_EXTENDED_APDU, 64, CCID_FEAT_AUTO_VOLTAGE);
	open_reader();
	power_up();
	ft_out(&ft, "6F 07000000 00 ?? 00 0000 00 B0 00 00 00 00 00");
	ft_in_data(&ft, "80 36000000 00 ?? 00 00 01", resp, 54);
	ft_out(&ft, "6F 00000000 00 ?? 00 1000");
	ft_in_data(&ft, "80 36000000 00 ?? 00 00 03", resp, 54);
	ft_out(&ft, "6F 00000000 00 ?? 00 1000");
	ft_in_data(&ft, "80 02000000 00 ?? 00 00 02", resp, 2);
	ck_assert_int_eq(IFDHTransmitToICC(LUN, pci, apdu,
			     sizeof(apdu), rx, &rxlen, NULL),
	    IFD_ERROR_INSUFFICIENT_BUFFER);
	ck_assert_uint_eq(rxlen, 0);
	ft_done(&ft);
}
END_TEST

START_TEST(test_presence)
{
	open_reader();
	ft_out(&ft, SLOT_STATUS_CMD);
	ft_in(&ft, "81 00000000 00 ?? 01 00 00");
	ck_assert_int_eq(IFDHICCPresence(LUN), IFD_ICC_PRESENT);
	ft_out(&ft, SLOT_STATUS_CMD);
	ft_in(&ft, "81 00000000 00 ?? 02 00 00");
	ck_assert_int_eq(IFDHICCPresence(LUN), IFD_ICC_NOT_PRESENT);
	ft_out(&ft, SLOT_STATUS_CMD);
	ft_in_err(&ft, OC_ENODEV);
	ck_assert_int_eq(IFDHICCPresence(LUN), IFD_NO_SUCH_DEVICE);
	ft_done(&ft);
	ck_assert_int_eq(IFDHICCPresence(LUN + 0x10000), IFD_COMMUNICATION_ERROR);
}
END_TEST

START_TEST(test_device_removed)
{
	UCHAR one = 1;

	open_reader();
	ck_assert_int_eq(IFDHSetCapabilities(LUN, TAG_IFD_DEVICE_REMOVED, 1,
			     &one),
	    IFD_SUCCESS);
	/* No I/O any more: the empty script would fail any transfer. */
	ck_assert_int_eq(IFDHICCPresence(LUN), IFD_NO_SUCH_DEVICE);
	ck_assert_int_eq(IFDHSetCapabilities(LUN, TAG_IFD_SLOTNUM, 1, &one),
	    IFD_ERROR_TAG);
	close_reader(false);
}
END_TEST

static uint32_t
u32_of(const UCHAR *v)
{
	uint32_t x;

	memcpy(&x, v, sizeof(x));
	return x;
}

START_TEST(test_capabilities)
{
	UCHAR v[64];
	DWORD len;

	open_reader();
	power_up();
	len = sizeof(v);
	ck_assert_int_eq(IFDHGetCapabilities(LUN, TAG_IFD_ATR, &len, v),
	    IFD_SUCCESS);
	ck_assert_uint_eq(len, 4);
	len = 3;
	ck_assert_int_eq(IFDHGetCapabilities(LUN, SCARD_ATTR_ATR_STRING, &len,
			     v),
	    IFD_ERROR_INSUFFICIENT_BUFFER);
	len = sizeof(v);
	ck_assert_int_eq(IFDHGetCapabilities(LUN, TAG_IFD_SLOTS_NUMBER, &len,
			     v),
	    IFD_SUCCESS);
	ck_assert_uint_eq(len, 1);
	ck_assert_uint_eq(v[0], 1);
	len = 0;
	ck_assert_int_eq(IFDHGetCapabilities(LUN, TAG_IFD_THREAD_SAFE, &len,
			     v),
	    IFD_ERROR_INSUFFICIENT_BUFFER);
	len = sizeof(v);
	ck_assert_int_eq(IFDHGetCapabilities(LUN, TAG_IFD_SLOT_THREAD_SAFE,
			     &len, v),
	    IFD_SUCCESS);
	len = sizeof(v);
	ck_assert_int_eq(IFDHGetCapabilities(LUN, TAG_IFD_SIMULTANEOUS_ACCESS,
			     &len, v),
	    IFD_SUCCESS);
	len = sizeof(v);
	ck_assert_int_eq(IFDHGetCapabilities(LUN,
			     SCARD_ATTR_ICC_INTERFACE_STATUS, &len, v),
	    IFD_SUCCESS);
	ck_assert_uint_eq(v[0], 1);
	len = sizeof(v);
	ck_assert_int_eq(IFDHGetCapabilities(LUN, SCARD_ATTR_VENDOR_NAME, &len,
			     v),
	    IFD_SUCCESS);
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq((char *)v, "ACME");
	len = 4;
	ck_assert_int_eq(IFDHGetCapabilities(LUN, SCARD_ATTR_VENDOR_NAME, &len,
			     v),
	    IFD_ERROR_INSUFFICIENT_BUFFER);
	len = sizeof(v);
	ck_assert_int_eq(IFDHGetCapabilities(LUN,
			     SCARD_ATTR_VENDOR_IFD_SERIAL_NO, &len, v),
	    IFD_SUCCESS);
	ck_assert_str_eq((char *)v, "1234");
	len = sizeof(v);
	ck_assert_int_eq(IFDHGetCapabilities(LUN,
			     SCARD_ATTR_VENDOR_IFD_VERSION, &len, v),
	    IFD_SUCCESS);
	ck_assert_uint_eq(len, 4);
	ck_assert_uint_eq(u32_of(v), 0x01020000);
	len = 3;
	ck_assert_int_eq(IFDHGetCapabilities(LUN, SCARD_ATTR_MAXINPUT, &len, v),
	    IFD_ERROR_INSUFFICIENT_BUFFER);
	len = sizeof(v);
	ck_assert_int_eq(IFDHGetCapabilities(LUN, SCARD_ATTR_MAXINPUT, &len, v),
	    IFD_SUCCESS);
	ck_assert_uint_eq(u32_of(v), 261);
	len = sizeof(v);
	ck_assert_int_eq(IFDHGetCapabilities(LUN, SCARD_ATTR_CHANNEL_ID, &len,
			     v),
	    IFD_SUCCESS);
	ck_assert_uint_eq(u32_of(v), 0x00200105);
	/* Presence through the attribute talks to the reader. */
	ft_out(&ft, SLOT_STATUS_CMD);
	ft_in(&ft, SLOT_STATUS_OK);
	len = sizeof(v);
	ck_assert_int_eq(IFDHGetCapabilities(LUN, SCARD_ATTR_ICC_PRESENCE,
			     &len, v),
	    IFD_SUCCESS);
	ck_assert_uint_eq(v[0], 2);
	len = sizeof(v);
	ck_assert_int_eq(IFDHGetCapabilities(LUN, 0x12345, &len, v),
	    IFD_ERROR_TAG);
	ft_done(&ft);
}
END_TEST

START_TEST(test_control_not_supported)
{
	UCHAR rx[8];
	DWORD got = 99;

	open_reader();
	/* An unknown code (part 10 itself: check_features). */
	ck_assert_int_eq(IFDHControl(LUN, 0x42001234, NULL, 0, rx, sizeof(rx),
			     &got),
	    IFD_ERROR_NOT_SUPPORTED);
	ck_assert_uint_eq(got, 0);
}
END_TEST

static Suite *
ifdh_suite(void)
{
	Suite *s = suite_create("ifdh");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_open_power_close);
	tcase_add_test(tc, test_protocol_not_in_dwprotocols);
	tcase_add_test(tc, test_open_fails_without_answer);
	tcase_add_test(tc, test_bad_devname);
	tcase_add_test(tc, test_voltage_fallback);
	tcase_add_test(tc, test_truncated_atr_powered_again);
	tcase_add_test(tc, test_power_up_no_card);
	tcase_add_test(tc, test_atr_buffer_too_small);
	tcase_add_test(tc, test_transmit_short);
	tcase_add_test(tc, test_transmit_insufficient_buffer);
	tcase_add_test(tc, test_short_reader_refuses_extended);
	tcase_add_test(tc, test_transmit_extended_chained);
	tcase_add_test(tc, test_transmit_extended_overflow_drains);
	tcase_add_test(tc, test_transmit_answer_without_sw);
	tcase_add_test(tc, test_presence);
	tcase_add_test(tc, test_device_removed);
	tcase_add_test(tc, test_capabilities);
	tcase_add_test(tc, test_control_not_supported);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ifdh_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
