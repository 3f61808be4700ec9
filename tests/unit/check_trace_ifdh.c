/*
 * openccid - trace recording through the IFDH entry points: with
 * OPENCCID_TRACE_DIR set, IFDHCreateChannelByName wraps the (scripted)
 * transport, every IFDH call writes its call/ret records, and what may
 * be a PIN is "??" in both the host records and the bulk-OUT messages.
 * Several threads recording at once give a well-formed trace.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ifdhandler.h>
#include <PCSC/reader.h>

#include "codec/ccid_desc.h"
#include "base/err.h"
#include "fake_transport.h"
#include "ifdh_fixture.h"
#include "base/log.h"
#include "log_stub.h"
#include "ifd/pcsc_features.h"
#include "codec/trace_parse.h"
#include "transport/trace_rec.h"
#include "transport/usb.h"

#define LUN 0x10000UL
#define EXCHANGES (FT_MAX_STEPS / 2)
#define SLOT_STATUS_CMD "65 00000000 00 ?? 00 0000"
#define SLOT_STATUS_OK "81 00000000 00 ?? 00 00 00"

static char devname[] = "usb:072f/90cc:libudev:0:/dev/bus/usb/001/005";
static char tdir[64];

static void
setup(void)
{
	fx_setup(0x03);
	fx_short_apdu_reader(5);
	strcpy(fx.info.product, "Reader");
	fx.info.desc_raw[0] = 0x36;
	fx.info.desc_raw_len = 1;
}

/* The newest trace file of tdir, read whole (and removed). */
static char *
take_trace(void)
{
	char path[256], best[256] = "";
	struct dirent *e;
	DIR *d = opendir(tdir);
	char *buf = calloc(1, 1 << 20);
	FILE *f;
	size_t n;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".trace") != NULL)
			snprintf(best, sizeof(best), "%s", e->d_name);
	closedir(d);
	ck_assert_msg(best[0] != '\0', "no trace in %s", tdir);
	snprintf(path, sizeof(path), "%s/%s", tdir, best);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	return buf;
}

START_TEST(test_ifdh_calls_recorded_pin_hidden)
{
	UCHAR verify[] = {0x00, 0x20, 0x00, 0x81, 0x06, '1', '2', '3', '4',
	    '5', '6'};
	UCHAR escape[] = {0x12, 0x34};
	SCARD_IO_HEADER pci = {SCARD_PROTOCOL_T1, 8};
	UCHAR atr[MAX_ATR_SIZE], rx[300], fn[16];
	DWORD len = sizeof(atr), rxlen = sizeof(rx), flen = sizeof(fn), got;
	struct trace t;
	char err[200], *text;
	const char *p;

	fx_open(LUN, devname);
	ft_out(&fx.ft, "62 00000000 00 ?? 00 0000");
	ft_in(&fx.ft, "80 04000000 00 ?? 00 00 00 3B 02 14 50");
	ck_assert_int_eq(IFDHPowerICC(LUN, IFD_POWER_UP, atr, &len),
	    IFD_SUCCESS);
	ft_out(&fx.ft, "6F 0B000000 00 ?? 00 0000 00 20 00 81 06 31 32 33 34 35 36");
	ft_in(&fx.ft, "80 02000000 00 ?? 00 00 00 90 00");
	ck_assert_int_eq(IFDHTransmitToICC(LUN, pci, verify, sizeof(verify),
			     rx, &rxlen, NULL),
	    IFD_SUCCESS);
	ck_assert_int_eq(IFDHGetCapabilities(LUN,
			     TAG_IFD_POLLING_THREAD_WITH_TIMEOUT, &flen, fn),
	    IFD_SUCCESS);
	/* Escape is off by default: refused, its input hidden anyway. */
	ck_assert_int_ne(IFDHControl(LUN, FEATURES_IOCTL_ESCAPE, escape,
			     sizeof(escape), rx, sizeof(rx), &got),
	    IFD_SUCCESS);
	ft_out(&fx.ft, "63 00000000 00 ?? 00 0000");
	ft_in(&fx.ft, "81 00000000 00 ?? 01 00 00");
	ck_assert_int_eq(IFDHCloseChannel(LUN), IFD_SUCCESS);
	ft_done(&fx.ft);
	text = take_trace();
	ck_assert_ptr_null(strstr(text, "313233343536"));
	ck_assert_ptr_nonnull(strstr(text, "call op=open slot=0"));
	ck_assert_ptr_nonnull(strstr(text, "ret op=power slot=0 ifd=0 "
					   "data=3b021450\n"));
	ck_assert_ptr_nonnull(strstr(text, "call op=transmit slot=0 a=2 b=0 "
					   "cap=300 data=0020008106"
					   "????????????\n"));
	/* The XfrBlock (any bSeq): during a PIN-carrying call the whole
	 * payload is hidden, not only what the redactor recognises. */
	ck_assert_ptr_nonnull(p = strstr(text, " out data=6f0b000000"));
	ck_assert_int_eq(strncmp(p + 30, "?????????????????????? rc=ok\n", 29),
	    0);
	ck_assert_ptr_nonnull(strstr(text, "ret op=transmit slot=0 ifd=0 "
					   "data=9000\n"));
	ck_assert_ptr_nonnull(strstr(text, "ret op=getcap slot=0 ifd=0 "
					   "data=????????????????\n"));
	ck_assert_ptr_nonnull(strstr(text, " data=????\n"));
	ck_assert_ptr_nonnull(strstr(text, "call op=close slot=0"));
	ck_assert_ptr_nonnull(strstr(text, "ret op=close slot=0 ifd=0"));
	/* What the driver writes, its parser reads. */
	ck_assert_msg(trace_parse(text, strlen(text), &t, err, sizeof(err)) ==
		OC_OK, "%s", err);
	ck_assert_uint_eq(t.dev.vid, 0x072f);
	trace_free(&t);
	free(text);
}
END_TEST

