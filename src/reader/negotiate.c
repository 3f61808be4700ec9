/*
 * openccid - PPS, SetParameters and IFSD on TPDU-level readers (see
 * negotiate.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "reader/negotiate.h"

#include <string.h>

#include "base/bytes.h"
#include "ccid/ccid_cmd.h"
#include "codec/ccid_msg.h"
#include "base/err.h"
#include "base/log.h"
#include "card/pps.h"
#include "reader/reader_state.h"
#include "reader/xfr_tpdu.h"

#define REQTYPE_CLASS_IF_IN 0xA1 /* device-to-host, class, interface */
#define DEFAULT_FIDI        0x11 /* Fi = 372, Di = 1 */

size_t
negotiate_parse_list(
    const uint8_t *buf, size_t len, uint32_t max, uint32_t *out, size_t cap)
{
	struct oc_cur c;
	uint32_t v;
	size_t n = 0;

	cur_init(&c, buf, len);
	while (n < cap && cur_get_le32(&c, &v) == OC_OK) {
		if (v == 0 || (max != 0 && v > max))
			continue;
		out[n++] = v;
	}
	return n;
}

/* One list request; any failure but a gone device gives no list. */
static int
read_list(
    struct reader *r, uint8_t bRequest, uint32_t max, uint32_t *out, size_t *n)
{
	uint8_t buf[PPS_MAX_RATES * 4];
	size_t got = 0;
	int rc;

	*n = 0;
	rc = r->io.tr.ops->control(r->io.tr.ctx, REQTYPE_CLASS_IF_IN, bRequest,
	    0, buf, sizeof(buf), &got, NEGOTIATE_CTRL_TIMEOUT_MS);
	if (rc == OC_ENODEV)
		return rc;
	if (rc != OC_OK) {
		OC_LOG_INFO("class request 0x%02X failed: %s", bRequest,
		    oc_strerror(rc));
		return OC_OK;
	}
	if (got > sizeof(buf))
		got = 0;
	*n = negotiate_parse_list(buf, got, max, out, PPS_MAX_RATES);
	OC_LOG_INFO("class request 0x%02X: %zu bytes, %zu values kept",
	    bRequest, got, *n);
	return OC_OK;
}

int
negotiate_power_up(struct reader *r, unsigned slot)
{
	const struct ccid_desc *d = &r->info.desc;
	struct tpdu_state *ts = &r->slots[slot].tpdu;
	uint32_t max;
	int rc;

	memset(ts, 0, sizeof(*ts));
	/* Other clocks only help a reader that switches to them itself. */
	if (d->dwFeatures & CCID_FEAT_AUTO_CLOCK) {
		rc = read_list(r, CCID_REQ_GET_CLOCK_FREQUENCIES,
		    d->dwMaximumClock, ts->clocks, &ts->nclocks);
		if (rc != OC_OK)
			return rc;
	}
	/* Quirk data_rate_drop_above: the reader lists rates it cannot run. */
	max = d->dwMaxDataRate;
	if (r->qk.data_rate_drop_above != 0 &&
	    (max == 0 || r->qk.data_rate_drop_above < max))
		max = r->qk.data_rate_drop_above;
	return read_list(r, CCID_REQ_GET_DATA_RATES, max, ts->rates,
	    &ts->nrates);
}

int
negotiate_default_protocol(const struct atr_info *atr, unsigned *t)
{
	unsigned p =
	    atr->specific_mode ? atr->specific_protocol : atr->first_protocol;

	if (p > 1)
		return OC_ENOTSUP;
	*t = p;
	return OC_OK;
}

static bool
offers(const struct atr_info *atr, unsigned t)
{
	if (atr->specific_mode)
		return atr->specific_protocol == t;
	return (atr->protocols & (1u << t)) != 0;
}

/* Section 9.1: a PPS is needed for other than the default protocol or
 * other than the default Fi/Di, never in specific mode. */
static bool
host_sends_pps(const struct reader *r, const struct atr_info *atr, unsigned t,
    const struct pps_choice *ch)
{
	uint32_t feat = r->info.desc.dwFeatures;

	if (atr->specific_mode ||
	    (feat & (CCID_FEAT_AUTO_PPS | CCID_FEAT_AUTO_PARAM_NEG)) != 0)
		return false;
	return ch->need_pps || t != atr->first_protocol;
}

/* Fd = 372, Dd = 1 (section 8.3): what the card runs without a PPS. */
static void
choice_default(struct pps_choice *ch)
{
	ch->fi_index = 1;
	ch->di_index = 1;
	ch->Fi = 372;
	ch->Di = 1;
	ch->baud = (uint32_t)((uint64_t)ch->clock_khz * 1000u / 372u);
	ch->need_pps = false;
}

