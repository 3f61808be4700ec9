/*
 * openccid-replay - replay recorded traces through the driver's own code.
 *
 * For each TRACE: the reader is rebuilt from the trace header with
 * reader_open_with_transport() over the replay transport
 * (src/transport/trace_replay.h), the recorded IFDH calls are issued in order
 * through the same IFDH* entry points pcscd calls, and every result (IFD
 * code, ATR, response bytes; "??" matches anything) must match the
 * trace, which must be consumed whole. Prints PASS or FAIL with the
 * first difference; exits 0 when every trace passes, 1 when one fails,
 * 2 on usage or unreadable files.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ifdhandler.h>

#include "ifd/ifd_poll.h"
#include "base/err.h"
#include "base/file_read.h"
#include "base/log.h"
#include "reader/reader.h"
#include "codec/trace_names.h"
#include "codec/trace_parse.h"
#include "pcscd_log.h"
#include "transport/trace_replay.h"
#include "transport/usb.h"

#define REPLAY_LUN 0x0UL
#define REPLAY_SYNC_MS 5000  /* interrupt data the driver must read */
#define REPLAY_POLL_MS 500   /* one poll of the replay's poller */
#define REPLAY_BUF (TRACE_MAX_DATA + 16)

/* libocc_core's ifdhandler.c opens USB devices; a replay never does. */
int
usb_open(const struct devname *dn, const struct usb_hooks *hooks,
    struct transport *tr, struct usb_info *info)
{
	(void)dn, (void)hooks, (void)tr, (void)info;
	return OC_ENODEV;
}

struct poller {
	pthread_t th;
	bool running;
	volatile bool stop; /* written before ifdh_stop_poll(), read after */
	RESPONSECODE (*fn)(DWORD, int);
	unsigned long lun;
	struct trace_replay *rp;
};

struct replay {
	struct trace t;
	struct trace_replay *rp;
	struct transport tr;
	struct usb_info info;
	bool open[CCID_MAX_SLOTS];
	struct poller poll[CCID_MAX_SLOTS];
	uint8_t *in, *out;
	/* the call issued and not yet compared with its ret */
	bool pending;
	size_t call_idx;
	long ifd;
	size_t out_len;
	unsigned calls;
};

/* The usb_info usb_open() filled, rebuilt from the header. */
static int
info_from_header(const struct trace_device *d, struct usb_info *u,
    char *err, size_t cap)
{
	int rc;

	memset(u, 0, sizeof(*u));
	u->vid = d->vid;
	u->pid = d->pid;
	u->bcdDevice = d->bcdDevice;
	u->bus = d->bus;
	u->addr = d->addr;
	u->interface = d->interface;
	u->bInterfaceProtocol = d->bInterfaceProtocol;
	u->has_intr = d->has_intr;
	u->bInterfaceClass = d->bInterfaceClass;
	u->desc_after_endpoints = d->desc_after_endpoints;
	(void)snprintf(u->manufacturer, sizeof(u->manufacturer), "%s",
	    d->manufacturer);
	(void)snprintf(u->product, sizeof(u->product), "%s", d->product);
	(void)snprintf(u->serial, sizeof(u->serial), "%s", d->serial);
	memcpy(u->desc_raw, d->desc, d->desc_len);
	u->desc_raw_len = d->desc_len;
	/* The same decoder as usb_open(), vendor type as class 0xFF allows. */
	rc = ccid_desc_parse(d->desc, d->desc_len, d->bInterfaceClass == 0xFF,
	    &u->desc, &u->desc_warnings);
	if (rc != OC_OK)
		(void)snprintf(err, cap, "header: class descriptor rejected "
					 "(%s)", oc_strerror(rc));
	return rc;
}

static void *
poller_main(void *arg)
{
	struct poller *p = arg;

	while (!p->stop)
		if (p->fn((DWORD)p->lun, REPLAY_POLL_MS) != IFD_SUCCESS)
			break;
	trace_replay_poller_gone(p->rp);
	return NULL;
}

