/*
 * openccid-sim: options, the control socket, signals. See README.md for the
 * contract with the test harness.
 */
#include "sim.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <glib.h>
#include <glib-unix.h>

struct sim_stats sim_stats;
int sim_verbose;
const struct sim_backend *sim_backend = &usbfs_backend;

static GRecMutex lock;
static GMutex log_mu;
static FILE *log_file;
static GMainLoop *loop;
/* one per --profile: several USB devices on one testbed */
static struct sim_device devs[SIM_MAX_DEVICES];
static unsigned n_devs;
static struct ccid_iface ifaces[SIM_MAX_DEVICES][SIM_MAX_IFACES];
static struct card *cards[SIM_MAX_DEVICES * SIM_MAX_IFACES * SIM_MAX_SLOTS];
static unsigned n_cards;

void sim_lock_take(void)
{
	g_rec_mutex_lock(&lock);
}

void sim_lock_give(void)
{
	g_rec_mutex_unlock(&lock);
}

void sim_log(const char *fmt, ...)
{
	struct timespec ts;
	va_list ap;
	char buf[2048];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	g_mutex_lock(&log_mu);
	fprintf(log_file ? log_file : stderr, "%ld.%03ld openccid-sim: %s\n",
		(long)ts.tv_sec, ts.tv_nsec / 1000000, buf);
	fflush(log_file ? log_file : stderr);
	g_mutex_unlock(&log_mu);
}

void sim_hexlog(const char *what, const uint8_t *b, size_t n)
{
	GString *s = g_string_new(NULL);
	size_t show = n < 64 ? n : 64;

	for (size_t i = 0; i < show; i++)
		g_string_append_printf(s, "%02X ", b[i]);
	sim_log("%s (%zu): %s%s", what, n, s->str, show < n ? "..." : "");
	g_string_free(s, TRUE);
}

/* ---- cards ------------------------------------------------------------- */

struct card *card_create(const char *spec, char **err)
{
	if (!strcmp(spec, "none"))
		return NULL;
	if (!strcmp(spec, "builtin"))
		return card_builtin_new("", err);
	if (!strncmp(spec, "builtin:", 8))
		return card_builtin_new(spec + 8, err);
	if (!strncmp(spec, "cacard:", 7))
		return card_cacard_new(spec + 7, err);
	if (!strncmp(spec, "vicc:", 5))
		return card_vicc_new(spec + 5, err);
	if (!strcmp(spec, "emv") || !strncmp(spec, "emv:", 4))
		return card_emv_new(spec[3] ? spec + 4 : "", err);
#ifdef HAVE_OPENPGP_CARD
	if (!strcmp(spec, "openpgp"))
		return card_openpgp_new("", err);
	if (!strncmp(spec, "openpgp:", 8))
		return card_openpgp_new(spec + 8, err);
#endif
	*err = g_strdup_printf("unknown card spec '%s'", spec);
	return NULL;
}

/* A card's presence changed by itself (vicc connected or went away). */
void sim_card_changed(struct card *c);
void sim_card_changed(struct card *c)
{
	sim_lock_take();
	for (unsigned d = 0; d < n_devs; d++)
		for (unsigned i = 0; i < devs[d].n_ifaces; i++)
			for (unsigned k = 0; k < ifaces[d][i].n_slots; k++) {
				struct ccid_slot *s = &ifaces[d][i].slots[k];

				if (s->card != c)
					continue;
				if (c->ops->present && !c->ops->present(c))
					s->powered = false;
				s->changed = true;
			}
	sim_kick();
	sim_lock_give();
}

/* Global slot number -> interface and slot (device 0's slots first, in
 * each device interface 0's slots first). */
static struct ccid_iface *slot_of(unsigned g, unsigned *slot)
{
	for (unsigned d = 0; d < n_devs; d++)
		for (unsigned i = 0; i < devs[d].n_ifaces; i++) {
			if (g < ifaces[d][i].n_slots) {
				*slot = g;
				return &ifaces[d][i];
			}
			g -= ifaces[d][i].n_slots;
		}
	return NULL;
}

/* ---- faults that act on the main loop ------------------------------------ */

