/*
 * openccid - libFuzzer harness for the whole driver above a fuzzed
 * transport: the IFDH entry points (src/ifd/ifdhandler.c), the reader table,
 * slots, CCID commands, the T=0/T=1 engines, negotiation, part 10
 * features and the PIN pad, capabilities and card events, with every
 * device reply taken from the input. The host side runs a fixed sequence
 * of pcscd-like operations that the input steers.
 *
 * Input (tests/fuzz/mk_driver_seeds.py writes well-formed ones):
 *   header    flags(1) loglevel(1) vid(2) pid(2) bcdDevice(2)
 *             bInterfaceProtocol(1) driver_options(1) reader index(1)
 *             slot mask(1) op mask(1) control mask(1) protocol(1)
 *             power action(1) ATR cap(1) Rx cap(2) capability cap(1)
 *             extended Lc(2)            (integers little-endian)
 *   blobs     each a length byte and that many bytes: the interface's
 *             extra descriptors (ccid_desc_find + ccid_desc_parse as
 *             usb.c does), a short APDU, a PIN_VERIFY_STRUCTURE, a
 *             PIN_MODIFY_STRUCTURE, an Escape command
 *   stream    device records until the end, taken in order (see
 *             enum fz_rec and fz_bulk_in()): bulk-IN replies built
 *             around the last command (right bSeq/bSlot/type unless
 *             told otherwise), raw transfers, zero-length packets,
 *             transfer errors, time extensions, and records that
 *             answer only a bulk-OUT, a control request or an
 *             interrupt read when one is the next call.
 * Header flags and per-slot operations: HF_* and OP_* below.
 * Nothing waits: a missing reply is an immediate timeout, the clock of
 * ccid_cmd (io.now_ms) is virtual from the end of the open and moves by
 * the timeouts the driver asked for (during the open every extension
 * costs a record, so the input bounds it), and the quirks' sleeps
 * (nanosleep below) only move the virtual clock. Invariants: successful
 * answers fit the caller's buffer and carry a status word, no PIN byte of
 * a VERIFY APDU reaches an outgoing COMM log line, the reader table is
 * empty and the transport closed once after the input.
 *
 * fuzz-srcs: @driver
 * fuzz-gen-srcs: quirks_builtin.c reader_notes_data.c
 * fuzz-ldflags: -I/usr/include/PCSC -lpthread
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <debuglog.h>
#include <ifdhandler.h>
#include <PCSC/reader.h>

#include "ifd/capabilities.h"
#include "codec/ccid_desc.h"
#include "codec/ccid_msg.h"
#include "codec/devname.h"
#include "ifd/drvconf.h"
#include "base/err.h"
#include "base/log.h"
#include "quirks/quirks.h"
#include "reader/reader.h"
#include "transport/usb.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_CALLS 200000u /* transport calls; the driver must stay far below */
#define FZ_RX_MAX 65548u     /* pcscd's MAX_BUFFER_SIZE_EXTENDED */
#define FZ_DATA_MS 1u        /* virtual time a delivered transfer takes */

/* Records of the device stream; the low 3 bits of the tag byte. */
enum fz_rec {
	REC_REPLY,    /* type' status error specific flags len(2) data */
	REC_RAW,      /* len(2) bytes: one transfer as given */
	REC_ZLP,      /* zero-length packet */
	REC_ERR,      /* which(1): the bulk-IN transfer fails */
	REC_OUT_ERR,  /* which(1): the next bulk-OUT fails (only then) */
	REC_CTRL,     /* len(1) bytes, 0xFF: stall; next control request */
	REC_INTR,     /* len(1) bytes, 0xFF: error(1); next interrupt read */
	REC_TIME_EXT, /* multiplier(1): a time-extension reply */
};

/* REC_REPLY flags */
#define RF_STALE   0x01 /* bSeq of an earlier command */
#define RF_SLOT    0x02 /* another bSlot */
#define RF_DWLEN   0x04 /* dwLength off by the next byte (signed) */
#define RF_SLOW    0x08 /* the reader took the whole read timeout */
#define RF_SPLIT   0x10 /* delivered in two transfers, cut at next byte */
#define RF_OVERRUN 0x20 /* more than the driver's buffer: overflow */

struct fz_in {
	const uint8_t *p;
	size_t n;
};

struct fz_dev {
	struct fz_in s;        /* the device stream */
	uint8_t last_type, last_slot, last_seq;
	uint8_t pending[FZ_RX_MAX]; /* second half of an RF_SPLIT reply */
	size_t pending_len;
	unsigned calls;
	unsigned closes;
	bool has_intr;
	unsigned long poll_lun; /* set while ifdh_poll runs */
	bool polling;
};

