/*
 * openccid - the trace parser (see trace_fmt.h, tests/traces/README.md):
 * the record and header-line grammar over the field reader (trace_fields.c).
 *
 * Traces are untrusted input (openccid-replay reads the ones users send;
 * tests/fuzz/fuzz_trace.c): every line, field, number and count is
 * bounded, and anything unknown, repeated or out of range is refused
 * with its line number rather than guessed at.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "codec/trace_parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "codec/trace_fields.h"
#include "codec/trace_names.h"

static int
parse_io(struct parser *p, struct trace_record *r)
{
	int rc;

	switch (r->kind) {
	case TRACE_OUT:
		if ((rc = tf_get_rc(p, false, &r->rc)) != OC_OK)
			return rc;
		return tf_get_data(p, r, true);
	case TRACE_IN:
	case TRACE_INTR:
		if ((rc = tf_get_rc(p, false, &r->rc)) != OC_OK ||
		    (rc = tf_get_data(p, r, false)) != OC_OK)
			return rc;
		/* Either what was read, or why nothing was. */
		if ((r->rc == OC_OK) != r->has_data)
			return tf_err(p, "%s wants data= or an error rc=",
			    trace_kind_name(r->kind));
		return OC_OK;
	default:
		return OC_EINVAL;
	}
}

static int
parse_ctl(struct parser *p, struct trace_record *r)
{
	unsigned long long type = 0, req = 0, value = 0, len = 0;
	int rc;

	if ((rc = tf_get_num(p, "type", true, 0xff, &type)) != OC_OK ||
	    (rc = tf_get_num(p, "req", true, 0xff, &req)) != OC_OK ||
	    (rc = tf_get_num(p, "value", true, 0xffff, &value)) != OC_OK ||
	    (rc = tf_get_num(p, "len", false, 0xffff, &len)) != OC_OK ||
	    (rc = tf_get_rc(p, true, &r->rc)) != OC_OK ||
	    (rc = tf_get_data(p, r, true)) != OC_OK)
		return rc;
	if (r->data_len > len)
		return tf_err(p, "ctl data longer than len=");
	r->type = (uint8_t)type;
	r->req = (uint8_t)req;
	r->value = (uint16_t)value;
	r->len = (uint32_t)len;
	return OC_OK;
}

static int
parse_halt(struct parser *p, struct trace_record *r)
{
	struct token *t = tf_find(p, "ep");

	if (t == NULL)
		return tf_err(p, "missing ep=");
	t->used = true;
	if (t->vlen == 2 && memcmp(t->val, "in", 2) == 0)
		r->ep_in = true;
	else if (!(t->vlen == 3 && memcmp(t->val, "out", 3) == 0))
		return tf_err(p, "ep= is in or out");
	return tf_get_rc(p, true, &r->rc);
}

static int
parse_host(struct parser *p, struct trace_record *r)
{
	unsigned long long slot = 0, a = 0, b = 0, cap = 0;
	int rc;

	if ((rc = tf_get_op(p, &r->op)) != OC_OK ||
	    (rc = tf_get_num(p, "slot", false, 0xffff, &slot)) != OC_OK)
		return rc;
	r->slot = (uint32_t)slot;
	if (r->kind == TRACE_RET) {
		if ((rc = tf_get_ifd(p, &r->ifd)) != OC_OK)
			return rc;
		return tf_get_data(p, r, true);
	}
	if ((rc = tf_get_num(p, "a", true, 0xffffffff, &a)) != OC_OK ||
	    (rc = tf_get_num(p, "b", true, 0xffffffff, &b)) != OC_OK ||
	    (rc = tf_get_num(p, "cap", false, TRACE_MAX_DATA, &cap)) != OC_OK)
		return rc;
	r->a = (uint32_t)a;
	r->b = (uint32_t)b;
	r->cap = (uint32_t)cap;
	return tf_get_data(p, r, true);
}

/*
 * "<ms> <kind> ": the time stamp, never going back (the replay orders
 * by it), and the kind; *fields gets the rest of the line.
 */
static int
parse_record_head(struct parser *p, struct trace_record *r, uint64_t prev_ms,
    const char **fields, size_t *fields_len)
{
	const char *s = p->line, *sp1, *sp2;
	unsigned long long ms = 0;
	size_t n = p->len, kind;

	if ((sp1 = memchr(s, ' ', n)) == NULL ||
	    !tf_num(s, (size_t)(sp1 - s), false, TRACE_MAX_MS, &ms))
		return tf_err(p, "expected \"<ms> <kind> ...\"");
	if (ms < prev_ms)
		return tf_err(p, "time goes backwards");
	r->ms = ms;
	s = sp1 + 1;
	n -= (size_t)(sp1 - p->line) + 1;
	sp2 = memchr(s, ' ', n);
	if (!tf_name_index(trace_kind_names, TRACE_NKINDS, s,
		sp2 != NULL ? (size_t)(sp2 - s) : n, &kind))
		return tf_err(p, "unknown record kind");
	r->kind = (enum trace_kind)kind;
	if (sp2 == NULL)
		return tf_err(p, "record without fields");
	*fields = sp2 + 1;
	*fields_len = n - (size_t)(sp2 - s) - 1;
	return OC_OK;
}

