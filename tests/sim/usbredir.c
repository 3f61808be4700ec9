/*
 * The usb-redir backend: the simulated reader as a real USB device for a
 * QEMU guest's kernel. QEMU's `-device usb-redir,chardev=ID` connects to the
 * socket we listen on and speaks the usbredir protocol; we are its "host"
 * side (libusbredirparser, usbredirparser_fl_usb_host): we announce the
 * device (interface_info, ep_info, device_connect), then answer the guest's
 * control and bulk packets and push interrupt-IN messages. QEMU keeps
 * SET_ADDRESS and the host controller; everything the guest's usbcore and
 * usbfs see comes from here.
 *
 * One connection per device (one --usbredir ADDR per --profile). unplug /
 * plug are usbredir device_disconnect / device_connect on that connection.
 * Runs on the main loop; every entry point takes sim_lock.
 */
#include "sim.h"

#include <errno.h>
#include <glib.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <usbredirparser.h>

/* a bulk-IN packet the guest's host controller is waiting on */
struct pend_in {
	struct pend_in *next;
	uint64_t id;
	uint8_t ep;
	uint32_t len;
};

struct rdev {
	struct sim_usb u;
	char *addr;  /* unix:PATH or tcp:PORT */
	char *path;  /* unix socket to remove at exit */
	int lfd, fd; /* listening socket, the connection (-1: none) */
	guint lsrc, csrc;
	struct usbredirparser *p;
	bool hello;	 /* the peer's hello arrived: device messages may go */
	bool on_bus;	 /* device_connect sent, not disconnected */
	bool wait_ack;	 /* device_disconnect sent, its ack not yet back */
	struct pend_in *in_q[SIM_MAX_IFACES];
	bool intr_on[SIM_MAX_IFACES]; /* start_interrupt_receiving seen */
	bool timer_set;
	int64_t timer_due;
};

static struct rdev devs[SIM_MAX_DEVICES];
static unsigned n_devs;
static unsigned current_dev;
bool usbredir_exit_with_peer;
static bool ever_connected;

static void redir_kick(void);
static void flush_out(struct rdev *d);

/* ---- announcing the device ----------------------------------------------- */

static uint8_t ep_index(uint8_t ep)
{
	return (uint8_t)(((ep & 0x80) >> 3) | (ep & 0x0f));
}

static void send_device(struct rdev *d)
{
	struct usb_redir_interface_info_header ii = { 0 };
	struct usb_redir_ep_info_header ei;
	struct usb_redir_device_connect_header dc = { 0 };
	const struct sim_device *dev = d->u.dev;

	ii.interface_count = dev->n_ifaces;
	memset(&ei, 0, sizeof(ei));
	memset(ei.type, usb_redir_type_invalid, sizeof(ei.type));
	ei.type[0] = ei.type[16] = usb_redir_type_control;
	ei.max_packet_size[0] = ei.max_packet_size[16] = 64;
	for (unsigned i = 0; i < dev->n_ifaces; i++) {
		const struct sim_iface *in = &dev->ifaces[i];
		uint8_t eps[3] = { in->ep_out, in->ep_in, in->ep_intr };

		ii.interface[i] = in->bInterfaceNumber;
		ii.interface_class[i] = in->bInterfaceClass;
		ii.interface_subclass[i] = in->bInterfaceSubClass;
		ii.interface_protocol[i] = in->bInterfaceProtocol;
		for (unsigned k = 0; k < 3; k++) {
			uint8_t x;

			if (!eps[k])
				continue;
			x = ep_index(eps[k]);
			/* the endpoint descriptors profile.c builds */
			ei.type[x] = k < 2 ? usb_redir_type_bulk : usb_redir_type_interrupt;
			ei.interval[x] = k < 2 ? 0 : 0x10;
			ei.interface[x] = in->bInterfaceNumber;
			ei.max_packet_size[x] = k < 2 ? SIM_BULK_MPS : 8;
		}
	}
	dc.speed = usb_redir_speed_full;
	dc.device_class = dev->descriptors[4];
	dc.device_subclass = dev->descriptors[5];
	dc.device_protocol = dev->descriptors[6];
	dc.vendor_id = dev->idVendor;
	dc.product_id = dev->idProduct;
	dc.device_version_bcd = dev->bcdDevice;
	usbredirparser_send_interface_info(d->p, &ii);
	usbredirparser_send_ep_info(d->p, &ei);
	usbredirparser_send_device_connect(d->p, &dc);
	d->on_bus = true;
	sim_log("usbredir %u: device_connect %04x:%04x (%s)", d->u.index, dev->idVendor,
		dev->idProduct, dev->name);
}