static struct fz_dev dev;
static uint64_t vclock;       /* virtual milliseconds */
static struct usb_info fz_info;
static bool verbose;          /* FUZZ_DRIVER_VERBOSE: logs on stderr */
static bool pin_watch;        /* VERIFY on the wire: check the logs */
static bool pin_seen;

/* The VERIFY APDU's PIN: no 4 of its bytes in a row, as logged, may
 * appear (a chained T=1 block or a T=0 data piece holds only part). */
static const uint8_t verify_apdu[] = {0x00, 0x20, 0x00, 0x81, 0x08, 0xA5,
	0x5A, 0xC3, 0x3C, 0x96, 0x69, 0x0F, 0xF0};
static const char *const pin_hex[] = {"A5 5A C3 3C", "5A C3 3C 96",
	"C3 3C 96 69", "3C 96 69 0F", "96 69 0F F0"};

static uint8_t
in_u8(struct fz_in *in)
{
	uint8_t v = 0;

	if (in->n > 0) {
		v = in->p[0];
		in->p++;
		in->n--;
	}
	return v;
}

static uint16_t
in_u16(struct fz_in *in)
{
	uint16_t lo = in_u8(in);

	return (uint16_t)(lo | (uint16_t)in_u8(in) << 8);
}

/* n bytes (fewer at the end of the input) */
static const uint8_t *
in_bytes(struct fz_in *in, size_t *n)
{
	const uint8_t *p = in->p;

	if (*n > in->n)
		*n = in->n;
	in->p += *n;
	in->n -= *n;
	return p;
}

static void
bump(void)
{
	if (++dev.calls > FZ_MAX_CALLS)
		abort(); /* an unbounded loop in the driver */
}

/* ---- pcscd's log functions ---------------------------------------------- */

static void
check_line(const char *line)
{
	/* Outgoing CCID dumps are "ccid() ->: ..."; only they carry host
	 * bytes, the device may echo anything. */
	size_t i;

	if (!pin_watch || strncmp(line, "ccid() ->", 9) != 0)
		return;
	for (i = 0; i < sizeof(pin_hex) / sizeof(pin_hex[0]); i++)
		if (strstr(line, pin_hex[i]) != NULL)
			pin_seen = true;
}

void
log_msg(const int priority, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	(void)priority;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (verbose)
		fprintf(stderr, "%s\n", line);
	check_line(line);
}

void
log_xxd(const int priority, const char *msg, const unsigned char *buffer,
    const int size)
{
	(void)priority, (void)msg, (void)buffer, (void)size;
	abort(); /* the driver logs hex through log_msg only (redaction) */
}

/* ---- the fuzzed transport ---------------------------------------------- */

static int
err_of(uint8_t which)
{
	static const int errs[] = {OC_ETIMEDOUT, OC_ESTALL, OC_ENODEV,
		OC_EIO, OC_EPROTO, OC_ECANCELED, OC_EACCES, OC_ENOMEM};

	return errs[which % (sizeof(errs) / sizeof(errs[0]))];
}

/* The next record is of kind k (not consumed). */
static bool
next_is(enum fz_rec k)
{
	return dev.s.n > 0 && (dev.s.p[0] & 7u) == k;
}

static int
fz_bulk_out(void *ctx, const uint8_t *buf, size_t len, unsigned timeout_ms)
{
	uint8_t tmp[CCID_HDR_LEN];

	(void)ctx;
	bump();
	if (timeout_ms == 0 || len < CCID_HDR_LEN || len > CCID_MAX_MSG_LEN)
		abort(); /* no bound, or not a CCID message */
	memcpy(tmp, buf, sizeof(tmp));
	(void)*(volatile const uint8_t *)(buf + len - 1); /* ASan: readable */
	dev.last_type = tmp[0];
	dev.last_slot = tmp[5];
	dev.last_seq = tmp[6];
	dev.pending_len = 0; /* a new command: the rest of a split is lost */
	if (next_is(REC_OUT_ERR)) {
		(void)in_u8(&dev.s);
		return err_of(in_u8(&dev.s));
	}
	return OC_OK;
}

/* The RDR_to_PC type that answers PC_to_RDR type t (CCID rev 1.1 6.2). */
static uint8_t
reply_type(uint8_t t)
{
	switch (t) {
	case 0x62: /* IccPowerOn */
	case 0x6F: /* XfrBlock */
	case 0x69: /* Secure */
		return 0x80;
	case 0x61: /* SetParameters */
	case 0x6C: /* GetParameters */
	case 0x6D: /* ResetParameters */
		return 0x82;
	case 0x6B: /* Escape */
		return 0x83;
	case 0x73: /* SetDataRateAndClockFrequency */
		return 0x84;
	default:
		return 0x81; /* SlotStatus */
	}
}