static gboolean unplug_now(gpointer user)
{
	char *err = NULL;

	sim_lock_take();
	if (sim_backend->unplug(GPOINTER_TO_UINT(user), &err) < 0)
		sim_log("unplug-during-xfr: %s", err ? err : "failed");
	sim_lock_give();
	free(err);
	return G_SOURCE_REMOVE;
}

void sim_unplug_soon(void)
{
	/* not inside the ioctl: unplugging detaches the ioctl handler */
	g_timeout_add(5, unplug_now, GUINT_TO_POINTER(sim_backend->current()));
}

void fault_armed_hook(enum fault_id id)
{
	long arg;

	if (id == FAULT_INTR_GARBAGE && fault_take(id, -1, &arg)) {
		for (unsigned d = 0; d < n_devs; d++)
			for (unsigned i = 0; i < devs[d].n_ifaces; i++)
				if (devs[d].ifaces[i].ep_intr)
					ccid_intr_garbage(&ifaces[d][i], arg);
		sim_kick();
	} else if (id == FAULT_NOTIFY_SPURIOUS && fault_take(id, -1, NULL)) {
		for (unsigned d = 0; d < n_devs; d++)
			for (unsigned i = 0; i < devs[d].n_ifaces; i++)
				ccid_notify_spurious(&ifaces[d][i]);
		sim_kick();
	}
}

/* ---- control socket ----------------------------------------------------- */

static const char *cmd_name(unsigned t)
{
	switch (t) {
	case 0x62: return "IccPowerOn";
	case 0x63: return "IccPowerOff";
	case 0x65: return "GetSlotStatus";
	case 0x6f: return "XfrBlock";
	case 0x6c: return "GetParameters";
	case 0x6d: return "ResetParameters";
	case 0x61: return "SetParameters";
	case 0x6b: return "Escape";
	case 0x6e: return "IccClock";
	case 0x6a: return "T0APDU";
	case 0x69: return "Secure";
	case 0x71: return "Mechanical";
	case 0x72: return "Abort";
	case 0x73: return "SetDataRateAndClockFrequency";
	default: return NULL;
	}
}

static void hex_field(GString *s, const char *k, const uint8_t *b, size_t n)
{
	g_string_append_printf(s, "\"%s\": \"", k);
	for (size_t i = 0; i < n; i++)
		g_string_append_printf(s, "%02X", b[i]);
	g_string_append_c(s, '"');
}

