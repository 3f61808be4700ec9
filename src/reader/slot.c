/*
 * openccid - card operations on one slot (see slot.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "reader/slot.h"

#include <string.h>

#include "codec/ccid_msg.h"
#include "base/err.h"
#include "base/log.h"
#include "reader/negotiate.h"
#include "reader/power_on.h"
#include "reader/xfr_tpdu.h"
#include "reader/reader_state.h"
#include "reader/secret.h"

/* Section 6.1.4 wLevelParameter / 6.2.1 bChainParameter */
#define CHAIN_NONE 0x00
#define CHAIN_BEGIN 0x01
#define CHAIN_END 0x02
#define CHAIN_CONTINUE 0x03
#define CHAIN_EMPTY_MORE 0x10
/* Pieces of one extended exchange; the smallest chunk is 54 bytes. */
#define CHAIN_MAX_PIECES 2048

static int
slot_check(struct reader *r, unsigned slot)
{
	if (ccid_io_is_gone(&r->io))
		return OC_ENODEV;
	if (slot >= r->nslots)
		return OC_EINVAL;
	return OC_OK;
}

/* Every exchange level of CCID rev 1.1 section 5.1 dwFeatures. */
static int
level_check(const struct reader *r)
{
	enum ccid_level lvl = r->info.desc.level;

	if (lvl == CCID_XCHG_SHORT_APDU || lvl == CCID_XCHG_EXTENDED_APDU ||
	    lvl == CCID_XCHG_TPDU || /* TPDU: xfr_tpdu.c */
	    lvl == CCID_XCHG_CHARACTER) /* character: xfr_char.c */
		return OC_OK;
	OC_LOG_CRIT("%s exchange level: not supported yet",
	    ccid_level_name(lvl));
	return OC_ENOTSUP;
}

/* TPDU and character level: the driver runs T=0/T=1 itself. */
static bool
host_runs_protocol(const struct reader *r)
{
	return r->info.desc.level == CCID_XCHG_TPDU ||
	       r->info.desc.level == CCID_XCHG_CHARACTER;
}

static void
slot_clear(struct slot *s)
{
	memset(s, 0, sizeof(*s));
}

static void
keep_atr(struct slot *s, const uint8_t *atr, size_t len)
{
	unsigned warn = 0;
	int rc;

	memcpy(s->atr, atr, len);
	s->atr_len = len;
	rc = atr_parse(atr, len, &s->atr_info, &warn);
	s->atr_parsed = rc == OC_OK;
	s->protocol = s->atr_parsed ? s->atr_info.first_protocol : 0;
	oc_log_hex(OC_LOG_MASK_INFO, __func__, "ATR", atr, len);
	if (rc != OC_OK)
		OC_LOG_INFO("ATR not parsed: %s", oc_strerror(rc));
	else if (warn != 0)
		OC_LOG_INFO("ATR warnings 0x%02X", warn);
}

/* The ATR ends before the bytes its own T0/TDi announce. */
static bool
atr_truncated(const uint8_t *atr, size_t len)
{
	struct atr_info info;
	unsigned warn = 0;

	return len > 0 && atr_parse(atr, len, &info, &warn) == OC_ETRUNC;
}

static int
power_on_slot(struct reader *r, unsigned slot, uint8_t *atr, size_t *len)
{
	int rc = power_on_any_voltage(&r->io, (uint8_t)slot, &r->info.desc,
	    atr, ATR_MAX_LEN, len);

	if (rc == OC_ENOSPC) {
		OC_LOG_CRIT("ATR longer than %d bytes", ATR_MAX_LEN);
		rc = OC_EPROTO;
	}
	return rc;
}

/*
 * power_on_slot() with the reader's power-on quirks: a PowerOff
 * first (power_off_before_on); a failure read as "no card"
 * (poweron_fail_means_absent); the result kept for always_present.
 */
