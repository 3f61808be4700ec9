/*
 * openccid tests - scripted transport (see fake_transport.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "fake_transport.h"

#include <check.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"

#define SEQ_OFF 6

static struct ft_step *
add(struct fake_transport *ft, enum ft_kind kind)
{
	struct ft_step *s;

	ck_assert_msg(ft->n < FT_MAX_STEPS, "script too long");
	s = &ft->steps[ft->n++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	return s;
}

/* Hex with optional spaces; "??" gives a 0 mask byte. */
static size_t
parse_hex(const char *hex, uint8_t **data, uint8_t **mask)
{
	size_t cap = strlen(hex) / 2 + 1, n = 0;
	char pair[3] = {0, 0, 0};

	*data = calloc(cap, 1);
	*mask = calloc(cap, 1);
	ck_assert(*data != NULL && *mask != NULL);
	while (*hex != '\0') {
		if (isspace((unsigned char)*hex)) {
			hex++;
			continue;
		}
		ck_assert_msg(hex[1] != '\0', "odd hex string");
		if (hex[0] == '?' && hex[1] == '?') {
			(*mask)[n++] = 0;
		} else {
			pair[0] = hex[0];
			pair[1] = hex[1];
			ck_assert(isxdigit((unsigned char)pair[0]) &&
			    isxdigit((unsigned char)pair[1]));
			(*data)[n] = (uint8_t)strtoul(pair, NULL, 16);
			(*mask)[n++] = 1;
		}
		hex += 2;
	}
	return n;
}

void
ft_out(struct fake_transport *ft, const char *hex)
{
	struct ft_step *s = add(ft, FT_OUT);

	s->len = parse_hex(hex, &s->data, &s->mask);
}

void
ft_out_bytes(struct fake_transport *ft, const uint8_t *b, size_t len)
{
	struct ft_step *s = add(ft, FT_OUT);

	s->data = malloc(len);
	s->mask = malloc(len);
	ck_assert(s->data != NULL && s->mask != NULL);
	memcpy(s->data, b, len);
	memset(s->mask, 1, len);
	s->len = len;
}

void
ft_out_err(struct fake_transport *ft, int err)
{
	add(ft, FT_OUT)->err = err;
}

void
ft_in(struct fake_transport *ft, const char *hex)
{
	struct ft_step *s = add(ft, FT_IN);

	s->len = parse_hex(hex, &s->data, &s->mask);
}

void
ft_in_data(struct fake_transport *ft, const char *hdr_hex,
    const uint8_t *data, size_t len)
{
	struct ft_step *s = add(ft, FT_IN);
	uint8_t *d, *m;
	size_t h = parse_hex(hdr_hex, &d, &m);

	s->data = realloc(d, h + len + 1);
	s->mask = realloc(m, h + len + 1);
	ck_assert(s->data != NULL && s->mask != NULL);
	memcpy(s->data + h, data, len);
	memset(s->mask + h, 1, len);
	s->len = h + len;
}

void
ft_in_zlp(struct fake_transport *ft)
{
	add(ft, FT_IN);
}

void
ft_in_err(struct fake_transport *ft, int err)
{
	add(ft, FT_IN)->err = err;
}

void
ft_control(struct fake_transport *ft, uint8_t bRequest)
{
	struct ft_step *s = add(ft, FT_CONTROL);

	s->bRequest = bRequest;
	s->wValue = -1;
}

void
ft_control_out(struct fake_transport *ft, uint8_t bRequest, uint16_t wValue,
    const char *hex)
{
	struct ft_step *s = add(ft, FT_CONTROL);

	s->bRequest = bRequest;
	s->wValue = wValue;
	s->has_data = true;
	s->len = parse_hex(hex, &s->data, &s->mask);
}

void
ft_control_in_data(struct fake_transport *ft, uint8_t bRequest,
    const char *hdr_hex, const uint8_t *data, size_t len)
{
	struct ft_step *s = add(ft, FT_CONTROL);
	size_t h;

	s->bRequest = bRequest;
	s->wValue = -1;
	s->has_data = true;
	h = parse_hex(hdr_hex, &s->data, &s->mask);
	s->data = realloc(s->data, h + len + 1);
	s->mask = realloc(s->mask, h + len + 1);
	ck_assert(s->data != NULL && s->mask != NULL);
	if (len > 0)
		memcpy(s->data + h, data, len);
	s->len = h + len;
}

