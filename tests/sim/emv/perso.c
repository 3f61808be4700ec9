/*
 * openccid - the EMV card model's personalisation: synthetic values only.
 *
 * PANs: 6759 6498 2643 8453 (a published test number of the debit scheme)
 * and 9999 9912 3456 7893 (major industry identifier 9, national use;
 * both Luhn-valid); cardholder TEST/CARDHOLDER; expiry 2029-12-31; issuer
 * country Italy (0380), currency euro (0978). Tags and templates: EMV 4.3
 * Book 1 section 12 (directories), Book 3 sections 5 and 10 and Annex A
 * (data elements), Annex C3 (CVM list).
 */
#include "perso.h"

#include <string.h>

/* ---- a small TLV builder (BER-TLV, EMV Book 3 Annex B) ----------------- */

struct tb {
	uint8_t *b;
	size_t cap, n;
	bool bad;
};

static void tb_init(struct tb *t, uint8_t *b, size_t cap)
{
	t->b = b;
	t->cap = cap;
	t->n = 0;
	t->bad = false;
}

static void tb_raw(struct tb *t, const uint8_t *v, size_t n)
{
	if (t->bad || n > t->cap - t->n) {
		t->bad = true;
		return;
	}
	memcpy(t->b + t->n, v, n);
	t->n += n;
}

static void tb_byte(struct tb *t, uint8_t v)
{
	tb_raw(t, &v, 1);
}

/* Hex digits (spaces ignored) as bytes. */
static void tb_hex_raw(struct tb *t, const char *hex)
{
	int hi = -1;

	for (; *hex; hex++) {
		int v;

		if (*hex >= '0' && *hex <= '9')
			v = *hex - '0';
		else if (*hex >= 'A' && *hex <= 'F')
			v = *hex - 'A' + 10;
		else if (*hex == ' ')
			continue;
		else {
			t->bad = true;
			return;
		}
		if (hi < 0) {
			hi = v;
		} else {
			tb_byte(t, (uint8_t)(hi << 4 | v));
			hi = -1;
		}
	}
	if (hi >= 0)
		t->bad = true;
}

static void tb_tag_len(struct tb *t, uint16_t tag, size_t n)
{
	if (tag > 0xff)
		tb_byte(t, (uint8_t)(tag >> 8));
	tb_byte(t, (uint8_t)tag);
	if (n >= 0x80) {
		if (n > 0xff) {
			t->bad = true;
			return;
		}
		tb_byte(t, 0x81);
	}
	tb_byte(t, (uint8_t)n);
}

static void tb_tlv(struct tb *t, uint16_t tag, const uint8_t *v, size_t n)
{
	tb_tag_len(t, tag, n);
	tb_raw(t, v, n);
}

static void tb_hex(struct tb *t, uint16_t tag, const char *hex)
{
	uint8_t v[128];
	struct tb in;

	tb_init(&in, v, sizeof(v));
	tb_hex_raw(&in, hex);
	t->bad |= in.bad;
	tb_tlv(t, tag, v, in.n);
}

static void tb_str(struct tb *t, uint16_t tag, const char *s)
{
	tb_tlv(t, tag, (const uint8_t *)s, strlen(s));
}

/* The template `tag` around what `in` holds. */
static void tb_wrap(struct tb *t, uint16_t tag, const struct tb *in)
{
	t->bad |= in->bad;
	tb_tlv(t, tag, in->b, in->n);
}

/* ---- the card's values --------------------------------------------------- */

#define AID_DEBIT "A0000000043060"
#define AID_DOMESTIC "A0000001410001"
#define LABEL_DEBIT "TEST DEBIT"
#define LABEL_DOMESTIC "TEST DOMESTIC"
/* Track 2 equivalent data (tag 57): PAN, separator D, expiry YYMM, service
 * code 201, discretionary data. */
#define PAN_DEBIT "6759649826438453"
#define PAN_DOMESTIC "9999991234567893"
#define TRACK2_TAIL "D29122010000000000"
#define HOLDER "TEST/CARDHOLDER"
/* CVM lists (tag 8E, Book 3 Annex C3): amount X, amount Y (4 bytes each),
 * then rules of two bytes: method (bit 7: apply the next rule if this one
 * fails) and condition.
 * Debit: enciphered PIN by ICC, plaintext PIN by ICC, enciphered PIN
 * online, signature, each "if the terminal supports it" and moving on when
 * it fails; then no CVM required. */
