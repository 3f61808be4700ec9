/*
 * openccid - OpenPGP card model (OpenPGP smart card application v3.4).
 *
 * Clean-room: written from the public specification's tag and status word
 * tables; no code from GnuPG or other card emulators.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "card.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

/* Status words (ISO 7816-4 §5.6, OpenPGP card spec §7.4). */
#define SW_OK 0x9000
#define SW_WARN_TERMINATED 0x6285
#define SW_WRONG_LENGTH 0x6700
#define SW_LAST_CHAIN_EXPECTED 0x6883
#define SW_SECURITY 0x6982
#define SW_BLOCKED 0x6983
#define SW_CONDITIONS 0x6985
#define SW_WRONG_DATA 0x6A80
#define SW_FILE_NOT_FOUND 0x6A82
#define SW_WRONG_P1P2 0x6A86
#define SW_NOT_FOUND 0x6A88
#define SW_INS 0x6D00
#define SW_CLA 0x6E00
#define SW_UNKNOWN 0x6F00

#define STATE_MAGIC "openccid-openpgp-state 1"
#define STATE_MAX_BYTES (256 * 1024)

#define PIN_MAX 127
#define PW1_MIN 6
#define PW3_MIN 8
#define RC_MIN 8
#define TRIES_MAX 3
#define CERT_MAX 2048
#define SMALL_MAX 255
#define CHALLENGE_MAX 255
#define DATA_MAX (OPGP_MAX_CMD)

/* Volatile access status bits. */
#define ACC_PW1_81 0x01
#define ACC_PW1_82 0x02
#define ACC_PW3 0x04

enum { KEY_SIG = 0, KEY_DEC = 1, KEY_AUT = 2 };
enum { TRY_PW1 = 0, TRY_RC = 1, TRY_PW3 = 2 };

struct blob {
	size_t len;
	uint8_t d[SMALL_MAX];
};

struct opgp_card {
	char *path;

	/* persistent */
	uint8_t serial[4];
	struct blob pw1, pw3, rc;
	uint8_t tries[3];
	uint8_t pw1_multi; /* C4 byte 1: PW1 valid for several CDS */
	uint32_t sigcount;
	bool terminated;
	struct blob name, lang, sex, url, login;
	struct blob priv[4];
	size_t cert_len;
	uint8_t cert[CERT_MAX];
	struct blob attr[3];
	struct blob fp[3], cafp[3], gentime[3];
	uint8_t keyinfo[3]; /* 00 none, 01 generated, 02 imported */
	EVP_PKEY *key[3];

	/* volatile */
	bool selected;
	uint8_t access;
	bool chaining;
	uint8_t chain_hdr[3]; /* INS P1 P2 of the chain */
	size_t chain_len;
	uint8_t chain[DATA_MAX];
	size_t pend_len, pend_off;
	uint8_t pend[OPGP_MAX_RESP];
	uint16_t pend_sw;
};

/* Full AID: RID D2 76 00 01 24, application 01, version 3.4,
 * manufacturer FFFE (unmanaged range), serial, RFU. */
static const uint8_t aid_prefix[6] = {0xD2, 0x76, 0x00, 0x01, 0x24, 0x01};
static const uint8_t oid_p256[8] = {0x2A, 0x86, 0x48, 0xCE,
				    0x3D, 0x03, 0x01, 0x07};
static const uint8_t attr_rsa2048[6] = {0x01, 0x08, 0x00, 0x00, 0x20, 0x00};

/* ---------------------------------------------------------------- util */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void blob_set(struct blob *b, const void *d, size_t len)
{
	if (len > sizeof b->d)
		len = sizeof b->d;
	if (len)
		memcpy(b->d, d, len);
	b->len = len;
}

static void build_aid(const struct opgp_card *c, uint8_t aid[16])
{
	memcpy(aid, aid_prefix, 6);
	aid[6] = 0x03;
	aid[7] = 0x04;
	aid[8] = 0xFF;
	aid[9] = 0xFE;
	memcpy(aid + 10, c->serial, 4);
	aid[14] = 0x00;
	aid[15] = 0x00;
}

/* Historical bytes: category 00, card service data (31 C5), card
 * capabilities (73 C0 01 C0: DF selection by full/partial name, command
 * chaining, extended Lc/Le), status indicator LCS + 90 00. */
static size_t build_hist(const struct opgp_card *c, uint8_t h[10])
{
	static const uint8_t base[10] = {0x00, 0x31, 0xC5, 0x73, 0xC0,
					 0x01, 0xC0, 0x05, 0x90, 0x00};

	memcpy(h, base, sizeof base);
	if (c->terminated)
		h[7] = 0x03;
	return sizeof base;
}

/* Bounded output buffer; an overflow is sticky and reported once. */
struct wbuf {
	uint8_t *p;
	size_t cap;
	size_t len;
	bool ovf;
};

static void w_bytes(struct wbuf *w, const void *d, size_t n)
{
	if (w->ovf || n > w->cap - w->len) {
		w->ovf = true;
		return;
	}
	if (n)
		memcpy(w->p + w->len, d, n);
	w->len += n;
}

static void w_byte(struct wbuf *w, uint8_t b)
{
	w_bytes(w, &b, 1);
}

static void w_tag(struct wbuf *w, unsigned tag)
{
	if (tag > 0xFF)
		w_byte(w, (uint8_t)(tag >> 8));
	w_byte(w, (uint8_t)tag);
}

/* BER-TLV length (ISO 7816-4 §5.2.2.2), up to 65535. */
static void w_len(struct wbuf *w, size_t n)
{
	if (n < 0x80) {
		w_byte(w, (uint8_t)n);
	} else if (n < 0x100) {
		w_byte(w, 0x81);
		w_byte(w, (uint8_t)n);
	} else if (n < 0x10000) {
		w_byte(w, 0x82);
		w_byte(w, (uint8_t)(n >> 8));
		w_byte(w, (uint8_t)n);
	} else {
		w->ovf = true;
	}
}

static void w_tlv(struct wbuf *w, unsigned tag, const void *d, size_t n)
{
	w_tag(w, tag);
	w_len(w, n);
	w_bytes(w, d, n);
}

/* Read one BER-TLV at *off in buf[0..len): tag (1 or 2 bytes), length
 * (1..3 bytes), value bounds checked.  Returns false when malformed. */
static bool r_tlv(const uint8_t *buf, size_t len, size_t *off, unsigned *tag,
		  const uint8_t **val, size_t *vlen)
{
	size_t o = *off, n;
	unsigned t;

	if (o >= len)
		return false;
	t = buf[o++];
	if ((t & 0x1F) == 0x1F) {
		if (o >= len)
			return false;
		t = (t << 8) | buf[o++];
	}
	if (o >= len)
		return false;
	n = buf[o++];
	if (n == 0x81) {
		if (o >= len)
			return false;
		n = buf[o++];
	} else if (n == 0x82) {
		if (len - o < 2)
			return false;
		n = ((size_t)buf[o] << 8) | buf[o + 1];
		o += 2;
	} else if (n > 0x7F) {
		return false;
	}
	if (n > len - o)
		return false;
	*tag = t;
	*val = buf + o;
	*vlen = n;
	*off = o + n;
	return true;
}

/* --------------------------------------------------------- data objects */

/* Simple DOs that PUT DATA writes and GET DATA reads as they are. */
enum acc { A_ALWAYS, A_PW1_82, A_PW3, A_NEVER };

struct field {
	unsigned tag;
	const char *key; /* name in the state file */
	uint8_t *buf;
	size_t *lenp;
	size_t min, max;
	enum acc rd, wr;
};

#define NFIELDS 27