/* Put the device on the guest's bus when everything allows it. */
static void maybe_connect(struct rdev *d)
{
	if (d->p && d->hello && d->u.present && !d->on_bus && !d->wait_ack) {
		send_device(d);
		flush_out(d);
	}
}

/* ---- bulk-IN / interrupt-IN completion ------------------------------------ */

static void drop_pending(struct rdev *d)
{
	for (unsigned i = 0; i < SIM_MAX_IFACES; i++)
		while (d->in_q[i]) {
			struct pend_in *r = d->in_q[i];

			d->in_q[i] = r->next;
			free(r);
		}
}

static void answer_in(struct rdev *d, struct pend_in *r, uint8_t status,
		      uint8_t *data, int len)
{
	struct usb_redir_bulk_packet_header h = { 0 };

	h.endpoint = r->ep;
	h.status = status;
	h.length = (uint16_t)(len & 0xffff);
	h.length_high = (uint16_t)((unsigned)len >> 16);
	usbredirparser_send_bulk_packet(d->p, r->id, &h, data, len);
}

static uint8_t redir_status(int err)
{
	switch (err) {
	case -EOVERFLOW:
		return usb_redir_babble;
	case -EPIPE:
		return usb_redir_stall;
	default: /* -EPROTO, -EILSEQ: a transaction error on the bus */
		return usb_redir_ioerror;
	}
}

static gboolean on_timer(gpointer user)
{
	sim_lock_take();
	((struct rdev *)user)->timer_set = false;
	redir_kick();
	sim_lock_give();
	return G_SOURCE_REMOVE;
}

static void timer_at(struct rdev *d, int64_t due)
{
	int64_t now = g_get_monotonic_time();

	if (d->timer_set && d->timer_due <= due)
		return;
	/* a later, superseded timer just finds nothing to do */
	g_timeout_add(due > now ? (guint)((due - now + 999) / 1000) : 0, on_timer, d);
	d->timer_set = true;
	d->timer_due = due;
}

static void kick_iface(struct rdev *d, unsigned i, int64_t now, int64_t *next_all)
{
	struct ccid_iface *ci = &d->u.ifaces[i];
	const struct sim_iface *in = &d->u.dev->ifaces[i];
	struct sim_msg *m;

	while (d->in_q[i]) {
		struct pend_in *r = d->in_q[i];
		uint8_t *buf = NULL;
		int64_t next = 0;
		int n;

		if (d->u.in_halted[i]) {
			n = -EPIPE;
		} else {
			buf = malloc(r->len ? r->len : 1);
			n = usbdev_bulk_in(&d->u, i, buf, r->len, now, &next);
			if (n == -EAGAIN) {
				free(buf);
				if (next && (!*next_all || next < *next_all))
					*next_all = next;
				break;
			}
		}
		d->in_q[i] = r->next;
		answer_in(d, r, n < 0 ? redir_status(n) : usb_redir_success, buf,
			  n < 0 ? 0 : n);
		free(buf);
		free(r);
	}
	if (!d->in_q[i]) {
		int64_t next = usbdev_next_held(&d->u, i, now);

		if (next && (!*next_all || next < *next_all))
			*next_all = next;
	}
	if (!in->ep_intr || !d->intr_on[i])
		return;
	while ((m = ccid_take_notify(ci))) {
		struct usb_redir_interrupt_packet_header h = { 0 };

		h.endpoint = in->ep_intr;
		h.status = usb_redir_success;
		h.length = (uint16_t)(m->len < 8 ? m->len : 8);
		if (sim_verbose)
			sim_hexlog("intr-in", m->data, m->len);
		sim_stats.urb_intr++;
		sim_stats.bytes_intr += h.length;
		usbredirparser_send_interrupt_packet(d->p, 0, &h, m->data, h.length);
		free(m);
	}
}

