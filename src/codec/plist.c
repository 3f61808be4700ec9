/*
 * openccid - strict Info.plist key reader (see plist.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "codec/plist.h"

#include <string.h>

#include "base/bytes.h"
#include "base/err.h"

#define PLIST_KEY_MAX 64 /* longest key name looked up */
#define LOG_LEVEL_MAX 0xffu

static const char key_open[] = "<key>";
static const char key_close[] = "</key>";
static const char str_open[] = "<string>";
static const char str_close[] = "</string>";

/* First occurrence of needle in buf[from..len), or len if none. */
static size_t
find(const uint8_t *buf, size_t len, size_t from, const char *needle,
    size_t nlen)
{
	size_t i;

	if (nlen == 0 || from > len || nlen > len - from)
		return len;
	for (i = from; i <= len - nlen; i++)
		if (buf[i] == (uint8_t)needle[0] &&
		    memcmp(buf + i, needle, nlen) == 0)
			return i;
	return len;
}

static bool
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool
starts_with(const uint8_t *buf, size_t len, size_t off, const char *s,
    size_t slen)
{
	return off <= len && slen <= len - off &&
	    memcmp(buf + off, s, slen) == 0;
}

int
plist_parse_u32(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;
	int d;

	if (s == NULL || len == 0)
		return OC_EINVAL;
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		if (len - 2 > 8)
			return OC_EINVAL;
		for (i = 2; i < len; i++) {
			if ((d = oc_hex_digit(s[i])) < 0)
				return OC_EINVAL;
			v = v << 4 | (uint64_t)d;
		}
	} else {
		if (len > 10)
			return OC_EINVAL;
		for (i = 0; i < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				return OC_EINVAL;
			v = v * 10 + (uint64_t)(s[i] - '0');
		}
		if (v > UINT32_MAX)
			return OC_EINVAL;
	}
	*out = (uint32_t)v;
	return OC_OK;
}

/* Offset of the value after "<key>key</key>"; OC_ENOTSUP if absent. */
static int
locate_key(const uint8_t *buf, size_t len, const char *key, size_t *after)
{
	char pat[sizeof(key_open) + PLIST_KEY_MAX + sizeof(key_close)];
	size_t klen = strlen(key), plen, at;

	if (klen == 0 || klen > PLIST_KEY_MAX)
		return OC_EINVAL;
	plen = sizeof(key_open) - 1;
	memcpy(pat, key_open, plen);
	/* pat is a byte pattern for find(), not a C string: no terminator. */
	memcpy(pat + plen, key, klen); /* NOLINT(bugprone-not-null-terminated-result) */
	plen += klen;
	memcpy(pat + plen, key_close, sizeof(key_close) - 1);
	plen += sizeof(key_close) - 1;
	at = find(buf, len, 0, pat, plen);
	if (at == len)
		return OC_ENOTSUP;
	/* A second definition makes the file ambiguous: reject it. */
	if (find(buf, len, at + plen, pat, plen) != len)
		return OC_EINVAL;
	*after = at + plen;
	return OC_OK;
}

int
plist_get_u32(const uint8_t *buf, size_t len, const char *key, uint32_t *out)
{
	char val[PLIST_VALUE_MAX];
	size_t off, end, vlen;
	int rc;

	if (buf == NULL || key == NULL || out == NULL || len > PLIST_MAX_SIZE)
		return OC_EINVAL;
	if ((rc = locate_key(buf, len, key, &off)) != OC_OK)
		return rc;
	while (off < len && is_space(buf[off]))
		off++;
	if (!starts_with(buf, len, off, str_open, sizeof(str_open) - 1))
		return OC_EINVAL;
	off += sizeof(str_open) - 1;
	end = find(buf, len, off, str_close, sizeof(str_close) - 1);
	if (end == len)
		return OC_EINVAL;
	vlen = end - off;
	if (vlen == 0 || vlen > sizeof(val))
		return OC_EINVAL;
	memcpy(val, buf + off, vlen);
	return plist_parse_u32(val, vlen, out);
}

int
plist_read_config(const uint8_t *buf, size_t len, struct plist_config *cfg)
{
	struct plist_config c = {false, 0, false, 0};
	uint32_t v = 0;
	int rc;

	if (cfg == NULL)
		return OC_EINVAL;
	rc = plist_get_u32(buf, len, "ifdLogLevel", &v);
	if (rc == OC_OK && v <= LOG_LEVEL_MAX) {
		c.has_log_level = true;
		c.log_level = (unsigned)v;
	} else if (rc != OC_ENOTSUP) {
		return OC_EINVAL;
	}
	rc = plist_get_u32(buf, len, "ifdDriverOptions", &v);
	if (rc == OC_OK) {
		c.has_driver_options = true;
		c.driver_options = v;
	} else if (rc != OC_ENOTSUP) {
		return OC_EINVAL;
	}
	*cfg = c;
	return OC_OK;
}
