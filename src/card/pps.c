/*
 * openccid - PPS exchange bytes, Fi/Di choice, CCID SetParameters
 * payloads and waiting times (ISO/IEC 7816-3:2006 sections 7.1, 9,
 * 10.2, 11.4.3; CCID rev 1.1 section 6.1.7).
 */
#include "config.h"

#include "card/pps.h"

#include <string.h>

#include "base/bytes.h"
#include "base/err.h"

#define PPSS           0xFFu
#define PPS0_PPS1      0x10u
#define DEFAULT_FI     372u
#define RATE_TOLERANCE 100u /* a listed rate matches within 1/100 */

/* Reader-supplied list lengths are capped before use as loop bounds. */
static size_t
cap_count(size_t n)
{
	if (n > PPS_MAX_RATES)
		return PPS_MAX_RATES;
	return n;
}

static bool
rate_listed(const struct pps_reader *rd, uint64_t baud)
{
	size_t i, n = cap_count(rd->nrates);

	if (rd->rates == NULL || n == 0)
		return true;
	for (i = 0; i < n; i++) {
		uint64_t r = rd->rates[i];
		uint64_t d = r > baud ? r - baud : baud - r;
		if (r != 0 && d * RATE_TOLERANCE <= r)
			return true;
	}
	return false;
}

static bool
reader_can(const struct pps_reader *rd, uint64_t baud)
{
	if (rd->dwMaxDataRate != 0 && baud > rd->dwMaxDataRate)
		return false;
	return rate_listed(rd, baud);
}

/* Section 7.1: f must stay within fmax of the card's Fi index. */
static bool
clock_ok(const struct pps_reader *rd, uint32_t khz, uint16_t fmax)
{
	if (khz == 0 || (fmax != 0 && khz > fmax))
		return false;
	return rd->dwMaximumClock == 0 || khz <= rd->dwMaximumClock;
}

/* Best Di index <= the card's Di at this clock, keeping the best so far. */
static void
try_clock(const struct pps_reader *rd, const struct atr_info *atr, uint32_t khz,
    bool any_di, struct pps_choice *best)
{
	uint16_t Fi = atr_fi_value(atr->Fi_index);
	uint8_t card_di = atr_di_value(atr->Di_index), i;
	uint64_t baud;

	if (!clock_ok(rd, khz, atr_fmax_khz(atr->Fi_index)))
		return;
	for (i = 1; i <= 15; i++) {
		uint8_t di = atr_di_value(i);
		if (di == 0 || di > card_di || (!any_di && di != card_di))
			continue;
		baud = (uint64_t)khz * 1000u * di / Fi;
		if (baud <= best->baud || !reader_can(rd, baud))
			continue;
		best->fi_index = atr->Fi_index;
		best->di_index = i;
		best->Fi = Fi;
		best->Di = di;
		best->clock_khz = khz;
		best->baud = (uint32_t)baud;
	}
}

int
pps_choose(const struct atr_info *atr, const struct pps_reader *rd,
    struct pps_choice *out)
{
	struct pps_choice best, dflt;
	size_t i, n;
	bool fixed;

	if (atr == NULL || rd == NULL || out == NULL || rd->dwDefaultClock == 0)
		return OC_EINVAL;
	memset(&dflt, 0, sizeof(dflt));
	dflt.fi_index = 1;
	dflt.di_index = 1;
	dflt.Fi = DEFAULT_FI;
	dflt.Di = 1;
	dflt.clock_khz = rd->dwDefaultClock;
	dflt.baud = (uint32_t)((uint64_t)rd->dwDefaultClock * 1000u / 372u);
	best = dflt;
	best.baud = 0;
	/* Section 8.3 (TA2): specific mode imposes TA1, implicit: default. */
	fixed = atr->specific_mode;
	if (atr_fi_value(atr->Fi_index) == 0 ||
	    atr_di_value(atr->Di_index) == 0 ||
	    (fixed && atr->specific_implicit_params)) {
		*out = dflt;
		return OC_OK;
	}
	n = cap_count(rd->nclocks);
	try_clock(rd, atr, rd->dwDefaultClock, !fixed, &best);
	for (i = 0; rd->clocks != NULL && i < n; i++)
		try_clock(rd, atr, rd->clocks[i], !fixed, &best);
	if (best.baud == 0 || (!fixed && best.baud < dflt.baud)) {
		if (fixed)
			return OC_ENOTSUP;
		best = dflt;
	}
	best.need_pps = !fixed && (best.Fi != DEFAULT_FI || best.Di != 1);
	*out = best;
	return OC_OK;
}

int
pps_build_request(unsigned protocol, bool has_pps1, uint8_t pps1, uint8_t *out,
    size_t cap, size_t *len)
{
	uint8_t pps0, pck;
	struct oc_wbuf w;
	int rc;

	if (protocol > 15)
		return OC_EINVAL;
	pps0 = (uint8_t)(protocol | (has_pps1 ? PPS0_PPS1 : 0u));
	pck = (uint8_t)(PPSS ^ pps0 ^ (has_pps1 ? pps1 : 0u));
	wbuf_init(&w, out, cap);
	if ((rc = wbuf_put_u8(&w, PPSS)) != OC_OK ||
	    (rc = wbuf_put_u8(&w, pps0)) != OC_OK ||
	    (has_pps1 && (rc = wbuf_put_u8(&w, pps1)) != OC_OK) ||
	    (rc = wbuf_put_u8(&w, pck)) != OC_OK)
		return rc;
	*len = w.len;
	return OC_OK;
}

