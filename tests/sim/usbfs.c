/*
 * The testbed side: the reader as sysfs devices + udev properties + a device
 * node whose usbfs ioctls (linux/usbdevice_fs.h) are answered here, through
 * umockdev's ioctl handler. URBs are kept (with their UMockdevIoctlData)
 * until reaped; a reaped URB is handed back with umockdev_ioctl_data_set_ptr.
 *
 * All entry points run with sim_lock held (the ioctl handler takes it).
 */
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/usbdevice_fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <umockdev.h>
#include <unistd.h>

struct urb {
	struct urb *next;
	UMockdevIoctlData *data; /* our reference, dropped when reaped */
	struct usbdevfs_urb *u;	 /* = data->data */
	uint8_t *buf;		 /* resolved buffer (local copy) */
	size_t buflen;
	const void *owner;	 /* the client (open file) that submitted it */
};

struct urbq {
	struct urb *head, **tail;
};

static void q_init(struct urbq *q)
{
	q->head = NULL;
	q->tail = &q->head;
}

static void q_push(struct urbq *q, struct urb *r)
{
	r->next = NULL;
	*q->tail = r;
	q->tail = &r->next;
}

static struct urb *q_pop(struct urbq *q)
{
	struct urb *r = q->head;

	if (r) {
		q->head = r->next;
		if (!q->head)
			q->tail = &q->head;
		r->next = NULL;
	}
	return r;
}

/* Remove r from q; true if it was there. */
static bool q_remove(struct urbq *q, struct urb *r)
{
	for (struct urb **pp = &q->head; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			if (!q->head)
				q->tail = &q->head;
			else if (!r->next) {
				struct urb *t = q->head;

				while (t->next)
					t = t->next;
				q->tail = &t->next;
			}
			return true;
		}
	}
	return false;
}

/* First URB of q submitted by owner (each open file reaps only its own). */
static struct urb *q_pop_owner(struct urbq *q, const void *owner)
{
	for (struct urb *r = q->head; r; r = r->next)
		if (r->owner == owner) {
			q_remove(q, r);
			r->next = NULL;
			return r;
		}
	return NULL;
}

struct blocked_reaper {
	struct blocked_reaper *next;
	UMockdevIoctlClient *client;
	UMockdevIoctlData *ptr; /* the client's `void *` being reaped into */
};

/*
 * One simulated USB device (several with repeated --profile). Every entry
 * point selects the device it acts on in `cur` (under sim_lock) and the
 * code below reaches its fields through S.
 */
struct usbdev {
	struct sim_usb u; /* u.index: sysfs 1-(index+1) */
	UMockdevIoctlBase *handler;
	unsigned devnum;
	char devnode[64];
	char *syspath;
	char *if_syspath[SIM_MAX_IFACES];
	/* pending IN URBs per interface, completed URBs for everyone */
	struct urbq bulk_in[SIM_MAX_IFACES], intr_in[SIM_MAX_IFACES];
	struct urbq other; /* submitted, never completing by itself */
	struct urbq done;
	struct blocked_reaper *reapers;
	/* the device node is a FIFO: our end, and whether its pipe is full */
	int fifo_fd;
	bool fifo_full;
	/* a timer (main loop) is set for held answers */
	bool timer_set;
	int64_t timer_due;
};

static UMockdevTestbed *testbed;
static struct usbdev devs[SIM_MAX_DEVICES];
static unsigned n_devs;
static unsigned next_devnum = 2; /* 001 is the root hub's number on a real bus */
static struct usbdev *cur = &devs[0];
#define S (*cur)

static void usbfs_kick(void);

/*
 * Readiness of the device node. The preload forwards ioctls on the node to
 * our socket but leaves poll() to the kernel, on whatever file the node is.
 * A plain file is always ready, so libusb (which polls the usbfs fd for
 * POLLOUT, "a URB completed") spins on REAPURBNDELAY. The node is a FIFO
 * instead, opened O_RDWR by every client: while no completed URB waits we
 * keep its pipe full (POLLOUT clear, poll() sleeps); a completion drains it
 * (POLLOUT set, the sleeping poll() wakes). An unplugged device stays ready
 * so that every reap sees ENODEV, as the kernel's POLLERR|POLLHUP does.
 */
static void ready_set(bool ready)
{
	uint8_t junk[4096];

	if (S.fifo_fd < 0)
		return;
	if (ready && S.fifo_full) {
		while (read(S.fifo_fd, junk, sizeof(junk)) > 0)
			;
		S.fifo_full = false;
	} else if (!ready && !S.fifo_full) {
		memset(junk, 0, sizeof(junk));
		/* bounded: the pipe holds 4 KiB (F_SETPIPE_SZ) or 64 KiB */
		for (int k = 0; k < 64; k++)
			if (write(S.fifo_fd, junk, sizeof(junk)) < 0)
				break;
		S.fifo_full = true;
	}
}

