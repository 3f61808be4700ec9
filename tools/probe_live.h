/*
 * openccid-probe - live USB devices (probe_live.c).
 */
#ifndef OPENCCID_PROBE_LIVE_H
#define OPENCCID_PROBE_LIVE_H

#include <stdbool.h>

/* "list" (show false) and "show": argv after the subcommand. */
int probe_live(int argc, char **argv, bool show);

#endif