#define CVM_DEBIT "00000000 00000000 4403 4103 4203 5E03 1F03"
/* Domestic: X = 100.00; no CVM under X; online PIN for unattended cash
 * (next rule on failure); plaintext PIN by ICC always (next on failure);
 * signature if the terminal supports it. */
#define CVM_DOMESTIC "00002710 00000000 1F06 4201 4100 1E03"
#define CDOL1 "9F02069F03069F1A0295055F2A029A039C019F3704"
#define CDOL2 "8A029F02069F03069F1A0295055F2A029A039C019F3704"
/* Log format (9F4F): date, time, amount, currency, type, ATC: 17 bytes a
 * record; the log file is SFI 11 with room for 5 records, 3 written. */
#define LOG_FORMAT "9A039F21039F02065F2A029C019F3602"
static const char *const log_records[] = {
	"261130 123456 000000001250 0978 00 0027",
	"261201 081500 000000000399 0978 00 0028",
	"261203 190102 000000004000 0978 01 0029",
};

static int blob_done(struct emv_blob *b, const struct tb *t)
{
	b->n = t->n;
	return t->bad ? -1 : 0;
}

static int add_record(struct emv_dir *d, uint8_t sfi, uint8_t no,
		      const struct tb *body, bool template70)
{
	struct emv_record *r;
	struct tb t;

	if (d->n_recs >= EMV_RECS)
		return -1;
	r = &d->recs[d->n_recs++];
	r->sfi = sfi;
	r->no = no;
	tb_init(&t, r->v.b, sizeof(r->v.b));
	if (template70)
		tb_wrap(&t, 0x70, body);
	else
		tb_raw(&t, body->b, body->n);
	t.bad |= body->bad;
	return blob_done(&r->v, &t);
}

static int add_do(struct emv_dir *d, uint16_t tag, const char *hex)
{
	struct emv_do *o;
	struct tb t;

	if (d->n_dos >= EMV_DOS)
		return -1;
	o = &d->dos[d->n_dos++];
	o->tag = tag;
	tb_init(&t, o->v.b, sizeof(o->v.b));
	tb_hex_raw(&t, hex);
	return blob_done(&o->v, &t);
}

static void set_name(struct emv_dir *d, const char *hex_or_text, bool text)
{
	struct tb t;

	tb_init(&t, d->name, sizeof(d->name));
	if (text)
		tb_raw(&t, (const uint8_t *)hex_or_text, strlen(hex_or_text));
	else
		tb_hex_raw(&t, hex_or_text);
	d->name_len = t.n;
}

/* A directory entry (template 61): ADF name, label, priority. */
static void dir_entry(struct tb *t, const char *aid, const char *label, uint8_t prio)
{
	uint8_t v[64];
	struct tb e;

	tb_init(&e, v, sizeof(v));
	tb_hex(&e, 0x4f, aid);
	tb_str(&e, 0x50, label);
	tb_tlv(&e, 0x87, &prio, 1);
	tb_wrap(t, 0x61, &e);
}

/* FCI (template 6F): DF name, then the proprietary template A5. */
static int set_fci(struct emv_dir *d, const struct tb *a5)
{
	uint8_t v[EMV_FCI_MAX];
	struct tb in, t;

	tb_init(&in, v, sizeof(v));
	tb_tlv(&in, 0x84, d->name, d->name_len);
	tb_wrap(&in, 0xa5, a5);
	tb_init(&t, d->fci.b, sizeof(d->fci.b));
	tb_wrap(&t, 0x6f, &in);
	return blob_done(&d->fci, &t);
}

/* ---- directories -------------------------------------------------------- */

static int build_pse(struct emv_dir *d)
{
	uint8_t v[EMV_FCI_MAX], r[EMV_FCI_MAX];
	struct tb a5, rec;
	int rc = 0;

	set_name(d, "1PAY.SYS.DDF01", true);
	d->contact = true; /* the PSE is the contact interface's directory */
	tb_init(&a5, v, sizeof(v));
	tb_hex(&a5, 0x88, "01");	  /* SFI of the directory file */
	tb_str(&a5, 0x5f2d, "iten"); /* language preference */
	rc |= set_fci(d, &a5);
	tb_init(&rec, r, sizeof(r));
	dir_entry(&rec, AID_DEBIT, LABEL_DEBIT, 1);
	rc |= add_record(d, 1, 1, &rec, true);
	tb_init(&rec, r, sizeof(r));
	dir_entry(&rec, AID_DOMESTIC, LABEL_DOMESTIC, 2);
	rc |= add_record(d, 1, 2, &rec, true);
	return rc;
}

