/*
 * openccid - libusb-1.0 implementation of struct transport (see usb.h).
 *
 * One libusb context per opened device, so that closing or losing one
 * reader never disturbs another and no libusb state is shared.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "transport/usb.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libusb.h>

#include "base/err.h"
#include "base/log.h"

#ifndef PCSCD_GROUP
#define PCSCD_GROUP "pcscd" /* configure --with-pcscd-group */
#endif
#define USB_MAX_DEVICES 256      /* bound on the device list walk */
#define USB_INTR_SLACK_MS 1000  /* past the interrupt transfer timeout */
#define USB_CANCEL_WAIT_MS 2000 /* for a cancelled transfer to end */
#define USB_EVENT_ERRORS 8      /* failing event-handling calls tolerated */
#define USB_PROBE_CTRL_TIMEOUT_MS 1000 /* class requests of the probe */

struct usb_dev {
	libusb_context *ctx;
	libusb_device_handle *h;
	uint8_t ifnum;
	uint8_t ep_in, ep_out, ep_intr;
	bool has_intr;
	pthread_mutex_t intr_lock; /* guards intr_xfer */
	struct libusb_transfer *intr_xfer;
	atomic_bool intr_cancel;
	char node[40];
};

/* What find_interface() learns about the CCID interface. */
struct usb_found {
	const struct libusb_interface_descriptor *alt;
	uint8_t ep_in, ep_out, ep_intr;
	bool has_intr;
};

static int
map_err(int lrc)
{
	switch (lrc) {
	case LIBUSB_SUCCESS:
		return OC_OK;
	case LIBUSB_ERROR_NO_DEVICE:
	case LIBUSB_ERROR_NOT_FOUND:
		return OC_ENODEV;
	case LIBUSB_ERROR_PIPE:
		return OC_ESTALL;
	case LIBUSB_ERROR_TIMEOUT:
		return OC_ETIMEDOUT;
	case LIBUSB_ERROR_ACCESS:
		return OC_EACCES;
	case LIBUSB_ERROR_BUSY:
		return OC_EBUSY;
	case LIBUSB_ERROR_NO_MEM:
		return OC_ENOMEM;
	case LIBUSB_ERROR_INVALID_PARAM:
		return OC_EINVAL;
	case LIBUSB_ERROR_OVERFLOW:
		return OC_EPROTO;
	case LIBUSB_ERROR_NOT_SUPPORTED:
		return OC_ENOTSUP;
	default:
		return OC_EIO;
	}
}

static int
usb_bulk_out(void *ctx, const uint8_t *buf, size_t len, unsigned timeout_ms)
{
	struct usb_dev *d = ctx;
	int done = 0, lrc;

	if (len > INT_MAX)
		return OC_EINVAL;
	/* libusb takes a non-const buffer but does not write an OUT one. */
	lrc = libusb_bulk_transfer(d->h, d->ep_out,
	    (unsigned char *)(uintptr_t)buf, (int)len, &done, timeout_ms);
	if (lrc != 0)
		return map_err(lrc);
	return (size_t)done == len ? OC_OK : OC_EIO;
}

static int
usb_bulk_in(void *ctx, uint8_t *buf, size_t cap, size_t *got,
    unsigned timeout_ms)
{
	struct usb_dev *d = ctx;
	int done = 0, lrc;

	if (cap > INT_MAX)
		cap = INT_MAX;
	lrc = libusb_bulk_transfer(d->h, d->ep_in, buf, (int)cap, &done,
	    timeout_ms);
	if (lrc != 0)
		return map_err(lrc);
	*got = (size_t)done;
	return OC_OK;
}

static void LIBUSB_CALL
intr_done(struct libusb_transfer *t)
{
	*(int *)t->user_data = 1;
}

static int
intr_status(const struct libusb_transfer *t, size_t *got)
{
	switch (t->status) {
	case LIBUSB_TRANSFER_COMPLETED:
		*got = (size_t)t->actual_length;
		return OC_OK;
	case LIBUSB_TRANSFER_TIMED_OUT:
		return OC_ETIMEDOUT;
	case LIBUSB_TRANSFER_CANCELLED:
		return OC_ECANCELED;
	case LIBUSB_TRANSFER_NO_DEVICE:
		return OC_ENODEV;
	case LIBUSB_TRANSFER_STALL:
		return OC_ESTALL;
	default:
		return OC_EIO;
	}
}

