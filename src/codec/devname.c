/*
 * openccid - parse pcscd device names (see devname.h).
 *
 * The string comes from pcscd's hotplug code (or from a reader.conf a user
 * wrote), so it is untrusted: every field has a fixed width or a bounded
 * value, and anything not matching one of the three forms exactly is
 * refused rather than guessed at.
 */
#include "config.h"

#include "codec/devname.h"

#include <string.h>

#include "base/bytes.h"
#include "base/err.h"

/* Exactly four hex digits, as pcscd prints "%04x". */
static int
parse_hex16(const char **sp, uint16_t *v)
{
	const char *s = *sp;
	unsigned acc = 0;
	int i;

	for (i = 0; i < 4; i++) {
		int d = oc_hex_digit(s[i]);

		if (d < 0)
			return OC_EINVAL;
		acc = acc << 4 | (unsigned)d;
	}
	*v = (uint16_t)acc;
	*sp = s + 4;
	return OC_OK;
}

/* 1 to 3 decimal digits, value in [min, max]; stops at the first non-digit. */
static int
parse_dec(const char **sp, unsigned min, unsigned max, uint8_t *v)
{
	const char *s = *sp;
	unsigned acc = 0;
	int n = 0;

	while (s[n] >= '0' && s[n] <= '9') {
		if (n == 3)
			return OC_EINVAL;
		acc = acc * 10 + (unsigned)(s[n] - '0');
		n++;
	}
	if (n == 0 || acc < min || acc > max)
		return OC_EINVAL;
	*v = (uint8_t)acc;
	*sp = s + n;
	return OC_OK;
}

static int
expect(const char **sp, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*sp, lit, n) != 0)
		return OC_EINVAL;
	*sp += n;
	return OC_OK;
}

/* Exactly three decimal digits, as udev names /dev/bus/usb/BBB/DDD. */
static int
parse_dec3(const char *s, unsigned min, unsigned max, uint8_t *v)
{
	unsigned acc = 0;
	int i;

	for (i = 0; i < 3; i++) {
		if (s[i] < '0' || s[i] > '9')
			return OC_EINVAL;
		acc = acc * 10 + (unsigned)(s[i] - '0');
	}
	if (acc < min || acc > max)
		return OC_EINVAL;
	*v = (uint8_t)acc;
	return OC_OK;
}

/*
 * Bus and address from a udev node name. A path of another shape is kept
 * without them; a path of this shape with impossible numbers is refused.
 */
static int
path_busaddr(const char *path, struct devname *dn)
{
	static const char prefix[] = "/dev/bus/usb/";
	const size_t plen = sizeof(prefix) - 1;

	if (strncmp(path, prefix, plen) != 0 || strlen(path) != plen + 7)
		return OC_OK;
	if (path[plen + 3] != '/')
		return OC_OK;
	/* USB bus numbers start at 1; device addresses are 1..127 (USB 2.0 9.1.1.4). */
	if (parse_dec3(path + plen, 1, 255, &dn->bus) != OC_OK ||
	    parse_dec3(path + plen + 4, 1, 127, &dn->addr) != OC_OK)
		return OC_EINVAL;
	dn->has_busaddr = true;
	return OC_OK;
}

static int
parse_path(const char *s, struct devname *dn)
{
	size_t i;

	/* An absolute node name of printable characters, no spaces. */
	if (s[0] != '/')
		return OC_EINVAL;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= DEVNAME_MAX_LEN - 1)
			return OC_EINVAL;
		if (s[i] <= ' ' || s[i] > '~')
			return OC_EINVAL;
	}
	memcpy(dn->path, s, i + 1);
	return path_busaddr(dn->path, dn);
}

static int
parse_libudev(const char *s, struct devname *dn)
{
	if (parse_dec(&s, 0, 255, &dn->interface) != OC_OK ||
	    expect(&s, ":") != OC_OK)
		return OC_EINVAL;
	dn->has_interface = true;
	return parse_path(s, dn);
}

static int
parse_libusb(const char *s, struct devname *dn)
{
	if (parse_dec(&s, 1, 255, &dn->bus) != OC_OK ||
	    expect(&s, ":") != OC_OK ||
	    parse_dec(&s, 1, 127, &dn->addr) != OC_OK ||
	    expect(&s, ":") != OC_OK ||
	    parse_dec(&s, 0, 255, &dn->interface) != OC_OK || *s != '\0')
		return OC_EINVAL;
	dn->has_busaddr = true;
	dn->has_interface = true;
	return OC_OK;
}

int
devname_parse(const char *s, struct devname *out)
{
	struct devname dn;
	int rc;

	if (s == NULL || out == NULL)
		return OC_EINVAL;
	memset(&dn, 0, sizeof(dn));
	if (expect(&s, "usb:") != OC_OK || parse_hex16(&s, &dn.vid) != OC_OK ||
	    expect(&s, "/") != OC_OK || parse_hex16(&s, &dn.pid) != OC_OK)
		return OC_EINVAL;
	if (*s == '\0')
		rc = OC_OK;
	else if (expect(&s, ":libudev:") == OC_OK)
		rc = parse_libudev(s, &dn);
	else if (expect(&s, ":libusb-1.0:") == OC_OK)
		rc = parse_libusb(s, &dn);
	else
		rc = OC_EINVAL;
	if (rc != OC_OK)
		return rc;
	*out = dn;
	return OC_OK;
}
