/*
 * openccid - the quirk key definitions (see quirks_keys.h): name, type and
 * allowed range of every key of quirks/README.md.
 */
#include "config.h"

#include "quirks/quirks_keys.h"

const char *const quirk_level_names[QUIRK_LEVEL_COUNT] = {
    "character", "tpdu", "short_apdu", "extended_apdu"};

#define F(n)                                                                   \
	{                                                                      \
		n, QUIRK_T_FLAG, false, 0, 1                                   \
	}
#define U(n, lo, hi)                                                           \
	{                                                                      \
		n, QUIRK_T_U32, false, lo, hi                                  \
	}
#define H(n, lo, hi)                                                           \
	{                                                                      \
		n, QUIRK_T_U32, true, lo, hi                                   \
	}
#define B(n)                                                                   \
	{                                                                      \
		n, QUIRK_T_BYTES, false, 1, QUIRKS_MAX_BYTES                   \
	}
#define MS_MAX   3600000u /* one hour: nothing sane waits longer */
#define RATE_MAX 100000000u
#define CLOCK_MAX 100000u /* kHz; ISO 7816-3 clocks stay below 20 MHz */

/* Indexed by enum quirk_key; names are the ones quirks/README.md lists. */
const struct quirk_key_def quirk_keys[QUIRK_KEY_COUNT] = {
    F("vendor_class_ccid"),
    F("vendor_class_any_len54"),
    F("class_desc_after_endpoints"),
    U("vendor_device_set_configuration", 1, 255),
    F("desc_extra_len_strict"),
    U("composite_max_interface", 0, 31),
    U("composite_ccid_interfaces", 1, 32),
    F("composite_all_ccid"),
    F("interfaces_exclusive"),
    U("contactless_slot_min", 0, 15),
    H("desc_protocols", 1, 3),
    H("firmware_min_bcd", 0, 0xffff),
    U("max_ifsd", 1, 254),
    U("open_delay_ms", 0, 60000),
    U("open_timeout_ms", 1, MS_MAX),
    F("zlp_before_write"),
    U("max_data_rate", 1, RATE_MAX),
    U("default_clock_khz", 1, CLOCK_MAX),
    U("max_clock_khz", 1, CLOCK_MAX),
    U("data_rate_drop_above", 1, RATE_MAX),
    U("open_drain_interrupt_ms", 0, 10000),
    F("iccd_open_power_cycle"),
    F("iccd_b_short_as_extended"),
    U("open_warmup_tries", 0, 10),
    U("open_warmup_timeout_ms", 1, 60000),
    B("escape_apdu_mode"),
    B("lcd_message_escape"),
    U("lcd_message_delay_ms", 0, 60000),
    B("escape_retry_counter_off"),
    {"force_level", QUIRK_T_ENUM, false, 0, QUIRK_LEVEL_COUNT - 1},
    F("short_apdu_as_extended"),
    B("firmware_features_escape"),
    F("no_autosuspend"),
    F("usb_persist_off"),
    B("poweron_emv_mode_escape"),
    F("poweron_fail_means_absent"),
    F("always_present"),
    {"secondary_slot_data_rates", QUIRK_T_LIST, false, 1, RATE_MAX},
    U("secondary_slot_max_data_rate", 1, RATE_MAX),
    F("power_off_before_on"),
    F("vendor_info_apdu"),
    F("t1_set_parameters_broken"),
    U("extra_timeout_ms", 0, MS_MAX),
    F("no_pps"),
    U("msg_len_fix_from", 1, 65554),
    U("msg_len_fix_to", 1, 65554),
    F("escape_allowed"),
    B("escape_allowed_prefix"),
    B("firmware_version_escape"),
    U("interrupt_poll_before_status_ms", 1, 10000),
    H("iccd_max_transfer", 1, 65554),
    F("null_block_strict"),
    F("ifsd_negotiation_refused"),
    U("timeout_default_ms", 1, MS_MAX),
    U("timeout_poweron_ms", 1, MS_MAX),
    U("timeout_escape_ms", 1, MS_MAX),
    U("timeout_secure_ms", 1, MS_MAX),
    U("timeout_ppdu_ms", 1, MS_MAX),
    U("timeout_open_status_ms", 1, MS_MAX),
    F("wtx_multiplies_timeout"),
    F("stale_seq_skip"),
    F("set_parameters_error_ignored"),
    F("pinpad_absent"),
    F("pinpad_leaks_pin"),
    H("pinpad_validation_invalid_fix", 1, 7),
    U("pinpad_msg_count_verify", 0, 3),
    H("pinpad_validation_fix", 1, 7),
    F("pinpad_validation_mask_from_features"),
    U("pinpad_verify_delay_ms", 0, 10000),
    F("pinpad_max_extra_digit_swapped"),
    B("pinpad_verify_case1_escape"),
    F("pinpad_modify_msg_index_all"),
    U("pinpad_msg_count_modify", 0, 3),
    H("pinpad_modify_msg_count_zero_as", 0, 255),
    U("pin_min", 0, 255),
    U("pin_max", 0, 255),
    H("pin_tlv_validation", 0, 255),
    H("pin_properties_validation", 0, 255),
};

const char *
quirks_key_name(enum quirk_key key)
{
	return (unsigned)key < QUIRK_KEY_COUNT ? quirk_keys[key].name : "?";
}

enum quirk_type
quirks_key_type(enum quirk_key key)
{
	return (unsigned)key < QUIRK_KEY_COUNT ? quirk_keys[key].type
	                                       : QUIRK_T_FLAG;
}
