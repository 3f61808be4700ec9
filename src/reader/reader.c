/*
 * openccid - reader objects and the reader table (see reader.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "reader/reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ccid/iccd.h"
#include "codec/iccd_msg.h"
#include "base/err.h"
#include "base/log.h"
#include "quirks/reader_notes.h"

#define READER_DRAIN_MAX 8 /* interrupt messages drained at open */

/*
 * The driver's only global mutable state: the reader table, and the
 * quirk table it builds at the first open (written under table_lock
 * while no reader refers to it, read-only afterwards).
 */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t table_idle = PTHREAD_COND_INITIALIZER;
static struct reader *table[READER_MAX];
static struct quirk_table quirk_tab;
static bool quirk_tab_built;

static bool
lun_index(unsigned long lun, size_t *idx)
{
	if ((lun >> 16) >= READER_MAX)
		return false;
	*idx = (size_t)(lun >> 16);
	return true;
}

unsigned
reader_slot_of(unsigned long lun)
{
	return (unsigned)(lun & 0xffff);
}

/*
 * Quirk interfaces_exclusive (a reader that deadlocks when two of its
 * CCID interfaces exchange at once, e.g. Gemalto Prox-DU/SU): join the
 * exchange group of another open interface of the same device, or start
 * one. Before the first exchange, so the open itself is serialised too.
 * An interface still closing (out of the table already) keeps its own
 * reference, so its last power-off may overlap a re-opened sibling's
 * first command; pcscd opens and closes a device's interfaces together.
 */
static int
reader_join_group(struct reader *r)
{
	struct xchg_group *g = NULL;
	size_t i;

	pthread_mutex_lock(&table_lock);
	for (i = 0; i < READER_MAX && g == NULL; i++)
		if (table[i] != NULL && table[i]->group != NULL &&
		    table[i]->info.bus == r->info.bus &&
		    table[i]->info.addr == r->info.addr)
			g = table[i]->group;
	if (g == NULL && (g = calloc(1, sizeof(*g))) != NULL)
		pthread_mutex_init(&g->lock, NULL);
	if (g != NULL)
		g->refs++;
	pthread_mutex_unlock(&table_lock);
	if (g == NULL)
		return OC_ENOMEM;
	r->group = g;
	r->io.group_lock = &g->lock;
	OC_LOG_INFO("interface %u: exchanges serialised with the device's "
		    "other CCID interfaces (quirk interfaces_exclusive, %u "
		    "open)", r->info.interface, g->refs);
	return OC_OK;
}

static void
reader_leave_group(struct reader *r)
{
	struct xchg_group *g = r->group;
	bool last;

	if (g == NULL)
		return;
	pthread_mutex_lock(&table_lock);
	last = --g->refs == 0;
	pthread_mutex_unlock(&table_lock);
	r->group = NULL;
	r->io.group_lock = NULL;
	if (last) {
		pthread_mutex_destroy(&g->lock);
		free(g);
	}
}

static void
reader_free(struct reader *r)
{
	unsigned i;

	if (r == NULL)
		return;
	if (r->io.tr.ops != NULL)
		r->io.tr.ops->close(r->io.tr.ctx);
	reader_leave_group(r);
	iccd_detach(&r->io);
	for (i = 0; i < CCID_MAX_SLOTS; i++)
		pthread_mutex_destroy(&r->slot_lock[i]);
	ccid_io_fini(&r->io);
	events_fini(&r->ev);
	free(r->msg_buf);
	free(r->slots);
	free(r);
}

static bool
any_reader_locked(void)
{
	size_t i;

	for (i = 0; i < READER_MAX; i++)
		if (table[i] != NULL)
			return true;
	return false;
}

const struct quirk_table *
reader_quirks(void)
{
	pthread_mutex_lock(&table_lock);
	if (!quirk_tab_built) {
		(void)quirks_glue_build(&quirk_tab, quirks_glue_dir());
		quirk_tab_built = true;
	}
	pthread_mutex_unlock(&table_lock);
	return &quirk_tab;
}