static void kick_one(struct rdev *d)
{
	int64_t now, next_all = 0;

	if (!d->p || !d->on_bus)
		return;
	now = g_get_monotonic_time();
	for (unsigned i = 0; i < d->u.dev->n_ifaces; i++)
		kick_iface(d, i, now, &next_all);
	if (next_all)
		timer_at(d, next_all);
	flush_out(d);
}

static void redir_kick(void)
{
	for (unsigned k = 0; k < n_devs; k++)
		kick_one(&devs[k]);
}

/* ---- parser callbacks: what the guest's side asks -------------------------- */

static struct rdev *enter(void *priv)
{
	struct rdev *d = priv;

	current_dev = d->u.index;
	return d;
}

static void cb_log(void *priv, int level, const char *msg)
{
	struct rdev *d = priv;

	if (level <= usbredirparser_warning || sim_verbose > 1)
		sim_log("usbredir %u: parser: %s", d->u.index, msg);
}

static void cb_hello(void *priv, struct usb_redir_hello_header *h)
{
	struct rdev *d = enter(priv);

	sim_log("usbredir %u: peer hello '%.*s'", d->u.index, (int)sizeof(h->version),
		h->version);
	d->hello = true;
	maybe_connect(d);
}

static void cb_reset(void *priv)
{
	struct rdev *d = enter(priv);

	/* a port reset by the guest (USBDEVFS_RESET or enumeration) */
	sim_stats.usb_resets++;
	sim_log("usbredir %u: reset", d->u.index);
	usbdev_reset(&d->u);
}

static void cb_set_configuration(void *priv, uint64_t id,
				 struct usb_redir_set_configuration_header *h)
{
	struct rdev *d = enter(priv);
	struct usb_redir_configuration_status_header st = { 0 };

	st.status = h->configuration <= 1 ? usb_redir_success : usb_redir_stall;
	if (h->configuration <= 1)
		d->u.config = h->configuration;
	st.configuration = d->u.config;
	usbredirparser_send_configuration_status(d->p, id, &st);
}

static void cb_get_configuration(void *priv, uint64_t id)
{
	struct rdev *d = enter(priv);
	struct usb_redir_configuration_status_header st = { 0 };

	st.status = usb_redir_success;
	st.configuration = d->u.config;
	usbredirparser_send_configuration_status(d->p, id, &st);
}

static void cb_set_alt_setting(void *priv, uint64_t id,
			       struct usb_redir_set_alt_setting_header *h)
{
	struct rdev *d = enter(priv);
	struct usb_redir_alt_setting_status_header st = { 0 };

	st.status = h->alt == 0 && usbdev_iface_by_number(&d->u, h->interface) >= 0
			    ? usb_redir_success : usb_redir_stall;
	st.interface = h->interface;
	st.alt = 0;
	usbredirparser_send_alt_setting_status(d->p, id, &st);
}

static void cb_get_alt_setting(void *priv, uint64_t id,
			       struct usb_redir_get_alt_setting_header *h)
{
	struct rdev *d = enter(priv);
	struct usb_redir_alt_setting_status_header st = { 0 };

	st.status = usbdev_iface_by_number(&d->u, h->interface) >= 0 ? usb_redir_success
								      : usb_redir_inval;
	st.interface = h->interface;
	st.alt = 0;
	usbredirparser_send_alt_setting_status(d->p, id, &st);
}

static void cb_start_intr(void *priv, uint64_t id,
			  struct usb_redir_start_interrupt_receiving_header *h)
{
	struct rdev *d = enter(priv);
	struct usb_redir_interrupt_receiving_status_header st = { 0 };
	enum usbdev_ep_kind kind;
	int i = usbdev_iface_by_ep(&d->u, h->endpoint, &kind);

	st.endpoint = h->endpoint;
	st.status = i >= 0 && kind == EP_INTR_IN ? usb_redir_success : usb_redir_inval;
	if (st.status == usb_redir_success)
		d->intr_on[i] = true;
	usbredirparser_send_interrupt_receiving_status(d->p, id, &st);
	kick_one(d);
}

static void cb_stop_intr(void *priv, uint64_t id,
			 struct usb_redir_stop_interrupt_receiving_header *h)
{
	struct rdev *d = enter(priv);
	struct usb_redir_interrupt_receiving_status_header st = { 0 };
	enum usbdev_ep_kind kind;
	int i = usbdev_iface_by_ep(&d->u, h->endpoint, &kind);

