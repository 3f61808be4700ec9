/*
 * The reader as a USB device, whichever bus carries it (usbfs.c: umockdev's
 * usbfs emulation; usbredir.c: a usb-redir peer for a real guest kernel):
 * standard and CCID class control requests, endpoint lookup, halts,
 * bulk-OUT reassembly into CCID messages, and bulk-IN packetisation.
 *
 * All entry points run with sim_lock held.
 */
#include "sim.h"

#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

int usbdev_iface_by_ep(const struct sim_usb *u, uint8_t ep, enum usbdev_ep_kind *kind)
{
	for (unsigned i = 0; i < u->dev->n_ifaces; i++) {
		const struct sim_iface *in = &u->dev->ifaces[i];

		/* ICCD interfaces have no bulk endpoints (address 0) */
		if (in->ep_out && ep == in->ep_out) {
			*kind = EP_BULK_OUT;
			return (int)i;
		}
		if (in->ep_in && ep == in->ep_in) {
			*kind = EP_BULK_IN;
			return (int)i;
		}
		if (in->ep_intr && ep == in->ep_intr) {
			*kind = EP_INTR_IN;
			return (int)i;
		}
	}
	return -1;
}

int usbdev_iface_by_number(const struct sim_usb *u, unsigned num)
{
	for (unsigned i = 0; i < u->dev->n_ifaces; i++)
		if (u->dev->ifaces[i].bInterfaceNumber == num)
			return (int)i;
	return -1;
}

void usbdev_clear_halt(struct sim_usb *u, unsigned ep)
{
	enum usbdev_ep_kind kind;
	int i = usbdev_iface_by_ep(u, (uint8_t)ep, &kind);

	if (i < 0)
		return;
	if (kind == EP_BULK_IN)
		u->in_halted[i] = false;
	else if (kind == EP_BULK_OUT)
		u->out_halted[i] = false;
}

void usbdev_reset(struct sim_usb *u)
{
	for (unsigned i = 0; i < u->dev->n_ifaces; i++) {
		ccid_reset(&u->ifaces[i]);
		u->in_halted[i] = u->out_halted[i] = false;
		u->out_len[i] = 0;
		free(u->in_pipe[i].msg);
		u->in_pipe[i].msg = NULL;
		u->in_pipe[i].off = 0;
	}
}

/* ---- control requests ----------------------------------------------------- */

static size_t string_desc(const struct sim_usb *u, unsigned idx, uint8_t *out, size_t cap)
{
	const char *s;
	gunichar2 *w;
	glong n = 0;
	size_t len;
	uint8_t d[256];

	if (idx == 0) {
		static const uint8_t langs[4] = { 4, 3, 0x09, 0x04 }; /* en-US */

		len = cap < 4 ? cap : 4;
		memcpy(out, langs, len);
		return len;
	}
	s = profile_string(u->dev, idx);
	if (!s)
		return (size_t)-1;
	w = g_utf8_to_utf16(s, -1, NULL, &n, NULL);
	if (!w)
		return (size_t)-1;
	if (n > 126)
		n = 126;
	d[0] = (uint8_t)(2 + 2 * n);
	d[1] = 3;
	for (glong i = 0; i < n; i++)
		put_le16(d + 2 + 2 * i, w[i]);
	len = d[0] < cap ? d[0] : cap;
	memcpy(out, d, len);
	g_free(w);
	return len;
}

static int get_descriptor(const struct sim_usb *u, uint16_t wValue, uint16_t wLength,
			  uint8_t *data)
{
	size_t n;

	switch (wValue >> 8) {
	case 1:
		n = wLength < 18 ? wLength : 18;
		memcpy(data, u->dev->descriptors, n);
		return (int)n;
	case 2: {
		size_t tot = u->dev->descriptors_len - 18;

		if ((wValue & 0xff) != 0)
			return -EPIPE;
		n = wLength < tot ? wLength : tot;
		memcpy(data, u->dev->descriptors + 18, n);
		return (int)n;
	}
	case 3:
		n = string_desc(u, wValue & 0xff, data, wLength);
		return n == (size_t)-1 ? -EPIPE : (int)n;
	default:
		return -EPIPE;
	}
}

/* USB 2.0 section 9.4 */
static int standard_request(struct sim_usb *u, const uint8_t *setup, uint8_t *data)
{
	uint8_t type = setup[0], req = setup[1];
	uint16_t wValue = get_le16(setup + 2), wIndex = get_le16(setup + 4);
	uint16_t wLength = get_le16(setup + 6);
	size_t n;

	switch (req) {
	case 0x06: /* GET_DESCRIPTOR */
		return get_descriptor(u, wValue, wLength, data);
	case 0x00: /* GET_STATUS */
		n = wLength < 2 ? wLength : 2;
		memset(data, 0, n);
		return (int)n;
	case 0x08: /* GET_CONFIGURATION */
		if (wLength >= 1)
			data[0] = u->config;
		return wLength >= 1 ? 1 : 0;
	case 0x09: /* SET_CONFIGURATION */
		if (wValue > 1)
			return -EPIPE;
		u->config = (uint8_t)wValue;
		return 0;
	case 0x0a: /* GET_INTERFACE */
		if (wLength >= 1)
			data[0] = 0;
		return wLength >= 1 ? 1 : 0;
	case 0x0b: /* SET_INTERFACE */
		return wValue == 0 ? 0 : -EPIPE;
	case 0x01: /* CLEAR_FEATURE */
		if ((type & 0x1f) == 0x02 && wValue == 0) /* ENDPOINT_HALT */
			usbdev_clear_halt(u, wIndex & 0xff);
		return 0;
	case 0x03: /* SET_FEATURE */
		return 0;
	default:
		return -EPIPE;
	}
}