int
reader_quirks_reload(const char *dir)
{
	int rc = OC_OK;

	pthread_mutex_lock(&table_lock);
	if (any_reader_locked()) {
		rc = OC_EBUSY;
	} else {
		(void)quirks_glue_build(&quirk_tab, dir);
		quirk_tab_built = true;
	}
	pthread_mutex_unlock(&table_lock);
	return rc;
}

static struct reader *
reader_new(const struct transport *tr, const struct usb_info *info)
{
	struct reader *r;
	size_t max_msg = info->desc.dwMaxCCIDMessageLength;
	unsigned i;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	for (i = 0; i < CCID_MAX_SLOTS; i++)
		pthread_mutex_init(&r->slot_lock[i], NULL);
	r->info = *info;
	/* ccid_desc_parse() capped bMaxSlotIndex and the message length. */
	r->nslots = (unsigned)info->desc.bMaxSlotIndex + 1;
	if (r->nslots > CCID_MAX_SLOTS)
		r->nslots = CCID_MAX_SLOTS;
	r->slots = calloc(r->nslots, sizeof(*r->slots));
	r->msg_buf = malloc(max_msg);
	ccid_io_init(&r->io, tr, max_msg, info->desc.level, r->msg_buf);
	(void)snprintf(r->io.name, sizeof(r->io.name), "%04x:%04x",
	    (unsigned)info->vid, (unsigned)info->pid);
	events_init(&r->ev, r->nslots);
	if (r->slots == NULL || r->msg_buf == NULL ||
	    ccid_io_set_slots(&r->io, r->nslots,
		info->desc.bMaxCCIDBusySlots) != OC_OK) {
		reader_free(r);
		return NULL;
	}
	return r;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * Quirk open_drain_interrupt_ms: a notification left in the interrupt
 * pipe from before the open is read and dropped (bounded).
 */
static void
reader_drain_interrupt(struct reader *r)
{
	uint8_t buf[64];
	size_t got;
	unsigned i;

	for (i = 0; i < READER_DRAIN_MAX; i++) {
		got = 0;
		if (r->io.tr.ops->intr_in(r->io.tr.ctx, buf, sizeof(buf), &got,
			r->qk.open_drain_ms) != OC_OK)
			break;
		OC_LOG_INFO("dropped a %zu-byte interrupt message left from "
			    "before the open", got);
	}
}

/*
 * First contact: a GetSlotStatus. A reader left mid-command by a previous
 * user may miss the first ones, so it is tried open_warmup_tries times
 * with the short warm-up timeout, then once with the open timeout.
 */
static int
reader_warmup(struct reader *r)
{
	struct ccid_status st;
	unsigned saved = r->io.timeout_ms, i;
	int rc = OC_EIO;

	/* Not in the table yet: nobody else uses io. */
	if (r->qk.warmup_timeout_ms != 0)
		r->io.timeout_ms = r->qk.warmup_timeout_ms;
	for (i = 0; i <= r->qk.warmup_tries; i++) {
		if (i == r->qk.warmup_tries)
			r->io.timeout_ms = r->qk.open_timeout_ms != 0
			    ? r->qk.open_timeout_ms : saved;
		rc = ccid_run_slot_status(&r->io, 0, &st);
		if (rc == OC_OK || rc == OC_ENODEV || rc == OC_EACCES)
			break;
		/* The last try at the longer timeout is for slow readers. */
		if (rc != OC_ETIMEDOUT && i + 1 == r->qk.warmup_tries)
			break;
	}
	r->io.timeout_ms = saved;
	return rc;
}

/*
 * An ICCD token (bInterfaceProtocol 1 or 2) takes its commands on the
 * control pipe (ccid/iccd.h); its name goes into every error line.
 */
static int
reader_attach_iccd(struct reader *r)
{
	char name[64];
	uint8_t v = r->info.bInterfaceProtocol;

	if (v != ICCD_VERSION_A && v != ICCD_VERSION_B)
		return OC_OK;
	(void)snprintf(name, sizeof(name), "ICCD-%c %04x:%04x \"%.24s\"",
	    v == ICCD_VERSION_A ? 'A' : 'B', r->info.vid, r->info.pid,
	    r->info.product);
	OC_LOG_INFO("%s: commands on the control pipe", name);
	return iccd_attach(&r->io, v, r->qk.iccd_max_transfer, name);
}

/*
 * Quirk iccd_open_power_cycle (reference P9): an ICCD token's state
 * machine starts clean after PowerOff, PowerOn, PowerOff. A failure is
 * logged only: the warm-up after it decides whether the token answers.
 */
static void
reader_iccd_power_cycle(struct reader *r)
{
	struct ccid_status st;
	uint8_t atr[64]; /* the longest ATR is 33 bytes */
	size_t n = 0;
	int rc;

	if (r->io.iccd == NULL || !r->qk.iccd_power_cycle)
		return;
	rc = ccid_run_power_off(&r->io, 0, &st);
	if (rc == OC_OK)
		rc = ccid_run_power_on(&r->io, 0, 0, atr, sizeof(atr), &n, &st);
	if (rc == OC_OK)
		rc = ccid_run_power_off(&r->io, 0, &st);
	if (rc != OC_OK)
		OC_LOG_INFO("ICCD power cycle at open: %s", oc_strerror(rc));
}

/* The open sequence the reader's quirks ask for, then the warm-up. */
static int
reader_first_contact(struct reader *r)
{
	if (r->qk.open_delay_ms != 0) {
		OC_LOG_INFO("waiting %u ms before the first command (quirk)",
		    r->qk.open_delay_ms);
		sleep_ms(r->qk.open_delay_ms);
	}
	if (r->qk.open_drain_ms != 0)
		reader_drain_interrupt(r);
	reader_iccd_power_cycle(r);
	return reader_warmup(r);
}

/* A reader the shipped list marks unsupported: why (bundle/readers.list). */
static void
reader_log_list_note(const struct usb_info *info)
{
	const char *note = reader_note_find(info->vid, info->pid);

	if (note != NULL)
		OC_LOG_INFO("usb:%04x/%04x is listed as unsupported: %s",
		    info->vid, info->pid, note);
}

/* Quirks of the device: lookup, log, firmware check, descriptor fixes. */
static int
reader_quirks_for(const struct usb_info *info, uint32_t driver_options,
    struct quirk_set *qs, struct usb_info *fixed)
{
	const struct quirk_table *t = reader_quirks();

	pthread_mutex_lock(&table_lock);
	quirks_lookup(t, info->vid, info->pid, info->bcdDevice,
	    info->interface, qs);
	pthread_mutex_unlock(&table_lock);
	/* Which interface the rows below belong to (composite devices). */
	OC_LOG_INFO("quirk rows of usb:%04x/%04x bcdDevice %04x interface %u:",
	    info->vid, info->pid, info->bcdDevice, info->interface);
	quirks_glue_log(qs);
	reader_log_list_note(info);
	if (quirks_glue_check_firmware(qs, info, driver_options) != OC_OK)
		return OC_ENOTSUP;
	*fixed = *info;
	quirks_glue_apply_desc(qs, fixed);
	return OC_OK;
}

static void
log_reader(const struct reader *r)
{
	const struct ccid_desc *d = &r->info.desc;

	OC_LOG_INFO("%04x:%04x \"%s %s\" bcdDevice %04x, %u slot(s), %s "
		    "level, dwMaxCCIDMessageLength %u",
	    r->info.vid, r->info.pid, r->info.manufacturer, r->info.product,
	    r->info.bcdDevice, r->nslots, ccid_level_name(d->level),
	    (unsigned)d->dwMaxCCIDMessageLength);
}

int
reader_open_with_transport(unsigned long lun, const struct transport *tr,
    const struct usb_info *info, uint32_t driver_options)
{
	struct quirk_set *qs;
	struct usb_info *fixed;
	struct reader *r = NULL;
	size_t idx;
	int rc;

	if (!lun_index(lun, &idx) || reader_slot_of(lun) != 0) {
		tr->ops->close(tr->ctx);
		return OC_EINVAL;
	}
	/* Both are large: on the heap, not on pcscd's thread stack. */
	qs = malloc(sizeof(*qs));
	fixed = malloc(sizeof(*fixed));
	rc = qs == NULL || fixed == NULL ? OC_ENOMEM
	    : reader_quirks_for(info, driver_options, qs, fixed);
	if (rc == OC_OK && (r = reader_new(tr, fixed)) == NULL)
		rc = OC_ENOMEM;
	if (rc == OC_OK) {
		quirks_glue_settings(qs, fixed, &r->qk);
		quirks_glue_io(qs, &r->io);
	}
	free(qs);
	free(fixed);
	if (rc != OC_OK) {
		tr->ops->close(tr->ctx);
		return rc;
	}
	if ((rc = reader_attach_iccd(r)) != OC_OK) {
		reader_free(r); /* closes the transport */
		return rc;
	}
	if (r->qk.interfaces_exclusive && (rc = reader_join_group(r)) != OC_OK) {
		reader_free(r);
		return rc;
	}
	log_reader(r);
	if ((rc = reader_first_contact(r)) != OC_OK) {
		OC_LOG_CRIT("reader does not answer: %s", oc_strerror(rc));
		reader_free(r);
		return rc;
	}
	r->opened_slots = 1;
	r->slot_open[0] = true;
	pthread_mutex_lock(&table_lock);
	if (table[idx] != NULL)
		rc = OC_EBUSY;
	else
		table[idx] = r;
	pthread_mutex_unlock(&table_lock);
	if (rc != OC_OK)
		reader_free(r);
	return rc;
}

int
reader_open_slot(unsigned long lun)
{
	struct reader *r;
	size_t idx;
	int rc = OC_OK;

	if (!lun_index(lun, &idx))
		return OC_EINVAL;
	pthread_mutex_lock(&table_lock);
	r = table[idx];
	if (r == NULL || r->closing)
		rc = OC_ENODEV;
	else if (reader_slot_of(lun) >= r->nslots) /* nslots is immutable */
		rc = OC_EINVAL;
	else if (r->slot_open[reader_slot_of(lun)])
		rc = OC_EBUSY;
	else {
		r->slot_open[reader_slot_of(lun)] = true;
		r->opened_slots++;
	}
	pthread_mutex_unlock(&table_lock);
	return rc;
}

/* Table entry for Lun with users++, or NULL. */
static struct reader *
take(unsigned long lun)
{
	struct reader *r = NULL;
	size_t idx;

	if (!lun_index(lun, &idx))
		return NULL;
	pthread_mutex_lock(&table_lock);
	if (table[idx] != NULL && !table[idx]->closing &&
	    reader_slot_of(lun) < table[idx]->nslots) {
		r = table[idx];
		r->users++;
	}
	pthread_mutex_unlock(&table_lock);
	return r;
}

void
reader_set_time_ext_max(unsigned long lun, unsigned ms)
{
	struct reader *r;

	if (ms == 0 || (r = take(lun)) == NULL)
		return;
	ccid_io_set_time_ext_cap(&r->io, ms);
	reader_release(r);
}

struct reader *
reader_hold(unsigned long lun)
{
	return take(lun);
}

void
reader_release(struct reader *r)
{
	pthread_mutex_lock(&table_lock);
	if (--r->users == 0 && r->closing)
		pthread_cond_broadcast(&table_idle);
	pthread_mutex_unlock(&table_lock);
}

struct reader *
reader_get(unsigned long lun)
{
	struct reader *r = take(lun);

	/* Taken outside the table lock: a slow slot never blocks others. */
	if (r != NULL)
		pthread_mutex_lock(&r->slot_lock[reader_slot_of(lun)]);
	return r;
}

void
reader_put(struct reader *r, unsigned long lun)
{
	pthread_mutex_unlock(&r->slot_lock[reader_slot_of(lun)]);
	reader_release(r);
}

void
reader_mark_gone(struct reader *r)
{
	ccid_io_mark_gone(&r->io);
	events_shutdown(&r->ev, &r->io.tr, true);
}

/* Power the slot off if it is powered; the device may already be gone. */
static void
slot_shutdown(struct reader *r, unsigned slot)
{
	pthread_mutex_lock(&r->slot_lock[slot]);
	if (r->slots[slot].powered && !ccid_io_is_gone(&r->io))
		(void)slot_power_down(r, slot);
	pthread_mutex_unlock(&r->slot_lock[slot]);
}

/*
 * Close one slot; the last one closes the device. The poller of a
 * closing slot is stopped (pcscd normally did that already).
 */
void
reader_close(unsigned long lun)
{
	struct reader *r = NULL;
	unsigned slot = reader_slot_of(lun), i;
	bool last = false;
	size_t idx;

	if (!lun_index(lun, &idx))
		return;
	pthread_mutex_lock(&table_lock);
	r = table[idx];
	if (r != NULL && slot < r->nslots && r->slot_open[slot]) {
		r->slot_open[slot] = false;
		last = --r->opened_slots == 0;
		if (last) {
			r->closing = true;
			table[idx] = NULL;
		} else {
			r->users++;
		}
	} else {
		r = NULL;
	}
	pthread_mutex_unlock(&table_lock);
	if (r == NULL)
		return;
	if (!last) {
		events_stop(&r->ev, &r->io.tr, slot);
		slot_shutdown(r, slot);
		reader_release(r);
		return;
	}
	events_shutdown(&r->ev, &r->io.tr, false);
	pthread_mutex_lock(&table_lock);
	/* Users hold bounded operations; wait for them to finish. */
	while (r->users > 0)
		pthread_cond_wait(&table_idle, &table_lock);
	pthread_mutex_unlock(&table_lock);
	for (i = 0; i < r->nslots; i++)
		slot_shutdown(r, i);
	reader_free(r);
}

bool
reader_usb_in_use(void *arg, uint8_t bus, uint8_t addr, uint8_t interface)
{
	bool used = false;
	size_t i;

	(void)arg;
	pthread_mutex_lock(&table_lock);
	for (i = 0; i < READER_MAX && !used; i++)
		used = table[i] != NULL && table[i]->info.bus == bus &&
		    table[i]->info.addr == addr &&
		    table[i]->info.interface == interface;
	pthread_mutex_unlock(&table_lock);
	return used;
}

void
reader_usb_discovery(void *arg, uint16_t vid, uint16_t pid,
    uint16_t bcdDevice, uint8_t interface, struct usb_discovery *out)
{
	const struct quirk_table *t = reader_quirks();
	/* About 1 KiB: on the heap, not on pcscd's thread stack. */
	struct quirk_set *qs = malloc(sizeof(*qs));

	(void)arg;
	memset(out, 0, sizeof(*out));
	if (qs == NULL)
		return;
	pthread_mutex_lock(&table_lock);
	quirks_lookup(t, vid, pid, bcdDevice, interface, qs);
	pthread_mutex_unlock(&table_lock);
	discovery_from_quirks(qs, out);
	free(qs);
}

const struct usb_hooks reader_usb_hooks = {
	.in_use = reader_usb_in_use,
	.discovery = reader_usb_discovery,
	.arg = NULL,
};
