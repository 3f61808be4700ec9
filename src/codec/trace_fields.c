/*
 * openccid - the trace parser's field reader (see trace_fields.h): every
 * number, name and hex string of a trace line is read here, bounded.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "codec/trace_fields.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "codec/trace_names.h"

int
tf_err(struct parser *p, const char *fmt, ...)
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
bool
tf_num(const char *s, size_t n, bool hex, unsigned long long max,
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
bool
tf_name_index(const char *const *names, size_t count, const char *s, size_t n,
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
int
tf_tokenize(struct parser *p, const char *s, size_t n)
{
	size_t i = 0, start, eq;

	p->ntok = 0;
	while (i < n) {
		if (p->ntok == TRACE_MAX_TOKENS)
			return tf_err(p, "too many fields");
		start = i;
		eq = SIZE_MAX;
		while (i < n && s[i] != ' ') {
			if (s[i] == '=' && eq == SIZE_MAX)
				eq = i;
			i++;
		}
		if (eq == SIZE_MAX || eq == start)
			return tf_err(p, "field %zu is not key=value",
			    p->ntok + 1);
		p->tok[p->ntok] = (struct token){s + start, s + eq + 1,
		    eq - start, i - eq - 1, false};
		p->ntok++;
		if (i < n) {
			i++; /* the space */
			if (i == n || s[i] == ' ')
				return tf_err(p, "stray space");
		}
	}
	return OC_OK;
}

/* The value of key, NULL if absent; duplicates were refused earlier. */
struct token *
tf_find(struct parser *p, const char *key)
{
	size_t i, kl = strlen(key);

	for (i = 0; i < p->ntok; i++)
		if (p->tok[i].klen == kl && memcmp(p->tok[i].key, key, kl) == 0)
			return &p->tok[i];
	return NULL;
}

int
tf_check_dups(struct parser *p)
{
	size_t i, j;

	for (i = 0; i < p->ntok; i++)
		for (j = i + 1; j < p->ntok; j++)
			if (p->tok[i].klen == p->tok[j].klen &&
			    memcmp(p->tok[i].key, p->tok[j].key,
				p->tok[i].klen) == 0)
				return tf_err(p, "field %.*s repeated",
				    (int)p->tok[i].klen, p->tok[i].key);
	return OC_OK;
}

int
tf_unused(struct parser *p)
{
	size_t i;

	for (i = 0; i < p->ntok; i++)
		if (!p->tok[i].used)
			return tf_err(p, "unknown field %.*s",
			    (int)(p->tok[i].klen > 32 ? 32 : p->tok[i].klen),
			    p->tok[i].key);
	return OC_OK;
}

int
tf_get_num(struct parser *p, const char *key, bool hex, unsigned long long max,
    unsigned long long *v)
{
	struct token *t = tf_find(p, key);

	if (t == NULL)
		return tf_err(p, "missing %s=", key);
	t->used = true;
	if (!tf_num(t->val, t->vlen, hex, max, v))
		return tf_err(p, "bad %s= (want %s at most %llx)", key,
		    hex ? "hex" : "decimal", max);
	return OC_OK;
}

int
tf_get_rc(struct parser *p, bool required, int *rc)
{
	struct token *t = tf_find(p, "rc");
	size_t i;

	*rc = OC_OK;
	if (t == NULL)
		return required ? tf_err(p, "missing rc=") : OC_OK;
	t->used = true;
	if (!tf_name_index(trace_rc_names, TRACE_NRCS, t->val, t->vlen, &i))
		return tf_err(p, "unknown rc=");
	*rc = -(int)i;
	return OC_OK;
}

/*
 * Hex with "??" wildcards into a fresh buffer: bytes then the known
 * mask (n each). wild_ok false: wildcards refused (header fields).
 */
int
tf_get_hex(struct parser *p, const struct token *t, bool wild_ok, size_t max,
    uint8_t **out, size_t *n)
{
	size_t i, len;
	uint8_t *b;

	if (t->vlen % 2 != 0)
		return tf_err(p, "odd number of hex digits");
	len = t->vlen / 2;
	if (len > max)
		return tf_err(p, "more than %zu bytes", max);
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
			return tf_err(p, "bad hex byte %zu", i);
		}
	}
	*out = b;
	*n = len;
	return OC_OK;
}

/* data= into the record (optional unless required). */
int
tf_get_data(struct parser *p, struct trace_record *r, bool required)
{
	struct token *t = tf_find(p, "data");
	uint8_t *b = NULL;
	size_t n = 0;
	int rc;

	if (t == NULL)
		return required ? tf_err(p, "missing data=") : OC_OK;
	t->used = true;
	if ((rc = tf_get_hex(p, t, true, TRACE_MAX_DATA, &b, &n)) != OC_OK)
		return rc;
	r->data = b;
	r->known = b + n;
	r->data_len = n;
	r->has_data = true;
	return OC_OK;
}

int
tf_get_op(struct parser *p, enum trace_op *op)
{
	struct token *t = tf_find(p, "op");
	size_t i;

	if (t == NULL)
		return tf_err(p, "missing op=");
	t->used = true;
	if (!tf_name_index(trace_op_names, TRACE_OP_COUNT, t->val, t->vlen, &i))
		return tf_err(p, "unknown op=");
	*op = (enum trace_op)i;
	return OC_OK;
}

/* ifd=: a RESPONSECODE, decimal, maybe negative (it is a long). */
int
tf_get_ifd(struct parser *p, long *v)
{
	struct token *t = tf_find(p, "ifd");
	unsigned long long x;
	bool neg;

	if (t == NULL)
		return tf_err(p, "missing ifd=");
	t->used = true;
	neg = t->vlen > 0 && t->val[0] == '-';
	if (!tf_num(t->val + neg, t->vlen - neg, false, 0x7fffffffull, &x))
		return tf_err(p, "bad ifd=");
	*v = neg ? -(long)x : (long)x;
	return OC_OK;
}

