/*
 * openccid - trace recording transport (see trace_rec.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "transport/trace_rec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "codec/ccid_msg.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "codec/redact.h"
#include "codec/trace_fmt.h"

#define TRACE_PATH_MAX 4096
#define TRACE_LINE_BUF (TRACE_MAX_LINE + 64)
#define TRACE_NAME_TRIES 100

struct trace_rec {
	struct transport inner;
	atomic_uint refs;
	pthread_mutex_t lock;    /* guards everything below */
	int fd;                  /* -1 once stopped */
	uint64_t t0_ms;
	uint64_t written, cap;
	unsigned hide_out;       /* exchanges with secret command data */
	unsigned hide_in;        /* exchanges with a secret answer */
	char *line;              /* TRACE_LINE_BUF */
	uint8_t *known;          /* TRACE_MAX_DATA: redaction mask */
	uint8_t *scratch;        /* TRACE_MAX_DATA: redact_ccid_msg() out */
	char path[TRACE_PATH_MAX];
};

/* With the lock held: no more records; the file is closed. */
static void
stop_locked(struct trace_rec *t, const char *why)
{
	if (t->fd < 0)
		return;
	OC_LOG_CRIT("trace %s: recording stopped: %s", t->path, why);
	(void)close(t->fd);
	t->fd = -1;
}

static bool
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* With the lock held: t->line[0..len) to the file, within the cap. */
static void
emit_locked(struct trace_rec *t, size_t len)
{
	static const char capped[] = "# trace stopped: size cap reached\n";

	if (t->fd < 0)
		return;
	if (len > t->cap - t->written || t->written > t->cap) {
		(void)write_all(t->fd, capped, sizeof(capped) - 1);
		stop_locked(t, "size cap reached");
		return;
	}
	if (!write_all(t->fd, t->line, len)) {
		stop_locked(t, strerror(errno));
		return;
	}
	t->written += len;
}

/* With the lock held: rec (its ms is set here) as one line. */
static void
record_locked(struct trace_rec *t, struct trace_record *rec)
{
	size_t len;

	if (t->fd < 0)
		return;
	rec->ms = oc_clock_ms() - t->t0_ms;
	if (trace_fmt_record(rec, t->line, TRACE_LINE_BUF, &len) != OC_OK) {
		stop_locked(t, "record too large");
		return;
	}
	emit_locked(t, len);
}

static void
record(struct trace_rec *t, struct trace_record *rec)
{
	pthread_mutex_lock(&t->lock);
	record_locked(t, rec);
	pthread_mutex_unlock(&t->lock);
}

/* Hide [off, len) of the mask. */
static void
hide_from(uint8_t *known, size_t len, size_t off)
{
	if (off < len)
		memset(known + off, 0, len - off);
}

/*
 * With the lock held: the mask of a bulk-OUT message. The redactor is
 * asked at both TPDU and APDU level (a quirk may change the level the
 * driver uses; each layout hides from its own offset to the end), and
 * during the exchange of a secret command every payload goes. The
 * redactor's copy is wiped: outside its range it still holds the bytes.
 */
static void
redact_out_locked(struct trace_rec *t, const uint8_t *msg, size_t len)
{
	static const enum ccid_level levels[] = {CCID_XCHG_TPDU,
	    CCID_XCHG_SHORT_APDU};
	struct redact_range rr;
	size_t i;

	memset(t->known, 1, len);
	if (oc_log_show_secrets())
		return; /* the documented opt-in (README) */
	if (t->hide_out > 0) {
		hide_from(t->known, len, CCID_HDR_LEN);
		return;
	}
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		int rc = redact_ccid_msg(msg, len, levels[i], t->scratch,
		    TRACE_MAX_DATA, &rr);

		explicit_bzero(t->scratch, len);
		if (rc != OC_OK) {
			hide_from(t->known, len, CCID_HDR_LEN);
			return;
		}
		if (rr.len > 0)
			hide_from(t->known, len, rr.off);
	}
}

