/*
 * openccid - the transport interface between protocol code and USB.
 *
 * Protocol code (L3) talks to the reader only through these operations;
 * usb.c is the libusb implementation (and the only file that includes
 * libusb.h); tests and fuzzers plug in scripted or replay transports.
 * Every operation is bounded by timeout_ms (0 is not "forever": callers
 * always pass a real bound). Return 0 or a negative OC_E* code; the
 * transport maps its own errors (e.g. LIBUSB_ERROR_NO_DEVICE -> OC_ENODEV,
 * LIBUSB_ERROR_PIPE -> OC_ESTALL, timeout -> OC_ETIMEDOUT).
 */
#ifndef OPENCCID_TRANSPORT_H
#define OPENCCID_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

struct transport_ops {
	int (*bulk_out)(void *ctx, const uint8_t *buf, size_t len,
	    unsigned timeout_ms);
	/* Reads one transfer; *got may be 0 (zero-length packet). */
	int (*bulk_in)(void *ctx, uint8_t *buf, size_t cap, size_t *got,
	    unsigned timeout_ms);
	/* OC_ENOTSUP when the interface has no interrupt endpoint. */
	int (*intr_in)(void *ctx, uint8_t *buf, size_t cap, size_t *got,
	    unsigned timeout_ms);
	/* Class/standard control request on the CCID interface. */
	int (*control)(void *ctx, uint8_t bmRequestType, uint8_t bRequest,
	    uint16_t wValue, uint8_t *data, size_t len, size_t *got,
	    unsigned timeout_ms);
	/* Clear a halted bulk endpoint (in != 0: bulk IN). */
	int (*clear_halt)(void *ctx, int in);
	/* Make a pending intr_in return OC_ECANCELED soon; thread-safe. */
	void (*cancel_intr)(void *ctx);
	void (*close)(void *ctx);
	/*
	 * USB port reset and the interface claimed again (the last rung of
	 * the recovery ladder, issue 23); OC_ENODEV when the device is gone
	 * or came back as another device. NULL: the transport has none
	 * (tests, replay, the trace recorder).
	 */
	int (*reset)(void *ctx);
};

struct transport {
	const struct transport_ops *ops;
	void *ctx;
};

#endif
