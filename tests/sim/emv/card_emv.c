/*
 * openccid-sim adapter: the EMV card model (card.h) behind a simulator
 * slot, card spec `emv`. On a contact slot it powers on with its T=0 ATR;
 * in a contactless slot (profile key ifN.contactless) the reader firmware
 * (../rf.c) activates it after power_on and builds the ATR from its ATS.
 */
#include "../sim.h"
#include "card.h"

#include <stdlib.h>
#include <string.h>
#include <glib.h>

static int e_power_on(struct card *c, uint8_t *atr, size_t *atr_len)
{
	size_t n = emv_card_power_on(c->priv, atr, 33);

	if (!n)
		return -1;
	*atr_len = n;
	return 0;
}

static void e_power_off(struct card *c)
{
	uint8_t atr[33];

	(void)emv_card_power_on(c->priv, atr, sizeof(atr)); /* forget the session */
}

static int e_transmit(struct card *c, const uint8_t *apdu, size_t len,
		      uint8_t *resp, size_t *resp_len)
{
	return emv_card_apdu(c->priv, apdu, len, resp, SIM_MAX_RESP, resp_len);
}

static int e_rf_activate(struct card *c, uint8_t *uid, size_t *uid_len,
			 uint8_t *ats, size_t *ats_len)
{
	return emv_card_activate(c->priv, uid, 10, uid_len, ats, 32, ats_len);
}

static void e_destroy(struct card *c)
{
	emv_card_free(c->priv);
	free(c);
}

static const struct card_ops emv_ops = {
	.kind = "emv",
	.power_on = e_power_on,
	.power_off = e_power_off,
	.transmit = e_transmit,
	.reset_state = e_power_off,
	.destroy = e_destroy,
	.rf_activate = e_rf_activate,
};

/* args: "" or "strict-getresponse" (GET RESPONSE with CLA 00 only) */
struct card *card_emv_new(const char *args, char **err)
{
	struct card *c;
	bool strict = args && !strcmp(args, "strict-getresponse");

	if (args && *args && !strict) {
		*err = g_strdup_printf("emv: unknown option '%s'", args);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->priv = emv_card_new())) {
		free(c);
		*err = g_strdup("emv: cannot build the card");
		return NULL;
	}
	emv_card_strict_get_response(c->priv, strict);
	c->ops = &emv_ops;
	return c;
}
