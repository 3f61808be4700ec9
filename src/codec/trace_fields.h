/*
 * openccid - the field reader under the trace parser (trace_parse.c):
 * a line split into key=value tokens, and each kind of value read with
 * its bound. Private to trace_parse.c and trace_fields.c.
 */
#ifndef OPENCCID_TRACE_FIELDS_H
#define OPENCCID_TRACE_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/trace_types.h"

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

/* Sets p->err to "line N: why"; returns OC_EINVAL. */
int tf_err(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Unsigned number, hex or decimal, at most max; no sign, no prefix. */
bool tf_num(const char *s, size_t n, bool hex, unsigned long long max,
    unsigned long long *v);
/* The index of s[0..n) in names[0..count), which must match whole. */
bool tf_name_index(const char *const *names, size_t count, const char *s,
    size_t n, size_t *idx);

/* Split "key=value key=value" (single spaces) into p->tok. */
int tf_tokenize(struct parser *p, const char *s, size_t n);
/* The token of key, NULL if absent. */
struct token *tf_find(struct parser *p, const char *key);
/* A key given twice is refused; a key nobody used is refused. */
int tf_check_dups(struct parser *p);
int tf_unused(struct parser *p);

/* Each reads its key (marking it used) with its bound, or fails with
 * the line's number and why. */
int tf_get_num(struct parser *p, const char *key, bool hex,
    unsigned long long max, unsigned long long *v);
int tf_get_rc(struct parser *p, bool required, int *rc);
int tf_get_hex(struct parser *p, const struct token *t, bool wild_ok,
    size_t max, uint8_t **out, size_t *n);
int tf_get_data(struct parser *p, struct trace_record *r, bool required);
int tf_get_op(struct parser *p, enum trace_op *op);
int tf_get_ifd(struct parser *p, long *v);

#endif
