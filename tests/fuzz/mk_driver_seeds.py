#!/usr/bin/env python3
"""openccid - write the seed corpus of tests/fuzz/fuzz_driver.c.

usage: mk_driver_seeds.py [OUTDIR]    (default: tests/fuzz/corpus/driver)

Each seed is a well-formed session in the harness's input format (see the
comment at the top of fuzz_driver.c): a header that picks a real reader
(class descriptor from tests/data/ccid_desc_fixtures.txt, VID/PID from
tests/data/descriptors.jsonl), the host operations, then the replies a
working reader and card give, in the order the driver asks for them.
The fuzzer mutates from there. Seeds are written as seed-<name>; files
of other names in OUTDIR (crashers kept as regression inputs, inputs the
fuzzer found) are left alone. Run it again after changing the format.
"""
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")

# header flags
HF_INTR, HF_VENDOR, HF_REMOVED, HF_STRINGS, HF_POLL_LAST, HF_DIRECT = (
    0x01, 0x02, 0x04, 0x08, 0x10, 0x20)
# per-slot operations
OP_PRESENCE, OP_POWER, OP_PROTO, OP_SHORT, OP_EXT, OP_VERIFY, OP_CONTROL, \
    OP_CAPS = (1 << i for i in range(8))
# device records
REPLY, RAW, ZLP, ERR, OUT_ERR, CTRL, INTR, TIME_EXT = range(8)
RF_STALE, RF_SLOT, RF_DWLEN, RF_SLOW, RF_SPLIT = 0x01, 0x02, 0x04, 0x08, 0x10

VERIFY_APDU = bytes.fromhex("0020008108A55AC33C96690FF0")
SHORT_APDU = bytes.fromhex("00A4040C07A0000005272101")  # SELECT, case 3
OK_SW = bytes.fromhex("9000")


def fixtures():
    """dump name -> (hex descriptor, vid, pid, bcdDevice)"""
    ids = {}
    with open(os.path.join(DATA, "descriptors.jsonl")) as f:
        for line in f:
            d = json.loads(line)
            ids[d["dump_file"]] = (int(d["vid"], 16), int(d["pid"], 16),
                                   int(d["bcdDevice"]))
    out = {}
    with open(os.path.join(DATA, "ccid_desc_fixtures.txt")) as f:
        for line in f:
            if line.startswith("#"):
                continue
            col = line.split()
            key = (col[0], int(col[2]))
            if col[5] == "ok" and key not in out:
                out[key] = (bytes.fromhex(col[4]),) + ids[col[0]]
    return out


FIX = fixtures()


class Session:
    """One input: header, blobs, device stream."""

    def __init__(self, dump, iface=0, flags=0, ops=0, ctrl=0, proto=0,
                 power=0, slots=0, ext_lc=0, rx_cap=0, options=0,
                 iproto=0, loglevel=0x07):
        desc, self.vid, self.pid, self.bcd = FIX[(dump, iface)]
        self.extra = desc
        self.flags, self.ops, self.ctrl, self.proto = flags, ops, ctrl, proto
        self.power, self.slots, self.ext_lc = power, slots, ext_lc
        self.rx_cap, self.options, self.iproto = rx_cap, options, iproto
        self.loglevel = loglevel
        self.apdu = SHORT_APDU
        self.pinv = b""
        self.pinm = b""
        self.esc = b""
        self.stream = bytearray()

    # device records
    def reply(self, data=b"", status=0x00, error=0, specific=0, flags=0,
              mtype=0, extra=b""):
        self.stream += bytes([REPLY, mtype, status, error, specific, flags])
        self.stream += struct.pack("<H", len(data)) + data + extra
        return self

    def time_ext(self, mult=1):
        self.stream += bytes([TIME_EXT, mult])
        return self

    def zlp(self):
        self.stream.append(ZLP)
        return self

    def raw(self, data):
        self.stream += bytes([RAW]) + struct.pack("<H", len(data)) + data
        return self

    def ctrl_answer(self, data):
        self.stream += bytes([CTRL, len(data)]) + data
        return self

    def intr(self, data):
        self.stream += bytes([INTR, len(data)]) + data
        return self

    def err(self, which):
        self.stream += bytes([ERR, which])
        return self

    def out_err(self, which):
        self.stream += bytes([OUT_ERR, which])
        return self

    def bytes(self):
        hdr = bytes([self.flags, self.loglevel])
        hdr += struct.pack("<HHH", self.vid, self.pid, self.bcd)
        hdr += bytes([self.iproto, self.options, 0, self.slots, self.ops,
                      self.ctrl, self.proto, self.power, 0])
        hdr += struct.pack("<H", self.rx_cap) + bytes([0])
        hdr += struct.pack("<H", self.ext_lc)
        for b in (self.extra, self.apdu, self.pinv, self.pinm, self.esc):
            assert len(b) < 256
            hdr += bytes([len(b)]) + b
        return hdr + bytes(self.stream)


