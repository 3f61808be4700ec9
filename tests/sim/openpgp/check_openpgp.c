/*
 * openccid - Check suite for the OpenPGP card model (tests/sim/openpgp).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "card.h"

#define SW_OK 0x9000

static const uint8_t aid[6] = {0xD2, 0x76, 0x00, 0x01, 0x24, 0x01};
static const uint8_t attr_p256_sig[9] = {0x13, 0x2A, 0x86, 0x48, 0xCE,
					 0x3D, 0x03, 0x01, 0x07};
static const uint8_t attr_p256_dec[9] = {0x12, 0x2A, 0x86, 0x48, 0xCE,
					 0x3D, 0x03, 0x01, 0x07};

/* Response of the last exchange, data without SW. */
static uint8_t rdata[70000];
static size_t rdlen;

/* Build an APDU: le < 0 means no Le; ext selects extended lengths. */
static size_t mk(uint8_t *b, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
		 const void *data, size_t lc, long le, bool ext)
{
	size_t n = 0;

	b[n++] = cla;
	b[n++] = ins;
	b[n++] = p1;
	b[n++] = p2;
	if (ext && (lc || le >= 0))
		b[n++] = 0;
	if (lc) {
		if (ext) {
			b[n++] = (uint8_t)(lc >> 8);
			b[n++] = (uint8_t)lc;
		} else {
			b[n++] = (uint8_t)lc;
		}
		memcpy(b + n, data, lc);
		n += lc;
	}
	if (le >= 0) {
		if (ext) {
			b[n++] = (uint8_t)(le >> 8);
			b[n++] = (uint8_t)le;
		} else {
			b[n++] = (uint8_t)le;
		}
	}
	return n;
}

static uint16_t raw(struct opgp_card *c, const uint8_t *cmd, size_t len)
{
	uint8_t resp[OPGP_MAX_RESP];
	size_t rlen = 0;

	ck_assert_int_eq(opgp_card_apdu(c, cmd, len, resp, sizeof resp, &rlen),
			 0);
	ck_assert_uint_ge(rlen, 2);
	rdlen = rlen - 2;
	memcpy(rdata, resp, rdlen);
	return (uint16_t)(resp[rlen - 2] << 8 | resp[rlen - 1]);
}

/* Exchange with extended lengths (Le 0 = 65536). */
static uint16_t xe(struct opgp_card *c, uint8_t ins, uint8_t p1, uint8_t p2,
		   const void *data, size_t lc)
{
	uint8_t cmd[OPGP_MAX_CMD + 16];

	return raw(c, cmd, mk(cmd, 0, ins, p1, p2, data, lc, 0, true));
}

/* Short APDU, Le 00, following 61xx with GET RESPONSE. */
static uint16_t xs(struct opgp_card *c, uint8_t ins, uint8_t p1, uint8_t p2,
		   const void *data, size_t lc)
{
	uint8_t cmd[300], all[70000];
	size_t n = 0;
	uint16_t sw;
	int rounds = 0;

	sw = raw(c, cmd, mk(cmd, 0, ins, p1, p2, data, lc, 0, false));
	for (;;) {
		memcpy(all + n, rdata, rdlen);
		n += rdlen;
		if ((sw >> 8) != 0x61)
			break;
		ck_assert_int_lt(++rounds, 300);
		sw = raw(c, cmd,
			 mk(cmd, 0, 0xC0, 0, 0, NULL, 0, sw & 0xFF, false));
	}
	memcpy(rdata, all, n);
	rdlen = n;
	return sw;
}

static struct opgp_card *new_card(void)
{
	char err[200] = "";
	struct opgp_card *c = opgp_card_open(NULL, err, sizeof err);

	ck_assert_msg(c != NULL, "open: %s", err);
	return c;
}

static void sel(struct opgp_card *c)
{
	ck_assert_uint_eq(xs(c, 0xA4, 0x04, 0x00, aid, sizeof aid), SW_OK);
}

static void verify(struct opgp_card *c, uint8_t p2, const char *pin)
{
	ck_assert_uint_eq(xs(c, 0x20, 0, p2, pin, strlen(pin)), SW_OK);
}

/* Find a BER-TLV tag in buf, depth first (test-side parser). */
static const uint8_t *find(const uint8_t *buf, size_t len, unsigned tag,
			   size_t *vlen)
{
	size_t o = 0;

	while (o < len) {
		unsigned t = buf[o++];
		size_t n;

		if ((t & 0x1F) == 0x1F) {
			ck_assert_uint_lt(o, len);
			t = t << 8 | buf[o++];
		}
		ck_assert_uint_lt(o, len);
		n = buf[o++];
		if (n == 0x81) {
			n = buf[o++];
		} else if (n == 0x82) {
			n = (size_t)buf[o] << 8 | buf[o + 1];
			o += 2;
		}
		ck_assert_uint_le(n, len - o);
		if (t == tag) {
			*vlen = n;
			return buf + o;
		}
		/* descend into constructed DOs (b6 of the first tag byte) */
		if (((t > 0xFF ? t >> 8 : t) & 0x20) && n) {
			const uint8_t *in = find(buf + o, n, tag, vlen);

			if (in)
				return in;
		}
		o += n;
	}
	return NULL;
}

START_TEST(test_atr)
{
	struct opgp_card *c = new_card();
	uint8_t atr[40], x = 0;
	size_t n = opgp_card_atr(c, atr, sizeof atr), i;

	ck_assert_uint_eq(n, 21);
	ck_assert_uint_eq(atr[0], 0x3B);
	for (i = 1; i < n; i++)
		x ^= atr[i];
	ck_assert_uint_eq(x, 0); /* TCK */
	/* card capabilities 73 xx xx C0: chaining + extended Lc/Le */
	ck_assert_uint_eq(atr[13], 0x73);
	ck_assert_uint_eq(atr[16] & 0xC0, 0xC0);
	ck_assert_uint_eq(opgp_card_atr(c, atr, 10), 0);
	opgp_card_close(&c);
	ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_select)
{
	struct opgp_card *c = new_card();
	static const uint8_t other[7] = {0xA0, 0, 0, 0, 0x03, 0, 0};

	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0x6E, NULL, 0), 0x6985);
	ck_assert_uint_eq(xs(c, 0xA4, 0x04, 0x00, other, sizeof other),
			  0x6A82);
	ck_assert_uint_eq(xs(c, 0xA4, 0x00, 0x00, aid, sizeof aid), 0x6A86);
	sel(c);
	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0x4F, NULL, 0), SW_OK);
	ck_assert_uint_eq(rdlen, 16);
	ck_assert_mem_eq(rdata, aid, 6);
	ck_assert_uint_eq(rdata[6], 3);
	ck_assert_uint_eq(rdata[7], 4);
	/* full AID selects too; reset deselects */
	{
		uint8_t full[16];

		memcpy(full, rdata, 16);
		ck_assert_uint_eq(xs(c, 0xA4, 0x04, 0x00, full, 16), SW_OK);
	}
	opgp_card_reset(c);
	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0x4F, NULL, 0), 0x6985);
	opgp_card_close(&c);
}
END_TEST

