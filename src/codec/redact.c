/*
 * openccid - what is secret in a command APDU (see redact.h).
 */
#include "config.h"

#include "codec/redact.h"

#include <stdbool.h>
#include <string.h>

#include "base/bytes.h"
#include "codec/ccid_msg.h"
#include "base/err.h"

#define T1_PROLOGUE_LEN 3 /* NAD PCB LEN, ISO 7816-3 11.3.1 */
#define T1_MAX_INF      254
#define APDU_HDR_LEN    4 /* CLA INS P1 P2 */
#define ANY_P1P2        (-1)
#define CMD             REDACT_HIDE_CMD
#define ANS             REDACT_HIDE_ANS

/*
 * The secret policy. README "What logs and traces contain" has the same
 * table: change both. cla_ff: the row holds only for CLA FF, the class
 * PC/SC part 3 gives to commands the reader itself executes.
 */
struct redact_rule {
	bool cla_ff;
	uint8_t ins;
	long p1p2; /* ANY_P1P2 or P1 << 8 | P2 */
	enum redact_class cls;
	unsigned hide;
	const char *what;
};

static const struct redact_rule policy[] = {
	/* ISO 7816-4 section 11.5: reference data (PINs, PUKs) */
	{false, 0x20, ANY_P1P2, REDACT_PIN, CMD, "VERIFY"},
	{false, 0x21, ANY_P1P2, REDACT_PIN, CMD, "VERIFY (odd INS)"},
	{false, 0x24, ANY_P1P2, REDACT_PIN, CMD, "CHANGE REFERENCE DATA"},
	{false, 0x25, ANY_P1P2, REDACT_PIN, CMD,
	    "CHANGE REFERENCE DATA (odd INS)"},
	{false, 0x26, ANY_P1P2, REDACT_PIN, CMD,
	    "DISABLE VERIFICATION REQUIREMENT"},
	{false, 0x28, ANY_P1P2, REDACT_PIN, CMD,
	    "ENABLE VERIFICATION REQUIREMENT"},
	{false, 0x2C, ANY_P1P2, REDACT_PIN, CMD, "RESET RETRY COUNTER"},
	{false, 0x2D, ANY_P1P2, REDACT_PIN, CMD,
	    "RESET RETRY COUNTER (odd INS)"},
	/* OpenPGP card 3.4 section 7.2.8: PUT DATA of secret DOs */
	{false, 0xDA, 0x00D3, REDACT_PIN, CMD,
	    "PUT DATA resetting code (OpenPGP DO D3)"},
	{false, 0xDA, 0x00D1, REDACT_KEY, CMD,
	    "PUT DATA SM key (OpenPGP DO D1)"},
	{false, 0xDA, 0x00D2, REDACT_KEY, CMD,
	    "PUT DATA SM key (OpenPGP DO D2)"},
	{false, 0xDA, 0x00D5, REDACT_KEY, CMD,
	    "PUT DATA AES key (OpenPGP DO D5)"},
	/* Section 4.4.3.12: key import, what gpg keytocard sends */
	{false, 0xDB, 0x3FFF, REDACT_KEY, CMD,
	    "PUT DATA extended header list (OpenPGP key import)"},
	/* PC/SC part 3 section 3.2.2.1.4/.5: keys to the reader */
	{true, 0x82, ANY_P1P2, REDACT_KEY, CMD, "LOAD KEYS (PC/SC part 3)"},
	{true, 0x86, ANY_P1P2, REDACT_KEY, CMD,
	    "GENERAL AUTHENTICATE (PC/SC part 3)"},
	/* ISO 7816-4 section 11.7.2: what ENVELOPE wraps is unknown */
	{false, 0xC2, ANY_P1P2, REDACT_WRAPPED, CMD, "ENVELOPE"},
	{false, 0xC3, ANY_P1P2, REDACT_WRAPPED, CMD, "ENVELOPE (odd INS)"},
	/* OpenPGP 3.4 section 4.4.1: private DOs 3 and 4 need a PIN */
	{false, 0xCA, 0x0103, REDACT_ANSWER, ANS,
	    "GET DATA private DO 0103 (OpenPGP)"},
	{false, 0xCA, 0x0104, REDACT_ANSWER, ANS,
	    "GET DATA private DO 0104 (OpenPGP)"},
	/* A random number to be encrypted, not a secret */
	{false, 0x84, ANY_P1P2, REDACT_CLEAR, 0, "GET CHALLENGE"},
};

const char *
redact_class_name(enum redact_class cls)
{
	switch (cls) {
	case REDACT_CLEAR: return "clear";
	case REDACT_PIN: return "PIN";
	case REDACT_KEY: return "key";
	case REDACT_ANSWER: return "secret answer";
	case REDACT_SM: return "secure messaging";
	case REDACT_WRAPPED: return "wrapped";
	case REDACT_MALFORMED: return "malformed";
	}
	return "?";
}

