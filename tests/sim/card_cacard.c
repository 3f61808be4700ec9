/*
 * libcacard's CAC emulator as the card in a slot (the emulator QEMU's
 * ccid-card-emulated uses). Spec: cacard:NSSDBDIR, the NSS database holding
 * cert1..cert3 with their keys (tests/sim/mk-cacard-db.sh makes one).
 * It answers T=0 style (61xx, then GET RESPONSE).
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>
#include <glib.h>

#ifdef HAVE_CACARD
#include <libcacard.h>

#define CACARD_READER "Virtual Reader"

static bool initialised;

struct cac {
	VReader *reader;
};

static int cac_power_on(struct card *c, uint8_t *atr, size_t *atr_len)
{
	struct cac *k = c->priv;
	int n = 33;

	if (vreader_power_on(k->reader, atr, &n) != VREADER_OK || n <= 0)
		return -1;
	*atr_len = (size_t)n;
	return 0;
}

static void cac_power_off(struct card *c)
{
	struct cac *k = c->priv;

	vreader_power_off(k->reader);
}

static int cac_transmit(struct card *c, const uint8_t *apdu, size_t len,
			uint8_t *resp, size_t *resp_len)
{
	struct cac *k = c->priv;
	int n = (int)*resp_len;
	unsigned char *copy; /* libcacard's prototype is not const */
	VReaderStatus rs;

	if (len > 65535 + 9)
		return -1;
	copy = g_memdup2(apdu, len ? len : 1);
	rs = vreader_xfr_bytes(k->reader, copy, (int)len, resp, &n);
	g_free(copy);
	if (rs != VREADER_OK || n < 2)
		return -1;
	*resp_len = (size_t)n;
	return 0;
}

static void cac_reset_state(struct card *c)
{
	cac_power_off(c);
}

static void cac_destroy(struct card *c)
{
	struct cac *k = c->priv;

	if (k->reader)
		vreader_free(k->reader);
	free(k);
	free(c);
}

static const struct card_ops cac_ops = {
	.kind = "cacard",
	.power_on = cac_power_on,
	.power_off = cac_power_off,
	.transmit = cac_transmit,
	.reset_state = cac_reset_state,
	.destroy = cac_destroy,
};

struct card *card_cacard_new(const char *args, char **err)
{
	struct card *c;
	struct cac *k;
	VCardEmulOptions *opts;
	char *o;

	if (initialised) {
		/* libcacard keeps one global emulator with one reader */
		*err = g_strdup("cacard: only one cacard slot is supported");
		return NULL;
	}
	if (!args || !*args || !g_file_test(args, G_FILE_TEST_IS_DIR)) {
		*err = g_strdup_printf("cacard: NSS db directory '%s' not found",
				       args ? args : "");
		return NULL;
	}
	o = g_strdup_printf("db=\"sql:%s\" use_hw=no soft=(," CACARD_READER
			    ",CAC,,cert1,cert2,cert3)", args);
	opts = vcard_emul_options(o);
	g_free(o);
	if (!opts) {
		*err = g_strdup("cacard: vcard_emul_options failed");
		return NULL;
	}
	if (vcard_emul_init(opts) != VCARD_EMUL_OK) {
		*err = g_strdup_printf("cacard: vcard_emul_init failed (does %s "
				       "hold cert1..cert3 with keys?)", args);
		return NULL;
	}
	initialised = true;
	k = calloc(1, sizeof(*k));
	k->reader = vreader_get_reader_by_name(CACARD_READER);
	if (!k->reader) {
		free(k);
		*err = g_strdup("cacard: no '" CACARD_READER "' after init");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	c->ops = &cac_ops;
	c->priv = k;
	return c;
}

#else

struct card *card_cacard_new(const char *args, char **err)
{
	(void)args;
	*err = g_strdup("cacard: built without libcacard");
	return NULL;
}

#endif