START_TEST(test_get_data)
{
	struct opgp_card *c = new_card();
	uint8_t d6e[1000];
	size_t n6e, l;
	const uint8_t *v, *dd;
	size_t ddl;

	sel(c);
	ck_assert_uint_eq(xe(c, 0xCA, 0x00, 0x6E, NULL, 0), SW_OK);
	memcpy(d6e, rdata, rdlen);
	n6e = rdlen;
	v = find(d6e, n6e, 0x6E, &l);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(l + 2 + (l > 127) + (l > 255), n6e);
	ck_assert_ptr_nonnull(find(v, l, 0x4F, &ddl));
	ck_assert_uint_eq(ddl, 16);
	ck_assert_ptr_nonnull(find(v, l, 0x5F52, &ddl));
	ck_assert_ptr_nonnull(find(v, l, 0x7F74, &ddl));
	ck_assert_ptr_nonnull(find(v, l, 0x7F66, &ddl));
	dd = find(v, l, 0x73, &l);
	ck_assert_ptr_nonnull(dd);
	v = find(dd, l, 0xC0, &ddl);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(ddl, 10);
	v = find(dd, l, 0xC1, &ddl);
	ck_assert_uint_eq(ddl, 6);
	ck_assert_uint_eq(v[0], 0x01);
	ck_assert_uint_eq(v[1] << 8 | v[2], 2048);
	ck_assert_ptr_nonnull(find(dd, l, 0xC2, &ddl));
	ck_assert_ptr_nonnull(find(dd, l, 0xC3, &ddl));
	v = find(dd, l, 0xC4, &ddl);
	ck_assert_uint_eq(ddl, 7);
	ck_assert_uint_eq(v[4], 3);
	ck_assert_uint_eq(v[5], 0);
	ck_assert_uint_eq(v[6], 3);
	find(dd, l, 0xC5, &ddl);
	ck_assert_uint_eq(ddl, 60);
	find(dd, l, 0xC6, &ddl);
	ck_assert_uint_eq(ddl, 60);
	find(dd, l, 0xCD, &ddl);
	ck_assert_uint_eq(ddl, 12);
	v = find(dd, l, 0xDE, &ddl);
	ck_assert_uint_eq(ddl, 6);
	ck_assert_uint_eq(v[0], 1);
	ck_assert_uint_eq(v[1], 0);

	/* the same data with short APDUs */
	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0x6E, NULL, 0), SW_OK);
	ck_assert_uint_eq(rdlen, n6e);
	ck_assert_mem_eq(rdata, d6e, n6e);

	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0x65, NULL, 0), SW_OK);
	ck_assert_ptr_nonnull(find(rdata, rdlen, 0x5B, &l));
	ck_assert_ptr_nonnull(find(rdata, rdlen, 0x5F2D, &l));
	v = find(rdata, rdlen, 0x5F35, &l);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(l, 1);
	ck_assert_uint_eq(xs(c, 0xCA, 0x5F, 0x50, NULL, 0), SW_OK);
	ck_assert_uint_eq(rdlen, 0);
	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0x7A, NULL, 0), SW_OK);
	v = find(rdata, rdlen, 0x93, &l);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(l, 3);
	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0xC4, NULL, 0), SW_OK);
	ck_assert_uint_eq(rdlen, 7);
	ck_assert_uint_eq(xs(c, 0xCA, 0x5F, 0x52, NULL, 0), SW_OK);
	ck_assert_uint_eq(rdlen, 10);
	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0x5E, NULL, 0), SW_OK);
	ck_assert_uint_eq(xs(c, 0xCA, 0x7F, 0x21, NULL, 0), SW_OK);
	ck_assert_uint_eq(xs(c, 0xCA, 0x01, 0x01, NULL, 0), SW_OK);
	ck_assert_uint_eq(xs(c, 0xCA, 0x01, 0x04, NULL, 0), 0x6982);
	ck_assert_uint_eq(xs(c, 0xCA, 0x12, 0x34, NULL, 0), 0x6A88);
	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0xC7, NULL, 0), 0x6A88);
	opgp_card_close(&c);
}
END_TEST

static uint8_t c4(struct opgp_card *c, int i)
{
	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0xC4, NULL, 0), SW_OK);
	return rdata[i];
}

START_TEST(test_verify)
{
	struct opgp_card *c = new_card();

	sel(c);
	ck_assert_uint_eq(xs(c, 0x20, 0, 0x81, NULL, 0), 0x63C3);
	ck_assert_uint_eq(xs(c, 0x20, 0, 0x81, "654321", 6), 0x63C2);
	ck_assert_uint_eq(xs(c, 0x20, 0, 0x82, NULL, 0), 0x63C2);
	ck_assert_uint_eq(c4(c, 4), 2);
	verify(c, 0x82, "123456");
	ck_assert_uint_eq(c4(c, 4), 3);
	ck_assert_uint_eq(xs(c, 0x20, 0, 0x82, NULL, 0), SW_OK);
	ck_assert_uint_eq(xs(c, 0x20, 0, 0x81, NULL, 0), 0x63C3);
	/* P1 FF resets the access status */
	ck_assert_uint_eq(xs(c, 0x20, 0xFF, 0x82, NULL, 0), SW_OK);
	ck_assert_uint_eq(xs(c, 0x20, 0, 0x82, NULL, 0), 0x63C3);
	ck_assert_uint_eq(xs(c, 0x20, 0, 0x84, "123456", 6), 0x6A86);
	ck_assert_uint_eq(xs(c, 0x20, 0x01, 0x81, "123456", 6), 0x6A86);

	/* block PW1 */
	ck_assert_uint_eq(xs(c, 0x20, 0, 0x81, "000000", 6), 0x63C2);
	ck_assert_uint_eq(xs(c, 0x20, 0, 0x81, "00000", 5), 0x63C1);
	ck_assert_uint_eq(xs(c, 0x20, 0, 0x82, "0000000", 7), 0x63C0);
	ck_assert_uint_eq(xs(c, 0x20, 0, 0x81, "123456", 6), 0x6983);
	ck_assert_uint_eq(xs(c, 0x20, 0, 0x81, NULL, 0), 0x6983);
	ck_assert_uint_eq(c4(c, 4), 0);

	/* PW3 unaffected; unblock PW1 with RESET RETRY COUNTER P1=02 */
	ck_assert_uint_eq(xs(c, 0x2C, 0x02, 0x81, "abcdef", 6), 0x6982);
	ck_assert_uint_eq(xs(c, 0x20, 0, 0x83, "1234567", 7), 0x63C2);
	verify(c, 0x83, "12345678");
	ck_assert_uint_eq(xs(c, 0x2C, 0x02, 0x81, "abc", 3), 0x6A80);
	ck_assert_uint_eq(xs(c, 0x2C, 0x02, 0x81, "abcdef", 6), SW_OK);
	ck_assert_uint_eq(c4(c, 4), 3);
	ck_assert_uint_eq(c4(c, 6), 3);
	verify(c, 0x81, "abcdef");

	/* resetting code */
	ck_assert_uint_eq(xs(c, 0x2C, 0x00, 0x81, "12345678999999", 14),
			  0x6982);
	ck_assert_uint_eq(xs(c, 0xDA, 0x00, 0xD3, "1234", 4), 0x6A80);
	ck_assert_uint_eq(xs(c, 0xDA, 0x00, 0xD3, "rcrcrcrc", 8), SW_OK);
	ck_assert_uint_eq(c4(c, 5), 3);
	ck_assert_uint_eq(xs(c, 0x2C, 0x00, 0x81, "rcrcrcrX999999", 14),
			  0x63C2);
	ck_assert_uint_eq(xs(c, 0x2C, 0x00, 0x81, "rcrcrcrc999999", 14),
			  SW_OK);
	ck_assert_uint_eq(c4(c, 5), 3);
	verify(c, 0x82, "999999");
	opgp_card_close(&c);
}
END_TEST

START_TEST(test_change_pin)
{
	struct opgp_card *c = new_card();

	sel(c);
	ck_assert_uint_eq(xs(c, 0x24, 0, 0x81, "123450abcdefg", 13), 0x63C2);
	ck_assert_uint_eq(xs(c, 0x24, 0, 0x81, "123456abc", 9), 0x6A80);
	ck_assert_uint_eq(xs(c, 0x24, 0, 0x81, "123456abcdefg", 13), SW_OK);
	ck_assert_uint_eq(xs(c, 0x20, 0, 0x81, "123456", 6), 0x63C2);
	verify(c, 0x81, "abcdefg");
	ck_assert_uint_eq(c4(c, 4), 3);
	ck_assert_uint_eq(xs(c, 0x24, 0, 0x83, "12345678admin123", 16),
			  SW_OK);
	verify(c, 0x83, "admin123");
	ck_assert_uint_eq(xs(c, 0x24, 0, 0x82, "abcdefg1234567", 14), 0x6A86);
	opgp_card_close(&c);
}
END_TEST

