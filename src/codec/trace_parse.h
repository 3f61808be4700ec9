/*
 * openccid - reading the trace format (trace_parse.c, the replay's
 * side): untrusted files, every line, field and count bounded.
 */
#ifndef OPENCCID_TRACE_PARSE_H
#define OPENCCID_TRACE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/trace_types.h"

/*
 * Parse a whole trace. On failure *t is empty and err holds
 * "line N: why". Free a parsed trace with trace_free().
 */
int trace_parse(const char *text, size_t len, struct trace *t, char *err,
    size_t errcap);
void trace_free(struct trace *t);

/*
 * Does buf[0..len) match the record's data, wildcards matching any byte?
 * *at gets the first differing offset (len mismatch: the shorter length).
 */
bool trace_data_match(const struct trace_record *r, const uint8_t *buf,
    size_t len, size_t *at);

#endif
