/*
 * openccid - reader quirks as data (format: quirks/README.md): the keys,
 * the table and a device's merged set, types only. The functions are
 * in one header per file: quirks.h (table, lookup, accessors),
 * quirks_parse.h, quirks_describe.h, quirks_load.h, quirks_keys.h.
 *
 * Pure L1 codec: quirks_parse() turns the text of one .quirks file into
 * entries of a fixed-capacity table, strictly (unknown key, duplicate key,
 * malformed ID, out-of-range value, overlong line, full table are errors
 * with file:line). quirks_lookup() merges every entry matching a device,
 * later entries overriding earlier ones. No I/O here except in
 * quirks_load_dir() (quirks_load.c), no globals, no allocation.
 */
#ifndef OPENCCID_QUIRKS_TYPES_H
#define OPENCCID_QUIRKS_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUIRKS_MAX_LINE      512   /* bytes per line, without the LF */
#define QUIRKS_MAX_FILE_SIZE 65536 /* bytes per file */
#define QUIRKS_MAX_ENTRIES   384   /* per table, all files together */
#define QUIRKS_MAX_SETTINGS  16    /* keys per entry */
#define QUIRKS_MAX_FILES     32    /* files per table */
#define QUIRKS_MAX_NAME      96    /* file name kept for messages */
#define QUIRKS_POOL_SIZE     4096  /* byte strings and lists */
#define QUIRKS_MAX_BYTES     16    /* bytes in one hex-string value */
#define QUIRKS_MAX_LIST      16    /* numbers in one list value */

/* One key per symptom; names and types are in quirks_keys.c and the README. */
enum quirk_key {
	/* descriptor.quirks */
	QUIRK_VENDOR_CLASS_CCID,
	QUIRK_VENDOR_CLASS_ANY_LEN54,
	QUIRK_CLASS_DESC_AFTER_ENDPOINTS,
	QUIRK_VENDOR_DEVICE_SET_CONFIGURATION,
	QUIRK_DESC_EXTRA_LEN_STRICT,
	QUIRK_COMPOSITE_MAX_INTERFACE,
	QUIRK_COMPOSITE_CCID_INTERFACES,
	QUIRK_COMPOSITE_ALL_CCID,
	QUIRK_INTERFACES_EXCLUSIVE,
	QUIRK_CONTACTLESS_SLOT_MIN,
	QUIRK_DESC_PROTOCOLS,
	/* firmware.quirks */
	QUIRK_FIRMWARE_MIN_BCD,
	/* open.quirks */
	QUIRK_MAX_IFSD,
	QUIRK_OPEN_DELAY_MS,
	QUIRK_OPEN_TIMEOUT_MS,
	QUIRK_ZLP_BEFORE_WRITE,
	QUIRK_MAX_DATA_RATE,
	QUIRK_DEFAULT_CLOCK_KHZ,
	QUIRK_MAX_CLOCK_KHZ,
	QUIRK_DATA_RATE_DROP_ABOVE,
	QUIRK_OPEN_DRAIN_INTERRUPT_MS,
	QUIRK_ICCD_OPEN_POWER_CYCLE,
	QUIRK_ICCD_B_SHORT_AS_EXTENDED,
	QUIRK_OPEN_WARMUP_TRIES,
	QUIRK_OPEN_WARMUP_TIMEOUT_MS,
	QUIRK_ESCAPE_APDU_MODE,
	QUIRK_LCD_MESSAGE_ESCAPE,
	QUIRK_LCD_MESSAGE_DELAY_MS,
	QUIRK_ESCAPE_RETRY_COUNTER_OFF,
	QUIRK_FORCE_LEVEL,
	QUIRK_SHORT_APDU_AS_EXTENDED,
	QUIRK_FIRMWARE_FEATURES_ESCAPE,
	QUIRK_NO_AUTOSUSPEND,
	QUIRK_USB_PERSIST_OFF,
	/* runtime.quirks */
	QUIRK_POWERON_EMV_MODE_ESCAPE,
	QUIRK_POWERON_FAIL_MEANS_ABSENT,
	QUIRK_ALWAYS_PRESENT,
	QUIRK_SECONDARY_SLOT_DATA_RATES,
	QUIRK_SECONDARY_SLOT_MAX_DATA_RATE,
	QUIRK_POWER_OFF_BEFORE_ON,
	QUIRK_VENDOR_INFO_APDU,
	QUIRK_T1_SET_PARAMETERS_BROKEN,
	QUIRK_EXTRA_TIMEOUT_MS,
	QUIRK_NO_PPS,
	QUIRK_MSG_LEN_FIX_FROM,
	QUIRK_MSG_LEN_FIX_TO,
	QUIRK_ESCAPE_ALLOWED,
	QUIRK_ESCAPE_ALLOWED_PREFIX,
	QUIRK_FIRMWARE_VERSION_ESCAPE,
	QUIRK_INTERRUPT_POLL_BEFORE_STATUS_MS,
	QUIRK_ICCD_MAX_TRANSFER,
	QUIRK_NULL_BLOCK_STRICT,
	QUIRK_IFSD_NEGOTIATION_REFUSED,
	QUIRK_TIMEOUT_DEFAULT_MS,
	QUIRK_TIMEOUT_POWERON_MS,
	QUIRK_TIMEOUT_ESCAPE_MS,
	QUIRK_TIMEOUT_SECURE_MS,
	QUIRK_TIMEOUT_PPDU_MS,
	QUIRK_TIMEOUT_OPEN_STATUS_MS,
	QUIRK_WTX_MULTIPLIES_TIMEOUT,
	QUIRK_STALE_SEQ_SKIP,
	QUIRK_SET_PARAMETERS_ERROR_IGNORED,
	/* pinpad.quirks */
	QUIRK_PINPAD_ABSENT,
	QUIRK_PINPAD_LEAKS_PIN,
	QUIRK_PINPAD_VALIDATION_INVALID_FIX,
	QUIRK_PINPAD_MSG_COUNT_VERIFY,
	QUIRK_PINPAD_VALIDATION_FIX,
	QUIRK_PINPAD_VALIDATION_MASK_FROM_FEATURES,
	QUIRK_PINPAD_VERIFY_DELAY_MS,
	QUIRK_PINPAD_MAX_EXTRA_DIGIT_SWAPPED,
	QUIRK_PINPAD_VERIFY_CASE1_ESCAPE,
	QUIRK_PINPAD_MODIFY_MSG_INDEX_ALL,
	QUIRK_PINPAD_MSG_COUNT_MODIFY,
	QUIRK_PINPAD_MODIFY_MSG_COUNT_ZERO_AS,
	QUIRK_PIN_MIN,
	QUIRK_PIN_MAX,
	QUIRK_PIN_TLV_VALIDATION,
	QUIRK_PIN_PROPERTIES_VALIDATION,
	QUIRK_KEY_COUNT
};

