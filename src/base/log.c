/*
 * openccid - logging through pcscd's log_msg() (see log.h).
 *
 * The only file that includes <debuglog.h>. Lines have a fixed size and
 * are cut short rather than overflowing; hex dumps are split into several
 * lines. What is secret is decided by the caller (for CCID messages:
 * src/ccid/ccid_io.c with redact_ccid_msg()); this file only hides the
 * range it is given.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "base/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <debuglog.h>

#include "base/err.h"

#define LOG_LINE_MAX 512
#define LOG_HEX_PER_LINE 64 /* bytes of hex per log line */

/* Configuration, written at the first open and read atomically after. */
static atomic_uint oc_log_level = OC_LOG_DEFAULT;
static atomic_int oc_log_secrets_shown = 0;

void
oc_log_set_show_secrets(int on)
{
	atomic_store(&oc_log_secrets_shown, on != 0);
}

int
oc_log_show_secrets(void)
{
	return atomic_load(&oc_log_secrets_shown);
}

void
oc_log_set_level(unsigned mask)
{
	atomic_store(&oc_log_level, mask);
}

unsigned
oc_log_get_level(void)
{
	return atomic_load(&oc_log_level);
}

int
oc_log_parse_level(const char *s, unsigned *mask)
{
	unsigned long v;
	char *end;

	if (s == NULL || *s == '\0' || *s == '-' || *s == '+')
		return OC_EINVAL;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno != 0 || *end != '\0' || v > 0xff)
		return OC_EINVAL;
	*mask = (unsigned)v;
	return OC_OK;
}

static int
pcsc_priority(unsigned level)
{
	if (level & OC_LOG_MASK_CRITICAL)
		return PCSC_LOG_ERROR;
	if (level & OC_LOG_MASK_INFO)
		return PCSC_LOG_INFO;
	return PCSC_LOG_DEBUG;
}

void
oc_log_printf(unsigned level, const char *func, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;

	if ((oc_log_get_level() & level) == 0)
		return;
	va_start(ap, fmt);
	/* A line longer than LOG_LINE_MAX is cut, never overflows. */
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_msg(pcsc_priority(level), "%s() %s", func, line);
}

/* A fixed-size line that hex bytes and words are appended to. */
struct hexline {
	char buf[LOG_LINE_MAX];
	size_t len;
	size_t nbytes; /* bytes of hex on this line */
};

/*
 * n bytes of s (no NUL among them), cut at the end of the line. Callers
 * pass lengths they know rather than strlen(): the analyzer
 * (tests/scan-build.sh) cannot bound strlen() of a local array and then
 * reports the copy as reading past it.
 */
static void
hexline_add_mem(struct hexline *l, const char *s, size_t n)
{
	if (n > sizeof(l->buf) - 1 - l->len)
		n = sizeof(l->buf) - 1 - l->len;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	l->buf[l->len] = '\0';
}

static void
hexline_flush(struct hexline *l, unsigned level, const char *func,
    const char *what)
{
	if (l->len == 0)
		return;
	log_msg(pcsc_priority(level), "%s() %s: %s", func, what, l->buf);
	l->len = 0;
	l->nbytes = 0;
	l->buf[0] = '\0';
}

static void
hexline_add_bytes(struct hexline *l, const uint8_t *p, size_t n,
    unsigned level, const char *func, const char *what)
{
	static const char digits[] = "0123456789ABCDEF";
	char hex[3];
	size_t i;

	for (i = 0; i < n; i++) {
		if (l->nbytes == LOG_HEX_PER_LINE)
			hexline_flush(l, level, func, what);
		hex[0] = digits[p[i] >> 4];
		hex[1] = digits[p[i] & 0x0f];
		hex[2] = ' ';
		hexline_add_mem(l, hex, sizeof(hex));
		l->nbytes++;
	}
}

static void
log_hex_on(unsigned level, const char *func, const char *what,
    const uint8_t *buf, size_t len)
{
	struct hexline l = {.len = 0};

	if (len == 0 || buf == NULL) {
		log_msg(pcsc_priority(level), "%s() %s: (empty)", func, what);
		return;
	}
	hexline_add_bytes(&l, buf, len, level, func, what);
	hexline_flush(&l, level, func, what);
}

/*
 * The level is tested before anything else: zeroing the half-kilobyte
 * line (and the stack protector of a frame holding it) cost more than
 * the rest of an APDU exchange when the level is off (make bench).
 */
void
oc_log_hex(unsigned level, const char *func, const char *what,
    const uint8_t *buf, size_t len)
{
	if ((oc_log_get_level() & level) != 0)
		log_hex_on(level, func, what, buf, len);
}

static void
log_hex_redacted_on(unsigned level, const char *func, const char *what,
    const uint8_t *buf, size_t len, size_t off, size_t n)
{
	struct hexline l = {.len = 0};
	char word[48];

	hexline_add_bytes(&l, buf, n > 0 ? off : len, level, func, what);
	if (n > 0) {
		int w = snprintf(word, sizeof(word), "<%zu bytes redacted> ",
		    n);

		hexline_add_mem(&l, word,
		    w > 0 && (size_t)w < sizeof(word) ? (size_t)w : 0);
		hexline_add_bytes(&l, buf + off + n, len - off - n, level,
		    func, what);
	}
	hexline_flush(&l, level, func, what);
}

/* As oc_log_hex(): the level first, the line only when it is on. */
void
oc_log_hex_redacted(unsigned level, const char *func, const char *what,
    const uint8_t *buf, size_t len, size_t off, size_t n)
{
	if ((oc_log_get_level() & level) == 0 || buf == NULL)
		return;
	/* A range outside the buffer: never print the bytes unhidden. */
	if (off > len || n > len - off) {
		oc_log_unlogged(level, what, len);
		return;
	}
	log_hex_redacted_on(level, func, what, buf, len, off, n);
}

void
oc_log_unlogged(unsigned level, const char *what, size_t len)
{
	if ((oc_log_get_level() & level) != 0)
		log_msg(pcsc_priority(level), "%s: <%zu bytes, not logged>",
		    what, len);
}
