/*
 * openccid - tests for traces: the format (round trip, malformed input),
 * the recording transport (redaction, file safety, size cap) and the
 * replay transport (matching, wildcards, interrupt ordering).
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec/ccid_msg.h"
#include "base/err.h"
#include "fake_transport.h"
#include "log_stub.h"
#include "codec/redact.h"
#include "codec/trace_fmt.h"
#include "codec/trace_parse.h"
#include "transport/trace_rec.h"
#include "transport/trace_replay.h"
#include "transport/usb.h"

/* libocc_core's ifdhandler.c calls usb_open(); never used here. */
int
usb_open(const struct devname *dn, const struct usb_hooks *hooks,
    struct transport *tr, struct usb_info *info)
{
	(void)dn, (void)hooks, (void)tr, (void)info;
	return OC_ENODEV;
}

#define HDR                                                                  \
	"openccid-trace 1\n"                                                 \
	"device vid=08e6 pid=3438 bcd=0100 bus=1 addr=2 iface=0 proto=0 "    \
	"class=0b intr=1 descep=0 options=00000000\n"                        \
	"desc data=3621\n"                                                   \
	"strings manufacturer=41 product= serial=\n"

static int
parse(const char *text, struct trace *t, char *err, size_t cap)
{
	return trace_parse(text, strlen(text), t, err, cap);
}

START_TEST(test_round_trip)
{
	static const uint8_t data[] = {0x6f, 0x01, 0x02, 0x03};
	static const uint8_t known[] = {1, 1, 0, 1};
	struct trace_device d;
	struct trace_record r[3];
	struct trace t;
	char buf[4096], err[200];
	size_t len, n;

	memset(&d, 0, sizeof(d));
	d.vid = 0x08e6;
	d.pid = 0x3438;
	d.has_intr = true;
	d.desc[0] = 0x36;
	d.desc_len = 1;
	strcpy(d.product, "Reader \"x\"");
	ck_assert_int_eq(trace_fmt_header(&d, buf, sizeof(buf), &len), OC_OK);
	memset(r, 0, sizeof(r));
	r[0] = (struct trace_record){.kind = TRACE_OUT, .ms = 5, .data = data,
	    .known = known, .data_len = sizeof(data)};
	r[1] = (struct trace_record){.kind = TRACE_IN, .ms = 6,
	    .rc = OC_ETIMEDOUT};
	r[2] = (struct trace_record){.kind = TRACE_RET, .ms = 7,
	    .op = TRACE_OP_TRANSMIT, .ifd = 612, .data = data, .data_len = 2};
	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(trace_fmt_record(&r[i], buf + len,
				     sizeof(buf) - len, &n),
		    OC_OK);
		len += n;
	}
	ck_assert_ptr_nonnull(strstr(buf, "5 out data=6f01??03 rc=ok\n"));
	ck_assert_ptr_nonnull(strstr(buf, "6 in rc=ETIMEDOUT\n"));
	ck_assert_int_eq(parse(buf, &t, err, sizeof(err)), OC_OK);
	ck_assert_str_eq(t.dev.product, "Reader \"x\"");
	ck_assert_uint_eq(t.dev.vid, 0x08e6);
	ck_assert(t.dev.has_intr);
	ck_assert_uint_eq(t.n, 3);
	ck_assert_uint_eq(t.rec[0].data_len, 4);
	ck_assert_uint_eq(t.rec[0].known[2], 0);
	ck_assert_uint_eq(t.rec[0].line, 5);
	ck_assert_int_eq(t.rec[1].rc, OC_ETIMEDOUT);
	ck_assert_int_eq(t.rec[2].ifd, 612);
	ck_assert_int_eq(t.rec[2].op, TRACE_OP_TRANSMIT);
	trace_free(&t);
}
END_TEST

START_TEST(test_small_buffer)
{
	struct trace_record r = {.kind = TRACE_HALT, .ms = 1};
	char buf[8];
	size_t n;

	ck_assert_int_eq(trace_fmt_record(&r, buf, sizeof(buf), &n),
	    OC_ENOSPC);
}
END_TEST

