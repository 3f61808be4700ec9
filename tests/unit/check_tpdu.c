/*
 * openccid - TPDU-level readers through the IFDH entry points: reader
 * lists, PPS, SetParameters, IFSD, T=1 and T=0 exchanges, with the
 * exact bytes on the wire (scripted transport).
 *
 * The reader is a GemPC Key (08e6:3438) as its descriptor reads:
 * TPDU level, dwFeatures 0x00010230, 4 MHz, dwMaxDataRate 344086,
 * dwMaxIFSD 254, dwMaxCCIDMessageLength 271. Class requests get their
 * answers from a small queue next to the fake transport's script.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ifdhandler.h>
#include <PCSC/reader.h>

#include "codec/ccid_desc.h"
#include "base/err.h"
#include "fake_transport.h"
#include "ifdh_fixture.h"
#include "base/log.h"
#include "log_stub.h"
#include "reader/negotiate.h"
#include "reader/reader.h"
#include "transport/usb.h"
#include "card/t0_char.h"
#include "reader/xfr_tpdu.h"
#include "reader/xfr_wait.h"

#define LUN      0x20000UL
#define DEVNAME  "usb:08e6/3438:libudev:0:/dev/bus/usb/001/007"
#define CTRL_MAX 8

/* 3B 95 18 81 31 10 45 + 5 historical bytes: TA1 0x18 (Fi 372, Di 12),
 * T=1, IFSC 16, BWI 4, CWI 5. */
static const uint8_t atr_t1[] = {0x3B, 0x95, 0x18, 0x81, 0x31, 0x10, 0x45, 0x80,
    0x73, 0xC8, 0x21, 0x10, 0x62};
#define ATR_T1_HEX "3B 95 18 81 31 10 45 80 73 C8 21 10 62"
/* 3B 80 80 01 01: T=0 first, T=1 offered too, default Fi/Di. */
#define ATR_T0_T1_HEX "3B 80 80 01 01"
/* 3B 02 14 50: T=0 only. */
#define ATR_T0_HEX "3B 02 14 50"
/* 3B 90 13 11 01 93: specific mode (TA2 0x01), T=1, TA1 0x13. */
#define ATR_SPECIFIC_HEX "3B 90 13 11 01 93"

static char devname[] = DEVNAME;
static struct transport_ops wrap_ops;

static struct {
	uint8_t data[512];
	size_t len;
} ctrl_q[CTRL_MAX];
static size_t ctrl_n, ctrl_pos;
static size_t ctrl_wlength;

/* The fake checks order and bRequest; the data comes from ctrl_q. */
static int
wrap_control(void *ctx, uint8_t bmRequestType, uint8_t bRequest,
    uint16_t wValue, uint8_t *data, size_t len, size_t *got,
    unsigned timeout_ms)
{
	size_t n;
	int rc;

	rc = fx.fake_tr.ops->control(
	    ctx, bmRequestType, bRequest, wValue, data, len, got, timeout_ms);
	if (rc != OC_OK)
		return rc;
	ck_assert_uint_eq(bmRequestType, 0xA1);
	ck_assert_uint_eq(wValue, 0);
	ck_assert_msg(ctrl_pos < ctrl_n, "no class request answer queued");
	ctrl_wlength = len;
	n = ctrl_q[ctrl_pos].len < len ? ctrl_q[ctrl_pos].len : len;
	memcpy(data, ctrl_q[ctrl_pos].data, n);
	ctrl_pos++;
	*got = n;
	return OC_OK;
}

static void
ctrl_answer(uint8_t bRequest, const uint32_t *v, size_t n)
{
	size_t i;

	ck_assert(ctrl_n < CTRL_MAX && n * 4 <= sizeof(ctrl_q[0].data));
	ft_control(&fx.ft, bRequest);
	for (i = 0; i < n; i++) {
		ctrl_q[ctrl_n].data[4 * i] = (uint8_t)v[i];
		ctrl_q[ctrl_n].data[4 * i + 1] = (uint8_t)(v[i] >> 8);
		ctrl_q[ctrl_n].data[4 * i + 2] = (uint8_t)(v[i] >> 16);
		ctrl_q[ctrl_n].data[4 * i + 3] = (uint8_t)(v[i] >> 24);
	}
	ctrl_q[ctrl_n++].len = n * 4;
}

static void
set_reader(uint32_t extra_feat)
{
	fx_reader(0x08e6, 0x3438, 7);
	strcpy(fx.info.manufacturer, "Gemplus");
	strcpy(fx.info.product, "USB SmartCard Reader");
	fx.info.desc.dwDefaultClock = 4000;
	fx.info.desc.dwMaximumClock = 4000;
	fx.info.desc.dwDataRate = 10752;
	fx.info.desc.dwMaxDataRate = 344086;
	fx.info.desc.dwMaxIFSD = 254;
	fx.info.desc.dwFeatures = 0x00010230u | extra_feat;
	fx.info.desc.bMaxCCIDBusySlots = 1;
	fx.info.desc.level = CCID_XCHG_TPDU;
}

/* GemPC Key lists (descriptor dump); with a zero and a junk value. */
static const uint32_t gempc_rates[] = {10753, 14337, 15625, 17204, 20833, 21505,
    23438, 25806, 28674, 31250, 32258, 34409, 39063, 41667, 43011, 46875, 52083,
    53763, 57348, 62500, 64516, 68817, 71685, 78125, 83333, 86022, 93750,
    104167, 107527, 114695, 125000, 129032, 143369, 156250, 166667, 172043,
    215054, 229391, 250000, 344086, 0, 0xFFFFFFF0u};
static const uint32_t gempc_clocks[] = {4000};

/* IccPowerOn at 5 V, then the clock and data rate lists, scripted. */
static void
script_power_on(const char *atr_hex, size_t atr_len)
{
	char hdr[128];

	ft_out(&fx.ft, "62 00000000 00 ?? 01 0000");
	snprintf(hdr, sizeof(hdr), "80 %02zX000000 00 ?? 00 00 00 %s", atr_len,
	    atr_hex);
	ft_in(&fx.ft, hdr);
	ctrl_answer(CCID_REQ_GET_CLOCK_FREQUENCIES, gempc_clocks, 1);
	ctrl_answer(CCID_REQ_GET_DATA_RATES, gempc_rates,
	    sizeof(gempc_rates) / sizeof(gempc_rates[0]));
}

static void
power_up(const char *atr_hex, size_t atr_len)
{
	UCHAR atr[MAX_ATR_SIZE];
	DWORD len = sizeof(atr);

	script_power_on(atr_hex, atr_len);
	ck_assert_int_eq(
	    IFDHPowerICC(LUN, IFD_POWER_UP, atr, &len), IFD_SUCCESS);
	ck_assert_uint_eq(len, atr_len);
	ck_assert_uint_ge(ctrl_wlength, 256);
	ft_done(&fx.ft);
}

static void
xfr_out(uint8_t bBWI, const uint8_t *data, size_t len)
{
	uint8_t m[10 + 300];

	ck_assert(len <= 300);
	memset(m, 0, 10);
	m[0] = 0x6F;
	m[1] = (uint8_t)len;
	m[2] = (uint8_t)(len >> 8);
	m[7] = bBWI;
	memcpy(m + 10, data, len);
	ft_out_bytes(&fx.ft, m, 10 + len);
}

