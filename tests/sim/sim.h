/*
 * openccid-sim: a virtual USB CCID reader on umockdev (see README.md).
 *
 * Layout:
 *   profile.c   profile file -> struct sim_device, USB descriptors
 *   usbdev.c    the USB device: control requests, endpoints, packets
 *   usbfs.c     backend: testbed devices, usbfs ioctls, URB queues (umockdev)
 *   usbredir.c  backend: a usb-redir peer (QEMU usb-redir, real guest kernel)
 *   ccid.c      reader side: CCID rev 1.1 section 6 commands, slots
 *   pinpad.c    the keypad: PC_to_RDR_Secure (section 6.1.11)
 *   card_*.c    card models behind a slot (struct card_ops vtable)
 *   main.c      options, control socket, signals, logging
 *
 * Threads: umockdev serves the ioctls on its own worker thread; the control
 * socket (and the usb-redir connection) runs on the main thread. All simulator state is guarded by
 * sim_lock (a recursive mutex; see sim_lock_take()).
 */
#ifndef OPENCCID_SIM_H
#define OPENCCID_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_MAX_DEVICES 16 /* --profile given several times */
#define SIM_MAX_IFACES 5
#define SIM_MAX_SLOTS 8
#define SIM_MAX_LIST 64
#define SIM_MAX_APDU (4 + 3 + 65535 + 3)
#define SIM_MAX_RESP (65536 + 2)

/* ---- profile / device model -------------------------------------------- */

struct sim_ccid_desc {
	uint8_t bLength;
	uint8_t bDescriptorType;
	uint16_t bcdCCID;
	uint8_t bMaxSlotIndex;
	uint8_t bVoltageSupport;
	uint32_t dwProtocols;
	uint32_t dwDefaultClock;
	uint32_t dwMaximumClock;
	uint8_t bNumClockSupported;
	uint32_t dwDataRate;
	uint32_t dwMaxDataRate;
	uint8_t bNumDataRatesSupported;
	uint32_t dwMaxIFSD;
	uint32_t dwSynchProtocols;
	uint32_t dwMechanical;
	uint32_t dwFeatures;
	uint32_t dwMaxCCIDMessageLength;
	uint8_t bClassGetResponse;
	uint8_t bClassEnvelope;
	uint16_t wLcdLayout;
	uint8_t bPINSupport;
	uint8_t bMaxCCIDBusySlots;
};

struct sim_iface {
	uint8_t bInterfaceNumber;
	uint8_t bInterfaceClass;
	uint8_t bInterfaceSubClass;
	uint8_t bInterfaceProtocol;
	uint8_t bNumEndpoints; /* 2 (no interrupt-IN) or 3 */
	char *iInterface;      /* NULL: no string */
	struct sim_ccid_desc ccid;
	uint32_t clocks[SIM_MAX_LIST];
	unsigned n_clocks;
	uint32_t rates[SIM_MAX_LIST];
	unsigned n_rates;
	/* The longest message the firmware really takes and sends, when it is
	 * not dwMaxCCIDMessageLength (SCM firmware says 263, takes 270); 0:
	 * dwMaxCCIDMessageLength. */
	uint32_t max_message_length_real;
	/* profile key ifN.contactless: the slots are a contactless reader's
	 * (rf.c: the reader builds the ATR, answers FF CA GET DATA) */
	bool contactless;
	/* synthesized endpoint addresses */
	uint8_t ep_out, ep_in, ep_intr;
};

struct sim_device {
	char *name;
	uint16_t idVendor, idProduct, bcdDevice;
	char *manufacturer, *product, *serial;
	bool class_desc_after_endpoints; /* Bludrive II */
	unsigned n_ifaces;
	struct sim_iface ifaces[SIM_MAX_IFACES];
	/* built by profile_build_descriptors() */
	uint8_t *descriptors; /* device descriptor + full configuration */
	size_t descriptors_len;
};