/* ISO 7816-4 section 5.4.1: SM indication and chaining in CLA. */
static enum redact_class
cla_class(uint8_t cla)
{
	if (cla == 0xFF)
		return REDACT_CLEAR; /* PC/SC part 3: no SM, no chaining */
	if ((cla & 0xE0u) == 0x20u)
		return REDACT_MALFORMED; /* 001x xxxx: reserved */
	if ((cla & 0xC0u) == 0x40u) /* further interindustry */
		return (cla & 0x20u) != 0 ? REDACT_SM
		    : (cla & 0x10u) != 0 ? REDACT_WRAPPED : REDACT_CLEAR;
	/*
	 * First interindustry, and proprietary classes, which mostly code
	 * the same bits (GlobalPlatform 84: secure channel; 90: chaining):
	 * hiding a proprietary command too many costs a log line's detail.
	 */
	return (cla & 0x0Cu) != 0 ? REDACT_SM
	    : (cla & 0x10u) != 0 ? REDACT_WRAPPED : REDACT_CLEAR;
}

/* The row for a header, NULL when none. */
static const struct redact_rule *
rule_of(const uint8_t hdr[APDU_HDR_LEN])
{
	long p1p2 = (long)hdr[2] << 8 | hdr[3];
	size_t i;

	for (i = 0; i < sizeof(policy) / sizeof(policy[0]); i++) {
		const struct redact_rule *r = &policy[i];

		if (r->ins == hdr[1] && (!r->cla_ff || hdr[0] == 0xFF) &&
		    (r->p1p2 == ANY_P1P2 || r->p1p2 == p1p2))
			return r;
	}
	return NULL;
}

/* The verdict from the header alone (the stateless per-message use). */
static void
header_verdict(const uint8_t hdr[APDU_HDR_LEN], struct redact_verdict *v)
{
	const struct redact_rule *r = rule_of(hdr);
	enum redact_class cla = cla_class(hdr[0]);

	if (r != NULL && r->cls != REDACT_CLEAR) {
		v->cls = r->cls;
		v->hide = r->hide;
		v->what = r->what;
	} else if (cla != REDACT_CLEAR) {
		v->cls = cla;
		v->hide = CMD;
		v->what = cla == REDACT_SM ? "CLA with secure messaging"
		    : cla == REDACT_WRAPPED ? "CLA with command chaining"
					    : "CLA reserved";
	} else {
		v->cls = REDACT_CLEAR;
		v->hide = 0;
		v->what = r != NULL ? r->what : "not secret";
	}
}

/*
 * ISO 7816-4 section 5.1: where the data field starts, or len for cases
 * 1 and 2 (no data); false when the length fields do not add up.
 */
static bool
data_field(const uint8_t *apdu, size_t len, size_t *off)
{
	size_t nc;

	if (len <= 5) {
		*off = len; /* case 1, case 2 short */
		return len >= APDU_HDR_LEN;
	}
	if (apdu[4] != 0) {
		nc = apdu[4];
		*off = 5;
		return len == 5 + nc || len == 6 + nc;
	}
	if (len < 7) {
		*off = APDU_HDR_LEN; /* 00 and not the 3-byte Lc/Le */
		return false;
	}
	if (len == 7) {
		*off = len; /* case 2 extended */
		return true;
	}
	nc = (size_t)apdu[5] << 8 | apdu[6];
	*off = 7;
	return nc != 0 && (len == 7 + nc || len == 9 + nc);
}

void
redact_classify(const uint8_t *apdu, size_t len, struct redact_verdict *v)
{
	size_t off = 0;
	bool ok;

	if (apdu == NULL || len < APDU_HDR_LEN) {
		v->cls = REDACT_MALFORMED;
		v->hide = CMD;
		v->data_off = 0;
		v->what = "shorter than a header";
		return;
	}
	header_verdict(apdu, v);
	ok = data_field(apdu, len, &off);
	v->data_off = ok ? off : APDU_HDR_LEN;
	if (!ok) {
		/* What the lengths do not describe cannot be judged. */
		if (v->cls == REDACT_CLEAR) {
			v->cls = REDACT_MALFORMED;
			v->what = "length fields do not match";
		}
		v->hide |= CMD;
	} else if (off == len) {
		v->hide &= ~CMD; /* no command data: nothing to hide */
	}
}

/*
 * The stateless check of one message: the data of an APDU whose header
 * alone says it is secret, from the start of its data field (after the
 * 1-byte short Lc, or the 3-byte extended Lc 00 hi lo) to the end. Le,
 * if any, is hidden too: hiding a length costs nothing, missing a PIN
 * byte would. Offsets are relative to apdu.
 */
