/*
 * openccid - a struct transport that serves a recorded trace (for
 * openccid-replay and the unit tests; not part of the driver module).
 *
 * The transport records (out, in, ctl, halt) form one stream served in
 * order: a bulk-OUT must match the next "out" record (wildcards match any
 * byte), a read gets the next "in"/"ctl" record's data or error. The
 * first difference fails the replay for good, with the record's line;
 * every later operation gets OC_EIO.
 *
 * Interrupt-IN is asynchronous in reality, so replay follows one
 * deterministic rule: an "intr" record is handed to an intr_in() read
 * only once the stream has been served up to the record's place in the
 * trace; until then the read waits (its timeout, a cancel). Before the
 * replayer issues a host call, trace_replay_sync() waits until every
 * intr record before that call was read and the driver came back for
 * the next one (so the events it carried are filed).
 */
#ifndef OPENCCID_TRACE_REPLAY_H
#define OPENCCID_TRACE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>

#include "codec/trace_types.h"
#include "transport/transport.h"

struct trace_replay;

/* t must outlive the replay. NULL when out of memory. */
struct trace_replay *trace_replay_new(const struct trace *t);
void trace_replay_free(struct trace_replay *rp);
/* The transport; its close only marks the replay closed. */
void trace_replay_transport(struct trace_replay *rp, struct transport *tr);

/*
 * Before the host call at record index idx: the stream must have been
 * served exactly up to idx (else the driver did fewer transfers than
 * recorded: a failure), then the intr records before idx must be read
 * and filed within timeout_ms. OC_OK, or OC_EPROTO (failed).
 */
int trace_replay_sync(struct trace_replay *rp, size_t idx,
    unsigned timeout_ms);
/* After the host call whose ret is at idx: the stream served up to idx. */
int trace_replay_check_at(struct trace_replay *rp, size_t idx);
/*
 * Everything before record index end served (end = the record count:
 * the whole trace)? OC_OK or OC_EPROTO (failed, message set).
 */
int trace_replay_finish(struct trace_replay *rp, size_t end);
/* Record a failure found by the caller (first one wins). */
void trace_replay_fail(struct trace_replay *rp, unsigned line,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The first failure, "" if none. */
const char *trace_replay_error(struct trace_replay *rp);
/* A poller left for good: interrupt data can no longer be waited for. */
void trace_replay_poller_gone(struct trace_replay *rp);

#endif
