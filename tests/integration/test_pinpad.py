"""PC/SC v2 part 10 through pcscd: SCardControl on the simulator's PIN
pad (GemPCPinpadv2 profile, TPDU level, bPINSupport 3). The digits the
user "types" come from the simulator's control commands pinpad-digits,
pinpad-timeout and pinpad-cancel (tests/sim/README.md, Pinpad). The
built-in card's PIN is 123456 (3 tries).
"""

import os
import re
import struct

from smartcard import scard

import harness

PROFILE = "GemPCPinpadv2"
USER_PIN = "123456"
FEATURE_VERIFY_PIN_DIRECT = 0x06
FEATURE_MODIFY_PIN_DIRECT = 0x07
FEATURE_IFD_PIN_PROPERTIES = 0x0A
FEATURE_GET_TLV_PROPERTIES = 0x12
CM_IOCTL_GET_FEATURE_REQUEST = scard.SCARD_CTL_CODE(3400)
# Secrets that must never reach the log: the PIN in ASCII hex, both
# spellings of a dump.
PIN_HEX = ("31 32 33 34 35 36", "313233343536", "31:32:33:34:35:36")


def features(card):
    rv, resp = scard.SCardControl(card.handle, CM_IOCTL_GET_FEATURE_REQUEST, [])
    assert rv == scard.SCARD_S_SUCCESS, harness.scard_err(rv)
    out = {}
    b = bytes(resp)
    assert len(b) % 6 == 0, b.hex()
    for i in range(0, len(b), 6):
        tag, ln = b[i], b[i + 1]
        assert ln == 4
        out[tag] = struct.unpack(">I", b[i + 2:i + 6])[0]
    return out


def verify_structure(p2=0x81):
    """Variable-length ASCII PIN (GnuPG's enable-pinpad-varlen): the
    reader writes the digits and Lc."""
    apdu = bytes([0x00, 0x20, 0x00, p2, 0x00])
    return (bytes([0x00, 0x00, 0x82, 0x00, 0x00, 0x08, 0x04, 0x02, 0x01,
                   0x09, 0x04, 0x00, 0x00, 0x00, 0x00])
            + struct.pack("<I", len(apdu)) + apdu)


def verify(card, code):
    # GnuPG's receive buffer is only 6 bytes: ask for exactly that.
    rv, resp = scard.SCardControl(card.handle, code, list(verify_structure()))
    assert rv == scard.SCARD_S_SUCCESS, harness.scard_err(rv)
    assert len(resp) <= 6
    return bytes(resp)


def test_pinpad_verify(lab):
    lb = lab.start(profile=PROFILE, pcscd_env={"OPENCCID_LOG_LEVEL": "0xff"})
    card = lb.connect()
    f = features(card)
    for tag in (FEATURE_VERIFY_PIN_DIRECT, FEATURE_MODIFY_PIN_DIRECT,
                FEATURE_IFD_PIN_PROPERTIES, FEATURE_GET_TLV_PROPERTIES):
        assert tag in f, f
    rv, tlv = scard.SCardControl(card.handle, f[FEATURE_GET_TLV_PROPERTIES], [])
    assert rv == scard.SCARD_S_SUCCESS, harness.scard_err(rv)
    tlv = bytes(tlv)
    props, i = {}, 0
    while i + 2 <= len(tlv):
        props[tlv[i]] = tlv[i + 2:i + 2 + tlv[i + 1]]
        i += 2 + tlv[i + 1]
    assert props[0x0B] == b"\xe6\x08" and props[0x0C] == b"\x78\x34", props
    code = f[FEATURE_VERIFY_PIN_DIRECT]

    lb.sim.control("pinpad-digits " + USER_PIN)
    assert verify(card, code) == b"\x90\x00"
    lb.sim.control("pinpad-digits 999999")
    sw = verify(card, code)
    assert sw[0] == 0x63 and sw[1] & 0xF0 == 0xC0, sw.hex()
    lb.sim.control("pinpad-timeout")
    assert verify(card, code) == b"\x64\x00"
    lb.sim.control("pinpad-cancel")
    assert verify(card, code) == b"\x64\x01"
    # The card is still in step (T=1 N(S) after the Secure exchanges).
    lb.sim.control("pinpad-digits " + USER_PIN)
    assert verify(card, code) == b"\x90\x00"
    card.disconnect(scard.SCARD_LEAVE_CARD)

    stats = lb.sim.stats()
    assert not stats["pinpad"]["pin_in_usb_data"], stats["pinpad"]
    log = harness.strip_ansi(open(lb.pcscd_log_path, errors="replace").read())
    assert "redacted" in log, "level 0xff COMM log not seen"
    for pin in PIN_HEX:
        assert pin not in log.upper(), "PIN in the pcscd log"
    assert USER_PIN not in log


