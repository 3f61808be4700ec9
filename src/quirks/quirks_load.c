/*
 * openccid - load quirks: the compiled-in files and the run-time override
 * directory (see quirks.h). The only part of the quirks module doing I/O;
 * every file goes through the same strict parser as the built-in text.
 */
#include "config.h"

#include "quirks/quirks_load.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "quirks/quirks.h"
#include "quirks/quirks_parse.h"

#define SUFFIX       ".quirks"
#define NAME_MAX_LEN 64 /* longer names are reported and skipped */

int
quirks_load_builtin(struct quirk_table *t, char *err, size_t errlen)
{
	size_t i;
	int rc;

	for (i = 0; i < quirks_builtin_nfiles; i++) {
		const struct quirks_blob *b = &quirks_builtin_files[i];

		rc = quirks_parse(b->text, b->len, b->name, t, err, errlen);
		if (rc != OC_OK)
			return rc;
	}
	return quirks_check_conflicts(t, 0, err, errlen);
}

static void
report_fmt(void (*report)(void *, const char *), void *ctx, const char *dir,
    const char *name, const char *why)
{
	char msg[384];

	if (report == NULL)
		return;
	snprintf(msg, sizeof(msg), "%s/%s: %s", dir, name, why);
	report(ctx, msg);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* Read a regular file of at most QUIRKS_MAX_FILE_SIZE bytes into buf. */
static int
read_bounded(int dfd, const char *name, char *buf, size_t *len)
{
	struct stat st;
	size_t got = 0;
	int fd, rc = OC_OK;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return OC_EACCES;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = OC_EINVAL;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + got, QUIRKS_MAX_FILE_SIZE + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = OC_EIO;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > QUIRKS_MAX_FILE_SIZE) {
			rc = OC_ERANGE;
			goto out;
		}
	}
	*len = got;
out:
	close(fd);
	return rc;
}

static size_t
list_dir(DIR *d, char (*names)[NAME_MAX_LEN], size_t cap, const char *dir,
    void (*report)(void *, const char *), void *ctx)
{
	const size_t sl = strlen(SUFFIX);
	struct dirent *de;
	size_t n = 0;

	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (de->d_name[0] == '.' || l <= sl ||
		    strcmp(de->d_name + l - sl, SUFFIX) != 0)
			continue;
		if (l >= NAME_MAX_LEN || n == cap) {
			report_fmt(report, ctx, dir, de->d_name,
			    l >= NAME_MAX_LEN ? "name too long, ignored"
			                      : "too many files, ignored");
			continue;
		}
		memcpy(names[n++], de->d_name, l + 1);
	}
	return n;
}

int
quirks_load_dir(struct quirk_table *t, const char *dir,
    void (*report)(void *ctx, const char *msg), void *ctx)
{
	char names[QUIRKS_MAX_FILES][NAME_MAX_LEN];
	char err[320], path[QUIRKS_MAX_NAME];
	size_t n, i;
	int loaded = 0, dfd;
	char *buf;
	DIR *d;

	if (dir == NULL)
		return OC_EINVAL;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : OC_EACCES;
	d = fdopendir(dfd);
	if (d == NULL) {
		close(dfd);
		return OC_ENOMEM;
	}
	n = list_dir(d, names, QUIRKS_MAX_FILES, dir, report, ctx);
	qsort(names, n, sizeof(names[0]), cmp_names);
	buf = malloc(QUIRKS_MAX_FILE_SIZE + 1);
	if (buf == NULL) {
		closedir(d);
		return OC_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		size_t len = 0;
		int rc = read_bounded(dirfd(d), names[i], buf, &len);

		if (rc != OC_OK) {
			report_fmt(report, ctx, dir, names[i],
			    rc == OC_ERANGE ? "file too large, ignored"
			                    : "cannot read, ignored");
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (quirks_parse(buf, len, path, t, err, sizeof(err)) !=
		    OC_OK) {
			if (report != NULL)
				report(ctx, err);
			continue;
		}
		loaded++;
	}
	free(buf);
	closedir(d);
	return loaded;
}
