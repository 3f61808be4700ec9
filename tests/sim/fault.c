/*
 * Named faults, armed from the control socket (`fault NAME [ARG] [count=K |
 * until-clear] [cmd=TYPE]`), listed by `faults`, counted in
 * stats.faults_fired.
 *
 * One row of fault_table per scenario: its name, what its argument means
 * and its bounds. The code that makes a fault happen asks fault_take() at
 * the one place where that fault can strike (ccid.c: replies, T=1 blocks,
 * card calls; usbfs.c: endpoints, control requests). A fault fires at most
 * `count` times (default 1; for the "N blocks" faults ARG is the count),
 * then disarms itself; `until-clear` (and the F_PERSIST rows) make it fire
 * on every chance until `fault clear`: real firmware stays broken a while.
 */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#define A_NONE 0
#define A_NUM 1	 /* decimal number in [min, max] */
#define A_HEX 2	 /* hex bytes (sw) */
#define A_WORD 3 /* one of the words in `words` */
#define F_COUNT_ARG 1 /* ARG is the number of times it fires */
#define F_PERSIST 2   /* armed until `fault clear`, whatever count= says */

static const struct fault_def {
	const char *name;
	int arg;
	long def, min, max;
	const char *words; /* A_WORD: "a|b|c", index = value */
	unsigned flags;
	const char *help;
} fault_table[FAULT_MAX] = {
	[FAULT_WTX_FOREVER] = { "wtx-forever", A_NUM, 100, 1, 60000, NULL, 0,
		"reader answers the next command with time extensions (bStatus 0x80) forever, one per ARG ms (default 100); ends on Abort, reset or the next command" },
	[FAULT_WTX] = { "wtx", A_NUM, 1, 1, 1000, NULL, 0,
		"ARG time extensions (50 ms apart) then the answer" },
	[FAULT_CARD_WTX] = { "card-wtx", A_NUM, 1, 1, 100, NULL, 0,
		"TPDU T=1: the card sends S(WTX request) ARG times before its answer" },
	[FAULT_NO_REPLY] = { "no-reply", A_NONE, 0, 0, 0, NULL, 0,
		"swallow the next bulk-OUT command: no answer ever" },
	[FAULT_LATE_REPLY] = { "late-reply", A_NUM, 1000, 0, 600000, NULL, 0,
		"answer the next command ARG ms late" },
	[FAULT_STALL_IN] = { "stall-in", A_NONE, 0, 0, 0, NULL, 0,
		"bulk-IN halts at the next command (its answer is lost): IN URBs fail -EPIPE until CLEAR_HALT" },
	[FAULT_STALL_OUT] = { "stall-out", A_NONE, 0, 0, 0, NULL, 0,
		"bulk-OUT halts: the next command URB and later ones fail -EPIPE until CLEAR_HALT" },
	[FAULT_ZLP_BEFORE_REPLY] = { "zlp-before-reply", A_NONE, 0, 0, 0, NULL, 0,
		"a zero-length bulk-IN transfer before the answer" },
	[FAULT_DUP_REPLY] = { "dup-reply", A_NONE, 0, 0, 0, NULL, 0,
		"the answer twice" },
	[FAULT_WRONG_SEQ] = { "wrong-seq", A_NONE, 0, 0, 0, NULL, 0,
		"answer with bSeq + 1" },
	[FAULT_WRONG_SLOT] = { "wrong-slot", A_NONE, 0, 0, 0, NULL, 0,
		"answer with bSlot + 1" },
	[FAULT_WRONG_TYPE] = { "wrong-type", A_NONE, 0, 0, 0, NULL, 0,
		"answer with another bMessageType (0x80 <-> 0x81, others -> 0x80)" },
	[FAULT_BAD_LENGTH] = { "bad-length", A_WORD, 0, 0, 2, "long|short|plus64", 0,
		"dwLength one larger (long), one smaller (short) or 64 larger (plus64) than the data sent" },
	[FAULT_OVERSIZE] = { "oversize", A_NONE, 0, 0, 0, NULL, 0,
		"answer with dwLength = dwMaxCCIDMessageLength - 9 (and that much data)" },
	[FAULT_TRUNCATE] = { "truncate", A_NUM, 7, 0, 9, NULL, 0,
		"send only the first ARG bytes of the answer (default 7, a cut header)" },
	[FAULT_T1_BAD_EDC] = { "t1-bad-edc", A_NUM, 1, 1, 100, NULL, F_COUNT_ARG,
		"TPDU T=1: the card's next ARG blocks carry a wrong LRC" },
	[FAULT_T1_DROP_BLOCK] = { "t1-drop-block", A_NUM, 1, 1, 100, NULL, F_COUNT_ARG,
		"TPDU T=1: the card ignores the next ARG blocks (reader: ICC mute, bError 0xFE)" },
	[FAULT_T1_RBLOCK] = { "t1-rblock", A_NUM, 1, 1, 100, NULL, F_COUNT_ARG,
		"TPDU T=1: the card answers the next ARG I-blocks with R(EDC error)" },
	[FAULT_UNPLUG_DURING_XFR] = { "unplug-during-xfr", A_NONE, 0, 0, 0, NULL, 0,
		"unplug while the next command is in flight (it is never answered)" },
	[FAULT_CARD_REMOVE_DURING_XFR] = { "card-remove-during-xfr", A_NONE, 0, 0, 0, NULL, 0,
		"the card leaves while the next command is in flight (answer: no ICC; NotifySlotChange)" },
	[FAULT_INTR_GARBAGE] = { "intr-garbage", A_WORD, 0, 0, 3, "unknown|bits|short|hwerror", 0,
		"one bad interrupt-IN message: unknown type 0x5F, slot bits beyond bMaxSlotIndex, 1 byte, or RDR_to_PC_HardwareError" },
	[FAULT_NOTIFY_SPURIOUS] = { "notify-spurious", A_NONE, 0, 0, 0, NULL, 0,
		"NotifySlotChange with every slot's changed bit set although nothing changed" },
	[FAULT_MUTE] = { "mute", A_NONE, 0, 0, 0, NULL, 0,
		"answer the next command: failed, bError 0xFE (ICC mute)" },
	[FAULT_HW_ERROR] = { "hw-error", A_NONE, 0, 0, 0, NULL, 0,
		"answer the next command: failed, bError 0xFB (hardware error)" },
	[FAULT_SLOT_BUSY] = { "slot-busy", A_NONE, 0, 0, 0, NULL, 0,
		"answer the next command: failed, bError 0xE0 (CMD_SLOT_BUSY)" },
	[FAULT_POWERON_MUTE] = { "poweron-mute", A_NONE, 0, 0, 0, NULL, 0,
		"the next IccPowerOn gets no ATR (failed, bError 0xFE)" },
	[FAULT_BAD_ATR] = { "bad-atr", A_NONE, 0, 0, 0, NULL, 0,
		"the next IccPowerOn returns a truncated ATR (3B FF 11)" },
	[FAULT_SW] = { "sw", A_HEX, 0x6f00, 0, 0xffff, NULL, 0,
		"the card answers the next APDU with status word ARG (hex, default 6F00) and no data" },
	[FAULT_CTRL_STALL] = { "ctrl-stall", A_NONE, 0, 0, 0, NULL, 0,
		"the next CCID class control request (ABORT, GET_CLOCK_FREQUENCIES, GET_DATA_RATES) stalls" },
	[FAULT_PPS_REJECT] = { "pps-reject", A_NONE, 0, 0, 0, NULL, 0,
		"the card answers the next PPS request with PPSS only (no PPS0 echo: refused)" },
	[FAULT_DESC] = { "desc", A_WORD, 0, 0, 9,
		"slots255|msglen0|msglenmax|rates|clocks|short|total-short|total-long|cut20|total-cut20", 0,
		"armed before `plug`: the next plug presents a broken descriptor (last interface's class descriptor: bMaxSlotIndex 255, dwMaxCCIDMessageLength 0 or 0xFFFFFFFF, bNumDataRatesSupported/bNumClockSupported 4 more than GET_DATA_RATES/GET_CLOCK_FREQUENCIES return, bLength 40 (cut), bLength 54 with only 20 bytes present (cut20); or wTotalLength 10 short / 64 long / ending 20 bytes into the class descriptor (total-cut20))" },
	[FAULT_REPLY_DATA] = { "reply-data", A_WORD, 0, 0, 2, "short|long|empty", 0,
		"the answer's data one byte shorter, one byte (FF) longer, or empty, dwLength matching (use cmd=Secure for PIN pad answers)" },
	[FAULT_IN_ERROR] = { "in-error", A_WORD, 0, 0, 2, "babble|proto|crc", 0,
		"the bulk-IN transfer carrying the next answer fails: -EOVERFLOW (babble), -EPROTO (bit-stuff/protocol error) or -EILSEQ (CRC); the answer is lost" },
	[FAULT_SILENT] = { "silent", A_NUM, 5000, 1, 600000, NULL, 0,
		"from the next command on, bulk-IN is silent for ARG ms: every command in that time (the Abort too) is swallowed, queued answers are lost; the class ABORT request is answered" },
	[FAULT_WEDGE] = { "wedge", A_NONE, 0, 0, 0, NULL, 0,
		"the firmware wedges at the next command: that command and every later one are swallowed (bulk-IN silent), control requests answered; only a USB reset (USBDEVFS_RESET) or an unplug ends it, not `fault clear`" },
	[FAULT_REPLY_AFTER_NEXT] = { "reply-after-next", A_NONE, 0, 0, 0, NULL, 0,
		"the answer to the next command is held back until the host sends another command (not an Abort), and goes out just before that command's answer" },
	[FAULT_NO_ICC] = { "no-icc", A_NONE, 0, 0, 0, NULL, 0,
		"answer the next command: failed, bmICCStatus 2 (no ICC present), bError 0xFE, though the card is there; no NotifySlotChange" },
	[FAULT_ZLP_EVERY] = { "zlp-every", A_NUM, 90, 10, 60000, NULL, F_PERSIST,
		"from now until `fault clear`: a zero-length bulk-IN transfer every ARG ms (default 90) while the host reads bulk-IN, between the answers" },
	[FAULT_ICCD_POLL] = { "iccd-poll", A_NUM, 1, 0, 65535, NULL, 0,
		"ICCD-B: the next DATA_BLOCK is a time request (80, delay ARG x 10 ms) and the answer stays pending; count=K: K of them" },
	[FAULT_ICCD_TYPE] = { "iccd-type", A_HEX, 0x22, 0, 0xff, NULL, 0,
		"ICCD-B: the next DATA_BLOCK answer carries bResponseType ARG (hex, default 22: unknown)" },
	[FAULT_ICCD_CHAIN] = { "iccd-chain", A_NONE, 0, 0, 0, NULL, 0,
		"ICCD-B: the next DATA_BLOCK answer is a chain piece out of order (03, or 01 for a 03)" },
	[FAULT_ICCD_LONG] = { "iccd-long", A_NONE, 0, 0, 0, NULL, 0,
		"ICCD: the next DATA_BLOCK sends more than wLength (the transfer fails -EOVERFLOW); the answer is lost" },
	[FAULT_ICCD_STATUS_OK] = { "iccd-status-ok", A_NONE, 0, 0, 0, NULL, 0,
		"ICCD-B: the next DATA_BLOCK answer is a status without an error (40 00 00) instead of the data" },
	[FAULT_ICCD_BUSY] = { "iccd-busy", A_NONE, 0, 0, 0, NULL, 0,
		"ICCD-A: the next GET_ICC_STATUS answers busy (40); count=K: K of them" },
	[FAULT_PARAMS_LEN0] = { "params-len0", A_NONE, 0, 0, 0, NULL, 0,
		"the next RDR_to_PC_Parameters (SetParameters, GetParameters, ResetParameters) carries dwLength 0 with its protocol data structure still following, as QEMU 7.2's usb-ccid sends it" },
};