	st.endpoint = h->endpoint;
	st.status = usb_redir_success;
	if (i >= 0 && kind == EP_INTR_IN)
		d->intr_on[i] = false;
	usbredirparser_send_interrupt_receiving_status(d->p, id, &st);
}

/* iso, bulk streams and bulk receiving: a CCID reader has none of them */
static void cb_start_iso(void *priv, uint64_t id, struct usb_redir_start_iso_stream_header *h)
{
	struct rdev *d = enter(priv);
	struct usb_redir_iso_stream_status_header st = { usb_redir_inval, h->endpoint };

	usbredirparser_send_iso_stream_status(d->p, id, &st);
}

static void cb_stop_iso(void *priv, uint64_t id, struct usb_redir_stop_iso_stream_header *h)
{
	struct rdev *d = enter(priv);
	struct usb_redir_iso_stream_status_header st = { usb_redir_inval, h->endpoint };

	usbredirparser_send_iso_stream_status(d->p, id, &st);
}

static void cb_alloc_streams(void *priv, uint64_t id,
			     struct usb_redir_alloc_bulk_streams_header *h)
{
	struct rdev *d = enter(priv);
	struct usb_redir_bulk_streams_status_header st = { 0 };

	st.endpoints = h->endpoints;
	st.status = usb_redir_inval;
	usbredirparser_send_bulk_streams_status(d->p, id, &st);
}

static void cb_free_streams(void *priv, uint64_t id,
			    struct usb_redir_free_bulk_streams_header *h)
{
	struct rdev *d = enter(priv);
	struct usb_redir_bulk_streams_status_header st = { 0 };

	st.endpoints = h->endpoints;
	st.status = usb_redir_inval;
	usbredirparser_send_bulk_streams_status(d->p, id, &st);
}

static void cb_cancel(void *priv, uint64_t id)
{
	struct rdev *d = enter(priv);

	/* the guest unlinked a bulk-IN transfer (libusb cancels its read) */
	for (unsigned i = 0; i < SIM_MAX_IFACES; i++)
		for (struct pend_in **pp = &d->in_q[i]; *pp; pp = &(*pp)->next) {
			struct pend_in *r = *pp;

			if (r->id != id)
				continue;
			*pp = r->next;
			sim_stats.discard++;
			answer_in(d, r, usb_redir_cancelled, NULL, 0);
			free(r);
			flush_out(d);
			return;
		}
}

static void cb_disconnect_ack(void *priv)
{
	struct rdev *d = enter(priv);

	d->wait_ack = false;
	maybe_connect(d);
}

static void cb_control(void *priv, uint64_t id, struct usb_redir_control_packet_header *h,
		       uint8_t *data, int data_len)
{
	struct rdev *d = enter(priv);
	uint8_t setup[8], *buf = calloc(1, (size_t)h->length + 1);
	bool in = h->requesttype & 0x80;
	int n;

	setup[0] = h->requesttype;
	setup[1] = h->request;
	put_le16(setup + 2, h->value);
	put_le16(setup + 4, h->index);
	put_le16(setup + 6, h->length);
	if (!in && data_len > 0)
		memcpy(buf, data, (size_t)data_len < h->length ? (size_t)data_len : h->length);
	if (data)
		usbredirparser_free_packet_data(d->p, data);
	sim_stats.urb_ctrl++;
	if (sim_verbose > 1)
		sim_log("usbredir %u: control %02x %02x %04x %04x %u", d->u.index,
			h->requesttype, h->request, h->value, h->index, h->length);
	n = d->u.present ? usbdev_control(&d->u, setup, buf) : -EPIPE;
	h->status = n < 0 ? redir_status(n) : usb_redir_success;
	h->length = (uint16_t)(n < 0 ? 0 : n);
	usbredirparser_send_control_packet(d->p, id, h, in && n > 0 ? buf : NULL,
					   in && n > 0 ? n : 0);
	free(buf);
	kick_one(d); /* CLEAR_FEATURE(HALT) or ABORT may let answers go */
	flush_out(d);
}

