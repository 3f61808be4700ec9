/*
 * openccid - quirk keys wired into the driver, against a scripted
 * transport: each test builds the quirk table from the built-in files and
 * a private run-time directory, opens a reader through
 * reader_open_with_transport() and checks the behaviour the key asks for.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "codec/ccid_desc.h"
#include "base/err.h"
#include "fake_transport.h"
#include "base/log.h"
#include "log_stub.h"
#include "reader/quirks_glue.h"
#include "reader/reader.h"
#include "reader/slot.h"
#include "transport/usb.h"

#define LUN 0x10000UL
#define STATUS_CMD "65 00000000 00 ?? 00 0000"
#define STATUS_OK "81 00000000 00 ?? 00 00 00"
#define ID_MATCH "match vid=072f pid=90cc\n"

static struct fake_transport ft;
static struct transport fake_tr;
static struct usb_info info;
static char dir[64];

/* libocc_core's ifdhandler.c calls usb_open(); never used here. */
int
usb_open(const struct devname *dn, const struct usb_hooks *hooks,
    struct transport *tr, struct usb_info *out)
{
	(void)dn, (void)hooks, (void)tr, (void)out;
	return OC_ENODEV;
}

static void
write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* Table = built-in files + the private directory. */
static void
load(void)
{
	ck_assert_int_eq(reader_quirks_reload(dir), OC_OK);
}