/* Public key from a 7F49 template. */
static EVP_PKEY *pub_from_7f49(const uint8_t *d, size_t n, bool rsa)
{
	const uint8_t *t, *a, *b;
	size_t tl, al, bl;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pk = NULL;
	BIGNUM *bn_n = NULL, *bn_e = NULL;

	t = find(d, n, 0x7F49, &tl);
	ck_assert_ptr_nonnull(t);
	if (rsa) {
		a = find(t, tl, 0x81, &al);
		b = find(t, tl, 0x82, &bl);
		ck_assert_ptr_nonnull(a);
		ck_assert_ptr_nonnull(b);
		ck_assert_uint_eq(al, 256);
		bn_n = BN_bin2bn(a, (int)al, NULL);
		bn_e = BN_bin2bn(b, (int)bl, NULL);
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n);
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e);
	} else {
		a = find(t, tl, 0x86, &al);
		ck_assert_ptr_nonnull(a);
		ck_assert_uint_eq(al, 65);
		OSSL_PARAM_BLD_push_utf8_string(
			bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
		OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
						 a, al);
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, rsa ? "RSA" : "EC", NULL);
	ck_assert_int_gt(EVP_PKEY_fromdata_init(ctx), 0);
	ck_assert_int_gt(
		EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params), 0);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	return pk;
}

/* DigestInfo for SHA-256 (RFC 8017 §9.2 note 1). */
static size_t digestinfo(const char *msg, uint8_t out[51])
{
	static const uint8_t pfx[19] = {0x30, 0x31, 0x30, 0x0d, 0x06,
					0x09, 0x60, 0x86, 0x48, 0x01,
					0x65, 0x03, 0x04, 0x02, 0x01,
					0x05, 0x00, 0x04, 0x20};
	unsigned int hl = 32;

	memcpy(out, pfx, sizeof pfx);
	EVP_Digest(msg, strlen(msg), out + 19, &hl, EVP_sha256(), NULL);
	return 51;
}

static void rsa_verify(EVP_PKEY *pk, const uint8_t *sig, size_t sl,
		       const char *msg)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();

	ck_assert_int_eq(EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, pk),
			 1);
	ck_assert_int_eq(EVP_DigestVerify(m, sig, sl, (const uint8_t *)msg,
					  strlen(msg)),
			 1);
	EVP_MD_CTX_free(m);
}

static void ec_verify(EVP_PKEY *pk, const uint8_t *rs, size_t rsl,
		      const char *msg)
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	uint8_t *der = NULL;
	int dl;
	EVP_MD_CTX *m = EVP_MD_CTX_new();

	ck_assert_uint_eq(rsl, 64);
	ECDSA_SIG_set0(s, BN_bin2bn(rs, 32, NULL), BN_bin2bn(rs + 32, 32, NULL));
	dl = i2d_ECDSA_SIG(s, &der);
	ck_assert_int_gt(dl, 0);
	ck_assert_int_eq(EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, pk),
			 1);
	ck_assert_int_eq(EVP_DigestVerify(m, der, (size_t)dl,
					  (const uint8_t *)msg, strlen(msg)),
			 1);
	EVP_MD_CTX_free(m);
	OPENSSL_free(der);
	ECDSA_SIG_free(s);
}

static uint32_t sigcount(struct opgp_card *c)
{
	const uint8_t *v;
	size_t l;

	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0x7A, NULL, 0), SW_OK);
	v = find(rdata, rdlen, 0x93, &l);
	ck_assert_ptr_nonnull(v);
	return (uint32_t)v[0] << 16 | (uint32_t)v[1] << 8 | v[2];
}

START_TEST(test_rsa)
{
	struct opgp_card *c = new_card();
	EVP_PKEY *sig, *dec;
	uint8_t di[51], ct[512], cmd[600];
	size_t ctl = sizeof ct;
	EVP_PKEY_CTX *ctx;
	const char *msg = "hello openccid";

	sel(c);
	ck_assert_uint_eq(xe(c, 0x47, 0x80, 0, "\xB6\x00", 2), 0x6982);
	ck_assert_uint_eq(xe(c, 0x47, 0x81, 0, "\xB6\x00", 2), 0x6A88);
	verify(c, 0x83, "12345678");
	ck_assert_uint_eq(xe(c, 0x47, 0x80, 0, "\xB6", 1), 0x6A80);
	ck_assert_uint_eq(xe(c, 0x47, 0x80, 0, "\xB7\x00", 2), 0x6A80);
	ck_assert_uint_eq(xe(c, 0x47, 0x80, 0, "\xB6\x00", 2), SW_OK);
	sig = pub_from_7f49(rdata, rdlen, true);
	/* read back, via 61xx chaining with short APDUs */
	ck_assert_uint_eq(xs(c, 0x47, 0x81, 0, "\xB6\x00", 2), SW_OK);
	{
		EVP_PKEY *again = pub_from_7f49(rdata, rdlen, true);

		ck_assert_int_eq(EVP_PKEY_eq(sig, again), 1);
		EVP_PKEY_free(again);
	}
	ck_assert_uint_eq(xe(c, 0x47, 0x80, 0, "\xB8\x00", 2), SW_OK);
	dec = pub_from_7f49(rdata, rdlen, true);
	ck_assert_uint_eq(xe(c, 0x47, 0x80, 0, "\xA4\x00", 2), SW_OK);
	ck_assert_uint_eq(xe(c, 0xCA, 0x00, 0xDE, NULL, 0), SW_OK);
	ck_assert_mem_eq(rdata, "\x01\x01\x02\x01\x03\x01", 6);

	/* sign: PW1 81 needed, valid for one signature only */
	digestinfo(msg, di);
	ck_assert_uint_eq(xs(c, 0x2A, 0x9E, 0x9A, di, 51), 0x6982);
	verify(c, 0x81, "123456");
	ck_assert_uint_eq(sigcount(c), 0);
	ck_assert_uint_eq(xs(c, 0x2A, 0x9E, 0x9A, di, 51), SW_OK);
	ck_assert_uint_eq(rdlen, 256);
	rsa_verify(sig, rdata, rdlen, msg);
	ck_assert_uint_eq(sigcount(c), 1);
	ck_assert_uint_eq(xs(c, 0x2A, 0x9E, 0x9A, di, 51), 0x6982);
	/* C4 byte 1 = 01: PW1 stays valid */
	ck_assert_uint_eq(xs(c, 0xDA, 0x00, 0xC4, "\x01", 1), SW_OK);
	verify(c, 0x81, "123456");
	ck_assert_uint_eq(xe(c, 0x2A, 0x9E, 0x9A, di, 51), SW_OK);
	rsa_verify(sig, rdata, rdlen, msg);
	ck_assert_uint_eq(xe(c, 0x2A, 0x9E, 0x9A, di, 51), SW_OK);
	ck_assert_uint_eq(sigcount(c), 3);
	ck_assert_uint_eq(xe(c, 0x2A, 0x9E, 0x9A, ct, 200), 0x6700);

	/* internal authenticate with PW1 82 */
	ck_assert_uint_eq(xs(c, 0x88, 0, 0, di, 51), 0x6982);
	verify(c, 0x82, "123456");
	ck_assert_uint_eq(xs(c, 0x88, 0, 0, di, 51), SW_OK);
	ck_assert_uint_eq(rdlen, 256);
	ck_assert_uint_eq(xe(c, 0x47, 0x81, 0, "\xA4\x00", 2), SW_OK);
	{
		EVP_PKEY *aut = pub_from_7f49(rdata, rdlen, true);
		uint8_t s[256];

		ck_assert_uint_eq(xs(c, 0x88, 0, 0, di, 51), SW_OK);
		memcpy(s, rdata, 256);
		rsa_verify(aut, s, 256, msg);
		EVP_PKEY_free(aut);
	}

	/* decipher: 00 || cryptogram (257 bytes: extended or chained) */
	ctx = EVP_PKEY_CTX_new(dec, NULL);
	ck_assert_int_gt(EVP_PKEY_encrypt_init(ctx), 0);
	ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING),
			 0);
	ck_assert_int_gt(EVP_PKEY_encrypt(ctx, ct + 1, &ctl,
					  (const uint8_t *)"session-key-32",
					  14),
			 0);
	EVP_PKEY_CTX_free(ctx);
	ct[0] = 0;
	ck_assert_uint_eq(ctl, 256);
	ck_assert_uint_eq(xe(c, 0x2A, 0x80, 0x86, ct, 257), SW_OK);
	ck_assert_uint_eq(rdlen, 14);
	ck_assert_mem_eq(rdata, "session-key-32", 14);
	/* chained: 254 + 3 bytes */
	ck_assert_uint_eq(raw(c, cmd, mk(cmd, 0x10, 0x2A, 0x80, 0x86, ct, 254,
					 -1, false)),
			  SW_OK);
	ck_assert_uint_eq(rdlen, 0);
	ck_assert_uint_eq(raw(c, cmd, mk(cmd, 0x00, 0x2A, 0x80, 0x86, ct + 254,
					 3, 0, false)),
			  SW_OK);
	ck_assert_mem_eq(rdata, "session-key-32", 14);
	ct[0] = 1;
	ck_assert_uint_eq(xe(c, 0x2A, 0x80, 0x86, ct, 257), 0x6A80);
	ct[0] = 0;
	ck_assert_uint_eq(xe(c, 0x2A, 0x80, 0x86, ct, 200), 0x6700);
	ct[5] ^= 1;
	ck_assert_uint_eq(xe(c, 0x2A, 0x80, 0x86, ct, 257), 0x6A80);
	ck_assert_uint_eq(xe(c, 0x2A, 0x80, 0x87, ct, 257), 0x6A86);

	EVP_PKEY_free(sig);
	EVP_PKEY_free(dec);
	opgp_card_close(&c);
}
END_TEST

