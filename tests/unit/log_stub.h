/*
 * openccid tests - pcscd's log_msg()/log_xxd() captured in memory.
 */
#ifndef OPENCCID_TEST_LOG_STUB_H
#define OPENCCID_TEST_LOG_STUB_H

#include <stdbool.h>
#include <stddef.h>

void log_stub_reset(void);
size_t log_stub_count(void);
/* True if any captured line contains needle. */
bool log_stub_contains(const char *needle);

#endif
