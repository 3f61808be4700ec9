/*
 * openccid - the words of the trace format (see trace_names.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "codec/trace_names.h"

const char *const trace_kind_names[TRACE_NKINDS] = {
	"out", "in", "intr", "ctl", "halt", "call", "ret",
};

const char *const trace_op_names[TRACE_OP_COUNT] = {
	"open", "power", "proto", "transmit", "control", "getcap", "setcap",
	"presence", "close",
};

const char *const trace_rc_names[TRACE_NRCS] = {
	"ok", "EINVAL", "ETRUNC", "ERANGE", "ENOMEM", "EIO", "ETIMEDOUT",
	"ENODEV", "EPROTO", "ENOTSUP", "ENOCARD", "ENOSPC", "EBUSY", "ECARD",
	"ESTALL", "EACCES", "ECANCELED",
};

const char *
trace_kind_name(enum trace_kind k)
{
	return (size_t)k < TRACE_NKINDS ? trace_kind_names[k] : "?";
}

const char *
trace_op_name(enum trace_op op)
{
	return (size_t)op < TRACE_OP_COUNT ? trace_op_names[op] : "?";
}

const char *
trace_rc_name(int rc)
{
	/* An rc outside the table is still a failure: never "ok". */
	if (rc > 0 || (size_t)-(long)rc >= TRACE_NRCS)
		return "EIO";
	return trace_rc_names[(size_t)-(long)rc];
}
