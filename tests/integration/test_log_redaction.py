"""No PIN in pcscd's log at the most verbose level (issue 8).

Plain VERIFY, CHANGE REFERENCE DATA and RESET RETRY COUNTER APDUs with
known PINs go through real pcscd on a reader of every exchange level
(extended APDU, TPDU with T=0 and T=1, character level with T=0 and T=1)
with OPENCCID_LOG_LEVEL=0xff, so that the driver dumps every CCID message.
pcscd itself runs without --apdu here: that option makes pcscd log the
APDUs it forwards (its own log lines, not the driver's). The captured log
must show the driver's COMM dumps with the redaction marker and never the
PIN bytes in any spelling; the card must still have checked the PINs.
(The PIN pad path is checked by test_pinpad.py.)
"""


import pytest
from smartcard import scard

import harness

T0, T1 = scard.SCARD_PROTOCOL_T0, scard.SCARD_PROTOCOL_T1
CARD_PIN = b"123456"          # the built-in card's default PIN
NEW_PIN = b"97531864"
WRONG_PIN = b"24680135"


def spellings(secret):
    """Every way a dump could show the secret: hex with and without
    separators, either case, and the ASCII digits themselves."""
    h = secret.hex()
    out = {h, h.upper(), secret.decode()}
    for sep in (" ", ":", "-"):
        out.add(sep.join(h[i:i + 2] for i in range(0, len(h), 2)))
        out.add(sep.join(h[i:i + 2] for i in range(0, len(h), 2)).upper())
    return out


def out_stream(log):
    """The payloads (after the 10-byte header) of every bulk-OUT message
    the driver dumped, joined in order: at character level a PIN leaves
    in pieces (one byte per INS^FF procedure byte), which no single log
    line shows whole. A redaction marker breaks the stream."""
    out = []
    for line in log.splitlines():
        if "ccid() ->:" not in line:
            continue
        words = line.split("ccid() ->:", 1)[1].replace("<", " < ").split()
        hexes, i = [], 0
        while i < len(words):
            w = words[i]
            if w == "<":
                hexes.append("|")
                while i < len(words) and not words[i].endswith(">"):
                    i += 1
            elif len(w) == 2:
                hexes.append(w.upper())
            i += 1
        out.append("".join(hexes[10:]))
    return "".join(out)


def apdu(ins, p2, data):
    return [0x00, ins, 0x00, p2, len(data)] + list(data)


READERS = [
    # (profile or dump, card, protocol)
    ("default", "builtin:proto=1", T1),                  # extended APDU
    ("GemPCKey", "builtin:proto=1", T1),                 # TPDU, driver's T=1
    ("tpdu", "builtin:proto=0", T0),                     # TPDU, T=0
    ("dump:Winbond.txt", "builtin:proto=0", T0),         # character, T=0
    ("dump:Winbond.txt", "builtin:proto=1", T1),         # character, T=1
]


@pytest.mark.parametrize("profile,cardspec,proto", READERS,
                         ids=["ext-apdu", "tpdu-t1", "tpdu-t0", "char-t0", "char-t1"])
def test_no_pin_in_log(lab, tmp_path, profile, cardspec, proto):
    if profile.startswith("dump:"):
        profile = harness.dump_profile(tmp_path, profile[5:])
    lb = lab.start(profile=profile, cards=[cardspec],
                   pcscd_env={"OPENCCID_LOG_LEVEL": "0xff"}, pcscd_apdu_log=False)
    card = lb.connect(protocols=proto)
    assert card.protocol == proto

    _, sw = card.exchange(apdu(0x20, 0x81, WRONG_PIN))
    assert sw & 0xFFF0 == 0x63C0, hex(sw)
    _, sw = card.exchange(apdu(0x20, 0x81, CARD_PIN))
    assert sw == 0x9000, hex(sw)
    # CHANGE REFERENCE DATA, old and new PIN in blocks of equal size
    # (0xFF padding), then back.
    padded = CARD_PIN + b"\xff" * (len(NEW_PIN) - len(CARD_PIN))
    _, sw = card.exchange(apdu(0x24, 0x81, padded + NEW_PIN))
    assert sw == 0x9000, hex(sw)
    _, sw = card.exchange(apdu(0x20, 0x81, NEW_PIN))
    assert sw == 0x9000, hex(sw)
    _, sw = card.exchange(apdu(0x24, 0x81, NEW_PIN + padded))
    assert sw == 0x9000, hex(sw)
    # RESET RETRY COUNTER: whatever the card answers, its data is a secret.
    card.exchange(apdu(0x2C, 0x81, padded + NEW_PIN))
    # An ordinary APDU is still dumped in clear (the log is useful).
    marker = bytes(range(0xA0, 0xA8))
    resp, sw = card.exchange(harness.echo_apdu(marker))
    assert sw == 0x9000 and resp == marker
    card.disconnect(scard.SCARD_LEAVE_CARD)

    log = harness.strip_ansi(open(lb.pcscd_log_path, errors="replace").read())
    leaks = [s for p in (CARD_PIN, NEW_PIN, WRONG_PIN) for s in spellings(p)
             if s in log]
    assert not leaks, "PIN in the pcscd log: %s" % leaks
    assert "redacted" in log, "no redacted COMM dump: level 0xff not in force?"
    stream = out_stream(log)
    assert "A0A1A2A3A4A5A6A7" in stream, "echo data not in the OUT stream"
    pieces = [p for p in (CARD_PIN, NEW_PIN, WRONG_PIN) if p.hex().upper() in stream]
    assert not pieces, "PIN bytes across the driver's OUT dumps: %s" % pieces
