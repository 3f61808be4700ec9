/*
 * Fault `desc`: a broken descriptor presented at plug time (issue 12,
 * descriptor faults). Armed before the control command `plug`; usbfs_plug()
 * rebuilds the descriptors from the profile and then calls
 * descfault_apply(), so the fault lasts for one plug only and the next plug
 * is the profile's device again.
 *
 * Class descriptor mutations hit the last interface's CCID class
 * descriptor (CCID rev 1.1 table 5.1-1 offsets), so that on a
 * two-interface profile (Broadcom 5880) interface 0 stays a good reader.
 * The simulator's reader model is unchanged: only what the host reads
 * (sysfs `descriptors` and GET_DESCRIPTOR) lies.
 */
#include "sim.h"

#include <string.h>

enum { DF_SLOTS255, DF_MSGLEN0, DF_MSGLENMAX, DF_RATES, DF_CLOCKS, DF_SHORT,
       DF_TOTAL_SHORT, DF_TOTAL_LONG, DF_CUT20, DF_TOTAL_CUT20 };

#define CFG_OFF 18 /* the configuration descriptor follows the device's */
#define SHORT_BLEN 40
#define CUT_KEEP 20 /* cut20, total-cut20: class descriptor bytes left */

/* Offset of the last CCID class descriptor (type 0x21) or 0 if none. */
static size_t last_class_desc(const uint8_t *b, size_t len)
{
	size_t p = CFG_OFF + 9, found = 0;

	while (p + 2 <= len && b[p] >= 2) {
		if (b[p + 1] == 0x21 && b[p] >= 54 && p + 54 <= len)
			found = p;
		p += b[p];
	}
	return found;
}

static unsigned count_plus(unsigned n)
{
	return n + 4 > 255 ? 255 : n + 4;
}

void descfault_apply(struct sim_device *dev)
{
	uint8_t *b = dev->descriptors, *c;
	size_t len = dev->descriptors_len, at;
	struct sim_iface *in;
	long kind;
	uint16_t total;

	if (!dev->n_ifaces || !fault_take(FAULT_DESC, -1, &kind))
		return;
	in = &dev->ifaces[dev->n_ifaces - 1];
	c = b + CFG_OFF;
	total = get_le16(c + 2);
	at = last_class_desc(b, len);
	if ((kind <= DF_SHORT || kind >= DF_CUT20) && !at) {
		sim_log("desc fault: no class descriptor to break");
		return;
	}
	switch (kind) {
	case DF_SLOTS255:
		b[at + 4] = 0xff;
		break;
	case DF_MSGLEN0:
		put_le32(b + at + 44, 0);
		break;
	case DF_MSGLENMAX:
		put_le32(b + at + 44, 0xffffffffu);
		break;
	case DF_RATES:
		b[at + 27] = (uint8_t)count_plus(in->n_rates);
		break;
	case DF_CLOCKS:
		b[at + 18] = (uint8_t)count_plus(in->n_clocks);
		break;
	case DF_SHORT:
		/* bLength 40: the descriptor stops before dwFeatures;
		 * the bytes behind move up, wTotalLength follows */
		memmove(b + at + SHORT_BLEN, b + at + 54, len - at - 54);
		b[at] = SHORT_BLEN;
		len -= 54 - SHORT_BLEN;
		put_le16(c + 2, (uint16_t)(total - (54 - SHORT_BLEN)));
		dev->descriptors_len = len;
		break;
	case DF_TOTAL_SHORT:
		/* the last 10 bytes are outside wTotalLength (cut endpoints) */
		put_le16(c + 2, (uint16_t)(total - 10));
		break;
	case DF_CUT20:
		/* bLength still 54, only 20 of its bytes there: what follows
		 * (endpoints) moves up, wTotalLength matches the bytes */
		memmove(b + at + CUT_KEEP, b + at + 54, len - at - 54);
		len -= 54 - CUT_KEEP;
		put_le16(c + 2, (uint16_t)(total - (54 - CUT_KEEP)));
		dev->descriptors_len = len;
		break;
	case DF_TOTAL_CUT20:
		/* the configuration ends 20 bytes into the class descriptor;
		 * the kernel keeps wTotalLength bytes, so the rest is gone */
		put_le16(c + 2, (uint16_t)(at + CUT_KEEP - CFG_OFF));
		dev->descriptors_len = at + CUT_KEEP;
		break;
	case DF_TOTAL_LONG:
		/* claims 64 bytes more than the device returns */
		put_le16(c + 2, (uint16_t)(total + 64));
		break;
	default:
		break;
	}
	sim_log("desc fault %ld applied (wTotalLength %u, %zu bytes)", kind,
		get_le16(c + 2), dev->descriptors_len);
}
