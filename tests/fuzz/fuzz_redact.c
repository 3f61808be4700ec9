/*
 * openccid - libFuzzer harness for the log redactor. The first input byte
 * picks the exchange level; the rest is the CCID message. The same bytes
 * are classified as a bare command APDU (the secret policy).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/ccid_desc.h"
#include "codec/ccid_msg.h"
#include "base/err.h"
#include "codec/redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The verdict on any bytes is bounded and hides what it cannot judge. */
static void
check_classify(const uint8_t *apdu, size_t len)
{
	struct redact_verdict v;
	struct redact_range r;

	redact_classify(apdu, len, &v);
	if (v.data_off > len || v.what == NULL ||
	    redact_class_name(v.cls)[0] == '?')
		abort();
	if (v.cls == REDACT_MALFORMED && v.data_off < len &&
	    (v.hide & REDACT_HIDE_CMD) == 0)
		abort();
	if (v.cls == REDACT_CLEAR && v.hide != 0)
		abort();
	/* The header itself is never hidden when there is one. */
	if (len >= 4 && v.data_off < 4)
		abort();
	redact_apdu(apdu, len, &r);
	if (r.off > len || r.len > len - r.off)
		abort();
	if ((v.hide & REDACT_HIDE_CMD) != 0 && v.data_off < len &&
	    (r.off != v.data_off || r.len != len - v.data_off))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum ccid_level levels[] = {CCID_XCHG_CHARACTER,
	    CCID_XCHG_TPDU, CCID_XCHG_SHORT_APDU, CCID_XCHG_EXTENDED_APDU};
	struct redact_range r;
	enum ccid_level level;
	uint8_t *msg, *out;
	size_t len, i;

	if (size < 1)
		return 0;
	level = levels[data[0] % 4];
	len = size - 1;
	msg = malloc(len > 0 ? len : 1);
	out = malloc(len > 0 ? len : 1);
	if (msg == NULL || out == NULL)
		goto out;
	memcpy(msg, data + 1, len);
	check_classify(msg, len);
	if (redact_ccid_msg(msg, len, level, out, len, &r) != OC_OK)
		abort();
	if (r.off > len || r.len > len - r.off)
		abort();
	if (r.len > 0 && r.off < CCID_HDR_LEN)
		abort();
	for (i = 0; i < len; i++) {
		if (i >= r.off && i < r.off + r.len) {
			if (out[i] != 0)
				abort();
		} else if (out[i] != msg[i]) {
			abort();
		}
	}
	/* Secure and Escape payloads never survive */
	if (len > CCID_HDR_LEN &&
	    (msg[0] == PC_TO_RDR_SECURE || msg[0] == PC_TO_RDR_ESCAPE) &&
	    (r.off != CCID_HDR_LEN || r.len != len - CCID_HDR_LEN))
		abort();
out:
	free(msg);
	free(out);
	return 0;
}