static char *stats_json(void)
{
	GString *s = g_string_new("{");
	bool first = true;

	g_string_append_printf(s,
		"\"urbs\": {\"ctrl\": %" G_GUINT64_FORMAT ", \"bulk_out\": %" G_GUINT64_FORMAT
		", \"bulk_in\": %" G_GUINT64_FORMAT ", \"intr\": %" G_GUINT64_FORMAT "}, ",
		sim_stats.urb_ctrl, sim_stats.urb_bulk_out, sim_stats.urb_bulk_in,
		sim_stats.urb_intr);
	g_string_append_printf(s,
		"\"bytes\": {\"bulk_out\": %" G_GUINT64_FORMAT ", \"bulk_in\": %" G_GUINT64_FORMAT
		", \"intr\": %" G_GUINT64_FORMAT "}, ",
		sim_stats.bytes_out, sim_stats.bytes_in, sim_stats.bytes_intr);
	g_string_append_printf(s,
		"\"reaped\": %" G_GUINT64_FORMAT ", \"reap_empty\": %" G_GUINT64_FORMAT
		", \"discarded\": %" G_GUINT64_FORMAT ", \"apdus\": %" G_GUINT64_FORMAT ", ",
		sim_stats.reap, sim_stats.reap_empty, sim_stats.discard, sim_stats.apdus);
	g_string_append_printf(s, "\"packets\": {\"bulk_in\": %" G_GUINT64_FORMAT
			       ", \"zlp\": %" G_GUINT64_FORMAT "}, ",
			       sim_stats.in_packets, sim_stats.in_zlp);
	g_string_append(s, "\"ccid\": {");
	for (unsigned t = 0; t < 256; t++) {
		const char *n;

		if (!sim_stats.cmd[t])
			continue;
		n = cmd_name(t);
		g_string_append_printf(s, "%s\"%s\": %" G_GUINT64_FORMAT, first ? "" : ", ",
				       n ? n : "unknown", sim_stats.cmd[t]);
		first = false;
	}
	g_string_append(s, "}, \"ccid_by_type\": {");
	first = true;
	for (unsigned t = 0; t < 256; t++) {
		if (!sim_stats.cmd[t])
			continue;
		g_string_append_printf(s, "%s\"0x%02X\": %" G_GUINT64_FORMAT, first ? "" : ", ",
				       t, sim_stats.cmd[t]);
		first = false;
	}
	g_string_append_printf(s, "}, \"last\": {\"protocol\": %d, \"fidi\": %d, "
			       "\"clock_khz\": %u, \"rate_bps\": %u}, ",
			       sim_stats.last_protocol, sim_stats.last_fidi,
			       sim_stats.last_clock, sim_stats.last_rate);
#define U64(k, v) g_string_append_printf(s, "\"" k "\": %" G_GUINT64_FORMAT ", ", (guint64)(v))
	g_string_append(s, "\"pps\": {");
	U64("seen", sim_stats.pps_seen);
	U64("accepted", sim_stats.pps_accepted);
	U64("rejected", sim_stats.pps_rejected);
	hex_field(s, "last_request", sim_stats.last_pps, sim_stats.last_pps_len);
	g_string_append(s, ", ");
	hex_field(s, "last_reply", sim_stats.last_pps_reply, sim_stats.last_pps_reply_len);
	g_string_append(s, "}, \"set_parameters\": {");
	U64("count", sim_stats.set_params);
	g_string_append_printf(s, "\"protocol\": %d, ", sim_stats.last_protocol);
	hex_field(s, "data", sim_stats.last_params, sim_stats.last_params_len);
	g_string_append(s, "}, ");
	U64("set_rate_clock", sim_stats.set_rate_clock);
	U64("get_clock_frequencies", sim_stats.get_clocks_req);
	U64("get_data_rates", sim_stats.get_rates_req);
	U64("busy_replies", sim_stats.busy_replies);
	U64("max_in_flight", sim_stats.max_in_flight);
	U64("wtx_sent", sim_stats.wtx_sent);
	U64("card_wtx_sent", sim_stats.card_wtx_sent);
	U64("usb_resets", sim_stats.usb_resets);
	U64("iccd_requests", sim_stats.iccd_requests);
	U64("escape", sim_stats.escape);
	g_string_append(s, "\"pinpad\": {");
	U64("verify", sim_stats.secure_verify);
	U64("modify", sim_stats.secure_modify);
	U64("pin_ok", sim_stats.pin_ok);
	U64("pin_wrong", sim_stats.pin_wrong);
	U64("timeout", sim_stats.pin_timeout);
	U64("cancelled", sim_stats.pin_cancelled);
	hex_field(s, "last_secure", sim_stats.last_secure, sim_stats.last_secure_len);
	g_string_append_printf(s, ", \"pin_in_usb_data\": %s}, ",
			       sim_stats.pin_in_apdu_data ? "true" : "false");
#undef U64
	fault_stats_json(s);
	g_string_append(s, "}");
	return g_string_free(s, FALSE);
}

static void stats_reset(void)
{
	memset(&sim_stats, 0, sizeof(sim_stats));
	sim_stats.last_protocol = -1;
	sim_stats.last_fidi = -1;
	fault_stats_reset();
}