/* After anything that may have emptied the completed queue. */
static void ready_update(void)
{
	ready_set(!S.u.present || S.done.head != NULL);
}

static void urb_free(struct urb *r)
{
	if (r->data)
		g_object_unref(r->data);
	free(r);
}

static void hand_back(UMockdevIoctlData *ptr, struct urb *r)
{
	GError *e = NULL;

	if (!umockdev_ioctl_data_set_ptr(ptr, 0, r->data))
		sim_log("usbfs: set_ptr failed");
	if (e)
		g_error_free(e);
	sim_stats.reap++;
}

static void complete_urb(struct urb *r, int status, size_t actual)
{
	r->u->status = status;
	r->u->actual_length = (int)actual;
	q_push(&S.done, r);
	ready_set(true);
	for (struct blocked_reaper **pp = &S.reapers; *pp;) {
		struct blocked_reaper *br = *pp;
		struct urb *d = q_pop_owner(&S.done, br->client);

		if (!d) {
			pp = &br->next;
			continue;
		}
		*pp = br->next;
		hand_back(br->ptr, d);
		umockdev_ioctl_client_complete(br->client, 0, 0);
		g_object_unref(br->ptr);
		g_object_unref(br->client);
		free(br);
		urb_free(d);
	}
}

static gboolean on_timer(gpointer user)
{
	sim_lock_take();
	((struct usbdev *)user)->timer_set = false;
	usbfs_kick();
	sim_lock_give();
	return G_SOURCE_REMOVE;
}

/* Wake usbfs_kick() at `due` (monotonic us) for held answers. */
static void timer_at(int64_t due)
{
	int64_t now = g_get_monotonic_time();
	guint ms;

	if (S.timer_set && S.timer_due <= due)
		return;
	ms = due > now ? (guint)((due - now + 999) / 1000) : 0;
	/* a later, superseded timer just finds nothing to do */
	g_timeout_add(ms, on_timer, cur);
	S.timer_set = true;
	S.timer_due = due;
}

static void usbfs_halt_in(const struct ccid_iface *ci)
{
	struct urb *r;
	unsigned i = 0;

	for (unsigned k = 0; k < n_devs; k++)
		if (ci >= devs[k].u.ifaces && ci < devs[k].u.ifaces + devs[k].u.dev->n_ifaces) {
			cur = &devs[k];
			i = (unsigned)(ci - devs[k].u.ifaces);
			break;
		}
	if (!S.u.dev || i >= S.u.dev->n_ifaces || ci != &S.u.ifaces[i])
		return;
	S.u.in_halted[i] = true;
	while ((r = q_pop(&S.bulk_in[i])))
		complete_urb(r, -EPIPE, 0);
}

/*
 * A zero-length completion outside the submit ioctl (held answers,
 * zlp-every): with umockdev 0.17.16 the client then reads the URB as it
 * was at submit (status -EINPROGRESS: libusb reports LIBUSB_ERROR_IO),
 * measured; with one more field changed it reads the real one. The
 * field is error_count, which only isochronous URBs use.
 */
static void zlp_mark(struct urb *r)
{
	r->u->error_count = r->u->error_count ? 0 : 1;
}

static void kick_one(void)
{
	int64_t now, next_all = 0;

	if (!S.u.dev)
		return;
	now = g_get_monotonic_time();
	for (unsigned i = 0; i < S.u.dev->n_ifaces; i++) {
		struct ccid_iface *ci = &S.u.ifaces[i];
		int64_t next = 0;

		while (S.bulk_in[i].head && S.u.in_halted[i]) {
			complete_urb(q_pop(&S.bulk_in[i]), -EPIPE, 0);
		}
		while (S.bulk_in[i].head) {
			struct sim_msg *m = ccid_take_reply(ci, now, &next);
			struct urb *r;
			size_t n;
			int st;

			if (!m)
				break;
			r = q_pop(&S.bulk_in[i]);
			n = m->len < r->buflen ? m->len : r->buflen;
			st = m->len > r->buflen ? -EOVERFLOW : 0;
			if (m->status) /* in-error fault: the answer is lost */
				st = m->status, n = 0;
			memcpy(r->buf, m->data, n);
			if (sim_verbose)
				sim_hexlog("bulk-in", m->data, m->len);
			sim_stats.bytes_in += n;
			free(m);
			if (n == 0)
				zlp_mark(r);
			complete_urb(r, st, n);
		}
		if (!S.bulk_in[i].head && !next) /* nobody reading: held for later? */
			next = usbdev_next_held(&S.u, i, now);
		if (next && (!next_all || next < next_all))
			next_all = next;
		while (S.intr_in[i].head) {
			struct sim_msg *m = ccid_take_notify(ci);
			struct urb *r;
			size_t n;

			if (!m)
				break;
			r = q_pop(&S.intr_in[i]);
			n = m->len < r->buflen ? m->len : r->buflen;
			memcpy(r->buf, m->data, n);
			if (sim_verbose)
				sim_hexlog("intr-in", m->data, m->len);
			sim_stats.bytes_intr += n;
			free(m);
			complete_urb(r, 0, n);
		}
	}
	if (next_all)
		timer_at(next_all);
}