static int build_ppse(struct emv_dir *d)
{
	uint8_t v[EMV_FCI_MAX], e[EMV_FCI_MAX];
	struct tb a5, bf0c;

	set_name(d, "2PAY.SYS.DDF01", true);
	d->contactless = true; /* EMV Book B: the PPSE, contactless only */
	tb_init(&bf0c, e, sizeof(e));
	dir_entry(&bf0c, AID_DEBIT, LABEL_DEBIT, 1);
	dir_entry(&bf0c, AID_DOMESTIC, LABEL_DOMESTIC, 2);
	tb_init(&a5, v, sizeof(v));
	tb_wrap(&a5, 0xbf0c, &bf0c);
	return set_fci(d, &a5);
}

/* ---- the applications ------------------------------------------------------ */

static int build_debit(struct emv_dir *d)
{
	uint8_t v[EMV_FCI_MAX], w[EMV_FCI_MAX];
	struct tb a5, x, t;
	int rc = 0;

	set_name(d, AID_DEBIT, false);
	d->contact = d->contactless = true;
	tb_init(&x, w, sizeof(w));
	tb_hex(&x, 0x9f4d, "0B05"); /* log entry: SFI 11, 5 records */
	tb_init(&a5, v, sizeof(v));
	tb_str(&a5, 0x50, LABEL_DEBIT);
	tb_hex(&a5, 0x87, "01");
	/* PDOL: amount, currency, date, unpredictable number (15 bytes) */
	tb_hex(&a5, 0x9f38, "9F02065F2A029A039F3704");
	d->pdol_len = 6 + 2 + 3 + 4;
	tb_str(&a5, 0x5f2d, "iten");
	tb_hex(&a5, 0x9f11, "01");
	tb_str(&a5, 0x9f12, "TEST DEBIT CARD");
	tb_wrap(&a5, 0xbf0c, &x);
	rc |= set_fci(d, &a5);

	/* GPO answer, format 2 (Book 3 section 6.5.8.4): AIP (cardholder
	 * verification and terminal risk management supported), AFL: SFI 1
	 * records 1-2, SFI 2 record 1 */
	tb_init(&x, w, sizeof(w));
	tb_hex(&x, 0x82, "1800");
	tb_hex(&x, 0x94, "08010200 10010100");
	tb_init(&t, d->gpo.b, sizeof(d->gpo.b));
	tb_wrap(&t, 0x77, &x);
	rc |= blob_done(&d->gpo, &t);

	tb_init(&x, w, sizeof(w));
	tb_hex(&x, 0x57, PAN_DEBIT TRACK2_TAIL);
	tb_str(&x, 0x5f20, HOLDER);
	tb_hex(&x, 0x9f1f, "30303030");
	rc |= add_record(d, 1, 1, &x, true);
	tb_init(&x, w, sizeof(w));
	tb_hex(&x, 0x5a, PAN_DEBIT);
	tb_hex(&x, 0x5f24, "291231");
	tb_hex(&x, 0x5f25, "240101");
	tb_hex(&x, 0x5f28, "0380");
	tb_hex(&x, 0x5f34, "01");
	tb_hex(&x, 0x9f07, "FF00");
	tb_hex(&x, 0x9f0d, "F040008800");
	tb_hex(&x, 0x9f0e, "0010000000");
	tb_hex(&x, 0x9f0f, "F040049800");
	tb_hex(&x, 0x8e, CVM_DEBIT);
	tb_hex(&x, 0x9f42, "0978");
	tb_hex(&x, 0x9f44, "02");
	rc |= add_record(d, 1, 2, &x, true);
	tb_init(&x, w, sizeof(w));
	tb_hex(&x, 0x8c, CDOL1);
	tb_hex(&x, 0x8d, CDOL2);
	tb_hex(&x, 0x9f08, "0002");
	tb_hex(&x, 0x5f30, "0201");
	tb_hex(&x, 0x9f4a, "82");
	rc |= add_record(d, 2, 1, &x, true);
	/* transaction log records: bare data in the 9F4F layout */
	for (unsigned i = 0; i < sizeof(log_records) / sizeof(log_records[0]); i++) {
		tb_init(&x, w, sizeof(w));
		tb_hex_raw(&x, log_records[i]);
		rc |= add_record(d, 11, (uint8_t)(i + 1), &x, false);
	}
	d->atc = 0x002a;
	rc |= add_do(d, 0x9f13, "0027"); /* last online ATC register */
	rc |= add_do(d, 0x9f4d, "0B05");
	rc |= add_do(d, 0x9f4f, LOG_FORMAT);
	return rc;
}