static size_t card_fields(struct opgp_card *c, struct field f[NFIELDS])
{
	static const char *const fpk[3] = {"fp1", "fp2", "fp3"};
	static const char *const cafpk[3] = {"cafp1", "cafp2", "cafp3"};
	static const char *const timek[3] = {"time1", "time2", "time3"};
	static const char *const privk[4] = {"priv1", "priv2", "priv3",
					     "priv4"};
	static const enum acc privrd[4] = {A_ALWAYS, A_ALWAYS, A_PW1_82,
					   A_PW3};
	static const enum acc privwr[4] = {A_PW1_82, A_PW3, A_PW1_82, A_PW3};
	size_t n = 0;
	int i;

#define FIELD(t, k, b, mn, mx, r, wr_)                                        \
	f[n++] = (struct field){(t), (k), (b)->d, &(b)->len, (mn), (mx), (r), \
				(wr_)}
	FIELD(0x5B, "name", &c->name, 0, 39, A_ALWAYS, A_PW3);
	FIELD(0x5F2D, "lang", &c->lang, 0, 8, A_ALWAYS, A_PW3);
	FIELD(0x5F35, "sex", &c->sex, 0, 1, A_ALWAYS, A_PW3);
	FIELD(0x5F50, "url", &c->url, 0, SMALL_MAX, A_ALWAYS, A_PW3);
	FIELD(0x5E, "login", &c->login, 0, SMALL_MAX, A_ALWAYS, A_PW3);
	for (i = 0; i < 4; i++)
		FIELD(0x0101 + (unsigned)i, privk[i], &c->priv[i], 0,
		      SMALL_MAX, privrd[i], privwr[i]);
	for (i = 0; i < 3; i++) {
		FIELD(0xC7 + (unsigned)i, fpk[i], &c->fp[i], 20, 20, A_NEVER,
		      A_PW3);
		FIELD(0xCA + (unsigned)i, cafpk[i], &c->cafp[i], 20, 20,
		      A_NEVER, A_PW3);
		FIELD(0xCE + (unsigned)i, timek[i], &c->gentime[i], 4, 4,
		      A_NEVER, A_PW3);
	}
#undef FIELD
	f[n++] = (struct field){0x7F21, "cert",	 c->cert, &c->cert_len, 0,
				CERT_MAX, A_ALWAYS, A_PW3};
	return n;
}

static void set_defaults(struct opgp_card *c)
{
	int i;
	EVP_PKEY *keys[3];

	for (i = 0; i < 3; i++)
		keys[i] = c->key[i];
	memset(&c->pw1, 0, offsetof(struct opgp_card, selected) -
				   offsetof(struct opgp_card, pw1));
	for (i = 0; i < 3; i++) {
		EVP_PKEY_free(keys[i]);
		c->key[i] = NULL;
		blob_set(&c->attr[i], attr_rsa2048, sizeof attr_rsa2048);
	}
	blob_set(&c->pw1, "123456", 6);
	blob_set(&c->pw3, "12345678", 8);
	c->tries[TRY_PW1] = TRIES_MAX;
	c->tries[TRY_RC] = 0;
	c->tries[TRY_PW3] = TRIES_MAX;
	c->pw1_multi = 0;
	blob_set(&c->sex, "9", 1);
}

/* ------------------------------------------------------------ state I/O */

static void hex_put(FILE *f, const char *key, const uint8_t *d, size_t n)
{
	size_t i;

	fprintf(f, "%s=", key);
	for (i = 0; i < n; i++)
		fprintf(f, "%02x", d[i]);
	fputc('\n', f);
}

