/*
 * The built-in ISO 7816-4 card. Files: MF 3F00 and, under it, EF 2F01 (a
 * 64-byte transparent file) and an application DF named by the AID
 * F0 4F 50 45 4E 43 43 49 44 ("\xF0OPENCCID").
 *
 * Commands (ISO 7816-4 unless noted; short and extended APDUs):
 *   00 A4 SELECT     P1=00/02 by FID, P1=04 by AID; P2=0C (no data) or 00
 *                    (FCI: 6F .. 84 name / 83 FID, 80 size for an EF)
 *   00 B0 READ BINARY on the selected EF (offset P1P2, Le; 6282 short read)
 *   00 84 GET CHALLENGE Le random bytes (Le=0: 256, extended: up to 65536)
 *   00 C0 GET RESPONSE what a short APDU could not carry (after 61xx)
 *   80 01 ECHO       returns the command data, then 90 00 (0..65535 bytes)
 *   80 02 PATTERN    returns P1P2 bytes 00 01 02 .. (mod 256), then 90 00
 *   00 20 VERIFY     P1=00: PIN 123456 (ASCII, BCD, format 2 or binary digits),
 *                    3 tries (63 Cx, 69 83); no data: the counter; P1=FF: reset
 *   00 24 CHANGE REFERENCE DATA P1=00: old and new PIN blocks, equal halves
 * A response longer than a short APDU's Ne is cut to Ne and continued with
 * 61xx / GET RESPONSE.
 */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

static const uint8_t default_atr_t1[] = {
	/* TS, T0 (TD1, K=10), TD1 (T=1, TD2), TD2 (T=1, TA3 TB3),
	 * TA3 (IFSC 254), TB3 (BWI 4, CWI 5), historical bytes, TCK */
	0x3b, 0x8a, 0x81, 0x31, 0xfe, 0x45, 'O', 'P', 'E', 'N', 'C', 'C', 'I',
	'D', '0', '1', 0x00
};
static const uint8_t default_atr_t0[] = {
	/* TS T0(K=10) hist: T=0 only, no TCK */
	0x3b, 0x0a, 'O', 'P', 'E', 'N', 'C', 'C', 'I', 'D', '0', '0'
};
static const uint8_t aid[] = { 0xf0, 'O', 'P', 'E', 'N', 'C', 'C', 'I', 'D' };

#define EF_SIZE 64

struct builtin {
	uint8_t atr[33];
	size_t atr_len;
	uint16_t cur; /* 0: none, 0x3f00, 0x2f01, 0xa1d0 (the application) */
	uint8_t ef[EF_SIZE];
	uint8_t *pending;
	size_t pending_len;
	/* PIN (VERIFY / CHANGE REFERENCE DATA, ISO 7816-4 sections 11.5.6/7) */
	char pin[17];
	unsigned tries; /* left, of 3 */
	bool verified;
};

static void forget(struct builtin *b)
{
	free(b->pending);
	b->pending = NULL;
	b->pending_len = 0;
	b->cur = 0x3f00;
	b->verified = false;
}

/*
 * The digits of a PIN in whatever block the host or the pinpad built:
 * ASCII ('0'..'9', 0xFF/0x00 padding), ISO 9564 format 2 (2L + BCD, F
 * padding), plain BCD (F padding) or one binary digit per byte.
 */
static bool pin_decode(const uint8_t *d, size_t n, char *out, size_t cap)
{
	size_t k = 0, i;
	bool ascii = n > 0, bin = n > 0;

	for (i = 0; i < n; i++) {
		bool pad = d[i] == 0xff || d[i] == 0x00;

		if (!(d[i] >= '0' && d[i] <= '9') && !(pad && k > 0))
			ascii = false;
		if (d[i] >= '0' && d[i] <= '9')
			k++;
		else if (!pad)
			ascii = false;
		if (d[i] > 9 && d[i] != 0xff)
			bin = false;
	}
	k = 0;
	if (ascii) {
		for (i = 0; i < n && d[i] >= '0' && d[i] <= '9' && k + 1 < cap; i++)
			out[k++] = (char)d[i];
	} else if (n >= 2 && (d[0] >> 4) == 2 && (d[0] & 15) >= 1) {
		size_t len = d[0] & 15;

		for (i = 0; i < len && 1 + i / 2 < n && k + 1 < cap; i++) {
			unsigned nib = (d[1 + i / 2] >> (i % 2 ? 0 : 4)) & 15;

			if (nib > 9)
				return false;
			out[k++] = (char)('0' + nib);
		}
	} else if (bin) {
		for (i = 0; i < n && d[i] <= 9 && k + 1 < cap; i++)
			out[k++] = (char)('0' + d[i]);
	} else {
		for (i = 0; i < 2 * n && k + 1 < cap; i++) {
			unsigned nib = (d[i / 2] >> (i % 2 ? 0 : 4)) & 15;

			if (nib == 15)
				break;
			if (nib > 9)
				return false;
			out[k++] = (char)('0' + nib);
		}
	}
	out[k] = 0;
	return k > 0;
}

