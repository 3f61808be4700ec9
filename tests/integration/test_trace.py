"""Traces (issue 7): with OPENCCID_TRACE_DIR in pcscd's environment every
opened reader writes a trace of its CCID messages and IFDH calls, PINs
hidden; openccid-replay replays it through the driver and passes.
Without the variable nothing is written."""

import os
import re
import stat
import subprocess
import time

import pytest
from smartcard import scard

import harness

PIN = b"123456"  # the built-in card's PIN: 31 32 33 34 35 36
VERIFY = bytes([0x00, 0x20, 0x00, 0x00, len(PIN)]) + PIN


def replay_tool(cfg):
    # openccid-replay is built next to tests/sim/openccid-sim.
    top = os.path.dirname(os.path.dirname(os.path.dirname(cfg.sim)))
    tool = os.path.join(top, "openccid-replay")
    assert os.access(tool, os.X_OK), "openccid-replay not built: %s" % tool
    return tool


def drive(lb):
    """APDUs including a VERIFY with the known PIN, then a card removal."""
    card = lb.connect(protocols=scard.SCARD_PROTOCOL_T1)
    resp, sw = card.exchange(harness.echo_apdu(b"\x01\x02\x03"))
    assert (resp, sw) == (b"\x01\x02\x03", 0x9000)
    resp, sw = card.exchange(VERIFY)
    assert sw == 0x9000, hex(sw)
    resp, sw = card.exchange(bytes([0x00, 0x84, 0x00, 0x00, 0x08]))
    assert sw == 0x9000 and len(resp) == 8
    rv = scard.SCardDisconnect(card.handle, scard.SCARD_LEAVE_CARD)
    assert rv == scard.SCARD_S_SUCCESS, harness.scard_err(rv)
    lb.sim.control("card-remove")
    ctx = lb.context()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rv, states = scard.SCardGetStatusChange(ctx, 500, [(lb.reader, scard.SCARD_STATE_UNAWARE)])
        if rv == scard.SCARD_S_SUCCESS and states[0][1] & scard.SCARD_STATE_EMPTY:
            break
    else:
        raise AssertionError("pcscd never saw the card go")


def traces_in(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".trace"))