static int hex_val(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decode hex into out[0..cap); false on odd length, bad digit, too long. */
static bool hex_get(const char *s, size_t slen, uint8_t *out, size_t cap,
		    size_t *n)
{
	size_t i;

	if (slen % 2 || slen / 2 > cap)
		return false;
	for (i = 0; i < slen / 2; i++) {
		int hi = hex_val((unsigned char)s[2 * i]);
		int lo = hex_val((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*n = slen / 2;
	return true;
}

static int state_save(struct opgp_card *c)
{
	struct field f[NFIELDS];
	size_t nf, i;
	char *tmp;
	FILE *fp;
	int fd, ok;
	static const char *const attrk[3] = {"attr1", "attr2", "attr3"};
	static const char *const keyk[3] = {"key1", "key2", "key3"};

	if (!c->path)
		return 0;
	tmp = malloc(strlen(c->path) + 5);
	if (!tmp)
		return -1;
	strcpy(tmp, c->path);
	strcat(tmp, ".tmp");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	fp = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!fp) {
		if (fd >= 0)
			close(fd);
		free(tmp);
		return -1;
	}
	fprintf(fp, "%s\n", STATE_MAGIC);
	hex_put(fp, "serial", c->serial, 4);
	hex_put(fp, "pw1", c->pw1.d, c->pw1.len);
	hex_put(fp, "pw3", c->pw3.d, c->pw3.len);
	hex_put(fp, "rc", c->rc.d, c->rc.len);
	hex_put(fp, "tries", c->tries, 3);
	fprintf(fp, "pw1_multi=%u\nsigcount=%lu\nterminated=%u\n",
		(unsigned)c->pw1_multi, (unsigned long)c->sigcount,
		(unsigned)c->terminated);
	hex_put(fp, "keyinfo", c->keyinfo, 3);
	nf = card_fields(c, f);
	for (i = 0; i < nf; i++)
		hex_put(fp, f[i].key, f[i].buf, *f[i].lenp);
	for (i = 0; i < 3; i++) {
		hex_put(fp, attrk[i], c->attr[i].d, c->attr[i].len);
		if (c->key[i]) {
			unsigned char *der = NULL;
			int n = i2d_PrivateKey(c->key[i], &der);

			if (n <= 0) {
				fclose(fp);
				unlink(tmp);
				free(tmp);
				return -1;
			}
			hex_put(fp, keyk[i], der, (size_t)n);
			OPENSSL_clear_free(der, (size_t)n);
		}
	}
	ok = fflush(fp) == 0 && fsync(fileno(fp)) == 0;
	ok = (fclose(fp) == 0) && ok;
	if (!ok || rename(tmp, c->path) != 0) {
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

static EVP_PKEY *key_from_der(const uint8_t *d, size_t n)
{
	const unsigned char *p = d;

	if (n > 0x7FFFFFFF)
		return NULL;
	return d2i_AutoPrivateKey(NULL, &p, (long)n);
}

static bool parse_uint(const char *s, size_t n, unsigned long max,
		       unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 10)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* One "key=value" line; false if malformed. */
static bool state_line(struct opgp_card *c, const char *k, size_t klen,
		       const char *v, size_t vlen, uint8_t *tmp, size_t tcap)
{
	struct field f[NFIELDS];
	size_t nf, i, n;
	unsigned long u;

#define KEY_IS(s) (klen == strlen(s) && memcmp(k, s, klen) == 0)
	if (KEY_IS("pw1_multi")) {
		if (!parse_uint(v, vlen, 1, &u))
			return false;
		c->pw1_multi = (uint8_t)u;
		return true;
	}
	if (KEY_IS("sigcount")) {
		if (!parse_uint(v, vlen, 0xFFFFFF, &u))
			return false;
		c->sigcount = (uint32_t)u;
		return true;
	}
	if (KEY_IS("terminated")) {
		if (!parse_uint(v, vlen, 1, &u))
			return false;
		c->terminated = u != 0;
		return true;
	}
	if (!hex_get(v, vlen, tmp, tcap, &n))
		return false;
	if (KEY_IS("serial"))
		return n == 4 && (memcpy(c->serial, tmp, 4), true);
	if (KEY_IS("tries")) {
		if (n != 3 || tmp[0] > TRIES_MAX || tmp[1] > TRIES_MAX ||
		    tmp[2] > TRIES_MAX)
			return false;
		memcpy(c->tries, tmp, 3);
		return true;
	}
	if (KEY_IS("keyinfo")) {
		if (n != 3 || tmp[0] > 2 || tmp[1] > 2 || tmp[2] > 2)
			return false;
		memcpy(c->keyinfo, tmp, 3);
		return true;
	}
	if (KEY_IS("pw1") || KEY_IS("pw3") || KEY_IS("rc")) {
		struct blob *b = KEY_IS("pw1")	 ? &c->pw1
				 : KEY_IS("pw3") ? &c->pw3
						 : &c->rc;
		if (n > PIN_MAX)
			return false;
		blob_set(b, tmp, n);
		return true;
	}
	for (i = 0; i < 3; i++) {
		char name[8];

		snprintf(name, sizeof name, "attr%zu", i + 1);
		if (KEY_IS(name)) {
			if (n < 1 || n > SMALL_MAX)
				return false;
			blob_set(&c->attr[i], tmp, n);
			return true;
		}
		snprintf(name, sizeof name, "key%zu", i + 1);
		if (KEY_IS(name)) {
			EVP_PKEY *pk = key_from_der(tmp, n);

			if (!pk)
				return false;
			EVP_PKEY_free(c->key[i]);
			c->key[i] = pk;
			return true;
		}
	}
	nf = card_fields(c, f);
	for (i = 0; i < nf; i++) {
		if (KEY_IS(f[i].key)) {
			if (n > f[i].max || (n && n < f[i].min))
				return false;
			if (n)
				memcpy(f[i].buf, tmp, n);
			*f[i].lenp = n;
			return true;
		}
	}
#undef KEY_IS
	return true; /* unknown keys: ignored (newer state files) */
}

static int state_load(struct opgp_card *c, const char *text, size_t len,
		      char *err, size_t errlen)
{
	size_t off = 0, lineno = 0;
	uint8_t *tmp = malloc(STATE_MAX_BYTES / 2);

	if (!tmp) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	while (off < len) {
		const char *line = text + off, *eq, *nl;
		size_t llen;

		nl = memchr(line, '\n', len - off);
		llen = nl ? (size_t)(nl - line) : len - off;
		off += llen + (nl ? 1 : 0);
		lineno++;
		if (lineno == 1) {
			if (llen != strlen(STATE_MAGIC) ||
			    memcmp(line, STATE_MAGIC, llen) != 0) {
				set_err(err, errlen, "%s: not a state file",
					c->path);
				free(tmp);
				return -1;
			}
			continue;
		}
		if (llen == 0 || line[0] == '#')
			continue;
		eq = memchr(line, '=', llen);
		if (!eq ||
		    !state_line(c, line, (size_t)(eq - line), eq + 1,
				llen - (size_t)(eq - line) - 1, tmp,
				STATE_MAX_BYTES / 2)) {
			set_err(err, errlen, "%s:%zu: malformed line", c->path,
				lineno);
			free(tmp);
			return -1;
		}
	}
	free(tmp);
	if (lineno == 0) {
		set_err(err, errlen, "%s: empty state file", c->path);
		return -1;
	}
	return 0;
}

static int read_file(const char *path, char **out, size_t *outlen, char *err,
		     size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f) {
		if (errno != ENOENT)
			set_err(err, errlen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? 1 : -1;
	}
	buf = malloc(STATE_MAX_BYTES + 1);
	if (!buf) {
		fclose(f);
		set_err(err, errlen, "out of memory");
		return -1;
	}
	n = fread(buf, 1, STATE_MAX_BYTES + 1, f);
	if (ferror(f) || n > STATE_MAX_BYTES) {
		fclose(f);
		free(buf);
		set_err(err, errlen, "%s: unreadable or too large", path);
		return -1;
	}
	fclose(f);
	*out = buf;
	*outlen = n;
	return 0;
}

/* --------------------------------------------------------------- crypto */

static bool attr_is_rsa(const struct blob *a, unsigned *bits)
{
	unsigned n, e;

	if (a->len < 5 || a->len > 6 || a->d[0] != 0x01)
		return false;
	n = (unsigned)a->d[1] << 8 | a->d[2];
	e = (unsigned)a->d[3] << 8 | a->d[4];
	if (n != 2048 && n != 3072 && n != 4096)
		return false;
	if (e < 17 || e > 32)
		return false;
	if (a->len == 6 && a->d[5] != 0x00)
		return false; /* only the standard (e, p, q) import format */
	if (bits)
		*bits = n;
	return true;
}

/* P-256 with algorithm id 0x12 (ECDH, decryption key) or 0x13 (ECDSA,
 * signing/authentication keys), optional import-format byte 00/FF. */
static bool attr_is_p256(const struct blob *a, int slot)
{
	uint8_t want = slot == KEY_DEC ? 0x12 : 0x13;

	if (a->len != 9 && a->len != 10)
		return false;
	if (a->d[0] != want || memcmp(a->d + 1, oid_p256, 8) != 0)
		return false;
	return a->len == 9 || a->d[9] == 0x00 || a->d[9] == 0xFF;
}

static bool key_is_rsa(EVP_PKEY *k)
{
	return EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA;
}

static EVP_PKEY *key_generate(const struct blob *attr, int slot)
{
	unsigned bits;
	EVP_PKEY *pk = NULL;

	if (attr_is_rsa(attr, &bits)) {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);

		if (ctx && EVP_PKEY_keygen_init(ctx) > 0 &&
		    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) > 0 &&
		    EVP_PKEY_keygen(ctx, &pk) > 0) {
			EVP_PKEY_CTX_free(ctx);
			return pk;
		}
		EVP_PKEY_CTX_free(ctx);
		EVP_PKEY_free(pk);
		return NULL;
	}
	if (attr_is_p256(attr, slot))
		return EVP_EC_gen("P-256");
	return NULL;
}

/* 7F49 public key template: 81 n, 82 e (RSA) or 86 point (EC). */
static uint16_t key_public(EVP_PKEY *k, struct wbuf *w)
{
	uint8_t tmp[1100];
	struct wbuf in = {tmp, sizeof tmp, 0, false};

	if (key_is_rsa(k)) {
		BIGNUM *n = NULL, *e = NULL;
		uint8_t nb[512], eb[8];
		int nl, el;

		if (!EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) ||
		    !EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e) ||
		    BN_num_bytes(n) > (int)sizeof nb ||
		    BN_num_bytes(e) > (int)sizeof eb) {
			BN_free(n);
			BN_free(e);
			return SW_UNKNOWN;
		}
		nl = BN_bn2bin(n, nb);
		el = BN_bn2bin(e, eb);
		BN_free(n);
		BN_free(e);
		w_tlv(&in, 0x81, nb, (size_t)nl);
		w_tlv(&in, 0x82, eb, (size_t)el);
	} else {
		uint8_t pt[133];
		size_t pl = 0;

		if (!EVP_PKEY_get_octet_string_param(
			    k, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt, &pl))
			return SW_UNKNOWN;
		w_tlv(&in, 0x86, pt, pl);
	}
	if (in.ovf)
		return SW_UNKNOWN;
	w_tlv(w, 0x7F49, tmp, in.len);
	return w->ovf ? SW_UNKNOWN : SW_OK;
}

static size_t rsa_bytes(EVP_PKEY *k)
{
	int b = EVP_PKEY_get_bits(k);

	return b > 0 ? ((size_t)b + 7) / 8 : 0;
}

/* RSA: PKCS#1 v1.5 type 1 over a caller-built DigestInfo (input at most
 * 40 % of the modulus, spec §7.2.10).  ECDSA: the input is the hash; the
 * signature is r || s, each the size of the field. */
static uint16_t key_sign(EVP_PKEY *k, const uint8_t *in, size_t inlen,
			 struct wbuf *w)
{
	EVP_PKEY_CTX *ctx;
	uint8_t sig[600];
	size_t siglen = sizeof sig;
	uint16_t sw = SW_UNKNOWN;

	if (key_is_rsa(k)) {
		if (inlen == 0 || inlen > rsa_bytes(k) * 40 / 100)
			return SW_WRONG_LENGTH;
	} else if (inlen == 0 || inlen > 64) {
		return SW_WRONG_LENGTH;
	}
	ctx = EVP_PKEY_CTX_new(k, NULL);
	if (!ctx || EVP_PKEY_sign_init(ctx) <= 0)
		goto out;
	if (key_is_rsa(k) &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0)
		goto out;
	if (EVP_PKEY_sign(ctx, sig, &siglen, in, inlen) <= 0)
		goto out;
	if (key_is_rsa(k)) {
		w_bytes(w, sig, siglen);
	} else {
		const unsigned char *p = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
		uint8_t rs[64];

		if (!es)
			goto out;
		if (BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 32) != 32 ||
		    BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 32, 32) != 32) {
			ECDSA_SIG_free(es);
			goto out;
		}
		ECDSA_SIG_free(es);
		w_bytes(w, rs, sizeof rs);
	}
	sw = w->ovf ? SW_UNKNOWN : SW_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	return sw;
}

static uint16_t rsa_decipher(EVP_PKEY *k, const uint8_t *in, size_t inlen,
			     struct wbuf *w)
{
	EVP_PKEY_CTX *ctx;
	uint8_t out[512];
	size_t outlen = sizeof out;
	uint16_t sw = SW_WRONG_DATA;