static int
deliver(uint8_t *buf, size_t cap, size_t *got, const uint8_t *msg, size_t len)
{
	/* libusb: LIBUSB_ERROR_OVERFLOW, mapped to OC_EPROTO (usb.c) */
	if (len > cap)
		return OC_EPROTO;
	if (len > 0)
		memcpy(buf, msg, len);
	*got = len;
	return OC_OK;
}

static int
build_reply(uint8_t *buf, size_t cap, size_t *got, unsigned timeout_ms,
    bool time_ext)
{
	static uint8_t msg[FZ_RX_MAX + 16];
	uint8_t type, flags = 0, bStatus, bError, specific, cut;
	size_t dlen, total;
	const uint8_t *d;
	uint32_t dw;

	if (time_ext) {
		type = reply_type(dev.last_type);
		bStatus = 0x80; /* bmCommandStatus 2: time extension */
		bError = in_u8(&dev.s);
		specific = 0;
		dlen = 0;
		d = NULL;
	} else {
		type = in_u8(&dev.s);
		bStatus = in_u8(&dev.s);
		bError = in_u8(&dev.s);
		specific = in_u8(&dev.s);
		flags = in_u8(&dev.s);
		/* < 0x80: the right type, else the byte itself */
		if (type < 0x80)
			type = reply_type(dev.last_type);
		dlen = in_u16(&dev.s);
		d = in_bytes(&dev.s, &dlen);
	}
	dw = (uint32_t)dlen;
	if (flags & RF_DWLEN)
		dw += (uint32_t)(int32_t)(int8_t)in_u8(&dev.s);
	cut = (flags & RF_SPLIT) ? in_u8(&dev.s) : 0;
	msg[0] = type;
	msg[1] = (uint8_t)dw;
	msg[2] = (uint8_t)(dw >> 8);
	msg[3] = (uint8_t)(dw >> 16);
	msg[4] = (uint8_t)(dw >> 24);
	msg[5] = (flags & RF_SLOT) ? (uint8_t)(dev.last_slot + 1) : dev.last_slot;
	msg[6] = (flags & RF_STALE) ? (uint8_t)(dev.last_seq - 1) : dev.last_seq;
	msg[7] = bStatus;
	msg[8] = bError;
	msg[9] = specific;
	if (dlen > 0)
		memcpy(msg + CCID_HDR_LEN, d, dlen);
	total = CCID_HDR_LEN + dlen;
	if (flags & RF_OVERRUN) {
		/* Babble: the reader sends more than the driver asked for. */
		memset(msg + total, 0xEE, 16);
		total = cap + 1 > total + 16 ? total + 16 : cap + 1;
	}
	vclock += (flags & RF_SLOW) ? timeout_ms : FZ_DATA_MS;
	if (cut > 0 && cut < total) {
		memcpy(dev.pending, msg + cut, total - cut);
		dev.pending_len = total - cut;
		total = cut;
	}
	return deliver(buf, cap, got, msg, total);
}

static int
fz_bulk_in(void *ctx, uint8_t *buf, size_t cap, size_t *got,
    unsigned timeout_ms)
{
	uint8_t tag;
	size_t n;
	const uint8_t *p;
	int rc;

	(void)ctx;
	bump();
	if (timeout_ms == 0)
		abort();
	*got = 0;
	if (dev.pending_len > 0) {
		n = dev.pending_len;
		dev.pending_len = 0;
		vclock += FZ_DATA_MS;
		return deliver(buf, cap, got, dev.pending, n);
	}
	if (dev.s.n == 0) {
		vclock += timeout_ms;
		return OC_ETIMEDOUT;
	}
	tag = in_u8(&dev.s);
	switch ((enum fz_rec)(tag & 7u)) {
	case REC_REPLY:
		return build_reply(buf, cap, got, timeout_ms, false);
	case REC_TIME_EXT:
		return build_reply(buf, cap, got, timeout_ms, true);
	case REC_RAW:
		n = in_u16(&dev.s);
		p = in_bytes(&dev.s, &n);
		vclock += FZ_DATA_MS;
		return deliver(buf, cap, got, p, n);
	case REC_ZLP:
		vclock += FZ_DATA_MS;
		return OC_OK;
	case REC_ERR:
		rc = err_of(in_u8(&dev.s));
		if (rc == OC_ETIMEDOUT)
			vclock += timeout_ms;
		return rc;
	default:
		/* A record for another pipe where a bulk-IN was read: the
		 * reader said nothing. */
		vclock += timeout_ms;
		return OC_ETIMEDOUT;
	}
}

