/*
 * openccid tests - the IFDH test fixture (see ifdh_fixture.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "ifdh_fixture.h"

#include <stdlib.h>
#include <string.h>

#include "codec/ccid_desc.h"
#include "base/err.h"
#include "base/log.h"
#include "log_stub.h"

struct ifdh_fixture fx;

/* Replaces src/transport/usb.c, which the test programs do not link. */
int
usb_open(const struct devname *dn, const struct usb_hooks *hooks,
    struct transport *tr, struct usb_info *info)
{
	/* The driver opens the device the DEVICENAME names. */
	ck_assert_uint_eq(dn->vid, fx.info.vid);
	(void)hooks;
	*tr = fx.tr;
	*info = fx.info;
	return OC_OK;
}

void
fx_setup(unsigned log_mask)
{
	oc_log_set_level(log_mask);
	log_stub_reset();
	ft_init(&fx.ft, &fx.fake_tr);
	fx.tr = fx.fake_tr;
	memset(&fx.info, 0, sizeof(fx.info));
}

void
fx_teardown(void)
{
	ft_free(&fx.ft);
}

void
fx_reader(uint16_t vid, uint16_t pid, uint8_t addr)
{
	memset(&fx.info, 0, sizeof(fx.info));
	fx.info.vid = vid;
	fx.info.pid = pid;
	fx.info.bus = 1;
	fx.info.addr = addr;
	fx.info.desc.bVoltageSupport = 0x07;
	fx.info.desc.dwProtocols = 3;
	fx.info.desc.dwMaxCCIDMessageLength = 271;
}

void
fx_short_apdu_reader(uint8_t addr)
{
	fx_reader(0x072f, 0x90cc, addr);
	fx.info.has_intr = true;
	fx.info.desc.dwFeatures =
	    CCID_LEVEL_SHORT_APDU | CCID_FEAT_AUTO_VOLTAGE;
	fx.info.desc.level = CCID_XCHG_SHORT_APDU;
}

void
fx_open(DWORD lun, char *devname)
{
	ft_out(&fx.ft, "65 00000000 00 ?? 00 0000");
	ft_in(&fx.ft, "81 00000000 00 ?? 00 00 00");
	ck_assert_int_eq(IFDHCreateChannelByName(lun, devname), IFD_SUCCESS);
	ft_done(&fx.ft);
}

int
fx_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