static bool
apdu_secret_field(const uint8_t *apdu, size_t n, size_t *off, size_t *dlen)
{
	struct redact_verdict v;
	size_t start;

	/* Case 1 or case 2S: no data field */
	if (n <= 5)
		return false;
	header_verdict(apdu, &v);
	if ((v.hide & CMD) == 0)
		return false;
	start = (apdu[4] == 0 && n > 7) ? 7 : 5;
	*off = start;
	*dlen = n - start;
	return true;
}

/*
 * A T=1 I-block (ISO 7816-3 11.3): NAD, PCB with b8 = 0, LEN <= 254,
 * LEN information bytes, then a 1-byte LRC or a 2-byte CRC.
 */
static bool
t1_iblock_inf(const uint8_t *blk, size_t n, size_t *inf_len)
{
	struct oc_cur c;
	uint8_t pcb, ilen;
	size_t edc;

	cur_init(&c, blk, n);
	if (cur_skip(&c, 1) != 0 || cur_get_u8(&c, &pcb) != 0 ||
	    cur_get_u8(&c, &ilen) != 0)
		return false;
	if ((pcb & 0x80) != 0 || ilen > T1_MAX_INF)
		return false;
	if (cur_remaining(&c) < ilen)
		return false;
	edc = cur_remaining(&c) - ilen;
	if (edc != 1 && edc != 2)
		return false;
	*inf_len = ilen;
	return true;
}

static bool
xfr_secret_range(const uint8_t *data, size_t n, enum ccid_level level,
    size_t *off, size_t *dlen)
{
	size_t inf_len, o, l;

	/* Character and TPDU levels may carry T=1 blocks. */
	if (level == CCID_XCHG_TPDU || level == CCID_XCHG_CHARACTER) {
		/* The EDC is computed over the secret: hide it as well. */
		if (t1_iblock_inf(data, n, &inf_len) &&
		    apdu_secret_field(data + T1_PROLOGUE_LEN, inf_len, &o,
			&l)) {
			*off = T1_PROLOGUE_LEN + o;
			*dlen = n - *off;
			return true;
		}
	}
	/* APDU levels, and T=0 TPDUs (header then data, ISO 7816-3 10.3) */
	return apdu_secret_field(data, n, off, dlen);
}

/* The range of msg that may hold a secret; len 0 when none. */
static int
secret_range(const uint8_t *msg, size_t len, enum ccid_level level,
    struct redact_range *r)
{
	struct oc_cur c;
	const uint8_t *data;
	size_t n, off, dlen;
	uint8_t type;
	int rc;

	cur_init(&c, msg, len);
	/* Too short for a header: nothing in it can be a payload. */
	if (cur_get_u8(&c, &type) != 0 || cur_skip(&c, CCID_HDR_LEN - 1) != 0)
		return OC_OK;
	n = cur_remaining(&c);
	if ((rc = cur_get_view(&c, &data, n)) != 0)
		return rc;
	switch (type) {
	case PC_TO_RDR_SECURE:
	case PC_TO_RDR_ESCAPE:
		r->off = CCID_HDR_LEN;
		r->len = n;
		break;
	case PC_TO_RDR_XFRBLOCK:
		if (xfr_secret_range(data, n, level, &off, &dlen)) {
			r->off = CCID_HDR_LEN + off;
			r->len = dlen;
		}
		break;
	default:
		break;
	}
	return OC_OK;
}

void
redact_apdu(const uint8_t *apdu, size_t len, struct redact_range *range)
{
	struct redact_verdict v;

	range->off = 0;
	range->len = 0;
	if (apdu == NULL)
		return;
	redact_classify(apdu, len, &v);
	if ((v.hide & CMD) != 0 && v.data_off < len) {
		range->off = v.data_off;
		range->len = len - v.data_off;
	}
}

int
redact_ccid_msg(const uint8_t *msg, size_t len, enum ccid_level level,
    uint8_t *out, size_t cap, struct redact_range *range)
{
	struct redact_range r = {0, 0};
	struct oc_cur c;
	int rc;

	if (msg == NULL || out == NULL)
		return OC_EINVAL;
	if (cap < len)
		return OC_ENOSPC;
	if ((rc = secret_range(msg, len, level, &r)) != 0)
		return rc;
	cur_init(&c, msg, len);
	if ((rc = cur_get_bytes(&c, out, len)) != 0)
		return rc;
	if (r.len > 0)
		memset(out + r.off, 0, r.len);
	else
		r.off = 0;
	if (range != NULL)
		*range = r;
	return OC_OK;
}
