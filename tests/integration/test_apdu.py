"""pyscard: connect T=0 and T=1, byte-exact echo of every short length,
and extended lengths up to 65535 with an extended-APDU profile."""

import pytest
from smartcard import scard

import harness


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


@pytest.mark.parametrize("proto,want", [(1, scard.SCARD_PROTOCOL_T1), (0, scard.SCARD_PROTOCOL_T0)])
def test_connect_protocol(lab, proto, want):
    lb = lab.start(profile="default", cards=["builtin:proto=%d" % proto])
    card = lb.connect(protocols=scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
    assert card.protocol == want, "negotiated %d, card offers only T=%d" % (card.protocol, proto)
    name, state, p, atr = card.status()
    assert name == lb.reader and p == want and atr
    # Asking for the protocol the card does not offer must fail cleanly.
    other = scard.SCARD_PROTOCOL_T0 if want == scard.SCARD_PROTOCOL_T1 else scard.SCARD_PROTOCOL_T1
    ctx = lb.context()
    rv, _h, _p = scard.SCardConnect(ctx, lb.reader, scard.SCARD_SHARE_SHARED, other)
    assert rv != scard.SCARD_S_SUCCESS, "connected with T=%d to a T=%d-only card" % (other - 1, proto)
    resp, sw = card.exchange(harness.echo_apdu(b"\x01\x02\x03"))
    assert (resp, sw) == (b"\x01\x02\x03", 0x9000)


@pytest.mark.parametrize("profile", ["default", "short-apdu", "tpdu"])
@pytest.mark.parametrize("proto", [1, 0])
def test_echo_short_lengths(lab, profile, proto):
    lb = lab.start(profile=profile, cards=["builtin:proto=%d" % proto])
    assert lb.reader.startswith(lb.expected_reader_prefix()), lb.reader
    card = lb.connect()
    echo_all(card, range(0, 256))


EXT_LENGTHS = [256, 257, 258, 300, 511, 512, 513, 1000, 1024, 2048, 4096, 4097,
               8192, 10000, 16384, 32767, 32768, 50000, 65534, 65535]
# Profiles with 271-byte CCID messages move each 64 KiB APDU in ~500 bulk
# transfers each way: keep the boundaries and the maximum, not every step.
EXT_LENGTHS_SMALL_MSG = [256, 257, 258, 261, 262, 263, 512, 1000, 4097, 65535]


@pytest.mark.parametrize("profile", ["default", "extended-apdu", "tpdu"])
def test_echo_extended_lengths(lab, profile):
    lb = lab.start(profile=profile, cards=["builtin:proto=1"])
    assert lb.reader.startswith(lb.expected_reader_prefix()), lb.reader
    card = lb.connect(protocols=scard.SCARD_PROTOCOL_T1)
    echo_all(card, [0, 1, 255], extended=True)
    echo_all(card, EXT_LENGTHS if profile == "default" else EXT_LENGTHS_SMALL_MSG, extended=True)