static int
fz_intr_in(void *ctx, uint8_t *buf, size_t cap, size_t *got,
    unsigned timeout_ms)
{
	size_t n;
	const uint8_t *p;
	uint8_t len;

	(void)ctx, (void)timeout_ms;
	bump();
	if (!dev.has_intr)
		return OC_ENOTSUP;
	*got = 0;
	if (!next_is(REC_INTR)) {
		/*
		 * Nothing queued: never block. A poller is stopped the way
		 * pcscd stops it (TAG_IFD_STOP_POLLING_THREAD), so its loop
		 * ends now instead of spinning to its deadline.
		 */
		if (dev.polling) {
			dev.polling = false;
			(void)ifdh_stop_poll(dev.poll_lun);
			return OC_ECANCELED;
		}
		return OC_ETIMEDOUT;
	}
	(void)in_u8(&dev.s);
	len = in_u8(&dev.s);
	if (len == 0xFF)
		return err_of(in_u8(&dev.s));
	n = len;
	p = in_bytes(&dev.s, &n);
	return deliver(buf, cap, got, p, n);
}

static int
fz_control(void *ctx, uint8_t bmRequestType, uint8_t bRequest,
    uint16_t wValue, uint8_t *data, size_t len, size_t *got,
    unsigned timeout_ms)
{
	size_t n;
	const uint8_t *p;
	uint8_t l;

	(void)ctx, (void)bRequest, (void)wValue;
	bump();
	if (timeout_ms == 0)
		abort();
	*got = 0;
	if (!next_is(REC_CTRL))
		/* Host-to-device (ABORT) succeeds; a class IN request the
		 * reader does not implement stalls. */
		return (bmRequestType & 0x80) ? OC_ESTALL : OC_OK;
	(void)in_u8(&dev.s);
	l = in_u8(&dev.s);
	if (l == 0xFF)
		return err_of(in_u8(&dev.s));
	n = l;
	p = in_bytes(&dev.s, &n);
	if (!(bmRequestType & 0x80))
		return OC_OK;
	if (n > len)
		return OC_EPROTO; /* overflow */
	if (n > 0)
		memcpy(data, p, n);
	*got = n;
	return OC_OK;
}

static int
fz_clear_halt(void *ctx, int in)
{
	(void)ctx, (void)in;
	bump();
	return OC_OK;
}

static void
fz_cancel_intr(void *ctx)
{
	(void)ctx;
}

static void
fz_close(void *ctx)
{
	(void)ctx;
	dev.closes++;
}

static const struct transport_ops fz_ops = {
	.bulk_out = fz_bulk_out,
	.bulk_in = fz_bulk_in,
	.intr_in = fz_intr_in,
	.control = fz_control,
	.clear_halt = fz_clear_halt,
	.cancel_intr = fz_cancel_intr,
	.close = fz_close,
};

static uint64_t
fz_now(void)
{
	return vclock;
}

/*
 * Quirks that sleep (open_delay_ms in reader.c, pinpad_verify_delay_ms in
 * pinpad.c) call nanosleep(). This definition takes the place of libc's:
 * on the thread running the input it sleeps on the virtual clock only (so
 * those devices are fuzzed at full speed), counted as a transport call so
 * a sleeping loop is caught; any other thread (libFuzzer's own) really
 * sleeps.
 */
static _Thread_local bool fz_running;

/* libc's parameter names are reserved identifiers: ours differ. */
// NOLINTBEGIN(readability-inconsistent-declaration-parameter-name)
int
nanosleep(const struct timespec *req, struct timespec *rem)
// NOLINTEND(readability-inconsistent-declaration-parameter-name)
{
	if (!fz_running)
		return (int)syscall(SYS_nanosleep, req, rem);
	bump();
	if (req == NULL || req->tv_sec < 0 || req->tv_nsec < 0 ||
	    req->tv_nsec >= 1000000000L || req->tv_sec > 3600)
		abort(); /* the driver caps its sleeps (quirks parser: 10 s) */
	vclock += (uint64_t)req->tv_sec * 1000u +
	    (uint64_t)req->tv_nsec / 1000000u;
	if (rem != NULL) {
		rem->tv_sec = 0;
		rem->tv_nsec = 0;
	}
	return 0;
}