static void bulk_out_packet(struct rdev *d, uint64_t id, struct usb_redir_bulk_packet_header *h,
			    unsigned i, uint8_t *data, int len)
{
	sim_stats.urb_bulk_out++;
	if (d->u.out_halted[i] || fault_take(FAULT_STALL_OUT, -1, NULL)) {
		d->u.out_halted[i] = true;
		h->status = usb_redir_stall;
		h->length = h->length_high = 0;
	} else {
		sim_stats.bytes_out += (uint64_t)len;
		h->status = usb_redir_success;
		usbdev_bulk_out(&d->u, i, data, (size_t)len);
	}
	usbredirparser_send_bulk_packet(d->p, id, h, NULL, 0);
}

static void cb_bulk(void *priv, uint64_t id, struct usb_redir_bulk_packet_header *h,
		    uint8_t *data, int data_len)
{
	struct rdev *d = enter(priv);
	enum usbdev_ep_kind kind = EP_BULK_OUT;
	int i = d->u.present ? usbdev_iface_by_ep(&d->u, h->endpoint, &kind) : -1;

	if (i < 0 || kind == EP_INTR_IN) {
		h->status = usb_redir_inval;
		h->length = h->length_high = 0;
		usbredirparser_send_bulk_packet(d->p, id, h, NULL, 0);
	} else if (kind == EP_BULK_OUT) {
		bulk_out_packet(d, id, h, (unsigned)i, data, data_len);
	} else {
		struct pend_in *r = calloc(1, sizeof(*r)), **pp = &d->in_q[i];

		r->id = id;
		r->ep = h->endpoint;
		r->len = (uint32_t)h->length | (uint32_t)h->length_high << 16;
		while (*pp)
			pp = &(*pp)->next;
		*pp = r;
		sim_stats.urb_bulk_in++;
	}
	if (data)
		usbredirparser_free_packet_data(d->p, data);
	redir_kick(); /* answers of this and of other devices' commands */
	flush_out(d);
}

static void cb_interrupt(void *priv, uint64_t id, struct usb_redir_interrupt_packet_header *h,
			 uint8_t *data, int data_len)
{
	struct rdev *d = enter(priv);

	(void)data_len;
	/* no interrupt-OUT endpoint on a CCID reader */
	if (data)
		usbredirparser_free_packet_data(d->p, data);
	h->status = usb_redir_inval;
	h->length = 0;
	usbredirparser_send_interrupt_packet(d->p, id, h, NULL, 0);
	flush_out(d);
}

/* ---- the connection ------------------------------------------------------ */

