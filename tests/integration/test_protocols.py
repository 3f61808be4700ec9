"""Exchange levels and card protocols through real pcscd + pyscard (issue 5).

- Character level (Winbond CCID SmartCard Controller, dwFeatures 0x4B2,
  138-byte messages): the driver runs the T=0 procedure bytes and reads
  T=1 blocks by expected length; every short length byte-exact, and for
  T=1 extended lengths too. (TPDU, short and extended APDU levels are
  swept by test_apdu.py with real profiles.)
- T=1 on TPDU readers with 64- and 250-byte messages (Identiv uTrust
  FIDO2, Bit4id miniLector AIR EVO): blocks sized to fit.
- PPS: the simulator records the PPS and SetParameters it received; the
  rate is the fastest the card and the reader both support.
- A reader that sends time extensions forever: an error after the
  configured cap (OPENCCID_TIME_EXT_MAX_MS), and the reader works again.
- A T=1 block the card never received: recovered by an R-block.
"""

import time

import pytest
from smartcard import scard

import harness

T0, T1 = scard.SCARD_PROTOCOL_T0, scard.SCARD_PROTOCOL_T1
# 138-byte messages carry a 65535-byte APDU in ~1600 XfrBlocks each way:
# keep the boundaries, leave the maximum to the TPDU/APDU-level sweeps.
EXT_LENGTHS = [256, 257, 511, 1000, 4097]


def echo_all(card, lengths, extended=False):
    bad = []
    for n in lengths:
        data = bytes((i * 7 + n) & 0xFF for i in range(n))
        resp, sw = card.exchange(harness.echo_apdu(data, extended=extended))
        if sw != 0x9000 or resp != data:
            bad.append((n, hex(sw), len(resp)))
            if len(bad) > 5:
                break
    assert not bad, "echo mismatches (length, SW, response length): %s" % bad


def with_tck(hexatr):
    """ATR bytes with TCK (XOR of T0..the last byte) appended."""
    b = bytes.fromhex(hexatr)
    x = 0
    for c in b[1:]:
        x ^= c
    return (b + bytes([x])).hex().upper()


@pytest.mark.parametrize("proto", [0, 1])
def test_character_level_sweep(lab, tmp_path, proto):
    lb = lab.start(profile=harness.dump_profile(tmp_path, "Winbond.txt"),
                   cards=["builtin:proto=%d" % proto])
    card = lb.connect(protocols=T0 if proto == 0 else T1)
    assert card.protocol == (T0 if proto == 0 else T1)
    echo_all(card, range(0, 256))
    if proto == 1:
        echo_all(card, EXT_LENGTHS, extended=True)
    st = lb.sim.stats()
    assert st["set_parameters"]["count"] >= 1, st
    assert st["set_parameters"]["protocol"] == proto, st


@pytest.mark.parametrize("dump", ["Identiv_uTrust_FIDO2_Security_Key.txt",
                                  "bit4id_minilector-AIR.txt"])
def test_t1_small_messages(lab, tmp_path, dump):
    lb = lab.start(profile=harness.dump_profile(tmp_path, dump), cards=["builtin:proto=1"])
    card = lb.connect(protocols=T1)
    echo_all(card, range(0, 256))
    echo_all(card, [256, 1000, 4097], extended=True)


# GemPC Key: 4 MHz, dwMaxDataRate 344086, GET_DATA_RATES lists 40 rates.
# TA1 0x18 (Fi 372, Di 12): 129032 bps is listed: PPS1 = 18.
# TA1 0x97 (Fi 512, Di 64): 500000 bps is above the reader's maximum;
# Di 32 gives 250000 bps, listed: PPS1 = 96, not the card's 97.
@pytest.mark.parametrize("ta1,pps1", [("18", "18"), ("97", "96")])
def test_pps_fastest_common_rate(lab, ta1, pps1):
    atr = with_tck("3B9A%s8131FE454F50454E434349443031" % ta1)
    lb = lab.start(profile="GemPCKey", cards=["builtin:atr=%s:proto=1" % atr])
    card = lb.connect(protocols=T1)
    echo_all(card, [0, 1, 100, 255])
    st = lb.sim.stats()
    pck = 0xFF ^ 0x11 ^ int(pps1, 16)
    want = "FF11%s%02X" % (pps1, pck)
    assert st["pps"]["last_request"].replace(" ", "").upper() == want, st["pps"]
    assert st["pps"]["accepted"] >= 1, st["pps"]
    assert st["set_parameters"]["data"].replace(" ", "").upper().startswith(pps1), \
        st["set_parameters"]


def test_time_extensions_capped(lab):
    cap_ms = 2000
    lb = lab.start(profile="default", cards=["builtin"],
                   pcscd_env={"OPENCCID_TIME_EXT_MAX_MS": str(cap_ms)})
    card = lb.connect()
    assert card.exchange(harness.echo_apdu(b"before")) == (b"before", 0x9000)
    lb.sim.control("fault wtx-forever 100 cmd=XfrBlock")
    t0 = time.monotonic()
    rv, _resp = scard.SCardTransmit(card.handle, scard.SCARD_PCI_T1 if card.protocol == T1
                                    else scard.SCARD_PCI_T0, list(harness.echo_apdu(b"x")))
    dt = time.monotonic() - t0
    assert rv != scard.SCARD_S_SUCCESS, "endless time extensions reported success"
    # Wall time: the cap, plus a read timeout at most, not 60 s.
    assert cap_ms / 1000.0 - 0.2 <= dt < cap_ms / 1000.0 + 4, dt
    assert lb.sim.stats().get("wtx_sent", 0) >= 10
    # The reader is usable again (the driver aborted the command).
    deadline = time.monotonic() + 10
    while True:
        rv, resp = scard.SCardTransmit(card.handle, scard.SCARD_PCI_T1 if card.protocol == T1
                                       else scard.SCARD_PCI_T0,
                                       list(harness.echo_apdu(b"after")))
        if rv == scard.SCARD_S_SUCCESS:
            assert bytes(resp) == b"after\x90\x00"
            break
        assert time.monotonic() < deadline, "reader not usable after the cap"
        scard.SCardReconnect(card.handle, scard.SCARD_SHARE_SHARED, T0 | T1,
                             scard.SCARD_RESET_CARD)
        time.sleep(0.2)


def test_t1_lost_block_recovered(lab):
    lb = lab.start(profile="GemPCKey", cards=["builtin:proto=1"])
    card = lb.connect(protocols=T1)
    assert card.exchange(harness.echo_apdu(b"before")) == (b"before", 0x9000)
    for _ in range(3):
        lb.sim.control("fault t1-drop-block 1")
        data = bytes(range(40))
        assert card.exchange(harness.echo_apdu(data)) == (data, 0x9000)
    assert lb.sim.stats().get("faults_fired", {}), lb.sim.stats()
