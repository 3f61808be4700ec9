/*
 * openccid - libFuzzer harness: the driver's USB discovery over
 * configuration descriptors parsed by the real libusb (issue 23).
 *
 * What pcscd's driver sees is not the bytes a device sends but the
 * structures libusb builds from them, partially for truncated sets
 * (bNumEndpoints > 0 with `endpoint` NULL, `extra` shorter than the
 * descriptor inside it). So the input goes through libusb's own parser:
 * a fixed device descriptor plus the input's configuration bytes in a
 * memfd that libusb_wrap_sys_device() takes for a usbfs device node
 * (libusb reads the descriptors with read(); the few usbfs ioctls it
 * sends on that fd are answered below, every other ioctl goes to the
 * kernel), then libusb_get_active_config_descriptor(), then
 * usb_config_find(), the discovery usb_open() runs.
 *
 * Input: byte 0 picks the discovery quirks (bit 0 vendor_class_ccid,
 * 1 vendor_class_any_len54, 2 class_desc_after_endpoints, 3
 * desc_extra_len_strict), the rest is the configuration descriptor set.
 *
 * fuzz-srcs: src/transport/usb.c src/quirks/discovery.c src/base/log.c
 * fuzz-ldflags: -I/usr/include/PCSC -I/usr/include/libusb-1.0 -lusb-1.0 -lpthread
 */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <linux/usbdevice_fs.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <libusb.h>

#include "base/err.h"
#include "codec/devname.h"
#include "transport/usb.h"

#define DEV_DESC_LEN 18
#define MAX_CFG 4096

static int wrapped_fd = -1;     /* the memfd libusb takes for a device */
static uint8_t config_value = 1; /* GET_CONFIGURATION's answer */

/*
 * libusb 1.0.26 itself leaks a descriptor buffer for some malformed
 * sets (measured: the realloc() of its descriptor read, never freed):
 * not the driver's memory, and the driver cannot free it.
 */
const char *__lsan_default_suppressions(void);

const char *
__lsan_default_suppressions(void)
{
	return "leak:libusb-1.0.so\n";
}

/* pcscd's logging, which log.c calls: nothing to show here. */
void log_msg(const int priority, const char *fmt, ...);
void log_xxd(const int priority, const char *msg, const unsigned char *buffer,
    const int len);

void
log_msg(const int priority, const char *fmt, ...)
{
	(void)priority;
	(void)fmt;
}

void
log_xxd(const int priority, const char *msg, const unsigned char *buffer,
    const int len)
{
	(void)priority;
	(void)msg;
	(void)buffer;
	(void)len;
}

/* The usbfs ioctls libusb sends on a wrapped device fd (Linux backend). */
static int
usbfs_ioctl(unsigned long req, void *arg)
{
	if (req == USBDEVFS_CONNECTINFO) {
		struct usbdevfs_connectinfo *ci = arg;

		ci->devnum = 2;
		ci->slow = 0;
		return 0;
	}
	if (req == USBDEVFS_CONTROL) {
		struct usbdevfs_ctrltransfer *ct = arg;

		/* GET_CONFIGURATION (USB 2.0 section 9.4.2) */
		if (ct->bRequest == 0x08 && ct->wLength >= 1 &&
		    ct->data != NULL) {
			*(uint8_t *)ct->data = config_value;
			return 1;
		}
		errno = EPIPE;
		return -1;
	}
	errno = ENOTTY;
	return -1;
}

/* Interposed on libusb's ioctl(): only the wrapped fd is faked. */
int ioctl(int fd, unsigned long req, ...);

int
ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd >= 0 && fd == wrapped_fd)
		return usbfs_ioctl(req, arg);
	return (int)syscall(SYS_ioctl, fd, req, arg);
}

static void
quirks_of(void *arg, uint16_t vid, uint16_t pid, uint16_t bcd, uint8_t ifnum,
    struct usb_discovery *out)
{
	uint8_t bits = *(const uint8_t *)arg;

	(void)vid;
	(void)pid;
	(void)bcd;
	(void)ifnum;
	memset(out, 0, sizeof(*out));
	out->vendor_class_ccid = (bits & 1) != 0;
	out->vendor_class_any_len54 = (bits & 2) != 0;
	out->class_desc_after_endpoints = (bits & 4) != 0;
	out->desc_extra_len_strict = (bits & 8) != 0;
}

static libusb_context *
context(void)
{
	static libusb_context *ctx;

	if (ctx == NULL) {
		/* No device list: only the wrapped fd exists for libusb. */
		(void)libusb_set_option(NULL, LIBUSB_OPTION_NO_DEVICE_DISCOVERY);
		if (libusb_init(&ctx) != 0)
			abort();
	}
	return ctx;
}

/* Device descriptor + configuration set into the memfd. */
static int
load(const uint8_t *cfg, size_t len)
{
	static const uint8_t dev[DEV_DESC_LEN] = {
	    DEV_DESC_LEN, LIBUSB_DT_DEVICE, 0x00, 0x02, 0, 0, 0, 64,
	    0x46, 0x0d, 0x01, 0x30, 0x00, 0x01, 1, 2, 3, 1};

	if (wrapped_fd < 0 &&
	    (wrapped_fd = memfd_create("usb-config", MFD_CLOEXEC)) < 0)
		abort();
	if (ftruncate(wrapped_fd, 0) != 0 ||
	    pwrite(wrapped_fd, dev, sizeof(dev), 0) != (ssize_t)sizeof(dev) ||
	    (len > 0 && pwrite(wrapped_fd, cfg, len, DEV_DESC_LEN) !=
		    (ssize_t)len) ||
	    lseek(wrapped_fd, 0, SEEK_SET) != 0)
		abort();
	config_value = len > 5 ? cfg[5] : 1;
	return wrapped_fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct libusb_config_descriptor *cfg = NULL;
	struct libusb_device_handle *h = NULL;
	struct usb_hooks hooks = {NULL, quirks_of, NULL};
	struct usb_endpoints eps;
	struct usb_info info;
	struct devname dn;
	uint8_t bits;
	int fd;

	if (size < 1 || size - 1 > MAX_CFG)
		return 0;
	bits = data[0];
	hooks.arg = &bits;
	fd = load(data + 1, size - 1);
	if (libusb_wrap_sys_device(context(), fd, &h) != 0)
		return 0;
	if (libusb_get_active_config_descriptor(libusb_get_device(h), &cfg) !=
		0 &&
	    libusb_get_config_descriptor(libusb_get_device(h), 0, &cfg) != 0)
		cfg = NULL;
	if (cfg != NULL) {
		memset(&dn, 0, sizeof(dn));
		memset(&info, 0, sizeof(info));
		/* A bulk-IN, when there is one, must be an IN endpoint (an
		 * ICCD interface has none: its answers come on the control
		 * pipe, eps.in stays 0). */
		if (usb_config_find(cfg, &dn, &hooks, &info, &eps) == OC_OK &&
		    eps.in != 0 && (eps.in & 0x80) == 0)
			abort();
		libusb_free_config_descriptor(cfg);
	}
	libusb_close(h);
	return 0;
}
