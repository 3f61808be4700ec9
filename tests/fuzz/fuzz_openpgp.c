/*
 * openccid - libFuzzer harness for the simulator's OpenPGP card model
 * (tests/sim/openpgp/card.c): its APDU parser, command chaining, GET
 * RESPONSE, the TLV readers of PUT DATA / PSO / GENERATE and the key
 * import template (PUT DATA odd, 4D extended header list).
 *
 * Input: byte 0 selects the setup (bit 0: verify PW1 81/82 and PW3 so
 * that the protected commands parse their data; bit 1: P-256 algorithm
 * attributes on all three slots; bits 2..7: the response buffer size for
 * the first APDU, to exercise 61xx), then APDUs, each a 2-byte big-endian
 * length and that many bytes. The card must answer every APDU with at
 * least SW1 SW2, never more than the buffer, and never crash.
 *
 * fuzz-srcs: tests/sim/openpgp/card.c
 * fuzz-ldflags: -lcrypto
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/openpgp/card.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void xfer(struct opgp_card *c, const uint8_t *cmd, size_t len,
		 size_t cap)
{
	uint8_t resp[OPGP_MAX_RESP];
	size_t rlen = 0;

	if (opgp_card_apdu(c, cmd, len, resp, cap, &rlen) != 0 || rlen < 2 ||
	    rlen > cap)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t sel[] = {0x00, 0xA4, 0x04, 0x00, 0x06, 0xD2,
				      0x76, 0x00, 0x01, 0x24, 0x01};
	static const uint8_t pw3[] = {0x00, 0x20, 0x00, 0x83, 0x08, '1', '2',
				      '3',  '4',  '5',	'6',  '7',  '8'};
	static const uint8_t pw1[] = {0x00, 0x20, 0x00, 0x81, 0x06,
				      '1',  '2',  '3',	'4',  '5', '6'};
	static const uint8_t attr[] = {0x00, 0xDA, 0x00, 0xC1, 0x09, 0x13,
				       0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03,
				       0x01, 0x07};
	uint8_t cmd[OPGP_MAX_CMD + 16], a[sizeof attr];
	struct opgp_card *c;
	char err[128];
	size_t off = 1, cap;

	if (size < 1)
		return 0;
	c = opgp_card_open(NULL, err, sizeof err);
	if (!c)
		abort();
	cap = 2 + (size_t)(data[0] >> 2) * 40;
	xfer(c, sel, sizeof sel, sizeof cmd);
	if (data[0] & 1) {
		uint8_t p[sizeof pw1];

		xfer(c, pw3, sizeof pw3, OPGP_MAX_RESP);
		xfer(c, pw1, sizeof pw1, OPGP_MAX_RESP);
		memcpy(p, pw1, sizeof p);
		p[3] = 0x82;
		xfer(c, p, sizeof p, OPGP_MAX_RESP);
	}
	if (data[0] & 2) {
		for (uint8_t k = 0; k < 3; k++) {
			memcpy(a, attr, sizeof a);
			a[3] = (uint8_t)(0xC1 + k);
			a[5] = k == 1 ? 0x12 : 0x13; /* ECDH on the decryption key */
			xfer(c, a, sizeof a, OPGP_MAX_RESP);
		}
	}
	while (size - off >= 2) {
		size_t n = (size_t)data[off] << 8 | data[off + 1];

		off += 2;
		if (n > size - off)
			n = size - off;
		if (n > sizeof cmd)
			n = sizeof cmd;
		memcpy(cmd, data + off, n);
		off += n;
		/* on-card RSA key generation takes a second: read instead */
		if (n >= 3 && cmd[1] == 0x47)
			cmd[2] = 0x81;
		xfer(c, cmd, n, cap < OPGP_MAX_RESP ? cap : OPGP_MAX_RESP);
		cap = OPGP_MAX_RESP;
	}
	opgp_card_close(&c);
	return 0;
}