static void
xfr_in(const uint8_t *data, size_t len)
{
	char hdr[64];

	snprintf(hdr, sizeof(hdr), "80 %02zX%02zX0000 00 ?? 00 00 00",
	    len & 0xff, len >> 8);
	ft_in_data(&fx.ft, hdr, data, len);
}

static size_t
t1_block(uint8_t pcb, const uint8_t *inf, size_t n, uint8_t *b)
{
	size_t i;
	uint8_t lrc;

	b[0] = 0x00;
	b[1] = pcb;
	b[2] = (uint8_t)n;
	if (n > 0)
		memcpy(b + 3, inf, n);
	for (i = 0, lrc = 0; i < 3 + n; i++)
		lrc ^= b[i];
	b[3 + n] = lrc;
	return n + 4;
}

static void
t1_out(uint8_t bBWI, uint8_t pcb, const uint8_t *inf, size_t n)
{
	uint8_t b[260];

	xfr_out(bBWI, b, t1_block(pcb, inf, n, b));
}

static void
t1_in(uint8_t pcb, const uint8_t *inf, size_t n)
{
	uint8_t b[260];

	xfr_in(b, t1_block(pcb, inf, n, b));
}

/* The negotiation of the T=1 card on a GemPC Key, byte for byte. */
static void
negotiate_t1_card(void)
{
	/* PPS: PPSS FF, PPS0 11 (PPS1, T=1), PPS1 18, PCK F6; echoed. */
	ft_out(&fx.ft, "6F 04000000 00 ?? 00 0000 FF 11 18 F6");
	ft_in(&fx.ft, "80 04000000 00 ?? 00 00 00 FF 11 18 F6");
	/* SetParameters T=1: Fi/Di 18, LRC direct, N 0, BWI 4 CWI 5,
	 * no clock stop, IFSC 16, NAD 0. */
	ft_out(&fx.ft, "61 07000000 00 ?? 01 0000 18 10 00 45 00 10 00");
	ft_in(&fx.ft, "82 07000000 00 ?? 00 00 01 18 10 00 45 00 10 00");
	/* S(IFS request) 254 and its response. */
	ft_out(&fx.ft, "6F 05000000 00 ?? 00 0000 00 C1 01 FE 3E");
	ft_in(&fx.ft, "80 05000000 00 ?? 00 00 00 00 E1 01 FE 1E");
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T1, 0, 0, 0, 0),
	    IFD_SUCCESS);
	ft_done(&fx.ft);
}

static void
setup(void)
{
	fx_setup(0x0f);
	/* usb_open() hands out the fake with the class requests wrapped. */
	wrap_ops = *fx.fake_tr.ops;
	wrap_ops.control = wrap_control;
	fx.tr.ops = &wrap_ops;
	ctrl_n = ctrl_pos = 0;
	ctrl_wlength = 0;
	set_reader(0);
}

static void
teardown(void)
{
	/* Power off on close if the card is still powered. */
	IFDHCloseChannel(LUN);
	fx_teardown();
}

static void
expect_power_off(void)
{
	ft_out(&fx.ft, "63 00000000 00 ?? 00 0000");
	ft_in(&fx.ft, "81 00000000 00 ?? 01 00 00");
}

START_TEST(test_t1_negotiation_on_the_wire)
{
	fx_open(LUN, devname);
	power_up(ATR_T1_HEX, sizeof(atr_t1));
	negotiate_t1_card();
	/* Asking again for T=1 does nothing; T=0 is not offered. */
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T1, 0, 0, 0, 0),
	    IFD_SUCCESS);
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T0, 0, 0, 0, 0),
	    IFD_PROTOCOL_NOT_SUPPORTED);
	ft_done(&fx.ft);
	expect_power_off();
}
END_TEST

START_TEST(test_t1_chaining)
{
	UCHAR apdu[25], rx[64];
	DWORD rlen = sizeof(rx);
	SCARD_IO_HEADER pci = {SCARD_PROTOCOL_T1, 8};
	static const uint8_t part1[] = {0x01, 0x02, 0x03};
	static const uint8_t part2[] = {0x04, 0x90, 0x00};
	size_t i;

	fx_open(LUN, devname);
	power_up(ATR_T1_HEX, sizeof(atr_t1));
	negotiate_t1_card();
	/* UPDATE BINARY with 20 bytes: 25 bytes, IFSC 16 -> two I-blocks. */
	apdu[0] = 0x00, apdu[1] = 0xD6, apdu[2] = 0x00, apdu[3] = 0x00;
	apdu[4] = 20;
	for (i = 5; i < sizeof(apdu); i++)
		apdu[i] = (UCHAR)i;
	t1_out(0, 0x20, apdu, 16);         /* I(0, M) */
	t1_in(0x90, NULL, 0);              /* R(1) */
	t1_out(0, 0x40, apdu + 16, 9);     /* I(1) */
	t1_in(0x20, part1, sizeof(part1)); /* I(0, M) */
	t1_out(0, 0x90, NULL, 0);          /* R(1) */
	t1_in(0x40, part2, sizeof(part2)); /* I(1) */
	ck_assert_int_eq(
	    IFDHTransmitToICC(LUN, pci, apdu, sizeof(apdu), rx, &rlen, NULL),
	    IFD_SUCCESS);
	ck_assert_uint_eq(rlen, 6);
	ck_assert_mem_eq(rx, "\x01\x02\x03\x04\x90\x00", 6);
	ft_done(&fx.ft);
	expect_power_off();
}
END_TEST

START_TEST(test_t1_wtx)
{
	UCHAR apdu[] = {0x00, 0xB0, 0x00, 0x00, 0x02}, rx[16];
	DWORD rlen = sizeof(rx);
	SCARD_IO_HEADER pci = {SCARD_PROTOCOL_T1, 8};
	static const uint8_t resp[] = {0xAA, 0xBB, 0x90, 0x00};

	fx_open(LUN, devname);
	power_up(ATR_T1_HEX, sizeof(atr_t1));
	negotiate_t1_card();
	t1_out(0, 0x00, apdu, sizeof(apdu)); /* I(0) */
	/* The card asks for twice BWT: S(WTX request) 02. */
	ft_in(&fx.ft, "80 05000000 00 ?? 00 00 00 00 C3 01 02 C0");
	/* S(WTX response) 02, with bBWI 2 for the reader. */
	ft_out(&fx.ft, "6F 05000000 00 ?? 02 0000 00 E3 01 02 E0");
	t1_in(0x00, resp, sizeof(resp)); /* I(0) */
	ck_assert_int_eq(
	    IFDHTransmitToICC(LUN, pci, apdu, sizeof(apdu), rx, &rlen, NULL),
	    IFD_SUCCESS);
	ck_assert_uint_eq(rlen, 4);
	ck_assert_mem_eq(rx, resp, 4);
	ft_done(&fx.ft);
	expect_power_off();
}
END_TEST

