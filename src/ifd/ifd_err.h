/*
 * openccid - the one mapping of the driver's OC_E* codes to pcscd's
 * IFD_* codes (ifd_err.c), for the IFDH entry points (ifdhandler.c,
 * capabilities.c, pcsc_features.c).
 */
#ifndef OPENCCID_IFD_ERR_H
#define OPENCCID_IFD_ERR_H

#include <ifdhandler.h>

enum ifdh_op {
	IFDH_OP_OTHER,
	IFDH_OP_POWER,    /* card errors are power-action failures */
	IFDH_OP_PRESENCE, /* a vanished device is IFD_NO_SUCH_DEVICE */
};

RESPONSECODE ifdh_map_err(int err, enum ifdh_op op);

#endif