START_TEST(test_ec)
{
	struct opgp_card *c = new_card();
	EVP_PKEY *sig, *dec, *eph;
	const char *msg = "ecdsa over p-256";
	uint8_t h[32], cdo[80], pt[65], secret[32], card_secret[32];
	size_t ptl = 0, sl = sizeof secret;
	EVP_PKEY_CTX *ctx;

	sel(c);
	ck_assert_uint_eq(xs(c, 0xDA, 0x00, 0xC1, attr_p256_sig, 9), 0x6982);
	verify(c, 0x83, "12345678");
	/* ECDH attributes are not valid for the signing key, nor reverse */
	ck_assert_uint_eq(xs(c, 0xDA, 0x00, 0xC1, attr_p256_dec, 9), 0x6A80);
	ck_assert_uint_eq(xs(c, 0xDA, 0x00, 0xC2, attr_p256_sig, 9), 0x6A80);
	ck_assert_uint_eq(xs(c, 0xDA, 0x00, 0xC1, "\x01\x04\x00\x00\x20", 5),
			  0x6A80);
	ck_assert_uint_eq(xs(c, 0xDA, 0x00, 0xC1, attr_p256_sig, 9), SW_OK);
	ck_assert_uint_eq(xs(c, 0xDA, 0x00, 0xC2, attr_p256_dec, 9), SW_OK);
	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0xC1, NULL, 0), SW_OK);
	ck_assert_mem_eq(rdata, attr_p256_sig, 9);

	ck_assert_uint_eq(xs(c, 0x47, 0x80, 0, "\xB6\x00", 2), SW_OK);
	sig = pub_from_7f49(rdata, rdlen, false);
	ck_assert_uint_eq(xs(c, 0x47, 0x80, 0, "\xB8\x00", 2), SW_OK);
	dec = pub_from_7f49(rdata, rdlen, false);

	EVP_Digest(msg, strlen(msg), h, NULL, EVP_sha256(), NULL);
	verify(c, 0x81, "123456");
	ck_assert_uint_eq(xs(c, 0x2A, 0x9E, 0x9A, h, 32), SW_OK);
	ec_verify(sig, rdata, rdlen, msg);
	ck_assert_uint_eq(sigcount(c), 1);

	/* ECDH: ephemeral key, cipher DO A6 { 7F49 { 86 point } } */
	eph = EVP_EC_gen("P-256");
	ck_assert_ptr_nonnull(eph);
	ck_assert_int_eq(EVP_PKEY_get_octet_string_param(
				 eph, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt,
				 &ptl),
			 1);
	ck_assert_uint_eq(ptl, 65);
	ctx = EVP_PKEY_CTX_new(eph, NULL);
	ck_assert_int_gt(EVP_PKEY_derive_init(ctx), 0);
	ck_assert_int_gt(EVP_PKEY_derive_set_peer(ctx, dec), 0);
	ck_assert_int_gt(EVP_PKEY_derive(ctx, secret, &sl), 0);
	ck_assert_uint_eq(sl, 32);
	EVP_PKEY_CTX_free(ctx);
	memcpy(cdo, "\xA6\x46\x7F\x49\x43\x86\x41", 7);
	memcpy(cdo + 7, pt, 65);
	ck_assert_uint_eq(xs(c, 0x2A, 0x80, 0x86, cdo, 72), 0x6982);
	verify(c, 0x82, "123456");
	ck_assert_uint_eq(xs(c, 0x2A, 0x80, 0x86, cdo, 72), SW_OK);
	ck_assert_uint_eq(rdlen, 32);
	memcpy(card_secret, rdata, 32);
	ck_assert_mem_eq(card_secret, secret, 32);
	/* malformed cipher DOs */
	cdo[1] = 0x47;
	ck_assert_uint_eq(xs(c, 0x2A, 0x80, 0x86, cdo, 72), 0x6A80);
	cdo[1] = 0x46;
	cdo[8] ^= 0xFF; /* point not on the curve */
	ck_assert_uint_eq(xs(c, 0x2A, 0x80, 0x86, cdo, 72), 0x6A80);
	ck_assert_uint_eq(xs(c, 0x2A, 0x80, 0x86, cdo, 5), 0x6A80);

	/* changing the attributes deletes the key */
	ck_assert_uint_eq(xs(c, 0xDA, 0x00, 0xC1, "\x01\x08\x00\x00\x20\x00",
			     6),
			  SW_OK);
	ck_assert_uint_eq(xs(c, 0x47, 0x81, 0, "\xB6\x00", 2), 0x6A88);

	EVP_PKEY_free(eph);
	EVP_PKEY_free(sig);
	EVP_PKEY_free(dec);
	opgp_card_close(&c);
}
END_TEST

START_TEST(test_chaining)
{
	struct opgp_card *c = new_card();
	uint8_t cert[2000], cmd[300];
	size_t i, off;

	for (i = 0; i < sizeof cert; i++)
		cert[i] = (uint8_t)(i * 7 + 3);
	sel(c);
	verify(c, 0x83, "12345678");
	/* PUT DATA 7F21 in chained pieces of 254 bytes */
	for (off = 0; off < sizeof cert; off += 254) {
		size_t n = sizeof cert - off < 254 ? sizeof cert - off : 254;
		bool last = off + n == sizeof cert;

		ck_assert_uint_eq(raw(c, cmd, mk(cmd, last ? 0x00 : 0x10, 0xDA,
						 0x7F, 0x21, cert + off, n, -1,
						 false)),
				  SW_OK);
	}
	/* read back with extended Le, then with 61xx + GET RESPONSE */
	ck_assert_uint_eq(xe(c, 0xCA, 0x7F, 0x21, NULL, 0), SW_OK);
	ck_assert_uint_eq(rdlen, sizeof cert);
	ck_assert_mem_eq(rdata, cert, sizeof cert);
	ck_assert_uint_eq(raw(c, cmd, mk(cmd, 0, 0xCA, 0x7F, 0x21, NULL, 0, 0,
					 false)),
			  0x6100);
	ck_assert_uint_eq(rdlen, 256);
	ck_assert_uint_eq(xs(c, 0xCA, 0x7F, 0x21, NULL, 0), SW_OK);
	ck_assert_uint_eq(rdlen, sizeof cert);
	ck_assert_mem_eq(rdata, cert, sizeof cert);
	/* short Le smaller than the data: 61xx, xx = rest when < 256 */
	ck_assert_uint_eq(raw(c, cmd, mk(cmd, 0, 0xCA, 0x00, 0xC4, NULL, 0, 3,
					 false)),
			  0x6104);
	ck_assert_uint_eq(raw(c, cmd, mk(cmd, 0, 0xC0, 0, 0, NULL, 0, 4,
					 false)),
			  SW_OK);
	ck_assert_uint_eq(rdlen, 4);
	/* GET RESPONSE with nothing pending; pending dropped by a command */
	ck_assert_uint_eq(raw(c, cmd, mk(cmd, 0, 0xC0, 0, 0, NULL, 0, 0,
					 false)),
			  0x6985);
	ck_assert_uint_eq(raw(c, cmd, mk(cmd, 0, 0xCA, 0x7F, 0x21, NULL, 0, 0,
					 false)),
			  0x6100);
	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0xC4, NULL, 0), SW_OK);
	ck_assert_uint_eq(raw(c, cmd, mk(cmd, 0, 0xC0, 0, 0, NULL, 0, 0,
					 false)),
			  0x6985);
	/* a chain interrupted by another command */
	ck_assert_uint_eq(raw(c, cmd, mk(cmd, 0x10, 0xDA, 0x00, 0x5B, "ab", 2,
					 -1, false)),
			  SW_OK);
	ck_assert_uint_eq(raw(c, cmd, mk(cmd, 0x00, 0xDA, 0x00, 0x5E, "cd", 2,
					 -1, false)),
			  0x6883);
	ck_assert_uint_eq(raw(c, cmd, mk(cmd, 0x10, 0xDA, 0x00, 0x5B, "Doe<<",
					 5, -1, false)),
			  SW_OK);
	ck_assert_uint_eq(raw(c, cmd, mk(cmd, 0x00, 0xDA, 0x00, 0x5B, "John",
					 4, -1, false)),
			  SW_OK);
	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0x5B, NULL, 0), SW_OK);
	ck_assert_uint_eq(rdlen, 9);
	ck_assert_mem_eq(rdata, "Doe<<John", 9);
	/* a too small response buffer is continued with 61xx too */
	{
		uint8_t small[10];
		size_t rl = 0;

		ck_assert_int_eq(opgp_card_apdu(c, cmd,
						mk(cmd, 0, 0xCA, 0, 0x6E, NULL,
						   0, 0, false),
						small, sizeof small, &rl),
				 0);
		ck_assert_uint_eq(rl, 10);
		ck_assert_uint_eq(small[8], 0x61);
		ck_assert_int_eq(opgp_card_apdu(c, cmd, 1, small, 1, &rl), -1);
	}
	opgp_card_close(&c);
}
END_TEST