static void
poller_start(struct replay *rp, unsigned slot, const uint8_t *val,
    size_t len)
{
	struct poller *p = &rp->poll[slot];

	if (p->running || len != sizeof(p->fn))
		return;
	memcpy(&p->fn, val, sizeof(p->fn));
	p->stop = false;
	p->lun = REPLAY_LUN | slot;
	p->rp = rp->rp;
	p->running = pthread_create(&p->th, NULL, poller_main, p) == 0;
}

static void
poller_stop(struct replay *rp, unsigned slot)
{
	struct poller *p = &rp->poll[slot];

	if (!p->running)
		return;
	p->stop = true;
	(void)ifdh_stop_poll((DWORD)(REPLAY_LUN | slot));
	pthread_join(p->th, NULL);
	p->running = false;
}

/* The call's input, wildcards as 00 (they only hide PIN bytes). */
static size_t
call_input(struct replay *rp, const struct trace_record *c)
{
	size_t i;

	for (i = 0; i < c->data_len; i++)
		rp->in[i] = c->known == NULL || c->known[i] ? c->data[i] : 0;
	return c->data_len;
}

static long
issue_open(struct replay *rp, unsigned slot)
{
	int rc;

	if (slot == 0)
		rc = reader_open_with_transport(REPLAY_LUN, &rp->tr, &rp->info,
		    rp->t.dev.driver_options);
	else
		rc = reader_open_slot(REPLAY_LUN | slot);
	if (rc == OC_OK)
		rp->open[slot] = true;
	return rc == OC_OK ? IFD_SUCCESS : IFD_COMMUNICATION_ERROR;
}

static long
issue_transmit(struct replay *rp, DWORD lun, const struct trace_record *c)
{
	SCARD_IO_HEADER pci = {(DWORD)c->a, sizeof(SCARD_IO_HEADER)};
	DWORD n = c->cap;
	size_t len = call_input(rp, c);
	long ifd = IFDHTransmitToICC(lun, pci, rp->in, (DWORD)len, rp->out,
	    &n, NULL);

	rp->out_len = n;
	return ifd;
}

static long
issue_misc(struct replay *rp, DWORD lun, unsigned slot,
    const struct trace_record *c)
{
	DWORD n = c->cap;
	size_t len;
	long ifd;

	switch (c->op) {
	case TRACE_OP_CONTROL:
		len = call_input(rp, c);
		ifd = IFDHControl(lun, c->a, rp->in, (DWORD)len, rp->out, n,
		    &n);
		rp->out_len = n;
		return ifd;
	case TRACE_OP_GETCAP:
		ifd = IFDHGetCapabilities(lun, c->a, &n, rp->out);
		rp->out_len = ifd == IFD_SUCCESS ? n : 0;
		if (ifd == IFD_SUCCESS &&
		    c->a == TAG_IFD_POLLING_THREAD_WITH_TIMEOUT)
			poller_start(rp, slot, rp->out, rp->out_len);
		return ifd;
	case TRACE_OP_SETCAP:
		len = call_input(rp, c);
		return IFDHSetCapabilities(lun, c->a, (DWORD)len, rp->in);
	case TRACE_OP_PRESENCE:
		return IFDHICCPresence(lun);
	case TRACE_OP_CLOSE:
		poller_stop(rp, slot);
		rp->open[slot] = false;
		return IFDHCloseChannel(lun);
	default:
		return IFD_COMMUNICATION_ERROR;
	}
}