def lrc(b):
    x = 0
    for c in b:
        x ^= c
    return x


def t1_block(nad, pcb, inf=b""):
    b = bytes([nad, pcb, len(inf)]) + inf
    return b + bytes([lrc(b)])


def pin_verify_struct(apdu):
    """PIN_VERIFY_STRUCTURE (PC/SC v2 part 10 2.5.2), little-endian."""
    return bytes([
        30, 0,        # bTimeOut, bTimeOut2
        0x82,         # bmFormatString: BCD, right justified, units bytes
        0x04,         # bmPINBlockString
        0x00,         # bmPINLengthFormat
    ]) + struct.pack("<H", 0x0408) + bytes([
        0x02,         # bEntryValidationCondition: validation key
        0x01,         # bNumberMessage
    ]) + struct.pack("<H", 0x0409) + bytes([0, 0, 0, 0]) + \
        struct.pack("<I", len(apdu)) + apdu


def pin_modify_struct(apdu):
    """PIN_MODIFY_STRUCTURE (part 10 2.5.3)."""
    return bytes([30, 0, 0x82, 0x04, 0x00, 0, 8]) + \
        struct.pack("<H", 0x0408) + bytes([0x03, 0x02, 0x03]) + \
        struct.pack("<H", 0x0409) + bytes([0, 1, 2, 0, 0, 0]) + \
        struct.pack("<I", len(apdu)) + apdu


SLOT_OK = dict()            # SlotStatus: card present, active
ATR_T0 = bytes.fromhex("3B021450")
ATR_T1 = bytes.fromhex("3B808131FE458B")  # T=1, IFSC 254, BWI 4 CWI 5
ATR_T01 = bytes.fromhex("3B80800101")     # T=0 first, T=1 offered


def apdu_session():
    """Short APDU reader: open, presence, power, T=0, SELECT, VERIFY,
    capabilities, power down, close."""
    s = Session("Cherry_Smart_Card_Reader_USB.txt",
                ops=OP_PRESENCE | OP_POWER | OP_PROTO | OP_SHORT |
                OP_VERIFY | OP_CAPS, power=4)
    s.reply()                          # open: GetSlotStatus
    s.reply()                          # presence
    s.reply(ATR_T0)                    # power up
    s.reply()                          # capabilities: ICC presence
    s.reply(OK_SW)                     # SELECT
    s.reply(bytes.fromhex("63C2"))     # VERIFY: wrong PIN, 2 tries left
    s.reply(status=0x01)               # power down
    return s


def extended_session():
    """Extended APDU reader: a 300-byte command, a chained answer."""
    s = Session("Feitian_R502.txt", ops=OP_POWER | OP_EXT | OP_SHORT,
                ext_lc=300, power=4)
    s.reply()
    s.reply(ATR_T1)
    s.reply(OK_SW)                     # short SELECT
    s.reply(specific=0x10)             # command chained: send the rest
    s.reply(bytes(200), specific=0x01)  # answer chained: first piece
    s.reply(bytes(100) + OK_SW, specific=0x02)
    s.reply(status=0x01)
    return s


def tpdu_t1_session():
    """TPDU reader running T=1: data rates, SetParameters, IFSD, I-blocks."""
    s = Session("SCR3310.txt", ops=OP_POWER | OP_PROTO | OP_SHORT |
                OP_VERIFY, proto=1, power=4)
    s.reply()
    s.reply(ATR_T1)
    s.ctrl_answer(struct.pack("<I", 4000))  # GET_CLOCK_FREQUENCIES
    s.ctrl_answer(struct.pack("<III", 10752, 21505, 43010))  # GET_DATA_RATES
    s.reply(bytes.fromhex("1100FE00FE0000"), mtype=0x82)  # SetParameters T=1
    s.reply(t1_block(0, 0xE1, b"\xfc"))  # S(IFS response): IFSD 252
    s.reply(t1_block(0, 0x00, OK_SW))    # SELECT in I(0)
    s.reply(t1_block(0, 0x40, bytes.fromhex("63C1")))  # VERIFY in I(1)
    s.reply(status=0x01)
    return s


ATR_T1_IFSC8 = bytes.fromhex("3B80813108457D")  # T=1, IFSC 8


def tpdu_t1_chain_session():
    """T=1 with IFSC 8: SELECT and VERIFY go out in chained I-blocks (the
    PIN split over two blocks); the card asks for more time (S(WTX))."""
    s = Session("SCR3310.txt", ops=OP_POWER | OP_PROTO | OP_SHORT |
                OP_VERIFY, proto=1, power=4)
    s.reply()
    s.reply(ATR_T1_IFSC8)
    s.ctrl_answer(struct.pack("<I", 4000))
    s.ctrl_answer(struct.pack("<I", 10752))
    s.reply(bytes.fromhex("1100FE00080000"), mtype=0x82)
    s.reply(t1_block(0, 0xE1, b"\xfc"))
    s.reply(t1_block(0, 0x90))          # R(1): next block please
    s.reply(t1_block(0, 0xC3, b"\x02")) # S(WTX request) x2
    s.reply(t1_block(0, 0x00, OK_SW))
    s.reply(t1_block(0, 0x90))
    s.reply(t1_block(0, 0x40, bytes.fromhex("9000")))
    s.reply(status=0x01)
    return s


