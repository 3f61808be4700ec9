/*
 * openccid - ISO/IEC 7816-3:2006 section 11, T=1 block transmission.
 *
 * One exchange is a loop of (send one block, receive one block) steps.
 * Every loop is bounded: retransmissions by max_retries (reset by a block
 * that makes progress), RESYNCH by max_resynch per exchange, WTX by
 * max_wtx, card S(IFS) requests and empty chained blocks by constants,
 * and the whole by a step budget derived from them.
 */
#include "config.h"

#include "card/t1.h"

#include <string.h>

#include "base/bytes.h"
#include "base/err.h"

#define T1_MAX_CARD_SREQ 16  /* S(IFS request)s accepted per exchange */
#define T1_MAX_EMPTY     8   /* chained I-blocks with no INF */
#define T1_MAX_DRAIN     300 /* blocks read after the caller's buffer is full */

enum step { STEP_MORE = 1, STEP_DONE = 2 };
enum txk { TX_I, TX_R, TX_SREQ, TX_SRESP };

struct xcv {
	struct t1 *t1;
	const struct t1_xfer *io;
	const uint8_t *apdu;
	size_t apdu_len;
	size_t off;      /* APDU bytes acknowledged by the card */
	size_t chunk;    /* INF length of the I-block in flight */
	bool final_sent; /* the I-block with M = 0 went out */
	bool receiving;  /* the card's answer has started */
	uint8_t *resp;
	size_t cap;
	size_t resp_len;
	bool overflow;
	unsigned mult;
	unsigned errors, resyncs, wtx, sreq, empty, drained;
	enum txk txk; /* what tx holds */
	size_t iblk_len, tx_len;
	uint8_t iblk[T1_MAX_BLOCK];
	uint8_t tx[T1_MAX_BLOCK];
	uint8_t rx[T1_MAX_BLOCK];
};

/* Section 11.4.4.1: LRC is the XOR of prologue and INF. */
static uint8_t
lrc(const uint8_t *buf, size_t len)
{
	uint8_t v = 0;
	size_t i;

	for (i = 0; i < len; i++)
		v ^= buf[i];
	return v;
}

/*
 * Section 11.4.4.2: CRC of ISO/IEC 13239, polynomial x^16 + x^12 + x^5 + 1
 * processed LSB first, preset to FFFF, no final inversion, sent high byte
 * first (the form the deployed readers and cards interoperate with).
 */
static uint16_t
crc16(const uint8_t *buf, size_t len)
{
	uint16_t v = 0xFFFF;
	size_t i;
	int b;

	for (i = 0; i < len; i++) {
		v ^= buf[i];
		for (b = 0; b < 8; b++)
			v = (v & 1u) != 0 ? (uint16_t)((v >> 1) ^ 0x8408u)
			                  : (uint16_t)(v >> 1);
	}
	return v;
}

size_t
t1_edc(const uint8_t *buf, size_t len, bool crc, uint8_t sum[2])
{
	uint16_t v;

	if (!crc) {
		sum[0] = lrc(buf, len);
		return 1;
	}
	v = crc16(buf, len);
	sum[0] = (uint8_t)(v >> 8);
	sum[1] = (uint8_t)v;
	return 2;
}

int
t1_block_build(uint8_t nad, uint8_t pcb, const uint8_t *inf, size_t inf_len,
    bool crc, uint8_t *out, size_t cap, size_t *out_len)
{
	struct oc_wbuf w;
	uint8_t check[2];
	size_t n;
	int rc;

	if (inf_len > T1_MAX_INF || (inf_len > 0 && inf == NULL))
		return OC_EINVAL;
	wbuf_init(&w, out, cap);
	if ((rc = wbuf_put_u8(&w, nad)) != OC_OK ||
	    (rc = wbuf_put_u8(&w, pcb)) != OC_OK ||
	    (rc = wbuf_put_u8(&w, (uint8_t)inf_len)) != OC_OK ||
	    (rc = wbuf_put_bytes(&w, inf, inf_len)) != OC_OK)
		return rc;
	n = t1_edc(out, w.len, crc, check);
	if ((rc = wbuf_put_bytes(&w, check, n)) != OC_OK)
		return rc;
	*out_len = w.len;
	return OC_OK;
}

