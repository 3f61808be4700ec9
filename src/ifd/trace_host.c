/*
 * openccid - host-level trace records (see trace_host.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "ifd/trace_host.h"

#include <stdlib.h>
#include <string.h>

#include <ifdhandler.h>
/* pcsc-lite reader.h (part 10 codes), not ours. */
#include <PCSC/reader.h>

#include "ifd/pcsc_features.h"
#include "base/log.h"
#include "codec/redact.h"

/* Control codes whose input is a structure without secrets (part 10). */
static int
control_input_is_safe(uint32_t code)
{
	if (code == CM_IOCTL_GET_FEATURE_REQUEST ||
	    code == FEATURES_GET_FEATURE_REQUEST_WIN)
		return 1;
	/* PIN_VERIFY/PIN_MODIFY structures: the pad collects the PIN. */
	return code != FEATURES_IOCTL_ESCAPE &&
	    code >= FEATURES_IOCTL(1) && code <= FEATURES_IOCTL(0x20);
}

/* Tags whose value is a function pointer (capabilities.c). */
static int
tag_is_pointer(uint32_t tag)
{
	return tag == TAG_IFD_POLLING_THREAD_WITH_TIMEOUT ||
	    tag == TAG_IFD_STOP_POLLING_THREAD;
}

/*
 * The "call" record of trace_call_begin(), once c->t is known. Not
 * inlined, like record_ret(): its register saves would be paid by every
 * call that is not recorded.
 */
__attribute__((noinline)) static void
record_call(struct trace_call *c, unsigned long lun, enum trace_op op,
    uint32_t a, uint32_t b, const uint8_t *in, size_t in_len, size_t cap)
{
	struct trace_record rec = {.kind = TRACE_CALL, .op = op, .a = a,
	    .b = b};
	struct redact_range rr = {0, 0};
	struct redact_verdict v;
	uint8_t *known = NULL;

	trace_rec_ref(c->t);
	c->slot = reader_slot_of(lun);
	rec.slot = c->slot;
	rec.cap = cap > TRACE_MAX_DATA ? TRACE_MAX_DATA : (uint32_t)cap;
	if (in_len > TRACE_MAX_DATA)
		in_len = TRACE_MAX_DATA;
	if (op == TRACE_OP_TRANSMIT) {
		/* The policy of redact.c; the exchange: reader/secret.c. */
		redact_classify(in, in_len, &v);
		redact_apdu(in, in_len, &rr);
		c->hide_answer = (v.hide & REDACT_HIDE_ANS) != 0;
	} else if (op == TRACE_OP_CONTROL && !control_input_is_safe(a)) {
		rr = (struct redact_range){0, in_len};
	}
	if (oc_log_show_secrets()) {
		rr.len = 0; /* the documented opt-in (README) */
		c->hide_answer = 0;
	}
	if (rr.len > 0 && (known = malloc(in_len)) == NULL)
		in_len = 0; /* nothing rather than a PIN */
	if (known != NULL) {
		memset(known, 1, in_len);
		memset(known + rr.off, 0, in_len - rr.off);
	}
	rec.data = in;
	rec.known = known;
	rec.data_len = in != NULL ? in_len : 0;
	trace_rec_host(c->t, &rec);
	free(known);
}

/*
 * Nearly always nothing is being recorded: decide that before building
 * a record (every APDU passes here; make bench counted the record's
 * set-up as a tenth of an APDU's driver instructions).
 */
void
trace_call_begin(struct trace_call *c, struct reader *r, unsigned long lun,
    enum trace_op op, uint32_t a, uint32_t b, const uint8_t *in,
    size_t in_len, size_t cap)
{
	c->t = r != NULL ? trace_rec_of(&r->io.tr) : NULL;
	c->op = op;
	c->slot = 0;
	c->a = a;
	c->hide_answer = 0;
	if (c->t != NULL)
		record_call(c, lun, op, a, b, in, in_len, cap);
}

__attribute__((noinline)) static void
record_ret(struct trace_call *c, long ifd, const uint8_t *out,
    size_t out_len)
{
	static const uint8_t wild[16] = {0};
	uint8_t *known = NULL;
	struct trace_record rec = {.kind = TRACE_RET, .op = c->op,
	    .slot = c->slot, .ifd = ifd};

	rec.data = out;
	rec.data_len = out != NULL ? out_len : 0;
	if (rec.data_len > TRACE_MAX_DATA)
		rec.data_len = TRACE_MAX_DATA;
	if (c->op == TRACE_OP_GETCAP && tag_is_pointer(c->a) &&
	    rec.data_len <= sizeof(wild))
		rec.known = wild;
	/* A secret answer: its status word only (ISO 7816-4 5.1). */
	if (c->hide_answer && rec.data_len > 0) {
		if ((known = calloc(1, rec.data_len)) == NULL)
			rec.data_len = 0; /* nothing rather than a key */
		else if (rec.data_len >= 2)
			known[rec.data_len - 2] = known[rec.data_len - 1] = 1;
		rec.known = known;
	}
	trace_rec_host(c->t, &rec);
	free(known);
	trace_rec_unref(c->t);
	c->t = NULL;
}

/* As trace_call_begin(): no record is built when none is recorded. */
void
trace_call_end(struct trace_call *c, long ifd, const uint8_t *out,
    size_t out_len)
{
	if (c->t != NULL)
		record_ret(c, ifd, out, out_len);
}
