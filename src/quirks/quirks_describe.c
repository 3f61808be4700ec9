/*
 * openccid - the human description of a device's quirks (see quirks.h):
 * one "matched file:line: key=value" line per key, values printed in the
 * syntax of the quirks files so that a line can be pasted back into one.
 */
#include "config.h"

#include "quirks/quirks_describe.h"

#include <stdarg.h>
#include <stdio.h>

#include "base/bytes.h"
#include "quirks/quirks_keys.h"

/* Append to buf at *off, keeping it NUL-terminated; stops when full. */
__attribute__((format(printf, 4, 5))) static void
put(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*off = (size_t)n >= len - *off ? len : *off + (size_t)n;
}

/* A byte string as hex digit pairs, a list as comma-separated numbers. */
static void
put_pool_value(const struct quirk_set *qs, enum quirk_key k, char *buf,
    size_t len, size_t *off)
{
	uint32_t v = qs->value[k].value;
	const uint8_t *p = quirk_pool_at(qs->table, v);
	size_t i, n = quirk_pool_len(v);

	if (quirk_keys[k].type == QUIRK_T_BYTES) {
		put(buf, len, off, "=");
		for (i = 0; i < n; i++)
			put(buf, len, off, "%02x", p[i]);
		return;
	}
	for (i = 0; i + 4 <= n; i += 4)
		put(buf, len, off, "%c%u", i == 0 ? '=' : ',',
		    (unsigned)le32_load(p + i));
}

static void
put_value(const struct quirk_set *qs, enum quirk_key k, char *buf, size_t len,
    size_t *off)
{
	const struct quirk_key_def *d = &quirk_keys[k];
	uint32_t v = qs->value[k].value;

	switch (d->type) {
	case QUIRK_T_FLAG:
		if (v == 0)
			put(buf, len, off, "=false");
		break;
	case QUIRK_T_U32:
		put(buf, len, off,
		    !d->hex    ? "=%u"
		    : v > 0xff ? "=0x%04x"
		               : "=0x%02x",
		    (unsigned)v);
		break;
	case QUIRK_T_ENUM:
		put(buf, len, off, "=%s",
		    v < QUIRK_LEVEL_COUNT ? quirk_level_names[v] : "?");
		break;
	case QUIRK_T_BYTES:
	case QUIRK_T_LIST:
		put_pool_value(qs, k, buf, len, off);
		break;
	}
}

size_t
quirks_describe(const struct quirk_set *qs, char *buf, size_t len)
{
	size_t off = 0, count = 0;
	unsigned k;

	if (buf != NULL && len > 0)
		buf[0] = '\0';
	for (k = 0; k < QUIRK_KEY_COUNT; k++) {
		const struct quirk_setting *s = &qs->value[k];

		if (!qs->present[k])
			continue;
		count++;
		if (buf == NULL || len == 0)
			continue;
		put(buf, len, &off, "matched %s:%u: %s",
		    qs->table->files[s->file], (unsigned)s->line,
		    quirk_keys[k].name);
		put_value(qs, (enum quirk_key)k, buf, len, &off);
		put(buf, len, &off, "\n");
	}
	return count;
}
