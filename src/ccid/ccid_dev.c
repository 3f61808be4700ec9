/*
 * openccid - the command state of one CCID device: set-up, slots and
 * busy credits, the time-extension cap, removal (see ccid_dev.h). Above
 * both exchange paths: the concurrent one (ccid_mux.c) is created,
 * freed, locked and woken from here, never from the wire below it.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "ccid/ccid_dev.h"

#include <string.h>

#include "base/err.h"
#include "ccid/ccid_io.h"
#include "ccid/ccid_mux.h"

void
ccid_io_init(struct ccid_io *io, const struct transport *tr, size_t max_msg,
    enum ccid_level level, uint8_t *buf)
{
	memset(io, 0, sizeof(*io));
	io->tr = *tr;
	io->max_msg = max_msg;
	io->level = level;
	io->timeout_ms = CCID_READ_TIMEOUT_MS;
	io->time_ext_cap_ms = CCID_TIME_EXT_CAP_MS;
	io->buf = buf;
	io->max_busy = 1;
	pthread_mutex_init(&io->xfer_lock, NULL);
	pthread_mutex_init(&io->busy_lock, NULL);
	pthread_cond_init(&io->busy_cond, NULL);
	atomic_init(&io->gone, false);
	atomic_init(&io->param_len_logged, false);
	atomic_init(&io->hide_out_slots, 0u);
	atomic_init(&io->hide_in_slots, 0u);
}

void
ccid_io_fini(struct ccid_io *io)
{
	ccid_mux_free(io);
	pthread_mutex_destroy(&io->xfer_lock);
	pthread_mutex_destroy(&io->busy_lock);
	pthread_cond_destroy(&io->busy_cond);
}

int
ccid_io_set_slots(struct ccid_io *io, unsigned nslots, unsigned max_busy)
{
	/* Never more busy slots than slots (the count is device data). */
	if (max_busy > nslots)
		max_busy = nslots;
	io->max_busy = max_busy > 0 ? max_busy : 1;
	return io->max_busy > 1 ? ccid_mux_new(io, nslots) : OC_OK;
}

void
ccid_io_set_time_ext_cap(struct ccid_io *io, unsigned ms)
{
	/* Read under xfer_lock (one at a time) or mux->lock (concurrent). */
	pthread_mutex_lock(&io->xfer_lock);
	if (io->mux != NULL)
		pthread_mutex_lock(&io->mux->lock);
	io->time_ext_cap_ms = ms;
	if (io->mux != NULL)
		pthread_mutex_unlock(&io->mux->lock);
	pthread_mutex_unlock(&io->xfer_lock);
}

void
ccid_io_mark_gone(struct ccid_io *io)
{
	ccid_io_set_gone(io);
	ccid_mux_wake(io);
}
