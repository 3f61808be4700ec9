/*
 * openccid - logging with levels, through pcscd's log_msg().
 *
 * Levels are a bitmask: CRITICAL 1, INFO 2, COMM 4 (every CCID message
 * in hex, secrets redacted), PERIODIC 8 (presence polling). The mask
 * comes from Info.plist ifdLogLevel and is overridden by the environment
 * variable OPENCCID_LOG_LEVEL (decimal or 0x hex).
 */
#ifndef OPENCCID_LOG_H
#define OPENCCID_LOG_H

#include <stddef.h>
#include <stdint.h>

#define OC_LOG_MASK_CRITICAL 0x01u
#define OC_LOG_MASK_INFO 0x02u
#define OC_LOG_MASK_COMM 0x04u
#define OC_LOG_MASK_PERIODIC 0x08u
#define OC_LOG_DEFAULT (OC_LOG_MASK_CRITICAL | OC_LOG_MASK_INFO)

/*
 * The level is written once, when the first reader is opened, and only
 * read afterwards (atomic). It is configuration, not state.
 */
void oc_log_set_level(unsigned mask);
unsigned oc_log_get_level(void);
/*
 * The opt-in OPENCCID_SHOW_SECRETS (README): when set, the COMM log and
 * traces show secret command and answer data in clear. Configuration,
 * written once at the first open like the level.
 */
void oc_log_set_show_secrets(int on);
int oc_log_show_secrets(void);
/* Parse "7", "0x0f"; OC_EINVAL on garbage or values above 0xff. */
int oc_log_parse_level(const char *s, unsigned *mask);

void oc_log_printf(unsigned level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * Hex dump of buf with the n bytes at off replaced by "<n bytes
 * redacted>" (n == 0: nothing hidden; len == 0: no line). A range outside
 * buf logs only the length, never the bytes.
 */
void oc_log_hex_redacted(unsigned level, const char *func, const char *what,
    const uint8_t *buf, size_t len, size_t off, size_t n);
/* "<what>: <len bytes, not logged>": for bytes that could not be judged. */
void oc_log_unlogged(unsigned level, const char *what, size_t len);
/* Hex dump of non-secret bytes at the given level. */
void oc_log_hex(unsigned level, const char *func, const char *what,
    const uint8_t *buf, size_t len);

#define OC_LOG(level, ...)                                                   \
	do {                                                                 \
		if (oc_log_get_level() & (level))                            \
			oc_log_printf((level), __func__, __VA_ARGS__);       \
	} while (0)
#define OC_LOG_CRIT(...) OC_LOG(OC_LOG_MASK_CRITICAL, __VA_ARGS__)
#define OC_LOG_INFO(...) OC_LOG(OC_LOG_MASK_INFO, __VA_ARGS__)
#define OC_LOG_COMM(...) OC_LOG(OC_LOG_MASK_COMM, __VA_ARGS__)
#define OC_LOG_PERIODIC(...) OC_LOG(OC_LOG_MASK_PERIODIC, __VA_ARGS__)

#endif
