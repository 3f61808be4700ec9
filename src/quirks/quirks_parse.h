/*
 * openccid - the strict parser of .quirks text (quirks_parse.c).
 */
#ifndef OPENCCID_QUIRKS_PARSE_H
#define OPENCCID_QUIRKS_PARSE_H

#include <stddef.h>

#include "quirks/quirks_types.h"

/*
 * Append the entries of one file's text to t. All or nothing: on error t
 * is left as it was and err holds "file:line: reason". Returns 0,
 * OC_EINVAL (syntax/key/value), OC_ERANGE (value or line too long) or
 * OC_ENOSPC (a table cap).
 */
int quirks_parse(const char *text, size_t len, const char *filename,
    struct quirk_table *t, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
