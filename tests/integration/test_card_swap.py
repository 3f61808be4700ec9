"""A card swapped between two presence polls, on a reader without interrupt-IN.

Without an interrupt endpoint the driver learns of card changes only from
pcscd's presence polls (GetSlotStatus). A card taken out and another put in
between two polls is never seen absent: the slot reads "present, inactive"
(the new card is unpowered). The reference driver reports the slot absent
once in that case, so pcscd sees a removal and an insertion and a client's
handle to the old card is told so, instead of its next command going to a
card nobody powered up (issue 25).

Profile: ACS ACR1552U 072F:2303 from the reader facts (tests/sim/mkprofile.py):
interface 0 with an interrupt endpoint, interface 1 (simulator slot 1)
without. The simulator's card-swap does the removal and the insertion under
one lock, so no poll can fall between them.
"""

import os
import subprocess
import sys
import time

from smartcard import scard

import harness

NO_INTR_SLOT = "1"  # the simulator's slot of interface 1 (no interrupt-IN)
EVENT_BOUND = 5.0   # seconds; pcscd polls presence every 0.4 s


def _profile(tmp_path):
    p = tmp_path / "acr1552u.profile"
    mk = os.path.join(os.path.dirname(harness.__file__), "..", "sim", "mkprofile.py")
    subprocess.run([sys.executable, mk, "--vidpid", "072f:2303", "-o", str(p)], check=True)
    text = p.read_text()
    # the premise: interface 1 has no interrupt endpoint, interface 0 has one
    assert "if0.bNumEndpoints = 3" in text and "if1.bNumEndpoints = 2" in text, text
    return str(p)


def _state(ctx, reader):
    rv, states = scard.SCardGetStatusChange(ctx, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
    assert rv == scard.SCARD_S_SUCCESS, harness.scard_err(rv)
    return states[0][1] & ~scard.SCARD_STATE_CHANGED


def _wait(lb, ctx, readers, states, done, what):
    """SCardGetStatusChange on every reader until done(reader, state) holds
    for one; returns (reader, state) or fails after EVENT_BOUND."""
    deadline = time.monotonic() + EVENT_BOUND
    states = dict(states)
    while True:
        left = int((deadline - time.monotonic()) * 1000)
        assert left > 0, "%s: not within %.0f s (states %s)\n%s" % (
            what, EVENT_BOUND, {r: hex(s) for r, s in states.items()}, lb.log_tails(40))
        rv, got = scard.SCardGetStatusChange(ctx, left, [(r, states[r]) for r in readers])
        if rv == scard.SCARD_E_TIMEOUT:
            continue
        assert rv == scard.SCARD_S_SUCCESS, harness.scard_err(rv)
        for r, ev, _atr in got:
            states[r] = ev & ~scard.SCARD_STATE_CHANGED
            if done(r, states[r]):
                return r, states[r]


def test_card_swap_between_polls_is_reported(lab, tmp_path):
    lb = lab.start(profile=_profile(tmp_path), cards=["builtin:proto=1"] * 2)
    ctx = lb.context()
    deadline = time.monotonic() + harness.READER_TIMEOUT
    while len(lb.readers(ctx) or []) < 2:
        assert time.monotonic() < deadline, lb.readers(ctx)
        time.sleep(0.05)
    readers = lb.readers(ctx)
    states = {r: _state(ctx, r) for r in readers}
    present = lambda _r, s: s & scard.SCARD_STATE_PRESENT
    for r in readers:
        if not present(r, states[r]):
            _r, states[r] = _wait(lb, ctx, [r], states, present, "card in " + r)

    # Which reader is interface 1: the one whose card a plain removal takes
    # (polling sees that: the slot reads absent).
    lb.sim.control("card-remove " + NO_INTR_SLOT)
    reader, st = _wait(lb, ctx, readers, states,
                       lambda _r, s: s & scard.SCARD_STATE_EMPTY, "plain removal")
    states[reader] = st
    lb.sim.control("card-insert " + NO_INTR_SLOT)
    _r, states[reader] = _wait(lb, ctx, [reader], states, present, "plain insertion")

    card = lb.connect(reader)
    assert card.exchange(harness.echo_apdu(b"\x01\x02")) == (b"\x01\x02", 0x9000)
    before = _state(ctx, reader)
    events = before >> 16  # pcscd's event counter of the reader

    lb.sim.control("card-swap " + NO_INTR_SLOT)
    # pcscd must count the change: the counter moves (removal + insertion)
    # and the reader ends up with a card again.
    _r, after = _wait(lb, ctx, [reader], {reader: before},
                      lambda _r, s: (s >> 16) != events and s & scard.SCARD_STATE_PRESENT,
                      "event counter change after the swap")
    # The old handle is told its card went away; it never reaches the new,
    # unpowered card as if nothing happened.
    rv, _resp = scard.SCardTransmit(card.handle, scard.SCARD_PCI_T1
                                    if card.protocol == scard.SCARD_PROTOCOL_T1
                                    else scard.SCARD_PCI_T0,
                                    list(harness.echo_apdu(b"\x03")))
    assert rv in (scard.SCARD_W_REMOVED_CARD, scard.SCARD_W_RESET_CARD), harness.scard_err(rv)
    # The new card works through a new connection.
    card2 = lb.connect(reader)
    assert card2.exchange(harness.echo_apdu(b"\x04")) == (b"\x04", 0x9000)
    card2.disconnect()