static int
parse_fields(struct parser *p, struct trace_record *r)
{
	switch (r->kind) {
	case TRACE_OUT:
	case TRACE_IN:
	case TRACE_INTR:
		return parse_io(p, r);
	case TRACE_CTL:
		return parse_ctl(p, r);
	case TRACE_HALT:
		return parse_halt(p, r);
	case TRACE_CALL:
	case TRACE_RET:
		return parse_host(p, r);
	}
	return OC_EINVAL;
}

/* "<ms> <kind> fields"; on failure nothing stays allocated in *r. */
static int
parse_record(struct parser *p, struct trace_record *r, uint64_t prev_ms)
{
	const char *fields = NULL;
	size_t fields_len = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	r->line = p->lineno;
	if ((rc = parse_record_head(p, r, prev_ms, &fields, &fields_len)) !=
		OC_OK ||
	    (rc = tf_tokenize(p, fields, fields_len)) != OC_OK ||
	    (rc = tf_check_dups(p)) != OC_OK)
		return rc;
	rc = parse_fields(p, r);
	if (rc == OC_OK)
		rc = tf_unused(p);
	if (rc != OC_OK) {
		free((void *)(uintptr_t)r->data);
		r->data = NULL;
	}
	return rc;
}

static int
parse_device(struct parser *p, struct trace_device *d)
{
	unsigned long long v[11] = {0};
	static const struct {
		const char *key;
		bool hex;
		unsigned long long max;
	} f[11] = {
		{"vid", true, 0xffff}, {"pid", true, 0xffff},
		{"bcd", true, 0xffff}, {"bus", false, 0xff},
		{"addr", false, 0xff}, {"iface", false, 0xff},
		{"proto", false, 0xff}, {"class", true, 0xff},
		{"intr", false, 1}, {"descep", false, 1},
		{"options", true, 0xffffffff},
	};
	size_t i;
	int rc;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if ((rc = tf_get_num(p, f[i].key, f[i].hex, f[i].max, &v[i])) !=
		    OC_OK)
			return rc;
	d->vid = (uint16_t)v[0];
	d->pid = (uint16_t)v[1];
	d->bcdDevice = (uint16_t)v[2];
	d->bus = (uint8_t)v[3];
	d->addr = (uint8_t)v[4];
	d->interface = (uint8_t)v[5];
	d->bInterfaceProtocol = (uint8_t)v[6];
	d->bInterfaceClass = (uint8_t)v[7];
	d->has_intr = v[8] != 0;
	d->desc_after_endpoints = v[9] != 0;
	d->driver_options = (uint32_t)v[10];
	return tf_unused(p);
}

/* key=hex into a fixed buffer (NUL-terminated when str). */
static int
get_fixed(struct parser *p, const char *key, uint8_t *dst, size_t max,
    size_t *n, bool str)
{
	struct token *t = tf_find(p, key);
	uint8_t *b = NULL;
	size_t len = 0, i;
	int rc;

	if (t == NULL)
		return tf_err(p, "missing %s=", key);
	t->used = true;
	if ((rc = tf_get_hex(p, t, false, max, &b, &len)) != OC_OK)
		return rc;
	for (i = 0; str && i < len; i++)
		if (b[i] == 0) {
			free(b);
			return tf_err(p, "NUL inside %s=", key);
		}
	if (len > 0)
		memcpy(dst, b, len);
	if (str)
		dst[len] = 0;
	if (n != NULL)
		*n = len;
	free(b);
	return OC_OK;
}

static int
parse_strings(struct parser *p, struct trace_device *d)
{
	int rc;

	if ((rc = get_fixed(p, "manufacturer", (uint8_t *)d->manufacturer,
		 TRACE_STR_MAX, NULL, true)) != OC_OK ||
	    (rc = get_fixed(p, "product", (uint8_t *)d->product,
		 TRACE_STR_MAX, NULL, true)) != OC_OK ||
	    (rc = get_fixed(p, "serial", (uint8_t *)d->serial, TRACE_STR_MAX,
		 NULL, true)) != OC_OK)
		return rc;
	return tf_unused(p);
}