static int b_power_on(struct card *c, uint8_t *atr, size_t *atr_len)
{
	struct builtin *b = c->priv;

	forget(b);
	memcpy(atr, b->atr, b->atr_len);
	*atr_len = b->atr_len;
	return 0;
}

static void b_power_off(struct card *c)
{
	forget(c->priv);
}

static void b_reset_state(struct card *c)
{
	forget(c->priv);
}

struct apdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data;
	size_t nc;
	size_t ne; /* 0: no data expected */
	bool ext;
};

/* ISO 7816-4 section 5.1: the seven cases, short and extended. */
static int apdu_parse(const uint8_t *b, size_t n, struct apdu *a)
{
	memset(a, 0, sizeof(*a));
	if (n < 4)
		return -1;
	a->cla = b[0];
	a->ins = b[1];
	a->p1 = b[2];
	a->p2 = b[3];
	if (n == 4)
		return 0; /* case 1 */
	if (n == 5) { /* case 2S */
		a->ne = b[4] ? b[4] : 256;
		return 0;
	}
	if (b[4] != 0) { /* 3S / 4S */
		a->nc = b[4];
		if (n == 5 + a->nc) {
			a->data = b + 5;
			return 0;
		}
		if (n == 6 + a->nc) {
			a->data = b + 5;
			a->ne = b[n - 1] ? b[n - 1] : 256;
			return 0;
		}
		return -1;
	}
	a->ext = true;
	if (n == 7) { /* 2E */
		a->ne = get_le16((const uint8_t[]){ b[6], b[5] });
		if (!a->ne)
			a->ne = 65536;
		return 0;
	}
	a->nc = (size_t)b[5] << 8 | b[6];
	if (!a->nc)
		return -1;
	a->data = b + 7;
	if (n == 7 + a->nc)
		return 0; /* 3E */
	if (n == 9 + a->nc) { /* 4E */
		a->ne = (size_t)b[n - 2] << 8 | b[n - 1];
		if (!a->ne)
			a->ne = 65536;
		return 0;
	}
	return -1;
}

static size_t sw(uint8_t *r, size_t off, uint16_t w)
{
	r[off] = (uint8_t)(w >> 8);
	r[off + 1] = (uint8_t)w;
	return off + 2;
}

/* Data answer: cut to Ne for short APDUs, the rest waits for GET RESPONSE. */
static size_t answer(struct builtin *b, const struct apdu *a, const uint8_t *d,
		     size_t n, uint8_t *r)
{
	size_t max = a->ext ? 65536 : 256;
	size_t give;

	if (a->ne && a->ne < max)
		max = a->ne;
	give = n < max ? n : max;
	memmove(r, d, give);
	if (give < n && !a->ext) {
		size_t left = n - give;

		free(b->pending);
		b->pending = malloc(left);
		memcpy(b->pending, d + give, left);
		b->pending_len = left;
		return sw(r, give, (uint16_t)(0x6100 | (left >= 256 ? 0 : left)));
	}
	return sw(r, give, 0x9000);
}