/* Negotiate T=0 (no PPS: default protocol and Fi/Di), then case 2. */
START_TEST(test_t0_case2_61xx)
{
	UCHAR apdu[] = {0x00, 0xCA, 0x00, 0x6E, 0x00}, rx[300];
	DWORD rlen = sizeof(rx);
	SCARD_IO_HEADER pci = {SCARD_PROTOCOL_T0, 8};

	fx_open(LUN, devname);
	power_up(ATR_T0_HEX, 4);
	/* SetParameters T=0: Fi/Di 11, direct, N 0, WI 10, no clock stop. */
	ft_out(&fx.ft, "61 05000000 00 ?? 00 0000 11 00 00 0A 00");
	ft_in(&fx.ft, "82 05000000 00 ?? 00 00 00 11 00 00 0A 00");
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T0, 0, 0, 0, 0),
	    IFD_SUCCESS);
	ft_done(&fx.ft);
	ft_out(&fx.ft, "6F 05000000 00 ?? 00 0000 00 CA 00 6E 00");
	ft_in(&fx.ft, "80 02000000 00 ?? 00 00 00 61 04");
	ft_out(&fx.ft, "6F 05000000 00 ?? 00 0000 00 C0 00 00 04");
	ft_in(&fx.ft, "80 06000000 00 ?? 00 00 00 01 02 03 04 90 00");
	ck_assert_int_eq(
	    IFDHTransmitToICC(LUN, pci, apdu, sizeof(apdu), rx, &rlen, NULL),
	    IFD_SUCCESS);
	ck_assert_uint_eq(rlen, 6);
	ck_assert_mem_eq(rx, "\x01\x02\x03\x04\x90\x00", 6);
	ft_done(&fx.ft);
	expect_power_off();
}
END_TEST

/* No IFDHSetProtocolParameters: the first exchange negotiates T=0. */
START_TEST(test_t0_lazy_negotiation)
{
	UCHAR apdu[] = {0x00, 0xA4, 0x04, 0x00, 0x01, 0xA0}, rx[16];
	DWORD rlen = sizeof(rx);
	SCARD_IO_HEADER pci = {SCARD_PROTOCOL_T0, 8};

	fx_open(LUN, devname);
	power_up(ATR_T0_HEX, 4);
	ft_out(&fx.ft, "61 05000000 00 ?? 00 0000 11 00 00 0A 00");
	ft_in(&fx.ft, "82 05000000 00 ?? 00 00 00 11 00 00 0A 00");
	ft_out(&fx.ft, "6F 06000000 00 ?? 00 0000 00 A4 04 00 01 A0");
	ft_in(&fx.ft, "80 02000000 00 ?? 00 00 00 90 00");
	ck_assert_int_eq(
	    IFDHTransmitToICC(LUN, pci, apdu, sizeof(apdu), rx, &rlen, NULL),
	    IFD_SUCCESS);
	ck_assert_uint_eq(rlen, 2);
	ft_done(&fx.ft);
	expect_power_off();
}
END_TEST

/* T=0 first, T=1 offered: T=1 needs a PPS (PPS0 01, no PPS1). */
START_TEST(test_protocol_choice_t1_over_t0)
{
	fx_open(LUN, devname);
	power_up(ATR_T0_T1_HEX, 5);
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_RAW, 0, 0, 0, 0),
	    IFD_PROTOCOL_NOT_SUPPORTED);
	ft_out(&fx.ft, "6F 03000000 00 ?? 00 0000 FF 01 FE");
	ft_in(&fx.ft, "80 03000000 00 ?? 00 00 00 FF 01 FE");
	/* Default IFSC 32, BWI 4, CWI 13. */
	ft_out(&fx.ft, "61 07000000 00 ?? 01 0000 11 10 00 4D 00 20 00");
	ft_in(&fx.ft, "82 07000000 00 ?? 00 00 01 11 10 00 4D 00 20 00");
	ft_out(&fx.ft, "6F 05000000 00 ?? 00 0000 00 C1 01 FE 3E");
	ft_in(&fx.ft, "80 05000000 00 ?? 00 00 00 00 E1 01 FE 1E");
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T1, 0, 0, 0, 0),
	    IFD_SUCCESS);
	/* The PPS window is closed: T=0 now needs a reset. */
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T0, 0, 0, 0, 0),
	    IFD_PROTOCOL_NOT_SUPPORTED);
	ft_done(&fx.ft);
	expect_power_off();
}
END_TEST

START_TEST(test_protocol_t1_not_offered)
{
	fx_open(LUN, devname);
	power_up(ATR_T0_HEX, 4);
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T1, 0, 0, 0, 0),
	    IFD_PROTOCOL_NOT_SUPPORTED);
	ft_done(&fx.ft);
	expect_power_off();
}
END_TEST

/* TA2: T=1 with TA1's Fi/Di, no PPS; T=0 refused. */
START_TEST(test_protocol_specific_mode)
{
	fx_open(LUN, devname);
	power_up(ATR_SPECIFIC_HEX, 6);
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T0, 0, 0, 0, 0),
	    IFD_PROTOCOL_NOT_SUPPORTED);
	ft_out(&fx.ft, "61 07000000 00 ?? 01 0000 13 10 00 4D 00 20 00");
	ft_in(&fx.ft, "82 07000000 00 ?? 00 00 01 13 10 00 4D 00 20 00");
	ft_out(&fx.ft, "6F 05000000 00 ?? 00 0000 00 C1 01 FE 3E");
	ft_in(&fx.ft, "80 05000000 00 ?? 00 00 00 00 E1 01 FE 1E");
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T1, 0, 0, 0, 0),
	    IFD_SUCCESS);
	ft_done(&fx.ft);
	expect_power_off();
}
END_TEST

/* dwFeatures 0x80: the reader runs the PPS from SetParameters. */
START_TEST(test_auto_pps_reader)
{
	set_reader(CCID_FEAT_AUTO_PPS);
	fx_open(LUN, devname);
	power_up(ATR_T1_HEX, sizeof(atr_t1));
	ft_out(&fx.ft, "61 07000000 00 ?? 01 0000 18 10 00 45 00 10 00");
	ft_in(&fx.ft, "82 07000000 00 ?? 00 00 01 18 10 00 45 00 10 00");
	ft_out(&fx.ft, "6F 05000000 00 ?? 00 0000 00 C1 01 FE 3E");
	ft_in(&fx.ft, "80 05000000 00 ?? 00 00 00 00 E1 01 FE 1E");
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T1, 0, 0, 0, 0),
	    IFD_SUCCESS);
	ft_done(&fx.ft);
	expect_power_off();
}
END_TEST

/* dwFeatures 0x40 and 0x400: no PPS, no S(IFS) either. */
START_TEST(test_auto_negotiation_and_ifsd_reader)
{
	set_reader(CCID_FEAT_AUTO_PARAM_NEG | CCID_FEAT_AUTO_IFSD);
	fx_open(LUN, devname);
	power_up(ATR_T1_HEX, sizeof(atr_t1));
	ft_out(&fx.ft, "61 07000000 00 ?? 01 0000 18 10 00 45 00 10 00");
	ft_in(&fx.ft, "82 07000000 00 ?? 00 00 01 18 10 00 45 00 10 00");
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T1, 0, 0, 0, 0),
	    IFD_SUCCESS);
	ft_done(&fx.ft);
	expect_power_off();
}
END_TEST

/* A PPS answer that changes the protocol: reset or reject (9.3). */
/* ISO 7816-3 section 9.3: a wrong PPS answer resets the card; it then
 * runs at Fd/Dd without PPS (its first protocol is the one wanted). */