void
ft_control_in(struct fake_transport *ft, uint8_t bRequest, const char *hex)
{
	ft_control_in_data(ft, bRequest, hex, NULL, 0);
}

void
ft_control_err(struct fake_transport *ft, uint8_t bRequest, int err)
{
	struct ft_step *s = add(ft, FT_CONTROL);

	s->bRequest = bRequest;
	s->wValue = -1;
	s->err = err;
}

static const struct ft_step *
next(struct fake_transport *ft, enum ft_kind kind)
{
	static const char *names[] = {"bulk-OUT", "bulk-IN", "control"};
	const struct ft_step *s;

	ck_assert_msg(ft->pos < ft->n, "unexpected %s after the script end",
	    names[kind]);
	s = &ft->steps[ft->pos++];
	ck_assert_msg(s->kind == kind, "step %zu: got %s, script has %s",
	    ft->pos - 1, names[kind], names[s->kind]);
	return s;
}

static int
ft_bulk_out(void *ctx, const uint8_t *buf, size_t len, unsigned timeout_ms)
{
	struct fake_transport *ft = ctx;
	const struct ft_step *s = next(ft, FT_OUT);
	size_t i;

	ck_assert_msg(timeout_ms > 0, "bulk-OUT without a timeout");
	if (len > SEQ_OFF)
		ft->last_seq = buf[SEQ_OFF];
	if (s->err != 0)
		return s->err;
	ck_assert_msg(len == s->len, "step %zu: OUT of %zu bytes, want %zu",
	    ft->pos - 1, len, s->len);
	for (i = 0; i < len; i++)
		ck_assert_msg(i == SEQ_OFF || !s->mask[i] || buf[i] == s->data[i],
		    "step %zu: OUT byte %zu is %02X, want %02X", ft->pos - 1,
		    i, buf[i], s->data[i]);
	return OC_OK;
}

static int
ft_bulk_in(void *ctx, uint8_t *buf, size_t cap, size_t *got,
    unsigned timeout_ms)
{
	struct fake_transport *ft = ctx;
	const struct ft_step *s = next(ft, FT_IN);
	size_t i;

	ft->last_in_timeout_ms = timeout_ms;

	ck_assert_msg(timeout_ms > 0, "bulk-IN without a timeout");
	if (s->err != 0)
		return s->err;
	/* A real bulk transfer would overflow: LIBUSB_ERROR_OVERFLOW. */
	if (s->len > cap)
		return OC_EPROTO;
	for (i = 0; i < s->len; i++)
		buf[i] = s->mask[i] ? s->data[i] : ft->last_seq;
	*got = s->len;
	return OC_OK;
}

static struct timespec
ft_deadline(unsigned ms)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += (time_t)(ms / 1000);
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

static int
ft_intr_in(void *ctx, uint8_t *buf, size_t cap, size_t *got,
    unsigned timeout_ms)
{
	struct fake_transport *ft = ctx;
	struct timespec end = ft_deadline(timeout_ms);
	int rc = OC_ETIMEDOUT;

	if (!ft->intr_enabled)
		return OC_ENOTSUP;
	if (timeout_ms == 0)
		return OC_EINVAL; /* the real one never waits forever */
	pthread_mutex_lock(&ft->ilock);
	ft->intr_calls++;
	for (;;) {
		if (ft->intr_cancel) {
			ft->intr_cancel = false;
			rc = OC_ECANCELED;
			break;
		}
		if (ft->intr_pos < ft->intr_n) {
			size_t i = ft->intr_pos++;

			rc = ft->intr_err[i];
			if (rc == OC_OK) {
				if (ft->intr_len[i] > cap) {
					rc = OC_EPROTO;
					break;
				}
				memcpy(buf, ft->intr[i], ft->intr_len[i]);
				*got = ft->intr_len[i];
			}
			break;
		}
		ft->intr_waiting = true;
		pthread_cond_broadcast(&ft->icond);
		if (pthread_cond_timedwait(&ft->icond, &ft->ilock, &end) != 0)
			break;
	}
	ft->intr_waiting = false;
	pthread_mutex_unlock(&ft->ilock);
	return rc;
}

