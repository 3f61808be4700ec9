"""Card and device events reach clients within a bound."""

import time

from smartcard import scard

import harness

EVENT_BOUND = 5.0


def wait_state(lb, ctx, reader, current, want_bit, bound=EVENT_BOUND):
    t0 = time.monotonic()
    state = current
    while time.monotonic() - t0 < bound:
        left = max(1, int((bound - (time.monotonic() - t0)) * 1000))
        rv, states = scard.SCardGetStatusChange(ctx, left, [(reader, state)])
        if rv == scard.SCARD_E_TIMEOUT:
            break
        assert rv == scard.SCARD_S_SUCCESS, harness.scard_err(rv)
        _r, event, _atr = states[0]
        if event & want_bit:
            return time.monotonic() - t0, event
        state = event & ~scard.SCARD_STATE_CHANGED
    raise AssertionError("reader state bit 0x%x not reached within %.1f s (last 0x%x)\n%s"
                         % (want_bit, bound, state, lb.log_tails(40)))


def test_card_remove_insert(lab):
    lb = lab.start(profile="default")
    ctx = lb.context()
    rv, states = scard.SCardGetStatusChange(ctx, 0, [(lb.reader, scard.SCARD_STATE_UNAWARE)])
    assert rv == scard.SCARD_S_SUCCESS, harness.scard_err(rv)
    state = states[0][1] & ~scard.SCARD_STATE_CHANGED
    if not state & scard.SCARD_STATE_PRESENT:
        _dt, state = wait_state(lb, ctx, lb.reader, state, scard.SCARD_STATE_PRESENT)
        state &= ~scard.SCARD_STATE_CHANGED
    for _round in range(2):
        lb.sim.control("card-remove")
        dt, state = wait_state(lb, ctx, lb.reader, state, scard.SCARD_STATE_EMPTY)
        assert not state & scard.SCARD_STATE_PRESENT
        state &= ~scard.SCARD_STATE_CHANGED
        rv, _h, _p = scard.SCardConnect(ctx, lb.reader, scard.SCARD_SHARE_SHARED,
                                        scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
        assert rv == scard.SCARD_E_NO_SMARTCARD, harness.scard_err(rv)
        lb.sim.control("card-insert")
        dt, state = wait_state(lb, ctx, lb.reader, state, scard.SCARD_STATE_PRESENT)
        state &= ~scard.SCARD_STATE_CHANGED
        card = lb.connect()
        assert card.exchange(harness.echo_apdu(b"\xAA\x55")) == (b"\xAA\x55", 0x9000)
        card.disconnect(scard.SCARD_RESET_CARD)


def test_card_removed_under_open_handle(lab):
    lb = lab.start(profile="default")
    card = lb.connect()
    lb.sim.control("card-remove")
    ctx = lb.context()
    wait_state(lb, ctx, lb.reader, scard.SCARD_STATE_UNAWARE, scard.SCARD_STATE_EMPTY)
    rv, _resp = scard.SCardTransmit(card.handle, scard.SCARD_PCI_T1
                                    if card.protocol == scard.SCARD_PROTOCOL_T1 else scard.SCARD_PCI_T0,
                                    list(harness.echo_apdu(b"\x01")))
    assert rv in (scard.SCARD_W_REMOVED_CARD, scard.SCARD_E_NO_SMARTCARD), harness.scard_err(rv)


def test_unplug_plug(lab):
    lb = lab.start(profile="default")
    first = lb.reader
    lb.sim.control("unplug")
    t0 = time.monotonic()
    lb.wait_reader(present=False, gone=first, timeout=EVENT_BOUND)
    assert time.monotonic() - t0 < EVENT_BOUND
    assert first not in (lb.readers() or [])
    lb.sim.control("plug")
    again = lb.wait_reader(present=True, timeout=EVENT_BOUND,
                           name_prefix=lb.expected_reader_prefix())
    # Same device again: the same name (pcscd may reuse index 00).
    assert again.rsplit(" ", 2)[0] == first.rsplit(" ", 2)[0], (again, first)
    lb.reader = again
    card = lb.connect()
    assert card.exchange(harness.echo_apdu(b"back")) == (b"back", 0x9000)
    text = lb.log.text()
    assert "Removing USB device" in text and text.count("Adding USB device") >= 2
