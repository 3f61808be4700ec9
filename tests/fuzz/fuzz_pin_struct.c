/*
 * openccid - libFuzzer harness for the PC/SC part 10 PIN structures:
 * features_check_pin() (exact length, ulDataLength, byte order, fields),
 * then the PIN pad quirks and the PC_to_RDR_Secure frame
 * (pinpad_apply_quirks(), pinpad_build()) for what it accepts.
 * Input: [flags | structure bytes]; flags bit 0 Modify, bit 1 a T=1
 * prologue, bits 2-3 which quirk row applies.
 *
 * fuzz-srcs: src/ifd/pcsc_features.c src/reader/pinpad.c
 * fuzz-ldflags: -I/usr/include/PCSC
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ifd/ifd_err.h"
#include "ccid/ccid_cmd.h"
#include "ifd/drvconf.h"
#include "base/err.h"
#include "base/log.h"
#include "ifd/pcsc_features.h"
#include "reader/pinpad.h"
#include "quirks/quirks.h"
#include "quirks/quirks_parse.h"
#include "reader/xfr_tpdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Nothing here does I/O: the device side is never reached. */
int
ccid_run_escape(struct ccid_io *io, uint8_t slot, const uint8_t *tx,
    size_t tx_len, uint8_t *rx, size_t cap, size_t *rx_len,
    struct ccid_status *st)
{
	(void)io, (void)slot, (void)tx, (void)tx_len, (void)rx, (void)cap;
	(void)rx_len, (void)st;
	return OC_EIO;
}

int
ccid_run_secure(struct ccid_io *io, uint8_t slot, const uint8_t *tx,
    size_t tx_len, unsigned timeout_ms, uint8_t *rx, size_t cap, size_t *rx_len,
    struct ccid_status *st)
{
	(void)io, (void)slot, (void)tx, (void)tx_len, (void)timeout_ms;
	(void)rx, (void)cap, (void)rx_len, (void)st;
	return OC_EIO;
}

void
xfr_tpdu_t1_io(struct xfr_tpdu_ctx *ctx, struct t1_xfer *io)
{
	(void)ctx, (void)io;
}

uint32_t
drvconf_driver_options(void)
{
	return 0;
}

RESPONSECODE
ifdh_map_err(int err, enum ifdh_op op)
{
	(void)err, (void)op;
	return IFD_COMMUNICATION_ERROR;
}

unsigned
oc_log_get_level(void)
{
	return 0;
}

void
oc_log_printf(unsigned level, const char *func, const char *fmt, ...)
{
	(void)level, (void)func, (void)fmt;
}

static const char *const rows[4] = {
    "match vid=1111 pid=2222\nset pin_min=4\n",
    "match vid=1111 pid=2222\nset pinpad_msg_count_verify=1 "
    "pinpad_validation_fix=0x02 pinpad_modify_msg_index_all\n",
    "match vid=1111 pid=2222\nset pinpad_validation_invalid_fix=0x02 "
    "pinpad_max_extra_digit_swapped pinpad_verify_case1_escape=800200 "
    "pinpad_msg_count_modify=0 pinpad_modify_msg_index_all\n",
    "match vid=1111 pid=2222\nset pinpad_modify_msg_count_zero_as=0xff "
    "pinpad_msg_count_verify=0 pinpad_validation_mask_from_features\n",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct quirk_table qt;
	struct quirk_set qs;
	struct pinpad_fix fix;
	uint8_t s[512], out[600];
	size_t n = 0;
	char err[128];
	bool modify;
	uint8_t flags;

	if (size < 1)
		return 0;
	flags = data[0];
	modify = flags & 1;
	data++;
	size--;
	if (features_check_pin(modify, data, size, s, sizeof(s)) != OC_OK)
		return 0;
	quirks_table_init(&qt);
	if (quirks_parse(rows[(flags >> 2) & 3], strlen(rows[(flags >> 2) & 3]),
	        "f.quirks", &qt, err, sizeof(err)) != OC_OK)
		__builtin_trap();
	quirks_lookup(&qt, 0x1111, 0x2222, 0x0100, 0, &qs);
	pinpad_apply_quirks(&qs, modify, s, size, &fix);
	if (pinpad_build(modify, s, size, fix.index_all, 0,
	        (flags & 2) ? 0x40 : 0xFF, out, sizeof(out), &n) == OC_OK &&
	    n > sizeof(out))
		__builtin_trap();
	return 0;
}
