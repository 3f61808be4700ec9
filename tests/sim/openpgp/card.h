/*
 * openccid - OpenPGP card model for the virtual CCID reader (tests/sim).
 *
 * A clean-room model of the OpenPGP smart card application v3.4, limited
 * to what GnuPG 2.2 uses: SELECT, GET DATA, PUT DATA, PUT DATA odd (key
 * import with an extended header list), VERIFY, CHANGE
 * REFERENCE DATA, RESET RETRY COUNTER, GENERATE ASYMMETRIC KEY PAIR,
 * PSO: COMPUTE DIGITAL SIGNATURE / DECIPHER, INTERNAL AUTHENTICATE,
 * GET CHALLENGE, TERMINATE DF / ACTIVATE FILE, GET RESPONSE, command
 * chaining and extended Lc/Le.  Algorithms: RSA 2048/3072/4096 and NIST
 * P-256 (ECDSA for signing and authentication, ECDH for decryption).
 *
 * Pure: no USB, no sockets, no threads.  One struct opgp_card per slot;
 * calls on one card must be serialised by the caller.
 */
#ifndef OPENCCID_SIM_OPENPGP_CARD_H
#define OPENCCID_SIM_OPENPGP_CARD_H

#include <stddef.h>
#include <stdint.h>

struct opgp_card;

/* Largest command APDU the card accepts (header, extended Lc, data, Le)
 * and largest response (data + SW) it produces in one piece. */
#define OPGP_MAX_CMD 4096
#define OPGP_MAX_RESP 4098

/*
 * Load the card from state_path, or create a fresh card (default PINs
 * 123456 / 12345678, RSA 2048 attributes, no keys) and write it there when
 * the file does not exist.  state_path NULL: a card that lives in memory
 * only.  Every change is written back (temp file + rename) before the
 * APDU that made it is answered.  Returns NULL with a message in err on
 * error (unreadable or malformed state file, out of memory).
 */
struct opgp_card *opgp_card_open(const char *state_path, char *err,
				 size_t errlen);

/* The ATR (T=1, historical bytes with card capabilities: command chaining,
 * extended Lc/Le).  Returns its length, 0 if cap is too small (33 is
 * always enough). */
size_t opgp_card_atr(const struct opgp_card *card, uint8_t *atr, size_t cap);

/* Power cycle / warm reset: clears verified PINs, the selected
 * application, pending command chains and pending response data. */
void opgp_card_reset(struct opgp_card *card);

/*
 * Process one command APDU (ISO 7816-4 short or extended form) and write
 * the response (data followed by SW1 SW2) to resp.  Never writes more
 * than cap bytes: a response longer than cap - 2 is cut and continued with
 * 61xx / GET RESPONSE.  Returns 0 and sets *rlen (>= 2), or -1 only for
 * caller errors (NULL pointers, cap < 2).
 */
int opgp_card_apdu(struct opgp_card *card, const uint8_t *cmd, size_t len,
		   uint8_t *resp, size_t cap, size_t *rlen);

/* Free the card and set *cp to NULL (state is already on disk). */
void opgp_card_close(struct opgp_card **cp);

#endif