/* Issue the recorded call c (record index idx). */
static int
issue(struct replay *rp, size_t idx, const struct trace_record *c)
{
	unsigned slot = c->slot;
	DWORD lun = (DWORD)(REPLAY_LUN | slot), n = c->cap;
	int rc;

	if (rp->pending) {
		trace_replay_fail(rp->rp, c->line, "calls overlap (a multi-slot "
		    "trace with concurrent calls cannot be replayed in order)");
		return OC_EPROTO;
	}
	if (slot >= CCID_MAX_SLOTS) {
		trace_replay_fail(rp->rp, c->line, "slot %u", slot);
		return OC_EPROTO;
	}
	if ((rc = trace_replay_sync(rp->rp, idx, REPLAY_SYNC_MS)) != OC_OK)
		return rc;
	/* pcscd opens further slots of a multi-slot reader when it starts. */
	if (c->op != TRACE_OP_OPEN && slot > 0 && !rp->open[slot])
		(void)issue_open(rp, slot);
	rp->out_len = 0;
	rp->calls++;
	switch (c->op) {
	case TRACE_OP_OPEN:
		rp->ifd = issue_open(rp, slot);
		break;
	case TRACE_OP_POWER:
		rp->ifd = IFDHPowerICC(lun, c->a, rp->out, &n);
		rp->out_len = n;
		break;
	case TRACE_OP_PROTO:
		rp->ifd = IFDHSetProtocolParameters(lun, c->a,
		    (UCHAR)(c->b & 0xff), (UCHAR)(c->b >> 8 & 0xff),
		    (UCHAR)(c->b >> 16 & 0xff), (UCHAR)(c->b >> 24));
		break;
	case TRACE_OP_TRANSMIT:
		rp->ifd = issue_transmit(rp, lun, c);
		break;
	default:
		rp->ifd = issue_misc(rp, lun, slot, c);
		break;
	}
	rp->pending = true;
	rp->call_idx = idx;
	return OC_OK;
}

static void
hex_prefix(char *dst, size_t cap, const uint8_t *b, size_t n)
{
	size_t i, o = 0;

	dst[0] = '\0';
	for (i = 0; i < n && o + 3 < cap && i < 32; i++)
		o += (size_t)snprintf(dst + o, cap - o, "%02x", b[i]);
}

/* The ret record r against what the driver returned. */
static int
compare(struct replay *rp, size_t idx, const struct trace_record *r)
{
	const struct trace_record *c = &rp->t.rec[rp->call_idx];
	char got[80];
	size_t at;
	int rc;

	if (!rp->pending || c->op != r->op || c->slot != r->slot) {
		trace_replay_fail(rp->rp, r->line, "\"ret\" without its call");
		return OC_EPROTO;
	}
	rp->pending = false;
	if ((rc = trace_replay_check_at(rp->rp, idx)) != OC_OK)
		return rc;
	if (rp->ifd != r->ifd) {
		trace_replay_fail(rp->rp, r->line, "%s returned %ld, the trace "
		    "has %ld", trace_op_name(r->op), rp->ifd, r->ifd);
		return OC_EPROTO;
	}
	if (!trace_data_match(r, rp->out, rp->out_len, &at)) {
		hex_prefix(got, sizeof(got), rp->out, rp->out_len);
		trace_replay_fail(rp->rp, r->line, "%s returned %zu bytes "
		    "(%s...) differing at byte %zu from the trace's %zu",
		    trace_op_name(r->op), rp->out_len, got, at, r->data_len);
		return OC_EPROTO;
	}
	return OC_OK;
}

/* Close what the trace left open (its transfers are past the end). */
static void
cleanup(struct replay *rp)
{
	unsigned s;

	for (s = 0; s < CCID_MAX_SLOTS; s++)
		poller_stop(rp, s);
	for (s = CCID_MAX_SLOTS; s-- > 0;)
		if (rp->open[s])
			(void)IFDHCloseChannel((DWORD)(REPLAY_LUN | s));
}

/*
 * Where replay stops: the whole trace, or, when pcscd ended during a
 * call (it exits without closing its readers), that call: its ret and
 * part of its transfers are missing, so it and what follows are left.
 */
static size_t
replay_end(const struct trace *t)
{
	size_t i, end = t->n;

	for (i = t->n; i-- > 0;) {
		if (t->rec[i].kind == TRACE_RET)
			break;
		if (t->rec[i].kind == TRACE_CALL)
			end = i;
	}
	return end;
}

