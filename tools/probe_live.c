/*
 * openccid-probe - live USB devices, through the driver's own transport
 * (src/transport/usb.c), descriptor parser and quirk table.
 *
 *   openccid-probe list [--json] [-s BUS:DEV] [-d VID:PID] [-q DIR]
 *   openccid-probe show [--json] [--power] [-s BUS:DEV] [-d VID:PID] [-q DIR]
 *
 * "show" adds GET_CLOCK_FREQUENCIES / GET_DATA_RATES (CCID rev 1.1
 * section 5.3), the matching quirk rows, and a quirks entry and a
 * reader-list line ready to paste for a reader the driver does not know;
 * --power powers the card of every slot and decodes its ATR.
 */
#include "config.h"

#include "pcscd_log.h"
#include "probe_live.h"
#include "probe_power.h"
#include "probe_print.h"
#include "probe_quirks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "codec/ccid_desc.h"
#include "quirks/discovery.h"
#include "base/err.h"
#include "base/log.h"
#include "quirks/quirks.h"
#include "quirks/quirks_describe.h"
#include "quirks/quirks_load.h"
#include "quirks/reader_notes.h"
#include "transport/usb.h"

#define LIST_MAX     256 /* dwords in a clock or rate list (bNum is a byte) */
#define DESCRIBE_MAX 8192

struct live {
	bool json;
	bool show;
	bool power;
	bool verbose;
	unsigned count;
	struct quirk_table *qt;
};

static void
discovery_hook(void *arg, uint16_t vid, uint16_t pid, uint16_t bcd,
    uint8_t interface, struct usb_discovery *out)
{
	const struct live *lv = arg;
	struct quirk_set *qs = malloc(sizeof(*qs));

	memset(out, 0, sizeof(*out));
	if (qs == NULL)
		return;
	quirks_lookup(lv->qt, vid, pid, bcd, interface, qs);
	discovery_from_quirks(qs, out);
	free(qs);
}

static void
report_bad_file(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "openccid-probe: quirks: %s (file ignored)\n", msg);
}