/* Time left until *end in a timeval, {0,0} when past. */
static struct timeval
left_until(const struct timespec *end)
{
	struct timespec now;
	struct timeval tv = {0, 0};
	long long us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (long long)(end->tv_sec - now.tv_sec) * 1000000 +
	    (end->tv_nsec - now.tv_nsec) / 1000;
	if (us > 0) {
		tv.tv_sec = (time_t)(us / 1000000);
		tv.tv_usec = (suseconds_t)(us % 1000000);
	}
	return tv;
}

/*
 * Run events until *done. libusb blocks in poll() for the whole wait (the
 * transfer's own timeout ends it; no wake-ups in between). Other threads'
 * synchronous bulk transfers on this context are safe: libusb's event
 * lock lets one thread handle events while the others wait, and each
 * completion is matched to its own transfer's flag.
 */
static void
intr_wait(struct usb_dev *d, struct libusb_transfer *t, int *done,
    unsigned timeout_ms)
{
	struct timespec end;
	struct timeval tv;
	unsigned errors = 0;

	clock_gettime(CLOCK_MONOTONIC, &end);
	/* Slack past the transfer timeout, which normally ends the wait. */
	timeout_ms += USB_INTR_SLACK_MS;
	end.tv_sec += (time_t)(timeout_ms / 1000);
	end.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	while (!*done && errors < USB_EVENT_ERRORS) {
		tv = left_until(&end);
		if (tv.tv_sec == 0 && tv.tv_usec == 0)
			break;
		if (libusb_handle_events_timeout_completed(d->ctx, &tv,
			done) < 0)
			errors++; /* bounded: never spin on a failing context */
	}
	if (*done)
		return;
	(void)libusb_cancel_transfer(t);
	tv.tv_sec = USB_CANCEL_WAIT_MS / 1000;
	tv.tv_usec = 0;
	for (errors = 0; !*done && errors < USB_EVENT_ERRORS; errors++)
		(void)libusb_handle_events_timeout_completed(d->ctx, &tv, done);
}

static int
usb_intr_in(void *ctx, uint8_t *buf, size_t cap, size_t *got,
    unsigned timeout_ms)
{
	struct usb_dev *d = ctx;
	struct libusb_transfer *t;
	int done = 0, rc;

	if (!d->has_intr)
		return OC_ENOTSUP;
	if (cap > INT_MAX)
		cap = INT_MAX;
	if ((t = libusb_alloc_transfer(0)) == NULL)
		return OC_ENOMEM;
	libusb_fill_interrupt_transfer(t, d->h, d->ep_intr, buf, (int)cap,
	    intr_done, &done, timeout_ms);
	pthread_mutex_lock(&d->intr_lock);
	/* A cancel that came before the submit still counts. */
	if (atomic_exchange(&d->intr_cancel, false))
		rc = OC_ECANCELED;
	else if ((rc = map_err(libusb_submit_transfer(t))) == OC_OK)
		d->intr_xfer = t;
	pthread_mutex_unlock(&d->intr_lock);
	if (rc != OC_OK) {
		libusb_free_transfer(t);
		return rc;
	}
	intr_wait(d, t, &done, timeout_ms);
	pthread_mutex_lock(&d->intr_lock);
	d->intr_xfer = NULL;
	pthread_mutex_unlock(&d->intr_lock);
	if (!done) {
		/* Never free a transfer libusb still owns: leak it instead. */
		OC_LOG_CRIT("%s: interrupt transfer did not end", d->node);
		return OC_EIO;
	}
	rc = intr_status(t, got);
	libusb_free_transfer(t);
	return rc;
}

static void
usb_cancel_intr(void *ctx)
{
	struct usb_dev *d = ctx;

	pthread_mutex_lock(&d->intr_lock);
	if (d->intr_xfer != NULL)
		(void)libusb_cancel_transfer(d->intr_xfer);
	else
		atomic_store(&d->intr_cancel, true);
	pthread_mutex_unlock(&d->intr_lock);
}

