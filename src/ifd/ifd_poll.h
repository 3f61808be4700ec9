/*
 * openccid - the pcscd polling-thread functions (ifd_poll.c): handed to
 * pcscd by IFDHGetCapabilities (TAG_IFD_POLLING_THREAD_WITH_TIMEOUT,
 * TAG_IFD_STOP_POLLING_THREAD, capabilities.c), not exported.
 */
#ifndef OPENCCID_IFD_POLL_H
#define OPENCCID_IFD_POLL_H

#include <ifdhandler.h>

RESPONSECODE ifdh_poll(DWORD Lun, int timeout);
RESPONSECODE ifdh_stop_poll(DWORD Lun);

#endif