static int
rec_bulk_out(void *ctx, const uint8_t *buf, size_t len, unsigned timeout_ms)
{
	struct trace_rec *t = ctx;
	struct trace_record r = {.kind = TRACE_OUT};
	int rc = t->inner.ops->bulk_out(t->inner.ctx, buf, len, timeout_ms);

	pthread_mutex_lock(&t->lock);
	if (len > TRACE_MAX_DATA) {
		stop_locked(t, "bulk-OUT message too large");
	} else {
		redact_out_locked(t, buf, len);
		r.rc = rc;
		r.data = buf;
		r.known = t->known;
		r.data_len = len;
		record_locked(t, &r);
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

/* A read's record: the bytes, or why there were none. */
static void
record_read(struct trace_rec *t, enum trace_kind kind, int rc,
    const uint8_t *buf, size_t got)
{
	struct trace_record r = {.kind = kind, .rc = rc};

	if (rc == OC_OK) {
		r.data = buf;
		r.data_len = got > TRACE_MAX_DATA ? TRACE_MAX_DATA : got;
	}
	pthread_mutex_lock(&t->lock);
	/* A secret answer: its header only (a replay gets zeros). */
	if (kind == TRACE_IN && t->hide_in > 0 && r.data_len > 0 &&
	    !oc_log_show_secrets()) {
		memset(t->known, 1, r.data_len);
		hide_from(t->known, r.data_len, CCID_HDR_LEN);
		r.known = t->known;
	}
	record_locked(t, &r);
	pthread_mutex_unlock(&t->lock);
}

static int
rec_bulk_in(void *ctx, uint8_t *buf, size_t cap, size_t *got,
    unsigned timeout_ms)
{
	struct trace_rec *t = ctx;
	int rc = t->inner.ops->bulk_in(t->inner.ctx, buf, cap, got,
	    timeout_ms);

	record_read(t, TRACE_IN, rc, buf, rc == OC_OK ? *got : 0);
	return rc;
}

/*
 * Timeouts and cancels of the interrupt pipe are the host's doing (the
 * poll's deadline, a stop), not the device's: not recorded.
 */
static int
rec_intr_in(void *ctx, uint8_t *buf, size_t cap, size_t *got,
    unsigned timeout_ms)
{
	struct trace_rec *t = ctx;
	int rc = t->inner.ops->intr_in(t->inner.ctx, buf, cap, got,
	    timeout_ms);

	if (rc != OC_ETIMEDOUT && rc != OC_ECANCELED)
		record_read(t, TRACE_INTR, rc, buf, rc == OC_OK ? *got : 0);
	return rc;
}

static int
rec_control(void *ctx, uint8_t bmRequestType, uint8_t bRequest,
    uint16_t wValue, uint8_t *data, size_t len, size_t *got,
    unsigned timeout_ms)
{
	struct trace_rec *t = ctx;
	bool in = (bmRequestType & 0x80u) != 0;
	struct trace_record r = {.kind = TRACE_CTL, .type = bmRequestType,
	    .req = bRequest, .value = wValue};
	int rc = t->inner.ops->control(t->inner.ctx, bmRequestType, bRequest,
	    wValue, data, len, got, timeout_ms);

	r.rc = rc;
	r.len = len > 0xffff ? 0xffff : (uint32_t)len;
	r.data = data;
	/* Device-to-host: what came back; host-to-device: what was sent. */
	r.data_len = in ? (rc == OC_OK && got != NULL ? *got : 0) : len;
	if (r.data_len > r.len)
		r.data_len = r.len;
	pthread_mutex_lock(&t->lock);
	/* Transports that carry commands in control transfers (ICCD). */
	if ((in ? t->hide_in : t->hide_out) > 0 && r.data_len > 0 &&
	    !oc_log_show_secrets()) {
		memset(t->known, 0, r.data_len);
		r.known = t->known;
	}
	record_locked(t, &r);
	pthread_mutex_unlock(&t->lock);
	return rc;
}

static int
rec_clear_halt(void *ctx, int in)
{
	struct trace_rec *t = ctx;
	struct trace_record r = {.kind = TRACE_HALT, .ep_in = in != 0};

	r.rc = t->inner.ops->clear_halt(t->inner.ctx, in);
	record(t, &r);
	return r.rc;
}

static void
rec_cancel_intr(void *ctx)
{
	struct trace_rec *t = ctx;

	t->inner.ops->cancel_intr(t->inner.ctx);
}

static void
rec_close(void *ctx)
{
	struct trace_rec *t = ctx;

	t->inner.ops->close(t->inner.ctx);
	t->inner.ops = NULL;
	trace_rec_unref(t);
}

static const struct transport_ops rec_ops = {
	.bulk_out = rec_bulk_out,
	.bulk_in = rec_bulk_in,
	.intr_in = rec_intr_in,
	.control = rec_control,
	.clear_halt = rec_clear_halt,
	.cancel_intr = rec_cancel_intr,
	.close = rec_close,
};

struct trace_rec *
trace_rec_of(const struct transport *tr)
{
	return tr != NULL && tr->ops == &rec_ops ? tr->ctx : NULL;
}

void
trace_rec_ref(struct trace_rec *t)
{
	if (t != NULL)
		atomic_fetch_add(&t->refs, 1);
}

void
trace_rec_unref(struct trace_rec *t)
{
	if (t == NULL || atomic_fetch_sub(&t->refs, 1) != 1)
		return;
	if (t->fd >= 0)
		(void)close(t->fd);
	pthread_mutex_destroy(&t->lock);
	free(t->line);
	free(t->known);
	free(t->scratch);
	free(t);
}

void
trace_rec_host(struct trace_rec *t, const struct trace_record *rec)
{
	struct trace_record r;

	if (t == NULL)
		return;
	r = *rec;
	record(t, &r);
}

static void
count(unsigned *n, int delta)
{
	if (delta > 0)
		(*n)++;
	else if (*n > 0)
		(*n)--;
}

void
trace_rec_hide(struct trace_rec *t, bool out, bool in, int delta)
{
	if (t == NULL)
		return;
	pthread_mutex_lock(&t->lock);
	if (out)
		count(&t->hide_out, delta);
	if (in)
		count(&t->hide_in, delta);
	pthread_mutex_unlock(&t->lock);
}

const char *
trace_rec_path(const struct trace_rec *t)
{
	return t != NULL ? t->path : "";
}

/*
 * The directory a trace may be written to: opened without following a
 * link, owned by root or by pcscd's own user, not writable by group or
 * others (anyone else could plant, swap or read files there). NULL why:
 * accepted, *dfd open; else why names what is wrong.
 */
static int
open_trace_dir(const char *dir, int *dfd, const char **why)
{
	struct stat st;
	int fd;

	*why = NULL;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if ((errno == ENOTDIR || errno == ELOOP) &&
		    lstat(dir, &st) == 0 && S_ISLNK(st.st_mode)) {
			*why = "a symbolic link";
			return OC_EACCES;
		}
		return OC_EIO; /* errno tells */
	}
	if (fstat(fd, &st) != 0) {
		(void)close(fd);
		return OC_EIO;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid())
		*why = "not owned by root or by pcscd's user";
	else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		*why = "writable by group or others";
	if (*why != NULL) {
		(void)close(fd);
		return OC_EACCES;
	}
	*dfd = fd;
	return OC_OK;
}

/*
 * Bytes of the trace files (openccid-*.trace, regular) already in the
 * checked directory: the bound on all files together (README).
 */
static uint64_t
dir_trace_bytes(int dfd)
{
	uint64_t sum = 0;
	struct dirent *e;
	struct stat st;
	DIR *d;
	int fd = dup(dfd);

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			(void)close(fd);
		return UINT64_MAX; /* unknown: no room */
	}
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);

		if (strncmp(e->d_name, "openccid-", 9) != 0 || n < 6 ||
		    strcmp(e->d_name + n - 6, ".trace") != 0)
			continue;
		if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && st.st_size > 0)
			sum += (uint64_t)st.st_size;
	}
	(void)closedir(d);
	return sum;
}