/* Section 11.3.2.2: PCB coding of the three block kinds. */
static int
parse_pcb(uint8_t pcb, struct t1_block *b)
{
	memset(b, 0, sizeof(*b));
	b->pcb = pcb;
	if ((pcb & 0x80u) == 0) {
		b->kind = T1_BLOCK_I;
		b->seq = (pcb & T1_PCB_I_NS) != 0;
		b->more = (pcb & T1_PCB_I_MORE) != 0;
		return OC_OK;
	}
	if ((pcb & 0xC0u) == T1_PCB_R) {
		b->kind = T1_BLOCK_R;
		b->seq = (pcb & T1_PCB_R_NR) != 0;
		b->code = pcb & 0x0Fu;
		/* b6 is 0 and only three error codes exist */
		if ((pcb & 0x20u) != 0 || b->code > T1_R_OTHER)
			return OC_EPROTO;
		return OC_OK;
	}
	b->kind = T1_BLOCK_S;
	b->response = (pcb & T1_PCB_S_RESP) != 0;
	b->code = pcb & 0x1Fu;
	return b->code <= T1_S_WTX ? OC_OK : OC_EPROTO;
}

int
t1_block_parse(const uint8_t *buf, size_t len, bool crc, struct t1_block *blk)
{
	struct t1_block b;
	struct oc_cur c;
	uint8_t nad, pcb, n, edc[2];
	const uint8_t *inf, *got;
	size_t edc_len = crc ? 2 : 1;
	int rc;

	cur_init(&c, buf, len);
	if ((rc = cur_get_u8(&c, &nad)) != OC_OK ||
	    (rc = cur_get_u8(&c, &pcb)) != OC_OK ||
	    (rc = cur_get_u8(&c, &n)) != OC_OK)
		return rc;
	/* Section 11.3.2.3: LEN 255 is reserved. */
	if (n == 0xFF)
		return OC_EPROTO;
	if ((rc = cur_get_view(&c, &inf, n)) != OC_OK ||
	    (rc = cur_get_view(&c, &got, edc_len)) != OC_OK)
		return rc;
	if (cur_remaining(&c) != 0)
		return OC_EPROTO;
	(void)t1_edc(buf, T1_PROLOGUE_LEN + (size_t)n, crc, edc);
	if (memcmp(edc, got, edc_len) != 0)
		return OC_ECARD;
	if ((rc = parse_pcb(pcb, &b)) != OC_OK)
		return rc;
	/* Section 11.3.2.3: R-blocks carry no INF; IFS and WTX one byte. */
	if (b.kind == T1_BLOCK_R && n != 0)
		return OC_EPROTO;
	b.nad = nad;
	b.inf = inf;
	b.inf_len = n;
	*blk = b;
	return OC_OK;
}

void
t1_reset(struct t1 *t1)
{
	t1->ns = 0;
	t1->nr = 0;
	t1->ifsc = t1->atr_ifsc;
	t1->ifsd = T1_DEFAULT_IFS;
	t1->need_resync = false;
}

void
t1_init(struct t1 *t1, const struct atr_info *atr)
{
	memset(t1, 0, sizeof(*t1));
	t1->atr_ifsc = T1_DEFAULT_IFS;
	/* Section 11.4.2: IFSC 0 and 255 are reserved; keep the default. */
	if (atr != NULL && atr->ifsc >= 1 && atr->ifsc <= T1_MAX_INF)
		t1->atr_ifsc = atr->ifsc;
	t1->crc = atr != NULL && atr->edc_crc;
	t1->max_retries = T1_DEFAULT_RETRIES;
	t1->max_resynch = T1_DEFAULT_RESYNCH;
	t1->max_wtx = T1_DEFAULT_MAX_WTX;
	t1_reset(t1);
}

void
t1_set_limits(
    struct t1 *t1, unsigned retries, unsigned resynch, unsigned max_wtx)
{
	t1->max_retries = retries;
	t1->max_resynch = resynch > 0 ? resynch : 1;
	t1->max_wtx = max_wtx;
}

int
t1_set_inf_cap(struct t1 *t1, size_t msg_room)
{
	size_t edc = t1->crc ? 2 : 1;

	if (msg_room < T1_PROLOGUE_LEN + edc + 1)
		return OC_ERANGE;
	t1->inf_cap = msg_room - T1_PROLOGUE_LEN - edc;
	if (t1->inf_cap > T1_MAX_INF)
		t1->inf_cap = 0;
	return OC_OK;
}

int
t1_set_ifsd(struct t1 *t1, size_t ifsd)
{
	if (ifsd < 1 || ifsd > T1_MAX_INF)
		return OC_EINVAL;
	t1->ifsd = ifsd;
	return OC_OK;
}

