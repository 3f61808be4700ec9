/*
 * openccid - quirks file parser (see quirks.h, quirks/README.md).
 *
 * Quirks files are untrusted text (an administrator's run-time overrides
 * as much as our own data): every line, token, number, list and table is
 * bounded, and anything not exactly in the documented format is refused
 * with file:line, never guessed at.
 */
#include "config.h"

#include "quirks/quirks_parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "quirks/quirks_keys.h"

struct token {
	const char *p;
	size_t n;
};

struct parser {
	struct quirk_table *t;
	const char *file;
	uint16_t file_idx;
	uint32_t line;
	struct quirk_entry *cur;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int
fail(struct parser *ps, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ps->err != NULL && ps->errlen > 0)
		snprintf(ps->err, ps->errlen, "%s:%u: %s", ps->file,
		    (unsigned)ps->line, msg);
	return OC_EINVAL;
}

static bool
tok_eq(struct token tk, const char *s)
{
	size_t n = strlen(s);

	return tk.n == n && memcmp(tk.p, s, n) == 0;
}

static bool
tok_prefix(struct token tk, const char *s, struct token *rest)
{
	size_t n = strlen(s);

	if (tk.n < n || memcmp(tk.p, s, n) != 0)
		return false;
	rest->p = tk.p + n;
	rest->n = tk.n - n;
	return true;
}

/* Decimal, or 0x followed by 1..8 hex digits; no sign, no overflow. */
static bool
parse_u32(struct token tk, uint32_t *v)
{
	uint64_t acc = 0;
	size_t i;

	if (tk.n > 2 && tk.p[0] == '0' && (tk.p[1] == 'x' || tk.p[1] == 'X')) {
		if (tk.n > 10)
			return false;
		for (i = 2; i < tk.n; i++) {
			int d = oc_hex_digit(tk.p[i]);

			if (d < 0)
				return false;
			acc = acc << 4 | (unsigned)d;
		}
	} else {
		if (tk.n == 0 || tk.n > 10)
			return false;
		for (i = 0; i < tk.n; i++) {
			if (tk.p[i] < '0' || tk.p[i] > '9')
				return false;
			acc = acc * 10 + (unsigned)(tk.p[i] - '0');
		}
		if (acc > UINT32_MAX)
			return false;
	}
	*v = (uint32_t)acc;
	return true;
}

/* A USB ID: exactly four hex digits, or "*". */
static bool
parse_id(struct token tk, uint16_t *v, bool *any)
{
	unsigned acc = 0;
	size_t i;

	if (tok_eq(tk, "*")) {
		*any = true;
		*v = 0;
		return true;
	}
	if (tk.n != 4)
		return false;
	for (i = 0; i < 4; i++) {
		int d = oc_hex_digit(tk.p[i]);

		if (d < 0)
			return false;
		acc = acc << 4 | (unsigned)d;
	}
	*any = false;
	*v = (uint16_t)acc;
	return true;
}

/* Match-line state: which conditions were given, to refuse repeats. */
struct match_seen {
	bool vid, pid, bcd_eq, bcd_min, bcd_max, interface;
};

static int
parse_bcd(struct parser *ps, struct token val, uint32_t *v)
{
	if (!parse_u32(val, v) || *v > 0xffff)
		return fail(ps, "malformed bcdDevice '%.*s' (0x0000..0xffff)",
		    (int)val.n, val.p);
	return OC_OK;
}

static int
match_id(struct parser *ps, struct token tk, struct token val, bool *seen,
    uint16_t *id, bool *any)
{
	if (*seen)
		return fail(
		    ps, "duplicate '%.*s' in match", (int)(tk.n - val.n), tk.p);
	if (!parse_id(val, id, any))
		return fail(ps, "malformed USB ID '%.*s' (4 hex digits or *)",
		    (int)val.n, val.p);
	*seen = true;
	return OC_OK;
}

/*
 * bcd>=X, bcd<=X, bcd<X, bcd=X: kept as the half-open range
 * [bcd_min, bcd_max) that lookup and the conflict check compare.
 */
static int
match_bcd(struct parser *ps, struct token tk, struct quirk_match *m,
    struct match_seen *s)
{
	struct token val;
	uint32_t v;