START_TEST(test_put_data)
{
	struct opgp_card *c = new_card();
	uint8_t fp[20];
	size_t l;
	const uint8_t *v, *dd;

	memset(fp, 0xAB, sizeof fp);
	sel(c);
	ck_assert_uint_eq(xs(c, 0xDA, 0x00, 0x5B, "X", 1), 0x6982);
	verify(c, 0x83, "12345678");
	ck_assert_uint_eq(xs(c, 0xDA, 0x00, 0x5B, "Doe<<Jane", 9), SW_OK);
	ck_assert_uint_eq(xs(c, 0xDA, 0x5F, 0x2D, "deen", 4), SW_OK);
	ck_assert_uint_eq(xs(c, 0xDA, 0x5F, 0x35, "2", 1), SW_OK);
	ck_assert_uint_eq(xs(c, 0xDA, 0x5F, 0x35, "22", 2), 0x6700);
	ck_assert_uint_eq(xs(c, 0xDA, 0x5F, 0x50, "https://x/k.asc", 15),
			  SW_OK);
	ck_assert_uint_eq(xs(c, 0xDA, 0x00, 0xC8, fp, 20), SW_OK);
	ck_assert_uint_eq(xs(c, 0xDA, 0x00, 0xC8, fp, 19), 0x6700);
	ck_assert_uint_eq(xs(c, 0xDA, 0x00, 0xCB, fp, 20), SW_OK);
	ck_assert_uint_eq(xs(c, 0xDA, 0x00, 0xCF, "\x60\x00\x00\x01", 4),
			  SW_OK);
	ck_assert_uint_eq(xs(c, 0xDA, 0x00, 0xC4, "\x02", 1), 0x6A80);
	ck_assert_uint_eq(xs(c, 0xDA, 0x12, 0x34, "x", 1), 0x6A88);
	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0x65, NULL, 0), SW_OK);
	v = find(rdata, rdlen, 0x5B, &l);
	ck_assert_uint_eq(l, 9);
	ck_assert_mem_eq(v, "Doe<<Jane", 9);
	v = find(rdata, rdlen, 0x5F35, &l);
	ck_assert_mem_eq(v, "2", 1);
	ck_assert_uint_eq(xs(c, 0xCA, 0x5F, 0x50, NULL, 0), SW_OK);
	ck_assert_mem_eq(rdata, "https://x/k.asc", 15);
	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0x6E, NULL, 0), SW_OK);
	v = find(rdata, rdlen, 0x6E, &l);
	dd = find(v, l, 0x73, &l);
	v = find(dd, l, 0xC5, &l);
	ck_assert_mem_eq(v + 20, fp, 20);
	ck_assert_uint_eq(v[0], 0);
	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0x6E, NULL, 0), SW_OK);
	v = find(rdata, rdlen, 0x6E, &l);
	dd = find(v, l, 0x73, &l);
	v = find(dd, l, 0xCD, &l);
	ck_assert_mem_eq(v + 4, "\x60\x00\x00\x01", 4);
	/* private DOs */
	ck_assert_uint_eq(xs(c, 0xDA, 0x01, 0x01, "p1", 2), 0x6982);
	verify(c, 0x82, "123456");
	ck_assert_uint_eq(xs(c, 0xDA, 0x01, 0x01, "p1", 2), SW_OK);
	ck_assert_uint_eq(xs(c, 0xDA, 0x01, 0x04, "p4", 2), SW_OK);
	ck_assert_uint_eq(xs(c, 0xCA, 0x01, 0x04, NULL, 0), SW_OK);
	ck_assert_mem_eq(rdata, "p4", 2);
	opgp_card_close(&c);
}
END_TEST

START_TEST(test_persistence)
{
	char path[] = "/tmp/check_openpgp_XXXXXX", err[200] = "";
	int fd = mkstemp(path);
	struct opgp_card *c;
	uint8_t pub[400], serial[16];
	size_t publ, l;
	const uint8_t *v;
	FILE *f;

	ck_assert_int_ge(fd, 0);
	close(fd);
	unlink(path); /* absent: created on open */
	c = opgp_card_open(path, err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(access(path, R_OK), 0);
	sel(c);
	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0x4F, NULL, 0), SW_OK);
	memcpy(serial, rdata, 16);
	verify(c, 0x83, "12345678");
	ck_assert_uint_eq(xs(c, 0xDA, 0x00, 0x5B, "Doe<<Jane", 9), SW_OK);
	ck_assert_uint_eq(xs(c, 0xDA, 0x00, 0xC2, attr_p256_dec, 9), SW_OK);
	ck_assert_uint_eq(xs(c, 0x47, 0x80, 0, "\xB8\x00", 2), SW_OK);
	ck_assert_uint_lt(rdlen, sizeof pub);
	memcpy(pub, rdata, rdlen);
	publ = rdlen;
	ck_assert_uint_eq(xs(c, 0x24, 0, 0x81, "123456654321", 12), SW_OK);
	ck_assert_uint_eq(xs(c, 0x20, 0, 0x83, "bad-admin", 9), 0x63C2);
	opgp_card_close(&c);

	c = opgp_card_open(path, err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0x4F, NULL, 0), 0x6985);
	sel(c);
	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0x4F, NULL, 0), SW_OK);
	ck_assert_mem_eq(rdata, serial, 16);
	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0x65, NULL, 0), SW_OK);
	v = find(rdata, rdlen, 0x5B, &l);
	ck_assert_mem_eq(v, "Doe<<Jane", 9);
	ck_assert_uint_eq(xs(c, 0x47, 0x81, 0, "\xB8\x00", 2), SW_OK);
	ck_assert_uint_eq(rdlen, publ);
	ck_assert_mem_eq(rdata, pub, publ);
	ck_assert_uint_eq(xs(c, 0x20, 0, 0x83, NULL, 0), 0x63C2);
	ck_assert_uint_eq(xs(c, 0x20, 0, 0x81, "123456", 6), 0x63C2);
	verify(c, 0x81, "654321");
	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0xC2, NULL, 0), SW_OK);
	ck_assert_mem_eq(rdata, attr_p256_dec, 9);
	opgp_card_close(&c);

	/* a corrupt state file is refused, not half-loaded */
	f = fopen(path, "a");
	ck_assert_ptr_nonnull(f);
	fputs("pw1=zz\n", f);
	fclose(f);
	c = opgp_card_open(path, err, sizeof err);
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(err, "malformed") != NULL, "%s", err);
	f = fopen(path, "w");
	fputs("something else\n", f);
	fclose(f);
	ck_assert_ptr_null(opgp_card_open(path, err, sizeof err));
	unlink(path);
	ck_assert_ptr_null(
		opgp_card_open("/nonexistent-dir/x/state", err, sizeof err));
}
END_TEST