/* "device ...", "desc ...", "strings ...": in this order, once each. */
static int
parse_header_line(struct parser *p, struct trace_device *d, unsigned idx)
{
	static const char *const words[] = {"device", "desc", "strings"};
	size_t wl = strlen(words[idx]);
	int rc;

	if (p->len <= wl + 1 || memcmp(p->line, words[idx], wl) != 0 ||
	    p->line[wl] != ' ')
		return tf_err(p, "expected the \"%s\" header line", words[idx]);
	if ((rc = tf_tokenize(p, p->line + wl + 1, p->len - wl - 1)) != OC_OK ||
	    (rc = tf_check_dups(p)) != OC_OK)
		return rc;
	switch (idx) {
	case 0:
		return parse_device(p, d);
	case 1:
		if ((rc = get_fixed(p, "data", d->desc, TRACE_DESC_MAX,
			 &d->desc_len, false)) != OC_OK)
			return rc;
		return tf_unused(p);
	default:
		return parse_strings(p, d);
	}
}

static int
check_chars(struct parser *p)
{
	size_t i;

	if (p->len > TRACE_MAX_LINE)
		return tf_err(p, "line longer than %u bytes", TRACE_MAX_LINE);
	for (i = 0; i < p->len; i++)
		if ((unsigned char)p->line[i] < 0x20 ||
		    (unsigned char)p->line[i] > 0x7e)
			return tf_err(p, "control or non-ASCII byte");
	return OC_OK;
}

static int
push_record(struct parser *p, struct trace *t, size_t *alloc,
    const struct trace_record *r)
{
	struct trace_record *nr;
	size_t na;

	if (t->n == TRACE_MAX_RECORDS) {
		free((void *)(uintptr_t)r->data);
		return tf_err(p, "more than %u records", TRACE_MAX_RECORDS);
	}
	if (t->n == *alloc) {
		na = *alloc == 0 ? 64 : *alloc * 2;
		if (na > TRACE_MAX_RECORDS)
			na = TRACE_MAX_RECORDS;
		if ((nr = realloc(t->rec, na * sizeof(*nr))) == NULL) {
			free((void *)(uintptr_t)r->data);
			return tf_err(p, "out of memory");
		}
		t->rec = nr;
		*alloc = na;
	}
	t->rec[t->n++] = *r;
	return OC_OK;
}

static int
parse_line(struct parser *p, struct trace *t, size_t *alloc, unsigned *hdr)
{
	static const char version[] = "openccid-trace 1";
	struct trace_record r;
	int rc;

	if ((rc = check_chars(p)) != OC_OK)
		return rc;
	if (p->lineno == 1) {
		if (p->len != sizeof(version) - 1 ||
		    memcmp(p->line, version, p->len) != 0)
			return tf_err(p, "not \"%s\"", version);
		return OC_OK;
	}
	if (p->len > 0 && p->line[0] == '#')
		return OC_OK;
	if (*hdr < 3) {
		if ((rc = parse_header_line(p, &t->dev, *hdr)) != OC_OK)
			return rc;
		(*hdr)++;
		return OC_OK;
	}
	rc = parse_record(p, &r, t->n > 0 ? t->rec[t->n - 1].ms : 0);
	if (rc != OC_OK)
		return rc;
	return push_record(p, t, alloc, &r);
}

int
trace_parse(const char *text, size_t len, struct trace *t, char *err,
    size_t errcap)
{
	struct parser p = {.err = err, .errcap = errcap};
	size_t off = 0, alloc = 0;
	unsigned hdr = 0;
	const char *nl;
	int rc = OC_OK;

	memset(t, 0, sizeof(*t));
	if (err != NULL && errcap > 0)
		err[0] = '\0';
	if (text == NULL || len > TRACE_MAX_FILE) {
		p.lineno = 0;
		(void)tf_err(&p, "no text, or more than %u bytes",
		    TRACE_MAX_FILE);
		return OC_EINVAL;
	}
	while (off < len && rc == OC_OK) {
		p.lineno++;
		nl = memchr(text + off, '\n', len - off);
		p.line = text + off;
		p.len = nl != NULL ? (size_t)(nl - p.line) : len - off;
		off += p.len + (nl != NULL ? 1 : 0);
		rc = parse_line(&p, t, &alloc, &hdr);
	}
	if (rc == OC_OK && hdr < 3) {
		p.lineno++;
		rc = tf_err(&p, "trace ends inside its header");
	}
	if (rc != OC_OK)
		trace_free(t);
	return rc;
}

void
trace_free(struct trace *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++)
		free((void *)(uintptr_t)t->rec[i].data);
	free(t->rec);
	memset(t, 0, sizeof(*t));
}

/* Replay compares what the driver did with a record through this. */
bool
trace_data_match(const struct trace_record *r, const uint8_t *buf,
    size_t len, size_t *at)
{
	size_t i, n = len < r->data_len ? len : r->data_len;

	for (i = 0; i < n; i++)
		if ((r->known == NULL || r->known[i] != 0) &&
		    r->data[i] != buf[i]) {
			*at = i;
			return false;
		}
	*at = n;
	return len == r->data_len;
}