int profile_load(const char *path, struct sim_device *dev, char **err);
/* descfault.c: fault `desc` (armed before `plug`) mutates dev->descriptors */
void descfault_apply(struct sim_device *dev);
void profile_build_descriptors(struct sim_device *dev);
/* string descriptor index -> text (UTF-8), NULL if none */
const char *profile_string(const struct sim_device *dev, unsigned idx);

/* exchange level of an interface: dwFeatures & 0x00070000 */
#define CCID_LEVEL_MASK 0x00070000u
#define CCID_LEVEL_CHAR 0x00000000u
#define CCID_LEVEL_TPDU 0x00010000u
#define CCID_LEVEL_SHORT 0x00020000u
#define CCID_LEVEL_EXT 0x00040000u

/* ---- cards --------------------------------------------------------------- */

struct card;

struct card_ops {
	const char *kind;
	/* Cold/warm reset: ATR into atr (cap 33). 0 or -1 (mute). */
	int (*power_on)(struct card *c, uint8_t *atr, size_t *atr_len);
	void (*power_off)(struct card *c);
	/* One command APDU -> response (data + SW1 SW2), resp cap SIM_MAX_RESP. */
	int (*transmit)(struct card *c, const uint8_t *apdu, size_t len,
			uint8_t *resp, size_t *resp_len);
	/* Card taken out and put back: forget volatile state. */
	void (*reset_state)(struct card *c);
	/* Is a card physically there (vicc: a client is connected)? */
	bool (*present)(struct card *c);
	void (*destroy)(struct card *c);
	/* Optional, cards with a contactless interface (rf.c): activation in
	 * a contactless slot's field, after power_on; switches the card to
	 * that interface and gives its UID (cap 10) and ATS without CRC (cap
	 * 32). Cards without it get one made from their contact ATR. */
	int (*rf_activate)(struct card *c, uint8_t *uid, size_t *uid_len,
			   uint8_t *ats, size_t *ats_len);
};

struct card {
	const struct card_ops *ops;
	void *priv;
	/* builtin delay=MS: the answer to each APDU is this late (a slow
	 * card: other slots' answers overtake it) */
	unsigned delay_ms;
};

struct card *card_create(const char *spec, char **err);
struct card *card_builtin_new(const char *args, char **err);
struct card *card_cacard_new(const char *args, char **err);
struct card *card_vicc_new(const char *args, char **err);
/* tests/sim/emv/card_emv.c: the EMV payment card model */
struct card *card_emv_new(const char *args, char **err);
/* tests/sim/openpgp/card_openpgp.c (when built with HAVE_OPENPGP_CARD) */
struct card *card_openpgp_new(const char *args, char **err);

/* ---- reader side (ccid.c) -------------------------------------------- */

struct sim_stats {
	uint64_t urb_ctrl, urb_bulk_out, urb_bulk_in, urb_intr;
	uint64_t bytes_out, bytes_in, bytes_intr;
	uint64_t reap, reap_empty, discard;
	/* usb-redir: bulk-IN packets on the bus, zero-length ones among them */
	uint64_t in_packets, in_zlp;
	uint64_t cmd[256];
	uint64_t apdus;
	int last_protocol;
	int last_fidi;
	uint32_t last_clock, last_rate;
	/* protocol negotiation (README: stats keys) */
	uint64_t pps_seen, pps_accepted, pps_rejected;
	uint8_t last_pps[6];
	size_t last_pps_len;
	uint8_t last_pps_reply[6];
	size_t last_pps_reply_len;
	uint64_t set_params;
	uint8_t last_params[7];
	size_t last_params_len;
	uint64_t set_rate_clock;
	uint64_t get_clocks_req, get_rates_req;
	/* multi-slot */
	uint64_t busy_replies;
	unsigned max_in_flight;
	/* pinpad */
	uint64_t secure_verify, secure_modify, pin_ok, pin_wrong;
	uint64_t pin_timeout, pin_cancelled, pin_in_apdu_data;
	uint8_t last_secure[24]; /* abPINOperationDataStructure up to abPINApdu */
	size_t last_secure_len;
	uint64_t escape;
	/* time extensions sent (reader WTX and card S(WTX)) */
	uint64_t wtx_sent, card_wtx_sent;
	/* USBDEVFS_RESET ioctls (port resets) */
	uint64_t usb_resets;
	/* ICCD class requests answered (iccd.c) */
	uint64_t iccd_requests;
};

