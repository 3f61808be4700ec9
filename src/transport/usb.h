/*
 * openccid - libusb-1.0 transport (the only user of <libusb.h>).
 */
#ifndef OPENCCID_USB_H
#define OPENCCID_USB_H

#include <stdbool.h>
#include <stdint.h>

#include "codec/ccid_desc.h"
#include "codec/devname.h"
#include "quirks/discovery.h"
#include "transport/transport.h"

#define USB_STR_MAX 128
#define USB_DESC_RAW_MAX 255 /* bLength is one byte */

/* What the IFD layer reports about the device (strings may be ""). */
struct usb_info {
	uint16_t vid;
	uint16_t pid;
	uint16_t bcdDevice;
	uint8_t bus;
	uint8_t addr;
	uint8_t interface;          /* bInterfaceNumber */
	uint8_t bInterfaceProtocol; /* 0 CCID, 1/2 ICCD */
	bool has_intr;              /* interrupt-IN endpoint present */
	uint8_t bInterfaceClass;    /* 0x0B, or 0xFF by a quirk */
	bool desc_after_endpoints;  /* class descriptor after the endpoints */
	char manufacturer[USB_STR_MAX];
	char product[USB_STR_MAX];
	char serial[USB_STR_MAX];
	struct ccid_desc desc;
	unsigned desc_warnings;     /* CCID_WARN_* from ccid_desc_parse() */
	/* The class descriptor's bytes as found (bLength of them, for
	 * traces: a replay parses them again). */
	uint8_t desc_raw[USB_DESC_RAW_MAX];
	size_t desc_raw_len;
};

/* Lets usb_open() skip interfaces that are already open (bare names). */
typedef bool usb_in_use_fn(void *arg, uint8_t bus, uint8_t addr,
    uint8_t interface);

/* Fills *out for one interface of a device (the quirk lookup). */
typedef void usb_discovery_fn(void *arg, uint16_t vid, uint16_t pid,
    uint16_t bcdDevice, uint8_t interface, struct usb_discovery *out);

/* Callbacks of the layer above; any may be NULL. */
struct usb_hooks {
	usb_in_use_fn *in_use;       /* NULL: nothing is in use */
	usb_discovery_fn *discovery; /* NULL: no discovery quirks */
	void *arg;                   /* passed to both */
};

/*
 * Open the CCID interface named by dn: VID/PID must match (vid == pid == 0
 * matches any CCID device), and bus/address and interface number when dn
 * gives them. Without bus/address the first matching interface for which
 * in_use() is false is taken. Which interfaces count as CCID, and where
 * their class descriptor may be, follows hooks->discovery (see
 * discovery_classify()). Fills *tr (close it with tr->ops->close) and *info.
 * OC_ENODEV when nothing matches (the reason is logged), OC_EACCES on a
 * permission error.
 */
int usb_open(const struct devname *dn, const struct usb_hooks *hooks,
    struct transport *tr, struct usb_info *info)
    __attribute__((warn_unused_result));

/* Declared here, defined by <libusb.h>, which only usb.c includes. */
struct libusb_config_descriptor;

/* The endpoints of the interface usb_config_find() chose. */
struct usb_endpoints {
	uint8_t in, out, intr;
	bool has_intr;
};

/*
 * usb_open()'s choice of interface over a configuration as libusb parsed
 * it (dn's interface filter, hooks' in_use and discovery quirks), every
 * pointer and count in *cfg checked before use: libusb hands truncated
 * configurations over partially parsed (issue 23). info's ids (vid, pid,
 * bcdDevice, bus, addr) are the caller's, the rest is filled. OC_OK, or
 * OC_ENODEV with the reason logged. For usb_open(), its tests and the
 * discovery fuzzer (tests/fuzz/fuzz_usb_config.c).
 */
int usb_config_find(const struct libusb_config_descriptor *cfg,
    const struct devname *dn, const struct usb_hooks *hooks,
    struct usb_info *info, struct usb_endpoints *eps)
    __attribute__((warn_unused_result));

/* One class 0x0B or 0xFF interface, as openccid-probe reports it. */
struct usb_probe_iface {
	struct usb_info info;        /* ids, strings, desc when desc_ok */
	uint8_t bInterfaceClass;
	bool accepted;               /* usb_open() would take it */
	char why[200];               /* why not, when !accepted */
	bool desc_ok;                /* a descriptor was found and parsed */
	bool needs_vendor_class;     /* only with vendor_class_ccid */
	bool needs_after_endpoints;  /* only with class_desc_after_endpoints */
	uint8_t raw[CCID_DESC_LEN];  /* the descriptor's bytes */
	size_t raw_len;
};

typedef void usb_probe_fn(void *arg, const struct usb_probe_iface *it);

/*
 * Call cb for every class 0x0B or 0xFF interface of every device that dn
 * selects (as usb_open() does; the interface filter applies too), with
 * the verdict of hooks->discovery and what a reader without quirks would
 * need. The descriptor is decoded even when the quirks refuse the
 * interface, so that the probe can say which key to add. Nothing is
 * claimed; strings are read when the device node can be opened. Returns
 * the number of interfaces reported, or a negative OC_E*.
 */
int usb_probe(const struct devname *dn, const struct usb_hooks *hooks,
    usb_probe_fn *cb, void *arg);

/*
 * A CCID class request on an opened transport (CCID rev 1.1 section 5.3:
 * GET_CLOCK_FREQUENCIES 0x02, GET_DATA_RATES 0x03): device-to-host,
 * class, interface. *got gets the byte count.
 */
int usb_class_request_in(const struct transport *tr, uint8_t bRequest,
    uint8_t *buf, size_t cap, size_t *got)
    __attribute__((warn_unused_result));

#endif