/* Each malformed trace is refused, naming the line. */
static const struct {
	const char *text;
	const char *why;
} bad[] = {
	{"", "line 1"},
	{"openccid-trace 2\n", "line 1"},
	{"openccid-trace 1\n", "ends inside its header"},
	{"openccid-trace 1\ndesc data=36\n", "line 2: expected"},
	{HDR "x out data=00\n", "line 5"},
	{HDR "1 bogus data=00\n", "unknown record kind"},
	{HDR "1 out\n", "without fields"},
	{HDR "1 out data=0\n", "odd number"},
	{HDR "1 out data=0g\n", "bad hex"},
	{HDR "1 out data=?0\n", "bad hex"},
	{HDR "1 out data=00 data=00\n", "repeated"},
	{HDR "1 out data=00 foo=1\n", "unknown field"},
	{HDR "1 out rc=ok\n", "missing data="},
	{HDR "1 out data=00 rc=EWHAT\n", "unknown rc="},
	{HDR "1 out data=00  rc=ok\n", "stray space"},
	{HDR "1 out data=00 \n", "stray space"},
	{HDR "1 out =00\n", "not key=value"},
	{HDR "1 out data00\n", "not key=value"},
	{HDR "2 out data=00\n1 out data=00\n", "line 6: time goes backwards"},
	{HDR "1 in data=00 rc=EIO\n", "data= or an error"},
	{HDR "1 in\trc=EIO\n", "control"},
	{HDR "1 intr rc=ok\n", "data= or an error"},
	{HDR "1 ctl type=a1 req=02 value=0 len=1 rc=ok data=0000\n",
	    "longer than len"},
	{HDR "1 ctl type=1a1 req=02 value=0 len=1 rc=ok data=\n", "bad type"},
	{HDR "1 ctl type=a1 req=02 value=0 len=70000 rc=ok data=\n",
	    "bad len"},
	{HDR "1 halt ep=up rc=ok\n", "in or out"},
	{HDR "1 call op=fly slot=0 a=0 b=0 cap=0 data=\n", "unknown op="},
	{HDR "1 call op=open slot=0 a=0 b=0 data=\n", "missing cap="},
	{HDR "1 call op=open slot=0 a=100000000 b=0 cap=0 data=\n", "bad a="},
	{HDR "1 ret op=open slot=0 ifd=x data=\n", "bad ifd="},
	{HDR "1 ret op=open slot=0 ifd=-99999999999 data=\n", "bad ifd="},
	{HDR "99999999999999999999 halt ep=in rc=ok\n", "expected"},
	{"openccid-trace 1\ndevice vid=08e6 pid=3438 bcd=0100 bus=1 addr=2 "
	 "iface=0 proto=0 class=0b intr=2 descep=0 options=0\n",
	    "bad intr="},
	{"openccid-trace 1\ndevice vid=08e6 pid=3438 bcd=0100 bus=1 addr=2 "
	 "iface=0 proto=0 class=0b intr=1 descep=0 options=0\ndesc data=3?\n",
	    "bad hex"},
	{"openccid-trace 1\ndevice vid=08e6 pid=3438 bcd=0100 bus=1 addr=2 "
	 "iface=0 proto=0 class=0b intr=1 descep=0 options=0\ndesc "
	 "data=36\nstrings manufacturer=4100 product= serial=\n",
	    "NUL inside"},
	{"openccid-trace 1\ndevice vid=08e6 pid=3438 bcd=0100 bus=1 addr=2 "
	 "iface=0 proto=0 class=0b intr=1 descep=0 options=0\ndesc "
	 "data=??\n",
	    "bad hex"},
};

START_TEST(test_malformed)
{
	struct trace t;
	char err[200];

	ck_assert_int_eq(parse(bad[_i].text, &t, err, sizeof(err)),
	    OC_EINVAL);
	ck_assert_msg(strstr(err, bad[_i].why) != NULL,
	    "case %d: error \"%s\", want \"%s\"", _i, err, bad[_i].why);
	ck_assert_msg(strncmp(err, "line ", 5) == 0, "no line: %s", err);
	ck_assert_uint_eq(t.n, 0);
	ck_assert_ptr_null(t.rec);
}
END_TEST

START_TEST(test_limits)
{
	size_t big = TRACE_MAX_LINE + 64, i;
	char *s = malloc(sizeof(HDR) + big + 16);
	struct trace t;
	char err[200];
	int n;

	ck_assert_ptr_nonnull(s);
	n = sprintf(s, "%s1 out data=", HDR);
	for (i = 0; i < big; i++)
		s[n + (int)i] = '0';
	s[n + (int)big] = '\n';
	s[n + (int)big + 1] = '\0';
	ck_assert_int_eq(parse(s, &t, err, sizeof(err)), OC_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "longer than"));
	/* Data just above TRACE_MAX_DATA on a line that fits. */
	n = sprintf(s, "%s1 out data=", HDR);
	for (i = 0; i < 2 * (TRACE_MAX_DATA + 1); i++)
		s[n + (int)i] = '0';
	s[n + (int)i] = '\0';
	ck_assert_int_eq(parse(s, &t, err, sizeof(err)), OC_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "more than"));
	free(s);
	ck_assert_int_eq(trace_parse(NULL, 0, &t, err, sizeof(err)),
	    OC_EINVAL);
}
END_TEST

