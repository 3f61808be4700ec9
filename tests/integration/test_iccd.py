"""ICCD tokens through real pcscd (issue 19): USB ICCD rev 1.0 tokens
carry their commands on the control pipe, with no bulk endpoint; the
simulator presents each one as its dump describes it (tests/sim/iccd.c,
profiles from tests/sim/mkprofile.py).

- every token opens, powers its card (the ATR), and echoes APDUs of
  every short length and extended lengths up to 4096 bytes byte-exact:
  ICCD-B without any endpoint (Gemalto PDT), ICCD-B with an interrupt-IN
  (G&D StarSign 550: card events through it), ICCD-B at character level
  (KONA), ICCD-A (e-gate: T=0 run by the token);
- every malformed answer of the token (unknown bResponseType, a chain
  piece out of order, more than wLength, a status without an error,
  endless time requests) fails the APDU with a CRITICAL line naming the
  token, never a wrong answer, once and persistently; the token works
  again after the fault is cleared;
- time requests within the grant are waited out (the APDU works).
GnuPG on an ICCD-B token: tests/integration/test_gnupg.py (id iccdb).
"""

import time

import pytest
from smartcard import scard

import harness
from test_events import wait_state

SHORT_SIZES = list(range(256))
EXT_SIZES = list(range(256, 4096, 97)) + [4096]

# (id, dump, T of the card, extended APDUs, name the driver logs)
TOKENS = [
    pytest.param("Gemalto_PDT.txt", 1, True, 'ICCD-B 08e6:1227', id="b-no-endpoint"),
    pytest.param("GnD_StarSignCardToken550.txt", 1, True, 'ICCD-B 1059:000d', id="b-intr"),
    pytest.param("KEBTechnology_KONA_USB_SmartCard.txt", 0, False, 'ICCD-B 04cc:5072',
                 id="b-character"),
    pytest.param("e-gate.txt", 0, False, 'ICCD-A 0973:0003', id="a"),
]

PDT = "Gemalto_PDT.txt"
PDT_NAME = 'ICCD-B 08e6:1227'


def _start(lab, tmp_path, dump, proto, pcscd_env=None):
    prof = harness.dump_profile(tmp_path, dump)
    return lab.start(profile=prof, cards=["builtin:proto=%d" % proto], pcscd_env=pcscd_env)


def _echo(card, n, extended):
    data = bytes((i * 7 + n) & 0xFF for i in range(n))
    resp, sw = card.exchange(harness.echo_apdu(data, extended=extended))
    assert (sw, resp) == (0x9000, data), \
        "echo of %d bytes: SW %04X, %d bytes back" % (n, sw, len(resp))


def _no_bulk(lb):
    st = lb.sim.stats()
    assert st["iccd_requests"] > 0, "no ICCD request reached the token: %s" % st
    assert st["urbs"]["bulk_out"] == 0 and st["urbs"]["bulk_in"] == 0, \
        "bulk transfers on a token without bulk endpoints: %s" % st


@pytest.mark.parametrize("dump,proto,extended,name", TOKENS)
def test_iccd_token_sweep(lab, tmp_path, dump, proto, extended, name):
    lb = _start(lab, tmp_path, dump, proto)
    card = lb.connect()
    _n, _state, _p, atr = card.status()
    assert atr[0] == 0x3B and b"OPENCCID" in atr, "ATR %s" % harness.hexs(atr)
    for n in SHORT_SIZES:
        _echo(card, n, False)
    if extended:
        for n in EXT_SIZES:
            _echo(card, n, True)
    card.disconnect()
    _no_bulk(lb)
    assert name in lb.log.text(), "the driver never named the token %r" % name


def _card_out_and_in(lb):
    """card-remove, card-insert: pcscd sees the card go and come back
    (within test_events' bound), and the card works again."""
    ctx = lb.context()
    reader = lb.readers(ctx)[0]
    _dt, state = wait_state(lb, ctx, reader, scard.SCARD_STATE_UNAWARE,
                            scard.SCARD_STATE_PRESENT)
    state &= ~scard.SCARD_STATE_CHANGED
    lb.sim.control("card-remove")
    _dt, state = wait_state(lb, ctx, reader, state, scard.SCARD_STATE_EMPTY)
    assert state & scard.SCARD_STATE_EMPTY, "card removal not seen: 0x%x" % state
    state &= ~scard.SCARD_STATE_CHANGED
    lb.sim.control("card-insert")
    _dt, state = wait_state(lb, ctx, reader, state, scard.SCARD_STATE_PRESENT)
    assert state & scard.SCARD_STATE_PRESENT, "card insertion not seen: 0x%x" % state
    _echo(lb.connect(), 16, False)


