/*
 * openccid - libFuzzer harness for the T=0 procedure-byte engine of
 * character-level readers (ISO 7816-3 section 10.3.3): the input is the
 * card's character stream. Byte 0 picks the TPDU (direction, INS, P3);
 * the rest is what the card sends, handed out as the engine asks. The
 * engine must end, never read or write past the buffers, and report a
 * length within its buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "card/t0_char.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct feed {
	const uint8_t *p;
	size_t n;
	unsigned calls;
};

static int
fuzz_xchg(void *ctx, const uint8_t *tx, size_t tx_len, uint8_t *rx,
    size_t expect)
{
	struct feed *f = ctx;
	uint8_t tmp[300];

	if (tx_len > sizeof(tmp) || expect > 256)
		abort();
	if (tx_len > 0)
		memcpy(tmp, tx, tx_len); /* ASan checks tx is readable */
	if (++f->calls > 5000)
		abort(); /* bounded by P3 and T0_CHAR_MAX_NULL */
	if (expect > f->n)
		return OC_ETIMEDOUT; /* the card went quiet */
	if (expect > 0)
		memcpy(rx, f->p, expect);
	f->p += expect;
	f->n -= expect;
	return OC_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct t0_char_io io;
	struct feed f;
	uint8_t tpdu[5 + 255], resp[258];
	size_t len = 5, got = 0, cap;
	uint8_t p3;
	int rc;

	if (size < 2)
		return 0;
	p3 = data[1];
	tpdu[0] = 0x00;
	tpdu[1] = (data[0] & 0x80) ? 0xB0 : 0xD6; /* receive or send */
	tpdu[2] = 0x00;
	tpdu[3] = 0x00;
	tpdu[4] = p3;
	if (!(data[0] & 0x80)) {
		memset(tpdu + 5, 0xA5, p3);
		len += p3;
	}
	cap = 2 + (data[0] & 0x7F) * 2u; /* sometimes too small */
	if (cap > sizeof(resp))
		cap = sizeof(resp);
	f.p = data + 2;
	f.n = size - 2;
	f.calls = 0;
	io.xchg = fuzz_xchg;
	io.ctx = &f;
	rc = t0_char_run(&io, tpdu, len, resp, cap, &got);
	if (rc == OC_OK && (got < 2 || got > cap))
		abort();
	return 0;
}
