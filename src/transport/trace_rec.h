/*
 * openccid - trace recording: a struct transport that forwards to the
 * real one and writes every operation to a trace file (trace_fmt.h).
 *
 * Switched on by OPENCCID_TRACE_DIR in pcscd's environment: every reader
 * (interface) opened then writes its own file there, created 0600 with
 * O_EXCL|O_NOFOLLOW. A file that cannot be created is logged and the
 * reader works untraced. Bytes that may be secret are written as "??":
 * what redact_ccid_msg() hides in bulk-OUT messages, and, while the
 * exchange of a command the policy of redact.c hides is in progress
 * (trace_rec_hide(), from src/reader/secret.c), the whole payload of
 * every bulk-OUT message (secret answers: bulk-IN) and control transfer,
 * since TPDU chaining and character-level pieces put secret bytes in
 * messages a stateless redactor cannot recognise. OPENCCID_SHOW_SECRETS
 * (base/log.h) shows them. Thread-safe: one lock orders the records of all threads
 * (slots, the polling thread). The file stops at a size cap with one log
 * line.
 */
#ifndef OPENCCID_TRACE_REC_H
#define OPENCCID_TRACE_REC_H

#include <stdbool.h>
#include <stdint.h>

#include "codec/trace_types.h"
#include "transport/transport.h"
#include "transport/usb.h"

/* 64 MiB per file, the cap comment included (what replay reads). */
#define TRACE_REC_CAP_BYTES (TRACE_MAX_FILE - 4096u)
/*
 * All trace files of the directory together: a new file is opened only
 * while those already there total less, and stops at what is left.
 */
#define TRACE_REC_TOTAL_BYTES (256ull << 20)

struct trace_rec;

/*
 * Start recording into a new file in dir: *tr is replaced by the
 * recording wrapper around it, the header and the "call op=open" record
 * are written. Returns the recorder with one reference for the caller
 * (give it back with trace_rec_opened()), or NULL (nothing changed; the
 * reason is logged). The wrapper's close closes the wrapped transport.
 */
struct trace_rec *trace_rec_start(const char *dir, struct transport *tr,
    const struct usb_info *info, uint32_t driver_options,
    uint64_t cap_bytes);
/* Writes "ret op=open" with the open's result, drops the reference. */
void trace_rec_opened(struct trace_rec *t, long ifd);

/* The recorder behind a transport, NULL if it is not one. */
struct trace_rec *trace_rec_of(const struct transport *tr);
void trace_rec_ref(struct trace_rec *t);
void trace_rec_unref(struct trace_rec *t);
/* A host-level record (call or ret), written as given. */
void trace_rec_host(struct trace_rec *t, const struct trace_record *rec);
/*
 * +1 when the exchange of a command whose data (out) or answer (in) is
 * secret begins, -1 when it ends (src/reader/secret.c): meanwhile the
 * payloads of bulk-OUT (bulk-IN) messages and control transfers to
 * (from) the device are written as "??" after their CCID header.
 */
void trace_rec_hide(struct trace_rec *t, bool out, bool in, int delta);
/* The file's path (for logs and tests). */
const char *trace_rec_path(const struct trace_rec *t);

#endif
