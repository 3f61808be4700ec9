/*
 * openccid - bounded whole-file reads (see file_read.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "base/file_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"

static int
open_errno_to_rc(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return OC_ENODEV;
	case EACCES:
	case EPERM:
		return OC_EACCES;
	default:
		return OC_EIO;
	}
}

/*
 * The size is taken from fstat() of the open descriptor, not from the
 * path, so the file checked is the file read. Only a regular file has a
 * size to trust: a FIFO or a character device could feed us forever.
 */
static int
check_size(int fd, size_t max, size_t *size)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return OC_EIO;
	if (!S_ISREG(st.st_mode))
		return OC_EINVAL;
	if (st.st_size < 0 ||
	    (unsigned long long)st.st_size > (unsigned long long)max ||
	    (unsigned long long)st.st_size >= (unsigned long long)SIZE_MAX)
		return OC_ERANGE; /* the second bound: size + 1 must not wrap */
	*size = (size_t)st.st_size;
	return OC_OK;
}

/* Up to size bytes; a file that shrank since fstat() gives fewer. */
static int
read_upto(int fd, uint8_t *buf, size_t size, size_t *have)
{
	ssize_t n;

	*have = 0;
	/* Bounded by the size seen at fstat(): a growing file is cut. */
	while (*have < size) {
		n = read(fd, buf + *have, size - *have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return OC_EIO;
		if (n == 0)
			break;
		*have += (size_t)n;
	}
	return OC_OK;
}

int
file_read_whole(const char *path, size_t max, unsigned flags,
    uint8_t **out, size_t *len)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer (it is then
	 * refused as not a regular file); regular files ignore the flag. */
	int oflags = O_RDONLY | O_CLOEXEC | O_NONBLOCK, fd, rc;
	uint8_t *buf = NULL;
	size_t size = 0, have = 0;

	if ((flags & FILE_READ_NOFOLLOW) != 0)
		oflags |= O_NOFOLLOW;
	if ((fd = open(path, oflags)) < 0)
		return open_errno_to_rc(errno);
	if ((rc = check_size(fd, max, &size)) != OC_OK)
		goto out;
	if ((buf = malloc(size + 1)) == NULL) {
		rc = OC_ENOMEM;
		goto out;
	}
	if ((rc = read_upto(fd, buf, size, &have)) != OC_OK)
		goto out;
	buf[have] = 0;
	*out = buf;
	*len = have;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

const char *
file_read_strerror(int rc)
{
	switch (rc) {
	case OC_OK:
		return "no error";
	case OC_ENODEV:
		return "no such file";
	case OC_EACCES:
		return "permission denied";
	case OC_EINVAL:
		return "not a regular file";
	case OC_ERANGE:
		return "larger than allowed";
	case OC_ENOMEM:
		return "out of memory";
	default:
		return "cannot be read";
	}
}