/* Sections 9.2-9.3; *fidi becomes the default if PPS1 is not echoed. */
static int
pps_exchange(struct reader *r, unsigned slot, unsigned t, struct pps_choice *ch)
{
	uint8_t req[PPS_MAX_LEN], resp[PPS_MAX_LEN];
	size_t req_len = 0, resp_len = 0;
	uint8_t fidi = (uint8_t)(ch->fi_index << 4 | ch->di_index);
	bool accepted = false;
	int rc;

	rc = pps_build_request(
	    t, ch->need_pps, fidi, req, sizeof(req), &req_len);
	if (rc == OC_OK)
		rc = xfr_tpdu_raw(r, slot, req, req_len, resp, sizeof(resp),
		    &resp_len, NEGOTIATE_PPS_TIMEOUT_MS);
	if (rc == OC_ENOSPC)
		rc = OC_EPROTO;
	if (rc == OC_OK)
		rc =
		    pps_check_response(req, req_len, resp, resp_len, &accepted);
	if (rc != OC_OK) {
		OC_LOG_CRIT("PPS for T=%u failed: %s", t, oc_strerror(rc));
		return rc == OC_ENODEV || rc == OC_ENOCARD ? rc : OC_EPROTO;
	}
	if (ch->need_pps && !accepted) {
		OC_LOG_INFO("card kept Fi = 372, Di = 1");
		choice_default(ch);
	}
	return OC_OK;
}

static int
set_parameters(struct reader *r, unsigned slot, const struct atr_info *atr,
    unsigned t, uint8_t fidi)
{
	uint8_t p[PPS_T1_PARAMS_LEN];
	struct ccid_status st;
	size_t len = t == 1 ? PPS_T1_PARAMS_LEN : PPS_T0_PARAMS_LEN;
	int rc;

	rc = t == 1 ? pps_ccid_params_t1(atr, fidi, p)
	            : pps_ccid_params_t0(atr, fidi, p);
	if (rc == OC_OK)
		rc = ccid_run_set_parameters(
		    &r->io, (uint8_t)slot, (uint8_t)t, p, len, &st);
	if (rc != OC_OK)
		OC_LOG_CRIT("SetParameters T=%u, Fi/Di 0x%02X: %s", t, fidi,
		    oc_strerror(rc));
	return rc;
}

/*
 * Section 11.4.2; a card that refuses keeps IFSD 32, which still works
 * unless a block of 32 does not fit the reader's messages.
 * dwMaxCCIDMessageLength bounds the blocks both ways (CCID section
 * 6.1.4: one block per XfrBlock, 10-byte header): readers with 64 or
 * 250 bytes get IFSD and I-blocks sized to fit rather than a refusal.
 */
static int
negotiate_ifsd(struct reader *r, unsigned slot)
{
	struct tpdu_state *ts = &r->slots[slot].tpdu;
	uint32_t max = r->info.desc.dwMaxIFSD;
	struct xfr_tpdu_ctx x = {r, slot};
	struct t1_xfer io;
	size_t room = ts->t1.inf_cap;
	uint8_t ifsd;
	int rc;

	if (max == 0) {
		/* The reader does not say: keep the default if it fits. */
		if (room == 0 || room >= T1_DEFAULT_IFS)
			return OC_OK;
		max = T1_DEFAULT_IFS;
	}
	if (max > T1_MAX_INF)
		max = T1_MAX_INF;
	if (room != 0 && max > room)
		max = (uint32_t)room;
	ifsd = (uint8_t)max;
	if (r->info.desc.dwFeatures & CCID_FEAT_AUTO_IFSD)
		return t1_set_ifsd(&ts->t1, ifsd);
	xfr_tpdu_t1_io(&x, &io);
	rc = t1_negotiate_ifsd(&ts->t1, &io, ifsd);
	if (rc == OC_ENODEV || rc == OC_ENOCARD)
		return rc;
	if (rc != OC_OK)
		OC_LOG_INFO("IFSD %u not agreed (%s): IFSD stays %zu", ifsd,
		    oc_strerror(rc), ts->t1.ifsd);
	return OC_OK;
}

static void
choice_log(unsigned t, const struct pps_choice *ch, const struct tpdu_state *ts)
{
	OC_LOG_INFO("T=%u: Fi %u Di %u at %u kHz, %u bps; WWT %u ms, "
	            "BWT %u ms",
	    t, ch->Fi, ch->Di, ch->clock_khz, ch->baud, ts->to.wwt_ms,
	    ts->to.bwt_ms);
}

