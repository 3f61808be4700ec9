/*
 * openccid - replay transport over a parsed trace (see trace_replay.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "transport/trace_replay.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "codec/trace_names.h"
#include "codec/trace_parse.h"

struct trace_replay {
	const struct trace *t;
	size_t *stream;       /* indices of out/in/ctl/halt records */
	size_t nstream;
	size_t *intr;         /* indices of intr records */
	size_t *intr_at;      /* stream records before each intr record */
	size_t nintr;
	size_t *stream_before; /* per record index: stream records before */
	size_t *intr_before;   /* per record index: intr records before */
	pthread_mutex_t lock;
	pthread_cond_t cond;  /* CLOCK_MONOTONIC */
	size_t spos, ipos;    /* served so far */
	bool absorbed;        /* the driver came back after the last intr */
	bool cancel, closed, failed;
	char err[512];
};

static bool
is_stream(enum trace_kind k)
{
	return k == TRACE_OUT || k == TRACE_IN || k == TRACE_CTL ||
	    k == TRACE_HALT;
}

struct trace_replay *
trace_replay_new(const struct trace *t)
{
	struct trace_replay *rp = calloc(1, sizeof(*rp));
	size_t i, n = t->n + 1;

	if (rp == NULL)
		return NULL;
	rp->t = t;
	rp->stream = calloc(n, sizeof(size_t));
	rp->intr = calloc(n, sizeof(size_t));
	rp->intr_at = calloc(n, sizeof(size_t));
	rp->stream_before = calloc(n, sizeof(size_t));
	rp->intr_before = calloc(n, sizeof(size_t));
	if (rp->stream == NULL || rp->intr == NULL || rp->intr_at == NULL ||
	    rp->stream_before == NULL || rp->intr_before == NULL) {
		free(rp->stream);
		free(rp->intr);
		free(rp->intr_at);
		free(rp->stream_before);
		free(rp->intr_before);
		free(rp);
		return NULL;
	}
	for (i = 0; i < t->n; i++) {
		rp->stream_before[i] = rp->nstream;
		rp->intr_before[i] = rp->nintr;
		if (is_stream(t->rec[i].kind)) {
			rp->stream[rp->nstream++] = i;
		} else if (t->rec[i].kind == TRACE_INTR) {
			rp->intr_at[rp->nintr] = rp->nstream;
			rp->intr[rp->nintr++] = i;
		}
	}
	rp->stream_before[t->n] = rp->nstream;
	rp->intr_before[t->n] = rp->nintr;
	rp->absorbed = true;
	pthread_mutex_init(&rp->lock, NULL);
	oc_clock_cond_init(&rp->cond);
	return rp;
}

void
trace_replay_free(struct trace_replay *rp)
{
	if (rp == NULL)
		return;
	pthread_mutex_destroy(&rp->lock);
	pthread_cond_destroy(&rp->cond);
	free(rp->stream);
	free(rp->intr);
	free(rp->intr_at);
	free(rp->stream_before);
	free(rp->intr_before);
	free(rp);
}

static void
vfail_locked(struct trace_replay *rp, unsigned line, const char *fmt,
    va_list ap)
{
	char why[400];

	if (rp->failed)
		return;
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	if (line > 0)
		(void)snprintf(rp->err, sizeof(rp->err), "line %u: %s", line,
		    why);
	else
		(void)snprintf(rp->err, sizeof(rp->err), "%s", why);
	rp->failed = true;
	pthread_cond_broadcast(&rp->cond);
}

