/*
 * openccid - from quirk keys (quirks/README.md) to driver behaviour (L3).
 *
 * The quirk table itself is built once, at the first open, and owned by
 * the reader table (reader.c): built-in files, then the run-time
 * directory (OPENCCID_QUIRKS_DIR in the environment, else configure's
 * quirksdir). At each open quirks_lookup() gives the reader its quirk
 * set; this module turns that set into descriptor overrides (applied to
 * a copy of the usb_info before the reader is built), an open-time
 * firmware check, and the plain settings the slot, exchange and
 * negotiation code read (struct reader_quirks). No global state.
 */
#ifndef OPENCCID_QUIRKS_GLUE_H
#define OPENCCID_QUIRKS_GLUE_H

#include <stdbool.h>
#include <stdint.h>

#include "ccid/ccid_cmd.h"
#include "codec/ccid_desc.h"
#include "quirks/quirks.h"
#include "transport/usb.h"

/* ifdDriverOptions bit: open readers whose firmware is blacklisted. */
#define QUIRKS_OPT_OLD_FIRMWARE 0x04u

#define QUIRKS_ENV_DIR "OPENCCID_QUIRKS_DIR"

/* What the reader, slot and exchange code read; fixed at open. */
struct reader_quirks {
	struct quirk_set set; /* the lookup result (points into the table) */
	/* open sequence (reader.c) */
	unsigned open_delay_ms;
	unsigned open_timeout_ms;    /* 0: the normal command timeout */
	unsigned open_drain_ms;      /* 0: no interrupt drain */
	unsigned warmup_tries;       /* GetSlotStatus tries, at least 1 */
	unsigned warmup_timeout_ms;  /* 0: open_timeout_ms or the default */
	/* slot.c */
	bool power_off_before_on;
	bool poweron_fail_means_absent;
	bool always_present;
	/* negotiate.c / xfr_tpdu.c (TPDU level) */
	bool no_pps;                   /* no PPS: card's default protocol */
	uint32_t data_rate_drop_above; /* 0: keep every GET_DATA_RATES entry */
	uint32_t extra_timeout_ms;     /* added to T=1 exchange timeouts */
	/* reader.c: the device's CCID interfaces share one exchange lock */
	bool interfaces_exclusive;
	/* PIN pad: bPINSupport was cleared, say why (later PIN-pad work). */
	bool pinpad_disabled;
	/* ICCD tokens (reader.c): PowerOff/PowerOn/PowerOff at open, and
	 * the longest control transfer (0: the path's default). */
	bool iccd_power_cycle;
	uint32_t iccd_max_transfer;
};

/* The run-time directory: $OPENCCID_QUIRKS_DIR if set and not empty,
 * else QUIRKS_DEFAULT_DIR (configure's quirksdir). */
const char *quirks_glue_dir(void);

/*
 * Fill t: the built-in files, then dir's "*.quirks" files (dir NULL:
 * none). Every rejected file is logged (CRITICAL) with file:line and
 * skipped; the rest of the table stays usable. Returns the number of
 * run-time files loaded.
 */
int quirks_glue_build(struct quirk_table *t, const char *dir);

/* One INFO line per key of qs, "matched <file>:<line>: key[=value]". */
void quirks_glue_log(const struct quirk_set *qs);

/*
 * firmware_min_bcd: OC_ENOTSUP (with a CRITICAL line naming both
 * versions) when bcdDevice is below it and driver_options lacks
 * QUIRKS_OPT_OLD_FIRMWARE.
 */
int quirks_glue_check_firmware(const struct quirk_set *qs,
    const struct usb_info *info, uint32_t driver_options)
    __attribute__((warn_unused_result));

/* Descriptor overrides (max_ifsd, max_data_rate, msg_len_fix_*, levels,
 * PIN pad, AUTO_IFSD), each logged; values the driver cannot use are
 * logged and ignored. */
void quirks_glue_apply_desc(const struct quirk_set *qs, struct usb_info *info);

/* Command timeouts, zlp_before_write, set_parameters_error_ignored. */
void quirks_glue_io(const struct quirk_set *qs, struct ccid_io *io);

/* Everything else, into out (out->set = *qs). */
void quirks_glue_settings(const struct quirk_set *qs,
    const struct usb_info *info, struct reader_quirks *out);

#endif