/* Card NAD must mirror ours: its SAD is our DAD and the reverse. */
static bool
nad_ok(const struct t1 *t1, uint8_t nad)
{
	uint8_t want = (uint8_t)(((unsigned)t1->nad << 4 | (unsigned)t1->nad >> 4) & 0x77u);

	return (nad & 0x77u) == want;
}

static int
build_tx(
    struct xcv *x, uint8_t pcb, const uint8_t *inf, size_t n, enum txk kind)
{
	x->txk = kind;
	return t1_block_build(x->t1->nad, pcb, inf, n, x->t1->crc, x->tx,
	    sizeof(x->tx), &x->tx_len);
}

static int
build_r(struct xcv *x, unsigned code)
{
	uint8_t pcb = (uint8_t)(T1_PCB_R | code);

	if (x->t1->nr != 0)
		pcb |= T1_PCB_R_NR;
	return build_tx(x, pcb, NULL, 0, TX_R);
}

static void
resend_i(struct xcv *x)
{
	memcpy(x->tx, x->iblk, x->iblk_len);
	x->tx_len = x->iblk_len;
	x->txk = TX_I;
}

/* Section 11.6.2.2: next chunk of at most IFSC bytes, M set if more. */
static int
build_i(struct xcv *x)
{
	size_t left = x->apdu_len - x->off;
	size_t room = x->t1->ifsc;
	uint8_t pcb = x->t1->ns != 0 ? T1_PCB_I_NS : 0;
	int rc;

	if (x->t1->inf_cap != 0 && x->t1->inf_cap < room)
		room = x->t1->inf_cap;
	x->chunk = left;
	if (left > room) {
		x->chunk = room;
		pcb |= T1_PCB_I_MORE;
	}
	rc = t1_block_build(x->t1->nad, pcb, x->apdu + x->off, x->chunk,
	    x->t1->crc, x->iblk, sizeof(x->iblk), &x->iblk_len);
	if (rc != OC_OK)
		return rc;
	resend_i(x);
	return OC_OK;
}

/*
 * Send tx, receive one block. *bad is 0 for a valid block, else the
 * R-block error code that describes what went wrong (section 11.6.3.2).
 */
static int
exchange(struct xcv *x, struct t1_block *b, unsigned *bad)
{
	size_t got = 0;
	unsigned mult = x->mult;
	int rc;

	x->mult = 1;
	memset(b, 0, sizeof(*b));
	if (x->txk == TX_I && (x->iblk[1] & T1_PCB_I_MORE) == 0)
		x->final_sent = true;
	*bad = T1_R_OK;
	rc = x->io->xfer(
	    x->io->ctx, x->tx, x->tx_len, x->rx, sizeof(x->rx), &got, mult);
	if (rc == OC_ETIMEDOUT) {
		*bad = T1_R_OTHER;
		return OC_OK;
	}
	if (rc == OC_ECARD) {
		*bad = T1_R_EDC;
		return OC_OK;
	}
	if (rc != OC_OK)
		return rc;
	if (got > sizeof(x->rx))
		return OC_EPROTO;
	rc = t1_block_parse(x->rx, got, x->t1->crc, b);
	if (rc == OC_ECARD)
		*bad = T1_R_EDC;
	else if (rc != OC_OK || !nad_ok(x->t1, b->nad))
		*bad = T1_R_OTHER;
	return OC_OK;
}

/*
 * Section 11.6.3.2 rule 6.4: S(RESYNCH request) until answered, at most
 * max_resynch times per exchange; both sides restart with N(S) = 0.
 * The APDU is sent again only if its last block never went out: a
 * command the card may have executed is not repeated behind the caller.
 */
static int
resync(struct xcv *x)
{
	struct t1_block b;
	unsigned bad;

	while (x->resyncs < x->t1->max_resynch) {
		int rc;

		x->resyncs++;
		rc = build_tx(x, T1_PCB_S | T1_S_RESYNCH, NULL, 0, TX_SREQ);
		if (rc == OC_OK)
			rc = exchange(x, &b, &bad);
		if (rc != OC_OK)
			return rc;
		if (bad != T1_R_OK || b.kind != T1_BLOCK_S || !b.response ||
		    b.code != T1_S_RESYNCH)
			continue;
		x->t1->ns = 0;
		x->t1->nr = 0;
		x->t1->need_resync = false;
		x->errors = 0;
		if (x->final_sent || x->receiving)
			return OC_EPROTO;
		x->off = 0;
		rc = build_i(x);
		return rc == OC_OK ? STEP_MORE : rc;
	}
	x->t1->need_resync = true;
	return OC_ECARD;
}

