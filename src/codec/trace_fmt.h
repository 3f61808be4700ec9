/*
 * openccid - writing the trace format (trace_fmt.c, the recorder's
 * side); the format is trace_types.h.
 */
#ifndef OPENCCID_TRACE_FMT_H
#define OPENCCID_TRACE_FMT_H

#include <stddef.h>

#include "codec/trace_types.h"

/*
 * The header lines (version, device, desc, strings) into buf, NUL
 * terminated; *len excludes the NUL. OC_ENOSPC when cap is too small.
 */
int trace_fmt_header(const struct trace_device *d, char *buf, size_t cap,
    size_t *len);
/* One record as one '\n'-terminated line (r->line is ignored). */
int trace_fmt_record(const struct trace_record *r, char *buf, size_t cap,
    size_t *len);

#endif
