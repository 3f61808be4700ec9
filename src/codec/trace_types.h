/*
 * openccid - the trace format (codec: formatting and parsing, no I/O):
 * its limits, records and device header, types only.
 *
 * A trace is line-oriented text (tests/traces/README.md documents it):
 * "openccid-trace 1", a header describing the device as the driver saw
 * it at open, then one record per transport operation and per IFDH call,
 * each "<ms> <kind> key=value ...". Byte strings are hex, "??" being a
 * byte the recorder hid (a possible PIN) that matches any byte. The
 * parser takes untrusted files: every line, field and count is bounded
 * and anything unknown, repeated or out of range is refused with the
 * line number.
 *
 * trace_fmt.c writes (the recorder's side, trace_fmt.h), trace_parse.c
 * reads (the replay's side, trace_parse.h); both take their words from
 * trace_names.c (trace_names.h) so that they cannot drift apart.
 */
#ifndef OPENCCID_TRACE_TYPES_H
#define OPENCCID_TRACE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRACE_VERSION 1
#define TRACE_MAX_DATA 70000u       /* bytes in one record (64 KiB APDU+) */
#define TRACE_MAX_LINE (2u * TRACE_MAX_DATA + 256u)
#define TRACE_MAX_RECORDS 1000000u
#define TRACE_MAX_FILE 67108864u      /* 64 MiB */
#define TRACE_DESC_MAX 255u         /* bLength is one byte */
#define TRACE_STR_MAX 127u          /* usb_info strings, NUL excluded */

enum trace_kind {
	TRACE_OUT,  /* bulk-OUT: data sent, rc */
	TRACE_IN,   /* bulk-IN: data (maybe empty: ZLP) or an error rc */
	TRACE_INTR, /* interrupt-IN: data or an error rc */
	TRACE_CTL,  /* control request: type req value len, rc, data */
	TRACE_HALT, /* clear_halt: ep in/out, rc */
	TRACE_CALL, /* IFDH call begins: op slot a b cap, input data */
	TRACE_RET,  /* IFDH call returns: op slot ifd, output data */
};

enum trace_op {
	TRACE_OP_OPEN,
	TRACE_OP_POWER,    /* a = Action, cap = *AtrLength */
	TRACE_OP_PROTO,    /* a = Protocol, b = Flags | PTS1..3 << 8.. */
	TRACE_OP_TRANSMIT, /* a = SendPci.Protocol, cap = *RxLength */
	TRACE_OP_CONTROL,  /* a = dwControlCode, cap = RxLength */
	TRACE_OP_GETCAP,   /* a = Tag, cap = *Length */
	TRACE_OP_SETCAP,   /* a = Tag */
	TRACE_OP_PRESENCE,
	TRACE_OP_CLOSE,
	TRACE_OP_COUNT
};

struct trace_record {
	enum trace_kind kind;
	uint64_t ms;          /* since the trace began */
	int rc;               /* OC_E* of a transport record */
	long ifd;             /* RESPONSECODE of a ret */
	uint8_t type, req;    /* ctl: bmRequestType, bRequest */
	uint16_t value;       /* ctl: wValue */
	uint32_t len;         /* ctl: wLength asked */
	bool ep_in;           /* halt */
	enum trace_op op;     /* call, ret */
	uint32_t slot, a, b, cap;
	/* known[i] == 0: byte i is a wildcard ("??"); NULL: all known */
	const uint8_t *data;
	const uint8_t *known;
	size_t data_len;
	bool has_data;        /* "data=" present (an empty one is a ZLP) */
	unsigned line;        /* parser: 1-based line number */
};

struct trace_device {
	uint16_t vid, pid, bcdDevice;
	uint8_t bus, addr, interface, bInterfaceProtocol, bInterfaceClass;
	bool has_intr, desc_after_endpoints;
	uint32_t driver_options;
	uint8_t desc[TRACE_DESC_MAX];
	size_t desc_len;
	char manufacturer[TRACE_STR_MAX + 1];
	char product[TRACE_STR_MAX + 1];
	char serial[TRACE_STR_MAX + 1];
};

struct trace {
	struct trace_device dev;
	struct trace_record *rec;
	size_t n;
};

#endif
