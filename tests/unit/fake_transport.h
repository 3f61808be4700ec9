/*
 * openccid tests - a scripted struct transport.
 *
 * The script is a list of steps consumed in order: an expected bulk-OUT
 * message (byte 6, bSeq, is never compared; "??" in hex is a wildcard),
 * a bulk-IN reply ("??" in hex becomes the bSeq of the last OUT), a
 * zero-length packet, an error instead of a transfer, or an expected
 * class request. Any call that does not match the next step fails the
 * test; ft_done() asserts the whole script was consumed.
 */
#ifndef OPENCCID_TEST_FAKE_TRANSPORT_H
#define OPENCCID_TEST_FAKE_TRANSPORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport/transport.h"

#define FT_MAX_STEPS 128
#define FT_MAX_INTR 16
#define FT_INTR_LEN 8

enum ft_kind { FT_OUT, FT_IN, FT_CONTROL };

struct ft_step {
	enum ft_kind kind;
	uint8_t *data;
	uint8_t *mask; /* OUT: 1 = compare; IN: 1 = literal, 0 = last bSeq */
	size_t len;
	int err;       /* returned instead of the transfer when != 0 */
	uint8_t bRequest;
	/* Control with data (ft_control_in/out): wValue compared, the
	 * OUT data compared, the IN data returned (more than wLength: the
	 * whole length is reported, as a broken transport would). */
	int wValue;    /* -1: not compared */
	bool has_data;
};

struct fake_transport {
	struct ft_step steps[FT_MAX_STEPS];
	size_t n, pos;
	uint8_t last_seq;        /* bSeq of the last OUT */
	uint16_t last_wvalue;    /* of the last control request */
	size_t last_wlength;     /* of the last control request */
	unsigned last_in_timeout_ms; /* of the last bulk-IN read */
	unsigned closes;
	/*
	 * Interrupt-IN: a queue read by another thread (the poller). A read
	 * with an empty queue blocks until ft_intr*(), a cancel or its
	 * timeout; a cancel with no read pending hits the next read.
	 */
	pthread_mutex_t ilock;
	pthread_cond_t icond;
	bool intr_enabled;       /* else intr_in is OC_ENOTSUP */
	uint8_t intr[FT_MAX_INTR][FT_INTR_LEN];
	size_t intr_len[FT_MAX_INTR];
	int intr_err[FT_MAX_INTR];
	size_t intr_n, intr_pos;
	bool intr_cancel;
	bool intr_waiting;       /* a read is blocked now */
	unsigned intr_calls, intr_cancels;
};

void ft_init(struct fake_transport *ft, struct transport *tr);
void ft_out(struct fake_transport *ft, const char *hex);
void ft_out_bytes(struct fake_transport *ft, const uint8_t *b, size_t len);
void ft_out_err(struct fake_transport *ft, int err);
void ft_in(struct fake_transport *ft, const char *hex);
/* Reply whose header is hex ("??" = bSeq) followed by len data bytes. */
void ft_in_data(struct fake_transport *ft, const char *hdr_hex,
    const uint8_t *data, size_t len);
void ft_in_zlp(struct fake_transport *ft);
void ft_in_err(struct fake_transport *ft, int err);
void ft_control(struct fake_transport *ft, uint8_t bRequest);
/* An OUT request with wValue and exactly the data in hex ("": none). */
void ft_control_out(struct fake_transport *ft, uint8_t bRequest,
    uint16_t wValue, const char *hex);
/* An IN request answered with the data in hex. */
void ft_control_in(struct fake_transport *ft, uint8_t bRequest,
    const char *hex);
/* The same, answered with hdr_hex followed by len bytes of data. */
void ft_control_in_data(struct fake_transport *ft, uint8_t bRequest,
    const char *hdr_hex, const uint8_t *data, size_t len);
void ft_control_err(struct fake_transport *ft, uint8_t bRequest, int err);
void ft_intr(struct fake_transport *ft, const char *hex);
void ft_intr_err(struct fake_transport *ft, int err);
/* Wait (bounded, 2 s) until a read blocks on an empty queue. */
void ft_wait_intr_blocked(struct fake_transport *ft);
void ft_done(const struct fake_transport *ft);
void ft_free(struct fake_transport *ft);

#endif
