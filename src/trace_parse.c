/*
 * openccid - the trace parser (see trace_fmt.h, tests/traces/README.md).
 *
 * Traces are untrusted input (openccid-replay reads the ones users send;
 * tests/fuzz/fuzz_trace.c): every line, field, number and count is
 * bounded, and anything unknown, repeated or out of range is refused
 * with its line number rather than guessed at.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "trace_fmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "err.h"
#include "trace_names.h"

/* The most fields a line has (the device header line: 11). */
#define TRACE_MAX_TOKENS 12
#define TRACE_MAX_MS 1000000000000ull /* 31 years: a sane bound */

/* One key=value of the current line; used marks it as understood. */
struct token {
	const char *key, *val;
	size_t klen, vlen;
	bool used;
};

/*
 * The line being parsed (not NUL-terminated: it points into the caller's
 * text) and its fields; err receives "line N: why" for the caller.
 */
struct parser {
	const char *line;
	size_t len;
	unsigned lineno;
	struct token tok[TRACE_MAX_TOKENS];
	size_t ntok;
	char *err;
	size_t errcap;
};

static int
perr(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
perr(struct parser *p, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (p->err != NULL && p->errcap > 0)
		(void)snprintf(p->err, p->errcap, "line %u: %s", p->lineno,
		    why);
	return OC_EINVAL;
}

/* Unsigned number, hex or decimal, at most max; no sign, no prefix. */
static bool
parse_num(const char *s, size_t n, bool hex, unsigned long long max,
    unsigned long long *v)
{
	unsigned long long x = 0;
	unsigned base = hex ? 16 : 10;
	size_t i;

	if (n == 0 || n > 16)
		return false;
	for (i = 0; i < n; i++) {
		int d = oc_hex_digit(s[i]);

		if (d < 0 || (unsigned)d >= base ||
		    (unsigned long long)d > max)
			return false;
		if (x > (max - (unsigned)d) / base)
			return false;
		x = x * base + (unsigned)d;
	}
	*v = x;
	return true;
}

/* The index of s[0..n) in names[0..count), which must match whole. */
static bool
name_index(const char *const *names, size_t count, const char *s, size_t n,
    size_t *idx)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0) {
			*idx = i;
			return true;
		}
	return false;
}

/* Split "key=value key=value" (single spaces) into p->tok. */
static int
tokenize(struct parser *p, const char *s, size_t n)
{
	size_t i = 0, start, eq;

	p->ntok = 0;
	while (i < n) {
		if (p->ntok == TRACE_MAX_TOKENS)
			return perr(p, "too many fields");
		start = i;
		eq = SIZE_MAX;
		while (i < n && s[i] != ' ') {
			if (s[i] == '=' && eq == SIZE_MAX)
				eq = i;
			i++;
		}
		if (eq == SIZE_MAX || eq == start)
			return perr(p, "field %zu is not key=value",
			    p->ntok + 1);
		p->tok[p->ntok] = (struct token){s + start, s + eq + 1,
		    eq - start, i - eq - 1, false};
		p->ntok++;
		if (i < n) {
			i++; /* the space */
			if (i == n || s[i] == ' ')
				return perr(p, "stray space");
		}
	}
	return OC_OK;
}

/* The value of key, NULL if absent; duplicates were refused earlier. */
static struct token *
tok_find(struct parser *p, const char *key)
{
	size_t i, kl = strlen(key);

	for (i = 0; i < p->ntok; i++)
		if (p->tok[i].klen == kl && memcmp(p->tok[i].key, key, kl) == 0)
			return &p->tok[i];
	return NULL;
}

static int
tok_check_dups(struct parser *p)
{
	size_t i, j;

	for (i = 0; i < p->ntok; i++)
		for (j = i + 1; j < p->ntok; j++)
			if (p->tok[i].klen == p->tok[j].klen &&
			    memcmp(p->tok[i].key, p->tok[j].key,
				p->tok[i].klen) == 0)
				return perr(p, "field %.*s repeated",
				    (int)p->tok[i].klen, p->tok[i].key);
	return OC_OK;
}

static int
tok_unused(struct parser *p)
{
	size_t i;

	for (i = 0; i < p->ntok; i++)
		if (!p->tok[i].used)
			return perr(p, "unknown field %.*s",
			    (int)(p->tok[i].klen > 32 ? 32 : p->tok[i].klen),
			    p->tok[i].key);
	return OC_OK;
}

static int
get_num(struct parser *p, const char *key, bool hex, unsigned long long max,
    unsigned long long *v)
{
	struct token *t = tok_find(p, key);

	if (t == NULL)
		return perr(p, "missing %s=", key);
	t->used = true;
	if (!parse_num(t->val, t->vlen, hex, max, v))
		return perr(p, "bad %s= (want %s at most %llx)", key,
		    hex ? "hex" : "decimal", max);
	return OC_OK;
}

