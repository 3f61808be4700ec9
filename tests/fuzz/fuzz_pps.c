/*
 * openccid - libFuzzer harness for PPS (ISO 7816-3 section 9) and the
 * Fi/Di choice: input = [request bytes | response bytes | ATR | reader].
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "card/atr.h"
#include "base/err.h"
#include "card/pps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t
take32(const uint8_t **p, size_t *n)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4 && *n > 0; i++, (*p)++, (*n)--)
		v = v << 8 | **p;
	return v;
}

static void
fuzz_choose(const uint8_t *p, size_t n)
{
	struct atr_info a;
	struct pps_choice ch;
	struct pps_timeouts t;
	uint32_t rates[8], clocks[4];
	struct pps_reader rd;
	uint8_t par[PPS_T1_PARAMS_LEN];
	unsigned w;
	size_t i, alen = n > 0 ? p[0] % 34u : 0;

	if (n > 0) {
		p++;
		n--;
	}
	if (alen > n || atr_parse(p, alen, &a, &w) != OC_OK)
		return;
	p += alen;
	n -= alen;
	rd.dwDefaultClock = take32(&p, &n) % 30000u;
	rd.dwMaximumClock = take32(&p, &n);
	rd.dwMaxDataRate = take32(&p, &n);
	for (i = 0; i < 4; i++)
		clocks[i] = take32(&p, &n) % 30000u;
	for (i = 0; i < 8; i++)
		rates[i] = take32(&p, &n);
	rd.clocks = clocks;
	rd.nclocks = 4;
	rd.rates = rates;
	rd.nrates = (n > 0 ? p[0] : 0) % 9u;
	if (pps_choose(&a, &rd, &ch) == OC_OK) {
		if (ch.Fi != atr_fi_value(ch.fi_index) ||
		    ch.Di != atr_di_value(ch.di_index) || ch.Fi == 0 ||
		    ch.Di == 0)
			abort();
		if (pps_timeouts(&a, ch.Fi, ch.Di, ch.clock_khz, 60000, &t) !=
		        OC_OK ||
		    t.bwt_ms > 60000 || t.wwt_ms < PPS_TIMEOUT_MIN_MS)
			abort();
	}
	(void)pps_ccid_params_t1(&a, 0x11, par);
	(void)pps_ccid_params_t0(&a, 0x11, par);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size > 0 ? size : 1);
	size_t qlen, rlen;
	bool acc;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	if (size >= 2) {
		qlen = buf[0] % 8u;
		rlen = buf[1] % 8u;
		if (2 + qlen + rlen <= size) {
			(void)pps_check_response(
			    buf + 2, qlen, buf + 2 + qlen, rlen, &acc);
			fuzz_choose(
			    buf + 2 + qlen + rlen, size - 2 - qlen - rlen);
		}
	}
	free(buf);
	return 0;
}