static const char *
quirks_dir(const char *opt)
{
	const char *env = getenv("OPENCCID_QUIRKS_DIR");

	if (opt != NULL)
		return opt;
	return env != NULL && env[0] != '\0' ? env : QUIRKS_DEFAULT_DIR;
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void
json_str(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static size_t
decode_list(const uint8_t *buf, size_t len, uint32_t *out, size_t cap)
{
	size_t n = 0;

	/* little-endian dwords; a trailing partial one is ignored */
	for (size_t i = 0; i + 4 <= len && n < cap; i += 4)
		out[n++] = (uint32_t)buf[i] | (uint32_t)buf[i + 1] << 8 |
		           (uint32_t)buf[i + 2] << 16 |
		           (uint32_t)buf[i + 3] << 24;
	return n;
}

struct lists {
	bool queried;
	char error[96];
	uint32_t clocks[LIST_MAX], rates[LIST_MAX];
	size_t nclocks, nrates;
	int clocks_rc, rates_rc;
	int power_rc;            /* of probe_power_slots(), with --power */
	struct probe_slot slots[CCID_MAX_SLOTS];
	unsigned nslots;
};

/* Open the interface as the driver would and ask for both lists. */
static void
query_lists(const struct usb_probe_iface *it, struct live *lv, struct lists *l)
{
	static uint8_t buf[LIST_MAX * 4];
	struct usb_hooks hooks = {NULL, discovery_hook, lv};
	struct devname dn;
	struct transport tr;
	struct usb_info info;
	size_t got = 0;
	int rc;

	memset(&dn, 0, sizeof(dn));
	dn.vid = it->info.vid;
	dn.pid = it->info.pid;
	dn.has_busaddr = true;
	dn.bus = it->info.bus;
	dn.addr = it->info.addr;
	dn.has_interface = true;
	dn.interface = it->info.interface;
	if ((rc = usb_open(&dn, &hooks, &tr, &info)) != OC_OK) {
		(void)snprintf(l->error, sizeof(l->error), "cannot open: %s",
		    oc_strerror(rc));
		return;
	}
	l->queried = true;
	l->clocks_rc = usb_class_request_in(&tr, 0x02, buf, sizeof(buf), &got);
	if (l->clocks_rc == OC_OK)
		l->nclocks = decode_list(buf, got, l->clocks, LIST_MAX);
	got = 0;
	l->rates_rc = usb_class_request_in(&tr, 0x03, buf, sizeof(buf), &got);
	if (l->rates_rc == OC_OK)
		l->nrates = decode_list(buf, got, l->rates, LIST_MAX);
	if (lv->power)
		l->power_rc = probe_power_slots(&tr, &info.desc, l->slots,
		    CCID_MAX_SLOTS, &l->nslots);
	tr.ops->close(tr.ctx);
}

/* The discovery keys a reader without quirks needs (may be none). */
static size_t
needed_keys(const struct usb_probe_iface *it, const char **keys)
{
	size_t n = 0;

	if (it->needs_vendor_class)
		keys[n++] = "vendor_class_ccid";
	if (it->needs_after_endpoints)
		keys[n++] = "class_desc_after_endpoints";
	return n;
}

static void
print_entry(const struct usb_probe_iface *it)
{
	const char *keys[2];
	size_t n = needed_keys(it, keys);

	printf("# %s %s, bcdDevice 0x%04X (openccid-probe)\n",
	    it->info.manufacturer, it->info.product, it->info.bcdDevice);
	if (n == 0) {
		printf("# no discovery quirk needed; symptom keys "
		       "(quirks/README.md) go after:\n# ");
	}
	printf("match vid=%04x pid=%04x\n", it->info.vid, it->info.pid);
	if (n > 0) {
		printf("set");
		for (size_t i = 0; i < n; i++)
			printf(" %s", keys[i]);
		printf("\n");
	}
}

static void
print_hex(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%s%02X", i ? " " : "", b[i]);
}

/* --power: each slot's state and the decoded ATR. */
static void
print_slots_text(const struct lists *l)
{
	if (!l->queried || l->nslots == 0) {
		if (l->power_rc != OC_OK)
			printf("power:                  failed: %s\n",
			    oc_strerror(l->power_rc));
		return;
	}
	for (unsigned i = 0; i < l->nslots; i++) {
		const struct probe_slot *ps = &l->slots[i];

		printf("slot %-2u                 ", i);
		if (ps->rc != OC_OK && !ps->present) {
			printf("status failed: %s\n", oc_strerror(ps->rc));
		} else if (!ps->present) {
			printf("no card\n");
		} else if (ps->rc != OC_OK) {
			printf("card present, power-on failed: %s\n",
			    oc_strerror(ps->rc));
		} else {
			printf("ATR ");
			print_hex(ps->atr, ps->atr_len);
			printf("\n");
			probe_print_atr(ps->atr, ps->atr_len, "  ");
		}
	}
}

/* The matched quirks, split by probe_quirks_split(), as text. */
struct quirks_text {
	char acts[DESCRIBE_MAX];
	char conditional[DESCRIBE_MAX];
};

static void
print_text(const struct usb_probe_iface *it, const struct lists *l,
    const struct quirks_text *q)
{
	const struct ccid_desc *d = &it->info.desc;
	const char *note;

	printf("%03u:%03u usb:%04x/%04x interface %u class 0x%02X "
	       "\"%s %s\": %s%s\n",
	    it->info.bus, it->info.addr, it->info.vid, it->info.pid,
	    it->info.interface, it->bInterfaceClass, it->info.manufacturer,
	    it->info.product,
	    it->accepted ? "CCID" : "not used: ", it->accepted ? "" : it->why);
	if (l == NULL)
		return;
	printf("bcdDevice:              0x%04X\n", it->info.bcdDevice);
	printf("bInterfaceProtocol:     %u\n", it->info.bInterfaceProtocol);
	if (it->desc_ok) {
		printf("class descriptor:       type 0x%02X, %s\n",
		    d->bDescriptorType,
		    it->info.desc_after_endpoints
		        ? "after the endpoints"
		        : "after the interface descriptor");
		probe_print_desc(d, it->info.desc_warnings);
	} else {
		printf("class descriptor:       none usable\n");
	}
	if (l->queried) {
		printf("GET_CLOCK_FREQUENCIES:  ");
		if (l->clocks_rc != OC_OK)
			printf("failed: %s", oc_strerror(l->clocks_rc));
		for (size_t i = 0; i < l->nclocks; i++)
			printf("%s%u", i ? ", " : "", l->clocks[i]);
		printf(" (kHz)\nGET_DATA_RATES:         ");
		if (l->rates_rc != OC_OK)
			printf("failed: %s", oc_strerror(l->rates_rc));
		for (size_t i = 0; i < l->nrates; i++)
			printf("%s%u", i ? ", " : "", l->rates[i]);
		printf(" (bps)\n");
	} else {
		printf("class requests:         not sent (%s)\n",
		    l->error[0] ? l->error : "interface not used");
	}
	print_slots_text(l);
	note = reader_note_find(it->info.vid, it->info.pid);
	if (note != NULL)
		printf("shipped reader list:    unsupported: %s\n", note);
	printf("quirks:\n%s", q->acts[0] ? q->acts : "  (none)\n");
	if (q->conditional[0])
		printf("quirks acting only on a run-time condition:\n%s",
		    q->conditional);
	printf("quirks entry:\n");
	print_entry(it);
	printf("reader list line (bundle/readers.list format):\n");
	printf("%04x:%04x\tlocal\t%s %s\n\n", it->info.vid, it->info.pid,
	    it->info.manufacturer, it->info.product);
}

static void
json_list(const char *name, const uint32_t *v, size_t n, int rc)
{
	printf(",\"%s\":", name);
	if (rc != OC_OK) {
		printf("null");
		return;
	}
	printf("[");
	for (size_t i = 0; i < n; i++)
		printf("%s%u", i ? "," : "", v[i]);
	printf("]");
}

/* --power: "slots":[{"slot":0,"card":true,"atr":"3B..."|null,...}] */
static void
json_slots(const struct lists *l)
{
	if (l->nslots == 0)
		return;
	printf(",\"slots\":[");
	for (unsigned i = 0; i < l->nslots; i++) {
		const struct probe_slot *ps = &l->slots[i];

		printf("%s{\"slot\":%u,\"card\":%s,\"atr\":", i ? "," : "", i,
		    ps->present ? "true" : "false");
		if (ps->present && ps->rc == OC_OK) {
			printf("\"");
			for (size_t k = 0; k < ps->atr_len; k++)
				printf("%02X", ps->atr[k]);
			printf("\"");
		} else {
			printf("null");
		}
		printf(",\"error\":");
		json_str(ps->rc == OC_OK ? "" : oc_strerror(ps->rc));
		printf("}");
	}
	printf("]");
}

static void
print_json(const struct usb_probe_iface *it, const struct lists *l,
    const struct quirks_text *q, unsigned index)
{
	const struct ccid_desc *d = &it->info.desc;
	const char *keys[2];
	size_t n = needed_keys(it, keys);
	char name[2 * USB_STR_MAX + 2];
	const char *note = reader_note_find(it->info.vid, it->info.pid);

	printf("%s{\"bus\":%u,\"address\":%u,\"vid\":\"%04x\",\"pid\":\"%04x\","
	       "\"bcdDevice\":\"0x%04x\",\"interface\":%u,\"class\":%u,",
	    index ? ",\n" : "", it->info.bus, it->info.addr, it->info.vid,
	    it->info.pid, it->info.bcdDevice, it->info.interface,
	    it->bInterfaceClass);
	printf("\"manufacturer\":");
	json_str(it->info.manufacturer);
	printf(",\"product\":");
	json_str(it->info.product);
	printf(",\"accepted\":%s,\"reason\":", it->accepted ? "true" : "false");
	json_str(it->accepted ? "" : it->why);
	printf(",\"needed_quirks\":[");
	for (size_t i = 0; i < n; i++)
		printf("%s\"%s\"", i ? "," : "", keys[i]);
	printf("]");
	if (it->desc_ok) {
		printf(",\"descriptor\":{\"bDescriptorType\":%u,"
		       "\"after_endpoints\":%s,\"bcdCCID\":%u,"
		       "\"bMaxSlotIndex\":%u,\"bVoltageSupport\":%u,"
		       "\"dwProtocols\":%u,\"dwDefaultClock\":%u,"
		       "\"dwMaximumClock\":%u,\"bNumClockSupported\":%u,"
		       "\"dwDataRate\":%u,\"dwMaxDataRate\":%u,"
		       "\"bNumDataRatesSupported\":%u,\"dwMaxIFSD\":%u,"
		       "\"dwFeatures\":%u,\"level\":\"%s\","
		       "\"dwMaxCCIDMessageLength\":%u,\"bPINSupport\":%u,"
		       "\"wLcdLayout\":%u,\"bMaxCCIDBusySlots\":%u,"
		       "\"warnings\":%u}",
		    d->bDescriptorType,
		    it->info.desc_after_endpoints ? "true" : "false",
		    d->bcdCCID, d->bMaxSlotIndex, d->bVoltageSupport,
		    d->dwProtocols, d->dwDefaultClock, d->dwMaximumClock,
		    d->bNumClockSupported, d->dwDataRate, d->dwMaxDataRate,
		    d->bNumDataRatesSupported, d->dwMaxIFSD, d->dwFeatures,
		    ccid_level_name(d->level), d->dwMaxCCIDMessageLength,
		    d->bPINSupport, d->wLcdLayout, d->bMaxCCIDBusySlots,
		    it->info.desc_warnings);
	}
	if (l != NULL && l->queried) {
		json_list("clock_frequencies_khz", l->clocks, l->nclocks,
		    l->clocks_rc);
		json_list("data_rates_bps", l->rates, l->nrates, l->rates_rc);
		json_slots(l);
	}
	if (l != NULL) {
		/* why a reader the shipped list marks unsupported is */
		printf(",\"reader_list_note\":");
		if (note != NULL)
			json_str(note);
		else
			printf("null");
		printf(",\"quirks_matched\":");
		json_str(q->acts);
		printf(",\"quirks_conditional\":");
		json_str(q->conditional);
		(void)snprintf(name, sizeof(name), "%s %s",
		    it->info.manufacturer, it->info.product);
		printf(",\"reader_list_line\":\"%04x:%04x\\tlocal\\t",
		    it->info.vid, it->info.pid);
		/* json_str() adds quotes; the name goes in the same string */
		for (const char *p = name; *p != '\0'; p++)
			if (*p == '"' || *p == '\\')
				printf("\\%c", *p);
			else if ((unsigned char)*p >= 0x20)
				putchar(*p);
		printf("\"");
	}
	printf("}");
}

/* The quirks the driver would give it, split as probe_quirks_split(). */
static int
describe_quirks(const struct live *lv, const struct usb_probe_iface *it,
    struct quirks_text *q)
{
	struct quirk_set *qs = malloc(3 * sizeof(*qs));

	if (qs == NULL)
		return OC_ENOMEM;
	quirks_lookup(lv->qt, it->info.vid, it->info.pid, it->info.bcdDevice,
	    it->info.interface, &qs[0]);
	probe_quirks_split(&qs[0], it, &qs[1], &qs[2]);
	(void)quirks_describe(&qs[1], q->acts, sizeof(q->acts));
	(void)probe_describe_conditional(
	    &qs[2], q->conditional, sizeof(q->conditional));
	free(qs);
	return OC_OK;
}

static void
on_iface(void *arg, const struct usb_probe_iface *it)
{
	struct live *lv = arg;
	struct lists *l = NULL;
	struct quirks_text *q = NULL;

	if (lv->show) {
		l = calloc(1, sizeof(*l));
		q = calloc(1, sizeof(*q));
		if (l == NULL || q == NULL ||
		    describe_quirks(lv, it, q) != OC_OK) {
			fprintf(stderr, "openccid-probe: out of memory\n");
			goto out;
		}
		if (it->accepted)
			query_lists(it, lv, l);
	}
	if (lv->json)
		print_json(it, l, q, lv->count);
	else
		print_text(it, l, q);
	lv->count++;
out:
	free(l);
	free(q);
}

/* "BUS:DEV" (decimal) or "VID:PID" (hex); -1 on junk or overflow. */
static int
parse_pair(const char *s, bool hex, unsigned max, unsigned *a, unsigned *b)
{
	char tail;
	int n = hex ? sscanf(s, "%x:%x%c", a, b, &tail)
	            : sscanf(s, "%u:%u%c", a, b, &tail);

	if (n != 2 || *a > max || *b > max)
		return -1;
	return 0;
}

int
probe_live(int argc, char **argv, bool show)
{
	struct live lv = {.show = show};
	struct usb_hooks hooks = {NULL, discovery_hook, &lv};
	const char *dir = NULL;
	struct devname dn;
	char err[320];
	unsigned a, b;
	int rc;

	memset(&dn, 0, sizeof(dn));
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			lv.json = true;
		} else if (strcmp(argv[i], "--power") == 0 && show) {
			lv.power = true;
		} else if (strcmp(argv[i], "-v") == 0) {
			lv.verbose = true;
		} else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) {
			if (parse_pair(argv[++i], false, 255, &a, &b) < 0)
				goto usage;
			dn.has_busaddr = true;
			dn.bus = (uint8_t)a;
			dn.addr = (uint8_t)b;
		} else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
			if (parse_pair(argv[++i], true, 0xffff, &a, &b) < 0)
				goto usage;
			dn.vid = (uint16_t)a;
			dn.pid = (uint16_t)b;
		} else if (strcmp(argv[i], "-q") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else {
			goto usage;
		}
	}
	if (lv.verbose) {
		tool_log_verbose(true);
		oc_log_set_level(OC_LOG_MASK_INFO | OC_LOG_MASK_CRITICAL);
	}
	if ((lv.qt = malloc(sizeof(*lv.qt))) == NULL)
		return 1;
	quirks_table_init(lv.qt);
	if (quirks_load_builtin(lv.qt, err, sizeof(err)) != OC_OK)
		fprintf(stderr, "openccid-probe: built-in quirks: %s\n", err);
	if (quirks_load_dir(lv.qt, quirks_dir(dir), report_bad_file, NULL) < 0)
		fprintf(stderr, "openccid-probe: cannot read %s\n",
		    quirks_dir(dir));
	if (lv.json)
		printf("[");
	rc = usb_probe(&dn, &hooks, on_iface, &lv);
	if (lv.json)
		printf("]\n");
	free(lv.qt);
	if (rc < 0) {
		fprintf(stderr, "openccid-probe: cannot list USB devices: %s\n",
		    oc_strerror(rc));
		return 1;
	}
	if (rc == 0)
		fprintf(stderr, "openccid-probe: no CCID interface found\n");
	return rc == 0 ? 1 : 0;
usage:
	fprintf(stderr, "usage: openccid-probe list|show [--json] [-v] "
	                "[-s BUS:DEV] [-d VID:PID] [-q QUIRKSDIR]\n"
	                "       (show also takes --power)\n");
	return 2;
}
