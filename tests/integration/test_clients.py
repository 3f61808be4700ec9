"""Real command-line clients see the reader and the card: pcsc_scan,
opensc-tool. Assertions are on what they print, never on exit codes alone
(opensc-tool prints "No smart card readers found." and exits 0 when it
cannot reach pcscd)."""

import re

import harness

# ISO 7816-3 ATR, T=1 only, 10 historical bytes "OPENCCIDIT"; TCK computed.
HIST = b"OPENCCIDIT"
ATR_T1 = bytes([0x3B, 0x80 | len(HIST), 0x80, 0x01]) + HIST


def with_tck(atr):
    x = 0
    for b in atr[1:]:
        x ^= b
    return atr + bytes([x])


ATR = with_tck(ATR_T1)
ATR_HEX = ATR.hex().upper()
ATR_SPACED = harness.hexs(ATR)


def test_pcsc_scan_reader_and_atr(lab):
    lb = lab.start(profile="default", cards=["builtin:atr=%s:proto=1" % ATR_HEX])
    r = lb.run_client(["pcsc_scan", "-n", "-t", "3"], timeout=20)
    out = harness.strip_ansi(r.out)
    # "Reader 0: <name>" then the card state and "ATR: 3B ..." (pcsc-tools 1.6)
    m = re.search(r"Reader 0: (.+)", out)
    assert m, str(r)
    assert m.group(1).strip() == lb.reader, (m.group(1), lb.reader)
    assert "Card inserted" in out, str(r)
    atrs = re.findall(r"ATR: ((?:[0-9A-F]{2} ?)+)", out)
    assert atrs, str(r)
    assert atrs[0].strip() == ATR_SPACED, (atrs, ATR_SPACED)


def test_opensc_tool_list_atr_apdu(lab):
    lb = lab.start(profile="default", cards=["builtin:atr=%s:proto=1" % ATR_HEX])
    r = lb.run_client(["opensc-tool", "-l"], timeout=20)
    assert "No smart card readers found" not in r.out, str(r)
    # "Nr.  Card  Features  Name" table: reader 0 with a card, our name.
    rows = [l for l in r.out.splitlines() if re.match(r"^\d+\s+", l)]
    assert rows, str(r)
    assert rows[0].split()[1] == "Yes", str(r)
    assert rows[0].rstrip().endswith(lb.reader), (rows[0], lb.reader)

    r = lb.run_client(["opensc-tool", "-r", "0", "-a"], timeout=20)
    assert ATR_SPACED.lower() in r.out.lower().replace(":", " "), str(r)

    # SELECT by name and an echo through the generic driver: opensc-tool
    # prints "Received (SW1=0x90, SW2=0x00)" and the response bytes.
    echo_data = bytes(range(1, 17))
    apdu = harness.echo_apdu(echo_data)
    r = lb.run_client(["opensc-tool", "-r", "0", "-c", "default", "-s", apdu.hex(":").upper()],
                      timeout=20)
    m = re.search(r"Received \(SW1=0x([0-9A-Fa-f]{2}), SW2=0x([0-9A-Fa-f]{2})\)", r.out)
    assert m, str(r)
    assert (m.group(1) + m.group(2)).upper() == "9000", str(r)
    got = bytes.fromhex("".join(re.findall(r"^[0-9A-Fa-f]{2}(?: [0-9A-Fa-f]{2})*",
                                           r.out.split("Received", 1)[1].split("\n", 1)[1],
                                           re.M)).replace(" ", ""))
    assert got == echo_data, (got, str(r))