/* A message ready to go out on a bulk-IN or interrupt-IN endpoint. */
struct sim_msg {
	struct sim_msg *next;
	int64_t due; /* g_get_monotonic_time() before which it is held; 0: now */
	size_t len;
	int status; /* in-error fault: the bulk-IN URB fails with it */
	uint8_t data[];
};

/* ---- faults (fault.c) ---------------------------------------------------- */

enum fault_id {
	FAULT_WTX_FOREVER,
	FAULT_WTX,
	FAULT_CARD_WTX,
	FAULT_NO_REPLY,
	FAULT_LATE_REPLY,
	FAULT_STALL_IN,
	FAULT_STALL_OUT,
	FAULT_ZLP_BEFORE_REPLY,
	FAULT_DUP_REPLY,
	FAULT_WRONG_SEQ,
	FAULT_WRONG_SLOT,
	FAULT_WRONG_TYPE,
	FAULT_BAD_LENGTH,
	FAULT_OVERSIZE,
	FAULT_TRUNCATE,
	FAULT_T1_BAD_EDC,
	FAULT_T1_DROP_BLOCK,
	FAULT_T1_RBLOCK,
	FAULT_UNPLUG_DURING_XFR,
	FAULT_CARD_REMOVE_DURING_XFR,
	FAULT_INTR_GARBAGE,
	FAULT_NOTIFY_SPURIOUS,
	FAULT_MUTE,
	FAULT_HW_ERROR,
	FAULT_SLOT_BUSY,
	FAULT_POWERON_MUTE,
	FAULT_BAD_ATR,
	FAULT_SW,
	FAULT_CTRL_STALL,
	FAULT_PPS_REJECT,
	FAULT_DESC,
	FAULT_REPLY_DATA,
	FAULT_IN_ERROR,
	FAULT_SILENT,
	FAULT_WEDGE,
	FAULT_REPLY_AFTER_NEXT,
	FAULT_NO_ICC,
	FAULT_ZLP_EVERY,
	FAULT_ICCD_POLL,
	FAULT_ICCD_TYPE,
	FAULT_ICCD_CHAIN,
	FAULT_ICCD_LONG,
	FAULT_ICCD_STATUS_OK,
	FAULT_ICCD_BUSY,
	FAULT_PARAMS_LEN0,
	FAULT_MAX
};

/* Fires (and counts) an armed fault; cmd_type -1 matches any filter. */
bool fault_take(enum fault_id id, int cmd_type, long *arg);
bool fault_armed(enum fault_id id);
/* The armed ARG (persistent faults read it without firing). */
long fault_arg(enum fault_id id);
char *fault_arm(char **argv, unsigned argc);
void fault_disarm_all(void);
void fault_stats_reset(void);
char *fault_list_json(void);
const char *fault_name(enum fault_id id);
struct _GString;
void fault_stats_json(struct _GString *s);
/* main.c: faults that act when armed (interrupt messages) */
void fault_armed_hook(enum fault_id id);
/* main.c: unplug from the main loop (not inside an ioctl) */
void sim_unplug_soon(void);