static int
usb_control(void *ctx, uint8_t bmRequestType, uint8_t bRequest,
    uint16_t wValue, uint8_t *data, size_t len, size_t *got,
    unsigned timeout_ms)
{
	struct usb_dev *d = ctx;
	int lrc;

	if (len > UINT16_MAX)
		return OC_EINVAL;
	/* Class requests go to the CCID interface: wIndex = interface. */
	lrc = libusb_control_transfer(d->h, bmRequestType, bRequest, wValue,
	    d->ifnum, data, (uint16_t)len, timeout_ms);
	if (lrc < 0)
		return map_err(lrc);
	if (got != NULL)
		*got = (size_t)lrc;
	return OC_OK;
}

static int
usb_clear_halt(void *ctx, int in)
{
	struct usb_dev *d = ctx;

	return map_err(libusb_clear_halt(d->h, in ? d->ep_in : d->ep_out));
}

static int
usb_reset(void *ctx)
{
	struct usb_dev *d = ctx;

	/*
	 * libusb re-claims the claimed interface afterwards; a device whose
	 * descriptors changed is re-enumerated instead (NOT_FOUND: gone).
	 */
	return map_err(libusb_reset_device(d->h));
}

static void
usb_close(void *ctx)
{
	struct usb_dev *d = ctx;

	if (d == NULL)
		return;
	if (d->h != NULL) {
		(void)libusb_release_interface(d->h, d->ifnum);
		libusb_close(d->h);
	}
	if (d->ctx != NULL)
		libusb_exit(d->ctx);
	pthread_mutex_destroy(&d->intr_lock);
	free(d);
}

static const struct transport_ops usb_ops = {
	.bulk_out = usb_bulk_out,
	.bulk_in = usb_bulk_in,
	.intr_in = usb_intr_in,
	.control = usb_control,
	.clear_halt = usb_clear_halt,
	.cancel_intr = usb_cancel_intr,
	.close = usb_close,
	.reset = usb_reset,
};

/*
 * One alternate setting as libusb handed it over, every pointer and count
 * checked. libusb 1.0.26 parses a truncated configuration partially (a
 * class descriptor whose bLength runs past the bytes, a wTotalLength that
 * ends inside it): an alternate setting can then say bNumEndpoints 3 with
 * `endpoint` NULL, or carry `extra` shorter than the descriptor in it
 * (issue 23: indexing endpoint[] crashed pcscd). Lengths are what the
 * pointers really hold (0 when a pointer is NULL or a length negative).
 */
struct usb_alt {
	const struct libusb_interface_descriptor *d;
	const struct libusb_endpoint_descriptor *ep; /* nep of them */
	uint8_t nep;
	const unsigned char *extra; /* after the interface descriptor */
	size_t extra_len;
	const unsigned char *ep_extra; /* after the last endpoint */
	size_t ep_extra_len;
};

static size_t
extra_len(const unsigned char *p, int len)
{
	return p != NULL && len > 0 ? (size_t)len : 0;
}

/* First alternate setting of itf; false (why set) when unusable. */
static bool
alt_checked(const struct libusb_interface *itf, struct usb_alt *a,
    char *why, size_t whylen)
{
	const struct libusb_endpoint_descriptor *last;

	memset(a, 0, sizeof(*a));
	if (itf->altsetting == NULL || itf->num_altsetting < 1) {
		(void)snprintf(why, whylen, "no alternate setting");
		return false;
	}
	a->d = &itf->altsetting[0];
	if (a->d->bNumEndpoints > 0 && a->d->endpoint == NULL) {
		(void)snprintf(why, whylen,
		    "bNumEndpoints %u but no endpoint descriptors "
		    "(configuration truncated)",
		    a->d->bNumEndpoints);
		return false;
	}
	a->ep = a->d->endpoint;
	a->nep = a->ep != NULL ? a->d->bNumEndpoints : 0;
	a->extra_len = extra_len(a->d->extra, a->d->extra_length);
	a->extra = a->extra_len > 0 ? a->d->extra : NULL;
	/* The bytes after the last endpoint (libccid D2). */
	if (a->nep > 0) {
		last = &a->ep[a->nep - 1];
		a->ep_extra_len = extra_len(last->extra, last->extra_length);
		a->ep_extra = a->ep_extra_len > 0 ? last->extra : NULL;
	}
	return true;
}