START_TEST(test_comments_and_no_final_newline)
{
	struct trace t;
	char err[200];

	ck_assert_int_eq(parse(HDR "# a comment\n1 halt ep=in rc=ESTALL", &t,
			     err, sizeof(err)),
	    OC_OK);
	ck_assert_uint_eq(t.n, 1);
	ck_assert(t.rec[0].ep_in);
	ck_assert_int_eq(t.rec[0].rc, OC_ESTALL);
	trace_free(&t);
}
END_TEST

START_TEST(test_data_match)
{
	static const uint8_t want[] = {1, 2, 3};
	static const uint8_t known[] = {1, 0, 1};
	static const uint8_t a[] = {1, 9, 3}, b[] = {1, 2, 4}, c[] = {1, 2};
	struct trace_record r = {.data = want, .known = known, .data_len = 3};
	size_t at;

	ck_assert(trace_data_match(&r, a, 3, &at));
	ck_assert(!trace_data_match(&r, b, 3, &at));
	ck_assert_uint_eq(at, 2);
	ck_assert(!trace_data_match(&r, c, 2, &at));
	ck_assert_uint_eq(at, 2);
}
END_TEST

START_TEST(test_redact_apdu)
{
	static const uint8_t verify[] = {0x00, 0x20, 0x00, 0x81, 0x03, 1, 2,
	    3};
	static const uint8_t select[] = {0x00, 0xa4, 0x04, 0x00, 0x01, 0x20};
	static const uint8_t counter[] = {0x00, 0x20, 0x00, 0x81};
	struct redact_range rr;

	redact_apdu(verify, sizeof(verify), &rr);
	ck_assert_uint_eq(rr.off, 5);
	ck_assert_uint_eq(rr.len, 3);
	redact_apdu(select, sizeof(select), &rr);
	ck_assert_uint_eq(rr.len, 0);
	redact_apdu(counter, sizeof(counter), &rr);
	ck_assert_uint_eq(rr.len, 0);
	redact_apdu(NULL, 0, &rr);
	ck_assert_uint_eq(rr.len, 0);
}
END_TEST

/* ---- recording ----------------------------------------------------- */

static char tmpdir[64];

static void
mk_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/check_trace.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(buf);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
test_info(struct usb_info *u)
{
	memset(u, 0, sizeof(*u));
	u->vid = 0x1234;
	u->pid = 0x5678;
	u->bus = 3;
	u->addr = 4;
	u->interface = 1;
	u->desc_raw[0] = 0x36;
	u->desc_raw_len = 1;
	strcpy(u->product, "Test");
}

/* An XfrBlock carrying apdu. */
static size_t
xfr(const uint8_t *apdu, size_t n, uint8_t *out, size_t cap)
{
	struct ccid_cmd c;
	size_t len = 0;

	memset(&c, 0, sizeof(c));
	c.type = PC_TO_RDR_XFRBLOCK;
	c.data = apdu;
	c.data_len = n;
	ck_assert_int_eq(ccid_msg_encode(&c, out, cap, &len), OC_OK);
	return len;
}

