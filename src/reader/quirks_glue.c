/*
 * openccid - quirk keys to driver behaviour (see quirks_glue.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "reader/quirks_glue.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "quirks/quirks_describe.h"
#include "quirks/quirks_load.h"

#define DESCRIBE_MAX 8192 /* QUIRK_KEY_COUNT lines of ~100 bytes */
#define ICCD_A_PROTOCOL 1 /* bInterfaceProtocol of ICCD version A */
#define ICCD_B_PROTOCOL 2 /* bInterfaceProtocol of ICCD version B */
#define LEVEL_BITS_OF(l)                                                     \
	((l) == CCID_XCHG_TPDU		 ? CCID_LEVEL_TPDU                   \
	    : (l) == CCID_XCHG_SHORT_APDU ? CCID_LEVEL_SHORT_APDU            \
	    : (l) == CCID_XCHG_EXTENDED_APDU ? CCID_LEVEL_EXT_APDU           \
					     : CCID_LEVEL_CHAR)

const char *
quirks_glue_dir(void)
{
	const char *env = getenv(QUIRKS_ENV_DIR);

	return env != NULL && env[0] != '\0' ? env : QUIRKS_DEFAULT_DIR;
}

static void
report_bad_file(void *ctx, const char *msg)
{
	(void)ctx;
	OC_LOG_CRIT("quirks: %s (file ignored)", msg);
}

int
quirks_glue_build(struct quirk_table *t, const char *dir)
{
	char err[320];
	int rc;

	quirks_table_init(t);
	/* tools/quirks-check ran over the same text at build time. */
	if (quirks_load_builtin(t, err, sizeof(err)) != OC_OK) {
		OC_LOG_CRIT("quirks: built-in table: %s", err);
		quirks_table_init(t);
	}
	if (dir == NULL)
		return 0;
	rc = quirks_load_dir(t, dir, report_bad_file, NULL);
	if (rc < 0) {
		OC_LOG_CRIT("quirks: cannot read %s: %s", dir, oc_strerror(rc));
		return 0;
	}
	if (rc > 0)
		OC_LOG_INFO("quirks: %d run-time file(s) from %s", rc, dir);
	return rc;
}

void
quirks_glue_log(const struct quirk_set *qs)
{
	char *buf, *line, *save = NULL;

	if ((oc_log_get_level() & OC_LOG_MASK_INFO) == 0)
		return;
	if ((buf = malloc(DESCRIBE_MAX)) == NULL)
		return;
	if (quirks_describe(qs, buf, DESCRIBE_MAX) == 0)
		OC_LOG_INFO("no quirks for this reader");
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		OC_LOG_INFO("%s", line);
	free(buf);
}

int
quirks_glue_check_firmware(const struct quirk_set *qs,
    const struct usb_info *info, uint32_t driver_options)
{
	uint32_t min;

	if (!quirks_get_u32(qs, QUIRK_FIRMWARE_MIN_BCD, &min) ||
	    info->bcdDevice >= min)
		return OC_OK;
	if (driver_options & QUIRKS_OPT_OLD_FIRMWARE) {
		OC_LOG_INFO("firmware %X.%02X (bcdDevice 0x%04X) is below the "
			    "minimum 0x%04X known to work; opened anyway "
			    "(ifdDriverOptions 0x%02X)",
		    info->bcdDevice >> 8, info->bcdDevice & 0xffu,
		    info->bcdDevice, (unsigned)min, QUIRKS_OPT_OLD_FIRMWARE);
		return OC_OK;
	}
	OC_LOG_CRIT("firmware %X.%02X (bcdDevice 0x%04X) is below the minimum "
		    "0x%04X known to work: reader refused (ifdDriverOptions "
		    "0x%02X opens it anyway)",
	    info->bcdDevice >> 8, info->bcdDevice & 0xffu, info->bcdDevice,
	    (unsigned)min, QUIRKS_OPT_OLD_FIRMWARE);
	return OC_ENOTSUP;
}

static void
set_level(struct ccid_desc *d, enum ccid_level level, const char *why)
{
	if (d->level == level)
		return;
	OC_LOG_INFO("quirk %s: %s level instead of %s", why,
	    ccid_level_name(level), ccid_level_name(d->level));
	d->level = level;
	d->dwFeatures = (d->dwFeatures & ~CCID_LEVEL_MASK) |
	    LEVEL_BITS_OF(level);
}

