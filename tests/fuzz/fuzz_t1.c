/*
 * openccid - libFuzzer harness for the T=1 engine (ISO 7816-3 section
 * 11): the input is the card's side of the dialogue. Byte 0 picks EDC,
 * IFSC and limits; then each reply is a length byte followed by that many
 * bytes (length 0xFF: timeout, 0xFE: parity error). The engine must end,
 * never write past the caller's buffer, and keep its state in range.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "card/t1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct feed {
	const uint8_t *p;
	size_t n;
	unsigned calls;
};

static int
fuzz_xfer(void *ctx, const uint8_t *blk, size_t len, uint8_t *reply, size_t cap,
    size_t *got, unsigned mult)
{
	struct feed *f = ctx;
	size_t k;
	uint8_t tmp[T1_MAX_BLOCK];

	(void)mult;
	if (len < 4 || len > T1_MAX_BLOCK)
		abort();
	memcpy(tmp, blk, len); /* ASan checks the block is readable */
	if (++f->calls > 100000)
		abort(); /* the engine must be bounded well below this */
	if (f->n == 0)
		return OC_ETIMEDOUT;
	k = f->p[0];
	f->p++;
	f->n--;
	if (k == 0xFF)
		return OC_ETIMEDOUT;
	if (k == 0xFE)
		return OC_ECARD;
	if (k > f->n)
		k = f->n;
	if (k > cap)
		k = cap;
	memcpy(reply, f->p, k);
	f->p += k;
	f->n -= k;
	*got = k;
	return OC_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t apdu[300] = {0x00, 0xDA, 0x01, 0x02};
	struct feed f = {data, size, 0};
	struct t1_xfer io = {fuzz_xfer, &f};
	struct atr_info atr;
	struct t1 t1;
	uint8_t cfg = size > 0 ? data[0] : 0;
	size_t cap = (cfg & 0x40u) != 0 ? 16 : 300, n = 0;
	uint8_t *resp = malloc(cap);
	int rc;

	if (resp == NULL)
		return 0;
	if (size > 0) {
		f.p++;
		f.n--;
	}
	memset(&atr, 0, sizeof(atr));
	atr.edc_crc = (cfg & 0x01u) != 0;
	atr.ifsc = (cfg & 0x02u) != 0 ? 4 : 254;
	t1_init(&t1, &atr);
	t1_set_limits(&t1, 3, 3, (cfg & 0x04u) != 0 ? 3 : 50);
	rc = t1_transceive(
	    &t1, &io, apdu, (cfg & 0x08u) != 0 ? 300 : 5, resp, cap, &n);
	if (rc == OC_OK && n > cap)
		abort();
	if (t1.ns > 1 || t1.nr > 1 || t1.ifsc < 1 || t1.ifsc > T1_MAX_INF)
		abort();
	/* a second exchange on the state the first one left */
	rc = t1_transceive(&t1, &io, apdu, 4, resp, cap, &n);
	if (rc == OC_OK && n > cap)
		abort();
	if ((cfg & 0x10u) != 0)
		(void)t1_negotiate_ifsd(&t1, &io, 254);
	free(resp);
	return 0;
}