START_TEST(test_record_redacts)
{
	static const uint8_t verify[] = {0x00, 0x20, 0x00, 0x81, 0x06, '9',
	    '8', '7', '6', '5', '4'};
	/* A second piece of a chained command: no PIN INS in sight. */
	static const uint8_t piece[] = {'9', '8', '7', '6', '5', '4'};
	struct fake_transport ft;
	struct transport tr;
	struct usb_info u;
	struct trace_rec *t;
	struct stat st;
	uint8_t msg[64];
	size_t len;
	char *text;
	char path[4200];

	mk_tmpdir();
	ft_init(&ft, &tr);
	test_info(&u);
	len = xfr(verify, sizeof(verify), msg, sizeof(msg));
	ft_out_bytes(&ft, msg, len);
	ft_out_bytes(&ft, msg, xfr(piece, sizeof(piece), msg, sizeof(msg)));
	ft_in(&ft, "80 02 00 00 00 00 ?? 00 00 00 90 00");
	t = trace_rec_start(tmpdir, &tr, &u, 0, TRACE_REC_CAP_BYTES);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_eq(trace_rec_of(&tr), t);
	len = xfr(verify, sizeof(verify), msg, sizeof(msg));
	ck_assert_int_eq(tr.ops->bulk_out(tr.ctx, msg, len, 100), OC_OK);
	/* During a secret command's exchange every payload is hidden. */
	trace_rec_hide(t, true, false, +1);
	len = xfr(piece, sizeof(piece), msg, sizeof(msg));
	ck_assert_int_eq(tr.ops->bulk_out(tr.ctx, msg, len, 100), OC_OK);
	trace_rec_hide(t, true, false, -1);
	{
		uint8_t in[64];
		size_t got;

		/* A secret answer: its header only. */
		trace_rec_hide(t, false, true, +1);
		ck_assert_int_eq(tr.ops->bulk_in(tr.ctx, in, sizeof(in), &got,
				     100),
		    OC_OK);
		trace_rec_hide(t, false, true, -1);
	}
	snprintf(path, sizeof(path), "%s", trace_rec_path(t));
	trace_rec_opened(t, 0);
	tr.ops->close(tr.ctx);
	ft_done(&ft);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_ptr_nonnull(strstr(path, "openccid-1234-5678-b003-a004-if1-"));
	text = slurp(path);
	ck_assert_ptr_nonnull(strstr(text, "openccid-trace 1\ndevice vid=1234"));
	ck_assert_ptr_nonnull(strstr(text, " out data=6f0b000000000000000000"
					   "20008106????????????"));
	ck_assert_ptr_nonnull(strstr(text, " out data=6f0600000000000000"
					   "00????????????"));
	ck_assert_ptr_null(strstr(text, "393837"));
	ck_assert_ptr_null(strstr(text, "0000009000"));
	ck_assert_ptr_nonnull(strstr(text, "000000????\n"));
	ck_assert_ptr_nonnull(strstr(text, " ret op=open slot=0 ifd=0"));
	free(text);
	unlink(path);
	rmdir(tmpdir);
	ft_free(&ft);
}
END_TEST

START_TEST(test_record_cannot_create)
{
	struct fake_transport ft;
	struct transport tr, before;
	struct usb_info u;

	ft_init(&ft, &tr);
	before = tr;
	test_info(&u);
	log_stub_reset();
	ck_assert_ptr_null(trace_rec_start("/nonexistent/dir", &tr, &u, 0,
	    TRACE_REC_CAP_BYTES));
	ck_assert_ptr_eq(tr.ops, before.ops);
	ck_assert_ptr_eq(tr.ctx, before.ctx);
	ck_assert(log_stub_contains("cannot create a trace file"));
	ft_free(&ft);
}
END_TEST

START_TEST(test_record_cap)
{
	struct fake_transport ft;
	struct transport tr;
	struct usb_info u;
	struct trace_rec *t;
	uint8_t msg[64];
	char path[4200];
	char *text;
	size_t len, i;

	mk_tmpdir();
	ft_init(&ft, &tr);
	test_info(&u);
	len = xfr((const uint8_t *)"\x00\xa4\x04\x00", 4, msg, sizeof(msg));
	for (i = 0; i < 20; i++)
		ft_out_bytes(&ft, msg, len);
	log_stub_reset();
	t = trace_rec_start(tmpdir, &tr, &u, 0, 400);
	ck_assert_ptr_nonnull(t);
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(tr.ops->bulk_out(tr.ctx, msg, len, 100),
		    OC_OK);
	snprintf(path, sizeof(path), "%s", trace_rec_path(t));
	trace_rec_opened(t, 0);
	tr.ops->close(tr.ctx);
	text = slurp(path);
	ck_assert_ptr_nonnull(strstr(text, "# trace stopped: size cap"));
	ck_assert_uint_le(strlen(text), 400 + 40);
	ck_assert(log_stub_contains("recording stopped: size cap reached"));
	free(text);
	unlink(path);
	rmdir(tmpdir);
	ft_done(&ft);
	ft_free(&ft);
}
END_TEST

/* ---- replay -------------------------------------------------------- */

static const char replay_text[] = HDR
    "1 out data=6f010000000000000000??\n"
    "2 in data=8000000000000000000000\n"
    "3 intr data=5003\n"
    "4 out data=65\n";