def test_iccd_interrupt_card_events(lab, tmp_path):
    """A token with an interrupt-IN: card events come through it."""
    lb = _start(lab, tmp_path, "GnD_StarSignCardToken550.txt", 1)
    _card_out_and_in(lb)
    st = lb.sim.stats()
    assert st["urbs"]["intr"] > 0, "no interrupt-IN transfer: %s" % st


def test_iccd_presence_by_slot_status(lab, tmp_path):
    """A token without any endpoint: presence by SLOT_STATUS polling."""
    lb = _start(lab, tmp_path, PDT, 1)
    _card_out_and_in(lb)
    assert lb.sim.stats()["urbs"]["intr"] == 0


def _fails(card, n=16):
    data = bytes(range(n))
    try:
        resp, sw = card.exchange(harness.echo_apdu(data))
    except harness.HarnessError:
        return True
    # Never a wrong answer reported as success.
    assert (sw, resp) == (0x9000, data), "wrong answer as success: %04X %s" % (sw, resp)
    return False


def _wait_log(lb, needle, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if needle in lb.log.text():
            return
        time.sleep(0.1)
    raise AssertionError("no log line %r\n%s" % (needle, lb.log_tails(40)))


# (fault, the driver's words)
MALFORMED = [
    pytest.param("iccd-type", "DataBlock with unknown bResponseType 0x22", id="type"),
    pytest.param("iccd-chain", "chain out of order", id="chain"),
    pytest.param("iccd-long", "longer than the 4096 bytes asked for", id="long"),
    pytest.param("iccd-status-ok", "status answer 0x00 without an error", id="status-ok"),
]


@pytest.mark.parametrize("persistent", [False, True], ids=["once", "persistent"])
@pytest.mark.parametrize("fault,words", MALFORMED)
def test_iccd_malformed_answer(lab, tmp_path, fault, words, persistent):
    lb = _start(lab, tmp_path, PDT, 1)
    card = lb.connect()
    _echo(card, 16, False)
    lb.sim.control("fault %s%s" % (fault, " until-clear" if persistent else ""))
    assert _fails(card), "the APDU worked through fault %s" % fault
    _wait_log(lb, words)
    assert PDT_NAME in "\n".join(l for l in lb.log.text().splitlines() if words in l), \
        "the line %r does not name the token" % words
    if persistent:
        assert _fails(card), "a persistent %s let an APDU through" % fault
        lb.sim.control("fault clear")
    # The token is usable afterwards (pcscd may reconnect the card).
    end = time.time() + 10
    while True:
        try:
            card = lb.connect()
            _echo(card, 16, False)
            _echo(card, 300, True)
            break
        except (harness.HarnessError, AssertionError):
            if time.time() > end:
                raise
            time.sleep(0.2)


def test_iccd_time_requests_waited_out(lab, tmp_path):
    lb = _start(lab, tmp_path, PDT, 1)
    card = lb.connect()
    lb.sim.control("fault iccd-poll 2 count=5")
    t0 = time.time()
    _echo(card, 32, False)
    assert time.time() - t0 >= 0.09, "five 20 ms time requests took no time"
    assert lb.sim.stats()["faults_fired"].get("iccd-poll", 0) == 5


def test_iccd_endless_time_requests_bounded(lab, tmp_path):
    lb = _start(lab, tmp_path, PDT, 1, pcscd_env={"OPENCCID_TIME_EXT_MAX_MS": "2000"})
    card = lb.connect()
    lb.sim.control("fault iccd-poll 1 until-clear")
    t0 = time.time()
    assert _fails(card), "an APDU worked through endless time requests"
    took = time.time() - t0
    assert took < 10, "endless time requests held the client %.1f s" % took
    _wait_log(lb, "time requests beyond 2000 ms")
    lb.sim.control("fault clear")
    end = time.time() + 10
    while True:
        try:
            _echo(lb.connect(), 16, False)
            break
        except (harness.HarnessError, AssertionError):
            if time.time() > end:
                raise
            time.sleep(0.2)