/* Section 11.6.3.2 rules 7.1-7.3: invalid block or BWT exceeded. */
static int
on_invalid(struct xcv *x, unsigned code)
{
	int rc;

	if (++x->errors > x->t1->max_retries)
		return resync(x);
	/* An S(request) of ours unanswered is sent again; else an R-block
	 * asks for the block the card owes us. */
	if (x->txk == TX_SREQ)
		return STEP_MORE;
	rc = build_r(x, code);
	return rc == OC_OK ? STEP_MORE : rc;
}

static void
append(struct xcv *x, const struct t1_block *b)
{
	if (x->overflow || b->inf_len > x->cap - x->resp_len) {
		x->overflow = true;
		return;
	}
	if (b->inf_len > 0)
		memcpy(x->resp + x->resp_len, b->inf, b->inf_len);
	x->resp_len += b->inf_len;
}

/* Card I-block: the answer, or the next link of its chain (11.6.2.2). */
static int
on_i(struct xcv *x, const struct t1_block *b)
{
	int rc;

	if (!x->final_sent || b->seq != x->t1->nr)
		return on_invalid(x, T1_R_OTHER);
	if (!x->receiving) {
		/* rule 2.2: the card's I-block acknowledges ours */
		x->receiving = true;
		x->off = x->apdu_len;
		x->t1->ns ^= 1u;
	}
	x->t1->nr ^= 1u;
	x->errors = 0;
	append(x, b);
	if (!b->more)
		return x->overflow ? OC_ENOSPC : STEP_DONE;
	if (b->inf_len == 0 && ++x->empty > T1_MAX_EMPTY) {
		x->t1->need_resync = true;
		return OC_EPROTO;
	}
	if (x->overflow && ++x->drained > T1_MAX_DRAIN) {
		x->t1->need_resync = true;
		return OC_ENOSPC;
	}
	/* rule 5: R-block with N(R) = N(S) of the next block wanted */
	rc = build_r(x, T1_R_OK);
	return rc == OC_OK ? STEP_MORE : rc;
}

/* Card R-block: acknowledgement of our chain or retransmission request. */
static int
on_r(struct xcv *x, const struct t1_block *b)
{
	if (!x->receiving && b->seq != x->t1->ns) {
		int rc;

		/* rule 5: only a block with M = 1 is acknowledged by R */
		if (x->final_sent)
			return on_invalid(x, T1_R_OTHER);
		x->off += x->chunk;
		x->t1->ns ^= 1u;
		x->errors = 0;
		rc = build_i(x);
		return rc == OC_OK ? STEP_MORE : rc;
	}
	/* rules 7.2/7.3: the card missed our last block: send it again */
	if (++x->errors > x->t1->max_retries)
		return resync(x);
	if (!x->receiving)
		resend_i(x);
	return STEP_MORE;
}

/* Section 11.6.2.3: S(IFS) and S(WTX) requests carry one byte. */
static int
on_s_request(struct xcv *x, const struct t1_block *b)
{
	uint8_t v = b->inf_len == 1 ? b->inf[0] : 0;
	int rc;

	switch (b->code) {
	case T1_S_WTX:
		if (v == 0)
			return on_invalid(x, T1_R_OTHER);
		if (++x->wtx > x->t1->max_wtx) {
			x->t1->need_resync = true;
			return OC_ETIMEDOUT;
		}
		x->mult = v;
		break;
	case T1_S_IFS:
		if (v == 0 || v > T1_MAX_INF)
			return on_invalid(x, T1_R_OTHER);
		if (++x->sreq > T1_MAX_CARD_SREQ) {
			x->t1->need_resync = true;
			return OC_EPROTO;
		}
		x->t1->ifsc = v;
		break;
	default:
		/* only the interface device sends S(RESYNCH request) */
		return on_invalid(x, T1_R_OTHER);
	}
	rc = build_tx(
	    x, (uint8_t)(b->pcb | T1_PCB_S_RESP), b->inf, b->inf_len, TX_SRESP);
	return rc == OC_OK ? STEP_MORE : rc;
}