	if (tok_prefix(tk, "bcd>=", &val)) {
		if (s->bcd_min || s->bcd_eq)
			return fail(ps, "duplicate lower bcd bound in match");
		s->bcd_min = true;
		return parse_bcd(ps, val, &m->bcd_min);
	}
	if (tok_prefix(tk, "bcd<=", &val) || tok_prefix(tk, "bcd<", &val)) {
		bool incl = val.p == tk.p + 5;

		if (s->bcd_max || s->bcd_eq)
			return fail(ps, "duplicate upper bcd bound in match");
		s->bcd_max = true;
		if (parse_bcd(ps, val, &v) != OC_OK)
			return OC_EINVAL;
		m->bcd_max = incl ? v + 1 : v;
		return OC_OK;
	}
	if (tok_prefix(tk, "bcd=", &val)) {
		if (s->bcd_eq || s->bcd_min || s->bcd_max)
			return fail(ps, "duplicate bcd condition in match");
		s->bcd_eq = true;
		if (parse_bcd(ps, val, &v) != OC_OK)
			return OC_EINVAL;
		m->bcd_min = v;
		m->bcd_max = v + 1;
		return OC_OK;
	}
	return fail(ps, "unknown match condition '%.*s'", (int)tk.n, tk.p);
}

static int
match_token(struct parser *ps, struct token tk, struct quirk_match *m,
    struct match_seen *s)
{
	struct token val;
	uint32_t v;

	if (tok_eq(tk, "any")) {
		if (s->vid || s->pid)
			return fail(ps, "duplicate vid/pid in match");
		s->vid = s->pid = true;
		m->any_vid = m->any_pid = true;
		return OC_OK;
	}
	if (tok_prefix(tk, "vid=", &val))
		return match_id(ps, tk, val, &s->vid, &m->vid, &m->any_vid);
	if (tok_prefix(tk, "pid=", &val))
		return match_id(ps, tk, val, &s->pid, &m->pid, &m->any_pid);
	if (tok_prefix(tk, "interface=", &val)) {
		if (s->interface)
			return fail(ps, "duplicate 'interface' in match");
		if (!parse_u32(val, &v) || v > 255)
			return fail(ps, "malformed interface '%.*s' (0..255)",
			    (int)val.n, val.p);
		s->interface = true;
		m->interface = (int)v;
		return OC_OK;
	}
	if (tok_prefix(tk, "bcd", &val))
		return match_bcd(ps, tk, m, s);
	return fail(ps, "unknown match condition '%.*s'", (int)tk.n, tk.p);
}

static int
close_entry(struct parser *ps)
{
	struct quirk_entry *e = ps->cur;

	ps->cur = NULL;
	if (e != NULL && e->nsettings == 0) {
		ps->line = e->line;
		return fail(ps, "match without any 'set' line");
	}
	return OC_OK;
}

static bool
next_token(const char **p, const char *end, struct token *tk)
{
	const char *s = *p;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == end || *s == '#') {
		*p = end;
		return false;
	}
	tk->p = s;
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	tk->n = (size_t)(s - tk->p);
	*p = s;
	return true;
}

static int
do_match(struct parser *ps, const char *p, const char *end)
{
	struct quirk_table *t = ps->t;
	struct match_seen seen = {0};
	struct quirk_entry *e;
	struct token tk;
	int rc;

	if ((rc = close_entry(ps)) != OC_OK)
		return rc;
	if (t->nentries >= QUIRKS_MAX_ENTRIES) {
		(void)fail(
		    ps, "too many entries (at most %d)", QUIRKS_MAX_ENTRIES);
		return OC_ENOSPC;
	}
	e = &t->entries[t->nentries];
	memset(e, 0, sizeof(*e));
	e->match.bcd_max = 0x10000;
	e->match.interface = -1;
	e->file = ps->file_idx;
	e->line = ps->line;
	while (next_token(&p, end, &tk))
		if ((rc = match_token(ps, tk, &e->match, &seen)) != OC_OK)
			return rc;
	if (!seen.vid || !seen.pid)
		return fail(ps, "match needs vid= and pid= (or 'any')");
	if (e->match.any_vid && !e->match.any_pid)
		return fail(ps, "pid given with vid=*");
	if (e->match.bcd_min >= e->match.bcd_max)
		return fail(ps, "empty bcd range");
	t->nentries++;
	ps->cur = e;
	return OC_OK;
}