def modify_structure(confirm=0x03, nmsg=0x03, min_len=4, max_len=8):
    """CHANGE REFERENCE DATA with two 8-byte ASCII blocks padded with FF
    (old at offset 0, new at offset 8): the reader writes the digits."""
    apdu = bytes([0x00, 0x24, 0x00, 0x81, 0x10]) + b"\xff" * 16
    return (bytes([0x00, 0x00,          # bTimerOut, bTimerOut2
                   0x82, 0x08, 0x00,    # ASCII in bytes, 8-byte block
                   0x00, 0x08,          # bInsertionOffsetOld/New
                   max_len, min_len,    # wPINMaxExtraDigit (LE: max, min)
                   confirm, 0x02, nmsg,  # bConfirmPIN, validation, messages
                   0x09, 0x04,          # wLangId
                   0x00, 0x01, 0x02,    # bMsgIndex1..3
                   0x00, 0x00, 0x00])   # bTeoPrologue
            + struct.pack("<I", len(apdu)) + apdu)


def control(card, code, data, rx_len=6):
    rv, resp = scard.SCardControl(card.handle, code, list(data))
    assert rv == scard.SCARD_S_SUCCESS, harness.scard_err(rv)
    assert len(resp) <= rx_len
    return bytes(resp)


def test_pinpad_modify(lab):
    """PIN change on the keypad (PC_to_RDR_Secure bPINOperation 01):
    right and wrong old PIN, confirmation that differs, too short a new
    PIN, timeout, cancel; the changed PIN then works through VERIFY."""
    lb = lab.start(profile=PROFILE, pcscd_env={"OPENCCID_LOG_LEVEL": "0xff"})
    card = lb.connect()
    f = features(card)
    mod, ver = f[FEATURE_MODIFY_PIN_DIRECT], f[FEATURE_VERIFY_PIN_DIRECT]

    lb.sim.control("pinpad-digits 999999 654321")
    sw = control(card, mod, modify_structure())
    assert sw == b"\x63\xc2", sw.hex()  # wrong old PIN: 2 tries left
    lb.sim.control("pinpad-digits %s 654321 654329" % USER_PIN)
    assert control(card, mod, modify_structure()) == b"\x64\x02"
    lb.sim.control("pinpad-digits %s 123" % USER_PIN)
    assert control(card, mod, modify_structure()) == b"\x64\x03"
    lb.sim.control("pinpad-timeout")
    assert control(card, mod, modify_structure()) == b"\x64\x00"
    lb.sim.control("pinpad-cancel")
    assert control(card, mod, modify_structure()) == b"\x64\x01"
    stats = lb.sim.stats()["pinpad"]
    assert stats["modify"] == 5 and stats["pin_wrong"] == 1, stats
    assert stats["pin_ok"] == 0, stats

    # Without confirmation (bConfirmPIN 0x02) the keypad does not ask for
    # the new PIN twice: the differing third entry is never typed.
    lb.sim.control("pinpad-digits %s 654321 000000" % USER_PIN)
    assert control(card, mod, modify_structure(confirm=0x02)) == b"\x90\x00"
    # With confirmation, both entries equal: changed back and forth.
    lb.sim.control("pinpad-digits 654321 24681357")
    assert control(card, mod, modify_structure()) == b"\x90\x00"

    lb.sim.control("pinpad-digits " + USER_PIN)
    sw = verify(card, ver)
    assert sw[0] == 0x63 and sw[1] & 0xF0 == 0xC0, sw.hex()
    lb.sim.control("pinpad-digits 24681357")
    assert verify(card, ver) == b"\x90\x00"
    stats = lb.sim.stats()["pinpad"]
    assert stats["pin_ok"] == 3 and stats["pin_wrong"] == 2, stats
    assert not stats["pin_in_usb_data"], stats
    card.disconnect(scard.SCARD_LEAVE_CARD)
    log = harness.strip_ansi(open(lb.pcscd_log_path, errors="replace").read())
    for pin in ("24681357", "3234363831333537", "32 34 36 38 31 33 35 37"):
        assert pin not in log.upper(), "PIN in the pcscd log"


