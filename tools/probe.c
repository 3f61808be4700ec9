/*
 * openccid-probe - bring-up tool for CCID readers and cards.
 *
 * It decodes with the driver's own parsers (libocc_codec), so what it
 * prints is what the driver understands. Subcommands so far:
 *   openccid-probe atr HEX...      decode an Answer To Reset
 *   openccid-probe desc HEX...     decode a 54-byte CCID class descriptor
 *   openccid-probe list|show ...   live USB devices (probe_live.c)
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card/atr.h"
#include "base/bytes.h"
#include "codec/ccid_desc.h"
#include "base/err.h"
#include "probe.h"

#define HEX_MAX 512

static void
usage(FILE *f)
{
	fputs("usage: openccid-probe atr HEX...\n"
	      "       openccid-probe desc HEX...\n"
	      "       openccid-probe list|show [--json] [-v] [-s BUS:DEV] "
	      "[-d VID:PID] [-q QUIRKSDIR]\n"
	      "HEX: bytes as hex digits, spaces and colons allowed\n",
	    f);
}

/* Join argv words and decode hex; -1 on odd digit count, junk or overflow */
static int
parse_hex(int argc, char **argv, unsigned char *out, size_t cap, size_t *len)
{
	size_t n = 0;
	int hi = -1;

	for (int i = 0; i < argc; i++) {
		for (const char *p = argv[i]; *p != '\0'; p++) {
			int v;

			if (*p == ' ' || *p == ':')
				continue;
			if ((v = oc_hex_digit((unsigned char)*p)) < 0)
				return -1;
			if (hi < 0) {
				hi = v;
				continue;
			}
			if (n == cap)
				return -1;
			out[n++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		return -1;
	*len = n;
	return 0;
}

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

static void
print_atr(const struct atr_info *a, unsigned warnings, const char *p)
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
	print_atr(&a, warnings, prefix);
}

static int
cmd_atr(int argc, char **argv)
{
	unsigned char buf[HEX_MAX];
	struct atr_info a;
	unsigned warnings = 0;
	size_t len;
	int r;

	if (parse_hex(argc, argv, buf, sizeof(buf), &len) < 0) {
		fprintf(stderr, "openccid-probe: not a hex byte string\n");
		return 2;
	}
	if ((r = atr_parse(buf, len, &a, &warnings)) != OC_OK) {
		fprintf(stderr, "openccid-probe: invalid ATR: %s\n", oc_strerror(r));
		return 1;
	}
	print_atr(&a, warnings, "");
	return 0;
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

static int
cmd_desc(int argc, char **argv)
{
	unsigned char buf[HEX_MAX];
	struct ccid_desc d;
	unsigned warnings = 0;
	size_t len;
	int r;

	if (parse_hex(argc, argv, buf, sizeof(buf), &len) < 0) {
		fprintf(stderr, "openccid-probe: not a hex byte string\n");
		return 2;
	}
	r = ccid_desc_parse(buf, len, true, &d, &warnings);
	if (r != OC_OK) {
		fprintf(stderr, "openccid-probe: invalid CCID descriptor: %s\n",
		    oc_strerror(r));
		return 1;
	}
	probe_print_desc(&d, warnings);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "atr") == 0 && argc >= 3)
		return cmd_atr(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "desc") == 0 && argc >= 3)
		return cmd_desc(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return probe_live(argc - 2, argv + 2, false);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return probe_live(argc - 2, argv + 2, true);
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
			     strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