START_TEST(test_pps_wrong_answer)
{
	fx_open(LUN, devname);
	power_up(ATR_T1_HEX, sizeof(atr_t1));
	ft_out(&fx.ft, "6F 04000000 00 ?? 00 0000 FF 11 18 F6");
	ft_in(&fx.ft, "80 04000000 00 ?? 00 00 00 FF 10 18 F7");
	script_power_on(ATR_T1_HEX, sizeof(atr_t1));
	ft_out(&fx.ft, "61 07000000 00 ?? 01 0000 11 10 00 45 00 10 00");
	ft_in(&fx.ft, "82 07000000 00 ?? 00 00 01 11 10 00 45 00 10 00");
	ft_out(&fx.ft, "6F 05000000 00 ?? 00 0000 00 C1 01 FE 3E");
	ft_in(&fx.ft, "80 05000000 00 ?? 00 00 00 00 E1 01 FE 1E");
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T1, 0, 0, 0, 0),
	    IFD_SUCCESS);
	ft_done(&fx.ft);
	ck_assert(log_stub_contains("PPS refused, resetting"));
	expect_power_off();
}
END_TEST

/* A mute card (no PPS answer) is reset too; T=1 needs a PPS on this
 * T=0-first card, so after the reset only T=0 is left. */
START_TEST(test_pps_mute_other_protocol)
{
	fx_open(LUN, devname);
	power_up(ATR_T0_T1_HEX, 5);
	ft_out(&fx.ft, "6F 03000000 00 ?? 00 0000 FF 01 FE");
	ft_in(&fx.ft, "80 00000000 00 ?? 41 FE 00");
	script_power_on(ATR_T0_T1_HEX, 5);
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T1, 0, 0, 0, 0),
	    IFD_PROTOCOL_NOT_SUPPORTED);
	ft_done(&fx.ft);
	/* T=0 is the default: no PPS at all. */
	ft_out(&fx.ft, "61 05000000 00 ?? 00 0000 11 00 00 0A 00");
	ft_in(&fx.ft, "82 05000000 00 ?? 00 00 00 11 00 00 0A 00");
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T0, 0, 0, 0, 0),
	    IFD_SUCCESS);
	ft_done(&fx.ft);
	expect_power_off();
}
END_TEST

/* The card's ATR after that reset: TA1 11, IFSC 32, BWI 2 CWI 3. */
#define ATR_T1_RESET_HEX "3B 95 11 81 31 20 23 80 73 C8 21 10 3D"

/*
 * A PPS refused on the first APDU, where the slot negotiates the ATR's
 * default protocol before the exchange: the slot resets the card, and
 * everything after the reset comes from the new ATR, nothing from the
 * state the reset cleared: SetParameters from its TA1/TB3/TA3 (Fi/Di 11,
 * BWI 2 CWI 3, IFSC 32), the 25-byte APDU in one I-block (IFSC 32, where
 * the first ATR's 16 would chain it), the ATR pcscd reads back, T=1 in
 * force.
 */
START_TEST(test_pps_refused_reset_leaves_no_stale_state)
{
	static const uint8_t atr2[] = {0x3B, 0x95, 0x11, 0x81, 0x31, 0x20,
	    0x23, 0x80, 0x73, 0xC8, 0x21, 0x10, 0x3D};
	static const uint8_t sw[] = {0x90, 0x00};
	UCHAR apdu[25], rx[16], atr[MAX_ATR_SIZE];
	DWORD rlen = sizeof(rx), alen = sizeof(atr);
	SCARD_IO_HEADER pci = {SCARD_PROTOCOL_T1, 8};
	size_t i;

	fx_open(LUN, devname);
	power_up(ATR_T1_HEX, sizeof(atr_t1));
	apdu[0] = 0x00, apdu[1] = 0xD6, apdu[2] = 0x00, apdu[3] = 0x00;
	apdu[4] = 20;
	for (i = 5; i < sizeof(apdu); i++)
		apdu[i] = (UCHAR)i;
	/* PPS1 18 answered with another protocol: reset (section 9.3). */
	ft_out(&fx.ft, "6F 04000000 00 ?? 00 0000 FF 11 18 F6");
	ft_in(&fx.ft, "80 04000000 00 ?? 00 00 00 FF 10 18 F7");
	script_power_on(ATR_T1_RESET_HEX, sizeof(atr2));
	ft_out(&fx.ft, "61 07000000 00 ?? 01 0000 11 10 00 23 00 20 00");
	ft_in(&fx.ft, "82 07000000 00 ?? 00 00 01 11 10 00 23 00 20 00");
	ft_out(&fx.ft, "6F 05000000 00 ?? 00 0000 00 C1 01 FE 3E");
	ft_in(&fx.ft, "80 05000000 00 ?? 00 00 00 00 E1 01 FE 1E");
	t1_out(0, 0x00, apdu, sizeof(apdu)); /* I(0), not chained */
	t1_in(0x00, sw, sizeof(sw));
	ck_assert_int_eq(
	    IFDHTransmitToICC(LUN, pci, apdu, sizeof(apdu), rx, &rlen, NULL),
	    IFD_SUCCESS);
	ck_assert_uint_eq(rlen, 2);
	ck_assert_mem_eq(rx, sw, 2);
	ft_done(&fx.ft);
	ck_assert(log_stub_contains("PPS refused, resetting"));
	ck_assert_int_eq(IFDHGetCapabilities(LUN, TAG_IFD_ATR, &alen, atr),
	    IFD_SUCCESS);
	ck_assert_uint_eq(alen, sizeof(atr2));
	ck_assert_mem_eq(atr, atr2, sizeof(atr2));
	/* T=1 is in force: asking for it again sends nothing, T=0 fails. */
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T1, 0, 0, 0, 0),
	    IFD_SUCCESS);
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T0, 0, 0, 0, 0),
	    IFD_PROTOCOL_NOT_SUPPORTED);
	ft_done(&fx.ft);
	expect_power_off();
}
END_TEST

/* ---- quirks no_pps, data_rate_drop_above, extra_timeout_ms ---------- */

static char qdir[64];

static void
quirk(const char *set_line)
{
	char path[128];
	FILE *f;

	snprintf(qdir, sizeof(qdir), "/tmp/oc-tpdu-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(qdir));
	snprintf(path, sizeof(path), "%s/t.quirks", qdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "match vid=08e6 pid=3438\nset %s\n", set_line);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(reader_quirks_reload(qdir), OC_OK);
}

static void
quirk_teardown(void)
{
	char cmd[128];

	IFDHCloseChannel(LUN);
	fx_teardown();
	ck_assert_int_eq(reader_quirks_reload(NULL), OC_OK);
	if (qdir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", qdir);
		ck_assert_int_eq(system(cmd), 0);
		qdir[0] = '\0';
	}
}

/* no_pps: SetParameters at Fd/Dd straight away, no PPS on the wire. */
START_TEST(test_quirk_no_pps)
{
	quirk("no_pps");
	fx_open(LUN, devname);
	power_up(ATR_T1_HEX, sizeof(atr_t1));
	ft_out(&fx.ft, "61 07000000 00 ?? 01 0000 11 10 00 45 00 10 00");
	ft_in(&fx.ft, "82 07000000 00 ?? 00 00 01 11 10 00 45 00 10 00");
	ft_out(&fx.ft, "6F 05000000 00 ?? 00 0000 00 C1 01 FE 3E");
	ft_in(&fx.ft, "80 05000000 00 ?? 00 00 00 00 E1 01 FE 1E");
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T1, 0, 0, 0, 0),
	    IFD_SUCCESS);
	ft_done(&fx.ft);
	ck_assert(log_stub_contains("quirk no_pps"));
	expect_power_off();
}
END_TEST

