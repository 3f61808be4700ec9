/*
 * openccid - Answer To Reset parser (ISO/IEC 7816-3:2006 section 8).
 */
#include "config.h"

#include "card/atr.h"

#include <string.h>

#include "base/bytes.h"
#include "base/err.h"

#define ATR_TS_DIRECT  0x3B
#define ATR_TS_INVERSE 0x3F
#define ATR_T_GLOBAL   15 /* T=15: global interface bytes (8.2.3) */

/* ISO 7816-3 table 7: Fi and f(max) in kHz; 0 = RFU */
static const uint16_t fi_table[16] = {372, 372, 558, 744, 1116, 1488, 1860, 0,
    0, 512, 768, 1024, 1536, 2048, 0, 0};
static const uint16_t fmax_table[16] = {4000, 5000, 6000, 8000, 12000, 16000,
    20000, 0, 0, 5000, 7500, 10000, 15000, 20000, 0, 0};
/* ISO 7816-3 table 8: Di; 0 = RFU */
static const uint8_t di_table[16] = {
    0, 1, 2, 4, 8, 16, 32, 64, 12, 20, 0, 0, 0, 0, 0, 0};

uint16_t
atr_fi_value(uint8_t index)
{
	return index < 16 ? fi_table[index] : 0;
}

uint8_t
atr_di_value(uint8_t index)
{
	return index < 16 ? di_table[index] : 0;
}

uint16_t
atr_fmax_khz(uint8_t fi_index)
{
	return fi_index < 16 ? fmax_table[fi_index] : 0;
}

/*
 * One more ATR byte: OC_ERANGE past the 33 bytes an ATR may have (8.2.1),
 * OC_ETRUNC when the buffer ends first.
 */
static int
atr_next(struct oc_cur *c, size_t *pos, uint8_t *v)
{
	int rc;

	if (*pos >= ATR_MAX_LEN)
		return OC_ERANGE;
	if ((rc = cur_get_u8(c, v)) != 0)
		return rc;
	*pos += 1;
	return OC_OK;
}

/*
 * Interface byte groups (8.2.3): Y in the high nibble of T0 and of each
 * TD says which of TA, TB, TC, TD follow. Only non-empty groups count.
 */
static int
parse_groups(struct oc_cur *c, size_t *pos, struct atr_info *a)
{
	unsigned y = (unsigned)(a->T0 >> 4);
	unsigned i = 0;

	while (y != 0) {
		int rc;

		if (i >= ATR_MAX_GROUPS)
			return OC_ERANGE;
		a->group[i].has_ta = (y & 0x1u) != 0;
		a->group[i].has_tb = (y & 0x2u) != 0;
		a->group[i].has_tc = (y & 0x4u) != 0;
		a->group[i].has_td = (y & 0x8u) != 0;
		if ((a->group[i].has_ta &&
		        (rc = atr_next(c, pos, &a->group[i].ta)) != 0) ||
		    (a->group[i].has_tb &&
		        (rc = atr_next(c, pos, &a->group[i].tb)) != 0) ||
		    (a->group[i].has_tc &&
		        (rc = atr_next(c, pos, &a->group[i].tc)) != 0) ||
		    (a->group[i].has_td &&
		        (rc = atr_next(c, pos, &a->group[i].td)) != 0))
			return rc;
		y = a->group[i].has_td ? (unsigned)(a->group[i].td >> 4) : 0;
		i++;
	}
	a->ngroups = i;
	return OC_OK;
}

static void
decode_global(struct atr_info *a, unsigned *warn)
{
	if (a->ngroups >= 1 && a->group[0].has_ta) {
		a->Fi_index = (uint8_t)(a->group[0].ta >> 4);
		a->Di_index = (uint8_t)(a->group[0].ta & 0x0F);
	}
	a->Fi = atr_fi_value(a->Fi_index);
	a->Di = atr_di_value(a->Di_index);
	a->fmax_khz = atr_fmax_khz(a->Fi_index);
	if (a->Fi == 0 || a->Di == 0)
		*warn |= ATR_WARN_RFU_FI_DI;
	if (a->ngroups >= 1 && a->group[0].has_tc)
		a->N = a->group[0].tc;
	if (a->ngroups >= 2 && a->group[1].has_tc)
		a->WI = a->group[1].tc;
	/* TA2: specific mode byte (8.3) */
	if (a->ngroups >= 2 && a->group[1].has_ta) {
		uint8_t ta2 = a->group[1].ta;

		a->specific_mode = true;
		a->specific_protocol = (uint8_t)(ta2 & 0x0F);
		a->specific_can_change = (ta2 & 0x80) == 0;
		a->specific_implicit_params = (ta2 & 0x10) != 0;
	}
}

/*
 * Protocol-specific bytes: group i+1 follows a TD_i naming T. For T=1 only
 * i >= 2 counts (TA2/TB2/TC2 are global or T=0 bytes), ISO 7816-3 11.4;
 * for T=15 the first TA is class indicator + clock stop (8.3).
 */
