#!/usr/bin/env python3
"""Build the CCID class descriptor fixtures for tests/unit/check_ccid_desc.c.

Reads descriptors.jsonl (one real reader dump per line, see
/work/shared/data/README.md), rebuilds the 54-byte class descriptor of every
CCID interface of every device from its fields, laid out little-endian as in
CCID rev 1.1 table 5.1-1, and states what ccid_desc_parse() must do with it
according to the rules documented in src/codec/ccid_desc.h.

Output (ccid_desc_fixtures.txt), one interface per line, space separated:

  dump dev iface allow_vendor hex verdict level slots warnings f1 .. f22

  dump          dump file name
  dev           device index in the dump (0 = first, then other_devices)
  iface         bInterfaceNumber
  allow_vendor  1 when the interface class is 0xFF (vendor): type 0xFF allowed
  hex           the 54 descriptor bytes, 108 lowercase hex digits
  verdict       ok | EINVAL | ETRUNC | ERANGE
  level         character | tpdu | short_apdu | extended_apdu | -
  slots         bMaxSlotIndex + 1, or - when rejected
  warnings      CCID_WARN_* bitmask in hex, or - when rejected
  f1..f22       the fields in table order as the parser must return them
                (after clamping); raw values when rejected

Usage: mk_desc_fixtures.py [descriptors.jsonl [output]]
Python 3 standard library only.
"""

import json
import os
import struct
import sys

# (name, struct format) in CCID rev 1.1 table 5.1-1 order.
FIELDS = [
    ("bLength", "B"),
    ("bDescriptorType", "B"),
    ("bcdCCID", "H"),
    ("bMaxSlotIndex", "B"),
    ("bVoltageSupport", "B"),
    ("dwProtocols", "I"),
    ("dwDefaultClock", "I"),
    ("dwMaximumClock", "I"),
    ("bNumClockSupported", "B"),
    ("dwDataRate", "I"),
    ("dwMaxDataRate", "I"),
    ("bNumDataRatesSupported", "B"),
    ("dwMaxIFSD", "I"),
    ("dwSynchProtocols", "I"),
    ("dwMechanical", "I"),
    ("dwFeatures", "I"),
    ("dwMaxCCIDMessageLength", "I"),
    ("bClassGetResponse", "B"),
    ("bClassEnvelope", "B"),
    ("wLcdLayout", "H"),
    ("bPINSupport", "B"),
    ("bMaxCCIDBusySlots", "B"),
]
LAYOUT = "<" + "".join(f for _, f in FIELDS)
assert struct.calcsize(LAYOUT) == 54

# Caps and warning bits, as in src/codec/ccid_desc.h.
MAX_SLOTS = 16
MAX_CLOCKS = 64
MAX_RATES = 64
MIN_MSG = 64
MAX_MSG = 65554
MAX_IFSD = 254
WARN_MSG = 0x01
WARN_IFSD = 0x02
WARN_CLOCKS = 0x04
WARN_RATES = 0x08
WARN_BUSY = 0x10
WARN_LEVEL_MISSING = 0x20
LEVELS = {
    0x00000: "character",
    0x10000: "tpdu",
    0x20000: "short_apdu",
    0x40000: "extended_apdu",
}


def verdict(c, allow_vendor):
    """Expected result and the fields as returned, per src/codec/ccid_desc.h."""
    out = dict(c)
    if c["bLength"] < 54:
        return "EINVAL", None, out, 0
    if not (c["bDescriptorType"] == 0x21 or
            (allow_vendor and c["bDescriptorType"] == 0xFF)):
        return "EINVAL", None, out, 0
    if c["bMaxSlotIndex"] + 1 > MAX_SLOTS:
        return "ERANGE", None, out, 0
    if c["dwProtocols"] & 3 == 0:
        return "ERANGE", None, out, 0
    if c["dwMaxCCIDMessageLength"] < MIN_MSG:
        return "ERANGE", None, out, 0
    level = LEVELS.get(c["dwFeatures"] & 0x70000)
    if level is None:
        return "ERANGE", None, out, 0
    warn = 0
    if out["dwMaxCCIDMessageLength"] > MAX_MSG:
        out["dwMaxCCIDMessageLength"] = MAX_MSG
        warn |= WARN_MSG
    if out["dwMaxIFSD"] > MAX_IFSD:
        out["dwMaxIFSD"] = MAX_IFSD
        warn |= WARN_IFSD
    if out["bNumClockSupported"] > MAX_CLOCKS:
        out["bNumClockSupported"] = MAX_CLOCKS
        warn |= WARN_CLOCKS
    if out["bNumDataRatesSupported"] > MAX_RATES:
        out["bNumDataRatesSupported"] = MAX_RATES
        warn |= WARN_RATES
    slots = c["bMaxSlotIndex"] + 1
    if out["bMaxCCIDBusySlots"] == 0:
        out["bMaxCCIDBusySlots"] = 1
        warn |= WARN_BUSY
    elif out["bMaxCCIDBusySlots"] > slots:
        out["bMaxCCIDBusySlots"] = slots
        warn |= WARN_BUSY
    if level == "character":
        warn |= WARN_LEVEL_MISSING
    return "ok", level, out, warn


def devices(dump):
    yield 0, dump
    for n, dev in enumerate(dump.get("other_devices") or [], start=1):
        yield n, dev


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    src = argv[1] if len(argv) > 1 else os.path.join(here, "descriptors.jsonl")
    dst = argv[2] if len(argv) > 2 else os.path.join(here,
                                                      "ccid_desc_fixtures.txt")
    lines = []
    counts = {}
    with open(src, encoding="utf-8") as f:
        for raw in f:
            dump = json.loads(raw)
            name = dump["dump_file"]
            if any(ch.isspace() for ch in name):
                raise SystemExit("space in dump name: %r" % name)
            for dev_no, dev in devices(dump):
                for itf in dev["interfaces"]:
                    c = itf["ccid"]
                    blob = struct.pack(LAYOUT, *(c[n] for n, _ in FIELDS))
                    allow = 1 if itf["bInterfaceClass"] == 0xFF else 0
                    v, level, out, warn = verdict(c, allow)
                    counts[v] = counts.get(v, 0) + 1
                    ok = v == "ok"
                    cols = [name, str(dev_no), str(itf["bInterfaceNumber"]),
                            str(allow), blob.hex(), v, level or "-",
                            str(c["bMaxSlotIndex"] + 1) if ok else "-",
                            "%x" % warn if ok else "-"]
                    cols += [str(out[n]) for n, _ in FIELDS]
                    lines.append(" ".join(cols))
    with open(dst, "w", encoding="ascii", newline="\n") as f:
        f.write("# generated by mk_desc_fixtures.py from descriptors.jsonl;"
                " do not edit\n")
        f.write("# dump dev iface allow_vendor hex verdict level slots"
                " warnings " + " ".join(n for n, _ in FIELDS) + "\n")
        for line in lines:
            f.write(line + "\n")
    summary = ", ".join("%s %d" % kv for kv in sorted(counts.items()))
    print("%d interfaces: %s" % (len(lines), summary))


if __name__ == "__main__":
    main(sys.argv)