static int build_domestic(struct emv_dir *d)
{
	uint8_t v[EMV_FCI_MAX], w[EMV_FCI_MAX];
	struct tb a5, x, t;
	int rc = 0;

	set_name(d, AID_DOMESTIC, false);
	d->contact = d->contactless = true;
	tb_init(&a5, v, sizeof(v));
	tb_str(&a5, 0x50, LABEL_DOMESTIC);
	tb_hex(&a5, 0x87, "02");
	tb_str(&a5, 0x5f2d, "it");
	tb_hex(&a5, 0x9f11, "01");
	rc |= set_fci(d, &a5); /* no PDOL: GPO carries 83 00 */
	d->pdol_len = 0;

	/* GPO answer, format 1: AIP then AFL (SFI 3 records 1-2) */
	tb_init(&t, d->gpo.b, sizeof(d->gpo.b));
	tb_hex(&t, 0x80, "1800 18010200");
	rc |= blob_done(&d->gpo, &t);

	tb_init(&x, w, sizeof(w));
	tb_hex(&x, 0x57, PAN_DOMESTIC TRACK2_TAIL);
	tb_str(&x, 0x5f20, HOLDER);
	tb_hex(&x, 0x5a, PAN_DOMESTIC);
	tb_hex(&x, 0x5f24, "291231");
	tb_hex(&x, 0x5f25, "240101");
	tb_hex(&x, 0x5f28, "0380");
	tb_hex(&x, 0x5f34, "00");
	rc |= add_record(d, 3, 1, &x, true);
	tb_init(&x, w, sizeof(w));
	tb_hex(&x, 0x8e, CVM_DOMESTIC);
	tb_hex(&x, 0x9f0d, "F040008800");
	tb_hex(&x, 0x9f0e, "0010000000");
	tb_hex(&x, 0x9f0f, "F040049800");
	tb_hex(&x, 0x8c, CDOL1);
	tb_hex(&x, 0x8d, CDOL2);
	tb_hex(&x, 0x9f08, "0001");
	tb_hex(&x, 0x9f42, "0978");
	rc |= add_record(d, 3, 2, &x, true);
	d->atc = 0x0011;
	rc |= add_do(d, 0x9f13, "0010");
	return rc;
}

int emv_perso_build(struct emv_perso *p)
{
	/* ATR (T=0, EMV Book 1 section 8.3): TS, T0 (TB1 TC1, 8 historical
	 * bytes), TB1 00 (no VPP), TC1 00 (no extra guard time) */
	static const uint8_t atr[] = { 0x3b, 0x68, 0x00, 0x00, 'O', 'C',
				       'C',  'I',  'D',	 'E',  'M', 'V' };
	/* ATS (ISO 14443-4 section 5.2): TL, T0 (TA1 TB1 TC1, FSCI 8: 256
	 * bytes), TA1 80 (106 kbit/s both ways), TB1 70 (FWI 7, SFGI 0),
	 * TC1 02 (CID supported), historical bytes "EMVCL01" */
	static const uint8_t ats[] = { 0x0c, 0x78, 0x80, 0x70, 0x02, 'E',
				       'M',  'V',  'C',	 'L',  '0',  '1' };
	/* a random UID (ISO 14443-3 section 6.5.4: UID0 08), fixed here */
	static const uint8_t uid[] = { 0x08, 0x45, 0x4d, 0x56 };
	int rc = 0;

	memset(p, 0, sizeof(*p));
	memcpy(p->atr, atr, sizeof(atr));
	p->atr_len = sizeof(atr);
	memcpy(p->ats, ats, sizeof(ats));
	p->ats_len = sizeof(ats);
	memcpy(p->uid, uid, sizeof(uid));
	memcpy(p->pin, "1234", 5);
	p->pin_tries_max = 3;
	rc |= build_pse(&p->dirs[0]);
	rc |= build_ppse(&p->dirs[1]);
	rc |= build_debit(&p->dirs[2]);
	rc |= build_domestic(&p->dirs[3]);
	p->n_dirs = 4;
	return rc ? -1 : 0;
}
