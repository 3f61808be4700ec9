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
                 iproto=0, loglevel=0x07, vid=None, pid=None, bcd=None,
                 pin_support=None):
        desc, self.vid, self.pid, self.bcd = FIX[(dump, iface)]
        # another device's IDs (the quirk rows it matches) on this one's
        # descriptor, or another bPINSupport (offset 52, CCID rev 1.1
        # table 5.1-1)
        self.vid = self.vid if vid is None else vid
        self.pid = self.pid if pid is None else pid
        self.bcd = self.bcd if bcd is None else bcd
        if pin_support is not None:
            desc = desc[:52] + bytes([pin_support]) + desc[53:]
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
        # quirk zlp_before_write: the driver reads a ZLP before each
        # command
        self.zlp_each = False

    # device records
    def reply(self, data=b"", status=0x00, error=0, specific=0, flags=0,
              mtype=0, extra=b""):
        if self.zlp_each:
            self.stream.append(ZLP)
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


def pin_verify_struct(apdu, evc=0x02, nmsg=0x01, block=0x04,
                      big_endian=False):
    """PIN_VERIFY_STRUCTURE (PC/SC v2 part 10 2.5.2), little-endian (or,
    as some middleware sends it, network order)."""
    e = ">" if big_endian else "<"
    return bytes([
        30, 0,        # bTimeOut, bTimeOut2
        0x82,         # bmFormatString: BCD, right justified, units bytes
        block,        # bmPINBlockString
        0x00,         # bmPINLengthFormat
    ]) + struct.pack(e + "H", 0x0408) + bytes([
        evc,          # bEntryValidationCondition (0x02: validation key)
        nmsg,         # bNumberMessage
    ]) + struct.pack(e + "H", 0x0409) + bytes([0, 0, 0, 0]) + \
        struct.pack(e + "I", len(apdu)) + apdu


def pin_modify_struct(apdu, evc=0x02, nmsg=0x03):
    """PIN_MODIFY_STRUCTURE (part 10 2.5.3)."""
    return bytes([30, 0, 0x82, 0x04, 0x00, 0, 8]) + \
        struct.pack("<H", 0x0408) + bytes([0x03, evc, nmsg]) + \
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


# ---- PIN pad quirk rows (quirks/pinpad.quirks) ----------------------------
# control mask bits of the harness (fuzz_driver.c controls())
C_FEATURES, C_TLV, C_PIN_PROPS, C_VERIFY, C_MODIFY, C_ESCAPE = (
    0x01, 0x02, 0x04, 0x08, 0x10, 0x20)
C_PIN_ALL = C_FEATURES | C_TLV | C_PIN_PROPS | C_VERIFY | C_MODIFY
VERIFY_CMD = bytes.fromhex("0020008108") + bytes(8)
MODIFY_CMD = bytes.fromhex("0024008110") + bytes(16)
SECURE_ERR = 0x40          # bmCommandStatus 1: failed


def first_iface(dump):
    return min(i for (d, i) in FIX if d == dump)


def pin_session(dump, proto=None, ctrl=C_PIN_ALL, verify=None, modify=None,
                **kw):
    """A PIN pad reader, opened, powered, negotiated (TPDU level: proto 0
    or 1), then the part 10 controls; the caller adds the Secure answers
    and power down."""
    ops = OP_POWER | OP_CONTROL | (OP_PROTO if proto is not None else 0)
    zlp_each = kw.pop("zlp_each", False)
    s = Session(dump, iface=first_iface(dump), ops=ops, ctrl=ctrl,
                proto=proto or 0, power=4, **kw)
    s.zlp_each = zlp_each
    s.pinv = verify if verify is not None else pin_verify_struct(VERIFY_CMD)
    s.pinm = modify if modify is not None else pin_modify_struct(MODIFY_CMD)
    s.reply()                          # open: GetSlotStatus
    if proto == 1:
        s.reply(ATR_T1)
        s.ctrl_answer(struct.pack("<I", 4000))
        s.ctrl_answer(struct.pack("<I", 10752))
        s.reply(bytes.fromhex("1100FE00FE0000"), mtype=0x82)
        s.reply(t1_block(0, 0xE1, b"\xfe"))  # S(IFS response): 254
    elif proto == 0:
        s.reply(ATR_T01)
        s.reply(bytes.fromhex("1100000A00"), mtype=0x82)
    else:
        s.reply(ATR_T0)
    return s


def features(data):
    """Gemalto firmware features (Escape 6A): byte 3 is the
    bEntryValidationCondition the keypad supports."""
    return lambda s: s.reply(data, mtype=0x83)


