/*
 * openccid tests - the driver through its IFDH entry points over the
 * scripted transport (fake_transport.h). usb_open() is replaced: it
 * hands out fx.tr and fx.info, so a test describes the reader in
 * fx.info, scripts the wire in fx.ft and calls IFDH*() as pcscd would.
 */
#ifndef OPENCCID_TEST_IFDH_FIXTURE_H
#define OPENCCID_TEST_IFDH_FIXTURE_H

#include <check.h>
#include <stdint.h>

#include <ifdhandler.h>

#include "fake_transport.h"
#include "transport/transport.h"
#include "transport/usb.h"

struct ifdh_fixture {
	struct fake_transport ft;
	struct transport fake_tr; /* the scripted transport itself */
	struct transport tr;      /* what usb_open() hands out: fake_tr
				   * unless a test wraps it */
	struct usb_info info;     /* what usb_open() reports */
};

extern struct ifdh_fixture fx;

/* The log mask, the captured log cleared, an empty script, fx.info 0. */
void fx_setup(unsigned log_mask);
void fx_teardown(void);
/*
 * fx.info: a reader vid:pid at address addr of bus 1, 5 V, 3 V and
 * 1.8 V, T=0 and T=1, dwMaxCCIDMessageLength 271; the rest is 0.
 */
void fx_reader(uint16_t vid, uint16_t pid, uint8_t addr);
/* The same for 072f:90cc, a short APDU level reader with automatic
 * voltage selection and an interrupt-IN pipe. */
void fx_short_apdu_reader(uint8_t addr);
/*
 * IFDHCreateChannelByName(lun, devname) succeeds, with the one
 * GetSlotStatus (slot 0, card absent) the open sends; script consumed.
 */
void fx_open(DWORD lun, char *devname);
/* Runs s (and frees it): the exit status of the test program. */
int fx_run(Suite *s);

#endif
