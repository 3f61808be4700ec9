"""Quirk files in a run-time directory change the driver without a rebuild.

pcscd gets OPENCCID_QUIRKS_DIR (a private directory) in its environment;
the driver builds its quirk table at the first open from the built-in
files and that directory (quirks/README.md).
"""

import os
import subprocess
import time

import harness

# The default profile: KOBIL KAAN Base IDs, bcdDevice 0x0100.
MATCH = "match vid=0d46 pid=3001\n"


def _quirks_dir(tmp_path, monkeypatch, files):
    d = tmp_path / "quirks.d"
    d.mkdir()
    for name, text in files.items():
        (d / name).write_text(text)
    # Lab.start() hands os.environ to pcscd.
    monkeypatch.setenv("OPENCCID_QUIRKS_DIR", str(d))
    return d


def _wait_log(lb, needle, timeout=harness.READER_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in lb.log.text():
            return
        time.sleep(0.1)
    raise harness.HarnessError("no %r in the pcscd log\n%s" % (needle, lb.log_tails()))


def test_quirks_firmware_min_refuses_reader(lab, tmp_path, monkeypatch):
    _quirks_dir(tmp_path, monkeypatch,
                {"local.quirks": MATCH + "set firmware_min_bcd=0x0200\n"})
    lb = lab.start(profile="default", wait_reader=False)
    _wait_log(lb, "minimum 0x0200")
    text = lb.log.text()
    assert "bcdDevice 0x0100" in text
    assert "local.quirks:2: firmware_min_bcd=0x0200" in text
    assert lb.pcscd.alive()
    assert lb.readers() == []


def test_quirks_without_file_reader_works(lab, tmp_path, monkeypatch):
    _quirks_dir(tmp_path, monkeypatch, {})
    lb = lab.start(profile="default")
    assert lb.readers() == [lb.reader]
    assert "minimum 0x0200" not in lb.log.text()
    card = lb.connect()
    assert card.transmit(bytes.fromhex("00A4000C023F00"))[-2:] == b"\x90\x00"
    card.disconnect()


def test_quirks_malformed_file_ignored(lab, tmp_path, monkeypatch):
    _quirks_dir(tmp_path, monkeypatch,
                {"bad.quirks": MATCH + "set no_such_key\n",
                 "good.quirks": MATCH + "set pinpad_absent\n"})
    lb = lab.start(profile="default")
    text = lb.log.text()
    assert "bad.quirks:2:" in text and "file ignored" in text
    assert "good.quirks:2: pinpad_absent" in text
    assert lb.pcscd.alive()
    assert lb.readers() == [lb.reader]
    card = lb.connect()
    assert card.transmit(bytes.fromhex("00A4000C023F00"))[-2:] == b"\x90\x00"
    card.disconnect()


def test_quirks_class_desc_after_endpoints(lab, tmp_path, monkeypatch):
    """BludriveII: the class descriptor follows the endpoints."""
    _quirks_dir(tmp_path, monkeypatch, {})
    lb = lab.start(profile="BludriveII")
    assert lb.readers() == [lb.reader]
    card = lb.connect()
    assert card.transmit(bytes.fromhex("00A4000C023F00"))[-2:] == b"\x90\x00"
    card.disconnect()


def test_quirks_class_desc_after_endpoints_removed(lab, tmp_path, monkeypatch):
    """Without class_desc_after_endpoints the BludriveII is not a reader,
    and the log says which quirk it lacks (libccid fact D2)."""
    _quirks_dir(tmp_path, monkeypatch,
                {"local.quirks": "match vid=1b0e pid=1078\n"
                                 "set class_desc_after_endpoints=false\n"})
    lb = lab.start(profile="BludriveII", wait_reader=False)
    _wait_log(lb, "interface 0 not used")
    text = lb.log.text()
    assert "usb:1b0e/1078 interface 0 not used: the CCID class descriptor " \
        "follows the endpoints (needs the quirk class_desc_after_endpoints)" in text
    assert lb.pcscd.alive()
    assert lb.readers() == []


# A pre-standard reader: interface class 0xFF, class descriptor of type
# 0xFF (Verisign Secure Token 08E6:ACE0, descriptor.quirks D1).
def test_quirks_vendor_class_reader_works(lab, tmp_path, monkeypatch):
    _quirks_dir(tmp_path, monkeypatch, {})
    lb = lab.start(profile="Verisign_secure_token")
    assert lb.readers() == [lb.reader]
    text = lb.log.text()
    assert "descriptor.quirks:" in text and ": vendor_class_ccid" in text
    card = lb.connect()
    assert card.transmit(bytes.fromhex("00A4000C023F00"))[-2:] == b"\x90\x00"
    card.disconnect()


def test_quirks_vendor_class_removed(lab, tmp_path, monkeypatch):
    """With both class-0xFF keys switched off the token is not a reader."""
    _quirks_dir(tmp_path, monkeypatch,
                {"local.quirks": "match vid=08e6 pid=ace0\n"
                                 "set vendor_class_ccid=false "
                                 "vendor_class_any_len54=false\n"})
    lb = lab.start(profile="Verisign_secure_token", wait_reader=False)
    _wait_log(lb, "interface 0 not used")
    text = lb.log.text()
    assert "usb:08e6/ace0 interface 0 not used: class 0xFF (vendor) is not " \
        "CCID without the quirk vendor_class_ccid" in text
    assert lb.pcscd.alive()
    assert lb.readers() == []


def test_quirks_probe_entry_makes_reader_work(lab, cfg, tmp_path, monkeypatch):
    """openccid-probe's printed quirks entry, dropped into the run-time
    directory, makes a reader work through pcscd that the quirks (here: a
    file switching the built-in class-0xFF keys off) refused."""
    d = _quirks_dir(tmp_path, monkeypatch,
                    {"00-off.quirks": "match vid=08e6 pid=ace0\n"
                                      "set vendor_class_ccid=false "
                                      "vendor_class_any_len54=false\n"})
    # openccid-probe is built next to tests/sim/openccid-sim.
    probe = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        cfg.sim))), "openccid-probe")
    assert os.access(probe, os.X_OK), probe
    simdir = tmp_path / "probe-sim"
    simdir.mkdir()
    sim = harness.Sim(cfg, str(simdir), "Verisign_secure_token", None)
    try:
        env = dict(os.environ, LD_PRELOAD=harness.PRELOAD,
                   UMOCKDEV_DIR=sim.umockdev_dir)
        out = subprocess.run([probe, "show", "-q", str(d)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, timeout=30).stdout
    finally:
        sim.process.stop()
    assert "not CCID without the quirk vendor_class_ccid" in out, out
    entry = out.split("quirks entry:\n", 1)[1].split("reader list line", 1)[0]
    assert "match vid=08e6 pid=ace0\nset vendor_class_ccid\n" in entry, out
    (d / "50-probe.quirks").write_text(entry)
    lb = lab.start(profile="Verisign_secure_token")
    assert lb.readers() == [lb.reader]
    assert "50-probe.quirks:3: vendor_class_ccid" in lb.log.text()
    card = lb.connect()
    assert card.transmit(bytes.fromhex("00A4000C023F00"))[-2:] == b"\x90\x00"
    card.disconnect()
