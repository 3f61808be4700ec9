/*
 * openccid - build-time checker for quirks files.
 *
 * usage: quirks-check [-l VVVV:PPPP[:BCD[:IF]]] FILE...
 *
 * Parses every FILE, in order, with the driver's own parser into one
 * table and refuses entries that match the same device with different
 * values for a key. Exits 1 with "file:line: reason" on the first
 * problem, so that "make" fails. With -l, prints what a device gets.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "quirks/quirks.h"
#include "quirks/quirks_describe.h"
#include "quirks/quirks_parse.h"

static struct quirk_table table;
static char text[QUIRKS_MAX_FILE_SIZE + 1];

static int
load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open", path);
		return OC_EIO;
	}
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	if (n > QUIRKS_MAX_FILE_SIZE) {
		snprintf(err, errlen, "%s: larger than %d bytes", path,
		    QUIRKS_MAX_FILE_SIZE);
		return OC_ERANGE;
	}
	return quirks_parse(text, n, path, &table, err, errlen);
}

static int
lookup(const char *spec)
{
	static char out[16384];
	unsigned vid, pid, bcd = 0;
	int iface = -1;
	struct quirk_set qs;

	if (sscanf(spec, "%4x:%4x:%4x:%d", &vid, &pid, &bcd, &iface) < 2) {
		fprintf(stderr, "quirks-check: bad device '%s'\n", spec);
		return 2;
	}
	quirks_lookup(
	    &table, (uint16_t)vid, (uint16_t)pid, (uint16_t)bcd, iface, &qs);
	quirks_describe(&qs, out, sizeof(out));
	fputs(out, stdout);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *dev = NULL;
	char err[512];
	int i = 1;

	if (argc > 2 && strcmp(argv[1], "-l") == 0) {
		dev = argv[2];
		i = 3;
	}
	if (i >= argc) {
		fprintf(stderr,
		    "usage: quirks-check [-l VVVV:PPPP[:BCD[:IF]]] FILE...\n");
		return 2;
	}
	quirks_table_init(&table);
	for (; i < argc; i++)
		if (load(argv[i], err, sizeof(err)) != OC_OK) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
	if (quirks_check_conflicts(&table, 0, err, sizeof(err)) != OC_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (dev != NULL)
		return lookup(dev);
	printf("quirks-check: %zu entries in %zu files, no conflict\n",
	    table.nentries, table.nfiles);
	return 0;
}