static void
apply_msg_len(const struct quirk_set *qs, struct ccid_desc *d)
{
	uint32_t from, to;

	if (!quirks_get_u32(qs, QUIRK_MSG_LEN_FIX_FROM, &from) ||
	    !quirks_get_u32(qs, QUIRK_MSG_LEN_FIX_TO, &to) ||
	    d->dwMaxCCIDMessageLength != from)
		return;
	/* Same bounds as ccid_desc_parse(): reject rather than clamp. */
	if (to < CCID_MIN_MSG_LEN || to > CCID_MAX_MSG_LEN) {
		OC_LOG_CRIT("quirk msg_len_fix_to=%u out of %u..%u: ignored",
		    (unsigned)to, CCID_MIN_MSG_LEN, CCID_MAX_MSG_LEN);
		return;
	}
	OC_LOG_INFO("quirk msg_len_fix: dwMaxCCIDMessageLength %u -> %u",
	    (unsigned)from, (unsigned)to);
	d->dwMaxCCIDMessageLength = to;
}

/* Clock fields of a descriptor that misreports them (quirks/README.md). */
static void
apply_clocks(const struct quirk_set *qs, struct ccid_desc *d)
{
	uint32_t v;

	if (quirks_get_u32(qs, QUIRK_DEFAULT_CLOCK_KHZ, &v) &&
	    v != d->dwDefaultClock) {
		OC_LOG_INFO("quirk default_clock_khz: dwDefaultClock %u -> %u",
		    (unsigned)d->dwDefaultClock, (unsigned)v);
		d->dwDefaultClock = v;
	}
	if (quirks_get_u32(qs, QUIRK_MAX_CLOCK_KHZ, &v) &&
	    v != d->dwMaximumClock) {
		OC_LOG_INFO("quirk max_clock_khz: dwMaximumClock %u -> %u",
		    (unsigned)d->dwMaximumClock, (unsigned)v);
		d->dwMaximumClock = v;
	}
}

void
quirks_glue_apply_desc(const struct quirk_set *qs, struct usb_info *info)
{
	struct ccid_desc *d = &info->desc;
	uint32_t v;

	if (quirks_get_u32(qs, QUIRK_MAX_IFSD, &v) && v != d->dwMaxIFSD) {
		OC_LOG_INFO("quirk max_ifsd: dwMaxIFSD %u -> %u",
		    (unsigned)d->dwMaxIFSD, (unsigned)v);
		d->dwMaxIFSD = v;
	}
	if (quirks_get_u32(qs, QUIRK_MAX_DATA_RATE, &v) && v != 0 &&
	    v != d->dwMaxDataRate) {
		OC_LOG_INFO("quirk max_data_rate: dwMaxDataRate %u -> %u",
		    (unsigned)d->dwMaxDataRate, (unsigned)v);
		d->dwMaxDataRate = v;
	}
	apply_clocks(qs, d);
	apply_msg_len(qs, d);
	if (quirks_get_u32(qs, QUIRK_FORCE_LEVEL, &v) &&
	    v <= QUIRK_LEVEL_EXTENDED_APDU)
		set_level(d, (enum ccid_level)v, "force_level");
	if (d->level == CCID_XCHG_SHORT_APDU &&
	    quirks_flag(qs, QUIRK_SHORT_APDU_AS_EXTENDED))
		set_level(d, CCID_XCHG_EXTENDED_APDU, "short_apdu_as_extended");
	/* An ICCD-A token runs T=0 procedure bytes itself (iccd_a.c): the
	 * host exchanges whole TPDUs with it. */
	if (d->level == CCID_XCHG_CHARACTER &&
	    info->bInterfaceProtocol == ICCD_A_PROTOCOL)
		set_level(d, CCID_XCHG_TPDU, "ICCD version A");
	if (d->level == CCID_XCHG_SHORT_APDU &&
	    info->bInterfaceProtocol == ICCD_B_PROTOCOL &&
	    quirks_flag(qs, QUIRK_ICCD_B_SHORT_AS_EXTENDED))
		set_level(d, CCID_XCHG_EXTENDED_APDU, "iccd_b_short_as_extended");
	if (d->bPINSupport != 0 && (quirks_flag(qs, QUIRK_PINPAD_ABSENT) ||
				       quirks_flag(qs, QUIRK_PINPAD_LEAKS_PIN))) {
		OC_LOG_INFO("quirk %s: bPINSupport 0x%02X -> 0",
		    quirks_flag(qs, QUIRK_PINPAD_ABSENT) ? "pinpad_absent"
							 : "pinpad_leaks_pin",
		    d->bPINSupport);
		d->bPINSupport = 0;
	}
	/* The reader refuses S(IFS request): as if it negotiated IFSD. */
	if (quirks_flag(qs, QUIRK_IFSD_NEGOTIATION_REFUSED))
		d->dwFeatures |= CCID_FEAT_AUTO_IFSD;
}