static void usbfs_kick(void)
{
	struct usbdev *was = cur;

	for (unsigned k = 0; k < n_devs; k++) {
		cur = &devs[k];
		kick_one();
	}
	cur = was;
}

static unsigned usbfs_current(void)
{
	return cur->u.index;
}

/* ---- ioctls ------------------------------------------------------------- */

static UMockdevIoctlData *resolve(UMockdevIoctlData *d, size_t off, size_t len)
{
	GError *e = NULL;
	UMockdevIoctlData *r = umockdev_ioctl_data_resolve(d, off, len, &e);

	if (e) {
		sim_log("usbfs: resolve: %s", e->message);
		g_error_free(e);
		return NULL;
	}
	return r;
}

static int submit_urb(UMockdevIoctlData *arg, const void *owner, int *err)
{
	UMockdevIoctlData *ud = resolve(arg, 0, sizeof(struct usbdevfs_urb));
	UMockdevIoctlData *bd = NULL;
	struct usbdevfs_urb *u;
	struct urb *r;
	enum usbdev_ep_kind kind = EP_BULK_OUT;
	int i;

	if (!ud) {
		*err = EFAULT;
		return -1;
	}
	u = (struct usbdevfs_urb *)(void *)ud->data;
	if (sim_verbose > 1)
		sim_log("submit type %u ep 0x%02x len %d flags 0x%x", u->type,
			u->endpoint, u->buffer_length, u->flags);
	if (u->buffer_length < 0 || (u->buffer_length > 0 && !u->buffer)) {
		g_object_unref(ud);
		*err = EINVAL;
		return -1;
	}
	if (u->buffer_length > 0) {
		bd = resolve(ud, offsetof(struct usbdevfs_urb, buffer),
			     (size_t)u->buffer_length);
		if (!bd) {
			g_object_unref(ud);
			*err = EFAULT;
			return -1;
		}
	}
	r = calloc(1, sizeof(*r));
	r->data = ud;
	r->u = u;
	r->buf = bd ? bd->data : NULL;
	r->buflen = bd ? (size_t)u->buffer_length : 0;
	r->owner = owner;
	if (bd)
		g_object_unref(bd); /* the parent keeps it */
	u->status = -EINPROGRESS;
	u->actual_length = 0;

	if (u->type == USBDEVFS_URB_TYPE_CONTROL) {
		int n;
		uint16_t wl;

		sim_stats.urb_ctrl++;
		if (r->buflen < 8) {
			urb_free(r);
			*err = EINVAL;
			return -1;
		}
		wl = get_le16(r->buf + 6);
		if ((size_t)wl > r->buflen - 8) {
			urb_free(r);
			*err = EINVAL;
			return -1;
		}
		n = usbdev_control(&S.u, r->buf, r->buf + 8);
		if (n < 0)
			complete_urb(r, n, 0);
		else
			complete_urb(r, 0, (size_t)n);
		return 0;
	}
	i = usbdev_iface_by_ep(&S.u, u->endpoint, &kind);
	if (i < 0 || (u->type == USBDEVFS_URB_TYPE_INTERRUPT) != (kind == EP_INTR_IN) ||
	    (u->type != USBDEVFS_URB_TYPE_INTERRUPT &&
	     u->type != USBDEVFS_URB_TYPE_BULK)) {
		urb_free(r);
		*err = ENOENT;
		return -1;
	}
	switch (kind) {
	case EP_BULK_OUT:
		sim_stats.urb_bulk_out++;
		if (S.u.out_halted[i] || fault_take(FAULT_STALL_OUT, -1, NULL)) {
			S.u.out_halted[i] = true;
			complete_urb(r, -EPIPE, 0);
			break;
		}
		sim_stats.bytes_out += r->buflen;
		/* the reader takes the whole message at once */
		complete_urb(r, 0, r->buflen);
		usbdev_bulk_out(&S.u, (unsigned)i, r->buf, r->buflen);
		break;
	case EP_BULK_IN:
		sim_stats.urb_bulk_in++;
		q_push(&S.bulk_in[i], r);
		break;
	default:
		sim_stats.urb_intr++;
		q_push(&S.intr_in[i], r);
		break;
	}
	usbfs_kick();
	return 0;
}

