/*
 * openccid-probe - the text decodes of an ATR and of a CCID class
 * descriptor (see probe_print.h), for "atr", "desc" (probe.c) and
 * "show" (probe_live.c).
 */
#include "config.h"

#include "probe_print.h"

#include <stdio.h>

#include "base/err.h"

static void
print_protocols(unsigned mask)
{
	const char *sep = "";

	for (unsigned t = 0; t < 16; t++) {
		if (mask & (1u << t)) {
			printf("%sT=%u", sep, t);
			sep = ", ";
		}
	}
	printf("\n");
}

void
probe_print_atr_info(const struct atr_info *a, unsigned warnings, const char *p)
{
	printf("%sconvention:        %s\n", p, a->inverse ? "inverse" : "direct");
	printf("%sprotocols:         ", p);
	print_protocols(a->protocols);
	printf("%sFi/Di:             %u/%u (TA1 %s), fmax %u kHz\n", p, a->Fi, a->Di,
	    a->group[0].has_ta ? "present" : "absent, defaults", a->fmax_khz);
	printf("%sextra guard time:  N=%u\n", p, a->N);
	if (a->specific_mode)
		printf("%smode:              specific, T=%u%s\n", p, a->specific_protocol,
		    a->specific_can_change ? " (can change)" : "");
	else
		printf("%smode:              negotiable\n", p);
	if (a->protocols & 1u)
		printf("%sT=0:               WI=%u\n", p, a->WI);
	if (a->protocols & 2u)
		printf("%sT=1:               IFSC=%u BWI=%u CWI=%u EDC=%s\n", p, a->ifsc,
		    a->bwi, a->cwi, a->edc_crc ? "CRC" : "LRC");
	printf("%shistorical bytes:  ", p);
	for (size_t i = 0; i < a->hist_len; i++)
		printf("%02X ", a->hist[i]);
	printf("(%zu)\n", a->hist_len);
	if (a->has_tck)
		printf("%sTCK:               %02X %s\n", p, a->tck,
		    warnings & ATR_WARN_TCK_WRONG ? "WRONG" : "ok");
	if (warnings & ATR_WARN_TCK_MISSING)
		printf("%swarning:           TCK required but absent\n", p);
	if (warnings & ATR_WARN_EXTRA_BYTES)
		printf("%swarning:           bytes after the ATR ignored\n", p);
	if (warnings & ATR_WARN_RFU_FI_DI)
		printf("%swarning:           reserved Fi/Di value in TA1\n", p);
}

void
probe_print_atr(const uint8_t *atr, size_t len, const char *prefix)
{
	struct atr_info a;
	unsigned warnings = 0;
	int r = atr_parse(atr, len, &a, &warnings);

	if (r != OC_OK) {
		printf("%sinvalid ATR: %s\n", prefix, oc_strerror(r));
		return;
	}
	probe_print_atr_info(&a, warnings, prefix);
}

void
probe_print_desc(const struct ccid_desc *d, unsigned warnings)
{
	printf("bcdCCID:                %x.%02x\n", d->bcdCCID >> 8,
	    d->bcdCCID & 0xff);
	printf("slots:                  %u\n", d->bMaxSlotIndex + 1u);
	printf("bVoltageSupport:        0x%02X\n", d->bVoltageSupport);
	printf("dwProtocols:            0x%08X\n", d->dwProtocols);
	printf("clock:                  %u kHz default, %u kHz max, %u listed\n",
	    d->dwDefaultClock, d->dwMaximumClock, d->bNumClockSupported);
	printf("data rate:              %u bps default, %u bps max, %u listed\n",
	    d->dwDataRate, d->dwMaxDataRate, d->bNumDataRatesSupported);
	printf("dwMaxIFSD:              %u\n", d->dwMaxIFSD);
	printf("dwFeatures:             0x%08X (%s exchange)\n", d->dwFeatures,
	    ccid_level_name(d->level));
	printf("dwMaxCCIDMessageLength: %u\n", d->dwMaxCCIDMessageLength);
	printf("bPINSupport:            0x%02X\n", d->bPINSupport);
	printf("wLcdLayout:             0x%04X\n", d->wLcdLayout);
	printf("bMaxCCIDBusySlots:      %u\n", d->bMaxCCIDBusySlots);
	if (warnings != 0)
		printf("warnings:               0x%02X (values clamped)\n",
		    warnings);
}
