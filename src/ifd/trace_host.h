/*
 * openccid - host-level trace records of the IFDH calls (L4).
 *
 * ifdhandler.c brackets each IFDH call that reaches a reader with
 * trace_call_begin() and trace_call_end(): a "call" record with the
 * inputs, then a "ret" record with the IFD_* result and the outputs,
 * so that openccid-replay can issue the same calls and compare. Both do
 * nothing unless the reader's transport is recording (trace_rec.h).
 * What may be secret is written as "??": the command data of an APDU
 * the policy of redact.c hides (redact_apdu(); the reader's messages stay
 * hidden for the whole exchange, reader/secret.c), all but the status
 * word of an answer it hides, the input of Escape and unknown control
 * codes. Function pointers returned by
 * IFDHGetCapabilities differ per process: they are "??" too.
 */
#ifndef OPENCCID_TRACE_HOST_H
#define OPENCCID_TRACE_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "reader/reader.h"
#include "codec/trace_types.h"
#include "transport/trace_rec.h"

struct trace_call {
	struct trace_rec *t; /* NULL: not tracing */
	enum trace_op op;
	uint32_t slot, a;
	int hide_answer;     /* the answer carries a secret (redact.h) */
};

/* r: the reader held by the caller (NULL: nothing is recorded). */
void trace_call_begin(struct trace_call *c, struct reader *r,
    unsigned long lun, enum trace_op op, uint32_t a, uint32_t b,
    const uint8_t *in, size_t in_len, size_t cap);
void trace_call_end(struct trace_call *c, long ifd, const uint8_t *out,
    size_t out_len);

#endif
