/*
 * openccid - IFDHGetCapabilities' answers (capabilities.c).
 */
#ifndef OPENCCID_CAPABILITIES_H
#define OPENCCID_CAPABILITIES_H

#include <ifdhandler.h>

#include "reader/reader.h"

/* IFDHGetCapabilities for a locked reader (capabilities.c). */
RESPONSECODE capabilities_get(struct reader *r, unsigned slot, DWORD tag,
    PDWORD length, PUCHAR value);

#endif