/*
 * Find and parse the class descriptor where the quirks allow it
 * (discovery_classify()); false with the reason in why when the
 * interface is not a usable CCID interface.
 */
static bool
find_class_desc(const struct usb_alt *a, const struct usb_discovery *q,
    struct usb_info *info, char *why, size_t whylen)
{
	const struct libusb_interface_descriptor *alt = a->d;
	bool vendor = alt->bInterfaceClass == DISCOVERY_CLASS_VENDOR;
	const unsigned char *run;
	size_t run_len, off, n;
	uint8_t fixed[UINT8_MAX];
	bool from_ep;
	int rc;

	if (discovery_classify(alt->bInterfaceClass, a->extra, a->extra_len,
		a->ep_extra, a->ep_extra_len, q, &off, &from_ep, why,
		whylen) != OC_OK)
		return false;
	run = from_ep ? a->ep_extra : a->extra;
	run_len = from_ep ? a->ep_extra_len : a->extra_len;
	if (run == NULL || off >= run_len) {
		(void)snprintf(why, whylen, "no class descriptor bytes");
		return false;
	}
	n = discovery_fix_desc(q, run + off, run_len - off, fixed,
	    sizeof(fixed));
	if (q->desc_protocols != 0)
		OC_LOG_INFO("usb:%04x/%04x interface %u: quirk desc_protocols: "
			    "dwProtocols 0x%X",
		    info->vid, info->pid, alt->bInterfaceNumber,
		    (unsigned)q->desc_protocols);
	rc = ccid_desc_parse(fixed, n, vendor, &info->desc,
	    &info->desc_warnings);
	if (rc != OC_OK) {
		char field[96];

		/* Name the field: a broken descriptor is a device fault. */
		ccid_desc_explain(fixed, n, vendor, field, sizeof(field));
		(void)snprintf(why, whylen, "class descriptor rejected: %s",
		    field[0] != '\0' ? field : oc_strerror(rc));
		return false;
	}
	info->bInterfaceClass = alt->bInterfaceClass;
	info->desc_after_endpoints = from_ep;
	/* ccid_desc_parse() checked bLength <= run_len - off. */
	info->desc_raw_len = run != NULL ? run[off] : 0;
	if (info->desc_raw_len > 0)
		memcpy(info->desc_raw, run + off, info->desc_raw_len);
	return true;
}

static bool
find_endpoints(const struct usb_alt *a, struct usb_found *f)
{
	bool in = false, out = false;
	uint8_t i;

	for (i = 0; i < a->nep; i++) {
		const struct libusb_endpoint_descriptor *ep = &a->ep[i];
		uint8_t type = ep->bmAttributes & LIBUSB_TRANSFER_TYPE_MASK;
		bool dir_in = (ep->bEndpointAddress & LIBUSB_ENDPOINT_IN) != 0;

		if (type == LIBUSB_TRANSFER_TYPE_BULK && dir_in && !in) {
			f->ep_in = ep->bEndpointAddress;
			in = true;
		} else if (type == LIBUSB_TRANSFER_TYPE_BULK && !dir_in && !out) {
			f->ep_out = ep->bEndpointAddress;
			out = true;
		} else if (type == LIBUSB_TRANSFER_TYPE_INTERRUPT && dir_in &&
		    !f->has_intr) {
			f->ep_intr = ep->bEndpointAddress;
			f->has_intr = true;
		}
	}
	return in && out;
}

#define USB_WHY_MAX 200

static bool
interface_is_ccid(const struct usb_alt *a, const struct usb_discovery *q,
    struct usb_info *info, struct usb_found *f, char *why, size_t whylen)
{
	if (!find_class_desc(a, q, info, why, whylen))
		return false;
	memset(f, 0, sizeof(*f));
	/* An ICCD token (protocol 1: version A, 2: B) takes its commands on
	 * the control pipe; an interrupt-IN is optional. */
	if (!find_endpoints(a, f) && a->d->bInterfaceProtocol != 1 &&
	    a->d->bInterfaceProtocol != 2) {
		(void)snprintf(why, whylen, "no bulk-IN and bulk-OUT endpoints");
		return false;
	}
	f->alt = a->d;
	return true;
}