static bool discard(unsigned long addr)
{
	struct urbq *qs[2 * SIM_MAX_IFACES];
	unsigned nq = 0;

	for (unsigned i = 0; i < S.u.dev->n_ifaces; i++) {
		qs[nq++] = &S.bulk_in[i];
		qs[nq++] = &S.intr_in[i];
	}
	for (unsigned k = 0; k < nq; k++)
		for (struct urb *r = qs[k]->head; r; r = r->next)
			if (r->data->client_addr == addr) {
				q_remove(qs[k], r);
				sim_stats.discard++;
				complete_urb(r, -ENOENT, 0);
				return true;
			}
	return false;
}

static gboolean on_ioctl(UMockdevIoctlBase *base, UMockdevIoctlClient *client,
			 gpointer user)
{
	unsigned long req = umockdev_ioctl_client_get_request(client);
	UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
	const char *node = umockdev_ioctl_client_get_devnode(client);
	UMockdevIoctlData *d;
	long ret = 0;
	int err = 0;
	bool gone;

	(void)base;
	sim_lock_take();
	cur = user;
	gone = !S.u.present || strcmp(node, S.devnode) != 0;
	if (sim_verbose > 1 && req != USBDEVFS_REAPURBNDELAY)
		sim_log("ioctl 0x%lx on %s", req, node);

	switch (req) {
	case USBDEVFS_REAPURB:
	case USBDEVFS_REAPURBNDELAY: {
		struct urb *r = q_pop_owner(&S.done, client);

		if (!r) {
			sim_stats.reap_empty++;
			if (gone) {
				ret = -1;
				err = ENODEV;
			} else if (req == USBDEVFS_REAPURB) {
				struct blocked_reaper *br = calloc(1, sizeof(*br));

				br->ptr = resolve(arg, 0, sizeof(void *));
				if (!br->ptr) {
					free(br);
					ret = -1;
					err = EFAULT;
					break;
				}
				br->client = g_object_ref(client);
				br->next = S.reapers;
				S.reapers = br;
				sim_lock_give();
				return TRUE; /* completed later */
			} else {
				ret = -1;
				err = EAGAIN;
			}
			break;
		}
		d = resolve(arg, 0, sizeof(void *));
		if (!d) {
			ret = -1;
			err = EFAULT;
			urb_free(r);
			break;
		}
		hand_back(d, r);
		g_object_unref(d);
		urb_free(r);
		break;
	}
	case USBDEVFS_GET_CAPABILITIES:
		d = resolve(arg, 0, sizeof(uint32_t));
		if (d) {
			uint32_t caps = USBDEVFS_CAP_ZERO_PACKET |
					USBDEVFS_CAP_BULK_CONTINUATION |
					USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
					USBDEVFS_CAP_BULK_SCATTER_GATHER |
					USBDEVFS_CAP_REAP_AFTER_DISCONNECT;

			memcpy(d->data, &caps, sizeof(caps));
			g_object_unref(d);
		}
		break;
	default:
		if (gone) {
			ret = -1;
			err = ENODEV;
			break;
		}
		switch (req) {
		case USBDEVFS_SUBMITURB:
			ret = submit_urb(arg, client, &err);
			break;
		case USBDEVFS_DISCARDURB:
			if (!discard(*(unsigned long *)(void *)arg->data)) {
				ret = -1;
				err = EINVAL;
			}
			break;
		case USBDEVFS_CLAIMINTERFACE:
		case USBDEVFS_RELEASEINTERFACE:
			d = resolve(arg, 0, sizeof(unsigned int));
			if (d) {
				unsigned int n;

				memcpy(&n, d->data, sizeof(n));
				if (usbdev_iface_by_number(&S.u, n) < 0) {
					ret = -1;
					err = EINVAL;
				}
				g_object_unref(d);
			}
			break;
		case USBDEVFS_SETCONFIGURATION:
			d = resolve(arg, 0, sizeof(unsigned int));
			if (d) {
				int n;

				memcpy(&n, d->data, sizeof(n));
				if (n == 1 || n == 0 || n == -1)
					S.u.config = n == 1 ? 1 : 0;
				else {
					ret = -1;
					err = EINVAL;
				}
				g_object_unref(d);
			}
			break;
		case USBDEVFS_CLEAR_HALT:
			d = resolve(arg, 0, sizeof(unsigned int));
			if (d) {
				unsigned int ep;

				memcpy(&ep, d->data, sizeof(ep));
				usbdev_clear_halt(&S.u, ep);
				g_object_unref(d);
			}
			break;
		case USBDEVFS_SETINTERFACE:
		case USBDEVFS_RESETEP:
		case USBDEVFS_DISCONNECT_CLAIM:
			break;
		case USBDEVFS_RESET:
			sim_stats.usb_resets++;
			sim_log("USB reset");
			usbdev_reset(&S.u);
			break;
		case USBDEVFS_GETDRIVER:
		case USBDEVFS_IOCTL:
			ret = -1;
			err = ENODATA;
			break;
		case USBDEVFS_GET_SPEED:
			ret = 2; /* USB_SPEED_FULL */
			break;
		case USBDEVFS_CONNECTINFO:
			d = resolve(arg, 0, sizeof(struct usbdevfs_connectinfo));
			if (d) {
				struct usbdevfs_connectinfo ci = { .devnum = S.devnum, .slow = 0 };

				memcpy(d->data, &ci, sizeof(ci));
				g_object_unref(d);
			}
			break;
		case USBDEVFS_CONTROL: {
			struct usbdevfs_ctrltransfer *ct;
			UMockdevIoctlData *dd = NULL;
			uint8_t setup[8];
			uint8_t scratch[8];
			int n;

			d = resolve(arg, 0, sizeof(*ct));
			if (!d) {
				ret = -1;
				err = EFAULT;
				break;
			}
			ct = (struct usbdevfs_ctrltransfer *)(void *)d->data;
			setup[0] = ct->bRequestType;
			setup[1] = ct->bRequest;
			put_le16(setup + 2, ct->wValue);
			put_le16(setup + 4, ct->wIndex);
			put_le16(setup + 6, ct->wLength);
			if (ct->wLength)
				dd = resolve(d, offsetof(struct usbdevfs_ctrltransfer, data),
					     ct->wLength);
			sim_stats.urb_ctrl++;
			n = usbdev_control(&S.u, setup, dd ? dd->data : scratch);
			if (n < 0) {
				ret = -1;
				err = -n;
			} else
				ret = n;
			if (dd)
				g_object_unref(dd);
			g_object_unref(d);
			break;
		}
		default:
			sim_log("usbfs: unhandled ioctl 0x%lx", req);
			ret = -1;
			err = ENOTTY;
			break;
		}
	}
	if (req == USBDEVFS_REAPURB || req == USBDEVFS_REAPURBNDELAY)
		ready_update();
	sim_lock_give();
	umockdev_ioctl_client_complete(client, ret, err);
	return TRUE;
}