/* no_pps and a protocol that needs one: refused, not attempted. */
START_TEST(test_quirk_no_pps_other_protocol)
{
	quirk("no_pps");
	fx_open(LUN, devname);
	power_up(ATR_T0_T1_HEX, 5);
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T1, 0, 0, 0, 0),
	    IFD_PROTOCOL_NOT_SUPPORTED);
	ft_done(&fx.ft);
	expect_power_off();
}
END_TEST

static uint32_t
slot_max_rate(size_t *n)
{
	struct reader *r = reader_hold(LUN);
	uint32_t max = 0;
	size_t i;

	ck_assert_ptr_nonnull(r);
	*n = r->slots[0].tpdu.nrates;
	for (i = 0; i < *n; i++)
		if (r->slots[0].tpdu.rates[i] > max)
			max = r->slots[0].tpdu.rates[i];
	reader_release(r);
	return max;
}

/* data_rate_drop_above: listed rates above it are not used. */
START_TEST(test_quirk_data_rate_drop_above)
{
	size_t n = 0;

	quirk("data_rate_drop_above=100000");
	fx_open(LUN, devname);
	power_up(ATR_T1_HEX, sizeof(atr_t1));
	ck_assert_uint_eq(slot_max_rate(&n), 93750);
	ck_assert_uint_eq(n, 27);
	/* 129032 bps (TA1 0x18) is gone: Di 8 (86022 bps) is the best. */
	ft_out(&fx.ft, "6F 04000000 00 ?? 00 0000 FF 11 14 FA");
	ft_in(&fx.ft, "80 04000000 00 ?? 00 00 00 FF 11 14 FA");
	ft_out(&fx.ft, "61 07000000 00 ?? 01 0000 14 10 00 45 00 10 00");
	ft_in(&fx.ft, "82 07000000 00 ?? 00 00 01 14 10 00 45 00 10 00");
	ft_out(&fx.ft, "6F 05000000 00 ?? 00 0000 00 C1 01 FE 3E");
	ft_in(&fx.ft, "80 05000000 00 ?? 00 00 00 00 E1 01 FE 1E");
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T1, 0, 0, 0, 0),
	    IFD_SUCCESS);
	ft_done(&fx.ft);
	expect_power_off();
}
END_TEST

START_TEST(test_rates_without_quirk)
{
	size_t n = 0;

	fx_open(LUN, devname);
	power_up(ATR_T1_HEX, sizeof(atr_t1));
	ck_assert_uint_eq(slot_max_rate(&n), 344086);
	ck_assert_uint_eq(n, 40);
	expect_power_off();
}
END_TEST

/* One T=1 exchange; the bulk-IN wait of its block is returned. */
static unsigned
t1_exchange_wait(void)
{
	UCHAR apdu[] = {0x00, 0xB0, 0x00, 0x00, 0x00};
	static const uint8_t rsp[] = {0x90, 0x00};
	UCHAR rx[16];
	DWORD rx_len = sizeof(rx);
	SCARD_IO_HEADER pci = {SCARD_PROTOCOL_T1, sizeof(pci)};

	t1_out(0, 0x00, apdu, sizeof(apdu));
	t1_in(0x00, rsp, sizeof(rsp));
	ck_assert_int_eq(IFDHTransmitToICC(LUN, pci, apdu, sizeof(apdu), rx,
			     &rx_len, NULL),
	    IFD_SUCCESS);
	ck_assert_uint_eq(rx_len, 2);
	ft_done(&fx.ft);
	return fx.ft.last_in_timeout_ms;
}

/* extra_timeout_ms is added to the wait of each T=1 block. */
START_TEST(test_quirk_extra_timeout)
{
	unsigned plain, extra;

	fx_open(LUN, devname);
	power_up(ATR_T1_HEX, sizeof(atr_t1));
	negotiate_t1_card();
	plain = t1_exchange_wait();
	expect_power_off();
	IFDHCloseChannel(LUN);
	ft_done(&fx.ft);
	quirk("extra_timeout_ms=5000");
	fx_open(LUN, devname);
	power_up(ATR_T1_HEX, sizeof(atr_t1));
	negotiate_t1_card();
	extra = t1_exchange_wait();
	ck_assert_uint_eq(extra, plain + 5000);
	expect_power_off();
}
END_TEST

/* The card leaves PPS1 out: Fi/Di stay 372/1 (section 9.3). */
START_TEST(test_pps_default_kept)
{
	fx_open(LUN, devname);
	power_up(ATR_T1_HEX, sizeof(atr_t1));
	ft_out(&fx.ft, "6F 04000000 00 ?? 00 0000 FF 11 18 F6");
	ft_in(&fx.ft, "80 03000000 00 ?? 00 00 00 FF 01 FE");
	ft_out(&fx.ft, "61 07000000 00 ?? 01 0000 11 10 00 45 00 10 00");
	ft_in(&fx.ft, "82 07000000 00 ?? 00 00 01 11 10 00 45 00 10 00");
	ft_out(&fx.ft, "6F 05000000 00 ?? 00 0000 00 C1 01 FE 3E");
	ft_in(&fx.ft, "80 05000000 00 ?? 00 00 00 00 E1 01 FE 1E");
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T1, 0, 0, 0, 0),
	    IFD_SUCCESS);
	ft_done(&fx.ft);
	expect_power_off();
}
END_TEST

/* Failing class requests only mean "no list": 129032 bps needs none. */
START_TEST(test_lists_fail)
{
	UCHAR atr[MAX_ATR_SIZE];
	DWORD len = sizeof(atr);

	fx_open(LUN, devname);
	ft_out(&fx.ft, "62 00000000 00 ?? 01 0000");
	ft_in(&fx.ft, "80 0D000000 00 ?? 00 00 00 " ATR_T1_HEX);
	ft_control(&fx.ft, CCID_REQ_GET_CLOCK_FREQUENCIES);
	fx.ft.steps[fx.ft.n - 1].err = OC_ESTALL;
	ft_control(&fx.ft, CCID_REQ_GET_DATA_RATES);
	fx.ft.steps[fx.ft.n - 1].err = OC_ETIMEDOUT;
	ck_assert_int_eq(
	    IFDHPowerICC(LUN, IFD_POWER_UP, atr, &len), IFD_SUCCESS);
	ft_done(&fx.ft);
	negotiate_t1_card();
	expect_power_off();
}
END_TEST

