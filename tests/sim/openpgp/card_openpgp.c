/*
 * openccid-sim adapter: the OpenPGP card model (card.h) behind a simulator
 * slot, as the card spec `openpgp[:STATEFILE]`.  Without a state file the
 * card lives in memory and is fresh at every simulator start; with one,
 * keys, PINs, counters and data objects survive card-remove/card-insert,
 * unplug/plug and simulator restarts.
 */
#include "../sim.h"
#include "card.h"

#include <stdlib.h>
#include <string.h>
#include <glib.h>

struct card *card_openpgp_new(const char *args, char **err);

static int o_power_on(struct card *c, uint8_t *atr, size_t *atr_len)
{
	size_t n;

	opgp_card_reset(c->priv);
	n = opgp_card_atr(c->priv, atr, 33);
	if (!n)
		return -1;
	*atr_len = n;
	return 0;
}

static void o_power_off(struct card *c)
{
	opgp_card_reset(c->priv);
}

static int o_transmit(struct card *c, const uint8_t *apdu, size_t len,
		      uint8_t *resp, size_t *resp_len)
{
	return opgp_card_apdu(c->priv, apdu, len, resp, SIM_MAX_RESP,
			      resp_len);
}

static void o_reset_state(struct card *c)
{
	opgp_card_reset(c->priv);
}

static void o_destroy(struct card *c)
{
	struct opgp_card *oc = c->priv;

	opgp_card_close(&oc);
	free(c);
}

static const struct card_ops openpgp_ops = {
	.kind = "openpgp",
	.power_on = o_power_on,
	.power_off = o_power_off,
	.transmit = o_transmit,
	.reset_state = o_reset_state,
	.destroy = o_destroy,
};

/* args: "" (memory only) or the state file path. */
struct card *card_openpgp_new(const char *args, char **err)
{
	char msg[256] = "";
	struct card *c = calloc(1, sizeof(*c));
	struct opgp_card *oc;

	if (!c) {
		*err = g_strdup("openpgp: out of memory");
		return NULL;
	}
	oc = opgp_card_open(args && *args ? args : NULL, msg, sizeof msg);
	if (!oc) {
		*err = g_strdup_printf("openpgp: %s", msg);
		free(c);
		return NULL;
	}
	c->ops = &openpgp_ops;
	c->priv = oc;
	return c;
}