def pin_gempc_session():
    """GemPC Pinpad, bcdDevice 0x0100 (K2, K3, K4, K10, K12 with the bcd
    row): validation 00 (K1, then K3), bNumberMessage FF (K2: 01), the
    firmware features asked before each Secure (K4), Modify with one
    message but all indexes (K10); TLV and PIN properties 4..8, 0x02."""
    s = pin_session("GemPCPinpad.txt", proto=0,
                    verify=pin_verify_struct(VERIFY_CMD, evc=0x00,
                                             nmsg=0xFF),
                    modify=pin_modify_struct(MODIFY_CMD, nmsg=0x01))
    features(bytes.fromhex("0000000207"))(s)  # keypad: key only
    s.reply(OK_SW)                     # Secure: verify
    features(bytes.fromhex("00000001"))(s)    # no common bit: kept
    s.reply(bytes.fromhex("6983"))     # Secure: modify
    s.reply(status=0x01)
    return s


def pin_gempc_v2_session():
    """GemPC Pinpad v2 (bcdDevice 0x0211: not the K12 bcd row) on T=1:
    the features Escape fails, the Secure's answer is a T=1 block after
    an S(WTX request) (pinpad.c unwrap_t1); modify: a status word the
    reader made up (two bytes, no block)."""
    s = pin_session("GemPCPinpadv2.txt", proto=1)
    s.reply(status=0x40, error=0x0A, mtype=0x83)  # Escape: failed
    s.reply(t1_block(0, 0xC3, b"\x02"))  # S(WTX request)
    s.reply(t1_block(0, 0x00, OK_SW))    # I(0): 90 00
    s.reply(b"", mtype=0x83)             # Escape: too short
    s.reply(bytes.fromhex("6402"))       # new PINs differ
    s.reply(status=0x01)
    return s


def pin_vega_session():
    """VEGA-ALPHA (K2, K3, K10, K12): validation 0x05 becomes 0x02,
    bNumberMessage 00 becomes 01, Modify with bMsgIndex2/3."""
    s = pin_session("Vega-Alpha.txt", proto=0,
                    verify=pin_verify_struct(VERIFY_CMD, evc=0x05,
                                             nmsg=0x00),
                    modify=pin_modify_struct(MODIFY_CMD, nmsg=0x00))
    s.reply(OK_SW)
    s.reply(OK_SW)
    s.reply(status=0x01)
    return s


def pin_spr532_session():
    """SCM SPR532 (K7, K8): a Verify without PIN block and a case 1 APDU
    is preceded by Escape 80 02 00; Modify with bNumberMessage 0 and all
    indexes. The verify is in network order (some middleware)."""
    s = pin_session("SPR532.txt", proto=0,
                    verify=pin_verify_struct(bytes.fromhex("00200081"),
                                             block=0x00, big_endian=True),
                    modify=pin_modify_struct(MODIFY_CMD, nmsg=0x02))
    s.reply(mtype=0x83)                # Escape 80 02 00
    s.reply(OK_SW)
    s.reply(OK_SW)
    s.reply(status=0x01)
    return s


def pin_st2000_session():
    """Cherry ST-2000 (K8, K13, K16) on T=1: PIN 0..25, validation 0x02
    in both properties; verify times out and modify is cancelled on the
    keypad (part 10 status words 64 00 and 64 01)."""
    s = pin_session("CherrySmartTerminalST2XXX.txt", proto=1)
    s.reply(status=SECURE_ERR, error=0xF0)   # PIN entry timed out
    s.reply(status=SECURE_ERR, error=0xEF)   # cancelled
    s.reply(status=0x01)
    return s


def pin_malformed_session():
    """Cherry ST-2000 on T=1, things going wrong: the verify's answer is an
    I-block with the wrong N(S) (the driver resynchronises), the modify
    structure has bNumberMessage 5 (rejected before the reader)."""
    s = pin_session("CherrySmartTerminalST2XXX.txt", proto=1,
                    ctrl=C_VERIFY | C_MODIFY,
                    modify=pin_modify_struct(MODIFY_CMD, nmsg=0x05))
    s.reply(t1_block(0, 0x40, OK_SW))    # I(1), expected I(0)
    s.reply(status=0x01)
    return s


def pin_xx44_session():
    """Cherry XX44 (K9; K1 generic): validation 0x09 (undefined bits)
    becomes 0x02, Modify's bNumberMessage 1 becomes 3; a failed Secure
    (bError not a keypad one)."""
    s = pin_session("CherryXX44.txt",
                    verify=pin_verify_struct(VERIFY_CMD, evc=0x09),
                    modify=pin_modify_struct(MODIFY_CMD, nmsg=0x01))
    s.reply(OK_SW)
    s.reply(status=SECURE_ERR, error=0xFE)   # ICC mute
    s.reply(status=0x01)
    return s


def pin_kc1000_session():
    """Cherry KC 1000 SC (K11, K14): Modify bNumberMessage 00 becomes FF;
    PIN 0..32 in the properties."""
    s = pin_session("Cherry_KC_1000_SC.txt",
                    modify=pin_modify_struct(MODIFY_CMD, nmsg=0x00))
    s.reply(OK_SW)
    s.reply(OK_SW)
    s.reply(status=0x01)
    return s