START_TEST(test_parse_list_junk)
{
	static const uint8_t buf[] = {0x00, 0x00, 0x00, 0x00, /* 0 */
	    0xA0, 0x0F, 0x00, 0x00,                           /* 4000 */
	    0xFF, 0xFF, 0xFF, 0xFF,                           /* junk */
	    0xC0, 0x12, 0x00, 0x00,                           /* 4800 */
	    0x01, 0x02};                                      /* partial */
	uint32_t out[4];

	ck_assert_uint_eq(
	    negotiate_parse_list(buf, sizeof(buf), 5000, out, 4), 2);
	ck_assert_uint_eq(out[0], 4000);
	ck_assert_uint_eq(out[1], 4800);
	ck_assert_uint_eq(negotiate_parse_list(buf, sizeof(buf), 0, out, 1), 1);
	ck_assert_uint_eq(negotiate_parse_list(buf, 0, 0, out, 4), 0);
}
END_TEST

START_TEST(test_wait_bounds)
{
	/* 100 ms + 1000 slack + 12 etu x 10 bytes at 9600 bps = 13 ms. */
	ck_assert_uint_eq(xfr_wait_ms(100, 10, 9600, 0), 1113);
	ck_assert_uint_eq(xfr_wait_ms(100, 10, 0, 0), 1113);
	ck_assert_uint_eq(xfr_wait_ms(UINT32_MAX * 255ull, 10, 9600, 0),
	    TPDU_MAX_WAIT_MS);
	ck_assert_uint_eq(xfr_wait_ms(5000, 0, 9600, 2000), 2000);
}
END_TEST

/* Character level stays refused, with a clear message. */
/* ---- character level (xfr_char.c) ------------------------------------ */

struct chr_step {
	const char *tx; /* characters sent ("" none) */
	size_t expect;
	const char *rx; /* characters the card answers */
};

struct chr_card {
	const struct chr_step *steps;
	size_t n, pos;
	unsigned nulls_forever; /* after the script: NULLs */
};