/*
 * Every open of the node is an UMockdevIoctlClient. umockdev 0.17.16 lets
 * an idle client be finalised (with its stream still open) once a second
 * client connects, and the first opener's preload then dies ("received
 * EOF"); libccid opens the device once per CCID interface (Broadcom 5880).
 * Holding our own reference until the stream closes keeps it alive.
 */
static void on_client_closed(GObject *obj, GParamSpec *ps, gpointer user)
{
	(void)ps;
	if (!umockdev_ioctl_client_get_connected(UMOCKDEV_IOCTL_CLIENT(obj))) {
		struct urb *r;

		/* closing the file drops its URBs, as the kernel does */
		sim_lock_take();
		cur = user;
		if (S.u.dev)
			for (unsigned i = 0; i < S.u.dev->n_ifaces; i++) {
				while ((r = q_pop_owner(&S.bulk_in[i], obj)))
					urb_free(r);
				while ((r = q_pop_owner(&S.intr_in[i], obj)))
					urb_free(r);
			}
		while ((r = q_pop_owner(&S.done, obj)))
			urb_free(r);
		ready_update();
		sim_lock_give();
		g_signal_handlers_disconnect_by_func(obj, on_client_closed, user);
		g_object_unref(obj);
	}
}

static void on_client_connected(UMockdevIoctlBase *base,
				UMockdevIoctlClient *client, gpointer user)
{
	(void)base;
	g_object_ref(client);
	g_signal_connect(client, "notify::connected", G_CALLBACK(on_client_closed), user);
}

/* ---- sysfs devices -------------------------------------------------------- */

