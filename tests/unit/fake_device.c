/*
 * openccid tests - thread-safe fake CCID device (see fake_device.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "fake_device.h"

#include <string.h>
#include <time.h>

#include "codec/ccid_msg.h"
#include "base/clock.h"
#include "base/err.h"

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Queue a reply (lock held). */
static struct fd_reply *
enqueue(struct fake_device *fd, uint8_t type, uint8_t slot, uint8_t seq,
    uint8_t status, uint8_t error, const uint8_t *data, size_t len,
    uint64_t due)
{
	struct fd_reply *r;

	if (fd->nq >= FD_QUEUE || len > FD_MSG - CCID_HDR_LEN)
		return NULL;
	r = &fd->q[fd->nq++];
	memset(r, 0, sizeof(*r));
	r->msg[0] = type;
	put_le32(r->msg + 1, (uint32_t)len);
	r->msg[5] = slot;
	r->msg[6] = seq;
	r->msg[7] = status;
	r->msg[8] = error;
	if (len > 0)
		memcpy(r->msg + CCID_HDR_LEN, data, len);
	r->len = CCID_HDR_LEN + len;
	r->due_ms = due;
	r->slot = slot;
	r->seq = seq;
	pthread_cond_broadcast(&fd->cond);
	return r;
}

static void
drop_at(struct fake_device *fd, size_t i)
{
	memmove(&fd->q[i], &fd->q[i + 1], (fd->nq - i - 1) * sizeof(fd->q[0]));
	fd->nq--;
}

/* Section 5.3.1: the aborted command's reply is not sent any more. */
static void
abort_slot(struct fake_device *fd, uint8_t slot)
{
	size_t i = 0;

	while (i < fd->nq)
		if (fd->q[i].slot == slot && fd->q[i].counted)
			drop_at(fd, i);
		else
			i++;
	if (fd->busy[slot]) {
		fd->busy[slot] = false;
		fd->in_flight--;
	}
}

static int
fd_bulk_out(void *ctx, const uint8_t *buf, size_t len, unsigned timeout_ms)
{
	struct fake_device *fd = ctx;
	uint8_t type, slot, seq;
	uint64_t due;
	unsigned delay;
	struct fd_reply *r;
	const uint8_t busy_status = 0x40; /* bmCommandStatus 1: failed */

	(void)timeout_ms;
	if (len < CCID_HDR_LEN || buf[5] >= FD_SLOTS)
		return OC_EINVAL;
	type = buf[0];
	slot = buf[5];
	seq = buf[6];
	pthread_mutex_lock(&fd->lock);
	if (fd->gone) {
		pthread_mutex_unlock(&fd->lock);
		return OC_ENODEV;
	}
	fd->commands++;
	if (type == PC_TO_RDR_ABORT) {
		fd->abort_cmds[slot]++;
		abort_slot(fd, slot);
		delay = fd->abort_delay_ms[slot];
		(void)enqueue(fd, RDR_TO_PC_SLOTSTATUS, slot, seq, 0, 0, NULL, 0,
		    oc_clock_ms() + delay);
		pthread_mutex_unlock(&fd->lock);
		return OC_OK;
	}
	if (fd->busy[slot] || fd->in_flight >= fd->max_busy) {
		fd->violations++;
		(void)enqueue(fd, RDR_TO_PC_SLOTSTATUS, slot, seq, busy_status,
		    CCID_ERR_CMD_SLOT_BUSY, NULL, 0, oc_clock_ms());
		pthread_mutex_unlock(&fd->lock);
		return OC_OK;
	}
	delay = fd->delay_ms[slot];
	due = delay == FD_NEVER ? UINT64_MAX : oc_clock_ms() + delay;
	if (type == PC_TO_RDR_XFRBLOCK)
		r = enqueue(fd, RDR_TO_PC_DATABLOCK, slot, seq, 0, 0,
		    buf + CCID_HDR_LEN, len - CCID_HDR_LEN, due);
	else
		r = enqueue(fd, RDR_TO_PC_SLOTSTATUS, slot, seq, 0, 0, NULL, 0,
		    due);
	if (r != NULL) {
		r->counted = true;
		fd->busy[slot] = true;
		fd->busy_seq[slot] = seq;
		if (++fd->in_flight > fd->max_in_flight)
			fd->max_in_flight = fd->in_flight;
	}
	pthread_mutex_unlock(&fd->lock);
	return r != NULL ? OC_OK : OC_EIO;
}

/* Index of the earliest reply due by now, or the earliest due time. */
static bool
next_due(const struct fake_device *fd, uint64_t now, size_t *idx,
    uint64_t *earliest)
{
	size_t i;

	*earliest = UINT64_MAX;
	for (i = 0; i < fd->nq; i++)
		if (fd->q[i].due_ms < *earliest) {
			*earliest = fd->q[i].due_ms;
			*idx = i;
		}
	return *earliest <= now;
}