static int
get_rc(struct parser *p, bool required, int *rc)
{
	struct token *t = tok_find(p, "rc");
	size_t i;

	*rc = OC_OK;
	if (t == NULL)
		return required ? perr(p, "missing rc=") : OC_OK;
	t->used = true;
	if (!name_index(trace_rc_names, TRACE_NRCS, t->val, t->vlen, &i))
		return perr(p, "unknown rc=");
	*rc = -(int)i;
	return OC_OK;
}

/*
 * Hex with "??" wildcards into a fresh buffer: bytes then the known
 * mask (n each). wild_ok false: wildcards refused (header fields).
 */
static int
get_hex(struct parser *p, const struct token *t, bool wild_ok, size_t max,
    uint8_t **out, size_t *n)
{
	size_t i, len;
	uint8_t *b;

	if (t->vlen % 2 != 0)
		return perr(p, "odd number of hex digits");
	len = t->vlen / 2;
	if (len > max)
		return perr(p, "more than %zu bytes", max);
	if ((b = malloc(2 * len + 1)) == NULL)
		return OC_ENOMEM;
	for (i = 0; i < len; i++) {
		char c0 = t->val[2 * i], c1 = t->val[2 * i + 1];
		int hi = oc_hex_digit(c0), lo = oc_hex_digit(c1);

		if (c0 == '?' && c1 == '?' && wild_ok) {
			b[i] = 0;
			b[len + i] = 0;
		} else if (hi >= 0 && lo >= 0) {
			b[i] = (uint8_t)(hi << 4 | lo);
			b[len + i] = 1;
		} else {
			free(b);
			return perr(p, "bad hex byte %zu", i);
		}
	}
	*out = b;
	*n = len;
	return OC_OK;
}

/* data= into the record (optional unless required). */
static int
get_data(struct parser *p, struct trace_record *r, bool required)
{
	struct token *t = tok_find(p, "data");
	uint8_t *b = NULL;
	size_t n = 0;
	int rc;

	if (t == NULL)
		return required ? perr(p, "missing data=") : OC_OK;
	t->used = true;
	if ((rc = get_hex(p, t, true, TRACE_MAX_DATA, &b, &n)) != OC_OK)
		return rc;
	r->data = b;
	r->known = b + n;
	r->data_len = n;
	r->has_data = true;
	return OC_OK;
}

static int
get_op(struct parser *p, enum trace_op *op)
{
	struct token *t = tok_find(p, "op");
	size_t i;

	if (t == NULL)
		return perr(p, "missing op=");
	t->used = true;
	if (!name_index(trace_op_names, TRACE_OP_COUNT, t->val, t->vlen, &i))
		return perr(p, "unknown op=");
	*op = (enum trace_op)i;
	return OC_OK;
}

/* ifd=: a RESPONSECODE, decimal, maybe negative (it is a long). */
static int
get_ifd(struct parser *p, long *v)
{
	struct token *t = tok_find(p, "ifd");
	unsigned long long x;
	bool neg;

	if (t == NULL)
		return perr(p, "missing ifd=");
	t->used = true;
	neg = t->vlen > 0 && t->val[0] == '-';
	if (!parse_num(t->val + neg, t->vlen - neg, false, 0x7fffffffull, &x))
		return perr(p, "bad ifd=");
	*v = neg ? -(long)x : (long)x;
	return OC_OK;
}