/* The discovery quirks of one interface (none without a hook). */
static void
discovery_of(const struct usb_hooks *hooks, const struct usb_info *info,
    uint8_t ifnum, struct usb_discovery *q)
{
	memset(q, 0, sizeof(*q));
	if (hooks != NULL && hooks->discovery != NULL)
		hooks->discovery(hooks->arg, info->vid, info->pid,
		    info->bcdDevice, ifnum, q);
}

/*
 * The CCID interface of dev that dn selects and nobody uses yet. Why
 * each other interface of a matching device was not taken is logged:
 * with a missing quirk that is the one line that explains "no reader".
 */
static bool
find_interface(const struct libusb_config_descriptor *cfg,
    const struct devname *dn, const struct usb_hooks *hooks,
    struct usb_info *info, struct usb_found *f)
{
	char why[USB_WHY_MAX];
	struct usb_discovery q;
	struct usb_alt a;
	uint8_t i;

	if (cfg->interface == NULL && cfg->bNumInterfaces > 0) {
		OC_LOG_CRIT("usb:%04x/%04x: bNumInterfaces %u but no interface "
			    "descriptors (configuration truncated)",
		    info->vid, info->pid, cfg->bNumInterfaces);
		return false;
	}
	for (i = 0; cfg->interface != NULL && i < cfg->bNumInterfaces; i++) {
		const struct libusb_interface_descriptor *alt;

		if (!alt_checked(&cfg->interface[i], &a, why, sizeof(why))) {
			/* Other classes (HID, storage): not worth a line. */
			if (a.d == NULL ||
			    a.d->bInterfaceClass == DISCOVERY_CLASS_CCID ||
			    a.d->bInterfaceClass == DISCOVERY_CLASS_VENDOR)
				OC_LOG_CRIT("usb:%04x/%04x interface %u not "
					    "used: %s",
				    info->vid, info->pid,
				    a.d != NULL ? a.d->bInterfaceNumber : i,
				    why);
			continue;
		}
		alt = a.d;
		if (dn->has_interface && alt->bInterfaceNumber != dn->interface)
			continue;
		if (hooks != NULL && hooks->in_use != NULL &&
		    hooks->in_use(hooks->arg, info->bus, info->addr,
			alt->bInterfaceNumber))
			continue;
		discovery_of(hooks, info, alt->bInterfaceNumber, &q);
		why[0] = '\0';
		if (interface_is_ccid(&a, &q, info, f, why, sizeof(why))) {
			info->interface = alt->bInterfaceNumber;
			info->bInterfaceProtocol = alt->bInterfaceProtocol;
			info->has_intr = f->has_intr;
			if (info->desc_after_endpoints)
				OC_LOG_INFO("usb:%04x/%04x interface %u: class "
					    "descriptor after the endpoints "
					    "(quirk)",
				    info->vid, info->pid,
				    alt->bInterfaceNumber);
			return true;
		}
		/* Other classes (HID, mass storage) are not worth a line. */
		if (alt->bInterfaceClass == DISCOVERY_CLASS_CCID ||
		    alt->bInterfaceClass == DISCOVERY_CLASS_VENDOR)
			OC_LOG_CRIT("usb:%04x/%04x interface %u not used: %s",
			    info->vid, info->pid, alt->bInterfaceNumber, why);
	}
	return false;
}

int
usb_config_find(const struct libusb_config_descriptor *cfg,
    const struct devname *dn, const struct usb_hooks *hooks,
    struct usb_info *info, struct usb_endpoints *eps)
{
	struct usb_found f;

	if (cfg == NULL || !find_interface(cfg, dn, hooks, info, &f))
		return OC_ENODEV;
	eps->in = f.ep_in;
	eps->out = f.ep_out;
	eps->intr = f.ep_intr;
	eps->has_intr = f.has_intr;
	return OC_OK;
}

static bool
device_matches(libusb_device *dev, const struct devname *dn,
    struct libusb_device_descriptor *dd)
{
	if (libusb_get_device_descriptor(dev, dd) != 0)
		return false;
	if ((dn->vid != 0 || dn->pid != 0) &&
	    (dd->idVendor != dn->vid || dd->idProduct != dn->pid))
		return false;
	if (dn->has_busaddr && (libusb_get_bus_number(dev) != dn->bus ||
				   libusb_get_device_address(dev) != dn->addr))
		return false;
	return true;
}