/* libocc_core has no usb.c: IFDHCreateChannelByName opens this device. */
int
usb_open(const struct devname *dn, const struct usb_hooks *hooks,
    struct transport *tr, struct usb_info *info)
{
	(void)dn;
	if (hooks->in_use != NULL &&
	    hooks->in_use(hooks->arg, fz_info.bus, fz_info.addr,
		fz_info.interface))
		return OC_ENODEV;
	tr->ops = &fz_ops;
	tr->ctx = &dev;
	*info = fz_info;
	return OC_OK;
}

/* ---- the host side ------------------------------------------------------ */

struct fz_host {
	uint8_t flags;
	uint8_t driver_options; /* with HF_DIRECT (the glue reads Info.plist) */
	unsigned long lun0;
	uint8_t slot_mask, ops, ctrl, proto, power, atr_cap, cap_len;
	uint16_t rx_cap, ext_lc;
	const uint8_t *apdu, *pinv, *pinm, *esc;
	size_t apdu_len, pinv_len, pinm_len, esc_len;
};

/* header flags */
#define HF_INTR      0x01 /* the interface has an interrupt-IN endpoint */
#define HF_VENDOR    0x02 /* class 0xFF: descriptor type 0xFF accepted */
#define HF_REMOVED   0x04 /* pcscd reports the device removed before close */
#define HF_STRINGS   0x08 /* empty manufacturer/product/serial */
#define HF_POLL_LAST 0x10 /* the card-event poll after the slots' work */
#define HF_DIRECT    0x20 /* open with reader_open_with_transport() and
			     the input's ifdDriverOptions, not the glue */

/* op mask, per slot */
#define OP_PRESENCE 0x01
#define OP_POWER    0x02
#define OP_PROTO    0x04
#define OP_SHORT    0x08
#define OP_EXT      0x10
#define OP_VERIFY   0x20
#define OP_CONTROL  0x40
#define OP_CAPS     0x80

static const uint8_t *
blob(struct fz_in *in, size_t *len)
{
	*len = in_u8(in);
	return in_bytes(in, len);
}

/* The interface's class descriptor, as usb.c finds and checks it. */
static bool
parse_desc(const uint8_t *extra, size_t len, bool vendor)
{
	size_t off;
	char why[128];

	if (ccid_desc_find(extra, len, vendor, &off) != OC_OK)
		return false;
	/* usb.c keeps the bytes for traces (bLength of them). */
	fz_info.desc_raw_len = extra[off] <= len - off ? extra[off] : 0;
	memcpy(fz_info.desc_raw, extra + off, fz_info.desc_raw_len);
	if (ccid_desc_parse(extra + off, len - off, vendor, &fz_info.desc,
		&fz_info.desc_warnings) != OC_OK) {
		ccid_desc_explain(extra + off, len - off, vendor, why,
		    sizeof(why));
		if (memchr(why, '\0', sizeof(why)) == NULL)
			abort();
		return false;
	}
	if (fz_info.desc_warnings != 0) {
		ccid_desc_warnings_text(fz_info.desc_warnings, why,
		    sizeof(why));
		if (memchr(why, '\0', sizeof(why)) == NULL)
			abort();
	}
	return true;
}

/* R-APDU: SW1 6X (not 60) or 9X at its end (ISO 7816-3 10.3.3). */
static void
check_rapdu(RESPONSECODE rv, const uint8_t *rx, DWORD len, DWORD cap)
{
	if (rv != IFD_SUCCESS) {
		if (len != 0)
			abort();
		return;
	}
	if (len > cap || len < 2)
		abort();
	if ((rx[len - 2] & 0xF0) != 0x90 &&
	    ((rx[len - 2] & 0xF0) != 0x60 || rx[len - 2] == 0x60))
		abort(); /* a garbled answer reported as the card's */
}

static void
transmit(DWORD lun, const struct fz_host *h, const uint8_t *tx, size_t len)
{
	DWORD cap = h->rx_cap != 0 ? h->rx_cap : FZ_RX_MAX, rlen = cap;
	uint8_t *rx = malloc(cap);
	SCARD_IO_HEADER pci = {SCARD_PROTOCOL_T1, 8}, rpci = {0, 0};
	RESPONSECODE rv;

	if (rx == NULL)
		return;
	rv = IFDHTransmitToICC(lun, pci, (PUCHAR)(uintptr_t)tx, (DWORD)len,
	    rx, &rlen, &rpci);
	check_rapdu(rv, rx, rlen, cap);
	free(rx);
}

