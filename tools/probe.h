/*
 * openccid-probe - shared between the decoders (probe.c) and the live
 * USB part (probe_live.c).
 */
#ifndef OPENCCID_PROBE_H
#define OPENCCID_PROBE_H

#include <stdbool.h>

#include "ccid_desc.h"

/* The text decode of a class descriptor (as "openccid-probe desc"). */
void probe_print_desc(const struct ccid_desc *d, unsigned warnings);

/* "list" (show false) and "show": argv after the subcommand. */
int probe_live(int argc, char **argv, bool show);

#endif