static int
fd_bulk_in(void *ctx, uint8_t *buf, size_t cap, size_t *got,
    unsigned timeout_ms)
{
	struct fake_device *fd = ctx;
	uint64_t end = oc_clock_ms() + timeout_ms, earliest, until;
	struct timespec ts;
	struct fd_reply *r;
	size_t i = 0;

	pthread_mutex_lock(&fd->lock);
	while (!fd->gone && !next_due(fd, oc_clock_ms(), &i, &earliest)) {
		if (oc_clock_ms() >= end) {
			pthread_mutex_unlock(&fd->lock);
			return OC_ETIMEDOUT;
		}
		until = earliest < end ? earliest : end;
		ts = oc_clock_timespec(until);
		(void)pthread_cond_timedwait(&fd->cond, &fd->lock, &ts);
	}
	if (fd->gone) {
		pthread_mutex_unlock(&fd->lock);
		return OC_ENODEV;
	}
	r = &fd->q[i];
	if (r->len > cap) {
		pthread_mutex_unlock(&fd->lock);
		return OC_EIO;
	}
	memcpy(buf, r->msg, r->len);
	*got = r->len;
	if (r->counted && fd->busy[r->slot] && fd->busy_seq[r->slot] == r->seq) {
		fd->busy[r->slot] = false;
		fd->in_flight--;
	}
	if (!r->counted && r->msg[0] == RDR_TO_PC_DATABLOCK)
		fd->stale_read++;
	drop_at(fd, i);
	pthread_mutex_unlock(&fd->lock);
	return OC_OK;
}

static int
fd_intr_in(void *ctx, uint8_t *buf, size_t cap, size_t *got,
    unsigned timeout_ms)
{
	(void)ctx, (void)buf, (void)cap, (void)got, (void)timeout_ms;
	return OC_ENOTSUP;
}

static int
fd_control(void *ctx, uint8_t bmRequestType, uint8_t bRequest,
    uint16_t wValue, uint8_t *data, size_t len, size_t *got,
    unsigned timeout_ms)
{
	struct fake_device *fd = ctx;
	uint8_t slot = (uint8_t)(wValue & 0xFF);

	(void)bmRequestType, (void)data, (void)len, (void)timeout_ms;
	*got = 0;
	pthread_mutex_lock(&fd->lock);
	if (bRequest == 0x01 && slot < FD_SLOTS) /* ABORT (5.3.1) */
		fd->aborts[slot]++;
	pthread_mutex_unlock(&fd->lock);
	return OC_OK;
}

static int
fd_clear_halt(void *ctx, int in)
{
	(void)ctx, (void)in;
	return OC_OK;
}

static void
fd_cancel_intr(void *ctx)
{
	(void)ctx;
}

static void
fd_close(void *ctx)
{
	(void)ctx;
}

static const struct transport_ops fd_ops = {
	fd_bulk_out, fd_bulk_in, fd_intr_in, fd_control, fd_clear_halt,
	fd_cancel_intr, fd_close, NULL,
};

void
fd_init(struct fake_device *fd, struct transport *tr, unsigned max_busy)
{
	memset(fd, 0, sizeof(*fd));
	pthread_mutex_init(&fd->lock, NULL);
	oc_clock_cond_init(&fd->cond);
	fd->max_busy = max_busy;
	tr->ops = &fd_ops;
	tr->ctx = fd;
}

void
fd_free(struct fake_device *fd)
{
	pthread_mutex_destroy(&fd->lock);
	pthread_cond_destroy(&fd->cond);
}

void
fd_inject(struct fake_device *fd, uint8_t slot, uint8_t seq)
{
	const uint8_t junk[2] = {0x6F, 0x00};

	pthread_mutex_lock(&fd->lock);
	(void)enqueue(fd, RDR_TO_PC_DATABLOCK, slot, seq, 0, 0, junk,
	    sizeof(junk), 0);
	pthread_mutex_unlock(&fd->lock);
}

void
fd_unplug(struct fake_device *fd)
{
	pthread_mutex_lock(&fd->lock);
	fd->gone = true;
	pthread_cond_broadcast(&fd->cond);
	pthread_mutex_unlock(&fd->lock);
}

unsigned
fd_max_in_flight(struct fake_device *fd)
{
	unsigned n;

	pthread_mutex_lock(&fd->lock);
	n = fd->max_in_flight;
	pthread_mutex_unlock(&fd->lock);
	return n;
}

unsigned
fd_violations(struct fake_device *fd)
{
	unsigned n;

	pthread_mutex_lock(&fd->lock);
	n = fd->violations;
	pthread_mutex_unlock(&fd->lock);
	return n;
}