static void
ft_push_intr(struct fake_transport *ft, const char *hex, int err)
{
	uint8_t *d = NULL, *m = NULL;
	size_t n = 0;

	if (hex != NULL)
		n = parse_hex(hex, &d, &m);
	ck_assert(n <= FT_INTR_LEN);
	pthread_mutex_lock(&ft->ilock);
	ck_assert(ft->intr_n < FT_MAX_INTR);
	if (n > 0)
		memcpy(ft->intr[ft->intr_n], d, n);
	ft->intr_len[ft->intr_n] = n;
	ft->intr_err[ft->intr_n] = err;
	ft->intr_n++;
	pthread_cond_broadcast(&ft->icond);
	pthread_mutex_unlock(&ft->ilock);
	free(d);
	free(m);
}

void
ft_intr(struct fake_transport *ft, const char *hex)
{
	ft_push_intr(ft, hex, OC_OK);
}

void
ft_intr_err(struct fake_transport *ft, int err)
{
	ft_push_intr(ft, NULL, err);
}

void
ft_wait_intr_blocked(struct fake_transport *ft)
{
	struct timespec end = ft_deadline(2000);

	pthread_mutex_lock(&ft->ilock);
	while (!ft->intr_waiting)
		if (pthread_cond_timedwait(&ft->icond, &ft->ilock, &end) != 0)
			break;
	ck_assert_msg(ft->intr_waiting, "no interrupt read blocked");
	pthread_mutex_unlock(&ft->ilock);
}

static int
ft_ctrl(void *ctx, uint8_t bmRequestType, uint8_t bRequest, uint16_t wValue,
    uint8_t *data, size_t len, size_t *got, unsigned timeout_ms)
{
	struct fake_transport *ft = ctx;
	const struct ft_step *s = next(ft, FT_CONTROL);

	ck_assert_msg(timeout_ms > 0, "control without a timeout");
	ck_assert_msg(bRequest == s->bRequest,
	    "step %zu: control request 0x%02X, script has 0x%02X",
	    ft->pos - 1, bRequest, s->bRequest);
	ft->last_wvalue = wValue;
	ft->last_wlength = len;
	if (got != NULL)
		*got = 0;
	if (s->err != 0 || !s->has_data)
		return s->err;
	if (s->wValue >= 0)
		ck_assert_msg(wValue == s->wValue,
		    "step %zu: wValue 0x%04X, script has 0x%04X", ft->pos - 1,
		    wValue, (unsigned)s->wValue);
	if ((bmRequestType & 0x80u) == 0) {
		ck_assert_msg(len == s->len, "step %zu: control OUT of %zu "
		    "bytes, want %zu", ft->pos - 1, len, s->len);
		ck_assert(len == 0 || memcmp(data, s->data, len) == 0);
		return OC_OK;
	}
	memcpy(data, s->data, s->len < len ? s->len : len);
	if (got != NULL)
		*got = s->len;
	return OC_OK;
}

static int
ft_clear_halt(void *ctx, int in)
{
	(void)ctx, (void)in;
	return OC_OK;
}

static void
ft_cancel(void *ctx)
{
	struct fake_transport *ft = ctx;

	pthread_mutex_lock(&ft->ilock);
	ft->intr_cancel = true;
	ft->intr_cancels++;
	pthread_cond_broadcast(&ft->icond);
	pthread_mutex_unlock(&ft->ilock);
}

static void
ft_close(void *ctx)
{
	((struct fake_transport *)ctx)->closes++;
}

static const struct transport_ops ft_ops = {
	.bulk_out = ft_bulk_out,
	.bulk_in = ft_bulk_in,
	.intr_in = ft_intr_in,
	.control = ft_ctrl,
	.clear_halt = ft_clear_halt,
	.cancel_intr = ft_cancel,
	.close = ft_close,
};

void
ft_init(struct fake_transport *ft, struct transport *tr)
{
	memset(ft, 0, sizeof(*ft));
	pthread_mutex_init(&ft->ilock, NULL);
	pthread_cond_init(&ft->icond, NULL);
	tr->ops = &ft_ops;
	tr->ctx = ft;
}

void
ft_done(const struct fake_transport *ft)
{
	ck_assert_msg(ft->pos == ft->n, "script not consumed: %zu of %zu",
	    ft->pos, ft->n);
}

void
ft_free(struct fake_transport *ft)
{
	size_t i;

	for (i = 0; i < ft->n; i++) {
		free(ft->steps[i].data);
		free(ft->steps[i].mask);
	}
	ft->n = ft->pos = 0;
}
