/*
 * openccid tools - pcscd's log functions (log_msg, log_xxd), which the
 * driver's src/base/log.c calls, for programs that run the driver's code
 * outside pcscd: the lines go to standard error when enabled.
 */
#ifndef OPENCCID_TOOLS_PCSCD_LOG_H
#define OPENCCID_TOOLS_PCSCD_LOG_H

#include <stdbool.h>

/* Print the driver's log lines on stderr (-v); off by default. */
void tool_log_verbose(bool on);

#endif
