/*
 * openccid - EMV payment card model for the virtual CCID reader (tests/sim).
 *
 * A clean-room model of a dual-interface debit card as EMV 4.3 Books 1 and
 * 3 describe it, with two applications (a debit scheme and a domestic
 * one), the payment system directories PSE "1PAY.SYS.DDF01" (contact) and
 * PPSE "2PAY.SYS.DDF01" (contactless), and the commands a card reading
 * tool sends: SELECT by name (first/next occurrence), GET PROCESSING
 * OPTIONS, READ RECORD, GET DATA (ATC, last online ATC, PIN try counter,
 * log entry, log format), VERIFY (plaintext offline PIN) and GET RESPONSE.
 * Every value is synthetic (README.md in this directory lists them): test
 * PANs, a made-up cardholder, no real card's data.
 *
 * Contact interface: ATR for T=0, and the T=0 behaviour of EMV Book 1
 * section 9.3: a command with data answers 61 La and keeps the data for
 * GET RESPONSE; a command expecting data with P3 other than the length it
 * has answers 6C La.  Contactless interface (ISO 14443-4, after
 * emv_card_activate()): data and status at once.
 *
 * Pure: no USB, no sockets, no threads, no allocation after emv_card_new().
 */
#ifndef OPENCCID_SIM_EMV_CARD_H
#define OPENCCID_SIM_EMV_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct emv_card;

/* Largest response (data + SW) the card produces in one piece. */
#define EMV_MAX_RESP 258

struct emv_card *emv_card_new(void);
void emv_card_free(struct emv_card *card);

/* GET RESPONSE only with CLA 00 (EMV Book 1 as written); by default the
 * card also takes the CLA of the command that left the data (80 C0 after
 * GPO), as drivers that copy the command's class send it. */
void emv_card_strict_get_response(struct emv_card *card, bool strict);

/* Power on through the contacts: forgets the session (selection, GPO,
 * pending response, verified PIN) and writes the ATR (T=0).  Returns its
 * length, 0 if cap is too small. */
size_t emv_card_power_on(struct emv_card *card, uint8_t *atr, size_t cap);

/* Activation in a reader's field (ISO 14443-3 type A anticollision, then
 * RATS): forgets the session like a power on and switches the card to its
 * contactless behaviour.  Writes the UID and the ATS (TL T0 TA1 TB1 TC1
 * historical bytes, without CRC).  Returns 0, -1 if a buffer is too small
 * (uid_cap 10 and ats_cap 32 are always enough). */
int emv_card_activate(struct emv_card *card, uint8_t *uid, size_t uid_cap,
		      size_t *uid_len, uint8_t *ats, size_t ats_cap,
		      size_t *ats_len);

/*
 * One command APDU (contact: the TPDU or APDU as it arrives) -> response
 * (data followed by SW1 SW2), never more than cap bytes: data that does
 * not fit waits for GET RESPONSE behind 61 La.  Returns 0 and sets *rlen
 * (>= 2), or -1 only for caller errors (NULL pointers, cap < 2).
 */
int emv_card_apdu(struct emv_card *card, const uint8_t *cmd, size_t len,
		  uint8_t *resp, size_t cap, size_t *rlen);

#endif