static struct {
	unsigned left;	/* times it still fires */
	bool persist;	/* until `fault clear` (until-clear, F_PERSIST) */
	long arg;
	int cmd;	/* bMessageType filter, -1 any */
	uint64_t fired;
} armed[FAULT_MAX];

bool fault_take(enum fault_id id, int cmd_type, long *arg)
{
	if (id >= FAULT_MAX || !armed[id].left)
		return false;
	if (armed[id].cmd >= 0 && cmd_type >= 0 && armed[id].cmd != cmd_type)
		return false;
	if (!armed[id].persist)
		armed[id].left--;
	armed[id].fired++;
	if (arg)
		*arg = armed[id].arg;
	/* a persistent fault fires on every message: log 1, 2, 4, 8... */
	if (!armed[id].persist || !(armed[id].fired & (armed[id].fired - 1)))
		sim_log("fault %s fired (arg %ld, %s%u left)", fault_table[id].name,
			armed[id].arg, armed[id].persist ? "until clear, " : "",
			armed[id].persist ? 0 : armed[id].left);
	return true;
}

long fault_arg(enum fault_id id)
{
	return id < FAULT_MAX ? armed[id].arg : 0;
}

bool fault_armed(enum fault_id id)
{
	return id < FAULT_MAX && armed[id].left;
}