def tpdu_t0_session():
    """TPDU reader running T=0 (the reader handles procedure bytes)."""
    s = Session("SCR3310.txt", ops=OP_POWER | OP_PROTO | OP_SHORT,
                proto=0, power=4)
    s.reply()
    s.reply(ATR_T01)
    s.reply(bytes.fromhex("1100000A00"), mtype=0x82)  # SetParameters T=0
    s.reply(OK_SW)
    s.reply(status=0x01)
    return s


def char_session():
    """Character-level reader: the driver runs T=0 byte by byte."""
    s = Session("BIFIT_iBank2key.txt", ops=OP_POWER | OP_PROTO | OP_SHORT |
                OP_VERIFY, proto=0, power=4)
    s.reply()
    s.reply(ATR_T0)
    s.reply(bytes.fromhex("1100000A00"), mtype=0x82)
    for ins in (0xA4, 0x20):           # SELECT, then VERIFY
        s.reply(bytes([ins]))          # procedure byte: INS, send the rest
        s.reply(b"\x90")               # SW1, then SW2: one read each
        s.reply(b"\x00")
    s.reply(status=0x01)
    return s


def multislot_session():
    """Five-slot reader: slots 0 and 1 opened, powered, one APDU each."""
    s = Session("Teridian_TSC12xxFV.09.txt", ops=OP_POWER | OP_SHORT,
                slots=0x02, flags=HF_INTR)
    s.intr(bytes([0x50, 0x00, 0x00]))  # drained at open: all empty
    s.reply()                          # open
    s.intr(bytes([0x50, 0x0F, 0x00]))  # poll: slots 0, 1 inserted
    for _ in range(2):
        s.reply(ATR_T1)
        s.reply(OK_SW)
    s.reply(status=0x01)               # slot 1 closes: power off
    s.reply(status=0x01)               # slot 0 closes
    return s


def time_ext_session():
    """Time extensions before the answer, a stale reply, a ZLP."""
    s = Session("Cherry_Smart_Card_Reader_USB.txt",
                ops=OP_POWER | OP_SHORT, power=4)
    s.reply()
    s.zlp().reply(ATR_T0)
    for _ in range(5):
        s.time_ext(1)
    s.reply(bytes.fromhex("6A82"), flags=RF_STALE)  # for an older bSeq
    s.reply(OK_SW)
    s.reply(status=0x01)
    return s


def pinpad_session():
    """PIN pad reader: features, PIN verify and modify on the keypad."""
    s = Session("CherryXX44.txt", iface=1, ops=OP_POWER | OP_CONTROL,
                ctrl=0x1F | 0x20, power=4)
    s.pinv = pin_verify_struct(bytes.fromhex("0020008108") + bytes(8))
    s.pinm = pin_modify_struct(bytes.fromhex("0024008110") + bytes(16))
    s.esc = bytes.fromhex("6A")
    s.reply()
    s.reply(ATR_T0)
    s.reply(OK_SW)                     # Secure: verify
    s.reply(bytes.fromhex("6983"))     # Secure: modify, blocked
    s.reply(bytes.fromhex("0102"), mtype=0x83)  # Escape
    s.reply(status=0x01)
    return s


def faults_session():
    """Errors: a stalled OUT, a split reply, a no-device at the end."""
    s = Session("Cherry_Smart_Card_Reader_USB.txt",
                ops=OP_POWER | OP_SHORT | OP_PRESENCE, flags=HF_REMOVED)
    s.reply()
    s.reply()                          # presence
    s.out_err(1).reply(ATR_T0, flags=RF_SPLIT, extra=bytes([6]))
    s.err(2)                           # SELECT: the device is gone
    return s


SEEDS = {
    "apdu": apdu_session,
    "extended": extended_session,
    "tpdu_t1": tpdu_t1_session,
    "tpdu_t1_chain": tpdu_t1_chain_session,
    "tpdu_t0": tpdu_t0_session,
    "char_t0": char_session,
    "multislot": multislot_session,
    "time_ext": time_ext_session,
    "pinpad": pinpad_session,
    "faults": faults_session,
}


def main(argv):
    out = argv[1] if len(argv) > 1 else os.path.join(HERE, "corpus",
                                                       "driver")
    os.makedirs(out, exist_ok=True)
    for name, make in SEEDS.items():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(make().bytes())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
