/*
 * openccid - internal to the ICCD path: version A (iccd_a.c).
 */
#ifndef OPENCCID_ICCD_A_H
#define OPENCCID_ICCD_A_H

#include "ccid/ccid_cmd.h"
#include "codec/ccid_msg.h"

/* c on a version A token (iccd.h's iccd_exchange()). */
int iccd_a_exchange(struct ccid_io *io, const struct ccid_cmd *c,
    unsigned timeout_ms, struct ccid_reply *r);

#endif