static char *control_command(char *line)
{
	char **w = g_strsplit_set(g_strstrip(line), " \t", -1);
	char *out = NULL, *err = NULL;
	unsigned argc = g_strv_length(w);

	if (argc == 0 || !*w[0]) {
		out = g_strdup("err empty command");
		goto done;
	}
	sim_log("control: %s", line);
	if (!strcmp(w[0], "card-remove") || !strcmp(w[0], "card-insert") ||
	    !strcmp(w[0], "card-swap")) {
		unsigned long g = 0, slot;
		struct ccid_iface *ci;
		char *end = NULL;

		if (argc > 1) {
			g = strtoul(w[1], &end, 10);
			if (!end || *end || end == w[1]) {
				out = g_strdup_printf("err bad slot '%s'", w[1]);
				goto done;
			}
		}
		sim_lock_take();
		ci = g < 256 ? slot_of((unsigned)g, (unsigned *)&slot) : NULL;
		if (!ci) {
			sim_lock_give();
			out = g_strdup_printf("err no slot %lu", g);
			goto done;
		}
		slot = (unsigned)slot;
		if (!ci->slots[slot].card) {
			sim_lock_give();
			out = g_strdup_printf("err slot %lu has no card (spec none)", g);
			goto done;
		}
		/* card-swap: out and in under one lock, so no presence poll
		 * can see the slot empty (a swap between two polls). */
		if (w[0][5] != 'i')
			ccid_card_remove(ci, (unsigned)slot);
		if (w[0][5] != 'r')
			ccid_card_insert(ci, (unsigned)slot);
		sim_kick();
		sim_lock_give();
		out = g_strdup("ok");
	} else if (!strcmp(w[0], "unplug") || !strcmp(w[0], "plug")) {
		unsigned long d = 0;
		char *end = NULL;
		int rc;

		if (argc > 1) {
			d = strtoul(w[1], &end, 10);
			if (!end || *end || end == w[1] || d >= SIM_MAX_DEVICES) {
				out = g_strdup_printf("err bad device '%s'", w[1]);
				goto done;
			}
		}
		sim_lock_take();
		rc = w[0][0] == 'u' ? sim_backend->unplug((unsigned)d, &err)
				    : sim_backend->plug((unsigned)d, &err);
		sim_lock_give();
		out = rc ? g_strdup_printf("err %s", err ? err : "failed") : g_strdup("ok");
	} else if (!strcmp(w[0], "stats")) {
		char *j;

		sim_lock_take();
		j = stats_json();
		sim_lock_give();
		out = g_strdup_printf("ok %s", j);
		g_free(j);
	} else if (!strcmp(w[0], "stats-reset")) {
		sim_lock_take();
		stats_reset();
		sim_lock_give();
		out = g_strdup("ok");
	} else if (!strcmp(w[0], "fault")) {
		sim_lock_take();
		err = fault_arm(w + 1, argc - 1);
		sim_lock_give();
		out = err ? g_strdup_printf("err %s", err) : g_strdup("ok");
		g_free(err);
		err = NULL;
	} else if (!strcmp(w[0], "pinpad-digits") || !strcmp(w[0], "pinpad-timeout") ||
		   !strcmp(w[0], "pinpad-cancel")) {
		bool ok = true;

		for (unsigned k = 1; k < argc; k++)
			if (!*w[k] || strlen(w[k]) > 16 || strspn(w[k], "0123456789") != strlen(w[k]))
				ok = false;
		if (w[0][7] == 'd' && (argc < 2 || argc > 4 || !ok)) {
			out = g_strdup("err usage: pinpad-digits PIN [NEWPIN [CONFIRM]] (1..16 digits each)");
			goto done;
		}
		sim_lock_take();
		if (w[0][7] == 'd')
			ccid_pinpad_set(PINPAD_DIGITS, w[1], argc > 2 ? w[2] : NULL,
					argc > 3 ? w[3] : NULL);
		else
			ccid_pinpad_set(w[0][7] == 't' ? PINPAD_TIMEOUT : PINPAD_CANCEL,
					NULL, NULL, NULL);
		sim_lock_give();
		out = g_strdup("ok");
	} else if (!strcmp(w[0], "faults")) {
		char *j;

		sim_lock_take();
		j = fault_list_json();
		sim_lock_give();
		out = g_strdup_printf("ok %s", j);
		g_free(j);
	} else if (!strcmp(w[0], "quit")) {
		g_main_loop_quit(loop);
		out = g_strdup("ok");
	} else {
		out = g_strdup_printf("err unknown command '%s'", w[0]);
	}
done:
	free(err);
	g_strfreev(w);
	return out;
}

/*
 * A control connection: lines in, one reply line each. Connections stay
 * open as long as the peer wants (the harness opens one per command; a QEMU
 * guest's serial port, `-chardev socket,path=CONTROL -serial chardev:ID`,
 * keeps one for the whole boot), each served from the main loop.
 */
struct control_conn {
	int fd;
	size_t len;
	char buf[4096];
};