/* Values of force_level (same order as enum ccid_level in ccid_desc.h). */
enum quirk_level {
	QUIRK_LEVEL_CHARACTER,
	QUIRK_LEVEL_TPDU,
	QUIRK_LEVEL_SHORT_APDU,
	QUIRK_LEVEL_EXTENDED_APDU,
};

enum quirk_type {
	QUIRK_T_FLAG,  /* bool: "key", "key=true", "key=false" */
	QUIRK_T_U32,   /* decimal or 0x hex, range-checked */
	QUIRK_T_ENUM,  /* one of a fixed list of names */
	QUIRK_T_BYTES, /* hex string, 1..QUIRKS_MAX_BYTES bytes */
	QUIRK_T_LIST,  /* comma-separated u32, 1..QUIRKS_MAX_LIST */
};

struct quirk_match {
	uint16_t vid, pid;
	bool any_vid, any_pid;
	uint32_t bcd_min; /* inclusive */
	uint32_t bcd_max; /* exclusive, up to 0x10000 */
	int interface;    /* -1: any */
};

struct quirk_setting {
	uint16_t key;   /* enum quirk_key */
	uint16_t file;  /* index into quirk_table.files */
	uint32_t line;  /* line of the "set" that gave it */
	uint32_t value; /* flag/u32/enum value, or pool offset << 8 | length */
};

struct quirk_entry {
	struct quirk_match match;
	uint16_t file;
	uint32_t line; /* line of "match" */
	uint16_t nsettings;
	struct quirk_setting settings[QUIRKS_MAX_SETTINGS];
};

struct quirk_table {
	size_t nentries;
	size_t nfiles;
	size_t pool_len;
	struct quirk_entry entries[QUIRKS_MAX_ENTRIES];
	char files[QUIRKS_MAX_FILES][QUIRKS_MAX_NAME];
	uint8_t pool[QUIRKS_POOL_SIZE];
};

/* The merged result for one device; points into the table it came from. */
struct quirk_set {
	const struct quirk_table *table;
	uint8_t present[QUIRK_KEY_COUNT];
	struct quirk_setting value[QUIRK_KEY_COUNT];
};

/* The quirks/NAME.quirks texts compiled into the driver (generated file). */
struct quirks_blob {
	const char *name;
	const char *text;
	size_t len;
};
extern const struct quirks_blob quirks_builtin_files[];
extern const size_t quirks_builtin_nfiles;

#ifdef OPENCCID_QUIRKS_DIR
#define QUIRKS_DEFAULT_DIR OPENCCID_QUIRKS_DIR
#else
#define QUIRKS_DEFAULT_DIR "/etc/openccid/quirks.d"
#endif

#endif