/* CCID rev 1.1 section 5.3 */
static int class_request(struct sim_usb *u, const uint8_t *setup, uint8_t *data)
{
	uint8_t type = setup[0], req = setup[1];
	uint16_t wValue = get_le16(setup + 2), wIndex = get_le16(setup + 4);
	uint16_t wLength = get_le16(setup + 6);
	int i = usbdev_iface_by_number(u, wIndex & 0xff);
	const struct sim_iface *in;
	const uint32_t *list;
	unsigned cnt;
	size_t n;

	if ((type & 0x1f) != 0x01 || i < 0)
		return -EPIPE;
	in = &u->dev->ifaces[i];
	/* ICCD (CCID rev 1.1 chapter 7 / ICCD spec): the exchange is on the
	 * control pipe */
	if (in->bInterfaceProtocol == 1 || in->bInterfaceProtocol == 2)
		return iccd_control(&u->ifaces[i], type, req, wValue, data, wLength);
	if (req == 0x02)
		sim_stats.get_clocks_req++;
	if (req == 0x03)
		sim_stats.get_rates_req++;
	if (fault_take(FAULT_CTRL_STALL, -1, NULL))
		return -EPIPE;
	switch (req) {
	case 0x01: /* ABORT: wValue = bSeq << 8 | bSlot */
		ccid_abort(&u->ifaces[i], wValue & 0xff, wValue >> 8);
		return 0;
	case 0x02: /* GET_CLOCK_FREQUENCIES */
	case 0x03: /* GET_DATA_RATES */
		list = req == 0x02 ? in->clocks : in->rates;
		cnt = req == 0x02 ? in->n_clocks : in->n_rates;
		if (cnt == 0)
			return -EPIPE;
		n = 0;
		for (unsigned k = 0; k < cnt && n + 4 <= wLength; k++, n += 4)
			put_le32(data + n, list[k]);
		return (int)n;
	default:
		return -EPIPE;
	}
}

int usbdev_control(struct sim_usb *u, const uint8_t *setup, uint8_t *data)
{
	switch (setup[0] & 0x60) {
	case 0x00:
		return standard_request(u, setup, data);
	case 0x20:
		return class_request(u, setup, data);
	default:
		return -EPIPE;
	}
}

/* ---- bulk endpoints ------------------------------------------------------- */

void usbdev_bulk_out(struct sim_usb *u, unsigned i, const uint8_t *b, size_t n)
{
	uint8_t **acc = &u->out_acc[i];
	size_t *len = &u->out_len[i];

	if (n == 0)
		return;
	{
		uint8_t *grown = realloc(*acc, *len + n);

		if (!grown) {
			sim_log("bulk-out: out of memory, %zu bytes dropped", *len + n);
			free(*acc);
			*acc = NULL;
			*len = 0;
			return;
		}
		*acc = grown;
	}
	memcpy(*acc + *len, b, n);
	*len += n;
	while (*len >= 10) {
		size_t need = 10 + (size_t)get_le32(*acc + 1);

		if (need > 10 + SIM_MAX_APDU + 16) {
			/* garbage: answer it as one message and resynchronise */
			need = *len;
		}
		if (*len < need)
			break;
		if (sim_verbose)
			sim_hexlog("bulk-out", *acc, need);
		ccid_handle_out(&u->ifaces[i], *acc, need);
		memmove(*acc, *acc + need, *len - need);
		*len -= need;
	}
}

int64_t usbdev_next_held(struct sim_usb *u, unsigned i, int64_t now)
{
	struct ccid_iface *ci = &u->ifaces[i];
	int64_t next = 0;

	for (struct sim_msg *m = ci->bulk_in_q; m; m = m->next)
		if (m->due > now && (!next || m->due < next))
			next = m->due;
	if (ci->wtx_forever && !ci->bulk_in_q && ci->wtx_next > now)
		next = ci->wtx_next;
	return next;
}

int usbdev_bulk_in(struct sim_usb *u, unsigned i, uint8_t *buf, size_t cap,
		   int64_t now, int64_t *next_due)
{
	struct sim_inpipe *p = &u->in_pipe[i];
	size_t got = 0;

	*next_due = 0;
	if (!p->msg) {
		p->msg = ccid_take_reply(&u->ifaces[i], now, next_due);
		p->off = 0;
		if (!p->msg) {
			if (!*next_due)
				*next_due = usbdev_next_held(u, i, now);
			return -EAGAIN;
		}
		if (sim_verbose)
			sim_hexlog("bulk-in", p->msg->data, p->msg->len);
		if (p->msg->status) { /* in-error fault: the answer is lost */
			int st = p->msg->status;

			free(p->msg);
			p->msg = NULL;
			return st;
		}
	}
	/* packets until a short one (the message's end) or cap is full */
	for (;;) {
		size_t left = p->msg->len - p->off;
		size_t pkt = left < SIM_BULK_MPS ? left : SIM_BULK_MPS;

		if (pkt > cap - got) {
			/* the packet does not fit what the host asked for: babble
			 * (USB 2.0 section 8.5.3.4); the message is lost */
			free(p->msg);
			p->msg = NULL;
			return -EOVERFLOW;
		}
		memcpy(buf + got, p->msg->data + p->off, pkt);
		got += pkt;
		p->off += pkt;
		sim_stats.in_packets++;
		if (pkt == 0)
			sim_stats.in_zlp++;
		if (pkt < SIM_BULK_MPS) { /* short packet or ZLP: message done */
			sim_stats.bytes_in += p->msg->len;
			free(p->msg);
			p->msg = NULL;
			return (int)got;
		}
		if (got == cap)
			return (int)got; /* the rest (maybe only a ZLP) waits */
	}
}