static int
parse_io(struct parser *p, struct trace_record *r)
{
	int rc;

	switch (r->kind) {
	case TRACE_OUT:
		if ((rc = get_rc(p, false, &r->rc)) != OC_OK)
			return rc;
		return get_data(p, r, true);
	case TRACE_IN:
	case TRACE_INTR:
		if ((rc = get_rc(p, false, &r->rc)) != OC_OK ||
		    (rc = get_data(p, r, false)) != OC_OK)
			return rc;
		/* Either what was read, or why nothing was. */
		if ((r->rc == OC_OK) != r->has_data)
			return perr(p, "%s wants data= or an error rc=",
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

	if ((rc = get_num(p, "type", true, 0xff, &type)) != OC_OK ||
	    (rc = get_num(p, "req", true, 0xff, &req)) != OC_OK ||
	    (rc = get_num(p, "value", true, 0xffff, &value)) != OC_OK ||
	    (rc = get_num(p, "len", false, 0xffff, &len)) != OC_OK ||
	    (rc = get_rc(p, true, &r->rc)) != OC_OK ||
	    (rc = get_data(p, r, true)) != OC_OK)
		return rc;
	if (r->data_len > len)
		return perr(p, "ctl data longer than len=");
	r->type = (uint8_t)type;
	r->req = (uint8_t)req;
	r->value = (uint16_t)value;
	r->len = (uint32_t)len;
	return OC_OK;
}

static int
parse_halt(struct parser *p, struct trace_record *r)
{
	struct token *t = tok_find(p, "ep");

	if (t == NULL)
		return perr(p, "missing ep=");
	t->used = true;
	if (t->vlen == 2 && memcmp(t->val, "in", 2) == 0)
		r->ep_in = true;
	else if (!(t->vlen == 3 && memcmp(t->val, "out", 3) == 0))
		return perr(p, "ep= is in or out");
	return get_rc(p, true, &r->rc);
}

static int
parse_host(struct parser *p, struct trace_record *r)
{
	unsigned long long slot = 0, a = 0, b = 0, cap = 0;
	int rc;

	if ((rc = get_op(p, &r->op)) != OC_OK ||
	    (rc = get_num(p, "slot", false, 0xffff, &slot)) != OC_OK)
		return rc;
	r->slot = (uint32_t)slot;
	if (r->kind == TRACE_RET) {
		if ((rc = get_ifd(p, &r->ifd)) != OC_OK)
			return rc;
		return get_data(p, r, true);
	}
	if ((rc = get_num(p, "a", true, 0xffffffff, &a)) != OC_OK ||
	    (rc = get_num(p, "b", true, 0xffffffff, &b)) != OC_OK ||
	    (rc = get_num(p, "cap", false, TRACE_MAX_DATA, &cap)) != OC_OK)
		return rc;
	r->a = (uint32_t)a;
	r->b = (uint32_t)b;
	r->cap = (uint32_t)cap;
	return get_data(p, r, true);
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
	    !parse_num(s, (size_t)(sp1 - s), false, TRACE_MAX_MS, &ms))
		return perr(p, "expected \"<ms> <kind> ...\"");
	if (ms < prev_ms)
		return perr(p, "time goes backwards");
	r->ms = ms;
	s = sp1 + 1;
	n -= (size_t)(sp1 - p->line) + 1;
	sp2 = memchr(s, ' ', n);
	if (!name_index(trace_kind_names, TRACE_NKINDS, s,
		sp2 != NULL ? (size_t)(sp2 - s) : n, &kind))
		return perr(p, "unknown record kind");
	r->kind = (enum trace_kind)kind;
	if (sp2 == NULL)
		return perr(p, "record without fields");
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
	    (rc = tokenize(p, fields, fields_len)) != OC_OK ||
	    (rc = tok_check_dups(p)) != OC_OK)
		return rc;
	rc = parse_fields(p, r);
	if (rc == OC_OK)
		rc = tok_unused(p);
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
		if ((rc = get_num(p, f[i].key, f[i].hex, f[i].max, &v[i])) !=
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
	return tok_unused(p);
}

/* key=hex into a fixed buffer (NUL-terminated when str). */
static int
get_fixed(struct parser *p, const char *key, uint8_t *dst, size_t max,
    size_t *n, bool str)
{
	struct token *t = tok_find(p, key);
	uint8_t *b = NULL;
	size_t len = 0, i;
	int rc;

	if (t == NULL)
		return perr(p, "missing %s=", key);
	t->used = true;
	if ((rc = get_hex(p, t, false, max, &b, &len)) != OC_OK)
		return rc;
	for (i = 0; str && i < len; i++)
		if (b[i] == 0) {
			free(b);
			return perr(p, "NUL inside %s=", key);
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
	return tok_unused(p);
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
		return perr(p, "expected the \"%s\" header line", words[idx]);
	if ((rc = tokenize(p, p->line + wl + 1, p->len - wl - 1)) != OC_OK ||
	    (rc = tok_check_dups(p)) != OC_OK)
		return rc;
	switch (idx) {
	case 0:
		return parse_device(p, d);
	case 1:
		if ((rc = get_fixed(p, "data", d->desc, TRACE_DESC_MAX,
			 &d->desc_len, false)) != OC_OK)
			return rc;
		return tok_unused(p);
	default:
		return parse_strings(p, d);
	}
}

static int
check_chars(struct parser *p)
{
	size_t i;

	if (p->len > TRACE_MAX_LINE)
		return perr(p, "line longer than %u bytes", TRACE_MAX_LINE);
	for (i = 0; i < p->len; i++)
		if ((unsigned char)p->line[i] < 0x20 ||
		    (unsigned char)p->line[i] > 0x7e)
			return perr(p, "control or non-ASCII byte");
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
		return perr(p, "more than %u records", TRACE_MAX_RECORDS);
	}
	if (t->n == *alloc) {
		na = *alloc == 0 ? 64 : *alloc * 2;
		if (na > TRACE_MAX_RECORDS)
			na = TRACE_MAX_RECORDS;
		if ((nr = realloc(t->rec, na * sizeof(*nr))) == NULL) {
			free((void *)(uintptr_t)r->data);
			return perr(p, "out of memory");
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
			return perr(p, "not \"%s\"", version);
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
		(void)perr(&p, "no text, or more than %u bytes",
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
		rc = perr(&p, "trace ends inside its header");
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