static void
transmit_extended(DWORD lun, const struct fz_host *h)
{
	size_t n = h->ext_lc, len = 7 + n + 2, i;
	uint8_t *tx = malloc(len);

	if (tx == NULL)
		return;
	tx[0] = 0x00;
	tx[1] = 0xD6; /* UPDATE BINARY */
	tx[2] = 0x00;
	tx[3] = 0x00;
	tx[4] = 0x00;
	tx[5] = (uint8_t)(n >> 8);
	tx[6] = (uint8_t)n;
	for (i = 0; i < n; i++)
		tx[7 + i] = (uint8_t)i;
	tx[7 + n] = 0x00; /* Le 65536 */
	tx[8 + n] = 0x00;
	/* Lc 0 is no extended case: send it as a case 2E command. */
	transmit(lun, h, n == 0 ? tx + 2 : tx, n == 0 ? 7 : len);
	free(tx);
}

static void
control(DWORD lun, DWORD code, const uint8_t *tx, size_t len, DWORD cap)
{
	uint8_t *rx = malloc(cap ? cap : 1);
	DWORD ret = 0xFFFFFFFFu;
	RESPONSECODE rv;

	if (rx == NULL)
		return;
	rv = IFDHControl(lun, code, (PUCHAR)(uintptr_t)tx, (DWORD)len,
	    cap ? rx : NULL, cap, &ret);
	if (ret > cap || (rv != IFD_SUCCESS && ret != 0))
		abort();
	free(rx);
}

static void
controls(DWORD lun, const struct fz_host *h)
{
	DWORD cap = h->rx_cap != 0 ? (h->rx_cap & 0x3FF) : 512;

	if (h->ctrl & 0x01)
		control(lun, CM_IOCTL_GET_FEATURE_REQUEST, NULL, 0, cap);
	if (h->ctrl & 0x02)
		control(lun, SCARD_CTL_CODE(0x330000 + FEATURE_GET_TLV_PROPERTIES),
		    NULL, 0, cap);
	if (h->ctrl & 0x04)
		control(lun, SCARD_CTL_CODE(0x330000 + FEATURE_IFD_PIN_PROPERTIES),
		    NULL, 0, cap);
	if (h->ctrl & 0x08)
		control(lun, SCARD_CTL_CODE(0x330000 + FEATURE_VERIFY_PIN_DIRECT),
		    h->pinv, h->pinv_len, cap);
	if (h->ctrl & 0x10)
		control(lun, SCARD_CTL_CODE(0x330000 + FEATURE_MODIFY_PIN_DIRECT),
		    h->pinm, h->pinm_len, cap);
	if (h->ctrl & 0x20)
		control(lun, SCARD_CTL_CODE(1), h->esc, h->esc_len, cap);
	if (h->ctrl & 0x40)
		control(lun, 0x42000000u + (DWORD)h->ctrl, NULL, 0, cap);
}

static void
capabilities(DWORD lun, const struct fz_host *h)
{
	static const DWORD tags[] = {TAG_IFD_SLOTS_NUMBER, TAG_IFD_THREAD_SAFE,
		TAG_IFD_SLOT_THREAD_SAFE, TAG_IFD_POLLING_THREAD_KILLABLE,
		TAG_IFD_SIMULTANEOUS_ACCESS, TAG_IFD_DEVICE_REMOVED,
		SCARD_ATTR_VENDOR_NAME, SCARD_ATTR_VENDOR_IFD_SERIAL_NO,
		SCARD_ATTR_VENDOR_IFD_VERSION, SCARD_ATTR_MAXINPUT,
		SCARD_ATTR_VENDOR_IFD_TYPE, SCARD_ATTR_DEFAULT_CLK,
		SCARD_ATTR_MAX_CLK, SCARD_ATTR_DEFAULT_DATA_RATE,
		SCARD_ATTR_MAX_DATA_RATE, SCARD_ATTR_MAX_IFSD,
		SCARD_ATTR_CHANNEL_ID, TAG_IFD_POLLING_THREAD_WITH_TIMEOUT,
		TAG_IFD_STOP_POLLING_THREAD, TAG_IFD_ATR, SCARD_ATTR_ATR_STRING,
		SCARD_ATTR_ICC_PRESENCE, SCARD_ATTR_ICC_INTERFACE_STATUS,
		TAG_IFD_SLOTNUM, 0x7FFF};
	uint8_t *v;
	DWORD cap = h->cap_len != 0 ? h->cap_len : 256, len;
	size_t i;

	if ((v = malloc(cap)) == NULL)
		return;
	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		len = cap;
		if (IFDHGetCapabilities(lun, tags[i], &len, v) == IFD_SUCCESS &&
		    len > cap)
			abort();
	}
	free(v);
}