static int
negotiate_params(struct reader *r, unsigned slot, unsigned t,
    enum negotiate_pps pps, bool *pps_refused)
{
	const struct ccid_desc *d = &r->info.desc;
	struct tpdu_state *ts = &r->slots[slot].tpdu;
	const struct atr_info *atr = &r->slots[slot].atr_info;
	struct pps_reader rd;
	struct pps_choice ch;
	uint8_t fidi;
	int rc;

	memset(&rd, 0, sizeof(rd));
	rd.dwDefaultClock = d->dwDefaultClock;
	rd.dwMaximumClock = d->dwMaximumClock;
	rd.dwMaxDataRate = d->dwMaxDataRate;
	rd.clocks = ts->clocks;
	rd.nclocks = ts->nclocks;
	rd.rates = ts->rates;
	rd.nrates = ts->nrates;
	if (rd.dwDefaultClock == 0)
		rd.dwDefaultClock =
		    4000; /* unusable descriptor: ISO 5 MHz class */
	if ((rc = pps_choose(atr, &rd, &ch)) != OC_OK) {
		OC_LOG_CRIT("the reader cannot run the card's TA1 0x%X%X",
		    atr->Fi_index, atr->Di_index);
		return rc;
	}
	if (pps == NEGOTIATE_PPS_NEVER) {
		/* After the reset for a refused PPS: Fd/Dd (slot.c). */
		choice_default(&ch);
	} else if (r->qk.no_pps && !atr->specific_mode) {
		/* Quirk no_pps: the reader (or its card) fails PPS. */
		if (t != atr->first_protocol) {
			OC_LOG_CRIT("T=%u needs a PPS (quirk no_pps)", t);
			return OC_ENOTSUP;
		}
		choice_default(&ch);
		OC_LOG_INFO("no PPS (quirk no_pps): Fi 372, Di 1");
	} else if (host_sends_pps(r, atr, t, &ch)) {
		rc = pps_exchange(r, slot, t, &ch);
		/* Section 9.3: the card is to be reset; the slot does it. */
		*pps_refused = rc == OC_EPROTO;
		if (rc != OC_OK)
			return rc;
	}
	fidi = (uint8_t)(ch.fi_index << 4 | ch.di_index);
	if ((rc = set_parameters(r, slot, atr, t, fidi)) != OC_OK)
		return rc;
	ts->fidi = fidi;
	ts->Fi = ch.Fi;
	ts->Di = ch.Di;
	ts->clock_khz = ch.clock_khz;
	ts->baud = ch.baud;
	rc = pps_timeouts(atr, ch.Fi, ch.Di, ch.clock_khz,
	    ts->max_wait_ms != 0 ? ts->max_wait_ms : TPDU_MAX_WAIT_MS, &ts->to);
	if (rc == OC_OK)
		choice_log(t, &ch, ts);
	return rc;
}

int
negotiate_protocol(struct reader *r, unsigned slot, unsigned t,
    enum negotiate_pps pps, bool *pps_refused)
{
	struct slot *s = &r->slots[slot];
	struct tpdu_state *ts = &s->tpdu;
	const struct atr_info *atr = &s->atr_info;
	int rc;

	*pps_refused = false;
	if (!s->powered || t > 1)
		return OC_EINVAL;
	if (!s->atr_parsed) {
		OC_LOG_CRIT("ATR not parsed: no protocol can be negotiated");
		return OC_ENOTSUP;
	}
	if (ts->negotiated) {
		/* The PPS window closed with the first exchange (9.1). */
		return ts->protocol == t ? OC_OK : OC_ENOTSUP;
	}
	if (!offers(atr, t))
		return OC_ENOTSUP;
	if ((rc = negotiate_params(r, slot, t, pps, pps_refused)) != OC_OK)
		return rc;
	if (t == 1) {
		t1_init(&ts->t1, atr);
		rc = t1_set_inf_cap(&ts->t1, r->io.max_msg > CCID_HDR_LEN
			? r->io.max_msg - CCID_HDR_LEN : 0);
		if (rc != OC_OK) {
			OC_LOG_CRIT("dwMaxCCIDMessageLength %zu holds no T=1 "
				    "block", r->io.max_msg);
			return OC_ENOTSUP;
		}
		if (ts->t1.inf_cap != 0)
			OC_LOG_INFO("T=1 blocks of at most %zu INF bytes "
				    "(dwMaxCCIDMessageLength %zu)",
			    ts->t1.inf_cap, r->io.max_msg);
		if ((rc = negotiate_ifsd(r, slot)) != OC_OK)
			return rc;
	}
	ts->protocol = t;
	ts->negotiated = true;
	s->protocol = t;
	return OC_OK;
}