void fault_disarm_all(void)
{
	for (unsigned i = 0; i < FAULT_MAX; i++)
		armed[i].left = 0;
}

void fault_stats_reset(void)
{
	for (unsigned i = 0; i < FAULT_MAX; i++)
		armed[i].fired = 0;
}

static int cmd_by_name(const char *s)
{
	static const struct { const char *n; int t; } names[] = {
		{ "IccPowerOn", 0x62 }, { "IccPowerOff", 0x63 },
		{ "GetSlotStatus", 0x65 }, { "XfrBlock", 0x6f },
		{ "GetParameters", 0x6c }, { "ResetParameters", 0x6d },
		{ "SetParameters", 0x61 }, { "Escape", 0x6b },
		{ "IccClock", 0x6e }, { "T0APDU", 0x6a }, { "Secure", 0x69 },
		{ "Mechanical", 0x71 }, { "Abort", 0x72 },
		{ "SetDataRateAndClockFrequency", 0x73 },
	};
	char *end;
	unsigned long v;

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (!g_ascii_strcasecmp(s, names[i].n))
			return names[i].t;
	v = strtoul(s, &end, 0);
	return (*s && !*end && v <= 0xff) ? (int)v : -2;
}

/* argv[0] is the fault name. Returns NULL or an error message (g_free). */
char *fault_arm(char **argv, unsigned argc)
{
	const struct fault_def *d = NULL;
	enum fault_id id = FAULT_MAX;
	long arg;
	unsigned long count = 1;
	int cmd = -1;
	bool have_arg = false, persist = false;

	if (argc == 0)
		return g_strdup("usage: fault NAME [ARG] [count=K|until-clear] [cmd=TYPE]");
	if (!strcmp(argv[0], "clear") || !strcmp(argv[0], "none")) {
		fault_disarm_all();
		return NULL;
	}
	for (unsigned i = 0; i < FAULT_MAX; i++)
		if (fault_table[i].name && !strcmp(argv[0], fault_table[i].name)) {
			d = &fault_table[i];
			id = (enum fault_id)i;
		}
	if (!d)
		return g_strdup_printf("unknown fault '%s'", argv[0]);
	arg = d->def;
	for (unsigned k = 1; k < argc; k++) {
		const char *a = argv[k];
		char *end;

		if (!*a)
			continue;
		if (!strcmp(a, "until-clear")) {
			persist = true;
		} else if (!strncmp(a, "count=", 6)) {
			count = strtoul(a + 6, &end, 10);
			if (!a[6] || *end || count < 1 || count > 1000000)
				return g_strdup_printf("bad count '%s'", a + 6);
		} else if (!strncmp(a, "cmd=", 4)) {
			cmd = cmd_by_name(a + 4);
			if (cmd < 0)
				return g_strdup_printf("bad cmd '%s'", a + 4);
		} else if (!have_arg && d->arg != A_NONE) {
			have_arg = true;
			if (d->arg == A_NUM) {
				arg = strtol(a, &end, 10);
				if (*end || arg < d->min || arg > d->max)
					return g_strdup_printf("%s: ARG %s not in %ld..%ld", d->name,
							       a, d->min, d->max);
			} else if (d->arg == A_HEX) {
				arg = strtol(a, &end, 16);
				if (*end || strlen(a) != 4 || arg < d->min || arg > d->max)
					return g_strdup_printf("%s: ARG must be 4 hex digits", d->name);
			} else {
				char **w = g_strsplit(d->words, "|", -1);

				arg = -1;
				for (long i = 0; w[i]; i++)
					if (!strcmp(w[i], a))
						arg = i;
				g_strfreev(w);
				if (arg < 0)
					return g_strdup_printf("%s: ARG one of %s", d->name, d->words);
			}
		} else {
			return g_strdup_printf("%s: unexpected '%s'", d->name, a);
		}
	}
	if (d->flags & F_COUNT_ARG)
		count = (unsigned long)arg;
	armed[id].persist = persist || (d->flags & F_PERSIST);
	armed[id].left = (unsigned)count;
	armed[id].arg = arg;
	armed[id].cmd = cmd;
	/* faults that act at once rather than on the next command */
	fault_armed_hook(id);
	return NULL;
}