static void
power(DWORD lun, DWORD action, const struct fz_host *h)
{
	UCHAR atr[MAX_ATR_SIZE];
	DWORD cap = h->atr_cap % (MAX_ATR_SIZE + 1), len;
	RESPONSECODE rv;

	if (cap == 0)
		cap = MAX_ATR_SIZE;
	len = cap;
	rv = IFDHPowerICC(lun, action, atr, &len);
	if ((rv == IFD_SUCCESS && len > cap) || (rv != IFD_SUCCESS && len != 0))
		abort();
}

static void
drive_slot(DWORD lun, const struct fz_host *h)
{
	static const DWORD protos[] = {SCARD_PROTOCOL_T0, SCARD_PROTOCOL_T1,
		SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, SCARD_PROTOCOL_T15};

	if (h->ops & OP_PRESENCE)
		(void)IFDHICCPresence(lun);
	if (h->ops & OP_POWER)
		power(lun, (h->power & 1) ? IFD_RESET : IFD_POWER_UP, h);
	if (h->ops & OP_PROTO)
		(void)IFDHSetProtocolParameters(lun, protos[h->proto & 3],
		    h->proto, 0x11, 0, 0);
	if (h->ops & OP_CAPS)
		capabilities(lun, h);
	if ((h->ops & OP_SHORT) && h->apdu_len > 0)
		transmit(lun, h, h->apdu, h->apdu_len);
	if (h->ops & OP_EXT)
		transmit_extended(lun, h);
	if (h->ops & OP_VERIFY) {
		pin_watch = true;
		transmit(lun, h, verify_apdu, sizeof(verify_apdu));
		pin_watch = false;
		if (pin_seen)
			abort(); /* a PIN in a COMM log line */
	}
	if (h->ops & OP_CONTROL)
		controls(lun, h);
	if (h->power & 2)
		(void)IFDHICCPresence(lun);
	if (h->power & 4)
		power(lun, IFD_POWER_DOWN, h);
	if (h->power & 8)
		power(lun, 42, h); /* an unknown action */
}

/* Card-event polling the way pcscd's polling thread does it, once. */
static void
poll_once(DWORD lun)
{
	RESPONSECODE (*poll)(DWORD, int) = NULL;
	uint8_t v[sizeof(poll)];
	DWORD len = sizeof(v);

	if (IFDHGetCapabilities(lun, TAG_IFD_POLLING_THREAD_WITH_TIMEOUT, &len,
		v) != IFD_SUCCESS || len != sizeof(poll))
		return;
	memcpy(&poll, v, sizeof(poll));
	dev.poll_lun = lun;
	dev.polling = true;
	/* Stopped by fz_intr_in when no message is queued; the 3 ms bound
	 * (events.c rounds down to whole ms) only matters once the pipe
	 * counts as broken. */
	(void)poll(lun, 3);
	dev.polling = false;
	(void)IFDHICCPresence(lun);
}

/* The open as pcscd does it, or straight to the reader layer. */
static RESPONSECODE
open_reader(DWORD lun, char *name, const struct fz_host *h)
{
	struct transport tr = {&fz_ops, &dev};

	if (!(h->flags & HF_DIRECT))
		return IFDHCreateChannelByName(lun, name);
	if (reader_open_with_transport(lun, &tr, &fz_info,
		h->driver_options) != OC_OK)
		return IFD_COMMUNICATION_ERROR;
	reader_set_time_ext_max(lun, 1 + h->driver_options * 1000u);
	return IFD_SUCCESS;
}

static void
read_host(struct fz_in *in, struct fz_host *h)
{
	h->flags = in_u8(in);
	oc_log_set_level(verbose ? 0x0f : in_u8(in) & 0x0f);
	if (verbose)
		(void)in_u8(in);
	fz_info.vid = in_u16(in);
	fz_info.pid = in_u16(in);
	fz_info.bcdDevice = in_u16(in);
	fz_info.bInterfaceProtocol = (uint8_t)(in_u8(in) % 3);
	h->driver_options = in_u8(in);
	h->lun0 = (unsigned long)(in_u8(in) % 4) << 16;
	h->slot_mask = in_u8(in);
	h->ops = in_u8(in);
	h->ctrl = in_u8(in);
	h->proto = in_u8(in);
	h->power = in_u8(in);
	h->atr_cap = in_u8(in);
	h->rx_cap = in_u16(in);
	h->cap_len = in_u8(in);
	h->ext_lc = in_u16(in);
}

static int run_input(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int rc;

	fz_running = true;
	rc = run_input(data, size);
	fz_running = false;
	return rc;
}

