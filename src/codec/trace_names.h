/*
 * openccid - the words of the trace format (private to trace_fmt.c, the
 * writer, and trace_parse.c, the reader): one table per word list, so
 * that what the recorder writes is exactly what the parser accepts.
 */
#ifndef OPENCCID_TRACE_NAMES_H
#define OPENCCID_TRACE_NAMES_H

#include <stddef.h>

#include "base/err.h"
#include "codec/trace_fmt.h"

#define TRACE_NKINDS ((size_t)TRACE_RET + 1)
/* rc= names are indexed by -rc, as err.h numbers the OC_E* codes. */
#define TRACE_NRCS ((size_t)-(long)OC_ECANCELED + 1)

extern const char *const trace_kind_names[TRACE_NKINDS];
extern const char *const trace_op_names[TRACE_OP_COUNT];
extern const char *const trace_rc_names[TRACE_NRCS];

#endif