static int
power_on_quirked(struct reader *r, unsigned slot, uint8_t *atr, size_t *len)
{
	struct ccid_status st;
	int rc;

	if (r->qk.power_off_before_on)
		(void)ccid_run_power_off(&r->io, (uint8_t)slot, &st);
	rc = power_on_slot(r, slot, atr, len);
	r->poweron_failed[slot] = rc != OC_OK;
	if (rc != OC_OK && rc != OC_ENODEV && rc != OC_ENOCARD &&
	    r->qk.poweron_fail_means_absent) {
		OC_LOG_INFO("slot %u: power-on failed (%s): no card (quirk "
			    "poweron_fail_means_absent)", slot, oc_strerror(rc));
		rc = OC_ENOCARD;
	}
	return rc;
}

int
slot_power_up(struct reader *r, unsigned slot, uint8_t *atr, size_t cap,
    size_t *atr_len)
{
	uint8_t buf[ATR_MAX_LEN];
	size_t len = 0;
	int rc;

	if ((rc = slot_check(r, slot)) != OC_OK ||
	    (rc = level_check(r)) != OC_OK)
		return rc;
	slot_clear(&r->slots[slot]);
	rc = power_on_quirked(r, slot, buf, &len);
	if (rc == OC_OK && atr_truncated(buf, len)) {
		/*
		 * Interface or historical bytes promised by the ATR are
		 * missing (ISO 7816-3 section 8.2): a garbled answer, not the
		 * card's. Cold-reset once rather than report it as the ATR.
		 */
		struct ccid_status st;

		OC_LOG_INFO("slot %u: truncated ATR, powering on again",
		    slot);
		(void)ccid_run_power_off(&r->io, (uint8_t)slot, &st);
		rc = power_on_quirked(r, slot, buf, &len);
		if (rc == OC_OK && atr_truncated(buf, len)) {
			OC_LOG_CRIT("slot %u: truncated ATR again", slot);
			rc = OC_EPROTO;
		}
	}
	if (rc != OC_OK)
		return rc;
	if (len == 0) {
		OC_LOG_CRIT("power-on returned an empty ATR");
		return OC_EPROTO;
	}
	keep_atr(&r->slots[slot], buf, len);
	r->slots[slot].powered = true;
	/* TPDU/character level: the reader's clocks and rates. */
	if (host_runs_protocol(r) &&
	    (rc = negotiate_power_up(r, slot)) != OC_OK)
		return rc;
	if (len > cap)
		return OC_ENOSPC;
	memcpy(atr, buf, len);
	*atr_len = len;
	return OC_OK;
}

int
slot_power_down(struct reader *r, unsigned slot)
{
	struct ccid_status st;
	int rc;

	if ((rc = slot_check(r, slot)) != OC_OK)
		return rc;
	slot_clear(&r->slots[slot]);
	rc = ccid_run_power_off(&r->io, (uint8_t)slot, &st);
	/* Powering off an empty slot is what was wanted. */
	return rc == OC_ENOCARD ? OC_OK : rc;
}

int
slot_presence(struct reader *r, unsigned slot, bool *present)
{
	struct ccid_status st;
	struct slot *s;
	int rc;

	if ((rc = slot_check(r, slot)) != OC_OK)
		return rc;
	s = &r->slots[slot];
	rc = ccid_run_slot_status_quiet(&r->io, (uint8_t)slot, &st);
	if (rc != OC_OK)
		return rc;
	switch (CCID_ICC_STATUS(st.bStatus)) {
	case CCID_ICC_ABSENT:
		slot_clear(s);
		*present = false;
		break;
	case CCID_ICC_INACTIVE:
		/*
		 * Powered by us, unpowered now: the card was swapped (or lost
		 * power) since the last poll, which a reader without
		 * interrupt-IN reports no other way. Absent once, as the
		 * reference driver does, so that pcscd ends the old card's
		 * handles; the next poll finds the new card present.
		 */
		if (s->powered) {
			OC_LOG_INFO("slot %u: card no longer powered (swapped "
				    "between two polls?): reported absent once",
			    slot);
			slot_clear(s);
			*present = false;
			break;
		}
		*present = true;
		break;
	default:
		*present = true;
		break;
	}
	/* Quirk always_present: the reader cannot tell; the last power-on
	 * result does. */
	if (*present && r->qk.always_present && r->poweron_failed[slot]) {
		slot_clear(s);
		*present = false;
	}
	return OC_OK;
}

void
slot_forget_card(struct reader *r, unsigned slot)
{
	if (slot < r->nslots)
		slot_clear(&r->slots[slot]);
}