static void json_str(GString *s, const char *t)
{
	g_string_append_c(s, '"');
	for (; *t; t++) {
		if (*t == '"' || *t == '\\')
			g_string_append_c(s, '\\');
		g_string_append_c(s, *t);
	}
	g_string_append_c(s, '"');
}

/* `faults`: [{"name", "arg", "armed", "fired", "help"}, ...] */
char *fault_list_json(void)
{
	GString *s = g_string_new("[");

	for (unsigned i = 0; i < FAULT_MAX; i++) {
		const struct fault_def *d = &fault_table[i];
		const char *argdesc = d->arg == A_NUM ? "N" : d->arg == A_HEX ? "HEX" :
				      d->arg == A_WORD ? d->words : "";

		g_string_append_printf(s, "%s{\"name\": ", i ? ", " : "");
		json_str(s, d->name);
		g_string_append(s, ", \"arg\": ");
		json_str(s, argdesc);
		g_string_append_printf(s, ", \"armed\": %u, \"fired\": %" G_GUINT64_FORMAT
				       ", \"help\": ", armed[i].left, armed[i].fired);
		json_str(s, d->help);
		g_string_append_c(s, '}');
	}
	g_string_append_c(s, ']');
	return g_string_free(s, FALSE);
}

/* stats: "faults_fired": {"name": n, ...} (only those that fired) */
void fault_stats_json(GString *s)
{
	bool first = true;

	g_string_append(s, "\"faults_fired\": {");
	for (unsigned i = 0; i < FAULT_MAX; i++) {
		if (!armed[i].fired)
			continue;
		g_string_append_printf(s, "%s\"%s\": %" G_GUINT64_FORMAT, first ? "" : ", ",
				       fault_table[i].name, armed[i].fired);
		first = false;
	}
	g_string_append(s, "}");
}

const char *fault_name(enum fault_id id)
{
	return id < FAULT_MAX ? fault_table[id].name : "?";
}
