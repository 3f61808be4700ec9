/*
 * openccid - driver configuration from the bundle's Info.plist (L4).
 *
 * Read once, at the first IFDHCreateChannel*: ifdLogLevel (overridden by
 * the environment variable OPENCCID_LOG_LEVEL) and ifdDriverOptions; the
 * environment variables OPENCCID_TIME_EXT_MAX_MS (time-extension cap) and
 * OPENCCID_TRACE_DIR (trace recording, trace_rec.h), OPENCCID_SHOW_SECRETS
 * (secrets in clear in the COMM log and traces, base/log.h). A
 * missing, oversized or malformed file gives one log line and defaults.
 */
#ifndef OPENCCID_DRVCONF_H
#define OPENCCID_DRVCONF_H

#include <stdint.h>

/* Once per process; thread-safe. */
void drvconf_init(void);
/* Load path now (tests); returns 0 or a negative OC_E* code. */
int drvconf_load(const char *path);
uint32_t drvconf_driver_options(void);
#define DRVCONF_TIME_EXT_MAX_MS 3600000u /* an hour: the largest accepted */
/* OPENCCID_TIME_EXT_MAX_MS, or 0 when unset. */
unsigned drvconf_time_ext_max_ms(void);
/* The one value of OPENCCID_SHOW_SECRETS that shows secrets (README). */
#define DRVCONF_SHOW_SECRETS_VALUE "show-pins-and-keys-in-logs-and-traces"
/* OPENCCID_TRACE_DIR (record traces there), or NULL when unset. */
const char *drvconf_trace_dir(void);

#endif