static int
run(struct replay *rp)
{
	const struct trace_record *r;
	size_t i, end = replay_end(&rp->t);
	int rc = OC_OK;

	for (i = 0; i < end && rc == OC_OK; i++) {
		r = &rp->t.rec[i];
		if (r->kind == TRACE_CALL)
			rc = issue(rp, i, r);
		else if (r->kind == TRACE_RET)
			rc = compare(rp, i, r);
	}
	if (rc == OC_OK && rp->pending) {
		trace_replay_fail(rp->rp, rp->t.rec[rp->call_idx].line,
		    "the trace ends inside this call");
		rc = OC_EPROTO;
	}
	if (rc == OC_OK)
		rc = trace_replay_finish(rp->rp, end);
	return rc;
}

/* Parse path into rp->t and rp->info; 0, 1 (FAIL printed) or 2. */
static int
load(struct replay *rp, const char *path)
{
	char err[300] = "";
	uint8_t *text = NULL;
	size_t len = 0;
	int rc;

	rc = file_read_whole(path, TRACE_MAX_FILE, 0, &text, &len);
	if (rc != OC_OK) {
		fprintf(stderr, "openccid-replay: %s: %s", path,
		    file_read_strerror(rc));
		if (rc == OC_ERANGE)
			fprintf(stderr, " (a trace has at most %u bytes)",
			    TRACE_MAX_FILE);
		fprintf(stderr, "\n");
		return 2;
	}
	rc = 0;
	if (trace_parse((const char *)text, len, &rp->t, err, sizeof(err)) !=
		OC_OK ||
	    info_from_header(&rp->t.dev, &rp->info, err, sizeof(err)) !=
		OC_OK) {
		printf("%s: FAIL: %s\n", path, err);
		rc = 1;
	}
	free(text);
	return rc;
}

static int
replay_file(const char *path)
{
	struct replay *rp = calloc(1, sizeof(*rp));
	int rc = 2;

	if (rp == NULL || (rp->in = malloc(REPLAY_BUF)) == NULL ||
	    (rp->out = malloc(REPLAY_BUF)) == NULL)
		goto oom;
	if ((rc = load(rp, path)) != 0)
		goto out;
	if ((rp->rp = trace_replay_new(&rp->t)) == NULL)
		goto oom;
	trace_replay_transport(rp->rp, &rp->tr);
	rc = 1;
	if (run(rp) == OC_OK) {
		printf("%s: PASS (%u calls, %zu records)\n", path, rp->calls,
		    rp->t.n);
		rc = 0;
	} else {
		printf("%s: FAIL: %s\n", path, trace_replay_error(rp->rp));
	}
	cleanup(rp);
	goto out;
oom:
	fprintf(stderr, "openccid-replay: out of memory\n");
	rc = 2;
out:
	if (rp != NULL) {
		trace_replay_free(rp->rp);
		trace_free(&rp->t);
		free(rp->in);
		free(rp->out);
	}
	free(rp);
	return rc;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: openccid-replay [-v] TRACE...\n"
		   "Replay openccid traces through the driver; PASS or FAIL "
		   "per trace.\n");
}

int
main(int argc, char **argv)
{
	int i = 1, worst = 0, rc;

	if (i < argc && strcmp(argv[i], "-v") == 0) {
		tool_log_verbose(true);
		oc_log_set_level(OC_LOG_MASK_CRITICAL | OC_LOG_MASK_INFO |
		    OC_LOG_MASK_COMM);
		i++;
	} else {
		oc_log_set_level(0);
	}
	if (i < argc && (strcmp(argv[i], "-h") == 0 ||
			    strcmp(argv[i], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (; i < argc; i++) {
		rc = replay_file(argv[i]);
		if (rc > worst)
			worst = rc;
	}
	return worst;
}
