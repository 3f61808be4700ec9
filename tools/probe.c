/*
 * openccid-probe - bring-up tool for CCID readers and cards.
 *
 * It decodes with the driver's own parsers (libocc_codec), so what it
 * prints is what the driver understands (printers: probe_print.c).
 * Subcommands so far:
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
#include "probe_live.h"
#include "probe_print.h"

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
	probe_print_atr_info(&a, warnings, "");
	return 0;
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