START_TEST(test_factory_reset)
{
	struct opgp_card *c = new_card();

	sel(c);
	ck_assert_uint_eq(xs(c, 0xE6, 0, 0, NULL, 0), 0x6982);
	verify(c, 0x83, "12345678");
	ck_assert_uint_eq(xs(c, 0xDA, 0x00, 0x5B, "Doe<<Jane", 9), SW_OK);
	ck_assert_uint_eq(xs(c, 0x24, 0, 0x81, "123456abcdef", 12), SW_OK);
	ck_assert_uint_eq(xs(c, 0xE6, 0, 0, NULL, 0), SW_OK);
	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0x6E, NULL, 0), 0x6985);
	ck_assert_uint_eq(xs(c, 0xA4, 0x04, 0x00, aid, sizeof aid), 0x6285);
	ck_assert_uint_eq(xs(c, 0x44, 0, 0, NULL, 0), SW_OK);
	sel(c);
	verify(c, 0x81, "123456");
	ck_assert_uint_eq(xs(c, 0xCA, 0x00, 0x5B, NULL, 0), SW_OK);
	ck_assert_uint_eq(rdlen, 0);

	/* blocked PW3 also allows TERMINATE (how GnuPG factory-resets) */
	ck_assert_uint_eq(xs(c, 0x20, 0, 0x83, "xxxxxxxx", 8), 0x63C2);
	ck_assert_uint_eq(xs(c, 0x20, 0, 0x83, "xxxxxxxx", 8), 0x63C1);
	ck_assert_uint_eq(xs(c, 0x20, 0, 0x83, "xxxxxxxx", 8), 0x63C0);
	ck_assert_uint_eq(xs(c, 0x20, 0, 0x83, "12345678", 8), 0x6983);
	ck_assert_uint_eq(xs(c, 0xE6, 0, 0, NULL, 0), SW_OK);
	ck_assert_uint_eq(xs(c, 0x44, 0, 0, NULL, 0), SW_OK);
	sel(c);
	verify(c, 0x83, "12345678");
	opgp_card_close(&c);
}
END_TEST

START_TEST(test_malformed)
{
	struct opgp_card *c = new_card();
	uint8_t cmd[16];

	sel(c);
	ck_assert_uint_eq(raw(c, cmd, 0), 0x6700);
	ck_assert_uint_eq(raw(c, (const uint8_t *)"\x00\xCA\x00", 3), 0x6700);
	ck_assert_uint_eq(raw(c, (const uint8_t *)"\x80\xCA\x00\x6E\x00", 5),
			  0x6E00);
	ck_assert_uint_eq(raw(c, (const uint8_t *)"\x00\x12\x00\x00\x00", 5),
			  0x6D00);
	/* Lc says 5, 3 bytes follow */
	ck_assert_uint_eq(raw(c, (const uint8_t *)"\x00\x20\x00\x81\x05"
						   "123",
			      8),
			  0x6700);
	/* extended Lc 0, and a lone extended marker */
	ck_assert_uint_eq(raw(c, (const uint8_t *)"\x00\x20\x00\x81\x00\x00"
						   "\x00\x31",
			      8),
			  0x6700);
	ck_assert_uint_eq(raw(c, (const uint8_t *)"\x00\x20\x00\x81\x00", 5),
			  0x63C3);
	ck_assert_uint_eq(raw(c, (const uint8_t *)"\x00\xCA\x00\x6E\x00\x00",
			      6),
			  0x6700);
	ck_assert_uint_eq(raw(c, (const uint8_t *)"\x00\x2A\x9E\x9A\x01\x00",
			      6),
			  0x6982);
	ck_assert_uint_eq(raw(c, (const uint8_t *)"\x00\x84\x00\x00\x08", 5),
			  SW_OK);
	ck_assert_uint_eq(rdlen, 8);
	ck_assert_uint_eq(raw(c, (const uint8_t *)"\x00\x84\x00\x00", 4),
			  0x6700);
	ck_assert_int_eq(opgp_card_apdu(NULL, cmd, 4, cmd, 16, &rdlen), -1);
	opgp_card_close(&c);
	opgp_card_close(&c);
	opgp_card_close(NULL);
}
END_TEST

/* ---- key import: PUT DATA odd (DB 3FFF), extended header list 4D ---- */

static size_t
put_len(uint8_t *b, size_t n)
{
	if (n < 0x80) {
		b[0] = (uint8_t)n;
		return 1;
	}
	if (n < 0x100) {
		b[0] = 0x81;
		b[1] = (uint8_t)n;
		return 2;
	}
	b[0] = 0x82;
	b[1] = (uint8_t)(n >> 8);
	b[2] = (uint8_t)n;
	return 3;
}

/* 4D { crt 00, 7F48 { tag len ... }, 5F48 { values } } */
static size_t
tmpl(uint8_t *out, uint8_t crt, int n, const uint8_t *tags,
    const uint8_t *const *vals, const size_t *lens)
{
	uint8_t hdr[64], body[1500];
	size_t hl = 0, dl = 0, bl = 0, o = 0;
	int i;

	for (i = 0; i < n; i++) {
		hdr[hl++] = tags[i];
		hl += put_len(hdr + hl, lens[i]);
		dl += lens[i];
	}
	body[bl++] = crt;
	body[bl++] = 0;
	body[bl++] = 0x7F;
	body[bl++] = 0x48;
	bl += put_len(body + bl, hl);
	memcpy(body + bl, hdr, hl);
	bl += hl;
	body[bl++] = 0x5F;
	body[bl++] = 0x48;
	bl += put_len(body + bl, dl);
	for (i = 0; i < n; i++) {
		memcpy(body + bl, vals[i], lens[i]);
		bl += lens[i];
	}
	out[o++] = 0x4D;
	o += put_len(out + o, bl);
	memcpy(out + o, body, bl);
	return o + bl;
}

struct rsa_parts {
	uint8_t b[7][256]; /* e p q u dp dq n */
	size_t l[7];
};

static void
rsa_split(EVP_PKEY *k, struct rsa_parts *r)
{
	static const char *const names[7] = {OSSL_PKEY_PARAM_RSA_E,
	    OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
	    OSSL_PKEY_PARAM_RSA_COEFFICIENT1, OSSL_PKEY_PARAM_RSA_EXPONENT1,
	    OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_N};
	int i;

	for (i = 0; i < 7; i++) {
		BIGNUM *x = NULL;

		ck_assert_int_eq(EVP_PKEY_get_bn_param(k, names[i], &x), 1);
		ck_assert_int_le(BN_num_bytes(x), 256);
		r->l[i] = (size_t)BN_bn2bin(x, r->b[i]);
		BN_free(x);
	}
}

/* Sign "msg" with the card's signing key (PW1 81 verified here). */
static void
card_sign_rsa(struct opgp_card *c, EVP_PKEY *pub, const char *msg)
{
	uint8_t di[51];

	digestinfo(msg, di);
	verify(c, 0x81, "123456");
	ck_assert_uint_eq(xe(c, 0x2A, 0x9E, 0x9A, di, 51), SW_OK);
	ck_assert_uint_eq(rdlen, 256);
	rsa_verify(pub, rdata, rdlen, msg);
}

