/*
 * openccid - the words of the trace format (trace_names.c): one table
 * per word list, shared by trace_fmt.c (the writer) and trace_parse.c
 * (the reader), so that what the recorder writes is exactly what the
 * parser accepts; and the names of a kind, an operation, a result.
 */
#ifndef OPENCCID_TRACE_NAMES_H
#define OPENCCID_TRACE_NAMES_H

#include <stddef.h>

#include "base/err.h"
#include "codec/trace_types.h"

#define TRACE_NKINDS ((size_t)TRACE_RET + 1)
/* rc= names are indexed by -rc, as err.h numbers the OC_E* codes. */
#define TRACE_NRCS ((size_t)-(long)OC_ECANCELED + 1)

extern const char *const trace_kind_names[TRACE_NKINDS];
extern const char *const trace_op_names[TRACE_OP_COUNT];
extern const char *const trace_rc_names[TRACE_NRCS];

/* "out", "transmit", ...; "?" when out of range. */
const char *trace_kind_name(enum trace_kind k);
const char *trace_op_name(enum trace_op op);
/* "ok", "ETIMEDOUT", ...: the names used for rc= */
const char *trace_rc_name(int rc);

#endif