static void fail_all_pending(int status)
{
	for (unsigned i = 0; i < S.u.dev->n_ifaces; i++) {
		struct urb *r;

		while ((r = q_pop(&S.bulk_in[i])))
			complete_urb(r, status, 0);
		while ((r = q_pop(&S.intr_in[i])))
			complete_urb(r, status, 0);
		S.u.out_len[i] = 0;
	}
}

static char *hex4(uint16_t v)
{
	return g_strdup_printf("%04x", v);
}

static int add_devices(char **err)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *p = g_ptr_array_new_with_free_func(g_free);
	GString *ifs = g_string_new(":");
	struct sim_device *dev = S.u.dev;
	GError *e = NULL;
	unsigned minor;
	char sysname[16], devpath[8];

	S.devnum = next_devnum++;
	snprintf(sysname, sizeof(sysname), "1-%u", S.u.index + 1);
	snprintf(devpath, sizeof(devpath), "%u", S.u.index + 1);
	minor = S.devnum - 1; /* bus 1: (bus - 1) * 128 + devnum - 1 */
	snprintf(S.devnode, sizeof(S.devnode), "/dev/bus/usb/001/%03u", S.devnum);
	for (unsigned i = 0; i < dev->n_ifaces; i++) {
		struct sim_iface *in = &dev->ifaces[i];

		g_string_append_printf(ifs, "%02x%02x%02x:", in->bInterfaceClass,
				       in->bInterfaceSubClass, in->bInterfaceProtocol);
	}