/*
 * <dir>/openccid-VVVV-PPPP-bBBB-aAAA-ifN-<UTC time>-<pid>-<n>.trace, n
 * the first number whose name is free (two opens in one second), created
 * relative to the checked directory (openat), never through a link.
 */
static int
create_file(struct trace_rec *t, const char *dir, const struct usb_info *u,
    const char **why)
{
	char stamp[32] = "unknown";
	const char *name;
	struct tm tm;
	time_t now = time(NULL);
	unsigned seq;
	uint64_t used;
	int n, dfd = -1, rc;

	if ((rc = open_trace_dir(dir, &dfd, why)) != OC_OK)
		return rc;
	used = dir_trace_bytes(dfd);
	if (used >= TRACE_REC_TOTAL_BYTES) {
		*why = "its trace files reach the total bound";
		(void)close(dfd);
		return OC_ENOSPC;
	}
	if (t->cap > TRACE_REC_TOTAL_BYTES - used)
		t->cap = TRACE_REC_TOTAL_BYTES - used;
	if (gmtime_r(&now, &tm) != NULL)
		(void)strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (seq = 0; seq < TRACE_NAME_TRIES; seq++) {
		n = snprintf(t->path, sizeof(t->path),
		    "%s/openccid-%04x-%04x-b%03u-a%03u-if%u-%s-%ld-%u.trace",
		    dir, u->vid, u->pid, u->bus, u->addr, u->interface, stamp,
		    (long)getpid(), seq);
		if (n < 0 || (size_t)n >= sizeof(t->path)) {
			(void)close(dfd);
			return OC_ERANGE;
		}
		name = t->path + strlen(dir) + 1;
		/* Never follow a planted link, never reuse a planted file. */
		t->fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL |
			O_NOFOLLOW | O_CLOEXEC, S_IRUSR | S_IWUSR);
		if (t->fd >= 0 || errno != EEXIST)
			break;
	}
	(void)close(dfd);
	if (t->fd < 0)
		return OC_EIO;
	/* The umask may only have removed bits; make it exactly 0600. */
	(void)fchmod(t->fd, S_IRUSR | S_IWUSR);
	return OC_OK;
}

