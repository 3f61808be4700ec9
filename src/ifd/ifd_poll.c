/*
 * openccid - the slot's card events for pcscd's polling thread (see
 * ifd_poll.h), from the interrupt pipe (reader/events.c).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "ifd/ifd_poll.h"

#include "base/err.h"
#include "reader/events.h"
#include "reader/reader.h"

/* Timeout of a poll when pcscd passes none (it passes minutes). */
#define IFDH_POLL_DEFAULT_MS 600000

/*
 * TAG_IFD_POLLING_THREAD_WITH_TIMEOUT: returns when the slot's card state
 * changed, on timeout, when stopped; pcscd then calls IFDHICCPresence.
 */
RESPONSECODE
ifdh_poll(DWORD Lun, int timeout)
{
	struct reader *r = reader_hold(Lun);
	int rc;

	if (r == NULL)
		return IFD_NO_SUCH_DEVICE;
	rc = events_poll(&r->ev, &r->io.tr, reader_slot_of(Lun),
	    timeout > 0 ? (unsigned)timeout : IFDH_POLL_DEFAULT_MS);
	reader_release(r);
	if (rc == OC_ENODEV)
		return IFD_NO_SUCH_DEVICE;
	if (rc == OC_OK || rc == OC_ETIMEDOUT || rc == OC_ECANCELED)
		return IFD_SUCCESS;
	return IFD_COMMUNICATION_ERROR;
}

/* TAG_IFD_STOP_POLLING_THREAD: ifdh_poll(Lun) returns soon. */
RESPONSECODE
ifdh_stop_poll(DWORD Lun)
{
	struct reader *r = reader_hold(Lun);

	if (r == NULL)
		return IFD_COMMUNICATION_ERROR;
	events_stop(&r->ev, &r->io.tr, reader_slot_of(Lun));
	reader_release(r);
	return IFD_SUCCESS;
}