struct ccid_slot {
	struct card *card;
	bool inserted;	/* not taken out by card-remove */
	bool powered;
	bool changed;	/* unreported change for NotifySlotChange */
	uint8_t atr[33];
	size_t atr_len;
	uint8_t protocol; /* 0 or 1 */
	uint8_t params[7];
	size_t params_len;
	bool clock_stopped;
	bool apdu_taken; /* the command being handled reached the card */
	/* extended APDU chaining (section 6.1.4) */
	uint8_t *cmd_buf;
	size_t cmd_len;
	uint8_t *rsp_buf;
	size_t rsp_len, rsp_off;
	/* T=0 TPDU adapter (TPDU-level readers): pending GET RESPONSE data */
	uint8_t *t0_pending;
	size_t t0_pending_len;
	/* T=1 block layer (TPDU-level readers) */
	uint8_t t1_ns, t1_nr;
	uint8_t *t1_cmd;
	size_t t1_cmd_len;
	uint8_t *t1_rsp;
	size_t t1_rsp_len, t1_rsp_off;
	uint8_t t1_last[260];
	size_t t1_last_len;
	uint8_t t1_wtx_left; /* card-wtx: S(WTX request)s still to send */
	/* PPS (ISO 7816-3 section 9): what the card runs at, what the host
	 * set with SetParameters (bmFindexDindex) */
	uint8_t card_fidi, host_fidi;
	/* pinpad (PC_to_RDR_Secure): PIN retries left on the built-in card */
	uint8_t t1_ifsc; /* card -> what the host may send */
	uint8_t t1_ifsd; /* host -> what the card may send (S(IFS)) */
	/* character level (ccid_char.c): characters the card sent that the
	 * reader has not delivered yet; T=0 command characters collected */
	uint8_t chr_out[600];
	size_t chr_out_len;
	uint8_t chr_in[5 + 256];
	size_t chr_in_len, chr_need;
	/* contactless slot (rf.c): the activated card's UID and ATS */
	bool contactless;
	uint8_t rf_uid[10];
	size_t rf_uid_len;
	uint8_t rf_ats[32];
	size_t rf_ats_len;
};

struct ccid_iface {
	struct sim_iface *desc;
	unsigned n_slots;
	struct ccid_slot slots[SIM_MAX_SLOTS];
	struct sim_msg *bulk_in_q, **bulk_in_tail;
	unsigned bulk_in_n; /* messages queued (bounded by SIM_MAX_QUEUED) */
	bool intr_pending_event;
	struct sim_msg *intr_extra; /* one injected interrupt message */
	uint16_t idVendor; /* vendor Escape commands (0x08e6: Gemalto) */
	/* wtx-forever: the header of the command being extended */
	bool wtx_forever;
	uint8_t wtx_hdr[10];
	int64_t wtx_next, wtx_period;
	/* silent: commands swallowed before this time; wedge: until reset */
	int64_t silent_until;
	bool wedged;
	/* reply-after-next: answers held until the next command */
	struct sim_msg *deferred;
	/* zlp-every: when the next zero-length transfer is due */
	int64_t zlp_next;
	void *iccd; /* ICCD token state (iccd.c); NULL until used */
};
#define SIM_MAX_QUEUED 4096

/* Next bulk-IN message due at `now` (NULL: none; *next_due: the earliest
 * held one, 0 if none). */
struct sim_msg *ccid_take_reply(struct ccid_iface *ci, int64_t now, int64_t *next_due);
/* Drop every queued answer (endpoint halt). */
void ccid_drop_replies(struct ccid_iface *ci);
void ccid_intr_garbage(struct ccid_iface *ci, long kind);
void ccid_notify_spurious(struct ccid_iface *ci);

/* pinpad input for the next PC_to_RDR_Secure (control commands) */
enum pinpad_mode { PINPAD_NONE, PINPAD_DIGITS, PINPAD_TIMEOUT, PINPAD_CANCEL };
void ccid_pinpad_set(enum pinpad_mode mode, const char *digits, const char *digits2,
		     const char *digits3);
/* a VERIFY / CHANGE REFERENCE DATA reached a card: from a Secure or not */
extern bool ccid_in_secure;
/* pinpad.c: PC_to_RDR_Secure; the card's answer to it (stats) */
void pinpad_secure(struct ccid_iface *ci, struct ccid_slot *s, const uint8_t *msg,
		   const uint8_t *d, size_t n);
void pinpad_card_answer(const uint8_t *rsp, size_t n);
/* ccid.c for pinpad.c: RDR_to_PC_DataBlock; a block to the card (XfrBlock) */
void ccid_datablock(struct ccid_iface *ci, const uint8_t *msg, bool failed, uint8_t err,
		    const uint8_t *data, size_t dlen);