def test_pinpad_quirks_gemalto(lab):
    """The GemPC Pinpad's firmware (the simulator is as strict) refuses a
    Verify with bNumberMessage 00 or a validation other than the key, and
    reads Modify with bMsgIndex1..3 whatever bNumberMessage says. The
    quirk rows (pinpad_msg_count_verify=1, pinpad_validation_fix=0x02,
    pinpad_modify_msg_index_all, pinpad_validation_mask_from_features)
    make what OpenSC and GnuPG send work."""
    lb = lab.start(profile=PROFILE)
    card = lb.connect()
    f = features(card)
    s = bytearray(verify_structure())
    s[7] = 0x07  # bEntryValidationCondition: every condition
    s[8] = 0x00  # bNumberMessage: none
    escapes = lb.sim.stats()["escape"]
    lb.sim.control("pinpad-digits " + USER_PIN)
    assert control(card, f[FEATURE_VERIFY_PIN_DIRECT], s) == b"\x90\x00"
    st = lb.sim.stats()
    # the Secure as the reader got it: bPINOperation 00, then bTimeOut,
    # format, block, length format, max, min, validation, messages
    last = bytes.fromhex(st["pinpad"]["last_secure"])
    assert last[7] == 0x02 and last[8] == 0x01, last.hex()
    # the firmware features (Escape 6A) were asked for the validation mask
    assert st["escape"] == escapes + 1, st["escape"]

    m = bytearray(modify_structure(nmsg=0x01))
    lb.sim.control("pinpad-digits %s 13572468" % USER_PIN)
    assert control(card, f[FEATURE_MODIFY_PIN_DIRECT], m) == b"\x90\x00"
    last = bytes.fromhex(lb.sim.stats()["pinpad"]["last_secure"])
    # 15 bytes to bMsgIndex1, bMsgIndex2/3 sent, prologue: 20; count 01
    assert len(last) == 20 and last[11] == 0x01, last.hex()
    lb.sim.control("pinpad-digits 13572468")
    assert control(card, f[FEATURE_VERIFY_PIN_DIRECT], s) == b"\x90\x00"
    card.disconnect(scard.SCARD_LEAVE_CARD)