/* Section 11.6.2.3: chain abortion asked by the card. */
static int
on_abort(struct xcv *x)
{
	struct t1_block b;
	unsigned bad;
	int rc;

	rc = build_tx(
	    x, T1_PCB_S | T1_PCB_S_RESP | T1_S_ABORT, NULL, 0, TX_SRESP);
	if (rc == OC_OK)
		rc = exchange(x, &b, &bad);
	/* Whatever followed, start the next exchange from a clean state. */
	x->t1->need_resync = true;
	return rc != OC_OK ? rc : OC_ECANCELED;
}

static int
step(struct xcv *x)
{
	struct t1_block b;
	unsigned bad;
	int rc;

	if ((rc = exchange(x, &b, &bad)) != OC_OK)
		return rc;
	if (bad != T1_R_OK)
		return on_invalid(x, bad);
	switch (b.kind) {
	case T1_BLOCK_I:
		return on_i(x, &b);
	case T1_BLOCK_R:
		return on_r(x, &b);
	case T1_BLOCK_S:
	default:
		break;
	}
	if (b.response)
		return on_invalid(x, T1_R_OTHER);
	if (b.code == T1_S_ABORT)
		return on_abort(x);
	return on_s_request(x, &b);
}

/* Upper bound on steps, so that no card behaviour can loop forever. */
static size_t
step_budget(const struct xcv *x)
{
	const struct t1 *t1 = x->t1;
	size_t progress =
	    x->apdu_len + x->cap + T1_MAX_DRAIN + T1_MAX_EMPTY + 2;

	return progress * ((size_t)t1->max_retries + 2) *
	           ((size_t)t1->max_resynch + 1) +
	       t1->max_wtx + T1_MAX_CARD_SREQ;
}

static int
run(struct xcv *x)
{
	size_t i, budget = step_budget(x);
	int rc = STEP_MORE;

	if (x->t1->need_resync)
		rc = resync(x);
	for (i = 0; rc == STEP_MORE && i < budget; i++)
		rc = step(x);
	if (rc == STEP_MORE) {
		x->t1->need_resync = true;
		return OC_EPROTO;
	}
	return rc == STEP_DONE ? OC_OK : rc;
}

int
t1_transceive(struct t1 *t1, const struct t1_xfer *io, const uint8_t *apdu,
    size_t len, uint8_t *resp, size_t cap, size_t *resp_len)
{
	struct xcv x;
	int rc;

	if (t1 == NULL || io == NULL || io->xfer == NULL || apdu == NULL ||
	    len == 0 || resp == NULL || resp_len == NULL)
		return OC_EINVAL;
	if (t1->ifsc < 1 || t1->ifsc > T1_MAX_INF)
		t1->ifsc = T1_DEFAULT_IFS;
	memset(&x, 0, offsetof(struct xcv, iblk));
	x.t1 = t1;
	x.io = io;
	x.apdu = apdu;
	x.apdu_len = len;
	x.resp = resp;
	x.cap = cap;
	x.mult = 1;
	if ((rc = build_i(&x)) == OC_OK)
		rc = run(&x);
	if (rc == OC_OK)
		*resp_len = x.resp_len;
	/* The blocks may hold a PIN or a key: no copy stays on the stack. */
	explicit_bzero(x.iblk, sizeof(x.iblk));
	explicit_bzero(x.tx, sizeof(x.tx));
	explicit_bzero(x.rx, sizeof(x.rx));
	return rc;
}

/* Section 11.4.2: S(IFS request) answered by the same S(IFS response). */
int
t1_negotiate_ifsd(struct t1 *t1, const struct t1_xfer *io, uint8_t ifsd)
{
	struct xcv x;
	struct t1_block b;
	unsigned bad, i;

	if (t1 == NULL || io == NULL || io->xfer == NULL || ifsd < 1 ||
	    ifsd > T1_MAX_INF)
		return OC_EINVAL;
	memset(&x, 0, offsetof(struct xcv, iblk));
	x.t1 = t1;
	x.io = io;
	x.mult = 1;
	x.final_sent = true; /* nothing to resend after a resynch */
	for (i = 0; i <= t1->max_retries; i++) {
		int rc = build_tx(&x, T1_PCB_S | T1_S_IFS, &ifsd, 1, TX_SREQ);
		if (rc == OC_OK)
			rc = exchange(&x, &b, &bad);
		if (rc != OC_OK)
			return rc;
		if (bad == T1_R_OK && b.kind == T1_BLOCK_S && b.response &&
		    b.code == T1_S_IFS && b.inf_len == 1 && b.inf[0] == ifsd) {
			t1->ifsd = ifsd;
			return OC_OK;
		}
	}
	t1->need_resync = true;
	return OC_EPROTO;
}
