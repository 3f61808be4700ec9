/*
 * openccid - tests for the T=1 engine (ISO/IEC 7816-3:2006 section 11).
 *
 * A scripted card: each step names the block the engine must send
 * (prologue and INF in hex; the EDC is appended by the script) and what
 * the card answers: a block (EDC appended), raw bytes (bad EDC kept), or
 * a transfer error such as a timeout.
 */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card/atr.h"
#include "base/err.h"
#include "card/t1.h"

struct step {
	const char *tx; /* expected block without EDC */
	const char *rx; /* reply without EDC (NULL with rc != 0) */
	int rc;         /* transfer result */
	bool raw;       /* rx sent as is, no EDC added */
	unsigned mult;  /* expected BWT multiplier (0: 1) */
};

struct card {
	const struct step *steps;
	size_t n, pos;
	bool crc;
};

static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (*s != '\0') {
		if (*s == ' ') {
			s++;
			continue;
		}
		ck_assert(sscanf(s, "%2x", &v) == 1);
		ck_assert_uint_lt(n, cap);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static size_t
with_edc(const char *hex, bool crc, uint8_t *out, size_t cap)
{
	size_t n = unhex(hex, out, cap);

	ck_assert_uint_le(n + 2, cap);
	return n + t1_edc(out, n, crc, out + n);
}

static int
card_xfer(void *ctx, const uint8_t *blk, size_t len, uint8_t *reply, size_t cap,
    size_t *got, unsigned mult)
{
	struct card *c = ctx;
	const struct step *s;
	uint8_t want[T1_MAX_BLOCK + 8];
	size_t n;

	ck_assert_msg(c->pos < c->n, "unexpected extra block #%zu", c->pos);
	s = &c->steps[c->pos++];
	n = with_edc(s->tx, c->crc, want, sizeof(want));
	ck_assert_uint_eq(len, n);
	ck_assert_msg(
	    memcmp(blk, want, n) == 0, "step %zu: block differs", c->pos - 1);
	ck_assert_uint_eq(mult, s->mult != 0 ? s->mult : 1);
	if (s->rc != OC_OK)
		return s->rc;
	if (s->raw)
		n = unhex(s->rx, reply, cap);
	else
		n = with_edc(s->rx, c->crc, reply, cap);
	*got = n;
	return OC_OK;
}

#define RUN(t1, card, apdu_hex, resp, cap, resp_len)                           \
	run_apdu(t1, card, apdu_hex, resp, cap, resp_len)

static int
run_apdu(struct t1 *t1, struct card *c, const char *apdu_hex, uint8_t *resp,
    size_t cap, size_t *resp_len)
{
	struct t1_xfer io = {card_xfer, c};
	uint8_t apdu[600];
	size_t n = unhex(apdu_hex, apdu, sizeof(apdu));

	return t1_transceive(t1, &io, apdu, n, resp, cap, resp_len);
}

#define SCRIPT(arr)                                                            \
	struct card card = {arr, sizeof(arr) / sizeof(arr[0]), 0, false}
#define DONE() ck_assert_uint_eq(card.pos, card.n)

static void
expect_resp(const uint8_t *resp, size_t len, const char *hex)
{
	uint8_t want[300];
	size_t n = unhex(hex, want, sizeof(want));

	ck_assert_uint_eq(len, n);
	ck_assert(memcmp(resp, want, n) == 0);
}

START_TEST(test_simple_exchange)
{
	static const struct step s[] = {
	    {"00 00 05 00 A4 04 00 00", "00 00 02 90 00", 0, false, 0},
	    {"00 40 04 00 B0 00 00", "00 40 03 AA 90 00", 0, false, 0},
	};
	SCRIPT(s);
	struct t1 t1;
	uint8_t resp[64];
	size_t n = 0;

	t1_init(&t1, NULL);
	ck_assert_int_eq(RUN(&t1, &card, "00 A4 04 00 00", resp, 64, &n), 0);
	expect_resp(resp, n, "90 00");
	ck_assert_uint_eq(t1.ns, 1);
	ck_assert_uint_eq(t1.nr, 1);
	ck_assert_int_eq(RUN(&t1, &card, "00 B0 00 00", resp, 64, &n), 0);
	expect_resp(resp, n, "AA 90 00");
	ck_assert_uint_eq(t1.ns, 0);
	DONE();
}
END_TEST

START_TEST(test_edc_values)
{
	static const uint8_t digits[] = "123456789";
	uint8_t e[2];

	/* CRC-16 of ISO/IEC 13239 without final inversion: check value */
	ck_assert_uint_eq(t1_edc(digits, 9, true, e), 2);
	ck_assert_uint_eq(e[0], 0x6F);
	ck_assert_uint_eq(e[1], 0x91);
	ck_assert_uint_eq(t1_edc(digits, 9, false, e), 1);
	ck_assert_uint_eq(e[0], 0x31);
}
END_TEST

START_TEST(test_crc_from_atr)
{
	static const struct step s[] = {
	    {"00 00 04 00 CA 00 6E", "00 00 02 90 00", 0, false, 0},
	};
	SCRIPT(s);
	struct atr_info atr;
	struct t1 t1;
	uint8_t resp[8];
	size_t n = 0;

	memset(&atr, 0, sizeof(atr));
	atr.ifsc = 0xFE;
	atr.edc_crc = true;
	card.crc = true;
	t1_init(&t1, &atr);
	ck_assert(t1.crc);
	ck_assert_uint_eq(t1.ifsc, 254);
	ck_assert_int_eq(RUN(&t1, &card, "00 CA 00 6E", resp, 8, &n), 0);
	DONE();
}
END_TEST

/* Bad EDC from the card: R-block with EDC error, then the card resends. */
START_TEST(test_bad_edc_lrc)
{
	static const struct step s[] = {
	    {"00 00 04 00 CA 00 6E", "00 00 02 90 00 FF", 0, true, 0},
	    {"00 81 00", "00 00 02 90 00", 0, false, 0},
	};
	SCRIPT(s);
	struct t1 t1;
	uint8_t resp[8];
	size_t n = 0;

	t1_init(&t1, NULL);
	ck_assert_int_eq(RUN(&t1, &card, "00 CA 00 6E", resp, 8, &n), 0);
	expect_resp(resp, n, "90 00");
	DONE();
}
END_TEST

START_TEST(test_bad_edc_crc)
{
	static const struct step s[] = {
	    {"00 00 04 00 CA 00 6E", "00 00 02 90 00 12 34", 0, true, 0},
	    {"00 81 00", "00 00 02 90 00", 0, false, 0},
	};
	SCRIPT(s);
	struct t1 t1;
	uint8_t resp[8];
	size_t n = 0;
	struct atr_info atr;

	memset(&atr, 0, sizeof(atr));
	atr.ifsc = 32;
	atr.edc_crc = true;
	card.crc = true;
	t1_init(&t1, &atr);
	ck_assert_int_eq(RUN(&t1, &card, "00 CA 00 6E", resp, 8, &n), 0);
	DONE();
}
END_TEST

/* Parity error reported by the reader, then a lost block (timeout). */
START_TEST(test_parity_and_timeout)
{
	static const struct step s[] = {
	    {"00 00 04 00 CA 00 6E", NULL, OC_ECARD, false, 0},
	    {"00 81 00", NULL, OC_ETIMEDOUT, false, 0},
	    {"00 82 00", "00 00 02 90 00", 0, false, 0},
	};
	SCRIPT(s);
	struct t1 t1;
	uint8_t resp[8];
	size_t n = 0;

	t1_init(&t1, NULL);
	ck_assert_int_eq(RUN(&t1, &card, "00 CA 00 6E", resp, 8, &n), 0);
	DONE();
}
END_TEST

/* Card R-block naming our N(S): it missed our I-block; send it again. */
START_TEST(test_card_r_retransmit)
{
	static const struct step s[] = {
	    {"00 00 04 00 CA 00 6E", "00 82 00", 0, false, 0},
	    {"00 00 04 00 CA 00 6E", "00 00 02 90 00", 0, false, 0},
	};
	SCRIPT(s);
	struct t1 t1;
	uint8_t resp[8];
	size_t n = 0;

	t1_init(&t1, NULL);
	ck_assert_int_eq(RUN(&t1, &card, "00 CA 00 6E", resp, 8, &n), 0);
	DONE();
}
END_TEST

/* Errors beyond the retry limit: RESYNCH; the command is not repeated. */
START_TEST(test_resync_after_retries)
{
	static const struct step s[] = {
	    {"00 40 04 00 CA 00 6E", NULL, OC_ETIMEDOUT, false, 0},
	    {"00 92 00", NULL, OC_ETIMEDOUT, false, 0},
	    {"00 92 00", "00 00 02 90", 0, true, 0},
	    {"00 92 00", NULL, OC_ETIMEDOUT, false, 0},
	    {"00 C0 00", "00 E0 00", 0, false, 0},
	    /* next exchange starts from N(S) = 0 */
	    {"00 00 04 00 CA 00 6E", "00 00 02 90 00", 0, false, 0},
	};
	SCRIPT(s);
	struct t1 t1;
	uint8_t resp[8];
	size_t n = 0;

	t1_init(&t1, NULL);
	t1.ns = 1;
	t1.nr = 1;
	ck_assert_int_eq(
	    RUN(&t1, &card, "00 CA 00 6E", resp, 8, &n), OC_EPROTO);
	ck_assert_uint_eq(t1.ns, 0);
	ck_assert_uint_eq(t1.nr, 0);
	ck_assert(!t1.need_resync);
	ck_assert_int_eq(RUN(&t1, &card, "00 CA 00 6E", resp, 8, &n), 0);
	DONE();
}
END_TEST

/* RESYNCH unanswered max_resynch times: give up, resync next time. */
START_TEST(test_resync_fails)
{
	static const struct step s[] = {
	    {"00 00 04 00 CA 00 6E", NULL, OC_ETIMEDOUT, false, 0},
	    {"00 82 00", NULL, OC_ETIMEDOUT, false, 0},
	    {"00 C0 00", NULL, OC_ETIMEDOUT, false, 0},
	    {"00 C0 00", "00 00 02 90 00", 0, false, 0},
	    {"00 C0 00", "00 E1 00", 0, false, 0},
	    /* next exchange: RESYNCH first, then the command */
	    {"00 C0 00", "00 E0 00", 0, false, 0},
	    {"00 00 04 00 CA 00 6E", "00 00 02 90 00", 0, false, 0},
	};
	SCRIPT(s);
	struct t1 t1;
	uint8_t resp[8];
	size_t n = 0;

	t1_init(&t1, NULL);
	t1_set_limits(&t1, 1, 3, 10);
	ck_assert_int_eq(RUN(&t1, &card, "00 CA 00 6E", resp, 8, &n), OC_ECARD);
	ck_assert(t1.need_resync);
	ck_assert_int_eq(RUN(&t1, &card, "00 CA 00 6E", resp, 8, &n), 0);
	expect_resp(resp, n, "90 00");
	ck_assert(!t1.need_resync);
	DONE();
}
END_TEST

/* Host chaining by IFSC (11.6.2.2): R-blocks acknowledge each link. */
START_TEST(test_host_chaining)
{
	static const struct step s[] = {
	    {"00 20 04 00 DA 01 02", "00 90 00", 0, false, 0},
	    {"00 60 04 05 11 22 33", "00 80 00", 0, false, 0},
	    /* the card missed this one: it asks again with N(R) = 0 */
	    {"00 00 02 44 55", "00 81 00", 0, false, 0},
	    {"00 00 02 44 55", "00 00 02 90 00", 0, false, 0},
	};
	SCRIPT(s);
	struct atr_info atr;
	struct t1 t1;
	uint8_t resp[8];
	size_t n = 0;

	memset(&atr, 0, sizeof(atr));
	atr.ifsc = 4;
	t1_init(&t1, &atr);
	ck_assert_int_eq(
	    RUN(&t1, &card, "00 DA 01 02 05 11 22 33 44 55", resp, 8, &n), 0);
	expect_resp(resp, n, "90 00");
	ck_assert_uint_eq(t1.ns, 1);
	ck_assert_uint_eq(t1.nr, 1);
	DONE();
}
END_TEST

/* A transport bound below IFSC (dwMaxCCIDMessageLength): I-blocks of
 * at most inf_cap bytes, chained, although IFSC would take them whole. */
START_TEST(test_inf_cap_chains)
{
	static const struct step s[] = {
	    {"00 20 03 00 DA 01", "00 90 00", 0, false, 0},
	    {"00 60 03 02 05 11", "00 80 00", 0, false, 0},
	    {"00 20 03 22 33 44", "00 90 00", 0, false, 0},
	    {"00 40 01 55", "00 00 02 90 00", 0, false, 0},
	};
	SCRIPT(s);
	struct t1 t1;
	uint8_t resp[8];
	size_t n = 0;

	t1_init(&t1, NULL); /* IFSC 32 */
	ck_assert_int_eq(t1_set_inf_cap(&t1, 3), OC_ERANGE);
	ck_assert_int_eq(t1_set_inf_cap(&t1, 7), OC_OK); /* 3 + 3 + LRC */
	ck_assert_uint_eq(t1.inf_cap, 3);
	ck_assert_int_eq(
	    RUN(&t1, &card, "00 DA 01 02 05 11 22 33 44 55", resp, 8, &n), 0);
	expect_resp(resp, n, "90 00");
	DONE();
	/* Room for a whole block: no bound. */
	ck_assert_int_eq(t1_set_inf_cap(&t1, 300), OC_OK);
	ck_assert_uint_eq(t1.inf_cap, 0);
}
END_TEST

/* Errors while chaining, before the last link: resynch restarts it. */
START_TEST(test_host_chaining_resync_restarts)
{
	static const struct step s[] = {
	    {"00 20 04 00 DA 01 02", "00 90 00", 0, false, 0},
	    {"00 60 04 03 11 22 33", NULL, OC_ETIMEDOUT, false, 0},
	    {"00 82 00", "00 00 02 90 00", 0, false, 0}, /* I not allowed */
	    {"00 82 00", NULL, OC_ETIMEDOUT, false, 0},
	    {"00 C0 00", "00 E0 00", 0, false, 0},
	    {"00 20 04 00 DA 01 02", "00 90 00", 0, false, 0},
	    {"00 60 04 03 11 22 33", "00 80 00", 0, false, 0},
	    {"00 00 01 44", "00 00 02 90 00", 0, false, 0},
	};
	SCRIPT(s);
	struct atr_info atr;
	struct t1 t1;
	uint8_t resp[8];
	size_t n = 0;

	memset(&atr, 0, sizeof(atr));
	atr.ifsc = 4;
	t1_init(&t1, &atr);
	t1_set_limits(&t1, 2, 3, 10);
	ck_assert_int_eq(
	    RUN(&t1, &card, "00 DA 01 02 03 11 22 33 44", resp, 8, &n), 0);
	expect_resp(resp, n, "90 00");
	DONE();
}
END_TEST

/* Card chaining: we acknowledge with R(N(R)) and concatenate. */
START_TEST(test_card_chaining)
{
	static const struct step s[] = {
	    {"00 00 05 00 C0 00 00 00", "00 20 03 01 02 03", 0, false, 0},
	    {"00 90 00", NULL, OC_ETIMEDOUT, false, 0},
	    {"00 92 00", "00 60 02 04 05", 0, false, 0},
	    /* a duplicate of the last link (wrong N(S)) is refused */
	    {"00 80 00", "00 60 02 04 05", 0, false, 0},
	    {"00 82 00", "00 00 02 90 00", 0, false, 0},
	};
	SCRIPT(s);
	struct t1 t1;
	uint8_t resp[16];
	size_t n = 0;

	t1_init(&t1, NULL);
	ck_assert_int_eq(RUN(&t1, &card, "00 C0 00 00 00", resp, 16, &n), 0);
	expect_resp(resp, n, "01 02 03 04 05 90 00");
	DONE();
}
END_TEST

/* Section 11.6.2.3: WTX answered, multiplier passed to the next xfer. */
START_TEST(test_wtx)
{
	static const struct step s[] = {
	    {"00 00 04 00 47 80 00", "00 C3 01 05", 0, false, 0},
	    {"00 E3 01 05", "00 C3 01 02", 0, false, 5},
	    {"00 E3 01 02", "00 00 02 90 00", 0, false, 2},
	};
	SCRIPT(s);
	struct t1 t1;
	uint8_t resp[8];
	size_t n = 0;

	t1_init(&t1, NULL);
	ck_assert_int_eq(RUN(&t1, &card, "00 47 80 00", resp, 8, &n), 0);
	DONE();
}
END_TEST

START_TEST(test_wtx_bounded)
{
	static const struct step s[] = {
	    {"00 00 04 00 47 80 00", "00 C3 01 01", 0, false, 0},
	    {"00 E3 01 01", "00 C3 01 01", 0, false, 1},
	    {"00 E3 01 01", "00 C3 01 01", 0, false, 1},
	};
	SCRIPT(s);
	struct t1 t1;
	uint8_t resp[8];
	size_t n = 0;

	t1_init(&t1, NULL);
	t1_set_limits(&t1, 3, 3, 2);
	ck_assert_int_eq(
	    RUN(&t1, &card, "00 47 80 00", resp, 8, &n), OC_ETIMEDOUT);
	ck_assert(t1.need_resync);
	DONE();
}
END_TEST

/* Malformed WTX (no byte, or 0) is an invalid block. */
START_TEST(test_wtx_malformed)
{
	static const struct step s[] = {
	    {"00 00 04 00 47 80 00", "00 C3 00", 0, false, 0},
	    {"00 82 00", "00 C3 01 00", 0, false, 0},
	    {"00 82 00", "00 00 02 90 00", 0, false, 0},
	};
	SCRIPT(s);
	struct t1 t1;
	uint8_t resp[8];
	size_t n = 0;

	t1_init(&t1, NULL);
	ck_assert_int_eq(RUN(&t1, &card, "00 47 80 00", resp, 8, &n), 0);
	DONE();
}
END_TEST

/* S(IFS request) from the card changes IFSC for the next links. */
START_TEST(test_card_ifs_request)
{
	static const struct step s[] = {
	    {"00 20 04 00 DA 01 02", "00 C1 01 02", 0, false, 0},
	    {"00 E1 01 02", "00 90 00", 0, false, 0},
	    {"00 60 02 03 11", "00 80 00", 0, false, 0},
	    {"00 00 02 22 33", "00 00 02 90 00", 0, false, 0},
	    /* IFS 0 and 255 are invalid */
	    {"00 40 02 00 B0", "00 C1 01 00", 0, false, 0},
	    {"00 92 00", "00 C1 01 FF", 0, false, 0},
	    {"00 92 00", "00 40 02 90 00", 0, false, 0},
	};
	SCRIPT(s);
	struct atr_info atr;
	struct t1 t1;
	uint8_t resp[8];
	size_t n = 0;

	memset(&atr, 0, sizeof(atr));
	atr.ifsc = 4;
	t1_init(&t1, &atr);
	ck_assert_int_eq(
	    RUN(&t1, &card, "00 DA 01 02 03 11 22 33", resp, 8, &n), 0);
	ck_assert_uint_eq(t1.ifsc, 2);
	ck_assert_int_eq(RUN(&t1, &card, "00 B0", resp, 8, &n), 0);
	/* power-up forgets it */
	t1_reset(&t1);
	ck_assert_uint_eq(t1.ifsc, 4);
	DONE();
}
END_TEST

/* S(ABORT request): answered, exchange cancelled, resync next time. */
START_TEST(test_card_abort)
{
	static const struct step s[] = {
	    {"00 00 05 00 C0 00 00 00", "00 20 01 01", 0, false, 0},
	    {"00 90 00", "00 C2 00", 0, false, 0},
	    {"00 E2 00", NULL, OC_ETIMEDOUT, false, 0},
	    {"00 C0 00", "00 E0 00", 0, false, 0},
	    {"00 00 04 00 CA 00 6E", "00 00 02 90 00", 0, false, 0},
	};
	SCRIPT(s);
	struct t1 t1;
	uint8_t resp[8];
	size_t n = 0;

	t1_init(&t1, NULL);
	ck_assert_int_eq(
	    RUN(&t1, &card, "00 C0 00 00 00", resp, 8, &n), OC_ECANCELED);
	ck_assert(t1.need_resync);
	ck_assert_int_eq(RUN(&t1, &card, "00 CA 00 6E", resp, 8, &n), 0);
	DONE();
}
END_TEST

/* Wrong N(S) from the card: R-block "other error" asking for N(S) = 0. */
START_TEST(test_wrong_ns)
{
	static const struct step s[] = {
	    {"00 00 04 00 CA 00 6E", "00 40 02 90 00", 0, false, 0},
	    {"00 82 00", "00 00 02 90 00", 0, false, 0},
	};
	SCRIPT(s);
	struct t1 t1;
	uint8_t resp[8];
	size_t n = 0;

	t1_init(&t1, NULL);
	ck_assert_int_eq(RUN(&t1, &card, "00 CA 00 6E", resp, 8, &n), 0);
	DONE();
}
END_TEST

/* Blocks that make no sense where they arrive are invalid blocks. */
START_TEST(test_unexpected_blocks)
{
	static const struct step s[] = {
	    /* unsolicited S responses */
	    {"00 00 04 00 CA 00 6E", "00 E1 01 20", 0, false, 0},
	    {"00 82 00", "00 E3 01 01", 0, false, 0},
	    /* RESYNCH request from the card */
	    {"00 82 00", "00 C0 00", 0, false, 0},
	    /* R acknowledgement of an unchained block */
	    {"00 82 00", "00 90 00", 0, false, 0},
	    {"00 C0 00", "00 E0 00", 0, false, 0},
	    /* unknown PCB, R-block with INF, wrong NAD */
	    {"00 00 04 00 CA 00 6E", "00 C4 00", 0, false, 0},
	    {"00 82 00", "00 80 01 00", 0, false, 0},
	    {"00 82 00", "21 00 02 90 00", 0, false, 0},
	    {"00 82 00", "00 00 02 90 00", 0, false, 0},
	};
	SCRIPT(s);
	struct t1 t1;
	uint8_t resp[8];
	size_t n = 0;

	t1_init(&t1, NULL);
	ck_assert_int_eq(
	    RUN(&t1, &card, "00 CA 00 6E", resp, 8, &n), OC_EPROTO);
	ck_assert_int_eq(RUN(&t1, &card, "00 CA 00 6E", resp, 8, &n), 0);
	DONE();
}
END_TEST

/* The answer does not fit: the chain is drained, then OC_ENOSPC. */
START_TEST(test_oversized_chain)
{
	static const struct step s[] = {
	    {"00 00 05 00 C0 00 00 00", "00 20 03 01 02 03", 0, false, 0},
	    {"00 90 00", "00 60 03 04 05 06", 0, false, 0},
	    {"00 80 00", "00 00 02 90 00", 0, false, 0},
	    {"00 40 04 00 CA 00 6E", "00 40 06 01 02 03 04 90 00", 0, false, 0},
	};
	SCRIPT(s);
	struct t1 t1;
	uint8_t resp[5];
	size_t n = 99;

	t1_init(&t1, NULL);
	ck_assert_int_eq(
	    RUN(&t1, &card, "00 C0 00 00 00", resp, 5, &n), OC_ENOSPC);
	ck_assert_uint_eq(n, 99);
	ck_assert(!t1.need_resync);
	ck_assert_int_eq(
	    RUN(&t1, &card, "00 CA 00 6E", resp, 5, &n), OC_ENOSPC);
	DONE();
}
END_TEST

/* Chained empty I-blocks are bounded. */
START_TEST(test_empty_chain_bounded)
{
	static struct step s[12];
	struct card card = {s, 0, 0, false};
	struct t1 t1;
	uint8_t resp[8];
	size_t n = 0, i;

	s[0] = (struct step){"00 00 04 00 CA 00 6E", "00 20 00", 0, false, 0};
	for (i = 1; i < 10; i++)
		s[i] = (struct step){(i % 2) ? "00 90 00" : "00 80 00",
		    (i % 2) ? "00 60 00" : "00 20 00", 0, false, 0};
	card.n = 9;
	t1_init(&t1, NULL);
	ck_assert_int_eq(
	    RUN(&t1, &card, "00 CA 00 6E", resp, 8, &n), OC_EPROTO);
	ck_assert(t1.need_resync);
	DONE();
}
END_TEST

START_TEST(test_fatal_transport)
{
	static const struct step s[] = {
	    {"00 00 04 00 CA 00 6E", NULL, OC_ENODEV, false, 0},
	};
	SCRIPT(s);
	struct t1 t1;
	uint8_t resp[8];
	size_t n = 0;

	t1_init(&t1, NULL);
	ck_assert_int_eq(
	    RUN(&t1, &card, "00 CA 00 6E", resp, 8, &n), OC_ENODEV);
	DONE();
}
END_TEST

START_TEST(test_negotiate_ifsd)
{
	static const struct step s[] = {
	    {"00 C1 01 FE", NULL, OC_ETIMEDOUT, false, 0},
	    {"00 C1 01 FE", "00 E1 01 FE", 0, false, 0},
	    {"00 C1 01 80", "00 E1 01 20", 0, false, 0},
	    {"00 C1 01 80", "00 E1 01 20", 0, false, 0},
	};
	SCRIPT(s);
	struct t1_xfer io = {card_xfer, &card};
	struct t1 t1;

	t1_init(&t1, NULL);
	ck_assert_int_eq(t1_negotiate_ifsd(&t1, &io, 0xFE), 0);
	ck_assert_uint_eq(t1.ifsd, 254);
	t1_set_limits(&t1, 1, 1, 1);
	ck_assert_int_eq(t1_negotiate_ifsd(&t1, &io, 0x80), OC_EPROTO);
	ck_assert_uint_eq(t1.ifsd, 254);
	ck_assert_int_eq(t1_negotiate_ifsd(&t1, &io, 0), OC_EINVAL);
	ck_assert_int_eq(t1_set_ifsd(&t1, 255), OC_EINVAL);
	ck_assert_int_eq(t1_set_ifsd(&t1, 200), 0);
	ck_assert_uint_eq(t1.ifsd, 200);
	DONE();
}
END_TEST

START_TEST(test_block_codec)
{
	uint8_t buf[T1_MAX_BLOCK + 4], inf[T1_MAX_INF + 1];
	struct t1_block b;
	size_t n;

	memset(inf, 0x5A, sizeof(inf));
	ck_assert_int_eq(
	    t1_block_build(0, 0x20, inf, 254, true, buf, sizeof(buf), &n), 0);
	ck_assert_uint_eq(n, T1_MAX_BLOCK);
	ck_assert_int_eq(t1_block_parse(buf, n, true, &b), 0);
	ck_assert(b.kind == T1_BLOCK_I && b.more && b.seq == 0);
	ck_assert_uint_eq(b.inf_len, 254);
	ck_assert_int_eq(t1_block_parse(buf, n, false, &b), OC_EPROTO);
	ck_assert_int_eq(t1_block_parse(buf, n - 1, true, &b), OC_ETRUNC);
	ck_assert_int_eq(
	    t1_block_build(0, 0, inf, 255, false, buf, sizeof(buf), &n),
	    OC_EINVAL);
	ck_assert_int_eq(
	    t1_block_build(0, 0, inf, 10, false, buf, 13, &n), OC_ENOSPC);
	n = unhex("00 00 FF", buf, sizeof(buf));
	ck_assert_int_eq(t1_block_parse(buf, n, false, &b), OC_EPROTO);
	n = unhex("00 92 00 92", buf, sizeof(buf));
	ck_assert_int_eq(t1_block_parse(buf, n, false, &b), 0);
	ck_assert(b.kind == T1_BLOCK_R && b.seq == 1 && b.code == T1_R_OTHER);
	n = unhex("00 93 00 93", buf, sizeof(buf));
	ck_assert_int_eq(t1_block_parse(buf, n, false, &b), OC_EPROTO);
	n = unhex("00 E3 01 05 E7", buf, sizeof(buf));
	ck_assert_int_eq(t1_block_parse(buf, n, false, &b), 0);
	ck_assert(b.kind == T1_BLOCK_S && b.response && b.code == T1_S_WTX);
	n = unhex("00 E3 01 05 E6", buf, sizeof(buf));
	ck_assert_int_eq(t1_block_parse(buf, n, false, &b), OC_ECARD);
	ck_assert_int_eq(t1_block_parse(NULL, 0, false, &b), OC_ETRUNC);
}
END_TEST

START_TEST(test_bad_args)
{
	struct t1 t1;
	struct t1_xfer io = {card_xfer, NULL};
	uint8_t a[4] = {0}, r[4];
	size_t n;

	t1_init(&t1, NULL);
	ck_assert_int_eq(t1_transceive(&t1, &io, a, 0, r, 4, &n), OC_EINVAL);
	ck_assert_int_eq(t1_transceive(&t1, NULL, a, 4, r, 4, &n), OC_EINVAL);
	ck_assert_int_eq(t1_transceive(NULL, &io, a, 4, r, 4, &n), OC_EINVAL);
}
END_TEST

static Suite *
t1_suite(void)
{
	Suite *s = suite_create("t1");
	TCase *tc = tcase_create("blocks");

	tcase_add_test(tc, test_edc_values);
	tcase_add_test(tc, test_block_codec);
	tcase_add_test(tc, test_bad_args);
	suite_add_tcase(s, tc);
	tc = tcase_create("exchange");
	tcase_add_test(tc, test_simple_exchange);
	tcase_add_test(tc, test_crc_from_atr);
	tcase_add_test(tc, test_host_chaining);
	tcase_add_test(tc, test_inf_cap_chains);
	tcase_add_test(tc, test_card_chaining);
	tcase_add_test(tc, test_wtx);
	tcase_add_test(tc, test_card_ifs_request);
	tcase_add_test(tc, test_negotiate_ifsd);
	suite_add_tcase(s, tc);
	tc = tcase_create("recovery");
	tcase_add_test(tc, test_bad_edc_lrc);
	tcase_add_test(tc, test_bad_edc_crc);
	tcase_add_test(tc, test_parity_and_timeout);
	tcase_add_test(tc, test_card_r_retransmit);
	tcase_add_test(tc, test_resync_after_retries);
	tcase_add_test(tc, test_resync_fails);
	tcase_add_test(tc, test_host_chaining_resync_restarts);
	tcase_add_test(tc, test_wtx_bounded);
	tcase_add_test(tc, test_wtx_malformed);
	tcase_add_test(tc, test_card_abort);
	tcase_add_test(tc, test_wrong_ns);
	tcase_add_test(tc, test_unexpected_blocks);
	tcase_add_test(tc, test_oversized_chain);
	tcase_add_test(tc, test_empty_chain_bounded);
	tcase_add_test(tc, test_fatal_transport);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(t1_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