static void
read_string(libusb_device_handle *h, uint8_t idx, char *out, size_t cap)
{
	unsigned char buf[USB_STR_MAX];
	int n, i;

	out[0] = '\0';
	if (idx == 0)
		return;
	n = libusb_get_string_descriptor_ascii(h, idx, buf, sizeof(buf) - 1);
	if (n <= 0)
		return;
	/* Device text goes to logs and attributes: keep it printable. */
	for (i = 0; i < n && (size_t)i < cap - 1; i++) {
		unsigned char c = buf[i];

		out[i] = (char)(c >= 0x20 && c < 0x7f ? c : '?');
	}
	out[i] = '\0';
}

static void
log_open_error(const struct usb_dev *d, int rc)
{
	/* EACCES: the node lacks the group and mode 0660 that
	 * udev/92-openccid.rules gives readers (pcscd runs unprivileged). */
	if (rc == OC_EACCES)
		OC_LOG_CRIT("cannot open %s: permission denied; the pcscd user "
			    "needs read-write access (udev rules: group "
			    PCSCD_GROUP ")", d->node);
	else
		OC_LOG_CRIT("%s: cannot open: %s", d->node, oc_strerror(rc));
}

/* Open and claim; d->ctx is set, d->h filled on success. */
static int
claim(struct usb_dev *d, libusb_device *dev, const struct usb_found *f,
    const struct libusb_device_descriptor *dd, struct usb_info *info)
{
	int rc;

	rc = map_err(libusb_open(dev, &d->h));
	if (rc != OC_OK) {
		d->h = NULL;
		log_open_error(d, rc);
		return rc;
	}
	(void)libusb_set_auto_detach_kernel_driver(d->h, 1);
	rc = map_err(libusb_claim_interface(d->h, info->interface));
	if (rc != OC_OK) {
		log_open_error(d, rc);
		libusb_close(d->h);
		d->h = NULL;
		return rc;
	}
	d->ifnum = info->interface;
	d->ep_in = f->ep_in;
	d->ep_out = f->ep_out;
	d->ep_intr = f->ep_intr;
	d->has_intr = f->has_intr;
	read_string(d->h, dd->iManufacturer, info->manufacturer,
	    sizeof(info->manufacturer));
	read_string(d->h, dd->iProduct, info->product, sizeof(info->product));
	read_string(d->h, dd->iSerialNumber, info->serial,
	    sizeof(info->serial));
	return OC_OK;
}

/* Try one device: OC_ENODEV when it is not ours. */
static int
try_device(struct usb_dev *d, libusb_device *dev, const struct devname *dn,
    const struct usb_hooks *hooks, struct usb_info *info)
{
	struct libusb_device_descriptor dd;
	struct libusb_config_descriptor *cfg = NULL;
	struct usb_found f;
	int rc;

	if (!device_matches(dev, dn, &dd))
		return OC_ENODEV;
	memset(info, 0, sizeof(*info));
	info->vid = dd.idVendor;
	info->pid = dd.idProduct;
	info->bcdDevice = dd.bcdDevice;
	info->bus = libusb_get_bus_number(dev);
	info->addr = libusb_get_device_address(dev);
	(void)snprintf(d->node, sizeof(d->node), "/dev/bus/usb/%03u/%03u",
	    info->bus, info->addr);
	if (libusb_get_active_config_descriptor(dev, &cfg) != 0 &&
	    (rc = libusb_get_config_descriptor(dev, 0, &cfg)) != 0) {
		OC_LOG_CRIT("%s: configuration descriptor unreadable: %s",
		    d->node, libusb_error_name(rc));
		return OC_ENODEV;
	}
	rc = OC_ENODEV;
	if (find_interface(cfg, dn, hooks, info, &f))
		rc = claim(d, dev, &f, &dd, info);
	libusb_free_config_descriptor(cfg);
	return rc;
}