	/* padding indicator 00, then exactly one modulus-sized cryptogram */
	if (inlen < 2 || in[0] != 0x00)
		return SW_WRONG_DATA;
	if (inlen - 1 != rsa_bytes(k))
		return SW_WRONG_LENGTH;
	ctx = EVP_PKEY_CTX_new(k, NULL);
	if (ctx && EVP_PKEY_decrypt_init(ctx) > 0 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 &&
	    EVP_PKEY_decrypt(ctx, out, &outlen, in + 1, inlen - 1) > 0) {
		w_bytes(w, out, outlen);
		sw = w->ovf ? SW_UNKNOWN : SW_OK;
	}
	OPENSSL_cleanse(out, sizeof out);
	EVP_PKEY_CTX_free(ctx);
	return sw;
}

/* ECDH: cipher DO A6 { 7F49 { 86 point } }; returns the shared x. */
static uint16_t ecdh_decipher(EVP_PKEY *k, const uint8_t *in, size_t inlen,
			      struct wbuf *w)
{
	const uint8_t *v, *v2, *pt;
	size_t vl, vl2, pl, off = 0, secl = 0;
	unsigned tag;
	EVP_PKEY *peer = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM params[3];
	uint8_t sec[66];
	uint16_t sw = SW_WRONG_DATA;

	if (!r_tlv(in, inlen, &off, &tag, &v, &vl) || tag != 0xA6 ||
	    off != inlen)
		return SW_WRONG_DATA;
	off = 0;
	if (!r_tlv(v, vl, &off, &tag, &v2, &vl2) || tag != 0x7F49 || off != vl)
		return SW_WRONG_DATA;
	off = 0;
	if (!r_tlv(v2, vl2, &off, &tag, &pt, &pl) || tag != 0x86 ||
	    off != vl2 || pl != 65 || pt[0] != 0x04)
		return SW_WRONG_DATA;

	params[0] = OSSL_PARAM_construct_utf8_string(
		OSSL_PKEY_PARAM_GROUP_NAME, (char *)(uintptr_t) "P-256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(
		OSSL_PKEY_PARAM_PUB_KEY, (void *)(uintptr_t)pt, pl);
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &peer, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		goto out;
	EVP_PKEY_CTX_free(ctx);
	ctx = EVP_PKEY_CTX_new(k, NULL);
	secl = sizeof sec;
	/* derive_set_peer validates the point (on the curve, not infinity) */
	if (!ctx || EVP_PKEY_derive_init(ctx) <= 0 ||
	    EVP_PKEY_derive_set_peer(ctx, peer) <= 0 ||
	    EVP_PKEY_derive(ctx, sec, &secl) <= 0)
		goto out;
	w_bytes(w, sec, secl);
	sw = w->ovf ? SW_UNKNOWN : SW_OK;
out:
	OPENSSL_cleanse(sec, sizeof sec);
	EVP_PKEY_free(peer);
	EVP_PKEY_CTX_free(ctx);
	return sw;
}

/* ------------------------------------------------------------- GET DATA */

static void put_c4(const struct opgp_card *c, struct wbuf *w)
{
	uint8_t b[7] = {c->pw1_multi, PIN_MAX,		PIN_MAX,
			PIN_MAX,      c->tries[TRY_PW1], c->tries[TRY_RC],
			c->tries[TRY_PW3]};
	w_bytes(w, b, sizeof b);
}

static void put_concat(struct wbuf *w, const struct blob b[3], size_t each)
{
	static const uint8_t zero[20];
	int i;

	for (i = 0; i < 3; i++) {
		if (b[i].len == each)
			w_bytes(w, b[i].d, each);
		else
			w_bytes(w, zero, each);
	}
}

/* Value (without tag and length) of a DO readable by GET DATA.
 * Returns SW_NOT_FOUND for tags the card does not know. */
static uint16_t do_value(struct opgp_card *c, unsigned tag, struct wbuf *w);

static void put_do(struct opgp_card *c, unsigned tag, struct wbuf *w)
{
	uint8_t tmp[600];
	struct wbuf in = {tmp, sizeof tmp, 0, false};

	if (do_value(c, tag, &in) != SW_OK || in.ovf) {
		w->ovf = true;
		return;
	}
	w_tlv(w, tag, tmp, in.len);
}

static uint16_t do_value(struct opgp_card *c, unsigned tag, struct wbuf *w)
{
	/* C0 extended capabilities (v3 layout): GET CHALLENGE, key import,
	 * PW status changeable, private DOs, algorithm attributes
	 * changeable; no SM;
	 * max challenge, max cardholder certificate, max special DO; no PIN
	 * block 2 format, no MSE. */
	static const uint8_t extcap[10] = {0x7C, 0x00, 0x00, CHALLENGE_MAX,
	    CERT_MAX >> 8, CERT_MAX & 0xFF, 0x00, SMALL_MAX, 0x00, 0x00};
	/* 7F66 extended length information: max command / response data */
	static const uint8_t extlen[8] = {0x02, 0x02, 0x08, 0x00,
					  0x02, 0x02, 0x08, 0x00};
	static const uint8_t gfm[3] = {0x81, 0x01, 0x00};
	uint8_t b[16];
	struct field f[NFIELDS];
	size_t nf, i;
	int k;

	switch (tag) {
	case 0x4F:
		build_aid(c, b);
		w_bytes(w, b, 16);
		return SW_OK;
	case 0x5F52:
		w_bytes(w, b, build_hist(c, b));
		return SW_OK;
	case 0x7F66:
		w_bytes(w, extlen, sizeof extlen);
		return SW_OK;
	case 0x7F74:
		w_bytes(w, gfm, sizeof gfm);
		return SW_OK;
	case 0xC0:
		w_bytes(w, extcap, sizeof extcap);
		return SW_OK;
	case 0xC1:
	case 0xC2:
	case 0xC3:
		w_bytes(w, c->attr[tag - 0xC1].d, c->attr[tag - 0xC1].len);
		return SW_OK;
	case 0xC4:
		put_c4(c, w);
		return SW_OK;
	case 0xC5:
		put_concat(w, c->fp, 20);
		return SW_OK;
	case 0xC6:
		put_concat(w, c->cafp, 20);
		return SW_OK;
	case 0xCD:
		put_concat(w, c->gentime, 4);
		return SW_OK;
	case 0xDE:
		for (k = 0; k < 3; k++) {
			w_byte(w, (uint8_t)(k + 1));
			w_byte(w, c->keyinfo[k]);
		}
		return SW_OK;
	case 0x93:
		w_byte(w, (uint8_t)(c->sigcount >> 16));
		w_byte(w, (uint8_t)(c->sigcount >> 8));
		w_byte(w, (uint8_t)c->sigcount);
		return SW_OK;
	case 0x7A:
		put_do(c, 0x93, w);
		return SW_OK;
	case 0x65:
		put_do(c, 0x5B, w);
		put_do(c, 0x5F2D, w);
		put_do(c, 0x5F35, w);
		return SW_OK;
	case 0x73: {
		static const unsigned dd[] = {0xC0, 0xC1, 0xC2, 0xC3, 0xC4,
					      0xC5, 0xC6, 0xCD, 0xDE};
		for (i = 0; i < sizeof dd / sizeof dd[0]; i++)
			put_do(c, dd[i], w);
		return SW_OK;
	}
	case 0x6E:
		put_do(c, 0x4F, w);
		put_do(c, 0x5F52, w);
		put_do(c, 0x7F66, w);
		put_do(c, 0x7F74, w);
		put_do(c, 0x73, w);
		return SW_OK;
	default:
		break;
	}
	nf = card_fields(c, f);
	for (i = 0; i < nf; i++) {
		if (f[i].tag != tag)
			continue;
		if (f[i].rd == A_NEVER)
			return SW_NOT_FOUND;
		if (f[i].rd == A_PW1_82 && !(c->access & ACC_PW1_82))
			return SW_SECURITY;
		if (f[i].rd == A_PW3 && !(c->access & ACC_PW3))
			return SW_SECURITY;
		w_bytes(w, f[i].buf, *f[i].lenp);
		return SW_OK;
	}
	return SW_NOT_FOUND;
}

/* ------------------------------------------------------------- commands */

struct apdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data;
	size_t lc;
	size_t ne; /* expected response length (absent Le: 256 / 65536) */
	bool ext;
};