static size_t
unhex_buf(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (*h != '\0') {
		if (*h == ' ') {
			h++;
			continue;
		}
		ck_assert(sscanf(h, "%2x", &v) == 1);
		ck_assert_uint_lt(n, cap);
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

static int
chr_xchg(void *ctx, const uint8_t *tx, size_t tx_len, uint8_t *rx,
    size_t expect)
{
	struct chr_card *c = ctx;
	const struct chr_step *st;
	uint8_t want[300];
	size_t n;

	if (c->pos == c->n && c->nulls_forever > 0) {
		c->nulls_forever--;
		ck_assert_uint_eq(expect, 1);
		rx[0] = 0x60;
		return OC_OK;
	}
	ck_assert_msg(c->pos < c->n, "unexpected exchange #%zu", c->pos);
	st = &c->steps[c->pos++];
	n = unhex_buf(st->tx, want, sizeof(want));
	ck_assert_uint_eq(tx_len, n);
	ck_assert(n == 0 || memcmp(tx, want, n) == 0);
	ck_assert_uint_eq(expect, st->expect);
	n = unhex_buf(st->rx, rx, expect);
	ck_assert_uint_eq(n, expect);
	return OC_OK;
}

static int
chr_run(struct chr_card *c, const char *tpdu_hex, uint8_t *resp, size_t cap,
    size_t *got)
{
	struct t0_char_io io = {chr_xchg, c};
	uint8_t tpdu[300];
	size_t n = unhex_buf(tpdu_hex, tpdu, sizeof(tpdu));

	return t0_char_run(&io, tpdu, n, resp, cap, got);
}

/* ISO 7816-3 section 10.3.3: NULL, INS ^ FF (one byte), INS (the rest),
 * SW1 then SW2; and the receiving direction. */
START_TEST(test_char_t0_procedure_bytes)
{
	static const struct chr_step send[] = {
	    {"80 01 00 00 03", 1, "60"},
	    {"", 1, "FE"},
	    {"AA", 1, "01"},
	    {"BB CC", 1, "60"},
	    {"", 1, "61"},
	    {"", 1, "03"},
	};
	static const struct chr_step recv[] = {
	    {"00 C0 00 00 03", 1, "C0"},
	    {"", 3, "11 22 33"},
	    {"", 1, "90"},
	    {"", 1, "00"},
	};
	static const struct chr_step recv_one[] = {
	    {"00 B0 00 00 02", 1, "4F"},
	    {"", 1, "11"},
	    {"", 1, "B0"},
	    {"", 1, "22"},
	    {"", 1, "6A"},
	    {"", 1, "82"},
	};
	struct chr_card c1 = {send, 6, 0, 0}, c2 = {recv, 4, 0, 0},
			c3 = {recv_one, 6, 0, 0};
	uint8_t resp[300];
	size_t n = 0;

	ck_assert_int_eq(chr_run(&c1, "80 01 00 00 03 AA BB CC", resp,
			     sizeof(resp), &n), OC_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_mem_eq(resp, "\x61\x03", 2);
	ck_assert_uint_eq(c1.pos, c1.n);
	ck_assert_int_eq(
	    chr_run(&c2, "00 C0 00 00 03", resp, sizeof(resp), &n), OC_OK);
	ck_assert_uint_eq(n, 5);
	ck_assert_mem_eq(resp, "\x11\x22\x33\x90\x00", 5);
	ck_assert_int_eq(
	    chr_run(&c3, "00 B0 00 00 02", resp, sizeof(resp), &n), OC_OK);
	ck_assert_uint_eq(n, 4);
	ck_assert_mem_eq(resp, "\x11\x22\x6A\x82", 4);
}
END_TEST

/* Malformed card behaviour ends in an error, never a loop. */
START_TEST(test_char_t0_bad_cards)
{
	static const struct chr_step conflict[] = {{"00 B0 00 00 02", 1, "42"}};
	static const struct chr_step too_much[] = {
	    {"00 B0 00 00 02", 1, "B0"},
	    {"", 2, "11 22"},
	    {"", 1, "B0"}, /* INS again: nothing is left to move */
	};
	static const struct chr_step nulls[] = {{"00 B0 00 00 02", 1, "60"}};
	static const struct chr_step big[] = {{"00 B0 00 00 00", 1, "B0"}};
	struct chr_card c1 = {conflict, 1, 0, 0}, c2 = {too_much, 3, 0, 0},
			c3 = {nulls, 1, 0, T0_CHAR_MAX_NULL + 5},
			c4 = {big, 1, 0, 0};
	uint8_t resp[300];
	size_t n = 0;

	ck_assert_int_eq(chr_run(&c1, "00 B0 00 00 02", resp, sizeof(resp), &n),
	    OC_EPROTO);
	ck_assert_int_eq(chr_run(&c2, "00 B0 00 00 02", resp, sizeof(resp), &n),
	    OC_EPROTO);
	ck_assert_int_eq(chr_run(&c3, "00 B0 00 00 02", resp, sizeof(resp), &n),
	    OC_EPROTO);
	ck_assert_uint_eq(c3.nulls_forever, 5); /* 1 + 1000 NULLs taken */
	/* 256 bytes announced, room for 100. */
	ck_assert_int_eq(chr_run(&c4, "00 B0 00 00 00", resp, 100, &n),
	    OC_ENOSPC);
	/* P3 disagrees with the data; too short. */
	ck_assert_int_eq(chr_run(&c4, "00 D6 00 00 05 01", resp, 100, &n),
	    OC_EINVAL);
	ck_assert_int_eq(chr_run(&c4, "00 D6 00 00", resp, 100, &n), OC_EINVAL);
}
END_TEST

/* A character-level reader (dwFeatures 0x230) through IFDH: XfrBlocks
 * with wLevelParameter the characters expected, procedure bytes on the
 * host. */
START_TEST(test_character_level_t0)
{
	UCHAR apdu[] = {0x00, 0xB0, 0x00, 0x00, 0x02};
	UCHAR rx[16];
	DWORD rx_len = sizeof(rx);
	SCARD_IO_HEADER pci = {SCARD_PROTOCOL_T0, sizeof(pci)};

	set_reader(0);
	fx.info.desc.dwFeatures = 0x00000230u;
	fx.info.desc.level = CCID_XCHG_CHARACTER;
	fx_open(LUN, devname);
	power_up(ATR_T0_HEX, 4);
	ft_out(&fx.ft, "61 05000000 00 ?? 00 0000 11 00 00 0A 00");
	ft_in(&fx.ft, "82 05000000 00 ?? 00 00 00 11 00 00 0A 00");
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T0, 0, 0, 0, 0),
	    IFD_SUCCESS);
	ft_done(&fx.ft);
	ft_out(&fx.ft, "6F 05000000 00 ?? 00 0100 00 B0 00 00 02");
	ft_in(&fx.ft, "80 01000000 00 ?? 00 00 00 60");
	ft_out(&fx.ft, "6F 00000000 00 ?? 00 0100");
	ft_in(&fx.ft, "80 01000000 00 ?? 00 00 00 B0");
	ft_out(&fx.ft, "6F 00000000 00 ?? 00 0200");
	ft_in(&fx.ft, "80 02000000 00 ?? 00 00 00 12 34");
	ft_out(&fx.ft, "6F 00000000 00 ?? 00 0100");
	ft_in(&fx.ft, "80 01000000 00 ?? 00 00 00 90");
	ft_out(&fx.ft, "6F 00000000 00 ?? 00 0100");
	ft_in(&fx.ft, "80 01000000 00 ?? 00 00 00 00");
	ck_assert_int_eq(IFDHTransmitToICC(LUN, pci, apdu, sizeof(apdu), rx,
			     &rx_len, NULL),
	    IFD_SUCCESS);
	ck_assert_uint_eq(rx_len, 4);
	ck_assert_mem_eq(rx, "\x12\x34\x90\x00", 4);
	ft_done(&fx.ft);
	expect_power_off();
}
END_TEST

/*
 * A PIN command at character level: its data leaves after the procedure
 * byte in XfrBlocks of their own (here one byte per INS^FF), which the
 * stateless log redactor cannot recognise. The COMM log shows those
 * messages header only; the next ordinary command is dumped in full.
 */
START_TEST(test_character_level_t0_pin_not_logged)
{
	UCHAR verify[] = {0x00, 0x20, 0x00, 0x81, 0x02, 0x37, 0x39};
	UCHAR read[] = {0x00, 0xB0, 0x00, 0x00, 0x01};
	UCHAR rx[16];
	DWORD rx_len = sizeof(rx);
	SCARD_IO_HEADER pci = {SCARD_PROTOCOL_T0, sizeof(pci)};

	set_reader(0);
	fx.info.desc.dwFeatures = 0x00000230u;
	fx.info.desc.level = CCID_XCHG_CHARACTER;
	fx_open(LUN, devname);
	power_up(ATR_T0_HEX, 4);
	ft_out(&fx.ft, "61 05000000 00 ?? 00 0000 11 00 00 0A 00");
	ft_in(&fx.ft, "82 05000000 00 ?? 00 00 00 11 00 00 0A 00");
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T0, 0, 0, 0, 0),
	    IFD_SUCCESS);
	ft_done(&fx.ft);
	oc_log_set_level(0x0f);
	log_stub_reset();
	ft_out(&fx.ft, "6F 05000000 00 ?? 00 0100 00 20 00 81 02");
	ft_in(&fx.ft, "80 01000000 00 ?? 00 00 00 DF");
	ft_out(&fx.ft, "6F 01000000 00 ?? 00 0100 37");
	ft_in(&fx.ft, "80 01000000 00 ?? 00 00 00 DF");
	ft_out(&fx.ft, "6F 01000000 00 ?? 00 0100 39");
	ft_in(&fx.ft, "80 01000000 00 ?? 00 00 00 90");
	ft_out(&fx.ft, "6F 00000000 00 ?? 00 0100");
	ft_in(&fx.ft, "80 01000000 00 ?? 00 00 00 00");
	ck_assert_int_eq(IFDHTransmitToICC(LUN, pci, verify, sizeof(verify),
			     rx, &rx_len, NULL),
	    IFD_SUCCESS);
	ck_assert_uint_eq(rx_len, 2);
	ck_assert_mem_eq(rx, "\x90\x00", 2);
	ft_done(&fx.ft);
	ck_assert(log_stub_contains("<1 bytes redacted>"));
	ck_assert(!log_stub_contains(" 37 "));
	ck_assert(!log_stub_contains(" 39 "));
	ck_assert(!log_stub_contains("00 0100 37"));
	/* Hiding ends with the PIN command. */
	ft_out(&fx.ft, "6F 05000000 00 ?? 00 0100 00 B0 00 00 01");
	ft_in(&fx.ft, "80 01000000 00 ?? 00 00 00 B0");
	ft_out(&fx.ft, "6F 00000000 00 ?? 00 0100");
	ft_in(&fx.ft, "80 01000000 00 ?? 00 00 00 5A");
	ft_out(&fx.ft, "6F 00000000 00 ?? 00 0100");
	ft_in(&fx.ft, "80 01000000 00 ?? 00 00 00 90");
	ft_out(&fx.ft, "6F 00000000 00 ?? 00 0100");
	ft_in(&fx.ft, "80 01000000 00 ?? 00 00 00 00");
	rx_len = sizeof(rx);
	ck_assert_int_eq(IFDHTransmitToICC(LUN, pci, read, sizeof(read), rx,
			     &rx_len, NULL),
	    IFD_SUCCESS);
	ck_assert_uint_eq(rx_len, 3);
	ft_done(&fx.ft);
	ck_assert(log_stub_contains("00 B0 00 00 01"));
	expect_power_off();
}
END_TEST

