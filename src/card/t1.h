/*
 * openccid - ISO/IEC 7816-3:2006 section 11, T=1 block transmission.
 *
 * Pure engine (layer L1): no I/O, no locks, no allocation. The reader
 * layer hands in a callback that carries one block to the card and
 * returns the card's one block (a CCID XfrBlock at TPDU level).
 *
 * Callback contract (struct t1_xfer):
 *   xfer(ctx, block, len, reply, cap, &got, bwt_multiplier)
 *   - returns 0 with *got <= cap bytes of the card's block in reply;
 *   - OC_ETIMEDOUT when the card sent nothing within BWT (lost block);
 *   - OC_ECARD when the reader saw a parity error / broken block;
 *   both are invalid blocks and go through the error recovery of
 *   section 11.6.3; any other negative code is fatal and returned as is.
 *   - bwt_multiplier is 1, or the factor of the S(WTX response) being
 *   carried (section 11.6.2.3): the caller scales its timeout (CCID bBWI).
 */
#ifndef OPENCCID_T1_H
#define OPENCCID_T1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "card/atr.h"

/* Section 11.3.1: prologue NAD PCB LEN, INF up to 254, EDC 1 or 2. */
#define T1_PROLOGUE_LEN 3
#define T1_MAX_INF      254
#define T1_MAX_BLOCK    (T1_PROLOGUE_LEN + T1_MAX_INF + 2)
#define T1_DEFAULT_IFS  32 /* section 11.4.2: IFSC/IFSD before any S(IFS) */

/* PCB coding, section 11.3.2.2 */
#define T1_PCB_I_NS   0x40u /* I: N(S) */
#define T1_PCB_I_MORE 0x20u /* I: M, chaining */
#define T1_PCB_R      0x80u
#define T1_PCB_R_NR   0x10u /* R: N(R) */
#define T1_PCB_S      0xC0u
#define T1_PCB_S_RESP 0x20u
#define T1_S_RESYNCH  0x00u
#define T1_S_IFS      0x01u
#define T1_S_ABORT    0x02u
#define T1_S_WTX      0x03u
#define T1_R_OK       0x00u
#define T1_R_EDC      0x01u /* EDC or parity error */
#define T1_R_OTHER    0x02u

/* Default bounds of one exchange (section 11.6.3 leaves them open). */
#define T1_DEFAULT_RETRIES 3   /* R-blocks/retransmissions before RESYNCH */
#define T1_DEFAULT_RESYNCH 3   /* S(RESYNCH request) attempts */
#define T1_DEFAULT_MAX_WTX 512 /* S(WTX request)s in one exchange */

enum t1_kind { T1_BLOCK_I, T1_BLOCK_R, T1_BLOCK_S };

struct t1_block {
	uint8_t nad;
	uint8_t pcb;
	enum t1_kind kind;
	unsigned seq;       /* I: N(S); R: N(R) */
	bool more;          /* I: M bit */
	unsigned code;      /* R: T1_R_*; S: T1_S_* */
	bool response;      /* S: response (else request) */
	const uint8_t *inf; /* points into the parsed buffer */
	size_t inf_len;
};

struct t1_xfer {
	int (*xfer)(void *ctx, const uint8_t *block, size_t len, uint8_t *reply,
	    size_t cap, size_t *got, unsigned bwt_multiplier);
	void *ctx;
};

struct t1 {
	uint8_t ns;  /* N(S) of our next I-block */
	uint8_t nr;  /* N(S) expected in the card's next I-block */
	uint8_t nad; /* NAD we send: DAD high nibble, SAD low (11.3.2.1) */
	size_t ifsc; /* card's receive size, our INF bound */
	size_t ifsd; /* ours, as announced to the card */
	uint8_t atr_ifsc;
	/* Largest INF the transport carries (0: T1_MAX_INF), e.g. what
	 * fits dwMaxCCIDMessageLength; our I-blocks stay within it even if
	 * IFSC is larger (IFSC is a maximum, section 11.4.2). */
	size_t inf_cap;
	bool crc;         /* EDC: CRC if set, else LRC (ATR TC3) */
	bool need_resync; /* the last exchange left the card out of step */
	unsigned max_retries, max_resynch, max_wtx;
};

/* Parameters from the ATR (NULL: ISO defaults), state as after reset. */
void t1_init(struct t1 *t1, const struct atr_info *atr);
/* After power-up or warm reset: sequence numbers 0, IFSC/IFSD defaults. */
void t1_reset(struct t1 *t1);
void t1_set_limits(
    struct t1 *t1, unsigned retries, unsigned resynch, unsigned max_wtx);
/*
 * The INF bound of a transport whose messages hold at most msg_room
 * bytes of block (prologue and EDC included); OC_ERANGE when not even a
 * one-byte INF fits.
 */
int t1_set_inf_cap(struct t1 *t1, size_t msg_room)
    __attribute__((warn_unused_result));
/* Record an IFSD already agreed (e.g. by a reader that negotiates it). */
int t1_set_ifsd(struct t1 *t1, size_t ifsd) __attribute__((warn_unused_result));
/* Section 11.4.2: S(IFS request) with ifsd (1..254). */
int t1_negotiate_ifsd(struct t1 *t1, const struct t1_xfer *io, uint8_t ifsd)
    __attribute__((warn_unused_result));
/*
 * Send one APDU, chained by IFSC, and collect the card's (chained)
 * answer into resp. OC_ENOSPC when the answer exceeds cap (nothing is
 * truncated silently), OC_ECANCELED on the card's S(ABORT), OC_ETIMEDOUT
 * after max_wtx waiting time extensions, OC_ECARD when resynchronisation
 * failed (the caller should reset the card), OC_EPROTO when the card was
 * resynchronised after the command may have reached it.
 */
int t1_transceive(struct t1 *t1, const struct t1_xfer *io, const uint8_t *apdu,
    size_t len, uint8_t *resp, size_t cap, size_t *resp_len)
    __attribute__((warn_unused_result));

/* Section 11.3: one whole block with its EDC (LRC, or CRC if crc). */
int t1_block_build(uint8_t nad, uint8_t pcb, const uint8_t *inf, size_t inf_len,
    bool crc, uint8_t *out, size_t cap, size_t *out_len)
    __attribute__((warn_unused_result));
/*
 * Parse exactly one block. OC_ETRUNC/OC_EPROTO when malformed (length,
 * LEN 255, unknown PCB), OC_ECARD when the EDC does not match.
 */
int t1_block_parse(const uint8_t *buf, size_t len, bool crc,
    struct t1_block *blk) __attribute__((warn_unused_result));
/* The EDC bytes for buf (1 for LRC, 2 for CRC, high byte first). */
size_t t1_edc(const uint8_t *buf, size_t len, bool crc, uint8_t sum[2]);

#endif