/* ISO 7816-4 §5.1 command APDU cases 1, 2S/E, 3S/E, 4S/E. */
static uint16_t apdu_parse(const uint8_t *cmd, size_t len, struct apdu *a)
{
	memset(a, 0, sizeof *a);
	if (len < 4)
		return SW_WRONG_LENGTH;
	a->cla = cmd[0];
	a->ins = cmd[1];
	a->p1 = cmd[2];
	a->p2 = cmd[3];
	a->ne = 256;
	if (len == 4)
		return 0;
	if (len == 5) {
		a->ne = cmd[4] ? cmd[4] : 256;
		return 0;
	}
	if (cmd[4] != 0) {
		a->lc = cmd[4];
		a->data = cmd + 5;
		if (len == 5 + a->lc)
			return 0;
		if (len == 6 + a->lc) {
			a->ne = cmd[5 + a->lc] ? cmd[5 + a->lc] : 256;
			return 0;
		}
		return SW_WRONG_LENGTH;
	}
	/* extended: 00 followed by two length bytes */
	a->ext = true;
	a->ne = 65536;
	if (len < 7)
		return SW_WRONG_LENGTH;
	if (len == 7) {
		size_t le = (size_t)cmd[5] << 8 | cmd[6];

		a->ne = le ? le : 65536;
		return 0;
	}
	a->lc = (size_t)cmd[5] << 8 | cmd[6];
	a->data = cmd + 7;
	if (a->lc == 0)
		return SW_WRONG_LENGTH;
	if (len == 7 + a->lc)
		return 0;
	if (len == 9 + a->lc) {
		size_t le = (size_t)cmd[7 + a->lc] << 8 | cmd[8 + a->lc];

		a->ne = le ? le : 65536;
		return 0;
	}
	return SW_WRONG_LENGTH;
}

static bool pw_matches(const struct blob *pw, const uint8_t *d, size_t n)
{
	return pw->len == n && n > 0 && CRYPTO_memcmp(pw->d, d, n) == 0;
}

static uint16_t tries_sw(uint8_t tries)
{
	return tries ? (uint16_t)(0x63C0 | tries) : SW_BLOCKED;
}

/* A wrong PIN: count it down and persist before answering. */
static uint16_t pw_wrong(struct opgp_card *c, int which)
{
	if (c->tries[which] > 0)
		c->tries[which]--;
	if (state_save(c) != 0)
		return SW_UNKNOWN;
	return (uint16_t)(0x63C0 | c->tries[which]);
}

static uint16_t pw_right(struct opgp_card *c, int which)
{
	if (c->tries[which] != TRIES_MAX) {
		c->tries[which] = TRIES_MAX;
		if (state_save(c) != 0)
			return SW_UNKNOWN;
	}
	return SW_OK;
}

static uint16_t cmd_verify(struct opgp_card *c, const struct apdu *a)
{
	uint8_t bit;
	int which;
	const struct blob *pw;
	uint16_t sw;

	if (a->p2 == 0x81 || a->p2 == 0x82) {
		bit = a->p2 == 0x81 ? ACC_PW1_81 : ACC_PW1_82;
		which = TRY_PW1;
		pw = &c->pw1;
	} else if (a->p2 == 0x83) {
		bit = ACC_PW3;
		which = TRY_PW3;
		pw = &c->pw3;
	} else {
		return SW_WRONG_P1P2;
	}
	if (a->p1 == 0xFF) { /* v3.4: reset the access status */
		if (a->lc)
			return SW_WRONG_LENGTH;
		c->access &= (uint8_t)~bit;
		return SW_OK;
	}
	if (a->p1 != 0x00)
		return SW_WRONG_P1P2;
	if (a->lc == 0) { /* status query */
		if (c->access & bit)
			return SW_OK;
		return tries_sw(c->tries[which]);
	}
	if (c->tries[which] == 0)
		return SW_BLOCKED;
	if (!pw_matches(pw, a->data, a->lc)) {
		c->access &= (uint8_t)~bit;
		return pw_wrong(c, which);
	}
	sw = pw_right(c, which);
	if (sw == SW_OK)
		c->access |= bit;
	return sw;
}

static uint16_t set_pin(struct opgp_card *c, struct blob *pw, size_t min,
			const uint8_t *d, size_t n, int which)
{
	if (n < min || n > PIN_MAX)
		return SW_WRONG_DATA;
	blob_set(pw, d, n);
	c->tries[which] = TRIES_MAX;
	return state_save(c) == 0 ? SW_OK : SW_UNKNOWN;
}

static uint16_t cmd_change(struct opgp_card *c, const struct apdu *a)
{
	struct blob *pw;
	int which;
	size_t min;

	if (a->p1 != 0x00)
		return SW_WRONG_P1P2;
	if (a->p2 == 0x81) {
		pw = &c->pw1;
		which = TRY_PW1;
		min = PW1_MIN;
	} else if (a->p2 == 0x83) {
		pw = &c->pw3;
		which = TRY_PW3;
		min = PW3_MIN;
	} else {
		return SW_WRONG_P1P2;
	}
	if (c->tries[which] == 0)
		return SW_BLOCKED;
	if (a->lc <= pw->len || !pw_matches(pw, a->data, pw->len))
		return pw_wrong(c, which);
	return set_pin(c, pw, min, a->data + pw->len, a->lc - pw->len, which);
}

static uint16_t cmd_reset_retry(struct opgp_card *c, const struct apdu *a)
{
	if (a->p2 != 0x81)
		return SW_WRONG_P1P2;
	if (a->p1 == 0x02) {
		if (!(c->access & ACC_PW3))
			return SW_SECURITY;
		return set_pin(c, &c->pw1, PW1_MIN, a->data, a->lc, TRY_PW1);
	}
	if (a->p1 != 0x00)
		return SW_WRONG_P1P2;
	if (c->rc.len == 0)
		return SW_SECURITY;
	if (c->tries[TRY_RC] == 0)
		return SW_BLOCKED;
	if (a->lc <= c->rc.len || !pw_matches(&c->rc, a->data, c->rc.len))
		return pw_wrong(c, TRY_RC);
	c->tries[TRY_RC] = TRIES_MAX;
	return set_pin(c, &c->pw1, PW1_MIN, a->data + c->rc.len,
		       a->lc - c->rc.len, TRY_PW1);
}

static void key_clear(struct opgp_card *c, int slot)
{
	EVP_PKEY_free(c->key[slot]);
	c->key[slot] = NULL;
	c->keyinfo[slot] = 0;
	c->fp[slot].len = 0;
	c->gentime[slot].len = 0;
}

static uint16_t cmd_put_data(struct opgp_card *c, const struct apdu *a)
{
	unsigned tag = (unsigned)a->p1 << 8 | a->p2;
	struct field f[NFIELDS];
	size_t nf, i;

	if (tag >= 0xC1 && tag <= 0xC3) {
		int slot = (int)(tag - 0xC1);
		struct blob nb;

		if (!(c->access & ACC_PW3))
			return SW_SECURITY;
		if (a->lc > SMALL_MAX)
			return SW_WRONG_DATA;
		blob_set(&nb, a->data, a->lc);
		if (!attr_is_rsa(&nb, NULL) && !attr_is_p256(&nb, slot))
			return SW_WRONG_DATA;
		if (nb.len != c->attr[slot].len ||
		    memcmp(nb.d, c->attr[slot].d, nb.len) != 0) {
			c->attr[slot] = nb;
			key_clear(c, slot); /* the old key no longer fits */
		}
		return state_save(c) == 0 ? SW_OK : SW_UNKNOWN;
	}
	if (tag == 0xC4) {
		if (!(c->access & ACC_PW3))
			return SW_SECURITY;
		if ((a->lc != 1 && a->lc != 4) || a->data[0] > 1)
			return SW_WRONG_DATA;
		c->pw1_multi = a->data[0];
		return state_save(c) == 0 ? SW_OK : SW_UNKNOWN;
	}
	if (tag == 0xD3) { /* resetting code; empty deletes it */
		if (!(c->access & ACC_PW3))
			return SW_SECURITY;
		if (a->lc == 0) {
			c->rc.len = 0;
			c->tries[TRY_RC] = 0;
			return state_save(c) == 0 ? SW_OK : SW_UNKNOWN;
		}
		return set_pin(c, &c->rc, RC_MIN, a->data, a->lc, TRY_RC);
	}
	nf = card_fields(c, f);
	for (i = 0; i < nf; i++) {
		if (f[i].tag != tag)
			continue;
		if (f[i].wr == A_PW3 && !(c->access & ACC_PW3))
			return SW_SECURITY;
		if (f[i].wr == A_PW1_82 && !(c->access & ACC_PW1_82))
			return SW_SECURITY;
		if (a->lc > f[i].max || a->lc < f[i].min)
			return SW_WRONG_LENGTH;
		if (a->lc)
			memcpy(f[i].buf, a->data, a->lc);
		*f[i].lenp = a->lc;
		return state_save(c) == 0 ? SW_OK : SW_UNKNOWN;
	}
	return SW_NOT_FOUND;
}