static int b_transmit(struct card *c, const uint8_t *in, size_t len,
		      uint8_t *r, size_t *rlen)
{
	struct builtin *b = c->priv;
	struct apdu a;
	size_t n = 0;
	uint8_t fci[64];

	if (apdu_parse(in, len, &a) < 0) {
		*rlen = sw(r, 0, 0x6700);
		return 0;
	}
	if (a.ins != 0xc0 && b->pending) {
		free(b->pending);
		b->pending = NULL;
		b->pending_len = 0;
	}
	if (a.cla == 0x80) {
		switch (a.ins) {
		case 0x01: /* ECHO */
			memmove(r, a.data, a.nc);
			*rlen = sw(r, a.nc, 0x9000);
			return 0;
		case 0x02: { /* PATTERN */
			size_t k = (size_t)a.p1 << 8 | a.p2;

			for (size_t i = 0; i < k; i++)
				r[i] = (uint8_t)i;
			*rlen = sw(r, k, 0x9000);
			return 0;
		}
		default:
			*rlen = sw(r, 0, 0x6d00);
			return 0;
		}
	}
	if ((a.cla & 0xf0) != 0x00) {
		*rlen = sw(r, 0, 0x6e00);
		return 0;
	}
	switch (a.ins) {
	case 0x20: { /* VERIFY: the card's PIN (default 123456, 3 tries) */
		char got[33];

		if (a.p1 != 0x00 && a.p1 != 0xff) {
			*rlen = sw(r, 0, 0x6a86);
			return 0;
		}
		if (a.p1 == 0xff) { /* reset the verified state */
			b->verified = false;
			*rlen = sw(r, 0, 0x9000);
			return 0;
		}
		if (a.nc == 0) { /* the retry counter */
			*rlen = sw(r, 0, b->verified ? 0x9000 :
				   (uint16_t)(b->tries ? 0x63c0 | b->tries : 0x6983));
			return 0;
		}
		if (!b->tries) {
			*rlen = sw(r, 0, 0x6983);
			return 0;
		}
		if (pin_decode(a.data, a.nc, got, sizeof(got)) && !strcmp(got, b->pin)) {
			b->tries = 3;
			b->verified = true;
			*rlen = sw(r, 0, 0x9000);
		} else {
			b->tries--;
			b->verified = false;
			*rlen = sw(r, 0, b->tries ? (uint16_t)(0x63c0 | b->tries) : 0x6983);
		}
		return 0;
	}
	case 0x24: { /* CHANGE REFERENCE DATA, P1=00: old and new PIN blocks
		      * of equal size (what a pinpad's modify builds) */
		char oldp[33], newp[33];

		if (a.p1 != 0x00 || a.nc < 2 || a.nc % 2) {
			*rlen = sw(r, 0, a.p1 ? 0x6a86 : 0x6700);
			return 0;
		}
		if (!b->tries) {
			*rlen = sw(r, 0, 0x6983);
			return 0;
		}
		if (!pin_decode(a.data, a.nc / 2, oldp, sizeof(oldp)) ||
		    strcmp(oldp, b->pin)) {
			b->tries--;
			*rlen = sw(r, 0, b->tries ? (uint16_t)(0x63c0 | b->tries) : 0x6983);
			return 0;
		}
		if (!pin_decode(a.data + a.nc / 2, a.nc / 2, newp, sizeof(newp)) ||
		    strlen(newp) >= sizeof(b->pin)) {
			*rlen = sw(r, 0, 0x6a80);
			return 0;
		}
		g_strlcpy(b->pin, newp, sizeof(b->pin));
		b->tries = 3;
		b->verified = true;
		*rlen = sw(r, 0, 0x9000);
		return 0;
	}
	case 0xa4: { /* SELECT */
		uint16_t target = 0;

		if (a.p1 == 0x04) {
			if (a.nc == sizeof(aid) && !memcmp(a.data, aid, sizeof(aid)))
				target = 0xa1d0;
			else if (a.nc == 0)
				target = 0x3f00;
		} else if ((a.p1 == 0x00 || a.p1 == 0x02) && (a.nc == 2 || a.nc == 0)) {
			uint16_t fid = a.nc ? (uint16_t)(a.data[0] << 8 | a.data[1]) : 0x3f00;

			if (fid == 0x3f00 || fid == 0x2f01)
				target = fid;
		} else if (a.p1 == 0x08 && a.nc == 2 && a.data[0] == 0x2f &&
			   a.data[1] == 0x01) {
			target = 0x2f01;
		} else {
			*rlen = sw(r, 0, 0x6a86);
			return 0;
		}
		if (!target) {
			*rlen = sw(r, 0, 0x6a82);
			return 0;
		}
		b->cur = target;
		if ((a.p2 & 0x0c) == 0x0c) {
			*rlen = sw(r, 0, 0x9000);
			return 0;
		}
		/* FCI template (ISO 7816-4 section 7.4) */
		fci[n++] = 0x6f;
		fci[n++] = 0;
		if (target == 0xa1d0) {
			fci[n++] = 0x84;
			fci[n++] = sizeof(aid);
			memcpy(fci + n, aid, sizeof(aid));
			n += sizeof(aid);
		} else {
			fci[n++] = 0x83;
			fci[n++] = 2;
			fci[n++] = (uint8_t)(target >> 8);
			fci[n++] = (uint8_t)target;
			if (target == 0x2f01) {
				fci[n++] = 0x80;
				fci[n++] = 2;
				fci[n++] = 0;
				fci[n++] = EF_SIZE;
			}
		}
		fci[1] = (uint8_t)(n - 2);
		*rlen = answer(b, &a, fci, n, r);
		return 0;
	}
	case 0xb0: { /* READ BINARY */
		size_t off = (size_t)(a.p1 & 0x7f) << 8 | a.p2;
		size_t want, have;

		if (a.p1 & 0x80) {
			*rlen = sw(r, 0, 0x6981); /* no short EF identifiers here */
			return 0;
		}
		if (b->cur != 0x2f01) {
			*rlen = sw(r, 0, 0x6986);
			return 0;
		}
		if (off > EF_SIZE) {
			*rlen = sw(r, 0, 0x6b00);
			return 0;
		}
		have = EF_SIZE - off;
		want = a.ne ? a.ne : have;
		if (want > have) {
			memcpy(r, b->ef + off, have);
			*rlen = sw(r, have, 0x6282);
			return 0;
		}
		memcpy(r, b->ef + off, want);
		*rlen = sw(r, want, 0x9000);
		return 0;
	}
	case 0x84: /* GET CHALLENGE */
		if (a.p1 || a.p2 || a.nc || !a.ne) {
			*rlen = sw(r, 0, a.ne ? 0x6a86 : 0x6700);
			return 0;
		}
		for (size_t i = 0; i < a.ne; i++)
			r[i] = (uint8_t)g_random_int_range(0, 256);
		*rlen = sw(r, a.ne, 0x9000);
		return 0;
	case 0xc0: { /* GET RESPONSE */
		uint8_t *p = b->pending;
		size_t pl = b->pending_len;

		if (!p) {
			*rlen = sw(r, 0, 0x6985);
			return 0;
		}
		b->pending = NULL;
		b->pending_len = 0;
		*rlen = answer(b, &a, p, pl, r);
		free(p);
		return 0;
	}
	default:
		*rlen = sw(r, 0, 0x6d00);
		return 0;
	}
}