struct pps_msg {
	uint8_t pps0;
	bool has[3];
	uint8_t v[3]; /* PPS1..PPS3 */
};

/* Section 9.2: PPSS, PPS0, the bytes PPS0 b5-b7 announce, PCK. */
static int
pps_parse(const uint8_t *buf, size_t len, struct pps_msg *m)
{
	struct oc_cur c;
	uint8_t b, x;
	int i;

	memset(m, 0, sizeof(*m));
	cur_init(&c, buf, len);
	if (cur_get_u8(&c, &b) != OC_OK || b != PPSS ||
	    cur_get_u8(&c, &m->pps0) != OC_OK || (m->pps0 & 0x80u) != 0)
		return OC_EPROTO;
	x = (uint8_t)(b ^ m->pps0);
	for (i = 0; i < 3; i++) {
		if ((m->pps0 & (0x10u << i)) == 0)
			continue;
		if (cur_get_u8(&c, &m->v[i]) != OC_OK)
			return OC_EPROTO;
		m->has[i] = true;
		x ^= m->v[i];
	}
	if (cur_get_u8(&c, &b) != OC_OK || cur_remaining(&c) != 0 ||
	    (uint8_t)(x ^ b) != 0)
		return OC_EPROTO;
	return OC_OK;
}

int
pps_check_response(const uint8_t *req, size_t req_len, const uint8_t *resp,
    size_t resp_len, bool *accepted)
{
	struct pps_msg q, r;
	int i;

	if (pps_parse(req, req_len, &q) != OC_OK)
		return OC_EINVAL;
	if (pps_parse(resp, resp_len, &r) != OC_OK)
		return OC_EPROTO;
	/* Section 9.3: same protocol; each byte echoed or left out. */
	if ((r.pps0 & 0x0Fu) != (q.pps0 & 0x0Fu))
		return OC_EPROTO;
	for (i = 0; i < 3; i++)
		if (r.has[i] && (!q.has[i] || r.v[i] != q.v[i]))
			return OC_EPROTO;
	*accepted = r.has[0];
	return OC_OK;
}

/* ISO TA for T=15 bits 8-7 and CCID bClockStop share the coding. */
static uint8_t
clock_stop(const struct atr_info *atr)
{
	return (uint8_t)(atr->clock_stop & 0x03u);
}

int
pps_ccid_params_t0(
    const struct atr_info *atr, uint8_t fidi, uint8_t out[PPS_T0_PARAMS_LEN])
{
	if (atr == NULL || out == NULL)
		return OC_EINVAL;
	out[0] = fidi;
	out[1] = atr->inverse ? 0x02u : 0x00u; /* bmTCCKST0: convention */
	out[2] = atr->N;
	out[3] = atr->WI != 0 ? atr->WI : 10u;
	out[4] = clock_stop(atr);
	return OC_OK;
}

int
pps_ccid_params_t1(
    const struct atr_info *atr, uint8_t fidi, uint8_t out[PPS_T1_PARAMS_LEN])
{
	uint8_t tcck = 0x10u; /* bmTCCKST1 bits 7-2 are 000100b */

	if (atr == NULL || out == NULL)
		return OC_EINVAL;
	if (atr->edc_crc)
		tcck |= 0x01u;
	if (atr->inverse)
		tcck |= 0x02u;
	out[0] = fidi;
	out[1] = tcck;
	out[2] = atr->N;
	out[3] = (uint8_t)((atr->bwi & 0x0Fu) << 4 | (atr->cwi & 0x0Fu));
	out[4] = clock_stop(atr);
	out[5] = atr->ifsc >= 1 && atr->ifsc <= 254 ? atr->ifsc : 32u;
	out[6] = 0x00; /* bNadValue */
	return OC_OK;
}

static uint32_t
ms_bounded(uint64_t num, uint64_t den, uint32_t cap_ms)
{
	uint64_t v = (num + den - 1) / den;

	if (v < PPS_TIMEOUT_MIN_MS)
		v = PPS_TIMEOUT_MIN_MS;
	if (cap_ms != 0 && v > cap_ms)
		v = cap_ms;
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/*
 * With f in kHz every quotient is in ms. WWT = 960 WI Fi / f (10.2);
 * BWT = 11 etu + 2^BWI 960 372 / f, CWT = (11 + 2^CWI) etu (11.4.3),
 * etu = Fi / (Di f).
 */
int
pps_timeouts(const struct atr_info *atr, uint16_t Fi, uint8_t Di,
    uint32_t clock_khz, uint32_t cap_ms, struct pps_timeouts *out)
{
	uint64_t f = clock_khz, wi, bw, cw;

	if (atr == NULL || out == NULL || Fi == 0 || Di == 0 || f == 0)
		return OC_EINVAL;
	wi = atr->WI != 0 ? atr->WI : 10u;
	bw = (uint64_t)1 << (atr->bwi & 0x0Fu);
	cw = (uint64_t)1 << (atr->cwi & 0x0Fu);
	out->wwt_ms = ms_bounded(960u * wi * Fi, f, cap_ms);
	out->bwt_ms = ms_bounded(
	    11u * (uint64_t)Fi + bw * 960u * 372u * Di, f * Di, cap_ms);
	out->cwt_ms = ms_bounded((11u + cw) * Fi, f * Di, cap_ms);
	return OC_OK;
}
