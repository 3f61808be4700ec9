"""openccid next to Debian's libccid: which bundle pcscd 1.9.9 gives a reader.

Both bundles go into the private drop dir (issue 25): openccid's staged one
and a copy of the installed libccid bundle, whose Info.plist names itself
CFBundleName CCIDCLASSDRIVER. pcscd's libudev hot-plug looks a device's
VID:PID up in every bundle's lists and takes a bundle that is not the class
driver when there is one, the class driver otherwise; when the chosen
driver fails to create the reader, it tries the class driver once more.
No bundle is chosen by interface class: a CCID reader neither list names
gets no driver. Each case is checked here through the real pcscd, with the
bundles created in both orders (pcscd reads the drop dir in directory
order).
"""

import os
import plistlib
import re
import shutil
import time

import pytest

import harness

LIBCCID_BUNDLE = "/usr/lib/pcsc/drivers/ifd-ccid.bundle"
# The default profile's VID:PID (KOBIL KAAN Base): listed by both.
BOTH = ("0d46", "3001")
SELECT_MF = bytes.fromhex("00A4000C023F00")


def _startups(lb):
    """Libraries pcscd attempted to start a reader with, in order."""
    return [m.group(1) for _l, t in lb.log.lines()
            for m in [re.search(r"Attempting startup of .* using (\S+)", t)] if m]


def _dropdir(cfg, tmp_path, libccid_first):
    """A drop dir with both bundles, the one named first created first."""
    assert os.path.isfile(os.path.join(LIBCCID_BUNDLE, "Contents", "Info.plist")), \
        "%s missing: Debian's libccid is needed (scripts/install-deps)" % LIBCCID_BUNDLE
    with open(os.path.join(LIBCCID_BUNDLE, "Contents", "Info.plist"), "rb") as f:
        pl = plistlib.load(f)
    assert pl["CFBundleName"] == "CCIDCLASSDRIVER", pl["CFBundleName"]
    drop = tmp_path / "drop"
    drop.mkdir()
    ours = [(os.path.join(cfg.dropdir, b), b) for b in sorted(os.listdir(cfg.dropdir))
            if b.endswith(".bundle")]
    assert [b for _p, b in ours] == ["ifd-openccid.bundle"], ours
    theirs = [(LIBCCID_BUNDLE, "ifd-ccid.bundle")]
    for src, name in (theirs + ours if libccid_first else ours + theirs):
        shutil.copytree(src, str(drop / name), symlinks=True)
    libs = {os.path.basename(lib): lib for _b, lib, _pl in harness.bundle_plists(str(drop))}
    assert set(libs) == {"libopenccid.so", "libccid.so"}, libs
    return str(drop), libs


def _profile(tmp_path, vid, pid):
    """The default profile with other USB ids."""
    text = open(os.path.join(os.path.dirname(harness.__file__), "..", "sim", "profiles",
                             "default.profile")).read()
    text = re.sub(r"(?m)^idVendor = .*$", "idVendor = 0x%s" % vid, text)
    text = re.sub(r"(?m)^idProduct = .*$", "idProduct = 0x%s" % pid, text)
    p = tmp_path / "reader.profile"
    p.write_text(text)
    return str(p)


def _works(lb):
    card = lb.connect()
    assert card.transmit(SELECT_MF)[-2:] == b"\x90\x00"
    card.disconnect()


@pytest.mark.parametrize("libccid_first", [True, False], ids=["libccid-first", "openccid-first"])
def test_both_list_the_reader_openccid_serves_it(lab, cfg, tmp_path, monkeypatch, libccid_first):
    drop, libs = _dropdir(cfg, tmp_path, libccid_first)
    monkeypatch.setattr(cfg, "dropdir", drop)
    lb = lab.start(profile="default")
    _works(lb)
    assert _startups(lb) == [libs["libopenccid.so"]], _startups(lb)
    # openccid's own log lines, not libccid's, served the reader
    assert "openccid" in lb.log.text()
    assert "libccid.so" not in " ".join(_startups(lb))


@pytest.mark.parametrize("libccid_first", [True, False], ids=["libccid-first", "openccid-first"])
def test_openccid_refuses_class_driver_takes_over(lab, cfg, tmp_path, monkeypatch,
                                                 libccid_first):
    """openccid refuses the reader at open (a run-time quirk raises the
    firmware minimum): pcscd then starts the class driver on it."""
    drop, libs = _dropdir(cfg, tmp_path, libccid_first)
    monkeypatch.setattr(cfg, "dropdir", drop)
    q = tmp_path / "quirks.d"
    q.mkdir()
    (q / "refuse.quirks").write_text("match vid=%s pid=%s\nset firmware_min_bcd=0xffff\n"
                                     % BOTH)
    monkeypatch.setenv("OPENCCID_QUIRKS_DIR", str(q))
    lb = lab.start(profile="default")
    _works(lb)
    assert _startups(lb) == [libs["libopenccid.so"], libs["libccid.so"]], _startups(lb)
    assert "below the minimum 0xFFFF" in lb.log.text()


@pytest.mark.parametrize("libccid_first", [True, False], ids=["libccid-first", "openccid-first"])
def test_ccid_reader_neither_lists_gets_no_driver(lab, cfg, tmp_path, monkeypatch,
                                                 libccid_first):
    """Interface class 0x0B alone chooses no bundle, the class driver
    included."""
    drop, _libs = _dropdir(cfg, tmp_path, libccid_first)
    monkeypatch.setattr(cfg, "dropdir", drop)
    lb = lab.start(profile=_profile(tmp_path, "1d6b", "0c1d"), wait_reader=False)
    # pcscd 1.9.9 scans the bus in its main thread before that thread
    # serves clients (ProcessEventsServer): once a client has been served
    # after the lookup, the scan is over, and a driver found would have
    # been started in between.
    deadline = time.monotonic() + harness.READER_TIMEOUT
    done = r"(?s)Looking for a driver for VID: 0x1D6B, PID: 0x0C1D.*ProcessEventsServer"
    while not re.search(done, lb.log.text()):
        assert time.monotonic() < deadline, lb.log_tails()
        lb.readers()
        time.sleep(0.1)
    assert _startups(lb) == []
    assert lb.readers() == []


def test_openccid_claims_every_reader_libccid_lists(cfg):
    """So with both installed, pcscd starts libccid only for a reader
    openccid refused at open (the case above)."""
    def claims(plist):
        return set(zip((v.lower() for v in plist["ifdVendorID"]),
                       (p.lower() for p in plist["ifdProductID"])))
    with open(os.path.join(LIBCCID_BUNDLE, "Contents", "Info.plist"), "rb") as f:
        theirs = claims(plistlib.load(f))
    ((_b, _lib, ours),) = harness.bundle_plists(cfg.dropdir)
    assert len(theirs) > 500
    assert sorted(theirs - claims(ours)) == []