/* Control reference template: B6 (signature), B8 (decryption), A4
 * (authentication), empty or with a key reference (84 01 xx) inside. */
static int crt_slot(const uint8_t *d, size_t n)
{
	size_t off = 0, vl;
	const uint8_t *v;
	unsigned tag;

	if (!r_tlv(d, n, &off, &tag, &v, &vl) || off != n)
		return -1;
	switch (tag) {
	case 0xB6:
		return KEY_SIG;
	case 0xB8:
		return KEY_DEC;
	case 0xA4:
		return KEY_AUT;
	default:
		return -1;
	}
}

static uint16_t cmd_generate(struct opgp_card *c, const struct apdu *a,
			     struct wbuf *w)
{
	int slot;

	if (a->p2 != 0x00 || (a->p1 != 0x80 && a->p1 != 0x81))
		return SW_WRONG_P1P2;
	slot = crt_slot(a->data, a->lc);
	if (slot < 0)
		return SW_WRONG_DATA;
	if (a->p1 == 0x80) {
		EVP_PKEY *pk;

		if (!(c->access & ACC_PW3))
			return SW_SECURITY;
		pk = key_generate(&c->attr[slot], slot);
		if (!pk)
			return SW_UNKNOWN;
		key_clear(c, slot);
		c->key[slot] = pk;
		c->keyinfo[slot] = 0x01;
		if (slot == KEY_SIG)
			c->sigcount = 0;
		if (state_save(c) != 0)
			return SW_UNKNOWN;
	}
	if (!c->key[slot])
		return SW_NOT_FOUND;
	return key_public(c->key[slot], w);
}

/* ------------------------------------------------------------ key import */

/*
 * PUT DATA odd (INS DB, P1P2 3FFF) with an extended header list, OpenPGP
 * card 3.4 §4.4.3.12:
 *   4D L { CRT (B6/B8/A4, empty or 84 01 xx),
 *          7F48 L { tag, length, tag, length, ... },   no values
 *          5F48 L { the values, concatenated in that order } }
 * RSA (§4.4.3.12 table "RSA"): 91 e, 92 p, 93 q, optional 94 1/q mod p,
 * 95 d mod (p-1), 96 d mod (q-1), 97 n.  ECC: 92 private scalar,
 * optional 99 public point.  The key must fit the slot's algorithm
 * attributes (C1..C3); GnuPG changes them first when they do not.
 */

#define IMPORT_PARTS 9 /* tags 91..99 */

struct import_parts {
	const uint8_t *v[IMPORT_PARTS];
	size_t len[IMPORT_PARTS];
};

/* Read a tag and a BER length without value (the 7F48 list), bounds
 * checked like r_tlv. */
static bool
r_tl(const uint8_t *buf, size_t len, size_t *off, unsigned *tag, size_t *n)
{
	size_t o = *off;

	if (o >= len)
		return false;
	*tag = buf[o++];
	if ((*tag & 0x1F) == 0x1F)
		return false; /* every private key tag is one byte */
	if (o >= len)
		return false;
	*n = buf[o++];
	if (*n == 0x81) {
		if (o >= len)
			return false;
		*n = buf[o++];
	} else if (*n == 0x82) {
		if (len - o < 2)
			return false;
		*n = (size_t)buf[o] << 8 | buf[o + 1];
		o += 2;
	} else if (*n > 0x7F) {
		return false;
	}
	*off = o;
	return true;
}

/* Split the 4D template into slot and parts; SW_OK or the error. */
static uint16_t
import_parse(const uint8_t *d, size_t n, int *slot, struct import_parts *p)
{
	size_t off = 0, in_off = 0, lo = 0, vo = 0, vl, hl = 0, dl = 0;
	const uint8_t *v, *hdr = NULL, *data = NULL, *crt = NULL;
	size_t crtl = 0;
	unsigned tag;
	bool have_crt = false;

	memset(p, 0, sizeof *p);
	if (!r_tlv(d, n, &off, &tag, &v, &vl) || tag != 0x4D || off != n)
		return SW_WRONG_DATA;
	while (in_off < vl) {
		size_t start = in_off, el;
		const uint8_t *ev;

		if (!r_tlv(v, vl, &in_off, &tag, &ev, &el))
			return SW_WRONG_DATA;
		if (!have_crt && (tag == 0xB6 || tag == 0xB8 || tag == 0xA4)) {
			have_crt = true;
			crt = v + start;
			crtl = in_off - start;
		} else if (tag == 0x7F48 && have_crt && !hdr) {
			hdr = ev;
			hl = el;
		} else if (tag == 0x5F48 && hdr && !data) {
			data = ev;
			dl = el;
		} else {
			return SW_WRONG_DATA;
		}
	}
	if (!data)
		return SW_WRONG_DATA;
	*slot = crt_slot(crt, crtl);
	if (*slot < 0)
		return SW_WRONG_DATA;
	while (lo < hl) {
		size_t pl;

		if (!r_tl(hdr, hl, &lo, &tag, &pl))
			return SW_WRONG_DATA;
		if (tag < 0x91 || tag > 0x99 || p->v[tag - 0x91] || pl == 0)
			return SW_WRONG_DATA;
		if (pl > dl - vo)
			return SW_WRONG_DATA;
		p->v[tag - 0x91] = data + vo;
		p->len[tag - 0x91] = pl;
		vo += pl;
	}
	return vo == dl ? SW_OK : SW_WRONG_DATA; /* nothing left over */
}

/* The optional part `i` must equal the computed value when present. */
static bool
part_matches(const struct import_parts *p, int i, const BIGNUM *x)
{
	BIGNUM *got;
	bool eq;

	if (!p->v[i])
		return true;
	got = BN_bin2bn(p->v[i], (int)p->len[i], NULL);
	eq = got && BN_cmp(got, x) == 0;
	BN_free(got);
	return eq;
}

static EVP_PKEY *
import_rsa(const struct import_parts *p, unsigned bits, unsigned ebits)
{
	BN_CTX *bc = BN_CTX_new();
	BIGNUM *e, *pp, *q, *n, *d, *dp, *dq, *qinv, *p1, *q1, *phi;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;
	bool ok = false;

	/* e, p, q needed; p and q half the modulus each (§4.4.3.12) */
	if (!bc || !p->v[0] || !p->v[1] || !p->v[2] ||
	    p->len[0] > (ebits + 7) / 8 || p->len[1] != bits / 16 ||
	    p->len[2] != bits / 16 || p->v[7] || p->v[8]) {
		BN_CTX_free(bc);
		return NULL;
	}
	BN_CTX_start(bc);
	e = BN_bin2bn(p->v[0], (int)p->len[0], BN_CTX_get(bc));
	pp = BN_bin2bn(p->v[1], (int)p->len[1], BN_CTX_get(bc));
	q = BN_bin2bn(p->v[2], (int)p->len[2], BN_CTX_get(bc));
	n = BN_CTX_get(bc);
	d = BN_CTX_get(bc);
	dp = BN_CTX_get(bc);
	dq = BN_CTX_get(bc);
	qinv = BN_CTX_get(bc);
	p1 = BN_CTX_get(bc);
	q1 = BN_CTX_get(bc);
	phi = BN_CTX_get(bc);
	if (!phi || !e || !pp || !q || BN_is_zero(e) || !BN_is_odd(e) ||
	    BN_is_one(pp) || BN_is_one(q) || BN_is_zero(pp) || BN_is_zero(q))
		goto out;
	if (!BN_mul(n, pp, q, bc) || BN_num_bits(n) != (int)bits ||
	    !BN_sub(p1, pp, BN_value_one()) || !BN_sub(q1, q, BN_value_one()) ||
	    !BN_mul(phi, p1, q1, bc) || !BN_mod_inverse(d, e, phi, bc) ||
	    !BN_mod(dp, d, p1, bc) || !BN_mod(dq, d, q1, bc) ||
	    !BN_mod_inverse(qinv, q, pp, bc))
		goto out; /* e not invertible, p = q, ... */
	if (!part_matches(p, 3, qinv) || !part_matches(p, 4, dp) ||
	    !part_matches(p, 5, dq) || !part_matches(p, 6, n))
		goto out;
	bld = OSSL_PARAM_BLD_new();
	if (!bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, pp) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, q) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dp) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dq) ||
	    !OSSL_PARAM_BLD_push_BN(
	        bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qinv))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_KEYPAIR, params) <= 0)
		goto out;
	EVP_PKEY_CTX_free(ctx);
	/* p and q prime (a composite "factor" signs garbage) */
	ctx = EVP_PKEY_CTX_new(pk, NULL);
	ok = ctx && EVP_PKEY_check(ctx) == 1;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_CTX_end(bc);
	BN_CTX_free(bc);
	if (!ok) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	return pk;
}