static void
fail_locked(struct trace_replay *rp, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail_locked(struct trace_replay *rp, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail_locked(rp, line, fmt, ap);
	va_end(ap);
}

void
trace_replay_fail(struct trace_replay *rp, unsigned line, const char *fmt,
    ...)
{
	va_list ap;

	pthread_mutex_lock(&rp->lock);
	va_start(ap, fmt);
	vfail_locked(rp, line, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&rp->lock);
}

const char *
trace_replay_error(struct trace_replay *rp)
{
	return rp->err;
}

/* With the lock held: the next stream record if it is of kind k. */
static const struct trace_record *
next_locked(struct trace_replay *rp, enum trace_kind k, const char *what)
{
	const struct trace_record *r;

	if (rp->failed)
		return NULL;
	if (rp->spos == rp->nstream) {
		fail_locked(rp, 0, "the driver made a %s transfer past the "
				   "end of the trace", what);
		return NULL;
	}
	r = &rp->t->rec[rp->stream[rp->spos]];
	if (r->kind != k) {
		fail_locked(rp, r->line, "the driver made a %s transfer, the "
					 "trace has \"%s\"", what,
		    trace_kind_name(r->kind));
		return NULL;
	}
	return r;
}

static void
advance_locked(struct trace_replay *rp)
{
	rp->spos++;
	/* An intr record may have become deliverable. */
	pthread_cond_broadcast(&rp->cond);
}

static int
rp_bulk_out(void *ctx, const uint8_t *buf, size_t len, unsigned timeout_ms)
{
	struct trace_replay *rp = ctx;
	const struct trace_record *r;
	size_t at;
	int rc = OC_EIO;

	(void)timeout_ms;
	pthread_mutex_lock(&rp->lock);
	if ((r = next_locked(rp, TRACE_OUT, "bulk-OUT")) != NULL) {
		if (!trace_data_match(r, buf, len, &at)) {
			if (at < len && at < r->data_len)
				fail_locked(rp, r->line,
				    "bulk-OUT differs at byte %zu: the driver "
				    "sent %02x, the trace has %02x",
				    at, buf[at], r->data[at]);
			else
				fail_locked(rp, r->line,
				    "bulk-OUT of %zu bytes, the trace has %zu",
				    len, r->data_len);
		} else {
			rc = r->rc;
			advance_locked(rp);
		}
	}
	pthread_mutex_unlock(&rp->lock);
	return rc;
}

/* With the lock held: r's bytes into buf; a wildcard reads as 00. */
static int
serve_locked(struct trace_replay *rp, const struct trace_record *r,
    uint8_t *buf, size_t cap, size_t *got)
{
	size_t i;

	if (r->rc != OC_OK)
		return r->rc;
	if (r->data_len > cap) {
		fail_locked(rp, r->line, "%zu bytes recorded, the driver "
					 "reads at most %zu",
		    r->data_len, cap);
		return OC_EIO;
	}
	for (i = 0; i < r->data_len; i++)
		buf[i] = r->known == NULL || r->known[i] ? r->data[i] : 0;
	*got = r->data_len;
	return OC_OK;
}

static int
rp_bulk_in(void *ctx, uint8_t *buf, size_t cap, size_t *got,
    unsigned timeout_ms)
{
	struct trace_replay *rp = ctx;
	const struct trace_record *r;
	int rc = OC_EIO;

	(void)timeout_ms;
	*got = 0;
	pthread_mutex_lock(&rp->lock);
	if ((r = next_locked(rp, TRACE_IN, "bulk-IN")) != NULL) {
		rc = serve_locked(rp, r, buf, cap, got);
		if (!rp->failed)
			advance_locked(rp);
	}
	pthread_mutex_unlock(&rp->lock);
	return rc;
}

static int
rp_intr_in(void *ctx, uint8_t *buf, size_t cap, size_t *got,
    unsigned timeout_ms)
{
	struct trace_replay *rp = ctx;
	const struct trace_record *r;
	struct timespec end = oc_clock_timespec(oc_clock_ms() + timeout_ms);
	int rc = OC_ETIMEDOUT;

	*got = 0;
	pthread_mutex_lock(&rp->lock);
	/* Back for more: what the last message carried is filed. */
	rp->absorbed = true;
	pthread_cond_broadcast(&rp->cond);
	for (;;) {
		if (rp->cancel) {
			rp->cancel = false;
			rc = OC_ECANCELED;
			break;
		}
		if (rp->failed || rp->closed) {
			rc = rp->failed ? OC_EIO : OC_ECANCELED;
			break;
		}
		if (rp->ipos < rp->nintr &&
		    rp->spos >= rp->intr_at[rp->ipos]) {
			r = &rp->t->rec[rp->intr[rp->ipos]];
			rc = serve_locked(rp, r, buf, cap, got);
			rp->ipos++;
			rp->absorbed = false;
			pthread_cond_broadcast(&rp->cond);
			break;
		}
		if (pthread_cond_timedwait(&rp->cond, &rp->lock, &end) != 0)
			break;
	}
	pthread_mutex_unlock(&rp->lock);
	return rc;
}

static int
rp_control(void *ctx, uint8_t bmRequestType, uint8_t bRequest,
    uint16_t wValue, uint8_t *data, size_t len, size_t *got,
    unsigned timeout_ms)
{
	struct trace_replay *rp = ctx;
	const struct trace_record *r;
	bool in = (bmRequestType & 0x80u) != 0;
	size_t at, n = 0;
	int rc = OC_EIO;

	(void)timeout_ms;
	pthread_mutex_lock(&rp->lock);
	r = next_locked(rp, TRACE_CTL, "control");
	if (r != NULL && (r->type != bmRequestType || r->req != bRequest ||
			     r->value != wValue || r->len != len))
		fail_locked(rp, r->line,
		    "control request %02x %02x %04x len %zu, the trace has "
		    "%02x %02x %04x len %u",
		    bmRequestType, bRequest, wValue, len, r->type, r->req,
		    r->value, (unsigned)r->len);
	else if (r != NULL && !in && !trace_data_match(r, data, len, &at))
		fail_locked(rp, r->line, "control data differs at byte %zu",
		    at);
	else if (r != NULL)
		rc = in ? serve_locked(rp, r, data, len, &n) : r->rc;
	if (r != NULL && !rp->failed) {
		if (got != NULL)
			*got = in ? n : len;
		advance_locked(rp);
	}
	pthread_mutex_unlock(&rp->lock);
	return rc;
}

static int
rp_clear_halt(void *ctx, int in)
{
	struct trace_replay *rp = ctx;
	const struct trace_record *r;
	int rc = OC_EIO;

	pthread_mutex_lock(&rp->lock);
	r = next_locked(rp, TRACE_HALT, "clear-halt");
	if (r != NULL && r->ep_in != (in != 0))
		fail_locked(rp, r->line, "clear_halt on the bulk-%s "
					 "endpoint, the trace has bulk-%s",
		    in ? "IN" : "OUT", r->ep_in ? "IN" : "OUT");
	else if (r != NULL) {
		rc = r->rc;
		advance_locked(rp);
	}
	pthread_mutex_unlock(&rp->lock);
	return rc;
}

static void
rp_cancel_intr(void *ctx)
{
	struct trace_replay *rp = ctx;

	pthread_mutex_lock(&rp->lock);
	rp->cancel = true;
	pthread_cond_broadcast(&rp->cond);
	pthread_mutex_unlock(&rp->lock);
}

static void
rp_close(void *ctx)
{
	struct trace_replay *rp = ctx;

	pthread_mutex_lock(&rp->lock);
	rp->closed = true;
	pthread_cond_broadcast(&rp->cond);
	pthread_mutex_unlock(&rp->lock);
}

static const struct transport_ops replay_ops = {
	.bulk_out = rp_bulk_out,
	.bulk_in = rp_bulk_in,
	.intr_in = rp_intr_in,
	.control = rp_control,
	.clear_halt = rp_clear_halt,
	.cancel_intr = rp_cancel_intr,
	.close = rp_close,
};

void
trace_replay_transport(struct trace_replay *rp, struct transport *tr)
{
	tr->ops = &replay_ops;
	tr->ctx = rp;
}

/* With the lock held: the line of the next unserved stream record. */
static unsigned
next_line_locked(const struct trace_replay *rp)
{
	return rp->spos < rp->nstream ? rp->t->rec[rp->stream[rp->spos]].line
				      : 0;
}

int
trace_replay_check_at(struct trace_replay *rp, size_t idx)
{
	size_t want = rp->stream_before[idx > rp->t->n ? rp->t->n : idx];
	int rc = OC_OK;

	pthread_mutex_lock(&rp->lock);
	if (!rp->failed && rp->spos < want)
		fail_locked(rp, next_line_locked(rp),
		    "the driver never made this transfer (%zu fewer than "
		    "recorded before line %u)",
		    want - rp->spos,
		    idx < rp->t->n ? rp->t->rec[idx].line : 0);
	if (rp->failed)
		rc = OC_EPROTO;
	pthread_mutex_unlock(&rp->lock);
	return rc;
}

int
trace_replay_sync(struct trace_replay *rp, size_t idx, unsigned timeout_ms)
{
	size_t want = rp->intr_before[idx > rp->t->n ? rp->t->n : idx];
	struct timespec end;
	int rc;

	if ((rc = trace_replay_check_at(rp, idx)) != OC_OK)
		return rc;
	end = oc_clock_timespec(oc_clock_ms() + timeout_ms);
	pthread_mutex_lock(&rp->lock);
	while (!rp->failed && (rp->ipos < want || !rp->absorbed))
		if (pthread_cond_timedwait(&rp->cond, &rp->lock, &end) != 0)
			break;
	if (!rp->failed && rp->ipos < want)
		fail_locked(rp, rp->t->rec[rp->intr[rp->ipos]].line,
		    "the driver did not read this interrupt message within "
		    "%u ms", timeout_ms);
	rc = rp->failed ? OC_EPROTO : OC_OK;
	pthread_mutex_unlock(&rp->lock);
	return rc;
}

int
trace_replay_finish(struct trace_replay *rp, size_t end)
{
	size_t e = end > rp->t->n ? rp->t->n : end;
	int rc;

	pthread_mutex_lock(&rp->lock);
	if (!rp->failed && rp->spos < rp->stream_before[e])
		fail_locked(rp, next_line_locked(rp),
		    "the driver never made this transfer (the trace goes on)");
	if (!rp->failed && rp->ipos < rp->intr_before[e])
		fail_locked(rp, rp->t->rec[rp->intr[rp->ipos]].line,
		    "the driver never read this interrupt message");
	rc = rp->failed ? OC_EPROTO : OC_OK;
	pthread_mutex_unlock(&rp->lock);
	return rc;
}

void
trace_replay_poller_gone(struct trace_replay *rp)
{
	pthread_mutex_lock(&rp->lock);
	rp->absorbed = true;
	pthread_cond_broadcast(&rp->cond);
	pthread_mutex_unlock(&rp->lock);
}