def pin_omnikey3821_session():
    """HID OMNIKEY 3821 (K15): PIN 1..31; it has an LCD (wLcdLayout)."""
    s = pin_session("CardMan3821.txt", ctrl=C_FEATURES | C_TLV |
                    C_PIN_PROPS | C_VERIFY)
    s.reply(OK_SW)
    s.reply(status=0x01)
    return s


def pin_dell_session(dump, zlp_each=False, flags=0):
    """Dell keyboards (K5, K6): bNumberMessage becomes 00 and the verify
    waits 250 ms (on the harness's virtual clock); the SK-3106 swaps
    wPINMaxExtraDigit."""
    def make():
        s = pin_session(dump, proto=0, zlp_each=zlp_each, flags=flags,
                        ctrl=C_FEATURES | C_TLV | C_PIN_PROPS | C_VERIFY,
                        verify=pin_verify_struct(VERIFY_CMD, nmsg=0x01))
        s.reply(OK_SW)
        s.reply(status=0x01)
        return s
    return make


def pin_disabled_session(dump, **kw):
    """Q3, Q4, Q5, Q10: the PIN pad is not used (it leaks the PIN, or is
    not there): bPINSupport becomes 0, no PIN feature, verify and modify
    refused without a Secure."""
    def make():
        s = pin_session(dump, **kw)
        s.reply(status=0x01)
        return s
    return make


def pin_refused_session():
    """A PIN verify before the card is powered, then a TPDU reader that
    did not negotiate a protocol, then a character-level reader."""
    s = Session("GemPCPinpad.txt", ops=OP_CONTROL,
                ctrl=C_VERIFY | C_MODIFY)
    s.pinv = pin_verify_struct(VERIFY_CMD)
    s.pinm = pin_modify_struct(MODIFY_CMD)
    s.reply()
    return s


def pin_unnegotiated_session():
    s = pin_session("SPR532.txt", ctrl=C_VERIFY)
    s.reply(status=0x01)
    return s


def pin_char_session():
    s = pin_session("BIFIT_iBank2key.txt", ctrl=C_VERIFY | C_PIN_PROPS,
                    pin_support=0x03)
    s.reply(status=0x01)
    return s


PIN_SEEDS = {
    "pin_gempc": pin_gempc_session,
    "pin_gempc_v2": pin_gempc_v2_session,
    "pin_vega": pin_vega_session,
    "pin_spr532": pin_spr532_session,
    "pin_st2000": pin_st2000_session,
    "pin_xx44": pin_xx44_session,
    "pin_malformed": pin_malformed_session,
    "pin_kc1000": pin_kc1000_session,
    "pin_omnikey3821": pin_omnikey3821_session,
    "pin_dell_scrk": pin_dell_session("DellSCRK.txt", zlp_each=True),
    # class 0xFF, descriptor type 0xFF
    "pin_dell_sk3106": pin_dell_session("DellSK-3106.txt", flags=HF_VENDOR),
    "pin_refused_unpowered": pin_refused_session,
    "pin_refused_unnegotiated": pin_unnegotiated_session,
    "pin_refused_char": pin_char_session,
    # Q3: the PIN also goes to the host
    "pin_leaks_hp": pin_disabled_session("HPUSBSmartCardKeyboard.txt",
                                         proto=0),
    "pin_leaks_hp_kus": pin_disabled_session("HP_kus-0133.txt", proto=0),
    "pin_leaks_fujitsu": pin_disabled_session(
        "FujitsuTechnologySolutions_SmartCase_KB_SCR_eSIG.txt", proto=0),
    "pin_leaks_chicony": pin_disabled_session(
        "Chicony_HP_Skylab_USB_Smartcard_Keyboard.txt", proto=0),
    # Q4, Q5, Q10: no PIN pad there; the OMNIKEYs' own descriptors say
    # bPINSupport 0, so they are given 0x03 to reach the row
    "pin_absent_ltc31": pin_disabled_session("LTC31v2.txt", proto=0),
    "pin_absent_aviator": pin_disabled_session("HID_Aviator.txt"),
    "pin_absent_omnikey3x21": pin_disabled_session(
        "HID_Global_OMNIKEY_3x21_Smart_Card_Reader.txt", pin_support=0x03),
    "pin_absent_omnikey6121": pin_disabled_session(
        "HID_Global_OMNIKEY_6121_Smart_Card_Reader.txt", pin_support=0x03),
    "pin_absent_cherry1144": pin_disabled_session(
        "Cherry_SmartTerminal_1144.txt"),
    "pin_absent_d323": pin_disabled_session(
        "Fujitsu_Smartcard_Reader_D323.txt"),
    "pin_absent_minilector": pin_disabled_session("bit4id_minilector.txt",
                                                  proto=0),
}


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
SEEDS.update(PIN_SEEDS)


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