static int
scan(struct usb_dev *d, const struct devname *dn,
    const struct usb_hooks *hooks, struct usb_info *info)
{
	libusb_device **list;
	ssize_t n, i;
	int rc = OC_ENODEV;

	n = libusb_get_device_list(d->ctx, &list);
	if (n < 0)
		return map_err((int)n);
	for (i = 0; i < n && i < USB_MAX_DEVICES; i++) {
		rc = try_device(d, list[i], dn, hooks, info);
		/* A permission error is the answer: don't hide it. */
		if (rc == OC_OK || rc == OC_EACCES)
			break;
	}
	libusb_free_device_list(list, 1);
	return rc;
}

int
usb_open(const struct devname *dn, const struct usb_hooks *hooks,
    struct transport *tr, struct usb_info *info)
{
	struct usb_dev *d;
	int rc;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return OC_ENOMEM;
	pthread_mutex_init(&d->intr_lock, NULL);
	atomic_init(&d->intr_cancel, false);
	rc = map_err(libusb_init(&d->ctx));
	if (rc == OC_OK)
		rc = scan(d, dn, hooks, info);
	if (rc != OC_OK) {
		if (rc == OC_ENODEV)
			OC_LOG_CRIT("no CCID interface for usb:%04x/%04x",
			    dn->vid, dn->pid);
		usb_close(d);
		return rc;
	}
	OC_LOG_INFO("%s: interface %u, %s level, \"%s\"", d->node,
	    info->interface, ccid_level_name(info->desc.level),
	    info->product);
	if (info->desc_warnings != 0) {
		char w[160];

		ccid_desc_warnings_text(info->desc_warnings, w, sizeof(w));
		OC_LOG_CRIT("%s: interface %u: class descriptor out of range, "
			    "driver limits used: %s",
		    d->node, info->interface, w);
	}
	tr->ops = &usb_ops;
	tr->ctx = d;
	return OC_OK;
}

int
usb_class_request_in(const struct transport *tr, uint8_t bRequest,
    uint8_t *buf, size_t cap, size_t *got)
{
	/* bmRequestType: device-to-host, class, interface (USB 2.0 9.3). */
	return tr->ops->control(tr->ctx,
	    LIBUSB_ENDPOINT_IN | LIBUSB_REQUEST_TYPE_CLASS |
		LIBUSB_RECIPIENT_INTERFACE,
	    bRequest, 0, buf, cap, got, USB_PROBE_CTRL_TIMEOUT_MS);
}

/* Strings of a device the probe can open; "" when it cannot. */
static void
probe_strings(libusb_device *dev, const struct libusb_device_descriptor *dd,
    struct usb_info *info)
{
	libusb_device_handle *h;

	if (libusb_open(dev, &h) != 0)
		return;
	read_string(h, dd->iManufacturer, info->manufacturer,
	    sizeof(info->manufacturer));
	read_string(h, dd->iProduct, info->product, sizeof(info->product));
	read_string(h, dd->iSerialNumber, info->serial, sizeof(info->serial));
	libusb_close(h);
}

/* Verdict with the quirks, then what a reader without them needs. */
static void
probe_iface(const struct usb_alt *a, const struct usb_hooks *hooks,
    struct usb_probe_iface *it)
{
	static const struct usb_discovery all = {
	    .vendor_class_ccid = true,
	    .vendor_class_any_len54 = true,
	    .class_desc_after_endpoints = true,
	};
	const struct libusb_interface_descriptor *alt = a->d;
	struct usb_discovery q;
	const unsigned char *run;
	size_t run_len, off, n;
	uint8_t fixed[UINT8_MAX];
	bool from_ep;
	struct usb_found f;