def test_pinpad_quirk_overridden(lab, tmp_path, monkeypatch):
    """The same Verify with the row's bNumberMessage fix overridden (a
    run-time quirk file sets it back to 00): the firmware refuses the
    Secure, so the fix above is what makes it work."""
    d = tmp_path / "quirks.d"
    d.mkdir()
    (d / "local.quirks").write_text("match vid=08e6 pid=3478\nset pinpad_msg_count_verify=0\n")
    monkeypatch.setenv("OPENCCID_QUIRKS_DIR", str(d))
    lb = lab.start(profile=PROFILE)
    card = lb.connect()
    f = features(card)
    s = bytearray(verify_structure())
    s[8] = 0x00
    lb.sim.control("pinpad-digits " + USER_PIN)
    rv, resp = scard.SCardControl(card.handle, f[FEATURE_VERIFY_PIN_DIRECT], list(s))
    assert rv != scard.SCARD_S_SUCCESS, bytes(resp).hex()
    st = lb.sim.stats()["pinpad"]
    assert st["verify"] == 1 and st["pin_ok"] + st["pin_wrong"] == 0, st
    card.disconnect(scard.SCARD_LEAVE_CARD)


def test_pinpad_absent_quirk(lab, tmp_path):
    """An OMNIKEY 3121 advertises a PIN pad it does not have (quirk
    pinpad_absent): no PIN features."""
    src = lab_profile_path(lab)
    text = open(src).read()
    text = re.sub(r"(?m)^idVendor = .*$", "idVendor = 0x076b", text)
    text = re.sub(r"(?m)^idProduct = .*$", "idProduct = 0x3a21", text)
    path = os.path.join(str(tmp_path), "pinpad-absent.txt")
    with open(path, "w") as fh:
        fh.write(text)
    lb = lab.start(profile=path)
    card = lb.connect()
    f = features(card)
    assert FEATURE_VERIFY_PIN_DIRECT not in f, f
    assert FEATURE_MODIFY_PIN_DIRECT not in f, f
    assert FEATURE_IFD_PIN_PROPERTIES not in f, f
    assert FEATURE_GET_TLV_PROPERTIES in f, f
    card.disconnect(scard.SCARD_LEAVE_CARD)


def lab_profile_path(lab):
    cfg = harness.Config()
    return cfg.profile(PROFILE)




def test_pinpad_malformed_structures(lab):
    """PIN_VERIFY/PIN_MODIFY structures of every length 0..64 that do not
    hold together (junk; ulDataLength not the bytes that follow; an APDU
    shorter than CLA INS P1 P2) are refused by SCardControl, no Secure
    reaches the reader, and the pinpad still works afterwards."""
    lb = lab.start(profile=PROFILE)
    card = lb.connect()
    f = features(card)
    good = {f[FEATURE_VERIFY_PIN_DIRECT]: verify_structure(),
            f[FEATURE_MODIFY_PIN_DIRECT]: modify_structure()}
    lb.sim.control("stats-reset")
    tried = 0
    for code, s in good.items():
        # offsetof(abData): PIN_VERIFY_STRUCTURE 19, PIN_MODIFY_STRUCTURE 24
        hdr = 19 if code == f[FEATURE_VERIFY_PIN_DIRECT] else 24
        for n in range(0, 65):
            cases = [bytes([0xA5]) * n]
            if n >= hdr:
                body = (s[hdr:] + b"\x00" * 64)[:n - hdr]
                # ulDataLength one more than what follows
                cases.append(s[:hdr - 4] + struct.pack("<I", n - hdr + 1) + body)
                if n - hdr < 4:
                    # exact length, but no room for CLA INS P1 P2
                    cases.append(s[:hdr - 4] + struct.pack("<I", n - hdr) + body)
            else:
                cases.append(s[:n])  # the real header, cut short
            for c in cases:
                rv, resp = scard.SCardControl(card.handle, code, list(c))
                assert rv != scard.SCARD_S_SUCCESS, (n, c.hex(), bytes(resp).hex())
                tried += 1
    assert tried > 4 * 65
    stats = lb.sim.stats()
    assert stats["pinpad"]["verify"] == 0 and stats["pinpad"]["modify"] == 0, stats
    assert lb.pcscd.alive()
    lb.sim.control("pinpad-digits " + USER_PIN)
    assert verify(card, f[FEATURE_VERIFY_PIN_DIRECT]) == b"\x90\x00"
    card.disconnect(scard.SCARD_LEAVE_CARD)
