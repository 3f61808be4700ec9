/*
 * openccid - filling a quirk table (quirks_load.c): the compiled-in files
 * and the run-time directory, the one part of src/quirks that does I/O.
 */
#ifndef OPENCCID_QUIRKS_LOAD_H
#define OPENCCID_QUIRKS_LOAD_H

#include <stddef.h>

#include "quirks/quirks_types.h"

/* Parse the compiled-in files into t (after quirks_table_init) and check
 * them for conflicts. */
int quirks_load_builtin(struct quirk_table *t, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Run-time overrides:
 * append every regular "*.quirks" file of dir, in strcmp order, each at
 * most QUIRKS_MAX_FILE_SIZE bytes. A file that fails to read or parse is
 * reported through report(ctx, "file:line: reason") and skipped whole.
 * A missing directory is not an error. Returns the number of files
 * loaded, or a negative OC_E* when dir is unreadable.
 */
int quirks_load_dir(struct quirk_table *t, const char *dir,
    void (*report)(void *ctx, const char *msg), void *ctx);

#endif