	discovery_of(hooks, &it->info, alt->bInterfaceNumber, &q);
	it->accepted = interface_is_ccid(a, &q, &it->info, &f, it->why,
	    sizeof(it->why));
	it->info.has_intr = it->accepted && f.has_intr;
	if (discovery_classify(alt->bInterfaceClass, a->extra, a->extra_len,
		a->ep_extra, a->ep_extra_len, &all, &off, &from_ep, NULL,
		0) != OC_OK)
		return;
	run = from_ep ? a->ep_extra : a->extra;
	run_len = from_ep ? a->ep_extra_len : a->extra_len;
	if (run == NULL || off >= run_len)
		return; /* classify() never says yes to an empty run */
	/* The device's own desc_protocols applies: it fixes a field. */
	n = discovery_fix_desc(&q, run + off, run_len - off, fixed,
	    sizeof(fixed));
	it->desc_ok = ccid_desc_parse(fixed, n,
			  alt->bInterfaceClass == DISCOVERY_CLASS_VENDOR,
			  &it->info.desc, &it->info.desc_warnings) == OC_OK;
	it->raw_len = run_len - off < sizeof(it->raw) ? run_len - off
						      : sizeof(it->raw);
	memcpy(it->raw, run + off, it->raw_len);
	it->info.desc_after_endpoints = from_ep;
	/* What it takes without any discovery quirk. */
	it->needs_after_endpoints = from_ep;
	it->needs_vendor_class =
	    alt->bInterfaceClass == DISCOVERY_CLASS_VENDOR;
}

/* One interface of dev for the probe's callback (alt_checked() ran). */
static void
probe_one(libusb_device *dev, const struct libusb_device_descriptor *dd,
    const struct usb_alt *a, bool usable, const struct usb_hooks *hooks,
    struct usb_probe_iface *it)
{
	char why[sizeof(it->why)];

	(void)snprintf(why, sizeof(why), "%s", it->why);
	memset(it, 0, sizeof(*it));
	it->info.vid = dd->idVendor;
	it->info.pid = dd->idProduct;
	it->info.bcdDevice = dd->bcdDevice;
	it->info.bus = libusb_get_bus_number(dev);
	it->info.addr = libusb_get_device_address(dev);
	it->info.interface = a->d->bInterfaceNumber;
	it->info.bInterfaceProtocol = a->d->bInterfaceProtocol;
	it->bInterfaceClass = a->d->bInterfaceClass;
	if (usable)
		probe_iface(a, hooks, it);
	else
		(void)snprintf(it->why, sizeof(it->why), "%s", why);
}

static int
probe_device(libusb_device *dev, const struct devname *dn,
    const struct usb_hooks *hooks, usb_probe_fn *cb, void *arg)
{
	struct libusb_device_descriptor dd;
	struct libusb_config_descriptor *cfg = NULL;
	struct usb_probe_iface *it;
	struct usb_alt a;
	bool usable;
	int n = 0;

	if (!device_matches(dev, dn, &dd))
		return 0;
	if (libusb_get_active_config_descriptor(dev, &cfg) != 0 &&
	    libusb_get_config_descriptor(dev, 0, &cfg) != 0)
		return 0;
	if ((it = calloc(1, sizeof(*it))) == NULL) {
		libusb_free_config_descriptor(cfg);
		return OC_ENOMEM;
	}
	for (uint8_t i = 0; cfg->interface != NULL && i < cfg->bNumInterfaces;
	    i++) {
		usable = alt_checked(&cfg->interface[i], &a, it->why,
		    sizeof(it->why));
		if (a.d == NULL ||
		    (a.d->bInterfaceClass != DISCOVERY_CLASS_CCID &&
			a.d->bInterfaceClass != DISCOVERY_CLASS_VENDOR))
			continue;
		if (dn->has_interface && a.d->bInterfaceNumber != dn->interface)
			continue;
		probe_one(dev, &dd, &a, usable, hooks, it);
		/* The device's strings, with its first interface only. */
		if (n == 0)
			probe_strings(dev, &dd, &it->info);
		cb(arg, it);
		n++;
	}
	free(it);
	libusb_free_config_descriptor(cfg);
	return n;
}

int
usb_probe(const struct devname *dn, const struct usb_hooks *hooks,
    usb_probe_fn *cb, void *arg)
{
	libusb_context *ctx;
	libusb_device **list;
	ssize_t n, i;
	int rc, total = 0;

	if ((rc = map_err(libusb_init(&ctx))) != OC_OK)
		return rc;
	n = libusb_get_device_list(ctx, &list);
	if (n < 0) {
		libusb_exit(ctx);
		return map_err((int)n);
	}
	for (i = 0; i < n && i < USB_MAX_DEVICES; i++) {
		rc = probe_device(list[i], dn, hooks, cb, arg);
		if (rc < 0)
			break;
		total += rc;
	}
	libusb_free_device_list(list, 1);
	libusb_exit(ctx);
	return rc < 0 ? rc : total;
}