static int
pool_put(struct parser *ps, const uint8_t *b, size_t n, uint32_t *value)
{
	struct quirk_table *t = ps->t;

	if (n > QUIRKS_POOL_SIZE - t->pool_len) {
		(void)fail(ps, "value pool full (%d bytes)", QUIRKS_POOL_SIZE);
		return OC_ENOSPC;
	}
	memcpy(t->pool + t->pool_len, b, n);
	*value = (uint32_t)(t->pool_len << 8 | n);
	t->pool_len += n;
	return OC_OK;
}

static int
check_range(struct parser *ps, const struct quirk_key_def *k, uint32_t v)
{
	if (v >= k->min && v <= k->max)
		return OC_OK;
	(void)fail(ps, "%u out of range for '%s' (%u..%u)", (unsigned)v,
	    k->name, (unsigned)k->min, (unsigned)k->max);
	return OC_ERANGE;
}

static int
value_bytes(struct parser *ps, const struct quirk_key_def *k, struct token val,
    uint32_t *value)
{
	uint8_t b[QUIRKS_MAX_BYTES];
	size_t i;

	if (val.n == 0 || val.n % 2 != 0 || val.n / 2 > QUIRKS_MAX_BYTES)
		return fail(ps, "'%s' needs 1..%d bytes as hex digit pairs",
		    k->name, QUIRKS_MAX_BYTES);
	for (i = 0; i < val.n; i += 2) {
		int hi = oc_hex_digit(val.p[i]),
		    lo = oc_hex_digit(val.p[i + 1]);

		if (hi < 0 || lo < 0)
			return fail(ps, "malformed hex string '%.*s' for '%s'",
			    (int)val.n, val.p, k->name);
		b[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return pool_put(ps, b, val.n / 2, value);
}

static int
value_list(struct parser *ps, const struct quirk_key_def *k, struct token val,
    uint32_t *value)
{
	uint8_t b[QUIRKS_MAX_LIST * 4];
	size_t n = 0, i = 0;

	for (;;) {
		struct token item = {val.p + i, 0};
		uint32_t v;

		while (i < val.n && val.p[i] != ',')
			i++;
		item.n = (size_t)(val.p + i - item.p);
		if (n == QUIRKS_MAX_LIST)
			return fail(ps, "'%s' takes at most %d numbers",
			    k->name, QUIRKS_MAX_LIST);
		if (!parse_u32(item, &v))
			return fail(ps, "malformed number '%.*s' in '%s'",
			    (int)item.n, item.p, k->name);
		if (check_range(ps, k, v) != OC_OK)
			return OC_ERANGE;
		le32_store(b + 4 * n++, v);
		if (i == val.n)
			break;
		i++; /* the comma; a trailing one leaves an empty item */
	}
	return pool_put(ps, b, 4 * n, value);
}

static int
parse_value(struct parser *ps, const struct quirk_key_def *k, bool has_val,
    struct token val, uint32_t *value)
{
	size_t i;

	if (k->type == QUIRK_T_FLAG) {
		if (!has_val || tok_eq(val, "true"))
			*value = 1;
		else if (tok_eq(val, "false"))
			*value = 0;
		else
			return fail(ps,
			    "flag '%s' takes no value, or true/false", k->name);
		return OC_OK;
	}
	if (!has_val)
		return fail(ps, "'%s' needs a value", k->name);
	switch (k->type) {
	case QUIRK_T_U32:
		if (!parse_u32(val, value))
			return fail(ps, "malformed number '%.*s' for '%s'",
			    (int)val.n, val.p, k->name);
		return check_range(ps, k, *value);
	case QUIRK_T_ENUM:
		for (i = 0; i < QUIRK_LEVEL_COUNT; i++)
			if (tok_eq(val, quirk_level_names[i])) {
				*value = (uint32_t)i;
				return OC_OK;
			}
		return fail(ps, "'%.*s' is not a value of '%s'", (int)val.n,
		    val.p, k->name);
	case QUIRK_T_BYTES:
		return value_bytes(ps, k, val, value);
	case QUIRK_T_LIST:
		return value_list(ps, k, val, value);
	case QUIRK_T_FLAG:
		break;
	}
	return fail(ps, "internal: bad key type");
}

static int
set_token(struct parser *ps, struct token tk)
{
	struct quirk_entry *e = ps->cur;
	struct token name = tk, val = {tk.p + tk.n, 0};
	const char *eq = memchr(tk.p, '=', tk.n);
	struct quirk_setting *s;
	size_t k, i;
	int rc;

	if (eq != NULL) {
		name.n = (size_t)(eq - tk.p);
		val.p = eq + 1;
		val.n = tk.n - name.n - 1;
	}
	for (k = 0; k < QUIRK_KEY_COUNT; k++)
		if (tok_eq(name, quirk_keys[k].name))
			break;
	if (k == QUIRK_KEY_COUNT)
		return fail(ps, "unknown key '%.*s'", (int)name.n, name.p);
	for (i = 0; i < e->nsettings; i++)
		if (e->settings[i].key == k)
			return fail(ps, "duplicate key '%s' in entry (line %u)",
			    quirk_keys[k].name, (unsigned)e->settings[i].line);
	if (e->nsettings == QUIRKS_MAX_SETTINGS) {
		(void)fail(ps, "too many keys in one entry (at most %d)",
		    QUIRKS_MAX_SETTINGS);
		return OC_ENOSPC;
	}
	s = &e->settings[e->nsettings];
	s->key = (uint16_t)k;
	s->file = ps->file_idx;
	s->line = ps->line;
	rc = parse_value(ps, &quirk_keys[k], eq != NULL, val, &s->value);
	if (rc == OC_OK)
		e->nsettings++;
	return rc;
}

static int
do_line(struct parser *ps, const char *p, const char *end)
{
	struct token tk;
	int rc, n = 0;

	if (!next_token(&p, end, &tk))
		return OC_OK;
	if (tok_eq(tk, "match"))
		return do_match(ps, p, end);
	if (!tok_eq(tk, "set"))
		return fail(ps, "expected 'match' or 'set', not '%.*s'",
		    (int)tk.n, tk.p);
	if (ps->cur == NULL)
		return fail(ps, "'set' before any 'match'");
	while (next_token(&p, end, &tk)) {
		if ((rc = set_token(ps, tk)) != OC_OK)
			return rc;
		n++;
	}
	if (n == 0)
		return fail(ps, "'set' without a key");
	return OC_OK;
}

static int
check_chars(struct parser *ps, const char *p, size_t n)
{
	size_t i;

	if (n > QUIRKS_MAX_LINE) {
		(void)fail(ps, "line longer than %d bytes", QUIRKS_MAX_LINE);
		return OC_ERANGE;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if ((ch < 0x20 && ch != '\t') || ch > 0x7e)
			return fail(
			    ps, "invalid byte 0x%02x at column %zu", ch, i + 1);
	}
	return OC_OK;
}

static int
parse_text(struct parser *ps, const char *text, size_t len)
{
	size_t off = 0;
	int rc;

	while (off < len) {
		const char *p = text + off;
		const char *nl = memchr(p, '\n', len - off);
		size_t n = nl != NULL ? (size_t)(nl - p) : len - off;

		ps->line++;
		if ((rc = check_chars(ps, p, n)) != OC_OK)
			return rc;
		if ((rc = do_line(ps, p, p + n)) != OC_OK)
			return rc;
		off += n + (nl != NULL ? 1 : 0);
	}
	return close_entry(ps);
}

int
quirks_parse(const char *text, size_t len, const char *filename,
    struct quirk_table *t, char *err, size_t errlen)
{
	struct parser ps = {t, filename != NULL ? filename : "(quirks)", 0, 0,
	    NULL, err, errlen};
	size_t nentries = t->nentries, pool_len = t->pool_len;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (text == NULL && len > 0)
		return fail(&ps, "no text");
	if (len > QUIRKS_MAX_FILE_SIZE) {
		(void)fail(
		    &ps, "file larger than %d bytes", QUIRKS_MAX_FILE_SIZE);
		return OC_ERANGE;
	}
	if (t->nfiles >= QUIRKS_MAX_FILES) {
		(void)fail(
		    &ps, "too many files (at most %d)", QUIRKS_MAX_FILES);
		return OC_ENOSPC;
	}
	ps.file_idx = (uint16_t)t->nfiles;
	snprintf(t->files[t->nfiles], QUIRKS_MAX_NAME, "%s", ps.file);
	rc = parse_text(&ps, text, len);
	if (rc != OC_OK) {
		t->nentries = nentries;
		t->pool_len = pool_len;
		return rc;
	}
	t->nfiles++;
	return OC_OK;
}