static void
decode_specific(struct atr_info *a)
{
	bool t1_ta = false, t1_tb = false, t1_tc = false, t15_ta = false;
	unsigned i;

	for (i = 1; i < a->ngroups; i++) {
		unsigned t;

		if (!a->group[i - 1].has_td)
			break;
		t = a->group[i - 1].td & 0x0Fu;
		if (t == 1 && i >= 2) {
			if (a->group[i].has_ta && !t1_ta) {
				a->ifsc = a->group[i].ta;
				t1_ta = true;
			}
			if (a->group[i].has_tb && !t1_tb) {
				a->bwi = (uint8_t)(a->group[i].tb >> 4);
				a->cwi = (uint8_t)(a->group[i].tb & 0x0F);
				t1_tb = true;
			}
			if (a->group[i].has_tc && !t1_tc) {
				a->edc_crc = (a->group[i].tc & 0x01) != 0;
				t1_tc = true;
			}
		} else if (t == ATR_T_GLOBAL && a->group[i].has_ta && !t15_ta) {
			a->class_indicator = (uint8_t)(a->group[i].ta & 0x3F);
			a->clock_stop = (uint8_t)(a->group[i].ta >> 6);
			t15_ta = true;
		}
	}
}

static void
atr_defaults(struct atr_info *a)
{
	memset(a, 0, sizeof(*a));
	a->Fi_index = 1;
	a->Di_index = 1;
	a->WI = 10;
	a->ifsc = 32;
	a->bwi = 4;
	a->cwi = 13;
}

static void
collect_protocols(struct atr_info *a)
{
	unsigned i;

	for (i = 0; i < a->ngroups; i++)
		if (a->group[i].has_td)
			a->protocols |= 1u << (a->group[i].td & 0x0Fu);
	if (a->ngroups >= 1 && a->group[0].has_td)
		a->first_protocol = a->group[0].td & 0x0Fu;
	else
		a->protocols |= 1u; /* T=0 is the default (8.2.3) */
}

/* TCK (8.2.5): absent when only T=0 is indicated, else required. */
static int
parse_tck(struct oc_cur *c, size_t *pos, struct atr_info *a, unsigned *warn)
{
	int rc;

	if ((a->protocols & ~1u) == 0)
		return OC_OK;
	if (cur_remaining(c) == 0) {
		*warn |= ATR_WARN_TCK_MISSING;
		return OC_OK;
	}
	if ((rc = atr_next(c, pos, &a->tck)) != 0)
		return rc;
	a->has_tck = true;
	return OC_OK;
}

/* Keep the ATR bytes and check that T0..TCK XOR to zero (8.2.5). */
static int
keep_raw(const uint8_t *buf, size_t len, struct atr_info *a, unsigned *warn)
{
	struct oc_cur c;
	uint8_t x = 0;
	size_t k;
	int rc;

	cur_init(&c, buf, len);
	if ((rc = cur_get_bytes(&c, a->raw, a->len)) != 0)
		return rc;
	if (!a->has_tck)
		return OC_OK;
	for (k = 1; k < a->len; k++)
		x ^= a->raw[k];
	if (x != 0)
		*warn |= ATR_WARN_TCK_WRONG;
	return OC_OK;
}

int
atr_parse(
    const uint8_t *buf, size_t len, struct atr_info *out, unsigned *warnings)
{
	struct atr_info a;
	struct oc_cur c;
	unsigned warn = 0;
	size_t pos = 0;
	uint8_t ts;
	int rc;

	if (buf == NULL || out == NULL)
		return OC_EINVAL;
	atr_defaults(&a);
	cur_init(&c, buf, len);
	if ((rc = atr_next(&c, &pos, &ts)) != 0)
		return rc;
	if (ts != ATR_TS_DIRECT && ts != ATR_TS_INVERSE)
		return OC_EINVAL;
	a.inverse = ts == ATR_TS_INVERSE;
	if ((rc = atr_next(&c, &pos, &a.T0)) != 0)
		return rc;
	a.hist_len = a.T0 & 0x0Fu;
	if ((rc = parse_groups(&c, &pos, &a)) != 0)
		return rc;
	if (a.hist_len > ATR_MAX_LEN - pos)
		return OC_ERANGE;
	if ((rc = cur_get_bytes(&c, a.hist, a.hist_len)) != 0)
		return rc;
	pos += a.hist_len;
	collect_protocols(&a);
	if ((rc = parse_tck(&c, &pos, &a, &warn)) != 0)
		return rc;
	a.len = pos;
	if ((rc = keep_raw(buf, len, &a, &warn)) != 0)
		return rc;
	if (cur_remaining(&c) != 0)
		warn |= ATR_WARN_EXTRA_BYTES;
	decode_global(&a, &warn);
	decode_specific(&a);
	*out = a;
	if (warnings != NULL)
		*warnings = warn;
	return OC_OK;
}