void ccid_xfr_block(struct ccid_iface *ci, struct ccid_slot *s, const uint8_t *msg,
		    const uint8_t *data, size_t dlen);
/* ccid.c for ccid_char.c: the TPDU-level card layers, and a capture of
 * the one reply they make (instead of queueing it) */
struct sim_capture {
	bool set;
	uint8_t status, error, b9; /* b9: bChainParameter of a DataBlock */
	uint8_t data[600];
	size_t len;
};
/* Replies go into c instead of bulk-IN (NULL: bulk-IN again); returns
 * the capture it replaces, so that captures nest (iccd.c over
 * ccid_char.c). */
struct sim_capture *ccid_capture(struct sim_capture *c);
void xfr_t0(struct ccid_iface *ci, struct ccid_slot *s, const uint8_t *cmd,
	    const uint8_t *d, size_t n);
void xfr_t1(struct ccid_iface *ci, struct ccid_slot *s, const uint8_t *cmd,
	    const uint8_t *d, size_t n);
/* ccid_char.c: XfrBlock on a character-level reader */
/* T=0: does INS send data to the host (case 2)? */
bool sim_t0_receives(uint8_t ins);
/* iccd.c: one ICCD class request (bInterfaceProtocol 1 or 2); the
 * data-stage length or -errno (-EPIPE: stall, -EOVERFLOW: babble) */
int iccd_control(struct ccid_iface *ci, uint8_t type, uint8_t req, uint16_t wValue,
		 uint8_t *data, uint16_t wLength);
void iccd_free(struct ccid_iface *ci);
void ccid_char_xfr(struct ccid_iface *ci, struct ccid_slot *s, const uint8_t *cmd,
		   const uint8_t *d, size_t n);

/* rf.c: a contactless slot's reader firmware. The PC/SC part 3 ATR of an
 * ISO 14443-4 type A card from its ATS (0: malformed ATS or cap < 20);
 * activation after the card's power_on (UID, ATS, s->atr; -1: mute); the
 * reader's own GET DATA (FF CA): true when it answered the APDU. */
size_t rf_atr_from_ats(const uint8_t *ats, size_t n, uint8_t *atr, size_t cap);
int rf_activate(struct ccid_slot *s);
bool rf_get_data(const uint8_t *uid, size_t uid_len, const uint8_t *ats,
		 size_t ats_len, const uint8_t *apdu, size_t len, uint8_t *resp,
		 size_t *rlen);

void ccid_init(struct ccid_iface *ci, struct sim_iface *desc,
	       struct card **cards, unsigned n_cards);
/* One PC_to_RDR message from bulk-OUT; queues the answer on bulk_in_q. */
void ccid_handle_out(struct ccid_iface *ci, const uint8_t *msg, size_t len);
/* NotifySlotChange message if any slot changed; NULL otherwise. */
struct sim_msg *ccid_take_notify(struct ccid_iface *ci);
void ccid_card_insert(struct ccid_iface *ci, unsigned slot);
void ccid_card_remove(struct ccid_iface *ci, unsigned slot);
/* Power everything off and forget chaining state (USB reset, unplug). */
void ccid_reset(struct ccid_iface *ci);
void ccid_abort(struct ccid_iface *ci, uint8_t slot, uint8_t seq);

/* ---- the USB side of the device model (usbdev.c), shared by backends --- */

/*
 * One simulated USB device as its endpoints see it, whichever backend
 * carries its packets (umockdev's usbfs or usb-redir). The backends embed it
 * and leave control requests, bulk-OUT reassembly, endpoint halts, bulk-IN
 * packetisation and the held-answer timing to usbdev.c.
 */
struct sim_inpipe {
	struct sim_msg *msg; /* being sent, NULL: none */
	size_t off;	     /* bytes of msg already sent */
};

