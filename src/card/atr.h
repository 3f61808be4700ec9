/*
 * openccid - Answer To Reset parser (ISO/IEC 7816-3:2006 section 8).
 * Pure codec.
 */
#ifndef OPENCCID_ATR_H
#define OPENCCID_ATR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ATR_MAX_LEN    33
#define ATR_MAX_HIST   15
#define ATR_MAX_GROUPS 8 /* interface byte groups i = 1..8 */

struct atr_info {
	uint8_t raw[ATR_MAX_LEN];
	size_t len;
	bool inverse; /* TS = 3F */
	uint8_t T0;
	/* interface bytes per group i (index 0 = group 1) */
	struct {
		bool has_ta, has_tb, has_tc, has_td;
		uint8_t ta, tb, tc, td;
	} group[ATR_MAX_GROUPS];
	unsigned ngroups; /* non-empty groups (0 when T0 announces none) */
	uint8_t hist[ATR_MAX_HIST];
	size_t hist_len;
	bool has_tck;
	uint8_t tck;
	/* bit n set: T=n named by a TD (bit 15: T=15 global bytes), or bit 0
	 * alone when TD1 is absent (T=0 implied) */
	unsigned protocols;
	unsigned first_protocol; /* T of TD1, 0 when absent */
	/* Global parameters, with ISO defaults when absent */
	uint8_t Fi_index;          /* TA1 high nibble (default 1) */
	uint8_t Di_index;          /* TA1 low nibble (default 1) */
	uint16_t Fi;               /* clock rate conversion integer, 0 = RFU */
	uint8_t Di;                /* baud rate adjustment integer, 0 = RFU */
	uint16_t fmax_khz;         /* from Fi_index */
	uint8_t N;                 /* TC1, extra guard time (default 0) */
	uint8_t WI;                /* TC2 for T=0 (default 10) */
	bool specific_mode;        /* TA2 present */
	uint8_t specific_protocol; /* TA2 low nibble */
	bool specific_can_change;  /* TA2 bit 8 clear */
	bool specific_implicit_params; /* TA2 bit 5 set */
	/* T=1 (first TA/TB/TC after a TD announcing T=1, i >= 3) */
	uint8_t ifsc; /* default 32 */
	uint8_t bwi;  /* default 4 */
	uint8_t cwi;  /* default 13 */
	bool edc_crc; /* TC for T=1 bit 1 */
	/* Class indicator (first TA for T=15), 0 when absent */
	uint8_t class_indicator;
	uint8_t clock_stop;
};

#define ATR_WARN_TCK_MISSING 0x01u /* TCK required (T!=0 offered) but absent   \
	                            */
#define ATR_WARN_TCK_WRONG   0x02u
#define ATR_WARN_EXTRA_BYTES 0x04u /* bytes after the ATR ignored */
#define ATR_WARN_RFU_FI_DI   0x08u

/*
 * Parse an ATR. OC_EINVAL on a bad TS, OC_ETRUNC when the T0/TD chain or
 * the historical bytes run past len, OC_ERANGE when the ATR would be
 * longer than 33 bytes or the chain deeper than ATR_MAX_GROUPS. A wrong
 * or missing TCK is reported in *warnings, not refused (real cards do it).
 */
int atr_parse(
    const uint8_t *buf, size_t len, struct atr_info *out, unsigned *warnings);

/* Fi and Di tables of ISO 7816-3 tables 7 and 8; 0 for RFU entries. */
uint16_t atr_fi_value(uint8_t index);
uint8_t atr_di_value(uint8_t index);
uint16_t atr_fmax_khz(uint8_t fi_index);

#endif