static EVP_PKEY *
import_p256(const struct import_parts *p)
{
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	BN_CTX *bc = BN_CTX_new();
	BIGNUM *d = NULL;
	EC_POINT *q = NULL;
	uint8_t pt[65];
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;

	/* only the scalar (92, 32 bytes) and the public point (99) */
	for (int i = 0; i < IMPORT_PARTS; i++)
		if (p->v[i] && i != 1 && i != 8)
			goto out;
	if (!g || !bc || !p->v[1] || p->len[1] != 32)
		goto out;
	d = BN_bin2bn(p->v[1], 32, NULL);
	q = EC_POINT_new(g);
	if (!d || !q || BN_is_zero(d) ||
	    BN_cmp(d, EC_GROUP_get0_order(g)) >= 0 ||
	    !EC_POINT_mul(g, q, d, NULL, NULL, bc) ||
	    EC_POINT_point2oct(g, q, POINT_CONVERSION_UNCOMPRESSED, pt,
	        sizeof pt, bc) != sizeof pt)
		goto out;
	if (p->v[8] &&
	    (p->len[8] != sizeof pt || memcmp(p->v[8], pt, sizeof pt) != 0))
		goto out; /* a public point that does not belong to d */
	bld = OSSL_PARAM_BLD_new();
	if (!bld ||
	    !OSSL_PARAM_BLD_push_utf8_string(
	        bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) ||
	    !OSSL_PARAM_BLD_push_octet_string(
	        bld, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_KEYPAIR, params) <= 0) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EC_POINT_free(q);
	BN_clear_free(d);
	BN_CTX_free(bc);
	EC_GROUP_free(g);
	return pk;
}

static uint16_t
cmd_import(struct opgp_card *c, const struct apdu *a)
{
	struct import_parts parts;
	unsigned bits;
	EVP_PKEY *pk;
	uint16_t sw;
	int slot;

	if (a->p1 != 0x3F || a->p2 != 0xFF)
		return SW_WRONG_P1P2;
	if (!(c->access & ACC_PW3))
		return SW_SECURITY;
	sw = import_parse(a->data, a->lc, &slot, &parts);
	if (sw != SW_OK)
		return sw;
	if (attr_is_rsa(&c->attr[slot], &bits))
		pk = import_rsa(&parts, bits,
		    (unsigned)c->attr[slot].d[3] << 8 | c->attr[slot].d[4]);
	else if (attr_is_p256(&c->attr[slot], slot))
		pk = import_p256(&parts);
	else
		pk = NULL;
	if (!pk)
		return SW_WRONG_DATA;
	key_clear(c, slot); /* the host writes fingerprint and time next */
	c->key[slot] = pk;
	c->keyinfo[slot] = 0x02;
	if (slot == KEY_SIG)
		c->sigcount = 0;
	return state_save(c) == 0 ? SW_OK : SW_UNKNOWN;
}

static uint16_t cmd_pso(struct opgp_card *c, const struct apdu *a,
			struct wbuf *w)
{
	uint16_t sw;

	if (a->p1 == 0x9E && a->p2 == 0x9A) {
		if (!(c->access & ACC_PW1_81))
			return SW_SECURITY;
		if (!c->key[KEY_SIG])
			return SW_NOT_FOUND;
		sw = key_sign(c->key[KEY_SIG], a->data, a->lc, w);
		if (sw != SW_OK)
			return sw;
		if (c->sigcount < 0xFFFFFF)
			c->sigcount++;
		if (!c->pw1_multi)
			c->access &= (uint8_t)~ACC_PW1_81;
		if (state_save(c) != 0) {
			w->len = 0;
			return SW_UNKNOWN;
		}
		return SW_OK;
	}
	if (a->p1 == 0x80 && a->p2 == 0x86) {
		if (!(c->access & ACC_PW1_82))
			return SW_SECURITY;
		if (!c->key[KEY_DEC])
			return SW_NOT_FOUND;
		if (key_is_rsa(c->key[KEY_DEC]))
			return rsa_decipher(c->key[KEY_DEC], a->data, a->lc,
					    w);
		return ecdh_decipher(c->key[KEY_DEC], a->data, a->lc, w);
	}
	return SW_WRONG_P1P2;
}

static uint16_t cmd_internal_auth(struct opgp_card *c, const struct apdu *a,
				  struct wbuf *w)
{
	if (a->p1 != 0x00 || a->p2 != 0x00)
		return SW_WRONG_P1P2;
	if (!(c->access & ACC_PW1_82))
		return SW_SECURITY;
	if (!c->key[KEY_AUT])
		return SW_NOT_FOUND;
	return key_sign(c->key[KEY_AUT], a->data, a->lc, w);
}

static uint16_t cmd_select(struct opgp_card *c, const struct apdu *a)
{
	uint8_t aid[16];

	if (a->p1 != 0x04)
		return SW_WRONG_P1P2;
	if (a->p2 != 0x00 && a->p2 != 0x04 && a->p2 != 0x0C)
		return SW_WRONG_P1P2;
	build_aid(c, aid);
	/* full name or a prefix of at least the RID + application */
	if (a->lc < 6 || a->lc > sizeof aid || memcmp(a->data, aid, a->lc) != 0)
		return SW_FILE_NOT_FOUND;
	c->selected = true;
	return c->terminated ? SW_WARN_TERMINATED : SW_OK;
}

static uint16_t dispatch(struct opgp_card *c, const struct apdu *a,
			 struct wbuf *w)
{
	uint8_t rnd[CHALLENGE_MAX];
	unsigned tag;

	if (a->ins == 0xA4)
		return cmd_select(c, a);
	if (!c->selected)
		return SW_CONDITIONS;
	if (c->terminated) {
		if (a->ins != 0x44)
			return SW_CONDITIONS;
		if (a->p1 || a->p2)
			return SW_WRONG_P1P2;
		set_defaults(c); /* keeps the serial number */
		c->access = 0;
		return state_save(c) == 0 ? SW_OK : SW_UNKNOWN;
	}
	switch (a->ins) {
	case 0xCA:
		if (a->lc)
			return SW_WRONG_LENGTH;
		tag = (unsigned)a->p1 << 8 | a->p2;
		/* constructed DOs come with their own tag and length */
		if (tag == 0x65 || tag == 0x6E || tag == 0x73 || tag == 0x7A) {
			put_do(c, tag, w);
			return SW_OK;
		}
		return do_value(c, tag, w);
	case 0xDA:
		return cmd_put_data(c, a);
	case 0xDB:
		return cmd_import(c, a);
	case 0x20:
		return cmd_verify(c, a);
	case 0x24:
		return cmd_change(c, a);
	case 0x2C:
		return cmd_reset_retry(c, a);
	case 0x47:
		return cmd_generate(c, a, w);
	case 0x2A:
		return cmd_pso(c, a, w);
	case 0x88:
		return cmd_internal_auth(c, a, w);
	case 0x84:
		if (a->p1 || a->p2)
			return SW_WRONG_P1P2;
		if (a->lc || a->ne > CHALLENGE_MAX)
			return SW_WRONG_LENGTH;
		if (RAND_bytes(rnd, (int)a->ne) != 1)
			return SW_UNKNOWN;
		w_bytes(w, rnd, a->ne);
		return SW_OK;
	case 0xE6: /* TERMINATE DF: PW3 verified, or PW3 blocked */
		if (a->p1 || a->p2)
			return SW_WRONG_P1P2;
		if (!(c->access & ACC_PW3) && c->tries[TRY_PW3] != 0)
			return SW_SECURITY;
		c->terminated = true;
		c->access = 0;
		return state_save(c) == 0 ? SW_OK : SW_UNKNOWN;
	case 0x44: /* ACTIVATE FILE on an operational card: no effect */
		if (a->p1 || a->p2)
			return SW_WRONG_P1P2;
		return SW_OK;
	default:
		return SW_INS;
	}
}

