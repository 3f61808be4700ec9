/*
 * openccid - Info.plist configuration (see drvconf.h).
 */
/* dladdr() is a GNU extension (glibc <dlfcn.h>). */
#define _GNU_SOURCE 1
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "ifd/drvconf.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file_read.h"
#include "base/log.h"
#include "codec/plist.h"

#define DRVCONF_PATH_MAX 4096

static pthread_once_t conf_once = PTHREAD_ONCE_INIT;
/* Configuration: written during drvconf_init(), read afterwards. */
static atomic_uint_least32_t driver_options;
static atomic_uint time_ext_max_ms; /* 0: the built-in cap */
/* Written once by conf_init_once(), read-only after pthread_once. */
static char trace_dir[DRVCONF_PATH_MAX];

const char *
drvconf_trace_dir(void)
{
	return trace_dir[0] != '\0' ? trace_dir : NULL;
}

/* OPENCCID_TRACE_DIR: where each opened reader records a trace. */
static void
trace_dir_from_env(void)
{
	const char *env = getenv("OPENCCID_TRACE_DIR");

	if (env == NULL || env[0] == '\0')
		return;
	if (strlen(env) >= sizeof(trace_dir)) {
		OC_LOG_CRIT("OPENCCID_TRACE_DIR is too long; no traces");
		return;
	}
	memcpy(trace_dir, env, strlen(env) + 1);
	OC_LOG_INFO("recording traces in %s", trace_dir);
}

/*
 * OPENCCID_SHOW_SECRETS: the COMM log and traces show secret data. Only
 * this exact value turns it on, so that no "1" or "yes" left in a unit
 * file does by accident; anything else is refused with a log line.
 */
static void
show_secrets_from_env(void)
{
	const char *env = getenv("OPENCCID_SHOW_SECRETS");

	if (env == NULL || env[0] == '\0')
		return;
	if (strcmp(env, DRVCONF_SHOW_SECRETS_VALUE) != 0) {
		OC_LOG_CRIT("OPENCCID_SHOW_SECRETS is not %s; secrets stay "
			    "hidden", DRVCONF_SHOW_SECRETS_VALUE);
		return;
	}
	oc_log_set_show_secrets(1);
	OC_LOG_CRIT("OPENCCID_SHOW_SECRETS: PINs, keys and other secret "
		    "data are written in clear to the COMM log and traces");
}

unsigned
drvconf_time_ext_max_ms(void)
{
	return atomic_load(&time_ext_max_ms);
}

/*
 * OPENCCID_TIME_EXT_MAX_MS: wall time a command may be extended by the
 * reader's time-extension replies (CCID section 6.2.6), decimal ms.
 */
static void
time_ext_from_env(void)
{
	const char *env = getenv("OPENCCID_TIME_EXT_MAX_MS");
	char *end = NULL;
	unsigned long v;

	if (env == NULL)
		return;
	errno = 0;
	v = strtoul(env, &end, 10);
	if (errno != 0 || end == env || *end != '\0' || v == 0 ||
	    v > DRVCONF_TIME_EXT_MAX_MS) {
		OC_LOG_CRIT("OPENCCID_TIME_EXT_MAX_MS is not 1..%u; ignored",
		    DRVCONF_TIME_EXT_MAX_MS);
		return;
	}
	atomic_store(&time_ext_max_ms, (unsigned)v);
	OC_LOG_INFO("time extensions capped at %lu ms", v);
}

uint32_t
drvconf_driver_options(void)
{
	return (uint32_t)atomic_load(&driver_options);
}

int
drvconf_load(const char *path)
{
	struct plist_config cfg;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	/* A symbolic link is refused: pcscd runs as root, and only the
	 * bundle's own file, installed with it, configures the driver. */
	rc = file_read_whole(path, PLIST_MAX_SIZE, FILE_READ_NOFOLLOW, &buf,
	    &len);
	if (rc != OC_OK) {
		OC_LOG_CRIT("%s: cannot read (%s); default configuration",
		    path, file_read_strerror(rc));
		return rc;
	}
	rc = plist_read_config(buf, len, &cfg);
	free(buf);
	if (rc != OC_OK) {
		OC_LOG_CRIT("%s: malformed ifdLogLevel or ifdDriverOptions "
			    "(want <string>0xHEX</string> or decimal, level "
			    "at most 0xff); default configuration", path);
		return rc;
	}
	if (cfg.has_log_level)
		oc_log_set_level(cfg.log_level);
	if (cfg.has_driver_options)
		atomic_store(&driver_options, cfg.driver_options);
	OC_LOG_INFO("%s: ifdLogLevel 0x%02X, ifdDriverOptions 0x%04X", path,
	    oc_log_get_level(), (unsigned)drvconf_driver_options());
	return OC_OK;
}

/* <bundle>/Contents/Linux/libopenccid.so -> <bundle>/Contents/Info.plist */
static int
plist_path(char *out, size_t cap)
{
	Dl_info dl;
	const char *slash;
	size_t dir;
	static const char rel[] = "/../Info.plist";

	if (dladdr((void *)(uintptr_t)drvconf_init, &dl) == 0 ||
	    dl.dli_fname == NULL || (slash = strrchr(dl.dli_fname, '/')) == NULL)
		return OC_ENODEV;
	dir = (size_t)(slash - dl.dli_fname);
	if (dir > cap - sizeof(rel))
		return OC_ERANGE;
	memcpy(out, dl.dli_fname, dir);
	memcpy(out + dir, rel, sizeof(rel));
	return OC_OK;
}

static void
conf_init_once(void)
{
	char path[DRVCONF_PATH_MAX];
	const char *env;
	unsigned mask;

	if (plist_path(path, sizeof(path)) == OC_OK)
		(void)drvconf_load(path);
	else
		OC_LOG_CRIT("cannot locate the driver bundle; default "
			    "configuration");
	time_ext_from_env();
	trace_dir_from_env();
	show_secrets_from_env();
	env = getenv("OPENCCID_LOG_LEVEL");
	if (env == NULL)
		return;
	if (oc_log_parse_level(env, &mask) == OC_OK)
		oc_log_set_level(mask);
	else
		OC_LOG_CRIT("OPENCCID_LOG_LEVEL is not a level 0..0xff; "
			    "ignored");
}

void
drvconf_init(void)
{
	(void)pthread_once(&conf_once, conf_init_once);
}