static void b_destroy(struct card *c)
{
	forget(c->priv);
	free(c->priv);
	free(c);
}

static const struct card_ops builtin_ops = {
	.kind = "builtin",
	.power_on = b_power_on,
	.power_off = b_power_off,
	.transmit = b_transmit,
	.reset_state = b_reset_state,
	.destroy = b_destroy,
};

static int parse_hex(const char *s, uint8_t *out, size_t cap, size_t *n)
{
	*n = 0;
	while (*s) {
		unsigned v;

		if (*s == ' ' || *s == ':' || *s == '-') {
			s++;
			continue;
		}
		if (*n >= cap || sscanf(s, "%2x", &v) != 1 || !s[1])
			return -1;
		out[(*n)++] = (uint8_t)v;
		s += 2;
	}
	return 0;
}

/* args: [atr=HEX][:proto=0|1][:delay=MS] (already split from "builtin:") */
struct card *card_builtin_new(const char *args, char **err)
{
	struct builtin *b = calloc(1, sizeof(*b));
	struct card *c = calloc(1, sizeof(*c));
	char **parts = g_strsplit(args ? args : "", ":", -1);
	bool have_atr = false;
	int proto = 1;

	for (char **p = parts; *p; p++) {
		if (!**p)
			continue;
		if (!strncmp(*p, "atr=", 4)) {
			if (parse_hex(*p + 4, b->atr, sizeof(b->atr), &b->atr_len) ||
			    b->atr_len < 2) {
				*err = g_strdup_printf("builtin: bad atr '%s'", *p + 4);
				goto fail;
			}
			have_atr = true;
		} else if (!strcmp(*p, "proto=0") || !strcmp(*p, "proto=1")) {
			proto = (*p)[6] - '0';
		} else if (!strncmp(*p, "delay=", 6)) {
			char *end;
			unsigned long ms = strtoul(*p + 6, &end, 10);

			if (*end || end == *p + 6 || ms > 600000) {
				*err = g_strdup_printf("builtin: bad delay '%s'", *p + 6);
				goto fail;
			}
			c->delay_ms = (unsigned)ms;
		} else {
			*err = g_strdup_printf("builtin: unknown option '%s'", *p);
			goto fail;
		}
	}
	if (!have_atr) {
		if (proto == 0) {
			memcpy(b->atr, default_atr_t0, sizeof(default_atr_t0));
			b->atr_len = sizeof(default_atr_t0);
		} else {
			uint8_t tck = 0;

			memcpy(b->atr, default_atr_t1, sizeof(default_atr_t1));
			b->atr_len = sizeof(default_atr_t1);
			for (size_t i = 1; i + 1 < b->atr_len; i++)
				tck ^= b->atr[i];
			b->atr[b->atr_len - 1] = tck;
		}
	}
	g_strlcpy(b->pin, "123456", sizeof(b->pin));
	b->tries = 3;
	for (size_t i = 0; i < EF_SIZE; i++)
		b->ef[i] = (uint8_t)("openccid built-in card EF 2F01. "[i % 32]);
	g_strfreev(parts);
	forget(b);
	c->ops = &builtin_ops;
	c->priv = b;
	return c;
fail:
	g_strfreev(parts);
	free(b);
	free(c);
	return NULL;
}