#define A(k, v) do { g_ptr_array_add(a, g_strdup(k)); g_ptr_array_add(a, (v)); } while (0)
#define P(k, v) do { g_ptr_array_add(p, g_strdup(k)); g_ptr_array_add(p, (v)); } while (0)
	A("idVendor", hex4(dev->idVendor));
	A("idProduct", hex4(dev->idProduct));
	A("bcdDevice", hex4(dev->bcdDevice));
	A("busnum", g_strdup("1"));
	A("devnum", g_strdup_printf("%u", S.devnum));
	A("devpath", g_strdup(devpath));
	A("bConfigurationValue", g_strdup("1"));
	A("bNumConfigurations", g_strdup("1"));
	A("bNumInterfaces", g_strdup_printf("%2u", dev->n_ifaces));
	A("bDeviceClass", g_strdup("00"));
	A("bDeviceSubClass", g_strdup("00"));
	A("bDeviceProtocol", g_strdup("00"));
	A("bMaxPacketSize0", g_strdup("64"));
	A("bmAttributes", g_strdup("a0"));
	A("bMaxPower", g_strdup("100mA"));
	A("speed", g_strdup("12"));
	A("version", g_strdup(" 2.00"));
	A("maxchild", g_strdup("0"));
	A("removable", g_strdup("removable"));
	if (dev->manufacturer)
		A("manufacturer", g_strdup(dev->manufacturer));
	if (dev->product)
		A("product", g_strdup(dev->product));
	if (dev->serial)
		A("serial", g_strdup(dev->serial));
	A("dev", g_strdup_printf("189:%u", minor));
	g_ptr_array_add(a, NULL);

	P("DEVNAME", g_strdup(S.devnode));
	P("DEVTYPE", g_strdup("usb_device"));
	P("DRIVER", g_strdup("usb"));
	P("MAJOR", g_strdup("189"));
	P("MINOR", g_strdup_printf("%u", minor));
	P("BUSNUM", g_strdup("001"));
	P("DEVNUM", g_strdup_printf("%03u", S.devnum));
	P("PRODUCT", g_strdup_printf("%x/%x/%x", dev->idVendor, dev->idProduct,
				     dev->bcdDevice));
	P("TYPE", g_strdup("0/0/0"));
	P("ID_VENDOR_ID", hex4(dev->idVendor));
	P("ID_MODEL_ID", hex4(dev->idProduct));
	P("ID_REVISION", hex4(dev->bcdDevice));
	P("ID_BUS", g_strdup("usb"));
	P("ID_USB_INTERFACES", g_strdup(ifs->str));
	if (dev->manufacturer)
		P("ID_VENDOR", g_strdup(dev->manufacturer));
	if (dev->product)
		P("ID_MODEL", g_strdup(dev->product));
	if (dev->serial)
		P("ID_SERIAL_SHORT", g_strdup(dev->serial));
	g_ptr_array_add(p, NULL);

	g_free(S.syspath);
	S.syspath = umockdev_testbed_add_devicev(testbed, "usb", sysname, NULL,
						 (gchar **)a->pdata, (gchar **)p->pdata);
	g_ptr_array_free(a, TRUE);
	g_ptr_array_free(p, TRUE);
	if (!S.syspath) {
		g_string_free(ifs, TRUE);
		*err = strdup("umockdev_testbed_add_devicev failed");
		return -1;
	}
	umockdev_testbed_set_attribute_binary(testbed, S.syspath, "descriptors",
					      S.u.dev->descriptors,
					      S.u.dev->descriptors_len);
	/* the node: a FIFO (see ready_set()) that the preload redirects to
	 * the ioctl socket; it must be served before the interfaces announce
	 * the reader. OPENCCID_SIM_PLAIN_NODE=1 gives the old plain file (an
	 * always-ready fd: libusb spins) for comparison. */
	{
		char *root = umockdev_testbed_get_root_dir(testbed);
		char *path = g_build_filename(root, S.devnode, NULL);
		char *dir = g_path_get_dirname(path);

		g_mkdir_with_parents(dir, 0755);
		if (S.fifo_fd >= 0)
			close(S.fifo_fd);
		S.fifo_fd = -1;
		S.fifo_full = false;
		unlink(path);
		if (getenv("OPENCCID_SIM_PLAIN_NODE") || mkfifo(path, 0666) < 0) {
			if (!g_file_set_contents(path, "", 0, NULL))
				sim_log("cannot create %s", path);
		} else {
			S.fifo_fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
			if (S.fifo_fd < 0)
				sim_log("cannot open %s: %s", path, strerror(errno));
			else
				(void)fcntl(S.fifo_fd, F_SETPIPE_SZ, 4096);
		}
		g_free(dir);
		g_free(path);
		g_free(root);
	}
	if (!umockdev_testbed_attach_ioctl(testbed, S.devnode, S.handler, &e)) {
		g_string_free(ifs, TRUE);
		*err = strdup(e ? e->message : "attach_ioctl failed");
		if (e)
			g_error_free(e);
		return -1;
	}
	S.u.present = true;
	S.u.config = 1;
	ready_update();

	for (unsigned i = 0; i < dev->n_ifaces; i++) {
		struct sim_iface *in = &dev->ifaces[i];
		char name[32];

		a = g_ptr_array_new_with_free_func(g_free);
		p = g_ptr_array_new_with_free_func(g_free);
		snprintf(name, sizeof(name), "%s:1.%u", sysname, in->bInterfaceNumber);
		A("bInterfaceNumber", g_strdup_printf("%02x", in->bInterfaceNumber));
		A("bAlternateSetting", g_strdup(" 0"));
		A("bInterfaceClass", g_strdup_printf("%02x", in->bInterfaceClass));
		A("bInterfaceSubClass", g_strdup_printf("%02x", in->bInterfaceSubClass));
		A("bInterfaceProtocol", g_strdup_printf("%02x", in->bInterfaceProtocol));
		A("bNumEndpoints", g_strdup_printf("%02x", in->bNumEndpoints));
		if (in->iInterface)
			A("interface", g_strdup(in->iInterface));
		g_ptr_array_add(a, NULL);
		P("DEVTYPE", g_strdup("usb_interface"));
		P("PRODUCT", g_strdup_printf("%x/%x/%x", dev->idVendor,
					     dev->idProduct, dev->bcdDevice));
		P("TYPE", g_strdup("0/0/0"));
		P("INTERFACE", g_strdup_printf("%u/%u/%u", in->bInterfaceClass,
					       in->bInterfaceSubClass,
					       in->bInterfaceProtocol));
		P("ID_VENDOR_ID", hex4(dev->idVendor));
		P("ID_MODEL_ID", hex4(dev->idProduct));
		P("ID_USB_INTERFACES", g_strdup(ifs->str));
		g_ptr_array_add(p, NULL);
		g_free(S.if_syspath[i]);
		S.if_syspath[i] = umockdev_testbed_add_devicev(
			testbed, "usb", name, S.syspath, (gchar **)a->pdata,
			(gchar **)p->pdata);
		g_ptr_array_free(a, TRUE);
		g_ptr_array_free(p, TRUE);
	}
#undef A
#undef P
	g_string_free(ifs, TRUE);
	sim_log("plugged in: %s (%s), %u interface(s)", S.devnode, S.syspath,
		dev->n_ifaces);
	return 0;
}