static int cb_read(void *priv, uint8_t *data, int count)
{
	struct rdev *d = priv;
	ssize_t r = recv(d->fd, data, (size_t)count, MSG_DONTWAIT);

	if (r < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
	return r == 0 ? -1 : (int)r; /* 0: the peer went away */
}

static int cb_write(void *priv, uint8_t *data, int count)
{
	struct rdev *d = priv;
	int done = 0;

	/* blocking writes: QEMU's chardev always drains its socket */
	while (done < count) {
		ssize_t w = send(d->fd, data + done, (size_t)(count - done), MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return done ? done : -1;
		done += (int)w;
	}
	return done;
}

static void flush_out(struct rdev *d)
{
	if (d->p && usbredirparser_has_data_to_write(d->p))
		if (usbredirparser_do_write(d->p) < 0)
			sim_log("usbredir %u: write failed", d->u.index);
}

static void conn_close(struct rdev *d, const char *why)
{
	sim_log("usbredir %u: connection closed (%s)", d->u.index, why);
	if (d->csrc)
		g_source_remove(d->csrc);
	d->csrc = 0;
	if (d->p)
		usbredirparser_destroy(d->p);
	d->p = NULL;
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	d->hello = d->on_bus = d->wait_ack = false;
	memset(d->intr_on, 0, sizeof(d->intr_on));
	drop_pending(d);
	usbdev_reset(&d->u);
	if (usbredir_exit_with_peer && strcmp(why, "exit") != 0) {
		sim_log("usbredir %u: --exit-with-peer: exiting", d->u.index);
		sim_quit();
	}
}

static gboolean no_peer_timeout(gpointer user)
{
	(void)user;
	if (!ever_connected) {
		sim_log("usbredir: --exit-with-peer: nobody connected within 120 s");
		sim_quit();
	}
	return G_SOURCE_REMOVE;
}

static gboolean on_conn(gint fd, GIOCondition cond, gpointer user)
{
	struct rdev *d = user;
	int r;

	(void)fd;
	(void)cond;
	sim_lock_take();
	r = usbredirparser_do_read(d->p);
	if (r == usbredirparser_read_io_error) {
		d->csrc = 0;
		conn_close(d, "peer closed or read error");
		sim_lock_give();
		return G_SOURCE_REMOVE;
	}
	if (r == usbredirparser_read_parse_error)
		sim_log("usbredir %u: parse error", d->u.index);
	flush_out(d);
	sim_lock_give();
	return G_SOURCE_CONTINUE;
}

static struct usbredirparser *parser_new(struct rdev *d)
{
	struct usbredirparser *p = usbredirparser_create();
	uint32_t caps[USB_REDIR_CAPS_SIZE] = { 0 };

	p->priv = d;
	p->log_func = cb_log;
	p->read_func = cb_read;
	p->write_func = cb_write;
	p->hello_func = cb_hello;
	p->reset_func = cb_reset;
	p->set_configuration_func = cb_set_configuration;
	p->get_configuration_func = cb_get_configuration;
	p->set_alt_setting_func = cb_set_alt_setting;
	p->get_alt_setting_func = cb_get_alt_setting;
	p->start_interrupt_receiving_func = cb_start_intr;
	p->stop_interrupt_receiving_func = cb_stop_intr;
	p->start_iso_stream_func = cb_start_iso;
	p->stop_iso_stream_func = cb_stop_iso;
	p->alloc_bulk_streams_func = cb_alloc_streams;
	p->free_bulk_streams_func = cb_free_streams;
	p->cancel_data_packet_func = cb_cancel;
	p->device_disconnect_ack_func = cb_disconnect_ack;
	p->control_packet_func = cb_control;
	p->bulk_packet_func = cb_bulk;
	p->interrupt_packet_func = cb_interrupt;
	usbredirparser_caps_set_cap(caps, usb_redir_cap_connect_device_version);
	usbredirparser_caps_set_cap(caps, usb_redir_cap_device_disconnect_ack);
	usbredirparser_caps_set_cap(caps, usb_redir_cap_ep_info_max_packet_size);
	usbredirparser_caps_set_cap(caps, usb_redir_cap_64bits_ids);
	usbredirparser_caps_set_cap(caps, usb_redir_cap_32bits_bulk_length);
	usbredirparser_init(p, "openccid-sim", caps, USB_REDIR_CAPS_SIZE,
			    usbredirparser_fl_usb_host);
	return p;
}

static gboolean on_accept(gint lfd, GIOCondition cond, gpointer user)
{
	struct rdev *d = user;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	(void)cond;
	if (fd < 0)
		return G_SOURCE_CONTINUE;
	sim_lock_take();
	if (d->fd >= 0) {
		sim_log("usbredir %u: second connection refused", d->u.index);
		close(fd);
		sim_lock_give();
		return G_SOURCE_CONTINUE;
	}
	d->fd = fd;
	ever_connected = true;
	d->p = parser_new(d);
	sim_log("usbredir %u: peer connected on %s", d->u.index, d->addr);
	flush_out(d); /* our hello */
	d->csrc = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_conn, d);
	sim_lock_give();
	return G_SOURCE_CONTINUE;
}

static int listen_on(struct rdev *d, const char *arg, char **err)
{
	int fd;

	if (!strncmp(arg, "unix:", 5) && arg[5]) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		if (strlen(arg + 5) >= sizeof(sa.sun_path)) {
			*err = strdup("usbredir: unix socket path too long");
			return -1;
		}
		strcpy(sa.sun_path, arg + 5);
		unlink(sa.sun_path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			goto fail;
		d->path = strdup(sa.sun_path);
	} else if (!strncmp(arg, "tcp:", 4)) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		char *end = NULL;
		unsigned long port = strtoul(arg + 4, &end, 10);
		int one = 1;

		if (!end || *end || end == arg + 4 || port == 0 || port > 65535) {
			*err = g_strdup_printf("usbredir: bad port in '%s'", arg);
			return -1;
		}
		sa.sin_port = htons((uint16_t)port);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			goto fail;
	} else {
		*err = g_strdup_printf("usbredir: '%s' is neither unix:PATH nor tcp:PORT", arg);
		return -1;
	}
	if (listen(fd, 1) < 0)
		goto fail;
	d->lfd = fd;
	return 0;
fail:
	*err = g_strdup_printf("usbredir: %s: %s", arg, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* ---- the backend --------------------------------------------------------- */

static int redir_start(struct sim_device *dev, struct ccid_iface *ifaces, const char *arg,
		       char **ready_line, char **err)
{
	struct rdev *d;

	if (n_devs == SIM_MAX_DEVICES) {
		*err = strdup("too many devices");
		return -1;
	}
	d = &devs[n_devs];
	d->u.index = n_devs;
	d->u.dev = dev;
	d->u.ifaces = ifaces;
	d->fd = d->lfd = -1;
	if (listen_on(d, arg, err) < 0)
		return -1;
	n_devs++;
	d->addr = strdup(arg);
	d->u.present = true;
	d->u.config = 0;
	d->lsrc = g_unix_fd_add(d->lfd, G_IO_IN, on_accept, d);
	if (usbredir_exit_with_peer && d->u.index == 0)
		g_timeout_add_seconds(120, no_peer_timeout, NULL);
	*ready_line = g_strdup(arg);
	sim_log("usbredir %u: listening on %s", d->u.index, arg);
	return 0;
}

static int select_dev(unsigned idx, char **err)
{
	if (idx >= n_devs) {
		*err = g_strdup_printf("no device %u", idx);
		return -1;
	}
	current_dev = idx;
	return 0;
}

static int redir_unplug(unsigned idx, char **err)
{
	struct rdev *d;

	if (select_dev(idx, err) < 0)
		return -1;
	d = &devs[idx];
	if (!d->u.present) {
		*err = strdup("not plugged in");
		return -1;
	}
	d->u.present = false;
	if (d->on_bus) {
		usbredirparser_send_device_disconnect(d->p);
		d->on_bus = false;
		d->wait_ack = usbredirparser_peer_has_cap(d->p,
							   usb_redir_cap_device_disconnect_ack);
		flush_out(d);
	}
	/* the guest's pending transfers die with the device (QEMU drops them) */
	drop_pending(d);
	memset(d->intr_on, 0, sizeof(d->intr_on));
	usbdev_reset(&d->u);
	sim_log("usbredir %u: unplugged", idx);
	return 0;
}

static int redir_plug(unsigned idx, char **err)
{
	struct rdev *d;

	if (select_dev(idx, err) < 0)
		return -1;
	d = &devs[idx];
	if (d->u.present) {
		*err = strdup("already plugged in");
		return -1;
	}
	/* a fresh device: nothing of the old one survives */
	usbdev_reset(&d->u);
	profile_build_descriptors(d->u.dev); /* undo an earlier `desc` fault */
	descfault_apply(d->u.dev);
	d->u.present = true;
	d->u.config = 0;
	maybe_connect(d);
	sim_log("usbredir %u: plugged in", idx);
	return 0;
}

static unsigned redir_current(void)
{
	return current_dev;
}

static void redir_halt_in(const struct ccid_iface *ci)
{
	for (unsigned k = 0; k < n_devs; k++) {
		struct rdev *d = &devs[k];

		if (ci < d->u.ifaces || ci >= d->u.ifaces + d->u.dev->n_ifaces)
			continue;
		/* pending and later IN packets stall until CLEAR_HALT */
		d->u.in_halted[ci - d->u.ifaces] = true;
		kick_one(d);
		return;
	}
}

static void redir_stop(void)
{
	for (unsigned k = 0; k < n_devs; k++) {
		struct rdev *d = &devs[k];

		if (d->p && d->on_bus) {
			usbredirparser_send_device_disconnect(d->p);
			flush_out(d);
		}
		if (d->fd >= 0)
			conn_close(d, "exit");
		if (d->lsrc)
			g_source_remove(d->lsrc);
		if (d->lfd >= 0)
			close(d->lfd);
		if (d->path)
			unlink(d->path);
		free(d->path);
		free(d->addr);
	}
	n_devs = 0;
}

const struct sim_backend usbredir_backend = {
	.name = "usbredir",
	.start = redir_start,
	.unplug = redir_unplug,
	.plug = redir_plug,
	.current = redir_current,
	.kick = redir_kick,
	.halt_in = redir_halt_in,
	.stop = redir_stop,
};