/*
 * ISO 7816-3 section 9.3: a card that answers a PPS request wrongly or
 * not at all is reset; after the new ATR the default values apply. Only
 * the first offered protocol is then available (no PPS selects
 * another).
 */
static int
reset_without_pps(struct reader *r, unsigned slot, unsigned t)
{
	const struct slot *s = &r->slots[slot];
	uint8_t atr[ATR_MAX_LEN];
	size_t len = 0;
	int rc;

	OC_LOG_INFO("slot %u: PPS refused, resetting the card to run "
		    "without PPS", slot);
	rc = slot_power_up(r, slot, atr, sizeof(atr), &len);
	if (rc != OC_OK)
		return rc;
	if (!s->atr_parsed || s->atr_info.specific_mode ||
	    s->atr_info.first_protocol != t) {
		OC_LOG_CRIT("T=%u needs a PPS; the card refuses it", t);
		return OC_ENOTSUP;
	}
	return OC_OK;
}

/*
 * TPDU/character level: PPS, SetParameters, IFSD (negotiate.c). The
 * slot alone decides when to reset: negotiation reports a refused PPS
 * and returns before the power-up clears the slot, so no one below
 * holds state of the card as it was before the reset.
 */
static int
negotiate_slot(struct reader *r, unsigned slot, unsigned t)
{
	bool refused = false;
	int rc;

	rc = negotiate_protocol(r, slot, t, NEGOTIATE_PPS_IF_NEEDED, &refused);
	if (!refused)
		return rc;
	if ((rc = reset_without_pps(r, slot, t)) != OC_OK)
		return rc;
	return negotiate_protocol(r, slot, t, NEGOTIATE_PPS_NEVER, &refused);
}

/*
 * The first exchange closes the PPS window (section 9.1): a slot with
 * no IFDHSetProtocolParameters since the power-up runs the ATR's
 * default protocol, negotiated now.
 */
static int
negotiate_default(struct reader *r, unsigned slot)
{
	const struct slot *s = &r->slots[slot];
	unsigned t = 0;
	int rc;

	if (s->tpdu.negotiated)
		return OC_OK;
	if (!s->atr_parsed)
		return OC_EPROTO;
	rc = negotiate_default_protocol(&s->atr_info, &t);
	if (rc == OC_OK)
		rc = negotiate_slot(r, slot, t);
	return rc;
}

int
slot_set_protocol(struct reader *r, unsigned slot, unsigned t)
{
	const struct slot *s;
	bool offered;
	int rc;

	if ((rc = slot_check(r, slot)) != OC_OK ||
	    (rc = level_check(r)) != OC_OK)
		return rc;
	s = &r->slots[slot];
	if (!s->powered || t > 1)
		return OC_EINVAL;
	/* No ATR parse: only the ISO default T=0 is known to be offered. */
	offered = s->atr_parsed ? (s->atr_info.protocols & (1u << t)) != 0
				: t == 0;
	if (!offered)
		return OC_ENOTSUP;
	/* dwProtocols (CCID rev 1.1 table 5.1-1): what the reader can run. */
	if ((r->info.desc.dwProtocols & (1u << t)) == 0) {
		OC_LOG_CRIT("T=%u not offered by the reader (dwProtocols 0x%X)",
		    t, (unsigned)r->info.desc.dwProtocols);
		return OC_ENOTSUP;
	}
	/* TPDU/character level: PPS, SetParameters, IFSD (negotiate.c). */
	if (host_runs_protocol(r))
		return negotiate_slot(r, slot, t);
	/* APDU level: the reader negotiates (CCID rev 1.1 section 5.1). */
	r->slots[slot].protocol = t;
	return OC_OK;
}

/* ISO 7816-4 section 5.1: Lc or Le coded on 3 bytes starts with 00. */
static bool
is_extended_apdu(const uint8_t *tx, size_t len)
{
	return len > 5 && tx[4] == 0x00;
}

