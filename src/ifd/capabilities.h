/*
 * openccid - IFD glue shared by ifdhandler.c and capabilities.c (L4).
 */
#ifndef OPENCCID_CAPABILITIES_H
#define OPENCCID_CAPABILITIES_H

#include <ifdhandler.h>

#include "reader/reader.h"

enum ifdh_op {
	IFDH_OP_OTHER,
	IFDH_OP_POWER,    /* card errors are power-action failures */
	IFDH_OP_PRESENCE, /* a vanished device is IFD_NO_SUCH_DEVICE */
};

/* The one OC_E* -> IFD_* mapping (ifdhandler.c). */
RESPONSECODE ifdh_map_err(int err, enum ifdh_op op);

/* The pcscd polling-thread functions (ifdhandler.c, not exported). */
RESPONSECODE ifdh_poll(DWORD Lun, int timeout);
RESPONSECODE ifdh_stop_poll(DWORD Lun);

/* IFDHGetCapabilities for a locked reader (capabilities.c). */
RESPONSECODE capabilities_get(struct reader *r, unsigned slot, DWORD tag,
    PDWORD length, PUCHAR value);

#endif
