/*
 * openccid - libFuzzer harness for the simulator's EMV card model
 * (tests/sim/emv/card.c: its APDU parser, SELECT by partial name, the GPO
 * data check, READ RECORD / GET DATA / VERIFY parameters, the T=0 61xx /
 * 6Cxx / GET RESPONSE state) and the contactless reader firmware's codecs
 * (tests/sim/rf.c: the ATR built from an ATS, FF CA GET DATA).
 *
 * Input: byte 0 selects the setup (bit 0: contactless activation, else
 * contact power on; bit 1: strict GET RESPONSE; bits 2..7: the response
 * buffer size for every APDU, to exercise 61xx), then chunks of a 1-byte
 * length and that many bytes: the first is also taken as an ATS, every
 * chunk is an APDU to the card and to the reader's GET DATA. The card must
 * answer every APDU with at least SW1 SW2, never more than the buffer.
 *
 * fuzz-srcs: tests/sim/emv/card.c tests/sim/emv/perso.c tests/sim/rf.c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../sim/emv/card.h"
#include "../sim/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t uid[4] = { 0x08, 1, 2, 3 };
	uint8_t resp[EMV_MAX_RESP], atr[33], u[10], ats[32];
	struct emv_card *c;
	size_t off = 1, cap, rlen, ul, al;
	bool first = true;

	if (size < 1)
		return 0;
	c = emv_card_new();
	if (!c)
		abort();
	cap = 2 + (size_t)(data[0] >> 2) * 4;
	if (cap > sizeof(resp))
		cap = sizeof(resp);
	if (data[0] & 1) {
		if (emv_card_activate(c, u, sizeof(u), &ul, ats, sizeof(ats), &al) != 0)
			abort();
	} else if (!emv_card_power_on(c, atr, sizeof(atr))) {
		abort();
	}
	emv_card_strict_get_response(c, data[0] & 2);
	while (off < size) {
		size_t n = data[off++];

		if (n > size - off)
			n = size - off;
		if (first) {
			size_t k = rf_atr_from_ats(data + off, n, atr, sizeof(atr));

			if (k > sizeof(atr) || (k && (atr[0] != 0x3b || k < 5)))
				abort();
			first = false;
		}
		if (emv_card_apdu(c, data + off, n, resp, cap, &rlen) != 0 ||
		    rlen < 2 || rlen > cap)
			abort();
		if (rf_get_data(uid, sizeof(uid), data + off, n, data + off, n,
				resp, &rlen) && (rlen < 2 || rlen > 256 + 2))
			abort();
		off += n;
	}
	emv_card_free(c);
	return 0;
}