static int usbfs_start(struct sim_device *dev, struct ccid_iface *ifaces,
		       const char *arg, char **root_dir, char **err)
{
	(void)arg;
	if (n_devs == SIM_MAX_DEVICES) {
		*err = strdup("too many devices");
		return -1;
	}
	cur = &devs[n_devs];
	S.u.index = n_devs++;
	S.fifo_fd = -1;
	S.u.dev = dev;
	S.u.ifaces = ifaces;
	q_init(&S.other);
	q_init(&S.done);
	for (unsigned i = 0; i < SIM_MAX_IFACES; i++) {
		q_init(&S.bulk_in[i]);
		q_init(&S.intr_in[i]);
	}
	if (!testbed)
		testbed = umockdev_testbed_new();
	if (!testbed) {
		*err = strdup("umockdev_testbed_new failed");
		return -1;
	}
	S.handler = umockdev_ioctl_base_new();
	g_signal_connect(S.handler, "handle-ioctl", G_CALLBACK(on_ioctl), cur);
	g_signal_connect(S.handler, "client-connected", G_CALLBACK(on_client_connected), cur);
	*root_dir = umockdev_testbed_get_root_dir(testbed);
	return add_devices(err);
}

static int select_dev(unsigned idx, char **err)
{
	if (idx >= n_devs) {
		char m[32];

		snprintf(m, sizeof(m), "no device %u", idx);
		*err = strdup(m);
		return -1;
	}
	cur = &devs[idx];
	return 0;
}

static int usbfs_unplug(unsigned idx, char **err)
{
	GError *e = NULL;

	if (select_dev(idx, err) < 0)
		return -1;
	if (!S.u.present) {
		*err = strdup("not plugged in");
		return -1;
	}
	S.u.present = false;
	fail_all_pending(-ESHUTDOWN);
	ready_set(true); /* reaps now fail with ENODEV */
	for (unsigned i = 0; i < S.u.dev->n_ifaces; i++)
		ccid_reset(&S.u.ifaces[i]);
	for (unsigned i = S.u.dev->n_ifaces; i-- > 0;)
		if (S.if_syspath[i])
			umockdev_testbed_uevent(testbed, S.if_syspath[i], "remove");
	umockdev_testbed_uevent(testbed, S.syspath, "remove");
	umockdev_testbed_remove_device(testbed, S.syspath);
	{
		char *root = umockdev_testbed_get_root_dir(testbed);
		char *path = g_build_filename(root, S.devnode, NULL);
		char name0[16];

		unlink(path);
		g_free(path);
		/* remove_device() leaves the bus and /sys/dev links behind; a
		 * later plug re-creates them */
		for (unsigned i = 0; i < S.u.dev->n_ifaces; i++) {
			char name[32];

			snprintf(name, sizeof(name), "1-%u:1.%u", S.u.index + 1,
				 S.u.dev->ifaces[i].bInterfaceNumber);
			path = g_build_filename(root, "sys/bus/usb/devices", name, NULL);
			unlink(path);
			g_free(path);
		}
		snprintf(name0, sizeof(name0), "1-%u", S.u.index + 1);
		path = g_build_filename(root, "sys/bus/usb/devices", name0, NULL);
		unlink(path);
		g_free(path);
		{
			char mm[32];

			snprintf(mm, sizeof(mm), "189:%u", S.devnum - 1);
			path = g_build_filename(root, "sys/dev/char", mm, NULL);
			unlink(path);
			g_free(path);
		}
		g_free(root);
	}
	if (!umockdev_testbed_detach_ioctl(testbed, S.devnode, &e)) {
		sim_log("detach_ioctl: %s", e ? e->message : "?");
		if (e)
			g_error_free(e);
	}
	sim_log("unplugged %s", S.devnode);
	return 0;
}

static int usbfs_plug(unsigned idx, char **err)
{
	if (select_dev(idx, err) < 0)
		return -1;
	if (S.u.present) {
		*err = strdup("already plugged in");
		return -1;
	}
	/* a fresh device: nothing of the old one survives */
	usbdev_reset(&S.u);
	profile_build_descriptors(S.u.dev); /* undo an earlier `desc` fault */
	descfault_apply(S.u.dev);
	return add_devices(err);
}

static void usbfs_stop(void)
{
	if (!testbed)
		return;
	for (unsigned k = 0; k < n_devs; k++) {
		cur = &devs[k];
		if (S.u.present)
			fail_all_pending(-ESHUTDOWN);
		S.u.present = false;
		ready_set(true);
		if (S.fifo_fd >= 0)
			close(S.fifo_fd);
		S.fifo_fd = -1;
	}
	/* the testbed's destructor removes its directory */
	g_clear_object(&testbed);
}

const struct sim_backend usbfs_backend = {
	.name = "umockdev",
	.start = usbfs_start,
	.unplug = usbfs_unplug,
	.plug = usbfs_plug,
	.current = usbfs_current,
	.kick = usbfs_kick,
	.halt_in = usbfs_halt_in,
	.stop = usbfs_stop,
};
