/*
 * openccid - per-slot state and card operations of a CCID reader.
 *
 * Power-up with voltage selection, ATR kept and parsed, and APDU
 * exchange at the reader's exchange level. Callers hold the reader lock.
 * struct slot is in reader_state.h.
 */
#ifndef OPENCCID_SLOT_H
#define OPENCCID_SLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Short APDU: CLA INS P1 P2 Lc 255 data Le (ISO 7816-4 section 5.1). */
#define SLOT_SHORT_APDU_MAX 261
#define SLOT_SHORT_RAPDU_MAX 258 /* 256 data + SW1 SW2 */
/* Extended: 4 + 3 (Lc) + 65535 + 2 (Le); response 65536 + SW1 SW2. */
#define SLOT_EXT_APDU_MAX 65544
#define SLOT_EXT_RAPDU_MAX 65538

struct reader;

int slot_power_up(struct reader *r, unsigned slot, uint8_t *atr, size_t cap,
    size_t *atr_len) __attribute__((warn_unused_result));
int slot_power_down(struct reader *r, unsigned slot);
/* *present from GetSlotStatus; an absent card clears the slot state. */
int slot_presence(struct reader *r, unsigned slot, bool *present)
    __attribute__((warn_unused_result));
/* A card event said the card went (or was swapped): drop its state. */
void slot_forget_card(struct reader *r, unsigned slot);
int slot_transmit(struct reader *r, unsigned slot, const uint8_t *tx,
    size_t tx_len, uint8_t *rx, size_t cap, size_t *rx_len)
    __attribute__((warn_unused_result));
/* T=n accepted when the card's ATR offers it (APDU-level readers). */
int slot_set_protocol(struct reader *r, unsigned slot, unsigned t)
    __attribute__((warn_unused_result));

#endif