static gboolean on_control_data(gint fd, GIOCondition cond, gpointer user)
{
	struct control_conn *c = user;
	ssize_t r;
	char *nl;

	(void)cond;
	r = read(fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (r <= 0)
		goto out;
	c->len += (size_t)r;
	while ((nl = memchr(c->buf, '\n', c->len))) {
		char *reply;
		bool ok;

		*nl = '\0';
		/* a serial line may carry CR */
		if (nl > c->buf && nl[-1] == '\r')
			nl[-1] = '\0';
		reply = control_command(c->buf);
		ok = write(fd, reply, strlen(reply)) >= 0 && write(fd, "\n", 1) == 1;
		g_free(reply);
		if (!ok)
			goto out;
		c->len -= (size_t)(nl + 1 - c->buf);
		memmove(c->buf, nl + 1, c->len);
	}
	if (c->len < sizeof(c->buf) - 1)
		return G_SOURCE_CONTINUE;
out: /* peer gone, or a line longer than the buffer */
	close(fd);
	g_free(c);
	return G_SOURCE_REMOVE;
}

static gboolean on_control(gint lfd, GIOCondition cond, gpointer user)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	struct control_conn *c;

	(void)cond;
	(void)user;
	if (fd < 0)
		return G_SOURCE_CONTINUE;
	c = g_new0(struct control_conn, 1);
	c->fd = fd;
	g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_control_data, c);
	return G_SOURCE_CONTINUE;
}

void sim_quit(void)
{
	g_main_loop_quit(loop);
}

