/*
 * openccid - power-on across voltage classes (see power_on.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "reader/power_on.h"

#include "base/err.h"
#include "base/log.h"

/* Section 6.1.1 bPowerSelect */
#define POWER_AUTO 0x00
#define POWER_5V 0x01
#define POWER_3V 0x02
#define POWER_1V8 0x03
/* Section 5.1, bVoltageSupport */
#define VOLT_5V 0x01
#define VOLT_3V 0x02
#define VOLT_1V8 0x04

size_t
power_on_order(const struct ccid_desc *d, uint8_t sel[3])
{
	size_t n = 0;

	/* Section 5.1 dwFeatures: the reader picks the voltage itself. */
	if (d->dwFeatures & (CCID_FEAT_AUTO_VOLTAGE | CCID_FEAT_AUTO_ACTIVATE)) {
		sel[0] = POWER_AUTO;
		return 1;
	}
	if (d->bVoltageSupport & VOLT_5V)
		sel[n++] = POWER_5V;
	if (d->bVoltageSupport & VOLT_3V)
		sel[n++] = POWER_3V;
	if (d->bVoltageSupport & VOLT_1V8)
		sel[n++] = POWER_1V8;
	if (n == 0)
		sel[n++] = POWER_AUTO;
	return n;
}

/* A failed class is worth another voltage; no card or no device is not. */
static bool
retry_voltage(int rc)
{
	return rc == OC_ECARD || rc == OC_ENOTSUP || rc == OC_EINVAL;
}

int
power_on_any_voltage(struct ccid_io *io, uint8_t slot,
    const struct ccid_desc *d, uint8_t *atr, size_t cap, size_t *len)
{
	struct ccid_status st;
	uint8_t sel[3];
	size_t i, n = power_on_order(d, sel);
	int rc = OC_EIO;

	for (i = 0; i < n; i++) {
		rc = ccid_run_power_on(io, slot, sel[i], atr, cap, len, &st);
		if (rc == OC_OK || !retry_voltage(rc))
			break;
		OC_LOG_INFO("power-on with bPowerSelect %u failed: %s",
		    sel[i], oc_strerror(rc));
		/* ISO 7816-3 section 6.2.4: deactivate before the next class. */
		(void)ccid_run_power_off(io, slot, &st);
	}
	return rc;
}
