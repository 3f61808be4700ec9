/*
 * openccid - internal to the ICCD path: version B (iccd_b.c).
 */
#ifndef OPENCCID_ICCD_B_H
#define OPENCCID_ICCD_B_H

#include "ccid/ccid_cmd.h"
#include "codec/ccid_msg.h"

/* c on a version B token (iccd.h's iccd_exchange()). */
int iccd_b_exchange(struct ccid_io *io, const struct ccid_cmd *c,
    unsigned timeout_ms, struct ccid_reply *r);

#endif