static void
device_of(const struct usb_info *u, uint32_t options, struct trace_device *d)
{
	memset(d, 0, sizeof(*d));
	d->vid = u->vid;
	d->pid = u->pid;
	d->bcdDevice = u->bcdDevice;
	d->bus = u->bus;
	d->addr = u->addr;
	d->interface = u->interface;
	d->bInterfaceProtocol = u->bInterfaceProtocol;
	d->bInterfaceClass = u->bInterfaceClass;
	d->has_intr = u->has_intr;
	d->desc_after_endpoints = u->desc_after_endpoints;
	d->driver_options = options;
	d->desc_len = u->desc_raw_len > TRACE_DESC_MAX ? TRACE_DESC_MAX
						       : u->desc_raw_len;
	memcpy(d->desc, u->desc_raw, d->desc_len);
	(void)snprintf(d->manufacturer, sizeof(d->manufacturer), "%s",
	    u->manufacturer);
	(void)snprintf(d->product, sizeof(d->product), "%s", u->product);
	(void)snprintf(d->serial, sizeof(d->serial), "%s", u->serial);
}

static struct trace_rec *
rec_new(void)
{
	struct trace_rec *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->fd = -1;
	t->line = malloc(TRACE_LINE_BUF);
	t->known = malloc(TRACE_MAX_DATA);
	t->scratch = malloc(TRACE_MAX_DATA);
	pthread_mutex_init(&t->lock, NULL);
	atomic_init(&t->refs, 1);
	if (t->line == NULL || t->known == NULL || t->scratch == NULL) {
		trace_rec_unref(t);
		return NULL;
	}
	return t;
}

struct trace_rec *
trace_rec_start(const char *dir, struct transport *tr,
    const struct usb_info *info, uint32_t driver_options, uint64_t cap_bytes)
{
	struct trace_record call = {.kind = TRACE_CALL, .op = TRACE_OP_OPEN};
	struct trace_device *d = NULL;
	struct trace_rec *t;
	const char *why = NULL;
	size_t len;

	if (dir == NULL || dir[0] == '\0' || (t = rec_new()) == NULL)
		return NULL;
	t->cap = cap_bytes; /* create_file() lowers it to the total's rest */
	if (create_file(t, dir, info, &why) != OC_OK) {
		if (why != NULL)
			OC_LOG_CRIT("trace directory %s refused (%s): reader "
				    "not traced", dir, why);
		else
			OC_LOG_CRIT("cannot create a trace file in %s (%s): "
				    "reader not traced", dir, strerror(errno));
		trace_rec_unref(t);
		return NULL;
	}
	t->t0_ms = oc_clock_ms();
	if ((d = malloc(sizeof(*d))) != NULL) {
		device_of(info, driver_options, d);
		if (trace_fmt_header(d, t->line, TRACE_LINE_BUF, &len) ==
		    OC_OK)
			emit_locked(t, len);
		else
			stop_locked(t, "header does not fit");
		free(d);
	} else {
		stop_locked(t, "out of memory");
	}
	record(t, &call);
	OC_LOG_INFO("recording a trace of interface %u to %s",
	    info->interface, t->path);
	t->inner = *tr;
	tr->ops = &rec_ops;
	tr->ctx = t;
	/* One reference for the transport, one for the caller. */
	trace_rec_ref(t);
	return t;
}

void
trace_rec_opened(struct trace_rec *t, long ifd)
{
	struct trace_record r = {.kind = TRACE_RET, .op = TRACE_OP_OPEN,
	    .ifd = ifd};

	if (t == NULL)
		return;
	record(t, &r);
	trace_rec_unref(t);
}