struct sim_usb {
	unsigned index; /* position on the command line */
	struct sim_device *dev;
	struct ccid_iface *ifaces;
	bool present; /* plugged in */
	uint8_t config;
	/* partial bulk-OUT message per interface */
	uint8_t *out_acc[SIM_MAX_IFACES];
	size_t out_len[SIM_MAX_IFACES];
	/* endpoint halts (stall-in / stall-out faults) until CLEAR_HALT */
	bool in_halted[SIM_MAX_IFACES], out_halted[SIM_MAX_IFACES];
	/* bulk-IN on a packet bus (usb-redir): the message being sent */
	struct sim_inpipe in_pipe[SIM_MAX_IFACES];
};

enum usbdev_ep_kind { EP_BULK_OUT, EP_BULK_IN, EP_INTR_IN };

/* setup: the 8 setup bytes; data: wLength bytes (IN: filled here).
 * Returns the data-stage length or -EPIPE (stall). */
int usbdev_control(struct sim_usb *u, const uint8_t *setup, uint8_t *data);
/* interface index of endpoint address ep, -1 if none */
int usbdev_iface_by_ep(const struct sim_usb *u, uint8_t ep, enum usbdev_ep_kind *kind);
int usbdev_iface_by_number(const struct sim_usb *u, unsigned num);
/* bytes of a bulk-OUT transfer: complete messages go to ccid_handle_out */
void usbdev_bulk_out(struct sim_usb *u, unsigned i, const uint8_t *b, size_t n);
void usbdev_clear_halt(struct sim_usb *u, unsigned ep);
/* USB reset / plug: cards off, answers, partial messages and halts gone */
void usbdev_reset(struct sim_usb *u);
/* When, after `now`, an answer held on interface i becomes due (0: none). */
int64_t usbdev_next_held(struct sim_usb *u, unsigned i, int64_t now);
/*
 * One bulk-IN transfer of up to cap bytes on a full-speed bus: the reader
 * sends its answer in wMaxPacketSize (64) packets; the transfer ends with a
 * short packet, or a zero-length one after an exact multiple of 64, or when
 * cap is full (the rest, ZLP included, goes to the next transfer).
 * Returns the bytes given (>= 0), -EAGAIN when nothing is due (the transfer
 * waits; *next_due: when a held answer is due, 0 none), -EOVERFLOW when a
 * packet does not fit in cap (babble), or the in-error fault's status.
 */
int usbdev_bulk_in(struct sim_usb *u, unsigned i, uint8_t *buf, size_t cap,
		   int64_t now, int64_t *next_due);
#define SIM_BULK_MPS 64

/* ---- backends: usbfs.c (umockdev) or usbredir.c (usb-redir) ------------ */

struct sim_backend {
	const char *name;
	/* Called once per device (repeated --profile); arg: backend address */
	int (*start)(struct sim_device *dev, struct ccid_iface *ifaces,
		     const char *arg, char **ready_line, char **err);
	int (*unplug)(unsigned dev_index, char **err);
	int (*plug)(unsigned dev_index, char **err);
	/* The device the current request is for (faults that unplug it). */
	unsigned (*current)(void);
	/* Something new for interrupt-IN / bulk-IN: complete waiting transfers. */
	void (*kick)(void);
	/* stall-in: bulk-IN of this interface halts until CLEAR_HALT */
	void (*halt_in)(const struct ccid_iface *ci);
	void (*stop)(void);
};
extern const struct sim_backend usbfs_backend;
extern const struct sim_backend usbredir_backend;
/* usbredir.c: --exit-with-peer (exit when QEMU's connection closes, or
 * when none came within 120 s) */
extern bool usbredir_exit_with_peer;
/* main.c: leave the main loop (clean exit) */
void sim_quit(void);
/* main.c: the backend in use */
extern const struct sim_backend *sim_backend;
#define sim_kick() sim_backend->kick()

/* ---- shared ---------------------------------------------------------- */

extern struct sim_stats sim_stats;
void sim_lock_take(void);
void sim_lock_give(void);
void sim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sim_hexlog(const char *what, const uint8_t *b, size_t n);
extern int sim_verbose;

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}
static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static inline void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}
static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
}

#endif