def check_trace_file(path):
    st = os.lstat(path)
    assert stat.S_ISREG(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    with open(path) as f:
        text = f.read()
    assert text.startswith("openccid-trace 1\n"), text[:80]
    return text


# A TPDU-level reader (T=1 blocks on the wire) and an APDU-level one.
@pytest.mark.parametrize("profile,name", [("GemPCKey", "gempc-key-tpdu-t1"),
                                          ("default", "virtual-ext-apdu-t1")])
def test_trace_recorded_redacted_and_replayed(lab, cfg, tmp_path, profile, name):
    tdir = tmp_path / "traces"
    tdir.mkdir(mode=0o700)
    lb = lab.start(profile=profile, cards=["builtin:proto=1"],
                   pcscd_env={"OPENCCID_TRACE_DIR": str(tdir)})
    vid, pid = lb.sim.vid_pid()
    drive(lb)
    # pcscd closes the reader on exit: the trace ends with the close.
    assert lb.pcscd.stop() is None
    files = traces_in(str(tdir))
    assert len(files) == 1, files
    text = check_trace_file(files[0])
    keep = os.environ.get("OPENCCID_TRACE_KEEP")
    if keep:
        # How tests/traces/ is refreshed (tests/traces/README.md).
        with open(os.path.join(keep, name + ".trace"), "w") as f:
            f.write(text)
    assert re.search(r"^device vid=%04x pid=%04x " % (vid, pid), text, re.M), text[:300]
    # CCID messages: a PC_to_RDR_IccPowerOn (62) and XfrBlocks (6f).
    assert re.search(r"^\d+ out data=62", text, re.M)
    assert re.search(r"^\d+ out data=6f", text, re.M)
    assert re.search(r"^\d+ in data=80", text, re.M)
    assert re.search(r"^\d+ call op=transmit slot=0 \S+ \S+ \S+ data=0020000006(\?\?){6}$",
                     text, re.M), "VERIFY call record with hidden data missing"
    assert "recording a trace of interface 0 to %s" % files[0] in lb.log.text()
    assert re.search(r"^\d+ intr data=50", text, re.M), "card removal interrupt missing"
    # The PIN appears nowhere, in any layout (bare, in a T=1 block).
    hexpin = PIN.hex()
    assert hexpin not in text.replace("?", "x"), "PIN bytes in the trace"
    assert "??????" in text
    r = subprocess.run([replay_tool(cfg), files[0]], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=120)
    assert r.returncode == 0 and ": PASS" in r.stdout, r.stdout
    # The same trace with one reply byte changed must fail.
    lines = text.split("\n")
    for i, ln in enumerate(lines):
        m = re.match(r"^(\d+ in data=80\S{18})(\S\S)(.*)$", ln)
        if m:
            flip = "%02x" % (int(m.group(2), 16) ^ 0x01)
            lines[i] = m.group(1) + flip + m.group(3)
            break
    else:
        raise AssertionError("no bulk-IN data block to alter")
    bad = tmp_path / "altered.trace"
    bad.write_text("\n".join(lines))
    r = subprocess.run([replay_tool(cfg), str(bad)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=120)
    assert r.returncode == 1 and ": FAIL: line " in r.stdout, r.stdout


def test_no_trace_without_variable(lab):
    lb = lab.start(profile="GemPCKey", cards=["builtin:proto=1"])
    card = lb.connect(protocols=scard.SCARD_PROTOCOL_T1)
    resp, sw = card.exchange(VERIFY)
    assert sw == 0x9000
    assert lb.pcscd.stop() is None
    # The driver names every trace file it opens (see the test above).
    assert "recording a trace" not in lb.log.text()


def test_trace_dir_unwritable_reader_still_works(lab, tmp_path):
    missing = tmp_path / "does-not-exist"
    lb = lab.start(profile="GemPCKey", cards=["builtin:proto=1"],
                   pcscd_env={"OPENCCID_TRACE_DIR": str(missing)})
    card = lb.connect(protocols=scard.SCARD_PROTOCOL_T1)
    resp, sw = card.exchange(harness.echo_apdu(b"\x05"))
    assert (resp, sw) == (b"\x05", 0x9000)
    assert "cannot create a trace file in %s" % missing in lb.log.text()


def out_payloads(text):
    """Every bulk-OUT payload of the trace joined (PIN pieces split over
    several XfrBlocks would show up here), wildcards as xx."""
    return "".join(m.group(1)[20:] for m in re.finditer(r"^\d+ out data=(\S*)", text, re.M)
                   ).replace("?", "x")


# The levels where PIN bytes travel in pieces: TPDU T=0, character-level
# T=0 (data after the procedure byte, in XfrBlocks of their own) and T=1.
@pytest.mark.parametrize("profile,cardspec,proto", [
    ("tpdu", "builtin:proto=0", scard.SCARD_PROTOCOL_T0),
    ("dump:Winbond.txt", "builtin:proto=0", scard.SCARD_PROTOCOL_T0),
    ("dump:Winbond.txt", "builtin:proto=1", scard.SCARD_PROTOCOL_T1),
], ids=["tpdu-t0", "char-t0", "char-t1"])
def test_trace_hides_pin_at_every_level(lab, cfg, tmp_path, profile, cardspec, proto):
    if profile.startswith("dump:"):
        profile = harness.dump_profile(tmp_path, profile[5:])
    tdir = tmp_path / "traces"
    tdir.mkdir(mode=0o700)
    lb = lab.start(profile=profile, cards=[cardspec],
                   pcscd_env={"OPENCCID_TRACE_DIR": str(tdir)})
    card = lb.connect(protocols=proto)
    assert card.protocol == proto
    _, sw = card.exchange(VERIFY)
    assert sw == 0x9000, hex(sw)
    new = b"654321"
    _, sw = card.exchange(bytes([0x00, 0x24, 0x00, 0x00, 12]) + PIN + new)
    assert sw == 0x9000, hex(sw)
    _, sw = card.exchange(bytes([0x00, 0x24, 0x00, 0x00, 12]) + new + PIN)
    assert sw == 0x9000, hex(sw)
    marker = bytes(range(0xA0, 0xA8))
    resp, sw = card.exchange(harness.echo_apdu(marker))
    assert (resp, sw) == (marker, 0x9000)
    assert lb.pcscd.stop() is None
    files = traces_in(str(tdir))
    assert len(files) == 1, files
    text = check_trace_file(files[0])
    flat = text.replace("?", "x")
    for p in (PIN, new):
        assert p.hex() not in flat, "PIN %s in the trace" % p
        assert p.hex() not in out_payloads(text), "PIN %s across bulk-OUT payloads" % p
    assert marker.hex() in out_payloads(text), "ordinary data hidden too"
    r = subprocess.run([replay_tool(cfg), files[0]], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=120)
    assert r.returncode == 0 and ": PASS" in r.stdout, r.stdout


def test_trace_pinpad_verify_replays(lab, cfg, tmp_path):
    """A PIN pad VERIFY (PC_to_RDR_Secure): the PIN never crosses the
    host, the Secure payload is hidden anyway, the trace replays."""
    import test_pinpad as pp
    tdir = tmp_path / "traces"
    tdir.mkdir(mode=0o700)
    lb = lab.start(profile=pp.PROFILE, pcscd_env={"OPENCCID_TRACE_DIR": str(tdir)})
    card = lb.connect()
    code = pp.features(card)[pp.FEATURE_VERIFY_PIN_DIRECT]
    lb.sim.control("pinpad-digits " + pp.USER_PIN)
    assert pp.verify(card, code) == b"\x90\x00"
    assert lb.pcscd.stop() is None
    files = traces_in(str(tdir))
    assert len(files) == 1, files
    text = check_trace_file(files[0])
    assert pp.USER_PIN.encode().hex() not in text.replace("?", "x")
    assert re.search(r"^\d+ out data=69\S{18}\?\?", text, re.M), "no hidden Secure message"
    assert re.search(r"^\d+ call op=control slot=0 a=%x " % code, text, re.M)
    r = subprocess.run([replay_tool(cfg), files[0]], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=120)
    assert r.returncode == 0 and ": PASS" in r.stdout, r.stdout