/* Send the next piece of the pending response: at most ne bytes and at
 * most what fits in cap beside the SW; 61xx announces the rest. */
static void deliver(struct opgp_card *c, size_t ne, uint8_t *resp,
		    size_t cap, size_t *rlen)
{
	size_t left = c->pend_len - c->pend_off;
	size_t n = left;

	if (n > ne)
		n = ne;
	if (n > cap - 2)
		n = cap - 2;
	memcpy(resp, c->pend + c->pend_off, n);
	c->pend_off += n;
	left -= n;
	if (left) {
		resp[n] = 0x61;
		resp[n + 1] = left > 255 ? 0x00 : (uint8_t)left;
	} else {
		resp[n] = (uint8_t)(c->pend_sw >> 8);
		resp[n + 1] = (uint8_t)c->pend_sw;
		c->pend_len = c->pend_off = 0;
	}
	*rlen = n + 2;
}

static void reply_sw(uint16_t sw, uint8_t *resp, size_t *rlen)
{
	resp[0] = (uint8_t)(sw >> 8);
	resp[1] = (uint8_t)sw;
	*rlen = 2;
}

int opgp_card_apdu(struct opgp_card *c, const uint8_t *cmd, size_t len,
		   uint8_t *resp, size_t cap, size_t *rlen)
{
	struct apdu a;
	struct wbuf w;
	uint16_t sw;

	if (!c || !resp || !rlen || cap < 2 || (!cmd && len))
		return -1;
	sw = apdu_parse(cmd, len, &a);
	if (!sw && (a.cla & ~0x10) != 0x00)
		sw = SW_CLA;
	if (sw) {
		c->pend_len = c->pend_off = 0;
		c->chaining = false;
		reply_sw(sw, resp, rlen);
		return 0;
	}

	/* GET RESPONSE continues the pending response (ISO 7816-4 §7.6.1) */
	if (a.ins == 0xC0 && !(a.cla & 0x10)) {
		if (c->pend_len == c->pend_off) {
			reply_sw(SW_CONDITIONS, resp, rlen);
		} else if (a.p1 || a.p2 || a.lc) {
			reply_sw(a.lc ? SW_WRONG_LENGTH : SW_WRONG_P1P2, resp,
				 rlen);
		} else {
			deliver(c, a.ne, resp, cap, rlen);
		}
		return 0;
	}
	c->pend_len = c->pend_off = 0;

	/* command chaining (ISO 7816-4 §5.1.1.1): CLA bit 0x10 */
	if (c->chaining && (a.ins != c->chain_hdr[0] ||
			    a.p1 != c->chain_hdr[1] || a.p2 != c->chain_hdr[2])) {
		c->chaining = false;
		reply_sw(SW_LAST_CHAIN_EXPECTED, resp, rlen);
		return 0;
	}
	if (a.cla & 0x10) {
		if (!c->chaining) {
			c->chaining = true;
			c->chain_len = 0;
			c->chain_hdr[0] = a.ins;
			c->chain_hdr[1] = a.p1;
			c->chain_hdr[2] = a.p2;
		}
		if (a.lc > sizeof c->chain - c->chain_len) {
			c->chaining = false;
			reply_sw(SW_WRONG_LENGTH, resp, rlen);
			return 0;
		}
		if (a.lc)
			memcpy(c->chain + c->chain_len, a.data, a.lc);
		c->chain_len += a.lc;
		reply_sw(SW_OK, resp, rlen);
		return 0;
	}
	if (c->chaining) {
		c->chaining = false;
		if (a.lc > sizeof c->chain - c->chain_len) {
			reply_sw(SW_WRONG_LENGTH, resp, rlen);
			return 0;
		}
		if (a.lc)
			memcpy(c->chain + c->chain_len, a.data, a.lc);
		c->chain_len += a.lc;
		a.data = c->chain;
		a.lc = c->chain_len;
	}

	w = (struct wbuf){c->pend, sizeof c->pend - 2, 0, false};
	sw = dispatch(c, &a, &w);
	if (a.data == c->chain) /* may hold a private key (PUT DATA DB) */
		OPENSSL_cleanse(c->chain, c->chain_len);
	if (w.ovf)
		sw = SW_UNKNOWN;
	if (sw != SW_OK && sw != SW_WARN_TERMINATED)
		w.len = 0;
	c->pend_len = w.len;
	c->pend_off = 0;
	c->pend_sw = sw;
	deliver(c, a.ne, resp, cap, rlen);
	return 0;
}

/* ------------------------------------------------------------ lifecycle */

size_t opgp_card_atr(const struct opgp_card *c, uint8_t *atr, size_t cap)
{
	/* TS 3B; T0 DA (TA1 TC1 TD1, 10 historical bytes); TA1 18 (Fi 372,
	 * Di 12); TC1 FF; TD1 81 (T=1, TD2); TD2 B1 (TA3 TB3 TD3, T=1);
	 * TA3 FE (IFSC 254); TB3 75 (BWI 7, CWI 5); TD3 1F (T=15, TA4);
	 * TA4 03 (class A and B); historical bytes; TCK. */
	static const uint8_t head[10] = {0x3B, 0xDA, 0x18, 0xFF, 0x81,
					 0xB1, 0xFE, 0x75, 0x1F, 0x03};
	uint8_t hist[10];
	size_t hl, n, i;
	uint8_t tck = 0;

	if (!c || !atr)
		return 0;
	hl = build_hist(c, hist);
	n = sizeof head + hl + 1;
	if (cap < n)
		return 0;
	memcpy(atr, head, sizeof head);
	memcpy(atr + sizeof head, hist, hl);
	for (i = 1; i < n - 1; i++)
		tck ^= atr[i];
	atr[n - 1] = tck;
	return n;
}

void opgp_card_reset(struct opgp_card *c)
{
	if (!c)
		return;
	c->selected = false;
	c->access = 0;
	c->chaining = false;
	c->chain_len = 0;
	c->pend_len = c->pend_off = 0;
}

struct opgp_card *opgp_card_open(const char *state_path, char *err,
				 size_t errlen)
{
	struct opgp_card *c = calloc(1, sizeof *c);
	char *text = NULL;
	size_t tlen = 0;
	int rc;

	if (!c) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	/* No OpenSSL clean-up at exit: in the simulator the card runs on
	 * umockdev's ioctl worker thread, which the testbed only tells to
	 * quit (no join), so that thread's OpenSSL thread-local destructor
	 * raced the atexit OPENSSL_cleanup on the main thread: a SIGSEGV
	 * after "exit 0" in about one gnupg test of fifteen. */
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL) != 1) {
		set_err(err, errlen, "OPENSSL_init_crypto failed");
		free(c);
		return NULL;
	}
	set_defaults(c);
	if (RAND_bytes(c->serial, sizeof c->serial) != 1) {
		set_err(err, errlen, "RAND_bytes failed");
		free(c);
		return NULL;
	}
	if (!state_path)
		return c;
	c->path = strdup(state_path);
	if (!c->path) {
		set_err(err, errlen, "out of memory");
		opgp_card_close(&c);
		return NULL;
	}
	rc = read_file(state_path, &text, &tlen, err, errlen);
	if (rc < 0) {
		opgp_card_close(&c);
		return NULL;
	}
	if (rc == 1) { /* new card */
		if (state_save(c) != 0) {
			set_err(err, errlen, "%s: cannot write state",
				state_path);
			opgp_card_close(&c);
			return NULL;
		}
		return c;
	}
	rc = state_load(c, text, tlen, err, errlen);
	free(text);
	if (rc != 0) {
		opgp_card_close(&c);
		return NULL;
	}
	return c;
}

void opgp_card_close(struct opgp_card **cp)
{
	struct opgp_card *c;
	int i;

	if (!cp || !*cp)
		return;
	c = *cp;
	for (i = 0; i < 3; i++)
		EVP_PKEY_free(c->key[i]);
	free(c->path);
	OPENSSL_cleanse(c, sizeof *c);
	free(c);
	*cp = NULL;
}