START_TEST(test_import_rsa)
{
	struct opgp_card *c = new_card();
	EVP_PKEY *k = EVP_RSA_gen(2048), *pub; /* one keygen: valgrind runs */
	struct rsa_parts r;
	static const uint8_t std_tags[3] = {0x91, 0x92, 0x93};
	static const uint8_t all_tags[7] = {
	    0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97};
	const uint8_t *v[7];
	size_t l[7], tl;
	uint8_t t[1500], e4[4] = {0, 0, 0, 0}, cmd[300];
	int i;

	ck_assert_ptr_nonnull(k);
	rsa_split(k, &r);
	/* e right-justified to the attribute's 32 bits, as GnuPG sends it */
	memcpy(e4 + 4 - r.l[0], r.b[0], r.l[0]);
	v[0] = e4;
	l[0] = 4;
	for (i = 1; i < 7; i++) {
		v[i] = r.b[i];
		l[i] = r.l[i];
	}
	ck_assert_uint_eq(l[1], 128);
	ck_assert_uint_eq(l[2], 128);
	tl = tmpl(t, 0xB6, 3, std_tags, v, l);

	sel(c);
	ck_assert_uint_eq(xe(c, 0xDB, 0x3F, 0xFF, t, tl), 0x6982);
	verify(c, 0x83, "12345678");
	ck_assert_uint_eq(xe(c, 0xDB, 0x3F, 0xFE, t, tl), 0x6A86);
	ck_assert_uint_eq(xe(c, 0xDB, 0x3F, 0xFF, t, tl), SW_OK);
	ck_assert_uint_eq(xe(c, 0xCA, 0x00, 0xDE, NULL, 0), SW_OK);
	ck_assert_mem_eq(rdata, "\x01\x02\x02\x00\x03\x00", 6);
	ck_assert_uint_eq(xe(c, 0x47, 0x81, 0, "\xB6\x00", 2), SW_OK);
	pub = pub_from_7f49(rdata, rdlen, true);
	ck_assert_int_eq(EVP_PKEY_eq(pub, k), 1);
	card_sign_rsa(c, k, "imported rsa");
	ck_assert_uint_eq(sigcount(c), 1);
	EVP_PKEY_free(pub);

	/* CRT form with n, to the authentication slot, by command chaining
	 * with short APDUs (the template is ~900 bytes) */
	tl = tmpl(t, 0xA4, 7, all_tags, v, l);
	ck_assert_uint_gt(tl, 255);
	for (i = 0; (size_t)i * 200 < tl; i++) {
		size_t n =
		    tl - (size_t)i * 200 > 200 ? 200 : tl - (size_t)i * 200;
		bool last = (size_t)i * 200 + n == tl;

		ck_assert_uint_eq(raw(c, cmd,
		                      mk(cmd, last ? 0x00 : 0x10, 0xDB, 0x3F,
		                          0xFF, t + i * 200, n, -1, false)),
		    SW_OK);
	}
	ck_assert_uint_eq(xe(c, 0x47, 0x81, 0, "\xA4\x00", 2), SW_OK);
	pub = pub_from_7f49(rdata, rdlen, true);
	ck_assert_int_eq(EVP_PKEY_eq(pub, k), 1);
	EVP_PKEY_free(pub);

	/* malformed and inconsistent templates: 6A80, the key stays */
	{
		const uint8_t *bad_v[7];
		size_t bad_l[7];
		uint8_t b[1500], q127[127], t2[4], n2[256], q2[128];

		memcpy(bad_v, v, sizeof bad_v);
		memcpy(bad_l, l, sizeof bad_l);
		/* an n that is not p*q */
		memcpy(n2, v[6], 256);
		n2[200] ^= 0x10;
		bad_v[6] = n2;
		ck_assert_uint_eq(xe(c, 0xDB, 0x3F, 0xFF, b,
		                      tmpl(b, 0xB6, 7, all_tags, bad_v, bad_l)),
		    0x6A80);
		bad_v[6] = v[6];
		/* another q: the given u, dp, dq no longer match */
		memcpy(q2, v[2], 128);
		q2[100] ^= 0x01;
		bad_v[2] = q2;
		ck_assert_uint_eq(xe(c, 0xDB, 0x3F, 0xFF, b,
		                      tmpl(b, 0xB6, 6, all_tags, bad_v, bad_l)),
		    0x6A80);
		bad_v[2] = v[2];
		/* p = q */
		bad_v[2] = v[1];
		ck_assert_uint_eq(xe(c, 0xDB, 0x3F, 0xFF, b,
		                      tmpl(b, 0xB6, 3, std_tags, bad_v, bad_l)),
		    0x6A80);
		bad_v[2] = v[2];
		/* a composite "prime": q + 2 is even */
		memcpy(q127, v[2], 127);
		{
			uint8_t qq[128];

			memcpy(qq, v[2], 128);
			qq[127] ^= 0x01; /* even, p*q still 2048 bits */
			bad_v[2] = qq;
			ck_assert_uint_eq(
			    xe(c, 0xDB, 0x3F, 0xFF, b,
			        tmpl(b, 0xB6, 3, std_tags, bad_v, bad_l)),
			    0x6A80);
		}
		bad_v[2] = v[2];
		/* q one byte short */
		bad_v[2] = q127;
		bad_l[2] = 127;
		ck_assert_uint_eq(xe(c, 0xDB, 0x3F, 0xFF, b,
		                      tmpl(b, 0xB6, 3, std_tags, bad_v, bad_l)),
		    0x6A80);
		bad_v[2] = v[2];
		bad_l[2] = l[2];
		/* e longer than the attribute's 32 bits */
		{
			uint8_t e5[5] = {0, 0, 1, 0, 1};

			bad_v[0] = e5;
			bad_l[0] = 5;
			ck_assert_uint_eq(
			    xe(c, 0xDB, 0x3F, 0xFF, b,
			        tmpl(b, 0xB6, 3, std_tags, bad_v, bad_l)),
			    0x6A80);
			bad_v[0] = v[0];
			bad_l[0] = l[0];
		}
		/* even e */
		t2[0] = 0;
		t2[1] = 1;
		t2[2] = 0;
		t2[3] = 2;
		bad_v[0] = t2;
		ck_assert_uint_eq(xe(c, 0xDB, 0x3F, 0xFF, b,
		                      tmpl(b, 0xB6, 3, std_tags, bad_v, bad_l)),
		    0x6A80);
		bad_v[0] = v[0];
		/* missing q; ECC scalar tag on an RSA slot; bad CRT */
		ck_assert_uint_eq(xe(c, 0xDB, 0x3F, 0xFF, b,
		                      tmpl(b, 0xB6, 2, std_tags, v, l)),
		    0x6A80);
		{
			static const uint8_t ectag[4] = {
			    0x91, 0x92, 0x93, 0x99};

			ck_assert_uint_eq(xe(c, 0xDB, 0x3F, 0xFF, b,
			                      tmpl(b, 0xB6, 4, ectag, v, l)),
			    0x6A80);
		}
		ck_assert_uint_eq(xe(c, 0xDB, 0x3F, 0xFF, b,
		                      tmpl(b, 0xB7, 3, std_tags, v, l)),
		    0x6A80);
	}
	/* the signing key is still the imported one */
	card_sign_rsa(c, k, "still there");
	EVP_PKEY_free(k);
	opgp_card_close(&c);
}
END_TEST

