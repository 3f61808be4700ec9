/*
 * openccid - the trace writer: header and records as text lines (see
 * trace_fmt.h, tests/traces/README.md). The recorder (trace_rec.c)
 * formats into its own fixed buffer, so nothing here allocates and a
 * line that does not fit is refused whole rather than cut.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "codec/trace_fmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "codec/trace_names.h"

/*
 * A line being written into the caller's buffer. full is sticky: once a
 * piece does not fit, the rest is skipped and out_end() refuses the
 * whole line, so the callers check once instead of after every piece.
 */
struct out {
	char *buf;
	size_t cap, len;
	bool full;
};

static void
out_printf(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->full = true;
		return;
	}
	o->len += (size_t)n;
}

/* Hex, "??" for a byte the recorder hid (known[i] == 0): a PIN digit. */
static void
out_hex(struct out *o, const uint8_t *b, const uint8_t *known, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	if (o->full)
		return;
	if (n > (o->cap - o->len) / 2) {
		o->full = true;
		return;
	}
	for (i = 0; i < n; i++) {
		if (known != NULL && known[i] == 0) {
			o->buf[o->len++] = '?';
			o->buf[o->len++] = '?';
		} else {
			o->buf[o->len++] = digits[b[i] >> 4];
			o->buf[o->len++] = digits[b[i] & 0x0f];
		}
	}
	if (o->len < o->cap)
		o->buf[o->len] = '\0';
}

static int
out_end(struct out *o, size_t *len)
{
	if (o->full || o->len >= o->cap)
		return OC_ENOSPC;
	o->buf[o->len] = '\0';
	*len = o->len;
	return OC_OK;
}

int
trace_fmt_header(const struct trace_device *d, char *buf, size_t cap,
    size_t *len)
{
	struct out o = {buf, cap, 0, cap == 0};

	out_printf(&o, "openccid-trace %d\n", TRACE_VERSION);
	out_printf(&o,
	    "device vid=%04x pid=%04x bcd=%04x bus=%u addr=%u iface=%u "
	    "proto=%u class=%02x intr=%u descep=%u options=%08x\n",
	    d->vid, d->pid, d->bcdDevice, d->bus, d->addr, d->interface,
	    d->bInterfaceProtocol, d->bInterfaceClass, d->has_intr ? 1u : 0u,
	    d->desc_after_endpoints ? 1u : 0u, (unsigned)d->driver_options);
	out_printf(&o, "desc data=");
	out_hex(&o, d->desc, NULL,
	    d->desc_len > TRACE_DESC_MAX ? TRACE_DESC_MAX : d->desc_len);
	out_printf(&o, "\nstrings manufacturer=");
	out_hex(&o, (const uint8_t *)d->manufacturer, NULL,
	    strnlen(d->manufacturer, TRACE_STR_MAX));
	out_printf(&o, " product=");
	out_hex(&o, (const uint8_t *)d->product, NULL,
	    strnlen(d->product, TRACE_STR_MAX));
	out_printf(&o, " serial=");
	out_hex(&o, (const uint8_t *)d->serial, NULL,
	    strnlen(d->serial, TRACE_STR_MAX));
	out_printf(&o, "\n");
	return out_end(&o, len);
}

static void
out_data(struct out *o, const struct trace_record *r)
{
	out_printf(o, " data=");
	out_hex(o, r->data, r->known, r->data != NULL ? r->data_len : 0);
}

/*
 * The fields of each kind. Every field is written, even those the parser
 * would default, but for an in/intr: data= when it read something, rc=
 * when it failed, never both (the parser refuses both or neither).
 */
static void
out_fields(struct out *o, const struct trace_record *r)
{
	switch (r->kind) {
	case TRACE_OUT:
		out_data(o, r);
		out_printf(o, " rc=%s", trace_rc_name(r->rc));
		break;
	case TRACE_IN:
	case TRACE_INTR:
		if (r->rc == OC_OK)
			out_data(o, r);
		else
			out_printf(o, " rc=%s", trace_rc_name(r->rc));
		break;
	case TRACE_CTL:
		out_printf(o, " type=%02x req=%02x value=%04x len=%u rc=%s",
		    r->type, r->req, r->value, (unsigned)r->len,
		    trace_rc_name(r->rc));
		out_data(o, r);
		break;
	case TRACE_HALT:
		out_printf(o, " ep=%s rc=%s", r->ep_in ? "in" : "out",
		    trace_rc_name(r->rc));
		break;
	case TRACE_CALL:
		out_printf(o, " op=%s slot=%u a=%x b=%x cap=%u",
		    trace_op_name(r->op), (unsigned)r->slot, (unsigned)r->a,
		    (unsigned)r->b, (unsigned)r->cap);
		out_data(o, r);
		break;
	case TRACE_RET:
		out_printf(o, " op=%s slot=%u ifd=%ld", trace_op_name(r->op),
		    (unsigned)r->slot, r->ifd);
		out_data(o, r);
		break;
	}
}

int
trace_fmt_record(const struct trace_record *r, char *buf, size_t cap,
    size_t *len)
{
	struct out o = {buf, cap, 0, cap == 0};

	/* A record the parser would refuse is never written. */
	if ((size_t)r->kind >= TRACE_NKINDS ||
	    r->data_len > TRACE_MAX_DATA)
		return OC_EINVAL;
	out_printf(&o, "%llu %s", (unsigned long long)r->ms,
	    trace_kind_name(r->kind));
	out_fields(&o, r);
	out_printf(&o, "\n");
	return out_end(&o, len);
}
