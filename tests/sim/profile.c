/*
 * Profiles: `key = value` lines (see mkprofile.py for the keys), and the USB
 * descriptors rebuilt from them. The CCID class descriptor is laid out per
 * CCID rev 1.1 table 5.1-1 (54 bytes, little-endian multi-byte fields).
 */
#include "sim.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int parse_num(const char *v, unsigned long long max,
		     unsigned long long *out)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 0);
	if (errno || end == v || *trim(end) != '\0' || n > max)
		return -1;
	*out = n;
	return 0;
}

static int parse_list(const char *v, uint32_t *list, unsigned *n)
{
	char *copy = strdup(v), *save = NULL, *tok;
	unsigned long long x;
	int rc = 0;

	*n = 0;
	for (tok = strtok_r(copy, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save)) {
		if (*n >= SIM_MAX_LIST || parse_num(tok, 0xffffffffu, &x)) {
			rc = -1;
			break;
		}
		list[(*n)++] = (uint32_t)x;
	}
	free(copy);
	return rc;
}

#define F8(name) { #name, offsetof(struct sim_ccid_desc, name), 1 }
#define F16(name) { #name, offsetof(struct sim_ccid_desc, name), 2 }
#define F32(name) { #name, offsetof(struct sim_ccid_desc, name), 4 }
static const struct {
	const char *key;
	size_t off;
	unsigned size;
} ccid_fields[] = {
	F8(bLength), F8(bDescriptorType), F16(bcdCCID), F8(bMaxSlotIndex),
	F8(bVoltageSupport), F32(dwProtocols), F32(dwDefaultClock),
	F32(dwMaximumClock), F8(bNumClockSupported), F32(dwDataRate),
	F32(dwMaxDataRate), F8(bNumDataRatesSupported), F32(dwMaxIFSD),
	F32(dwSynchProtocols), F32(dwMechanical), F32(dwFeatures),
	F32(dwMaxCCIDMessageLength), F8(bClassGetResponse),
	F8(bClassEnvelope), F16(wLcdLayout), F8(bPINSupport),
	F8(bMaxCCIDBusySlots),
};

static void set_field(struct sim_ccid_desc *d, size_t i, uint32_t v)
{
	uint8_t *p = (uint8_t *)d + ccid_fields[i].off;

	switch (ccid_fields[i].size) {
	case 1: *p = (uint8_t)v; break;
	case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
	default: memcpy(p, &v, 4); break;
	}
}

static void iface_defaults(struct sim_iface *in, unsigned idx)
{
	memset(in, 0, sizeof(*in));
	in->bInterfaceNumber = (uint8_t)idx;
	in->bInterfaceClass = 0x0b;
	in->bNumEndpoints = 3;
	in->ccid.bLength = 54;
	in->ccid.bDescriptorType = 0x21;
	in->ccid.bcdCCID = 0x0110;
	in->ccid.bVoltageSupport = 7;
	in->ccid.dwProtocols = 3;
	in->ccid.dwDefaultClock = 4000;
	in->ccid.dwMaximumClock = 4000;
	in->ccid.dwDataRate = 10752;
	in->ccid.dwMaxDataRate = 344086;
	in->ccid.dwMaxIFSD = 254;
	in->ccid.dwFeatures = 0x000400fe;
	in->ccid.dwMaxCCIDMessageLength = 3072;
	in->ccid.bClassGetResponse = 0xff;
	in->ccid.bClassEnvelope = 0xff;
	in->ccid.bMaxCCIDBusySlots = 1;
}

