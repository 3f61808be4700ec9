/*
 * openccid - parse the device names pcscd hands to IFDHCreateChannelByName.
 *
 * Forms (pcsc-lite hotplug_libudev.c / hotplug_libusb.c):
 *   usb:VVVV/PPPP
 *   usb:VVVV/PPPP:libudev:IF:/dev/bus/usb/BBB/DDD
 *   usb:VVVV/PPPP:libusb-1.0:BUS:ADDR:IF
 * Pure parser: no I/O. Anything else is OC_EINVAL.
 */
#ifndef OPENCCID_DEVNAME_H
#define OPENCCID_DEVNAME_H

#include <stdbool.h>
#include <stdint.h>

#define DEVNAME_MAX_LEN 256

struct devname {
	uint16_t vid;
	uint16_t pid;
	bool has_interface;
	uint8_t interface; /* bInterfaceNumber, when has_interface */
	bool has_busaddr;
	uint8_t bus;       /* 1..255 when has_busaddr */
	uint8_t addr;      /* 1..127 when has_busaddr */
	char path[DEVNAME_MAX_LEN]; /* device node, "" if none given */
};

int devname_parse(const char *s, struct devname *out);

#endif
