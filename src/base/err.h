/*
 * openccid - internal error codes.
 *
 * Every internal function returns 0 (OC_OK) on success or one of these
 * negative codes. They are mapped to IFD_* codes exactly once, in the IFDH
 * glue (ifdhandler.c); nothing below that layer sees an IFD_* value.
 */
#ifndef OPENCCID_ERR_H
#define OPENCCID_ERR_H

enum oc_err {
	OC_OK = 0,
	OC_EINVAL = -1,     /* bad argument or malformed input */
	OC_ETRUNC = -2,     /* input shorter than its own fields say */
	OC_ERANGE = -3,     /* a value outside what the spec allows */
	OC_ENOMEM = -4,     /* allocation failed */
	OC_EIO = -5,        /* transport failure (USB error) */
	OC_ETIMEDOUT = -6,  /* no answer within the bound */
	OC_ENODEV = -7,     /* device gone (unplugged) */
	OC_EPROTO = -8,     /* peer broke the protocol (bad bSeq, type...) */
	OC_ENOTSUP = -9,    /* not supported by this reader/driver */
	OC_ENOCARD = -10,   /* no card in the slot */
	OC_ENOSPC = -11,    /* caller's output buffer too small */
	OC_EBUSY = -12,     /* slot busy / resource in use */
	OC_ECARD = -13,     /* card answered with an error (mute, parity) */
	OC_ESTALL = -14,    /* endpoint halted */
	OC_EACCES = -15,    /* permission denied on the device node */
	OC_ECANCELED = -16, /* operation aborted on request */
};

/* Human-readable name of an OC_E* code; never NULL. */
const char *oc_strerror(int err);

#endif
