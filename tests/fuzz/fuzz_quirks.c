/*
 * openccid - libFuzzer harness for the quirks file parser and lookup.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "quirks/quirks.h"
#include "quirks/quirks_describe.h"
#include "quirks/quirks_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct quirk_table tab;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exact-size copy: the parser must never read past len. */
	char *s = malloc(size ? size : 1);
	struct quirk_set qs;
	char err[128], desc[2048];
	size_t i;
	int rc;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	quirks_table_init(&tab);
	rc = quirks_parse(s, size, "fuzz.quirks", &tab, err, sizeof(err));
	if (rc != OC_OK) {
		if (memchr(err, '\0', sizeof(err)) == NULL ||
		    tab.nentries != 0 || tab.pool_len != 0 || tab.nfiles != 0)
			abort();
	} else {
		(void)quirks_check_conflicts(&tab, 0, err, sizeof(err));
		for (i = 0; i < tab.nentries && i < 8; i++) {
			const struct quirk_match *m = &tab.entries[i].match;

			if (tab.entries[i].nsettings == 0 ||
			    m->bcd_min >= m->bcd_max)
				abort();
			quirks_lookup(&tab, m->vid, m->pid,
			    (uint16_t)m->bcd_min, m->interface, &qs);
			quirks_describe(&qs, desc, sizeof(desc));
			if (memchr(desc, '\0', sizeof(desc)) == NULL)
				abort();
		}
	}
	free(s);
	return 0;
}