static int
run_input(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	struct fz_host h;
	const uint8_t *extra;
	size_t extra_len;
	char name[64];
	unsigned nslots, i;
	DWORD lun;
	RESPONSECODE rv;

	memset(&dev, 0, sizeof(dev));
	memset(&fz_info, 0, sizeof(fz_info));
	memset(&h, 0, sizeof(h));
	vclock = 1000000;
	pin_seen = false;
	read_host(&in, &h);
	extra = blob(&in, &extra_len);
	h.apdu = blob(&in, &h.apdu_len);
	h.pinv = blob(&in, &h.pinv_len);
	h.pinm = blob(&in, &h.pinm_len);
	h.esc = blob(&in, &h.esc_len);
	dev.s = in;
	dev.has_intr = (h.flags & HF_INTR) != 0;

	fz_info.bus = 1;
	fz_info.addr = 5;
	fz_info.has_intr = dev.has_intr;
	fz_info.bInterfaceClass = (h.flags & HF_VENDOR) ? 0xFF : 0x0B;
	if (!(h.flags & HF_STRINGS)) {
		strcpy(fz_info.manufacturer, "Fuzz");
		strcpy(fz_info.product, "Reader");
		strcpy(fz_info.serial, "0001");
	}
	if (!parse_desc(extra, extra_len, (h.flags & HF_VENDOR) != 0))
		return 0; /* usb_open() would not offer this interface */

	lun = (DWORD)h.lun0;
	(void)snprintf(name, sizeof(name),
	    "usb:%04x/%04x:libudev:0:/dev/bus/usb/001/005", fz_info.vid,
	    fz_info.pid);
	rv = open_reader(lun, name, &h);
	if (rv != IFD_SUCCESS) {
		if (dev.closes != 1 || reader_hold(lun) != NULL)
			abort(); /* a failed open must close and not stay */
		return 0;
	}
	{
		/* ccid_cmd's clock: virtual from here on. */
		struct reader *r = reader_hold(lun);

		if (r == NULL)
			abort();
		pthread_mutex_lock(&r->io.xfer_lock);
		r->io.now_ms = fz_now;
		pthread_mutex_unlock(&r->io.xfer_lock);
		nslots = r->nslots;
		reader_release(r);
	}
	/* pcscd opens every further slot of a multi-slot reader. */
	for (i = 1; i < nslots && i < 4; i++)
		if (h.slot_mask & (1u << i))
			(void)IFDHCreateChannelByName(lun | i, name);
	if (h.flags & HF_POLL_LAST) {
		for (i = 0; i < nslots && i < 4; i++)
			if (i == 0 || (h.slot_mask & (1u << i)))
				drive_slot(lun | i, &h);
		poll_once(lun);
	} else {
		poll_once(lun);
		for (i = 0; i < nslots && i < 4; i++)
			if (i == 0 || (h.slot_mask & (1u << i)))
				drive_slot(lun | i, &h);
	}
	if (h.flags & HF_REMOVED) {
		uint8_t one = 1;

		(void)IFDHSetCapabilities(lun, TAG_IFD_DEVICE_REMOVED, 1, &one);
	}
	/* Further slots first, slot 0 last; or slot 0 first (the device
	 * stays until the last slot goes). */
	for (i = 1; i < nslots && i < 4; i++)
		if (h.slot_mask & (1u << i))
			(void)IFDHCloseChannel(lun | i);
	(void)IFDHCloseChannel(lun);
	for (i = 0; i < CCID_MAX_SLOTS; i++)
		if (reader_hold(lun | i) != NULL)
			abort(); /* the reader table must be empty */
	if (reader_usb_in_use(NULL, fz_info.bus, fz_info.addr,
		fz_info.interface) || dev.closes != 1)
		abort();
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[] = "/tmp/openccid-fuzz-plist-XXXXXX";
	static const char plist[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<plist version=\"1.0\"><dict>\n"
	    "<key>ifdDriverOptions</key><string>0x0001</string>\n"
	    "</dict></plist>\n";
	int fd;

	(void)argc, (void)argv;
	verbose = getenv("FUZZ_DRIVER_VERBOSE") != NULL;
	oc_log_set_level(0);
	/* Built-in quirks only: results must not depend on this machine. */
	if (reader_quirks_reload(NULL) != OC_OK)
		abort();
	/* Once per process: the bundle's Info.plist (none here), then
	 * ifdDriverOptions 0x0001 so that SCardControl may send Escape. */
	drvconf_init();
	if ((fd = mkstemp(path)) < 0)
		abort();
	if (write(fd, plist, sizeof(plist) - 1) != (ssize_t)(sizeof(plist) - 1))
		abort();
	close(fd);
	if (drvconf_load(path) != OC_OK)
		abort();
	unlink(path);
	return 0;
}