static int
xfr_short(struct reader *r, unsigned slot, const uint8_t *tx, size_t len,
    uint8_t *rx, size_t cap, size_t *rx_len)
{
	struct ccid_status st;
	size_t n = 0;
	int rc;

	if (len > SLOT_SHORT_APDU_MAX || is_extended_apdu(tx, len)) {
		OC_LOG_CRIT("APDU of %zu bytes is not a short APDU: the reader "
			    "exchanges short APDUs only", len);
		return OC_ENOTSUP;
	}
	/* A short-APDU reader cannot chain (CCID rev 1.1 section 6.1.4). */
	if (len > r->io.max_msg - CCID_HDR_LEN) {
		OC_LOG_CRIT("APDU of %zu bytes does not fit "
			    "dwMaxCCIDMessageLength %zu", len, (size_t)r->io.max_msg);
		return OC_ENOTSUP;
	}
	rc = ccid_run_xfr_block(&r->io, (uint8_t)slot, 0, 0, tx, len, rx, cap,
	    &n, &st);
	if (rc != OC_OK)
		return rc;
	if (n > SLOT_SHORT_RAPDU_MAX || st.specific != CHAIN_NONE) {
		OC_LOG_CRIT("short-APDU reader answered %zu bytes, chain 0x%02X",
		    n, st.specific);
		return OC_EPROTO;
	}
	*rx_len = n;
	return OC_OK;
}

/* Response accumulator; after an overflow the rest is read and dropped. */
struct rx_acc {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

static int
xfr_piece(struct reader *r, unsigned slot, uint16_t level, const uint8_t *tx,
    size_t len, struct rx_acc *acc, uint8_t *chain)
{
	struct ccid_status st = {0, 0, 0};
	uint8_t *dst = acc->overflow ? NULL : acc->buf + acc->len;
	size_t n = 0;
	int rc;

	rc = ccid_run_xfr_block(&r->io, (uint8_t)slot, 0, level, tx, len, dst,
	    acc->cap - acc->len, &n, &st);
	if (rc == OC_ENOSPC && dst != NULL) {
		/* Keep the reader in step: drain, then report the overflow. */
		acc->overflow = true;
		rc = OC_OK;
	} else if (rc == OC_OK && dst != NULL) {
		acc->len += n;
	}
	*chain = st.specific;
	return rc;
}

/* CCID rev 1.1 section 6.1.4: command APDU in chunks 01, 03..., 02. */
static int
send_chained(struct reader *r, unsigned slot, const uint8_t *tx, size_t len,
    struct rx_acc *acc, uint8_t *chain)
{
	size_t chunk = r->io.max_msg - CCID_HDR_LEN, off = 0, n;
	uint16_t level;
	int rc;