static void
setup(void)
{
	oc_log_set_level(0x0f);
	log_stub_reset();
	ft_init(&ft, &fake_tr);
	snprintf(dir, sizeof(dir), "/tmp/oc-qw-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	memset(&info, 0, sizeof(info));
	info.vid = 0x072f;
	info.pid = 0x90cc;
	info.bcdDevice = 0x0102;
	info.desc.bVoltageSupport = 0x07;
	info.desc.dwProtocols = 3;
	info.desc.dwFeatures = CCID_LEVEL_EXT_APDU | CCID_FEAT_AUTO_VOLTAGE;
	info.desc.dwMaxCCIDMessageLength = 271;
	info.desc.dwMaxIFSD = 254;
	info.desc.dwMaxDataRate = 344086;
	info.desc.bPINSupport = 0x03;
	info.desc.level = CCID_XCHG_EXTENDED_APDU;
}

static void
teardown(void)
{
	char cmd[128];

	reader_close(LUN);
	ft_free(&ft);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	/* CK_FORK=no: leave a clean built-in table to the next test. */
	ck_assert_int_eq(reader_quirks_reload(NULL), OC_OK);
}

static int
open_rdr(uint32_t options)
{
	return reader_open_with_transport(LUN, &fake_tr, &info, options);
}

static void
open_ok(void)
{
	ft_out(&ft, STATUS_CMD);
	ft_in(&ft, STATUS_OK);
	ck_assert_int_eq(open_rdr(0), OC_OK);
	ft_done(&ft);
}

static struct reader *
hold(void)
{
	struct reader *r = reader_hold(LUN);

	ck_assert_ptr_nonnull(r);
	reader_release(r); /* immutable fields only are read */
	return r;
}

START_TEST(test_firmware_below_minimum_refused)
{
	write_file("fw.quirks", ID_MATCH "set firmware_min_bcd=0x0200\n");
	load();
	ck_assert_int_eq(open_rdr(0), OC_ENOTSUP);
	ck_assert_uint_eq(ft.closes, 1);
	ck_assert(log_stub_contains("bcdDevice 0x0102"));
	ck_assert(log_stub_contains("minimum 0x0200"));
	ck_assert(log_stub_contains("refused"));
}
END_TEST

START_TEST(test_firmware_option_opens_anyway)
{
	write_file("fw.quirks", ID_MATCH "set firmware_min_bcd=0x0200\n");
	load();
	ft_out(&ft, STATUS_CMD);
	ft_in(&ft, STATUS_OK);
	ck_assert_int_eq(open_rdr(QUIRKS_OPT_OLD_FIRMWARE), OC_OK);
	ft_done(&ft);
	ck_assert(log_stub_contains("opened anyway"));
}
END_TEST

START_TEST(test_firmware_builtin_row)
{
	load();
	info.vid = 0x04e6; /* SCM SCR 331: minimum 0x0516 (firmware.quirks) */
	info.pid = 0xe001;
	info.bcdDevice = 0x0500;
	ck_assert_int_eq(open_rdr(0), OC_ENOTSUP);
	ck_assert(log_stub_contains("firmware.quirks"));
}
END_TEST

START_TEST(test_runtime_overrides_builtin)
{
	write_file("fw.quirks", "match vid=04e6 pid=e001\n"
				"set firmware_min_bcd=0x0100\n");
	load();
	info.vid = 0x04e6;
	info.pid = 0xe001;
	info.bcdDevice = 0x0500;
	open_ok();
	ck_assert(log_stub_contains("fw.quirks:2: firmware_min_bcd"));
}
END_TEST

START_TEST(test_malformed_file_ignored)
{
	write_file("a-bad.quirks", "# broken\nmatch vid=zz pid=90cc\n"
				   "set pinpad_absent\n");
	write_file("b-good.quirks", ID_MATCH "set max_ifsd=32\n");
	load();
	ck_assert(log_stub_contains("a-bad.quirks:2:"));
	ck_assert(log_stub_contains("file ignored"));
	open_ok();
	ck_assert_uint_eq(hold()->info.desc.dwMaxIFSD, 32);
	ck_assert_uint_eq(hold()->info.desc.bPINSupport, 0x03);
}
END_TEST

START_TEST(test_env_dir)
{
	ck_assert_int_eq(setenv(QUIRKS_ENV_DIR, dir, 1), 0);
	ck_assert_str_eq(quirks_glue_dir(), dir);
	ck_assert_int_eq(setenv(QUIRKS_ENV_DIR, "", 1), 0);
	ck_assert_str_eq(quirks_glue_dir(), QUIRKS_DEFAULT_DIR);
	ck_assert_int_eq(unsetenv(QUIRKS_ENV_DIR), 0);
	ck_assert_str_eq(quirks_glue_dir(), QUIRKS_DEFAULT_DIR);
}
END_TEST

START_TEST(test_describe_logged)
{
	write_file("p.quirks", ID_MATCH "set pinpad_absent\n");
	load();
	open_ok();
	ck_assert(log_stub_contains("p.quirks:2: pinpad_absent"));
	ck_assert(log_stub_contains("open.quirks"));
}
END_TEST

START_TEST(test_pinpad_absent)
{
	write_file("p.quirks", ID_MATCH "set pinpad_absent\n");
	load();
	open_ok();
	ck_assert_uint_eq(hold()->info.desc.bPINSupport, 0);
	ck_assert(hold()->qk.pinpad_disabled);
}
END_TEST

START_TEST(test_descriptor_overrides)
{
	write_file("d.quirks", ID_MATCH "set max_ifsd=64 max_data_rate=9600\n"
				"set default_clock_khz=4000 max_clock_khz=4500\n"
				"set ifsd_negotiation_refused no_pps\n"
				"set data_rate_drop_above=200000\n"
				"set extra_timeout_ms=500\n");
	load();
	info.desc.dwMaxCCIDMessageLength = 263; /* msg_len_fix (built-in) */
	open_ok();
	ck_assert_uint_eq(hold()->info.desc.dwMaxIFSD, 64);
	ck_assert_uint_eq(hold()->info.desc.dwMaxDataRate, 9600);
	ck_assert_uint_eq(hold()->info.desc.dwDefaultClock, 4000);
	ck_assert_uint_eq(hold()->info.desc.dwMaximumClock, 4500);
	ck_assert(hold()->info.desc.dwFeatures & CCID_FEAT_AUTO_IFSD);
	ck_assert_uint_eq(hold()->info.desc.dwMaxCCIDMessageLength, 270);
	ck_assert_uint_eq(hold()->io.max_msg, 270);
	ck_assert(hold()->qk.no_pps);
	ck_assert_uint_eq(hold()->qk.data_rate_drop_above, 200000);
	ck_assert_uint_eq(hold()->qk.extra_timeout_ms, 500);
}
END_TEST

START_TEST(test_force_level_changes_path)
{
	static uint8_t apdu[300]; /* extended: 00 80 01 00 00 01 22 ... */
	uint8_t rx[16];
	size_t n = 0;
	struct reader *r;

	write_file("l.quirks", ID_MATCH "set force_level=short_apdu\n");
	load();
	open_ok();
	r = reader_get(LUN);
	ck_assert_int_eq(r->info.desc.level, CCID_XCHG_SHORT_APDU);
	ck_assert_uint_eq(r->info.desc.dwFeatures & CCID_LEVEL_MASK,
	    CCID_LEVEL_SHORT_APDU);
	r->slots[0].powered = true;
	apdu[1] = 0x80;
	apdu[6] = 0x22;
	/* Short APDU level: refused without I/O (no chaining). */
	ck_assert_int_eq(slot_transmit(r, 0, apdu, sizeof(apdu), rx,
			     sizeof(rx), &n), OC_ENOTSUP);
	r->slots[0].powered = false;
	reader_put(r, LUN);
	ft_done(&ft);
}
END_TEST

START_TEST(test_short_as_extended)
{
	write_file("l.quirks", ID_MATCH "set short_apdu_as_extended\n");
	load();
	info.desc.level = CCID_XCHG_SHORT_APDU;
	info.desc.dwFeatures = CCID_LEVEL_SHORT_APDU | CCID_FEAT_AUTO_VOLTAGE;
	open_ok();
	ck_assert_int_eq(hold()->info.desc.level, CCID_XCHG_EXTENDED_APDU);
}
END_TEST

#define POWER_OFF_CMD "63 00000000 00 ?? 00 0000"
#define POWER_OFF_OK "81 00000000 00 ?? 01 00 00"
#define POWER_ON_MUTE "80 00000000 00 ?? 40 FE 00" /* failed, ICC_MUTE */

/* The reader powers the card off after a failed class (slot.c). */
static void
mute_card(void)
{
	ft_out(&ft, "62 00000000 00 ?? 00 0000");
	ft_in(&ft, POWER_ON_MUTE);
	ft_out(&ft, POWER_OFF_CMD);
	ft_in(&ft, POWER_OFF_OK);
}

/* teardown's reader_close() powers a powered card off. */
static void
expect_close_power_off(void)
{
	ft_out(&ft, POWER_OFF_CMD);
	ft_in(&ft, POWER_OFF_OK);
}

static void
power_up_expect(int want)
{
	uint8_t atr[ATR_MAX_LEN];
	size_t n = 0;
	struct reader *r = reader_get(LUN);

	ck_assert_int_eq(slot_power_up(r, 0, atr, sizeof(atr), &n), want);
	reader_put(r, LUN);
	ft_done(&ft);
}

START_TEST(test_power_off_before_on)
{
	write_file("r.quirks", ID_MATCH "set power_off_before_on\n");
	load();
	open_ok();
	ft_out(&ft, POWER_OFF_CMD);
	ft_in(&ft, POWER_OFF_OK);
	ft_out(&ft, "62 00000000 00 ?? 00 0000");
	ft_in(&ft, "80 04000000 00 ?? 00 00 00 3B 02 14 50");
	power_up_expect(OC_OK);
	expect_close_power_off();
}
END_TEST

START_TEST(test_power_on_without_quirk)
{
	load();
	open_ok();
	ft_out(&ft, "62 00000000 00 ?? 00 0000");
	ft_in(&ft, "80 04000000 00 ?? 00 00 00 3B 02 14 50");
	power_up_expect(OC_OK);
	expect_close_power_off();
}
END_TEST

START_TEST(test_poweron_fail_means_absent)
{
	write_file("r.quirks", ID_MATCH "set poweron_fail_means_absent\n");
	load();
	open_ok();
	mute_card();
	power_up_expect(OC_ENOCARD);
}
END_TEST

START_TEST(test_always_present)
{
	struct reader *r;
	bool present = true;

	write_file("r.quirks", ID_MATCH "set always_present\n");
	load();
	open_ok();
	mute_card();
	power_up_expect(OC_ECARD);
	ft_out(&ft, STATUS_CMD);
	ft_in(&ft, "81 00000000 00 ?? 01 00 00"); /* "present, inactive" */
	r = reader_get(LUN);
	ck_assert_int_eq(slot_presence(r, 0, &present), OC_OK);
	reader_put(r, LUN);
	ck_assert(!present);
	ft_done(&ft);
}
END_TEST

START_TEST(test_set_parameters_error_ignored)
{
	static const uint8_t t0[5] = {0x11, 0x00, 0x00, 0x0a, 0x00};
	struct ccid_status st;
	struct reader *r;

	load(); /* built-in "match any" default */
	open_ok();
	r = reader_get(LUN);
	ck_assert(r->io.set_param_err_ok);
	ft_out(&ft, "61 05000000 00 ?? 00 0000 11 00 00 0a 00");
	ft_in(&ft, "82 05000000 00 ?? 41 03 00 11 00 00 0a 00");
	ck_assert_int_eq(ccid_run_set_parameters(&r->io, 0, 0, t0, 5, &st),
	    OC_OK);
	reader_put(r, LUN);
	ft_done(&ft);
}
END_TEST

START_TEST(test_set_parameters_error_switched_off)
{
	static const uint8_t t0[5] = {0x11, 0x00, 0x00, 0x0a, 0x00};
	struct ccid_status st;
	struct reader *r;

	write_file("s.quirks", ID_MATCH "set set_parameters_error_ignored="
					"false\n");
	load();
	open_ok();
	r = reader_get(LUN);
	ft_out(&ft, "61 05000000 00 ?? 00 0000 11 00 00 0a 00");
	ft_in(&ft, "82 05000000 00 ?? 41 03 00 11 00 00 0a 00");
	ck_assert_int_eq(ccid_run_set_parameters(&r->io, 0, 0, t0, 5, &st),
	    OC_EINVAL);
	reader_put(r, LUN);
	ft_done(&ft);
}
END_TEST

START_TEST(test_timeouts)
{
	write_file("t.quirks", ID_MATCH "set timeout_default_ms=4000\n");
	load();
	open_ok();
	ck_assert_uint_eq(hold()->io.timeout_ms, 4000);
	ck_assert_uint_eq(hold()->io.poweron_timeout_ms, 60000); /* built-in */
	ck_assert_uint_eq(hold()->io.escape_timeout_ms, 30000);
}
END_TEST

START_TEST(test_zlp_before_write)
{
	write_file("z.quirks", ID_MATCH "set zlp_before_write\n");
	load();
	ft_in_zlp(&ft);
	ft_out(&ft, STATUS_CMD);
	ft_in(&ft, STATUS_OK);
	ck_assert_int_eq(open_rdr(0), OC_OK);
	ft_done(&ft);
}
END_TEST

START_TEST(test_open_delay)
{
	struct timespec a, b;
	long ms;

	write_file("o.quirks", ID_MATCH "set open_delay_ms=120\n");
	load();
	clock_gettime(CLOCK_MONOTONIC, &a);
	open_ok();
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (long)(b.tv_sec - a.tv_sec) * 1000 +
	    (b.tv_nsec - a.tv_nsec) / 1000000;
	ck_assert_int_ge(ms, 120);
}
END_TEST

START_TEST(test_open_drain_interrupt)
{
	load(); /* built-in "match any": 100 ms */
	info.has_intr = true;
	ft.intr_enabled = true;
	ft_intr(&ft, "50 03");
	open_ok();
	ck_assert_uint_eq(ft.intr_calls, 2); /* one message, one timeout */
	ck_assert(log_stub_contains("dropped a 2-byte interrupt message"));
}
END_TEST

START_TEST(test_warmup_tries)
{
	unsigned i;

	write_file("w.quirks", ID_MATCH "set open_warmup_tries=3\n");
	load();
	for (i = 0; i < 3; i++) {
		ft_out(&ft, STATUS_CMD);
		ft_in_err(&ft, OC_EPROTO);
	}
	ck_assert_int_eq(open_rdr(0), OC_EPROTO);
	ft_done(&ft);
}
END_TEST

static Suite *
wiring_suite(void)
{
	Suite *s = suite_create("quirks_wiring");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_firmware_below_minimum_refused);
	tcase_add_test(tc, test_firmware_option_opens_anyway);
	tcase_add_test(tc, test_firmware_builtin_row);
	tcase_add_test(tc, test_runtime_overrides_builtin);
	tcase_add_test(tc, test_malformed_file_ignored);
	tcase_add_test(tc, test_env_dir);
	tcase_add_test(tc, test_describe_logged);
	tcase_add_test(tc, test_pinpad_absent);
	tcase_add_test(tc, test_descriptor_overrides);
	tcase_add_test(tc, test_force_level_changes_path);
	tcase_add_test(tc, test_short_as_extended);
	tcase_add_test(tc, test_power_off_before_on);
	tcase_add_test(tc, test_power_on_without_quirk);
	tcase_add_test(tc, test_poweron_fail_means_absent);
	tcase_add_test(tc, test_always_present);
	tcase_add_test(tc, test_set_parameters_error_ignored);
	tcase_add_test(tc, test_set_parameters_error_switched_off);
	tcase_add_test(tc, test_timeouts);
	tcase_add_test(tc, test_zlp_before_write);
	tcase_add_test(tc, test_open_delay);
	tcase_add_test(tc, test_open_drain_interrupt);
	tcase_add_test(tc, test_warmup_tries);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(wiring_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