int profile_load(const char *path, struct sim_device *dev, char **err)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	unsigned lineno = 0;
	unsigned long long n;

	if (!f) {
		if (asprintf(err, "%s: %s", path, strerror(errno)) < 0)
			*err = NULL;
		return -1;
	}
	memset(dev, 0, sizeof(*dev));
	dev->bcdDevice = 0x0100;
	dev->n_ifaces = 1;
	for (unsigned i = 0; i < SIM_MAX_IFACES; i++)
		iface_defaults(&dev->ifaces[i], i);

	while (fgets(line, sizeof(line), f)) {
		char *k, *v, *eq, *hash;
		bool bad = false;

		lineno++;
		/* '#' starts a comment unless the value is a string key */
		eq = strchr(line, '=');
		hash = strchr(line, '#');
		if (hash && (!eq || hash < eq))
			*hash = '\0';
		k = trim(line);
		if (!*k)
			continue;
		if (!eq) {
			bad = true;
			goto check;
		}
		*eq = '\0';
		k = trim(k);
		v = trim(eq + 1);

		if (!strcmp(k, "name")) {
			free(dev->name);
			dev->name = strdup(v);
		} else if (!strcmp(k, "idVendor") || !strcmp(k, "idProduct") ||
			   !strcmp(k, "bcdDevice")) {
			if (parse_num(v, 0xffff, &n))
				bad = true;
			else if (k[2] == 'V')
				dev->idVendor = (uint16_t)n;
			else if (k[2] == 'P')
				dev->idProduct = (uint16_t)n;
			else
				dev->bcdDevice = (uint16_t)n;
		} else if (!strcmp(k, "manufacturer")) {
			free(dev->manufacturer);
			dev->manufacturer = *v ? strdup(v) : NULL;
		} else if (!strcmp(k, "product")) {
			free(dev->product);
			dev->product = *v ? strdup(v) : NULL;
		} else if (!strcmp(k, "serial")) {
			free(dev->serial);
			dev->serial = *v ? strdup(v) : NULL;
		} else if (!strcmp(k, "class_descriptor_after_endpoints")) {
			if (parse_num(v, 1, &n))
				bad = true;
			else
				dev->class_desc_after_endpoints = n;
		} else if (!strcmp(k, "interfaces")) {
			if (parse_num(v, SIM_MAX_IFACES, &n) || n == 0)
				bad = true;
			else
				dev->n_ifaces = (unsigned)n;
		} else if (k[0] == 'i' && k[1] == 'f' && isdigit((unsigned char)k[2]) &&
			   k[3] == '.') {
			unsigned idx = (unsigned)(k[2] - '0');
			struct sim_iface *in;
			const char *f2 = k + 4;
			size_t i;

			if (idx >= SIM_MAX_IFACES) {
				bad = true;
				goto check;
			}
			in = &dev->ifaces[idx];
			if (!strcmp(f2, "iInterface")) {
				free(in->iInterface);
				in->iInterface = *v ? strdup(v) : NULL;
				goto check;
			}
			if (!strcmp(f2, "clock_frequencies")) {
				bad = parse_list(v, in->clocks, &in->n_clocks);
				goto check;
			}
			if (!strcmp(f2, "data_rates")) {
				bad = parse_list(v, in->rates, &in->n_rates);
				goto check;
			}
			if (parse_num(v, 0xffffffffu, &n)) {
				bad = true;
				goto check;
			}
			if (!strcmp(f2, "bInterfaceNumber"))
				in->bInterfaceNumber = (uint8_t)n;
			else if (!strcmp(f2, "bInterfaceClass"))
				in->bInterfaceClass = (uint8_t)n;
			else if (!strcmp(f2, "bInterfaceSubClass"))
				in->bInterfaceSubClass = (uint8_t)n;
			else if (!strcmp(f2, "bInterfaceProtocol"))
				in->bInterfaceProtocol = (uint8_t)n;
			else if (!strcmp(f2, "bNumEndpoints"))
				in->bNumEndpoints = n <= 3 ? (uint8_t)n : 3;
			else if (!strcmp(f2, "max_message_length_real"))
				in->max_message_length_real = (uint32_t)n;
			else if (!strcmp(f2, "contactless"))
				in->contactless = n != 0;
			else {
				for (i = 0; i < sizeof(ccid_fields) / sizeof(ccid_fields[0]); i++)
					if (!strcmp(f2, ccid_fields[i].key))
						break;
				if (i == sizeof(ccid_fields) / sizeof(ccid_fields[0]))
					bad = true;
				else
					set_field(&in->ccid, i, (uint32_t)n);
			}
		} else {
			/* unknown keys are kept for other readers of the file */
		}
check:
		if (bad) {
			if (asprintf(err, "%s:%u: bad line", path, lineno) < 0)
				*err = NULL;
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	if (!dev->idVendor && !dev->idProduct) {
		if (asprintf(err, "%s: no idVendor/idProduct", path) < 0)
			*err = NULL;
		return -1;
	}
	if (!dev->name)
		dev->name = strdup(dev->product ? dev->product : "CCID reader");
	for (unsigned i = 0; i < dev->n_ifaces; i++) {
		struct sim_iface *in = &dev->ifaces[i];
		unsigned base = 1 + 3 * i;

		if (in->ccid.bMaxSlotIndex >= SIM_MAX_SLOTS)
			in->ccid.bMaxSlotIndex = SIM_MAX_SLOTS - 1;
		if (in->bInterfaceProtocol == 1 || in->bInterfaceProtocol == 2) {
			/* ICCD: the control pipe, an interrupt-IN at most */
			if (in->bNumEndpoints > 1)
				in->bNumEndpoints = 1;
			in->ep_out = in->ep_in = 0;
			in->ep_intr = in->bNumEndpoints ? (uint8_t)(0x80 | (base + 2)) : 0;
			continue;
		}
		if (in->bNumEndpoints != 2)
			in->bNumEndpoints = 3;
		in->ep_out = (uint8_t)base;
		in->ep_in = (uint8_t)(0x80 | (base + 1));
		in->ep_intr = in->bNumEndpoints >= 3 ? (uint8_t)(0x80 | (base + 2)) : 0;
	}
	profile_build_descriptors(dev);
	return 0;
}

/* String indexes: 1 manufacturer, 2 product, 3 serial, 4+i iInterface[i]. */
const char *profile_string(const struct sim_device *dev, unsigned idx)
{
	switch (idx) {
	case 1: return dev->manufacturer;
	case 2: return dev->product;
	case 3: return dev->serial;
	default:
		if (idx >= 4 && idx - 4 < dev->n_ifaces)
			return dev->ifaces[idx - 4].iInterface;
		return NULL;
	}
}

static size_t put_ccid_desc(uint8_t *p, const struct sim_ccid_desc *d)
{
	uint8_t *s = p;

	*p++ = 54; /* the layout below is the rev 1.1 one, whatever bLength said */
	*p++ = d->bDescriptorType;
	put_le16(p, d->bcdCCID); p += 2;
	*p++ = d->bMaxSlotIndex;
	*p++ = d->bVoltageSupport;
	put_le32(p, d->dwProtocols); p += 4;
	put_le32(p, d->dwDefaultClock); p += 4;
	put_le32(p, d->dwMaximumClock); p += 4;
	*p++ = d->bNumClockSupported;
	put_le32(p, d->dwDataRate); p += 4;
	put_le32(p, d->dwMaxDataRate); p += 4;
	*p++ = d->bNumDataRatesSupported;
	put_le32(p, d->dwMaxIFSD); p += 4;
	put_le32(p, d->dwSynchProtocols); p += 4;
	put_le32(p, d->dwMechanical); p += 4;
	put_le32(p, d->dwFeatures); p += 4;
	put_le32(p, d->dwMaxCCIDMessageLength); p += 4;
	*p++ = d->bClassGetResponse;
	*p++ = d->bClassEnvelope;
	put_le16(p, d->wLcdLayout); p += 2;
	*p++ = d->bPINSupport;
	*p++ = d->bMaxCCIDBusySlots;
	return (size_t)(p - s);
}

static size_t put_ep(uint8_t *p, uint8_t addr, uint8_t attr, uint16_t mps,
		     uint8_t interval)
{
	p[0] = 7;
	p[1] = 0x05;
	p[2] = addr;
	p[3] = attr;
	put_le16(p + 4, mps);
	p[6] = interval;
	return 7;
}

void profile_build_descriptors(struct sim_device *dev)
{
	uint8_t *b = calloc(1, 18 + 9 + SIM_MAX_IFACES * (9 + 54 + 3 * 7));
	uint8_t *c, *p;

	/* device descriptor (USB 2.0 table 9-8) */
	b[0] = 18;
	b[1] = 0x01;
	put_le16(b + 2, 0x0200);
	b[4] = 0; b[5] = 0; b[6] = 0;
	b[7] = 64;
	put_le16(b + 8, dev->idVendor);
	put_le16(b + 10, dev->idProduct);
	put_le16(b + 12, dev->bcdDevice);
	b[14] = dev->manufacturer ? 1 : 0;
	b[15] = dev->product ? 2 : 0;
	b[16] = dev->serial ? 3 : 0;
	b[17] = 1;

	c = b + 18;
	p = c + 9;
	for (unsigned i = 0; i < dev->n_ifaces; i++) {
		struct sim_iface *in = &dev->ifaces[i];
		uint8_t *ccid_at = NULL;

		p[0] = 9;
		p[1] = 0x04;
		p[2] = in->bInterfaceNumber;
		p[3] = 0;
		p[4] = in->bNumEndpoints;
		p[5] = in->bInterfaceClass;
		p[6] = in->bInterfaceSubClass;
		p[7] = in->bInterfaceProtocol;
		p[8] = in->iInterface ? (uint8_t)(4 + i) : 0;
		p += 9;
		if (!dev->class_desc_after_endpoints) {
			ccid_at = p;
			p += put_ccid_desc(p, &in->ccid);
		}
		if (in->ep_out)
			p += put_ep(p, in->ep_out, 0x02, 64, 0);
		if (in->ep_in)
			p += put_ep(p, in->ep_in, 0x02, 64, 0);
		if (in->ep_intr)
			p += put_ep(p, in->ep_intr, 0x03, 8, 0x10);
		if (!ccid_at)
			p += put_ccid_desc(p, &in->ccid);
	}
	/* configuration descriptor (USB 2.0 table 9-10) */
	c[0] = 9;
	c[1] = 0x02;
	put_le16(c + 2, (uint16_t)(p - c));
	c[4] = (uint8_t)dev->n_ifaces;
	c[5] = 1;
	c[6] = 0;
	c[7] = 0xa0; /* bus powered, remote wake-up */
	c[8] = 50;   /* 100 mA */
	free(dev->descriptors);
	dev->descriptors = b;
	dev->descriptors_len = (size_t)(p - b);
}