static unsigned
u32_or(const struct quirk_set *qs, enum quirk_key key, unsigned dflt)
{
	uint32_t v;

	return quirks_get_u32(qs, key, &v) ? (unsigned)v : dflt;
}

void
quirks_glue_io(const struct quirk_set *qs, struct ccid_io *io)
{
	uint32_t v;

	if (quirks_get_u32(qs, QUIRK_TIMEOUT_DEFAULT_MS, &v) && v > 0)
		io->timeout_ms = (unsigned)v;
	io->poweron_timeout_ms = u32_or(qs, QUIRK_TIMEOUT_POWERON_MS, 0);
	io->escape_timeout_ms = u32_or(qs, QUIRK_TIMEOUT_ESCAPE_MS, 0);
	io->zlp_before_write = quirks_flag(qs, QUIRK_ZLP_BEFORE_WRITE);
	io->set_param_err_ok =
	    quirks_flag(qs, QUIRK_SET_PARAMETERS_ERROR_IGNORED);
}

void
quirks_glue_settings(const struct quirk_set *qs, const struct usb_info *info,
    struct reader_quirks *out)
{
	memset(out, 0, sizeof(*out));
	out->set = *qs;
	out->open_delay_ms = u32_or(qs, QUIRK_OPEN_DELAY_MS, 0);
	out->open_timeout_ms = u32_or(qs, QUIRK_OPEN_TIMEOUT_MS, 0);
	out->open_drain_ms = info->has_intr
	    ? u32_or(qs, QUIRK_OPEN_DRAIN_INTERRUPT_MS, 0) : 0;
	out->warmup_tries = u32_or(qs, QUIRK_OPEN_WARMUP_TRIES, 2);
	if (out->warmup_tries == 0)
		out->warmup_tries = 1; /* the reader must answer once */
	/* A reader slow at open (open_timeout_ms) outranks the generic
	 * short warm-up timeout. */
	out->warmup_timeout_ms = out->open_timeout_ms != 0
	    ? out->open_timeout_ms
	    : u32_or(qs, QUIRK_OPEN_WARMUP_TIMEOUT_MS,
		  u32_or(qs, QUIRK_TIMEOUT_OPEN_STATUS_MS, 0));
	out->power_off_before_on = quirks_flag(qs, QUIRK_POWER_OFF_BEFORE_ON);
	out->poweron_fail_means_absent =
	    quirks_flag(qs, QUIRK_POWERON_FAIL_MEANS_ABSENT);
	out->always_present = quirks_flag(qs, QUIRK_ALWAYS_PRESENT);
	out->interfaces_exclusive = quirks_flag(qs, QUIRK_INTERFACES_EXCLUSIVE);
	out->no_pps = quirks_flag(qs, QUIRK_NO_PPS);
	out->data_rate_drop_above = u32_or(qs, QUIRK_DATA_RATE_DROP_ABOVE, 0);
	out->extra_timeout_ms = u32_or(qs, QUIRK_EXTRA_TIMEOUT_MS, 0);
	out->pinpad_disabled = quirks_flag(qs, QUIRK_PINPAD_ABSENT) ||
	    quirks_flag(qs, QUIRK_PINPAD_LEAKS_PIN);
	out->iccd_power_cycle = quirks_flag(qs, QUIRK_ICCD_OPEN_POWER_CYCLE);
	out->iccd_max_transfer = u32_or(qs, QUIRK_ICCD_MAX_TRANSFER, 0);
}