START_TEST(test_replay_serves_and_matches)
{
	static const uint8_t out1[] = {0x6f, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x42};
	static const uint8_t out2[] = {0x65};
	struct trace_replay *rp;
	struct transport tr;
	struct trace t;
	uint8_t buf[64];
	size_t got;
	char err[200];

	ck_assert_int_eq(parse(replay_text, &t, err, sizeof(err)), OC_OK);
	rp = trace_replay_new(&t);
	ck_assert_ptr_nonnull(rp);
	trace_replay_transport(rp, &tr);
	/* The intr record waits for the stream to reach its place. */
	ck_assert_int_eq(tr.ops->intr_in(tr.ctx, buf, sizeof(buf), &got, 30),
	    OC_ETIMEDOUT);
	ck_assert_int_eq(tr.ops->bulk_out(tr.ctx, out1, sizeof(out1), 100),
	    OC_OK);
	ck_assert_int_eq(tr.ops->bulk_in(tr.ctx, buf, sizeof(buf), &got, 100),
	    OC_OK);
	ck_assert_uint_eq(got, 11);
	ck_assert_int_eq(tr.ops->intr_in(tr.ctx, buf, sizeof(buf), &got, 30),
	    OC_OK);
	ck_assert_uint_eq(got, 2);
	ck_assert_uint_eq(buf[0], 0x50);
	ck_assert_int_eq(tr.ops->bulk_out(tr.ctx, out2, sizeof(out2), 100),
	    OC_OK);
	ck_assert_int_eq(trace_replay_finish(rp, t.n), OC_OK);
	ck_assert_str_eq(trace_replay_error(rp), "");
	trace_replay_free(rp);
	trace_free(&t);
}
END_TEST

START_TEST(test_replay_mismatch_names_line)
{
	static const uint8_t out1[] = {0x6f, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x42};
	struct trace_replay *rp;
	struct transport tr;
	struct trace t;
	uint8_t buf[64];
	size_t got;
	char err[200];

	ck_assert_int_eq(parse(replay_text, &t, err, sizeof(err)), OC_OK);
	rp = trace_replay_new(&t);
	trace_replay_transport(rp, &tr);
	ck_assert_int_eq(tr.ops->bulk_out(tr.ctx, out1, sizeof(out1), 100),
	    OC_EIO);
	ck_assert_str_eq(trace_replay_error(rp),
	    "line 5: bulk-OUT differs at byte 9: the driver sent 01, the "
	    "trace has 00");
	/* Failed for good. */
	ck_assert_int_eq(tr.ops->bulk_in(tr.ctx, buf, sizeof(buf), &got, 100),
	    OC_EIO);
	ck_assert_int_eq(trace_replay_finish(rp, t.n), OC_EPROTO);
	trace_replay_free(rp);
	trace_free(&t);
}
END_TEST

START_TEST(test_replay_unconsumed_and_wrong_kind)
{
	static const uint8_t out2[] = {0x65};
	struct trace_replay *rp;
	struct transport tr;
	struct trace t;
	uint8_t buf[64];
	size_t got;
	char err[200];

	ck_assert_int_eq(parse(replay_text, &t, err, sizeof(err)), OC_OK);
	rp = trace_replay_new(&t);
	trace_replay_transport(rp, &tr);
	ck_assert_int_eq(trace_replay_finish(rp, t.n), OC_EPROTO);
	ck_assert_str_eq(trace_replay_error(rp), "line 5: the driver never "
	    "made this transfer (the trace goes on)");
	trace_replay_free(rp);
	rp = trace_replay_new(&t);
	trace_replay_transport(rp, &tr);
	ck_assert_int_eq(tr.ops->bulk_in(tr.ctx, buf, sizeof(buf), &got, 10),
	    OC_EIO);
	ck_assert_ptr_nonnull(strstr(trace_replay_error(rp),
	    "line 5: the driver made a bulk-IN transfer, the trace has \"out\""));
	(void)out2;
	trace_replay_free(rp);
	trace_free(&t);
}
END_TEST

static Suite *
trace_suite(void)
{
	Suite *s = suite_create("trace");
	TCase *tc = tcase_create("fmt");

	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_small_buffer);
	tcase_add_loop_test(tc, test_malformed, 0,
	    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_comments_and_no_final_newline);
	tcase_add_test(tc, test_data_match);
	tcase_add_test(tc, test_redact_apdu);
	suite_add_tcase(s, tc);
	tc = tcase_create("record");
	tcase_add_test(tc, test_record_redacts);
	tcase_add_test(tc, test_record_cannot_create);
	tcase_add_test(tc, test_record_cap);
	suite_add_tcase(s, tc);
	tc = tcase_create("replay");
	tcase_add_test(tc, test_replay_serves_and_matches);
	tcase_add_test(tc, test_replay_mismatch_names_line);
	tcase_add_test(tc, test_replay_unconsumed_and_wrong_kind);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(trace_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
