/*
 * openccid - the quirk table: conflict check, lookup of one device and
 * the typed accessors of the result (see quirks.h). The parser that fills
 * the table is quirks_parse.c, the human description quirks_describe.c.
 */
#include "config.h"

#include "quirks/quirks.h"

#include <stdio.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "quirks/quirks_keys.h"

void
quirks_table_init(struct quirk_table *t)
{
	t->nentries = 0;
	t->nfiles = 0;
	t->pool_len = 0;
}

static bool
ranges_meet(const struct quirk_match *a, const struct quirk_match *b)
{
	if (!a->any_vid && !b->any_vid && a->vid != b->vid)
		return false;
	if (!a->any_pid && !b->any_pid && a->pid != b->pid)
		return false;
	if (a->interface >= 0 && b->interface >= 0 &&
	    a->interface != b->interface)
		return false;
	return a->bcd_min < b->bcd_max && b->bcd_min < a->bcd_max;
}

static bool
same_value(
    const struct quirk_table *t, enum quirk_key k, uint32_t a, uint32_t b)
{
	if (!quirk_key_in_pool(k))
		return a == b;
	return quirk_pool_len(a) == quirk_pool_len(b) &&
	       memcmp(quirk_pool_at(t, a), quirk_pool_at(t, b),
	           quirk_pool_len(a)) == 0;
}

static const struct quirk_setting *
find_setting(const struct quirk_entry *e, uint16_t key)
{
	size_t i;

	for (i = 0; i < e->nsettings; i++)
		if (e->settings[i].key == key)
			return &e->settings[i];
	return NULL;
}

/*
 * The first key b sets differently from a, or NULL. Two rows meeting one
 * device with the same value are fine (a vendor row repeating a generic
 * one); different values would make the result depend on file order.
 */
static const struct quirk_setting *
entry_conflict(const struct quirk_table *t, const struct quirk_entry *a,
    const struct quirk_entry *b, const struct quirk_setting **in_a)
{
	size_t k;

	for (k = 0; k < a->nsettings; k++) {
		const struct quirk_setting *sa = &a->settings[k];
		const struct quirk_setting *sb = find_setting(b, sa->key);

		if (sb != NULL &&
		    !same_value(t, sa->key, sa->value, sb->value)) {
			*in_a = sa;
			return sb;
		}
	}
	return NULL;
}

int
quirks_check_conflicts(
    const struct quirk_table *t, size_t first, char *err, size_t errlen)
{
	const struct quirk_setting *sa, *sb;
	size_t i, j;

	for (i = first; i < t->nentries; i++)
		for (j = i + 1; j < t->nentries; j++) {
			const struct quirk_entry *a = &t->entries[i];
			const struct quirk_entry *b = &t->entries[j];

			if (!ranges_meet(&a->match, &b->match) ||
			    (sb = entry_conflict(t, a, b, &sa)) == NULL)
				continue;
			if (err != NULL && errlen > 0)
				snprintf(err, errlen,
				    "%s:%u: '%s' conflicts with %s:%u "
				    "for the same device",
				    t->files[sb->file], (unsigned)sb->line,
				    quirk_keys[sa->key].name,
				    t->files[sa->file], (unsigned)sa->line);
			return OC_EINVAL;
		}
	return OC_OK;
}

static bool
entry_matches(const struct quirk_match *m, uint16_t vid, uint16_t pid,
    uint16_t bcd, int interface)
{
	if (!m->any_vid && m->vid != vid)
		return false;
	if (!m->any_pid && m->pid != pid)
		return false;
	if (m->interface >= 0 && m->interface != interface)
		return false;
	return bcd >= m->bcd_min && bcd < m->bcd_max;
}

void
quirks_lookup(const struct quirk_table *t, uint16_t vid, uint16_t pid,
    uint16_t bcd, int interface, struct quirk_set *out)
{
	size_t i, k;

	memset(out, 0, sizeof(*out));
	out->table = t;
	for (i = 0; i < t->nentries; i++) {
		const struct quirk_entry *e = &t->entries[i];

		if (!entry_matches(&e->match, vid, pid, bcd, interface))
			continue;
		for (k = 0; k < e->nsettings; k++) {
			out->present[e->settings[k].key] = 1;
			out->value[e->settings[k].key] = e->settings[k];
		}
	}
}

bool
quirks_has(const struct quirk_set *qs, enum quirk_key key)
{
	return (unsigned)key < QUIRK_KEY_COUNT && qs->present[key] != 0;
}

bool
quirks_flag(const struct quirk_set *qs, enum quirk_key key)
{
	return quirks_has(qs, key) && quirk_keys[key].type == QUIRK_T_FLAG &&
	       qs->value[key].value != 0;
}

bool
quirks_get_u32(const struct quirk_set *qs, enum quirk_key key, uint32_t *v)
{
	if (!quirks_has(qs, key) || quirk_key_in_pool(key))
		return false;
	*v = qs->value[key].value;
	return true;
}

bool
quirks_get_bytes(const struct quirk_set *qs, enum quirk_key key,
    const uint8_t **p, size_t *n)
{
	uint32_t v;

	if (!quirks_has(qs, key) || quirk_keys[key].type != QUIRK_T_BYTES)
		return false;
	v = qs->value[key].value;
	*p = quirk_pool_at(qs->table, v);
	*n = quirk_pool_len(v);
	return true;
}

bool
quirks_get_list(const struct quirk_set *qs, enum quirk_key key, uint32_t *out,
    size_t cap, size_t *n)
{
	const uint8_t *p;
	uint32_t v;
	size_t i, cnt;

	if (!quirks_has(qs, key) || quirk_keys[key].type != QUIRK_T_LIST)
		return false;
	v = qs->value[key].value;
	p = quirk_pool_at(qs->table, v);
	cnt = quirk_pool_len(v) / 4;
	if (cnt > cap)
		return false;
	for (i = 0; i < cnt; i++)
		out[i] = le32_load(p + 4 * i);
	*n = cnt;
	return true;
}