static gboolean on_signal(gpointer user)
{
	(void)user;
	sim_log("signal: exiting");
	g_main_loop_quit(loop);
	return G_SOURCE_CONTINUE;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: LD_PRELOAD=libumockdev-preload.so.0 openccid-sim --profile FILE...\n"
		"         [--card SPEC]... --control SOCKET --ready-file FILE [--log FILE]\n"
		"         [--verbose]\n"
		"   or: openccid-sim --usbredir ADDR --profile FILE... (one ADDR per profile)\n"
		"         [--exit-with-peer] ...\n"
		"  ADDR: unix:PATH | tcp:PORT (127.0.0.1), the socket QEMU's usb-redir\n"
		"        chardev connects to\n"
		"  SPEC: builtin[:atr=HEX][:proto=0|1] | cacard:NSSDBDIR | vicc:PORT | none\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "card", required_argument, NULL, 'c' },
		{ "control", required_argument, NULL, 's' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "usbredir", required_argument, NULL, 'u' },
		{ "exit-with-peer", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *profiles[SIM_MAX_DEVICES], *control = NULL, *ready = NULL;
	const char *redir[SIM_MAX_DEVICES];
	unsigned n_profiles = 0, n_redir = 0;
	GString *ready_text = g_string_new(NULL);
	const char *specs[G_N_ELEMENTS(cards)];
	unsigned n_specs = 0, used = 0;
	char *err = NULL, *line = NULL, *tmp;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int o, lfd, rc = 1;
	FILE *f;

	while ((o = getopt_long(argc, argv, "p:c:s:r:l:vh", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			if (n_profiles == SIM_MAX_DEVICES) {
				fprintf(stderr, "openccid-sim: too many --profile\n");
				return 2;
			}
			profiles[n_profiles++] = optarg;
			break;
		case 'c':
			if (n_specs == G_N_ELEMENTS(specs)) {
				fprintf(stderr, "openccid-sim: too many --card\n");
				return 2;
			}
			specs[n_specs++] = optarg;
			break;
		case 's': control = optarg; break;
		case 'r': ready = optarg; break;
		case 'l':
			log_file = fopen(optarg, "a");
			if (!log_file) {
				fprintf(stderr, "openccid-sim: %s: %s\n", optarg, strerror(errno));
				return 2;
			}
			break;
		case 'v': sim_verbose++; break;
		case 'u':
			if (n_redir == SIM_MAX_DEVICES) {
				fprintf(stderr, "openccid-sim: too many --usbredir\n");
				return 2;
			}
			redir[n_redir++] = optarg;
			sim_backend = &usbredir_backend;
			break;
		case 'x': usbredir_exit_with_peer = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!n_profiles || !control || !ready || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (getenv("OPENCCID_SIM_VERBOSE"))
		sim_verbose = 1;
	if (n_redir && n_redir != n_profiles) {
		fprintf(stderr, "openccid-sim: one --usbredir per --profile\n");
		return 2;
	}
	if (!n_redir && (!getenv("LD_PRELOAD") ||
			 !strstr(getenv("LD_PRELOAD"), "umockdev-preload"))) {
		fprintf(stderr, "openccid-sim: must run under LD_PRELOAD=libumockdev-preload.so.0\n");
		return 2;
	}
	stats_reset();
	for (n_devs = 0; n_devs < n_profiles; n_devs++)
		if (profile_load(profiles[n_devs], &devs[n_devs], &err) < 0) {
			fprintf(stderr, "openccid-sim: %s: %s\n", profiles[n_devs],
				err ? err : "bad profile");
			return 2;
		}
	if (n_specs == 0)
		specs[n_specs++] = "builtin";
	for (unsigned i = 0; i < n_specs; i++) {
		cards[i] = card_create(specs[i], &err);
		if (!cards[i] && err) {
			fprintf(stderr, "openccid-sim: --card %s: %s\n", specs[i], err);
			return 2;
		}
	}
	n_cards = n_specs;
	/* --card specs fill the slots in order: device 0's interface 0's
	 * slots, then its interface 1's, then device 1's */
	for (unsigned d = 0; d < n_devs; d++)
		for (unsigned i = 0; i < devs[d].n_ifaces; i++) {
			unsigned ns = devs[d].ifaces[i].ccid.bMaxSlotIndex + 1u;
			unsigned give = used < n_cards ? MIN(ns, n_cards - used) : 0;

			ccid_init(&ifaces[d][i], &devs[d].ifaces[i], cards + used, give);
			ifaces[d][i].idVendor = devs[d].idVendor;
			used += give;
		}
	if (used < n_cards)
		sim_log("warning: %u --card beyond the reader's slots ignored", n_cards - used);

	if (strlen(control) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "openccid-sim: control path too long\n");
		return 2;
	}
	strcpy(sa.sun_path, control);
	unlink(control);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 8) < 0) {
		fprintf(stderr, "openccid-sim: control socket %s: %s\n", control,
			strerror(errno));
		return 2;
	}

	loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, on_signal, NULL);
	g_unix_signal_add(SIGINT, on_signal, NULL);
	g_unix_fd_add(lfd, G_IO_IN, on_control, NULL);

	sim_lock_take();
	for (unsigned d = 0; d < n_devs; d++) {
		if (sim_backend->start(&devs[d], ifaces[d], n_redir ? redir[d] : NULL, &line,
				       &err) < 0) {
			sim_lock_give();
			fprintf(stderr, "openccid-sim: %s\n", err ? err : "backend failed");
			goto out;
		}
		/* umockdev: the testbed directory (one for all devices);
		 * usbredir: each device's address */
		if (!strstr(ready_text->str, line))
			g_string_append_printf(ready_text, "%s\n", line);
		g_free(line);
		line = NULL;
	}
	sim_lock_give();

	tmp = g_strdup_printf("%s.tmp.%d", ready, (int)getpid());
	f = fopen(tmp, "w");
	if (!f || fputs(ready_text->str, f) < 0 || fclose(f) != 0 ||
	    rename(tmp, ready) < 0) {
		fprintf(stderr, "openccid-sim: ready file %s: %s\n", ready, strerror(errno));
		g_free(tmp);
		goto out;
	}
	g_free(tmp);
	for (unsigned d = 0; d < n_devs; d++)
		sim_log("ready: device %u profile %s (%04x:%04x), %u interface(s), %s %s",
			d, devs[d].name, devs[d].idVendor, devs[d].idProduct,
			devs[d].n_ifaces, sim_backend->name, n_redir ? redir[d] : ready_text->str);

	g_main_loop_run(loop);
	rc = 0;
out:
	sim_lock_take();
	sim_backend->stop();
	sim_lock_give();
	for (unsigned i = 0; i < n_cards; i++)
		if (cards[i] && cards[i]->ops->destroy)
			cards[i]->ops->destroy(cards[i]);
	close(lfd);
	unlink(control);
	g_string_free(ready_text, TRUE);
	sim_log("exit %d", rc);
	return rc;
}
