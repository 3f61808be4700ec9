/*
 * openccid - read a whole file of bounded size (L0: plain file I/O).
 *
 * For the files the driver and its tools take from users (Info.plist,
 * traces): the size is capped before anything is allocated, only regular
 * files are read, and every failure is a distinct OC_E* code that
 * file_read_strerror() turns into words for a log line or a message.
 */
#ifndef OPENCCID_FILE_READ_H
#define OPENCCID_FILE_READ_H

#include <stddef.h>
#include <stdint.h>

/* Refuse a symbolic link as the last component of the path. */
#define FILE_READ_NOFOLLOW 0x1u

/*
 * path into a fresh buffer (free() it), NUL-terminated one past *len so
 * that text parsers may stop there. At most max bytes. Returns OC_OK,
 * OC_ENODEV (no such file), OC_EACCES (permission denied), OC_EINVAL
 * (not a regular file: a directory, a FIFO), OC_ERANGE (over max),
 * OC_ENOMEM or OC_EIO (any other open or read failure; a symbolic link
 * under FILE_READ_NOFOLLOW). *out and *len are written only on success.
 */
int file_read_whole(const char *path, size_t max, unsigned flags,
    uint8_t **out, size_t *len);

/* "no such file", "larger than allowed", ...: why file_read_whole() failed. */
const char *file_read_strerror(int rc);

#endif