START_TEST(test_import_ec)
{
	struct opgp_card *c = new_card();
	EVP_PKEY *k = EVP_EC_gen("P-256"), *pub;
	static const uint8_t tags[2] = {0x92, 0x99};
	BIGNUM *d = NULL;
	uint8_t db[32], pt[65], h[32], t[300];
	const uint8_t *v[2] = {db, pt};
	size_t l[2] = {32, 65}, ptl = 0, tl;
	const char *msg = "imported p-256";

	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, &d), 1);
	ck_assert_int_eq(BN_bn2binpad(d, db, 32), 32);
	BN_free(d);
	ck_assert_int_eq(EVP_PKEY_get_octet_string_param(
	                     k, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt, &ptl),
	    1);
	ck_assert_uint_eq(ptl, 65);

	sel(c);
	verify(c, 0x83, "12345678");
	/* RSA attributes: an EC template does not fit */
	tl = tmpl(t, 0xB6, 1, tags, v, l);
	ck_assert_uint_eq(xe(c, 0xDB, 0x3F, 0xFF, t, tl), 0x6A80);
	ck_assert_uint_eq(xs(c, 0xDA, 0x00, 0xC1, attr_p256_sig, 9), SW_OK);
	ck_assert_uint_eq(xs(c, 0xDB, 0x3F, 0xFF, t, tl), SW_OK);
	ck_assert_uint_eq(xe(c, 0x47, 0x81, 0, "\xB6\x00", 2), SW_OK);
	pub = pub_from_7f49(rdata, rdlen, false);
	ck_assert_int_eq(EVP_PKEY_eq(pub, k), 1);
	EVP_PKEY_free(pub);
	EVP_Digest(msg, strlen(msg), h, NULL, EVP_sha256(), NULL);
	verify(c, 0x81, "123456");
	ck_assert_uint_eq(xs(c, 0x2A, 0x9E, 0x9A, h, 32), SW_OK);
	ec_verify(k, rdata, rdlen, msg);

	/* with the public point (attribute import format FF) */
	tl = tmpl(t, 0xB6, 2, tags, v, l);
	ck_assert_uint_eq(xs(c, 0xDB, 0x3F, 0xFF, t, tl), SW_OK);
	/* a point that is not d*G; a scalar of 31 bytes, zero, >= order */
	pt[64] ^= 1;
	ck_assert_uint_eq(
	    xs(c, 0xDB, 0x3F, 0xFF, t, tmpl(t, 0xB6, 2, tags, v, l)), 0x6A80);
	pt[64] ^= 1;
	l[0] = 31;
	ck_assert_uint_eq(
	    xs(c, 0xDB, 0x3F, 0xFF, t, tmpl(t, 0xB6, 1, tags, v, l)), 0x6A80);
	l[0] = 32;
	memset(db, 0, 32);
	ck_assert_uint_eq(
	    xs(c, 0xDB, 0x3F, 0xFF, t, tmpl(t, 0xB6, 1, tags, v, l)), 0x6A80);
	memset(db, 0xFF, 32);
	ck_assert_uint_eq(
	    xs(c, 0xDB, 0x3F, 0xFF, t, tmpl(t, 0xB6, 1, tags, v, l)), 0x6A80);
	/* the key is still the imported one */
	verify(c, 0x81, "123456");
	ck_assert_uint_eq(xs(c, 0x2A, 0x9E, 0x9A, h, 32), SW_OK);
	ec_verify(k, rdata, rdlen, msg);
	EVP_PKEY_free(k);
	opgp_card_close(&c);
}
END_TEST

/* Structure errors of the extended header list; every truncation of a
 * good template; each answered 6A80 (never a crash, never a key). */
START_TEST(test_import_malformed)
{
	struct opgp_card *c = new_card();
	static const uint8_t tags[1] = {0x92};
	uint8_t d[32], t[300], b[300];
	const uint8_t *v[1] = {d};
	size_t l[1] = {32}, tl, n;
	/* each a complete 4D template but for the flaw named */
	static const char *const bad[] = {
	    "4D00",                               /* empty */
	    "4C03B60000",                         /* not 4D */
	    "4D04B600",                           /* 4D longer than the data */
	    "4D02B60000",                         /* bytes after 4D */
	    "4D02B600",                           /* CRT only */
	    "4D077F48029220B600",                 /* CRT not first */
	    "4D07B6007F48039220",                 /* 7F48 longer than it is */
	    "4D0AB6007F480292205F4800",           /* values shorter than list */
	    "4D09B6007F4801925F4800",             /* list: length missing */
	    "4D0AB6007F48029F205F4800",           /* list: 2-byte tag */
	    "4D0BB6007F480290015F480100",         /* list: tag 90 */
	    "4D0EB6007F4804920192015F48020102",   /* tag 92 twice */
	    "4D0AB6007F480292005F4800",           /* a zero length */
	    "4D0BB6007F48039282005F4800",         /* 82 with one byte */
	    "4D0CB6007F480292015F48020102",       /* values left over */
	    "4D0FB6007F480292015F4801015F480101", /* 5F48 twice */
	    "4D0DB6007F480292015F4801019000",     /* a DO after 5F48 */
	};
	size_t i;

	memset(d, 0x11, sizeof d);
	sel(c);
	verify(c, 0x83, "12345678");
	ck_assert_uint_eq(xs(c, 0xDA, 0x00, 0xC1, attr_p256_sig, 9), SW_OK);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *h = bad[i];
		size_t hl = strlen(h);

		for (n = 0; n * 2 + 1 < hl; n++) {
			unsigned x;

			if (sscanf(h + n * 2, "%2x", &x) != 1)
				break;
			b[n] = (uint8_t)x;
		}
		ck_assert_msg(xs(c, 0xDB, 0x3F, 0xFF, b, n) == 0x6A80,
		    "template %zu (%s)", i, h);
	}
	ck_assert_uint_eq(xe(c, 0x47, 0x81, 0, "\xB6\x00", 2), 0x6A88);
	tl = tmpl(t, 0xB6, 1, tags, v, l);
	for (n = 1; n < tl; n++)
		ck_assert_msg(xs(c, 0xDB, 0x3F, 0xFF, t, n) == 0x6A80,
		    "truncated to %zu", n);
	ck_assert_uint_eq(xs(c, 0xDB, 0x3F, 0xFF, NULL, 0), 0x6A80);
	ck_assert_uint_eq(xe(c, 0x47, 0x81, 0, "\xB6\x00", 2), 0x6A88);
	ck_assert_uint_eq(xs(c, 0xDB, 0x3F, 0xFF, t, tl), SW_OK);
	ck_assert_uint_eq(xe(c, 0x47, 0x81, 0, "\xB6\x00", 2), SW_OK);
	opgp_card_close(&c);
}
END_TEST

/* Random APDUs of every length 0..300; the first bytes are often
 * plausible so that the command handlers see the data, with every PIN
 * verified so that PUT DATA and the key commands run. */
START_TEST(test_fuzz)
{
	static const uint8_t ins[] = {0xA4, 0xCA, 0xDA, 0x20, 0x24, 0x2C,
				      0x47, 0x2A, 0x88, 0x84, 0xC0, 0xE6,
				      0x44, 0xDB, 0xCB, 0x00};
	struct opgp_card *c = new_card();
	uint8_t cmd[400], resp[300];
	size_t len, rl;
	unsigned it, seed = 12345;
	int i;

	for (len = 0; len <= 300; len++) {
		for (it = 0; it < 60; it++) {
			if (it % 20 == 0) {
				/* PINs may have been blocked or changed by
				 * the random commands: no assertions here */
				opgp_card_reset(c);
				xs(c, 0xA4, 0x04, 0x00, aid, sizeof aid);
				xs(c, 0x20, 0, 0x83, "12345678", 8);
				xs(c, 0x20, 0, 0x81, "123456", 6);
				xs(c, 0x20, 0, 0x82, "123456", 6);
			}
			for (i = 0; i < (int)len; i++)
				cmd[i] = (uint8_t)rand_r(&seed);
			if (len >= 2 && it % 3) {
				cmd[0] = (uint8_t)(it % 4 ? 0x00 : 0x10);
				cmd[1] = ins[(unsigned)rand_r(&seed) %
					     sizeof ins];
				/* never generate RSA keys: slow */
				if (cmd[1] == 0x47 && len > 2)
					cmd[2] = 0x81;
				if (cmd[1] == 0xE6)
					cmd[1] = 0xCA;
			}
			if (len >= 6 && it % 2) { /* consistent short Lc */
				cmd[4] = (uint8_t)(len - 5 > 255 ? 255
								 : len - 5);
			}
			rl = 0;
			ck_assert_int_eq(opgp_card_apdu(c, cmd, len, resp,
							(it % 5) ? sizeof resp
								 : 2 + it % 7,
							&rl),
					 0);
			ck_assert_uint_ge(rl, 2);
			ck_assert_uint_le(rl, sizeof resp);
		}
	}
	opgp_card_close(&c);
}
END_TEST

static Suite *openpgp_suite(void)
{
	Suite *s = suite_create("openpgp");
	TCase *tc = tcase_create("card");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_atr);
	tcase_add_test(tc, test_select);
	tcase_add_test(tc, test_get_data);
	tcase_add_test(tc, test_verify);
	tcase_add_test(tc, test_change_pin);
	tcase_add_test(tc, test_rsa);
	tcase_add_test(tc, test_ec);
	tcase_add_test(tc, test_chaining);
	tcase_add_test(tc, test_put_data);
	tcase_add_test(tc, test_persistence);
	tcase_add_test(tc, test_factory_reset);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_import_rsa);
	tcase_add_test(tc, test_import_ec);
	tcase_add_test(tc, test_import_malformed);
	tcase_add_test(tc, test_fuzz);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(openpgp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