/* T=1 at character level: the prologue, then LEN + EDC characters. */
START_TEST(test_character_level_t1)
{
	UCHAR apdu[] = {0x00, 0xB0, 0x00, 0x00, 0x00};
	UCHAR rx[16];
	DWORD rx_len = sizeof(rx);
	SCARD_IO_HEADER pci = {SCARD_PROTOCOL_T1, sizeof(pci)};
	uint8_t blk[16];
	static const uint8_t rsp[] = {0x90, 0x00};

	set_reader(0);
	fx.info.desc.dwFeatures = 0x00000230u;
	fx.info.desc.level = CCID_XCHG_CHARACTER;
	fx_open(LUN, devname);
	power_up(ATR_T1_HEX, sizeof(atr_t1));
	ft_out(&fx.ft, "6F 04000000 00 ?? 00 0400 FF 11 18 F6");
	ft_in(&fx.ft, "80 04000000 00 ?? 00 00 00 FF 11 18 F6");
	ft_out(&fx.ft, "61 07000000 00 ?? 01 0000 18 10 00 45 00 10 00");
	ft_in(&fx.ft, "82 07000000 00 ?? 00 00 01 18 10 00 45 00 10 00");
	/* S(IFS request) 254: prologue, then INF and LRC. */
	ft_out(&fx.ft, "6F 05000000 00 ?? 00 0300 00 C1 01 FE 3E");
	ft_in(&fx.ft, "80 03000000 00 ?? 00 00 00 00 E1 01");
	ft_out(&fx.ft, "6F 00000000 00 ?? 00 0200");
	ft_in(&fx.ft, "80 02000000 00 ?? 00 00 00 FE 1E");
	ck_assert_int_eq(
	    IFDHSetProtocolParameters(LUN, SCARD_PROTOCOL_T1, 0, 0, 0, 0),
	    IFD_SUCCESS);
	ft_done(&fx.ft);
	{
		uint8_t m[32];
		size_t n = t1_block(0x00, apdu, sizeof(apdu), blk);

		memset(m, 0, 10);
		m[0] = 0x6F;
		m[1] = (uint8_t)n;
		m[8] = 3; /* wLevelParameter: the prologue */
		memcpy(m + 10, blk, n);
		ft_out_bytes(&fx.ft, m, 10 + n);
		n = t1_block(0x00, rsp, sizeof(rsp), blk);
		xfr_in(blk, 3);
		ft_out(&fx.ft, "6F 00000000 00 ?? 00 0300");
		xfr_in(blk + 3, n - 3);
	}
	ck_assert_int_eq(IFDHTransmitToICC(LUN, pci, apdu, sizeof(apdu), rx,
			     &rx_len, NULL),
	    IFD_SUCCESS);
	ck_assert_uint_eq(rx_len, 2);
	ck_assert_mem_eq(rx, "\x90\x00", 2);
	ft_done(&fx.ft);
	expect_power_off();
}
END_TEST

/*
 * T=1 chaining of a PIN command: CHANGE REFERENCE DATA with 16 bytes of
 * PINs does not fit IFSC 16; the second I-block holds PIN bytes only,
 * which the stateless redactor cannot recognise (the first one it can).
 * Every OUT message of the exchange is logged header only.
 */
START_TEST(test_t1_chained_pin_not_logged)
{
	UCHAR apdu[21], rx[16];
	DWORD rlen = sizeof(rx);
	SCARD_IO_HEADER pci = {SCARD_PROTOCOL_T1, 8};
	static const uint8_t sw[] = {0x90, 0x00};
	size_t i;

	fx_open(LUN, devname);
	power_up(ATR_T1_HEX, sizeof(atr_t1));
	negotiate_t1_card();
	apdu[0] = 0x00, apdu[1] = 0x24, apdu[2] = 0x00, apdu[3] = 0x81;
	apdu[4] = 16;
	for (i = 5; i < sizeof(apdu); i++)
		apdu[i] = (UCHAR)(0xA0 + i); /* A5 .. B4 */
	log_stub_reset();
	t1_out(0, 0x20, apdu, 16);     /* I(0, M) */
	t1_in(0x90, NULL, 0);          /* R(1) */
	t1_out(0, 0x40, apdu + 16, 5); /* I(1): B0 .. B4, PIN bytes only */
	t1_in(0x00, sw, sizeof(sw));
	ck_assert_int_eq(
	    IFDHTransmitToICC(LUN, pci, apdu, sizeof(apdu), rx, &rlen, NULL),
	    IFD_SUCCESS);
	ck_assert_uint_eq(rlen, 2);
	ft_done(&fx.ft);
	ck_assert(!log_stub_contains("B0 B1 B2"));
	ck_assert(!log_stub_contains("A5 A6 A7"));
	ck_assert(log_stub_contains("<9 bytes redacted>"));
	expect_power_off();
}
END_TEST

/*
 * TPDU level, T=0: the reader's answer is passed on as it comes; one
 * without a status word (found by fuzz_driver: 8 bytes ending 00 00) must
 * not reach the client as the card's answer.
 */
START_TEST(test_t0_answer_without_sw)
{
	UCHAR apdu[] = {0x00, 0xA4, 0x04, 0x00, 0x01, 0xA0}, rx[16];
	DWORD rlen = sizeof(rx);
	SCARD_IO_HEADER pci = {SCARD_PROTOCOL_T0, 8};

	fx_open(LUN, devname);
	power_up(ATR_T0_HEX, 4);
	ft_out(&fx.ft, "61 05000000 00 ?? 00 0000 11 00 00 0A 00");
	ft_in(&fx.ft, "82 05000000 00 ?? 00 00 00 11 00 00 0A 00");
	ft_out(&fx.ft, "6F 06000000 00 ?? 00 0000 00 A4 04 00 01 A0");
	ft_in(&fx.ft, "80 08000000 00 ?? 00 00 00 00 00 01 00 00 00 00 00");
	ck_assert_int_eq(
	    IFDHTransmitToICC(LUN, pci, apdu, sizeof(apdu), rx, &rlen, NULL),
	    IFD_COMMUNICATION_ERROR);
	ck_assert_uint_eq(rlen, 0);
	ck_assert(log_stub_contains("without a status word"));
	ft_done(&fx.ft);
	expect_power_off();
}
END_TEST

static Suite *
tpdu_suite(void)
{
	Suite *s = suite_create("tpdu");
	TCase *tc = tcase_create("negotiation");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_t1_negotiation_on_the_wire);
	tcase_add_test(tc, test_protocol_choice_t1_over_t0);
	tcase_add_test(tc, test_protocol_t1_not_offered);
	tcase_add_test(tc, test_protocol_specific_mode);
	tcase_add_test(tc, test_auto_pps_reader);
	tcase_add_test(tc, test_auto_negotiation_and_ifsd_reader);
	tcase_add_test(tc, test_pps_wrong_answer);
	tcase_add_test(tc, test_pps_mute_other_protocol);
	tcase_add_test(tc, test_pps_refused_reset_leaves_no_stale_state);
	tcase_add_test(tc, test_pps_default_kept);
	tcase_add_test(tc, test_lists_fail);
	tcase_add_test(tc, test_parse_list_junk);
	tcase_add_test(tc, test_wait_bounds);
	tcase_add_test(tc, test_char_t0_procedure_bytes);
	tcase_add_test(tc, test_char_t0_bad_cards);
	tcase_add_test(tc, test_character_level_t0);
	tcase_add_test(tc, test_character_level_t0_pin_not_logged);
	tcase_add_test(tc, test_character_level_t1);
	tcase_add_test(tc, test_t1_chained_pin_not_logged);
	tcase_add_test(tc, test_t0_answer_without_sw);
	suite_add_tcase(s, tc);
	tc = tcase_create("quirks");
	tcase_add_checked_fixture(tc, setup, quirk_teardown);
	tcase_add_test(tc, test_quirk_no_pps);
	tcase_add_test(tc, test_quirk_no_pps_other_protocol);
	tcase_add_test(tc, test_quirk_data_rate_drop_above);
	tcase_add_test(tc, test_rates_without_quirk);
	tcase_add_test(tc, test_quirk_extra_timeout);
	suite_add_tcase(s, tc);
	tc = tcase_create("exchange");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_t1_chaining);
	tcase_add_test(tc, test_t1_wtx);
	tcase_add_test(tc, test_t0_case2_61xx);
	tcase_add_test(tc, test_t0_lazy_negotiation);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return fx_run(tpdu_suite());
}