/* The poller's interrupt reads and a slot's exchanges at once. */
static void *
intr_reader(void *arg)
{
	struct transport *tr = arg;
	uint8_t buf[8];
	size_t got;
	int i;

	for (i = 0; i < FT_MAX_INTR; i++)
		(void)tr->ops->intr_in(tr->ctx, buf, sizeof(buf), &got, 1000);
	return NULL;
}

START_TEST(test_concurrent_records_well_formed)
{
	struct trace_rec *rec;
	struct transport tr;
	pthread_t th;
	uint8_t msg[10] = {0x65}, buf[64];
	size_t got, i, intr = 0, out = 0;
	struct trace t;
	char err[200], *text;

	fx.ft.intr_enabled = true;
	for (i = 0; i < FT_MAX_INTR; i++)
		ft_intr(&fx.ft, "50 03");
	for (i = 0; i < EXCHANGES; i++) {
		ft_out(&fx.ft, SLOT_STATUS_CMD);
		ft_in(&fx.ft, SLOT_STATUS_OK);
	}
	tr = fx.fake_tr;
	rec = trace_rec_start(tdir, &tr, &fx.info, 0, TRACE_REC_CAP_BYTES);
	ck_assert_ptr_nonnull(rec);
	ck_assert_int_eq(pthread_create(&th, NULL, intr_reader, &tr), 0);
	for (i = 0; i < EXCHANGES; i++) {
		msg[6] = (uint8_t)i;
		ck_assert_int_eq(tr.ops->bulk_out(tr.ctx, msg, sizeof(msg),
				     100),
		    OC_OK);
		ck_assert_int_eq(tr.ops->bulk_in(tr.ctx, buf, sizeof(buf),
				     &got, 100),
		    OC_OK);
	}
	pthread_join(th, NULL);
	trace_rec_opened(rec, IFD_SUCCESS);
	tr.ops->close(tr.ctx);
	text = take_trace();
	ck_assert_msg(trace_parse(text, strlen(text), &t, err, sizeof(err)) ==
		OC_OK, "%s", err);
	for (i = 0; i < t.n; i++) {
		intr += t.rec[i].kind == TRACE_INTR;
		out += t.rec[i].kind == TRACE_OUT;
	}
	ck_assert_uint_eq(intr, FT_MAX_INTR);
	ck_assert_uint_eq(out, EXCHANGES);
	trace_free(&t);
	free(text);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("trace_ifdh");
	TCase *tc = tcase_create("record");
	int status;

	/* Read once, at the first IFDHCreateChannel*, as in pcscd. */
	strcpy(tdir, "/tmp/check_trace_ifdh.XXXXXX");
	if (mkdtemp(tdir) == NULL || setenv("OPENCCID_TRACE_DIR", tdir, 1))
		return EXIT_FAILURE;
	tcase_add_checked_fixture(tc, setup, fx_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_ifdh_calls_recorded_pin_hidden);
	tcase_add_test(tc, test_concurrent_records_well_formed);
	suite_add_tcase(s, tc);
	status = fx_run(s);
	rmdir(tdir);
	return status;
}