	if (len <= chunk)
		return xfr_piece(r, slot, CHAIN_NONE, tx, len, acc, chain);
	while (off < len) {
		bool last = len - off <= chunk;

		n = last ? len - off : chunk;
		if (off == 0)
			level = CHAIN_BEGIN;
		else if (last)
			level = CHAIN_END;
		else
			level = CHAIN_CONTINUE;
		rc = xfr_piece(r, slot, level, tx + off, n, acc, chain);
		if (rc != OC_OK)
			return rc;
		off += n;
		/* Section 6.2.1: 0x10 asks for the next command chunk. */
		if (off < len && *chain != CHAIN_EMPTY_MORE) {
			OC_LOG_CRIT("reader answered chain 0x%02X mid-command",
			    *chain);
			return OC_EPROTO;
		}
	}
	return OC_OK;
}

/* Response pieces: 01 begins, 03 continues, 02 ends (section 6.2.1). */
static int
receive_chained(struct reader *r, unsigned slot, struct rx_acc *acc,
    uint8_t chain)
{
	unsigned pieces;
	int rc;

	for (pieces = 0; pieces < CHAIN_MAX_PIECES; pieces++) {
		if (chain == CHAIN_NONE || chain == CHAIN_END)
			return OC_OK;
		if (chain != CHAIN_BEGIN && chain != CHAIN_CONTINUE) {
			OC_LOG_CRIT("bad bChainParameter 0x%02X", chain);
			return OC_EPROTO;
		}
		rc = xfr_piece(r, slot, CHAIN_EMPTY_MORE, NULL, 0, acc, &chain);
		if (rc != OC_OK)
			return rc;
	}
	OC_LOG_CRIT("response chain longer than %d pieces", CHAIN_MAX_PIECES);
	return OC_EPROTO;
}

/* rx is written through acc. */
// NOLINTBEGIN(readability-non-const-parameter)
static int
xfr_extended(struct reader *r, unsigned slot, const uint8_t *tx, size_t len,
    uint8_t *rx, size_t cap, size_t *rx_len)
// NOLINTEND(readability-non-const-parameter)
{
	struct rx_acc acc = {rx, cap, 0, false};
	uint8_t chain = CHAIN_NONE;
	int rc;

	if (len > SLOT_EXT_APDU_MAX) {
		OC_LOG_CRIT("APDU of %zu bytes is longer than an extended APDU",
		    len);
		return OC_EINVAL;
	}
	/* A response longer than an extended R-APDU is never accepted. */
	if (acc.cap > SLOT_EXT_RAPDU_MAX)
		acc.cap = SLOT_EXT_RAPDU_MAX;
	rc = send_chained(r, slot, tx, len, &acc, &chain);
	if (rc == OC_OK)
		rc = receive_chained(r, slot, &acc, chain);
	if (rc != OC_OK)
		return rc;
	if (acc.overflow) {
		OC_LOG_CRIT("response longer than the %zu-byte buffer", cap);
		return OC_ENOSPC;
	}
	*rx_len = acc.len;
	return OC_OK;
}

static bool
rapdu_sw1_ok(uint8_t sw1)
{
	return (sw1 & 0xF0) == 0x90 || ((sw1 & 0xF0) == 0x60 && sw1 != 0x60);
}

static int
transmit_apdu(struct reader *r, unsigned slot, const uint8_t *tx,
    size_t tx_len, uint8_t *rx, size_t cap, size_t *rx_len)
{
	size_t n = 0;
	int rc;

	if ((rc = slot_check(r, slot)) != OC_OK ||
	    (rc = level_check(r)) != OC_OK)
		return rc;
	if (!r->slots[slot].powered) {
		OC_LOG_CRIT("slot %u: card not powered", slot);
		return OC_ECARD;
	}
	if (tx == NULL || tx_len < 4) {
		OC_LOG_CRIT("APDU of %zu bytes is too short", tx_len);
		return OC_EINVAL;
	}
	if (host_runs_protocol(r)) { /* T=0/T=1: xfr_tpdu.c, xfr_char.c */
		rc = negotiate_default(r, slot);
		if (rc == OC_OK)
			rc = xfr_tpdu_transmit(r, slot, tx, tx_len, rx, cap,
			    &n);
	} else if (r->info.desc.level == CCID_XCHG_SHORT_APDU) {
		rc = xfr_short(r, slot, tx, tx_len, rx, cap, &n);
	} else {
		rc = xfr_extended(r, slot, tx, tx_len, rx, cap, &n);
	}
	if (rc != OC_OK)
		return rc;
	/*
	 * ISO 7816-4 section 5.1 / 7816-3 10.3.3: an R-APDU ends in SW1 SW2,
	 * SW1 6X (not 60) or 9X. A reader that cut or padded the card's
	 * answer (at TPDU level too: its T=0 reply is passed on as it comes)
	 * must not hand it to the client as the card's.
	 */
	if (n < 2 || !rapdu_sw1_ok(rx[n - 2])) {
		OC_LOG_CRIT("slot %u: reader answered %zu bytes without a "
			    "status word", slot, n);
		return OC_EPROTO;
	}
	*rx_len = n;
	return OC_OK;
}

/*
 * A secret command (redact.h) leaves the host in pieces the stateless
 * log redactor cannot always recognise: the T=0 data after the procedure
 * byte at character level, the I-blocks after the first of a chained T=1
 * command, the chunks after the first of CCID command chaining. The
 * policy is applied to the whole exchange here (secret.c).
 */
int
slot_transmit(struct reader *r, unsigned slot, const uint8_t *tx,
    size_t tx_len, uint8_t *rx, size_t cap, size_t *rx_len)
{
	struct secret_guard g;
	int rc;

	secret_begin(&r->io, slot, tx, tx_len, &g);
	rc = transmit_apdu(r, slot, tx, tx_len, rx, cap, rx_len);
	secret_end(&r->io, &g);
	return rc;
}
